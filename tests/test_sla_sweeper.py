"""The SLA sweeper on a real database with a hand-moved clock: at-risk and breach marks per clock,
escalation to the governor's office and no further, stopping the response clock, catching up
after a long gap, reassignment, auto-closing, concurrent sweepers, replay, and live delivery."""

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

import kilas.live.sweeper
from kilas.domain.clock import ManualClock
from kilas.domain.sla import SWEEPER_ACTOR, SlaClock, SlaRules, SlaState, reading
from kilas.settings import Settings
from tests import ops
from tests._live_helpers import receive, subscribe, wait_for_subscribers
from tests._sla_helpers import (
    HOUR,
    T0,
    assigned,
    check_replay,
    command,
    complaint,
    duplicated_marks,
    events,
    hours,
    mark,
    mark_of,
    marks,
    opd_id,
    running_sweeper,
)
from tests.wire import WsClient, gql_data, start_server

SECOND = timedelta(seconds=1)
RULES = SlaRules()


async def test_an_unanswered_complaint_goes_at_risk_breaches_and_escalates_three_levels_only(
    database_url: str, pool: asyncpg.Pool
) -> None:
    # AIR has no category hours of its own: the policy's 168 h resolution clock stays out of
    # the way while the 24 h response clock breaches and escalates.
    clock = ManualClock(T0)
    cid = await assigned(pool, T0, "AIR")
    row = await complaint(pool, cid)
    assert row.response_due_at == T0 + hours(24)
    assert row.resolution_due_at == T0 + hours(168)
    pusdataru = await opd_id(pool, "pusdataru")

    async with running_sweeper(database_url, clock) as sweeper:

        async def sweep_at(offset: timedelta) -> int:
            clock.set(T0 + offset)
            return await sweeper.sweep()

        assert await sweep_at(hours(18) - SECOND) == 0
        assert await sweep_at(hours(18)) == 1
        assert await marks(pool, cid) == [mark("SLA_AT_RISK", "RESPONSE", None, T0 + hours(18))]
        assert await sweeper.sweep() == 0  # the same moment again: nothing new

        assert await sweep_at(hours(24) - SECOND) == 0
        assert await sweep_at(hours(24)) == 2
        row = await complaint(pool, cid)
        assert row.response_at_risk_at == T0 + hours(18)
        assert row.response_breached_at == T0 + hours(24)
        assert (row.escalation_level, row.escalated_at) == (1, T0 + hours(24))
        assert row.status == "ASSIGNED"
        assert await sweeper.sweep() == 0

        assert await sweep_at(hours(48) - SECOND) == 0
        assert await sweep_at(hours(48)) == 1
        assert await sweep_at(hours(72)) == 1
        for later in (72, 96, 125):
            assert await sweep_at(hours(later)) == 0
        # The resolution clock goes at risk and breaches too, but level 3 is the last.
        assert await sweep_at(hours(126)) == 1
        assert await sweep_at(hours(168)) == 1
        assert await sweep_at(hours(1000)) == 0

    assert await marks(pool, cid) == [
        mark("SLA_AT_RISK", "RESPONSE", None, T0 + hours(18)),
        mark("SLA_BREACHED", "RESPONSE", None, T0 + hours(24)),
        mark("ESCALATED", None, 1, T0 + hours(24)),
        mark("ESCALATED", None, 2, T0 + hours(48)),
        mark("ESCALATED", None, 3, T0 + hours(72)),
        mark("SLA_AT_RISK", "RESOLUTION", None, T0 + hours(126)),
        mark("SLA_BREACHED", "RESOLUTION", None, T0 + hours(168)),
    ]
    sla_events = [e for e in await events(pool, cid) if e.actor == SWEEPER_ACTOR]
    assert len(sla_events) == 7
    for e in sla_events:
        assert (e.from_status, e.to_status, e.opd_id) == (
            "ASSIGNED",
            "ASSIGNED",
            pusdataru,
        )
    assert [e.data for e in sla_events if e.type == "ESCALATED"] == [
        {"level": 1, "target": "OPD_HEAD"},
        {"level": 2, "target": "COMMAND_CENTER"},
        {"level": 3, "target": "GOVERNOR_OFFICE"},
    ]
    breach = next(e for e in sla_events if e.type == "SLA_BREACHED")
    assert breach.data["due_at"] == (T0 + hours(24)).astimezone(UTC).isoformat()
    row = await complaint(pool, cid)
    assert (row.escalation_level, row.escalated_at) == (3, T0 + hours(72))
    assert row.resolution_breached_at == T0 + hours(168)
    assert await check_replay(pool) == 1


