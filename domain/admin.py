"""Administration of reference and programme data, validated before anything is written."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from kilas.db import programmes as programmes_db
from kilas.db import reference as reference_db
from kilas.db.pool import Connection
from kilas.db.programmes import ProgrammeRow, WorkItemRow
from kilas.db.reference import OpdRow, SlaPolicyRow, SocialAccountRow
from kilas.domain import heads
from kilas.domain.errors import DomainError, ErrorCode, invalid, not_found

_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{1,62}")
_PROGRAMME_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{1,39}")
_MAX_IDR = Decimal(10) ** 18 - 1


def _text(value: str | None, field: str, max_length: int, *, required: bool = True) -> str | None:
    value = value.strip() if value is not None else None
    if not value:
        if required:
            raise invalid(field, f"{field} must not be empty")
        return None
    if len(value) > max_length:
        raise invalid(field, f"{field} is longer than {max_length} characters")
    return value


def _amount(value: Decimal | None, field: str, maximum: Decimal) -> Decimal | None:
    if value is None:
        return None
    if not value.is_finite() or value < 0 or value > maximum:
        raise invalid(field, f"{field} must be a number from 0 to {maximum}")
    return value


async def create_opd(
    conn: Connection, fields: dict[str, Any], now: datetime | None = None
) -> OpdRow:
    """A new OPD; a head given is in office from `now` (domain/heads.py)."""
    slug = fields["slug"].strip().lower()
    if not _SLUG.fullmatch(slug):
        raise invalid("slug", "slug: 2-63 lowercase letters, digits or dashes")
    row = await reference_db.insert_opd(
        conn,
        {
            "slug": slug,
            "short_name": _text(fields["short_name"], "shortName", 80),
            "name": _text(fields["name"], "name", 300),
            "kind": fields["kind"],
            "head_name": _text(fields.get("head_name"), "headName", 200, required=False),
            "head_title": _text(fields.get("head_title"), "headTitle", 200, required=False),
        },
    )
    if row is None:
        raise DomainError(ErrorCode.ALREADY_EXISTS, f"an OPD with slug {slug!r} exists", "slug")
    if row.head_name:
        await heads.record_head_fields(
            conn, row.id, row.head_name, row.head_title, now or datetime.now(UTC)
        )
    return row


async def update_opd(
    conn: Connection, opd_id: int, fields: dict[str, Any], now: datetime | None = None
) -> OpdRow:
    """Changes the fields given; a head's name or title given changes the head's record as of
    `now` (domain/heads.py: another name is a new head, no name a vacant post)."""
    # Per column: the input field that errors name, its length limit, whether it is required.
    rules = {
        "short_name": ("shortName", 80, True),
        "name": ("name", 300, True),
        "head_name": ("headName", 200, False),
        "head_title": ("headTitle", 200, False),
    }
    clean: dict[str, Any] = {}
    for key, value in fields.items():
        if key in rules:
            field, limit, required = rules[key]
            clean[key] = _text(value, field, limit, required=required)
        else:
            clean[key] = value
    row = await reference_db.update_opd(conn, opd_id, clean)
    if row is None:
        raise not_found("OPD", opd_id, "opdId")
    if "head_name" in clean or "head_title" in clean:
        await heads.record_head_fields(
            conn, row.id, row.head_name, row.head_title, now or datetime.now(UTC)
        )
    return row


async def add_social_account(
    conn: Connection,
    opd_id: int,
    platform: str,
    handle: str,
    verified: bool,
    external_id: str | None = None,
) -> SocialAccountRow:
    handle = (_text(handle, "handle", 100) or "").lstrip("@")
    if not re.fullmatch(r"[A-Za-z0-9_.]{1,100}", handle):
        raise invalid("handle", "a handle has letters, digits, dots and underscores only")
    if external_id is not None and not re.fullmatch(r"[A-Za-z0-9_.:-]{1,100}", external_id):
        raise invalid("externalId", "an account's platform id has letters, digits and _ . : - only")
    if not await reference_db.opds_by_ids(conn, [opd_id]):
        raise not_found("OPD", opd_id, "opdId")
    row = await reference_db.insert_social_account(
        conn, opd_id, platform, handle, verified, external_id
    )
    if row is None:
        raise DomainError(
            ErrorCode.ALREADY_EXISTS,
            f"@{handle} (or that platform id) on {platform} is already registered",
            "handle",
        )
    return row


async def set_social_account_verified(
    conn: Connection, account_id: int, verified: bool
) -> SocialAccountRow:
    row = await reference_db.set_social_account_verified(conn, account_id, verified)
    if row is None:
        raise not_found("social account", account_id, "socialAccountId")
    return row


async def remove_social_account(conn: Connection, account_id: int) -> SocialAccountRow:
    row = await reference_db.delete_social_account(conn, account_id)
    if row is None:
        raise not_found("social account", account_id, "socialAccountId")
    return row


async def create_programme(conn: Connection, fields: dict[str, Any]) -> ProgrammeRow:
    code = fields["code"].strip().upper()
    if not _PROGRAMME_CODE.fullmatch(code):
        raise invalid("code", "code: 2-40 capital letters, digits or dashes")
    if not 2000 <= fields["fiscal_year"] <= 2100:
        raise invalid("fiscalYear", "the fiscal year must be between 2000 and 2100")
    if not await reference_db.opds_by_ids(conn, [fields["owner_opd_id"]]):
        raise not_found("OPD", fields["owner_opd_id"], "ownerOpdId")
    predecessor = fields["predecessor_id"]
    if predecessor is not None and not await programmes_db.programmes_by_ids(conn, [predecessor]):
        raise not_found("programme", predecessor, "predecessorId")
    row = await programmes_db.insert_programme(
        conn,
        {
            "code": code,
            "name": _text(fields["name"], "name", 200),
            "description": _text(fields["description"], "description", 5000, required=False) or "",
            "owner_opd_id": fields["owner_opd_id"],
            "fiscal_year": fields["fiscal_year"],
            "budget_idr": _amount(fields["budget_idr"], "budgetIdr", _MAX_IDR),
            "realisation_idr": _amount(fields["realisation_idr"], "realisationIdr", _MAX_IDR),
            "target": _amount(fields["target"], "target", Decimal("999999999999")),
            "achievement": _amount(fields["achievement"], "achievement", Decimal("999999999999")),
            "unit": _text(fields["unit"], "unit", 40),
            "status": fields["status"],
            "predecessor_id": predecessor,
        },
    )
    if row is None:
        raise DomainError(ErrorCode.ALREADY_EXISTS, f"programme {code} exists", "code")
    return row


async def update_programme(
    conn: Connection, programme_id: int, fields: dict[str, Any]
) -> ProgrammeRow:
    description: str | None = fields.get("description")
    if description is not None and len(description) > 5000:
        raise invalid("description", "description is longer than 5000 characters")
    clean = {
        "name": _text(fields.get("name"), "name", 200, required=False),
        "description": description,
        "budget_idr": _amount(fields.get("budget_idr"), "budgetIdr", _MAX_IDR),
        "realisation_idr": _amount(fields.get("realisation_idr"), "realisationIdr", _MAX_IDR),
        "target": _amount(fields.get("target"), "target", Decimal("999999999999")),
        "achievement": _amount(fields.get("achievement"), "achievement", Decimal("999999999999")),
        "status": fields.get("status"),
    }
    row = await programmes_db.update_programme(conn, programme_id, clean)
    if row is None:
        raise not_found("programme", programme_id, "programmeId")
    return row


async def create_work_item(conn: Connection, fields: dict[str, Any]) -> WorkItemRow:
    if not await programmes_db.programmes_by_ids(conn, [fields["programme_id"]]):
        raise not_found("programme", fields["programme_id"], "programmeId")
    if not await reference_db.regions_by_codes(conn, [fields["region_code"]]):
        raise not_found("region", fields["region_code"], "regionCode")
    lat, lon = fields["lat"], fields["lon"]
    if lat is not None and lon is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise invalid("location", "latitude must be within ±90 and longitude within ±180")
    start: date | None = fields["planned_start"]
    end: date | None = fields["planned_end"]
    if start and end and end < start:
        raise invalid("plannedEnd", "the planned end is before the planned start")
    return await programmes_db.insert_work_item(
        conn,
        {
            **fields,
            "name": _text(fields["name"], "name", 200),
            "road_segment": _text(fields["road_segment"], "roadSegment", 200, required=False),
            "length_km": _amount(fields["length_km"], "lengthKm", Decimal("99999")),
            "progress_pct": _amount(fields["progress_pct"], "progressPct", Decimal(100)),
        },
    )


async def update_work_item_progress(
    conn: Connection, work_item_id: int, progress_pct: Decimal, status: str | None
) -> WorkItemRow:
    _amount(progress_pct, "progressPct", Decimal(100))
    row = await programmes_db.update_work_item_progress(conn, work_item_id, progress_pct, status)
    if row is None:
        raise not_found("work item", work_item_id, "workItemId")
    return row


async def add_sla_policy(
    conn: Connection,
    *,
    name: str,
    effective_from: datetime,
    response_hours: int,
    resolution_hours: int,
    category_hours: dict[str, int],
    now: datetime,
) -> SlaPolicyRow:
    """A new policy version. It takes effect at `effective_from`, which may not be in the past:
    complaints already assigned keep the version they were assigned under."""
    clean_name = _text(name, "name", 200)
    assert clean_name is not None
    if effective_from.tzinfo is None:
        raise invalid("effectiveFrom", "effectiveFrom needs a time zone offset, e.g. +07:00")
    if effective_from < now:
        raise invalid("effectiveFrom", "a policy version cannot take effect in the past")
    latest = await reference_db.latest_sla_policy(conn)
    if latest is not None and effective_from <= latest.effective_from:
        raise invalid("effectiveFrom", "a new version must take effect after the latest one")
    for field, hours in (("responseHours", response_hours), ("resolutionHours", resolution_hours)):
        if not 1 <= hours <= 24 * 365:
            raise invalid(field, f"{field} must be between 1 and 8760")
    known = {category.code for category in await reference_db.all_categories(conn)}
    for code, hours in category_hours.items():
        if code not in known:
            raise not_found("category", code, "categoryResolutionHours")
        if not 1 <= hours <= 24 * 365:
            raise invalid("categoryResolutionHours", "hours must be between 1 and 8760")
    return await reference_db.insert_sla_policy(
        conn, clean_name, effective_from, response_hours, resolution_hours, category_hours
    )
