"""Live complaint events over real WebSockets: delivery, filters, resuming, fan-out on every bus,
concurrent writers, slow subscribers, bad cursors and refused changes."""

import asyncio
import contextlib
import json
import random
import socket
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import websockets
from websockets.typing import Subprotocol

from kilas.db.pool import connect, create_pool
from kilas.domain import workflow
from kilas.live.bus import CHANNEL, EventBus
from kilas.live.hub import EventFilter, EventHub, SubscriberLagging
from tests import ops
from tests._live_helpers import (
    ALL_BUSES,
    NO_POLL,
    SHARED_BUSES,
    TcpProxy,
    cursors,
    db_event_ids,
    errors_of,
    log_cursors,
    opd_ids,
    receive,
    start_database_proxy,
    submit_many,
    subscribe,
    wait_for_subscribers,
    writer_and_reader,
)
from tests.wire import RunningServer, WsClient, bearer, gql_data, start_server, token

# --- live delivery --------------------------------------------------------------------------


async def test_a_subscriber_sees_each_lifecycle_step_live_in_cursor_order_with_the_complaint(
    server: RunningServer,
) -> None:
    url = server.http_url
    async with WsClient.connect(server.ws_url) as client:
        await subscribe(client, "all")
        await wait_for_subscribers(server.port, 1)

        submitted = await ops.submit(url)
        cid = submitted["complaint"]["id"]
        payloads = [submitted]
        seen = await receive(client, "all", 1)
        steps: list[tuple[str, dict[str, Any]]] = [
            ("assignComplaint", {"expectedVersion": 1}),
            ("recordFollowUp", {"message": "Tim UPT meninjau lokasi."}),
            ("resolveComplaint", {"resolution": "Lubang sudah ditambal."}),
            ("confirmResolution", {"rating": 4}),
        ]
        for name, args in steps:
            payloads.append(await ops.act_ok(url, name, complaintId=cid, **args))
            # Each event arrives before the next change is made: it is delivered live.
            seen += await receive(client, "all", 1, timeout=5)

        assert [e["type"] for e in seen] == [
            "SUBMITTED",
            "ASSIGNED",
            "FOLLOWED_UP",
            "RESOLVED",
            "CONFIRMED",
        ]
        assert cursors(seen) == [int(p["event"]["cursor"]) for p in payloads]
        assert cursors(seen) == sorted(set(cursors(seen)))
        for event, payload in zip(seen, payloads, strict=True):
            complaint = event["complaint"]
            assert complaint["id"] == cid
            assert complaint["trackingNumber"] == submitted["complaint"]["trackingNumber"]
            # The complaint as it stood after this very event (no stale cache between events).
            assert complaint["status"] == event["toStatus"] == payload["complaint"]["status"]
            assert complaint["version"] == event["version"] == payload["complaint"]["version"]
            assert event["region"] == {"code": "33.19"}
        assert seen[0]["opd"] is None
        assert [e["opd"]["shortName"] for e in seen[1:]] == ["DPUBMCK"] * 4
        assert seen[0]["fromStatus"] is None
        assert [e["fromStatus"] for e in seen[1:]] == [e["toStatus"] for e in seen[:-1]]
        assert await client.nothing_more("all", 0.3)
    assert cursors(seen) == await log_cursors(url)