async def test_a_follow_up_in_time_stops_the_response_clock_and_the_resolution_clock_runs_on(
    database_url: str, pool: asyncpg.Pool
) -> None:
    clock = ManualClock(T0)
    road = await assigned(pool, T0, "JALAN")
    health = await assigned(pool, T0, "KESEHATAN")
    # Roads: 72 h under the 1x24 policy's category hours; other categories: the policy's 168 h.
    assert (await complaint(pool, road)).resolution_due_at == T0 + hours(72)
    assert (await complaint(pool, health)).resolution_due_at == T0 + hours(168)

    async with running_sweeper(database_url, clock) as sweeper:
        clock.set(T0 + hours(18))
        assert await sweeper.sweep() == 2  # both response clocks at risk
        await command(
            pool, "follow_up", road, message="Tim UPT meninjau lokasi.", at=T0 + hours(20)
        )
        await command(pool, "follow_up", health, message="Puskesmas dihubungi.", at=T0 + hours(23))

        for offset in (24, 30, 54 - 1 / 3600):
            clock.set(T0 + hours(offset))
            assert await sweeper.sweep() == 0
        clock.set(T0 + hours(54))  # 72 h × 0.75
        assert await sweeper.sweep() == 1
        clock.set(T0 + hours(72))
        assert await sweeper.sweep() == 2  # the resolution breach, then level 1 at that moment
        await command(
            pool, "resolve", health, resolution="Obat sudah tersedia.", at=T0 + hours(100)
        )
        clock.set(T0 + hours(150))
        assert await sweeper.sweep() == 2  # the road's escalations to levels 2 and 3 only

    assert await marks(pool, road) == [
        mark("SLA_AT_RISK", "RESPONSE", None, T0 + hours(18)),
        mark("SLA_AT_RISK", "RESOLUTION", None, T0 + hours(54)),
        mark("SLA_BREACHED", "RESOLUTION", None, T0 + hours(72)),
        mark("ESCALATED", None, 1, T0 + hours(72)),
        mark("ESCALATED", None, 2, T0 + hours(96)),
        mark("ESCALATED", None, 3, T0 + hours(120)),
    ]
    # The health complaint was resolved in time (and auto-closes only 72 h after, at 172 h).
    assert await marks(pool, health) == [mark("SLA_AT_RISK", "RESPONSE", None, T0 + hours(18))]

    row = await complaint(pool, road)
    assert row.status == "IN_PROGRESS"
    assert row.response_breached_at is None
    assert row.first_response_at == T0 + hours(20)
    now = T0 + hours(150)
    response = reading(row, SlaClock.RESPONSE, now, RULES)
    assert response is not None
    assert (response.state, response.remaining) == (SlaState.MET, hours(4))
    resolution = reading(row, SlaClock.RESOLUTION, now, RULES)
    assert resolution is not None
    assert (resolution.state, resolution.remaining) == (SlaState.BREACHED, -hours(78))
    resolved = reading(await complaint(pool, health), SlaClock.RESOLUTION, now, RULES)
    assert resolved is not None
    assert (resolved.state, resolved.remaining) == (SlaState.MET, hours(68))
    assert await check_replay(pool) == 2


async def test_a_sweeper_back_after_a_long_gap_writes_each_due_mark_at_its_own_moment_in_order(
    database_url: str, pool: asyncpg.Pool
) -> None:
    clock = ManualClock(T0)
    road = await assigned(pool, T0, "JALAN")
    later = await assigned(pool, T0 + hours(90), "JALAN")
    resolved = await assigned(pool, T0, "AIR")
    await command(pool, "follow_up", resolved, message="Dicek.", at=T0 + HOUR)
    await command(pool, "resolve", resolved, resolution="Sudah.", at=T0 + hours(2))

    async with running_sweeper(database_url, clock) as sweeper:
        clock.set(T0 + hours(100))
        assert await sweeper.sweep() == 5 + 0 + 1
        assert await sweeper.sweep() == 0

    # A warning that the deadline is near is not written once the deadline has passed: the
    # breach comes first, and each escalation follows the one before it as if the sweeper had
    # never been away.
    assert await marks(pool, road) == [
        mark("SLA_BREACHED", "RESPONSE", None, T0 + hours(24)),
        mark("ESCALATED", None, 1, T0 + hours(24)),
        mark("ESCALATED", None, 2, T0 + hours(48)),
        mark("SLA_BREACHED", "RESOLUTION", None, T0 + hours(72)),
        mark("ESCALATED", None, 3, T0 + hours(72)),
    ]
    road_events = await events(pool, road)
    assert [e.version for e in road_events] == list(range(1, 8))
    moments = [e.occurred_at for e in road_events]
    assert moments == sorted(moments)
    row = await complaint(pool, road)
    assert row.response_at_risk_at is None
    assert row.resolution_at_risk_at is None
    assert (row.escalation_level, row.escalated_at) == (3, T0 + hours(72))
    # Assigned 10 h before the sweep, the other road complaint owes nothing yet.
    assert await marks(pool, later) == []
    assert await marks(pool, resolved) == [mark("AUTO_CLOSED", None, None, T0 + hours(74))]
    assert await check_replay(pool) == 3


