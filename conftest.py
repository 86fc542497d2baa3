"""Root pytest hooks: print the run's time budget at the end (CI reads it).

The summary gives the total wall time, the time per notebook (nbval items are
grouped by file) and the slowest notebook, so the quick-mode CI budget is
visible in every run.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from pathlib import Path

# Nothing is written outside the checkout or the cache: Keras writes ~/.keras/keras.json
# and matplotlib ~/.config/matplotlib when they are first imported, here or in a
# chapter's kernel (which inherits this environment); both go to the user cache instead.
_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
os.environ.setdefault("KERAS_HOME", str(_CACHE / "keras"))
os.environ.setdefault("MPLCONFIGDIR", str(_CACHE / "matplotlib"))

_START = time.monotonic()
_NOTEBOOK_SECONDS: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report):
    if report.nodeid.split("::")[0].endswith(".ipynb"):
        _NOTEBOOK_SECONDS[report.nodeid.split("::")[0]] += report.duration


def pytest_terminal_summary(terminalreporter):
    total = time.monotonic() - _START
    tr = terminalreporter
    tr.section("time budget")
    tr.write_line(f"total wall time of this pytest run: {total:.0f} s")
    if _NOTEBOOK_SECONDS:
        for path, seconds in sorted(_NOTEBOOK_SECONDS.items(), key=lambda kv: -kv[1]):
            tr.write_line(f"{seconds:7.1f} s  {path}")
        slowest = max(_NOTEBOOK_SECONDS, key=_NOTEBOOK_SECONDS.get)
        tr.write_line(
            f"notebooks: {sum(_NOTEBOOK_SECONDS.values()):.0f} s in all; slowest: {slowest} "
            f"({_NOTEBOOK_SECONDS[slowest]:.0f} s)"
        )
