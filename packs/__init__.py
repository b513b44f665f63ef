"""Province packs: everything particular to one province, in a folder of CSV and TOML files
(see packs/README.md). Central Java (`jateng`) is the default; `sumut` is North Sumatra."""

from functools import cache
from pathlib import Path

from kilas.packs.model import Pack, PackError, read_pack

__all__ = ["DEFAULT_PACK", "Pack", "PackError", "built_in", "load_pack"]

DEFAULT_PACK = "jateng"
_HERE = Path(__file__).resolve().parent


def built_in() -> list[str]:
    """The packs that come with Kilas."""
    return sorted(p.name for p in _HERE.iterdir() if (p / "province.toml").is_file())


@cache
def load_pack(name: str) -> Pack:
    """A built-in pack by its name, or the pack in the folder at this path."""
    if "/" not in name and "\\" not in name and name not in (".", ".."):
        if (_HERE / name / "province.toml").is_file():
            return read_pack(_HERE / name, name)
        if not Path(name).is_dir():
            raise PackError(
                f"no pack {name!r}: give one of {', '.join(built_in())} or a pack folder's path"
            )
    return read_pack(Path(name).resolve(), None)
