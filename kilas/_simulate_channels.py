"""The simulator's citizens' messages as the platforms deliver them: each body shaped as WhatsApp
Cloud API, Instagram, Facebook Pages or X's Account Activity API sends it (kilas/channels/ reads
these shapes; tests/channel_samples/ holds real ones), signed as the platform signs it, and
posted to the server's receivers. A tweet that mentions two subscribed accounts is delivered once
for each, as X does. A receiver that refuses (off, another secret, no such receiver) turns that
platform's deliveries off for the run, with one log line that says what to set."""

import base64
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from kilas._simulate_api import ApiUnavailable, retry_after_seconds
from kilas._simulate_messages import Account, Message
from kilas.channels import signatures
from kilas.settings import DEVELOPMENT_CHANNEL_SECRET, Settings

log = logging.getLogger("kilas.simulate")

# The WhatsApp Business Account of the province's numbers.
WABA_ID = "102290129340398"
META, X = "META", "X"
# Per secret: the platforms it signs for, the variable, the simulator's flag.
SECRETS = {
    META: ("WhatsApp, Instagram and Facebook", "KILAS_META_APP_SECRET", "--meta-app-secret"),
    X: ("X", "KILAS_X_CONSUMER_SECRET", "--x-consumer-secret"),
}
# English names whatever the process's locale (X's created_at; strftime follows the locale).
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class ChannelSecrets:
    """What the simulator signs with: the server's KILAS_META_APP_SECRET and
    KILAS_X_CONSUMER_SECRET. None: that platform is not delivered to."""

    meta_app_secret: str | None = DEVELOPMENT_CHANNEL_SECRET
    x_consumer_secret: str | None = DEVELOPMENT_CHANNEL_SECRET

    @classmethod
    def of(cls, settings: Settings) -> "ChannelSecrets":
        """The secrets a server of these settings checks (in development, unset is the
        published development secret; in production, unset is None)."""
        return cls(
            settings.channel_secret(settings.meta_app_secret),
            settings.channel_secret(settings.x_consumer_secret),
        )


@dataclass(frozen=True)
class Delivery:
    path: str  # the receiver's, under the server's root
    secret: str  # META or X
    body: bytes


def signed_with(platform: str) -> str:
    """The secret that signs the platform's deliveries: META or X."""
    return X if platform == "X" else META


def deliveries(message: Message, posted_at: datetime) -> list[Delivery]:
    """What the platform posts to Kilas for this message."""
    platform = message.platform
    if platform == "X":
        route = message.route
        accounts = (route.account, *route.also) if route.message_kind == "MENTION" else ()
        bodies = [_x(message, posted_at, a) for a in accounts] or [_x(message, posted_at, None)]
    else:
        build = {"WHATSAPP": _whatsapp, "INSTAGRAM": _instagram, "FACEBOOK": _facebook}[platform]
        bodies = [build(message, posted_at)]
    path = f"/channels/{platform.lower()}"
    return [Delivery(path, signed_with(platform), _json(body)) for body in bodies]


def _json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":")).encode()


