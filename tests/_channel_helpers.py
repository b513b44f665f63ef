"""Deliveries as the platforms send them, signed as they sign them, for the intake tests and the
simulator's tests: a WhatsApp Cloud API message, an X mention, a generic intake message."""

import base64
import hashlib
import hmac
import json
import time
from datetime import datetime
from typing import Any

import asyncpg
import httpx

from kilas.channels import signatures
from kilas.settings import DEVELOPMENT_CHANNEL_SECRET

SECRET = DEVELOPMENT_CHANNEL_SECRET
# The WhatsApp number of the demo's and the tests' OPD (DPUBMCK), as Meta names it.
PHONE_NUMBER_ID = "106540352242922"
DISPLAY_NUMBER = "+62 811-2800-1500"


def body_of(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode()


def whatsapp(
    message_id: str,
    posted_at: datetime,
    text: str = "Jalan provinsi di Kudus berlubang besar, mohon segera ditambal.",
    *,
    phone_number_id: str = PHONE_NUMBER_ID,
    display: str = DISPLAY_NUMBER,
    sender: str = "6281234567890",
    name: str = "Sri Wahyuni",
    location: tuple[float, float] | None = None,
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "from": sender,
        "id": message_id,
        "timestamp": str(int(posted_at.timestamp())),
    }
    if location is None:
        message |= {"type": "text", "text": {"body": text}}
    else:
        message |= {
            "type": "location",
            "location": {"latitude": location[0], "longitude": location[1], "name": text},
        }
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": display,
                                "phone_number_id": phone_number_id,
                            },
                            "contacts": [{"profile": {"name": name}, "wa_id": sender}],
                            "messages": [message],
                        },
                    }
                ],
            }
        ],
    }


def x_mention(
    tweet_id: str,
    posted_at: datetime,
    text: str,
    *,
    for_user_id: str,
    mentions: list[tuple[str, str]],
    author: tuple[str, str] = ("1122334455", "hendra_rembang"),
) -> dict[str, Any]:
    """A tweet by `author` (id, screen name) mentioning `mentions` (id, screen name)."""
    return {
        "for_user_id": for_user_id,
        "tweet_create_events": [
            {
                "created_at": posted_at.strftime("%a %b %d %H:%M:%S +0000 %Y"),
                "id_str": tweet_id,
                "text": text,
                "user": {"id_str": author[0], "screen_name": author[1], "name": "Hendra W."},
                "entities": {
                    "user_mentions": [
                        {"id_str": user_id, "screen_name": screen_name}
                        for user_id, screen_name in mentions
                    ]
                },
            }
        ],
    }


def generic(message_id: str, posted_at: datetime, text: str, **more: Any) -> dict[str, Any]:
    return {
        "source": more.pop("source", "SMS"),
        "id": message_id,
        "text": text,
        "postedAt": posted_at.isoformat(),
        **more,
    }


def meta_headers(body: bytes, secret: str = SECRET) -> dict[str, str]:
    mac = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"x-hub-signature-256": f"sha256={mac}", "content-type": "application/json"}


def x_headers(body: bytes, secret: str = SECRET) -> dict[str, str]:
    mac = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return {"x-twitter-webhooks-signature": f"sha256={mac}", "content-type": "application/json"}


def generic_headers(
    body: bytes, secret: str = SECRET, timestamp: int | None = None
) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "x-kilas-timestamp": stamp,
        "x-kilas-signature": signatures.generic_signature(secret, stamp, body),
        "content-type": "application/json",
    }


async def post(base_url: str, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(f"{base_url}{path}", content=body, headers=headers)


async def add_account(
    pool: asyncpg.Pool,
    slug: str,
    platform: str,
    handle: str,
    *,
    verified: bool,
    external_id: str | None = None,
) -> int:
    async with pool.acquire() as conn:
        opd_id = await conn.fetchval("SELECT id FROM opds WHERE slug = $1", slug)
        assert opd_id is not None, slug
        account_id: int = await conn.fetchval(
            """
            INSERT INTO opd_social_accounts (opd_id, platform, handle, verified, external_id)
            VALUES ($1, $2, $3, $4, $5) RETURNING id
            """,
            opd_id,
            platform,
            handle,
            verified,
            external_id,
        )
    return account_id


async def add_province_account(
    pool: asyncpg.Pool, owner: str, platform: str, handle: str, external_id: str | None = None
) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO province_accounts (owner, platform, handle, external_id) "
            "VALUES ($1, $2, $3, $4)",
            owner,
            platform,
            handle,
            external_id,
        )


async def deliveries(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT id, platform, state, attempts, created, known, ignored, last_error "
            "FROM channel_deliveries ORDER BY id"
        )
    return [dict(row) for row in rows]


async def complaints_by_ref(pool: asyncpg.Pool, ref: str) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT id, channel, status, opd_id, region_code, created_at, assigned_at, "
            "response_due_at, reporter_name, reporter_contact, reporter_handle, lat, lon "
            "FROM complaints WHERE external_ref = $1",
            ref,
        )
    return [dict(row) for row in rows]
