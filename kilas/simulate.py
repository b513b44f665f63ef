"""`kilas simulate`: a live stream of complaints through the real GraphQL API, so that a demo's
wall is alive. Intake from every channel, dispositions, follow-ups, resolutions, ratings,
rejections and reopenings, at a rate in events per minute with random (Poisson) gaps; about one
complaint in eight is left without a follow-up, for the SLA sweeper to breach when its deadline
passes. A share of the new complaints arrive as citizens' messages instead: signed platform
deliveries to the server's webhooks, whose complaints the simulator then finds and carries on
like the others. A refused mutation (a stale version, a transition someone else made first) is
logged and the complaint is read again or left alone; an unreachable server is retried with
backoff."""

import asyncio
import logging
import time

import httpx

from kilas._simulate_api import Api, ApiRefused, ApiUnavailable
from kilas._simulate_channels import ChannelSecrets, Receivers
from kilas._simulate_report import Report
from kilas._simulator import (
    DEFAULT_CHANNEL_SHARE,
    DEFAULT_RATE,
    MAX_BACKOFF,
    SimulationStopped,
    Simulator,
)
from kilas.packs import Pack

__all__ = [
    "DEFAULT_CHANNEL_SHARE",
    "DEFAULT_RATE",
    "DEFAULT_URL",
    "ChannelSecrets",
    "Report",
    "SimulationStopped",
    "Simulator",
    "simulate",
]

log = logging.getLogger("kilas.simulate")

DEFAULT_URL = "http://127.0.0.1:8000/graphql"


def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=30, trust_env=False)


async def simulate(
    url: str = DEFAULT_URL,
    *,
    rate: float = DEFAULT_RATE,
    token: str | None = None,
    seed: int | None = None,
    count: int | None = None,
    duration: float | None = None,
    verbose: bool = False,
    unreachable: str | None = None,
    channel_share: float = DEFAULT_CHANNEL_SHARE,
    channel_secrets: ChannelSecrets | None = None,
    pack: Pack | None = None,
) -> Report:
    """Run a simulation to its end (or until cancelled); the report says what it wrote.
    `unreachable` is said once if the server does not answer at first (what to do about it).
    `channel_share` of the new complaints are platform messages, signed with `channel_secrets`
    (by default the development secret a server in development checks). The place names,
    reporters and accounts are `pack`'s demo (by default Central Java's)."""
    async with client() as http:
        receivers = None
        if channel_share > 0:
            receivers = Receivers(http, url, channel_secrets or ChannelSecrets())
        simulator = Simulator(
            Api(http, url, token),
            seed=seed,
            rate=rate,
            verbose=verbose,
            channels=receivers,
            channel_share=channel_share,
            pack=pack,
        )
        started = time.monotonic()
        try:
            deadline = None if duration is None else started + duration
            if await _until_ready(simulator, deadline, unreachable):
                left = None if duration is None else duration - (time.monotonic() - started)
                await simulator.run(count=count, duration=left)
        finally:
            log.info("simulation: %s", simulator.report.summary())
        return simulator.report


async def _until_ready(
    simulator: Simulator, deadline: float | None, unreachable: str | None = None
) -> bool:
    """Prepare once the server answers; False if the deadline passed first."""
    backoff = 0.5
    while True:
        try:
            await simulator.prepare()
            return True
        except ApiRefused as exc:
            raise SimulationStopped(f"the API refused the simulator: {exc}") from None
        except ApiUnavailable as exc:
            if unreachable is not None:
                log.warning("%s (%s); waiting for it", unreachable, exc)
                unreachable = None
            else:
                log.info("waiting for Kilas at %s (%s)", simulator.api.url, exc)
            if deadline is not None and time.monotonic() + backoff > deadline:
                return False
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
