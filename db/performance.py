"""SQL for SLA performance: per OPD and per region over a period, the leaderboard, the monthly
accountability of OPD heads, and the complaint stream behind the CSV export.

A period is [start, end) on `assigned_at` for what was received, and on `occurred_at` for SLA
events. Each unit (OPD or region) gets its figures from index-only range scans of its own: the
complaints it was assigned in the period, its open backlog, and its breach and escalation events
(the covering indexes of migration 0006). One range per unit, already in unit order, avoids
sorting a period's complaints by unit before aggregating them, which cost more than the
aggregates themselves on a million complaints (BENCHMARKS.md). A unit with nothing in the period
still has its row."""

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime

from kilas.db.complaints import FILTER_SQL, ComplaintFilter, filter_params
from kilas.db.heads import in_office
from kilas.db.pool import Connection
from kilas.db.rows import Row
from kilas.db.sql import numbered

# `response_hours` and `resolution_hours` are stored with the row (migration 0009); each
# percentile_cont takes one array of fractions, so that each distribution is sorted once.

_FIGURES_SQL = """
    figures AS (
        SELECT u.{unit_key} AS key,
            r.received,
            r.resolved,
            b.backlog,
            r.response_percentiles[1] AS median_response_hours,
            r.response_percentiles[2] AS p90_response_hours,
            r.resolution_percentiles[1] AS median_resolution_hours,
            r.resolution_percentiles[2] AS p90_resolution_hours,
            r.responses_decided,
            r.responses_on_time,
            r.responses_on_time::float8 / nullif(r.responses_decided, 0) AS response_sla_share,
            e.breaches,
            e.escalations,
            r.average_rating,
            r.ratings
        FROM {units} u
        CROSS JOIN LATERAL (
            SELECT count(*) AS received,
                count(resolution_hours) AS resolved,
                percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY response_hours)
                    AS response_percentiles,
                percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY resolution_hours)
                    AS resolution_percentiles,
                -- A response clock is decided once answered, or once its deadline has passed.
                count(*) FILTER (WHERE response_due_at IS NOT NULL
                    AND (first_response_at IS NOT NULL OR response_due_at < $3))
                    AS responses_decided,
                count(*) FILTER (WHERE first_response_at <= response_due_at) AS responses_on_time,
                avg(rating)::float8 AS average_rating,
                count(rating) AS ratings
            FROM complaints c
            WHERE c.{key} = u.{unit_key} AND c.assigned_at >= $1 AND c.assigned_at < $2
        ) r
        CROSS JOIN LATERAL ({backlog}) b
        CROSS JOIN LATERAL (
            SELECT count(*) FILTER (WHERE type = 'SLA_BREACHED') AS breaches,
                count(*) FILTER (WHERE type = 'ESCALATED') AS escalations
            FROM complaint_events e
            WHERE e.{key} = u.{unit_key} AND e.type IN ('SLA_BREACHED', 'ESCALATED')
                AND e.occurred_at >= $1 AND e.occurred_at < $2
        ) e
    )
"""

FIGURE_COLUMNS = """
    received, resolved, backlog, median_response_hours, p90_response_hours,
    median_resolution_hours, p90_resolution_hours, responses_decided, responses_on_time,
    response_sla_share, breaches, escalations, average_rating, ratings
"""


@dataclass(frozen=True, slots=True)
class FiguresRow(Row):
    """FIGURE_COLUMNS, of one unit over a period; the rows below add whose figures they are."""

    received: int
    resolved: int
    backlog: int
    median_response_hours: float | None
    p90_response_hours: float | None
    median_resolution_hours: float | None
    p90_resolution_hours: float | None
    responses_decided: int
    responses_on_time: int
    response_sla_share: float | None
    breaches: int
    escalations: int
    average_rating: float | None
    ratings: int


@dataclass(frozen=True, slots=True)
class OpdPerformanceRow(FiguresRow):
    opd_id: int
    slug: str
    short_name: str
    name: str


@dataclass(frozen=True, slots=True)
class RegionPerformanceRow(FiguresRow):
    region_code: str
    name: str


@dataclass(frozen=True, slots=True)
class LeaderboardRow(FiguresRow):
    rank: int
    opd_id: int


