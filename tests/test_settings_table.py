"""Each setting is declared once (kilas/settings.py): its variable, its README row, how it is
read and checked. Without a server: the README's table is the one the declarations make, every
field has a variable of its own, and each variable is read into its field."""

from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from kilas.settings import Declared, Settings, readme_table

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_readme_table_is_the_one_the_declarations_make() -> None:
    lines = README.read_text().splitlines()
    start = lines.index("| Setting | Variable | Flag | Default |")
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    assert "\n".join(lines[start:end]) == readme_table(), (
        "README.md's settings table differs from the declarations: replace it with the output "
        "of python -c 'from kilas.settings import readme_table; print(readme_table())'"
    )


def test_every_setting_has_a_variable_of_its_own() -> None:
    names = [f.metadata["setting"].env for f in fields(Settings)]
    assert all(name.startswith("KILAS_") for name in names)
    assert len(names) == len(set(names))


def _another(value: Any) -> tuple[str, Any]:
    """A value other than `value`, as a variable's text and as read."""
    if isinstance(value, bool):
        return str(not value).lower(), not value
    if isinstance(value, int):
        return str(value + 1), value + 1
    if isinstance(value, float):
        return str(value + 0.5), value + 0.5
    if isinstance(value, Path):
        return "elsewhere", Path("elsewhere")
    return f"{value}x", f"{value}x"


@pytest.mark.parametrize(
    "name", [f.name for f in fields(Settings) if f.metadata["setting"].parse is None]
)
def test_each_variable_is_read_into_its_setting(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    field = next(f for f in fields(Settings) if f.name == name)
    declared: Declared = field.metadata["setting"]
    text, expected = _another(field.default)
    monkeypatch.setenv(declared.env, text)
    assert getattr(Settings.from_env(env_file=None), name) == expected


def test_a_declared_rule_refuses_with_the_variable_and_the_value() -> None:
    with pytest.raises(ValueError, match=r"KILAS_PORT must be a TCP port, 0-65535 \(got 70000\)"):
        Settings(port=70000).check()
    with pytest.raises(ValueError, match=r"KILAS_ESCALATION_DELAYS_HOURS must be three hours"):
        Settings(escalation_delays_hours=(1.0, 2.0)).check()
    Settings().check()
