"""Realistic demo data for a province pack's demo (packs/<name>/demo/): its programmes (Central
Java's road programmes Jateng Tanpa Lubang and Jalan Cantik) with located work items, its heads
and official accounts, and about 300 complaints from the last weeks with their whole timelines,
written with its place names.

Everything goes through the domain commands, so the demo exercises the same rules, deadlines and
event log as live traffic. The complaints are planned from a fixed seed, relative to a moment
that is only fixed when they are written: loading again later makes the same plans, and
(channel, external_ref) intake skips every complaint already there, so nothing is duplicated.
"""

import logging
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

import asyncpg

from kilas import _demo_texts as t
from kilas.db import programmes as programmes_db
from kilas.db import reference as reference_db
from kilas.db.pool import connect
from kilas.domain import admin, workflow
from kilas.domain.lifecycle import Channel, RejectionReason, Status
from kilas.packs import Pack, PackError
from kilas.packs.apply import add_accounts, add_heads
from kilas.packs.model import Demo as PackDemo

log = logging.getLogger("kilas.demo")
K = TypeVar("K")

SEED = 3300
COMPLAINTS = 300
DAYS = 45
WARGA, OPERATOR = "demo:warga", "demo:operator"
# Serialises concurrent loads (several workers starting with KILAS_DEMO at once).
_DEMO_LOCK = 0x4B494C44

_AMOUNTS = ("budget_idr", "realisation_idr", "target", "achievement")


def _work_item_name(road: str, km_from: int, km_to: int) -> str:
    return f"Ruas Jalan {road} km {km_from}–{km_to}"


CHANNEL_WEIGHTS = {
    Channel.X: 14, Channel.INSTAGRAM: 10, Channel.FACEBOOK: 8, Channel.WHATSAPP: 20,
    Channel.SMS: 4, Channel.WEB: 12, Channel.APP: 14, Channel.HOTLINE: 8, Channel.WALK_IN: 4,
    Channel.NATIONAL: 6,
}  # fmt: skip
SOCIAL = {Channel.X, Channel.INSTAGRAM, Channel.FACEBOOK}
CHAT = {Channel.WHATSAPP, Channel.SMS}
# Forms and operators record a category at intake; messages get one from the operator.
CATEGORISED = {Channel.WEB, Channel.APP, Channel.NATIONAL, Channel.HOTLINE, Channel.WALK_IN}
_PHONE_PREFIXES = ("0812", "0813", "0821", "0852", "0857", "0878", "0896")

# Final status by the complaint's age in hours: fresh ones are still open, old ones mostly closed.
_OUTCOMES: tuple[tuple[float, dict[Status, float]], ...] = (
    (6, {Status.RECEIVED: 45, Status.ASSIGNED: 30, Status.IN_PROGRESS: 20, Status.REJECTED: 5}),
    (48, {Status.RECEIVED: 15, Status.ASSIGNED: 17, Status.IN_PROGRESS: 35, Status.RESOLVED: 18,
          Status.CLOSED: 7, Status.REJECTED: 8}),
    (240, {Status.ASSIGNED: 5, Status.IN_PROGRESS: 18, Status.RESOLVED: 13, Status.CLOSED: 52,
           Status.REJECTED: 12}),
    (math.inf, {Status.ASSIGNED: 4, Status.IN_PROGRESS: 19, Status.RESOLVED: 4,
                Status.CLOSED: 58, Status.REJECTED: 11}),
)  # fmt: skip
_REJECTIONS = {
    RejectionReason.SPAM: 2,
    RejectionReason.INCOMPLETE: 3,
    RejectionReason.NOT_OUR_AUTHORITY: 3,
    RejectionReason.DUPLICATE: 3,
}


@dataclass(frozen=True)
class Step:
    kind: str  # a workflow command name; "link" links the plan's work item
    hours: float  # after submission
    note: str = ""
    category: str | None = None
    rating: int = 0
    reason: RejectionReason | None = None
    duplicate_of: int = 0  # the plan number of the original


