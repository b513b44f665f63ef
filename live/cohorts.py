"""Cohorts: subscribers of one live stream who would receive the same bytes share one execution.

Subscribers whose document, variables and caller's policy class and scope are equal form a
cohort (the API layer decides the key). A cohort holds one hub subscription; for each batch of
events it decides once which events its members may see, renders their payloads once (one SQL
statement, `Spec.render`), and hands the same texts to every member. Each member writes them to
its own socket from its own task through a bounded queue, so one slow socket never delays the
others: it overflows, and ends with the cursor to resume from, as a lone subscriber would.

A member that resumes from a cursor first replays the log up to where its live queue begins.
Replays read the log once for everyone in the cohort whose cursor falls in a range already
read (a herd reconnecting after a restart), not once per member."""

import asyncio
import collections
import contextlib
import enum
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from kilas.db import events as events_db
from kilas.db.pool import Connection
from kilas.live.hub import Delivery, EventFilter, EventHub, SubscriberLagging, load_batch

log = logging.getLogger("kilas.live")

# (event id, payload text) of the events a cohort's members may see, in cursor order.
Rendered = list[tuple[int, str]]

# A replay's reads are kept this long for members whose cursor they cover, and this many at
# most (a member replaying a long history reads on; only the newest stay for the others).
REPLAY_KEEP_SECONDS = 10.0
REPLAY_READS_KEPT = 8
# Events a cohort renders in one statement, live or replayed.
BATCH = 500


@dataclass(frozen=True)
class SocketOperation:
    """A graphql-transport-ws operation as its socket runs it: what it asked for, as sent, and
    how to write a message of it to the socket (guard/sockets.py sets it for the operation's
    task)."""

    id: str
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None
    send_text: Callable[[str], Awaitable[None]]


SOCKET_OPERATION: ContextVar[SocketOperation | None] = ContextVar(
    "kilas_socket_operation", default=None
)


@dataclass(frozen=True)
class Spec:
    """What a cohort runs, the same for each of its members."""

    filter: EventFilter
    # Whether the members may receive this event (one caller stands for all of them).
    may_see: Callable[[Delivery], bool]
    # The payloads of these deliveries (all visible), on this connection.
    render: Callable[[Connection, list[Delivery]], Awaitable[Rendered]]


class Ended(enum.Enum):
    """Why a member's stream ended."""

    HUB_STOPPED = "hub stopped"
    LAGGING = "lagging"


class Member:
    """One subscriber of a cohort: its queue of texts to write, and where it stands."""

    __slots__ = (
        "_queue",
        "_wake",
        "after",
        "cohort",
        "cursor",
        "lagging",
        "queue_size",
        "start",
        "stopped",
    )

    def __init__(self, cohort: "Cohort", start: int, after: int | None, queue_size: int) -> None:
        self.cohort = cohort
        # Live events above `start` come through the queue; the log has the rest.
        self.start = start
        # The subscriber's own cursor: it has every event up to it already (it may be ahead
        # of this process's hub, which has not read the newest events yet).
        self.after = after
        self.cursor = start if after is None else max(start, after)
        self.queue_size = queue_size
        self._queue: collections.deque[tuple[int, str]] = collections.deque()
        self._wake: asyncio.Future[None] | None = None
        self.lagging = False
        self.stopped = False

    def offer(self, event_id: int, text: str) -> None:
        if event_id <= self.cursor or self.lagging:
            return
        if len(self._queue) >= self.queue_size:
            self.lagging = True
        else:
            self._queue.append((event_id, text))
        self._notify()

    def stop(self) -> None:
        self.stopped = True
        self._notify()

    def _notify(self) -> None:
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    async def stream(self) -> AsyncIterator[tuple[int, str]]:
        """(event id, payload text) to write, in cursor order: the replay after the member's
        own cursor, then live. Ends when the hub stops or the member overflowed (`ended`)."""
        if self.after is not None and self.after < self.start:
            async for rendered in self.cohort.replay(self.after, self.start):
                for event_id, text in rendered:
                    yield event_id, text
        while True:
            while self._queue:
                event_id, text = self._queue.popleft()
                yield event_id, text
                self.cursor = event_id
            if self.lagging or self.stopped:
                return
            self._wake = asyncio.get_running_loop().create_future()
            try:
                await self._wake
            finally:
                self._wake = None

    @property
    def ended(self) -> Ended:
        return Ended.LAGGING if self.lagging else Ended.HUB_STOPPED


@dataclass
class _Read:
    """One read of the log for replays: the visible events with after < id <= end."""

    after: int
    up_to: int
    made: float
    done: asyncio.Future[tuple[Rendered, int]] = field(repr=False)

    @property
    def end(self) -> int:
        """Up to where it covers (once done): `up_to`, or its last event if it filled up."""
        return self.done.result()[1] if self.done.done() else self.up_to