async def test_a_reassignment_restarts_the_clocks_for_the_new_opd_and_clears_the_escalation(
    database_url: str, pool: asyncpg.Pool
) -> None:
    clock = ManualClock(T0)
    dpubmck, pusdataru = await opd_id(pool, "dpubmck"), await opd_id(pool, "pusdataru")
    cid = await assigned(pool, T0, "JALAN")

    async with running_sweeper(database_url, clock) as sweeper:
        for offset in (18, 24):
            clock.set(T0 + hours(offset))
            assert await sweeper.sweep() == (1 if offset == 18 else 2)
        moved = T0 + hours(30)
        row = await command(
            pool,
            "assign",
            cid,
            opd_id=pusdataru,
            category_code=None,
            reassign=True,
            note="Saluran air, bukan jalan.",
            at=moved,
        )
        assert row.opd_id == pusdataru
        assert row.assigned_at == moved
        assert row.response_due_at == moved + hours(24)
        assert row.resolution_due_at == moved + hours(72)
        for column in (
            "response_at_risk_at",
            "response_breached_at",
            "resolution_at_risk_at",
            "resolution_breached_at",
            "escalated_at",
        ):
            assert getattr(row, column) is None, column
        assert row.escalation_level == 0
        assert await check_replay(pool) == 1

        # Level 2 was due at 48 h under the old OPD; the new one starts from nothing.
        clock.set(moved + hours(18) - SECOND)
        assert await sweeper.sweep() == 0
        clock.set(moved + hours(18))
        assert await sweeper.sweep() == 1
        clock.set(moved + hours(24))
        assert await sweeper.sweep() == 2

    history = [e for e in await events(pool, cid) if e.actor == SWEEPER_ACTOR]
    assert [(e.opd_id, *mark_of(e)[:3]) for e in history] == [
        (dpubmck, "SLA_AT_RISK", "RESPONSE", None),
        (dpubmck, "SLA_BREACHED", "RESPONSE", None),
        (dpubmck, "ESCALATED", None, 1),
        (pusdataru, "SLA_AT_RISK", "RESPONSE", None),
        (pusdataru, "SLA_BREACHED", "RESPONSE", None),
        (pusdataru, "ESCALATED", None, 1),
    ]
    assert [e.occurred_at for e in history[3:]] == [
        moved + hours(18),
        moved + hours(24),
        moved + hours(24),
    ]
    row = await complaint(pool, cid)
    assert (row.escalation_level, row.escalated_at) == (1, moved + hours(24))
    assert await check_replay(pool) == 1


