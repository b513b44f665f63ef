"""Reading a platform's JSON without trusting it. Each reader checks a value's type and names the
path of what is wrong, so that a malformed delivery is one DeliveryError with a reason, never a
KeyError or TypeError from deep inside a parser. A body is refused whole when any string in it,
keys included, is not text (a NUL, or a lone surrogate such as "\\ud800" that JSON can escape):
neither could be stored or echoed later (kilas/guard/text.py refuses the same in the API)."""

import json
import math
import re
from typing import Any

from kilas.channels.errors import DeliveryError

Object = dict[str, Any]


def _refuse_constant(name: str) -> Any:
    # Python's json reads NaN and Infinity, which no platform sends and JSON does not have.
    raise ValueError(f"{name} is not JSON")


def load(body: bytes) -> Any:
    try:
        document = json.loads(body, parse_constant=_refuse_constant)
    except RecursionError:
        raise DeliveryError("the body nests too deeply") from None
    except ValueError:
        # Also UnicodeDecodeError, and an integer too long for int(): both are ValueErrors.
        raise DeliveryError("the body is not JSON") from None
    _refuse_non_text(document)
    return document


_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")
# Where a value sits, as (the parent's trail, key): a path is spelled out only for a refusal, so
# that a wide body nested deep does not cost a long string per value.
Trail = tuple["Trail", str | int] | None


def _refuse_non_text(document: Any) -> None:
    # Iterative: a body nested as deep as the JSON parser allows must not exhaust the stack.
    pending: list[tuple[Any, Trail]] = [(document, None)]
    while pending:
        value, trail = pending.pop()
        if isinstance(value, str):
            if _NOT_TEXT.search(value):
                raise DeliveryError(f"{_spelled(trail)} is not text (a NUL or a lone surrogate)")
        elif isinstance(value, dict):
            for key, item in value.items():
                if _NOT_TEXT.search(key):
                    where = _spelled(trail)
                    raise DeliveryError(f"a key in {where} is not text (a NUL or a lone surrogate)")
                pending.append((item, (trail, key)))
        elif isinstance(value, list):
            pending.extend((item, (trail, i)) for i, item in enumerate(value))


def _spelled(trail: Trail) -> str:
    keys: list[str | int] = []
    while trail is not None:
        trail, key = trail
        keys.append(key)
    where = "body"
    for key in reversed(keys):
        where = at(where, key)
    return where


def shown(value: Any) -> str:
    """A value from the body quoted in a reason, cut short: a reason goes to the log whole."""
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def at(where: str, key: str | int) -> str:
    return f"{where}[{key}]" if isinstance(key, int) else f"{where}.{key}"


def as_object(value: Any, where: str) -> Object:
    if not isinstance(value, dict):
        raise DeliveryError(f"{where} is not an object")
    return value


def objects(parent: Object, key: str, where: str) -> list[tuple[str, Object]]:
    """The objects of an optional array, each with its path."""
    path = at(where, key)
    value = parent.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise DeliveryError(f"{path} is not an array")
    return [(at(path, i), as_object(item, at(path, i))) for i, item in enumerate(value)]


def child(parent: Object, key: str, where: str) -> Object:
    if key not in parent:
        raise DeliveryError(f"{at(where, key)} is missing")
    return as_object(parent[key], at(where, key))


def optional_child(parent: Object, key: str, where: str) -> Object:
    value = parent.get(key)
    return {} if value is None else as_object(value, at(where, key))


def optional_string(parent: Object, key: str, where: str) -> str | None:
    value = parent.get(key)
    if value is None or isinstance(value, str):
        return value
    raise DeliveryError(f"{at(where, key)} is not a string")


def string(parent: Object, key: str, where: str) -> str:
    value = optional_string(parent, key, where)
    if value is None:
        raise DeliveryError(f"{at(where, key)} is missing")
    return value


def optional_ident(parent: Object, key: str, where: str) -> str | None:
    """An id: a non-empty string, or an integer where a platform sends ids as numbers."""
    value = parent.get(key)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    if not isinstance(value, str):
        raise DeliveryError(f"{at(where, key)} is not an id")
    if not value:
        raise DeliveryError(f"{at(where, key)} is empty")
    return value


def ident(parent: Object, key: str, where: str) -> str:
    value = optional_ident(parent, key, where)
    if value is None:
        raise DeliveryError(f"{at(where, key)} is missing")
    return value


def strings(parent: Object, key: str, where: str) -> list[str]:
    """An optional array of strings."""
    path = at(where, key)
    value = parent.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise DeliveryError(f"{path} is not an array of strings")
    return value


def coordinate(value: Any, where: str, limit: float) -> float:
    """A latitude (limit 90) or longitude (limit 180), as the complaints table will check it."""
    if value is None:
        raise DeliveryError(f"{where} is missing")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DeliveryError(f"{where} is not a number")
    if isinstance(value, int) and abs(value) > limit:
        # float() of a very long integer overflows instead of answering.
        raise DeliveryError(f"{where} is out of range")
    number = float(value)
    if not math.isfinite(number) or abs(number) > limit:
        raise DeliveryError(f"{where} is out of range")
    return number


def location(parent: Object, lat_key: str, lon_key: str, where: str) -> tuple[float, float]:
    """(latitude, longitude) from an object's two keys, each path named as it is in the body."""
    return (
        coordinate(parent.get(lat_key), at(where, lat_key), 90),
        coordinate(parent.get(lon_key), at(where, lon_key), 180),
    )
