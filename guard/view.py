"""strawberry's ASGI view with the WebSocket limits, and JSON refusals: a request strawberry
refuses before GraphQL runs (malformed JSON, no query, a mutation over GET…) gets a
GraphQL-shaped JSON error with a code instead of plain text, and never a 500."""

import json
from typing import Any, TypeVar

from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.types.unset import UNSET

from kilas.guard._responses import error_body
from kilas.guard.sockets import GuardedLegacyWS, GuardedTransportWS, SocketGuard

ContextT = TypeVar("ContextT")
RootT = TypeVar("RootT")

_CODES = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}


class GuardedGraphQL(GraphQL[ContextT, RootT]):
    graphql_transport_ws_handler_class = GuardedTransportWS
    graphql_ws_handler_class = GuardedLegacyWS

    def __init__(self, *, socket_guard: SocketGuard | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.socket_guard = socket_guard

    async def run(  # type: ignore[override]
        self,
        request: Request | WebSocket,
        context: Any = UNSET,
        root_value: Any = UNSET,
    ) -> Response | WebSocket:
        try:
            return await super().run(request, context, root_value)
        except HTTPException as refused:
            code = _CODES.get(refused.status_code, "BAD_REQUEST")
            message = refused.reason
            if refused.status_code == 404 and not self.graphql_ide:
                code = "GRAPHIQL_DISABLED"
                message = "GraphiQL is turned off on this server (KILAS_GRAPHIQL); POST queries"
            return JSONResponse(error_body(message, code), status_code=refused.status_code)

    def decode_json(self, data: str | bytes) -> object:
        try:
            return json.loads(data)
        except RecursionError:
            # Python's parser gives up on deep nesting with an error of its own.
            raise json.JSONDecodeError("nested too deeply", "", 0) from None

    def parse_json(self, data: str | bytes) -> Any:
        value = super().parse_json(data)
        # A list is a batch, which strawberry refuses; anything else it would fail on.
        if not isinstance(value, dict | list):
            raise HTTPException(400, "expected a JSON object")
        return value
