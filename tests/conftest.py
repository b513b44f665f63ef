"""A real PostgreSQL for every test: the embedded server by default, or the server named by
KILAS_TEST_DATABASE_URL. The schema is migrated once into a template database, and each test
gets a fresh clone of it (CREATE DATABASE … TEMPLATE is fast)."""

import asyncio
import os
import secrets
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from kilas.db.migrate import migrate
from kilas.db.pool import connect, create_pool
from tests._database import admin_execute, template_clone, with_database
from tests.wire import RunningServer, start_server


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A URL to a database on the test server from which databases can be created."""
    external = os.environ.get("KILAS_TEST_DATABASE_URL")
    if external:
        yield external
        return
    from kilas.db.embedded import EmbeddedPostgres

    with tempfile.TemporaryDirectory(prefix="kilas-test-pg-") as tmp:
        # The postgres system user needs to traverse to the data directory.
        os.chmod(tmp, 0o755)
        server = EmbeddedPostgres(Path(tmp))
        url = server.start()
        try:
            yield url
        finally:
            server.stop()


@pytest.fixture(scope="session")
def template_url(pg_url: str) -> Iterator[str]:
    name = f"kilas_tpl_{secrets.token_hex(4)}"

    async def create() -> None:
        await admin_execute(pg_url, f"CREATE DATABASE {name}")
        conn = await connect(with_database(pg_url, name))
        try:
            await migrate(conn)
        finally:
            await conn.close()

    asyncio.run(create())
    try:
        yield with_database(pg_url, name)
    finally:
        asyncio.run(admin_execute(pg_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
async def empty_database_url(pg_url: str) -> AsyncIterator[str]:
    """A database with nothing in it, not even migrations."""
    name = f"kilas_empty_{secrets.token_hex(4)}"
    await admin_execute(pg_url, f"CREATE DATABASE {name}")
    try:
        yield with_database(pg_url, name)
    finally:
        await admin_execute(pg_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
async def database_url(pg_url: str, template_url: str) -> AsyncIterator[str]:
    """A fresh, migrated database for this test alone."""
    async with template_clone(pg_url, template_url) as url:
        yield url


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, min_size=1, max_size=10)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
async def conn(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    async with pool.acquire() as connection:
        yield connection


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[RunningServer]:
    """Kilas served by uvicorn on a free port, with the in-memory bus."""
    async with start_server(database_url) as running:
        yield running


# A test needs PostgreSQL or a server when one of these is in its fixture closure, which holds
# every fixture it uses directly or through another. Every fixture that reaches PostgreSQL starts
# from pg_url: template_url, database_url, empty_database_url, pool, conn, server, and the
# modules' own (the differential worlds, their servers). data_root (tests/test_cli.py) is where
# a `kilas` process starts an embedded server of its own.
WIRE_FIXTURES = frozenset({"pg_url", "data_root"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `wire` what needs a database or a server, so that `pytest -m "not wire"` runs the
    logic alone, in seconds, and never starts PostgreSQL."""
    for item in items:
        if WIRE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.wire)
