"""Random command sequences against the real database: every command either moves a complaint
as the machine says or is refused and changes nothing, and the event log alone rebuilds every
complaint.

Each hypothesis example runs in its own event loop (`asyncio.run`) on the test's database and
submits complaints of its own: the event log is append-only, so nothing is cleaned up between
examples."""

import asyncio
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from kilas.db import complaints as complaints_db
from kilas.db.events import EVENT_COLUMNS
from kilas.db.pool import Connection, connect
from kilas.db.rows import ComplaintRow, EventRow
from kilas.domain import admin, workflow
from kilas.domain.errors import DomainError, ErrorCode
from kilas.domain.lifecycle import (
    TRANSITIONS,
    ComplaintState,
    EventType,
    RejectionReason,
    Status,
    replay,
)

COMPLAINTS = 3
MISSING_ID = 9_000_000_000
KINDS = (
    "assign", "reassign", "follow_up", "resolve", "confirm", "reopen", "close", "reject", "link",
)  # fmt: skip
EVENT_OF = {
    "assign": EventType.ASSIGNED,
    "reassign": EventType.REASSIGNED,
    "follow_up": EventType.FOLLOWED_UP,
    "resolve": EventType.RESOLVED,
    "confirm": EventType.CONFIRMED,
    "reopen": EventType.REOPENED,
    "close": EventType.CLOSED,
    "reject": EventType.REJECTED,
    "link": EventType.WORK_ITEM_LINKED,
}
INVALID, NOT_FOUND = ErrorCode.INVALID_INPUT, ErrorCode.NOT_FOUND


@dataclass(frozen=True)
class Action:
    kind: str
    target: int  # which of the example's complaints
    version: str  # pass the current version, a stale one, or none
    opd: int | str  # index into World.opd_ids, "default" (the category's) or "missing"
    blank_text: bool  # the note / message / resolution / reason is only whitespace
    rating: int
    reason: RejectionReason
    duplicate: int | str  # index of another of the example's complaints, "none" or "missing"
    work_item: int | str  # index into World.work_item_ids, "none" or "missing"


KIND_OF = {event: kind for kind, event in EVENT_OF.items()}


def actions(target: int, status: Status) -> st.SearchStrategy[Action]:
    """Mostly a move the machine allows from `status` (so that complaints get far), else any."""
    # The sweeper's events are not commands; tests/test_sla_sweeper.py covers them.
    legal = [KIND_OF[e] for e in TRANSITIONS if status in TRANSITIONS[e] and e in KIND_OF]
    legal += [k for k in legal if k in ("assign", "follow_up", "resolve", "confirm")]
    kinds = st.sampled_from(KINDS)
    if legal:
        kinds = st.sampled_from([True, True, True, False]).flatmap(
            lambda allowed: st.sampled_from(legal) if allowed else st.sampled_from(KINDS)
        )
    return st.builds(
        Action,
        kind=kinds,
        target=st.just(target),
        version=st.sampled_from(["current"] * 6 + ["none", "stale"]),
        opd=st.sampled_from([0, 1, 2, "default", "default", "missing"]),
        blank_text=st.sampled_from([False] * 6 + [True]),
        rating=st.sampled_from([1, 2, 3, 4, 5, 0, 6]),
        reason=st.sampled_from(list(RejectionReason)),
        duplicate=st.sampled_from(["none", "none", 0, 1, 2, "missing"]),
        work_item=st.sampled_from([0, 1, "none", "missing"]),
    )


@dataclass(frozen=True)
class World:
    """What every example shares: three OPDs (the first is JALAN's default) and two work items."""

    url: str
    opd_ids: tuple[int, int, int]
    jalan_opd_id: int
    work_item_ids: tuple[int, int]


async def _make_world(url: str) -> World:
    conn = await connect(url)
    try:
        jalan_opd_id = await conn.fetchval(
            "SELECT default_opd_id FROM categories WHERE code = 'JALAN'"
        )
        others = await conn.fetch(
            "SELECT id FROM opds WHERE id <> $1 ORDER BY id LIMIT 2", jalan_opd_id
        )
        async with conn.transaction():
            programme = await admin.create_programme(
                conn,
                {
                    "code": "JALAN-CANTIK-2026",
                    "name": "Jalan Cantik",
                    "description": None,
                    "owner_opd_id": jalan_opd_id,
                    "fiscal_year": 2026,
                    "budget_idr": Decimal(1_000_000_000),
                    "realisation_idr": Decimal(0),
                    "target": Decimal(12),
                    "achievement": Decimal(0),
                    "unit": "km",
                    "status": "ONGOING",
                    "predecessor_id": None,
                },
            )
            items = [
                await admin.create_work_item(
                    conn,
                    {
                        "programme_id": programme.id,
                        "name": name,
                        "region_code": "33.19",
                        "road_segment": None,
                        "lat": None,
                        "lon": None,
                        "length_km": Decimal(2),
                        "progress_pct": Decimal(0),
                        "status": "PLANNED",
                        "planned_start": date(2026, 3, 1),
                        "planned_end": None,
                    },
                )
                for name in ("Kudus–Pati km 7", "Kudus–Pati km 9")
            ]
    finally:
        await conn.close()
    return World(
        url,
        (jalan_opd_id, others[0]["id"], others[1]["id"]),
        jalan_opd_id,
        (items[0].id, items[1].id),
    )


