"""Every compiled type's field table, by GraphQL type name."""

from kilas.compiler.complaints import COMPLAINT, EVENT, REPLY
from kilas.compiler.duplicates import DUPLICATE_CANDIDATE
from kilas.compiler.heads import HEAD_RECORD, OPD_HEAD, OPD_HEAD_ACCOUNT
from kilas.compiler.objects import FieldFn
from kilas.compiler.reference import (
    CATEGORY,
    CATEGORY_HOURS,
    OPD,
    PROGRAMME,
    REGION,
    SLA_POLICY,
    SOCIAL_ACCOUNT,
    WORK_ITEM,
)

FIELDS: dict[str, dict[str, FieldFn]] = {
    # The modules' own tables, never copies: the differential test's mutants patch them.
    "Complaint": COMPLAINT,
    "DuplicateCandidate": DUPLICATE_CANDIDATE,
    "ComplaintEvent": EVENT,
    "ChannelReply": REPLY,
    "Opd": OPD,
    "OpdHead": OPD_HEAD,
    "OpdHeadAccount": OPD_HEAD_ACCOUNT,
    "HeadRecord": HEAD_RECORD,
    "SocialAccount": SOCIAL_ACCOUNT,
    "Region": REGION,
    "Category": CATEGORY,
    "SlaPolicy": SLA_POLICY,
    "CategoryResolutionHours": CATEGORY_HOURS,
    "Programme": PROGRAMME,
    "WorkItem": WORK_ITEM,
}
