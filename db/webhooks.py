"""SQL for outgoing webhooks (migration 0017): the endpoints, the lease that gives each one a
single delivery stream across instances, its cursor, and the log of every request sent."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from kilas.db.pool import Connection
from kilas.db.rows import Row

ENDPOINT_COLUMNS = """
    w.id, w.api_key_id, w.url, w.description, w.filter_complaint_id, w.filter_opd_id,
    w.filter_region_code, w.filter_status, w.cursor, w.state, w.disabled_reason, w.disabled_at,
    w.failing_since, w.failed_attempts, w.last_error, w.next_attempt_at, w.created_at,
    w.created_by, w.updated_at
"""
DELIVERY_COLUMNS = """
    id, endpoint_id, event_id, message_id, attempt, attempted_at, status_code, error, latency_ms,
    succeeded
"""


@dataclass(frozen=True, slots=True)
class EndpointRow(Row):
    id: int
    api_key_id: int
    url: str
    description: str | None
    filter_complaint_id: int | None
    filter_opd_id: int | None
    filter_region_code: str | None
    filter_status: str | None
    cursor: int
    state: str
    disabled_reason: str | None
    disabled_at: datetime | None
    failing_since: datetime | None
    failed_attempts: int
    last_error: str | None
    next_attempt_at: datetime
    created_at: datetime
    created_by: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class LeasedEndpointRow(EndpointRow):
    """An endpoint claimed for one turn of delivery, with what signing needs."""

    secret: str


@dataclass(frozen=True, slots=True)
class DeliveryRow(Row):
    id: int
    endpoint_id: int
    event_id: int
    message_id: str
    attempt: int
    attempted_at: datetime
    status_code: int | None
    error: str | None
    latency_ms: float
    succeeded: bool


@dataclass(frozen=True)
class NewEndpoint:
    api_key_id: int
    url: str
    description: str | None
    secret: str
    filter_complaint_id: int | None
    filter_opd_id: int | None
    filter_region_code: str | None
    filter_status: str | None
    cursor: int
    created_by: str


async def insert_endpoint(conn: Connection, new: NewEndpoint, now: datetime) -> EndpointRow:
    row = await conn.fetchrow(
        f"""
        INSERT INTO webhook_endpoints AS w (api_key_id, url, description, secret,
            filter_complaint_id, filter_opd_id, filter_region_code, filter_status, cursor,
            next_attempt_at, created_at, created_by, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $10)
        RETURNING {ENDPOINT_COLUMNS}
        """,
        new.api_key_id,
        new.url,
        new.description,
        new.secret,
        new.filter_complaint_id,
        new.filter_opd_id,
        new.filter_region_code,
        new.filter_status,
        new.cursor,
        now,
        new.created_by,
    )
    assert row is not None
    return EndpointRow.from_record(row)


async def endpoints(conn: Connection, api_key_id: int | None) -> list[EndpointRow]:
    """Every endpoint (`api_key_id` None), or one key's, oldest first."""
    return EndpointRow.from_records(
        await conn.fetch(
            f"""
            SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints w
            WHERE $1::bigint IS NULL OR w.api_key_id = $1 ORDER BY w.id
            """,
            api_key_id,
        )
    )


async def endpoint(conn: Connection, endpoint_id: int, *, lock: bool = False) -> EndpointRow | None:
    return EndpointRow.from_optional(
        await conn.fetchrow(
            f"SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints w WHERE w.id = $1"
            + (" FOR UPDATE" if lock else ""),
            endpoint_id,
        )
    )


async def enable(
    conn: Connection, endpoint_id: int, cursor: int | None, now: datetime
) -> EndpointRow:
    """Active again, from `cursor` (None: where it stopped), due now, its failures forgotten."""
    row = await conn.fetchrow(
        f"""
        UPDATE webhook_endpoints w SET state = 'ACTIVE', disabled_reason = NULL,
            disabled_at = NULL, failing_since = NULL, failed_attempts = 0,
            cursor = coalesce($2, w.cursor), next_attempt_at = $3, updated_at = $3
        WHERE w.id = $1
        RETURNING {ENDPOINT_COLUMNS}
        """,
        endpoint_id,
        cursor,
        now,
    )
    assert row is not None
    return EndpointRow.from_record(row)


async def disable(
    conn: Connection, endpoint_id: int, reason: str, now: datetime
) -> EndpointRow | None:
    """Disabled with its reason (its lease let go)."""
    return EndpointRow.from_optional(
        await conn.fetchrow(
            f"""
            UPDATE webhook_endpoints w SET state = 'DISABLED', disabled_reason = $2,
                disabled_at = $3, lease_owner = NULL, lease_until = NULL, updated_at = $3
            WHERE w.id = $1
            RETURNING {ENDPOINT_COLUMNS}
            """,
            endpoint_id,
            reason,
            now,
        )
    )


