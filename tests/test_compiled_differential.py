"""The compiled read path answers every read query exactly as strawberry's field-by-field
execution (the oracle) does, for every caller: the same data with its keys in the same order,
the same errors (message, path, locations, extensions), and the same personal-data reads in the
access log.

One database for the module: the demo data plus edge cases (tests/_differential_seed.py), read
at a fixed clock so that SLA readings agree. Queries come from a generator that walks the schema
(tests/_differential.py) and from explicit cases below. KILAS_DIFFERENTIAL_EXAMPLES sets how
many generated queries run (each against ten callers, on both paths); tests/differential_mutants.py
breaks the compiled path on purpose and checks that this file notices."""

import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from kilas.schema.ids import parse_global_id, to_global_id
from tests import differential_mutants
from tests._differential import ROOT_FIELDS, GeneratedQuery, read_queries
from tests._differential_compare import Outcome, differences
from tests._differential_values import ORDERINGS
from tests._differential_world import World, module_world

DEFAULT_EXAMPLES = 200
EXAMPLES = int(os.environ.get("KILAS_DIFFERENTIAL_EXAMPLES", DEFAULT_EXAMPLES))
MUTANT = os.environ.get(differential_mutants.ENV)


@pytest.fixture(scope="module")
def world(pg_url: str, template_url: str) -> Iterator[World]:
    with (
        module_world(pg_url, template_url) as (_, _, opened, _),
        differential_mutants.install(opened),
    ):
        yield opened


def query(text: str, variables: dict[str, Any] | None = None, name: str | None = None) -> Any:
    return GeneratedQuery(text, variables or {}, name, frozenset())


# The comparison itself -------------------------------------------------------------------------

READ = ("jwt:operator", "OPERATOR", None, "reporter", "10.0.0.8", 7)


def outcome(body: str, *reads: tuple[Any, ...]) -> Outcome:
    return Outcome(body, Counter(reads))


@pytest.mark.parametrize(
    ("oracle", "compiled"),
    [
        ('{"data":{"a":1,"b":2}}', '{"data":{"b":2,"a":1}}'),
        ('{"data":{"a":{}}}', '{"data":{"a":[]}}'),
        ('{"data":{"a":1}}', '{"data":{"a":1.0}}'),
        ('{"data":{"a":1}}', '{"data":{"a":true}}'),
        ('{"data":{"a":[1,2]}}', '{"data":{"a":[2,1]}}'),
        ('{"data":{"a":null}}', '{"data":{"a":[]}}'),
        ('{"data":null}', '{"data":{}}'),
        ('{"data":{"a":1}}', '{"data":{"a":1},"errors":[{"message":"x"}]}'),
        ('{"data":{"a":null},"errors":[{"message":"x","path":["a"]}]}',
         '{"data":{"a":null},"errors":[{"message":"x","path":["b"]}]}'),
        ('{"data":null,"errors":[{"message":"x","extensions":{"code":"A"}}]}',
         '{"data":null,"errors":[{"message":"x","extensions":{"code":"B"}}]}'),
        ('{"data":null,"errors":[{"message":"x"},{"message":"x"}]}',
         '{"data":null,"errors":[{"message":"x"}]}'),
    ],
)  # fmt: skip
def test_the_comparison_tells_apart_responses_a_client_would_tell_apart(
    oracle: str, compiled: str
) -> None:
    assert differences(outcome(oracle), outcome(compiled))
    assert not differences(outcome(oracle), outcome(oracle))


def test_the_comparison_takes_errors_in_any_order_and_compares_the_access_log() -> None:
    one = '{"data":null,"errors":[{"message":"x","path":["a"]},{"message":"y","path":["b"]}]}'
    other = '{"data":null,"errors":[{"message":"y","path":["b"]},{"message":"x","path":["a"]}]}'
    assert not differences(outcome(one, READ), outcome(other, READ))
    assert differences(outcome(one, READ), outcome(one))
    assert differences(outcome(one, READ), outcome(one, READ, READ))
    assert differences(outcome(one, READ), outcome(one, (*READ[:-1], 8)))


# The seeded database ---------------------------------------------------------------------------

EDGE = """
query Edge($id: ID!) {
  node(id: $id) {
    ... on Complaint {
      confidential anonymous status location { lat } externalRef reporter { name }
      sla { response { state } resolution { state } escalationLevel }
      duplicateOf { id } workItem { id } timeline { pageInfo { hasNextPage } }
    }
  }
}
"""


