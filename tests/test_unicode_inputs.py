"""Any Unicode, in any string argument of any operation, over real HTTP and WebSocket: a lone
surrogate ("\\ud800" in JSON) or a NUL is refused with a code (INVALID_INPUT, or 400
BAD_REQUEST for the request's own text: the query, operationName) and changes nothing; any other
text, non-characters and 100 KiB strings included, never makes a 5xx or an
INTERNAL_SERVER_ERROR. The arguments are read from the schema, so a new field is covered as
soon as it exists."""

import asyncio
import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from graphql import (
    GraphQLField,
    GraphQLInputType,
    GraphQLObjectType,
    get_named_type,
    is_enum_type,
    is_input_object_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
    is_scalar_type,
)
from graphql.pyutils import Undefined
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from kilas.schema import build_schema
from tests import ops
from tests._api_helpers import changed, create_programme, create_work_item, dump, opd_id
from tests.wire import RunningServer, bearer, gql_data, server_in_thread, token

SCHEMA = build_schema()._schema
NUMERIC = {"Int", "Float", "Boolean"}
KIB_100 = 100 * 1024


def invalid(value: str) -> bool:
    """Whether the text Kilas receives, once JSON has joined any escaped surrogate pairs, holds
    a lone surrogate or a NUL."""
    received = json.loads(json.dumps(value))
    return any(c == "\x00" or 0xD800 <= ord(c) <= 0xDFFF for c in received)


@dataclass(frozen=True)
class Target:
    """One string leaf of one argument of one root field, e.g. submitComplaint input.text."""

    kind: str  # query, mutation or subscription
    field: str
    path: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.kind} {self.field}({'.'.join(self.path)})"


def _leaves(type_: GraphQLInputType, path: tuple[str, ...], depth: int = 0) -> Iterator[tuple]:
    named = get_named_type(type_)
    if is_input_object_type(named) and depth < 5:
        for name, field in named.fields.items():
            yield from _leaves(field.type, (*path, name), depth + 1)
    elif is_scalar_type(named) and named.name not in NUMERIC:
        yield path


def root_type(kind: str) -> GraphQLObjectType | None:
    root: GraphQLObjectType | None = getattr(SCHEMA, f"{kind}_type")
    return root


def targets() -> list[Target]:
    found = []
    for kind in ("query", "mutation", "subscription"):
        root = root_type(kind)
        for name, field in root.fields.items() if root else ():
            for arg_name, arg in field.args.items():
                found += [Target(kind, name, p) for p in _leaves(arg.type, (arg_name,))]
    return found


TARGETS = targets()


@dataclass
class World:
    """What a request needs to reach the database: ids and codes that exist, and for each root
    field the role it needs (found by asking, so that a refusal never hides a crash)."""

    ids: dict[str, str]
    texts: dict[str, str]
    roles: dict[str, str]

    def plausible(self, name: str, type_: Any) -> Any:
        if is_non_null_type(type_):
            return self.plausible(name, type_.of_type)
        if is_list_type(type_):
            return [self.plausible(name, type_.of_type)]
        if is_input_object_type(type_):
            return {k: self.plausible(k, f.type) for k, f in type_.fields.items() if _required(f)}
        if is_enum_type(type_):
            return next(iter(type_.values))
        return {
            "ID": self.ids.get(name, self.ids["complaintId"]),
            "String": self.texts.get(name, "Jalan berlubang"),
            "Int": 1,
            "Float": 0.5,
            "Boolean": False,
            "DateTime": "2100-01-01T08:00:00+07:00",
            "Date": "2100-01-01",
            "Decimal": "1",
        }[type_.name]

    def value(self, name: str, type_: Any, rest: tuple[str, ...], leaf: str) -> Any:
        """A value for an argument of `type_`, plausible everywhere but at `rest`, where it is
        `leaf`."""
        if is_non_null_type(type_):
            return self.value(name, type_.of_type, rest, leaf)
        if is_list_type(type_):
            return [self.value(name, type_.of_type, rest, leaf)]
        if not rest:
            return leaf
        value = self.plausible(name, type_)
        value[rest[0]] = self.value(rest[0], type_.fields[rest[0]].type, rest[1:], leaf)
        return value


def _required(field: Any) -> bool:
    return is_non_null_type(field.type) and field.default_value is Undefined


def graphql_string(text: str) -> str:
    """A GraphQL string literal, every character as itself but the ones that must be escaped."""
    escaped = "".join(
        "\\" + c if c in '"\\' else f"\\u{ord(c):04x}" if ord(c) < 0x20 else c for c in text
    )
    return f'"{escaped}"'


