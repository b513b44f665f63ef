"""SQL for API keys (migration 0007). Keys themselves are never stored: see `auth.api_keys`."""

from datetime import datetime

import asyncpg

from kilas.db.pool import Connection

_COLUMNS = """k.id, k.prefix, k.name, k.role, k.opd_id, o.slug AS opd_slug, k.region_code,
    k.created_at, k.expires_at, k.revoked_at, k.last_used_at"""


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
) -> asyncpg.Record:
    row = await conn.fetchrow(
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
    assert row is not None
    return row


async def key_by_prefix(conn: Connection, prefix: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""
        SELECT {_COLUMNS}, k.key_hash FROM api_keys k LEFT JOIN opds o ON o.id = k.opd_id
        WHERE k.prefix = $1
        """,
        prefix,
    )


async def list_keys(conn: Connection) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            f"SELECT {_COLUMNS} FROM api_keys k LEFT JOIN opds o ON o.id = k.opd_id ORDER BY k.id"
        )
    )


async def revoke_key(conn: Connection, key_id: int, at: datetime) -> asyncpg.Record | None:
    """The key, revoked at `at` unless it was revoked already (then unchanged); None if absent."""
    return await conn.fetchrow(
        f"""
        WITH k AS (
            UPDATE api_keys SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1 RETURNING *
        )
        SELECT {_COLUMNS} FROM k LEFT JOIN opds o ON o.id = k.opd_id
        """,
        key_id,
        at,
    )


async def touch_key(conn: Connection, key_id: int, at: datetime) -> None:
    await conn.execute("UPDATE api_keys SET last_used_at = $2 WHERE id = $1", key_id, at)
