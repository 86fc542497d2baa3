"""The book as a product, part 1: the quick-mode site, built strictly from nbval's run.

``make test`` executes every chapter once, under nbval, recording each as an
executed notebook (``tools/executed.py``). ``tools/quick_site.py`` builds the
site from those notebooks with execution off, strictly
(``--warningiserror --keep-going``): a chapter that failed under nbval, or
changed since, is refused before anything is built, and a page with a
traceback or a Markdown table printed as text fails the build
(``tools/book_site.py``). The browser checks of the built pages are in
``tests/test_site_browser.py``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from _site import ARTIFACTS, CHAPTERS, EXECUTED, HTML, OUTPUT, PAGES, QUICK, ROOT, reuse

sys.path.insert(0, str(ROOT / "tools"))
import book_site  # noqa: E402
import executed  # noqa: E402
import medimgkit_api  # noqa: E402
import quick_site  # noqa: E402

pytestmark = pytest.mark.site


def test_offline_javascript_is_pinned_on_npm():
    """MathJax 3 and the widget manager come from npm at the versions package-lock.json records."""
    pkg = json.loads((ROOT / "package.json").read_text())["dependencies"]
    lock = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    assert pkg["mathjax"].startswith("3.") and "@jupyter-widgets/html-manager" in pkg
    for name, version in pkg.items():
        assert lock[f"node_modules/{name}"]["version"] == version, name
    assert lock[""]["dependencies"] == pkg, "package-lock.json is stale: run npm install"
    assert not (ROOT / "_static").exists(), "_static/: Jupyter Book 1 would load every .js in it on every page"


# --------------------------------------------------------------------------- the guards


def _executed_copy(chapter: str, tmp: Path, status: str = "passed", edit: bool = False) -> Path:
    nb = nbformat.read(ROOT / f"{chapter}.ipynb", as_version=4)
    nb.metadata[executed.RUN_KEY] = {"status": status, "mode": "quick", "failed_cells": [2] if status != "passed" else [],
                                     "cells_not_run": [], "finished": "now"}  # fmt: skip
    if edit:
        nb.cells[-1].source += "\n# edited after the run"
    target = tmp / f"{chapter}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return target


def test_a_chapter_that_failed_or_changed_cannot_make_a_site(tmp_path):
    """The site is built only from chapters that passed under nbval and are still current."""
    chapter = CHAPTERS[-1]
    toc = tmp_path / "_toc.yml"
    toc.write_text(f"format: jb-book\nroot: book/intro\nchapters:\n  - file: {chapter}\n")
    ran = tmp_path / "executed"
    assert "not executed by nbval" in " ".join(quick_site.check_executed(ran, toc))
    _executed_copy(chapter, ran, status="failed")
    assert "FAILED under nbval" in " ".join(quick_site.check_executed(ran, toc))
    _executed_copy(chapter, ran, edit=True)
    assert "changed since nbval executed it" in " ".join(quick_site.check_executed(ran, toc))
    _executed_copy(chapter, ran)
    assert quick_site.check_executed(ran, toc) == []
    # and build() refuses before running jupyter-book: no html folder appears
    _executed_copy(chapter, ran, status="failed")
    result = quick_site.build(ran, toc, log=tmp_path / "build.log", output=tmp_path / "out")
    assert result["returncode"] == 1 and result["problems"]
    assert not (tmp_path / "out" / "_build").exists()


def _tiny_project(tmp_path: Path, markdown_format: str, outputs: list, execute: str = "off",
                  code: str = "show()") -> subprocess.CompletedProcess:  # fmt: skip
    """A one-notebook Sphinx project with MyST-NB and tools/book_site.py, built strictly."""
    src = tmp_path / markdown_format / "src"
    src.mkdir(parents=True)
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT / 'tools')!r})\n"
        f"extensions = ['myst_nb', 'book_site']\nnb_execution_mode = {execute!r}\n"
        f"nb_render_markdown_format = {markdown_format!r}\nexclude_patterns = ['_build']\n"
    )
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(code)
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    nb.cells = [nbformat.v4.new_markdown_cell("# A page"), cell]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, src / "index.ipynb")
    out = tmp_path / markdown_format / "html"
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(src), str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    proc.html = (out / "index.html").read_text() if (out / "index.html").exists() else ""
    return proc


TABLE = {"output_type": "display_data", "metadata": {},
         "data": {"text/markdown": "| model | AUC |\n|---|---:|\n| CNN | 0.81 |", "text/plain": "<Markdown>"}}  # fmt: skip
ERROR = {"output_type": "error", "ename": "ValueError", "evalue": "bad", "traceback": ["Traceback", "ValueError: bad"]}


def test_tables_render_and_tracebacks_fail_the_strict_build(tmp_path):
    """The mechanism behind the site's rules, on a one-page project built for real."""
    good = _tiny_project(tmp_path, "myst", [TABLE])
    assert good.returncode == 0, good.stderr[-2000:]
    assert re.search(r"<table[^>]*>.*CNN.*0\.81.*</table>", good.html, re.S), "the Markdown output is no HTML table"
    as_text = _tiny_project(tmp_path, "commonmark", [TABLE])
    assert as_text.returncode != 0 and "Markdown table rendered as text" in as_text.stderr, as_text.stderr[-2000:]
    error = _tiny_project(tmp_path, "gfm", [TABLE, ERROR])
    assert error.returncode != 0 and "a traceback in a cell output" in error.stderr, error.stderr[-2000:]


