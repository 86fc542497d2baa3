"""The book's table of contents (``_toc.yml``), read in one place.

Every test and tool that needs the list of pages or chapters asks this module:
``pages()`` is every entry in reading order (the root first, then each part's
chapters and their sections), ``chapters()`` the entries that are notebooks.
Entries are paths without suffix, relative to the repository root
(``book/02_convolution``).
"""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
TOC = ROOT / "_toc.yml"


def _walk(items):
    for item in items or []:
        if not isinstance(item, dict):
            raise ValueError(f"_toc.yml: every entry must be a mapping, got {item!r}")
        if "file" in item:
            yield str(item["file"])
        yield from _walk(item.get("sections"))


def pages(toc: str | Path | None = None) -> list[str]:
    """Every page of the book, in reading order (``_toc.yml`` unless ``toc`` names another file)."""
    path = Path(toc) if toc is not None else TOC
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict) or "root" not in data:
        raise ValueError(f"{path}: not a Jupyter Book table of contents (no 'root' key)")
    entries = [str(data["root"]), *_walk(data.get("chapters"))]
    for part in data.get("parts") or []:
        entries += list(_walk(part.get("chapters")))
    duplicates = sorted({e for e in entries if entries.count(e) > 1})
    if duplicates:
        raise ValueError(f"{path}: pages listed twice: {duplicates}")
    return entries


def chapters(toc: str | Path | None = None, root: Path = ROOT) -> list[str]:
    """The pages that are notebooks (``<entry>.ipynb`` exists under ``root``)."""
    return [p for p in pages(toc) if (root / f"{p}.ipynb").exists()]
