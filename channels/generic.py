"""The generic signed intake, for senders that are not social platforms: SMS gateways, the
hotline's call logging and the national SP4N-LAPOR! bridge. Its body is Kilas's own format,
signed as `kilas.channels.signatures.verify_generic_signature` checks:

    {
      "source": "SMS" | "HOTLINE" | "NATIONAL",       required
      "id": "<the sender's own unique id>",           required: the idempotency key
      "text": "...",                                   required, may be empty
      "postedAt": "2025-03-01T08:15:00+07:00",         required: ISO 8601 with an offset
      "to": "<the number or account written to>",     optional: routes to the OPD that owns it
      "from": {                                        optional, and so is each key
        "name": "...",
        "contact": "<phone number or e-mail>",         kept as author_id
        "handle": "..."
      },
      "location": {"lat": -6.99, "lon": 110.42},      optional
      "mediaUrls": ["https://..."]                     optional
    }

or `{"messages": [<that object>, ...]}` for a batch. Unknown keys are ignored, so that a sender
can add fields before Kilas reads them. An answer goes back through the same sender:
`reply_to` carries the id, the contact and the `to` account."""

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
)

SOURCES = frozenset({Platform.SMS, Platform.HOTLINE, Platform.NATIONAL})


def parse(document: Any, allowed: frozenset[Platform]) -> ParsedDelivery:
    """`allowed` is what the sender's secret may deliver: an SMS gateway's key cannot bring in a
    complaint that claims to come from the national bridge."""
    body = _read.as_object(document, "body")
    tally = Tally()
    if "messages" not in body:
        items = [("body", body)]
    elif isinstance(body["messages"], list):
        items = _read.objects(body, "messages", "body")
    else:
        # `objects` reads null as an absent array: a batch of null is a sender's fault to show.
        raise DeliveryError("body.messages is not an array")
    for where, item in items:
        tally.add(_message(item, where, allowed))
    return tally.delivery()


def _message(item: Object, where: str, allowed: frozenset[Platform]) -> InboundMessage:
    source = _read.string(item, "source", where)
    if source not in allowed:
        expected = ", ".join(sorted(allowed))
        raise DeliveryError(f"{where}.source {_read.shown(source)} is not one of {expected}")
    platform = Platform(source)
    message_id = _read.ident(item, "id", where)
    sender = _read.optional_child(item, "from", where)
    contact = _read.optional_string(sender, "contact", f"{where}.from") or None
    to = _read.optional_string(item, "to", where) or None
    position = _read.optional_child(item, "location", where)
    reply_to = [("message_id", message_id)]
    if contact:
        reply_to.append(("recipient_id", contact))
    if to:
        reply_to.insert(0, ("account_id", to))
    return InboundMessage(
        platform=platform,
        kind=Kind.MESSAGE,
        message_id=message_id,
        addressed=(Addressed(to, None),) if to else (),
        author_id=contact,
        author_handle=_read.optional_string(sender, "handle", f"{where}.from") or None,
        author_name=_read.optional_string(sender, "name", f"{where}.from") or None,
        text=_read.string(item, "text", where),
        media=tuple(url for url in _read.strings(item, "mediaUrls", where) if url),
        location=(
            _read.location(position, "lat", "lon", f"{where}.location") if position else None
        ),
        posted_at=_moments.iso(item.get("postedAt"), f"{where}.postedAt"),
        reply_to=tuple(reply_to),
        raw=item,
    )
