"""Cohorts (live/cohorts.py, compiler/cohort.py) deliver to every subscriber exactly what
strawberry's per-subscriber execution delivers, replayed and live, for every kind of caller.

Two servers on one database and one fixed clock: one with cohorts, one without (the oracle).
Each example draws an event-stream subscription from the schema (tests/_differential.py:
selections, fragments, aliases, directives, variables, filters) that replays from a recent
cursor; a few callers subscribe to it on both servers (twice on the cohort server, so that two
members share each cohort), then two mutations add live events. Every caller's messages must be
the same on both: the same data with its keys in the same order, the same errors (message,
path, locations, extensions), the same completion. KILAS_COHORT_EXAMPLES sets how many
subscriptions run."""

import asyncio
import contextlib
import json
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from kilas.auth.api_keys import key_hash, new_key
from kilas.db import api_keys as api_keys_db
from kilas.domain.clock import ManualClock
from tests import ops
from tests._differential import GeneratedQuery, event_subscriptions
from tests._differential_world import World, module_world
from tests.wire import RunningServer, WsClient, bearer, start_server, token

EXAMPLES = int(os.environ.get("KILAS_COHORT_EXAMPLES", 30))
# A subscription's stream is taken as complete once nothing more arrives for this long.
QUIET = 0.4
# How far back the subscriptions replay from.
REPLAYED = 30


@dataclass
class Env:
    runner: asyncio.Runner
    world: World
    cohorts: RunningServer
    oracle: RunningServer
    # connection_init payloads by caller name.
    callers: dict[str, dict[str, Any]]
    after: str
    # Examples run, and those whose subscribers on the cohort server all joined cohorts.
    examples: int = 0
    in_cohorts: int = 0


async def partner_keys(world: World) -> dict[str, str]:
    """API keys of partners in every scope (as `tests._differential_world.callers`)."""
    scopes = {
        "partner": (None, None),
        "partner-opd": (world.callers["partner-opd"].opd_id, None),
        "partner-region": (None, "33.74"),
    }
    keys = {}
    async with world.pool.acquire() as conn:
        for name, (opd_id, region_code) in scopes.items():
            key, prefix = new_key()
            await api_keys_db.insert_key(
                conn,
                prefix=prefix,
                key_hash=key_hash(key),
                name=name,
                role="PARTNER",
                opd_id=opd_id,
                region_code=region_code,
                expires_at=None,
            )
            keys[name] = key
    return keys


@pytest.fixture(scope="module")
def env(pg_url: str, template_url: str) -> Iterator[Env]:
    with module_world(pg_url, template_url) as (runner, stack, world, url):
        clock = ManualClock(world.now)
        servers = [
            runner.run(
                stack.enter_async_context(
                    start_server(
                        url,
                        broadcast_url="postgres://",
                        clock=clock,
                        live_cohorts=cohorts,
                        rate_limit=0,
                        sla_sweep_interval=0,
                        dashboard_interval=0.1,
                        max_connections_per_caller=1000,
                    )
                )
            )
            for cohorts in (True, False)
        ]
        keys = runner.run(partner_keys(world))
        callers: dict[str, dict[str, Any]] = {
            "public": {},
            "officer": bearer(token("OPD_OFFICER", opd="dpubmck")),
            "officer-other": bearer(token("OPD_OFFICER", opd="dinkes")),
            "operator": bearer(token("OPERATOR")),
            "supervisor": bearer(token("SUPERVISOR")),
            "admin": bearer(token("ADMIN")),
            **{name: bearer(key) for name, key in keys.items()},
        }
        last = runner.run(world.pool.fetchval("SELECT max(id) FROM complaint_events"))
        yield Env(runner, world, *servers, callers, str(max(0, last - REPLAYED)))


async def stream(client: WsClient, op_id: str, quiet: float = QUIET) -> list[dict[str, Any]]:
    """The operation's messages until it completes or falls quiet."""
    found = []
    while True:
        try:
            message = await client.message(op_id, quiet)
        except TimeoutError:
            return found
        found.append(message)
        if message["type"] in ("complete", "error"):
            return found


def comparable(message: dict[str, Any]) -> Any:
    """A message as the comparison sees it: the data in its order, the errors as a multiset
    (both paths report the same errors; the order among them is not part of the protocol)."""
    payload = message.get("payload")
    if message["type"] != "next":
        return (message["type"], json.dumps(payload))
    errors = Counter(json.dumps(e, sort_keys=True) for e in payload.get("errors") or [])
    rest = {k: v for k, v in payload.items() if k != "errors"}
    return ("next", json.dumps(rest), sorted(errors.items()))


