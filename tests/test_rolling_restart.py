"""A rolling restart behind a real HAProxy: two `kilas serve` processes on one database and one
bus, many subscribers and a steady stream of mutations through the proxy, each instance stopped
(SIGTERM) and started again in turn. No subscriber may lose or repeat an event, no mutation may
fail for good, and each instance must close its sockets with 1012 and exit within its grace.
deploy/haproxy.cfg is the same topology for real deployments."""

import asyncio
import contextlib
import csv
import functools
import json
import os
import random
import resource
import signal
import socket
import subprocess
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import websockets
from websockets.typing import Subprotocol

from tests import ops
from tests._core_helpers import Kilas
from tests._live_helpers import SHARED_BUSES, db_event_ids, health
from tests.wire import bearer, free_port, token

HAPROXY = Path("/usr/sbin/haproxy")
# 1,000 sockets take 20-35 s per bus on a 2-core machine; fewer for a quick look.
SUBSCRIBERS = int(os.environ.get("KILAS_ROLLING_SUBSCRIBERS", "1000"))
GRACE = 10  # KILAS_SHUTDOWN_GRACE of both instances, seconds
MUTATIONS_PER_SECOND = 8
INSTANCE_HEADER = "x-kilas-instance"

pytestmark = pytest.mark.skipif(
    not HAPROXY.exists(),
    reason=f"{HAPROXY} is missing: apt-get install haproxy (.ci/run installs it)",
)

# The health check and timeouts of the backends; deploy/haproxy.cfg has the same lines
# (tests/test_deploy.py checks it).
BACKEND_LINES = (
    "balance roundrobin",
    "option httpchk GET /ready",
    "http-check expect status 200",
    "default-server inter 500ms fall 1 rise 2",
    # Above Kilas's own 2 s for the database's answer (ops/health.py). The default (inter) took
    # the surviving instance out too, busy as it was taking over the other's sockets.
    "timeout check 3s",
)
# `redispatch 1`: a connection refused by a stopping instance is retried on the other at once,
# not three times on the same one first (about a second each).
DEFAULTS_LINES = ("timeout tunnel 1h", "option redispatch 1", "retries 3")


@dataclass(frozen=True)
class Proxy:
    """HAProxy in front of the instances: its port, and its stats page's (each server's state)."""

    port: int
    stats_port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def state(self, name: str, client: httpx.AsyncClient) -> str:
        """A server's state as HAProxy sees it: UP, DOWN, `DOWN 1/2` (on its way up), …"""
        try:
            response = await client.get(f"http://127.0.0.1:{self.stats_port}/;csv")
        except httpx.TransportError:
            return "HAProxy not answering yet"
        rows = csv.DictReader(response.text.removeprefix("# ").splitlines())
        return next(row["status"] for row in rows if row["svname"] == name)

    async def wait_until(self, name: str, up: bool, timeout: float = 20) -> float:
        """The seconds until HAProxy routes to server `name` (`up`), or no longer does."""
        began = time.monotonic()
        async with httpx.AsyncClient(timeout=2) as client:
            while (await self.state(name, client) == "UP") != up:
                assert time.monotonic() - began < timeout, f"{name}: {up=} not in {timeout} s"
                await asyncio.sleep(0.05)
        return time.monotonic() - began


def haproxy_config(proxy: Proxy, backends: dict[str, int]) -> str:
    servers = "\n".join(f"    server {name} 127.0.0.1:{p} check" for name, p in backends.items())
    defaults = "\n".join(f"    {line}" for line in DEFAULTS_LINES)
    backend = "\n".join(f"    {line}" for line in BACKEND_LINES)
    return f"""\
global
    maxconn {SUBSCRIBERS + 500}
    log stdout format timed local0 notice

defaults
    mode http
    log global
    option forwardfor
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout client-fin 5s
{defaults}

frontend kilas
    bind 127.0.0.1:{proxy.port}
    default_backend kilas

frontend stats
    bind 127.0.0.1:{proxy.stats_port}
    stats enable
    stats uri /

backend kilas
{backend}
    # Which instance answered: the subscribers count their sockets by it.
    http-response set-header X-Kilas-Instance %s
{servers}
"""


