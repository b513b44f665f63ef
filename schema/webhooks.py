"""Outgoing webhooks as their partner and ADMIN see them: the endpoint, where its stream stands,
why it fails or was disabled, and the log of the requests sent. Never the secret, shown once
at creation."""

from datetime import datetime
from enum import Enum

import strawberry

from kilas.db.webhooks import DeliveryRow, EndpointRow
from kilas.resolvers.context import Info
from kilas.schema.enums import ComplaintStatus
from kilas.schema.errors import UserError
from kilas.schema.ids import to_global_id, wib

MAX_DELIVERIES = 100


@strawberry.enum(
    description="ACTIVE endpoints receive their events; a DISABLED one (by its partner or "
    "ADMIN, by its key's revocation, or after failing for KILAS_WEBHOOK_DISABLE_AFTER_DAYS) "
    "waits, its cursor kept, until it is enabled again."
)
class WebhookEndpointState(Enum):
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"


@strawberry.type(description="The complaintEvents filter an endpoint's events match.")
class WebhookFilter:
    complaint_id: strawberry.ID | None
    opd_id: strawberry.ID | None
    region_code: str | None
    status: ComplaintStatus | None


@strawberry.type(description="One request sent to an endpoint.")
class WebhookDelivery:
    event_cursor: str = strawberry.field(description="The event's cursor.")
    message_id: str = strawberry.field(
        description="The `webhook-id` header: the same for every attempt at one event."
    )
    attempt: int
    attempted_at: datetime
    status_code: int | None = strawberry.field(description="Null when nothing answered.")
    error: str | None
    latency_ms: float
    succeeded: bool

    @classmethod
    def from_row(cls, row: DeliveryRow) -> "WebhookDelivery":
        return cls(
            event_cursor=str(row.event_id),
            message_id=row.message_id,
            attempt=row.attempt,
            attempted_at=wib(row.attempted_at),
            status_code=row.status_code,
            error=row.error,
            latency_ms=round(row.latency_ms, 3),
            succeeded=row.succeeded,
        )


@strawberry.type(
    description="A partner's endpoint: every event its API key may see and its filter matches, "
    "POSTed in cursor order, at least once, signed as Standard Webhooks says."
)
class WebhookEndpoint:
    id: strawberry.ID
    api_key_id: strawberry.ID = strawberry.field(description="The PARTNER key it delivers for.")
    url: str
    description: str | None
    filter: WebhookFilter
    cursor: str = strawberry.field(
        description="The last event delivered (or passed over): the stream resumes after it."
    )
    state: WebhookEndpointState
    disabled_reason: str | None
    disabled_at: datetime | None
    failing_since: datetime | None = strawberry.field(
        description="When the current run of failed attempts began (null: not failing)."
    )
    failed_attempts: int
    last_error: str | None
    next_attempt_at: datetime
    created_at: datetime
    db_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: EndpointRow) -> "WebhookEndpoint":
        return cls(
            id=strawberry.ID(to_global_id("WebhookEndpoint", row.id)),
            api_key_id=strawberry.ID(to_global_id("ApiKey", row.api_key_id)),
            url=row.url,
            description=row.description,
            filter=WebhookFilter(
                complaint_id=strawberry.ID(to_global_id("Complaint", row.filter_complaint_id))
                if row.filter_complaint_id is not None
                else None,
                opd_id=strawberry.ID(to_global_id("Opd", row.filter_opd_id))
                if row.filter_opd_id is not None
                else None,
                region_code=row.filter_region_code,
                status=ComplaintStatus(row.filter_status) if row.filter_status else None,
            ),
            cursor=str(row.cursor),
            state=WebhookEndpointState(row.state),
            disabled_reason=row.disabled_reason,
            disabled_at=wib(row.disabled_at),
            failing_since=wib(row.failing_since),
            failed_attempts=row.failed_attempts,
            last_error=row.last_error,
            next_attempt_at=wib(row.next_attempt_at),
            created_at=wib(row.created_at),
            db_id=row.id,
        )

    @strawberry.field(description=f"The latest requests, newest first (at most {MAX_DELIVERIES}).")
    async def deliveries(self, info: Info, first: int = 20) -> list[WebhookDelivery]:
        from kilas.db import webhooks as webhooks_db
        from kilas.domain.errors import invalid

        if not 1 <= first <= MAX_DELIVERIES:
            raise invalid("first", f"first is 1 to {MAX_DELIVERIES}")
        async with info.context.pool.acquire() as conn:
            rows = await webhooks_db.deliveries(conn, [self.db_id], first)
        return [WebhookDelivery.from_row(row) for row in rows]


@strawberry.type
class CreateWebhookEndpointPayload:
    secret: str | None = strawberry.field(
        default=None,
        description="The signing secret (whsec_…), for the partner's Standard Webhooks "
        "verifier. Shown this once.",
    )
    endpoint: WebhookEndpoint | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class WebhookEndpointPayload:
    endpoint: WebhookEndpoint | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
