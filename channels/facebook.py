"""Facebook Page deliveries (`object: "page"`): Messenger DMs in `entry[].messaging[]`; in
`changes[]`, the page's feed (field "feed": a comment, or a visitor's post, that was added; both
are COMMENTs, public writing on the OPD's page) and @mentions of the page in others' posts and
comments (field "mention"). Edits, removals, hides, reactions, likes and shares are acknowledged
and ignored."""

from datetime import datetime
from typing import Any

from kilas.channels import _meta, _moments, _read
from kilas.channels._read import Object
from kilas.channels.message import (
    Addressed,
    InboundMessage,
    Kind,
    ParsedDelivery,
    Platform,
    ReplyTo,
)

OBJECT = "page"
FEED_ITEMS = frozenset({"comment", "post", "status", "photo", "video"})


def parse(document: Any) -> ParsedDelivery:
    return _meta.parse_pages(document, OBJECT, Platform.FACEBOOK, _change)


def _change(field: str, where: str, value: Object, entry: _meta.Entry) -> InboundMessage | None:
    path = f"{where}.value"
    if _read.optional_string(value, "verb", path) != "add":
        return None
    if field == "feed" and _read.optional_string(value, "item", path) in FEED_ITEMS:
        return _feed(value, path, entry)
    if field == "mention":
        return _mention(value, path, entry)
    return None


def _posted_at(value: Object, where: str, entry: _meta.Entry) -> datetime:
    created = value.get("created_time")
    return entry.sent_at() if created is None else _moments.epoch(created, f"{where}.created_time")


def _replying(entry: _meta.Entry, value: Object, where: str) -> tuple[str, ReplyTo]:
    """The item's id and where an answer goes: under the comment when it is one, else under the
    post."""
    post_id = _read.ident(value, "post_id", where)
    if value.get("item") != "comment":
        return post_id, (("account_id", entry.account_id), ("post_id", post_id))
    comment_id = _read.ident(value, "comment_id", where)
    return comment_id, (
        ("account_id", entry.account_id),
        ("comment_id", comment_id),
        ("post_id", post_id),
    )


def _feed(value: Object, where: str, entry: _meta.Entry) -> InboundMessage | None:
    # Without the permission to read other people's profiles, Meta leaves `from` out.
    author = _read.optional_child(value, "from", where)
    author_id = _read.optional_ident(author, "id", f"{where}.from")
    # The page's own posts and its answers under comments.
    if author_id == entry.account_id:
        return None
    message_id, reply_to = _replying(entry, value, where)
    photos = _read.strings(value, "photos", where)
    attached = (_read.optional_string(value, key, where) for key in ("photo", "video"))
    # An empty link is nothing to look at, as in the other platforms' media.
    media = [url for url in (*photos, *attached) if url]
    return InboundMessage(
        platform=Platform.FACEBOOK,
        kind=Kind.COMMENT,
        message_id=message_id,
        addressed=(Addressed(entry.account_id, None),),
        author_id=author_id,
        author_handle=None,
        author_name=_read.optional_string(author, "name", f"{where}.from"),
        text=_read.optional_string(value, "message", where) or "",
        media=tuple(media),
        location=None,
        posted_at=_posted_at(value, where, entry),
        reply_to=reply_to,
        raw=value,
    )


def _mention(value: Object, where: str, entry: _meta.Entry) -> InboundMessage:
    message_id, reply_to = _replying(entry, value, where)
    return InboundMessage(
        platform=Platform.FACEBOOK,
        kind=Kind.MENTION,
        message_id=message_id,
        addressed=(Addressed(entry.account_id, None),),
        author_id=_read.optional_ident(value, "sender_id", where),
        author_handle=None,
        author_name=_read.optional_string(value, "sender_name", where),
        text=_read.optional_string(value, "message", where) or "",
        media=(),
        location=None,
        posted_at=_posted_at(value, where, entry),
        reply_to=reply_to,
        raw=value,
    )
