"""The channel inbox: a delivery stored is processed once, whatever happens to the process that
stored or processed it; a failing one is retried later and later, then dead, and replayed by an
operator once its cause is fixed; nothing of a failed attempt stays behind."""

import asyncio
import contextlib
import signal
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from kilas.db import inbox
from kilas.db.pool import create_pool
from kilas.domain.clock import ManualClock
from kilas.domain.sla import SlaRules
from kilas.intake.worker import InboxWorker, retry_delay
from kilas.live.bus import EventBus
from kilas.live.hub import EventHub
from kilas.settings import Settings
from tests._channel_helpers import (
    add_account,
    body_of,
    complaints_by_ref,
    deliveries,
    meta_headers,
    whatsapp,
)
from tests._core_helpers import Kilas
from tests.wire import free_port, gql, start_server, token

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
# Fails any complaint whose text asks for it: a fault the test switches on and off.
FAULT = """
CREATE FUNCTION intake_fault() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.text LIKE '%GAGAL%' THEN RAISE EXCEPTION 'the test''s fault'; END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER intake_fault BEFORE INSERT ON complaints
    FOR EACH ROW EXECUTE FUNCTION intake_fault();
"""


@contextlib.asynccontextmanager
async def inbox_worker(
    database_url: str, clock: ManualClock, max_attempts: int = 3
) -> AsyncIterator[InboxWorker]:
    """A worker as an instance has one, never started: it works when the test calls it."""
    async with contextlib.AsyncExitStack() as stack:
        pool = await create_pool(database_url, min_size=1, max_size=4)
        stack.push_async_callback(pool.close)
        bus = EventBus("memory://", database_url)
        await bus.connect()
        stack.push_async_callback(bus.disconnect)
        hub = EventHub(pool, bus, queue_size=Settings().subscriber_queue_size, poll_interval=30)
        await hub.start()
        stack.push_async_callback(hub.stop)
        yield InboxWorker(
            pool,
            bus,
            hub,
            clock,
            SlaRules(),
            default_region="33.74",
            duplicates=Settings().duplicate_search,
            max_attempts=max_attempts,
            poll_interval=0,
        )


def two_messages(first: str, second: str) -> bytes:
    document = whatsapp("wamid.ONE", T0, first)
    other = whatsapp("wamid.TWO", T0 + timedelta(minutes=1), second)
    change = document["entry"][0]["changes"][0]["value"]
    change["messages"] += other["entry"][0]["changes"][0]["value"]["messages"]
    return body_of(document)


async def test_a_failing_delivery_is_retried_later_and_later_then_dead_then_replayed(
    database_url: str, pool: asyncpg.Pool
) -> None:
    clock = ManualClock(T0 + timedelta(hours=1))
    async with pool.acquire() as conn:
        await conn.execute(FAULT)
        delivery_id = await inbox.store(
            conn, "WHATSAPP", two_messages("Jalan rusak", "GAGAL"), clock.now()
        )
    async with inbox_worker(database_url, clock) as worker:
        for attempt in (1, 2):
            processed = await worker.process_one()
            assert processed is not None and processed.events is None
            (row,) = await deliveries(pool)
            assert (row["state"], row["attempts"]) == ("PENDING", attempt)
            assert "the test's fault" in row["last_error"]
            # Nothing partial: the first message's complaint went with the failed attempt.
            assert await complaints_by_ref(pool, "wamid.ONE") == []
            assert await worker.process_one() is None, "not due before its retry time"
            clock.advance(retry_delay(attempt))
        assert (await worker.process_one()) is not None
        (row,) = await deliveries(pool)
        assert (row["state"], row["attempts"]) == ("DEAD", 3)
        clock.advance(timedelta(days=1))
        assert await worker.process_one() is None, "a dead delivery waits for an operator"

        async with pool.acquire() as conn:
            await conn.execute("DROP TRIGGER intake_fault ON complaints")
            replayed = await inbox.replay(conn, delivery_id, clock.now())
            assert replayed is not None and replayed.state == "PENDING"
            assert await inbox.replay(conn, delivery_id, clock.now()) is None, "only DEAD ones"
        processed = await worker.process_one()
        assert processed is not None and processed.events is not None
        assert [event.type for event in processed.events] == ["SUBMITTED", "SUBMITTED"]
    (row,) = await deliveries(pool)
    assert (row["state"], row["created"], row["last_error"]) == ("DONE", 2, None)
    for ref in ("wamid.ONE", "wamid.TWO"):
        assert len(await complaints_by_ref(pool, ref)) == 1


