"""SQL for OPD heads: their terms of office, their own social accounts, and the record of each
term over a period (the breaches and escalations that happened while the head was in office).

A head is in office at `t` when term_start <= t < term_end (no term_end: still in office); an
OPD's terms never overlap (migration 0012), so at most one head answers for any moment."""

from dataclasses import dataclass
from datetime import datetime

from kilas.db.pool import Connection
from kilas.db.rows import Row
from kilas.db.sql import numbered

HEAD_COLUMNS = "id, opd_id, name, title, term_start, term_end, created_at"
ACCOUNT_COLUMNS = "id, head_id, platform, handle, verified, external_id, created_at"
# `h` in office at the moment `at` (SQL expressions).
IN_OFFICE = "{h}.term_start <= {at} AND ({h}.term_end IS NULL OR {h}.term_end > {at})"


def in_office(h: str, at: str) -> str:
    return IN_OFFICE.format(h=h, at=at)


@dataclass(frozen=True, slots=True)
class HeadRow(Row):
    """One term of office of one OPD head."""

    id: int
    opd_id: int
    name: str
    title: str | None
    term_start: datetime
    term_end: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class HeadPageRow(HeadRow):
    """The head in office at the moment of the `page`th (1-based) key of `heads_at`."""

    page: int


@dataclass(frozen=True, slots=True)
class HeadAccountRow(Row):
    id: int
    head_id: int
    platform: str
    handle: str
    verified: bool
    external_id: str | None
    created_at: datetime


async def heads_by_ids(conn: Connection, ids: list[int]) -> list[HeadRow]:
    return HeadRow.from_records(
        await conn.fetch(f"SELECT {HEAD_COLUMNS} FROM opd_heads WHERE id = any($1::bigint[])", ids)
    )


async def heads_by_opd_ids(conn: Connection, opd_ids: list[int]) -> list[HeadRow]:
    """Every term of the OPDs, newest first."""
    return HeadRow.from_records(
        await conn.fetch(
            f"""
            SELECT {HEAD_COLUMNS} FROM opd_heads
            WHERE opd_id = any($1::bigint[]) ORDER BY opd_id, term_start DESC
            """,
            opd_ids,
        )
    )


async def heads_in_office(conn: Connection, opd_ids: list[int], at: datetime) -> list[HeadRow]:
    """The head of each OPD in office at `at` (none for an OPD whose post was vacant)."""
    return HeadRow.from_records(
        await conn.fetch(
            f"""
            SELECT {HEAD_COLUMNS} FROM opd_heads h
            WHERE opd_id = any($1::bigint[]) AND {in_office("h", "$2")}
            """,
            opd_ids,
            at,
        )
    )


async def heads_at(conn: Connection, keys: list[tuple[int, datetime]]) -> list[HeadPageRow]:
    """For each (OPD, moment), the head in office then, numbered by the key's position."""
    return HeadPageRow.from_records(
        await conn.fetch(
            f"""
            SELECT k.page, {", ".join(f"h.{c}" for c in HEAD_COLUMNS.split(", "))}
            FROM unnest($1::bigint[], $2::timestamptz[]) WITH ORDINALITY AS k (opd_id, at, page)
            JOIN opd_heads h ON h.opd_id = k.opd_id AND {in_office("h", "k.at")}
            """,
            [opd_id for opd_id, _ in keys],
            [at for _, at in keys],
        )
    )


async def latest_head(conn: Connection, opd_id: int) -> HeadRow | None:
    """The OPD's latest term (in office, or the last that ended)."""
    record = await conn.fetchrow(
        f"""
        SELECT {HEAD_COLUMNS} FROM opd_heads WHERE opd_id = $1
        ORDER BY term_start DESC LIMIT 1
        """,
        opd_id,
    )
    return HeadRow.from_optional(record)


async def lock_opd(conn: Connection, opd_id: int) -> bool:
    """Lock the OPD's row for the transaction, so that changes of its head run one at a time;
    False when there is no such OPD."""
    found = await conn.fetchval("SELECT true FROM opds WHERE id = $1 FOR UPDATE", opd_id)
    return bool(found)


async def insert_head(
    conn: Connection, opd_id: int, name: str, title: str | None, term_start: datetime
) -> HeadRow:
    record = await conn.fetchrow(
        f"""
        INSERT INTO opd_heads (opd_id, name, title, term_start) VALUES ($1, $2, $3, $4)
        RETURNING {HEAD_COLUMNS}
        """,
        opd_id,
        name,
        title,
        term_start,
    )
    assert record is not None
    return HeadRow.from_record(record)


async def end_term(conn: Connection, head_id: int, term_end: datetime) -> None:
    await conn.execute("UPDATE opd_heads SET term_end = $2 WHERE id = $1", head_id, term_end)


async def correct_head(conn: Connection, head_id: int, name: str, title: str | None) -> HeadRow:
    """The term's head named or titled anew: a correction of the record, not a new term."""
    record = await conn.fetchrow(
        f"UPDATE opd_heads SET name = $2, title = $3 WHERE id = $1 RETURNING {HEAD_COLUMNS}",
        head_id,
        name,
        title,
    )
    assert record is not None
    return HeadRow.from_record(record)


