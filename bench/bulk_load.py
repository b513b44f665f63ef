"""Bulk loader: synthetic complaints with whole timelines, for benchmarks at a realistic size.

    python bench/bulk_load.py --complaints 1000000 --database-url postgresql://…/kilas_bench_1m

Without --database-url it starts the embedded PostgreSQL in --data-dir (default .kilas) and
loads into its database --database (default kilas_bench). A database that does not exist yet
is created; pending migrations are applied. Loading again adds more complaints after the ones
already there.

The complaints spread over the last 365 days, all regions, channels and categories (each
assigned to its category's OPD under the SLA policy in force), in every status, with their
events and the SLA marks, escalations and auto-closures the sweeper would have written (see
bench/_synthetic.py). Rows go in by COPY, in chunks, in one transaction:

- the count triggers (`complaint_counts_track`, `complaint_counts_by_opd_track`) are disabled
  for the load (a row trigger would cost an upsert per complaint) and their tables rebuilt with
  one GROUP BY each before they are enabled again;
- with a superuser, `session_replication_role = replica` also skips the per-row foreign-key
  checks, and one anti-join per foreign key checks the loaded rows afterwards instead;
- the secondary indexes of both tables are dropped and rebuilt after the load (a sorted build
  is several times faster than a million insertions into each B-tree and GIN index);
- ids are the loader's own, written by COPY straight into the identity columns (COPY always
  takes the values given, like INSERT … OVERRIDING SYSTEM VALUE), and the identity sequences
  are moved past them at the end.

Dropping the indexes locks both tables, for readers too, until the load commits: this is for
a benchmark database, not a live one. It ends with VACUUM (ANALYZE), as autovacuum would do,
so that the first benchmark sees the tables settled (visibility map set, statistics fresh).
"""

import argparse
import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from _synthetic import COMPLAINT_COLUMNS, EVENT_COLUMNS, Generator, Reference

from kilas.db.migrate import migrate

TABLES = ("complaints", "complaint_events")
COUNT_TRIGGERS = ("complaint_counts_track", "complaint_counts_by_opd_track")
# Foreign keys checked after a load that skipped the per-row checks: (table, column, target).
FOREIGN_KEYS = (
    ("complaints", "category_code", "categories (code)"),
    ("complaints", "region_code", "regions (code)"),
    ("complaints", "opd_id", "opds (id)"),
    ("complaints", "sla_policy_id", "sla_policies (id)"),
    ("complaints", "duplicate_of_id", "complaints (id)"),
    ("complaint_events", "complaint_id", "complaints (id)"),
    ("complaint_events", "opd_id", "opds (id)"),
    ("complaint_events", "region_code", "regions (code)"),
    ("complaint_events", "category_code", "categories (code)"),
)


class Progress:
    """A one-line progress bar on stderr, redrawn in place when stderr is a terminal."""

    def __init__(self, total: int, label: str) -> None:
        self.total, self.label, self.started = total, label, time.monotonic()
        self.tty = sys.stderr.isatty()

    def update(self, done: int, extra: str = "") -> None:
        share = done / self.total if self.total else 1.0
        elapsed = time.monotonic() - self.started
        eta = elapsed / share - elapsed if share else 0.0
        bar = "#" * int(30 * share) + "." * (30 - int(30 * share))
        line = (
            f"{self.label} [{bar}] {share:4.0%} {done:,}/{self.total:,} {extra}"
            f" {elapsed:5.0f}s elapsed, {eta:4.0f}s left"
        )
        sys.stderr.write(("\r" + line) if self.tty else line + "\n")
        sys.stderr.flush()

    def close(self) -> None:
        if self.tty:
            sys.stderr.write("\n")


@asynccontextmanager
async def step(message: str) -> AsyncIterator[None]:
    started = time.monotonic()
    sys.stderr.write(f"{message}…")
    sys.stderr.flush()
    yield
    sys.stderr.write(f" {time.monotonic() - started:.1f}s\n")


