"""WebSocket limits, on graphql-transport-ws and on the legacy graphql-ws when it is on:
connections per caller on this instance, operations per connection, and the caller's request
rate for each operation a socket starts (a query or a mutation may run over a socket too); and
the socket's credential, checked again for each operation and watched while the socket is open
(auth.watch), so that a revoked key or an expired token ends the socket."""

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from graphql import GraphQLError
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    Message,
    SubscribeMessage,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import OperationMessage, StartMessage
from strawberry.types.execution import PreExecutionError
from uvicorn.protocols.utils import ClientDisconnected

from kilas.auth.authenticator import AuthenticationError
from kilas.auth.caller import Caller
from kilas.auth.watch import CREDENTIAL_REFUSED, CredentialWatch, Watched
from kilas.guard._caller import caller_key
from kilas.guard.ratelimit import RateLimiter, refusal
from kilas.guard.text import envelope_refusal
from kilas.guard.validation import TOO_COMPLEX
from kilas.live.cohorts import SOCKET_OPERATION, HandedOver, Member, SocketOperation

TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"
# Where `RawSocketSend` keeps the server's own `send` of a WebSocket's ASGI call.
RAW_SEND = "kilas.raw_send"
# RFC 6455 "Try Again Later": the refusal lasts only until another of the caller's sockets ends.
TRY_AGAIN_LATER = 1013


class SocketGuard:
    """Counts each caller's open connections on this instance, and refuses the operations a
    socket may not start."""

    def __init__(self, max_connections_per_caller: int, limiter: RateLimiter | None) -> None:
        self.max_connections = max_connections_per_caller
        self.limiter = limiter
        self.connections: Counter[str] = Counter()
        # Set by the lifespan once the database is open.
        self.credentials: CredentialWatch | None = None

    def connect(self, key: str) -> bool:
        if self.connections[key] >= self.max_connections:
            return False
        self.connections[key] += 1
        return True

    def disconnect(self, key: str) -> None:
        self.connections[key] -= 1
        if self.connections[key] <= 0:
            del self.connections[key]

    async def refusal(self, key: str, running: int, limit: int | None) -> GraphQLError | None:
        """Why a socket with `running` operations may not start one more, if it may not."""
        if limit is not None and running >= limit:
            return GraphQLError(
                f"too many operations on this connection: at most {limit} at a time "
                "(KILAS_MAX_SUBSCRIPTIONS_PER_CONNECTION); complete one first",
                extensions={"code": TOO_MANY_SUBSCRIPTIONS, "max": limit},
            )
        if self.limiter is not None:
            decision = await self.limiter.hit(key)
            if not decision.allowed:
                body = refusal(self.limiter, decision)["errors"][0]
                return GraphQLError(body["message"], extensions=body["extensions"])
        return None


