"""Test databases on the test server: a URL for another database, one statement run as the
server's administrator, and a fresh clone of the migrated template."""

import contextlib
import secrets
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def admin_execute(pg_url: str, sql: str) -> None:
    """`sql` on its own connection to `pg_url` (CREATE and DROP DATABASE run outside a
    transaction)."""
    conn = await asyncpg.connect(pg_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def template_clone(pg_url: str, template_url: str) -> AsyncIterator[str]:
    """A fresh clone of the migrated template, dropped afterwards."""
    name = f"kilas_t_{secrets.token_hex(4)}"
    template = urlsplit(template_url).path.lstrip("/")
    await admin_execute(pg_url, f"CREATE DATABASE {name} TEMPLATE {template}")
    try:
        yield with_database(pg_url, name)
    finally:
        await admin_execute(pg_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
