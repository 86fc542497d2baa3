"""Root pytest hooks: parallel workers, the executed chapters, and the run's time budget.

- Under pytest-xdist (``pytest -n 2``) each worker, and every notebook kernel
  nbval starts from it (kernels inherit the environment), gets its share of
  the CPUs: ``TF_NUM_INTRAOP_THREADS``, ``TF_NUM_INTEROP_THREADS`` and
  ``OMP_NUM_THREADS`` default to ``cpus // workers`` (1 on 2 cores with 2
  workers), so two workers do not fight over the same cores. An explicit
  value in the environment wins. ``tests/test_parallel.py`` checks that a
  kernel honours them.
- ``--nb-executed DIR``: every chapter nbval runs is written, executed, to
  ``DIR/book/<chapter>.ipynb`` with its outputs, widget state and times
  (``tools/executed.py``); ``DIR/timings.md`` gets the per-chapter table. The
  quick-mode site is built from these notebooks (``tools/quick_site.py``),
  so ``make test`` executes each chapter once.
- Notebooks are scheduled first, longest first (by the times of the last
  recorded run, else by their number of code cells), so that with
  ``--dist loadfile --no-loadscope-reorder`` the longest chapter does not
  start last.
- The summary gives the total wall time, the time per notebook (nbval items
  are grouped by file) and the slowest notebook, so the quick-mode CI budget
  is visible in every run.
"""

from __future__ import annotations

import os
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent
# Nothing is written outside the checkout or the cache: Keras writes ~/.keras/keras.json
# and matplotlib ~/.config/matplotlib when they are first imported, here or in a
# chapter's kernel (which inherits this environment); both go to the user cache instead.
_CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
os.environ.setdefault("KERAS_HOME", str(_CACHE / "keras"))
os.environ.setdefault("MPLCONFIGDIR", str(_CACHE / "matplotlib"))
if os.environ.get("PYTEST_XDIST_WORKER"):
    _workers = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    _threads = str(max(1, (os.cpu_count() or 1) // _workers))
    for _var in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(_var, _threads)

sys.path.insert(0, str(ROOT / "tools"))
import executed  # noqa: E402

_START = time.monotonic()
_NOTEBOOK_SECONDS: dict[str, float] = defaultdict(float)
_NOTEBOOK_STATUS: dict[str, str] = {}
_RECORDS: dict[str, executed.NotebookRecord] = {}


def pytest_addoption(parser):
    parser.addoption(
        "--nb-executed",
        metavar="DIR",
        default=None,
        help="write every notebook nbval executes, with its outputs and times, under DIR (tools/executed.py)",
    )


def _out_dir(config) -> Path | None:
    value = config.getoption("--nb-executed", default=None)
    return (ROOT / value).resolve() if value else None


def pytest_configure(config):
    if _out_dir(config) is not None:
        if not config.pluginmanager.hasplugin("nbval"):
            raise SystemExit("--nb-executed records nbval's runs: install nbval (the [test] extra)")
        executed.install_kernel_recorder()


def _is_notebook_item(item) -> bool:
    return item.nodeid.split("::")[0].endswith(".ipynb") and hasattr(item, "cell_num")


def pytest_collection_modifyitems(session, config, items):
    """Notebooks first, longest first; stale executed copies of the collected chapters go."""
    files: dict[str, list] = {}
    for item in items:
        files.setdefault(item.nodeid.split("::")[0], []).append(item)
    notebooks = [f for f in files if f.endswith(".ipynb")]
    if not notebooks:
        return
    previous = executed.previous_seconds(_out_dir(config))
    notebooks.sort(key=lambda f: (-previous.get(f, 0.0), -len(files[f]), f))
    others = [f for f in files if not f.endswith(".ipynb")]
    items[:] = [item for f in notebooks + others for item in files[f]]
    out = _out_dir(config)
    if out is not None:
        for f in notebooks:  # a run that dies half-way must not leave last run's "passed" copy
            (out / f).unlink(missing_ok=True)


def pytest_runtest_makereport(item, call):
    """After a notebook cell ran (or failed to start), replay its kernel messages into the record."""
    out = _out_dir(item.config)
    if out is None or not _is_notebook_item(item):
        return
    if call.when == "call" or (call.when == "setup" and call.excinfo is not None):
        path = item.nodeid.split("::")[0]
        record = _RECORDS.get(path)
        if record is None:
            record = _RECORDS[path] = executed.NotebookRecord(Path(item.path), path)
        if call.excinfo is None:
            outcome = "passed"
        elif call.excinfo.errisinstance(__import__("pytest").skip.Exception):
            outcome = "skipped"
        else:
            outcome = "failed"
        record.record_cell(item.cell_num, getattr(item.parent, "kernel", None), outcome, call.duration)


def pytest_runtest_teardown(item, nextitem):
    """The last cell of a notebook: write the executed notebook."""
    out = _out_dir(item.config)
    if out is None or not _is_notebook_item(item):
        return
    if nextitem is None or nextitem.parent is not item.parent:
        record = _RECORDS.get(item.nodeid.split("::")[0])
        if record is not None:
            record.write(out, os.environ.get("PYTEST_XDIST_WORKER"))


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _NOTEBOOK_SECONDS[path] += report.duration
        if report.failed:
            _NOTEBOOK_STATUS[path] = "FAILED"
        else:
            _NOTEBOOK_STATUS.setdefault(path, "passed")


def pytest_sessionfinish(session, exitstatus):
    out = _out_dir(session.config)
    if out is None:
        return
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller writes the table
        for path, record in _RECORDS.items():  # a notebook whose last cell never came (interrupted)
            if not (out / path).exists():
                record.write(out, os.environ.get("PYTEST_XDIST_WORKER"))
        return
    if _NOTEBOOK_SECONDS:
        session.config._nb_timings_table = executed.write_timings(
            out, dict(_NOTEBOOK_SECONDS), dict(_NOTEBOOK_STATUS), time.monotonic() - _START
        )


def pytest_terminal_summary(terminalreporter):
    total = time.monotonic() - _START
    tr = terminalreporter
    tr.section("time budget")
    tr.write_line(f"total wall time of this pytest run: {total:.0f} s")
    if _NOTEBOOK_SECONDS:
        for path, seconds in sorted(_NOTEBOOK_SECONDS.items(), key=lambda kv: -kv[1]):
            tr.write_line(f"{seconds:7.1f} s  {path}  {_NOTEBOOK_STATUS.get(path, '')}")
        slowest = max(_NOTEBOOK_SECONDS, key=_NOTEBOOK_SECONDS.get)
        tr.write_line(
            f"notebooks: {sum(_NOTEBOOK_SECONDS.values()):.0f} s in all; slowest: {slowest} "
            f"({_NOTEBOOK_SECONDS[slowest]:.0f} s)"
        )
        out = _out_dir(tr.config)
        if out is not None:
            tr.write_line(f"executed notebooks and the per-chapter table: {out}/ ({executed.TIMINGS_MD})")
