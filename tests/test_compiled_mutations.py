"""A mutation's payload objects are read back through the compiled path (compiler/readback.py);
strawberry's execution is the oracle. Two identical databases (the demo data, cloned) take the
same mutations in the same order, one with the compiler off and one with it on: every payload,
error and personal-data read must be the same. New complaints get random tracking numbers, so
those are compared by where they appear, not by value."""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest

from kilas.auth.caller import Caller, Role, public
from kilas.compiler import COMPILED, FALLBACKS, response_text
from kilas.compiler.plan import RootPlan
from kilas.compiler.run import FAILED
from kilas.db.pool import create_pool
from kilas.demo import load_demo
from kilas.domain.clock import ManualClock
from kilas.packs import DEFAULT_PACK, load_pack
from kilas.resolvers.context import Context
from kilas.schema import build_schema
from kilas.schema.ids import to_global_id
from kilas.settings import Settings
from tests._database import with_database

COMPLAINT = """
  id trackingNumber status version text confidential anonymous externalRef
  reporter { name contact handle } location { lat lon } createdAt updatedAt assignedAt
  responseDueAt rating rejectionReason allowedEvents
  opd { slug openBacklog head { name } } region { code openComplaints } category { code }
  slaPolicy { name } duplicateOf { id status } workItem { name linkedComplaints { id } }
  sla { response { state dueAt remainingSeconds } resolution { state } escalationLevel }
  lastEvent { type actor note complaint { id trackingNumber } }
  timeline(first: 3) { pageInfo { hasNextPage endCursor } nodes { type toStatus actor } }
"""
EVENT = "id cursor type fromStatus toStatus actor note rating version complaint { id status }"
PAYLOAD = f"complaint {{ {COMPLAINT} }} event {{ {EVENT} }} errors {{ code field message }}"
ASSIGN = f"mutation($id: ID!) {{ assignComplaint(input: {{complaintId: $id}}) {{ {PAYLOAD} }} }}"


class _Bus:
    async def notify_in_transaction(self, conn: Any, event_id: int) -> None:
        return None

    async def notify_committed(self, event_id: int) -> None:
        return None


class _Hub:
    def poke(self) -> None:
        return None


@dataclass
class Side:
    pool: asyncpg.Pool
    compiled: bool


@dataclass
class World:
    sides: tuple[Side, Side]
    facts: dict[str, Any]
    clock: ManualClock


@pytest.fixture
async def world(pg_url: str, database_url: str) -> AsyncIterator[World]:
    await load_demo(database_url, load_pack(DEFAULT_PACK))
    name = urlsplit(database_url).path.lstrip("/")
    twin = f"{name}_twin"
    admin = await asyncpg.connect(pg_url)
    await admin.execute(f"CREATE DATABASE {twin} TEMPLATE {name}")
    pools = (await create_pool(database_url), await create_pool(with_database(pg_url, twin)))
    try:
        facts = await _facts(pools[0])
        clock = ManualClock(datetime(2026, 11, 30, 5, 0, tzinfo=UTC))
        yield World((Side(pools[0], False), Side(pools[1], True)), facts, clock)
    finally:
        for pool in pools:
            await pool.close()
        await admin.execute(f"DROP DATABASE IF EXISTS {twin}")
        await admin.close()


async def _facts(pool: asyncpg.Pool) -> dict[str, Any]:
    """Complaints of the demo data in the states the scenario needs."""

    async def one(sql: str) -> asyncpg.Record:
        row = await pool.fetchrow(sql)
        assert row is not None, sql
        return row

    received = await one(
        "SELECT id, version FROM complaints WHERE status = 'RECEIVED' AND reporter_name IS NOT "
        "NULL ORDER BY id LIMIT 1"
    )
    duplicate = await one(
        f"SELECT id, version FROM complaints WHERE status = 'RECEIVED' AND id <> {received['id']} "
        "ORDER BY id LIMIT 1"
    )
    held = await one(
        "SELECT id, version, opd_id FROM complaints WHERE status = 'ASSIGNED' "
        "AND NOT anonymous AND reporter_name IS NOT NULL ORDER BY id LIMIT 1"
    )
    resolved = await one(
        "SELECT id, version, tracking_number FROM complaints WHERE status = 'RESOLVED' "
        "ORDER BY id LIMIT 1"
    )
    work_item = await one("SELECT id FROM work_items ORDER BY id LIMIT 1")
    programme = await one("SELECT id FROM programmes ORDER BY id LIMIT 1")
    opd = await one("SELECT id FROM opds ORDER BY id LIMIT 1")
    dinkes = await one("SELECT id FROM opds WHERE slug = 'dinkes'")
    return {
        "received": received,
        "duplicate": duplicate,
        "held": held,
        "resolved": resolved,
        "work_item": to_global_id("WorkItem", work_item["id"]),
        "programme": to_global_id("Programme", programme["id"]),
        "opd": to_global_id("Opd", opd["id"]),
        "dinkes": to_global_id("Opd", dinkes["id"]),
    }


