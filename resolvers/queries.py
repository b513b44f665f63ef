"""Read-side root fields."""

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import strawberry

from kilas.auth.caller import Caller
from kilas.auth.policy import can_see_complaint, event_scope, visibility
from kilas.db import complaints as complaints_db
from kilas.db import events as events_db
from kilas.db import programmes as programmes_db
from kilas.db import reference as reference_db
from kilas.domain.errors import invalid
from kilas.live.dashboard import compute_dashboard
from kilas.resolvers.context import Info
from kilas.resolvers.dashboard_scope import dashboard_scope
from kilas.schema import inputs
from kilas.schema.complaints import (
    Complaint,
    ComplaintConnection,
    ComplaintEdge,
    ComplaintEvent,
    ComplaintEventConnection,
    visible_complaint,
)
from kilas.schema.enums import ComplaintOrder
from kilas.schema.ids import (
    database_id,
    decode_event_cursor,
    decode_id,
    decode_keyset_cursor,
    encode_cursor,
    parse_global_id,
    utc_moment,
)
from kilas.schema.live import Dashboard
from kilas.schema.node import Node, PageInfo
from kilas.schema.programmes import Programme, ProgrammeConnection, ProgrammeEdge, WorkItem
from kilas.schema.province import Province
from kilas.schema.reference import Category, Opd, OpdHead, Region, SlaPolicy, SocialAccount

if TYPE_CHECKING:
    from kilas.settings import Settings


def page_size(info: Info, first: int | None) -> int:
    return page_size_of(info.context.settings, first)


def page_size_of(settings: "Settings", first: int | None) -> int:
    limit = settings.max_page_size
    size = settings.default_page_size if first is None else first
    if not 1 <= size <= limit:
        raise invalid("first", f"first must be between 1 and {limit}")
    return size


def _moment(value: datetime | None, field: str) -> datetime | None:
    return utc_moment(value, field) if value is not None else None


def complaint_filter(
    f: inputs.ComplaintFilter | None, caller: Caller
) -> complaints_db.ComplaintFilter:
    """The filter as given, narrowed to what the caller may see."""
    if f is None:
        return complaints_db.ComplaintFilter(visibility=visibility(caller))
    search = f.search.strip() if f.search else None
    if search is not None and len(search) > 200:
        raise invalid("search", "search text is longer than 200 characters")
    return complaints_db.ComplaintFilter(
        statuses=[s.value for s in f.status] if f.status else None,
        opd_id=decode_id(f.opd_id, "Opd", "filter.opdId") if f.opd_id else None,
        region_code=f.region_code,
        category_code=f.category_code,
        channels=[c.value for c in f.channel] if f.channel else None,
        created_from=_moment(f.created_from, "filter.createdFrom"),
        created_before=_moment(f.created_before, "filter.createdBefore"),
        search=search or None,
        work_item_id=decode_id(f.work_item_id, "WorkItem", "filter.workItemId")
        if f.work_item_id
        else None,
        visibility=visibility(caller),
    )


@strawberry.field(description="Complaints matching a filter, newest first by default.")
async def complaints(
    info: Info,
    filter: inputs.ComplaintFilter | None = None,
    order_by: ComplaintOrder = ComplaintOrder.CREATED_AT_DESC,
    first: int | None = None,
    after: str | None = None,
) -> ComplaintConnection:
    size = page_size(info, first)
    where = complaint_filter(filter, info.context.caller)
    cursor = decode_keyset_cursor(after, order_by.value) if after is not None else None
    column, _ = complaints_db.ORDERINGS[order_by.value]
    pool = info.context.pool
    async with pool.acquire() as conn:
        rows = await complaints_db.list_complaints(
            conn, where, order=order_by.value, after=cursor, limit=size + 1
        )

    async def count() -> int:
        async with pool.acquire() as conn:
            return await complaints_db.count_complaints(conn, where)

    edges = [
        ComplaintEdge(
            cursor=encode_cursor([order_by.value, getattr(row, column), row.id]),
            node=Complaint.from_row(row),
        )
        for row in rows[:size]
    ]
    return ComplaintConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > size, end_cursor=edges[-1].cursor if edges else None
        ),
        count=count,
    )


@strawberry.field(
    description="A complaint by its public tracking number: how a reporter follows their own "
    "complaint, confidential or not (the number is their proof)."
)
async def complaint(info: Info, tracking_number: str) -> Complaint | None:
    if len(tracking_number) > 100:
        raise invalid("trackingNumber", "a tracking number is at most 100 characters")
    async with info.context.pool.acquire() as conn:
        row = await complaints_db.complaint_by_tracking_number(conn, tracking_number)
    return Complaint.from_row(row, tracking_presented=True) if row else None


@strawberry.field(
    description="The global event log, oldest first; `after` is an event cursor. Only the "
    "events of complaints the caller may see."
)
async def complaint_events(
    info: Info, first: int | None = None, after: str | None = None
) -> ComplaintEventConnection:
    size = page_size(info, first)
    start = decode_event_cursor(after) if after is not None else 0
    async with info.context.pool.acquire() as conn:
        rows = await events_db.events_after(conn, start, size + 1, visibility(info.context.caller))
    return ComplaintEventConnection.from_rows(rows, size)


@strawberry.field(description="Provincial work units, each with its open backlog.")
async def opds(info: Info) -> list[Opd]:
    async with info.context.pool.acquire() as conn:
        return [Opd.from_row(row) for row in await reference_db.all_opds(conn)]


