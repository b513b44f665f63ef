"""Each read root field as one SQL statement returning its JSON text. Arguments are read and
checked by the same functions the resolvers in `resolvers/queries.py` use, at bind time; a
check that fails there sends the whole operation to strawberry, which reports it."""

import re
from collections.abc import Callable
from typing import Any

from graphql.execution.values import get_argument_values

from kilas.auth.policy import visibility
from kilas.compiler.heads import head_accountability
from kilas.compiler.objects import Ctx, Row, Sel, connection, named_type
from kilas.compiler.sql import Bind, Getter, Unsupported, json_list, literal
from kilas.db.complaints import ORDERINGS, Visibility, filter_params, filter_sql
from kilas.db.sql import names_of, renumbered
from kilas.domain.errors import invalid
from kilas.resolvers.queries import complaint_filter, page_size_of
from kilas.schema import inputs
from kilas.schema.enums import ComplaintOrder
from kilas.schema.ids import (
    database_id,
    decode_event_cursor,
    decode_id,
    decode_keyset_cursor,
    parse_global_id,
)

RootFn = Callable[[Ctx, Sel], str]


def _one(ctx: Ctx, sel: Sel, table: str, where: str, *, presented: bool = False) -> str:
    """The object of the row of `table` (as `t`) where `where` holds; NULL for none."""
    built = ctx.object(named_type(sel), Row("t", presented), sel)
    return f"SELECT (SELECT {built} FROM {table} t WHERE {where})::text"


def _all(ctx: Ctx, sel: Sel, table: str, order: str) -> str:
    built = ctx.object(named_type(sel), Row("t"), sel)
    return f"SELECT {json_list(built, f'{table} t', order)}::text"


def _arg(ctx: Ctx, sel: Sel, name: str, convert: Callable[[Any], Any], cast: str) -> str:
    args = ctx.args(sel)
    return ctx.st.param(lambda b: convert(args(b).get(name)), cast)


# A filter's input fields, by the parameters of `db.complaints.filter_sql` each gives.
FILTER_FIELDS = {
    "status": ("statuses",),
    "opd_id": ("opd_id",),
    "region_code": ("region_code",),
    "category_code": ("category_code",),
    "channel": ("channels",),
    "created_from": ("created_from",),
    "created_before": ("created_before",),
    "search": ("search", "search_like"),
    "work_item_id": ("work_item_id",),
}
FILTER_PARAMS = frozenset(name for names in FILTER_FIELDS.values() for name in names)


def given(value: Any) -> bool:
    """Whether a filter's value is given, as `resolvers.queries.complaint_filter` reads it: an
    empty list, an empty or blank text and null are not. The plans' key (`run._shape`) tells
    these apart, and a request whose filter reads otherwise is refused at bind time (strawberry
    answers it), so a statement never drops a condition the request has."""
    return presence(value) == GIVEN


# What the plans' key holds of a value that decides only which conditions a statement has.
ABSENT, EMPTY, GIVEN = 0, 1, 2


def presence(value: Any) -> Any:
    if value is None:
        return ABSENT
    if isinstance(value, dict):
        return tuple(sorted((key, presence(each)) for key, each in value.items()))
    if value == [] or (isinstance(value, str) and not value.strip()):
        return EMPTY
    return GIVEN


class Reshaped(Exception):
    """A request whose filter or page differs in shape from the one its plan was compiled for."""


