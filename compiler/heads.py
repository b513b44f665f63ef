"""OPD heads as SQL, as schema/reference.py, schema/complaints.py and schema/performance.py
resolve them: an OPD's head in office at the request's time and every term of its heads, the
head an escalation went to (in office at the escalation's moment), and `headAccountability`,
db/heads.py's statement of each term's record embedded as it is."""

from kilas.compiler.objects import Ctx, FieldFn, Row, Sel, column, global_id, many, moment, one
from kilas.compiler.sql import Bind, json_list
from kilas.db.heads import HEAD_RECORDS_SQL, in_office
from kilas.db.sql import names_of, renumbered
from kilas.schema.complaints import HEAD_LEVEL
from kilas.schema.performance import period


def head_at(ctx: Ctx, sel: Sel, opd: str, at: str) -> str:
    """The head of OPD `opd` in office at the moment `at` (SQL expressions); NULL for none. An
    OPD's terms never overlap (migration 0012): one row at most."""
    h = ctx.st.alias("h")
    built = ctx.object("OpdHead", Row(h), sel)
    return f"(SELECT {built} FROM opd_heads {h} WHERE {h}.opd_id = {opd} AND {in_office(h, at)})"


def head_now(ctx: Ctx, row: Row, sel: Sel) -> str:
    """`Opd.head`: in office at the request's time."""
    return head_at(ctx, sel, f"{row.alias}.id", ctx.st.now())


OPD_HEADS = many("OpdHead", "opd_heads", "{b}.opd_id = {a}.id", "{b}.term_start DESC")

OPD_HEAD: dict[str, FieldFn] = {
    "id": global_id("OpdHead", "id"),
    "name": column("name"),
    "title": column("title"),
    "termStart": moment("term_start"),
    "termEnd": moment("term_end"),
    "accounts": many(
        "OpdHeadAccount", "opd_head_accounts", "{b}.head_id = {a}.id", "{b}.platform, {b}.handle"
    ),
    "opd": one("Opd", "opds", "{b}.id = {a}.opd_id"),
}

OPD_HEAD_ACCOUNT: dict[str, FieldFn] = {
    "platform": column("platform"),
    "handle": column("handle"),
    "verified": column("verified"),
}

HEAD_RECORD: dict[str, FieldFn] = {
    "head": one("OpdHead", "opd_heads", "{b}.id = {a}.head_id"),
    "opd": one("Opd", "opds", "{b}.id = {a}.opd_id"),
    "from": moment("period_start"),
    "to": moment("period_end"),
    "received": column("received"),
    "breaches": column("breaches"),
    "responseBreaches": column("response_breaches"),
    "resolutionBreaches": column("resolution_breaches"),
    "escalations": column("escalations"),
    "escalationsToOpdHead": column("escalations_level1"),
    "escalationsToCommandCenter": column("escalations_level2"),
    "escalationsToGovernorOffice": column("escalations_level3"),
}


def escalated_to_head(ctx: Ctx, row: Row, sel: Sel) -> str:
    """`ComplaintEvent.escalatedToHead`: for an ESCALATED event to the head, the head of the
    event's OPD in office when it happened."""
    a = row.alias
    head = head_at(ctx, sel, f"{a}.opd_id", f"{a}.occurred_at")
    return (
        f"(CASE WHEN {a}.type = 'ESCALATED' AND ({a}.data -> 'level') = '{HEAD_LEVEL}'::jsonb "
        f"THEN {head} END)"
    )


def sla_escalated_to_head(ctx: Ctx, row: Row, sel: Sel) -> str:
    """`ComplaintSla.escalatedToHead`: at level OPD_HEAD, the head of the complaint's OPD in
    office at `escalated_at`."""
    a = row.alias
    head = head_at(ctx, sel, f"{a}.opd_id", f"{a}.escalated_at")
    return f"(CASE WHEN {a}.escalation_level = {HEAD_LEVEL} THEN {head} END)"


def head_accountability(ctx: Ctx, sel: Sel) -> str:
    """`headAccountability(from, to)`: the period read and checked by `period`, at bind time."""
    args = ctx.args(sel)
    key = ("period", id(sel.node))

    def bounds(b: Bind) -> tuple[object, object]:
        found: tuple[object, object] = b.once(key, lambda: period(args(b)["from_"], args(b)["to"]))
        return found

    values = {"start": lambda b: bounds(b)[0], "end": lambda b: bounds(b)[1]}
    names = names_of(HEAD_RECORDS_SQL)
    first = len(ctx.st.getters) + 1
    ctx.st.getters.extend(values[name] for name in names)
    source = renumbered(HEAD_RECORDS_SQL, names, first)
    built = ctx.object("HeadRecord", Row("r"), sel)
    return f"SELECT {json_list(built, f'({source}) r', 'r.position')}::text"
