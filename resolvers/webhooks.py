"""Outgoing webhooks over GraphQL: ADMIN registers an endpoint for any PARTNER key and sees them
all; a partner registers its own with its key and sees only its own (another key's endpoint
is NOT_FOUND to it, as if it did not exist)."""

import asyncpg
import strawberry

from kilas.auth.authenticator import key_refusal, key_standing
from kilas.auth.caller import Role
from kilas.db import api_keys as api_keys_db
from kilas.db import events as events_db
from kilas.db import webhooks as webhooks_db
from kilas.db.pool import Connection
from kilas.db.webhooks import EndpointRow, NewEndpoint
from kilas.domain.errors import DomainError, forbidden, invalid, not_found
from kilas.partners import signing
from kilas.partners.urls import UrlRefused, check_url
from kilas.resolvers.context import Context, Info
from kilas.resolvers.subscriptions import event_filter_of
from kilas.schema import inputs
from kilas.schema.errors import UserError
from kilas.schema.ids import decode_event_cursor, decode_id
from kilas.schema.node import required
from kilas.schema.webhooks import (
    CreateWebhookEndpointPayload,
    WebhookEndpoint,
    WebhookEndpointPayload,
)

MAX_PER_KEY = 10
MAX_DESCRIPTION = 500


def _own_key(ctx: Context) -> int | None:
    """The key whose endpoints the caller manages; None for ADMIN, who manages them all."""
    caller = ctx.caller
    if caller.role is Role.ADMIN:
        return None
    if caller.api_key_id is None:
        raise forbidden("a partner manages its webhooks with its API key")
    return caller.api_key_id


async def _endpoint(conn: Connection, ctx: Context, value: strawberry.ID) -> EndpointRow:
    endpoint_id = decode_id(value, "WebhookEndpoint", "endpointId")
    row = await webhooks_db.endpoint(conn, endpoint_id, lock=True)
    own = _own_key(ctx)
    if row is None or (own is not None and row.api_key_id != own):
        raise not_found("webhook endpoint", value, "endpointId")
    return row


async def _start(conn: Connection, after: str | None) -> int:
    """The cursor a stream starts after: `after`, or the log's end (events from now on)."""
    last = await events_db.last_event_id(conn)
    if after is None:
        return last
    cursor = decode_event_cursor(after)
    if cursor > last:
        raise invalid("after", f"{after!r} is ahead of the event log (last cursor: {last})")
    return cursor


@strawberry.field(
    description="Outgoing webhook endpoints, oldest first: every one for ADMIN, a partner's own "
    "for its key."
)
async def webhook_endpoints(info: Info) -> list[WebhookEndpoint]:
    own = _own_key(info.context)
    async with info.context.pool.acquire() as conn:
        rows = await webhooks_db.endpoints(conn, own)
    return [WebhookEndpoint.from_row(row) for row in rows]


@strawberry.input
class CreateWebhookEndpointInput:
    url: str = strawberry.field(
        description="Where events are POSTed: https:// and a public host in production."
    )
    description: str | None = None
    filter: inputs.ComplaintEventFilter | None = strawberry.field(
        default=None, description="As complaintEvents takes it; none: every event the key sees."
    )
    api_key_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The PARTNER key it delivers for (ADMIN names one; a partner's own key by "
        "default).",
    )
    after: str | None = strawberry.field(
        default=None,
        description='The event cursor to start after ("0": the whole log); by default, the '
        "events from now on.",
    )


