"""The shortest way from an HTTP request to a compiled answer: a POST of a query whose plan
strawberry's pipeline has admitted before (run.answer_directly) is answered without the
pipeline, or strawberry's view. Anything else (another content type, a body that is not one
plain GraphQL request, a plan not admitted yet) goes to the view, with the body replayed."""

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.types import Message, Receive, Scope, Send

from kilas.compiler.run import answer_directly, response_text

_FIELDS = frozenset({"query", "variables", "operationName"})


async def answer_post(
    scope: Scope,
    receive: Receive,
    send: Send,
    schema: Any,
    context_of: Callable[[Request], Awaitable[Any]],
) -> Receive | None:
    """None when the request was answered; else the `receive` to hand on (the body replayed)."""
    content_type = dict(scope["headers"]).get(b"content-type", b"")
    if content_type.split(b";")[0].strip().lower() != b"application/json":
        return receive
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    try:
        data = json.loads(b"".join(chunks))
    except (ValueError, RecursionError):
        return replay
    if not isinstance(data, dict) or not data.keys() <= _FIELDS:
        return replay
    query, variables, operation = (
        data.get("query"),
        data.get("variables"),
        data.get("operationName"),
    )
    if (
        not isinstance(query, str)
        or not (variables is None or isinstance(variables, dict))
        or not (operation is None or isinstance(operation, str))
    ):
        return replay
    context = await context_of(Request(scope, replay))
    result = await answer_directly(schema, query, variables, context, operation)
    if result is None:
        return replay
    body = response_text(result).encode()
    headers = [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    return None
