"""tools/book_toc.py: the one reader of _toc.yml that every test and tool uses."""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import book_toc  # noqa: E402


def test_pages_in_reading_order_with_parts_chapters_and_sections(tmp_path):
    toc = tmp_path / "_toc.yml"
    toc.write_text(
        "format: jb-book\nroot: book/intro\nparts:\n"
        "  - caption: A\n    chapters:\n      - file: book/a\n        sections:\n          - file: book/a1\n"
        "  - caption: B\n    chapters:\n      - file: book/b\n"
    )
    assert book_toc.pages(toc) == ["book/intro", "book/a", "book/a1", "book/b"]


def test_chapters_are_the_pages_that_are_notebooks(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "nb.ipynb").write_text("{}")
    (tmp_path / "book" / "page.md").write_text("# page")
    toc = tmp_path / "_toc.yml"
    toc.write_text("format: jb-book\nroot: book/page\nchapters:\n  - file: book/nb\n")
    assert book_toc.chapters(toc, root=tmp_path) == ["book/nb"]


def test_the_book_toc_lists_every_chapter_once():
    pages = book_toc.pages()
    assert pages[0] == "book/intro" and len(pages) == len(set(pages))
    assert book_toc.chapters() and all(c in pages for c in book_toc.chapters())


@pytest.mark.parametrize(
    "text, message",
    [
        ("format: jb-book\nchapters:\n  - file: a\n", "no 'root' key"),
        ("format: jb-book\nroot: a\nchapters:\n  - file: b\n  - file: b\n", "pages listed twice"),
        ("format: jb-book\nroot: a\nchapters:\n  - b\n", "must be a mapping"),
    ],
)
def test_a_broken_toc_is_refused_with_a_clear_message(tmp_path, text, message):
    toc = tmp_path / "_toc.yml"
    toc.write_text(text)
    with pytest.raises(ValueError, match=message):
        book_toc.pages(toc)
