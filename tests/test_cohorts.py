"""Cohorts on their own terms: a member that overflows ends with the cursor to resume from while
the others go on; a herd resuming from one cursor is served from one read of the log, each
client getting every event after its cursor once, in order. (tests/test_cohort_differential.py
shows that cohorts deliver what the per-subscriber path does.)"""

import asyncio
import contextlib
from typing import Any

from kilas.live.cohorts import Ended, Member
from tests import ops
from tests._live_helpers import cursors, receive, subscribe, wait_for_subscribers
from tests.wire import WsClient, start_server


class _NoReplay:
    """A member's cohort, for members that never replay."""

    async def replay(self, after: int, up_to: int) -> Any:
        raise AssertionError("no replay expected")
        yield


async def _take(member: Member, count: int) -> list[int]:
    found = []
    async for event_id, _ in member.stream():
        found.append(event_id)
        if len(found) == count:
            break
    return found


async def test_a_member_that_overflows_ends_lagging_and_the_others_get_everything() -> None:
    slow = Member(_NoReplay(), start=10, after=None, queue_size=3)  # type: ignore[arg-type]
    fast = Member(_NoReplay(), start=10, after=None, queue_size=3)  # type: ignore[arg-type]
    taken = asyncio.create_task(_take(fast, 6))
    for event_id in range(9, 17):  # 9 and 10 are at or before the start: not for them
        slow.offer(event_id, f"e{event_id}")
        fast.offer(event_id, f"e{event_id}")
        await asyncio.sleep(0)
    assert await asyncio.wait_for(taken, 5) == [11, 12, 13, 14, 15, 16]
    # The slow one never read: it keeps what fit, then ends with where it got to.
    assert slow.lagging
    assert [event_id async for event_id, _ in slow.stream()] == [11, 12, 13]
    assert slow.ended is Ended.LAGGING
    assert slow.cursor == 13


async def test_a_member_ahead_of_the_hub_skips_what_it_has() -> None:
    member = Member(_NoReplay(), start=10, after=12, queue_size=10)  # type: ignore[arg-type]
    for event_id in range(11, 15):
        member.offer(event_id, "x")
    member.stop()
    assert [event_id async for event_id, _ in member.stream()] == [13, 14]
    assert member.ended is Ended.HUB_STOPPED


async def test_a_herd_resuming_from_one_cursor_is_served_by_one_read(database_url: str) -> None:
    async with start_server(database_url, max_connections_per_caller=100) as server:
        cohorts = server.app.state.kilas.cohorts
        submitted = [await ops.submit(server.http_url) for _ in range(12)]
        resume_after = submitted[3]["event"]["cursor"]
        expected = [int(s["event"]["cursor"]) for s in submitted[4:]]
        async with contextlib.AsyncExitStack() as stack:
            clients = await asyncio.gather(
                *(stack.enter_async_context(WsClient.connect(server.ws_url)) for _ in range(30))
            )
            await asyncio.gather(*(subscribe(c, "r", after=resume_after) for c in clients))
            replayed = await asyncio.gather(*(receive(c, "r", len(expected)) for c in clients))
            assert all(cursors(events) == expected for events in replayed)
            assert cohorts.replay_reads == 1
            assert len(cohorts) == 1
            # Then live, once each.
            await wait_for_subscribers(server.port, 30)
            live = await ops.submit(server.http_url)
            got = await asyncio.gather(*(receive(c, "r", 1) for c in clients))
            assert all(cursors(events) == [int(live["event"]["cursor"])] for events in got)
            assert all([await c.nothing_more("r", 0.3) for c in clients])
