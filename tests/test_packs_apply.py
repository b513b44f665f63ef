"""Province packs applied to a real database: a database serves one province; its pack only
adds what the database lacks and never changes what is stored; another province's pack replaces
the reference data only while nothing refers to it, and is refused with the reason otherwise;
a second province runs the whole product (intake, tracking numbers, Open311, the demo)."""

import shutil
from pathlib import Path

import asyncpg
import httpx
import pytest

from kilas.db.pool import connect
from kilas.demo import load_demo
from kilas.domain import workflow
from kilas.domain.lifecycle import Channel
from kilas.packs import PackError, load_pack
from kilas.packs.apply import apply_pack
from kilas.packs.model import read_pack
from tests.wire import gql_data, start_server

PACKS = Path(__file__).resolve().parent.parent / "packs"
SUMUT = load_pack("sumut")
JATENG = load_pack("jateng")


async def _reference(conn: asyncpg.Connection) -> dict[str, object]:
    return {
        "regions": sorted(r["code"] for r in await conn.fetch("SELECT code FROM regions")),
        "opds": sorted(r["slug"] for r in await conn.fetch("SELECT slug FROM opds")),
        "categories": {
            r["code"]: r["slug"]
            for r in await conn.fetch(
                "SELECT c.code, o.slug FROM categories c JOIN opds o ON o.id = c.default_opd_id"
            )
        },
        "policies": [
            (r["response_hours"], r["resolution_hours"])
            for r in await conn.fetch("SELECT * FROM sla_policies ORDER BY effective_from")
        ],
    }


async def test_central_javas_pack_on_a_database_from_before_packs_changes_nothing(
    database_url: str,
) -> None:
    conn = await connect(database_url)
    try:
        before = await _reference(conn)
        hours = await conn.fetch("SELECT * FROM sla_policy_category_hours ORDER BY policy_id")
        applied = await apply_pack(conn, JATENG)
        assert applied is not None and applied.replaced is None
        assert set(applied.added.values()) == {0}, applied.added
        assert await _reference(conn) == before
        assert await conn.fetch("SELECT * FROM sla_policy_category_hours ORDER BY policy_id") == (
            hours
        )
        assert await conn.fetchval("SELECT bps_code FROM regions WHERE code = '33.74'") == "3374"
        # Unchanged files: nothing to do.
        assert await apply_pack(conn, JATENG) is None
    finally:
        await conn.close()


async def test_north_sumatra_replaces_central_java_on_a_database_with_no_complaints(
    database_url: str,
) -> None:
    conn = await connect(database_url)
    try:
        applied = await apply_pack(conn, SUMUT)
        assert applied is not None and applied.replaced == "33"
        reference = await _reference(conn)
        assert reference["regions"] == sorted(r.code for r in SUMUT.regions)
        assert reference["opds"] == sorted(o.slug for o in SUMUT.opds)
        assert reference["categories"] == {c.code: c.default_opd for c in SUMUT.categories}
        assert reference["policies"] == [(48, 336)]
        roads = (
            "SELECT resolution_hours FROM sla_policy_category_hours WHERE category_code = 'JALAN'"
        )
        assert await conn.fetchval(roads) == 144
        recorded = await conn.fetchrow("SELECT pack, code, tracking_prefix FROM province")
        assert tuple(recorded) == ("sumut", "12", "SMU")

        # A complaint there gets the province's tracking number and its deadlines.
        out = await workflow.submit(
            conn,
            workflow.Submission(
                channel=Channel.WEB,
                text="Jalan provinsi di Lubuk Pakam berlubang.",
                region_code="12.07",
                category_code="JALAN",
            ),
            actor="test",
        )
        assert out.complaint.tracking_number.startswith("SMU-")

        # Central Java's pack cannot come back over North Sumatra's complaints.
        with pytest.raises(PackError, match=r"serves province 12 \(pack 'sumut'\)"):
            await apply_pack(conn, JATENG)
        assert await _reference(conn) == reference
    finally:
        await conn.close()


async def test_a_database_keeps_its_province_even_with_no_complaints(database_url: str) -> None:
    conn = await connect(database_url)
    try:
        await apply_pack(conn, JATENG)
        before = await _reference(conn)
        with pytest.raises(PackError, match=r"serves province 33 \(pack 'jateng'\)"):
            await apply_pack(conn, SUMUT)
        assert await _reference(conn) == before
    finally:
        await conn.close()


