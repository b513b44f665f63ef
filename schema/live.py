from datetime import datetime
from enum import Enum

import strawberry

from kilas.live.dashboard import DashboardData
from kilas.resolvers.context import Info
from kilas.schema.enums import Channel, ComplaintStatus
from kilas.schema.ids import wib
from kilas.schema.node import required
from kilas.schema.reference import Region


@strawberry.enum(description="A rolling window ending now.")
class LeaderboardWindow(Enum):
    LAST_7_DAYS = "LAST_7_DAYS"
    LAST_30_DAYS = "LAST_30_DAYS"
    LAST_90_DAYS = "LAST_90_DAYS"


WINDOW_DAYS = {
    LeaderboardWindow.LAST_7_DAYS: 7,
    LeaderboardWindow.LAST_30_DAYS: 30,
    LeaderboardWindow.LAST_90_DAYS: 90,
}


@strawberry.type
class StatusCount:
    status: ComplaintStatus
    count: int


@strawberry.type
class ChannelCount:
    channel: Channel
    count: int


@strawberry.type
class RegionCount:
    region_code: str
    count: int = strawberry.field(description="All complaints from the region.")
    open: int = strawberry.field(description="Not yet resolved or rejected.")

    @strawberry.field
    async def region(self, info: Info) -> Region:
        row = await info.context.loaders.region_by_code.load(self.region_code)
        return Region.from_row(required(row, f"region {self.region_code}"))


@strawberry.type(description="The province at a glance, for the command center's wall.")
class Dashboard:
    generated_at: datetime
    by_status: list[StatusCount]
    by_region: list[RegionCount]
    by_channel: list[ChannelCount]
    breaches_open_now: int = strawberry.field(
        description="Complaints an OPD holds past a deadline it has not met."
    )
    intake_today: int = strawberry.field(description="Complaints received since 00:00 WIB.")

    @classmethod
    def from_data(cls, data: DashboardData) -> "Dashboard":
        return cls(
            generated_at=wib(data.generated_at),
            by_status=[
                StatusCount(status=ComplaintStatus(s), count=n)
                for s, n in sorted(data.by_status.items())
            ],
            by_region=[
                RegionCount(region_code=code, count=n, open=data.open_by_region.get(code, 0))
                for code, n in sorted(data.by_region.items())
            ],
            by_channel=[
                ChannelCount(channel=Channel(c), count=n)
                for c, n in sorted(data.by_channel.items())
            ],
            breaches_open_now=data.breaches_open_now,
            intake_today=data.intake_today,
        )
