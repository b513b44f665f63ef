"""Running a complaint command in one transaction, then hinting subscribers after the commit.
Used by the API and by the SLA sweeper alike."""

import logging
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

import asyncpg

from kilas.db.pool import Connection
from kilas.db.rows import EventRow
from kilas.live.bus import EventBus
from kilas.live.hub import EventHub

log = logging.getLogger("kilas.live")


class HasEvent(Protocol):
    @property
    def event(self) -> EventRow | None: ...

    @property
    def others(self) -> tuple[EventRow, ...]: ...


T = TypeVar("T", bound=HasEvent)


async def run_and_publish(
    pool: asyncpg.Pool,
    bus: EventBus,
    hub: EventHub,
    command: Callable[[Connection], Awaitable[T]],
) -> T:
    async with pool.acquire() as conn, conn.transaction():
        outcome = await command(conn)
        events = [outcome.event] if outcome.event is not None else []
        events += outcome.others
        await notify_in_transaction(bus, conn, events)
    await announce_committed(bus, hub, events)
    return outcome


async def notify_in_transaction(bus: EventBus, conn: Connection, events: list[EventRow]) -> None:
    """Inside the writing transaction: the PostgreSQL bus delivers these hints on commit."""
    for event in events:
        await bus.notify_in_transaction(conn, event.id)


async def announce_committed(bus: EventBus, hub: EventHub, events: list[EventRow]) -> None:
    """After the commit: this instance's hub reads the log now, the others get the bus's hint."""
    if not events:
        return
    hub.poke()
    for event in events:
        try:
            await bus.notify_committed(event.id)
        except Exception:
            # The event is committed and in the log; other instances read it on their next poll.
            log.warning("could not publish event %s on the bus", event.id, exc_info=True)
