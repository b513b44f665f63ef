"""The webhook sender of every Kilas process. Each endpoint is one stream: the events of the log
after its cursor that its filter matches and its partner key may see (the rule of the key's
`complaintEvents` subscription), sent one at a time, in cursor order, signed (partners/
signing.py). The cursor moves past an event only once the endpoint has answered 2xx, so a
partner receives every event at least once, and a retry carries the same `webhook-id`.

One instance at a time sends to an endpoint: it claims the endpoint with a lease, renews the
lease before every request and moves the cursor only while it holds it; a process that dies
mid-turn leaves the lease to expire, and the next instance starts from the cursor. A refused or
unanswered request is retried later and later (5 s, 10 s, 20 s … at most an hour, with
jitter), from the same event; an endpoint failing for longer than `disable_after` is disabled
with the reason, until its partner or ADMIN enables it again (from any cursor)."""

import logging
import random
import time
import uuid
from datetime import datetime, timedelta

import asyncpg
import httpx

from kilas.auth.authenticator import key_caller, key_standing
from kilas.auth.caller import Caller
from kilas.auth.policy import can_see_complaint, event_scope
from kilas.db import api_keys as api_keys_db
from kilas.db import events as events_db
from kilas.db import reference as reference_db
from kilas.db import webhooks as webhooks_db
from kilas.db.pool import Connection
from kilas.db.webhooks import LeasedEndpointRow
from kilas.domain.clock import Clock
from kilas.live.hub import Delivery, EventFilter, load_batch
from kilas.live.periodic import Periodic, backoff
from kilas.partners import signing
from kilas.partners.payload import Names, event_body
from kilas.partners.urls import UrlRefused, check_destination

log = logging.getLogger("kilas.webhooks")

FIRST_RETRY = timedelta(seconds=5)
LONGEST_RETRY = timedelta(hours=1)
LEASE = timedelta(seconds=60)
# How long the delivery log keeps a request, and how often it is pruned.
KEEP_DELIVERIES = timedelta(days=30)
PRUNE_EVERY_SECONDS = 3600.0
BATCH = 200
# Events one endpoint is sent in one turn before the others get theirs.
TURN = 500
MAX_ERROR = 1000
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def retry_delay(attempts: int, jitter: float = 1.0) -> timedelta:
    """After the `attempts`-th failure in a row: 5 s, 10 s, 20 s … at most an hour, times
    `jitter` (0.5 to 1: endpoints failing together do not retry together)."""
    return backoff(FIRST_RETRY, LONGEST_RETRY, attempts) * jitter


def endpoint_filter(endpoint: LeasedEndpointRow) -> EventFilter:
    return EventFilter(
        complaint_id=endpoint.filter_complaint_id,
        opd_id=endpoint.filter_opd_id,
        region_code=endpoint.filter_region_code,
        status=endpoint.filter_status,
    )


