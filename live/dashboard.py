"""The command center's live dashboard: counts by status, region and channel, breaches open
now and today's intake; province-wide, or narrowed to one OPD and/or region."""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import asyncpg

from kilas.db import dashboard as dashboard_db
from kilas.db import dashboard_scoped
from kilas.domain.clock import Clock

OPEN = ("RECEIVED", "ASSIGNED", "IN_PROGRESS")
_WIB = timezone(timedelta(hours=7))


@dataclass(frozen=True)
class DashboardScope:
    """The complaints an OPD holds now, of one region, or both; neither is the whole province."""

    opd_id: int | None = None
    region_code: str | None = None

    @property
    def province(self) -> bool:
        return self.opd_id is None and self.region_code is None


@dataclass(frozen=True)
class DashboardData:
    generated_at: datetime
    by_status: dict[str, int]
    by_region: dict[str, int]
    open_by_region: dict[str, int]
    by_channel: dict[str, int]
    breaches_open_now: int
    intake_today: int


def start_of_day_wib(moment: datetime) -> datetime:
    local = moment.astimezone(_WIB)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


async def compute_dashboard(
    pool: asyncpg.Pool, clock: Clock, scope: DashboardScope = DashboardScope()
) -> DashboardData:
    now = clock.now()
    today = start_of_day_wib(now)
    async with pool.acquire() as conn:
        if scope.province:
            rows = await dashboard_db.counts(conn)
            breaches = await dashboard_db.breaches_open_now(conn, now)
            intake = await dashboard_db.intake_since(conn, today)
        else:
            opd_id, region_code = scope.opd_id, scope.region_code
            rows = await dashboard_scoped.counts(conn, opd_id, region_code)
            breaches = await dashboard_scoped.breaches_open_now(conn, now, opd_id, region_code)
            intake = await dashboard_scoped.intake_since(conn, today, opd_id, region_code)
    by_status: Counter[str] = Counter()
    by_region: Counter[str] = Counter()
    open_by_region: Counter[str] = Counter()
    by_channel: Counter[str] = Counter()
    for row in rows:
        by_status[row.status] += row.n
        by_region[row.region_code] += row.n
        by_channel[row.channel] += row.n
        if row.status in OPEN:
            open_by_region[row.region_code] += row.n
    return DashboardData(
        generated_at=now,
        by_status=dict(by_status),
        by_region=dict(by_region),
        open_by_region=dict(open_by_region),
        by_channel=dict(by_channel),
        breaches_open_now=breaches,
        intake_today=intake,
    )
