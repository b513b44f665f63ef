"""Bugs put into the compiled read path on purpose, to show that the differential test
(tests/test_compiled_differential.py) catches each one. Not collected by pytest.

    python -m tests.differential_mutants             # the baseline, then every mutant
    python -m tests.differential_mutants NAME ...    # some of them
    python -m tests.differential_mutants --list
    python -m tests.differential_mutants --generated-only ...   # the generated queries alone

Each mutant runs the test file in a process of its own with KILAS_DIFFERENTIAL_MUTANT=<name>
(and KILAS_TEST_DATABASE_URL as set); the test's world fixture installs it with `install`, and
the hypothesis test does not shrink (a caught mutant fails fast). A mutant is caught when the
test fails; the script exits non-zero if any survives or the baseline fails.

Three kinds, all acting on the compiled path alone:
- `tamper`: rewrites the compiled path's response body (a key order, a list, an error);
- `tamper_log`: changes the access log rows the compiled run wrote;
- `patch`: replaces a function of the code while the test runs, e.g. one of `kilas.compiler`'s
  SQL builders (`patched(target, make)`: `make` gets the original and returns the bug).
  Functions the oracle also runs must be broken for the compiled run only: `when_compiled`.
Add a mutant for each rule the compiler carries (visibility, personal data, tracking numbers,
SLA readings, paging, error paths): a mutant that survives is a hole in the generator or the
seeded data."""

import contextlib
import importlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from kilas.db.pool import Connection
from tests._differential_world import World, compiled_run

TEST_FILE = "tests/test_compiled_differential.py"
# How the differential test reports a difference (tests/_differential_compare.explain).
CAUGHT_BY = "the compiled path answered"
ENV = "KILAS_DIFFERENTIAL_MUTANT"
Patch = Callable[[], contextlib.AbstractContextManager[None]]


@dataclass(frozen=True)
class Mutant:
    name: str
    # What a client would see go wrong.
    bug: str
    patch: Patch | None = None
    tamper: Callable[[str], str] | None = None
    tamper_log: Callable[[Connection, int], Awaitable[None]] | None = None


@contextlib.contextmanager
def patched(target: str, make: Callable[[Any], Any]) -> Iterator[None]:
    """`target` ("package.module.name") replaced by `make(original)` while the block runs."""
    module_name, _, attribute = target.rpartition(".")
    module = importlib.import_module(module_name)
    original = getattr(module, attribute)
    setattr(module, attribute, make(original))
    try:
        yield
    finally:
        setattr(module, attribute, original)


def when_compiled(broken: Callable[..., Any], original: Callable[..., Any]) -> Callable[..., Any]:
    """`broken` during the compiled path's run, `original` during the oracle's."""

    def switch(*args: Any, **kwargs: Any) -> Any:
        return (broken if compiled_run.get() else original)(*args, **kwargs)

    return switch


# Response rewrites -----------------------------------------------------------------------------


def _rewrite(body: str, change: Callable[[dict[str, Any]], bool]) -> str:
    decoded = json.loads(body)
    return json.dumps(decoded) if change(decoded) else body


def _walk(value: Any) -> Iterator[Any]:
    yield value
    children = (
        value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    )
    for child in children:
        yield from _walk(child)


def _first(body: dict[str, Any], found: Callable[[Any], bool]) -> Any:
    return next((v for v in _walk(body.get("data")) if found(v)), None)


def _reverse_keys(body: dict[str, Any]) -> bool:
    obj = _first(body, lambda v: isinstance(v, dict) and len(v) > 1)
    if obj is None:
        return False
    items = list(obj.items())
    obj.clear()
    obj.update(reversed(items))
    return True


def _reverse_list(body: dict[str, Any]) -> bool:
    items = _first(body, lambda v: isinstance(v, list) and len({json.dumps(x) for x in v}) > 1)
    if items is None:
        return False
    items.reverse()
    return True


def _drop_error(body: dict[str, Any]) -> bool:
    if not body.get("errors"):
        return False
    body["errors"].pop()
    if not body["errors"]:
        del body["errors"]
    return True


def _error_path(body: dict[str, Any]) -> bool:
    error = next((e for e in body.get("errors") or () if e.get("path")), None)
    if error is None:
        return False
    last = error["path"][-1]
    error["path"][-1] = last + 1 if isinstance(last, int) else f"{last}_"
    return True


def _null_for_empty_list(body: dict[str, Any]) -> bool:
    parent = _first(body, lambda v: isinstance(v, dict) and [] in v.values())
    if parent is None:
        return False
    key = next(k for k, v in parent.items() if v == [])
    parent[key] = None
    return True


