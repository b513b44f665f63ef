import strawberry

from kilas.schema.complaints import Complaint, ComplaintEvent
from kilas.schema.errors import UserError
from kilas.schema.programmes import Programme, WorkItem
from kilas.schema.readback import ReadBack
from kilas.schema.reference import Opd, OpdHead, SlaPolicy, SocialAccount


@strawberry.type
class SubmitComplaintPayload:
    complaint: Complaint | None = strawberry.field(
        default=None,
        extensions=[ReadBack()],
        description="The new complaint, tracking number included. On a repeat, the stored one "
        "as this caller may read it: its tracking number only to the credential that submitted "
        "it (or a role that reads every tracking number); null if the caller may not see it.",
    )
    event: ComplaintEvent | None = strawberry.field(
        default=None, description="The SUBMITTED event; null on a repeat.", extensions=[ReadBack()]
    )
    created: bool = strawberry.field(
        default=False,
        description="False when this channel and external reference were submitted before: "
        "nothing was written.",
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ComplaintPayload:
    complaint: Complaint | None = strawberry.field(default=None, extensions=[ReadBack()])
    event: ComplaintEvent | None = strawberry.field(
        default=None, description="The event written.", extensions=[ReadBack()]
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class OpdPayload:
    opd: Opd | None = strawberry.field(default=None, extensions=[ReadBack()])
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class OpdHeadPayload:
    head: OpdHead | None = strawberry.field(default=None, extensions=[ReadBack()])
    opd: Opd | None = strawberry.field(
        default=None, extensions=[ReadBack()], description="The OPD, with its head now."
    )
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SocialAccountPayload:
    social_account: SocialAccount | None = strawberry.field(default=None, extensions=[ReadBack()])
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ProgrammePayload:
    programme: Programme | None = strawberry.field(default=None, extensions=[ReadBack()])
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class WorkItemPayload:
    work_item: WorkItem | None = strawberry.field(default=None, extensions=[ReadBack()])
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SlaPolicyPayload:
    sla_policy: SlaPolicy | None = strawberry.field(default=None, extensions=[ReadBack()])
    errors: list[UserError] = strawberry.field(default_factory=list)
