"""Mutations of the complaint lifecycle. The server enforces the status machine; a refused
mutation returns `errors` with a stable code and changes nothing."""

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry

from kilas.auth.policy import is_submitter
from kilas.auth.rules import action_rule
from kilas.db import complaints as complaints_db
from kilas.db.pool import Connection
from kilas.domain import duplicates, workflow
from kilas.domain.errors import DomainError, forbidden
from kilas.domain.workflow import Outcome
from kilas.resolvers.commands import run_complaint_command
from kilas.resolvers.context import Info
from kilas.schema import inputs
from kilas.schema.complaints import ComplaintEvent, visible_complaint
from kilas.schema.errors import UserError
from kilas.schema.ids import decode_id
from kilas.schema.payloads import ComplaintPayload, SubmitComplaintPayload

# A lifecycle step, given the complaint's id and the command's context (the row locked once).
Step = Callable[[Connection, int, workflow.CommandContext], Awaitable[workflow.Outcome]]


def _complaint_id(value: strawberry.ID) -> int:
    return decode_id(value, "Complaint", "complaintId")


async def _run(
    info: Info, input: Any, step: Step, complaint_id: int | None = None
) -> ComplaintPayload:
    """The one pipeline of the lifecycle mutations. In the command's transaction: lock the
    complaint once, judge the caller against it for the action named by the mutation's field
    (the field's auth.rules.ComplaintAction; FORBIDDEN if refused, and it cannot change hands in
    between), run the step with one command context (actor, time, SLA rules, the caller's
    expected version, the locked row); then map a domain error to the payload's errors, or
    read the result back as the caller may see it; the hint to subscribers follows the commit."""
    ctx = info.context
    action = info.field_name
    rule = action_rule(action)
    tracking_number: str | None = getattr(input, "tracking_number", None)

    async def guarded(conn: Connection) -> workflow.Outcome:
        target = complaint_id if complaint_id is not None else _complaint_id(input.complaint_id)
        row = await complaints_db.lock_complaint(conn, target)
        if row is not None:
            refusal = rule.refusal(ctx.caller, action, row, tracking_number)
            if refusal is not None:
                raise forbidden(refusal)
        command = workflow.CommandContext(
            actor=ctx.actor,
            at=ctx.clock.now(),
            rules=ctx.settings.sla_rules,
            expected_version=input.expected_version,
            locked_row=row,
        )
        return await step(conn, target, command)

    try:
        outcome = await run_complaint_command(ctx, guarded)
    except DomainError as error:
        return ComplaintPayload(errors=[UserError.from_domain(error)])
    # The reporter's actions verified the number (operators may act without it); everyone
    # else reads the result by the rules of node(id:).
    presented = tracking_number is not None
    event = outcome.event
    return ComplaintPayload(
        complaint=visible_complaint(info, outcome.complaint, presented=presented),
        event=ComplaintEvent.from_row(event, complaint_presented=presented) if event else None,
    )


@strawberry.mutation(
    description="Take in a complaint from any channel. Idempotent per channel and externalRef: "
    "a repeat changes nothing and answers `created: false`. Only the credential that submitted "
    "it (the same API key or staff subject) gets the stored complaint back as its submitter, "
    "tracking number included; any other caller, and every public one, gets it as a read by "
    "`node(id:)`: no tracking number unless its role may read it, null if it may not see it."
)
async def submit_complaint(
    info: Info, input: inputs.SubmitComplaintInput
) -> SubmitComplaintPayload:
    reporter = input.reporter or inputs.ReporterInput()
    submission = workflow.Submission(
        channel=input.channel,
        text=input.text,
        region_code=input.region_code,
        external_ref=input.external_ref,
        reporter_name=reporter.name,
        reporter_contact=reporter.contact,
        reporter_handle=reporter.handle,
        anonymous=input.anonymous,
        confidential=input.confidential,
        category_code=input.category_code,
        lat=input.location.lat if input.location else None,
        lon=input.location.lon if input.location else None,
        media_urls=tuple(input.media_urls),
    )
    actor, now = info.context.actor, info.context.clock.now()
    settings = info.context.settings
    submitter: list[str | None] = []

    async def command(conn: Connection) -> workflow.Outcome:
        outcome = await workflow.submit(
            conn, submission, actor=actor, at=now, duplicates=settings.duplicate_search
        )
        if not outcome.created:
            submitter.append(await complaints_db.submitter_of(conn, outcome.complaint.id))
        return outcome

    # Every role may submit (the public role included): no check.
    try:
        outcome = await run_complaint_command(info.context, command)
    except DomainError as error:
        return SubmitComplaintPayload(errors=[UserError.from_domain(error)])
    # A repeat of a public post's id is no proof of having written it (anyone can read the
    # post): only the submitting credential is given the tracking number again.
    presented = outcome.created or is_submitter(
        info.context.caller, submitter[-1] if submitter else None
    )
    event = outcome.event
    return SubmitComplaintPayload(
        complaint=visible_complaint(info, outcome.complaint, presented=presented),
        event=ComplaintEvent.from_row(event, complaint_presented=True) if event else None,
        created=outcome.created,
    )


@strawberry.mutation(
    description="Disposition: hand a RECEIVED complaint to the responsible OPD (by default the "
    "category's OPD). Starts the SLA clocks under the policy in force now."
)
async def assign_complaint(info: Info, input: inputs.AssignComplaintInput) -> ComplaintPayload:
    async def step(conn: Connection, complaint_id: int, c: workflow.CommandContext) -> Outcome:
        return await workflow.assign(
            conn,
            complaint_id,
            c,
            opd_id=decode_id(input.opd_id, "Opd", "opdId") if input.opd_id else None,
            category_code=input.category_code,
            note=input.note,
        )

    return await _run(info, input, step)


