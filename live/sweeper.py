"""The SLA sweeper: a background task of every Kilas process. It writes each SLA event once
even when several instances sweep the same database (see domain.sla.record_next_mark)."""

import logging
from collections import Counter
from datetime import datetime

import asyncpg

from kilas.db import sla as sla_db
from kilas.domain.clock import Clock
from kilas.domain.sla import SlaRules
from kilas.domain.workflow import record_next_mark
from kilas.live.bus import EventBus
from kilas.live.hub import EventHub
from kilas.live.periodic import Periodic
from kilas.live.publish import run_and_publish

log = logging.getLogger("kilas.sla")

BATCH = 500


class SlaSweeper:
    def __init__(
        self,
        pool: asyncpg.Pool,
        bus: EventBus,
        hub: EventHub,
        clock: Clock,
        rules: SlaRules,
        *,
        interval: float,
    ) -> None:
        self.pool = pool
        self.bus = bus
        self.hub = hub
        self.clock = clock
        self.rules = rules
        # For the operators (ops/metrics.py): passes made, and the events they wrote by type
        # (at risk, breached, escalated, auto-closed).
        self.sweeps = 0
        self.written: Counter[str] = Counter()
        self._periodic = Periodic(
            "kilas-sla-sweeper",
            self._sweep_and_log,
            interval=interval,
            log=log,
            failure="SLA sweep failed",
        )

    async def sweep(self) -> int:
        """One pass at the clock's current time; returns the number of events written."""
        now = self.clock.now()
        written = 0
        after_id = 0
        while True:
            async with self.pool.acquire() as conn:
                ids = await sla_db.sweep_candidates(
                    conn,
                    now,
                    at_risk_share=self.rules.at_risk_share,
                    auto_close_after=self.rules.auto_close_after,
                    escalation_delays=self.rules.escalation_delays,
                    after_id=after_id,
                    limit=BATCH,
                )
            for complaint_id in ids:
                written += await self._settle(complaint_id, now)
                after_id = complaint_id
            if len(ids) < BATCH:
                self.sweeps += 1
                return written

    async def _settle(self, complaint_id: int, now: datetime) -> int:
        # One mark per transaction, until none is due: a complaint the sweeper has not seen for
        # days may owe a breach, then an escalation that follows from it.
        written = 0
        while True:
            outcome = await run_and_publish(
                self.pool,
                self.bus,
                self.hub,
                lambda conn: record_next_mark(conn, complaint_id, now, self.rules),
            )
            if outcome.event is None:
                return written
            self.written[str(outcome.event.type)] += 1
            written += 1

    async def _sweep_and_log(self) -> None:
        written = await self.sweep()
        if written:
            log.info("SLA sweep wrote %d events", written)

    def start(self) -> None:
        self._periodic.start()

    async def stop(self) -> None:
        await self._periodic.stop()
