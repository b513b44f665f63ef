"""Creating and revoking API keys: one set of rules for `kilas apikey` and the ADMIN mutations."""

from datetime import datetime

from kilas.auth import api_keys
from kilas.auth.caller import Role
from kilas.db import api_keys as api_keys_db
from kilas.db.api_keys import ApiKeyRow
from kilas.db.pool import Connection
from kilas.domain.errors import invalid, not_found

KEY_ROLES = frozenset(r for r in Role if r is not Role.PUBLIC)


async def create_key(
    conn: Connection,
    *,
    name: str,
    role: Role,
    opd_slug: str | None,
    region_code: str | None,
    expires_at: datetime | None,
    now: datetime,
) -> tuple[str, ApiKeyRow]:
    """A new key and its row; the key is returned this once and stored only as a hash."""
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise invalid("name", "name must be 1 to 200 characters")
    if role not in KEY_ROLES:
        raise invalid("role", "a key cannot have the PUBLIC role: a caller without one is public")
    opd_id = None
    if opd_slug is not None:
        opd_id = await conn.fetchval("SELECT id FROM opds WHERE slug = $1", opd_slug.lower())
        if opd_id is None:
            raise invalid("opd", f"no OPD has the slug {opd_slug!r}")
    if role is Role.OPD_OFFICER and opd_id is None:
        raise invalid("opd", "an OPD_OFFICER key needs its OPD (the slug)")
    if region_code is not None and not await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM regions WHERE code = $1)", region_code
    ):
        raise invalid("regionCode", f"no region has the code {region_code!r} (e.g. 33.74)")
    if expires_at is not None and expires_at <= now:
        raise invalid("expiresAt", "expiresAt must be in the future")
    key, prefix = api_keys.new_key()
    row = await api_keys_db.insert_key(
        conn,
        prefix=prefix,
        key_hash=api_keys.key_hash(key),
        name=name,
        role=role.value,
        opd_id=opd_id,
        region_code=region_code,
        expires_at=expires_at,
    )
    return key, row


async def revoke_key(conn: Connection, key: str, now: datetime) -> tuple[ApiKeyRow, bool]:
    """(the key's row, whether it was active until now); by id or by prefix."""
    key_id = None
    if key.isdigit() and len(key) < 19:
        key_id = await conn.fetchval("SELECT id FROM api_keys WHERE id = $1", int(key))
    if key_id is None:
        # A prefix is hex: one in forty is all digits, and is a prefix still.
        key_id = await conn.fetchval("SELECT id FROM api_keys WHERE prefix = $1", key)
    before = (
        await conn.fetchval("SELECT revoked_at FROM api_keys WHERE id = $1", key_id)
        if key_id is not None
        else None
    )
    row = await api_keys_db.revoke_key(conn, key_id, now) if key_id is not None else None
    if row is None:
        raise not_found("API key", repr(key), "key")
    return row, before is None
