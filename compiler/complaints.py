"""Complaints and their events as SQL: the rules of schema/complaints.py (tracking numbers,
personal data and its access log, SLA readings, the reporter's own path) over one row."""

import json
from collections.abc import Callable
from enum import Enum

from kilas.auth.caller import Role
from kilas.auth.rules import PersonalData, StaffNames, TrackingNumber
from kilas.compiler.duplicates import possible_duplicates
from kilas.compiler.heads import escalated_to_head, sla_escalated_to_head
from kilas.compiler.objects import (
    Ctx,
    FieldFn,
    Row,
    Sel,
    column,
    connection,
    enum,
    global_id,
    many,
    moment,
    one,
    point,
)
from kilas.compiler.sql import Bind, json_object, literal
from kilas.db.events import MAX_TIMELINE_PAGE
from kilas.domain import lifecycle, routing, sla
from kilas.domain.errors import forbidden, invalid
from kilas.schema.ids import decode_event_cursor


def can_read_personal_data(ctx: Ctx, a: str) -> str:
    """`auth.policy.can_read_personal_data` for the caller's role (its OPD a parameter; no OPD
    holds a complaint that has none, as in `auth.policy._holds`)."""
    if ctx.role is Role.OPERATOR:
        return "true"
    if ctx.role is Role.OPD_OFFICER:
        return f"({a}.opd_id = {ctx.st.caller_opd()} AND NOT {a}.anonymous)"
    return "false"


def personal(ctx: Ctx, row: Row, sel: Sel, rule: PersonalData, value: str) -> str:
    """A personal-data field by its rule: NULL when the row has none; otherwise, if the caller
    may read it, the value, its read written to the access log by the same expression; else
    FORBIDDEN."""
    a = row.alias
    st = ctx.st
    logged = (
        f"kilas_log_read({a}.id, {literal(rule.name)}, {st.caller_subject()}, "
        f"{st.caller_role()}, {st.caller_opd()}, {st.caller_address()}, {st.now()})"
    )
    refused = st.error(sel.nodes, forbidden(rule.message, rule.name))
    present = " OR ".join(f"coalesce({a}.{column}, '') <> ''" for column in rule.columns)
    return (
        f"(CASE WHEN NOT ({present}) THEN NULL "
        f"WHEN {can_read_personal_data(ctx, a)} THEN (CASE WHEN {logged} THEN {value} END) "
        f"ELSE {refused} END)"
    )


def external_ref(ctx: Ctx, row: Row, sel: Sel) -> str:
    rule = ctx.rule(sel, PersonalData)
    return personal(ctx, row, sel, rule, f"to_json({row.alias}.{rule.columns[0]})")


def reporter(ctx: Ctx, row: Row, sel: Sel) -> str:
    a = row.alias
    rule = ctx.rule(sel, PersonalData)
    columns = {"name": "reporter_name", "contact": "reporter_contact", "handle": "reporter_handle"}
    pairs = [
        (sub.key, literal("Reporter") if sub.name == "__typename" else f"{a}.{columns[sub.name]}")
        for sub in ctx.subfields("Reporter", sel)
    ]
    return personal(ctx, row, sel, rule, json_object(pairs))


def tracking_number(ctx: Ctx, row: Row, sel: Sel) -> str:
    """`Complaint.trackingNumber` by its rule (auth.rules.TrackingNumber): its reporter (who
    presented it) and staff by `auth.policy.can_see_tracking_number`; FORBIDDEN for anyone
    else."""
    a = row.alias
    rule = ctx.rule(sel, TrackingNumber)
    if row.presented or rule.sees_every(ctx.role):
        return f"{a}.tracking_number"
    refused = ctx.st.error(sel.nodes, forbidden(rule.message, sel.name))
    if ctx.role is Role.OPD_OFFICER:
        same = f"{a}.opd_id = {ctx.st.caller_opd()}"
        return f"(CASE WHEN {same} THEN to_json({a}.tracking_number) ELSE {refused} END)"
    return refused


CHANNEL_REPLIES = many("ChannelReply", "channel_replies", "{b}.complaint_id = {a}.id", "{b}.id")


