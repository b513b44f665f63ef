"""What Meta's three webhooks share: the `{"object", "entry": [...]}` envelope, and for Instagram
and Facebook Pages the Messenger-shaped direct message (`entry[].messaging[]`, or a change of
field "messages" in the App Dashboard's test deliveries)."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kilas.channels import _moments, _read
from kilas.channels._read import Object
from kilas.channels.errors import DeliveryError
from kilas.channels.message import (
    Addressed,
    InboundMessage,
    Kind,
    ParsedDelivery,
    Platform,
    Tally,
    unique_addressed,
)


@dataclass(frozen=True)
class Entry:
    """One `entry[]`: the account whose subscription delivered it, and when Meta sent it."""

    account_id: str
    sent: Any
    where: str

    def sent_at(self) -> datetime:
        """For the items that carry no time of their own (Instagram's comments and mentions)."""
        if self.sent is None:
            raise DeliveryError(f"{self.where}.time is missing")
        return _moments.epoch(self.sent, f"{self.where}.time")


def entries(document: Any, expected_object: str) -> Iterator[tuple[Entry, Object]]:
    body = _read.as_object(document, "body")
    found = _read.string(body, "object", "body")
    if found != expected_object:
        raise DeliveryError(f"body.object is {_read.shown(found)}, not {expected_object!r}")
    if "entry" not in body:
        raise DeliveryError("body.entry is missing")
    for where, entry in _read.objects(body, "entry", "body"):
        yield Entry(_read.ident(entry, "id", where), entry.get("time"), where), entry


def changes(entry: Object, where: str) -> Iterator[tuple[str, str, Object]]:
    """Each change's field, path and value."""
    for path, change in _read.objects(entry, "changes", where):
        yield _read.string(change, "field", path), path, _read.child(change, "value", path)


# The account's own messages echoed back, deletions, and what Meta cannot show.
_NOT_FROM_THE_CITIZEN = ("is_echo", "is_deleted", "is_unsupported")

# A change handler: the field, its path and value, and the entry it came in.
ChangeHandler = Callable[[str, str, Object, Entry], InboundMessage | None]


def parse_pages(
    document: Any, expected_object: str, platform: Platform, on_change: ChangeHandler
) -> ParsedDelivery:
    """Instagram's and Facebook's deliveries: DMs in `messaging[]`, the rest in `changes[]`."""
    tally = Tally()
    for entry, item in entries(document, expected_object):
        for where, event in _read.objects(item, "messaging", entry.where):
            tally.add(direct_message(platform, entry, event, where))
        for field, where, value in changes(item, entry.where):
            if field == "messages":
                tally.add(direct_message(platform, entry, value, f"{where}.value"))
            else:
                tally.add(on_change(field, where, value, entry))
    return tally.delivery()


def direct_message(
    platform: Platform, entry: Entry, event: Object, where: str
) -> InboundMessage | None:
    """A Messenger or Instagram DM; None for read receipts, deliveries, reactions, postbacks,
    edits, deletions and the account's own messages echoed back."""
    message = _read.optional_child(event, "message", where)
    if not message or any(message.get(flag) for flag in _NOT_FROM_THE_CITIZEN):
        return None
    path = f"{where}.message"
    sender = _read.child(event, "sender", where)
    # A visitor of the website chat plugin has a user_ref until they log in.
    author = _read.optional_ident(sender, "id", f"{where}.sender") or _read.optional_ident(
        sender, "user_ref", f"{where}.sender"
    )
    if author is None:
        raise DeliveryError(f"{where}.sender.id is missing")
    recipient = _read.ident(_read.child(event, "recipient", where), "id", f"{where}.recipient")
    if author in (recipient, entry.account_id):
        return None
    message_id = _read.ident(message, "mid", path)
    payloads = (
        (f"{at}.payload", _read.optional_child(attachment, "payload", at))
        for at, attachment in _read.objects(message, "attachments", path)
    )
    # A shared link or a template has no url: only what can be looked at is media.
    media = [url for at, payload in payloads if (url := _read.optional_string(payload, "url", at))]
    return InboundMessage(
        platform=platform,
        kind=Kind.DIRECT_MESSAGE,
        message_id=message_id,
        addressed=unique_addressed([Addressed(recipient, None), Addressed(entry.account_id, None)]),
        author_id=author,
        author_handle=None,
        author_name=None,
        text=_read.optional_string(message, "text", path) or "",
        media=tuple(media),
        location=None,
        posted_at=_moments.epoch(event.get("timestamp"), f"{where}.timestamp"),
        reply_to=(("account_id", recipient), ("recipient_id", author), ("message_id", message_id)),
        raw=event,
    )
