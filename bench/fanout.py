"""Fan-out benchmark: one Kilas process, N idle WebSocket subscribers, a stream of mutations.

Measures, for each configuration, the server's resident memory per subscriber, its CPU, and the
time from sending a mutation to the moment every subscriber has received its event (p50, p95,
p99 over the events). Side by side in one run: Kilas as served (cohorts: subscribers of one
selection share one execution per event, live/cohorts.py) and the per-subscriber path
(KILAS_LIVE_COHORTS=false), both with permessage-deflate off, as Kilas serves.

    python bench/fanout.py --subscribers 1000 3000 --events 30

Raises its open-file limit to the hard limit (each subscriber is two sockets on this machine).

Needs a PostgreSQL: KILAS_BENCH_DATABASE_URL (a database it may create others on), or the
embedded server in a temporary directory.
"""

import argparse
import asyncio
import collections
import contextlib
import gc
import json
import os
import resource
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import websockets

from kilas.auth.caller import Role
from kilas.auth.tokens import issue
from kilas.settings import DEVELOPMENT_JWT_SECRET

SERVER = """
import sys, uvicorn
from kilas.app import create_app
from kilas.settings import Settings
uvicorn.run(create_app(Settings(database_url=sys.argv[1], env="test", log_level="warning",
                                rate_limit=0, max_connections_per_caller=100_000,
                                live_cohorts=sys.argv[3] == "on", sla_sweep_interval=0)),
            host="127.0.0.1", port=int(sys.argv[2]), log_level="warning",
            ws_per_message_deflate=False, ws_max_queue=64, backlog=4096, ws=sys.argv[4])
"""
SUBSCRIPTION = (
    "subscription { complaintEvents { cursor type complaint { trackingNumber status "
    "region { name } opd { shortName } } } }"
)
# `--feed dashboard`: the command center's dashboard, computed once per scope and interval
# for every subscriber of it (live/feeds.py).
DASHBOARD = (
    "subscription { dashboard { intakeToday breachesOpenNow byStatus { status count } "
    "byChannel { channel count } byRegion { regionCode count open region { name } } } }"
)
SUBMIT = (
    "mutation($n: String!) { submitComplaint(input: {channel: WEB, externalRef: $n, "
    'text: "Lampu jalan mati di depan pasar", regionCode: "33.74", categoryCode: "ENERGI"}) '
    "{ errors { code } event { cursor } } }"
)


def operator(subject: str) -> str:
    """A token the bench server (development secret) takes."""
    expires = datetime.now(UTC) + timedelta(hours=1)
    return issue(DEVELOPMENT_JWT_SECRET, subject=subject, role=Role.OPERATOR, expires_at=expires)


def officer(subject: str, opd_slug: str) -> str:
    """An OPD officer's token: officers of different OPDs see different confidential events,
    so each OPD's officers form a cohort of their own."""
    expires = datetime.now(UTC) + timedelta(hours=1)
    return issue(
        DEVELOPMENT_JWT_SECRET,
        subject=subject,
        role=Role.OPD_OFFICER,
        expires_at=expires,
        opd_slug=opd_slug,
    )


