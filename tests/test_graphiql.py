"""GraphiQL works with no CDN: Kilas fetches pinned npm packages with the machine's npm, checks
them against their registry integrity, and serves the files itself. A real Chromium that can
reach nothing but this machine opens /graphql, sends a query with a token from the Headers tab
and sees the answer; a machine with no npm gets a page that says why and what to do."""

import asyncio
import gzip
import hashlib
import io
import logging
import re
import shutil
import subprocess
import tarfile
from base64 import b64encode
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import pytest

from kilas.web.graphiql import FILES, GraphiQLAssets
from kilas.web.npm import FetchError, Pin, install
from tests import ops
from tests._core_helpers import kilas_command, kilas_env
from tests.wire import gql, start_server, token

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
LOCAL_HOSTS = ("127.0.0.1", "localhost")
# Belt and braces: Chromium resolves no other name and uses no proxy; the page's route aborts
# every request to another host, and the test asserts there was none.
OFFLINE_ARGS = [
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
    "--no-proxy-server",
]
HTML = {"accept": "text/html"}
REPORTER_QUERY = "{ complaints(first: 1) { nodes { reporter { name } } } }"
SUBSCRIPTION = "subscription { complaintEvents { type complaint { reporter { name } } } }"


@pytest.fixture(scope="session")
def graphiql_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the whole session, fetched once with `kilas graphiql fetch` (so with the
    machine's npm, and checked against the pinned integrity)."""
    if shutil.which("npm") is None:
        pytest.skip("no npm on this machine (Debian: apt-get install npm)")
    directory = tmp_path_factory.mktemp("graphiql-files")
    fetched = subprocess.run(
        [*kilas_command(), "graphiql", "fetch", "--dir", str(directory)],
        env=kilas_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert fetched.returncode == 0, fetched.stderr
    assert fetched.stdout == f"GraphiQL's files are in {directory} (copy this directory as it is)\n"
    return directory


@pytest.fixture
def no_npm(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A machine without npm: nothing on PATH."""
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def test_kilas_graphiql_fetch_without_npm_says_so_in_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty-path"
    empty.mkdir()
    result = subprocess.run(
        [*kilas_command(), "graphiql", "fetch", "--dir", str(tmp_path / "cache")],
        env=kilas_env(PATH=str(empty)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr == (
        "kilas: GraphiQL's files could not be fetched: npm was not found ('npm' is not on PATH)\n"
    )
    assert not (tmp_path / "cache").exists()


def package_tarball(files: dict[str, bytes]) -> bytes:
    """A package as `npm pack` makes it: a gzipped tar with everything under `package/`."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path, content in files.items():
            info = tarfile.TarInfo(f"package/{path}")
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return gzip.compress(buffer.getvalue())


def integrity(data: bytes) -> str:
    return "sha512-" + b64encode(hashlib.sha512(data).digest()).decode()


def test_a_tarball_that_matches_its_pin_is_installed_with_only_the_files_kilas_serves(
    tmp_path: Path,
) -> None:
    tarball = package_tarball(
        {"dist/app.js": b"console.log('ok')", "package.json": b"{}", "dist/extra.js": b"x"}
    )
    pin = Pin("@example/app", "1.0.0", integrity(tarball), ("dist/app.js",))

    install({pin: tarball}, tmp_path / "set")

    installed = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert installed == ["set/@example/app@1.0.0/dist/app.js"]
    assert (tmp_path / "set/@example/app@1.0.0/dist/app.js").read_bytes() == b"console.log('ok')"


def test_a_tampered_tarball_is_refused_and_nothing_is_installed(tmp_path: Path) -> None:
    good = package_tarball({"dist/app.js": b"console.log('ok')"})
    other = package_tarball({"dist/lib.js": b"export default 1"})
    app = Pin("app", "1.0.0", integrity(good), ("dist/app.js",))
    lib = Pin("lib", "2.0.0", integrity(other), ("dist/lib.js",))
    tampered = bytearray(good)
    tampered[len(tampered) // 2] ^= 0x01

    with pytest.raises(FetchError, match=r"app@1\.0\.0 does not match its pinned integrity"):
        install({lib: other, app: bytes(tampered)}, tmp_path / "set")

    assert list(tmp_path.iterdir()) == [], "a refused set leaves nothing behind, not even lib"


def test_a_pin_naming_a_file_the_package_lacks_is_refused(tmp_path: Path) -> None:
    tarball = package_tarball({"dist/app.js": b"1"})
    pin = Pin("app", "1.0.0", integrity(tarball), ("dist/app.min.js",))

    with pytest.raises(FetchError, match=r"app@1\.0\.0 has no file dist/app\.min\.js"):
        install({pin: tarball}, tmp_path / "set")
    assert list(tmp_path.iterdir()) == []


async def test_with_no_cache_and_no_npm_graphiql_says_why_and_how_to_get_it(
    tmp_path: Path, no_npm: None, caplog: pytest.LogCaptureFixture
) -> None:
    assets = GraphiQLAssets(tmp_path / "cache")
    caplog.set_level(logging.INFO, logger="kilas.graphiql")

    await assets.fetch()
    page = await assets.page()

    assert page.status_code == 503
    text = bytes(page.body).decode()
    assert "GraphiQL is unavailable" in text
    assert "npm was not found" in text
    assert "kilas graphiql fetch --dir graphiql-files" in text
    assert str(tmp_path / "cache") in text
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [(r.getMessage(), r.exc_info) for r in warnings] == [
        (
            "GraphiQL is unavailable: npm was not found ('npm' is not on PATH). The API works; "
            "/graphql in a browser says how to get GraphiQL's files",
            None,
        )
    ]


async def test_a_server_without_npm_still_serves_the_api_and_explains_graphiql(
    database_url: str, tmp_path: Path, no_npm: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="kilas.graphiql")
    async with (
        start_server(database_url, graphiql_assets_dir=tmp_path, sla_sweep_interval=0) as server,
        httpx.AsyncClient(trust_env=False) as client,
    ):
        answer = await gql(server.http_url, "{ regions { code } }", token=None)
        assert len(answer["data"]["regions"]) == 35

        page = await client.get(server.http_url, headers=HTML)
        assert page.status_code == 503
        assert "GraphiQL is unavailable" in page.text
        assert "npm was not found" in page.text

        missing = await client.get(f"http://127.0.0.1:{server.port}/graphiql/{FILES[0]}")
        assert missing.status_code == 404

    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING and "GraphiQL" in r.msg]
    assert len(warnings) == 1 and warnings[0].exc_info is None, warnings


async def test_files_copied_in_from_another_machine_are_used_without_a_restart(
    database_url: str, graphiql_files: Path, tmp_path: Path, no_npm: None
) -> None:
    async with (
        start_server(database_url, graphiql_assets_dir=tmp_path, sla_sweep_interval=0) as server,
        httpx.AsyncClient(trust_env=False) as client,
    ):
        assert (await client.get(server.http_url, headers=HTML)).status_code == 503

        # What `kilas graphiql fetch --dir DIR` wrote on a connected machine, copied here.
        shutil.copytree(graphiql_files, tmp_path, dirs_exist_ok=True)

        page = await client.get(server.http_url, headers=HTML)
        assert page.status_code == 200
        assert 'src="graphiql/graphiql@3.8.3/graphiql.min.js"' in page.text


async def test_a_server_fetches_graphiqls_files_at_its_first_start_and_serves_them(
    database_url: str, graphiql_files: Path, tmp_path: Path
) -> None:
    cold = tmp_path / "cold-cache"
    async with (
        start_server(database_url, graphiql_assets_dir=cold) as server,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", trust_env=False) as client,
    ):
        # A first visit during the fetch waits for it.
        page = await client.get("/graphql", headers=HTML)
        assert page.status_code == 200, page.text
        assert 'src="graphiql/graphiql@3.8.3/graphiql.min.js"' in page.text
        served = await client.get(f"/graphiql/{FILES[0]}")
        assert served.status_code == 200

    fetched = GraphiQLAssets(cold).root
    for path in FILES:
        assert (fetched / path).read_bytes() == (
            GraphiQLAssets(graphiql_files).root / path
        ).read_bytes()
    leftovers = [p.name for p in cold.iterdir() if p != fetched]
    assert leftovers == [], "a staging directory was left behind"


async def test_graphiqls_files_are_served_from_kilas_with_long_cache_headers(
    database_url: str, graphiql_files: Path
) -> None:
    async with (
        start_server(database_url, graphiql_assets_dir=graphiql_files) as server,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", trust_env=False) as client,
    ):
        page = await client.get("/graphql", headers=HTML)
        assert page.status_code == 200
        loaded = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert loaded == ["data:,", *(f"graphiql/{path}" for path in FILES)]

        for path in FILES:
            served = await client.get(f"/graphiql/{path}")
            assert served.status_code == 200, path
            assert served.headers["cache-control"] == "public, max-age=31536000, immutable"
            kind = "text/css" if path.endswith(".css") else "javascript"
            assert kind in served.headers["content-type"]

        for other in ("react@18.2.0/package.json", "react@18.2.0/../../../etc/passwd", "x.js"):
            assert (await client.get(f"/graphiql/{other}")).status_code == 404, other


async def test_with_graphiql_turned_off_neither_the_page_nor_its_files_are_served(
    database_url: str, graphiql_files: Path
) -> None:
    async with (
        start_server(database_url, graphiql=False, graphiql_assets_dir=graphiql_files) as server,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", trust_env=False) as client,
    ):
        page = await client.get("/graphql", headers=HTML)
        assert page.status_code == 404
        assert page.json()["errors"][0]["extensions"]["code"] == "GRAPHIQL_DISABLED"
        assert (await client.get(f"/graphiql/{FILES[0]}")).status_code == 404


# The browser tests.


@pytest.fixture
async def offline_page() -> AsyncIterator[tuple[Any, list[str]]]:
    """A page in a Chromium that reaches nothing but this machine, and the outside requests it
    tried (each aborted)."""
    if CHROMIUM is None:
        pytest.skip("no Chromium on this machine (Debian: apt-get install chromium)")
    playwright = pytest.importorskip("playwright.async_api", reason="playwright is not installed")
    outside: list[str] = []

    async def local_only(route: Any) -> None:
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort()

    async with playwright.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=OFFLINE_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1400, "height": 900})
            await context.route("**/*", local_only)
            yield await context.new_page(), outside
        finally:
            await browser.close()


def expect(locator: Any) -> Any:
    from playwright.async_api import expect

    return expect(locator)


async def open_graphiql(page: Any, url: str) -> None:
    await page.goto(url)
    await expect(query_editor(page)).to_be_visible(timeout=15000)


def query_editor(page: Any) -> Any:
    return page.locator(".graphiql-query-editor .CodeMirror").first


def result_pane(page: Any) -> Any:
    return page.locator("section.result-window")


async def type_into(page: Any, editor: Any, text: str) -> None:
    """Replace the text of one of GraphiQL's CodeMirror editors, as a person would."""
    await editor.click()
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    await page.keyboard.insert_text(text)


async def edit_query(page: Any, text: str) -> None:
    """Replace the query, and wait until GraphiQL has taken it in: it parses an edit a moment
    later (only then does it know a subscription), then keeps the query in the page's URL."""
    await type_into(page, query_editor(page), text)
    encoded = quote(text, safe="-_.!~*'()")  # as encodeURIComponent
    await expect(page).to_have_url(re.compile(re.escape(f"q={encoded}")))


async def set_headers(page: Any, headers: str) -> None:
    await page.get_by_role("button", name="Headers", exact=True).click()
    editor = page.locator('section[aria-label="Headers"] .CodeMirror:visible')
    await type_into(page, editor, headers)


async def run(page: Any) -> None:
    await page.get_by_role("button", name="Execute query (Ctrl-Enter)").click()


async def until(condition: Any, seconds: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"not within {seconds} s"
        await asyncio.sleep(0.05)


def operator_headers() -> str:
    return f'{{"Authorization": "Bearer {token("OPERATOR")}"}}'


async def test_graphiql_runs_a_query_with_a_token_from_the_headers_tab_with_no_outside_network(
    database_url: str, graphiql_files: Path, offline_page: tuple[Any, list[str]]
) -> None:
    page, outside = offline_page
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    async with start_server(
        database_url, graphiql_assets_dir=graphiql_files, sla_sweep_interval=0
    ) as server:
        await ops.submit(server.http_url, reporter={"name": "Siti Aminah", "handle": "@siti"})
        await open_graphiql(page, server.http_url)

        # The example query the page opens with runs as it is.
        await run(page)
        await expect(result_pane(page)).to_contain_text('"intakeToday": 1')

        # The public may not read a reporter's name...
        await edit_query(page, REPORTER_QUERY)
        await run(page)
        await expect(result_pane(page)).to_contain_text("FORBIDDEN")

        # ...an operator may: the header typed into the Headers tab was sent.
        await set_headers(page, operator_headers())
        await run(page)
        await expect(result_pane(page)).to_contain_text('"name": "Siti Aminah"')
        await expect(result_pane(page)).not_to_contain_text("FORBIDDEN")

    assert outside == [], "the page asked for something outside this machine"
    assert errors == []


async def test_graphiql_subscribes_over_a_websocket_with_the_token_from_the_headers_tab(
    database_url: str, graphiql_files: Path, offline_page: tuple[Any, list[str]]
) -> None:
    page, outside = offline_page
    async with start_server(
        database_url, graphiql_assets_dir=graphiql_files, sla_sweep_interval=0
    ) as server:
        await open_graphiql(page, server.http_url)
        await set_headers(page, operator_headers())
        await edit_query(page, SUBSCRIPTION)
        await run(page)
        # Live once the server holds the subscription (graphql-transport-ws, authenticated by
        # the Headers tab as the socket's connection_init payload).
        await until(lambda: server.app.state.kilas.hub.subscriber_count == 1)

        await ops.submit(server.http_url, reporter={"name": "Budi Santoso", "handle": "@budi"})

        await expect(result_pane(page)).to_contain_text('"name": "Budi Santoso"')
        await expect(result_pane(page)).to_contain_text('"type": "SUBMITTED"')

    assert outside == []