async def test_filters_deliver_only_matching_events_and_the_old_opd_sees_the_reassignment(
    server: RunningServer,
) -> None:
    url = server.http_url
    opds = await opd_ids(url)
    dpu, pusdataru = opds["DPUBMCK"], opds["PUSDATARU"]
    async with contextlib.AsyncExitStack() as stack:
        clients = {
            name: await stack.enter_async_context(WsClient.connect(server.ws_url))
            for name in ("all", "complaint", "opd", "region", "status")
        }
        await subscribe(clients["all"], "all")
        await subscribe(clients["opd"], "opd", filter={"opdId": dpu})
        await subscribe(clients["region"], "region", filter={"regionCode": "33.01"})
        await subscribe(clients["status"], "status", filter={"status": "ASSIGNED"})
        await wait_for_subscribers(server.port, 4)

        a = await ops.submit(url, regionCode="33.19", categoryCode="JALAN")
        b = await ops.submit(url, regionCode="33.01", categoryCode="AIR")
        ida, idb = a["complaint"]["id"], b["complaint"]["id"]
        # Subscribed after A's submission, from the start of the log: the filter applies to the
        # replayed events (B's submission is left out) as well as to the live ones.
        await subscribe(clients["complaint"], "complaint", filter={"complaintId": ida}, after="0")
        await wait_for_subscribers(server.port, 5)

        steps = [a, b]
        steps.append(await ops.act_ok(url, "assignComplaint", complaintId=ida))
        steps.append(await ops.act_ok(url, "assignComplaint", complaintId=idb))
        steps.append(await ops.act_ok(url, "recordFollowUp", complaintId=idb, message="Dicek."))
        steps.append(
            await ops.act_ok(
                url, "reassignComplaint", complaintId=ida, opdId=pusdataru, reason="Saluran air."
            )
        )
        steps.append(await ops.act_ok(url, "recordFollowUp", complaintId=ida, message="Dicek."))
        steps.append(await ops.act_ok(url, "resolveComplaint", complaintId=idb, resolution="OK"))
        c = [int(s["event"]["cursor"]) for s in steps]
        a_sub, b_sub, a_asg, b_asg, b_fu, a_reasg, a_fu, b_res = c

        expected = {
            "all": c,
            "complaint": [a_sub, a_asg, a_reasg, a_fu],
            "opd": [a_asg, a_reasg],
            "region": [b_sub, b_asg, b_fu, b_res],
            "status": [a_asg, b_asg, a_reasg],
        }
        got = {
            name: await receive(clients[name], name, len(want), timeout=5)
            for name, want in expected.items()
        }
        for name, want in expected.items():
            assert cursors(got[name]) == want, name
        # Everything has been dispatched (the last event reached "all"): nothing else comes.
        quiet = await asyncio.gather(*(clients[n].nothing_more(n, 0.4) for n in expected))
        assert all(quiet), dict(zip(expected, quiet, strict=True))

    reassigned = got["opd"][1]
    assert reassigned["type"] == "REASSIGNED"
    assert reassigned["fromOpd"] == {"id": dpu, "shortName": "DPUBMCK"}
    assert reassigned["opd"] == {"id": pusdataru, "shortName": "PUSDATARU"}
    assert {e["complaint"]["id"] for e in got["complaint"]} == {ida}
    assert {e["region"]["code"] for e in got["region"]} == {"33.01"}
    assert {e["toStatus"] for e in got["status"]} == {"ASSIGNED"}


# --- resuming -------------------------------------------------------------------------------


async def test_a_resumed_subscription_gets_exactly_the_missed_events_then_live_ones(
    server: RunningServer, database_url: str
) -> None:
    url = server.http_url
    async with WsClient.connect(server.ws_url) as client:
        await subscribe(client, "first")
        await wait_for_subscribers(server.port, 1)
        for _ in range(3):
            await ops.submit(url)
        before = await receive(client, "first", 3, timeout=5)
    await wait_for_subscribers(server.port, 0)

    # Changes made while nobody listens: one complaint's lifecycle and other submissions.
    cid = (await ops.submit(url))["complaint"]["id"]
    await ops.act_ok(url, "assignComplaint", complaintId=cid)
    await ops.submit(url, regionCode="33.74")
    await ops.act_ok(url, "recordFollowUp", complaintId=cid, message="Dalam pengerjaan.")
    missed = (await log_cursors(url))[3:]
    assert len(missed) == 4

    async with WsClient.connect(server.ws_url) as client:
        await subscribe(client, "again", after=before[-1]["cursor"])
        replayed = await receive(client, "again", 4, timeout=5)
        await wait_for_subscribers(server.port, 1)
        await ops.act_ok(url, "resolveComplaint", complaintId=cid, resolution="Selesai.")
        await ops.submit(url)
        live = await receive(client, "again", 2, timeout=5)
        assert await client.nothing_more("again", 0.3)

    assert cursors(replayed) == missed
    assert [e["type"] for e in replayed] == ["SUBMITTED", "ASSIGNED", "SUBMITTED", "FOLLOWED_UP"]
    assert [e["type"] for e in live] == ["RESOLVED", "SUBMITTED"]
    everything = cursors(before) + cursors(replayed) + cursors(live)
    assert everything == await log_cursors(url) == await db_event_ids(database_url)


