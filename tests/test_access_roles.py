"""The role table over real HTTP: every role against every mutation, allowed or refused with
FORBIDDEN and nothing written (a whole-database dump before and after)."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from tests._api_helpers import (
    ROLES,
    complaint_in,
    create_programme,
    create_work_item,
    dump,
    opd_id,
)
from tests.ops import complaint_input, mutation
from tests.wire import RunningServer, gql

EVERYONE = frozenset(ROLES)


@dataclass(frozen=True)
class Case:
    """A mutation, the status its complaint must be in, its input, and who may run it."""

    status: str
    allowed: frozenset[str]
    input: Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]


def plain(**extra: Any) -> Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]:
    async def build(url: str, complaint: dict[str, Any]) -> dict[str, Any]:
        return {"complaintId": complaint["id"], **extra}

    return build


async def _reassign(url: str, complaint: dict[str, Any]) -> dict[str, Any]:
    return {"complaintId": complaint["id"], "opdId": await opd_id(url, "dinkes"), "reason": "x"}


async def _link(url: str, complaint: dict[str, Any]) -> dict[str, Any]:
    programme = await create_programme(url, code=f"P-{complaint['trackingNumber']}")
    item = await create_work_item(url, programme["id"])
    return {"complaintId": complaint["id"], "workItemId": item["id"]}


def with_tracking(**extra: Any) -> Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]:
    async def build(url: str, complaint: dict[str, Any]) -> dict[str, Any]:
        return {
            "complaintId": complaint["id"],
            "trackingNumber": complaint["trackingNumber"],
            **extra,
        }

    return build


OPERATOR = frozenset({"OPERATOR"})
HOLDERS = frozenset({"OPERATOR", "OPD_OFFICER_OWN"})
COMPLAINT_CASES: dict[str, Case] = {
    "assignComplaint": Case("RECEIVED", OPERATOR, plain()),
    "reassignComplaint": Case("ASSIGNED", OPERATOR, _reassign),
    "rejectComplaint": Case("RECEIVED", OPERATOR, plain(reason="SPAM")),
    "closeComplaint": Case("RESOLVED", OPERATOR, plain()),
    "recordFollowUp": Case("ASSIGNED", HOLDERS, plain(message="Tim meninjau lokasi.")),
    "resolveComplaint": Case("IN_PROGRESS", HOLDERS, plain(resolution="Sudah ditambal.")),
    "linkComplaintToWorkItem": Case("ASSIGNED", HOLDERS, _link),
    # The reporter's own actions: anyone holding the tracking number, else operators only.
    "confirmResolution": Case("RESOLVED", EVERYONE, with_tracking(rating=5)),
    "reopenComplaint": Case("RESOLVED", EVERYONE, with_tracking(reason="Masih berlubang.")),
}
REPORTER_WITHOUT_NUMBER: dict[str, Case] = {
    "confirmResolution": Case("RESOLVED", OPERATOR, plain(rating=5)),
    "reopenComplaint": Case("RESOLVED", OPERATOR, plain(reason="Masih berlubang.")),
}


async def expect(
    url: str,
    pool: asyncpg.Pool,
    query: str,
    variables: dict[str, Any],
    role: str,
    allowed: bool,
) -> dict[str, Any]:
    """Run `query` as `role`: allowed, it succeeds; refused, it says FORBIDDEN and the database
    is exactly as before."""
    before = await dump(pool)
    body = await gql(url, query, variables, token=ROLES[role])
    assert "errors" not in body, (role, body["errors"])
    (payload,) = body["data"].values()
    codes = [e["code"] for e in payload["errors"]]
    if allowed:
        assert codes == [], (role, payload["errors"])
    else:
        assert codes == ["FORBIDDEN"], (role, payload["errors"])
        assert payload["errors"][0]["message"]
        after = await dump(pool)
        assert [t for t in before if before[t] != after[t]] == [], f"{role}: a refusal wrote"
    result: dict[str, Any] = payload
    return result


@pytest.mark.parametrize(
    ("name", "case"),
    [
        *COMPLAINT_CASES.items(),
        *(
            (f"{name} without trackingNumber", case)
            for name, case in REPORTER_WITHOUT_NUMBER.items()
        ),
    ],
)
async def test_each_role_runs_exactly_the_complaint_mutations_the_role_table_allows(
    server: RunningServer, pool: asyncpg.Pool, name: str, case: Case
) -> None:
    url = server.http_url
    action = name.split()[0]
    for role in ROLES:
        complaint = await complaint_in(url, case.status)
        variables = {"input": await case.input(url, complaint)}
        payload = await expect(url, pool, mutation(action), variables, role, role in case.allowed)
        if role in case.allowed:
            assert payload["complaint"]["version"] > complaint["version"]


async def test_every_role_may_submit_a_complaint_and_the_event_names_who_did(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    submit = """
    mutation Submit($input: SubmitComplaintInput!) {
      submitComplaint(input: $input) {
        created complaint { id trackingNumber status } errors { code message field }
      }
    }
    """
    for role in ROLES:
        variables = {"input": complaint_input(externalRef=f"ref-{role}")}
        payload = await expect(server.http_url, pool, submit, variables, role, allowed=True)
        assert payload["created"] is True
        # The submitter is given the tracking number, whatever the role.
        assert payload["complaint"]["trackingNumber"].startswith("JTG-")
    actors = await pool.fetch(
        "SELECT actor FROM complaint_events WHERE type = 'SUBMITTED' ORDER BY id"
    )
    assert [r["actor"] for r in actors] == [
        "public", "jwt:test-partner", "jwt:test-opd_officer", "jwt:test-opd_officer",
        "jwt:test-operator", "jwt:test-supervisor", "jwt:test-admin",
    ]  # fmt: skip


async def test_a_reporter_action_with_another_complaints_tracking_number_is_refused(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    mine = await complaint_in(url, "RESOLVED")
    other = await complaint_in(url, "RESOLVED")
    variables = {
        "input": {"complaintId": other["id"], "trackingNumber": mine["trackingNumber"], "rating": 1}
    }
    await expect(url, pool, mutation("confirmResolution"), variables, "PUBLIC", allowed=False)


ADMIN_PAYLOAD = "errors { code message field }"


def _admin(name: str, input_type: str | None) -> str:
    if input_type is None:
        return f"mutation M($id: ID!) {{ {name}(socialAccountId: $id) {{ {ADMIN_PAYLOAD} }} }}"
    return f"mutation M($input: {input_type}!) {{ {name}(input: $input) {{ {ADMIN_PAYLOAD} }} }}"


async def _admin_cases(url: str, n: int) -> list[tuple[str, dict[str, Any]]]:
    """Each administration mutation with a valid input, fresh for attempt `n`."""
    dinkes = await opd_id(url, "dinkes")
    programme = await create_programme(url, code=f"PRG-{n}")
    item = await create_work_item(url, programme["id"])
    account = await gql(
        url,
        _admin("addOpdSocialAccount", "AddSocialAccountInput").replace(
            ADMIN_PAYLOAD, "socialAccount { id } " + ADMIN_PAYLOAD
        ),
        {"input": {"opdId": dinkes, "platform": "X", "handle": f"@dinkes{n}"}},
    )
    account_id = account["data"]["addOpdSocialAccount"]["socialAccount"]["id"]
    return [
        (_admin("createOpd", "CreateOpdInput"),
         {"input": {"slug": f"biro-{n}", "shortName": f"Biro {n}", "name": f"Biro {n}",
                    "kind": "BIRO"}}),
        (_admin("updateOpd", "UpdateOpdInput"), {"input": {"opdId": dinkes, "headName": f"H{n}"}}),
        (_admin("addOpdSocialAccount", "AddSocialAccountInput"),
         {"input": {"opdId": dinkes, "platform": "INSTAGRAM", "handle": f"@dk{n}"}}),
        (_admin("setOpdSocialAccountVerified", "SetSocialAccountVerifiedInput"),
         {"input": {"socialAccountId": account_id, "verified": True}}),
        (_admin("removeOpdSocialAccount", None), {"id": account_id}),
        (_admin("createProgramme", "CreateProgrammeInput"),
         {"input": {"code": f"NEW-{n}", "name": "Baru", "ownerOpdId": dinkes,
                    "fiscalYear": 2026, "budgetIdr": "1000", "target": "1", "unit": "km"}}),
        (_admin("updateProgramme", "UpdateProgrammeInput"),
         {"input": {"programmeId": programme["id"], "achievement": "1"}}),
        (_admin("createWorkItem", "CreateWorkItemInput"),
         {"input": {"programmeId": programme["id"], "name": f"Ruas {n}", "regionCode": "33.19"}}),
        (_admin("updateWorkItemProgress", "UpdateWorkItemProgressInput"),
         {"input": {"workItemId": item["id"], "progressPct": 40}}),
        (_admin("addSlaPolicyVersion", "AddSlaPolicyVersionInput"),
         {"input": {"name": f"v{n}", "effectiveFrom": f"{2030 + n}-01-01T00:00:00+07:00",
                    "responseHours": 24, "resolutionHours": 168}}),
    ]  # fmt: skip


async def test_only_admins_run_administration_mutations(
    server: RunningServer, pool: asyncpg.Pool
) -> None:
    url = server.http_url
    for n, role in enumerate(ROLES):
        cases = await _admin_cases(url, n)
        assert len(cases) == 10
        for query, variables in cases:
            await expect(url, pool, query, variables, role, role == "ADMIN")
