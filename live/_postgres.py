"""A broadcaster backend on PostgreSQL LISTEN that survives a lost connection.

Publishing is done by `pg_notify` inside the writing transaction (see `EventBus`), on a pooled
connection: broadcaster's own backend publishes on its single LISTEN connection, which failed
under concurrent publishes, and a NOTIFY sent in the transaction is delivered only on commit."""

import asyncio
import logging
from typing import Any

import asyncpg
from broadcaster import BroadcastBackend, Event

from kilas.live._resync import RESYNC

log = logging.getLogger("kilas.live")


class PostgresListenBackend(BroadcastBackend):
    def __init__(self, dsn: str, *, check_interval: float = 2.0) -> None:
        self._dsn = dsn
        self._check_interval = check_interval
        self._channels: set[str] = set()
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._conn: asyncpg.Connection | None = None
        self._watchdog: asyncio.Task[None] | None = None
        # For /ready and the metrics: whether LISTEN holds now, and how often it was re-made.
        self.connected = False
        self.reconnects = 0

    async def connect(self) -> None:
        self._conn = await asyncpg.connect(self._dsn, server_settings={"application_name": "kilas"})
        self._watchdog = asyncio.create_task(self._watch(), name="kilas-pg-listen-watchdog")
        self.connected = True

    async def disconnect(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
        if self._conn is not None and not self._conn.is_closed():
            await self._conn.close()

    def _on_notify(self, _conn: Any, _pid: int, channel: str, payload: object) -> None:
        self._queue.put_nowait(Event(channel=channel, message=str(payload)))

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)
        assert self._conn is not None
        await self._conn.add_listener(channel, self._on_notify)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        if self._conn is not None and not self._conn.is_closed():
            await self._conn.remove_listener(channel, self._on_notify)

    async def publish(self, channel: str, message: Any) -> None:
        conn = await asyncpg.connect(self._dsn)
        try:
            await conn.execute("SELECT pg_notify($1, $2)", channel, str(message))
        finally:
            await conn.close()

    async def next_published(self) -> Event:
        return await self._queue.get()

    async def _watch(self) -> None:
        delay = 0.2
        while True:
            await asyncio.sleep(self._check_interval)
            assert self._conn is not None
            try:
                if not self._conn.is_closed():
                    await asyncio.wait_for(self._conn.execute("SELECT 1"), timeout=5)
                    continue
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                log.warning("PostgreSQL bus connection lost: %s", exc)
            self.connected = False
            while True:
                try:
                    self._conn.terminate()
                    self._conn = await asyncpg.connect(self._dsn)
                    for channel in self._channels:
                        await self._conn.add_listener(channel, self._on_notify)
                    break
                except (OSError, asyncpg.PostgresError) as exc:
                    log.warning("PostgreSQL bus reconnect failed (%s); retry in %.1fs", exc, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)
            delay = 0.2
            self.connected = True
            self.reconnects += 1
            for channel in self._channels:
                self._queue.put_nowait(Event(channel=channel, message=RESYNC))