class WebhookSender:
    def __init__(
        self,
        pool: asyncpg.Pool,
        clock: Clock,
        *,
        production: bool,
        disable_after: timedelta,
        poll_interval: float,
        timeout: httpx.Timeout = TIMEOUT,
    ) -> None:
        self.pool = pool
        self.clock = clock
        self.production = production
        self.disable_after = disable_after
        # Which instance holds a lease: this process, for its lifetime.
        self.owner = f"{uuid.uuid4()}"
        self._pruned_at: float | None = None
        self.http = httpx.AsyncClient(timeout=timeout, trust_env=False, follow_redirects=False)
        self._periodic = Periodic(
            "kilas-webhooks",
            self.drain,
            interval=poll_interval,
            log=log,
            failure="the webhook endpoints could not be read",
        )

    def wake(self) -> None:
        """New events were committed: send them now rather than at the next poll."""
        self._periodic.wake()

    def start(self) -> None:
        self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()
        await self.http.aclose()

    async def drain(self) -> int:
        """A turn for every endpoint due now; returns how many events were delivered."""
        await self._prune()
        delivered = 0
        names: Names | None = None
        # Each endpoint once: one that is up to date is due again at the next pass.
        seen: list[int] = []
        while True:
            async with self.pool.acquire() as conn:
                endpoint = await webhooks_db.claim_due(
                    conn, self.owner, self.clock.now(), LEASE, seen
                )
                if endpoint is not None and names is None:
                    names = await _names(conn)
            if endpoint is None:
                return delivered
            assert names is not None
            seen.append(endpoint.id)
            delivered += await self._turn(endpoint, names)

    async def _prune(self) -> None:
        """The delivery log keeps 30 days (checked at most once an hour per instance)."""
        mono = time.monotonic()
        if self._pruned_at is not None and mono - self._pruned_at < PRUNE_EVERY_SECONDS:
            return
        self._pruned_at = mono
        async with self.pool.acquire() as conn:
            gone = await webhooks_db.prune_deliveries(conn, self.clock.now() - KEEP_DELIVERIES)
        if gone:
            log.info("webhook delivery log: %d requests older than 30 days forgotten", gone)

    async def _turn(self, endpoint: LeasedEndpointRow, names: Names) -> int:
        """Send one endpoint what it is due, until it is up to date, fails, or has had a turn's
        worth; then let the lease go."""
        async with self.pool.acquire() as conn:
            key = await api_keys_db.key_by_id(conn, endpoint.api_key_id)
            refusal = key_standing(key, self.clock.now())
            if refusal is not None:
                await webhooks_db.disable(
                    conn, endpoint.id, f"{refusal}: its webhooks stop", self.clock.now()
                )
                log.warning("webhook endpoint %s disabled: %s", endpoint.id, refusal)
                return 0
        assert key is not None
        caller = key_caller(key)
        cursor = endpoint.cursor
        delivered = 0
        attempts = endpoint.failed_attempts
        matching = endpoint_filter(endpoint).columns()
        while delivered < TURN:
            async with self.pool.acquire() as conn:
                last = await events_db.last_event_id(conn)
                rows = await events_db.matching_events_between(
                    conn, cursor, last, **matching, limit=BATCH
                )
                batch = await load_batch(conn, rows)
            for delivery in batch:
                if can_see_complaint(caller, event_scope(delivery.event, delivery.complaint)):
                    if not await self._send(endpoint, caller, delivery, names, attempts + 1):
                        return delivered
                    delivered += 1
                    attempts = 0
                else:
                    async with self.pool.acquire() as conn:
                        if not await webhooks_db.advance(
                            conn, endpoint.id, self.owner, delivery.id
                        ):
                            return delivered
                cursor = delivery.id
            if len(rows) < BATCH:
                # Up to date: whatever lies between the last match and `last` matches nothing.
                async with self.pool.acquire() as conn:
                    if last > cursor:
                        await webhooks_db.advance(conn, endpoint.id, self.owner, last)
                    await webhooks_db.release(conn, endpoint.id, self.owner, self.clock.now())
                return delivered
        async with self.pool.acquire() as conn:
            await webhooks_db.release(conn, endpoint.id, self.owner, self.clock.now())
        return delivered

    async def _send(
        self,
        endpoint: LeasedEndpointRow,
        caller: Caller,
        delivery: Delivery,
        names: Names,
        attempt: int,
    ) -> bool:
        """One event to one endpoint; True when it answered 2xx and the cursor moved past it."""
        now = self.clock.now()
        async with self.pool.acquire() as conn:
            if not await webhooks_db.renew(conn, endpoint.id, self.owner, now, LEASE):
                return False  # another instance has it now, or it was disabled
        body = event_body(delivery.event, delivery.complaint, caller, names)
        message_id = signing.message_id(endpoint.id, delivery.id)
        headers = signing.headers(endpoint.secret, message_id, int(now.timestamp()), body)
        headers["content-type"] = "application/json"
        status: int | None = None
        error: str | None = None
        started = time.perf_counter()
        try:
            await check_destination(endpoint.url, production=self.production)
            response = await self.http.post(endpoint.url, content=body, headers=headers)
            status = response.status_code
            if not response.is_success:
                error = f"HTTP {status}: {response.text[:300]}"
        except UrlRefused as exc:
            error = f"refused: {exc}"
        except httpx.HTTPError as exc:
            error = f"no answer: {exc!r}"
        latency = (time.perf_counter() - started) * 1000
        try:
            return await self._recorded(
                endpoint, delivery, message_id, attempt, now, status, error, latency
            )
        except asyncpg.ForeignKeyViolationError:
            return False  # the endpoint was deleted while its request was out

    async def _recorded(
        self,
        endpoint: LeasedEndpointRow,
        delivery: Delivery,
        message_id: str,
        attempt: int,
        now: datetime,
        status: int | None,
        error: str | None,
        latency: float,
    ) -> bool:
        """The request in the delivery log, and the cursor past it if it was answered 2xx."""
        async with self.pool.acquire() as conn, conn.transaction():
            await webhooks_db.record_delivery(
                conn,
                endpoint_id=endpoint.id,
                event_id=delivery.id,
                message_id=message_id,
                attempt=attempt,
                attempted_at=now,
                status_code=status,
                error=error[:MAX_ERROR] if error else None,
                latency_ms=latency,
                succeeded=error is None,
            )
            if error is None:
                return await webhooks_db.advance(conn, endpoint.id, self.owner, delivery.id)
            await self._failed(conn, endpoint, error, attempt)
        return False

    async def _failed(
        self, conn: Connection, endpoint: LeasedEndpointRow, error: str, attempt: int
    ) -> None:
        now = self.clock.now()
        retry_at = now + retry_delay(attempt, random.uniform(0.5, 1.0))
        row = await webhooks_db.failed(
            conn, endpoint.id, self.owner, error[:MAX_ERROR], now, retry_at
        )
        if row is None or row.failing_since is None:
            return
        if now - row.failing_since >= self.disable_after:
            reason = (
                f"failing since {row.failing_since.isoformat()} ({row.failed_attempts} "
                f"attempts); last: {error[:300]}"
            )
            await webhooks_db.disable(conn, endpoint.id, reason, now)
            log.error("webhook endpoint %s disabled: %s", endpoint.id, reason)
        else:
            log.warning(
                "webhook endpoint %s (attempt %d) retried at %s: %s",
                endpoint.id,
                attempt,
                retry_at,
                error,
            )


async def _names(conn: Connection) -> Names:
    return Names(
        opds={row.id: row for row in await reference_db.all_opds(conn)},
        regions={row.code: row for row in await reference_db.all_regions(conn)},
        categories={row.code: row for row in await reference_db.all_categories(conn)},
    )
