"""`kilas simulate` against real servers: it drives complaints through their whole lifecycle over
the GraphQL API, from every channel, the same way for the same seed; it carries on when someone
else moves a complaint first or the server is away, stops clearly without a credential, and runs
inside `kilas serve --simulate`."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest

from kilas._simulate_api import Api
from kilas.simulate import SimulationStopped, Simulator, simulate
from tests import ops
from tests._core_helpers import kilas_command, kilas_env
from tests._database import template_clone
from tests.wire import RunningServer, free_port, gql_data, http_client, start_server, token

EVENTS = """
query Events($after: String) {
  complaintEvents(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { type complaint { channel } }
  }
}
"""
PROGRAMME = """
mutation Programme($input: CreateProgrammeInput!) {
  createProgramme(input: $input) { programme { id } errors { code message } }
}
"""
WORK_ITEM = """
mutation WorkItem($input: CreateWorkItemInput!) {
  createWorkItem(input: $input) { workItem { id } errors { code message } }
}
"""
OPD_ID = "query ($slug: String!) { opd(slug: $slug) { id } }"
LIFECYCLE = {
    "SUBMITTED", "ASSIGNED", "REASSIGNED", "FOLLOWED_UP", "WORK_ITEM_LINKED", "RESOLVED",
    "REOPENED", "CONFIRMED", "CLOSED", "REJECTED",
}  # fmt: skip
CHANNELS = {"X", "INSTAGRAM", "FACEBOOK", "WHATSAPP", "SMS", "WEB", "APP", "HOTLINE", "WALK_IN",
            "NATIONAL"}  # fmt: skip


def serve(database_url: str, **overrides: Any) -> AbstractAsyncContextManager[RunningServer]:
    """A server without the SLA sweeper (only the simulator writes) or the rate limit (the
    tests run the simulator far faster than a demo)."""
    return start_server(database_url, sla_sweep_interval=0, rate_limit=0, **overrides)


@pytest.fixture
async def another_database_url(pg_url: str, template_url: str) -> AsyncIterator[str]:
    async with template_clone(pg_url, template_url) as url:
        yield url


async def jalan_cantik(url: str) -> None:
    """The road programme with work items in every region, as the demo has it in a few."""
    owner = (await gql_data(url, OPD_ID, {"slug": "dpubmck"}))["opd"]["id"]
    data = await gql_data(url, PROGRAMME, {"input": {
        "code": "JALAN-CANTIK-2026", "name": "Jalan Cantik", "ownerOpdId": owner,
        "fiscalYear": 2026, "budgetIdr": "1000000000", "target": "100", "unit": "km",
    }})  # fmt: skip
    programme = data["createProgramme"]["programme"]["id"]
    regions = (await gql_data(url, "{ regions { code } }"))["regions"]
    for region in regions:
        await gql_data(url, WORK_ITEM, {"input": {
            "programmeId": programme, "name": f"Ruas {region['code']}",
            "regionCode": region["code"], "progressPct": 40,
        }})  # fmt: skip


async def event_log(url: str) -> list[dict]:
    nodes: list[dict] = []
    after = None
    while True:
        page = (await gql_data(url, EVENTS, {"after": after}))["complaintEvents"]
        nodes += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


async def run(server: RunningServer, *, seed: int, count: int) -> Simulator:
    async with http_client(None) as client:
        simulator = Simulator(Api(client, server.http_url, token("OPERATOR")), seed=seed, rate=6000)
        await simulator.prepare()
        await simulator.run(count=count)
        return simulator


async def test_the_simulator_drives_complaints_through_every_step_from_every_channel(
    database_url: str,
) -> None:
    async with serve(database_url) as server:
        await jalan_cantik(server.http_url)
        simulator = await run(server, seed=11, count=250)
        report = simulator.report
        assert report.written >= 250
        assert set(report.events) == LIFECYCLE, report.events
        assert report.refusals == {}

        # What the simulator reports is what the event log holds, written through the API.
        log = await event_log(server.http_url)
        assert Counter(e["type"] for e in log) == report.events
        assert {e["complaint"]["channel"] for e in log} == CHANNELS
        # Some complaints are left without a follow-up, for the SLA sweeper to breach.
        assigned = await gql_data(
            server.http_url, "{ complaints(filter: {status: [ASSIGNED]}) { totalCount } }"
        )
        assert assigned["complaints"]["totalCount"] > 0


async def test_the_same_seed_makes_the_same_stream(
    database_url: str, another_database_url: str
) -> None:
    streams = []
    for url in (database_url, another_database_url):
        async with serve(url) as server:
            streams.append((await run(server, seed=42, count=60)).report)
    assert streams[0].actions == streams[1].actions
    assert streams[0].events == streams[1].events
    async with serve(database_url) as server:
        different = (await run(server, seed=43, count=60)).report
    assert different.actions != streams[0].actions


async def test_when_someone_else_moves_a_complaint_first_the_simulator_carries_on(
    database_url: str,
) -> None:
    async with serve(database_url) as server, http_client(None) as client:
        simulator = Simulator(Api(client, server.http_url, token("OPERATOR")), seed=3, rate=6000)
        await simulator.prepare()
        await simulator.run(count=40)
        moved = 0
        for case in list(simulator._active):
            if case.status in ("ASSIGNED", "IN_PROGRESS"):
                await ops.act_ok(
                    server.http_url, "recordFollowUp", complaintId=case.id, message="Dicek."
                )
                moved += 1
            elif case.status == "RECEIVED":
                await ops.act_ok(
                    server.http_url, "rejectComplaint", complaintId=case.id, reason="INCOMPLETE"
                )
                moved += 1
        assert moved > 0
        written = simulator.report.written
        await simulator.run(count=written + 40)
    assert simulator.report.refusals["STALE_VERSION"] > 0
    assert simulator.report.written >= written + 40


async def test_without_a_credential_the_simulator_stops_and_says_what_it_needs(
    server: RunningServer,
) -> None:
    with pytest.raises(SimulationStopped, match="OPERATOR credential"):
        await simulate(server.http_url, seed=1, rate=6000, count=20)


async def test_while_the_server_is_away_the_simulator_waits(database_url: str) -> None:
    port = free_port()
    report = await simulate(f"http://127.0.0.1:{port}/graphql", seed=1, duration=1.0)
    assert report.written == 0

    async def later() -> None:
        await asyncio.sleep(1.0)
        async with serve(database_url, port=port):
            await asyncio.sleep(4)

    server = asyncio.create_task(later())
    report = await simulate(
        f"http://127.0.0.1:{port}/graphql", seed=1, rate=6000, count=5, token=token("OPERATOR")
    )
    assert report.written >= 5
    await server


async def test_kilas_simulate_runs_from_the_command_line(server: RunningServer) -> None:
    process = await asyncio.create_subprocess_exec(
        *kilas_command(), "simulate", "--url", server.http_url, "--rate", "3000",
        "--count", "8", "--seed", "9", "--token", token("OPERATOR"),
        env=kilas_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    text = output.decode()
    assert process.returncode == 0, text
    assert "submitComplaint" in text
    assert "simulation: " in text and "events written" in text


async def test_kilas_serve_simulate_runs_the_simulator_against_its_own_api(
    database_url: str,
) -> None:
    async with serve(database_url, simulate=True, simulate_rate=600) as server:
        for _ in range(100):
            log = await event_log(server.http_url)
            if log:
                break
            await asyncio.sleep(0.1)
        assert log and log[0]["type"] == "SUBMITTED"


async def simulate_command(
    *args: str, cwd: Path | None = None, **env: str
) -> tuple[int | None, str]:
    """`kilas simulate ARGS` as a user runs it, with only these KILAS_* settings."""
    process = await asyncio.create_subprocess_exec(
        *kilas_command(), "simulate", "--rate", "3000", "--seed", "9", *args,
        env=kilas_env(**env), cwd=cwd, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        output, _ = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:  # it never found a server: leave nothing behind
            process.kill()
            await process.wait()
    return process.returncode, output.decode()


async def test_kilas_simulate_finds_a_server_on_the_port_kilas_port_names(
    server: RunningServer, tmp_path: Path
) -> None:
    code, text = await simulate_command(
        "--count", "3", "--token", token("OPERATOR"), cwd=tmp_path, KILAS_PORT=str(server.port)
    )
    assert code == 0, text
    assert f"against http://127.0.0.1:{server.port}/graphql" in text
    assert "submitComplaint" in text


async def test_kilas_simulate_reads_the_port_from_the_env_file_kilas_serve_reads(
    server: RunningServer, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text(f"KILAS_HOST=127.0.0.1\nKILAS_PORT={server.port}\n")
    code, text = await simulate_command("--count", "3", "--token", token("OPERATOR"), cwd=tmp_path)
    assert code == 0, text
    assert f"against http://127.0.0.1:{server.port}/graphql" in text


async def test_when_no_kilas_answers_kilas_simulate_says_that_it_needs_url(
    tmp_path: Path,
) -> None:
    port = free_port()
    code, text = await simulate_command("--duration", "1", cwd=tmp_path, KILAS_PORT=str(port))
    assert code == 0, text
    assert f"no Kilas answers at http://127.0.0.1:{port}/graphql" in text
    assert "give --url http://HOST:PORT/graphql" in text
