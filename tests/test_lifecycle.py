"""The complaint status machine as data: no database, every status and event checked."""

from typing import Any

import pytest

from kilas.db.rows import EventRow
from kilas.domain.lifecycle import (
    OPEN_STATUSES,
    TERMINAL_STATUSES,
    TRANSITIONS,
    ComplaintState,
    EventType,
    InvalidTransition,
    RejectionReason,
    Status,
    allowed_events,
    next_status,
    replay,
)
from tests._rows import event_row

E, S = EventType, Status

# The machine of DESIGN.md, written out edge by edge: (from, event) -> to.
DOCUMENTED: dict[tuple[Status, EventType], Status] = {
    (S.RECEIVED, E.ASSIGNED): S.ASSIGNED,
    (S.ASSIGNED, E.FOLLOWED_UP): S.IN_PROGRESS,
    (S.IN_PROGRESS, E.FOLLOWED_UP): S.IN_PROGRESS,
    (S.IN_PROGRESS, E.RESOLVED): S.RESOLVED,
    (S.RESOLVED, E.CONFIRMED): S.CLOSED,
    (S.RESOLVED, E.CLOSED): S.CLOSED,
    (S.RECEIVED, E.REJECTED): S.REJECTED,
    (S.ASSIGNED, E.REASSIGNED): S.ASSIGNED,
    (S.IN_PROGRESS, E.REASSIGNED): S.ASSIGNED,
    (S.RESOLVED, E.REOPENED): S.IN_PROGRESS,
    # Merging a duplicate into its original (issue 13) ends it as a rejection, from any open
    # status; the original's resolution is told to it without a change of status.
    **{(s, E.MERGED): S.REJECTED for s in (S.RECEIVED, S.ASSIGNED, S.IN_PROGRESS)},
    (S.REJECTED, E.ORIGINAL_RESOLVED): S.REJECTED,
    # Linking a work item keeps the status, and works on every complaint not rejected.
    **{(s, E.WORK_ITEM_LINKED): s for s in Status if s is not S.REJECTED},
    # The SLA sweeper's marks run while an OPD holds the complaint and keep its status; a
    # resolved complaint left alone for the quiet period closes by itself.
    **{(s, e): s for s in (S.ASSIGNED, S.IN_PROGRESS) for e in (E.SLA_AT_RISK, E.SLA_BREACHED)},
    (S.ASSIGNED, E.ESCALATED): S.ASSIGNED,
    (S.IN_PROGRESS, E.ESCALATED): S.IN_PROGRESS,
    (S.RESOLVED, E.AUTO_CLOSED): S.CLOSED,
}


def test_the_transition_table_is_exactly_the_documented_machine() -> None:
    table = {
        (start, event): end for event, moves in TRANSITIONS.items() for start, end in moves.items()
    }
    assert table == DOCUMENTED


@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("event", [e for e in EventType if e is not E.SUBMITTED])
def test_next_status_follows_the_machine_and_refuses_every_other_move(
    status: Status, event: EventType
) -> None:
    expected = DOCUMENTED.get((status, event))
    if expected is not None:
        assert next_status(status, event) is expected
    else:
        with pytest.raises(InvalidTransition) as refused:
            next_status(status, event)
        assert refused.value.status is status
        assert refused.value.event is event
        assert f"status {status}" in str(refused.value)


def test_submitted_is_no_transition_at_all() -> None:
    assert E.SUBMITTED not in TRANSITIONS
    for status in Status:
        assert E.SUBMITTED not in allowed_events(status)


def test_the_happy_path_runs_from_received_to_closed() -> None:
    status = S.RECEIVED
    for event in (E.ASSIGNED, E.FOLLOWED_UP, E.RESOLVED, E.CONFIRMED):
        status = next_status(status, event)
    assert status is S.CLOSED


def test_a_closed_complaint_can_only_be_linked_to_a_work_item() -> None:
    assert allowed_events(S.CLOSED) == [E.WORK_ITEM_LINKED]
    assert next_status(S.CLOSED, E.WORK_ITEM_LINKED) is S.CLOSED


def test_a_rejected_complaint_allows_nothing() -> None:
    assert allowed_events(S.REJECTED) == []


