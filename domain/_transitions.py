"""How every change to a complaint is written: lock the row, check the caller's version and the
status machine, settle the SLA marks that came due first, update the row, and append the event as
the transaction's last write. Any `DomainError` leaves the transaction to be rolled back, so a
refused change writes nothing."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kilas.db import complaints as complaints_db
from kilas.db import events as events_db
from kilas.db import replies as replies_db
from kilas.db.pool import Connection
from kilas.db.rows import ComplaintRow, EventRow
from kilas.domain.errors import DomainError, ErrorCode, not_found
from kilas.domain.lifecycle import EventType, InvalidTransition, Status, next_status
from kilas.domain.sla import SWEEPER_ACTOR, Mark, SlaRules, next_mark

# The events a channel complaint's citizen is answered about, on the channels intake answers on.
REPLIED = frozenset(
    {
        EventType.SUBMITTED,
        EventType.ASSIGNED,
        EventType.FOLLOWED_UP,
        EventType.RESOLVED,
        EventType.REJECTED,
        EventType.MERGED,
        EventType.ORIGINAL_RESOLVED,
    }
)
ANSWERED_CHANNELS = frozenset({"WHATSAPP", "INSTAGRAM", "FACEBOOK", "X"})
# Clock marks a person's command settles first; closing for quiet is the sweeper's alone (a
# reporter who confirms late still confirms).
SETTLED_FIRST = frozenset({EventType.SLA_AT_RISK, EventType.SLA_BREACHED, EventType.ESCALATED})


@dataclass(frozen=True)
class Outcome:
    complaint: ComplaintRow
    event: EventRow | None
    created: bool = True
    # Events the command wrote on other complaints (a merge's duplicates, an original's
    # followers), published with `event`.
    others: tuple[EventRow, ...] = ()


async def now_or(conn: Connection, at: datetime | None) -> datetime:
    if at is not None:
        return at
    value: datetime = await conn.fetchval("SELECT now()")
    return value


async def locked(
    conn: Connection,
    complaint_id: int,
    expected_version: int | None,
    already: ComplaintRow | None = None,
) -> ComplaintRow:
    """The complaint's row, locked for this transaction (`already` if the caller locked it in
    this transaction: the API does, to judge the caller against it), at `expected_version`."""
    row = already if already is not None else await complaints_db.lock_complaint(conn, complaint_id)
    if row is None:
        raise not_found("complaint", complaint_id, "complaintId")
    if expected_version is not None and row.version != expected_version:
        raise DomainError(
            ErrorCode.STALE_VERSION,
            f"the complaint is at version {row.version}, not {expected_version}: "
            "reload it and try again",
            "expectedVersion",
        )
    return row


def move(row: ComplaintRow, event: EventType) -> Status:
    try:
        return next_status(Status(row.status), event)
    except InvalidTransition as exc:
        raise DomainError(ErrorCode.INVALID_TRANSITION, str(exc)) from None


async def append(
    conn: Connection,
    before: ComplaintRow,
    after: ComplaintRow,
    event: EventType,
    actor: str,
    note: str | None,
    data: dict[str, Any],
    at: datetime | None,
) -> EventRow:
    written = await events_db.append_event(
        conn,
        complaint_id=after.id,
        type=event,
        from_status=None if event is EventType.SUBMITTED else before.status,
        to_status=after.status,
        opd_id=after.opd_id,
        from_opd_id=before.opd_id if before.opd_id != after.opd_id else None,
        region_code=after.region_code,
        category_code=after.category_code,
        actor=actor,
        note=note,
        data=data,
        version=after.version,
        occurred_at=at,
    )
    if event in REPLIED and after.channel in ANSWERED_CHANNELS:
        # The citizen's answer on their channel, in this transaction (db/replies.py): none
        # unless channel intake recorded where to answer.
        await replies_db.enqueue(conn, written.id, after.id, written.recorded_at)
    return written


async def transition(
    conn: Connection,
    row: ComplaintRow,
    event: EventType,
    *,
    actor: str,
    note: str | None,
    at: datetime | None,
    changes: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
    rules: SlaRules | None = None,
) -> Outcome:
    """Record `event` on `row`, which the caller has locked (and checked against the version
    it expected) in this transaction."""
    if rules is not None:
        # Marks that came due before this command are written first, so the record does not
        # depend on whether the sweeper passed by in between (a late follow-up is a breach).
        row = await _settle(conn, row, await now_or(conn, at), rules)
    status = move(row, event)
    after = await complaints_db.update_complaint(
        conn, row.id, {"status": status, **(changes or {})}, at
    )
    appended = await append(conn, row, after, event, actor, note, data or {}, at)
    return Outcome(after, appended)


async def apply_system_event(
    conn: Connection,
    row: ComplaintRow,
    event: EventType,
    *,
    changes: dict[str, Any],
    data: dict[str, Any],
    at: datetime,
    actor: str,
) -> Outcome:
    """An event the system records on a complaint already locked by the caller."""
    return await transition(
        conn, row, event, actor=actor, note=None, at=at, changes=changes, data=data
    )


async def _settle(
    conn: Connection, row: ComplaintRow, at: datetime, rules: SlaRules
) -> ComplaintRow:
    while (mark := next_mark(row, at, rules)) is not None and mark.event in SETTLED_FIRST:
        row = (await _apply_mark(conn, row, mark)).complaint
    return row


async def _apply_mark(conn: Connection, row: ComplaintRow, mark: Mark) -> Outcome:
    return await apply_system_event(
        conn, row, mark.event, changes=mark.changes, data=mark.data, at=mark.at, actor=SWEEPER_ACTOR
    )


async def record_next_mark(
    conn: Connection, complaint_id: int, now: datetime, rules: SlaRules
) -> Outcome:
    """The sweeper's command: write the next due mark of one complaint, once. The row lock and
    the re-check under it make a second sweeper (another instance) find nothing left to do."""
    row = await complaints_db.lock_complaint(conn, complaint_id)
    if row is None:
        raise LookupError(f"complaint {complaint_id} vanished")
    mark = next_mark(row, now, rules)
    if mark is None:
        return Outcome(row, None)
    return await _apply_mark(conn, row, mark)