@strawberry.mutation(
    description="Register an endpoint; the payload shows its signing secret once. ADMIN for "
    "any PARTNER key, a partner for its own (at most 10 per key)."
)
async def create_webhook_endpoint(
    info: Info, input: CreateWebhookEndpointInput
) -> CreateWebhookEndpointPayload:
    ctx = info.context
    try:
        own = _own_key(ctx)
        if own is None:
            if input.api_key_id is None:
                raise invalid("apiKeyId", "name the PARTNER key the endpoint delivers for")
            key_id = decode_id(input.api_key_id, "ApiKey", "apiKeyId")
        else:
            key_id = own
            if (
                input.api_key_id is not None
                and decode_id(input.api_key_id, "ApiKey", "apiKeyId") != own
            ):
                raise forbidden("a partner registers endpoints for its own key", "apiKeyId")
        url = check_url(input.url, production=ctx.settings.production)
        description = input.description.strip() if input.description else None
        if description is not None and len(description) > MAX_DESCRIPTION:
            raise invalid("description", f"at most {MAX_DESCRIPTION} characters")
        chosen = event_filter_of(input.filter)
        async with ctx.pool.acquire() as conn, conn.transaction():
            key = await api_keys_db.key_by_id(conn, key_id)
            if key is None:
                raise not_found("API key", input.api_key_id, "apiKeyId")
            if key.role != Role.PARTNER.value:
                raise invalid(
                    "apiKeyId", f"webhooks deliver for PARTNER keys; this one is {key.role}"
                )
            refusal = key_refusal(key, ctx.clock.now())
            if refusal is not None:
                raise invalid("apiKeyId", refusal)
            if len(await webhooks_db.endpoints(conn, key_id)) >= MAX_PER_KEY:
                raise invalid("apiKeyId", f"a key has at most {MAX_PER_KEY} endpoints")
            secret = signing.new_secret()
            try:
                async with conn.transaction():
                    row = await webhooks_db.insert_endpoint(
                        conn,
                        NewEndpoint(
                            api_key_id=key_id,
                            url=url,
                            description=description,
                            secret=secret,
                            filter_complaint_id=chosen.complaint_id,
                            filter_opd_id=chosen.opd_id,
                            filter_region_code=chosen.region_code,
                            filter_status=chosen.status,
                            cursor=await _start(conn, input.after),
                            created_by=ctx.actor,
                        ),
                        ctx.clock.now(),
                    )
            except asyncpg.ForeignKeyViolationError:
                raise invalid(
                    "filter", "the filter names a complaint, OPD or region that does not exist"
                ) from None
    except UrlRefused as refused:
        return CreateWebhookEndpointPayload(
            errors=[UserError.from_domain(invalid("url", str(refused)))]
        )
    except DomainError as error:
        return CreateWebhookEndpointPayload(errors=[UserError.from_domain(error)])
    return CreateWebhookEndpointPayload(secret=secret, endpoint=WebhookEndpoint.from_row(row))


@strawberry.mutation(
    description="Enable an endpoint again, its failures forgotten: it receives the events after "
    "`after` (any cursor: a replay), or after its own cursor, from now on."
)
async def enable_webhook_endpoint(
    info: Info, endpoint_id: strawberry.ID, after: str | None = None
) -> WebhookEndpointPayload:
    ctx = info.context
    try:
        async with ctx.pool.acquire() as conn, conn.transaction():
            row = await _endpoint(conn, ctx, endpoint_id)
            key = await api_keys_db.key_by_id(conn, row.api_key_id)
            refusal = key_standing(key, ctx.clock.now())
            if refusal is not None:
                raise invalid("endpointId", f"{refusal}: its endpoints stay disabled")
            cursor = await _start(conn, after) if after is not None else None
            row = await webhooks_db.enable(conn, row.id, cursor, ctx.clock.now())
    except DomainError as error:
        return WebhookEndpointPayload(errors=[UserError.from_domain(error)])
    return WebhookEndpointPayload(endpoint=WebhookEndpoint.from_row(row))


@strawberry.mutation(description="Stop an endpoint's deliveries; its cursor is kept.")
async def disable_webhook_endpoint(
    info: Info, endpoint_id: strawberry.ID
) -> WebhookEndpointPayload:
    ctx = info.context
    try:
        async with ctx.pool.acquire() as conn, conn.transaction():
            row = await _endpoint(conn, ctx, endpoint_id)
            if row.state != "DISABLED":
                disabled = await webhooks_db.disable(
                    conn, row.id, f"disabled by {ctx.actor}", ctx.clock.now()
                )
                # Locked by _endpoint: it is there.
                row = required(disabled, "the locked webhook endpoint")
    except DomainError as error:
        return WebhookEndpointPayload(errors=[UserError.from_domain(error)])
    return WebhookEndpointPayload(endpoint=WebhookEndpoint.from_row(row))


@strawberry.mutation(description="Remove an endpoint and its delivery log.")
async def delete_webhook_endpoint(info: Info, endpoint_id: strawberry.ID) -> WebhookEndpointPayload:
    ctx = info.context
    try:
        async with ctx.pool.acquire() as conn, conn.transaction():
            row = await _endpoint(conn, ctx, endpoint_id)
            await webhooks_db.delete(conn, row.id)
    except DomainError as error:
        return WebhookEndpointPayload(errors=[UserError.from_domain(error)])
    return WebhookEndpointPayload(endpoint=WebhookEndpoint.from_row(row))


QUERIES = [webhook_endpoints]
MUTATIONS = [
    create_webhook_endpoint,
    enable_webhook_endpoint,
    disable_webhook_endpoint,
    delete_webhook_endpoint,
]
