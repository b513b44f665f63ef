"""Who may see what: pure predicates over a caller and a complaint row. `auth.rules` says which
applies to which field, mutation and route (README "Access control" shows the roles);
`db.complaints.ComplaintFilter` carries the same visibility into SQL for lists."""

from dataclasses import dataclass
from typing import Protocol

from kilas.auth.caller import Caller, Role
from kilas.db.complaints import EVERYTHING, Visibility
from kilas.db.rows import ComplaintRow, EventRow


class Held(Protocol):
    """What `can_see_complaint` reads of a complaint: a `ComplaintRow`, or `event_scope`'s."""

    @property
    def confidential(self) -> bool: ...
    @property
    def opd_id(self) -> int | None: ...
    @property
    def region_code(self) -> str: ...


@dataclass(frozen=True, slots=True)
class EventScope:
    """A complaint's confidentiality (fixed at submission) with who held it where right after
    one of its events."""

    confidential: bool
    opd_id: int | None
    region_code: str


# Reads every complaint, confidential ones included.
SEES_ALL = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN})


def role_refusal(caller: Caller, roles: frozenset[Role], what: str) -> str | None:
    """Why `caller` may not do `what`, which needs one of `roles`, or None."""
    if caller.role in roles:
        return None
    allowed = ", ".join(sorted(r.value for r in roles))
    return f"{what} needs one of the roles {allowed} (the caller is {caller.role.value})"


def in_partner_scope(caller: Caller, row: Held) -> bool:
    return (caller.opd_id is None or row.opd_id == caller.opd_id) and (
        caller.region_code is None or row.region_code == caller.region_code
    )


def can_see_complaint(caller: Caller, row: Held) -> bool:
    if caller.role in SEES_ALL:
        return True
    if caller.role is Role.OPD_OFFICER:
        return not row.confidential or _holds(caller, row)
    if caller.role is Role.PARTNER:
        return not row.confidential and in_partner_scope(caller, row)
    if caller.role is Role.PUBLIC:
        return not row.confidential
    return False


def event_scope(event: EventRow, complaint: ComplaintRow) -> EventScope:
    """What `can_see_complaint` judges for an event: the complaint's confidentiality (fixed at
    submission) and who held it where right after the event."""
    return EventScope(complaint.confidential, event.opd_id, event.region_code)


def can_read_personal_data(caller: Caller, row: ComplaintRow) -> bool:
    """The reporter's name, contact, handle and the channel's reference (a post id leads to the
    account): operators always; the OPD holding the complaint unless the reporter chose
    anonymity; nobody else."""
    if caller.role is Role.OPERATOR:
        return True
    if caller.role is Role.OPD_OFFICER:
        return _holds(caller, row) and not row.anonymous
    return False


def can_see_tracking_number(caller: Caller, row: ComplaintRow) -> bool:
    """The tracking number lets its holder confirm or reopen a complaint as the reporter, so the
    public and partners only see one they presented themselves (or just submitted)."""
    return caller.role in SEES_ALL or (caller.role is Role.OPD_OFFICER and _holds(caller, row))


def _holds(caller: Caller, row: Held) -> bool:
    """Whether the caller's OPD holds the complaint: never when either has none (a complaint
    not yet disposed to a unit is held by no officer, as `NULL = NULL` is not true in SQL)."""
    return caller.opd_id is not None and row.opd_id == caller.opd_id


def is_submitter(caller: Caller, submitter: str | None) -> bool:
    """Whether `caller` holds the credential that submitted a complaint whose SUBMITTED event
    names `submitter` (the same API key, "key:<id>", or staff subject, "jwt:<sub>"). Every
    public caller is "public", so none can prove it."""
    return not caller.is_public and submitter is not None and submitter == caller.subject


def visibility(caller: Caller) -> Visibility:
    """`can_see_complaint` as SQL arguments, for lists (tests/test_visibility_property.py
    proves the two agree)."""
    if caller.role in SEES_ALL:
        return EVERYTHING
    if caller.role is Role.OPD_OFFICER:
        return Visibility(non_confidential=True, confidential_opd_id=caller.opd_id)
    if caller.role is Role.PARTNER:
        return Visibility(
            non_confidential=True, opd_id=caller.opd_id, region_code=caller.region_code
        )
    if caller.role is Role.PUBLIC:
        return Visibility(non_confidential=True)
    return Visibility()
