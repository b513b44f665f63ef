from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError, StringValueNode, visit
from graphql.language import Visitor
from strawberry.extensions import SchemaExtension

from kilas.guard.text import first_problem, invalid_text, text_problem


class _LiteralChecker(Visitor):
    error: GraphQLError | None = None

    def enter_string_value(self, node: StringValueNode, *_: Any) -> Any:
        # graphql-core's parser refuses a lone surrogate in a document, but not an escaped NUL.
        if (problem := text_problem(node.value)) is not None:
            self.error = invalid_text("a string argument", problem, node)
            return Visitor.BREAK
        return None


def find_invalid_text(document: Any, variables: Any) -> GraphQLError | None:
    # Over a WebSocket, `variables` is whatever the message held; graphql-core judges its type.
    for name, value in variables.items() if isinstance(variables, dict) else ():
        if found := first_problem(name, "a variable's name") or first_problem(value, f"${name}"):
            return invalid_text(*found)
    checker = _LiteralChecker()
    if document is not None:
        visit(document, checker)
    return checker.error


class RejectInvalidText(SchemaExtension):
    """Every string that comes in, in a variable or in the document, must be text PostgreSQL can
    hold and a client can read back (guard/text.py): one check for every argument of every
    field, on every transport, before anything runs. The refusal is reported like a validation
    error, so a WebSocket operation gets an `error` message and its socket stays open. Listed
    after ValidationCache, which sets the validation errors this adds to."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        error = find_invalid_text(context.graphql_document, context.variables)
        if error is not None:
            # A new list: ValidationCache's is shared by every request of the same document.
            context.pre_execution_errors = [*(context.pre_execution_errors or ()), error]
        yield
