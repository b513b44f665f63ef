"""The compiled read path on the wire: two servers on one database, one compiling and one not
(KILAS_COMPILED_READS=false), answer the same HTTP requests alike, status, content type and
body, the first time a query comes (strawberry's pipeline, then the statements) and every time
after (straight to the statements, compiler/http.py); and each root field is one statement."""

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from kilas.compiler import COMPILED, FALLBACKS
from kilas.compiler.run import FAILED
from kilas.db.pool import create_pool
from kilas.domain import workflow
from tests._api_helpers import data_of
from tests._statements import StatementCounter, complaints_with_opds, statements_for
from tests.wire import start_server

QUERIES: list[tuple[str, dict[str, Any] | None]] = [
    (
        "{ complaints(first: 5) { totalCount pageInfo { hasNextPage endCursor } edges { cursor "
        "node { id status createdAt text channel opd { name shortName } region { code name } "
        "category { code name } reporter { name } trackingNumber sla { response { state } } } } }"
        " }",
        None,
    ),
    (
        "query Page($first: Int!, $status: [ComplaintStatus!]) { complaints(first: $first, "
        "filter: {status: $status}) { nodes { id status lastEvent { type actor } timeline(first: 2)"
        " { nodes { type } } } } opds { slug openBacklog } }",
        {"first": 3, "status": ["ASSIGNED"]},
    ),
    ("{ regions { code name openComplaints } categories { code resolutionHours } }", None),
    # Refused arguments and a field strawberry answers: the same on both servers too.
    ("{ complaints(first: 1000) { totalCount } }", None),
    ("{ dashboard { breachesOpenNow } complaints(first: 1) { totalCount } }", None),
]


def _unordered(body: dict[str, Any]) -> dict[str, Any]:
    """The body with its errors as a sorted list: GraphQL leaves their order to the server
    (strawberry's follows when each resolver failed, the compiled path's the document)."""
    errors = sorted(json.dumps(error, sort_keys=True) for error in body.get("errors", []))
    return {**body, "errors": errors}


async def _post(client: httpx.AsyncClient, url: str, query: str, variables: Any) -> httpx.Response:
    return await client.post(url, json={"query": query, "variables": variables})


async def test_both_servers_answer_every_request_alike_and_again(database_url: str) -> None:
    async with (
        start_server(database_url) as compiled,
        start_server(database_url, compiled_reads=False) as oracle,
    ):
        await data_of(compiled.http_url, "{ opds { slug } }")
        direct_before = COMPILED["answered directly"]
        failed_before = FALLBACKS[FAILED]
        async with httpx.AsyncClient(timeout=30) as client:
            await _submit_some(database_url)
            for query, variables in QUERIES:
                expected = await _post(client, oracle.http_url, query, variables)
                for attempt in ("first", "again", "once more"):
                    found = await _post(client, compiled.http_url, query, variables)
                    assert found.status_code == expected.status_code, (attempt, query)
                    assert found.headers["content-type"] == expected.headers["content-type"]
                    assert _unordered(found.json()) == _unordered(expected.json()), (attempt, query)
            # The second and third time, the compiled ones went straight to their statements,
            # and none failed (strawberry would have answered, rightly but slowly).
            assert COMPILED["answered directly"] - direct_before >= 2 * 3
            assert FALLBACKS[FAILED] == failed_before
            # Not a GraphQL request at all: the view's refusal, from both.
            for body in (b"{not json", b'{"query": 5}', b"[]"):
                headers = {"content-type": "application/json"}
                expected = await client.post(oracle.http_url, content=body, headers=headers)
                found = await client.post(compiled.http_url, content=body, headers=headers)
                assert (found.status_code, found.json()) == (expected.status_code, expected.json())


