"""The benchmark's bulk loader, run as a benchmark runs it (`python bench/bulk_load.py`), leaves
data the application could have written: whole event histories, the sweeper's marks, the live
counts, and ids from which normal inserts carry on."""

import asyncio
import itertools
import secrets
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest

from kilas.db.events import EVENT_COLUMNS
from kilas.db.pool import connect, create_pool
from kilas.db.rows import ComplaintRow, EventRow
from kilas.domain import workflow
from kilas.domain.lifecycle import SYSTEM_EVENTS, ComplaintState, Status, next_status, replay
from kilas.domain.sla import SlaRules, next_mark
from tests._database import admin_execute, with_database
from tests._rows import complaint_row

ROOT = Path(__file__).resolve().parent.parent
COMPLAINTS = 2000
MICROSECOND = timedelta(microseconds=1)
CLOCK_COLUMNS = (
    "assigned_at", "response_due_at", "resolution_due_at", "first_response_at", "resolved_at",
    "response_at_risk_at", "response_breached_at", "resolution_at_risk_at",
    "resolution_breached_at", "escalated_at",
)  # fmt: skip
DEADLINES = ("response_due_at", "resolution_due_at")


@dataclass(frozen=True)
class Loaded:
    url: str
    stdout: str
    stderr: str


@pytest.fixture(scope="module")
def loaded(pg_url: str, template_url: str) -> Iterator[Loaded]:
    """One load for the module (in chunks of 500, so events cross chunk boundaries); tests
    that write get a clone of it."""
    name = f"kilas_bulk_{secrets.token_hex(4)}"
    template = urlsplit(template_url).path.lstrip("/")
    asyncio.run(admin_execute(pg_url, f"CREATE DATABASE {name} TEMPLATE {template}"))
    url = with_database(pg_url, name)
    try:
        result = subprocess.run(
            [sys.executable, "bench/bulk_load.py", "--complaints", str(COMPLAINTS),
             "--chunk-size", "500", "--database-url", url],
            cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        yield Loaded(url, result.stdout, result.stderr)
    finally:
        asyncio.run(admin_execute(pg_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


async def fetch(url: str, sql: str) -> list[asyncpg.Record]:
    conn = await connect(url)
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()


async def fetch_events(url: str) -> list[EventRow]:
    """The whole log, each complaint's history in order."""
    return EventRow.from_records(
        await fetch(url, f"SELECT {EVENT_COLUMNS} FROM complaint_events ORDER BY complaint_id, id")
    )


def test_the_loader_reports_what_it_loaded_and_draws_its_progress_on_stderr(
    loaded: Loaded,
) -> None:
    assert f"loaded {COMPLAINTS:,} complaints and " in loaded.stdout
    assert "100% 2,000/2,000" in loaded.stderr
    assert "complaints [" not in loaded.stdout


async def test_complaints_cover_every_region_channel_category_and_a_year(loaded: Loaded) -> None:
    [row] = await fetch(
        loaded.url,
        """
        SELECT count(*) AS n, count(DISTINCT region_code) AS regions,
               count(DISTINCT channel) AS channels, count(DISTINCT category_code) AS categories,
               count(DISTINCT tracking_number) AS tracking_numbers,
               now() - min(created_at) AS span, max(created_at) <= now() AS not_future,
               (SELECT count(*) FROM regions) AS all_regions,
               (SELECT count(*) FROM categories) AS all_categories
        FROM complaints
        """,
    )
    assert row["n"] == row["tracking_numbers"] == COMPLAINTS
    assert row["regions"] == row["all_regions"] == 35
    assert row["categories"] == row["all_categories"]
    assert row["channels"] == 10
    assert 360 <= row["span"].days <= 365
    assert row["not_future"]
    statuses = {r["status"] for r in await fetch(loaded.url, "SELECT status FROM complaints")}
    assert {"ASSIGNED", "IN_PROGRESS", "CLOSED", "REJECTED"} <= statuses <= set(Status)


async def test_complaint_counts_equal_a_recount(loaded: Loaded) -> None:
    kept = await fetch(
        loaded.url, "SELECT status, region_code, channel, n FROM complaint_counts WHERE n > 0"
    )
    recount = await fetch(
        loaded.url,
        "SELECT status, region_code, channel, count(*) AS n FROM complaints GROUP BY 1, 2, 3",
    )
    assert sorted(map(tuple, kept)) == sorted(map(tuple, recount))
    kept_by_opd = await fetch(
        loaded.url,
        "SELECT opd_id, status, region_code, channel, n FROM complaint_counts_by_opd WHERE n > 0",
    )
    recount_by_opd = await fetch(
        loaded.url,
        "SELECT opd_id, status, region_code, channel, count(*) AS n FROM complaints "
        "WHERE opd_id IS NOT NULL GROUP BY 1, 2, 3, 4",
    )
    assert sorted(map(tuple, kept_by_opd)) == sorted(map(tuple, recount_by_opd))


async def test_every_history_starts_with_submission_counts_versions_and_replays_to_the_row(
    loaded: Loaded,
) -> None:
    complaints = {r["id"]: r for r in await fetch(loaded.url, "SELECT * FROM complaints")}
    events = await fetch_events(loaded.url)
    histories = {k: list(g) for k, g in itertools.groupby(events, lambda e: e.complaint_id)}
    assert histories.keys() == complaints.keys()
    for cid, history in histories.items():
        row = complaints[cid]
        assert history[0].type == "SUBMITTED"
        assert [e.version for e in history] == list(range(1, row["version"] + 1))
        assert [e.from_status for e in history] == [None] + [e.to_status for e in history[:-1]]
        assert replay(history) == ComplaintState(
            Status(row["status"]), row["opd_id"], row["rating"], row["rejection_reason"],
            row["duplicate_of_id"], row["work_item_id"], row["escalation_level"], row["version"],
        )  # fmt: skip
        assert row["updated_at"] == history[-1].occurred_at
    # Ids follow time across complaints, as in a live log.
    by_id = sorted(events, key=lambda e: e.id)
    assert all(a.occurred_at <= b.occurred_at for a, b in itertools.pairwise(by_id))


def sweeper_marks(history: list[EventRow], until: datetime) -> list[tuple[Any, ...]]:
    """The marks a sweeper running all along would have written between the person events of
    this history, and up to `until`."""
    row = complaint_row(**dict.fromkeys(CLOCK_COLUMNS), status="RECEIVED", escalation_level=0)
    marks = []

    def sweep(row: ComplaintRow, until: datetime) -> ComplaintRow:
        now = until
        while (mark := next_mark(row, now, SlaRules())) is not None:
            # Seen from `now`, a running clock may be past due; a sweeper running all along
            # first saw it at risk, so look just before this mark's moment first.
            if next_mark(row, mark.at - MICROSECOND, SlaRules()) is not None:
                now = mark.at - MICROSECOND
                continue
            marks.append((str(mark.event), mark.at, mark.data))
            row = replace(row, **mark.changes, status=next_status(Status(row.status), mark.event))
            now = until
        return row

    for event in history:
        if event.type in SYSTEM_EVENTS:
            continue
        row = replace(sweep(row, event.occurred_at), status=event.to_status)
        if event.type == "ASSIGNED":
            deadlines = {due: datetime.fromisoformat(event.data[due]) for due in DEADLINES}
            row = replace(row, assigned_at=event.occurred_at, **deadlines)
        elif event.type == "FOLLOWED_UP":
            row = replace(row, first_response_at=row.first_response_at or event.occurred_at)
        elif event.type == "RESOLVED":
            row = replace(row, resolved_at=event.occurred_at)
    sweep(row, until)
    return marks


async def test_the_sla_marks_are_exactly_those_the_sweeper_would_have_written(
    loaded: Loaded,
) -> None:
    events = await fetch_events(loaded.url)
    now = max(e.occurred_at for e in events)
    kinds: Counter[str] = Counter()
    for _, group in itertools.groupby(events, lambda e: e.complaint_id):
        history = list(group)
        written = [(e.type, e.occurred_at, e.data) for e in history if e.type in SYSTEM_EVENTS]
        assert written == sweeper_marks(history, now), history[0].complaint_id
        kinds.update(kind for kind, *_ in written)
    assert kinds.keys() == set(SYSTEM_EVENTS)


async def test_deadlines_and_breach_marks_follow_the_policy_in_force(loaded: Loaded) -> None:
    [wrong] = await fetch(
        loaded.url,
        """
        SELECT count(*) FILTER (WHERE c.response_due_at <> c.assigned_at + interval '24 hours'
                   OR c.resolution_due_at <> c.assigned_at
                        + make_interval(hours => coalesce(h.resolution_hours, p.resolution_hours))
                   OR p.response_hours <> 24) AS deadlines,
               count(*) FILTER (WHERE c.response_breached_at <> c.response_due_at
                   OR c.resolution_breached_at <> c.resolution_due_at
                   OR c.first_response_at <= c.response_breached_at
                   OR c.resolved_at <= c.resolution_breached_at) AS breaches,
               count(*) FILTER (WHERE c.sla_policy_id <> (
                   SELECT id FROM sla_policies WHERE effective_from <= c.assigned_at
                   ORDER BY effective_from DESC LIMIT 1)) AS policies
        FROM complaints c
        JOIN sla_policies p ON p.id = c.sla_policy_id
        LEFT JOIN sla_policy_category_hours h
            ON h.policy_id = p.id AND h.category_code = c.category_code
        """,
    )
    assert dict(wrong) == {"deadlines": 0, "breaches": 0, "policies": 0}


async def test_a_complaint_submitted_after_the_load_takes_the_next_ids_and_is_counted(
    loaded: Loaded, pg_url: str
) -> None:
    name = f"kilas_bulk_{secrets.token_hex(4)}"
    template = urlsplit(loaded.url).path.lstrip("/")
    await admin_execute(pg_url, f"CREATE DATABASE {name} TEMPLATE {template}")
    pool = await create_pool(with_database(pg_url, name), min_size=1, max_size=2)
    try:
        async with pool.acquire() as conn, conn.transaction():
            outcome = await workflow.submit(
                conn,
                workflow.Submission(channel="WEB", text="Lampu PJU padam.", region_code="33.74"),
                actor="test",
            )
        async with pool.acquire() as conn:
            assert outcome.complaint.id == COMPLAINTS + 1
            assert outcome.event is not None
            assert outcome.event.id == await conn.fetchval("SELECT max(id) FROM complaint_events")
            assert await conn.fetchval(
                "SELECT n FROM complaint_counts WHERE (status, region_code, channel) = "
                "('RECEIVED', '33.74', 'WEB')"
            ) == await conn.fetchval(
                "SELECT count(*) FROM complaints WHERE (status, region_code, channel) = "
                "('RECEIVED', '33.74', 'WEB')"
            )
    finally:
        await pool.close()
        await admin_execute(pg_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
