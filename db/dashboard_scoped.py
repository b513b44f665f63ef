"""SQL for a dashboard narrowed to one OPD and/or one region: the wall of a unit's own office.

Counts come from tables kept by triggers: `complaint_counts` (0005) for the province or a
region, `complaint_counts_by_opd` (0008) for an OPD."""

from datetime import datetime

from kilas.db.dashboard import CountRow
from kilas.db.pool import Connection


async def counts(conn: Connection, opd_id: int | None, region_code: str | None) -> list[CountRow]:
    """As db.dashboard.counts, of the complaints in scope."""
    if opd_id is None:
        return CountRow.from_records(
            await conn.fetch(
                """
                SELECT status, region_code, channel, n FROM complaint_counts
                WHERE n > 0 AND region_code = $1
                """,
                region_code,
            )
        )
    return CountRow.from_records(
        await conn.fetch(
            """
            SELECT status, region_code, channel, n FROM complaint_counts_by_opd
            WHERE opd_id = $1 AND n > 0 AND ($2::text IS NULL OR region_code = $2)
            """,
            opd_id,
            region_code,
        )
    )


async def breaches_open_now(
    conn: Connection, now: datetime, opd_id: int | None, region_code: str | None
) -> int:
    """As db.dashboard.breaches_open_now, of the complaints in scope."""
    value = await conn.fetchval(
        """
        SELECT count(*) FROM complaints
        WHERE status IN ('ASSIGNED', 'IN_PROGRESS')
            AND ($2::bigint IS NULL OR opd_id = $2) AND ($3::text IS NULL OR region_code = $3)
            AND (resolution_due_at < $1
                 OR (status = 'ASSIGNED' AND first_response_at IS NULL AND response_due_at < $1))
        """,
        now,
        opd_id,
        region_code,
    )
    return int(value)


async def intake_since(
    conn: Connection, since: datetime, opd_id: int | None, region_code: str | None
) -> int:
    value = await conn.fetchval(
        """
        SELECT count(*) FROM complaints
        WHERE created_at >= $1
            AND ($2::bigint IS NULL OR opd_id = $2) AND ($3::text IS NULL OR region_code = $3)
        """,
        since,
        opd_id,
        region_code,
    )
    return int(value)
