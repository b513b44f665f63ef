"""A pack applied to a database, after the migrations and on every start.

A database serves one province. The first pack applied to it is recorded (`province`), and from
then on a start with that province's pack only adds what the pack has and the database lacks
(a new OPD, a new SLA version): what is stored, and what administrators changed through the API,
is never changed or removed. Another province's pack is refused, with the reason; only on a
database no pack was applied to yet (Central Java's reference data from the migrations) does it
replace the reference data, and only while nothing refers to it (no complaint, programme, scoped
key or endpoint). Several instances starting at once apply it one after
the other (an advisory lock), and a start with the files unchanged costs one read."""

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import asyncpg

from kilas.db import reference as reference_db
from kilas.db.pool import Connection
from kilas.domain.heads import HeadAccount, appoint
from kilas.packs.model import Account, HeadTerm, Pack, PackError
from kilas.schema.ids import WIB

log = logging.getLogger("kilas.packs")
_PACK_LOCK = 0x4B494C50


@dataclass(frozen=True)
class Applied:
    pack: str
    replaced: str | None  # the province whose reference data the pack replaced
    added: dict[str, int]  # what was added, by kind

    def __str__(self) -> str:
        counts = ", ".join(f"{n} {kind}" for kind, n in self.added.items() if n) or "nothing new"
        replaced = f" (replacing province {self.replaced})" if self.replaced else ""
        return f"province pack {self.pack!r} applied{replaced}: {counts}"


async def apply_pack(conn: Connection, pack: Pack) -> Applied | None:
    """Apply the pack; None when it was applied with these very files before."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _PACK_LOCK)
        recorded = await conn.fetchrow("SELECT pack, code, digest FROM province")
        if recorded is not None and (recorded["code"], recorded["digest"]) == (
            pack.code,
            pack.digest,
        ):
            return None
        province = recorded["code"] if recorded is not None else await _codes_in_use(conn)
        replaced = None
        if province not in (None, pack.code):
            if recorded is not None:
                raise PackError(
                    f"this database serves province {province} (pack {recorded['pack']!r}), and "
                    f"pack {pack.key!r} is province {pack.code}: a database serves one province. "
                    f"Give {pack.key!r} a database of its own (--data-dir or KILAS_DATABASE_URL), "
                    f"or keep --pack {recorded['pack']}"
                )
            await _clear(conn, pack, province)
            replaced = province
        added = await _add(conn, pack)
        await conn.execute(
            """
            INSERT INTO province (pack, code, tracking_prefix, digest) VALUES ($1, $2, $3, $4)
            ON CONFLICT (singleton) DO UPDATE
            SET pack = EXCLUDED.pack, code = EXCLUDED.code,
                tracking_prefix = EXCLUDED.tracking_prefix, digest = EXCLUDED.digest,
                applied_at = now()
            """,
            pack.key,
            pack.code,
            pack.tracking_prefix,
            pack.digest,
        )
    applied = Applied(pack.key, replaced, added)
    log.info("%s", applied)
    return applied


async def _codes_in_use(conn: Connection) -> str | None:
    """The province of a database that predates packs: its regions' (Central Java's, from the
    migrations); None when it has none."""
    codes = await conn.fetch("SELECT DISTINCT split_part(code, '.', 1) AS p FROM regions")
    if len(codes) > 1:
        raise PackError(
            "the database's regions belong to several provinces: "
            + ", ".join(sorted(r["p"] for r in codes))
        )
    return codes[0]["p"] if codes else None


async def _clear(conn: Connection, pack: Pack, province: str) -> None:
    complaints = await conn.fetchval("SELECT count(*) FROM complaints")
    if complaints:
        raise PackError(
            f"this database serves province {province} and holds {complaints} complaints of it; "
            f"pack {pack.key!r} (province {pack.code}) needs a database of its own: give another "
            "--data-dir (or KILAS_DATABASE_URL), or keep this province's pack"
        )
    try:
        async with conn.transaction():
            for table in (
                "opd_head_accounts",
                "opd_heads",
                "opd_social_accounts",
                "province_accounts",
                "sla_policy_category_hours",
                "sla_policies",
                "categories",
                "complaint_counts_by_opd",
                "opds",
                "complaint_counts",
                "regions",
            ):
                await conn.execute(f"DELETE FROM {table}")
    except asyncpg.ForeignKeyViolationError as exc:
        raise PackError(
            f"this database serves province {province} and still refers to its reference data "
            f"({exc.table_name or 'a table'}: {exc.detail or exc}); pack {pack.key!r} needs a "
            "database of its own: give another --data-dir (or KILAS_DATABASE_URL)"
        ) from None


async def _add(conn: Connection, pack: Pack) -> dict[str, int]:
    """Insert what the database lacks, by each row's natural key."""
    added: dict[str, int] = {}
    added["regions"] = await _insert_missing(
        conn,
        "regions",
        """
        INSERT INTO regions (code, bps_code, name, type, seat, seat_lat, seat_lon)
        VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (code) DO NOTHING
        """,
        [
            (r.code, r.bps_code, r.name, r.type, r.seat, r.seat_lat, r.seat_lon)
            for r in pack.regions
        ],
    )
    added["OPDs"] = await _insert_missing(
        conn,
        "opds",
        """
        INSERT INTO opds (slug, short_name, name, kind) VALUES ($1, $2, $3, $4)
        ON CONFLICT (slug) DO NOTHING
        """,
        [(o.slug, o.short_name, o.name, o.kind) for o in pack.opds],
    )
    added["categories"] = await _insert_missing(
        conn,
        "categories",
        """
        INSERT INTO categories (code, name, name_en, default_opd_id)
        SELECT $1, $2, $3, id FROM opds WHERE slug = $4
        ON CONFLICT (code) DO NOTHING
        """,
        [(c.code, c.name, c.name_en, c.default_opd) for c in pack.categories],
    )
    known = {p.effective_from for p in await reference_db.all_sla_policies(conn)}
    policies = [p for p in pack.policies if p.effective_from not in known]
    for p in policies:
        await reference_db.insert_sla_policy(
            conn, p.name, p.effective_from, p.response_hours, p.resolution_hours,
            dict(p.category_hours),
        )  # fmt: skip
    added["SLA policies"] = len(policies)
    added["accounts"] = await add_accounts(conn, pack.accounts)
    added["heads"] = await add_heads(conn, pack.heads, anchor=None)
    return added


