"""Likely duplicates (pg_trgm, earthdistance, a time window) and merging them into an original,
whose resolution tells each merged complaint's reporter on their own channel."""

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from kilas.db import complaints as complaints_db
from kilas.db import duplicates as duplicates_db
from kilas.db import events as events_db
from kilas.db import replies as replies_db
from kilas.db.rows import EventRow
from kilas.domain import duplicates, workflow
from kilas.domain.errors import DomainError
from kilas.domain.lifecycle import ComplaintState, replay

SEARCH = duplicates_db.Search(window_hours=72, distance_km=2, min_similarity=0.3)
AT = datetime(2026, 11, 20, 8, tzinfo=UTC)
TEXT = "Jalan berlubang besar di depan pasar Wage Purwokerto, sudah dua motor jatuh"
# Purwokerto, and a place about 1 km and about 30 km away.
HERE, NEAR, FAR = (-7.4246, 109.2332), (-7.4300, 109.2410), (-7.7000, 109.0200)


async def submit(
    conn: asyncpg.Connection,
    text: str = TEXT,
    *,
    category: str | None = "JALAN",
    place: tuple[float, float] | None = HERE,
    hours: float = 0,
    channel: str = "WEB",
    region: str = "33.02",
) -> int:
    outcome = await workflow.submit(
        conn,
        workflow.Submission(
            channel=channel,
            text=text,
            region_code=region,
            category_code=category,
            lat=place[0] if place else None,
            lon=place[1] if place else None,
        ),
        actor="test",
        at=AT + timedelta(hours=hours),
    )
    return outcome.complaint.id


async def history(conn: asyncpg.Connection, complaint_id: int) -> list[EventRow]:
    return list(await events_db.event_pages(conn, [(complaint_id, 0, 100)]))


async def found(conn: asyncpg.Connection, complaint_id: int) -> list[int]:
    return [c.complaint_id for c in await duplicates_db.candidates(conn, complaint_id, SEARCH, 5)]


@pytest.fixture
async def categories(conn: asyncpg.Connection) -> list[str]:
    return [r["code"] for r in await conn.fetch("SELECT code FROM categories ORDER BY code")]


async def test_a_retelling_nearby_in_the_window_is_found_and_the_others_are_not(
    conn: asyncpg.Connection, categories: list[str]
) -> None:
    jalan, other = categories[0], categories[1]
    original = await submit(conn, category=jalan)
    near = await submit(conn, "Tolong: " + TEXT, category=jalan, place=NEAR, hours=5)
    far = await submit(conn, TEXT, category=jalan, place=FAR, hours=5)
    other_category = await submit(conn, TEXT, category=other, hours=5)
    late = await submit(conn, TEXT, category=jalan, hours=100)
    unlike = await submit(conn, "Puskesmas tutup sejak pagi, antrean panjang", category=jalan)
    assert await found(conn, near) == [original]
    assert await found(conn, original) == [near]
    for alone in (far, other_category, late, unlike):
        assert await found(conn, alone) == [], alone


async def test_candidates_come_best_first_and_without_a_category_by_region(
    conn: asyncpg.Connection, categories: list[str]
) -> None:
    jalan = categories[0]
    target = await submit(conn, category=jalan)
    same = await submit(conn, TEXT, category=jalan, place=HERE, hours=1)
    looser = await submit(conn, TEXT + " dan banjir di gang sebelah", category=jalan, hours=1)
    uncategorised = await submit(conn, TEXT, category=None, place=None, hours=1)
    rows = await duplicates_db.candidates(conn, target, SEARCH, 5)
    assert [r.complaint_id for r in rows] == [same, looser, uncategorised]
    assert rows[0].score > rows[1].score > rows[2].score
    assert await found(conn, uncategorised) == [target, same, looser]