def _cid(row: asyncpg.Record) -> str:
    return to_global_id("Complaint", row["id"])


def _scenario(f: dict[str, Any]) -> list[tuple[Caller, str, dict[str, Any]]]:
    operator = Caller(Role.OPERATOR, "jwt:operator", address="10.0.0.1")
    held_by = f["held"]["opd_id"]
    officer = Caller(Role.OPD_OFFICER, "jwt:officer", address="10.0.0.2", opd_id=held_by)
    admin = Caller(Role.ADMIN, "jwt:admin")
    partner = Caller(Role.PARTNER, "key:7")
    submit = (
        "mutation($input: SubmitComplaintInput!) { submitComplaint(input: $input) "
        f"{{ created {PAYLOAD} }} }}"
    )
    new = {
        "channel": "X",
        "text": "Jalan berlubang di depan sekolah, mohon segera diperbaiki",
        "regionCode": "33.74",
        "externalRef": "tweet-777",
        "reporter": {"name": "Sri", "handle": "@sri"},
    }
    return [
        (public(), submit, {"input": new}),
        # A repeat: the stored one, as this caller may read it.
        (partner, submit, {"input": new}),
        (
            operator,
            ASSIGN,
            {"id": _cid(f["received"])},
        ),
        (
            officer,
            'mutation($id: ID!) { recordFollowUp(input: {complaintId: $id, message: "Tim '
            f'meluncur"}}) {{ {PAYLOAD} }} }}',
            {"id": _cid(f["held"])},
        ),
        (
            officer,
            "mutation($id: ID!, $w: ID) { linkComplaintToWorkItem(input: {complaintId: $id, "
            f"workItemId: $w}}) {{ {PAYLOAD} }} }}",
            {"id": _cid(f["held"]), "w": f["work_item"]},
        ),
        (
            public(),
            "mutation($id: ID!, $t: String) { confirmResolution(input: {complaintId: $id, "
            f"rating: 4, trackingNumber: $t}}) {{ {PAYLOAD} }} }}",
            {"id": _cid(f["resolved"]), "t": f["resolved"]["tracking_number"].lower()},
        ),
        (
            operator,
            "mutation($id: ID!, $d: ID) { rejectComplaint(input: {complaintId: $id, reason: "
            f"DUPLICATE, duplicateOfId: $d}}) {{ {PAYLOAD} }} }}",
            {"id": _cid(f["duplicate"]), "d": _cid(f["received"])},
        ),
        # Refused: a public caller may not assign; the payload carries the error.
        (
            public(),
            ASSIGN,
            {"id": _cid(f["duplicate"])},
        ),
        (
            admin,
            'mutation($o: ID!) { createProgramme(input: {code: "uji-1", name: "Uji", '
            'ownerOpdId: $o, fiscalYear: 2026, budgetIdr: "1500000", realisationIdr: "500000", '
            'target: "12.5", unit: "km"}) { programme { id code budgetIdr realisationIdr '
            "absorptionPct achievementPct owner { slug } workItems { id } } errors { code } } }",
            {"o": f["opd"]},
        ),
        (
            admin,
            'mutation { createOpd(input: {slug: "dinas-uji", shortName: "Uji", name: "Dinas '
            'Uji", kind: DINAS, headName: "Bu Uji"}) { opd { id slug head { name title } '
            "socialAccounts { handle } openBacklog } errors { code } } }",
            {},
        ),
        (
            admin,
            'mutation($o: ID!) { appointOpdHead(input: {opdId: $o, name: "dr. Uji", title: '
            '"Plt. Kepala Dinas", termStart: "2026-11-30T11:00:00+07:00", accounts: [{platform: '
            'INSTAGRAM, handle: "@dr.uji", verified: true}]}) { head { id name title termStart '
            "termEnd accounts { platform handle verified } opd { slug head { name } } } "
            "opd { slug head { name } heads { name termStart termEnd } } errors { code } } }",
            {"o": f["dinkes"]},
        ),
        (
            admin,
            "mutation($o: ID!) { addOpdSocialAccount(input: {opdId: $o, platform: X, handle: "
            '"@uji", verified: true}) { socialAccount { id platform handle verified '
            "opd { slug } } errors { code } } }",
            {"o": f["opd"]},
        ),
        # Two mutations in one operation: strawberry answers all of it.
        (
            operator,
            "mutation($id: ID!) { a: closeComplaint(input: {complaintId: $id}) { complaint "
            "{ status } errors { code } } b: closeComplaint(input: {complaintId: $id}) "
            "{ complaint { status } errors { code } } }",
            {"id": _cid(f["resolved"])},
        ),
    ]


