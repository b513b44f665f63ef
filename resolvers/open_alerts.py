"""The SLA alerts still open, once: a wall's first screen before `slaAlerts` takes over."""

import strawberry

from kilas.auth.policy import visibility
from kilas.db import open_alerts as open_alerts_db
from kilas.resolvers.context import Info
from kilas.resolvers.queries import page_size
from kilas.schema import inputs
from kilas.schema.complaints import ComplaintEvent
from kilas.schema.ids import decode_id


@strawberry.field(
    description="The SLA alerts still open, newest first by the moment each describes (a "
    "deadline passed, an at-risk window began, an escalation), at most `first`: of the "
    "complaints an OPD holds now, the marks of their current assignment that still hold — a "
    "clock at risk or breached and not yet met, the current escalation. A wall shows these, "
    "then follows `slaAlerts` live."
)
async def open_sla_alerts(
    info: Info, filter: inputs.SlaAlertFilter | None = None, first: int | None = None
) -> list[ComplaintEvent]:
    size = page_size(info, first)
    f = filter or inputs.SlaAlertFilter()
    async with info.context.pool.acquire() as conn:
        rows = await open_alerts_db.open_alerts(
            conn,
            visibility(info.context.caller),
            opd_id=decode_id(f.opd_id, "Opd", "filter.opdId") if f.opd_id else None,
            region_code=f.region_code,
            limit=size,
        )
    return [ComplaintEvent.from_row(row) for row in rows]


QUERIES = [open_sla_alerts]
