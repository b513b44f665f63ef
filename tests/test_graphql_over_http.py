"""GraphQL over HTTP, to the letter: the media type negotiated from Accept, request errors as
400 without `data` for clients of `application/graphql-response+json`, `application/json` as it
always was, 406 for a client that accepts neither; and graphql-http's own server audit."""

from typing import Any

import httpx
import pytest

from kilas.guard.media import GRAPHQL_RESPONSE, JSON, negotiate
from tests._npm import install, needs_node, run_script
from tests.wire import RunningServer

NEWEST = "query N($first: Int!) { complaints(first: $first) { edges { node { id status } } } }"
RESPONSE_TYPE = "application/graphql-response+json; charset=utf-8"


@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        ("application/json", JSON),
        ("application/graphql-response+json", GRAPHQL_RESPONSE),
        ("application/graphql-response+json, application/json;q=0.9", GRAPHQL_RESPONSE),
        ("application/json, application/graphql-response+json", GRAPHQL_RESPONSE),
        ("application/json;q=1, application/graphql-response+json;q=0.5", JSON),
        ("application/graphql-response+json;q=0.2, */*", JSON),
        ("APPLICATION/GRAPHQL-RESPONSE+JSON; charset=utf-8", GRAPHQL_RESPONSE),
        ("text/html, application/xhtml+xml, */*;q=0.8", JSON),
        ("text/plain", None),
        ("application/xml, text/html", None),
        ("application/json;q=0, application/graphql-response+json;q=0", None),
        # The most specific range decides: a wildcard does not bring back a refused type.
        ("application/json;q=0, */*", GRAPHQL_RESPONSE),
        ("application/json;q=oops", None),
        ("not a media type", JSON),
    ],
)
def test_the_media_type_is_negotiated_from_accept(accept: str | None, media: str | None) -> None:
    assert negotiate(accept) == media


async def post(server: RunningServer, body: Any, accept: str | None) -> httpx.Response:
    headers = {"accept": accept} if accept is not None else {}
    async with httpx.AsyncClient(trust_env=False) as client:
        return await client.post(server.http_url, json=body, headers=headers)


REQUEST_ERRORS = [
    pytest.param({"query": "{"}, id="does not parse"),
    pytest.param({"query": "{ noSuchField }"}, id="does not validate"),
    pytest.param(
        {"query": "query Q($id: ID!) { __typename }", "variables": {"id": None}},
        id="a variable does not coerce",
    ),
    pytest.param({"query": "{ __typename }", "operationName": {"a": 1}}, id="operationName"),
]


@pytest.mark.parametrize("body", REQUEST_ERRORS)
async def test_a_request_error_is_400_without_data_for_graphql_response_clients(
    server: RunningServer, body: dict[str, Any]
) -> None:
    answer = await post(server, body, GRAPHQL_RESPONSE)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == RESPONSE_TYPE
    assert "data" not in answer.json() and answer.json()["errors"]


@pytest.mark.parametrize("body", REQUEST_ERRORS[:3])
async def test_application_json_clients_get_what_they_always_got(
    server: RunningServer, body: dict[str, Any]
) -> None:
    for accept in (None, "application/json", "*/*"):
        answer = await post(server, body, accept)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/json"
        assert answer.json()["data"] is None and answer.json()["errors"]


async def test_a_field_error_is_200_with_data_for_graphql_response_clients(
    server: RunningServer,
) -> None:
    submit = (
        'mutation { submitComplaint(input: {channel: WEB, text: "Lampu PJU mati", '
        'regionCode: "33.74", reporter: {name: "Sri"}}) { created } }'
    )
    assert (await post(server, {"query": submit}, None)).json()["data"]["submitComplaint"]
    # A public caller's read of personal data: FORBIDDEN at the field, the rest answered.
    query = "{ complaints(first: 1) { edges { node { id reporter { name } } } } }"
    answer = await post(server, {"query": query}, GRAPHQL_RESPONSE)
    assert answer.status_code == 200 and answer.headers["content-type"] == RESPONSE_TYPE
    body = answer.json()
    assert body["data"]["complaints"]["edges"][0]["node"]["id"]
    assert body["errors"][0]["path"][-1] == "reporter"


async def test_compiled_and_field_by_field_answers_take_the_negotiated_type(
    server: RunningServer,
) -> None:
    body = {"query": NEWEST, "variables": {"first": 2}}
    answers = {}
    # The first request runs strawberry's pipeline, which admits the plan; the next ones are
    # answered by the compiled path ahead of it (compiler/http.py).
    for round_ in range(3):
        for accept in (None, GRAPHQL_RESPONSE, f"{GRAPHQL_RESPONSE}, {JSON};q=0.9", "*/*"):
            answer = await post(server, body, accept)
            assert answer.status_code == 200
            expected = RESPONSE_TYPE if accept and accept.startswith(GRAPHQL_RESPONSE) else JSON
            assert answer.headers["content-type"] == expected, (round_, accept)
            answers[(round_, accept)] = answer.json()
    assert len({str(a) for a in answers.values()}) == 1


async def test_a_client_that_accepts_neither_type_gets_406_and_nothing_runs(
    server: RunningServer,
) -> None:
    mutation = (
        'mutation { submitComplaint(input: {channel: WEB, text: "Lampu mati", '
        'regionCode: "33.74"}) { created } }'
    )
    count = {"query": "{ complaints(first: 1) { totalCount } }"}
    before = (await post(server, count, None)).json()["data"]["complaints"]["totalCount"]
    for accept in ("text/plain", "application/xml", "application/json;q=0"):
        answer = await post(server, {"query": mutation}, accept)
        assert answer.status_code == 406, accept
        assert answer.json()["errors"][0]["extensions"]["code"] == "NOT_ACCEPTABLE"
    after = (await post(server, count, None)).json()["data"]["complaints"]["totalCount"]
    assert after == before
    # The same mutation, acceptably asked, runs.
    created = await post(server, {"query": mutation}, JSON)
    assert created.json()["data"]["submitComplaint"]["created"] is True
    now = (await post(server, count, None)).json()["data"]["complaints"]["totalCount"]
    assert now == before + 1
    # A browser asking for GraphiQL still gets its page.
    async with httpx.AsyncClient(trust_env=False) as client:
        page = await client.get(server.http_url, headers={"accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")


@needs_node
async def test_the_graphql_http_server_audit_passes_every_audit(server: RunningServer) -> None:
    install()
    results = await run_script("audit.mjs", server.http_url)
    assert len(results) == 61
    failing = [r for r in results if r["status"] != "ok"]
    assert failing == [], failing
