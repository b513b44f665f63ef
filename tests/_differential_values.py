"""Argument values for generated read queries: real ones taken from the seeded database (ids,
tracking numbers, cursors from real responses) and wrong ones (garbage ids and cursors, unknown
codes, pages out of range), so that both read paths are compared on their refusals as much as
on their answers.

Values are plain JSON (enum values as their names); `tests._differential` decides whether each
goes into the document as a literal or as a variable."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from kilas.schema.ids import to_global_id

Draw = Callable[[st.SearchStrategy[Any]], Any]

COMPLAINT_STATUSES = ("RECEIVED", "ASSIGNED", "IN_PROGRESS", "RESOLVED", "CLOSED", "REJECTED")
CHANNELS = ("X", "INSTAGRAM", "FACEBOOK", "WHATSAPP", "SMS", "WEB", "APP", "HOTLINE", "WALK_IN",
            "NATIONAL")  # fmt: skip
ORDERINGS = ("CREATED_AT_DESC", "CREATED_AT_ASC", "UPDATED_AT_DESC", "UPDATED_AT_ASC")
PROGRAMME_STATUSES = ("PLANNED", "ONGOING", "COMPLETED", "SUSPENDED")

# Ids that name nothing: not base64, no type, an unknown type, keys that are not ids, rows that
# are not there.
INVALID_NODE_IDS = (
    "",
    "abc",
    "!!!",
    "bm9wZQ",  # "nope": no type
    to_global_id("Nope", 1),
    to_global_id("Complaint", 0),
    to_global_id("Complaint", "abc"),
    to_global_id("Complaint", 10**20),
    to_global_id("Complaint", 999_999),
    to_global_id("ComplaintEvent", 999_999),
    to_global_id("Opd", 999_999),
    to_global_id("Region", "99.99"),
    to_global_id("Category", "NOPE"),
    to_global_id("Programme", 999_999),
    to_global_id("WorkItem", "²"),
)
GARBAGE_CURSORS = ("", "abc", "0", "-1", "999999999999", "W10", to_global_id("Opd", 1), "💥")
SEARCHES = ("jalan", "berlubang", "Jalan rusak parah", '"jalan berlubang"', "air -banjir",
            "jalan or air", "banjir & longsor", "100%_x", "  ", "", "x' OR 1=1 --", "Kudus–Pati",
            "j" * 201)  # fmt: skip


@dataclass(frozen=True)
class Samples:
    """What the seeded database holds, for arguments that should find something."""

    complaint_ids: tuple[str, ...]
    # Ids of every other node type (events, OPDs, regions, categories, policies, accounts,
    # programmes, work items).
    other_node_ids: tuple[str, ...]
    tracking_numbers: tuple[str, ...]
    opd_ids: tuple[str, ...]
    opd_slugs: tuple[str, ...]
    region_codes: tuple[str, ...]
    category_codes: tuple[str, ...]
    programme_codes: tuple[str, ...]
    programme_ids: tuple[str, ...]
    work_item_ids: tuple[str, ...]
    fiscal_years: tuple[int, ...]
    # Cursors of complaint pages, by ordering, as responses gave them.
    complaint_cursors: Mapping[str, tuple[str, ...]]
    event_cursors: tuple[str, ...]
    # Event cursors inside the long timelines (more than one page).
    timeline_cursors: tuple[str, ...]
    # ISO times around the data, some exactly a complaint's createdAt (the filter's bounds).
    moments: tuple[str, ...]


def _chance(draw: Draw, percent: int) -> bool:
    # Zero, where hypothesis starts and shrinks to, is "no": a failing query shrinks to fewer
    # features, not more.
    return bool(draw(st.integers(0, 99)) >= 100 - percent)


def _one(draw: Draw, real: tuple[Any, ...], wrong: tuple[Any, ...], wrong_percent: int) -> Any:
    if not real or _chance(draw, wrong_percent):
        return draw(st.sampled_from(wrong))
    return draw(st.sampled_from(real))


class Values:
    """Draws argument values; `shapes` collects what was drawn (for coverage)."""

    def __init__(self, draw: Draw, samples: Samples, shapes: set[str]) -> None:
        self.draw = draw
        self.s = samples
        self.shapes = shapes

    def chance(self, percent: int) -> bool:
        return _chance(self.draw, percent)

    def node_id(self) -> str:
        kind = self.draw(st.integers(0, 9))
        if kind < 5 and self.s.complaint_ids:
            return str(self.draw(st.sampled_from(self.s.complaint_ids)))
        if kind < 8 and self.s.other_node_ids:
            return str(self.draw(st.sampled_from(self.s.other_node_ids)))
        self.shapes.add("node-invalid-id")
        return str(self.draw(st.sampled_from(INVALID_NODE_IDS)))

    def tracking_number(self) -> str:
        real = self.s.tracking_numbers
        kind = self.draw(st.integers(0, 9))
        if kind < 6 and real:
            return str(self.draw(st.sampled_from(real)))
        if kind < 8 and real:
            # The lookup is by the exact number; a reporter may type it in lower case.
            self.shapes.add("tracking-number-lowercase")
            return str(self.draw(st.sampled_from(real))).lower()
        self.shapes.add("unknown-code")
        return str(self.draw(st.sampled_from(("", "ZZZZZZ", "ADU-00000000-XXXXXX", "A" * 101))))

    def code(self, real: tuple[str, ...], unknown: tuple[str, ...]) -> str:
        value = _one(self.draw, real, unknown, 20)
        if value in unknown:
            self.shapes.add("unknown-code")
        return str(value)

    def page_size(self, *, default_ok: bool = True) -> Any:
        """A root page size: mostly small, sometimes out of range (0, 101, negative)."""
        kind = self.draw(st.integers(0, 19))
        if kind < 13:
            return self.draw(st.sampled_from((1, 2, 3, 5)))
        if kind < 15 and default_ok:
            return None
        if kind < 16:
            return self.draw(st.sampled_from((20, 50, 100)))
        self.shapes.add("first-out-of-range")
        return self.draw(st.sampled_from((0, 101, -1, 1000)))

    def timeline_first(self) -> int:
        kind = self.draw(st.integers(0, 19))
        if kind < 14:
            return int(self.draw(st.sampled_from((1, 2, 3, 5))))
        if kind < 17:
            return int(self.draw(st.sampled_from((50, 51, 200))))
        self.shapes.add("first-out-of-range")
        return int(self.draw(st.sampled_from((0, 201, -5))))

    def complaint_cursor(self, ordering: str) -> str:
        kind = self.draw(st.integers(0, 9))
        own = self.s.complaint_cursors.get(ordering, ())
        if kind < 5 and own:
            self.shapes.add("after-real")
            return str(self.draw(st.sampled_from(own)))
        others = tuple(c for o, cs in self.s.complaint_cursors.items() if o != ordering for c in cs)
        if kind < 7 and others:
            self.shapes.add("after-other-ordering")
            return str(self.draw(st.sampled_from(others)))
        self.shapes.add("after-garbage")
        return str(self.draw(st.sampled_from(GARBAGE_CURSORS)))

    def event_cursor(self, real: tuple[str, ...]) -> str:
        if real and self.chance(75):
            self.shapes.add("after-real")
            return str(self.draw(st.sampled_from(real)))
        self.shapes.add("after-garbage")
        return str(self.draw(st.sampled_from(GARBAGE_CURSORS)))

    def programme_cursor(self) -> str:
        if self.s.programme_ids and self.chance(70):
            self.shapes.add("after-real")
            return str(self.draw(st.sampled_from(self.s.programme_ids)))
        self.shapes.add("after-garbage")
        return str(self.draw(st.sampled_from(GARBAGE_CURSORS)))

    def id_of(self, real: tuple[str, ...]) -> str:
        """An id for a filter: mostly a real one, else a wrong type, a missing row, garbage."""
        wrong = (to_global_id("Region", "33.74"), to_global_id("Opd", 999_999), "x", "")
        return str(_one(self.draw, real, wrong, 15))

    def subset(self, values: tuple[str, ...], max_size: int = 3) -> list[str]:
        """Mostly one to three values; sometimes none (an empty list filters nothing)."""
        smallest = 0 if self.chance(15) else 1
        chosen: list[str] = self.draw(
            st.lists(st.sampled_from(values), min_size=smallest, max_size=max_size, unique=True)
        )
        return chosen

    def moment(self) -> str:
        return str(self.draw(st.sampled_from(self.s.moments)))

    def complaint_filter(self) -> dict[str, Any]:
        options: dict[str, Callable[[], Any]] = {
            "status": lambda: self.subset(COMPLAINT_STATUSES),
            "opdId": lambda: self.id_of(self.s.opd_ids),
            "regionCode": lambda: self.code(self.s.region_codes, ("99.99", "", "33.7")),
            "categoryCode": lambda: self.code(self.s.category_codes, ("NOPE", "jalan")),
            "channel": lambda: self.subset(CHANNELS),
            "createdFrom": self.moment,
            "createdBefore": self.moment,
            "search": lambda: self.draw(st.sampled_from(SEARCHES)),
            "workItemId": lambda: self.id_of(self.s.work_item_ids),
        }
        return self._input(options, 30, "filter")

    def event_filter(self, *, alerts: bool) -> dict[str, Any]:
        """A `complaintEvents` filter (`slaAlerts`: only its OPD and region)."""
        options: dict[str, Callable[[], Any]] = {
            "opdId": lambda: self.id_of(self.s.opd_ids),
            "regionCode": lambda: self.code(self.s.region_codes, ("99.99", "", "33.7")),
        }
        if not alerts:
            options["status"] = lambda: self.draw(st.sampled_from(COMPLAINT_STATUSES))
            options["complaintId"] = lambda: self.id_of(self.s.complaint_ids)
        return self._input(options, 40, "event-filter")

    def programme_filter(self) -> dict[str, Any]:
        options: dict[str, Callable[[], Any]] = {
            "ownerOpdId": lambda: self.id_of(self.s.opd_ids),
            "fiscalYear": lambda: _one(self.draw, self.s.fiscal_years, (1999, 0, -1), 20),
            "status": lambda: self.draw(st.sampled_from(PROGRAMME_STATUSES)),
        }
        return self._input(options, 40, "programme-filter")

    def _input(
        self, options: dict[str, Callable[[], Any]], percent: int, what: str
    ) -> dict[str, Any]:
        value: dict[str, Any] = {}
        for name, make in options.items():
            if self.chance(percent):
                # An explicit null is the field's default: both paths must read it so.
                value[name] = None if self.chance(5) else make()
                self.shapes.add(f"{what}:{name}")
        return value

    def arguments(self, key: str) -> dict[str, Any] | None:
        """Values for the arguments of `key` ("Type.field"), or None for a field not known
        here. Optional arguments are sometimes left out, sometimes an explicit null."""
        s = self.s
        out: dict[str, Any] = {}

        def optional(name: str, percent: int, make: Callable[[], Any]) -> None:
            if self.chance(percent):
                value = make()
                if value is None and self.chance(50):
                    return  # omitted rather than an explicit null
                out[name] = value

        if key == "Query.node":
            out["id"] = self.node_id()
        elif key == "Query.complaint":
            out["trackingNumber"] = self.tracking_number()
        elif key == "Query.opd":
            out["slug"] = self.code(s.opd_slugs, ("nope", "", " DPUBMCK "))
        elif key == "Query.region":
            out["code"] = self.code(s.region_codes, ("99.99", "", "33"))
        elif key == "Query.programme":
            out["code"] = self.code(s.programme_codes, ("NOPE", "", "jalan-cantik-2026"))
        elif key == "Query.complaints":
            ordering = "CREATED_AT_DESC"
            optional("filter", 50, self.complaint_filter)
            if self.chance(50):
                ordering = self.draw(st.sampled_from(ORDERINGS))
                out["orderBy"] = ordering
                self.shapes.add(f"orderBy:{ordering}")
            optional("first", 85, self.page_size)
            optional("after", 30, lambda: self.complaint_cursor(ordering))
        elif key == "Query.complaintEvents":
            optional("first", 85, self.page_size)
            optional("after", 40, lambda: self.event_cursor(s.event_cursors))
        elif key in ("Subscription.complaintEvents", "Subscription.slaAlerts"):
            optional("filter", 70, lambda: self.event_filter(alerts=key.endswith("Alerts")))
        elif key == "Query.programmes":
            optional("filter", 40, self.programme_filter)
            optional("first", 70, self.page_size)
            optional("after", 25, self.programme_cursor)
        elif key == "Complaint.timeline":
            optional("first", 80, self.timeline_first)
            optional("after", 40, lambda: self.event_cursor(s.timeline_cursors or s.event_cursors))
            self.shapes.update(f"timeline-{name}" for name in out)
        else:
            return None
        return out
