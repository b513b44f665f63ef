"""Complaint commands: intake and each step of the lifecycle. Each validates its input and runs
in the caller's transaction through `domain._transitions`, so a refused command changes nothing."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kilas.db import complaints as complaints_db
from kilas.db import duplicates as duplicates_db
from kilas.db import programmes as programmes_db
from kilas.db import reference as reference_db
from kilas.db import replies as replies_db
from kilas.db.pool import Connection
from kilas.db.rows import ComplaintRow
from kilas.domain import duplicates
from kilas.domain._transitions import (
    Outcome,
    append,
    apply_system_event,
    locked,
    move,
    now_or,
    record_next_mark,
    transition,
)
from kilas.domain.errors import invalid, not_found
from kilas.domain.lifecycle import EventType, RejectionReason
from kilas.domain.sla import SlaRules

# Re-exported: the sweeper and the API know the commands by this module.
__all__ = ["Outcome", "apply_system_event", "record_next_mark"]

DEFAULT_RULES = SlaRules()
# The likely duplicates a SUBMITTED event records, at most.
RECORDED_DUPLICATES = 5


@dataclass(frozen=True)
class CommandContext:
    """What every lifecycle step takes besides its own input: who acts, when, under which SLA
    rules, at which version of the complaint the caller saw, and the complaint's row when the
    caller has locked it in the step's transaction already (one lock, not two)."""

    actor: str
    at: datetime | None = None
    rules: SlaRules = DEFAULT_RULES
    expected_version: int | None = None
    locked_row: ComplaintRow | None = None

    async def lock(self, conn: Connection, complaint_id: int) -> ComplaintRow:
        """The complaint's row, locked for the step's transaction, at the caller's version."""
        return await locked(conn, complaint_id, self.expected_version, self.locked_row)

    async def now(self, conn: Connection) -> datetime:
        return await now_or(conn, self.at)

    async def transition(
        self,
        conn: Connection,
        row: ComplaintRow,
        event: EventType,
        *,
        note: str | None = None,
        changes: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
    ) -> Outcome:
        """Record `event` on the row `lock` gave, by this command's actor at its moment."""
        return await transition(
            conn,
            row,
            event,
            actor=self.actor,
            note=note,
            at=self.at,
            changes=changes,
            data=data,
            rules=self.rules,
        )


_TRACKING_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
MAX_TEXT = 5000
MAX_NOTE = 2000


@dataclass(frozen=True)
class Submission:
    channel: str
    text: str
    region_code: str
    external_ref: str | None = None
    reporter_name: str | None = None
    reporter_contact: str | None = None
    reporter_handle: str | None = None
    anonymous: bool = False
    confidential: bool = False
    category_code: str | None = None
    lat: float | None = None
    lon: float | None = None
    media_urls: tuple[str, ...] = ()


def _clean_note(value: str | None, field: str, *, required: bool = False) -> str | None:
    value = value.strip() if value is not None else None
    if not value:
        if required:
            raise invalid(field, f"{field} must not be empty")
        return None
    if len(value) > MAX_NOTE:
        raise invalid(field, f"{field} is longer than {MAX_NOTE} characters")
    return value


def _validate_submission(s: Submission) -> None:
    if not s.text.strip():
        raise invalid("text", "the complaint text must not be empty")
    if len(s.text) > MAX_TEXT:
        raise invalid("text", f"the complaint text is longer than {MAX_TEXT} characters")
    if s.external_ref is not None and not 1 <= len(s.external_ref.strip()) <= 200:
        raise invalid("externalRef", "the external reference must have 1 to 200 characters")
    if (s.lat is None) != (s.lon is None):
        raise invalid("location", "a location needs both latitude and longitude")
    if (
        s.lat is not None
        and s.lon is not None
        and not (-90 <= s.lat <= 90 and -180 <= s.lon <= 180)
    ):
        raise invalid("location", "latitude must be within ±90 and longitude within ±180")
    if len(s.media_urls) > 10:
        raise invalid("mediaUrls", "at most 10 media links per complaint")
    for url in s.media_urls:
        if not url.startswith(("https://", "http://")) or len(url) > 1000:
            raise invalid("mediaUrls", f"not an http(s) link of at most 1000 characters: {url!r}")
    for field, value in (
        ("reporter.name", s.reporter_name),
        ("reporter.contact", s.reporter_contact),
        ("reporter.handle", s.reporter_handle),
    ):
        if value is not None and len(value) > 200:
            raise invalid(field, f"{field} is longer than 200 characters")


async def _new_tracking_number(conn: Connection, at: datetime) -> str:
    # 32^6 codes a day: a clash is rare, and checked rather than hoped away.
    prefix = await reference_db.tracking_prefix(conn)
    while True:
        code = "".join(secrets.choice(_TRACKING_ALPHABET) for _ in range(6))
        number = f"{prefix}-{at:%y%m%d}-{code}"
        if not await complaints_db.tracking_number_taken(conn, number):
            return number


