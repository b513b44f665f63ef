"""The CSV downloads over real HTTP: headers, rows, filters, plain 400s for bad parameters, no
reporter personal data, and a complaint file streamed in chunks however long it is."""

import asyncio
import csv
import io
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest

from kilas.domain.clock import ManualClock
from kilas.schema.ids import WIB
from tests._performance_helpers import insert_complaint, seed
from tests.wire import RunningServer, http_client, start_server, token

COMPLAINT_COLUMNS = [
    "tracking_number", "status", "channel", "category_code", "region_code", "region_name",
    "opd_slug", "opd_short_name", "text", "lat", "lon", "created_at", "assigned_at",
    "response_due_at", "first_response_at", "resolution_due_at", "resolved_at", "closed_at",
    "response_breached_at", "resolution_breached_at", "escalation_level", "rating",
    "rejection_reason",
]  # fmt: skip


def base(server: RunningServer) -> str:
    return f"http://127.0.0.1:{server.port}"


def table(body: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body, newline="")))


async def download(server: RunningServer, path: str, params: Any = None) -> tuple[int, Any, str]:
    async with http_client() as client:
        response = await client.get(base(server) + path, params=params)
    return response.status_code, response.headers, response.text


async def insert(
    conn: asyncpg.Connection,
    number: str,
    *,
    created: datetime,
    status: str = "RECEIVED",
    opd: str | None = None,
    region: str = "33.74",
    category: str | None = "JALAN",
    channel: str = "X",
    text: str = "Jalan provinsi berlubang besar.",
    confidential: bool = False,
) -> None:
    await conn.execute(
        """
        INSERT INTO complaints (tracking_number, channel, text, region_code, category_code,
            status, opd_id, assigned_at, confidential, reporter_name, reporter_contact,
            reporter_handle, external_ref, created_at)
        VALUES ($1, $2, $3, $4, $5, $6, (SELECT id FROM opds WHERE slug = $7),
            CASE WHEN $7::text IS NULL THEN NULL ELSE $8::timestamptz + interval '1 hour' END,
            $9, 'Siti Rahayu', '0812-3456-7890', '@siti_semarang', 'wa-secret-ref', $8)
        """,
        number,
        channel,
        text,
        region,
        category,
        status,
        opd,
        created,
        confidential,
    )


async def seed_complaints(conn: asyncpg.Connection) -> None:
    await insert(conn, "JTG-A", created=datetime(2025, 11, 2, 9, tzinfo=WIB), status="ASSIGNED",
                 opd="dpubmck", text="Jalan berlubang di Jl. Pemuda.")  # fmt: skip
    await insert(conn, "JTG-B", created=datetime(2025, 11, 10, tzinfo=WIB), status="IN_PROGRESS",
                 opd="dinkes", region="33.19", category="KESEHATAN", channel="WHATSAPP",
                 text='=HYPERLINK("http://evil.example","klik")')  # fmt: skip
    await insert(conn, "JTG-C", created=datetime(2025, 10, 31, 23, 30, tzinfo=WIB),
                 category=None, channel="SMS", text="Rahasia: pungli di loket.",
                 confidential=True)  # fmt: skip
    await insert(conn, "JTG-D", created=datetime(2025, 11, 20, tzinfo=WIB), status="CLOSED",
                 opd="dpubmck", region="33.01", channel="WEB",
                 text="Lampu jalan mati.")  # fmt: skip


async def test_opd_performance_csv_has_one_line_per_opd(
    server: RunningServer, conn: asyncpg.Connection
) -> None:
    await seed(conn)
    status, headers, body = await download(
        server, "/export/opd-performance.csv", {"from": "2025-11-01", "to": "2025-12-01"}
    )
    assert status == 200
    assert headers["content-type"] == "text/csv; charset=utf-8"
    assert headers["content-disposition"] == (
        'attachment; filename="opd-performance_20251101-20251201.csv"'
    )
    assert body.splitlines()[0] == (
        "opd_slug,opd_short_name,opd_name,received,resolved,backlog,median_response_hours,"
        "p90_response_hours,median_resolution_hours,p90_resolution_hours,responses_decided,"
        "responses_on_time,response_sla_share,breaches,escalations,average_rating,ratings"
    )
    rows = {row["opd_slug"]: row for row in table(body)}
    assert len(rows) == await conn.fetchval("SELECT count(*) FROM opds")
    dpubmck = rows["dpubmck"]
    assert (dpubmck["received"], dpubmck["resolved"], dpubmck["backlog"]) == ("6", "3", "5")
    assert float(dpubmck["median_response_hours"]) == pytest.approx(7)
    assert float(dpubmck["p90_resolution_hours"]) == pytest.approx(90)
    assert (dpubmck["breaches"], dpubmck["escalations"], dpubmck["average_rating"]) == (
        "2", "2", "4.5"
    )  # fmt: skip
    assert rows["bappeda"]["received"] == "0"
    assert rows["bappeda"]["median_response_hours"] == ""


