"""Read-path benchmark: Kilas (compiled reads on and off) next to a hand-written SQL baseline,
under the same fixed-concurrency load, in alternating rounds of one run.

    python bench/read_path.py [--database-url postgresql://…/kilas_bench_read] [--quick]

Loads --complaints synthetic complaints (bench/bulk_load.py) and the demo programmes into the
database once, links a few hundred road complaints to Jalan Cantik's work items, then serves:
(a) Kilas as `kilas serve` runs it (bench/_servers.py: one uvicorn process, production mode);
(b) the same with KILAS_COMPILED_READS=false; (c) bench/_baseline_app.py, one SQL statement per
query building the response JSON; and PostGraphile 5 when --postgraphile-dir has it
(bench/_postgraphile.py). Before timing, every query's response must be the same from (a), (b)
and (c); the statements one request runs are counted in this process with asyncpg's query
logger. Then wrk (Debian's package) drives each (server, query) at fixed concurrency, round
after round. --check stops after the checks.
"""

import argparse
import asyncio
import contextlib
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from _postgraphile import install, installed, postgraphile_process
from _read_queries import ReadQuery, differences, read_queries
from _read_report import BASELINE, FIELD_BY_FIELD, KILAS, POSTGRAPHILE, describe_run, report
from _servers import (
    ROOT,
    baseline_process,
    counted_baseline,
    counted_kilas,
    free_port,
    kilas_process,
    kilas_settings,
    statements_per_request,
)
from _wrk import LoadResult, require_wrk, run_wrk
from bulk_load import database, load

from kilas.demo import load_demo
from kilas.packs import DEFAULT_PACK, load_pack
from kilas.schema.ids import to_global_id

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/kilas_bench_read"
PROGRAMME = "JALAN-CANTIK-2026"  # the demo programme with work items
LINKED = 300


@dataclass(frozen=True)
class Server:
    name: str
    url: str
    # The request body of a query for this server; None: it does not answer that query.
    body: Callable[[ReadQuery], bytes | None]


async def prepare(url: str, complaints: int) -> list[ReadQuery]:
    """Load once (demo programmes, then the bulk load); link road complaints to work items."""
    async with database(url, Path(".kilas"), "") as url:
        conn = await asyncpg.connect(url)
        try:
            if not await conn.fetchval(
                "SELECT EXISTS (SELECT FROM programmes WHERE code = $1)", PROGRAMME
            ):
                await load_demo(url, load_pack(DEFAULT_PACK))
            loaded = await conn.fetchval(
                "SELECT count(*) FROM complaints WHERE tracking_number LIKE 'SYN-%'"
            )
            if loaded == 0:
                await load(conn, complaints)
            elif loaded != complaints:
                raise SystemExit(
                    f"{url} holds {loaded:,} bulk-loaded complaints, not "
                    f"{complaints:,}: pass another --database-url or drop it"
                )
            await link_work_items(conn)
            opd = await conn.fetchrow(
                """
                SELECT o.id, o.slug FROM complaints c JOIN opds o ON o.id = c.opd_id
                WHERE c.status IN ('ASSIGNED', 'IN_PROGRESS')
                GROUP BY o.id, o.slug ORDER BY count(*) DESC, o.id LIMIT 1
                """
            )
            assert opd is not None, "no complaint held by an OPD"
        finally:
            await conn.close()
    return read_queries(opd["slug"], to_global_id("Opd", opd["id"]), PROGRAMME)


async def link_work_items(conn: asyncpg.Connection) -> None:
    """The bulk loader links no complaint to a work item: link road complaints of each work
    item's region, LINKED in all (as an operator's linkComplaintToWorkItem would)."""
    items = await conn.fetch(
        "SELECT w.id, w.region_code FROM work_items w JOIN programmes p ON p.id = w.programme_id "
        "WHERE p.code = $1 ORDER BY w.id",
        PROGRAMME,
    )
    linked = await conn.fetchval(
        "SELECT count(*) FROM complaints WHERE work_item_id = any($1::bigint[])",
        [item["id"] for item in items],
    )
    for item in items if linked < LINKED // 2 else []:
        await conn.execute(
            """
            UPDATE complaints SET work_item_id = $1 WHERE id IN (
                SELECT id FROM complaints
                WHERE region_code = $2 AND category_code = 'JALAN' AND work_item_id IS NULL
                  AND tracking_number LIKE 'SYN-%' ORDER BY id LIMIT $3)
            """,
            item["id"],
            item["region_code"],
            LINKED // len(items),
        )


def check_answers(servers: list[Server], queries: list[ReadQuery]) -> None:
    """Every server's answer to every query it takes, decoded, is the baseline's."""
    for query in queries:
        answers = {}
        for server in servers:
            body = server.body(query)
            if body is not None:
                response = httpx.post(
                    server.url,
                    content=body,
                    timeout=30,
                    headers={"content-type": "application/json"},
                )
                answers[server.name] = response.json()
                if response.status_code != 200 or "errors" in answers[server.name]:
                    raise SystemExit(f"{server.name}, {query.name}: {response.text[:2000]}")
        expected = answers.pop(BASELINE)
        rows = postgraphile_rows(expected)
        for name, answer in answers.items():
            if name == POSTGRAPHILE:  # its own names and ids: the same complaints, in order
                found = differences(postgraphile_rows(answer), rows)
            else:
                found = differences(answer, expected)
            if found:
                raise SystemExit(f"{name} and the baseline differ on {query.name}: {found}")
        print(f"same answer from {', '.join([BASELINE, *answers])}: {query.name}", flush=True)


