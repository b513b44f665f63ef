"""deploy/: HAProxy's configuration, the Compose file and the systemd units are valid, agree with
each other and with Kilas's settings, and check health the way tests/test_rolling_restart.py
proves works."""

import re
import shutil
import subprocess
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from kilas.settings import Settings
from tests.test_rolling_restart import BACKEND_LINES, DEFAULTS_LINES, HAPROXY

DEPLOY = Path(__file__).parent.parent / "deploy"
UNITS = ("kilas.service", "kilas@.service")
SETTINGS = {f.metadata["setting"].env: f for f in fields(Settings)}
GRACE = Settings().shutdown_grace  # the default


def haproxy_sections() -> dict[str, list[str]]:
    """Each section of deploy/haproxy.cfg ("backend kilas", …) and its directives."""
    sections: dict[str, list[str]] = {}
    current: list[str] = []
    for raw in (DEPLOY / "haproxy.cfg").read_text().splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line:
            continue
        if line[0].isspace():
            current.append(" ".join(line.split()))
        else:
            current = sections.setdefault(" ".join(line.split()), [])
    return sections


def compose() -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")
    document: dict[str, Any] = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    return document


def unit(name: str) -> dict[str, dict[str, list[str]]]:
    """A systemd unit's sections, each key with its values in order (keys may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    section: dict[str, list[str]] = {}
    for raw in (DEPLOY / name).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = sections.setdefault(line.strip("[]"), {})
        else:
            key, _, value = line.partition("=")
            section.setdefault(key.strip(), []).append(value.strip())
    return sections


def test_haproxy_checks_ready_and_keeps_websockets_as_the_rolling_restart_test_does() -> None:
    sections = haproxy_sections()
    backend = sections["backend kilas"]
    for expected in BACKEND_LINES:
        assert any(d == expected or d.startswith(f"{expected} ") for d in backend), expected
    for expected in DEFAULTS_LINES:
        assert expected in sections["defaults"], expected
    assert "mode http" in sections["defaults"]
    servers = [d.split()[1:3] for d in backend if d.startswith("server ")]
    assert servers == [["kilas-a", "kilas-a:8000"], ["kilas-b", "kilas-b:8000"]]
    assert all(d.endswith(" check") for d in backend if d.startswith("server "))


@pytest.mark.skipif(not HAPROXY.exists(), reason=f"{HAPROXY} is missing: apt-get install haproxy")
def test_haproxy_accepts_the_configuration() -> None:
    checked = subprocess.run(
        [str(HAPROXY), "-c", "-f", str(DEPLOY / "haproxy.cfg")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    output = checked.stdout + checked.stderr
    # Outside Compose the servers' names do not resolve: a warning, which init-addr allows.
    assert checked.returncode == 0, output
    assert "Configuration file is valid" in output, output


def test_compose_puts_two_instances_behind_haproxy_on_one_database_and_redis() -> None:
    services = compose()["services"]
    assert set(services) == {"kilas-a", "kilas-b", "postgres", "redis", "haproxy"}
    haproxy_servers = {d.split()[2] for d in haproxy_sections()["backend kilas"] if "server" in d}
    for name in ("kilas-a", "kilas-b"):
        kilas = services[name]
        assert f"{name}:8000" in haproxy_servers
        assert kilas["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
        assert kilas["expose"] == ["8000"]
        env = kilas["environment"]
        assert env["KILAS_ENV"] == "production"
        assert env["KILAS_BROADCAST_URL"] == "redis://redis:6379/0"
        assert env["KILAS_DATABASE_URL"].startswith("postgresql://kilas:${POSTGRES_PASSWORD:?")
        assert env["KILAS_DATABASE_URL"].endswith("@postgres:5432/kilas")
        assert env["KILAS_JWT_SECRET"].startswith("${KILAS_JWT_SECRET:?")
        # Docker kills what still runs after stop_grace_period.
        assert seconds(kilas["stop_grace_period"]) > int(env["KILAS_SHUTDOWN_GRACE"]) + float(
            env["KILAS_SHUTDOWN_DELAY"]
        )
        assert "http://127.0.0.1:8000/ready" in " ".join(kilas["healthcheck"]["test"])
        assert {k: v["condition"] for k, v in kilas["depends_on"].items()} == {
            "postgres": "service_healthy",
            "redis": "service_healthy",
        }
    postgres = services["postgres"]
    assert int(re.sub(r"\D.*", "", postgres["image"].split(":")[1])) >= 16
    assert postgres["volumes"] == ["pgdata:/var/lib/postgresql/data"]
    assert "pg_isready" in postgres["healthcheck"]["test"]
    assert "redis-cli" in services["redis"]["healthcheck"]["test"]
    haproxy = services["haproxy"]
    assert "./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro" in haproxy["volumes"]
    assert "bind :8080" in haproxy_sections()["frontend kilas"]
    assert haproxy["ports"][0].endswith(":8080")
    assert {k: v["condition"] for k, v in haproxy["depends_on"].items()} == {
        "kilas-a": "service_healthy",
        "kilas-b": "service_healthy",
    }


def test_deploy_sets_only_kilas_settings_and_documents_what_it_requires() -> None:
    text = (DEPLOY / "docker-compose.yml").read_text() + (DEPLOY / "kilas.env.example").read_text()
    named = set(re.findall(r"\bKILAS_[A-Z_]+\b", text)) - {"KILAS_HTTP_PORT"}  # Compose's own
    assert named - set(SETTINGS) == set()
    readme = (DEPLOY / "README.md").read_text()
    required = set(re.findall(r"\$\{(\w+):\?", (DEPLOY / "docker-compose.yml").read_text()))
    assert required == {"POSTGRES_PASSWORD", "KILAS_JWT_SECRET"}
    assert all(f"`{name}`" in readme for name in required)


def test_the_image_installs_kilas_and_serves_on_every_address() -> None:
    lines = [line for line in (DEPLOY / "Dockerfile").read_text().splitlines() if line.strip()]
    assert "FROM python:3.11-slim" in lines
    assert any("pip install /src" in line for line in lines)
    assert 'CMD ["kilas", "serve", "--host", "0.0.0.0"]' in lines
    assert "USER kilas" in lines
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    assert ".venv" in ignored and "tests" in ignored
    assert not {"pyproject.toml", "README.md", "kilas"} & set(ignored)  # what pip install reads


@pytest.mark.parametrize("name", UNITS)
def test_the_systemd_unit_stops_kilas_with_sigterm_and_time_to_finish(name: str) -> None:
    service = unit(name)["Service"]
    assert service["Type"] == ["exec"]
    assert service["ExecStart"][0].startswith("/opt/kilas/.venv/bin/kilas serve")
    assert service["EnvironmentFile"] == ["/etc/kilas/kilas.env"]
    assert service["KillSignal"] == ["SIGTERM"]
    assert int(service["TimeoutStopSec"][0]) > GRACE
    assert service["Restart"] == ["on-failure"]
    assert service["User"] == ["kilas"]
    assert service["NoNewPrivileges"] == ["yes"]
    assert service["ProtectSystem"] == ["strict"]
    assert "/var/lib/kilas" in service["ReadWritePaths"][0].split()
    assert unit(name)["Install"]["WantedBy"] == ["multi-user.target"]
    if name == "kilas@.service":
        assert "--port %i" in service["ExecStart"][0]


def test_the_example_environment_keeps_the_grace_below_the_units_stop_timeout() -> None:
    example = dict(
        line.split("=", 1)
        for line in (DEPLOY / "kilas.env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert example["KILAS_ENV"] == "production"
    for name in UNITS:
        assert int(example["KILAS_SHUTDOWN_GRACE"]) < int(
            unit(name)["Service"]["TimeoutStopSec"][0]
        )


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_analyze_verifies_the_units(tmp_path: Path) -> None:
    # verify wants ExecStart's program to exist: a stand-in at another path.
    program = tmp_path / "kilas"
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    for name in UNITS:
        text = (DEPLOY / name).read_text()
        (tmp_path / name).write_text(text.replace("/opt/kilas/.venv/bin/kilas", str(program)))
    checked = subprocess.run(
        ["systemd-analyze", "verify", "./kilas.service", "./kilas@8001.service"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = checked.stdout + checked.stderr
    assert checked.returncode == 0, output
    # Unknown or invalid keys are only warnings: none may name our units.
    assert not [line for line in output.splitlines() if "kilas" in line], output


def seconds(duration: str) -> int:
    """A Compose duration such as `40s` or `1m`."""
    found = re.fullmatch(r"(\d+)(s|m)", duration)
    assert found, duration
    return int(found[1]) * (60 if found[2] == "m" else 1)
