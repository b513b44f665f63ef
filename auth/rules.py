"""Every way a caller reaches data or changes it, and the rule that admits it: one table, keyed by
schema coordinate ("Type.field") and by HTTP route. The predicates are `auth.policy`'s; this
says which applies where. One layer enforces the table on every path:

- strawberry's execution: `resolvers.enforce` wraps each field that has a check, at schema build
  time, and refuses to build a schema with a field the table does not name (fail closed);
- compiled reads: the compiler compiles a field by its rule, and leaves a field whose rule it does
  not compile to strawberry (`compiler.objects.Ctx.rule`);
- the complaint mutations: the pipeline judges the row it locked by the field's `ComplaintAction`;
- HTTP routes beside GraphQL: `ROUTES` (the CSV exports).

tests/test_access_rules.py enumerates the schema's fields and the app's routes against it."""

from collections.abc import Iterator
from dataclasses import dataclass

from kilas.auth.caller import STAFF, Caller, Role
from kilas.auth.policy import (
    SEES_ALL,
    can_read_personal_data,
    can_see_tracking_number,
    role_refusal,
)
from kilas.db.rows import ComplaintRow


@dataclass(frozen=True)
class Open:
    """Anyone who reaches the field: a root field open to every caller, or a field of an object
    the caller was already admitted to."""


@dataclass(frozen=True)
class Roles:
    """Only callers with one of `roles`; anyone else gets FORBIDDEN (in a mutation's payload)."""

    roles: frozenset[Role]

    def refusal(self, caller: Caller, what: str) -> str | None:
        return role_refusal(caller, self.roles, what)


@dataclass(frozen=True)
class VisibleComplaints:
    """Complaints (or their events) as `auth.policy.can_see_complaint` admits them: lists filter
    by `auth.policy.visibility` in SQL, single ones through `schema.complaints.visible_complaint`;
    a complaint the caller may not see is absent, never an error."""


@dataclass(frozen=True)
class PersonalData:
    """The reporter's data in `columns` of a complaint: null when the row holds none; else
    `auth.policy.can_read_personal_data`, the read written to the access log (under `name`)
    before the data leaves; FORBIDDEN otherwise."""

    name: str
    columns: tuple[str, ...]

    def present(self, row: ComplaintRow) -> bool:
        return any(getattr(row, column) for column in self.columns)

    @property
    def message(self) -> str:
        return (
            f"{self.name} is personal data: only operators and the OPD holding the complaint "
            "(when the reporter is not anonymous) may read it"
        )

    def refusal(self, caller: Caller, row: ComplaintRow) -> str | None:
        return None if can_read_personal_data(caller, row) else self.message


@dataclass(frozen=True)
class TrackingNumber:
    """The reporter's proof: whoever presented it (or just submitted the complaint), and staff by
    `auth.policy.can_see_tracking_number`; FORBIDDEN for anyone else."""

    message: str = "the tracking number is the reporter's: look the complaint up by it"

    def refusal(self, caller: Caller, row: ComplaintRow, *, presented: bool) -> str | None:
        return None if presented or can_see_tracking_number(caller, row) else self.message

    @staticmethod
    def sees_every(role: Role) -> bool:
        """Whether `role` sees every complaint's number (the compiler's question)."""
        return role in SEES_ALL


@dataclass(frozen=True)
class StaffNames:
    """Who acted: staff (`roles`) see a member of staff by name ("jwt:…", "key:…"); anyone else
    sees "staff". Other actors ("public", "system:sla") are shown to all."""

    roles: frozenset[Role] = STAFF
    prefixes: tuple[str, ...] = ("jwt:", "key:")
    shown_instead: str = "staff"

    def shown(self, caller: Caller, actor: str) -> str:
        if caller.role in self.roles or not actor.startswith(self.prefixes):
            return actor
        return self.shown_instead