async def test_the_opd_performance_csv_reads_the_time_from_the_servers_clock(
    database_url: str, conn: asyncpg.Connection
) -> None:
    # Assigned on 3 November at 08:00 WIB and not answered: its response is due at 08:00 the
    # next day, and counts as decided (missed) only once that moment has passed on Kilas's clock.
    assigned = datetime(2025, 11, 3, 8, tzinfo=WIB)
    await insert_complaint(conn, "dpubmck", "33.74", assigned, status="ASSIGNED")
    clock = ManualClock(assigned + timedelta(hours=1))
    period = {"from": "2025-11-01", "to": "2025-12-01"}
    async with start_server(database_url, clock=clock, sla_sweep_interval=0) as server:
        decided = []
        for _ in range(2):
            status, _, body = await download(server, "/export/opd-performance.csv", period)
            assert status == 200, body
            decided.append({row["opd_slug"]: row for row in table(body)}["dpubmck"])
            clock.advance(timedelta(days=1))
    assert [row["responses_decided"] for row in decided] == ["0", "1"]
    assert [row["response_sla_share"] for row in decided] == ["", "0.0"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "from and to are required"),
        ({"from": "2025-11-01"}, "from and to are required"),
        ({"from": "1 November", "to": "2025-12-01"}, "from must be an ISO date or time"),
        ({"from": "2025-12-01", "to": "2025-11-01"}, "to must be later than from"),
        ({"from": "2024-01-01", "to": "2025-06-01"}, "must not be longer than one year"),
        ({"from": "0001-01-01T00:00", "to": "2025-06-01"}, "from is out of range"),
    ],
)
async def test_a_bad_period_is_a_plain_400(
    server: RunningServer, params: dict[str, str], message: str
) -> None:
    status, headers, body = await download(server, "/export/opd-performance.csv", params)
    assert status == 400
    assert headers["content-type"].startswith("text/plain")
    assert message in body


async def test_the_complaints_csv_lists_complaints_oldest_first_without_personal_data(
    server: RunningServer, conn: asyncpg.Connection
) -> None:
    await seed_complaints(conn)
    status, headers, body = await download(server, "/export/complaints.csv")
    assert status == 200
    assert headers["content-type"] == "text/csv; charset=utf-8"
    assert headers["content-disposition"] == 'attachment; filename="complaints.csv"'
    assert body.splitlines()[0] == ",".join(COMPLAINT_COLUMNS)
    rows = table(body)
    assert [row["tracking_number"] for row in rows] == ["JTG-C", "JTG-A", "JTG-B", "JTG-D"]
    a = rows[1]
    assert a["created_at"] == "2025-11-02T09:00:00+07:00"
    assert a["assigned_at"] == "2025-11-02T10:00:00+07:00"
    assert (a["opd_slug"], a["opd_short_name"], a["region_name"]) == (
        "dpubmck", "DPUBMCK", "Semarang"
    )  # fmt: skip
    assert a["text"] == "Jalan berlubang di Jl. Pemuda."
    # A confidential complaint is listed, but not its words; a formula is defused.
    assert rows[0]["text"] == "" and rows[0]["opd_slug"] == ""
    assert rows[2]["text"] == '\'=HYPERLINK("http://evil.example","klik")'
    for secret in ("Siti", "0812", "@siti", "wa-secret-ref", "Rahasia"):
        assert secret not in body


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ([("status", "ASSIGNED"), ("status", "in_progress")], ["JTG-A", "JTG-B"]),
        ({"opd": "dpubmck"}, ["JTG-A", "JTG-D"]),
        ({"region": "33.74"}, ["JTG-C", "JTG-A"]),
        ({"category": "kesehatan"}, ["JTG-B"]),
        ([("channel", "SMS"), ("channel", "WEB")], ["JTG-C", "JTG-D"]),
        # Naive times are WIB: JTG-C was created at 23:30 on 31 October, WIB.
        ({"from": "2025-11-01", "to": "2025-11-20"}, ["JTG-A", "JTG-B"]),
        ({"to": "2025-10-31T17:00:00Z"}, ["JTG-C"]),
        # An unencoded "+" arrives as a space.
        ({"from": "2025-11-20T00:00:00 07:00"}, ["JTG-D"]),
        ({"search": "lampu"}, ["JTG-D"]),
        ({"opd": "dpubmck", "status": "CLOSED"}, ["JTG-D"]),
    ],
)
async def test_the_complaints_csv_filters(
    server: RunningServer, conn: asyncpg.Connection, params: Any, expected: list[str]
) -> None:
    await seed_complaints(conn)
    status, _, body = await download(server, "/export/complaints.csv", params)
    assert status == 200, body
    assert [row["tracking_number"] for row in table(body)] == expected


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"status": "OPEN"}, "unknown status 'OPEN'"),
        ({"channel": "TELEGRAM"}, "unknown channel 'TELEGRAM'"),
        ({"opd": "dinas-tidak-ada"}, "no OPD has the slug 'dinas-tidak-ada'"),
        ({"region": "33.99"}, "no region has the code '33.99'"),
        ({"region": "Semarang"}, "no region has the code 'Semarang'"),
        ({"category": "ROKOK"}, "no category has the code 'ROKOK'"),
        ({"from": "kemarin"}, "from must be an ISO date or time"),
        ({"from": "2025-11-02", "to": "2025-11-01"}, "to must be later than from"),
        ({"search": "x" * 201}, "longer than 200 characters"),
        ([("opd", "dpubmck"), ("opd", "dinkes")], "give opd at most once"),
        ({"stauts": "ASSIGNED"}, "unknown parameter(s): stauts"),
        ([("search", "lubang"), ("search", "lampu\x00")], "must not contain NUL"),
    ],
)
async def test_bad_complaint_filters_are_a_plain_400(
    server: RunningServer, params: Any, message: str
) -> None:
    status, headers, body = await download(server, "/export/complaints.csv", params)
    assert status == 400
    assert headers["content-type"].startswith("text/plain")
    assert message in body