def postgraphile_rows(answer: dict[str, Any]) -> list[Any]:
    """The complaints of a list, as (text, moment): PostGraphile names and dates them its way."""
    connection = next(iter(answer["data"].values()))
    if not isinstance(connection, dict) or "edges" not in connection:
        return []
    return [
        (e["node"]["text"], datetime.fromisoformat(e["node"]["createdAt"]))
        for e in connection["edges"]
    ]


async def count_statements(url: str, queries: list[ReadQuery]) -> dict[tuple[str, str], str]:
    """Statements per request of each query, on each server app in this process (side by side:
    each app counts on its own pool)."""
    apps = {
        KILAS: counted_kilas(url, True),
        FIELD_BY_FIELD: counted_kilas(url, False),
        BASELINE: counted_baseline(url),
    }
    bodies = [q.body() for q in queries]
    found = await asyncio.gather(
        *(statements_per_request(app, counter, bodies) for app, counter in apps.values())
    )
    counts = {}
    for name, per_query in zip(apps, found, strict=True):
        for query, (statements, resets) in zip(queries, per_query, strict=True):
            counts[name, query.name] = f"{statements}" + (f" +{resets} reset" if resets else "")
    return counts


@contextlib.contextmanager
def servers(url: str, postgraphile_dir: Path | None) -> Iterator[list[Server]]:
    """Every server, started side by side, up until the block ends."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KILAS_")}
    with contextlib.ExitStack() as stack:
        started, processes = [], []
        for name, compiled in ((KILAS, True), (FIELD_BY_FIELD, False)):
            settings = kilas_settings(url, compiled_reads=compiled, port=free_port())
            processes.append(stack.enter_context(kilas_process(settings, environ)))
            started.append(
                Server(name, f"http://127.0.0.1:{settings.port}/graphql", ReadQuery.body)
            )
        port = free_port()
        processes.append(stack.enter_context(baseline_process(url, port)))
        started.append(Server(BASELINE, f"http://127.0.0.1:{port}/graphql", ReadQuery.body))
        if postgraphile_dir is not None:
            port = free_port()
            processes.append(stack.enter_context(postgraphile_process(postgraphile_dir, url, port)))
            started.append(
                Server(
                    POSTGRAPHILE,
                    f"http://127.0.0.1:{port}/graphql",
                    lambda q: q.body(q.postgraphile) if q.postgraphile else None,
                )
            )
        for each in processes:
            each.wait_up()
        yield started


def timed_rounds(
    servers: list[Server], queries: list[ReadQuery], args: argparse.Namespace
) -> dict[tuple[str, str], list[LoadResult]]:
    """Round after round, each query on each server in turn, after one warm-up of each."""
    results: dict[tuple[str, str], list[LoadResult]] = defaultdict(list)
    for round_ in range(-1, args.rounds):
        for query in queries:
            for server in servers:
                body = server.body(query)
                if body is None:
                    continue
                seconds = args.warmup if round_ < 0 else args.seconds
                # The run before (another server's, at full load) must have ended on both sides.
                time.sleep(args.settle)
                result = run_wrk(server.url, body, seconds=seconds, connections=args.concurrency)
                if result.errors:
                    raise SystemExit(f"{server.name}, {query.name}: {result.errors} errors")
                if round_ >= 0:
                    results[server.name, query.name].append(result)
                    print(
                        f"round {round_ + 1}: {query.name:42} {server.name:28} "
                        f"{result.requests_per_s:8.0f} req/s  p50 {result.p50_ms:6.1f} ms  "
                        f"p99 {result.p99_ms:6.1f} ms",
                        flush=True,
                    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--complaints", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--settle", type=float, default=1.0, help="seconds of quiet before each timed run"
    )
    parser.add_argument(
        "--postgraphile-dir",
        type=Path,
        default=Path("/tmp/kilas-postgraphile"),
        help="PostGraphile 5's npm install (compared when there)",
    )
    parser.add_argument(
        "--install-postgraphile",
        action="store_true",
        help="npm install PostGraphile 5 and Node 22 into --postgraphile-dir",
    )
    parser.add_argument("--quick", action="store_true", help="one round of 2 s, for a sanity run")
    parser.add_argument("--check", action="store_true", help="only the answers and statements")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.seconds, args.warmup = 1, 2, 1
    if not args.check:
        require_wrk()
    started = time.monotonic()
    queries = asyncio.run(prepare(args.database_url, args.complaints))
    statements = asyncio.run(count_statements(args.database_url, queries))
    if args.install_postgraphile:
        install(args.postgraphile_dir)
    graphile = args.postgraphile_dir if installed(args.postgraphile_dir) else None
    with servers(args.database_url, graphile) as started_servers:
        check_answers(started_servers, queries)
        if args.check:
            for (name, query), count in statements.items():
                print(f"statements: {name}, {query}: {count}")
            return
        describe_run(ROOT, args)
        results = timed_rounds(started_servers, queries, args)
    report([s.name for s in started_servers], queries, results, statements)
    print(f"\n(whole run {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
