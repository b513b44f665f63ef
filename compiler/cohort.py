"""An event-stream subscription run as a member of its cohort (live/cohorts.py): the payload
compiled to SQL (compiler/live.py) and rendered once per cohort and batch, then written to this
subscriber's socket with only the operation id its own."""

import json
import logging
from collections.abc import Hashable
from dataclasses import dataclass

from graphql.execution.values import VariableValues, get_variable_values

from kilas.auth.policy import can_see_complaint, event_scope
from kilas.compiler.live import EventPlan, compile_events
from kilas.compiler.run import caches_of
from kilas.db.pool import Connection
from kilas.live.cohorts import (
    SOCKET_OPERATION,
    Ended,
    HandedOver,
    Rendered,
    SocketOperation,
    SocketWriter,
    Spec,
)
from kilas.live.hub import Delivery, EventFilter
from kilas.resolvers.context import Context, Info
from kilas.resolvers.subscriptions import ResumeRequired, ensure_credential

log = logging.getLogger("kilas.live")


@dataclass(frozen=True)
class Joinable:
    operation: SocketOperation
    key: Hashable
    plan: EventPlan
    # The operation's variables as execution reads them.
    variables: VariableValues


def joinable(info: Info) -> Joinable | None:
    """How this subscription joins its cohort; None when it runs on its own (not on a
    graphql-transport-ws socket, cohorts off, or a selection the compiler does not cover)."""
    operation = SOCKET_OPERATION.get()
    ctx = info.context
    if operation is None or ctx.cohorts is None:
        return None
    raw = info._raw_info
    coerced = get_variable_values(
        raw.schema, raw.operation.variable_definitions or (), operation.variables or {}
    )
    if isinstance(coerced, list):  # not these variables' operation: strawberry reports it
        return None
    variables = json.dumps(operation.variables or {}, sort_keys=True)
    role = ctx.caller.role
    key = ("subscription", operation.query, operation.operation_name, role, variables)

    def compile_plan() -> EventPlan:
        plan = compile_events(raw.schema, info.schema, raw.operation, raw.fragments, coerced, role)
        plan.check(plan.bind(coerced, ctx.caller, ctx.clock.now(), ctx.settings, []))
        return plan

    try:
        plan = caches_of(info.schema).plans.get_or_compile(key, compile_plan)
    except Exception:  # the per-subscriber path reports whatever is wrong
        log.exception("an event stream's selection did not compile; it runs on its own")
        return None
    if not isinstance(plan, EventPlan):
        return None
    cohort = (operation.query, operation.operation_name, variables, plan.caller_key(ctx.caller))
    return Joinable(operation, cohort, plan, coerced)


def spec(info: Info, joined: Joinable, event_filter: EventFilter) -> Spec:
    """The cohort's work, done with this subscriber's caller for every member (their keys say
    they are alike in everything the rules and the statement read)."""
    ctx = info.context
    caller, plan, variables = ctx.caller, joined.plan, joined.variables

    def may_see(delivery: Delivery) -> bool:
        return can_see_complaint(caller, event_scope(delivery.event, delivery.complaint))

    async def render(conn: Connection, deliveries: list[Delivery]) -> Rendered:
        ids = [delivery.id for delivery in deliveries]
        return await plan.render(
            conn, plan.bind(variables, caller, ctx.clock.now(), ctx.settings, ids)
        )

    return Spec(event_filter, may_see, render)


async def run_as_member(info: Info, event_filter: EventFilter, after: int | None) -> bool:
    """Hands an event-stream subscription over to a member of its cohort (raises HandedOver,
    which ends the operation's execution: the member writes its events from then on); False,
    having done nothing, when it cannot (the resolver then runs it on its own). On a re-run of
    an operation whose member ended, ends as the resolver would: RESUME_REQUIRED after an
    overflow, UNAUTHENTICATED once the credential ends."""
    operation = SOCKET_OPERATION.get()
    if operation is not None and operation.ending is not None:
        raise operation.ending
    joined = joinable(info)
    if joined is None:
        return False
    ctx = info.context
    assert ctx.cohorts is not None
    make = lambda: spec(info, joined, event_filter)  # noqa: E731
    writer = _EventWriter(ctx, joined.operation)
    joined.operation.joined = ctx.cohorts.join(joined.key, make, after, writer)
    raise HandedOver


class _EventWriter(SocketWriter):
    """A socket writer for an event stream: the caller's credential is checked before each
    event (as on the per-subscriber path), and an overflow ends with RESUME_REQUIRED at the
    member's cursor."""

    __slots__ = ("ctx",)

    def __init__(self, ctx: Context, operation: SocketOperation) -> None:
        super().__init__(operation)
        self.ctx = ctx

    async def write(self, text: str) -> None:
        await ensure_credential(self.ctx)
        # Not through super().write: one coroutine less per delivery.
        await self.operation.send_text(self.message(text))

    def end(self, ended: Ended, cursor: int, error: Exception | None) -> None:
        super().end(ended, cursor, ResumeRequired(cursor) if ended is Ended.LAGGING else error)
