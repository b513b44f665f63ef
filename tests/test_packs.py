"""Province packs as files: the two built-in ones read, hold together (every region of the
province, unique codes, every category's OPD known, seats inside the outline), and a pack with
a mistake is refused naming the file, the line and what is wrong. No database."""

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from kilas.packs import DEFAULT_PACK, PackError, built_in, load_pack, model
from kilas.packs.model import Pack, read_pack
from kilas.schema.enums import OpdKind, ProgrammeStatus, RegionType, SocialPlatform
from kilas.schema.province import MapPlace
from kilas.settings import Settings

PACKS = Path(__file__).resolve().parent.parent / "packs"


def test_kilas_comes_with_central_java_by_default_and_north_sumatra() -> None:
    assert built_in() == ["jateng", "sumut"]
    assert DEFAULT_PACK == "jateng" and Settings().province.name == "Jawa Tengah"


@pytest.mark.parametrize(
    ("name", "code", "kabupaten", "kota", "capital"),
    [("jateng", "33", 29, 6, ("33.74", "Semarang")), ("sumut", "12", 25, 8, ("12.71", "Medan"))],
)
def test_a_built_in_pack_holds_together(
    name: str, code: str, kabupaten: int, kota: int, capital: tuple[str, str]
) -> None:
    pack = load_pack(name)
    types = [r.type for r in pack.regions]
    assert (types.count("KABUPATEN"), types.count("KOTA")) == (kabupaten, kota)
    assert all(r.code.startswith(f"{code}.") for r in pack.regions)
    assert len({r.code for r in pack.regions}) == len(pack.regions)
    bps = [r.bps_code for r in pack.regions]
    assert None not in bps and len(set(bps)) == len(bps)
    assert all(b is not None and b.startswith(code) for b in bps)
    region = pack.region(capital[0])
    assert region is not None and (region.name, region.type) == (capital[1], "KOTA")
    assert pack.default_region == capital[0]
    slugs = {o.slug for o in pack.opds}
    assert {c.default_opd for c in pack.categories} <= slugs
    # The same complaint categories everywhere, so that partners and the demo's texts hold.
    assert {c.code for c in pack.categories} == {c.code for c in load_pack("jateng").categories}
    assert pack.policies and pack.policies[-1].category_hours["JALAN"] < 168
    # Every seat lies within the outline's bounds: the coordinates are the province's.
    lons = [lon for ring in pack.outline for lon, _ in ring]
    lats = [lat for ring in pack.outline for _, lat in ring]
    for r in pack.regions:
        assert min(lats) <= r.seat_lat <= max(lats) and min(lons) <= r.seat_lon <= max(lons), r
    assert pack.demo is not None
    assert set(pack.demo.places) == {r.code for r in pack.regions}
    assert {r.region for r in pack.demo.roads} <= {r.code for r in pack.regions}
    assert pack.wall_programme == pack.demo.roads_programme
    assert {h.opd for h in pack.demo.heads} == slugs
    assert {a.owner for a in pack.demo.accounts if a.kind == "OPD"} <= slugs


def test_north_sumatras_codes_are_kemendagris_with_bps_beside_them() -> None:
    regions = {r.code: r for r in load_pack("sumut").regions}
    # Kemendagri and BPS number North Sumatra differently.
    assert (regions["12.04"].name, regions["12.04"].bps_code) == ("Nias", "1201")
    assert (regions["12.71"].name, regions["12.71"].bps_code) == ("Medan", "1275")
    assert (regions["12.75"].name, regions["12.75"].bps_code) == ("Binjai", "1276")
    assert regions["12.07"].seat == "Lubuk Pakam" and regions["12.12"].name == "Toba"


