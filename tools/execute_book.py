"""Execute the book's chapters for ``make book``, several at a time, into jupyter-book's cache.

Jupyter Book 1 executes notebooks one after another. On a machine with 2
cores one chapter's small networks keep both busy only part of the time, so
``make book`` first runs this script: it executes every chapter that the
cache does not already hold, ``--jobs`` at a time (each kernel limited to
``cpus // jobs`` threads: ``TF_NUM_INTRAOP_THREADS`` and friends, as the test
workers are), longest first, and stores each executed notebook in
``_build/.jupyter_cache`` exactly as MyST-NB's cache mode does (same
settings from ``_config.yml``: timeout, a temporary working folder, errors
not allowed). ``jupyter-book build`` then finds every chapter in the cache,
merges the outputs, and executes nothing.

A chapter that fails here is not cached: the script prints its traceback,
goes on with the others, and the build executes that chapter again and fails
strictly, as it would have without this script. The printed table gives each
chapter's time (measured while the others ran beside it, so a chapter run
alone is faster) and the wall time of the whole run.

    python tools/execute_book.py [--jobs 2] [--build _build] [CHAPTER ...]

Longest first: by the times of the last full build (``_build/execution_times.md``),
else by the full-mode times in the intro's reading guide.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import nbformat
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import book_toc  # noqa: E402
import executed  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
THREAD_VARS = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")


def settings() -> dict:
    """The execution settings of ``_config.yml`` that MyST-NB's cache mode would use."""
    execute = (yaml.safe_load((ROOT / "_config.yml").read_text()) or {}).get("execute") or {}
    mode = execute.get("execute_notebooks")
    if mode != "cache":
        raise SystemExit(f"_config.yml: execute_notebooks is {mode!r}; this script fills the cache of 'cache' mode")
    return {
        "timeout": execute.get("timeout", 30),
        "allow_errors": bool(execute.get("allow_errors", False)),
        "in_temp": bool(execute.get("run_in_temp", False)),
    }


def expected_seconds(build: Path) -> dict[str, float]:
    """``{"book/<chapter>.ipynb": seconds}``: the last full build's times, else the intro's estimates."""
    table = build / "execution_times.md"
    if table.exists():
        found = executed.full_seconds(table)
        if found:
            return found
    return executed.intro_full_seconds(ROOT / "book" / "intro.md")


def _execute(path: str, threads: int, config: dict) -> tuple[str, object, float, str | None]:
    """Run in a worker process: execute one chapter; (path, notebook, seconds, traceback or None)."""
    from jupyter_cache.executors.utils import single_nb_execution

    for var in THREAD_VARS:
        os.environ[var] = str(threads)  # the kernel, a child of this process, inherits them
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() if config["in_temp"] else contextlib.nullcontext(Path(path).parent) as cwd:
        result = single_nb_execution(
            nb, cwd=str(cwd), timeout=config["timeout"], allow_errors=config["allow_errors"], meta_override=True
        )
    error = None if result.err is None else (result.exc_string or repr(result.err))
    return path, nb, result.time, error


def _name(path: Path) -> str:
    """``book/<chapter>.ipynb`` for the book's chapters, the full path for any other notebook."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="chapters executed at once (default 2)")
    parser.add_argument("--build", type=Path, default=ROOT / "_build", help="jupyter-book's build folder")
    parser.add_argument("chapters", nargs="*", help="chapters to execute (book/<name>.ipynb); default: the toc's")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")

    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    config = settings()
    cache = get_cache(str((args.build / ".jupyter_cache").resolve()))
    chapters = [Path(c).resolve() for c in args.chapters] or [ROOT / f"{c}.ipynb" for c in book_toc.chapters()]
    missing = [str(c) for c in chapters if not c.exists()]
    if missing:
        raise SystemExit(f"no such chapter: {', '.join(missing)} (give book/<name>.ipynb paths)")

    todo = []
    for path in chapters:
        try:
            cache.match_cache_notebook(nbformat.read(path, as_version=4))
            print(f"execute_book: {_name(path)} is in the cache (its code has not changed)")
        except KeyError:
            todo.append(path)
    expected = expected_seconds(args.build)
    todo.sort(key=lambda p: -expected.get(_name(p), 0.0))
    threads = max(1, (os.cpu_count() or 1) // args.jobs)
    print(f"execute_book: {len(todo)} chapters to execute, {args.jobs} at a time, {threads} thread(s) each", flush=True)

    start, times, failed = time.time(), {}, {}
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(_execute, str(p), threads, config) for p in todo]
        for future in as_completed(futures):
            try:
                path, nb, seconds, error = future.result()
            except Exception:  # the worker itself died: report it like a failed chapter
                failed[f"(worker) {len(failed)}"] = traceback.format_exc()
                continue
            name = _name(Path(path))
            times[name] = seconds
            if error is not None:
                failed[name] = error
                print(f"execute_book: {name} FAILED after {seconds:.0f} s (the build runs it again)\n{error}", flush=True)
                continue
            record = cache.add_nb_to_project(path)
            cache.cache_notebook_bundle(
                CacheBundleIn(nb, record.uri, data={"execution_seconds": seconds}), check_validity=False, overwrite=True
            )
            print(f"execute_book: {name} executed in {seconds:.0f} s", flush=True)
    wall = time.time() - start
    rows = "\n".join(f"| {n} | {s:.0f} | {'FAILED' if n in failed else 'ok'} |" for n, s in sorted(times.items()))
    print(
        f"\nexecute_book: {len(times)} chapters, {args.jobs} at a time\n\n| chapter | seconds | status |\n|---|---:|---|\n"
        f"{rows}\n| **all chapters** | **{sum(times.values()):.0f}** | |\n\nwall time {wall:.0f} s",
        flush=True,
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
