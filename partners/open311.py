"""Open311 GeoReport v2 at /open311/v2/ (http://wiki.open311.org/GeoReport_v2), for the
partners and national tools that speak it: discovery, services (Kilas's categories), service
requests (complaints as their caller may see them, never personal data or the tracking number)
and tokens, each as .json or .xml, with the specification's error format.

GET is open (the public's view; with `api_key`, or a Bearer credential, that caller's);
POST requests needs a PARTNER `api_key` and makes a complaint through the same command as
`submitComplaint` (channel APP, the duplicate search, the live stream). Its answer carries the
GeoReport id (the complaint's global id, as `node(id:)` takes it) and a token the partner can
look the request up by; the tracking number stays the reporter's proof and is not in it."""

import json
import math
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from kilas.auth.authenticator import AuthenticationError
from kilas.auth.caller import Caller, Role, caller_of, client_address
from kilas.auth.policy import visibility
from kilas.db import complaints as complaints_db
from kilas.db import open311 as open311_db
from kilas.db import reference as reference_db
from kilas.domain import workflow
from kilas.domain.errors import DomainError
from kilas.intake.regions import RegionCache, RegionSource
from kilas.live.publish import run_and_publish
from kilas.partners import open311_format as fmt
from kilas.schema.ids import decode_id

BASE = "/open311/v2"
# An Open311 submission is a partner app's: channel APP, its token the external reference.
CHANNEL = "APP"
TOKEN_PREFIX = "open311:"
MAX_WINDOW = timedelta(days=90)
MAX_IDS = 100


