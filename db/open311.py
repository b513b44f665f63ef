"""SQL for Open311 GeoReport v2 (partners/open311.py): service requests are complaints as their
caller may see them, with what a GeoReport request shows of each (its category, OPD, region,
last event's note)."""

from dataclasses import dataclass
from datetime import datetime

from kilas.db.complaints import Visibility, visible_sql
from kilas.db.pool import Connection
from kilas.db.rows import Row
from kilas.db.sql import numbered

MAX_REQUESTS = 1000


@dataclass(frozen=True, slots=True)
class RequestRow(Row):
    id: int
    status: str
    text: str
    category_code: str | None
    category_name: str | None
    opd_name: str | None
    region_name: str
    lat: float | None
    lon: float | None
    media_urls: list[str]
    created_at: datetime
    updated_at: datetime
    resolution_due_at: datetime | None
    last_note: str | None
    last_type: str


@dataclass(frozen=True)
class RequestQuery:
    """GET requests' filters: ids (then nothing else counts), or categories, statuses and a
    creation window."""

    ids: list[int] | None
    category_codes: list[str] | None
    statuses: list[str] | None
    start: datetime | None
    end: datetime | None


async def requests(
    conn: Connection, query: RequestQuery, visibility: Visibility
) -> list[RequestRow]:
    """Newest first, at most MAX_REQUESTS."""
    sql, args = numbered(
        f"""
        SELECT c.id, c.status, c.text, c.category_code, k.name AS category_name,
            o.name AS opd_name, r.name AS region_name, c.lat, c.lon, c.media_urls, c.created_at,
            c.updated_at, c.resolution_due_at, e.note AS last_note, e.type AS last_type
        FROM complaints c
            JOIN regions r ON r.code = c.region_code
            LEFT JOIN categories k ON k.code = c.category_code
            LEFT JOIN opds o ON o.id = c.opd_id
            CROSS JOIN LATERAL (
                SELECT note, type FROM complaint_events
                WHERE complaint_id = c.id ORDER BY id DESC LIMIT 1
            ) e
        WHERE {visible_sql("c")}
          AND (%(ids)s::bigint[] IS NULL OR c.id = any(%(ids)s))
          AND (%(ids)s::bigint[] IS NOT NULL OR (
              (%(categories)s::text[] IS NULL OR c.category_code = any(%(categories)s))
              AND (%(statuses)s::text[] IS NULL OR c.status = any(%(statuses)s))
              AND (%(start)s::timestamptz IS NULL OR c.created_at >= %(start)s)
              AND (%(end)s::timestamptz IS NULL OR c.created_at <= %(end)s)))
        ORDER BY c.created_at DESC, c.id DESC
        LIMIT {MAX_REQUESTS}
        """,
        {
            "ids": query.ids,
            "categories": query.category_codes,
            "statuses": query.statuses,
            "start": query.start,
            "end": query.end,
            **visibility.params(),
        },
    )
    return RequestRow.from_records(await conn.fetch(sql, *args))
