"""SQL for reference data: regions, OPDs and their social accounts, categories, SLA policies."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kilas.db.pool import Connection
from kilas.db.rows import Row

OPD_COLUMNS = "id, slug, short_name, name, kind, head_name, head_title, created_at, updated_at"
SOCIAL_COLUMNS = "id, opd_id, platform, handle, verified, external_id, created_at"
CATEGORY_COLUMNS = "code, name, name_en, default_opd_id"
REGION_COLUMNS = "code, name, type, seat, seat_lat, seat_lon, bps_code"
POLICY_COLUMNS = "id, name, effective_from, response_hours, resolution_hours, created_at"


@dataclass(frozen=True, slots=True)
class RegionRow(Row):
    code: str
    name: str
    type: str
    seat: str
    seat_lat: float
    seat_lon: float
    bps_code: str | None = None


@dataclass(frozen=True, slots=True)
class OpdRow(Row):
    id: int
    slug: str
    short_name: str
    name: str
    kind: str
    head_name: str | None
    head_title: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class SocialAccountRow(Row):
    id: int
    opd_id: int
    platform: str
    handle: str
    verified: bool
    external_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CategoryRow(Row):
    code: str
    name: str
    name_en: str
    default_opd_id: int


@dataclass(frozen=True, slots=True)
class SlaPolicyRow(Row):
    id: int
    name: str
    effective_from: datetime
    response_hours: int
    resolution_hours: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PolicyCategoryHoursRow(Row):
    """A category's own resolution deadline within one policy version."""

    policy_id: int
    category_code: str
    resolution_hours: int


@dataclass(frozen=True, slots=True)
class CategoryHoursRow(Row):
    """A category's resolution deadline under the policy in force at some moment."""

    category_code: str
    resolution_hours: int


async def all_regions(conn: Connection) -> list[RegionRow]:
    return RegionRow.from_records(
        await conn.fetch(f"SELECT {REGION_COLUMNS} FROM regions ORDER BY code")
    )


async def regions_by_codes(conn: Connection, codes: list[str]) -> list[RegionRow]:
    return RegionRow.from_records(
        await conn.fetch(
            f"SELECT {REGION_COLUMNS} FROM regions WHERE code = any($1::text[])", codes
        )
    )


async def all_categories(conn: Connection) -> list[CategoryRow]:
    return CategoryRow.from_records(
        await conn.fetch(f"SELECT {CATEGORY_COLUMNS} FROM categories ORDER BY code")
    )


async def categories_by_codes(conn: Connection, codes: list[str]) -> list[CategoryRow]:
    return CategoryRow.from_records(
        await conn.fetch(
            f"SELECT {CATEGORY_COLUMNS} FROM categories WHERE code = any($1::text[])", codes
        )
    )


async def categories_by_opd_ids(conn: Connection, opd_ids: list[int]) -> list[CategoryRow]:
    return CategoryRow.from_records(
        await conn.fetch(
            f"""
            SELECT {CATEGORY_COLUMNS} FROM categories
            WHERE default_opd_id = any($1::bigint[]) ORDER BY code
            """,
            opd_ids,
        )
    )


async def all_opds(conn: Connection) -> list[OpdRow]:
    return OpdRow.from_records(
        await conn.fetch(f"SELECT {OPD_COLUMNS} FROM opds ORDER BY short_name, id")
    )


async def opds_by_ids(conn: Connection, ids: list[int]) -> list[OpdRow]:
    return OpdRow.from_records(
        await conn.fetch(f"SELECT {OPD_COLUMNS} FROM opds WHERE id = any($1::bigint[])", ids)
    )


async def opd_by_slug(conn: Connection, slug: str) -> OpdRow | None:
    record = await conn.fetchrow(f"SELECT {OPD_COLUMNS} FROM opds WHERE slug = $1", slug)
    return OpdRow.from_optional(record)