class Cohort:
    def __init__(self, cohorts: "Cohorts", key: Hashable, spec: Spec) -> None:
        self.cohorts = cohorts
        self.key = key
        self.spec = spec
        self.members: set[Member] = set()
        self.sub = cohorts.hub.subscribe(spec.filter)
        self._reads: list[_Read] = []
        self._task = asyncio.create_task(self._run(), name="kilas-cohort")

    def join(self, after: int | None) -> Member:
        member = Member(self, self.cohorts.hub.last_id, after, self.cohorts.queue_size)
        self.members.add(member)
        return member

    def leave(self, member: Member) -> None:
        self.members.discard(member)
        if not self.members:
            self.cohorts._dissolve(self)

    def close(self) -> None:
        self.cohorts.hub.unsubscribe(self.sub)
        self._task.cancel()

    async def _run(self) -> None:
        while True:
            try:
                first = await self.sub.next()
            except SubscriberLagging:
                # The cohort itself fell behind the hub: every member resumes from its cursor.
                self._end_all(lagging=True)
                return
            batch = [first]
            while first is not None and len(batch) < BATCH and not self.sub.queue.empty():
                batch.append(self.sub.queue.get_nowait())
            deliveries = [d for d in batch if d is not None]
            if deliveries:
                rendered = await self._render_live(deliveries)
                members = list(self.members)
                for event_id, text in rendered:
                    for member in members:
                        member.offer(event_id, text)
            if None in batch:  # the hub stopped
                self._end_all(lagging=False)
                return

    def _end_all(self, *, lagging: bool) -> None:
        # Whoever subscribes next starts a new cohort; these members end as they drain.
        self.cohorts._dissolve(self)
        for member in list(self.members):
            if lagging:
                member.lagging = True
            member.stop()

    async def _render_live(self, deliveries: list[Delivery]) -> Rendered:
        visible = [d for d in deliveries if self.spec.may_see(d)]
        if not visible:
            return []
        pause = 0.1
        while True:
            try:
                async with self.cohorts.hub.pool.acquire() as conn:
                    return await self.spec.render(conn, visible)
            except Exception:
                # No event is dropped: the members wait (and overflow, if it lasts).
                log.exception("rendering a cohort's events failed; retrying")
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)

    async def replay(self, after: int, up_to: int) -> AsyncIterator[Rendered]:
        """The visible events with after < id <= up_to, in batches, from reads shared with the
        cohort's other members."""
        while after < up_to:
            read = self._covering(after)
            if read is None:
                read = self._read(after)
            rendered, end = await asyncio.shield(read.done)
            if after < end:
                yield [(i, text) for i, text in rendered if after < i <= up_to]
                after = min(end, up_to)

    def _covering(self, after: int) -> _Read | None:
        now = time.monotonic()
        self._reads = [
            r
            for r in self._reads
            if now - r.made < REPLAY_KEEP_SECONDS
            and not (r.done.done() and (r.done.cancelled() or r.done.exception() is not None))
        ]
        for read in self._reads:
            if read.after <= after < read.end:
                return read
        return None

    def _read(self, after: int) -> _Read:
        # Up to the hub's head: it is at or past the start of every member that has joined.
        read = _Read(
            after,
            self.cohorts.hub.last_id,
            time.monotonic(),
            asyncio.get_running_loop().create_future(),
        )
        self._reads = [*self._reads[-(REPLAY_READS_KEPT - 1) :], read]
        self.cohorts.replay_reads += 1
        task = asyncio.create_task(self._fill(read), name="kilas-cohort-replay")
        self.cohorts.keep(task)
        return read

    async def _fill(self, read: _Read) -> None:
        try:
            async with self.cohorts.hub.pool.acquire() as conn:
                rows = await events_db.matching_events_between(
                    conn, read.after, read.up_to, **self.spec.filter.columns(), limit=BATCH
                )
                deliveries = await load_batch(conn, rows)
                visible = [d for d in deliveries if self.spec.may_see(d)]
                rendered = await self.spec.render(conn, visible) if visible else []
            end = int(rows[-1]["id"]) if len(rows) == BATCH else read.up_to
            read.done.set_result((rendered, end))
        except asyncio.CancelledError:
            read.done.cancel()
            raise
        except Exception as error:
            read.done.set_exception(error)


class Cohorts:
    """The cohorts of one process, by key."""

    def __init__(self, hub: EventHub) -> None:
        self.hub = hub
        self.queue_size = hub.queue_size
        self._cohorts: dict[Hashable, Cohort] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # Members that ever joined, and reads of the log for replays (measures for tests and
        # benchmarks).
        self.joined = 0
        self.replay_reads = 0

    def __len__(self) -> int:
        return len(self._cohorts)

    @property
    def subscriber_count(self) -> int:
        """Live event subscribers of this process: the cohorts' members and those on their own
        (each cohort holds one of the hub's subscriptions for all its members)."""
        cohorts = list(self._cohorts.values())
        members = sum(len(c.members) for c in cohorts)
        return self.hub.subscriber_count - len(cohorts) + members

    @contextlib.contextmanager
    def member(
        self, key: Hashable, spec: Callable[[], Spec], after: int | None
    ) -> Iterator[Member]:
        """A member of the cohort under `key` (made from `spec()` if there is none), resuming
        after the cursor `after` if given, until the block ends."""
        cohort = self._cohorts.get(key)
        if cohort is None:
            cohort = self._cohorts[key] = Cohort(self, key, spec())
        member = cohort.join(after)
        self.joined += 1
        try:
            yield member
        finally:
            cohort.leave(member)

    def keep(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _dissolve(self, cohort: Cohort) -> None:
        if self._cohorts.get(cohort.key) is cohort:
            del self._cohorts[cohort.key]
        cohort.close()