@dataclass
class Backend:
    """One of HAProxy's servers: its name, its port, and the `kilas serve` on it now."""

    name: str
    port: int
    runs: list[Kilas] = field(default_factory=list)

    @property
    def kilas(self) -> Kilas:
        return self.runs[-1]

    def start(self, stack: contextlib.ExitStack, workdir: Path, env: dict[str, str]) -> None:
        log = workdir / f"{self.name}-{len(self.runs) + 1}.log"
        # An external database: the data directory stays unused.
        self.runs.append(stack.enter_context(Kilas.serve(workdir, self.port, log=log, env=env)))

    async def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                assert self.kilas.process.poll() is None, self.kilas.output()
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.kilas.base_url}/ready")).is_success:
                        return
                await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name} not ready in {timeout} s:\n{self.kilas.output()}")

    async def terminate(self) -> tuple[float, int]:
        """SIGTERM; the seconds until the process exited (it fails after twice the grace), and
        its exit status."""
        began = time.monotonic()
        status = await asyncio.to_thread(self.kilas.stop, signal.SIGTERM, 2 * GRACE)
        return time.monotonic() - began, status


@contextlib.contextmanager
def haproxy(config: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    check = subprocess.run([str(HAPROXY), "-c", "-f", str(config)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(HAPROXY), "-db", "-f", str(config)], stdout=out, stderr=subprocess.STDOUT
        )
    try:
        yield process
    finally:
        process.terminate()
        process.wait(10)


def allow_open_files(count: int) -> None:
    """Raise the open-file limit, which HAProxy and Kilas inherit, to `count` if it is lower."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= count:
        return
    if hard != resource.RLIM_INFINITY and hard < count:
        pytest.skip(f"{SUBSCRIBERS} subscribers need {count} open files; the limit is {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (count, hard))


def reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 2).close()
    except OSError:
        return False
    return True


def backoff(attempt: int) -> float:
    """Quick at first, with jitter so that a herd spreads out."""
    return min(2.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.5)


SUBSCRIPTION = "subscription($after: String) { complaintEvents(after: $after) { cursor type } }"


@dataclass
class Subscriber:
    """One graphql-transport-ws client holding a `complaintEvents` subscription; on any close it
    reconnects and resumes after the last cursor it received."""

    url: str
    credential: str
    after: int
    received: list[int] = field(default_factory=list)
    instance: str | None = None
    closes: list[tuple[str | None, int]] = field(default_factory=list)  # (instance, code)
    closed_at: float | None = None
    to_ack: list[float] = field(default_factory=list)  # close → connection_ack, seconds
    to_event: list[float] = field(default_factory=list)  # close → first event, seconds
    failed_connects: int = 0
    errors: list[str] = field(default_factory=list)  # the codes of errors of the subscription
    stopping: bool = False

    async def run(self) -> None:
        attempt = 0
        while not self.stopping:
            try:
                async with websockets.connect(
                    self.url,
                    subprotocols=[Subprotocol("graphql-transport-ws")],
                    compression=None,
                    ping_interval=None,  # the test's own deadlines notice a dead socket
                    open_timeout=10,
                    close_timeout=2,
                ) as ws:
                    await self.session(ws)
                    attempt = 0
            except websockets.ConnectionClosed as exc:
                if not self.stopping:
                    self.closes.append((self.instance, exc.rcvd.code if exc.rcvd else 1006))
                    self.closed_at = time.monotonic()
            except (OSError, TimeoutError, websockets.InvalidHandshake):
                self.failed_connects += 1
            self.instance = None
            if not self.stopping:
                await asyncio.sleep(backoff(attempt))
                attempt += 1

    async def session(self, ws: Any) -> None:
        await ws.send(json.dumps({"type": "connection_init", "payload": bearer(self.credential)}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert ack["type"] == "connection_ack", ack
        self.instance = ws.response.headers.get(INSTANCE_HEADER)
        if self.closed_at is not None:
            self.to_ack.append(time.monotonic() - self.closed_at)
        await self.subscribe(ws, "1")
        while True:  # until the socket closes: recv() raises ConnectionClosed
            message = json.loads(await ws.recv())
            kind, payload = message["type"], message.get("payload")
            if kind == "next" and payload.get("data"):
                if self.closed_at is not None:
                    self.to_event.append(time.monotonic() - self.closed_at)
                    self.closed_at = None
                self.received.append(int(payload["data"]["complaintEvents"]["cursor"]))
            elif kind == "ping":
                await ws.send(json.dumps({"type": "pong"}))
            else:  # errors (RESUME_REQUIRED: it fell behind), then the operation's end
                errors = payload if kind == "error" else (payload or {}).get("errors", [])
                self.errors += [e.get("extensions", {}).get("code", "?") for e in errors]
                if kind in ("error", "complete"):
                    await self.subscribe(ws, str(int(message["id"]) + 1))

    async def subscribe(self, ws: Any, op_id: str) -> None:
        after = self.received[-1] if self.received else self.after
        payload = {"query": SUBSCRIPTION, "variables": {"after": str(after)}}
        await ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": payload}))


@dataclass
class Mutator:
    """Submits complaints through the proxy at a steady rate. A connection error or a 502/503/
    504 is retried (submitComplaint is idempotent on channel and externalRef); what still fails
    after that is recorded."""

    url: str
    sent: int = 0
    retried: int = 0
    already_created: int = 0  # a retry that found its first attempt committed
    failed: list[str] = field(default_factory=list)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    stopping: bool = False

    async def run(self) -> None:
        base = random.randrange(10**15, 10**16)
        # A connection each, so that HAProxy spreads them over both instances (it keeps a
        # kept-alive connection's requests on one server).
        headers = bearer(token("OPERATOR")) | {"connection": "close"}
        async with httpx.AsyncClient(timeout=10, headers=headers) as client:
            while not self.stopping:
                task = asyncio.create_task(self.submit(client, str(base + self.sent)))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
                self.sent += 1
                await asyncio.sleep(1 / MUTATIONS_PER_SECOND)
            await asyncio.gather(*self.tasks)

    async def submit(self, client: httpx.AsyncClient, ref: str) -> None:
        body = {"query": ops.SUBMIT, "variables": {"input": ops.complaint_input(externalRef=ref)}}
        deadline = time.monotonic() + 20
        for attempt in range(100):
            try:
                response = await client.post(self.url, json=body)
                if response.status_code not in (502, 503, 504):
                    payload = response.json()["data"]["submitComplaint"]
                    if payload["errors"]:
                        self.failed.append(f"{ref}: {payload['errors']}")
                    elif attempt and not payload["created"]:
                        self.already_created += 1
                    return
                problem = f"HTTP {response.status_code}"
            except httpx.TransportError as exc:
                problem = repr(exc)
            except (KeyError, TypeError, ValueError) as exc:
                self.failed.append(f"{ref}: {exc!r}")
                return
            if time.monotonic() > deadline:
                break
            self.retried += 1
            await asyncio.sleep(backoff(attempt))
        self.failed.append(f"{ref}: {problem}")


@contextlib.asynccontextmanager
async def running(tasks: list[asyncio.Task[None]]) -> AsyncIterator[None]:
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def wait_subscribed(backends: list[Backend], count: int, timeout: float = 60) -> None:
    """Until the instances hold `count` live subscriptions between them."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=5) as client:
        while True:
            held = [(await health(b.port, client))["subscribers"] for b in backends]
            if sum(held) == count:
                return
            assert time.monotonic() < deadline, f"{held} subscribed, expected {count} in all"
            await asyncio.sleep(0.2)


async def ready_latency(backend: Backend, until: asyncio.Event) -> tuple[float, int]:
    """The slowest /ready of a surviving instance while the other restarts, and its non-200s."""
    slowest, failures = 0.0, 0
    async with httpx.AsyncClient(timeout=10) as client:
        while not until.is_set():
            began = time.monotonic()
            try:
                failures += (await client.get(f"{backend.kilas.base_url}/ready")).is_error
            except httpx.TransportError:
                failures += 1
            slowest = max(slowest, time.monotonic() - began)
            await asyncio.sleep(0.1)
    return slowest, failures


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


@pytest.mark.parametrize("bus", SHARED_BUSES)
async def test_a_rolling_restart_behind_haproxy_loses_and_repeats_no_event(
    database_url: str, bus: str, tmp_path: Path
) -> None:
    if bus.startswith("redis") and not reachable(bus):
        pytest.skip(f"no Redis answers at {bus}")
    allow_open_files(2 * SUBSCRIBERS + 2048)  # HAProxy holds two per socket
    began = time.monotonic()
    env = {
        "KILAS_DATABASE_URL": database_url,
        "KILAS_BROADCAST_URL": bus,
        "KILAS_LOG_LEVEL": "warning",
        "KILAS_SHUTDOWN_GRACE": str(GRACE),
        # Every client comes from 127.0.0.1: a limit per address would count them as one.
        "KILAS_RATE_LIMIT": "0",
    }
    backends = [Backend(name, free_port()) for name in ("kilas-a", "kilas-b")]
    proxy = Proxy(free_port(), free_port())
    config = tmp_path / "haproxy.cfg"
    config.write_text(haproxy_config(proxy, {b.name: b.port for b in backends}))
    with contextlib.ExitStack() as stack:
        for backend in backends:
            backend.start(stack, tmp_path, env)
        await asyncio.gather(*(b.wait_ready() for b in backends))
        stack.enter_context(haproxy(config, tmp_path / "haproxy.log"))
        for backend in backends:
            await proxy.wait_until(backend.name, up=True)
        restart = functools.partial(Backend.start, stack=stack, workdir=tmp_path, env=env)
        report = await roll(proxy, backends, database_url, restart)
    # A check that failed on a running instance (a slow /ready), not on a stopped one (refused).
    proxy_log = (tmp_path / "haproxy.log").read_text().splitlines()
    report["failed_checks"] = sum(
        "is DOWN, reason: Layer7" in line for line in proxy_log if not line.startswith("[")
    )
    report["seconds"] = round(time.monotonic() - began, 1)
    summary = f"rolling restart on the {bus.split(':')[0]} bus: " + " ".join(
        f"{key}={value}" for key, value in report.items() if not key.startswith("_")
    )
    print("\n" + summary)

    assert report["lost"] == report["duplicated"] == report["not_in_log"] == 0, summary
    assert report["out_of_order"] == 0, summary
    # Falling behind is allowed (the subscriber resumes from its cursor); nothing else is.
    assert set(report["subscription_errors"]) <= {"RESUME_REQUIRED"}, summary
    assert report["events"] > 0 and report["restarts"] == 2, summary
    assert report["failed_mutations"] == 0, f"{summary}\n{report['_failures'][:10]}"
    assert max(report["exit_s"]) < GRACE, summary
    # uvicorn re-raises SIGTERM after its shutdown
    assert set(report["exit_statuses"]) <= {0, -signal.SIGTERM}, summary
    # HAProxy's next check of /ready failed: the instance closed its port. (Timed by this busy
    # process, which its closing sockets keep busy: a few checks' worth.)
    assert max(report["out_of_rotation_s"]) < 5, summary
    assert report["close_codes"] == {1012: report["_expected_closes"]}, summary
    for run in (run for backend in backends for run in backend.runs):
        output = run.output()
        assert "Traceback" not in output and " ERROR " not in output, f"{run.log}:\n{output}"


async def roll(
    proxy: Proxy, backends: list[Backend], database_url: str, start: Callable[[Backend], None]
) -> dict[str, Any]:
    """Subscribe, mutate, restart each backend in turn; the numbers of what happened."""
    seed = await ops.submit(f"{proxy.url}/graphql")
    after = int(seed["event"]["cursor"])
    ws_url = proxy.url.replace("http://", "ws://") + "/graphql"
    subscribers = [
        Subscriber(ws_url, token("OPERATOR", subject=f"subscriber-{n}"), after)
        for n in range(SUBSCRIBERS)
    ]
    mutator = Mutator(f"{proxy.url}/graphql")
    tasks = [asyncio.create_task(s.run()) for s in subscribers]
    exit_s: list[float] = []
    exit_statuses: list[int] = []
    out_of_rotation_s: list[float] = []
    back_in_rotation_s: list[float] = []
    expected_closes = 0
    survivor_ready_ms: list[int] = []
    survivor_not_ready = 0
    async with running(tasks):
        await wait_subscribed(backends, SUBSCRIBERS)
        mutating = asyncio.create_task(mutator.run())
        async with running([mutating]):
            await asyncio.sleep(2)
            for backend in backends:
                on_it = sum(s.instance == backend.name for s in subscribers)
                expected_closes += on_it
                assert on_it == (await health(backend.port))["subscribers"]
                survivor = next(b for b in backends if b is not backend)
                restarted = asyncio.Event()
                probe = asyncio.create_task(ready_latency(survivor, restarted))
                out = asyncio.create_task(proxy.wait_until(backend.name, up=False))
                seconds, status = await backend.terminate()
                exit_s.append(round(seconds, 2))
                exit_statuses.append(status)
                out_of_rotation_s.append(round(await out, 2))
                began = time.monotonic()
                start(backend)
                await backend.wait_ready()
                await proxy.wait_until(backend.name, up=True)
                back_in_rotation_s.append(round(time.monotonic() - began, 2))
                await wait_subscribed(backends, SUBSCRIBERS)
                restarted.set()
                slowest, failures = await probe
                survivor_ready_ms.append(round(1000 * slowest))
                survivor_not_ready += failures
            await asyncio.sleep(2)
            mutator.stopping = True
            await asyncio.wait_for(mutating, 30)

        expected = [i for i in await db_event_ids(database_url) if i > after]
        assert expected, "no event was written"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(
            not s.received or s.received[-1] < expected[-1] for s in subscribers
        ):
            await asyncio.sleep(0.2)
        for s in subscribers:
            s.stopping = True

    wanted = set(expected)
    to_ack = [t for s in subscribers for t in s.to_ack]
    to_event = [t for s in subscribers for t in s.to_event]
    return {
        "subscribers": SUBSCRIBERS,
        "events": len(expected),
        "mutations": mutator.sent,
        "restarts": len(exit_s),
        "lost": sum(len(wanted - set(s.received)) for s in subscribers),
        "duplicated": sum(len(s.received) - len(set(s.received)) for s in subscribers),
        "not_in_log": sum(len(set(s.received) - wanted) for s in subscribers),
        "out_of_order": sum(s.received != sorted(s.received) for s in subscribers),
        "failed_mutations": len(mutator.failed),
        "retried_requests": mutator.retried,
        "retries_found_committed": mutator.already_created,
        "reconnects": len(to_ack),
        "reconnect_ack_p50_ms": round(1000 * percentile(to_ack, 0.5)),
        "reconnect_ack_p99_ms": round(1000 * percentile(to_ack, 0.99)),
        "reconnect_event_p50_ms": round(1000 * percentile(to_event, 0.5)),
        "reconnect_event_p99_ms": round(1000 * percentile(to_event, 0.99)),
        "failed_connects": sum(s.failed_connects for s in subscribers),
        "subscription_errors": dict(Counter(code for s in subscribers for code in s.errors)),
        "close_codes": dict(Counter(code for s in subscribers for _, code in s.closes)),
        "exit_s": exit_s,
        "exit_statuses": exit_statuses,
        "out_of_rotation_s": out_of_rotation_s,
        "back_in_rotation_s": back_in_rotation_s,
        "survivor_ready_max_ms": survivor_ready_ms,
        "survivor_not_ready": survivor_not_ready,
        "_expected_closes": expected_closes,
        "_failures": mutator.failed,
    }
