"""Counting the SQL statements a request runs: a query logger for the server (asyncpg calls it
once per statement on every pooled connection) that leaves out asyncpg's own type introspection
and the live hub's reads of the event log, and complaints enough to make a page worth counting."""

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from kilas.domain import workflow

# Statements that are not the request's own.
HUB_READ = "FROM complaint_events WHERE id > $1 ORDER BY id LIMIT"
ASYNCPG_INTERNALS = ("typeinfo_tree", "set_config('jit'")


class StatementCounter:
    """A query logger: keeps the text of every statement the request ran."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, record: Any) -> None:
        query: str = record.query
        if HUB_READ in query or any(marker in query for marker in ASYNCPG_INTERNALS):
            return
        self.statements.append(query)

    def reset(self) -> None:
        self.statements.clear()


async def statements_for(
    counter: StatementCounter, request: Callable[[], Awaitable[Any]]
) -> tuple[int, Any]:
    counter.reset()
    result = await request()
    return len(counter.statements), result


async def complaints_with_opds(pool: asyncpg.Pool, count: int) -> None:
    """`count` complaints in several regions and categories; every third one assigned."""
    regions = ["33.19", "33.74", "33.02", "33.72", "33.01"]
    categories = ["JALAN", "KESEHATAN", "AIR", "PENDIDIKAN", "SOSIAL", "PAJAK", "BENCANA"]
    async with pool.acquire() as conn:
        for i in range(count):
            async with conn.transaction():
                submitted = await workflow.submit(
                    conn,
                    workflow.Submission(
                        channel="WEB",
                        text=f"Aduan warga nomor {i}.",
                        region_code=regions[i % len(regions)],
                        category_code=categories[i % len(categories)],
                    ),
                    actor="test",
                )
                if i % 3 == 0:
                    await workflow.assign(
                        conn,
                        submitted.complaint.id,
                        workflow.CommandContext(actor="test"),
                        opd_id=None,
                        category_code=None,
                    )
