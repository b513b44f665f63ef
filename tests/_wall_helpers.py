"""Shared by the wall's browser tests: a headless Chromium, the wall open in a page, and what
an operator would see measured in the DOM (clipped text, colliding names, English words)."""

import contextlib
import shutil
from collections.abc import AsyncIterator
from typing import Any

import pytest

playwright = pytest.importorskip("playwright.async_api", reason="playwright is not installed")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium on this machine (Debian: apt-get install chromium; .ci/run installs it)",
)
expect = playwright.expect
WALL = (1920, 1080)
LAPTOP = (1366, 768)


class Console:
    """Every console error and uncaught exception of a page."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("console", self._message)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))

    def _message(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"console error: {message.text} ({message.location})")


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    async with playwright.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM)
        try:
            yield browser
        finally:
            await browser.close()


@contextlib.asynccontextmanager
async def wall(
    browser: Any, port: int, path: str = "/wall", *, size: tuple[int, int] = WALL
) -> AsyncIterator[tuple[Any, Console]]:
    """The wall open and live, in a browser context of its own."""
    context = await browser.new_context(viewport={"width": size[0], "height": size[1]})
    try:
        page = await context.new_page()
        console = Console(page)
        await open_wall(page, port, path)
        yield page, console
    finally:
        await context.close()


async def open_wall(page: Any, port: int, path: str = "/wall") -> None:
    await page.goto(f"http://127.0.0.1:{port}{path}")
    await expect(page.locator("body")).to_have_attribute("data-ready", "true", timeout=15000)
    await expect(page.locator("#connection")).to_have_attribute("data-state", "open")


# Every visible piece of text that a box with overflow hidden cuts: sideways without an
# ellipsis (the element's own scrollWidth > clientWidth, or its text reaching past a clipping
# ancestor), or at all from above or below (a line cut in half). SVG text is measured against
# the <svg>, which clips too.
CLIPPED_TEXT = """() => {
  const clipped = [];
  const clips = (value) => value === "hidden" || value === "clip";
  const describe = (el) => `${el.tagName.toLowerCase()}.${el.getAttribute("class") ?? ""}`;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    const element = node.parentElement;
    if (!text || !element || element.closest("title, script, style")) continue;
    const style = getComputedStyle(element);
    if (style.visibility !== "visible" || element.getClientRects().length === 0) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const rect = range.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0) continue;
    for (let box = element; box && box !== document.body; box = box.parentElement) {
      const css = getComputedStyle(box);
      const [clipsX, clipsY] = [clips(css.overflowX), clips(css.overflowY)];
      if (!clipsX && !clipsY) continue;
      const outer = box.getBoundingClientRect();
      const left = outer.left + box.clientLeft, top = outer.top + box.clientTop;
      const right = left + box.clientWidth, bottom = top + box.clientHeight;
      const ellipsis = css.textOverflow === "ellipsis";
      const sideways = clipsX && (rect.left < left - 1 || rect.right > right + 1);
      const own = box === element && box.scrollWidth > box.clientWidth;
      if ((sideways || own) && !ellipsis) clipped.push(`${describe(box)} cuts "${text}"`);
      if (clipsY && (rect.top < top - 1 || rect.bottom > bottom + 1)) {
        clipped.push(`${describe(box)} cuts "${text}" from above or below`);
      }
    }
  }
  for (const element of document.body.querySelectorAll("*")) {
    const css = getComputedStyle(element);
    if (!clips(css.overflowX) || css.visibility !== "visible" || !element.textContent.trim()) {
      continue;
    }
    if (element.scrollWidth > element.clientWidth + 1 && css.textOverflow !== "ellipsis") {
      const own = [...element.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
      if (own) clipped.push(`${describe(element)} overflows: "${element.textContent.trim()}"`);
    }
  }
  return [...new Set(clipped)];
}"""

# Pairs of map names whose boxes overlap, and names reaching outside the map.
COLLIDING_NAMES = """() => {
  const names = [...document.querySelectorAll("#map .name")].map((el) => ({
    text: el.textContent,
    box: el.getBoundingClientRect(),
  }));
  const map = document.querySelector("#map").getBoundingClientRect();
  const found = [];
  for (const [i, a] of names.entries()) {
    const b = a.box;
    if (b.left < map.left || b.right > map.right || b.top < map.top || b.bottom > map.bottom) {
      found.push(`${a.text} outside the map`);
    }
    for (const c of names.slice(i + 1)) {
      const d = c.box;
      const w = Math.min(b.right, d.right) - Math.max(b.left, d.left);
      const h = Math.min(b.bottom, d.bottom) - Math.max(b.top, d.top);
      if (w > 0 && h > 0) found.push(`${a.text} / ${c.text}`);
    }
  }
  return found;
}"""

# Whether an element lies whole inside the viewport, the page unscrolled.
FULLY_IN_VIEW = """(selector) => {
  const box = document.querySelector(selector).getBoundingClientRect();
  return window.scrollX === 0 && window.scrollY === 0 && box.top >= 0 && box.left >= 0
    && box.bottom <= window.innerHeight && box.right <= window.innerWidth
    && box.width > 0 && box.height > 0;
}"""

# English a wall in Indonesian must not show (proper names such as WhatsApp aside).
ENGLISH = (
    "the", "and", "of", "is", "key", "error", "failed", "loading", "refused", "rejected",
    "retry", "retrying", "connecting", "connected", "disconnected", "offline", "online",
    "unknown", "invalid", "malformed", "forbidden", "unauthorized", "expired", "revoked",
    "alert", "alerts", "breach", "breached", "rating", "ticker", "update", "updated", "live",
    "progress", "waiting", "none", "subscription",
)  # fmt: skip


async def visible_words(page: Any) -> set[str]:
    text: str = await page.evaluate(
        """() => document.body.innerText + " " + [...document.querySelectorAll("svg text")]
             .map((t) => t.textContent).join(" ")"""
    )
    return {word.lower() for word in text.replace("·", " ").split()} | {
        word.lower().strip(".,:;()!?…\"'") for word in text.split()
    }
