"""Limits against abuse, over real HTTP and WebSocket connections: the shape of a query (depth,
aliases, tokens), page sizes, request bodies and WebSocket messages. Each refusal carries a
stable `extensions.code`. Rates, sockets and production mode have their own modules."""

import json
from collections.abc import AsyncIterator
from itertools import cycle, islice
from typing import Any

import pytest
import websockets

from tests.wire import RunningServer, WsClient, gql, http_client, start_server

TOO_COMPLEX = "QUERY_TOO_COMPLEX"


def deep(depth: int) -> str:
    """A valid query whose deepest field is `depth` levels down."""
    path = ["complaintEvents(first: 1)", "nodes"]
    path += islice(cycle(["complaint", "timeline(first: 1)", "nodes"]), max(0, depth - 3))
    path = path[: depth - 1]
    return "{ " + " { ".join([*path, "__typename"]) + " }" * len(path) + " }"


def aliases(count: int) -> str:
    return "{ " + " ".join(f"a{i}: regions {{ code }}" for i in range(count)) + " }"


def the_error(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("data") is None, body
    assert len(body["errors"]) == 1, body["errors"]
    error: dict[str, Any] = body["errors"][0]
    return error


@pytest.fixture
async def limited(database_url: str) -> AsyncIterator[RunningServer]:
    async with start_server(
        database_url, max_query_depth=6, max_aliases=3, max_tokens=120, max_body_bytes=4096
    ) as server:
        yield server


# --- the shape of a query -------------------------------------------------------------------


async def test_a_query_exactly_as_deep_as_the_limit_runs(limited: RunningServer) -> None:
    body = await gql(limited.http_url, deep(6))
    assert "errors" not in body, body


async def test_a_query_deeper_than_the_limit_is_refused_before_it_runs(
    limited: RunningServer,
) -> None:
    error = the_error(await gql(limited.http_url, deep(7)))
    assert error["extensions"] == {"code": TOO_COMPLEX, "limit": "depth", "max": 6}
    assert "more than 6 levels deep" in error["message"]


async def test_depth_counts_through_fragments(limited: RunningServer) -> None:
    query = """
    { complaintEvents(first: 1) { nodes { ...Deeper } } }
    fragment Deeper on ComplaintEvent { complaint { timeline(first: 1) { nodes { ...Leaf } } } }
    fragment Leaf on ComplaintEvent { complaint { __typename } }
    """
    error = the_error(await gql(limited.http_url, query))
    assert error["extensions"]["code"] == TOO_COMPLEX


async def test_aliases_up_to_the_limit_run_and_one_more_is_refused(
    limited: RunningServer,
) -> None:
    body = await gql(limited.http_url, aliases(3))
    assert "errors" not in body and len(body["data"]) == 3, body
    error = the_error(await gql(limited.http_url, aliases(4)))
    assert error["extensions"] == {"code": TOO_COMPLEX, "limit": "aliases", "max": 3}
    assert "more than 3 aliases" in error["message"]


async def test_aliases_count_once_for_each_spread_of_their_fragment(
    limited: RunningServer,
) -> None:
    query = """
    { ...Twice ...Again }
    fragment Twice on Query { ...Pair }
    fragment Again on Query { ...Pair }
    fragment Pair on Query { x: __typename y: __typename }
    """
    error = the_error(await gql(limited.http_url, query))
    assert error["extensions"]["limit"] == "aliases"


async def test_a_document_over_the_token_limit_is_not_parsed_whole(
    limited: RunningServer,
) -> None:
    query = "{ " + " ".join(["__typename"] * 200) + " }"
    error = the_error(await gql(limited.http_url, query))
    assert error["extensions"] == {"code": TOO_COMPLEX, "limit": "tokens", "max": 120}
    assert error["message"] == "the query is too complex: more than 120 tokens"


async def test_the_default_limits_refuse_an_alias_bomb_and_a_deep_query(
    server: RunningServer,
) -> None:
    for query in (aliases(100), deep(40)):
        error = the_error(await gql(server.http_url, query))
        assert error["extensions"]["code"] == TOO_COMPLEX


async def test_the_default_limits_let_graphiql_introspect_the_schema(server: RunningServer) -> None:
    from graphql import get_introspection_query

    body = await gql(server.http_url, get_introspection_query(descriptions=True))
    assert "errors" not in body, body["errors"]
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_over_a_websocket_a_query_too_complex_is_refused_and_the_socket_stays(
    limited: RunningServer,
) -> None:
    async with WsClient.connect(limited.ws_url) as client:
        await client.subscribe("big", "query { " + " ".join(["__typename"] * 200) + " }")
        message = await client.message("big")
        assert message["type"] == "error", message
        assert message["payload"][0]["extensions"]["limit"] == "tokens"

        await client.subscribe("deep", deep(7))
        message = await client.message("deep")
        assert message["type"] == "error", message
        assert message["payload"][0]["extensions"]["limit"] == "depth"

        await client.subscribe("fine", "query { __typename }")
        assert await client.next_data("fine") == {"__typename": "Query"}


# --- page sizes -----------------------------------------------------------------------------

CONNECTIONS = {
    "complaints": "complaints(first: $first) { nodes { id } }",
    "complaintEvents": "complaintEvents(first: $first) { nodes { cursor } }",
    "programmes": "programmes(first: $first) { nodes { id } }",
}


@pytest.mark.parametrize("field", CONNECTIONS)
async def test_every_connection_refuses_a_page_larger_than_the_maximum(
    database_url: str, field: str
) -> None:
    query = f"query Page($first: Int) {{ {CONNECTIONS[field]} }}"
    async with start_server(database_url, max_page_size=5, default_page_size=5) as server:
        assert "errors" not in await gql(server.http_url, query, {"first": 5})
        for first in (6, 0, -1):
            body = await gql(server.http_url, query, {"first": first})
            error = the_error(body)
            assert error["extensions"] == {"code": "INVALID_INPUT", "field": "first"}
            assert error["message"] == "first must be between 1 and 5"


# --- request bodies and WebSocket messages --------------------------------------------------


def padded(size: int) -> bytes:
    """A valid request body of exactly `size` bytes (blanks are not tokens)."""
    body = json.dumps({"query": "{ __typename }", "variables": {}})
    return (body[:-1] + " " * (size - len(body)) + "}").encode()


async def test_a_body_within_the_limit_is_served(limited: RunningServer) -> None:
    async with http_client(None) as client:
        response = await client.post(
            limited.http_url, content=padded(4096), headers={"content-type": "application/json"}
        )
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"__typename": "Query"}}


async def test_a_body_over_the_limit_is_refused_with_413(limited: RunningServer) -> None:
    async with http_client(None) as client:
        response = await client.post(
            limited.http_url, content=padded(4097), headers={"content-type": "application/json"}
        )
    assert response.status_code == 413
    error = the_error(response.json())
    assert error["extensions"] == {"code": "PAYLOAD_TOO_LARGE", "maxBytes": 4096}


async def test_a_chunked_body_without_length_is_refused_once_it_passes_the_limit(
    limited: RunningServer,
) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(1000):  # 1 MB, if nobody stopped it
            sent += 1024
            yield b" " * 1024

    async with http_client(None) as client:
        response = await client.post(
            limited.http_url, content=chunks(), headers={"content-type": "application/json"}
        )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert the_error(response.json())["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_a_websocket_message_over_the_limit_closes_the_socket_with_1009(
    limited: RunningServer,
) -> None:
    async with WsClient.connect(limited.ws_url) as client:
        await client.subscribe("x", "query { __typename }" + " " * 5000)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await client.message("x")
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009
    assert "larger than 4096 bytes" in closed.value.rcvd.reason
