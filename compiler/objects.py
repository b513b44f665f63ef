"""Each object type's fields as SQL over one row of its table: the same values, rules and
formats as the strawberry types in schema/ resolve them to, one JSON expression per field.

A field function takes the compile context, the row it reads (a table alias) and the field's
selection, and returns a SQL expression whose value is the field's JSON (or a value
`json_build_object` turns into it: text, a number, a boolean, NULL). A field that is not in
`FIELDS` makes the compiler give up on the root field, which then falls back."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    Visitor,
    get_named_type,
    visit,
)
from graphql.execution.collect_fields import (
    FieldDetailsList,
    FragmentDetails,
    collect_subfields,
)
from graphql.execution.values import VariableValues, get_argument_values
from strawberry import Schema
from strawberry.types.arguments import convert_arguments

from kilas.auth.caller import STAFF, Role
from kilas.auth.policy import SEES_ALL
from kilas.compiler.sql import Bind, Getter, Statement, Unsupported, json_list, json_object, literal
from kilas.domain import lifecycle, sla
from kilas.domain.errors import invalid
from kilas.resolvers.permissions import personal_data_forbidden, tracking_number_forbidden
from kilas.schema.complaints import MAX_TIMELINE_PAGE
from kilas.schema.ids import decode_event_cursor


@dataclass(frozen=True)
class Sel:
    """One response key of an object: the field's nodes (merged) and its definition."""

    key: str
    details: FieldDetailsList
    definition: GraphQLField
    parent: str

    @property
    def node(self) -> FieldNode:
        return self.details[0].node

    @property
    def nodes(self) -> tuple[FieldNode, ...]:
        return tuple(detail.node for detail in self.details)

    @property
    def name(self) -> str:
        return self.node.name.value


@dataclass(frozen=True)
class Row:
    """The row a field reads: its table alias, and, for a complaint or an event, whether the
    caller reached it through the complaint's tracking number (it is then the reporter's)."""

    alias: str
    presented: bool = False


@dataclass
class Ctx:
    schema: GraphQLSchema
    strawberry: Schema
    fragments: dict[str, FragmentDetails]
    variables: VariableValues
    operation: OperationDefinitionNode
    st: Statement

    @property
    def role(self) -> Role:
        return self.st.role

    def args(self, sel: Sel) -> Getter:
        """The field's arguments as its resolver gets them (python names, strawberry inputs),
        read from the request's variables at bind time."""
        field = self.strawberry.get_field_for_type(sel.name, sel.parent)
        if field is None:
            raise Unsupported(f"{sel.parent}.{sel.name} has no strawberry field")
        registry = self.strawberry.schema_converter.scalar_registry
        config = self.strawberry.config
        node, definition = sel.node, sel.definition
        key = ("args", id(node))

        def converted(variables: VariableValues) -> dict[str, Any]:
            raw = get_argument_values(definition, node, variables)
            return convert_arguments(raw, field.arguments, registry, config)

        if not _uses_variables(node):
            # Written in the document: the same for every request of this plan.
            try:
                constant = converted(self.variables)
            except Exception as error:
                raise Unsupported(f"{sel.parent}.{sel.name}: arguments") from error
            return lambda b: constant

        def read(b: Bind) -> dict[str, Any]:
            found: dict[str, Any] = b.once(key, lambda: converted(b.variables))
            return found

        return read

    def subfields(self, type_name: str, sel: Sel) -> list[Sel]:
        parent = self.schema.get_type(type_name)
        if not isinstance(parent, GraphQLObjectType):
            raise Unsupported(f"{type_name} is not an object type")
        collected = collect_subfields(
            self.schema, self.fragments, self.variables, self.operation, parent, sel.details
        )
        if collected.new_defer_usages:
            raise Unsupported("@defer")
        found = []
        for key, details in collected.grouped_field_set.items():
            name = details[0].node.name.value
            definition = parent.fields.get(name) if name != "__typename" else GraphQLField(parent)
            if definition is None:
                raise Unsupported(f"{type_name}.{name}")
            found.append(Sel(key, details, definition, type_name))
        return found

    def object(self, type_name: str, row: Row, sel: Sel) -> str:
        """The JSON object of `type_name` for `row`, with `sel`'s sub-selection."""
        fields = FIELDS.get(type_name)
        if fields is None:
            raise Unsupported(f"type {type_name}")
        pairs = []
        for sub in self.subfields(type_name, sel):
            if sub.name == "__typename":
                pairs.append((sub.key, literal(type_name)))
                continue
            compile_field = fields.get(sub.name)
            if compile_field is None:
                raise Unsupported(f"{type_name}.{sub.name}")
            pairs.append((sub.key, compile_field(self, row, sub)))
        return json_object(pairs)


