"""Every error a client can get carries a stable `extensions.code`, including the ones
graphql-core and the transports produce, and the masked unexpected ones."""

import logging
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import MaskErrors, SchemaExtension

from kilas.guard.validation import TOO_COMPLEX

PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
BAD_USER_INPUT = "BAD_USER_INPUT"
INTERNAL = "INTERNAL_SERVER_ERROR"

log = logging.getLogger("kilas")

# graphql-core's own limits, reported as syntax errors while it parses.
_PARSER_LIMITS = {
    "Document contains more than": ("more than {max} tokens", "tokens"),
    "Document is nested too deeply": ("brackets nested too deeply", "depth"),
}


def _with_code(error: GraphQLError, code: str, **extra: Any) -> None:
    error.extensions = {**(error.extensions or {}), "code": code, **extra}


def _parse_error(error: GraphQLError, max_tokens: int | None) -> None:
    if isinstance(error, GraphQLSyntaxError):
        for start, (what, limit) in _PARSER_LIMITS.items():
            if start in error.message:
                error.message = "the query is too complex: " + what.format(max=max_tokens)
                # graphql-core's nesting limit is its own, not a setting.
                extra = {"max": max_tokens} if limit == "tokens" else {}
                _with_code(error, TOO_COMPLEX, limit=limit, **extra)
                return
    _with_code(error, PARSE_FAILED)


class ErrorCodes(SchemaExtension):
    """Gives a code to each error that has none, by the step that failed: parsing,
    validation, coercing the variables (no path), or a field (an unexpected failure)."""

    step = "parse"

    def on_parse(self) -> Iterator[None]:
        yield
        context = self.execution_context
        if context.pre_execution_errors:
            max_tokens = context.parse_options.get("max_tokens")
            for error in context.pre_execution_errors:
                if not (error.extensions or {}).get("code"):
                    _parse_error(error, max_tokens)
        else:
            self.step = "validate"

    def on_validate(self) -> Iterator[None]:
        yield
        # Coded here already, before the schema logs what it takes for faults.
        if self.execution_context.pre_execution_errors:
            self._code(self.execution_context.pre_execution_errors)
        else:
            self.step = "execute"

    def on_operation(self) -> Iterator[None]:
        yield
        self._code(getattr(self.execution_context.result, "errors", None))

    def on_stream_result(self, result: Any) -> Iterator[None]:
        self._code(getattr(result, "errors", None))
        yield

    def _code(self, errors: list[GraphQLError] | None) -> None:
        for error in errors or ():
            if (error.extensions or {}).get("code"):
                continue
            if self.step == "parse":
                _parse_error(error, self.execution_context.parse_options.get("max_tokens"))
            elif self.step == "validate":
                _with_code(error, VALIDATION_FAILED)
            elif client_mistake(error):
                _with_code(error, BAD_USER_INPUT)
            else:
                _with_code(error, INTERNAL)


def _raised_by_code(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


def client_mistake(error: GraphQLError) -> bool:
    """An error in running the request that is the client's: a variable of the wrong type (its
    scalar may have raised while reading it), or an unknown operation name."""
    return error.message.startswith("Variable '$") or (
        error.path is None and not _raised_by_code(error)
    )


def faults(errors: list[GraphQLError]) -> list[GraphQLError]:
    """The errors to log as the server's faults, with their tracebacks. Expected failures (those
    with a code: FORBIDDEN, INVALID_INPUT, …) are answers and are not logged; a client's
    mistake is logged on one line, at INFO."""
    found = []
    for error in errors:
        if error.extensions and "code" in error.extensions:
            continue
        if client_mistake(error):
            log.info("refused a request: %s", error.message.replace("\n", " "))
        else:
            found.append(error)
    return found


class MaskUnexpected(MaskErrors):
    """strawberry's MaskErrors, with the code the masked error keeps."""

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        _with_code(masked, INTERNAL)
        return masked
