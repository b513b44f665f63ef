"""The log of personal-data reads, for supervisors."""

from datetime import datetime

import strawberry

from kilas.db.access_log import AccessLogRow
from kilas.schema.ids import to_global_id, wib


@strawberry.type(description="One read of a complaint's personal data by a member of staff.")
class PersonalDataAccess:
    cursor: str = strawberry.field(description="Pass as `after` for the next (older) page.")
    complaint_id: strawberry.ID
    tracking_number: str
    subject: str = strawberry.field(description='Who read it: "jwt:<sub>" or "key:<id>".')
    role: str
    field: str = strawberry.field(description="What was read: reporter or externalRef.")
    address: str = strawberry.field(description="The client address the read came from.")
    accessed_at: datetime

    @classmethod
    def from_row(cls, row: AccessLogRow) -> "PersonalDataAccess":
        return cls(
            cursor=str(row.id),
            complaint_id=strawberry.ID(to_global_id("Complaint", row.complaint_id)),
            tracking_number=row.tracking_number,
            subject=row.subject,
            role=row.role,
            field=row.field,
            address=row.address,
            accessed_at=wib(row.accessed_at),
        )
