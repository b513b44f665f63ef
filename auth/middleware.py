"""Establishes the caller of every HTTP request before it reaches a route: the caller is put at
`scope["kilas.caller"]`; a request whose credential is wrong is answered 401 (never downgraded
to the public role) by RefuseUnauthenticated, once the rate limit has counted it. WebSockets
authenticate in `connection_init` instead."""

import json

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from kilas.auth.authenticator import AuthenticationError, Authenticator
from kilas.auth.caller import CALLER_KEY, client_address

AUTH_ERROR_KEY = "kilas.auth_error"


class AuthMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = getattr(scope.get("app"), "state", None)
        kilas = getattr(state, "kilas", None) if state is not None else None
        if scope["type"] != "http" or kilas is None or CALLER_KEY in scope:
            # (Established already by compiler.http's CompiledPosts, which fell through.)
            await self.app(scope, receive, send)
            return
        authenticator: Authenticator = kilas.authenticator
        try:
            scope[CALLER_KEY] = await authenticator.authenticate(
                Headers(scope=scope).get("authorization"), client_address(scope)
            )
        except AuthenticationError as error:
            # Answered by RefuseUnauthenticated, after the rate limit has counted the attempt
            # against the address: guessing keys or tokens is slowed like any other request.
            scope[AUTH_ERROR_KEY] = error.message
        await self.app(scope, receive, send)


class RefuseUnauthenticated:
    """Answers 401 to a request whose credential AuthMiddleware refused."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = scope.get(AUTH_ERROR_KEY)
        if message is None:
            await self.app(scope, receive, send)
            return
        await _unauthenticated(send, message)


async def _unauthenticated(send: Send, message: str) -> None:
    body = json.dumps(
        {
            "data": None,
            "errors": [{"message": message, "extensions": {"code": AuthenticationError.code}}],
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", b'Bearer error="invalid_token"'),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
