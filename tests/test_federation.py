"""Kilas as an Apollo Federation v2 subgraph: its SDL composes with a second subgraph (a budget
system extending Programme and Opd) under npm's @apollo/composition, and a federated query runs
through npm's @apollo/gateway against both; `_entities` resolves Kilas's entities by the rules
of `node(id:)`."""

import json

import asyncpg

from kilas.schema.ids import to_global_id
from tests._npm import install, needs_node, run_script
from tests.wire import gql, start_server, token

ENTITIES = """query ($representations: [_Any!]!) { _entities(representations: $representations) {
  __typename
  ... on Complaint { id text }
  ... on Opd { slug shortName }
  ... on Region { code name }
  ... on Category { code name }
  ... on Programme { code }
} }"""


@needs_node
async def test_a_federated_query_reads_kilas_and_a_budget_subgraph_through_a_gateway(
    database_url: str,
) -> None:
    install()
    async with start_server(database_url, demo=True) as server:
        found = await gql(
            server.http_url,
            '{ programme(code: "JALAN-CANTIK-2026") { id owner { id name } } }',
            token=None,
        )
        programme = found["data"]["programme"]
        queries = [
            {
                "name": "programme",
                "query": """query ($code: String!) { programme(code: $code) {
                    name budgetIdr realisations { month amountIdr }
                    owner { shortName procurementPackages } } }""",
                "variables": {"code": "JALAN-CANTIK-2026"},
            },
            {
                "name": "packages",
                "query": "{ packages { code opd { name slug procurementPackages } } }",
                "variables": {},
            },
        ]
        argument = {
            "kilas": server.http_url,
            "programmeId": programme["id"],
            "opdId": programme["owner"]["id"],
            "queries": queries,
        }
        steps = {s["step"]: s for s in await run_script("federation.mjs", json.dumps(argument))}
    assert steps["composition"]["errors"] == []
    answer = steps["programme"]["result"]
    assert "errors" not in answer, answer
    read = answer["data"]["programme"]
    assert read["name"] and read["budgetIdr"]  # from Kilas
    assert read["realisations"] == [  # from the budget subgraph
        {"month": "2026-10", "amountIdr": "1250000000"},
        {"month": "2026-11", "amountIdr": "2100000000"},
    ]
    assert read["owner"]["procurementPackages"] == 2 and read["owner"]["shortName"]
    # Rooted in the budget subgraph: each package's OPD resolved by Kilas's _entities.
    packages = steps["packages"]["result"]
    assert "errors" not in packages, packages
    assert [p["opd"]["name"] for p in packages["data"]["packages"]] == [
        programme["owner"]["name"]
    ] * 2


async def test_entities_resolve_by_the_rules_of_node(database_url: str, pool: asyncpg.Pool) -> None:
    async with start_server(database_url, demo=True) as server:
        async with pool.acquire() as conn:
            secret = await conn.fetchval("SELECT id FROM complaints WHERE confidential LIMIT 1")
            open_one = await conn.fetchval(
                "SELECT id FROM complaints WHERE NOT confidential LIMIT 1"
            )
            opd = await conn.fetchrow("SELECT id, slug FROM opds ORDER BY id LIMIT 1")
        representations = [
            {"__typename": "Complaint", "id": to_global_id("Complaint", open_one)},
            {"__typename": "Complaint", "id": to_global_id("Complaint", secret)},
            {"__typename": "Opd", "id": to_global_id("Opd", opd["id"])},
            {"__typename": "Region", "code": "33.74"},
            {"__typename": "Category", "code": "JALAN"},
            # An id of another type, an unknown code: null, as node(id:) answers.
            {"__typename": "Programme", "id": to_global_id("Opd", opd["id"])},
            {"__typename": "Region", "code": "99.99"},
        ]
        asked = {"representations": representations}
        public = await gql(server.http_url, ENTITIES, asked, token=None)
        assert "errors" not in public, public
        got = public["data"]["_entities"]
        assert got[0]["id"] == to_global_id("Complaint", open_one) and got[0]["text"]
        assert got[1] is None, "a confidential complaint is not the public's, here either"
        assert got[2]["__typename"] == "Opd" and got[2]["slug"] == opd["slug"]
        assert got[3] == {"__typename": "Region", "code": "33.74", "name": "Semarang"}
        assert got[4]["code"] == "JALAN"
        assert got[5] is None and got[6] is None
        operator = await gql(
            server.http_url,
            ENTITIES,
            {"representations": representations[1:2]},
            token=token("OPERATOR"),
        )
        assert operator["data"]["_entities"][0]["id"] == to_global_id("Complaint", secret)
        # Personal data keeps its own rule through _entities.
        reporter = """query ($r: [_Any!]!) { _entities(representations: $r) {
            ... on Complaint { reporter { name } } } }"""
        refused = await gql(server.http_url, reporter, {"r": representations[:1]}, token=None)
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        # Not an entity of this subgraph: an error for that item, never an object built from it.
        foreign = await gql(
            server.http_url,
            "query ($r: [_Any!]!) { _entities(representations: $r) { __typename } }",
            {"r": [{"__typename": "ApiKey", "id": "x"}, "not an object"]},
            token=None,
        )
        assert foreign["data"]["_entities"] == [None, None]
        assert {e["extensions"]["code"] for e in foreign["errors"]} == {"INVALID_INPUT"}
        sdl = await gql(server.http_url, "{ _service { sdl } }", token=None)
        assert '@key(fields: "id"' in sdl["data"]["_service"]["sdl"]
