"""Running a complaint command from the API: one transaction, then the hint to subscribers."""

from collections.abc import Awaitable, Callable

from kilas.db.pool import Connection
from kilas.domain.workflow import Outcome
from kilas.live.publish import run_and_publish
from kilas.resolvers.context import Context


async def run_complaint_command(
    ctx: Context, command: Callable[[Connection], Awaitable[Outcome]]
) -> Outcome:
    return await run_and_publish(ctx.pool, ctx.bus, ctx.hub, command)