async def test_reconnecting_again_and_again_while_changes_keep_coming_skips_and_repeats_nothing(
    server: RunningServer, database_url: str
) -> None:
    """The seam between the replay of stored events and the live queue, under a running
    writer: each session reads a few events, disconnects, and resumes from its last cursor."""
    url = server.http_url
    rng = random.Random(8632)
    writes = 40

    async def writer() -> None:
        async with httpx.AsyncClient(timeout=30) as http:
            for _ in range(writes):
                await gql_data(url, ops.SUBMIT, {"input": ops.complaint_input()}, client=http)
                await asyncio.sleep(rng.uniform(0, 0.02))

    received: list[dict[str, Any]] = []
    sessions = 0
    writing = asyncio.create_task(writer())
    try:
        while len(received) < writes:
            after = received[-1]["cursor"] if received else "0"
            async with WsClient.connect(server.ws_url) as client:
                sessions += 1
                await subscribe(client, "s", after=after)
                want = min(rng.randint(1, 5), writes - len(received))
                received += await receive(client, "s", want, timeout=10)
            # Away for a moment: the next session starts with a replay, or right at the head.
            await asyncio.sleep(rng.uniform(0, 0.06))
        await writing
    finally:
        writing.cancel()
    assert sessions >= 8
    assert cursors(received) == await db_event_ids(database_url)
    assert len(received) == writes


# --- fan-out and concurrency on every bus ---------------------------------------------------


@pytest.mark.parametrize("bus", ALL_BUSES)
async def test_fifty_clients_subscribing_at_the_same_instant_all_receive_the_next_event(
    database_url: str, bus: str
) -> None:
    # Fifty sockets of one caller: more than KILAS_MAX_CONNECTIONS_PER_CALLER allows by default.
    async with (
        writer_and_reader(database_url, bus, max_connections_per_caller=50) as (writer, reader),
        contextlib.AsyncExitStack() as stack,
    ):
        clients = await asyncio.gather(
            *(stack.enter_async_context(WsClient.connect(reader.ws_url)) for _ in range(50))
        )
        await asyncio.gather(*(subscribe(c, "e") for c in clients))
        await wait_for_subscribers(reader.port, 50)

        payload = await ops.submit(writer.http_url)
        events = await asyncio.gather(*(receive(c, "e", 1, timeout=5) for c in clients))

    assert len(events) == 50
    assert {e[0]["cursor"] for e in events} == {payload["event"]["cursor"]}
    assert {e[0]["complaint"]["id"] for e in events} == {payload["complaint"]["id"]}


@pytest.mark.parametrize("bus", ALL_BUSES)
async def test_fifty_concurrent_submissions_reach_a_subscriber_once_each_in_cursor_order(
    database_url: str, bus: str
) -> None:
    async with (
        writer_and_reader(database_url, bus) as (writer, reader),
        WsClient.connect(reader.ws_url) as client,
    ):
        await subscribe(client, "e")
        await wait_for_subscribers(reader.port, 1)

        payloads = await submit_many(writer.http_url, 50)
        assert all(p["errors"] == [] and p["created"] for p in payloads), payloads
        events = await receive(client, "e", 50, timeout=10)
        assert await client.nothing_more("e", 0.3)

    got = cursors(events)
    assert got == sorted(got)
    assert len(set(got)) == 50
    assert set(got) == {int(p["event"]["cursor"]) for p in payloads}
    assert got == await db_event_ids(database_url)
    assert {e["complaint"]["id"] for e in events} == {p["complaint"]["id"] for p in payloads}


# --- bus outages ----------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def reader_behind_a_proxy(
    database_url: str, bus: str
) -> AsyncIterator[tuple[RunningServer, RunningServer, TcpProxy]]:
    """A writer and a reader instance (neither polls); the reader reaches the bus (and, for the
    PostgreSQL bus, its database) through a proxy the test can cut."""
    async with contextlib.AsyncExitStack() as stack:
        reader_db, reader_bus = database_url, bus
        if bus == "postgres://":
            reader_db, proxy = await start_database_proxy(database_url)
        else:
            parts = urlsplit(bus)
            proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 6379)
            port = await proxy.start()
            auth = parts.netloc.rpartition("@")[0]
            netloc = f"{auth}@127.0.0.1:{port}" if auth else f"127.0.0.1:{port}"
            reader_bus = urlunsplit(parts._replace(netloc=netloc))
        stack.push_async_callback(proxy.stop)
        writer = await stack.enter_async_context(
            start_server(database_url, broadcast_url=bus, event_poll_interval=NO_POLL)
        )
        reader = await stack.enter_async_context(
            start_server(reader_db, broadcast_url=reader_bus, event_poll_interval=NO_POLL)
        )
        yield writer, reader, proxy


