"""What a complaint's fields read beyond its own row: a page of its timeline, through the
request's loader, so any number of complaints' timelines is one statement. schema/complaints.py
declares the fields; this reads them."""

from kilas.db.events import MAX_TIMELINE_PAGE
from kilas.db.rows import EventPageRow
from kilas.domain.errors import invalid
from kilas.resolvers.context import Info
from kilas.schema.ids import decode_event_cursor


async def timeline_page(
    info: Info, complaint_id: int, first: int, after: str | None
) -> list[EventPageRow]:
    """The complaint's events after the cursor, oldest first: `first` of them and one more (to
    tell whether there is a next page)."""
    if not 1 <= first <= MAX_TIMELINE_PAGE:
        raise invalid("first", f"first must be between 1 and {MAX_TIMELINE_PAGE}")
    start = decode_event_cursor(after) if after is not None else 0
    return await info.context.loaders.timeline_page.load((complaint_id, start, first + 1))