@dataclass(frozen=True, slots=True)
class AccountabilityRow(Row):
    """One OPD's breaches and escalations in one month (WIB) under one head: the head in office
    when they happened (none when the post was vacant)."""

    opd_id: int
    head_id: int | None
    head_name: str | None
    head_title: str | None
    month: date
    breaches: int
    response_breaches: int
    resolution_breaches: int
    escalations: int
    escalations_level1: int
    escalations_level2: int
    escalations_level3: int


# The open backlog: per OPD, an index-only range of `complaints_opd_status` (a grouped count
# would read rows scattered all over the table); per region, the trigger-kept `complaint_counts`.
_OPD_BACKLOG = """
    SELECT count(*) AS backlog FROM complaints c
    WHERE c.opd_id = u.id AND c.status IN ('ASSIGNED', 'IN_PROGRESS')
"""
_REGION_BACKLOG = """
    SELECT coalesce(sum(n), 0)::bigint AS backlog FROM complaint_counts k
    WHERE k.region_code = u.code AND k.status IN ('ASSIGNED', 'IN_PROGRESS')
"""
_OPD_FIGURES = _FIGURES_SQL.format(key="opd_id", units="opds", unit_key="id", backlog=_OPD_BACKLOG)
_REGION_FIGURES = _FIGURES_SQL.format(
    key="region_code", units="regions", unit_key="code", backlog=_REGION_BACKLOG
)


@contextlib.asynccontextmanager
async def _report_settings(conn: Connection) -> AsyncIterator[None]:
    """Settings for one report, undone at its end (a savepoint inside a caller's transaction).
    The percentile sorts spill to disk with the default 4 MB of work_mem. asyncpg prepares each
    statement, and after five executions PostgreSQL may keep a generic plan made without knowing
    the period, much slower for a long one than a plan made for the dates given."""
    async with conn.transaction():
        await conn.execute("SET LOCAL work_mem = '64MB'")
        await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        yield


async def opd_performance(
    conn: Connection, start: datetime, end: datetime, now: datetime
) -> list[OpdPerformanceRow]:
    """One row per OPD, including those with nothing in the period, by short name."""
    async with _report_settings(conn):
        return OpdPerformanceRow.from_records(
            await conn.fetch(
                f"""
                WITH {_OPD_FIGURES}
                SELECT o.id AS opd_id, o.slug, o.short_name, o.name, {FIGURE_COLUMNS}
                FROM figures f JOIN opds o ON o.id = f.key
                ORDER BY o.short_name, o.id
                """,
                start,
                end,
                now,
            )
        )


async def region_performance(
    conn: Connection, start: datetime, end: datetime, now: datetime
) -> list[RegionPerformanceRow]:
    """One row per region (all 35), by code."""
    async with _report_settings(conn):
        return RegionPerformanceRow.from_records(
            await conn.fetch(
                f"""
                WITH {_REGION_FIGURES}
                SELECT r.code AS region_code, r.name, {FIGURE_COLUMNS}
                FROM figures f JOIN regions r ON r.code = f.key
                ORDER BY r.code
                """,
                start,
                end,
                now,
            )
        )


async def leaderboard(
    conn: Connection, start: datetime, end: datetime, now: datetime, min_sample: int
) -> list[LeaderboardRow]:
    """OPDs that received at least `min_sample` complaints, fastest first: by share of responses
    within the SLA, then by median response time, then by id, so that ranks never tie."""
    async with _report_settings(conn):
        return LeaderboardRow.from_records(
            await conn.fetch(
                f"""
                WITH {_OPD_FIGURES}
                SELECT row_number() OVER (ORDER BY response_sla_share DESC NULLS LAST,
                        median_response_hours ASC NULLS LAST, key) AS rank,
                    key AS opd_id, {FIGURE_COLUMNS}
                FROM figures
                WHERE received >= $4
                ORDER BY rank
                """,
                start,
                end,
                now,
                min_sample,
            )
        )


