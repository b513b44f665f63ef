"""Named SQL parameters (db/sql.py), without a server: numbered in order of first use, one
number for a name used twice, and a missing or unused value refused."""

import pytest

from kilas.db.complaints import FILTER_NAMES, FILTER_SQL, VISIBILITY_NAMES, visible_sql
from kilas.db.sql import numbered, renumbered


def test_names_are_numbered_in_order_of_first_use_and_a_repeated_name_is_one_parameter() -> None:
    sql, args = numbered(
        "SELECT %(b)s::int + %(a)s::int WHERE %(b)s IS NOT NULL AND x ILIKE '5%%'",
        {"a": 1, "b": 2},
    )
    assert sql == "SELECT $1::int + $2::int WHERE $1 IS NOT NULL AND x ILIKE '5%%'"
    assert args == [2, 1]


def test_a_missing_or_an_unused_value_is_refused() -> None:
    with pytest.raises(KeyError, match=r"without a value: \['a'\]"):
        numbered("SELECT %(a)s", {})
    with pytest.raises(KeyError, match=r"never used: \['b'\]"):
        numbered("SELECT %(a)s", {"a": 1, "b": 2})


def test_renumbering_places_a_fragment_in_a_statement_numbered_elsewhere() -> None:
    fragment = visible_sql("c", "e")
    sql = renumbered(fragment, VISIBILITY_NAMES, 7)
    assert "%(" not in sql
    assert {f"${n}" for n in range(7, 12)} <= set(sql.replace("::", " ").replace(")", " ").split())


def test_the_filter_names_every_parameter_it_uses() -> None:
    sql, args = numbered(FILTER_SQL, dict.fromkeys(FILTER_NAMES))
    assert len(args) == len(FILTER_NAMES) and "%(" not in sql