FieldFn = Callable[[Ctx, Row, Sel], str]


def _uses_variables(node: FieldNode) -> bool:
    found: list[bool] = []

    class Finder(Visitor):
        def enter_variable(self, *_: Any) -> Any:
            found.append(True)
            return Visitor.BREAK

    for argument in node.arguments or ():
        visit(argument, Finder())
    return bool(found)


def column(name: str) -> FieldFn:
    return lambda ctx, row, sel: f"{row.alias}.{name}"


def moment(name: str) -> FieldFn:
    """A timestamptz shown in WIB, as `schema.ids.wib(...).isoformat()`."""
    return lambda ctx, row, sel: f"kilas_wib({row.alias}.{name})"


def decimal(name: str) -> FieldFn:
    """An exact Decimal, as `schema.decimals.plain_digits`: numeric's text is plain digits."""
    return lambda ctx, row, sel: f"{row.alias}.{name}::text"


def enum(name: str, values: type[Enum]) -> FieldFn:
    """A stored enum value as its GraphQL name."""
    if all(member.name == member.value for member in values):
        return column(name)
    cases = " ".join(f"WHEN {literal(m.value)} THEN {literal(m.name)}" for m in values)
    return lambda ctx, row, sel: f"(CASE {row.alias}.{name} {cases} END)"


def global_id(type_name: str, key: str) -> FieldFn:
    return lambda ctx, row, sel: f"kilas_gid({literal(type_name)}, {row.alias}.{key}::text)"


def point(lat: str, lon: str, *, nullable: bool) -> FieldFn:
    def build(ctx: Ctx, row: Row, sel: Sel) -> str:
        pairs = []
        for sub in ctx.subfields("GeoPoint", sel):
            value = {"lat": lat, "lon": lon, "__typename": None}[sub.name]
            pairs.append(
                (
                    sub.key,
                    literal("GeoPoint") if value is None else f"kilas_float({row.alias}.{value})",
                )
            )
        built = json_object(pairs)
        return f"(CASE WHEN {row.alias}.{lat} IS NOT NULL THEN {built} END)" if nullable else built

    return build


def one(type_name: str, table: str, join: str, *, visible: bool = False) -> FieldFn:
    """A related object by key (NULL when there is none): `join` relates the new row `{b}` to
    the current one `{a}`."""

    def build(ctx: Ctx, row: Row, sel: Sel) -> str:
        b = ctx.st.alias(table[0])
        where = join.format(a=row.alias, b=b)
        if visible:
            where += f" AND {ctx.st.visible(b)}"
        return f"(SELECT {ctx.object(type_name, Row(b), sel)} FROM {table} {b} WHERE {where})"

    return build


def many(type_name: str, table: str, join: str, order: str, *, visible: bool = False) -> FieldFn:
    """Related objects in `order` (over `{b}`), `[]` for none."""

    def build(ctx: Ctx, row: Row, sel: Sel) -> str:
        b = ctx.st.alias(table[0])
        where = join.format(a=row.alias, b=b)
        if visible:
            where += f" AND {ctx.st.visible(b)}"
        element = ctx.object(type_name, Row(b), sel)
        return json_list(element, f"{table} {b} WHERE {where}", order.format(b=b))

    return build


# Complaint -----------------------------------------------------------------------------------


def can_read_personal_data(ctx: Ctx, a: str) -> str:
    """`auth.policy.can_read_personal_data` for the caller's role (its OPD a parameter)."""
    if ctx.role is Role.OPERATOR:
        return "true"
    if ctx.role is Role.OPD_OFFICER:
        return f"({a}.opd_id IS NOT DISTINCT FROM {ctx.st.caller_opd()} AND NOT {a}.anonymous)"
    return "false"