@strawberry.field
async def opd(info: Info, slug: str) -> Opd | None:
    async with info.context.pool.acquire() as conn:
        row = await reference_db.opd_by_slug(conn, slug.strip().lower())
    return Opd.from_row(row) if row else None


@strawberry.field(description="The province's regencies and cities (35 in Central Java).")
async def regions(info: Info) -> list[Region]:
    async with info.context.pool.acquire() as conn:
        return [Region.from_row(row) for row in await reference_db.all_regions(conn)]


@strawberry.field(description="The province this Kilas serves (its province pack).")
def province(info: Info) -> Province:
    settings = info.context.settings
    return Province.of(settings.province, settings.default_region)


@strawberry.field
async def region(info: Info, code: str) -> Region | None:
    row = await info.context.loaders.region_by_code.load(code)
    return Region.from_row(row) if row else None


@strawberry.field
async def categories(info: Info) -> list[Category]:
    async with info.context.pool.acquire() as conn:
        return [Category.from_row(row) for row in await reference_db.all_categories(conn)]


@strawberry.field(description="The SLA policy history, oldest first.")
async def sla_policies(info: Info) -> list[SlaPolicy]:
    async with info.context.pool.acquire() as conn:
        return [SlaPolicy.from_row(row) for row in await reference_db.all_sla_policies(conn)]


@strawberry.field
async def programmes(
    info: Info,
    filter: inputs.ProgrammeFilter | None = None,
    first: int | None = None,
    after: str | None = None,
) -> ProgrammeConnection:
    size = page_size(info, first)
    f = filter or inputs.ProgrammeFilter()
    after_id = decode_id(after, "Programme", "after") if after is not None else None
    async with info.context.pool.acquire() as conn:
        rows = await programmes_db.list_programmes(
            conn,
            owner_opd_id=decode_id(f.owner_opd_id, "Opd", "filter.ownerOpdId")
            if f.owner_opd_id
            else None,
            fiscal_year=f.fiscal_year,
            status=f.status.value if f.status else None,
            after_id=after_id,
            limit=size + 1,
        )
    edges = [
        ProgrammeEdge(cursor=node.id, node=node)
        for node in (Programme.from_row(row) for row in rows[:size])
    ]
    return ProgrammeConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > size, end_cursor=edges[-1].cursor if edges else None
        ),
    )


@strawberry.field
async def programme(info: Info, code: str) -> Programme | None:
    async with info.context.pool.acquire() as conn:
        row = await programmes_db.programme_by_code(conn, code)
    return Programme.from_row(row) if row else None


async def node_of(info: Info, type_name: str, key: str) -> Node | None:
    loaders = info.context.loaders
    if type_name in ("Region", "Category"):
        if type_name == "Region":
            region_row = await loaders.region_by_code.load(key)
            return Region.from_row(region_row) if region_row else None
        category_row = await loaders.category_by_code.load(key)
        return Category.from_row(category_row) if category_row else None
    number = database_id(key)
    if number is None:
        return None
    if type_name == "SocialAccount":
        async with info.context.pool.acquire() as conn:
            rows = await reference_db.social_accounts_by_ids(conn, [number])
        return SocialAccount.from_row(rows[0]) if rows else None
    if type_name == "Complaint":
        return visible_complaint(info, await loaders.complaint_by_id.load(number))
    if type_name == "ComplaintEvent":
        return await _visible_event(info, number)
    builders: dict[str, tuple[Any, Callable[[Any], Node]]] = {
        "Opd": (loaders.opd_by_id, Opd.from_row),
        "OpdHead": (loaders.head_by_id, OpdHead.from_row),
        "SlaPolicy": (loaders.sla_policy_by_id, SlaPolicy.from_row),
        "Programme": (loaders.programme_by_id, Programme.from_row),
        "WorkItem": (loaders.work_item_by_id, WorkItem.from_row),
    }
    if type_name not in builders:
        return None
    loader, build = builders[type_name]
    row = await loader.load(number)
    return build(row) if row is not None else None


async def _visible_event(info: Info, event_id: int) -> ComplaintEvent | None:
    """The event, if the caller may see its complaint as it stood after it."""
    loaders, caller = info.context.loaders, info.context.caller
    event = await loaders.event_by_id.load(event_id)
    if event is None:
        return None
    complaint = await loaders.complaint_by_id.load(event.complaint_id)
    if complaint is None or not can_see_complaint(caller, event_scope(event, complaint)):
        return None
    return ComplaintEvent.from_row(event)


@strawberry.field(description="Any object by its global id.")
async def node(info: Info, id: strawberry.ID) -> Node | None:
    type_name, key = parse_global_id(id)
    return await node_of(info, type_name, key)


@strawberry.field(description="The dashboard, once; subscribe to `dashboard` for live updates.")
async def dashboard(info: Info, filter: inputs.DashboardFilter | None = None) -> Dashboard:
    scope = await dashboard_scope(info, filter)
    return Dashboard.from_data(
        await compute_dashboard(info.context.pool, info.context.clock, scope)
    )


QUERIES = [
    node,
    complaints,
    complaint,
    complaint_events,
    opds,
    opd,
    regions,
    region,
    province,
    categories,
    sla_policies,
    programmes,
    programme,
    dashboard,
]
