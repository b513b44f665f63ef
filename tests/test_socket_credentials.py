"""A socket's credential after connection_init, over real WebSockets: every operation started on
an open socket is authorised against the credential as it is now, and a socket whose key is
revoked or expires, or whose token expires, is closed with 4403 within the 5 seconds HTTP takes
to refuse it, whether or not anything flows; on one instance and across two sharing a
database. A closed socket leaves nothing behind on the server."""

import asyncio
import contextlib
import gc
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
import websockets
from starlette.websockets import WebSocket

from kilas.auth import api_keys
from kilas.auth import authenticator as authenticator_module
from kilas.auth import watch as watch_module
from kilas.auth.authenticator import KEY_CACHE_SECONDS
from kilas.db import api_keys as api_keys_db
from kilas.domain.clock import ManualClock
from tests._api_helpers import dump
from tests.ops import SUBMIT, complaint_input, submit
from tests.wire import RunningServer, WsClient, bearer, gql_data, start_server, token

EVENTS = "subscription { complaintEvents { cursor type } }"
PERSONAL = "{ complaints(first: 1) { nodes { reporter { name contact } externalRef } } }"
# What a closing socket may take, beyond the documented bound: generous, never asserted on.
SLACK = 5.0
WITHIN = KEY_CACHE_SECONDS + SLACK
API_KEYS = "{ apiKeys { id name } }"
REVOKE = """
mutation Revoke($id: ID!) { revokeApiKey(apiKeyId: $id) { apiKey { revokedAt } errors { code } } }
"""


async def new_key(
    pool: asyncpg.Pool, name: str, role: str = "OPERATOR", expires_at: datetime | None = None
) -> str:
    key, prefix = api_keys.new_key()
    async with pool.acquire() as conn:
        await api_keys_db.insert_key(
            conn, prefix=prefix, key_hash=api_keys.key_hash(key), name=name, role=role,
            opd_id=None, region_code=None, expires_at=expires_at,
        )  # fmt: skip
    return key


async def revoke(url: str, name: str) -> None:
    """Revoke a key as an ADMIN does, through the API of the server at `url`."""
    admin = token("ADMIN")
    keys = (await gql_data(url, API_KEYS, token=admin))["apiKeys"]
    (key_id,) = [k["id"] for k in keys if k["name"] == name]
    payload = (await gql_data(url, REVOKE, {"id": key_id}, token=admin))["revokeApiKey"]
    assert payload["errors"] == [] and payload["apiKey"]["revokedAt"] is not None, payload


async def closed(client: WsClient, timeout: float) -> tuple[int, str, list[dict[str, Any]]]:
    """Read until the server closes the socket: its close code and reason, and the messages that
    came before (pings answered)."""
    messages = [m for ms in client.buffered.values() for m in ms]
    with pytest.raises(websockets.ConnectionClosed) as ended:
        async with asyncio.timeout(timeout):
            while True:
                message = json.loads(await client.ws.recv())
                if message["type"] == "ping":
                    await client.ws.send(json.dumps({"type": "pong"}))
                else:
                    messages.append(message)
    assert ended.value.rcvd is not None, "closed without a close frame"
    return ended.value.rcvd.code, ended.value.rcvd.reason, messages


def refusals(messages: list[dict[str, Any]], op_id: str) -> list[str]:
    """The codes of what `op_id` got; any data for it fails the test."""
    codes = []
    for message in messages:
        if message.get("id") != op_id:
            continue
        assert message["type"] == "error", message
        codes += [e["extensions"]["code"] for e in message["payload"]]
    return codes


