"""No N+1: the number of SQL statements a list query runs does not grow with the number of
rows it returns, because every per-row relation is loaded through a batching DataLoader.

The server gets a query logger (asyncpg calls it once per statement on every pooled
connection). asyncpg's own type introspection, run once per connection, and the live hub's reads
of the event log are not the request's statements and are left out."""

from decimal import Decimal

import asyncpg

from kilas.domain import admin, workflow
from tests._api_helpers import data_of
from tests._statements import StatementCounter, complaints_with_opds, statements_for
from tests.wire import start_server

COMPLAINTS = """
query Complaints($first: Int!) {
  complaints(first: $first) {
    nodes {
      id
      opd { shortName }
      region { name }
      category { name }
      lastEvent { type }
    }
  }
}
"""

OPDS = """
{ opds { slug openBacklog socialAccounts { handle } categories { code } } }
"""

PROGRAMMES = """
query Programmes($first: Int!) {
  programmes(first: $first) {
    nodes { code owner { name } workItems { name linkedComplaints { id } } }
  }
}
"""


async def test_a_complaint_page_runs_as_many_statements_for_50_rows_as_for_5(
    database_url: str, pool: asyncpg.Pool
) -> None:
    await complaints_with_opds(pool, 60)
    counter = StatementCounter()
    async with start_server(database_url, query_logger=counter, event_poll_interval=3600) as s:
        url = s.http_url
        # Warm up the pool's connections.
        for first in (5, 50):
            await data_of(url, COMPLAINTS, {"first": first})
        small, data = await statements_for(counter, lambda: data_of(url, COMPLAINTS, {"first": 5}))
        assert len(data["complaints"]["nodes"]) == 5
        assert any(node["opd"] for node in data["complaints"]["nodes"])
        large, data = await statements_for(counter, lambda: data_of(url, COMPLAINTS, {"first": 50}))
        nodes = data["complaints"]["nodes"]
        assert len(nodes) == 50
        assert len({node["opd"]["shortName"] for node in nodes if node["opd"]}) > 3
        assert len({node["category"]["name"] for node in nodes}) == 7
    assert large == small, counter.statements
    # One page, then one batch each for OPDs, regions, categories and last events.
    assert small <= 10


async def test_the_opd_list_runs_the_same_statements_however_many_opds_there_are(
    database_url: str, pool: asyncpg.Pool
) -> None:
    await complaints_with_opds(pool, 12)
    counter = StatementCounter()
    async with start_server(database_url, query_logger=counter, event_poll_interval=3600) as s:
        url = s.http_url
        await data_of(url, OPDS)
        before, data = await statements_for(counter, lambda: data_of(url, OPDS))
        assert len(data["opds"]) == 31
        async with pool.acquire() as conn, conn.transaction():
            # Forty more OPDs, each with two social accounts.
            for i in range(40):
                opd = await admin.create_opd(
                    conn,
                    {
                        "slug": f"uptd-{i}",
                        "short_name": f"UPTD {i}",
                        "name": f"UPTD {i}",
                        "kind": "BADAN",
                    },
                )
                for platform in ("X", "INSTAGRAM"):
                    await admin.add_social_account(conn, opd.id, platform, f"uptd_{i}", False)
        after, data = await statements_for(counter, lambda: data_of(url, OPDS))
        opds = {opd["slug"]: opd for opd in data["opds"]}
        assert len(opds) == 71
        assert len(opds["uptd-7"]["socialAccounts"]) == 2
        assert opds["dpubmck"]["categories"] == [{"code": "JALAN"}]
        # Complaints 0, 3, 6 and 9 of 12 are assigned; only 0 is about roads.
        assert sum(opd["openBacklog"] for opd in data["opds"]) == 4
        assert opds["dpubmck"]["openBacklog"] == 1
    assert after == before, counter.statements
    assert before <= 8


async def test_a_programme_page_runs_as_many_statements_for_20_programmes_as_for_2(
    database_url: str, pool: asyncpg.Pool
) -> None:
    await complaints_with_opds(pool, 30)
    async with pool.acquire() as conn, conn.transaction():
        complaint_ids = [row["id"] for row in await conn.fetch("SELECT id FROM complaints")]
        owners = [row["id"] for row in await conn.fetch("SELECT id FROM opds ORDER BY id")]
        for p in range(22):
            programme = await admin.create_programme(
                conn,
                {
                    "code": f"PRG-{p}",
                    "name": f"Program {p}",
                    "description": "",
                    "owner_opd_id": owners[p % len(owners)],
                    "fiscal_year": 2025,
                    "budget_idr": Decimal(1_000_000),
                    "realisation_idr": Decimal(0),
                    "target": Decimal(10),
                    "achievement": Decimal(0),
                    "unit": "km",
                    "status": "ONGOING",
                    "predecessor_id": None,
                },
            )
            for w in range(2):
                item = await admin.create_work_item(
                    conn,
                    {
                        "programme_id": programme.id,
                        "name": f"Ruas {p}-{w}",
                        "region_code": "33.19",
                        "road_segment": None,
                        "lat": None,
                        "lon": None,
                        "length_km": None,
                        "progress_pct": Decimal(0),
                        "status": "PLANNED",
                        "planned_start": None,
                        "planned_end": None,
                    },
                )
                if complaint_ids:
                    await workflow.link_work_item(
                        conn,
                        complaint_ids.pop(),
                        workflow.CommandContext(actor="test"),
                        work_item_id=item.id,
                    )
    counter = StatementCounter()
    async with start_server(database_url, query_logger=counter, event_poll_interval=3600) as s:
        url = s.http_url
        for first in (2, 20):
            await data_of(url, PROGRAMMES, {"first": first})
        small, data = await statements_for(counter, lambda: data_of(url, PROGRAMMES, {"first": 2}))
        assert len(data["programmes"]["nodes"]) == 2
        large, data = await statements_for(counter, lambda: data_of(url, PROGRAMMES, {"first": 20}))
        programmes = data["programmes"]["nodes"]
        assert len(programmes) == 20
        assert len({p["owner"]["name"] for p in programmes}) == 20
        linked = [
            c for p in programmes for item in p["workItems"] for c in item["linkedComplaints"]
        ]
        assert len(linked) == 30
    assert large == small, counter.statements
    assert small <= 8


TIMELINES = """
query Timelines($first: Int!) {
  complaints(first: $first) { nodes { id timeline(first: 5) { nodes { type } } } }
}
"""


async def test_timelines_of_50_complaints_run_as_many_statements_as_of_5(
    database_url: str, pool: asyncpg.Pool
) -> None:
    """Field by field (the compiled path answers a timeline inside its one statement): every
    complaint's page of its timeline comes from one batched statement."""
    await complaints_with_opds(pool, 60)
    counter = StatementCounter()
    async with start_server(
        database_url, query_logger=counter, event_poll_interval=3600, compiled_reads=False
    ) as s:
        url = s.http_url
        for first in (5, 50):
            await data_of(url, TIMELINES, {"first": first})
        small, _ = await statements_for(counter, lambda: data_of(url, TIMELINES, {"first": 5}))
        large, data = await statements_for(counter, lambda: data_of(url, TIMELINES, {"first": 50}))
        nodes = data["complaints"]["nodes"]
        assert len(nodes) == 50
        assert all(node["timeline"]["nodes"][0]["type"] == "SUBMITTED" for node in nodes)
        assert any(len(node["timeline"]["nodes"]) == 2 for node in nodes)  # assigned ones
        assert large == small, counter.statements