def cpu_seconds(pid: int) -> float:
    """User and system CPU the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def run(
    database_url: str,
    cohorts: str,
    subscribers: int,
    events: int,
    port: int,
    ws_impl: str,
    opds: int,
    rate: float = 0,
    seconds: float = 0,
    herd: int = 0,
    feed: str = "events",
) -> dict:
    query = DASHBOARD if feed == "dashboard" else SUBSCRIPTION

    def launch() -> subprocess.Popen:
        root = Path(__file__).resolve().parent.parent
        return subprocess.Popen(
            [sys.executable, "-c", SERVER, database_url, str(port), cohorts, ws_impl], cwd=root
        )

    server = launch()
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            for _ in range(200):
                try:
                    if (await client.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
            before = rss_kib(server.pid)
            conn = await asyncpg.connect(database_url)
            slugs = [r["slug"] for r in await conn.fetch("SELECT slug FROM opds ORDER BY id")]
            if opds > len(slugs):  # the province's OPDs, and units of the bench's own after them
                await conn.execute(
                    "INSERT INTO opds (slug, short_name, name, kind) SELECT 'bench-unit-' || g, "
                    "'Unit ' || g, 'Bench unit ' || g, 'DINAS' FROM generate_series(1, $1) g",
                    opds - len(slugs),
                )
                slugs = [r["slug"] for r in await conn.fetch("SELECT slug FROM opds ORDER BY id")]
            await conn.close()
            sockets = []
            for i in range(subscribers):
                # Each its own operator (or officer): connection limits count per caller.
                credential = officer(f"o-{i}", slugs[i % opds]) if opds else operator(f"wall-{i}")
                ws = await connect(port, credential)
                await ws.send(
                    json.dumps({"id": str(i), "type": "subscribe", "payload": {"query": query}})
                )
                sockets.append(ws)
            if feed == "dashboard":  # each has the dashboard as it is now
                await asyncio.gather(*(ws.recv() for ws in sockets))
            for _ in range(600):  # until the server holds every subscription
                health = (await client.get(f"http://127.0.0.1:{port}/health")).json()
                if feed == "dashboard" or health["subscribers"] >= subscribers:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)
            after = rss_kib(server.pid)
            # The clients' own objects (every socket's) are set aside from their collector: its
            # full collections over them paused the clients by tens of ms, in the tail of
            # delivery times that were not the server's.
            gc.collect()
            gc.freeze()
            if herd:
                server, found = await reconnect_herd(client, port, sockets, server, launch, herd)
                return {"cohorts": cohorts, "subscribers": subscribers, **found}
            if rate:
                found = await sustained(client, port, sockets, server, rate, seconds)
                return {
                    "cohorts": cohorts,
                    "subscribers": subscribers,
                    "kib_per_subscriber": round((after - before) / subscribers, 1),
                    "rss_idle_mib": round(after / 1024, 1),
                    **found,
                }
            cpu = cpu_seconds(server.pid)
            own_cpu = time.process_time()
            latencies = []
            for _ in range(events):
                if feed == "dashboard":  # past the feed's interval: the update is not held back
                    await asyncio.sleep(1.2)
                start = time.perf_counter()
                await submit(client, port)
                await asyncio.gather(*(ws.recv() for ws in sockets))
                latencies.append((time.perf_counter() - start) * 1000)
            cpu = cpu_seconds(server.pid) - cpu
            own_cpu = time.process_time() - own_cpu
            await asyncio.gather(*(ws.close() for ws in sockets))
        return {
            "feed": feed,
            "cohorts": cohorts,
            "ws": ws_impl,
            "subscribers": subscribers,
            "opds": opds or None,
            "cohorts_formed": health.get("cohorts"),
            "kib_per_subscriber": round((after - before) / subscribers, 1),
            "p50_ms": round(statistics.median(latencies), 1),
            "p95_ms": round(percentile(latencies, 0.95), 1),
            "p99_ms": round(percentile(latencies, 0.99), 1),
            "server_cpu_ms_per_event": round(cpu * 1000 / events, 1),
            # The clients read every message on the same cores: their share of the time.
            "clients_cpu_ms_per_event": round(own_cpu * 1000 / events, 1),
        }
    finally:
        if server.poll() is None:
            server.terminate()
        server.wait(20)


async def sustained(
    client: httpx.AsyncClient,
    port: int,
    sockets: list,
    server: subprocess.Popen,
    rate: float,
    seconds: float,
) -> dict:
    """`rate` mutations a second for `seconds`, each sent on schedule whether or not the ones
    before have answered, while every socket reads on; then SIGTERM, and how long every socket
    waits for its close. Delivery lag: from sending a mutation to a subscriber reading its
    event."""
    sent: dict[int, float] = {}
    lags: list[tuple[float, int]] = []
    mutation_ms: list[float] = []
    failed = 0
    received = [0]

    async def read(ws: Any) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in ws:
                message = json.loads(raw)
                if message.get("type") != "next":
                    continue
                cursor = int(message["payload"]["data"]["complaintEvents"]["cursor"])
                at = time.perf_counter()
                received[0] += 1
                lags.append((at, cursor))  # matched to the send time once it is known

    async def mutate() -> None:
        nonlocal failed
        start = time.perf_counter()
        try:
            sent[await submit(client, port, timeout=60)] = start
        except Exception:
            failed += 1
        mutation_ms.append((time.perf_counter() - start) * 1000)

    readers = [asyncio.create_task(read(ws)) for ws in sockets]
    peak = rss_kib(server.pid)
    cpu = cpu_seconds(server.pid)
    began = time.perf_counter()
    writes = []
    count = int(rate * seconds)
    for i in range(count):
        await asyncio.sleep(max(0.0, began + i / rate - time.perf_counter()))
        writes.append(asyncio.create_task(mutate()))
        if i % max(1, int(rate / 2)) == 0:
            peak = max(peak, rss_kib(server.pid))
    await asyncio.gather(*writes)
    expected = len(sent) * len(sockets)
    deadline = time.perf_counter() + 120
    while received[0] < expected and time.perf_counter() < deadline:
        peak = max(peak, rss_kib(server.pid))
        await asyncio.sleep(0.25)
    drained = time.perf_counter() - began
    cpu = cpu_seconds(server.pid) - cpu
    await asyncio.sleep(5)
    quiet = rss_kib(server.pid)
    delays = sorted((at - sent[cursor]) * 1000 for at, cursor in lags if cursor in sent)
    # SIGTERM: how long until every socket has its close frame, and with which code.
    stopping = time.perf_counter()
    server.send_signal(signal.SIGTERM)
    await asyncio.wait(readers, timeout=30)
    closed_in = time.perf_counter() - stopping
    codes = collections.Counter(ws.close_code for ws in sockets)
    return {
        "rate_per_s": rate,
        "seconds": seconds,
        "mutations": count,
        "mutations_failed": failed,
        "deliveries": f"{received[0]} of {expected}",
        "lag_p50_ms": round(percentile(delays, 0.5), 1) if delays else None,
        "lag_p99_ms": round(percentile(delays, 0.99), 1) if delays else None,
        "mutation_p50_ms": round(percentile(mutation_ms, 0.5), 1),
        "mutation_p99_ms": round(percentile(mutation_ms, 0.99), 1),
        "drained_after_s": round(drained, 1),
        "server_cpu_share": round(cpu / drained, 2),
        "rss_peak_mib": round(peak / 1024, 1),
        "rss_after_mib": round(quiet / 1024, 1),
        "sigterm_all_closed_s": round(closed_in, 2),
        "close_codes": dict(codes),
    }


async def connect(port: int, credential: str) -> Any:
    """A graphql-transport-ws socket, initialised with `credential`."""
    ws = await websockets.connect(
        f"ws://127.0.0.1:{port}/graphql",
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        compression=None,
        max_queue=None,
        open_timeout=60,
    )
    await ws.send(json.dumps({"type": "connection_init", "payload": {
        "authorization": f"Bearer {credential}"}}))  # fmt: skip
    await ws.recv()
    return ws


async def submit(client: httpx.AsyncClient, port: int, timeout: float = 30) -> int:
    """One complaint submitted; its event's cursor."""
    body = (
        await client.post(
            f"http://127.0.0.1:{port}/graphql",
            json={"query": SUBMIT, "variables": {"n": secrets.token_hex(8)}},
            headers={"authorization": f"Bearer {operator('bench')}"},
            timeout=timeout,
        )
    ).json()
    assert body["data"]["submitComplaint"]["errors"] == [], body
    return int(body["data"]["submitComplaint"]["event"]["cursor"])