@dataclass
class Plan:
    n: int
    age_hours: float
    outcome: Status
    category: str
    region: reference_db.RegionRow
    core_text: str  # without opener and closer; empty for rejected complaints
    submission: workflow.Submission
    steps: list[Step] = field(default_factory=list)
    work_item: str | None = None


@dataclass(frozen=True)
class Locale:
    """What the texts take from the pack's demo: its districts, roads and reporters' names, and
    the province as people write it ("Pemprov Jateng")."""

    province: str
    places: Mapping[str, tuple[str, ...]]
    weights: Mapping[str, float]  # region code -> how many more complaints than the others
    roads: Mapping[str, tuple[str, int, int]]  # region code -> the work item's road and km
    names: tuple[str, ...]
    category_opds: Mapping[str, str]  # category code -> its default OPD's slug

    @classmethod
    def of(cls, pack: Pack) -> "Locale":
        if pack.demo is None:
            raise PackError(f"pack {pack.key!r} has no demo (its demo/ folder)")
        return cls(
            province=pack.short_name,
            places=pack.demo.places,
            weights=pack.demo.weights,
            roads={r.region: (r.road, r.km_from, r.km_to) for r in pack.demo.roads},
            names=pack.demo.names,
            category_opds={c.code: c.default_opd for c in pack.categories},
        )


def pick(rng: random.Random, weights: Mapping[K, float]) -> K:
    return rng.choices(list(weights), list(weights.values()))[0]


def _spread(rng: random.Random, weights: Mapping[K, float], count: int, each: int) -> list[K]:
    """`count` weighted draws in which every key appears at least `each` times."""
    keys = [k for k in weights for _ in range(each)]
    keys += rng.choices(list(weights), list(weights.values()), k=count - len(keys))
    rng.shuffle(keys)
    return keys


def nearest_seats(regions: list[reference_db.RegionRow]) -> dict[str, list[str]]:
    """The two nearest other seats of each region: the other ends of its roads in the texts."""

    def distance(a: reference_db.RegionRow, b: reference_db.RegionRow) -> float:
        return math.hypot(a.seat_lat - b.seat_lat, a.seat_lon - b.seat_lon)

    return {
        r.code: [
            o.seat
            for o in sorted(regions, key=lambda o: distance(r, o))
            if o.seat != r.seat
        ][:2]
        for r in regions
    }  # fmt: skip


def context(
    rng: random.Random, region: reference_db.RegionRow, neighbours: list[str], locale: Locale
) -> dict[str, str]:
    """Place names for one complaint's texts."""
    seat, kota = region.seat, region.type == "KOTA"
    kec = rng.choice(locale.places.get(region.code) or (seat,))
    if region.code in locale.roads:
        road, km_from, km_to = locale.roads[region.code]
        km = rng.randint(km_from, km_to)
    else:
        road, km = f"{seat}–{rng.choice(neighbours)}", rng.randint(2, 30)
    level = rng.choice(("SMA", "SMA", "SMK"))
    school = (
        f"{level} Negeri 1 {kec}"
        if not kota and rng.random() < 0.5
        else f"{level} Negeri {rng.randint(1, 5 if kota else 3)} {seat}"
    )
    return {
        "seat": seat,
        "kec": kec,
        "region": f"{'Kota' if kota else 'Kabupaten'} {region.name}",
        "road": road,
        "km": str(km),
        "school": school,
        "province": locale.province,
    }


def reporter(
    rng: random.Random, channel: Channel, seat: str, names: tuple[str, ...]
) -> dict[str, Any]:
    if rng.random() < (0.25 if channel is Channel.NATIONAL else 0.07):
        return {"anonymous": True}
    name = rng.choice(names)
    first, *rest = name.lower().split()
    who: dict[str, Any] = {"confidential": rng.random() < 0.04}
    if channel in (Channel.X, Channel.INSTAGRAM):
        handle = rng.choice(
            (f"{first}_{seat}", f"warga_{seat}", f"{first}{''.join(rest)}{rng.randint(10, 99)}")
        )
        return who | {"reporter_handle": "@" + handle.lower()}
    if channel is Channel.FACEBOOK:
        return who | {"reporter_name": name, "reporter_handle": ".".join([first, *rest])}
    contact = f"{rng.choice(_PHONE_PREFIXES)}{rng.randrange(10**7, 10**8)}"
    if channel is Channel.WEB and rng.random() < 0.4:
        contact = f"{'.'.join([first, *rest])}@gmail.com"
    named = channel not in CHAT or rng.random() < 0.7
    return who | {"reporter_name": name if named else None, "reporter_contact": contact}


