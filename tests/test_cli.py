"""The `kilas` command as a user runs it: real processes, real signals, a real embedded server."""

import asyncio
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kilas.db.pool import connect
from tests._core_helpers import (
    Kilas,
    postmaster_pid,
    process_gone,
    run,
    traversable_dir,
    wait_gone,
)
from tests.wire import free_port

SUBMIT = """
mutation {
  submitComplaint(input: {channel: WEB, text: "Lampu PJU di Jalan Pemuda padam sejak Senin.",
                          regionCode: "33.74"}) {
    complaint { trackingNumber status region { code } }
    errors { code message }
  }
}
"""
TRACK = "query($n: String!) { complaint(trackingNumber: $n) { status text region { code } } }"


@pytest.fixture
def data_root() -> Iterator[Path]:
    with traversable_dir("kilas-cli-") as root:
        yield root


def test_help_lists_every_command(tmp_path: Path) -> None:
    result = run(tmp_path, "--help")
    assert result.returncode == 0
    for command in ("serve", "migrate", "seed", "export-schema"):
        assert command in result.stdout


def test_serve_help_shows_where_to_listen_and_where_the_data_lives(tmp_path: Path) -> None:
    result = run(tmp_path, "serve", "--help")
    assert result.returncode == 0
    for flag in ("--host", "--port", "--data-dir", "--database-url", "--demo"):
        assert flag in result.stdout


def test_export_schema_writes_the_sdl(tmp_path: Path) -> None:
    result = run(tmp_path, "export-schema", "--output", str(tmp_path / "schema.graphql"))
    assert result.returncode == 0, result.stderr
    sdl = (tmp_path / "schema.graphql").read_text()
    assert "submitComplaint(input: SubmitComplaintInput!)" in sdl


def test_migrate_applies_the_migrations_to_the_given_database_once(
    tmp_path: Path, empty_database_url: str
) -> None:
    first = run(tmp_path, "migrate", "--database-url", empty_database_url)
    assert first.returncode == 0, first.stderr
    assert "migrations applied: [1, 2, 3, 4" in first.stdout

    again = run(tmp_path, "migrate", "--database-url", empty_database_url)
    assert again.returncode == 0, again.stderr
    assert "migrations applied: none pending" in again.stdout

    async def regions() -> int:
        conn = await connect(empty_database_url)
        try:
            return int(await conn.fetchval("SELECT count(*) FROM regions"))
        finally:
            await conn.close()

    assert asyncio.run(regions()) == 35


def test_migrate_without_a_database_url_migrates_the_embedded_one_and_stops_it(
    data_root: Path,
) -> None:
    data_dir = data_root / "kilas"
    first = run(data_root, "migrate", "--data-dir", str(data_dir))
    assert first.returncode == 0, first.stderr
    assert "migrations applied: [1, 2, 3, 4" in first.stdout
    assert (data_dir / "pgdata" / "PG_VERSION").exists()
    assert postmaster_pid(data_dir) is None, "the embedded server is left running"

    again = run(data_root, "migrate", "--data-dir", str(data_dir))
    assert again.returncode == 0, again.stderr
    assert "migrations applied: none pending" in again.stdout
    assert postmaster_pid(data_dir) is None


def test_migrate_refuses_a_database_of_a_newer_kilas_with_a_one_line_message(
    tmp_path: Path, empty_database_url: str
) -> None:
    async def from_the_future() -> None:
        conn = await connect(empty_database_url)
        try:
            await conn.execute(
                "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
                "checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            await conn.execute("INSERT INTO schema_migrations VALUES (99, 'future', 'x')")
        finally:
            await conn.close()

    asyncio.run(from_the_future())
    result = run(tmp_path, "migrate", "--database-url", empty_database_url)
    assert result.returncode == 1
    assert result.stderr.startswith("kilas: the database has migrations [99]")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("KILAS_MAX_PAGE_SIZE", "0", "KILAS_MAX_PAGE_SIZE must be at least 1 (got 0)"),
        ("KILAS_DEFAULT_PAGE_SIZE", "500", "KILAS_DEFAULT_PAGE_SIZE must be between 1 and"),
        ("KILAS_PORT", "eighty", "'KILAS_PORT' has value 'eighty'. Not a valid int."),
        ("KILAS_ENV", "staging", "KILAS_ENV must be development, production or test"),
        ("KILAS_BROADCAST_URL", "kafka://x", "KILAS_BROADCAST_URL must be memory://, redis://"),
    ],
)
@pytest.mark.parametrize("command", ["serve", "migrate"])
def test_invalid_settings_stop_the_command_with_a_clear_message(
    data_root: Path, command: str, variable: str, value: str, message: str
) -> None:
    result = run(data_root, command, "--data-dir", str(data_root / "data"), **{variable: value})

    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kilas: "), result.stderr
    assert message in lines[0]
    assert not (data_root / "data").exists(), "no embedded server is started for bad settings"


