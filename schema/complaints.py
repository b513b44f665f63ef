from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from kilas.auth.policy import can_see_complaint
from kilas.db.rows import ComplaintRow, EventRow
from kilas.domain import lifecycle, sla
from kilas.resolvers import complaint_fields
from kilas.resolvers.context import Info
from kilas.schema.enums import (
    Channel,
    ComplaintEventType,
    ComplaintStatus,
    EscalationTarget,
    IntakeRoute,
    IntakeRoutingReason,
    RejectionReason,
    SlaClock,
    SlaState,
)
from kilas.schema.federation import BY_ID, by_id
from kilas.schema.ids import to_global_id, wib
from kilas.schema.node import GeoPoint, Node, PageInfo, required
from kilas.schema.reference import Category, Opd, OpdHead, Region, SlaPolicy
from kilas.schema.replies import ChannelReply

if TYPE_CHECKING:
    from kilas.schema.duplicates import DuplicateCandidate
    from kilas.schema.programmes import WorkItem

# The escalation level whose target is the OPD's head (domain.sla.ESCALATION_TARGETS).
HEAD_LEVEL = next(level for level, to in sla.ESCALATION_TARGETS.items() if to == "OPD_HEAD")


async def head_at(info: Info, opd_id: int | None, at: datetime | None) -> OpdHead | None:
    """The head of the OPD in office at `at`, if there was one."""
    if opd_id is None or at is None:
        return None
    rows = await info.context.loaders.head_at.load((opd_id, at))
    return OpdHead.from_row(rows[0]) if rows else None


@strawberry.type(description="Who reported the complaint (personal data).")
class Reporter:
    name: str | None
    contact: str | None = strawberry.field(description="Phone number or e-mail address.")
    handle: str | None = strawberry.field(description="Social-media handle, for social channels.")


@strawberry.type(description="One SLA clock of a complaint, read at the server's current time.")
class SlaClockReading:
    clock: SlaClock
    state: SlaState
    due_at: datetime
    remaining_seconds: int = strawberry.field(
        description="Seconds left (when met: left at completion); negative once overdue."
    )

    @strawberry.field(description="Seconds past the deadline; 0 when not overdue.")
    def overdue_seconds(self) -> int:
        return max(0, -self.remaining_seconds)


@strawberry.type(description="Where a complaint stands against its SLA.")
class ComplaintSla:
    response: SlaClockReading | None = strawberry.field(
        description="Assignment → first follow-up; null before assignment."
    )
    resolution: SlaClockReading | None = strawberry.field(
        description="Assignment → resolution; null before assignment."
    )
    escalation_level: int = strawberry.field(
        description="0 none; 1 the OPD head; 2 the command center / Inspektorat; 3 the "
        "governor's office."
    )
    escalated_to: EscalationTarget | None
    escalated_at: datetime | None
    opd_db_id: strawberry.Private[int | None]

    @strawberry.field(
        description="When escalatedTo is OPD_HEAD: the person it was escalated to, the head of "
        "the complaint's OPD in office at escalatedAt."
    )
    async def escalated_to_head(self, info: Info) -> OpdHead | None:
        if self.escalation_level != HEAD_LEVEL:
            return None
        return await head_at(info, self.opd_db_id, self.escalated_at)


