"""The read-path benchmark's printout: the run's circumstances, then one table row per
(query, server) with the median of the rounds, and Kilas against its targets."""

import os
import statistics
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

from _read_queries import ReadQuery
from _wrk import LoadResult

BASELINE, KILAS, FIELD_BY_FIELD, POSTGRAPHILE = (
    "baseline (one SQL)", "Kilas", "Kilas, COMPILED_READS=false", "PostGraphile 5",
)  # fmt: skip
# Kilas's requests per second against the baseline's.
TARGETS = {"50 newest complaints": 0.5, "1 newest complaint": 0.8}
TAIL_TARGET = 3.0  # p99 / p50


def report(
    servers: list[str],
    queries: list[ReadQuery],
    results: dict[tuple[str, str], list[LoadResult]],
    statements: dict[tuple[str, str], str],
) -> None:
    def median(name: str, query: str, field: str) -> float:
        return statistics.median(getattr(r, field) for r in results[name, query])

    print(
        "\n| query | server | req/s | vs baseline | p50 ms | p99 ms | p99/p50 | statements |\n"
        "| --- | --- | --- | --- | --- | --- | --- | --- |"
    )
    for query in queries:
        base = median(BASELINE, query.name, "requests_per_s")
        for server in servers:
            if (server, query.name) not in results:
                continue
            rps, p50, p99 = (
                median(server, query.name, f) for f in ("requests_per_s", "p50_ms", "p99_ms")
            )
            print(
                f"| {query.name} | {server} | {rps:,.0f} | {rps / base:.2f}x | {p50:.1f} | "
                f"{p99:.1f} | {p99 / p50:.1f} | "
                f"{statements.get((server, query.name), '-')} |"
            )
    print(f"\nTargets for {KILAS}:")
    for query in queries:
        rps = median(KILAS, query.name, "requests_per_s")
        ratio = rps / median(BASELINE, query.name, "requests_per_s")
        tail = median(KILAS, query.name, "p99_ms") / median(KILAS, query.name, "p50_ms")
        count = statements[KILAS, query.name].split()[0]
        goal = TARGETS.get(query.name)
        print(
            f"- {query.name}: "
            + (
                f"{ratio:.2f}x baseline (target {goal}x: {'met' if ratio >= goal else 'NOT met'}); "
                if goal
                else ""
            )
            + f"{count} statements for {query.root_fields} root field(s) "
            f"({'met' if int(count) <= query.root_fields else 'NOT met'}); p99/p50 {tail:.1f} "
            f"({'met' if tail <= TAIL_TARGET else 'NOT met'})"
        )


def describe_run(root: Path, args: Any) -> None:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    compiler = "present" if any((root / "compiler").glob("*.py")) else "absent"
    print(
        f"{datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, commit {commit} (compiler/ "
        f"{compiler}, work tree as it is); {args.rounds} rounds of {args.seconds} s per "
        f"(server, query), wrk -t2 -c{args.concurrency}; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
        flush=True,
    )
