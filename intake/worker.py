"""The inbox worker of every Kilas process: takes the channel deliveries due, one per
transaction, and turns their messages into complaints (take_in), publishing the events after the
commit. A delivery is claimed with SKIP LOCKED, so several instances share the inbox without
taking the same one twice; a process killed mid-way leaves its delivery PENDING (the transaction
never committed), and it is taken again. A delivery that fails is retried later and later, and
after `max_attempts` it is DEAD: listed for operators, who replay it once the cause is fixed."""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from kilas.channels import DeliveryError, parse_delivery
from kilas.channels.parse import GENERIC
from kilas.db import inbox
from kilas.db import reference as reference_db
from kilas.db.duplicates import Search
from kilas.db.inbox import DeliveryRow
from kilas.db.pool import Connection
from kilas.db.rows import EventRow
from kilas.domain.clock import Clock
from kilas.domain.sla import SlaRules
from kilas.intake.regions import RegionCache
from kilas.intake.take_in import take_in
from kilas.live.bus import EventBus
from kilas.live.hub import EventHub
from kilas.live.periodic import Periodic, backoff
from kilas.live.publish import announce_committed, notify_in_transaction

log = logging.getLogger("kilas.intake")

# The inbox's platform column names the route; the generic route's is stored as INTAKE.
INTAKE = "INTAKE"
FIRST_RETRY = timedelta(seconds=10)
LONGEST_RETRY = timedelta(hours=1)
MAX_ERROR = 2000


def parser_platform(stored: str) -> str:
    return GENERIC if stored == INTAKE else stored


def retry_delay(attempts: int) -> timedelta:
    """After the `attempts`-th failure: 10 s, 20 s, 40 s … at most an hour."""
    return backoff(FIRST_RETRY, LONGEST_RETRY, attempts)


@dataclass(frozen=True)
class Processed:
    delivery_id: int
    # None: the delivery failed (see the row's last_error).
    events: list[EventRow] | None


class InboxWorker:
    def __init__(
        self,
        pool: asyncpg.Pool,
        bus: EventBus,
        hub: EventHub,
        clock: Clock,
        rules: SlaRules,
        *,
        default_region: str,
        aliases: Mapping[str, str] | None = None,
        duplicates: Search,
        max_attempts: int,
        poll_interval: float,
    ) -> None:
        self.pool = pool
        self.bus = bus
        self.hub = hub
        self.clock = clock
        self.rules = rules
        self.default_region = default_region
        self.duplicates = duplicates
        self.max_attempts = max_attempts
        self._periodic = Periodic(
            "kilas-inbox",
            self.drain,
            interval=poll_interval,
            log=log,
            failure="the channel inbox could not be read",
        )
        self._regions = RegionCache(default_region, aliases)

    def wake(self) -> None:
        """A delivery was stored: look now rather than at the next poll."""
        self._periodic.wake()

    async def drain(self) -> int:
        """Process every delivery due now; returns how many were taken (done or failed)."""
        taken = 0
        while await self.process_one() is not None:
            taken += 1
        return taken

    async def process_one(self) -> Processed | None:
        """The oldest due delivery, processed in one transaction; None when none is due."""
        now = self.clock.now()
        async with self.pool.acquire() as conn, conn.transaction():
            delivery = await inbox.claim_due(conn, now)
            if delivery is None:
                return None
            try:
                # A savepoint: a failure undoes the delivery's complaints, not its claim.
                async with conn.transaction():
                    events, counts = await self._process(conn, delivery, now)
            except Exception as exc:
                await self._failed(conn, delivery, exc, now)
                return Processed(delivery.id, None)
            await inbox.finish(conn, delivery.id, now, **counts)
            await notify_in_transaction(self.bus, conn, events)
        await announce_committed(self.bus, self.hub, events)
        return Processed(delivery.id, events)

    async def _process(
        self, conn: Connection, delivery: DeliveryRow, now: datetime
    ) -> tuple[list[EventRow], dict[str, int]]:
        parsed = parse_delivery(parser_platform(delivery.platform), delivery.body)
        regions = await self._regions.finder(lambda: reference_db.all_regions(conn))
        events: list[EventRow] = []
        created = known = 0
        for message in parsed.messages:
            taken = await take_in(
                conn,
                message,
                delivery_id=delivery.id,
                regions=regions,
                rules=self.rules,
                now=now,
                duplicates=self.duplicates,
            )
            events.extend(taken.events)
            created += taken.created
            known += not taken.created
        return events, {"created": created, "known": known, "ignored": parsed.ignored}

    async def _failed(
        self, conn: Connection, delivery: DeliveryRow, exc: Exception, now: datetime
    ) -> None:
        attempts = delivery.attempts + 1
        # A body no parser reads fails the same way every time: dead at once.
        final = attempts >= self.max_attempts or isinstance(exc, DeliveryError)
        error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
        retry_at = None if final else now + retry_delay(attempts)
        await inbox.fail(conn, delivery.id, error, retry_at=retry_at)
        if final:
            log.error(
                "channel delivery %s is dead after %d attempts: %s", delivery.id, attempts, error
            )
        else:
            log.warning(
                "channel delivery %s failed (attempt %d), retried at %s: %s",
                delivery.id,
                attempts,
                retry_at,
                error,
                exc_info=not isinstance(exc, DeliveryError),
            )

    def start(self) -> None:
        self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()