@pytest.fixture
def copy(tmp_path: Path) -> Callable[[str], Path]:
    def make(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(PACKS / name, target)
        return target

    return make


def _edit(file: Path, old: str, new: str) -> None:
    text = file.read_text(encoding="utf-8")
    assert old in text, old
    file.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "old", "new", "problem"),
    [
        ("regions.csv", "12.71,1275", "33.71,1275", "regions.csv line 27: code '33.71' is not a"),
        ("regions.csv", "12.72,", "12.71,", "regions.csv line 28: region '12.71' again"),
        ("regions.csv", "3.5752,98.6873", "3.5752,198.6873", "seat_lon 198.6873 is outside"),
        ("regions.csv", ",KOTA,Medan", ",CITY,Medan", "type 'CITY' is not one of KABUPATEN"),
        ("opds.csv", "dinkes,Dinkes", "Dinkes!,Dinkes", "opds.csv line 6: slug 'Dinkes!'"),
        ("opds.csv", "Dinas Kesehatan,DINAS", "Dinas Kesehatan,UPT", "kind 'UPT' is not one of"),
        ("categories.csv", "Health,dinkes", "Health,rsud", "default_opd 'rsud' is not one of"),
        ("province.toml", 'default_region = "12.71"', 'default_region = "33.74"', "default_"),
        ("province.toml", 'siantar = "Pematangsiantar"', 'siantar = "Siantar"', "[aliases]"),
        ("province.toml", 'at = "northeast"', 'at = "up"', "at 'up' is not one of north"),
        ("province.toml", "2020-01-01T00:00:00+07:00", "2020-01-01T00:00:00", "its offset"),
        ("province.toml", "{ JALAN = 144 }", "{ ROADS = 144 }", "category_hours' category"),
        ("province.toml", 'tracking_prefix = "SMU"', 'tracking_prefix = "smu-1"', "2-5 capital"),
        ("demo/heads.csv", ",2023-06-12,", ",12/06/2023,", "since '12/06/2023' is not a date"),
        ("demo/accounts.csv", "OPD,dishub,X", "OPD,dishub,MYSPACE", "platform 'MYSPACE'"),
        ("demo/demo.toml", 'owner = "disdik"', 'owner = "dikbud"', "owner 'dikbud' is not one"),
    ],
)
def test_a_pack_with_a_mistake_is_refused_with_where_and_what(
    copy: Callable[[str], Path], file: str, old: str, new: str, problem: str
) -> None:
    folder = copy("sumut")
    read_pack(folder)  # as shipped, it reads
    _edit(folder / file, old, new)
    with pytest.raises(PackError) as refused:
        read_pack(folder)
    assert problem in str(refused.value) and str(folder) in str(refused.value)


def test_a_missing_file_or_column_is_named(copy: Callable[[str], Path]) -> None:
    folder = copy("sumut")
    (folder / "opds.csv").unlink()
    with pytest.raises(PackError, match=r"opds\.csv: missing"):
        read_pack(folder)
    folder = copy("jateng")
    _edit(folder / "regions.csv", "seat_lat,seat_lon", "lat,lon")
    with pytest.raises(PackError, match=r"regions\.csv: lacks the column"):
        read_pack(folder)


def test_a_pack_is_named_or_given_by_its_folder_and_settings_refuse_an_unknown_one(
    copy: Callable[[str], Path],
) -> None:
    folder = copy("sumut")
    by_path: Pack = load_pack(str(folder))
    assert by_path.key == "sumut" and by_path.digest == load_pack("sumut").digest
    with pytest.raises(PackError, match="no pack 'sumatra': give one of jateng, sumut"):
        load_pack("sumatra")
    with pytest.raises(ValueError, match="KILAS_PACK: no pack 'sumatra'"):
        Settings(pack="sumatra").check()
    with pytest.raises(ValueError, match=r"must be a region of the pack 'sumut', such as 12\.71"):
        Settings(pack="sumut", intake_default_region="33.74").check()
    assert Settings(pack="sumut").default_region == "12.71"
    assert Settings(pack="sumut", intake_default_region="12.07").default_region == "12.07"


def test_the_digest_follows_what_a_start_applies_not_the_demo_or_the_readme(
    copy: Callable[[str], Path],
) -> None:
    folder = copy("jateng")
    before = read_pack(folder).digest
    _edit(folder / "README.md", "Central Java", "Jawa Tengah")
    _edit(folder / "demo" / "demo.toml", 'unit = "km"', 'unit = "kilometer"')
    assert read_pack(folder).digest == before
    _edit(folder / "opds.csv", "Dinas Kesehatan", "Dinas Kesehatan Provinsi")
    assert read_pack(folder).digest != before


def test_a_packs_allowed_values_are_the_schemas() -> None:
    """packs/model.py reads files below the schema, so it keeps its own lists; they stay the
    GraphQL enums' values."""
    assert model.REGION_TYPES == tuple(e.value for e in RegionType)
    assert model.OPD_KINDS == tuple(e.value for e in OpdKind)
    assert model.PLATFORMS == tuple(e.value for e in SocialPlatform)
    assert model.PROGRAMME_STATUSES == tuple(e.value for e in ProgrammeStatus)
    assert model.PLACES == tuple(e.value for e in MapPlace)
