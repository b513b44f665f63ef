"""Access control of live events over real WebSockets: each role receives exactly the events of
the complaints it may see, live and replayed; credentials are checked in connection_init, and
one that expires or is revoked ends the subscription."""

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
import websockets

from kilas.auth import api_keys
from kilas.auth import authenticator as authenticator_module
from kilas.db import api_keys as api_keys_db
from kilas.domain.clock import ManualClock
from tests._live_helpers import errors_of
from tests.ops import submit
from tests.wire import RunningServer, WsClient, bearer, gql_data, start_server, token

EVENTS = """
subscription E($after: String) {
  complaintEvents(after: $after) { cursor type complaint { id } }
}
"""

# Who subscribes, and how many events of each complaint below it receives (submitted, then
# assigned to dpubmck). Visibility follows the complaint as it stood after each event: the OPD
# holding a confidential complaint sees it from its assignment on.
SUBSCRIBERS: dict[str, tuple[dict[str, Any], dict[str, int]]] = {
    "PUBLIC": ({}, {"plain": 2, "semarang": 2}),
    "PARTNER in Kota Semarang": (bearer(token("PARTNER", region_code="33.74")), {"semarang": 2}),
    "OPD_OFFICER of another OPD": (
        bearer(token("OPD_OFFICER", opd="dinkes")),
        {"plain": 2, "semarang": 2},
    ),
    "OPD_OFFICER holding them": (
        bearer(token("OPD_OFFICER", opd="dpubmck")),
        {"plain": 2, "semarang": 2, "confidential": 1},
    ),
    "OPERATOR": (bearer(token("OPERATOR")), {"plain": 2, "semarang": 2, "confidential": 2}),
}


ASSIGN = "mutation A($id: ID!) { assignComplaint(input: {complaintId: $id}) { errors { code } } }"


async def _make_complaints(url: str) -> dict[str, str]:
    """Three complaints with two events each; returns kind -> complaint id."""
    made = {}
    for kind, overrides in {
        "plain": {},
        "confidential": {"confidential": True},
        "semarang": {"regionCode": "33.74"},
    }.items():
        complaint = (await submit(url, **overrides))["complaint"]
        await gql_data(url, ASSIGN, {"id": complaint["id"]})
        made[kind] = complaint["id"]
    return made


async def _seen(client: WsClient, op_id: str, sentinel: str) -> list[str]:
    """Complaint ids of the events received, up to and including the sentinel's SUBMITTED."""
    seen = []
    while True:
        event = (await client.next_data(op_id))["complaintEvents"]
        seen.append(event["complaint"]["id"])
        if event["complaint"]["id"] == sentinel:
            return seen


async def test_each_role_receives_only_the_events_of_complaints_it_may_see_live_and_replayed(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    start = str(await pool.fetchval("SELECT coalesce(max(id), 0) FROM complaint_events"))
    clients = {}
    async with contextlib.AsyncExitStack() as stack:
        for name, (payload, _) in SUBSCRIBERS.items():
            clients[name] = await stack.enter_async_context(
                WsClient.connect(server.ws_url, payload)
            )
            await clients[name].subscribe("live", EVENTS, {})
        await asyncio.sleep(0.3)
        made = await _make_complaints(url)
        sentinel = (await submit(url, regionCode="33.74"))["complaint"]["id"]
        kind_of = {v: k for k, v in made.items()}
        for name, (_, visible) in SUBSCRIBERS.items():
            live = await _seen(clients[name], "live", sentinel)
            kinds = [kind_of[c] for c in live if c != sentinel]
            assert Counter(kinds) == visible, name
            await clients[name].subscribe("replay", EVENTS, {"after": start})
            replayed = await _seen(clients[name], "replay", sentinel)
            assert replayed == live, name


async def test_a_public_subscriber_gets_forbidden_for_personal_data_in_an_event(
    server: RunningServer,
) -> None:
    query = """
    subscription { complaintEvents { type complaint { id reporter { handle } externalRef } } }
    """
    async with WsClient.connect(server.ws_url, {}) as client:
        await client.subscribe("s", query)
        await asyncio.sleep(0.3)
        await submit(server.http_url, externalRef="tweet-1")
        message = await client.message("s")
        assert message["type"] == "next", message
        codes = {e["extensions"]["code"] for e in message["payload"]["errors"]}
        assert codes == {"FORBIDDEN"}
        complaint = message["payload"]["data"]["complaintEvents"]["complaint"]
        assert complaint["reporter"] is None and complaint["externalRef"] is None


async def _init_refused(url: str, payload: dict[str, Any]) -> tuple[int, str]:
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def test_connection_init_with_a_forged_expired_or_malformed_credential_closes_with_4403(
    server: RunningServer,
) -> None:
    past = datetime.now(UTC) - timedelta(hours=1)
    forged = token("OPERATOR")[:-4] + "AAAA"
    for payload in (
        bearer(forged),
        bearer(token("OPERATOR", expires_at=past)),
        {"authorization": "Basic dXNlcjpwYXNz"},
        {"authorization": 42},
        bearer("kls_00000000_" + "A" * 43),
    ):
        assert await _init_refused(server.ws_url, payload) == (4403, "Forbidden"), payload


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime.now(UTC))


