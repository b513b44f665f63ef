"""The ASGI application: settings → lifespan (database, migrations, bus, hub) → routes → app."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from kilas.auth.authenticator import AuthenticationError, Authenticator
from kilas.auth.caller import Role, caller_of, client_address
from kilas.auth.middleware import AuthMiddleware, RefuseUnauthenticated
from kilas.auth.tokens import JwtVerifier, issue
from kilas.auth.watch import CredentialWatch
from kilas.channels import Platform
from kilas.channels.outbound import Endpoints
from kilas.compiler import RawData, encode_response
from kilas.compiler.http import CompiledPosts
from kilas.db import performance as performance_db
from kilas.db.embedded import EmbeddedPostgres
from kilas.db.migrate import migrate
from kilas.db.pool import QueryLogger, connect, create_pool
from kilas.domain.clock import Clock, SystemClock
from kilas.guard.body import BodySizeLimit
from kilas.guard.ratelimit import RateLimit, open_rate_limiter
from kilas.guard.sockets import RawSocketSend, SocketGuard
from kilas.guard.view import GuardedGraphQL
from kilas.intake.replies import ReplySender
from kilas.intake.routes import ChannelRoutes, Secrets
from kilas.intake.worker import InboxWorker
from kilas.live.bus import EventBus
from kilas.live.cohorts import Cohorts
from kilas.live.dashboard import DashboardData, DashboardScope, compute_dashboard
from kilas.live.feeds import LiveFeeds
from kilas.live.hub import EventHub
from kilas.live.sweeper import SlaSweeper
from kilas.ops.health import health, ready
from kilas.ops.metrics import Metrics, metrics_running
from kilas.ops.requests import Operations
from kilas.packs import Pack
from kilas.packs.apply import apply_pack
from kilas.partners.open311 import Open311
from kilas.partners.webhooks import WebhookSender
from kilas.resolvers import export
from kilas.resolvers.context import Context
from kilas.resolvers.enforce import guarded_routes
from kilas.schema import build_schema
from kilas.settings import DEVELOPMENT_JWT_SECRET, Settings
from kilas.web.gc_tuning import settled_gc
from kilas.web.graphiql import GraphiQLAssets, cache_directory

log = logging.getLogger("kilas")
# The wall screen: plain HTML, CSS and ES modules, served from here so an offline command
# center needs nothing else. Its own origin only: the page loads and connects nowhere else.
WEB = Path(__file__).parent / "web"
WALL_HEADERS = {
    "cache-control": "no-cache",
    "content-security-policy": "default-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
}
# What the request rate limit counts: the paths that do work. Health checks and the wall's
# static files are free.
RATE_LIMITED_PATHS = ("/graphql", "/export/")


@dataclass
class State:
    pool: asyncpg.Pool
    bus: EventBus
    hub: EventHub
    sweeper: SlaSweeper
    feeds: LiveFeeds
    database_url: str
    authenticator: Authenticator
    clock: Clock
    cohorts: Cohorts
    inbox: InboxWorker
    # Set when the instance is told to stop (ops/server.py): /ready answers 503 from then on.
    draining: bool = False


class KilasGraphQL(GuardedGraphQL[Context, None]):
    def __init__(self, settings: Settings, clock: Clock, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings
        self.clock = clock
        self.state: State | None = None
        self.graphiql = GraphiQLAssets(cache_directory(settings.graphiql_assets_dir))

    async def render_graphql_ide(self, request: Request) -> Response:
        # Our page, loading GraphiQL from this server: strawberry's loads it from a CDN.
        return await self.graphiql.page()

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Context:
        assert self.state is not None, "Kilas is not started"
        # An HTTP request's caller comes from AuthMiddleware; a socket's, from connection_init.
        caller = caller_of(request.scope)
        return Context(
            pool=self.state.pool,
            bus=self.state.bus,
            hub=self.state.hub,
            feeds=self.state.feeds,
            settings=self.settings,
            clock=self.clock,
            request=request,
            caller=caller,
            authenticator=self.state.authenticator,
            # A socket's results are written by strawberry's own encoder; HTTP ones by ours.
            compiled_reads=self.settings.compiled_reads and isinstance(request, Request),
            cohorts=self.state.cohorts if self.settings.live_cohorts else None,
        )

    def encode_json(self, data: object) -> str | bytes:
        if isinstance(data, dict) and isinstance(data.get("data"), RawData):
            return encode_response(data)
        return super().encode_json(data)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Authenticate the socket from its connection_init payload (`{"authorization":
        "Bearer …"}`), or from the upgrade request's Authorization header; no credential is
        the public. A wrong credential closes the socket with 4403, and so does one that ends
        while the socket is open (guard.sockets, auth.watch)."""
        assert self.state is not None, "Kilas is not started"
        params = context.connection_params or {}
        # Read once: an open socket does not keep what it said at connection_init.
        context.connection_params = None
        authorization = params.get("authorization", params.get("Authorization"))
        if authorization is None:
            authorization = context.request.headers.get("authorization")
        if authorization is not None and not isinstance(authorization, str):
            raise ConnectionRejectionError({"message": "authorization must be a string"})
        try:
            context.caller = await self.state.authenticator.authenticate(
                authorization, client_address(context.request.scope)
            )
        except AuthenticationError as error:
            raise ConnectionRejectionError({"message": error.message}) from None
        return UNSET


