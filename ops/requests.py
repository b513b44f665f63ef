"""The outermost layer: every request gets an id (the client's `X-Request-Id` when it is a sane
one, else a new one, echoed in the response), one log line when it ends (id, operation name,
caller, status, duration; never a query string, a body, a secret or a reporter's data) and its
place in the request metrics; `/metrics` is answered here, before authentication and the rate
limits, so that a scraper's token is never taken for a Kilas credential."""

import asyncio
import hmac
import json
import logging
import re
import secrets
import time
from typing import Any
from urllib.parse import parse_qs

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kilas.auth.caller import CALLER_KEY, Caller
from kilas.guard.sockets import RAW_SEND
from kilas.ops.metrics import Metrics

log = logging.getLogger("kilas.request")
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_OPERATION = re.compile(rb"(?:query|mutation|subscription)\s+([A-Za-z_][A-Za-z0-9_]*)")
_OPERATION_NAME = re.compile(rb'"operationName"\s*:\s*"([A-Za-z_][A-Za-z0-9_]*)"')
# Probes and scrapes come every few seconds: their lines are for debugging only.
QUIET_PATHS = ("/health", "/ready", "/metrics")
SCRAPE_READ_TIMEOUT = 1.0  # seconds a scrape waits for the database's depths
_MAX_CAPTURE = 256 * 1024  # a GraphQL request or answer read for its name and errors, at most


