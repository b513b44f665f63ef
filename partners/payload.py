"""What one event becomes in a webhook: the Standard Webhooks envelope (`type`, `timestamp`,
`data`), `data` holding the event as `complaintEvents` gives it to the endpoint's partner key
and the complaint as it stands now (null where that key may not see it now, by the rule of
`ComplaintEvent.complaint`). Nothing personal is in it whatever the key: no reporter, no
tracking number, no actor's name; a partner reads more through the API with its key."""

import json
from dataclasses import dataclass
from typing import Any

from kilas.auth.caller import Caller
from kilas.auth.policy import can_see_complaint
from kilas.db.reference import CategoryRow, OpdRow, RegionRow
from kilas.db.rows import ComplaintRow, EventRow
from kilas.schema.ids import to_global_id, wib


@dataclass(frozen=True)
class Names:
    """The reference data an event names (OPDs, regions, categories), read once per turn."""

    opds: dict[int, OpdRow]
    regions: dict[str, RegionRow]
    categories: dict[str, CategoryRow]

    def opd(self, opd_id: int | None) -> dict[str, Any] | None:
        row = self.opds.get(opd_id) if opd_id is not None else None
        if row is None:
            return None
        return {
            "id": to_global_id("Opd", row.id),
            "slug": row.slug,
            "shortName": row.short_name,
            "name": row.name,
        }

    def region(self, code: str | None) -> dict[str, Any] | None:
        row = self.regions.get(code) if code is not None else None
        return {"code": row.code, "name": row.name} if row is not None else None

    def category(self, code: str | None) -> dict[str, Any] | None:
        row = self.categories.get(code) if code is not None else None
        return {"code": row.code, "name": row.name} if row is not None else None


def _moment(value: Any) -> str | None:
    return wib(value).isoformat() if value is not None else None


def complaint_data(row: ComplaintRow, names: Names) -> dict[str, Any]:
    return {
        "id": to_global_id("Complaint", row.id),
        "status": row.status,
        "channel": row.channel,
        "text": row.text,
        "category": names.category(row.category_code),
        "region": names.region(row.region_code),
        "opd": names.opd(row.opd_id),
        "location": {"lat": row.lat, "lon": row.lon} if row.lat is not None else None,
        "createdAt": _moment(row.created_at),
        "assignedAt": _moment(row.assigned_at),
        "responseDueAt": _moment(row.response_due_at),
        "resolutionDueAt": _moment(row.resolution_due_at),
        "firstResponseAt": _moment(row.first_response_at),
        "resolvedAt": _moment(row.resolved_at),
        "closedAt": _moment(row.closed_at),
        "escalationLevel": row.escalation_level,
        "version": row.version,
    }


def event_body(event: EventRow, complaint: ComplaintRow, caller: Caller, names: Names) -> bytes:
    """The request body of one event to one endpoint whose key is `caller`."""
    data = event.data or {}
    body = {
        "type": f"complaint.{event.type.lower()}",
        "timestamp": _moment(event.recorded_at),
        "data": {
            "cursor": str(event.id),
            "id": to_global_id("ComplaintEvent", event.id),
            "type": event.type,
            "fromStatus": event.from_status,
            "toStatus": event.to_status,
            "version": event.version,
            "occurredAt": _moment(event.occurred_at),
            "recordedAt": _moment(event.recorded_at),
            "note": event.note,
            "slaClock": data.get("clock") or None,
            "escalationLevel": data.get("level"),
            "opd": names.opd(event.opd_id),
            "fromOpd": names.opd(event.from_opd_id),
            "region": names.region(event.region_code),
            "complaint": complaint_data(complaint, names)
            if can_see_complaint(caller, complaint)
            else None,
        },
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