async def insert_opd(conn: Connection, fields: dict[str, Any]) -> OpdRow | None:
    """None when the slug is taken."""
    record = await conn.fetchrow(
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
    return OpdRow.from_optional(record)


async def update_opd(conn: Connection, opd_id: int, fields: dict[str, Any]) -> OpdRow | None:
    """Fields left out (absent keys) keep their value; head fields may be set to NULL."""
    record = await conn.fetchrow(
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
    return OpdRow.from_optional(record)


async def social_accounts_by_opd_ids(
    conn: Connection, opd_ids: list[int]
) -> list[SocialAccountRow]:
    return SocialAccountRow.from_records(
        await conn.fetch(
            f"""
            SELECT {SOCIAL_COLUMNS} FROM opd_social_accounts
            WHERE opd_id = any($1::bigint[]) ORDER BY platform, handle
            """,
            opd_ids,
        )
    )


async def insert_social_account(
    conn: Connection,
    opd_id: int,
    platform: str,
    handle: str,
    verified: bool,
    external_id: str | None = None,
) -> SocialAccountRow | None:
    """None when the platform already has this handle or this id (for any OPD)."""
    record = await conn.fetchrow(
        f"""
        INSERT INTO opd_social_accounts (opd_id, platform, handle, verified, external_id)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT DO NOTHING
        RETURNING {SOCIAL_COLUMNS}
        """,
        opd_id,
        platform,
        handle,
        verified,
        external_id,
    )
    return SocialAccountRow.from_optional(record)


async def set_social_account_verified(
    conn: Connection, account_id: int, verified: bool
) -> SocialAccountRow | None:
    record = await conn.fetchrow(
        f"UPDATE opd_social_accounts SET verified = $2 WHERE id = $1 RETURNING {SOCIAL_COLUMNS}",
        account_id,
        verified,
    )
    return SocialAccountRow.from_optional(record)


async def delete_social_account(conn: Connection, account_id: int) -> SocialAccountRow | None:
    record = await conn.fetchrow(
        f"DELETE FROM opd_social_accounts WHERE id = $1 RETURNING {SOCIAL_COLUMNS}", account_id
    )
    return SocialAccountRow.from_optional(record)


async def all_sla_policies(conn: Connection) -> list[SlaPolicyRow]:
    return SlaPolicyRow.from_records(
        await conn.fetch(f"SELECT {POLICY_COLUMNS} FROM sla_policies ORDER BY effective_from")
    )


async def sla_policies_by_ids(conn: Connection, ids: list[int]) -> list[SlaPolicyRow]:
    return SlaPolicyRow.from_records(
        await conn.fetch(
            f"SELECT {POLICY_COLUMNS} FROM sla_policies WHERE id = any($1::bigint[])", ids
        )
    )


async def sla_policy_in_force(conn: Connection, at: datetime | None) -> SlaPolicyRow:
    record = await conn.fetchrow(
        f"""
        SELECT {POLICY_COLUMNS} FROM sla_policies
        WHERE effective_from <= coalesce($1, now())
        ORDER BY effective_from DESC LIMIT 1
        """,
        at,
    )
    if record is None:
        raise LookupError("no SLA policy is in force at that time")
    return SlaPolicyRow.from_record(record)


async def social_accounts_by_ids(conn: Connection, ids: list[int]) -> list[SocialAccountRow]:
    return SocialAccountRow.from_records(
        await conn.fetch(
            f"SELECT {SOCIAL_COLUMNS} FROM opd_social_accounts WHERE id = any($1::bigint[])", ids
        )
    )


async def category_hours_by_policy_ids(
    conn: Connection, policy_ids: list[int]
) -> list[PolicyCategoryHoursRow]:
    return PolicyCategoryHoursRow.from_records(
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
) -> list[CategoryHoursRow]:
    """Each category's resolution hours under the policy in force at `at` (absent: default)."""
    return CategoryHoursRow.from_records(
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


async def latest_sla_policy(conn: Connection) -> SlaPolicyRow | None:
    record = await conn.fetchrow(
        f"SELECT {POLICY_COLUMNS} FROM sla_policies ORDER BY effective_from DESC LIMIT 1"
    )
    return SlaPolicyRow.from_optional(record)


async def insert_sla_policy(
    conn: Connection,
    name: str,
    effective_from: datetime,
    response_hours: int,
    resolution_hours: int,
    category_hours: dict[str, int],
) -> SlaPolicyRow:
    record = await conn.fetchrow(
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
    assert record is not None
    policy = SlaPolicyRow.from_record(record)
    await conn.executemany(
        """
        INSERT INTO sla_policy_category_hours (policy_id, category_code, resolution_hours)
        VALUES ($1, $2, $3)
        """,
        [(policy.id, code, hours) for code, hours in category_hours.items()],
    )
    return policy


async def tracking_prefix(conn: Connection) -> str:
    """What tracking numbers start with, by the province pack; a database no pack was applied
    to yet is Central Java's (its migrations carried it)."""
    prefix: str | None = await conn.fetchval("SELECT tracking_prefix FROM province")
    return prefix or "JTG"
