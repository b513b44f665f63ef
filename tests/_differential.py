"""Read queries generated from the schema, for the differential test of the compiled read path
(tests/test_compiled_differential.py): the compiled path and strawberry's own execution must
answer every one of them alike.

The generator walks the GraphQLSchema from the read root fields: random subsets of each type's
fields, depth-bounded; aliases (the same field twice with different arguments among them); named
fragments, reused, and inline fragments with and without a type condition (`... on Complaint`
under `node`, `... on Node` under an object); `__typename`; `@include`/`@skip` with literals and
variables; argument values as literals, as variables (with and without a default), and as
variables nested in literal lists and input objects. Documents that graphql-core finds invalid
(a rare clash of two fragments' fields, say) are discarded. Widths and page sizes stay small,
under the server's depth, alias, token and cost limits, so that an example runs quickly."""

import json
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    Undefined,
    get_named_type,
    is_leaf_type,
    parse,
    validate,
)
from hypothesis import assume
from hypothesis import strategies as st

from tests._differential_values import Draw, Samples, Values

ROOT_FIELDS = ("complaints", "complaint", "node", "complaintEvents", "opds", "opd", "regions",
               "region", "categories", "programmes", "programme", "slaPolicies")  # fmt: skip
# Fields with the most to compile come up more often.
EXTRA_WEIGHT = {
    "Query": ["complaints", "complaints", "complaints", "node", "node", "complaint"],
    "Complaint": [
        "timeline",
        "timeline",
        "sla",
        "lastEvent",
        "duplicateOf",
        "workItem",
        "reporter",
        "reporter",
        "externalRef",
        "externalRef",
        "trackingNumber",
    ],
    "ComplaintConnection": ["nodes", "edges"],
    "ComplaintEdge": ["node"],
    "ComplaintEvent": ["complaint"],
    "WorkItem": ["linkedComplaints", "linkedComplaints"],
}
# A root field is level 1; fields at MAX_DEPTH are leaves.
MAX_DEPTH = 5
# How many leaf and object fields a selection set draws at each level.
LEAF_WIDTH = {1: 0, 2: 5, 3: 5, 4: 3, 5: 3}
OBJECT_WIDTH = {1: 3, 2: 2, 3: 2, 4: 1, 5: 0}

Composite = GraphQLObjectType | GraphQLInterfaceType


@dataclass(frozen=True)
class GeneratedQuery:
    text: str
    variables: dict[str, Any]
    operation_name: str | None
    # What the generator put in (root fields, fragments, directives…), for coverage.
    shapes: frozenset[str]


def problems(schema: GraphQLSchema, text: str) -> list[GraphQLError]:
    """graphql-core's parse and validation errors of a document (empty when it is valid)."""
    try:
        document = parse(text)
    except GraphQLError as error:
        return [error]
    return list(validate(schema, document))


@dataclass
class _Fragment:
    name: str
    on: str
    # The level its fields are at where it was made: it may be spread there or shallower.
    depth: int
    text: str = ""


