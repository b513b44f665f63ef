"""Hypothesis over the public mutations, through real HTTP as the public role: whatever the
input (wrong types, huge or odd strings, bad ids, other complaints' tracking numbers), Kilas
answers with a clear error or does exactly the write asked for: never a 500, never a partial
write.

The server runs in a thread of its own for the whole test; each example compares whole-database
dumps before and after."""

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kilas.db.pool import create_pool
from kilas.schema.ids import to_global_id
from tests import ops
from tests._api_helpers import changed, dump
from tests.ops import complaint_input
from tests.wire import RunningServer, gql_data, server_in_thread

# What a public client would select: nothing it may not read, so that any error is a refusal.
SUBMIT = """
mutation Submit($input: SubmitComplaintInput!) {
  submitComplaint(input: $input) { created complaint { id status } errors { code message field } }
}
"""


def mutation(name: str) -> str:
    return ops.mutation(name, "complaint { id status version } errors { code message field }")


CHANNELS = ["X", "INSTAGRAM", "WHATSAPP", "SMS", "WEB", "HOTLINE", "NATIONAL"]
ODD_TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=300),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a" * 5001,
            "'; DROP TABLE complaints; --",
            "🚧" * 50,
            "Jalan berlubang di depan SDN 2 Kudus",
        ]
    ),
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=9)
)
ANY_JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The value, or a value of any JSON type in its place (wrong variable types)."""
    return st.one_of(strategy, strategy, strategy, ANY_JSON)


submissions = st.fixed_dictionaries(
    {
        "channel": maybe(st.sampled_from(CHANNELS)),
        "text": maybe(ODD_TEXT),
        "regionCode": maybe(st.sampled_from(["33.19", "33.74", "33.99", "", "x" * 300])),
    },
    optional={
        "categoryCode": maybe(st.sampled_from(["JALAN", "KESEHATAN", "NOPE", ""])),
        "externalRef": maybe(ODD_TEXT),
        "reporter": maybe(
            st.fixed_dictionaries(
                {}, optional={"name": ODD_TEXT, "contact": ODD_TEXT, "handle": ODD_TEXT}
            )
        ),
        "anonymous": maybe(st.booleans()),
        "confidential": maybe(st.booleans()),
        "location": maybe(
            st.fixed_dictionaries(
                {
                    "lat": st.floats(-200, 200, allow_nan=False),
                    "lon": st.floats(-200, 200, allow_nan=False),
                }
            )
        ),
        "mediaUrls": maybe(
            st.lists(st.sampled_from(["https://x.id/a.jpg", "ftp://x", "", "h" * 1200]), max_size=3)
        ),
        "unknownField": st.text(max_size=5),
    },
)


async def _snapshot(database_url: str) -> dict[str, Any]:
    pool = await create_pool(database_url, min_size=1, max_size=1)
    try:
        return await dump(pool)
    finally:
        await pool.close()


def snapshot(database_url: str) -> dict[str, Any]:
    return asyncio.run(_snapshot(database_url))


def post(client: httpx.Client, url: str, query: str, variables: Any) -> tuple[int, Any]:
    response = client.post(url, json={"query": query, "variables": variables})
    assert response.status_code != 500 and response.status_code < 500, response.text
    return response.status_code, response.json()


def refused(status: int, body: Any, name: str) -> bool:
    """Refused as a request (no data, errors that say why) or by the mutation (its payload's
    errors); a response with data and errors both would be neither, and fails the test."""
    if status != 200 or body.get("data") is None:
        assert body["errors"] and all(e["message"] for e in body["errors"]), body
        return True
    assert "errors" not in body, body
    return bool(body["data"][name]["errors"])


@pytest.fixture
def running(database_url: str) -> Iterator[RunningServer]:
    with server_in_thread(database_url) as server:
        yield server


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(submission=submissions)
# A submission with an external reference, which a public caller may not read back.
@example(submission={"regionCode": "33.19", "text": "´", "channel": "NATIONAL", "externalRef": "´"})
def test_any_public_submission_is_refused_cleanly_or_writes_one_complaint_and_its_event(
    running: RunningServer, database_url: str, submission: dict[str, Any]
) -> None:
    before = snapshot(database_url)
    with httpx.Client(timeout=30) as client:
        status, body = post(client, running.http_url, SUBMIT, {"input": submission})
    after = snapshot(database_url)
    if refused(status, body, "submitComplaint"):
        assert changed(before, after) == {}, body
        return
    payload = body["data"]["submitComplaint"]
    if payload["created"]:
        diff = changed(before, after)
        grown = {t: (n, n + 1) for t in ("complaints", "complaint_events")
                 for n in [len(before[t])]}  # fmt: skip
        assert diff == grown, diff
    else:
        assert changed(before, after) == {}


reporter_actions = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["confirmResolution", "reopenComplaint"]),
        "target": st.sampled_from(["mine", "other", "missing", "garbage"]),
        "number": st.sampled_from(["mine", "other", "none", "lower", "odd"]),
        "rating": maybe(st.integers(-3, 9)),
        "reason": maybe(ODD_TEXT),
        "comment": maybe(ODD_TEXT),
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(action=reporter_actions, odd=ODD_TEXT)
def test_a_public_reporter_action_needs_the_right_tracking_number_and_changes_one_complaint(
    running: RunningServer, database_url: str, action: dict[str, Any], odd: str
) -> None:
    url = running.http_url
    with httpx.Client(timeout=30) as client:
        mine, other = asyncio.run(_two_resolved(url))
        ids = {"mine": mine["id"], "other": other["id"],
               "missing": to_global_id("Complaint", 9_000_000_000), "garbage": odd}  # fmt: skip
        numbers = {"mine": mine["trackingNumber"], "other": other["trackingNumber"], "none": None,
                   "lower": mine["trackingNumber"].lower(), "odd": odd}  # fmt: skip
        name = action["name"]
        input = {"complaintId": ids[action["target"]], "trackingNumber": numbers[action["number"]]}
        if name == "confirmResolution":
            input |= {"rating": action["rating"], "comment": action["comment"]}
        else:
            input |= {"reason": action["reason"]}
        before = snapshot(database_url)
        client.headers["authorization"] = ""  # the public role
        status, body = post(client, url, mutation(name), {"input": input})
        after = snapshot(database_url)
    if refused(status, body, name):
        assert changed(before, after) == {}, body
        return
    # Allowed only with the complaint's own number (in any letter case), and it alone changes.
    own = {"mine": ("mine", "lower"), "other": ("other",)}
    assert action["number"] in own.get(action["target"], ()), action
    target = mine if action["target"] == "mine" else other
    assert set(changed(before, after)) == {"complaints", "complaint_events"}
    rows_changed = [
        row
        for row, old in zip(after["complaints"], before["complaints"], strict=True)
        if row != old
    ]
    assert [row["tracking_number"] for row in rows_changed] == [target["trackingNumber"]]


async def _two_resolved(url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    from tests._api_helpers import complaint_in

    return await complaint_in(url, "RESOLVED"), await complaint_in(url, "RESOLVED")


def test_the_fuzz_inputs_reach_the_server_as_a_client_sends_them(running: RunningServer) -> None:
    # A sanity check of the harness: a well-formed public submission succeeds through it.
    with httpx.Client(timeout=30) as client:
        status, body = post(client, running.http_url, SUBMIT, {"input": complaint_input()})
    assert status == 200 and body["data"]["submitComplaint"]["errors"] == [], body
    assert asyncio.run(_ok(running.http_url))


async def _ok(url: str) -> bool:
    data = await gql_data(url, "{ categories { code } }")
    return bool(data["categories"])