class Operations:
    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        serve_metrics: bool,
        metrics_token: str | None,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.serve_metrics = serve_metrics
        self.metrics_token = metrics_token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await self._socket(scope, receive, send)
            return
        if scope["path"] == "/metrics" and self.serve_metrics:
            await self._scrape(scope, send)
            return
        await self._request(scope, receive, send)

    async def _request(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        request_id = _request_id(scope)
        graphql = scope["path"] == "/graphql"
        asked: list[bytes] = []
        answered: list[bytes] = []
        status = 500

        async def receiving() -> Message:
            message = await receive()
            if graphql and message["type"] == "http.request":
                _capture(asked, message.get("body", b""))
            return message

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            elif graphql and message["type"] == "http.response.body":
                _capture(answered, message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receiving if graphql else receive, sending)
        finally:
            seconds = time.perf_counter() - started
            operation, outcome = "-", _outcome(status)
            if graphql:
                operation = self.metrics.operation(_operation_name(scope, b"".join(asked)))
                codes = _error_codes(b"".join(answered))
                for code in codes:
                    self.metrics.graphql_errors.labels(code).inc()
                if codes and outcome == "ok":
                    outcome = "errors"
            kind = "graphql" if graphql else "http"
            label = operation if graphql else _route_label(scope["path"])
            self.metrics.requests.labels(kind, label, outcome).observe(seconds)
            level = logging.DEBUG if scope["path"] in QUIET_PATHS else logging.INFO
            # The fields are built only for a line that is written (not at KILAS_LOG_LEVEL=warning).
            if log.isEnabledFor(level):
                log.log(
                    level,
                    "%s %s %d %.1fms",
                    scope["method"],
                    scope["path"],
                    status,
                    seconds * 1000,
                    extra={
                        "request_id": request_id,
                        "operation": operation,
                        "caller": _caller(scope),
                        "status": status,
                        "duration_ms": round(seconds * 1000, 1),
                    },
                )

    async def _socket(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        request_id = _request_id(scope)
        code: int | None = None

        async def sending(message: Message) -> None:
            nonlocal code
            if message["type"] == "websocket.close":
                code = message.get("code", 1000)
            await send(message)

        async def receiving() -> Message:
            nonlocal code
            message = await receive()
            if message["type"] == "websocket.disconnect" and code is None:
                code = message.get("code", 1005)
            return message

        # The server's own `send`, for the cohorts' events to go past this layer too
        # (guard/sockets.RawSocketSend): only the close is this layer's to see.
        scope[RAW_SEND] = send
        self.metrics.open_sockets += 1
        try:
            await self.app(scope, receiving, sending)
        finally:
            self.metrics.open_sockets -= 1
            seconds = time.perf_counter() - started
            log.info(
                "WS %s closed %s after %.1fs",
                scope["path"],
                code,
                seconds,
                extra={
                    "request_id": request_id,
                    "caller": _caller(scope),
                    "status": code,
                    "duration_ms": round(seconds * 1000, 1),
                },
            )

    async def _scrape(self, scope: Scope, send: Send) -> None:
        if self.metrics_token is not None:
            given = _bearer(scope)
            if given is None or not hmac.compare_digest(given, self.metrics_token.encode()):
                await _answer(send, 401, b"metrics need the KILAS_METRICS_TOKEN bearer token\n")
                return
        if self.metrics.refresh is not None:
            try:
                async with asyncio.timeout(SCRAPE_READ_TIMEOUT):
                    await self.metrics.refresh()
            except Exception as exc:  # the last read stands; the scrape still answers
                log.warning("metrics: the depths could not be read now (%s)", exc)
        await _answer(send, 200, generate_latest(self.metrics.registry), CONTENT_TYPE_LATEST)


async def _answer(send: Send, status: int, body: bytes, media: str = "text/plain") -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", media.encode()), (b"cache-control", b"no-store")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _capture(into: list[bytes], chunk: bytes) -> None:
    if chunk and sum(map(len, into)) < _MAX_CAPTURE:
        into.append(chunk)


def _bearer(scope: Scope) -> bytes | None:
    value = Headers(scope=scope).get("authorization", "")
    if not value.lower().startswith("bearer "):
        return None
    return value[7:].strip().encode("latin-1")


def _request_id(scope: Scope) -> str:
    text = Headers(scope=scope).get("x-request-id", "")
    request_id = text if REQUEST_ID.fullmatch(text) else secrets.token_hex(8)
    scope.setdefault("state", {})["request_id"] = request_id
    return request_id


def _caller(scope: Scope) -> str:
    """Who asked: a role and a key's id or a token's subject, never the credential."""
    caller: Caller | None = scope.get(CALLER_KEY)
    if caller is None or caller.is_public:
        return "public"
    return f"{caller.role.value}:{caller.subject}"


def _outcome(status: int) -> str:
    return "5xx" if status >= 500 else "4xx" if status >= 400 else "ok"


def _route_label(path: str) -> str:
    """A bounded label for a path: its first segment (ids and files are not labels)."""
    first = path.strip("/").split("/", 1)[0]
    return f"/{first}" if _NAME_SEGMENT.fullmatch(first) else "/other"


_NAME_SEGMENT = re.compile(r"[a-z0-9_.-]{0,40}")


def _operation_name(scope: Scope, body: bytes) -> str | None:
    """The request's operation name: `operationName`, else the first named operation. A JSON
    body is searched as it is (a label needs no parse, and every request pays for this)."""
    document: Any = None
    if scope["method"] == "GET":
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        document = {k: v[0] for k, v in query.items()}
    elif body.lstrip()[:1] == b"[":
        return "batch"
    elif body:
        named = _OPERATION_NAME.search(body)
        if named is not None:
            return named.group(1).decode()
        match = _OPERATION.search(body)
        return match.group(1).decode() if match is not None else None
    if not isinstance(document, dict):
        return None
    name = document.get("operationName")
    if isinstance(name, str) and name:
        return name
    text = document.get("query")
    if isinstance(text, str):
        match = _OPERATION.search(text.encode())
        if match is not None:
            return match.group(1).decode()
    return None


def _error_codes(body: bytes) -> list[str]:
    if b'"errors"' not in body:
        return []
    try:
        answer = json.loads(body)
    except ValueError:
        return ["UNPARSED"]
    errors = answer.get("errors") if isinstance(answer, dict) else None
    if not isinstance(errors, list):
        return []
    codes = []
    for error in errors:
        extensions = error.get("extensions") if isinstance(error, dict) else None
        code = extensions.get("code") if isinstance(extensions, dict) else None
        codes.append(code if isinstance(code, str) and _CODE.fullmatch(code) else "UNSPECIFIED")
    return codes


_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
