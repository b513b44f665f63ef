"""The command center's live feeds over a real WebSocket: the dashboard coalesces bursts, SLA
alerts reach only the OPD or region they concern, and the leaderboard moves when ranks do."""

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

from kilas.domain.clock import ManualClock
from tests import ops
from tests.wire import RunningServer, WsClient, gql_data, start_server

DASHBOARD = """
subscription { dashboard { intakeToday breachesOpenNow byStatus { status count }
  byChannel { channel count } byRegion { regionCode count open region { name } } } }
"""
SLA_ALERTS = """
subscription Alerts($filter: SlaAlertFilter) {
  slaAlerts(filter: $filter) { cursor type slaClock escalationLevel opd { slug }
    complaint { trackingNumber } }
}
"""
LEADERBOARD = """
subscription { leaderboardChanges(window: LAST_7_DAYS) { rank received opd { slug } } }
"""
OPD_ID = "query ($slug: String!) { opd(slug: $slug) { id } }"
# Tuesday 10:00 WIB: "today" has begun and nothing is due yet.
START = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)


def counts(rows: list[dict], key: str) -> dict[str, int]:
    return {row[key]: row["count"] for row in rows}


async def test_the_dashboard_answers_at_once_then_coalesces_a_burst(database_url: str) -> None:
    async with (
        start_server(database_url, dashboard_interval=0.5, sla_sweep_interval=0) as server,
        WsClient.connect(server.ws_url) as client,
    ):
        await client.subscribe("d", DASHBOARD)
        first = (await client.next_data("d"))["dashboard"]
        assert first["intakeToday"] == 0
        assert first["byStatus"] == []

        await asyncio.gather(
            *(
                ops.submit(server.http_url, channel="WHATSAPP", regionCode="33.74")
                for _ in range(30)
            )
        )
        updates = []
        while True:
            try:
                updates.append((await client.next_data("d", timeout=2))["dashboard"])
            except TimeoutError:
                break
        # 30 events, at most one update per half second: a handful of messages, not 30.
        assert 1 <= len(updates) <= 5, len(updates)
        last = updates[-1]
        assert last["intakeToday"] == 30
        assert counts(last["byStatus"], "status") == {"RECEIVED": 30}
        assert counts(last["byChannel"], "channel") == {"WHATSAPP": 30}
        assert last["byRegion"] == [
            {"regionCode": "33.74", "count": 30, "open": 30, "region": {"name": "Semarang"}}
        ]


async def test_sla_alerts_reach_only_the_opd_they_concern(database_url: str) -> None:
    clock = ManualClock(START)
    async with start_server(database_url, clock=clock, sla_sweep_interval=0) as server:
        url = server.http_url
        dinkes = (await gql_data(url, OPD_ID, {"slug": "dinkes"}))["opd"]["id"]
        road = await ops.submit(url, categoryCode="JALAN")
        health = await ops.submit(url, categoryCode="KESEHATAN", regionCode="33.01")
        for payload in (road, health):
            await ops.act_ok(url, "assignComplaint", complaintId=payload["complaint"]["id"])
        async with (
            WsClient.connect(server.ws_url) as everyone,
            WsClient.connect(server.ws_url) as health_office,
            WsClient.connect(server.ws_url) as cilacap,
        ):
            await everyone.subscribe("a", SLA_ALERTS)
            await health_office.subscribe("a", SLA_ALERTS, {"filter": {"opdId": dinkes}})
            await cilacap.subscribe("a", SLA_ALERTS, {"filter": {"regionCode": "33.01"}})
            await asyncio.sleep(0.2)

            clock.advance(timedelta(hours=19))  # past 18 h: both response clocks at risk
            assert await server.app.state.kilas.sweeper.sweep() == 2

            seen = [(await everyone.next_data("a"))["slaAlerts"] for _ in range(2)]
            assert {a["type"] for a in seen} == {"SLA_AT_RISK"}
            assert {a["slaClock"] for a in seen} == {"RESPONSE"}
            for client in (health_office, cilacap):
                alert = (await client.next_data("a"))["slaAlerts"]
                assert alert["opd"] == {"slug": "dinkes"}
                assert alert["complaint"]["trackingNumber"] == health["complaint"]["trackingNumber"]
                assert await client.nothing_more("a")

            # A follow-up is no alert; the breach of the unanswered one is, with its escalation.
            await ops.act_ok(
                url, "recordFollowUp", complaintId=road["complaint"]["id"], message="Ditinjau."
            )
            clock.advance(timedelta(hours=6))
            await server.app.state.kilas.sweeper.sweep()
            breach = (await health_office.next_data("a"))["slaAlerts"]
            escalation = (await health_office.next_data("a"))["slaAlerts"]
            assert (breach["type"], breach["slaClock"]) == ("SLA_BREACHED", "RESPONSE")
            assert (escalation["type"], escalation["escalationLevel"]) == ("ESCALATED", 1)


async def test_the_leaderboard_is_pushed_when_a_rank_changes(server: RunningServer) -> None:
    url = server.http_url
    async with WsClient.connect(server.ws_url) as client:
        await client.subscribe("l", LEADERBOARD)
        # Below the minimum sample (10) nobody is ranked.
        assert (await client.next_data("l"))["leaderboardChanges"] == []
        for _ in range(10):
            payload = await ops.submit(url, categoryCode="PENDIDIKAN")
            await ops.act_ok(url, "assignComplaint", complaintId=payload["complaint"]["id"])
        board = (await client.next_data("l", timeout=10))["leaderboardChanges"]
        assert board == [{"rank": 1, "received": 10, "opd": {"slug": "disdikbud"}}]
        # An event that changes no figure of the board pushes nothing.
        await ops.submit(url, categoryCode="PENDIDIKAN")
        assert await client.nothing_more("l", wait=2.5)


async def test_a_wall_of_dashboards_subscribing_at_once_shares_one_computation(
    database_url: str,
) -> None:
    async with (
        start_server(database_url, dashboard_interval=0.3, sla_sweep_interval=0) as server,
        contextlib.AsyncExitStack() as stack,
    ):
        feeds = server.app.state.kilas.feeds
        clients = await asyncio.gather(
            *(stack.enter_async_context(WsClient.connect(server.ws_url)) for _ in range(20))
        )
        await asyncio.gather(*(client.subscribe("d", DASHBOARD) for client in clients))
        firsts = await asyncio.gather(*(client.next_data("d") for client in clients))
        assert all(first == firsts[0] for first in firsts)
        computed = sum(feed.computations for feed in feeds._dashboards.values())
        assert computed == 1, computed

        # One event: one computation for all 20, each pushed the same figures.
        await ops.submit(server.http_url, regionCode="33.74")
        updates = await asyncio.gather(*(client.next_data("d", timeout=5) for client in clients))
        assert all(update["dashboard"]["intakeToday"] == 1 for update in updates)
        computed = sum(feed.computations for feed in feeds._dashboards.values())
        assert computed == 2, computed