class Refusal(Exception):
    """An answer in the specification's error format."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _format(request: Request) -> str:
    found = str(request.path_params.get("format", ""))
    if found not in fmt.FORMATS:
        raise Refusal(404, f"unknown format {found!r}: use .json or .xml")
    return found


def _answer(request: Request, value: Any, root: str, status: int = 200) -> Response:
    kind = _format(request)
    return Response(fmt.body(value, kind, root), status, media_type=fmt.FORMATS[kind])


def _refused(request: Request, refusal: Refusal) -> Response:
    found = str(request.path_params.get("format", ""))
    kind = found if found in fmt.FORMATS else "json"
    body = fmt.body(fmt.errors(refusal.status, refusal.description), kind, "errors")
    return Response(body, refusal.status, media_type=fmt.FORMATS[kind])


def _endpoint(
    handler: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            _format(request)
            return await handler(request)
        except Refusal as refusal:
            return _refused(request, refusal)

    return endpoint


async def _params(request: Request) -> dict[str, str]:
    """The query string, and a POST's form (urlencoded, as the specification sends it, or a
    JSON object), one value per name (the first)."""
    values = dict(request.query_params.items())
    if "api_key" in values:
        # Out of the access log, which writes the request's query string as the scope holds it.
        kept = [(k, v) for k, v in request.query_params.multi_items() if k != "api_key"]
        request.scope["query_string"] = urlencode(kept).encode()
    if request.method == "POST":
        raw = await request.body()
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            if kind == "application/json":
                decoded = json.loads(raw or b"{}")
                if not isinstance(decoded, dict):
                    raise Refusal(400, "the body is a JSON object of the request's fields")
                form = {str(k): "" if v is None else str(v) for k, v in decoded.items()}
            else:
                form = {k: v[0] for k, v in parse_qs(raw.decode(), keep_blank_values=True).items()}
        except (ValueError, UnicodeDecodeError):
            raise Refusal(
                400, "the body is not a form (application/x-www-form-urlencoded)"
            ) from None
        values.update(form)
    if "\x00" in "".join(values) + "".join(values.values()):
        raise Refusal(400, "a parameter holds a NUL character")
    return values


async def _caller(request: Request, params: dict[str, str]) -> Caller:
    """`api_key` when given (Open311's way), else the request's own credential."""
    key = params.get("api_key", "").strip()
    if not key:
        return caller_of(request.scope)
    state = request.app.state.kilas
    try:
        return await state.authenticator.authenticate(
            f"Bearer {key}", client_address(request.scope)
        )
    except AuthenticationError as error:
        raise Refusal(403, f"api_key: {error.message}") from None


def _moment(params: dict[str, str], name: str) -> datetime | None:
    value = params.get(name, "").strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Refusal(400, f"{name} is a W3C time such as 2026-11-20T00:00:00Z") from None
    if moment.tzinfo is None:
        raise Refusal(400, f"{name} needs its offset (Z or +07:00)")
    return moment


def _list(params: dict[str, str], name: str) -> list[str] | None:
    value = params.get(name, "").strip()
    return [part.strip() for part in value.split(",") if part.strip()] or None


def _request_ids(values: list[str]) -> list[int]:
    if len(values) > MAX_IDS:
        raise Refusal(400, f"at most {MAX_IDS} service_request_id at once")
    try:
        return [decode_id(value, "Complaint", "service_request_id") for value in values]
    except DomainError:
        raise Refusal(400, "service_request_id is a comma-separated list of request ids") from None


def _query(params: dict[str, str], now: datetime) -> open311_db.RequestQuery:
    ids = _list(params, "service_request_id")
    if ids is not None:
        return open311_db.RequestQuery(_request_ids(ids), None, None, None, None)
    statuses: list[str] | None = None
    for status in _list(params, "status") or []:
        if status not in ("open", "closed"):
            raise Refusal(400, f"status is open or closed, not {status!r}")
        statuses = (statuses or []) + list(fmt.OPEN if status == "open" else fmt.CLOSED)
    start, end = _moment(params, "start_date"), _moment(params, "end_date")
    # The specification's window: the last 90 days unless given, never more than 90 days.
    if start is None:
        start = (end or now) - MAX_WINDOW
    elif end is not None and end - start > MAX_WINDOW:
        raise Refusal(400, "start_date and end_date span at most 90 days")
    if end is not None and end < start:
        raise Refusal(400, "end_date is before start_date")
    return open311_db.RequestQuery(None, _list(params, "service_code"), statuses, start, end)


async def _visible_request(
    conn: Any, complaint_id: int, caller: Caller
) -> open311_db.RequestRow | None:
    """One complaint as a service request, if the caller may see it."""
    query = open311_db.RequestQuery([complaint_id], None, None, None, None)
    rows = await open311_db.requests(conn, query, visibility(caller))
    return rows[0] if rows else None


class Open311:
    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self._regions = RegionCache(settings.default_region, settings.province.aliases)

    def routes(self) -> list[Route]:
        get, post = ["GET"], ["POST"]
        return [
            Route(f"{BASE}/discovery.{{format}}", _endpoint(self.discovery), methods=get),
            Route(f"{BASE}/services.{{format}}", _endpoint(self.services), methods=get),
            Route(f"{BASE}/services/{{code}}.{{format}}", _endpoint(self.service), methods=get),
            Route(f"{BASE}/requests.{{format}}", _endpoint(self.requests), methods=get + post),
            Route(f"{BASE}/requests/{{id}}.{{format}}", _endpoint(self.request), methods=get),
            Route(f"{BASE}/tokens/{{token}}.{{format}}", _endpoint(self.token), methods=get),
        ]

    async def discovery(self, request: Request) -> Response:
        base = str(request.base_url).rstrip("/") + BASE + "/"
        changeset = "2026-12-02T00:00:00+07:00"
        return _answer(
            request,
            {
                "changeset": changeset,
                "contact": f"{self.settings.province.command_center}, through the Kilas operators",
                "key_service": "A PARTNER API key from the command center's ADMIN "
                "(kilas apikey create --role PARTNER)",
                "endpoints": [
                    {
                        "specification": fmt.SPECIFICATION,
                        "url": base,
                        "changeset": changeset,
                        "type": "production" if self.settings.production else "test",
                        "formats": ["application/json", "text/xml"],
                    }
                ],
            },
            "discovery",
        )

    async def services(self, request: Request) -> Response:
        pool = request.app.state.kilas.pool
        async with pool.acquire() as conn:
            categories = await reference_db.all_categories(conn)
            opds = {row.id: row for row in await reference_db.all_opds(conn)}
        return _answer(request, [fmt.service(c, opds) for c in categories], "services")

    async def service(self, request: Request) -> Response:
        code = str(request.path_params["code"])
        pool = request.app.state.kilas.pool
        async with pool.acquire() as conn:
            found = [c for c in await reference_db.all_categories(conn) if c.code == code]
        if not found:
            raise Refusal(404, f"no service {code!r}: GET services for the codes")
        return _answer(request, fmt.service_definition(found[0]), "service_definition")

    async def requests(self, request: Request) -> Response:
        if request.method == "POST":
            return await self.submit(request)
        params = await _params(request)
        caller = await _caller(request, params)
        state = request.app.state.kilas
        query = _query(params, state.clock.now())
        async with state.pool.acquire() as conn:
            rows = await open311_db.requests(conn, query, visibility(caller))
        return _answer(request, [fmt.service_request(r) for r in rows], "service_requests")

    async def request(self, request: Request) -> Response:
        params = await _params(request)
        caller = await _caller(request, params)
        (complaint_id,) = _request_ids([str(request.path_params["id"])])
        async with request.app.state.kilas.pool.acquire() as conn:
            row = await _visible_request(conn, complaint_id, caller)
        if row is None:
            raise Refusal(404, f"no service request {request.path_params['id']}")
        return _answer(request, [fmt.service_request(row)], "service_requests")

    async def token(self, request: Request) -> Response:
        params = await _params(request)
        caller = await _caller(request, params)
        token = str(request.path_params["token"])
        state = request.app.state.kilas
        async with state.pool.acquire() as conn:
            row = await complaints_db.complaint_by_channel_ref(conn, CHANNEL, TOKEN_PREFIX + token)
            visible = await _visible_request(conn, row.id, caller) if row is not None else None
        if visible is None:
            raise Refusal(404, f"no service request has the token {token!r}")
        found = fmt.service_request_id(visible.id)
        return _answer(request, [{"token": token, "service_request_id": found}], "service_requests")

    async def submit(self, request: Request) -> Response:
        params = await _params(request)
        caller = await _caller(request, params)
        if caller.role is not Role.PARTNER:
            raise Refusal(403, "POST requests needs the api_key of a PARTNER")
        state = request.app.state.kilas
        submission = await self._submission(state, params)
        token = uuid.uuid4().hex
        submission = replace(submission, external_ref=TOKEN_PREFIX + token)
        now = state.clock.now()
        try:
            outcome = await run_and_publish(
                state.pool,
                state.bus,
                state.hub,
                lambda conn: workflow.submit(
                    conn,
                    submission,
                    actor=caller.subject,
                    at=now,
                    duplicates=self.settings.duplicate_search,
                ),
            )
        except DomainError as error:
            raise Refusal(400, f"{error.field or 'request'}: {error.message}") from None
        answer = {
            "service_request_id": fmt.service_request_id(outcome.complaint.id),
            "token": token,
            "service_notice": "Diterima; pusat komando memverifikasi dan meneruskannya ke OPD "
            "yang bertanggung jawab dalam 1x24 jam",
            "account_id": None,
        }
        return _answer(request, [answer], "service_requests")

    async def _submission(self, state: Any, params: dict[str, str]) -> workflow.Submission:
        code = params.get("service_code", "").strip()
        if not code:
            raise Refusal(400, "service_code is required: GET services for the codes")
        description = params.get("description", "").strip()
        if not description:
            raise Refusal(400, "description is required: what is wrong, and where")
        location = _location(params)
        address = params.get("address_string", "").strip()
        if location is None and not address:
            raise Refusal(400, "a location is required: lat and long, or address_string")
        async with state.pool.acquire() as conn:
            categories = {c.code for c in await reference_db.all_categories(conn)}
            regions = await self._regions.finder(lambda: reference_db.all_regions(conn))
        if code not in categories:
            raise Refusal(400, f"no service {code!r}: GET services for the codes")
        located = regions.locate(f"{address} {description}", location)
        if located.source is RegionSource.DEFAULT:
            raise Refusal(
                400,
                f"the location is not in {self.settings.province.name_en}: give lat and long "
                "there, or an address_string that names its regency or city",
            )
        name = " ".join(
            part
            for part in (params.get("first_name", "").strip(), params.get("last_name", "").strip())
            if part
        )
        contact = params.get("phone", "").strip() or params.get("email", "").strip()
        media = params.get("media_url", "").strip()
        text = description if not address else f"{description}\n\nLokasi: {address}"
        return workflow.Submission(
            channel=CHANNEL,
            text=text,
            region_code=located.code,
            category_code=code,
            reporter_name=name or None,
            reporter_contact=contact or None,
            lat=location[0] if location else None,
            lon=location[1] if location else None,
            media_urls=(media,) if media else (),
        )


def _location(params: dict[str, str]) -> tuple[float, float] | None:
    lat, lon = params.get("lat", "").strip(), params.get("long", "").strip()
    if not lat and not lon:
        return None
    try:
        point = float(lat), float(lon)
    except ValueError:
        raise Refusal(400, "lat and long are decimal degrees (WGS84)") from None
    if not all(math.isfinite(v) for v in point) or not (
        -90 <= point[0] <= 90 and -180 <= point[1] <= 180
    ):
        raise Refusal(400, "lat is -90 to 90 and long -180 to 180")
    return point
