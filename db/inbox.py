"""SQL for the channel inbox (migration 0011): each verified platform delivery, stored raw before
the platform is answered, then claimed by one worker at a time, finished, or failed and retried
later, or left DEAD for an operator to replay."""

from dataclasses import dataclass
from datetime import datetime

from kilas.db.pool import Connection
from kilas.db.rows import Row

DELIVERY_COLUMNS = """
    id, platform, body, received_at, state, attempts, next_attempt_at, last_error, processed_at,
    created, known, ignored
"""


@dataclass(frozen=True, slots=True)
class DeliveryRow(Row):
    id: int
    platform: str
    body: bytes
    received_at: datetime
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    processed_at: datetime | None
    created: int
    known: int
    ignored: int


async def store(conn: Connection, platform: str, body: bytes, at: datetime) -> int:
    """A delivery received at `at` (the app's clock, which the worker's due times follow)."""
    delivery_id: int = await conn.fetchval(
        """
        INSERT INTO channel_deliveries (platform, body, received_at, next_attempt_at)
        VALUES ($1, $2, $3, $3)
        RETURNING id
        """,
        platform,
        body,
        at,
    )
    return delivery_id


async def claim_due(conn: Connection, now: datetime) -> DeliveryRow | None:
    """The oldest delivery due, locked for the caller's transaction; one another worker holds
    is skipped, not waited for."""
    return DeliveryRow.from_optional(
        await conn.fetchrow(
            f"""
            SELECT {DELIVERY_COLUMNS} FROM channel_deliveries
            WHERE state = 'PENDING' AND next_attempt_at <= $1
            ORDER BY next_attempt_at, id
            LIMIT 1
            FOR UPDATE SKIP LOCKED
            """,
            now,
        )
    )


async def finish(
    conn: Connection, delivery_id: int, now: datetime, *, created: int, known: int, ignored: int
) -> None:
    await conn.execute(
        """
        UPDATE channel_deliveries
        SET state = 'DONE', processed_at = $2, attempts = attempts + 1, last_error = NULL,
            created = $3, known = $4, ignored = $5
        WHERE id = $1
        """,
        delivery_id,
        now,
        created,
        known,
        ignored,
    )


async def fail(
    conn: Connection, delivery_id: int, error: str, *, retry_at: datetime | None
) -> None:
    """One more failed attempt: retried at `retry_at`, or, when None, DEAD."""
    await conn.execute(
        """
        UPDATE channel_deliveries
        SET attempts = attempts + 1, last_error = $2,
            state = CASE WHEN $3::timestamptz IS NULL THEN 'DEAD' ELSE 'PENDING' END,
            next_attempt_at = coalesce($3, next_attempt_at)
        WHERE id = $1
        """,
        delivery_id,
        error,
        retry_at,
    )


async def replay(conn: Connection, delivery_id: int, now: datetime) -> DeliveryRow | None:
    """A DEAD delivery due again now, its attempts counted afresh; None when there is no such
    dead delivery."""
    return DeliveryRow.from_optional(
        await conn.fetchrow(
            f"""
            UPDATE channel_deliveries
            SET state = 'PENDING', attempts = 0, next_attempt_at = $2
            WHERE id = $1 AND state = 'DEAD'
            RETURNING {DELIVERY_COLUMNS}
            """,
            delivery_id,
            now,
        )
    )


async def deliveries(
    conn: Connection, *, state: str | None, after_id: int | None, limit: int
) -> list[DeliveryRow]:
    """Deliveries, newest first (all, or in one state), after a keyset cursor."""
    return DeliveryRow.from_records(
        await conn.fetch(
            f"""
            SELECT {DELIVERY_COLUMNS} FROM channel_deliveries
            WHERE ($1::text IS NULL OR state = $1) AND ($2::bigint IS NULL OR id < $2)
            ORDER BY id DESC
            LIMIT $3
            """,
            state,
            after_id,
            limit,
        )
    )


async def delivery_by_id(conn: Connection, delivery_id: int) -> DeliveryRow | None:
    return DeliveryRow.from_optional(
        await conn.fetchrow(
            f"SELECT {DELIVERY_COLUMNS} FROM channel_deliveries WHERE id = $1", delivery_id
        )
    )


async def pending_count(conn: Connection) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM channel_deliveries WHERE state = 'PENDING'"
    )
    return count
