"""What every channel's delivery becomes: inbound messages in one shape, whatever the platform,
so that the inbox, the routing and the replies never read a platform's JSON again."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Platform(StrEnum):
    """The values of the complaints table's `channel` column that arrive through intake."""

    WHATSAPP = "WHATSAPP"
    INSTAGRAM = "INSTAGRAM"
    FACEBOOK = "FACEBOOK"
    X = "X"
    SMS = "SMS"
    HOTLINE = "HOTLINE"
    NATIONAL = "NATIONAL"


class Kind(StrEnum):
    MESSAGE = "MESSAGE"
    DIRECT_MESSAGE = "DIRECT_MESSAGE"
    COMMENT = "COMMENT"
    MENTION = "MENTION"


@dataclass(frozen=True)
class Addressed:
    """An account the citizen wrote to, mentioned or commented on, as the platform names it: the
    routing matches either part against the OPDs' verified accounts."""

    account_id: str | None
    handle: str | None


# What an answer on the same channel needs, as (key, value) pairs in the order the platform's API
# takes them; `dict(reply_to)` is its JSON. The keys are shared across platforms: account_id (the
# OPD's own account that answers), recipient_id (the citizen, for a private answer), and the
# object answered: message_id, comment_id, post_id, media_id or tweet_id.
ReplyTo = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class InboundMessage:
    platform: Platform
    kind: Kind
    # The platform's own id: the idempotency key, unique within the platform.
    message_id: str
    addressed: tuple[Addressed, ...]
    author_id: str | None
    author_handle: str | None
    author_name: str | None
    # Empty for a media-only message or an Instagram mention, whose webhook carries no text.
    text: str
    media: tuple[str, ...]
    location: tuple[float, float] | None
    # When the citizen posted, in UTC; the platform's time, not the time of delivery.
    posted_at: datetime
    reply_to: ReplyTo
    # The item's own JSON, for the record; a dict cannot be hashed, so it is left out of the hash.
    raw: dict[str, Any] = field(hash=False, repr=False)


@dataclass(frozen=True)
class ParsedDelivery:
    messages: tuple[InboundMessage, ...]
    # Status callbacks, edits, removals, likes, follows, the OPD's own posts and other events:
    # acknowledged to the platform, so that it does not retry them, and otherwise dropped.
    ignored: int


@dataclass
class Tally:
    """A delivery being read: the parsers add what they keep and count what they pass over."""

    messages: list[InboundMessage] = field(default_factory=list)
    ignored: int = 0

    def add(self, message: InboundMessage | None) -> None:
        if message is None:
            self.ignored += 1
        else:
            self.messages.append(message)

    def skip(self, count: int = 1) -> None:
        self.ignored += count

    def delivery(self) -> ParsedDelivery:
        return ParsedDelivery(tuple(self.messages), self.ignored)


def unique_addressed(items: Iterable[Addressed]) -> tuple[Addressed, ...]:
    """The accounts once each, in order: an account named twice (the page id in the entry and as
    the DM's recipient) is kept once, with the handle if either naming had one."""
    seen: dict[str, int] = {}
    kept: list[Addressed] = []
    for item in items:
        if item.account_id is None and item.handle is None:
            continue
        key = item.account_id if item.account_id is not None else f"@{item.handle}"
        if key in seen:
            earlier = kept[seen[key]]
            if earlier.handle is None and item.handle is not None:
                kept[seen[key]] = Addressed(earlier.account_id, item.handle)
            continue
        seen[key] = len(kept)
        kept.append(item)
    return tuple(kept)
