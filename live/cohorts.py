"""Cohorts: subscribers of one live stream who would receive the same bytes share one execution.

Subscribers whose document, variables and caller's policy class and scope are equal form a
cohort (the API layer decides the key). A cohort holds one hub subscription; for each batch of
events it decides once which events its members may see, renders their payloads once (one SQL
statement, `Spec.render`), and hands the same texts to every member. Each member writes them to
its own socket through a bounded queue, from a task of its own while it has something to write
(an idle member holds no task), so one slow socket never delays the others: it overflows, and
ends with the cursor to resume from, as a lone subscriber would.

A member that resumes from a cursor first replays the log up to where its live queue begins.
Replays read the log once for everyone in the cohort whose cursor falls in a range already
read (a herd reconnecting after a restart), not once per member."""

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextvars import Context, ContextVar
from dataclasses import dataclass, field
from typing import Any

from kilas.db import events as events_db
from kilas.db.pool import Connection
from kilas.live.hub import Delivery, EventFilter, EventHub, SubscriberLagging, load_batch
from kilas.live.members import Ended, Member, Rendered, Writer

__all__ = ["Ended", "Member", "Rendered", "Writer"]

log = logging.getLogger("kilas.live")


# A replay's reads are kept this long for members whose cursor they cover, and this many at
# most (a member replaying a long history reads on; only the newest stay for the others).
REPLAY_KEEP_SECONDS = 10.0
REPLAY_READS_KEPT = 8
# Events a cohort renders in one statement, live or replayed.
BATCH = 500


class SocketOperation:
    """A graphql-transport-ws operation as its socket runs it: what it asked for, as sent; how
    to write a message of it to the socket; and, once it is a cohort's member, how it ends
    (guard/sockets.py makes one for each run of the operation)."""

    __slots__ = (
        "end",
        "ending",
        "id",
        "joined",
        "operation_name",
        "query",
        "send_text",
        "variables",
    )

    def __init__(
        self,
        id: str,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        send_text: Callable[[str], Awaitable[None]],
        end: Callable[[BaseException | None], None],
        ending: BaseException | None = None,
    ) -> None:
        self.id = id
        self.query = query
        self.variables = variables
        self.operation_name = operation_name
        self.send_text = send_text
        # Called once when the member's stream ends: with None when the hub stopped (the
        # operation completes), else with why (re-run with `ending`, it reports that error
        # exactly as the operation run on its own would).
        self.end = end
        # Set on a re-run of an operation whose member ended: the error to end it with.
        self.ending = ending
        # The member, once the operation has joined its cohort.
        self.joined: Member | None = None


class SocketWriter:
    """Writes a cohort's texts to one subscriber's socket as its operation's `next` messages,
    the same bytes for every member but the operation id; when the member's stream ends, tells
    the operation how (`SocketOperation.end`: None when the hub or feed stopped)."""

    __slots__ = ("operation", "prefix")

    def __init__(self, operation: SocketOperation) -> None:
        self.operation = operation
        self.prefix = '{"id":' + json.dumps(operation.id) + ',"type":"next","payload":'

    def message(self, text: str) -> str:
        return self.prefix + text + "}"

    async def write(self, text: str) -> None:
        await self.operation.send_text(self.message(text))

    def end(self, ended: Ended, cursor: int, error: Exception | None) -> None:
        self.operation.end(None if ended is Ended.HUB_STOPPED else error)


SOCKET_OPERATION: ContextVar[SocketOperation | None] = ContextVar(
    "kilas_socket_operation", default=None
)


class HandedOver(BaseException):
    """Raised out of an operation's execution once it has joined its cohort: its member writes
    its events from then on, and the operation's task, with strawberry's and graphql-core's
    frames, ends (an idle member holds no task). A BaseException, so that no layer in between
    reports it as the operation's error; guard/sockets.py catches it."""


@dataclass(frozen=True)
class Spec:
    """What a cohort runs, the same for each of its members."""

    filter: EventFilter
    # Whether the members may receive this event (one caller stands for all of them).
    may_see: Callable[[Delivery], bool]
    # The payloads of these deliveries (all visible), on this connection.
    render: Callable[[Connection, list[Delivery]], Awaitable[Rendered]]


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


class _Members:
    """Members gathered in a cohort, which ends when the last leaves."""

    members: set[Member]

    def leave(self, member: Member) -> None:
        if member not in self.members:
            return
        self.members.remove(member)
        if not self.members:
            self._dissolve()

    def _dissolve(self) -> None:
        raise NotImplementedError


