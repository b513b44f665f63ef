"""Synthetic complaints for the bulk loader: a year of intake with whole, consistent timelines.

Each complaint gets a destiny (dispatch, first response, resolution, confirmation) drawn from
its OPD's habits; the SLA marks follow from it by the sweeper's own rules (`domain.sla`), and
everything later than `now` is cut off, so a young complaint is simply still open. The rows are
plain tuples in the column order of `COMPLAINT_COLUMNS` and `EVENT_COLUMNS`, ready for COPY.
Events leave in time order across complaints, so event ids (the subscription cursors) grow with
`occurred_at` as they do in a live log.
"""

import bisect
import itertools
import math
import random
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

from kilas import _demo_texts as t
from kilas.demo import CHANNEL_WEIGHTS
from kilas.domain.sla import ESCALATION_TARGETS, SWEEPER_ACTOR, SlaRules
from kilas.packs import DEFAULT_PACK, load_pack

COMPLAINT_COLUMNS = (
    "id", "tracking_number", "channel", "external_ref", "reporter_name", "reporter_contact",
    "reporter_handle", "anonymous", "confidential", "text", "category_code", "region_code", "lat",
    "lon", "status", "opd_id", "sla_policy_id", "assigned_at", "response_due_at",
    "resolution_due_at", "first_response_at", "resolved_at", "closed_at", "rating",
    "rating_comment", "rejection_reason", "duplicate_of_id", "version", "created_at",
    "updated_at", "response_at_risk_at", "response_breached_at", "resolution_at_risk_at",
    "resolution_breached_at", "escalation_level", "escalated_at",
)  # fmt: skip
EVENT_COLUMNS = (
    "id", "complaint_id", "type", "from_status", "to_status", "opd_id", "region_code",
    "category_code", "actor", "note", "data", "version", "occurred_at", "recorded_at",
)  # fmt: skip

HOUR = 3600.0
WIB = 7 * HOUR
WARGA, OPERATOR = "synthetic:warga", "synthetic:operator"
REJECTED_SHARE = 0.11
# Central Java's demo: its districts, reporters' names and the regions that send the most.
DEMO = load_pack(DEFAULT_PACK).demo
assert DEMO is not None
# Intake by WIB hour of day (people write in the morning and the evening) and weekday (Mon=0).
HOURLY = (2, 1, 1, 1, 2, 4, 7, 9, 10, 10, 9, 8, 8, 8, 7, 7, 7, 8, 9, 10, 10, 8, 5, 3)
WEEKLY = (1.15, 1.1, 1.05, 1.0, 0.95, 0.75, 0.7)
_CATEGORISED = {"WEB", "APP", "NATIONAL", "HOTLINE", "WALK_IN"}
_GROUP = {
    "X": "SOCIAL", "INSTAGRAM": "SOCIAL", "FACEBOOK": "SOCIAL", "WHATSAPP": "CHAT", "SMS": "CHAT",
}  # fmt: skip
_NO_REF = {"HOTLINE", "WALK_IN"}
# Weighted draws as pools for rng.choice, which is several times cheaper than rng.choices.
_REJECTIONS = ("SPAM",) * 2 + ("INCOMPLETE",) * 3 + ("NOT_OUR_AUTHORITY",) * 3 + ("DUPLICATE",) * 3
_MORE_FOLLOW_UPS = (0,) * 11 + (1,) * 6 + (2,) * 3
_MOOD_ON_TIME = (1,) * 2 + (2,) * 3 + (3,) * 10 + (4,) * 33 + (5,) * 52
_MOOD_LATE = (1,) * 12 + (2,) * 18 + (3,) * 30 + (4,) * 26 + (5,) * 14


@dataclass(frozen=True)
class Reference:
    """What the generator needs from the database's reference tables."""

    regions: list[dict[str, Any]]  # code, name, type, seat, seat_lat, seat_lon
    category_opd: dict[str, int]
    opd_slugs: dict[int, str]
    policy_id: int
    response_hours: int
    resolution_hours: dict[str, int]  # per category, under the policy


