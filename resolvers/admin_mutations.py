"""Administration of OPDs (with their social accounts), programmes and work items."""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry

from kilas.db import reference as reference_db
from kilas.db.heads import HeadRow
from kilas.db.pool import Connection
from kilas.db.programmes import ProgrammeRow, WorkItemRow
from kilas.db.reference import OpdRow, SlaPolicyRow, SocialAccountRow
from kilas.domain import admin, heads
from kilas.domain.errors import DomainError, invalid
from kilas.resolvers.context import Info
from kilas.schema import inputs
from kilas.schema.decimals import percent
from kilas.schema.errors import UserError
from kilas.schema.ids import decode_id
from kilas.schema.payloads import (
    OpdHeadPayload,
    OpdPayload,
    ProgrammePayload,
    SlaPolicyPayload,
    SocialAccountPayload,
    WorkItemPayload,
)
from kilas.schema.programmes import Programme, WorkItem
from kilas.schema.reference import Opd, OpdHead, SlaPolicy, SocialAccount

T = TypeVar("T")
R = TypeVar("R")


async def _write(info: Info, command: Callable[[Connection], Awaitable[R]]) -> R | UserError:
    """Run an administration command in one transaction (who may: auth.rules, enforced by
    resolvers.enforce)."""
    try:
        async with info.context.pool.acquire() as conn, conn.transaction():
            return await command(conn)
    except DomainError as error:
        return UserError.from_domain(error)


def _payload(result: R | UserError, build: Callable[[R], T], cls: type[T]) -> T:
    if isinstance(result, UserError):
        return cls(errors=[result])  # type: ignore[call-arg]
    return build(result)


