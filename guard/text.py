"""Text Kilas accepts: Unicode characters other than NUL. JSON can still carry what is not text
(a lone surrogate such as "\\ud800", which Python decodes into a str that cannot be encoded as
UTF-8), and PostgreSQL text cannot hold U+0000; either would fail deep inside a resolver, or
while an answer that echoes it is written. Both are refused where a request arrives."""

import re
from typing import Any

from graphql import GraphQLError

INVALID_INPUT = "INVALID_INPUT"
BAD_REQUEST = "BAD_REQUEST"
_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """What in `value` is not text, if anything is."""
    if "\x00" in value:
        return "the NUL character (U+0000), which text cannot hold"
    if not value.isascii() and (found := _SURROGATE.search(value)):
        return f"a lone surrogate (U+{ord(found.group()):04X}), which is not a Unicode character"
    return None


def first_problem(value: Any, where: str) -> tuple[str, str] | None:
    """(where, what) for the first string in a JSON value, keys included, that is not text.
    Iterative: a value nested as deep as the JSON parser allows must not exhaust the stack."""
    pending = [(value, where)]
    while pending:
        item, path = pending.pop()
        if isinstance(item, str):
            if (problem := text_problem(item)) is not None:
                return path, problem
        elif isinstance(item, dict):
            for key, inner in reversed(item.items()):
                if isinstance(key, str) and (problem := text_problem(key)) is not None:
                    return f"a key in {path}", problem
                pending.append((inner, f"{path}.{key}"))
        elif isinstance(item, list):
            pending.extend((inner, f"{path}[{i}]") for i, inner in reversed(list(enumerate(item))))
    return None


def invalid_text(where: str, problem: str, node: Any = None) -> GraphQLError:
    return GraphQLError(
        f"{where} is not valid text: it contains {problem}",
        node,
        extensions={"code": INVALID_INPUT},
    )


def envelope_problem(query: Any, operation_name: Any) -> str | None:
    """Why a request's own text (the document, the operation's name) is refused, if it is.
    Answered before GraphQL runs: strawberry would echo a bad operation name back."""
    for name, value in (("the query", query), ("operationName", operation_name)):
        if isinstance(value, str) and (problem := text_problem(value)) is not None:
            return f"{name} is not valid text: it contains {problem}"
    return None


def envelope_refusal(payload: Any) -> GraphQLError | None:
    """A WebSocket `subscribe` whose query or operationName is not text: refused as HTTP refuses
    it (BAD_REQUEST), for that operation only."""
    if not isinstance(payload, dict):
        return None
    problem = envelope_problem(payload.get("query"), payload.get("operationName"))
    return None if problem is None else GraphQLError(problem, extensions={"code": BAD_REQUEST})
