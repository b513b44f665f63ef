"""SQL for programmes and their work items."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from kilas.db.pool import Connection
from kilas.db.rows import Row

PROGRAMME_COLUMNS = """
    id, code, name, description, owner_opd_id, fiscal_year, budget_idr, realisation_idr, target,
    achievement, unit, status, predecessor_id, created_at, updated_at
"""
WORK_ITEM_COLUMNS = """
    id, programme_id, name, region_code, road_segment, lat, lon, length_km, progress_pct, status,
    planned_start, planned_end, created_at, updated_at
"""


@dataclass(frozen=True, slots=True)
class ProgrammeRow(Row):
    id: int
    code: str
    name: str
    description: str
    owner_opd_id: int
    fiscal_year: int
    budget_idr: Decimal
    realisation_idr: Decimal
    target: Decimal
    achievement: Decimal
    unit: str
    status: str
    predecessor_id: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class WorkItemRow(Row):
    id: int
    programme_id: int
    name: str
    region_code: str
    road_segment: str | None
    lat: float | None
    lon: float | None
    length_km: Decimal | None
    progress_pct: Decimal
    status: str
    planned_start: date | None
    planned_end: date | None
    created_at: datetime
    updated_at: datetime


async def list_programmes(
    conn: Connection,
    *,
    owner_opd_id: int | None,
    fiscal_year: int | None,
    status: str | None,
    after_id: int | None,
    limit: int,
) -> list[ProgrammeRow]:
    return ProgrammeRow.from_records(
        await conn.fetch(
            f"""
            SELECT {PROGRAMME_COLUMNS} FROM programmes
            WHERE ($1::bigint IS NULL OR owner_opd_id = $1)
              AND ($2::integer IS NULL OR fiscal_year = $2)
              AND ($3::text IS NULL OR status = $3)
              AND ($4::bigint IS NULL OR id > $4)
            ORDER BY id LIMIT $5
            """,
            owner_opd_id,
            fiscal_year,
            status,
            after_id,
            limit,
        )
    )


async def programmes_by_ids(conn: Connection, ids: list[int]) -> list[ProgrammeRow]:
    return ProgrammeRow.from_records(
        await conn.fetch(
            f"SELECT {PROGRAMME_COLUMNS} FROM programmes WHERE id = any($1::bigint[])", ids
        )
    )


async def programme_by_code(conn: Connection, code: str) -> ProgrammeRow | None:
    record = await conn.fetchrow(
        f"SELECT {PROGRAMME_COLUMNS} FROM programmes WHERE code = $1", code.upper()
    )
    return ProgrammeRow.from_optional(record)


async def successors_by_ids(conn: Connection, ids: list[int]) -> list[ProgrammeRow]:
    return ProgrammeRow.from_records(
        await conn.fetch(
            f"""
            SELECT {PROGRAMME_COLUMNS} FROM programmes
            WHERE predecessor_id = any($1::bigint[]) ORDER BY id
            """,
            ids,
        )
    )


async def insert_programme(conn: Connection, fields: dict[str, Any]) -> ProgrammeRow | None:
    """None when the code is taken."""
    record = await conn.fetchrow(
        f"""
        INSERT INTO programmes (code, name, description, owner_opd_id, fiscal_year, budget_idr,
            realisation_idr, target, achievement, unit, status, predecessor_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        ON CONFLICT (code) DO NOTHING
        RETURNING {PROGRAMME_COLUMNS}
        """,
        fields["code"],
        fields["name"],
        fields["description"],
        fields["owner_opd_id"],
        fields["fiscal_year"],
        fields["budget_idr"],
        fields["realisation_idr"],
        fields["target"],
        fields["achievement"],
        fields["unit"],
        fields["status"],
        fields["predecessor_id"],
    )
    return ProgrammeRow.from_optional(record)


async def update_programme(
    conn: Connection, programme_id: int, fields: dict[str, Any]
) -> ProgrammeRow | None:
    """Absent or None fields keep their value."""
    record = await conn.fetchrow(
        f"""
        UPDATE programmes SET
            name = coalesce($2, name),
            description = coalesce($3, description),
            budget_idr = coalesce($4, budget_idr),
            realisation_idr = coalesce($5, realisation_idr),
            target = coalesce($6, target),
            achievement = coalesce($7, achievement),
            status = coalesce($8, status),
            updated_at = now()
        WHERE id = $1
        RETURNING {PROGRAMME_COLUMNS}
        """,
        programme_id,
        fields.get("name"),
        fields.get("description"),
        fields.get("budget_idr"),
        fields.get("realisation_idr"),
        fields.get("target"),
        fields.get("achievement"),
        fields.get("status"),
    )
    return ProgrammeRow.from_optional(record)


async def work_items_by_programme_ids(
    conn: Connection, programme_ids: list[int]
) -> list[WorkItemRow]:
    return WorkItemRow.from_records(
        await conn.fetch(
            f"""
            SELECT {WORK_ITEM_COLUMNS} FROM work_items
            WHERE programme_id = any($1::bigint[]) ORDER BY programme_id, id
            """,
            programme_ids,
        )
    )


async def work_items_by_ids(conn: Connection, ids: list[int]) -> list[WorkItemRow]:
    return WorkItemRow.from_records(
        await conn.fetch(
            f"SELECT {WORK_ITEM_COLUMNS} FROM work_items WHERE id = any($1::bigint[])", ids
        )
    )


async def insert_work_item(conn: Connection, fields: dict[str, Any]) -> WorkItemRow:
    record = await conn.fetchrow(
        f"""
        INSERT INTO work_items (programme_id, name, region_code, road_segment, lat, lon,
            length_km, progress_pct, status, planned_start, planned_end)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        RETURNING {WORK_ITEM_COLUMNS}
        """,
        fields["programme_id"],
        fields["name"],
        fields["region_code"],
        fields["road_segment"],
        fields["lat"],
        fields["lon"],
        fields["length_km"],
        fields["progress_pct"],
        fields["status"],
        fields["planned_start"],
        fields["planned_end"],
    )
    assert record is not None
    return WorkItemRow.from_record(record)


async def update_work_item_progress(
    conn: Connection, work_item_id: int, progress_pct: Decimal, status: str | None
) -> WorkItemRow | None:
    record = await conn.fetchrow(
        f"""
        UPDATE work_items SET progress_pct = $2, status = coalesce($3, status), updated_at = now()
        WHERE id = $1
        RETURNING {WORK_ITEM_COLUMNS}
        """,
        work_item_id,
        progress_pct,
        status,
    )
    return WorkItemRow.from_optional(record)
