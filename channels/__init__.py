"""Channel intake's protocol layer, pure: no database, no HTTP. A webhook route verifies the
platform's signature or handshake (`signatures`) and turns the raw body into inbound messages
(`parse_delivery`); the durable inbox, the routing to OPDs and the replies are built on these."""

from kilas.channels.errors import DeliveryError, SignatureError
from kilas.channels.message import Addressed, InboundMessage, Kind, ParsedDelivery, Platform
from kilas.channels.parse import GENERIC, parse_delivery

__all__ = [
    "GENERIC",
    "Addressed",
    "DeliveryError",
    "InboundMessage",
    "Kind",
    "ParsedDelivery",
    "Platform",
    "SignatureError",
    "parse_delivery",
]
