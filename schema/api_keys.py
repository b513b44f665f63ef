"""API keys as ADMIN sees them: never the key itself, which is shown once, at creation."""

from datetime import datetime

import strawberry

from kilas.auth.caller import Role
from kilas.db.api_keys import ApiKeyRow
from kilas.schema.errors import UserError
from kilas.schema.ids import to_global_id, wib

strawberry.enum(
    Role,
    name="Role",
    description="What a caller may do (README, Access control). PUBLIC is a caller without a "
    "credential; an API key has any other role.",
)


@strawberry.type(description="An API key of a partner app (the key itself is never shown again).")
class ApiKey:
    id: strawberry.ID
    prefix: str = strawberry.field(description="The key's first characters after kls_, to tell it.")
    name: str
    role: Role
    opd_slug: str | None = strawberry.field(description="The OPD it is limited to, if any.")
    region_code: str | None = strawberry.field(description="The region it is limited to, if any.")
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None = strawberry.field(description="To the minute.")

    @classmethod
    def from_row(cls, row: ApiKeyRow) -> "ApiKey":
        return cls(
            id=strawberry.ID(to_global_id("ApiKey", row.id)),
            prefix=row.prefix,
            name=row.name,
            role=Role(row.role),
            opd_slug=row.opd_slug,
            region_code=row.region_code,
            created_at=wib(row.created_at),
            expires_at=wib(row.expires_at),
            revoked_at=wib(row.revoked_at),
            last_used_at=wib(row.last_used_at),
        )


@strawberry.type
class CreateApiKeyPayload:
    key: str | None = strawberry.field(
        default=None,
        description="The key, to send as `Authorization: Bearer <key>`. Shown this once: Kilas "
        "keeps only its hash.",
    )
    api_key: ApiKey | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ApiKeyPayload:
    api_key: ApiKey | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
