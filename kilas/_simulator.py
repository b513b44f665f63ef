"""The simulator itself: each step a new complaint (submitted through the API, or a citizen's
message delivered to the server's webhooks and found again once intake has taken it in) or the
next lifecycle step of one in flight, chosen from a seeded generator so that a seed replays the
same stream. A refused mutation (a stale version, a transition someone else made first) is
logged and the complaint is read again or left alone."""

import asyncio
import contextlib
import logging
import random
import time
from datetime import UTC, datetime
from typing import Any

from kilas._simulate_api import ARRIVAL_TIMEOUT, Api, ApiRefused, ApiUnavailable, Outcome
from kilas._simulate_channels import Receivers
from kilas._simulate_messages import Message
from kilas._simulate_plans import Case, Planner, Step, planner
from kilas._simulate_report import Report
from kilas.demo import Locale
from kilas.packs import DEFAULT_PACK, Pack, load_pack

log = logging.getLogger("kilas.simulate")

DEFAULT_RATE = 30.0  # events per minute
IN_FLIGHT = 12  # complaints being handled at once that the simulator aims for
ADOPT = 40  # open complaints already on the server it looks at, to carry a third of them on
MAX_BACKOFF = 30.0  # seconds between two tries at an unavailable server, at most
# Confirming and reopening are the reporter's, who proves it with the tracking number.
REPORTER_ACTIONS = ("confirmResolution", "reopenComplaint")
DEFAULT_CHANNEL_SHARE = 1 / 3  # of new complaints, those that arrive as platform messages
INTAKE_EVENTS = ("SUBMITTED", "ASSIGNED")  # what channel intake writes of a message


class SimulationStopped(Exception):
    """The API refuses the simulator's requests."""


