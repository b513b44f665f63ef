"""Kilas installs as one package, `kilas`, and nothing else: a user's site-packages may already
hold PyPI's `schema` (or `db`, `app`, …), and neither may shadow the other."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GENERIC = {"schema", "resolvers", "db", "domain", "live", "web", "auth", "guard", "app"}


def test_the_wheel_holds_only_the_kilas_package(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("kilas-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/", 1)[0] for name in names}

    assert {t for t in top if not t.endswith(".dist-info")} == {"kilas"}
    for folder in GENERIC - {"app"}:
        assert f"kilas/{folder}/__init__.py" in names
    for folder in ("channels", "intake", "partners", "compiler", "packs"):
        assert f"kilas/{folder}/__init__.py" in names, folder
    assert "kilas/app.py" in names
    assert "kilas/db/migrations/0001_reference.sql" in names
    assert "kilas/web/wall/index.html" in names
    assert "kilas/web/graphiql.html" in names
    # Every file of the built-in province packs, demo included.
    packs = Path(__file__).resolve().parent.parent / "packs"
    for file in packs.rglob("*"):
        if file.is_file() and file.suffix in (".toml", ".csv", ".json", ".md"):
            assert f"kilas/packs/{file.relative_to(packs)}" in names, file


def test_no_module_of_kilas_imports_a_generic_top_level_name() -> None:
    """Run outside the repository, so that its folders are not on sys.path: every import must go
    through `kilas.`, or it fails here (or picks up a PyPI package of the same name)."""
    code = (
        "import sys, kilas.app, kilas.cli, kilas.schema, kilas.demo, kilas.simulate\n"
        f"clash = sorted(n for n in sys.modules if n.split('.')[0] in {sorted(GENERIC)!r})\n"
        "assert not clash, clash\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd="/", capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
