"""Complaints whose SLA deadlines passed (or near) at chosen moments before now, written
through the domain commands, for the open SLA alerts and the wall that shows them."""

from datetime import UTC, datetime, timedelta

import asyncpg

from kilas.domain import workflow

ACTOR = "test:sla"
RESPONSE = timedelta(hours=24)  # the response window of the policy in force


async def held_since(
    pool: asyncpg.Pool,
    at: datetime,
    region_code: str,
    *,
    confidential: bool = False,
    followed_up: bool = False,
) -> int:
    """A road complaint of `region_code` assigned at `at` (to DPUBMCK), answered at once if
    `followed_up`; its response deadline is `at` + 24 h."""
    submission = workflow.Submission(
        channel="WEB",
        text="Jalan provinsi berlubang besar di dekat pasar.",
        region_code=region_code,
        category_code="JALAN",
        confidential=confidential,
    )
    async with pool.acquire() as conn, conn.transaction():
        outcome = await workflow.submit(conn, submission, actor=ACTOR, at=at)
    complaint_id = outcome.complaint.id
    async with pool.acquire() as conn, conn.transaction():
        await workflow.assign(
            conn, complaint_id, workflow.CommandContext(actor=ACTOR, at=at), opd_id=None,
            category_code=None,
        )  # fmt: skip
    if followed_up:
        async with pool.acquire() as conn, conn.transaction():
            await workflow.follow_up(
                conn, complaint_id,
                workflow.CommandContext(actor=ACTOR, at=at + RESPONSE + timedelta(hours=2)),
                message="Dicek.",
            )  # fmt: skip
    return complaint_id


def breached_ago(delta: timedelta) -> datetime:
    """When to assign a complaint for its response deadline to have passed `delta` ago."""
    return datetime.now(UTC) - RESPONSE - delta