@strawberry.type(
    description="A citizen's complaint (aduan): one ticket from intake to closure.",
    directives=BY_ID,
)
class Complaint(Node):
    @classmethod
    async def resolve_reference(cls, info: Info, id: Any = None, **_: Any) -> "Complaint | None":
        """A federation gateway's reference to one, by the rules of `node(id:)`."""
        found: Complaint | None = await by_id(info, "Complaint", id)
        return found

    db_id: strawberry.Private[int]
    row: strawberry.Private[ComplaintRow]
    # The caller presented the tracking number (or just submitted the complaint).
    tracking_presented: strawberry.Private[bool]
    channel: Channel
    anonymous: bool = strawberry.field(description="The reporter asked not to be identified.")
    confidential: bool = strawberry.field(
        description="The complaint must not be public: only staff, the OPD holding it and the "
        "reporter (with the tracking number) see it."
    )
    text: str
    location: GeoPoint | None
    media_urls: list[str]
    status: ComplaintStatus
    assigned_at: datetime | None
    response_due_at: datetime | None = strawberry.field(
        description="Deadline for the assigned OPD's first follow-up."
    )
    resolution_due_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    rating: int | None = strawberry.field(description="The reporter's rating, 1-5.")
    rating_comment: str | None
    rejection_reason: RejectionReason | None
    version: int = strawberry.field(
        description="Increases with every change; pass it as `expectedVersion` to mutations."
    )
    created_at: datetime
    updated_at: datetime
    category_code: strawberry.Private[str | None]
    region_code: strawberry.Private[str]
    opd_db_id: strawberry.Private[int | None]
    sla_policy_db_id: strawberry.Private[int | None]
    duplicate_of_db_id: strawberry.Private[int | None]
    work_item_db_id: strawberry.Private[int | None]
    escalation_level: strawberry.Private[int]
    escalated_at: strawberry.Private[datetime | None]

    @classmethod
    def from_row(cls, row: ComplaintRow, *, tracking_presented: bool = False) -> "Complaint":
        return cls(
            id=strawberry.ID(to_global_id("Complaint", row.id)),
            db_id=row.id,
            row=row,
            tracking_presented=tracking_presented,
            channel=lifecycle.Channel(row.channel),
            anonymous=row.anonymous,
            confidential=row.confidential,
            text=row.text,
            location=GeoPoint(lat=row.lat, lon=row.lon)
            if row.lat is not None and row.lon is not None
            else None,
            media_urls=list(row.media_urls),
            status=lifecycle.Status(row.status),
            assigned_at=wib(row.assigned_at),
            response_due_at=wib(row.response_due_at),
            resolution_due_at=wib(row.resolution_due_at),
            first_response_at=wib(row.first_response_at),
            resolved_at=wib(row.resolved_at),
            closed_at=wib(row.closed_at),
            rating=row.rating,
            rating_comment=row.rating_comment,
            rejection_reason=lifecycle.RejectionReason(row.rejection_reason)
            if row.rejection_reason
            else None,
            version=row.version,
            created_at=wib(row.created_at),
            updated_at=wib(row.updated_at),
            category_code=row.category_code,
            region_code=row.region_code,
            opd_db_id=row.opd_id,
            sla_policy_db_id=row.sla_policy_id,
            duplicate_of_db_id=row.duplicate_of_id,
            work_item_db_id=row.work_item_id,
            escalation_level=row.escalation_level,
            escalated_at=wib(row.escalated_at),
        )

    @strawberry.field(
        description="Public tracking number for the reporter. Staff see it; the public and "
        "partners only on a complaint they looked up by it or just submitted (FORBIDDEN "
        "otherwise), as it lets its holder confirm or reopen the complaint."
    )
    def tracking_number(self) -> str | None:
        # Who may read it: auth.rules (TrackingNumber), enforced by resolvers.enforce.
        return self.row.tracking_number

    @strawberry.field(
        description="The channel's own id (tweet id, message id); unique per channel. Personal "
        "data (it leads to the reporter's account): operators and the OPD holding the complaint "
        "only, and every read is logged."
    )
    def external_ref(self) -> str | None:
        # Personal data: auth.rules (PersonalData), enforced and logged by resolvers.enforce.
        return self.row.external_ref

    @strawberry.field(
        description="Who reported the complaint. Personal data: operators always; the OPD "
        "holding the complaint unless the reporter chose anonymity; FORBIDDEN for anyone else. "
        "Every read is written to the access log."
    )
    def reporter(self) -> Reporter | None:
        # Personal data: auth.rules (PersonalData), enforced and logged by resolvers.enforce.
        row = self.row
        if not (row.reporter_name or row.reporter_contact or row.reporter_handle):
            return None
        return Reporter(
            name=row.reporter_name, contact=row.reporter_contact, handle=row.reporter_handle
        )

    @strawberry.field
    async def category(self, info: Info) -> Category | None:
        if self.category_code is None:
            return None
        row = await info.context.loaders.category_by_code.load(self.category_code)
        return Category.from_row(row) if row else None

    @strawberry.field
    async def region(self, info: Info) -> Region:
        row = await info.context.loaders.region_by_code.load(self.region_code)
        return Region.from_row(required(row, f"region {self.region_code}"))

    @strawberry.field(description="The OPD the complaint is assigned to (disposition).")
    async def opd(self, info: Info) -> Opd | None:
        if self.opd_db_id is None:
            return None
        return Opd.from_row(await info.context.loaders.opd_by_id.load(self.opd_db_id))

    @strawberry.field(description="The SLA policy version in force when it was first assigned.")
    async def sla_policy(self, info: Info) -> SlaPolicy | None:
        if self.sla_policy_db_id is None:
            return None
        row = await info.context.loaders.sla_policy_by_id.load(self.sla_policy_db_id)
        return SlaPolicy.from_row(row) if row else None

    @strawberry.field(
        description="The original, when rejected as a duplicate; null when the "
        "caller may not see it."
    )
    async def duplicate_of(self, info: Info) -> "Complaint | None":
        if self.duplicate_of_db_id is None:
            return None
        row = await info.context.loaders.complaint_by_id.load(self.duplicate_of_db_id)
        return visible_complaint(info, row)

    @strawberry.field(
        description="Likely duplicates, best first: open complaints created within the "
        "configured window of this one, of its category (or either without one), near it "
        "(within the configured distance when both have a location, else in the same regency "
        "or city), with similar text (pg_trgm). For OPERATOR, SUPERVISOR and ADMIN (null and "
        "FORBIDDEN for anyone else)."
    )
    async def possible_duplicates(
        self, info: Info, first: int = 5
    ) -> list[Annotated["DuplicateCandidate", strawberry.lazy("kilas.schema.duplicates")]] | None:
        from kilas.schema.duplicates import DuplicateCandidate, check_first

        check_first(first)
        key = (self.db_id, first, info.context.settings.duplicate_search)
        rows = await info.context.loaders.duplicate_candidates.load(key)
        return [DuplicateCandidate(complaint_db_id=r.complaint_id, score=r.score) for r in rows]

    @strawberry.field(description="The programme work item (a scheduled fix) it is linked to.")
    async def work_item(
        self, info: Info
    ) -> Annotated["WorkItem", strawberry.lazy("kilas.schema.programmes")] | None:
        from kilas.schema.programmes import WorkItem

        if self.work_item_db_id is None:
            return None
        row = await info.context.loaders.work_item_by_id.load(self.work_item_db_id)
        return WorkItem.from_row(row) if row else None

    @strawberry.field(
        description="The answers to the reporter on the channel they wrote on (channel intake), "
        "oldest first. They carry the tracking number: readable by whoever may read it."
    )
    async def replies(self, info: Info) -> list[ChannelReply]:
        rows = await info.context.loaders.replies_by_complaint_id.load(self.db_id)
        return [ChannelReply.from_row(row) for row in rows]

    @strawberry.field(description="The most recent event of this complaint.")
    async def last_event(self, info: Info) -> "ComplaintEvent":
        row = await info.context.loaders.last_event_by_complaint_id.load(self.db_id)
        return ComplaintEvent.from_row(
            required(row, f"the events of complaint {self.db_id}"),
            complaint_presented=self.tracking_presented,
        )

    @strawberry.field(description="The complaint's history, oldest first, read from the event log.")
    async def timeline(
        self, info: Info, first: int = 50, after: str | None = None
    ) -> "ComplaintEventConnection":
        rows = await complaint_fields.timeline_page(info, self.db_id, first, after)
        return ComplaintEventConnection.from_rows(
            rows, first, complaint_presented=self.tracking_presented
        )

    @strawberry.field(description="Deadlines, their state now, and the escalation level.")
    def sla(self, info: Info) -> ComplaintSla:
        now = info.context.clock.now()
        rules = info.context.settings.sla_rules

        def clock_reading(clock: sla.SlaClock) -> SlaClockReading | None:
            found = sla.reading(self.row, clock, now, rules)
            if found is None:
                return None
            return SlaClockReading(
                clock=clock,
                state=found.state,
                due_at=wib(found.due_at),
                remaining_seconds=int(found.remaining.total_seconds()),
            )

        level = self.escalation_level
        return ComplaintSla(
            response=clock_reading(sla.SlaClock.RESPONSE),
            resolution=clock_reading(sla.SlaClock.RESOLUTION),
            escalation_level=level,
            escalated_to=EscalationTarget(sla.ESCALATION_TARGETS[level]) if level else None,
            escalated_at=self.escalated_at,
            opd_db_id=self.opd_db_id,
        )

    @strawberry.field(description="What may happen next, by the status machine.")
    def allowed_events(self) -> list[ComplaintEventType]:
        return lifecycle.allowed_events(lifecycle.Status(self.status))


