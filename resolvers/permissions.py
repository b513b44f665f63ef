"""The role table of `auth.policy`, applied to a request: role checks that raise FORBIDDEN, and
personal-data reads that are written to the access log before the data is returned."""

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from strawberry.dataloader import DataLoader

from kilas.auth.caller import Caller, Role
from kilas.auth.policy import can_read_personal_data, role_refusal
from kilas.db import access_log as access_log_db
from kilas.domain.errors import DomainError, forbidden
from kilas.resolvers.context import Context, Info


def require(info: Info, roles: frozenset[Role], what: str) -> Caller:
    caller = info.context.caller
    refusal = role_refusal(caller, roles, what)
    if refusal is not None:
        raise forbidden(refusal)
    return caller


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


def personal_data_forbidden(field: str) -> DomainError:
    """The refusal of a personal-data field, the same from every read path."""
    return forbidden(
        f"{field} is personal data: only operators and the OPD holding the complaint (when "
        "the reporter is not anonymous) may read it",
        field,
    )


def tracking_number_forbidden() -> DomainError:
    return forbidden(
        "the tracking number is the reporter's: look the complaint up by it", "trackingNumber"
    )


async def read_personal_data(info: Info, row: Any, field: str) -> None:
    """Allow the read of `field` of the complaint in `row` (a mapping of its columns), and log
    it, or raise FORBIDDEN. The log row is written before the data leaves Kilas."""
    ctx = info.context
    if not can_read_personal_data(ctx.caller, row):
        raise personal_data_forbidden(field)
    if ctx._personal_data_reads is None:
        ctx._personal_data_reads = _reads_loader(ctx)
    await ctx._personal_data_reads.load((row["id"], field))
