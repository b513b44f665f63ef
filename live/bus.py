"""The cross-process event bus. Only hints travel on it (an event id); the event log is the
truth, so a lost hint costs latency, never an event."""

from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlparse

from broadcaster import Broadcast, Event

from kilas.db.pool import Connection

if TYPE_CHECKING:
    from kilas.live._postgres import PostgresListenBackend
    from kilas.live._redis import RedisPubSubBackend

CHANNEL = "kilas_events"


class Subscriber(Protocol):
    """What `Broadcast.subscribe` yields, as far as Kilas reads it (broadcaster's public API
    does not name the class)."""

    async def get(self) -> Event: ...


def bus_kind(url: str) -> str:
    scheme = urlparse(url).scheme or url
    if scheme in ("memory",):
        return "memory"
    if scheme in ("redis", "rediss"):
        return "redis"
    if scheme in ("postgres", "postgresql"):
        return "postgres"
    raise ValueError(
        f"KILAS_BROADCAST_URL must be memory://, redis://host:port/db or postgres:// (got {url!r})"
    )


class EventBus:
    """`memory://` for one process; `redis://…` or `postgres://` (LISTEN/NOTIFY on Kilas's own
    database) when several instances serve one province."""

    def __init__(self, url: str, database_url: str) -> None:
        self.kind = bus_kind(url)
        self._backend: RedisPubSubBackend | PostgresListenBackend | None = None
        if self.kind == "redis":
            from kilas.live import _redis

            self._backend = _redis.RedisPubSubBackend(url)
            self.broadcast = Broadcast(backend=self._backend)
        elif self.kind == "postgres":
            from kilas.live import _postgres

            self._backend = _postgres.PostgresListenBackend(database_url)
            self.broadcast = Broadcast(backend=self._backend)
        else:
            self.broadcast = Broadcast("memory://")
        self._connected = False

    @property
    def connected(self) -> bool:
        """Whether hints arrive now (the memory bus: once connected)."""
        if self._backend is not None:
            return self._backend.connected
        return self._connected

    @property
    def reconnects(self) -> int:
        """How often the bus's connection was lost and made again."""
        return self._backend.reconnects if self._backend is not None else 0

    async def connect(self) -> None:
        await self.broadcast.connect()
        self._connected = True

    async def disconnect(self) -> None:
        self._connected = False
        await self.broadcast.disconnect()

    def subscribe(self) -> AbstractAsyncContextManager[Subscriber]:
        return self.broadcast.subscribe(CHANNEL)

    async def notify_in_transaction(self, conn: Connection, event_id: int) -> None:
        """Called inside the writing transaction: PostgreSQL delivers the NOTIFY on commit."""
        if self.kind == "postgres":
            await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, str(event_id))

    async def notify_committed(self, event_id: int) -> None:
        """Called after commit, for the buses that are not transactional."""
        if self.kind != "postgres":
            await self.broadcast.publish(CHANNEL, str(event_id))
