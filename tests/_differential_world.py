"""The world of the differential test: a database with the demo data and the edge cases, a fixed
clock, one caller of every role and scope, and the two read paths run side by side.

Both paths run the same schema with the same kind of context; only `Context.compiled_reads`
differs. A response is compared as the HTTP view would send it (`kilas.compiler.response_text`),
decoded with its keys in order, and with the personal-data reads the run wrote to the access log.
"""

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import asyncpg
from strawberry import Schema

from kilas.auth.caller import Caller, Role, public
from kilas.compiler import FALLBACKS, response_text
from kilas.compiler.run import FAILED
from kilas.db.pool import Connection, create_pool
from kilas.demo import load_demo
from kilas.domain.clock import ManualClock
from kilas.live.bus import EventBus
from kilas.live.feeds import LiveFeeds
from kilas.live.hub import EventHub
from kilas.packs import DEFAULT_PACK, load_pack
from kilas.resolvers.context import Context
from kilas.schema import build_schema
from kilas.schema.ids import to_global_id, wib
from kilas.settings import Settings
from tests._database import template_clone
from tests._differential import GeneratedQuery
from tests._differential_compare import Outcome, differences, explain
from tests._differential_seed import EdgeCases
from tests._differential_values import ORDERINGS, Samples

# Set while the compiled path runs, so that a mutant (tests/differential_mutants.py) can break
# that path alone.
compiled_run: ContextVar[bool] = ContextVar("kilas_differential_compiled_run", default=False)

ACCESS_LOG_COLUMNS = "subject, role, opd_id, field, address, complaint_id"


class Untouched:
    """A stand-in for the event bus, hub and live feeds, which no read field may use."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        raise AssertionError(f"a read query used the {self._name} ({attribute})")


def callers(opds: dict[str, int]) -> dict[str, Caller]:
    """One caller of every role, partners in every scope; each with its own address."""
    held, other = opds["dpubmck"], opds["dinkes"]

    def staff(role: Role, subject: str, n: int, **scope: Any) -> Caller:
        return Caller(role=role, subject=subject, address=f"10.0.0.{n}", **scope)

    return {
        "public": public("203.0.113.9"),
        "partner": staff(Role.PARTNER, "key:101", 2),
        "partner-opd": staff(Role.PARTNER, "key:102", 3, opd_id=held),
        "partner-region": staff(Role.PARTNER, "key:103", 4, region_code="33.74"),
        "partner-opd-region": staff(Role.PARTNER, "key:104", 5, opd_id=held, region_code="33.74"),
        "officer": staff(Role.OPD_OFFICER, "jwt:officer-dpubmck", 6, opd_id=held),
        "officer-other": staff(Role.OPD_OFFICER, "jwt:officer-dinkes", 7, opd_id=other),
        "operator": staff(Role.OPERATOR, "jwt:operator", 8),
        "supervisor": staff(Role.SUPERVISOR, "jwt:supervisor", 9),
        "admin": staff(Role.ADMIN, "jwt:admin", 10),
    }


@dataclass(repr=False)
class World:
    runner: asyncio.Runner
    pool: asyncpg.Pool
    schema: Schema
    settings: Settings
    now: datetime
    callers: dict[str, Caller]
    # The edge cases' complaint ids (database ids), by name.
    edge: dict[str, int]
    # Their tracking numbers, by name.
    tracking: dict[str, str]
    samples: Samples | None = None
    # A result rewrite for the compiled path (tests/differential_mutants.py).
    tamper: Callable[[str], str] | None = None
    tamper_log: Callable[[Connection, int], Awaitable[None]] | None = None

    def __repr__(self) -> str:
        # Hypothesis shows the test's arguments with a failing example: keep it to a line.
        return f"World(now={self.now.isoformat()}, {len(self.edge)} edge cases)"

    def run(self, coroutine: Any) -> Any:
        return self.runner.run(coroutine)

    def context(self, caller: Caller, compiled: bool) -> Context:
        return Context(
            pool=self.pool,
            bus=cast(EventBus, Untouched("event bus")),
            hub=cast(EventHub, Untouched("event hub")),
            feeds=cast(LiveFeeds, Untouched("live feeds")),
            settings=replace(self.settings, compiled_reads=compiled),
            clock=ManualClock(self.now),
            caller=caller,
            compiled_reads=compiled,
        )

    async def answer(self, query: GeneratedQuery, caller: Caller, compiled: bool) -> Outcome:
        async with self.pool.acquire() as conn:
            mark = await conn.fetchval("SELECT coalesce(max(id), 0) FROM personal_data_access")
        failed_before = FALLBACKS[FAILED]
        token = compiled_run.set(compiled)
        try:
            result = await self.schema.execute(
                query.text,
                variable_values=query.variables,
                context_value=self.context(caller, compiled),
                operation_name=query.operation_name,
            )
        finally:
            compiled_run.reset(token)
        body = response_text(result)
        # A compiled answer that failed as it ran is answered by strawberry: right, so the
        # comparison alone would not see it.
        assert FALLBACKS[FAILED] == failed_before, "a compiled statement failed (see the log)"
        async with self.pool.acquire() as conn:
            if compiled and self.tamper_log is not None:
                await self.tamper_log(conn, mark)
            rows = await conn.fetch(
                f"SELECT {ACCESS_LOG_COLUMNS} FROM personal_data_access WHERE id > $1", mark
            )
        if compiled and self.tamper is not None:
            body = self.tamper(body)
        return Outcome(body, Counter(tuple(row) for row in rows))

    async def both(self, query: GeneratedQuery, caller: Caller) -> tuple[Outcome, ...]:
        """The oracle's answer, then the compiled path's, twice: the first time through
        strawberry's pipeline (which admits the plan), the second straight to its statements
        (`compiler.run.answer_directly`) when the first admitted it."""
        oracle = await self.answer(query, caller, compiled=False)
        compiled = await self.answer(query, caller, compiled=True)
        again = await self.answer(query, caller, compiled=True)
        return oracle, compiled, again

    def compare(self, query: GeneratedQuery, callers: list[str] | None = None) -> dict[str, Any]:
        """Run `query` on both paths for every caller (or those named); fail on any
        difference. Returns the oracle's decoded responses by caller."""
        answers: dict[str, Any] = {}
        for name in callers or list(self.callers):
            oracle, *compiled_answers = self.run(self.both(query, self.callers[name]))
            for compiled in compiled_answers:
                found = differences(oracle, compiled)
                assert not found, explain(query, name, oracle, compiled, found)
            answers[name] = {"body": json.loads(oracle.body), "reads": oracle.reads}
        return answers


