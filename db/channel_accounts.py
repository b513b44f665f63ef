"""SQL for the accounts a channel message can be addressed to: the OPDs' official accounts
(opd_social_accounts) and the province's own (province_accounts, migration 0011)."""

from dataclasses import dataclass
from datetime import datetime

from kilas.db.pool import Connection
from kilas.db.rows import Row


@dataclass(frozen=True, slots=True)
class KnownAccountRow(Row):
    # "OPD" or "PROVINCE".
    owner: str
    opd_id: int | None
    # The OPD's slug, or the province account's owner ("Gubernur Jawa Tengah").
    owner_name: str
    platform: str
    handle: str
    external_id: str | None
    verified: bool


async def known_accounts(
    conn: Connection,
    platforms: list[str],
    account_ids: list[str],
    handles: list[str],
    at: datetime,
) -> list[KnownAccountRow]:
    """The accounts on `platforms` whose platform id is one of `account_ids` or whose handle is
    one of `handles` (compared without case and without a leading @): the OPDs', the accounts
    of the heads in office at `at` (which speak for their OPD), and the province's."""
    lowered = [handle.lstrip("@").lower() for handle in handles]
    return KnownAccountRow.from_records(
        await conn.fetch(
            """
            SELECT 'OPD' AS owner, a.opd_id, o.slug AS owner_name, a.platform, a.handle,
                a.external_id, a.verified
            FROM opd_social_accounts a JOIN opds o ON o.id = a.opd_id
            WHERE a.platform = ANY($1)
                AND (a.external_id = ANY($2) OR lower(a.handle) = ANY($3))
            UNION ALL
            SELECT 'OPD', h.opd_id, o.slug, a.platform, a.handle, a.external_id, a.verified
            FROM opd_head_accounts a
                JOIN opd_heads h ON h.id = a.head_id
                JOIN opds o ON o.id = h.opd_id
            WHERE a.platform = ANY($1)
                AND (a.external_id = ANY($2) OR lower(a.handle) = ANY($3))
                AND h.term_start <= $4 AND (h.term_end IS NULL OR h.term_end > $4)
            UNION ALL
            SELECT 'PROVINCE', NULL, p.owner, p.platform, p.handle, p.external_id, true
            FROM province_accounts p
            WHERE p.platform = ANY($1)
                AND (p.external_id = ANY($2) OR lower(p.handle) = ANY($3))
            ORDER BY 1, 2, 5
            """,
            platforms,
            account_ids,
            lowered,
            at,
        )
    )


async def opds_by_slugs(conn: Connection, slugs: list[str]) -> dict[str, int]:
    """OPD ids by slug (lower case), for the generic intake's `to`, which may name the OPD."""
    records = await conn.fetch(
        "SELECT lower(slug) AS slug, id FROM opds WHERE lower(slug) = ANY($1)",
        [slug.lower() for slug in slugs],
    )
    return {record["slug"]: record["id"] for record in records}


async def add_province_account(
    conn: Connection, owner: str, platform: str, handle: str, external_id: str | None
) -> int | None:
    """None when the platform already has that handle or id."""
    account_id: int | None = await conn.fetchval(
        """
        INSERT INTO province_accounts (owner, platform, handle, external_id)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT DO NOTHING
        RETURNING id
        """,
        owner,
        platform,
        handle,
        external_id,
    )
    return account_id
