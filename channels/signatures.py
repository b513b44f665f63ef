"""Proof that a delivery comes from the platform: HMAC signatures over the raw body, and the GET
handshakes with which Meta and X confirm that a webhook URL is Kilas's.

Every check compares in constant time (`hmac.compare_digest`) and fails closed: a missing,
malformed or non-ASCII header is a SignatureError with a reason, never another exception, and
an empty secret refuses everything rather than accepting what anyone could sign."""

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import datetime, timedelta

from kilas.channels.errors import SignatureError

META_SIGNATURE_HEADER = "X-Hub-Signature-256"
X_SIGNATURE_HEADER = "x-twitter-webhooks-signature"
GENERIC_TIMESTAMP_HEADER = "X-Kilas-Timestamp"
GENERIC_SIGNATURE_HEADER = "X-Kilas-Signature"
GENERIC_TOLERANCE = timedelta(seconds=300)

_PREFIX = "sha256="
_HEX = re.compile(r"[0-9a-fA-F]{64}", re.ASCII)
# Ten digits until 2286; a longer value is not a time any sender means.
_UNIX_SECONDS = re.compile(r"[0-9]{1,12}", re.ASCII)
# The challenge is echoed in a response body: only what Meta sends (digits) and nothing that a
# browser could take for markup.
_CHALLENGE = re.compile(r"[0-9A-Za-z_.-]{1,256}", re.ASCII)


def _utf8(text: str) -> bytes:
    # A lone surrogate (which a str can hold) encodes instead of raising UnicodeEncodeError.
    return text.encode("utf-8", "surrogatepass")


def _key(secret: str | bytes) -> bytes:
    key = _utf8(secret) if isinstance(secret, str) else secret
    if not key:
        raise SignatureError("no secret is configured")
    return key


def _mac(secret: str | bytes, message: bytes) -> bytes:
    return hmac.new(_key(secret), message, hashlib.sha256).digest()


def _claimed(header: str | None, name: str) -> str:
    """The part after `sha256=`, ASCII only: compare_digest refuses non-ASCII str with TypeError."""
    if header is None or header == "":
        raise SignatureError(f"missing {name}")
    if not header.isascii() or not header.startswith(_PREFIX):
        raise SignatureError(f"{name} is not sha256=…")
    return header[len(_PREFIX) :]


def _hex_digest(header: str | None, name: str) -> bytes:
    claimed = _claimed(header, name)
    if not _HEX.fullmatch(claimed):
        raise SignatureError(f"{name} is not 64 hex digits")
    return bytes.fromhex(claimed)


def _base64_digest(header: str | None, name: str) -> bytes:
    claimed = _claimed(header, name)
    try:
        digest = base64.b64decode(claimed, validate=True)
    except binascii.Error:
        raise SignatureError(f"{name} is not base64") from None
    if len(digest) != hashlib.sha256().digest_size:
        raise SignatureError(f"{name} is not a SHA-256 digest")
    return digest


def _match(expected: bytes, claimed: bytes) -> None:
    if not hmac.compare_digest(expected, claimed):
        raise SignatureError("signature does not match")


def verify_meta_signature(app_secret: str | bytes, body: bytes, header: str | None) -> None:
    """WhatsApp Cloud API, Instagram and Facebook Pages: `X-Hub-Signature-256: sha256=<hex
    HMAC-SHA256(app secret, raw body)>`."""
    claimed = _hex_digest(header, META_SIGNATURE_HEADER)
    _match(_mac(app_secret, body), claimed)


def meta_handshake(query: Mapping[str, str], verify_token: str) -> str:
    """The GET with which Meta confirms a callback URL: answer 200 with the returned challenge as
    the whole body (text/plain), or 403 on a SignatureError."""
    if query.get("hub.mode") != "subscribe":
        raise SignatureError("hub.mode is not subscribe")
    token = query.get("hub.verify_token")
    if not token:
        raise SignatureError("missing hub.verify_token")
    if not hmac.compare_digest(_utf8(token), _key(verify_token)):
        raise SignatureError("hub.verify_token does not match")
    challenge = query.get("hub.challenge")
    if not challenge:
        raise SignatureError("missing hub.challenge")
    if not _CHALLENGE.fullmatch(challenge):
        raise SignatureError("hub.challenge is not a token")
    return challenge


def x_crc_response(consumer_secret: str | bytes, crc_token: str | None) -> dict[str, str]:
    """X's challenge-response check (on registration and hourly after): the JSON to answer the
    GET `crc_token` with."""
    if not crc_token:
        raise SignatureError("missing crc_token")
    digest = _mac(consumer_secret, _utf8(crc_token))
    return {"response_token": _PREFIX + base64.b64encode(digest).decode()}


def verify_x_signature(consumer_secret: str | bytes, body: bytes, header: str | None) -> None:
    """X Account Activity API: `x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256(consumer
    secret, raw body)>`."""
    claimed = _base64_digest(header, X_SIGNATURE_HEADER)
    _match(_mac(consumer_secret, body), claimed)


def generic_signature(secret: str | bytes, timestamp: str, body: bytes) -> str:
    """The `X-Kilas-Signature` a sender of the generic intake puts beside `X-Kilas-Timestamp`."""
    return _PREFIX + _mac(secret, _utf8(timestamp) + b"." + body).hex()


def verify_generic_signature(
    secret: str | bytes,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    now: datetime,
    tolerance: timedelta = GENERIC_TOLERANCE,
) -> None:
    """The generic signed intake (SMS gateways, the hotline's call log, the SP4N-LAPOR! bridge):
    the signature covers the timestamp, so a body replayed later than `tolerance` is refused even
    though it was once signed."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not timestamp:
        raise SignatureError(f"missing {GENERIC_TIMESTAMP_HEADER}")
    if not _UNIX_SECONDS.fullmatch(timestamp):
        raise SignatureError(f"{GENERIC_TIMESTAMP_HEADER} is not unix seconds")
    claimed = _hex_digest(signature, GENERIC_SIGNATURE_HEADER)
    _match(_mac(secret, timestamp.encode() + b"." + body), claimed)
    # Judged only once the signature holds, so that the reason tells nothing to a stranger.
    age = now.timestamp() - int(timestamp)
    if age > tolerance.total_seconds():
        raise SignatureError("timestamp too old")
    if -age > tolerance.total_seconds():
        raise SignatureError("timestamp in the future")
