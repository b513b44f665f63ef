"""The ASGI application: settings → lifespan (database, migrations, bus, hub) → routes → app."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from db import performance as performance_db
from db.embedded import EmbeddedPostgres
from db.migrate import migrate
from db.pool import QueryLogger, connect, create_pool
from domain.clock import Clock, SystemClock
from kilas.settings import Settings
from live.bus import EventBus
from live.dashboard import DashboardData, compute_dashboard
from live.feeds import LiveFeeds
from live.hub import EventHub
from live.sweeper import SlaSweeper
from resolvers import export
from resolvers.context import Context
from schema import build_schema

log = logging.getLogger("kilas")


@dataclass
class State:
    pool: asyncpg.Pool
    bus: EventBus
    hub: EventHub
    sweeper: SlaSweeper
    feeds: LiveFeeds
    database_url: str


class KilasGraphQL(GraphQL[Context, None]):
    def __init__(self, settings: Settings, clock: Clock, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.clock = clock
        self.state: State | None = None

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Context:
        assert self.state is not None, "Kilas is not started"
        return Context(
            pool=self.state.pool,
            bus=self.state.bus,
            hub=self.state.hub,
            feeds=self.state.feeds,
            settings=self.settings,
            clock=self.clock,
            request=request,
        )


async def prepare_database(database_url: str) -> None:
    """Apply the pending migrations."""
    conn = await connect(database_url)
    try:
        applied = await migrate(conn)
        if applied:
            log.info("applied migrations %s", applied)
    finally:
        await conn.close()


def live_feeds(settings: Settings, pool: asyncpg.Pool, clock: Clock) -> LiveFeeds:
    async def dashboard() -> DashboardData:
        return await compute_dashboard(pool, clock)

    async def leaderboard(window: timedelta) -> list[dict[str, Any]]:
        now = clock.now()
        async with pool.acquire() as conn:
            rows = await performance_db.leaderboard(
                conn, now - window, now, now, settings.leaderboard_min_sample
            )
        return [dict(row) for row in rows]

    return LiveFeeds(
        interval=settings.dashboard_interval, dashboard=dashboard, leaderboard=leaderboard
    )


def create_app(
    settings: Settings,
    *,
    query_logger: QueryLogger | None = None,
    clock: Clock | None = None,
) -> Starlette:
    settings.check()
    clock = clock or SystemClock()
    graphql = KilasGraphQL(
        settings,
        clock,
        schema=build_schema(production=settings.production),
        graphql_ide="graphiql" if settings.graphiql and not settings.production else None,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        connection_init_wait_timeout=timedelta(seconds=10),
        allowed_origins=settings.allowed_origins,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Each resource is closed, in reverse order, however far the start-up got.
        async with contextlib.AsyncExitStack() as stack:
            if settings.database_url is None:
                embedded = EmbeddedPostgres(settings.data_dir)
                database_url = await asyncio.to_thread(embedded.start)
                stack.push_async_callback(asyncio.to_thread, embedded.stop)
            else:
                database_url = settings.database_url
            await prepare_database(database_url)
            if settings.demo:
                from kilas.demo import load_demo

                await load_demo(database_url)
            pool = await create_pool(
                database_url,
                min_size=settings.db_pool_min,
                max_size=settings.db_pool_max,
                query_logger=query_logger,
            )
            stack.push_async_callback(pool.close)
            bus = EventBus(settings.broadcast_url, database_url)
            await bus.connect()
            stack.push_async_callback(bus.disconnect)
            hub = EventHub(
                pool,
                bus,
                queue_size=settings.subscriber_queue_size,
                poll_interval=settings.event_poll_interval,
            )
            await hub.start()
            stack.push_async_callback(hub.stop)
            sweeper = SlaSweeper(
                pool, bus, hub, clock, settings.sla_rules, interval=settings.sla_sweep_interval
            )
            if settings.sla_sweep_interval > 0:
                sweeper.start()
                stack.push_async_callback(sweeper.stop)
            feeds = live_feeds(settings, pool, clock)
            hub.add_listener(feeds.on_events)
            stack.push_async_callback(feeds.stop)
            graphql.state = app.state.kilas = State(pool, bus, hub, sweeper, feeds, database_url)
            log.info("Kilas is ready (event bus: %s)", bus.kind)
            yield

    async def health(request: Request) -> Response:
        state: State = request.app.state.kilas
        async with state.pool.acquire() as conn:
            await conn.fetchval("SELECT 1")
        return JSONResponse(
            {"status": "ok", "bus": state.bus.kind, "subscribers": state.hub.subscriber_count}
        )

    async def home(request: Request) -> Response:
        return RedirectResponse("/graphql")

    # Route + WebSocketRoute, not Mount: a Mount redirects POST /graphql and refuses the socket.
    return Starlette(
        routes=[
            Route("/", home),
            Route("/health", health),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/export/opd-performance.csv", export.opd_performance_csv),
            Route("/export/complaints.csv", export.complaints_csv),
        ],
        lifespan=lifespan,
    )
