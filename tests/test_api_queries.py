"""The read side over real HTTP: complaint lists (filters, orderings, keyset pages), lookups by
tracking number and global id, reference data with its counts, SLA policies, the event log and
timelines, and times in WIB. Data is made through the domain layer at fixed times."""

import base64
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from graphql import get_named_type

from kilas.domain import workflow
from kilas.domain.lifecycle import RejectionReason
from kilas.schema import build_schema
from kilas.schema.ids import WIB
from tests._api_helpers import (
    act_ok,
    create_programme,
    create_work_item,
    data_of,
    global_id,
    opd_id,
    post,
    submit,
)
from tests.wire import RunningServer

# Monday 3 March 2025, 08:00 in Semarang.
BASE = datetime(2025, 3, 3, 8, 0, tzinfo=WIB)

COMPLAINTS = """
query Complaints($filter: ComplaintFilter, $order: ComplaintOrder!, $first: Int, $after: String) {
  complaints(filter: $filter, orderBy: $order, first: $first, after: $after) {
    totalCount
    edges { cursor node { id } }
    nodes { id text status }
    pageInfo { hasNextPage endCursor }
  }
}
"""

COMPLAINT_IDS = """
query Complaints($filter: ComplaintFilter, $first: Int) {
  complaints(filter: $filter, first: $first) { totalCount nodes { id } }
}
"""

BY_TRACKING_NUMBER = """
query Track($number: String!) {
  complaint(trackingNumber: $number) { id trackingNumber status createdAt }
}
"""

NODE = """
query Node($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Complaint { trackingNumber }
    ... on ComplaintEvent { type complaint { id } }
    ... on Opd { slug }
    ... on Region { code name }
    ... on Category { code }
    ... on SlaPolicy { responseHours }
    ... on SocialAccount { handle opd { slug } }
    ... on Programme { code }
    ... on WorkItem { name programme { code } }
  }
}
"""

OPDS = """
{ opds { id slug shortName kind openBacklog updatedAt } }
"""

REGIONS = """
{ regions { id code name type seat seatLocation { lat lon } openComplaints } }
"""

CATEGORIES = """
{ categories { id code name nameEn resolutionHours defaultOpd { slug shortName } } }
"""

SLA_POLICIES = """
{ slaPolicies { id name effectiveFrom responseHours resolutionHours } }
"""

SLA_OF = """
query Sla($id: ID!) {
  node(id: $id) {
    ... on Complaint {
      assignedAt responseDueAt resolutionDueAt
      slaPolicy { name responseHours resolutionHours }
    }
  }
}
"""

