"""Shared by the live-delivery tests: bus parameters, waiting for subscribers, reading the log."""

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import asyncpg
import httpx
import pytest

from tests import ops
from tests.wire import RunningServer, WsClient, gql_data, start_server

REDIS_URL = os.environ.get("KILAS_TEST_REDIS_URL")
NO_REDIS = (
    "the redis bus is tested only when KILAS_TEST_REDIS_URL is set "
    "(e.g. KILAS_TEST_REDIS_URL=redis://127.0.0.1:6379/0)"
)

# The cross-process buses; the memory bus serves one process only.
SHARED_BUSES = [
    pytest.param("postgres://", id="postgres-bus"),
    pytest.param(
        REDIS_URL or "redis://",
        id="redis-bus",
        marks=pytest.mark.skipif(not REDIS_URL, reason=NO_REDIS),
    ),
]
ALL_BUSES = [pytest.param("memory://", id="memory-bus"), *SHARED_BUSES]

# Long enough that nothing in a test can be delivered by the hub's safety-net poll.
NO_POLL = 30.0

EVENT_FIELDS = """
    cursor type fromStatus toStatus version
    opd { id shortName } fromOpd { id shortName } region { code }
    complaint { id trackingNumber status version opd { shortName } }
"""
EVENTS = f"""
subscription Events($filter: ComplaintEventFilter, $after: String) {{
  complaintEvents(filter: $filter, after: $after) {{ {EVENT_FIELDS} }}
}}
"""
LOG = """
query Log($after: String) {
  complaintEvents(first: 100, after: $after) {
    nodes { cursor } pageInfo { hasNextPage endCursor }
  }
}
"""


@contextlib.asynccontextmanager
async def writer_and_reader(
    database_url: str, bus: str, **overrides: Any
) -> AsyncIterator[tuple[RunningServer, RunningServer]]:
    """The server to send mutations to and the server to subscribe on. On the memory bus they
    are one server; on a shared bus they are two instances that never poll, so every live event
    the reader delivers came to it over the bus."""
    async with contextlib.AsyncExitStack() as stack:
        if bus == "memory://":
            server = await stack.enter_async_context(start_server(database_url, **overrides))
            yield server, server
            return
        writer = await stack.enter_async_context(
            start_server(database_url, broadcast_url=bus, event_poll_interval=NO_POLL, **overrides)
        )
        reader = await stack.enter_async_context(
            start_server(database_url, broadcast_url=bus, event_poll_interval=NO_POLL, **overrides)
        )
        yield writer, reader


async def health(port: int, client: httpx.AsyncClient | None = None) -> dict[str, Any]:
    async with contextlib.AsyncExitStack() as stack:
        if client is None:
            client = await stack.enter_async_context(httpx.AsyncClient(timeout=5))
        response = await client.get(f"http://127.0.0.1:{port}/health")
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body


async def wait_for_subscribers(port: int, count: int, timeout: float = 10) -> None:
    """Wait until the instance on `port` holds exactly `count` live subscriptions."""
    async with httpx.AsyncClient(timeout=5) as client:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            seen = (await health(port, client))["subscribers"]
            if seen == count:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{seen} subscribers on port {port}, expected {count}")
            await asyncio.sleep(0.02)


async def subscribe(
    client: WsClient,
    op_id: str,
    *,
    filter: dict[str, Any] | None = None,
    after: str | None = None,
    query: str = EVENTS,
) -> None:
    await client.subscribe(op_id, query, {"filter": filter, "after": after})


async def receive(client: WsClient, op_id: str, count: int, timeout: float = 10) -> list[Any]:
    """The next `count` events of a subscription, each within `timeout` seconds."""
    events: list[Any] = []
    for _ in range(count):
        try:
            data = await client.next_data(op_id, timeout)
        except TimeoutError:
            raise AssertionError(
                f"subscription {op_id!r}: {len(events)} of {count} events arrived, then none "
                f"for {timeout}s (cursors so far: {cursors(events)})"
            ) from None
        events.append(data["complaintEvents"])
    return events


def errors_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The GraphQL errors a subscription message carries (`error`, or `next` with errors)."""
    if message["type"] == "error":
        errors: list[dict[str, Any]] = message["payload"]
        return errors
    assert message["type"] == "next", message
    assert message["payload"].get("data") is None, message
    return list(message["payload"]["errors"])


def cursors(events: list[dict[str, Any]]) -> list[int]:
    return [int(e["cursor"]) for e in events]


async def log_cursors(url: str) -> list[int]:
    """Every cursor in the event log, read through the `complaintEvents` query."""
    found: list[int] = []
    after = None
    while True:
        page = (await gql_data(url, LOG, {"after": after}))["complaintEvents"]
        found += [int(n["cursor"]) for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


async def db_event_ids(database_url: str) -> list[int]:
    conn = await asyncpg.connect(database_url)
    try:
        return [r["id"] for r in await conn.fetch("SELECT id FROM complaint_events ORDER BY id")]
    finally:
        await conn.close()


async def opd_ids(url: str) -> dict[str, str]:
    """OPD global ids by short name."""
    data = await gql_data(url, "{ opds { id shortName } }")
    return {o["shortName"]: o["id"] for o in data["opds"]}


async def submit_many(url: str, count: int, **overrides: Any) -> list[dict[str, Any]]:
    """`count` submissions over HTTP, all at once; their payloads."""
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=count)) as c:
        bodies = await asyncio.gather(
            *(
                gql_data(url, ops.SUBMIT, {"input": ops.complaint_input(**overrides)}, client=c)
                for _ in range(count)
            )
        )
    return [b["submitComplaint"] for b in bodies]


class TcpProxy:
    """A TCP forwarder to put between Kilas and a server, to make that server go away."""

    def __init__(self, host: str, port: int | None = None) -> None:
        # A host and port, or the path of a Unix socket.
        self.target = (host, port)
        self.refusing = False
        self.cut_on: bytes | None = None  # cut the connection that next sends these bytes
        self.cuts = 0
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def stop(self) -> None:
        self.cut_all()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def cut_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refusing:
            writer.transport.abort()
            return
        try:
            host, port = self.target
            if port is None:
                up_reader, up_writer = await asyncio.open_unix_connection(host)
            else:
                up_reader, up_writer = await asyncio.open_connection(host, port)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, watch: bool) -> None:
            try:
                while data := await src.read(65536):
                    if watch and self.cut_on is not None and self.cut_on in data:
                        self.cut_on = None
                        self.cuts += 1
                        writer.transport.abort()
                        up_writer.transport.abort()
                        return
                    dst.write(data)
                    await dst.drain()
            except (OSError, RuntimeError):
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(pump(reader, up_writer, True), pump(up_reader, writer, False))
        self._writers -= {writer, up_writer}


async def start_database_proxy(database_url: str) -> tuple[str, TcpProxy]:
    """A started TcpProxy to `database_url`'s server, and the URL of the database through it."""
    parts = urlsplit(database_url)
    query = parse_qs(parts.query)
    if parts.hostname:
        proxy = TcpProxy(parts.hostname, parts.port or 5432)
    else:  # a Unix socket directory, as the embedded server gives
        socket_dir = query.pop("host")[0]
        proxy = TcpProxy(f"{socket_dir}/.s.PGSQL.{parts.port or 5432}")
    port = await proxy.start()
    user = parts.username or "postgres"
    auth = f"{user}:{parts.password}" if parts.password else user
    netloc = f"{auth}@127.0.0.1:{port}"
    url = urlunsplit(parts._replace(netloc=netloc, query=urlencode(query, doseq=True)))
    return url, proxy