def test_serve_refuses_an_unknown_broadcast_flag_value_before_starting_anything(
    data_root: Path,
) -> None:
    result = run(
        data_root, "serve", "--data-dir", str(data_root / "d"), "--broadcast-url", "kafka://x"
    )

    assert result.returncode == 2
    assert result.stderr.strip() == (
        "kilas: KILAS_BROADCAST_URL must be memory://, redis://host:port/db or postgres:// "
        "(got 'kafka://x')"
    )
    assert not (data_root / "d").exists()


def test_serve_without_a_database_keeps_its_data_in_an_embedded_postgresql_across_restarts(
    data_root: Path,
) -> None:
    data_dir = data_root / "kilas"
    with Kilas.serve(data_dir, free_port(), log=data_root / "first.log") as first:
        assert first.wait_healthy()["status"] == "ok"
        pid = postmaster_pid(data_dir)
        assert pid is not None and not process_gone(pid)
        submitted = first.graphql(SUBMIT)["data"]["submitComplaint"]
        assert submitted["errors"] == []
        assert submitted["complaint"]["status"] == "RECEIVED"
        number = submitted["complaint"]["trackingNumber"]

        assert first.stop() in (0, -signal.SIGTERM), first.output()
        assert postmaster_pid(data_dir) is None, "postmaster.pid is left behind"
        assert wait_gone(pid), f"the embedded postgres {pid} outlived kilas"

    with Kilas.serve(data_dir, free_port(), log=data_root / "second.log") as second:
        second.wait_healthy()
        assert second.graphql(TRACK, {"n": number})["data"]["complaint"] == {
            "status": "RECEIVED",
            "text": "Lampu PJU di Jalan Pemuda padam sejak Senin.",
            "region": {"code": "33.74"},
        }
        pid = postmaster_pid(data_dir)
        assert pid is not None
        assert second.stop() in (0, -signal.SIGTERM), second.output()
        assert postmaster_pid(data_dir) is None
        assert wait_gone(pid)


def test_two_instances_with_their_own_data_dirs_run_side_by_side(data_root: Path) -> None:
    dirs = [data_root / "semarang", data_root / "surakarta"]
    with (
        Kilas.serve(dirs[0], free_port(), log=data_root / "a.log") as a,
        Kilas.serve(dirs[1], free_port(), log=data_root / "b.log") as b,
    ):
        a.wait_healthy()
        b.wait_healthy()
        pids = [postmaster_pid(d) for d in dirs]
        assert None not in pids and pids[0] != pids[1]

        number = a.graphql(SUBMIT)["data"]["submitComplaint"]["complaint"]["trackingNumber"]
        assert a.graphql(TRACK, {"n": number})["data"]["complaint"]["status"] == "RECEIVED"
        # Each instance has a database of its own.
        assert b.graphql(TRACK, {"n": number})["data"]["complaint"] is None

        assert a.stop() in (0, -signal.SIGTERM), a.output()
        assert b.wait_healthy(timeout=5)["status"] == "ok", "b is undisturbed by a's shutdown"
        assert b.stop() in (0, -signal.SIGTERM), b.output()
    for d, pid in zip(dirs, pids, strict=True):
        assert postmaster_pid(d) is None
        assert pid is not None and wait_gone(pid)


def test_after_kilas_is_killed_the_next_run_adopts_and_then_stops_the_orphaned_server(
    data_root: Path,
) -> None:
    data_dir = data_root / "kilas"
    with Kilas.serve(data_dir, free_port(), log=data_root / "killed.log") as killed:
        killed.wait_healthy()
        orphan = postmaster_pid(data_dir)
        assert killed.stop(signal.SIGKILL) == -signal.SIGKILL
        assert orphan is not None and not process_gone(orphan)

        with Kilas.serve(data_dir, free_port(), log=data_root / "next.log") as following:
            following.wait_healthy()
            assert following.stop() in (0, -signal.SIGTERM), following.output()
            assert wait_gone(orphan), "the embedded server of a killed kilas is never stopped"
            assert postmaster_pid(data_dir) is None


def test_serve_with_an_unreachable_redis_fails_with_that_error_alone_and_stops_postgres(
    data_root: Path,
) -> None:
    data_dir = data_root / "kilas"
    unreachable = {"KILAS_BROADCAST_URL": f"redis://127.0.0.1:{free_port()}/0"}
    with Kilas.serve(data_dir, free_port(), log=data_root / "k.log", env=unreachable) as k:
        k.process.wait(timeout=60)
        output = k.output()
        assert k.process.returncode != 0
        assert "Connection refused" in output
        assert postmaster_pid(data_dir) is None
        # The pool opened before the bus failed must be closed too, not left to reconnect to a
        # server that is shutting down (and bury the real error under its tracebacks).
        assert "Failed to restore the pool connection floor" not in output
        assert "CannotConnectNowError" not in output


