"""Outgoing webhooks: a partner's endpoint on 127.0.0.1 receives every event its key may see, in
cursor order, at least once, signed as Standard Webhooks says (checked with the
`standardwebhooks` library), across restarts of Kilas and a day-long outage on a moved clock;
one instance at a time sends to it; it is disabled after failing too long and replayed from
any cursor; partners and ADMIN manage endpoints over GraphQL."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from standardwebhooks.webhooks import Webhook

from kilas.auth.caller import Role
from kilas.auth.key_admin import create_key
from kilas.db import webhooks as webhooks_db
from kilas.domain import workflow
from kilas.domain.clock import ManualClock, SystemClock
from kilas.partners.webhooks import WebhookSender
from kilas.schema.ids import to_global_id
from tests._webhook_receiver import Received, receiver
from tests.wire import gql, start_server, token

REPORTER = "Sri Wahyuni Rahayu"
CONTACT = "6281299887766"
CREATE = """
mutation ($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) {
  secret endpoint { id cursor state url apiKeyId filter { regionCode } }
  errors { code field message }
} }
"""
ENDPOINTS = """
{ webhookEndpoints { id state cursor failedAttempts failingSince disabledReason lastError
    deliveries(first: 50) { eventCursor attempt statusCode succeeded messageId } } }
"""


async def partner_key(
    conn: asyncpg.Connection, region: str | None = None, name: str = "Mitra"
) -> tuple[str, int]:
    key, row = await create_key(
        conn,
        name=name,
        role=Role.PARTNER,
        opd_slug=None,
        region_code=region,
        expires_at=None,
        now=datetime.now(UTC),
    )
    return key, row.id


async def complaint(
    conn: asyncpg.Connection,
    region: str,
    *,
    confidential: bool = False,
    assign: bool = True,
    at: datetime | None = None,
) -> int:
    """A complaint with its SUBMITTED and, assigned, its ASSIGNED event; personal data in it."""
    outcome = await workflow.submit(
        conn,
        workflow.Submission(
            channel="WHATSAPP",
            text=f"Jalan berlubang di {region}, mohon ditambal",
            region_code=region,
            category_code="JALAN",
            reporter_name=REPORTER,
            reporter_contact=CONTACT,
            confidential=confidential,
        ),
        actor="test",
        at=at,
    )
    complaint_id = outcome.complaint.id
    if assign:
        step = workflow.CommandContext(actor="jwt:operator", at=at)
        await workflow.assign(conn, complaint_id, step, opd_id=None, category_code=None)
    return complaint_id


async def endpoint(
    conn: asyncpg.Connection, key_id: int, url: str, *, cursor: int = 0, **filters: Any
) -> tuple[int, str]:
    from kilas.partners import signing

    secret = signing.new_secret()
    row = await webhooks_db.insert_endpoint(
        conn,
        webhooks_db.NewEndpoint(
            api_key_id=key_id,
            url=url,
            description=None,
            secret=secret,
            filter_complaint_id=filters.get("complaint_id"),
            filter_opd_id=filters.get("opd_id"),
            filter_region_code=filters.get("region_code"),
            filter_status=filters.get("status"),
            cursor=cursor,
            created_by="test",
        ),
        datetime(2000, 1, 1, tzinfo=UTC),
    )
    return row.id, secret


def sender(pool: asyncpg.Pool, clock: Any, **overrides: Any) -> WebhookSender:
    return WebhookSender(
        pool,
        clock,
        production=False,
        disable_after=overrides.pop("disable_after", timedelta(days=3)),
        poll_interval=overrides.pop("poll_interval", 0),
    )


@contextlib.asynccontextmanager
async def running(*senders: WebhookSender) -> AsyncIterator[None]:
    try:
        yield
    finally:
        for s in senders:
            await s.stop()


def signed_by(secret: str, request: Received) -> bool:
    """The signature as the standardwebhooks library computes it for the request's own id and
    timestamp (its `verify` also refuses timestamps five minutes off the real clock)."""
    h = request.headers
    at = datetime.fromtimestamp(int(h["webhook-timestamp"]), tz=UTC)
    expected = Webhook(secret).sign(h["webhook-id"], at, request.body.decode())
    return h["webhook-signature"] == expected


async def visible_cursors(url: str, key: str) -> list[int]:
    """The oracle: the cursors the partner's key reads through `complaintEvents`."""
    body = await gql(url, "{ complaintEvents(first: 100) { edges { cursor } } }", token=key)
    return [int(e["cursor"]) for e in body["data"]["complaintEvents"]["edges"]]