async def test_another_province_is_refused_while_anything_refers_to_the_reference_data(
    database_url: str,
) -> None:
    conn = await connect(database_url)
    try:
        before = await _reference(conn)
        # A key scoped to an OPD is not a complaint, but it refers to Central Java's OPD.
        await conn.execute(
            """
            INSERT INTO api_keys (name, role, key_hash, prefix, opd_id)
            SELECT 'dinkes app', 'OPD_OFFICER', sha256('k'), 'kilastst', id
            FROM opds WHERE slug = 'dinkes'
            """
        )
        with pytest.raises(PackError, match="still refers to its reference data"):
            await apply_pack(conn, SUMUT)
        assert await _reference(conn) == before
        assert await conn.fetchval("SELECT pack FROM province") is None
    finally:
        await conn.close()


async def test_the_same_provinces_pack_adds_what_is_new_and_keeps_what_administrators_changed(
    database_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "jateng"
    shutil.copytree(PACKS / "jateng", folder)
    conn = await connect(database_url)
    try:
        await apply_pack(conn, JATENG)
        # An administrator renames an OPD through the API.
        await conn.execute("UPDATE opds SET name = 'Dinas Kesehatan (baru)' WHERE slug = 'dinkes'")
        with (folder / "opds.csv").open("a", encoding="utf-8") as opds:
            opds.write("rsjd,RSJD,Rumah Sakit Jiwa Daerah,RSUD\n")
        text = (folder / "province.toml").read_text(encoding="utf-8")
        (folder / "province.toml").write_text(
            text.replace(
                "category_hours = { JALAN = 72 }\n",
                "category_hours = { JALAN = 72 }\n\n[[sla_policies]]\n"
                'name = "Tindak lanjut 12 jam"\n'
                "effective_from = 2027-01-01T00:00:00+07:00\nresponse_hours = 12\n"
                "resolution_hours = 120\ncategory_hours = { JALAN = 48 }\n",
            ),
            encoding="utf-8",
        )
        applied = await apply_pack(conn, read_pack(folder))
        assert applied is not None and applied.added["OPDs"] == 1
        assert applied.added["SLA policies"] == 1 and applied.added["regions"] == 0
        names = dict(
            await conn.fetch("SELECT slug, name FROM opds WHERE slug IN ('dinkes', 'rsjd')")
        )
        assert names == {"dinkes": "Dinas Kesehatan (baru)", "rsjd": "Rumah Sakit Jiwa Daerah"}
        assert await conn.fetchval("SELECT count(*) FROM sla_policies") == 3
    finally:
        await conn.close()


async def test_north_sumatra_runs_the_whole_product(database_url: str) -> None:
    async with start_server(database_url, pack="sumut", sla_sweep_interval=0) as server:
        await load_demo(database_url, SUMUT)
        data = await gql_data(
            server.http_url,
            """{ province { code name pack wallTitle wallProgrammeCode defaultRegionCode
                           mapLabels { name at } outline { lat } }
                 region(code: "12.71") { name bpsCode seat }
                 programme(code: "JALAN-PROVINSI-2026") { workItems { region { code } } }
                 opds { slug head { name } } }""",
        )
        province = data["province"]
        assert (province["code"], province["name"], province["pack"]) == (
            "12", "Sumatera Utara", "sumut",
        )  # fmt: skip
        assert province["wallProgrammeCode"] == "JALAN-PROVINSI-2026"
        assert province["defaultRegionCode"] == "12.71"
        assert [label["name"] for label in province["mapLabels"]] == [
            "SELAT MALAKA",
            "SAMUDRA HINDIA",
        ]
        assert len(province["outline"]) == len(SUMUT.outline)
        assert data["region"] == {"name": "Medan", "bpsCode": "1275", "seat": "Medan"}
        assert len(data["programme"]["workItems"]) == 10
        assert all(opd["head"] for opd in data["opds"])
        counts = await gql_data(server.http_url, "{ dashboard { byRegion { regionCode count } } }")
        by_region = counts["dashboard"]["byRegion"]
        assert sum(r["count"] for r in by_region) == 300
        assert {r["regionCode"][:3] for r in by_region} == {"12."}
        # Open311 names the province as its contact.
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            discovery = (await http.get("/open311/v2/discovery.json")).json()
            assert "Sumatera Utara" in discovery["contact"]
        # The demo loads again without duplicating anything.
        assert await load_demo(database_url, SUMUT) == 0


async def test_a_demo_is_refused_on_another_provinces_database(database_url: str) -> None:
    with pytest.raises(PackError, match="serves province 33, not pack 'sumut'"):
        await load_demo(database_url, SUMUT)