async def test_a_long_complaints_csv_is_streamed_in_chunks(
    server: RunningServer, conn: asyncpg.Connection
) -> None:
    await conn.execute(
        """
        INSERT INTO complaints (tracking_number, channel, text, region_code, status, created_at)
        SELECT 'JTG-BULK-' || lpad(g::text, 5, '0'), 'SMS', 'Lampu jalan mati, tiang ' || g,
            '33.74', 'RECEIVED', timestamptz '2025-06-01 00:00+07' + g * interval '1 minute'
        FROM generate_series(1, 5000) AS g
        """
    )
    chunks = 0
    async with (
        http_client() as client,
        client.stream("GET", base(server) + "/export/complaints.csv") as response,
    ):
        assert response.status_code == 200
        # Streamed: no length known up front, the body comes in HTTP chunks.
        assert response.headers["transfer-encoding"] == "chunked"
        assert "content-length" not in response.headers
        body = io.StringIO()
        async for text in response.aiter_text():
            chunks += 1
            body.write(text)
    rows = table(body.getvalue())
    assert len(rows) == 5000
    assert rows[0]["tracking_number"] == "JTG-BULK-00001"
    assert rows[-1]["tracking_number"] == "JTG-BULK-05000"
    assert rows[-1]["created_at"] == "2025-06-04T11:20:00+07:00"
    assert chunks > 1


async def test_a_client_that_hangs_up_mid_download_gives_the_connection_back(
    server: RunningServer, conn: asyncpg.Connection
) -> None:
    # Driven as ASGI, as uvicorn drives it, for a client that stops reading and then hangs up
    # at a moment of the test's choosing (over TCP, that moment depends on socket buffers).
    await conn.execute(
        """
        INSERT INTO complaints (tracking_number, channel, text, region_code, status, created_at)
        SELECT 'JTG-BULK-' || g, 'SMS', 'Lampu jalan mati, tiang ' || g, '33.74', 'RECEIVED',
            timestamptz '2025-06-01 00:00+07' + g * interval '1 minute'
        FROM generate_series(1, 2000) AS g
        """
    )
    first_rows, hang_up, stalled = asyncio.Event(), asyncio.Event(), asyncio.Event()

    requested = False

    async def receive() -> dict[str, Any]:
        # As uvicorn does: the (empty) request body first, then the disconnect when it comes.
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await hang_up.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body" and b"JTG-BULK-" in message["body"]:
            first_rows.set()
            await stalled.wait()  # the client's window is full, and stays full

    async def exports_open() -> int:
        count: int = await conn.fetchval(
            """
            SELECT count(*) FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid()
              AND xact_start IS NOT NULL AND query LIKE '%c.id, c.tracking_number%'
            """
        )
        return count

    scope = {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
        "method": "GET", "scheme": "http", "path": "/export/complaints.csv", "raw_path": b"",
        "root_path": "", "query_string": b"", "server": ("127.0.0.1", 80),
        "headers": [(b"authorization", f"Bearer {token('OPERATOR')}".encode())],
        "client": ("127.0.0.1", 5000), "state": {},
    }  # fmt: skip
    download = asyncio.create_task(server.app(scope, receive, send))
    await asyncio.wait_for(first_rows.wait(), 10)
    assert await exports_open() == 1
    hang_up.set()
    await asyncio.wait_for(download, 10)
    # The cursor's transaction ended and its connection went back to the pool, clean.
    assert await exports_open() == 0
