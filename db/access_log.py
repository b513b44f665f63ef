"""SQL for the log of personal-data reads by staff (migration 0007)."""

from dataclasses import dataclass
from datetime import datetime

from kilas.db.pool import Connection
from kilas.db.rows import Row


@dataclass(frozen=True, slots=True)
class AccessLogRow(Row):
    """One read of personal data, with the tracking number of the complaint read."""

    id: int
    complaint_id: int
    tracking_number: str
    subject: str
    role: str
    opd_id: int | None
    field: str
    address: str
    accessed_at: datetime


async def record_reads(
    conn: Connection,
    complaint_ids: list[int],
    *,
    subject: str,
    role: str,
    opd_id: int | None,
    field: str,
    address: str,
    at: datetime,
) -> None:
    await conn.execute(
        """
        INSERT INTO personal_data_access
            (complaint_id, subject, role, opd_id, field, address, accessed_at)
        SELECT id, $2, $3, $4, $5, $6, $7 FROM unnest($1::bigint[]) AS id
        """,
        complaint_ids,
        subject,
        role,
        opd_id,
        field,
        address,
        at,
    )


async def page(
    conn: Connection,
    *,
    complaint_id: int | None,
    subject: str | None,
    after_id: int | None,
    limit: int,
) -> list[AccessLogRow]:
    """Newest first, keyset on id."""
    return AccessLogRow.from_records(
        await conn.fetch(
            """
            SELECT a.id, a.complaint_id, c.tracking_number, a.subject, a.role, a.opd_id,
                a.field, a.address, a.accessed_at
            FROM personal_data_access a JOIN complaints c ON c.id = a.complaint_id
            WHERE ($1::bigint IS NULL OR a.complaint_id = $1)
                AND ($2::text IS NULL OR a.subject = $2)
                AND ($3::bigint IS NULL OR a.id < $3)
            ORDER BY a.id DESC
            LIMIT $4
            """,
            complaint_id,
            subject,
            after_id,
            limit,
        )
    )
