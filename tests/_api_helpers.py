"""Helpers shared by the API tests: global ids, whole-database snapshots, and data set up the
way a client would (over HTTP) or, for bulk, through the domain layer."""

from typing import Any

import asyncpg

from kilas.schema.ids import to_global_id
from tests import ops
from tests.wire import gql, gql_data, token

# Every table a mutation may write, with the order that makes a dump comparable.
TABLES = {
    "complaints": "id",
    "complaint_events": "id",
    "opds": "id",
    "opd_social_accounts": "id",
    "opd_heads": "id",
    "opd_head_accounts": "id",
    "province_accounts": "id",
    "channel_deliveries": "id",
    "channel_contacts": "complaint_id",
    "channel_replies": "id",
    "reply_templates": "event_type",
    "programmes": "id",
    "work_items": "id",
    "categories": "code",
    "regions": "code",
    "sla_policies": "id",
    "sla_policy_category_hours": "policy_id, t.category_code",
    "api_keys": "id",
    "personal_data_access": "id",
}

# Each role as a test caller; OPD officers of the complaint's OPD (dpubmck, the OPD of the
# JALAN category) and of another (dinkes). None is the public role (no token).
ROLES: dict[str, str | None] = {
    "PUBLIC": None,
    "PARTNER": token("PARTNER"),
    "OPD_OFFICER_OWN": token("OPD_OFFICER", opd="dpubmck"),
    "OPD_OFFICER_OTHER": token("OPD_OFFICER", opd="dinkes"),
    "OPERATOR": token("OPERATOR"),
    "SUPERVISOR": token("SUPERVISOR"),
    "ADMIN": token("ADMIN"),
}


# The API tests share the wire helpers under the names they read best with.
post = gql
data_of = gql_data
submit = ops.submit
act = ops.act
act_ok = ops.act_ok


def global_id(type_name: str, key: object) -> str:
    return to_global_id(type_name, key)


async def dump(pool: asyncpg.Pool) -> dict[str, Any]:
    """Every row of every table, as JSON: equal dumps mean nothing was written."""
    snapshot: dict[str, Any] = {}
    async with pool.acquire() as conn:
        for table, order in TABLES.items():
            snapshot[table] = await conn.fetchval(
                f"SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY t.{order}), '[]'::jsonb) "
                f"FROM {table} t"
            )
    return snapshot


def changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """Tables whose rows changed: (rows before, rows after)."""
    return {t: (len(before[t]), len(after[t])) for t in before if before[t] != after[t]}


OPD_BY_SLUG = "query Opd($slug: String!) { opd(slug: $slug) { id shortName } }"


async def opd_id(url: str, slug: str) -> str:
    data = await data_of(url, OPD_BY_SLUG, {"slug": slug})
    assert data["opd"] is not None, f"no OPD {slug}"
    value: str = data["opd"]["id"]
    return value


CREATE_PROGRAMME = """
mutation CreateProgramme($input: CreateProgrammeInput!) {
  createProgramme(input: $input) {
    programme { id code name fiscalYear status predecessor { code } }
    errors { code message field }
  }
}
"""

CREATE_WORK_ITEM = """
mutation CreateWorkItem($input: CreateWorkItemInput!) {
  createWorkItem(input: $input) {
    workItem { id name progressPct status region { code } programme { code } }
    errors { code message field }
  }
}
"""


async def create_programme(url: str, **overrides: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "code": "JALAN-CANTIK-2025",
        "name": "Jalan Cantik",
        "ownerOpdId": await opd_id(url, "dpubmck"),
        "fiscalYear": 2025,
        "budgetIdr": "750000000000",
        "target": "2400",
        "unit": "km",
    }
    value.update(overrides)
    data = await data_of(url, CREATE_PROGRAMME, {"input": value})
    payload: dict[str, Any] = data["createProgramme"]
    assert payload["errors"] == [], payload["errors"]
    programme: dict[str, Any] = payload["programme"]
    return programme


async def create_work_item(url: str, programme_id: str, **overrides: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "programmeId": programme_id,
        "name": "Rekonstruksi ruas Kudus–Pati km 5–9",
        "regionCode": "33.19",
        "roadSegment": "Kudus–Pati",
        "location": {"lat": -6.78, "lon": 110.9},
        "lengthKm": "4.2",
    }
    value.update(overrides)
    data = await data_of(url, CREATE_WORK_ITEM, {"input": value})
    payload: dict[str, Any] = data["createWorkItem"]
    assert payload["errors"] == [], payload["errors"]
    item: dict[str, Any] = payload["workItem"]
    return item


# The lifecycle path to each status, as (mutation, input) steps after the submission.
PATHS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "RECEIVED": [],
    "ASSIGNED": [("assignComplaint", {})],
    "IN_PROGRESS": [
        ("assignComplaint", {}),
        ("recordFollowUp", {"message": "Tim UPT meninjau lokasi."}),
    ],
    "RESOLVED": [
        ("assignComplaint", {}),
        ("recordFollowUp", {"message": "Tim UPT meninjau lokasi."}),
        ("resolveComplaint", {"resolution": "Lubang sudah ditambal."}),
    ],
    "CLOSED": [
        ("assignComplaint", {}),
        ("recordFollowUp", {"message": "Tim UPT meninjau lokasi."}),
        ("resolveComplaint", {"resolution": "Lubang sudah ditambal."}),
        ("confirmResolution", {"rating": 4, "comment": "Terima kasih."}),
    ],
    "REJECTED": [("rejectComplaint", {"reason": "SPAM"})],
}


async def complaint_in(url: str, status: str, **submit_overrides: Any) -> dict[str, Any]:
    """A new complaint brought to `status` through the API; returns its latest payload."""
    payload = await submit(url, **submit_overrides)
    complaint: dict[str, Any] = payload["complaint"]
    for name, input in PATHS[status]:
        complaint = (await act_ok(url, name, complaintId=complaint["id"], **input))["complaint"]
    assert complaint["status"] == status
    return complaint
