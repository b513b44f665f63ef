"""The query cost limit over real HTTP and WebSocket: a small, shallow document that asks for
millions of objects is refused before it runs; ordinary pages, the wall's queries and GraphiQL's
introspection run."""

from typing import Any

from tests.wire import RunningServer, WsClient, gql

FAN_OUT = """
query FanOut($outer: Int, $first: Int) {
  complaints(first: $outer) {
    nodes { timeline(first: 200) { nodes { complaint { timeline(first: $first) { nodes {
      cursor } } } } } }
  }
}
"""


def refused(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("data") is None, body
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX", error
    assert error["extensions"]["limit"] == "cost"
    assert error["extensions"]["max"] == 50_000
    return dict(error)


async def test_a_query_asking_for_millions_of_objects_is_refused_before_it_runs(
    server: RunningServer,
) -> None:
    error = refused(await gql(server.http_url, FAN_OUT, {"outer": 100, "first": 200}))
    assert "more than 50000 objects" in error["message"]
    # Each field counts once per object it may be asked of: with 10 complaints and pages of one,
    # about 12,000 (10 × 200 events, six fields under them).
    fine = await gql(server.http_url, FAN_OUT, {"outer": 10, "first": 1})
    assert "errors" not in fine, fine


async def test_lists_without_first_count_as_default_pages_and_fragments_count_where_spread(
    server: RunningServer,
) -> None:
    # complaints (20 by default) × linked work item × its linked complaints (estimated 10) ×
    # 30 events each, 5 fields under them: about 30,000 for one spread, 61,000 for both.
    query = """
    fragment Deep on Complaint { workItem { linkedComplaints { timeline(first: 30) { nodes {
      cursor type actor } } } } }
    { complaints { nodes { ...Deep } } more: complaints { nodes { ...Deep } } }
    """
    refused(await gql(server.http_url, query))
    single = query.replace(" more: complaints { nodes { ...Deep } }", "")
    assert "errors" not in await gql(server.http_url, single)


async def test_a_page_too_large_gets_the_fields_own_error_not_the_cost_limit(
    server: RunningServer,
) -> None:
    body = await gql(server.http_url, "{ complaints(first: 10000) { nodes { id } } }")
    assert body["errors"][0]["extensions"] == {"code": "INVALID_INPUT", "field": "first"}


async def test_ordinary_queries_and_introspection_are_well_within_the_limit(
    server: RunningServer,
) -> None:
    for query in (
        "{ complaints(first: 100) { nodes { id status opd { shortName } region { name } "
        "timeline(first: 50) { nodes { cursor type occurredAt } } } } }",
        "{ regions { code name openComplaints seatLocation { lat lon } } opds { shortName } }",
        '{ programme(code: "JALAN-CANTIK-2026") { workItems { name progressPct '
        "linkedComplaints { status } } } }",
        "{ programmes(first: 20) { nodes { code owner { name } workItems { name "
        "linkedComplaints { id status } } } } }",
        "{ __schema { types { name fields { name args { name type { name ofType { name } } } "
        "type { name ofType { name ofType { name } } } } } } }",
    ):
        body = await gql(server.http_url, query)
        assert "errors" not in body, (query, body)


async def test_over_a_websocket_a_costly_subscription_is_refused_and_the_socket_stays(
    server: RunningServer,
) -> None:
    costly = """
    subscription { complaintEvents { complaint { timeline(first: 200) { nodes { complaint {
      timeline(first: 200) { nodes { cursor } } } } } } } }
    """
    async with WsClient.connect(server.ws_url) as client:
        await client.subscribe("costly", costly)
        message = await client.message("costly")
        # Refused as the depth and alias limits are: an `error`, never a `next`.
        assert message["type"] == "error", message
        assert message["payload"][0]["extensions"]["limit"] == "cost", message
        await client.subscribe("costly query", FAN_OUT, {"outer": 100, "first": 200})
        message = await client.message("costly query")
        assert message["type"] == "error", message
        refused({"data": None, "errors": message["payload"]})
        await client.subscribe("fine", "query { __typename }")
        assert await client.next_data("fine") == {"__typename": "Query"}
