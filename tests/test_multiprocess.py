"""Two real `kilas serve` processes on one database: a change made through one instance reaches
the subscribers of the other over the shared bus. Both poll the log only every 30 seconds, so a
delivery within seconds proves the bus, not the safety-net poll."""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests import ops
from tests._live_helpers import (
    SHARED_BUSES,
    cursors,
    db_event_ids,
    health,
    receive,
    subscribe,
    wait_for_subscribers,
)
from tests.wire import WsClient, free_port


@dataclass
class Instance:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"


def kilas_command() -> list[str]:
    script = Path(sys.executable).parent / "kilas"
    return [str(script)] if script.exists() else [sys.executable, "-m", "kilas"]


@contextlib.contextmanager
def kilas_serve(database_url: str, bus: str, workdir: Path, name: str) -> Iterator[Instance]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KILAS_")}
    env |= {
        "KILAS_BROADCAST_URL": bus,
        "KILAS_EVENT_POLL_INTERVAL": "30",
        "KILAS_ENV": "test",
        "KILAS_LOG_LEVEL": "warning",
    }
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*kilas_command(), "serve", "--port", str(port), "--database-url", database_url],
            cwd=workdir,  # no stray .env
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield Instance(port, process, log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


async def wait_until_ready(instance: Instance, timeout: float = 20) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            if instance.process.poll() is not None:
                raise AssertionError(
                    f"kilas serve exited with {instance.process.returncode}:\n"
                    + instance.log.read_text()
                )
            with contextlib.suppress(httpx.HTTPError):
                if (await health(instance.port, client))["status"] == "ok":
                    return
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("kilas serve not ready:\n" + instance.log.read_text())
            await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def two_instances(
    database_url: str, bus: str, workdir: Path
) -> AsyncIterator[tuple[Instance, Instance]]:
    with (
        kilas_serve(database_url, bus, workdir, "a") as a,
        kilas_serve(database_url, bus, workdir, "b") as b,
    ):
        await asyncio.gather(wait_until_ready(a), wait_until_ready(b))
        yield a, b


@pytest.mark.parametrize("bus", SHARED_BUSES)
async def test_a_change_sent_to_one_instance_reaches_a_subscriber_of_the_other(
    database_url: str, bus: str, tmp_path: Path
) -> None:
    async with (
        two_instances(database_url, bus, tmp_path) as (a, b),
        WsClient.connect(a.ws_url) as on_a,
        WsClient.connect(b.ws_url) as on_b,
    ):
        assert (await health(a.port))["bus"] == (await health(b.port))["bus"] == bus.split(":")[0]
        await subscribe(on_a, "e")
        await subscribe(on_b, "e")
        await asyncio.gather(wait_for_subscribers(a.port, 1), wait_for_subscribers(b.port, 1))

        # A → B
        submitted = await ops.submit(a.http_url)
        cid = submitted["complaint"]["id"]
        seen_on_b = await receive(on_b, "e", 1, timeout=5)
        assert seen_on_b[0]["cursor"] == submitted["event"]["cursor"]
        assert seen_on_b[0]["complaint"]["id"] == cid
        assert seen_on_b[0]["complaint"]["status"] == "RECEIVED"

        # B → A
        assigned = await ops.act_ok(b.http_url, "assignComplaint", complaintId=cid)
        seen_on_a = await receive(on_a, "e", 2, timeout=5)
        assert cursors(seen_on_a) == cursors([submitted["event"], assigned["event"]])
        assert seen_on_a[1]["complaint"]["status"] == "ASSIGNED"
        assert seen_on_a[1]["opd"]["shortName"] == "DPUBMCK"

        # A burst through both instances at once: each sees all of it, in cursor order.
        burst = await asyncio.gather(*(ops.submit(x.http_url) for x in (a, b) * 5))
        more_a, more_b = await asyncio.gather(
            receive(on_a, "e", 10, timeout=5), receive(on_b, "e", 11, timeout=5)
        )
        all_a, all_b = cursors(seen_on_a + more_a), cursors(seen_on_b + more_b)
        assert all_a == all_b == await db_event_ids(database_url)
        assert set(all_a[2:]) == {int(p["event"]["cursor"]) for p in burst}
        assert all(await asyncio.gather(on_a.nothing_more("e", 0.3), on_b.nothing_more("e", 0.3)))

    # Both stopped cleanly on SIGTERM (uvicorn re-raises the signal after its shutdown).
    for instance in (a, b):
        assert instance.process.returncode in (0, -signal.SIGTERM)
        assert "Traceback" not in instance.log.read_text(), instance.log.read_text()
