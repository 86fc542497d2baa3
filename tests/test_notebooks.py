"""The book's chapters: listed in the table of contents, Colab-ready, stored without outputs."""

import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import notebooks  # noqa: E402
import book_toc  # noqa: E402  (the one reader of _toc.yml)

CHAPTERS = notebooks.chapters()


def test_there_are_chapters():
    assert len(CHAPTERS) >= 1


def test_every_notebook_is_in_the_toc_and_every_toc_entry_exists():
    toc = book_toc.pages()
    for path in CHAPTERS:
        assert str(path.relative_to(ROOT).with_suffix("")) in toc, f"{path} is missing from _toc.yml"
    for entry in toc:
        assert any((ROOT / f"{entry}{ext}").exists() for ext in (".md", ".ipynb")), entry


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_is_clean_and_colab_ready(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert notebooks.colab_cell(nb) == notebooks.COLAB_CELL
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "medimgkit" in code
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path.name}: stored outputs"
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_colab_cell_installs_only_on_colab():
    """Executed here (not on Colab) the cell must do nothing, not even import pip."""
    import IPython.core.inputtransformer2 as it

    python = it.TransformerManager().transform_cell(notebooks.COLAB_CELL)
    ns: dict = {}
    calls = []
    ns["get_ipython"] = lambda: type("ip", (), {"run_line_magic": lambda *a: calls.append(a)})()
    exec(python, ns)
    assert calls == []
    assert "google.colab" in notebooks.COLAB_CELL and "%pip install" in notebooks.COLAB_CELL
