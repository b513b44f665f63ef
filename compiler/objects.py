"""What the compiler builds objects from: a field's selection (`Sel`), the row it reads
(`Row`), the compile context (`Ctx`), and the builders every type's fields are made of: columns,
times, enums, ids, related objects and lists, Relay connections.

A field function takes the compile context, the row it reads (a table alias) and the field's
selection, and returns a SQL expression whose value is the field's JSON (or a value
`json_build_object` turns into it: text, a number, a boolean, NULL). The types' own tables are
in complaints.py and reference.py, assembled in fields.py; a field that is in none of them makes
the compiler give up on the root field, which then falls back."""

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    Visitor,
    get_named_type,
    visit,
)
from graphql.execution.collect_fields import (
    FieldDetailsList,
    FragmentDetails,
    collect_subfields,
)
from graphql.execution.values import VariableValues, get_argument_values
from strawberry import Schema
from strawberry.types.arguments import convert_arguments

from kilas.auth.caller import Caller, Role
from kilas.auth.policy import role_refusal
from kilas.auth.rules import Roles, field_rule
from kilas.compiler.sql import Bind, Getter, Statement, Unsupported, json_list, json_object, literal
from kilas.domain.errors import forbidden

R = TypeVar("R")


@dataclass(frozen=True)
class Sel:
    """One response key of an object: the field's nodes (merged) and its definition."""

    key: str
    details: FieldDetailsList
    definition: GraphQLField
    parent: str

    @property
    def node(self) -> FieldNode:
        return self.details[0].node

    @property
    def nodes(self) -> tuple[FieldNode, ...]:
        return tuple(detail.node for detail in self.details)

    @property
    def name(self) -> str:
        return self.node.name.value


@dataclass(frozen=True)
class Row:
    """The row a field reads: its table alias, and, for a complaint or an event, whether the
    caller reached it through the complaint's tracking number (it is then the reporter's)."""

    alias: str
    presented: bool = False


