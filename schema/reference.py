from datetime import datetime
from typing import Any

import strawberry

from kilas.db.heads import HeadAccountRow, HeadRow
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
from kilas.schema.federation import BY_CODE, BY_ID, by_code, by_id
from kilas.schema.ids import to_global_id, wib
from kilas.schema.node import GeoPoint, Node, required


@strawberry.type(
    description="A regency (kabupaten) or city (kota) of the province (35 in Central Java).",
    directives=BY_CODE,
)
class Region(Node):
    @classmethod
    async def resolve_reference(cls, info: Info, code: Any = None, **_: Any) -> "Region | None":
        """A federation gateway's reference to one, by the rules of `node(id:)`."""
        found: Region | None = await by_code(info, "Region", code)
        return found

    code: str = strawberry.field(description="Kemendagri code, e.g. 33.74 for Kota Semarang.")
    bps_code: str | None = strawberry.field(
        description="Statistics Indonesia's (BPS) code, e.g. 3374; for some provinces not "
        "Kemendagri's code without its dot (North Sumatra's 12.04 is BPS 1201)."
    )
    name: str
    type: RegionType
    seat: str = strawberry.field(description="The seat (ibu kota) of the regency or city.")
    seat_location: GeoPoint

    @classmethod
    def from_row(cls, row: RegionRow) -> "Region":
        return cls(
            id=strawberry.ID(to_global_id("Region", row.code)),
            code=row.code,
            bps_code=row.bps_code,
            name=row.name,
            type=RegionType(row.type),
            seat=row.seat,
            seat_location=GeoPoint(lat=row.seat_lat, lon=row.seat_lon),
        )

    @strawberry.field(description="Complaints in this region not yet resolved or rejected.")
    async def open_complaints(self, info: Info) -> int:
        return await info.context.loaders.open_count_by_region_code.load(self.code)


@strawberry.type(description="A social-media account of an OPD head's own.")
class OpdHeadAccount:
    platform: SocialPlatform
    handle: str
    verified: bool = strawberry.field(description="The platform's verified mark (blue tick).")

    @classmethod
    def from_row(cls, row: HeadAccountRow) -> "OpdHeadAccount":
        return cls(platform=SocialPlatform(row.platform), handle=row.handle, verified=row.verified)


@strawberry.type(
    description="One term of office of an OPD's head: a person, their title and their own "
    "accounts. The breaches and escalations of the OPD while they held office are theirs."
)
class OpdHead(Node):
    db_id: strawberry.Private[int]
    opd_db_id: strawberry.Private[int]
    name: str
    title: str | None
    term_start: datetime = strawberry.field(description="When the head took office.")
    term_end: datetime | None = strawberry.field(
        description="When the term ended (the successor's start); null while in office."
    )

    @classmethod
    def from_row(cls, row: HeadRow) -> "OpdHead":
        return cls(
            id=strawberry.ID(to_global_id("OpdHead", row.id)),
            db_id=row.id,
            opd_db_id=row.opd_id,
            name=row.name,
            title=row.title,
            term_start=wib(row.term_start),
            term_end=wib(row.term_end),
        )

    @strawberry.field(
        description="The head's own social-media accounts; the governor's rule is that every "
        "head holds at least one verified account."
    )
    async def accounts(self, info: Info) -> list[OpdHeadAccount]:
        rows = await info.context.loaders.accounts_by_head_id.load(self.db_id)
        return [OpdHeadAccount.from_row(row) for row in rows]

    @strawberry.field
    async def opd(self, info: Info) -> "Opd":
        return Opd.from_row(await info.context.loaders.opd_by_id.load(self.opd_db_id))


@strawberry.type(description="An official social-media account of an OPD.")
class SocialAccount(Node):
    platform: SocialPlatform
    handle: str
    verified: bool = strawberry.field(description="The platform's verified mark (blue tick).")
    external_id: str | None = strawberry.field(
        description="The platform's own id of the account, as its webhooks name it."
    )
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
            external_id=row.external_id,
            opd_db_id=row.opd_id,
        )

    @strawberry.field
    async def opd(self, info: Info) -> "Opd":
        return Opd.from_row(await info.context.loaders.opd_by_id.load(self.opd_db_id))


@strawberry.type(
    description="A provincial work unit (Organisasi Perangkat Daerah).", directives=BY_ID
)
class Opd(Node):
    @classmethod
    async def resolve_reference(cls, info: Info, id: Any = None, **_: Any) -> "Opd | None":
        """A federation gateway's reference to one, by the rules of `node(id:)`."""
        found: Opd | None = await by_id(info, "Opd", id)
        return found

    db_id: strawberry.Private[int]
    slug: str
    short_name: str
    name: str
    kind: OpdKind
    updated_at: datetime

    @classmethod
    def from_row(cls, row: OpdRow | None) -> "Opd":
        row = required(row, "OPD")
        return cls(
            id=strawberry.ID(to_global_id("Opd", row.id)),
            db_id=row.id,
            slug=row.slug,
            short_name=row.short_name,
            name=row.name,
            kind=OpdKind(row.kind),
            updated_at=wib(row.updated_at),
        )

    @strawberry.field(description="The head in office now; null while the post is vacant.")
    async def head(self, info: Info) -> OpdHead | None:
        row = await info.context.loaders.head_in_office_by_opd_id.load(self.db_id)
        return OpdHead.from_row(row) if row is not None else None

    @strawberry.field(description="Every head's term of office, the newest first.")
    async def heads(self, info: Info) -> list[OpdHead]:
        rows = await info.context.loaders.heads_by_opd_id.load(self.db_id)
        return [OpdHead.from_row(row) for row in rows]

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


@strawberry.type(
    description="What a complaint is about, and who handles it by default.", directives=BY_CODE
)
class Category(Node):
    @classmethod
    async def resolve_reference(cls, info: Info, code: Any = None, **_: Any) -> "Category | None":
        """A federation gateway's reference to one, by the rules of `node(id:)`."""
        found: Category | None = await by_code(info, "Category", code)
        return found

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
