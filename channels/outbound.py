"""Answers on the channel, as each platform's documented send API takes them: the request for a
reply (from the identifiers an inbound message carried, `InboundMessage.reply_to`), and the
platform's id of what it sent, read from its answer. Pure: the reply worker sends.

- WhatsApp Cloud API: `POST {graph}/{phone_number_id}/messages`, a text message to the citizen's
  number, in context of their message.
- Instagram: a DM (`POST {graph}/{account_id}/messages`), a reply to a comment
  (`POST {graph}/{comment_id}/replies`), or a comment on the media that mentions the account
  (`POST {graph}/{account_id}/mentions`).
- Facebook Pages: a Messenger message (`POST {graph}/{page_id}/messages`, messaging_type
  RESPONSE) or a comment under the comment or post (`POST {graph}/{object_id}/comments`).
- X API v2: a reply tweet (`POST {x}/2/tweets`) or a DM
  (`POST {x}/2/dm_conversations/with/{participant_id}/messages`).

Meta's calls carry the page's or the business's access token, X's the account's OAuth 2.0 user
token, both as `Authorization: Bearer`."""

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from kilas.channels.message import Platform

# A tweet's limit; Meta's texts are far longer than any template.
X_TEXT_LIMIT = 280


class Unanswerable(Exception):
    """The identifiers do not say where to answer (a message kind no send API takes)."""


@dataclass(frozen=True)
class Endpoints:
    graph_url: str
    x_url: str
    meta_token: str | None
    x_token: str | None


@dataclass(frozen=True)
class Outbound:
    url: str
    json: dict[str, Any]
    token: str


def _path(value: str) -> str:
    # An id from a platform is digits, letters and a few marks; never a path of its own.
    return quote(value, safe="")


def _need(reply_to: dict[str, str], *keys: str) -> list[str]:
    missing = [key for key in keys if not reply_to.get(key)]
    if missing:
        raise Unanswerable(f"the message carries no {', '.join(missing)} to answer")
    return [reply_to[key] for key in keys]


def request(platform: str, reply_to: dict[str, str], text: str, ends: Endpoints) -> Outbound:
    if platform == Platform.X:
        return _x(reply_to, text, ends)
    if platform in (Platform.WHATSAPP, Platform.INSTAGRAM, Platform.FACEBOOK):
        if not ends.meta_token:
            raise Unanswerable("no Meta access token is configured (KILAS_META_ACCESS_TOKEN)")
        graph, token = ends.graph_url.rstrip("/"), ends.meta_token
        if platform == Platform.WHATSAPP:
            account, to, message = _need(reply_to, "account_id", "recipient_id", "message_id")
            body = {
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": to,
                "context": {"message_id": message},
                "type": "text",
                "text": {"preview_url": False, "body": text},
            }
            return Outbound(f"{graph}/{_path(account)}/messages", body, token)
        return _meta_social(platform, reply_to, text, graph, token)
    raise Unanswerable(f"{platform} has no send API here")


def _meta_social(
    platform: str, reply_to: dict[str, str], text: str, graph: str, token: str
) -> Outbound:
    if reply_to.get("recipient_id"):
        account, to = _need(reply_to, "account_id", "recipient_id")
        body: dict[str, Any] = {"recipient": {"id": to}, "message": {"text": text}}
        if platform == Platform.FACEBOOK:
            body["messaging_type"] = "RESPONSE"
        return Outbound(f"{graph}/{_path(account)}/messages", body, token)
    if platform == Platform.INSTAGRAM:
        if reply_to.get("comment_id"):
            (comment,) = _need(reply_to, "comment_id")
            return Outbound(f"{graph}/{_path(comment)}/replies", {"message": text}, token)
        account, media = _need(reply_to, "account_id", "media_id")
        body = {"media_id": media, "message": text}
        return Outbound(f"{graph}/{_path(account)}/mentions", body, token)
    target = reply_to.get("comment_id") or reply_to.get("post_id")
    if not target:
        raise Unanswerable("the message carries no comment_id or post_id to answer")
    return Outbound(f"{graph}/{_path(target)}/comments", {"message": text}, token)


def _x(reply_to: dict[str, str], text: str, ends: Endpoints) -> Outbound:
    if not ends.x_token:
        raise Unanswerable("no X access token is configured (KILAS_X_ACCESS_TOKEN)")
    base, short = ends.x_url.rstrip("/"), text[:X_TEXT_LIMIT]
    if reply_to.get("tweet_id"):
        (tweet,) = _need(reply_to, "tweet_id")
        body = {"text": short, "reply": {"in_reply_to_tweet_id": tweet}}
        return Outbound(f"{base}/2/tweets", body, ends.x_token)
    (participant,) = _need(reply_to, "recipient_id")
    url = f"{base}/2/dm_conversations/with/{_path(participant)}/messages"
    return Outbound(url, {"text": text}, ends.x_token)


def sent_id(platform: str, answer: Any) -> str | None:
    """The platform's id of what it sent, from its JSON answer (None when it names none)."""
    if not isinstance(answer, dict):
        return None
    if platform == Platform.WHATSAPP:
        messages = answer.get("messages")
        if isinstance(messages, list) and messages and isinstance(messages[0], dict):
            found = messages[0].get("id")
            return found if isinstance(found, str) else None
        return None
    if platform == Platform.X:
        data = answer.get("data")
        if isinstance(data, dict):
            found = data.get("id") or data.get("dm_event_id")
            return found if isinstance(found, str) else None
        return None
    found = answer.get("message_id") or answer.get("id")
    return found if isinstance(found, str) else None