@dataclass
class Ctx:
    schema: GraphQLSchema
    strawberry: Schema
    fragments: dict[str, FragmentDetails]
    variables: VariableValues
    operation: OperationDefinitionNode
    st: Statement
    # The types' field tables (compiler/fields.py).
    fields: dict[str, dict[str, "FieldFn"]]
    # The server's settings (page sizes), where the plan is compiled for one; else None.
    settings: Any = None

    @property
    def role(self) -> Role:
        return self.st.role

    def rule(self, sel: Sel, kind: type[R]) -> R:
        """The field's rule (auth.rules), which the field's compiler compiles."""
        rule = field_rule(sel.parent, sel.name)
        if not isinstance(rule, kind):
            raise Unsupported(f"{sel.parent}.{sel.name}: rule {type(rule).__name__}")
        return rule

    def admit(self, type_name: str, name: str) -> None:
        """A field whose rule the caller's role fails is left to strawberry, whose enforcement
        layer answers the refusal (resolvers.enforce)."""
        rule = field_rule(type_name, name)
        if isinstance(rule, Roles) and self.role not in rule.roles:
            raise Unsupported(f"{type_name}.{name}: refused to {self.role.value}")

    def _refusal(self, type_name: str, sel: Sel) -> str | None:
        """A field of an object (not a root field) that the caller's role fails: the error
        resolvers.enforce raises, in its place (the field is nullable for it)."""
        if type_name in ("Query", "Mutation", "Subscription"):
            return None
        rule = field_rule(type_name, sel.name)
        if not isinstance(rule, Roles) or self.role in rule.roles:
            return None
        message = role_refusal(Caller(self.role, ""), rule.roles, sel.name)
        assert message is not None
        return self.st.error(sel.nodes, forbidden(message))

    def _converter(self, sel: Sel) -> Callable[[VariableValues], dict[str, Any]]:
        """How the field's arguments become what its resolver gets (python names, strawberry
        inputs) from a request's variables."""
        field = self.strawberry.get_field_for_type(sel.name, sel.parent)
        if field is None:
            raise Unsupported(f"{sel.parent}.{sel.name} has no strawberry field")
        registry = self.strawberry.schema_converter.scalar_registry
        config = self.strawberry.config
        node, definition = sel.node, sel.definition

        def converted(variables: VariableValues) -> dict[str, Any]:
            raw = get_argument_values(definition, node, variables)
            return convert_arguments(raw, field.arguments, registry, config)

        return converted

    def args_now(self, sel: Sel) -> dict[str, Any]:
        """The field's arguments for the request the plan is compiled on: what decides the
        statement's shape (which filters are given), never a value bound into it."""
        try:
            return self._converter(sel)(self.variables)
        except Exception as error:
            raise Unsupported(f"{sel.parent}.{sel.name}: arguments") from error

    def args(self, sel: Sel) -> Getter:
        """The field's arguments as its resolver gets them (python names, strawberry inputs),
        read from the request's variables at bind time."""
        converted = self._converter(sel)
        node = sel.node
        key = ("args", id(node))

        names = _variables_of(node)
        if not names:
            # Written in the document: the same for every request of this plan.
            constant = self.args_now(sel)
            return lambda b: constant
        # The conversion is a function of the values of the variables the arguments read.
        # What it makes is only ever read (by the resolvers' own argument checks), so one
        # conversion serves every request that sends the same values.
        remembered: dict[Any, dict[str, Any]] = {}

        def remember(variables: VariableValues) -> dict[str, Any]:
            try:
                coerced = variables.coerced
                values = tuple(
                    _frozen(coerced[name]) if name in coerced else _ABSENT for name in names
                )
            except TypeError:
                return converted(variables)
            found = remembered.get(values)
            if found is None:
                found = converted(variables)
                if len(remembered) >= CONVERSIONS_KEPT:
                    remembered.clear()
                remembered[values] = found
            return found

        def read(b: Bind) -> dict[str, Any]:
            found: dict[str, Any] = b.once(key, lambda: remember(b.variables))
            return found

        return read

    def subfields(self, type_name: str, sel: Sel) -> list[Sel]:
        parent = self.schema.get_type(type_name)
        if not isinstance(parent, GraphQLObjectType):
            raise Unsupported(f"{type_name} is not an object type")
        collected = collect_subfields(
            self.schema, self.fragments, self.variables, self.operation, parent, sel.details
        )
        if collected.new_defer_usages:
            raise Unsupported("@defer")
        found = []
        for key, details in collected.grouped_field_set.items():
            name = details[0].node.name.value
            definition = parent.fields.get(name) if name != "__typename" else GraphQLField(parent)
            if definition is None:
                raise Unsupported(f"{type_name}.{name}")
            found.append(Sel(key, details, definition, type_name))
        return found

    def object(self, type_name: str, row: Row, sel: Sel) -> str:
        """The JSON object of `type_name` for `row`, with `sel`'s sub-selection."""
        fields = self.fields.get(type_name)
        if fields is None:
            raise Unsupported(f"type {type_name}")
        pairs = []
        for sub in self.subfields(type_name, sel):
            if sub.name == "__typename":
                pairs.append((sub.key, literal(type_name)))
                continue
            compile_field = fields.get(sub.name)
            if compile_field is None:
                raise Unsupported(f"{type_name}.{sub.name}")
            refusal = self._refusal(type_name, sub)
            if refusal is not None:
                pairs.append((sub.key, refusal))
                continue
            self.admit(type_name, sub.name)
            pairs.append((sub.key, compile_field(self, row, sub)))
        return json_object(pairs)


FieldFn = Callable[[Ctx, Row, Sel], str]


def _variables_of(node: FieldNode) -> tuple[str, ...]:
    """The names of the variables the field's arguments read, sorted."""
    found: set[str] = set()

    class Finder(Visitor):
        def enter_variable(self, variable: Any, *_: Any) -> Any:
            found.add(variable.name.value)

    for argument in node.arguments or ():
        visit(argument, Finder())
    return tuple(sorted(found))


def _frozen(value: Any) -> Any:
    """A hashable stand-in for a coerced variable value that tells apart every two values
    that differ (1 and True and 1.0 too); TypeError for one it cannot stand in for."""
    if isinstance(value, dict):
        return (dict, tuple(sorted((k, _frozen(v)) for k, v in value.items())))
    if isinstance(value, list):
        return (list, tuple(_frozen(v) for v in value))
    hash(value)
    return (type(value), value)


# A variable the request did not send (unlike one sent as null).
_ABSENT = object()

# Conversions remembered per field of a plan: the values clients send again and again (a
# dashboard's page size, a filter) are converted once.
CONVERSIONS_KEPT = 256


def column(name: str) -> FieldFn:
    return lambda ctx, row, sel: f"{row.alias}.{name}"


def moment(name: str) -> FieldFn:
    """A timestamptz shown in WIB, as `schema.ids.wib(...).isoformat()`."""
    return lambda ctx, row, sel: f"kilas_wib({row.alias}.{name})"


def decimal(name: str) -> FieldFn:
    """An exact Decimal, as `schema.decimals.plain_digits`: numeric's text is plain digits."""
    return lambda ctx, row, sel: f"{row.alias}.{name}::text"