class _Counted:
    """A socket's place in its caller's count and in the credential watch: taken when the
    connection is acknowledged (the caller is known once connection_init has been
    authenticated, and is counted before it is told the connection is ready), given back
    however the socket ends."""

    view: Any
    websocket: Any
    context: Any
    connection_acknowledged: bool
    max_subscriptions_per_connection: int | None
    send_message: Callable[[Any], Awaitable[None]]
    counted_as: str | None = None
    watched: Watched | None = None

    @property
    def guard(self) -> SocketGuard | None:
        guard: SocketGuard | None = getattr(self.view, "socket_guard", None)
        return guard

    def caller_key(self) -> str:
        socket = getattr(self.websocket, "ws", None)
        scope = socket.scope if socket is not None else {}
        return caller_key(scope, getattr(self.context, "caller", None))

    def caller(self) -> Caller | None:
        caller = getattr(self.context, "caller", None)
        return caller if isinstance(caller, Caller) else None

    async def count_on_ack(self, message: Any) -> None:
        guard = self.guard
        if message.get("type") != "connection_ack" or not guard or self.counted_as is not None:
            return
        key = self.caller_key()
        if not guard.connect(key):
            reason = f"too many connections (at most {guard.max_connections} a caller)"
            await self.websocket.close(code=TRY_AGAIN_LATER, reason=reason)
            raise WebSocketDisconnected  # ends the handler, through its clean-up
        self.counted_as = key
        caller = self.caller()
        if guard.credentials is not None and caller is not None:
            self.watched = guard.credentials.watch(caller, self._close_for_credential)

    async def _close_for_credential(self, reason: str) -> None:
        await self.websocket.close(code=CREDENTIAL_REFUSED, reason=reason)

    async def credential_refusal(self) -> GraphQLError | None:
        """Why the socket's credential may start nothing more, if it may not: checked against
        the credential as it is now (within auth.authenticator.KEY_CACHE_SECONDS), not as it was
        at connection_init."""
        guard, caller = self.guard, self.caller()
        if guard is None or guard.credentials is None or caller is None or caller.is_public:
            return None  # the public has no credential to lose
        if await guard.credentials.authenticator.still_valid(caller):
            return None
        return GraphQLError(
            "the credential of this connection has expired or been revoked; reconnect with a "
            "valid one",
            extensions={"code": AuthenticationError.code},
        )

    async def refused(self, operation_id: str, payload: Any, running: int) -> bool:
        """Whether the socket, with `running` operations, refuses to start this one; if it does,
        the client has been told why, and a socket whose credential has ended is closed."""
        guard = self.guard
        if guard is None or not self.connection_acknowledged:
            return False
        error = await self.credential_refusal()
        ends = error is not None
        if error is None:
            error = await guard.refusal(
                self.caller_key(), running, self.max_subscriptions_per_connection
            ) or envelope_refusal(payload)
        if error is None:
            return False
        await self.send_message(self.error_message(operation_id, error))
        if ends:
            await self._close_for_credential("credential expired or revoked")
        return True

    def error_message(self, operation_id: str, error: GraphQLError) -> Any:
        """The protocol's `error` message for one operation."""
        raise NotImplementedError

    def release(self) -> None:
        if self.guard and self.counted_as is not None:
            self.guard.disconnect(self.counted_as)
            self.counted_as = None
        if self.watched is not None:
            self.watched.end()
            self.watched = None


