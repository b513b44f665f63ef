from datetime import date, datetime
from decimal import Decimal

import strawberry

from kilas.schema.enums import (
    Channel,
    ComplaintStatus,
    OpdKind,
    ProgrammeStatus,
    RejectionReason,
    SocialPlatform,
)


@strawberry.input(description="A point in WGS84 degrees.")
class GeoPointInput:
    lat: float
    lon: float


@strawberry.input(description="Who reports; personal data, protected by the anonymous flag.")
class ReporterInput:
    name: str | None = None
    contact: str | None = strawberry.field(default=None, description="Phone or e-mail.")
    handle: str | None = strawberry.field(default=None, description="Social-media handle.")


@strawberry.input
class SubmitComplaintInput:
    channel: Channel
    text: str
    region_code: str = strawberry.field(description="Kemendagri code, e.g. 33.74.")
    external_ref: str | None = strawberry.field(
        default=None,
        description="The channel's own id (tweet id, message id). Submitting the same channel "
        "and reference again returns the stored complaint instead of a duplicate.",
    )
    category_code: str | None = None
    reporter: ReporterInput | None = None
    anonymous: bool = False
    confidential: bool = False
    location: GeoPointInput | None = None
    media_urls: list[str] = strawberry.field(default_factory=list)


@strawberry.input(description="Disposition to an OPD; without opdId, the category's default OPD.")
class AssignComplaintInput:
    complaint_id: strawberry.ID
    opd_id: strawberry.ID | None = None
    category_code: str | None = None
    note: str | None = None
    expected_version: int | None = None


@strawberry.input(description="Hand an assigned complaint to another OPD.")
class ReassignComplaintInput:
    complaint_id: strawberry.ID
    opd_id: strawberry.ID
    reason: str
    expected_version: int | None = None


@strawberry.input
class RecordFollowUpInput:
    complaint_id: strawberry.ID
    message: str
    expected_version: int | None = None


@strawberry.input
class ResolveComplaintInput:
    complaint_id: strawberry.ID
    resolution: str
    expected_version: int | None = None


@strawberry.input(description="The reporter confirms the resolution and rates it (1-5).")
class ConfirmResolutionInput:
    complaint_id: strawberry.ID
    rating: int
    comment: str | None = None
    tracking_number: str | None = strawberry.field(
        default=None,
        description="The complaint's tracking number, the reporter's proof: required of "
        "everyone but operators (who act for a reporter on the hotline).",
    )
    expected_version: int | None = None


@strawberry.input(description="The reporter says the problem is not solved.")
class ReopenComplaintInput:
    complaint_id: strawberry.ID
    reason: str
    tracking_number: str | None = strawberry.field(
        default=None,
        description="The complaint's tracking number, the reporter's proof: required of "
        "everyone but operators (who act for a reporter on the hotline).",
    )
    expected_version: int | None = None


@strawberry.input
class CloseComplaintInput:
    complaint_id: strawberry.ID
    note: str | None = None
    expected_version: int | None = None


@strawberry.input
class RejectComplaintInput:
    complaint_id: strawberry.ID
    reason: RejectionReason
    note: str | None = None
    duplicate_of_id: strawberry.ID | None = None
    expected_version: int | None = None


@strawberry.input(
    description="Merge duplicates into an original: each duplicate ends as a DUPLICATE rejection "
    "that follows the original, and its reporter is told when the original is resolved."
)
class MergeComplaintsInput:
    original_id: strawberry.ID
    duplicate_ids: list[strawberry.ID]
    note: str | None = None
    expected_version: int | None = strawberry.field(
        default=None, description="The original's version the caller saw."
    )


@strawberry.input(description="Link to a programme work item; a null workItemId unlinks.")
class LinkComplaintToWorkItemInput:
    complaint_id: strawberry.ID
    work_item_id: strawberry.ID | None
    expected_version: int | None = None


@strawberry.input
class ComplaintFilter:
    status: list[ComplaintStatus] | None = None
    opd_id: strawberry.ID | None = None
    region_code: str | None = None
    category_code: str | None = None
    channel: list[Channel] | None = None
    created_from: datetime | None = strawberry.field(default=None, description="Inclusive.")
    created_before: datetime | None = strawberry.field(default=None, description="Exclusive.")
    search: str | None = strawberry.field(
        default=None, description="Words or a phrase in the complaint text (Indonesian stemming)."
    )
    work_item_id: strawberry.ID | None = None


@strawberry.input(description="Every given field must match (AND).")
class ComplaintEventFilter:
    complaint_id: strawberry.ID | None = None
    opd_id: strawberry.ID | None = strawberry.field(
        default=None, description="Events of complaints assigned to, or taken from, this OPD."
    )
    region_code: str | None = None
    status: ComplaintStatus | None = strawberry.field(
        default=None, description="The complaint's status after the event."
    )