def enum(name: str, values: type[Enum]) -> FieldFn:
    """A stored enum value as its GraphQL name."""
    if all(member.name == member.value for member in values):
        return column(name)
    cases = " ".join(f"WHEN {literal(m.value)} THEN {literal(m.name)}" for m in values)
    return lambda ctx, row, sel: f"(CASE {row.alias}.{name} {cases} END)"


def global_id(type_name: str, key: str) -> FieldFn:
    return lambda ctx, row, sel: f"kilas_gid({literal(type_name)}, {row.alias}.{key}::text)"


def point(lat: str, lon: str, *, nullable: bool) -> FieldFn:
    def build(ctx: Ctx, row: Row, sel: Sel) -> str:
        pairs = []
        for sub in ctx.subfields("GeoPoint", sel):
            value = {"lat": lat, "lon": lon, "__typename": None}[sub.name]
            pairs.append(
                (
                    sub.key,
                    literal("GeoPoint") if value is None else f"kilas_float({row.alias}.{value})",
                )
            )
        built = json_object(pairs)
        return f"(CASE WHEN {row.alias}.{lat} IS NOT NULL THEN {built} END)" if nullable else built

    return build


def one(type_name: str, table: str, join: str, *, visible: bool = False) -> FieldFn:
    """A related object by key (NULL when there is none): `join` relates the new row `{b}` to
    the current one `{a}`."""

    def build(ctx: Ctx, row: Row, sel: Sel) -> str:
        b = ctx.st.alias(table[0])
        where = join.format(a=row.alias, b=b)
        if visible:
            where += f" AND {ctx.st.visible(b)}"
        return f"(SELECT {ctx.object(type_name, Row(b), sel)} FROM {table} {b} WHERE {where})"

    return build


def many(type_name: str, table: str, join: str, order: str, *, visible: bool = False) -> FieldFn:
    """Related objects in `order` (over `{b}`), `[]` for none."""

    def build(ctx: Ctx, row: Row, sel: Sel) -> str:
        b = ctx.st.alias(table[0])
        where = join.format(a=row.alias, b=b)
        if visible:
            where += f" AND {ctx.st.visible(b)}"
        element = ctx.object(type_name, Row(b), sel)
        return json_list(element, f"{table} {b} WHERE {where}", order.format(b=b))

    return build


def count_of(where: str) -> FieldFn:
    """How many complaints match `where` (over `{b}`, the current row `{a}`)."""

    def build(ctx: Ctx, row: Row, sel: Sel) -> str:
        b = ctx.st.alias("x")
        return f"(SELECT count(*) FROM complaints {b} WHERE {where.format(a=row.alias, b=b)})"

    return build


def connection(
    ctx: Ctx,
    sel: Sel,
    type_name: str,
    edge_type: str,
    *,
    page: str,
    limit: str,
    node: Callable[[str, Sel], str],
    cursor: Callable[[str], str],
    node_type: str,
    total: str | None = None,
) -> str:
    """A Relay connection over `page`: a subquery of at most `limit` + 1 rows numbered `n` in
    order (the extra row only tells that there is a next page)."""
    pairs = []
    for sub in ctx.subfields(type_name, sel):
        p = ctx.st.alias("p")
        rows = f"{page} {p} WHERE {p}.n <= {limit}"
        if sub.name == "edges":
            edge = []
            for part in ctx.subfields(edge_type, sub):
                if part.name == "cursor":
                    edge.append((part.key, cursor(p)))
                elif part.name == "node":
                    edge.append((part.key, node(p, part)))
                else:
                    edge.append((part.key, literal(edge_type)))
            value = json_list(json_object(edge), rows, f"{p}.n")
        elif sub.name == "nodes":
            value = json_list(node(p, sub), rows, f"{p}.n")
        elif sub.name == "pageInfo":
            info = []
            for part in ctx.subfields("PageInfo", sub):
                if part.name == "hasNextPage":
                    info.append((part.key, f"(SELECT count(*) > {limit} FROM {page} {p})"))
                elif part.name == "endCursor":
                    q = ctx.st.alias("p")
                    info.append(
                        (
                            part.key,
                            f"(SELECT {cursor(q)} FROM {page} {q} WHERE {q}.n <= {limit} "
                            f"ORDER BY {q}.n DESC LIMIT 1)",
                        )
                    )
                else:
                    info.append((part.key, literal("PageInfo")))
            value = json_object(info)
        elif sub.name == "totalCount" and total is not None:
            value = total
        elif sub.name == "__typename":
            value = literal(type_name)
        else:
            raise Unsupported(f"{type_name}.{sub.name}")
        pairs.append((sub.key, value))
    return json_object(pairs)


def named_type(sel: Sel) -> str:
    return get_named_type(sel.definition.type).name