def literal(value: Any, type_: Any) -> str:
    if is_non_null_type(type_):
        return literal(value, type_.of_type)
    if is_list_type(type_):
        return "[" + ", ".join(literal(v, type_.of_type) for v in value) + "]"
    if is_input_object_type(type_):
        inner = ", ".join(f"{k}: {literal(v, type_.fields[k].type)}" for k, v in value.items())
        return "{" + inner + "}"
    if is_enum_type(type_) or isinstance(value, bool | int | float):
        return json.dumps(value) if isinstance(value, bool | int | float) else str(value)
    return graphql_string(value)


def selection(field: GraphQLField) -> str:
    named = get_named_type(field.type)
    if not isinstance(named, GraphQLObjectType) and not is_object_type(named):
        return "" if is_scalar_type(named) or is_enum_type(named) else "{ __typename }"
    return "{ __typename errors { code } }" if "errors" in named.fields else "{ __typename }"


def request(world: World, target: Target, leaf: str, inline: bool) -> tuple[str, dict[str, Any]]:
    """(document, variables) that call the target's field with `leaf` in its place."""
    root = root_type(target.kind)
    assert root is not None
    field = root.fields[target.field]
    values = {
        name: world.value(name, arg.type, target.path[1:], leaf)
        if name == target.path[0]
        else world.plausible(name, arg.type)
        for name, arg in field.args.items()
        if name == target.path[0] or _required(arg)
    }
    if inline:
        args = ", ".join(f"{n}: {literal(v, field.args[n].type)}" for n, v in values.items())
        call = f"{target.field}({args})" if args else target.field
        return f"{target.kind} Fuzz {{ {call} {selection(field)} }}", {}
    declared = ", ".join(f"${n}: {field.args[n].type}" for n in values)
    args = ", ".join(f"{n}: ${n}" for n in values)
    head = f"{target.kind} Fuzz({declared})" if declared else f"{target.kind} Fuzz"
    call = f"{target.field}({args})" if args else target.field
    return f"{head} {{ {call} {selection(field)} }}", values


# Any code point, surrogates and NUL included; and the strings that broke things before.
CHARACTERS = st.characters(codec=None, categories=None, exclude_categories=())
SPECIAL = ["\ud800", "\udfff", "x\udc00y", "\x00", "jalan\x00", "\ufffe", "\uffff", "\ufdd0",
           "\U0010ffff", "\U0001f6a7", "\ud83d\ude00", "\u2028\u0085", "'; DROP TABLE opds; --",
           "33.74", "dpubmck", "JALAN"]  # fmt: skip
TEXT = st.one_of(
    st.text(CHARACTERS, max_size=24),
    st.sampled_from(SPECIAL),
    st.builds(lambda odd, at_end: "x" * KIB_100 + odd if at_end else odd + "x" * KIB_100,
              st.sampled_from(["", "\ud800", "\x00", "\uffff", "é"]), st.booleans()),
)  # fmt: skip


