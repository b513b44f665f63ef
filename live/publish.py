"""Running a complaint command in one transaction, then hinting subscribers after the commit.
Used by the API and by the SLA sweeper alike."""

import logging
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

import asyncpg

from kilas.db.pool import Connection
from kilas.live.bus import EventBus
from kilas.live.hub import EventHub

log = logging.getLogger("kilas.live")


class HasEvent(Protocol):
    @property
    def event(self) -> asyncpg.Record | None: ...


T = TypeVar("T", bound=HasEvent)


async def run_and_publish(
    pool: asyncpg.Pool,
    bus: EventBus,
    hub: EventHub,
    command: Callable[[Connection], Awaitable[T]],
) -> T:
    async with pool.acquire() as conn, conn.transaction():
        outcome = await command(conn)
        if outcome.event is not None:
            await bus.notify_in_transaction(conn, outcome.event["id"])
    if outcome.event is not None:
        hub.poke()
        try:
            await bus.notify_committed(outcome.event["id"])
        except Exception:
            # The event is committed and in the log; other instances read it on their next poll.
            log.warning("could not publish event %s on the bus", outcome.event["id"], exc_info=True)
    return outcome
