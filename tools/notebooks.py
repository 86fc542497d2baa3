"""Author and check the book's notebooks.

Every chapter's first code cell installs the book's package on Colab, at a
pinned git reference, and does nothing elsewhere. The distribution is
``medimgkit-book`` (``pyproject.toml``: ``project.name``); the import package
is ``medimgkit``. The "medimgkit" on PyPI is an unrelated project.

The repository and the reference are read from ``_config.yml``
(``repository: url, branch``), the same place the book's Colab and Binder
buttons take them from. The reference is the release tag the site is built
from (``v`` + ``pyproject.toml``'s version) or a full commit hash, never a
branch: a branch moves, so a chapter could install a package newer or older
than the one it was written against. A release sets it, then:

    python tools/notebooks.py sync    # rewrite every chapter's Colab cell
    python tools/notebooks.py check   # fail if any chapter's cell differs, or the reference is a branch
    python tools/notebooks.py ref     # print the reference (CI compares it with the tag it builds)

Chapters are written as plain ``.ipynb`` with no outputs; ``write_notebook``
builds one from a list of cells.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
_PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
_REPOSITORY = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
DIST = _PROJECT["name"]  # the distribution; the import package is medimgkit
VERSION = _PROJECT["version"]
REPO_URL = _REPOSITORY["url"].rstrip("/")
REF = str(_REPOSITORY["branch"])
EXTRAS = "medical,widgets"


def colab_spec(url: str = REPO_URL, ref: str = REF) -> str:
    """The pip requirement of the Colab cell; ``make colab-check`` installs it with the checkout's url and HEAD."""
    return f"{DIST}[{EXTRAS}] @ git+{url}@{ref}"


COLAB_SPEC = colab_spec()

COLAB_CELL = f'''# On Colab, install this book's package: the distribution {DIST}, imported as
# medimgkit (the "medimgkit" on PyPI is an unrelated project). Elsewhere this cell does nothing.
import sys

if "google.colab" in sys.modules:
    %pip install -q "{COLAB_SPEC}"'''


def ref_problem(ref: str = REF, version: str = VERSION) -> str | None:
    """Why ``ref`` cannot be the Colab cell's reference, or None when it can.

    It must be the release tag of this version (``v`` + version) or a full
    40-character commit hash.
    """
    if ref == f"v{version}" or re.fullmatch(r"[0-9a-f]{40}", ref):
        return None
    return (
        f"_config.yml repository.branch is {ref!r}; the Colab install cell needs the release tag "
        f"'v{version}' (pyproject.toml's version) or a full 40-character commit hash, not a branch. "
        f"Set it, then run: python tools/notebooks.py sync"
    )


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
    bad = [p for p in [ref_problem()] if p]
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
    elif sys.argv[1:] == ["ref"]:
        print(REF)
    else:
        sys.exit("usage: python tools/notebooks.py sync|check|ref")
