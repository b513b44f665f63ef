"""ADMIN's API for partner keys: the same rules as `kilas apikey` (auth.key_admin)."""

from datetime import datetime

import strawberry

from kilas.auth.caller import Role
from kilas.auth.key_admin import create_key, revoke_key
from kilas.db import api_keys as api_keys_db
from kilas.domain.errors import DomainError
from kilas.resolvers.context import Info
from kilas.schema.api_keys import ApiKey, ApiKeyPayload, CreateApiKeyPayload
from kilas.schema.errors import UserError
from kilas.schema.ids import decode_id, utc_moment


@strawberry.field(description="Every API key, oldest first. ADMIN only.")
async def api_keys(info: Info) -> list[ApiKey]:
    async with info.context.pool.acquire() as conn:
        return [ApiKey.from_row(row) for row in await api_keys_db.list_keys(conn)]


@strawberry.input
class CreateApiKeyInput:
    name: str = strawberry.field(description="Who holds it, e.g. 'SP4N-LAPOR! bridge'.")
    role: Role = strawberry.field(description="Any role but PUBLIC.")
    opd_slug: str | None = strawberry.field(
        default=None, description="The OPD of an OPD_OFFICER key, or a partner key's scope."
    )
    region_code: str | None = strawberry.field(
        default=None, description="A partner key's region, e.g. 33.74."
    )
    expires_at: datetime | None = None


@strawberry.mutation(description="Create an API key; the payload shows the key once. ADMIN only.")
async def create_api_key(info: Info, input: CreateApiKeyInput) -> CreateApiKeyPayload:
    try:
        expires_at = utc_moment(input.expires_at, "expiresAt") if input.expires_at else None
        async with info.context.pool.acquire() as conn, conn.transaction():
            key, row = await create_key(
                conn,
                name=input.name,
                role=input.role,
                opd_slug=input.opd_slug,
                region_code=input.region_code,
                expires_at=expires_at,
                now=info.context.clock.now(),
            )
    except DomainError as error:
        return CreateApiKeyPayload(errors=[UserError.from_domain(error)])
    return CreateApiKeyPayload(key=key, api_key=ApiKey.from_row(row))


@strawberry.mutation(
    description="Revoke an API key: refused on every instance within 5 seconds, its open "
    "subscriptions included. Revoking twice changes nothing. ADMIN only."
)
async def revoke_api_key(info: Info, api_key_id: strawberry.ID) -> ApiKeyPayload:
    try:
        key_id = decode_id(api_key_id, "ApiKey", "apiKeyId")
        async with info.context.pool.acquire() as conn, conn.transaction():
            row, _ = await revoke_key(conn, str(key_id), info.context.clock.now())
    except DomainError as error:
        return ApiKeyPayload(errors=[UserError.from_domain(error)])
    return ApiKeyPayload(api_key=ApiKey.from_row(row))


QUERIES = [api_keys]
MUTATIONS = [create_api_key, revoke_api_key]
