"""plots.markdown_table: the one writer of the book's Markdown tables."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medimgkit.plots import markdown_table


def test_table_layout():
    assert markdown_table(["a", "b"], [[1, "x|y"]], align="lr") == "| a | b |\n|---|---:|\n| 1 | x\\|y |"


@given(st.lists(st.lists(st.text(alphabet="ab |-", max_size=5), min_size=3, max_size=3), max_size=5))
def test_every_row_has_as_many_cells_as_the_header(rows):
    lines = markdown_table(["x", "y", "z"], rows).splitlines()
    assert len(lines) == 2 + len(rows)
    for line in lines:  # unescaped pipes: one at each cell border, 4 for 3 columns
        assert line.replace("\\|", "").count("|") == 4


def test_bad_tables_are_named():
    with pytest.raises(ValueError, match="row 1 has 1 cells but the header has 2"):
        markdown_table(["a", "b"], [[1, 2], [3]])
    with pytest.raises(ValueError, match="align must be one of l/c/r"):
        markdown_table(["a"], [], align="x")
    with pytest.raises(ValueError, match="at least one column"):
        markdown_table([], [])
