"""Open311 GeoReport v2's shapes, pure: statuses, times, the JSON and XML bodies (the
specification's element names), and its error format. partners/open311.py serves them."""

import json
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

from kilas.db.open311 import RequestRow
from kilas.db.reference import CategoryRow, OpdRow
from kilas.schema.ids import to_global_id, wib

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# Kilas's lifecycle in GeoReport's two statuses.
OPEN = ("RECEIVED", "ASSIGNED", "IN_PROGRESS")
CLOSED = ("RESOLVED", "CLOSED", "REJECTED")
# What a request says of its status when its last event carries no note.
STATUS_NOTES = {
    "RECEIVED": "Diterima pusat komando, menunggu verifikasi",
    "ASSIGNED": "Diteruskan ke OPD yang bertanggung jawab",
    "IN_PROGRESS": "Sedang ditindaklanjuti OPD",
    "RESOLVED": "Diselesaikan OPD, menunggu konfirmasi pelapor",
    "CLOSED": "Selesai",
    "REJECTED": "Ditolak",
}
# The XML element of one item of each list the API answers.
ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}


def open311_status(status: str) -> str:
    return "open" if status in OPEN else "closed"


def w3c(value: datetime | None) -> str | None:
    """A time as GeoReport writes it (W3C: 2026-11-20T15:00:00+07:00), to the second."""
    return wib(value).replace(microsecond=0).isoformat() if value is not None else None


def service(category: CategoryRow, opds: dict[int, OpdRow]) -> dict[str, Any]:
    opd = opds.get(category.default_opd_id)
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.name_en,
        "metadata": False,
        "type": "realtime",
        "keywords": category.name_en.lower(),
        "group": opd.short_name if opd is not None else None,
    }


def service_definition(category: CategoryRow) -> dict[str, Any]:
    # No category asks for more than the request's own fields: a definition without attributes.
    return {"service_code": category.code, "attributes": []}


def service_request_id(complaint_id: int) -> str:
    """A request's GeoReport id: its complaint's global id (not the tracking number)."""
    return to_global_id("Complaint", complaint_id)


def service_request(row: RequestRow) -> dict[str, Any]:
    return {
        "service_request_id": service_request_id(row.id),
        "status": open311_status(row.status),
        "status_notes": row.last_note or STATUS_NOTES.get(row.status, row.status),
        "service_name": row.category_name,
        "service_code": row.category_code,
        "description": row.text,
        "agency_responsible": row.opd_name,
        "service_notice": None,
        "requested_datetime": w3c(row.created_at),
        "updated_datetime": w3c(row.updated_at),
        "expected_datetime": w3c(row.resolution_due_at),
        "address": row.region_name,
        "address_id": None,
        "zipcode": None,
        "lat": row.lat,
        "long": row.lon,
        "media_url": row.media_urls[0] if row.media_urls else None,
    }


def errors(code: int, description: str) -> list[dict[str, Any]]:
    return [{"code": code, "description": description}]


def body(value: Any, fmt: str, root: str) -> bytes:
    """`value` as JSON, or as XML under `root` (a list's items named by ITEMS)."""
    if fmt == "json":
        return json.dumps(value, ensure_ascii=False).encode()
    element = ET.Element(root)
    _fill(element, root, value)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


def _fill(element: ET.Element, name: str, value: Any) -> None:
    if isinstance(value, list):
        item = ITEMS.get(name, "item")
        for entry in value:
            _fill(ET.SubElement(element, item), item, entry)
    elif isinstance(value, dict):
        for key, entry in value.items():
            _fill(ET.SubElement(element, key), key, entry)
    elif value is None:
        return
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        element.text = str(value)
