"""What a complaint's fields read beyond its own row: a page of its timeline (through the
request's loader, so any number of complaints' timelines is one statement) and its personal
data (allowed and written to the access log before it leaves). schema/complaints.py declares
the fields; this reads them."""

import asyncpg

from kilas.db.events import MAX_TIMELINE_PAGE
from kilas.domain.errors import invalid
from kilas.resolvers.context import Info
from kilas.resolvers.permissions import read_personal_data
from kilas.schema.ids import decode_event_cursor


async def timeline_page(
    info: Info, complaint_id: int, first: int, after: str | None
) -> list[asyncpg.Record]:
    """The complaint's events after the cursor, oldest first: `first` of them and one more (to
    tell whether there is a next page)."""
    if not 1 <= first <= MAX_TIMELINE_PAGE:
        raise invalid("first", f"first must be between 1 and {MAX_TIMELINE_PAGE}")
    start = decode_event_cursor(after) if after is not None else 0
    rows: list[asyncpg.Record] = await info.context.loaders.timeline_page.load(
        (complaint_id, start, first + 1)
    )
    return rows


async def external_ref(info: Info, row: asyncpg.Record) -> str | None:
    """The channel's own id: personal data, logged when read."""
    value: str | None = row["external_ref"]
    if value is None:
        return None
    await read_personal_data(info, row, "externalRef")
    return value


async def reporter(info: Info, row: asyncpg.Record) -> tuple[str, str, str] | None:
    """The reporter's name, contact and handle: personal data, logged when read; None when the
    complaint names no reporter."""
    if not (row["reporter_name"] or row["reporter_contact"] or row["reporter_handle"]):
        return None
    await read_personal_data(info, row, "reporter")
    return row["reporter_name"], row["reporter_contact"], row["reporter_handle"]
