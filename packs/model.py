"""A province pack read from its folder: `province.toml`, `regions.csv`, `opds.csv`,
`categories.csv`, optionally `outline.json`, `accounts.csv` and `heads.csv`, and the demo's own
`demo/` folder. Pure: reading checks everything a database would refuse (and more), and names
the file, the line and the field of each problem, so that a pack that loads also applies."""

import csv
import hashlib
import json
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

REGION_TYPES = ("KABUPATEN", "KOTA")
OPD_KINDS = ("DINAS", "BADAN", "BIRO", "SATPOL_PP", "RSUD", "INSPEKTORAT", "SEKRETARIAT")
PLATFORMS = ("X", "INSTAGRAM", "FACEBOOK", "TIKTOK", "YOUTUBE", "WHATSAPP")
ACCOUNT_KINDS = ("OPD", "PROVINCE", "UNREGISTERED")
# Where the wall's map writes a label (a sea, a strait): a side or a corner of the map.
PLACES = ("north", "south", "east", "west", "northeast", "northwest", "southeast", "southwest")
PROGRAMME_STATUSES = ("PLANNED", "ONGOING", "COMPLETED", "SUSPENDED")
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{1,62}")
_CATEGORY = re.compile(r"[A-Z][A-Z_]{1,39}")
_PROGRAMME = re.compile(r"[A-Z0-9][A-Z0-9-]{1,39}")


class PackError(ValueError):
    """A pack that cannot be read, or one that cannot be applied to a database."""


@dataclass(frozen=True)
class Region:
    code: str
    bps_code: str | None
    name: str
    type: str
    seat: str
    seat_lat: float
    seat_lon: float


@dataclass(frozen=True)
class Opd:
    slug: str
    short_name: str
    name: str
    kind: str


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    name_en: str
    default_opd: str


@dataclass(frozen=True)
class Policy:
    name: str
    effective_from: datetime
    response_hours: int
    resolution_hours: int
    category_hours: Mapping[str, int]  # a category's own resolution hours under this policy


@dataclass(frozen=True)
class Account:
    """An official account citizens write to: an OPD's, the province's own (the governor's, the
    command center's), or (in a demo) one nobody registered in Kilas yet."""

    kind: str  # one of ACCOUNT_KINDS
    owner: str  # the OPD's slug, the province account's owner, or "" when unregistered
    platform: str
    handle: str
    external_id: str | None
    verified: bool


@dataclass(frozen=True)
class HeadTerm:
    """One term of an OPD head, in office from `since` or, in a demo, from `days_before` the
    newest demo complaint (a change of head within the demo's weeks)."""

    opd: str
    name: str
    title: str
    since: date | None
    days_before: int | None
    accounts: tuple[tuple[str, str], ...]  # (platform, handle), verified


@dataclass(frozen=True)
class MapLabel:
    text: str
    at: str  # one of PLACES


@dataclass(frozen=True)
class Road:
    """A demo programme's work item: a provincial road segment in one region."""

    region: str
    road: str
    km_from: int
    km_to: int
    progress: int
    start: str  # MM-DD
    end: str


@dataclass(frozen=True)
class Demo:
    places: Mapping[str, tuple[str, ...]]  # region code -> districts (kecamatan) for the texts
    weights: Mapping[str, float]  # region code -> how many more complaints than the others
    roads: tuple[Road, ...]
    programmes: tuple[Mapping[str, Any], ...]
    roads_programme: str  # the programme whose work items the roads are
    accounts: tuple[Account, ...]
    heads: tuple[HeadTerm, ...]
    names: tuple[str, ...]  # reporters' names (invented people)


@dataclass(frozen=True)
class Pack:
    key: str  # the built-in pack's name or the folder's name
    path: Path
    code: str  # the province's Kemendagri code, "33"
    name: str  # "Jawa Tengah"
    name_en: str
    short_name: str  # "Jateng", as people write it ("Pemprov Jateng")
    tracking_prefix: str  # "JTG": tracking numbers read JTG-261202-7KQ2MX
    default_region: str
    wall_title: str
    wall_programme: str  # the programme whose progress the wall shows; "" for none
    command_center: str
    aliases: Mapping[str, str]  # what people write -> the region's name
    labels: tuple[MapLabel, ...]
    outline: tuple[tuple[tuple[float, float], ...], ...]  # rings of (lon, lat)
    outline_source: str
    regions: tuple[Region, ...]
    opds: tuple[Opd, ...]
    categories: tuple[Category, ...]
    policies: tuple[Policy, ...]
    accounts: tuple[Account, ...]
    heads: tuple[HeadTerm, ...]
    demo: Demo | None
    digest: str = field(repr=False)

    def region(self, code: str) -> Region | None:
        return next((r for r in self.regions if r.code == code), None)