async def reconnect_herd(
    client: httpx.AsyncClient,
    port: int,
    sockets: list,
    server: subprocess.Popen,
    launch: Any,
    missed: int,
) -> tuple[subprocess.Popen, dict]:
    """A restart: every subscriber has the same last cursor; the server stops (SIGTERM), a new
    one starts on the same database, `missed` events are written, then every client reconnects
    at once and resubscribes with `after` set to its cursor. Reported: how long until every
    client has every missed event, and whether any was lost or came twice."""
    last = await submit(client, port)
    await asyncio.gather(*(ws.recv() for ws in sockets))
    server.send_signal(signal.SIGTERM)
    server.wait(30)
    for ws in sockets:
        await ws.close()
    server = launch()
    for _ in range(400):
        with contextlib.suppress(httpx.HTTPError):
            if (await client.get(f"http://127.0.0.1:{port}/health")).status_code == 200:
                break
        await asyncio.sleep(0.05)
    expected = [await submit(client, port) for _ in range(missed)]

    async def resume(i: int) -> tuple[list[int], float]:
        ws = await connect(port, operator(f"wall-{i}"))
        query = SUBSCRIPTION.replace("complaintEvents {", "complaintEvents(after: $after) {")
        await ws.send(json.dumps({"id": "r", "type": "subscribe", "payload": {
            "query": f"subscription($after: String) {query[len('subscription '):]}",
            "variables": {"after": str(last)}}}))  # fmt: skip
        got: list[int] = []
        while len(got) < len(expected):
            message = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if message.get("type") == "next":
                got.append(int(message["payload"]["data"]["complaintEvents"]["cursor"]))
        done = time.perf_counter()
        with contextlib.suppress(TimeoutError):  # nothing more may come: no duplicates
            extra = await asyncio.wait_for(ws.recv(), 0.5)
            got.append(int(json.loads(extra)["payload"]["data"]["complaintEvents"]["cursor"]))
        await ws.close()
        return got, done

    began = time.perf_counter()
    server_cpu, own_cpu = cpu_seconds(server.pid), time.process_time()
    results = await asyncio.gather(*(resume(i) for i in range(len(sockets))))
    server_cpu, own_cpu = cpu_seconds(server.pid) - server_cpu, time.process_time() - own_cpu
    health = (await client.get(f"http://127.0.0.1:{port}/health")).json()
    return server, {
        "missed_events": missed,
        "all_caught_up_s": round(max(done for _, done in results) - began, 2),
        # Both on the same two cores: the clients' share is most of the wait.
        "server_cpu_s": round(server_cpu, 2),
        "clients_cpu_s": round(own_cpu, 2),
        "clients_exact": sum(got == expected for got, _ in results),
        "clients_lost_or_duplicated": sum(got != expected for got, _ in results),
        "cohorts_after": health.get("cohorts"),
    }


