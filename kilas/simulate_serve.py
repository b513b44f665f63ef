"""`kilas serve --simulate`: the simulator inside the server, against the server's own API."""

import asyncio
import logging

from kilas.packs import Pack
from kilas.simulate import DEFAULT_RATE, ChannelSecrets, SimulationStopped, simulate

log = logging.getLogger("kilas.simulate")


class BackgroundSimulation:
    """`kilas serve --simulate`: the simulator inside the server, against the server's own API,
    from the moment it answers. `token` is sent as `Authorization: Bearer` when given; the
    platform messages are signed with `channel_secrets` (ChannelSecrets.of the server's
    settings; by default the development secret)."""

    def __init__(
        self,
        url: str,
        *,
        rate: float = DEFAULT_RATE,
        token: str | None = None,
        channel_secrets: ChannelSecrets | None = None,
        pack: Pack | None = None,
    ) -> None:
        self.url = url
        self.rate = rate
        self._token = token
        self._channel_secrets = channel_secrets
        self._pack = pack
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="kilas-simulate")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        try:
            await simulate(
                self.url,
                rate=self.rate,
                token=self._token,
                channel_secrets=self._channel_secrets,
                pack=self._pack,
            )
        except SimulationStopped as exc:
            log.error("the simulation stopped: %s", exc)
        except Exception:
            log.exception("the simulation failed")


def own_url(host: str, port: int) -> str:
    """The GraphQL URL at which a server listening on host:port answers this machine."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/graphql"
