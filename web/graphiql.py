"""GraphiQL served by Kilas itself, so that it works where no CDN can be reached: a page of ours
at GET /graphql loads React and GraphiQL from /graphiql/…, files taken from pinned npm packages
(strawberry's own choice of versions) that are fetched once into a cache directory.

The fetch starts in the background when Kilas starts, beside the database's start-up, so that
GraphiQL is there by the time someone opens it, the API is ready no later than without it, and
a machine that cannot fetch says so in its start-up log rather than on someone's first visit."""

import asyncio
import contextlib
import functools
import hashlib
import html
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response

from kilas.web.npm import FetchError, Pin, fetch

log = logging.getLogger("kilas.graphiql")

PINS = (
    Pin(
        "react",
        "18.2.0",
        "sha512-/3IjMdb2L9QbBdWiW5e3P2/npwMBaU9mHCSCUzNln0ZCYbcfTsGbTJrU/kGemdH2IWmB2ioZ+zkxtmq6g09fGQ==",
        ("umd/react.production.min.js",),
    ),
    Pin(
        "react-dom",
        "18.2.0",
        "sha512-6IMTriUmvsjHUjNtEDudZfuDQUoWXVxKHhlEGSk81n4YFS+r/Kl99wXiwlVXtPBtJenozv2P+hxDsw9eA7Xo6g==",
        ("umd/react-dom.production.min.js",),
    ),
    Pin(
        "graphiql",
        "3.8.3",
        "sha512-cuPDYtXVKV86Pu5PHBX642Odi/uVEE2y1Jxq5rGO/Qy1G2lRp7ZZ7a/T30RzxhuLSWo9zUbzq0P3U49//H0Ugw==",
        ("graphiql.min.css", "graphiql.min.js"),
    ),
    Pin(
        "@graphiql/plugin-explorer",
        "1.0.2",
        "sha512-9j+kg2UjtLZD5EBmGjeWHkoVVxtbShYg2DzbUVebibnZYZM/iMBEF4vaccXJIAm5KaomIPLx0aoNs4LbODyc3Q==",
        ("dist/style.css", "dist/index.umd.js"),
    ),
)
# What the page loads, in order, as URL paths under /graphiql/ and in the cache alike.
FILES = tuple(f"{pin.spec}/{path}" for pin in PINS for path in pin.files)
# One folder per set of pins, so that versions never mix and a new set is fetched beside the old.
PIN_SET = f"graphiql-{PINS[2].version}-{hashlib.sha256(repr(PINS).encode()).hexdigest()[:10]}"
# A file's URL names its exact version: browsers may keep it for good.
ASSET_HEADERS = {"cache-control": "public, max-age=31536000, immutable"}
PAGE_HEADERS = {"cache-control": "no-cache"}
FIRST_VISIT_WAIT = 15.0
TEMPLATE = Path(__file__).with_name("graphiql.html")


def cache_directory(configured: Path | None) -> Path:
    """KILAS_GRAPHIQL_ASSETS_DIR, else the user's cache: shared by every Kilas of the user, so a
    machine fetches once, whatever the data directory."""
    if configured is not None:
        return configured.expanduser()
    cache = os.environ.get("XDG_CACHE_HOME")
    try:
        base = Path(cache) if cache and Path(cache).is_absolute() else Path.home() / ".cache"
    except RuntimeError:  # no home directory to be found
        base = Path(".kilas")
    return base / "kilas" / "graphiql"