def complaints(ctx: Ctx, sel: Sel) -> str:
    args = ctx.args(sel)
    st = ctx.st
    key = ("filter", id(sel.node))
    # The statement has a condition for each filter given, and none for the others: a plan
    # PostgreSQL can keep for every request of this shape (a condition `$n IS NULL OR …` would
    # need planning anew each time, which under load costs more than the query).
    now = ctx.args_now(sel)
    asked = now.get("filter")
    present = frozenset(
        name
        for field, names in FILTER_FIELDS.items()
        if asked is not None and given(getattr(asked, field))
        for name in names
    )
    where_sql = filter_sql(present, st.visible("complaints"))
    names = names_of(where_sql)

    # The parameters are a function of the filter the arguments hold (one object for each
    # value of the variables it reads, objects.Ctx.args) and of what the caller may see.
    filters: dict[tuple[int, Visibility], tuple[Any, dict[str, Any]]] = {}

    def where_args(b: Bind) -> dict[str, Any]:
        def build() -> dict[str, Any]:
            asked = args(b).get("filter")
            key = (id(asked), visibility(b.caller))
            known = filters.get(key)
            if known is not None and known[0] is asked:
                return known[1]
            found = filter_params(complaint_filter(asked, b.caller))
            if {name for name in FILTER_PARAMS if found[name] is not None} != present:
                raise Reshaped("the filters given differ from the plan's")
            if len(filters) >= 256:
                filters.clear()
            filters[key] = (asked, found)
            return found

        found: dict[str, Any] = b.once(key, build)
        return found

    st.checks.append(where_args)
    start = len(st.getters) + 1
    st.getters.extend(_named(where_args, name) for name in names)
    where = renumbered(where_sql, names, start)
    # The ordering decides the statement's shape: it is part of the plan's key (plan.py).
    order = get_argument_values(sel.definition, sel.node, ctx.variables).get("orderBy")
    if not isinstance(order, ComplaintOrder):
        raise Unsupported("orderBy")
    column, direction = ORDERINGS[order.value]
    comparison = "<" if direction == "DESC" else ">"

    def size(b: Bind) -> int:
        return page_size_of(b.settings, args(b).get("first"))

    def cursor(b: Bind) -> Any:
        after = args(b).get("after")
        return decode_keyset_cursor(after, order.value) if after is not None else (None, None)

    limit = _page_size(ctx, now.get("first"), size)
    # As `resolvers.queries.complaints` reads it: any text but null is a cursor to decode.
    keyset = now.get("after") is not None
    after = "true"
    if keyset:
        value = st.param(lambda b: cursor(b)[0], "timestamptz")
        last_id = st.param(lambda b: cursor(b)[1], "bigint")
        after = f"({column}, id) {comparison} ({value}, {last_id})"
    st.checks.append(lambda b: _same(args(b).get("after") is not None, keyset, "after"))
    page = f"""(SELECT c.*, row_number() OVER (ORDER BY c.{column} {direction}, c.id {direction})
               AS n FROM (SELECT * FROM complaints
                          WHERE {where} AND {after}
                          ORDER BY {column} {direction}, id {direction}
                          LIMIT {limit} + 1) c)"""
    prefix = literal(f'["{order.value}", "')
    built = connection(
        ctx,
        sel,
        "ComplaintConnection",
        "ComplaintEdge",
        page="page",
        limit=limit,
        node=lambda p, sub: ctx.object("Complaint", Row(p), sub),
        # encode_cursor([ordering, row[column], row["id"]]): base64 of its JSON.
        cursor=lambda p: (
            f"kilas_b64url({prefix} || kilas_utc_iso({p}.{column}) || '\", ' || {p}.id || ']')"
        ),
        node_type="Complaint",
        total=f"(SELECT count(*) FROM complaints WHERE {where})",
    )
    return _paged(page, built)


def _named(values: Callable[[Bind], dict[str, Any]], name: str) -> Getter:
    return lambda b: values(b)[name]


def _page_size(ctx: Ctx, first: int | None, size: Callable[[Bind], int]) -> str:
    """The page size as a constant of the statement when the plan's server and `first` decide
    it (`first` is part of the plan's key), checked at bind time; else a parameter."""
    if ctx.settings is None:
        return ctx.st.param(size, "int")
    try:
        constant = page_size_of(ctx.settings, first)
    except Exception:
        return ctx.st.param(size, "int")
    ctx.st.checks.append(lambda b: _same(size(b), constant, "first"))
    return str(constant)


def _same(bound: Any, planned: Any, what: str) -> None:
    if bound != planned:
        raise Reshaped(f"{what}: {bound!r} where the plan has {planned!r}")


