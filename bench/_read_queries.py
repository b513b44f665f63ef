"""The read-path benchmark's queries: GraphQL documents a public caller sends, named by their
operation (the baseline app picks its SQL by that name), and the check that two responses say
the same thing."""

import json
from dataclasses import dataclass
from typing import Any

NEWEST = """query NewestComplaints($first: Int!) {
  complaints(first: $first) {
    edges { node { id status createdAt text channel opd { name shortName }
                   region { code name } category { code name } } }
  }
}"""
OPD_PAGE = """query OpdPage($slug: String!, $opdId: ID!) {
  opd(slug: $slug) { name openBacklog }
  complaints(first: 20, filter: {opdId: $opdId, status: [ASSIGNED, IN_PROGRESS]}) {
    totalCount
    edges { node { id status text sla {
      response { state dueAt remainingSeconds }
      resolution { state dueAt remainingSeconds }
      escalationLevel } } }
  }
}"""
PROGRAMME_WORK = """query ProgrammeWork($code: String!) {
  programme(code: $code) {
    name budgetIdr
    workItems { name progressPct status linkedComplaints { id status text } }
  }
}"""
# PostGraphile's own schema for #1/#2 (its names, its relations; public callers see only
# non-confidential complaints, so the condition says so).
POSTGRAPHILE_NEWEST = """query NewestComplaints($first: Int!) {
  allComplaints(first: $first, orderBy: [CREATED_AT_DESC, PRIMARY_KEY_DESC],
                condition: {confidential: false}) {
    edges { node { id status createdAt text channel opdByOpdId { name shortName }
                   regionByRegionCode { code name } categoryByCategoryCode { code name } } }
  }
}"""
# Deadlines move on while two servers answer one after the other.
CLOCK_TOLERANCE_SECONDS = 5


@dataclass(frozen=True)
class ReadQuery:
    name: str
    document: str
    variables: dict[str, Any]
    root_fields: int
    # The equivalent PostGraphile document, where there is one.
    postgraphile: str | None = None

    @property
    def operation(self) -> str:
        return self.document.split()[1].split("(")[0]

    def body(self, document: str | None = None) -> bytes:
        return json.dumps(
            {
                "query": document or self.document,
                "operationName": self.operation,
                "variables": self.variables,
            }
        ).encode()


def read_queries(opd_slug: str, opd_id: str, programme_code: str) -> list[ReadQuery]:
    """The four queries of BENCHMARKS.md, on a real OPD (slug and global id) and programme."""
    return [
        ReadQuery("50 newest complaints", NEWEST, {"first": 50}, 1, POSTGRAPHILE_NEWEST),
        ReadQuery("1 newest complaint", NEWEST, {"first": 1}, 1, POSTGRAPHILE_NEWEST),
        ReadQuery(
            "OPD page, open complaints + SLA", OPD_PAGE, {"slug": opd_slug, "opdId": opd_id}, 2
        ),
        ReadQuery(
            "programme, work items, linked complaints", PROGRAMME_WORK, {"code": programme_code}, 1
        ),
    ]


def differences(left: Any, right: Any, path: str = "") -> list[str]:
    """Where two decoded responses differ (at most a few places), as JSON paths; remaining
    seconds of an SLA clock may differ by the time between the two requests, and a number
    is its value (100 is 100.0)."""
    if isinstance(left, dict) and isinstance(right, dict):
        if left.keys() != right.keys():
            return [f"{path}: keys {sorted(left)} != {sorted(right)}"]
        found = [d for key in left for d in differences(left[key], right[key], f"{path}.{key}")]
        return found[:5]
    if isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            return [f"{path}: {len(left)} items != {len(right)}"]
        found = [
            d
            for i, pair in enumerate(zip(left, right, strict=True))
            for d in differences(*pair, f"{path}[{i}]")
        ]
        return found[:5]
    if path.endswith(".remainingSeconds") and isinstance(left, int) and isinstance(right, int):
        return (
            [] if abs(left - right) <= CLOCK_TOLERANCE_SECONDS else [f"{path}: {left} != {right}"]
        )
    # JSON has one kind of number: 100 and 100.0 are the same Float.
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (left, right))
    same = left == right and (numbers or type(left) is type(right))
    return [] if same else [f"{path}: {left!r} != {right!r}"]