async def delete_head(conn: Connection, head_id: int) -> None:
    await conn.execute("DELETE FROM opd_heads WHERE id = $1", head_id)


async def set_opd_head_columns(
    conn: Connection, opd_id: int, name: str | None, title: str | None
) -> None:
    """The OPD row's own head_name and head_title, kept as a mirror of the head in office."""
    await conn.execute(
        "UPDATE opds SET head_name = $2, head_title = $3, updated_at = now() WHERE id = $1",
        opd_id,
        name,
        title,
    )


async def accounts_by_head_ids(conn: Connection, head_ids: list[int]) -> list[HeadAccountRow]:
    return HeadAccountRow.from_records(
        await conn.fetch(
            f"""
            SELECT {ACCOUNT_COLUMNS} FROM opd_head_accounts
            WHERE head_id = any($1::bigint[]) ORDER BY platform, handle
            """,
            head_ids,
        )
    )


async def insert_account(
    conn: Connection,
    head_id: int,
    platform: str,
    handle: str,
    verified: bool,
    external_id: str | None = None,
) -> HeadAccountRow | None:
    """None when the platform already has this handle (for any head)."""
    record = await conn.fetchrow(
        f"""
        INSERT INTO opd_head_accounts (head_id, platform, handle, verified, external_id)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (platform, lower(handle)) DO NOTHING
        RETURNING {ACCOUNT_COLUMNS}
        """,
        head_id,
        platform,
        handle,
        verified,
        external_id,
    )
    return HeadAccountRow.from_optional(record)


# Each term that overlaps the period [start, end), with what happened to its OPD while the head
# was in office within the period: complaints assigned, breaches and escalations (by level).
# Named parameters, so that the compiled read path (compiler/heads.py) embeds the same SQL.
HEAD_RECORDS_SQL = """
    SELECT h.id AS head_id, h.opd_id, s.period_start, s.period_end,
        row_number() OVER (ORDER BY o.short_name, o.id, h.term_start) AS position,
        r.received, e.breaches, e.response_breaches, e.resolution_breaches, e.escalations,
        e.escalations_level1, e.escalations_level2, e.escalations_level3
    FROM opd_heads h
    JOIN opds o ON o.id = h.opd_id
    CROSS JOIN LATERAL (
        SELECT greatest(h.term_start, %(start)s::timestamptz) AS period_start,
            least(coalesce(h.term_end, 'infinity'), %(end)s::timestamptz) AS period_end
    ) s
    CROSS JOIN LATERAL (
        SELECT count(*) AS received FROM complaints c
        WHERE c.opd_id = h.opd_id AND c.assigned_at >= s.period_start
            AND c.assigned_at < s.period_end
    ) r
    CROSS JOIN LATERAL (
        SELECT count(*) FILTER (WHERE type = 'SLA_BREACHED') AS breaches,
            count(*) FILTER (WHERE type = 'SLA_BREACHED' AND data ->> 'clock' = 'RESPONSE')
                AS response_breaches,
            count(*) FILTER (WHERE type = 'SLA_BREACHED' AND data ->> 'clock' = 'RESOLUTION')
                AS resolution_breaches,
            count(*) FILTER (WHERE type = 'ESCALATED') AS escalations,
            count(*) FILTER (WHERE type = 'ESCALATED' AND data ->> 'level' = '1')
                AS escalations_level1,
            count(*) FILTER (WHERE type = 'ESCALATED' AND data ->> 'level' = '2')
                AS escalations_level2,
            count(*) FILTER (WHERE type = 'ESCALATED' AND data ->> 'level' = '3')
                AS escalations_level3
        FROM complaint_events e
        WHERE e.opd_id = h.opd_id AND e.type IN ('SLA_BREACHED', 'ESCALATED')
            AND e.occurred_at >= s.period_start AND e.occurred_at < s.period_end
    ) e
    WHERE h.term_start < %(end)s::timestamptz
        AND (h.term_end IS NULL OR h.term_end > %(start)s::timestamptz)
"""


@dataclass(frozen=True, slots=True)
class HeadRecordRow(Row):
    """One head's term within a period, and what the OPD answered for during it."""

    head_id: int
    opd_id: int
    period_start: datetime
    period_end: datetime
    position: int
    received: int
    breaches: int
    response_breaches: int
    resolution_breaches: int
    escalations: int
    escalations_level1: int
    escalations_level2: int
    escalations_level3: int


async def head_records(conn: Connection, start: datetime, end: datetime) -> list[HeadRecordRow]:
    """Every term overlapping [start, end), clean ones too, by OPD short name then term."""
    sql, args = numbered(
        f"SELECT * FROM ({HEAD_RECORDS_SQL}) r ORDER BY r.position", {"start": start, "end": end}
    )
    return HeadRecordRow.from_records(await conn.fetch(sql, *args))