@dataclass(frozen=True)
class _Habits:
    late_share: float  # first responses that miss the 1x24 h deadline
    response_shape: float  # above 1: on-time responses come early in the 24 hours
    work_factor: float  # resolution time as a share of the category's deadline


class Generator:
    def __init__(
        self,
        ref: Reference,
        *,
        count: int,
        now: datetime,
        first_complaint_id: int,
        first_event_id: int,
        seed: int = 3300,
        days: int = 365,
        rules: SlaRules | None = None,
    ) -> None:
        self.ref, self.count, self.now = ref, count, now.timestamp()
        self.next_complaint_id, self.next_event_id = first_complaint_id, first_event_id
        self.days, self.rng = days, random.Random(seed)
        rules = rules or SlaRules()
        self.at_risk_share = rules.at_risk_share
        self.escalation_delays = [d.total_seconds() for d in rules.escalation_delays]
        self.auto_close = rules.auto_close_after.total_seconds()
        self.regions = ref.regions
        self.region_weights = [DEMO.weights.get(r["code"], 1.0) for r in ref.regions]
        self.categories = [c for c in t.CATEGORY_WEIGHTS if c in ref.category_opd]
        self.category_weights = [t.CATEGORY_WEIGHTS[c] for c in self.categories]
        self.channels = [str(c) for c in CHANNEL_WEIGHTS]
        self.channel_weights = list(CHANNEL_WEIGHTS.values())
        self.habits = {opd: self._habits() for opd in sorted(ref.opd_slugs)}
        self.texts = {
            (r["code"], c): [self._text(r, c) for _ in range(4)]
            for r in ref.regions
            for c in self.categories
        }
        # Recent complaint ids per category: what a duplicate duplicates.
        self.recent: dict[str, deque[int]] = {c: deque(maxlen=64) for c in t.TEMPLATES}
        self.pending: list[tuple[Any, ...]] = []

    def _habits(self) -> _Habits:
        rng = self.rng
        return _Habits(rng.uniform(0.02, 0.2), rng.uniform(1.0, 3.0), rng.uniform(0.25, 0.9))

    def _context(self, region: dict[str, Any]) -> dict[str, str]:
        rng, seat = self.rng, region["seat"]
        kota = region["type"] == "KOTA"
        other = rng.choice([r["seat"] for r in self.regions if r["seat"] != seat])
        return {
            "seat": seat,
            "kec": rng.choice(DEMO.places[region["code"]]),
            "region": f"{'Kota' if kota else 'Kabupaten'} {region['name']}",
            "road": f"{seat}–{other}",
            "km": str(rng.randint(2, 30)),
            "school": f"{rng.choice(('SMA', 'SMK'))} Negeri {rng.randint(1, 3)} {seat}",
            "province": "Jateng",
        }

    def _text(self, region: dict[str, Any], category: str) -> tuple[str, ...]:
        """(core text, resolution, first follow-up, a not-our-authority text and its note)."""
        rng, ctx = self.rng, self._context(region)
        core, resolution = (s.format(**ctx) for s in rng.choice(t.TEMPLATES[category]))
        follow_up = rng.choice(t.FOLLOW_UPS.get(category, t.FOLLOW_UPS[""])).format(**ctx)
        foreign, foreign_note = (s.format(**ctx) for s in rng.choice(t.NOT_OUR_AUTHORITY))
        return core, resolution, follow_up, foreign, foreign_note

    def _created_times(self) -> list[float]:
        """Sorted submission times over the last `days`, with daily, weekly and growth shape."""
        hours = self.days * 24
        start = self.now - hours * HOUR
        weights = []
        for h in range(hours):
            wib = datetime.fromtimestamp(start + h * HOUR + WIB, UTC)
            weights.append(HOURLY[wib.hour] * WEEKLY[wib.weekday()] * (0.8 + 0.4 * h / hours))
        rng = self.rng
        picks = rng.choices(range(hours), weights, k=self.count)
        return sorted(start + (h + rng.random()) * HOUR for h in picks)

    def chunks(self, size: int) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
        """(complaint rows, event rows) of up to `size` complaints each; the events of a chunk
        belong to complaints of that chunk or earlier ones."""
        created = self._created_times()
        rng = self.rng
        for lo in range(0, self.count, size):
            times = created[lo : lo + size]
            n = len(times)
            regions = rng.choices(range(len(self.regions)), self.region_weights, k=n)
            categories = rng.choices(self.categories, self.category_weights, k=n)
            channels = rng.choices(self.channels, self.channel_weights, k=n)
            complaints = [
                self._complaint(ts, self.regions[r], cat, ch)
                for ts, r, cat, ch in zip(times, regions, categories, channels, strict=True)
            ]
            # No later complaint has an event before its own submission.
            last = lo + size >= self.count
            yield complaints, self._due_events(math.inf if last else created[lo + size])

    def _due_events(self, before: float) -> list[tuple[Any, ...]]:
        pending = self.pending
        pending.sort(key=itemgetter(0))
        cut = bisect.bisect_left(pending, before, key=itemgetter(0))
        due, self.pending = pending[:cut], pending[cut:]
        first = self.next_event_id
        self.next_event_id += len(due)
        return [(first + i, *e[1:], e[-1]) for i, e in enumerate(due)]

    def _reporter(self, channel: str, seat: str) -> tuple[Any, ...]:
        """(name, contact, handle, anonymous, confidential)."""
        rng = self.rng
        if rng.random() < (0.25 if channel == "NATIONAL" else 0.07):
            return None, None, None, True, False
        confidential = rng.random() < 0.04
        name = rng.choice(DEMO.names)
        if channel in ("X", "INSTAGRAM"):
            handle = f"@{name.split()[0].lower()}_{seat.lower()}{rng.randint(1, 99)}"
            return None, None, handle, False, confidential
        if channel == "FACEBOOK":
            return name, None, name.lower().replace(" ", "."), False, confidential
        contact = f"08{rng.choice('1257')}{rng.randrange(10**8, 10**9)}"
        # Some chat messages come from a number alone.
        named = _GROUP.get(channel) != "CHAT" or rng.random() >= 0.3
        return name if named else None, contact, None, False, confidential

    def _complaint(
        self, created: float, region: dict[str, Any], category: str, channel: str
    ) -> tuple[Any, ...]:
        rng, cid = self.rng, self.next_complaint_id
        self.next_complaint_id += 1
        code = region["code"]
        core, resolution, first_note, foreign, foreign_note = rng.choice(self.texts[code, category])
        group = _GROUP.get(channel, "FORMAL")
        opener = "" if channel in _NO_REF else rng.choice(t.OPENERS[group])
        closer = rng.choice(t.CLOSERS)
        given = category if channel in _CATEGORISED else None
        opd = self.ref.category_opd[category]
        # (moment, kind, note, data, value): the whole destiny, cut at `now` below.
        timeline: list[tuple[Any, ...]] = [
            (created, "SUBMITTED", None, f'{{"channel": "{channel}"}}', None)
        ]
        reason = duplicate_of = None
        dues: tuple[datetime | None, datetime | None] = (None, None)
        if rng.random() < REJECTED_SHARE:
            reason = rng.choice(_REJECTIONS)
            recent = self.recent[category]
            if reason == "DUPLICATE" and not recent:
                reason = "INCOMPLETE"
            note = t.REJECTION_NOTES.get(reason)
            if reason == "DUPLICATE":
                duplicate_of = rng.choice(recent)
                text = opener + rng.choice(t.DUPLICATE_OPENERS) + core + closer
                note = t.REJECTION_NOTES["DUPLICATE"].format(ticket=f"SYN-{duplicate_of:08d}")
            elif reason == "NOT_OUR_AUTHORITY":
                text, note, given = opener + foreign, foreign_note, None
            else:
                text, given = rng.choice(t.SPAM if reason == "SPAM" else t.INCOMPLETE), None
            decided = created + (0.3 + 11.7 * rng.random() ** 2) * HOUR
            data = f'{{"reason": "{reason}", "duplicate_of_id": {duplicate_of or "null"}}}'
            timeline.append((decided, "REJECTED", note, data, None))
        else:
            self.recent[category].append(cid)
            text = opener + core + closer
            handling, dues = self._handling(created, opd, category, resolution, first_note)
            timeline += handling
        now = self.now
        timeline = sorted((e for e in timeline if e[0] <= now), key=itemgetter(0))

        status, cat, opd_now, version = "RECEIVED", given, None, 0
        before: str | None
        assigned: datetime | None = None
        first_response = resolved = closed = escalated = assigned
        rating = comment = None
        marks: dict[str, datetime] = {}
        level = 0
        slug = f"synthetic:{self.ref.opd_slugs[opd]}"
        pending = self.pending
        for ts, kind, note, data, value in timeline:
            version += 1
            before, at, actor = status, datetime.fromtimestamp(ts, UTC), SWEEPER_ACTOR
            if kind == "SUBMITTED":
                before, actor, created_at = None, WARGA, at
            elif kind == "ASSIGNED":
                status, cat, opd_now, assigned, actor = "ASSIGNED", category, opd, at, OPERATOR
            elif kind == "FOLLOWED_UP":
                status, actor = "IN_PROGRESS", slug
                first_response = first_response or at
            elif kind == "RESOLVED":
                status, resolved, actor = "RESOLVED", at, slug
            elif kind == "CONFIRMED":
                status, closed, rating, comment, actor = "CLOSED", at, value, note, WARGA
            elif kind == "CLOSED":
                status, closed, actor = "CLOSED", at, OPERATOR
            elif kind == "AUTO_CLOSED":
                status, closed = "CLOSED", at
            elif kind == "REJECTED":
                status, actor = "REJECTED", OPERATOR
            elif kind == "ESCALATED":
                level, escalated = value, at
            else:  # an SLA mark: value names the column it sets
                marks[value] = at
            pending.append(
                (ts, cid, _TYPE.get(kind, kind), before, status, opd_now, code, cat, actor, note,
                 data, version, at)
            )  # fmt: skip
        rejected = status == "REJECTED"
        lat = lon = None
        if rng.random() < (0.7 if channel == "APP" else 0.3):
            lat = round(region["seat_lat"] + rng.gauss(0, 0.03), 5)
            lon = round(region["seat_lon"] + rng.gauss(0, 0.03), 5)
        if assigned is None:  # not yet assigned at `now`
            dues = (None, None)
        return (
            cid, f"SYN-{cid:08d}", channel, None if channel in _NO_REF else f"SYN-{cid}",
            *self._reporter(channel, region["seat"]), text, cat, code, lat, lon, status, opd_now,
            None if assigned is None else self.ref.policy_id, assigned, *dues, first_response,
            resolved, closed, rating, comment, reason if rejected else None,
            duplicate_of if rejected else None, version, created_at, at,
            marks.get("response_at_risk_at"), marks.get("response_breached_at"),
            marks.get("resolution_at_risk_at"), marks.get("resolution_breached_at"), level,
            escalated,
        )  # fmt: skip

    def _handling(
        self, created: float, opd: int, category: str, resolution: str, first_note: str
    ) -> tuple[list[tuple[Any, ...]], tuple[datetime, datetime]]:
        """Disposition, the OPD's work, the reporter's answer and the sweeper's marks; and the
        two deadlines."""
        rng, habits = self.rng, self.habits[opd]
        assigned = created + (0.1 + 11.9 * rng.random() ** 2) * HOUR
        response_due = assigned + self.ref.response_hours * HOUR
        resolution_due = assigned + self.ref.resolution_hours[category] * HOUR
        dues = (
            datetime.fromtimestamp(response_due, UTC),
            datetime.fromtimestamp(resolution_due, UTC),
        )
        response_iso, resolution_iso = dues[0].isoformat(), dues[1].isoformat()
        u = rng.random()
        first: float | None = None  # a few complaints are never answered at all
        if u < 0.008 + habits.late_share:
            first = response_due + (0.05 + 72 * rng.random() ** 1.5) * HOUR if u >= 0.008 else None
        else:
            spread = (response_due - assigned - 0.3 * HOUR) * rng.random() ** habits.response_shape
            first = assigned + 0.2 * HOUR + spread
        resolved = None
        if first is not None and rng.random() >= 0.02:
            work = (resolution_due - assigned) * habits.work_factor * (0.05 + 2 * rng.random() ** 2)
            resolved = max(first + (0.5 + 5 * rng.random()) * HOUR, assigned + work)
        data = f'{{"response_due_at": "{response_iso}", "resolution_due_at": "{resolution_iso}"}}'
        out: list[tuple[Any, ...]] = [
            (assigned, "ASSIGNED", rng.choice(t.ASSIGN_NOTES) or None, data, None)
        ]
        if first is not None:
            out.append((first, "FOLLOWED_UP", first_note, "{}", None))
            end = resolved if resolved is not None else first + 14 * 24 * HOUR
            for _ in range(rng.choice(_MORE_FOLLOW_UPS)):
                later = rng.choice(t.LATER_FOLLOW_UPS)
                out.append((rng.uniform(first, end), "FOLLOWED_UP", later, "{}", None))
        if resolved is not None:
            out.append((resolved, "RESOLVED", resolution, "{}", None))
            late = first is not None and (first > response_due or resolved > resolution_due)
            v = rng.random()
            if v < 0.70:
                stars = rng.choice(_MOOD_LATE if late else _MOOD_ON_TIME)
                comment = rng.choice(t.RATING_COMMENTS[stars]) if rng.random() < 0.6 else None
                at = resolved + (0.5 + 70 * rng.random() ** 2) * HOUR
                out.append((at, "CONFIRMED", comment, f'{{"rating": {stars}}}', stars))
            elif v < 0.76:
                at = resolved + (2 + 60 * rng.random()) * HOUR
                out.append((at, "CLOSED", rng.choice(t.CLOSE_NOTES), "{}", None))
            else:
                out.append((resolved + self.auto_close, "AUTO_CLOSED", None, "{}", None))
        answered = math.inf if first is None else first
        held = math.inf if resolved is None else resolved
        # What the sweeper records while the OPD holds the complaint (see `domain.sla`).
        unmet = []  # (breached, answered) per breached clock
        for clock, due, iso, stop in (
            ("response", response_due, response_iso, answered),
            ("resolution", resolution_due, resolution_iso, held),
        ):
            data = f'{{"clock": "{clock.upper()}", "due_at": "{iso}"}}'
            risky = due - (due - assigned) * self.at_risk_share
            if stop > risky:
                out.append((risky, "AT_RISK", None, data, f"{clock}_at_risk_at"))
            if stop > due:
                out.append((due, "BREACHED", None, data, f"{clock}_breached_at"))
                unmet.append((due, stop))
        out += self._escalations(unmet)
        return out, dues

    def _escalations(self, unmet: list[tuple[float, float]]) -> list[tuple[Any, ...]]:
        """Escalation climbs while a breach is unmet: level n+1 comes its delay after level n,
        or after the oldest breach still unmet if that is later."""
        out: list[tuple[Any, ...]] = []
        level, escalated = 0, -math.inf
        moments = sorted({m for pair in unmet for m in pair})
        for start, end in itertools.pairwise(moments):
            breaches = [b for b, answered in unmet if b <= start < answered]
            while breaches and level < len(self.escalation_delays):
                at = max(escalated, min(breaches)) + self.escalation_delays[level]
                if at > end:
                    break
                level, escalated = level + 1, max(at, start)
                out.append((escalated, "ESCALATED", None, _ESCALATED[level], level))
        return out


_TYPE = {"AT_RISK": "SLA_AT_RISK", "BREACHED": "SLA_BREACHED"}
_ESCALATED = {
    level: f'{{"level": {level}, "target": "{target}"}}'
    for level, target in ESCALATION_TARGETS.items()
}
