"""strawberry's ASGI view with the WebSocket limits and origin check, JSON refusals, and
GraphQL over HTTP's media types: a request strawberry refuses before GraphQL runs (malformed
JSON, no query, a mutation over GET…) gets a GraphQL-shaped JSON error with a code instead of
plain text, and never a 500; a client that accepts `application/graphql-response+json` gets it,
with 400 and no `data` entry for a request error (the document does not parse or validate, a
variable does not coerce), and one that accepts neither that nor `application/json` gets 406.
All of it sits at the edge of the view, around strawberry rather than inside it."""

import json
from typing import Any, TypeVar

from cross_web import HTTPException
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.types import ExecutionResult

from kilas.guard._responses import error_body, send_json
from kilas.guard.media import GRAPHQL_RESPONSE, MEDIA_KEY, accepts_html, content_type_of, negotiate
from kilas.guard.origin import origin_allowed
from kilas.guard.sockets import GuardedLegacyWS, GuardedTransportWS, SocketGuard
from kilas.guard.text import envelope_problem

ContextT = TypeVar("ContextT")
RootT = TypeVar("RootT")

_CODES = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
_SUB_RESPONSE = "kilas.sub_response"


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
            accept = accept_header(scope)
            media = negotiate(accept)
            if media is None and not (scope["method"] == "GET" and accepts_html(accept)):
                message = (
                    "this server answers GraphQL as application/graphql-response+json or "
                    "application/json; the Accept header names neither"
                )
                await send_json(send, 406, error_body(message, "NOT_ACCEPTABLE"))
                return
            scope[MEDIA_KEY] = media
            send = self._json_refusals(send, media)
        await super().__call__(scope, receive, send)

    async def get_sub_response(self, request: Any) -> Any:
        # Kept on the request's scope: process_result decides the status, create_response
        # the content type, of the one response.
        sub_response = await super().get_sub_response(request)
        if not isinstance(request, WebSocket):
            request.scope[_SUB_RESPONSE] = sub_response
            sub_response.kilas_media = request.scope.get(MEDIA_KEY)  # type: ignore[attr-defined]
        return sub_response

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        body = await super().process_result(request, result)
        if request.scope.get(MEDIA_KEY) == GRAPHQL_RESPONSE and is_request_error(result):
            # GraphQL over HTTP: a request error has no `data` entry, and answers 400.
            body.pop("data", None)
            request.scope[_SUB_RESPONSE].status_code = 400
        return body

    def create_response(self, response_data: Any, sub_response: Any) -> Any:
        response = super().create_response(response_data, sub_response)
        media = getattr(sub_response, "kilas_media", None)
        response.headers["content-type"] = content_type_of(media)
        return response

    def _json_refusals(self, send: Send, media: str | None) -> Send:
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
            await send_json(
                send, status, error_body(reason, code), content_type=content_type_of(media)
            )

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
        if isinstance(data, GraphQLRequestData) and not isinstance(data.operation_name, str | None):
            raise HTTPException(400, "operationName must be a string (or null)")
        return data


def accept_header(scope: Scope) -> str | None:
    """The request's Accept header (several joined as one list), None without one."""
    values = [value.decode("latin-1") for name, value in scope["headers"] if name == b"accept"]
    return ", ".join(values) if values else None


def is_request_error(result: ExecutionResult) -> bool:
    """A result of a request that never executed: the document did not parse or validate, a
    variable did not coerce, or a guard refused it before execution. Its errors have no path;
    an error of a field that ran always has one."""
    return (
        result.data is None
        and bool(result.errors)
        and all(not error.path for error in result.errors or [])
    )


def _plain_text_refusal(start: Message) -> bool:
    content_type = dict(start.get("headers", [])).get(b"content-type", b"")
    return int(start["status"]) >= 400 and content_type.startswith(b"text/plain")
