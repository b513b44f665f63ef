"""KILAS_ENV=production over real HTTP and WebSocket: introspection and GraphiQL are off unless
turned on, and an unexpected error reaches the client masked, with a code, over both."""

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kilas.auth.caller import Role
from kilas.auth.tokens import issue
from kilas.domain.clock import SystemClock
from tests import ops
from tests.wire import RunningServer, WsClient, gql, http_client, start_server

INTROSPECTION = "{ __schema { queryType { name } } }"
SECRET = "the clock broke at the 7th floor server room"


class BreakableClock(SystemClock):
    """Tells the time until a test breaks it; then every reading fails unexpectedly."""

    broken = False

    def now(self) -> datetime:
        if self.broken:
            raise RuntimeError(SECRET)
        return super().now()


JWT_SECRET = secrets.token_urlsafe(48)


def production(**overrides: Any) -> dict[str, Any]:
    return {"env": "production", "jwt_secret": JWT_SECRET, **overrides}


def operator() -> str:
    expires = datetime.now(UTC) + timedelta(hours=1)
    return issue(JWT_SECRET, subject="operator", role=Role.OPERATOR, expires_at=expires)


@pytest.fixture
async def prod(database_url: str) -> AsyncIterator[RunningServer]:
    async with start_server(database_url, **production()) as server:
        yield server


async def graphiql_page(server: RunningServer) -> Any:
    async with http_client(None) as client:
        return await client.get(server.http_url, headers={"accept": "text/html"})


async def test_production_refuses_introspection_but_answers_typename(prod: RunningServer) -> None:
    body = await gql(prod.http_url, INTROSPECTION, token=None)
    [error] = body["errors"]
    assert error["extensions"] == {"code": "INTROSPECTION_DISABLED"}
    assert "KILAS_INTROSPECTION" in error["message"]
    assert (await gql(prod.http_url, "{ __typename }", token=None)) == {
        "data": {"__typename": "Query"}
    }


async def test_production_serves_no_graphiql(prod: RunningServer) -> None:
    response = await graphiql_page(prod)
    assert response.status_code == 404
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "GRAPHIQL_DISABLED"}


async def test_production_turns_them_on_when_asked(database_url: str) -> None:
    async with start_server(database_url, **production(introspection=True, graphiql=True)) as s:
        body = await gql(s.http_url, INTROSPECTION, token=None)
        assert body == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
        response = await graphiql_page(s)
        assert response.status_code == 200
        assert "graphiql" in response.text.lower()


async def test_development_has_both_on_and_can_turn_them_off(database_url: str) -> None:
    async with start_server(database_url) as server:
        assert "errors" not in await gql(server.http_url, INTROSPECTION, token=None)
        assert (await graphiql_page(server)).status_code == 200
    async with start_server(database_url, introspection=False, graphiql=False) as server:
        body = await gql(server.http_url, INTROSPECTION, token=None)
        assert body["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED"
        assert (await graphiql_page(server)).status_code == 404


DASHBOARD = "{ dashboard { intakeToday } }"
REPLAY = """
subscription Replay($after: String) {
  complaintEvents(after: $after) { cursor complaint { sla { response { state } } } }
}
"""


async def test_an_unexpected_error_is_masked_over_http_and_in_a_subscription(
    database_url: str,
) -> None:
    clock = BreakableClock()
    async with start_server(
        database_url, clock=clock, sla_sweep_interval=0, **production()
    ) as server:
        submitted = await gql(
            server.http_url, ops.SUBMIT, {"input": ops.complaint_input()}, token=operator()
        )
        assert submitted["data"]["submitComplaint"]["created"], submitted
        clock.broken = True

        # (Authentication reads the clock too: the public asks.)
        body = await gql(server.http_url, DASHBOARD, token=None)
        [error] = body["errors"]
        assert error["message"] == "Unexpected error."
        assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
        assert SECRET not in str(body)

        async with WsClient.connect(server.ws_url, {}) as client:
            await client.subscribe("r", REPLAY, {"after": "0"})
            message = await client.message("r")
        assert SECRET not in str(message)
        errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
        assert [e["message"] for e in errors] == ["Unexpected error."]
        assert errors[0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}


async def test_outside_production_the_unexpected_error_shows_with_its_code(
    database_url: str,
) -> None:
    clock = BreakableClock()
    async with start_server(database_url, clock=clock, sla_sweep_interval=0) as server:
        clock.broken = True
        [error] = (await gql(server.http_url, DASHBOARD, token=None))["errors"]
    assert error["message"] == SECRET
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}


async def test_production_still_explains_expected_errors(prod: RunningServer) -> None:
    query = "query Q($n: Int) { complaints(first: $n) { totalCount } }"
    body = await gql(prod.http_url, query, {"n": "many"}, token=operator())
    [error] = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert "Int cannot represent non-integer value" in error["message"]
    body = await gql(prod.http_url, "{ complaints(first: 1000) { totalCount } }", token=operator())
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


# Each mistake is one graphql-core answers with a suggestion ("Did you mean …?") in development.
MISTAKES: list[tuple[str, dict[str, Any], str]] = [
    ("{ complaints(first: 1) { totalCont } }", {}, "totalCount"),
    ("{ complaints(frist: 1) { totalCount } }", {}, "first"),
    ("{ complaints(first: 1, filter: {status: [RECIEVED]}) { totalCount } }", {}, "RECEIVED"),
    ('{ complaints(first: 1, filter: {serch: "x"}) { totalCount } }', {}, "search"),
    (ops.SUBMIT, {"input": ops.complaint_input(reporter={"handel": "@warga"})}, "handle"),
    (ops.SUBMIT, {"input": ops.complaint_input(channel="WHATSAP")}, "WHATSAPP"),
]


async def suggestions(server: RunningServer, token: str) -> list[str]:
    """The error messages of the mistakes, one each."""
    messages = []
    for query, variables, _ in MISTAKES:
        body = await gql(server.http_url, query, variables, token=token)
        assert body.get("data") is None, body
        [error] = body["errors"]
        assert error["extensions"]["code"] in ("GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT")
        messages.append(error["message"])
    return messages


async def test_production_suggests_no_names_when_a_client_gets_one_wrong(
    prod: RunningServer, database_url: str
) -> None:
    for message, (_, _, name) in zip(await suggestions(prod, operator()), MISTAKES, strict=True):
        assert "Did you mean" not in message and name not in message, message
    # The same mistakes, outside production, are answered with the name they missed.
    async with start_server(database_url, jwt_secret=JWT_SECRET) as development:
        for message, (_, _, name) in zip(
            await suggestions(development, operator()), MISTAKES, strict=True
        ):
            assert "Did you mean" in message and name in message, message
