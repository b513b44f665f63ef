"""From an `Authorization` header to a `Caller`: no header is the public; `Bearer kls_…` is an
API key; any other bearer token is a JWT. A credential that is present but wrong is refused,
never downgraded to the public role."""

import time
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from kilas.auth import api_keys
from kilas.auth.caller import Caller, Role, public
from kilas.auth.tokens import JwtVerifier, TokenError, caller_from_claims
from kilas.db import api_keys as api_keys_db
from kilas.db.api_keys import ApiKeyRow, KeyStandingRow, StoredApiKeyRow
from kilas.domain.clock import Clock

# How long a verified API key is trusted without asking the database again: a revoked key stops
# working within this many seconds on every instance.
KEY_CACHE_SECONDS = 5.0
# `last_used_at` is written at most this often per key.
TOUCH_EVERY_SECONDS = 60.0


class AuthenticationError(Exception):
    """The credential is missing its form, unknown, expired or revoked."""

    code = "UNAUTHENTICATED"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def extensions(self) -> dict[str, str]:
        return {"code": self.code}


@dataclass
class _CachedKey:
    row: StoredApiKeyRow
    checked: float
    touched: float


class Authenticator:
    def __init__(self, pool: asyncpg.Pool, clock: Clock, verifier: JwtVerifier | None) -> None:
        self._pool = pool
        self._clock = clock
        self._verifier = verifier
        self._keys: dict[bytes, _CachedKey] = {}
        # For still_valid: key id -> (when checked, its revoked_at and expires_at).
        self._key_checks: dict[int, tuple[float, KeyStandingRow | None]] = {}
        self._opd_ids: dict[str, int | None] = {}

    async def authenticate(self, authorization: str | None, address: str = "") -> Caller:
        if authorization is None or not authorization.strip():
            return public(address)
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        # JWTs and API keys are ASCII; a socket's connection_init can send anything JSON holds.
        if scheme.lower() != "bearer" or not token or not token.isascii():
            raise AuthenticationError(
                "the Authorization header must be `Bearer <token>` (a JWT or a kls_ API key)"
            )
        if api_keys.looks_like_key(token):
            return await self._api_key(token, address)
        return await self._jwt(token, address)

    def known_valid(self, caller: Caller) -> bool | None:
        """`still_valid` when it can be told without the database (each delivery of a live
        stream asks); None when the key's revocation must be read again."""
        now = self._clock.now()
        if caller.expired(now):
            return False
        if caller.api_key_id is None:
            return True
        checked = self._key_checks.get(caller.api_key_id)
        if checked is None or time.monotonic() - checked[0] >= KEY_CACHE_SECONDS:
            return None
        return checked[1] is not None and key_refusal(checked[1], now) is None

    async def still_valid(self, caller: Caller) -> bool:
        """For what outlives a request (a socket's operations, a subscription's events): not
        expired, and an API key not revoked since, as of at most KEY_CACHE_SECONDS ago."""
        known = self.known_valid(caller)
        if known is not None:
            return known
        assert caller.api_key_id is not None  # only a key's standing is read again
        async with self._pool.acquire() as conn:
            rows = await api_keys_db.key_standings(conn, [caller.api_key_id])
        checked = self._remember_check(caller.api_key_id, rows[0] if rows else None)
        return checked[1] is not None and key_refusal(checked[1], self._clock.now()) is None

    async def ended_keys(self, key_ids: Collection[int]) -> dict[int, str]:
        """Of these keys, the ones no longer usable, each with why ("revoked" or "expired"),
        read now in one query; what it reads also answers `still_valid` for a while."""
        async with self._pool.acquire() as conn:
            rows = await api_keys_db.key_standings(conn, list(key_ids))
        found = {row.id: row for row in rows}
        now = self._clock.now()
        ended = {}
        for key_id in key_ids:
            row = found.get(key_id)
            self._remember_check(key_id, row)
            if row is None or row.revoked_at is not None:
                ended[key_id] = "revoked"
            elif key_refusal(row, now) is not None:
                ended[key_id] = "expired"
        if ended:
            # Nor does this instance take them again for what is left of KEY_CACHE_SECONDS.
            for digest, cached in list(self._keys.items()):
                if cached.row.id in ended:
                    del self._keys[digest]
        return ended

    def _remember_check(
        self, key_id: int, row: KeyStandingRow | None
    ) -> tuple[float, KeyStandingRow | None]:
        checked = (time.monotonic(), row)
        if len(self._key_checks) > 10_000:
            self._key_checks.clear()
        self._key_checks[key_id] = checked
        return checked

    async def _jwt(self, token: str, address: str) -> Caller:
        if self._verifier is None:
            raise AuthenticationError(
                "this Kilas accepts no JWTs (neither KILAS_JWT_SECRET nor KILAS_JWT_PUBLIC_KEY "
                "is set); partner apps use an API key"
            )
        try:
            claims = self._verifier.verify(token, self._clock.now())
        except TokenError as e:
            raise AuthenticationError(str(e)) from None
        opd_id = None
        if claims.opd_slug is not None:
            opd_id = await self._opd_id(claims.opd_slug)
            if opd_id is None:
                raise AuthenticationError(f"the token's OPD {claims.opd_slug!r} does not exist")
        return caller_from_claims(claims, opd_id, address)

    async def _opd_id(self, slug: str) -> int | None:
        if slug not in self._opd_ids:
            async with self._pool.acquire() as conn:
                value = await conn.fetchval("SELECT id FROM opds WHERE slug = $1", slug)
            if value is None:
                return None  # not cached: the OPD may be created later
            self._opd_ids[slug] = int(value)
        return self._opd_ids[slug]

    async def _api_key(self, key: str, address: str) -> Caller:
        prefix = api_keys.prefix_of(key)
        if prefix is None:
            raise AuthenticationError("the API key is malformed")
        digest = api_keys.key_hash(key)
        now = self._clock.now()
        cached = self._keys.get(digest)
        mono = time.monotonic()
        if cached is None or mono - cached.checked >= KEY_CACHE_SECONDS:
            async with self._pool.acquire() as conn:
                row = await api_keys_db.key_by_prefix(conn, prefix)
            if row is None or not api_keys.matches(key, row.key_hash):
                self._keys.pop(digest, None)
                raise AuthenticationError("the API key is not known")
            cached = _CachedKey(row, mono, cached.touched if cached else 0.0)
            if len(self._keys) > 10_000:
                self._keys.clear()
            self._keys[digest] = cached
        problem = key_refusal(cached.row, now)
        if problem is not None:
            raise AuthenticationError(problem)
        if mono - cached.touched >= TOUCH_EVERY_SECONDS:
            cached.touched = mono
            async with self._pool.acquire() as conn:
                await api_keys_db.touch_key(conn, cached.row.id, now)
        return key_caller(cached.row, address)


def key_caller(row: ApiKeyRow, address: str = "") -> Caller:
    """The caller an API key makes (its role, scope and expiry)."""
    return Caller(
        role=Role(row.role),
        subject=f"key:{row.id}",
        address=address,
        opd_id=row.opd_id,
        region_code=row.region_code,
        expires_at=row.expires_at,
        api_key_id=row.id,
        name=row.name,
    )


def key_standing(row: ApiKeyRow | None, now: datetime) -> str | None:
    """Why a key that something was registered for (a webhook endpoint) may not act for it
    now: gone, revoked or expired; None while it may."""
    return "the API key is gone" if row is None else key_refusal(row, now)


def key_refusal(row: ApiKeyRow | KeyStandingRow, now: datetime) -> str | None:
    """Why a key may not be used now (revoked, expired), if it may not."""
    if row.revoked_at is not None:
        return "the API key has been revoked"
    if row.expires_at is not None and now >= row.expires_at:
        return "the API key has expired"
    return None