class _Document:
    def __init__(self, draw: Draw, schema: GraphQLSchema, samples: Samples) -> None:
        self.draw = draw
        self.schema = schema
        self.shapes: set[str] = set()
        self.values = Values(draw, samples, self.shapes)
        self.definitions: list[str] = []
        self.variables: dict[str, Any] = {}
        self.fragments: list[_Fragment] = []
        # The arguments of each field used without an alias: fields merged under one response
        # key must agree on them, so every unaliased use in the document takes the first one's.
        self.bare_arguments: dict[tuple[str, str], str] = {}
        self.count = 0

    def chance(self, percent: int) -> bool:
        return self.values.chance(percent)

    def fresh(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    # Selections

    def selection_set(self, type_: Composite, depth: int) -> str:
        fields = type_.fields
        if type_ is self.schema.query_type:
            fields = {name: fields[name] for name in ROOT_FIELDS}
        leaves = [n for n, f in fields.items() if is_leaf_type(get_named_type(f.type))]
        objects = [n for n, f in fields.items() if n not in leaves] if depth < MAX_DEPTH else []
        extra = EXTRA_WEIGHT.get(type_.name, [])
        if objects:
            objects += [name for name in extra if name in objects]
        leaves += [name for name in extra if name in leaves]
        chosen: list[str] = []
        if objects:
            chosen += self.draw(
                st.lists(
                    st.sampled_from(objects),
                    min_size=1 if depth == 1 else 0,
                    max_size=OBJECT_WIDTH[depth],
                    unique=True,
                )
            )
        if leaves:
            chosen += self.draw(
                st.lists(
                    st.sampled_from(leaves),
                    min_size=0 if chosen else 1,
                    max_size=max(1, LEAF_WIDTH[depth]),
                    unique=True,
                )
            )
        parts = [part for name in chosen for part in self.field(type_, name, depth)]
        if self.chance(12):
            self.shapes.add("__typename")
            parts.append("__typename")
        if isinstance(type_, GraphQLInterfaceType):
            parts += self.on_possible_types(type_, depth)
        else:
            if self.chance(10):
                parts.append(self.inline_fragment(type_, depth))
            if self.chance(10):
                parts.append(self.fragment_spread(type_, depth))
        if not parts:
            parts.append("__typename")
        ordered: list[str] = self.draw(st.permutations(parts))
        return "{ " + " ".join(ordered) + " }"

    def on_possible_types(self, interface: GraphQLInterfaceType, depth: int) -> list[str]:
        """Fragments on the types behind an interface (`node`): mostly on Complaint."""
        possible = sorted(t.name for t in self.schema.get_possible_types(interface))
        names: list[str] = self.draw(st.lists(st.sampled_from(possible), max_size=2, unique=True))
        if "Complaint" not in names and self.chance(50):
            names.append("Complaint")
        parts = []
        for name in names:
            type_ = self.schema.get_type(name)
            assert isinstance(type_, GraphQLObjectType)
            self.shapes.add(f"node-on-{name}")
            if self.chance(30):
                parts.append(self.fragment_spread(type_, depth))
            else:
                parts.append(self.inline_fragment(type_, depth, on=type_))
        return parts

    def inline_fragment(self, type_: Composite, depth: int, on: Composite | None = None) -> str:
        if on is None and isinstance(type_, GraphQLObjectType):
            choice = self.draw(st.integers(0, 2))
            if choice == 1:
                on = type_
            elif choice == 2 and type_.interfaces:
                on = type_.interfaces[0]
                self.shapes.add("inline-fragment-on-interface")
        self.shapes.add("inline-fragment-typed" if on is not None else "inline-fragment")
        condition = f" on {on.name}" if on is not None else ""
        return f"...{condition}{self.directives()} {self.selection_set(on or type_, depth)}"

    def fragment_spread(self, type_: GraphQLObjectType, depth: int) -> str:
        reusable = [f for f in self.fragments if f.on == type_.name and f.depth >= depth]
        if reusable and self.chance(70):
            fragment = self.draw(st.sampled_from(reusable))
            self.shapes.add("fragment-reused")
        else:
            fragment = _Fragment(self.fresh("F"), type_.name, depth)
            # Registered once made: a fragment never spreads itself.
            fragment.text = f"fragment {fragment.name} on {type_.name} " + self.selection_set(
                type_, depth
            )
            self.fragments.append(fragment)
            self.shapes.add("named-fragment")
        return f"...{fragment.name}{self.directives()}"

    def field(self, owner: Composite, name: str, depth: int) -> list[str]:
        definition = owner.fields[name]
        named = get_named_type(definition.type)
        self.shapes.add(f"root:{name}" if depth == 1 else f"field:{owner.name}.{name}")
        twice = bool(definition.args) and self.chance(10)
        out = []
        for occurrence in range(2 if twice else 1):
            alias = ""
            if occurrence == 1 or self.chance(10):
                alias = f"{self.fresh(name + '_')}: "
                self.shapes.add("alias-same-field-different-args" if occurrence else "alias")
                arguments = self.arguments(owner.name, name, definition.args)
            elif (owner.name, name) in self.bare_arguments:
                arguments = self.bare_arguments[owner.name, name]
            else:
                arguments = self.arguments(owner.name, name, definition.args)
                self.bare_arguments[owner.name, name] = arguments
            selection = ""
            if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
                selection = " " + self.selection_set(named, depth + 1)
            out.append(f"{alias}{name}{arguments}{self.directives(field=True)}{selection}")
        return out

    def directives(self, *, field: bool = False) -> str:
        if not self.chance(6 if field else 12):
            return ""
        name = self.draw(st.sampled_from(("include", "skip")))
        if self.chance(50):
            self.shapes.add(f"@{name}-literal")
            return f" @{name}(if: {self.draw(st.sampled_from(('true', 'false')))})"
        self.shapes.add(f"@{name}-variable")
        variable = self.fresh("b")
        if self.chance(15):
            # A nullable variable with a default may stand where Boolean! is expected.
            self.shapes.add("directive-variable-default")
            default = self.draw(st.sampled_from(("true", "false")))
            self.definitions.append(f"${variable}: Boolean = {default}")
        else:
            self.definitions.append(f"${variable}: Boolean!")
            self.variables[variable] = self.draw(st.booleans())
        return f" @{name}(if: ${variable})"

    # Arguments

    def arguments(self, owner: str, field: str, definitions: dict[str, GraphQLArgument]) -> str:
        values = self.argument_values(f"{owner}.{field}", definitions)
        if not values:
            return ""
        given = ", ".join(f"{k}: {self.value(v, definitions[k].type)}" for k, v in values.items())
        return f"({given})"

    def argument_values(self, key: str, definitions: dict[str, GraphQLArgument]) -> dict[str, Any]:
        known = self.values.arguments(key)
        if known is not None:
            return known
        # Arguments this generator knows nothing of: only the required ones.
        return {
            name: self.any_value(argument.type)
            for name, argument in definitions.items()
            if isinstance(argument.type, GraphQLNonNull) and argument.default_value is Undefined
        }

    def any_value(self, type_: GraphQLInputType) -> Any:
        named = get_named_type(type_)
        if isinstance(named, GraphQLEnumType):
            return self.draw(st.sampled_from(sorted(named.values)))
        if isinstance(named, GraphQLInputObjectType):
            return {}
        if named.name == "Int":
            return self.draw(st.integers(-2, 5))
        if named.name == "Boolean":
            return self.draw(st.booleans())
        return self.draw(st.sampled_from(("", "x", "33.74")))

    # Values: literals or variables

    def value(self, value: Any, type_: GraphQLInputType) -> str:
        if self.chance(20):
            return self.variable(value, type_)
        return self.literal(value, type_, nested_variables=True)

    def variable(self, value: Any, type_: GraphQLInputType) -> str:
        name = self.fresh("v")
        self.shapes.add("variable")
        if isinstance(get_named_type(type_), GraphQLInputObjectType):
            self.shapes.add("input-object-variable")
        if value is not None and self.chance(15):
            self.shapes.add("variable-default")
            default = self.literal(value, type_, nested_variables=False)
            self.definitions.append(f"${name}: {type_} = {default}")
        else:
            self.definitions.append(f"${name}: {type_}")
            self.variables[name] = value
        return f"${name}"

    def literal(self, value: Any, type_: GraphQLInputType, *, nested_variables: bool) -> str:
        if isinstance(type_, GraphQLNonNull):
            type_ = type_.of_type
        if value is None:
            self.shapes.add("literal-null")
            return "null"
        if isinstance(type_, GraphQLList):
            item = type_.of_type
            if value and self.chance(40):
                # Input coercion reads a single value as a list of one.
                self.shapes.add("list-coercion")
                return self.nested(value[0], item, nested_variables)
            return "[" + ", ".join(self.nested(v, item, nested_variables) for v in value) + "]"
        if isinstance(type_, GraphQLInputObjectType):
            fields = type_.fields
            given = (f"{k}: {self.nested(v, fields[k].type, nested_variables)}"
                     for k, v in value.items())  # fmt: skip
            return "{" + ", ".join(given) + "}"
        if isinstance(type_, GraphQLEnumType):
            return str(value)
        return json.dumps(value)

    def nested(self, value: Any, type_: GraphQLInputType, variables: bool) -> str:
        if variables and self.chance(10):
            self.shapes.add("nested-variable")
            return self.variable(value, type_)
        return self.literal(value, type_, nested_variables=variables)

    # The document

    def render(self) -> GeneratedQuery:
        assert self.schema.query_type is not None
        body = self.selection_set(self.schema.query_type, 1)
        name = "Q"
        others = ""
        operation_name: str | None = None
        if self.chance(8):
            self.shapes.add("multi-operation")
            others = "\nquery Other { __typename }\nmutation Unused { __typename }"
            operation_name = name
        elif self.chance(5):
            operation_name = name
        header = ""
        if self.definitions:
            header = f"query {name}({', '.join(self.definitions)}) "
        elif operation_name is not None or self.chance(50):
            header = f"query {name} "
        fragments = "".join(f"\n{f.text}" for f in self.fragments)
        return GeneratedQuery(
            text=f"{header}{body}{fragments}{others}",
            variables=self.variables,
            operation_name=operation_name,
            shapes=frozenset(self.shapes),
        )


@st.composite
def read_queries(draw: st.DrawFn, schema: GraphQLSchema, samples: Samples) -> GeneratedQuery:
    """A valid read query over ROOT_FIELDS, with values from `samples` and wrong ones."""
    query = _Document(draw, schema, samples).render()
    assume(not problems(schema, query.text))
    return query


# Event-stream subscriptions (tests/test_cohort_differential.py) -----------------------------

EVENT_STREAMS = ("complaintEvents", "slaAlerts")


@st.composite
def event_subscriptions(
    draw: st.DrawFn, schema: GraphQLSchema, samples: Samples, after: str
) -> GeneratedQuery:
    """A valid subscription to an event stream, replaying from the cursor `after`: the event's
    selection drawn as a root field's is, and a filter sometimes, as a literal or a variable."""
    document = _Document(draw, schema, samples)
    event = schema.get_type("ComplaintEvent")
    assert isinstance(event, GraphQLObjectType)
    body = document.selection_set(event, 2)
    root = draw(st.sampled_from(EVENT_STREAMS))
    subscription = schema.subscription_type
    assert subscription is not None
    definitions = dict(subscription.fields[root].args)
    definitions.pop("after")
    arguments = document.arguments("Subscription", root, definitions) if document.chance(40) else ""
    arguments = f"after: {json.dumps(after)}" + (f", {arguments[1:-1]}" if arguments else "")
    alias = "stream: " if document.chance(20) else ""
    header = "subscription S "
    if document.definitions:
        header = f"subscription S({', '.join(document.definitions)}) "
    fragments = "".join(f"\n{f.text}" for f in document.fragments)
    query = GeneratedQuery(
        text=f"{header}{{ {alias}{root}({arguments}) {body} }}{fragments}",
        variables=document.variables,
        operation_name=None,
        shapes=frozenset(document.shapes | {root}),
    )
    assume(not problems(schema, query.text))
    return query
