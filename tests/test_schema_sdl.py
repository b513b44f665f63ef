"""The committed schema.graphql is the schema the code builds, so clients reading the SDL (and
reviewers reading its diff) see the API that is actually served."""

import difflib
from pathlib import Path

import pytest

from kilas.cli import main
from kilas.schema import build_schema

SDL_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"
REGENERATE = "kilas export-schema --output schema.graphql"


def test_the_committed_schema_graphql_is_the_schema_the_code_builds() -> None:
    built = build_schema().as_str() + "\n"
    committed = SDL_FILE.read_text()
    if committed != built:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True),
                built.splitlines(keepends=True),
                "schema.graphql (committed)",
                "schema.graphql (built by the code)",
            )
        )
        pytest.fail(
            f"schema.graphql is out of date; regenerate it with `{REGENERATE}` "
            f"and commit it.\n{diff}"
        )


def test_export_schema_writes_exactly_the_built_schema(tmp_path: Path) -> None:
    output = tmp_path / "schema.graphql"
    assert main(["export-schema", "--output", str(output)]) == 0
    assert output.read_text() == build_schema().as_str() + "\n"
    assert output.read_text().endswith("}\n")
