"""The simulator's GraphQL client: the documents it sends and the answers it reads, over the
same HTTP API as any other client."""

from dataclasses import dataclass
from typing import Any

import httpx

# No tracking number: only staff, and whoever submitted or presents it, may read one.
COMPLAINT = "id status version category { code } region { code }"
PAYLOAD = f"complaint {{ {COMPLAINT} }} event {{ cursor type }} errors {{ code message field }}"
SUBMIT_PAYLOAD = PAYLOAD.replace("complaint { id", "complaint { trackingNumber id", 1)
MUTATION_INPUTS = {
    "submitComplaint": "SubmitComplaintInput",
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
REFERENCE = """
query SimulatorReference {
  regions { code name type seat seatLocation { lat lon } }
  categories { code defaultOpd { slug } }
  opds { id slug }
  programme(code: "JALAN-CANTIK-2026") { workItems { id region { code } } }
}
"""
OPEN_COMPLAINTS = f"""
query SimulatorBacklog($first: Int!) {{
  complaints(filter: {{ status: [RECEIVED, ASSIGNED, IN_PROGRESS, RESOLVED] }},
             orderBy: UPDATED_AT_DESC, first: $first) {{ nodes {{ {COMPLAINT} }} }}
}}
"""
COMPLAINT_NOW = f"""
query SimulatorComplaint($id: ID!) {{ node(id: $id) {{ ... on Complaint {{ {COMPLAINT} }} }} }}
"""


class ApiUnavailable(Exception):
    """The server did not answer, answered with a server error, or asks to slow down (429):
    try again later, after `retry_after` seconds when it said so."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ApiRefused(Exception):
    """The request itself was refused (a GraphQL error, e.g. not allowed): trying it again as
    it is will not help."""


@dataclass(frozen=True)
class Outcome:
    """A mutation's payload: the complaint and event written, or the reasons it was refused."""

    complaint: dict[str, Any] | None
    event_type: str | None
    errors: list[dict[str, Any]]
    created: bool = True

    @property
    def error_code(self) -> str | None:
        return self.errors[0]["code"] if self.errors else None


def _seconds(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("retry-after", "")))
    except ValueError:
        return None


def mutation(name: str) -> str:
    payload = f"created {SUBMIT_PAYLOAD}" if name == "submitComplaint" else PAYLOAD
    return f"""
mutation Simulate($input: {MUTATION_INPUTS[name]}!) {{
  {name}(input: $input) {{ {payload} }}
}}
"""


class Api:
    def __init__(self, client: httpx.AsyncClient, url: str, token: str | None = None) -> None:
        self._client = client
        self.url = url
        self._headers = {"authorization": f"Bearer {token}"} if token else {}

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        try:
            response = await self._client.post(
                self.url,
                json={"query": query, "variables": variables or {}},
                headers=self._headers,
            )
        except httpx.HTTPError as exc:
            raise ApiUnavailable(f"{type(exc).__name__}: {exc}") from None
        if response.status_code == 429:
            raise ApiUnavailable("HTTP 429, too many requests", _seconds(response))
        if response.status_code >= 500:
            raise ApiUnavailable(f"HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise ApiUnavailable(f"HTTP {response.status_code}, not JSON") from None
        if body.get("errors"):
            error = body["errors"][0]
            code = (error.get("extensions") or {}).get("code", "ERROR")
            raise ApiRefused(f"{code}: {error.get('message')}")
        if response.status_code >= 400:
            raise ApiRefused(f"HTTP {response.status_code}")
        return body["data"]

    async def mutate(self, name: str, input: dict[str, Any]) -> Outcome:
        data = await self.execute(mutation(name), {"input": input})
        payload = data[name]
        event = payload.get("event")
        return Outcome(
            complaint=payload.get("complaint"),
            event_type=event["type"] if event else None,
            errors=payload.get("errors") or [],
            created=payload.get("created", True),
        )

    async def complaint(self, complaint_id: str) -> dict[str, Any] | None:
        node: dict[str, Any] | None = (await self.execute(COMPLAINT_NOW, {"id": complaint_id}))[
            "node"
        ]
        return node

    async def backlog(self, first: int) -> list[dict[str, Any]]:
        data = await self.execute(OPEN_COMPLAINTS, {"first": first})
        nodes: list[dict[str, Any]] = data["complaints"]["nodes"]
        return nodes

    async def reference(self) -> dict[str, Any]:
        data: dict[str, Any] = await self.execute(REFERENCE)
        return data
