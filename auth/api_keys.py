"""API keys for partner apps: `kls_<prefix>_<secret>`, random, shown once. Only the prefix (to
find the row) and a SHA-256 of the whole key are stored: the key has 256 bits of randomness, so a
fast hash is enough, and a stolen table does not give working keys."""

import hashlib
import hmac
import re
import secrets

KEY_PATTERN = re.compile(r"^kls_([A-Za-z0-9]{8})_([A-Za-z0-9_-]{43})$")


def new_key() -> tuple[str, str]:
    """(key, prefix)."""
    prefix = secrets.token_hex(4)
    return f"kls_{prefix}_{secrets.token_urlsafe(32)}", prefix


def key_hash(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def prefix_of(key: str) -> str | None:
    match = KEY_PATTERN.match(key)
    return match.group(1) if match else None


def matches(key: str, stored_hash: bytes) -> bool:
    return hmac.compare_digest(key_hash(key), stored_hash)


def looks_like_key(token: str) -> bool:
    return token.startswith("kls_")
