"""Channel intake on the wire: the platforms' webhooks on a real server, signed as the platforms
sign, stored before they are answered, routed by the account the citizen addressed, and pushed
live to the wall's subscription."""

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from tests._channel_helpers import (
    PHONE_NUMBER_ID,
    add_account,
    add_province_account,
    body_of,
    complaints_by_ref,
    deliveries,
    generic,
    generic_headers,
    meta_headers,
    post,
    whatsapp,
    x_headers,
    x_mention,
)
from tests.wire import RunningServer, WsClient, bearer, gql_data, start_server, token

EVENTS = """
subscription { complaintEvents {
  type toStatus routing routingReason addressedAccount occurredAt
  complaint { channel status opd { slug } region { code } }
} }
"""
FIRST_EVENT = """
query ($n: String!) { complaint(trackingNumber: $n) {
  status timeline(first: 5) { nodes { type routing routingReason addressedAccount note actor } }
} }
"""


def base(server: RunningServer) -> str:
    return f"http://127.0.0.1:{server.port}"


def recently(minutes: int = 5) -> datetime:
    return datetime.fromtimestamp(int(time.time()) - minutes * 60, UTC)


async def until(check: Any, timeout: float = 10) -> Any:
    """`check()`'s first truthy answer, polled."""
    import asyncio

    deadline = time.monotonic() + timeout
    while True:
        found = await check()
        if found or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)


@pytest.fixture
async def intake(database_url: str) -> AsyncIterator[RunningServer]:
    async with start_server(database_url, inbox_poll_interval=0.2) as server:
        yield server


@pytest.fixture
async def pool(intake: RunningServer) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(intake.settings.database_url, min_size=1, max_size=3)
    yield pool
    await pool.close()


async def tracking_number(pool: asyncpg.Pool, ref: str) -> str:
    async with pool.acquire() as conn:
        number: str = await conn.fetchval(
            "SELECT tracking_number FROM complaints WHERE external_ref = $1", ref
        )
    return number


async def test_a_signed_whatsapp_message_to_a_verified_opd_number_is_assigned_from_its_posting(
    intake: RunningServer, pool: asyncpg.Pool
) -> None:
    await add_account(
        pool, "dpubmck", "WHATSAPP", "6281128001500", verified=True, external_id=PHONE_NUMBER_ID
    )
    posted = recently(minutes=30)
    body = body_of(whatsapp("wamid.A1", posted, "Jalan di Kab. Kudus berlubang besar."))
    async with WsClient.connect(intake.ws_url) as ws:
        await ws.subscribe("wall", EVENTS)
        sent = time.monotonic()
        response = await post(base(intake), "/channels/whatsapp", body, meta_headers(body))
        assert response.status_code == 200, response.text
        assert response.json()["messages"] == 1
        submitted = (await ws.next_data("wall", timeout=5))["complaintEvents"]
        assigned = (await ws.next_data("wall", timeout=5))["complaintEvents"]
        arrived = time.monotonic() - sent
    assert arrived < 1.0, f"the wall saw it after {arrived:.2f} s"
    assert submitted["type"] == "SUBMITTED"
    assert (submitted["routing"], submitted["routingReason"]) == ("OPD", "VERIFIED_OPD_ACCOUNT")
    assert submitted["addressedAccount"] == "@6281128001500"
    assert assigned["type"] == "ASSIGNED" and assigned["toStatus"] == "ASSIGNED"
    assert assigned["complaint"]["opd"] == {"slug": "dpubmck"}
    assert assigned["complaint"]["channel"] == "WHATSAPP"
    assert assigned["complaint"]["region"] == {"code": "33.19"}, "Kudus, named in the text"
    for event in (submitted, assigned):
        assert datetime.fromisoformat(event["occurredAt"]) == posted

    (row,) = await complaints_by_ref(pool, "wamid.A1")
    assert row["created_at"] == posted and row["assigned_at"] == posted
    assert row["response_due_at"] == posted + timedelta(hours=24), "1x24 from the posting"
    assert (row["reporter_name"], row["reporter_contact"]) == ("Sri Wahyuni", "6281234567890")
    (delivery,) = await deliveries(pool)
    assert (delivery["platform"], delivery["state"], delivery["created"]) == ("WHATSAPP", "DONE", 1)

    number = await tracking_number(pool, "wamid.A1")
    timeline = (await gql_data(intake.http_url, FIRST_EVENT, {"n": number}))["complaint"]
    first, second = timeline["timeline"]["nodes"][:2]
    assert first["actor"] == "system:intake" and first["type"] == "SUBMITTED"
    assert "@6281128001500" in second["note"]


