"""The event log's ids are a safe cursor: they become visible in commit order, so a reader that
keeps reading "after the last id it saw" never misses an event, however writers interleave.
And the log is append-only."""

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest

from kilas.db import events as events_db
from kilas.db.complaints import EVERYTHING
from kilas.db.pool import Connection, connect, create_pool
from kilas.domain import workflow


@pytest.fixture
async def big_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, min_size=2, max_size=24)
    try:
        yield pool
    finally:
        await pool.close()


def submission(i: int) -> workflow.Submission:
    return workflow.Submission(
        channel="WEB", text=f"Keluhan nomor {i}.", region_code="33.19", category_code="JALAN"
    )


async def test_a_reader_following_the_log_never_misses_an_event_of_concurrent_writers(
    big_pool: asyncpg.Pool,
) -> None:
    rng = random.Random(8632)
    writers = 30

    async def writer(i: int) -> None:
        # Three transactions on one complaint; each pauses before its command (so transactions
        # overlap) and between appending its event and committing (where an id taken at insert
        # but made visible later would open a hole behind a reader).
        async def step(
            make: Callable[[Connection], Awaitable[workflow.Outcome]],
        ) -> workflow.Outcome:
            async with big_pool.acquire() as conn, conn.transaction():
                await asyncio.sleep(rng.uniform(0, 0.01))
                outcome = await make(conn)
                assert outcome.event is not None
                await asyncio.sleep(rng.uniform(0, 0.004))
                return outcome

        submitted = await step(lambda c: workflow.submit(c, submission(i), actor="t"))
        cid = submitted.complaint.id
        await step(
            lambda c: workflow.assign(
                c,
                cid,
                workflow.CommandContext(actor="t", expected_version=1),
                opd_id=None,
                category_code=None,
            ),
        )
        await step(
            lambda c: workflow.follow_up(
                c, cid, workflow.CommandContext(actor="t", expected_version=2), message="Dicek."
            ),
        )

    seen: list[int] = []
    reads = 0

    async def read_once(conn: Connection) -> None:
        nonlocal reads
        last = seen[-1] if seen else 0
        rows = await events_db.events_after(conn, last, 1000, EVERYTHING)
        reads += 1
        ids = [r.id for r in rows]
        assert ids == sorted(ids) and (not ids or ids[0] > last)
        seen.extend(ids)

    writing = asyncio.gather(*(writer(i) for i in range(writers)))
    async with big_pool.acquire() as reader:
        while not writing.done():
            await read_once(reader)
            await asyncio.sleep(rng.uniform(0, 0.003))
        await writing
        await read_once(reader)
        everything = [r["id"] for r in await reader.fetch("SELECT id FROM complaint_events")]

    assert reads > 20
    assert len(everything) == writers * 3
    # Had any event become visible after a higher id was read, it would be missing here.
    assert seen == sorted(everything)


async def test_an_uncommitted_event_holds_back_later_writers_until_it_commits(
    database_url: str,
) -> None:
    """The mechanism itself: the second writer's event gets its id (and becomes visible) only
    after the first writer's transaction has ended."""
    first, second, reader = [await connect(database_url) for _ in range(3)]
    try:
        tx1 = first.transaction()
        await tx1.start()
        one = await workflow.submit(first, submission(1), actor="t")
        assert one.event is not None

        async def later() -> workflow.Outcome:
            async with second.transaction():
                return await workflow.submit(second, submission(2), actor="t")

        two_task = asyncio.create_task(later())
        await asyncio.sleep(0.3)
        assert not two_task.done()  # waiting for the event-log lock
        assert await events_db.events_after(reader, 0, 10, EVERYTHING) == []
        await tx1.commit()
        two = await asyncio.wait_for(two_task, 5)
        assert two.event is not None
        assert two.event.id > one.event.id
        assert [r.id for r in await events_db.events_after(reader, 0, 10, EVERYTHING)] == [
            one.event.id,
            two.event.id,
        ]
    finally:
        for conn in (first, second, reader):
            await conn.close()


async def test_the_event_log_refuses_updates_deletes_and_truncation(database_url: str) -> None:
    conn = await connect(database_url)
    try:
        async with conn.transaction():
            outcome = await workflow.submit(conn, submission(1), actor="t")
        assert outcome.event is not None
        for statement in (
            "UPDATE complaint_events SET note = 'rewritten'",
            "DELETE FROM complaint_events",
            "TRUNCATE complaint_events CASCADE",
        ):
            verb = statement.split()[0]
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match=f"append-only.*{verb}"):
                await conn.execute(statement)
        rows = await events_db.events_after(conn, 0, 10, EVERYTHING)
        assert [(r.id, r.note) for r in rows] == [(outcome.event.id, None)]
    finally:
        await conn.close()
