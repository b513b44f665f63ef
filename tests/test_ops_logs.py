"""The request log's and the metrics' rules without a server: JSON and text lines carry a
request's fields, operation names become bounded labels, error codes are read from answers, and
`/metrics` on the API's port is open in development but needs a token in production."""

import json
import logging

from kilas.ops.logs import JsonFormatter, TextFormatter
from kilas.ops.metrics import MAX_OPERATIONS, Metrics
from kilas.ops.requests import _error_codes, _operation_name, _route_label
from kilas.settings import Settings


def _record(**extra: object) -> logging.LogRecord:
    record = logging.makeLogRecord(
        {"name": "kilas.request", "levelno": logging.INFO, "levelname": "INFO"}
    )
    record.msg, record.args = "POST /graphql %d %.1fms", (200, 4.25)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_a_json_line_is_one_object_with_the_requests_fields() -> None:
    line = JsonFormatter().format(
        _record(request_id="wall-7f3a", operation="Regions", caller="public", status=200)
    )
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["message"] == "POST /graphql 200 4.2ms"
    assert entry["level"] == "INFO" and entry["logger"] == "kilas.request"
    assert (entry["request_id"], entry["operation"], entry["caller"], entry["status"]) == (
        "wall-7f3a", "Regions", "public", 200,
    )  # fmt: skip
    assert entry["time"].endswith("+00:00")


def test_a_text_line_ends_with_the_fields() -> None:
    line = TextFormatter().format(_record(request_id="r1", operation="Regions"))
    assert line.endswith("POST /graphql 200 4.2ms request_id=r1 operation=Regions")
    plain = TextFormatter().format(_record())
    assert plain.endswith("kilas.request: POST /graphql 200 4.2ms")


def test_operation_names_are_bounded_labels() -> None:
    metrics = Metrics()
    assert metrics.operation(None) == "anonymous"
    assert metrics.operation("Regions") == "Regions"
    assert metrics.operation("drop table; --") == "other"
    for n in range(MAX_OPERATIONS + 10):
        metrics.operation(f"Invented{n}")
    assert metrics.operation("Regions") == "Regions"  # known before the bound
    assert metrics.operation("OneTooMany") == "other"


def test_the_operation_name_comes_from_the_request_as_graphql_over_http_sends_it() -> None:
    post = {"method": "POST"}
    assert _operation_name(post, b'{"query": "{ a }", "operationName": "Named"}') == "Named"
    assert _operation_name(post, b'{"query": "mutation Lapor($i: X) { a }"}') == "Lapor"
    assert _operation_name(post, b'{"query": "{ a }"}') is None
    assert _operation_name(post, b"[{}, {}]") == "batch"
    assert _operation_name(post, b"not json") is None
    get = {"method": "GET", "query_string": b"query=query%20Wall%20%7B%20a%20%7D"}
    assert _operation_name(get, b"") == "Wall"


def test_error_codes_are_read_from_the_answer() -> None:
    assert _error_codes(b'{"data": {"a": 1}}') == []
    answer = {"errors": [{"extensions": {"code": "FORBIDDEN"}}, {"message": "x"}]}
    assert _error_codes(json.dumps(answer).encode()) == ["FORBIDDEN", "UNSPECIFIED"]
    odd = {"errors": [{"extensions": {"code": "not a code"}}]}
    assert _error_codes(json.dumps(odd).encode()) == ["UNSPECIFIED"]


def test_paths_become_bounded_labels() -> None:
    assert _route_label("/health") == "/health"
    assert _route_label("/open311/v2/requests/123.json") == "/open311"
    assert _route_label("/static/wall/wall.js") == "/static"
    assert _route_label("/" + "x" * 80) == "/other"


def test_metrics_on_the_apis_port_need_a_token_in_production() -> None:
    assert Settings().metrics_here
    assert not Settings(metrics=False).metrics_here
    assert not Settings(metrics_port=9464).metrics_here
    assert not Settings(env="production").metrics_here
    assert Settings(env="production", metrics_token="t" * 32).metrics_here
