"""The README's API tour, run as a reader would follow it, so that it cannot drift: every
```graphql block of README.md in order, against a real server with the demo data, with the token
that the last `kilas token --role …` command shown before it prints (run as written); values a
`<!-- tour: keep NAME = PATH -->` comment names are carried to the `$NAME` variables of later
blocks; the subscription block stays open on a real WebSocket and must receive every event the
blocks after it cause. The curl commands run too, with `$TOKEN` set to the token of that point."""

import asyncio
import contextlib
import json
import os
import re
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from graphql import OperationDefinitionNode, OperationType, parse

from tests._core_helpers import kilas_command, kilas_env
from tests.wire import RunningServer, WsClient, bearer, start_server, token

README = Path(__file__).resolve().parent.parent / "README.md"
# A fenced block, or a tour comment; in the order they come.
PIECE = re.compile(
    r"^```(?P<lang>\w*)\n(?P<code>.*?)^```$|<!-- tour: (?P<tour>.*?) -->", re.M | re.S
)
KEEP = re.compile(r"keep (.+)", re.S)
TOKEN_COMMAND = re.compile(r"kilas token --role \w+[^\n#)]*")
# The address the README's commands use, replaced by the test server's.
README_ADDRESS = re.compile(r"\b(?:localhost|127\.0\.0\.1):8000\b")
TIMELINE = """
query TourTimeline($id: ID!) {
  node(id: $id) { ... on Complaint { timeline(first: 100) { nodes { cursor type } } } }
}
"""


@dataclass
class Block:
    lang: str
    code: str
    keep: dict[str, str] = field(default_factory=dict)  # variable name -> path in the data


def readme_blocks(markdown: str) -> list[Block]:
    blocks: list[Block] = []
    keep: dict[str, str] = {}
    for match in PIECE.finditer(markdown):
        if match["tour"] is not None:
            found = KEEP.fullmatch(match["tour"].strip())
            assert found, f"unknown tour comment: {match[0]}"
            for pair in found[1].split(","):
                name, _, path = (part.strip() for part in pair.partition("="))
                assert name and path, f"a keep is NAME = PATH: {match[0]}"
                keep[name] = path
            continue
        blocks.append(Block(match["lang"], match["code"], keep))
        keep = {}
    return blocks


