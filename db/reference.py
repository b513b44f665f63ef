"""SQL for reference data: regions, OPDs and their social accounts, categories, SLA policies."""

from datetime import datetime
from typing import Any

import asyncpg

from kilas.db.pool import Connection

OPD_COLUMNS = "id, slug, short_name, name, kind, head_name, head_title, created_at, updated_at"
SOCIAL_COLUMNS = "id, opd_id, platform, handle, verified, created_at"
CATEGORY_COLUMNS = "code, name, name_en, default_opd_id"
REGION_COLUMNS = "code, name, type, seat, seat_lat, seat_lon"
POLICY_COLUMNS = "id, name, effective_from, response_hours, resolution_hours, created_at"


async def all_regions(conn: Connection) -> list[asyncpg.Record]:
    return list(await conn.fetch(f"SELECT {REGION_COLUMNS} FROM regions ORDER BY code"))


async def regions_by_codes(conn: Connection, codes: list[str]) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            f"SELECT {REGION_COLUMNS} FROM regions WHERE code = any($1::text[])", codes
        )
    )


async def all_categories(conn: Connection) -> list[asyncpg.Record]:
    return list(await conn.fetch(f"SELECT {CATEGORY_COLUMNS} FROM categories ORDER BY code"))


async def categories_by_codes(conn: Connection, codes: list[str]) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            f"SELECT {CATEGORY_COLUMNS} FROM categories WHERE code = any($1::text[])", codes
        )
    )


async def categories_by_opd_ids(conn: Connection, opd_ids: list[int]) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            f"""
            SELECT {CATEGORY_COLUMNS} FROM categories
            WHERE default_opd_id = any($1::bigint[]) ORDER BY code
            """,
            opd_ids,
        )
    )


async def all_opds(conn: Connection) -> list[asyncpg.Record]:
    return list(await conn.fetch(f"SELECT {OPD_COLUMNS} FROM opds ORDER BY short_name, id"))


async def opds_by_ids(conn: Connection, ids: list[int]) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(f"SELECT {OPD_COLUMNS} FROM opds WHERE id = any($1::bigint[])", ids)
    )


async def opd_by_slug(conn: Connection, slug: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {OPD_COLUMNS} FROM opds WHERE slug = $1", slug)


async def insert_opd(conn: Connection, fields: dict[str, Any]) -> asyncpg.Record | None:
    """None when the slug is taken."""
    return await conn.fetchrow(
        f"""
        INSERT INTO opds (slug, short_name, name, kind, head_name, head_title)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (slug) DO NOTHING
        RETURNING {OPD_COLUMNS}
        """,
        fields["slug"],
        fields["short_name"],
        fields["name"],
        fields["kind"],
        fields["head_name"],
        fields["head_title"],
    )


async def update_opd(
    conn: Connection, opd_id: int, fields: dict[str, Any]
) -> asyncpg.Record | None:
    """Fields left out (absent keys) keep their value; head fields may be set to NULL."""
    return await conn.fetchrow(
        f"""
        UPDATE opds SET
            short_name = coalesce($2, short_name),
            name = coalesce($3, name),
            kind = coalesce($4, kind),
            head_name = CASE WHEN $5 THEN $6 ELSE head_name END,
            head_title = CASE WHEN $7 THEN $8 ELSE head_title END,
            updated_at = now()
        WHERE id = $1
        RETURNING {OPD_COLUMNS}
        """,
        opd_id,
        fields.get("short_name"),
        fields.get("name"),
        fields.get("kind"),
        "head_name" in fields,
        fields.get("head_name"),
        "head_title" in fields,
        fields.get("head_title"),
    )


async def social_accounts_by_opd_ids(conn: Connection, opd_ids: list[int]) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            f"""
            SELECT {SOCIAL_COLUMNS} FROM opd_social_accounts
            WHERE opd_id = any($1::bigint[]) ORDER BY platform, handle
            """,
            opd_ids,
        )
    )


async def insert_social_account(
    conn: Connection, opd_id: int, platform: str, handle: str, verified: bool
) -> asyncpg.Record | None:
    """None when the platform already has this handle (for any OPD)."""
    return await conn.fetchrow(
        f"""
        INSERT INTO opd_social_accounts (opd_id, platform, handle, verified)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (platform, lower(handle)) DO NOTHING
        RETURNING {SOCIAL_COLUMNS}
        """,
        opd_id,
        platform,
        handle,
        verified,
    )


async def set_social_account_verified(
    conn: Connection, account_id: int, verified: bool
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"UPDATE opd_social_accounts SET verified = $2 WHERE id = $1 RETURNING {SOCIAL_COLUMNS}",
        account_id,
        verified,
    )


async def delete_social_account(conn: Connection, account_id: int) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"DELETE FROM opd_social_accounts WHERE id = $1 RETURNING {SOCIAL_COLUMNS}", account_id
    )


async def all_sla_policies(conn: Connection) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(f"SELECT {POLICY_COLUMNS} FROM sla_policies ORDER BY effective_from")
    )


async def sla_policies_by_ids(conn: Connection, ids: list[int]) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            f"SELECT {POLICY_COLUMNS} FROM sla_policies WHERE id = any($1::bigint[])", ids
        )
    )


async def sla_policy_in_force(conn: Connection, at: datetime | None) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"""
        SELECT {POLICY_COLUMNS} FROM sla_policies
        WHERE effective_from <= coalesce($1, now())
        ORDER BY effective_from DESC LIMIT 1
        """,
        at,
    )
    if row is None:
        raise LookupError("no SLA policy is in force at that time")
    return row


async def social_accounts_by_ids(conn: Connection, ids: list[int]) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            f"SELECT {SOCIAL_COLUMNS} FROM opd_social_accounts WHERE id = any($1::bigint[])", ids
        )
    )


async def category_hours_by_policy_ids(
    conn: Connection, policy_ids: list[int]
) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            """
            SELECT policy_id, category_code, resolution_hours FROM sla_policy_category_hours
            WHERE policy_id = any($1::bigint[]) ORDER BY policy_id, category_code
            """,
            policy_ids,
        )
    )


async def category_hours_now_by_codes(
    conn: Connection, codes: list[str], at: datetime | None
) -> list[asyncpg.Record]:
    """Each category's resolution hours under the policy in force at `at` (absent: default)."""
    return list(
        await conn.fetch(
            """
            SELECT h.category_code, h.resolution_hours
            FROM sla_policy_category_hours h
            WHERE h.category_code = any($1::text[])
              AND h.policy_id = (SELECT id FROM sla_policies
                                 WHERE effective_from <= coalesce($2, now())
                                 ORDER BY effective_from DESC LIMIT 1)
            """,
            codes,
            at,
        )
    )


async def latest_sla_policy(conn: Connection) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {POLICY_COLUMNS} FROM sla_policies ORDER BY effective_from DESC LIMIT 1"
    )


async def insert_sla_policy(
    conn: Connection,
    name: str,
    effective_from: datetime,
    response_hours: int,
    resolution_hours: int,
    category_hours: dict[str, int],
) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"""
        INSERT INTO sla_policies (name, effective_from, response_hours, resolution_hours)
        VALUES ($1, $2, $3, $4)
        RETURNING {POLICY_COLUMNS}
        """,
        name,
        effective_from,
        response_hours,
        resolution_hours,
    )
    assert row is not None
    await conn.executemany(
        """
        INSERT INTO sla_policy_category_hours (policy_id, category_code, resolution_hours)
        VALUES ($1, $2, $3)
        """,
        [(row["id"], code, hours) for code, hours in category_hours.items()],
    )
    return row
