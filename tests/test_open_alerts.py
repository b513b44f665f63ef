"""openSlaAlerts: the SLA alerts still open, newest first by the moment each describes, as the
wall loads them before it follows slaAlerts live."""

from datetime import timedelta

import asyncpg

from kilas.db.pool import create_pool
from tests._open_alerts_helpers import breached_ago, held_since
from tests.wire import RunningServer, gql, gql_data

QUERY = """
query ($filter: SlaAlertFilter, $first: Int) {
  openSlaAlerts(filter: $filter, first: $first) {
    type slaClock escalationLevel occurredAt region { code } complaint { id }
  }
}"""
MINUTES = timedelta(minutes=1)


async def _breaches(server: RunningServer) -> None:
    """Complaints breached 5 minutes and 3 hours ago, one at risk (not breached), one breached
    then answered, and a confidential one breached an hour ago."""
    pool: asyncpg.Pool = await create_pool(server.settings.database_url or "", max_size=2)
    try:
        await held_since(pool, breached_ago(5 * MINUTES), "33.74")
        await held_since(pool, breached_ago(180 * MINUTES), "33.01")
        await held_since(pool, breached_ago(-240 * MINUTES), "33.19")
        await held_since(pool, breached_ago(600 * MINUTES), "33.02", followed_up=True)
        await held_since(pool, breached_ago(60 * MINUTES), "33.03", confidential=True)
    finally:
        await pool.close()
    await server.app.state.kilas.sweeper.sweep()


async def test_open_alerts_are_the_marks_still_true_newest_first(server: RunningServer) -> None:
    # given
    await _breaches(server)
    # when
    alerts = (await gql_data(server.http_url, QUERY, {"first": 50}))["openSlaAlerts"]
    # then: a breach and its escalation each, the at-risk mark of the clock not yet breached;
    # nothing of the complaint answered since, nor an at-risk mark superseded by its breach
    shown = [(a["type"], a["region"]["code"]) for a in alerts]
    assert shown == [
        ("ESCALATED", "33.74"), ("SLA_BREACHED", "33.74"),
        ("ESCALATED", "33.03"), ("SLA_BREACHED", "33.03"),
        ("SLA_AT_RISK", "33.19"),
        ("ESCALATED", "33.01"), ("SLA_BREACHED", "33.01"),
    ]  # fmt: skip
    moments = [a["occurredAt"] for a in alerts]
    assert moments == sorted(moments, reverse=True)


async def test_open_alerts_follow_the_filter_the_page_size_and_the_callers_visibility(
    server: RunningServer,
) -> None:
    await _breaches(server)
    semarang = await gql_data(server.http_url, QUERY, {"filter": {"regionCode": "33.74"}})
    assert {a["region"]["code"] for a in semarang["openSlaAlerts"]} == {"33.74"}
    first_two = await gql_data(server.http_url, QUERY, {"first": 2})
    assert len(first_two["openSlaAlerts"]) == 2
    public = await gql(server.http_url, QUERY, {"first": 50}, token=None)
    assert "errors" not in public
    assert "33.03" not in {a["region"]["code"] for a in public["data"]["openSlaAlerts"]}
    refused = await gql(server.http_url, QUERY, {"first": 0})
    assert refused["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