class Cohort(_Members):
    def __init__(self, cohorts: "Cohorts", key: Hashable, spec: Spec) -> None:
        self.cohorts = cohorts
        self.key = key
        self.spec = spec
        self.members: set[Member] = set()
        self.sub = cohorts.hub.subscribe(spec.filter)
        self._reads: list[_Read] = []
        self._task = asyncio.create_task(self._run(), name="kilas-cohort")

    def join(self, after: int | None, writer: Writer) -> Member:
        member = Member(self, self.cohorts.hub.last_id, after, self.cohorts.queue_size, writer)
        self.members.add(member)
        return member

    def _dissolve(self) -> None:
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
            end = rows[-1].id if len(rows) == BATCH else read.up_to
            read.done.set_result((rendered, end))
        except asyncio.CancelledError:
            read.done.cancel()
            raise
        except Exception as error:
            read.done.set_exception(error)


class FeedCohort(_Members):
    """Subscribers of one live feed (the dashboard, the leaderboard) whose selection, variables
    and caller's policy class are equal: the feed's values are rendered once, by one execution
    of the selection (`source`, run in a task of the cohort's own), and each text is written
    to every member. A member that cannot keep up gets the newest value, as a lone subscriber
    would; a member that joins gets the latest value at once."""

    def __init__(
        self, cohorts: "Cohorts", key: Hashable, source: Callable[[], AsyncIterator[str]]
    ) -> None:
        self.cohorts = cohorts
        self.key = key
        self.members: set[Member] = set()
        self.latest: tuple[int, str] | None = None
        # Outside of any socket's operation: the source runs the selection itself.
        self._task = asyncio.create_task(
            self._run(source), name="kilas-feed-cohort", context=Context()
        )

    def join(self, writer: Writer) -> Member:
        member = Member(self, 0, None, 1, writer, latest_only=True)
        self.members.add(member)
        if self.latest is not None:
            member.offer(*self.latest)
        return member

    def _dissolve(self) -> None:
        self.cohorts._dissolve_feed(self)

    async def replay(self, after: int, up_to: int) -> AsyncIterator[Rendered]:
        raise AssertionError("a feed is not replayed")
        yield []

    def close(self) -> None:
        self._task.cancel()

    async def _run(self, source: Callable[[], AsyncIterator[str]]) -> None:
        sequence = 0
        try:
            async for text in source():
                sequence += 1
                self.latest = (sequence, text)
                for member in list(self.members):
                    member.offer(sequence, text)
        except Exception as error:
            # Each member's operation is run again to end with it (guard/sockets.py).
            self.end(error)
            return
        self.end()

    def end(self, error: Exception | None = None) -> None:
        """No more values: the members' operations complete, or end with `error`."""
        self.cohorts._dissolve_feed(self)
        for member in list(self.members):
            if error is None:
                member.stop()
            else:
                member.fail(error)


class Cohorts:
    """The cohorts of one process, by key."""

    def __init__(self, hub: EventHub) -> None:
        self.hub = hub
        self.queue_size = hub.queue_size
        self._cohorts: dict[Hashable, Cohort] = {}
        self._feeds: dict[Hashable, FeedCohort] = {}
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

    def join(
        self, key: Hashable, spec: Callable[[], Spec], after: int | None, writer: Writer
    ) -> Member:
        """A member of the cohort under `key` (made from `spec()` if there is none), resuming
        after the cursor `after` if given, writing to `writer` until it ends or leaves."""
        cohort = self._cohorts.get(key)
        if cohort is None:
            cohort = self._cohorts[key] = Cohort(self, key, spec())
        self.joined += 1
        return cohort.join(after, writer)

    def keep(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def join_feed(
        self, key: Hashable, source: Callable[[], AsyncIterator[str]], writer: Writer
    ) -> Member:
        """A member of the feed cohort under `key` (made, with `source` rendering the feed's
        values, if there is none), writing to `writer` until it ends or leaves."""
        cohort = self._feeds.get(key)
        if cohort is None:
            cohort = self._feeds[key] = FeedCohort(self, key, source)
        self.joined += 1
        return cohort.join(writer)

    @property
    def feed_cohorts(self) -> int:
        return len(self._feeds)

    def close(self) -> None:
        """At shutdown: the feed cohorts stop, and their members' operations complete (event
        cohorts end with the hub)."""
        for cohort in list(self._feeds.values()):
            cohort.end()

    def _dissolve_feed(self, cohort: FeedCohort) -> None:
        if self._feeds.get(cohort.key) is cohort:
            del self._feeds[cohort.key]
        if cohort._task is not asyncio.current_task():
            cohort.close()

    def _dissolve(self, cohort: Cohort) -> None:
        if self._cohorts.get(cohort.key) is cohort:
            del self._cohorts[cohort.key]
        cohort.close()
