"""The channel inbox as operators see it: each platform delivery, its state and what processing
made of it. Never the body itself, which holds citizens' numbers and names; the complaints it
made carry those under the personal-data rules."""

from datetime import datetime
from enum import Enum

import strawberry

from kilas.db.inbox import DeliveryRow
from kilas.schema.errors import UserError
from kilas.schema.ids import to_global_id, wib


@strawberry.enum(
    description="Where a channel delivery is in the inbox: PENDING waits for (another) "
    "attempt, DONE was processed into complaints, DEAD failed every attempt (replay it once the "
    "cause is fixed)."
)
class DeliveryState(Enum):
    PENDING = "PENDING"
    DONE = "DONE"
    DEAD = "DEAD"


@strawberry.type(description="One verified webhook delivery, stored raw before it was answered.")
class ChannelDelivery:
    id: strawberry.ID
    platform: str = strawberry.field(
        description="The receiver: WHATSAPP, INSTAGRAM, FACEBOOK, X, or INTAKE (the generic one)."
    )
    state: DeliveryState
    body_bytes: int = strawberry.field(description="The raw body's size.")
    received_at: datetime
    attempts: int
    next_attempt_at: datetime | None = strawberry.field(description="For a PENDING delivery.")
    last_error: str | None = strawberry.field(description="Why the last attempt failed.")
    processed_at: datetime | None
    created: int = strawberry.field(description="Complaints it made.")
    known: int = strawberry.field(
        description="Messages already taken in (a platform's retry, a tweet seen through another "
        "account)."
    )
    ignored: int = strawberry.field(
        description="Status callbacks, edits, the accounts' own posts and other events."
    )

    @classmethod
    def from_row(cls, row: DeliveryRow) -> "ChannelDelivery":
        return cls(
            id=strawberry.ID(to_global_id("ChannelDelivery", row.id)),
            platform=row.platform,
            state=DeliveryState(row.state),
            body_bytes=len(row.body),
            received_at=wib(row.received_at),
            attempts=row.attempts,
            next_attempt_at=wib(row.next_attempt_at) if row.state == "PENDING" else None,
            last_error=row.last_error,
            processed_at=wib(row.processed_at),
            created=row.created,
            known=row.known,
            ignored=row.ignored,
        )


@strawberry.type
class ChannelDeliveryPayload:
    channel_delivery: ChannelDelivery | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
