"""Every path from an object the caller may see to a complaint applies the rule of `node(id:)`,
over real HTTP and WebSocket: an OPD that saw a confidential complaint's events while it held it
does not see the complaint once it has passed to another OPD, whether it asks through the event
log, an event's node, a live or replayed event, a duplicate or a work item."""

import ast
import json
from pathlib import Path
from typing import Any

import asyncpg

from tests._api_helpers import (
    act_ok,
    complaint_in,
    create_programme,
    create_work_item,
    global_id,
    opd_id,
    submit,
)
from tests.ops import mutation
from tests.wire import RunningServer, WsClient, bearer, gql, gql_data, token

OPD_A = token("OPD_OFFICER", opd="dpubmck", subject="officer-a")
OPD_B = token("OPD_OFFICER", opd="dinkes", subject="officer-b")
SECRET = "pejabat Y diperiksa Inspektorat"

EVENTS = """
query Events {
  complaintEvents(first: 50) {
    nodes {
      id type opd { slug }
      complaint { id status text opd { slug } timeline { nodes { note } } }
    }
  }
}
"""


async def _moved_confidential_complaint(url: str) -> dict[str, Any]:
    """Pungli reported in confidence, assigned to OPD A (dpubmck), reassigned to OPD B (dinkes),
    and followed up by B."""
    complaint = await complaint_in(
        url, "ASSIGNED", confidential=True, text="Pungli di kantor X oleh pejabat Y."
    )
    moved = await act_ok(
        url,
        "reassignComplaint",
        complaintId=complaint["id"],
        opdId=await opd_id(url, "dinkes"),
        reason="Bukan kewenangan DPUBMCK.",
    )
    body = await gql(
        url,
        mutation("recordFollowUp"),
        {"input": {"complaintId": complaint["id"], "message": SECRET}},
        token=OPD_B,
    )
    assert "errors" not in body and body["data"]["recordFollowUp"]["errors"] == [], body
    result: dict[str, Any] = moved["complaint"]
    return result


async def test_an_opd_that_no_longer_holds_a_confidential_complaint_sees_its_own_event_but_not_the_complaint(  # noqa: E501
    server: RunningServer,
) -> None:
    url = server.http_url
    complaint = await _moved_confidential_complaint(url)
    body = await gql(url, EVENTS, token=OPD_A)
    assert "errors" not in body, body
    assert SECRET not in json.dumps(body)
    mine = [
        e
        for e in body["data"]["complaintEvents"]["nodes"]
        if e["type"] in ("ASSIGNED", "REASSIGNED")
    ]
    # The assignment to A is A's to see, as the complaint stood then; the complaint is not.
    assert mine == [
        {"id": mine[0]["id"], "type": "ASSIGNED", "opd": {"slug": "dpubmck"}, "complaint": None}
    ]
    node = "query N($id: ID!) { node(id: $id) { ... on Complaint { id } } }"
    assert (await gql_data(url, node, {"id": complaint["id"]}, token=OPD_A))["node"] is None

    # The same event reached by its id.
    event_node = """
    query N($id: ID!) { node(id: $id) { ... on ComplaintEvent { type complaint { text } } } }
    """
    data = await gql_data(url, event_node, {"id": mine[0]["id"]}, token=OPD_A)
    assert data["node"] == {"type": "ASSIGNED", "complaint": None}

    # B, which holds it now, reads it all through the same log.
    held = await gql_data(url, EVENTS, token=OPD_B)
    followed = [e for e in held["complaintEvents"]["nodes"] if e["type"] == "FOLLOWED_UP"]
    assert followed[0]["complaint"]["opd"] == {"slug": "dinkes"}
    assert SECRET in [n["note"] for n in followed[0]["complaint"]["timeline"]["nodes"]]


async def test_a_replayed_event_of_a_complaint_that_moved_away_carries_no_complaint(
    server: RunningServer,
) -> None:
    url = server.http_url
    await _moved_confidential_complaint(url)
    query = """
    subscription E($after: String) {
      complaintEvents(after: $after) { type opd { slug } complaint { status text } }
    }
    """
    async with WsClient.connect(server.ws_url, bearer(OPD_A)) as client:
        await client.subscribe("replay", query, {"after": "0"})
        message = await client.message("replay")
        assert message["type"] == "next", message
        assert SECRET not in json.dumps(message)
        assert message["payload"] == {
            "data": {
                "complaintEvents": {
                    "type": "ASSIGNED",
                    "opd": {"slug": "dpubmck"},
                    "complaint": None,
                }
            }
        }
        assert await client.nothing_more("replay")


async def test_a_duplicate_and_a_work_item_lead_only_to_complaints_the_caller_may_see(
    server: RunningServer,
) -> None:
    url = server.http_url
    secret = await _moved_confidential_complaint(url)
    copy = (await submit(url, externalRef="tweet-copy"))["complaint"]
    await act_ok(
        url,
        "rejectComplaint",
        complaintId=copy["id"],
        reason="DUPLICATE",
        duplicateOfId=secret["id"],
    )
    programme = await create_programme(url)
    item = await create_work_item(url, programme["id"])
    await act_ok(url, "linkComplaintToWorkItem", complaintId=secret["id"], workItemId=item["id"])
    query = """
    query Q($copy: ID!, $item: ID!) {
      copy: node(id: $copy) { ... on Complaint { duplicateOf { id text } } }
      item: node(id: $item) { ... on WorkItem { linkedComplaints { id text } } }
    }
    """
    variables = {"copy": copy["id"], "item": item["id"]}
    seen = {"id": secret["id"], "text": "Pungli di kantor X oleh pejabat Y."}
    for caller, visible in ((OPD_A, False), (None, False), (OPD_B, True)):
        data = await gql_data(url, query, variables, token=caller)
        assert data["copy"]["duplicateOf"] == (seen if visible else None), caller
        assert data["item"]["linkedComplaints"] == ([seen] if visible else []), caller


async def test_the_reporter_who_presents_the_tracking_number_follows_a_confidential_complaint_through_its_events(  # noqa: E501
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    await _moved_confidential_complaint(url)
    number = await pool.fetchval("SELECT tracking_number FROM complaints WHERE confidential")
    query = """
    query C($n: String!) {
      complaint(trackingNumber: $n) {
        status
        lastEvent { type complaint { status } }
        timeline { nodes { type complaint { status } } }
      }
    }
    """
    data = (await gql_data(url, query, {"n": number}, token=None))["complaint"]
    assert data["lastEvent"] == {"type": "FOLLOWED_UP", "complaint": {"status": "IN_PROGRESS"}}
    assert {n["type"] for n in data["timeline"]["nodes"]} == {
        "SUBMITTED", "ASSIGNED", "REASSIGNED", "FOLLOWED_UP",
    }  # fmt: skip
    assert all(n["complaint"] == {"status": "IN_PROGRESS"} for n in data["timeline"]["nodes"])
    # Without the number, the public reaches nothing of it.
    event_id = await pool.fetchval("SELECT max(id) FROM complaint_events")
    node = "query N($id: ID!) { node(id: $id) { ... on ComplaintEvent { type } } }"
    data = await gql_data(url, node, {"id": global_id("ComplaintEvent", event_id)}, token=None)
    assert data["node"] is None


ROOT = Path(__file__).resolve().parent.parent


def test_no_schema_field_or_resolver_checks_a_row_with_assert_which_python_dash_O_strips() -> None:
    found = []
    for folder in ("schema", "resolvers"):
        for path in sorted((ROOT / folder).glob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Assert):
                    found.append(f"{folder}/{path.name}:{node.lineno}")
    assert found == []
