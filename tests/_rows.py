"""Typed rows made without a database, for tests of pure rules: every column a plausible value,
and the columns a test cares about given."""

from datetime import UTC, datetime
from typing import Any

from kilas.db.rows import ComplaintRow, EventRow

SUBMITTED_AT = datetime(2026, 11, 2, 8, tzinfo=UTC)


def complaint_row(**columns: Any) -> ComplaintRow:
    """A complaint just received on the web, held by no OPD; `columns` override."""
    received: dict[str, Any] = {
        "id": 1, "tracking_number": "JTG-261102-ABCDEF", "channel": "WEB", "external_ref": None,
        "reporter_name": None, "reporter_contact": None, "reporter_handle": None,
        "anonymous": False, "confidential": False, "text": "Jalan berlubang.",
        "category_code": None, "region_code": "33.74", "lat": None, "lon": None, "media_urls": [],
        "status": "RECEIVED", "opd_id": None, "sla_policy_id": None, "assigned_at": None,
        "response_due_at": None, "resolution_due_at": None, "first_response_at": None,
        "resolved_at": None, "closed_at": None, "rating": None, "rating_comment": None,
        "rejection_reason": None, "duplicate_of_id": None, "work_item_id": None, "version": 1,
        "created_at": SUBMITTED_AT, "updated_at": SUBMITTED_AT, "response_at_risk_at": None,
        "response_breached_at": None, "resolution_at_risk_at": None,
        "resolution_breached_at": None, "escalation_level": 0, "escalated_at": None,
    }  # fmt: skip
    return ComplaintRow(**{**received, **columns})


def event_row(**columns: Any) -> EventRow:
    """The SUBMITTED event of `complaint_row()`; `columns` override."""
    submitted: dict[str, Any] = {
        "id": 1, "complaint_id": 1, "type": "SUBMITTED", "from_status": None,
        "to_status": "RECEIVED", "opd_id": None, "from_opd_id": None, "region_code": "33.74",
        "category_code": None, "actor": "public", "note": None, "data": {}, "version": 1,
        "occurred_at": SUBMITTED_AT, "recorded_at": SUBMITTED_AT,
    }  # fmt: skip
    return EventRow(**{**submitted, **columns})
