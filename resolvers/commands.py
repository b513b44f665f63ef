"""Running a complaint command from the API: one transaction, then the hint to subscribers."""

from collections.abc import Awaitable, Callable

from db.pool import Connection
from domain.workflow import Outcome
from live.publish import run_and_publish
from resolvers.context import Context


async def run_complaint_command(
    ctx: Context, command: Callable[[Connection], Awaitable[Outcome]]
) -> Outcome:
    return await run_and_publish(ctx.pool, ctx.bus, ctx.hub, command)