async def _submit_some(database_url: str) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=2)
    try:
        await complaints_with_opds(pool, 9)
        async with pool.acquire() as conn, conn.transaction():
            await workflow.submit(
                conn,
                workflow.Submission(
                    channel="WEB",
                    text="Lampu jalan mati.",
                    region_code="33.74",
                    reporter_name="Ani",
                ),
                actor="test",
            )
    finally:
        await pool.close()


async def test_a_compiled_query_runs_one_statement_per_root_field(database_url: str) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=2)
    try:
        await complaints_with_opds(pool, 12)
    finally:
        await pool.close()
    counter = StatementCounter()
    async with start_server(database_url, query_logger=counter, event_poll_interval=3600) as s:
        one_root = QUERIES[0][0]
        two_roots = QUERIES[1]
        for _ in range(2):  # the first time admits the plans
            await data_of(s.http_url, one_root)
            await data_of(s.http_url, two_roots[0], two_roots[1])
        count, data = await statements_for(counter, lambda: data_of(s.http_url, one_root))
        assert len(data["complaints"]["edges"]) == 5
        assert count == 1, counter.statements
        count, data = await statements_for(
            counter, lambda: data_of(s.http_url, two_roots[0], two_roots[1])
        )
        assert data["opds"] and data["complaints"]["nodes"]
        assert count == 2, counter.statements


async def test_a_failed_compiled_answer_is_answered_by_strawberry_not_a_500(
    database_url: str, monkeypatch: Any
) -> None:
    import kilas.compiler.run as run

    query = "{ regions { code } }"
    async with start_server(database_url) as s, httpx.AsyncClient(timeout=30) as client:
        for _ in range(2):  # admitted, then answered directly
            assert (await _post(client, s.http_url, query, None)).status_code == 200

        async def failing(*args: Any) -> Any:
            raise ConnectionError("the database went away")

        monkeypatch.setattr(run, "_run", failing)
        response = await _post(client, s.http_url, query, None)
    # strawberry's execution answered instead, as if there were no compiler.
    assert response.status_code == 200
    assert {region["code"] for region in response.json()["data"]["regions"]} >= {"33.74"}


SHAPED = (
    "query Shaped($f: ComplaintFilter, $after: String, $first: Int) { complaints(first: $first, "
    "after: $after, filter: $f) { totalCount pageInfo { endCursor } nodes { id status } } }"
)
SHAPED_FIELDS = (
    "query Fields($s: [ComplaintStatus!], $q: String, $r: String) { complaints(first: 2, "
    "filter: {status: $s, search: $q, regionCode: $r}) { totalCount nodes { id } } }"
)


async def test_one_document_with_filters_given_or_not_is_answered_alike_in_any_order(
    database_url: str,
) -> None:
    """A plan's statement has a condition only for the filters its request gave (and a keyset
    only after a cursor): the same document with other filters, empty ones, blank ones, another
    page size, a cursor or none, in turn, must never reuse a statement that drops a condition."""
    async with (
        start_server(database_url, rate_limit=0) as compiled,
        start_server(database_url, compiled_reads=False, rate_limit=0) as oracle,
        httpx.AsyncClient(timeout=30) as client,
    ):
        await _submit_some(database_url)
        first_page = await _post(client, oracle.http_url, SHAPED, {"first": 2})
        cursor = first_page.json()["data"]["complaints"]["pageInfo"]["endCursor"]
        filters: list[Any] = [
            None,
            {},
            {"status": []},
            {"search": "   "},
            {"search": "jalan"},
            {"regionCode": ""},
            {"regionCode": "33.74"},
            {"status": ["RECEIVED"]},
            {"status": ["RECEIVED"], "regionCode": "33.74"},
            {"status": None, "regionCode": "33.74"},
        ]
        cases: list[tuple[str, dict[str, Any]]] = []
        for f in filters:
            for after in (None, cursor, "", "garbage"):
                for first in (2, 3, None):
                    cases.append((SHAPED, {"f": f, "after": after, "first": first}))
        for s in (None, [], ["RECEIVED"]):
            for q in (None, "", " ", "lampu"):
                for r in (None, "", "33.74"):
                    cases.append((SHAPED_FIELDS, {"s": s, "q": q, "r": r}))
        # Twice over, and the second time backwards: every plan is reused by other shapes'
        # neighbours, straight to its statements.
        for query, variables in [*cases, *reversed(cases)]:
            expected = await _post(client, oracle.http_url, query, variables)
            found = await _post(client, compiled.http_url, query, variables)
            assert found.status_code == expected.status_code, variables
            assert _unordered(found.json()) == _unordered(expected.json()), variables


