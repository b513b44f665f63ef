"""Replies on the channel: written with each event in its transaction, sent by the reply sender
through each platform's send API (a stand-in on 127.0.0.1 that checks the requests as the
platforms document them), retried when the platform may yet take them, and never sent twice."""

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from kilas.channels.outbound import Endpoints
from kilas.db import replies as replies_db
from kilas.db.pool import create_pool
from kilas.domain.clock import ManualClock
from kilas.intake.replies import ABANDONED_AFTER, ReplySender, retry_delay
from tests._channel_helpers import (
    PHONE_NUMBER_ID,
    add_account,
    body_of,
    meta_headers,
    post,
    whatsapp,
    x_headers,
    x_mention,
)
from tests._fake_platforms import META_TOKEN, X_TOKEN, FakePlatforms, fake_platforms
from tests.wire import RunningServer, gql, gql_data, start_server, token

REPLIES = """
query ($n: String!) { complaint(trackingNumber: $n) {
  trackingNumber replies { eventType public text state attempts platformMessageId lastError }
} }
"""


def base(server: RunningServer) -> str:
    return f"http://127.0.0.1:{server.port}"


def recently() -> datetime:
    return datetime.fromtimestamp(int(time.time()) - 600, UTC)


async def settle(check: Any, timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = await check()
        if found or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)


@pytest.fixture
async def fake() -> AsyncIterator[FakePlatforms]:
    async with fake_platforms() as running:
        yield running


@pytest.fixture
async def served(database_url: str, fake: FakePlatforms) -> AsyncIterator[RunningServer]:
    async with start_server(
        database_url,
        inbox_poll_interval=0.1,
        reply_poll_interval=0.1,
        meta_access_token=META_TOKEN,
        x_access_token=X_TOKEN,
        meta_graph_url=fake.graph_url,
        x_api_url=fake.x_url,
    ) as server:
        yield server


async def number_of(pool: asyncpg.Pool, ref: str) -> str:
    async def found() -> str | None:
        async with pool.acquire() as conn:
            value: str | None = await conn.fetchval(
                "SELECT tracking_number FROM complaints WHERE external_ref = $1", ref
            )
        return value

    number = await settle(found)
    assert number is not None, f"no complaint for {ref}"
    return str(number)


async def replies_of(server: RunningServer, number: str) -> list[dict[str, Any]]:
    data = await gql_data(server.http_url, REPLIES, {"n": number}, token=token("OPERATOR"))
    found: list[dict[str, Any]] = data["complaint"]["replies"]
    return found


async def test_a_whatsapp_citizen_is_answered_on_whatsapp_at_each_step(
    served: RunningServer, fake: FakePlatforms, pool: asyncpg.Pool
) -> None:
    await add_account(
        pool, "dpubmck", "WHATSAPP", "6281128001500", verified=True, external_id=PHONE_NUMBER_ID
    )
    body = body_of(whatsapp("wamid.ASK", recently(), "Jalan di Kab. Kudus berlubang."))
    response = await post(base(served), "/channels/whatsapp", body, meta_headers(body))
    assert response.status_code == 200
    number = await number_of(pool, "wamid.ASK")

    async def both_sent() -> list[dict[str, Any]]:
        found = await replies_of(served, number)
        return found if [r["state"] for r in found] == ["SENT", "SENT"] else []

    sent = await settle(both_sent)
    assert [r["eventType"] for r in sent] == ["SUBMITTED", "ASSIGNED"], sent
    assert all(not r["public"] and number in r["text"] for r in sent), "private: with the number"
    assert "DPUBMCK" in sent[1]["text"]
    assert [r["platformMessageId"] for r in sent] == ["wamid.OUT1", "wamid.OUT2"]
    assert fake.invalid == []
    first = fake.received[0]
    assert first.path == f"/v21.0/{PHONE_NUMBER_ID}/messages"
    assert first.body["to"] == "6281234567890"
    assert first.body["context"] == {"message_id": "wamid.ASK"}
    assert first.body["text"]["body"] == sent[0]["text"]

    # The OPD follows up and resolves: the citizen hears of each, once.
    complaint = await gql_data(
        served.http_url,
        "query ($n: String!) { complaint(trackingNumber: $n) { id version } }",
        {"n": number},
    )
    officer = token("OPD_OFFICER", opd="dpubmck")
    follow = await gql(
        served.http_url,
        "mutation ($id: ID!) { recordFollowUp(input: {complaintId: $id, "
        'message: "Tim sudah ke lokasi."}) { errors { code message } } }',
        {"id": complaint["complaint"]["id"]},
        token=officer,
    )
    assert follow["data"]["recordFollowUp"]["errors"] == [], follow

    async def three_sent() -> list[dict[str, Any]]:
        found = await replies_of(served, number)
        return found if len(found) == 3 and found[2]["state"] == "SENT" else []

    assert (await settle(three_sent))[2]["eventType"] == "FOLLOWED_UP"
    await asyncio.sleep(0.5)
    assert len(fake.received) == 3, "each reply sent once"


