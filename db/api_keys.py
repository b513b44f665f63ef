"""SQL for API keys (migration 0007). Keys themselves are never stored: see `auth.api_keys`."""

from dataclasses import dataclass, field
from datetime import datetime

from kilas.db.pool import Connection
from kilas.db.rows import Row

_COLUMNS = """k.id, k.prefix, k.name, k.role, k.opd_id, o.slug AS opd_slug, k.region_code,
    k.created_at, k.expires_at, k.revoked_at, k.last_used_at"""


@dataclass(frozen=True, slots=True)
class ApiKeyRow(Row):
    id: int
    prefix: str
    name: str
    role: str
    opd_id: int | None
    opd_slug: str | None
    region_code: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class StoredApiKeyRow(ApiKeyRow):
    """A key's row with the hash it is checked against, for authentication only."""

    key_hash: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class KeyStandingRow(Row):
    """What decides whether a key may still be used."""

    id: int
    revoked_at: datetime | None
    expires_at: datetime | None


async def insert_key(
    conn: Connection,
    *,
    prefix: str,
    key_hash: bytes,
    name: str,
    role: str,
    opd_id: int | None,
    region_code: str | None,
    expires_at: datetime | None,
) -> ApiKeyRow:
    record = await conn.fetchrow(
        f"""
        WITH k AS (
            INSERT INTO api_keys (prefix, key_hash, name, role, opd_id, region_code, expires_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            RETURNING *
        )
        SELECT {_COLUMNS} FROM k LEFT JOIN opds o ON o.id = k.opd_id
        """,
        prefix,
        key_hash,
        name,
        role,
        opd_id,
        region_code,
        expires_at,
    )
    assert record is not None
    return ApiKeyRow.from_record(record)


async def key_by_prefix(conn: Connection, prefix: str) -> StoredApiKeyRow | None:
    record = await conn.fetchrow(
        f"""
        SELECT {_COLUMNS}, k.key_hash FROM api_keys k LEFT JOIN opds o ON o.id = k.opd_id
        WHERE k.prefix = $1
        """,
        prefix,
    )
    return StoredApiKeyRow.from_optional(record)


async def list_keys(conn: Connection) -> list[ApiKeyRow]:
    return ApiKeyRow.from_records(
        await conn.fetch(
            f"SELECT {_COLUMNS} FROM api_keys k LEFT JOIN opds o ON o.id = k.opd_id ORDER BY k.id"
        )
    )


async def revoke_key(conn: Connection, key_id: int, at: datetime) -> ApiKeyRow | None:
    """The key, revoked at `at` unless it was revoked already (then unchanged); None if absent."""
    record = await conn.fetchrow(
        f"""
        WITH k AS (
            UPDATE api_keys SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1 RETURNING *
        )
        SELECT {_COLUMNS} FROM k LEFT JOIN opds o ON o.id = k.opd_id
        """,
        key_id,
        at,
    )
    return ApiKeyRow.from_optional(record)


async def touch_key(conn: Connection, key_id: int, at: datetime) -> None:
    await conn.execute("UPDATE api_keys SET last_used_at = $2 WHERE id = $1", key_id, at)


async def key_standings(conn: Connection, key_ids: list[int]) -> list[KeyStandingRow]:
    return KeyStandingRow.from_records(
        await conn.fetch(
            "SELECT id, revoked_at, expires_at FROM api_keys WHERE id = ANY($1::bigint[])",
            key_ids,
        )
    )


async def key_by_id(conn: Connection, key_id: int) -> ApiKeyRow | None:
    return ApiKeyRow.from_optional(
        await conn.fetchrow(
            f"SELECT {_COLUMNS} FROM api_keys k LEFT JOIN opds o ON o.id = k.opd_id "
            "WHERE k.id = $1",
            key_id,
        )
    )