async def test_a_platform_retry_or_a_second_delivery_of_a_message_makes_no_second_complaint(
    intake: RunningServer, pool: asyncpg.Pool
) -> None:
    await add_account(pool, "dpubmck", "WHATSAPP", "6281128001500", verified=True)
    body = body_of(whatsapp("wamid.RETRY", recently()))
    for _ in range(3):
        response = await post(base(intake), "/channels/whatsapp", body, meta_headers(body))
        assert response.status_code == 200

    async def all_done() -> list[dict[str, Any]] | None:
        rows = await deliveries(pool)
        return rows if all(row["state"] == "DONE" for row in rows) else None

    rows = await until(all_done)
    assert [(row["created"], row["known"]) for row in rows] == [(1, 0), (0, 1), (0, 1)]
    assert len(await complaints_by_ref(pool, "wamid.RETRY")) == 1


@pytest.mark.parametrize(
    ("mentions", "reason", "account"),
    [
        # The governor's own account: the command center decides, whoever it concerns.
        ([("69183155", "gubernur_jateng")], "PROVINCE_ACCOUNT", "@gubernur_jateng"),
        ([("555", "dinkes_jateng")], "UNVERIFIED_OPD_ACCOUNT", "@dinkes_jateng"),
        ([("777", "someone_else")], "UNKNOWN_ACCOUNT", "@someone_else"),
        (
            [("444", "dpu_jateng"), ("666", "dishub_jateng")],
            "SEVERAL_OPDS",
            "@Dishub_Jateng, @dpu_jateng",  # as registered
        ),
        # A verified OPD account decides over the governor's.
        (
            [("69183155", "gubernur_jateng"), ("444", "dpu_jateng")],
            "VERIFIED_OPD_ACCOUNT",
            "@dpu_jateng",
        ),
    ],
)
async def test_a_mention_is_routed_by_the_accounts_it_addresses(
    intake: RunningServer,
    pool: asyncpg.Pool,
    mentions: list[tuple[str, str]],
    reason: str,
    account: str,
) -> None:
    await add_account(pool, "dpubmck", "X", "dpu_jateng", verified=True, external_id="444")
    await add_account(pool, "dishub", "X", "Dishub_Jateng", verified=True)
    await add_account(pool, "dinkes", "X", "dinkes_jateng", verified=False)
    await add_province_account(pool, "Gubernur Jawa Tengah", "X", "gubernur_jateng", "69183155")
    text = " ".join(f"@{name}" for _, name in mentions) + " lampu jalan mati di Kota Tegal"
    # Delivered through the subscription of the first account it mentions.
    tweet = x_mention("1895", recently(), text, for_user_id=mentions[0][0], mentions=mentions)
    body = body_of(tweet)
    response = await post(base(intake), "/channels/x", body, x_headers(body))
    assert response.status_code == 200, response.text

    rows = await until(lambda: complaints_by_ref(pool, "1895"))
    assert rows, await deliveries(pool)
    (row,) = rows
    assert row["region_code"] == "33.76", "Kota Tegal"
    number = await tracking_number(pool, "1895")
    complaint = (await gql_data(intake.http_url, FIRST_EVENT, {"n": number}))["complaint"]
    first = complaint["timeline"]["nodes"][0]
    assert (first["routingReason"], first["addressedAccount"]) == (reason, account)
    routed = reason == "VERIFIED_OPD_ACCOUNT"
    assert first["routing"] == ("OPD" if routed else "VERIFICATION_QUEUE")
    assert complaint["status"] == ("ASSIGNED" if routed else "RECEIVED")


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/channels/whatsapp", {}),
        ("/channels/whatsapp", {"x-hub-signature-256": "sha256=" + "0" * 64}),
        ("/channels/instagram", {"x-hub-signature-256": "sha1=abc"}),
        ("/channels/x", {"x-twitter-webhooks-signature": "sha256=AAAA"}),
    ],
)
async def test_a_bad_or_missing_signature_gets_401_and_stores_nothing(
    intake: RunningServer, pool: asyncpg.Pool, path: str, headers: dict[str, str]
) -> None:
    body = body_of(whatsapp("wamid.FORGED", recently()))
    response = await post(base(intake), path, body, headers)
    assert response.status_code == 401
    assert response.json()["error"]
    assert await deliveries(pool) == []


