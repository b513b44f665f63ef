"""uvicorn's server, stopping the way a load balancer needs: on SIGTERM `/ready` answers 503 at
once, and with a delay (`KILAS_SHUTDOWN_DELAY`) the instance keeps serving that long before it
stops accepting, so that the balancer's health checks take it out of rotation while it still
answers; then uvicorn's own shutdown (WebSockets closed with 1012, in-flight requests given
`KILAS_SHUTDOWN_GRACE`). A second signal during the delay stops at once."""

import logging
import time
from types import FrameType
from typing import Any

import uvicorn
from starlette.applications import Starlette

log = logging.getLogger("kilas")


class DrainingServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, app: Starlette, delay: float) -> None:
        super().__init__(config)
        self.app = app
        self.delay = delay
        self._stop_at: float | None = None
        self._signal: int | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        state: Any = getattr(self.app.state, "kilas", None)
        if state is not None:
            state.draining = True
        if self.delay > 0 and self._stop_at is None and not self.should_exit:
            self._stop_at, self._signal = time.monotonic() + self.delay, sig
            log.info("stopping in %g s: /ready answers 503 meanwhile", self.delay)
            return
        super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        due = self._stop_at is not None and time.monotonic() >= self._stop_at
        if self._signal is not None and due:
            # uvicorn re-raises the signal it captured once it has shut down.
            super().handle_exit(self._signal, None)
            self._signal = None
        return await super().on_tick(counter)
