"""SLA query benchmark: the live dashboard and the OPD leaderboard on a loaded database, each next
to a baseline in the same run (median and p95 of each, after a warm-up).

    python bench/bulk_load.py --complaints 1000000 --database-url postgresql://…/kilas_bench_1m
    python bench/sla_queries.py --database-url postgresql://…/kilas_bench_1m --runs 20

Dashboard (what `live.dashboard.compute_dashboard` runs once a second, via `db.dashboard`):
counts by status, region and channel from the trigger-kept `complaint_counts`, breaches open now
from the partial indexes of migration 0005, today's intake (WIB) from `complaints_created`.
Baselines: one GROUP BY over `complaints` for the counts; the same breach and intake queries
with the planner kept off indexes, as if 0005 (and `complaints_created`) did not exist.

Leaderboard: `db.performance.leaderboard` over the last 7, 30, 90 and 365 days (min sample 10).
Baseline: the same figures in one grouped pass over the period (`_grouped_leaderboard.py`), with
the planner kept off indexes and the server's own settings.

Kilas's side runs on a connection with the settings of Kilas's pool (`db.pool.SERVER_SETTINGS`).
--explain prints the plans. Without --database-url it uses the embedded server in --data-dir,
database --database (the loader's defaults).
"""

import argparse
import asyncio
import math
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from _grouped_leaderboard import grouped_leaderboard
from bulk_load import database, database_arguments

from kilas.db import dashboard as dashboard_db
from kilas.db import dashboard_scoped as dashboard_scoped_db
from kilas.db import performance as performance_db
from kilas.db.pool import SERVER_SETTINGS, create_pool
from kilas.domain.clock import ManualClock
from kilas.live.dashboard import DashboardScope, compute_dashboard, start_of_day_wib

Query = Callable[[asyncpg.Connection], Awaitable[Any]]
TARGET_MS = 200.0
# The baseline's own connection: a prepared statement keeps the plan it was made with, so the
# planner settings must be in place before its first query, not switched around runs.
NO_INDEXES = {"enable_indexscan": "off", "enable_indexonlyscan": "off", "enable_bitmapscan": "off"}


@dataclass(frozen=True)
class Case:
    name: str
    baseline_name: str
    baseline: Query
    kilas: Query
    baseline_uses_indexes: bool = False


def cases(now: datetime, opd_id: int) -> list[Case]:
    today = start_of_day_wib(now)

    async def opd_counts_baseline(conn: asyncpg.Connection) -> Any:
        return await conn.fetch(
            "SELECT status, region_code, channel, count(*) AS n FROM complaints "
            "WHERE opd_id = $1 GROUP BY 1, 2, 3",
            opd_id,
        )

    async def opd_counts(conn: asyncpg.Connection) -> Any:
        return await dashboard_scoped_db.counts(conn, opd_id, None)

    async def counts_baseline(conn: asyncpg.Connection) -> Any:
        return await conn.fetch(
            "SELECT status, region_code, channel, count(*) AS n FROM complaints GROUP BY 1, 2, 3"
        )

    async def breaches(conn: asyncpg.Connection) -> Any:
        return await dashboard_db.breaches_open_now(conn, now)

    async def intake(conn: asyncpg.Connection) -> Any:
        return await dashboard_db.intake_since(conn, today)

    def dashboard(counts: Query, breaches: Query) -> Query:
        async def query(conn: asyncpg.Connection) -> Any:
            return await counts(conn), await breaches(conn), await intake(conn)

        return query

    def leaderboard(days: int) -> Query:
        start = now - timedelta(days=days)
        return lambda conn: performance_db.leaderboard(conn, start, now, now, 10)

    def grouped(days: int) -> Query:
        start = now - timedelta(days=days)
        return lambda conn: grouped_leaderboard(conn, start, now, now, 10)

    counts = dashboard_db.counts
    return [
        Case("dashboard: counts by status, region, channel", "GROUP BY over complaints",
             counts_baseline, counts, baseline_uses_indexes=True),
        Case("dashboard: breaches open now", "same SQL, no index", breaches, breaches),
        Case("dashboard: today's intake (WIB)", "same SQL, no index", intake, intake),
        Case("dashboard of one OPD: counts", "GROUP BY over its complaints (indexed)",
             opd_counts_baseline, opd_counts, baseline_uses_indexes=True),
        Case("dashboard: all of it, one connection", "GROUP BY, no index",
             dashboard(counts_baseline, breaches), dashboard(counts, breaches)),
        *(Case(f"leaderboard, {days} days", "one grouped pass, no index", grouped(days),
               leaderboard(days)) for days in (7, 30, 90, 365)),
    ]  # fmt: skip


def load_average() -> str:
    # Benchmarks on a shared machine: say how busy it was.
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


async def timed(conn: asyncpg.Connection, query: Query) -> float:
    started = time.perf_counter()
    await query(conn)
    return (time.perf_counter() - started) * 1000


