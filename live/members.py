"""A member of a cohort (live/cohorts.py): one subscriber's texts still to write to its socket,
written at once when the socket takes them and from a task of its own only while it has to
wait, and where it stands (its cursor), so that a slow socket never delays the others."""

import asyncio
import collections
import enum
from collections.abc import AsyncIterator, Coroutine
from typing import Any, Protocol

# (event id, payload text) of the events a cohort's members may see, in cursor order.
Rendered = list[tuple[int, str]]


class Home(Protocol):
    """The cohort a member belongs to."""

    def leave(self, member: "Member") -> None: ...

    def replay(self, after: int, up_to: int) -> AsyncIterator[Rendered]: ...


class Ended(enum.Enum):
    """Why a member's stream ended."""

    HUB_STOPPED = "hub stopped"
    LAGGING = "lagging"
    # Writing failed (`Writer.write` raised: the socket closed, the credential ended).
    FAILED = "failed"
    # The member left (its operation completed, its socket closed).
    LEFT = "left"


class Writer(Protocol):
    """Where a member's texts go."""

    async def write(self, text: str) -> None: ...

    def end(self, ended: Ended, cursor: int, error: Exception | None) -> None:
        """Called once, when the member's stream ends other than by leaving."""


class Member:
    """One subscriber of a cohort: its texts still to write, and where it stands. Writes from a
    task of its own only while it has something to write: an idle member is this object."""

    __slots__ = (
        "_pending",
        "_queue",
        "_task",
        "after",
        "cohort",
        "cursor",
        "ended",
        "lagging",
        "latest_only",
        "queue_size",
        "start",
        "stopped",
        "writer",
    )

    def __init__(
        self,
        cohort: Home,
        start: int,
        after: int | None,
        queue_size: int,
        writer: Writer,
        *,
        latest_only: bool = False,
    ) -> None:
        self.cohort = cohort
        # Live events above `start` come through the queue; the log has the rest.
        self.start = start
        # The subscriber's own cursor: it has every event up to it already (it may be ahead
        # of this process's hub, which has not read the newest events yet).
        self.after = after if after is not None and after < start else None
        self.cursor = start if after is None else max(start, after)
        self.queue_size = queue_size
        # A full queue keeps the newest text (a feed's latest value) instead of overflowing.
        self.latest_only = latest_only
        self.writer = writer
        self._queue: collections.deque[tuple[int, str]] | None = None
        self._task: asyncio.Task[None] | None = None
        # A write begun at once that has to wait (its rest, and its event's id).
        self._pending: tuple[Coroutine[Any, Any, None], int] | None = None
        self.lagging = False
        self.stopped = False
        self.ended: Ended | None = None
        if self.after is not None:  # the replay first
            self._write_soon()

    def offer(self, event_id: int, text: str) -> None:
        if event_id <= self.cursor or self.lagging or self.ended is not None:
            return
        if self._task is None and not self._queue:
            self._write_now(event_id, text)
            return
        if self._queue is None:
            self._queue = collections.deque()
        if len(self._queue) < self.queue_size:
            self._queue.append((event_id, text))
        elif self.latest_only:  # a feed's subscriber only ever misses intermediate values
            self._queue.clear()
            self._queue.append((event_id, text))
        else:
            self.lagging = True
        self._write_soon()

    def stop(self) -> None:
        self.stopped = True
        self._write_soon()

    def leave(self) -> None:
        """Ends the member from outside (its operation completed, its socket closed): nothing
        more is written, and the writer is not told."""
        if self.ended is None:
            self.ended = Ended.LEFT
            self.cohort.leave(self)
        self._abandon_writes()

    def fail(self, error: Exception) -> None:
        """Ends the member with `error` (what its cohort runs failed), writing nothing more."""
        self._abandon_writes()
        self._end(Ended.FAILED, error)

    def _abandon_writes(self) -> None:
        task = self._task
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        if self._pending is not None:  # a write its task never got to finish
            self._pending[0].close()
            self._pending = None

    def _write_soon(self) -> None:
        if self._task is None and self.ended is None:
            self._task = asyncio.create_task(self._write(), name="kilas-cohort-member")

    def _write_now(self, event_id: int, text: str) -> None:
        """Writes in the caller's turn when the socket takes it at once (most writes): no task,
        no wake-up. A write that has to wait is finished by the member's task."""
        try:
            rest = run_eagerly(self.writer.write(text))
        except Exception as error:
            self._end(Ended.FAILED, error)
            return
        if rest is None:
            self.cursor = event_id
        else:
            self._pending = (rest, event_id)
            self._task = asyncio.create_task(self._write())

    async def _write(self) -> None:
        """Finishes a write begun by `_write_now`, writes the replay after the member's own
        cursor, then what the queue holds, in cursor order; ends the member when the hub
        stopped or it overflowed."""
        try:
            if self._pending is not None:
                (rest, event_id), self._pending = self._pending, None
                await rest
                self.cursor = event_id
            if self.after is not None:
                after, self.after = self.after, None
                async for rendered in self.cohort.replay(after, self.start):
                    for _, text in rendered:
                        await self.writer.write(text)
            while self._queue:
                event_id, text = self._queue.popleft()
                await self.writer.write(text)
                self.cursor = event_id
        except Exception as error:
            self._task = None
            self._end(Ended.FAILED, error)
            return
        self._task = None
        if self.lagging:
            self._end(Ended.LAGGING, None)
        elif self.stopped:
            self._end(Ended.HUB_STOPPED, None)

    def _end(self, ended: Ended, error: Exception | None) -> None:
        if self.ended is not None:
            return
        self.ended = ended
        self.cohort.leave(self)
        self.writer.end(ended, self.cursor, error)


def run_eagerly(coro: Coroutine[Any, Any, None]) -> Coroutine[Any, Any, None] | None:
    """Runs `coro` at once, in the caller's turn of the event loop, as Python 3.12's eager
    tasks do: None when it completed without waiting (an exception it raised propagates);
    otherwise a coroutine that finishes it, for a task to await."""
    try:
        waiting = coro.send(None)
    except StopIteration:
        return None
    return _finish(coro, waiting)


async def _finish(coro: Coroutine[Any, Any, None], waiting: Any) -> None:
    """Drives `coro`, suspended on `waiting` (a future, or None for a bare yield), to its end,
    passing it each result, exception or cancellation as a task would."""
    try:
        while True:
            try:
                if waiting is None:
                    await asyncio.sleep(0)
                else:
                    # What a task does with the future its coroutine yields, before waiting on
                    # it: a future still marked as awaited refuses to be awaited again.
                    waiting._asyncio_future_blocking = False
                    await waiting
            except BaseException as error:  # the coroutine decides what its await raises
                waiting = coro.throw(error)
            else:
                waiting = coro.send(None)
    except StopIteration:
        return
    finally:
        coro.close()
