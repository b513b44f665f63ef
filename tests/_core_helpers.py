"""Running `kilas` as a real process: the command, a clean environment, and a served instance
that is always stopped (with its embedded PostgreSQL) when the test ends."""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil


def kilas_command() -> list[str]:
    script = Path(sys.executable).parent / "kilas"
    return [str(script)] if script.exists() else [sys.executable, "-m", "kilas"]


def kilas_env(**variables: str) -> dict[str, str]:
    """This process's environment without any KILAS_* setting (so no database URL), plus these.

    XDG_RUNTIME_DIR goes too: the test session's embedded server points it at its temporary
    directory, and without it each Kilas keeps its lock file in its own data directory."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("KILAS_") and k != "XDG_RUNTIME_DIR"
    }
    return env | variables


def run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`kilas ARGS` in `cwd` (which has no .env), with only these KILAS_* variables."""
    return subprocess.run(
        [*kilas_command(), *args],
        env=kilas_env(**env),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def postmaster_pid(data_dir: Path) -> int | None:
    """The pid of the embedded server of a Kilas data directory, if its pid file is there."""
    try:
        return int((data_dir / "pgdata" / "postmaster.pid").read_text().split()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None


def process_gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_gone(pid: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while not process_gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return process_gone(pid)


@dataclass
class Kilas:
    process: subprocess.Popen[bytes]
    port: int
    data_dir: Path
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @classmethod
    @contextlib.contextmanager
    def serve(
        cls, data_dir: Path, port: int, *, log: Path, env: dict[str, str] | None = None
    ) -> Iterator["Kilas"]:
        """`kilas serve` on the embedded PostgreSQL of `data_dir`, output to `log`."""
        with log.open("wb") as out:
            process = subprocess.Popen(
                [*kilas_command(), "serve", "--data-dir", str(data_dir), "--port", str(port)],
                cwd=log.parent,  # no stray .env
                env=kilas_env(KILAS_ENV="test", **(env or {})),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        kilas = cls(process, port, data_dir, log)
        try:
            yield kilas
        finally:
            kilas.stop()
            # Whatever happened above, leave no server of ours behind.
            pid = postmaster_pid(data_dir)
            if pid is not None and not process_gone(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGQUIT)
                wait_gone(pid)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_healthy(self, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"kilas exited with {self.process.returncode}:\n{self.output()}"
                )
            with contextlib.suppress(httpx.TransportError):
                response = httpx.get(f"{self.base_url}/health", timeout=2)
                if response.status_code == 200:
                    body: dict[str, Any] = response.json()
                    return body
            time.sleep(0.1)
        raise AssertionError(f"kilas did not become healthy in {timeout} s:\n{self.output()}")

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = httpx.post(
            f"{self.base_url}/graphql",
            json={"query": query, "variables": variables or {}},
            timeout=30,
        )
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body["errors"]
        return body

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Send `sig` (if still running) and return the exit code (negative: killed by signal)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
                raise AssertionError(
                    f"kilas did not stop within {timeout} s of {signal.Signals(sig).name}"
                ) from None
        return self.process.returncode


@contextlib.contextmanager
def traversable_dir(prefix: str) -> Iterator[Path]:
    """A directory for data directories that the embedded server's system user can traverse (it
    runs postgres as its own user when we are root), removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)
