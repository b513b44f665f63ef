"""Relay global object ids: base64 of "TypeName:key", opaque to clients."""

import base64
import binascii
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, overload

from kilas.domain.errors import DomainError, invalid

WIB = timezone(timedelta(hours=7), "WIB")
MAX_BIGINT = 2**63 - 1


@overload
def wib(value: datetime) -> datetime: ...
@overload
def wib(value: None) -> None: ...
def wib(value: datetime | None) -> datetime | None:
    """Times are stored in UTC and shown in Asia/Jakarta (WIB, UTC+7, no daylight saving)."""
    return value.astimezone(WIB) if value is not None else None


def to_global_id(type_name: str, key: object) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{key}".encode()).decode().rstrip("=")


def parse_global_id(value: str) -> tuple[str, str]:
    try:
        padded = value + "=" * (-len(value) % 4)
        type_name, _, key = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        type_name, key = "", ""
    if not type_name or not key:
        raise invalid("id", f"{value!r} is not a Kilas object id")
    return type_name, key


def database_id(key: str) -> int | None:
    """A positive bigint written in ASCII digits, or None ("²" passes str.isdigit, for one)."""
    if not (key.isascii() and key.isdigit()) or len(key) > 19:
        return None
    number = int(key)
    return number if 0 < number <= MAX_BIGINT else None


def decode_id(value: str, expected: str, field: str) -> int:
    """The integer key of a global id of type `expected`, or an INVALID_INPUT error."""
    try:
        type_name, key = parse_global_id(value)
    except DomainError:
        type_name, key = "", ""
    number = database_id(key) if type_name == expected else None
    if number is None:
        raise invalid(field, f"{value!r} is not the id of a {expected}")
    return number


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_keyset_cursor(value: str, ordering: str) -> tuple[datetime, int]:
    """A (timestamp, id) keyset cursor made by `encode_cursor([ordering, timestamp, id])`;
    a cursor of another ordering is refused rather than silently misread."""
    try:
        padded = value + "=" * (-len(value) % 4)
        order, stamp, key = json.loads(base64.urlsafe_b64decode(padded.encode()))
        moment = datetime.fromisoformat(stamp)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        if order != ordering or type(key) is not int or not 0 < key <= MAX_BIGINT:
            raise ValueError
        return moment, key
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise invalid("after", f"{value!r} is not a cursor of this connection") from None


def decode_event_cursor(value: str, field: str = "after") -> int:
    """Event cursors are the event log's ids, written as decimal strings."""
    if value == "0":
        return 0
    number = database_id(value)
    if number is None:
        raise invalid(field, f"{value!r} is not an event cursor")
    return number


def utc_moment(value: datetime, field: str) -> datetime:
    """A time in UTC; one written without an offset is read in WIB, as the API shows times."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=WIB)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise invalid(field, f"{field} is out of range") from None