def complaint(ctx: Ctx, sel: Sel) -> str:
    def number(value: str) -> str:
        if len(value) > 100:
            raise invalid("trackingNumber", "a tracking number is at most 100 characters")
        return value.strip().upper()

    tracking = _arg(ctx, sel, "tracking_number", number, "text")
    return _one(ctx, sel, "complaints", f"t.tracking_number = {tracking}", presented=True)


def complaint_events(ctx: Ctx, sel: Sel) -> str:
    args = ctx.args(sel)
    st = ctx.st
    limit = st.param(lambda b: page_size_of(b.settings, args(b).get("first")), "int")
    start = st.param(
        lambda b: decode_event_cursor(args(b)["after"]) if args(b).get("after") is not None else 0,
        "bigint",
    )
    page = f"""(SELECT e.*, row_number() OVER (ORDER BY e.id) AS n
               FROM (SELECT e.* FROM complaint_events e JOIN complaints c ON c.id = e.complaint_id
                     WHERE e.id > {start} AND {st.visible("c", "e")}
                     ORDER BY e.id LIMIT {limit} + 1) e)"""
    built = connection(
        ctx,
        sel,
        "ComplaintEventConnection",
        "ComplaintEventEdge",
        page="page",
        limit=limit,
        node=lambda p, sub: ctx.object("ComplaintEvent", Row(p), sub),
        cursor=lambda p: f"{p}.id::text",
        node_type="ComplaintEvent",
    )
    return _paged(page, built)


def programmes(ctx: Ctx, sel: Sel) -> str:
    args = ctx.args(sel)
    st = ctx.st

    def given(b: Bind) -> inputs.ProgrammeFilter:
        found: inputs.ProgrammeFilter = args(b).get("filter") or inputs.ProgrammeFilter()
        return found

    def owner(b: Bind) -> int | None:
        f = given(b)
        return decode_id(f.owner_opd_id, "Opd", "filter.ownerOpdId") if f.owner_opd_id else None

    def after(b: Bind) -> int | None:
        value = args(b).get("after")
        return decode_id(value, "Programme", "after") if value is not None else None

    limit = st.param(lambda b: page_size_of(b.settings, args(b).get("first")), "int")
    opd = st.param(owner, "bigint")
    year = st.param(lambda b: given(b).fiscal_year, "integer")
    status = st.param(lambda b: _status(given(b)), "text")
    last = st.param(after, "bigint")
    conditions = (
        f"({opd} IS NULL OR owner_opd_id = {opd}) AND ({year} IS NULL OR fiscal_year = {year})"
        f" AND ({status} IS NULL OR status = {status}) AND ({last} IS NULL OR id > {last})"
    )
    page = f"""(SELECT g.*, row_number() OVER (ORDER BY g.id) AS n
               FROM (SELECT * FROM programmes WHERE {conditions}
                     ORDER BY id LIMIT {limit} + 1) g)"""
    built = connection(
        ctx,
        sel,
        "ProgrammeConnection",
        "ProgrammeEdge",
        page="page",
        limit=limit,
        node=lambda p, sub: ctx.object("Programme", Row(p), sub),
        cursor=lambda p: f"kilas_gid('Programme', {p}.id::text)",
        node_type="Programme",
    )
    return _paged(page, built)


def _paged(page: str, built: str) -> str:
    """The statement of a connection: its page (`page` in `built`) read once, with only the
    columns `built` reads of it."""
    return f"WITH page AS MATERIALIZED {_narrowed(page, built)} SELECT ({built})::text"


_PAGE_ROWS = re.compile(r"^\(SELECT (\w+)\.\*, ")