async def compare(
    env: Env, subscription: GeneratedQuery, names: list[str], joined: int = 0
) -> bool:
    """Whether the example exercised the cohorts: the oracle delivered to every caller, and
    without errors. A refused operation (a filter naming an id of the wrong type) never starts
    on either server, and a selection with an argument that does not bind (`first: -5`) runs on
    its own by design (compiler/live.py), strawberry reporting the error with each event."""
    payload = {"query": subscription.text, "variables": subscription.variables}
    # Each caller: once on the oracle, twice on the cohort server (two sockets, two operation
    # ids: two members of one cohort).
    runs = [
        (server, op_id) for server, op_id in (("oracle", "a"), ("cohorts", "a"), ("cohorts", "b"))
    ]
    async with contextlib.AsyncExitStack() as stack:
        clients: dict[tuple[str, str, str], WsClient] = {}
        for name in names:
            for server, op_id in runs:
                url = getattr(env, server).ws_url
                client = await stack.enter_async_context(WsClient.connect(url, env.callers[name]))
                clients[name, server, op_id] = client
        for (_, _, op_id), client in clients.items():
            await client.ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": payload}))
        received: dict[tuple[str, str, str], list[Any]] = {key: [] for key in clients}

        async def drain() -> None:
            found = await asyncio.gather(
                *(stream(client, key[2]) for key, client in clients.items())
            )
            for key, messages in zip(clients, found, strict=True):
                received[key].extend(messages)

        await drain()
        # Live events: a complaint in the region the scoped callers watch, then assigned.
        submitted = await ops.submit(env.cohorts.http_url, regionCode="33.74")
        await ops.act_ok(
            env.cohorts.http_url, "assignComplaint", complaintId=submitted["complaint"]["id"]
        )
        await drain()
        # A member joins its cohort once its replay from `after` is done, which a loaded
        # machine may finish after the streams fell quiet: give it time before the sockets close.
        cohorts = env.cohorts.app.state.kilas.cohorts
        exercised = all(
            received[name, "oracle", "a"]
            and all(
                m["type"] == "next" and not m["payload"].get("errors")
                for m in received[name, "oracle", "a"]
            )
            for name in names
        )
        for _ in range(100 if exercised else 0):
            if cohorts.joined - joined >= 2 * len(names):
                break
            await asyncio.sleep(0.05)
    for name in names:
        oracle = [comparable(m) for m in received[name, "oracle", "a"]]
        for op_id in ("a", "b"):
            found = [comparable(m) for m in received[name, "cohorts", op_id]]
            assert found == oracle, (
                f"{name}, operation {op_id}: the cohort's messages differ from the oracle's\n"
                f"{subscription.text}\n{subscription.variables}\n"
                f"cohort: {received[name, 'cohorts', op_id]}\n"
                f"oracle: {received[name, 'oracle', 'a']}"
            )
    return exercised


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
def test_cohorts_deliver_what_each_subscriber_would_get_on_its_own(env: Env, data: Any) -> None:
    schema = env.world.schema._schema
    subscription = data.draw(event_subscriptions(schema, env.world.samples, env.after))
    names = data.draw(st.lists(st.sampled_from(sorted(env.callers)), min_size=1, max_size=3))
    cohorts = env.cohorts.app.state.kilas.cohorts
    joined = cohorts.joined
    if env.runner.run(compare(env, subscription, sorted(set(names)), joined)):
        env.examples += 1
        env.in_cohorts += cohorts.joined - joined == 2 * len(set(names))


def test_most_generated_subscriptions_ran_in_cohorts(env: Env) -> None:
    """The comparison above is only worth something if the cohort server used cohorts: every
    event-stream selection compiles, so every example the oracle accepted must have (a
    selection the compiler does not cover would fall back to strawberry on both servers)."""
    if env.examples == 0:
        pytest.skip("the differential examples did not run")
    assert env.examples >= EXAMPLES // 2, f"only {env.examples} of {EXAMPLES} were accepted"
    assert env.in_cohorts == env.examples, f"{env.in_cohorts} of {env.examples} in cohorts"


