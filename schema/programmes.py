from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry

from kilas.db.programmes import ProgrammeRow, WorkItemRow
from kilas.resolvers.context import Info
from kilas.schema.complaints import Complaint, visible_complaint
from kilas.schema.enums import ProgrammeStatus
from kilas.schema.federation import BY_ID, by_id
from kilas.schema.ids import to_global_id, wib
from kilas.schema.node import GeoPoint, Node, PageInfo, required
from kilas.schema.reference import Opd, Region


@strawberry.type(
    description="A provincial programme (GRMS-like), e.g. the road-repair programme "
    "'Jalan Cantik', successor of 'Jateng Tanpa Lubang'. Amounts are in rupiah (IDR), exact "
    "Decimal strings; percentages are Float numbers.",
    directives=BY_ID,
)
class Programme(Node):
    @classmethod
    async def resolve_reference(cls, info: Info, id: Any = None, **_: Any) -> "Programme | None":
        """A federation gateway's reference to one, by the rules of `node(id:)`."""
        found: Programme | None = await by_id(info, "Programme", id)
        return found

    db_id: strawberry.Private[int]
    code: str
    name: str
    description: str
    fiscal_year: int
    budget_idr: Decimal = strawberry.field(description="The budget (pagu) in rupiah, exact.")
    realisation_idr: Decimal = strawberry.field(description="Spent so far in rupiah, exact.")
    target: Decimal = strawberry.field(description="What the programme is to achieve, in `unit`.")
    achievement: Decimal = strawberry.field(description="Achieved so far, in `unit`.")
    unit: str = strawberry.field(description="Unit of target and achievement, e.g. km.")
    status: ProgrammeStatus
    updated_at: datetime
    owner_opd_db_id: strawberry.Private[int]
    predecessor_db_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: ProgrammeRow) -> "Programme":
        return cls(
            id=strawberry.ID(to_global_id("Programme", row.id)),
            db_id=row.id,
            code=row.code,
            name=row.name,
            description=row.description,
            fiscal_year=row.fiscal_year,
            budget_idr=row.budget_idr,
            realisation_idr=row.realisation_idr,
            target=row.target,
            achievement=row.achievement,
            unit=row.unit,
            status=ProgrammeStatus(row.status),
            updated_at=wib(row.updated_at),
            owner_opd_db_id=row.owner_opd_id,
            predecessor_db_id=row.predecessor_id,
        )

    @strawberry.field(
        description="Realisation as a share of the budget, in percent: a number, e.g. 43.5."
    )
    def absorption_pct(self) -> float:
        return float(self.realisation_idr / self.budget_idr * 100) if self.budget_idr else 0.0

    @strawberry.field(
        description="Achievement as a share of the target, in percent: a number, e.g. 70.0."
    )
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


@strawberry.type(
    description="A located piece of a programme's work, e.g. a road segment.", directives=BY_ID
)
class WorkItem(Node):
    @classmethod
    async def resolve_reference(cls, info: Info, id: Any = None, **_: Any) -> "WorkItem | None":
        """A federation gateway's reference to one, by the rules of `node(id:)`."""
        found: WorkItem | None = await by_id(info, "WorkItem", id)
        return found

    db_id: strawberry.Private[int]
    name: str
    road_segment: str | None
    location: GeoPoint | None
    length_km: Decimal | None = strawberry.field(description="Length in kilometres, exact.")
    # A percentage, so a JSON number like every other (see schema/decimals.py); stored exactly
    # as numeric(5, 2), so the float is that value's nearest.
    progress_pct: float = strawberry.field(
        description="Progress in percent, 0 to 100: a number, e.g. 70.0 (not a string)."
    )
    status: ProgrammeStatus
    planned_start: date | None
    planned_end: date | None
    updated_at: datetime
    programme_db_id: strawberry.Private[int]
    region_code: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: WorkItemRow) -> "WorkItem":
        lat, lon = row.lat, row.lon  # both or neither (migration 0004)
        return cls(
            id=strawberry.ID(to_global_id("WorkItem", row.id)),
            db_id=row.id,
            name=row.name,
            road_segment=row.road_segment,
            location=GeoPoint(lat=lat, lon=lon) if lat is not None and lon is not None else None,
            length_km=row.length_km,
            progress_pct=float(row.progress_pct),
            status=ProgrammeStatus(row.status),
            planned_start=row.planned_start,
            planned_end=row.planned_end,
            updated_at=wib(row.updated_at),
            programme_db_id=row.programme_id,
            region_code=row.region_code,
        )

    @strawberry.field
    async def programme(self, info: Info) -> Programme:
        row = await info.context.loaders.programme_by_id.load(self.programme_db_id)
        return Programme.from_row(required(row, f"programme {self.programme_db_id}"))

    @strawberry.field
    async def region(self, info: Info) -> Region:
        row = await info.context.loaders.region_by_code.load(self.region_code)
        return Region.from_row(required(row, f"region {self.region_code}"))

    @strawberry.field(description="Complaints linked to this work item that the caller may see.")
    async def linked_complaints(self, info: Info) -> list[Complaint]:
        rows = await info.context.loaders.complaints_by_work_item_id.load(self.db_id)
        return [c for c in (visible_complaint(info, row) for row in rows) if c is not None]


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
