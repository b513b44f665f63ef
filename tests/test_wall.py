"""The command center's wall in a real headless Chromium against real servers: it loads, shows
a change made over HTTP within two seconds, survives the server going away and shows each event
it missed exactly once, narrows to a region, connects with a key from the URL fragment, and never
asks for a reporter's personal data. It also takes the README's screenshot (docs/wall.png)."""

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from kilas.auth import api_keys
from kilas.db import api_keys as api_keys_db
from kilas.db.pool import connect
from kilas.demo import load_demo
from kilas.packs import DEFAULT_PACK, load_pack
from kilas.simulate import simulate
from tests import ops
from tests._wall_helpers import (
    COLLIDING_NAMES,
    Console,
    chromium,
    expect,
    needs_chromium,
    open_wall,
    wall,
)
from tests.wire import RunningServer, free_port, start_server, token

pytestmark = needs_chromium
SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "wall.png"
# Fields the wall must never ask for: the reporter's, and the tracking number (a reporter's key).
PERSONAL = re.compile(r"\b(reporter|contact|handle|externalRef|trackingNumber|text|note)\b")


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with chromium() as launched:
        yield launched


def in_ticker(page: Any, cursor: str) -> Any:
    return page.locator(f'#ticker [data-cursor="{cursor}"]')


def count_tile(page: Any, status: str) -> Any:
    return page.locator(f'#counts [data-status="{status}"] .count')


async def within(seconds: float, started: float, check: Any) -> None:
    """Wait for `check` (an expect) and assert it held within `seconds` of `started`."""
    await check
    assert time.monotonic() - started < seconds, f"took {time.monotonic() - started:.2f} s"


async def test_a_change_made_over_http_reaches_the_ticker_and_the_counts_within_two_seconds(
    database_url: str, browser: Any
) -> None:
    async with (
        start_server(database_url, sla_sweep_interval=0) as server,
        wall(browser, server.port) as (page, console),
    ):
        assert await page.locator("#map .region").count() == 35
        await expect(page.locator("#province-name")).to_have_text("Provinsi Jawa Tengah")
        await expect(count_tile(page, "RECEIVED")).to_have_text("0")

        started = time.monotonic()
        submitted = await ops.submit(
            server.http_url, channel="WHATSAPP", regionCode="33.74", categoryCode="JALAN"
        )
        item = in_ticker(page, submitted["event"]["cursor"])
        await within(2.0, started, expect(item).to_be_visible(timeout=2000))
        await within(2.0, started, expect(count_tile(page, "RECEIVED")).to_have_text("1"))
        for shown in ("Aduan masuk", "WhatsApp", "Kota Semarang", "Jalan dan Jembatan", "baru"):
            await expect(item).to_contain_text(shown)

        started = time.monotonic()
        complaint_id = submitted["complaint"]["id"]
        assigned = await ops.act_ok(server.http_url, "assignComplaint", complaintId=complaint_id)
        item = in_ticker(page, assigned["event"]["cursor"])
        await within(2.0, started, expect(item).to_contain_text("DPUBMCK", timeout=2000))
        await within(2.0, started, expect(count_tile(page, "ASSIGNED")).to_have_text("1"))
        await expect(count_tile(page, "RECEIVED")).to_have_text("0")
        assert await page.locator('#map .region[data-code="33.74"]').get_attribute("data-open")
        assert console.errors == []


async def test_after_the_server_restarts_the_wall_shows_each_missed_event_exactly_once(
    database_url: str, browser: Any
) -> None:
    port = free_port()
    context = await browser.new_context(viewport={"width": 1920, "height": 1080})
    try:
        page = await context.new_page()
        console = Console(page)
        async with start_server(database_url, port=port, sla_sweep_interval=0) as server:
            await open_wall(page, port)
            before = await ops.submit(server.http_url, externalRef="before", regionCode="33.19")
            await expect(in_ticker(page, before["event"]["cursor"])).to_be_visible()
            await page.evaluate("window.sameDocument = true")
        # The server is gone; the wall stays open and says so.
        await expect(page.locator("#connection")).to_have_attribute("data-state", "closed")
        await expect(page.locator("#connection")).to_contain_text("Terputus — menyambung ulang")

        # Meanwhile another instance on the same database takes changes.
        async with start_server(database_url, sla_sweep_interval=0) as other:
            missed = await changes_while_away(other, before["complaint"]["id"])

        async with start_server(database_url, port=port, sla_sweep_interval=0):
            await expect(page.locator("#connection")).to_have_attribute(
                "data-state", "open", timeout=30000
            )
            shown = [before["event"]["cursor"], *missed]
            for cursor in shown:
                await expect(in_ticker(page, cursor)).to_have_count(1)
            await expect(count_tile(page, "TOTAL")).to_have_text("4")
            await asyncio.sleep(1.5)  # anything doubled would have arrived by now
            for cursor in shown:
                await expect(in_ticker(page, cursor)).to_have_count(1)
            assert await page.locator("#ticker [data-cursor]").count() == len(shown)
            assert await page.evaluate("window.sameDocument") is True
        assert browser_noise_only(console.errors, port), console.errors
    finally:
        await context.close()


async def changes_while_away(server: RunningServer, complaint_id: str) -> list[str]:
    url = server.http_url
    cursors = []
    for n in range(3):
        payload = await ops.submit(url, externalRef=f"away-{n}", regionCode="33.74")
        cursors.append(payload["event"]["cursor"])
    for name, extra in [("assignComplaint", {}), ("recordFollowUp", {"message": "Dicek."})]:
        payload = await ops.act_ok(url, name, complaintId=complaint_id, **extra)
        cursors.append(payload["event"]["cursor"])
    return cursors


def browser_noise_only(errors: list[str], port: int) -> bool:
    """While the server is down, Chromium itself logs each refused WebSocket connection as a
    console error; the page logs nothing. Anything else is a real error."""
    noise = re.compile(
        rf"console error: WebSocket connection to 'ws://127\.0\.0\.1:{port}/graphql' failed"
    )
    return all(noise.match(error) for error in errors)


async def test_taken_offline_the_wall_reconnects_and_catches_up(
    server: RunningServer, browser: Any
) -> None:
    async with wall(browser, server.port) as (page, console):
        await page.context.set_offline(True)
        await expect(page.locator("#connection")).to_have_attribute("data-state", "closed")
        missed = [
            (await ops.submit(server.http_url, externalRef=f"offline-{n}"))["event"]["cursor"]
            for n in range(2)
        ]
        await page.context.set_offline(False)
        await expect(page.locator("#connection")).to_have_attribute(
            "data-state", "open", timeout=30000
        )
        for cursor in missed:
            await expect(in_ticker(page, cursor)).to_have_count(1)
        assert console.errors == []


async def test_a_region_in_the_url_narrows_the_wall_to_that_region(
    server: RunningServer, browser: Any
) -> None:
    async with wall(browser, server.port, "/wall?region=33.19") as (page, console):
        await expect(page.locator("#scope")).to_have_text("Kab. Kudus")
        semarang = await ops.submit(server.http_url, externalRef="smg", regionCode="33.74")
        kudus = await ops.submit(server.http_url, externalRef="kds", regionCode="33.19")
        await expect(in_ticker(page, kudus["event"]["cursor"])).to_be_visible()
        await expect(in_ticker(page, semarang["event"]["cursor"])).to_have_count(0)
        await expect(count_tile(page, "TOTAL")).to_have_text("1")
        assert await page.locator("#map .region.dimmed").count() == 34
        assert console.errors == []


async def partner_key(database_url: str) -> str:
    key, prefix = api_keys.new_key()
    conn = await connect(database_url)
    try:
        await api_keys_db.insert_key(
            conn, prefix=prefix, key_hash=api_keys.key_hash(key), name="Layar pusat komando",
            role="PARTNER", opd_id=None, region_code=None, expires_at=None,
        )  # fmt: skip
    finally:
        await conn.close()
    return key


async def test_the_wall_connects_with_the_key_in_the_fragment_and_never_asks_for_personal_data(
    server: RunningServer, browser: Any
) -> None:
    key = await partner_key(server.settings.database_url or "")
    sent: list[str] = []
    context = await browser.new_context()
    page = await context.new_page()
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(frame)))
    page.on("request", lambda request: sent.append(request.post_data or ""))
    await page.goto(f"http://127.0.0.1:{server.port}/wall")
    await expect(page.locator("#connection")).to_have_attribute("data-state", "open")
    await page.goto(f"http://127.0.0.1:{server.port}/wall?opd=dpubmck#key={key}")
    await expect(page.locator("#scope")).to_have_text("DPUBMCK")
    await expect(page.locator("#connection")).to_have_attribute("data-state", "open")
    await context.close()

    inits = [json.loads(f)["payload"] for f in sent if '"connection_init"' in f]
    assert inits == [{}, {"authorization": f"Bearer {key}"}]
    operations = [f for f in sent if '"query' in f]
    assert any("complaintEvents" in f for f in operations)
    assert not [f for f in operations if PERSONAL.search(f)]


async def test_the_wall_on_a_laptop_screen_keeps_every_panel(
    server: RunningServer, browser: Any
) -> None:
    async with wall(browser, server.port, size=(1366, 768)) as (page, console):
        for panel in ("#map", "#ticker", "#alerts", "#leaderboard", "#programme", "#counts"):
            box = await page.locator(panel).bounding_box()
            assert box is not None and box["width"] > 200, panel
        assert console.errors == []


async def test_the_readme_screenshot_shows_a_live_demo(database_url: str, browser: Any) -> None:
    await load_demo(database_url, load_pack(DEFAULT_PACK))
    async with (
        start_server(database_url, sla_sweep_interval=0) as server,
        wall(browser, server.port) as (page, console),
    ):
        # SLA marks come in live, as the sweeper finds the demo's deadlines passed.
        await server.app.state.kilas.sweeper.sweep()
        await simulate(server.http_url, rate=1200, seed=5, count=25, token=token("OPERATOR"))
        await expect(page.locator("#alerts [data-cursor]").first).to_be_visible()
        await expect(page.locator("#programme .work-items li")).to_have_count(10)
        await asyncio.sleep(2)  # the ticker's arrival animations end
        SCREENSHOT.parent.mkdir(exist_ok=True)
        await page.screenshot(path=str(SCREENSHOT))
        assert await page.locator("#ticker > li").count() <= 40
        assert console.errors == []


async def test_north_sumatras_wall_draws_its_own_province(database_url: str, browser: Any) -> None:
    """`kilas serve --demo --pack sumut`: the wall's title, map, labels and programme are the
    pack's."""
    async with start_server(database_url, pack="sumut", sla_sweep_interval=0) as server:
        await load_demo(database_url, load_pack("sumut"))
        async with wall(browser, server.port) as (page, console):
            await expect(page.locator("#province-name")).to_have_text("Provinsi Sumatera Utara")
            await expect(page.locator("#scope")).to_have_text("Seluruh Sumatera Utara")
            assert "Sumatera Utara" in await page.title()
            assert await page.locator("#map .region").count() == 33
            assert await page.locator('#map .region[data-code="12.71"]').count() == 1
            assert await page.locator("#map path.outline").count() == 1
            labels = await page.locator("#map .sea").all_text_contents()
            assert labels == ["SELAT MALAKA", "SAMUDRA HINDIA"]
            await expect(page.locator("#programme-title")).to_have_text(
                "Pemeliharaan Jalan Provinsi 2026"
            )
            await expect(page.locator("#programme .work-items li")).to_have_count(10)
            await expect(page.locator("#map g.work-items .work-item")).to_have_count(10)
            assert await page.evaluate(COLLIDING_NAMES) == []
            assert console.errors == []