def _float_for_int(body: dict[str, Any]) -> bool:
    parent = _first(
        body,
        lambda v: isinstance(v, dict) and any(type(x) is int for x in v.values()),
    )
    if parent is None:
        return False
    key = next(k for k, v in parent.items() if type(v) is int)
    parent[key] = float(parent[key])
    return True


# Access log changes ----------------------------------------------------------------------------


async def _extra_read(conn: Connection, mark: int) -> None:
    await conn.execute(
        """
        INSERT INTO personal_data_access
            (complaint_id, subject, role, opd_id, field, address, accessed_at)
        SELECT complaint_id, subject, role, opd_id, field, address, accessed_at
        FROM personal_data_access WHERE id > $1 ORDER BY id LIMIT 1
        """,
        mark,
    )


# Code patches ----------------------------------------------------------------------------------


def _compiler_reads_personal_data_for_anyone() -> contextlib.AbstractContextManager[None]:
    return patched(
        "kilas.compiler.complaints.can_read_personal_data", lambda original: lambda ctx, a: "true"
    )


@contextlib.contextmanager
def swapped(table: str, key: str, make: Callable[[Any], Any]) -> Iterator[None]:
    """Entry `key` of the dict `table` ("package.module.NAME") replaced by `make(original)`:
    the compiler's field tables hold their functions, so patching the module's name is not
    enough."""
    module_name, _, attribute = table.rpartition(".")
    entries = getattr(importlib.import_module(module_name), attribute)
    original = entries[key]
    entries[key] = make(original)
    try:
        yield
    finally:
        entries[key] = original


def _sql_rewrite(target: str, old: str, new: str) -> Patch:
    """The function `target` (a SQL builder) with `old` replaced by `new` in the SQL it
    returns."""

    def make(original: Any) -> Any:
        return lambda *args, **kwargs: original(*args, **kwargs).replace(old, new)

    return lambda: patched(target, make)


def _field_rewrite(table: str, key: str, old: str, new: str) -> Patch:
    def make(original: Any) -> Any:
        return lambda *args, **kwargs: original(*args, **kwargs).replace(old, new)

    return lambda: swapped(table, key, make)


@contextlib.contextmanager
def _everyone_sees_everything() -> Iterator[None]:
    from kilas.compiler.sql import Statement

    original = Statement.visible
    Statement.visible = lambda self, alias, holder=None: "true"  # type: ignore[method-assign]
    try:
        yield
    finally:
        Statement.visible = original  # type: ignore[method-assign]


def _unfiltered_links() -> Any:
    from kilas.compiler.objects import many

    return many("Complaint", "complaints", "{b}.work_item_id = {a}.id", "{b}.id")


def _plans_shared_by_roles() -> contextlib.AbstractContextManager[None]:
    return patched(
        "kilas.compiler.run._key",
        lambda original: lambda query, operation, context, shape: (query, operation, shape),
    )


def _event_complaint_not_presented() -> contextlib.AbstractContextManager[None]:
    from kilas.compiler.objects import Row

    def make(original: Any) -> Any:
        return lambda ctx, row, sel: original(ctx, Row(row.alias), sel)

    return swapped("kilas.compiler.complaints.EVENT", "complaint", make)


