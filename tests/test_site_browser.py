"""The book as a product, part 2: every page of the quick-mode site, read in headless Chromium.

The pages (built by ``tests/test_site_build.py``'s session fixture from the
chapters nbval executed) are served on 127.0.0.1 and opened in Debian's
``chromium``, driven by Playwright (never ``playwright install``), at the two
widths a reader has: 1280 x 900 (a laptop) and 390 x 844 (a phone). On every
page and width:

- it loads with no failed local request and no request to any other host
  (the site works offline), every formula is typeset by the site's own
  MathJax, every image decodes;
- no cell output is a traceback or an error block;
- every output that was a Markdown table is an HTML ``<table>``, and no
  paragraph of output text holds a table as text (``|---``);
- nothing inside the article column is wider than the column unless it sits
  in a box that scrolls horizontally, nothing is cut off by a box that does
  not scroll, and the page itself never scrolls sideways;
- every widget area shows its saved state: a non-zero size and rendered
  children (an output widget: its figure).

Screenshots of each page at both widths (the whole page, in parts of at most
4000 px, JPEG) go to ``artifacts/site/<page>-<width>[-partN].jpg``; ``artifacts/site/figures.json`` lists
every output figure with the scale it is shown at; a figure below the
legibility rule fails (see ``test_figure_scale``).

``make test`` runs these tests on two pytest-xdist workers. Each page is
opened, measured and photographed once per width and run, by whichever worker
needs it first; the other reads the measurement from
``artifacts/site/state/`` (``_state``).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import time
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import urlopen

import nbformat
import pytest
from _site import ARTIFACTS, CHAPTERS, CONFIG_REPOSITORY, HTML, PAGES, ROOT, VIEWPORTS, Visit, executed_notebook, slug

pytestmark = pytest.mark.site

# One JavaScript probe per page and width: what a reader sees, measured.
PROBE = r"""() => {
  const article = document.querySelector("article.bd-article") || document.querySelector("main") || document.body;
  const col = article.getBoundingClientRect();
  const doc = document.documentElement;
  const describe = (el) => {
    const cls = (el.getAttribute("class") || "").trim().split(/\s+/).slice(0, 3).join(".");
    const text = (el.textContent || "").trim().replace(/\s+/g, " ").slice(0, 70);
    return `<${el.tagName.toLowerCase()}${cls ? "." + cls : ""}> "${text}"`;
  };
  const scrolls = (el) => ["auto", "scroll"].includes(getComputedStyle(el).overflowX);
  const fits = (el) => { const r = el.getBoundingClientRect(); return r.left >= col.left - 1 && r.right <= col.right + 1; };
  const inScrollBox = (el) => {
    for (let a = el.parentElement; a && a !== article; a = a.parentElement) if (scrolls(a) && fits(a)) return true;
    return false;
  };
  const skip = (el) => el.closest("mjx-assistive-mml, .visually-hidden, .sr-only, script, style, template");
  const wide = [], cut = [];
  for (const el of article.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const outside = r.right > col.right + 1 || r.left < col.left - 1;
    if (!outside && !(el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0)) continue;  // the common case, cheap
    if (skip(el)) continue;
    const s = getComputedStyle(el);
    if (s.visibility === "hidden" || s.position === "fixed") continue;
    if (outside && !inScrollBox(el) && !wide.some((w) => w.el.contains(el))) {
      wide.push({el, what: `${describe(el)}: ${Math.round(r.left - col.left)}..${Math.round(r.right - col.left)} px in a ${Math.round(col.width)} px column`});
    }
    if (el.scrollWidth > el.clientWidth + 1 && ["hidden", "clip"].includes(s.overflowX) && el.clientWidth > 0
        && !cut.some((c) => c.el.contains(el))) {
      // scrollWidth counts MathJax's invisible assistive MathML too: measure what is drawn
      let right = r.left, left = r.right;
      for (const d of el.querySelectorAll("*")) {
        if (skip(d)) continue;
        const dr = d.getBoundingClientRect();
        if (dr.width === 0 || dr.height === 0) continue;
        right = Math.max(right, dr.right); left = Math.min(left, dr.left);
      }
      if (right > r.right + 2 || left < r.left - 2) {
        cut.push({el, what: `${describe(el)}: content ${Math.round(left - r.left)}..${Math.round(right - r.left)} px cut to ${Math.round(r.width)} px`});
      }
    }
  }
  const outputs = [...article.querySelectorAll(".cell_output")];
  const textTables = [];
  for (const o of outputs) for (const p of o.querySelectorAll("p, pre")) {
    if (/\|\s*(-{3,}|—+)\s*\|?/.test(p.textContent)) textTables.push(describe(p));
  }
  const errors = [...article.querySelectorAll(".traceback, .output.error, .cell_output .stderr")].map(describe);
  for (const o of outputs) for (const pre of o.querySelectorAll("pre")) {
    if (/Traceback \(most recent call last\)/.test(pre.textContent)) errors.push(describe(pre));
  }
  const widgetViews = article.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length;
  const widgets = [...article.querySelectorAll(".jupyter-widgets")]
    .filter((w) => !w.parentElement.closest(".jupyter-widgets"))
    .map((w) => { const r = w.getBoundingClientRect();
      return {what: describe(w), height: r.height, width: r.width, children: w.children.length,
              images: w.querySelectorAll("img").length,
              outputs: [...w.querySelectorAll(".widget-output, .jupyter-widgets-output-area")].map(
                (o) => ({height: o.getBoundingClientRect().height, images: o.querySelectorAll("img").length,
                         text: (o.textContent || "").trim().length}))}; });
  const figures = [...article.querySelectorAll(".cell_output img")].map((img) => ({
    natural: img.naturalWidth, shown: Math.round(img.getBoundingClientRect().width),
    scale: img.naturalWidth ? img.getBoundingClientRect().width / img.naturalWidth : 0,
    cell: ((img.closest(".cell")?.querySelector(".cell_input pre")?.textContent) || "").trim().split("\n")
      .filter((l) => l.trim() && !l.trim().startsWith("#")).slice(0, 2).join(" / ").slice(0, 120)}));
  return {
    column: Math.round(col.width),
    page: {scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth},
    wide: wide.map((w) => w.what), cut: cut.map((c) => c.what),
    outputTables: article.querySelectorAll(".cell_output table").length,
    textTables, errors, widgetViews, widgets, figures,
    math: document.querySelectorAll("span.math, div.math").length,
    typeset: [...document.querySelectorAll("span.math, div.math")].filter((e) => e.querySelector("mjx-container")).length,
    texErrors: [...document.querySelectorAll("mjx-merror")].map((e) => e.getAttribute("data-mjx-error") || e.textContent),
    images: [...document.images].map((i) => ({src: i.currentSrc, w: i.naturalWidth})),
    links: [...document.querySelectorAll('a')].map((a) => a.href),
    title: document.title,
  };
}"""

_STATES: dict[tuple[str, str], dict] = {}
# Every xdist worker of one run shares this id; a run without xdist gets its own.
RUN = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid{os.getpid()}-{time.time()}"


def _state(browser, server, page: str, width: str) -> dict:
    """Open the page once per width and run, screenshot it, measure it; every test below reads it.

    The measurement is kept in memory and in ``artifacts/site/state/`` (with the
    run's id), under a lock: the first worker to need a page measures it, the
    other waits and reads that record.
    """
    key = (page, width)
    if key in _STATES:
        return _STATES[key]
    folder = ARTIFACTS / "state"
    folder.mkdir(parents=True, exist_ok=True)
    record = folder / f"{slug(page)}-{width}.json"
    with open(record.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if record.exists():
            text = record.read_text()
            saved = json.loads(text)
            if saved.get("server") != server:  # the other worker's server: the same site on another port
                saved = json.loads(text.replace(saved["server"], server))
            if saved.get("run") == RUN:
                _STATES[key] = saved["state"]
                return _STATES[key]
        visit = Visit(browser, server, f"{page}.html", viewport=width)
        try:
            visit.settle()
            if page in WIDGET_CHAPTERS:
                visit.page.wait_for_selector(".jupyter-widgets", timeout=20_000)
                visit.page.wait_for_timeout(500)
            state = visit.page.evaluate(PROBE)
            state["problems"] = list(visit.problems)
            visit.shot_page(f"{slug(page)}-{width}")
            if state["math"] and width == "1280":
                scripts = visit.page.evaluate("() => [...document.scripts].map(s => s.src).filter(s => s.includes('/mathjax/'))")
                state["mathjax_scripts"] = scripts
        finally:
            visit.close()
        record.write_text(json.dumps({"run": RUN, "server": server, "state": state}))
    _STATES[key] = state
    return state


def _markdown_tables(page: str) -> int:
    """How many outputs of the chapter are Markdown tables a reader should see (0 for .md pages)."""
    nb = executed_notebook(page)
    if nb is None:
        return 0
    table = re.compile(r"^\s*\|.*\|\s*$\n^\s*\|[\s:|-]*-{3,}[\s:|-]*\|?\s*$", re.M)
    count = 0
    for cell in nb.cells:
        tags = set(cell.metadata.get("tags", []))
        if cell.cell_type != "code" or tags & {"remove-output", "remove-cell"}:
            continue
        for out in cell.get("outputs", []):
            md = out.get("data", {}).get("text/markdown", "")
            count += len(table.findall(md))
    return count


def _shows_widgets(entry: str) -> bool:
    """A code cell uses ipywidgets and its output is not hidden by a remove-* tag."""
    nb = nbformat.read(ROOT / f"{entry}.ipynb", as_version=4)
    hidden = {"remove-output", "remove-cell"}
    return any(
        c.cell_type == "code" and "ipywidgets" in c.source and not hidden & set(c.metadata.get("tags", []))
        for c in nb.cells
    )


WIDGET_CHAPTERS = [c for c in CHAPTERS if _shows_widgets(c)]
WIDTHS = list(VIEWPORTS)


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_offline_with_math_and_images(browser, server, page):
    state = _state(browser, server, page, "1280")
    assert not state["problems"], "\n".join(state["problems"])
    assert state["title"], "page has no title"
    broken = [i["src"] for i in state["images"] if i["w"] == 0]
    assert not broken, f"images that did not load: {broken}"
    assert state["typeset"] == state["math"], f"{state['math'] - state['typeset']} formulas not typeset"
    assert not state["texErrors"], f"TeX errors: {state['texErrors']}"
    if state["math"]:
        scripts = state["mathjax_scripts"]
        assert scripts and all(s.startswith(server + "/vendor/mathjax/") for s in scripts), scripts


@pytest.mark.parametrize("page", PAGES)
def test_no_traceback_or_error_output(browser, server, page):
    html = (HTML / f"{page}.html").read_text()
    assert "Traceback (most recent call last)" not in html, "a traceback is on the page"
    state = _state(browser, server, page, "1280")
    assert not state["errors"], "error outputs on the page:\n" + "\n".join(state["errors"])


@pytest.mark.parametrize("page", PAGES)
def test_markdown_tables_are_html_tables(browser, server, page):
    state = _state(browser, server, page, "1280")
    assert not state["textTables"], "tables printed as text:\n" + "\n".join(state["textTables"])
    expected = _markdown_tables(page)
    assert state["outputTables"] >= expected, f"{expected} Markdown tables in the outputs, {state['outputTables']} HTML tables"


def test_the_checks_are_not_vacuous():
    """The book has Markdown tables in its outputs, typeset math and output figures."""
    counts = {c: _markdown_tables(c) for c in CHAPTERS}
    assert sum(counts.values()) >= 10, counts
    pages = {p: (HTML / f"{p}.html").read_text() for p in CHAPTERS}
    assert any('class="math' in html for html in pages.values()), "no chapter page has math"
    assert any(re.search(r'class="cell_output[^"]*".*?<img', html, re.S) for html in pages.values()), "no figure"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("page", PAGES)
def test_nothing_is_wider_than_the_column(browser, server, page, width):
    state = _state(browser, server, page, width)
    page_box = state["page"]
    assert page_box["scrollWidth"] <= page_box["clientWidth"] + 1, f"the page scrolls sideways: {page_box}"
    assert not state["wide"], f"wider than the {state['column']} px column, not in a scrolling box:\n" + "\n".join(state["wide"])
    assert not state["cut"], "cut off, not scrollable:\n" + "\n".join(state["cut"])


@pytest.mark.skipif(not WIDGET_CHAPTERS, reason="no chapter in the table of contents shows an ipywidgets output yet")
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("chapter", WIDGET_CHAPTERS)
def test_widgets_show_their_saved_state(browser, server, chapter, width):
    html = (HTML / f"{chapter}.html").read_text()
    assert "application/vnd.jupyter.widget-state+json" in html, "the build saved no widget state"
    state = _state(browser, server, chapter, width)
    assert state["widgetViews"] > 0, "no widget view on the page"
    assert len(state["widgets"]) >= state["widgetViews"], f"{state['widgetViews']} widget views, rendered: {state['widgets']}"
    for w in state["widgets"]:
        assert w["height"] > 0 and w["width"] > 0 and w["children"] > 0, f"an empty widget area: {w}"
        for out in w["outputs"]:
            assert out["height"] > 0 and (out["images"] or out["text"]), f"an output widget with nothing in it: {w}"
    assert any(w["images"] for w in state["widgets"]), "no explorer shows its figure"
    assert not state["problems"], "\n".join(state["problems"])


FIGURE_RULE = 0.77  # 10-pt text shown at >= 7.7 pt; see test_figure_scale


def _write_figure_report() -> dict:
    """Merge the per-page records into artifacts/site/figures.json (every worker writes its pages)."""
    pages = {}
    for path in sorted((ARTIFACTS / "figures").glob("*.json")):
        record = json.loads(path.read_text())
        pages[record["page"]] = record["figures"]
    small = {p: [f for f in figs if f["scale"] < FIGURE_RULE] for p, figs in pages.items()}
    report = {"rule": f"10-pt text >= 8 pt: scale >= {FIGURE_RULE} at 1280 px", "figures": pages,
              "below_rule": {p: figs for p, figs in small.items() if figs}}
    tmp = ARTIFACTS / f".figures.{os.getpid()}.json"
    tmp.write_text(json.dumps(report, indent=1))
    tmp.replace(ARTIFACTS / "figures.json")
    return report


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_figure_scale(browser, server, chapter):
    """Every output figure of the chapter at 1280 px: its natural width, the scale it is shown at, its cell.

    The legibility rule (book/_static/book.css): no text smaller than 8 pt at
    the column width. Matplotlib draws at 100 dpi, so text of s pt shown at
    scale k reads as about s * k pt: with matplotlib's default 10-pt labels a
    figure must be shown at k >= 0.77, i.e. be at most 7.5 in (752 px) wide,
    or draw its text larger in proportion. The scales go to
    artifacts/site/figures.json (one record per chapter in
    artifacts/site/figures/), with the figures below 0.77 listed apart, and
    a figure below the rule fails the test (issue 19): fix it where it is
    drawn (medimgkit.plots keeps its grids within plots.COLUMN_WIDTH; a
    chapter cell draws at most 7.5 in wide, more rows rather than more
    columns). The font sizes are not in the PNG: the rule is checked on the
    scale. ``tests/test_site_build.py::test_output_figures_fit_the_column``
    checks the PNG widths without a browser.
    """
    state = _state(browser, server, chapter, "1280")
    figures = [{k: (round(v, 2) if isinstance(v, float) else v) for k, v in f.items()} for f in state["figures"]]
    (ARTIFACTS / "figures").mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "figures" / f"{slug(chapter)}.json").write_text(json.dumps({"page": chapter, "figures": figures}))
    _write_figure_report()
    assert all(f["shown"] <= state["column"] + 1 for f in figures), "a figure wider than the column"
    below = [f"{f['natural']} px shown at {f['scale']:.2f}: {f['cell']}" for f in figures if f["scale"] < FIGURE_RULE]
    assert not below, f"{chapter}: {len(below)} figures below scale {FIGURE_RULE} (text under 8 pt; draw them at most 7.5 in wide):\n" + "\n".join(below)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_launch_and_download_buttons(browser, server, chapter):
    repo = CONFIG_REPOSITORY
    org_repo = urlparse(repo["url"]).path.strip("/")
    book_path = f"{repo.get('path_to_book', '').strip('/')}/".lstrip("/")
    expected = f"https://colab.research.google.com/github/{org_repo}/blob/{repo['branch']}/{book_path}{chapter}.ipynb"
    links = _state(browser, server, chapter, "1280")["links"]
    colab = [h for h in links if "colab.research.google.com" in h]
    assert colab == [expected], f"Colab link {colab}, expected {expected}"
    assert any(h.startswith("https://mybinder.org/v2/gh/") and h.endswith(f"{chapter}.ipynb") for h in links)
    ipynb = [h for h in links if h.startswith(server) and h.endswith(f"{Path(chapter).name}.ipynb")]
    assert ipynb, "no download link to the .ipynb source"
    with urlopen(ipynb[0], timeout=30) as response:  # the local server only
        assert response.status == 200
        nb = nbformat.reads(response.read().decode(), as_version=4)
    assert nb.cells[0].source.startswith("# ")


def test_search_works_offline(browser, server):
    visit = Visit(browser, server, "search.html?q=MedMNIST")
    try:
        visit.page.wait_for_selector("#search-results li", timeout=20_000)
        assert visit.page.locator("#search-results li").count() > 0
        assert not visit.problems, "\n".join(visit.problems)
    finally:
        visit.close()