async def prepare_database(database_url: str, pack: Pack) -> None:
    """Apply the pending migrations, then the province pack."""
    conn = await connect(database_url)
    try:
        applied = await migrate(conn)
        if applied:
            log.info("applied migrations %s", applied)
        await apply_pack(conn, pack)
    finally:
        await conn.close()


def jwt_verifier(settings: Settings) -> JwtVerifier | None:
    secret, public_key = settings.effective_jwt_secret, settings.jwt_public_key
    if secret is None and public_key is None:
        return None
    if secret == DEVELOPMENT_JWT_SECRET:
        log.warning(
            "accepting JWTs signed with the published development secret (no KILAS_JWT_SECRET "
            "is set); KILAS_ENV=production never does"
        )
    return JwtVerifier(
        secret=secret,
        public_key=public_key,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )


def simulator_token(settings: Settings, clock: Clock) -> str | None:
    """The in-process simulator acts as an operator: with KILAS_SIMULATE_TOKEN if given, else a
    token it signs with the HS256 secret (in development, the development secret)."""
    if settings.simulate_token:
        return settings.simulate_token
    secret = settings.effective_jwt_secret
    if secret is None:
        log.error(
            "--simulate needs KILAS_SIMULATE_TOKEN (an OPERATOR token or key) when Kilas has no "
            "HS256 secret to sign one with; the simulation will be refused"
        )
        return None
    return issue(
        secret,
        subject="simulator",
        role=Role.OPERATOR,
        name="kilas simulate",
        expires_at=clock.now() + timedelta(days=365),
    )


def live_feeds(settings: Settings, pool: asyncpg.Pool, clock: Clock) -> LiveFeeds:
    async def dashboard(scope: DashboardScope) -> DashboardData:
        return await compute_dashboard(pool, clock, scope)

    async def leaderboard(window: timedelta) -> list[performance_db.LeaderboardRow]:
        now = clock.now()
        async with pool.acquire() as conn:
            return await performance_db.leaderboard(
                conn, now - window, now, now, settings.leaderboard_min_sample
            )

    return LiveFeeds(
        interval=settings.dashboard_interval, dashboard=dashboard, leaderboard=leaderboard
    )