def test_terminal_and_open_statuses_split_the_machine() -> None:
    assert TERMINAL_STATUSES == {S.CLOSED, S.REJECTED}
    assert OPEN_STATUSES == {S.RECEIVED, S.ASSIGNED, S.IN_PROGRESS}
    assert not OPEN_STATUSES & TERMINAL_STATUSES
    for status in TERMINAL_STATUSES:
        leaving = [e for e in allowed_events(status) if next_status(status, e) is not status]
        assert leaving == [], f"{status} is terminal but {leaving} leave it"


def test_every_status_is_reachable_from_received() -> None:
    reached, frontier = {S.RECEIVED}, [S.RECEIVED]
    while frontier:
        status = frontier.pop()
        for event in allowed_events(status):
            target = next_status(status, event)
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(Status)


def test_the_refusal_names_the_statuses_the_move_is_allowed_from() -> None:
    with pytest.raises(InvalidTransition) as refused:
        next_status(S.RECEIVED, E.RESOLVED)
    assert str(refused.value) == (
        "a complaint in status RECEIVED cannot be resolved (allowed from: IN_PROGRESS)"
    )


def event(kind: EventType, to: Status, version: int, **extra: Any) -> EventRow:
    return event_row(
        type=str(kind),
        to_status=str(to),
        opd_id=extra.pop("opd_id", None),
        data=extra,
        version=version,
    )


def test_replay_rebuilds_a_rejected_duplicate() -> None:
    state = replay(
        [
            event(E.SUBMITTED, S.RECEIVED, 1),
            event(E.REJECTED, S.REJECTED, 2, reason="DUPLICATE", duplicate_of_id=7),
        ]
    )
    assert state == ComplaintState(S.REJECTED, None, None, RejectionReason.DUPLICATE, 7, None, 0, 2)


def test_replay_rebuilds_a_reassigned_reopened_rated_complaint() -> None:
    state = replay(
        [
            event(E.SUBMITTED, S.RECEIVED, 1),
            event(E.ASSIGNED, S.ASSIGNED, 2, opd_id=3),
            event(E.WORK_ITEM_LINKED, S.ASSIGNED, 3, opd_id=3, work_item_id=11),
            event(E.FOLLOWED_UP, S.IN_PROGRESS, 4, opd_id=3),
            event(E.REASSIGNED, S.ASSIGNED, 5, opd_id=4),
            event(E.FOLLOWED_UP, S.IN_PROGRESS, 6, opd_id=4),
            event(E.RESOLVED, S.RESOLVED, 7, opd_id=4),
            event(E.REOPENED, S.IN_PROGRESS, 8, opd_id=4),
            event(E.RESOLVED, S.RESOLVED, 9, opd_id=4),
            event(E.CONFIRMED, S.CLOSED, 10, opd_id=4, rating=4),
            event(E.WORK_ITEM_LINKED, S.CLOSED, 11, opd_id=4, work_item_id=None),
        ]
    )
    assert state == ComplaintState(S.CLOSED, 4, 4, None, None, None, 0, 11)


def test_replay_refuses_a_history_that_does_not_start_with_submitted() -> None:
    with pytest.raises(ValueError, match="first event must be SUBMITTED, not ASSIGNED"):
        replay([event(E.ASSIGNED, S.ASSIGNED, 1, opd_id=3)])


def test_replay_refuses_a_second_submitted() -> None:
    with pytest.raises(ValueError, match="SUBMITTED can only be"):
        replay([event(E.SUBMITTED, S.RECEIVED, 1), event(E.SUBMITTED, S.RECEIVED, 2)])


def test_replay_refuses_an_empty_history() -> None:
    with pytest.raises(ValueError, match="no events"):
        replay([])


def test_replay_refuses_a_move_the_machine_forbids() -> None:
    with pytest.raises(InvalidTransition):
        replay([event(E.SUBMITTED, S.RECEIVED, 1), event(E.RESOLVED, S.RESOLVED, 2)])


def test_replay_refuses_an_event_that_records_the_wrong_status() -> None:
    with pytest.raises(ValueError, match="records IN_PROGRESS, the machine says ASSIGNED"):
        replay([event(E.SUBMITTED, S.RECEIVED, 1), event(E.ASSIGNED, S.IN_PROGRESS, 2, opd_id=1)])
