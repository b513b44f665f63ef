"""strawberry's ASGI view with the WebSocket limits and origin check, and JSON refusals: a
request strawberry refuses before GraphQL runs (malformed JSON, no query, a mutation over
GET…) gets a GraphQL-shaped JSON error with a code instead of plain text, and never a 500.
Both sit at the ASGI edge of the view, around strawberry rather than inside it."""

import json
from typing import Any, TypeVar

from cross_web import HTTPException
from starlette.types import Message, Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData

from kilas.guard._responses import error_body, send_json
from kilas.guard.origin import origin_allowed
from kilas.guard.sockets import GuardedLegacyWS, GuardedTransportWS, SocketGuard
from kilas.guard.text import envelope_problem

ContextT = TypeVar("ContextT")
RootT = TypeVar("RootT")

_CODES = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


class GuardedGraphQL(GraphQL[ContextT, RootT]):
    graphql_transport_ws_handler_class = GuardedTransportWS
    graphql_ws_handler_class = GuardedLegacyWS

    def __init__(self, *, socket_guard: SocketGuard | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.socket_guard = socket_guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and not origin_allowed(scope, self.allowed_origins):
            # Closed before it is accepted: the handshake is answered 403.
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] == "http":
            send = self._json_refusals(send)
        await super().__call__(scope, receive, send)

    def _json_refusals(self, send: Send) -> Send:
        """strawberry answers an HTTPException (its refusals before GraphQL runs) with the
        reason as plain text; this sends it as JSON with a code instead."""
        refusal: dict[str, Any] = {}

        async def json_send(message: Message) -> None:
            if message["type"] == "http.response.start" and _plain_text_refusal(message):
                refusal.update(status=message["status"], body=b"")
                return
            if not refusal or message["type"] != "http.response.body":
                await send(message)
                return
            refusal["body"] += message.get("body", b"")
            if message.get("more_body", False):
                return
            status: int = refusal["status"]
            code = _CODES.get(status, "BAD_REQUEST")
            reason = refusal["body"].decode(errors="replace")
            if status == 404 and not self.graphql_ide:
                code = "GRAPHIQL_DISABLED"
                reason = "GraphiQL is turned off on this server (KILAS_GRAPHIQL); POST queries"
            await send_json(send, status, error_body(reason, code))

        return json_send

    def decode_json(self, data: str | bytes) -> object:
        try:
            return json.loads(data)
        except RecursionError:
            # Python's parser gives up on deep nesting with an error of its own.
            raise json.JSONDecodeError("nested too deeply", "", 0) from None
        except UnicodeDecodeError:
            raise json.JSONDecodeError("the body is not UTF-8", "", 0) from None

    def parse_json(self, data: str | bytes) -> Any:
        value = super().parse_json(data)
        # A list is a batch, which strawberry refuses; anything else it would fail on.
        if not isinstance(value, dict | list):
            raise HTTPException(400, "expected a JSON object")
        return value

    async def parse_http_body(self, request: Any) -> Any:
        data = await super().parse_http_body(request)
        # strawberry would echo an unknown operation name, unencodable if it is not text.
        if isinstance(data, GraphQLRequestData) and (
            problem := envelope_problem(data.query, data.operation_name)
        ):
            raise HTTPException(400, problem)
        return data


def _plain_text_refusal(start: Message) -> bool:
    content_type = dict(start.get("headers", [])).get(b"content-type", b"")
    return int(start["status"]) >= 400 and content_type.startswith(b"text/plain")
