"""Releasing a pooled connection sends nothing to the server (db.pool.PooledConnection), and the
session state Kilas puts on a pooled connection ends with its transaction anyway: SET LOCAL, the
event log's xact lock, an export's cursor, a transaction released open or failed."""

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from kilas.db import performance as performance_db
from kilas.db.complaints import EVERYTHING, ComplaintFilter
from kilas.db.pool import connect, create_pool
from kilas.domain import workflow

MARKER = "SELECT 'kilas-pool-reset-marker'"
ROOT = Path(__file__).parent.parent


@pytest.fixture
async def one_connection_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """Kilas's pool with a single connection: every acquire gets the one released before."""
    pool = await create_pool(database_url, min_size=1, max_size=1)
    try:
        yield pool
    finally:
        await pool.close()


async def session_state(conn: Any) -> dict[str, Any]:
    """What a request could leave behind on a connection, as the server sees it."""
    return {
        "in_transaction": conn.is_in_transaction(),
        "settings": dict(
            await conn.fetch("SELECT name, setting FROM pg_settings WHERE source = 'session'")
        ),
        "advisory_locks": await conn.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        ),
        # Named portals: this query's own is the unnamed one.
        "cursors": await conn.fetchval("SELECT count(*) FROM pg_cursors WHERE name <> ''"),
        "listening": await conn.fetchval("SELECT count(*) FROM pg_listening_channels()"),
    }


async def last_statement_after_release(pool: asyncpg.Pool, database_url: str) -> tuple[str, str]:
    """Run MARKER on a pooled connection and release it; return the last statement the client
    sent on it and the one the server saw last on that backend (pg_stat_activity)."""
    sent: list[str] = []
    async with pool.acquire() as conn:
        conn.add_query_logger(lambda record: sent.append(record.query))
        pid = conn.get_server_pid()
        await conn.execute(MARKER)
    watcher = await connect(database_url)
    try:
        seen = await watcher.fetchval("SELECT query FROM pg_stat_activity WHERE pid = $1", pid)
    finally:
        await watcher.close()
    return sent[-1], seen


async def test_releasing_a_connection_sends_no_statement(
    one_connection_pool: asyncpg.Pool, database_url: str
) -> None:
    sent, seen = await last_statement_after_release(one_connection_pool, database_url)
    assert sent == MARKER
    assert seen == MARKER


async def test_asyncpgs_default_pool_would_send_its_reset_query(database_url: str) -> None:
    # The measure above sees a statement sent on release: asyncpg's own pool sends one.
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    assert pool is not None
    try:
        sent, seen = await last_statement_after_release(pool, database_url)
    finally:
        await pool.close()
    assert "RESET ALL" in sent
    assert "RESET ALL" in seen


async def test_a_connection_released_inside_a_transaction_comes_back_clean(
    one_connection_pool: asyncpg.Pool,
) -> None:
    async with one_connection_pool.acquire() as conn:
        clean, pid = await session_state(conn), conn.get_server_pid()
        transaction = conn.transaction()
        await transaction.start()
        await conn.execute("SET LOCAL work_mem = '77MB'")
        await conn.execute("SELECT pg_advisory_xact_lock(8632)")
        await conn.execute("CREATE TABLE released_open (n int)")
        dirty = await session_state(conn)
        # Released without commit or rollback: asyncpg rolls back on release.
    async with one_connection_pool.acquire() as conn:
        assert conn.get_server_pid() == pid
        assert await session_state(conn) == clean
        assert await conn.fetchval("SELECT to_regclass('released_open')") is None
    assert dirty["in_transaction"] and dirty["advisory_locks"] == 1
    assert dirty["settings"]["work_mem"] == str(77 * 1024)


