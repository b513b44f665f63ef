import json
from collections.abc import Callable
from typing import Any

import asyncpg

QueryLogger = Callable[[Any], None]

# JIT compiles the performance aggregates anew on every execution (~150 ms on a million
# complaints, BENCHMARKS.md) and buys nothing for Kilas's short queries.
SERVER_SETTINGS = {"application_name": "kilas", "timezone": "UTC", "jit": "off"}


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(
    dsn: str, *, min_size: int = 2, max_size: int = 10, query_logger: QueryLogger | None = None
) -> asyncpg.Pool:
    async def init(conn: asyncpg.Connection) -> None:
        await _init_connection(conn)
        if query_logger is not None:
            conn.add_query_logger(query_logger)

    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=init,
        server_settings=SERVER_SETTINGS,
    )
    assert pool is not None
    return pool


async def connect(dsn: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(dsn, server_settings={"application_name": "kilas"})
    await _init_connection(conn)
    return conn


# What the SQL functions of db/ take: a plain connection or one borrowed from the pool.
Connection = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy
