"""The wall as a command-center operator judges it, in a real Chromium at 1920x1080 and
1366x768: the open SLA alerts are there on a fresh load, newest first however they arrive; a
ring on the map means a deadline breached in the last 15 minutes; no text is cut, no map names
collide, every word is Indonesian; a laptop's first screen holds the counters, the ticker and
the alerts; a refused key is said plainly and ends the reconnecting."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from kilas.db.pool import create_pool
from kilas.demo import load_demo
from kilas.packs import DEFAULT_PACK, load_pack
from kilas.simulate import simulate
from tests import ops
from tests._open_alerts_helpers import breached_ago, held_since
from tests._wall_helpers import (
    CLIPPED_TEXT,
    COLLIDING_NAMES,
    ENGLISH,
    FULLY_IN_VIEW,
    LAPTOP,
    WALL,
    chromium,
    expect,
    needs_chromium,
    visible_words,
    wall,
)
from tests.wire import RunningServer, start_server, token

pytestmark = needs_chromium
MINUTES = timedelta(minutes=1)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with chromium() as browser:
        yield browser


@pytest.fixture
async def pool(server: RunningServer) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(server.settings.database_url or "", min_size=1, max_size=2)
    try:
        yield pool
    finally:
        await pool.close()


async def alert_lines(page: Any) -> list[tuple[str, str, str]]:
    """(type, region, occurredAt) of every line of the alerts panel, top to bottom."""
    lines: list[tuple[str, str, str]] = await page.eval_on_selector_all(
        "#alerts [data-cursor]",
        """(items) => items.map((li) => [li.dataset.type, li.dataset.region,
                                         li.querySelector("time").getAttribute("datetime")])""",
    )
    return [tuple(line) for line in lines]  # type: ignore[misc]


def newest_first(lines: list[tuple[str, str, str]]) -> bool:
    moments = [datetime.fromisoformat(moment) for _, _, moment in lines]
    return moments == sorted(moments, reverse=True)


async def test_a_fresh_wall_shows_the_open_alerts_newest_first_and_rings_only_a_fresh_breach(
    server: RunningServer, pool: asyncpg.Pool, browser: Any
) -> None:
    # given: breaches 5 minutes and 3 hours old, a clock at risk, all swept, then enough
    # changes after them that the ticker's first lines are all newer than every alert
    await held_since(pool, breached_ago(5 * MINUTES), "33.74")
    await held_since(pool, breached_ago(180 * MINUTES), "33.01")
    await held_since(pool, breached_ago(-240 * MINUTES), "33.19")
    await server.app.state.kilas.sweeper.sweep()
    for n in range(45):
        await ops.submit(server.http_url, externalRef=f"later-{n}", regionCode="33.22")
    # when
    async with wall(browser, server.port) as (page, console):
        # then
        await expect(page.locator("#alerts [data-cursor]")).to_have_count(5)
        lines = await alert_lines(page)
        assert [(kind, region) for kind, region, _ in lines] == [
            ("ESCALATED", "33.74"), ("SLA_BREACHED", "33.74"),
            ("SLA_AT_RISK", "33.19"),
            ("ESCALATED", "33.01"), ("SLA_BREACHED", "33.01"),
        ]  # fmt: skip
        assert newest_first(lines)
        await expect(count_of_breaches(page)).not_to_have_text("0")
        await expect(page.locator("#map .region.breached")).to_have_count(1)
        await expect(page.locator('#map .region.breached[data-code="33.74"]')).to_have_count(1)
        assert console.errors == []


def count_of_breaches(page: Any) -> Any:
    return page.locator('#counts [data-status="BREACHES"] .count')


async def test_alerts_arriving_live_and_replayed_after_a_reconnect_stay_newest_first(
    server: RunningServer, pool: asyncpg.Pool, browser: Any
) -> None:
    sweep = server.app.state.kilas.sweeper.sweep
    async with wall(browser, server.port) as (page, console):
        # live, the older breach after the newer one
        await held_since(pool, breached_ago(6 * MINUTES), "33.74")
        await sweep()
        await held_since(pool, breached_ago(240 * MINUTES), "33.01")
        await sweep()
        await expect(page.locator('#alerts [data-type="SLA_BREACHED"]')).to_have_count(2)
        assert newest_first(await alert_lines(page))
        # replayed after a reconnect, in cursor order: the oldest first, then the newest
        await page.context.set_offline(True)
        await expect(page.locator("#connection")).to_have_attribute("data-state", "closed")
        await held_since(pool, breached_ago(420 * MINUTES), "33.19")
        await sweep()
        await held_since(pool, breached_ago(2 * MINUTES), "33.03")
        await sweep()
        await page.context.set_offline(False)
        await expect(page.locator('#alerts [data-type="SLA_BREACHED"]')).to_have_count(4)
        lines = await alert_lines(page)
        assert newest_first(lines)
        breaches = [region for kind, region, _ in lines if kind == "SLA_BREACHED"]
        assert breaches == ["33.03", "33.74", "33.01", "33.19"]
        await expect(page.locator("#map .region.breached")).to_have_count(2)
        assert console.errors == []


@pytest.mark.parametrize("size", [WALL, LAPTOP], ids=["1920x1080", "1366x768"])
async def test_no_text_is_cut_no_map_names_collide_and_every_word_is_indonesian(
    database_url: str, browser: Any, size: tuple[int, int]
) -> None:
    await load_demo(database_url, load_pack(DEFAULT_PACK))
    async with start_server(database_url, sla_sweep_interval=0) as server:
        await server.app.state.kilas.sweeper.sweep()
        await simulate(server.http_url, rate=1200, seed=5, count=25, token=token("OPERATOR"))
        async with wall(browser, server.port, size=size) as (page, console):
            await expect(page.locator("#alerts [data-cursor]").first).to_be_visible()
            await expect(page.locator("#programme .work-items li")).to_have_count(10)
            await expect(page.locator("#leaderboard tbody tr").first).to_be_visible()
            await page.wait_for_timeout(1000)  # the ticker's arrival animations end
            assert await page.evaluate(CLIPPED_TEXT) == []
            assert await page.evaluate(COLLIDING_NAMES) == []
            assert set(ENGLISH) & await visible_words(page) == set()
            assert console.errors == []


async def test_a_laptop_first_screen_holds_the_counters_the_ticker_and_the_alerts(
    server: RunningServer, pool: asyncpg.Pool, browser: Any
) -> None:
    await held_since(pool, breached_ago(5 * MINUTES), "33.74")
    await server.app.state.kilas.sweeper.sweep()
    for n in range(12):
        await ops.submit(server.http_url, externalRef=f"laptop-{n}", regionCode="33.22")
    async with wall(browser, server.port, size=LAPTOP) as (page, console):
        await expect(page.locator("#alerts [data-cursor]").first).to_be_visible()
        for whole in ("#counts", ".ticker-panel", ".alerts-panel", ".top"):
            assert await page.evaluate(FULLY_IN_VIEW, whole), whole
        for lines in ("#ticker", "#alerts"):
            assert await page.evaluate(FULLY_IN_VIEW, f"{lines} > li:first-child"), lines
            box = await page.locator(lines).bounding_box()
            assert box is not None and box["height"] >= 300, lines
        assert console.errors == []


async def test_a_refused_key_is_said_in_indonesian_and_the_wall_stops_trying(
    server: RunningServer, browser: Any
) -> None:
    context = await browser.new_context(viewport={"width": WALL[0], "height": WALL[1]})
    try:
        page = await context.new_page()
        asked: list[str] = []
        page.on("request", lambda request: asked.append(request.url))
        page.on("websocket", lambda socket: asked.append(socket.url))
        await page.goto(f"http://127.0.0.1:{server.port}/wall#key=kls_not-a-key")
        await expect(page.locator("#connection")).to_have_attribute("data-state", "refused")
        await expect(page.locator("#connection")).to_have_text("Kunci ditolak")
        banner = page.locator("#problem")
        await expect(banner).to_contain_text("Kunci akses layar ini ditolak server")
        assert set(ENGLISH) & await visible_words(page) == set()
        tries = len(asked)
        await page.wait_for_timeout(3000)  # a retry would have been made within 2 s
        assert len(asked) == tries
        await expect(page.locator("#connection")).to_have_text("Kunci ditolak")
    finally:
        await context.close()


async def test_a_socket_closed_for_an_expired_credential_ends_in_the_refused_state(
    server: RunningServer, browser: Any
) -> None:
    expiring = token("OPERATOR", expires_at=datetime.now(UTC) + timedelta(seconds=8))
    context = await browser.new_context(viewport={"width": WALL[0], "height": WALL[1]})
    try:
        page = await context.new_page()
        await page.goto(f"http://127.0.0.1:{server.port}/wall#key={expiring}")
        await expect(page.locator("#connection")).to_have_attribute("data-state", "open")
        await expect(page.locator("#connection")).to_have_attribute(
            "data-state", "refused", timeout=20000
        )
        await expect(page.locator("#connection")).to_have_text("Kunci ditolak")
        await expect(page.locator("#problem")).to_contain_text("Minta kunci baru")
    finally:
        await context.close()
