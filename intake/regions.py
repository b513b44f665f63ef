"""Which regency or city a channel message is about: the one whose seat is nearest the location
the citizen shared, else the first one the text names ("jalan rusak di Kab. Kendal", "Solo"),
else the intake's default. Pure: the regions are read once and passed in."""

import math
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from kilas.db.reference import RegionRow

# A location farther than this from every seat is not in the province (a phone's 0,0, or a
# citizen abroad): the text decides instead.
MAX_SEAT_DISTANCE_KM = 75.0
EARTH_RADIUS_KM = 6371.0


class RegionSource(StrEnum):
    LOCATION = "LOCATION"
    TEXT = "TEXT"
    DEFAULT = "DEFAULT"


@dataclass(frozen=True)
class Located:
    code: str
    source: RegionSource


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


class RegionFinder:
    def __init__(
        self,
        regions: Sequence[RegionRow],
        default_code: str,
        aliases: Mapping[str, str] | None = None,
    ) -> None:
        """`aliases`: what people write instead of a region's official name or its seat's
        ("solo": "Surakarta"), from the province pack."""
        if not any(region.code == default_code for region in regions):
            raise ValueError(f"the intake's default region {default_code} is not a region")
        self.regions = list(regions)
        self.default_code = default_code
        self._names = self._patterns(regions, aliases or {})

    @staticmethod
    def _patterns(
        regions: Sequence[RegionRow], aliases: Mapping[str, str]
    ) -> list[tuple[re.Pattern[str], str]]:
        """(pattern, code), the most specific first: "Kota Tegal" and "Kabupaten Tegal" before
        "Tegal", which (a seat's name too) means the city."""
        by_type: dict[tuple[str, str], str] = {
            (region.type, region.name.lower()): region.code for region in regions
        }
        specific: list[tuple[str, str]] = []
        plain: dict[str, str] = {}
        for region in regions:
            name = re.escape(region.name.lower())
            if region.type == "KOTA":
                specific.append((rf"kota\s+{name}", region.code))
            else:
                specific.append((rf"(?:kabupaten|kab\.?)\s*{name}", region.code))
            kota = by_type.get(("KOTA", region.name.lower()))
            plain.setdefault(region.name.lower(), kota or region.code)
            plain.setdefault(region.seat.lower(), region.code)
        for alias, name in aliases.items():
            code = by_type.get(("KOTA", name.lower())) or by_type.get(("KABUPATEN", name.lower()))
            code = code or plain.get(name.lower())
            if code is not None:
                plain.setdefault(alias, code)
        patterns = [*specific, *((re.escape(name), code) for name, code in plain.items())]
        return [(re.compile(rf"\b{pattern}\b", re.IGNORECASE), code) for pattern, code in patterns]

    def locate(self, text: str, location: tuple[float, float] | None) -> Located:
        if location is not None:
            lat, lon = location
            nearest = min(self.regions, key=lambda r: distance_km(lat, lon, r.seat_lat, r.seat_lon))
            if distance_km(lat, lon, nearest.seat_lat, nearest.seat_lon) <= MAX_SEAT_DISTANCE_KM:
                return Located(nearest.code, RegionSource.LOCATION)
        found: tuple[int, int, str] | None = None
        for rank, (pattern, code) in enumerate(self._names):
            match = pattern.search(text)
            # The earliest mention; at one place, the most specific pattern.
            if match is not None and (found is None or (match.start(), rank) < found[:2]):
                found = (match.start(), rank, code)
        if found is not None:
            return Located(found[2], RegionSource.TEXT)
        return Located(self.default_code, RegionSource.DEFAULT)


class RegionCache:
    """One RegionFinder for a process: regions change only by migration, so they are read the
    first time a finder is asked for (by `read`) and its name patterns compiled once."""

    def __init__(self, default_code: str, aliases: Mapping[str, str] | None = None) -> None:
        self.default_code = default_code
        self.aliases = aliases
        self._finder: RegionFinder | None = None

    async def finder(self, read: Callable[[], Awaitable[Sequence[RegionRow]]]) -> RegionFinder:
        if self._finder is None:
            self._finder = RegionFinder(await read(), self.default_code, self.aliases)
        return self._finder
