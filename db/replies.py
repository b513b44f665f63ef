"""SQL for replies on the channel (migration 0013): where each channel complaint's citizen is
answered, the templates, and the outbox the reply worker sends from."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kilas.db.pool import Connection
from kilas.db.rows import Row

REPLY_COLUMNS = """
    id, complaint_id, event_id, event_type, platform, reply_to, public, text, state, attempts,
    next_attempt_at, claimed_at, last_error, sent_at, platform_message_id, created_at
"""
# Said in place of the tracking number in a public reply: the number is the reporter's proof.
NUMBER_IN_PRIVATE = "nomor laporan hanya lewat pesan langsung"


@dataclass(frozen=True)
class Contact:
    """Where a channel complaint's citizen is answered: the platform, its send API's address
    for them (a phone number, a comment or tweet id), and whether the answer is public."""

    platform: str
    reply_to: dict[str, str]
    public: bool


@dataclass(frozen=True, slots=True)
class ReplyRow(Row):
    id: int
    complaint_id: int
    event_id: int
    event_type: str
    platform: str
    reply_to: dict[str, str]
    public: bool
    text: str
    state: str
    attempts: int
    next_attempt_at: datetime
    claimed_at: datetime | None
    last_error: str | None
    sent_at: datetime | None
    platform_message_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TemplateRow(Row):
    event_type: str
    text: str
    updated_at: datetime
    updated_by: str


async def remember_contact(conn: Connection, complaint_id: int, contact: Contact) -> None:
    await conn.execute(
        """
        INSERT INTO channel_contacts (complaint_id, platform, reply_to, public)
        VALUES ($1, $2, $3::jsonb, $4)
        ON CONFLICT (complaint_id) DO NOTHING
        """,
        complaint_id,
        contact.platform,
        contact.reply_to,
        contact.public,
    )


async def enqueue(conn: Connection, event_id: int, complaint_id: int, at: datetime) -> bool:
    """The reply to one event, rendered from its template now, when the complaint has a contact
    and the event's type a template; False when it has none (or was enqueued already)."""
    created: int | None = await conn.fetchval(
        """
        INSERT INTO channel_replies (complaint_id, event_id, event_type, platform, reply_to,
            public, text, next_attempt_at)
        SELECT c.id, e.id, e.type, k.platform, k.reply_to, k.public,
            replace(replace(t.text, '{opd}', coalesce(o.short_name, 'OPD terkait')), '{nomor}',
                CASE WHEN k.public THEN $4 ELSE c.tracking_number END),
            $3
        FROM complaint_events e
            JOIN complaints c ON c.id = e.complaint_id
            JOIN channel_contacts k ON k.complaint_id = c.id
            JOIN reply_templates t ON t.event_type = e.type
            LEFT JOIN opds o ON o.id = c.opd_id
        WHERE e.id = $1 AND c.id = $2
        ON CONFLICT (event_id) DO NOTHING
        RETURNING id
        """,
        event_id,
        complaint_id,
        at,
        NUMBER_IN_PRIVATE,
    )
    return created is not None


async def claim_due(conn: Connection, now: datetime, platforms: list[str]) -> ReplyRow | None:
    """The oldest due reply on one of `platforms`, marked SENDING (committed before it is
    sent)."""
    return ReplyRow.from_optional(
        await conn.fetchrow(
            f"""
            UPDATE channel_replies
            SET state = 'SENDING', attempts = attempts + 1, claimed_at = $1
            WHERE id = (
                SELECT id FROM channel_replies
                WHERE state = 'PENDING' AND next_attempt_at <= $1 AND platform = ANY($2)
                ORDER BY next_attempt_at, id
                LIMIT 1
                FOR UPDATE SKIP LOCKED
            )
            RETURNING {REPLY_COLUMNS}
            """,
            now,
            platforms,
        )
    )


async def sent(conn: Connection, reply_id: int, now: datetime, message_id: str | None) -> None:
    await conn.execute(
        """
        UPDATE channel_replies
        SET state = 'SENT', sent_at = $2, platform_message_id = $3, last_error = NULL
        WHERE id = $1 AND state = 'SENDING'
        """,
        reply_id,
        now,
        message_id,
    )


async def failed(
    conn: Connection, reply_id: int, error: str, *, retry_at: datetime | None, uncertain: bool
) -> None:
    """Not sent: again at `retry_at`, or DEAD when None; UNCERTAIN when it may have been."""
    await conn.execute(
        """
        UPDATE channel_replies
        SET last_error = $2,
            state = CASE WHEN $4 THEN 'UNCERTAIN'
                         WHEN $3::timestamptz IS NULL THEN 'DEAD' ELSE 'PENDING' END,
            next_attempt_at = coalesce($3, next_attempt_at)
        WHERE id = $1 AND state = 'SENDING'
        """,
        reply_id,
        error,
        retry_at,
        uncertain,
    )


async def abandon_stale_sends(conn: Connection, claimed_before: datetime) -> int:
    """Replies left SENDING by a process that died: whether they left is unknown."""
    result: str = await conn.execute(
        """
        UPDATE channel_replies
        SET state = 'UNCERTAIN',
            last_error = 'the sender stopped while sending: it may or may not have been sent'
        WHERE state = 'SENDING' AND claimed_at < $1
        """,
        claimed_before,
    )
    return int(result.split()[-1])


async def replies_by_complaint_ids(conn: Connection, ids: list[int]) -> list[ReplyRow]:
    return ReplyRow.from_records(
        await conn.fetch(
            f"SELECT {REPLY_COLUMNS} FROM channel_replies "
            "WHERE complaint_id = any($1::bigint[]) ORDER BY complaint_id, id",
            ids,
        )
    )


async def templates(conn: Connection) -> list[TemplateRow]:
    return TemplateRow.from_records(
        await conn.fetch(
            "SELECT event_type, text, updated_at, updated_by FROM reply_templates "
            "ORDER BY array_position("
            "ARRAY['SUBMITTED','ASSIGNED','FOLLOWED_UP','RESOLVED','REJECTED','MERGED',"
            "'ORIGINAL_RESOLVED'], event_type)"
        )
    )


async def set_template(
    conn: Connection, event_type: str, text: str, at: datetime, by: str
) -> TemplateRow:
    record: Any = await conn.fetchrow(
        """
        UPDATE reply_templates SET text = $2, updated_at = $3, updated_by = $4
        WHERE event_type = $1
        RETURNING event_type, text, updated_at, updated_by
        """,
        event_type,
        text,
        at,
        by,
    )
    return TemplateRow.from_record(record)
