"""Hostile input over real HTTP: each request gets a clear error with a stable
`extensions.code`, never a 500, and the database is exactly as it was (a dump of every table
before and after)."""

import json
from typing import Any

import asyncpg
import pytest

from tests import ops
from tests._api_helpers import dump
from tests.wire import RunningServer, http_client, staff_token_for

SUBMIT = ops.SUBMIT
JSON = {"content-type": "application/json"}


def submission(**overrides: Any) -> bytes:
    body = {"query": SUBMIT, "variables": {"input": ops.complaint_input(**overrides)}}
    return json.dumps(body).encode()


def mutation_alias_bomb(count: int) -> str:
    fields = " ".join(
        f'm{i}: submitComplaint(input: {{channel: X, text: "spam {i}", regionCode: "33.19", '
        f'categoryCode: "JALAN", reporter: {{handle: "@bot"}}}}) {{ created }}'
        for i in range(count)
    )
    return json.dumps({"query": f"mutation {{ {fields} }}"})


def deep_json(levels: int) -> bytes:
    return ("[" * levels + "]" * levels).encode()


# (what is sent: method, body or query string, content type) → (status, code)
HOSTILE: dict[str, tuple[tuple[str, Any, str], int, str]] = {
    "malformed JSON": (("POST", b'{"query": "{ __typename }"', "application/json"), 400,
                       "BAD_REQUEST"),
    "JSON that is not an object": (("POST", b'"{ __typename }"', "application/json"), 400,
                                   "BAD_REQUEST"),
    "JSON null": (("POST", b"null", "application/json"), 400, "BAD_REQUEST"),
    "a batch (not enabled)": (("POST", b'[{"query": "{ __typename }"}]', "application/json"),
                              400, "BAD_REQUEST"),
    "JSON nested past Python's recursion limit": (("POST", deep_json(50_000),
                                                   "application/json"), 400, "BAD_REQUEST"),
    "a query that is not a string": (("POST", b'{"query": 5}', "application/json"), 400,
                                     "BAD_REQUEST"),
    "variables that are not an object": (("POST", b'{"query": "{ __typename }", '
                                          b'"variables": [1]}', "application/json"), 400,
                                         "BAD_REQUEST"),
    "no query": (("POST", b"{}", "application/json"), 400, "BAD_REQUEST"),
    "an unsupported content type": (("POST", b"{ __typename }", "text/plain"), 400,
                                    "BAD_REQUEST"),
    "a mutation over GET": (("GET", "mutation { __typename }", ""), 400, "BAD_REQUEST"),
    # Subscriptions run over the WebSocket; over HTTP they were an internal error.
    "a subscription over POST": (("POST", json.dumps({"query": "subscription { complaintEvents "
                                                      "{ cursor } }"}), "application/json"),
                                 400, "BAD_REQUEST"),
    "a subscription over GET": (("GET", "subscription { complaintEvents { cursor } }", ""), 400,
                                "BAD_REQUEST"),
    "a syntax error": (("POST", b'{"query": "{ complaints(first: }"}', "application/json"),
                       200, "GRAPHQL_PARSE_FAILED"),
    "an unknown field": (("POST", b'{"query": "{ passwords }"}', "application/json"), 200,
                         "GRAPHQL_VALIDATION_FAILED"),
    "a variable of the wrong type": (("POST", submission(channel=5), "application/json"), 200,
                                     "BAD_USER_INPUT"),
    "an unknown enum value": (("POST", submission(channel="CARRIER_PIGEON"),
                               "application/json"), 200, "BAD_USER_INPUT"),
    "a nested input of the wrong shape": (("POST", submission(reporter=["@a", "@b"]),
                                           "application/json"), 200, "BAD_USER_INPUT"),
    "a missing required variable": (("POST", json.dumps({"query": SUBMIT}).encode(),
                                     "application/json"), 200, "BAD_USER_INPUT"),
    "a string over the body limit": (("POST", submission(text="x" * 300_000),
                                      "application/json"), 413, "PAYLOAD_TOO_LARGE"),
    "a deep query": (("POST", json.dumps({"query": "{" + " complaint {" * 300 + "}" * 301}),
                      "application/json"), 200, "QUERY_TOO_COMPLEX"),
    "a wide query": (("POST", json.dumps({"query": "{" + " __typename" * 5000 + " }"}),
                      "application/json"), 200, "QUERY_TOO_COMPLEX"),
    "an alias bomb of mutations": (("POST", mutation_alias_bomb(100), "application/json"), 200,
                                   "QUERY_TOO_COMPLEX"),
}  # fmt: skip


@pytest.mark.parametrize("case", HOSTILE)
async def test_hostile_requests_get_a_coded_error_and_change_nothing(
    server: RunningServer, pool: asyncpg.Pool, case: str
) -> None:
    (method, payload, content_type), status, code = HOSTILE[case]
    before = await dump(pool)
    async with http_client(staff_token_for("submitComplaint")) as client:
        if method == "GET":
            response = await client.get(server.http_url, params={"query": payload})
        else:
            body = payload.encode() if isinstance(payload, str) else payload
            response = await client.post(
                server.http_url, content=body, headers={"content-type": content_type}
            )
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/json")
    errors = response.json()["errors"]
    assert errors, response.text
    assert {e["extensions"]["code"] for e in errors} == {code}, errors
    assert all(e["message"] for e in errors)
    assert await dump(pool) == before, f"{case} changed the database"


async def test_long_strings_within_the_body_limit_are_refused_by_the_domain(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    """The body limit is not the only line: a 200 kB complaint text is refused with
    INVALID_INPUT and writes nothing."""
    before = await dump(pool)
    async with http_client(staff_token_for("submitComplaint")) as client:
        response = await client.post(
            server.http_url, content=submission(text="x" * 200_000), headers=JSON
        )
    assert response.status_code == 200
    payload = response.json()["data"]["submitComplaint"]
    assert [e["code"] for e in payload["errors"]] == ["INVALID_INPUT"]
    assert payload["complaint"] is None
    assert await dump(pool) == before
