"""Reference data and programmes as SQL: OPDs, their social accounts, regions, categories,
SLA policies, programmes and their work items, as schema/reference.py and schema/programmes.py
resolve them."""

from kilas.compiler.heads import OPD_HEADS, head_now
from kilas.compiler.objects import (
    Ctx,
    FieldFn,
    Row,
    Sel,
    column,
    count_of,
    decimal,
    global_id,
    many,
    moment,
    one,
    point,
)

OPD: dict[str, FieldFn] = {
    "id": global_id("Opd", "id"),
    "slug": column("slug"),
    "shortName": column("short_name"),
    "name": column("name"),
    "kind": column("kind"),
    "head": head_now,
    "heads": OPD_HEADS,
    "updatedAt": moment("updated_at"),
    "socialAccounts": many(
        "SocialAccount",
        "opd_social_accounts",
        "{b}.opd_id = {a}.id",
        "{b}.platform, {b}.handle",
    ),
    "categories": many("Category", "categories", "{b}.default_opd_id = {a}.id", "{b}.code"),
    "openBacklog": count_of("{b}.opd_id = {a}.id AND {b}.status IN ('ASSIGNED', 'IN_PROGRESS')"),
}

SOCIAL_ACCOUNT: dict[str, FieldFn] = {
    "id": global_id("SocialAccount", "id"),
    "platform": column("platform"),
    "handle": column("handle"),
    "verified": column("verified"),
    "externalId": column("external_id"),
    "opd": one("Opd", "opds", "{b}.id = {a}.opd_id"),
}

REGION: dict[str, FieldFn] = {
    "id": global_id("Region", "code"),
    "code": column("code"),
    "bpsCode": column("bps_code"),
    "name": column("name"),
    "type": column("type"),
    "seat": column("seat"),
    "seatLocation": point("seat_lat", "seat_lon", nullable=False),
    "openComplaints": count_of(
        "{b}.region_code = {a}.code AND {b}.status IN ('RECEIVED', 'ASSIGNED', 'IN_PROGRESS')"
    ),
}


def resolution_hours_now(ctx: Ctx, row: Row, sel: Sel) -> str:
    """The category's own resolution hours under the policy in force at the request's time."""
    h, p = ctx.st.alias("h"), ctx.st.alias("s")
    now = ctx.st.now()
    return (
        f"(SELECT {h}.resolution_hours FROM sla_policy_category_hours {h} "
        f"WHERE {h}.category_code = {row.alias}.code AND {h}.policy_id = "
        f"(SELECT {p}.id FROM sla_policies {p} WHERE {p}.effective_from <= {now} "
        f"ORDER BY {p}.effective_from DESC LIMIT 1))"
    )


CATEGORY: dict[str, FieldFn] = {
    "id": global_id("Category", "code"),
    "code": column("code"),
    "name": column("name"),
    "nameEn": column("name_en"),
    "defaultOpd": one("Opd", "opds", "{b}.id = {a}.default_opd_id"),
    "resolutionHours": resolution_hours_now,
}

SLA_POLICY: dict[str, FieldFn] = {
    "id": global_id("SlaPolicy", "id"),
    "name": column("name"),
    "effectiveFrom": moment("effective_from"),
    "responseHours": column("response_hours"),
    "resolutionHours": column("resolution_hours"),
    "categoryResolutionHours": many(
        "CategoryResolutionHours",
        "sla_policy_category_hours",
        "{b}.policy_id = {a}.id",
        "{b}.category_code",
    ),
}

CATEGORY_HOURS: dict[str, FieldFn] = {
    "categoryCode": column("category_code"),
    "hours": column("resolution_hours"),
}


# Programmes ----------------------------------------------------------------------------------


def percent_of(part: str, whole: str) -> FieldFn:
    """`float(part / whole * 100) if whole else 0.0`, computed with 60 decimal places, so that
    the nearest float is the one Python's 28-digit Decimal gives."""
    return lambda ctx, row, sel: (
        f"kilas_float(CASE WHEN {row.alias}.{whole} = 0 THEN 0::float8 "
        f"ELSE ({row.alias}.{part}::numeric(1000, 60) * 100 / {row.alias}.{whole})::float8 END)"
    )


PROGRAMME: dict[str, FieldFn] = {
    "id": global_id("Programme", "id"),
    "code": column("code"),
    "name": column("name"),
    "description": column("description"),
    "fiscalYear": column("fiscal_year"),
    "budgetIdr": decimal("budget_idr"),
    "realisationIdr": decimal("realisation_idr"),
    "target": decimal("target"),
    "achievement": decimal("achievement"),
    "unit": column("unit"),
    "status": column("status"),
    "updatedAt": moment("updated_at"),
    "absorptionPct": percent_of("realisation_idr", "budget_idr"),
    "achievementPct": percent_of("achievement", "target"),
    "owner": one("Opd", "opds", "{b}.id = {a}.owner_opd_id"),
    "predecessor": one("Programme", "programmes", "{b}.id = {a}.predecessor_id"),
    "successors": many("Programme", "programmes", "{b}.predecessor_id = {a}.id", "{b}.id"),
    "workItems": many("WorkItem", "work_items", "{b}.programme_id = {a}.id", "{b}.id"),
}

WORK_ITEM: dict[str, FieldFn] = {
    "id": global_id("WorkItem", "id"),
    "name": column("name"),
    "roadSegment": column("road_segment"),
    "location": point("lat", "lon", nullable=True),
    "lengthKm": decimal("length_km"),
    "progressPct": lambda ctx, row, sel: f"kilas_float({row.alias}.progress_pct::float8)",
    "status": column("status"),
    "plannedStart": column("planned_start"),
    "plannedEnd": column("planned_end"),
    "updatedAt": moment("updated_at"),
    "programme": one("Programme", "programmes", "{b}.id = {a}.programme_id"),
    "region": one("Region", "regions", "{b}.code = {a}.region_code"),
    "linkedComplaints": many(
        "Complaint", "complaints", "{b}.work_item_id = {a}.id", "{b}.id", visible=True
    ),
}