@dataclass(frozen=True)
class ComplaintAction:
    """A lifecycle mutation, judged against the complaint's row locked in the command's
    transaction (resolvers.complaint_mutations): callers with one of `roles`, an OPD officer
    only on a complaint its OPD holds; a `reporter` action is also open to anyone presenting the
    complaint's tracking number, which only the reporter was given (that is the reporter acting,
    so it works on their own confidential complaint too)."""

    roles: frozenset[Role]
    reporter: bool = False

    def refusal(
        self, caller: Caller, action: str, row: ComplaintRow, tracking_number: str | None
    ) -> str | None:
        if self.reporter and caller.role is not Role.OPERATOR:
            if tracking_number is None:
                return f"{action} needs the complaint's trackingNumber (the reporter's proof)"
            if tracking_number.strip().upper() != row.tracking_number:
                return "the trackingNumber does not match this complaint"
            return None
        refusal = role_refusal(caller, self.roles, action)
        if refusal is not None:
            return refusal
        if caller.role is Role.OPD_OFFICER and row.opd_id != caller.opd_id:
            return f"{action}: this complaint is not held by the caller's OPD"
        return None


Rule = (
    Open | Roles | VisibleComplaints | PersonalData | TrackingNumber | StaffNames | ComplaintAction
)

OPEN = Open()
VISIBLE = VisibleComplaints()
ADMIN_ONLY = Roles(frozenset({Role.ADMIN}))
SUPERVISION = Roles(frozenset({Role.SUPERVISOR}))
# Reads every complaint, confidential ones and tracking numbers included.
STAFF_WHO_SEE_ALL = Roles(SEES_ALL)
INTAKE_PARTNERS = Roles(frozenset({Role.PARTNER}))
# The channel inbox: who watches it, and who replays its dead deliveries.
INBOX_WATCH = Roles(frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN}))
INBOX_REPLAY = Roles(frozenset({Role.OPERATOR, Role.ADMIN}))
DUPLICATE_READERS = Roles(frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN}))
TEMPLATE_READERS = Roles(frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN}))
# Outgoing webhooks: ADMIN for every PARTNER key, a partner for its own (resolvers/webhooks.py).
WEBHOOK_MANAGERS = Roles(frozenset({Role.ADMIN, Role.PARTNER}))
_HANDLERS = frozenset({Role.OPERATOR, Role.OPD_OFFICER})
_OPERATOR = frozenset({Role.OPERATOR})


class MissingRule(LookupError):
    """A field or route the table does not name: it is refused, never open by default."""


def _fields(type_name: str, rule: Rule, names: str) -> Iterator[tuple[str, Rule]]:
    for name in names.split():
        yield f"{type_name}.{name}", rule


