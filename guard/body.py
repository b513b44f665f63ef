"""A size limit on request bodies and WebSocket messages, enforced on the bytes that arrive:
a chunked body without Content-Length is refused as soon as it passes the limit. And the other
way, a WebSocket close frame that fits the protocol, whatever reason the application gives."""

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kilas.guard._responses import error_body, send_json

TOO_LARGE = "PAYLOAD_TOO_LARGE"
# RFC 6455: "a message that is too big for it to process".
WS_MESSAGE_TOO_BIG = 1009
# RFC 6455: a close frame's reason is UTF-8, at most 123 bytes.
MAX_CLOSE_REASON = 123


def close_reason(reason: str) -> str:
    """A reason that fits a close frame. strawberry's reasons can quote the client (an unknown
    message type, an operation id); one that is not text, or too long, would make the server
    drop the connection without closing it."""
    data = reason.encode("utf-8", "backslashreplace")[:MAX_CLOSE_REASON]
    return data.decode("utf-8", "ignore")


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def _refusal(self) -> dict[str, Any]:
        return error_body(
            f"the request is larger than {self.max_bytes} bytes (KILAS_MAX_BODY_BYTES)",
            TOO_LARGE,
            maxBytes=self.max_bytes,
        )

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                body = error_body("Content-Length is not a number", "BAD_REQUEST")
                return await send_json(send, 400, body)
            if int(declared) > self.max_bytes:
                return await send_json(send, 413, self._refusal())
        # Read the whole body first (GraphQL needs all of it anyway), counting what arrives.
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                return await send_json(send, 413, self._refusal())
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            # Then the real channel, where a streaming response waits for the disconnect.
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        closed = False

        async def limited_receive() -> Message:
            nonlocal closed
            message = await receive()
            if message["type"] == "websocket.receive" and self._too_big(message):
                closed = True
                reason = f"message larger than {self.max_bytes} bytes"
                await send(
                    {"type": "websocket.close", "code": WS_MESSAGE_TOO_BIG, "reason": reason}
                )
                return {"type": "websocket.disconnect", "code": WS_MESSAGE_TOO_BIG}
            return message

        async def guarded_send(message: Message) -> None:
            # After our close, the application's own sends (and its close) go nowhere.
            if closed:
                return
            if message["type"] == "websocket.close" and message.get("reason"):
                message = {**message, "reason": close_reason(message["reason"])}
            await send(message)

        await self.app(scope, limited_receive, guarded_send)

    def _too_big(self, message: Message) -> bool:
        data = message.get("bytes")
        if data is not None:
            return len(data) > self.max_bytes
        text: str = message.get("text") or ""
        # A character is at least one byte and at most four: encode only when in doubt.
        if len(text) > self.max_bytes:
            return True
        return len(text) * 4 > self.max_bytes and len(text.encode()) > self.max_bytes