async def test_a_revoked_key_closes_an_idle_subscription_with_4403(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    key = await new_key(pool, "quiet wall")
    async with WsClient.connect(server.ws_url, bearer(key)) as client:
        await client.subscribe("s", EVENTS)
        await asyncio.sleep(0.3)
        await revoke(server.http_url, "quiet wall")
        code, reason, messages = await closed(client, WITHIN)
    assert (code, reason) == (4403, "credential revoked")
    assert messages == []


async def test_a_revoked_key_closes_a_live_subscription_with_4403(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    key = await new_key(pool, "busy wall")
    async with WsClient.connect(server.ws_url, bearer(key)) as client:
        await client.subscribe("s", EVENTS)
        await asyncio.sleep(0.3)
        await submit(server.http_url)
        assert (await client.next_data("s"))["complaintEvents"]["type"] == "SUBMITTED"

        async def keep_submitting() -> None:
            while True:
                await submit(server.http_url)
                await asyncio.sleep(0.2)

        writer = asyncio.create_task(keep_submitting())
        try:
            await revoke(server.http_url, "busy wall")
            code, reason, messages = await closed(client, WITHIN)
        finally:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
    assert (code, reason) == (4403, "credential revoked")
    # Events until the revocation is seen, and then at most the subscription's own refusal.
    for message in messages:
        if message["type"] == "next" and "errors" in message["payload"]:
            codes = [e["extensions"]["code"] for e in message["payload"]["errors"]]
            assert codes == ["UNAUTHENTICATED"], message


@pytest.fixture
def socket_watch_paused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-operation check alone: no key is cached, and the watch that would close the
    socket first does not come round during the test."""
    monkeypatch.setattr(authenticator_module, "KEY_CACHE_SECONDS", 0.0)
    monkeypatch.setattr(watch_module, "WATCH_EVERY_SECONDS", 3600.0)


@pytest.mark.usefixtures("socket_watch_paused")
async def test_a_query_on_an_open_socket_after_its_key_is_revoked_is_refused(
    database_url: str, pool: asyncpg.Pool
) -> None:
    key = await new_key(pool, "portal")
    async with start_server(database_url) as server:
        await submit(server.http_url)
        async with WsClient.connect(server.ws_url, bearer(key)) as client:
            await client.subscribe("before", PERSONAL)
            (node,) = (await client.next_data("before"))["complaints"]["nodes"]
            assert node["reporter"] is not None
            await revoke(server.http_url, "portal")
            await client.subscribe("after", PERSONAL)
            code, reason, messages = await closed(client, WITHIN)
    assert (code, reason) == (4403, "credential expired or revoked")
    assert refusals(messages, "after") == ["UNAUTHENTICATED"]


@pytest.mark.usefixtures("socket_watch_paused")
async def test_a_mutation_on_an_open_socket_after_its_key_is_revoked_is_refused_and_changes_nothing(
    database_url: str, pool: asyncpg.Pool
) -> None:
    key = await new_key(pool, "bridge")
    async with start_server(database_url) as server:
        async with WsClient.connect(server.ws_url, bearer(key)) as client:
            await revoke(server.http_url, "bridge")
            before = await dump(pool)
            await client.subscribe("m", SUBMIT, {"input": complaint_input(externalRef="t-1")})
            code, reason, messages = await closed(client, WITHIN)
        assert await dump(pool) == before
    assert (code, reason) == (4403, "credential expired or revoked")
    assert refusals(messages, "m") == ["UNAUTHENTICATED"]


async def test_an_expiring_key_closes_its_quiet_socket_with_4403(database_url: str) -> None:
    clock = ManualClock(datetime.now(UTC))
    async with start_server(database_url, clock=clock, sla_sweep_interval=0) as server:
        conn = await asyncpg.connect(database_url)
        try:
            key, prefix = api_keys.new_key()
            await api_keys_db.insert_key(
                conn, prefix=prefix, key_hash=api_keys.key_hash(key), name="temporary",
                role="PARTNER", opd_id=None, region_code=None,
                expires_at=clock.now() + timedelta(hours=1),
            )  # fmt: skip
        finally:
            await conn.close()
        async with WsClient.connect(server.ws_url, bearer(key)) as client:
            await client.subscribe("s", EVENTS)
            await asyncio.sleep(0.3)
            clock.advance(timedelta(hours=2))
            code, reason, _ = await closed(client, WITHIN)
    assert (code, reason) == (4403, "credential expired")


async def test_revoking_a_key_closes_only_its_own_sockets(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    revoked = await new_key(pool, "revoked")
    kept = await new_key(pool, "kept")
    async with contextlib.AsyncExitStack() as stack:
        ended = [
            await stack.enter_async_context(WsClient.connect(server.ws_url, bearer(revoked)))
            for _ in range(20)
        ]
        going_on = [
            await stack.enter_async_context(WsClient.connect(server.ws_url, bearer(k)))
            for k in (kept, token("OPERATOR"), token("OPERATOR", subject="another"))
        ]
        await revoke(server.http_url, "revoked")
        for client in ended:
            code, reason, _ = await closed(client, WITHIN)
            assert (code, reason) == (4403, "credential revoked")
        for n, client in enumerate(going_on):
            await client.subscribe(f"q{n}", "query { __typename }")
            assert await client.next_data(f"q{n}") == {"__typename": "Query"}


@contextlib.asynccontextmanager
async def two_instances(database_url: str) -> AsyncIterator[tuple[RunningServer, RunningServer]]:
    async with start_server(database_url) as a, start_server(database_url) as b:
        yield a, b


async def test_a_key_revoked_through_one_instance_closes_its_socket_on_another(
    database_url: str, pool: asyncpg.Pool
) -> None:
    key = await new_key(pool, "elsewhere")
    async with two_instances(database_url) as (a, b):
        async with WsClient.connect(b.ws_url, bearer(key)) as client:
            await client.subscribe("s", EVENTS)
            await asyncio.sleep(0.3)
            await revoke(a.http_url, "elsewhere")
            code, reason, messages = await closed(client, WITHIN)
        assert (code, reason) == (4403, "credential revoked")
        assert messages == []
        async with websockets.connect(b.ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
            await ws.send(json.dumps({"type": "connection_init", "payload": bearer(key)}))
            with pytest.raises(websockets.ConnectionClosed) as refused:
                await asyncio.wait_for(ws.recv(), 10)
        assert refused.value.rcvd is not None and refused.value.rcvd.code == 4403


async def test_after_a_revocation_through_one_instance_another_refuses_operations_on_open_sockets(
    database_url: str, pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sockets stay open (the watch does not come round): their operations are refused.
    monkeypatch.setattr(watch_module, "WATCH_EVERY_SECONDS", 3600.0)
    key = await new_key(pool, "two-sided")
    async with two_instances(database_url) as (a, b):
        await submit(a.http_url)
        async with (
            WsClient.connect(b.ws_url, bearer(key)) as reader,
            WsClient.connect(b.ws_url, bearer(key)) as writer,
        ):
            await reader.subscribe("before", PERSONAL)
            await reader.next_data("before")
            await revoke(a.http_url, "two-sided")
            # Until then the instance may still trust what it read of the key.
            await asyncio.sleep(KEY_CACHE_SECONDS + 0.5)
            await reader.subscribe("after", PERSONAL)
            code, reason, messages = await closed(reader, WITHIN)
            assert (code, reason) == (4403, "credential expired or revoked")
            assert refusals(messages, "after") == ["UNAUTHENTICATED"]

            before = await dump(pool)
            await writer.subscribe("m", SUBMIT, {"input": complaint_input(externalRef="t-2")})
            code, reason, messages = await closed(writer, WITHIN)
            assert (code, reason) == (4403, "credential expired or revoked")
            assert refusals(messages, "m") == ["UNAUTHENTICATED"]
            assert await dump(pool) == before


def server_sockets(port: int) -> list[WebSocket]:
    gc.collect()
    return [
        o
        for o in gc.get_objects()
        if isinstance(o, WebSocket) and o.scope.get("server", (None, None))[1] == port
    ]


async def test_a_closed_socket_with_an_expiring_credential_leaves_nothing_behind(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    key = await new_key(pool, "expiring", expires_at=datetime.now(UTC) + timedelta(days=30))
    expiring = token("OPERATOR", expires_at=datetime.now(UTC) + timedelta(days=1))
    for credential in (key, expiring):
        async with WsClient.connect(server.ws_url, bearer(credential)) as client:
            await client.subscribe("s", EVENTS)
            await asyncio.sleep(0.2)
    deadline = asyncio.get_running_loop().time() + 5
    while server_sockets(server.port) and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.1)
    assert server_sockets(server.port) == []