class Simulator:
    planner: Planner  # made by prepare(), from the server's reference data

    def __init__(
        self,
        api: Api,
        *,
        seed: int | None = None,
        rate: float = DEFAULT_RATE,
        verbose: bool = False,
        channels: Receivers | None = None,
        channel_share: float = DEFAULT_CHANNEL_SHARE,
        pack: Pack | None = None,
    ) -> None:
        if rate <= 0:
            raise ValueError("the rate must be a positive number of events per minute")
        if not 0 <= channel_share <= 1:
            raise ValueError("the channel share must be between 0 and 1")
        seed = seed if seed is not None else random.randrange(2**32)
        self.api = api
        # The province's demo: place names, reporters, accounts, its road programme.
        self.pack = pack or load_pack(DEFAULT_PACK)
        self.locale = Locale.of(self.pack)
        self.rate = rate
        # Without receivers, every complaint goes through the API.
        self.channels = channels
        self.channel_share = channel_share if channels is not None else 0.0
        self.rng = random.Random(seed)
        # Gaps come from their own generator: the same seed makes the same stream at any rate.
        self.timing = random.Random(seed + 1)
        self.seed, self.tag = seed, f"{seed:x}"
        self.report = Report()
        self._level = logging.INFO if verbose else logging.DEBUG
        self._active: list[Case] = []
        self._pending: Case | None = None
        self._known: dict[int, str] = {}  # case number -> complaint id, for duplicates
        self._opd_ids: dict[str, str] = {}
        self._work_items: dict[str, str] = {}  # region code -> a Jalan Cantik work item id

    async def prepare(self) -> None:
        """Read the reference data, and take on part of the open backlog already there."""
        assert self.pack.demo is not None  # Locale.of refuses a pack without one
        reference = await self.api.reference(self.pack.demo.roads_programme)
        self.planner = planner(
            self.rng, reference, self.tag, self.locale, self.pack.demo.accounts, self.channel_share
        )
        self._opd_ids = {o["slug"]: o["id"] for o in reference["opds"]}
        for item in (reference.get("programme") or {"workItems": []})["workItems"]:
            self._work_items.setdefault(item["region"]["code"], item["id"])
        for node in await self.api.backlog(ADOPT):
            if self.rng.random() < 0.3 and (case := self.planner.adopted(node)) and case.steps:
                self._active.append(case)
        log.info(
            "simulating %g events a minute against %s (--seed %d; %.0f%% of new complaints as "
            "platform messages; %d open complaints taken on)",
            self.rate,
            self.api.url,
            self.seed,
            self.channel_share * 100,
            len(self._active),
        )

    async def run(self, *, count: int | None = None, duration: float | None = None) -> Report:
        """Until `count` events are written or `duration` seconds pass (or forever)."""
        deadline = time.monotonic() + duration if duration is not None else None
        backoff = 1.0
        while count is None or self.report.written < count:
            gap = self.timing.expovariate(self.rate / 60)
            if deadline is not None:
                gap = min(gap, deadline - time.monotonic())
                if gap < 0:
                    break
            await asyncio.sleep(gap)
            if deadline is not None and time.monotonic() >= deadline:
                break
            try:
                await self.step()
            except ApiUnavailable as exc:
                if exc.retry_after is not None:  # rate-limited: as long as the server says
                    log.info("Kilas asks to slow down (%s)", exc)
                    await asyncio.sleep(exc.retry_after)
                    continue
                log.warning("Kilas does not answer (%s); trying again in %.0f s", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            backoff = 1.0
        return self.report

    def _choose(self) -> Case:
        if self._pending is not None:
            return self._pending
        rng = self.rng
        # New intake is what a wall shows most: half the time while few are in flight.
        if not self._active or rng.random() < (0.5 if len(self._active) < IN_FLIGHT else 0.3):
            return self.planner.new_case()
        return rng.choice(self._active)

    async def step(self) -> None:
        """One mutation: a new complaint, or the next step of one in flight."""
        case = self._pending = self._choose()
        try:
            if case.id is None and self._deliverable(case.message):
                await self._deliver(case)
            elif case.id is None:
                await self._submit(case)
            else:
                await self._advance(case, case.steps[0])
        except ApiRefused as exc:
            # The simulator's own requests are valid: a refusal is about its credential, and
            # trying again will not change it.
            raise SimulationStopped(
                f"the API refused the simulator ({exc}); it needs an OPERATOR credential: "
                "--token or KILAS_SIMULATE_TOKEN (e.g. from `kilas token --role OPERATOR`)"
            ) from None
        # An unavailable server leaves the case pending, to be tried again.
        self._pending = None

    async def _submit(self, case: Case) -> None:
        assert case.submission is not None
        out = await self.api.mutate("submitComplaint", case.submission)
        self.report.actions.append(f"{case.n}:submitComplaint")
        if out.errors or out.complaint is None:
            self._refused(case, "submitComplaint", out)
            return
        if not out.created:
            ref = case.submission["externalRef"]
            log.info("%s was submitted before (the same --seed again?); skipped", ref)
            return
        case.id = self._known[case.n] = out.complaint["id"]
        self._wrote(case, "submitComplaint", out.complaint, out.events)
        if case.steps:
            self._active.append(case)

    def _deliverable(self, message: Message | None) -> bool:
        channels = self.channels
        return message is not None and channels is not None and channels.open(message.platform)

    async def _deliver(self, case: Case) -> None:
        """The case's message, posted as its platform posts it; its complaint, as intake made
        it, then carries on like any other. A refused delivery goes through the API instead."""
        message, channels = case.message, self.channels
        assert message is not None and channels is not None
        posted = datetime.now(UTC).replace(microsecond=0)
        refused = await channels.deliver(message, posted)
        self.report.actions.append(f"{case.n}:deliver {message.platform}")
        if refused is not None:
            self.report.undelivered[f"{message.platform} {refused}"] += 1
            await self._submit(case)
            return
        self.report.delivered[message.platform] += 1
        known = {c.id for c in self._active if c.id} | set(self._known.values())
        complaint = await self.api.arrival(message.platform, message.text, posted, known)
        if complaint is None:
            channels.turn_off(
                f"no complaint came of a delivery within {ARRIVAL_TIMEOUT:g} s: is the server's "
                "inbox worker on (KILAS_INBOX_POLL_INTERVAL)?"
            )
            return
        self.planner.arrived(case, complaint["status"], (complaint.get("opd") or {}).get("slug"))
        case.id = self._known[case.n] = complaint["id"]
        case.region_code = complaint["region"]["code"]
        taken = [e for e in complaint["timeline"]["nodes"] if e["type"] in INTAKE_EVENTS]
        routed = " ".join(str(taken[0][k]) for k in ("routingReason", "addressedAccount"))
        kind = message.route.message_kind.lower().replace("_", " ")
        action = f"{message.platform} {kind}"
        self._wrote(case, action, complaint, [e["type"] for e in taken], routed)
        if case.steps:
            self._active.append(case)

    async def _advance(self, case: Case, step: Step) -> None:
        assert case.id is not None
        values = {k: v for k, v in step.input.items() if v is not None}
        values |= {"complaintId": case.id, "expectedVersion": case.version}
        if step.opd is not None:
            values["opdId"] = self._opd_ids[step.opd]
        if step.link:
            if case.region_code not in self._work_items:
                case.steps.pop(0)  # no programme on this server to link to
                return
            values["workItemId"] = self._work_items[case.region_code]
        if step.duplicate_of is not None:
            values["duplicateOfId"] = self._known.get(step.duplicate_of)
        if step.mutation in REPORTER_ACTIONS and case.tracking_number:
            values["trackingNumber"] = case.tracking_number  # the reporter's own proof
        out = await self.api.mutate(step.mutation, values)
        self.report.actions.append(f"{case.n}:{step.mutation}")
        if not out.errors and out.complaint is not None:
            self._wrote(case, step.mutation, out.complaint, out.events)
            case.steps.pop(0)
            if not case.steps:
                self._drop(case)
        elif out.error_code == "STALE_VERSION":
            await self._read_again(case, step)
        else:
            self._refused(case, step.mutation, out)

    async def _read_again(self, case: Case, step: Step) -> None:
        """Someone else changed the complaint (the SLA sweeper marks it too): carry on from its
        new version if it still stands where it did, else leave it alone."""
        self.report.refusals["STALE_VERSION"] += 1
        assert case.id is not None
        now = await self.api.complaint(case.id)
        if now is not None and now["status"] == case.status:
            case.version = now["version"]
            log.debug("%s changed meanwhile; %s again", case.tracking_number, step.mutation)
        else:
            log.info("%s was moved on by someone else; left alone", case.tracking_number or case.id)
            self._drop(case)

    def _wrote(
        self,
        case: Case,
        action: str,
        complaint: dict[str, Any] | None,
        events: list[str],
        about: str | None = None,
    ) -> None:
        """`about`: what the log line ends with instead of the category."""
        assert complaint is not None
        case.version, case.status = complaint["version"], complaint["status"]
        case.tracking_number = complaint.get("trackingNumber") or case.tracking_number
        self.report.events.update(events)
        if self._level == logging.DEBUG and self.report.written % 50 == 0:
            log.info("simulation: %s", self.report.summary())
        category = (complaint.get("category") or {}).get("code") or "-"
        log.log(
            self._level,
            "%s %-24s → %-11s %s %s",
            case.tracking_number or complaint["id"],
            action,
            case.status,
            complaint["region"]["code"],
            about or category,
        )

    def _refused(self, case: Case, mutation: str, out: Outcome) -> None:
        code = out.error_code or "NO_COMPLAINT"
        self.report.refusals[code] += 1
        message = out.errors[0]["message"] if out.errors else ""
        self._drop(case)
        if code == "FORBIDDEN":  # not this complaint's problem: the simulator's credential
            raise ApiRefused(f"{mutation}: {code}: {message}")
        log.warning("%s %s refused: %s %s", case.tracking_number or case.n, mutation, code, message)

    def _drop(self, case: Case) -> None:
        with contextlib.suppress(ValueError):
            self._active.remove(case)
