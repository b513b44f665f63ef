"""Per-request (and, for subscriptions, per-event-batch) DataLoaders, named for what they load.

Each loader turns any number of `.load(key)` calls made while a response is resolved into one SQL
statement, so the number of round trips does not grow with the number of rows returned."""

from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Protocol, TypeVar

import asyncpg
from strawberry.dataloader import DataLoader

from kilas.db import complaints as complaints_db
from kilas.db import duplicates as duplicates_db
from kilas.db import events as events_db
from kilas.db import heads as heads_db
from kilas.db import programmes as programmes_db
from kilas.db import reference as reference_db
from kilas.db import replies as replies_db
from kilas.db.heads import HeadRow
from kilas.db.pool import Connection
from kilas.db.reference import CategoryHoursRow
from kilas.domain.clock import Clock, SystemClock


class Paged(Protocol):
    @property
    def page(self) -> int: ...


K = TypeVar("K", bound=Hashable)
R = TypeVar("R")
P = TypeVar("P", bound=Paged)
# Rows by a list of keys; a loader is told how to read a row's key, so mypy checks the column.
Fetch = Callable[[Connection, list[K]], Awaitable[list[R]]]


class Loaders:
    def __init__(self, pool: asyncpg.Pool, clock: Clock | None = None) -> None:
        self._pool = pool
        now = (clock or SystemClock()).now()
        self.complaint_by_id = self._one(complaints_db.complaints_by_ids, lambda c: c.id)
        self.opd_by_id = self._one(reference_db.opds_by_ids, lambda opd: opd.id)
        self.region_by_code = self._one(reference_db.regions_by_codes, lambda region: region.code)
        self.category_by_code = self._one(reference_db.categories_by_codes, lambda c: c.code)
        self.sla_policy_by_id = self._one(reference_db.sla_policies_by_ids, lambda p: p.id)
        self.programme_by_id = self._one(programmes_db.programmes_by_ids, lambda p: p.id)
        self.work_item_by_id = self._one(programmes_db.work_items_by_ids, lambda item: item.id)
        self.event_by_id = self._one(events_db.events_by_ids, lambda e: e.id)
        self.last_event_by_complaint_id = self._one(
            events_db.last_events_by_complaint_ids, lambda e: e.complaint_id
        )
        self.social_accounts_by_opd_id = self._many(
            reference_db.social_accounts_by_opd_ids, lambda account: account.opd_id
        )
        self.categories_by_opd_id = self._many(
            reference_db.categories_by_opd_ids, lambda c: c.default_opd_id
        )
        self.work_items_by_programme_id = self._many(
            programmes_db.work_items_by_programme_ids, lambda item: item.programme_id
        )
        self.successors_by_programme_id = self._many(
            programmes_db.successors_by_ids, lambda p: p.predecessor_id
        )
        self.complaints_by_work_item_id = self._many(
            complaints_db.complaints_by_work_item_ids, lambda c: c.work_item_id
        )
        self.open_backlog_by_opd_id = self._count(
            complaints_db.open_backlog_by_opd_ids, lambda row: row.opd_id, lambda row: row.open
        )
        self.category_hours_by_policy_id = self._many(
            reference_db.category_hours_by_policy_ids, lambda hours: hours.policy_id
        )

        async def hours_now(conn: Connection, codes: list[str]) -> list[CategoryHoursRow]:
            return await reference_db.category_hours_now_by_codes(conn, codes, now)

        # No row: the category has no deadline of its own under the policy in force.
        self.resolution_hours_now_by_category_code = self._one(
            hours_now, lambda hours: hours.category_code
        )
        self.open_count_by_region_code = self._count(
            complaints_db.open_count_by_region_codes,
            lambda row: row.region_code,
            lambda row: row.open,
        )
        # (complaint id, after, limit): one page of a complaint's timeline.
        self.timeline_page = self._pages(events_db.event_pages)
        self.head_by_id = self._one(heads_db.heads_by_ids, lambda head: head.id)
        self.heads_by_opd_id = self._many(heads_db.heads_by_opd_ids, lambda head: head.opd_id)
        self.accounts_by_head_id = self._many(
            heads_db.accounts_by_head_ids, lambda account: account.head_id
        )

        async def heads_now(conn: Connection, opd_ids: list[int]) -> list[HeadRow]:
            return await heads_db.heads_in_office(conn, opd_ids, now)

        self.head_in_office_by_opd_id = self._one(heads_now, lambda head: head.opd_id)
        self.replies_by_complaint_id = self._many(
            replies_db.replies_by_complaint_ids, lambda reply: reply.complaint_id
        )
        # (complaint id, limit, search): its likely duplicates, best first.
        self.duplicate_candidates = self._pages(duplicates_db.candidates_of)
        # (OPD id, moment): the head in office then, as a list of none or one.
        self.head_at = self._pages(heads_db.heads_at)

    async def _fetch(self, fetch: Fetch[K, R], keys: Sequence[K]) -> list[R]:
        async with self._pool.acquire() as conn:
            return await fetch(conn, list(keys))

    def _one(self, fetch: Fetch[K, R], key: Callable[[R], K]) -> DataLoader[K, R | None]:
        async def load(keys: list[K]) -> list[R | None]:
            found = {key(row): row for row in await self._fetch(fetch, keys)}
            return [found.get(k) for k in keys]

        return DataLoader(load_fn=load)

    def _many(self, fetch: Fetch[K, R], key: Callable[[R], K | None]) -> DataLoader[K, list[R]]:
        async def load(keys: list[K]) -> list[list[R]]:
            groups: dict[K | None, list[R]] = defaultdict(list)
            for row in await self._fetch(fetch, keys):
                groups[key(row)].append(row)
            return [groups.get(k, []) for k in keys]

        return DataLoader(load_fn=load)

    def _pages(self, fetch: Fetch[K, P]) -> DataLoader[K, list[P]]:
        """Rows by the position of their key among the keys (`page`, 1-based), for loaders whose
        keys are not a column."""

        async def load(keys: list[K]) -> list[list[P]]:
            groups: dict[int, list[P]] = defaultdict(list)
            for row in await self._fetch(fetch, keys):
                groups[row.page].append(row)
            return [groups.get(page, []) for page in range(1, len(keys) + 1)]

        return DataLoader(load_fn=load)

    def _count(
        self, fetch: Fetch[K, R], key: Callable[[R], K], count: Callable[[R], int]
    ) -> DataLoader[K, int]:
        """0 for a key without a row."""

        async def load(keys: list[K]) -> list[int]:
            found = {key(row): int(count(row)) for row in await self._fetch(fetch, keys)}
            return [found.get(k, 0) for k in keys]

        return DataLoader(load_fn=load)
