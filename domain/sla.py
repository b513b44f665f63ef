"""SLA clocks, as pure functions of a complaint row and a moment: each clock's state, and the
next mark that has come due (at risk, breached, escalated, closed). Writing a mark is
`domain.workflow.record_next_mark`."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from kilas.db.rows import ComplaintRow
from kilas.domain.lifecycle import EventType, Status

SWEEPER_ACTOR = "system:sla"


class SlaClock(StrEnum):
    RESPONSE = "RESPONSE"
    RESOLUTION = "RESOLUTION"


class SlaState(StrEnum):
    ON_TRACK = "ON_TRACK"
    AT_RISK = "AT_RISK"
    BREACHED = "BREACHED"
    MET = "MET"


ESCALATION_TARGETS = {1: "OPD_HEAD", 2: "COMMAND_CENTER", 3: "GOVERNOR_OFFICE"}
HELD = (Status.ASSIGNED, Status.IN_PROGRESS)


@dataclass(frozen=True)
class SlaRules:
    # A running clock is AT_RISK once less than this share of its window is left.
    at_risk_share: float = 0.25
    # Level n+1 comes this long after level n (level 1: after the first breach).
    escalation_delays: tuple[timedelta, ...] = field(
        default=(timedelta(0), timedelta(hours=24), timedelta(hours=24))
    )
    # A RESOLVED complaint the reporter neither confirms nor reopens closes after this.
    auto_close_after: timedelta = timedelta(hours=72)


@dataclass(frozen=True)
class Reading:
    state: SlaState
    due_at: datetime
    # Positive while time is left (or was left when met); negative once overdue.
    remaining: timedelta


def read_clock(
    started: datetime | None,
    due: datetime | None,
    done: datetime | None,
    now: datetime,
    at_risk_share: float,
) -> Reading | None:
    """A clock's state at `now`; None before it has started."""
    if started is None or due is None:
        return None
    if done is not None:
        return Reading(SlaState.MET if done <= due else SlaState.BREACHED, due, due - done)
    if now >= due:
        return Reading(SlaState.BREACHED, due, due - now)
    if due - now <= (due - started) * at_risk_share:
        return Reading(SlaState.AT_RISK, due, due - now)
    return Reading(SlaState.ON_TRACK, due, due - now)


@dataclass(frozen=True)
class _ClockColumns:
    """One clock's columns of a complaint row."""

    due_at: datetime | None
    done_at: datetime | None
    at_risk_at: datetime | None
    breached_at: datetime | None


def _columns(row: ComplaintRow, clock: SlaClock) -> _ClockColumns:
    if clock is SlaClock.RESPONSE:
        return _ClockColumns(
            row.response_due_at,
            row.first_response_at,
            row.response_at_risk_at,
            row.response_breached_at,
        )
    return _ClockColumns(
        row.resolution_due_at,
        row.resolved_at,
        row.resolution_at_risk_at,
        row.resolution_breached_at,
    )


def reading(row: ComplaintRow, clock: SlaClock, now: datetime, rules: SlaRules) -> Reading | None:
    columns = _columns(row, clock)
    return read_clock(row.assigned_at, columns.due_at, columns.done_at, now, rules.at_risk_share)


@dataclass(frozen=True)
class Mark:
    event: EventType
    at: datetime
    changes: dict[str, Any]
    data: dict[str, Any]


def _clock_mark(row: ComplaintRow, clock: SlaClock, now: datetime, rules: SlaRules) -> Mark | None:
    prefix = clock.lower()
    columns = _columns(row, clock)
    running = (
        row.status == Status.ASSIGNED and row.first_response_at is None
        if clock is SlaClock.RESPONSE
        else row.status in HELD
    )
    started, due = row.assigned_at, columns.due_at
    if not running or due is None or columns.breached_at is not None:
        return None
    data = {"clock": str(clock), "due_at": due.isoformat()}
    # Marks carry the moment they describe, not the moment the sweeper noticed, so escalation
    # delays and reports do not depend on how often the sweeper runs.
    if now >= due:
        return Mark(EventType.SLA_BREACHED, due, {f"{prefix}_breached_at": due}, data)
    assert started is not None  # written with the deadlines (domain.workflow._deadlines)
    risky_from = due - (due - started) * rules.at_risk_share
    if now >= risky_from and columns.at_risk_at is None:
        return Mark(EventType.SLA_AT_RISK, risky_from, {f"{prefix}_at_risk_at": risky_from}, data)
    return None


def next_mark(row: ComplaintRow, now: datetime, rules: SlaRules) -> Mark | None:
    """The next SLA mark that has come due for this complaint at `now`, oldest first."""
    if row.status == Status.RESOLVED and row.resolved_at is not None:
        closes_at = row.resolved_at + rules.auto_close_after
        if now >= closes_at:
            return Mark(EventType.AUTO_CLOSED, closes_at, {"closed_at": closes_at}, {})
        return None
    if row.status not in HELD:
        return None
    marks = [_clock_mark(row, clock, now, rules) for clock in SlaClock]
    level = row.escalation_level
    # Escalation climbs only while a breached clock is still unmet: a late follow-up answers
    # the response breach, though the record of it stays.
    breaches = [
        breached
        for breached, done in (
            (row.response_breached_at, row.first_response_at),
            (row.resolution_breached_at, row.resolved_at),
        )
        if breached is not None and done is None
    ]
    if breaches and level < len(rules.escalation_delays):
        # Never before the breach that justifies it (an answered breach may have stopped the
        # climb, and a later one restarts it).
        since = min(breaches)
        if level > 0:
            assert row.escalated_at is not None  # written with the level
            since = max(row.escalated_at, since)
        escalate_at = since + rules.escalation_delays[level]
        if now >= escalate_at:
            data = {"level": level + 1, "target": ESCALATION_TARGETS[level + 1]}
            changes = {"escalation_level": level + 1, "escalated_at": escalate_at}
            marks.append(Mark(EventType.ESCALATED, escalate_at, changes, data))
    due = [m for m in marks if m is not None]
    return min(due, key=lambda m: m.at) if due else None