async def accountability(
    conn: Connection, start: datetime, end: datetime
) -> list[AccountabilityRow]:
    """Breaches and escalations per OPD, head and calendar month in WIB: each event is the
    head's who was in office at its `occurred_at` (db/heads.py), so a month in which the head
    changed has a row for each; only the months in which an OPD had any."""
    return AccountabilityRow.from_records(
        await conn.fetch(
            f"""
            SELECT e.opd_id, h.id AS head_id, h.name AS head_name, h.title AS head_title,
                date_trunc('month', e.occurred_at AT TIME ZONE 'Asia/Jakarta')::date AS month,
                count(*) FILTER (WHERE e.type = 'SLA_BREACHED') AS breaches,
                count(*) FILTER (WHERE e.type = 'SLA_BREACHED'
                    AND e.data ->> 'clock' = 'RESPONSE') AS response_breaches,
                count(*) FILTER (WHERE e.type = 'SLA_BREACHED'
                    AND e.data ->> 'clock' = 'RESOLUTION') AS resolution_breaches,
                count(*) FILTER (WHERE e.type = 'ESCALATED') AS escalations,
                count(*) FILTER (WHERE e.type = 'ESCALATED'
                    AND e.data ->> 'level' = '1') AS escalations_level1,
                count(*) FILTER (WHERE e.type = 'ESCALATED'
                    AND e.data ->> 'level' = '2') AS escalations_level2,
                count(*) FILTER (WHERE e.type = 'ESCALATED'
                    AND e.data ->> 'level' = '3') AS escalations_level3
            FROM complaint_events e
            LEFT JOIN opd_heads h ON h.opd_id = e.opd_id AND {in_office("h", "e.occurred_at")}
            WHERE e.type IN ('SLA_BREACHED', 'ESCALATED') AND e.opd_id IS NOT NULL
                AND e.occurred_at >= $1 AND e.occurred_at < $2
            GROUP BY e.opd_id, h.id, month
            ORDER BY month, e.opd_id, h.term_start NULLS FIRST
            """,
            start,
            end,
        )
    )


_EXPORTED = """
    id, tracking_number, status, channel, category_code, region_code, opd_id, confidential,
    text, lat, lon, created_at, assigned_at, response_due_at, first_response_at,
    resolution_due_at, resolved_at, closed_at, response_breached_at, resolution_breached_at,
    escalation_level, rating, rejection_reason
"""

# What a complaint export shows: no reporter name, contact, handle or channel reference.
EXPORT_COLUMNS = """
    c.id, c.tracking_number, c.status, c.channel, c.category_code, c.region_code,
    r.name AS region_name, o.slug AS opd_slug, o.short_name AS opd_short_name, c.confidential,
    c.text, c.lat, c.lon, c.created_at, c.assigned_at, c.response_due_at, c.first_response_at,
    c.resolution_due_at, c.resolved_at, c.closed_at, c.response_breached_at,
    c.resolution_breached_at, c.escalation_level, c.rating, c.rejection_reason
"""


@dataclass(frozen=True, slots=True)
class ExportedComplaintRow(Row):
    """A complaint as EXPORT_COLUMNS show it."""

    id: int
    tracking_number: str
    status: str
    channel: str
    category_code: str | None
    region_code: str
    region_name: str
    opd_slug: str | None
    opd_short_name: str | None
    confidential: bool
    text: str
    lat: float | None
    lon: float | None
    created_at: datetime
    assigned_at: datetime | None
    response_due_at: datetime | None
    first_response_at: datetime | None
    resolution_due_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    response_breached_at: datetime | None
    resolution_breached_at: datetime | None
    escalation_level: int
    rating: int | None
    rejection_reason: str | None


async def stream_complaints(
    conn: Connection, f: ComplaintFilter, *, prefetch: int = 1000
) -> AsyncIterator[ExportedComplaintRow]:
    """The complaints matching `f`, oldest first, through a server-side cursor: memory stays
    flat however many match. Must run inside a transaction, which the caller owns."""
    # The filter reads unqualified complaint columns, so it stays inside a subquery of its own.
    query = f"""
        SELECT {EXPORT_COLUMNS}
        FROM (SELECT {_EXPORTED} FROM complaints WHERE {FILTER_SQL}) c
        JOIN regions r ON r.code = c.region_code
        LEFT JOIN opds o ON o.id = c.opd_id
        ORDER BY c.created_at, c.id
    """
    sql, args = numbered(query, filter_params(f))
    async for row in conn.cursor(sql, *args, prefetch=prefetch):
        yield ExportedComplaintRow.from_record(row)
