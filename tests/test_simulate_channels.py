"""`kilas simulate`'s citizens' messages: deliveries shaped and signed as the platforms send
them, to a real server with the demo's official accounts, taken in, routed to the OPD whose
verified account was written to or to the command center's queue, and carried on like the
simulator's other complaints; the same seed makes the same stream, and a receiver that refuses
turns its platforms off for the run without stopping the simulation."""

import asyncio
import logging
import random
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from kilas._simulate_api import Api
from kilas._simulate_channels import ChannelSecrets, Receivers, X, deliveries, sign
from kilas._simulate_messages import Accounts, accounts
from kilas.channels import Platform, parse_delivery, signatures
from kilas.db.pool import connect
from kilas.packs import DEFAULT_PACK, load_pack
from kilas.packs.apply import add_accounts
from kilas.settings import DEVELOPMENT_CHANNEL_SECRET, Settings
from kilas.simulate import Simulator
from tests._core_helpers import kilas_command, kilas_env
from tests._database import template_clone
from tests.wire import RunningServer, gql_data, http_client, start_server, token

EVENTS = """
query Events($after: String) {
  complaintEvents(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { type actor routing routingReason complaint { id channel } }
  }
}
"""
MESSAGING = {"WHATSAPP", "X", "INSTAGRAM", "FACEBOOK"}
JATENG = load_pack(DEFAULT_PACK)
assert JATENG.demo is not None


async def with_demo_accounts(url: str) -> str:
    conn = await connect(url)
    try:
        await add_accounts(conn, JATENG.demo.accounts)
    finally:
        await conn.close()
    return url


@pytest.fixture
async def accounts_database_url(database_url: str) -> str:
    return await with_demo_accounts(database_url)


@pytest.fixture
async def another_accounts_database_url(pg_url: str, template_url: str) -> AsyncIterator[str]:
    async with template_clone(pg_url, template_url) as url:
        yield await with_demo_accounts(url)


def serve(database_url: str, **overrides: Any) -> AbstractAsyncContextManager[RunningServer]:
    """A server whose inbox worker looks often, without the SLA sweeper or the rate limit."""
    return start_server(
        database_url, inbox_poll_interval=0.1, sla_sweep_interval=0, rate_limit=0, **overrides
    )


async def run(
    server: RunningServer,
    *,
    seed: int,
    count: int,
    share: float = 0.6,
    receivers_client: httpx.AsyncClient | None = None,
) -> Simulator:
    """A simulation signing with the development secret, posting through `receivers_client`
    when given."""
    async with http_client(None) as client:
        receivers = Receivers(receivers_client or client, server.http_url, ChannelSecrets())
        simulator = Simulator(
            Api(client, server.http_url, token("OPERATOR")),
            seed=seed,
            rate=6000,
            channels=receivers,
            channel_share=share,
        )
        await simulator.prepare()
        await simulator.run(count=count)
        return simulator


async def event_log(url: str) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await gql_data(url, EVENTS, {"after": after}))["complaintEvents"]
        nodes += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