async def open_world(runner: asyncio.Runner, url: str) -> World:
    """The demo data and the edge cases in the database at `url`, the clock fixed just after."""
    await load_demo(url, load_pack(DEFAULT_PACK))
    pool = await create_pool(url, min_size=1, max_size=10)
    async with pool.acquire() as conn:
        now: datetime = await conn.fetchval("SELECT date_trunc('second', now())")
        opds = {row["slug"]: row["id"] for row in await conn.fetch("SELECT id, slug FROM opds")}
        work_items = [
            row["id"] for row in await conn.fetch("SELECT id FROM work_items ORDER BY id")
        ]
        edge = await EdgeCases(conn, now, opds).write(work_items)
        numbers = {
            row["id"]: row["tracking_number"]
            for row in await conn.fetch(
                "SELECT id, tracking_number FROM complaints WHERE id = any($1::bigint[])",
                list(edge.values()),
            )
        }
    world = World(
        runner=runner,
        pool=pool,
        schema=build_schema(),
        settings=Settings(),
        now=now,
        callers=callers(opds),
        edge=edge,
        tracking={name: numbers[key] for name, key in edge.items()},
    )
    world.samples = await collect_samples(world)
    return world


def _every(values: list[Any], step: int) -> tuple[Any, ...]:
    """Every `step`-th value, and the last one."""
    return tuple(dict.fromkeys([*values[::step], *values[-1:]]))


async def _oracle_data(world: World, text: str, variables: dict[str, Any]) -> Any:
    query = GeneratedQuery(text, variables, None, frozenset())
    outcome = await world.answer(query, world.callers["operator"], compiled=False)
    body = json.loads(outcome.body)
    assert "errors" not in body, body
    return body["data"]


COMPLAINT_CURSORS = """
query Cursors($order: ComplaintOrder!) {
  complaints(orderBy: $order, first: 100) { edges { cursor } }
}
"""
EVENT_CURSORS = """
query Events($after: String) { complaintEvents(first: 100, after: $after) { edges { cursor } } }
"""
TIMELINE_CURSORS = """
query Timeline($id: ID!) {
  node(id: $id) { ... on Complaint { timeline(first: 200) { edges { cursor } } } }
}
"""


