"""Merging duplicates into an original, and telling them when it is resolved. A merged complaint
ends as a DUPLICATE rejection that follows its original (`duplicate_of_id`): the original's
resolution writes ORIGINAL_RESOLVED on each of its followers in the same transaction, and each
one's reporter is answered on their own channel (domain/_transitions.append)."""

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from kilas.db import complaints as complaints_db
from kilas.db import duplicates as duplicates_db
from kilas.db.pool import Connection
from kilas.db.rows import ComplaintRow, EventRow
from kilas.domain._transitions import Outcome, apply_system_event
from kilas.domain.errors import DomainError, ErrorCode, invalid, not_found
from kilas.domain.lifecycle import OPEN_STATUSES, EventType, RejectionReason, Status

if TYPE_CHECKING:
    from kilas.domain.workflow import CommandContext

MAX_MERGED = 50


async def merge(
    conn: Connection,
    original_id: int,
    duplicate_ids: list[int],
    command: "CommandContext",
    *,
    note: str | None = None,
) -> Outcome:
    """Merge `duplicate_ids` into the open complaint `original_id` (locked by `command`): each
    gets a MERGED event and follows the original. All or nothing."""
    if not duplicate_ids:
        raise invalid("duplicateIds", "name at least one complaint to merge")
    if len(duplicate_ids) > MAX_MERGED:
        raise invalid("duplicateIds", f"at most {MAX_MERGED} complaints in one merge")
    if len(set(duplicate_ids)) != len(duplicate_ids):
        raise invalid("duplicateIds", "a complaint is named twice")
    if original_id in duplicate_ids:
        raise invalid("duplicateIds", "a complaint cannot be merged into itself")
    original = await command.lock(conn, original_id)
    if original.duplicate_of_id is not None:
        raise invalid(
            "originalId",
            f"complaint {original.tracking_number} is itself merged into another: merge into "
            "that one",
        )
    if Status(original.status) not in OPEN_STATUSES:
        raise invalid(
            "originalId",
            f"the original is {original.status}: only an open complaint (RECEIVED, ASSIGNED, "
            "IN_PROGRESS) can take duplicates",
        )
    rows: list[ComplaintRow] = []
    # Locked in id order: two merges never wait on each other in a cycle.
    for duplicate_id in sorted(duplicate_ids):
        row = await complaints_db.lock_complaint(conn, duplicate_id)
        if row is None:
            raise not_found("complaint", duplicate_id, "duplicateIds")
        if Status(row.status) not in OPEN_STATUSES:
            # The status machine's refusal, as every lifecycle mutation reports it.
            raise DomainError(
                ErrorCode.INVALID_TRANSITION,
                f"complaint {row.tracking_number} is {row.status}: only an open complaint can "
                "be merged",
                "duplicateIds",
            )
        if await duplicates_db.followers(conn, row.id):
            raise invalid(
                "duplicateIds",
                f"complaint {row.tracking_number} has complaints merged into it: merge it the "
                "other way round, or merge those first",
            )
        rows.append(row)
    written: list[EventRow] = []
    for row in rows:
        merged = await command.transition(
            conn,
            row,
            EventType.MERGED,
            note=note,
            changes={"rejection_reason": RejectionReason.DUPLICATE, "duplicate_of_id": original.id},
            data={"reason": str(RejectionReason.DUPLICATE), "duplicate_of_id": original.id},
        )
        assert merged.event is not None
        written.append(merged.event)
    return Outcome(original, None, others=tuple(written))


async def tell_followers(
    conn: Connection, resolved: Outcome, actor: str, at: datetime | None
) -> Outcome:
    """In the transaction that resolved an original: ORIGINAL_RESOLVED on each complaint that
    follows it (one event, and so one reply on its channel, per follower)."""
    if resolved.event is None:
        return resolved
    moment = at if at is not None else resolved.event.occurred_at
    written = []
    for follower in await duplicates_db.followers(conn, resolved.complaint.id):
        told = await apply_system_event(
            conn,
            follower,
            EventType.ORIGINAL_RESOLVED,
            changes={},
            data={"original_id": resolved.complaint.id},
            at=moment,
            actor=actor,
        )
        assert told.event is not None
        written.append(told.event)
    return replace(resolved, others=resolved.others + tuple(written))
