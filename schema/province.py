"""The province this Kilas serves, as its pack describes it: what a wall screen, a partner or a
federation gateway needs to present it (names, the wall's title, the map's outline and labels)."""

from enum import Enum

import strawberry

from kilas.packs import Pack
from kilas.schema.node import GeoPoint


@strawberry.enum(description="Where the wall's map writes a label: a side or a corner.")
class MapPlace(Enum):
    NORTH = "north"
    SOUTH = "south"
    EAST = "east"
    WEST = "west"
    NORTHEAST = "northeast"
    NORTHWEST = "northwest"
    SOUTHEAST = "southeast"
    SOUTHWEST = "southwest"


@strawberry.type(description="A name the wall's map writes beside the province: a sea, a strait.")
class MapLabel:
    name: str = strawberry.field(description="E.g. LAUT JAWA.")
    at: MapPlace


@strawberry.type(description="The province this Kilas serves, from its province pack.")
class Province:
    code: str = strawberry.field(description="Kemendagri code of the province, e.g. 33.")
    name: str = strawberry.field(description="E.g. Jawa Tengah.")
    name_en: str = strawberry.field(description="E.g. Central Java.")
    short_name: str = strawberry.field(description="As people write it, e.g. Jateng.")
    pack: str = strawberry.field(description="The pack's name (jateng, sumut) or folder.")
    wall_title: str = strawberry.field(description="The command center wall's title.")
    wall_programme_code: str | None = strawberry.field(
        description="The programme whose progress the wall shows (Jalan Cantik's code)."
    )
    command_center: str = strawberry.field(description="Who answers for the province's intake.")
    default_region_code: str = strawberry.field(
        description="Where a complaint that names no place and shares no location is filed."
    )
    map_labels: list[MapLabel]
    outline: list[list[GeoPoint]] = strawberry.field(
        description="The province's boundary as rings of points (mainland and large islands), "
        "simplified for a wall's map; empty when the pack has none."
    )

    @classmethod
    def of(cls, pack: Pack, default_region_code: str) -> "Province":
        return cls(
            code=pack.code,
            name=pack.name,
            name_en=pack.name_en,
            short_name=pack.short_name,
            pack=pack.key,
            wall_title=pack.wall_title,
            wall_programme_code=pack.wall_programme or None,
            command_center=pack.command_center,
            default_region_code=default_region_code,
            map_labels=[MapLabel(name=label.text, at=MapPlace(label.at)) for label in pack.labels],
            outline=[[GeoPoint(lat=lat, lon=lon) for lon, lat in ring] for ring in pack.outline],
        )
