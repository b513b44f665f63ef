"""What the simulator does with each complaint: its submission (a realistic Indonesian text from
a channel, with the demo's place names and reporters) and the lifecycle steps that follow, from
a seeded random generator alone, so that a seed replays the same stream."""

import random
import re
from dataclasses import dataclass, field
from typing import Any

from kilas import _demo_texts as t
from kilas import demo
from kilas._simulate_messages import Accounts, Message, Route, accounts, reporter
from kilas.db.reference import RegionRow
from kilas.packs.model import Account as PackAccount

# The demo's own weights, place names and reporters, so that a simulated complaint reads like a
# loaded one.
CHANNEL_WEIGHTS, _pick, _context = demo.CHANNEL_WEIGHTS, demo.pick, demo.context

CHANNELS = [channel.value for channel in CHANNEL_WEIGHTS]
SOCIAL, CHAT = {c.value for c in demo.SOCIAL}, {c.value for c in demo.CHAT}
CATEGORISED = {c.value for c in demo.CATEGORISED}
REJECTIONS = {"SPAM": 2, "INCOMPLETE": 3, "NOT_OUR_AUTHORITY": 3, "DUPLICATE": 3}
# Why an OPD hands on a message its account received about another OPD's matter.
NOT_OURS = "Aduan ke akun kami ini bukan kewenangan kami; diteruskan ke OPD yang menangani."
# The accounts a tweet names first, which a repeat of its words through the API leaves out.
MENTIONS = re.compile(r"^(?:@\w+\s+)+")


@dataclass(frozen=True)
class Step:
    """One lifecycle mutation; `input` lacks complaintId and expectedVersion, which the
    simulator adds. `opd` (a reassignment's OPD slug), `duplicate_of` (a case number) and
    `link` (link the region's work item) are resolved when the step runs."""

    mutation: str
    input: dict[str, Any] = field(default_factory=dict)
    opd: str | None = None
    duplicate_of: int | None = None
    link: bool = False


@dataclass
class Case:
    """One complaint the simulator drives."""

    n: int
    category: str | None
    region_code: str
    steps: list[Step]
    submission: dict[str, Any] | None = None  # None: adopted, already on the server
    message: Message | None = None  # delivered through a platform's webhook when it can be
    id: str | None = None
    version: int | None = None
    tracking_number: str = ""
    status: str = "RECEIVED"


