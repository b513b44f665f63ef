"""The shortest way from an HTTP request to a compiled answer. The first of the app's
middlewares: a POST to /graphql of a plain JSON GraphQL request whose plan strawberry's
pipeline has admitted before (run.admitted_plan) is answered from its statements, with the
same guards the app's middlewares apply to it (authentication, the rate limit, the body size
limit), inlined, and nothing else. Anything else goes on down the app (the body replayed): a
request this path does not answer is answered there exactly as it would have been, and
never counted or authenticated twice (auth.middleware.AuthMiddleware and guard.ratelimit's
RateLimit see that this path did)."""

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kilas.auth.authenticator import AuthenticationError
from kilas.auth.caller import CALLER_KEY, client_address
from kilas.compiler.run import admitted_plan, answer_admitted, response_text
from kilas.guard._caller import caller_key
from kilas.guard._responses import send_json
from kilas.guard.media import content_type_of, negotiate
from kilas.guard.ratelimit import COUNTED_KEY, RateLimiter, refusal

_FIELDS = frozenset({"query", "variables", "operationName"})
_JSON = b"application/json"
# What almost every client sends: answered as JSON without reading the header further.
_PLAIN_ACCEPT = frozenset({None, b"*/*", b"application/json"})


def _media(accept: bytes | None) -> bytes | None:
    """The content type of the answer (guard.media's negotiation); None: not acceptable."""
    media = negotiate(accept.decode("latin-1") if accept is not None else None)
    return content_type_of(media).encode() if media is not None else None


class CompiledPosts:
    """`view` is the GraphQL view (app.KilasGraphQL): its schema, settings, clock and, once
    the app has started, its state (the pool, the authenticator)."""

    def __init__(
        self,
        app: ASGIApp,
        view: Any,
        path: str,
        limiter: RateLimiter | None,
        max_bytes: int,
    ) -> None:
        self.app = app
        self.view = view
        self.path = path
        self.limiter = limiter
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "POST"
            or scope["path"] != self.path
            or self.view.state is None
            or not self.view.settings.compiled_reads
        ):
            await self.app(scope, receive, send)
            return
        rest = await self._answer(scope, receive, send)
        if rest is not None:
            await self.app(scope, rest, send)

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """None when the request was answered; else the `receive` to hand on."""
        content_type = length = authorization = accept = None
        for name, value in scope["headers"]:
            if name == b"content-type" and content_type is None:
                content_type = value
            elif name == b"content-length" and length is None:
                length = value
            elif name == b"authorization" and authorization is None:
                authorization = value
            elif name == b"accept":
                accept = value if accept is None else accept + b"," + value
        if content_type is None or content_type.split(b";")[0].strip().lower() != _JSON:
            return receive
        answered_as = _JSON if accept in _PLAIN_ACCEPT else _media(accept)
        if answered_as is None:
            return receive  # the view answers 406
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            return receive  # guard.body answers it
        messages: list[Message] = []
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            if not message.get("more_body", False) or size > self.max_bytes:
                break

        async def replay() -> Message:
            # Then the real channel, where a streaming response waits for the disconnect.
            return messages.pop(0) if messages else await receive()

        if size > self.max_bytes:
            return replay
        request = _plain_request(b"".join(chunks))
        if request is None:
            return replay
        query, variables, operation = request
        state = self.view.state
        address = client_address(scope)
        try:
            caller = await state.authenticator.authenticate(
                authorization.decode("latin-1") if authorization is not None else None, address
            )
        except AuthenticationError:
            return replay  # refused down the app, once the rate limit has counted it
        scope[CALLER_KEY] = caller
        direct = admitted_plan(self.view.schema, query, variables, operation, caller.role)
        if direct is None:
            return replay
        if self.limiter is not None:
            decision = await self.limiter.hit(caller_key(scope))
            scope[COUNTED_KEY] = True
            if not decision.allowed:
                retry = {"Retry-After": str(decision.retry_after)}
                await send_json(send, 429, refusal(self.limiter, decision), retry)
                return None
        settings = self.view.settings
        result = await answer_admitted(
            direct, variables, caller, self.view.clock.now(), settings, state.pool
        )
        if result is None:
            return replay
        body = response_text(result).encode()
        headers = [(b"content-length", str(len(body)).encode()), (b"content-type", answered_as)]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return None


def _plain_request(body: bytes) -> tuple[str, dict[str, Any] | None, str | None] | None:
    """The query, variables and operation name of one plain GraphQL request; None for
    anything else (a batch, an extension, a field of the wrong type, not JSON)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or not data.keys() <= _FIELDS:
        return None
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
        return None
    return query, variables, operation
