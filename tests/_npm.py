"""The npm peers some tests run against Kilas (tests/npm/package.json, locked): installed with
`npm ci` on first use, on the machine's Node.js. Without Node.js those tests are skipped;
.ci/run installs it where it is missing, so that CI runs them."""

import asyncio
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

FOLDER = Path(__file__).parent / "npm"
NODE = shutil.which("node")
NPM = shutil.which("npm")
needs_node = pytest.mark.skipif(
    NODE is None or NPM is None,
    reason="no Node.js on this machine (Debian: apt-get install nodejs npm; .ci/run installs it)",
)


def install() -> None:
    """tests/npm/node_modules as the lock file says, installed once."""
    assert NPM is not None
    installed = FOLDER / "node_modules" / ".package-lock.json"
    lock = FOLDER / "package-lock.json"
    if installed.exists() and installed.stat().st_mtime >= lock.stat().st_mtime:
        return
    subprocess.run(
        [NPM, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=FOLDER,
        check=True,
        timeout=300,
    )


async def run_script(script: str, *args: str, timeout: float = 120) -> list[dict[str, Any]]:
    """Run tests/npm/`script` with Node.js; each line it prints is one JSON value."""
    assert NODE is not None
    process = await asyncio.create_subprocess_exec(
        NODE,
        str(FOLDER / script),
        *args,
        cwd=FOLDER,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode == 0, err.decode()
    return [json.loads(line) for line in out.decode().splitlines() if line.strip()]
