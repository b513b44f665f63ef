"""OPD heads with terms of office: appointing one ends the term in office (over real HTTP, bad
input refused with its code and nothing written), createOpd/updateOpd's head fields recorded as
terms, breaches and escalations attributed to the head in office when they happened (in
`accountability`, `headAccountability`, and on the escalations themselves, on both read paths
alike), the migration of the heads recorded before, and the demo's heads."""

import json
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest

from kilas.auth.caller import Caller, Role
from kilas.compiler import FALLBACKS, response_text
from kilas.compiler.run import FAILED
from kilas.db import heads as heads_db
from kilas.db import performance as performance_db
from kilas.db.migrate import load_migrations, migrate
from kilas.db.pool import connect
from kilas.demo import load_demo
from kilas.domain import heads, workflow
from kilas.domain.clock import ManualClock
from kilas.domain.errors import DomainError
from kilas.domain.lifecycle import Channel
from kilas.domain.sla import SlaRules
from kilas.packs import DEFAULT_PACK, load_pack
from kilas.packs.apply import add_heads
from kilas.resolvers.context import Context
from kilas.schema import build_schema
from kilas.schema.ids import WIB, to_global_id
from kilas.settings import Settings
from tests._api_helpers import dump, opd_id
from tests.wire import RunningServer, gql, token

ADMIN = token("ADMIN")
HEAD = "id name title termStart termEnd accounts { platform handle verified }"
APPOINT = f"""
mutation Appoint($input: AppointOpdHeadInput!) {{
  appointOpdHead(input: $input) {{
    head {{ {HEAD} opd {{ slug }} }}
    opd {{ slug head {{ name }} heads {{ name termEnd }} }}
    errors {{ code message field }}
  }}
}}
"""
OPD_HEADS = f"""
query Heads($slug: String!) {{ opd(slug: $slug) {{ head {{ {HEAD} }} heads {{ {HEAD} }} }} }}
"""
UPDATE_OPD = """
mutation Update($input: UpdateOpdInput!) {
  updateOpd(input: $input) { opd { head { name title } } errors { code field } }
}
"""
JATENG = load_pack(DEFAULT_PACK)
assert JATENG.demo is not None
HEADS = sorted({term.opd for term in JATENG.demo.heads})
# The demo's one change of head: an acting head (Plt.) within the demo's weeks.
(CHANGED,) = {term.opd for term in JATENG.demo.heads if term.days_before is not None}


async def appoint(url: str, **fields: Any) -> dict[str, Any]:
    body = await gql(url, APPOINT, {"input": fields}, token=ADMIN)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["appointOpdHead"]
    return payload


async def heads_of(url: str, slug: str) -> dict[str, Any]:
    body = await gql(url, OPD_HEADS, {"slug": slug})
    assert "errors" not in body, body
    found: dict[str, Any] = body["data"]["opd"]
    return found


