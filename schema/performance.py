"""SLA performance over a period: per OPD, per region, the leaderboard and the accountability of
OPD heads. Built from the rows of db/performance.py and db/heads.py."""

from datetime import date, datetime, timedelta
from typing import TypedDict

import strawberry

from kilas.db.heads import HeadRecordRow
from kilas.db.performance import (
    AccountabilityRow,
    FiguresRow,
    LeaderboardRow,
    OpdPerformanceRow,
    RegionPerformanceRow,
)
from kilas.domain.errors import invalid
from kilas.resolvers.context import Info
from kilas.schema.ids import utc_moment, wib
from kilas.schema.node import required
from kilas.schema.reference import Opd, OpdHead, Region

# A leap year and a little: "the year 2028" given as [1 Jan 2028, 1 Jan 2029) must pass.
MAX_PERIOD = timedelta(days=366)


def period(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The period [start, end) in UTC, or INVALID_INPUT: `from` must come before `to`, at most
    a year apart (one pass over a year of complaints is what the queries are sized for)."""
    start, end = utc_moment(start, "from"), utc_moment(end, "to")
    if start >= end:
        raise invalid("to", "to must be later than from")
    if end - start > MAX_PERIOD:
        raise invalid("to", "the period must not be longer than one year")
    return start, end


class Figures(TypedDict):
    """PerformanceFigures' fields, as read from a row of db/performance.py."""

    received: int
    resolved: int
    backlog: int
    median_response_hours: float | None
    p90_response_hours: float | None
    median_resolution_hours: float | None
    p90_resolution_hours: float | None
    responses_decided: int
    responses_on_time: int
    response_sla_share: float | None
    breaches: int
    escalations: int
    average_rating: float | None
    ratings: int


@strawberry.type
class PerformanceFigures:
    received: int = strawberry.field(description="Complaints assigned to the unit in the period.")
    resolved: int = strawberry.field(description="Of those received, how many are resolved.")
    backlog: int = strawberry.field(
        description="Complaints of the unit open now (ASSIGNED or IN_PROGRESS), whatever the "
        "period."
    )
    median_response_hours: float | None = strawberry.field(
        description="Median hours from assignment to the first follow-up, of those followed up."
    )
    p90_response_hours: float | None = strawberry.field(
        description="90th percentile (interpolated) of the hours to the first follow-up."
    )
    median_resolution_hours: float | None = strawberry.field(
        description="Median hours from assignment to resolution, of those resolved."
    )
    p90_resolution_hours: float | None = strawberry.field(
        description="90th percentile (interpolated) of the hours to resolution."
    )
    responses_decided: int = strawberry.field(
        description="Received complaints whose response clock is decided: followed up, or past "
        "the deadline without a follow-up."
    )
    responses_on_time: int = strawberry.field(
        description="Of those, followed up by the response deadline."
    )
    response_sla_share: float | None = strawberry.field(
        description="responsesOnTime / responsesDecided, 0 to 1; null when nothing is decided."
    )
    breaches: int = strawberry.field(
        description="SLA breaches (response and resolution clocks) recorded in the period while "
        "the unit held the complaint."
    )
    escalations: int = strawberry.field(description="Escalations recorded in the period.")
    average_rating: float | None = strawberry.field(
        description="Average reporter rating (1-5) of the complaints received and rated."
    )
    ratings: int = strawberry.field(description="How many received complaints were rated.")

    @staticmethod
    def figures(row: FiguresRow) -> Figures:
        return {
            "received": row.received,
            "resolved": row.resolved,
            "backlog": row.backlog,
            "median_response_hours": row.median_response_hours,
            "p90_response_hours": row.p90_response_hours,
            "median_resolution_hours": row.median_resolution_hours,
            "p90_resolution_hours": row.p90_resolution_hours,
            "responses_decided": row.responses_decided,
            "responses_on_time": row.responses_on_time,
            "response_sla_share": row.response_sla_share,
            "breaches": row.breaches,
            "escalations": row.escalations,
            "average_rating": row.average_rating,
            "ratings": row.ratings,
        }


@strawberry.type
class OpdFigures(PerformanceFigures):
    opd_db_id: strawberry.Private[int]

    @strawberry.field
    async def opd(self, info: Info) -> Opd:
        return Opd.from_row(await info.context.loaders.opd_by_id.load(self.opd_db_id))


@strawberry.type(description="How one OPD performed over a period.")
class OpdPerformance(OpdFigures):
    @classmethod
    def from_row(cls, row: OpdPerformanceRow) -> "OpdPerformance":
        return cls(opd_db_id=row.opd_id, **cls.figures(row))


@strawberry.type(description="The complaints of one regency or city over a period.")
class RegionPerformance(PerformanceFigures):
    region_code: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: RegionPerformanceRow) -> "RegionPerformance":
        return cls(region_code=row.region_code, **cls.figures(row))

    @strawberry.field
    async def region(self, info: Info) -> Region:
        row = await info.context.loaders.region_by_code.load(self.region_code)
        return Region.from_row(required(row, f"region {self.region_code}"))


