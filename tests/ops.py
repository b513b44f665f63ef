"""GraphQL documents shared by the tests, as a client would write them."""

from typing import Any

from tests.wire import gql_data

COMPLAINT_FIELDS = """
    id trackingNumber status version channel externalRef text
    opd { id shortName } region { code } category { code }
    responseDueAt resolutionDueAt firstResponseAt rating rejectionReason
"""
PAYLOAD = f"""
    complaint {{ {COMPLAINT_FIELDS} }}
    event {{ cursor type fromStatus toStatus }}
    errors {{ code message field }}
"""

SUBMIT = f"""
mutation Submit($input: SubmitComplaintInput!) {{
  submitComplaint(input: $input) {{ created {PAYLOAD} }}
}}
"""

MUTATION_INPUTS = {
    "assignComplaint": "AssignComplaintInput",
    "reassignComplaint": "ReassignComplaintInput",
    "recordFollowUp": "RecordFollowUpInput",
    "resolveComplaint": "ResolveComplaintInput",
    "confirmResolution": "ConfirmResolutionInput",
    "reopenComplaint": "ReopenComplaintInput",
    "closeComplaint": "CloseComplaintInput",
    "rejectComplaint": "RejectComplaintInput",
    "linkComplaintToWorkItem": "LinkComplaintToWorkItemInput",
}


def mutation(name: str, payload: str = PAYLOAD) -> str:
    return f"""
mutation Act($input: {MUTATION_INPUTS[name]}!) {{
  {name}(input: $input) {{ {payload} }}
}}
"""


def complaint_input(**overrides: Any) -> dict[str, Any]:
    value: dict[str, Any] = {
        "channel": "X",
        "text": "Jalan provinsi ruas Kudus–Pati km 7 berlubang besar, dua motor jatuh minggu ini.",
        "regionCode": "33.19",
        "categoryCode": "JALAN",
        "reporter": {"handle": "@warga_kudus"},
    }
    value.update(overrides)
    return value


async def submit(url: str, **overrides: Any) -> dict[str, Any]:
    data = await gql_data(url, SUBMIT, {"input": complaint_input(**overrides)})
    payload: dict[str, Any] = data["submitComplaint"]
    assert payload["errors"] == [], payload["errors"]
    return payload


async def act(url: str, name: str, **input: Any) -> dict[str, Any]:
    """Run a lifecycle mutation; return its payload (complaint, event, errors)."""
    data = await gql_data(url, mutation(name), {"input": input})
    payload: dict[str, Any] = data[name]
    return payload


async def act_ok(url: str, name: str, **input: Any) -> dict[str, Any]:
    payload = await act(url, name, **input)
    assert payload["errors"] == [], payload["errors"]
    return payload