def personal(ctx: Ctx, row: Row, sel: Sel, field: str, present: str, value: str) -> str:
    """A personal-data field: NULL when the row has none; otherwise, if the caller may read it,
    the value, its read written to the access log by the same expression; else FORBIDDEN."""
    a = row.alias
    st = ctx.st
    logged = (
        f"kilas_log_read({a}.id, {literal(field)}, {st.caller_subject()}, {st.caller_role()}, "
        f"{st.caller_opd()}, {st.caller_address()}, {st.now()})"
    )
    refused = st.error(sel.nodes, personal_data_forbidden(field))
    return (
        f"(CASE WHEN NOT ({present}) THEN NULL "
        f"WHEN {can_read_personal_data(ctx, a)} THEN (CASE WHEN {logged} THEN {value} END) "
        f"ELSE {refused} END)"
    )


def external_ref(ctx: Ctx, row: Row, sel: Sel) -> str:
    a = row.alias
    return personal(
        ctx, row, sel, "externalRef", f"{a}.external_ref IS NOT NULL", f"to_json({a}.external_ref)"
    )


def reporter(ctx: Ctx, row: Row, sel: Sel) -> str:
    a = row.alias
    columns = {"name": "reporter_name", "contact": "reporter_contact", "handle": "reporter_handle"}
    pairs = [
        (sub.key, literal("Reporter") if sub.name == "__typename" else f"{a}.{columns[sub.name]}")
        for sub in ctx.subfields("Reporter", sel)
    ]
    present = " OR ".join(f"coalesce({a}.{c}, '') <> ''" for c in columns.values())
    return personal(ctx, row, sel, "reporter", present, json_object(pairs))


def tracking_number(ctx: Ctx, row: Row, sel: Sel) -> str:
    """`Complaint.trackingNumber`: its reporter (who presented it) and staff by
    `auth.policy.can_see_tracking_number`; FORBIDDEN for anyone else."""
    a = row.alias
    if row.presented or ctx.role in SEES_ALL:
        return f"{a}.tracking_number"
    refused = ctx.st.error(sel.nodes, tracking_number_forbidden())
    if ctx.role is Role.OPD_OFFICER:
        same = f"{a}.opd_id IS NOT DISTINCT FROM {ctx.st.caller_opd()}"
        return f"(CASE WHEN {same} THEN to_json({a}.tracking_number) ELSE {refused} END)"
    return refused


def clock_reading(ctx: Ctx, row: Row, sel: Sel, clock: sla.SlaClock) -> str:
    """`domain.sla.reading` in SQL, at the request's time."""
    a = row.alias
    due = f"{a}.{clock.lower()}_due_at"
    done = f"{a}.first_response_at" if clock is sla.SlaClock.RESPONSE else f"{a}.resolved_at"
    now = ctx.st.now()
    share = ctx.st.shared("at_risk", lambda b: b.settings.sla_rules.at_risk_share, "float8")
    state = (
        f"(CASE WHEN {done} IS NOT NULL THEN (CASE WHEN {done} <= {due} THEN 'MET' "
        f"ELSE 'BREACHED' END) WHEN {now} >= {due} THEN 'BREACHED' "
        f"WHEN {due} - {now} <= ({due} - {a}.assigned_at) * {share} THEN 'AT_RISK' "
        "ELSE 'ON_TRACK' END)"
    )
    # int(timedelta.total_seconds()): truncated toward zero.
    remaining = f"trunc(extract(epoch FROM ({due} - coalesce({done}, {now}))))::bigint"
    values = {
        "clock": literal(clock.value),
        "state": state,
        "dueAt": f"kilas_wib({due})",
        "remainingSeconds": remaining,
        "overdueSeconds": f"greatest(0, -{remaining})",
        "__typename": literal("SlaClockReading"),
    }
    pairs = [(sub.key, values[sub.name]) for sub in ctx.subfields("SlaClockReading", sel)]
    return (
        f"(CASE WHEN {a}.assigned_at IS NULL OR {due} IS NULL THEN NULL "
        f"ELSE {json_object(pairs)} END)"
    )


