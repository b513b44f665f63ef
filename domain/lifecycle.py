"""The complaint status machine, as data. Pure: no I/O, so it is easy to test exhaustively."""

from dataclasses import dataclass, replace
from enum import StrEnum

from kilas.db.rows import ComplaintRow, EventRow


class Status(StrEnum):
    RECEIVED = "RECEIVED"
    ASSIGNED = "ASSIGNED"
    IN_PROGRESS = "IN_PROGRESS"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"
    REJECTED = "REJECTED"


class Channel(StrEnum):
    X = "X"
    INSTAGRAM = "INSTAGRAM"
    FACEBOOK = "FACEBOOK"
    WHATSAPP = "WHATSAPP"
    SMS = "SMS"
    WEB = "WEB"
    APP = "APP"
    HOTLINE = "HOTLINE"
    WALK_IN = "WALK_IN"
    NATIONAL = "NATIONAL"


class RejectionReason(StrEnum):
    SPAM = "SPAM"
    INCOMPLETE = "INCOMPLETE"
    NOT_OUR_AUTHORITY = "NOT_OUR_AUTHORITY"
    DUPLICATE = "DUPLICATE"


class EventType(StrEnum):
    SUBMITTED = "SUBMITTED"
    ASSIGNED = "ASSIGNED"
    REASSIGNED = "REASSIGNED"
    FOLLOWED_UP = "FOLLOWED_UP"
    RESOLVED = "RESOLVED"
    REOPENED = "REOPENED"
    CONFIRMED = "CONFIRMED"
    CLOSED = "CLOSED"
    REJECTED = "REJECTED"
    WORK_ITEM_LINKED = "WORK_ITEM_LINKED"
    # Merged into another complaint (the original), which it follows from then on.
    MERGED = "MERGED"
    # Written by the SLA sweeper, never by a person.
    SLA_AT_RISK = "SLA_AT_RISK"
    SLA_BREACHED = "SLA_BREACHED"
    ESCALATED = "ESCALATED"
    AUTO_CLOSED = "AUTO_CLOSED"
    # On a merged complaint, in the transaction that resolves its original.
    ORIGINAL_RESOLVED = "ORIGINAL_RESOLVED"


SYSTEM_EVENTS = frozenset(
    {EventType.SLA_AT_RISK, EventType.SLA_BREACHED, EventType.ESCALATED, EventType.AUTO_CLOSED}
)
# Written on other complaints as a consequence of a command (never a command of its own).
CONSEQUENCES = frozenset({EventType.ORIGINAL_RESOLVED})


OPEN_STATUSES = frozenset({Status.RECEIVED, Status.ASSIGNED, Status.IN_PROGRESS})
TERMINAL_STATUSES = frozenset({Status.CLOSED, Status.REJECTED})

_HELD = {Status.ASSIGNED: Status.ASSIGNED, Status.IN_PROGRESS: Status.IN_PROGRESS}

# For each event type: the statuses it may start from, and the status it leads to.
TRANSITIONS: dict[EventType, dict[Status, Status]] = {
    EventType.ASSIGNED: {Status.RECEIVED: Status.ASSIGNED},
    EventType.REASSIGNED: {Status.ASSIGNED: Status.ASSIGNED, Status.IN_PROGRESS: Status.ASSIGNED},
    EventType.FOLLOWED_UP: {
        Status.ASSIGNED: Status.IN_PROGRESS,
        Status.IN_PROGRESS: Status.IN_PROGRESS,
    },
    EventType.RESOLVED: {Status.IN_PROGRESS: Status.RESOLVED},
    EventType.REOPENED: {Status.RESOLVED: Status.IN_PROGRESS},
    EventType.CONFIRMED: {Status.RESOLVED: Status.CLOSED},
    EventType.CLOSED: {Status.RESOLVED: Status.CLOSED},
    EventType.REJECTED: {Status.RECEIVED: Status.REJECTED},
    # A duplicate leaves the work to its original whoever holds it: it ends as a rejection
    # (reason DUPLICATE), so it leaves the OPD's backlog and its SLA clocks stop.
    EventType.MERGED: dict.fromkeys(OPEN_STATUSES, Status.REJECTED),
    # Linking to a programme work item keeps the status; a rejected complaint is not linked.
    EventType.WORK_ITEM_LINKED: {s: s for s in Status if s is not Status.REJECTED},
    # SLA clocks run while an OPD holds the complaint; they leave its status alone.
    EventType.SLA_AT_RISK: _HELD,
    EventType.SLA_BREACHED: _HELD,
    EventType.ESCALATED: _HELD,
    EventType.AUTO_CLOSED: {Status.RESOLVED: Status.CLOSED},
    EventType.ORIGINAL_RESOLVED: {Status.REJECTED: Status.REJECTED},
}


