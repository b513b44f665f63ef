"""Root field for the personal-data access log."""

import strawberry

from kilas.db import access_log as access_log_db
from kilas.domain.errors import invalid
from kilas.resolvers.context import Info
from kilas.resolvers.queries import page_size
from kilas.schema.access_log import PersonalDataAccess
from kilas.schema.ids import decode_id


@strawberry.field(
    description="Who read which reporter's personal data, newest first; narrow by complaint or "
    "by reader (`subject`). SUPERVISOR only. Page with `after`, the last entry's cursor."
)
async def personal_data_access(
    info: Info,
    complaint_id: strawberry.ID | None = None,
    subject: str | None = None,
    first: int = 50,
    after: str | None = None,
) -> list[PersonalDataAccess]:
    limit = page_size(info, first)
    after_id = None
    if after is not None:
        if not after.isdigit() or len(after) > 18:
            raise invalid("after", "after must be a cursor from this log")
        after_id = int(after)
    async with info.context.pool.acquire() as conn:
        rows = await access_log_db.page(
            conn,
            complaint_id=decode_id(complaint_id, "Complaint", "complaintId")
            if complaint_id
            else None,
            subject=subject,
            after_id=after_id,
            limit=limit,
        )
    return [PersonalDataAccess.from_row(row) for row in rows]


QUERIES = [personal_data_access]
