"""SQL for SLA performance: per OPD and per region over a period, the leaderboard, the monthly
accountability of OPD heads, and the complaint stream behind the CSV export.

A period is [start, end) on `assigned_at` for what was received, and on `occurred_at` for SLA
events. Each figure comes from one grouped pass: over the complaints assigned in the period (the
`complaints_assigned` index), over the open backlog, and over the breach and escalation events
(`complaint_events_type_time`); the three are joined to the units, so that a unit with nothing
in the period still has its row."""

from collections.abc import AsyncIterator
from datetime import datetime

import asyncpg

from db.complaints import _FILTER_SQL, ComplaintFilter, _filter_args
from db.pool import Connection

# Hours as float8: date_part is float8 where extract() would be numeric, and percentile_cont
# takes one array of fractions so that each distribution is sorted once.
_HOURS = "date_part('epoch', {end} - assigned_at) / 3600"

_FIGURES_SQL = f"""
    received AS (
        SELECT {{key}} AS key,
            count(*) AS received,
            count(resolved_at) AS resolved,
            percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (
                ORDER BY {_HOURS.format(end="first_response_at")}) AS response_hours,
            percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (
                ORDER BY {_HOURS.format(end="resolved_at")}) AS resolution_hours,
            -- A response clock is decided once answered, or once its deadline has passed.
            count(*) FILTER (WHERE response_due_at IS NOT NULL
                AND (first_response_at IS NOT NULL OR response_due_at < $3)) AS responses_decided,
            count(*) FILTER (WHERE first_response_at <= response_due_at) AS responses_on_time,
            avg(rating)::float8 AS average_rating,
            count(rating) AS ratings
        FROM complaints
        WHERE assigned_at >= $1 AND assigned_at < $2 AND {{key}} IS NOT NULL
        GROUP BY {{key}}
    ),
    backlog AS ({{backlog}}),
    sla_events AS (
        SELECT {{key}} AS key,
            count(*) FILTER (WHERE type = 'SLA_BREACHED') AS breaches,
            count(*) FILTER (WHERE type = 'ESCALATED') AS escalations
        FROM complaint_events
        WHERE type IN ('SLA_BREACHED', 'ESCALATED') AND occurred_at >= $1 AND occurred_at < $2
            AND {{key}} IS NOT NULL
        GROUP BY {{key}}
    ),
    figures AS (
        SELECT u.{{unit_key}} AS key,
            coalesce(r.received, 0) AS received,
            coalesce(r.resolved, 0) AS resolved,
            coalesce(b.backlog, 0) AS backlog,
            r.response_hours[1] AS median_response_hours,
            r.response_hours[2] AS p90_response_hours,
            r.resolution_hours[1] AS median_resolution_hours,
            r.resolution_hours[2] AS p90_resolution_hours,
            coalesce(r.responses_decided, 0) AS responses_decided,
            coalesce(r.responses_on_time, 0) AS responses_on_time,
            r.responses_on_time::float8 / nullif(r.responses_decided, 0) AS response_sla_share,
            coalesce(e.breaches, 0) AS breaches,
            coalesce(e.escalations, 0) AS escalations,
            r.average_rating,
            coalesce(r.ratings, 0) AS ratings
        FROM {{units}} u
        LEFT JOIN received r ON r.key = u.{{unit_key}}
        LEFT JOIN backlog b ON b.key = u.{{unit_key}}
        LEFT JOIN sla_events e ON e.key = u.{{unit_key}}
    )
"""

FIGURE_COLUMNS = """
    received, resolved, backlog, median_response_hours, p90_response_hours,
    median_resolution_hours, p90_resolution_hours, responses_decided, responses_on_time,
    response_sla_share, breaches, escalations, average_rating, ratings
"""

# The open backlog: per OPD, one index-only range of `complaints_opd_status` each (a grouped
# count would read the rows, scattered all over the table, on PostgreSQL without skip scans);
# per region, the trigger-kept `complaint_counts`.
_OPD_BACKLOG = """
    SELECT u.id AS key,
        (SELECT count(*) FROM complaints c
         WHERE c.opd_id = u.id AND c.status IN ('ASSIGNED', 'IN_PROGRESS')) AS backlog
    FROM opds u
"""
_REGION_BACKLOG = """
    SELECT region_code AS key, sum(n)::bigint AS backlog FROM complaint_counts
    WHERE status IN ('ASSIGNED', 'IN_PROGRESS')
    GROUP BY region_code
"""
_OPD_FIGURES = _FIGURES_SQL.format(key="opd_id", units="opds", unit_key="id", backlog=_OPD_BACKLOG)
_REGION_FIGURES = _FIGURES_SQL.format(
    key="region_code", units="regions", unit_key="code", backlog=_REGION_BACKLOG
)


async def opd_performance(
    conn: Connection, start: datetime, end: datetime, now: datetime
) -> list[asyncpg.Record]:
    """One row per OPD, including those with nothing in the period, by short name."""
    return list(
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
) -> list[asyncpg.Record]:
    """One row per region (all 35), by code."""
    return list(
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
) -> list[asyncpg.Record]:
    """OPDs that received at least `min_sample` complaints, fastest first: by share of responses
    within the SLA, then by median response time, then by id, so that ranks never tie."""
    return list(
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


async def accountability(conn: Connection, start: datetime, end: datetime) -> list[asyncpg.Record]:
    """Breaches and escalations per OPD and calendar month in WIB, with the OPD's current head;
    only the months in which an OPD had any."""
    return list(
        await conn.fetch(
            """
            SELECT e.opd_id, o.head_name, o.head_title,
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
            FROM complaint_events e JOIN opds o ON o.id = e.opd_id
            WHERE e.type IN ('SLA_BREACHED', 'ESCALATED')
                AND e.occurred_at >= $1 AND e.occurred_at < $2
            GROUP BY e.opd_id, o.head_name, o.head_title, month
            ORDER BY month, e.opd_id
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


async def stream_complaints(
    conn: Connection, f: ComplaintFilter, *, prefetch: int = 1000
) -> AsyncIterator[asyncpg.Record]:
    """The complaints matching `f`, oldest first, through a server-side cursor: memory stays
    flat however many match. Must run inside a transaction, which the caller owns."""
    # The filter reads unqualified complaint columns, so it stays inside a subquery of its own.
    query = f"""
        SELECT {EXPORT_COLUMNS}
        FROM (SELECT {_EXPORTED} FROM complaints WHERE {_FILTER_SQL}) c
        JOIN regions r ON r.code = c.region_code
        LEFT JOIN opds o ON o.id = c.opd_id
        ORDER BY c.created_at, c.id
    """
    async for row in conn.cursor(query, *_filter_args(f), prefetch=prefetch):
        yield row