# A feed waits 4 times as long as its last computation took before the next (live/feeds.py).
FEED_QUIET = 1.5
# Live feeds (resolvers/feed_members.py): each selection with its variables, for every caller.
FEEDS = [
    (
        "subscription { dashboard { generatedAt intakeToday breachesOpenNow "
        "byStatus { status count } byRegion { regionCode count open region { name "
        "openComplaints } } } }",
        {},
    ),
    (
        "subscription D($f: DashboardFilter) { dashboard(filter: $f) { intakeToday "
        "byChannel { channel count } } }",
        {"f": {"regionCode": "33.74"}},
    ),
    (
        "subscription { leaderboardChanges(window: LAST_7_DAYS) { rank received backlog "
        "opd { slug name openBacklog head { name title } socialAccounts { handle verified } } } }",
        {},
    ),
    (
        "subscription L($w: LeaderboardWindow) { board: leaderboardChanges(window: $w) { ...E } } "
        "fragment E on LeaderboardEntry { rank backlog opd { shortName categories { code } } }",
        {"w": "LAST_30_DAYS"},
    ),
]


async def feed_messages(env: Env, query: str, variables: dict[str, Any]) -> dict[Any, list[Any]]:
    """Every caller's messages of one feed subscription: once on the oracle, twice on the
    cohort server, before and after two mutations."""
    payload = {"query": query, "variables": variables}
    runs = [("oracle", "a"), ("cohorts", "a"), ("cohorts", "b")]
    async with contextlib.AsyncExitStack() as stack:
        clients = {}
        for name in env.callers:
            for server, op_id in runs:
                url = getattr(env, server).ws_url
                client = await stack.enter_async_context(WsClient.connect(url, env.callers[name]))
                clients[name, server, op_id] = client
        received: dict[Any, list[Any]] = {key: [] for key in clients}

        async def drain() -> None:
            found = await asyncio.gather(
                *(stream(c, key[2], FEED_QUIET) for key, c in clients.items())
            )
            for key, messages in zip(clients, found, strict=True):
                received[key].extend(messages)

        # The second member of each cohort joins once the first has its value (it must get
        # that value at once, as the oracle's subscriber did).
        for late in (False, True):
            for (_, _, op_id), client in clients.items():
                if (op_id == "b") is late:
                    message = {"id": op_id, "type": "subscribe", "payload": payload}
                    await client.ws.send(json.dumps(message))
            await drain()
        submitted = await ops.submit(env.cohorts.http_url, regionCode="33.74")
        await ops.act_ok(
            env.cohorts.http_url, "assignComplaint", complaintId=submitted["complaint"]["id"]
        )
        await drain()
    return received


def test_feed_cohorts_deliver_what_each_subscriber_would_get_on_its_own(env: Env) -> None:
    """Feeds coalesce (how many intermediate values a subscriber sees depends on timing), so
    what is compared is the first value and the last, and every message's kind."""
    cohorts = env.cohorts.app.state.kilas.cohorts
    for query, variables in FEEDS:
        joined = cohorts.joined
        received = env.runner.run(feed_messages(env, query, variables))
        delivered = 0
        for name in env.callers:
            oracle = [comparable(m) for m in received[name, "oracle", "a"]]
            assert oracle, f"{name}: nothing from the oracle for {query}"
            delivered += oracle[0][0] == "next"
            for op_id in ("a", "b"):
                found = [comparable(m) for m in received[name, "cohorts", op_id]]
                assert (found[0], found[-1]) == (oracle[0], oracle[-1]), (
                    f"{name}, operation {op_id}: the feed cohort's messages differ\n{query}\n"
                    f"cohort: {received[name, 'cohorts', op_id]}\n"
                    f"oracle: {received[name, 'oracle', 'a']}"
                )
                assert {m[0] for m in found} == {m[0] for m in oracle}
        # The mutations moved every feed for someone: the last value is not the first.
        assert any(
            received[name, "oracle", "a"][0] != received[name, "oracle", "a"][-1]
            for name in env.callers
        ), f"no update of {query}"
        if "openComplaints" in query:
            # Each value is resolved afresh: a region's open count agrees with the dashboard's
            # in the last value too, not only in the first.
            last = received["public", "cohorts", "a"][-1]["payload"]["data"]["dashboard"]
            assert all(r["open"] == r["region"]["openComplaints"] for r in last["byRegion"])
        # Every subscriber the oracle served joined a cohort on the cohort server.
        assert delivered > 0
        assert cohorts.joined - joined == 2 * delivered, (cohorts.joined - joined, delivered)