@pytest.mark.parametrize("bus", SHARED_BUSES)
async def test_a_lost_bus_connection_is_restored_and_the_events_missed_meanwhile_arrive(
    database_url: str, bus: str
) -> None:
    async with (
        reader_behind_a_proxy(database_url, bus) as (writer, reader, proxy),
        WsClient.connect(reader.ws_url) as client,
    ):
        await subscribe(client, "e")
        await wait_for_subscribers(reader.port, 1)
        before = await ops.submit(writer.http_url)
        got = await receive(client, "e", 1, timeout=5)

        # The bus server becomes unreachable for the reader; a change is made meanwhile.
        proxy.refusing = True
        proxy.cut_all()
        during = await ops.submit(writer.http_url)
        await asyncio.sleep(0.5)
        proxy.refusing = False

        # Once reconnected, the reader re-reads the log (its poll is 30 s away)...
        got += await receive(client, "e", 1, timeout=10)
        # ... and hints flow again.
        after = await ops.submit(writer.http_url)
        got += await receive(client, "e", 1, timeout=5)

    assert cursors(got) == [int(p["event"]["cursor"]) for p in (before, during, after)]
    assert cursors(got) == await db_event_ids(database_url)


# --- slow subscribers -----------------------------------------------------------------------

# Fifty copies of the complaint text per event: a client that asks for this much and does not
# read fills the socket buffers after a few dozen events, and then the server-side queue.
BULKY_EVENTS = (
    "subscription { complaintEvents { cursor "
    + " ".join(f"t{i}: complaint {{ text }}" for i in range(50))
    + " } }"
)


