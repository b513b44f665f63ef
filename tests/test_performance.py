"""SLA performance against a hand-computed fixture: medians and 90th percentiles (interpolated
as percentile_cont does), shares of responses within the SLA, counts, the leaderboard with its
minimum sample, accountability by WIB month, and regions; then the same over real HTTP."""

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from kilas.db import performance as performance_db
from kilas.schema.ids import WIB
from tests import ops
from tests._performance_helpers import (
    END,
    NOW,
    START,
    insert_complaint,
    insert_event,
    seed,
)
from tests.wire import RunningServer, gql, gql_data


def exactly(value: float) -> Any:
    return pytest.approx(value, abs=1e-9)


def by(rows: list[Any], key: str) -> dict[Any, Any]:
    return {getattr(row, key): row for row in rows}


async def slugs(conn: asyncpg.Connection) -> dict[int, str]:
    return {row["id"]: row["slug"] for row in await conn.fetch("SELECT id, slug FROM opds")}


async def test_opd_performance_matches_the_hand_computed_figures(conn: asyncpg.Connection) -> None:
    await seed(conn)
    rows = await performance_db.opd_performance(conn, START, END, NOW)
    names = await slugs(conn)
    assert len(rows) == await conn.fetchval("SELECT count(*) FROM opds")
    figures = {names[row.opd_id]: row for row in rows}

    dpubmck = figures["dpubmck"]
    assert (dpubmck.received, dpubmck.resolved, dpubmck.backlog) == (6, 3, 5)
    # Responses [2, 4, 10, 30]: median at 1.5 → 4 + 0.5·6; 90th at 2.7 → 10 + 0.7·20.
    assert dpubmck.median_response_hours == exactly(7)
    assert dpubmck.p90_response_hours == exactly(24)
    # Resolutions [20, 50, 100]: median 50; 90th at 1.8 → 50 + 0.8·50.
    assert dpubmck.median_resolution_hours == exactly(50)
    assert dpubmck.p90_resolution_hours == exactly(90)
    # Decided: four answered and a5 past due (a8 is not due yet); on time: 2, 4 and 10 hours.
    assert (dpubmck.responses_decided, dpubmck.responses_on_time) == (5, 3)
    assert dpubmck.response_sla_share == exactly(0.6)
    assert (dpubmck.breaches, dpubmck.escalations) == (2, 2)
    assert (dpubmck.average_rating, dpubmck.ratings) == (exactly(4.5), 2)

    dinkes = figures["dinkes"]
    assert (dinkes.received, dinkes.resolved, dinkes.backlog) == (1, 1, 0)
    assert dinkes.median_response_hours == exactly(0.5)
    assert dinkes.p90_response_hours == exactly(0.5)
    assert dinkes.response_sla_share == exactly(1)
    assert dinkes.average_rating is None

    idle = figures["bappeda"]
    assert (idle.received, idle.backlog, idle.breaches, idle.ratings) == (0, 0, 0, 0)
    assert idle.median_response_hours is None
    assert idle.response_sla_share is None


async def test_a_response_clock_is_decided_once_its_deadline_passes(
    conn: asyncpg.Connection,
) -> None:
    await seed(conn)
    later = datetime(2025, 12, 2, tzinfo=WIB)
    rows = await performance_db.opd_performance(conn, START, END, later)
    names = await slugs(conn)
    dpubmck = next(row for row in rows if names[row.opd_id] == "dpubmck")
    assert (dpubmck.responses_decided, dpubmck.responses_on_time) == (6, 3)
    assert dpubmck.response_sla_share == exactly(0.5)


async def test_the_leaderboard_ranks_by_share_then_median_and_needs_a_minimum_sample(
    conn: asyncpg.Connection,
) -> None:
    await seed(conn)
    names = await slugs(conn)
    rows = await performance_db.leaderboard(conn, START, END, NOW, 3)
    # Dinkes's one very fast ticket is not enough to be ranked; Dinsos (median 2 hours) beats
    # Dishub (median 3 hours) at the same share.
    assert [(row.rank, names[row.opd_id]) for row in rows] == [
        (1, "dinsos"),
        (2, "dishub"),
        (3, "dpubmck"),
    ]
    assert rows[2].response_sla_share == exactly(0.6)

    everyone = await performance_db.leaderboard(conn, START, END, NOW, 1)
    assert [names[row.opd_id] for row in everyone] == ["dinkes", "dinsos", "dishub", "dpubmck"]


