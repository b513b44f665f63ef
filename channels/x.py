"""X Account Activity API deliveries, each for one subscribed OPD account (`for_user_id`): the
tweets that mention it, reply to it or quote it (`tweet_create_events[]`), and the DMs it
receives (`direct_message_events[]`, with the people involved in `users{}`). The account's own
tweets and DMs (its answers), retweets, and every other event kind (favourites, follows, blocks,
mutes, typing, reads, deletions, revocations) are acknowledged and ignored."""

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


def parse(document: Any) -> ParsedDelivery:
    body = _read.as_object(document, "body")
    account = _read.ident(body, "for_user_id", "body")
    users = _read.optional_child(body, "users", "body")
    tally = Tally()
    for where, tweet in _read.objects(body, "tweet_create_events", "body"):
        tally.add(_tweet(tweet, where, account))
    for where, event in _read.objects(body, "direct_message_events", "body"):
        tally.add(_direct_message(event, where, account, users))
    for key, value in body.items():
        if key.endswith(("_events", "_event")) and key not in (
            "tweet_create_events",
            "direct_message_events",
        ):
            tally.skip(len(value) if isinstance(value, list) else 1)
    return tally.delivery()


def _sections(tweet: Object, where: str) -> list[tuple[str, Object]]:
    """Where a tweet keeps its entities: a tweet longer than 140 characters has them in full
    only in `extended_tweet`, and its photos in `extended_entities`."""
    extended = _read.optional_child(tweet, "extended_tweet", where)
    found = [(f"{where}.extended_tweet", extended)] if extended else []
    return [*found, (where, tweet)]


def _mentions(sections: list[tuple[str, Object]]) -> list[Addressed]:
    mentioned = []
    for where, section in sections:
        entities = _read.optional_child(section, "entities", where)
        for at, mention in _read.objects(entities, "user_mentions", f"{where}.entities"):
            user_id = _read.optional_ident(mention, "id_str", at)
            mentioned.append(Addressed(user_id, _read.optional_string(mention, "screen_name", at)))
    return mentioned


def _media(sections: list[tuple[str, Object]]) -> tuple[str, ...]:
    urls: dict[str, None] = {}
    for where, section in sections:
        for key in ("extended_entities", "entities"):
            entities = _read.optional_child(section, key, where)
            for at, media in _read.objects(entities, "media", f"{where}.{key}"):
                url = _read.optional_string(media, "media_url_https", at)
                if url:
                    urls[url] = None
    return tuple(urls)


def _text(sections: list[tuple[str, Object]], tweet: Object, where: str) -> str:
    """The whole text: `full_text` in `extended_tweet` (or the tweet, in extended mode), else
    `text`, which X cuts at 140 characters when the tweet is longer."""
    for at, section in sections:
        full = _read.optional_string(section, "full_text", at)
        if full is not None:
            return full
    return _read.string(tweet, "text", where)


def _coordinates(tweet: Object, where: str) -> tuple[float, float] | None:
    point = _read.optional_child(tweet, "coordinates", where)
    if not point:
        return None
    path = f"{where}.coordinates.coordinates"
    pair = point.get("coordinates")
    if not isinstance(pair, list) or len(pair) != 2:
        raise DeliveryError(f"{path} is not [longitude, latitude]")
    # GeoJSON order: longitude first.
    return _read.coordinate(pair[1], f"{path}[1]", 90), _read.coordinate(pair[0], f"{path}[0]", 180)


def _tweet(tweet: Object, where: str, account: str) -> InboundMessage | None:
    user = _read.child(tweet, "user", where)
    author_id = _read.ident(user, "id_str", f"{where}.user")
    if author_id == account or "retweeted_status" in tweet:
        return None
    sections = _sections(tweet, where)
    tweet_id = _read.ident(tweet, "id_str", where)
    replied = Addressed(
        _read.optional_ident(tweet, "in_reply_to_user_id_str", where),
        _read.optional_string(tweet, "in_reply_to_screen_name", where),
    )
    return InboundMessage(
        platform=Platform.X,
        kind=Kind.MENTION,
        message_id=tweet_id,
        # The subscribed account too: a quote of its tweet names it nowhere else.
        addressed=unique_addressed([*_mentions(sections), replied, Addressed(account, None)]),
        author_id=author_id,
        author_handle=_read.optional_string(user, "screen_name", f"{where}.user"),
        author_name=_read.optional_string(user, "name", f"{where}.user"),
        text=_text(sections, tweet, where),
        media=_media(sections),
        location=_coordinates(tweet, where),
        posted_at=_moments.x_created_at(tweet.get("created_at"), f"{where}.created_at"),
        reply_to=(("account_id", account), ("recipient_id", author_id), ("tweet_id", tweet_id)),
        raw=tweet,
    )


def _direct_message(
    event: Object, where: str, account: str, users: Object
) -> InboundMessage | None:
    if event.get("type") != "message_create":
        return None
    path = f"{where}.message_create"
    create = _read.child(event, "message_create", where)
    sender = _read.ident(create, "sender_id", path)
    if sender == account:
        return None
    recipient = _read.ident(_read.child(create, "target", path), "recipient_id", f"{path}.target")
    data = _read.child(create, "message_data", path)
    attachment = _read.optional_child(data, "attachment", f"{path}.message_data")
    media_url = _read.optional_string(
        _read.optional_child(attachment, "media", f"{path}.message_data.attachment"),
        "media_url_https",
        f"{path}.message_data.attachment.media",
    )
    message_id = _read.ident(event, "id", where)
    author = _read.optional_child(users, sender, "body.users")
    author_at = _read.at("body.users", sender)
    target = _read.optional_child(users, recipient, "body.users")
    target_at = _read.at("body.users", recipient)
    return InboundMessage(
        platform=Platform.X,
        kind=Kind.DIRECT_MESSAGE,
        message_id=message_id,
        addressed=(Addressed(recipient, _read.optional_string(target, "screen_name", target_at)),),
        author_id=sender,
        author_handle=_read.optional_string(author, "screen_name", author_at),
        author_name=_read.optional_string(author, "name", author_at),
        text=_read.optional_string(data, "text", f"{path}.message_data") or "",
        media=(media_url,) if media_url else (),
        location=None,
        posted_at=_moments.epoch(event.get("created_timestamp"), f"{where}.created_timestamp"),
        reply_to=(("account_id", recipient), ("recipient_id", sender), ("message_id", message_id)),
        raw=event,
    )