def _value(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


@strawberry.mutation(description="Register an OPD.")
async def create_opd(info: Info, input: inputs.CreateOpdInput) -> OpdPayload:
    fields = {
        "slug": input.slug,
        "short_name": input.short_name,
        "name": input.name,
        "kind": input.kind.value,
        "head_name": input.head_name,
        "head_title": input.head_title,
    }
    now = info.context.clock.now()
    result = await _write(info, lambda conn: admin.create_opd(conn, fields, now))
    return _payload(result, lambda row: OpdPayload(opd=Opd.from_row(row)), OpdPayload)


@strawberry.mutation(description="Change an OPD's names, kind or head.")
async def update_opd(info: Info, input: inputs.UpdateOpdInput) -> OpdPayload:
    fields = {
        name: _value(getattr(input, name))
        for name in ("short_name", "name", "kind", "head_name", "head_title")
        if getattr(input, name) is not strawberry.UNSET
    }

    async def command(conn: Connection) -> OpdRow:
        opd_id = decode_id(input.opd_id, "Opd", "opdId")
        return await admin.update_opd(conn, opd_id, fields, info.context.clock.now())

    result = await _write(info, command)
    return _payload(result, lambda row: OpdPayload(opd=Opd.from_row(row)), OpdPayload)


@strawberry.mutation(
    description="Record a new head of an OPD from termStart, with their own accounts; the head "
    "in office until then leaves office at that moment. A start in the future, or not after "
    "the latest term's start, is refused (INVALID_INPUT on termStart)."
)
async def appoint_opd_head(info: Info, input: inputs.AppointOpdHeadInput) -> OpdHeadPayload:
    async def command(conn: Connection) -> tuple[HeadRow, OpdRow]:
        opd_id = decode_id(input.opd_id, "Opd", "opdId")
        head = await heads.appoint(
            conn,
            opd_id,
            name=input.name,
            title=input.title,
            term_start=input.term_start,
            now=info.context.clock.now(),
            accounts=[
                heads.HeadAccount(a.platform.value, a.handle, a.verified, a.external_id)
                for a in input.accounts
            ],
        )
        [opd] = await reference_db.opds_by_ids(conn, [opd_id])
        return head, opd

    def build(rows: tuple[HeadRow, OpdRow]) -> OpdHeadPayload:
        return OpdHeadPayload(head=OpdHead.from_row(rows[0]), opd=Opd.from_row(rows[1]))

    return _payload(await _write(info, command), build, OpdHeadPayload)


def _account_payload(row: SocialAccountRow) -> SocialAccountPayload:
    return SocialAccountPayload(social_account=SocialAccount.from_row(row))


@strawberry.mutation(description="Add an official social-media account to an OPD.")
async def add_opd_social_account(
    info: Info, input: inputs.AddSocialAccountInput
) -> SocialAccountPayload:
    async def command(conn: Connection) -> SocialAccountRow:
        return await admin.add_social_account(
            conn,
            decode_id(input.opd_id, "Opd", "opdId"),
            input.platform.value,
            input.handle,
            input.verified,
            input.external_id,
        )

    return _payload(await _write(info, command), _account_payload, SocialAccountPayload)


@strawberry.mutation(description="Set or clear an account's verified mark (blue tick).")
async def set_opd_social_account_verified(
    info: Info, input: inputs.SetSocialAccountVerifiedInput
) -> SocialAccountPayload:
    async def command(conn: Connection) -> SocialAccountRow:
        account_id = decode_id(input.social_account_id, "SocialAccount", "socialAccountId")
        return await admin.set_social_account_verified(conn, account_id, input.verified)

    return _payload(await _write(info, command), _account_payload, SocialAccountPayload)


@strawberry.mutation(description="Remove a social-media account from its OPD.")
async def remove_opd_social_account(
    info: Info, social_account_id: strawberry.ID
) -> SocialAccountPayload:
    async def command(conn: Connection) -> SocialAccountRow:
        account_id = decode_id(social_account_id, "SocialAccount", "socialAccountId")
        return await admin.remove_social_account(conn, account_id)

    return _payload(await _write(info, command), _account_payload, SocialAccountPayload)


def _programme_payload(row: ProgrammeRow) -> ProgrammePayload:
    return ProgrammePayload(programme=Programme.from_row(row))


@strawberry.mutation(description="Create a programme (amounts in IDR).")
async def create_programme(info: Info, input: inputs.CreateProgrammeInput) -> ProgrammePayload:
    async def command(conn: Connection) -> ProgrammeRow:
        predecessor = input.predecessor_id
        return await admin.create_programme(
            conn,
            {
                "code": input.code,
                "name": input.name,
                "description": input.description,
                "owner_opd_id": decode_id(input.owner_opd_id, "Opd", "ownerOpdId"),
                "fiscal_year": input.fiscal_year,
                "budget_idr": input.budget_idr,
                "realisation_idr": input.realisation_idr,
                "target": input.target,
                "achievement": input.achievement,
                "unit": input.unit,
                "status": input.status.value,
                "predecessor_id": decode_id(predecessor, "Programme", "predecessorId")
                if predecessor
                else None,
            },
        )

    return _payload(await _write(info, command), _programme_payload, ProgrammePayload)


@strawberry.mutation(description="Update a programme's budget, realisation, achievement or status.")
async def update_programme(info: Info, input: inputs.UpdateProgrammeInput) -> ProgrammePayload:
    async def command(conn: Connection) -> ProgrammeRow:
        return await admin.update_programme(
            conn,
            decode_id(input.programme_id, "Programme", "programmeId"),
            {
                "name": input.name,
                "description": input.description,
                "budget_idr": input.budget_idr,
                "realisation_idr": input.realisation_idr,
                "target": input.target,
                "achievement": input.achievement,
                "status": input.status.value if input.status else None,
            },
        )

    return _payload(await _write(info, command), _programme_payload, ProgrammePayload)


def _work_item_payload(row: WorkItemRow) -> WorkItemPayload:
    return WorkItemPayload(work_item=WorkItem.from_row(row))


@strawberry.mutation(description="Add a located work item to a programme.")
async def create_work_item(info: Info, input: inputs.CreateWorkItemInput) -> WorkItemPayload:
    async def command(conn: Connection) -> WorkItemRow:
        return await admin.create_work_item(
            conn,
            {
                "programme_id": decode_id(input.programme_id, "Programme", "programmeId"),
                "name": input.name,
                "region_code": input.region_code,
                "road_segment": input.road_segment,
                "lat": input.location.lat if input.location else None,
                "lon": input.location.lon if input.location else None,
                "length_km": input.length_km,
                "progress_pct": percent(input.progress_pct),
                "status": input.status.value,
                "planned_start": input.planned_start,
                "planned_end": input.planned_end,
            },
        )

    return _payload(await _write(info, command), _work_item_payload, WorkItemPayload)


@strawberry.mutation(description="Record a work item's progress (0-100 %).")
async def update_work_item_progress(
    info: Info, input: inputs.UpdateWorkItemProgressInput
) -> WorkItemPayload:
    async def command(conn: Connection) -> WorkItemRow:
        return await admin.update_work_item_progress(
            conn,
            decode_id(input.work_item_id, "WorkItem", "workItemId"),
            percent(input.progress_pct),
            input.status.value if input.status else None,
        )

    return _payload(await _write(info, command), _work_item_payload, WorkItemPayload)


@strawberry.mutation(description="Add an SLA policy version (e.g. the change from 2x24 to 1x24 h).")
async def add_sla_policy_version(
    info: Info, input: inputs.AddSlaPolicyVersionInput
) -> SlaPolicyPayload:
    hours: dict[str, int] = {}
    for item in input.category_resolution_hours:
        hours[item.category_code] = item.hours

    async def command(conn: Connection) -> SlaPolicyRow:
        if len(hours) != len(input.category_resolution_hours):
            raise invalid("categoryResolutionHours", "each category may appear once")
        return await admin.add_sla_policy(
            conn,
            name=input.name,
            effective_from=input.effective_from,
            response_hours=input.response_hours,
            resolution_hours=input.resolution_hours,
            category_hours=hours,
            now=info.context.clock.now(),
        )

    def build(row: SlaPolicyRow) -> SlaPolicyPayload:
        return SlaPolicyPayload(sla_policy=SlaPolicy.from_row(row))

    return _payload(await _write(info, command), build, SlaPolicyPayload)


MUTATIONS = [
    create_opd,
    update_opd,
    appoint_opd_head,
    add_opd_social_account,
    set_opd_social_account_verified,
    remove_opd_social_account,
    create_programme,
    update_programme,
    create_work_item,
    update_work_item_progress,
    add_sla_policy_version,
]
