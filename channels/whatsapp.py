"""WhatsApp Cloud API deliveries: `entry[] × changes[]`, where a change of field "messages"
carries the business number written to (`value.metadata`), the senders' profiles
(`value.contacts[]`), the citizens' messages (`value.messages[]`) and the fate of the OPD's own
outgoing messages (`value.statuses[]`, acknowledged and ignored). A message is kept when it is
text, media, a location, or the citizen's choice of a button or a list row; reactions, system
notices, unsupported messages, Flow answers and other kinds are acknowledged and ignored."""

from typing import Any

from kilas.channels import _meta, _moments, _read
from kilas.channels._read import Object
from kilas.channels.message import (
    Addressed,
    InboundMessage,
    Kind,
    ParsedDelivery,
    Platform,
    Tally,
)

OBJECT = "whatsapp_business_account"
MEDIA_TYPES = frozenset({"image", "video", "audio", "document", "sticker"})
# An `interactive` message's kinds that carry the title the citizen chose; a Flow's answer
# (nfm_reply) and newer kinds are not a complaint's words, and must not refuse the whole delivery.
CHOICES = frozenset({"button_reply", "list_reply"})


def parse(document: Any) -> ParsedDelivery:
    tally = Tally()
    for entry, item in _meta.entries(document, OBJECT):
        for field, where, value in _meta.changes(item, entry.where):
            if field != "messages":
                tally.skip()
                continue
            path = f"{where}.value"
            tally.skip(len(_read.objects(value, "statuses", path)))
            incoming = _read.objects(value, "messages", path)
            if not incoming:
                continue
            metadata = _read.child(value, "metadata", path)
            names = _contact_names(value, path)
            for at, message in incoming:
                tally.add(_message(message, at, metadata, f"{path}.metadata", names))
    return tally.delivery()


def _contact_names(value: Object, where: str) -> dict[str, str]:
    names = {}
    for at, contact in _read.objects(value, "contacts", where):
        wa_id = _read.optional_ident(contact, "wa_id", at)
        profile = _read.optional_child(contact, "profile", at)
        name = _read.optional_string(profile, "name", f"{at}.profile")
        if wa_id is not None and name is not None:
            names[wa_id] = name
    return names


Content = tuple[str, tuple[str, ...], tuple[float, float] | None]


def _content(message: Object, kind: str, where: str) -> Content | None:
    """The text, media ids and location of a message of a type a complaint can be made of; None
    for an interactive message that is not a choice."""
    body = _read.child(message, kind, where)
    path = f"{where}.{kind}"
    if kind == "text":
        return _read.string(body, "body", path), (), None
    if kind == "location":
        place = (_read.optional_string(body, key, path) for key in ("name", "address"))
        position = _read.location(body, "latitude", "longitude", path)
        return ", ".join(part for part in place if part), (), position
    if kind == "button":
        return _read.string(body, "text", path), (), None
    if kind == "interactive":
        choice = _read.string(body, "type", path)
        if choice not in CHOICES:
            return None
        reply = _read.child(body, choice, path)
        return _read.string(reply, "title", f"{path}.{choice}"), (), None
    caption = _read.optional_string(body, "caption", path) or ""
    return caption, (_read.ident(body, "id", path),), None


def _message(
    message: Object, where: str, metadata: Object, metadata_at: str, names: dict[str, str]
) -> InboundMessage | None:
    """A citizen's message; None for reactions, system notices, unsupported and other types."""
    kind = _read.string(message, "type", where)
    if kind not in MEDIA_TYPES | {"text", "location", "button", "interactive"}:
        return None
    content = _content(message, kind, where)
    if content is None:
        return None
    text, media, location = content
    sender = _read.ident(message, "from", where)
    phone_number_id = _read.ident(metadata, "phone_number_id", metadata_at)
    # The digits alone: Meta writes the number with or without "+" and spaces.
    display = _read.string(metadata, "display_phone_number", metadata_at)
    digits = "".join(c for c in display if c in "0123456789") or None
    message_id = _read.ident(message, "id", where)
    return InboundMessage(
        platform=Platform.WHATSAPP,
        kind=Kind.MESSAGE,
        message_id=message_id,
        addressed=(Addressed(phone_number_id, digits),),
        author_id=sender,
        author_handle=sender,
        author_name=names.get(sender),
        text=text,
        media=media,
        location=location,
        posted_at=_moments.epoch(message.get("timestamp"), f"{where}.timestamp"),
        reply_to=(
            ("account_id", phone_number_id),
            ("recipient_id", sender),
            ("message_id", message_id),
        ),
        raw=message,
    )
