"""SLA over real HTTP with a hand-moved server clock: the clocks a complaint shows as time passes,
escalation, and SLA policy versions (refusals, and which complaints a new version applies to)."""

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest

from kilas.domain.clock import ManualClock
from tests import ops
from tests._api_helpers import dump, opd_id
from tests._sla_helpers import T0, hours
from tests.wire import RunningServer, gql_data, start_server

SLA_FIELDS = """
    clock state dueAt remainingSeconds overdueSeconds
"""
SLA = f"""
query Sla($number: String!) {{
  complaint(trackingNumber: $number) {{
    status version responseDueAt resolutionDueAt
    slaPolicy {{ name responseHours }}
    sla {{
      response {{ {SLA_FIELDS} }}
      resolution {{ {SLA_FIELDS} }}
      escalationLevel escalatedTo escalatedAt
    }}
    timeline {{ nodes {{ type slaClock escalationLevel occurredAt }} }}
  }}
}}
"""
POLICY_FIELDS = """
    name effectiveFrom responseHours resolutionHours
    categoryResolutionHours { categoryCode hours }
"""
ADD_POLICY = f"""
mutation Add($input: AddSlaPolicyVersionInput!) {{
  addSlaPolicyVersion(input: $input) {{
    slaPolicy {{ {POLICY_FIELDS} }}
    errors {{ code message field }}
  }}
}}
"""
POLICIES = f"{{ slaPolicies {{ {POLICY_FIELDS} }} categories {{ code resolutionHours }} }}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
async def server(database_url: str, clock: ManualClock) -> AsyncIterator[RunningServer]:
    async with start_server(database_url, clock=clock, sla_sweep_interval=0) as running:
        yield running


async def sla_of(url: str, number: str) -> dict[str, Any]:
    found: dict[str, Any] = (await gql_data(url, SLA, {"number": number}))["complaint"]
    return found


def at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def reading(found: dict[str, Any], clock: str) -> tuple[Any, ...]:
    """(state, dueAt, remainingSeconds, overdueSeconds) of one clock."""
    r = found["sla"][clock.lower()]
    assert r["clock"] == clock
    return (r["state"], at(r["dueAt"]), r["remainingSeconds"], r["overdueSeconds"])


async def sweep(server: RunningServer) -> int:
    written: int = await server.app.state.kilas.sweeper.sweep()
    return written


async def test_the_clocks_go_from_on_track_to_at_risk_to_breached_and_escalate(
    server: RunningServer, clock: ManualClock
) -> None:
    url = server.http_url
    submitted = (await ops.submit(url))["complaint"]
    number = submitted["trackingNumber"]
    found = await sla_of(url, number)
    assert found["sla"] == {
        "response": None,
        "resolution": None,
        "escalationLevel": 0,
        "escalatedTo": None,
        "escalatedAt": None,
    }

    clock.set(T0 + hours(1))
    await ops.act_ok(url, "assignComplaint", complaintId=submitted["id"])
    assigned = T0 + hours(1)
    found = await sla_of(url, number)
    assert at(found["responseDueAt"]) == assigned + hours(24)
    assert found["slaPolicy"] == {"name": "Tindak lanjut 1x24 jam", "responseHours": 24}
    assert reading(found, "RESPONSE") == ("ON_TRACK", assigned + hours(24), 24 * 3600, 0)
    assert reading(found, "RESOLUTION") == ("ON_TRACK", assigned + hours(72), 72 * 3600, 0)

    clock.set(assigned + hours(18) - timedelta(seconds=1))
    assert reading(await sla_of(url, number), "RESPONSE")[0] == "ON_TRACK"
    clock.set(assigned + hours(18))  # a quarter of the day left
    found = await sla_of(url, number)
    assert reading(found, "RESPONSE") == ("AT_RISK", assigned + hours(24), 6 * 3600, 0)
    assert reading(found, "RESOLUTION")[0] == "ON_TRACK"

    clock.set(assigned + hours(25))
    found = await sla_of(url, number)
    assert reading(found, "RESPONSE") == ("BREACHED", assigned + hours(24), -3600, 3600)
    assert reading(found, "RESOLUTION") == ("ON_TRACK", assigned + hours(72), 47 * 3600, 0)
    # The clock reads BREACHED at once; escalation waits for the sweeper.
    assert found["sla"]["escalationLevel"] == 0
    assert await sweep(server) == 2
    found = await sla_of(url, number)
    assert found["sla"]["escalationLevel"] == 1
    assert found["sla"]["escalatedTo"] == "OPD_HEAD"
    assert at(found["sla"]["escalatedAt"]) == assigned + hours(24)

    clock.set(assigned + hours(48))
    assert await sweep(server) == 1
    found = await sla_of(url, number)
    assert (found["sla"]["escalationLevel"], found["sla"]["escalatedTo"]) == (2, "COMMAND_CENTER")
    assert at(found["sla"]["escalatedAt"]) == assigned + hours(48)
    clock.set(assigned + hours(100))
    assert await sweep(server) == 2  # the resolution breach at 72 h, and level 3 at 72 h
    found = await sla_of(url, number)
    assert (found["sla"]["escalationLevel"], found["sla"]["escalatedTo"]) == (3, "GOVERNOR_OFFICE")
    assert reading(found, "RESOLUTION") == ("BREACHED", assigned + hours(72), -28 * 3600, 28 * 3600)
    assert [
        (e["type"], e["slaClock"], e["escalationLevel"], at(e["occurredAt"]))
        for e in found["timeline"]["nodes"][2:]
    ] == [
        ("SLA_BREACHED", "RESPONSE", None, assigned + hours(24)),
        ("ESCALATED", None, 1, assigned + hours(24)),
        ("ESCALATED", None, 2, assigned + hours(48)),
        ("SLA_BREACHED", "RESOLUTION", None, assigned + hours(72)),
        ("ESCALATED", None, 3, assigned + hours(72)),
    ]
    assert found["version"] == 7


