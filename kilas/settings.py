"""Settings, read once from the environment (and `.env` if present), with defaults that run
locally: an embedded PostgreSQL in `.kilas/` and the in-memory event bus."""

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.config import Config

from kilas.db.duplicates import Search
from kilas.domain.sla import SlaRules
from kilas.packs import DEFAULT_PACK, Pack, PackError, load_pack

if TYPE_CHECKING:
    from kilas.guard.validation import QueryLimits

# The event buses live/bus.py knows; checked here so that a typo stops Kilas before it starts.
BROADCAST_SCHEMES = ("memory", "redis", "rediss", "postgres", "postgresql")


def _hours_list(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise ValueError(f"not a comma-separated list of hours: {text!r}") from None


def _switch(config: Config, name: str) -> bool | None:
    """An on/off setting that, unset, depends on the environment."""
    if not config(name, default=""):
        return None
    value: bool = config(name, cast=bool)
    return value


def _optional_path(value: str) -> Path | None:
    return Path(value) if value else None


def _pem(value: str | None) -> str | None:
    """A PEM public key given inline, or the path of a file holding one."""
    if value is None or "-----BEGIN" in value:
        return value
    path = Path(value)
    if not path.is_file():
        raise ValueError(f"KILAS_JWT_PUBLIC_KEY is neither a PEM key nor a readable file: {value}")
    return path.read_text()


# The SLA rules' defaults are the domain's (domain/sla.py); the settings only name them.
DEFAULT_SLA = SlaRules()
DEFAULT_ESCALATION_HOURS = tuple(
    delay / timedelta(hours=1) for delay in DEFAULT_SLA.escalation_delays
)


def _escalation_hours(config: Config, env: str) -> tuple[float, ...]:
    text: str | None = config(env, default=None)
    return DEFAULT_ESCALATION_HOURS if text is None else _hours_list(text)


# Signs the tokens of `kilas token` on a development machine with no KILAS_JWT_SECRET. Public by
# design (it is in the source), so production refuses to start with it.
DEVELOPMENT_JWT_SECRET = "kilas-development-secret-not-for-production"
MIN_SECRET_LENGTH = 32
# Signs and checks channel deliveries (the platforms' webhooks, the generic intake) on a
# development machine whose KILAS_*_SECRET is unset: the simulator signs with it. Public by design.
DEVELOPMENT_CHANNEL_SECRET = "kilas-development-channel-secret"


@dataclass(frozen=True)
class Declared:
    """One setting, declared once: its variable, what the README says of it, and how its text is
    read and checked. `Settings.from_env` reads, `Settings.check` checks and `readme_table`
    documents every setting from this alone."""

    env: str
    about: str
    # The `kilas serve` flag that overrides it, if any.
    flag: str | None = None
    # The README's default, when the value alone would say too little.
    shown: str | None = None
    # The value from the variable's text; None: by the field's type (int, float, bool, str, Path).
    parse: Callable[[Config, str], Any] | None = None
    # Whether a value is acceptable, and what the refusal says after the variable's name.
    valid: Callable[[Any], bool] | None = None
    problem: str = ""


def setting(default: Any, env: str, about: str, *, secret: bool = False, **more: Any) -> Any:
    """A field of Settings with its declaration; a secret stays out of repr() (settings end up
    in logs and test reports)."""
    return field(
        default=default, repr=not secret, metadata={"setting": Declared(env, about, **more)}
    )


def _text_or_none(config: Config, env: str) -> str | None:
    return config(env, default=None) or None


def _channel_secret(env: str, about: str) -> Any:
    """A channel's secret: unset in development means the published development secret, so
    that the simulator and the README's curl work out of the box; unset in production turns
    that receiver off (503)."""
    return setting(
        None,
        env,
        about,
        shown="development secret; production: off",
        secret=True,
        parse=_text_or_none,
    )


def _origins(config: Config, env: str) -> tuple[str, ...]:
    return tuple(o.strip() for o in config(env, default="").split(",") if o.strip())


def _at_least(least: float) -> dict[str, Any]:
    return {"valid": lambda value: value >= least, "problem": f"must be at least {least}"}


def _positive(problem: str = "must be positive") -> dict[str, Any]:
    return {"valid": lambda value: value > 0, "problem": problem}


@dataclass(frozen=True)
class Settings:
    host: str = setting("127.0.0.1", "KILAS_HOST", "Listen address", flag="--host")
    port: int = setting(
        8000,
        "KILAS_PORT",
        "Listen port",
        flag="--port",
        valid=lambda port: 0 <= port <= 65535,
        problem="must be a TCP port, 0-65535",
    )
    data_dir: Path = setting(
        Path(".kilas"), "KILAS_DATA_DIR", "Embedded database directory", flag="--data-dir"
    )
    database_url: str | None = setting(
        None,
        "KILAS_DATABASE_URL",
        "External PostgreSQL (disables the embedded one)",
        flag="--database-url",
        parse=_text_or_none,
    )
    pack: str = setting(
        DEFAULT_PACK,
        "KILAS_PACK",
        "Province pack: a built-in one (`jateng`, `sumut`) or a pack folder's path; a database "
        "serves the province of the pack first applied to it",
        flag="--pack",
    )
    broadcast_url: str = setting(
        "memory://",
        "KILAS_BROADCAST_URL",
        "Event bus: `memory://`, `redis://host:6379/0`, or `postgres://` (LISTEN/NOTIFY on "
        "Kilas's own database)",
        flag="--broadcast-url",
    )
    env: str = setting(
        "development",
        "KILAS_ENV",
        "Environment: `development`, `test`, `production` (masks unexpected errors; GraphiQL and "
        "introspection off unless turned on)",
        valid=lambda env: env in ("development", "production", "test"),
        problem="must be development, production or test",
    )
    log_level: str = setting("info", "KILAS_LOG_LEVEL", "Log level")
    log_format: str = setting(
        "text",
        "KILAS_LOG_FORMAT",
        "`text`, or `json`: one JSON object per line for log shippers (a request's line carries "
        "request_id, operation, caller, status and duration_ms)",
        valid=lambda form: form in ("text", "json"),
        problem="must be text or json",
    )
    metrics: bool = setting(
        True,
        "KILAS_METRICS",
        "Prometheus metrics at `/metrics`; in production only with KILAS_METRICS_TOKEN or on "
        "KILAS_METRICS_PORT",
    )
    metrics_token: str | None = setting(
        None,
        "KILAS_METRICS_TOKEN",
        "Bearer token a scraper must send for `/metrics` (unset: open in development)",
        secret=True,
        parse=_text_or_none,
    )
    metrics_port: int = setting(
        0,
        "KILAS_METRICS_PORT",
        "Serve `/metrics` on this port of KILAS_HOST instead of the API's (`0`: the API's)",
        valid=lambda port: 0 <= port <= 65535,
        problem="must be a TCP port, 0-65535 (0: the API's own)",
    )
    shutdown_delay: float = setting(
        0.0,
        "KILAS_SHUTDOWN_DELAY",
        "Seconds a stopping instance (SIGTERM) keeps serving, `/ready` answering 503, before it "
        "stops accepting: time for a load balancer's checks to take it out of rotation",
        **_at_least(0),
    )
    shutdown_grace: int = setting(
        30,
        "KILAS_SHUTDOWN_GRACE",
        "Seconds a stopping instance (SIGTERM) gives in-flight requests before it exits; its "
        "WebSockets close at once with 1012 (service restart) so clients resume elsewhere",
        **_at_least(0),
    )
    db_pool_min: int = setting(2, "KILAS_DB_POOL_MIN", "Fewest connections the database pool keeps")
    db_pool_max: int = setting(10, "KILAS_DB_POOL_MAX", "Most connections the database pool opens")
    default_page_size: int = setting(
        20, "KILAS_DEFAULT_PAGE_SIZE", "Page size when `first` is omitted"
    )
    max_page_size: int = setting(
        100, "KILAS_MAX_PAGE_SIZE", "Largest page `first` may ask for", **_at_least(1)
    )
    subscriber_queue_size: int = setting(
        1000,
        "KILAS_SUBSCRIBER_QUEUE_SIZE",
        "Events a subscriber may fall behind before it must resume",
        **_at_least(10),
    )
    event_poll_interval: float = setting(
        2.0,
        "KILAS_EVENT_POLL_INTERVAL",
        "Seconds between event-log polls (the safety net for a lost bus message)",
        **_positive(),
    )
    # None: on in development and test, off in production.
    graphiql: bool | None = setting(
        None,
        "KILAS_GRAPHIQL",
        "GraphiQL in the browser",
        shown="`true`, in production `false`",
        parse=_switch,
    )
    # Where GraphiQL's files are cached; None: the user's cache directory (web/graphiql.py).
    graphiql_assets_dir: Path | None = setting(
        None,
        "KILAS_GRAPHIQL_ASSETS_DIR",
        "Where GraphiQL's files are cached ([GraphiQL without a CDN](#graphiql-without-a-cdn))",
        shown="`~/.cache/kilas/graphiql` (`$XDG_CACHE_HOME/kilas/graphiql`)",
        parse=lambda config, env: _optional_path(config(env, default="")),
    )
    introspection: bool | None = setting(
        None,
        "KILAS_INTROSPECTION",
        "Schema introspection (`__schema`, `__type`; GraphiQL needs it)",
        shown="`true`, in production `false`",
        parse=_switch,
    )
    max_query_depth: int = setting(
        12,
        "KILAS_MAX_QUERY_DEPTH",
        "Deepest field nesting of a query (see [Limits](#limits))",
        **_at_least(2),
    )
    max_aliases: int = setting(30, "KILAS_MAX_ALIASES", "Aliases in one document", **_at_least(0))
    max_tokens: int = setting(2000, "KILAS_MAX_TOKENS", "Tokens in one document", **_at_least(100))
    max_query_cost: int = setting(
        50_000,
        "KILAS_MAX_QUERY_COST",
        "Objects one query may ask for, estimated before it runs",
        **_at_least(100),
    )
    max_body_bytes: int = setting(
        256 * 1024,
        "KILAS_MAX_BODY_BYTES",
        "Bytes of a request body or a WebSocket message",
        shown="`262144` (256 KiB)",
        **_at_least(1024),
    )
    max_subscriptions_per_connection: int = setting(
        20,
        "KILAS_MAX_SUBSCRIPTIONS_PER_CONNECTION",
        "Operations at a time on one WebSocket",
        **_at_least(1),
    )
    max_connections_per_caller: int = setting(
        20,
        "KILAS_MAX_CONNECTIONS_PER_CALLER",
        "WebSockets at a time per caller, on each instance",
        **_at_least(1),
    )
    rate_limit: int = setting(
        600,
        "KILAS_RATE_LIMIT",
        "Requests a minute per caller (`0` turns the limit off)",
        **_at_least(0),
    )
    rate_limit_burst: int = setting(
        100, "KILAS_RATE_LIMIT_BURST", "Requests a caller may send at once", **_at_least(1)
    )
    rate_limit_url: str = setting(
        "",
        "KILAS_RATE_LIMIT_URL",
        "Where the rate limit counts: empty for this instance's memory, or "
        "`redis://host:6379/0` to share it between instances",
        shown="empty",
    )
    allowed_origins: tuple[str, ...] = setting(
        (),
        "KILAS_ALLOWED_ORIGINS",
        "WebSocket origins allowed besides the server's own (comma-separated)",
        shown="none",
        parse=_origins,
    )
    demo: bool = setting(False, "KILAS_DEMO", "Load demo data at start", flag="--demo")
    simulate: bool = setting(
        False,
        "KILAS_SIMULATE",
        "Run `kilas simulate` inside the server, against its own API ([Wall screen](#wall-screen))",
        flag="--simulate",
    )
    simulate_rate: float = setting(
        30.0,
        "KILAS_SIMULATE_RATE",
        "Events a minute of that simulation",
        **_positive("must be a positive number of events per minute"),
    )
    simulate_token: str | None = setting(
        None,
        "KILAS_SIMULATE_TOKEN",
        "The credential that simulation acts with (an OPERATOR token or key); unset: a token "
        "Kilas signs with its HS256 secret",
        secret=True,
        parse=_text_or_none,
    )
    sla_at_risk_share: float = setting(
        DEFAULT_SLA.at_risk_share,
        "KILAS_SLA_AT_RISK_SHARE",
        "Share of an SLA window left at which a clock turns AT_RISK",
        valid=lambda share: 0 < share < 1,
        problem="must be between 0 and 1, e.g. 0.25",
    )
    escalation_delays_hours: tuple[float, ...] = setting(
        DEFAULT_ESCALATION_HOURS,
        "KILAS_ESCALATION_DELAYS_HOURS",
        "Hours to escalate to the OPD head (after the breach), then to the command center / "
        "Inspektorat, then to the governor's office",
        parse=_escalation_hours,
        valid=lambda hours: len(hours) == 3 and min(hours) >= 0,
        problem="must be three hours, e.g. 0,24,24: to the OPD head after the breach, then to "
        "the command center, then to the governor's office",
    )
    auto_close_hours: float = setting(
        DEFAULT_SLA.auto_close_after / timedelta(hours=1),
        "KILAS_AUTO_CLOSE_HOURS",
        "Hours after which a RESOLVED complaint the reporter neither confirms nor reopens closes "
        "by itself",
        **_positive(),
    )
    sla_sweep_interval: float = setting(
        30.0,
        "KILAS_SLA_SWEEP_INTERVAL",
        "Seconds between SLA sweeps (`0` turns the sweeper off)",
        valid=lambda seconds: seconds >= 0,
        problem="must be >= 0 (0: off)",
    )
    dashboard_interval: float = setting(
        1.0,
        "KILAS_DASHBOARD_INTERVAL",
        "Least seconds between two live dashboard / leaderboard updates",
        **_positive(),
    )
    leaderboard_min_sample: int = setting(
        10,
        "KILAS_LEADERBOARD_MIN_SAMPLE",
        "Fewest complaints an OPD must have received to be ranked",
        **_at_least(1),
    )
    jwt_secret: str | None = setting(
        None,
        "KILAS_JWT_SECRET",
        "HS256 secret of staff JWTs (at least 32 characters in production; in development, "
        "unset means the published development secret that `kilas token` uses)",
        secret=True,
        parse=_text_or_none,
    )
    jwt_public_key: str | None = setting(
        None,
        "KILAS_JWT_PUBLIC_KEY",
        "RS256 public key of staff JWTs, PEM text or a file's path (instead of a secret)",
        parse=lambda config, env: _pem(_text_or_none(config, env)),
    )
    jwt_issuer: str | None = setting(
        None,
        "KILAS_JWT_ISSUER",
        "Required `iss` claim of staff JWTs",
        shown="not checked",
        parse=_text_or_none,
    )
    jwt_audience: str | None = setting(
        None,
        "KILAS_JWT_AUDIENCE",
        "Required `aud` claim of staff JWTs",
        shown="not checked",
        parse=_text_or_none,
    )
    # The legacy `graphql-ws` subscription protocol, for old clients only: off unless asked for.
    legacy_graphql_ws: bool = setting(
        False,
        "KILAS_LEGACY_GRAPHQL_WS",
        "Also speak the legacy `graphql-ws` subscription protocol (old clients only)",
    )
    ws_init_timeout: float = setting(
        5.0,
        "KILAS_WS_INIT_TIMEOUT",
        "Seconds a WebSocket may take to send `connection_init` before it is closed (4408)",
        valid=lambda seconds: 0 < seconds <= 60,
        problem="must be between 0 and 60 seconds",
    )
    # Read queries answered by one SQL statement per root field (compiler/); off: strawberry's
    # field-by-field execution for everything, the oracle the compiled path is tested against.
    compiled_reads: bool = setting(
        True,
        "KILAS_COMPILED_READS",
        "Answer read queries with one SQL statement per root field (off: field-by-field execution)",
    )
    # Subscribers of an event stream or a live feed who would receive the same bytes share one
    # execution per event or value (live/cohorts.py); off: strawberry executes every
    # subscriber's selection itself.
    live_cohorts: bool = setting(
        True,
        "KILAS_LIVE_COHORTS",
        "Subscribers of an event stream or a live feed who would receive the same bytes share "
        "one execution per event or value (off: each subscriber's selection executed on its own)",
    )
    # Channel intake (intake/, channels/): the platforms' secrets.
    meta_app_secret: str | None = _channel_secret(
        "KILAS_META_APP_SECRET",
        "Meta app secret: checks `X-Hub-Signature-256` of WhatsApp, Instagram and Facebook "
        "deliveries",
    )
    meta_verify_token: str | None = _channel_secret(
        "KILAS_META_VERIFY_TOKEN",
        "The verify token entered in Meta's webhook settings (the GET handshake)",
    )
    x_consumer_secret: str | None = _channel_secret(
        "KILAS_X_CONSUMER_SECRET",
        "X app consumer secret: answers the CRC check and checks `x-twitter-webhooks-signature`",
    )
    intake_secret: str | None = _channel_secret(
        "KILAS_INTAKE_SECRET",
        "HMAC secret of the generic intake (SMS gateways, hotline, SP4N-LAPOR!), beside a "
        "PARTNER key",
    )
    intake_default_region: str | None = setting(
        None,
        "KILAS_INTAKE_DEFAULT_REGION",
        "Region of a channel complaint that names none and has no location",
        shown="the pack's (jateng: 33.74)",
        parse=_text_or_none,
    )
    inbox_poll_interval: float = setting(
        1.0,
        "KILAS_INBOX_POLL_INTERVAL",
        "Seconds between two looks at the channel inbox for retries and other instances' "
        "deliveries (`0` turns the inbox worker off)",
        valid=lambda seconds: seconds >= 0,
        problem="must be >= 0 (0: off)",
    )
    meta_access_token: str | None = setting(
        None,
        "KILAS_META_ACCESS_TOKEN",
        "Meta access token (a system user's, for the OPDs' numbers and pages) with which replies "
        "are sent on WhatsApp, Instagram and Facebook; unset: those replies wait",
        secret=True,
        parse=_text_or_none,
    )
    x_access_token: str | None = setting(
        None,
        "KILAS_X_ACCESS_TOKEN",
        "X OAuth 2.0 user token with which replies are sent on X; unset: they wait",
        secret=True,
        parse=_text_or_none,
    )
    meta_graph_url: str = setting(
        "https://graph.facebook.com/v21.0",
        "KILAS_META_GRAPH_URL",
        "Base URL of Meta's Graph API (replies on WhatsApp, Instagram, Facebook)",
    )
    x_api_url: str = setting(
        "https://api.x.com", "KILAS_X_API_URL", "Base URL of the X API (replies on X)"
    )
    reply_poll_interval: float = setting(
        1.0,
        "KILAS_REPLY_POLL_INTERVAL",
        "Seconds between two looks at the reply outbox (`0` turns the reply sender off)",
        valid=lambda seconds: seconds >= 0,
        problem="must be >= 0 (0: off)",
    )
    reply_max_attempts: int = setting(
        6,
        "KILAS_REPLY_MAX_ATTEMPTS",
        "Attempts at a reply the platform refuses for now (429, 5xx, no connection) before it "
        "is dead",
        **_at_least(1),
    )
    webhook_poll_interval: float = setting(
        2.0,
        "KILAS_WEBHOOK_POLL_INTERVAL",
        "Seconds between two looks for partner webhook endpoints due (new events wake it at "
        "once; `0` turns the webhook sender off)",
        valid=lambda seconds: seconds >= 0,
        problem="must be >= 0 (0: off)",
    )
    webhook_disable_after_days: float = setting(
        3.0,
        "KILAS_WEBHOOK_DISABLE_AFTER_DAYS",
        "Days a webhook endpoint may keep failing before it is disabled (with the reason)",
        **_positive(),
    )
    inbox_max_attempts: int = setting(
        8,
        "KILAS_INBOX_MAX_ATTEMPTS",
        "Attempts at a channel delivery before it is dead (listed for operators to replay)",
        **_at_least(1),
    )
    duplicate_window_hours: float = setting(
        72.0,
        "KILAS_DUPLICATE_WINDOW_HOURS",
        "Hours apart two complaints may be created and still be likely duplicates",
        **_positive(),
    )
    duplicate_distance_km: float = setting(
        2.0,
        "KILAS_DUPLICATE_DISTANCE_KM",
        "Kilometres apart two located complaints may be and still be likely duplicates",
        **_positive(),
    )
    duplicate_min_similarity: float = setting(
        0.3,
        "KILAS_DUPLICATE_MIN_SIMILARITY",
        "Least trigram similarity (0 to 1, pg_trgm) of a likely duplicate's text",
        valid=lambda share: 0 < share <= 1,
        problem="must be above 0 and at most 1",
    )

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def graphiql_on(self) -> bool:
        return not self.production if self.graphiql is None else self.graphiql

    @property
    def introspection_on(self) -> bool:
        return not self.production if self.introspection is None else self.introspection

    @property
    def effective_jwt_secret(self) -> str | None:
        """The HS256 secret in use: the configured one; in development with no JWT key at all,
        the published development secret, so that `kilas token` works out of the box."""
        if self.jwt_secret is not None or self.jwt_public_key is not None:
            return self.jwt_secret
        return None if self.production else DEVELOPMENT_JWT_SECRET

    def channel_secret(self, configured: str | None) -> str | None:
        """A channel's secret in use: the configured one; in development, unset means the
        published development secret (the simulator's); in production, unset is None: that
        receiver answers 503 and stores nothing."""
        if configured is not None:
            return configured
        return None if self.production else DEVELOPMENT_CHANNEL_SECRET

    @property
    def query_limits(self) -> "QueryLimits":
        from kilas.guard.validation import QueryLimits

        return QueryLimits(
            self.max_query_depth,
            self.max_aliases,
            self.max_tokens,
            self.max_query_cost,
            self.default_page_size,
            self.max_page_size,
        )

    @property
    def duplicate_search(self) -> Search:
        return Search(
            self.duplicate_window_hours, self.duplicate_distance_km, self.duplicate_min_similarity
        )

    @property
    def sla_rules(self) -> SlaRules:
        return SlaRules(
            at_risk_share=self.sla_at_risk_share,
            escalation_delays=tuple(timedelta(hours=h) for h in self.escalation_delays_hours),
            auto_close_after=timedelta(hours=self.auto_close_hours),
        )

    @classmethod
    def from_env(cls, env_file: str | None = ".env", **overrides: Any) -> "Settings":
        config = Config(env_file if env_file and Path(env_file).exists() else None)
        values = {}
        for f in fields(cls):
            declared: Declared = f.metadata["setting"]
            if declared.parse is not None:
                values[f.name] = declared.parse(config, declared.env)
            else:
                cast = f.type if f.type in (int, float, bool, Path) else str
                values[f.name] = config(declared.env, cast=cast, default=f.default)
        known = {f.name for f in fields(cls)}
        return cls(**{**values, **{k: v for k, v in overrides.items() if k in known}})

    @property
    def province(self) -> Pack:
        """The province pack (read once per process)."""
        return load_pack(self.pack)

    @property
    def metrics_here(self) -> bool:
        """Whether the API's own port answers `/metrics`: in production only behind a token."""
        if not self.metrics or self.metrics_port:
            return False
        return not self.production or self.metrics_token is not None

    @property
    def default_region(self) -> str:
        """Where intake files a complaint that names no place and shares no location."""
        return self.intake_default_region or self.province.default_region

    def check(self) -> None:
        for f in fields(self):
            declared: Declared = f.metadata["setting"]
            value = getattr(self, f.name)
            if declared.valid is not None and not declared.valid(value):
                got = ",".join(f"{v:g}" for v in value) if isinstance(value, tuple) else value
                raise ValueError(f"{declared.env} {declared.problem} (got {got})")
        # What one setting cannot say alone.
        self._check_secrets()
        try:
            province = self.province
        except PackError as exc:
            raise ValueError(f"KILAS_PACK: {exc}") from None
        if self.intake_default_region is not None and not province.region(
            self.intake_default_region
        ):
            raise ValueError(
                f"KILAS_INTAKE_DEFAULT_REGION must be a region of the pack {province.key!r}, "
                f"such as {province.default_region} (got {self.intake_default_region})"
            )
        if not 1 <= self.default_page_size <= self.max_page_size:
            raise ValueError("KILAS_DEFAULT_PAGE_SIZE must be between 1 and KILAS_MAX_PAGE_SIZE")
        if not 1 <= self.db_pool_min <= self.db_pool_max:
            raise ValueError("KILAS_DB_POOL_MIN must be at least 1 and at most KILAS_DB_POOL_MAX")
        if (urlsplit(self.broadcast_url).scheme or self.broadcast_url) not in BROADCAST_SCHEMES:
            raise ValueError(
                "KILAS_BROADCAST_URL must be memory://, redis://host:port/db or postgres:// "
                f"(got {self.broadcast_url!r})"
            )
        if self.rate_limit_url and urlsplit(self.rate_limit_url).scheme not in ("redis", "rediss"):
            raise ValueError(
                "KILAS_RATE_LIMIT_URL must be empty (count in this instance's memory) or "
                f"redis://host:port/db (got a {urlsplit(self.rate_limit_url).scheme!r} URL)"
            )

    def _check_secrets(self) -> None:
        if self.jwt_secret is not None and self.jwt_public_key is not None:
            raise ValueError(
                "set one of KILAS_JWT_SECRET (HS256) and KILAS_JWT_PUBLIC_KEY (RS256), not both"
            )
        channel_secrets = {
            "KILAS_META_APP_SECRET": self.meta_app_secret,
            "KILAS_META_VERIFY_TOKEN": self.meta_verify_token,
            "KILAS_X_CONSUMER_SECRET": self.x_consumer_secret,
            "KILAS_INTAKE_SECRET": self.intake_secret,
        }
        for env, value in channel_secrets.items():
            if self.production and value == DEVELOPMENT_CHANNEL_SECRET:
                raise ValueError(
                    f"KILAS_ENV=production refuses the published development secret as {env}"
                )
        if not self.production or self.jwt_secret is None:
            return
        if self.jwt_secret == DEVELOPMENT_JWT_SECRET:
            raise ValueError(
                "KILAS_ENV=production refuses the published development JWT secret: set "
                "KILAS_JWT_SECRET to a random secret (e.g. `python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'`) or use KILAS_JWT_PUBLIC_KEY"
            )
        if len(self.jwt_secret) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"KILAS_ENV=production needs a KILAS_JWT_SECRET of at least {MIN_SECRET_LENGTH} "
                "characters"
            )


def readme_table() -> str:
    """The README's table of settings (its Configuration section), made from the declarations:
    tests/test_settings_table.py fails when the README's differs."""
    rows = ["| Setting | Variable | Flag | Default |", "| --- | --- | --- | --- |"]
    for f in fields(Settings):
        declared: Declared = f.metadata["setting"]
        rows.append(
            f"| {declared.about} | `{declared.env}` | "
            f"{f'`{declared.flag}`' if declared.flag else ''} | "
            f"{declared.shown or _shown(f.default)} |"
        )
    return "\n".join(row.replace("|  |", "| |") for row in rows)


def _shown(default: Any) -> str:
    if default is None:
        return "unset"
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    if isinstance(default, tuple) and default and isinstance(default[0], float):
        return "`" + ",".join(f"{value:g}" for value in default) + "`"
    if isinstance(default, float) and default.is_integer() and default >= 10:
        return f"`{int(default)}`"
    return f"`{default}`"