def visible_complaint(
    info: Info, row: ComplaintRow | None, *, presented: bool = False
) -> Complaint | None:
    """The complaint in `row` as the caller may see it now, or None: every path from a visible
    object to a complaint goes through here, so each applies the rule of `node(id:)`. A caller
    who presented the tracking number (or just submitted the complaint) is its reporter."""
    if row is None:
        return None
    if presented:
        return Complaint.from_row(row, tracking_presented=True)
    if not can_see_complaint(info.context.caller, row):
        return None
    return Complaint.from_row(row)


@strawberry.type(description="One entry of the append-only event log.")
class ComplaintEvent(Node):
    db_id: strawberry.Private[int]
    cursor: str = strawberry.field(
        description="Position in the global event log; pass it as `after` to resume a "
        "subscription without gaps or duplicates."
    )
    type: ComplaintEventType
    from_status: ComplaintStatus | None
    to_status: ComplaintStatus
    stored_actor: strawberry.Private[str]
    note: str | None = strawberry.field(
        description="Follow-up message, resolution, reason or comment, as the event carries."
    )
    rating: int | None
    sla_clock: SlaClock | None = strawberry.field(
        description="For SLA_AT_RISK and SLA_BREACHED: which clock."
    )
    escalation_level: int | None = strawberry.field(description="For ESCALATED: the new level.")
    routing: IntakeRoute | None = strawberry.field(
        description="For SUBMITTED through channel intake: where the message was sent."
    )
    routing_reason: IntakeRoutingReason | None = strawberry.field(
        description="For SUBMITTED through channel intake: why it was sent there."
    )
    addressed_account: str | None = strawberry.field(
        description="For SUBMITTED through channel intake: the official account(s) that decided "
        "the routing, as @handle (or the OPD a partner named)."
    )
    version: int = strawberry.field(description="The complaint's version after this event.")
    occurred_at: datetime
    recorded_at: datetime
    complaint_db_id: strawberry.Private[int]
    # Reached from the complaint its caller presented the tracking number of (or submitted).
    complaint_presented: strawberry.Private[bool]
    opd_db_id: strawberry.Private[int | None]
    from_opd_db_id: strawberry.Private[int | None]
    region_code: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: EventRow, *, complaint_presented: bool = False) -> "ComplaintEvent":
        data = row.data or {}
        return cls(
            id=strawberry.ID(to_global_id("ComplaintEvent", row.id)),
            db_id=row.id,
            cursor=str(row.id),
            type=lifecycle.EventType(row.type),
            from_status=lifecycle.Status(row.from_status) if row.from_status else None,
            to_status=lifecycle.Status(row.to_status),
            stored_actor=row.actor,
            note=row.note,
            rating=data.get("rating"),
            sla_clock=sla.SlaClock(data["clock"]) if data.get("clock") else None,
            escalation_level=data.get("level"),
            routing=IntakeRoute(data["routing"]) if data.get("routing") else None,
            routing_reason=IntakeRoutingReason(data["routingReason"])
            if data.get("routingReason")
            else None,
            addressed_account=data.get("addressedAccount"),
            version=row.version,
            occurred_at=wib(row.occurred_at),
            recorded_at=wib(row.recorded_at),
            complaint_db_id=row.complaint_id,
            complaint_presented=complaint_presented,
            opd_db_id=row.opd_id,
            from_opd_db_id=row.from_opd_id,
            region_code=row.region_code,
        )

    @strawberry.field(
        description='Who acted: "public", "system:sla" (the sweeper), or a member of staff '
        '("jwt:<sub>", "key:<id>"), whom only staff see by name; others see "staff".'
    )
    def actor(self) -> str:
        # Shown by name to staff only: auth.rules (StaffNames), applied by resolvers.enforce.
        return self.stored_actor

    @strawberry.field(
        description="The complaint as it stands when the event is delivered (live) or read "
        "(replay), not as the event left it: the event's own fields (toStatus, version, opd) "
        "say that. Null when the caller may not see the complaint now, by the rule of "
        "`node(id:)`: an OPD that saw a confidential complaint's events while it held it does "
        "not see the complaint once it has passed to another OPD."
    )
    async def complaint(self, info: Info) -> Complaint | None:
        row = await info.context.loaders.complaint_by_id.load(self.complaint_db_id)
        return visible_complaint(info, row, presented=self.complaint_presented)

    @strawberry.field(description="The OPD holding the complaint after this event.")
    async def opd(self, info: Info) -> Opd | None:
        if self.opd_db_id is None:
            return None
        return Opd.from_row(await info.context.loaders.opd_by_id.load(self.opd_db_id))

    @strawberry.field(description="For a re-assignment: the OPD that held it before.")
    async def from_opd(self, info: Info) -> Opd | None:
        if self.from_opd_db_id is None:
            return None
        return Opd.from_row(await info.context.loaders.opd_by_id.load(self.from_opd_db_id))

    @strawberry.field(
        description="For an ESCALATED event to the OPD head: the person it was escalated to, "
        "the head of the event's OPD in office when it happened."
    )
    async def escalated_to_head(self, info: Info) -> OpdHead | None:
        if self.type is not lifecycle.EventType.ESCALATED or self.escalation_level != HEAD_LEVEL:
            return None
        return await head_at(info, self.opd_db_id, self.occurred_at)

    @strawberry.field
    async def region(self, info: Info) -> Region:
        row = await info.context.loaders.region_by_code.load(self.region_code)
        return Region.from_row(required(row, f"region {self.region_code}"))


@strawberry.type
class ComplaintEdge:
    cursor: str
    node: Complaint


@strawberry.type
class ComplaintConnection:
    edges: list[ComplaintEdge]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field
    def nodes(self) -> list[Complaint]:
        return [edge.node for edge in self.edges]

    @strawberry.field(description="How many complaints match the filter (one extra query).")
    async def total_count(self) -> int:
        return await self.count()


@strawberry.type
class ComplaintEventEdge:
    cursor: str
    node: ComplaintEvent


@strawberry.type
class ComplaintEventConnection:
    edges: list[ComplaintEventEdge]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[ComplaintEvent]:
        return [edge.node for edge in self.edges]

    @classmethod
    def from_rows(
        cls, rows: Sequence[EventRow], first: int, *, complaint_presented: bool = False
    ) -> "ComplaintEventConnection":
        events = [
            ComplaintEvent.from_row(row, complaint_presented=complaint_presented)
            for row in rows[:first]
        ]
        return cls(
            edges=[ComplaintEventEdge(cursor=e.cursor, node=e) for e in events],
            page_info=PageInfo(
                has_next_page=len(rows) > first,
                end_cursor=events[-1].cursor if events else None,
            ),
        )
