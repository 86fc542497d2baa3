"""Every chapter ends the same way: a summary, exercises, a questionnaire with answers, further reading.

The book's promise to a newcomer (issue 16): each chapter closes with a
``## Summary``, ``## Exercises``, a ``## Questionnaire`` of 8 to 15 questions
answered in a folded block, and ``## Further reading`` with 3 to 5 references,
each cited through the book's bibliography (``references.bib``) with the DOI
that its entry records. Read from the chapters' Markdown, so a new chapter that
forgets its ending fails here, naming what is missing.
"""

import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import notebooks  # noqa: E402

CHAPTERS = notebooks.chapters()
SECTIONS = ("Summary", "Exercises", "Questionnaire", "Further reading")
ENTRY = re.compile(r"@\w+\{(?P<key>[^,\s]+),(?P<body>.*?)\n\}", re.S)
BIB = {m["key"]: m["body"] for m in ENTRY.finditer((ROOT / "references.bib").read_text(encoding="utf-8"))}


def _doi(key: str) -> str | None:
    match = re.search(r"^\s*doi\s*=\s*\{([^}]*)\}", BIB.get(key, ""), re.M)
    return match.group(1) if match else None


def _sections(path: Path) -> dict[str, str]:
    """The text of each level-2 section of the chapter's Markdown, by heading, in order."""
    nb = nbformat.read(path, as_version=4)
    markdown = "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    parts = re.split(r"^## +(.+?)\s*$", markdown, flags=re.M)
    return {title: body for title, body in zip(parts[1::2], parts[2::2])}


def _numbered(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"^(\d+)\. ", text, re.M)]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_ends_with_summary_exercises_questionnaire_and_reading(path):
    sections = _sections(path)
    titles = list(sections)
    missing = [s for s in SECTIONS if s not in sections]
    assert not missing, f"{path.name}: no '## {missing[0]}' section (every chapter ends with {', '.join(SECTIONS)})"
    order = [titles.index(s) for s in SECTIONS]
    assert order == sorted(order), f"{path.name}: the closing sections are in the order {titles[min(order):]}"
    assert titles[-1] == "Further reading", f"{path.name}: '## Further reading' is the last section, not {titles[-1]!r}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_questionnaire_has_8_to_15_questions_each_answered(path):
    text = _sections(path).get("Questionnaire", "")
    questions, sep, answers = text.partition("{admonition} Answers")
    assert sep, f"{path.name}: the questionnaire has no folded '{{admonition}} Answers' block"
    assert ":class: dropdown" in answers, f"{path.name}: the answers are not folded (:class: dropdown)"
    asked, answered = _numbered(questions), _numbered(answers)
    assert 8 <= len(asked) <= 15, f"{path.name}: {len(asked)} questions; a questionnaire has 8 to 15"
    assert asked == list(range(1, len(asked) + 1)), f"{path.name}: questions numbered {asked}"
    assert answered == asked, f"{path.name}: questions {asked}, answers {answered}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_further_reading_cites_the_bibliography_with_dois(path):
    text = _sections(path).get("Further reading", "")
    entries = re.findall(r"^- (.+)$", text, re.M)
    assert 3 <= len(entries) <= 5, f"{path.name}: {len(entries)} references in Further reading; it has 3 to 5"
    for entry in entries:
        cite = re.search(r"\{cite:[tp]\}`([^`]+)`", entry)
        assert cite, f"{path.name}: a reference not cited from references.bib: {entry[:80]!r}"
        for key in cite.group(1).split(","):
            assert key in BIB, f"{path.name}: {key!r} is not in references.bib"
        doi = _doi(cite.group(1).split(",")[0])
        if doi is not None:
            assert f"doi.org/{doi}" in entry, f"{path.name}: {cite.group(1)} has DOI {doi} in references.bib; link it"
    with_doi = [e for e in entries if "doi.org/" in e]
    assert len(with_doi) >= 3, f"{path.name}: only {len(with_doi)} references with a DOI link; at least 3"


def test_the_bibliography_was_read():
    assert len(BIB) > 50 and _doi("litjens2017survey") == "10.1016/j.media.2017.07.005"