async def test_a_resolved_complaint_closes_by_itself_after_the_quiet_period_unless_reopened(
    database_url: str, pool: asyncpg.Pool
) -> None:
    clock = ManualClock(T0)
    quiet, reopened, rated = [await assigned(pool, T0, "AIR") for _ in range(3)]
    for cid in (quiet, reopened, rated):
        await command(pool, "follow_up", cid, message="Dicek.", at=T0 + HOUR)
        await command(pool, "resolve", cid, resolution="Sudah beres.", at=T0 + hours(2))
    await command(pool, "reopen", reopened, reason="Masih banjir.", at=T0 + hours(12))
    await command(pool, "confirm", rated, rating=5, comment=None, at=T0 + hours(3))
    resolved_at = T0 + hours(2)

    async with running_sweeper(database_url, clock) as sweeper:
        clock.set(resolved_at + hours(72) - SECOND)
        assert await sweeper.sweep() == 0
        clock.set(resolved_at + hours(72))
        assert await sweeper.sweep() == 1
        assert await sweeper.sweep() == 0

        row = await complaint(pool, quiet)
        assert row.status == "CLOSED"
        assert row.closed_at == resolved_at + hours(72)
        assert row.rating is None
        closing = (await events(pool, quiet))[-1]
        assert (closing.type, closing.from_status, closing.to_status) == (
            "AUTO_CLOSED",
            "RESOLVED",
            "CLOSED",
        )
        assert (closing.actor, closing.occurred_at) == (
            SWEEPER_ACTOR,
            resolved_at + hours(72),
        )

        # Reopened, it is back with the OPD; resolved again, its quiet period starts afresh.
        clock.set(T0 + hours(100))
        assert await sweeper.sweep() == 0
        assert (await complaint(pool, reopened)).status == "IN_PROGRESS"
        await command(pool, "resolve", reopened, resolution="Tanggul diperbaiki.", at=clock.now())
        clock.set(T0 + hours(172) - SECOND)
        assert await sweeper.sweep() == 0
        clock.set(T0 + hours(172))
        assert await sweeper.sweep() == 1

    row = await complaint(pool, reopened)
    assert (row.status, row.closed_at) == ("CLOSED", T0 + hours(172))
    assert await marks(pool, rated) == []
    assert (await complaint(pool, rated)).closed_at == T0 + hours(3)
    assert await check_replay(pool) == 3


async def test_the_configured_share_delays_and_quiet_period_are_each_honoured_to_the_second(
    database_url: str, pool: asyncpg.Pool
) -> None:
    # Unequal delays: level n must wait delays[n-1] after level n-1, in the candidate query (SQL
    # arrays count from 1) as in next_mark (Python counts from 0).
    rules = Settings(
        sla_at_risk_share=0.5, escalation_delays_hours=(1, 2, 3), auto_close_hours=24
    ).sla_rules
    clock = ManualClock(T0)
    late = await assigned(pool, T0, "AIR")
    done = await assigned(pool, T0, "AIR")
    await command(pool, "follow_up", done, message="Dicek.", at=T0 + HOUR)
    await command(pool, "resolve", done, resolution="Sudah.", at=T0 + hours(2))

    async with running_sweeper(database_url, clock, rules) as sweeper:
        for offset, expected in ((12, 1), (24, 1), (25, 1), (26, 1), (27, 1), (30, 1)):
            clock.set(T0 + hours(offset) - SECOND)
            assert await sweeper.sweep() == 0, offset
            clock.set(T0 + hours(offset))
            assert await sweeper.sweep() == expected, offset

    assert await marks(pool, late) == [
        mark("SLA_AT_RISK", "RESPONSE", None, T0 + hours(12)),
        mark("SLA_BREACHED", "RESPONSE", None, T0 + hours(24)),
        mark("ESCALATED", None, 1, T0 + hours(25)),
        mark("ESCALATED", None, 2, T0 + hours(27)),
        mark("ESCALATED", None, 3, T0 + hours(30)),
    ]
    assert await marks(pool, done) == [mark("AUTO_CLOSED", None, None, T0 + hours(26))]


async def test_a_late_follow_up_leaves_the_same_breach_on_record_however_late_the_sweeper_is(
    database_url: str, pool: asyncpg.Pool
) -> None:
    # Two complaints answered an hour late; the sweeper passes the first one's deadline only.
    clock = ManualClock(T0)
    starts = {await assigned(pool, start, "AIR"): start for start in (T0, T0 + hours(0.5))}
    async with running_sweeper(database_url, clock) as sweeper:
        clock.set(T0 + hours(24))
        await sweeper.sweep()
        for cid, start in starts.items():
            await command(pool, "follow_up", cid, message="Maaf terlambat.", at=start + hours(25))
        clock.set(T0 + hours(26))
        await sweeper.sweep()

    for cid, start in starts.items():
        # (The second complaint was also at risk when the sweeper passed; that is not the point.)
        assert [m for m in await marks(pool, cid) if m[0] != "SLA_AT_RISK"] == [
            mark("SLA_BREACHED", "RESPONSE", None, start + hours(24)),
            mark("ESCALATED", None, 1, start + hours(24)),
        ], start


