"""Administration over real HTTP: OPDs and their social accounts, programmes (with their
predecessors), work items and their progress, and linking complaints to work items. Every
refusal is checked to change nothing."""

from typing import Any

import asyncpg

from tests._api_helpers import (
    act,
    act_ok,
    complaint_in,
    create_programme,
    create_work_item,
    data_of,
    dump,
    global_id,
    opd_id,
)
from tests.wire import RunningServer, gql, token

OPD_FIELDS = """
    id slug shortName name kind head { name title }
    socialAccounts { id platform handle verified }
    categories { code }
    openBacklog
"""

CREATE_OPD = f"""
mutation CreateOpd($input: CreateOpdInput!) {{
  createOpd(input: $input) {{ opd {{ {OPD_FIELDS} }} errors {{ code message field }} }}
}}
"""

UPDATE_OPD = f"""
mutation UpdateOpd($input: UpdateOpdInput!) {{
  updateOpd(input: $input) {{ opd {{ {OPD_FIELDS} }} errors {{ code message field }} }}
}}
"""

OPD = f"query Opd($slug: String!) {{ opd(slug: $slug) {{ {OPD_FIELDS} }} }}"

ACCOUNT_PAYLOAD = """
    socialAccount { id platform handle verified opd { slug } }
    errors { code message field }
"""

ADD_ACCOUNT = f"""
mutation Add($input: AddSocialAccountInput!) {{
  addOpdSocialAccount(input: $input) {{ {ACCOUNT_PAYLOAD} }}
}}
"""

SET_VERIFIED = f"""
mutation Verify($input: SetSocialAccountVerifiedInput!) {{
  setOpdSocialAccountVerified(input: $input) {{ {ACCOUNT_PAYLOAD} }}
}}
"""

REMOVE_ACCOUNT = f"""
mutation Remove($id: ID!) {{
  removeOpdSocialAccount(socialAccountId: $id) {{ {ACCOUNT_PAYLOAD} }}
}}
"""

PROGRAMME_FIELDS = """
    id code name description fiscalYear budgetIdr realisationIdr target achievement unit status
    absorptionPct achievementPct
    owner { slug }
    predecessor { code name }
    successors { code }
    workItems { id name }
"""

CREATE_PROGRAMME = f"""
mutation Create($input: CreateProgrammeInput!) {{
  createProgramme(input: $input) {{ programme {{ {PROGRAMME_FIELDS} }} errors {{ code field }} }}
}}
"""

UPDATE_PROGRAMME = f"""
mutation Update($input: UpdateProgrammeInput!) {{
  updateProgramme(input: $input) {{ programme {{ {PROGRAMME_FIELDS} }} errors {{ code field }} }}
}}
"""

PROGRAMME = f"query Programme($code: String!) {{ programme(code: $code) {{ {PROGRAMME_FIELDS} }} }}"

PROGRAMMES = """
query Programmes($filter: ProgrammeFilter, $first: Int, $after: String) {
  programmes(filter: $filter, first: $first, after: $after) {
    edges { cursor node { code } }
    pageInfo { hasNextPage endCursor }
  }
}
"""

WORK_ITEM_FIELDS = """
    id name roadSegment location { lat lon } lengthKm progressPct status plannedStart plannedEnd
    programme { code } region { code name }
    linkedComplaints { id status }
"""

CREATE_WORK_ITEM = f"""
mutation Create($input: CreateWorkItemInput!) {{
  createWorkItem(input: $input) {{ workItem {{ {WORK_ITEM_FIELDS} }} errors {{ code field }} }}
}}
"""

UPDATE_PROGRESS = f"""
mutation Progress($input: UpdateWorkItemProgressInput!) {{
  updateWorkItemProgress(input: $input) {{
    workItem {{ {WORK_ITEM_FIELDS} }} errors {{ code field }}
  }}
}}
"""

WORK_ITEM = (
    f"query Item($id: ID!) {{ node(id: $id) {{ ... on WorkItem {{ {WORK_ITEM_FIELDS} }} }} }}"
)

