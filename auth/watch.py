"""The open WebSockets of this instance, grouped by the credential each was opened with, and
closed with 4403 once that credential stops being valid: an API key revoked or past its expiry,
a token past its `exp`. One task checks every group every WATCH_EVERY_SECONDS, with one query
for all the keys in use, however many sockets share them; a socket that sends nothing is closed
on time as surely as a busy one."""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from kilas.auth.authenticator import Authenticator
from kilas.auth.caller import Caller
from kilas.domain.clock import Clock

log = logging.getLogger("kilas.auth")

# A revoked key's sockets close within this (and a query) of the revocation: well inside the
# KEY_CACHE_SECONDS after which HTTP refuses the key too.
WATCH_EVERY_SECONDS = 2.0
# The close code of a socket whose credential was refused, at connection_init or later.
CREDENTIAL_REFUSED = 4403

# Closes one socket, with a reason for the close frame.
Close = Callable[[str], Awaitable[None]]
# A socket's credential: its API key (if any) and when it expires (if ever).
_Credential = tuple[int | None, datetime | None]


class Watched:
    """One socket's place in the watch; `end()` it however the socket ends."""

    __slots__ = ("close", "credential", "watch")

    def __init__(self, watch: "CredentialWatch", credential: _Credential, close: Close) -> None:
        self.watch = watch
        self.credential = credential
        self.close = close

    def end(self) -> None:
        self.watch._forget(self)


class CredentialWatch:
    def __init__(self, authenticator: Authenticator, clock: Clock) -> None:
        self.authenticator = authenticator
        self._clock = clock
        self._sockets: dict[_Credential, set[Watched]] = {}
        self._task: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[None]] = set()

    @property
    def socket_count(self) -> int:
        return sum(len(sockets) for sockets in self._sockets.values())

    def watch(self, caller: Caller, close: Close) -> Watched | None:
        """Watch a socket of this caller; None for a credential that cannot end (the public)."""
        if caller.api_key_id is None and caller.expires_at is None:
            return None
        watched = Watched(self, (caller.api_key_id, caller.expires_at), close)
        self._sockets.setdefault(watched.credential, set()).add(watched)
        return watched

    def _forget(self, watched: Watched) -> None:
        sockets = self._sockets.get(watched.credential)
        if sockets is not None:
            sockets.discard(watched)
            if not sockets:
                del self._sockets[watched.credential]

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="kilas-credential-watch")

    async def stop(self) -> None:
        for task in [self._task, *self._closing]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(WATCH_EVERY_SECONDS)
            try:
                await self.check()
            except Exception as error:  # the next round tries again
                log.warning("the open sockets' credentials were not checked: %s", error)

    async def check(self) -> None:
        """Close every socket whose credential has ended."""
        if not self._sockets:
            return
        key_ids = {key_id for key_id, _ in self._sockets if key_id is not None}
        ended_keys = await self.authenticator.ended_keys(key_ids) if key_ids else {}
        now = self._clock.now()
        for credential in list(self._sockets):
            key_id, expires_at = credential
            if expires_at is not None and now >= expires_at:
                why = "expired"
            elif key_id is not None and key_id in ended_keys:
                why = ended_keys[key_id]
            else:
                continue
            for watched in self._sockets.pop(credential, ()):
                # Each in its own task: a client slow to take its close frame holds up no other.
                task = asyncio.create_task(_close(watched.close, f"credential {why}"))
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)


async def _close(close: Close, reason: str) -> None:
    with contextlib.suppress(Exception):  # the socket may be closing already
        await close(reason)
