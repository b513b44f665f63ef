"""Shared by the SLA tests: a fixed starting moment, sweepers on their own pools, complaints
driven through the domain commands at chosen moments, and reading back the SLA marks."""

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import asyncpg

from kilas.db import complaints as complaints_db
from kilas.db.events import EVENT_COLUMNS
from kilas.db.pool import create_pool
from kilas.db.rows import ComplaintRow, EventRow
from kilas.domain import workflow
from kilas.domain.clock import ManualClock
from kilas.domain.lifecycle import ComplaintState, replay
from kilas.domain.sla import SlaRules
from kilas.live.bus import EventBus
from kilas.live.hub import EventHub
from kilas.live.sweeper import SlaSweeper
from kilas.settings import Settings

WIB = timezone(timedelta(hours=7), "WIB")
# A Monday morning in Semarang, well after the 1x24 policy took effect (2019).
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=WIB)
HOUR = timedelta(hours=1)
ACTOR = "test:sla"
SLA_TYPES = ("SLA_AT_RISK", "SLA_BREACHED", "ESCALATED", "AUTO_CLOSED")


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


@contextlib.asynccontextmanager
async def running_sweeper(
    database_url: str, clock: ManualClock, rules: SlaRules | None = None
) -> AsyncIterator[SlaSweeper]:
    """A sweeper as an instance of Kilas has one: its own pool, bus and hub; never started, so
    it sweeps only when the test calls `sweep()`."""
    async with contextlib.AsyncExitStack() as stack:
        pool = await create_pool(database_url, min_size=1, max_size=5)
        stack.push_async_callback(pool.close)
        bus = EventBus("memory://", database_url)
        await bus.connect()
        stack.push_async_callback(bus.disconnect)
        hub = EventHub(pool, bus, queue_size=Settings().subscriber_queue_size, poll_interval=30)
        await hub.start()
        stack.push_async_callback(hub.stop)
        yield SlaSweeper(pool, bus, hub, clock, rules or SlaRules(), interval=0)


async def opd_id(pool: asyncpg.Pool, slug: str) -> int:
    async with pool.acquire() as conn:
        value = await conn.fetchval("SELECT id FROM opds WHERE slug = $1", slug)
    assert value is not None, slug
    return int(value)


async def submit(pool: asyncpg.Pool, at: datetime, category: str | None = "JALAN") -> int:
    submission = workflow.Submission(
        channel="WEB",
        text="Jalan provinsi ruas Kudus–Pati km 7 berlubang besar.",
        region_code="33.19",
        category_code=category,
    )
    async with pool.acquire() as conn, conn.transaction():
        outcome = await workflow.submit(conn, submission, actor=ACTOR, at=at)
    return outcome.complaint.id


async def command(
    pool: asyncpg.Pool, name: str, complaint_id: int, *, at: datetime | None = None, **kw: Any
) -> ComplaintRow:
    """Run one workflow command (`assign`, `follow_up`, `resolve`, ...) at `at` in its own
    transaction."""
    async with pool.acquire() as conn, conn.transaction():
        outcome: workflow.Outcome = await getattr(workflow, name)(
            conn, complaint_id, workflow.CommandContext(actor=ACTOR, at=at), **kw
        )
    return outcome.complaint


async def assigned(
    pool: asyncpg.Pool, at: datetime, category: str | None = "JALAN", opd: int | None = None
) -> int:
    """A complaint submitted and assigned at `at` (to the category's OPD by default)."""
    cid = await submit(pool, at, category)
    await command(pool, "assign", cid, opd_id=opd, category_code=None, at=at)
    return cid


async def complaint(pool: asyncpg.Pool, complaint_id: int) -> ComplaintRow:
    async with pool.acquire() as conn:
        [row] = await complaints_db.complaints_by_ids(conn, [complaint_id])
    return row


async def events(pool: asyncpg.Pool, complaint_id: int | None = None) -> list[EventRow]:
    async with pool.acquire() as conn:
        return EventRow.from_records(
            await conn.fetch(
                f"SELECT {EVENT_COLUMNS} FROM complaint_events"
                " WHERE $1::bigint IS NULL OR complaint_id = $1 ORDER BY id",
                complaint_id,
            )
        )


def mark_of(event: EventRow) -> tuple[Any, ...]:
    """An SLA event as (type, clock, level, occurred_at), the moment in UTC for comparing."""
    data = event.data or {}
    return (event.type, data.get("clock"), data.get("level"), event.occurred_at.astimezone(UTC))


async def marks(pool: asyncpg.Pool, complaint_id: int) -> list[tuple[Any, ...]]:
    """The complaint's SLA events, in log order."""
    return [mark_of(e) for e in await events(pool, complaint_id) if e.type in SLA_TYPES]


def mark(kind: str, clock: str | None, level: int | None, at: datetime) -> tuple[Any, ...]:
    return (kind, clock, level, at.astimezone(UTC))


async def duplicated_marks(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    """SLA marks written more than once for the same complaint, clock or level (never wanted:
    a reassignment is the only thing that restarts the clocks, and no test here counts it)."""
    async with pool.acquire() as conn:
        return list(
            await conn.fetch(
                """
                SELECT complaint_id, type, data ->> 'clock' AS clock, data ->> 'level' AS level,
                       count(*) AS n
                FROM complaint_events
                WHERE type = any($1::text[])
                GROUP BY 1, 2, 3, 4 HAVING count(*) > 1
                """,
                list(SLA_TYPES),
            )
        )


async def check_replay(pool: asyncpg.Pool) -> int:
    """Replaying every complaint's events rebuilds its stored state, escalation included, and
    versions rise by one per event. Returns how many complaints were checked."""
    async with pool.acquire() as conn:
        rows = ComplaintRow.from_records(
            await conn.fetch(
                f"SELECT {complaints_db.COMPLAINT_COLUMNS} FROM complaints ORDER BY id"
            )
        )
    for row in rows:
        history = await events(pool, row.id)
        assert [e.version for e in history] == list(range(1, row.version + 1)), row.id
        previous = None
        for e in history:
            assert e.from_status == (previous.to_status if previous else None), history
            previous = e
        assert replay(history) == ComplaintState.from_row(row)
    return len(rows)