EVENT_LOG = """
query Log($first: Int, $after: String) {
  complaintEvents(first: $first, after: $after) {
    edges { cursor node { id type complaint { id } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

TIMELINE = """
query Timeline($id: ID!, $first: Int!, $after: String) {
  node(id: $id) {
    ... on Complaint {
      timeline(first: $first, after: $after) {
        nodes { cursor type fromStatus toStatus occurredAt recordedAt }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}
"""

EVERY_TIME = """
query Times($id: ID!) {
  node(id: $id) {
    ... on Complaint {
      createdAt updatedAt assignedAt responseDueAt resolutionDueAt firstResponseAt resolvedAt
      closedAt
      opd { updatedAt }
      slaPolicy { effectiveFrom }
      lastEvent { occurredAt recordedAt }
      timeline { nodes { occurredAt recordedAt } }
    }
  }
  slaPolicies { effectiveFrom }
  complaintEvents(first: 100) { nodes { occurredAt recordedAt } }
}
"""


@dataclass
class Seeded:
    id: str
    db_id: int
    tracking_number: str
    created_at: datetime
    updated_at: datetime


async def seed(
    pool: asyncpg.Pool,
    *,
    text: str,
    at: datetime,
    channel: str = "X",
    region: str = "33.19",
    category: str | None = "JALAN",
    status: str = "RECEIVED",
    acted_at: datetime | None = None,
) -> Seeded:
    """A complaint submitted at `at` and brought to `status`, every step at `acted_at`."""
    step = acted_at or at
    async with pool.acquire() as conn, conn.transaction():
        submitted = await workflow.submit(
            conn,
            workflow.Submission(
                channel=channel, text=text, region_code=region, category_code=category
            ),
            actor="test",
            at=at,
        )
        row = submitted.complaint
        cid = row.id
        command = workflow.CommandContext(actor="test", at=step)
        if status == "REJECTED":
            row = (
                await workflow.reject(
                    conn,
                    cid,
                    command,
                    reason=RejectionReason.NOT_OUR_AUTHORITY,
                    note=None,
                    duplicate_of_id=None,
                )
            ).complaint
        elif status != "RECEIVED":
            row = (
                await workflow.assign(conn, cid, command, opd_id=None, category_code=None)
            ).complaint
            if status in ("IN_PROGRESS", "RESOLVED", "CLOSED"):
                row = (await workflow.follow_up(conn, cid, command, message="Ditinjau.")).complaint
            if status in ("RESOLVED", "CLOSED"):
                row = (await workflow.resolve(conn, cid, command, resolution="Beres.")).complaint
            if status == "CLOSED":
                row = (await workflow.confirm(conn, cid, command, rating=5, comment=None)).complaint
        assert row.status == status
    return Seeded(
        id=global_id("Complaint", cid),
        db_id=cid,
        tracking_number=row.tracking_number,
        created_at=at,
        updated_at=row.updated_at,
    )


async def seed_city(pool: asyncpg.Pool) -> dict[str, Seeded]:
    """Seven complaints of different channels, regions, categories and statuses, one an hour.
    Those acted on were handled later, newest first, so updated order differs from created."""
    specs: list[tuple[str, dict[str, Any]]] = [
        ("pothole", {"channel": "X", "region": "33.19", "category": "JALAN",
                     "status": "ASSIGNED",
                     "text": "Jalan provinsi ruas Kudus–Pati berlubang besar, motor jatuh."}),
        ("clinic", {"channel": "WHATSAPP", "region": "33.74", "category": "KESEHATAN",
                    "status": "IN_PROGRESS",
                    "text": "Pelayanan puskesmas Candilama lambat, antre sampai siang."}),
        ("flood", {"channel": "INSTAGRAM", "region": "33.74", "category": "AIR",
                   "status": "RECEIVED", "text": "Banjir rob di Kaligawe tidak kunjung surut."}),
        ("aid", {"channel": "SMS", "region": "33.02", "category": "SOSIAL",
                 "status": "REJECTED", "text": "Bantuan PKH belum cair tiga bulan."}),
        ("tax", {"channel": "WEB", "region": "33.72", "category": "PAJAK",
                 "status": "RESOLVED",
                 "text": "Katanya ada diskon 100% pajak kendaraan, benarkah?"}),
        ("form", {"channel": "APP", "region": "33.72", "category": "INFORMASI",
                  "status": "CLOSED", "text": "Tautan formulir kode_pos di situs dinas rusak."}),
        ("bridge", {"channel": "HOTLINE", "region": "33.19", "category": "JALAN",
                    "status": "IN_PROGRESS",
                    "text": "Jembatan penghubung desa retak, kendaraan berat dilarang lewat."}),
    ]  # fmt: skip
    seeded = {}
    for i, (key, spec) in enumerate(specs):
        at = BASE + timedelta(hours=i)
        seeded[key] = await seed(pool, at=at, acted_at=BASE + timedelta(days=1, hours=-i), **spec)
    return seeded


def cursor_of(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


async def ids_matching(url: str, filter: dict[str, Any]) -> set[str]:
    data = await data_of(url, COMPLAINT_IDS, {"filter": filter, "first": 100})
    ids = {node["id"] for node in data["complaints"]["nodes"]}
    assert data["complaints"]["totalCount"] == len(ids)
    return ids


async def test_each_complaint_filter_selects_exactly_the_matching_complaints(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    c = await seed_city(pool)

    def keys(*names: str) -> set[str]:
        return {c[name].id for name in names}

    assert await ids_matching(url, {}) == keys(*c)
    assert await ids_matching(url, {"status": ["IN_PROGRESS"]}) == keys("clinic", "bridge")
    assert await ids_matching(url, {"status": ["RECEIVED", "REJECTED", "CLOSED"]}) == keys(
        "flood", "aid", "form"
    )
    assert await ids_matching(url, {"opdId": await opd_id(url, "dpubmck")}) == keys(
        "pothole", "bridge"
    )
    assert await ids_matching(url, {"opdId": await opd_id(url, "dinkes")}) == keys("clinic")
    assert await ids_matching(url, {"regionCode": "33.74"}) == keys("clinic", "flood")
    assert await ids_matching(url, {"categoryCode": "JALAN"}) == keys("pothole", "bridge")
    assert await ids_matching(url, {"channel": ["WHATSAPP", "SMS"]}) == keys("clinic", "aid")
    # createdFrom is inclusive and createdBefore exclusive, whatever offset the client uses.
    window = {
        "createdFrom": c["flood"].created_at.isoformat(),
        "createdBefore": c["form"].created_at.astimezone(UTC).isoformat(),
    }
    assert await ids_matching(url, window) == keys("flood", "aid", "tax")
    assert await ids_matching(url, {"createdFrom": c["bridge"].created_at.isoformat()}) == keys(
        "bridge"
    )
    assert await ids_matching(url, {"createdBefore": c["clinic"].created_at.isoformat()}) == keys(
        "pothole"
    )
    # Every given field must match.
    both = {"regionCode": "33.19", "status": ["ASSIGNED"], "channel": ["X"]}
    assert await ids_matching(url, both) == keys("pothole")
    assert await ids_matching(url, {"regionCode": "33.19", "channel": ["SMS"]}) == set()
    assert await ids_matching(url, {"regionCode": "33.01"}) == set()


async def test_search_stems_indonesian_words_matches_substrings_and_takes_wildcards_literally(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    c = await seed_city(pool)

    def keys(*names: str) -> set[str]:
        return {c[name].id for name in names}

    # websearch_to_tsquery('indonesian') stems: "berlubang" → "lubang", "pelayanan" → "layanan".
    assert await ids_matching(url, {"search": "lubang"}) == keys("pothole")
    assert await ids_matching(url, {"search": "layanan"}) == keys("clinic")
    assert await ids_matching(url, {"search": "JEMBATAN retak"}) == keys("bridge")
    assert await ids_matching(url, {"search": "jalan lubang"}) == keys("pothole")
    assert await ids_matching(url, {"search": "  Kaligawe  "}) == keys("flood")
    # Part of a word is found by the substring match.
    assert await ids_matching(url, {"search": "puskes"}) == keys("clinic")
    assert await ids_matching(url, {"search": "aligaw"}) == keys("flood")
    # LIKE wildcards are literal characters.
    assert await ids_matching(url, {"search": "%"}) == keys("tax")
    assert await ids_matching(url, {"search": "_"}) == keys("form")
    assert await ids_matching(url, {"search": "100%"}) == keys("tax")
    assert await ids_matching(url, {"search": "kode_pos"}) == keys("form")
    # Unescaped, "k_de" would match "kode" and "b%r" "Banjir rob".
    assert await ids_matching(url, {"search": "k_de"}) == set()
    assert await ids_matching(url, {"search": "b%r"}) == set()
    # A blank search is no filter; an overlong one is refused.
    assert await ids_matching(url, {"search": "   "}) == keys(*c)
    body = await post(url, COMPLAINT_IDS, {"filter": {"search": "x" * 201}})
    assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


def expected_order(seeded: list[Seeded], order: str) -> list[str]:
    column = "created_at" if order.startswith("CREATED") else "updated_at"
    rows = sorted(seeded, key=lambda s: (getattr(s, column), s.db_id))
    if order.endswith("DESC"):
        rows.reverse()
    return [s.id for s in rows]


async def pages(
    url: str, order: str, first: int, filter: dict[str, Any] | None = None
) -> list[list[str]]:
    """Every page of the connection, following endCursor until hasNextPage is false."""
    result, after = [], None
    while True:
        data = await data_of(
            url, COMPLAINTS, {"filter": filter, "order": order, "first": first, "after": after}
        )
        connection = data["complaints"]
        ids = [node["id"] for node in connection["nodes"]]
        assert [edge["node"]["id"] for edge in connection["edges"]] == ids
        result.append(ids)
        info = connection["pageInfo"]
        if ids:
            assert info["endCursor"] == connection["edges"][-1]["cursor"]
        if not info["hasNextPage"]:
            return result
        assert len(ids) == first
        after = info["endCursor"]


async def test_keyset_pages_walk_every_ordering_without_duplicates_or_gaps(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    # 23 complaints, created three to an hour at the same instant (ties are broken by id), and
    # handled in another order, so every ordering is different.
    seeded = []
    for i in range(23):
        at = BASE + timedelta(hours=i // 3)
        status = "ASSIGNED" if i % 4 == 0 else "RECEIVED"
        acted = BASE + timedelta(days=2, minutes=(i * 7) % 23)
        seeded.append(
            await seed(pool, text=f"Aduan nomor {i}", at=at, status=status, acted_at=acted)
        )
    for order in ("CREATED_AT_DESC", "CREATED_AT_ASC", "UPDATED_AT_DESC", "UPDATED_AT_ASC"):
        walked = await pages(url, order, first=5)
        assert [len(page) for page in walked] == [5, 5, 5, 5, 3], order
        flat = [cid for page in walked for cid in page]
        assert flat == expected_order(seeded, order), order
    # A page size dividing the total ends with a full page and no empty one after it.
    assert [len(page) for page in await pages(url, "CREATED_AT_ASC", first=23)] == [23]
    assert [len(p) for p in await pages(url, "CREATED_AT_ASC", first=100)] == [23]
    # totalCount counts the whole filter, not the page.
    data = await data_of(url, COMPLAINTS, {"order": "CREATED_AT_DESC", "first": 2})
    assert data["complaints"]["totalCount"] == 23
    data = await data_of(
        url,
        COMPLAINTS,
        {"order": "CREATED_AT_DESC", "first": 2, "filter": {"status": ["ASSIGNED"]}},
    )
    assert data["complaints"]["totalCount"] == 6
    # The default is newest first, 20 to a page.
    data = await data_of(url, "{ complaints { nodes { id } pageInfo { hasNextPage } } }")
    assert [n["id"] for n in data["complaints"]["nodes"]] == expected_order(
        seeded, "CREATED_AT_DESC"
    )[:20]
    assert data["complaints"]["pageInfo"]["hasNextPage"] is True


async def test_paging_newest_first_is_stable_while_new_complaints_arrive(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    seeded = [
        await seed(pool, text=f"Aduan lama {i}", at=BASE + timedelta(minutes=i)) for i in range(12)
    ]
    seen: list[str] = []
    arrived: list[str] = []
    after = None
    while True:
        data = await data_of(
            url, COMPLAINTS, {"order": "CREATED_AT_DESC", "first": 5, "after": after}
        )
        seen += [node["id"] for node in data["complaints"]["nodes"]]
        # Two complaints arrive between pages.
        for _ in range(2):
            arrived.append((await submit(url, text="Aduan baru masuk."))["complaint"]["id"])
        if not data["complaints"]["pageInfo"]["hasNextPage"]:
            break
        after = data["complaints"]["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen))
    assert seen == expected_order(seeded, "CREATED_AT_DESC")
    assert not set(arrived) & set(seen)
    # The newcomers are at the head of a fresh first page.
    data = await data_of(url, COMPLAINTS, {"order": "CREATED_AT_DESC", "first": 6})
    assert [n["id"] for n in data["complaints"]["nodes"]] == arrived[::-1]


async def test_page_sizes_outside_1_to_100_and_malformed_cursors_are_invalid_input(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    await seed(pool, text="Satu aduan.", at=BASE)
    for first in (0, -1, 101, 10_000):
        body = await post(url, COMPLAINTS, {"order": "CREATED_AT_DESC", "first": first})
        assert body["data"] is None
        assert body["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": "first"}
    for first in (1, 100):
        assert "errors" not in await post(
            url, COMPLAINTS, {"order": "CREATED_AT_DESC", "first": first}
        )
    for after in (
        "xyz",
        "!!!",
        cursor_of([1, 2]),
        cursor_of(["2025-03-03T08:00:00+07:00"]),
        cursor_of(["2025-03-03T08:00:00+07:00", "7"]),
        cursor_of(["kemarin", 7]),
        cursor_of({"created_at": "2025-03-03T08:00:00+07:00", "id": 7}),
        global_id("Complaint", 1),
    ):
        body = await post(url, COMPLAINTS, {"order": "CREATED_AT_DESC", "after": after})
        assert body["data"] is None, after
        assert body["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": "after"}


async def test_a_forged_cursor_with_an_id_beyond_bigint_is_invalid_input(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    await seed(pool, text="Satu aduan.", at=BASE)
    forged = cursor_of(["2025-03-03T08:00:00+07:00", 2**70])
    body = await post(url, COMPLAINTS, {"order": "CREATED_AT_DESC", "after": forged})
    assert body["data"] is None
    assert body["errors"][0].get("extensions") == {"code": "INVALID_INPUT", "field": "after"}


async def test_a_complaint_is_found_by_its_tracking_number_in_any_case(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    c = await seed_city(pool)
    number = c["clinic"].tracking_number
    assert re.fullmatch(r"JTG-250303-[2-9A-HJ-NP-Z]{6}", number)
    for asked in (number, number.lower(), f"  {number.title()} "):
        found = (await data_of(url, BY_TRACKING_NUMBER, {"number": asked}))["complaint"]
        assert found["id"] == c["clinic"].id
        assert found["trackingNumber"] == number
        assert found["status"] == "IN_PROGRESS"
    for unknown in ("JTG-250303-ZZZZZZ", "", "JTG-%"):
        assert (await data_of(url, BY_TRACKING_NUMBER, {"number": unknown}))["complaint"] is None


async def test_node_fetches_every_node_type_by_its_global_id(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    c = await seed_city(pool)
    programme = await create_programme(url)
    work_item = await create_work_item(url, programme["id"])
    account = await data_of(
        url,
        """mutation Add($input: AddSocialAccountInput!) {
             addOpdSocialAccount(input: $input) { socialAccount { id } errors { code } }
           }""",
        {"input": {"opdId": await opd_id(url, "dinkes"), "platform": "X", "handle": "dinkesjtg"}},
    )
    event = await data_of(
        url,
        "query($id: ID!) { node(id: $id) { ... on Complaint { lastEvent { id type } } } }",
        {"id": c["clinic"].id},
    )
    policies = (await data_of(url, SLA_POLICIES))["slaPolicies"]
    expected: dict[str, tuple[str, dict[str, Any]]] = {
        c["clinic"].id: ("Complaint", {"trackingNumber": c["clinic"].tracking_number}),
        event["node"]["lastEvent"]["id"]: (
            "ComplaintEvent",
            {"type": "FOLLOWED_UP", "complaint": {"id": c["clinic"].id}},
        ),
        await opd_id(url, "bpbd"): ("Opd", {"slug": "bpbd"}),
        global_id("Region", "33.74"): ("Region", {"code": "33.74", "name": "Semarang"}),
        global_id("Category", "JALAN"): ("Category", {"code": "JALAN"}),
        policies[1]["id"]: ("SlaPolicy", {"responseHours": 24}),
        account["addOpdSocialAccount"]["socialAccount"]["id"]: (
            "SocialAccount",
            {"handle": "dinkesjtg", "opd": {"slug": "dinkes"}},
        ),
        programme["id"]: ("Programme", {"code": "JALAN-CANTIK-2025"}),
        work_item["id"]: (
            "WorkItem",
            {"name": work_item["name"], "programme": {"code": "JALAN-CANTIK-2025"}},
        ),
    }
    for node_id, (type_name, fields) in expected.items():
        node = (await data_of(url, NODE, {"id": node_id}))["node"]
        assert node == {"__typename": type_name, "id": node_id, **fields}


async def test_node_is_null_for_unknown_objects_and_an_error_for_garbage(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    await seed(pool, text="Satu aduan.", at=BASE)
    for missing in (
        global_id("Complaint", 987654),
        global_id("ComplaintEvent", 987654),
        global_id("Opd", 987654),
        global_id("Region", "33.99"),
        global_id("Category", "TIDAK_ADA"),
        global_id("SlaPolicy", 3),
        global_id("SocialAccount", 1),
        global_id("Programme", 1),
        global_id("WorkItem", 1),
        global_id("Complaint", "abc"),
        global_id("UserError", 1),
        global_id("Query", "x"),
    ):
        body = await post(url, NODE, {"id": missing})
        assert body == {"data": {"node": None}}, missing
    for garbage in ("garbage", "", "!!!", "Q29tcGxhaW50", base64.b64encode(b"\xff\xfe").decode()):
        body = await post(url, NODE, {"id": garbage})
        assert body["data"] == {"node": None}, garbage
        assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT", garbage


async def test_node_ids_beyond_bigint_or_with_unicode_digits_are_simply_not_found(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    present = await seed(pool, text="Satu aduan.", at=BASE)
    for key in (str(2**63), "9" * 30, "²", "١٢"):
        for type_name in ("Complaint", "Opd", "SocialAccount", "ComplaintEvent"):
            body = await post(url, NODE, {"id": global_id(type_name, key)})
            assert body == {"data": {"node": None}}, (type_name, key, body)
    # One bad id does not spoil the other ids loaded in the same batch.
    body = await post(
        url,
        "query($a: ID!, $b: ID!) { a: node(id: $a) { id } b: node(id: $b) { id } }",
        {"a": global_id("Complaint", 2**64), "b": present.id},
    )
    assert body == {"data": {"a": None, "b": {"id": present.id}}}


async def test_opds_count_their_open_backlog_of_assigned_and_in_progress_complaints(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    await seed_city(pool)
    opds = {opd["slug"]: opd for opd in (await data_of(url, OPDS))["opds"]}
    assert len(opds) == 31
    # DPUBMCK: pothole (ASSIGNED) and bridge (IN_PROGRESS); Dinkes: clinic (IN_PROGRESS);
    # Bapenda's is RESOLVED and Diskominfo's CLOSED, so neither counts.
    backlog = {slug: opd["openBacklog"] for slug, opd in opds.items() if opd["openBacklog"]}
    assert backlog == {"dpubmck": 2, "dinkes": 1}
    assert opds["dpubmck"]["shortName"] == "DPUBMCK"
    assert opds["satpolpp"]["kind"] == "SATPOL_PP"
    assert opds["bapenda"]["openBacklog"] == 0


async def test_regions_are_the_35_of_central_java_with_seats_and_open_complaints(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    await seed_city(pool)
    regions = {region["code"]: region for region in (await data_of(url, REGIONS))["regions"]}
    assert len(regions) == 35
    assert sum(r["type"] == "KOTA" for r in regions.values()) == 6
    assert regions["33.74"] == {
        "id": global_id("Region", "33.74"),
        "code": "33.74",
        "name": "Semarang",
        "type": "KOTA",
        "seat": "Semarang",
        "seatLocation": {"lat": -6.9667, "lon": 110.4167},
        "openComplaints": 2,
    }
    assert regions["33.02"]["seat"] == "Purwokerto"
    for region in regions.values():
        assert -9 < region["seatLocation"]["lat"] < -6
        assert 108 < region["seatLocation"]["lon"] < 112
    # Kudus: ASSIGNED + IN_PROGRESS; Semarang: IN_PROGRESS + RECEIVED; the rest are closed,
    # resolved or rejected.
    open_ = {code: r["openComplaints"] for code, r in regions.items() if r["openComplaints"]}
    assert open_ == {"33.19": 2, "33.74": 2}
    single = await data_of(url, '{ region(code: "33.19") { name openComplaints } }')
    assert single == {"region": {"name": "Kudus", "openComplaints": 2}}


async def test_categories_name_their_default_opd(server: RunningServer) -> None:
    categories = {c["code"]: c for c in (await data_of(server.http_url, CATEGORIES))["categories"]}
    assert len(categories) == 19
    assert categories["JALAN"]["defaultOpd"] == {"slug": "dpubmck", "shortName": "DPUBMCK"}
    assert categories["JALAN"]["resolutionHours"] == 72
    assert categories["KESEHATAN"]["defaultOpd"]["slug"] == "dinkes"
    assert categories["KESEHATAN"]["resolutionHours"] is None
    assert categories["BENCANA"]["nameEn"] == "Disasters"
    assert categories["ASN"]["defaultOpd"]["slug"] == "inspektorat"


async def test_sla_policies_are_2x24_then_1x24_and_an_assignment_now_takes_1x24(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    policies = (await data_of(url, SLA_POLICIES))["slaPolicies"]
    assert [(p["name"], p["effectiveFrom"], p["responseHours"], p["resolutionHours"])
            for p in policies] == [
        ("Tindak lanjut 2x24 jam", "2014-01-01T00:00:00+07:00", 48, 336),
        ("Tindak lanjut 1x24 jam", "2019-01-01T00:00:00+07:00", 24, 168),
    ]  # fmt: skip

    def hours(later: str, earlier: str) -> float:
        delta = datetime.fromisoformat(later) - datetime.fromisoformat(earlier)
        return delta.total_seconds() / 3600

    road = (await submit(url))["complaint"]
    await act_ok(url, "assignComplaint", complaintId=road["id"])
    sla = (await data_of(url, SLA_OF, {"id": road["id"]}))["node"]
    assert sla["slaPolicy"] == {
        "name": "Tindak lanjut 1x24 jam",
        "responseHours": 24,
        "resolutionHours": 168,
    }
    assert hours(sla["responseDueAt"], sla["assignedAt"]) == 24
    # Roads are promised 72 hours for the fix; other categories take the policy's 168.
    assert hours(sla["resolutionDueAt"], sla["assignedAt"]) == 72
    clinic = (await submit(url, categoryCode="KESEHATAN"))["complaint"]
    await act_ok(url, "assignComplaint", complaintId=clinic["id"])
    sla = (await data_of(url, SLA_OF, {"id": clinic["id"]}))["node"]
    assert hours(sla["resolutionDueAt"], sla["assignedAt"]) == 168

    # A complaint first assigned in 2018 keeps the 2x24 policy, even when reassigned now.
    old = await seed(
        pool, text="Aduan lama.", at=datetime(2018, 6, 1, 9, tzinfo=WIB), status="ASSIGNED"
    )
    sla = (await data_of(url, SLA_OF, {"id": old.id}))["node"]
    assert sla["slaPolicy"]["responseHours"] == 48
    assert sla["assignedAt"] == "2018-06-01T09:00:00+07:00"
    assert sla["responseDueAt"] == "2018-06-03T09:00:00+07:00"
    await act_ok(
        url,
        "reassignComplaint",
        complaintId=old.id,
        opdId=await opd_id(url, "dishub"),
        reason="Rambu lalu lintas, bukan jalan.",
    )
    sla = (await data_of(url, SLA_OF, {"id": old.id}))["node"]
    assert sla["slaPolicy"]["responseHours"] == 48
    assert sla["assignedAt"] > "2019"
    assert hours(sla["responseDueAt"], sla["assignedAt"]) == 48


async def test_the_global_event_log_pages_oldest_first(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    await seed_city(pool)
    async with pool.acquire() as conn:
        stored = [
            row["id"] for row in await conn.fetch("SELECT id FROM complaint_events ORDER BY id")
        ]
    # pothole 2, clinic 3, flood 1, aid 2, tax 4, form 5, bridge 3
    assert len(stored) == 20
    walked: list[int] = []
    after = None
    while True:
        data = (await data_of(url, EVENT_LOG, {"first": 4, "after": after}))["complaintEvents"]
        cursors = [edge["cursor"] for edge in data["edges"]]
        walked += [int(cursor) for cursor in cursors]
        if not data["pageInfo"]["hasNextPage"]:
            break
        assert len(cursors) == 4
        after = data["pageInfo"]["endCursor"]
        assert after == cursors[-1]
    assert walked == stored
    # The default page is 20 events; past the end is an empty page.
    data = (await data_of(url, EVENT_LOG))["complaintEvents"]
    assert len(data["edges"]) == 20
    assert data["pageInfo"] == {"hasNextPage": False, "endCursor": str(stored[-1])}
    data = (await data_of(url, EVENT_LOG, {"after": str(stored[-1])}))["complaintEvents"]
    assert data == {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}
    first = (await data_of(url, EVENT_LOG, {"first": 1}))["complaintEvents"]["edges"][0]
    assert first["node"]["type"] == "SUBMITTED"
    for bad in ({"first": 0}, {"first": 101}, {"after": "abc"}, {"after": "-1"}, {"after": "1.5"}):
        body = await post(url, EVENT_LOG, bad)
        assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT", bad


async def test_an_event_cursor_of_non_ascii_digits_is_invalid_input(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    # str.isdigit() is true for "²" and "١٢", which int() then refuses or reads as 12.
    url = server.http_url
    complaint = await seed(pool, text="Satu aduan.", at=BASE)
    for cursor in ("²", "١٢"):
        body = await post(url, EVENT_LOG, {"after": cursor})
        assert body["data"] is None
        assert body["errors"][0].get("extensions", {}).get("code") == "INVALID_INPUT", body
        body = await post(url, TIMELINE, {"id": complaint.id, "first": 5, "after": cursor})
        assert body["errors"][0].get("extensions", {}).get("code") == "INVALID_INPUT", body


async def test_a_nul_character_in_a_filter_or_lookup_is_bad_input_not_a_server_error(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    await seed(pool, text="Satu aduan.", at=BASE)
    for filter in ({"search": "jalan\u0000"}, {"regionCode": "33.19\u0000"}):
        body = await post(url, COMPLAINT_IDS, {"filter": filter})
        codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
        assert codes == ["INVALID_INPUT"], (filter, body)
    body = await post(url, BY_TRACKING_NUMBER, {"number": "JTG-\u0000"})
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
    assert codes == ["INVALID_INPUT"], body


async def test_a_timeline_pages_through_a_complaints_history(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    c = await seed_city(pool)
    closed = c["form"].id
    walked: list[dict[str, Any]] = []
    after = None
    while True:
        data = await data_of(url, TIMELINE, {"id": closed, "first": 2, "after": after})
        timeline = data["node"]["timeline"]
        walked += timeline["nodes"]
        if not timeline["pageInfo"]["hasNextPage"]:
            break
        after = timeline["pageInfo"]["endCursor"]
    assert [(e["type"], e["fromStatus"], e["toStatus"]) for e in walked] == [
        ("SUBMITTED", None, "RECEIVED"),
        ("ASSIGNED", "RECEIVED", "ASSIGNED"),
        ("FOLLOWED_UP", "ASSIGNED", "IN_PROGRESS"),
        ("RESOLVED", "IN_PROGRESS", "RESOLVED"),
        ("CONFIRMED", "RESOLVED", "CLOSED"),
    ]
    cursors = [int(e["cursor"]) for e in walked]
    assert cursors == sorted(cursors)
    assert [e["occurredAt"] for e in walked] == [
        "2025-03-03T13:00:00+07:00",
        *["2025-03-04T03:00:00+07:00"] * 4,
    ]
    for first in (0, 201):
        body = await post(url, TIMELINE, {"id": closed, "first": first})
        assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT"


def datetimes_in(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [t for v in value.values() for t in datetimes_in(v)]
    if isinstance(value, list):
        return [t for v in value for t in datetimes_in(v)]
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+([+-]\d\d:\d\d|Z)?", value):
        return [value]
    return []


async def test_times_are_given_in_wib_with_a_plus_07_offset(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    c = await seed_city(pool)
    data = await data_of(url, EVERY_TIME, {"id": c["form"].id})
    times = datetimes_in(data)
    assert len(times) > 20
    assert all(t.endswith("+07:00") for t in times), times
    complaint = data["node"]
    # Submitted 08:00 WIB on 3 March plus five hours; handled a day later, one hour earlier.
    assert complaint["createdAt"] == "2025-03-03T13:00:00+07:00"
    assert complaint["closedAt"] == "2025-03-04T03:00:00+07:00"
    assert complaint["timeline"]["nodes"][0]["occurredAt"] == "2025-03-03T13:00:00+07:00"


AMOUNTS = """
query Amounts($code: String!) {
  programme(code: $code) {
    budgetIdr realisationIdr target achievement absorptionPct achievementPct
    workItems { lengthKm progressPct }
  }
}
"""
PROGRESS = """
mutation Progress($input: UpdateWorkItemProgressInput!) {
  updateWorkItemProgress(input: $input) { workItem { progressPct } errors { code field } }
}
"""


def is_json_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


async def test_money_and_quantities_are_exact_strings_and_every_percentage_is_a_number(
    server: RunningServer,
) -> None:
    url = server.http_url
    programme = await create_programme(
        url, budgetIdr="150000000000", realisationIdr=60000000000, target="120.5",
        achievement=84.35,
    )  # fmt: skip
    item = await create_work_item(url, programme["id"], progressPct=70)
    assert item["progressPct"] == 70 and is_json_number(item["progressPct"])

    data = (await data_of(url, AMOUNTS, {"code": "JALAN-CANTIK-2025"}))["programme"]

    # Money and quantities: exact decimal strings of plain digits (never 1.5E+11), whether
    # they were given as strings or as JSON numbers.
    assert {k: data[k] for k in ("budgetIdr", "realisationIdr", "target", "achievement")} == {
        "budgetIdr": "150000000000",
        "realisationIdr": "60000000000",
        "target": "120.50",
        "achievement": "84.35",
    }
    assert data["workItems"] == [{"lengthKm": "4.20", "progressPct": 70}]
    # Percentages: JSON numbers, the stored one and the computed ones alike.
    percentages = [
        data["absorptionPct"],
        data["achievementPct"],
        data["workItems"][0]["progressPct"],
    ]
    assert all(is_json_number(p) for p in percentages), percentages
    assert data["absorptionPct"] == 40 and data["achievementPct"] == 70

    halfway = await data_of(
        url, PROGRESS, {"input": {"workItemId": item["id"], "progressPct": 45.5}}
    )
    assert halfway["updateWorkItemProgress"] == {"workItem": {"progressPct": 45.5}, "errors": []}
    # A percentage written as a string is a variable of the wrong type, refused before it runs.
    as_text = await post(url, PROGRESS, {"input": {"workItemId": item["id"], "progressPct": "50"}})
    assert as_text["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", as_text


def test_the_schema_types_every_percentage_as_float_and_every_amount_as_decimal() -> None:
    schema = build_schema()._schema
    kinds: dict[str, set[str]] = {}
    for graphql_type in schema.type_map.values():
        if graphql_type.name.startswith("__") or not hasattr(graphql_type, "fields"):
            continue
        for name, field in graphql_type.fields.items():
            scalar = get_named_type(field.type).name
            if name.endswith(("Pct", "Share")):
                kinds.setdefault("percentage", set()).add(scalar)
            elif name.endswith(("Idr", "Km")) or name in ("target", "achievement"):
                kinds.setdefault("amount", set()).add(scalar)
    assert kinds == {"percentage": {"Float"}, "amount": {"Decimal"}}
    description = schema.type_map["Decimal"].description or ""
    assert "JSON string of plain digits" in description and "Percentages" in description
