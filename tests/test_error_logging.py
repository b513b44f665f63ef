"""What the server logs when a client gets a request wrong, over real HTTP: one line at INFO,
with no traceback; ERROR and tracebacks are kept for the server's own faults."""

import logging

import pytest

from tests import ops
from tests.wire import RunningServer, gql

FILTERED = "query Q($f: ComplaintFilter) { complaints(first: 1, filter: $f) { totalCount } }"
# A client's mistakes in its variables, each refused as BAD_USER_INPUT.
MISTAKES = {
    "a variable of the wrong type": (ops.SUBMIT, {"input": ops.complaint_input(channel=5)}),
    "an enum value that is not one": (
        ops.SUBMIT,
        {"input": ops.complaint_input(channel="CARRIER_PIGEON")},
    ),
    "a required variable left out": (ops.SUBMIT, {}),
    "a date its scalar cannot read": (FILTERED, {"f": {"createdFrom": "kemarin sore"}}),
}


@pytest.mark.parametrize("mistake", MISTAKES)
async def test_a_clients_mistake_in_its_variables_is_logged_on_one_line_at_info(
    server: RunningServer, caplog: pytest.LogCaptureFixture, mistake: str
) -> None:
    query, variables = MISTAKES[mistake]
    caplog.set_level(logging.INFO)
    body = await gql(server.http_url, query, variables)
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", body
    # Besides the request's own line (ops/requests.py), which every request has.
    requests = [r for r in caplog.records if r.name == "kilas.request"]
    assert [r.status for r in requests] == [200]  # type: ignore[attr-defined]
    logged = [
        r
        for r in caplog.records
        if r.name.startswith(("kilas", "strawberry")) and r.name != "kilas.request"
    ]
    assert [(r.levelno, r.exc_info, r.stack_info) for r in logged] == [
        (logging.INFO, None, None)
    ], [r.getMessage() for r in logged]
    line = logged[0].getMessage()
    assert "\n" not in line and error["message"] in line
