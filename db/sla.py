"""SQL for the SLA sweeper: which complaints may have a mark due."""

from datetime import datetime, timedelta

from kilas.db.pool import Connection

# Each branch reads one partial index of migration 0005, so the cost follows the open backlog,
# not the whole table. The sweeper re-checks every candidate under its row lock.
_CANDIDATES = """
    SELECT id FROM complaints
    WHERE id > $6 AND status = 'ASSIGNED' AND first_response_at IS NULL
      AND response_breached_at IS NULL
      AND response_due_at - $2::float8 * (response_due_at - assigned_at) <= $1
      AND (response_at_risk_at IS NULL OR response_due_at <= $1)
    UNION
    SELECT id FROM complaints
    WHERE id > $6 AND status IN ('ASSIGNED', 'IN_PROGRESS') AND resolution_breached_at IS NULL
      AND resolution_due_at - $2::float8 * (resolution_due_at - assigned_at) <= $1
      AND (resolution_at_risk_at IS NULL OR resolution_due_at <= $1)
    UNION
    SELECT id FROM complaints
    WHERE id > $6 AND escalation_level BETWEEN 1 AND 2 AND status IN ('ASSIGNED', 'IN_PROGRESS')
      AND escalated_at + ($4::interval[])[escalation_level + 1] <= $1
    UNION
    SELECT id FROM complaints
    WHERE id > $6 AND escalation_level = 0 AND status IN ('ASSIGNED', 'IN_PROGRESS')
      AND least(response_breached_at, resolution_breached_at) + ($4::interval[])[1] <= $1
    UNION
    SELECT id FROM complaints
    WHERE id > $6 AND status = 'RESOLVED' AND resolved_at + $3::interval <= $1
    ORDER BY id
    LIMIT $5
"""


async def sweep_candidates(
    conn: Connection,
    now: datetime,
    *,
    at_risk_share: float,
    auto_close_after: timedelta,
    escalation_delays: tuple[timedelta, ...],
    after_id: int,
    limit: int,
) -> list[int]:
    """Candidates with ids above `after_id`, in id order, so that a sweep pages through them."""
    rows = await conn.fetch(
        _CANDIDATES, now, at_risk_share, auto_close_after, list(escalation_delays), limit, after_id
    )
    return [row["id"] for row in rows]