@pytest.fixture
def world(database_url: str) -> World:
    return asyncio.run(_make_world(database_url))


async def _row(conn: Connection, complaint_id: int) -> ComplaintRow:
    [row] = await complaints_db.complaints_by_ids(conn, [complaint_id])
    return row


async def _events(conn: Connection, complaint_id: int) -> list[EventRow]:
    return EventRow.from_records(
        await conn.fetch(
            f"SELECT {EVENT_COLUMNS} FROM complaint_events WHERE complaint_id = $1 ORDER BY id",
            complaint_id,
        )
    )


def _refusals(a: Action, row: ComplaintRow, ids: list[int], world: World) -> set[ErrorCode]:
    """Every reason the command must be refused for; empty when it must succeed."""
    why: set[ErrorCode] = set()
    if a.version == "stale":
        why.add(ErrorCode.STALE_VERSION)
    if Status(row.status) not in TRANSITIONS[EVENT_OF[a.kind]]:
        why.add(ErrorCode.INVALID_TRANSITION)
    if a.kind in ("assign", "reassign"):
        if a.opd == "missing":
            why.add(NOT_FOUND)
        elif a.opd == "default" and row.category_code is None:
            why.add(INVALID)
        target_opd = world.jalan_opd_id if a.opd == "default" else _opd(a, world)
        if a.kind == "reassign" and (a.blank_text or target_opd == row.opd_id):
            why.add(INVALID)
    elif a.kind in ("follow_up", "resolve", "reopen"):
        if a.blank_text:
            why.add(INVALID)
    elif a.kind == "confirm":
        if not 1 <= a.rating <= 5:
            why.add(INVALID)
    elif a.kind == "reject":
        duplicate = _duplicate(a, ids)
        if a.reason is RejectionReason.DUPLICATE:
            if duplicate is None or duplicate == row.id:
                why.add(INVALID)
            elif duplicate == MISSING_ID:
                why.add(NOT_FOUND)
        elif duplicate is not None:
            why.add(INVALID)
    elif a.kind == "link":
        work_item = _work_item(a, world)
        if work_item == MISSING_ID:
            why.add(NOT_FOUND)
        elif work_item == row.work_item_id:
            why.add(INVALID)
    return why


def _opd(a: Action, world: World) -> int | None:
    if a.opd == "missing":
        return MISSING_ID
    if a.opd == "default":
        return None
    assert isinstance(a.opd, int)
    return world.opd_ids[a.opd]


def _duplicate(a: Action, ids: list[int]) -> int | None:
    if a.duplicate == "none":
        return None
    if a.duplicate == "missing":
        return MISSING_ID
    assert isinstance(a.duplicate, int)
    return ids[a.duplicate]


def _work_item(a: Action, world: World) -> int | None:
    if a.work_item == "none":
        return None
    if a.work_item == "missing":
        return MISSING_ID
    assert isinstance(a.work_item, int)
    return world.work_item_ids[a.work_item]


async def _run(conn: Connection, a: Action, row: ComplaintRow, ids: list[int], world: World) -> Any:
    cid = row.id
    version = {"current": row.version, "stale": row.version - 1, "none": None}[a.version]
    text = "   " if a.blank_text else "Tim sudah ke lokasi."
    command = workflow.CommandContext(actor="property-test", expected_version=version)
    if a.kind in ("assign", "reassign"):
        return await workflow.assign(
            conn,
            cid,
            command,
            opd_id=_opd(a, world),
            category_code=None,
            note=text,
            reassign=a.kind == "reassign",
        )
    if a.kind == "follow_up":
        return await workflow.follow_up(conn, cid, command, message=text)
    if a.kind == "resolve":
        return await workflow.resolve(conn, cid, command, resolution=text)
    if a.kind == "confirm":
        return await workflow.confirm(conn, cid, command, rating=a.rating, comment=text)
    if a.kind == "reopen":
        return await workflow.reopen(conn, cid, command, reason=text)
    if a.kind == "close":
        return await workflow.close(conn, cid, command, note=text)
    if a.kind == "reject":
        return await workflow.reject(
            conn, cid, command, reason=a.reason, note=text, duplicate_of_id=_duplicate(a, ids)
        )
    assert a.kind == "link"
    return await workflow.link_work_item(conn, cid, command, work_item_id=_work_item(a, world))