class InvalidTransition(Exception):
    def __init__(self, status: Status, event: EventType) -> None:
        allowed = ", ".join(sorted(TRANSITIONS[event])) or "none"
        super().__init__(
            f"a complaint in status {status} cannot be {event.lower().replace('_', ' ')} "
            f"(allowed from: {allowed})"
        )
        self.status = status
        self.event = event


def next_status(status: Status, event: EventType) -> Status:
    try:
        return TRANSITIONS[event][status]
    except KeyError:
        raise InvalidTransition(status, event) from None


def allowed_events(status: Status) -> list[EventType]:
    """What a person may do next; the sweeper's events are not commands."""
    return [
        event
        for event, moves in TRANSITIONS.items()
        if status in moves and event not in SYSTEM_EVENTS and event not in CONSEQUENCES
    ]


@dataclass(frozen=True)
class ComplaintState:
    """What replaying a complaint's events rebuilds; it must equal the stored row."""

    status: Status
    opd_id: int | None
    rating: int | None
    rejection_reason: str | None
    duplicate_of_id: int | None
    work_item_id: int | None
    escalation_level: int
    version: int

    @classmethod
    def from_row(cls, row: ComplaintRow) -> "ComplaintState":
        """The state a stored complaint row is in, to compare with a replay of its events."""
        return cls(
            Status(row.status),
            row.opd_id,
            row.rating,
            row.rejection_reason,
            row.duplicate_of_id,
            row.work_item_id,
            row.escalation_level,
            row.version,
        )


def apply_event(state: ComplaintState | None, event: EventRow) -> ComplaintState:
    """Fold one event row (type, to_status, opd_id, data, version) into the state."""
    kind = EventType(event.type)
    data = event.data or {}
    if state is None:
        if kind is not EventType.SUBMITTED:
            raise ValueError(f"a complaint's first event must be SUBMITTED, not {kind}")
        return ComplaintState(Status.RECEIVED, None, None, None, None, None, 0, event.version)
    if kind is EventType.SUBMITTED:
        raise ValueError("SUBMITTED can only be a complaint's first event")
    status = next_status(state.status, kind)
    if status != event.to_status:
        raise ValueError(f"event {kind} records {event.to_status}, the machine says {status}")
    new = replace(state, status=status, opd_id=event.opd_id, version=event.version)
    if kind is EventType.CONFIRMED:
        new = replace(new, rating=data["rating"])
    elif kind in (EventType.REJECTED, EventType.MERGED):
        new = replace(
            new, rejection_reason=data["reason"], duplicate_of_id=data.get("duplicate_of_id")
        )
    elif kind is EventType.WORK_ITEM_LINKED:
        new = replace(new, work_item_id=data.get("work_item_id"))
    elif kind is EventType.ESCALATED:
        new = replace(new, escalation_level=data["level"])
    elif kind is EventType.REASSIGNED:
        # A new OPD starts with fresh clocks and no escalation.
        new = replace(new, escalation_level=0)
    return new


def replay(events: list[EventRow]) -> ComplaintState:
    state: ComplaintState | None = None
    for event in events:
        state = apply_event(state, event)
    if state is None:
        raise ValueError("no events to replay")
    return state