async def reference(conn: asyncpg.Connection, now: datetime) -> Reference:
    policy = await conn.fetchrow(
        """
        SELECT id, response_hours, resolution_hours FROM sla_policies
        WHERE effective_from <= $1 ORDER BY effective_from DESC LIMIT 1
        """,
        now,
    )
    assert policy is not None, "no SLA policy in force: are the migrations applied?"
    categories = await conn.fetch(
        """
        SELECT c.code, c.default_opd_id, coalesce(h.resolution_hours, $2) AS resolution_hours
        FROM categories c
        LEFT JOIN sla_policy_category_hours h ON h.category_code = c.code AND h.policy_id = $1
        """,
        policy["id"],
        policy["resolution_hours"],
    )
    regions = await conn.fetch(
        "SELECT code, name, type, seat, seat_lat, seat_lon FROM regions ORDER BY code"
    )
    opds = await conn.fetch("SELECT id, slug FROM opds")
    return Reference(
        regions=[dict(r) for r in regions],
        category_opd={c["code"]: c["default_opd_id"] for c in categories},
        opd_slugs={o["id"]: o["slug"] for o in opds},
        policy_id=policy["id"],
        response_hours=policy["response_hours"],
        resolution_hours={c["code"]: c["resolution_hours"] for c in categories},
    )


async def _next_id(conn: asyncpg.Connection, table: str) -> int:
    # Past both the rows and the sequence: an insert rolled back still used up its id.
    value: int = await conn.fetchval(
        f"""
        SELECT greatest((SELECT coalesce(max(id), 0) FROM {table}),
                        coalesce(pg_sequence_last_value(pg_get_serial_sequence('{table}', 'id')),
                                 0)) + 1
        """
    )
    return value


async def _drop_secondary_indexes(conn: asyncpg.Connection) -> list[str]:
    """Drop the indexes that back no constraint; return their definitions."""
    rows = await conn.fetch(
        """
        SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
        FROM pg_index i
        WHERE i.indrelid = any($1::regclass[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        ORDER BY 1
        """,
        list(TABLES),
    )
    for row in rows:
        await conn.execute(f"DROP INDEX {row['name']}")
    return [row["definition"] for row in rows]


async def _check_foreign_keys(conn: asyncpg.Connection, complaint_from: int) -> None:
    for table, column, target in FOREIGN_KEYS:
        target_table, target_column = target.rstrip(")").split(" (")
        key = "id" if table == "complaints" else "complaint_id"
        missing = await conn.fetchval(
            f"""
            SELECT count(*) FROM {table} t
            WHERE t.{key} >= $1 AND t.{column} IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM {target_table} r
                              WHERE r.{target_column} = t.{column})
            """,
            complaint_from,
        )
        if missing:
            raise RuntimeError(f"{missing} loaded {table}.{column} values not in {target}")


