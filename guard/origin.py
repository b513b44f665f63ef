"""Which pages may open a WebSocket here. strawberry's own check takes an Origin with this
server's host and port for the same origin whatever its scheme, so a page on https://host could
open a socket to http://host; here the scheme must match too. Behind a proxy that ends TLS, the
proxy's X-Forwarded-Proto (trusted as uvicorn's FORWARDED_ALLOW_IPS says) tells the scheme, or
the https origin is listed in KILAS_ALLOWED_ORIGINS."""

import logging
from collections.abc import Collection

from starlette.datastructures import Headers
from starlette.types import Scope
from strawberry.http.websocket_origin import normalize_origin

log = logging.getLogger("kilas.guard")

_PAGE_SCHEMES = {"ws": "http", "wss": "https", "http": "http", "https": "https"}


def own_origin(scope: Scope, host: str | None) -> str | None:
    """The origin of a page served by the server this request reached."""
    scheme = _PAGE_SCHEMES.get(str(scope.get("scheme", "ws")))
    if scheme is None or not host:
        return None
    return normalize_origin(f"{scheme}://{host}")


def origin_allowed(scope: Scope, allowed_origins: Collection[str]) -> bool:
    """Whether this WebSocket handshake may go on: no Origin (not a browser), the same scheme,
    host and port as the server, or one of `allowed_origins` (normalised; "*" for any)."""
    headers = Headers(scope=scope)
    origin = headers.get("origin")
    if origin is None or "*" in allowed_origins:
        return True
    # The browser's own comparison, of scheme, host and port.
    if headers.get("sec-fetch-site") == "same-origin":
        return True
    normalized = normalize_origin(origin)
    if normalized is not None and (
        normalized == own_origin(scope, headers.get("host")) or normalized in allowed_origins
    ):
        return True
    log.warning(
        "refused a WebSocket from the page origin %r to %s://%s: not this server's origin "
        "(scheme, host and port) nor in KILAS_ALLOWED_ORIGINS",
        origin,
        scope.get("scheme"),
        headers.get("host"),
    )
    return False
