"""A live feed's subscription (`dashboard`, `leaderboardChanges`) run as a member of its cohort
(live/cohorts.py, FeedCohort): subscribers whose selection, variables and caller's policy class
are equal share one execution of the selection per value of the feed, and each gets the same
text with only its operation id its own.

What a feed's selection reaches (the dashboard's counts, the leaderboard's figures, OPDs,
regions, categories) holds no personal data and nothing the caller's own identity decides, so
the cohort's execution, with its first member's context, is every member's."""

import json
from collections.abc import AsyncIterator

from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from kilas.live.cohorts import SOCKET_OPERATION, HandedOver, SocketOperation, SocketWriter
from kilas.resolvers.context import Context, Info


async def join_feed(info: Info) -> None:
    """Hands the subscription over to a member of its feed cohort (raises HandedOver); returns,
    having done nothing, when it runs on its own (not on a graphql-transport-ws socket, or
    cohorts off). On a re-run of an operation whose cohort failed, raises why."""
    operation = SOCKET_OPERATION.get()
    if operation is None:
        return
    if operation.ending is not None:
        raise operation.ending
    ctx = info.context
    if ctx.cohorts is None:
        return
    caller = ctx.caller
    variables = json.dumps(operation.variables or {}, sort_keys=True)
    key = (
        "feed",
        operation.query,
        operation.operation_name,
        variables,
        caller.role,
        caller.opd_id,
        caller.region_code,
    )
    schema = info.schema

    def source() -> AsyncIterator[str]:
        return _rendered(schema, operation, ctx)

    # A feed delivers no event of a complaint: the socket's credential is watched as for any
    # operation (auth/watch.py), not checked per value.
    operation.joined = ctx.cohorts.join_feed(key, source, SocketWriter(operation))
    raise HandedOver


async def _rendered(schema: object, operation: SocketOperation, ctx: Context) -> AsyncIterator[str]:
    """The operation's `next` payloads, as strawberry's graphql-transport-ws handler would write
    them, from one execution of it."""
    stream = await schema.stream(  # type: ignore[attr-defined]
        operation.query,
        variable_values=operation.variables,
        context_value=ctx,
        operation_name=operation.operation_name,
    )
    async with aclosing(stream):
        async for result in stream:
            if not isinstance(result, ExecutionResult) or isinstance(result, PreExecutionError):
                # The members' own executions got as far as the feed: this one should too.
                raise RuntimeError("a feed cohort's execution failed before it started")
            payload: dict[str, object] = {"data": result.data}
            if result.errors:
                payload["errors"] = [error.formatted for error in result.errors]
            if result.extensions:
                payload["extensions"] = result.extensions
            yield json.dumps(payload)
