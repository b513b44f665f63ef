"""SQL for the SLA alerts still open: what a wall shows before it follows `slaAlerts` live."""

from kilas.db.complaints import Visibility, visible_sql
from kilas.db.events import EVENT_COLUMNS_OF_E
from kilas.db.pool import Connection
from kilas.db.rows import EventRow
from kilas.db.sql import numbered

# An alert is open while what it says is still true of the complaint's current assignment (a
# re-disposition starts fresh clocks): the complaint is held, the clock it names is unmet (and,
# for an at-risk mark, not breached since); an escalation, while it is the complaint's level and
# a breached clock is still unmet (as domain.sla climbs them).
_OPEN_ALERTS = """
    SELECT {columns}
    FROM complaints c JOIN complaint_events e ON e.complaint_id = c.id
    WHERE c.status IN ('ASSIGNED', 'IN_PROGRESS')
      AND (c.response_at_risk_at IS NOT NULL OR c.response_breached_at IS NOT NULL
           OR c.resolution_at_risk_at IS NOT NULL OR c.resolution_breached_at IS NOT NULL
           OR c.escalation_level > 0)
      AND e.type IN ('SLA_AT_RISK', 'SLA_BREACHED', 'ESCALATED')
      AND e.occurred_at >= c.assigned_at
      AND CASE
          WHEN e.type = 'ESCALATED' THEN (e.data ->> 'level')::int = c.escalation_level
              AND ((c.response_breached_at IS NOT NULL AND c.first_response_at IS NULL)
                   OR c.resolution_breached_at IS NOT NULL)
          WHEN e.data ->> 'clock' = 'RESPONSE' THEN
              c.status = 'ASSIGNED' AND c.first_response_at IS NULL
              AND (e.type = 'SLA_BREACHED' OR c.response_breached_at IS NULL)
          ELSE e.type = 'SLA_BREACHED' OR c.resolution_breached_at IS NULL
      END
      AND (%(opd_id)s::bigint IS NULL OR c.opd_id = %(opd_id)s)
      AND (%(region_code)s::text IS NULL OR c.region_code = %(region_code)s)
      AND {visible}
    ORDER BY e.occurred_at DESC, e.id DESC
    LIMIT %(limit)s
"""


async def open_alerts(
    conn: Connection,
    visibility: Visibility,
    *,
    opd_id: int | None,
    region_code: str | None,
    limit: int,
) -> list[EventRow]:
    """The open SLA alerts the caller may see, newest first by the moment each describes."""
    sql, args = numbered(
        _OPEN_ALERTS.format(columns=EVENT_COLUMNS_OF_E, visible=visible_sql("c", "e")),
        {"limit": limit, "opd_id": opd_id, "region_code": region_code, **visibility.params()},
    )
    return EventRow.from_records(await conn.fetch(sql, *args))
