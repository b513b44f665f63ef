"""Whom the simulator's citizens write to on the platforms, as whom, and in which words: an OPD's
verified WhatsApp number, X, Instagram or Facebook account (as the server lists them, so that
the message is routed as the province routes it), now and then the governor's or the command
center's own, an OPD's unverified account or one no OPD has registered, which wait in the
command center's queue. From the planner's seeded generator alone, so that a seed replays them;
the platforms' ids are made from the run's tag and the case number, never drawn."""

import hashlib
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kilas import _demo_texts as t
from kilas import demo
from kilas.packs.model import Account as PackAccount

# The demo's weights of the four platforms whose webhooks Kilas receives.
PLATFORMS: dict[str, float] = {
    channel.value: weight
    for channel, weight in demo.CHANNEL_WEIGHTS.items()
    if channel.value in ("WHATSAPP", "X", "INSTAGRAM", "FACEBOOK")
}
# What a citizen writes there, by platform: a mention or a DM on X, a DM or a comment under the
# account's post on Instagram, a comment or a post on a Facebook page.
KINDS: dict[str, dict[str, float]] = {
    "WHATSAPP": {"MESSAGE": 1.0},
    "X": {"MENTION": 85, "DIRECT_MESSAGE": 15},
    "INSTAGRAM": {"DIRECT_MESSAGE": 1, "COMMENT": 1},
    "FACEBOOK": {"COMMENT": 7, "POST": 3},
}
# To an OPD's verified account (assigned at once), to the province's own, to an unverified one
# or to one nobody registered (all three wait in the queue).
ROUTES = {"OPD": 72.0, "PROVINCE": 12.0, "UNVERIFIED": 6.0, "UNKNOWN": 10.0}
# Where it is, for intake to place it on the map (it reads a regency's or city's name), said by
# those who share no location.
PLACES = (" Lokasi: {place}.", " Lokasinya di {place}.", " ({place})")
PLACED = 0.6
GOVERNOR_TOO = 0.3  # of the tweets at an OPD, the share that mention the governor as well
MISADDRESSED = 0.1  # of the messages to an OPD, the share about another OPD's matter
X_LIMIT = 280
_PREFIXES = ("812", "813", "821", "852", "857", "878", "896")


@dataclass(frozen=True)
class Account:
    platform: str
    handle: str
    external_id: str  # as the platform's webhooks name it
    opd: str | None = None  # the OPD's slug; None for the province's and unknown accounts
    verified: bool = False


@dataclass(frozen=True)
class Author:
    id: str  # a WhatsApp sender's id is their number
    handle: str | None
    name: str | None


@dataclass(frozen=True)
class Route:
    kind: str  # a key of ROUTES
    platform: str
    message_kind: str  # a key of KINDS[platform]
    account: Account  # written to, mentioned first, or commented on
    also: tuple[Account, ...] = ()  # mentioned too: each of their subscriptions delivers it
    categories: Mapping[str, float] | None = None  # what fits the account's OPD; None: any


@dataclass(frozen=True)
class Message:
    """One citizen's message, as the simulator will deliver it."""

    route: Route
    text: str
    author: Author
    key: str  # unique to the run and the complaint
    location: tuple[float, float] | None = None

    @property
    def platform(self) -> str:
        return self.route.platform

    def ident(self, what: str, digits: int) -> str:
        """A platform id of `digits` digits, the same for the same run, complaint and `what`."""
        number = int.from_bytes(hashlib.sha256(f"{self.key}:{what}".encode()).digest()[:16])
        return str(10 ** (digits - 1) + number % (9 * 10 ** (digits - 1)))