def _context(world: World, side: Side, caller: Caller) -> Context:
    return Context(
        pool=side.pool,
        bus=_Bus(),  # type: ignore[arg-type]
        hub=_Hub(),  # type: ignore[arg-type]
        feeds=None,  # type: ignore[arg-type]
        settings=Settings(),
        clock=world.clock,
        caller=caller,
        compiled_reads=side.compiled,
    )


def _masked(text: str, numbers: dict[str, str]) -> Any:
    """The response, with each new complaint's tracking number replaced by its first place."""

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                key: numbers.setdefault(item, f"<tracking {len(numbers)}>")
                if key == "trackingNumber" and isinstance(item, str) and item.startswith("JTG-")
                else walk(item)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [walk(item) for item in value]
        return value

    return walk(json.loads(text, object_pairs_hook=lambda pairs: dict(pairs)))


async def _access_log(pool: asyncpg.Pool) -> list[tuple[Any, ...]]:
    rows = await pool.fetch(
        "SELECT subject, role, opd_id, field, address, complaint_id FROM personal_data_access "
        "ORDER BY complaint_id, field, subject"
    )
    return [tuple(row) for row in rows]


async def test_mutation_payloads_read_back_compiled_equal_strawberrys(world: World) -> None:
    schema = build_schema()
    read_back_before = COMPILED["payload objects"]
    failed_before = FALLBACKS[FAILED]
    known = {
        row["tracking_number"]
        for row in await world.sides[0].pool.fetch("SELECT tracking_number FROM complaints")
    }
    for caller, mutation, variables in _scenario(world.facts):
        answers = []
        for side in world.sides:
            context = _context(world, side, caller)
            result = await schema.execute(
                mutation, variable_values=variables, context_value=context
            )
            answers.append(response_text(result))
        oracle, compiled = (_masked(text, {n: n for n in known}) for text in answers)
        assert compiled == oracle, f"{caller.role.value}: {mutation}\n{answers[0]}\n{answers[1]}"
    assert await _access_log(world.sides[1].pool) == await _access_log(world.sides[0].pool)
    # The read-back path did the work (else this test would compare strawberry with itself).
    assert COMPILED["payload objects"] - read_back_before >= 10
    assert FALLBACKS[FAILED] == failed_before


async def test_a_payload_that_cannot_be_read_back_is_null_with_an_error_and_the_mutation_stays(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kilas.compiler.readback as readback

    def broken(*args: Any) -> RootPlan:
        return RootPlan("complaint", "SELECT no_such_column", (), ())

    monkeypatch.setattr(readback, "_statement", broken)
    side = world.sides[1]
    context = _context(world, side, Caller(Role.OPERATOR, "jwt:operator"))
    received = world.facts["received"]
    assign = (
        "mutation($id: ID!, $o: ID) { assignComplaint(input: {complaintId: $id, opdId: $o}) "
        f"{{ {PAYLOAD} }} }}"
    )
    result = await build_schema().execute(
        assign,
        variable_values={"id": _cid(received), "o": world.facts["opd"]},
        context_value=context,
    )
    body = json.loads(response_text(result))
    assert body["data"]["assignComplaint"]["complaint"] is None
    assert body["data"]["assignComplaint"]["errors"] == []
    paths = [error["path"] for error in body["errors"]]
    assert ["assignComplaint", "complaint"] in paths
    status = await side.pool.fetchval("SELECT status FROM complaints WHERE id = $1", received["id"])
    assert status == "ASSIGNED"