async def test_a_body_signed_with_another_secret_or_changed_after_signing_is_refused(
    intake: RunningServer, pool: asyncpg.Pool
) -> None:
    body = body_of(whatsapp("wamid.TAMPERED", recently()))
    other = await post(base(intake), "/channels/whatsapp", body, meta_headers(body, "not-it"))
    changed = body.replace(b"berlubang", b"BERLUBANG")
    tampered = await post(base(intake), "/channels/whatsapp", changed, meta_headers(body))
    assert (other.status_code, tampered.status_code) == (401, 401)
    assert await deliveries(pool) == []


@pytest.mark.parametrize(
    "body",
    [b"not json", b'{"object": "page"}', b'{"object": "whatsapp_business_account", "entry": 5}'],
)
async def test_a_signed_body_that_does_not_read_gets_400_and_stores_nothing(
    intake: RunningServer, pool: asyncpg.Pool, body: bytes
) -> None:
    response = await post(base(intake), "/channels/whatsapp", body, meta_headers(body))
    assert response.status_code == 400
    assert response.json()["error"]
    assert await deliveries(pool) == []


async def test_meta_and_x_confirm_the_webhook_with_their_handshakes(intake: RunningServer) -> None:
    import httpx

    from kilas.channels.signatures import x_crc_response
    from tests._channel_helpers import SECRET

    async with httpx.AsyncClient(base_url=base(intake), timeout=10) as client:
        query = {"hub.mode": "subscribe", "hub.verify_token": SECRET, "hub.challenge": "1158201444"}
        ok = await client.get("/channels/whatsapp", params=query)
        assert (ok.status_code, ok.text) == (200, "1158201444")
        wrong = await client.get("/channels/facebook", params={**query, "hub.verify_token": "x"})
        assert wrong.status_code == 403
        crc = await client.get("/channels/x", params={"crc_token": "abc"})
        assert crc.status_code == 200
        assert crc.json() == x_crc_response(SECRET, "abc")
        assert (await client.get("/channels/x")).status_code == 400


async def test_the_generic_intake_needs_a_partner_key_and_a_fresh_signature(
    intake: RunningServer, pool: asyncpg.Pool
) -> None:
    body = body_of(generic("sms-1", recently(), "Banjir di Kota Semarang", to="dpubmck"))
    partner = bearer(token("PARTNER"))
    no_key = await post(base(intake), "/channels/intake", body, generic_headers(body))
    assert no_key.status_code == 403
    stale = generic_headers(body, timestamp=int(time.time()) - 3600)
    old = await post(base(intake), "/channels/intake", body, {**stale, **partner})
    assert old.status_code == 401
    assert await deliveries(pool) == []

    response = await post(
        base(intake), "/channels/intake", body, {**generic_headers(body), **partner}
    )
    assert response.status_code == 200, response.text
    rows = await until(lambda: complaints_by_ref(pool, "sms-1"))
    (row,) = rows
    assert (row["channel"], row["status"], row["region_code"]) == ("SMS", "ASSIGNED", "33.74")


