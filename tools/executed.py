"""Record what nbval executes: each chapter as an executed notebook, with its times.

``make test`` executes every chapter ONCE, under nbval (the book's promise: every
cell runs, in quick mode, and a failing cell fails the run). The quick-mode
site is then built from those executed notebooks with execution off
(``tools/quick_site.py``), so no chapter runs a second time.

How the outputs are recorded: nbval reads every message the kernel publishes
on IOPub, keeps the outputs it needs for its own comparison and drops the rest
(widget comm messages among them). This module wraps nbval's kernel so that
every IOPub message is also kept, and after each cell replays the cell's
messages through ``nbclient.NotebookClient.process_message``, the code
jupyter-book itself executes with. The executed notebook therefore holds
exactly what a jupyter-book execution would have stored: outputs, output
widgets filled with their captured outputs (``interactive_output``), and the
widget state in the notebook metadata.

Each executed notebook carries ``metadata["medimgkit_run"]``: ``status``
(``passed`` only when every code cell ran and passed), the failed cells, the
seconds per cell and in all, the mode (quick/full), the Python and the
worker. ``tools/quick_site.py`` refuses a chapter whose status is not
``passed`` or whose cells differ from the chapter's current source.

Used by the root ``conftest.py`` (``pytest --nb-executed DIR``). After a run,

    python tools/executed.py intro-times --full    # the time columns of book/intro.md's reading guide

rewrites the two time cells of every chapter row of the intro's table: the
full-mode time from ``make book``'s ``_build/execution_times.md`` and the
quick-mode time from ``_build/quick/executed/timings.json`` (the kernel CPU
seconds under nbval). Without ``--full`` only the quick-mode column changes.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

import nbformat

RUN_KEY = "medimgkit_run"
TIMINGS_JSON = "timings.json"
TIMINGS_MD = "timings.md"


class _NoKernel:
    """Stands in for the kernel client nbclient's output-widget mimic syncs its state to.

    nbval owns the kernel; the replay must not send it anything.
    """

    class session:  # noqa: N801 - mimics KernelClient.session
        @staticmethod
        def msg(msg_type, content=None, parent=None, metadata=None):
            return {"msg_type": msg_type, "content": content}

    class shell_channel:  # noqa: N801 - mimics KernelClient.shell_channel
        @staticmethod
        def send(msg):
            return None


def install_kernel_recorder() -> None:
    """Make nbval's kernel keep every IOPub message and the id of each execute request."""
    from nbval import kernel as nbval_kernel

    cls = nbval_kernel.RunningKernel
    if getattr(cls, "_medimgkit_recording", False):
        return
    get_message, execute = cls.get_message, cls.execute_cell_input

    def recording_get_message(self, stream, timeout=None):
        msg = get_message(self, stream, timeout=timeout)
        if stream == "iopub":
            self.__dict__.setdefault("recorded_iopub", []).append(msg)
        return msg

    def recording_execute(self, cell_input, allow_stdin=None):
        self.__dict__["recorded_iopub"] = []  # what came before belongs to no cell
        msg_id = execute(self, cell_input, allow_stdin=allow_stdin)
        self.last_msg_id = msg_id
        return msg_id

    cls.get_message, cls.execute_cell_input = recording_get_message, recording_execute
    cls._medimgkit_recording = True


def kernel_cpu_seconds(kernel) -> float | None:
    """CPU seconds (user + system, its children included) the kernel process has used so far.

    Unlike wall time, this does not grow when other processes compete for the
    cores, so it is the chapter's cost on a CPU. None when it cannot be read.
    """
    try:
        import psutil

        pid = kernel.km.provisioner.process.pid
        t = psutil.Process(pid).cpu_times()
        return t.user + t.system + t.children_user + t.children_system
    except Exception:  # no psutil, a remote kernel, a kernel already gone
        return None


def _mode() -> str:
    return "quick" if os.environ.get("MEDIMGKIT_QUICK", "") not in ("", "0") else "full"