# Every field of every object type, by name. A field added to the schema must be added here (the
# schema does not build otherwise); a name here that the schema lacks fails the tests.
FIELDS: dict[str, Rule] = dict(
    [
        # Root fields.
        *_fields("Query", VISIBLE, "node complaints complaint complaintEvents openSlaAlerts"),
        *_fields(
            "Query",
            OPEN,
            "opds opd regions region categories slaPolicies programmes programme dashboard "
            "opdPerformance regionPerformance leaderboard province",
        ),
        *_fields("Query", SUPERVISION, "accountability personalDataAccess"),
        *_fields("Query", SUPERVISION, "headAccountability"),
        *_fields("Query", ADMIN_ONLY, "apiKeys"),
        *_fields("Query", INBOX_WATCH, "channelDeliveries"),
        *_fields("Query", TEMPLATE_READERS, "replyTemplates"),
        *_fields("Query", WEBHOOK_MANAGERS, "webhookEndpoints"),
        # Apollo Federation: the subgraph's SDL, and a gateway's references resolved by the
        # rules of node(id:) (schema/federation.py) and each entity field's own rule.
        *_fields("Query", OPEN, "_service _entities"),
        ("_Service.sdl", OPEN),
        *_fields("Subscription", VISIBLE, "complaintEvents slaAlerts"),
        *_fields("Subscription", OPEN, "dashboard leaderboardChanges"),
        # Anyone may submit (the rate limit and the intake's own checks apply).
        *_fields("Mutation", OPEN, "submitComplaint"),
        *_fields("Mutation", ComplaintAction(_OPERATOR), "assignComplaint reassignComplaint"),
        *_fields("Mutation", ComplaintAction(_OPERATOR), "rejectComplaint closeComplaint"),
        *_fields("Mutation", ComplaintAction(_OPERATOR), "mergeComplaints"),
        *_fields(
            "Mutation",
            ComplaintAction(_HANDLERS),
            "recordFollowUp resolveComplaint linkComplaintToWorkItem",
        ),
        *_fields(
            "Mutation",
            ComplaintAction(frozenset(Role), reporter=True),
            "confirmResolution reopenComplaint",
        ),
        *_fields(
            "Mutation",
            ADMIN_ONLY,
            "createOpd updateOpd addOpdSocialAccount setOpdSocialAccountVerified "
            "removeOpdSocialAccount createProgramme updateProgramme createWorkItem "
            "updateWorkItemProgress addSlaPolicyVersion createApiKey revokeApiKey setReplyTemplate",
        ),
        *_fields("Mutation", ADMIN_ONLY, "appointOpdHead"),
        *_fields("Mutation", INBOX_REPLAY, "replayChannelDelivery"),
        *_fields(
            "Mutation",
            WEBHOOK_MANAGERS,
            "createWebhookEndpoint enableWebhookEndpoint disableWebhookEndpoint "
            "deleteWebhookEndpoint",
        ),
        # Complaints and their events: reached only through a VisibleComplaints rule.
        *_fields(
            "Complaint",
            OPEN,
            "id channel anonymous confidential text location mediaUrls status assignedAt "
            "responseDueAt resolutionDueAt firstResponseAt resolvedAt closedAt rating "
            "ratingComment rejectionReason version createdAt updatedAt category region opd "
            "slaPolicy workItem lastEvent timeline sla allowedEvents",
        ),
        ("Complaint.trackingNumber", TrackingNumber()),
        # The citizen's answers carry the tracking number: the same readers.
        (
            "Complaint.replies",
            TrackingNumber(
                "the replies to the reporter carry the tracking number: look the complaint up by it"
            ),
        ),
        *_fields(
            "ChannelReply",
            OPEN,
            "id eventType public text state attempts lastError sentAt platformMessageId createdAt",
        ),
        ("Complaint.externalRef", PersonalData("externalRef", ("external_ref",))),
        (
            "Complaint.reporter",
            PersonalData("reporter", ("reporter_name", "reporter_contact", "reporter_handle")),
        ),
        ("Complaint.duplicateOf", VISIBLE),
        # Likely duplicates: for the staff who merge them and watch intake.
        ("Complaint.possibleDuplicates", DUPLICATE_READERS),
        *_fields("DuplicateCandidate", OPEN, "score"),
        ("DuplicateCandidate.complaint", VISIBLE),
        *_fields("Reporter", OPEN, "name contact handle"),
        *_fields("GeoPoint", OPEN, "lat lon"),
        *_fields("ComplaintSla", OPEN, "response resolution escalationLevel escalatedTo"),
        *_fields("ComplaintSla", OPEN, "escalatedAt"),
        *_fields("ComplaintSla", OPEN, "escalatedToHead"),
        *_fields("SlaClockReading", OPEN, "clock state dueAt remainingSeconds overdueSeconds"),
        *_fields(
            "ComplaintEvent",
            OPEN,
            "id cursor type fromStatus toStatus note rating slaClock escalationLevel version "
            "occurredAt recordedAt opd fromOpd region routing routingReason addressedAccount",
        ),
        ("ComplaintEvent.actor", StaffNames()),
        ("ComplaintEvent.escalatedToHead", OPEN),
        ("ComplaintEvent.complaint", VISIBLE),
        *_fields("ComplaintConnection", OPEN, "edges pageInfo nodes totalCount"),
        *_fields("ComplaintEdge", OPEN, "cursor node"),
        *_fields("ComplaintEventConnection", OPEN, "edges pageInfo nodes"),
        *_fields("ComplaintEventEdge", OPEN, "cursor node"),
        *_fields("PageInfo", OPEN, "hasNextPage endCursor"),
        # Reference data and programmes: public.
        *_fields(
            "Opd",
            OPEN,
            "id slug shortName name kind head updatedAt socialAccounts categories openBacklog",
        ),
        *_fields("Opd", OPEN, "heads"),
        *_fields("OpdHead", OPEN, "id name title termStart termEnd accounts opd"),
        *_fields("OpdHeadAccount", OPEN, "platform handle verified"),
        *_fields("Region", OPEN, "id code bpsCode name type seat seatLocation openComplaints"),
        *_fields(
            "Province",
            OPEN,
            "code name nameEn shortName pack wallTitle wallProgrammeCode commandCenter "
            "defaultRegionCode "
            "mapLabels outline",
        ),
        *_fields("MapLabel", OPEN, "name at"),
        *_fields("Category", OPEN, "id code name nameEn defaultOpd resolutionHours"),
        *_fields(
            "SlaPolicy",
            OPEN,
            "id name effectiveFrom responseHours resolutionHours categoryResolutionHours",
        ),
        *_fields("CategoryResolutionHours", OPEN, "categoryCode hours"),
        *_fields("SocialAccount", OPEN, "id platform handle verified externalId opd"),
        *_fields(
            "Programme",
            OPEN,
            "id code name description fiscalYear budgetIdr realisationIdr target achievement "
            "unit status updatedAt absorptionPct achievementPct owner predecessor successors "
            "workItems",
        ),
        *_fields(
            "WorkItem",
            OPEN,
            "id name roadSegment location lengthKm progressPct status plannedStart plannedEnd "
            "updatedAt programme region",
        ),
        ("WorkItem.linkedComplaints", VISIBLE),
        *_fields("ProgrammeConnection", OPEN, "edges pageInfo nodes"),
        *_fields("ProgrammeEdge", OPEN, "cursor node"),
        # Aggregates: counts, never a complaint's own data.
        *_fields(
            "Dashboard", OPEN, "generatedAt byStatus byRegion byChannel breachesOpenNow intakeToday"
        ),
        *_fields("StatusCount", OPEN, "status count"),
        *_fields("RegionCount", OPEN, "regionCode count open region"),
        *_fields("ChannelCount", OPEN, "channel count"),
        *(
            rule
            for type_name, extra in (
                ("OpdPerformance", "opd"),
                ("RegionPerformance", "region"),
                ("LeaderboardEntry", "opd rank"),
            )
            for rule in _fields(
                type_name,
                OPEN,
                "received resolved backlog medianResponseHours p90ResponseHours "
                "medianResolutionHours p90ResolutionHours responsesDecided responsesOnTime "
                f"responseSlaShare breaches escalations averageRating ratings {extra}",
            )
        ),
        # Reached only through SUPERVISION and ADMIN_ONLY root fields and mutations.
        *_fields(
            "AccountabilityMonth",
            OPEN,
            "head month breaches responseBreaches resolutionBreaches escalations "
            "escalationsToOpdHead escalationsToCommandCenter escalationsToGovernorOffice opd",
        ),
        *_fields(
            "HeadRecord",
            OPEN,
            "head opd from to received breaches responseBreaches resolutionBreaches escalations "
            "escalationsToOpdHead escalationsToCommandCenter escalationsToGovernorOffice",
        ),
        *_fields(
            "PersonalDataAccess",
            OPEN,
            "cursor complaintId trackingNumber subject role field address accessedAt",
        ),
        *_fields(
            "ApiKey",
            OPEN,
            "id prefix name role opdSlug regionCode createdAt expiresAt revokedAt lastUsedAt",
        ),
        # Mutation payloads: what their mutation's rule admitted.
        *_fields("SubmitComplaintPayload", OPEN, "complaint event created errors"),
        *_fields("UserError", OPEN, "code message field"),
        *_fields("ComplaintPayload", OPEN, "complaint event errors"),
        *_fields("OpdPayload", OPEN, "opd errors"),
        *_fields("OpdHeadPayload", OPEN, "head opd errors"),
        *_fields("SocialAccountPayload", OPEN, "socialAccount errors"),
        *_fields("ProgrammePayload", OPEN, "programme errors"),
        *_fields("WorkItemPayload", OPEN, "workItem errors"),
        *_fields("SlaPolicyPayload", OPEN, "slaPolicy errors"),
        *_fields("CreateApiKeyPayload", OPEN, "key apiKey errors"),
        *_fields("ApiKeyPayload", OPEN, "apiKey errors"),
        *_fields(
            "ChannelDelivery",
            OPEN,
            "id platform state bodyBytes receivedAt attempts nextAttemptAt lastError "
            "processedAt created known ignored",
        ),
        *_fields("ChannelDeliveryPayload", OPEN, "channelDelivery errors"),
        *_fields(
            "WebhookEndpoint",
            OPEN,
            "id apiKeyId url description filter cursor state disabledReason disabledAt "
            "failingSince failedAttempts lastError nextAttemptAt createdAt deliveries",
        ),
        *_fields("WebhookFilter", OPEN, "complaintId opdId regionCode status"),
        *_fields(
            "WebhookDelivery",
            OPEN,
            "eventCursor messageId attempt attemptedAt statusCode error latencyMs succeeded",
        ),
        *_fields("CreateWebhookEndpointPayload", OPEN, "secret endpoint errors"),
        *_fields("WebhookEndpointPayload", OPEN, "endpoint errors"),
        *_fields("ReplyTemplate", OPEN, "eventType text updatedAt updatedBy"),
        *_fields("ReplyTemplatePayload", OPEN, "replyTemplate errors"),
    ]
)

