from datetime import datetime

import strawberry

from kilas.db.reference import (
    CategoryRow,
    OpdRow,
    PolicyCategoryHoursRow,
    RegionRow,
    SlaPolicyRow,
    SocialAccountRow,
)
from kilas.resolvers.context import Info
from kilas.schema.enums import OpdKind, RegionType, SocialPlatform
from kilas.schema.ids import to_global_id, wib
from kilas.schema.node import GeoPoint, Node, required


@strawberry.type(
    description="One of the 35 regencies (kabupaten) and cities (kota) of Central Java."
)
class Region(Node):
    code: str = strawberry.field(description="Kemendagri code, e.g. 33.74 for Kota Semarang.")
    name: str
    type: RegionType
    seat: str = strawberry.field(description="The seat (ibu kota) of the regency or city.")
    seat_location: GeoPoint

    @classmethod
    def from_row(cls, row: RegionRow) -> "Region":
        return cls(
            id=strawberry.ID(to_global_id("Region", row.code)),
            code=row.code,
            name=row.name,
            type=RegionType(row.type),
            seat=row.seat,
            seat_location=GeoPoint(lat=row.seat_lat, lon=row.seat_lon),
        )

    @strawberry.field(description="Complaints in this region not yet resolved or rejected.")
    async def open_complaints(self, info: Info) -> int:
        return await info.context.loaders.open_count_by_region_code.load(self.code)


@strawberry.type
class OpdHead:
    name: str
    title: str | None


@strawberry.type(description="An official social-media account of an OPD.")
class SocialAccount(Node):
    platform: SocialPlatform
    handle: str
    verified: bool = strawberry.field(description="The platform's verified mark (blue tick).")
    db_id: strawberry.Private[int]
    opd_db_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: SocialAccountRow) -> "SocialAccount":
        return cls(
            id=strawberry.ID(to_global_id("SocialAccount", row.id)),
            db_id=row.id,
            platform=SocialPlatform(row.platform),
            handle=row.handle,
            verified=row.verified,
            opd_db_id=row.opd_id,
        )

    @strawberry.field
    async def opd(self, info: Info) -> "Opd":
        return Opd.from_row(await info.context.loaders.opd_by_id.load(self.opd_db_id))


@strawberry.type(description="A provincial work unit (Organisasi Perangkat Daerah).")
class Opd(Node):
    db_id: strawberry.Private[int]
    slug: str
    short_name: str
    name: str
    kind: OpdKind
    head: OpdHead | None
    updated_at: datetime

    @classmethod
    def from_row(cls, row: OpdRow | None) -> "Opd":
        row = required(row, "OPD")
        head = OpdHead(name=row.head_name, title=row.head_title) if row.head_name else None
        return cls(
            id=strawberry.ID(to_global_id("Opd", row.id)),
            db_id=row.id,
            slug=row.slug,
            short_name=row.short_name,
            name=row.name,
            kind=OpdKind(row.kind),
            head=head,
            updated_at=wib(row.updated_at),
        )

    @strawberry.field
    async def social_accounts(self, info: Info) -> list[SocialAccount]:
        rows = await info.context.loaders.social_accounts_by_opd_id.load(self.db_id)
        return [SocialAccount.from_row(row) for row in rows]

    @strawberry.field(description="Categories this OPD handles by default.")
    async def categories(self, info: Info) -> list["Category"]:
        rows = await info.context.loaders.categories_by_opd_id.load(self.db_id)
        return [Category.from_row(row) for row in rows]

    @strawberry.field(description="Complaints assigned to this OPD and not yet resolved.")
    async def open_backlog(self, info: Info) -> int:
        return await info.context.loaders.open_backlog_by_opd_id.load(self.db_id)


@strawberry.type(description="What a complaint is about, and who handles it by default.")
class Category(Node):
    code: str
    name: str
    name_en: str
    default_opd_db_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: CategoryRow) -> "Category":
        return cls(
            id=strawberry.ID(to_global_id("Category", row.code)),
            code=row.code,
            name=row.name,
            name_en=row.name_en,
            default_opd_db_id=row.default_opd_id,
        )

    @strawberry.field
    async def default_opd(self, info: Info) -> Opd:
        return Opd.from_row(await info.context.loaders.opd_by_id.load(self.default_opd_db_id))

    @strawberry.field(
        description="This category's resolution deadline under the policy in force now; null "
        "means the policy's province default."
    )
    async def resolution_hours(self, info: Info) -> int | None:
        row = await info.context.loaders.resolution_hours_now_by_category_code.load(self.code)
        return row.resolution_hours if row is not None else None


@strawberry.type(description="A category's own resolution deadline within one policy version.")
class CategoryResolutionHours:
    category_code: str
    hours: int

    @classmethod
    def from_row(cls, row: PolicyCategoryHoursRow) -> "CategoryResolutionHours":
        return cls(category_code=row.category_code, hours=row.resolution_hours)


@strawberry.type(
    description="A version of the SLA policy. A complaint keeps the version in force when it "
    "was first assigned, so a new version never rewrites history."
)
class SlaPolicy(Node):
    db_id: strawberry.Private[int]
    name: str
    effective_from: datetime
    response_hours: int = strawberry.field(description="Assignment → first follow-up.")
    resolution_hours: int = strawberry.field(description="Assignment → resolution (default).")

    @classmethod
    def from_row(cls, row: SlaPolicyRow) -> "SlaPolicy":
        return cls(
            id=strawberry.ID(to_global_id("SlaPolicy", row.id)),
            db_id=row.id,
            name=row.name,
            effective_from=wib(row.effective_from),
            response_hours=row.response_hours,
            resolution_hours=row.resolution_hours,
        )

    @strawberry.field(description="Categories whose resolution deadline differs from the default.")
    async def category_resolution_hours(self, info: Info) -> list[CategoryResolutionHours]:
        rows = await info.context.loaders.category_hours_by_policy_id.load(self.db_id)
        return [CategoryResolutionHours.from_row(row) for row in rows]
