"""Where a webhook may point. In production: an https:// URL whose host is, and resolves to,
public addresses only (never the machine itself, its private network, link-local metadata
services and the like), without credentials in it. Elsewhere (development, tests) http:// and
local hosts are allowed too, so that a partner's receiver on 127.0.0.1 can be tried."""

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

MAX_URL = 2000


class UrlRefused(ValueError):
    """Why a URL may not be a webhook's endpoint."""


def check_url(url: str, *, production: bool) -> str:
    """The URL as stored; raises UrlRefused with the reason."""
    url = url.strip()
    if not url or len(url) > MAX_URL:
        raise UrlRefused(f"a webhook URL has 1 to {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlRefused(f"not a URL: {exc}") from None
    allowed = ("https",) if production else ("https", "http")
    if parts.scheme not in allowed:
        raise UrlRefused(
            "a webhook URL must be https://" if production else "a webhook URL is http(s)://"
        )
    if not parts.hostname:
        raise UrlRefused("a webhook URL names a host")
    if parts.username is not None or parts.password is not None:
        raise UrlRefused("a webhook URL carries no credentials: the signature authenticates")
    if parts.fragment:
        raise UrlRefused("a webhook URL has no #fragment")
    if port == 0:
        raise UrlRefused("a webhook URL's port is 1-65535")
    if production:
        host = parts.hostname
        if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
            raise UrlRefused(f"{host} is not a public host")
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None and not literal.is_global:
            raise UrlRefused(f"{host} is not a public address")
    return url


async def check_destination(url: str, *, production: bool) -> None:
    """In production, that the URL's host resolves to public addresses only (checked again
    before every delivery: a name may come to point inside later)."""
    if not production:
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise UrlRefused(f"{host} does not resolve: {exc}") from None
    for *_, address in found:
        ip = ipaddress.ip_address(address[0])
        if not ip.is_global:
            raise UrlRefused(f"{host} resolves to {ip}, which is not a public address")
