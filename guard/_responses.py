"""Answers to requests refused before GraphQL ran, shaped like GraphQL responses."""

import asyncio
import json
from typing import Any

from starlette.types import Receive, Send


def error_body(message: str, code: str, **extensions: Any) -> dict[str, Any]:
    """A GraphQL-shaped response body for a request refused before GraphQL ran."""
    return {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]}


async def send_json(
    send: Send,
    status: int,
    body: Any,
    headers: dict[str, str] | None = None,
    *,
    websocket: bool = False,
    content_type: str = "application/json",
) -> None:
    """A JSON response; with `websocket`, the answer to a refused WebSocket handshake."""
    content = json.dumps(body).encode()
    raw = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(content)).encode()),
    ]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    prefix = "websocket.http" if websocket else "http"
    await send({"type": f"{prefix}.response.start", "status": status, "headers": raw})
    await send({"type": f"{prefix}.response.body", "body": content})


async def deny_websocket(
    receive: Receive, send: Send, status: int, body: Any, headers: dict[str, str] | None = None
) -> None:
    """Answer a WebSocket handshake (its websocket.connect received) with an HTTP response, and
    return once the server has closed the connection: uvicorn's websockets-sansio server logs
    "ASGI callable returned without completing handshake" at ERROR for an application that
    returns sooner (Kludex/uvicorn#3138). It reports the denial as a disconnect at once and the
    closed connection as another; a server that reports only one is given a second at most."""
    await send_json(send, status, body, headers, websocket=True)
    try:
        async with asyncio.timeout(1):
            for _ in range(2):
                await receive()
    except TimeoutError:
        pass
