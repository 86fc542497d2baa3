"""Markdown tables: the one writer behind every table the package and the book print."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def markdown_table(header: Sequence[str], rows: Iterable[Sequence], align: str | None = None) -> str:
    """A GitHub/MyST Markdown table from a header and rows of cells.

    Parameters
    ----------
    header : sequence of str
        Column titles.
    rows : iterable of sequences
        One sequence of cells per row, each as long as ``header``; cells are
        written with ``str()`` and any ``|`` in them is escaped.
    align : str, optional
        One character per column: ``l``, ``c`` or ``r`` (default: all left).

    Returns
    -------
    str, ready for ``IPython.display.Markdown``.
    """
    header = [str(h) for h in header]
    if not header:
        raise ValueError("a table needs at least one column in header")
    align = align or "l" * len(header)
    if len(align) != len(header) or set(align) - set("lcr"):
        raise ValueError(f"align must be one of l/c/r per column ({len(header)} columns), got {align!r}")
    rule = {"l": "---", "c": ":---:", "r": "---:"}

    def line(cells) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    out = [line(header), "|" + "|".join(rule[a] for a in align) + "|"]
    for i, row in enumerate(rows):
        row = list(row)
        if len(row) != len(header):
            raise ValueError(f"row {i} has {len(row)} cells but the header has {len(header)}: {row!r}")
        out.append(line(row))
    return "\n".join(out)