def complaint_sla(ctx: Ctx, row: Row, sel: Sel) -> str:
    a = row.alias
    targets = " ".join(
        f"WHEN {level} THEN {literal(target)}" for level, target in sla.ESCALATION_TARGETS.items()
    )
    pairs = []
    for sub in ctx.subfields("ComplaintSla", sel):
        if sub.name == "response":
            value = clock_reading(ctx, row, sub, sla.SlaClock.RESPONSE)
        elif sub.name == "resolution":
            value = clock_reading(ctx, row, sub, sla.SlaClock.RESOLUTION)
        elif sub.name == "escalationLevel":
            value = f"{a}.escalation_level"
        elif sub.name == "escalatedTo":
            value = f"(CASE {a}.escalation_level {targets} END)"
        elif sub.name == "escalatedAt":
            value = f"kilas_wib({a}.escalated_at)"
        else:
            value = literal("ComplaintSla")
        pairs.append((sub.key, value))
    return json_object(pairs)


def allowed_events(ctx: Ctx, row: Row, sel: Sel) -> str:
    cases = " ".join(
        f"WHEN {literal(status.value)} THEN "
        f"{literal(json.dumps([e.name for e in lifecycle.allowed_events(status)]))}::json"
        for status in lifecycle.Status
    )
    return f"(CASE {row.alias}.status {cases} END)"


def last_event(ctx: Ctx, row: Row, sel: Sel) -> str:
    e = ctx.st.alias("e")
    built = ctx.object("ComplaintEvent", Row(e, row.presented), sel)
    return (
        f"(SELECT {built} FROM complaint_events {e} WHERE {e}.complaint_id = {row.alias}.id "
        f"ORDER BY {e}.id DESC LIMIT 1)"
    )


def timeline(ctx: Ctx, row: Row, sel: Sel) -> str:
    """`Complaint.timeline(first, after)`: a page of the complaint's events, oldest first."""
    args = ctx.args(sel)

    def first(b: Bind) -> int:
        value: int = args(b).get("first", 50)
        if not 1 <= value <= MAX_TIMELINE_PAGE:
            raise invalid("first", f"first must be between 1 and {MAX_TIMELINE_PAGE}")
        return value

    def after(b: Bind) -> int:
        value = args(b).get("after")
        return decode_event_cursor(value) if value is not None else 0

    limit = ctx.st.param(first, "int")
    start = ctx.st.param(after, "bigint")
    e = ctx.st.alias("e")
    page = (
        f"(SELECT {e}.*, row_number() OVER (ORDER BY {e}.id) AS n FROM complaint_events {e} "
        f"WHERE {e}.complaint_id = {row.alias}.id AND {e}.id > {start} "
        f"ORDER BY {e}.id LIMIT {limit} + 1)"
    )
    return connection(
        ctx,
        sel,
        "ComplaintEventConnection",
        "ComplaintEventEdge",
        page=page,
        limit=limit,
        node=lambda p, sub: ctx.object("ComplaintEvent", Row(p, row.presented), sub),
        cursor=lambda p: f"{p}.id::text",
        node_type="ComplaintEvent",
    )


