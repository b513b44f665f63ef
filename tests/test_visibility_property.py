"""The visibility rule has two forms: `auth.policy.can_see_complaint` judges one row in Python
(node(id:), the paths from an object to a complaint, live events) and `db.complaints.visible_sql`
filters lists and the event log in SQL. On generated complaints, events and callers of every role
and scope, both forms admit exactly the same rows, and a `Visibility()` that names no caller
admits none.

Each hypothesis example runs in its own event loop on the test's database, inside a transaction
that is rolled back, so the example's rows are the only ones there."""

import asyncio
from dataclasses import dataclass
from itertools import count

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kilas.auth.caller import Caller, Role
from kilas.auth.policy import can_see_complaint, event_scope, visibility
from kilas.db import complaints as complaints_db
from kilas.db import events as events_db
from kilas.db.pool import Connection, connect
from kilas.db.rows import ComplaintRow, EventRow

# Three OPDs and three regions of the reference data, by slug and code.
OPD_SLUGS = ("dpubmck", "dinkes", "disnakertrans")
REGION_CODES = ("33.19", "33.74", "33.01")
STATUSES = ("RECEIVED", "ASSIGNED", "IN_PROGRESS", "RESOLVED", "CLOSED", "REJECTED")
UNHELD = frozenset({"RECEIVED", "REJECTED"})  # the only statuses without an OPD (a CHECK)

opd_index = st.one_of(st.none(), st.integers(0, len(OPD_SLUGS) - 1))
region_index = st.integers(0, len(REGION_CODES) - 1)


@dataclass(frozen=True)
class Holder:
    """Who held a complaint, and where, after one of its events."""

    opd: int | None
    region: int


@dataclass(frozen=True)
class GeneratedComplaint:
    status: str
    confidential: bool
    anonymous: bool
    opd: int | None
    region: int
    # Where it stood after each of its events (the last one is where it stands now).
    history: tuple[Holder, ...]


@st.composite
def complaints(draw: st.DrawFn) -> GeneratedComplaint:
    opd = draw(opd_index)
    status = draw(st.sampled_from(sorted(UNHELD) if opd is None else STATUSES))
    region = draw(region_index)
    earlier = draw(st.lists(st.builds(Holder, opd_index, region_index), max_size=3))
    return GeneratedComplaint(
        status=status,
        confidential=draw(st.booleans()),
        anonymous=draw(st.booleans()),
        opd=opd,
        region=region,
        history=(*earlier, Holder(opd, region)),
    )


@dataclass(frozen=True)
class GeneratedCaller:
    role: Role
    opd: int | None
    region: int | None


def callers() -> st.SearchStrategy[list[GeneratedCaller]]:
    """One caller of every role, each with any OPD and region scope (only some roles use it;
    the others must ignore it)."""
    one = {
        role: st.builds(
            GeneratedCaller, st.just(role), opd_index, st.one_of(st.none(), region_index)
        )
        for role in Role
    }
    return st.tuples(*one.values()).map(list)


_tracking = count()


async def _opd_ids(conn: Connection) -> list[int]:
    rows = await conn.fetch("SELECT id, slug FROM opds WHERE slug = any($1::text[])", OPD_SLUGS)
    by_slug = {row["slug"]: row["id"] for row in rows}
    return [by_slug[slug] for slug in OPD_SLUGS]


async def _example(url: str, made: list[GeneratedComplaint], who: list[GeneratedCaller]) -> None:
    conn = await connect(url)
    try:
        opd_ids = await _opd_ids(conn)

        def opd_of(index: int | None) -> int | None:
            return None if index is None else opd_ids[index]

        transaction = conn.transaction()
        await transaction.start()
        try:
            rows: dict[int, ComplaintRow] = {}
            events: list[EventRow] = []
            for c in made:
                record = await conn.fetchrow(
                    f"""
                    INSERT INTO complaints (tracking_number, channel, text, region_code, status,
                        opd_id, confidential, anonymous)
                    VALUES ($1, 'WEB', 'Jalan berlubang.', $2, $3, $4, $5, $6)
                    RETURNING {complaints_db.COMPLAINT_COLUMNS}
                    """,
                    f"PROP-{next(_tracking)}",
                    REGION_CODES[c.region],
                    c.status,
                    opd_of(c.opd),
                    c.confidential,
                    c.anonymous,
                )
                assert record is not None
                row = ComplaintRow.from_record(record)
                rows[row.id] = row
                for version, holder in enumerate(c.history, start=1):
                    events.append(
                        await events_db.append_event(
                            conn,
                            complaint_id=row.id,
                            type="ASSIGNED",
                            from_status=None,
                            to_status=c.status,
                            opd_id=opd_of(holder.opd),
                            from_opd_id=None,
                            region_code=REGION_CODES[holder.region],
                            category_code=None,
                            actor="public",
                            note=None,
                            data={},
                            version=version,
                            occurred_at=None,
                        )
                    )
            for g in who:
                caller = Caller(
                    role=g.role,
                    subject="property",
                    opd_id=opd_of(g.opd),
                    region_code=None if g.region is None else REGION_CODES[g.region],
                )
                await _agree(conn, caller, rows, events)
            # A visibility that names no caller sees nothing, in lists and in the log alike.
            await _agree_on(conn, complaints_db.Visibility(), set(), set(), "Visibility()")
        finally:
            await transaction.rollback()
    finally:
        await conn.close()


async def _agree(
    conn: Connection, caller: Caller, rows: dict[int, ComplaintRow], events: list[EventRow]
) -> None:
    """The SQL form of `caller`'s visibility admits exactly what the Python form admits."""
    complaint_ids = {i for i, row in rows.items() if can_see_complaint(caller, row)}
    event_ids = {
        e.id for e in events if can_see_complaint(caller, event_scope(e, rows[e.complaint_id]))
    }
    await _agree_on(conn, visibility(caller), complaint_ids, event_ids, caller)


async def _agree_on(
    conn: Connection,
    seen: complaints_db.Visibility,
    complaint_ids: set[int],
    event_ids: set[int],
    who: object,
) -> None:
    where = complaints_db.ComplaintFilter(visibility=seen)
    listed = await complaints_db.list_complaints(
        conn, where, order="CREATED_AT_DESC", after=None, limit=1000
    )
    assert {row.id for row in listed} == complaint_ids, who
    assert await complaints_db.count_complaints(conn, where) == len(complaint_ids), who
    logged = await events_db.events_after(conn, 0, 10_000, seen)
    assert {row.id for row in logged} == event_ids, who


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(made=st.lists(complaints(), min_size=1, max_size=8), who=callers())
def test_the_python_and_the_sql_visibility_rules_admit_the_same_complaints_and_events(
    database_url: str, made: list[GeneratedComplaint], who: list[GeneratedCaller]
) -> None:
    asyncio.run(_example(database_url, made, who))
