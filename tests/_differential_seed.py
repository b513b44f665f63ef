"""The edge cases the differential test needs beside the demo data, written through the domain
commands at chosen moments before the fixed clock `now`: confidential, anonymous and OPD-less
complaints, duplicates, long timelines, linked work items, reporter data and channel references,
locations and media, rejections, escalations, and each SLA state (on track, at risk, breached,
met) as read at `now`."""

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from kilas.db.pool import Connection
from kilas.domain import admin, workflow
from kilas.domain.lifecycle import Channel, RejectionReason
from kilas.domain.sla import SlaRules

ACTOR = "jwt:edge-operator"
# More events than a timeline's default page (50).
LONG_TIMELINE = 60
ROAD = "Jalan provinsi ruas Semarang–Kendal km 12 berlubang besar, dua motor jatuh."
CLINIC = "Antrean puskesmas sangat panjang, obat habis sejak minggu lalu."


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


class EdgeCases:
    """Writes the edge cases; `ids` names each complaint by what it is there to test."""

    def __init__(self, conn: Connection, now: datetime, opds: dict[str, int]) -> None:
        self.conn = conn
        self.now = now
        self.opds = opds
        self.ids: dict[str, int] = {}
        self.refs = 0

    async def submit(self, name: str, age: float, text: str = ROAD, **kw: Any) -> int:
        fields: dict[str, Any] = {
            "channel": Channel.WEB,
            "region_code": "33.74",
            "category_code": "JALAN",
        } | kw
        async with self.conn.transaction():
            outcome = await workflow.submit(
                self.conn,
                workflow.Submission(text=text, **fields),
                actor=ACTOR,
                at=self.now - hours(age),
            )
        complaint_id = outcome.complaint.id
        self.ids[name] = complaint_id
        return complaint_id

    async def step(
        self, command: Callable[..., Awaitable[Any]], complaint_id: int, age: float, **kw: Any
    ) -> None:
        async with self.conn.transaction():
            await command(
                self.conn,
                complaint_id,
                workflow.CommandContext(actor=ACTOR, at=self.now - hours(age)),
                **kw,
            )

    async def assign(self, complaint_id: int, age: float, opd: str | None = None) -> None:
        opd_id = self.opds[opd] if opd else None
        await self.step(workflow.assign, complaint_id, age, opd_id=opd_id, category_code=None)

    async def reassign(self, complaint_id: int, age: float, opd: str) -> None:
        await self.step(
            workflow.assign,
            complaint_id,
            age,
            opd_id=self.opds[opd],
            category_code=None,
            note="Bukan kewenangan unit ini.",
            reassign=True,
        )

    async def follow_up(
        self, complaint_id: int, age: float, message: str = "Tim meninjau."
    ) -> None:
        await self.step(workflow.follow_up, complaint_id, age, message=message)

    async def resolve(self, complaint_id: int, age: float) -> None:
        await self.step(workflow.resolve, complaint_id, age, resolution="Sudah diperbaiki.")

    def reporter(self, handle: str) -> dict[str, Any]:
        self.refs += 1
        return {
            "reporter_name": "Sri Wahyuni",
            "reporter_contact": "081234567890",
            "reporter_handle": handle,
            "external_ref": f"edge-ref-{self.refs}",
        }

    async def write(self, work_item_ids: list[int]) -> dict[str, int]:
        # The reference data has no social accounts.
        async with self.conn.transaction():
            for slug, platform, handle, verified in (
                ("dpubmck", "X", "dpubmckjateng", True),
                ("dpubmck", "INSTAGRAM", "dpubmck.jateng", False),
                ("dinkes", "X", "dinkesjateng", True),
            ):
                await admin.add_social_account(
                    self.conn, self.opds[slug], platform, handle, verified
                )
        await self._visibility()
        await self._sla_states()
        await self._timelines()
        await self._relations(work_item_ids)
        return self.ids

    async def _visibility(self) -> None:
        held = await self.submit(
            "confidential_held", 10, channel=Channel.WHATSAPP, confidential=True,
            **self.reporter("@sri_w"), lat=-6.99, lon=110.42,
        )  # fmt: skip
        await self.assign(held, 9, "dpubmck")
        elsewhere = await self.submit(
            "confidential_elsewhere", 12, CLINIC, category_code="KESEHATAN", confidential=True,
            **self.reporter("@warga_sehat"),
        )  # fmt: skip
        await self.assign(elsewhere, 11)
        moved = await self.submit("confidential_moved", 30, confidential=True,
                                  **self.reporter("@pindah"))  # fmt: skip
        await self.assign(moved, 29, "dpubmck")
        await self.reassign(moved, 20, "dinkes")
        await self.submit("confidential_received", 3, confidential=True, anonymous=True)
        anonymous = await self.submit(
            "anonymous_held", 8, channel=Channel.X, anonymous=True, **self.reporter("@anon")
        )
        await self.assign(anonymous, 7, "dpubmck")
        await self.submit("no_opd", 2, category_code=None, region_code="33.19",
                          channel=Channel.HOTLINE)  # fmt: skip
        await self.submit("ref_only", 4, channel=Channel.NATIONAL, external_ref="edge-lapor-77")
        await self.submit(
            "media", 5, channel=Channel.APP, media_urls=("https://x.id/a.jpg", "https://x.id/b.jpg"),
            lat=-7.05, lon=110.4, reporter_name="Budi",
        )  # fmt: skip

    async def _sla_states(self) -> None:
        # JALAN answers in 24 h; at risk once less than a quarter of the window is left.
        on_track = await self.submit("sla_on_track", 2)
        await self.assign(on_track, 1, "dpubmck")
        at_risk = await self.submit("sla_at_risk", 21, region_code="33.19")
        await self.assign(at_risk, 20, "dpubmck")
        breached = await self.submit("sla_breached", 31)
        await self.assign(breached, 30, "dpubmck")
        met = await self.submit("sla_met", 6, **self.reporter("@tepat"))
        await self.assign(met, 5, "dpubmck")
        await self.follow_up(met, 4)
        late = await self.submit("sla_resolved_late", 400)
        await self.assign(late, 399, "dpubmck")
        await self.follow_up(late, 398)
        await self.resolve(late, 1)
        closed = await self.submit("closed_rated", 100, **self.reporter("@puas"))
        await self.assign(closed, 99, "dpubmck")
        await self.follow_up(closed, 98)
        await self.resolve(closed, 90)
        await self.step(workflow.confirm, closed, 89, rating=5, comment="Cepat, terima kasih.")
        reopened = await self.submit("reopened", 50)
        await self.assign(reopened, 49, "dpubmck")
        await self.follow_up(reopened, 48)
        await self.resolve(reopened, 40)
        await self.step(workflow.reopen, reopened, 30, reason="Lubang muncul lagi.")
        # Breached long ago and never answered: escalated up to the governor's office.
        escalated = await self.submit("escalated", 101, confidential=True, **self.reporter("@x"))
        await self.assign(escalated, 100, "dpubmck")
        while True:
            async with self.conn.transaction():
                outcome = await workflow.record_next_mark(
                    self.conn, escalated, self.now, SlaRules()
                )
            if outcome.event is None:
                break

    async def _timelines(self) -> None:
        long = await self.submit("long_timeline", 80, **self.reporter("@panjang"))
        await self.assign(long, 79, "dpubmck")
        async with self.conn.transaction():  # one commit for all (each step a savepoint)
            for i in range(LONG_TIMELINE):
                await self.follow_up(long, 78 - i, f"Tindak lanjut ke-{i + 1}.")
        # Confidential and handed back and forth: an OPD sees some of its events only.
        ping = await self.submit("long_confidential", 80, confidential=True, **self.reporter("@pp"))
        await self.assign(ping, 79, "dpubmck")
        async with self.conn.transaction():
            for i in range(LONG_TIMELINE):
                await self.reassign(ping, 78 - i, "dinkes" if i % 2 == 0 else "dpubmck")

    async def _relations(self, work_item_ids: list[int]) -> None:
        original = await self.submit("original", 40, **self.reporter("@asli"))
        await self.assign(original, 39, "dpubmck")
        for name, of in (("duplicate", original), ("duplicate_of_confidential",
                                                   self.ids["confidential_held"])):  # fmt: skip
            duplicate = await self.submit(name, 6)
            await self.step(
                workflow.reject, duplicate, 5, reason=RejectionReason.DUPLICATE,
                note="Sudah dilaporkan.", duplicate_of_id=of,
            )  # fmt: skip
        spam = await self.submit("rejected_spam", 7, channel=Channel.SMS)
        await self.step(workflow.reject, spam, 6, reason=RejectionReason.SPAM, note=None,
                        duplicate_of_id=None)  # fmt: skip
        for name, confidential in (("linked", False), ("linked_confidential", True)):
            linked = await self.submit(name, 20, confidential=confidential,
                                       **self.reporter("@lubang"))  # fmt: skip
            await self.assign(linked, 19, "dpubmck")
            await self.step(workflow.link_work_item, linked, 18, work_item_id=work_item_ids[0])
        no_category = await self.submit("assigned_without_category", 3, category_code=None)
        await self.assign(no_category, 2, "dinkes")