async def delete(conn: Connection, endpoint_id: int) -> bool:
    deleted = await conn.fetchval(
        "DELETE FROM webhook_endpoints WHERE id = $1 RETURNING id", endpoint_id
    )
    return deleted is not None


async def claim_due(
    conn: Connection, owner: str, now: datetime, lease: timedelta, passed: list[int]
) -> LeasedEndpointRow | None:
    """The active endpoint due longest ago that no instance holds, leased to `owner`; none of
    those in `passed` (had their turn in this pass)."""
    return LeasedEndpointRow.from_optional(
        await conn.fetchrow(
            f"""
            UPDATE webhook_endpoints w SET lease_owner = $1, lease_until = $2::timestamptz + $3
            WHERE w.id = (
                SELECT id FROM webhook_endpoints
                WHERE state = 'ACTIVE' AND next_attempt_at <= $2
                  AND (lease_until IS NULL OR lease_until <= $2)
                  AND NOT (id = ANY($4::bigint[]))
                ORDER BY next_attempt_at, id
                LIMIT 1 FOR UPDATE SKIP LOCKED
            )
            RETURNING {ENDPOINT_COLUMNS}, w.secret
            """,
            owner,
            now,
            lease,
            passed,
        )
    )


async def renew(
    conn: Connection, endpoint_id: int, owner: str, now: datetime, lease: timedelta
) -> bool:
    """Still this instance's, for another `lease`; False when it is not (taken over, disabled,
    deleted): the instance stops sending to it."""
    renewed = await conn.fetchval(
        """
        UPDATE webhook_endpoints SET lease_until = $3::timestamptz + $4
        WHERE id = $1 AND lease_owner = $2 AND state = 'ACTIVE'
        RETURNING id
        """,
        endpoint_id,
        owner,
        now,
        lease,
    )
    return renewed is not None


async def advance(conn: Connection, endpoint_id: int, owner: str, cursor: int) -> bool:
    """The cursor moved past an event delivered or passed over, its failures forgotten."""
    moved = await conn.fetchval(
        """
        UPDATE webhook_endpoints SET cursor = greatest(cursor, $3), failing_since = NULL,
            failed_attempts = 0, last_error = NULL
        WHERE id = $1 AND lease_owner = $2
        RETURNING id
        """,
        endpoint_id,
        owner,
        cursor,
    )
    return moved is not None


async def failed(
    conn: Connection,
    endpoint_id: int,
    owner: str,
    error: str,
    now: datetime,
    retry_at: datetime,
) -> EndpointRow | None:
    """One more failed attempt at the head of its stream; the next at `retry_at`."""
    return EndpointRow.from_optional(
        await conn.fetchrow(
            f"""
            UPDATE webhook_endpoints w SET failed_attempts = w.failed_attempts + 1,
                failing_since = coalesce(w.failing_since, $4), last_error = $3,
                next_attempt_at = $5, lease_owner = NULL, lease_until = NULL
            WHERE w.id = $1 AND w.lease_owner = $2
            RETURNING {ENDPOINT_COLUMNS}
            """,
            endpoint_id,
            owner,
            error,
            now,
            retry_at,
        )
    )


async def release(conn: Connection, endpoint_id: int, owner: str, next_at: datetime) -> None:
    await conn.execute(
        """
        UPDATE webhook_endpoints SET lease_owner = NULL, lease_until = NULL,
            next_attempt_at = greatest(next_attempt_at, $3)
        WHERE id = $1 AND lease_owner = $2
        """,
        endpoint_id,
        owner,
        next_at,
    )


async def record_delivery(
    conn: Connection,
    *,
    endpoint_id: int,
    event_id: int,
    message_id: str,
    attempt: int,
    attempted_at: datetime,
    status_code: int | None,
    error: str | None,
    latency_ms: float,
    succeeded: bool,
) -> None:
    await conn.execute(
        """
        INSERT INTO webhook_deliveries (endpoint_id, event_id, message_id, attempt,
            attempted_at, status_code, error, latency_ms, succeeded)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        """,
        endpoint_id,
        event_id,
        message_id,
        attempt,
        attempted_at,
        status_code,
        error,
        latency_ms,
        succeeded,
    )


async def deliveries(conn: Connection, endpoint_ids: list[int], limit: int) -> list[DeliveryRow]:
    """The latest `limit` deliveries of each endpoint, newest first."""
    return DeliveryRow.from_records(
        await conn.fetch(
            f"""
            SELECT d.* FROM unnest($1::bigint[]) AS k (id)
            CROSS JOIN LATERAL (
                SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
                WHERE endpoint_id = k.id ORDER BY id DESC LIMIT $2
            ) d
            ORDER BY d.endpoint_id, d.id DESC
            """,
            endpoint_ids,
            limit,
        )
    )


async def prune_deliveries(conn: Connection, before: datetime) -> int:
    """Forget the requests sent before `before`; returns how many rows went."""
    status: str = await conn.execute(
        "DELETE FROM webhook_deliveries WHERE attempted_at < $1", before
    )
    return int(status.split()[-1])