class GuardedTransportWS(_Counted, BaseGraphQLTransportWSHandler[Any, Any]):
    """strawberry's graphql-transport-ws handler, with the limits. The view provides
    `socket_guard`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The cohort members writing this socket's operations, by operation id.
        self.members: dict[str, Member] = {}

    async def send_message(self, message: Message) -> None:
        await self.count_on_ack(message)
        await super().send_message(message)

    async def handle_connection_init(self, message: Any) -> None:
        await super().handle_connection_init(message)
        if self.connection_init_received:
            # strawberry cancelled the timeout first thing: an open socket does not keep it.
            self.connection_init_timeout_task = None

    async def shutdown(self) -> None:
        # Whatever ended the socket: the client, the server, a timeout or an error.
        self.release()
        await super().shutdown()

    def error_message(self, operation_id: str, error: GraphQLError) -> Any:
        return {"id": operation_id, "type": "error", "payload": [error.formatted]}

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        operation_id = message["id"]
        if operation_id not in self.operations and await self.refused(
            operation_id, message.get("payload"), len(self.operations)
        ):
            return
        await super().handle_subscribe(message)

    async def run_operation(
        self, operation: Operation[Any, Any], ending: BaseException | None = None
    ) -> None:
        # In the operation's own task. An event stream may join a cohort (live/cohorts.py): its
        # execution then ends with HandedOver, and the member writes its messages through
        # `send_text` until it ends (`_member_ended`) or the operation does (cleanup_operation).
        socket = getattr(self.websocket, "ws", None)
        if socket is None:
            await super().run_operation(operation)
            return
        live = SocketOperation(
            operation.id,
            operation.query,
            operation.variables,
            operation.operation_name,
            _text_sender(socket),
            lambda error: self._member_ended(operation, error),
            ending,
        )
        SOCKET_OPERATION.set(live)
        try:
            await super().run_operation(operation)
        except HandedOver:
            member = live.joined
            if member is None or member.ended is not None:
                return
            if self.operations.get(operation.id) is operation:
                self.members[operation.id] = member
                operation.task = None  # done; the member holds what the operation needs
            else:  # completed meanwhile
                member.leave()

    def _member_ended(self, operation: Operation[Any, Any], error: BaseException | None) -> None:
        """A member's stream ended: the operation completes (the hub stopped), or is run again
        to end with `error` exactly as it would have on its own; nothing when the socket has
        closed (its clean-up is under way) or the operation was completed meanwhile."""
        self.members.pop(operation.id, None)
        if self.operations.get(operation.id) is not operation:
            return
        if isinstance(error, WebSocketDisconnected):
            return
        task = asyncio.create_task(self._end_operation(operation, error))
        operation.task = task
        task.add_done_callback(self._task_done)

    async def _end_operation(
        self, operation: Operation[Any, Any], error: BaseException | None
    ) -> None:
        if error is None:
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        else:
            await self.run_operation(operation, ending=error)

    async def cleanup_operation(self, operation_id: str) -> None:
        member = self.members.pop(operation_id, None)
        if member is not None:  # its operation has no task of its own to cancel
            member.leave()
            self.operations.pop(operation_id, None)
            return
        await super().cleanup_operation(operation_id)

    async def _handle_pre_execution_error(
        self, operation: Operation[Any, Any], result: PreExecutionError
    ) -> None:
        # strawberry closes the whole socket on a syntax error; a query over the token limit
        # is refused like any other invalid operation, and the socket's others go on.
        if result.errors and (result.errors[0].extensions or {}).get("code") == TOO_COMPLEX:
            await operation.send_initial_errors(result.errors)
            return
        await super()._handle_pre_execution_error(operation, result)


class RawSocketSend:
    """Keeps the server's own `send` of each WebSocket in its scope, for the one message a
    socket sends most: a cohort's event (compiler/cohort.py). Each layer between the
    application and the server (starlette's WebSocket, the exception and body-size
    middlewares) costs a few microseconds a message, a quarter of a delivery's CPU; a cohort's
    member writes past them. The first of the app's middlewares, so the one that gets the
    server's `send` itself (starlette's error middleware passes sockets through untouched),
    unless a layer before it (ops/requests.py) kept the server's own already."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope.setdefault(RAW_SEND, send)
        await self.app(scope, receive, send)


def _text_sender(socket: Any) -> Callable[[str], Awaitable[None]]:
    """Writes a text frame to `socket`: through the server's own `send` where `RawSocketSend`
    kept it, as long as the socket is open; a socket that has closed (the client left, the
    body limit closed it) raises WebSocketDisconnected, which ends the operation."""
    raw = socket.scope.get(RAW_SEND)

    async def send_text(text: str) -> None:
        if raw is None or socket.application_state is not WebSocketState.CONNECTED:
            try:
                await socket.send_text(text)
            except (WebSocketDisconnect, RuntimeError) as error:
                raise WebSocketDisconnected from error
            return
        try:
            await raw({"type": "websocket.send", "text": text})
        except (OSError, RuntimeError, ClientDisconnected) as error:
            raise WebSocketDisconnected from error

    return send_text


class GuardedLegacyWS(_Counted, BaseGraphQLWSHandler[Any, Any]):
    """The same limits on the legacy graphql-ws protocol, when it is turned on."""

    async def send_message(self, message: OperationMessage) -> None:
        await self.count_on_ack(message)
        await super().send_message(message)

    async def cleanup(self) -> None:
        self.release()
        await super().cleanup()

    def error_message(self, operation_id: str, error: GraphQLError) -> Any:
        return {"type": "error", "id": operation_id, "payload": error.formatted}

    async def handle_start(self, message: StartMessage) -> None:
        operation_id = message["id"]
        if operation_id not in self.tasks and await self.refused(
            operation_id, message.get("payload"), len(self.tasks)
        ):
            return
        await super().handle_start(message)
