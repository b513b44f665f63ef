"""The base of db/'s typed rows: frozen dataclasses built from asyncpg records by column name, so a
renamed or missing column fails where the row is made, and mypy checks every use of a field. Also
the rows of complaints and of their event log, which several modules of db/ select."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

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


@dataclass(frozen=True, slots=True)
class ComplaintRow(Row):
    """A complaint: the columns of `db.complaints.COMPLAINT_COLUMNS`."""

    id: int
    tracking_number: str
    channel: str
    external_ref: str | None
    reporter_name: str | None
    reporter_contact: str | None
    reporter_handle: str | None
    anonymous: bool
    confidential: bool
    text: str
    category_code: str | None
    region_code: str
    lat: float | None
    lon: float | None
    media_urls: list[str]
    status: str
    opd_id: int | None
    sla_policy_id: int | None
    assigned_at: datetime | None
    response_due_at: datetime | None
    resolution_due_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    rating: int | None
    rating_comment: str | None
    rejection_reason: str | None
    duplicate_of_id: int | None
    work_item_id: int | None
    version: int
    created_at: datetime
    updated_at: datetime
    response_at_risk_at: datetime | None
    response_breached_at: datetime | None
    resolution_at_risk_at: datetime | None
    resolution_breached_at: datetime | None
    escalation_level: int
    escalated_at: datetime | None


@dataclass(frozen=True, slots=True)
class EventRow(Row):
    """One entry of the complaint event log: the columns of `db.events.EVENT_COLUMNS`."""

    id: int
    complaint_id: int
    type: str
    from_status: str | None
    to_status: str
    # Where the complaint stood after the event.
    opd_id: int | None
    from_opd_id: int | None
    region_code: str
    category_code: str | None
    actor: str
    note: str | None
    data: dict[str, Any]
    version: int
    occurred_at: datetime
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class EventPageRow(EventRow):
    """An event of one page of `db.events.event_pages`: the 1-based position of its page."""

    page: int
