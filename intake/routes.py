"""The platforms' webhooks at /channels/…: each verifies the platform's signature (or answers its
handshake), checks that the body reads as the platform documents it, stores the raw body in the
inbox, and only then answers 200, waking this instance's inbox worker. A bad or missing signature
gets 401, a body that does not read 400, and neither stores anything; a receiver whose secret is
not configured (production) answers 503."""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from kilas.channels import DeliveryError, Platform, SignatureError, parse_delivery, signatures
from kilas.db import inbox
from kilas.domain.clock import Clock
from kilas.intake.worker import INTAKE, parser_platform

log = logging.getLogger("kilas.intake")

Verify = Callable[[Request, bytes], None]


@dataclass(frozen=True)
class Secrets:
    """The secrets in use (Settings.channel_secret); None turns that receiver off."""

    meta_app_secret: str | None
    meta_verify_token: str | None
    x_consumer_secret: str | None
    intake_secret: str | None


def _refused(status: int, reason: str) -> Response:
    return JSONResponse({"error": reason}, status_code=status)


def _off(setting: str) -> Response:
    return _refused(503, f"this receiver is off: set {setting} to turn it on")


class ChannelRoutes:
    """The endpoints; `store` is reached through the app's state once the database is up."""

    def __init__(
        self,
        secrets: Secrets,
        clock: Clock,
        inbox_of: Callable[[Request], tuple[asyncpg.Pool, Callable[[], None]]],
    ) -> None:
        self.secrets = secrets
        self.clock = clock
        self.inbox_of = inbox_of

    async def _receive(self, request: Request, stored: str, verify: Verify) -> Response:
        body = await request.body()
        try:
            verify(request, body)
        except SignatureError as exc:
            log.warning("%s delivery refused: %s", stored, exc.reason)
            return _refused(401, exc.reason)
        try:
            parsed = parse_delivery(parser_platform(stored), body)
        except DeliveryError as exc:
            return _refused(400, exc.reason)
        pool, wake = self.inbox_of(request)
        async with pool.acquire() as conn:
            delivery_id = await inbox.store(conn, stored, body, self.clock.now())
        wake()
        return JSONResponse(
            {"received": delivery_id, "messages": len(parsed.messages), "ignored": parsed.ignored}
        )

    # Meta: WhatsApp Cloud API, Instagram, Facebook Pages.

    def meta(self, platform: Platform) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            if request.method == "GET":
                return self._meta_handshake(request)
            secret = self.secrets.meta_app_secret
            if secret is None:
                return _off("KILAS_META_APP_SECRET")

            def verify(request: Request, body: bytes) -> None:
                header = request.headers.get(signatures.META_SIGNATURE_HEADER)
                signatures.verify_meta_signature(secret, body, header)

            return await self._receive(request, platform.value, verify)

        return endpoint

    def _meta_handshake(self, request: Request) -> Response:
        token = self.secrets.meta_verify_token
        if token is None:
            return _off("KILAS_META_VERIFY_TOKEN")
        try:
            challenge = signatures.meta_handshake(request.query_params, token)
        except SignatureError as exc:
            return PlainTextResponse(exc.reason, status_code=403)
        return PlainTextResponse(challenge)

    # X Account Activity API.

    async def x(self, request: Request) -> Response:
        secret = self.secrets.x_consumer_secret
        if secret is None:
            return _off("KILAS_X_CONSUMER_SECRET")
        if request.method == "GET":
            try:
                answer = signatures.x_crc_response(secret, request.query_params.get("crc_token"))
            except SignatureError as exc:
                return _refused(400, exc.reason)
            return JSONResponse(answer)

        def verify(request: Request, body: bytes) -> None:
            header = request.headers.get(signatures.X_SIGNATURE_HEADER)
            signatures.verify_x_signature(secret, body, header)

        return await self._receive(request, Platform.X.value, verify)

    # The generic signed intake; its PARTNER key is checked by the route's access rule.

    async def generic(self, request: Request) -> Response:
        secret = self.secrets.intake_secret
        if secret is None:
            return _off("KILAS_INTAKE_SECRET")

        def verify(request: Request, body: bytes) -> None:
            signatures.verify_generic_signature(
                secret,
                body,
                request.headers.get(signatures.GENERIC_TIMESTAMP_HEADER),
                request.headers.get(signatures.GENERIC_SIGNATURE_HEADER),
                self.clock.now(),
            )

        return await self._receive(request, INTAKE, verify)