def test_an_executing_build_writes_the_time_table(tmp_path):
    """make book executes (or takes from its cache) every chapter: the table gives MyST-NB's times."""
    code = "from IPython.display import Markdown, display\ndisplay(Markdown('| a | b |\\n|---|---|\\n| 1 | 2 |'))"
    proc = _tiny_project(tmp_path, "myst", [], execute="force", code=code)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "<table" in proc.html, "the executed Markdown output is no HTML table"
    table = (tmp_path / "myst" / "execution_times.md").read_text()
    row = next(line for line in table.splitlines() if line.startswith("| index |"))
    assert "executed by the build (force), ok" in row and re.search(r"\| \d+\.\d \|", row), row


def test_the_book_renders_markdown_outputs_as_tables():
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["sphinx"]["config"]["nb_render_markdown_format"] in ("myst", "gfm")
    assert "book_site" in config["sphinx"]["local_extensions"]


def test_the_install_line_comes_from_one_place():
    """intro.md shows the install command through a substitution built from pyproject.toml's name."""
    import tomllib

    name = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"]
    command = book_site.substitutions()["install_command"]
    assert command.startswith(f'pip install "{name}[') and "git+https://github.com/" in command
    intro = (ROOT / "book" / "intro.md").read_text()
    assert "{{ install_block }}" in intro and "{{ repository_link }}" in intro and "{{ source_article }}" in intro
    assert "pip install" not in intro, "spell the install line through {{ install_block }} only"


def test_the_intro_names_the_article_the_repository_and_the_install_line(site):
    """What a reader who lands on the book needs first, on the rendered intro."""
    if not (HTML / "book" / "intro.html").exists():
        pytest.fail("no intro page was built")
    html = (HTML / "book" / "intro.html").read_text()
    text = re.sub(r"<[^>]+>", "", html)
    assert "survey article" in text and "Chinese" in text, "the intro does not say which article the book starts from"
    subs = book_site.substitutions()
    assert f'href="{subs["repository_url"]}"' in html, "no link to the repository"
    assert subs["install_command"].replace('"', "&quot;") in html or subs["install_command"] in text
    assert 'id="how-to-read-this-book"' in html
    for chapter in CHAPTERS:
        assert f'{Path(chapter).name}.html' in html, f"the reading guide does not list {chapter}"
    for chapter in CHAPTERS:
        page = (HTML / f"{chapter}.html").read_text()
        assert "intro.html#how-to-read-this-book" in page, f"{chapter}: no link to the reading guide"


# --------------------------------------------------------------------------- the build


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_chapter_was_executed_once_by_nbval_and_passed(chapter):
    """The site renders nbval's run of this chapter: it passed, in quick mode, on the current source."""
    if OUTPUT != QUICK:
        pytest.skip("the full-mode site is executed by jupyter-book itself")
    path = EXECUTED / f"{chapter}.ipynb"
    if not path.exists():
        pytest.fail(f"{chapter} has no executed copy in {EXECUTED}: run `make test` or `make nbval` first")
    toc = ARTIFACTS / "one_chapter_toc.yml"
    toc.parent.mkdir(parents=True, exist_ok=True)
    toc.write_text(f"format: jb-book\nroot: book/intro\nchapters:\n  - file: {chapter}\n")
    problems = quick_site.check_executed(EXECUTED, toc)
    assert not problems, "\n".join(problems)
    run = executed.run_info(path)
    with (ARTIFACTS / "timings.txt").open("a") as f:
        f.write(f"{chapter}\t{run['seconds']:.1f} s\n")


def _pngs(node):
    """Every image/png an executed notebook holds: cell outputs and the outputs kept in the widget state."""
    if isinstance(node, dict):
        if isinstance(node.get("image/png"), str):
            yield node["image/png"]
        for value in node.values():
            yield from _pngs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _pngs(value)


