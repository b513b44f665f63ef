"""The answers a channel complaint's citizen gets on their channel, as the outbox holds them."""

from datetime import datetime
from enum import Enum

import strawberry

from kilas.db.replies import ReplyRow, TemplateRow
from kilas.schema.enums import ComplaintEventType
from kilas.schema.errors import UserError
from kilas.schema.ids import to_global_id, wib


@strawberry.enum(
    description="Where a reply is: PENDING to be sent (again), SENDING now, SENT, UNCERTAIN "
    "(the platform may or may not have taken it: never sent again by itself), DEAD (refused "
    "for good, see lastError)."
)
class ReplyState(Enum):
    PENDING = "PENDING"
    SENDING = "SENDING"
    SENT = "SENT"
    UNCERTAIN = "UNCERTAIN"
    DEAD = "DEAD"


@strawberry.type(description="One answer to the citizen on the channel they wrote on.")
class ChannelReply:
    id: strawberry.ID
    event_type: ComplaintEventType = strawberry.field(description="The event it answers.")
    public: bool = strawberry.field(
        description="A public reply (under a tweet or a comment) or a private one (a chat, a DM)."
    )
    text: str
    state: ReplyState
    attempts: int
    last_error: str | None
    sent_at: datetime | None
    platform_message_id: str | None = strawberry.field(
        description="The platform's id of the reply it sent."
    )
    created_at: datetime

    @classmethod
    def from_row(cls, row: ReplyRow) -> "ChannelReply":
        return cls(
            id=strawberry.ID(to_global_id("ChannelReply", row.id)),
            event_type=ComplaintEventType(row.event_type),
            public=row.public,
            text=row.text,
            state=ReplyState(row.state),
            attempts=row.attempts,
            last_error=row.last_error,
            sent_at=wib(row.sent_at),
            platform_message_id=row.platform_message_id,
            created_at=wib(row.created_at),
        )


@strawberry.type(description="The reply sent to a channel complaint's citizen after one event.")
class ReplyTemplate:
    event_type: ComplaintEventType
    text: str = strawberry.field(
        description="Indonesian. {opd}: the OPD's short name; {nomor}: the tracking number "
        "(in a private reply only; a public one says the number comes by direct message)."
    )
    updated_at: datetime
    updated_by: str

    @classmethod
    def from_row(cls, row: TemplateRow) -> "ReplyTemplate":
        return cls(
            event_type=ComplaintEventType(row.event_type),
            text=row.text,
            updated_at=wib(row.updated_at),
            updated_by=row.updated_by,
        )


@strawberry.type
class ReplyTemplatePayload:
    reply_template: ReplyTemplate | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
