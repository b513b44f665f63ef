"""Refused mutations over real HTTP: each returns its specific error code and changes nothing,
which is proved by comparing a dump of every table before and after."""

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from kilas.domain.lifecycle import (
    CONSEQUENCES,
    SYSTEM_EVENTS,
    TRANSITIONS,
    EventType,
    Status,
    allowed_events,
)
from tests import ops
from tests._api_helpers import (
    PATHS,
    act,
    act_ok,
    complaint_in,
    create_programme,
    create_work_item,
    data_of,
    dump,
    global_id,
    opd_id,
    post,
    submit,
)
from tests.wire import RunningServer, http_client, start_server

ALLOWED_EVENTS = "query Allowed($id: ID!) { node(id: $id) { ... on Complaint { allowedEvents } } }"

# Each lifecycle mutation and the event it writes.
MUTATION_EVENTS = {
    "assignComplaint": EventType.ASSIGNED,
    "reassignComplaint": EventType.REASSIGNED,
    "recordFollowUp": EventType.FOLLOWED_UP,
    "resolveComplaint": EventType.RESOLVED,
    "confirmResolution": EventType.CONFIRMED,
    "reopenComplaint": EventType.REOPENED,
    "closeComplaint": EventType.CLOSED,
    "rejectComplaint": EventType.REJECTED,
    "linkComplaintToWorkItem": EventType.WORK_ITEM_LINKED,
}