class _Reader:
    """Reads one pack's files, collecting where each value came from for the errors."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def problem(self, where: str, message: str) -> PackError:
        return PackError(f"pack {self.path}: {where}: {message}")

    def toml(self, name: str) -> dict[str, Any]:
        file = self.path / name
        try:
            return tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise self.problem(name, "missing") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise self.problem(name, f"not valid TOML ({exc})") from None

    def rows(
        self, name: str, columns: tuple[str, ...], required: bool = True
    ) -> list[tuple[str, dict[str, str]]]:
        """(where, row) for every row of a CSV file with at least these columns."""
        file = self.path / name
        if not file.exists():
            if required:
                raise self.problem(name, "missing")
            return []
        with file.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in columns if c not in (reader.fieldnames or ())]
            if missing:
                raise self.problem(name, f"lacks the column(s) {', '.join(missing)}")
            out = []
            for row in reader:
                where = f"{name} line {reader.line_num}"
                if None in row or any(v is None for v in row.values()):
                    raise self.problem(where, "has a different number of fields than the header")
                out.append((where, {k: v.strip() for k, v in row.items()}))
        return out

    def text(self, where: str, row: Mapping[str, Any], key: str, limit: int = 300) -> str:
        value = row.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self.problem(where, f"{key} is required (text)")
        if len(value) > limit:
            raise self.problem(where, f"{key} is longer than {limit} characters")
        return value.strip()

    def number(
        self, where: str, value: str, key: str, convert: Callable[[str], T], check: str = ""
    ) -> T:
        try:
            return convert(value)
        except (ValueError, InvalidOperation):
            raise self.problem(where, f"{key} {value!r} is not {check or 'a number'}") from None

    def one_of(self, where: str, value: str, key: str, allowed: Iterable[str]) -> str:
        allowed = tuple(allowed)
        if value not in allowed:
            raise self.problem(where, f"{key} {value!r} is not one of {', '.join(allowed)}")
        return value

    def unique(self, items: list[tuple[str, T]], key: Callable[[T], str], what: str) -> None:
        seen: dict[str, str] = {}
        for where, item in items:
            k = key(item)
            if k in seen:
                raise self.problem(where, f"{what} {k!r} again (first at {seen[k]})")
            seen[k] = where


def _coordinate(reader: _Reader, where: str, value: str, key: str, limit: float) -> float:
    number = reader.number(where, value, key, float)
    if not -limit <= number <= limit:
        raise reader.problem(where, f"{key} {value} is outside -{limit:g}..{limit:g}")
    return number


def _positive(reader: _Reader, where: str, value: Any, key: str) -> int:
    number = reader.number(where, str(value), key, int, "a whole number")
    if number <= 0:
        raise reader.problem(where, f"{key} must be positive")
    return number


def _regions(reader: _Reader, code: str) -> tuple[Region, ...]:
    columns = ("code", "name", "type", "seat", "seat_lat", "seat_lon")
    items: list[tuple[str, Region]] = []
    for where, row in reader.rows("regions.csv", columns):
        if re.fullmatch(rf"{code}\.[0-9]{{2}}", row["code"]) is None:
            raise reader.problem(where, f"code {row['code']!r} is not a region of {code} (NN.NN)")
        bps = row.get("bps_code") or None
        if bps is not None and re.fullmatch(r"[0-9]{4}", bps) is None:
            raise reader.problem(where, f"bps_code {bps!r} is not four digits")
        items.append(
            (
                where,
                Region(
                    code=row["code"],
                    bps_code=bps,
                    name=reader.text(where, row, "name", 100),
                    type=reader.one_of(where, row["type"], "type", REGION_TYPES),
                    seat=reader.text(where, row, "seat", 100),
                    seat_lat=_coordinate(reader, where, row["seat_lat"], "seat_lat", 90),
                    seat_lon=_coordinate(reader, where, row["seat_lon"], "seat_lon", 180),
                ),
            )
        )
    reader.unique(items, lambda r: r.code, "region")
    if not items:
        raise reader.problem("regions.csv", "names no region")
    return tuple(r for _, r in items)


def _opds(reader: _Reader) -> tuple[Opd, ...]:
    items: list[tuple[str, Opd]] = []
    for where, row in reader.rows("opds.csv", ("slug", "short_name", "name", "kind")):
        if _SLUG.fullmatch(row["slug"]) is None:
            raise reader.problem(where, f"slug {row['slug']!r} is not a-z, 0-9 and '-' (2-63)")
        opd = Opd(
            slug=row["slug"],
            short_name=reader.text(where, row, "short_name", 80),
            name=reader.text(where, row, "name", 300),
            kind=reader.one_of(where, row["kind"], "kind", OPD_KINDS),
        )
        items.append((where, opd))
    reader.unique(items, lambda o: o.slug, "OPD")
    if not items:
        raise reader.problem("opds.csv", "names no OPD")
    return tuple(o for _, o in items)


def _categories(reader: _Reader, opds: set[str]) -> tuple[Category, ...]:
    items: list[tuple[str, Category]] = []
    columns = ("code", "name", "name_en", "default_opd")
    for where, row in reader.rows("categories.csv", columns):
        if _CATEGORY.fullmatch(row["code"]) is None:
            raise reader.problem(where, f"code {row['code']!r} is not A-Z and '_' (2-40)")
        category = Category(
            code=row["code"],
            name=reader.text(where, row, "name"),
            name_en=reader.text(where, row, "name_en"),
            default_opd=reader.one_of(where, row["default_opd"], "default_opd", sorted(opds)),
        )
        items.append((where, category))
    reader.unique(items, lambda c: c.code, "category")
    return tuple(c for _, c in items)


def _policies(reader: _Reader, entries: Any, categories: set[str]) -> tuple[Policy, ...]:
    if not isinstance(entries, list) or not entries:
        raise reader.problem("province.toml", "needs at least one [[sla_policies]]")
    items: list[tuple[str, Policy]] = []
    for n, entry in enumerate(entries, 1):
        where = f"province.toml [[sla_policies]] #{n}"
        start = entry.get("effective_from")
        if not isinstance(start, datetime) or start.tzinfo is None:
            raise reader.problem(where, "effective_from must be a date-time with its offset")
        hours = entry.get("category_hours", {})
        if not isinstance(hours, dict):
            raise reader.problem(where, "category_hours must be a table { CODE = hours }")
        for code, value in hours.items():
            reader.one_of(where, code, "category_hours' category", sorted(categories))
            _positive(reader, where, value, f"category_hours.{code}")
        policy = Policy(
            name=reader.text(where, entry, "name", 200),
            effective_from=start,
            response_hours=_positive(reader, where, entry.get("response_hours"), "response_hours"),
            resolution_hours=_positive(
                reader, where, entry.get("resolution_hours"), "resolution_hours"
            ),
            category_hours=dict(hours),
        )
        items.append((where, policy))
    reader.unique(items, lambda p: p.effective_from.isoformat(), "effective_from")
    return tuple(sorted((p for _, p in items), key=lambda p: p.effective_from))


def _accounts(reader: _Reader, name: str, opds: set[str]) -> tuple[Account, ...]:
    columns = ("kind", "owner", "platform", "handle", "external_id", "verified")
    items: list[tuple[str, Account]] = []
    for where, row in reader.rows(name, columns, required=False):
        kind = reader.one_of(where, row["kind"], "kind", ACCOUNT_KINDS)
        if kind == "OPD":
            reader.one_of(where, row["owner"], "owner", sorted(opds))
        elif kind == "PROVINCE":
            reader.text(where, row, "owner", 200)
        verified = reader.one_of(where, row["verified"].lower(), "verified", ("true", "false"))
        account = Account(
            kind=kind,
            owner=row["owner"],
            platform=reader.one_of(where, row["platform"], "platform", PLATFORMS),
            handle=reader.text(where, row, "handle", 100),
            external_id=row["external_id"] or None,
            verified=verified == "true",
        )
        items.append((where, account))
    reader.unique(items, lambda a: f"{a.platform} {a.handle.lower()}", "account")
    return tuple(a for _, a in items)


def _heads(reader: _Reader, name: str, opds: set[str]) -> tuple[HeadTerm, ...]:
    columns = ("opd", "name", "title", "since", "accounts")
    terms: list[HeadTerm] = []
    for where, row in reader.rows(name, columns, required=False):
        since, days_before = row["since"], None
        if since.startswith("-"):
            days_before = _positive(reader, where, since[1:], "since (days before)")
        else:
            reader.number(where, since, "since", date.fromisoformat, "a date (YYYY-MM-DD)")
        accounts = []
        for item in row["accounts"].split():
            platform, _, handle = item.partition(":")
            reader.one_of(where, platform, "an account's platform", PLATFORMS)
            if not handle:
                raise reader.problem(where, f"account {item!r} is not PLATFORM:handle")
            accounts.append((platform, handle))
        terms.append(
            HeadTerm(
                opd=reader.one_of(where, row["opd"], "opd", sorted(opds)),
                name=reader.text(where, row, "name", 200),
                title=reader.text(where, row, "title", 200),
                since=None if days_before else date.fromisoformat(since),
                days_before=days_before,
                accounts=tuple(accounts),
            )
        )
    return tuple(terms)


def _outline(reader: _Reader) -> tuple[tuple[tuple[tuple[float, float], ...], ...], str]:
    file = reader.path / "outline.json"
    if not file.exists():
        return (), ""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        rings = tuple(
            tuple((float(lon), float(lat)) for lon, lat in ring) for ring in data["rings"]
        )
    except (ValueError, KeyError, TypeError) as exc:
        problem = f"not {{'rings': [[[lon, lat], ...]]}} ({exc})"
        raise reader.problem("outline.json", problem) from None
    for n, ring in enumerate(rings, 1):
        if len(ring) < 3:
            raise reader.problem("outline.json", f"ring {n} has fewer than three points")
        if any(not (-180 <= lon <= 180 and -90 <= lat <= 90) for lon, lat in ring):
            raise reader.problem("outline.json", f"ring {n} has a point off the globe")
    return rings, str(data.get("source", ""))


def _demo(reader: _Reader, opds: set[str], regions: set[str]) -> Demo | None:
    demo = _Reader(reader.path / "demo")
    if not demo.path.is_dir():
        return None
    places: dict[str, tuple[str, ...]] = {}
    weights: dict[str, float] = {}
    for where, row in demo.rows("places.csv", ("region", "places")):
        code = demo.one_of(where, row["region"], "region", sorted(regions))
        places[code] = tuple(p.strip() for p in row["places"].split(",") if p.strip())
        if not places[code]:
            raise demo.problem(where, "places is empty")
        weights[code] = demo.number(where, row.get("weight") or "1", "weight", float)
    if set(places) != regions:
        raise demo.problem("places.csv", f"lacks {', '.join(sorted(regions - set(places)))}")
    roads = []
    columns = ("region", "road", "km_from", "km_to", "progress", "start", "end")
    for where, row in demo.rows("roads.csv", columns):
        numbers = {k: demo.number(where, row[k], k, int) for k in columns[2:5]}
        for key in ("start", "end"):
            demo.number(where, f"2026-{row[key]}", key, date.fromisoformat, "MM-DD")
        roads.append(
            Road(
                region=demo.one_of(where, row["region"], "region", sorted(regions)),
                road=demo.text(where, row, "road", 150),
                start=row["start"],
                end=row["end"],
                **numbers,
            )
        )
    spec = demo.toml("demo.toml")
    programmes = tuple(spec.get("programmes", ()))
    codes: list[str] = []
    for n, p in enumerate(programmes, 1):
        where = f"demo.toml [[programmes]] #{n}"
        if _PROGRAMME.fullmatch(str(p.get("code", ""))) is None:
            raise demo.problem(where, "code must be A-Z, 0-9 and '-' (2-40)")
        demo.one_of(where, str(p.get("owner")), "owner", sorted(opds))
        demo.one_of(where, str(p.get("status")), "status", PROGRAMME_STATUSES)
        for key in ("name", "description", "unit"):
            demo.text(where, p, key, 2000)
        for key in ("budget_idr", "realisation_idr", "target", "achievement"):
            demo.number(where, str(p.get(key)), key, Decimal)
        demo.number(where, str(p.get("fiscal_year")), "fiscal_year", int)
        if p.get("predecessor") not in (None, *codes):
            raise demo.problem(where, "predecessor must be a programme listed before it")
        codes.append(p["code"])
    names = spec.get("names")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise demo.problem("demo.toml", "names must be a list of reporters' names")
    roads_programme = str(spec.get("roads_programme", ""))
    if roads and roads_programme not in codes:
        raise demo.problem("demo.toml", "roads_programme must name one of its programmes")
    return Demo(
        places=places,
        weights=weights,
        roads=tuple(roads),
        programmes=programmes,
        roads_programme=roads_programme,
        accounts=_accounts(demo, "accounts.csv", opds),
        heads=_heads(demo, "heads.csv", opds),
        names=tuple(names),
    )


def _digest(path: Path) -> str:
    """Of the files a start applies (not the demo's, not the documentation)."""
    h = hashlib.sha256()
    for file in sorted(path.iterdir()):
        if file.is_file() and file.suffix in (".toml", ".csv", ".json"):
            h.update(file.name.encode() + b"\0" + file.read_bytes() + b"\0")
    return h.hexdigest()


def _tracking_prefix(reader: _Reader, prefix: Any) -> str:
    if not isinstance(prefix, str) or re.fullmatch(r"[A-Z]{2,5}", prefix) is None:
        raise reader.problem("province.toml", "tracking_prefix must be 2-5 capital letters")
    return prefix


def _programme_code(reader: _Reader, code: Any) -> str:
    if code and (not isinstance(code, str) or _PROGRAMME.fullmatch(code) is None):
        raise reader.problem("province.toml", "wall_programme must be a programme's code")
    return str(code)


def read_pack(path: Path, key: str | None = None) -> Pack:
    """Read and check the pack in this folder."""
    reader = _Reader(path)
    if not path.is_dir():
        raise PackError(f"pack {path}: no such folder")
    province = reader.toml("province.toml")
    where = "province.toml"
    code = reader.text(where, province, "code", 2)
    if re.fullmatch(r"[0-9]{2}", code) is None:
        raise reader.problem(where, f"code {code!r} is not a province's two digits")
    regions = _regions(reader, code)
    names = {r.code for r in regions}
    default_region = reader.one_of(
        where, str(province.get("default_region")), "default_region", sorted(names)
    )
    opds = _opds(reader)
    slugs = {o.slug for o in opds}
    region_names = {r.name for r in regions} | {r.seat for r in regions}
    aliases = province.get("aliases", {})
    for alias, target in aliases.items():
        reader.one_of(f"{where} [aliases]", target, alias, sorted(region_names))
    labels = tuple(
        MapLabel(
            text=reader.text(f"{where} [[map.labels]]", label, "text", 60),
            at=reader.one_of(f"{where} [[map.labels]]", label.get("at", ""), "at", PLACES),
        )
        for label in province.get("map", {}).get("labels", ())
    )
    outline, outline_source = _outline(reader)
    categories = _categories(reader, slugs)
    return Pack(
        key=key or path.name,
        path=path,
        code=code,
        name=reader.text(where, province, "name", 100),
        name_en=reader.text(where, province, "name_en", 100),
        short_name=reader.text(where, province, "short_name", 40),
        tracking_prefix=_tracking_prefix(reader, province.get("tracking_prefix")),
        default_region=default_region,
        wall_title=reader.text(where, province, "wall_title", 120),
        wall_programme=_programme_code(reader, province.get("wall_programme", "")),
        command_center=reader.text(where, province, "command_center", 200),
        aliases={k.lower(): v for k, v in aliases.items()},
        labels=labels,
        outline=outline,
        outline_source=outline_source,
        regions=regions,
        opds=opds,
        categories=categories,
        policies=_policies(reader, province.get("sla_policies"), {c.code for c in categories}),
        accounts=_accounts(reader, "accounts.csv", slugs),
        heads=_heads(reader, "heads.csv", slugs),
        demo=_demo(reader, slugs, names),
        digest=_digest(path),
    )
