"""Live subscriptions over graphql-transport-ws."""

from collections.abc import AsyncGenerator, Mapping
from datetime import timedelta
from typing import Any

import strawberry

from kilas.auth.policy import can_see_complaint, event_scope
from kilas.db import events as events_db
from kilas.db.rows import ComplaintRow
from kilas.domain.errors import invalid
from kilas.domain.lifecycle import EventType
from kilas.live.hub import Delivery, EventFilter, SubscriberLagging, load_batch
from kilas.resolvers.context import Context, Info, use_event_loaders
from kilas.resolvers.dashboard_scope import dashboard_scope
from kilas.resolvers.feed_members import join_feed
from kilas.resolvers.loaders import Loaders
from kilas.schema import inputs
from kilas.schema.complaints import ComplaintEvent
from kilas.schema.ids import decode_event_cursor, decode_id
from kilas.schema.live import WINDOW_DAYS, Dashboard, LeaderboardWindow
from kilas.schema.performance import LeaderboardEntry

REPLAY_BATCH = 500


class ResumeRequired(Exception):
    """The subscriber fell too far behind; resubscribe with `after` set to the last cursor."""

    def __init__(self, cursor: int) -> None:
        super().__init__(
            f"this subscription fell too far behind and was closed; resubscribe with after: "
            f'"{cursor}" to continue without a gap'
        )
        self.extensions = {"code": "RESUME_REQUIRED", "resumeAfter": str(cursor)}


def event_filter_of(f: inputs.ComplaintEventFilter | None) -> EventFilter:
    if f is None:
        return EventFilter()
    return EventFilter(
        complaint_id=decode_id(f.complaint_id, "Complaint", "filter.complaintId")
        if f.complaint_id
        else None,
        opd_id=decode_id(f.opd_id, "Opd", "filter.opdId") if f.opd_id else None,
        region_code=f.region_code,
        status=f.status.value if f.status else None,
    )


def _shared_loaders(
    info: Info, shared: dict[str, Any], complaints: Mapping[int, ComplaintRow] | None = None
) -> None:
    """Resolves what comes next through loaders shared by every subscriber of one batch of
    events or one value of a feed (each row is loaded once), made anew for each (a
    connection-long cache would serve stale data: the first value's OPD backlogs and regions'
    open counts forever); primed with the batch's complaints, which are loaded already."""
    loaders = shared.get("loaders")
    if loaders is None:
        loaders = shared["loaders"] = Loaders(info.context.pool, info.context.clock)
        for complaint_id, row in (complaints or {}).items():
            loaders.complaint_by_id.prime(complaint_id, row)
    use_event_loaders(loaders)


def _to_event(info: Info, delivery: Delivery) -> ComplaintEvent:
    _shared_loaders(info, delivery.batch.shared, delivery.batch.complaints)
    return ComplaintEvent.from_row(delivery.event)


class CredentialExpired(Exception):
    """The subscription's token expired, or its API key was revoked, while it ran."""

    def __init__(self) -> None:
        super().__init__(
            "the credential of this connection has expired or been revoked; reconnect with a "
            "new one and resume with `after` set to the last cursor"
        )
        self.extensions = {"code": "UNAUTHENTICATED"}


async def ensure_credential(ctx: Context) -> None:
    """Ends the subscription (CredentialExpired) once the caller's credential is no longer
    valid: checked before each delivery, on the per-subscriber path and by cohort members."""
    authenticator = ctx.authenticator
    if authenticator is None:
        return
    valid = authenticator.known_valid(ctx.caller)
    if valid is None:  # an API key whose revocation is read again
        valid = await authenticator.still_valid(ctx.caller)
    if not valid:
        raise CredentialExpired


async def _may_receive(info: Info, delivery: Delivery) -> bool:
    """Whether the caller may see this event, judged as the complaint stood after it (so that
    live and replayed deliveries agree); ends the subscription once the caller's credential is
    no longer valid, whatever the event."""
    await ensure_credential(info.context)
    return can_see_complaint(info.context.caller, event_scope(delivery.event, delivery.complaint))