async def test_regions_group_the_complaints_of_every_unit(conn: asyncpg.Connection) -> None:
    await seed(conn)
    rows = by(await performance_db.region_performance(conn, START, END, NOW), "region_code")
    assert len(rows) == 35
    semarang = rows["33.74"]
    # DPUBMCK's a1, a2, a4, a5, a8 and Dinsos's three. Responses [1, 2, 2, 4, 8, 30]:
    # median at 2.5 → 2 + 0.5·2; 90th at 4.5 → 8 + 0.5·22.
    assert (semarang.received, semarang.backlog) == (8, 8)
    assert semarang.median_response_hours == exactly(3)
    assert semarang.p90_response_hours == exactly(19)
    assert (semarang.breaches, semarang.escalations) == (2, 2)
    kudus = rows["33.19"]
    # a3 and Dishub's three: responses [1, 3, 5, 10]; 90th at 2.7 → 5 + 0.7·5.
    assert (kudus.received, kudus.resolved) == (4, 1)
    assert kudus.median_response_hours == exactly(4)
    assert kudus.p90_response_hours == exactly(8.5)
    assert kudus.response_sla_share == exactly(1)
    assert rows["33.01"].received == 1
    assert rows["33.02"].received == 0


async def test_accountability_counts_per_opd_head_and_wib_month(conn: asyncpg.Connection) -> None:
    await seed(conn)
    rows = await performance_db.accountability(
        conn, datetime(2025, 10, 1, tzinfo=WIB), datetime(2025, 12, 1, tzinfo=WIB)
    )
    names = await slugs(conn)
    found = [
        (names[row.opd_id], row.head_name, row.month.isoformat(), row.breaches,
         row.response_breaches, row.resolution_breaches, row.escalations,
         row.escalations_level1, row.escalations_level2, row.escalations_level3)
        for row in rows
    ]  # fmt: skip
    # The escalation at 20:00 UTC on 31 October is 03:00 on 1 November in WIB. Dishub's level-3
    # escalation falls after the period, so Dishub has no line at all.
    assert found == [
        ("dpubmck", "Ir. Budi Santoso", "2025-10-01", 1, 1, 0, 0, 0, 0, 0),
        ("dpubmck", "Ir. Budi Santoso", "2025-11-01", 2, 1, 1, 2, 1, 1, 0),
    ]


async def test_an_event_late_on_31_october_utc_belongs_to_november_in_wib(
    conn: asyncpg.Connection,
) -> None:
    complaint = await insert_complaint(
        conn, "dishub", "33.74", datetime(2026, 10, 30, tzinfo=WIB), status="ASSIGNED"
    )
    await insert_event(
        conn, complaint, "SLA_BREACHED", datetime(2026, 10, 31, 20, tzinfo=UTC),
        {"clock": "RESPONSE"},
    )  # fmt: skip
    rows = await performance_db.accountability(
        conn, datetime(2026, 10, 1, tzinfo=WIB), datetime(2027, 1, 1, tzinfo=WIB)
    )
    assert [(row.month.isoformat(), row.breaches, row.head_name) for row in rows] == [
        ("2026-11-01", 1, None)
    ]


PERFORMANCE = """
query Performance($from: DateTime!, $to: DateTime!, $min: Int) {
  opdPerformance(from: $from, to: $to) {
    opd { slug } received resolved backlog medianResponseHours p90ResponseHours
    medianResolutionHours p90ResolutionHours responsesDecided responsesOnTime responseSlaShare
    breaches escalations averageRating ratings
  }
  regionPerformance(from: $from, to: $to) { region { code name } received medianResponseHours }
  leaderboard(from: $from, to: $to, minSample: $min) { rank opd { slug } responseSlaShare }
  accountability(from: $from, to: $to) {
    opd { slug } head { name title } month breaches escalations escalationsToOpdHead
    escalationsToCommandCenter escalationsToGovernorOffice
  }
}
"""