def replies(ctx: Ctx, row: Row, sel: Sel) -> str:
    """`Complaint.replies`, held to the tracking number's readers (its rule)."""
    a = row.alias
    rule = ctx.rule(sel, TrackingNumber)
    built = CHANNEL_REPLIES(ctx, row, sel)
    if row.presented or rule.sees_every(ctx.role):
        return built
    refused = ctx.st.error(sel.nodes, forbidden(rule.message, sel.name))
    if ctx.role is Role.OPD_OFFICER:
        return f"(CASE WHEN {a}.opd_id = {ctx.st.caller_opd()} THEN {built} ELSE {refused} END)"
    return refused


REPLY: dict[str, FieldFn] = {
    "id": global_id("ChannelReply", "id"),
    "eventType": column("event_type"),
    "public": column("public"),
    "text": column("text"),
    "state": column("state"),
    "attempts": column("attempts"),
    "lastError": column("last_error"),
    "sentAt": moment("sent_at"),
    "platformMessageId": column("platform_message_id"),
    "createdAt": moment("created_at"),
}


def clock_reading(ctx: Ctx, row: Row, sel: Sel, clock: sla.SlaClock) -> str:
    """`domain.sla.reading` in SQL, at the request's time."""
    a = row.alias
    due = f"{a}.{clock.lower()}_due_at"
    done = f"{a}.first_response_at" if clock is sla.SlaClock.RESPONSE else f"{a}.resolved_at"
    st = ctx.st

    # Built only when selected: a parameter (the time, the at-risk share) the statement never
    # reads would make PostgreSQL refuse it.
    def state() -> str:
        now = st.now()
        share = st.shared("at_risk", lambda b: b.settings.sla_rules.at_risk_share, "float8")
        return (
            f"(CASE WHEN {done} IS NOT NULL THEN (CASE WHEN {done} <= {due} THEN 'MET' "
            f"ELSE 'BREACHED' END) WHEN {now} >= {due} THEN 'BREACHED' "
            f"WHEN {due} - {now} <= ({due} - {a}.assigned_at) * {share} THEN 'AT_RISK' "
            "ELSE 'ON_TRACK' END)"
        )

    def remaining() -> str:
        # int(timedelta.total_seconds()): truncated toward zero.
        return f"trunc(extract(epoch FROM ({due} - coalesce({done}, {st.now()}))))::bigint"

    values: dict[str, Callable[[], str]] = {
        "clock": lambda: literal(clock.value),
        "state": state,
        "dueAt": lambda: f"kilas_wib({due})",
        "remainingSeconds": remaining,
        "overdueSeconds": lambda: f"greatest(0, -{remaining()})",
        "__typename": lambda: literal("SlaClockReading"),
    }
    pairs = [(sub.key, values[sub.name]()) for sub in ctx.subfields("SlaClockReading", sel)]
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
        elif sub.name == "escalatedToHead":
            value = sla_escalated_to_head(ctx, row, sub)
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
    built = connection(
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
    if start in built:
        return built
    # Nothing of the page is read (only `__typename`s), but its parameters must be: PostgreSQL
    # refuses a statement given a parameter it never reads, and binding them checks the
    # arguments as the resolver does (neither is ever null).
    return f"(CASE WHEN {limit} IS NOT NULL AND {start} IS NOT NULL THEN {built} END)"


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
    "possibleDuplicates": possible_duplicates,
    "replies": replies,
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
    """Who acted, as auth.rules.StaffNames shows it to the caller."""
    a = row.alias
    rule = ctx.rule(sel, StaffNames)
    if ctx.role in rule.roles:
        return f"{a}.actor"
    named = " OR ".join(f"starts_with({a}.actor, {literal(p)})" for p in rule.prefixes)
    return f"(CASE WHEN {named} THEN {literal(rule.shown_instead)} ELSE {a}.actor END)"


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
    "routing": event_data("routing", routing.Route),
    "routingReason": event_data("routingReason", routing.Reason),
    "addressedAccount": event_data("addressedAccount"),
    "version": column("version"),
    "occurredAt": moment("occurred_at"),
    "recordedAt": moment("recorded_at"),
    "actor": actor,
    "complaint": event_complaint,
    "opd": one("Opd", "opds", "{b}.id = {a}.opd_id"),
    "fromOpd": one("Opd", "opds", "{b}.id = {a}.from_opd_id"),
    "escalatedToHead": escalated_to_head,
    "region": one("Region", "regions", "{b}.code = {a}.region_code"),
}
