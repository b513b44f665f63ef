"""SQL composed with named parameters, `%(name)s`, turned into asyncpg's numbered `$n` at the
last moment: a fragment (a filter, a visibility rule) names its parameters, so adding one never
renumbers the statements that use it."""

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

_NAMED = re.compile(r"%\((\w+)\)s")


@functools.lru_cache(maxsize=512)
def _numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _NAMED.sub(number, sql), tuple(names)


def numbered(sql: str, values: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """asyncpg's form of `sql`: its named parameters numbered in order of first use (a name
    used twice is one parameter), with their values in that order. A name without a value, or
    a value that no name uses, is a mistake in the caller and raises KeyError."""
    text, names = _numbered(sql)
    missing = [name for name in names if name not in values]
    unused = sorted(set(values) - set(names))
    if missing or unused:
        raise KeyError(f"SQL parameters without a value: {missing}; values never used: {unused}")
    return text, [values[name] for name in names]


def names_of(sql: str) -> tuple[str, ...]:
    """The named parameters of `sql`, in order of first use."""
    return _numbered(sql)[1]


def renumbered(sql: str, names: Sequence[str], first: int) -> str:
    """`sql` with its named parameters `names` numbered from `first` on, in that order: for a
    fragment that joins a statement numbered elsewhere (the compiler's, compiler/sql.py), whose
    values it lists in the same order."""
    numbers = {name: first + index for index, name in enumerate(names)}
    return _NAMED.sub(lambda match: f"${numbers[match.group(1)]}", sql)