def _timeline(
    rng: random.Random,
    plan: Plan,
    ctx: dict[str, str],
    resolution: str,
    wrong: tuple[str, str],
    roads: Mapping[str, tuple[str, int, int]],
) -> list[Step]:
    """The commands after submission that lead to the plan's outcome, hours increasing."""
    steps: list[Step] = []
    hours = 0.1 + 11.9 * rng.random() ** 2  # most complaints are dispatched within a few hours

    def add(kind: str, gap: float, **kwargs: Any) -> None:
        nonlocal hours
        hours += gap
        steps.append(Step(kind, hours, **kwargs))

    outcome, category = plan.outcome, plan.category
    if outcome is Status.RECEIVED:
        return steps
    if wrong[0]:
        add("assign", 0, category=wrong[0])
        add("reassign", rng.uniform(1, 8), category=category, note=wrong[1])
    else:
        add("assign", 0, category=category, note=rng.choice(t.ASSIGN_NOTES))
    if outcome is Status.ASSIGNED:
        return steps
    # About one first response in six misses the 1x24 h deadline.
    late = rng.random() < 0.17
    first = rng.choice(t.FOLLOW_UPS.get(category, t.FOLLOW_UPS[""])).format(**ctx)
    add("follow_up", rng.uniform(25, 72) if late else rng.uniform(0.5, 20), note=first)
    road = roads.get(plan.region.code)
    if category == "JALAN" and road is not None and rng.random() < 0.75:
        plan.work_item = _work_item_name(*road)
        add("link", rng.uniform(0.5, 6))
        add("follow_up", rng.uniform(0.5, 4), note=t.LINKED_FOLLOW_UP)
    if rng.random() < 0.35:
        add("follow_up", rng.uniform(12, 72), note=rng.choice(t.LATER_FOLLOW_UPS))
    # A few old complaints still in progress were resolved once and reopened by the reporter.
    reopened = rng.random() < (0.1 if outcome is Status.CLOSED else 0.2)
    if outcome is Status.IN_PROGRESS and not (reopened and plan.age_hours > 240):
        return steps
    add("resolve", rng.uniform(6, 60 if category == "JALAN" else 160), note=resolution)
    if reopened and outcome in (Status.CLOSED, Status.IN_PROGRESS):
        add("reopen", rng.uniform(6, 48), note=rng.choice(t.REOPEN_REASONS))
        add("follow_up", rng.uniform(2, 24), note=t.REOPEN_FOLLOW_UP)
        if outcome is Status.IN_PROGRESS:
            return steps
        add("resolve", rng.uniform(12, 72), note=resolution)
    if outcome is Status.RESOLVED:
        return steps
    if rng.random() < 0.75:
        mood = {1: 3, 2: 4, 3: 10, 4: 30, 5: 53} if not reopened else {2: 20, 3: 35, 4: 30, 5: 15}
        rating = pick(rng, mood)
        comment = rng.choice(t.RATING_COMMENTS[rating]) if rng.random() < 0.6 else ""
        add("confirm", rng.uniform(1, 72), rating=rating, note=comment)
    else:
        add("close", rng.uniform(72, 120), note=rng.choice(t.CLOSE_NOTES))
    return steps