class NotebookRecord:
    """One chapter being executed by nbval: its cells' outputs, replayed as nbclient would."""

    def __init__(self, path: Path, rel: str):
        from nbclient import NotebookClient

        self.path, self.rel = path, rel
        self.nb = nbformat.read(path, as_version=4)
        self.code = [c for c in self.nb.cells if c.cell_type == "code"]
        self.client = NotebookClient(self.nb, record_timing=False, store_widget_state=True)
        self.client.kc = _NoKernel()
        self.client.clear_before_next_output = False
        self.results: dict[int, dict[str, Any]] = {}
        self.count = 0
        self.cpu: float | None = None

    def record_cell(self, cell_num: int, kernel, outcome: str, seconds: float) -> None:
        """Replay the IOPub messages of code cell ``cell_num`` into the notebook."""
        from nbclient.exceptions import CellExecutionComplete

        cell = self.code[cell_num]
        index = self.nb.cells.index(cell)
        cell.outputs = []
        msg_id = getattr(kernel, "last_msg_id", None) if kernel is not None else None
        messages = kernel.__dict__.pop("recorded_iopub", []) if kernel is not None else []
        ran = outcome != "skipped" and msg_id is not None
        if ran:
            self.count += 1
            self.client.clear_before_next_output = False
            for msg in messages:
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                try:
                    self.client.process_message(msg, cell, index)
                except CellExecutionComplete:
                    break
            cell.execution_count = self.count  # nbval executes without history: count here
        self.results[cell_num] = {"outcome": outcome if ran else "skipped", "seconds": round(seconds, 3)}
        cpu = kernel_cpu_seconds(kernel) if kernel is not None else None
        if cpu is not None:
            self.cpu = cpu

    def write(self, out_dir: Path, worker: str | None) -> Path:
        """Write the executed notebook to ``out_dir/<rel>``; returns its path."""
        self.client.set_widgets_metadata()
        failed = [n for n, r in self.results.items() if r["outcome"] == "failed"]
        missing = [n for n in range(len(self.code)) if n not in self.results]
        seconds = sum(r["seconds"] for r in self.results.values())
        status = "passed" if not failed and not missing else "failed"
        self.nb.metadata[RUN_KEY] = {
            "status": status,
            "failed_cells": failed,
            "cells_not_run": missing,
            "cells": {str(n): r for n, r in sorted(self.results.items())},
            "seconds": round(seconds, 1),
            "cpu_seconds": None if self.cpu is None else round(self.cpu, 1),
            "mode": _mode(),
            "python": sys.executable,
            "worker": worker or "main",
            "finished": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }
        target = out_dir / self.rel
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".ipynb.tmp")
        nbformat.write(self.nb, tmp)
        tmp.replace(target)  # never a half-written notebook
        return target


def run_info(path: Path) -> dict[str, Any] | None:
    """The ``medimgkit_run`` record of an executed notebook, or None when it has none."""
    nb = nbformat.read(path, as_version=4)
    return nb.metadata.get(RUN_KEY)


def write_timings(out_dir: Path, seconds: dict[str, float], status: dict[str, str], wall: float) -> str:
    """Write the per-chapter table (``timings.md``, ``timings.json``) into ``out_dir``; returns the table.

    ``seconds`` are the wall times pytest measured; the kernel CPU seconds are
    read from the executed notebooks (``cpu_seconds``).
    """
    cpu: dict[str, float | None] = {}
    for name in seconds:
        path = out_dir / name
        info = run_info(path) if path.exists() else None
        cpu[name] = (info or {}).get("cpu_seconds")
    rows = sorted(seconds.items(), key=lambda kv: kv[0])
    total = sum(seconds.values())
    total_cpu = sum(v for v in cpu.values() if v is not None)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        f"Chapter execution times under nbval ({_mode()} mode, {os.cpu_count()} CPUs, "
        f"load average {load:.1f} at the end, {time.strftime('%Y-%m-%d %H:%M')})",
        "",
        "| chapter | wall s | kernel CPU s | status |",
        "|---|---:|---:|---|",
        *[
            f"| {name} | {sec:.1f} | {'' if cpu[name] is None else f'{cpu[name]:.1f}'} | {status.get(name, '?')} |"
            for name, sec in rows
        ],
        f"| **all chapters** | **{total:.1f}** | **{total_cpu:.1f}** | |",
        "",
        f"pytest wall time: {wall:.0f} s",
    ]
    table = "\n".join(lines) + "\n"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / TIMINGS_MD).write_text(table)
    (out_dir / TIMINGS_JSON).write_text(
        json.dumps({"mode": _mode(), "cpus": os.cpu_count(), "seconds": seconds, "cpu_seconds": cpu,
                    "status": status, "total": round(total, 1), "wall": round(wall, 1)}, indent=1)  # fmt: skip
    )
    return table