def connection(
    ctx: Ctx,
    sel: Sel,
    type_name: str,
    edge_type: str,
    *,
    page: str,
    limit: str,
    node: Callable[[str, Sel], str],
    cursor: Callable[[str], str],
    node_type: str,
    total: str | None = None,
) -> str:
    """A Relay connection over `page`: a subquery of at most `limit` + 1 rows numbered `n` in
    order (the extra row only tells that there is a next page)."""
    pairs = []
    for sub in ctx.subfields(type_name, sel):
        p = ctx.st.alias("p")
        rows = f"{page} {p} WHERE {p}.n <= {limit}"
        if sub.name == "edges":
            edge = []
            for part in ctx.subfields(edge_type, sub):
                if part.name == "cursor":
                    edge.append((part.key, cursor(p)))
                elif part.name == "node":
                    edge.append((part.key, node(p, part)))
                else:
                    edge.append((part.key, literal(edge_type)))
            value = json_list(json_object(edge), rows, f"{p}.n")
        elif sub.name == "nodes":
            value = json_list(node(p, sub), rows, f"{p}.n")
        elif sub.name == "pageInfo":
            info = []
            for part in ctx.subfields("PageInfo", sub):
                if part.name == "hasNextPage":
                    info.append((part.key, f"(SELECT count(*) > {limit} FROM {page} {p})"))
                elif part.name == "endCursor":
                    q = ctx.st.alias("p")
                    info.append(
                        (
                            part.key,
                            f"(SELECT {cursor(q)} FROM {page} {q} WHERE {q}.n <= {limit} "
                            f"ORDER BY {q}.n DESC LIMIT 1)",
                        )
                    )
                else:
                    info.append((part.key, literal("PageInfo")))
            value = json_object(info)
        elif sub.name == "totalCount" and total is not None:
            value = total
        elif sub.name == "__typename":
            value = literal(type_name)
        else:
            raise Unsupported(f"{type_name}.{sub.name}")
        pairs.append((sub.key, value))
    return json_object(pairs)


COMPLAINT: dict[str, FieldFn] = {
    "id": global_id("Complaint", "id"),
    "channel": enum("channel", lifecycle.Channel),
    "anonymous": column("anonymous"),
    "confidential": column("confidential"),
    "text": column("text"),
    "location": point("lat", "lon", nullable=True),
    "mediaUrls": lambda ctx, row, sel: f"to_json({row.alias}.media_urls)",
    "status": enum("status", lifecycle.Status),
    "assignedAt": moment("assigned_at"),
    "responseDueAt": moment("response_due_at"),
    "resolutionDueAt": moment("resolution_due_at"),
    "firstResponseAt": moment("first_response_at"),
    "resolvedAt": moment("resolved_at"),
    "closedAt": moment("closed_at"),
    "rating": column("rating"),
    "ratingComment": column("rating_comment"),
    "rejectionReason": enum("rejection_reason", lifecycle.RejectionReason),
    "version": column("version"),
    "createdAt": moment("created_at"),
    "updatedAt": moment("updated_at"),
    "trackingNumber": tracking_number,
    "externalRef": external_ref,
    "reporter": reporter,
    "category": one("Category", "categories", "{b}.code = {a}.category_code"),
    "region": one("Region", "regions", "{b}.code = {a}.region_code"),
    "opd": one("Opd", "opds", "{b}.id = {a}.opd_id"),
    "slaPolicy": one("SlaPolicy", "sla_policies", "{b}.id = {a}.sla_policy_id"),
    "duplicateOf": one("Complaint", "complaints", "{b}.id = {a}.duplicate_of_id", visible=True),
    "workItem": one("WorkItem", "work_items", "{b}.id = {a}.work_item_id"),
    "lastEvent": last_event,
    "timeline": timeline,
    "sla": complaint_sla,
    "allowedEvents": allowed_events,
}


# ComplaintEvent ------------------------------------------------------------------------------


def actor(ctx: Ctx, row: Row, sel: Sel) -> str:
    """Staff see who acted; others see "staff" for a member of staff."""
    a = row.alias
    if ctx.role in STAFF:
        return f"{a}.actor"
    return (
        f"(CASE WHEN starts_with({a}.actor, 'jwt:') OR starts_with({a}.actor, 'key:') "
        f"THEN 'staff' ELSE {a}.actor END)"
    )


def event_complaint(ctx: Ctx, row: Row, sel: Sel) -> str:
    """`ComplaintEvent.complaint` as `schema.complaints.visible_complaint` gives it."""
    c = ctx.st.alias("c")
    where = f"{c}.id = {row.alias}.complaint_id"
    if not row.presented:
        where += f" AND {ctx.st.visible(c)}"
    built = ctx.object("Complaint", Row(c, row.presented), sel)
    return f"(SELECT {built} FROM complaints {c} WHERE {where})"


