"""A hand-computed SLA performance fixture for November 2025: complaints with known response and
resolution times, and the SLA events the sweeper would have written for them."""

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from kilas.schema.ids import WIB

# November 2025 in WIB, the period under test; "now" is 1 December, noon.
START = datetime(2025, 11, 1, tzinfo=WIB)
END = datetime(2025, 12, 1, tzinfo=WIB)
NOW = datetime(2025, 12, 1, 12, 0, tzinfo=WIB)
_numbers = itertools.count(1)


async def insert_complaint(
    conn: asyncpg.Connection,
    opd: str,
    region: str,
    assigned: datetime,
    *,
    status: str,
    response: float | None = None,
    resolution: float | None = None,
    rating: int | None = None,
    **columns: Any,
) -> int:
    """A complaint assigned at `assigned`, followed up `response` hours and resolved
    `resolution` hours later; the response is due after 24 hours, the resolution after 72."""
    hours = timedelta(hours=1)
    values = {
        "tracking_number": f"JTG-TEST-{next(_numbers):06d}",
        "channel": "WEB",
        "text": "Jalan provinsi berlubang besar.",
        "region_code": region,
        "status": status,
        "opd_id": await conn.fetchval("SELECT id FROM opds WHERE slug = $1", opd),
        "assigned_at": assigned,
        "response_due_at": assigned + 24 * hours,
        "resolution_due_at": assigned + 72 * hours,
        "first_response_at": assigned + response * hours if response is not None else None,
        "resolved_at": assigned + resolution * hours if resolution is not None else None,
        "rating": rating,
        "created_at": assigned - hours,
        **columns,
    }
    names = ", ".join(values)
    places = ", ".join(f"${i}" for i in range(1, len(values) + 1))
    complaint_id: int = await conn.fetchval(
        f"INSERT INTO complaints ({names}) VALUES ({places}) RETURNING id", *values.values()
    )
    return complaint_id


async def insert_event(
    conn: asyncpg.Connection, complaint_id: int, type: str, at: datetime, data: dict[str, Any]
) -> None:
    """An event as the SLA sweeper writes it, under the OPD holding the complaint."""
    await conn.execute(
        """
        INSERT INTO complaint_events (complaint_id, type, from_status, to_status, opd_id,
            region_code, actor, data, version, occurred_at)
        SELECT id, $2, status, status, opd_id, region_code, 'sla-sweeper', $3, version, $4
        FROM complaints WHERE id = $1
        """,
        complaint_id,
        type,
        data,
        at,
    )


def nov(day: int, hour: int = 8) -> datetime:
    return datetime(2025, 11, day, hour, tzinfo=WIB)


async def seed(conn: asyncpg.Connection) -> dict[str, int]:
    """DPUBMCK, slow and busy; Dinkes with one very fast ticket; Dishub and Dinsos always on
    time. Returns some complaint ids by name."""
    ids: dict[str, int] = {}
    add = insert_complaint
    # Assigned at the very start of the period: counted.
    ids["a1"] = await add(conn, "dpubmck", "33.74", START, status="CLOSED", response=2,
                          resolution=20, rating=5)  # fmt: skip
    ids["a2"] = await add(conn, "dpubmck", "33.74", nov(5), status="CLOSED", response=4,
                          resolution=50, rating=4)  # fmt: skip
    ids["a3"] = await add(conn, "dpubmck", "33.19", nov(10), status="RESOLVED", response=10,
                          resolution=100)  # fmt: skip
    ids["a4"] = await add(conn, "dpubmck", "33.74", nov(15), status="IN_PROGRESS", response=30)
    # Never answered, due 21 November: decided, and late.
    ids["a5"] = await add(conn, "dpubmck", "33.74", nov(20), status="ASSIGNED")
    # Assigned before the period: only in the backlog.
    ids["a6"] = await add(conn, "dpubmck", "33.74", datetime(2025, 10, 20, tzinfo=WIB),
                          status="ASSIGNED")  # fmt: skip
    # Assigned at the very end of the period: not counted, but open.
    ids["a7"] = await add(conn, "dpubmck", "33.74", END, status="IN_PROGRESS", response=1)
    # Unanswered but due after "now": its response clock is not decided yet.
    ids["a8"] = await add(conn, "dpubmck", "33.74", nov(30, 23), status="ASSIGNED")
    ids["b1"] = await add(conn, "dinkes", "33.01", nov(3), status="RESOLVED", response=0.5,
                          resolution=1)  # fmt: skip
    for day, response in ((4, 1), (6, 3), (8, 5)):
        await add(conn, "dishub", "33.19", nov(day), status="IN_PROGRESS", response=response)
    for day, response in ((4, 1), (6, 2), (8, 8)):
        await add(conn, "dinsos", "33.74", nov(day), status="IN_PROGRESS", response=response)

    event = insert_event
    # 23:00 on 31 October in WIB: October, and before the period.
    await event(conn, ids["a6"], "SLA_BREACHED", datetime(2025, 10, 31, 16, tzinfo=UTC),
                {"clock": "RESPONSE"})  # fmt: skip
    # 03:00 on 1 November in WIB: November, and in the period.
    await event(conn, ids["a6"], "ESCALATED", datetime(2025, 10, 31, 20, tzinfo=UTC),
                {"level": 1, "target": "OPD_HEAD"})  # fmt: skip
    await event(conn, ids["a5"], "SLA_AT_RISK", nov(21, 2), {"clock": "RESPONSE"})
    await event(conn, ids["a5"], "SLA_BREACHED", nov(21, 8), {"clock": "RESPONSE"})
    await event(conn, ids["a6"], "ESCALATED", nov(22), {"level": 2, "target": "COMMAND_CENTER"})
    await event(conn, ids["a4"], "SLA_BREACHED", nov(25), {"clock": "RESOLUTION"})
    # 1 December, 01:00 WIB: after the period.
    dishub = await conn.fetchval("SELECT id FROM complaints WHERE opd_id = "
                                 "(SELECT id FROM opds WHERE slug = 'dishub') LIMIT 1")  # fmt: skip
    await event(conn, dishub, "ESCALATED", datetime(2025, 12, 1, 1, tzinfo=WIB),
                {"level": 3, "target": "GOVERNOR_OFFICE"})  # fmt: skip
    # DPUBMCK's head, in office all along.
    await conn.execute(
        "INSERT INTO opd_heads (opd_id, name, title, term_start) "
        "SELECT id, 'Ir. Budi Santoso', 'Kepala Dinas', '2025-01-02 09:00+07' FROM opds "
        "WHERE slug = 'dpubmck'"
    )
    return ids