async def test_the_figures_are_served_over_graphql(
    server: RunningServer, conn: asyncpg.Connection
) -> None:
    await seed(conn)
    # Naive times are read in WIB.
    period = {"from": "2025-11-01T00:00:00", "to": "2025-12-01T00:00:00+07:00", "min": 3}
    data = await gql_data(server.http_url, PERFORMANCE, period)
    dpubmck = next(p for p in data["opdPerformance"] if p["opd"]["slug"] == "dpubmck")
    # The server's clock is now long past 1 December 2025: a8 is decided, and late.
    assert dpubmck.pop("opd") == {"slug": "dpubmck"}
    assert dpubmck == pytest.approx({
        "received": 6, "resolved": 3, "backlog": 5,
        "medianResponseHours": 7.0, "p90ResponseHours": 24.0, "medianResolutionHours": 50.0,
        "p90ResolutionHours": 90.0, "responsesDecided": 6, "responsesOnTime": 3,
        "responseSlaShare": 0.5, "breaches": 2, "escalations": 2, "averageRating": 4.5,
        "ratings": 2,
    })  # fmt: skip
    regions = {r["region"]["code"]: r for r in data["regionPerformance"]}
    assert regions["33.74"]["received"] == 8
    assert regions["33.74"]["region"]["name"] == "Semarang"
    assert [(e["rank"], e["opd"]["slug"]) for e in data["leaderboard"]] == [
        (1, "dinsos"), (2, "dishub"), (3, "dpubmck")
    ]  # fmt: skip
    assert data["accountability"] == [
        {
            "opd": {"slug": "dpubmck"},
            "head": {"name": "Ir. Budi Santoso", "title": "Kepala Dinas"},
            "month": "2025-11-01", "breaches": 2, "escalations": 2, "escalationsToOpdHead": 1,
            "escalationsToCommandCenter": 1, "escalationsToGovernorOffice": 0,
        }
    ]  # fmt: skip


async def test_a_complaint_handled_through_the_api_counts_for_its_opd(
    server: RunningServer,
) -> None:
    url = server.http_url
    complaint = (await ops.submit(url))["complaint"]
    await ops.act_ok(url, "assignComplaint", complaintId=complaint["id"])
    await ops.act_ok(url, "recordFollowUp", complaintId=complaint["id"], message="Ditinjau.")
    today = datetime.now(WIB)
    period = {"from": (today - timedelta(days=1)).isoformat(),
              "to": (today + timedelta(days=1)).isoformat()}  # fmt: skip
    data = await gql_data(url, PERFORMANCE, period)
    dpubmck = next(p for p in data["opdPerformance"] if p["opd"]["slug"] == "dpubmck")
    assert (dpubmck["received"], dpubmck["responsesOnTime"], dpubmck["backlog"]) == (1, 1, 1)
    assert dpubmck["responseSlaShare"] == 1.0


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"from": "2025-12-01T00:00:00+07:00", "to": "2025-11-01T00:00:00+07:00"}, "to"),
        ({"from": "2025-11-01T00:00:00+07:00", "to": "2025-11-01T00:00:00+07:00"}, "to"),
        ({"from": "2024-01-01T00:00:00+07:00", "to": "2025-03-01T00:00:00+07:00"}, "to"),
        ({"from": "2025-11-01T00:00:00", "to": "2025-12-01T00:00:00", "min": 0}, "minSample"),
    ],
)
async def test_a_bad_period_is_refused_as_invalid_input(
    server: RunningServer, variables: dict[str, Any], field: str
) -> None:
    query = """
    query Board($from: DateTime!, $to: DateTime!, $min: Int) {
      leaderboard(from: $from, to: $to, minSample: $min) { rank }
    }
    """
    body = await gql(server.http_url, query, variables)
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "INVALID_INPUT", "field": field}


async def test_a_whole_leap_year_is_a_valid_period(server: RunningServer) -> None:
    query = '{ accountability(from: "2028-01-01T00:00:00", to: "2029-01-01T00:00:00") { month } }'
    body = await gql(server.http_url, query)
    assert body.get("errors") is None, body
