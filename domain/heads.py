"""Who heads an OPD over time. Appointing a head ends the term of the one before at the new
term's start; no term is ever dropped, so every breach and escalation stays with the head in
office when it happened. Each change locks the OPD's row, and the database refuses overlapping
terms besides (migration 0012).

createOpd and updateOpd still take a head's name and title, the OPD row's head_name and
head_title: those columns now mirror the head in office, and setting them records terms here
(`record_head_fields`). A term cannot start in the future, so the mirror never runs ahead of the
record."""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from kilas.db import heads as heads_db
from kilas.db.heads import HeadRow
from kilas.db.pool import Connection
from kilas.domain.errors import DomainError, ErrorCode, invalid, not_found

_HANDLE = re.compile(r"[A-Za-z0-9_.]{1,100}")
_WIB = timezone(timedelta(hours=7))
MAX_ACCOUNTS = 10


@dataclass(frozen=True)
class HeadAccount:
    """One of a head's own social-media accounts."""

    platform: str
    handle: str
    verified: bool = False
    external_id: str | None = None


def _text(value: str | None, field: str, max_length: int) -> str:
    value = value.strip() if value is not None else ""
    if not value:
        raise invalid(field, f"{field} must not be empty")
    if len(value) > max_length:
        raise invalid(field, f"{field} is longer than {max_length} characters")
    return value


def _account(account: HeadAccount) -> HeadAccount:
    handle = account.handle.strip().lstrip("@")
    if not _HANDLE.fullmatch(handle):
        raise invalid("accounts", "a handle has 1-100 letters, digits, dots and underscores only")
    external_id = account.external_id.strip() if account.external_id is not None else None
    if external_id is not None and not 1 <= len(external_id) <= 100:
        raise invalid("accounts", "an externalId has 1-100 characters")
    return HeadAccount(account.platform, handle, account.verified, external_id)


async def appoint(
    conn: Connection,
    opd_id: int,
    *,
    name: str,
    title: str,
    term_start: datetime,
    now: datetime,
    accounts: Sequence[HeadAccount] = (),
) -> HeadRow:
    """A new head of the OPD from `term_start`, with their own accounts; the term in office (or
    the last one, when it ended after `term_start`) ends where the new one starts. Refused with
    INVALID_INPUT for a start in the future or not after the latest term's start."""
    clean_name = _text(name, "name", 200)
    clean_title = _text(title, "title", 200)
    if term_start.tzinfo is None:
        raise invalid("termStart", "termStart needs a time zone offset, e.g. +07:00")
    if term_start > now:
        raise invalid("termStart", "a term cannot start in the future: appoint the head then")
    if len(accounts) > MAX_ACCOUNTS:
        raise invalid("accounts", f"a head has at most {MAX_ACCOUNTS} accounts")
    clean_accounts = [_account(account) for account in accounts]
    keys = [(a.platform, a.handle.lower()) for a in clean_accounts]
    if len(set(keys)) != len(keys):
        raise invalid("accounts", "each account may appear once")
    if not await heads_db.lock_opd(conn, opd_id):
        raise not_found("OPD", opd_id, "opdId")
    head = await _begin_term(conn, opd_id, clean_name, clean_title, term_start, "termStart")
    for account in clean_accounts:
        added = await heads_db.insert_account(
            conn, head.id, account.platform, account.handle, account.verified, account.external_id
        )
        if added is None:
            raise DomainError(
                ErrorCode.ALREADY_EXISTS,
                f"@{account.handle} on {account.platform} is already a head's account",
                "accounts",
            )
    await heads_db.set_opd_head_columns(conn, opd_id, head.name, head.title)
    return head


async def _begin_term(
    conn: Connection, opd_id: int, name: str, title: str | None, start: datetime, field: str
) -> HeadRow:
    latest = await heads_db.latest_head(conn, opd_id)
    if latest is not None:
        if start <= latest.term_start:
            since = latest.term_start.astimezone(_WIB).isoformat()
            raise invalid(
                field,
                f"a new term must start after the current head's term began ({since}); "
                "terms never overlap",
            )
        if latest.term_end is None or latest.term_end > start:
            await heads_db.end_term(conn, latest.id, start)
    return await heads_db.insert_head(conn, opd_id, name, title, start)


async def record_head_fields(
    conn: Connection, opd_id: int, name: str | None, title: str | None, now: datetime
) -> None:
    """The OPD row's head_name and head_title as createOpd or updateOpd just set them (the OPD
    row locked), recorded as terms: another name is a new head from `now` (the term in office
    ends); the same name with another title corrects the term in office; no name ends the term
    in office (the post is vacant). A term that began at this very moment is corrected in
    place instead (or, emptied, dropped): it never held office for any time."""
    current = next(iter(await heads_db.heads_in_office(conn, [opd_id], now)), None)
    if not name:
        if current is None:
            return
        if current.term_start >= now:
            await heads_db.delete_head(conn, current.id)
        else:
            await heads_db.end_term(conn, current.id, now)
        return
    if current is not None and (current.name == name or current.term_start >= now):
        if (current.name, current.title) != (name, title):
            await heads_db.correct_head(conn, current.id, name, title)
        return
    await _begin_term(conn, opd_id, name, title, now, "headName")
