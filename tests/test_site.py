"""The book as a product: the quick-mode site, built strictly and read in headless Chromium.

One session-wide build (``jupyter-book build --path-output _build/quick``,
``MEDIMGKIT_QUICK=1``, ``--warningiserror --keep-going``, from an EMPTY
jupyter-cache) executes every chapter once. That build is the chapters' test
in ``make test``: a chapter that raises, fails an assertion or exceeds the
per-cell timeout fails the build and its ``test_chapter_executed`` (with the
traceback), exactly what ``nbval --nbval-lax`` checks, without running every
chapter a second time. The pages are then served on 127.0.0.1 and opened in
headless Chromium (Debian's ``chromium``, driven by Playwright; never
``playwright install``): every page loads with no failed local request and no
request to any other host (so the site works offline), every formula is
typeset by the site's own MathJax, every image loads, widgets render their
saved state, and the Colab button opens the chapter's notebook on GitHub.
Screenshots go to ``artifacts/site/``.

``BOOK_SITE_REUSE=1`` reuses an existing build (to iterate on this file, or,
with ``BOOK_SITE_OUTPUT=.``, to check the full-mode site ``make book`` wrote);
``BOOK_SITE_TOC=path`` builds with another table of contents.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import medimgkit_api  # noqa: E402

QUICK = ROOT / "_build" / "quick"
# BOOK_SITE_OUTPUT=. with BOOK_SITE_REUSE=1 checks the full-mode site of `make book` instead.
OUTPUT = (ROOT / os.environ.get("BOOK_SITE_OUTPUT", QUICK)).resolve()
HTML = OUTPUT / "_build" / "html"
CACHE = OUTPUT / "_build" / ".jupyter_cache"
VENDOR = ROOT / "_build" / "extra" / "vendor"
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
TOC = Path(os.environ.get("BOOK_SITE_TOC", ROOT / "_toc.yml"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())


def _toc_entries() -> list[str]:
    toc = yaml.safe_load(TOC.read_text())

    def walk(items):
        for item in items or []:
            if "file" in item:
                yield item["file"]
            yield from walk(item.get("sections"))

    entries = [toc["root"], *walk(toc.get("chapters"))]
    for part in toc.get("parts", []):
        entries += list(walk(part.get("chapters")))
    return entries


PAGES = _toc_entries()
CHAPTERS = [p for p in PAGES if (ROOT / f"{p}.ipynb").exists()]


def _shows_widgets(entry: str) -> bool:
    """A code cell uses ipywidgets and its output is not hidden by a remove-* tag."""
    nb = nbformat.read(ROOT / f"{entry}.ipynb", as_version=4)
    hidden = {"remove-output", "remove-cell"}
    return any(
        c.cell_type == "code" and "ipywidgets" in c.source and not hidden & set(c.metadata.get("tags", []))
        for c in nb.cells
    )


WIDGET_CHAPTERS = [c for c in CHAPTERS if _shows_widgets(c)]


# --------------------------------------------------------------------------- build


def test_offline_javascript_is_pinned_on_npm():
    """MathJax 3 and the widget manager come from npm at the versions package-lock.json records."""
    pkg = json.loads((ROOT / "package.json").read_text())["dependencies"]
    lock = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    assert pkg["mathjax"].startswith("3.") and "@jupyter-widgets/html-manager" in pkg
    for name, version in pkg.items():
        assert lock[f"node_modules/{name}"]["version"] == version, name
    assert lock[""]["dependencies"] == pkg, "package-lock.json is stale: run npm install"
    assert not (ROOT / "_static").exists(), "_static/: Jupyter Book 1 would load every .js in it on every page"


@pytest.fixture(scope="session")
def site() -> dict:
    """Build the quick-mode book once per session; returns its exit code and log."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / "build.log"
    if os.environ.get("BOOK_SITE_REUSE") == "1" and (HTML / "index.html").exists():
        return {"returncode": 0, "log": log.read_text() if log.exists() else "", "seconds": 0.0}
    if OUTPUT != QUICK:
        pytest.fail("BOOK_SITE_OUTPUT names an existing build: use it with BOOK_SITE_REUSE=1")
    if not (VENDOR / ".copied").exists():
        pytest.fail(f"{VENDOR} is missing: run `make vendor` (npm ci) before this test")
    shutil.rmtree(QUICK, ignore_errors=True)  # an empty cache: every chapter executes now
    (ARTIFACTS / "timings.txt").unlink(missing_ok=True)
    cmd = [
        str(Path(sys.executable).parent / "jupyter-book"),
        "build", str(ROOT), "--path-output", str(QUICK),
        "--toc", str(TOC), "--warningiserror", "--keep-going",
    ]  # fmt: skip
    env = {**os.environ, "MEDIMGKIT_QUICK": "1"}
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    text = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)
    log.write_text(f"$ {' '.join(cmd)}\n# {seconds:.0f} s, exit code {proc.returncode}\n{text}")
    print(f"\nquick-mode book built in {seconds:.0f} s (exit {proc.returncode}); log: {log}")
    return {"returncode": proc.returncode, "log": text, "seconds": seconds}