@pytest.fixture
async def clocked(database_url: str, clock: ManualClock) -> AsyncIterator[RunningServer]:
    async with start_server(database_url, clock=clock, sla_sweep_interval=0) as running:
        yield running


async def test_a_token_that_expires_ends_the_subscription_at_the_next_event(
    clocked: RunningServer, clock: ManualClock
) -> None:
    expiring = token("OPERATOR", expires_at=clock.now() + timedelta(hours=1))
    async with WsClient.connect(clocked.ws_url, bearer(expiring)) as client:
        await client.subscribe("s", EVENTS, {})
        await asyncio.sleep(0.3)
        await submit(clocked.http_url)
        assert (await client.next_data("s"))["complaintEvents"]["type"] == "SUBMITTED"
        clock.advance(timedelta(hours=2))
        await submit(clocked.http_url)
        message = await client.message("s")
        assert [e["extensions"]["code"] for e in errors_of(message)] == ["UNAUTHENTICATED"]


async def test_a_quiet_socket_is_closed_when_its_token_expires(server: RunningServer) -> None:
    expiring = token("OPERATOR", expires_at=datetime.now(UTC) + timedelta(seconds=2))
    async with WsClient.connect(server.ws_url, bearer(expiring)) as client:
        await client.subscribe("s", EVENTS, {})
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(client.ws.recv(), 10)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4403, "credential expired")


async def test_a_revoked_api_key_ends_its_subscription(
    server: RunningServer, pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(authenticator_module, "KEY_CACHE_SECONDS", 0.0)
    key, prefix = api_keys.new_key()
    async with pool.acquire() as conn:
        row = await api_keys_db.insert_key(
            conn, prefix=prefix, key_hash=api_keys.key_hash(key), name="portal", role="PARTNER",
            opd_id=None, region_code=None, expires_at=None,
        )  # fmt: skip
    async with WsClient.connect(server.ws_url, bearer(key)) as client:
        await client.subscribe("s", EVENTS, {})
        await asyncio.sleep(0.3)
        await submit(server.http_url)
        assert (await client.next_data("s"))["complaintEvents"]["type"] == "SUBMITTED"
        await pool.execute("UPDATE api_keys SET revoked_at = now() WHERE id = $1", row.id)
        await submit(server.http_url)
        message = await client.message("s")
        assert [e["extensions"]["code"] for e in errors_of(message)] == ["UNAUTHENTICATED"]


async def test_a_socket_that_never_sends_connection_init_is_closed_after_the_timeout(
    database_url: str,
) -> None:
    async with (
        start_server(database_url, ws_init_timeout=1.0) as running,
        websockets.connect(running.ws_url, subprotocols=["graphql-transport-ws"]) as ws,  # type: ignore[list-item]
    ):
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4408


async def test_the_legacy_graphql_ws_protocol_is_off_unless_configured_and_then_authenticates(
    database_url: str,
) -> None:
    async with (
        start_server(database_url) as running,
        websockets.connect(running.ws_url, subprotocols=["graphql-ws"]) as refused,  # type: ignore[list-item]
    ):
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(refused.recv(), 5)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4406  # subprotocol not acceptable
    async with (
        start_server(database_url, legacy_graphql_ws=True) as running,
        websockets.connect(running.ws_url, subprotocols=["graphql-ws"]) as ws,  # type: ignore[list-item]
    ):
        await ws.send(json.dumps({"type": "connection_init", "payload": bearer("kls_bad")}))
        reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert reply["type"] == "connection_error", reply