def event_data(key: str, values: type[Enum] | None = None) -> FieldFn:
    """A value the event's `data` carries (NULL when it has none)."""
    if values is None:
        return lambda ctx, row, sel: f"({row.alias}.data -> {literal(key)})::json"
    # `sla.SlaClock(data["clock"]) if data.get("clock")`: an empty value is none.
    cases = " ".join(f"WHEN {literal(m.value)} THEN {literal(m.name)}" for m in values)
    return lambda ctx, row, sel: f"(CASE {row.alias}.data ->> {literal(key)} {cases} END)"


EVENT: dict[str, FieldFn] = {
    "id": global_id("ComplaintEvent", "id"),
    "cursor": lambda ctx, row, sel: f"{row.alias}.id::text",
    "type": enum("type", lifecycle.EventType),
    "fromStatus": enum("from_status", lifecycle.Status),
    "toStatus": enum("to_status", lifecycle.Status),
    "note": column("note"),
    "rating": event_data("rating"),
    "slaClock": event_data("clock", sla.SlaClock),
    "escalationLevel": event_data("level"),
    "version": column("version"),
    "occurredAt": moment("occurred_at"),
    "recordedAt": moment("recorded_at"),
    "actor": actor,
    "complaint": event_complaint,
    "opd": one("Opd", "opds", "{b}.id = {a}.opd_id"),
    "fromOpd": one("Opd", "opds", "{b}.id = {a}.from_opd_id"),
    "region": one("Region", "regions", "{b}.code = {a}.region_code"),
}


# Reference data ------------------------------------------------------------------------------


def opd_head(ctx: Ctx, row: Row, sel: Sel) -> str:
    a = row.alias
    values = {"name": f"{a}.head_name", "title": f"{a}.head_title"}
    pairs = [
        (sub.key, values.get(sub.name, literal("OpdHead"))) for sub in ctx.subfields("OpdHead", sel)
    ]
    return f"(CASE WHEN coalesce({a}.head_name, '') <> '' THEN {json_object(pairs)} END)"


def count_of(where: str) -> FieldFn:
    """How many complaints match `where` (over `{b}`, the current row `{a}`)."""

    def build(ctx: Ctx, row: Row, sel: Sel) -> str:
        b = ctx.st.alias("x")
        return f"(SELECT count(*) FROM complaints {b} WHERE {where.format(a=row.alias, b=b)})"

    return build


OPD: dict[str, FieldFn] = {
    "id": global_id("Opd", "id"),
    "slug": column("slug"),
    "shortName": column("short_name"),
    "name": column("name"),
    "kind": column("kind"),
    "head": opd_head,
    "updatedAt": moment("updated_at"),
    "socialAccounts": many(
        "SocialAccount",
        "opd_social_accounts",
        "{b}.opd_id = {a}.id",
        "{b}.platform, {b}.handle",
    ),
    "categories": many("Category", "categories", "{b}.default_opd_id = {a}.id", "{b}.code"),
    "openBacklog": count_of("{b}.opd_id = {a}.id AND {b}.status IN ('ASSIGNED', 'IN_PROGRESS')"),
}

SOCIAL_ACCOUNT: dict[str, FieldFn] = {
    "id": global_id("SocialAccount", "id"),
    "platform": column("platform"),
    "handle": column("handle"),
    "verified": column("verified"),
    "opd": one("Opd", "opds", "{b}.id = {a}.opd_id"),
}

REGION: dict[str, FieldFn] = {
    "id": global_id("Region", "code"),
    "code": column("code"),
    "name": column("name"),
    "type": column("type"),
    "seat": column("seat"),
    "seatLocation": point("seat_lat", "seat_lon", nullable=False),
    "openComplaints": count_of(
        "{b}.region_code = {a}.code AND {b}.status IN ('RECEIVED', 'ASSIGNED', 'IN_PROGRESS')"
    ),
}


def resolution_hours_now(ctx: Ctx, row: Row, sel: Sel) -> str:
    """The category's own resolution hours under the policy in force at the request's time."""
    h, p = ctx.st.alias("h"), ctx.st.alias("s")
    now = ctx.st.now()
    return (
        f"(SELECT {h}.resolution_hours FROM sla_policy_category_hours {h} "
        f"WHERE {h}.category_code = {row.alias}.code AND {h}.policy_id = "
        f"(SELECT {p}.id FROM sla_policies {p} WHERE {p}.effective_from <= {now} "
        f"ORDER BY {p}.effective_from DESC LIMIT 1))"
    )


