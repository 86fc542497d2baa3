"""The book's diagrams: valid SVG, placed in a chapter with alt text and a caption, in step with their source.

``tools/diagrams.py`` draws every file in ``book/images/diagrams/``. This test
draws them all again into a temporary folder and checks each one: it parses as
SVG with a size and a viewBox, fits the page column, is shown by a chapter in a
MyST ``{figure}`` with alt text, a name and a caption, and is byte-for-byte the
checked-in file (so nobody edits an SVG by hand or forgets to commit a redraw).
The byte comparison needs the matplotlib version the files were drawn with
(it is written into each SVG); under another version that one check is skipped
with a message saying how to redraw.
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import diagrams  # noqa: E402

BOOK = ROOT / "book"
CHECKED_IN = BOOK / "images" / "diagrams"
SVG = "{http://www.w3.org/2000/svg}"
NAMES = sorted(diagrams.DIAGRAMS)
FIGURE = re.compile(r"```\{figure\} images/diagrams/(?P<name>[\w-]+)\.svg\n(?P<body>.*?)\n```", re.S)


@pytest.fixture(scope="module")
def redrawn(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("diagrams")
    diagrams.build(out)
    return out


def _figures() -> dict[str, list[tuple[str, int, str]]]:
    """Every diagram figure in the chapters: name -> [(chapter, cell index, directive body)]."""
    found: dict[str, list[tuple[str, int, str]]] = {}
    for path in sorted(BOOK.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "markdown":
                continue
            for m in FIGURE.finditer(cell.source):
                found.setdefault(m["name"], []).append((path.name, i, m["body"]))
    return found


FIGURES = _figures()


def _drawn_with(svg: Path) -> str | None:
    m = re.search(r"Matplotlib v([\w.+-]+), https://matplotlib.org", svg.read_text(encoding="utf-8"))
    return m[1] if m else None


def test_every_checked_in_svg_has_a_drawing_function_and_the_reverse():
    assert sorted(p.stem for p in CHECKED_IN.glob("*.svg")) == NAMES
    assert not [p for p in CHECKED_IN.iterdir() if p.suffix != ".svg"], "only SVG files belong here"


def test_every_chapter_has_a_diagram():
    chapters = {p.name for p in BOOK.glob("*.ipynb")}
    shown = {chapter for uses in FIGURES.values() for chapter, _, _ in uses}
    assert chapters <= shown, f"chapters without a diagram: {sorted(chapters - shown)}"


@pytest.mark.parametrize("name", NAMES)
def test_valid_svg_that_fits_the_page(name, redrawn):
    root = ET.parse(redrawn / f"{name}.svg").getroot()
    assert root.tag == f"{SVG}svg"
    view_box = [float(v) for v in root.attrib["viewBox"].split()]
    assert len(view_box) == 4 and view_box[2] > 0 and view_box[3] > 0
    width = root.attrib["width"]
    assert width.endswith("pt") and float(width[:-2]) <= diagrams.MAX_WIDTH_IN * 72 + 1e-6
    assert root.find(f"{SVG}title") is not None
    assert root.findall(f".//{SVG}path"), "an empty drawing"


@pytest.mark.parametrize("name", NAMES)
def test_source_note_is_in_the_function_and_the_file(name, redrawn):
    note = diagrams.source_note(name)
    assert "Drawn for this book" in note, f"{name}: the source note must say the diagram was drawn for this book"
    assert re.match(r"Chapters? \d", note), f"{name}: the source note starts with its chapter"
    description = ET.parse(redrawn / f"{name}.svg").getroot().find(".//{http://purl.org/dc/elements/1.1/}description")
    assert description is not None and description.text.strip() == note


@pytest.mark.parametrize("name", NAMES)
def test_shown_by_a_chapter_with_alt_text_and_caption(name):
    assert name in FIGURES, f"no chapter shows images/diagrams/{name}.svg"
    for chapter, index, body in FIGURES[name]:
        where = f"{chapter}, cell {index}"
        options = dict(re.findall(r"^:(\w+): *(.*)$", body, re.M))
        caption = "\n".join(ln for ln in body.splitlines() if ln.strip() and not ln.startswith(":")).strip()
        assert len(options.get("alt", "")) >= 80, f"{where}: the alt text must describe the diagram"
        assert '"' not in options["alt"] or options["alt"].count('"') % 2 == 0, where
        assert options.get("name") == f"fig-{name}", f"{where}: the figure's :name: is fig-{name}"
        assert options.get("width") == "100%", where
        assert caption.endswith("(Diagram drawn for this book.)"), f"{where}: caption"
        assert index > 1, f"{where}: the title and the Colab cell come first"


@pytest.mark.parametrize("name", NAMES)
def test_checked_in_file_is_what_the_source_draws(name, redrawn):
    checked_in = CHECKED_IN / f"{name}.svg"
    drawn_with = _drawn_with(checked_in)
    if drawn_with != matplotlib.__version__:
        pytest.skip(f"{name}.svg was drawn with matplotlib {drawn_with}, this is {matplotlib.__version__}: "
                    "glyph outlines may differ; redraw with `python tools/diagrams.py` and commit")
    assert (redrawn / f"{name}.svg").read_bytes() == checked_in.read_bytes(), (
        f"book/images/diagrams/{name}.svg is not what tools/diagrams.py draws; run `python tools/diagrams.py`")
