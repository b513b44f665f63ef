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
import json
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
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
            ws_per_message_deflate=False, ws_max_queue=64, backlog=4096)
"""
SUBSCRIPTION = (
    "subscription { complaintEvents { cursor type complaint { trackingNumber status "
    "region { name } opd { shortName } } } }"
)
SUBMIT = (
    "mutation($n: String!) { submitComplaint(input: {channel: WEB, externalRef: $n, "
    'text: "Lampu jalan mati di depan pasar", regionCode: "33.74", categoryCode: "ENERGI"}) '
    "{ errors { code } } }"
)


def operator(subject: str) -> str:
    """A token the bench server (development secret) takes."""
    expires = datetime.now(UTC) + timedelta(hours=1)
    return issue(DEVELOPMENT_JWT_SECRET, subject=subject, role=Role.OPERATOR, expires_at=expires)


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


async def run(database_url: str, cohorts: str, subscribers: int, events: int, port: int) -> dict:
    root = Path(__file__).resolve().parent.parent
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, database_url, str(port), cohorts], cwd=root
    )
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
            sockets = []
            for i in range(subscribers):
                ws = await websockets.connect(
                    f"ws://127.0.0.1:{port}/graphql",
                    subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                    compression=None,
                    max_queue=None,
                    open_timeout=60,
                )
                # Each its own operator: connection limits count per caller.
                await ws.send(json.dumps({"type": "connection_init", "payload": {
                    "authorization": f"Bearer {operator(f'wall-{i}')}"}}))  # fmt: skip
                await ws.recv()
                await ws.send(
                    json.dumps(
                        {"id": str(i), "type": "subscribe", "payload": {"query": SUBSCRIPTION}}
                    )
                )
                sockets.append(ws)
            for _ in range(600):  # until the server holds every subscription
                health = (await client.get(f"http://127.0.0.1:{port}/health")).json()
                if health["subscribers"] >= subscribers:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)
            after = rss_kib(server.pid)
            cpu = cpu_seconds(server.pid)
            latencies = []
            for _ in range(events):
                start = time.perf_counter()
                body = (
                    await client.post(
                        f"http://127.0.0.1:{port}/graphql",
                        json={"query": SUBMIT, "variables": {"n": secrets.token_hex(8)}},
                        headers={"authorization": f"Bearer {operator('bench')}"},
                    )
                ).json()
                assert body["data"]["submitComplaint"]["errors"] == [], body
                await asyncio.gather(*(ws.recv() for ws in sockets))
                latencies.append((time.perf_counter() - start) * 1000)
            cpu = cpu_seconds(server.pid) - cpu
            await asyncio.gather(*(ws.close() for ws in sockets))
        return {
            "cohorts": cohorts,
            "subscribers": subscribers,
            "cohorts_formed": health.get("cohorts"),
            "kib_per_subscriber": round((after - before) / subscribers, 1),
            "p50_ms": round(statistics.median(latencies), 1),
            "p95_ms": round(percentile(latencies, 0.95), 1),
            "p99_ms": round(percentile(latencies, 0.99), 1),
            "server_cpu_ms_per_event": round(cpu * 1000 / events, 1),
        }
    finally:
        server.terminate()
        server.wait(20)


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
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--port", type=int, default=8191)
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
            for cohorts in ("on", "off"):
                url = await fresh_database(admin_url)
                try:
                    result = await run(url, cohorts, subscribers, args.events, args.port)
                finally:
                    await drop_database(admin_url, url)
                label = "kilas (cohorts)" if cohorts == "on" else "per-subscriber path"
                print(f"{label:22} {json.dumps(result)}", flush=True)
    finally:
        if embedded is not None:
            embedded.stop()


if __name__ == "__main__":
    asyncio.run(main())