CATEGORY: dict[str, FieldFn] = {
    "id": global_id("Category", "code"),
    "code": column("code"),
    "name": column("name"),
    "nameEn": column("name_en"),
    "defaultOpd": one("Opd", "opds", "{b}.id = {a}.default_opd_id"),
    "resolutionHours": resolution_hours_now,
}

SLA_POLICY: dict[str, FieldFn] = {
    "id": global_id("SlaPolicy", "id"),
    "name": column("name"),
    "effectiveFrom": moment("effective_from"),
    "responseHours": column("response_hours"),
    "resolutionHours": column("resolution_hours"),
    "categoryResolutionHours": many(
        "CategoryResolutionHours",
        "sla_policy_category_hours",
        "{b}.policy_id = {a}.id",
        "{b}.category_code",
    ),
}

CATEGORY_HOURS: dict[str, FieldFn] = {
    "categoryCode": column("category_code"),
    "hours": column("resolution_hours"),
}


# Programmes ----------------------------------------------------------------------------------


def percent_of(part: str, whole: str) -> FieldFn:
    """`float(part / whole * 100) if whole else 0.0`, computed with 60 decimal places, so that
    the nearest float is the one Python's 28-digit Decimal gives."""
    return lambda ctx, row, sel: (
        f"kilas_float(CASE WHEN {row.alias}.{whole} = 0 THEN 0::float8 "
        f"ELSE ({row.alias}.{part}::numeric(1000, 60) * 100 / {row.alias}.{whole})::float8 END)"
    )


PROGRAMME: dict[str, FieldFn] = {
    "id": global_id("Programme", "id"),
    "code": column("code"),
    "name": column("name"),
    "description": column("description"),
    "fiscalYear": column("fiscal_year"),
    "budgetIdr": decimal("budget_idr"),
    "realisationIdr": decimal("realisation_idr"),
    "target": decimal("target"),
    "achievement": decimal("achievement"),
    "unit": column("unit"),
    "status": column("status"),
    "updatedAt": moment("updated_at"),
    "absorptionPct": percent_of("realisation_idr", "budget_idr"),
    "achievementPct": percent_of("achievement", "target"),
    "owner": one("Opd", "opds", "{b}.id = {a}.owner_opd_id"),
    "predecessor": one("Programme", "programmes", "{b}.id = {a}.predecessor_id"),
    "successors": many("Programme", "programmes", "{b}.predecessor_id = {a}.id", "{b}.id"),
    "workItems": many("WorkItem", "work_items", "{b}.programme_id = {a}.id", "{b}.id"),
}

WORK_ITEM: dict[str, FieldFn] = {
    "id": global_id("WorkItem", "id"),
    "name": column("name"),
    "roadSegment": column("road_segment"),
    "location": point("lat", "lon", nullable=True),
    "lengthKm": decimal("length_km"),
    "progressPct": lambda ctx, row, sel: f"kilas_float({row.alias}.progress_pct::float8)",
    "status": column("status"),
    "plannedStart": column("planned_start"),
    "plannedEnd": column("planned_end"),
    "updatedAt": moment("updated_at"),
    "programme": one("Programme", "programmes", "{b}.id = {a}.programme_id"),
    "region": one("Region", "regions", "{b}.code = {a}.region_code"),
    "linkedComplaints": many(
        "Complaint", "complaints", "{b}.work_item_id = {a}.id", "{b}.id", visible=True
    ),
}

FIELDS: dict[str, dict[str, FieldFn]] = {
    "Complaint": COMPLAINT,
    "ComplaintEvent": EVENT,
    "Opd": OPD,
    "SocialAccount": SOCIAL_ACCOUNT,
    "Region": REGION,
    "Category": CATEGORY,
    "SlaPolicy": SLA_POLICY,
    "CategoryResolutionHours": CATEGORY_HOURS,
    "Programme": PROGRAMME,
    "WorkItem": WORK_ITEM,
}


def named_type(sel: Sel) -> str:
    return get_named_type(sel.definition.type).name
