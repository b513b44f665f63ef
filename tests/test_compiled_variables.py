"""The compiled path's coercion of variables (compiler/variables.py) against graphql-core's
own, which strawberry's pipeline uses: for every operation Kilas's schema accepts and every
JSON value a client can send, the same coerced values and sources, or the same errors."""

from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, parse
from graphql.execution.values import VariableValues, get_variable_values
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kilas.compiler.variables import Coercion
from kilas.schema import build_schema

SCHEMA = build_schema()._schema

# Types a variable of Kilas's schema can have: the plain built-in scalars (the fast path), and
# what it leaves to graphql-core (enums, input objects, lists, Float).
TYPES = [
    "Int", "Int!", "String", "String!", "ID", "ID!", "Boolean", "Boolean!", "Float",
    "ComplaintStatus", "[ComplaintStatus!]", "ComplaintFilter", "[String!]",
]  # fmt: skip
DEFAULTS = {"Int": "5", "String": '"x"', "ComplaintStatus": "ASSIGNED", "Boolean": "true"}

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**40), max_value=2**40)
    | st.sampled_from([2**31 - 1, 2**31, -(2**31), -(2**31) - 1, 0, 1, -1])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([1.0, -0.0, 2.5, 1e20])
    | st.text(max_size=8)
    | st.sampled_from(["ASSIGNED", "nope", "", " 7 "])
)
# Mostly one scalar, as clients send; sometimes lists and objects.
json_values = scalars | st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=6,
)


@st.composite
def operations(draw: Any) -> tuple[str, dict[str, Any]]:
    count = draw(st.integers(min_value=0, max_value=4))
    definitions, inputs = [], {}
    for index in range(count):
        kind = draw(st.sampled_from(TYPES[:8]) | st.sampled_from(TYPES))
        default = DEFAULTS.get(kind) if draw(st.booleans()) else None
        definitions.append(f"$v{index}: {kind}" + (f" = {default}" if default else ""))
        if draw(st.integers(min_value=0, max_value=4)):  # mostly sent
            inputs[f"v{index}"] = draw(json_values)
    head = f"({', '.join(definitions)})" if definitions else ""
    return f"query Q{head} {{ __typename }}", inputs


def _same(found: VariableValues | list[GraphQLError], expected: Any) -> None:
    if isinstance(expected, list):
        assert isinstance(found, list)
        assert [e.message for e in found] == [e.message for e in expected]
        return
    assert isinstance(found, VariableValues)
    assert found.coerced == expected.coerced
    assert list(found.coerced) == list(expected.coerced)
    assert _sources(found) == _sources(expected)
    for name, value in expected.coerced.items():
        assert type(found.coerced[name]) is type(value), name


def _sources(values: VariableValues) -> list[tuple[Any, ...]]:
    """The sources, their signatures' types by name (graphql-core wraps a list or non-null
    type anew each time it reads a signature)."""
    return [
        (name, signature.name, str(signature.type), signature.default, source.value)
        for name, source in values.sources.items()
        for signature in [source.signature]
    ]


@settings(
    max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
@given(operations())
def test_the_plain_way_coerces_as_graphql_core_does(operation: tuple[str, dict[str, Any]]) -> None:
    document, inputs = operation
    definition = parse(document).definitions[0]
    assert isinstance(definition, OperationDefinitionNode)
    definitions = tuple(definition.variable_definitions or ())
    expected = get_variable_values(SCHEMA, definitions, inputs)
    _same(Coercion(SCHEMA, definitions)(inputs), expected)


def test_the_plain_way_is_taken_for_plain_scalars_only() -> None:
    def coercion(document: str) -> Coercion:
        definition = parse(document).definitions[0]
        assert isinstance(definition, OperationDefinitionNode)
        return Coercion(SCHEMA, tuple(definition.variable_definitions or ()))

    plain = coercion("query ($a: Int!, $b: String, $c: ID, $d: Boolean) { __typename }")
    assert plain.plain is not None and len(plain.plain) == 4
    assert coercion("query { __typename }").plain == ()
    for other in ("$a: Int = 3", "$a: Float", "$a: ComplaintStatus", "$a: [Int]"):
        assert coercion(f"query ({other}) {{ __typename }}").plain is None, other
