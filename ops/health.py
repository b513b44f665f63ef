"""Liveness and readiness, for systemd, Kubernetes probes and load balancers.

`/health`: the process is alive and its event loop answers (never the database: a database
outage must not get every instance restarted). `/ready`: this instance can serve now: the
database answers within two seconds with every migration this Kilas knows applied, the event bus
is connected, and the instance is not stopping (from SIGTERM on: ops/server.py). 503 with the
failing checks otherwise."""

import asyncio
from functools import cache
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from kilas.db.migrate import load_migrations

if TYPE_CHECKING:
    from kilas.app import State

READY_TIMEOUT = 2.0


@cache
def _latest() -> int:
    """The newest migration this Kilas knows (read once, at the first readiness check)."""
    return max(m.version for m in load_migrations())


async def health(request: Request) -> Response:
    state: State | None = getattr(request.app.state, "kilas", None)
    body: dict[str, Any] = {"status": "ok"}
    if state is not None:
        body |= {
            "bus": state.bus.kind,
            "subscribers": state.cohorts.subscriber_count,
            "cohorts": len(state.cohorts),
            "feedCohorts": state.cohorts.feed_cohorts,
        }
    return JSONResponse(body, headers={"cache-control": "no-store"})


async def ready(request: Request) -> Response:
    state: State | None = getattr(request.app.state, "kilas", None)
    checks: dict[str, str] = {}
    if state is None or state.draining:
        checks["instance"] = "starting" if state is None else "stopping"
    else:
        checks["database"] = await _database(state)
        checks["bus"] = "ok" if state.bus.connected else f"{state.bus.kind} bus reconnecting"
    ok = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ready" if ok else "not ready", "checks": checks},
        status_code=200 if ok else 503,
        headers={"cache-control": "no-store"},
    )


async def _database(state: "State") -> str:
    try:
        async with asyncio.timeout(READY_TIMEOUT):
            async with state.pool.acquire() as conn:
                applied = await conn.fetchval("SELECT max(version) FROM schema_migrations")
    except TimeoutError:
        return f"no answer within {READY_TIMEOUT:g} s"
    except Exception as exc:  # any failure to reach it is the answer
        return f"unreachable ({type(exc).__name__})"
    if applied != _latest():
        return f"migrations at {applied}, this Kilas needs {_latest()}"
    return "ok"
