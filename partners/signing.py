"""Standard Webhooks signatures (https://www.standardwebhooks.com, the specification's
"Signature scheme"): the secret is "whsec_" + base64 of its key bytes; a message is signed as
`v1,` + base64(HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}")), sent in the
`webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature` headers. The
`standardwebhooks` packages on PyPI and npm verify what this module signs."""

import base64
import hashlib
import hmac
import secrets

PREFIX = "whsec_"
KEY_BYTES = 32


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def _key(secret: str) -> bytes:
    if not secret.startswith(PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    return base64.b64decode(secret[len(PREFIX) :], validate=True)


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers of a signed delivery."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
    }


def message_id(endpoint_id: int, event_id: int) -> str:
    """The same for every attempt at one event to one endpoint."""
    return f"msg_kilas_{endpoint_id}_{event_id}"
