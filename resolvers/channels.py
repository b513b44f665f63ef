"""The channel inbox for operators: the deliveries (the dead ones above all), and replaying a
dead one once its cause is fixed (an account registered, a default region set, a bug fixed)."""

import strawberry

from kilas.db import inbox
from kilas.db import replies as replies_db
from kilas.domain.errors import DomainError, ErrorCode, invalid
from kilas.domain.replies import checked_template
from kilas.resolvers.context import Info
from kilas.resolvers.queries import page_size
from kilas.schema.channels import ChannelDelivery, ChannelDeliveryPayload, DeliveryState
from kilas.schema.enums import ComplaintEventType
from kilas.schema.errors import UserError
from kilas.schema.ids import decode_id
from kilas.schema.replies import ReplyTemplate, ReplyTemplatePayload


@strawberry.field(
    description="The channel inbox's deliveries, newest first, all or in one `state` (DEAD: the "
    "dead-letter list). Page with `after`, the last delivery's id."
)
async def channel_deliveries(
    info: Info,
    state: DeliveryState | None = None,
    first: int = 50,
    after: strawberry.ID | None = None,
) -> list[ChannelDelivery]:
    limit = page_size(info, first)
    after_id = decode_id(after, "ChannelDelivery", "after") if after is not None else None
    async with info.context.pool.acquire() as conn:
        rows = await inbox.deliveries(
            conn, state=state.value if state else None, after_id=after_id, limit=limit
        )
    return [ChannelDelivery.from_row(row) for row in rows]


@strawberry.mutation(
    description="Take a DEAD delivery again, with fresh attempts: it is processed within a "
    "second or two. A message it holds that was taken in before is not taken in twice."
)
async def replay_channel_delivery(info: Info, delivery_id: strawberry.ID) -> ChannelDeliveryPayload:
    try:
        key = decode_id(delivery_id, "ChannelDelivery", "deliveryId")
        async with info.context.pool.acquire() as conn, conn.transaction():
            row = await inbox.replay(conn, key, info.context.clock.now())
            if row is None:
                existing = await inbox.delivery_by_id(conn, key)
                if existing is None:
                    raise DomainError(
                        ErrorCode.NOT_FOUND, f"no channel delivery {delivery_id}", "deliveryId"
                    )
                raise invalid(
                    "deliveryId", f"only a DEAD delivery is replayed; this one is {existing.state}"
                )
    except DomainError as error:
        return ChannelDeliveryPayload(errors=[UserError.from_domain(error)])
    return ChannelDeliveryPayload(channel_delivery=ChannelDelivery.from_row(row))


@strawberry.field(description="The replies' templates, one per event the citizen is answered on.")
async def reply_templates(info: Info) -> list[ReplyTemplate]:
    async with info.context.pool.acquire() as conn:
        return [ReplyTemplate.from_row(row) for row in await replies_db.templates(conn)]


@strawberry.mutation(
    description="Change the reply sent after one event; replies already written keep their text."
)
async def set_reply_template(
    info: Info, event_type: ComplaintEventType, text: str
) -> ReplyTemplatePayload:
    try:
        checked = checked_template(event_type.value, text)
        async with info.context.pool.acquire() as conn:
            row = await replies_db.set_template(
                conn, event_type.value, checked, info.context.clock.now(), info.context.actor
            )
    except DomainError as error:
        return ReplyTemplatePayload(errors=[UserError.from_domain(error)])
    return ReplyTemplatePayload(reply_template=ReplyTemplate.from_row(row))


QUERIES = [channel_deliveries, reply_templates]
MUTATIONS = [replay_channel_delivery, set_reply_template]