LINKED = """
query Linked($id: ID!, $item: ID!) {
  node(id: $id) {
    ... on Complaint {
      status version workItem { id name }
      timeline { nodes { type fromStatus toStatus } }
    }
  }
  complaints(filter: {workItemId: $item}) { totalCount nodes { id } }
}
"""


async def refused(
    url: str,
    pool: asyncpg.Pool,
    query: str,
    variables: dict[str, Any],
    code: str,
    field: str | None = None,
) -> dict[str, Any]:
    """Run an admin mutation that must be refused with `code`, and change nothing."""
    before = await dump(pool)
    data = await data_of(url, query, variables)
    after = await dump(pool)
    (payload,) = data.values()
    assert [e["code"] for e in payload["errors"]] == [code], (variables, payload["errors"])
    if field is not None:
        assert payload["errors"][0]["field"] == field, payload["errors"]
    objects = [value for key, value in payload.items() if key != "errors"]
    assert objects == [None]
    assert [t for t in before if before[t] != after[t]] == [], "a refusal wrote to the database"
    error: dict[str, Any] = payload["errors"][0]
    return error


async def ok(url: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    data = await data_of(url, query, variables)
    (payload,) = data.values()
    assert payload["errors"] == [], payload["errors"]
    (result,) = (value for key, value in payload.items() if key != "errors")
    assert isinstance(result, dict)
    return result


def opd_input(**overrides: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "slug": "biro-infra",
        "shortName": "Biro Infra",
        "name": "Biro Infrastruktur dan Sumber Daya Alam",
        "kind": "BIRO",
        "headName": "Ir. Budi Santoso",
        "headTitle": "Kepala Biro",
    }
    value.update(overrides)
    return value


async def test_an_opd_is_created_and_a_taken_or_malformed_slug_is_refused(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    created = await ok(url, CREATE_OPD, {"input": opd_input()})
    assert created == {
        "id": created["id"],
        "slug": "biro-infra",
        "shortName": "Biro Infra",
        "name": "Biro Infrastruktur dan Sumber Daya Alam",
        "kind": "BIRO",
        "head": {"name": "Ir. Budi Santoso", "title": "Kepala Biro"},
        "socialAccounts": [],
        "categories": [],
        "openBacklog": 0,
    }
    assert (await data_of(url, OPD, {"slug": "biro-infra"}))["opd"] == created
    assert len((await data_of(url, "{ opds { id } }"))["opds"]) == 32
    # A slug is trimmed and lower-cased; a head is optional.
    normalised = await ok(
        url, CREATE_OPD, {"input": opd_input(slug="  Biro-Hukum ", headName=None, headTitle=None)}
    )
    assert normalised["slug"] == "biro-hukum"
    assert normalised["head"] is None

    for taken in ("dpubmck", "DPUBMCK", "biro-infra", " biro-hukum"):
        await refused(
            url, pool, CREATE_OPD, {"input": opd_input(slug=taken)}, "ALREADY_EXISTS", "slug"
        )
    for bad in ("a", "", "-dinas", "dinas pu", "dinas_pu", "dinas.pu", "d" * 64):
        await refused(
            url, pool, CREATE_OPD, {"input": opd_input(slug=bad)}, "INVALID_INPUT", "slug"
        )
    await refused(
        url,
        pool,
        CREATE_OPD,
        {"input": opd_input(slug="biro-x", shortName="  ")},
        "INVALID_INPUT",
        "shortName",
    )
    await refused(
        url,
        pool,
        CREATE_OPD,
        {"input": opd_input(slug="biro-x", name="N" * 301)},
        "INVALID_INPUT",
        "name",
    )


async def test_update_opd_changes_given_fields_keeps_omitted_ones_and_null_clears_the_head(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    dinkes = await opd_id(url, "dinkes")
    before = (await data_of(url, OPD, {"slug": "dinkes"}))["opd"]
    assert before["head"] is None

    headed = await ok(
        url,
        UPDATE_OPD,
        {"input": {"opdId": dinkes, "headName": "dr. Yunita Dyah", "headTitle": "Kepala Dinas"}},
    )
    assert headed == {**before, "head": {"name": "dr. Yunita Dyah", "title": "Kepala Dinas"}}

    renamed = await ok(url, UPDATE_OPD, {"input": {"opdId": dinkes, "shortName": "Dinkes Jateng"}})
    assert renamed == {**headed, "shortName": "Dinkes Jateng"}
    rekinded = await ok(url, UPDATE_OPD, {"input": {"opdId": dinkes, "kind": "BADAN"}})
    assert rekinded == {**renamed, "kind": "BADAN"}
    unchanged = await ok(url, UPDATE_OPD, {"input": {"opdId": dinkes, "kind": None}})
    assert unchanged == rekinded

    # A null head name clears the head; the title, omitted, stays for the next head.
    headless = await ok(url, UPDATE_OPD, {"input": {"opdId": dinkes, "headName": None}})
    assert headless == {**rekinded, "head": None}
    new_head = await ok(url, UPDATE_OPD, {"input": {"opdId": dinkes, "headName": "dr. Budi"}})
    assert new_head["head"] == {"name": "dr. Budi", "title": "Kepala Dinas"}
    untitled = await ok(url, UPDATE_OPD, {"input": {"opdId": dinkes, "headTitle": None}})
    assert untitled["head"] == {"name": "dr. Budi", "title": None}
    assert (await data_of(url, OPD, {"slug": "dinkes"}))["opd"] == untitled

    await refused(
        url,
        pool,
        UPDATE_OPD,
        {"input": {"opdId": global_id("Opd", 987654), "shortName": "X"}},
        "NOT_FOUND",
        "opdId",
    )
    await refused(
        url,
        pool,
        UPDATE_OPD,
        {"input": {"opdId": global_id("Complaint", 1), "shortName": "X"}},
        "INVALID_INPUT",
        "opdId",
    )
    await refused(
        url,
        pool,
        UPDATE_OPD,
        {"input": {"opdId": dinkes, "shortName": None}},
        "INVALID_INPUT",
        "shortName",
    )
    await refused(
        url, pool, UPDATE_OPD, {"input": {"opdId": dinkes, "name": " "}}, "INVALID_INPUT", "name"
    )
    await refused(
        url,
        pool,
        UPDATE_OPD,
        {"input": {"opdId": dinkes, "headName": "H" * 201}},
        "INVALID_INPUT",
        "headName",
    )


async def test_social_accounts_are_added_verified_and_removed_with_handles_unique_per_platform(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    kominfo = await opd_id(url, "diskominfo")
    dinkes = await opd_id(url, "dinkes")

    def account(opd: str, handle: str, platform: str = "X", **more: Any) -> dict[str, Any]:
        return {"input": {"opdId": opd, "platform": platform, "handle": handle, **more}}

    x = await ok(url, ADD_ACCOUNT, account(kominfo, "@humasjateng"))
    assert x == {
        "id": x["id"],
        "platform": "X",
        "handle": "humasjateng",
        "verified": False,
        "opd": {"slug": "diskominfo"},
    }
    instagram = await ok(
        url, ADD_ACCOUNT, account(kominfo, "humasjateng", "INSTAGRAM", verified=True)
    )
    assert instagram["verified"] is True

    # A handle is unique per platform, whatever its case or the OPD.
    for taken in ("HumasJateng", "@HUMASJATENG"):
        await refused(url, pool, ADD_ACCOUNT, account(dinkes, taken), "ALREADY_EXISTS", "handle")
    for bad in ("humas jateng", "", "@", "humas/jateng", "h" * 101):
        await refused(url, pool, ADD_ACCOUNT, account(dinkes, bad), "INVALID_INPUT", "handle")
    await refused(
        url,
        pool,
        ADD_ACCOUNT,
        account(global_id("Opd", 987654), "dinas_baru"),
        "NOT_FOUND",
        "opdId",
    )

    listed = (await data_of(url, OPD, {"slug": "diskominfo"}))["opd"]["socialAccounts"]
    assert [(a["platform"], a["handle"], a["verified"]) for a in listed] == [
        ("INSTAGRAM", "humasjateng", True),
        ("X", "humasjateng", False),
    ]

    verified = await ok(
        url, SET_VERIFIED, {"input": {"socialAccountId": x["id"], "verified": True}}
    )
    assert verified == {**x, "verified": True}
    unverified = await ok(
        url, SET_VERIFIED, {"input": {"socialAccountId": x["id"], "verified": False}}
    )
    assert unverified["verified"] is False

    removed = await ok(url, REMOVE_ACCOUNT, {"id": x["id"]})
    assert removed["id"] == x["id"]
    listed = (await data_of(url, OPD, {"slug": "diskominfo"}))["opd"]["socialAccounts"]
    assert [a["id"] for a in listed] == [instagram["id"]]
    await refused(url, pool, REMOVE_ACCOUNT, {"id": x["id"]}, "NOT_FOUND", "socialAccountId")
    await refused(
        url,
        pool,
        SET_VERIFIED,
        {"input": {"socialAccountId": x["id"], "verified": True}},
        "NOT_FOUND",
        "socialAccountId",
    )
    await refused(url, pool, REMOVE_ACCOUNT, {"id": kominfo}, "INVALID_INPUT", "socialAccountId")
    # Once removed, the handle is free again, for any OPD.
    again = await ok(url, ADD_ACCOUNT, account(dinkes, "HumasJateng"))
    assert again["opd"] == {"slug": "dinkes"}


def programme_input(owner: str, **overrides: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "code": "JATENG-TANPA-LUBANG",
        "name": "Jateng Tanpa Lubang",
        "description": "Penanganan lubang jalan provinsi.",
        "ownerOpdId": owner,
        "fiscalYear": 2019,
        "budgetIdr": "500000000000",
        "realisationIdr": "480000000000",
        "target": "1200",
        "achievement": "1150",
        "unit": "km",
        "status": "COMPLETED",
    }
    value.update(overrides)
    return value


async def test_a_programme_continues_its_predecessor_and_is_listed_by_filter(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    dpubmck = await opd_id(url, "dpubmck")
    old = await ok(url, CREATE_PROGRAMME, {"input": programme_input(dpubmck)})
    assert old["predecessor"] is None
    assert old["successors"] == []
    new = await ok(
        url,
        CREATE_PROGRAMME,
        {
            "input": programme_input(
                dpubmck,
                code="jalan-cantik",
                name="Jalan Cantik",
                fiscalYear=2024,
                budgetIdr="750000000000",
                realisationIdr="300000000000",
                target="2400",
                achievement="960",
                status="ONGOING",
                predecessorId=old["id"],
            )
        },
    )
    assert new["code"] == "JALAN-CANTIK"
    assert new["predecessor"] == {"code": "JATENG-TANPA-LUBANG", "name": "Jateng Tanpa Lubang"}
    assert new["owner"] == {"slug": "dpubmck"}
    assert new["absorptionPct"] == 40.0
    assert new["achievementPct"] == 40.0

    old_now = (await data_of(url, PROGRAMME, {"code": "jateng-tanpa-lubang"}))["programme"]
    assert old_now["successors"] == [{"code": "JALAN-CANTIK"}]
    assert old_now["predecessor"] is None
    assert (await data_of(url, PROGRAMME, {"code": "JALAN-CANTIK"}))["programme"] == new
    assert (await data_of(url, PROGRAMME, {"code": "TIDAK-ADA"}))["programme"] is None

    async def codes(filter: dict[str, Any] | None = None) -> list[str]:
        data = await data_of(url, PROGRAMMES, {"filter": filter})
        return [edge["node"]["code"] for edge in data["programmes"]["edges"]]

    assert await codes() == ["JATENG-TANPA-LUBANG", "JALAN-CANTIK"]
    assert await codes({"fiscalYear": 2024}) == ["JALAN-CANTIK"]
    assert await codes({"status": "COMPLETED"}) == ["JATENG-TANPA-LUBANG"]
    assert await codes({"ownerOpdId": dpubmck}) == ["JATENG-TANPA-LUBANG", "JALAN-CANTIK"]
    assert await codes({"ownerOpdId": await opd_id(url, "dinkes")}) == []
    first = (await data_of(url, PROGRAMMES, {"first": 1}))["programmes"]
    assert first["pageInfo"]["hasNextPage"] is True
    second = (
        await data_of(url, PROGRAMMES, {"first": 1, "after": first["pageInfo"]["endCursor"]})
    )["programmes"]
    assert [e["node"]["code"] for e in second["edges"]] == ["JALAN-CANTIK"]
    assert second["pageInfo"]["hasNextPage"] is False

    refusals: list[tuple[dict[str, Any], str, str]] = [
        ({"code": "jateng-tanpa-lubang"}, "ALREADY_EXISTS", "code"),
        ({"code": "JALAN-MULUS", "predecessorId": global_id("Programme", 987654)},
         "NOT_FOUND", "predecessorId"),
        ({"code": "JALAN-MULUS", "ownerOpdId": global_id("Opd", 987654)}, "NOT_FOUND",
         "ownerOpdId"),
        ({"code": "JALAN MULUS"}, "INVALID_INPUT", "code"),
        ({"code": "J"}, "INVALID_INPUT", "code"),
        ({"code": "JALAN-MULUS", "fiscalYear": 1999}, "INVALID_INPUT", "fiscalYear"),
        ({"code": "JALAN-MULUS", "budgetIdr": "-1"}, "INVALID_INPUT", "budgetIdr"),
        ({"code": "JALAN-MULUS", "target": "NaN"}, "INVALID_INPUT", "target"),
        ({"code": "JALAN-MULUS", "unit": " "}, "INVALID_INPUT", "unit"),
        ({"code": "JALAN-MULUS", "predecessorId": dpubmck}, "INVALID_INPUT", "predecessorId"),
    ]  # fmt: skip
    for overrides, code, field in refusals:
        variables = {"input": programme_input(dpubmck, **overrides)}
        await refused(url, pool, CREATE_PROGRAMME, variables, code, field)


async def test_update_programme_changes_the_given_fields_and_keeps_the_rest(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    dpubmck = await opd_id(url, "dpubmck")
    created = await ok(url, CREATE_PROGRAMME, {"input": programme_input(dpubmck, status="ONGOING")})
    spent = await ok(
        url,
        UPDATE_PROGRAMME,
        {
            "input": {
                "programmeId": created["id"],
                "realisationIdr": "500000000000",
                "status": "COMPLETED",
            }
        },
    )
    assert spent == {
        **created,
        "realisationIdr": "500000000000",
        "status": "COMPLETED",
        "absorptionPct": 100.0,
    }
    renamed = await ok(
        url,
        UPDATE_PROGRAMME,
        {"input": {"programmeId": created["id"], "name": "JTL", "description": ""}},
    )
    assert renamed == {**spent, "name": "JTL", "description": ""}
    nothing = await ok(url, UPDATE_PROGRAMME, {"input": {"programmeId": created["id"]}})
    assert nothing == renamed

    await refused(
        url,
        pool,
        UPDATE_PROGRAMME,
        {"input": {"programmeId": global_id("Programme", 987654), "name": "X"}},
        "NOT_FOUND",
        "programmeId",
    )
    await refused(
        url,
        pool,
        UPDATE_PROGRAMME,
        {"input": {"programmeId": created["id"], "achievement": "-5"}},
        "INVALID_INPUT",
        "achievement",
    )
    await refused(
        url,
        pool,
        UPDATE_PROGRAMME,
        {"input": {"programmeId": created["id"], "description": "d" * 5001}},
        "INVALID_INPUT",
        "description",
    )


async def test_work_items_are_created_and_their_progress_recorded_within_0_to_100(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    programme = await create_programme(url)
    item_input = {
        "programmeId": programme["id"],
        "name": "Rekonstruksi Kudus–Pati km 5–9",
        "regionCode": "33.19",
        "roadSegment": "Kudus–Pati",
        "location": {"lat": -6.78, "lon": 110.9},
        "lengthKm": "4.2",
        "plannedStart": "2025-04-01",
        "plannedEnd": "2025-09-30",
    }
    item = await ok(url, CREATE_WORK_ITEM, {"input": item_input})
    assert item == {
        "id": item["id"],
        "name": "Rekonstruksi Kudus–Pati km 5–9",
        "roadSegment": "Kudus–Pati",
        "location": {"lat": -6.78, "lon": 110.9},
        "lengthKm": "4.20",
        "progressPct": 0.0,
        "status": "PLANNED",
        "plannedStart": "2025-04-01",
        "plannedEnd": "2025-09-30",
        "programme": {"code": programme["code"]},
        "region": {"code": "33.19", "name": "Kudus"},
        "linkedComplaints": [],
    }
    listed = (await data_of(url, PROGRAMME, {"code": programme["code"]}))["programme"]
    assert listed["workItems"] == [{"id": item["id"], "name": item["name"]}]

    halfway = await ok(
        url,
        UPDATE_PROGRESS,
        {"input": {"workItemId": item["id"], "progressPct": 45.5, "status": "ONGOING"}},
    )
    assert halfway == {**item, "progressPct": 45.5, "status": "ONGOING"}
    for bad in (100.01, -1, 1000):
        await refused(
            url,
            pool,
            UPDATE_PROGRESS,
            {"input": {"workItemId": item["id"], "progressPct": bad}},
            "INVALID_INPUT",
            "progressPct",
        )
    await refused(
        url,
        pool,
        UPDATE_PROGRESS,
        {"input": {"workItemId": global_id("WorkItem", 987654), "progressPct": 10}},
        "NOT_FOUND",
        "workItemId",
    )
    done = await ok(url, UPDATE_PROGRESS, {"input": {"workItemId": item["id"], "progressPct": 100}})
    assert (done["progressPct"], done["status"]) == (100.0, "ONGOING")
    assert (await data_of(url, WORK_ITEM, {"id": item["id"]}))["node"] == done

    refusals: list[tuple[dict[str, Any], str, str]] = [
        ({"regionCode": "33.99"}, "NOT_FOUND", "regionCode"),
        ({"programmeId": global_id("Programme", 987654)}, "NOT_FOUND", "programmeId"),
        ({"programmeId": item["id"]}, "INVALID_INPUT", "programmeId"),
        ({"location": {"lat": 95, "lon": 110}}, "INVALID_INPUT", "location"),
        ({"plannedEnd": "2025-03-01"}, "INVALID_INPUT", "plannedEnd"),
        ({"progressPct": 101}, "INVALID_INPUT", "progressPct"),
        ({"lengthKm": "-4"}, "INVALID_INPUT", "lengthKm"),
        ({"name": ""}, "INVALID_INPUT", "name"),
    ]
    for overrides, code, field in refusals:
        variables = {"input": {**item_input, **overrides}}
        await refused(url, pool, CREATE_WORK_ITEM, variables, code, field)


async def test_a_complaint_is_linked_to_a_work_item_and_unlinked_with_events(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    programme = await create_programme(url)
    item = await create_work_item(url, programme["id"])
    other = await create_work_item(url, programme["id"], name="Pelebaran Kudus–Jepara")
    pothole = await complaint_in(url, "ASSIGNED")
    second = await complaint_in(url, "RECEIVED", text="Ada lubang lagi di km 8.")

    linked = await act_ok(
        url, "linkComplaintToWorkItem", complaintId=pothole["id"], workItemId=item["id"]
    )
    assert linked["event"]["type"] == "WORK_ITEM_LINKED"
    assert (linked["event"]["fromStatus"], linked["event"]["toStatus"]) == ("ASSIGNED", "ASSIGNED")
    assert linked["complaint"]["status"] == "ASSIGNED"
    assert linked["complaint"]["version"] == pothole["version"] + 1
    await act_ok(
        url,
        "linkComplaintToWorkItem",
        complaintId=second["id"],
        workItemId=item["id"],
        expectedVersion=1,
    )

    view = await data_of(url, LINKED, {"id": pothole["id"], "item": item["id"]})
    assert view["node"]["workItem"] == {"id": item["id"], "name": item["name"]}
    assert view["node"]["timeline"]["nodes"][-1] == {
        "type": "WORK_ITEM_LINKED",
        "fromStatus": "ASSIGNED",
        "toStatus": "ASSIGNED",
    }
    assert view["complaints"]["totalCount"] == 2
    assert {n["id"] for n in view["complaints"]["nodes"]} == {pothole["id"], second["id"]}
    on_item = (await data_of(url, WORK_ITEM, {"id": item["id"]}))["node"]["linkedComplaints"]
    assert on_item == [
        {"id": pothole["id"], "status": "ASSIGNED"},
        {"id": second["id"], "status": "RECEIVED"},
    ]

    # Linking again the same way is refused; linking elsewhere moves the complaint.
    again = await act(
        url, "linkComplaintToWorkItem", complaintId=pothole["id"], workItemId=item["id"]
    )
    assert [e["code"] for e in again["errors"]] == ["INVALID_INPUT"]
    await act_ok(url, "linkComplaintToWorkItem", complaintId=second["id"], workItemId=other["id"])
    on_item = (await data_of(url, WORK_ITEM, {"id": item["id"]}))["node"]["linkedComplaints"]
    assert [c["id"] for c in on_item] == [pothole["id"]]

    unlinked = await act_ok(
        url, "linkComplaintToWorkItem", complaintId=pothole["id"], workItemId=None
    )
    assert unlinked["event"]["type"] == "WORK_ITEM_LINKED"
    assert unlinked["complaint"]["status"] == "ASSIGNED"
    view = await data_of(url, LINKED, {"id": pothole["id"], "item": item["id"]})
    assert view["node"]["workItem"] is None
    assert [e["type"] for e in view["node"]["timeline"]["nodes"]] == [
        "SUBMITTED",
        "ASSIGNED",
        "WORK_ITEM_LINKED",
        "WORK_ITEM_LINKED",
    ]
    assert view["complaints"] == {"totalCount": 0, "nodes": []}
    assert (await data_of(url, WORK_ITEM, {"id": item["id"]}))["node"]["linkedComplaints"] == []
    moved = await data_of(url, LINKED, {"id": second["id"], "item": other["id"]})
    assert moved["complaints"]["nodes"] == [{"id": second["id"]}]
    assert moved["node"]["version"] == 3


CREATE_PARTNER_KEY = """
mutation {
  createApiKey(input: {name: "Bot balas X", role: PARTNER, regionCode: "33.74"}) {
    key apiKey { role regionCode } errors { code message field }
  }
}
"""


async def test_an_api_keys_role_is_the_role_enum_written_as_graphql_writes_enums(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    made = await data_of(url, CREATE_PARTNER_KEY, token=token("ADMIN"))
    payload = made["createApiKey"]
    assert payload["errors"] == [] and payload["key"].startswith("kls_")
    assert payload["apiKey"] == {"role": "PARTNER", "regionCode": "33.74"}
    listed = await data_of(url, "{ apiKeys { role } }", token=token("ADMIN"))
    assert listed["apiKeys"] == [{"role": "PARTNER"}]
    # A role that is not one is refused by validation, as any enum is, and nothing is written.
    before = await dump(pool)
    body = await gql(url, CREATE_PARTNER_KEY.replace("PARTNER", "PARTNERS"), token=token("ADMIN"))
    assert [e["extensions"]["code"] for e in body["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    assert await dump(pool) == before
