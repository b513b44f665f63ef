"""`/metrics`, `/health`, `/ready` and the request log on a real server: the scrape is read with
prometheus-client's own parser, and each metric moves when its event happens (a request, an
error, a socket, a subscription, an event's delivery, a hint lost on the bus, the bus's
connection lost, an SLA sweep, a delivery waiting in the inbox, a partner endpoint behind)."""

import asyncio
import json
import logging
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from kilas.db.pool import connect
from kilas.domain import workflow
from kilas.domain.clock import ManualClock
from kilas.domain.lifecycle import Channel
from tests import ops
from tests._live_helpers import receive, subscribe
from tests.wire import RunningServer, WsClient, free_port, gql, gql_data, start_server

WIB = timezone(timedelta(hours=7))
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=WIB)
DASHBOARD = Path(__file__).resolve().parent.parent / "docs" / "grafana-dashboard.json"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(server: RunningServer, **headers: str) -> Samples:
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"{server.base_url}/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def until(check: Any, timeout: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "the metric never moved"
        await asyncio.sleep(0.1)


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[RunningServer]:
    async with start_server(
        database_url,
        broadcast_url="postgres://",
        clock=ManualClock(T0),
        sla_sweep_interval=0,
        inbox_poll_interval=0,
        webhook_poll_interval=0,
    ) as running:
        yield running


async def test_each_metric_moves_when_its_event_happens(server: RunningServer) -> None:
    database_url = server.settings.database_url or ""
    before = await scrape(server)
    assert value(before, "kilas_bus_connected") == 1
    assert value(before, "kilas_db_pool_max") == server.settings.db_pool_max

    # A named query and a query the schema refuses.
    await gql_data(server.http_url, "query Regions { regions { code } }")
    await gql(server.http_url, "query Broken { nope }")
    after = await scrape(server)
    ok = {"kind": "graphql", "operation": "Regions", "outcome": "ok"}
    assert value(after, "kilas_request_duration_seconds_count", **ok) == 1
    broken = {"kind": "graphql", "operation": "Broken", "outcome": "errors"}
    assert value(after, "kilas_request_duration_seconds_count", **broken) == 1
    assert value(after, "kilas_graphql_errors_total", code="GRAPHQL_VALIDATION_FAILED") == 1

    async with WsClient.connect(server.ws_url) as client:
        await subscribe(client, "events")
        await until(lambda: _gauge(server, "kilas_subscriptions", 1))
        now = await scrape(server)
        assert value(now, "kilas_open_sockets") == 1 and value(now, "kilas_cohorts") == 1

        # An event, from its commit to this instance's subscribers.
        lag = value(now, "kilas_event_lag_seconds_count")
        await gql_data(server.http_url, ops.SUBMIT, {"input": ops.complaint_input()})
        await receive(client, "events", 1)
        assert value(await scrape(server), "kilas_event_lag_seconds_count") == lag + 1

        # An event no hint announced: the poll catches it up.
        await _submit_quietly(database_url, "33.19")
        await receive(client, "events", 1)
        assert value(await scrape(server), "kilas_poll_catch_ups_total") >= 1

        # The bus's LISTEN connection is lost: reconnected, and counted.
        listener = server.app.state.kilas.bus._backend._conn.get_server_pid()
        conn = await connect(database_url)
        try:
            await conn.execute("SELECT pg_terminate_backend($1)", listener)
        finally:
            await conn.close()
        await until(lambda: _gauge(server, "kilas_bus_reconnects_total", 1))
        assert value(await scrape(server), "kilas_bus_connected") == 1
    await until(lambda: _gauge(server, "kilas_open_sockets", 0))

    # An SLA sweep two days on: the complaints assigned at T0 are breached.
    await _assign_all(database_url)
    server.app.state.kilas.sweeper.clock.advance(timedelta(hours=48))
    await server.app.state.kilas.sweeper.sweep()
    swept = await scrape(server)
    assert value(swept, "kilas_sla_sweeps_total") >= 1
    assert value(swept, "kilas_sla_events_written_total", type="SLA_BREACHED") == 2
    # Level 1 follows the breach at once (24 h), level 2 a day later (48 h): two each.
    assert value(swept, "kilas_sla_events_written_total", type="ESCALATED") == 4

    # A delivery waiting in the channel inbox, a partner endpoint behind the log.
    conn = await connect(database_url)
    try:
        await conn.execute(
            "INSERT INTO channel_deliveries (platform, body) VALUES ('INTAKE', '\\x7b7d')"
        )
        await _endpoint(conn)
        newest = await conn.fetchval("SELECT max(id) FROM complaint_events")
    finally:
        await conn.close()
    depths = await scrape(server)
    assert value(depths, "kilas_inbox_deliveries", state="PENDING") == 1
    assert value(depths, "kilas_webhook_endpoints", state="active") == 1
    assert value(depths, "kilas_webhook_outbox_events") == newest
    idle = value(depths, "kilas_db_pool_connections", state="idle")
    in_use = value(depths, "kilas_db_pool_connections", state="in_use")
    assert idle + in_use >= server.settings.db_pool_min

    # The Grafana dashboard in docs/ asks only for series Kilas has.
    exposed = {name for name, _ in depths}
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    asked = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"kilas_[a-z_]+", target["expr"])
    }
    assert asked and asked <= exposed, asked - exposed


