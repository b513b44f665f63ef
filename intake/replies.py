"""The reply sender of every Kilas process: takes the outbox's due replies one at a time and
sends each through its platform's send API (channels/outbound.py). A reply is never sent twice:
it is marked SENDING, and that is committed, before the request leaves; only an answer from the
platform (or a connection that never opened) decides what follows. A refusal the platform may
overcome (429, 5xx, no connection) is tried again later; one it will not (another 4xx) is DEAD;
a request whose fate is unknown (a timeout after it left, a process that died while SENDING) is
UNCERTAIN and stays so: visible on the complaint, for a person to judge."""

import logging
from datetime import timedelta

import asyncpg
import httpx

from kilas.channels import Platform
from kilas.channels.outbound import Endpoints, Unanswerable, request, sent_id
from kilas.db import replies as replies_db
from kilas.db.replies import ReplyRow
from kilas.domain.clock import Clock
from kilas.live.periodic import Periodic, backoff

log = logging.getLogger("kilas.replies")

FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
# A SENDING reply older than this was left by a process that died (a send takes seconds).
ABANDONED_AFTER = timedelta(minutes=5)
SEND_TIMEOUT = httpx.Timeout(15.0, connect=5.0)
MAX_ERROR = 1000


def retry_delay(attempts: int) -> timedelta:
    return backoff(FIRST_RETRY, LONGEST_RETRY, attempts)


class ReplySender:
    def __init__(
        self,
        pool: asyncpg.Pool,
        clock: Clock,
        endpoints: Endpoints,
        *,
        max_attempts: int,
        poll_interval: float,
        timeout: httpx.Timeout = SEND_TIMEOUT,
    ) -> None:
        self.pool = pool
        self.clock = clock
        self.endpoints = endpoints
        self.max_attempts = max_attempts
        self.http = httpx.AsyncClient(timeout=timeout, trust_env=False)
        self._periodic = Periodic(
            "kilas-replies",
            self.drain,
            interval=poll_interval,
            log=log,
            failure="the reply outbox could not be read",
        )

    @property
    def platforms(self) -> list[str]:
        """The platforms replies can go out on: those whose token is configured. The others'
        replies wait, PENDING, until it is."""
        found = []
        if self.endpoints.meta_token:
            found += [Platform.WHATSAPP.value, Platform.INSTAGRAM.value, Platform.FACEBOOK.value]
        if self.endpoints.x_token:
            found.append(Platform.X.value)
        return found

    async def drain(self) -> int:
        """Send every reply due now; returns how many were taken (sent or failed)."""
        async with self.pool.acquire() as conn:
            await replies_db.abandon_stale_sends(conn, self.clock.now() - ABANDONED_AFTER)
        sent = 0
        while await self.send_one() is not None:
            sent += 1
        return sent

    async def send_one(self) -> ReplyRow | None:
        """The oldest due reply, sent (or failed); None when none is due."""
        now = self.clock.now()
        async with self.pool.acquire() as conn:
            # Committed before anything leaves: a crash from here on leaves it SENDING.
            reply = await replies_db.claim_due(conn, now, self.platforms)
        if reply is None:
            return None
        try:
            outbound = request(reply.platform, reply.reply_to, reply.text, self.endpoints)
        except Unanswerable as exc:
            await self._failed(reply, str(exc), retry=False)
            return reply
        try:
            response = await self.http.post(
                outbound.url,
                json=outbound.json,
                headers={"authorization": f"Bearer {outbound.token}"},
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            # The request never left.
            await self._failed(reply, f"no connection: {exc!r}", retry=True)
            return reply
        except httpx.HTTPError as exc:
            await self._failed(reply, f"no answer: {exc!r}", retry=False, uncertain=True)
            return reply
        if response.is_success:
            try:
                answer = response.json()
            except ValueError:
                answer = None
            async with self.pool.acquire() as conn:
                await replies_db.sent(
                    conn, reply.id, self.clock.now(), sent_id(reply.platform, answer)
                )
            return reply
        error = f"HTTP {response.status_code}: {response.text[:500]}"
        again = response.status_code == 429 or response.is_server_error
        await self._failed(reply, error, retry=again)
        return reply

    async def _failed(
        self, reply: ReplyRow, error: str, *, retry: bool, uncertain: bool = False
    ) -> None:
        final = not retry or reply.attempts >= self.max_attempts
        retry_at = None if final else self.clock.now() + retry_delay(reply.attempts)
        async with self.pool.acquire() as conn:
            await replies_db.failed(
                conn, reply.id, error[:MAX_ERROR], retry_at=retry_at, uncertain=uncertain
            )
        log.warning(
            "reply %s on %s (attempt %d) %s: %s",
            reply.id,
            reply.platform,
            reply.attempts,
            "uncertain" if uncertain else "dead" if final else f"retried at {retry_at}",
            error,
        )

    def start(self) -> None:
        self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()
        await self.http.aclose()