async def test_without_a_location_near_means_the_same_region(
    conn: asyncpg.Connection, categories: list[str]
) -> None:
    jalan = categories[0]
    target = await submit(conn, category=jalan)
    unplaced_here = await submit(conn, category=jalan, place=None, hours=1)
    unplaced_elsewhere = await submit(conn, category=jalan, place=None, hours=1, region="33.74")
    # Across the border into the next regency, a kilometre away: near by the distance.
    across = await submit(conn, "Tolong: " + TEXT, category=jalan, place=NEAR, region="33.03")
    far_across = await submit(conn, category=jalan, place=FAR, region="33.03")
    assert sorted(await found(conn, target)) == sorted([unplaced_here, across])
    assert await found(conn, unplaced_here) == [target]
    assert await found(conn, unplaced_elsewhere) == []
    assert await found(conn, far_across) == []
    # An uncategorised one elsewhere is matched in its own region only.
    assert await found(conn, await submit(conn, category=None, place=NEAR, region="33.74")) == [
        unplaced_elsewhere
    ]


async def test_intake_records_the_likely_duplicates_it_found_on_the_submitted_event(
    conn: asyncpg.Connection, categories: list[str]
) -> None:
    first = await submit(conn, category=categories[0])
    second = await submit(conn, "Tolong: " + TEXT, category=categories[0], place=NEAR, hours=1)
    outcome = await workflow.submit(
        conn,
        workflow.Submission(
            channel="WHATSAPP",
            text=TEXT + " lagi",
            region_code="33.02",
            category_code=categories[0],
            lat=HERE[0],
            lon=HERE[1],
        ),
        actor="test",
        at=AT + timedelta(hours=2),
        duplicates=SEARCH,
    )
    assert outcome.event is not None
    recorded = outcome.event.data["possibleDuplicates"]
    expected = await duplicates_db.candidates(conn, outcome.complaint.id, SEARCH, 5)
    assert [d["complaintId"] for d in recorded] == [c.complaint_id for c in expected]
    assert {d["complaintId"] for d in recorded} == {first, second}
    assert [d["score"] for d in recorded] == [c.score for c in expected]
    lone = await workflow.submit(
        conn,
        workflow.Submission(channel="WEB", text="Lampu PJU mati", region_code="33.74"),
        actor="test",
        at=AT,
        duplicates=SEARCH,
    )
    assert lone.event is not None and lone.event.data["possibleDuplicates"] == []
    # Without a search (the demo's history), nothing is recorded.
    plain = await submit(conn, category=categories[0], hours=3)
    (event,) = await history(conn, plain)
    assert "possibleDuplicates" not in (event.data or {})


async def test_merging_rejects_each_duplicate_as_following_the_original(
    conn: asyncpg.Connection, categories: list[str]
) -> None:
    original = await submit(conn, category=categories[0])
    first = await submit(conn, channel="WHATSAPP")
    second = await submit(conn, channel="X")
    await replies_db.remember_contact(
        conn, first, replies_db.Contact("WHATSAPP", {"to": "6281"}, public=False)
    )
    command = workflow.CommandContext(actor="jwt:operator", at=AT + timedelta(hours=1))
    async with conn.transaction():
        outcome = await duplicates.merge(conn, original, [second, first], command)
    assert [e.type for e in outcome.others] == ["MERGED", "MERGED"]
    for merged in (first, second):
        row = (await complaints_db.complaints_by_ids(conn, [merged]))[0]
        assert (row.status, row.duplicate_of_id, row.rejection_reason) == (
            "REJECTED",
            original,
            "DUPLICATE",
        )
        events = await history(conn, merged)
        assert replay(events) == ComplaintState.from_row(row)
    assert await found(conn, original) == []
    outbox = await conn.fetch("SELECT complaint_id, event_type FROM channel_replies ORDER BY id")
    assert [(r["complaint_id"], r["event_type"]) for r in outbox] == [(first, "MERGED")]


async def test_resolving_the_original_tells_each_merged_complaint_on_its_channel(
    conn: asyncpg.Connection, categories: list[str]
) -> None:
    original = await submit(conn, category=categories[0])
    merged = [await submit(conn, channel="WHATSAPP") for _ in range(2)]
    for complaint_id in merged:
        await replies_db.remember_contact(
            conn, complaint_id, replies_db.Contact("WHATSAPP", {"to": "62"}, public=False)
        )
    step = workflow.CommandContext(actor="jwt:operator", at=AT + timedelta(hours=1))
    await duplicates.merge(conn, original, merged, step)
    await workflow.assign(conn, original, step, opd_id=None, category_code=None)
    await workflow.follow_up(conn, original, step, message="Tim ke lokasi.")
    outcome = await workflow.resolve(conn, original, step, resolution="Sudah ditambal.")
    assert [(e.complaint_id, e.type) for e in outcome.others] == [
        (m, "ORIGINAL_RESOLVED") for m in merged
    ]
    outbox = await conn.fetch(
        "SELECT complaint_id, event_type, text FROM channel_replies "
        "WHERE event_type = 'ORIGINAL_RESOLVED' ORDER BY complaint_id"
    )
    assert [r["complaint_id"] for r in outbox] == merged
    assert all("sudah diselesaikan" in r["text"] for r in outbox)
    for complaint_id in merged:
        row = (await complaints_db.complaints_by_ids(conn, [complaint_id]))[0]
        assert replay(await history(conn, complaint_id)) == (ComplaintState.from_row(row))


