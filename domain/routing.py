"""Where channel intake sends a message (intake/routing.py decides), as its SUBMITTED event
records it and the API shows it."""

from enum import StrEnum


class Route(StrEnum):
    # Disposed to the OPD at once, its SLA clocks started at the moment the citizen posted.
    OPD = "OPD"
    # RECEIVED, for an operator to verify and dispose.
    VERIFICATION_QUEUE = "VERIFICATION_QUEUE"


class Reason(StrEnum):
    VERIFIED_OPD_ACCOUNT = "VERIFIED_OPD_ACCOUNT"
    # The generic intake's sender (an authenticated partner) named the OPD by its slug.
    OPD_NAMED_BY_SENDER = "OPD_NAMED_BY_SENDER"
    # Verified accounts of two or more OPDs: which one answers is the command center's call.
    SEVERAL_OPDS = "SEVERAL_OPDS"
    # The governor's or the command center's own account.
    PROVINCE_ACCOUNT = "PROVINCE_ACCOUNT"
    UNVERIFIED_OPD_ACCOUNT = "UNVERIFIED_OPD_ACCOUNT"
    UNKNOWN_ACCOUNT = "UNKNOWN_ACCOUNT"
    # Nothing addressed at all (a generic delivery without `to`).
    NO_ACCOUNT = "NO_ACCOUNT"