async def test_a_follow_up_in_time_meets_the_response_clock_for_good(
    server: RunningServer, clock: ManualClock
) -> None:
    url = server.http_url
    submitted = (await ops.submit(url))["complaint"]
    number = submitted["trackingNumber"]
    await ops.act_ok(url, "assignComplaint", complaintId=submitted["id"])
    clock.set(T0 + hours(20))
    await ops.act_ok(url, "recordFollowUp", complaintId=submitted["id"], message="Tim meninjau.")

    clock.set(T0 + hours(30))
    assert await sweep(server) == 0
    found = await sla_of(url, number)
    # MET keeps the time that was left when the OPD answered.
    assert reading(found, "RESPONSE") == ("MET", T0 + hours(24), 4 * 3600, 0)
    assert reading(found, "RESOLUTION") == ("ON_TRACK", T0 + hours(72), 42 * 3600, 0)
    assert found["sla"]["escalationLevel"] == 0

    clock.set(T0 + hours(60))
    assert reading(await sla_of(url, number), "RESOLUTION")[0] == "AT_RISK"
    clock.set(T0 + hours(80))
    await ops.act_ok(url, "resolveComplaint", complaintId=submitted["id"], resolution="Ditambal.")
    clock.set(T0 + hours(90))
    found = await sla_of(url, number)
    assert reading(found, "RESPONSE") == ("MET", T0 + hours(24), 4 * 3600, 0)
    # Resolved late: breached for good, by the 8 h it was late, however long after it is read.
    assert reading(found, "RESOLUTION") == ("BREACHED", T0 + hours(72), -8 * 3600, 8 * 3600)


def policy_input(**overrides: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "name": "Tindak lanjut 12 jam",
        "effectiveFrom": (T0 + timedelta(days=7)).isoformat(),
        "responseHours": 12,
        "resolutionHours": 96,
        "categoryResolutionHours": [{"categoryCode": "JALAN", "hours": 36}],
    }
    value.update(overrides)
    return value


async def add_policy(url: str, **overrides: Any) -> dict[str, Any]:
    data = await gql_data(url, ADD_POLICY, {"input": policy_input(**overrides)})
    payload: dict[str, Any] = data["addSlaPolicyVersion"]
    return payload


async def snapshot(pool: asyncpg.Pool) -> dict[str, Any]:
    everything = await dump(pool)
    async with pool.acquire() as conn:
        everything["sla_policy_category_hours"] = [
            dict(r)
            for r in await conn.fetch(
                "SELECT * FROM sla_policy_category_hours ORDER BY policy_id, category_code"
            )
        ]
    return everything


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        pytest.param(
            {"effectiveFrom": (T0 - timedelta(seconds=1)).isoformat()},
            "INVALID_INPUT",
            "effectiveFrom",
            id="in-the-past",
        ),
        pytest.param(
            {"effectiveFrom": "2025-03-10T00:00:00"}, "INVALID_INPUT", "effectiveFrom", id="no-zone"
        ),
        pytest.param({"responseHours": 0}, "INVALID_INPUT", "responseHours", id="no-hours"),
        pytest.param({"responseHours": -12}, "INVALID_INPUT", "responseHours", id="negative"),
        pytest.param(
            {"resolutionHours": 24 * 365 + 1}, "INVALID_INPUT", "resolutionHours", id="too-long"
        ),
        pytest.param(
            {"categoryResolutionHours": [{"categoryCode": "JALAN", "hours": 0}]},
            "INVALID_INPUT",
            "categoryResolutionHours",
            id="category-hours",
        ),
        pytest.param(
            {
                "categoryResolutionHours": [
                    {"categoryCode": "JALAN", "hours": 36},
                    {"categoryCode": "JALAN", "hours": 48},
                ]
            },
            "INVALID_INPUT",
            "categoryResolutionHours",
            id="category-twice",
        ),
        pytest.param(
            {"categoryResolutionHours": [{"categoryCode": "SIHIR", "hours": 36}]},
            "NOT_FOUND",
            "categoryResolutionHours",
            id="unknown-category",
        ),
        pytest.param({"name": "   "}, "INVALID_INPUT", "name", id="no-name"),
    ],
)
async def test_a_bad_policy_version_is_refused_and_changes_nothing(
    server: RunningServer,
    pool: asyncpg.Pool,
    overrides: dict[str, Any],
    code: str,
    field: str,
) -> None:
    before = await snapshot(pool)
    payload = await add_policy(server.http_url, **overrides)
    assert payload["slaPolicy"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)], payload
    assert await snapshot(pool) == before


