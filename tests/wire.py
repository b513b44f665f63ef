"""Talking to a real Kilas over real HTTP and WebSocket connections."""

import asyncio
import contextlib
import functools
import json
import socket
import ssl
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
import websockets

from kilas.app import create_app
from kilas.auth.caller import Role
from kilas.auth.tokens import issue
from kilas.db.pool import QueryLogger
from kilas.domain.clock import Clock
from kilas.settings import DEVELOPMENT_JWT_SECRET, Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class RunningServer:
    port: int
    settings: Settings
    app: Any

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def http_url(self) -> str:
        return f"{self.base_url}/graphql"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"


@contextlib.asynccontextmanager
async def start_server(
    database_url: str,
    *,
    broadcast_url: str = "memory://",
    query_logger: QueryLogger | None = None,
    clock: Clock | None = None,
    **overrides: Any,
) -> AsyncIterator[RunningServer]:
    # A given port lets a test restart a server where its clients will look for it again.
    port = overrides.pop("port", None) or free_port()
    settings = Settings(
        port=port,
        database_url=database_url,
        broadcast_url=broadcast_url,
        env=overrides.pop("env", "test"),
        event_poll_interval=overrides.pop("event_poll_interval", 0.5),
        **overrides,
    )
    app = create_app(settings, query_logger=query_logger, clock=clock)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", ws_per_message_deflate=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("uvicorn stopped before it started")
        await asyncio.sleep(0.02)
    try:
        yield RunningServer(port, settings, app)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


@contextlib.contextmanager
def server_in_thread(database_url: str) -> Iterator[RunningServer]:
    """A server on an event loop in a thread of its own, for synchronous tests (hypothesis
    drives them), with the rate limits out of reach and no SLA sweeps."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, Any] = {}
    stop = asyncio.Event()

    async def serve() -> None:
        async with start_server(
            database_url, rate_limit=10**6, rate_limit_burst=10**6, sla_sweep_interval=0
        ) as running:
            holder["server"] = running
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=lambda: loop.run_until_complete(serve()), daemon=True)
    thread.start()
    assert ready.wait(60), "the server did not start"
    try:
        yield holder["server"]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)


@functools.cache
def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()


def token(role: str, *, opd: str | None = None, subject: str | None = None, **more: Any) -> str:
    """A staff JWT signed with the development secret, which test servers accept."""
    return issue(
        DEVELOPMENT_JWT_SECRET,
        subject=subject or f"test-{role.lower()}",
        role=Role(role),
        opd_slug=opd,
        expires_at=more.pop("expires_at", datetime(2100, 1, 1, tzinfo=UTC)),
        **more,
    )


def bearer(value: str) -> dict[str, str]:
    return {"authorization": f"Bearer {value}"}


# Tests that are not about access control act as the staff role their operation needs:
# administration as ADMIN, supervision as SUPERVISOR, everything else as OPERATOR. Access
# control tests pass `token=` (None: the public role).
_ADMIN_FIELDS = ("createOpd", "updateOpd", "OpdSocialAccount", "createProgramme",
                 "updateProgramme", "createWorkItem", "updateWorkItemProgress",
                 "addSlaPolicyVersion")  # fmt: skip
_SUPERVISOR_FIELDS = ("accountability", "personalDataAccess")
DEFAULT: Any = object()


def staff_token_for(query: str) -> str:
    if any(name in query for name in _ADMIN_FIELDS):
        return token("ADMIN")
    if any(name in query for name in _SUPERVISOR_FIELDS):
        return token("SUPERVISOR")
    return token("OPERATOR")


def http_client(token_value: str | None = DEFAULT) -> httpx.AsyncClient:
    """A client that is cheap to make: a default httpx client loads the CA store (~80 ms).
    It sends an OPERATOR token unless given another (None: none, the public role)."""
    if token_value is DEFAULT:
        token_value = token("OPERATOR")
    headers = bearer(token_value) if token_value is not None else {}
    return httpx.AsyncClient(timeout=30, trust_env=False, verify=_tls(), headers=headers)


async def gql(
    url: str,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    client: httpx.AsyncClient | None = None,
    token: str | None = DEFAULT,
) -> dict[str, Any]:
    """POST a GraphQL request; return the whole response body (data and errors)."""
    if token is DEFAULT:
        token = staff_token_for(query)
    async with contextlib.AsyncExitStack() as stack:
        if client is None:
            client = await stack.enter_async_context(http_client(None))
        response = await client.post(
            url,
            json={"query": query, "variables": variables or {}},
            headers=bearer(token) if token is not None else {"authorization": ""},
        )
        body: dict[str, Any] = response.json()
        return body


async def gql_data(url: str, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
    """POST and assert the response has no errors; return its data."""
    body = await gql(url, query, variables, **kw)
    assert "errors" not in body, body["errors"]
    return body["data"]


@dataclass
class WsClient:
    """A graphql-transport-ws client on a real WebSocket."""

    ws: Any
    buffered: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(
        cls, url: str, payload: dict[str, Any] | None = None
    ) -> AsyncIterator["WsClient"]:
        """Connects as an OPERATOR unless `payload` says otherwise ({}: the public role)."""
        if payload is None:
            payload = bearer(token("OPERATOR"))
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
            await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
            ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert ack["type"] == "connection_ack", ack
            yield cls(ws)

    async def subscribe(
        self, op_id: str, query: str, variables: dict[str, Any] | None = None
    ) -> None:
        await self.ws.send(
            json.dumps(
                {
                    "id": op_id,
                    "type": "subscribe",
                    "payload": {"query": query, "variables": variables or {}},
                }
            )
        )

    async def complete(self, op_id: str) -> None:
        await self.ws.send(json.dumps({"id": op_id, "type": "complete"}))

    async def message(self, op_id: str, timeout: float = 10) -> dict[str, Any]:
        """The next message (next, error or complete) for one operation; pings are answered."""
        if self.buffered.get(op_id):
            return self.buffered[op_id].pop(0)
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), timeout)
            message = json.loads(raw)
            if message["type"] == "ping":
                await self.ws.send(json.dumps({"type": "pong"}))
                continue
            if message.get("id") == op_id:
                return message
            self.buffered.setdefault(message.get("id", ""), []).append(message)

    async def next_data(self, op_id: str, timeout: float = 10) -> dict[str, Any]:
        message = await self.message(op_id, timeout)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message["payload"]
        data: dict[str, Any] = message["payload"]["data"]
        return data

    async def nothing_more(self, op_id: str, wait: float = 0.5) -> bool:
        try:
            message = await self.message(op_id, wait)
        except TimeoutError:
            return True
        self.buffered.setdefault(op_id, []).insert(0, message)
        return False
