from enum import Enum
from typing import TypeAlias

import strawberry

from kilas.domain import lifecycle, routing, sla
from kilas.domain.errors import ErrorCode as DomainErrorCode

# The domain's enums, registered with strawberry under their GraphQL names; the aliases keep
# them usable as types in annotations.
strawberry.enum(
    lifecycle.Status,
    name="ComplaintStatus",
    description="Where a complaint stands: RECEIVED → ASSIGNED → IN_PROGRESS → RESOLVED → CLOSED, "
    "or RECEIVED → REJECTED.",
)
strawberry.enum(
    lifecycle.Channel, name="Channel", description="How the complaint reached the province."
)
strawberry.enum(lifecycle.RejectionReason, name="RejectionReason")
strawberry.enum(
    lifecycle.EventType, name="ComplaintEventType", description="What happened to a complaint."
)
strawberry.enum(
    DomainErrorCode,
    name="ErrorCode",
    description="Stable, machine-readable reasons a mutation was refused (it changed nothing).",
)
strawberry.enum(
    sla.SlaClock,
    name="SlaClock",
    description="RESPONSE: assignment → first follow-up. RESOLUTION: assignment → resolution.",
)
strawberry.enum(
    sla.SlaState,
    name="SlaState",
    description="ON_TRACK; AT_RISK once less than the configured share of the window is left; "
    "BREACHED once the deadline passed unmet; MET when done in time.",
)
strawberry.enum(
    routing.Route,
    name="IntakeRoute",
    description="Where channel intake sent a message: to the OPD whose verified account the "
    "citizen addressed, or to the command center's verification queue.",
)
strawberry.enum(
    routing.Reason,
    name="IntakeRoutingReason",
    description="Why channel intake routed a message as it did.",
)
SlaClock: TypeAlias = sla.SlaClock
IntakeRoute: TypeAlias = routing.Route
IntakeRoutingReason: TypeAlias = routing.Reason
SlaState: TypeAlias = sla.SlaState
ComplaintStatus: TypeAlias = lifecycle.Status
Channel: TypeAlias = lifecycle.Channel
RejectionReason: TypeAlias = lifecycle.RejectionReason
ComplaintEventType: TypeAlias = lifecycle.EventType
ErrorCode: TypeAlias = DomainErrorCode


@strawberry.enum(
    description="Orderings of a complaint list; each is a keyset, stable under paging."
)
class ComplaintOrder(Enum):
    CREATED_AT_DESC = "CREATED_AT_DESC"
    CREATED_AT_ASC = "CREATED_AT_ASC"
    UPDATED_AT_DESC = "UPDATED_AT_DESC"
    UPDATED_AT_ASC = "UPDATED_AT_ASC"


@strawberry.enum
class RegionType(Enum):
    KABUPATEN = "KABUPATEN"
    KOTA = "KOTA"


@strawberry.enum(description="The kind of provincial work unit.")
class OpdKind(Enum):
    DINAS = "DINAS"
    BADAN = "BADAN"
    BIRO = "BIRO"
    SATPOL_PP = "SATPOL_PP"
    RSUD = "RSUD"
    INSPEKTORAT = "INSPEKTORAT"
    SEKRETARIAT = "SEKRETARIAT"


@strawberry.enum
class SocialPlatform(Enum):
    X = "X"
    INSTAGRAM = "INSTAGRAM"
    FACEBOOK = "FACEBOOK"
    TIKTOK = "TIKTOK"
    YOUTUBE = "YOUTUBE"
    WHATSAPP = "WHATSAPP"


@strawberry.enum
class ProgrammeStatus(Enum):
    PLANNED = "PLANNED"
    ONGOING = "ONGOING"
    COMPLETED = "COMPLETED"
    SUSPENDED = "SUSPENDED"


@strawberry.enum(description="Who a breached complaint has been escalated to.")
class EscalationTarget(Enum):
    OPD_HEAD = "OPD_HEAD"
    COMMAND_CENTER = "COMMAND_CENTER"
    GOVERNOR_OFFICE = "GOVERNOR_OFFICE"
