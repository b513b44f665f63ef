"""WebSocket limits over real sockets: connections per caller (released however a socket ends)
and operations per connection (a refused subscribe gets an `error`, the socket stays)."""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
import websockets
from websockets.frames import Close

from tests import ops
from tests._live_helpers import EVENTS, receive, subscribe, wait_for_subscribers
from tests.wire import RunningServer, WsClient, bearer, start_server, token


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[RunningServer]:
    async with start_server(
        database_url, max_connections_per_caller=2, max_subscriptions_per_connection=2
    ) as running:
        yield running


async def refused_connection(url: str, payload: dict[str, Any]) -> Close:
    """Connect and send connection_init; the close frame the server answered with."""
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            message = await asyncio.wait_for(ws.recv(), 10)
            raise AssertionError(f"the connection was accepted: {message!r}")
    assert closed.value.rcvd is not None
    return closed.value.rcvd


async def connects(url: str, payload: dict[str, Any], timeout: float = 5) -> None:
    """Wait until a connection is acknowledged again (the server notices a lost socket)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            async with WsClient.connect(url, payload):
                return
        except (AssertionError, websockets.ConnectionClosed):
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.05)


async def test_a_caller_beyond_its_connections_is_refused_with_1013_until_one_closes(
    server: RunningServer,
) -> None:
    officer = bearer(token("OPERATOR", subject="wall-1"))
    async with contextlib.AsyncExitStack() as stack:
        first = await stack.enter_async_context(WsClient.connect(server.ws_url, officer))
        await stack.enter_async_context(WsClient.connect(server.ws_url, officer))

        close = await refused_connection(server.ws_url, officer)
        assert close.code == 1013
        assert close.reason == "too many connections (at most 2 a caller)"

        # Another caller is counted on its own.
        async with WsClient.connect(server.ws_url, bearer(token("OPERATOR", subject="wall-2"))):
            pass

        await first.ws.close()
        await connects(server.ws_url, officer)


async def test_public_callers_are_counted_by_address(server: RunningServer) -> None:
    async with WsClient.connect(server.ws_url, {}), WsClient.connect(server.ws_url, {}):
        assert (await refused_connection(server.ws_url, {})).code == 1013


async def test_a_connection_lost_without_a_close_frame_is_released(
    server: RunningServer,
) -> None:
    officer = bearer(token("OPERATOR", subject="flaky-wall"))
    async with (
        WsClient.connect(server.ws_url, officer),
        WsClient.connect(server.ws_url, officer) as dropped,
    ):
        dropped.ws.transport.abort()  # as if the cable were pulled
        await connects(server.ws_url, officer)


async def test_a_connection_refused_by_authentication_takes_no_slot(
    server: RunningServer,
) -> None:
    officer = bearer(token("OPERATOR", subject="wall-3"))
    for _ in range(3):
        close = await refused_connection(server.ws_url, bearer("not-a-token"))
        assert close.code == 4403
    async with WsClient.connect(server.ws_url, officer), WsClient.connect(server.ws_url, officer):
        pass


async def test_a_subscribe_beyond_the_limit_gets_an_error_and_the_others_go_on(
    server: RunningServer,
) -> None:
    async with WsClient.connect(server.ws_url) as client:
        await subscribe(client, "a")
        await subscribe(client, "b")
        await wait_for_subscribers(server.port, 2)

        await client.subscribe("c", EVENTS, {})
        message = await client.message("c")
        assert message["type"] == "error"
        [error] = message["payload"]
        assert error["extensions"] == {"code": "TOO_MANY_SUBSCRIPTIONS", "max": 2}
        assert "at most 2 at a time" in error["message"]

        # Completing one makes room; the refused id may be used again.
        await client.complete("a")
        await wait_for_subscribers(server.port, 1)
        await subscribe(client, "c")
        await wait_for_subscribers(server.port, 2)
        await ops.submit(server.http_url)
        [on_b] = await receive(client, "b", 1)
        [on_c] = await receive(client, "c", 1)
        assert on_b["cursor"] == on_c["cursor"]


async def test_the_legacy_protocol_has_the_same_limits(database_url: str) -> None:
    async def legacy(stack: contextlib.AsyncExitStack, url: str) -> Any:
        ws = await stack.enter_async_context(
            websockets.connect(url, subprotocols=["graphql-ws"])  # type: ignore[list-item]
        )
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        return ws

    async with (
        start_server(
            database_url,
            legacy_graphql_ws=True,
            max_connections_per_caller=1,
            max_subscriptions_per_connection=1,
        ) as server,
        contextlib.AsyncExitStack() as stack,
    ):
        first = await legacy(stack, server.ws_url)
        assert json.loads(await first.recv())["type"] == "connection_ack"
        for op_id in ("a", "b"):
            payload = {"query": EVENTS, "variables": {}}
            await first.send(json.dumps({"type": "start", "id": op_id, "payload": payload}))
        refused = json.loads(await asyncio.wait_for(first.recv(), 10))
        assert refused["type"] == "error" and refused["id"] == "b", refused
        assert refused["payload"]["extensions"]["code"] == "TOO_MANY_SUBSCRIPTIONS"

        second = await legacy(stack, server.ws_url)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(second.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013


async def test_a_page_on_the_same_host_with_another_scheme_may_not_open_a_socket(
    server: RunningServer,
) -> None:
    same = f"http://127.0.0.1:{server.port}"
    async with websockets.connect(
        server.ws_url,
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        origin=same,  # type: ignore[arg-type]
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
    for other in (f"https://127.0.0.1:{server.port}", f"http://127.0.0.1:{server.port + 1}"):
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(
                server.ws_url,
                subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                origin=other,  # type: ignore[arg-type]
            ):
                pass
        assert refused.value.response.status_code == 403, other


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_a_handshake_refused_with_429_logs_no_error(database_url: str) -> None:
    errors = _Records()
    uvicorn_log = logging.getLogger("uvicorn.error")
    async with start_server(database_url, rate_limit=60, rate_limit_burst=1) as server:
        uvicorn_log.addHandler(errors)
        try:
            async with websockets.connect(server.ws_url, subprotocols=["graphql-transport-ws"]):  # type: ignore[list-item]
                pass
            for _ in range(2):
                with pytest.raises(websockets.InvalidStatus) as refused:
                    async with websockets.connect(
                        server.ws_url,
                        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                    ):
                        pass
                assert refused.value.response.status_code == 429
            await asyncio.sleep(0.5)  # for anything the server logs once the connection ends
        finally:
            uvicorn_log.removeHandler(errors)
    assert [r.getMessage() for r in errors.records] == []
