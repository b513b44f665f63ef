"""Prometheus metrics (`/metrics`, the `prometheus-client` text format): what a command center's
administrators watch. Requests are observed as they end (ops/requests.py) and each event as the
hub hands it out; everything else is read from the running parts when scraped (sockets,
subscriptions, the bus, the sweeper, the pool), and the database's own depths (the channel
inbox, the webhook outbox) with one short query per scrape (every few seconds in the background
when the metrics have a port of their own). One registry per application: two apps in a process
do not mix."""

import contextlib
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import asyncpg
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from kilas.live.periodic import Periodic

if TYPE_CHECKING:
    from kilas.app import State
    from kilas.settings import Settings

log = logging.getLogger("kilas.ops")
DEPTHS_INTERVAL = 10.0  # seconds between two reads of the inbox's and the outbox's depths

# Operation names are the clients' to choose: a bounded set of them becomes labels, the rest
# "other", so that a client inventing names cannot grow the series without end.
MAX_OPERATIONS = 200
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass
class Depths:
    """What the database holds for the background workers, as last read."""

    inbox: dict[str, int] = field(default_factory=dict)  # channel deliveries by state
    endpoints: dict[str, int] = field(default_factory=dict)  # webhook endpoints by state
    outbox: int = 0  # events the active webhook endpoints have yet to pass, at most


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Histogram(
            "kilas_request_duration_seconds",
            "Requests by kind (graphql, http, websocket), operation name and outcome (ok, "
            "errors: a GraphQL answer with errors, 4xx, 5xx); a WebSocket's is its lifetime",
            ["kind", "operation", "outcome"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.graphql_errors = Counter(
            "kilas_graphql_errors",
            "GraphQL errors answered, by their extensions.code",
            ["code"],
            registry=self.registry,
        )
        self.event_lag = Histogram(
            "kilas_event_lag_seconds",
            "From an event's commit to this instance handing it to its subscribers",
            buckets=LAG_BUCKETS,
            registry=self.registry,
        )
        self.depths = Depths()
        # Reads the depths now (set while the app runs): a scrape on the API's port reads them
        # fresh; the metrics' own port, a thread, shows the background's last read.
        self.refresh: Callable[[], Awaitable[None]] | None = None
        self.open_sockets = 0
        self._operations: set[str] = set()

    def operation(self, name: str | None) -> str:
        """The label for an operation name: itself, `anonymous`, or `other` past the bound."""
        if not name:
            return "anonymous"
        if _NAME.fullmatch(name) is None:
            return "other"
        if name not in self._operations:
            if len(self._operations) >= MAX_OPERATIONS:
                return "other"
            self._operations.add(name)
        return name

    def watch(self, state: Callable[[], "State | None"]) -> None:
        """Read the running parts of the app at each scrape."""
        self.registry.register(_StateCollector(state, self))


class _StateCollector(Collector):
    def __init__(self, state: Callable[[], "State | None"], metrics: Metrics) -> None:
        self.state = state
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        state = self.state()
        yield _gauge("kilas_open_sockets", "WebSockets open now", self.metrics.open_sockets)
        if state is None:  # starting or stopped
            return
        yield _gauge(
            "kilas_subscriptions", "Subscriptions served now", state.cohorts.subscriber_count
        )
        yield _gauge("kilas_cohorts", "Subscriptions sharing one selection", len(state.cohorts))
        yield _gauge(
            "kilas_bus_connected", "Whether event hints arrive (1) or not", state.bus.connected
        )
        yield _counter(
            "kilas_bus_reconnects",
            "Event bus connections lost and made again",
            state.bus.reconnects,
        )
        yield _counter(
            "kilas_poll_catch_ups",
            "Reads of the event log that found events no hint announced (a hint lost)",
            state.hub.catch_ups,
        )
        yield _counter("kilas_sla_sweeps", "SLA sweeps completed", state.sweeper.sweeps)
        written = CounterMetricFamily(
            "kilas_sla_events_written",
            "Events the SLA sweeper wrote, by type (SLA_BREACHED, ESCALATED, ...)",
            labels=["type"],
        )
        for kind, n in sorted(state.sweeper.written.items()):
            written.add_metric([kind], n)
        yield written
        pool = state.pool
        connections = GaugeMetricFamily(
            "kilas_db_pool_connections", "Database pool connections by state", labels=["state"]
        )
        idle = pool.get_idle_size()
        connections.add_metric(["idle"], idle)
        connections.add_metric(["in_use"], pool.get_size() - idle)
        yield connections
        yield _gauge("kilas_db_pool_max", "Database pool size at most", pool.get_max_size())
        depths = self.metrics.depths
        inbox = GaugeMetricFamily(
            "kilas_inbox_deliveries", "Channel deliveries in the inbox by state", labels=["state"]
        )
        for key, n in sorted(depths.inbox.items()):
            inbox.add_metric([key], n)
        yield inbox
        endpoints = GaugeMetricFamily(
            "kilas_webhook_endpoints", "Partner webhook endpoints by state", labels=["state"]
        )
        for key, n in sorted(depths.endpoints.items()):
            endpoints.add_metric([key], n)
        yield endpoints
        yield _gauge(
            "kilas_webhook_outbox_events",
            "Events the furthest-behind active webhook endpoint has yet to pass",
            depths.outbox,
        )


def _gauge(name: str, about: str, value: Any) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, about, value=float(value))


def _counter(name: str, about: str, value: int) -> CounterMetricFamily:
    return CounterMetricFamily(name, about, value=value)


DEPTHS_SQL = """
SELECT
    (SELECT coalesce(json_object_agg(state, n), '{}') FROM (
        SELECT state, count(*) AS n FROM channel_deliveries
        WHERE state <> 'DONE' GROUP BY state) i) AS inbox,
    (SELECT coalesce(json_object_agg(state, n), '{}') FROM (
        SELECT CASE WHEN state = 'DISABLED' THEN 'disabled'
                    WHEN failing_since IS NOT NULL THEN 'failing' ELSE 'active' END AS state,
               count(*) AS n
        FROM webhook_endpoints GROUP BY 1) e) AS endpoints,
    coalesce((SELECT max(id) FROM complaint_events)
             - (SELECT min(cursor) FROM webhook_endpoints WHERE state = 'ACTIVE'), 0) AS outbox
"""


async def read_depths(conn: Any, depths: Depths) -> None:
    row = await conn.fetchrow(DEPTHS_SQL)
    depths.inbox = {"PENDING": 0, "DEAD": 0, **row["inbox"]}
    depths.endpoints = {"active": 0, "failing": 0, "disabled": 0, **row["endpoints"]}
    depths.outbox = max(0, int(row["outbox"]))


@contextlib.asynccontextmanager
async def metrics_running(
    settings: "Settings", metrics: Metrics, pool: asyncpg.Pool
) -> AsyncIterator[None]:
    """The depths read when scraped on the API's port; on the metrics' own port (a thread, which
    cannot wait on the database) read in the background instead."""

    async def refresh() -> None:
        async with pool.acquire() as conn:
            await read_depths(conn, metrics.depths)

    depths = Periodic(
        "kilas-metrics-depths",
        refresh,
        interval=DEPTHS_INTERVAL,
        log=log,
        failure="the inbox and outbox depths could not be read",
    )
    metrics.refresh = refresh
    server = None
    if settings.metrics_port:
        depths.start()
        server, _thread = start_http_server(
            settings.metrics_port, addr=settings.host, registry=metrics.registry
        )
        log.info("metrics on http://%s:%d/metrics", settings.host, settings.metrics_port)
    elif settings.metrics and not settings.metrics_here:
        log.warning(
            "/metrics is off: in production it needs KILAS_METRICS_TOKEN or KILAS_METRICS_PORT"
        )
    try:
        yield
    finally:
        metrics.refresh = None
        await depths.stop()
        if server is not None:
            server.shutdown()
            server.server_close()
