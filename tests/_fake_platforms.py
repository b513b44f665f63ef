"""A stand-in for the platforms' send APIs on 127.0.0.1, for the reply tests: it checks each
request's path, authentication and JSON as Meta's Graph API and X API v2 document them, answers
as they answer, and records what it got. It can refuse the next requests (429, 500, 400) or hold
one longer than the sender waits."""

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.wire import free_port

META_TOKEN = "meta-test-token"
X_TOKEN = "x-test-token"
GRAPH_VERSION = "v21.0"


@dataclass
class Received:
    api: str
    path: str
    body: dict[str, Any]


@dataclass
class FakePlatforms:
    port: int = 0
    received: list[Received] = field(default_factory=list)
    # Statuses to answer the next requests with, before answering normally.
    refuse_next: list[int] = field(default_factory=list)
    # Seconds to hold the next request before answering.
    hold_next: float = 0.0
    invalid: list[str] = field(default_factory=list)

    @property
    def graph_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{GRAPH_VERSION}"

    @property
    def x_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _problem(self, problem: str) -> Response:
        self.invalid.append(problem)
        return JSONResponse({"error": {"message": problem}}, status_code=400)

    async def handle(self, request: Request) -> Response:
        path = request.url.path
        api = "x" if path.startswith("/2/") else "graph"
        token = META_TOKEN if api == "graph" else X_TOKEN
        if request.headers.get("authorization") != f"Bearer {token}":
            self.invalid.append(f"{path}: authorization {request.headers.get('authorization')}")
            return JSONResponse({"error": {"message": "Invalid OAuth access token"}}, 401)
        if request.headers.get("content-type") != "application/json":
            return self._problem(f"{path}: content-type {request.headers.get('content-type')}")
        body = await request.json()
        self.received.append(Received(api, path, body))
        if self.hold_next:
            held, self.hold_next = self.hold_next, 0.0
            await asyncio.sleep(held)
        if self.refuse_next:
            status = self.refuse_next.pop(0)
            return JSONResponse({"error": {"message": "refused by the test"}}, status)
        answer = self._answer(api, path, body)
        return answer if isinstance(answer, Response) else JSONResponse(answer)

    def _answer(self, api: str, path: str, body: dict[str, Any]) -> dict[str, Any] | Response:
        n = len(self.received)
        if api == "x":
            text = body.get("text")
            if not isinstance(text, str) or not 1 <= len(text) <= 280:
                return self._problem(f"{path}: text must be 1-280 characters")
            if path == "/2/tweets":
                reply = body.get("reply")
                if not isinstance(reply, dict) or not reply.get("in_reply_to_tweet_id"):
                    return self._problem("/2/tweets: reply.in_reply_to_tweet_id missing")
                return {"data": {"id": f"tweet-{n}", "text": text}}
            if re.fullmatch(r"/2/dm_conversations/with/[0-9]+/messages", path):
                return {"data": {"dm_conversation_id": "1-2", "dm_event_id": f"dm-{n}"}}
            return self._problem(f"{path}: no such X endpoint")
        match = re.fullmatch(
            rf"/{GRAPH_VERSION}/([0-9A-Za-z_.-]+)/(messages|replies|comments|mentions)", path
        )
        if match is None:
            return self._problem(f"{path}: no such Graph endpoint")
        edge = match.group(2)
        if edge == "messages" and body.get("messaging_product") == "whatsapp":
            text = body.get("text")
            if not (
                body.get("recipient_type") == "individual"
                and isinstance(body.get("to"), str)
                and body.get("type") == "text"
                and isinstance(text, dict)
                and isinstance(text.get("body"), str)
            ):
                return self._problem(f"{path}: not a WhatsApp text message")
            return {
                "messaging_product": "whatsapp",
                "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                "messages": [{"id": f"wamid.OUT{n}"}],
            }
        if edge == "messages":
            recipient, message = body.get("recipient"), body.get("message")
            if not (isinstance(recipient, dict) and isinstance(message, dict)):
                return self._problem(f"{path}: recipient and message required")
            return {"recipient_id": recipient.get("id"), "message_id": f"m_OUT{n}"}
        if not isinstance(body.get("message"), str):
            return self._problem(f"{path}: message required")
        if edge == "mentions" and not body.get("media_id"):
            return self._problem(f"{path}: media_id required")
        return {"id": f"{match.group(1)}_{n}"}


@contextlib.asynccontextmanager
async def fake_platforms() -> AsyncIterator[FakePlatforms]:
    fake = FakePlatforms(port=free_port())
    app = Starlette(routes=[Route("/{path:path}", fake.handle, methods=["POST"])])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=fake.port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield fake
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