async def _gauge(server: RunningServer, name: str, expected: float) -> bool:
    return value(await scrape(server), name) == expected


async def _submit_quietly(database_url: str, region: str) -> None:
    """A complaint written straight through the domain, with no hint on the bus."""
    conn = await connect(database_url)
    try:
        async with conn.transaction():
            await workflow.submit(
                conn,
                workflow.Submission(
                    channel=Channel.WEB,
                    text="Lampu jalan mati di ruas Kudus–Pati.",
                    region_code=region,
                    category_code="JALAN",
                ),
                actor="test",
                at=T0,
            )
    finally:
        await conn.close()


async def _assign_all(database_url: str) -> None:
    conn = await connect(database_url)
    try:
        for complaint_id in [r["id"] for r in await conn.fetch("SELECT id FROM complaints")]:
            async with conn.transaction():
                await workflow.assign(
                    conn, complaint_id, workflow.CommandContext(actor="test", at=T0),
                    opd_id=None, category_code="JALAN",
                )  # fmt: skip
    finally:
        await conn.close()


async def _endpoint(conn: asyncpg.Connection) -> None:
    key = await conn.fetchval(
        "INSERT INTO api_keys (name, role, key_hash, prefix) "
        "VALUES ('mitra', 'PARTNER', sha256('k'), 'kilasmtr') RETURNING id"
    )
    await conn.execute(
        "INSERT INTO webhook_endpoints (api_key_id, url, secret, created_by) "
        "VALUES ($1, 'https://mitra.example/hook', 'whsec_dGVzdA==', 'test')",
        key,
    )


async def test_metrics_need_the_token_when_one_is_set_and_never_a_kilas_credential(
    database_url: str,
) -> None:
    token = "metrics-token-for-the-scraper-0123456789"
    async with start_server(database_url, metrics_token=token) as server:
        async with httpx.AsyncClient(timeout=5) as client:
            refused = await client.get(f"{server.base_url}/metrics")
            assert refused.status_code == 401
            wrong = await client.get(
                f"{server.base_url}/metrics", headers={"authorization": "Bearer wrong"}
            )
            assert wrong.status_code == 401
        assert await scrape(server, authorization=f"Bearer {token}")
    async with (
        start_server(database_url, metrics=False) as server,
        httpx.AsyncClient(timeout=5) as client,
    ):
        assert (await client.get(f"{server.base_url}/metrics")).status_code == 404
    # On a port of its own: there, and not on the API's.
    port = free_port()
    async with (
        start_server(
            database_url, metrics_port=port, env="production", jwt_secret="s" * 40
        ) as server,
        httpx.AsyncClient(timeout=5) as client,
    ):
        assert (await client.get(f"{server.base_url}/metrics")).status_code == 404
        own = await client.get(f"http://127.0.0.1:{port}/metrics")
        assert own.status_code == 200 and "kilas_open_sockets" in own.text


async def test_health_and_ready_say_what_a_probe_needs(server: RunningServer) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        health = await client.get(f"{server.base_url}/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        ready = await client.get(f"{server.base_url}/ready")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "checks": {"database": "ok", "bus": "ok"}}
        # A stopping instance is no longer ready, while it is still alive.
        server.app.state.kilas.draining = True
        stopping = await client.get(f"{server.base_url}/ready")
        assert stopping.status_code == 503
        assert stopping.json()["checks"] == {"instance": "stopping"}
        assert (await client.get(f"{server.base_url}/health")).status_code == 200
        server.app.state.kilas.draining = False
        # The bus's connection lost: not ready until it is back.
        backend = server.app.state.kilas.bus._backend
        backend.connected = False
        lost = await client.get(f"{server.base_url}/ready")
        assert (
            lost.status_code == 503 and lost.json()["checks"]["bus"] == "postgres bus reconnecting"
        )
        backend.connected = True


async def test_one_log_line_per_request_with_its_id_and_never_a_secret(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="kilas.request")
    secret = "kls_thisisnotarealkeybutasecretnonetheless"
    async with httpx.AsyncClient(timeout=5) as client:
        answered = await client.post(
            server.http_url,
            json={"query": "query Regions { regions { code } }"},
            headers={"x-request-id": "wall-7f3a", "authorization": f"Bearer {secret}"},
        )
        await client.get(f"{server.base_url}/open311/v2/requests.json?api_key={secret}")
    assert answered.headers["x-request-id"] == "wall-7f3a"
    lines = [r for r in caplog.records if r.name == "kilas.request"]
    assert len(lines) == 2
    first = lines[0]
    assert first.request_id == "wall-7f3a"  # type: ignore[attr-defined]
    assert first.status == 401  # type: ignore[attr-defined]  # a wrong key is refused
    assert first.operation == "Regions"  # type: ignore[attr-defined]
    for record in lines:
        assert secret not in record.getMessage()
        assert all(secret not in str(v) for v in vars(record).values())