def _check_legal(row: ComplaintRow, events: list[EventRow]) -> None:
    status = Status(row.status)
    types = [EventType(e.type) for e in events]
    assigned = status not in (Status.RECEIVED, Status.REJECTED)
    assert (row.opd_id is not None) == assigned, row
    for column in ("sla_policy_id", "assigned_at", "response_due_at", "resolution_due_at"):
        assert (getattr(row, column) is not None) == assigned, (column, row)
    responded = status in (Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED)
    assert (row.first_response_at is not None) == responded, row
    assert (row.resolved_at is not None) == (status in (Status.RESOLVED, Status.CLOSED)), row
    assert (row.closed_at is not None) == (status is Status.CLOSED), row
    assert (row.rating is not None) == (EventType.CONFIRMED in types), row
    if row.rating is not None:
        assert status is Status.CLOSED and 1 <= row.rating <= 5
    assert (row.rejection_reason is not None) == (status is Status.REJECTED), row
    assert (row.duplicate_of_id is not None) == (row.rejection_reason == "DUPLICATE"), row

    # The log: one event per version, in id order, each starting where the last one ended.
    assert types[0] is EventType.SUBMITTED
    assert [e.version for e in events] == list(range(1, row.version + 1))
    assert [e.id for e in events] == sorted({e.id for e in events})
    previous: EventRow | None = None
    for e in events:
        assert e.from_status == (previous.to_status if previous else None), events
        if previous is not None and e.from_opd_id is not None:
            assert e.from_opd_id == previous.opd_id != e.opd_id, events
        previous = e
    assert events[-1].to_status == row.status
    assert events[-1].opd_id == row.opd_id

    assert replay(events) == ComplaintState.from_row(row)


async def _example(world: World, categories: list[str | None], data: st.DataObject) -> None:
    conn = await connect(world.url)
    try:
        ids = []
        for i, category in enumerate(categories):
            async with conn.transaction():
                submitted = await workflow.submit(
                    conn,
                    workflow.Submission(
                        channel="WEB",
                        text=f"Jalan berlubang di depan pasar, laporan {i}.",
                        region_code="33.19",
                        category_code=category,
                    ),
                    actor="warga",
                )
            ids.append(submitted.complaint.id)
        status = dict.fromkeys(ids, Status.RECEIVED)  # the model
        last_event_id = await conn.fetchval("SELECT max(id) FROM complaint_events")

        for _ in range(data.draw(st.integers(0, 40), label="steps")):
            target = data.draw(st.integers(0, COMPLAINTS - 1), label="target")
            a = data.draw(actions(target, status[ids[target]]))
            before = await _row(conn, ids[a.target])
            events_before = len(await _events(conn, before.id))
            expected = _refusals(a, before, ids, world)
            try:
                async with conn.transaction():
                    outcome = await _run(conn, a, before, ids, world)
            except DomainError as refused:
                event(f"refused: {a.kind} ({refused.code})")
                assert expected, f"{a} was refused ({refused.code}: {refused}) on {before}"
                assert refused.code in expected, (a, refused.code, expected)
                assert await _row(conn, before.id) == before
                assert len(await _events(conn, before.id)) == events_before
                assert await conn.fetchval("SELECT max(id) FROM complaint_events") == last_event_id
                continue
            event(f"accepted: {a.kind} from {before.status}")
            assert not expected, f"{a} was accepted on {before}, expected {expected}"
            status[before.id] = TRANSITIONS[EVENT_OF[a.kind]][status[before.id]]
            after = await _row(conn, before.id)
            assert after.status == status[before.id]
            assert after.version == before.version + 1
            assert outcome.event.version == after.version
            assert outcome.event.id > last_event_id
            # A resolution also tells the complaints that follow it (ORIGINAL_RESOLVED on each
            # complaint rejected as its duplicate); nothing else is written beside the event.
            beside = await conn.fetch(
                "SELECT id, type, complaint_id FROM complaint_events WHERE id > $1 AND id <> $2",
                last_event_id,
                outcome.event.id,
            )
            assert all(
                e["type"] == "ORIGINAL_RESOLVED" and e["complaint_id"] != before.id for e in beside
            ), beside
            last_event_id = max([outcome.event.id, *(e["id"] for e in beside)])
            assert len(await _events(conn, before.id)) == events_before + 1
            _check_legal(after, await _events(conn, before.id))

        for cid in ids:
            row = await _row(conn, cid)
            assert row.status == status[cid]
            _check_legal(row, await _events(conn, cid))
    finally:
        await conn.close()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(
    categories=st.lists(st.sampled_from(["JALAN", None]), min_size=COMPLAINTS, max_size=COMPLAINTS),
    data=st.data(),
)
def test_every_command_sequence_keeps_complaints_legal_and_replayable(
    world: World, categories: list[str | None], data: st.DataObject
) -> None:
    asyncio.run(_example(world, categories, data))