def previous_seconds(out_dir: Path | None) -> dict[str, float]:
    """Chapter times of the last recorded run (to start the longest chapters first), or {}."""
    if out_dir is None or not (out_dir / TIMINGS_JSON).exists():
        return {}
    try:
        return dict(json.loads((out_dir / TIMINGS_JSON).read_text())["seconds"])
    except (ValueError, KeyError, TypeError):
        return {}


def format_cpu(seconds: float) -> str:
    """How the intro shows a chapter's CPU time: '<10 s', '20 s', '80 s', '4 min'."""
    if seconds < 10:
        return "under 10 s"
    if seconds < 90:
        return f"{round(seconds, -1):.0f} s"
    return f"{seconds / 60:.0f} min"


_DOC = re.compile(r"\{doc\}`[^`]*<(?P<doc>[^>`]+)>`")


def full_seconds(table: Path) -> dict[str, float]:
    """``{"book/<chapter>.ipynb": seconds}`` from a full build's ``execution_times.md`` (tools/book_site.py)."""
    found = {}
    for line in table.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("book/") and "executed by the build" in cells[2] and cells[1]:
            found[f"{cells[0]}.ipynb"] = float(cells[1])
    return found


def parse_cpu(text: str) -> float | None:
    """Seconds from a time as ``format_cpu`` writes it ('under 10 s', '80 s', '4 min'); None otherwise."""
    m = re.fullmatch(r"\s*(under )?(\d+(?:\.\d+)?) (s|min)\s*", text)
    if m is None:
        return None
    return float(m[2]) * (60 if m[3] == "min" else 1)


def intro_full_seconds(intro: Path) -> dict[str, float]:
    """``{"book/<chapter>.ipynb": seconds}`` from the full-mode column of ``intro``'s reading guide."""
    found = {}
    for line in intro.read_text().splitlines():
        m = _DOC.search(line)
        cells = line.split("|")
        if m and line.startswith("|") and len(cells) >= 5:
            seconds = parse_cpu(cells[-3])
            if seconds is not None:
                found[f"book/{Path(m['doc']).name}.ipynb"] = seconds
    return found


def intro_times(intro: Path, timings: Path | None = None, full: Path | None = None) -> list[str]:
    """Fill the two time columns of each chapter row of ``intro``'s reading guide; returns the chapters updated.

    The guide's last two columns are the full-mode time (the wall time of
    ``make book``, from its ``execution_times.md``: ``full``) and the quick-mode
    time (the kernel CPU time under nbval, from ``timings.json``: ``timings``).
    A column whose source is not given, or has no time for a chapter, keeps its cell.
    """
    quick = json.loads(timings.read_text()).get("cpu_seconds") or {} if timings is not None else {}
    if timings is not None and not quick:
        raise SystemExit(f"{timings} has no kernel CPU times: run `make test` or `make nbval` first")
    build = full_seconds(full) if full is not None else {}
    if full is not None and not build:
        raise SystemExit(f"{full} lists no chapter executed by the build: run `make book` first")
    lines, updated = intro.read_text().splitlines(keepends=True), []
    for i, line in enumerate(lines):
        m = _DOC.search(line)
        cells = line.rstrip("\n").split("|")
        if not m or not line.startswith("|") or len(cells) < 5:
            continue
        key = f"book/{Path(m['doc']).name}.ipynb"
        if key not in quick and key not in build:
            continue
        if key in build:
            cells[-3] = f" {format_cpu(build[key])} "
        if key in quick:
            cells[-2] = f" {format_cpu(quick[key])} "
        lines[i] = "|".join(cells) + "\n"
        updated.append(m["doc"])
    intro.write_text("".join(lines))
    return updated


if __name__ == "__main__":
    ROOT = Path(__file__).resolve().parents[1]
    if sys.argv[1:2] == ["intro-times"]:
        args = sys.argv[2:]
        full = None
        if "--full" in args:
            k = args.index("--full")
            full = Path(args[k + 1]) if k + 1 < len(args) else ROOT / "_build" / "execution_times.md"
            del args[k : k + 2]
        source = Path(args[0]) if args else ROOT / "_build" / "quick" / "executed" / TIMINGS_JSON
        done = intro_times(ROOT / "book" / "intro.md", source if source.exists() or args else None, full)
        print(f"book/intro.md: times of {len(done)} chapters from {source if source.exists() else '-'} and {full or '-'}")
    else:
        sys.exit("usage: python tools/executed.py intro-times [timings.json] [--full _build/execution_times.md]")