def _plan(
    rng: random.Random,
    n: int,
    age: float,
    channel: Channel,
    category: str,
    region: reference_db.RegionRow,
    neighbours: list[str],
    earlier: list[Plan],
    locale: Locale,
) -> Plan:
    outcome = pick(rng, next(weights for limit, weights in _OUTCOMES if age < limit))
    ctx = context(rng, region, neighbours, locale)
    core, resolution = (s.format(**ctx) for s in rng.choice(t.TEMPLATES[category]))
    reason = pick(rng, _REJECTIONS) if outcome is Status.REJECTED else None
    original: Plan | None = None
    if reason is RejectionReason.DUPLICATE:
        # Duplicates repeat a recent complaint of the same kind that is being handled.
        candidates = [p for p in earlier[-60:] if p.category == category and p.core_text]
        original = rng.choice(candidates) if candidates else None
        reason = RejectionReason.DUPLICATE if original else RejectionReason.INCOMPLETE
    note, opener = "", rng.choice(t.DUPLICATE_OPENERS) if original else ""
    given_category = category if channel in CATEGORISED else None
    if original is not None:
        core, region = original.core_text, original.region
        note = t.REJECTION_NOTES["DUPLICATE"]
    elif reason is RejectionReason.NOT_OUR_AUTHORITY:
        core, note = (s.format(**ctx) for s in rng.choice(t.NOT_OUR_AUTHORITY))
        given_category = None
    elif reason is not None:
        core = rng.choice(t.SPAM if reason is RejectionReason.SPAM else t.INCOMPLETE)
        note, given_category = t.REJECTION_NOTES[reason], None
    wrong = ("", "")
    if outcome not in (Status.RECEIVED, Status.REJECTED) and rng.random() < 0.07:
        wrong = t.REASSIGN.get(category, wrong)
        if locale.category_opds.get(wrong[0]) == locale.category_opds.get(category):
            wrong = ("", "")  # one OPD handles both in this province: nothing to hand on
        if given_category and wrong[0]:
            # The reporter's own wrong pick on the form is the usual reason for a re-disposition.
            given_category = wrong[0]
    group = "SOCIAL" if channel in SOCIAL else "CHAT" if channel in CHAT else "FORMAL"
    decorated = reason not in (RejectionReason.SPAM, RejectionReason.INCOMPLETE)
    if decorated and channel not in (Channel.HOTLINE, Channel.WALK_IN):
        opener = rng.choice(t.OPENERS[group]) + opener
    repair = reason in (None, RejectionReason.DUPLICATE) and category in t.REPAIR_CATEGORIES
    closers = t.CLOSERS + (t.REPAIR_CLOSERS if repair else ())
    text = opener + core + (rng.choice(closers) if decorated else "")
    lat = lon = None
    if rng.random() < (0.7 if channel is Channel.APP else 0.3):
        lat = round(region.seat_lat + rng.gauss(0, 0.03), 5)
        lon = round(region.seat_lon + rng.gauss(0, 0.03), 5)
    media: tuple[str, ...] = ()
    if rng.random() < (0.25 if channel in SOCIAL else 0.08):
        count = rng.randint(1, 3)
        media = tuple(f"https://lampiran.kilas.example/demo/{n:04d}-{k}.jpg" for k in range(count))
    submission = workflow.Submission(
        channel=channel,
        text=text,
        region_code=region.code,
        external_ref=f"demo-{n:04d}",
        category_code=given_category,
        lat=lat,
        lon=lon,
        media_urls=media,
        **reporter(rng, channel, region.seat, locale.names),
    )
    plan = Plan(n, age, outcome, category, region, core if reason is None else "", submission)
    if reason is not None:
        dup = original.n if original else 0
        plan.steps = [Step("reject", rng.uniform(0.3, 8), note, reason=reason, duplicate_of=dup)]
    else:
        plan.steps = _timeline(rng, plan, ctx, resolution, wrong, locale.roads)
    if plan.steps and plan.steps[-1].hours > 0.95 * age:
        # Squeeze the timeline of a young complaint so that nothing happens in the future.
        scale = 0.95 * age / plan.steps[-1].hours
        plan.steps = [replace(s, hours=s.hours * scale) for s in plan.steps]
    return plan