async def _require_region(conn: Connection, code: str) -> None:
    if not await reference_db.regions_by_codes(conn, [code]):
        raise not_found("region", code, "regionCode")


async def _require_category(conn: Connection, code: str) -> reference_db.CategoryRow:
    rows = await reference_db.categories_by_codes(conn, [code])
    if not rows:
        raise not_found("category", code, "categoryCode")
    return rows[0]


async def _require_opd(conn: Connection, opd_id: int) -> reference_db.OpdRow:
    rows = await reference_db.opds_by_ids(conn, [opd_id])
    if not rows:
        raise not_found("OPD", opd_id, "opdId")
    return rows[0]


async def submit(
    conn: Connection,
    s: Submission,
    *,
    actor: str,
    at: datetime | None = None,
    data: dict[str, Any] | None = None,
    contact: replies_db.Contact | None = None,
    duplicates: duplicates_db.Search | None = None,
) -> Outcome:
    """Take in a complaint; a repeated (channel, external_ref) returns the stored one unchanged.
    `data` joins what the SUBMITTED event records (channel intake's routing decision). With a
    `contact`, the citizen is answered on their channel from this first event on. With a
    `duplicates` search, the likely duplicates found as it arrives are recorded on the event
    (`possibleDuplicates`: complaint ids and scores, best first)."""
    _validate_submission(s)
    external_ref = s.external_ref.strip() if s.external_ref else None
    if external_ref is not None:
        existing = await complaints_db.complaint_by_channel_ref(conn, s.channel, external_ref)
        if existing is not None:
            return Outcome(existing, None, created=False)
    await _require_region(conn, s.region_code)
    if s.category_code is not None:
        await _require_category(conn, s.category_code)
    now = await now_or(conn, at)
    row = await complaints_db.insert_complaint(
        conn,
        {
            "tracking_number": await _new_tracking_number(conn, now),
            "channel": s.channel,
            "external_ref": external_ref,
            "reporter_name": s.reporter_name,
            "reporter_contact": s.reporter_contact,
            "reporter_handle": s.reporter_handle,
            "anonymous": s.anonymous,
            "confidential": s.confidential,
            "text": s.text.strip(),
            "category_code": s.category_code,
            "region_code": s.region_code,
            "lat": s.lat,
            "lon": s.lon,
            "media_urls": list(s.media_urls),
            "created_at": at,
        },
    )
    if row is None:
        # A concurrent submission of the same reference won the insert; it is the complaint.
        assert external_ref is not None
        existing = await complaints_db.complaint_by_channel_ref(conn, s.channel, external_ref)
        assert existing is not None
        return Outcome(existing, None, created=False)
    recorded = {"channel": s.channel, **(data or {})}
    if duplicates is not None:
        found = await duplicates_db.candidates(conn, row.id, duplicates, RECORDED_DUPLICATES)
        recorded["possibleDuplicates"] = [
            {"complaintId": c.complaint_id, "score": c.score} for c in found
        ]
    if contact is not None:
        await replies_db.remember_contact(conn, row.id, contact)
    event = await append(conn, row, row, EventType.SUBMITTED, actor, None, recorded, at)
    return Outcome(row, event)


async def _deadlines(
    conn: Connection, row: ComplaintRow, category_code: str | None, now: datetime
) -> dict[str, Any]:
    # The policy in force at the first assignment stays with the complaint for good.
    if row.sla_policy_id is not None:
        policy = (await reference_db.sla_policies_by_ids(conn, [row.sla_policy_id]))[0]
    else:
        policy = await reference_db.sla_policy_in_force(conn, now)
    resolution_hours = policy.resolution_hours
    if category_code is not None:
        overrides = await reference_db.category_hours_by_policy_ids(conn, [policy.id])
        for override in overrides:
            if override.category_code == category_code:
                resolution_hours = override.resolution_hours
    return {
        "sla_policy_id": policy.id,
        "assigned_at": now,
        "response_due_at": now + timedelta(hours=policy.response_hours),
        "resolution_due_at": now + timedelta(hours=resolution_hours),
        "first_response_at": None,
        # A new OPD starts with fresh clocks and no escalation; the old OPD's breaches stay in
        # the event log under its name.
        "response_at_risk_at": None,
        "response_breached_at": None,
        "resolution_at_risk_at": None,
        "resolution_breached_at": None,
        "escalation_level": 0,
        "escalated_at": None,
    }