async def test_a_new_policy_version_applies_only_to_complaints_assigned_from_its_moment(
    server: RunningServer, pool: asyncpg.Pool, clock: ManualClock
) -> None:
    url = server.http_url
    data = await gql_data(url, POLICIES)
    assert [(p["name"], p["responseHours"], p["resolutionHours"]) for p in data["slaPolicies"]] == [
        ("Tindak lanjut 2x24 jam", 48, 336),
        ("Tindak lanjut 1x24 jam", 24, 168),
    ]
    assert [p["categoryResolutionHours"] for p in data["slaPolicies"]] == [
        [{"categoryCode": "JALAN", "hours": 144}],
        [{"categoryCode": "JALAN", "hours": 72}],
    ]
    hours_now = {c["code"]: c["resolutionHours"] for c in data["categories"]}
    assert hours_now["JALAN"] == 72
    assert hours_now["AIR"] is None  # the policy's province default (168 h)

    effective = T0 + timedelta(days=7)
    payload = await add_policy(url)
    assert payload["errors"] == []
    assert payload["slaPolicy"]["name"] == "Tindak lanjut 12 jam"
    assert at(payload["slaPolicy"]["effectiveFrom"]) == effective
    assert payload["slaPolicy"]["categoryResolutionHours"] == [
        {"categoryCode": "JALAN", "hours": 36}
    ]

    # Not before the latest version, nor at its very moment.
    before = await snapshot(pool)
    for moment in (effective - timedelta(days=1), effective):
        refused = await add_policy(url, effectiveFrom=moment.isoformat(), name="Versi lain")
        assert [(e["code"], e["field"]) for e in refused["errors"]] == [
            ("INVALID_INPUT", "effectiveFrom")
        ]
    assert await snapshot(pool) == before

    # Assigned before the new version takes effect: the 1x24 policy, for good.
    early = (await ops.submit(url))["complaint"]
    await ops.act_ok(url, "assignComplaint", complaintId=early["id"])
    found = await sla_of(url, early["trackingNumber"])
    assert at(found["responseDueAt"]) == T0 + hours(24)
    assert at(found["resolutionDueAt"]) == T0 + hours(72)
    assert found["slaPolicy"]["name"] == "Tindak lanjut 1x24 jam"
    # Not yet in force: the categories still show the current hours.
    assert {c["code"]: c["resolutionHours"] for c in (await gql_data(url, POLICIES))["categories"]}[
        "JALAN"
    ] == 72

    clock.set(effective + hours(1))
    now = clock.now()
    data = await gql_data(url, POLICIES)
    assert len(data["slaPolicies"]) == 3
    hours_now = {c["code"]: c["resolutionHours"] for c in data["categories"]}
    assert (hours_now["JALAN"], hours_now["AIR"]) == (36, None)

    road = (await ops.submit(url))["complaint"]
    await ops.act_ok(url, "assignComplaint", complaintId=road["id"])
    found = await sla_of(url, road["trackingNumber"])
    assert found["slaPolicy"] == {"name": "Tindak lanjut 12 jam", "responseHours": 12}
    assert reading(found, "RESPONSE") == ("ON_TRACK", now + hours(12), 12 * 3600, 0)
    assert reading(found, "RESOLUTION") == ("ON_TRACK", now + hours(36), 36 * 3600, 0)

    water = (await ops.submit(url, categoryCode="AIR"))["complaint"]
    await ops.act_ok(url, "assignComplaint", complaintId=water["id"])
    assert at((await sla_of(url, water["trackingNumber"]))["resolutionDueAt"]) == now + hours(96)

    # The early complaint keeps its version even when handed to another OPD after the change.
    found = await sla_of(url, early["trackingNumber"])
    assert at(found["responseDueAt"]) == T0 + hours(24)
    assert reading(found, "RESPONSE")[0] == "BREACHED"
    await ops.act_ok(
        url,
        "reassignComplaint",
        complaintId=early["id"],
        opdId=await opd_id(url, "pusdataru"),
        reason="Saluran air.",
    )
    found = await sla_of(url, early["trackingNumber"])
    assert found["slaPolicy"]["name"] == "Tindak lanjut 1x24 jam"
    assert reading(found, "RESPONSE") == ("ON_TRACK", now + hours(24), 24 * 3600, 0)
    assert reading(found, "RESOLUTION") == ("ON_TRACK", now + hours(72), 72 * 3600, 0)

    # And the sweeper holds the new complaint to its 12 h: at risk after 9 h.
    clock.set(now + hours(9))
    await sweep(server)
    found = await sla_of(url, road["trackingNumber"])
    assert [(e["type"], e["slaClock"], at(e["occurredAt"])) for e in found["timeline"]["nodes"]][
        -1
    ] == ("SLA_AT_RISK", "RESPONSE", now + hours(9))
