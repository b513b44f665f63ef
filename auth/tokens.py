"""Bearer JWTs for staff applications: HS256 with a shared secret or RS256 with a public key,
whichever is configured (never both, never chosen by the token: its `alg` header must match).

Claims: `sub` (who), `role` (one of `Role`), `exp` (required), and for an OPD officer `opd`
(the OPD's slug); optional `name`, and `iss`/`aud` when configured."""

from dataclasses import dataclass
from datetime import UTC, datetime

import jwt

from kilas.auth.caller import Caller, Role

# Clock skew between the token issuer and Kilas that is still accepted.
LEEWAY_SECONDS = 30


class TokenError(Exception):
    """The bearer token is not valid."""


@dataclass(frozen=True)
class Claims:
    subject: str
    role: Role
    opd_slug: str | None
    region_code: str | None
    expires_at: datetime
    name: str | None


class JwtVerifier:
    def __init__(
        self,
        *,
        secret: str | None = None,
        public_key: str | None = None,
        issuer: str | None = None,
        audience: str | None = None,
    ) -> None:
        if (secret is None) == (public_key is None):
            raise ValueError("configure exactly one of a JWT secret (HS256) or public key (RS256)")
        key = secret if secret is not None else public_key
        assert key is not None
        self._key: str = key
        self._algorithm = "HS256" if secret is not None else "RS256"
        self._issuer = issuer
        self._audience = audience

    @property
    def algorithm(self) -> str:
        return self._algorithm

    def verify(self, token: str, now: datetime) -> Claims:
        try:
            payload = jwt.decode(
                token,
                self._key,
                algorithms=[self._algorithm],
                issuer=self._issuer,
                audience=self._audience,
                leeway=LEEWAY_SECONDS,
                options={
                    "require": ["exp", "sub"],
                    # Expiry is checked below against Kilas's clock, which tests can move.
                    "verify_exp": False,
                    "verify_aud": self._audience is not None,
                },
            )
        except jwt.InvalidTokenError as e:
            raise TokenError(f"the token is not valid: {e}") from None
        expires_at = _timestamp(payload.get("exp"), "exp")
        if (now - expires_at).total_seconds() > LEEWAY_SECONDS:
            raise TokenError("the token has expired")
        role_name = payload.get("role")
        try:
            role = Role(role_name)
        except ValueError:
            raise TokenError(f"the token's role {role_name!r} is not a Kilas role") from None
        if role is Role.PUBLIC:
            raise TokenError("a token cannot carry the PUBLIC role; send no token instead")
        opd = payload.get("opd")
        if role is Role.OPD_OFFICER and not isinstance(opd, str):
            raise TokenError("an OPD_OFFICER token must name its OPD in the `opd` claim (a slug)")
        region = payload.get("region")
        name = payload.get("name")
        return Claims(
            subject=str(payload["sub"]),
            role=role,
            opd_slug=opd if isinstance(opd, str) else None,
            region_code=region if isinstance(region, str) else None,
            expires_at=expires_at,
            name=name if isinstance(name, str) else None,
        )


def _timestamp(value: object, claim: str) -> datetime:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise TokenError(f"the token's `{claim}` claim must be a number of seconds")
    return datetime.fromtimestamp(value, UTC)


def caller_from_claims(claims: Claims, opd_id: int | None, address: str) -> Caller:
    return Caller(
        role=claims.role,
        subject=f"jwt:{claims.subject}",
        address=address,
        opd_id=opd_id,
        region_code=claims.region_code,
        expires_at=claims.expires_at,
        name=claims.name,
    )


def issue(
    secret: str,
    *,
    subject: str,
    role: Role,
    expires_at: datetime,
    opd_slug: str | None = None,
    region_code: str | None = None,
    name: str | None = None,
) -> str:
    """An HS256 token as `JwtVerifier` reads it: for `kilas token` and for tests. Production
    tokens come from the province's identity provider."""
    claims: dict[str, object] = {
        "sub": subject,
        "role": role.value,
        "exp": int(expires_at.timestamp()),
    }
    if opd_slug is not None:
        claims["opd"] = opd_slug
    if region_code is not None:
        claims["region"] = region_code
    if name is not None:
        claims["name"] = name
    return jwt.encode(claims, secret, algorithm="HS256")