async def compare(
    left: tuple[asyncpg.Connection, Query],
    right: tuple[asyncpg.Connection, Query],
    runs: int,
    warmup: int,
) -> str:
    """Median and p95 of each, one after the other, each after its own warm-up: interleaving
    would let the heavier one evict the lighter one's pages from shared buffers before each run,
    which is not how a query the dashboard repeats every second meets the cache."""
    results = []
    for conn, query in (left, right):
        times = [await timed(conn, query) for _ in range(warmup + runs)][warmup:]
        results.append(f"{statistics.median(times):.1f} ms | {percentile(times, 0.95):.1f} ms")
        median = statistics.median(times)
    return " | ".join([*results, "yes" if median < TARGET_MS else "**no**"])


async def explain(conn: asyncpg.Connection, name: str, query: Query) -> None:
    statements: list[Any] = []
    conn.add_query_logger(statements.append)
    try:
        await query(conn)
        await asyncio.sleep(0)  # the logger is called soon after each query, not during it
    finally:
        conn.remove_query_logger(statements.append)
    for statement in statements:
        plan = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {statement.query}", *statement.args)
        print(f"\n-- {name}\n" + "\n".join(row[0] for row in plan))


async def profile(conn: asyncpg.Connection, runs: int, warmup: int) -> None:
    row = await conn.fetchrow(
        """
        SELECT (SELECT coalesce(sum(n), 0)::bigint FROM complaint_counts) AS complaints,
               (SELECT reltuples::bigint FROM pg_class
                WHERE oid = 'complaint_events'::regclass) AS events,
               (SELECT coalesce(sum(n), 0)::bigint FROM complaint_counts
                WHERE status IN ('ASSIGNED', 'IN_PROGRESS')) AS held,
               current_setting('server_version') AS version, current_setting('jit') AS jit,
               current_setting('shared_buffers') AS shared_buffers,
               current_setting('work_mem') AS work_mem
        """
    )
    assert row is not None
    if row["complaints"] == 0:
        raise SystemExit("no complaints: load some first with bench/bulk_load.py")
    print(
        f"PostgreSQL {row['version']} (jit {row['jit']}, shared_buffers {row['shared_buffers']}, "
        f"work_mem {row['work_mem']}); {row['complaints']:,} complaints, ~{row['events']:,} "
        f"events, {row['held']:,} held by OPDs; {runs} runs after {warmup} warm-up; "
        f"{load_average()}\n"
    )


async def dashboard_end_to_end(
    url: str, now: datetime, opd_id: int, runs: int, warmup: int
) -> None:
    """As the app runs it: a pool connection, the three queries and the folding in Python, for
    the province, one OPD's office (the biggest OPD) and one region (Kota Semarang)."""
    pool = await create_pool(url, min_size=1, max_size=1)
    clock = ManualClock(now)
    print()
    try:
        for name, scope in (
            ("the province", DashboardScope()),
            ("one OPD", DashboardScope(opd_id=opd_id)),
            ("one region", DashboardScope(region_code="33.74")),
        ):
            times = []
            for i in range(warmup + runs):
                started = time.perf_counter()
                await compute_dashboard(pool, clock, scope)
                if i >= warmup:
                    times.append((time.perf_counter() - started) * 1000)
            print(
                f"live.dashboard.compute_dashboard on a pool, {name}: median "
                f"{statistics.median(times):.1f} ms, p95 {percentile(times, 0.95):.1f} ms"
            )
    finally:
        await pool.close()


async def run(url: str, runs: int, warmup: int, plans: bool) -> None:
    conn = await asyncpg.connect(url, server_settings=SERVER_SETTINGS)
    unindexed = await asyncpg.connect(url, server_settings=NO_INDEXES)
    try:
        now: datetime = await conn.fetchval("SELECT now()")
        # The OPD holding the most complaints: the costliest office wall.
        opd_id: int = await conn.fetchval(
            "SELECT opd_id FROM complaints WHERE opd_id IS NOT NULL "
            "GROUP BY opd_id ORDER BY count(*) DESC LIMIT 1"
        )
        await profile(conn, runs, warmup)
        print(
            "| query | baseline | baseline median | p95 | Kilas median | p95 | Kilas < 200 ms |\n"
            "| --- | --- | --- | --- | --- | --- | --- |"
        )
        for case in cases(now, opd_id):
            other = conn if case.baseline_uses_indexes else unindexed
            result = await compare((other, case.baseline), (conn, case.kilas), runs, warmup)
            print(f"| {case.name} | {case.baseline_name} | {result} |", flush=True)
        await dashboard_end_to_end(url, now, opd_id, runs, warmup)
        print(load_average())
        if plans:
            for case in cases(now, opd_id):
                await explain(conn, case.name, case.kilas)
    finally:
        for c in (conn, unindexed):
            await c.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--explain", action="store_true", help="print the Kilas queries' plans")
    database_arguments(parser)
    args = parser.parse_args()
    async with database(args.database_url, args.data_dir, args.database) as url:
        await run(url, args.runs, args.warmup, args.explain)


if __name__ == "__main__":
    asyncio.run(main())