def test_a_second_serve_on_a_served_data_directory_is_refused_saying_who_serves_it(
    data_root: Path,
) -> None:
    data_dir = data_root / "kilas"
    port = free_port()
    with Kilas.serve(data_dir, port, log=data_root / "first.log") as first:
        first.wait_healthy()
        number = first.graphql(SUBMIT)["data"]["submitComplaint"]["complaint"]["trackingNumber"]

        second = run(data_root, "serve", "--data-dir", str(data_dir), "--port", str(free_port()))

        assert second.returncode == 1, second.stderr
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1, second.stderr
        assert lines[0].startswith("kilas: another `kilas serve` (pid ")
        assert f"(pid {first.process.pid}, http://127.0.0.1:{port}/graphql)" in lines[0]
        assert str(data_dir) in lines[0]
        assert "KILAS_DATABASE_URL" in lines[0]
        assert "KILAS_BROADCAST_URL=redis://host:6379/0 or postgres://" in lines[0]
        assert first.wait_healthy(timeout=5)["status"] == "ok", "the first is undisturbed"
        assert first.graphql(TRACK, {"n": number})["data"]["complaint"]["status"] == "RECEIVED"
        assert first.stop() in (0, -signal.SIGTERM), first.output()

    # Once the first has stopped, the directory is free again.
    with Kilas.serve(data_dir, free_port(), log=data_root / "next.log") as following:
        following.wait_healthy()
        assert following.stop() in (0, -signal.SIGTERM), following.output()


def test_commands_beside_a_running_serve_say_they_use_its_database_and_leave_it_running(
    data_root: Path,
) -> None:
    data_dir = data_root / "kilas"
    with Kilas.serve(data_dir, free_port(), log=data_root / "serve.log") as server:
        server.wait_healthy()
        postmaster = postmaster_pid(data_dir)
        pid = server.process.pid
        commands = [
            ("migrate",),
            ("seed",),
            ("apikey", "list"),
            ("apikey", "create", "--name", "Jembatan SP4N-LAPOR!", "--role", "PARTNER"),
        ]
        for command in commands:
            result = run(data_root, *command, "--data-dir", str(data_dir))

            assert result.returncode == 0, result.stderr
            assert f"that `kilas serve` (pid {pid}) runs" in result.stderr, result.stderr
            assert f"leaving the embedded PostgreSQL running for pid {pid}" in result.stderr
            assert "starting embedded PostgreSQL" not in result.stderr
            assert "stopping embedded PostgreSQL" not in result.stderr
            assert postmaster_pid(data_dir) == postmaster
        # The key was made in the server's own database: the server takes it at once.
        key = result.stdout.strip()
        response = httpx.post(
            f"{server.base_url}/graphql",
            json={"query": "{ regions { code } }"},
            headers={"authorization": f"Bearer {key}"},
            timeout=30,
        )
        assert response.status_code == 200 and "errors" not in response.json()
        assert server.wait_healthy(timeout=5)["status"] == "ok"
        assert server.stop() in (0, -signal.SIGTERM), server.output()
        assert postmaster is not None and wait_gone(postmaster)


def test_a_stopping_instance_says_so_on_ready_while_it_still_serves(data_root: Path) -> None:
    """SIGTERM with KILAS_SHUTDOWN_DELAY: /ready answers 503 at once, /health and the API still
    answer until the delay ends, then the instance stops as uvicorn does (the signal's code)."""
    env = {"KILAS_SHUTDOWN_DELAY": "2"}
    with Kilas.serve(data_root / "d", free_port(), log=data_root / "d.log", env=env) as kilas:
        kilas.wait_healthy()
        assert httpx.get(f"{kilas.base_url}/ready", timeout=5).status_code == 200
        signalled = time.monotonic()
        kilas.process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        ready = httpx.get(f"{kilas.base_url}/ready", timeout=5)
        assert ready.status_code == 503 and ready.json()["checks"] == {"instance": "stopping"}
        assert httpx.get(f"{kilas.base_url}/health", timeout=5).status_code == 200
        assert kilas.graphql("{ regions { code } }")["data"]["regions"]
        assert kilas.process.wait(timeout=30) in (0, -signal.SIGTERM), kilas.output()
        assert time.monotonic() - signalled >= 2
        assert "stopping in 2 s" in kilas.output()