class Snapshots:
    """Dumps of the database from the test's own thread (the server runs in another)."""

    def __init__(self, database_url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.pool: asyncpg.Pool = self.loop.run_until_complete(self._open(database_url))

    @staticmethod
    async def _open(database_url: str) -> asyncpg.Pool:
        return await asyncpg.create_pool(database_url, min_size=1, max_size=1)

    def take(self) -> dict[str, Any]:
        return self.loop.run_until_complete(dump(self.pool))

    def close(self) -> None:
        self.loop.run_until_complete(self.pool.close())
        self.loop.close()


async def _world(url: str) -> World:
    submitted = await ops.submit(url)
    complaint = submitted["complaint"]
    dpubmck = await opd_id(url, "dpubmck")
    programme = await create_programme(url)
    item = await create_work_item(url, programme["id"])
    added = await gql_data(
        url,
        "mutation A($o: ID!) { addOpdSocialAccount(input: {opdId: $o, platform: X, "
        'handle: "@dpubmck_jateng"}) { socialAccount { id } } }',
        {"o": dpubmck},
    )
    account = added["addOpdSocialAccount"]["socialAccount"]["id"]
    made = await gql_data(
        url,
        'mutation { createApiKey(input: {name: "fuzz", role: PARTNER}) { apiKey { id } } }',
        token=token("ADMIN"),
    )
    ids = {
        "complaintId": complaint["id"], "id": complaint["id"], "duplicateOfId": complaint["id"],
        "opdId": dpubmck, "ownerOpdId": dpubmck, "programmeId": programme["id"],
        "predecessorId": programme["id"], "workItemId": item["id"],
        "socialAccountId": account, "apiKeyId": made["createApiKey"]["apiKey"]["id"],
    }  # fmt: skip
    texts = {
        "regionCode": "33.74", "categoryCode": "JALAN", "code": "JALAN-CANTIK-2025",
        "slug": "dpubmck", "opdSlug": "dpubmck", "trackingNumber": complaint["trackingNumber"],
        "handle": "@dpubmck_jateng", "unit": "km", "subject": "jwt:test-operator",
    }  # fmt: skip
    return World(ids, texts, {})


ROLES = ("OPERATOR", "ADMIN", "SUPERVISOR")


def refused_for_role(body: Any) -> bool:
    codes = {e.get("extensions", {}).get("code") for e in body.get("errors") or ()}
    for value in (body.get("data") or {}).values():
        if isinstance(value, dict):
            codes |= {e.get("code") for e in value.get("errors") or ()}
    return bool(codes & {"FORBIDDEN", "UNAUTHENTICATED"})


def post(client: httpx.Client, url: str, body: dict[str, Any], role: str) -> httpx.Response:
    # Serialised here: a lone surrogate goes out as the JSON escape "\ud800", as a client's
    # JSON encoder writes it (httpx's own would refuse to encode it).
    content = json.dumps(body).encode()
    headers = {**bearer(token(role)), "content-type": "application/json"}
    return client.post(url, content=content, headers=headers)


def find_roles(client: httpx.Client, url: str, world: World) -> None:
    for target in TARGETS:
        if target.kind == "subscription" or target.field in world.roles:
            continue
        query, variables = request(world, target, world.texts.get(target.path[-1], "x"), False)
        world.roles[target.field] = next(
            (
                role
                for role in ROLES
                if not refused_for_role(
                    post(client, url, {"query": query, "variables": variables}, role).json()
                )
            ),
            "OPERATOR",
        )


@pytest.fixture
def setup(database_url: str) -> Iterator[tuple[RunningServer, World, Snapshots]]:
    with server_in_thread(database_url) as server:
        world = asyncio.run(_world(server.http_url))
        snapshots = Snapshots(database_url)
        with httpx.Client(timeout=60) as client:
            find_roles(client, server.http_url, world)
        try:
            yield server, world, snapshots
        finally:
            snapshots.close()


def codes(body: Any) -> set[str]:
    found = {e.get("extensions", {}).get("code") for e in body.get("errors") or ()}
    for value in (body.get("data") or {}).values():
        if isinstance(value, dict):
            found |= {e.get("code") for e in value.get("errors") or ()}
    return found


def check_http(
    client: httpx.Client,
    server: RunningServer,
    world: World,
    snapshots: Snapshots,
    target: Target,
    text: str,
    mode: str,
) -> None:
    bad = invalid(text)
    leaf = world.texts.get(target.path[-1], "x") if mode == "operationName" else text
    query, variables = request(world, target, leaf, inline=mode == "inline")
    body: dict[str, Any] = {"query": query, "variables": variables}
    if mode == "operationName":
        body["operationName"] = text
    before = snapshots.take() if bad else None
    response = post(client, server.http_url, body, world.roles.get(target.field, "OPERATOR"))
    assert response.status_code < 500, (str(target), mode, response.text[:300])
    answer = response.json()
    found = codes(answer)
    assert "INTERNAL_SERVER_ERROR" not in found, (str(target), mode, answer)
    if not bad:
        return
    assert snapshots.take() == before, (str(target), mode, answer)
    if response.status_code == 413:
        assert found == {"PAYLOAD_TOO_LARGE"}
    elif mode == "operationName" or (mode == "inline" and "\x00" not in text):
        # The request's own text is not text: refused before GraphQL runs.
        assert (response.status_code, found) == (400, {"BAD_REQUEST"}), (str(target), answer)
    else:
        assert answer.get("data") is None, (str(target), mode, answer)
        assert "INVALID_INPUT" in found, (str(target), mode, answer)


def test_a_lone_surrogate_in_any_argument_is_refused_and_a_long_string_is_answered(
    setup: tuple[RunningServer, World, Snapshots],
) -> None:
    """Every argument of every query and mutation, once each with a lone surrogate as a
    variable, a NUL inline, and 100 KiB of ordinary text."""
    server, world, snapshots = setup
    with httpx.Client(timeout=60) as client:
        for target in TARGETS:
            if target.kind == "subscription":
                continue
            check_http(client, server, world, snapshots, target, "Jalan \ud800", "variable")
            check_http(client, server, world, snapshots, target, "Jalan\x00", "inline")
            check_http(client, server, world, snapshots, target, "é" * KIB_100, "variable")


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    target=st.sampled_from([t for t in TARGETS if t.kind != "subscription"]),
    text=TEXT,
    mode=st.sampled_from(["variable", "variable", "inline", "operationName"]),
)
def test_any_text_in_any_argument_or_operation_name_over_http_is_answered_cleanly(
    setup: tuple[RunningServer, World, Snapshots], target: Target, text: str, mode: str
) -> None:
    server, world, snapshots = setup
    with httpx.Client(timeout=60) as client:
        check_http(client, server, world, snapshots, target, text, mode)