class GraphiQLAssets:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.root = directory / PIN_SET
        self.problem: str | None = None
        self._fetching: asyncio.Task[None] | None = None

    @property
    def ready(self) -> bool:
        # Looked at on every visit: a cache copied in while Kilas runs is used at once.
        return all((self.root / path).is_file() for path in FILES)

    @contextlib.asynccontextmanager
    async def fetched_in_background(self) -> AsyncIterator[None]:
        """Fetch the files unless they are cached, while Kilas starts and serves; a fetch still
        under way at shutdown is stopped."""
        if not self.ready:
            self._fetching = asyncio.create_task(self.fetch(), name="fetch GraphiQL's assets")
        try:
            yield
        finally:
            if self._fetching is not None:
                self._fetching.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._fetching

    async def fetch(self) -> None:
        log.info("fetching GraphiQL's files with npm into %s", self.root)
        try:
            await fetch(PINS, self.root)
        except (FetchError, OSError) as error:
            self.problem = str(error)
            # One line: a machine without npm or a registry is a situation, not a bug.
            log.warning(
                "GraphiQL is unavailable: %s. The API works; /graphql in a browser says how to "
                "get GraphiQL's files",
                self.problem,
            )
        except Exception:
            self.problem = "fetching them failed unexpectedly (see Kilas's log)"
            log.exception("fetching GraphiQL's files failed")
        else:
            self.problem = None
            log.info("GraphiQL's files are ready in %s", self.root)

    async def page(self) -> Response:
        if self._fetching is not None and not self._fetching.done():
            # A first visit during the fetch waits for it a little (it takes a second or two),
            # rather than finding a page that asks to come back.
            await asyncio.wait({self._fetching}, timeout=FIRST_VISIT_WAIT)
        if self.ready:
            return HTMLResponse(_page(), headers=PAGE_HEADERS)
        if self._fetching is not None and not self._fetching.done():
            return HTMLResponse(_fetching_page(self.root), status_code=503, headers=_RELOAD)
        problem = self.problem or f"they are not in {self.root}"
        return HTMLResponse(
            _unavailable_page(problem, self.directory), status_code=503, headers=PAGE_HEADERS
        )

    async def asset(self, request: Request) -> Response:
        path = request.path_params["path"]
        if path not in FILES or not (self.root / path).is_file():
            return PlainTextResponse("Not Found", status_code=404)
        return FileResponse(self.root / path, headers=ASSET_HEADERS)


_RELOAD = {**PAGE_HEADERS, "retry-after": "2"}


@functools.cache
def _page() -> str:
    tags = []
    for path in FILES:
        url = html.escape(f"graphiql/{path}")
        if path.endswith(".css"):
            tags.append(f'<link rel="stylesheet" href="{url}" />')
        else:
            tags.append(f'<script src="{url}"></script>')
    # Relative URLs: they work behind a proxy that serves Kilas under a path prefix too.
    return TEMPLATE.read_text(encoding="utf-8").replace(
        "<!-- kilas: assets -->", "\n    ".join(tags)
    )


def _fetching_page(root: Path) -> str:
    return _short_page(
        "GraphiQL is being fetched",
        f"<p>Kilas is fetching GraphiQL's files with npm into <code>{html.escape(str(root))}"
        "</code>. This page reloads itself.</p>",
        refresh=True,
    )


def _unavailable_page(problem: str, directory: Path) -> str:
    where = html.escape(str(directory))
    return _short_page(
        "GraphiQL is unavailable",
        "<p>Kilas serves GraphiQL's files (React, GraphiQL) itself, from pinned npm packages "
        "that it fetches once with this machine's <code>npm</code>, but it does not have them: "
        f"{html.escape(problem)}.</p>"
        "<p>The API works without them: POST GraphQL requests to this URL, or subscribe over "
        "a WebSocket here.</p>"
        "<h2>How to get them</h2><ol>"
        "<li>On a machine with npm that reaches its registry (this one, if it can), run "
        "<code>kilas graphiql fetch --dir graphiql-files</code>.</li>"
        f"<li>Copy the contents of <code>graphiql-files</code> here, into <code>{where}</code>"
        " (or point <code>KILAS_GRAPHIQL_ASSETS_DIR</code> at a copy).</li>"
        "<li>Reload this page: no restart is needed.</li></ol>",
    )


def _short_page(title: str, body: str, *, refresh: bool = False) -> str:
    meta = '<meta http-equiv="refresh" content="2" />' if refresh else ""
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8" />{meta}'
        f"<title>{title}</title><style>body {{ font: 16px/1.5 sans-serif; max-width: 46em; "
        "margin: 3em auto; padding: 0 1em; }} code {{ background: #eee; padding: 0 .2em; }}"
        f"</style></head><body><h1>{title}</h1>{body}</body></html>"
    )
