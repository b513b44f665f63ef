"""Running a complaint command: one transaction, then the post-commit hint to subscribers."""

import logging
from collections.abc import Awaitable, Callable

from db.pool import Connection
from domain.workflow import Outcome
from resolvers.context import Context

log = logging.getLogger("kilas.api")


async def run_complaint_command(
    ctx: Context, command: Callable[[Connection], Awaitable[Outcome]]
) -> Outcome:
    async with ctx.pool.acquire() as conn, conn.transaction():
        outcome = await command(conn)
        if outcome.event is not None:
            await ctx.bus.notify_in_transaction(conn, outcome.event["id"])
    if outcome.event is not None:
        await publish_committed(ctx, outcome.event["id"])
    return outcome


async def publish_committed(ctx: Context, event_id: int) -> None:
    ctx.hub.poke()
    try:
        await ctx.bus.notify_committed(event_id)
    except Exception:
        # The event is committed and in the log; other instances pick it up on their next poll.
        log.warning("could not publish event %s on the bus", event_id, exc_info=True)