@contextlib.asynccontextmanager
async def tight_ws_client(server: RunningServer) -> AsyncIterator[WsClient]:
    """A WsClient whose socket buffers little: a small receive buffer (no autotuning) and a
    one-frame queue in `websockets`, so that not reading soon stalls the server's sends."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    sock.setblocking(False)
    async with websockets.connect(
        server.ws_url, sock=sock, max_queue=1, subprotocols=[Subprotocol("graphql-transport-ws")]
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": bearer(token("OPERATOR"))}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert ack["type"] == "connection_ack", ack
        yield WsClient(ws)


async def test_a_subscriber_that_stops_reading_is_told_where_to_resume_and_loses_nothing(
    database_url: str,
) -> None:
    produced = 50
    async with (
        # BULKY_EVENTS has more aliases than KILAS_MAX_ALIASES allows by default.
        start_server(database_url, subscriber_queue_size=10, max_aliases=50) as server,
        tight_ws_client(server) as slow,
        WsClient.connect(server.ws_url) as fast,
        httpx.AsyncClient(timeout=30) as http,
    ):
        await slow.subscribe("slow", BULKY_EVENTS)
        await subscribe(fast, "fast")
        await wait_for_subscribers(server.port, 2)

        # A subscriber that keeps reading is not affected by the slow one.
        fast_reading = asyncio.create_task(receive(fast, "fast", produced, timeout=10))
        for _ in range(produced):
            # One at a time: each event is dispatched on its own, so only not reading overflows.
            await gql_data(
                server.http_url,
                ops.SUBMIT,
                {"input": ops.complaint_input(text="Jalan rusak parah. " * 260)},
                client=http,
            )
        fast_events = await fast_reading
        log = await db_event_ids(database_url)
        assert cursors(fast_events) == log

        # Now the slow client reads what reached it: some events, then RESUME_REQUIRED.
        got: list[int] = []
        while len(got) < produced:
            message = await slow.message("slow", timeout=10)
            if message["type"] != "next" or "errors" in message["payload"]:
                break
            got.append(int(message["payload"]["data"]["complaintEvents"]["cursor"]))
        assert 0 < len(got) < produced, "the socket buffers took every event: produce more"
        [error] = errors_of(message)
        assert error["extensions"]["code"] == "RESUME_REQUIRED"
        assert "resubscribe" in error["message"]
        assert got == log[: len(got)]
        assert error["extensions"]["resumeAfter"] == str(got[-1])
        assert (await slow.message("slow", timeout=5))["type"] == "complete"
        await wait_for_subscribers(server.port, 1)

        # Resuming from the given cursor yields the rest, then live events, without loss.
        await subscribe(slow, "resumed", after=error["extensions"]["resumeAfter"])
        rest = await receive(slow, "resumed", produced - len(got), timeout=10)
        assert got + cursors(rest) == log
        newest = await ops.submit(server.http_url)
        assert cursors(await receive(slow, "resumed", 1, timeout=5)) == [
            int(newest["event"]["cursor"])
        ]
        assert cursors(await receive(fast, "fast", 1, timeout=5)) == [
            int(newest["event"]["cursor"])
        ]


async def test_the_hub_marks_only_the_overflowing_subscriber_as_lagging(
    database_url: str,
) -> None:
    """At the hub itself, with a real pool: a subscriber that reads nothing while more events
    than its queue holds are dispatched (and no other) lags after the events that fitted."""
    pool = await create_pool(database_url, min_size=1, max_size=4)
    bus = EventBus("memory://", database_url)
    await bus.connect()
    hub = EventHub(pool, bus, queue_size=10, poll_interval=30)
    await hub.start()
    try:
        everything = hub.subscribe(EventFilter())
        cilacap = hub.subscribe(EventFilter(region_code="33.01"))
        ids: list[int] = []
        async with pool.acquire() as conn, conn.transaction():
            for i in range(25):
                region = "33.01" if i % 10 == 0 else "33.19"
                submission = workflow.Submission(channel="WEB", text="Banjir.", region_code=region)
                outcome = await workflow.submit(conn, submission, actor="test")
                assert outcome.event is not None
                ids.append(outcome.event.id)
        hub.poke()
        async with asyncio.timeout(5):
            while hub.last_id < ids[-1]:
                await asyncio.sleep(0.01)

        first = [await asyncio.wait_for(everything.next(), 5) for _ in range(10)]
        assert [d.id for d in first if d is not None] == ids[:10]
        with pytest.raises(SubscriberLagging):
            await asyncio.wait_for(everything.next(), 5)

        narrow = [await asyncio.wait_for(cilacap.next(), 5) for _ in range(3)]
        assert [d.id for d in narrow if d is not None] == ids[::10]
        assert not cilacap.lagging
        assert all(d is not None and d.complaint.region_code == "33.01" for d in narrow)
        # A subscriber arriving now starts after the burst: the hub moved past it.
        assert hub.subscribe(EventFilter()).start == ids[-1]
    finally:
        await hub.stop()
        await bus.disconnect()
        await pool.close()


# --- bad requests and refused changes -------------------------------------------------------


async def test_an_invalid_after_cursor_gets_a_clear_error(server: RunningServer) -> None:
    async with WsClient.connect(server.ws_url) as client:
        for n, after in enumerate(["abc", "-1", "1.5", "", " 7", "²", "9" * 19]):
            await subscribe(client, f"bad{n}", after=after)
            [error] = errors_of(await client.message(f"bad{n}", timeout=5))
            assert error["extensions"] == {"code": "INVALID_INPUT", "field": "after"}, after
            assert error["message"] == f"{after!r} is not an event cursor"
            assert (await client.message(f"bad{n}", timeout=5))["type"] == "complete"
        # Nothing stays subscribed, and the connection stays usable.
        await wait_for_subscribers(server.port, 0)
        await subscribe(client, "good", after="0")
        payload = await ops.submit(server.http_url)
        assert cursors(await receive(client, "good", 1, timeout=5)) == [
            int(payload["event"]["cursor"])
        ]


async def test_a_cursor_ahead_of_the_event_log_is_refused_rather_than_skipping_events(
    server: RunningServer,
) -> None:
    """A cursor the log has not reached (from another deployment, or a log restored from an
    older backup) would otherwise make the subscription silently drop every event up to it."""
    first = await ops.submit(server.http_url)
    ahead = str(int(first["event"]["cursor"]) + 1000)
    async with WsClient.connect(server.ws_url) as client:
        await subscribe(client, "ahead", after=ahead)
        [error] = errors_of(await client.message("ahead", timeout=5))
        assert error["extensions"] == {"code": "INVALID_INPUT", "field": "after"}
        assert "ahead of the event log" in error["message"]
        assert (await client.message("ahead", timeout=5))["type"] == "complete"

        # The newest cursor itself is fine: the subscription continues from there.
        await subscribe(client, "head", after=first["event"]["cursor"])
        await wait_for_subscribers(server.port, 1)
        second = await ops.submit(server.http_url)
        assert cursors(await receive(client, "head", 1, timeout=5)) == [
            int(second["event"]["cursor"])
        ]


async def test_an_invalid_filter_gets_a_clear_error(server: RunningServer) -> None:
    opd = (await opd_ids(server.http_url))["DPUBMCK"]
    async with WsClient.connect(server.ws_url) as client:
        await subscribe(client, "status", filter={"status": "NOPE"})
        message = await client.message("status", timeout=5)
        assert message["type"] == "error"
        assert "NOPE" in json.dumps(message["payload"])

        # An OPD's id where a complaint's is expected, then something that is no id at all.
        for n, (value, kind) in enumerate(
            [(opd, "complaintId"), ("not-an-id", "complaintId"), ("x", "opdId")]
        ):
            await subscribe(client, f"id{n}", filter={kind: value})
            [error] = errors_of(await client.message(f"id{n}", timeout=5))
            assert error["extensions"] == {"code": "INVALID_INPUT", "field": f"filter.{kind}"}
            expected = "Complaint" if kind == "complaintId" else "Opd"
            assert error["message"] == f"{value!r} is not the id of a {expected}"
            assert (await client.message(f"id{n}", timeout=5))["type"] == "complete"
        await wait_for_subscribers(server.port, 0)


async def test_a_refused_mutation_delivers_no_event(database_url: str) -> None:
    async with (
        start_server(database_url, event_poll_interval=0.1) as server,
        WsClient.connect(server.ws_url) as client,
    ):
        url = server.http_url
        await subscribe(client, "e")
        await wait_for_subscribers(server.port, 1)
        submitted = await ops.submit(url)
        cid = submitted["complaint"]["id"]
        assert cursors(await receive(client, "e", 1, timeout=5)) == [
            int(submitted["event"]["cursor"])
        ]

        refused = [
            await ops.act(url, "resolveComplaint", complaintId=cid, resolution="Belum."),
            await ops.act(url, "assignComplaint", complaintId=cid, expectedVersion=7),
            await ops.act(url, "recordFollowUp", complaintId=cid, message="   "),
        ]
        assert [p["errors"][0]["code"] for p in refused] == [
            "INVALID_TRANSITION",
            "STALE_VERSION",
            "INVALID_INPUT",
        ]
        assert all(p["event"] is None for p in refused)
        assert await client.nothing_more("e", 0.35)  # a few poll intervals

        assigned = await ops.act_ok(url, "assignComplaint", complaintId=cid, expectedVersion=1)
        [event] = await receive(client, "e", 1, timeout=5)
        assert event["cursor"] == assigned["event"]["cursor"]
        assert event["complaint"]["version"] == 2
        assert await log_cursors(url) == [
            int(submitted["event"]["cursor"]),
            int(assigned["event"]["cursor"]),
        ]


async def test_an_event_of_a_rolled_back_transaction_is_never_delivered(database_url: str) -> None:
    """A writer appends an event and sends its hint with pg_notify, then rolls back. Meanwhile a
    concurrent mutation waits for the event-log lock; only that mutation's event arrives."""
    async with (
        start_server(database_url, broadcast_url="postgres://", event_poll_interval=0.1) as server,
        WsClient.connect(server.ws_url) as client,
    ):
        await subscribe(client, "e")
        await wait_for_subscribers(server.port, 1)
        conn = await connect(database_url)
        try:
            tx = conn.transaction()
            await tx.start()
            submission = workflow.Submission(channel="SMS", text="Lampu mati.", region_code="33.19")
            doomed = await workflow.submit(conn, submission, actor="test")
            assert doomed.event is not None
            await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, str(doomed.event.id))
            concurrent = asyncio.create_task(ops.submit(server.http_url))
            # Past several polls: the uncommitted event is invisible, the other writer waits.
            assert await client.nothing_more("e", 0.5)
            assert not concurrent.done()
            await tx.rollback()
            committed = await asyncio.wait_for(concurrent, 5)
        finally:
            await conn.close()

        [event] = await receive(client, "e", 1, timeout=5)
        assert event["cursor"] == committed["event"]["cursor"]
        assert int(event["cursor"]) > doomed.event.id
        assert await client.nothing_more("e", 0.35)
    assert await db_event_ids(database_url) == [int(committed["event"]["cursor"])]
