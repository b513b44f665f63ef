"""The numbered SQL migrations: from scratch, again, edited, out of order, newer, concurrent."""

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from kilas.db.migrate import MIGRATIONS_DIR, MigrationError, load_migrations, migrate
from kilas.db.pool import connect

TABLES = {
    "schema_migrations", "regions", "opds", "opd_social_accounts", "categories", "sla_policies",
    "complaints", "complaint_events", "programmes", "work_items", "api_keys",
    "personal_data_access", "opd_heads", "opd_head_accounts", "province_accounts",
    "channel_deliveries", "reply_templates", "channel_contacts", "channel_replies",
}  # fmt: skip


@pytest.fixture
async def empty(empty_database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await connect(empty_database_url)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
def migrations_copy(tmp_path: Path) -> Path:
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, directory)
    return directory


async def applied_versions(conn: asyncpg.Connection) -> list[int]:
    return [
        r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations ORDER BY 1")
    ]


async def test_all_migrations_apply_from_scratch_with_the_reference_data(
    empty: asyncpg.Connection,
) -> None:
    shipped = [m.version for m in load_migrations()]
    assert shipped == list(range(1, len(shipped) + 1)) and len(shipped) >= 4

    assert await migrate(empty) == shipped

    tables = {
        r["tablename"]
        for r in await empty.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    }
    assert tables >= TABLES
    assert await applied_versions(empty) == shipped
    assert await empty.fetchval("SELECT count(*) FROM regions") == 35
    assert await empty.fetchval("SELECT count(*) FROM opds") == 31
    assert await empty.fetchval("SELECT count(*) FROM categories") == 19
    policies = await empty.fetch("SELECT response_hours FROM sla_policies ORDER BY effective_from")
    assert [p["response_hours"] for p in policies] == [48, 24]
    assert await empty.fetchrow("SELECT name, type FROM regions WHERE code = '33.74'") == (
        "Semarang",
        "KOTA",
    )


async def test_migrating_a_migrated_database_applies_nothing(empty: asyncpg.Connection) -> None:
    await migrate(empty)
    recorded = await empty.fetch("SELECT * FROM schema_migrations ORDER BY version")

    assert await migrate(empty) == []
    assert await empty.fetch("SELECT * FROM schema_migrations ORDER BY version") == recorded
    assert await empty.fetchval("SELECT count(*) FROM regions") == 35


async def test_an_edited_applied_migration_is_refused_by_name(
    empty: asyncpg.Connection, migrations_copy: Path
) -> None:
    await migrate(empty, load_migrations(migrations_copy))
    edited = migrations_copy / "0002_reference_data.sql"
    edited.write_text(edited.read_text() + "\nUPDATE regions SET name = upper(name);\n")

    with pytest.raises(MigrationError) as refused:
        await migrate(empty, load_migrations(migrations_copy))

    assert str(refused.value) == (
        "migration 0002_reference_data.sql was edited after it was applied; "
        "add a new migration instead of changing an applied one"
    )
    assert await empty.fetchval("SELECT name FROM regions WHERE code = '33.74'") == "Semarang"


async def test_a_new_migration_is_applied_after_the_shipped_ones(
    empty: asyncpg.Connection, migrations_copy: Path
) -> None:
    await migrate(empty, load_migrations(migrations_copy))
    n = len(load_migrations(migrations_copy)) + 1
    (migrations_copy / f"{n:04d}_hotline_note.sql").write_text(
        "ALTER TABLE regions ADD COLUMN hotline text;"
    )

    assert await migrate(empty, load_migrations(migrations_copy)) == [n]
    assert await empty.fetchval("SELECT name FROM schema_migrations WHERE version = $1", n) == (
        "hotline_note"
    )


async def test_a_failing_migration_leaves_no_trace_and_releases_the_lock(
    empty_database_url: str, empty: asyncpg.Connection, migrations_copy: Path
) -> None:
    await migrate(empty, load_migrations(migrations_copy))
    n = len(load_migrations(migrations_copy)) + 1
    (migrations_copy / f"{n:04d}_broken.sql").write_text(
        "CREATE TABLE half_done (id int);\nSELECT no_such_function();\n"
    )

    with pytest.raises(asyncpg.UndefinedFunctionError):
        await migrate(empty, load_migrations(migrations_copy))

    assert await empty.fetchval("SELECT to_regclass('half_done')") is None
    assert n not in await applied_versions(empty)
    other = await connect(empty_database_url)
    try:
        # Another instance is not left waiting on the advisory lock.
        assert await asyncio.wait_for(migrate(other), 10) == []
    finally:
        await other.close()


def test_a_gap_in_the_migration_numbers_is_refused(migrations_copy: Path) -> None:
    (migrations_copy / "0003_complaints.sql").unlink()

    with pytest.raises(MigrationError, match=r"must run 1\.\.n without gaps, found \[1, 2, 4, 5, "):
        load_migrations(migrations_copy)


@pytest.mark.parametrize("name", ["5_extra.sql", "0005-extra.sql", "0005_Extra.sql", "0005_.sql"])
def test_a_badly_named_migration_file_is_refused(migrations_copy: Path, name: str) -> None:
    (migrations_copy / name).write_text("SELECT 1;")

    with pytest.raises(MigrationError, match=rf"migration file name '{name}' is not NNNN_name"):
        load_migrations(migrations_copy)


def test_a_duplicate_migration_number_is_refused(migrations_copy: Path) -> None:
    (migrations_copy / "0004_other.sql").write_text("SELECT 1;")

    with pytest.raises(MigrationError, match=r"two migration files share the number\(s\) \[4\]"):
        load_migrations(migrations_copy)


async def test_a_database_migrated_by_a_newer_kilas_is_refused(empty: asyncpg.Connection) -> None:
    shipped = await migrate(empty)
    future = len(shipped) + 1
    await empty.execute(
        "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, 'future', 'x')",
        future,
    )

    with pytest.raises(MigrationError, match=rf"has migrations \[{future}\] .* newer version"):
        await migrate(empty)


async def test_five_instances_migrating_one_empty_database_at_once_apply_it_once(
    empty_database_url: str,
) -> None:
    conns = [await connect(empty_database_url) for _ in range(5)]
    try:
        results = await asyncio.gather(*(migrate(c) for c in conns))
        shipped = [m.version for m in load_migrations()]
        assert sorted(results, key=len) == [[]] * 4 + [shipped]
        assert await applied_versions(conns[0]) == shipped
        assert await conns[0].fetchval("SELECT count(*) FROM regions") == 35
        assert await conns[0].fetchval("SELECT count(*) FROM sla_policies") == 2
    finally:
        for c in conns:
            await c.close()
