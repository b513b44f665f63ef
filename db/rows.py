"""The base of db/'s typed rows: frozen dataclasses built from asyncpg records by column name, so a
renamed or missing column fails where the row is made, and mypy checks every use of a field."""

from collections.abc import Iterable
from typing import Self

import asyncpg


class Row:
    """Subclassed by `@dataclass(frozen=True, slots=True)` classes whose fields are the columns
    their SQL selects, no more and no fewer (either way the constructor raises TypeError)."""

    __slots__ = ()

    @classmethod
    def from_record(cls, record: asyncpg.Record) -> Self:
        return cls(**record)

    @classmethod
    def from_records(cls, records: Iterable[asyncpg.Record]) -> list[Self]:
        return [cls(**record) for record in records]

    @classmethod
    def from_optional(cls, record: asyncpg.Record | None) -> Self | None:
        return cls(**record) if record is not None else None
