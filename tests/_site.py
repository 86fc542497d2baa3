"""What the two site tests share: the quick-mode site, a local server and headless Chromium.

The site is the one ``tools/quick_site.py`` builds from the chapters nbval
executed (``make test`` runs nbval first, with ``--nb-executed``): no chapter
executes here. ``BOOK_SITE_REUSE=1`` reuses the last build (to iterate on the
tests), and with ``BOOK_SITE_OUTPUT=.`` checks the full-mode site of
``make book`` instead; ``BOOK_SITE_TOC=path`` builds with another table of
contents. The fixtures are registered by ``tests/conftest.py``.

Under pytest-xdist (``make test`` runs the site tests on two workers, one
page's tests per worker: ``--dist loadgroup``) the first worker builds the
site and the others wait for it and reuse that build: one build per run.
"""

from __future__ import annotations

import fcntl
import functools
import http.server
import json
import os
import sys
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import book_toc  # noqa: E402
import quick_site  # noqa: E402

QUICK = quick_site.QUICK
# BOOK_SITE_OUTPUT=. with BOOK_SITE_REUSE=1 checks the full-mode site of `make book` instead.
OUTPUT = (ROOT / os.environ.get("BOOK_SITE_OUTPUT", QUICK)).resolve()
HTML = OUTPUT / "_build" / "html"
EXECUTED = quick_site.EXECUTED
ARTIFACTS = ROOT / "artifacts" / "site"
CHROMIUM = Path(os.environ.get("BOOK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
TOC = Path(os.environ.get("BOOK_SITE_TOC", book_toc.TOC))
CONFIG_REPOSITORY = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
PAGES = book_toc.pages(TOC)
CHAPTERS = book_toc.chapters(TOC)
# The two widths a reader's screen has: a laptop and a phone (an iPhone 12-15, CSS pixels).
VIEWPORTS = {"1280": {"width": 1280, "height": 900}, "390": {"width": 390, "height": 844}}


def reuse() -> bool:
    return os.environ.get("BOOK_SITE_REUSE") == "1"


def site_fixture() -> dict:
    """Build the quick-mode site once per session; returns build.json's outcome and the log."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    if reuse() and (HTML / "index.html").exists():
        log = ARTIFACTS / "build.log"
        return {"returncode": 0, "problems": [], "seconds": 0.0, "text": log.read_text() if log.exists() else ""}
    if OUTPUT != QUICK:
        pytest.fail("BOOK_SITE_OUTPUT names an existing build: use it with BOOK_SITE_REUSE=1")
    # One build per test run, whichever worker gets here first; the others wait on the lock and
    # read its outcome (build.json, marked with the run's id, which every xdist worker shares).
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    QUICK.mkdir(parents=True, exist_ok=True)
    with open(QUICK / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        outcome = QUICK / "build.json"
        if run and outcome.exists():
            done = json.loads(outcome.read_text())
            if done.get("run") == run:
                log = Path(done.get("log", ""))
                return {**done, "text": log.read_text() if log.is_file() else ""}
        result = quick_site.build(EXECUTED, TOC if TOC != book_toc.TOC else None)
        if run:
            outcome.write_text(json.dumps({**{k: v for k, v in result.items() if k != "text"}, "run": run}, indent=1))
    print(f"\nquick-mode site built in {result['seconds']:.0f} s (exit {result['returncode']}); log: {result['log']}")
    return result


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def server_fixture(site):
    if not (HTML / "index.html").exists():
        pytest.fail("the quick build wrote no site: " + ("; ".join(site.get("problems", [])) or "see build.log"))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(HTML)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def browser_fixture():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: apt-get install -y chromium chromium-driver (as .ci/run does)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the [test] extra)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


class Visit:
    """A page opened in Chromium, with every request it made and every problem seen."""

    def __init__(self, browser, base: str, path: str, viewport: str = "1280"):
        self.base, self.requests, self.problems = base, [], []
        self.viewport = VIEWPORTS[viewport]
        self.page = browser.new_page(viewport=self.viewport)
        self.page.route("**/*", self._route)
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url} ({r.failure})"))
        self.page.on("response", self._response)
        self.page.on("pageerror", lambda e: self.problems.append(f"JavaScript error: {e}"))
        self.page.goto(f"{base}/{path}", wait_until="load")
        self.page.wait_for_load_state("networkidle")

    def _route(self, route):
        url = route.request.url
        self.requests.append(url)
        if urlparse(url).scheme in ("http", "https") and not url.startswith(self.base):
            self.problems.append(f"request to another host: {url}")
            route.abort()
        else:
            route.continue_()

    def _response(self, response):
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def wait_for_math(self) -> None:
        self.page.evaluate("async () => { if (window.MathJax?.startup?.promise) await MathJax.startup.promise; }")

    def wait_for_images(self) -> None:
        self.page.evaluate(
            """async () => { for (const img of document.images) { img.loading = "eager";
                 if (!img.complete) await new Promise(r => { img.onload = img.onerror = r; }); } }"""
        )

    def settle(self) -> None:
        """Formulas typeset, images decoded, widgets drawn: the page as a reader sees it."""
        self.wait_for_math()
        self.wait_for_images()
        self.page.wait_for_timeout(200)

    def shot(self, name: str, selector: str | None = None, full_page: bool = False) -> Path:
        path = ARTIFACTS / f"{name}.png"
        if selector is None:
            self.page.screenshot(path=str(path), full_page=full_page)
        else:  # the element with some of the page around it, as a reader sees it
            element = self.page.locator(selector).first
            element.scroll_into_view_if_needed()
            self.page.wait_for_timeout(300)
            box = self.page.evaluate(
                """(el) => { const r = el.getBoundingClientRect();
                   return {x: r.x + scrollX, y: r.y + scrollY, w: r.width, h: r.height}; }""",
                element.element_handle(),
            )
            width = self.viewport["width"]
            clip = {"x": 0, "y": max(0, box["y"] - 120), "width": width, "height": min(box["h"] + 240, 2400)}
            self.page.screenshot(path=str(path), clip=clip, full_page=True)
        return path

    def shot_page(self, name: str, part_height: int = 4000) -> list[Path]:
        """The whole page, top to bottom, in parts of ``part_height`` px.

        The window is made ``part_height`` px tall and scrolled part by part (the
        last part ends at the page's end, so it may repeat some of the part before).
        A clipped ``full_page`` screenshot lays the whole page out again for every
        part, which took a minute for the API page; scrolling takes seconds.
        The parts are JPEG (quality 80): for a reader to look at, and encoded in
        about half the time of PNG. Element shots (:meth:`shot`) stay PNG.
        """
        height = self.page.evaluate("() => document.documentElement.scrollHeight")
        width = self.viewport["width"]
        paths = []
        self.page.set_viewport_size({"width": width, "height": min(part_height, height)})
        try:
            for i, y in enumerate(range(0, height, part_height), start=1):
                path = ARTIFACTS / (f"{name}.jpg" if height <= part_height else f"{name}-part{i}.jpg")
                self.page.evaluate("(y) => window.scrollTo(0, y)", y)
                self.page.screenshot(path=str(path), type="jpeg", quality=80)  # JPEG: about half the time of PNG
                paths.append(path)
        finally:
            self.page.set_viewport_size(self.viewport)
            self.page.evaluate("() => window.scrollTo(0, 0)")
        return paths

    def close(self) -> None:
        self.page.close()


def slug(page: str) -> str:
    return page.replace("/", "_")


def executed_notebook(chapter: str):
    """The executed notebook a chapter's page was rendered from: nbval's copy for the quick site,
    jupyter-book's (``_build/jupyter_execute/``) for the full-mode site of ``make book``; None if absent."""
    import nbformat

    if OUTPUT == QUICK:
        path = EXECUTED / f"{chapter}.ipynb"
        return nbformat.read(path, as_version=4) if path.exists() else None
    path = OUTPUT / "_build" / "jupyter_execute" / f"{chapter}.ipynb"
    nb = nbformat.read(path, as_version=4) if path.exists() else None
    if nb is not None and any(c.get("outputs") for c in nb.cells if c.cell_type == "code"):
        return nb
    # make book fills jupyter-book's cache first (tools/execute_book.py); on a cache hit MyST-NB renders the
    # cached outputs but writes jupyter_execute/ without them, so read the cached notebook itself
    from jupyter_cache import get_cache

    cache = get_cache(str(OUTPUT / "_build" / ".jupyter_cache"))
    try:
        record = cache.match_cache_notebook(nbformat.read(ROOT / f"{chapter}.ipynb", as_version=4))
    except (KeyError, FileNotFoundError):
        return nb
    return cache.get_cache_bundle(record.pk).nb


def load_json(path: Path) -> dict:
    return json.loads(path.read_text())