async def test_a_body_no_parser_reads_is_dead_at_once(
    database_url: str, pool: asyncpg.Pool
) -> None:
    # Stored by a version of Kilas that read it; this one does not.
    async with pool.acquire() as conn:
        await inbox.store(conn, "X", b'{"for_user_id": []}', T0)
    async with inbox_worker(database_url, ManualClock(T0)) as worker:
        await worker.drain()
    (row,) = await deliveries(pool)
    assert (row["state"], row["attempts"]) == ("DEAD", 1)
    assert row["last_error"].startswith("DeliveryError: body.for_user_id")


async def test_two_workers_never_take_the_same_delivery(
    database_url: str, pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as conn:
        for n in range(20):
            await inbox.store(conn, "WHATSAPP", body_of(whatsapp(f"wamid.P{n}", T0)), T0)
    clock = ManualClock(T0 + timedelta(minutes=5))
    async with inbox_worker(database_url, clock) as a, inbox_worker(database_url, clock) as b:
        taken = await asyncio.gather(a.drain(), b.drain())
    assert sum(taken) == 20
    rows = await deliveries(pool)
    assert [(row["state"], row["created"]) for row in rows] == [("DONE", 1)] * 20


DEAD_LIST = """
query ($state: DeliveryState) { channelDeliveries(state: $state) {
  id platform state attempts lastError created bodyBytes
} }
"""
REPLAY = """
mutation ($id: ID!) { replayChannelDelivery(deliveryId: $id) {
  channelDelivery { id state attempts } errors { code field message }
} }
"""


async def test_operators_see_the_dead_letters_and_replay_them_over_graphql(
    database_url: str, pool: asyncpg.Pool
) -> None:
    body = body_of(whatsapp("wamid.DEAD", T0))
    async with pool.acquire() as conn:
        dead = await inbox.store(conn, "WHATSAPP", body, T0)
        await conn.execute(
            "UPDATE channel_deliveries SET state = 'DEAD', attempts = 8, "
            "last_error = 'PostgresError: the database was down' WHERE id = $1",
            dead,
        )
    async with start_server(database_url, inbox_poll_interval=0.2) as server:
        operator = token("OPERATOR")
        listed = await gql(server.http_url, DEAD_LIST, {"state": "DEAD"}, token=operator)
        (item,) = listed["data"]["channelDeliveries"]
        assert (item["state"], item["attempts"], item["bodyBytes"]) == ("DEAD", 8, len(body))
        assert item["lastError"] == "PostgresError: the database was down"
        for role in (None, token("OPD_OFFICER", opd="dpubmck"), token("PARTNER")):
            refused = await gql(server.http_url, DEAD_LIST, token=role)
            assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

        supervisor = await gql(
            server.http_url, REPLAY, {"id": item["id"]}, token=token("SUPERVISOR")
        )
        assert supervisor["data"]["replayChannelDelivery"]["errors"][0]["code"] == "FORBIDDEN"
        replayed = await gql(server.http_url, REPLAY, {"id": item["id"]}, token=operator)
        payload = replayed["data"]["replayChannelDelivery"]
        assert payload["errors"] == [] and payload["channelDelivery"]["attempts"] == 0

        deadline = time.monotonic() + 10
        while not await complaints_by_ref(pool, "wamid.DEAD") and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        again = await gql(server.http_url, REPLAY, {"id": item["id"]}, token=operator)
        (error,) = again["data"]["replayChannelDelivery"]["errors"]
        assert (error["code"], error["field"]) == ("INVALID_INPUT", "deliveryId")
        assert "DONE" in error["message"]
    assert len(await complaints_by_ref(pool, "wamid.DEAD")) == 1


def post_delivery(kilas: Kilas, body: bytes) -> httpx.Response:
    return httpx.post(
        f"{kilas.base_url}/channels/whatsapp", content=body, headers=meta_headers(body), timeout=30
    )


@pytest.mark.parametrize("while_processing", [False, True], ids=["stored", "processing"])
async def test_a_delivery_survives_kill_9_after_it_was_stored_or_while_it_is_processed(
    database_url: str, pool: asyncpg.Pool, tmp_path: Path, while_processing: bool
) -> None:
    await add_account(pool, "dpubmck", "WHATSAPP", "6281128001500", verified=True)
    body = body_of(whatsapp("wamid.KILLED", T0))
    env = {"KILAS_DATABASE_URL": database_url, "KILAS_SLA_SWEEP_INTERVAL": "0"}
    # Stored only: the worker is off. Processing: it is on, and blocked inside its transaction
    # by the test's lock on the complaints table when the process is killed.
    first_env = {**env, "KILAS_INBOX_POLL_INTERVAL": "0.2" if while_processing else "0"}
    blocker = await pool.acquire()
    try:
        with Kilas.serve(tmp_path / "a", free_port(), log=tmp_path / "a.log", env=first_env) as a:
            await asyncio.to_thread(a.wait_healthy)
            if while_processing:
                await blocker.execute("BEGIN; LOCK TABLE complaints IN SHARE ROW EXCLUSIVE MODE")
            response = await asyncio.to_thread(post_delivery, a, body)
            assert response.status_code == 200, response.text
            if while_processing:
                await wait_for_lock_waiter(pool)
            assert a.stop(signal.SIGKILL) == -signal.SIGKILL
    finally:
        if while_processing:
            await blocker.execute("ROLLBACK")
        await pool.release(blocker)
    (row,) = await deliveries(pool)
    assert (row["state"], row["created"]) == ("PENDING", 0)
    assert await complaints_by_ref(pool, "wamid.KILLED") == []

    with Kilas.serve(tmp_path / "b", free_port(), log=tmp_path / "b.log", env=env) as b:
        await asyncio.to_thread(b.wait_healthy)
        deadline = time.monotonic() + 20
        while (await deliveries(pool))[0]["state"] != "DONE" and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        # The platform retries too, not knowing whether the first try landed.
        retry = await asyncio.to_thread(post_delivery, b, body)
        assert retry.status_code == 200
        while len(await deliveries(pool)) < 2 or (await deliveries(pool))[1]["state"] != "DONE":
            assert time.monotonic() < deadline, await deliveries(pool)
            await asyncio.sleep(0.1)
    rows = await deliveries(pool)
    assert [(row["state"], row["created"], row["known"]) for row in rows] == [
        ("DONE", 1, 0),
        ("DONE", 0, 1),
    ]
    (complaint,) = await complaints_by_ref(pool, "wamid.KILLED")
    assert complaint["status"] == "ASSIGNED"


async def wait_for_lock_waiter(pool: asyncpg.Pool, timeout: float = 20) -> None:
    """Until some session waits for the complaints table's lock: the worker, mid-transaction."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with pool.acquire() as conn:
            waiting = await conn.fetchval(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE c.relname = 'complaints' AND NOT l.granted"
            )
        if waiting:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the worker never reached the complaints table")


async def test_intake_records_the_likely_duplicates_of_each_message(
    database_url: str, pool: asyncpg.Pool
) -> None:
    clock = ManualClock(T0 + timedelta(minutes=5))
    told = "Jalan provinsi di Kudus berlubang besar, mohon segera ditambal."
    async with pool.acquire() as conn:
        await inbox.store(conn, "WHATSAPP", two_messages(told, "Tolong, " + told), clock.now())
    async with inbox_worker(database_url, clock) as worker:
        processed = await worker.process_one()
    assert processed is not None and processed.events is not None
    first, second = (e for e in processed.events if e.type == "SUBMITTED")
    assert first.data["possibleDuplicates"] == []
    (found,) = second.data["possibleDuplicates"]
    assert found["complaintId"] == first.complaint_id and found["score"] > 0.5
