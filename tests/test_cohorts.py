"""Cohorts and their members on their own terms: a member that overflows ends with the cursor
to resume from while the others go on; an idle member holds no task and writes at once when its
socket takes it; a herd resuming from one cursor is served from one read of the log, each client
getting every event after its cursor once, in order. (tests/test_cohort_differential.py shows
that cohorts deliver what the per-subscriber path does.)"""

import asyncio
import contextlib
from typing import Any

import pytest

from kilas.live.members import Ended, Member, run_eagerly
from tests import ops
from tests._live_helpers import cursors, receive, subscribe, wait_for_subscribers
from tests.wire import WsClient, start_server


class _Cohort:
    """A member's cohort, for members that never replay."""

    def __init__(self) -> None:
        self.left: list[Member] = []

    async def replay(self, after: int, up_to: int) -> Any:
        raise AssertionError("no replay expected")
        yield

    def leave(self, member: Member) -> None:
        self.left.append(member)


class _Socket:
    """A writer that records what it was given; `blocked` holds every write until released."""

    def __init__(self, blocked: bool = False) -> None:
        self.texts: list[str] = []
        self.released = asyncio.Event()
        if not blocked:
            self.released.set()
        self.ended: asyncio.Future[tuple[Ended, int, Exception | None]] = (
            asyncio.get_running_loop().create_future()
        )

    async def write(self, text: str) -> None:
        await self.released.wait()
        self.texts.append(text)

    def end(self, ended: Ended, cursor: int, error: Exception | None) -> None:
        self.ended.set_result((ended, cursor, error))


def _member(start: int, after: int | None, queue_size: int, writer: _Socket) -> Member:
    return Member(_Cohort(), start, after, queue_size, writer)  # type: ignore[arg-type]


async def test_a_member_that_overflows_ends_lagging_and_the_others_get_everything() -> None:
    slow_socket, fast_socket = _Socket(blocked=True), _Socket()
    slow = _member(10, None, 3, slow_socket)
    fast = _member(10, None, 3, fast_socket)
    for event_id in range(9, 17):  # 9 and 10 are at or before the start: not for them
        slow.offer(event_id, f"e{event_id}")
        fast.offer(event_id, f"e{event_id}")
        await asyncio.sleep(0)
    await asyncio.sleep(0.05)
    assert fast_socket.texts == [f"e{i}" for i in range(11, 17)]
    assert not fast_socket.ended.done()
    # The slow one is still writing its first: it keeps what fits behind it (3), writes them,
    # then ends with where it got to.
    assert slow.lagging and slow_socket.texts == []
    slow_socket.released.set()
    assert await asyncio.wait_for(slow_socket.ended, 5) == (Ended.LAGGING, 14, None)
    assert slow_socket.texts == ["e11", "e12", "e13", "e14"]
    assert slow.ended is Ended.LAGGING


async def test_a_member_ahead_of_the_hub_skips_what_it_has() -> None:
    socket = _Socket()
    member = _member(10, 12, 10, socket)
    for event_id in range(11, 15):
        member.offer(event_id, str(event_id))
    member.stop()
    assert await asyncio.wait_for(socket.ended, 5) == (Ended.HUB_STOPPED, 14, None)
    assert socket.texts == ["13", "14"]


async def test_an_idle_member_holds_no_task_and_one_that_leaves_writes_nothing_more() -> None:
    socket = _Socket(blocked=True)
    member = _member(10, None, 10, socket)
    assert member._task is None
    member.offer(11, "11")
    assert member._task is not None
    member.leave()
    await asyncio.sleep(0.01)
    socket.released.set()
    member.offer(12, "12")
    await asyncio.sleep(0.01)
    assert socket.texts == [] and member.ended is Ended.LEFT and not socket.ended.done()


async def test_a_member_whose_write_fails_ends_with_the_error() -> None:
    class Closed(_Socket):
        async def write(self, text: str) -> None:
            raise ConnectionError("gone")

    socket = Closed()
    member = _member(10, None, 10, socket)
    member.offer(11, "11")
    ended, cursor, error = await asyncio.wait_for(socket.ended, 5)
    assert (ended, cursor, type(error)) == (Ended.FAILED, 10, ConnectionError)
    assert member.cohort.left == [member]  # type: ignore[attr-defined]


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


async def test_a_completed_member_leaves_its_cohort_and_its_id_can_be_used_again(
    database_url: str,
) -> None:
    async with (
        start_server(database_url) as server,
        WsClient.connect(server.ws_url) as client,
    ):
        cohorts = server.app.state.kilas.cohorts
        await subscribe(client, "a")
        await subscribe(client, "b")
        await wait_for_subscribers(server.port, 2)
        assert len(cohorts) == 1
        await client.complete("a")
        await wait_for_subscribers(server.port, 1)
        first = await ops.submit(server.http_url)
        assert cursors(await receive(client, "b", 1)) == [int(first["event"]["cursor"])]
        assert await client.nothing_more("a", 0.3)
        # The id is free again, and the new subscription joins the same cohort.
        await subscribe(client, "a")
        await wait_for_subscribers(server.port, 2)
        assert len(cohorts) == 1
        second = await ops.submit(server.http_url)
        for op_id in ("a", "b"):
            assert cursors(await receive(client, op_id, 1)) == [int(second["event"]["cursor"])]
        await client.complete("a")
        await client.complete("b")
        await wait_for_subscribers(server.port, 0)
        assert len(cohorts) == 0


async def test_run_eagerly_finishes_at_once_or_hands_back_the_rest() -> None:
    done: list[str] = []

    async def at_once() -> None:
        done.append("now")

    assert run_eagerly(at_once()) is None and done == ["now"]

    gate: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def waits() -> None:
        done.append(await gate)

    rest = run_eagerly(waits())
    assert rest is not None and done == ["now"]
    finishing = asyncio.create_task(rest)
    await asyncio.sleep(0)
    gate.set_result("later")
    await asyncio.wait_for(finishing, 5)
    assert done == ["now", "later"]

    async def yields_once() -> None:
        await asyncio.sleep(0)  # a bare yield to the loop, not a future
        done.append("after a turn")

    rest = run_eagerly(yields_once())
    assert rest is not None
    await asyncio.wait_for(rest, 5)
    assert done[-1] == "after a turn"

    # A cancelled finisher cancels the coroutine where it waits.
    cancelled: list[bool] = []
    gate2: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def waits_forever() -> None:
        try:
            await gate2
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    rest = run_eagerly(waits_forever())
    assert rest is not None
    task = asyncio.create_task(rest)
    await asyncio.sleep(0)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert cancelled == [True] and task.cancelled()

    async def fails() -> None:
        raise ValueError("at once")

    with pytest.raises(ValueError, match="at once"):
        run_eagerly(fails())