def test_quick_build_is_strict_and_clean(site):
    """No warning, no failed chapter: --warningiserror --keep-going exits 0."""
    problems = [line for line in site["log"].splitlines() if re.search(r"WARNING:|ERROR:|Error:", line)]
    problems = [p for p in problems if "absl::InitializeLog" not in p]  # TensorFlow's C++ logger, not Sphinx
    assert site["returncode"] == 0, "quick build failed:\n" + "\n".join(problems[-40:] or site["log"][-4000:].splitlines())
    for page in PAGES:
        assert (HTML / f"{page}.html").exists(), f"{page}.html was not written"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_executed(site, chapter):
    """The build executed this chapter's current code without error, in quick mode."""
    from jupyter_cache import get_cache

    nb = nbformat.read(ROOT / f"{chapter}.ipynb", as_version=4)
    report = HTML / "reports" / f"{chapter}.err.log"
    cache = get_cache(str(CACHE))
    try:
        record = cache.match_cache_notebook(nb)
    except KeyError:
        record = None
    if record is None:
        if report.exists():
            pytest.fail(f"{chapter} failed in the quick build:\n{report.read_text()[-6000:]}")
        uri = str(ROOT / f"{chapter}.ipynb")
        if any(r.uri == uri for r in cache.list_cache_records()):
            pytest.fail(f"{chapter} executed, but its code changed after the build ran it (edited during the run?)")
        pytest.fail(f"the build did not execute {chapter}; see artifacts/site/build.log")
    seconds = record.data.get("execution_seconds")
    with (ARTIFACTS / "timings.txt").open("a") as f:
        f.write(f"{chapter}\t{seconds:.1f} s\n")


def test_api_reference_documents_every_public_module(site):
    assert "book/api" in PAGES, "book/api.md (the API reference) is not in the table of contents"
    html = (HTML / "book" / "api.html").read_text()
    modules = medimgkit_api.public_modules()
    for required in ("medimgkit", "medimgkit.config", "medimgkit.data", "medimgkit.models", "medimgkit.train",
                     "medimgkit.metrics", "medimgkit.explain", "medimgkit.plots"):  # fmt: skip
        assert required in modules
    missing = [m for m in modules if f'id="module-{m}"' not in html]
    assert not missing, f"API reference lacks {missing}"
    assert 'id="medimgkit.data.load_medmnist"' in html and 'id="medimgkit.metrics.binary_report"' in html


# --------------------------------------------------------------------------- browser


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(site):
    if not (HTML / "index.html").exists():
        pytest.fail("the quick build wrote no site (see test_quick_build_is_strict_and_clean)")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(HTML)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found: apt-get install -y chromium chromium-driver (as .ci/run does)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (the [test] extra)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


class Visit:
    """A page opened in Chromium, with every request it made and every problem seen."""

    def __init__(self, browser, base: str, path: str):
        self.base, self.requests, self.problems = base, [], []
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
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

    def shot(self, name: str, selector: str | None = None) -> Path:
        path = ARTIFACTS / f"{name}.png"
        if selector is None:
            self.page.screenshot(path=str(path))
        else:  # the element with some of the page around it, as a reader sees it
            element = self.page.locator(selector).first
            element.scroll_into_view_if_needed()
            self.page.wait_for_timeout(300)
            box = self.page.evaluate(
                """(el) => { const r = el.getBoundingClientRect();
                   return {x: r.x + scrollX, y: r.y + scrollY, w: r.width, h: r.height}; }""",
                element.element_handle(),
            )
            clip = {"x": 0, "y": max(0, box["y"] - 120), "width": 1280, "height": min(box["h"] + 240, 2400)}
            self.page.screenshot(path=str(path), clip=clip, full_page=True)
        return path

    def close(self) -> None:
        self.page.close()