async def test_a_bad_merge_says_why_and_changes_nothing(
    conn: asyncpg.Connection, categories: list[str]
) -> None:
    original = await submit(conn, category=categories[0])
    other = await submit(conn)
    done = await submit(conn)
    step = workflow.CommandContext(actor="jwt:operator", at=AT + timedelta(hours=1))
    await workflow.reject(
        conn, done, step, reason=workflow.RejectionReason.SPAM, note=None, duplicate_of_id=None
    )
    merged_away = await submit(conn)
    await duplicates.merge(conn, other, [merged_away], step)
    before = await conn.fetchval("SELECT count(*) FROM complaint_events")
    cases = [
        (original, [original], "into itself"),
        (original, [], "at least one"),
        (original, [other, other], "named twice"),
        (original, [done], "only an open complaint"),
        (original, [999999], "999999"),
        (merged_away, [original], "itself merged"),
        (done, [original], "only an open complaint"),
        (original, [other], "merged into it"),
    ]
    for target, named, message in cases:
        with pytest.raises(DomainError, match=message):
            async with conn.transaction():
                await duplicates.merge(conn, target, named, step)
    assert await conn.fetchval("SELECT count(*) FROM complaint_events") == before


POSSIBLE = """
query ($id: ID!) { node(id: $id) { ... on Complaint {
  possibleDuplicates(first: 3) { score complaint { id text } }
} } }
"""
MERGE = """
mutation ($input: MergeComplaintsInput!) { mergeComplaints(input: $input) {
  complaint { id status } errors { code field message }
} }
"""


async def test_operators_find_and_merge_duplicates_over_graphql(database_url: str) -> None:
    from tests import ops
    from tests.wire import gql, gql_data, start_server, token

    async with start_server(database_url) as server:
        url = server.http_url
        place = {"lat": HERE[0], "lon": HERE[1]}
        first = await ops.submit(url, text=TEXT, regionCode="33.02", location=place)
        again = await ops.submit(
            url, text=TEXT.replace("dua motor", "tiga motor"), regionCode="33.02", location=place
        )
        original, duplicate = first["complaint"]["id"], again["complaint"]["id"]
        operator = token("OPERATOR")
        listed = await gql_data(url, POSSIBLE, {"id": duplicate}, token=operator)
        (candidate,) = listed["node"]["possibleDuplicates"]
        assert candidate["complaint"]["id"] == original and 0.5 < candidate["score"] <= 1
        public = await gql(url, POSSIBLE, {"id": duplicate}, token=None)
        assert public["errors"][0]["extensions"]["code"] == "FORBIDDEN"

        merge = {"originalId": original, "duplicateIds": [duplicate]}
        officer = await gql(url, MERGE, {"input": merge}, token=token("OPD_OFFICER", opd="dpubmck"))
        assert officer["data"]["mergeComplaints"]["errors"][0]["code"] == "FORBIDDEN"
        merged = await gql_data(url, MERGE, {"input": merge}, token=operator)
        assert merged["mergeComplaints"]["errors"] == []
        follower = await gql_data(
            url,
            "query ($id: ID!) { node(id: $id) { ... on Complaint { status duplicateOf { id } "
            "timeline { nodes { type } } } } }",
            {"id": duplicate},
            token=operator,
        )
        assert follower["node"]["status"] == "REJECTED"
        assert follower["node"]["duplicateOf"] == {"id": original}
        assert follower["node"]["timeline"]["nodes"][-1]["type"] == "MERGED"