def _plans(regions: list[reference_db.RegionRow], locale: Locale) -> list[Plan]:
    """All complaints, oldest first, from the seed alone: the same on every load."""
    rng = random.Random(SEED)
    by_code = {r.code: r for r in regions}
    neighbours = nearest_seats(regions)
    # Skewed towards recent days, as a live feed looks; none younger than 12 minutes.
    ages = sorted((0.2 + DAYS * 24 * rng.random() ** 1.25 for _ in range(COMPLAINTS)), reverse=True)
    channels = _spread(rng, CHANNEL_WEIGHTS, COMPLAINTS, 3)
    categories = _spread(rng, t.CATEGORY_WEIGHTS, COMPLAINTS, 3)
    region_weights = {code: locale.weights.get(code, 1.0) for code in by_code}
    codes = _spread(rng, region_weights, COMPLAINTS, 1)
    plans: list[Plan] = []
    for i, age in enumerate(ages):
        region = by_code[codes[i]]
        plans.append(
            _plan(rng, i + 1, age, channels[i], categories[i], region, neighbours[region.code],
                  plans, locale)
        )  # fmt: skip
    return plans


@dataclass
class _Loader:
    conn: asyncpg.Connection
    now: datetime
    opd_slugs: dict[int | None, str]
    work_items: dict[str, int]
    # Plan number -> (complaint id, tracking number), for duplicates to point at.
    known: dict[int, tuple[int, str]] = field(default_factory=dict)

    async def play(self, plan: Plan) -> bool:
        """Submit and run one plan's timeline; False when the complaint was already there."""
        conn, submitted = self.conn, self.now - timedelta(hours=plan.age_hours)
        out = await workflow.submit(conn, plan.submission, actor=WARGA, at=submitted)
        row = out.complaint
        self.known[plan.n] = (row.id, row.tracking_number)
        if not out.created:
            return False
        cid = row.id
        for step in plan.steps:
            at, note = submitted + timedelta(hours=step.hours), step.note or None
            opd = f"demo:{self.opd_slugs.get(row.opd_id, 'operator')}"
            by = partial(workflow.CommandContext, at=at, expected_version=row.version)
            if step.kind in ("assign", "reassign"):
                reassign = step.kind == "reassign"
                out = await workflow.assign(
                    conn, cid, by(OPERATOR), opd_id=None, category_code=step.category,
                    note=note, reassign=reassign,
                )  # fmt: skip
            elif step.kind == "follow_up":
                out = await workflow.follow_up(conn, cid, by(opd), message=step.note)
            elif step.kind == "link":
                item = self.work_items.get(plan.work_item or "")
                if item is None:  # the programme was not made by the demo
                    continue
                out = await workflow.link_work_item(conn, cid, by(opd), work_item_id=item)
            elif step.kind == "resolve":
                out = await workflow.resolve(conn, cid, by(opd), resolution=step.note)
            elif step.kind == "reopen":
                out = await workflow.reopen(conn, cid, by(WARGA), reason=step.note)
            elif step.kind == "confirm":
                out = await workflow.confirm(conn, cid, by(WARGA), rating=step.rating, comment=note)
            elif step.kind == "close":
                out = await workflow.close(conn, cid, by(OPERATOR), note=note)
            else:
                assert step.kind == "reject" and step.reason is not None
                original = self.known.get(step.duplicate_of)
                out = await workflow.reject(
                    conn, cid, by(OPERATOR), reason=step.reason,
                    note=step.note.format(ticket=original[1]) if original else note,
                    duplicate_of_id=original[0] if original else None,
                )  # fmt: skip
            row = out.complaint
        return True


