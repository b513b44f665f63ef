"""The one entry point from a webhook route: a verified delivery's raw body becomes inbound
messages, or a DeliveryError that says what is wrong. No other exception escapes, whatever the
body (tests/test_channel_fuzz.py)."""

from collections.abc import Callable
from functools import partial
from typing import Any

from kilas.channels import _read, facebook, generic, instagram, whatsapp, x
from kilas.channels.errors import DeliveryError
from kilas.channels.message import ParsedDelivery, Platform

_PLATFORMS: dict[str, Callable[[Any], ParsedDelivery]] = {
    Platform.WHATSAPP: whatsapp.parse,
    Platform.INSTAGRAM: instagram.parse,
    Platform.FACEBOOK: facebook.parse,
    Platform.X: x.parse,
}
# A route that shares one secret among the generic senders passes GENERIC; a route per sender
# passes its source, and a body that claims another is refused.
GENERIC = "GENERIC"


def parse_delivery(platform: str, body: bytes) -> ParsedDelivery:
    """`platform` is the route's: WHATSAPP, INSTAGRAM, FACEBOOK, X, one of the generic sources
    (SMS, HOTLINE, NATIONAL), or GENERIC for any of those three."""
    return _parser(platform)(_read.load(body))


def _parser(platform: str) -> Callable[[Any], ParsedDelivery]:
    if platform in _PLATFORMS:
        return _PLATFORMS[platform]
    if platform == GENERIC:
        return partial(generic.parse, allowed=generic.SOURCES)
    if platform in generic.SOURCES:
        return partial(generic.parse, allowed=frozenset({Platform(platform)}))
    raise DeliveryError(f"unknown platform {platform!r}")