def _narrowed(page: str, built: str) -> str:
    """`page` (`(SELECT x.*, row_number() … AS n FROM …)`) selecting only the columns `built`
    reads through its aliases of the page (`FROM page p1` … `p1.status`): a materialized page
    of 38 columns where a list asks for 8 costs PostgreSQL the other 30. Unchanged where an
    alias is read as a whole row."""
    head = _PAGE_ROWS.match(page)
    aliases = set(re.findall(r"\bFROM page (\w+)", built))
    if head is None:
        return page
    columns = {"n"}
    for alias in aliases:
        references = re.findall(rf"\b{alias}\b(\.\w+)?", built)
        # Each alias appears once bare, where it is declared (`FROM page p1`).
        if sum(1 for column in references if not column) > built.count(f"FROM page {alias}"):
            return page
        columns.update(column[1:] for column in references if column)
    # `n` is the row_number() the page itself computes.
    listed = ", ".join(f"{head[1]}.{column}" for column in sorted(columns - {"n"}))
    return f"(SELECT {listed}{', ' if listed else ''}" + page[head.end() :]


def _status(f: inputs.ProgrammeFilter) -> str | None:
    return f.status.value if f.status else None


# node(id:): the id's type decides the statement, so it is part of the plan's key (plan.py).
NODE_TABLES = {
    "Complaint": ("complaints", "id"),
    "ComplaintEvent": ("complaint_events", "id"),
    "Opd": ("opds", "id"),
    "OpdHead": ("opd_heads", "id"),
    "SlaPolicy": ("sla_policies", "id"),
    "Programme": ("programmes", "id"),
    "WorkItem": ("work_items", "id"),
    "SocialAccount": ("opd_social_accounts", "id"),
    "Region": ("regions", "code"),
    "Category": ("categories", "code"),
}


def node_type_of(value: Any) -> str:
    """The type an id names, "" for one that names no Kilas type; INVALID_INPUT (raised) for a
    value that is no Kilas id at all."""
    type_name, _ = parse_global_id(value)
    return type_name if type_name in NODE_TABLES else ""


def node(ctx: Ctx, sel: Sel) -> str:
    raw = get_argument_values(sel.definition, sel.node, ctx.variables).get("id")
    try:
        type_name = node_type_of(raw)
    except Exception as error:
        raise Unsupported("node: not a Kilas id") from error
    if not type_name:
        return "SELECT NULL::text"
    table, key_column = NODE_TABLES[type_name]
    st = ctx.st
    args = ctx.args(sel)
    if key_column == "code":
        key = st.param(lambda b: parse_global_id(args(b)["id"])[1], "text")
    else:
        key = st.param(lambda b: database_id(parse_global_id(args(b)["id"])[1]), "bigint")
    where = f"t.{key_column} = {key}"
    if type_name == "Complaint":
        where += f" AND {st.visible('t')}"
    elif type_name == "ComplaintEvent":
        where += (
            f" AND EXISTS (SELECT 1 FROM complaints c WHERE c.id = t.complaint_id"
            f" AND {st.visible('c', 't')})"
        )
    # The selection is collected for the id's concrete type (`... on Complaint` and the like).
    built = ctx.object(type_name, Row("t"), sel)
    return f"SELECT (SELECT {built} FROM {table} t WHERE {where})::text"


ROOTS: dict[str, RootFn] = {
    "complaints": complaints,
    "complaint": complaint,
    "complaintEvents": complaint_events,
    "node": node,
    "opds": lambda ctx, sel: _all(ctx, sel, "opds", "t.short_name, t.id"),
    "opd": lambda ctx, sel: _one(
        ctx, sel, "opds", f"t.slug = {_arg(ctx, sel, 'slug', _slug, 'text')}"
    ),
    "regions": lambda ctx, sel: _all(ctx, sel, "regions", "t.code"),
    "region": lambda ctx, sel: _one(
        ctx, sel, "regions", f"t.code = {_arg(ctx, sel, 'code', str, 'text')}"
    ),
    "categories": lambda ctx, sel: _all(ctx, sel, "categories", "t.code"),
    "slaPolicies": lambda ctx, sel: _all(ctx, sel, "sla_policies", "t.effective_from"),
    "programmes": programmes,
    "programme": lambda ctx, sel: _one(
        ctx, sel, "programmes", f"t.code = {_arg(ctx, sel, 'code', _upper, 'text')}"
    ),
    "headAccountability": head_accountability,
}


def _slug(value: str) -> str:
    return value.strip().lower()


def _upper(value: str) -> str:
    return value.upper()