MUTANTS = [
    Mutant(
        "key-order",
        "an object's keys in another order",
        tamper=lambda b: _rewrite(b, _reverse_keys),
    ),
    Mutant("list-order", "a list in another order", tamper=lambda b: _rewrite(b, _reverse_list)),
    Mutant("dropped-error", "one error missing", tamper=lambda b: _rewrite(b, _drop_error)),
    Mutant("error-path", "an error at another path", tamper=lambda b: _rewrite(b, _error_path)),
    Mutant(
        "null-for-empty-list",
        "null where the list is empty",
        tamper=lambda b: _rewrite(b, _null_for_empty_list),
    ),
    Mutant("float-for-int", "1.0 where 1 is due", tamper=lambda b: _rewrite(b, _float_for_int)),
    Mutant("extra-access-read", "a personal-data read logged twice", tamper_log=_extra_read),
    # The compiler's own code (kilas.compiler); the lead adds the rest as the compiler grows.
    Mutant(
        "compiler-personal-data-open",
        "every caller reads reporters and external refs",
        patch=_compiler_reads_personal_data_for_anyone,
    ),
    Mutant(
        "compiler-visibility-open",
        "confidential complaints shown to everyone",
        patch=_everyone_sees_everything,
    ),
    Mutant(
        "compiler-tracking-number-open",
        "every caller reads every tracking number",
        patch=lambda: swapped(
            "kilas.compiler.complaints.COMPLAINT",
            "trackingNumber",
            lambda original: lambda ctx, row, sel: f"{row.alias}.tracking_number",
        ),
    ),
    Mutant(
        "compiler-actor-unmasked",
        "the public sees which member of staff acted",
        patch=lambda: swapped(
            "kilas.compiler.complaints.EVENT",
            "actor",
            lambda original: lambda ctx, row, sel: f"{row.alias}.actor",
        ),
    ),
    Mutant(
        "compiler-sla-met-as-on-track",
        "a clock that was met reads ON_TRACK",
        patch=_sql_rewrite("kilas.compiler.complaints.clock_reading", "'MET'", "'ON_TRACK'"),
    ),
    Mutant(
        "compiler-has-next-page-off-by-one",
        "hasNextPage true on a full last page",
        patch=_sql_rewrite("kilas.compiler.complaints.connection", "count(*) >", "count(*) >="),
    ),
    Mutant(
        "compiler-cursor-in-wib",
        "a keyset cursor written with the WIB time",
        patch=_sql_rewrite("kilas.compiler.roots.connection", "kilas_utc_iso(", "kilas_wib("),
    ),
    Mutant(
        "compiler-access-log-skipped",
        "a personal-data read returned without being logged",
        patch=_sql_rewrite(
            "kilas.compiler.complaints.personal",
            "CASE WHEN kilas_log_read(",
            "CASE WHEN true OR kilas_log_read(",
        ),
    ),
    Mutant(
        "compiler-linked-complaints-unfiltered",
        "a work item lists complaints the caller may not see",
        patch=lambda: swapped(
            "kilas.compiler.reference.WORK_ITEM",
            "linkedComplaints",
            lambda original: _unfiltered_links(),
        ),
    ),
    Mutant(
        "compiler-event-complaint-not-presented",
        "the reporter loses a confidential complaint reached through its own timeline",
        patch=_event_complaint_not_presented,
    ),
    Mutant(
        "compiler-plans-shared-by-roles",
        "one role's plan (its rules) answers another role's query",
        patch=_plans_shared_by_roles,
    ),
    Mutant(
        "compiler-float-as-int",
        "100.0 sent as 100",
        patch=_field_rewrite(
            "kilas.compiler.reference.WORK_ITEM", "progressPct", "kilas_float(", "("
        ),
    ),
]
BY_NAME = {m.name: m for m in MUTANTS}


def selected() -> Mutant | None:
    """The mutant this test process is to run with, if any."""
    name = os.environ.get(ENV)
    if not name:
        return None
    if name not in BY_NAME:
        raise LookupError(f"{ENV}={name!r}: no such mutant ({', '.join(BY_NAME)})")
    return BY_NAME[name]


@contextlib.contextmanager
def install(world: World) -> Iterator[Mutant | None]:
    """Break the compiled path of `world` as the selected mutant says, while the block runs."""
    mutant = selected()
    if mutant is None:
        yield None
        return
    world.tamper, world.tamper_log = mutant.tamper, mutant.tamper_log
    with mutant.patch() if mutant.patch is not None else contextlib.nullcontext():
        yield mutant


def run_test_file(mutant: str | None, *pytest_args: str) -> tuple[int, float, str]:
    env = {k: v for k, v in os.environ.items() if k != ENV}
    if mutant is not None:
        env[ENV] = mutant
    started = time.monotonic()
    command = [sys.executable, "-m", "pytest", TEST_FILE, "-x", "-q", "-p", "no:cacheprovider"]
    process = subprocess.run(
        [*command, *pytest_args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    output = process.stdout + process.stderr
    return process.returncode, time.monotonic() - started, output


def main(argv: list[str]) -> int:
    if "--list" in argv:
        for m in MUTANTS:
            print(f"{m.name:32} {m.bug}")
        return 0
    # Only the generated queries, not the explicit cases: does the generator find each bug?
    pytest_args = ("-k", "generated_read_queries") if "--generated-only" in argv else ()
    argv = [a for a in argv if a != "--generated-only"]
    names = argv or [m.name for m in MUTANTS]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        print(f"no such mutant: {', '.join(unknown)}", file=sys.stderr)
        return 2
    code, seconds, output = run_test_file(None, *pytest_args)
    print(f"baseline (no mutant): exit {code} in {seconds:.0f} s")
    if code != 0:
        print(output[-4000:])
        return 1
    survived = []
    for name in names:
        code, seconds, output = run_test_file(name, *pytest_args)
        # pytest exits 1 when a test failed; anything else is a broken run, not a catch. A
        # failure that is not the comparison's (a mutant whose SQL does not even run, say)
        # is a broken mutant, not a catch either.
        compared = code == 1 and CAUGHT_BY in output and "syntax error" not in output
        verdict = (
            "caught"
            if compared
            else "SURVIVED"
            if code == 0
            else "BROKEN MUTANT"
            if code == 1
            else f"ERROR (exit {code})"
        )
        print(f"{name:32} {verdict} in {seconds:.0f} s")
        if not compared:
            survived.append(name)
            if code != 0:
                print(output[-3000:])
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