GUARDED = (
    "query Guarded($search: String) { complaints(first: 2, filter: {search: $search}) "
    "{ totalCount } }"
)


async def test_an_admitted_query_meets_each_guard_once_as_any_request_does(
    database_url: str,
) -> None:
    """compiler/http.py answers admitted queries ahead of the app's middlewares, with their
    guards inlined: the rate limit counts each request once (whether answered there or, when
    the bind refuses an argument, handed on down), and a wrong credential or a body over the
    limit gets the app's own answer, as from a server that does not compile."""
    burst = 5
    guards = {"rate_limit": 60, "rate_limit_burst": burst, "max_body_bytes": 1500}
    async with (
        start_server(database_url, **guards) as compiled,
        start_server(database_url, compiled_reads=False, **guards) as oracle,
        httpx.AsyncClient(timeout=30) as client,
    ):
        direct_before = COMPILED["answered directly"]
        answers: dict[str, list[tuple[int, Any]]] = {}
        for name, server in (("compiled", compiled), ("oracle", oracle)):
            found = answers[name] = []
            # Admitted; then straight to the statements; then a search the bind refuses (more
            # than 200 characters), which strawberry reports; then the bucket is empty.
            searches = ["jalan"] * (burst - 1) + ["x" * 201, "jalan"]
            for search in searches:
                response = await _post(client, server.http_url, GUARDED, {"search": search})
                found.append((response.status_code, _unordered(response.json())))
        assert answers["compiled"] == answers["oracle"]
        statuses = [status for status, _ in answers["compiled"]]
        assert statuses == [200] * burst + [429], statuses
        assert "errors" in answers["compiled"][-2][1] and answers["compiled"][-2][1]["errors"]
        assert COMPILED["answered directly"] - direct_before == burst - 2

    async with (
        start_server(database_url, max_body_bytes=1500) as compiled,
        start_server(database_url, compiled_reads=False, max_body_bytes=1500) as oracle,
        httpx.AsyncClient(timeout=30) as client,
    ):
        for _ in range(2):
            await _post(client, compiled.http_url, GUARDED, {"search": "jalan"})
        direct_before = COMPILED["answered directly"]
        wrong = {"authorization": "Bearer kls_not_a_key"}
        large = {"query": GUARDED, "variables": {"search": "jalan" + " " * 2000}}
        for request in (
            {"json": {"query": GUARDED, "variables": {"search": "jalan"}}, "headers": wrong},
            {"json": large},
            # Chunked, with no Content-Length to refuse it by.
            {"content": _chunks(json.dumps(large).encode())},
        ):
            expected = await client.post(oracle.http_url, **_fresh(request))
            found = await client.post(compiled.http_url, **_fresh(request))
            assert found.status_code == expected.status_code in (400, 401, 413), request
            assert found.json() == expected.json()
            assert found.headers.get("www-authenticate") == expected.headers.get("www-authenticate")
        assert COMPILED["answered directly"] == direct_before


def _chunks(body: bytes) -> Any:
    async def chunked() -> AsyncIterator[bytes]:
        for i in range(0, len(body), 500):
            yield body[i : i + 500]

    return chunked


def _fresh(request: dict[str, Any]) -> dict[str, Any]:
    """The request's arguments, a chunked body's generator made anew for each sending."""
    content = request.get("content")
    return {**request, "content": content()} if callable(content) else request
