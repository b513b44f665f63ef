"""A plan's variables, coerced as graphql-core coerces them, without graphql-core's general
machinery when every variable is a built-in scalar (Int, String, ID, Boolean) and every value
sent is plainly of its type: what an admitted query sends on almost every request. Anything
else (an input object, an enum, a list, a default, a value graphql-core would convert or
refuse) is coerced by `get_variable_values` itself, so the result is always graphql-core's,
value for value and source for source (tests/test_compiled_variables.py compares them)."""

from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLError,
    GraphQLID,
    GraphQLInt,
    GraphQLNonNull,
    GraphQLSchema,
    GraphQLString,
    VariableDefinitionNode,
)
from graphql.execution.get_variable_signature import (
    GraphQLVariableSignature,
    get_variable_signature,
)
from graphql.execution.values import (
    VariableValues,
    VariableValueSource,
    get_variable_values,
)

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


def _int(value: Any) -> Any:
    # graphql-core also takes an integral float (1.0) and refuses bools: those go its way.
    if type(value) is int and _INT_MIN <= value <= _INT_MAX:
        return value
    raise _Unplain


def _text(value: Any) -> Any:
    if type(value) is str:
        return value
    raise _Unplain


def _id(value: Any) -> Any:
    if type(value) is str:
        return value
    if type(value) is int:
        return str(value)
    raise _Unplain


def _boolean(value: Any) -> Any:
    if type(value) is bool:
        return value
    raise _Unplain


_PLAIN: dict[Any, Callable[[Any], Any]] = {
    GraphQLInt: _int,
    GraphQLString: _text,
    GraphQLID: _id,
    GraphQLBoolean: _boolean,
}


class _Unplain(Exception):
    """A value graphql-core's own coercion must see."""


class Coercion:
    """One operation's variables: the plain way when it can, else graphql-core's."""

    def __init__(
        self, schema: GraphQLSchema, definitions: tuple[VariableDefinitionNode, ...]
    ) -> None:
        self.schema = schema
        self.definitions = definitions
        self.plain = _plain_variables(schema, definitions)

    def __call__(self, inputs: dict[str, Any]) -> VariableValues | list[GraphQLError]:
        if self.plain is not None:
            try:
                return _coerce_plainly(self.plain, inputs)
            except _Unplain:
                pass
        return get_variable_values(self.schema, self.definitions, inputs)


Plain = tuple[tuple[str, GraphQLVariableSignature, Callable[[Any], Any], bool], ...]


def _plain_variables(
    schema: GraphQLSchema, definitions: tuple[VariableDefinitionNode, ...]
) -> Plain | None:
    """Each variable's name, signature, scalar check and whether it is non-null; None when one
    is not a built-in scalar without a default."""
    found = []
    for definition in definitions:
        signature = get_variable_signature(schema, definition)
        if isinstance(signature, GraphQLError) or definition.default_value is not None:
            return None
        kind = signature.type
        non_null = isinstance(kind, GraphQLNonNull)
        check = _PLAIN.get(kind.of_type if isinstance(kind, GraphQLNonNull) else kind)
        if check is None:
            return None
        found.append((signature.name, signature, check, non_null))
    return tuple(found)


def _coerce_plainly(plain: Plain, inputs: dict[str, Any]) -> VariableValues:
    """As graphql-core's `coerce_variable_values` for plain scalars: a variable not sent is
    left out (a non-null one goes graphql-core's way, which refuses it)."""
    sources: dict[str, VariableValueSource] = {}
    coerced: dict[str, Any] = {}
    for name, signature, check, non_null in plain:
        if name not in inputs:
            if non_null:
                raise _Unplain
            sources[name] = VariableValueSource(signature)
            continue
        value = inputs[name]
        sources[name] = VariableValueSource(signature, value)
        if value is None:
            if non_null:
                raise _Unplain
            coerced[name] = None
        else:
            coerced[name] = check(value)
    return VariableValues(sources, coerced)
