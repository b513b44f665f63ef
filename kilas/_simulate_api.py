"""The simulator's GraphQL client: the documents it sends and the answers it reads, over the
same HTTP API as any other client."""

import asyncio
import time
from collections.abc import Container
from dataclasses import dataclass
from datetime import datetime, timedelta
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
query SimulatorReference($programme: String!) {
  regions { code name type seat seatLocation { lat lon } }
  categories { code defaultOpd { slug } }
  opds { id slug socialAccounts { platform handle verified externalId } }
  programme(code: $programme) { workItems { id region { code } } }
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
# A channel message's complaint: one of its channel dated when the message was posted (or, by
# a server's clock behind the simulator's, a little before), matched by text rather than by
# externalRef, personal data whose every read is logged; then read whole with how intake routed
# it. Complaints made later through the API fall outside the window.
ARRIVALS = """
query SimulatorArrivals($channel: Channel!, $from: DateTime!, $before: DateTime!, $first: Int!) {
  complaints(filter: { channel: [$channel], createdFrom: $from, createdBefore: $before },
             orderBy: CREATED_AT_DESC, first: $first) {
    nodes { id text }
  }
}
"""
ARRIVED = f"""
query SimulatorArrived($id: ID!) {{ node(id: $id) {{ ... on Complaint {{
  {COMPLAINT} trackingNumber opd {{ slug }}
  timeline(first: 2) {{ nodes {{ type routingReason addressedAccount }} }}
}} }} }}
"""
ARRIVALS_LOOKED_AT = 30
# The inbox worker takes a delivery at once; a complaint that has not come of one by then will
# not (the server's inbox worker is off, or another instance's does not run).
ARRIVAL_TIMEOUT = 10.0
# How far behind the simulator's the server's clock may be: a message's complaint is dated when
# it was posted, by the simulator's clock, or when the server took it in if that is earlier.
CLOCK_SKEW = timedelta(minutes=15)


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
    def events(self) -> list[str]:
        return [self.event_type] if self.event_type else []

    @property
    def error_code(self) -> str | None:
        return self.errors[0]["code"] if self.errors else None


def retry_after_seconds(response: httpx.Response) -> float | None:
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
            raise ApiUnavailable("HTTP 429, too many requests", retry_after_seconds(response))
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

    async def arrival(
        self, channel: str, text: str, posted: datetime, known: Container[str]
    ) -> dict[str, Any] | None:
        """The complaint channel intake made of a message posted at `posted`: the newest of
        `channel` with this text that is not one of `known`; None if none comes in time."""
        deadline = time.monotonic() + ARRIVAL_TIMEOUT
        window = {
            "channel": channel,
            "from": (posted - CLOCK_SKEW).isoformat(),
            "before": (posted + timedelta(seconds=1)).isoformat(),
            "first": ARRIVALS_LOOKED_AT,
        }
        wait = 0.02
        while True:
            data = await self.execute(ARRIVALS, window)
            for node in data["complaints"]["nodes"]:
                if node["text"] == text and node["id"] not in known:
                    arrived: dict[str, Any] | None = (
                        await self.execute(ARRIVED, {"id": node["id"]})
                    )["node"]
                    return arrived
            if time.monotonic() > deadline:
                return None
            await asyncio.sleep(wait)
            wait = min(wait * 2, 1.0)

    async def backlog(self, first: int) -> list[dict[str, Any]]:
        data = await self.execute(OPEN_COMPLAINTS, {"first": first})
        nodes: list[dict[str, Any]] = data["complaints"]["nodes"]
        return nodes

    async def reference(self, programme: str) -> dict[str, Any]:
        """Regions, categories, OPDs, and the work items of the demo's road programme."""
        data: dict[str, Any] = await self.execute(REFERENCE, {"programme": programme})
        return data
