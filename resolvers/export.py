"""CSV downloads over plain HTTP, for spreadsheets: OPD performance over a period, and the
complaints matching a filter. The complaint file is streamed from a server-side cursor, so a
year of complaints never sits in memory; neither file carries a reporter's personal data."""

import csv
import io
import re
from collections.abc import AsyncGenerator, Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any

import anyio
import asyncpg
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from kilas.auth.caller import caller_of
from kilas.auth.policy import visibility
from kilas.db import performance as performance_db
from kilas.db import reference as reference_db
from kilas.db.complaints import ComplaintFilter
from kilas.db.performance import ExportedComplaintRow, OpdPerformanceRow
from kilas.db.pool import Connection
from kilas.domain.clock import Clock
from kilas.domain.errors import DomainError
from kilas.domain.lifecycle import Channel, Status
from kilas.schema.ids import WIB, utc_moment
from kilas.schema.performance import period

# Rows per chunk written to the socket: big enough to send few chunks, small enough to stream.
CHUNK_ROWS = 500
_REGION_CODE = re.compile(r"[0-9]{2}\.[0-9]{2}")
_LOST_PLUS = re.compile(r"([0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?) ([0-9]{2}:?[0-9]{2})$")
# A cell a spreadsheet would run as a formula (CSV injection); complaint text is citizens' input.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

OPD_PERFORMANCE_HEADER = [
    "opd_slug", "opd_short_name", "opd_name", "received", "resolved", "backlog",
    "median_response_hours", "p90_response_hours", "median_resolution_hours",
    "p90_resolution_hours", "responses_decided", "responses_on_time", "response_sla_share",
    "breaches", "escalations", "average_rating", "ratings",
]  # fmt: skip

COMPLAINTS_HEADER = [
    "tracking_number", "status", "channel", "category_code", "region_code", "region_name",
    "opd_slug", "opd_short_name", "text", "lat", "lon", "created_at", "assigned_at",
    "response_due_at", "first_response_at", "resolution_due_at", "resolved_at", "closed_at",
    "response_breached_at", "resolution_breached_at", "escalation_level", "rating",
    "rejection_reason",
]  # fmt: skip


class BadRequest(Exception):
    """The query string is not one this endpoint understands."""


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(WIB).isoformat()
    if isinstance(value, float):
        # Hours to a third of a second, shares to a hundredth of a percent: what a reader uses.
        return round(value, 4)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    if value is None:
        return ""
    return value