async def test_in_production_an_unconfigured_receiver_is_off(database_url: str) -> None:
    async with start_server(database_url, env="production", jwt_secret="s" * 40) as server:
        body = body_of(whatsapp("wamid.OFF", recently()))
        response = await post(base(server), "/channels/whatsapp", body, meta_headers(body))
        assert response.status_code == 503
        assert "KILAS_META_APP_SECRET" in response.json()["error"]


async def test_a_mention_of_the_verified_account_of_the_head_in_office_goes_to_the_opd(
    intake: RunningServer, pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as conn:
        head = await conn.fetchval(
            """
            INSERT INTO opd_heads (opd_id, name, title, term_start)
            SELECT id, 'Ir. Hanung Triyono', 'Kepala Dinas', now() - interval '30 days'
            FROM opds WHERE slug = 'dpubmck'
            RETURNING id
            """
        )
        await conn.execute(
            "INSERT INTO opd_head_accounts (head_id, platform, handle, verified) "
            "VALUES ($1, 'X', 'hanung_dpu', true)",
            head,
        )
    mentions = [("9090", "Hanung_DPU")]
    tweet = x_mention("1896", recently(), "@Hanung_DPU jembatan retak", for_user_id="9090",
                      mentions=mentions)  # fmt: skip
    body = body_of(tweet)
    response = await post(base(intake), "/channels/x", body, x_headers(body))
    assert response.status_code == 200, response.text
    (row,) = await until(lambda: complaints_by_ref(pool, "1896"))
    assert row["status"] == "ASSIGNED"
    async with pool.acquire() as conn:
        slug = await conn.fetchval("SELECT slug FROM opds WHERE id = $1", row["opd_id"])
    assert slug == "dpubmck"


ADD_ACCOUNT = """
mutation ($opd: ID!) { addOpdSocialAccount(input: {opdId: $opd, platform: INSTAGRAM,
  handle: "dlhk.jateng", verified: true, externalId: "17841405822304914"}) {
  socialAccount { handle externalId verified } errors { code field }
} }
"""


async def test_an_instagram_dm_to_an_account_registered_by_its_platform_id_is_routed(
    intake: RunningServer, pool: asyncpg.Pool
) -> None:
    """Instagram names the account written to by its id alone: ADMIN registers it."""
    from pathlib import Path

    opd = (await gql_data(intake.http_url, '{ opd(slug: "dlhk") { id } }'))["opd"]["id"]
    added = await gql_data(intake.http_url, ADD_ACCOUNT, {"opd": opd}, token=token("ADMIN"))
    assert added["addOpdSocialAccount"]["socialAccount"]["externalId"] == "17841405822304914"
    again = await gql_data(intake.http_url, ADD_ACCOUNT, {"opd": opd}, token=token("ADMIN"))
    assert again["addOpdSocialAccount"]["errors"] == [{"code": "ALREADY_EXISTS", "field": "handle"}]

    body = (Path(__file__).parent / "channel_samples" / "instagram_messaging.json").read_bytes()
    response = await post(base(intake), "/channels/instagram", body, meta_headers(body))
    assert response.status_code == 200, response.text
    created = response.json()["messages"]
    assert created >= 1

    async def routed() -> list[Any]:
        async with pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT c.status, o.slug FROM complaints c LEFT JOIN opds o ON o.id = c.opd_id "
                "WHERE c.channel = 'INSTAGRAM'"
            )
        return rows if len(rows) == created else []

    rows = await until(routed)
    assert rows and all((r["status"], r["slug"]) == ("ASSIGNED", "dlhk") for r in rows), rows