async def inbox(database_url: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetch("SELECT platform, state, created, known FROM channel_deliveries")
    finally:
        await conn.close()


def demo_accounts() -> Accounts:
    """The demo's accounts as the reference query answers them."""
    opds: dict[str, list[dict[str, Any]]] = {}
    for a in JATENG.demo.accounts:
        if a.kind == "OPD":
            opds.setdefault(a.owner, []).append(
                {
                    "platform": a.platform,
                    "handle": a.handle,
                    "externalId": a.external_id,
                    "verified": a.verified,
                }
            )
    category_opds = {"JALAN": "dpubmck", "TRANSPORTASI": "dishub", "KESEHATAN": "dinkes",
                     "PERUMAHAN": "disperakim", "SOSIAL": "dinsos"}  # fmt: skip
    listed = [{"slug": s, "socialAccounts": a} for s, a in opds.items()]
    return accounts(listed, category_opds, JATENG.demo.accounts, JATENG.demo.names)


def test_every_message_reads_as_its_platform_sends_it_and_carries_its_signature() -> None:
    known = demo_accounts()
    rng = random.Random(5)
    posted = datetime(2026, 3, 2, 1, 45, 7, tzinfo=UTC)
    seen: Counter[tuple[str, str]] = Counter()
    for n in range(400):
        route = known.route(rng)
        assert route is not None
        text = f"Jalan provinsi di Kudus berlubang besar, laporan ke-{n}. Mohon segera diperbaiki."
        message = known.message(rng, route, f"t:{n}", text, "Kudus", (-6.8, 110.84))
        seen[(route.platform, route.message_kind)] += 1
        sent = deliveries(message, posted)
        assert len(sent) == 1 + len(route.also)
        for delivery in sent:
            platform = delivery.path.removeprefix("/channels/").upper()
            assert platform == message.platform
            headers = sign(delivery.secret, "s3cret", delivery.body)
            if delivery.secret == X:
                header = headers[signatures.X_SIGNATURE_HEADER]
                signatures.verify_x_signature("s3cret", delivery.body, header)
            else:
                header = headers[signatures.META_SIGNATURE_HEADER]
                signatures.verify_meta_signature("s3cret", delivery.body, header)
            (read,) = parse_delivery(platform, delivery.body).messages
            assert read.text == message.text
            assert read.posted_at == posted
            assert read.platform == Platform(platform)
            ids = {a.account_id for a in read.addressed}
            assert route.account.external_id in ids
            if route.message_kind == "MENTION":
                assert message.text.startswith(f"@{route.account.handle} ")
                assert {a.external_id for a in route.also} <= ids
                assert read.location == (-6.8, 110.84)
        # The same message, delivered once per mentioned account, is one message to Kilas.
        assert len({parse_delivery(message.platform, d.body).messages[0].message_id
                    for d in sent}) == 1  # fmt: skip
    assert set(seen) == {
        ("WHATSAPP", "MESSAGE"), ("X", "MENTION"), ("X", "DIRECT_MESSAGE"),
        ("INSTAGRAM", "DIRECT_MESSAGE"), ("INSTAGRAM", "COMMENT"), ("FACEBOOK", "COMMENT"),
        ("FACEBOOK", "POST"),
    }  # fmt: skip


async def test_the_simulators_messages_are_taken_in_routed_and_carried_on(
    accounts_database_url: str,
) -> None:
    async with serve(accounts_database_url) as server:
        simulator = await run(server, seed=7, count=150)
        log = await event_log(server.http_url)
    report = simulator.report
    assert report.refusals == {} and report.undelivered == {}
    assert sum(report.delivered.values()) >= 10, report.delivered

    # Every delivery was signed as the receiver checks it, stored, and made a complaint.
    rows = await inbox(accounts_database_url)
    assert rows and {r["state"] for r in rows} == {"DONE"}
    assert sum(r["created"] for r in rows) == sum(report.delivered.values())
    assert {r["platform"] for r in rows} >= {"WHATSAPP", "X"}

    # Routed by the account written to: to its OPD at once, or to the command center's queue.
    intake = [e for e in log if e["actor"] == "system:intake"]
    submitted = [e for e in intake if e["type"] == "SUBMITTED"]
    reasons = Counter(e["routingReason"] for e in submitted)
    assert reasons["VERIFIED_OPD_ACCOUNT"] > 0, reasons
    assert set(reasons) - {"VERIFIED_OPD_ACCOUNT"}, f"no message waited in the queue: {reasons}"
    assigned = {e["complaint"]["id"] for e in intake if e["type"] == "ASSIGNED"}
    assert len(assigned) == reasons["VERIFIED_OPD_ACCOUNT"]
    assert {"WHATSAPP", "X"} <= {e["complaint"]["channel"] for e in submitted} <= MESSAGING
    assert {e["routing"] for e in submitted} == {"OPD", "VERIFICATION_QUEUE"}

    # The simulator carried them on like its own: the operator assigns the queued ones, the
    # OPDs follow up and resolve.
    taken_in = {e["complaint"]["id"] for e in submitted}
    handled = Counter(
        e["type"] for e in log if e["complaint"]["id"] in taken_in and e["actor"] != "system:intake"
    )
    assert min(handled[t] for t in ("ASSIGNED", "FOLLOWED_UP", "RESOLVED")) > 0, handled
    # What the simulator counts is what the event log holds.
    assert Counter(e["type"] for e in log) == report.events


async def test_the_same_seed_makes_the_same_stream_of_messages(
    accounts_database_url: str, another_accounts_database_url: str
) -> None:
    streams = []
    for url in (accounts_database_url, another_accounts_database_url):
        async with serve(url) as server:
            streams.append((await run(server, seed=42, count=50)).report)
    assert any(":deliver " in action for action in streams[0].actions)
    assert streams[0].actions == streams[1].actions
    assert streams[0].events == streams[1].events


async def test_a_receiver_checking_another_secret_turns_its_platforms_off_for_the_run(
    accounts_database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "kilas.simulate")
    async with serve(accounts_database_url, meta_app_secret="the-servers-own-secret") as server:
        simulator = await run(server, seed=3, count=80, share=0.8)
    report = simulator.report
    refusals = [r for r in caplog.records if "deliveries are off" in r.getMessage()]
    assert len(refusals) == 1, [r.getMessage() for r in refusals]
    assert "KILAS_META_APP_SECRET" in refusals[0].getMessage()
    assert "WhatsApp, Instagram and Facebook" in refusals[0].getMessage()
    # Refused once, then the simulator stops trying; X's receiver still takes its messages, and
    # the refused complaint went through the API instead.
    assert sum(report.undelivered.values()) == 1
    assert set(report.delivered) == {"X"}
    assert report.refusals == {}
    assert report.written >= 80


async def test_a_receiver_that_is_off_turns_channel_deliveries_off_with_one_line(
    server: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "kilas.simulate")

    def off(request: httpx.Request) -> httpx.Response:
        x = request.url.path == "/channels/x"
        setting = "KILAS_X_CONSUMER_SECRET" if x else "KILAS_META_APP_SECRET"
        return httpx.Response(
            503, json={"error": f"this receiver is off: set {setting} to turn it on"}
        )

    async with httpx.AsyncClient(transport=httpx.MockTransport(off)) as receivers:
        simulator = await run(server, seed=4, count=40, share=1.0, receivers_client=receivers)
    lines = [r.getMessage() for r in caplog.records if "deliveries are off" in r.getMessage()]
    assert len(lines) == 2, lines  # one for Meta's receivers, one for X's
    assert any("set KILAS_X_CONSUMER_SECRET" in line for line in lines)
    assert simulator.report.delivered == {}
    assert sum(simulator.report.undelivered.values()) == 2
    assert simulator.report.written >= 40


async def test_kilas_simulate_signs_with_the_secrets_of_the_environment(
    accounts_database_url: str, tmp_path: Path
) -> None:
    secrets = {"meta_app_secret": "meta-secret-of-this-server", "x_consumer_secret": "x-secret"}
    async with serve(accounts_database_url, **secrets) as server:
        process = await asyncio.create_subprocess_exec(
            *kilas_command(), "simulate", "--url", server.http_url, "--rate", "3000",
            "--count", "12", "--seed", "9", "--token", token("OPERATOR"), "--channel-share", "1",
            "--x-consumer-secret", "x-secret",
            env=kilas_env(KILAS_META_APP_SECRET="meta-secret-of-this-server"), cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await asyncio.wait_for(process.communicate(), 60)
    text = output.decode()
    assert process.returncode == 0, text
    assert "messages delivered: " in text and "not delivered" not in text, text
    assert "deliveries are off" not in text
    assert "meta-secret-of-this-server" not in text and "x-secret" not in text


async def test_the_simulator_signs_with_the_secrets_a_server_of_the_same_settings_checks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    development = ChannelSecrets.of(Settings(env="development", x_consumer_secret="x"))
    assert development == ChannelSecrets(DEVELOPMENT_CHANNEL_SECRET, "x")
    # In production an unset secret is no secret: those platforms are off from the start.
    production = ChannelSecrets.of(Settings(env="production", meta_app_secret="m"))
    assert production == ChannelSecrets("m", None)
    async with httpx.AsyncClient() as client:
        receivers = Receivers(client, "http://kilas.example/prefix/graphql", production)
    assert receivers.root == "http://kilas.example/prefix"
    assert receivers.open("WHATSAPP") and not receivers.open("X")
    assert "X deliveries are off" in caplog.text and "KILAS_X_CONSUMER_SECRET" in caplog.text