# HTTP routes beside /graphql (whose fields FIELDS rules), by their path as the app declares it.
ROUTES: dict[str, Rule] = {
    "/": OPEN,
    "/health": OPEN,
    "/ready": OPEN,
    "/graphql": OPEN,
    "/wall": OPEN,
    "/static/wall": OPEN,
    "/graphiql/{path:path}": OPEN,
    # Aggregates per OPD.
    "/export/opd-performance.csv": OPEN,
    # Lists tracking numbers and confidential complaints: staff who see them all.
    "/export/complaints.csv": STAFF_WHO_SEE_ALL,
    # The platforms' webhooks: proven by the platform's signature (intake/routes.py), not a key.
    "/channels/whatsapp": OPEN,
    "/channels/instagram": OPEN,
    "/channels/facebook": OPEN,
    "/channels/x": OPEN,
    # SMS gateways, the hotline, SP4N-LAPOR!: a PARTNER key, and the intake's signature besides.
    "/channels/intake": INTAKE_PARTNERS,
    # Open311 GeoReport v2: reads as its caller may see (never personal data); POST requests
    # needs a PARTNER `api_key`, which Open311 sends as a parameter (partners/open311.py).
    "/open311/v2/discovery.{format}": OPEN,
    "/open311/v2/services.{format}": OPEN,
    "/open311/v2/services/{code}.{format}": OPEN,
    "/open311/v2/requests.{format}": OPEN,
    "/open311/v2/requests/{id}.{format}": OPEN,
    "/open311/v2/tokens/{token}.{format}": OPEN,
}


def field_rule(type_name: str, field_name: str) -> Rule:
    try:
        return FIELDS[f"{type_name}.{field_name}"]
    except KeyError:
        raise MissingRule(f"{type_name}.{field_name} has no access rule (auth/rules.py)") from None


def route_rule(path: str) -> Rule:
    try:
        return ROUTES[path]
    except KeyError:
        raise MissingRule(f"route {path} has no access rule (auth/rules.py)") from None


def action_rule(action: str) -> ComplaintAction:
    rule = field_rule("Mutation", action)
    if not isinstance(rule, ComplaintAction):
        raise MissingRule(f"Mutation.{action} is not a complaint action")
    return rule
