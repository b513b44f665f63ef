"""Instagram deliveries (`object: "instagram"`): DMs in `entry[].messaging[]`; in `changes[]`,
comments on the OPD's media (field "comments", or "live_comments" during a live video) and
@mentions of the OPD (field "mentions"), whose webhook carries only ids and no text: the text is
read later through the Graph API with the account's token, which this layer does not hold."""

from typing import Any

from kilas.channels import _meta, _read
from kilas.channels._read import Object
from kilas.channels.message import (
    Addressed,
    InboundMessage,
    Kind,
    ParsedDelivery,
    Platform,
)

OBJECT = "instagram"


def parse(document: Any) -> ParsedDelivery:
    return _meta.parse_pages(document, OBJECT, Platform.INSTAGRAM, _change)


def _change(field: str, where: str, value: Object, entry: _meta.Entry) -> InboundMessage | None:
    path = f"{where}.value"
    if field in ("comments", "live_comments"):
        return _comment(value, path, entry)
    if field == "mentions":
        return _mention(value, path, entry)
    return None


def _comment(value: Object, where: str, entry: _meta.Entry) -> InboundMessage | None:
    author = _read.child(value, "from", where)
    author_id = _read.ident(author, "id", f"{where}.from")
    # The OPD answering under its own post is delivered too.
    if author_id == entry.account_id:
        return None
    comment_id = _read.ident(value, "id", where)
    media = _read.optional_child(value, "media", where)
    media_id = _read.optional_ident(media, "id", f"{where}.media")
    reply_to = (("account_id", entry.account_id), ("comment_id", comment_id))
    return InboundMessage(
        platform=Platform.INSTAGRAM,
        kind=Kind.COMMENT,
        message_id=comment_id,
        addressed=(Addressed(entry.account_id, None),),
        author_id=author_id,
        author_handle=_read.optional_string(author, "username", f"{where}.from"),
        author_name=None,
        text=_read.optional_string(value, "text", where) or "",
        media=(),
        location=None,
        posted_at=entry.sent_at(),
        reply_to=reply_to + ((("media_id", media_id),) if media_id else ()),
        raw=value,
    )


def _mention(value: Object, where: str, entry: _meta.Entry) -> InboundMessage:
    # A mention in a media's caption has no comment: the media is then what was posted.
    media_id = _read.ident(value, "media_id", where)
    comment_id = _read.optional_ident(value, "comment_id", where)
    reply_to = (("account_id", entry.account_id), ("media_id", media_id))
    return InboundMessage(
        platform=Platform.INSTAGRAM,
        kind=Kind.MENTION,
        message_id=comment_id or media_id,
        addressed=(Addressed(entry.account_id, None),),
        author_id=None,
        author_handle=None,
        author_name=None,
        text="",
        media=(),
        location=None,
        posted_at=entry.sent_at(),
        reply_to=reply_to + ((("comment_id", comment_id),) if comment_id else ()),
        raw=value,
    )
