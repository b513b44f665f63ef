"""Reporter privacy over real HTTP: who reads personal data, who sees confidential complaints,
and the access log of every read by staff."""

from typing import Any

import asyncpg
import pytest

from tests._api_helpers import ROLES, complaint_in
from tests.wire import RunningServer, gql, token

FIELDS = {"reporter": "reporter { name contact handle }", "externalRef": "externalRef"}
NODE = "query Q($id: ID!) {{ node(id: $id) {{ ... on Complaint {{ id {selection} }} }} }}"

# (complaint kind, role) -> "read", "forbidden" or "invisible".
READ, FORBIDDEN, INVISIBLE = "read", "forbidden", "invisible"
EXPECTED: dict[str, dict[str, str]] = {
    "plain": {"PUBLIC": FORBIDDEN, "PARTNER": FORBIDDEN, "OPD_OFFICER_OWN": READ,
              "OPD_OFFICER_OTHER": FORBIDDEN, "OPERATOR": READ, "SUPERVISOR": FORBIDDEN,
              "ADMIN": FORBIDDEN},
    "anonymous": {"PUBLIC": FORBIDDEN, "PARTNER": FORBIDDEN, "OPD_OFFICER_OWN": FORBIDDEN,
                  "OPD_OFFICER_OTHER": FORBIDDEN, "OPERATOR": READ, "SUPERVISOR": FORBIDDEN,
                  "ADMIN": FORBIDDEN},
    "confidential": {"PUBLIC": INVISIBLE, "PARTNER": INVISIBLE, "OPD_OFFICER_OWN": READ,
                     "OPD_OFFICER_OTHER": INVISIBLE, "OPERATOR": READ, "SUPERVISOR": FORBIDDEN,
                     "ADMIN": FORBIDDEN},
}  # fmt: skip
KINDS = {
    "plain": {},
    "anonymous": {"anonymous": True},
    "confidential": {"confidential": True},
}


async def _complaints(url: str) -> dict[str, dict[str, Any]]:
    made = {}
    for kind, flags in KINDS.items():
        made[kind] = await complaint_in(
            url,
            "ASSIGNED",
            externalRef=f"tweet-{kind}",
            reporter={"name": "Siti Aminah", "contact": "+62812000111", "handle": "@siti"},
            **flags,
        )
    return made


async def _log_count(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM personal_data_access"))


@pytest.mark.parametrize("field", FIELDS)
async def test_personal_data_is_read_only_by_those_the_privacy_rules_allow_and_every_read_is_logged(
    server: RunningServer, pool: asyncpg.Pool, field: str
) -> None:
    url = server.http_url
    complaints = await _complaints(url)
    for kind, complaint in complaints.items():
        for role, expected in EXPECTED[kind].items():
            logged_before = await _log_count(pool)
            body = await gql(
                url,
                NODE.format(selection=FIELDS[field]),
                {"id": complaint["id"]},
                token=ROLES[role],
            )
            node = body["data"]["node"]
            logged = await _log_count(pool) - logged_before
            where = (kind, role, body)
            if expected == INVISIBLE:
                assert node is None and "errors" not in body, where
                assert logged == 0, where
            elif expected == FORBIDDEN:
                assert node is not None and node[field] is None, where
                assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], where
                assert body["errors"][0]["path"] == ["node", field], where
                assert logged == 0, where
            else:
                assert "errors" not in body, where
                value = node[field]
                assert value == ({"name": "Siti Aminah", "contact": "+62812000111",
                                  "handle": "@siti"} if field == "reporter"
                                 else f"tweet-{kind}"), where  # fmt: skip
                assert logged == 1, where
                row = await pool.fetchrow(
                    "SELECT * FROM personal_data_access ORDER BY id DESC LIMIT 1"
                )
                assert row["field"] == field
                assert row["role"] == role.removesuffix("_OWN")
                assert row["address"] == "127.0.0.1"


