"""A partner's webhook receiver on 127.0.0.1: a real HTTP server (uvicorn) that keeps every
request it is sent, answers 204, or the status a test tells it to (an outage)."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.types import Receive, Scope, Send

from tests.wire import free_port


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def cursor(self) -> int:
        return int(self.json["data"]["cursor"])


@dataclass
class Receiver:
    url: str
    # Every request, answered or refused, in arrival order.
    requests: list[Received] = field(default_factory=list)
    # The status answered while set (a 5xx outage); None: 204.
    failing_with: int | None = None

    @property
    def accepted(self) -> list[Received]:
        return [r for r, ok in zip(self.requests, self._answers, strict=True) if ok]

    def __post_init__(self) -> None:
        self._answers: list[bool] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        self.requests.append(Received(headers, body))
        status = self.failing_with or 204
        self._answers.append(status < 300)
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def wait_for(self, count: int, timeout: float = 15) -> list[Received]:
        """Once at least `count` requests were accepted."""
        async with asyncio.timeout(timeout):
            while len(self.accepted) < count:
                await asyncio.sleep(0.05)
        return self.accepted


@contextlib.asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    port = free_port()
    app = Receiver(f"http://127.0.0.1:{port}/hooks/kilas")
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield app
    finally:
        server.should_exit = True
        await task
