from typing import TypeVar

import strawberry

T = TypeVar("T")


class MissingRow(LookupError):
    """A row that the database's constraints promise is not there."""


def required(row: T | None, what: str) -> T:
    """`row`, which a foreign key promises; an internal error (masked in production) if it is
    absent. Unlike `assert`, the check stays under `python -O`."""
    if row is None:
        raise MissingRow(f"{what} is missing")
    return row


@strawberry.interface(description="An object with a global id, fetchable with `node(id:)`.")
class Node:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(description="A point in WGS84 degrees.")
class GeoPoint:
    lat: float
    lon: float