@strawberry.type(description="An OPD's place on the leaderboard.")
class LeaderboardEntry(OpdFigures):
    rank: int = strawberry.field(
        description="1 is the fastest: highest responseSlaShare, then lowest "
        "medianResponseHours; ranks never tie."
    )

    @classmethod
    def from_row(cls, row: LeaderboardRow) -> "LeaderboardEntry":
        return cls(rank=row.rank, opd_db_id=row.opd_id, **cls.figures(row))


@strawberry.type(
    description="What one OPD answered for in one month (WIB) under one head: its SLA breaches "
    "and the escalations they led to while that head was in office. A month in which the head "
    "changed has an entry for each."
)
class AccountabilityMonth:
    opd_db_id: strawberry.Private[int]
    head_db_id: strawberry.Private[int | None]
    month: date = strawberry.field(description="The first day of the month, in WIB.")
    breaches: int
    response_breaches: int
    resolution_breaches: int
    escalations: int
    escalations_to_opd_head: int = strawberry.field(description="Escalations to level 1.")
    escalations_to_command_center: int = strawberry.field(
        description="Escalations to level 2: the command center / Inspektorat."
    )
    escalations_to_governor_office: int = strawberry.field(
        description="Escalations to level 3: the governor's office."
    )

    @classmethod
    def from_row(cls, row: AccountabilityRow) -> "AccountabilityMonth":
        return cls(
            opd_db_id=row.opd_id,
            head_db_id=row.head_id,
            month=row.month,
            breaches=row.breaches,
            response_breaches=row.response_breaches,
            resolution_breaches=row.resolution_breaches,
            escalations=row.escalations,
            escalations_to_opd_head=row.escalations_level1,
            escalations_to_command_center=row.escalations_level2,
            escalations_to_governor_office=row.escalations_level3,
        )

    @strawberry.field
    async def opd(self, info: Info) -> Opd:
        return Opd.from_row(await info.context.loaders.opd_by_id.load(self.opd_db_id))

    @strawberry.field(
        description="The head in office when the breaches and escalations happened; null while "
        "the post was vacant."
    )
    async def head(self, info: Info) -> OpdHead | None:
        if self.head_db_id is None:
            return None
        row = await info.context.loaders.head_by_id.load(self.head_db_id)
        return OpdHead.from_row(required(row, f"head {self.head_db_id}"))


@strawberry.type(
    description="One head's record over a period: what the OPD answered for while they held "
    "office within it."
)
class HeadRecord:
    head_db_id: strawberry.Private[int]
    opd_db_id: strawberry.Private[int]
    from_: datetime = strawberry.field(
        name="from", description="The start of the part of the period the head was in office."
    )
    to: datetime = strawberry.field(description="Its end (exclusive).")
    received: int = strawberry.field(
        description="Complaints assigned to the OPD in that time, as opdPerformance counts them."
    )
    breaches: int = strawberry.field(description="SLA breaches of the OPD in that time.")
    response_breaches: int
    resolution_breaches: int
    escalations: int
    escalations_to_opd_head: int = strawberry.field(
        description="Escalations to level 1: to this head."
    )
    escalations_to_command_center: int = strawberry.field(
        description="Escalations to level 2: the command center / Inspektorat."
    )
    escalations_to_governor_office: int = strawberry.field(
        description="Escalations to level 3: the governor's office."
    )

    @classmethod
    def from_row(cls, row: HeadRecordRow) -> "HeadRecord":
        return cls(
            head_db_id=row.head_id,
            opd_db_id=row.opd_id,
            from_=wib(row.period_start),
            to=wib(row.period_end),
            received=row.received,
            breaches=row.breaches,
            response_breaches=row.response_breaches,
            resolution_breaches=row.resolution_breaches,
            escalations=row.escalations,
            escalations_to_opd_head=row.escalations_level1,
            escalations_to_command_center=row.escalations_level2,
            escalations_to_governor_office=row.escalations_level3,
        )

    @strawberry.field
    async def head(self, info: Info) -> OpdHead:
        row = await info.context.loaders.head_by_id.load(self.head_db_id)
        return OpdHead.from_row(required(row, f"head {self.head_db_id}"))

    @strawberry.field
    async def opd(self, info: Info) -> Opd:
        return Opd.from_row(await info.context.loaders.opd_by_id.load(self.opd_db_id))