async def test_an_endpoint_gets_every_event_its_key_may_see_in_order_signed_and_nothing_personal(
    database_url: str, pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as conn:
        key, key_id = await partner_key(conn, region="33.74")
        await complaint(conn, "33.74")
        await complaint(conn, "33.02")
        await complaint(conn, "33.74", confidential=True)
        await complaint(conn, "33.74", assign=False)
    async with receiver() as partner, start_server(database_url, webhook_poll_interval=0) as server:
        async with pool.acquire() as conn:
            endpoint_id, secret = await endpoint(conn, key_id, partner.url)
        expected = await visible_cursors(server.http_url, key)
        assert len(expected) == 3  # the 33.74 complaints that are not confidential
        s = sender(pool, SystemClock())
        async with running(s):
            assert await s.drain() == 3
            assert await s.drain() == 0, "nothing is sent twice"
        received = partner.accepted
        assert [r.cursor for r in received] == expected
        for request in received:
            # What a partner's verifier does, on the real clock.
            payload = Webhook(secret).verify(request.body, request.headers)
            assert payload["data"]["region"]["code"] == "33.74"
            assert REPORTER not in request.body.decode() and CONTACT not in request.body.decode()
            assert "tracking" not in request.body.decode().lower()
        first = received[0].json
        assert first["type"] == "complaint.submitted"
        shown = first["data"]["complaint"]
        assert shown["region"]["code"] == "33.74" and shown["status"] == "ASSIGNED"
        assert not {"reporter", "trackingNumber", "actor"} & (set(shown) | set(first["data"]))
        assert received[1].json["type"] == "complaint.assigned"
        assert received[1].json["data"]["opd"]["shortName"]
        ids = [r.headers["webhook-id"] for r in received]
        assert len(set(ids)) == len(ids)
        async with pool.acquire() as conn:
            row = await webhooks_db.endpoint(conn, endpoint_id)
            last = await conn.fetchval("SELECT max(id) FROM complaint_events")
        assert row is not None and row.cursor == last, "passed over what it may not see"
        with pytest.raises(Exception, match="signature"):
            Webhook(secret).verify(received[0].body + b" ", received[0].headers)


async def test_a_day_long_outage_on_a_moved_clock_loses_nothing_and_keeps_the_order(
    pool: asyncpg.Pool,
) -> None:
    clock = ManualClock(datetime(2026, 11, 20, 8, tzinfo=UTC))
    async with pool.acquire() as conn:
        _, key_id = await partner_key(conn)
        for region in ("33.74", "33.02", "33.01"):
            await complaint(conn, region, at=clock.now())
    async with receiver() as partner:
        async with pool.acquire() as conn:
            endpoint_id, secret = await endpoint(conn, key_id, partner.url)
        partner.failing_with = 503
        s = sender(pool, clock)
        async with running(s):
            outage_ends = clock.now() + timedelta(days=1)
            attempts = 0
            while clock.now() < outage_ends:
                assert await s.drain() == 0
                async with pool.acquire() as conn:
                    row = await webhooks_db.endpoint(conn, endpoint_id)
                assert row is not None and row.state == "ACTIVE" and row.cursor == 0
                attempts = row.failed_attempts
                clock.set(max(row.next_attempt_at, clock.now() + timedelta(seconds=1)))
                if row.next_attempt_at > outage_ends:
                    break
            assert attempts >= 20, attempts
            assert len(partner.requests) == attempts
            # Every attempt was at the head of the stream: the first event, the same id.
            assert {r.cursor for r in partner.requests} == {partner.requests[0].cursor}
            assert len({r.headers["webhook-id"] for r in partner.requests}) == 1
            partner.failing_with = None
            clock.advance(timedelta(hours=1))
            # A new complaint during the outage, then Kilas "restarts": another sender.
            async with pool.acquire() as conn:
                await complaint(conn, "33.03", at=clock.now())
        restarted = sender(pool, clock)
        async with running(restarted):
            assert await restarted.drain() == 8
        accepted = [r.cursor for r in partner.accepted]
        async with pool.acquire() as conn:
            rows = await conn.fetch("SELECT id FROM complaint_events ORDER BY id")
        every = [r["id"] for r in rows]
        assert accepted == every
        assert all(signed_by(secret, r) for r in partner.requests)
        async with pool.acquire() as conn:
            row = await webhooks_db.endpoint(conn, endpoint_id)
            log = await webhooks_db.deliveries(conn, [endpoint_id], 100)
        assert row is not None and row.failed_attempts == 0 and row.failing_since is None
        assert sum(1 for d in log if not d.succeeded) == attempts
        assert [d.attempt for d in log if d.succeeded][-1] == attempts + 1


async def test_failing_longer_than_allowed_disables_it_and_enabling_replays_from_a_cursor(
    database_url: str, pool: asyncpg.Pool
) -> None:
    clock = ManualClock(datetime.now(UTC))
    async with pool.acquire() as conn:
        key, key_id = await partner_key(conn)
        await complaint(conn, "33.74", at=clock.now())
    async with (
        receiver() as partner,
        start_server(database_url, clock=clock, webhook_poll_interval=0) as server,
    ):
        admin = token("ADMIN")
        created = await gql(
            server.http_url,
            CREATE,
            {"input": {"url": partner.url, "apiKeyId": to_global_id("ApiKey", key_id),
                       "after": "0"}},
            token=admin,
        )  # fmt: skip
        hook = created["data"]["createWebhookEndpoint"]["endpoint"]
        partner.failing_with = 500
        s = sender(pool, clock, disable_after=timedelta(hours=2))
        async with running(s):
            for _ in range(40):
                await s.drain()
                clock.advance(timedelta(minutes=30))
            listed = (await gql(server.http_url, ENDPOINTS, token=key))["data"]
            (seen,) = listed["webhookEndpoints"]
            assert seen["state"] == "DISABLED"
            assert "HTTP 500" in seen["disabledReason"] and seen["failingSince"]
            requests = len(partner.requests)
            await s.drain()
            assert len(partner.requests) == requests, "a disabled endpoint is sent nothing"
            partner.failing_with = None
            enable = """mutation ($id: ID!, $after: String) {
              enableWebhookEndpoint(endpointId: $id, after: $after) {
                endpoint { state cursor failedAttempts } errors { code } } }"""
            again = {"id": hook["id"], "after": "0"}
            enabled = await gql(server.http_url, enable, again, token=key)
            assert enabled["data"]["enableWebhookEndpoint"]["endpoint"] == {
                "state": "ACTIVE",
                "cursor": "0",
                "failedAttempts": 0,
            }
            assert await s.drain() == 2
            # Replayed again, from the second event only.
            first = partner.accepted[0].cursor
            await gql(server.http_url, enable, {"id": hook["id"], "after": str(first)}, token=key)
            assert await s.drain() == 1
        assert [r.cursor for r in partner.accepted] == [first, first + 1, first + 1]


async def test_two_instances_never_send_to_one_endpoint_at_once(pool: asyncpg.Pool) -> None:
    clock = SystemClock()
    async with pool.acquire() as conn:
        _, key_id = await partner_key(conn)
        for region in ("33.74", "33.02", "33.01", "33.03", "33.04", "33.05"):
            await complaint(conn, region)
    async with receiver() as partner:
        async with pool.acquire() as conn:
            ids = [(await endpoint(conn, key_id, partner.url))[0] for _ in range(3)]
        senders = [sender(pool, clock) for _ in range(3)]
        async with running(*senders):
            counts = await asyncio.gather(*(s.drain() for s in senders))
            counts += await asyncio.gather(*(s.drain() for s in senders))
        assert sum(counts) == 3 * 12
        by_endpoint: dict[str, list[int]] = {}
        for r in partner.accepted:
            endpoint_of = r.headers["webhook-id"].split("_")[2]
            by_endpoint.setdefault(endpoint_of, []).append(r.cursor)
        assert sorted(by_endpoint) == sorted(str(i) for i in ids)
        for cursors in by_endpoint.values():
            assert cursors == sorted(cursors) and len(set(cursors)) == 12


async def test_a_revoked_key_disables_its_endpoints(pool: asyncpg.Pool) -> None:
    clock = SystemClock()
    async with pool.acquire() as conn:
        _, key_id = await partner_key(conn)
        await complaint(conn, "33.74")
    async with receiver() as partner:
        async with pool.acquire() as conn:
            endpoint_id, _ = await endpoint(conn, key_id, partner.url)
            await conn.execute("UPDATE api_keys SET revoked_at = now() WHERE id = $1", key_id)
        s = sender(pool, clock)
        async with running(s):
            assert await s.drain() == 0
        assert partner.requests == []
        async with pool.acquire() as conn:
            row = await webhooks_db.endpoint(conn, endpoint_id)
        assert row is not None and row.state == "DISABLED"
        assert row.disabled_reason is not None and "revoked" in row.disabled_reason


async def test_partners_and_admin_manage_endpoints_over_graphql(
    database_url: str, pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as conn:
        key, key_id = await partner_key(conn, region="33.74")
        other, other_id = await partner_key(conn, name="Lain")
    async with start_server(database_url, webhook_poll_interval=0) as server:
        url = server.http_url
        own = await gql(url, CREATE, {"input": {"url": "http://127.0.0.1:9/a"}}, token=key)
        payload = own["data"]["createWebhookEndpoint"]
        assert payload["errors"] == [] and payload["secret"].startswith("whsec_")
        assert payload["endpoint"]["apiKeyId"] == to_global_id("ApiKey", key_id)
        theirs = await gql(url, CREATE, {"input": {"url": "http://127.0.0.1:9/b"}}, token=other)
        their_id = theirs["data"]["createWebhookEndpoint"]["endpoint"]["id"]
        listed = (await gql(url, ENDPOINTS, token=key))["data"]["webhookEndpoints"]
        assert [e["id"] for e in listed] == [payload["endpoint"]["id"]]
        admin_list = (await gql(url, ENDPOINTS, token=token("ADMIN")))["data"]
        assert len(admin_list["webhookEndpoints"]) == 2
        # Another partner's endpoint does not exist for this one.
        disable = """mutation ($id: ID!) { disableWebhookEndpoint(endpointId: $id) {
            endpoint { state } errors { code field } } }"""
        refused = await gql(url, disable, {"id": their_id}, token=key)
        assert refused["data"]["disableWebhookEndpoint"]["errors"] == [
            {"code": "NOT_FOUND", "field": "endpointId"}
        ]
        cases = [
            ({"url": "ftp://example.org/x"}, key, "url"),
            ({"url": "http://127.0.0.1:9/c", "apiKeyId": to_global_id("ApiKey", other_id)},
             key, "apiKeyId"),
            ({"url": "http://127.0.0.1:9/c"}, token("ADMIN"), "apiKeyId"),
            ({"url": "http://127.0.0.1:9/c", "after": "999999999"}, key, "after"),
            ({"url": "http://127.0.0.1:9/c", "filter": {"regionCode": "99.99"}}, key, "filter"),
        ]  # fmt: skip
        for given, credential, field in cases:
            answer = await gql(url, CREATE, {"input": given}, token=credential)
            errors = answer["data"]["createWebhookEndpoint"]["errors"]
            assert [e["field"] for e in errors] == [field], (given, errors)
        for role in ("OPERATOR", "SUPERVISOR", None):
            answer = await gql(url, ENDPOINTS, token=token(role) if role else None)
            assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        async with pool.acquire() as conn:
            assert len(await webhooks_db.endpoints(conn, None)) == 2, "refusals stored nothing"
        # The secret is shown once: no field reads it again.
        fields = await gql(url, '{ __type(name: "WebhookEndpoint") { fields { name } } }')
        names = {f["name"] for f in fields["data"]["__type"]["fields"]}
        assert "url" in names and not any("secret" in name.lower() for name in names)


async def test_a_served_kilas_delivers_new_events_at_once_and_after_a_restart(
    database_url: str, pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as conn:
        key, _ = await partner_key(conn)
    submit = """mutation ($text: String!) { submitComplaint(input: {channel: WEB, text: $text,
        regionCode: "33.74"}) { created } }"""
    async with receiver() as partner:
        async with start_server(database_url, webhook_poll_interval=30) as server:
            created = await gql(server.http_url, CREATE, {"input": {"url": partner.url}}, token=key)
            secret = created["data"]["createWebhookEndpoint"]["secret"]
            await gql(server.http_url, submit, {"text": "Lampu PJU mati"}, token=None)
            # Woken by the event itself, long before the 30 s poll.
            (first,) = await partner.wait_for(1, timeout=10)
        # Kilas is down: a complaint arrives through another way in.
        async with pool.acquire() as conn:
            await complaint(conn, "33.02", assign=True)
        async with start_server(database_url, webhook_poll_interval=0.2):
            received = await partner.wait_for(3)
    assert [r.cursor for r in received] == [first.cursor, first.cursor + 1, first.cursor + 2]
    for request in received:
        Webhook(secret).verify(request.body, request.headers)


async def test_the_delivery_log_keeps_thirty_days(pool: asyncpg.Pool) -> None:
    clock = ManualClock(datetime(2026, 11, 20, 8, tzinfo=UTC))
    async with pool.acquire() as conn:
        _, key_id = await partner_key(conn)
        await complaint(conn, "33.74", at=clock.now())
        event_id = await conn.fetchval("SELECT min(id) FROM complaint_events")
        endpoint_id, _ = await endpoint(conn, key_id, "http://127.0.0.1:9/unused", cursor=10**9)
        for days in (45, 31, 29, 1):
            await webhooks_db.record_delivery(
                conn,
                endpoint_id=endpoint_id,
                event_id=event_id,
                message_id=f"msg_{days}",
                attempt=1,
                attempted_at=clock.now() - timedelta(days=days),
                status_code=204,
                error=None,
                latency_ms=3.0,
                succeeded=True,
            )
    s = sender(pool, clock)
    async with running(s):
        await s.drain()
    async with pool.acquire() as conn:
        kept = await webhooks_db.deliveries(conn, [endpoint_id], 100)
    assert sorted(d.message_id for d in kept) == ["msg_1", "msg_29"]