def signed_token(command: str) -> str:
    """The token `kilas token …` prints, run as the README writes it."""
    args = shlex.split(command, comments=True)
    result = subprocess.run(
        [*kilas_command(), *args[1:]], env=kilas_env(), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, f"{command}: {result.stderr}"
    return result.stdout.strip()


def at(data: Any, path: str) -> Any:
    for key in path.split("."):
        assert isinstance(data, dict) and data.get(key) is not None, f"no {path} in {data}"
        data = data[key]
    return data


def payload_errors(data: Any) -> list[Any]:
    """The `errors` lists of mutation payloads anywhere in the data."""
    if isinstance(data, dict):
        found = list(data.get("errors") or [])
        return found + [e for k, v in data.items() if k != "errors" for e in payload_errors(v)]
    if isinstance(data, list):
        return [e for item in data for e in payload_errors(item)]
    return []


def operation_of(document: str) -> OperationDefinitionNode:
    operations = [d for d in parse(document).definitions if isinstance(d, OperationDefinitionNode)]
    assert len(operations) == 1, f"a tour block holds one operation:\n{document}"
    return operations[0]


@dataclass
class Tour:
    server: RunningServer
    http: httpx.AsyncClient
    token: str | None = None
    kept: dict[str, Any] = field(default_factory=dict)
    socket: WsClient | None = None
    delivered: set[str] = field(default_factory=set)  # cursors the subscription received
    ran: list[str] = field(default_factory=list)  # what each block was, for the assertions

    async def graphql(self, block: Block) -> None:
        operation = operation_of(block.code)
        names = [v.variable.name.value for v in operation.variable_definitions or ()]
        missing = [name for name in names if name not in self.kept]
        assert not missing, f"${missing} of this block is kept by no block before it:\n{block.code}"
        variables = {name: self.kept[name] for name in names}
        if operation.operation is OperationType.SUBSCRIPTION:
            assert self.socket is not None, "the tour's subscription needs its socket"
            await self.socket.subscribe("tour", block.code, variables)
            self.ran.append("subscription")
            return
        response = await self.http.post(
            self.server.http_url,
            json={"query": block.code, "variables": variables},
            headers=bearer(self.token) if self.token else {},
        )
        body = response.json()
        assert "errors" not in body, f"{body['errors']}\nfrom:\n{block.code}"
        data = body.get("data")
        assert data is not None and None not in data.values(), f"{body}\nfrom:\n{block.code}"
        assert payload_errors(data) == [], f"{data}\nfrom:\n{block.code}"
        for name, path in block.keep.items():
            self.kept[name] = at(data, path)
        self.ran.append(operation.operation.value)
        if operation.operation is OperationType.MUTATION and "subscription" in self.ran:
            await self.every_event_delivered()

    async def every_event_delivered(self) -> None:
        """Every event of the tour's complaint so far reaches the open subscription."""
        assert self.socket is not None and "id" in self.kept, "the tour keeps the complaint's id"
        response = await self.http.post(
            self.server.http_url,
            json={"query": TIMELINE, "variables": {"id": self.kept["id"]}},
            headers=bearer(token("OPERATOR")),
        )
        logged = {e["cursor"] for e in response.json()["data"]["node"]["timeline"]["nodes"]}
        while not logged <= self.delivered:
            message = await self.socket.message("tour")
            assert message["type"] == "next", message
            assert "errors" not in message["payload"], message["payload"]
            event = message["payload"]["data"]["complaintEvents"]
            assert event is not None
            self.delivered.add(event["cursor"])

    async def curl(self, command: str) -> None:
        """A curl command of the README, against the test server."""
        command = README_ADDRESS.sub(f"127.0.0.1:{self.server.port}", command)
        output = await run_shell(command, self.token or "")
        assert output.returncode == 0, f"{command}: exit {output.returncode}\n{output.stderr}"
        if "/graphql" in command:
            body = json.loads(output.stdout)
            assert "errors" not in body and body.get("data") is not None, body
        elif "/open311/" in command:
            # GeoReport requests: a list of them, not the specification's errors.
            body = json.loads(output.stdout)
            assert body and all("service_request_id" in r for r in body), body
        elif "/channels/" in command:
            # A signed sample delivery, stored and answered with what it holds.
            body = json.loads(output.stdout)
            assert body.get("received") and body.get("messages"), body
        else:
            assert "," in output.stdout.splitlines()[0], output.stdout  # a CSV header
        if "$TOKEN" in command:
            refused = await run_shell(command, "")
            assert refused.returncode != 0, f"{command} works without a credential"
        self.ran.append("curl")


@dataclass
class Shell:
    returncode: int
    stdout: str
    stderr: str


async def run_shell(command: str, token_value: str) -> Shell:
    """Without blocking the loop: the server under test answers from it."""
    process = await asyncio.create_subprocess_exec(
        "bash", "-c", f"set -o pipefail; {command}",
        env={"PATH": os.environ["PATH"], "TOKEN": token_value},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return Shell(process.returncode, stdout.decode(), stderr.decode())


def shell_commands(code: str) -> list[str]:
    return [line.strip() for line in code.replace("\\\n", " ").splitlines() if line.strip()]


async def test_the_readme_tour_runs_as_written_against_the_demo_data(database_url: str) -> None:
    blocks = readme_blocks(README.read_text())
    assert sum(b.lang == "graphql" for b in blocks) >= 8, "the tour's GraphQL blocks are gone"
    async with contextlib.AsyncExitStack() as stack:
        server = await stack.enter_async_context(start_server(database_url, demo=True))
        http = await stack.enter_async_context(httpx.AsyncClient(timeout=30, trust_env=False))
        tour = Tour(server, http)
        for block in blocks:
            if block.lang == "sh":
                for command in shell_commands(block.code):
                    if found := TOKEN_COMMAND.search(command):
                        tour.token = signed_token(found[0])
                    elif command.startswith("curl "):
                        await tour.curl(command)
            elif block.lang == "graphql":
                assert tour.token is not None, "the tour shows a token before its first block"
                if operation_of(block.code).operation is OperationType.SUBSCRIPTION:
                    assert tour.socket is None, "the tour holds one subscription"
                    connection = WsClient.connect(server.ws_url, bearer(tour.token))
                    tour.socket = await stack.enter_async_context(connection)
                await tour.graphql(block)
    assert tour.ran.count("mutation") >= 5, tour.ran
    assert {"subscription", "query", "curl"} <= set(tour.ran), tour.ran