@strawberry.input
class ProgrammeFilter:
    owner_opd_id: strawberry.ID | None = None
    fiscal_year: int | None = None
    status: ProgrammeStatus | None = None


@strawberry.input
class CreateOpdInput:
    slug: str
    short_name: str
    name: str
    kind: OpdKind
    head_name: str | None = strawberry.field(
        default=None, description="The head in office from now on (`heads` keeps each term)."
    )
    head_title: str | None = None


@strawberry.input(description="Omitted fields keep their value; a null head field clears it.")
class UpdateOpdInput:
    opd_id: strawberry.ID
    short_name: str | None = strawberry.UNSET
    name: str | None = strawberry.UNSET
    kind: OpdKind | None = strawberry.UNSET
    head_name: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Another name is a new head from now on (the term in office ends), the same "
        "name with a headTitle corrects the title, null leaves the post vacant. "
        "appointOpdHead records a term with its own start and the head's accounts.",
    )
    head_title: str | None = strawberry.UNSET


@strawberry.input
class AddSocialAccountInput:
    opd_id: strawberry.ID
    platform: SocialPlatform
    handle: str
    verified: bool = False
    external_id: str | None = strawberry.field(
        default=None,
        description="The platform's own id of the account, as its webhooks name it: a WhatsApp "
        "number's phone_number_id, a Facebook page's or an Instagram business account's id, an "
        "X user's id. Channel intake routes by it where a delivery carries no handle.",
    )


@strawberry.input(description="One of a head's own social-media accounts.")
class HeadAccountInput:
    platform: SocialPlatform
    handle: str
    verified: bool = False
    external_id: str | None = strawberry.field(
        default=None, description="The platform's own id of the account, as its webhooks name it."
    )


@strawberry.input
class AppointOpdHeadInput:
    opd_id: strawberry.ID
    name: str
    title: str = strawberry.field(description='E.g. "Kepala Dinas", "Plt. Kepala Dinas".')
    term_start: datetime = strawberry.field(
        description="When the term began (not in the future, with an offset, e.g. +07:00); the "
        "head in office until then leaves office at that moment."
    )
    accounts: list[HeadAccountInput] = strawberry.field(default_factory=list)


@strawberry.input
class SetSocialAccountVerifiedInput:
    social_account_id: strawberry.ID
    verified: bool


@strawberry.input
class CreateProgrammeInput:
    code: str
    name: str
    owner_opd_id: strawberry.ID
    fiscal_year: int
    budget_idr: Decimal
    target: Decimal
    unit: str
    description: str = ""
    realisation_idr: Decimal = Decimal(0)
    achievement: Decimal = Decimal(0)
    status: ProgrammeStatus = ProgrammeStatus.PLANNED
    predecessor_id: strawberry.ID | None = None


@strawberry.input(description="Omitted fields keep their value.")
class UpdateProgrammeInput:
    programme_id: strawberry.ID
    name: str | None = None
    description: str | None = None
    budget_idr: Decimal | None = None
    realisation_idr: Decimal | None = None
    target: Decimal | None = None
    achievement: Decimal | None = None
    status: ProgrammeStatus | None = None


@strawberry.input
class CreateWorkItemInput:
    programme_id: strawberry.ID
    name: str
    region_code: str
    road_segment: str | None = None
    location: GeoPointInput | None = None
    length_km: Decimal | None = None
    progress_pct: float = strawberry.field(
        default=0.0, description="Progress in percent, 0 to 100: a number, e.g. 45.5."
    )
    status: ProgrammeStatus = ProgrammeStatus.PLANNED
    planned_start: date | None = None
    planned_end: date | None = None


@strawberry.input
class UpdateWorkItemProgressInput:
    work_item_id: strawberry.ID
    progress_pct: float = strawberry.field(
        description="Progress in percent, 0 to 100: a number, e.g. 45.5."
    )
    status: ProgrammeStatus | None = None


@strawberry.input
class CategoryResolutionHoursInput:
    category_code: str
    hours: int


@strawberry.input(
    description="A new SLA policy version, effective from a moment not in the past and after "
    "the latest version. Complaints already assigned keep their version."
)
class AddSlaPolicyVersionInput:
    name: str
    effective_from: datetime
    response_hours: int
    resolution_hours: int
    category_resolution_hours: list[CategoryResolutionHoursInput] = strawberry.field(
        default_factory=list
    )


@strawberry.input(description="Every given field must match (AND).")
class SlaAlertFilter:
    opd_id: strawberry.ID | None = None
    region_code: str | None = None


@strawberry.input(
    description="A unit's own dashboard: the complaints an OPD holds now, of one region, or both "
    "(AND)."
)
class DashboardFilter:
    opd_id: strawberry.ID | None = None
    region_code: str | None = strawberry.field(
        default=None, description="Kemendagri code, e.g. 33.74."
    )
