"""Personal-data reads written to the access log before the data is returned (resolvers.enforce
decides whether a read is allowed, by auth.rules)."""

from collections import defaultdict
from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from kilas.db import access_log as access_log_db
from kilas.db.rows import ComplaintRow
from kilas.resolvers.context import Context


def _reads_loader(ctx: Context) -> DataLoader[tuple[int, str], None]:
    caller = ctx.caller

    async def record(keys: Sequence[tuple[int, str]]) -> list[None]:
        by_field: dict[str, list[int]] = defaultdict(list)
        for complaint_id, field in keys:
            by_field[field].append(complaint_id)
        now = ctx.clock.now()
        async with ctx.pool.acquire() as conn, conn.transaction():
            for field, complaint_ids in by_field.items():
                await access_log_db.record_reads(
                    conn,
                    complaint_ids,
                    subject=caller.subject,
                    role=caller.role.value,
                    opd_id=caller.opd_id,
                    field=field,
                    address=caller.address,
                    at=now,
                )
        return [None] * len(keys)

    # Not cached: every read is logged, even a second one in the same request.
    return DataLoader(load_fn=record, cache=False)


async def log_personal_data_read(ctx: Context, row: ComplaintRow, field: str) -> None:
    """Write the caller's read of `field` of the complaint in `row` to the access log (batched
    with the request's other reads); returns once the log row is committed."""
    if ctx._personal_data_reads is None:
        ctx._personal_data_reads = _reads_loader(ctx)
    await ctx._personal_data_reads.load((row.id, field))
