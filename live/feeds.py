"""Coalesced live feeds: a value recomputed at most once per interval while events arrive, and
only while someone subscribes, then handed to every local subscriber. A burst of a thousand
events costs one recomputation, not a thousand messages per subscriber."""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any, Generic, TypeVar

from kilas.db.performance import LeaderboardRow
from kilas.live.dashboard import DashboardScope

log = logging.getLogger("kilas.live")

T = TypeVar("T")

# A feed waits at least this many times as long as its last computation took before the next.
COST_FACTOR = 4.0


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
        # The first value while it is computed, for everyone who subscribes meanwhile.
        self._first: asyncio.Future[T] | None = None
        self._task: asyncio.Task[None] | None = None
        # Computations so far (a measure for tests and benchmarks: one per change, however
        # many subscribe).
        self.computations = 0
        # What the subscribers of the latest value share while they resolve it (`shared`).
        self._shared: tuple[T, dict[str, Any]] | None = None

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
            queue.put_nowait(
                self._latest if self._latest is not None else await self._first_value()
            )
            yield queue
        finally:
            self._subscribers.discard(queue)

    async def _first_value(self) -> T:
        """The value for a feed that has none yet, computed once for all who subscribe while it
        is (a wall of screens reconnecting at once costs one computation, not one each)."""
        if self._first is None:
            self._first = asyncio.ensure_future(self._compute_first())
        return await asyncio.shield(self._first)

    async def _compute_first(self) -> T:
        try:
            value = await self._computed()
            if self._latest is None and self._subscribers:
                self._latest = value
            return value
        finally:
            self._first = None

    async def _computed(self) -> T:
        self.computations += 1
        return await self._compute()

    def shared(self, value: T) -> dict[str, Any]:
        """A place that every subscriber resolving `value` shares (its loaders: one read of an
        OPD or a region per value, not one per subscriber), made anew for each value."""
        if self._shared is None or self._shared[0] is not value:
            self._shared = (value, {})
        return self._shared[1]

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        while self._subscribers:
            # Values that depend on the time (overdue now, today's intake) move without events.
            # asyncio.timeout, not wait_for (which, in 3.11, can lose a cancellation: live/hub.py).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(30):
                    await self._dirty.wait()
            self._dirty.clear()
            started = time.monotonic()
            try:
                value = await self._computed()
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
            # A costly value (a 365-day leaderboard takes about a second on a million
            # complaints) waits longer, so that no feed holds a database core more than 1/5th
            # of the time however busy the province is.
            spent = time.monotonic() - started
            await asyncio.sleep(max(self._interval, COST_FACTOR * spent))
        self._latest = None


class LiveFeeds:
    """The feeds of one process: the dashboard per scope, and the leaderboard per rolling
    window."""

    def __init__(
        self,
        *,
        interval: float,
        dashboard: Callable[[DashboardScope], Awaitable[Any]],
        leaderboard: Callable[[timedelta], Awaitable[list[LeaderboardRow]]],
    ) -> None:
        self._interval = interval
        self._dashboard = dashboard
        # One feed per scope asked for; scopes are checked to exist, so these stay few.
        self._dashboards: dict[DashboardScope, CoalescedFeed[Any]] = {}
        self._leaderboard = leaderboard
        self._leaderboards: dict[timedelta, CoalescedFeed[list[LeaderboardRow]]] = {}

    def dashboard(self, scope: DashboardScope = DashboardScope()) -> CoalescedFeed[Any]:
        feed = self._dashboards.get(scope)
        if feed is None:
            feed = self._dashboards[scope] = CoalescedFeed(
                lambda: self._dashboard(scope), interval=self._interval
            )
        return feed

    def leaderboard(self, window: timedelta) -> CoalescedFeed[list[LeaderboardRow]]:
        feed = self._leaderboards.get(window)
        if feed is None:
            # Pushed only when the ranking or a figure changed, not on every event.
            feed = self._leaderboards[window] = CoalescedFeed(
                lambda: self._leaderboard(window),
                interval=self._interval,
                changed=lambda old, new: old != new,
            )
        return feed

    def _feeds(self) -> list[CoalescedFeed[Any]]:
        return [*self._dashboards.values(), *self._leaderboards.values()]

    def on_events(self, *_: Any) -> None:
        for feed in self._feeds():
            feed.mark_dirty()

    async def stop(self) -> None:
        for feed in self._feeds():
            await feed.stop()
