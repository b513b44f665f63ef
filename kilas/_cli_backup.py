"""`kilas backup` and `kilas restore`: the commands, and the progress they draw on stderr."""

import argparse
import asyncio
import shutil
import sys
from pathlib import Path
from typing import Any, TextIO

from kilas.backup import BackupError, backup, check_output, default_output, read_archive, restore
from kilas.settings import Settings


def add_parsers(commands: Any, common: Any) -> None:
    backing_up = commands.add_parser(
        "backup",
        help="write a backup of the database to a file, while Kilas runs",
        description="Dump the database (the embedded one of --data-dir, or --database-url) "
        "with pg_dump in its custom format: one consistent snapshot, taken while `kilas serve` "
        "keeps serving. The file appears under its name only when it is complete, and an "
        "existing file is never overwritten.",
    )
    common(backing_up)
    backing_up.add_argument(
        "--output",
        type=Path,
        help="the file to write (default: kilas-backup-YYYYMMDD-HHMMSS.dump here)",
    )

    restoring = commands.add_parser(
        "restore",
        help="restore a backup into an empty database, or replace one with --replace",
        description="Restore a file of `kilas backup` in one transaction: all of it or "
        "nothing. The file is checked first (a Kilas backup whose migrations this Kilas "
        "knows). A database that already holds tables is left alone unless --replace is "
        "given; then what it holds is first saved to kilas-replaced-YYYYMMDD-HHMMSS.dump here. "
        "Stop `kilas serve` on the database before restoring.",
    )
    common(restoring)
    restoring.add_argument("archive", type=Path, metavar="FILE", help="a file of `kilas backup`")
    restoring.add_argument(
        "--replace",
        action="store_true",
        help="replace what the database holds (saved to a backup first)",
    )


def run(args: argparse.Namespace, settings: Settings, database: Any) -> int:
    progress = Bar(sys.stderr)
    try:
        if args.command == "backup":
            _backup(args.output or default_output(), settings, database, progress)
        else:
            _restore(args.archive, args.replace, settings, database, progress)
    except BackupError as error:
        progress.close()
        print(f"kilas: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        progress.close()
        print("kilas: interrupted", file=sys.stderr)
        return 1
    return 0


def _backup(output: Path, settings: Settings, database: Any, progress: "Bar") -> None:
    check_output(output)
    _check_data_dir(settings)
    with database(settings) as url:
        done = asyncio.run(backup(url, output, progress))
    print(f"backup written to {done.path}: {_size(done.size)}, {done.tables} tables")


def _restore(
    archive_path: Path, replace: bool, settings: Settings, database: Any, progress: "Bar"
) -> None:
    # The file is checked before any database starts, or is created for it.
    archive = asyncio.run(read_archive(archive_path))
    if settings.database_url is None:
        from kilas.db.embedded import ServeLock

        server = ServeLock(settings.data_dir).holder()
        if server is not None:
            raise BackupError(
                f"`kilas serve` (pid {server.pid}) serves {settings.data_dir}: stop it before "
                "restoring into it"
            )
    with database(settings) as url:
        done = asyncio.run(restore(url, archive, progress, replace=replace))
    if done.replaced is not None:
        print(f"what the database held is saved in {done.replaced.path}")
    print(f"restored {done.tables} tables from {archive.path} (migration {done.migration})")
    from kilas.db.migrate import load_migrations

    latest = len(load_migrations())
    if done.migration < latest:
        print(f"it predates migrations up to {latest}: `kilas migrate` or `kilas serve` adds them")


def _check_data_dir(settings: Settings) -> None:
    """A backup of a data directory that does not exist would create one, empty."""
    pgdata = settings.data_dir.expanduser() / "pgdata"
    if settings.database_url is None and not (pgdata / "PG_VERSION").exists():
        raise BackupError(f"no Kilas database in {settings.data_dir}: nothing to back up")


def _size(size: int) -> str:
    value, unit = float(size), "bytes"
    for larger in ("KiB", "MiB", "GiB"):
        if value < 1024:
            break
        value, unit = value / 1024, larger
    return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"


class Bar:
    """Progress by table: a bar redrawn in place on a terminal; elsewhere (logs, CI, a pipe),
    which would keep every redraw, one line as each step starts."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.action, self.total, self.count = "", 0, 0
        self._drawn = False

    def start(self, action: str, total: int) -> None:
        self.action, self.total, self.count = action, total, 0
        if self.tty:
            self._draw("")
        else:
            print(f"{action}: {total} tables", file=self.stream, flush=True)

    def advance(self, table: str) -> None:
        self.count += 1
        if self.tty:
            self._draw(table)

    def done(self) -> None:
        if self._drawn:
            self.count = max(self.count, self.total)
            self._draw("")
        self.close()

    def close(self) -> None:
        """End the bar's line, as far as it got, so that what follows starts on its own."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False

    def _draw(self, table: str) -> None:
        # The total is counted before pg_dump starts; a table created meanwhile goes past it.
        total = max(self.total, self.count, 1)
        width = 24
        filled = width * self.count // total
        line = (
            f"{self.action} [{'#' * filled}{'.' * (width - filled)}] {self.count}/{total} {table}"
        )
        columns = shutil.get_terminal_size().columns - 1
        self.stream.write("\r" + line[:columns].ljust(columns))
        self.stream.flush()
        self._drawn = True
