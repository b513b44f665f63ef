"""Servers for the read-path benchmark: Kilas as `kilas serve` runs it and the baseline app,
each its own process; and, in this process (no socket: the app called directly, its lifespan
run), either of them with a query logger, to count the SQL statements one request runs."""

import asyncio
import contextlib
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
from _baseline_app import create_baseline_app
from starlette.applications import Starlette

from kilas.app import create_app
from kilas.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
# How the benchmark serves Kilas, beside the database and the port. Production mode, with a
# JWT secret of its own; no rate limit (wrk is one client); no SLA sweeper, which would write
# SLA marks into the benchmark data while the servers are compared on it; no access log.
KILAS = Settings(env="production", rate_limit=0, sla_sweep_interval=0, log_level="warning")
# Statements that are not the request's: asyncpg's type introspection (and the JIT switch around
# it), the live hub's poll of the event log, and the pool's reset on release (counted apart).
NOT_THE_REQUESTS = (
    "typeinfo_tree",
    "set_config('jit'",
    "FROM complaint_events WHERE id > $1 ORDER BY id LIMIT",
)
POOL_RESET = "pg_advisory_unlock_all"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def kilas_settings(database_url: str, *, compiled_reads: bool, port: int = 0) -> Settings:
    return replace(
        KILAS,
        database_url=database_url,
        port=port,
        compiled_reads=compiled_reads,
        jwt_secret=secrets.token_urlsafe(48),
    )


def kilas_environment(settings: Settings) -> dict[str, str]:
    """`settings` as the KILAS_* variables `kilas serve` reads."""
    assert settings.database_url is not None and settings.jwt_secret is not None
    return {
        "KILAS_DATABASE_URL": settings.database_url,
        "KILAS_PORT": str(settings.port),
        "KILAS_ENV": settings.env,
        "KILAS_JWT_SECRET": settings.jwt_secret,
        "KILAS_RATE_LIMIT": str(settings.rate_limit),
        "KILAS_SLA_SWEEP_INTERVAL": str(settings.sla_sweep_interval),
        "KILAS_LOG_LEVEL": settings.log_level,
        "KILAS_COMPILED_READS": str(settings.compiled_reads).lower(),
    }


def wait_until_up(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    """Until `url` answers anything at all over HTTP."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


@dataclass(frozen=True)
class Started:
    process: subprocess.Popen[bytes]
    ready_url: str

    def wait_up(self) -> None:
        wait_until_up(self.ready_url, self.process)


@contextlib.contextmanager
def process(
    argv: list[str],
    ready_url: str,
    env: dict[str, str] | None = None,
    cwd: Path = ROOT,
    quiet: bool = False,
) -> Iterator["Started"]:
    """A server process, started (`Started.wait_up` waits until it answers) until the block
    ends; `quiet`: without its standard output (its errors still show)."""
    server = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.DEVNULL if quiet else None)
    try:
        yield Started(server, ready_url)
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def kilas_process(settings: Settings, environ: dict[str, str]) -> Any:
    # The console script's own module, so that this is exactly `kilas serve`.
    return process(
        [sys.executable, "-m", "kilas", "serve"],
        f"http://127.0.0.1:{settings.port}/health",
        env={**environ, **kilas_environment(settings)},
    )


def baseline_process(database_url: str, port: int) -> Any:
    return process(
        [sys.executable, str(ROOT / "bench" / "_baseline_app.py"), database_url, str(port)],
        f"http://127.0.0.1:{port}/health",
    )


class StatementCounter:
    """A query logger: the statements run, and the pool's reset round trips apart."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.resets = 0

    def __call__(self, record: Any) -> None:
        query: str = record.query
        if POOL_RESET in query:
            self.resets += 1
        elif not any(marker in query for marker in NOT_THE_REQUESTS):
            self.statements.append(query)


async def statements_per_request(
    app: Starlette, counter: StatementCounter, bodies: list[bytes]
) -> list[tuple[int, int]]:
    """How many statements, and pool resets, one request for each of `bodies` runs once warm:
    the fewest of three tries, in case a background task's query lands in one."""
    headers = {"content-type": "application/json"}
    counts = []
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, timeout=30) as client,
    ):
        url = "http://127.0.0.1/graphql"
        for body in bodies:
            tries = []
            for attempt in range(5):
                counter.statements.clear()
                counter.resets = 0
                (await client.post(url, content=body, headers=headers)).raise_for_status()
                await asyncio.sleep(0.05)  # asyncpg calls the logger soon after each query
                if attempt >= 2:  # the first ones warm the pool's connections up
                    tries.append((len(counter.statements), counter.resets))
            counts.append(min(tries))
    return counts


def counted_kilas(database_url: str, compiled_reads: bool) -> tuple[Starlette, StatementCounter]:
    counter = StatementCounter()
    settings = kilas_settings(database_url, compiled_reads=compiled_reads)
    return create_app(settings, query_logger=counter), counter


def counted_baseline(database_url: str) -> tuple[Starlette, StatementCounter]:
    counter = StatementCounter()
    return create_baseline_app(database_url, query_logger=counter), counter
