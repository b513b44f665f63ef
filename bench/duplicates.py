"""Intake with the duplicate search, next to intake alone, on a loaded database.

    python bench/bulk_load.py --complaints 1000000 --database-url postgresql://…/kilas_bench_dup
    python bench/duplicates.py --intakes 500 --database-url postgresql://…/kilas_bench_dup

Each intake is `domain.workflow.submit` of a new complaint (tracking number, insert, SUBMITTED
event) in its own transaction, timed from BEGIN to the end; with the search, as the API and
channel intake run it, the likely duplicates of the new complaint are found (the settings'
defaults: 72 h, 2 km, similarity 0.3) and recorded on its SUBMITTED event. Half the new
complaints retell a complaint of the last three days (same category, region, a place a few
hundred metres away, the text with another opening), half are an older complaint's text
elsewhere. Both variants take the same complaints, alternating which goes first, and every
transaction is rolled back, so the database stays as loaded.
"""

import argparse
import asyncio
import random
import statistics
import time
from datetime import datetime
from typing import Any

from bulk_load import database, database_arguments

from kilas.db.pool import create_pool
from kilas.domain import workflow
from kilas.settings import Settings

OPENERS = ("Tolong segera dicek, ", "Lapor lagi: ", "Warga resah, ", "Mohon perhatian, ")


async def samples(conn: Any, count: int, seed: int) -> list[workflow.Submission]:
    rng = random.Random(seed)
    recent = await conn.fetch(
        """
        SELECT text, category_code, region_code, lat, lon FROM complaints
        WHERE created_at > now() - interval '72 hours' AND lat IS NOT NULL
        ORDER BY id LIMIT 5000
        """
    )
    older = await conn.fetch(
        """
        SELECT text, category_code, region_code, lat, lon FROM complaints
        WHERE created_at < now() - interval '30 days' ORDER BY id DESC LIMIT 5000
        """
    )
    out = []
    for i in range(count):
        if i % 2 == 0:
            base = rng.choice(recent)
            text = rng.choice(OPENERS) + base["text"]
            lat, lon = base["lat"] + rng.gauss(0, 0.002), base["lon"] + rng.gauss(0, 0.002)
            region, category = base["region_code"], base["category_code"]
        else:
            base, place = rng.choice(older), rng.choice(recent)
            text, lat, lon = base["text"], place["lat"], place["lon"]
            region, category = place["region_code"], base["category_code"]
        out.append(
            workflow.Submission(
                channel="WHATSAPP",
                text=text[: workflow.MAX_TEXT],
                region_code=region,
                category_code=category,
                lat=lat,
                lon=lon,
                external_ref=f"bench-dup-{seed}-{i}",
            )
        )
    return out


async def intake(pool: Any, s: workflow.Submission, search: bool, settings: Settings) -> float:
    started = time.perf_counter()
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        try:
            await workflow.submit(
                conn,
                s,
                actor="bench",
                at=datetime.now().astimezone(),
                duplicates=settings.duplicate_search if search else None,
            )
            elapsed = time.perf_counter() - started
        finally:
            await tx.rollback()
    return elapsed * 1000


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--intakes", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--seed", type=int, default=13)
    database_arguments(parser)
    args = parser.parse_args()
    settings = Settings()
    async with database(args.database_url, args.data_dir, args.database) as url:
        pool = await create_pool(url, min_size=1, max_size=1)
        try:
            async with pool.acquire() as conn:
                count = await conn.fetchval("SELECT count(*) FROM complaints")
                subs = await samples(conn, args.warmup + args.intakes, args.seed)
            timings: dict[bool, list[float]] = {False: [], True: []}
            found: list[int] = []
            for i, s in enumerate(subs):
                order = (False, True) if i % 2 == 0 else (True, False)
                for search in order:
                    ms = await intake(pool, s, search, settings)
                    if i >= args.warmup:
                        timings[search].append(ms)
            async with pool.acquire() as conn:
                for s in subs[args.warmup : args.warmup + 100]:
                    tx = conn.transaction()
                    await tx.start()
                    event = (
                        await workflow.submit(
                            conn, s, actor="bench", duplicates=settings.duplicate_search
                        )
                    ).event
                    assert event is not None
                    found.append(len(event.data["possibleDuplicates"]))
                    await tx.rollback()
        finally:
            await pool.close()
    print(f"{count:,} complaints; {args.intakes} intakes each way ({args.warmup} warm-up)")
    print("| intake | p50 | p95 | p99 | mean |")
    print("| --- | --- | --- | --- | --- |")
    for search, label in ((False, "submit alone (baseline)"), (True, "submit + duplicate search")):
        t = timings[search]
        print(
            f"| {label} | {percentile(t, 0.5):.1f} ms | {percentile(t, 0.95):.1f} ms "
            f"| {percentile(t, 0.99):.1f} ms | {statistics.fmean(t):.1f} ms |"
        )
    with_any = sum(1 for n in found if n)
    print(
        f"candidates found for {with_any} of {len(found)} new complaints (retellings: every other)"
    )


if __name__ == "__main__":
    asyncio.run(main())