LIST = """
query L { complaints(first: 100) { totalCount nodes { id confidential } } }
"""


async def test_lists_leave_out_confidential_complaints_for_the_public_partners_and_other_opds(
    server: RunningServer,
) -> None:
    url = server.http_url
    complaints = await _complaints(url)
    confidential = complaints["confidential"]["id"]
    for role, expected in EXPECTED["confidential"].items():
        data = (await gql(url, LIST, token=ROLES[role]))["data"]["complaints"]
        ids = {node["id"] for node in data["nodes"]}
        assert (confidential in ids) is (expected != INVISIBLE), role
        assert data["totalCount"] == len(ids), role


TRACK = """
query T($number: String!) { complaint(trackingNumber: $number) { id trackingNumber status } }
"""


async def test_a_reporter_follows_any_own_complaint_by_number_but_the_public_never_lists_numbers(
    server: RunningServer,
) -> None:
    url = server.http_url
    complaints = await _complaints(url)
    for kind, complaint in complaints.items():
        number = complaint["trackingNumber"]
        body = await gql(url, TRACK, {"number": number.lower()}, token=None)
        assert body["data"]["complaint"] == {
            "id": complaint["id"],
            "trackingNumber": number,
            "status": "ASSIGNED",
        }, kind
    listed = await gql(url, "{ complaints { nodes { trackingNumber } } }", token=None)
    assert {e["extensions"]["code"] for e in listed["errors"]} == {"FORBIDDEN"}
    unknown = await gql(url, TRACK, {"number": "JTG-000000-XXXXXX"}, token=None)
    assert unknown == {"data": {"complaint": None}}


ACCESS_LOG = """
query A($complaint: ID) {
  personalDataAccess(complaintId: $complaint) { cursor subject role field trackingNumber }
}
"""


async def test_supervisors_and_only_supervisors_read_the_access_log(server: RunningServer) -> None:
    url = server.http_url
    complaints = await _complaints(url)
    plain = complaints["plain"]
    reader = token("OPERATOR", subject="operator-budi")
    await gql(url, NODE.format(selection=FIELDS["reporter"]), {"id": plain["id"]}, token=reader)
    for role in ROLES:
        body = await gql(url, ACCESS_LOG, {"complaint": plain["id"]}, token=ROLES[role])
        if role != "SUPERVISOR":
            assert body["data"] is None, role
            assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], role
            continue
        entries = body["data"]["personalDataAccess"]
        assert entries[0]["subject"] == "jwt:operator-budi"
        assert entries[0]["field"] == "reporter"
        assert entries[0]["trackingNumber"] == plain["trackingNumber"]


PUBLIC_SUBMIT = """
mutation { submitComplaint(input: {channel: WEB, text: "Lampu mati", regionCode: "33.74"}) {
  complaint { trackingNumber } } }
"""
TIMELINE = """
query T($number: String!) { complaint(trackingNumber: $number) { timeline { nodes { actor } } } }
"""


async def test_staff_are_named_in_events_only_to_staff(server: RunningServer) -> None:
    complaint = await complaint_in(server.http_url, "ASSIGNED")
    number = {"number": complaint["trackingNumber"]}
    expected = {
        None: ["staff", "staff"],
        token("PARTNER"): ["staff", "staff"],
        token("SUPERVISOR"): ["jwt:test-operator", "jwt:test-operator"],
    }
    for caller, actors in expected.items():
        body = await gql(server.http_url, TIMELINE, number, token=caller)
        assert [n["actor"] for n in body["data"]["complaint"]["timeline"]["nodes"]] == actors
    submitted = await gql(server.http_url, PUBLIC_SUBMIT, token=None)
    public = submitted["data"]["submitComplaint"]["complaint"]
    body = await gql(server.http_url, TIMELINE, {"number": public["trackingNumber"]}, token=None)
    assert [n["actor"] for n in body["data"]["complaint"]["timeline"]["nodes"]] == ["public"]