async def test_a_connection_released_after_a_failed_statement_comes_back_clean(
    one_connection_pool: asyncpg.Pool,
) -> None:
    async with one_connection_pool.acquire() as conn:
        clean = await session_state(conn)
        transaction = conn.transaction()
        await transaction.start()
        await conn.execute("SELECT pg_advisory_xact_lock(8632)")
        with pytest.raises(asyncpg.DivisionByZeroError):
            await conn.execute("SELECT 1 / 0")
    async with one_connection_pool.acquire() as conn:
        assert await session_state(conn) == clean
    with pytest.raises(asyncpg.DivisionByZeroError):
        async with one_connection_pool.acquire() as conn, conn.transaction():
            await conn.execute("SET LOCAL work_mem = '77MB'")
            await conn.execute("SELECT 1 / 0")
    async with one_connection_pool.acquire() as conn:
        assert await session_state(conn) == clean


async def test_kilas_reports_writes_and_exports_leave_no_session_state(
    one_connection_pool: asyncpg.Pool,
) -> None:
    pool = one_connection_pool
    async with pool.acquire() as conn:
        clean = await session_state(conn)
    # A report: SET LOCAL work_mem and plan_cache_mode.
    async with pool.acquire() as conn:
        now = datetime.now(UTC)
        await performance_db.opd_performance(conn, datetime(2025, 1, 1, tzinfo=UTC), now, now)
    async with pool.acquire() as conn:
        assert await session_state(conn) == clean
    # Writes: the event log's pg_advisory_xact_lock.
    async with pool.acquire() as conn:
        for i in range(3):
            async with conn.transaction():
                await workflow.submit(
                    conn,
                    workflow.Submission(
                        channel="WEB",
                        text=f"Jalan berlubang nomor {i}.",
                        region_code="33.19",
                        category_code="JALAN",
                    ),
                    actor="test",
                )
    async with pool.acquire() as conn:
        assert await session_state(conn) == clean
    # An export given up half-way, as resolvers.export does on a client that hangs up.
    async with pool.acquire() as conn:
        transaction = conn.transaction(readonly=True)
        await transaction.start()
        rows = performance_db.stream_complaints(
            conn, ComplaintFilter(visibility=EVERYTHING), prefetch=1
        )
        await anext(rows)
        during = await session_state(conn)
        await rows.aclose()
        await transaction.rollback()
    async with pool.acquire() as conn:
        assert await session_state(conn) == clean
    assert during["cursors"] == 1


async def test_a_session_set_would_outlive_the_release(one_connection_pool: asyncpg.Pool) -> None:
    # Why no Kilas path may SET, LISTEN or take a session lock on a pooled connection.
    async with one_connection_pool.acquire() as conn:
        clean = await session_state(conn)
        await conn.execute("SET work_mem = '77MB'")
        await conn.execute("SELECT pg_advisory_lock(8632)")
        await conn.execute("LISTEN kilas_pool_reset")
    async with one_connection_pool.acquire() as conn:
        left = await session_state(conn)
    assert left != clean
    assert left["advisory_locks"] == 1 and left["listening"] == 1


# Statements that set session state, which would outlive the request on a pooled connection
# (Kilas writes SQL in capitals).
SESSION_STATE = re.compile(
    r"pg_(try_)?advisory_lock(_shared)?\("
    r"|[\"']SET (?!LOCAL\b)"
    r"|set_config\("
    r"|[\"'](UN)?LISTEN\b"
    r"|\bWITH HOLD FOR\b",
)
# Each of these runs its session statements on a connection of its own, never the pool's.
OWN_CONNECTION = {"db/migrate.py", "kilas/demo.py"}
SOURCE_FOLDERS = ["app.py", "db", "resolvers", "live", "auth", "guard", "schema", "domain"]
SOURCE_FOLDERS += ["web", "compiler"]


def source_files() -> list[Path]:
    files = [p for p in (ROOT / "kilas").glob("*.py") if not p.is_symlink()]
    for name in SOURCE_FOLDERS:
        path = ROOT / name
        # The migrations too: a function or trigger could take a session lock.
        found = [path] if path.is_file() else sorted(path.rglob("*"))
        files.extend(p for p in found if p.suffix in (".py", ".sql"))
    return files


def test_no_code_sets_session_state_except_on_its_own_connection() -> None:
    matching = {
        str(path.relative_to(ROOT))
        for path in source_files()
        if SESSION_STATE.search(path.read_text(encoding="utf-8"))
    }
    assert matching == OWN_CONNECTION
