"""The book's chapters: listed in the table of contents, Colab-ready, stored without outputs."""

import re
import sys
from pathlib import Path

import nbformat
import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import book_toc  # noqa: E402  (the one reader of _toc.yml)
import notebooks  # noqa: E402

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


def test_colab_cell_pins_the_release_not_a_branch():
    """One place (_config.yml) sets the reference; it is the release tag of this version or a commit."""
    assert notebooks.ref_problem() is None, notebooks.ref_problem()
    assert notebooks.COLAB_SPEC.endswith(f"@{notebooks.REF}")
    assert "@main" not in notebooks.COLAB_CELL
    for bad in ("main", "v0.1.0", "0.2.0", "abc123"):
        problem = notebooks.ref_problem(bad, "0.2.0")
        assert problem and repr(bad) in problem and "'v0.2.0'" in problem and "sync" in problem
    assert notebooks.ref_problem("v0.2.0", "0.2.0") is None
    assert notebooks.ref_problem("0123456789abcdef0123456789abcdef01234567", "0.2.0") is None


def test_colab_cell_installs_our_distribution_and_names_the_other_one():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] != "medimgkit"  # that name on PyPI is an unrelated project
    assert notebooks.COLAB_SPEC.startswith(f"{project['name']}[medical,widgets] @ git+")
    assert "imported as\n# medimgkit" in notebooks.COLAB_CELL and "unrelated" in notebooks.COLAB_CELL


def test_readme_and_api_page_install_the_same_release():
    """README.md and book/api.md show `pip install medimgkit-book ... @<ref>` with _config.yml's reference."""
    for page in ("README.md", "book/api.md"):
        text = (ROOT / page).read_text()
        specs = re.findall(r'pip install "([^"]+ @ git\+[^"]+)"', text)
        assert specs, f"{page}: no pip install line from git"
        for spec in specs:
            dist, _, rest = spec.partition(" @ git+")
            assert dist.split("[")[0] == notebooks.DIST, (page, spec)
            assert rest == f"{notebooks.REPO_URL}@{notebooks.REF}", (page, spec, notebooks.REF)
        assert "import medimgkit" in text and "unrelated" in text, page