@contextlib.contextmanager
def socket(server: RunningServer) -> Iterator[ClientConnection]:
    with ws_connect(server.ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "connection_init", "payload": bearer(token("ADMIN"))}))
        assert json.loads(ws.recv(10))["type"] == "connection_ack"
        yield ws


def answer(ws: ClientConnection, op_id: str) -> list[dict[str, Any]]:
    """Every message of one operation, up to its complete or error."""
    messages = []
    while True:
        message = json.loads(ws.recv(30))
        if message["type"] == "ping":
            ws.send(json.dumps({"type": "pong"}))
            continue
        if message.get("id") != op_id:
            continue
        messages.append(message)
        if message["type"] in ("complete", "error"):
            return messages


SOCKET_TARGETS = [t for t in TARGETS if t.kind != "mutation"]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    target=st.sampled_from(SOCKET_TARGETS),
    # A lone high surrogate last stays lone whatever comes before it.
    text=st.builds(str.__add__, TEXT, st.sampled_from(["\ud800", "\x00"])),
    in_name=st.booleans(),
)
def test_any_invalid_text_over_a_websocket_gets_an_error_and_the_socket_stays_open(
    setup: tuple[RunningServer, World, Snapshots], target: Target, text: str, in_name: bool
) -> None:
    server, world, snapshots = setup
    leaf = world.texts.get(target.path[-1], "x") if in_name else text
    query, variables = request(world, target, leaf, inline=False)
    payload: dict[str, Any] = {"query": query, "variables": variables}
    if in_name:
        payload["operationName"] = text
    before = snapshots.take()
    with socket(server) as ws:
        ws.send(json.dumps({"id": "fuzz", "type": "subscribe", "payload": payload}))
        [message] = answer(ws, "fuzz")
        assert message["type"] == "error", message
        expected = "BAD_REQUEST" if in_name else "INVALID_INPUT"
        assert [e["extensions"]["code"] for e in message["payload"]] == [expected], message
        # The socket is still open, and still answers.
        ws.send(
            json.dumps({"id": "next", "type": "subscribe", "payload": {"query": "{ __typename }"}})
        )
        assert answer(ws, "next")[0]["payload"] == {"data": {"__typename": "Query"}}
    assert changed(before, snapshots.take()) == {}


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ('{"type": "\\ud800"}', 4400),
        ('{"id": "1", "type": "subscribe", "payload": {"query": "{ __typename }", '
         '"operationName": 5}}', 4400),
    ],
)  # fmt: skip
def test_a_socket_message_that_is_not_one_closes_the_socket_with_a_close_frame(
    setup: tuple[RunningServer, World, Snapshots], frame: str, code: int
) -> None:
    server, _, _ = setup
    with socket(server) as ws:
        ws.send(frame)
        with pytest.raises(ConnectionClosed):
            ws.recv(10)
        assert ws.close_code == code


def test_a_connection_init_credential_that_is_not_text_is_refused_with_4403(
    setup: tuple[RunningServer, World, Snapshots],
) -> None:
    server, _, _ = setup
    with ws_connect(server.ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        ws.send('{"type": "connection_init", "payload": {"authorization": "Bearer \\ud800"}}')
        with pytest.raises(ConnectionClosed):
            ws.recv(10)
        assert ws.close_code == 4403


@pytest.mark.parametrize(
    "body",
    [
        b'{"query": "{ __typename }", "operationName": "\xff"}',
        b'{"query": "{ opd(slug: \\"\xed\xa0\x80\\") { id } }"}',
    ],
)
def test_a_body_that_is_not_utf8_is_a_bad_request(
    setup: tuple[RunningServer, World, Snapshots], body: bytes
) -> None:
    server, _, _ = setup
    with httpx.Client(timeout=30) as client:
        response = client.post(
            server.http_url, content=body, headers={"content-type": "application/json"}
        )
    assert response.status_code == 400, response.text
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["BAD_REQUEST"]


def test_a_lone_surrogate_in_a_get_requests_variables_is_invalid_input(
    setup: tuple[RunningServer, World, Snapshots],
) -> None:
    server, _, _ = setup
    params = {
        "query": "query Q($s: String!) { opd(slug: $s) { id } }",
        "variables": '{"s": "\\ud800"}',
    }
    with httpx.Client(timeout=30) as client:
        response = client.get(server.http_url, params=params, headers=bearer(token("OPERATOR")))
    assert response.status_code == 200
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "INVALID_INPUT"}
    assert "$s" in error["message"] and "U+D800" in error["message"]