async def assign(
    conn: Connection,
    complaint_id: int,
    command: CommandContext,
    *,
    opd_id: int | None,
    category_code: str | None,
    note: str | None = None,
    reassign: bool = False,
) -> Outcome:
    """Disposition of a verified complaint to an OPD (by default the category's OPD), or with
    `reassign`, handing an assigned complaint to another OPD (the reason is then required)."""
    row = await command.lock(conn, complaint_id)
    event = EventType.REASSIGNED if reassign else EventType.ASSIGNED
    move(row, event)
    category_code = category_code or row.category_code
    if category_code is not None:
        category = await _require_category(conn, category_code)
    if opd_id is None:
        if category_code is None:
            raise invalid("opdId", "give an OPD, or a category whose default OPD takes it")
        opd_id = category.default_opd_id
    await _require_opd(conn, opd_id)
    if reassign and opd_id == row.opd_id:
        raise invalid("opdId", "the complaint is already assigned to that OPD")
    deadlines = await _deadlines(conn, row, category_code, await command.now(conn))
    return await command.transition(
        conn,
        row,
        event,
        note=_clean_note(note, "reason" if reassign else "note", required=reassign),
        changes={"opd_id": opd_id, "category_code": category_code, **deadlines},
        data={
            "response_due_at": deadlines["response_due_at"].isoformat(),
            "resolution_due_at": deadlines["resolution_due_at"].isoformat(),
        },
    )


async def follow_up(
    conn: Connection, complaint_id: int, command: CommandContext, *, message: str
) -> Outcome:
    """An OPD's follow-up; the first one answers the response deadline and starts the work."""
    note = _clean_note(message, "message", required=True)
    row = await command.lock(conn, complaint_id)
    changes = {}
    if row.first_response_at is None:
        changes["first_response_at"] = await command.now(conn)
    return await command.transition(conn, row, EventType.FOLLOWED_UP, note=note, changes=changes)


async def resolve(
    conn: Connection, complaint_id: int, command: CommandContext, *, resolution: str
) -> Outcome:
    note = _clean_note(resolution, "resolution", required=True)
    row = await command.lock(conn, complaint_id)
    resolved = await command.transition(
        conn, row, EventType.RESOLVED, note=note, changes={"resolved_at": await command.now(conn)}
    )
    return await duplicates.tell_followers(conn, resolved, command.actor, command.at)


async def confirm(
    conn: Connection,
    complaint_id: int,
    command: CommandContext,
    *,
    rating: int,
    comment: str | None,
) -> Outcome:
    """The reporter confirms the resolution and rates it 1-5; the complaint closes."""
    if not 1 <= rating <= 5:
        raise invalid("rating", "the rating must be a whole number from 1 to 5")
    comment = _clean_note(comment, "comment")
    row = await command.lock(conn, complaint_id)
    return await command.transition(
        conn,
        row,
        EventType.CONFIRMED,
        note=comment,
        changes={
            "rating": rating,
            "rating_comment": comment,
            "closed_at": await command.now(conn),
        },
        data={"rating": rating},
    )


async def reopen(
    conn: Connection, complaint_id: int, command: CommandContext, *, reason: str
) -> Outcome:
    """The reporter says the problem is not solved: back to the OPD."""
    note = _clean_note(reason, "reason", required=True)
    row = await command.lock(conn, complaint_id)
    return await command.transition(
        conn, row, EventType.REOPENED, note=note, changes={"resolved_at": None}
    )


async def close(
    conn: Connection, complaint_id: int, command: CommandContext, *, note: str | None
) -> Outcome:
    """Close a resolved complaint without the reporter's rating."""
    row = await command.lock(conn, complaint_id)
    return await command.transition(
        conn,
        row,
        EventType.CLOSED,
        note=_clean_note(note, "note"),
        changes={"closed_at": await command.now(conn)},
    )


async def reject(
    conn: Connection,
    complaint_id: int,
    command: CommandContext,
    *,
    reason: RejectionReason,
    note: str | None,
    duplicate_of_id: int | None,
) -> Outcome:
    row = await command.lock(conn, complaint_id)
    if reason is RejectionReason.DUPLICATE:
        if duplicate_of_id is None:
            raise invalid("duplicateOfId", "a duplicate needs the complaint it duplicates")
        if duplicate_of_id == complaint_id:
            raise invalid("duplicateOfId", "a complaint cannot duplicate itself")
        if not await complaints_db.complaints_by_ids(conn, [duplicate_of_id]):
            raise not_found("complaint", duplicate_of_id, "duplicateOfId")
    elif duplicate_of_id is not None:
        raise invalid("duplicateOfId", "only a DUPLICATE rejection names another complaint")
    return await command.transition(
        conn,
        row,
        EventType.REJECTED,
        note=_clean_note(note, "note"),
        changes={"rejection_reason": reason, "duplicate_of_id": duplicate_of_id},
        data={"reason": str(reason), "duplicate_of_id": duplicate_of_id},
    )


async def link_work_item(
    conn: Connection, complaint_id: int, command: CommandContext, *, work_item_id: int | None
) -> Outcome:
    """Link the complaint to a programme work item (a scheduled fix), or unlink it with None."""
    row = await command.lock(conn, complaint_id)
    if work_item_id is not None and not await programmes_db.work_items_by_ids(conn, [work_item_id]):
        raise not_found("work item", work_item_id, "workItemId")
    if work_item_id == row.work_item_id:
        raise invalid("workItemId", "the complaint is already linked that way")
    return await command.transition(
        conn,
        row,
        EventType.WORK_ITEM_LINKED,
        changes={"work_item_id": work_item_id},
        data={"work_item_id": work_item_id},
    )