def _csv(rows: Iterable[Iterable[Any]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def _one(request: Request, name: str) -> str | None:
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise BadRequest(f"give {name} at most once")
    value = values[0].strip() if values else ""
    return value or None


def _moment(text: str, name: str) -> datetime:
    # An unencoded "+07:00" in a query string arrives as " 07:00"; read it as meant.
    text = _LOST_PLUS.sub(r"\1+\2", text)
    try:
        return utc_moment(datetime.fromisoformat(text), name)
    except ValueError:
        raise BadRequest(
            f"{name} must be an ISO date or time, e.g. 2026-11-01 or 2026-11-01T08:00+07:00 "
            f"(got {text!r})"
        ) from None
    except DomainError as error:
        raise BadRequest(error.message) from None


def _period(request: Request) -> tuple[datetime, datetime]:
    start, end = _one(request, "from"), _one(request, "to")
    if start is None or end is None:
        raise BadRequest("from and to are required, e.g. ?from=2026-11-01&to=2026-12-01")
    try:
        return period(_moment(start, "from"), _moment(end, "to"))
    except DomainError as error:
        raise BadRequest(error.message) from None


def _now(request: Request) -> datetime:
    clock: Clock = request.app.state.kilas.clock
    return clock.now()


def _bad_request(error: BadRequest) -> Response:
    return PlainTextResponse(f"{error}\n", status_code=400)


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def _opd_performance_line(row: OpdPerformanceRow) -> list[object]:
    """The values of OPD_PERFORMANCE_HEADER, in its order."""
    return [
        row.slug, row.short_name, row.name, row.received, row.resolved, row.backlog,
        row.median_response_hours, row.p90_response_hours, row.median_resolution_hours,
        row.p90_resolution_hours, row.responses_decided, row.responses_on_time,
        row.response_sla_share, row.breaches, row.escalations, row.average_rating, row.ratings,
    ]  # fmt: skip


async def opd_performance_csv(request: Request) -> Response:
    """GET /export/opd-performance.csv?from=…&to=… — one line per OPD; `to` is exclusive."""
    try:
        start, end = _period(request)
    except BadRequest as error:
        return _bad_request(error)
    async with request.app.state.kilas.pool.acquire() as conn:
        rows = await performance_db.opd_performance(conn, start, end, _now(request))
    lines = [OPD_PERFORMANCE_HEADER]
    lines += [[_cell(value) for value in _opd_performance_line(row)] for row in rows]
    name = f"opd-performance_{start.astimezone(WIB):%Y%m%d}-{end.astimezone(WIB):%Y%m%d}.csv"
    return Response(_csv(lines), media_type="text/csv; charset=utf-8", headers=_attachment(name))


def _members(request: Request, name: str, known: type[StrEnum]) -> list[str]:
    """A repeatable parameter naming enum members, e.g. ?status=ASSIGNED&status=IN_PROGRESS."""
    values = [v.strip().upper() for v in request.query_params.getlist(name) if v.strip()]
    for value in values:
        if value not in known.__members__:
            raise BadRequest(f"unknown {name} {value!r}; one of {', '.join(known.__members__)}")
    return values


async def _filter(request: Request, conn: Connection) -> ComplaintFilter:
    params = request.query_params
    if any("\x00" in value for _, value in params.multi_items()):
        raise BadRequest("parameters must not contain NUL characters")
    unknown = set(params) - {"status", "opd", "region", "category", "channel", "from", "to",
                             "search"}  # fmt: skip
    if unknown:
        raise BadRequest(f"unknown parameter(s): {', '.join(sorted(unknown))}")
    statuses = _members(request, "status", Status)
    channels = _members(request, "channel", Channel)
    opd_id = None
    if (slug := _one(request, "opd")) is not None:
        opd = await reference_db.opd_by_slug(conn, slug.lower())
        if opd is None:
            raise BadRequest(f"no OPD has the slug {slug!r}")
        opd_id = opd.id
    region = _one(request, "region")
    if region is not None and (
        not _REGION_CODE.fullmatch(region)
        or not await reference_db.regions_by_codes(conn, [region])
    ):
        raise BadRequest(f"no region has the code {region!r} (codes look like 33.74)")
    category = _one(request, "category")
    if category is not None:
        category = category.upper()
        if not await reference_db.categories_by_codes(conn, [category]):
            raise BadRequest(f"no category has the code {category!r}")
    search = _one(request, "search")
    if search is not None and len(search) > 200:
        raise BadRequest("search text is longer than 200 characters")
    start, end = _one(request, "from"), _one(request, "to")
    created_from = _moment(start, "from") if start else None
    created_before = _moment(end, "to") if end else None
    if created_from and created_before and created_from >= created_before:
        raise BadRequest("to must be later than from")
    return ComplaintFilter(
        visibility=visibility(caller_of(request.scope)),
        statuses=statuses or None,
        opd_id=opd_id,
        region_code=region,
        category_code=category,
        channels=channels or None,
        created_from=created_from,
        created_before=created_before,
        search=search,
    )


def _complaint_line(row: ExportedComplaintRow) -> list[object]:
    """The values of COMPLAINTS_HEADER, in its order. A confidential complaint is listed and
    counted, but its words stay inside Kilas."""
    return [
        row.tracking_number, row.status, row.channel, row.category_code, row.region_code,
        row.region_name, row.opd_slug, row.opd_short_name, "" if row.confidential else row.text,
        row.lat, row.lon, row.created_at, row.assigned_at, row.response_due_at,
        row.first_response_at, row.resolution_due_at, row.resolved_at, row.closed_at,
        row.response_breached_at, row.resolution_breached_at, row.escalation_level, row.rating,
        row.rejection_reason,
    ]  # fmt: skip


class _ClosingStreamingResponse(StreamingResponse):
    """Closes its generator when the client hangs up: Starlette only stops iterating it, and
    the cursor, its transaction and the pooled connection would wait for the garbage collector."""

    def __init__(self, chunks: AsyncGenerator[str, None], **kwargs: Any) -> None:
        super().__init__(chunks, **kwargs)
        self._chunks = chunks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                await self._chunks.aclose()


async def _complaint_chunks(pool: asyncpg.Pool, f: ComplaintFilter) -> AsyncGenerator[str, None]:
    yield _csv([COMPLAINTS_HEADER])
    async with pool.acquire() as conn:
        transaction = conn.transaction(readonly=True)
        await transaction.start()
        try:
            batch: list[list[Any]] = []
            async for row in performance_db.stream_complaints(conn, f):
                batch.append([_cell(value) for value in _complaint_line(row)])
                if len(batch) >= CHUNK_ROWS:
                    yield _csv(batch)
                    batch = []
            if batch:
                yield _csv(batch)
        finally:
            # A client that hangs up cancels the download, and anyio cancels again at every
            # await: shield the rollback, or the connection would go back mid-transaction.
            with anyio.CancelScope(shield=True):
                if not conn.is_closed():
                    await transaction.rollback()


async def complaints_csv(request: Request) -> Response:
    """GET /export/complaints.csv?status=…&opd=…&region=…&category=…&channel=…&from=…&to=…
    &search=… — status and channel repeat; from/to bound the creation time, `to` exclusive.
    For the roles auth.rules.ROUTES names (resolvers.enforce.guarded_routes)."""
    pool: asyncpg.Pool = request.app.state.kilas.pool
    try:
        async with pool.acquire() as conn:
            f = await _filter(request, conn)
    except BadRequest as error:
        return _bad_request(error)
    return _ClosingStreamingResponse(
        _complaint_chunks(pool, f),
        media_type="text/csv; charset=utf-8",
        headers=_attachment("complaints.csv"),
    )
