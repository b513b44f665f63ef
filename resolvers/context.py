from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import asyncpg
import strawberry

from kilas.auth.authenticator import Authenticator
from kilas.auth.caller import Caller, public
from kilas.domain.clock import Clock
from kilas.live.bus import EventBus
from kilas.live.cohorts import Cohorts
from kilas.live.feeds import LiveFeeds
from kilas.live.hub import EventHub
from kilas.resolvers.loaders import Loaders

if TYPE_CHECKING:
    from kilas.settings import Settings

# Set by a subscription for the event it is about to yield, so that the fields of that event
# resolve through loaders shared by every subscriber of the batch, not a connection-long cache.
_event_loaders: ContextVar[Loaders | None] = ContextVar("kilas_event_loaders", default=None)


def use_event_loaders(loaders: Loaders) -> None:
    _event_loaders.set(loaders)


@dataclass
class Context:
    pool: asyncpg.Pool
    bus: EventBus
    hub: EventHub
    feeds: LiveFeeds
    settings: "Settings"
    clock: Clock
    request: Any = None
    caller: Caller = field(default_factory=public)
    authenticator: Authenticator | None = None
    # Set by strawberry from a WebSocket's connection_init payload.
    connection_params: dict[str, Any] | None = None
    # Answer queries through the compiled read path (compiler/); the HTTP view sets it from
    # KILAS_COMPILED_READS. Off, strawberry resolves every field (the compiler's oracle).
    compiled_reads: bool = False
    # Event-stream subscribers who would receive the same bytes share one execution
    # (live/cohorts.py); None: each subscriber's selection is executed on its own.
    cohorts: Cohorts | None = None
    # Where a mutation's payload objects are, while the compiled path reads them back
    # (schema/readback.py): (mutation key, payload key) → (row id, tracking number presented).
    read_back: dict[tuple[Any, ...], tuple[int, bool]] | None = field(default=None, repr=False)
    _loaders: Loaders | None = field(default=None, repr=False)
    _personal_data_reads: Any = field(default=None, repr=False)

    @property
    def actor(self) -> str:
        """Who events record as having acted: "public", "jwt:<sub>" or "key:<id>"."""
        return self.caller.subject

    @property
    def loaders(self) -> Loaders:
        shared = _event_loaders.get()
        if shared is not None:
            return shared
        if self._loaders is None:
            self._loaders = Loaders(self.pool, self.clock)
        return self._loaders


Info = strawberry.Info[Context, None]
