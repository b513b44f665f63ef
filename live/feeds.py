"""Coalesced live feeds: a value recomputed at most once per interval while events arrive, and
only while someone subscribes, then handed to every local subscriber. A burst of a thousand
events costs one recomputation, not a thousand messages per subscriber."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any, Generic, TypeVar

log = logging.getLogger("kilas.live")

T = TypeVar("T")


class CoalescedFeed(Generic[T]):
    def __init__(
        self,
        compute: Callable[[], Awaitable[T]],
        *,
        interval: float,
        changed: Callable[[T | None, T], bool] = lambda old, new: True,
    ) -> None:
        self._compute = compute
        self._interval = interval
        self._changed = changed
        self._dirty = asyncio.Event()
        self._subscribers: set[asyncio.Queue[T]] = set()
        self._latest: T | None = None
        self._task: asyncio.Task[None] | None = None

    def mark_dirty(self, *_: Any) -> None:
        if self._subscribers:
            self._dirty.set()

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[T]]:
        # A queue of one: a subscriber that is slow only ever misses intermediate values.
        queue: asyncio.Queue[T] = asyncio.Queue(maxsize=1)
        self._subscribers.add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="kilas-feed")
        try:
            if self._latest is None:
                self._latest = await self._compute()
            queue.put_nowait(self._latest)
            yield queue
        finally:
            self._subscribers.discard(queue)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while self._subscribers:
            # Values that depend on the time (overdue now, today's intake) move without events.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._dirty.wait(), timeout=30)
            self._dirty.clear()
            try:
                value = await self._compute()
            except Exception:
                log.exception("live feed computation failed")
                await asyncio.sleep(self._interval)
                continue
            if self._changed(self._latest, value):
                self._latest = value
                for queue in list(self._subscribers):
                    if queue.full():
                        queue.get_nowait()
                    queue.put_nowait(value)
            # The coalescing: whatever arrives meanwhile is folded into the next computation.
            await asyncio.sleep(self._interval)
        self._latest = None


class LiveFeeds:
    """The feeds of one process: the dashboard, and the leaderboard per rolling window."""

    def __init__(
        self,
        *,
        interval: float,
        dashboard: Callable[[], Awaitable[Any]],
        leaderboard: Callable[[timedelta], Awaitable[list[Any]]],
    ) -> None:
        self._interval = interval
        self.dashboard: CoalescedFeed[Any] = CoalescedFeed(dashboard, interval=interval)
        self._leaderboard = leaderboard
        self._leaderboards: dict[timedelta, CoalescedFeed[list[Any]]] = {}

    def leaderboard(self, window: timedelta) -> CoalescedFeed[list[Any]]:
        feed = self._leaderboards.get(window)
        if feed is None:
            # Pushed only when the ranking or a figure changed, not on every event.
            feed = self._leaderboards[window] = CoalescedFeed(
                lambda: self._leaderboard(window),
                interval=self._interval,
                changed=lambda old, new: old != new,
            )
        return feed

    def on_events(self, *_: Any) -> None:
        self.dashboard.mark_dirty()
        for feed in self._leaderboards.values():
            feed.mark_dirty()

    async def stop(self) -> None:
        await self.dashboard.stop()
        for feed in self._leaderboards.values():
            await feed.stop()