async def test_a_public_mention_is_answered_in_public_without_the_tracking_number(
    served: RunningServer, fake: FakePlatforms, pool: asyncpg.Pool
) -> None:
    await add_account(pool, "dpubmck", "X", "dpu_jateng", verified=True, external_id="444")
    tweet = x_mention(
        "1897", recently(), "@dpu_jateng jalan berlubang", for_user_id="444",
        mentions=[("444", "dpu_jateng")],
    )  # fmt: skip
    body = body_of(tweet)
    assert (await post(base(served), "/channels/x", body, x_headers(body))).status_code == 200
    number = await number_of(pool, "1897")

    async def sent() -> list[dict[str, Any]]:
        found = await replies_of(served, number)
        return (
            found if found and all(r["state"] == "SENT" for r in found) and len(found) == 2 else []
        )

    replies = await settle(sent)
    assert replies and all(r["public"] for r in replies)
    assert all(number not in r["text"] for r in replies), "the number is the reporter's proof"
    assert [r.path for r in fake.received] == ["/2/tweets", "/2/tweets"]
    assert fake.received[0].body["reply"] == {"in_reply_to_tweet_id": "1897"}
    assert fake.invalid == []


async def test_the_public_and_an_opd_officer_elsewhere_may_not_read_the_replies(
    served: RunningServer, pool: asyncpg.Pool
) -> None:
    body = body_of(whatsapp("wamid.SECRET", recently()))
    await post(base(served), "/channels/whatsapp", body, meta_headers(body))
    number = await number_of(pool, "wamid.SECRET")
    query = "{ complaints(first: 1) { nodes { replies { text } } } }"
    for caller in (None, token("OPD_OFFICER", opd="dinkes")):
        refused = await gql(served.http_url, query, token=caller)
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # The reporter, presenting the number, reads them.
    mine = await gql(served.http_url, REPLIES, {"n": number}, token=None)
    assert "errors" not in mine and mine["data"]["complaint"]["replies"]


@pytest.fixture
async def sender_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, min_size=1, max_size=3)
    yield pool
    await pool.close()


def sender(pool: asyncpg.Pool, fake: FakePlatforms, clock: ManualClock) -> ReplySender:
    ends = Endpoints(fake.graph_url, fake.x_url, META_TOKEN, X_TOKEN)
    return ReplySender(
        pool, clock, ends, max_attempts=3, poll_interval=0, timeout=httpx.Timeout(1.0)
    )


async def queued_reply(database_url: str, message_id: str) -> None:
    """A WhatsApp complaint taken in by a server whose sender is off: its replies wait."""
    async with start_server(database_url, inbox_poll_interval=0.1, reply_poll_interval=0) as s:
        body = body_of(whatsapp(message_id, recently()))
        assert (await post(base(s), "/channels/whatsapp", body, meta_headers(body))).is_success
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
        try:
            await number_of(pool, message_id)
        finally:
            await pool.close()


