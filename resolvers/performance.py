"""Root fields for SLA performance and OPD accountability over a period."""

from datetime import UTC, datetime
from typing import Annotated

import strawberry

from kilas.db import heads as heads_db
from kilas.db import performance as performance_db
from kilas.domain.errors import invalid
from kilas.resolvers.context import Info
from kilas.schema.performance import (
    AccountabilityMonth,
    HeadRecord,
    LeaderboardEntry,
    OpdPerformance,
    RegionPerformance,
    period,
)

From = Annotated[
    datetime,
    strawberry.argument(
        name="from",
        description="The start of the period (inclusive); a time without an offset is in WIB.",
    ),
]
To = Annotated[
    datetime,
    strawberry.argument(
        description="The end of the period (exclusive); a time without an offset is in WIB."
    ),
]


def now(info: Info) -> datetime:
    clock = getattr(info.context, "clock", None)
    return clock.now() if clock is not None else datetime.now(UTC)


@strawberry.field(
    description="SLA performance of every OPD over a period of assignments, including OPDs "
    "that received nothing."
)
async def opd_performance(
    info: Info,
    from_: From,
    to: To,
) -> list[OpdPerformance]:
    start, end = period(from_, to)
    async with info.context.pool.acquire() as conn:
        rows = await performance_db.opd_performance(conn, start, end, now(info))
    return [OpdPerformance.from_row(row) for row in rows]


@strawberry.field(description="SLA performance of the complaints of each of the 35 regions.")
async def region_performance(
    info: Info,
    from_: From,
    to: To,
) -> list[RegionPerformance]:
    start, end = period(from_, to)
    async with info.context.pool.acquire() as conn:
        rows = await performance_db.region_performance(conn, start, end, now(info))
    return [RegionPerformance.from_row(row) for row in rows]


@strawberry.field(
    description="The OPDs ranked by share of follow-ups within the SLA, then by median "
    "response time. An OPD that received fewer than `minSample` complaints is left out, so "
    "that one fast ticket does not top the board."
)
async def leaderboard(
    info: Info,
    from_: From,
    to: To,
    min_sample: Annotated[
        int | None,
        strawberry.argument(
            description="Fewest complaints received to be ranked; by default the server's setting."
        ),
    ] = None,
) -> list[LeaderboardEntry]:
    start, end = period(from_, to)
    if min_sample is None:
        min_sample = info.context.settings.leaderboard_min_sample
    elif min_sample < 1:
        raise invalid("minSample", "minSample must be at least 1")
    async with info.context.pool.acquire() as conn:
        rows = await performance_db.leaderboard(conn, start, end, now(info), min_sample)
    return [LeaderboardEntry.from_row(row) for row in rows]


@strawberry.field(
    description="Breaches and escalations per OPD, month (WIB) and head in a period, each "
    "under the head in office when it happened; only months in which an OPD had any, oldest "
    "first. SUPERVISOR only."
)
async def accountability(
    info: Info,
    from_: From,
    to: To,
) -> list[AccountabilityMonth]:
    start, end = period(from_, to)
    async with info.context.pool.acquire() as conn:
        rows = await performance_db.accountability(conn, start, end)
    return [AccountabilityMonth.from_row(row) for row in rows]


@strawberry.field(
    description="Each head's record in a period: every term of office that overlaps it (clean "
    "ones too), with the complaints the OPD received and the breaches and escalations it had "
    "while that head was in office; by OPD short name, then term. SUPERVISOR only."
)
async def head_accountability(
    info: Info,
    from_: From,
    to: To,
) -> list[HeadRecord]:
    start, end = period(from_, to)
    async with info.context.pool.acquire() as conn:
        rows = await heads_db.head_records(conn, start, end)
    return [HeadRecord.from_row(row) for row in rows]


QUERIES = [opd_performance, region_performance, leaderboard, accountability, head_accountability]