async def _load_programmes(
    conn: asyncpg.Connection, regions: list[reference_db.RegionRow], demo: PackDemo
) -> dict[str, int]:
    """Create the missing programmes and their work items; return the road programme's items
    (Jalan Cantik's) by name."""
    opds = {r.slug: r.id for r in await reference_db.all_opds(conn)}
    seats = {r.code: (r.seat_lat, r.seat_lon) for r in regions}
    rng = random.Random(SEED)
    for spec in demo.programmes:
        async with conn.transaction():
            if await programmes_db.programme_by_code(conn, spec["code"]) is not None:
                continue
            predecessor = spec.get("predecessor")
            before = (
                await programmes_db.programme_by_code(conn, predecessor) if predecessor else None
            )
            programme = await admin.create_programme(
                conn,
                {
                    **{k: spec[k] for k in ("code", "name", "description", "fiscal_year", "unit")},
                    **{k: Decimal(spec[k]) for k in _AMOUNTS},
                    "status": spec["status"],
                    "owner_opd_id": opds[spec["owner"]],
                    "predecessor_id": before.id if before else None,
                },
            )
            if spec["code"] != demo.roads_programme:
                continue
            for r in demo.roads:
                region, road, km_from, km_to = r.region, r.road, r.km_from, r.km_to
                progress, start, end = r.progress, r.start, r.end
                lat, lon = seats[region]
                status = (
                    "PLANNED" if progress == 0 else "COMPLETED" if progress == 100 else "ONGOING"
                )
                await admin.create_work_item(
                    conn,
                    {
                        "programme_id": programme.id,
                        "name": _work_item_name(road, km_from, km_to),
                        "region_code": region,
                        "road_segment": f"{road} km {km_from}+000 – {km_to}+000",
                        "lat": round(lat + rng.uniform(-0.06, 0.06), 5),
                        "lon": round(lon + rng.uniform(-0.06, 0.06), 5),
                        "length_km": Decimal(km_to - km_from),
                        "progress_pct": Decimal(progress),
                        "status": status,
                        "planned_start": date.fromisoformat(f"2026-{start}"),
                        "planned_end": date.fromisoformat(f"2026-{end}"),
                    },
                )
    jalan_cantik = await programmes_db.programme_by_code(conn, demo.roads_programme)
    if jalan_cantik is None:
        return {}
    items = await programmes_db.work_items_by_programme_ids(conn, [jalan_cantik.id])
    return {r.name: r.id for r in items}


async def _newest_demo_complaint(conn: asyncpg.Connection) -> datetime:
    """A change of head falls within the demo's weeks: counted back from its newest complaint
    (from now, on a first load)."""
    anchor: datetime = await conn.fetchval(
        "SELECT coalesce(max(created_at), now()) FROM complaints WHERE external_ref LIKE 'demo-%'"
    )
    return anchor


async def load_demo(database_url: str, pack: Pack) -> int:
    """Load the pack's demo data; return the number of complaints created (0 when already
    loaded)."""
    locale = Locale.of(pack)
    assert pack.demo is not None  # Locale.of refuses a pack without one
    conn = await connect(database_url)
    try:
        # Held until the connection closes, so concurrent loaders run one after the other.
        await conn.execute("SELECT pg_advisory_lock($1)", _DEMO_LOCK)
        regions = await reference_db.all_regions(conn)
        foreign = sorted({r.code.split(".")[0] for r in regions} - {pack.code})
        if foreign:
            raise PackError(
                f"the database serves province {', '.join(foreign)}, not pack {pack.key!r}'s "
                f"({pack.code}): start Kilas with that pack on it first (it applies the pack)"
            )
        await add_heads(conn, pack.demo.heads, anchor=await _newest_demo_complaint(conn))
        await add_accounts(conn, pack.demo.accounts)
        loader = _Loader(
            conn,
            now=await conn.fetchval("SELECT now()"),
            opd_slugs={r.id: r.slug for r in await reference_db.all_opds(conn)},
            work_items=await _load_programmes(conn, regions, pack.demo),
        )
        existing = {
            (r["channel"], r["external_ref"]): (r["id"], r["tracking_number"])
            for r in await conn.fetch(
                "SELECT id, channel, external_ref, tracking_number FROM complaints"
                " WHERE external_ref LIKE 'demo-%'"
            )
        }
        created = 0
        for plan in _plans(regions, locale):
            # Known ones are skipped without a round trip, which keeps a second load instant.
            key = (plan.submission.channel, plan.submission.external_ref)
            if key in existing:
                loader.known[plan.n] = existing[key]
                continue
            async with conn.transaction():
                created += await loader.play(plan)
        log.info("demo data: %d complaints created", created)
        return created
    finally:
        await conn.close()
