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
from kilas.live.cohorts import SOCKET_OPERATION, Ended, Member, Rendered, SocketOperation, Spec
from kilas.live.hub import Delivery, EventFilter
from kilas.resolvers.context import Info
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
    """Runs an event-stream subscription as a member of its cohort, to its end; False, having
    done nothing, when it cannot (the resolver then runs it on its own). Ends as the resolver
    would: RESUME_REQUIRED after an overflow, UNAUTHENTICATED once the credential ends."""
    joined = joinable(info)
    if joined is None:
        return False
    member = await run_member(info, joined, event_filter, after)
    if member.ended is Ended.LAGGING:
        raise ResumeRequired(member.cursor)
    return True


async def run_member(
    info: Info, joined: Joinable, event_filter: EventFilter, after: int | None
) -> Member:
    """Writes the cohort's messages for this subscriber until its stream ends; the member, to
    read why (`Member.ended`) and where (`Member.cursor`)."""
    ctx = info.context
    assert ctx.cohorts is not None
    prefix = '{"id":' + json.dumps(joined.operation.id) + ',"type":"next","payload":'
    send = joined.operation.send_text
    make = lambda: spec(info, joined, event_filter)  # noqa: E731
    with ctx.cohorts.member(joined.key, make, after) as member:
        async for _, text in member.stream():
            await ensure_credential(ctx)
            await send(prefix + text + "}")
    return member
