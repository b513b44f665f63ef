from datetime import date, datetime
from decimal import Decimal

import asyncpg
import strawberry

from kilas.auth.policy import can_see_complaint
from kilas.resolvers.context import Info
from kilas.schema.complaints import Complaint
from kilas.schema.enums import ProgrammeStatus
from kilas.schema.ids import to_global_id, wib
from kilas.schema.node import GeoPoint, Node, PageInfo
from kilas.schema.reference import Opd, Region


def _plain(value: Decimal) -> Decimal:
    # asyncpg returns round numerics in exponent form (1.500E+11); clients expect digits.
    return Decimal(format(value, "f"))


@strawberry.type(
    description="A provincial programme (GRMS-like), e.g. the road-repair programme "
    "'Jalan Cantik', successor of 'Jateng Tanpa Lubang'. Amounts are in rupiah (IDR)."
)
class Programme(Node):
    db_id: strawberry.Private[int]
    code: str
    name: str
    description: str
    fiscal_year: int
    budget_idr: Decimal
    realisation_idr: Decimal
    target: Decimal
    achievement: Decimal
    unit: str = strawberry.field(description="Unit of target and achievement, e.g. km.")
    status: ProgrammeStatus
    updated_at: datetime
    owner_opd_db_id: strawberry.Private[int]
    predecessor_db_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> "Programme":
        return cls(
            id=strawberry.ID(to_global_id("Programme", row["id"])),
            db_id=row["id"],
            code=row["code"],
            name=row["name"],
            description=row["description"],
            fiscal_year=row["fiscal_year"],
            budget_idr=_plain(row["budget_idr"]),
            realisation_idr=_plain(row["realisation_idr"]),
            target=_plain(row["target"]),
            achievement=_plain(row["achievement"]),
            unit=row["unit"],
            status=ProgrammeStatus(row["status"]),
            updated_at=wib(row["updated_at"]),
            owner_opd_db_id=row["owner_opd_id"],
            predecessor_db_id=row["predecessor_id"],
        )

    @strawberry.field(description="Realisation as a share of the budget, in percent.")
    def absorption_pct(self) -> float:
        return float(self.realisation_idr / self.budget_idr * 100) if self.budget_idr else 0.0

    @strawberry.field(description="Achievement as a share of the target, in percent.")
    def achievement_pct(self) -> float:
        return float(self.achievement / self.target * 100) if self.target else 0.0

    @strawberry.field
    async def owner(self, info: Info) -> Opd:
        return Opd.from_row(await info.context.loaders.opd_by_id.load(self.owner_opd_db_id))

    @strawberry.field(description="The programme this one continues.")
    async def predecessor(self, info: Info) -> "Programme | None":
        if self.predecessor_db_id is None:
            return None
        row = await info.context.loaders.programme_by_id.load(self.predecessor_db_id)
        return Programme.from_row(row) if row else None

    @strawberry.field(description="Programmes that continue this one.")
    async def successors(self, info: Info) -> list["Programme"]:
        rows = await info.context.loaders.successors_by_programme_id.load(self.db_id)
        return [Programme.from_row(row) for row in rows]

    @strawberry.field
    async def work_items(self, info: Info) -> list["WorkItem"]:
        rows = await info.context.loaders.work_items_by_programme_id.load(self.db_id)
        return [WorkItem.from_row(row) for row in rows]


@strawberry.type(description="A located piece of a programme's work, e.g. a road segment.")
class WorkItem(Node):
    db_id: strawberry.Private[int]
    name: str
    road_segment: str | None
    location: GeoPoint | None
    length_km: Decimal | None
    progress_pct: Decimal
    status: ProgrammeStatus
    planned_start: date | None
    planned_end: date | None
    updated_at: datetime
    programme_db_id: strawberry.Private[int]
    region_code: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> "WorkItem":
        return cls(
            id=strawberry.ID(to_global_id("WorkItem", row["id"])),
            db_id=row["id"],
            name=row["name"],
            road_segment=row["road_segment"],
            location=GeoPoint(lat=row["lat"], lon=row["lon"]) if row["lat"] is not None else None,
            length_km=_plain(row["length_km"]) if row["length_km"] is not None else None,
            progress_pct=_plain(row["progress_pct"]),
            status=ProgrammeStatus(row["status"]),
            planned_start=row["planned_start"],
            planned_end=row["planned_end"],
            updated_at=wib(row["updated_at"]),
            programme_db_id=row["programme_id"],
            region_code=row["region_code"],
        )

    @strawberry.field
    async def programme(self, info: Info) -> Programme:
        row = await info.context.loaders.programme_by_id.load(self.programme_db_id)
        assert row is not None
        return Programme.from_row(row)

    @strawberry.field
    async def region(self, info: Info) -> Region:
        row = await info.context.loaders.region_by_code.load(self.region_code)
        assert row is not None
        return Region.from_row(row)

    @strawberry.field(description="Complaints linked to this work item that the caller may see.")
    async def linked_complaints(self, info: Info) -> list[Complaint]:
        rows = await info.context.loaders.complaints_by_work_item_id.load(self.db_id)
        caller = info.context.caller
        return [Complaint.from_row(row) for row in rows if can_see_complaint(caller, row)]


@strawberry.type
class ProgrammeEdge:
    cursor: str
    node: Programme


@strawberry.type
class ProgrammeConnection:
    edges: list[ProgrammeEdge]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[Programme]:
        return [edge.node for edge in self.edges]
