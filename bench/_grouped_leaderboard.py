"""The leaderboard's baseline: the same figures in one grouped pass over the period's complaints
and events, then joined to the units, as Kilas computed them before the per-unit scans of
`db.performance` (17dc07d). `bench/sla_queries.py` runs it with the planner kept off indexes."""

from datetime import datetime

import asyncpg

from kilas.db.pool import Connection

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

# The open backlog, grouped in the same single pass.
_OPD_BACKLOG = """
    SELECT opd_id AS key, count(*) AS backlog FROM complaints
    WHERE status IN ('ASSIGNED', 'IN_PROGRESS') GROUP BY opd_id
"""
_OPD_FIGURES = _FIGURES_SQL.format(key="opd_id", units="opds", unit_key="id", backlog=_OPD_BACKLOG)


async def grouped_leaderboard(
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
