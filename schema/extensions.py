from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError, StringValueNode, visit
from graphql.language import Visitor
from strawberry.extensions import SchemaExtension


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class _NulFinder(Visitor):
    found = False

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        if "\x00" in node.value:
            self.found = True


class RejectNulCharacters(SchemaExtension):
    """PostgreSQL text cannot hold U+0000: refuse it in any argument, up front, with a code,
    instead of letting the database fail deep inside a resolver."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        finder = _NulFinder()
        if context.graphql_document is not None:
            visit(context.graphql_document, finder)
        if finder.found or _has_nul(context.variables):
            raise GraphQLError(
                "text arguments must not contain the NUL character (U+0000)",
                extensions={"code": "INVALID_INPUT"},
            )
        yield
