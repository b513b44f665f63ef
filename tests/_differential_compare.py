"""How the compiled path's answer may differ from the oracle's, and how to show it. Pure, so that
a test can prove it tells apart what it must."""

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from tests._differential import GeneratedQuery

# One personal-data read the access log recorded: subject, role, opd_id, field, address,
# complaint_id (not its id or time).
Read = tuple[Any, ...]


@dataclass(frozen=True)
class Outcome:
    """What one path answered: the response body and the access log rows it wrote."""

    body: str
    reads: Counter[Read]


def _decode(body: str) -> Any:
    # An object as its key-value pairs in order, tagged so that it never equals an array.
    return json.loads(body, object_pairs_hook=lambda pairs: ("{}", pairs))


def _plain(value: Any) -> Any:
    """A decoded value as JSON again, for messages."""
    if isinstance(value, tuple):
        return {key: _plain(item) for key, item in value[1]}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _show(value: Any) -> str:
    return json.dumps(_plain(value))[:200]


def _first_difference(a: Any, b: Any, path: str) -> str | None:
    """Where two decoded values first differ: a key, the order of keys, a length, a value, or
    a type (1 and 1.0, and 1 and true, are different JSON)."""
    if type(a) is not type(b):
        return f"{path}: {_show(a)} != {_show(b)}"
    if isinstance(a, tuple):
        keys_a, keys_b = [k for k, _ in a[1]], [k for k, _ in b[1]]
        if keys_a != keys_b:
            return f"{path}: keys {keys_a} != {keys_b}"
        for (key, x), (_, y) in zip(a[1], b[1], strict=True):
            if found := _first_difference(x, y, f"{path}.{key}"):
                return found
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)} items"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if found := _first_difference(x, y, f"{path}[{i}]"):
                return found
        return None
    return None if a == b else f"{path}: {a!r} != {b!r}"


def _errors(body: str) -> Counter[tuple[str, ...]]:
    errors = json.loads(body).get("errors") or []
    return Counter(
        (
            str(e.get("message")),
            json.dumps(e.get("path")),
            json.dumps(e.get("locations")),
            json.dumps(e.get("extensions"), sort_keys=True),
        )
        for e in errors
    )


def differences(oracle: Outcome, compiled: Outcome) -> list[str]:
    """How the compiled path's answer differs from the oracle's: the response's keys, its data
    (keys in order), its errors (as a multiset), the personal-data reads it logged."""
    found = []
    a, b = _decode(oracle.body)[1], _decode(compiled.body)[1]
    if [k for k, _ in a] != [k for k, _ in b]:
        found.append(f"response keys: {[k for k, _ in a]} != {[k for k, _ in b]}")
    where = _first_difference(dict(a).get("data"), dict(b).get("data"), "data")
    if where is not None:
        found.append(f"data differ at {where}")
    errors_a, errors_b = _errors(oracle.body), _errors(compiled.body)
    if errors_a != errors_b:
        found.append(
            f"errors only in the oracle: {list((errors_a - errors_b).elements())}; "
            f"only compiled: {list((errors_b - errors_a).elements())}"
        )
    if oracle.reads != compiled.reads:
        found.append(
            f"access log only in the oracle: {list((oracle.reads - compiled.reads).elements())}; "
            f"only compiled: {list((compiled.reads - oracle.reads).elements())}"
        )
    return found


def explain(
    query: GeneratedQuery, caller: str, oracle: Outcome, compiled: Outcome, found: list[str]
) -> str:
    return "\n".join(
        [
            f"the compiled path answered {caller} differently:",
            *(f"  - {line}" for line in found),
            f"query: {query.text}",
            f"variables: {json.dumps(query.variables)}  operation: {query.operation_name}",
            f"oracle:   {oracle.body[:3000]}",
            f"compiled: {compiled.body[:3000]}",
        ]
    )
