"""The read-path benchmark compares like with like: on a small loaded database, its hand-written
SQL baseline answers every benchmark query exactly as Kilas does (compiled reads on and off),
so a change to what Kilas answers cannot leave the baseline timing something else."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUERIES = (
    "50 newest complaints",
    "1 newest complaint",
    "OPD page, open complaints + SLA",
    "programme, work items, linked complaints",
)


def test_the_baseline_answers_every_benchmark_query_as_kilas_does(database_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "bench/read_path.py", "--check", "--complaints", "400",
         "--database-url", database_url, "--postgraphile-dir", str(ROOT / "no-such-dir")],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    answers = [line for line in result.stdout.splitlines() if line.startswith("same answer")]
    assert [line.rsplit(": ", 1)[1] for line in answers] == list(QUERIES), result.stdout
    assert all("Kilas, COMPILED_READS=false" in line for line in answers)