async def fresh_database(admin_url: str) -> str:
    name = f"kilas_bench_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(admin_url)
    await conn.execute(f"CREATE DATABASE {name}")
    await conn.close()
    return urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))


async def drop_database(admin_url: str, url: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {urlsplit(url).path.lstrip('/')} WITH (FORCE)")
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, nargs="+", default=[1000])
    parser.add_argument(
        "--paths",
        nargs="+",
        choices=["cohorts", "per-subscriber"],
        default=["cohorts", "per-subscriber"],
        help="which delivery paths to run (both, side by side, by default)",
    )
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--port", type=int, default=8191)
    parser.add_argument(
        "--rate",
        type=float,
        default=0,
        help="a sustained stream: this many mutations a second for --seconds, then SIGTERM",
    )
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--herd",
        type=int,
        default=0,
        help="a restart: this many events written while the clients are away, then every "
        "client reconnects at once and resumes from its cursor",
    )
    parser.add_argument(
        "--opds",
        type=int,
        default=0,
        help="subscribers are OPD officers spread over this many OPDs (0: operators)",
    )
    parser.add_argument(
        "--feed",
        default="events",
        choices=["events", "dashboard"],
        help="what the subscribers hold: complaintEvents, or the dashboard (one computation per "
        "scope and change for all of them; each still gets its own selection's message)",
    )
    parser.add_argument(
        "--ws",
        default="auto",
        choices=["auto", "websockets", "websockets-sansio", "wsproto"],
        help="uvicorn's WebSocket implementation (auto: what `kilas serve` gets)",
    )
    args = parser.parse_args()
    admin_url = os.environ.get("KILAS_BENCH_DATABASE_URL")
    embedded = None
    if admin_url is None:
        from kilas.db.embedded import EmbeddedPostgres

        tmp = tempfile.mkdtemp(prefix="kilas-bench-")
        os.chmod(tmp, 0o755)
        embedded = EmbeddedPostgres(Path(tmp))
        admin_url = embedded.start()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    print(f"open-file limit raised from {soft} to {hard}", flush=True)
    try:
        for subscribers in args.subscribers:
            for cohorts in ("on" if p == "cohorts" else "off" for p in args.paths):
                url = await fresh_database(admin_url)
                try:
                    result = await run(
                        url,
                        cohorts,
                        subscribers,
                        args.events,
                        args.port,
                        args.ws,
                        args.opds,
                        args.rate,
                        args.seconds,
                        args.herd,
                        args.feed,
                    )
                finally:
                    await drop_database(admin_url, url)
                label = "kilas (cohorts)" if cohorts == "on" else "per-subscriber path"
                print(f"{label:22} {json.dumps(result)}", flush=True)
    finally:
        if embedded is not None:
            embedded.stop()


if __name__ == "__main__":
    asyncio.run(main())