@dataclass
class Planner:
    rng: random.Random
    regions: dict[str, RegionRow]  # by code
    neighbours: dict[str, list[str]]  # code -> the two nearest other seats
    category_opds: dict[str, str]  # category code -> default OPD slug
    work_item_regions: frozenset[str]  # regions with a Jalan Cantik work item
    tag: str  # makes external references unique to this run
    locale: demo.Locale  # the pack's place names and reporters
    accounts: Accounts | None = None  # whom citizens write to on the platforms
    channel_share: float = 0.0  # of new complaints, the share sent as platform messages
    made: int = 0
    submitted: int = 0  # complaints planned for the API
    recent: list[Case] = field(default_factory=list)  # for duplicates to repeat

    def channel(self) -> str:
        # Every channel within the first ten submissions, then by the demo's weights.
        self.submitted += 1
        if self.submitted <= len(CHANNELS):
            order = CHANNELS[:]
            random.Random(self.tag).shuffle(order)
            return order[self.submitted - 1]
        return _pick(self.rng, CHANNEL_WEIGHTS).value

    def route(self) -> Route | None:
        """Where a new complaint's message goes, for the share of them sent as messages."""
        if self.accounts is None or not self.channel_share:
            return None
        return self.accounts.route(self.rng) if self.rng.random() < self.channel_share else None

    def new_case(self) -> Case:
        rng = self.rng
        self.made += 1
        route = self.route()
        n, channel = self.made, route.platform if route else self.channel()
        category = _pick(rng, (route and route.categories) or t.CATEGORY_WEIGHTS)
        code = _pick(rng, {c: self.locale.weights.get(c, 1.0) for c in self.regions})
        ctx = _context(rng, self.regions[code], self.neighbours[code], self.locale)
        core, resolution = (s.format(**ctx) for s in rng.choice(t.TEMPLATES[category]))
        reason = _pick(rng, REJECTIONS) if rng.random() < 0.1 else None
        if route is not None and route.kind == "OPD":
            reason = None  # assigned at once: there is nothing left to reject
        original = self._original(category) if reason == "DUPLICATE" else None
        if reason == "DUPLICATE" and original is None:
            reason = "INCOMPLETE"
        steps: list[Step] = []
        given = category if channel in CATEGORISED else None
        if reason is not None:
            core, note, given = self._rejected(reason, ctx, original)
            if original is not None:
                code, given = original.region_code, None
            steps = [Step("rejectComplaint", {"reason": reason, "note": note},
                          duplicate_of=original.n if original else None)]  # fmt: skip
        else:
            wrong = t.REASSIGN.get(category, ("", "")) if rng.random() < 0.07 else ("", "")
            if self.category_opds.get(wrong[0]) == self.category_opds.get(category):
                wrong = ("", "")  # one OPD handles both in this province: nothing to hand on
            if wrong[0] and given:
                given = wrong[0]  # the reporter's wrong pick on the form
            steps = self._lifecycle(category, code, ctx, resolution, wrong)
        case = Case(n, category if reason is None else None, code, steps)
        governor = route is None or route.kind == "PROVINCE"
        case.submission = self._submission(n, channel, code, core, reason, given, governor)
        if route is not None and self.accounts is not None:
            submission = case.submission
            location = submission.get("location")
            case.message = message = self.accounts.message(
                rng, route, f"{self.tag}:{n}", submission["text"], self.regions[code].seat,
                (location["lat"], location["lon"]) if location else None,
                f"{ctx['kec']}, {ctx['region']}" if reason is None else None,
            )  # fmt: skip
            # Should the message not be delivered, the same complaint through the API.
            submission |= {"text": message.text, "reporter": reporter(message)}
            submission |= {"anonymous": False, "confidential": False}
        if reason is None:
            self.recent = [*self.recent[-30:], case]
        return case

    def _original(self, category: str) -> Case | None:
        candidates = [c for c in self.recent if c.category == category and c.id]
        return self.rng.choice(candidates) if candidates else None

    def _rejected(
        self, reason: str, ctx: dict[str, str], original: Case | None
    ) -> tuple[str, str, str | None]:
        rng = self.rng
        if original is not None and original.submission is not None:
            text = MENTIONS.sub("", str(original.submission["text"]))
            return rng.choice(t.DUPLICATE_OPENERS) + text, t.REJECTION_NOTES["DUPLICATE"], None
        if reason == "NOT_OUR_AUTHORITY":
            core, note = (s.format(**ctx) for s in rng.choice(t.NOT_OUR_AUTHORITY))
            return core, note, None
        texts = t.SPAM if reason == "SPAM" else t.INCOMPLETE
        return rng.choice(texts), t.REJECTION_NOTES[reason], None

    def _lifecycle(
        self,
        category: str,
        code: str,
        ctx: dict[str, str],
        resolution: str,
        wrong: tuple[str, str],
    ) -> list[Step]:
        """Disposition, follow-ups, resolution and the reporter's answer; some complaints are
        left unanswered (the SLA sweeper breaches them later) or still in progress."""
        rng = self.rng
        steps: list[Step] = []
        if wrong[0]:
            steps.append(Step("assignComplaint", {"categoryCode": wrong[0]}))
            steps.append(Step("reassignComplaint", {"reason": wrong[1]},
                              opd=self.category_opds[category]))  # fmt: skip
        else:
            note = rng.choice(t.ASSIGN_NOTES) or None
            steps.append(Step("assignComplaint", {"categoryCode": category, "note": note}))
        if rng.random() < 0.12:
            return steps
        first = rng.choice(t.FOLLOW_UPS.get(category, t.FOLLOW_UPS[""])).format(**ctx)
        steps.append(Step("recordFollowUp", {"message": first}))
        if category == "JALAN" and code in self.work_item_regions and rng.random() < 0.75:
            steps.append(Step("linkComplaintToWorkItem", link=True))
            steps.append(Step("recordFollowUp", {"message": t.LINKED_FOLLOW_UP}))
        if rng.random() < 0.3:
            steps.append(Step("recordFollowUp", {"message": rng.choice(t.LATER_FOLLOW_UPS)}))
        if rng.random() < 0.1:
            return steps
        steps.append(Step("resolveComplaint", {"resolution": resolution}))
        reopened = rng.random() < 0.12
        if reopened:
            steps.append(Step("reopenComplaint", {"reason": rng.choice(t.REOPEN_REASONS)}))
            steps.append(Step("recordFollowUp", {"message": t.REOPEN_FOLLOW_UP}))
            steps.append(Step("resolveComplaint", {"resolution": resolution}))
        return steps + self.answer(reopened)

    def answer(self, reopened: bool = False) -> list[Step]:
        """The reporter rates, or an operator closes; a few are left to close by themselves."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.75:
            mood = {1: 3, 2: 4, 3: 10, 4: 30, 5: 53} if not reopened else {2: 20, 3: 35, 4: 30}
            rating = _pick(rng, mood)
            comment = rng.choice(t.RATING_COMMENTS[rating]) if rng.random() < 0.6 else None
            return [Step("confirmResolution", {"rating": rating, "comment": comment})]
        if roll < 0.93:
            return [Step("closeComplaint", {"note": rng.choice(t.CLOSE_NOTES)})]
        return []

    def adopted(self, node: dict[str, Any]) -> Case | None:
        """A complaint already open on the server (the demo's backlog), to carry on with."""
        rng, status = self.rng, node["status"]
        category = (node.get("category") or {}).get("code")
        steps: list[Step] = []
        if status == "RECEIVED" and category:
            steps = [Step("assignComplaint", {"categoryCode": category})]
        if status in ("RECEIVED", "ASSIGNED") and category:
            steps.append(Step("recordFollowUp", {"message": rng.choice(t.FOLLOW_UPS[""])}))
        if status in ("RECEIVED", "ASSIGNED", "IN_PROGRESS") and category:
            steps.append(Step("resolveComplaint", {"resolution": "Penanganan sudah selesai."}))
        if status == "RESOLVED" and rng.random() < 0.15:
            steps += [
                Step("reopenComplaint", {"reason": rng.choice(t.REOPEN_REASONS)}),
                Step("recordFollowUp", {"message": t.REOPEN_FOLLOW_UP}),
                Step("resolveComplaint", {"resolution": "Penanganan ulang sudah selesai."}),
            ]
        if not steps and status != "RESOLVED":
            return None
        self.made += 1
        case = Case(self.made, category, node["region"]["code"], steps + self.answer())
        case.id, case.version, case.status = node["id"], node["version"], status
        return case

    def arrived(self, case: Case, status: str, opd: str | None) -> None:
        """A message's complaint as intake left it: in the queue (RECEIVED), the operator
        assigns it as planned; assigned at once to the account's OPD, that OPD takes it on,
        or hands it to the category's when it is not its matter."""
        if status != "ASSIGNED":
            return
        steps = case.steps
        if steps and steps[0].mutation == "rejectComplaint":
            case.steps = []  # an OPD holds it now: not the operator's to reject
            return
        while steps and steps[0].mutation in ("assignComplaint", "reassignComplaint"):
            steps.pop(0)
        right = self.category_opds.get(case.category or "")
        if right is not None and right != opd:
            steps.insert(0, Step("reassignComplaint", {"reason": NOT_OURS}, opd=right))

    def _submission(
        self,
        n: int,
        channel: str,
        code: str,
        core: str,
        reason: str | None,
        category: str | None,
        governor: bool = True,
    ) -> dict[str, Any]:
        rng, region = self.rng, self.regions[code]
        group = "SOCIAL" if channel in SOCIAL else "CHAT" if channel in CHAT else "FORMAL"
        decorated = reason not in ("SPAM", "INCOMPLETE")
        opener = ""
        if decorated and channel not in ("HOTLINE", "WALK_IN"):
            # "Lapor, Pak Gubernur" suits a message to the governor, not one to an OPD.
            openers = [o for o in t.OPENERS[group] if governor or "Gubernur" not in o]
            opener = rng.choice(openers)
        repair = reason in (None, "DUPLICATE") and (category or "") in t.REPAIR_CATEGORIES
        closers = t.CLOSERS + (t.REPAIR_CLOSERS if repair else ())
        text = opener + core + (rng.choice(closers) if decorated else "")
        submission: dict[str, Any] = {
            "channel": channel,
            "text": text,
            "regionCode": code,
            "categoryCode": category,
            "externalRef": f"sim-{self.tag}-{n:05d}",
        }
        if rng.random() < (0.7 if channel == "APP" else 0.3):
            submission["location"] = {
                "lat": round(region.seat_lat + rng.gauss(0, 0.03), 5),
                "lon": round(region.seat_lon + rng.gauss(0, 0.03), 5),
            }
        who = demo.reporter(rng, _channel(channel), region.seat, self.locale.names)
        submission["anonymous"] = bool(who.get("anonymous"))
        submission["confidential"] = bool(who.get("confidential"))
        if not submission["anonymous"]:
            submission["reporter"] = {
                "name": who.get("reporter_name"),
                "contact": who.get("reporter_contact"),
                "handle": who.get("reporter_handle"),
            }
        return submission


def _channel(value: str) -> Any:
    return next(c for c in CHANNEL_WEIGHTS if c.value == value)


def planner(
    rng: random.Random,
    reference: dict[str, Any],
    tag: str,
    locale: demo.Locale,
    pack_accounts: tuple[PackAccount, ...] = (),
    channel_share: float = 0.0,
) -> Planner:
    """A planner for the regions, categories, work items and accounts the server answered
    with; `channel_share` of its new complaints are platform messages."""
    # The demo's place names read a region as the database holds it.
    regions = {
        r["code"]: RegionRow(
            code=r["code"],
            name=r["name"],
            type=r["type"],
            seat=r["seat"],
            seat_lat=r["seatLocation"]["lat"],
            seat_lon=r["seatLocation"]["lon"],
        )
        for r in reference["regions"]
    }
    programme = reference.get("programme") or {"workItems": []}
    category_opds = {c["code"]: c["defaultOpd"]["slug"] for c in reference["categories"]}
    return Planner(
        rng=rng,
        regions=regions,
        neighbours=demo.nearest_seats(list(regions.values())),
        category_opds=category_opds,
        work_item_regions=frozenset(w["region"]["code"] for w in programme["workItems"]),
        tag=tag,
        locale=locale,
        accounts=(
            accounts(reference["opds"], category_opds, pack_accounts, locale.names)
            if channel_share
            else None
        ),
        channel_share=channel_share,
    )