async def test_a_late_resolution_leaves_the_same_breach_on_record_however_late_the_sweeper_is(
    database_url: str, pool: asyncpg.Pool
) -> None:
    # Two road complaints resolved an hour late; the sweeper passes the first one's deadline only.
    clock = ManualClock(T0)
    starts = {await assigned(pool, start, "JALAN"): start for start in (T0, T0 + hours(2))}
    for cid, start in starts.items():
        await command(pool, "follow_up", cid, message="Dicek.", at=start + HOUR)
    async with running_sweeper(database_url, clock) as sweeper:
        for offset in (60, 72):
            clock.set(T0 + hours(offset))
            await sweeper.sweep()
        for cid, start in starts.items():
            await command(pool, "resolve", cid, resolution="Ditambal.", at=start + hours(73))
        clock.set(T0 + hours(76))
        await sweeper.sweep()

    for cid, start in starts.items():
        assert await marks(pool, cid) == [
            mark("SLA_AT_RISK", "RESOLUTION", None, start + hours(54)),
            mark("SLA_BREACHED", "RESOLUTION", None, start + hours(72)),
            mark("ESCALATED", None, 1, start + hours(72)),
        ], start


# Every (hours after T0) at which the two sweepers run at once.
ROUNDS = (18, 24, 48, 54, 72, 96, 120, 126, 168, 192, 216, 240)