async def load(
    conn: asyncpg.Connection,
    count: int,
    *,
    chunk_size: int = 50_000,
    seed: int = 3300,
    now: datetime | None = None,
) -> dict[str, int]:
    """Load `count` synthetic complaints; return how many complaints and events went in."""
    now = now or await conn.fetchval("SELECT now()")
    ref = await reference(conn, now)
    superuser = await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    loaded = {"complaints": 0, "events": 0}
    async with conn.transaction():
        for trigger in COUNT_TRIGGERS:
            await conn.execute(f"ALTER TABLE complaints DISABLE TRIGGER {trigger}")
        await conn.execute("LOCK TABLE complaint_events IN EXCLUSIVE MODE")
        if superuser:
            await conn.execute("SET LOCAL session_replication_role = replica")
        # For the index builds and the anti-joins that check the foreign keys.
        await conn.execute("SET LOCAL maintenance_work_mem = '512MB'")
        await conn.execute("SET LOCAL work_mem = '256MB'")
        first_complaint = await _next_id(conn, "complaints")
        generator = Generator(
            ref,
            count=count,
            now=now,
            first_complaint_id=first_complaint,
            first_event_id=await _next_id(conn, "complaint_events"),
            seed=seed,
        )
        indexes = await _drop_secondary_indexes(conn)
        progress = Progress(count, "complaints")
        for complaints, events in generator.chunks(chunk_size):
            await conn.copy_records_to_table(
                "complaints", records=complaints, columns=COMPLAINT_COLUMNS
            )
            await conn.copy_records_to_table(
                "complaint_events", records=events, columns=EVENT_COLUMNS
            )
            loaded["complaints"] += len(complaints)
            loaded["events"] += len(events)
            progress.update(loaded["complaints"], f"({loaded['events']:,} events)")
        progress.close()
        async with step(f"rebuilding {len(indexes)} indexes"):
            for definition in indexes:
                await conn.execute(definition)
        if superuser:
            async with step("checking the foreign keys of the loaded rows"):
                await _check_foreign_keys(conn, first_complaint)
        async with step("rebuilding complaint_counts and complaint_counts_by_opd"):
            await conn.execute("DELETE FROM complaint_counts")
            await conn.execute(
                """
                INSERT INTO complaint_counts (status, region_code, channel, n)
                SELECT status, region_code, channel, count(*) FROM complaints GROUP BY 1, 2, 3
                """
            )
            await conn.execute("DELETE FROM complaint_counts_by_opd")
            await conn.execute(
                """
                INSERT INTO complaint_counts_by_opd (opd_id, status, region_code, channel, n)
                SELECT opd_id, status, region_code, channel, count(*) FROM complaints
                WHERE opd_id IS NOT NULL GROUP BY 1, 2, 3, 4
                """
            )
            for trigger in COUNT_TRIGGERS:
                await conn.execute(f"ALTER TABLE complaints ENABLE TRIGGER {trigger}")
        for table in TABLES:
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
            )
    async with step("VACUUM (ANALYZE)"):
        await conn.execute(
            "VACUUM (ANALYZE) complaints, complaint_events, complaint_counts, "
            "complaint_counts_by_opd"
        )
    return loaded


@asynccontextmanager
async def database(database_url: str | None, data_dir: Path, name: str) -> AsyncIterator[str]:
    """The URL of the benchmark database, created and migrated if need be: `database_url`, or
    the database `name` of the embedded server in `data_dir` (running until the block ends)."""
    embedded = None
    if database_url is None:
        from kilas.db.embedded import EmbeddedPostgres

        data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(data_dir, 0o755)  # the server's system user must reach its data directory
        embedded = EmbeddedPostgres(data_dir)
        database_url = urlunsplit(urlsplit(embedded.start())._replace(path=f"/{name}"))
    try:
        try:
            conn = await asyncpg.connect(database_url)
        except asyncpg.InvalidCatalogNameError:
            parts = urlsplit(database_url)
            admin = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
            try:
                await admin.execute(f'CREATE DATABASE "{parts.path.lstrip("/")}"')
            finally:
                await admin.close()
            conn = await asyncpg.connect(database_url)
        try:
            await migrate(conn)
        finally:
            await conn.close()
        yield database_url
    finally:
        if embedded is not None:
            embedded.stop()


def database_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", help="PostgreSQL URL (default: the embedded server)")
    parser.add_argument("--data-dir", type=Path, default=Path(".kilas"))
    parser.add_argument("--database", default="kilas_bench", help="embedded database name")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--complaints", type=int, default=1_000_000)
    parser.add_argument("--chunk-size", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=3300)
    database_arguments(parser)
    args = parser.parse_args()
    async with database(args.database_url, args.data_dir, args.database) as url:
        conn = await asyncpg.connect(url)
        try:
            started = time.monotonic()
            loaded = await load(conn, args.complaints, chunk_size=args.chunk_size, seed=args.seed)
        finally:
            await conn.close()
        print(
            f"loaded {loaded['complaints']:,} complaints and {loaded['events']:,} events "
            f"in {time.monotonic() - started:.0f}s (load average now {os.getloadavg()[0]:.1f})"
        )


if __name__ == "__main__":
    asyncio.run(main())