@strawberry.mutation(
    description="Re-disposition: hand an ASSIGNED/IN_PROGRESS complaint to another OPD."
)
async def reassign_complaint(info: Info, input: inputs.ReassignComplaintInput) -> ComplaintPayload:
    async def step(conn: Connection, complaint_id: int, c: workflow.CommandContext) -> Outcome:
        return await workflow.assign(
            conn,
            complaint_id,
            c,
            opd_id=decode_id(input.opd_id, "Opd", "opdId"),
            category_code=None,
            note=input.reason,
            reassign=True,
        )

    return await _run(info, input, step)


@strawberry.mutation(
    description="The OPD's follow-up (tindak lanjut). The first one answers the response "
    "deadline and moves the complaint to IN_PROGRESS."
)
async def record_follow_up(info: Info, input: inputs.RecordFollowUpInput) -> ComplaintPayload:
    async def step(conn: Connection, complaint_id: int, c: workflow.CommandContext) -> Outcome:
        return await workflow.follow_up(conn, complaint_id, c, message=input.message)

    return await _run(info, input, step)


@strawberry.mutation(description="The OPD reports the problem solved: IN_PROGRESS → RESOLVED.")
async def resolve_complaint(info: Info, input: inputs.ResolveComplaintInput) -> ComplaintPayload:
    async def step(conn: Connection, complaint_id: int, c: workflow.CommandContext) -> Outcome:
        return await workflow.resolve(conn, complaint_id, c, resolution=input.resolution)

    return await _run(info, input, step)


@strawberry.mutation(description="The reporter confirms and rates (1-5): RESOLVED → CLOSED.")
async def confirm_resolution(info: Info, input: inputs.ConfirmResolutionInput) -> ComplaintPayload:
    async def step(conn: Connection, complaint_id: int, c: workflow.CommandContext) -> Outcome:
        return await workflow.confirm(
            conn, complaint_id, c, rating=input.rating, comment=input.comment
        )

    return await _run(info, input, step)


@strawberry.mutation(description="The reporter reopens: RESOLVED → IN_PROGRESS.")
async def reopen_complaint(info: Info, input: inputs.ReopenComplaintInput) -> ComplaintPayload:
    async def step(conn: Connection, complaint_id: int, c: workflow.CommandContext) -> Outcome:
        return await workflow.reopen(conn, complaint_id, c, reason=input.reason)

    return await _run(info, input, step)


@strawberry.mutation(description="Close a RESOLVED complaint without the reporter's rating.")
async def close_complaint(info: Info, input: inputs.CloseComplaintInput) -> ComplaintPayload:
    async def step(conn: Connection, complaint_id: int, c: workflow.CommandContext) -> Outcome:
        return await workflow.close(conn, complaint_id, c, note=input.note)

    return await _run(info, input, step)


@strawberry.mutation(
    description="Reject a RECEIVED complaint: spam, incomplete, not the province's authority, "
    "or a duplicate (name the original with duplicateOfId)."
)
async def reject_complaint(info: Info, input: inputs.RejectComplaintInput) -> ComplaintPayload:
    async def step(conn: Connection, complaint_id: int, c: workflow.CommandContext) -> Outcome:
        duplicate_of = input.duplicate_of_id
        return await workflow.reject(
            conn,
            complaint_id,
            c,
            reason=input.reason,
            note=input.note,
            duplicate_of_id=decode_id(duplicate_of, "Complaint", "duplicateOfId")
            if duplicate_of
            else None,
        )

    return await _run(info, input, step)


@strawberry.mutation(description="Link a complaint to a programme work item, or unlink it.")
async def link_complaint_to_work_item(
    info: Info, input: inputs.LinkComplaintToWorkItemInput
) -> ComplaintPayload:
    async def step(conn: Connection, complaint_id: int, c: workflow.CommandContext) -> Outcome:
        item = input.work_item_id
        return await workflow.link_work_item(
            conn,
            complaint_id,
            c,
            work_item_id=decode_id(item, "WorkItem", "workItemId") if item else None,
        )

    return await _run(info, input, step)


@strawberry.mutation(
    description="Merge duplicates into an open original (OPERATOR): each duplicate gets a MERGED "
    "event (a DUPLICATE rejection) and follows the original; when the original is resolved, "
    "each gets an ORIGINAL_RESOLVED event and its reporter an answer on their own channel. "
    "Answers the original; the merges are in its followers' timelines. All or nothing."
)
async def merge_complaints(info: Info, input: inputs.MergeComplaintsInput) -> ComplaintPayload:
    try:
        original_id = decode_id(input.original_id, "Complaint", "originalId")
        duplicate_ids = [decode_id(d, "Complaint", "duplicateIds") for d in input.duplicate_ids]
    except DomainError as error:
        return ComplaintPayload(errors=[UserError.from_domain(error)])

    async def step(conn: Connection, complaint_id: int, c: workflow.CommandContext) -> Outcome:
        return await duplicates.merge(conn, complaint_id, duplicate_ids, c, note=input.note)

    return await _run(info, input, step, original_id)


MUTATIONS = [
    submit_complaint,
    assign_complaint,
    reassign_complaint,
    record_follow_up,
    resolve_complaint,
    confirm_resolution,
    reopen_complaint,
    close_complaint,
    reject_complaint,
    link_complaint_to_work_item,
    merge_complaints,
]