async def _cursors(world: World) -> dict[str, Any]:
    """Cursors as responses give them: complaint pages of every ordering, the event log at its
    start, middle and end, and the long timelines."""
    by_ordering = {}
    for ordering in ORDERINGS:
        data = await _oracle_data(world, COMPLAINT_CURSORS, {"order": ordering})
        by_ordering[ordering] = _every([e["cursor"] for e in data["complaints"]["edges"]], 9)
    async with world.pool.acquire() as conn:
        last = await conn.fetchval("SELECT max(id) FROM complaint_events")
    events: list[str] = []
    for after in (None, str(last // 2), str(last - 30)):
        data = await _oracle_data(world, EVENT_CURSORS, {"after": after})
        events += _every([e["cursor"] for e in data["complaintEvents"]["edges"]], 17)
    timelines: list[str] = []
    for name in ("long_timeline", "long_confidential"):
        gid = to_global_id("Complaint", world.edge[name])
        data = await _oracle_data(world, TIMELINE_CURSORS, {"id": gid})
        cursors = [e["cursor"] for e in data["node"]["timeline"]["edges"]]
        timelines += [cursors[i] for i in (0, 1, 48, 49, 50, -2, -1)]
    return {"complaints": by_ordering, "events": tuple(events), "timelines": tuple(timelines)}


def _moments(now: datetime, created: list[datetime]) -> tuple[str, ...]:
    """Times around the data, in every form the API reads; some exactly a complaint's
    createdAt, where the filter's bounds (inclusive, exclusive) tell."""
    around = [now - timedelta(hours=h) for h in (1, 6, 30, 24 * 7, 24 * 30)]
    forms = [wib(t).isoformat() for t in around + created]
    forms += [t.astimezone(UTC).isoformat() for t in created]
    forms += [wib(t).replace(tzinfo=None).isoformat() for t in created[:2]]
    return (*forms, "2000-01-01T00:00:00+00:00", "2100-01-01T00:00:00+07:00")


def _gids(type_name: str, keys: Any) -> tuple[str, ...]:
    return tuple(to_global_id(type_name, key) for key in keys)


async def collect_samples(world: World) -> Samples:
    edge = list(world.edge.values())
    async with world.pool.acquire() as conn:

        async def column(sql: str, *args: Any) -> list[Any]:
            return [row[0] for row in await conn.fetch(sql, *args)]

        demo = await column(
            "SELECT id FROM complaints WHERE NOT (id = any($1::bigint[])) AND (id % 23 = 0"
            " OR confidential OR duplicate_of_id IS NOT NULL OR work_item_id IS NOT NULL)",
            edge,
        )
        complaints = edge + demo
        tracking = await column(
            "SELECT tracking_number FROM complaints WHERE id = any($1::bigint[]) ORDER BY id",
            complaints,
        )
        created = await column(
            "SELECT created_at FROM complaints WHERE id = any($1::bigint[]) ORDER BY id",
            [world.edge[n] for n in ("sla_met", "confidential_held", "original")],
        )
        events = await column(
            "SELECT min(id) FROM complaint_events WHERE complaint_id = any($1::bigint[])"
            " GROUP BY complaint_id UNION SELECT max(id) FROM complaint_events",
            edge,
        )
        holders = await column("SELECT DISTINCT opd_id FROM complaints WHERE opd_id IS NOT NULL")
        idle = await column(
            "SELECT id FROM opds WHERE id <> all($1::bigint[]) ORDER BY id LIMIT 1", holders
        )
        regions = await column("SELECT DISTINCT region_code FROM complaints ORDER BY 1")
        quiet = await column(
            "SELECT code FROM regions WHERE code <> all($1::text[]) ORDER BY code LIMIT 1", regions
        )
        programmes = await conn.fetch("SELECT id, code, fiscal_year FROM programmes ORDER BY id")
        work_items = await column("SELECT id FROM work_items ORDER BY id")
        others = [
            *_gids("ComplaintEvent", events[:6]),
            *_gids("Opd", holders[:3] + idle),
            *_gids("Region", regions[:2] + quiet),
            *_gids("Category", ["JALAN", "KESEHATAN"]),
            *_gids("SlaPolicy", await column("SELECT id FROM sla_policies")),
            *_gids("SocialAccount", await column("SELECT id FROM opd_social_accounts LIMIT 2")),
            *_gids("Programme", [p["id"] for p in programmes]),
            *_gids("WorkItem", work_items[:3]),
        ]
        samples = {
            "opd_slugs": tuple(await column("SELECT slug FROM opds ORDER BY id")),
            "category_codes": tuple(await column("SELECT code FROM categories ORDER BY code")),
        }
    cursors = await _cursors(world)
    return Samples(
        complaint_ids=_gids("Complaint", complaints),
        other_node_ids=tuple(others),
        tracking_numbers=tuple(tracking),
        opd_ids=_gids("Opd", holders + idle),
        region_codes=tuple(regions + quiet),
        programme_codes=tuple(p["code"] for p in programmes),
        programme_ids=_gids("Programme", [p["id"] for p in programmes]),
        work_item_ids=_gids("WorkItem", work_items),
        fiscal_years=tuple(sorted({p["fiscal_year"] for p in programmes})),
        complaint_cursors=cursors["complaints"],
        event_cursors=cursors["events"],
        timeline_cursors=cursors["timelines"],
        moments=_moments(world.now, created),
        **samples,
    )


@contextlib.contextmanager
def module_world(
    pg_url: str, template_url: str
) -> Iterator[tuple[asyncio.Runner, contextlib.AsyncExitStack, World, str]]:
    """For a module's tests: an event loop, a stack of what to close with it, and the world in a
    fresh clone of the migrated template (dropped when the block ends), with the clone's URL."""
    runner = asyncio.Runner()
    stack = contextlib.AsyncExitStack()
    try:
        url = runner.run(stack.enter_async_context(template_clone(pg_url, template_url)))
        world = runner.run(open_world(runner, url))
        stack.push_async_callback(world.pool.close)
        yield runner, stack, world, url
    finally:
        runner.run(stack.aclose())
        runner.close()
