import asyncio
import json
from collections.abc import Callable
from typing import Any

import asyncpg

QueryLogger = Callable[[Any], None]

# JIT compiles the performance aggregates anew on every execution (~150 ms on a million
# complaints, BENCHMARKS.md) and buys nothing for Kilas's short queries.
SERVER_SETTINGS = {"application_name": "kilas", "timezone": "UTC", "jit": "off"}


class PooledConnection(asyncpg.Connection):
    """A pool connection whose release costs no round trip.

    asyncpg's default release sends `pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`
    to undo session state, one round trip per request. Kilas leaves none on a pooled connection:
    its settings are `SET LOCAL` and its advisory lock `pg_advisory_xact_lock`, both ended with
    the transaction, as are the portals of a cursor (which asyncpg only opens inside one); the
    session-level advisory locks (migrations, demo) and the LISTEN of the PostgreSQL bus are
    taken on connections of their own, never the pool's. What still happens on release, in
    asyncpg itself: a connection that comes back inside a transaction, failed or not, is rolled
    back, and its Python-side listeners are dropped. A path that needs session state (SET,
    LISTEN, a session lock, a WITH HOLD cursor) takes a connection of its own (`connect`), or
    undoes it before release; tests/test_pool_reset.py holds the pool to this."""

    def get_reset_query(self) -> str:
        return ""


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
        connection_class=PooledConnection,
    )
    assert pool is not None
    return pool


async def connect(dsn: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(dsn, server_settings={"application_name": "kilas"})
    await _init_connection(conn)
    return conn


# What the SQL functions of db/ take: a plain connection or one borrowed from the pool.
Connection = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy


# By (pool, event loop): asyncpg's pools take no weak references, and a semaphore belongs to the
# loop it first waits in.
_TURNS: dict[tuple[int, int], asyncio.Semaphore] = {}


def fair_turn(pool: Any) -> asyncio.Semaphore:
    """A first-come, first-served turn at the pool. asyncpg's pool queue lets a request that
    arrives just as a connection comes back take it before one that has been waiting (the
    waiter, woken, finds the queue empty again and waits at the back), so under load a few
    requests wait many turns; asyncio's Semaphore queues newcomers behind its waiters. Taken
    before `pool.acquire()` by the compiled read path, where many short requests compete."""
    key = (id(pool), id(asyncio.get_running_loop()))
    turn = _TURNS.get(key)
    if turn is None:
        if len(_TURNS) > 64:
            _TURNS.clear()
        # Two connections fewer than the pool holds: the live hub's polls, mutations and the
        # other readers find one free, so compiled answers never queue in asyncpg's own
        # (unfair) queue behind them.
        turn = _TURNS[key] = asyncio.Semaphore(max(1, pool.get_max_size() - 2))
    return turn