def test_the_database_holds_every_edge_case_at_the_fixed_clock(world: World) -> None:
    """The differential test is only as good as its data: this fails if the seeding drifts."""
    found = {}
    for name, key in world.edge.items():
        variables = {"id": to_global_id("Complaint", key)}
        answers = world.compare(query(EDGE, variables), ["operator"])
        found[name] = answers["operator"]["body"]["data"]["node"]
    states = {
        (name, clock): c["sla"][clock]["state"]
        for name, c in found.items()
        for clock in ("response", "resolution")
        if c["sla"][clock]
    }
    assert states["sla_on_track", "response"] == "ON_TRACK"
    assert states["sla_at_risk", "response"] == "AT_RISK"
    assert states["sla_breached", "response"] == "BREACHED"
    assert states["sla_met", "response"] == "MET"
    assert states["sla_resolved_late", "resolution"] == "BREACHED"
    assert found["escalated"]["sla"]["escalationLevel"] == 3
    assert found["long_timeline"]["timeline"]["pageInfo"]["hasNextPage"]
    assert found["duplicate"]["duplicateOf"] and found["duplicate_of_confidential"]["duplicateOf"]
    assert found["linked"]["workItem"] and found["linked_confidential"]["confidential"]
    assert found["anonymous_held"]["anonymous"] and found["anonymous_held"]["reporter"]
    assert found["confidential_held"]["location"] and found["ref_only"]["externalRef"]
    assert (
        found["no_opd"]["status"] == "RECEIVED" and found["rejected_spam"]["status"] == "REJECTED"
    )
    assert world.samples is not None and len(world.samples.timeline_cursors) > 5


# Explicit cases ---------------------------------------------------------------------------------

COMPLAINT = """
fragment Complaint on Complaint {
  id trackingNumber status version channel anonymous confidential text location { lat lon }
  mediaUrls assignedAt responseDueAt resolutionDueAt firstResponseAt resolvedAt closedAt rating
  ratingComment rejectionReason createdAt updatedAt allowedEvents
  category { code name nameEn defaultOpd { slug } resolutionHours }
  region { id code name type seat seatLocation { lat lon } openComplaints }
  opd { id slug shortName name kind head { name title } openBacklog }
  slaPolicy { id name effectiveFrom responseHours resolutionHours
              categoryResolutionHours { categoryCode hours } }
}
"""
PERSONAL = "reporter { name contact handle } externalRef trackingNumber"
SLA = """
sla {
  response { clock state dueAt remainingSeconds overdueSeconds }
  resolution { clock state dueAt remainingSeconds overdueSeconds }
  escalationLevel escalatedTo escalatedAt
}
"""
EVENT = """
fragment Event on ComplaintEvent {
  id cursor type fromStatus toStatus note rating slaClock escalationLevel version occurredAt
  recordedAt actor opd { slug } fromOpd { slug } region { code }
}
"""


NODE = """
id __typename ... on Opd { slug } ... on Complaint { status confidential }
... on Region { code } ... on ComplaintEvent { type complaint { id } } ... on WorkItem { name }
... on Programme { code } ... on SocialAccount { handle } ... on SlaPolicy { name }
... on Category { code }
"""
NODES = 11


def _node_ids(world: World) -> list[str]:
    """Of every node type, and complaints confidential or not."""
    assert world.samples is not None
    by_type: dict[str, str] = {}
    for node in world.samples.other_node_ids:
        by_type.setdefault(parse_global_id(node)[0], node)
    complaints = [gid(world, n) for n in ("confidential_held", "sla_met", "long_confidential")]
    ids = [*by_type.values(), *complaints]
    assert len(ids) == NODES, ids
    return ids


@dataclass(frozen=True)
class Case:
    text: str
    # The case's variables, from the seeded world.
    variables: Callable[[World], dict[str, Any]] = lambda world: {}
    operation_name: str | None = None
    # What the oracle must have answered, so that the case exercises what it names.
    check: Callable[[dict[str, Any]], None] | None = None


def gid(world: World, name: str) -> str:
    return to_global_id("Complaint", world.edge[name])


def edge_ids(*names: str) -> Callable[[World], dict[str, Any]]:
    return lambda world: {f"c{i}": gid(world, n) for i, n in enumerate(names)}


def _every_root_field(world: World) -> dict[str, Any]:
    assert world.samples is not None
    return {
        "number": world.samples.tracking_numbers[0],
        "node": gid(world, "sla_met"),
        "programme": world.samples.programme_codes[-1],
    }