def _slug(page: str) -> str:
    return page.replace("/", "_")


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_offline_with_math_and_images(browser, server, page):
    visit = Visit(browser, server, f"{page}.html")
    try:
        visit.wait_for_math()
        visit.wait_for_images()
        visit.shot(_slug(page))
        state = visit.page.evaluate(
            """() => ({
              math: document.querySelectorAll("span.math, div.math").length,
              typeset: [...document.querySelectorAll("span.math, div.math")].filter(e => e.querySelector("mjx-container")).length,
              texErrors: [...document.querySelectorAll("mjx-merror")].map(e => e.getAttribute("data-mjx-error") || e.textContent),
              images: [...document.images].map(i => ({src: i.currentSrc, w: i.naturalWidth})),
              title: document.title,
            })"""
        )
        assert not visit.problems, "\n".join(visit.problems)
        assert state["title"], "page has no title"
        broken = [i["src"] for i in state["images"] if i["w"] == 0]
        assert not broken, f"images that did not load: {broken}"
        assert state["typeset"] == state["math"], f"{state['math'] - state['typeset']} formulas not typeset"
        assert not state["texErrors"], f"TeX errors: {state['texErrors']}"
        if state["math"]:
            visit.shot(f"{_slug(page)}-math", "div.math" if visit.page.locator("div.math").count() else "span.math")
            scripts = visit.page.evaluate("() => [...document.scripts].map(s => s.src).filter(s => s.includes('/mathjax/'))")
            assert scripts and all(s.startswith(server + "/vendor/mathjax/") for s in scripts), scripts
    finally:
        visit.close()


def test_book_has_math_and_figures(browser, server):
    """The checks above are not vacuous: the book has typeset math and output figures."""
    found = {"math": [], "figure": []}
    for page in CHAPTERS:
        html = (HTML / f"{page}.html").read_text()
        if 'class="math' in html:
            found["math"].append(page)
        if re.search(r'class="cell_output[^"]*".*?<img', html, re.S):
            found["figure"].append(page)
    assert found["math"], "no chapter page has math"
    assert found["figure"], "no chapter page has an output figure"
    page = found["figure"][0]
    visit = Visit(browser, server, f"{page}.html")
    try:
        visit.wait_for_images()
        visit.shot(f"{_slug(page)}-figure", ".cell_output img")
        assert not visit.problems, "\n".join(visit.problems)
    finally:
        visit.close()


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_launch_and_download_buttons(browser, server, chapter):
    repo = CONFIG["repository"]
    org_repo = urlparse(repo["url"]).path.strip("/")
    book_path = f"{repo.get('path_to_book', '').strip('/')}/".lstrip("/")
    expected = f"https://colab.research.google.com/github/{org_repo}/blob/{repo['branch']}/{book_path}{chapter}.ipynb"
    visit = Visit(browser, server, f"{chapter}.html")
    try:
        links = visit.page.evaluate("() => [...document.querySelectorAll('a')].map(a => a.href)")
        colab = [h for h in links if "colab.research.google.com" in h]
        assert colab == [expected], f"Colab link {colab}, expected {expected}"
        assert any(h.startswith("https://mybinder.org/v2/gh/") and h.endswith(f"{chapter}.ipynb") for h in links)
        ipynb = [h for h in links if h.startswith(server) and h.endswith(f"{Path(chapter).name}.ipynb")]
        assert ipynb, "no download link to the .ipynb source"
        response = visit.page.request.get(ipynb[0])
        assert response.ok
        nb = nbformat.reads(response.text(), as_version=4)
        assert nb.cells[0].source.startswith("# ")
    finally:
        visit.close()


@pytest.mark.skipif(not WIDGET_CHAPTERS, reason="no chapter in the table of contents shows an ipywidgets output yet")
@pytest.mark.parametrize("chapter", WIDGET_CHAPTERS)
def test_widgets_render_their_saved_state(browser, server, chapter):
    html = (HTML / f"{chapter}.html").read_text()
    assert "application/vnd.jupyter.widget-state+json" in html, "the build saved no widget state"
    visit = Visit(browser, server, f"{chapter}.html")
    try:
        visit.page.wait_for_selector(".jupyter-widgets.widget-slider, .jupyter-widgets .widget-slider", timeout=20_000)
        counts = visit.page.evaluate(
            """() => ({views: document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length,
                      rendered: document.querySelectorAll('.jupyter-widgets').length})"""
        )
        assert counts["views"] > 0 and counts["rendered"] > 0, counts
        visit.shot(f"{_slug(chapter)}-widget", ".cell_output:has(.jupyter-widgets)")
        scripts = visit.page.evaluate("() => [...document.scripts].map(s => s.src).filter(s => s.includes('embed'))")
        assert scripts and all(s.startswith(server + "/vendor/widgets/") for s in scripts), scripts
        assert not visit.problems, "\n".join(visit.problems)
    finally:
        visit.close()


def test_search_works_offline(browser, server):
    visit = Visit(browser, server, "search.html?q=MedMNIST")
    try:
        visit.page.wait_for_selector("#search-results li", timeout=20_000)
        assert visit.page.locator("#search-results li").count() > 0
        assert not visit.problems, "\n".join(visit.problems)
    finally:
        visit.close()

