"""The platforms' three ways of saying when: epoch numbers (Meta and X, in seconds or
milliseconds, as numbers or strings), X's `created_at` ("Wed Oct 10 20:19:24 +0000 2018") and
ISO 8601 with an offset (the generic intake). Each becomes an aware UTC datetime or a
DeliveryError; a time that cannot be read is never guessed."""

import math
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from kilas.channels.errors import DeliveryError

# Meta's own documents disagree on units (a Messenger `timestamp` is in milliseconds, a WhatsApp
# one in seconds, `entry.time` either), so the magnitude decides: 10^11 seconds is the year 5138,
# 10^11 milliseconds March 1973, and Kilas receives nothing from either.
_MILLISECONDS_FROM = 10**11
_DIGITS = re.compile(r"[0-9]{1,17}", re.ASCII)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Matched by hand rather than with strptime, whose %a and %b follow the process's locale.
_X_CREATED_AT = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) ([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r" ([+-])([0-9]{2})([0-9]{2}) ([0-9]{4})",
    re.ASCII,
)


def epoch(value: Any, where: str) -> datetime:
    if value is None:
        raise DeliveryError(f"{where} is missing")
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        number: float = int(value)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        number = value
    else:
        raise DeliveryError(f"{where} is not a timestamp")
    if not math.isfinite(number) or number < 0 or number >= 10**17:
        raise DeliveryError(f"{where} is out of range")
    seconds = number / 1000 if number >= _MILLISECONDS_FROM else number
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise DeliveryError(f"{where} is out of range") from None


def x_created_at(value: Any, where: str) -> datetime:
    if value is None:
        raise DeliveryError(f"{where} is missing")
    match = _X_CREATED_AT.fullmatch(value) if isinstance(value, str) else None
    if match is None or match[1] not in _MONTHS:
        raise DeliveryError(f"{where} is not a time like 'Wed Oct 10 20:19:24 +0000 2018'")
    day, hour, minute, second = (int(match[n]) for n in (2, 3, 4, 5))
    offset = timedelta(hours=int(match[7]), minutes=int(match[8]))
    sign = -1 if match[6] == "-" else 1
    try:
        moment = datetime(
            int(match[9]),
            _MONTHS.index(match[1]) + 1,
            day,
            hour,
            minute,
            second,
            tzinfo=timezone(sign * offset),
        )
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise DeliveryError(f"{where} is not a real time") from None


def iso(value: Any, where: str) -> datetime:
    if value is None:
        raise DeliveryError(f"{where} is missing")
    if not isinstance(value, str):
        raise DeliveryError(f"{where} is not a string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise DeliveryError(f"{where} is not an ISO 8601 time") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise DeliveryError(f"{where} has no UTC offset")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise DeliveryError(f"{where} is out of range") from None
