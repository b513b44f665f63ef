"""A background task of every Kilas process: one pass of some work now, then again after an
interval or as soon as something wakes it (the SLA sweeper, the channel inbox, the reply outbox).
A failing pass is logged and tried again at the next interval; it never ends the task."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta


class Periodic:
    def __init__(
        self,
        name: str,
        work: Callable[[], Awaitable[object]],
        *,
        interval: float,
        log: logging.Logger,
        failure: str,
    ) -> None:
        self.name = name
        self.work = work
        self.interval = interval
        self.log = log
        # What the log says when a pass fails ("… could not be read").
        self.failure = failure
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Run the next pass now rather than at the end of the interval."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.work()
            except asyncio.CancelledError:
                raise
            except Exception:
                self.log.exception("%s; trying again next interval", self.failure)
            # asyncio.timeout, not wait_for: 3.11's wait_for loses a cancellation that arrives
            # as the event is set (wake() then stop()), and the task never stops.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self._wake.wait()


def backoff(first: timedelta, longest: timedelta, attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure in a row: `first`, then twice as long each time,
    at most `longest` (however many failures: the doubling stops once it is past `longest`)."""
    doublings = min(max(attempts - 1, 0), 40)
    return min(first * 2**doublings, longest)
