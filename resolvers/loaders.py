"""Per-request (and, for subscriptions, per-event-batch) DataLoaders, named for what they load.

Each loader turns any number of `.load(key)` calls made while a response is resolved into one SQL
statement, so the number of round trips does not grow with the number of rows returned."""

from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, TypeVar

import asyncpg
from strawberry.dataloader import DataLoader

from kilas.db import complaints as complaints_db
from kilas.db import events as events_db
from kilas.db import programmes as programmes_db
from kilas.db import reference as reference_db
from kilas.db.pool import Connection
from kilas.domain.clock import Clock, SystemClock

K = TypeVar("K", bound=Hashable)
Fetch = Callable[[Connection, list[Any]], Awaitable[list[asyncpg.Record]]]


class Loaders:
    def __init__(self, pool: asyncpg.Pool, clock: Clock | None = None) -> None:
        self._pool = pool
        now = (clock or SystemClock()).now()
        self.complaint_by_id = self._one(complaints_db.complaints_by_ids, "id")
        self.opd_by_id = self._one(reference_db.opds_by_ids, "id")
        self.region_by_code = self._one(reference_db.regions_by_codes, "code")
        self.category_by_code = self._one(reference_db.categories_by_codes, "code")
        self.sla_policy_by_id = self._one(reference_db.sla_policies_by_ids, "id")
        self.programme_by_id = self._one(programmes_db.programmes_by_ids, "id")
        self.work_item_by_id = self._one(programmes_db.work_items_by_ids, "id")
        self.event_by_id = self._one(events_db.events_by_ids, "id")
        self.last_event_by_complaint_id = self._one(
            events_db.last_events_by_complaint_ids, "complaint_id"
        )
        self.social_accounts_by_opd_id = self._many(
            reference_db.social_accounts_by_opd_ids, "opd_id"
        )
        self.categories_by_opd_id = self._many(reference_db.categories_by_opd_ids, "default_opd_id")
        self.work_items_by_programme_id = self._many(
            programmes_db.work_items_by_programme_ids, "programme_id"
        )
        self.successors_by_programme_id = self._many(
            programmes_db.successors_by_ids, "predecessor_id"
        )
        self.complaints_by_work_item_id = self._many(
            complaints_db.complaints_by_work_item_ids, "work_item_id"
        )
        self.open_backlog_by_opd_id = self._count(
            complaints_db.open_backlog_by_opd_ids, "opd_id", "open"
        )
        self.category_hours_by_policy_id = self._many(
            reference_db.category_hours_by_policy_ids, "policy_id"
        )

        async def hours_now(conn: Connection, codes: list[str]) -> list[asyncpg.Record]:
            return await reference_db.category_hours_now_by_codes(conn, codes, now)

        self.resolution_hours_now_by_category_code = self._count(
            hours_now, "category_code", "resolution_hours", missing=None
        )
        self.open_count_by_region_code = self._count(
            complaints_db.open_count_by_region_codes, "region_code", "open"
        )
        # (complaint id, after, limit): one page of a complaint's timeline.
        self.timeline_page = self._pages(events_db.event_pages)

    async def _fetch(self, fetch: Fetch, keys: Sequence[Any]) -> list[asyncpg.Record]:
        async with self._pool.acquire() as conn:
            return await fetch(conn, list(keys))

    def _one(self, fetch: Fetch, key: str) -> DataLoader[Any, asyncpg.Record | None]:
        async def load(keys: list[Any]) -> list[asyncpg.Record | None]:
            found = {row[key]: row for row in await self._fetch(fetch, keys)}
            return [found.get(k) for k in keys]

        return DataLoader(load_fn=load)

    def _many(self, fetch: Fetch, key: str) -> DataLoader[Any, list[asyncpg.Record]]:
        async def load(keys: list[Any]) -> list[list[asyncpg.Record]]:
            groups: dict[Any, list[asyncpg.Record]] = defaultdict(list)
            for row in await self._fetch(fetch, keys):
                groups[row[key]].append(row)
            return [groups.get(k, []) for k in keys]

        return DataLoader(load_fn=load)

    def _pages(self, fetch: Fetch) -> DataLoader[Any, list[asyncpg.Record]]:
        """Rows by the position of their key among the keys (`page`, 1-based), for loaders whose
        keys are not a column."""

        async def load(keys: list[Any]) -> list[list[asyncpg.Record]]:
            groups: dict[int, list[asyncpg.Record]] = defaultdict(list)
            for row in await self._fetch(fetch, keys):
                groups[row["page"]].append(row)
            return [groups.get(page, []) for page in range(1, len(keys) + 1)]

        return DataLoader(load_fn=load)

    def _count(
        self, fetch: Fetch, key: str, value: str, missing: int | None = 0
    ) -> DataLoader[Any, Any]:
        async def load(keys: list[Any]) -> list[int | None]:
            found = {row[key]: int(row[value]) for row in await self._fetch(fetch, keys)}
            return [found.get(k, missing) for k in keys]

        return DataLoader(load_fn=load)