async def test_two_sweepers_sweeping_at_once_write_each_mark_exactly_once(
    database_url: str, pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two instances of Kilas, each with its own pool and a clock at the same time."""
    # Small batches, so that each pass reads its candidates several times while the other
    # sweeper is writing.
    monkeypatch.setattr(kilas.live.sweeper, "BATCH", 7)
    kinds = [("JALAN", False), ("AIR", False), ("JALAN", True), ("AIR", True)]
    cids = []
    for i in range(40):
        category, followed_up = kinds[i % 4]
        cid = await assigned(pool, T0, category)
        if followed_up:
            await command(pool, "follow_up", cid, message="Dicek.", at=T0 + HOUR)
        cids.append(cid)

    clocks = ManualClock(T0), ManualClock(T0)
    written = 0
    async with (
        running_sweeper(database_url, clocks[0]) as one,
        running_sweeper(database_url, clocks[1]) as other,
    ):
        for offset in ROUNDS:
            for clock in clocks:
                clock.set(T0 + hours(offset))
            counts = await asyncio.wait_for(asyncio.gather(one.sweep(), other.sweep()), 60)
            written += sum(counts)
            # The same moment again, both at once: nothing is left to write.
            assert await asyncio.gather(one.sweep(), other.sweep()) == [0, 0]

    assert await duplicated_marks(pool) == []
    async with pool.acquire() as conn:
        totals = {
            (r["type"], r["clock"], r["level"]): r["n"]
            for r in await conn.fetch(
                """
                SELECT type, data ->> 'clock' AS clock, (data ->> 'level')::int AS level,
                       count(*) AS n
                FROM complaint_events WHERE actor = $1 GROUP BY 1, 2, 3
                """,
                SWEEPER_ACTOR,
            )
        }
    # Unanswered (20): response at risk and breached; everyone: resolution at risk, breached,
    # and escalated to levels 1, 2 and 3 by 240 h.
    assert totals == {
        ("SLA_AT_RISK", "RESPONSE", None): 20,
        ("SLA_BREACHED", "RESPONSE", None): 20,
        ("SLA_AT_RISK", "RESOLUTION", None): 40,
        ("SLA_BREACHED", "RESOLUTION", None): 40,
        ("ESCALATED", None, 1): 40,
        ("ESCALATED", None, 2): 40,
        ("ESCALATED", None, 3): 40,
    }
    assert written == sum(totals.values()) == 240
    # Each complaint's marks are the ones a lone sweeper would have written, at their moments.
    assert await marks(pool, cids[2]) == [
        mark("SLA_AT_RISK", "RESOLUTION", None, T0 + hours(54)),
        mark("SLA_BREACHED", "RESOLUTION", None, T0 + hours(72)),
        mark("ESCALATED", None, 1, T0 + hours(72)),
        mark("ESCALATED", None, 2, T0 + hours(96)),
        mark("ESCALATED", None, 3, T0 + hours(120)),
    ]
    assert await check_replay(pool) == 40


EVENT_FIELDS = """
    cursor type fromStatus toStatus slaClock escalationLevel occurredAt actor version
    opd { shortName }
    complaint { id version sla { escalationLevel escalatedTo } }
"""
LIVE = f"""
subscription Live($filter: ComplaintEventFilter) {{
  complaintEvents(filter: $filter) {{ {EVENT_FIELDS} }}
}}
"""


async def test_sla_events_reach_a_complaint_events_subscriber_like_any_other(
    database_url: str,
) -> None:
    clock = ManualClock(T0)
    async with start_server(database_url, clock=clock, sla_sweep_interval=0) as server:
        url = server.http_url
        cid = (await ops.submit(url))["complaint"]["id"]
        await ops.act_ok(url, "assignComplaint", complaintId=cid)
        sweeper = server.app.state.kilas.sweeper
        async with WsClient.connect(server.ws_url) as client:
            await subscribe(client, "mine", filter={"complaintId": cid}, query=LIVE)
            await wait_for_subscribers(server.port, 1)

            clock.set(T0 + hours(18))
            assert await sweeper.sweep() == 1
            (at_risk,) = await receive(client, "mine", 1)
            clock.set(T0 + hours(24))
            assert await sweeper.sweep() == 2
            breached, escalated = await receive(client, "mine", 2)
            assert await client.nothing_more("mine", 0.3)

    assert [
        (e["type"], e["slaClock"], e["escalationLevel"], e["version"])
        for e in (at_risk, breached, escalated)
    ] == [
        ("SLA_AT_RISK", "RESPONSE", None, 3),
        ("SLA_BREACHED", "RESPONSE", None, 4),
        ("ESCALATED", None, 1, 5),
    ]
    for e in (at_risk, breached, escalated):
        assert (e["fromStatus"], e["toStatus"]) == ("ASSIGNED", "ASSIGNED")
        assert e["actor"] == SWEEPER_ACTOR
        assert e["opd"]["shortName"] == "DPUBMCK"
    assert int(at_risk["cursor"]) < int(breached["cursor"]) < int(escalated["cursor"])
    assert [datetime.fromisoformat(e["occurredAt"]) for e in (at_risk, breached, escalated)] == [
        T0 + hours(18),
        T0 + hours(24),
        T0 + hours(24),
    ]
    assert escalated["complaint"]["sla"] == {"escalationLevel": 1, "escalatedTo": "OPD_HEAD"}


SLA_OF = """
query Sla($number: String!) {
  complaint(trackingNumber: $number) { version sla { escalationLevel escalatedTo } }
}
"""


async def test_a_server_sweeps_by_itself_every_interval(database_url: str) -> None:
    clock = ManualClock(T0)
    async with start_server(database_url, clock=clock, sla_sweep_interval=0.05) as server:
        url = server.http_url
        submitted = (await ops.submit(url))["complaint"]
        number = submitted["trackingNumber"]
        await ops.act_ok(url, "assignComplaint", complaintId=submitted["id"])
        clock.set(T0 + hours(48))
        deadline = asyncio.get_running_loop().time() + 10
        while True:
            found = (await gql_data(url, SLA_OF, {"number": number}))["complaint"]
            if found["sla"]["escalationLevel"] == 2 or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.05)
    assert found == {
        "version": 2 + 3,  # breach, then levels 1 and 2 (the at-risk warning came too late)
        "sla": {"escalationLevel": 2, "escalatedTo": "COMMAND_CENTER"},
    }


async def test_escalation_stops_once_the_breach_is_answered_and_resumes_on_a_new_one(
    database_url: str, pool: asyncpg.Pool
) -> None:
    """A late follow-up answers the response breach (the record stays): no further level until
    another clock is breached, and then not before that breach."""
    clock = ManualClock(T0)
    cid = await assigned(pool, T0, "AIR")  # resolution within 168 h
    async with running_sweeper(database_url, clock) as sweeper:
        clock.set(T0 + hours(24))
        await sweeper.sweep()
        await command(pool, "follow_up", cid, message="Maaf terlambat.", at=T0 + hours(30))
        for offset in (48, 72, 120):
            clock.set(T0 + hours(offset))
            await sweeper.sweep()
        assert (await complaint(pool, cid)).escalation_level == 1
        clock.set(T0 + hours(200))
        await sweeper.sweep()

    assert [m for m in await marks(pool, cid) if m[0] != "SLA_AT_RISK"] == [
        mark("SLA_BREACHED", "RESPONSE", None, T0 + hours(24)),
        mark("ESCALATED", None, 1, T0 + hours(24)),
        mark("SLA_BREACHED", "RESOLUTION", None, T0 + hours(168)),
        mark("ESCALATED", None, 2, T0 + hours(192)),
    ]
    await check_replay(pool)