def _png_width(data: str) -> int:
    import base64
    import struct

    head = base64.b64decode(data[:64])  # the signature and the IHDR chunk: width, height (big-endian)
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">I", head[16:20])[0]


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_output_figures_fit_the_column(chapter):
    """No output figure wider than 750 px (7.5 in at 100 dpi, medimgkit.plots.COLUMN_WIDTH): no browser needed.

    A wider PNG is shrunk by the web column at 1280 px, and its text below
    8 pt (issue 19; tests/test_site_browser.py::test_figure_scale_report
    measures the scales in Chromium). Reads the executed notebook nbval wrote.
    """
    from medimgkit.plots import COLUMN_WIDTH

    if OUTPUT != QUICK:
        pytest.skip("the full-mode site is executed by jupyter-book itself: no nbval copy to read")
    path = EXECUTED / f"{chapter}.ipynb"
    if not path.exists():
        pytest.skip(f"{chapter} has no executed copy in {EXECUTED}: run `make test` or `make nbval` first")
    nb = nbformat.read(path, as_version=4)
    limit = round(100 * COLUMN_WIDTH)
    wide = []
    for i, cell in enumerate(nb.cells):
        for data in _pngs(cell.get("outputs", [])):
            if (w := _png_width(data)) > limit:
                first = next((line for line in cell.source.splitlines() if line.strip() and not line.startswith("#")), "")
                wide.append(f"cell {i} ({cell.get('id', '?')}): {w} px: {first[:90]}")
    for data in _pngs(nb.metadata.get("widgets", {})):
        if (w := _png_width(data)) > limit:
            wide.append(f"a widget's output: {w} px")
    assert not wide, f"{chapter}: figures wider than {limit} px (draw them at most {COLUMN_WIDTH} in wide):\n" + "\n".join(wide)


def test_quick_build_is_strict_and_clean(site):
    """No warning, no failed chapter: --warningiserror --keep-going exits 0, every page is written."""
    assert not site["problems"], "the site was not built:\n" + "\n".join(site["problems"])
    log = site["text"]
    problems = [line for line in log.splitlines() if re.search(r"WARNING:|ERROR:|Error:", line)]
    problems = [p for p in problems if "absl::InitializeLog" not in p]  # TensorFlow's C++ logger, not Sphinx
    assert site["returncode"] == 0, "quick build failed:\n" + "\n".join(problems[-40:] or log[-4000:].splitlines())
    for page in PAGES:
        assert (HTML / f"{page}.html").exists(), f"{page}.html was not written"


def test_the_build_executed_nothing_and_logged_the_chapter_times(site):
    """Execution was off: every chapter's time in the table is nbval's, none is jupyter-book's."""
    if reuse():
        pytest.skip("BOOK_SITE_REUSE=1: no build ran in this session")
    table = (OUTPUT / "_build" / "execution_times.md").read_text()
    assert "execution time per chapter" in site["text"], "the build log lacks the table"
    for chapter in CHAPTERS:
        row = next((line for line in table.splitlines() if line.startswith(f"| {chapter} |")), None)
        assert row is not None, f"{chapter} missing from the execution-time table"
        assert "nbval, quick mode, passed" in row, row
    assert "executed by the build" not in table
    assert not re.search(r"Executing notebook|Executing:", site["text"]), "jupyter-book executed a notebook"


def test_api_reference_documents_every_public_module(site):
    """One page per tier (book/api/<slug>.md), each module on its tier's page, the index links them all."""
    assert "book/api" in PAGES, "book/api.md (the API reference) is not in the table of contents"
    modules = medimgkit_api.public_modules()
    for required in ("medimgkit", "medimgkit.config", "medimgkit.data", "medimgkit.models", "medimgkit.train",
                     "medimgkit.metrics", "medimgkit.explain", "medimgkit.plots"):  # fmt: skip
        assert required in modules
    index = (HTML / "book" / "api.html").read_text()
    pages = {}
    for title, slug in medimgkit_api.SLUGS.items():
        assert f"book/api/{slug}" in PAGES, f"book/api/{slug}.md ({title}) is not in the table of contents"
        assert f'href="api/{slug}.html"' in index, f"the API index does not link {slug}"
        pages[title] = (HTML / "book" / "api" / f"{slug}.html").read_text()
    misplaced = [m for m in modules if f'id="module-{m}"' not in pages[medimgkit_api.tier_of(m)]]
    assert not misplaced, f"not on their tier's page: {misplaced}"
    assert all(f'id="module-{m}"' not in index for m in modules), "the index page documents modules itself"
    assert 'id="medimgkit.data.load_medmnist"' in pages["The kit"]
    assert 'id="medimgkit.metrics.binary_report"' in pages["Evaluation and explanation"]


def test_a_page_with_a_traceback_fails_the_build_and_leaves_no_site(tmp_path):
    """End to end, on a two-page book: a traceback in an output fails the strict build, and the
    failed build's pages are moved to html.FAILED, so nothing servable is left at _build/html."""
    chapter = CHAPTERS[-1]
    toc = tmp_path / "_toc.yml"
    toc.write_text(f"format: jb-book\nroot: book/intro\nchapters:\n  - file: {chapter}\n")
    ran = tmp_path / "executed"
    path = _executed_copy(chapter, ran)
    nb = nbformat.read(path, as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code" and "google.colab" not in c.source)
    code.outputs = [nbformat.from_dict(ERROR)]
    nbformat.write(nb, path)
    assert quick_site.check_executed(ran, toc) == []  # the record says passed: only the build can catch it
    out = tmp_path / "out"
    result = quick_site.build(ran, toc, log=tmp_path / "build.log", output=out)
    assert result["returncode"] != 0, result["text"][-2000:]
    assert "a traceback in a cell output" in result["text"]
    assert not (out / "_build" / "html").exists() and (out / "_build" / "html.FAILED").exists()
    assert json.loads((out / "build.json").read_text())["returncode"] == result["returncode"]
