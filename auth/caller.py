"""The caller of a request or subscription, as established by `auth.authenticator`."""

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from starlette.types import Scope

# Where AuthMiddleware puts the caller of an HTTP request.
CALLER_KEY = "kilas.caller"


class Role(Enum):
    PUBLIC = "PUBLIC"
    OPD_OFFICER = "OPD_OFFICER"
    OPERATOR = "OPERATOR"
    SUPERVISOR = "SUPERVISOR"
    PARTNER = "PARTNER"
    ADMIN = "ADMIN"


# Roles that staff hold; personal data is written to the access log when they read it.
STAFF = frozenset({Role.OPD_OFFICER, Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN})


@dataclass(frozen=True)
class Caller:
    role: Role
    # "jwt:<sub>", "key:<id>" or "public"; what events and the access log record as the actor.
    subject: str
    # Where the caller came from (the client address), for the access log and rate limits.
    address: str = ""
    # An OPD officer's unit; for a partner key, the OPD and/or region it is scoped to.
    opd_id: int | None = None
    region_code: str | None = None
    expires_at: datetime | None = None
    api_key_id: int | None = None
    name: str | None = None

    @property
    def key(self) -> str:
        """Whom a rate limit or a connection limit counts: a credential, else an address."""
        return self.subject if self.role is not Role.PUBLIC else f"public:{self.address}"

    @property
    def is_public(self) -> bool:
        return self.role is Role.PUBLIC

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at


def public(address: str = "") -> Caller:
    return Caller(role=Role.PUBLIC, subject="public", address=address)


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""


def caller_of(scope: Scope) -> Caller:
    """The caller AuthMiddleware established, or the public at the client's address (a
    WebSocket before its connection_init)."""
    caller: Caller | None = scope.get(CALLER_KEY)
    return caller if caller is not None else public(client_address(scope))