def _reporter_read_by_staff_only(answers: dict[str, Any]) -> None:
    assert answers["operator"]["reads"], "operators read personal data, and it is logged"
    assert answers["officer"]["reads"], "the holding OPD reads its reporters"
    for caller in ("public", "partner", "supervisor", "admin"):
        body = answers[caller]["body"]
        assert not answers[caller]["reads"] and body["errors"], caller
        assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}


def _tracking_number_by_its_holder(answers: dict[str, Any]) -> None:
    for caller in ("public", "partner", "officer-other"):
        node = answers[caller]["body"]["data"]["complaint"]
        assert node["trackingNumber"] and node["timeline"]["nodes"], caller


def _pages(answers: dict[str, Any]) -> None:
    data = answers["operator"]["body"]["data"]["node"]
    assert data["first"]["pageInfo"]["hasNextPage"] and len(data["second"]["nodes"]) == 10


CASES: dict[str, Case] = {
    "every root field": Case(
        """
        query Roots($number: String!, $node: ID!, $programme: String!) {
          complaints(first: 3) { totalCount nodes { id } }
          complaint(trackingNumber: $number) { id status }
          node(id: $node) { id __typename }
          complaintEvents(first: 3) { nodes { id type } pageInfo { hasNextPage endCursor } }
          opds { slug } opd(slug: "dpubmck") { name }
          regions { code } region(code: "33.74") { name openComplaints }
          categories { code resolutionHours }
          programmes(first: 2) { edges { cursor node { code } } }
          programme(code: $programme) { code predecessor { code } successors { code } }
          slaPolicies { name responseHours categoryResolutionHours { categoryCode hours } }
        }
        """,
        _every_root_field,
    ),
    "fragments named, nested, reused and inline": Case(
        COMPLAINT
        + EVENT
        + """
        fragment Page on ComplaintConnection { totalCount nodes { ...Complaint } }
        query Fragments($c0: ID!) {
          complaints(first: 5) { ...Page pageInfo { ... { hasNextPage } } }
          node(id: $c0) {
            __typename ...Complaint
            ... on Complaint { lastEvent { ...Event } timeline(first: 3) { nodes { ...Event } } }
            ... on Opd { slug }
          }
          again: complaints(first: 5) { ...Page }
        }
        """,
        edge_ids("sla_met"),
    ),
    "aliases, the same field with different arguments": Case(
        """
        query Aliases($c0: ID!) {
          newest: complaints(first: 2) { nodes { id createdAt } }
          oldest: complaints(first: 2, orderBy: CREATED_AT_ASC) { nodes { id createdAt } }
          complaints(first: 1) { edges { c: cursor n: node { i: id s: status } } }
          one: node(id: $c0) { ... on Complaint { a: timeline(first: 1) { nodes { type } }
                                                 b: timeline(first: 2) { nodes { t: type } } } }
          two: node(id: $c0) { id }
        }
        """,
        edge_ids("long_timeline"),
    ),
    "@include and @skip with literals and variables": Case(
        """
        query Directives($yes: Boolean!, $no: Boolean!, $dflt: Boolean = true) {
          complaints(first: 3) @include(if: $yes) {
            nodes { id status @skip(if: $yes) text @include(if: $no) opd @skip(if: false) { slug } }
            totalCount @include(if: $dflt)
            ... @skip(if: $no) { pageInfo { hasNextPage } }
            ...More @include(if: true)
          }
          opds @skip(if: true) { slug }
          regions @include(if: $no) { code }
          categories { code name @skip(if: $dflt) }
        }
        fragment More on ComplaintConnection { edges { cursor } }
        """,
        lambda world: {"yes": True, "no": False},
    ),
    "variables everywhere, with defaults, and several operations": Case(
        """
        query Other { opds { slug } }
        query Vars($filter: ComplaintFilter, $order: ComplaintOrder! = CREATED_AT_ASC,
                   $first: Int = 4, $after: String, $status: ComplaintStatus!, $region: String) {
          complaints(filter: $filter, orderBy: $order, first: $first, after: $after) {
            nodes { id status region { code } }
          }
          held: complaints(filter: {status: [$status], regionCode: $region}, first: 3) {
            totalCount nodes { id }
          }
          single: complaints(filter: {status: ASSIGNED, channel: WEB}, first: 2) { nodes { id } }
        }
        """,
        lambda world: {
            "filter": {"status": ["ASSIGNED", "IN_PROGRESS"], "regionCode": "33.74"},
            "after": None,
            "status": "IN_PROGRESS",
            "region": "33.74",
        },
        operation_name="Vars",
    ),
    "node of every type, and ids that name nothing": Case(
        "query Nodes("
        + ", ".join(f"$n{i}: ID!" for i in range(NODES))
        + ") {"
        + " ".join(f"n{i}: node(id: $n{i}) {{ {NODE} }}" for i in range(NODES))
        + """
          a: node(id: "abc") { id } b: node(id: "") { id }
          c: node(id: "Q29tcGxhaW50Ojk5OTk5OQ") { id } d: node(id: "Tm9wZTox") { id }
        }
        """,
        lambda world: {f"n{i}": node for i, node in enumerate(_node_ids(world))},
    ),
    "nested connections, timeline, sla, lastEvent, workItem, linked and duplicate complaints": Case(
        EVENT
        + f"""
        query Nested($c0: ID!, $c1: ID!, $c2: ID!) {{
          complaints(first: 8, orderBy: UPDATED_AT_DESC) {{
            nodes {{
              id {SLA}
              lastEvent {{ ...Event complaint {{ id status }} }}
              timeline(first: 2) {{ edges {{ cursor node {{ ...Event complaint {{ id }} }} }}
                                   pageInfo {{ hasNextPage endCursor }} }}
              workItem {{ id name progressPct lengthKm location {{ lat lon }} plannedStart
                         programme {{ code budgetIdr absorptionPct owner {{ slug }} }}
                         region {{ code }} linkedComplaints {{ id status }} }}
              duplicateOf {{ id status duplicateOf {{ id }} }}
            }}
          }}
          dup: node(id: $c0) {{ ... on Complaint {{ duplicateOf {{ id {SLA} }} }} }}
          hidden: node(id: $c1) {{ ... on Complaint {{ duplicateOf {{ id }} }} }}
          linked: node(id: $c2) {{ ... on Complaint {{
            workItem {{ linkedComplaints {{ id confidential reporter {{ name }} }} }} }} }}
          programmes(first: 3) {{ nodes {{ code workItems {{ name linkedComplaints {{ id }} }} }} }}
        }}
        """,
        edge_ids("duplicate", "duplicate_of_confidential", "linked"),
    ),
    "long timelines paged": Case(
        EVENT
        + """
        query Pages($c0: ID!, $after: String!) {
          node(id: $c0) { ... on Complaint {
            first: timeline { pageInfo { hasNextPage endCursor } nodes { id } }
            second: timeline(first: 10, after: $after) { nodes { ...Event } }
            rest: timeline(first: 200, after: $after) { pageInfo { hasNextPage } }
          } }
          events: complaintEvents(first: 100, after: $after) {
            pageInfo { hasNextPage endCursor } nodes { id actor complaint { id confidential } }
          }
        }
        """,
        lambda world: {
            **edge_ids("long_timeline")(world),
            "after": world.samples.timeline_cursors[3] if world.samples else "0",
        },
        check=_pages,
    ),
    "personal data for every role": Case(
        f"""
        query Personal($c0: ID!, $c1: ID!, $c2: ID!, $c3: ID!) {{
          a: node(id: $c0) {{ ... on Complaint {{ {PERSONAL} }} }}
          b: node(id: $c1) {{ ... on Complaint {{ {PERSONAL} }} }}
          c: node(id: $c2) {{ ... on Complaint {{ {PERSONAL} }} }}
          d: node(id: $c3) {{ ... on Complaint {{ {PERSONAL} lastEvent {{ complaint {{ {PERSONAL} }} }} }} }}
          complaints(first: 20, filter: {{regionCode: "33.74"}}) {{ nodes {{ id {PERSONAL} }} }}
        }}
        """,  # noqa: E501
        edge_ids("sla_met", "anonymous_held", "confidential_held", "ref_only"),
        check=_reporter_read_by_staff_only,
    ),
    "the reporter's path by tracking number": Case(
        EVENT
        + f"""
        query Reporter($number: String!) {{
          complaint(trackingNumber: $number) {{
            id status confidential {PERSONAL}
            lastEvent {{ ...Event complaint {{ trackingNumber }} }}
            timeline(first: 5) {{ nodes {{ ...Event complaint {{ id trackingNumber }} }} }}
            duplicateOf {{ trackingNumber }}
          }}
        }}
        """,
        lambda world: {"number": world.tracking["confidential_moved"]},
        check=_tracking_number_by_its_holder,
    ),
    "refusals: pages out of range, garbage cursors, wrong ids": Case(
        """
        query Refusals {
          a: complaints(first: 0) { totalCount }
          b: complaints(first: 101) { totalCount }
          c: complaints(after: "abc") { totalCount }
          d: complaints(filter: {opdId: "x"}) { totalCount }
          e: complaints(filter: {search: "jalan", createdFrom: "2000-01-01T00:00:00"}, first: 2) {
            nodes { id }
          }
          f: complaintEvents(after: "-1") { nodes { id } }
          g: programmes(after: "T3BkOjE") { nodes { code } }
          h: complaint(trackingNumber: "ZZZ") { id }
          i: opd(slug: "nope") { id } j: region(code: "99.99") { id } k: programme(code: "X") { id }
          l: complaints(first: 2) { nodes { timeline(first: 0) { nodes { id } } } }
        }
        """,
    ),
    "reference data": Case(
        """
        {
          opds { id slug shortName name kind head { name title } updatedAt openBacklog
                 socialAccounts { id platform handle verified opd { slug } }
                 categories { code defaultOpd { slug } } }
          regions { id code name type seat seatLocation { lat lon } openComplaints }
          categories { id code name nameEn resolutionHours defaultOpd { id } }
          slaPolicies { id name effectiveFrom responseHours resolutionHours
                        categoryResolutionHours { categoryCode hours } }
          programmes(first: 100) { pageInfo { hasNextPage endCursor } edges { cursor node {
            id code name description fiscalYear budgetIdr realisationIdr target achievement unit
            status updatedAt absorptionPct achievementPct owner { slug } predecessor { code }
            successors { code } } } }
        }
        """,
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_an_explicit_case_answers_alike_on_both_paths_for_every_caller(
    world: World, name: str
) -> None:
    case = CASES[name]
    answers = world.compare(query(case.text, case.variables(world), case.operation_name))
    if case.check is not None:
        case.check(answers)


# Generated queries ------------------------------------------------------------------------------

# What the generator must reach (test_the_generator_reaches_every_shape).
SHAPES = {
    *(f"root:{name}" for name in ROOT_FIELDS),
    *(f"orderBy:{ordering}" for ordering in ORDERINGS),
    *(f"filter:{name}" for name in ("status", "opdId", "regionCode", "categoryCode", "channel",
                                    "createdFrom", "createdBefore", "search", "workItemId")),
    "alias", "alias-same-field-different-args", "named-fragment", "fragment-reused",
    "inline-fragment", "inline-fragment-typed", "inline-fragment-on-interface",
    "node-on-Complaint", "__typename", "@include-literal", "@include-variable", "@skip-literal",
    "@skip-variable", "directive-variable-default", "variable", "variable-default",
    "nested-variable", "input-object-variable", "literal-null", "list-coercion",
    "multi-operation", "first-out-of-range", "after-real", "after-garbage",
    "after-other-ordering", "node-invalid-id", "unknown-code", "tracking-number-lowercase",
    "timeline-first", "timeline-after", "field:Complaint.reporter", "field:Complaint.externalRef",
    "field:Complaint.trackingNumber", "field:Complaint.sla", "field:Complaint.lastEvent",
    "field:Complaint.workItem", "field:Complaint.duplicateOf", "field:WorkItem.linkedComplaints",
}  # fmt: skip
COVERAGE_EXAMPLES = 800


def test_the_generator_reaches_every_shape(world: World) -> None:
    """Generation alone (nothing runs), with the samples of the seeded world."""
    assert world.samples is not None
    seen: set[str] = set()

    @settings(
        max_examples=COVERAGE_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(generated=read_queries(world.schema._schema, world.samples))
    def generate(generated: GeneratedQuery) -> None:
        seen.update(generated.shapes)

    generate()
    assert not SHAPES - seen, f"never generated: {sorted(SHAPES - seen)}"


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    # A caught mutant fails fast: the first difference is enough.
    phases=[Phase.explicit, Phase.generate] if MUTANT else list(Phase),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_generated_read_queries_answer_alike_on_both_paths_for_every_caller(
    world: World, data: st.DataObject
) -> None:
    assert world.samples is not None
    generated = data.draw(read_queries(world.schema._schema, world.samples), label="query")
    answers = world.compare(generated)
    # With --hypothesis-show-statistics: how often queries answered, were refused, read
    # personal data.
    for caller in ("public", "officer", "operator"):
        body = answers[caller]["body"]
        kind = "errors" if body.get("errors") else "no errors"
        event(f"{caller}: {kind}{', data' if body.get('data') else ''}")
        if answers[caller]["reads"]:
            event(f"{caller}: personal data read")
