"""Author and check the book's notebooks.

Every chapter's first code cell installs medimgkit on Colab, at a pinned git
reference, and does nothing elsewhere. The repository and the reference are
read from ``_config.yml`` (``repository: url, branch``), the same place the
book's Colab and Binder buttons take them from, so a chapter opened from a
branch or tag installs the package of that same branch or tag. To pin a
release, set ``branch`` to its tag, then:

    python tools/notebooks.py sync    # rewrite every chapter's Colab cell
    python tools/notebooks.py check   # fail if any chapter's cell differs

Chapters are written as plain ``.ipynb`` with no outputs; ``write_notebook``
builds one from a list of cells.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import nbformat
import yaml

_ROOT = Path(__file__).resolve().parents[1]
_REPOSITORY = yaml.safe_load((_ROOT / "_config.yml").read_text())["repository"]
REPO_URL = _REPOSITORY["url"].rstrip("/")
REF = str(_REPOSITORY["branch"])
# The distribution name, from pyproject.toml: the one place it is spelled. The
# install line of every Colab cell and of the book's intro ({{ install_command }},
# tools/book_site.py) is built from it.
DIST = tomllib.loads((_ROOT / "pyproject.toml").read_text())["project"]["name"]
COLAB_SPEC = f"{DIST}[medical,widgets] @ git+{REPO_URL}@{REF}"

COLAB_CELL = f'''# On Colab, install this book's package (medimgkit); elsewhere this cell does nothing.
import sys

if "google.colab" in sys.modules:
    %pip install -q "{COLAB_SPEC}"'''

BOOK = Path(__file__).resolve().parents[1] / "book"


def _cell(kind: str, source: str, tags: list[str] | None = None):
    if kind == "md":
        cell = nbformat.v4.new_markdown_cell(source.strip("\n"))
    elif kind == "code":
        cell = nbformat.v4.new_code_cell(source.strip("\n"))
    else:
        raise ValueError(f"cell kind must be 'md' or 'code', got {kind!r}")
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def write_notebook(path: str | Path, cells: list[tuple]) -> Path:
    """Write a chapter: ``cells`` is a list of ``(kind, source)`` or ``(kind, source, tags)``.

    The first cell must be the title (Markdown ``# ...``); the Colab install
    cell is inserted right after it.
    """
    nb = nbformat.v4.new_notebook()
    built = [_cell(*c) for c in cells]
    if not built or built[0].cell_type != "markdown" or not built[0].source.startswith("# "):
        raise ValueError(f"{path}: the first cell must be a Markdown title '# ...'")
    colab = _cell("code", COLAB_CELL, ["remove-cell"])
    nb.cells = [built[0], colab, *built[1:]]
    nb.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
        "colab": {"provenance": []},
    }
    nbformat.validate(nb)
    path = Path(path)
    nbformat.write(nb, path)
    return path


def chapters() -> list[Path]:
    return sorted(p for p in BOOK.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def colab_cell(nb) -> str | None:
    code = [c for c in nb.cells if c.cell_type == "code"]
    return code[0].source if code else None


def sync() -> None:
    for path in chapters():
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        if code and "google.colab" in code[0].source:
            code[0].source = COLAB_CELL
            nbformat.write(nb, path)


def check() -> list[str]:
    bad = []
    for path in chapters():
        nb = nbformat.read(path, as_version=4)
        if colab_cell(nb) != COLAB_CELL:
            bad.append(f"{path}: first code cell is not the Colab install cell of tools/notebooks.py")
    return bad


if __name__ == "__main__":
    if sys.argv[1:] == ["sync"]:
        sync()
    elif sys.argv[1:] == ["check"]:
        problems = check()
        print("\n".join(problems) or "all chapters carry the Colab install cell")
        sys.exit(1 if problems else 0)
    else:
        sys.exit("usage: python tools/notebooks.py sync|check")
