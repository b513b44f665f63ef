"""A unit's own wall: the dashboard narrowed to the complaints one OPD holds and/or one region,
once over HTTP and live over a real WebSocket."""

import asyncio

import asyncpg

from tests import ops
from tests.wire import RunningServer, WsClient, gql, gql_data, start_server

DASHBOARD = """
query Dashboard($filter: DashboardFilter) {
  dashboard(filter: $filter) { intakeToday byStatus { status count } byRegion { regionCode open } }
}
"""
LIVE_DASHBOARD = """
subscription Live($filter: DashboardFilter) {
  dashboard(filter: $filter) { intakeToday byStatus { status count } }
}
"""
OPD_ID = "query ($slug: String!) { opd(slug: $slug) { id } }"


def by_status(dashboard: dict) -> dict[str, int]:
    return {row["status"]: row["count"] for row in dashboard["byStatus"]}


async def opd_id(url: str, slug: str) -> str:
    return str((await gql_data(url, OPD_ID, {"slug": slug}))["opd"]["id"])


async def dashboard(url: str, **filter: str) -> dict:
    return (await gql_data(url, DASHBOARD, {"filter": filter or None}))["dashboard"]


async def test_the_dashboard_counts_only_the_region_or_opd_asked_for(
    server: RunningServer,
) -> None:
    url = server.http_url
    road = await ops.submit(url, regionCode="33.74", categoryCode="JALAN", externalRef="a")
    await ops.submit(url, regionCode="33.74", categoryCode="KESEHATAN", externalRef="b")
    await ops.submit(url, regionCode="33.19", categoryCode="JALAN", externalRef="c")
    await ops.act_ok(url, "assignComplaint", complaintId=road["complaint"]["id"])

    assert by_status(await dashboard(url)) == {"RECEIVED": 2, "ASSIGNED": 1}
    semarang = await dashboard(url, regionCode="33.74")
    assert by_status(semarang) == {"RECEIVED": 1, "ASSIGNED": 1}
    assert semarang["intakeToday"] == 2
    assert [row["regionCode"] for row in semarang["byRegion"]] == ["33.74"]

    dpubmck = await opd_id(url, "dpubmck")
    assert by_status(await dashboard(url, opdId=dpubmck)) == {"ASSIGNED": 1}
    assert by_status(await dashboard(url, opdId=dpubmck, regionCode="33.19")) == {}
    assert (await dashboard(url, opdId=await opd_id(url, "dinkes")))["intakeToday"] == 0


async def test_an_unknown_region_or_opd_is_refused(server: RunningServer) -> None:
    body = await gql(server.http_url, DASHBOARD, {"filter": {"regionCode": "99.99"}})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"]
    body = await gql(server.http_url, DASHBOARD, {"filter": {"opdId": "T3BkOjk5OTk"}})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["NOT_FOUND"]


async def test_the_live_dashboard_of_a_region_moves_only_with_its_complaints(
    database_url: str,
) -> None:
    async with (
        start_server(database_url, dashboard_interval=0.2, sla_sweep_interval=0) as server,
        WsClient.connect(server.ws_url) as client,
    ):
        await client.subscribe("kudus", LIVE_DASHBOARD, {"filter": {"regionCode": "33.19"}})
        await client.subscribe("all", LIVE_DASHBOARD)
        assert (await client.next_data("kudus"))["dashboard"]["intakeToday"] == 0
        assert (await client.next_data("all"))["dashboard"]["intakeToday"] == 0

        await ops.submit(server.http_url, regionCode="33.74", externalRef="semarang")
        await ops.submit(server.http_url, regionCode="33.19", externalRef="kudus")
        await asyncio.sleep(0.6)

        async def last(op_id: str) -> dict:
            value = None
            while not await client.nothing_more(op_id, wait=0.5):
                value = (await client.next_data(op_id))["dashboard"]
            assert value is not None
            return value

        assert by_status(await last("kudus")) == {"RECEIVED": 1}
        assert by_status(await last("all")) == {"RECEIVED": 2}


async def test_the_per_opd_counts_follow_every_change_of_holder_and_status(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    async def agree() -> None:
        kept = await pool.fetch(
            "SELECT opd_id, status, region_code, channel, n FROM complaint_counts_by_opd "
            "WHERE n > 0 ORDER BY 1, 2, 3, 4"
        )
        recount = await pool.fetch(
            "SELECT opd_id, status, region_code, channel, count(*) AS n FROM complaints "
            "WHERE opd_id IS NOT NULL GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
        )
        assert list(map(tuple, kept)) == list(map(tuple, recount))

    url = server.http_url
    complaint = (await ops.submit(url))["complaint"]
    await agree()
    await ops.act_ok(url, "assignComplaint", complaintId=complaint["id"])
    await agree()
    dinkes = await opd_id(url, "dinkes")
    await ops.act_ok(url, "reassignComplaint", complaintId=complaint["id"], opdId=dinkes,
                     reason="Salah disposisi")  # fmt: skip
    await agree()
    await ops.act_ok(url, "recordFollowUp", complaintId=complaint["id"], message="Ditinjau.")
    await ops.act_ok(url, "resolveComplaint", complaintId=complaint["id"], resolution="Beres.")
    await agree()
    rows = await pool.fetch("SELECT opd_id, status, n FROM complaint_counts_by_opd WHERE n > 0")
    assert [(r["status"], r["n"]) for r in rows] == [("RESOLVED", 1)]
