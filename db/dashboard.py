"""SQL for the live dashboard: cheap enough to run once a second on a million complaints."""

from dataclasses import dataclass
from datetime import datetime

from kilas.db.pool import Connection
from kilas.db.rows import Row


@dataclass(frozen=True, slots=True)
class CountRow(Row):
    """How many complaints have one status, region and channel."""

    status: str
    region_code: str
    channel: str
    n: int


async def counts(conn: Connection) -> list[CountRow]:
    """Kept current by a trigger (migration 0005)."""
    return CountRow.from_records(
        await conn.fetch("SELECT status, region_code, channel, n FROM complaint_counts WHERE n > 0")
    )


async def breaches_open_now(conn: Connection, now: datetime) -> int:
    """Complaints an OPD holds past a deadline it has not met (whether or not the sweeper has
    written the breach yet). Each count reads a partial index of migration 0005. Counted as
    |A| + |B without A| rather than a UNION of ids, which would read the heap row of every held
    complaint past a deadline; the first count is index-only."""
    value = await conn.fetchval(
        """
        SELECT (SELECT count(*) FROM complaints
                WHERE status IN ('ASSIGNED', 'IN_PROGRESS') AND resolution_due_at < $1)
             + (SELECT count(*) FROM complaints
                WHERE status = 'ASSIGNED' AND first_response_at IS NULL AND response_due_at < $1
                    AND (resolution_due_at >= $1 OR resolution_due_at IS NULL))
        """,
        now,
    )
    return int(value)


async def intake_since(conn: Connection, since: datetime) -> int:
    value = await conn.fetchval("SELECT count(*) FROM complaints WHERE created_at >= $1", since)
    return int(value)
