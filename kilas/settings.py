"""Settings, read once from the environment (and `.env` if present), with defaults that run
locally: an embedded PostgreSQL in `.kilas/` and the in-memory event bus."""

from dataclasses import dataclass, fields, replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.config import Config

from domain.sla import SlaRules

# The event buses live/bus.py knows; checked here so that a typo stops Kilas before it starts.
BROADCAST_SCHEMES = ("memory", "redis", "rediss", "postgres", "postgresql")


def _hours_list(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise ValueError(f"not a comma-separated list of hours: {text!r}") from None


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
    graphiql: bool = True
    allowed_origins: tuple[str, ...] = ()
    demo: bool = False
    sla_at_risk_share: float = 0.25
    escalation_delays_hours: tuple[float, ...] = (0.0, 24.0, 24.0)
    auto_close_hours: float = 72.0
    sla_sweep_interval: float = 30.0
    dashboard_interval: float = 1.0
    leaderboard_min_sample: int = 10

    @property
    def production(self) -> bool:
        return self.env == "production"

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
            graphiql=config("KILAS_GRAPHIQL", cast=bool, default=d.graphiql),
            allowed_origins=tuple(
                o.strip()
                for o in config("KILAS_ALLOWED_ORIGINS", default="").split(",")
                if o.strip()
            ),
            demo=config("KILAS_DEMO", cast=bool, default=d.demo),
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
        if (urlsplit(self.broadcast_url).scheme or self.broadcast_url) not in BROADCAST_SCHEMES:
            raise ValueError(
                "KILAS_BROADCAST_URL must be memory://, redis://host:port/db or postgres:// "
                f"(got {self.broadcast_url!r})"
            )