@dataclass
class Accounts:
    """The accounts the simulator's citizens write to, by route."""

    by_route: dict[str, list[Account]]
    opd_categories: dict[str, dict[str, float]]  # OPD slug -> its categories' weights
    names: tuple[str, ...]  # the citizens' names (the pack's demo reporters)

    def route(self, rng: random.Random) -> Route | None:
        weights = {kind: w for kind, w in ROUTES.items() if self.by_route.get(kind)}
        if not weights:
            return None
        kind = demo.pick(rng, weights)
        candidates = self.by_route[kind]
        account = demo.pick(rng, {a: PLATFORMS[a.platform] for a in candidates})
        message_kind = demo.pick(rng, KINDS[account.platform])
        also: tuple[Account, ...] = ()
        governor = [a for a in self.by_route["PROVINCE"] if a.platform == "X"][:1]
        if kind == "OPD" and message_kind == "MENTION" and governor:
            also = tuple(governor) if rng.random() < GOVERNOR_TOO else ()
        categories = self.opd_categories.get(account.opd or "")
        if kind == "OPD" and rng.random() < MISADDRESSED:
            categories = None  # the OPD will hand it on (reassignComplaint)
        return Route(kind, account.platform, message_kind, account, also, categories or None)

    def message(
        self,
        rng: random.Random,
        route: Route,
        key: str,
        text: str,
        seat: str,
        location: tuple[float, float] | None,
        place: str | None = None,
    ) -> Message:
        """`place`: the kecamatan and regency or city, which the citizen may name."""
        author = _author(rng, route.platform, seat, self.names)
        # Only a tweet carries the place the citizen shared.
        where = location if route.platform == "X" else None
        if place is not None and where is None and rng.random() < PLACED:
            text += rng.choice(PLACES).format(place=place)
        if route.message_kind == "MENTION":
            named = " ".join(f"@{a.handle}" for a in (route.account, *route.also))
            text = _fit(f"{named} {text}", X_LIMIT)
        elif route.platform == "X":
            text = _fit(text, X_LIMIT)
        return Message(route, text, author, key, where)


def accounts(
    opds: list[dict[str, Any]],
    category_opds: dict[str, str],
    pack_accounts: tuple[PackAccount, ...],
    names: tuple[str, ...],
) -> Accounts:
    """From the server's OPDs and their social accounts (the reference query), and the pack
    demo's province accounts (Kilas lists them nowhere) and unregistered ones."""
    by_route: dict[str, list[Account]] = {kind: [] for kind in ROUTES}
    for opd in sorted(opds, key=lambda o: o["slug"]):
        for a in opd.get("socialAccounts") or []:
            if a["platform"] in PLATFORMS and a.get("externalId"):
                account = Account(
                    a["platform"], a["handle"], a["externalId"], opd["slug"], a["verified"]
                )
                by_route["OPD" if a["verified"] else "UNVERIFIED"].append(account)
    for a in pack_accounts:
        if a.external_id and a.kind in ("PROVINCE", "UNREGISTERED"):
            route = "PROVINCE" if a.kind == "PROVINCE" else "UNKNOWN"
            by_route[route].append(Account(a.platform, a.handle, a.external_id))
    opd_categories: dict[str, dict[str, float]] = {}
    for code, slug in sorted(category_opds.items()):
        if code in t.CATEGORY_WEIGHTS:
            opd_categories.setdefault(slug, {})[code] = t.CATEGORY_WEIGHTS[code]
    return Accounts(by_route, opd_categories, names)


def reporter(message: Message) -> dict[str, Any]:
    """The submission's reporter for the same message, should it go through the API instead."""
    author = message.author
    # As intake records it: a WhatsApp sender's number is their contact.
    contact = author.id if message.platform == "WHATSAPP" else None
    return {"name": author.name, "contact": contact, "handle": author.handle}


def _author(rng: random.Random, platform: str, seat: str, names: tuple[str, ...]) -> Author:
    name = rng.choice(names)
    first, *rest = name.lower().split()
    place = seat.lower().replace(" ", "")
    if platform == "WHATSAPP":
        number = f"62{rng.choice(_PREFIXES)}{rng.randrange(10**7, 10**8)}"
        return Author(number, number, name)
    if platform == "FACEBOOK":
        return Author(str(rng.randrange(10**15, 10**16)), None, name)
    if platform == "X":
        handle = rng.choice((f"{first}_{place}", f"warga_{place}", f"{first}{rng.randint(10, 99)}"))
        return Author(str(rng.randrange(10**9, 10**10)), handle[:15], name)
    handle = rng.choice((f"{first}.{place}", f"warga{place}", f"{first}{''.join(rest)}"))
    return Author(str(rng.randrange(10**15, 10**16)), handle[:30], None)


def _fit(text: str, limit: int) -> str:
    """Whole sentences within the platform's limit; a first sentence too long is cut."""
    if len(text) <= limit:
        return text
    end = text.rfind(". ", 0, limit)
    return text[: end + 1] if end > 0 else text[: limit - 1].rstrip() + "…"