def channel_routes(settings: Settings, clock: Clock) -> list[BaseRoute]:
    """The platforms' webhooks (intake/routes.py), storing into this instance's inbox."""

    def inbox_of(request: Request) -> tuple[asyncpg.Pool, Callable[[], None]]:
        state: State = request.app.state.kilas
        return state.pool, state.inbox.wake

    secret = settings.channel_secret
    routes = ChannelRoutes(
        Secrets(
            meta_app_secret=secret(settings.meta_app_secret),
            meta_verify_token=secret(settings.meta_verify_token),
            x_consumer_secret=secret(settings.x_consumer_secret),
            intake_secret=secret(settings.intake_secret),
        ),
        clock,
        inbox_of,
    )
    both = ["GET", "POST"]
    return [
        Route("/channels/whatsapp", routes.meta(Platform.WHATSAPP), methods=both),
        Route("/channels/instagram", routes.meta(Platform.INSTAGRAM), methods=both),
        Route("/channels/facebook", routes.meta(Platform.FACEBOOK), methods=both),
        Route("/channels/x", routes.x, methods=both),
        Route("/channels/intake", routes.generic, methods=["POST"]),
    ]


def create_app(
    settings: Settings,
    *,
    query_logger: QueryLogger | None = None,
    clock: Clock | None = None,
) -> Starlette:
    settings.check()
    clock = clock or SystemClock()
    metrics = Metrics()
    metrics.watch(lambda: getattr(app.state, "kilas", None))
    limits = settings.query_limits
    rate_limiter = open_rate_limiter(
        settings.rate_limit_url, settings.rate_limit, settings.rate_limit_burst
    )
    socket_guard = SocketGuard(settings.max_connections_per_caller, rate_limiter)
    graphql = KilasGraphQL(
        settings,
        clock,
        schema=build_schema(
            production=settings.production,
            introspection=settings.introspection_on,
            limits=limits,
        ),
        graphql_ide="graphiql" if settings.graphiql_on else None,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL)
        if settings.legacy_graphql_ws
        else (GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        # A socket that does not say who it is soon is closed (4408), not kept open for free.
        connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout),
        allowed_origins=settings.allowed_origins,
        max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
        socket_guard=socket_guard,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Each resource is closed, in reverse order, however far the start-up got.
        async with contextlib.AsyncExitStack() as stack:
            if settings.graphiql_on:
                # In the background, beside the database's start-up; never delays readiness.
                await stack.enter_async_context(graphql.graphiql.fetched_in_background())
            if rate_limiter is not None:
                stack.push_async_callback(rate_limiter.close)
            if settings.database_url is None:
                embedded = EmbeddedPostgres(settings.data_dir)
                database_url = await asyncio.to_thread(embedded.start)
                stack.push_async_callback(asyncio.to_thread, embedded.stop)
            else:
                database_url = settings.database_url
            await prepare_database(database_url, settings.province)
            if settings.demo:
                from kilas.demo import load_demo

                await load_demo(database_url, settings.province)
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
            authenticator = Authenticator(pool, clock, jwt_verifier(settings))
            # Closes this instance's sockets whose key is revoked or whose credential expires.
            socket_guard.credentials = CredentialWatch(authenticator, clock)
            socket_guard.credentials.start()
            stack.push_async_callback(socket_guard.credentials.stop)
            cohorts = Cohorts(hub)
            stack.callback(cohorts.close)
            inbox = InboxWorker(
                pool,
                bus,
                hub,
                clock,
                settings.sla_rules,
                default_region=settings.default_region,
                aliases=settings.province.aliases,
                duplicates=settings.duplicate_search,
                max_attempts=settings.inbox_max_attempts,
                poll_interval=settings.inbox_poll_interval,
            )
            if settings.inbox_poll_interval > 0:
                inbox.start()
                stack.push_async_callback(inbox.stop)
            replies = ReplySender(
                pool,
                clock,
                Endpoints(
                    graph_url=settings.meta_graph_url,
                    x_url=settings.x_api_url,
                    meta_token=settings.meta_access_token,
                    x_token=settings.x_access_token,
                ),
                max_attempts=settings.reply_max_attempts,
                poll_interval=settings.reply_poll_interval,
            )
            stack.push_async_callback(replies.stop)
            if settings.reply_poll_interval > 0:
                replies.start()
            webhooks = WebhookSender(
                pool,
                clock,
                production=settings.production,
                disable_after=timedelta(days=settings.webhook_disable_after_days),
                poll_interval=settings.webhook_poll_interval,
            )
            stack.push_async_callback(webhooks.stop)
            if settings.webhook_poll_interval > 0:
                webhooks.start()
                # Events committed by any instance: the endpoints hear of them at once.
                hub.add_listener(lambda deliveries: webhooks.wake())
            graphql.state = app.state.kilas = State(
                pool, bus, hub, sweeper, feeds, database_url, authenticator, clock, cohorts, inbox
            )
            if settings.simulate:
                # The demo's live stream, through this server's own API once it answers.
                from kilas.simulate_serve import BackgroundSimulation, own_url

                url = own_url(settings.host, settings.port)
                from kilas._simulate_channels import ChannelSecrets

                simulation = BackgroundSimulation(
                    url,
                    rate=settings.simulate_rate,
                    token=simulator_token(settings, clock),
                    channel_secrets=ChannelSecrets.of(settings),
                    pack=settings.province,
                )
                simulation.start()
                stack.push_async_callback(simulation.stop)
            # Last: what start-up made lives until shutdown (web/gc_tuning.py).
            if settings.metrics:
                hub.lag_observer = metrics.event_lag.observe
                await stack.enter_async_context(metrics_running(settings, metrics, pool))
            stack.enter_context(settled_gc())
            log.info("Kilas is ready (event bus: %s)", bus.kind)
            yield

    async def home(request: Request) -> Response:
        return RedirectResponse("/graphql")

    async def wall(request: Request) -> Response:
        return FileResponse(WEB / "wall" / "index.html", headers=WALL_HEADERS)

    channels = channel_routes(settings, clock)
    # GraphiQL's own files (web/graphiql.py); none when GraphiQL is off.
    graphiql_files = (
        [Route("/graphiql/{path:path}", graphql.graphiql.asset)] if settings.graphiql_on else []
    )
    # Route + WebSocketRoute, not Mount: a Mount redirects POST /graphql and refuses the socket.
    app = Starlette(
        # Each route's access rule (auth.rules.ROUTES), applied by one layer.
        routes=guarded_routes(
            [
                Route("/", home),
                Route("/health", health),
                Route("/ready", ready),
                Route("/graphql", graphql, methods=["GET", "POST"]),
                WebSocketRoute("/graphql", graphql),
                Route("/export/opd-performance.csv", export.opd_performance_csv),
                Route("/export/complaints.csv", export.complaints_csv),
                Route("/wall", wall),
                *channels,
                *Open311(settings).routes(),
                Mount("/static/wall", StaticFiles(directory=WEB / "wall"), name="wall"),
                *graphiql_files,
            ]
        ),
        # AuthMiddleware first: what comes after it (limits, routes) knows the caller.
        middleware=[
            # Outermost: every request's id, log line and metrics, and /metrics itself.
            Middleware(
                Operations,
                metrics=metrics,
                serve_metrics=settings.metrics_here,
                metrics_token=settings.metrics_token,
            ),
            # A query admitted before, answered from its statements with the guards below
            # inlined (compiler/http.py); every other request goes on down.
            Middleware(
                CompiledPosts,
                view=graphql,
                path="/graphql",
                limiter=rate_limiter,
                max_bytes=settings.max_body_bytes,
            ),
            Middleware(RawSocketSend),
            Middleware(AuthMiddleware),
            Middleware(RateLimit, limiter=rate_limiter, paths=RATE_LIMITED_PATHS),
            Middleware(RefuseUnauthenticated),
            Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes),
        ],
        lifespan=lifespan,
    )
    return app