async def _events(
    info: Info, event_filter: EventFilter, after: str | None
) -> AsyncGenerator[ComplaintEvent, None]:
    """Replay the stored events after the cursor, then continue live, with no gap and no
    duplicate: the hub's queue takes every event above `sub.start`, the log gives the rest."""
    cursor = decode_event_cursor(after) if after is not None else None
    hub = info.context.hub
    if cursor is not None and cursor > hub.last_id:
        # Ahead of this instance's hub; refuse it if it is ahead of the log itself: live events
        # up to it would be skipped as already seen (it is from another log, or an old backup).
        async with info.context.pool.acquire() as conn:
            last = await events_db.last_event_id(conn)
        if cursor > last:
            raise invalid("after", f"{after!r} is ahead of the event log (last cursor: {last})")
    # A member of its cohort, when it can be one: the cohort renders each event once for all
    # its members, and the member writes them; this execution ends there (HandedOver,
    # compiler/cohort.py, live/cohorts.py).
    run_as_member = getattr(info.schema, "run_as_member", None)
    if run_as_member is not None and await run_as_member(info, event_filter, cursor):
        return
    sub = hub.subscribe(event_filter)
    try:
        if cursor is None:
            cursor = sub.start
        while cursor < sub.start:
            async with info.context.pool.acquire() as conn:
                rows = await events_db.matching_events_between(
                    conn, cursor, sub.start, **event_filter.columns(), limit=REPLAY_BATCH
                )
                deliveries = await load_batch(conn, rows)
            for delivery in deliveries:
                if await _may_receive(info, delivery):
                    yield _to_event(info, delivery)
                cursor = delivery.id
            if len(rows) < REPLAY_BATCH:
                break
        cursor = max(cursor, sub.start)
        while True:
            try:
                live = await sub.next()
            except SubscriberLagging:
                raise ResumeRequired(cursor) from None
            if live is None:
                return
            if live.id <= cursor:
                continue
            if await _may_receive(info, live):
                yield _to_event(info, live)
            cursor = live.id
    finally:
        hub.unsubscribe(sub)


@strawberry.subscription(
    description="Every event of complaints matching the filter, in cursor order. With `after` "
    "(an event cursor), first replays the stored events after it, then continues live: no gap, "
    "no duplicate. A subscriber that falls too far behind gets a RESUME_REQUIRED error with "
    "the cursor to resume from."
)
async def complaint_events(
    info: Info,
    filter: inputs.ComplaintEventFilter | None = None,
    after: str | None = None,
) -> AsyncGenerator[ComplaintEvent, None]:
    async for event in _events(info, event_filter_of(filter), after):
        yield event


SLA_ALERT_TYPES = frozenset({EventType.SLA_AT_RISK, EventType.SLA_BREACHED, EventType.ESCALATED})


@strawberry.subscription(
    description="SLA alerts as they happen: a clock at risk, a deadline breached, an "
    "escalation. Resumable with `after`, like complaintEvents."
)
async def sla_alerts(
    info: Info,
    filter: inputs.SlaAlertFilter | None = None,
    after: str | None = None,
) -> AsyncGenerator[ComplaintEvent, None]:
    f = filter or inputs.SlaAlertFilter()
    event_filter = EventFilter(
        opd_id=decode_id(f.opd_id, "Opd", "filter.opdId") if f.opd_id else None,
        region_code=f.region_code,
        types=frozenset(str(t) for t in SLA_ALERT_TYPES),
    )
    async for event in _events(info, event_filter, after):
        yield event


@strawberry.subscription(
    description="The command center's dashboard: now, then again whenever complaints change, "
    "at most once per KILAS_DASHBOARD_INTERVAL however many events arrive. With a filter, only "
    "the complaints an OPD holds and/or of one region."
)
async def dashboard(
    info: Info, filter: inputs.DashboardFilter | None = None
) -> AsyncGenerator[Dashboard, None]:
    feed = info.context.feeds.dashboard(await dashboard_scope(info, filter))
    await join_feed(info)
    async with feed.subscribe() as updates:
        while True:
            value = await updates.get()
            _shared_loaders(info, feed.shared(value))
            yield Dashboard.from_data(value)


@strawberry.subscription(
    description="The OPD leaderboard over a rolling window: now, then whenever a rank or a "
    "figure changes (checked at most once per KILAS_DASHBOARD_INTERVAL)."
)
async def leaderboard_changes(
    info: Info, window: LeaderboardWindow = LeaderboardWindow.LAST_30_DAYS
) -> AsyncGenerator[list[LeaderboardEntry], None]:
    feed = info.context.feeds.leaderboard(timedelta(days=WINDOW_DAYS[window]))
    await join_feed(info)
    async with feed.subscribe() as updates:
        while True:
            rows = await updates.get()
            _shared_loaders(info, feed.shared(rows))
            yield [LeaderboardEntry.from_row(row) for row in rows]


SUBSCRIPTIONS = [complaint_events, sla_alerts, dashboard, leaderboard_changes]