async def states(pool: asyncpg.Pool) -> list[tuple[str, int]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT state, attempts FROM channel_replies ORDER BY id")
    return [(row["state"], row["attempts"]) for row in rows]


async def test_a_refusal_the_platform_may_overcome_is_retried_later_then_dead(
    database_url: str, fake: FakePlatforms, sender_pool: asyncpg.Pool
) -> None:
    await queued_reply(database_url, "wamid.BUSY")
    clock = ManualClock(datetime.now(UTC) + timedelta(minutes=1))
    out = sender(sender_pool, fake, clock)
    try:
        fake.refuse_next = [429, 503, 500]
        for attempt in (1, 2):
            assert await out.send_one() is not None
            assert (await states(sender_pool))[0] == ("PENDING", attempt)
            assert await out.send_one() is None, "not before its retry time"
            clock.advance(retry_delay(attempt))
        assert await out.send_one() is not None
        assert (await states(sender_pool))[0] == ("DEAD", 3)
        assert len(fake.received) == 3
    finally:
        await out.stop()


async def test_a_request_the_platform_refuses_for_good_is_dead_at_once(
    database_url: str, fake: FakePlatforms, sender_pool: asyncpg.Pool
) -> None:
    await queued_reply(database_url, "wamid.BAD")
    out = sender(sender_pool, fake, ManualClock(datetime.now(UTC) + timedelta(minutes=1)))
    try:
        fake.refuse_next = [400]
        await out.send_one()
        assert (await states(sender_pool))[0] == ("DEAD", 1)
    finally:
        await out.stop()


async def test_a_reply_is_never_sent_twice_when_its_fate_is_unknown(
    database_url: str, fake: FakePlatforms, sender_pool: asyncpg.Pool
) -> None:
    await queued_reply(database_url, "wamid.LOST")
    await queued_reply(database_url, "wamid.NEXT")
    clock = ManualClock(datetime.now(UTC) + timedelta(minutes=1))
    # A process that claimed the first reply (SENDING, committed) and died before an answer.
    async with sender_pool.acquire() as conn:
        claimed = await replies_db.claim_due(conn, clock.now(), ["WHATSAPP"])
    assert claimed is not None
    # The next process (a restart) sends the second reply; it does not touch the first while a
    # send could still be under way, and afterwards marks it UNCERTAIN, never sending it.
    restarted = sender(sender_pool, fake, clock)
    try:
        await restarted.drain()
        assert await states(sender_pool) == [("SENDING", 1), ("SENT", 1)]
        clock.advance(ABANDONED_AFTER + timedelta(seconds=1))
        await restarted.drain()
        assert await states(sender_pool) == [("UNCERTAIN", 1), ("SENT", 1)]
        assert len(fake.received) == 1

        # A request that left and got no answer in time may have been taken: UNCERTAIN too.
        await queued_reply(database_url, "wamid.SLOW")
        fake.hold_next = 3
        await restarted.drain()
        assert (await states(sender_pool))[2:] == [("UNCERTAIN", 1)]
        clock.advance(timedelta(days=1))
        await restarted.drain()
        assert len(fake.received) == 2, "neither uncertain one was sent again"
    finally:
        await restarted.stop()


async def test_without_a_platform_token_replies_wait(
    database_url: str, fake: FakePlatforms, sender_pool: asyncpg.Pool
) -> None:
    await queued_reply(database_url, "wamid.WAIT")
    ends = Endpoints(fake.graph_url, fake.x_url, None, X_TOKEN)
    out = ReplySender(sender_pool, ManualClock(datetime.now(UTC)), ends, max_attempts=3,
                      poll_interval=0)  # fmt: skip
    try:
        assert await out.drain() == 0
        assert await states(sender_pool) == [("PENDING", 0)]
    finally:
        await out.stop()


TEMPLATE = """
mutation ($text: String!) { setReplyTemplate(eventType: SUBMITTED, text: $text) {
  replyTemplate { eventType text updatedBy } errors { code field message }
} }
"""


async def test_admin_edits_the_templates_and_new_replies_follow(
    served: RunningServer, pool: asyncpg.Pool
) -> None:
    admin = token("ADMIN", subject="admin-1")
    listed = await gql_data(served.http_url, "{ replyTemplates { eventType text } }", token=admin)
    assert [t["eventType"] for t in listed["replyTemplates"]] == [
        "SUBMITTED", "ASSIGNED", "FOLLOWED_UP", "RESOLVED", "REJECTED", "MERGED",
        "ORIGINAL_RESOLVED",
    ]  # fmt: skip
    for text, field in (("Halo {nama}", "text"), ("   ", "text"), ("Halo {opd", "text")):
        refused = await gql_data(served.http_url, TEMPLATE, {"text": text}, token=admin)
        (error,) = refused["setReplyTemplate"]["errors"]
        assert (error["code"], error["field"]) == ("INVALID_INPUT", field)
    operator = await gql(served.http_url, TEMPLATE, {"text": "x"}, token=token("OPERATOR"))
    assert operator["data"]["setReplyTemplate"]["errors"][0]["code"] == "FORBIDDEN"
    changed = await gql_data(
        served.http_url, TEMPLATE, {"text": "Laporan {nomor} diterima, terima kasih."}, token=admin
    )
    assert changed["setReplyTemplate"]["replyTemplate"]["updatedBy"] == "jwt:admin-1"

    body = body_of(whatsapp("wamid.NEWTEXT", recently()))
    await post(base(served), "/channels/whatsapp", body, meta_headers(body))
    number = await number_of(pool, "wamid.NEWTEXT")
    replies = await settle(lambda: replies_of(served, number))
    assert replies[0]["text"] == f"Laporan {number} diterima, terima kasih."