def sign(secret_name: str, secret: str, body: bytes) -> dict[str, str]:
    """The headers the platform sends: Meta's hex HMAC, X's base64 one, both over the raw body."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    if secret_name == X:
        header, value = signatures.X_SIGNATURE_HEADER, base64.b64encode(digest).decode()
    else:
        header, value = signatures.META_SIGNATURE_HEADER, digest.hex()
    return {header: f"sha256={value}", "content-type": "application/json"}


def _epoch(at: datetime) -> int:
    return int(at.timestamp())


def _whatsapp(m: Message, at: datetime) -> dict[str, Any]:
    number = m.route.account
    digits = number.handle
    display = f"+{digits[:2]} {digits[2:5]}-{digits[5:9]}-{digits[9:]}"
    message_id = "wamid." + base64.b64encode(f"{m.author.id}:{m.ident('wa', 20)}".encode()).decode()
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": display, "phone_number_id": number.external_id},
            "contacts": [{"profile": {"name": m.author.name}, "wa_id": m.author.id}],
            "messages": [{
                "from": m.author.id, "id": message_id, "timestamp": str(_epoch(at)),
                "type": "text", "text": {"body": m.text},
            }],
        }}]}],
    }  # fmt: skip


def _x_time(at: datetime) -> str:
    at = at.astimezone(UTC)
    day, month = _DAYS[at.weekday()], _MONTHS[at.month - 1]
    return f"{day} {month} {at.day:02d} {at:%H:%M:%S} +0000 {at.year}"


def _x(m: Message, at: datetime, subscribed: Account | None) -> dict[str, Any]:
    """For the subscribed account a tweet mentions; None: a DM to the account written to."""
    if subscribed is not None:
        return {"for_user_id": subscribed.external_id, "tweet_create_events": [_tweet(m, at)]}
    author, account = m.author, m.route.account
    return {
        "for_user_id": account.external_id,
        "direct_message_events": [{
            "type": "message_create", "id": m.ident("x-dm", 19),
            "created_timestamp": str(_epoch(at) * 1000),
            "message_create": {
                "target": {"recipient_id": account.external_id}, "sender_id": author.id,
                "message_data": {"text": m.text, "entities": {
                    "hashtags": [], "symbols": [], "user_mentions": [], "urls": []}},
            },
        }],
        "users": {
            author.id: {"id": author.id, "name": author.name, "screen_name": author.handle},
            account.external_id: {"id": account.external_id, "screen_name": account.handle},
        },
    }  # fmt: skip


def _tweet(m: Message, at: datetime) -> dict[str, Any]:
    tweet_id, author = m.ident("x-tweet", 19), m.author
    user = {"id": int(author.id), "id_str": author.id, "name": author.name,
            "screen_name": author.handle}  # fmt: skip
    mentions, start = [], 0
    for account in (m.route.account, *m.route.also):
        end = start + len(account.handle) + 1
        mentions.append({"screen_name": account.handle, "id_str": account.external_id,
                         "id": int(account.external_id), "indices": [start, end]})  # fmt: skip
        start = end + 1
    entities = {"hashtags": [], "urls": [], "user_mentions": mentions, "symbols": []}
    tweet: dict[str, Any] = {
        "created_at": _x_time(at), "id": int(tweet_id), "id_str": tweet_id, "text": m.text,
        "source": '<a href="http://twitter.com/download/android" rel="nofollow">'
                  "Twitter for Android</a>",
        "truncated": False, "in_reply_to_status_id_str": None, "in_reply_to_user_id_str": None,
        "in_reply_to_screen_name": None, "user": user, "geo": None, "coordinates": None,
        "place": None, "is_quote_status": False, "entities": entities, "lang": "in",
        "timestamp_ms": str(_epoch(at) * 1000),
    }  # fmt: skip
    if m.location is not None:
        lat, lon = m.location
        tweet["geo"] = {"type": "Point", "coordinates": [lat, lon]}
        tweet["coordinates"] = {"type": "Point", "coordinates": [lon, lat]}  # GeoJSON order
    if len(m.text) > 140:
        # Over 140 characters, X cuts `text` and keeps the whole tweet in `extended_tweet`.
        tweet["truncated"] = True
        tweet["text"] = m.text[:139].rstrip() + "…"
        tweet["extended_tweet"] = {
            "full_text": m.text,
            "display_text_range": [0, len(m.text)],
            "entities": entities,
        }
    return tweet


def _instagram(m: Message, at: datetime) -> dict[str, Any]:
    account = m.route.account
    if m.route.message_kind == "DIRECT_MESSAGE":
        item = f"ig_message_item:1:IGMessageData:{account.external_id}:{m.ident('ig-dm', 38)}"
        return {"object": "instagram", "entry": [{
            "time": _epoch(at) * 1000, "id": account.external_id,
            "messaging": [{
                "sender": {"id": m.author.id}, "recipient": {"id": account.external_id},
                "timestamp": _epoch(at) * 1000,
                "message": {"mid": base64.b64encode(item.encode()).decode(), "text": m.text},
            }],
        }]}  # fmt: skip
    return {"object": "instagram", "entry": [{
        "id": account.external_id, "time": _epoch(at),
        "changes": [{"field": "comments", "value": {
            "from": {"id": m.author.id, "username": m.author.handle},
            "media": {"id": m.ident("ig-media", 17), "media_product_type": "FEED"},
            "id": m.ident("ig-comment", 17),
            "text": m.text,
        }}],
    }]}  # fmt: skip


def _facebook(m: Message, at: datetime) -> dict[str, Any]:
    page = m.route.account.external_id
    post = m.ident("fb-post", 15)
    value: dict[str, Any] = {
        "from": {"id": m.author.id, "name": m.author.name},
        "message": m.text,
        "post_id": f"{page}_{post}",
        "created_time": _epoch(at),
        "verb": "add",
    }
    if m.route.message_kind == "COMMENT":  # under one of the page's own posts
        comment = f"{post}_{m.ident('fb-comment', 16)}"
        value |= {"comment_id": comment, "parent_id": f"{page}_{post}", "item": "comment"}
    else:  # a visitor's post on the page
        value |= {"item": "status", "published": 1}
    return {"object": "page", "entry": [{
        "id": page, "time": _epoch(at), "changes": [{"field": "feed", "value": value}],
    }]}  # fmt: skip


def receivers_root(graphql_url: str) -> str:
    """Where the receivers are: beside /graphql, under the same prefix if any."""
    root = graphql_url.split("?", 1)[0].rstrip("/")
    return root.removesuffix("/graphql")


class Receivers:
    """The server's webhooks, and the secrets to sign for them; `off` says which secret's
    platforms are not delivered to for the rest of the run, and why."""

    def __init__(self, client: httpx.AsyncClient, graphql_url: str, secrets: ChannelSecrets):
        self._client = client
        self.root = receivers_root(graphql_url)
        self._secrets = {META: secrets.meta_app_secret, X: secrets.x_consumer_secret}
        self.off: dict[str, str] = {}
        for name, secret in self._secrets.items():
            if secret is None:
                platforms, env, flag = SECRETS[name]
                self.off[name] = f"no {env} to sign with (give {flag} or {env})"
                log.warning("%s deliveries are off: %s", platforms, self.off[name])

    def open(self, platform: str) -> bool:
        return signed_with(platform) not in self.off

    def turn_off(self, why: str, *names: str) -> None:
        """No more deliveries for these secrets' platforms (all when none is named)."""
        names = tuple(n for n in names or tuple(SECRETS) if n not in self.off)
        if names:
            self.off |= dict.fromkeys(names, why)
            platforms = SECRETS[names[0]][0] if len(names) == 1 else "Channel"
            log.warning("%s deliveries are off for this run: %s", platforms, why)

    async def deliver(self, message: Message, posted_at: datetime) -> str | None:
        """Post the message's deliveries; None when the receiver took them, else why it
        refused (logged). An unreachable or failing server raises ApiUnavailable."""
        accepted, refusal = False, None
        for delivery in deliveries(message, posted_at):
            secret = self._secrets[delivery.secret]
            if secret is None or delivery.secret in self.off:
                break
            refusal = await self._post(delivery, secret)
            accepted = accepted or refusal is None
        return None if accepted else refusal or "off"

    async def _post(self, delivery: Delivery, secret: str) -> str | None:
        url = self.root + delivery.path
        headers = sign(delivery.secret, secret, delivery.body)
        try:
            response = await self._client.post(url, content=delivery.body, headers=headers)
        except httpx.HTTPError as exc:
            raise ApiUnavailable(f"{type(exc).__name__}: {exc}") from None
        if response.status_code == 200:
            return None
        reason = _reason(response)
        _, env, flag = SECRETS[delivery.secret]
        code = f"HTTP {response.status_code}"
        if response.status_code == 503 and reason is not None:  # the receiver's own "off"
            self.turn_off(f"{url} answers {code}: {reason}", delivery.secret)
        elif response.status_code == 401:
            self.turn_off(
                f"{url} refused the signature ({reason}): give the simulator the server's "
                f"secret ({flag} or {env})",
                delivery.secret,
            )
        elif response.status_code == 400:
            log.warning("%s could not read a delivery (%s); submitted through the API", url, reason)
        elif response.status_code == 429:
            raise ApiUnavailable(f"{url}: {code}, too many requests", retry_after_seconds(response))
        elif response.status_code >= 500:
            raise ApiUnavailable(f"{url}: {code}")
        else:
            self.turn_off(f"{url} answers {code} (a Kilas without this receiver?)", delivery.secret)
        return code


def _reason(response: httpx.Response) -> str | None:
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return None
    return error if isinstance(error, str) else None
