"""SQL for complaints."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kilas.db.pool import Connection
from kilas.db.rows import ComplaintRow, Row
from kilas.db.sql import numbered

COMPLAINT_COLUMNS = """
    id, tracking_number, channel, external_ref, reporter_name, reporter_contact, reporter_handle,
    anonymous, confidential, text, category_code, region_code, lat, lon, media_urls, status,
    opd_id, sla_policy_id, assigned_at, response_due_at, resolution_due_at, first_response_at,
    resolved_at, closed_at, rating, rating_comment, rejection_reason, duplicate_of_id,
    work_item_id, version, created_at, updated_at, response_at_risk_at, response_breached_at,
    resolution_at_risk_at, resolution_breached_at, escalation_level, escalated_at
"""

# Columns the workflow may change; `update_complaint` refuses any other name.
_UPDATABLE = frozenset(
    {
        "status", "opd_id", "category_code", "sla_policy_id", "assigned_at", "response_due_at",
        "resolution_due_at", "first_response_at", "resolved_at", "closed_at", "rating",
        "rating_comment", "rejection_reason", "duplicate_of_id", "work_item_id",
        "response_at_risk_at", "response_breached_at", "resolution_at_risk_at",
        "resolution_breached_at", "escalation_level", "escalated_at",
    }
)  # fmt: skip

# Keyset orderings: (sort column, direction). Names are code constants, never user input.
ORDERINGS = {
    "CREATED_AT_DESC": ("created_at", "DESC"),
    "CREATED_AT_ASC": ("created_at", "ASC"),
    "UPDATED_AT_DESC": ("updated_at", "DESC"),
    "UPDATED_AT_ASC": ("updated_at", "ASC"),
}


@dataclass(frozen=True, kw_only=True)
class Visibility:
    """Which complaints a caller may see (`auth.policy.visibility` makes one for a caller), as
    SQL arguments. Every field defaults to seeing less, so `Visibility()` sees nothing: a query
    that forgets whose it is returns nothing rather than everything."""

    # Complaints that are not confidential.
    non_confidential: bool = False
    # Confidential complaints: all of them, or those this OPD holds.
    confidential: bool = False
    confidential_opd_id: int | None = None
    # Only complaints this OPD holds and/or of this region (a scoped partner key).
    opd_id: int | None = None
    region_code: str | None = None

    def params(self) -> dict[str, Any]:
        """The named parameters of `visible_sql`."""
        return dict(zip(VISIBILITY_NAMES, self.args(), strict=True))

    def args(self) -> list[Any]:
        """The same values in the order of VISIBILITY_NAMES."""
        return [
            self.non_confidential,
            self.confidential,
            self.confidential_opd_id,
            self.opd_id,
            self.region_code,
        ]


VISIBILITY_NAMES = (
    "vis_non_confidential",
    "vis_confidential",
    "vis_confidential_opd",
    "vis_opd",
    "vis_region",
)
# Staff who see every complaint, and the event hub, which judges each subscriber itself.
EVERYTHING = Visibility(non_confidential=True, confidential=True)


def visible_sql(alias: str = "c", holder: str | None = None) -> str:
    """Whether complaint `alias` is visible, with the named parameters of `Visibility.params()`
    (db/sql.py). Who holds it and where (`opd_id`, `region_code`) are read from `holder` if
    given: for an event, where the complaint stood after that event, so that what a caller sees
    of the log never depends on when it reads it. A NULL holder matches no scope (NULL is not
    true)."""
    at = holder or alias
    return f"""(
        (CASE WHEN {alias}.confidential
              THEN %(vis_confidential)s::bool OR {at}.opd_id = %(vis_confidential_opd)s::bigint
              ELSE %(vis_non_confidential)s::bool END)
        AND (%(vis_opd)s::bigint IS NULL OR {at}.opd_id = %(vis_opd)s)
        AND (%(vis_region)s::text IS NULL OR {at}.region_code = %(vis_region)s)
    )"""


@dataclass(frozen=True, kw_only=True)
class ComplaintFilter:
    # Whose filter this is; required, so that no list can forget it.
    visibility: Visibility
    statuses: list[str] | None = None
    opd_id: int | None = None
    region_code: str | None = None
    category_code: str | None = None
    channels: list[str] | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None
    search: str | None = None
    work_item_id: int | None = None


async def insert_complaint(conn: Connection, fields: dict[str, Any]) -> ComplaintRow | None:
    """Insert a new complaint; None when (channel, external_ref) already exists."""
    record = await conn.fetchrow(
        f"""
        INSERT INTO complaints (tracking_number, channel, external_ref, reporter_name,
            reporter_contact, reporter_handle, anonymous, confidential, text, category_code,
            region_code, lat, lon, media_urls, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
            coalesce($15, now()), coalesce($15, now()))
        ON CONFLICT (channel, external_ref) WHERE external_ref IS NOT NULL DO NOTHING
        RETURNING {COMPLAINT_COLUMNS}
        """,
        fields["tracking_number"],
        fields["channel"],
        fields["external_ref"],
        fields["reporter_name"],
        fields["reporter_contact"],
        fields["reporter_handle"],
        fields["anonymous"],
        fields["confidential"],
        fields["text"],
        fields["category_code"],
        fields["region_code"],
        fields["lat"],
        fields["lon"],
        fields["media_urls"],
        fields["created_at"],
    )
    return ComplaintRow.from_optional(record)


async def tracking_number_taken(conn: Connection, tracking_number: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM complaints WHERE tracking_number = $1)", tracking_number
        )
    )


async def complaint_by_channel_ref(
    conn: Connection, channel: str, external_ref: str
) -> ComplaintRow | None:
    return ComplaintRow.from_optional(
        await conn.fetchrow(
            f"SELECT {COMPLAINT_COLUMNS} FROM complaints WHERE channel = $1 AND external_ref = $2",
            channel,
            external_ref,
        )
    )


async def lock_complaint(conn: Connection, complaint_id: int) -> ComplaintRow | None:
    return ComplaintRow.from_optional(
        await conn.fetchrow(
            f"SELECT {COMPLAINT_COLUMNS} FROM complaints WHERE id = $1 FOR UPDATE", complaint_id
        )
    )


async def update_complaint(
    conn: Connection, complaint_id: int, changes: dict[str, Any], at: datetime | None
) -> ComplaintRow:
    """Apply `changes`, bump the version and `updated_at`; return the new row."""
    unknown = set(changes) - _UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    names = list(changes)
    assignments = ", ".join(f"{name} = ${i + 3}" for i, name in enumerate(names))
    if assignments:
        assignments += ", "
    row = await conn.fetchrow(
        f"""
        UPDATE complaints SET {assignments}version = version + 1,
            updated_at = greatest(updated_at, coalesce($2, now()))
        WHERE id = $1
        RETURNING {COMPLAINT_COLUMNS}
        """,
        complaint_id,
        at,
        *(changes[name] for name in names),
    )
    if row is None:
        raise LookupError(f"complaint {complaint_id} does not exist")
    return ComplaintRow.from_record(row)


async def complaints_by_ids(conn: Connection, ids: list[int]) -> list[ComplaintRow]:
    return ComplaintRow.from_records(
        await conn.fetch(
            f"SELECT {COMPLAINT_COLUMNS} FROM complaints WHERE id = any($1::bigint[])", ids
        )
    )


async def complaint_by_tracking_number(
    conn: Connection, tracking_number: str
) -> ComplaintRow | None:
    return ComplaintRow.from_optional(
        await conn.fetchrow(
            f"SELECT {COMPLAINT_COLUMNS} FROM complaints WHERE tracking_number = $1",
            tracking_number.strip().upper(),
        )
    )


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# Each filter's condition, by the parameter it tests (its type cast where it is first used).
FILTER_CONDITIONS: dict[str, tuple[str, str]] = {
    "statuses": ("text[]", "status = any(%(statuses)s)"),
    "opd_id": ("bigint", "opd_id = %(opd_id)s"),
    "region_code": ("text", "region_code = %(region_code)s"),
    "category_code": ("text", "category_code = %(category_code)s"),
    "channels": ("text[]", "channel = any(%(channels)s)"),
    "created_from": ("timestamptz", "created_at >= %(created_from)s"),
    "created_before": ("timestamptz", "created_at < %(created_before)s"),
    "search": (
        "text",
        "(search @@ websearch_to_tsquery('indonesian', %(search)s) OR text ILIKE %(search_like)s)",
    ),
    "work_item_id": ("bigint", "work_item_id = %(work_item_id)s"),
}


def filter_sql(given: Collection[str] | None = None, visible: str | None = None) -> str:
    """The WHERE condition of a complaint filter (`filter_params` names its values). With
    `given` None, for any filter: each condition holds when its parameter is NULL. Else only the
    conditions of the filters in `given`, strictly (a statement made for one shape of filter,
    whose plan PostgreSQL can keep: the compiler's); their parameters must not be NULL. The
    caller's visibility is `visible_sql` unless `visible` says it otherwise."""
    parts = []
    for name, (cast, condition) in FILTER_CONDITIONS.items():
        typed = condition.replace(f"%({name})s", f"%({name})s::{cast}", 1)
        if given is None:
            parts.append(f"(%({name})s::{cast} IS NULL OR {condition})")
        elif name in given:
            parts.append(typed)
    parts.append(visible_sql("complaints") if visible is None else visible)
    return "\n    AND ".join(parts)


FILTER_SQL = filter_sql()


def filter_params(f: ComplaintFilter) -> dict[str, Any]:
    """The named parameters of FILTER_SQL (db/sql.py)."""
    return {
        "statuses": f.statuses,
        "opd_id": f.opd_id,
        "region_code": f.region_code,
        "category_code": f.category_code,
        "channels": f.channels,
        "created_from": f.created_from,
        "created_before": f.created_before,
        "search": f.search,
        "search_like": _like_pattern(f.search) if f.search is not None else None,
        "work_item_id": f.work_item_id,
        **f.visibility.params(),
    }


# The names of FILTER_SQL's parameters, in the order `filter_params` gives them.
FILTER_NAMES = tuple(filter_params(ComplaintFilter(visibility=Visibility())))


async def list_complaints(
    conn: Connection,
    f: ComplaintFilter,
    *,
    order: str,
    after: tuple[datetime, int] | None,
    limit: int,
) -> list[ComplaintRow]:
    """One keyset page: rows strictly after the cursor (sort value, id), in `order`."""
    column, direction = ORDERINGS[order]
    comparison = "<" if direction == "DESC" else ">"
    sql, args = numbered(
        f"""
        SELECT {COMPLAINT_COLUMNS} FROM complaints
        WHERE {FILTER_SQL}
          AND (%(after_value)s::timestamptz IS NULL
               OR ({column}, id) {comparison} (%(after_value)s, %(after_id)s))
        ORDER BY {column} {direction}, id {direction}
        LIMIT %(limit)s
        """,
        {
            **filter_params(f),
            "after_value": after[0] if after else None,
            "after_id": after[1] if after else None,
            "limit": limit,
        },
    )
    return ComplaintRow.from_records(await conn.fetch(sql, *args))


async def count_complaints(conn: Connection, f: ComplaintFilter) -> int:
    sql, args = numbered(f"SELECT count(*) FROM complaints WHERE {FILTER_SQL}", filter_params(f))
    return int(await conn.fetchval(sql, *args))


@dataclass(frozen=True, slots=True)
class OpdBacklogRow(Row):
    """How many complaints one OPD holds open (assigned or in progress)."""

    opd_id: int
    open: int


@dataclass(frozen=True, slots=True)
class RegionOpenCountRow(Row):
    """How many complaints of one region are open (received, assigned or in progress)."""

    region_code: str
    open: int


async def open_backlog_by_opd_ids(conn: Connection, opd_ids: list[int]) -> list[OpdBacklogRow]:
    return OpdBacklogRow.from_records(
        await conn.fetch(
            """
            SELECT opd_id, count(*) AS open
            FROM complaints
            WHERE opd_id = any($1::bigint[]) AND status IN ('ASSIGNED', 'IN_PROGRESS')
            GROUP BY opd_id
            """,
            opd_ids,
        )
    )


async def open_count_by_region_codes(
    conn: Connection, codes: list[str]
) -> list[RegionOpenCountRow]:
    return RegionOpenCountRow.from_records(
        await conn.fetch(
            """
            SELECT region_code, count(*) AS open
            FROM complaints
            WHERE region_code = any($1::text[])
              AND status IN ('RECEIVED', 'ASSIGNED', 'IN_PROGRESS')
            GROUP BY region_code
            """,
            codes,
        )
    )


async def complaints_by_work_item_ids(
    conn: Connection, work_item_ids: list[int]
) -> list[ComplaintRow]:
    return ComplaintRow.from_records(
        await conn.fetch(
            f"""
            SELECT {COMPLAINT_COLUMNS} FROM complaints
            WHERE work_item_id = any($1::bigint[]) ORDER BY id
            """,
            work_item_ids,
        )
    )


async def submitter_of(conn: Connection, complaint_id: int) -> str | None:
    """Who submitted the complaint ("public", "key:<id>", "jwt:<sub>"), as its first event
    recorded."""
    value: str | None = await conn.fetchval(
        """
        SELECT actor FROM complaint_events
        WHERE complaint_id = $1 AND type = 'SUBMITTED'
        ORDER BY id LIMIT 1
        """,
        complaint_id,
    )
    return value