async def test_appointing_a_head_ends_the_term_in_office_at_the_new_start(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    dinkes = await opd_id(url, "dinkes")
    assert await heads_of(url, "dinkes") == {"head": None, "heads": []}

    first = await appoint(
        url,
        opdId=dinkes,
        name="  dr. Yunita Dyah  ",
        title="Kepala Dinas",
        termStart="2026-01-05T09:00:00+07:00",
        accounts=[
            {"platform": "X", "handle": "@yunitadyah", "verified": True},
            {"platform": "INSTAGRAM", "handle": "dr.yunita", "externalId": "17841400001"},
        ],
    )
    assert first["errors"] == []
    yunita = first["head"]
    assert yunita == {
        "id": yunita["id"],
        "name": "dr. Yunita Dyah",
        "title": "Kepala Dinas",
        "termStart": "2026-01-05T09:00:00+07:00",
        "termEnd": None,
        "accounts": [
            {"platform": "INSTAGRAM", "handle": "dr.yunita", "verified": False},
            {"platform": "X", "handle": "yunitadyah", "verified": True},
        ],
        "opd": {"slug": "dinkes"},
    }
    assert first["opd"]["head"] == {"name": "dr. Yunita Dyah"}

    # A start given in UTC is the same moment; the head before leaves office then.
    second = await appoint(
        url, opdId=dinkes, name="dr. Bagus Wiratama", title="Plt. Kepala Dinas",
        termStart="2026-06-01T02:00:00Z",
    )  # fmt: skip
    assert second["head"]["termStart"] == "2026-06-01T09:00:00+07:00"
    assert second["opd"] == {
        "slug": "dinkes",
        "head": {"name": "dr. Bagus Wiratama"},
        "heads": [
            {"name": "dr. Bagus Wiratama", "termEnd": None},
            {"name": "dr. Yunita Dyah", "termEnd": "2026-06-01T09:00:00+07:00"},
        ],
    }
    found = await heads_of(url, "dinkes")
    bagus = {key: value for key, value in second["head"].items() if key != "opd"}
    assert found["head"] == found["heads"][0] == bagus
    ended = {key: value for key, value in yunita.items() if key != "opd"}
    assert found["heads"][1] == {**ended, "termEnd": "2026-06-01T09:00:00+07:00"}
    # A head is a node, and the OPD's row mirrors the head in office for older readers.
    node = await gql(url, f'{{ node(id: "{yunita["id"]}") {{ ... on OpdHead {{ name }} }} }}')
    assert node["data"]["node"] == {"name": "dr. Yunita Dyah"}
    row = await pool.fetchrow("SELECT head_name, head_title FROM opds WHERE slug = 'dinkes'")
    assert tuple(row) == ("dr. Bagus Wiratama", "Plt. Kepala Dinas")


async def refused(
    url: str, pool: asyncpg.Pool, fields: dict[str, Any], code: str, field: str | None
) -> str:
    """An appointment refused with `code` on `field`, which wrote nothing; its message."""
    before = await dump(pool)
    body = await gql(url, APPOINT, {"input": fields}, token=ADMIN)
    assert "errors" not in body, body
    payload = body["data"]["appointOpdHead"]
    assert payload["head"] is None and payload["opd"] is None
    [error] = payload["errors"]
    assert (error["code"], error["field"]) == (code, field), error
    assert await dump(pool) == before, "a refused appointment wrote to the database"
    message: str = error["message"]
    return message


async def test_an_appointment_that_would_overlap_or_is_malformed_is_refused_and_changes_nothing(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    dinkes = await opd_id(url, "dinkes")
    valid = {"opdId": dinkes, "name": "dr. Yunita Dyah", "title": "Kepala Dinas",
             "termStart": "2026-03-02T09:00:00+07:00"}  # fmt: skip
    assert (await appoint(url, **valid, accounts=[{"platform": "X", "handle": "yunita"}]))[
        "errors"
    ] == []

    # Not after the start of the term in office: the terms would overlap.
    for start in ("2026-03-02T09:00:00+07:00", "2026-03-02T02:00:00Z", "2025-12-31T09:00:00Z"):
        message = await refused(url, pool, {**valid, "termStart": start}, "INVALID_INPUT",
                                "termStart")  # fmt: skip
        assert message == (
            "a new term must start after the current head's term began "
            "(2026-03-02T09:00:00+07:00); terms never overlap"
        )
    future = (datetime.now(WIB) + timedelta(days=2)).isoformat()
    message = await refused(url, pool, {**valid, "termStart": future}, "INVALID_INPUT",
                            "termStart")  # fmt: skip
    assert "cannot start in the future" in message
    later = {**valid, "termStart": "2026-04-01T09:00:00+07:00"}
    await refused(url, pool, {**later, "termStart": "2026-04-01T09:00:00"}, "INVALID_INPUT",
                  "termStart")  # fmt: skip
    for name in ("", "   ", "N" * 201):
        await refused(url, pool, {**later, "name": name}, "INVALID_INPUT", "name")
    await refused(url, pool, {**later, "title": " "}, "INVALID_INPUT", "title")
    for accounts in (
        [{"platform": "X", "handle": "@@"}],
        [{"platform": "X", "handle": "kepala dinas"}],
        [{"platform": "X", "handle": "bagus"}, {"platform": "X", "handle": "@BAGUS"}],
        [{"platform": "X", "handle": "bagus", "externalId": "9" * 101}],
        [{"platform": "X", "handle": f"h{n}"} for n in range(11)],
    ):
        await refused(url, pool, {**later, "accounts": accounts}, "INVALID_INPUT", "accounts")
    # Another head's account (handles are unique per platform, whatever the case).
    message = await refused(
        url, pool, {**later, "accounts": [{"platform": "X", "handle": "YUNITA"}]},
        "ALREADY_EXISTS", "accounts",
    )  # fmt: skip
    assert message == "@YUNITA on X is already a head's account"
    await refused(url, pool, {**later, "opdId": to_global_id("Opd", 987654)}, "NOT_FOUND", "opdId")
    await refused(
        url, pool, {**later, "opdId": to_global_id("Complaint", 1)}, "INVALID_INPUT", "opdId"
    )
    # Only administrators appoint.
    before = await dump(pool)
    body = await gql(url, APPOINT, {"input": later}, token=token("OPERATOR"))
    assert [e["code"] for e in body["data"]["appointOpdHead"]["errors"]] == ["FORBIDDEN"]
    assert await dump(pool) == before

    assert [h["name"] for h in (await heads_of(url, "dinkes"))["heads"]] == ["dr. Yunita Dyah"]


async def test_the_database_refuses_overlapping_terms_of_one_opd(conn: asyncpg.Connection) -> None:
    """btree_gist's exclusion constraint, whatever the domain does (the embedded server and
    Debian's PostgreSQL both ship the extension)."""
    opd = await conn.fetchval("SELECT id FROM opds WHERE slug = 'dishub'")
    other = await conn.fetchval("SELECT id FROM opds WHERE slug = 'dinsos'")
    insert = "INSERT INTO opd_heads (opd_id, name, term_start, term_end) VALUES ($1, $2, $3, $4)"
    start = datetime(2026, 1, 5, 9, tzinfo=WIB)
    await conn.execute(insert, opd, "A", start, start + timedelta(days=30))
    # Back to back is no overlap; another OPD's term may run at the same time.
    await conn.execute(insert, opd, "B", start + timedelta(days=30), None)
    await conn.execute(insert, other, "C", start, None)
    with pytest.raises(asyncpg.ExclusionViolationError):
        await conn.execute(insert, opd, "D", start + timedelta(days=60), None)
    with pytest.raises(asyncpg.CheckViolationError):
        await conn.execute(insert, other, "E", start, start)


async def test_create_and_update_opd_record_their_head_fields_as_terms(
    server: RunningServer,
) -> None:
    url = server.http_url
    dinkes = await opd_id(url, "dinkes")

    async def update(**fields: Any) -> Any:
        body = await gql(url, UPDATE_OPD, {"input": {"opdId": dinkes, **fields}})
        assert body["data"]["updateOpd"]["errors"] == [], body
        return body["data"]["updateOpd"]["opd"]["head"]

    async def terms() -> list[tuple[str, str | None, bool]]:
        found = (await heads_of(url, "dinkes"))["heads"]
        return [(h["name"], h["title"], h["termEnd"] is None) for h in found]

    assert await update(headName="dr. Yunita Dyah", headTitle="Kepala Dinas") == {
        "name": "dr. Yunita Dyah", "title": "Kepala Dinas",
    }  # fmt: skip
    # The same name with a title corrects the term in office; another name is a new head.
    await update(headTitle="Kepala Dinas Kesehatan")
    assert await terms() == [("dr. Yunita Dyah", "Kepala Dinas Kesehatan", True)]
    assert await update(headName="dr. Budi") == {"name": "dr. Budi", "title": "Kepala Dinas "
                                                 "Kesehatan"}  # fmt: skip
    assert await terms() == [
        ("dr. Budi", "Kepala Dinas Kesehatan", True),
        ("dr. Yunita Dyah", "Kepala Dinas Kesehatan", False),
    ]
    first, second = (await heads_of(url, "dinkes"))["heads"][::-1]
    assert first["termEnd"] == second["termStart"]
    # No name: the post is vacant, and both terms stay on record.
    assert await update(headName=None) is None
    assert [t[2] for t in await terms()] == [False, False]

    created = await gql(
        url,
        'mutation { createOpd(input: {slug: "biro-infra", shortName: "Biro Infra", name: "Biro '
        'Infrastruktur", kind: BIRO, headName: "Ir. Sigit", headTitle: "Kepala Biro"}) '
        "{ opd { head { name title termEnd } heads { name } } errors { code } } }",
    )
    assert created["data"]["createOpd"] == {
        "opd": {
            "head": {"name": "Ir. Sigit", "title": "Kepala Biro", "termEnd": None},
            "heads": [{"name": "Ir. Sigit"}],
        },
        "errors": [],
    }


# The change of head in the attribution scenario: DPUBMCK's acting head from 15 October 2026.
CHANGE = datetime(2026, 10, 15, 9, tzinfo=WIB)
OLD, NEW = "Ir. Budi Santoso", "Ir. Sri Rahayu"
ROAD = "Jalan provinsi ruas Semarang–Kendal km 12 berlubang besar, dua motor jatuh."


async def _scenario(conn: asyncpg.Connection) -> dict[str, int]:
    """Two DPUBMCK complaints never answered, one assigned before the change of head and one
    after, swept 30 hours past the change: the first breached its response deadline 6 hours
    before the change (escalated to the old head at once, to the command center 24 hours
    later, under the new head); the second breached 26 hours after the change."""
    dpubmck = await conn.fetchval("SELECT id FROM opds WHERE slug = 'dpubmck'")
    async with conn.transaction():
        await heads.appoint(conn, dpubmck, name=OLD, title="Kepala Dinas",
                            term_start=CHANGE - timedelta(days=280), now=CHANGE)  # fmt: skip
        await heads.appoint(conn, dpubmck, name=NEW, title="Plt. Kepala Dinas",
                            term_start=CHANGE, now=CHANGE)  # fmt: skip
    ids = {}
    for name, assigned in (("before", CHANGE - timedelta(hours=30)),
                           ("after", CHANGE + timedelta(hours=2))):  # fmt: skip
        async with conn.transaction():
            outcome = await workflow.submit(
                conn, workflow.Submission(channel=Channel.WEB, text=ROAD, region_code="33.74",
                                          category_code="JALAN"),
                actor="test:warga", at=assigned - timedelta(hours=1),
            )  # fmt: skip
            ids[name] = outcome.complaint.id
            await workflow.assign(
                conn, ids[name], workflow.CommandContext(actor="test:operator", at=assigned),
                opd_id=None, category_code=None,
            )  # fmt: skip
    now = CHANGE + timedelta(hours=30)
    for complaint_id in ids.values():
        while True:
            async with conn.transaction():
                outcome = await workflow.record_next_mark(conn, complaint_id, now, SlaRules())
            if outcome.event is None:
                break
    return ids


async def test_breaches_and_escalations_are_the_head_s_in_office_when_they_happened(
    conn: asyncpg.Connection,
) -> None:
    await _scenario(conn)
    rows = await performance_db.accountability(
        conn, datetime(2026, 10, 1, tzinfo=WIB), datetime(2026, 11, 1, tzinfo=WIB)
    )
    assert [
        (row.head_name, row.month.isoformat(), row.breaches, row.escalations,
         row.escalations_level1, row.escalations_level2)
        for row in rows
    ] == [
        (OLD, "2026-10-01", 1, 1, 1, 0),
        (NEW, "2026-10-01", 1, 2, 1, 1),
    ]  # fmt: skip

    records = await heads_db.head_records(
        conn, datetime(2026, 10, 1, tzinfo=WIB), datetime(2026, 11, 1, tzinfo=WIB)
    )
    assert [
        (r.period_start, r.period_end, r.received, r.breaches, r.escalations) for r in records
    ] == [
        (datetime(2026, 10, 1, tzinfo=WIB), CHANGE, 1, 1, 1),
        (CHANGE, datetime(2026, 11, 1, tzinfo=WIB), 1, 1, 2),
    ]


ATTRIBUTION = """
query Attribution($before: ID!, $after: ID!) {
  before: node(id: $before) { ...Escalations }
  after: node(id: $after) { ...Escalations }
  opd(slug: "dpubmck") {
    head { name } heads { name title termStart termEnd accounts { handle } opd { slug } }
  }
  headAccountability(from: "2026-10-01T00:00:00+07:00", to: "2026-11-01T00:00:00+07:00") {
    head { name termStart termEnd } opd { slug } from to received breaches responseBreaches
    resolutionBreaches escalations escalationsToOpdHead escalationsToCommandCenter
    escalationsToGovernorOffice
  }
}
fragment Escalations on Complaint {
  sla { escalationLevel escalatedTo escalatedAt escalatedToHead { name title } }
  timeline { nodes { type escalationLevel occurredAt escalatedToHead { name } } }
}
"""


async def _both_paths(
    pool: asyncpg.Pool, query: str, variables: dict[str, Any], now: datetime
) -> Any:
    """The answer of strawberry's execution, checked equal to the compiled read path's."""
    schema = build_schema()
    failed = FALLBACKS[FAILED]
    answers = []
    for compiled in (False, True, True):
        context = Context(
            pool=pool,
            bus=None,  # type: ignore[arg-type]
            hub=None,  # type: ignore[arg-type]
            feeds=None,  # type: ignore[arg-type]
            settings=Settings(),
            clock=ManualClock(now),
            caller=Caller(Role.SUPERVISOR, "jwt:supervisor"),
            compiled_reads=compiled,
        )
        result = await schema.execute(query, variable_values=variables, context_value=context)
        answers.append(json.loads(response_text(result)))
    assert answers[1] == answers[0] and answers[2] == answers[0]
    assert FALLBACKS[FAILED] == failed
    assert "errors" not in answers[0], answers[0]
    return answers[0]["data"]


async def test_an_escalation_to_the_head_names_the_head_in_office_then_on_both_read_paths(
    pool: asyncpg.Pool,
) -> None:
    async with pool.acquire() as conn:
        ids = await _scenario(conn)
    variables = {k: to_global_id("Complaint", v) for k, v in ids.items()}
    data = await _both_paths(pool, ATTRIBUTION, variables, CHANGE + timedelta(hours=31))

    # Escalated to the command center (after the change): no head is named.
    before = data["before"]
    assert before["sla"]["escalatedTo"] == "COMMAND_CENTER"
    assert before["sla"]["escalatedToHead"] is None
    escalations = [
        (e["escalationLevel"], e["occurredAt"], e["escalatedToHead"])
        for e in before["timeline"]["nodes"]
        if e["type"] == "ESCALATED"
    ]
    assert escalations == [
        (1, "2026-10-15T03:00:00+07:00", {"name": OLD}),
        (2, "2026-10-16T03:00:00+07:00", None),
    ]
    after = data["after"]
    assert after["sla"] == {
        "escalationLevel": 1,
        "escalatedTo": "OPD_HEAD",
        "escalatedAt": "2026-10-16T11:00:00+07:00",
        "escalatedToHead": {"name": NEW, "title": "Plt. Kepala Dinas"},
    }
    named = [(e["type"], e["escalatedToHead"]) for e in after["timeline"]["nodes"]]
    assert [pair for pair in named if pair[1] is not None] == [("ESCALATED", {"name": NEW})]
    assert ("SLA_BREACHED", None) in named
    assert data["opd"]["head"] == {"name": NEW}
    assert [h["termEnd"] for h in data["opd"]["heads"]] == [None, "2026-10-15T09:00:00+07:00"]

    records = [r for r in data["headAccountability"] if r["opd"] == {"slug": "dpubmck"}]
    assert records == [
        {
            "head": {"name": OLD, "termStart": "2026-01-08T09:00:00+07:00",
                     "termEnd": "2026-10-15T09:00:00+07:00"},
            "opd": {"slug": "dpubmck"}, "from": "2026-10-01T00:00:00+07:00",
            "to": "2026-10-15T09:00:00+07:00", "received": 1, "breaches": 1,
            "responseBreaches": 1, "resolutionBreaches": 0, "escalations": 1,
            "escalationsToOpdHead": 1, "escalationsToCommandCenter": 0,
            "escalationsToGovernorOffice": 0,
        },
        {
            "head": {"name": NEW, "termStart": "2026-10-15T09:00:00+07:00", "termEnd": None},
            "opd": {"slug": "dpubmck"}, "from": "2026-10-15T09:00:00+07:00",
            "to": "2026-11-01T00:00:00+07:00", "received": 1, "breaches": 1,
            "responseBreaches": 1, "resolutionBreaches": 0, "escalations": 2,
            "escalationsToOpdHead": 1, "escalationsToCommandCenter": 1,
            "escalationsToGovernorOffice": 0,
        },
    ]  # fmt: skip
    # Every other OPD has no head in this database: no record.
    assert len(data["headAccountability"]) == 2


async def test_accountability_over_graphql_has_a_line_per_head_in_the_month_of_the_change(
    server: RunningServer, conn: asyncpg.Connection
) -> None:
    await _scenario(conn)
    query = """
    { accountability(from: "2026-10-01T00:00:00+07:00", to: "2026-11-01T00:00:00+07:00") {
        opd { slug } head { name termEnd } month breaches escalations escalationsToOpdHead
    } }
    """
    body = await gql(server.http_url, query)
    assert "errors" not in body, body
    assert body["data"]["accountability"] == [
        {"opd": {"slug": "dpubmck"}, "head": {"name": OLD, "termEnd": "2026-10-15T09:00:00+07:00"},
         "month": "2026-10-01", "breaches": 1, "escalations": 1, "escalationsToOpdHead": 1},
        {"opd": {"slug": "dpubmck"}, "head": {"name": NEW, "termEnd": None},
         "month": "2026-10-01", "breaches": 1, "escalations": 2, "escalationsToOpdHead": 1},
    ]  # fmt: skip
    # Supervisors only, like accountability.
    records = """
    { headAccountability(from: "2026-10-01T00:00:00+07:00", to: "2026-11-01T00:00:00+07:00") {
        received
    } }
    """
    refused = await gql(server.http_url, records, token=token("OPERATOR"))
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_migration_makes_each_recorded_head_a_term_from_the_opd_s_registration(
    empty_database_url: str,
) -> None:
    migrations = load_migrations()
    version = next(m.version for m in migrations if m.name == "opd_heads")
    conn = await connect(empty_database_url)
    try:
        await migrate(conn, [m for m in migrations if m.version < version])
        await conn.execute(
            "UPDATE opds SET head_name = 'Ir. Budi Santoso', head_title = 'Kepala Dinas', "
            "created_at = '2024-02-01 08:00+07' WHERE slug = 'dpubmck'"
        )
        await conn.execute("UPDATE opds SET head_name = 'dr. Yunita' WHERE slug = 'dinkes'")
        await conn.execute("UPDATE opds SET head_name = '', head_title = 'X' WHERE slug = 'bkd'")
        assert await migrate(conn) == [m.version for m in migrations if m.version >= version]

        found = await conn.fetch(
            "SELECT o.slug, h.name, h.title, h.term_start = o.created_at AS since_registered, "
            "h.term_end FROM opd_heads h JOIN opds o ON o.id = h.opd_id ORDER BY o.slug"
        )
        assert [tuple(row) for row in found] == [
            ("dinkes", "dr. Yunita", None, True, None),
            ("dpubmck", "Ir. Budi Santoso", "Kepala Dinas", True, None),
        ]
        # In office from then on, and the OPD row's columns are still there.
        dpubmck = await conn.fetchval("SELECT id FROM opds WHERE slug = 'dpubmck'")
        since = datetime(2024, 2, 1, 8, tzinfo=WIB)
        [head] = await heads_db.heads_in_office(conn, [dpubmck], since)
        assert await heads_db.heads_in_office(conn, [dpubmck], since - timedelta(seconds=1)) == []
        assert head.name == "Ir. Budi Santoso"
        assert await conn.fetchval("SELECT head_name FROM opds WHERE id = $1", dpubmck) == (
            "Ir. Budi Santoso"
        )
    finally:
        await conn.close()


async def test_the_demo_has_a_head_for_every_opd_with_a_verified_account_and_one_change(
    database_url: str, pool: asyncpg.Pool
) -> None:
    await load_demo(database_url, load_pack(DEFAULT_PACK))
    async with pool.acquire() as conn:
        opds = {row["id"]: row["slug"] for row in await conn.fetch("SELECT id, slug FROM opds")}
        now = await conn.fetchval("SELECT now()")
        in_office = await heads_db.heads_in_office(conn, list(opds), now)
        assert sorted(opds[h.opd_id] for h in in_office) == sorted(opds.values()) == HEADS
        accounts = await heads_db.accounts_by_head_ids(conn, [h.id for h in in_office])
        verified = {a.head_id for a in accounts if a.verified and a.platform in ("X", "INSTAGRAM")}
        assert verified == {h.id for h in in_office}

        terms = await heads_db.heads_by_opd_ids(conn, list(opds))
        changed = [slug for slug in opds.values()
                   if sum(opds[t.opd_id] == slug for t in terms) > 1]  # fmt: skip
        assert changed == [CHANGED]
        new, old = [t for t in terms if opds[t.opd_id] == CHANGED]
        assert old.term_end == new.term_start and new.term_end is None
        assert new.title is not None and new.title.startswith("Plt.")
        # The change falls within the demo's weeks, with complaints of that OPD on both sides.
        first, last = await conn.fetchrow(
            "SELECT min(assigned_at), max(assigned_at) FROM complaints c JOIN opds o "
            "ON o.id = c.opd_id WHERE o.slug = $1 AND external_ref LIKE 'demo-%'",
            CHANGED,
        )
        assert first < new.term_start < last

        # Loading again appoints nobody.
        before = await conn.fetchval("SELECT count(*) FROM opd_heads")
        assert await add_heads(conn, JATENG.demo.heads, anchor=None) == 0
        await load_demo(database_url, load_pack(DEFAULT_PACK))
        assert await conn.fetchval("SELECT count(*) FROM opd_heads") == before


async def test_the_domain_refuses_a_start_without_an_offset_before_touching_anything(
    conn: asyncpg.Connection,
) -> None:
    dinkes = await conn.fetchval("SELECT id FROM opds WHERE slug = 'dinkes'")
    with pytest.raises(DomainError) as refused:
        await heads.appoint(conn, dinkes, name="dr. A", title="Kepala Dinas",
                            term_start=datetime(2026, 1, 5, 9), now=CHANGE)  # fmt: skip
    assert (refused.value.field, refused.value.message) == (
        "termStart",
        "termStart needs a time zone offset, e.g. +07:00",
    )
    assert await conn.fetchval("SELECT count(*) FROM opd_heads") == 0
