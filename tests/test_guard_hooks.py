"""The guards that must still reach into strawberry (guard/sockets.py, guard/view.py,
guard/cost.py): every name they override or read still exists on strawberry's classes, with
the parameters they expect, and strawberry still calls each override on a real server. An
upgrade that renamed one would otherwise drop a limit without a word."""

import asyncio
import functools
import inspect
import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import websockets
from graphql import GraphQLSchema
from strawberry.asgi import GraphQL
from strawberry.extensions import SchemaExtension
from strawberry.http.base import BaseView
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types import ExecutionContext

from kilas.guard.cost import QueryCost
from kilas.guard.sockets import GuardedLegacyWS, GuardedTransportWS
from kilas.guard.view import GuardedGraphQL
from kilas.schema import build_schema
from tests.wire import WsClient, bearer, start_server, token

# Each override: (our class, strawberry's class it overrides, the method's name).
OVERRIDES = [
    (GuardedTransportWS, BaseGraphQLTransportWSHandler, "send_message"),
    (GuardedTransportWS, BaseGraphQLTransportWSHandler, "shutdown"),
    (GuardedTransportWS, BaseGraphQLTransportWSHandler, "handle_subscribe"),
    (GuardedTransportWS, BaseGraphQLTransportWSHandler, "_handle_pre_execution_error"),
    (GuardedLegacyWS, BaseGraphQLWSHandler, "send_message"),
    (GuardedLegacyWS, BaseGraphQLWSHandler, "cleanup"),
    (GuardedLegacyWS, BaseGraphQLWSHandler, "handle_start"),
    (GuardedGraphQL, GraphQL, "__call__"),
    (GuardedGraphQL, BaseView, "decode_json"),
    (GuardedGraphQL, BaseView, "parse_json"),
    (QueryCost, SchemaExtension, "on_validate"),
]


@pytest.mark.parametrize(("ours", "theirs", "name"), OVERRIDES)
def test_every_overridden_method_still_exists_on_strawberrys_class_with_the_same_parameters(
    ours: type, theirs: type, name: str
) -> None:
    assert name in vars(ours), f"{ours.__name__} no longer overrides {name}"
    assert callable(getattr(theirs, name, None)), f"strawberry's {theirs.__name__} has no {name}"
    expected = list(inspect.signature(getattr(theirs, name)).parameters)
    assert list(inspect.signature(getattr(ours, name)).parameters) == expected


def test_the_handler_state_the_socket_guard_reads_is_still_set_up_by_strawberry() -> None:
    transport = BaseGraphQLTransportWSHandler(
        view=None,  # type: ignore[arg-type]
        websocket=None,  # type: ignore[arg-type]
        context=None,
        root_value=None,
        schema=None,  # type: ignore[arg-type]
        connection_init_wait_timeout=timedelta(seconds=1),
        max_subscriptions_per_connection=3,
    )
    assert transport.operations == {}
    assert transport.connection_acknowledged is False
    assert transport.max_subscriptions_per_connection == 3
    assert (transport.view, transport.websocket, transport.context) == (None, None, None)
    legacy = BaseGraphQLWSHandler(
        view=None,  # type: ignore[arg-type]
        websocket=None,  # type: ignore[arg-type]
        context=None,
        root_value=None,
        schema=None,  # type: ignore[arg-type]
        keep_alive=False,
        keep_alive_interval=None,
        max_subscriptions_per_connection=3,
    )
    assert legacy.tasks == {}
    assert legacy.connection_acknowledged is False
    assert legacy.max_subscriptions_per_connection == 3
    # The view picks the handlers from these attributes.
    assert GraphQL.graphql_transport_ws_handler_class is not None
    assert GraphQL.graphql_ws_handler_class is not None
    assert GuardedGraphQL.graphql_transport_ws_handler_class is GuardedTransportWS
    assert GuardedGraphQL.graphql_ws_handler_class is GuardedLegacyWS


def test_the_execution_context_the_cost_limit_reads_is_still_there() -> None:
    schema = build_schema()
    assert isinstance(schema._schema, GraphQLSchema)
    fields = set(inspect.signature(ExecutionContext).parameters) | set(
        getattr(ExecutionContext, "__dataclass_fields__", {})
    )
    for name in ("graphql_document", "variables", "operation_name", "pre_execution_errors"):
        assert name in fields or hasattr(ExecutionContext, name), name


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[str]]:
    """The overrides strawberry called: each is wrapped to note its call and then run as is."""
    called: set[str] = set()
    for ours, _, name in OVERRIDES:
        original = vars(ours)[name]
        label = f"{ours.__name__}.{name}"
        if inspect.isgeneratorfunction(original):
            wrapper: Callable[..., Any] = _noting_generator(original, label, called)
        elif inspect.iscoroutinefunction(original):
            wrapper = _noting_coroutine(original, label, called)
        else:
            wrapper = _noting(original, label, called)
        monkeypatch.setattr(ours, name, wrapper)
    yield called


def _noting(original: Callable[..., Any], label: str, called: set[str]) -> Callable[..., Any]:
    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        called.add(label)
        return original(*args, **kwargs)

    return wrapper


def _noting_coroutine(
    original: Callable[..., Any], label: str, called: set[str]
) -> Callable[..., Any]:
    @functools.wraps(original)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        called.add(label)
        return await original(*args, **kwargs)

    return wrapper


def _noting_generator(
    original: Callable[..., Any], label: str, called: set[str]
) -> Callable[..., Any]:
    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        called.add(label)
        return (yield from original(*args, **kwargs))

    return wrapper


async def test_strawberry_still_calls_every_override_on_a_real_server(
    database_url: str, calls: set[str]
) -> None:
    async with (
        start_server(database_url, legacy_graphql_ws=True, max_tokens=100) as server,
        httpx.AsyncClient(timeout=10) as http,
    ):
        assert (await http.post(server.http_url, content=b"[1]")).status_code == 400
        assert (await http.post(server.http_url, json={"query": "{ __typename }"})).json() == {
            "data": {"__typename": "Query"}
        }
        async with WsClient.connect(server.ws_url) as client:
            await client.subscribe("big", "query { " + " ".join(["__typename"] * 120) + " }")
            assert (await client.message("big"))["type"] == "error"
            await client.subscribe("fine", "query { __typename }")
            assert await client.next_data("fine") == {"__typename": "Query"}
        async with websockets.connect(server.ws_url, subprotocols=["graphql-ws"]) as legacy:  # type: ignore[list-item]
            init = {"type": "connection_init", "payload": bearer(token("OPERATOR"))}
            await legacy.send(json.dumps(init))
            assert json.loads(await legacy.recv())["type"] == "connection_ack"
            # The legacy protocol runs subscriptions only.
            query = "subscription { complaintEvents { cursor } }"
            await legacy.send(json.dumps({"id": "1", "type": "start", "payload": {"query": query}}))
            await asyncio.sleep(0.3)
            await legacy.send(json.dumps({"id": "1", "type": "stop"}))
        await asyncio.sleep(0.3)  # the handlers' clean-up, after the sockets close
    assert calls == {f"{ours.__name__}.{name}" for ours, _, name in OVERRIDES}
