"""The request rate per caller over real HTTP and WebSocket: 429 with Retry-After, per caller,
on the paths that do work; in memory for one instance, in Redis shared by several."""

import asyncio
import contextlib
import json
import os
import secrets
from typing import Any

import httpx
import pytest
import websockets

from tests.wire import RunningServer, WsClient, bearer, start_server, token

REDIS_URL = os.environ.get("KILAS_TEST_REDIS_URL")
NO_REDIS = (
    "the Redis-shared rate limit is tested only when KILAS_TEST_REDIS_URL is set "
    "(e.g. KILAS_TEST_REDIS_URL=redis://127.0.0.1:6379/0)"
)
# One a second, three at once: a test can spend the burst and watch it come back.
TIGHT: dict[str, Any] = {"rate_limit": 60, "rate_limit_burst": 3}
QUERY = {"query": "{ __typename }"}


def caller(name: str = "partner") -> dict[str, str]:
    # A subject of its own for each test: Redis keeps buckets across tests and runs.
    return bearer(token("OPERATOR", subject=f"{name}-{secrets.token_hex(4)}"))


async def post(client: httpx.AsyncClient, server: RunningServer, who: dict[str, str]) -> Any:
    return await client.post(server.http_url, json=QUERY, headers=who)


def assert_limited(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 2
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": retry_after}
    assert error["message"].startswith("too many requests: at most 60 a minute")
    return retry_after


async def test_a_caller_over_its_burst_gets_429_with_retry_after_then_is_served_again(
    database_url: str,
) -> None:
    who = caller()
    async with start_server(database_url, **TIGHT) as server, httpx.AsyncClient() as client:
        for _ in range(3):
            assert (await post(client, server, who)).status_code == 200
        retry_after = assert_limited(await post(client, server, who))

        await asyncio.sleep(retry_after)
        assert (await post(client, server, who)).status_code == 200


async def test_callers_have_buckets_of_their_own(database_url: str) -> None:
    noisy, quiet = caller("noisy"), caller("quiet")
    async with start_server(database_url, **TIGHT) as server, httpx.AsyncClient() as client:
        for _ in range(3):
            await post(client, server, noisy)
        assert_limited(await post(client, server, noisy))
        assert (await post(client, server, quiet)).status_code == 200
        # The public is counted by address, apart from the credentials.
        assert (await post(client, server, {})).status_code == 200


async def test_health_checks_are_not_limited_and_csv_exports_are(database_url: str) -> None:
    who = caller()
    async with start_server(database_url, **TIGHT) as server, httpx.AsyncClient() as client:
        base = f"http://127.0.0.1:{server.port}"
        for _ in range(10):
            assert (await client.get(f"{base}/health")).status_code == 200
        export = f"{base}/export/opd-performance.csv?from=2026-11-01&to=2026-12-01"
        statuses = [(await client.get(export, headers=who)).status_code for _ in range(4)]
        assert statuses[3] == 429, statuses


async def test_operations_over_a_socket_take_from_the_callers_bucket(database_url: str) -> None:
    who = caller()
    async with start_server(database_url, **TIGHT) as server, httpx.AsyncClient() as client:
        assert (await post(client, server, who)).status_code == 200
        # The handshake counts the address: the caller is known only after connection_init.
        async with WsClient.connect(server.ws_url, who) as socket:
            for op_id in ("one", "two"):
                await socket.subscribe(op_id, "query { __typename }")
                assert await socket.next_data(op_id) == {"__typename": "Query"}
            await socket.subscribe("three", "query { __typename }")
            message = await socket.message("three")
            assert message["type"] == "error", message
            [error] = message["payload"]
            assert error["extensions"]["code"] == "RATE_LIMITED"
            assert error["extensions"]["retryAfter"] >= 1
            # The socket itself goes on.
            await asyncio.sleep(error["extensions"]["retryAfter"])
            await socket.subscribe("four", "query { __typename }")
            assert await socket.next_data("four") == {"__typename": "Query"}


async def test_a_public_handshake_over_the_limit_gets_429(database_url: str) -> None:
    async with start_server(database_url, **TIGHT) as server, httpx.AsyncClient() as client:
        for _ in range(3):
            assert (await post(client, server, {})).status_code == 200
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(server.ws_url, subprotocols=["graphql-transport-ws"]):  # type: ignore[list-item]
                pass
    response = refused.value.response
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
    assert json.loads(response.body)["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_a_limit_of_zero_turns_rate_limiting_off(database_url: str) -> None:
    who = caller()
    async with (
        start_server(database_url, rate_limit=0) as server,
        httpx.AsyncClient() as client,
    ):
        statuses = await asyncio.gather(*(post(client, server, who) for _ in range(150)))
    assert {r.status_code for r in statuses} == {200}


@pytest.mark.skipif(not REDIS_URL, reason=NO_REDIS)
async def test_instances_sharing_redis_share_each_callers_bucket(database_url: str) -> None:
    who = caller()
    async with (
        start_server(database_url, rate_limit_url=REDIS_URL, **TIGHT) as a,
        start_server(database_url, rate_limit_url=REDIS_URL, **TIGHT) as b,
        httpx.AsyncClient() as client,
    ):
        assert (await post(client, a, who)).status_code == 200
        assert (await post(client, b, who)).status_code == 200
        assert (await post(client, a, who)).status_code == 200
        assert_limited(await post(client, b, who))
        assert_limited(await post(client, a, who))
        assert (await post(client, a, caller("other"))).status_code == 200


async def test_a_rate_limit_whose_redis_is_down_lets_requests_through(database_url: str) -> None:
    with contextlib.closing(__import__("socket").socket()) as unused:
        unused.bind(("127.0.0.1", 0))
        nowhere = f"redis://127.0.0.1:{unused.getsockname()[1]}/0"
        async with (
            start_server(database_url, rate_limit_url=nowhere, **TIGHT) as server,
            httpx.AsyncClient() as client,
        ):
            statuses = [(await post(client, server, caller())).status_code for _ in range(5)]
    assert statuses == [200] * 5
