"""What one inbound message becomes: a complaint, submitted at the moment the citizen posted and,
when the account they addressed decides it, assigned to that OPD at the same moment, so that
its SLA clocks run from the post, not from Kilas's processing. A message seen before (a
platform's retry, a tweet delivered once per mentioned account) is recognised by its platform
id and changes nothing."""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kilas.channels import InboundMessage, Kind, Platform
from kilas.db import channel_accounts
from kilas.db import replies as replies_db
from kilas.db.duplicates import Search
from kilas.db.pool import Connection
from kilas.db.rows import EventRow
from kilas.domain import workflow
from kilas.domain.sla import SlaRules
from kilas.intake.regions import RegionFinder
from kilas.intake.routing import Decision, Reason, Route, decide

ACTOR = "system:intake"
# The complaints table's limits (domain.workflow._validate_submission): a message over them is
# cut to fit rather than lost.
MAX_PERSON_TEXT = 200
MAX_REF = 200
MAX_MEDIA = 10
MAX_URL = 1000
# Where the sender's id is how to reach them (a phone number), it is the reporter's contact.
CONTACT_IS_ID = frozenset({Platform.WHATSAPP, Platform.SMS, Platform.HOTLINE, Platform.NATIONAL})
# The generic intake's `to` may name an account on any platform, or an OPD by its slug.
GENERIC = frozenset({Platform.SMS, Platform.HOTLINE, Platform.NATIONAL})
SOCIAL_PLATFORMS = ["X", "INSTAGRAM", "FACEBOOK", "TIKTOK", "YOUTUBE", "WHATSAPP"]


@dataclass(frozen=True)
class Taken:
    events: list[EventRow]
    created: bool


def external_ref(message: InboundMessage) -> str:
    """The platform's id, which is the idempotency key; a longer one than the column holds is
    replaced by its digest, the same for every retry."""
    if len(message.message_id) <= MAX_REF:
        return message.message_id
    return "sha256:" + hashlib.sha256(message.message_id.encode()).hexdigest()


def complaint_text(message: InboundMessage) -> str:
    text = message.text.strip()
    if not text:
        what = f"{len(message.media)} lampiran" if message.media else "tanpa isi"
        text = f"(Pesan {message.platform.value} tanpa teks: {what})"
    return text[: workflow.MAX_TEXT]


def _short(value: str | None) -> str | None:
    return value[:MAX_PERSON_TEXT] if value else None


def submission(message: InboundMessage, region_code: str) -> workflow.Submission:
    links = [url for url in message.media if url.startswith(("https://", "http://"))]
    lat, lon = message.location if message.location is not None else (None, None)
    return workflow.Submission(
        channel=message.platform.value,
        text=complaint_text(message),
        region_code=region_code,
        external_ref=external_ref(message),
        reporter_name=_short(message.author_name),
        reporter_contact=_short(message.author_id) if message.platform in CONTACT_IS_ID else None,
        reporter_handle=_short(message.author_handle),
        lat=lat,
        lon=lon,
        media_urls=tuple(url for url in links if len(url) <= MAX_URL)[:MAX_MEDIA],
    )


async def route(conn: Connection, message: InboundMessage, at: datetime) -> Decision:
    platforms = SOCIAL_PLATFORMS if message.platform in GENERIC else [message.platform.value]
    ids = [a.account_id for a in message.addressed if a.account_id is not None]
    handles = [a.handle for a in message.addressed if a.handle is not None]
    known = await channel_accounts.known_accounts(conn, platforms, ids, handles, at)
    named = await channel_accounts.opds_by_slugs(conn, ids) if message.platform in GENERIC else {}
    return decide(message.addressed, known, named)


def _assignment_note(decision: Decision) -> str:
    if decision.reason is Reason.OPD_NAMED_BY_SENDER:
        return f"Diteruskan otomatis: pengirim menujukan laporan ke {decision.account}"
    return f"Diteruskan otomatis: pesan ke akun terverifikasi {decision.account}"


async def take_in(
    conn: Connection,
    message: InboundMessage,
    *,
    delivery_id: int,
    regions: RegionFinder,
    rules: SlaRules,
    now: datetime,
    duplicates: Search | None = None,
) -> Taken:
    # A platform's clock ahead of ours never puts a complaint in the future.
    at = min(message.posted_at, now)
    decision = await route(conn, message, at)
    located = regions.locate(message.text, message.location)
    data: dict[str, Any] = {
        "routing": decision.route.value,
        "routingReason": decision.reason.value,
        "addressedAccount": decision.account,
        "regionSource": located.source.value,
        "kind": message.kind.value,
        "postedAt": message.posted_at.isoformat(),
        "deliveryId": delivery_id,
    }
    contact = None
    if message.platform not in GENERIC:
        # Where the citizen is answered, from the SUBMITTED event on.
        public = message.kind in (Kind.MENTION, Kind.COMMENT)
        contact = replies_db.Contact(message.platform.value, dict(message.reply_to), public)
    submitted = await workflow.submit(
        conn,
        submission(message, located.code),
        actor=ACTOR,
        at=at,
        data=data,
        contact=contact,
        duplicates=duplicates,
    )
    if not submitted.created:
        return Taken([], created=False)
    assert submitted.event is not None
    events = [submitted.event]
    if decision.route is Route.OPD:
        assigned = await workflow.assign(
            conn,
            submitted.complaint.id,
            workflow.CommandContext(actor=ACTOR, at=at, rules=rules),
            opd_id=decision.opd_id,
            category_code=None,
            note=_assignment_note(decision),
        )
        assert assigned.event is not None
        events.append(assigned.event)
    return Taken(events, created=True)
