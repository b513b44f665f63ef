"""`kilas simulate`: a live stream of complaints through the real GraphQL API, so that a demo's
wall is alive. Intake from every channel, dispositions, follow-ups, resolutions, ratings,
rejections and reopenings, at a rate in events per minute with random (Poisson) gaps; about one
complaint in eight is left without a follow-up, for the SLA sweeper to breach when its deadline
passes. A refused mutation (a stale version, a transition someone else made first) is logged and
the complaint is read again or left alone; an unreachable server is retried with backoff."""

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from kilas._simulate_api import Api, ApiRefused, ApiUnavailable, Outcome
from kilas._simulate_plans import Case, Planner, Step, planner

log = logging.getLogger("kilas.simulate")

DEFAULT_URL = "http://127.0.0.1:8000/graphql"
DEFAULT_RATE = 30.0  # events per minute
IN_FLIGHT = 12  # complaints being handled at once that the simulator aims for
ADOPT = 40  # open complaints already on the server it looks at, to carry a third of them on
MAX_BACKOFF = 30.0
# Confirming and reopening are the reporter's, who proves it with the tracking number.
REPORTER_ACTIONS = ("confirmResolution", "reopenComplaint")


class SimulationStopped(Exception):
    """The API refuses the simulator's requests."""


@dataclass
class Report:
    events: Counter[str] = field(default_factory=Counter)  # event type -> how many written
    refusals: Counter[str] = field(default_factory=Counter)  # error code -> how many
    actions: list[str] = field(default_factory=list)  # "case number:mutation", in order

    @property
    def written(self) -> int:
        return sum(self.events.values())

    def summary(self) -> str:
        events = ", ".join(f"{k} {v}" for k, v in sorted(self.events.items())) or "none"
        refused = ", ".join(f"{k} {v}" for k, v in sorted(self.refusals.items())) or "none"
        return f"{self.written} events written ({events}); refused: {refused}"


class Simulator:
    planner: Planner  # made by prepare(), from the server's reference data

    def __init__(
        self,
        api: Api,
        *,
        seed: int | None = None,
        rate: float = DEFAULT_RATE,
        verbose: bool = False,
    ) -> None:
        if rate <= 0:
            raise ValueError("the rate must be a positive number of events per minute")
        seed = seed if seed is not None else random.randrange(2**32)
        self.api = api
        self.rate = rate
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
        reference = await self.api.reference()
        self.planner = planner(self.rng, reference, self.tag)
        self._opd_ids = {o["slug"]: o["id"] for o in reference["opds"]}
        for item in (reference.get("programme") or {"workItems": []})["workItems"]:
            self._work_items.setdefault(item["region"]["code"], item["id"])
        for node in await self.api.backlog(ADOPT):
            if self.rng.random() < 0.3 and (case := self.planner.adopted(node)) and case.steps:
                self._active.append(case)
        log.info(
            "simulating %g events a minute against %s (--seed %d; %d open complaints taken on)",
            self.rate,
            self.api.url,
            self.seed,
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
            if case.id is None:
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
        self._wrote(case, "submitComplaint", out)
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
            self._wrote(case, step.mutation, out)
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

    def _wrote(self, case: Case, mutation: str, out: Outcome) -> None:
        complaint = out.complaint
        assert complaint is not None
        case.version, case.status = complaint["version"], complaint["status"]
        case.tracking_number = complaint.get("trackingNumber") or case.tracking_number
        if out.event_type:
            self.report.events[out.event_type] += 1
        if self._level == logging.DEBUG and self.report.written % 50 == 0:
            log.info("simulation: %s", self.report.summary())
        category = (complaint.get("category") or {}).get("code") or "-"
        log.log(
            self._level,
            "%s %-24s → %-11s %s %s",
            case.tracking_number or complaint["id"],
            mutation,
            case.status,
            complaint["region"]["code"],
            category,
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


def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=30, trust_env=False)


async def simulate(
    url: str = DEFAULT_URL,
    *,
    rate: float = DEFAULT_RATE,
    token: str | None = None,
    seed: int | None = None,
    count: int | None = None,
    duration: float | None = None,
    verbose: bool = False,
    unreachable: str | None = None,
) -> Report:
    """Run a simulation to its end (or until cancelled); the report says what it wrote.
    `unreachable` is said once if the server does not answer at first (what to do about it)."""
    async with client() as http:
        simulator = Simulator(Api(http, url, token), seed=seed, rate=rate, verbose=verbose)
        started = time.monotonic()
        try:
            deadline = None if duration is None else started + duration
            if await _until_ready(simulator, deadline, unreachable):
                left = None if duration is None else duration - (time.monotonic() - started)
                await simulator.run(count=count, duration=left)
        finally:
            log.info("simulation: %s", simulator.report.summary())
        return simulator.report


async def _until_ready(
    simulator: Simulator, deadline: float | None, unreachable: str | None = None
) -> bool:
    """Prepare once the server answers; False if the deadline passed first."""
    backoff = 0.5
    while True:
        try:
            await simulator.prepare()
            return True
        except ApiRefused as exc:
            raise SimulationStopped(f"the API refused the simulator: {exc}") from None
        except ApiUnavailable as exc:
            if unreachable is not None:
                log.warning("%s (%s); waiting for it", unreachable, exc)
                unreachable = None
            else:
                log.info("waiting for Kilas at %s (%s)", simulator.api.url, exc)
            if deadline is not None and time.monotonic() + backoff > deadline:
                return False
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