def changed_tables(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [table for table in before if before[table] != after[table]]


async def refused(
    url: str, pool: asyncpg.Pool, name: str, code: str, **input: Any
) -> dict[str, Any]:
    """Run a lifecycle mutation that must be refused with `code`; return the error."""
    before = await dump(pool)
    payload = await act(url, name, **input)
    after = await dump(pool)
    assert [e["code"] for e in payload["errors"]] == [code], (name, input, payload["errors"])
    assert payload["complaint"] is None
    assert payload["event"] is None
    assert changed_tables(before, after) == [], f"refused {name} wrote to the database"
    error: dict[str, Any] = payload["errors"][0]
    return error


async def refused_submission(
    url: str, pool: asyncpg.Pool, code: str, **overrides: Any
) -> dict[str, Any]:
    before = await dump(pool)
    data = await data_of(url, ops.SUBMIT, {"input": ops.complaint_input(**overrides)})
    after = await dump(pool)
    payload = data["submitComplaint"]
    assert [e["code"] for e in payload["errors"]] == [code], (overrides, payload["errors"])
    assert payload["complaint"] is None
    assert payload["event"] is None
    assert payload["created"] is False
    assert changed_tables(before, after) == [], "a refused submission wrote to the database"
    error: dict[str, Any] = payload["errors"][0]
    return error


async def test_forbidden_transitions_are_refused_and_change_nothing(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    dinkes = await opd_id(url, "dinkes")
    received = await complaint_in(url, "RECEIVED")
    assigned = await complaint_in(url, "ASSIGNED")
    closed = await complaint_in(url, "CLOSED")
    rejected = await complaint_in(url, "REJECTED")
    bad = "INVALID_TRANSITION"

    error = await refused(
        url, pool, "resolveComplaint", bad, complaintId=received["id"], resolution="Sudah beres."
    )
    assert "RECEIVED" in error["message"]
    await refused(url, pool, "confirmResolution", bad, complaintId=closed["id"], rating=5)
    await refused(url, pool, "rejectComplaint", bad, complaintId=assigned["id"], reason="SPAM")
    await refused(
        url,
        pool,
        "reassignComplaint",
        bad,
        complaintId=received["id"],
        opdId=dinkes,
        reason="Salah dinas.",
    )
    await refused(url, pool, "recordFollowUp", bad, complaintId=closed["id"], message="Cek lagi.")
    await refused(url, pool, "assignComplaint", bad, complaintId=assigned["id"])
    await refused(url, pool, "reopenComplaint", bad, complaintId=closed["id"], reason="Belum.")
    await refused(url, pool, "closeComplaint", bad, complaintId=rejected["id"])
    await refused(url, pool, "recordFollowUp", bad, complaintId=rejected["id"], message="Halo.")


async def test_a_stale_expected_version_is_refused_and_the_current_one_accepted(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    complaint = await complaint_in(url, "ASSIGNED")
    assert complaint["version"] == 2
    for stale in (1, 3, 99):
        error = await refused(
            url,
            pool,
            "recordFollowUp",
            "STALE_VERSION",
            complaintId=complaint["id"],
            message="Ditinjau.",
            expectedVersion=stale,
        )
        assert error["field"] == "expectedVersion"
    followed = await act_ok(
        url, "recordFollowUp", complaintId=complaint["id"], message="Ditinjau.", expectedVersion=2
    )
    assert followed["complaint"]["version"] == 3


async def test_unknown_complaints_opds_work_items_and_originals_are_not_found(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    nobody = global_id("Complaint", 987654)
    received = await complaint_in(url, "RECEIVED")
    assigned = await complaint_in(url, "ASSIGNED")
    missing = "NOT_FOUND"

    await refused(url, pool, "assignComplaint", missing, complaintId=nobody)
    await refused(url, pool, "recordFollowUp", missing, complaintId=nobody, message="Halo.")
    await refused(url, pool, "confirmResolution", missing, complaintId=nobody, rating=3)
    await refused(
        url, pool, "linkComplaintToWorkItem", missing, complaintId=nobody, workItemId=None
    )
    error = await refused(
        url,
        pool,
        "assignComplaint",
        missing,
        complaintId=received["id"],
        opdId=global_id("Opd", 987654),
    )
    assert error["field"] == "opdId"
    await refused(
        url,
        pool,
        "reassignComplaint",
        missing,
        complaintId=assigned["id"],
        opdId=global_id("Opd", 987654),
        reason="Pindah.",
    )
    error = await refused(
        url, pool, "assignComplaint", missing, complaintId=received["id"], categoryCode="TIDAK_ADA"
    )
    assert error["field"] == "categoryCode"
    error = await refused(
        url,
        pool,
        "linkComplaintToWorkItem",
        missing,
        complaintId=received["id"],
        workItemId=global_id("WorkItem", 987654),
    )
    assert error["field"] == "workItemId"
    error = await refused(
        url,
        pool,
        "rejectComplaint",
        missing,
        complaintId=received["id"],
        reason="DUPLICATE",
        duplicateOfId=nobody,
    )
    assert error["field"] == "duplicateOfId"


async def test_malformed_ids_and_ids_of_the_wrong_type_are_invalid_input(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    received = await complaint_in(url, "RECEIVED")
    dinkes = await opd_id(url, "dinkes")
    programme = await create_programme(url)
    invalid = "INVALID_INPUT"

    for garbage in (
        "garbage",
        "",
        "!!!",
        global_id("Complaint", "abc"),
        global_id("Complaint", 0),
        global_id("Complaint", -3),
        global_id("Complaint", 2**64),
        dinkes,
    ):
        await refused(url, pool, "assignComplaint", invalid, complaintId=garbage)
    error = await refused(
        url, pool, "assignComplaint", invalid, complaintId=received["id"], opdId=received["id"]
    )
    assert error["field"] == "opdId"
    error = await refused(
        url,
        pool,
        "linkComplaintToWorkItem",
        invalid,
        complaintId=received["id"],
        workItemId=programme["id"],
    )
    assert error["field"] == "workItemId"
    await refused(
        url,
        pool,
        "rejectComplaint",
        invalid,
        complaintId=received["id"],
        reason="DUPLICATE",
        duplicateOfId="%%%",
    )


async def test_invalid_submissions_are_refused_and_change_nothing(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    invalid = "INVALID_INPUT"
    for text in ("", "   \n\t"):
        error = await refused_submission(url, pool, invalid, text=text)
        assert error["field"] == "text"
    error = await refused_submission(url, pool, invalid, text="x" * 5001)
    assert error["field"] == "text"
    error = await refused_submission(url, pool, "NOT_FOUND", regionCode="33.99")
    assert error["field"] == "regionCode"
    error = await refused_submission(url, pool, "NOT_FOUND", categoryCode="TIDAK_ADA")
    assert error["field"] == "categoryCode"
    for location in (
        {"lat": 91, "lon": 110.4},
        {"lat": -90.5, "lon": 110.4},
        {"lat": -7.0, "lon": 181},
    ):
        error = await refused_submission(url, pool, invalid, location=location)
        assert error["field"] == "location"
    for urls in (
        ["ftp://media.example/a.jpg"],
        ["javascript:alert(1)"],
        ["foto.jpg"],
        [f"https://media.example/{i}.jpg" for i in range(11)],
    ):
        error = await refused_submission(url, pool, invalid, mediaUrls=urls)
        assert error["field"] == "mediaUrls"
    error = await refused_submission(url, pool, invalid, externalRef="   ")
    assert error["field"] == "externalRef"
    error = await refused_submission(url, pool, invalid, reporter={"name": "N" * 201})
    assert error["field"] == "reporter.name"

    # The limits themselves are accepted.
    at_limit = await submit(
        url,
        text="x" * 5000,
        location={"lat": -90, "lon": 180},
        mediaUrls=[f"http://m.example/{i}" for i in range(10)],
    )
    assert at_limit["created"] is True


async def test_a_nul_character_in_submitted_text_is_refused_as_invalid_input(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    # PostgreSQL text cannot hold U+0000; a channel bot may still pass one on. The request is
    # refused as a whole, before any resolver runs.
    before = await dump(pool)
    body = await post(
        server.http_url,
        ops.SUBMIT,
        {"input": ops.complaint_input(text="Jalan rusak\u0000 di km 7.")},
    )
    assert body.get("data") is None, body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INVALID_INPUT"]
    assert "NUL" in body["errors"][0]["message"]
    assert changed_tables(before, await dump(pool)) == []


async def test_invalid_lifecycle_inputs_are_refused_and_change_nothing(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    invalid = "INVALID_INPUT"
    resolved = await complaint_in(url, "RESOLVED")
    for rating in (0, 6, -1):
        error = await refused(
            url, pool, "confirmResolution", invalid, complaintId=resolved["id"], rating=rating
        )
        assert error["field"] == "rating"

    received = await complaint_in(url, "RECEIVED")
    error = await refused(
        url, pool, "rejectComplaint", invalid, complaintId=received["id"], reason="DUPLICATE"
    )
    assert error["field"] == "duplicateOfId"
    await refused(
        url,
        pool,
        "rejectComplaint",
        invalid,
        complaintId=received["id"],
        reason="DUPLICATE",
        duplicateOfId=received["id"],
    )
    await refused(
        url,
        pool,
        "rejectComplaint",
        invalid,
        complaintId=received["id"],
        reason="SPAM",
        duplicateOfId=resolved["id"],
    )

    uncategorised = (await submit(url, categoryCode=None))["complaint"]
    error = await refused(url, pool, "assignComplaint", invalid, complaintId=uncategorised["id"])
    assert error["field"] == "opdId"

    assigned = await complaint_in(url, "ASSIGNED")
    for message in ("", "   ", "m" * 2001):
        error = await refused(
            url, pool, "recordFollowUp", invalid, complaintId=assigned["id"], message=message
        )
        assert error["field"] == "message"
    dpubmck = assigned["opd"]["id"]
    await refused(
        url,
        pool,
        "reassignComplaint",
        invalid,
        complaintId=assigned["id"],
        opdId=dpubmck,
        reason="Tetap di sini.",
    )
    await refused(
        url,
        pool,
        "reassignComplaint",
        invalid,
        complaintId=assigned["id"],
        opdId=await opd_id(url, "dinkes"),
        reason=" ",
    )
    await refused(url, pool, "resolveComplaint", invalid, complaintId=assigned["id"], resolution="")
    await refused(
        url, pool, "linkComplaintToWorkItem", invalid, complaintId=assigned["id"], workItemId=None
    )


async def test_a_refusal_names_the_input_field_at_fault(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    """`UserError.field` is "the input field at fault": the name the client sent."""
    url = server.http_url
    received = await complaint_in(url, "RECEIVED")
    assigned = await complaint_in(url, "ASSIGNED")
    nobody = global_id("Complaint", 987654)
    cases: dict[str, tuple[str, str, dict[str, Any], str]] = {
        "complaintId of the wrong type": (
            "assignComplaint",
            "INVALID_INPUT",
            {"complaintId": assigned["opd"]["id"]},
            "complaintId",
        ),
        "complaintId that is not an id at all": (
            "assignComplaint",
            "INVALID_INPUT",
            {"complaintId": "garbage"},
            "complaintId",
        ),
        "unknown complaintId": (
            "assignComplaint",
            "NOT_FOUND",
            {"complaintId": nobody},
            "complaintId",
        ),
        "unknown opdId": (
            "assignComplaint",
            "NOT_FOUND",
            {"complaintId": received["id"], "opdId": global_id("Opd", 987654)},
            "opdId",
        ),
        "duplicateOfId that is not an id at all": (
            "rejectComplaint",
            "INVALID_INPUT",
            {"complaintId": received["id"], "reason": "DUPLICATE", "duplicateOfId": "%%%"},
            "duplicateOfId",
        ),
        "stale expectedVersion": (
            "assignComplaint",
            "STALE_VERSION",
            {"complaintId": received["id"], "expectedVersion": 7},
            "expectedVersion",
        ),
        "empty reassignment reason": (
            "reassignComplaint",
            "INVALID_INPUT",
            {"complaintId": assigned["id"], "opdId": await opd_id(url, "dinkes"), "reason": ""},
            "reason",
        ),
        "empty follow-up message": (
            "recordFollowUp",
            "INVALID_INPUT",
            {"complaintId": assigned["id"], "message": ""},
            "message",
        ),
    }
    fields = {}
    for case, (name, code, input, _) in cases.items():
        fields[case] = (await refused(url, pool, name, code, **input))["field"]
    assert fields == {case: field for case, (*_, field) in cases.items()}


async def test_graphql_level_errors_are_reported_without_a_server_error(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    complaint = await complaint_in(url, "RESOLVED")
    confirm = ops.mutation("confirmResolution")
    requests: list[dict[str, Any]] = [
        # A variable of the wrong type.
        {"query": confirm, "variables": {"input": {"complaintId": complaint["id"], "rating": "5"}}},
        {"query": confirm, "variables": {"input": {"complaintId": complaint["id"], "rating": 4.5}}},
        # A required input field missing, or null.
        {"query": confirm, "variables": {"input": {"complaintId": complaint["id"]}}},
        {"query": confirm, "variables": {"input": None}},
        # An unknown input field and an unknown enum value.
        {
            "query": confirm,
            "variables": {"input": {"complaintId": complaint["id"], "rating": 4, "stars": 4}},
        },
        {
            "query": ops.mutation("rejectComplaint"),
            "variables": {"input": {"complaintId": complaint["id"], "reason": "BORING"}},
        },
        # An unknown field, a syntax error, an unknown argument.
        {"query": "{ complaints { nodes { id secretField } } }"},
        {"query": "mutation { closeComplaint(input: {complaintId: "},
        {"query": '{ complaint(trackingNumber: "X", foo: 1) { id } }'},
    ]
    before = await dump(pool)
    async with http_client() as client:
        for request in requests:
            response = await client.post(url, json=request)
            assert response.status_code < 500, (request, response.text)
            body = response.json()
            assert body.get("errors"), (request, body)
            assert body.get("data") is None, (request, body)
        garbage = await client.post(
            url, content=b"{not json", headers={"content-type": "application/json"}
        )
        assert 400 <= garbage.status_code < 500
    assert changed_tables(before, await dump(pool)) == []
    # A well-formed request still works afterwards.
    assert (await post(url, "{ categories { code } }")).get("errors") is None


@pytest.fixture
async def unlimited(database_url: str) -> AsyncIterator[RunningServer]:
    """For a test that sends some two hundred requests in seconds: more than the default
    KILAS_RATE_LIMIT_BURST lets one caller."""
    async with start_server(database_url, rate_limit=0) as running:
        yield running


async def test_every_status_refuses_exactly_the_mutations_the_status_machine_forbids(
    unlimited: RunningServer, pool: asyncpg.Pool
) -> None:
    """For each status and each lifecycle mutation: allowed by TRANSITIONS → it succeeds and
    leads where TRANSITIONS says; not allowed → INVALID_TRANSITION and nothing changes."""
    # Every event a person can cause has its mutation; the sweeper's events have none.
    # (mergeComplaints, which names two complaints, has its own test below; ORIGINAL_RESOLVED
    # follows another complaint's resolution.)
    assert set(MUTATION_EVENTS.values()) == (
        set(EventType) - {EventType.SUBMITTED, EventType.MERGED} - SYSTEM_EVENTS - CONSEQUENCES
    )
    assert set(PATHS) == {s.value for s in Status}
    url = unlimited.http_url
    work_item = await create_work_item(url, (await create_programme(url))["id"])
    other_opd = await opd_id(url, "dinkes")
    inputs: dict[str, dict[str, Any]] = {
        "assignComplaint": {},
        "reassignComplaint": {"opdId": other_opd, "reason": "Kewenangan Dinkes."},
        "recordFollowUp": {"message": "Tim sudah ke lokasi."},
        "resolveComplaint": {"resolution": "Selesai diperbaiki."},
        "confirmResolution": {"rating": 4},
        "reopenComplaint": {"reason": "Masih berlubang."},
        "closeComplaint": {"note": "Tidak ada tanggapan pelapor."},
        "rejectComplaint": {"reason": "SPAM"},
        "linkComplaintToWorkItem": {"workItemId": work_item["id"]},
    }

    mismatches = []
    for status in Status:
        allowed = allowed_events(status)
        refused_here = await complaint_in(url, status.value)
        shown = (await data_of(url, ALLOWED_EVENTS, {"id": refused_here["id"]}))["node"]
        if shown["allowedEvents"] != [e.value for e in allowed]:
            mismatches.append((status, "allowedEvents", shown["allowedEvents"]))
        for name, event in MUTATION_EVENTS.items():
            if event in allowed:
                # A fresh complaint for each allowed move, so that the moves do not interfere.
                fresh = await complaint_in(url, status.value)
                payload = await act(url, name, complaintId=fresh["id"], **inputs[name])
                moved_to = payload["complaint"]["status"] if payload["complaint"] else None
                if payload["errors"] or moved_to != TRANSITIONS[event][status]:
                    mismatches.append((status, name, payload["errors"] or moved_to))
                continue
            before = await dump(pool)
            payload = await act(url, name, complaintId=refused_here["id"], **inputs[name])
            codes = [e["code"] for e in payload["errors"]]
            if codes != ["INVALID_TRANSITION"] or payload["complaint"] is not None:
                mismatches.append((status, name, codes))
            if changed := changed_tables(before, await dump(pool)):
                mismatches.append((status, name, f"changed {changed}"))
    assert mismatches == []


MERGE = """
mutation ($input: MergeComplaintsInput!) { mergeComplaints(input: $input) {
  complaint { id status } errors { code field message }
} }
"""


async def test_a_complaint_merges_from_exactly_the_statuses_the_status_machine_allows(
    unlimited: RunningServer, pool: asyncpg.Pool
) -> None:
    url = unlimited.http_url
    mismatches = []
    for status in Status:
        original = await complaint_in(url, "RECEIVED")
        duplicate = await complaint_in(url, status.value)
        merge = {"originalId": original["id"], "duplicateIds": [duplicate["id"]]}
        before = await dump(pool)
        payload = (await data_of(url, MERGE, {"input": merge}))["mergeComplaints"]
        codes = [e["code"] for e in payload["errors"]]
        if status in TRANSITIONS[EventType.MERGED]:
            moved = await data_of(url, ALLOWED_EVENTS, {"id": duplicate["id"]})
            if codes or moved["node"]["allowedEvents"] != []:
                mismatches.append((status, codes, moved))
        elif codes != ["INVALID_TRANSITION"] or changed_tables(before, await dump(pool)):
            mismatches.append((status, codes, payload["errors"]))
    assert mismatches == []
