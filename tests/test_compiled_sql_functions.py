"""The SQL functions of the compiled read path (migration 0010) format values exactly as the
Python of the field-by-field path does: times in WIB (`schema.ids.wib(...).isoformat()`),
keyset cursors' UTC times, global ids (`schema.ids.to_global_id`), the URL-safe base64 of long
texts, which PostgreSQL's encoder would break into lines, and Float numbers."""

import asyncio
import base64
import json
import math
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kilas.db.pool import connect
from kilas.schema.ids import to_global_id, wib

# PostgreSQL's timestamptz and Python's datetime share years 1 to 9999; the WIB shift must not
# leave them.
moments = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
) | st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)).map(
    lambda d: d.replace(tzinfo=UTC, microsecond=0)
)
keys = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=80)
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _in_database(database_url: str, sql: str, *args: object) -> object:
    async def run() -> object:
        conn = await connect(database_url)
        try:
            return await conn.fetchval(sql, *args)
        finally:
            await conn.close()

    return asyncio.run(run())


@SETTINGS
@given(moment=moments)
def test_kilas_wib_is_pythons_isoformat_in_wib(database_url: str, moment: datetime) -> None:
    shown = _in_database(database_url, "SELECT kilas_wib($1)", moment)
    assert shown == wib(moment).isoformat()


@SETTINGS
@given(moment=moments)
def test_kilas_utc_iso_is_pythons_isoformat_in_utc(database_url: str, moment: datetime) -> None:
    shown = _in_database(database_url, "SELECT kilas_utc_iso($1)", moment)
    assert shown == moment.isoformat()


@SETTINGS
@given(type_name=st.sampled_from(["Complaint", "Region", "WorkItem"]), key=keys)
def test_kilas_gid_is_to_global_id(database_url: str, type_name: str, key: str) -> None:
    shown = _in_database(database_url, "SELECT kilas_gid($1, $2)", type_name, key)
    assert shown == to_global_id(type_name, key)


def test_long_texts_are_one_line_of_url_safe_base64(database_url: str) -> None:
    text = "ÿ?>" * 200  # bytes that base64 writes with + and /, over many 76-character lines
    shown = _in_database(database_url, "SELECT kilas_b64url($1)", text)
    assert isinstance(shown, str)
    assert shown == base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
    assert "\n" not in shown


def test_a_time_with_no_microseconds_has_none_in_its_text(database_url: str) -> None:
    whole = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
    assert _in_database(database_url, "SELECT kilas_wib($1)", whole) == "2026-12-01T00:00:00+07:00"
    shown = _in_database(database_url, "SELECT kilas_wib($1)", whole + timedelta(microseconds=50))
    assert shown == "2026-12-01T00:00:00.000050+07:00"


@SETTINGS
@given(
    number=st.floats(allow_nan=False, allow_infinity=False)
    | st.integers(-(10**16), 10**16).map(float)
    | st.sampled_from([0.0, -0.0, 100.0, 43.5, 1e15, 1e16, 1e-5])
)
def test_kilas_float_reads_back_as_the_float_python_writes(
    database_url: str, number: float
) -> None:
    shown = _in_database(database_url, "SELECT kilas_float($1)::text", number)
    assert isinstance(shown, str)
    decoded = json.loads(shown)
    # The same float, and a float (100.0 is not 100), whatever the notation.
    assert type(decoded) is float
    assert decoded == number
    assert math.copysign(1, decoded) == math.copysign(1, number)