async def _insert_missing(
    conn: Connection, table: str, sql: str, rows: list[tuple[object, ...]]
) -> int:
    """Run an `ON CONFLICT DO NOTHING` insert for every row; return how many rows it added."""
    before: int = await conn.fetchval(f"SELECT count(*) FROM {table}")
    await conn.executemany(sql, rows)
    after: int = await conn.fetchval(f"SELECT count(*) FROM {table}")
    return after - before


async def add_accounts(conn: Connection, accounts: tuple[Account, ...]) -> int:
    """Register the official accounts not yet registered; return how many were."""
    added = 0
    for a in accounts:
        if a.kind == "OPD":
            status = await conn.execute(
                """
                INSERT INTO opd_social_accounts (opd_id, platform, handle, external_id, verified)
                SELECT id, $2, $3, $4, $5 FROM opds WHERE slug = $1
                ON CONFLICT DO NOTHING
                """,
                a.owner, a.platform, a.handle, a.external_id, a.verified,
            )  # fmt: skip
        elif a.kind == "PROVINCE":
            status = await conn.execute(
                """
                INSERT INTO province_accounts (owner, platform, handle, external_id)
                VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING
                """,
                a.owner, a.platform, a.handle, a.external_id,
            )  # fmt: skip
        else:  # nobody registered it: the demo's messages to it wait for the command center
            continue
        added += status.endswith(" 1")
    return added


def _morning(day: date) -> datetime:
    """9:00 in WIB, when a head is sworn in (dilantik)."""
    return datetime.combine(day, time(9), WIB)


async def add_heads(conn: Connection, terms: tuple[HeadTerm, ...], anchor: datetime | None) -> int:
    """Appoint the heads of OPDs that have none yet (an OPD with a head, loaded before or set
    by an administrator, is left as it is); a term given in days before `anchor` starts then.
    Return how many terms were recorded."""
    now: datetime = await conn.fetchval("SELECT now()")
    opds = {row.slug: row.id for row in await reference_db.all_opds(conn)}
    taken = {
        r["opd_id"] for r in await conn.fetch("SELECT DISTINCT opd_id FROM opd_heads")
    }  # fmt: skip
    by_opd: dict[str, list[HeadTerm]] = {}
    for term in terms:
        by_opd.setdefault(term.opd, []).append(term)
    appointed = 0
    for slug, opd_terms in by_opd.items():
        opd_id = opds.get(slug)
        if opd_id is None or opd_id in taken:
            continue
        async with conn.transaction():
            for term in opd_terms:
                if term.since is not None:
                    start = _morning(term.since)
                else:
                    assert term.days_before is not None
                    base = (anchor or now).astimezone(WIB).date()
                    start = _morning(base - timedelta(days=term.days_before))
                await appoint(
                    conn,
                    opd_id,
                    name=term.name,
                    title=term.title,
                    term_start=start,
                    now=now,
                    accounts=[HeadAccount(p, handle, verified=True) for p, handle in term.accounts],
                )
                appointed += 1
    return appointed
