"""In-process fan-out of committed events.

Each process holds one bus subscription for its whole life. Any hint (or a periodic poll) makes
the hub read the event log after the last id it dispatched; it loads each batch once and hands
the same objects to every local subscriber through a bounded queue. Because event ids become
visible in commit order, "everything after the last id" never skips an event."""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from kilas.db import complaints as complaints_db
from kilas.db import events as events_db
from kilas.db.pool import Connection
from kilas.db.rows import ComplaintRow, EventRow
from kilas.live.bus import EventBus

log = logging.getLogger("kilas.live")


@dataclass(frozen=True)
class EventFilter:
    complaint_id: int | None = None
    opd_id: int | None = None
    region_code: str | None = None
    status: str | None = None
    types: frozenset[str] | None = None

    def matches(self, event: EventRow) -> bool:
        return (
            (self.types is None or event.type in self.types)
            and (self.complaint_id is None or event.complaint_id == self.complaint_id)
            and (
                self.opd_id is None
                or event.opd_id == self.opd_id
                or event.from_opd_id == self.opd_id
            )
            and (self.region_code is None or event.region_code == self.region_code)
            and (self.status is None or event.to_status == self.status)
        )

    def columns(self) -> dict[str, Any]:
        """The filter as `db.events.matching_events_between` takes it."""
        return {
            "complaint_id": self.complaint_id,
            "opd_id": self.opd_id,
            "region_code": self.region_code,
            "status": self.status,
            "types": sorted(self.types) if self.types else None,
        }


@dataclass
class Batch:
    """Events loaded together; `shared` holds what the API layer caches for all subscribers."""

    complaints: dict[int, ComplaintRow]
    shared: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Delivery:
    event: EventRow
    batch: Batch

    @property
    def id(self) -> int:
        return self.event.id

    @property
    def complaint(self) -> ComplaintRow:
        return self.batch.complaints[self.event.complaint_id]


class SubscriberLagging(Exception):
    """The subscriber fell too far behind; it must resume from its last cursor."""


class Subscription:
    def __init__(self, event_filter: EventFilter, start: int, queue_size: int) -> None:
        self.filter = event_filter
        # Events with id <= start are in the log; the queue receives only ids above it.
        self.start = start
        self.queue: asyncio.Queue[Delivery | None] = asyncio.Queue(queue_size)
        self.lagging = False

    def offer(self, delivery: Delivery) -> None:
        if self.lagging:
            return
        try:
            self.queue.put_nowait(delivery)
        except asyncio.QueueFull:
            self.lagging = True

    async def next(self) -> Delivery | None:
        """The next delivery; None once the hub stopped; SubscriberLagging after an overflow."""
        if self.lagging and self.queue.empty():
            raise SubscriberLagging
        return await self.queue.get()


async def load_batch(conn: Connection, events: list[EventRow]) -> list[Delivery]:
    ids = sorted({e.complaint_id for e in events})
    complaints = {row.id: row for row in await complaints_db.complaints_by_ids(conn, ids)}
    batch = Batch(complaints)
    return [Delivery(event, batch) for event in events]


class EventHub:
    def __init__(
        self,
        pool: asyncpg.Pool,
        bus: EventBus,
        *,
        queue_size: int,
        poll_interval: float,
        batch_size: int = 500,
    ) -> None:
        # `queue_size` and `poll_interval` are settings (KILAS_SUBSCRIBER_QUEUE_SIZE,
        # KILAS_EVENT_POLL_INTERVAL), defaulted there only.
        self.pool = pool
        self.bus = bus
        self.queue_size = queue_size
        # One batch is handed out without a pause; kept below the queue size so that a burst
        # alone never overflows a subscriber that is keeping up.
        self.batch_size = max(1, min(batch_size, queue_size // 2))
        self.poll_interval = poll_interval
        self.last_id = 0
        self._subscriptions: set[Subscription] = set()
        self._wake = asyncio.Event()
        self._listeners: list[Callable[[list[Delivery]], None]] = []
        self._tasks: list[asyncio.Task[None]] = []
        # For the operators (ops/metrics.py): reads of the log that found events no hint had
        # announced (a hint lost on the bus), and each event's commit-to-delivery time.
        self.catch_ups = 0
        self.lag_observer: Callable[[float], None] | None = None

    async def start(self) -> None:
        async with self.pool.acquire() as conn:
            self.last_id = await events_db.last_event_id(conn)
        ready = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self._listen(ready), name="kilas-hub-listen"),
            asyncio.create_task(self._dispatch_loop(), name="kilas-hub-dispatch"),
        ]
        await ready.wait()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for sub in list(self._subscriptions):
            while not sub.queue.empty():
                sub.queue.get_nowait()
            sub.queue.put_nowait(None)

    def subscribe(self, event_filter: EventFilter) -> Subscription:
        # Synchronous on purpose: `start` and the set are consistent with the dispatch loop.
        sub = Subscription(event_filter, self.last_id, self.queue_size)
        self._subscriptions.add(sub)
        return sub

    def add_listener(self, listener: Callable[[list[Delivery]], None]) -> None:
        """Called (synchronously) with every batch dispatched, e.g. to mark live feeds dirty."""
        self._listeners.append(listener)

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscriptions.discard(sub)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)

    def poke(self) -> None:
        """Read the log now (a local commit needs no round trip through the bus)."""
        self._wake.set()

    async def _listen(self, ready: asyncio.Event) -> None:
        async with self.bus.subscribe() as subscriber:
            ready.set()
            while True:
                await subscriber.get()
                self._wake.set()

    async def _dispatch_loop(self) -> None:
        while True:
            # The poll is the safety net for a hint lost on the bus.
            # asyncio.timeout, not wait_for: 3.11's wait_for loses a cancellation that arrives
            # as the event is set (poke() then stop()), and the task never stops.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval):
                    await self._wake.wait()
            hinted = self._wake.is_set()
            self._wake.clear()
            try:
                if await self._drain() and not hinted:
                    self.catch_ups += 1
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("event dispatch failed; retrying")
                await asyncio.sleep(0.5)
                self._wake.set()

    async def _drain(self) -> int:
        """Hand out every event after the last one; return how many there were."""
        found = 0
        while True:
            async with self.pool.acquire() as conn:
                events = await events_db.events_after(
                    conn, self.last_id, self.batch_size, complaints_db.EVERYTHING
                )
                if not events:
                    return found
                deliveries = await load_batch(conn, events)
            found += len(events)
            # No await from here to the end of the loop: subscribe() sees a consistent last_id.
            for delivery in deliveries:
                for sub in self._subscriptions:
                    if sub.filter.matches(delivery.event):
                        sub.offer(delivery)
                self.last_id = delivery.id
            for listener in self._listeners:
                listener(deliveries)
            if self.lag_observer is not None:
                now = time.time()
                for delivery in deliveries:
                    self.lag_observer(max(0.0, now - delivery.event.recorded_at.timestamp()))
            if len(events) < self.batch_size:
                return found
