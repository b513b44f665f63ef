"""The append-only complaint event log."""

from datetime import datetime
from typing import Any

from kilas.db.complaints import EVERYTHING, Visibility, visible_sql
from kilas.db.pool import Connection
from kilas.db.rows import EventPageRow, EventRow
from kilas.db.sql import numbered

# Every writer of complaint_events takes this transaction-level lock right before its insert and
# holds it to commit, so event ids are handed out in commit order (see the table's comment).
EVENT_LOG_LOCK = 0x4B494C42

EVENT_COLUMNS = """
    id, complaint_id, type, from_status, to_status, opd_id, from_opd_id, region_code,
    category_code, actor, note, data, version, occurred_at, recorded_at
"""
# The same columns of `complaint_events e`, for queries that join the event to its complaint.
EVENT_COLUMNS_OF_E = ", ".join(f"e.{name.strip()}" for name in EVENT_COLUMNS.split(","))


async def append_event(
    conn: Connection,
    *,
    complaint_id: int,
    type: str,
    from_status: str | None,
    to_status: str,
    opd_id: int | None,
    from_opd_id: int | None,
    region_code: str,
    category_code: str | None,
    actor: str,
    note: str | None,
    data: dict[str, Any],
    version: int,
    occurred_at: datetime | None,
) -> EventRow:
    """Append one event; call it as the last write of the transaction, to hold the lock briefly."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", EVENT_LOG_LOCK)
    row = await conn.fetchrow(
        f"""
        INSERT INTO complaint_events (complaint_id, type, from_status, to_status, opd_id,
            from_opd_id, region_code, category_code, actor, note, data, version, occurred_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, coalesce($13, now()))
        RETURNING {EVENT_COLUMNS}
        """,
        complaint_id,
        type,
        from_status,
        to_status,
        opd_id,
        from_opd_id,
        region_code,
        category_code,
        actor,
        note,
        data,
        version,
        occurred_at,
    )
    assert row is not None
    return EventRow.from_record(row)


async def last_event_id(conn: Connection) -> int:
    value = await conn.fetchval("SELECT coalesce(max(id), 0) FROM complaint_events")
    return int(value)


async def events_after(
    conn: Connection, after: int, limit: int, visibility: Visibility
) -> list[EventRow]:
    """The log after a cursor, of the complaints `visibility` lets the caller see (the hub,
    which judges each subscriber itself, reads it all with `EVERYTHING`)."""
    if visibility == EVERYTHING:
        return EventRow.from_records(
            await conn.fetch(
                f"SELECT {EVENT_COLUMNS} FROM complaint_events WHERE id > $1 ORDER BY id LIMIT $2",
                after,
                limit,
            )
        )
    sql, args = numbered(
        f"""
        SELECT {EVENT_COLUMNS_OF_E}
        FROM complaint_events e JOIN complaints c ON c.id = e.complaint_id
        WHERE e.id > %(after)s AND {visible_sql("c", "e")}
        ORDER BY e.id LIMIT %(limit)s
        """,
        {"after": after, "limit": limit, **visibility.params()},
    )
    return EventRow.from_records(await conn.fetch(sql, *args))


async def matching_events_between(
    conn: Connection,
    after: int,
    up_to: int,
    *,
    complaint_id: int | None,
    opd_id: int | None,
    region_code: str | None,
    status: str | None,
    types: list[str] | None,
    limit: int,
) -> list[EventRow]:
    """Events with after < id <= up_to matching every given filter, in cursor order."""
    return EventRow.from_records(
        await conn.fetch(
            f"""
            SELECT {EVENT_COLUMNS} FROM complaint_events
            WHERE id > $1 AND id <= $2
              AND ($3::bigint IS NULL OR complaint_id = $3)
              AND ($4::bigint IS NULL OR opd_id = $4 OR from_opd_id = $4)
              AND ($5::text IS NULL OR region_code = $5)
              AND ($6::text IS NULL OR to_status = $6)
              AND ($8::text[] IS NULL OR type = any($8))
            ORDER BY id
            LIMIT $7
            """,
            after,
            up_to,
            complaint_id,
            opd_id,
            region_code,
            status,
            limit,
            types,
        )
    )


async def events_by_ids(conn: Connection, ids: list[int]) -> list[EventRow]:
    return EventRow.from_records(
        await conn.fetch(
            f"SELECT {EVENT_COLUMNS} FROM complaint_events WHERE id = any($1::bigint[])", ids
        )
    )


# The most events one page of a complaint's timeline holds (the API's `timeline(first:)`).
MAX_TIMELINE_PAGE = 200


async def event_pages(conn: Connection, pages: list[tuple[int, int, int]]) -> list[EventPageRow]:
    """Pages of complaints' histories in one statement: for each (complaint id, after, limit),
    its events with id > after, oldest first, at most `limit`; each row with `page`, the
    1-based position of its page in `pages`."""
    return EventPageRow.from_records(
        await conn.fetch(
            f"""
            SELECT k.page, {EVENT_COLUMNS_OF_E}
            FROM unnest($1::bigint[], $2::bigint[], $3::int[])
                 WITH ORDINALITY AS k(complaint_id, after_id, size, page)
            CROSS JOIN LATERAL (
                SELECT * FROM complaint_events
                WHERE complaint_id = k.complaint_id AND id > k.after_id
                ORDER BY id LIMIT k.size
            ) e
            ORDER BY k.page, e.id
            """,
            [complaint_id for complaint_id, _, _ in pages],
            [after for _, after, _ in pages],
            [limit for _, _, limit in pages],
        )
    )


async def last_events_by_complaint_ids(
    conn: Connection, complaint_ids: list[int]
) -> list[EventRow]:
    return EventRow.from_records(
        await conn.fetch(
            f"""
            SELECT DISTINCT ON (complaint_id) {EVENT_COLUMNS} FROM complaint_events
            WHERE complaint_id = any($1::bigint[])
            ORDER BY complaint_id, id DESC
            """,
            complaint_ids,
        )
    )
