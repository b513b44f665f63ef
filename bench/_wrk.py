"""One fixed-concurrency HTTP load run with wrk (Debian's `wrk` package): POST one body for a
while, then requests per second and the latency percentiles wrk measured."""

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# wrk calls done() once at the end with all threads' statistics merged.
SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [==[{body}]==]
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK {{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"status_errors": %d, "socket_errors": %d}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""


@dataclass(frozen=True)
class LoadResult:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    return path


def run_wrk(
    url: str, body: bytes, *, seconds: float, connections: int, threads: int = 2
) -> LoadResult:
    with tempfile.TemporaryDirectory(prefix="kilas-wrk-") as tmp:
        script = Path(tmp) / "post.lua"
        script.write_text(SCRIPT.format(body=body.decode()))
        out = subprocess.run(
            [
                require_wrk(),
                f"-t{threads}",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "-s",
                str(script),
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        ).stdout
    line = next((x for x in out.splitlines() if x.startswith("WRK ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    stats = json.loads(line[4:])
    return LoadResult(
        requests_per_s=stats["requests"] / (stats["duration_us"] / 1e6),
        p50_ms=stats["p50_us"] / 1000,
        p99_ms=stats["p99_us"] / 1000,
        errors=stats["status_errors"] + stats["socket_errors"],
    )
