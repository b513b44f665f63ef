"""Settings, read once from the environment (and `.env` if present), with defaults that run
locally: an embedded PostgreSQL in `.kilas/` and the in-memory event bus."""

from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.config import Config

from kilas.domain.sla import SlaRules

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


# Signs the tokens of `kilas token` on a development machine with no KILAS_JWT_SECRET. Public by
# design (it is in the source), so production refuses to start with it.
DEVELOPMENT_JWT_SECRET = "kilas-development-secret-not-for-production"
MIN_SECRET_LENGTH = 32


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path(".kilas")
    database_url: str | None = None
    broadcast_url: str = "memory://"
    env: str = "development"
    log_level: str = "info"
    db_pool_min: int = 2
    db_pool_max: int = 10
    default_page_size: int = 20
    max_page_size: int = 100
    subscriber_queue_size: int = 1000
    event_poll_interval: float = 2.0
    # None: on in development and test, off in production.
    graphiql: bool | None = None
    # Where GraphiQL's files are cached; None: the user's cache directory (web/graphiql.py).
    graphiql_assets_dir: Path | None = None
    introspection: bool | None = None
    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2000
    max_query_cost: int = 50_000
    max_body_bytes: int = 256 * 1024
    max_subscriptions_per_connection: int = 20
    max_connections_per_caller: int = 20
    rate_limit: int = 600
    rate_limit_burst: int = 100
    rate_limit_url: str = ""
    allowed_origins: tuple[str, ...] = ()
    demo: bool = False
    simulate: bool = False
    simulate_rate: float = 30.0
    sla_at_risk_share: float = 0.25
    escalation_delays_hours: tuple[float, ...] = (0.0, 24.0, 24.0)
    auto_close_hours: float = 72.0
    sla_sweep_interval: float = 30.0
    dashboard_interval: float = 1.0
    leaderboard_min_sample: int = 10
    # Secrets stay out of repr(): settings end up in logs and test reports.
    jwt_secret: str | None = field(default=None, repr=False)
    jwt_public_key: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    # The legacy `graphql-ws` subscription protocol, for old clients only: off unless asked for.
    legacy_graphql_ws: bool = False
    simulate_token: str | None = field(default=None, repr=False)
    ws_init_timeout: float = 5.0
    # Read queries answered by one SQL statement per root field (compiler/); off: strawberry's
    # field-by-field execution for everything, the oracle the compiled path is tested against.
    compiled_reads: bool = True
    # Subscribers of an event stream or a live feed who would receive the same bytes share one
    # execution per event or value (live/cohorts.py); off: strawberry executes every
    # subscriber's selection itself.
    live_cohorts: bool = True

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
        d = cls()
        settings = cls(
            host=config("KILAS_HOST", default=d.host),
            port=config("KILAS_PORT", cast=int, default=d.port),
            data_dir=Path(config("KILAS_DATA_DIR", default=str(d.data_dir))),
            database_url=config("KILAS_DATABASE_URL", default=None) or None,
            broadcast_url=config("KILAS_BROADCAST_URL", default=d.broadcast_url),
            env=config("KILAS_ENV", default=d.env),
            log_level=config("KILAS_LOG_LEVEL", default=d.log_level),
            db_pool_min=config("KILAS_DB_POOL_MIN", cast=int, default=d.db_pool_min),
            db_pool_max=config("KILAS_DB_POOL_MAX", cast=int, default=d.db_pool_max),
            default_page_size=config(
                "KILAS_DEFAULT_PAGE_SIZE", cast=int, default=d.default_page_size
            ),
            max_page_size=config("KILAS_MAX_PAGE_SIZE", cast=int, default=d.max_page_size),
            subscriber_queue_size=config(
                "KILAS_SUBSCRIBER_QUEUE_SIZE", cast=int, default=d.subscriber_queue_size
            ),
            event_poll_interval=config(
                "KILAS_EVENT_POLL_INTERVAL", cast=float, default=d.event_poll_interval
            ),
            graphiql=_switch(config, "KILAS_GRAPHIQL"),
            graphiql_assets_dir=_optional_path(config("KILAS_GRAPHIQL_ASSETS_DIR", default="")),
            introspection=_switch(config, "KILAS_INTROSPECTION"),
            max_query_depth=config("KILAS_MAX_QUERY_DEPTH", cast=int, default=d.max_query_depth),
            max_aliases=config("KILAS_MAX_ALIASES", cast=int, default=d.max_aliases),
            max_tokens=config("KILAS_MAX_TOKENS", cast=int, default=d.max_tokens),
            max_query_cost=config("KILAS_MAX_QUERY_COST", cast=int, default=d.max_query_cost),
            max_body_bytes=config("KILAS_MAX_BODY_BYTES", cast=int, default=d.max_body_bytes),
            max_subscriptions_per_connection=config(
                "KILAS_MAX_SUBSCRIPTIONS_PER_CONNECTION",
                cast=int,
                default=d.max_subscriptions_per_connection,
            ),
            max_connections_per_caller=config(
                "KILAS_MAX_CONNECTIONS_PER_CALLER", cast=int, default=d.max_connections_per_caller
            ),
            rate_limit=config("KILAS_RATE_LIMIT", cast=int, default=d.rate_limit),
            rate_limit_burst=config("KILAS_RATE_LIMIT_BURST", cast=int, default=d.rate_limit_burst),
            rate_limit_url=config("KILAS_RATE_LIMIT_URL", default=d.rate_limit_url),
            allowed_origins=tuple(
                o.strip()
                for o in config("KILAS_ALLOWED_ORIGINS", default="").split(",")
                if o.strip()
            ),
            demo=config("KILAS_DEMO", cast=bool, default=d.demo),
            simulate=config("KILAS_SIMULATE", cast=bool, default=d.simulate),
            simulate_rate=config("KILAS_SIMULATE_RATE", cast=float, default=d.simulate_rate),
            sla_at_risk_share=config(
                "KILAS_SLA_AT_RISK_SHARE", cast=float, default=d.sla_at_risk_share
            ),
            escalation_delays_hours=_hours_list(
                config("KILAS_ESCALATION_DELAYS_HOURS", default="0,24,24")
            ),
            auto_close_hours=config(
                "KILAS_AUTO_CLOSE_HOURS", cast=float, default=d.auto_close_hours
            ),
            sla_sweep_interval=config(
                "KILAS_SLA_SWEEP_INTERVAL", cast=float, default=d.sla_sweep_interval
            ),
            dashboard_interval=config(
                "KILAS_DASHBOARD_INTERVAL", cast=float, default=d.dashboard_interval
            ),
            leaderboard_min_sample=config(
                "KILAS_LEADERBOARD_MIN_SAMPLE", cast=int, default=d.leaderboard_min_sample
            ),
            compiled_reads=config("KILAS_COMPILED_READS", cast=bool, default=d.compiled_reads),
            live_cohorts=config("KILAS_LIVE_COHORTS", cast=bool, default=d.live_cohorts),
            jwt_secret=config("KILAS_JWT_SECRET", default=None) or None,
            jwt_public_key=_pem(config("KILAS_JWT_PUBLIC_KEY", default=None) or None),
            jwt_issuer=config("KILAS_JWT_ISSUER", default=None) or None,
            jwt_audience=config("KILAS_JWT_AUDIENCE", default=None) or None,
            legacy_graphql_ws=config("KILAS_LEGACY_GRAPHQL_WS", cast=bool, default=False),
            simulate_token=config("KILAS_SIMULATE_TOKEN", default=None) or None,
            ws_init_timeout=config("KILAS_WS_INIT_TIMEOUT", cast=float, default=d.ws_init_timeout),
        )
        known = {f.name for f in fields(cls)}
        return replace(settings, **{k: v for k, v in overrides.items() if k in known})

    def check(self) -> None:
        if not 0 < self.sla_at_risk_share < 1:
            raise ValueError("KILAS_SLA_AT_RISK_SHARE must be between 0 and 1, e.g. 0.25")
        if len(self.escalation_delays_hours) != 3 or min(self.escalation_delays_hours) < 0:
            raise ValueError(
                "KILAS_ESCALATION_DELAYS_HOURS must be three hours, e.g. 0,24,24: to the OPD head "
                "after the breach, then to the command center, then to the governor's office"
            )
        if self.auto_close_hours <= 0:
            raise ValueError("KILAS_AUTO_CLOSE_HOURS must be positive")
        if self.sla_sweep_interval < 0 or self.dashboard_interval <= 0:
            raise ValueError(
                "KILAS_SLA_SWEEP_INTERVAL must be >= 0 (0: off) and KILAS_DASHBOARD_INTERVAL > 0"
            )
        self._check_secrets()
        if not 0 < self.ws_init_timeout <= 60:
            raise ValueError("KILAS_WS_INIT_TIMEOUT must be between 0 and 60 seconds")
        if self.simulate_rate <= 0:
            raise ValueError("KILAS_SIMULATE_RATE must be a positive number of events per minute")
        if self.leaderboard_min_sample < 1:
            raise ValueError("KILAS_LEADERBOARD_MIN_SAMPLE must be at least 1")
        if self.max_page_size < 1:
            raise ValueError(f"KILAS_MAX_PAGE_SIZE must be at least 1 (got {self.max_page_size})")
        if not 1 <= self.default_page_size <= self.max_page_size:
            raise ValueError("KILAS_DEFAULT_PAGE_SIZE must be between 1 and KILAS_MAX_PAGE_SIZE")
        if not 1 <= self.db_pool_min <= self.db_pool_max:
            raise ValueError("KILAS_DB_POOL_MIN must be at least 1 and at most KILAS_DB_POOL_MAX")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"KILAS_PORT must be a TCP port, 0-65535 (got {self.port})")
        if self.subscriber_queue_size < 10:
            raise ValueError("KILAS_SUBSCRIBER_QUEUE_SIZE must be at least 10")
        if self.event_poll_interval <= 0:
            raise ValueError("KILAS_EVENT_POLL_INTERVAL must be positive")
        if self.env not in ("development", "production", "test"):
            raise ValueError("KILAS_ENV must be development, production or test")
        self._check_limits()
        if (urlsplit(self.broadcast_url).scheme or self.broadcast_url) not in BROADCAST_SCHEMES:
            raise ValueError(
                "KILAS_BROADCAST_URL must be memory://, redis://host:port/db or postgres:// "
                f"(got {self.broadcast_url!r})"
            )

    def _check_limits(self) -> None:
        minimums = {
            "KILAS_MAX_QUERY_DEPTH": (self.max_query_depth, 2),
            "KILAS_MAX_ALIASES": (self.max_aliases, 0),
            "KILAS_MAX_TOKENS": (self.max_tokens, 100),
            "KILAS_MAX_QUERY_COST": (self.max_query_cost, 100),
            "KILAS_MAX_BODY_BYTES": (self.max_body_bytes, 1024),
            "KILAS_MAX_SUBSCRIPTIONS_PER_CONNECTION": (self.max_subscriptions_per_connection, 1),
            "KILAS_MAX_CONNECTIONS_PER_CALLER": (self.max_connections_per_caller, 1),
            "KILAS_RATE_LIMIT": (self.rate_limit, 0),
            "KILAS_RATE_LIMIT_BURST": (self.rate_limit_burst, 1),
        }
        for name, (value, least) in minimums.items():
            if value < least:
                raise ValueError(f"{name} must be at least {least} (got {value})")
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
