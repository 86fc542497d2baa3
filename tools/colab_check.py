"""``make colab-check``: the book's package, tests and chapters on Google Colab's software stack.

Colab runs Python 3.13 with its own preinstalled versions of TensorFlow, Keras,
NumPy, ipywidgets and the rest (``.ci/colab-constraints.txt``). Every chapter's
first cell installs the book's package there with ``%pip install``; this check
does the same thing here, and fails when that would break Colab:

1. Find Python 3.13 (``--python``, default ``python3.13``; else pyenv's 3.13).
   Without it: a message saying what is missing and how to get it, exit 2.
2. Build a fresh virtual environment ``_build/colab/venv`` and install the
   pinned stack: ``pip install -c .ci/colab-constraints.txt <every pinned name>``
   from a wheelhouse (``--wheelhouse``, default
   ``~/.cache/medimgkit-book/colab-wheels``: the user cache, like pip's own,
   so a fresh clone reuses it), where ``pip download`` keeps the wheels. When
   every wheel is already there the install reads them from disk and asks no
   index; otherwise they are downloaded first.
   Check every pin holds and every package marked ``# absent:`` is absent.
3. Install the package exactly as a chapter's first cell does: the cell's own
   ``pip install "<dist>[medical,widgets] @ git+<url>@<ref>"``, read from the
   chapter, with ``<url>@<ref>`` replaced by this checkout (``git+file://``) at
   its HEAD commit. No constraints: on Colab there are none.
4. Fail, naming the package, the pinned version and the version found, if that
   install changed any pinned package (other packages it changed are listed).
5. Install the test tools (pytest, nbval, ...) under the same constraints and
   check the pins again.
6. Export the tests and chapters of HEAD (``git archive``) without the
   ``medimgkit/`` sources, so that everything imports the installed package,
   and run the unit tests, then (``--chapters 1``) every chapter in quick mode
   under nbval, in that environment. ``tests/test_site_build.py`` and ``tests/test_site_browser.py`` (the site)
   and ``tests/test_wheel.py`` (the wheel in the main environment) are not
   Colab's business and are left out.

Only committed code is checked, as Colab only sees what is pushed: commit first.
Everything is written under ``_build/colab`` (and pip's cache); the data are
found as the package finds them (``MEDIMGKIT_DATA``, else ``~/.cache/medimgkit``).
Timings and versions are printed and written to ``_build/colab/report.json``.

Standard library only: it runs under any Python 3.9+.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / ".ci" / "colab-constraints.txt"
WORK = ROOT / "_build" / "colab"  # --work
# --wheelhouse: Colab's pinned wheels, kept between runs and between clones (the user cache).
WHEELHOUSE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "medimgkit-book" / "colab-wheels"
# Installed after the package, under the constraints: what the tests and nbval need.
TEST_TOOLS = ["pytest", "pytest-xdist", "nbval", "hypothesis", "pyyaml", "nbformat", "nbclient", "tensorboard"]
# Not Colab's business: the site (jupyter-book, Chromium), the wheel and the test pipeline's own
# worker/kernel thread limits (tests/test_parallel.py), all of the main venv.
NOT_ON_COLAB = ["tests/test_site_build.py", "tests/test_site_browser.py", "tests/test_wheel.py", "tests/test_parallel.py"]
CHAPTER = ROOT / "book" / "01_everything_is_a_mapping.ipynb"

HOW_TO_GET_PYTHON = (
    "Install Python 3.13 with its venv module, e.g. `apt-get install python3.13 python3.13-venv` "
    "(Debian 13, Ubuntu 24.04 with the deadsnakes PPA), `pyenv install 3.13` or `uv python install 3.13`, "
    "then rerun `make colab-check`, or point it at one: `make colab-check COLAB_PYTHON=/path/to/python3.13`."
)


class CheckFailed(Exception):
    """A failed step; the message says what, and how to fix it."""


def say(msg: str) -> None:
    print(f"colab-check: {msg}", flush=True)


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_constraints(path: Path = CONSTRAINTS) -> tuple[dict[str, str], list[str]]:
    """``({name: pinned version}, [names that must be absent])`` from the constraints file."""
    pins: dict[str, str] = {}
    absent: list[str] = []
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        marker = re.match(r"#\s*absent:\s*(.+)", line)
        if marker:
            absent += [normalise(n) for n in re.split(r"[,\s]+", marker.group(1)) if n]
            continue
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([A-Za-z0-9.+!-]+)", line)
        if not match:
            raise CheckFailed(f"{path}:{number}: {raw!r} is not 'name==version'; the file pins exact versions only")
        pins[normalise(match.group(1))] = match.group(2)
    if not pins:
        raise CheckFailed(f"{path} pins no package")
    return pins, absent


def python_version(python: str) -> tuple[tuple[int, int] | None, str]:
    """``((major, minor), "")`` of an interpreter, or ``(None, why it does not run)``."""
    try:
        proc = subprocess.run(
            [python, "-c", "import sys; print(sys.version_info[0], sys.version_info[1])"],
            capture_output=True, text=True, timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        return None, str(err)
    if proc.returncode != 0:
        return None, (proc.stderr.strip().splitlines() or ["exit status %d" % proc.returncode])[0]
    major, minor = proc.stdout.split()
    return (int(major), int(minor)), ""


def find_python(requested: str) -> str:
    """The Python 3.13 to use: ``requested``, else (for the default name) pyenv's 3.13."""
    version, why = python_version(requested)
    if version == (3, 13):
        return requested
    problem = f"{requested!r} does not run ({why})" if version is None else f"{requested!r} is Python {version[0]}.{version[1]}"
    if requested == "python3.13":
        pyenv_root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
        for candidate in sorted(glob.glob(os.path.join(pyenv_root, "versions", "3.13*", "bin", "python3.13")), reverse=True):
            if python_version(candidate)[0] == (3, 13):
                say(f"{problem}; using pyenv's {candidate}")
                return candidate
    raise CheckFailed(f"Python 3.13 is missing: {problem}, and Colab runs Python 3.13. {HOW_TO_GET_PYTHON}", 2)


def run(cmd: list, log: Path | None = None, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``cmd``; on failure raise with the command and the tail of its output."""
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env, cwd=cwd)
    if log is not None:
        log.write_text(f"$ {' '.join(map(str, cmd))}\n{proc.stdout}\n{proc.stderr}")
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-40:])
        raise CheckFailed(f"`{' '.join(map(str, cmd))}` failed (exit {proc.returncode}):\n{tail}")
    return proc


def clean_env(work: Path) -> dict:
    """The environment for the venv's commands: nothing that points Python at another tree."""
    # PYTHONDONTWRITEBYTECODE (set on CI) goes too: the stack is installed without byte-compiling it, so
    # the first import of each module writes its .pyc into the venv and later processes reuse it.
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PIP_CONSTRAINT", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["TMPDIR"] = str(work / "tmp")  # pip's git clone and build folders stay in the work folder
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return env


def installed(python: Path, env: dict) -> dict[str, str]:
    """``{normalised name: version}`` of every distribution in the venv."""
    code = (
        "import json, importlib.metadata as md\n"
        "print(json.dumps({d.metadata['Name']: d.version for d in md.distributions() if d.metadata['Name']}))"
    )
    found = json.loads(run([python, "-c", code], env=env).stdout)
    return {normalise(k): v for k, v in found.items()}


def pin_changes(pins: dict[str, str], found: dict[str, str]) -> list[str]:
    """One line per pinned package whose installed version is not its pin."""
    return [
        f"{name}: pinned {version} (Colab's), found {found.get(name, 'not installed')}"
        for name, version in pins.items()
        if found.get(name) != version
    ]


def colab_spec_of_this_checkout(head: str) -> tuple[str, str]:
    """``(the chapter's pip spec, the same spec for this checkout at HEAD)``.

    Read from a chapter's first code cell, the line ``%pip install -q "<spec>"``;
    every chapter carries the same cell (tests/test_notebooks.py).
    """
    nb = json.loads(CHAPTER.read_text())
    code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    source = "".join(code["source"])
    match = re.search(r'%pip install -q "([^"]+) @ git\+([^"@]+)@([^"@]+)"', source)
    if not match:
        raise CheckFailed(f"{CHAPTER.name}: its first code cell has no `%pip install -q \"<dist>[extras] @ git+<url>@<ref>\"`:\n{source}")
    requirement, url, ref = match.groups()
    return f"{requirement} @ git+{url}@{ref}", f"{requirement} @ git+{ROOT.as_uri()}@{head}"


def export_head(head: str, src: Path) -> None:
    """The files of commit ``head``, without the package sources, in ``src``."""
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    archive = src.parent / "head.tar"
    run(["git", "-C", ROOT, "archive", "--format=tar", "-o", archive, head])
    run(["tar", "-xf", archive, "-C", src])
    archive.unlink()
    shutil.rmtree(src / "medimgkit")


def install_the_colab_way(vpy: Path, spec: str, pins: dict[str, str], env: dict, log: Path) -> dict:
    """``pip install -q spec`` with no constraints, as on Colab; fail if a pinned package changed.

    Returns ``{"added": [...], "changed_unpinned": [...]}``.
    """
    before = installed(vpy, env)
    run([vpy, "-m", "pip", "install", "--no-input", "-q", spec], log=log, env=env)
    after = installed(vpy, env)
    changed = pin_changes(pins, after)
    if changed:
        raise CheckFailed(
            "installing the package the Colab way changes Colab's preinstalled packages, which breaks the "
            "running Colab session (pip replaces them under it):\n  " + "\n  ".join(changed)
            + "\nLoosen the matching requirement in pyproject.toml (the dependencies or the [medical]/[widgets] "
              "extras) so that Colab's version satisfies it."
        )
    return {
        "added": sorted(f"{n} {after[n]}" for n in after if n not in before),
        "changed_unpinned": sorted(f"{n} {v} -> {after.get(n, 'removed')}" for n, v in before.items() if after.get(n) != v),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--python", default="python3.13", help="the Python 3.13 interpreter (default: python3.13)")
    parser.add_argument("--chapters", default="1", choices=["0", "1"], help="also run every chapter under nbval (default 1)")
    parser.add_argument("--workers", default="2", help="pytest-xdist workers for tests and chapters (default 2; 1: none)")
    parser.add_argument("--work", default=str(WORK), help=f"folder for the venv, logs and report (default {WORK})")
    parser.add_argument("--wheelhouse", default=str(WHEELHOUSE), help=f"where the pinned wheels are kept (default {WHEELHOUSE})")
    args = parser.parse_args(argv)
    work = Path(args.work).resolve()
    venv, src = work / "venv", work / "src"
    start = time.monotonic()
    times: dict[str, float] = {}
    report: dict = {"passed": False}

    def phase(name: str, t0: float) -> None:
        times[name] = round(time.monotonic() - t0, 1)
        say(f"{name}: {times[name]:.0f} s")

    try:
        pins, absent = read_constraints()
        python = find_python(args.python)
        head = run(["git", "-C", ROOT, "rev-parse", "HEAD"]).stdout.strip()
        if run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"]).stdout.strip():
            say(f"WARNING: uncommitted changes are NOT checked; this checks commit {head[:12]}, as Colab would install it")
        report.update(python=python, commit=head, pins=pins)

        # 1. A fresh venv with Colab's stack.
        t0 = time.monotonic()
        shutil.rmtree(venv, ignore_errors=True)
        shutil.rmtree(work / "tmp", ignore_errors=True)
        (work / "tmp").mkdir(parents=True)
        env = clean_env(work)
        try:
            run([python, "-m", "venv", venv], env=env)
        except CheckFailed as err:
            raise CheckFailed(f"{python} cannot create a virtual environment (is its venv/ensurepip module missing?): "
                              f"{err.args[0]}\n{HOW_TO_GET_PYTHON}", 2) from None
        vpy = venv / "bin" / "python"
        pip = [vpy, "-m", "pip", "install", "--no-input", "-q"]
        # The stack's wheels are downloaded once into the wheelhouse and kept between runs and
        # clones: when they are all there, the install asks no index. uv (the test extra) installs
        # them in seconds from its cache, pip when uv is missing. Neither byte-compiles the whole
        # stack (that took about 40 s for TensorFlow's every file): clean_env lets the venv's
        # processes write the .pyc of what they import, once, into the venv.
        wheels = Path(args.wheelhouse).expanduser().resolve()
        wheels.mkdir(parents=True, exist_ok=True)
        uv = shutil.which("uv", path=os.pathsep.join([str(ROOT / ".venv" / "bin"), str(Path(sys.executable).parent)]))
        uv = uv or shutil.which("uv")
        installer = [uv, "pip", "install", "-q", "--python", vpy] if uv else [*pip, "--no-compile"]
        from_disk = [*installer, "--no-index", "--find-links", wheels, "-c", CONSTRAINTS, *pins]
        say(f"installing the stack with {'uv (' + uv + ')' if uv else 'pip (uv is not installed: slower)'}")
        try:
            run(from_disk, log=work / "pip-stack.log", env=env)
            say(f"the pinned wheels were all in {wheels}")
        except CheckFailed:
            say(f"downloading the pinned wheels into {wheels}")
            run([vpy, "-m", "pip", "download", "--no-input", "-q", "-d", wheels, "-c", CONSTRAINTS, *pins],
                log=work / "pip-download.log", env=env)
            run(from_disk, log=work / "pip-stack.log", env=env)
        stack = installed(vpy, env)
        wrong = pin_changes(pins, stack)
        if wrong:
            raise CheckFailed("the pinned stack did not install as pinned:\n  " + "\n  ".join(wrong))
        present = [n for n in absent if n in stack]
        if present:
            raise CheckFailed(f"{present} must be absent, as on Colab, but the pinned stack installed them")
        phase("Colab stack installed", t0)

        # 2. The package, as a chapter's first cell installs it.
        t0 = time.monotonic()
        chapter_spec, spec = colab_spec_of_this_checkout(head)
        say(f"a chapter's first cell installs: {chapter_spec}")
        say(f"installing it from this checkout: pip install -q \"{spec}\"")
        result = install_the_colab_way(vpy, spec, pins, env, work / "pip-package.log")
        say(f"the install added {len(result['added'])} distributions: {', '.join(result['added'])}")
        if result["changed_unpinned"]:
            say("it also changed (not pinned; Colab's version unknown here): " + ", ".join(result["changed_unpinned"]))
        report.update(result)
        phase("package installed the Colab way, no pinned package changed", t0)

        # 3. Test tools, under the constraints.
        t0 = time.monotonic()
        run([*pip, "-c", CONSTRAINTS, *TEST_TOOLS], log=work / "pip-tools.log", env=env)
        after = installed(vpy, env)
        changed = pin_changes(pins, after)
        if changed:
            raise CheckFailed("installing the test tools changed pinned packages:\n  " + "\n  ".join(changed))
        phase("test tools installed under the constraints", t0)

        # 4. HEAD's tests and chapters against the installed package.
        export_head(head, src)
        probe = "import medimgkit; print(medimgkit.__file__); print(medimgkit.__version__)"
        where, version = run([vpy, "-c", probe], env=env, cwd=src).stdout.split()
        if not Path(where).is_relative_to(venv):
            raise CheckFailed(f"medimgkit was imported from {where}, not from the Colab venv {venv}")
        versions = {n: after.get(n) for n in [*pins, "medimgkit-book", "pydicom", "jupyter-client", "protobuf"]}
        say(f"medimgkit {version} imported from {where}")
        say("versions: " + ", ".join(f"{n} {v}" for n, v in versions.items()))
        report.update(versions=versions, python_version=run([vpy, "-V"]).stdout.strip())

        # PYDEVD_...: ipykernel 6.17's debugger would print four lines per kernel about Python 3.13's frozen modules.
        tenv = dict(env, MEDIMGKIT_QUICK="1", PYDEVD_DISABLE_FILE_VALIDATION="1")
        xdist = ["-n", args.workers] if args.workers not in ("0", "1") else []
        pytest = [str(vpy), "-m", "pytest", "-p", "no:cacheprovider", "--durations=15"]
        # Unit tests and chapters in one pytest run, so that they share the workers (as make test's stage 1 does).
        args_ = ["tests", *[f"--ignore={p}" for p in NOT_ON_COLAB]]
        if args.chapters == "1":
            args_ += ["book", "--nbval-lax", "--nbval-current-env", "--nbval-cell-timeout=900"]
        if xdist:
            args_ += [*xdist, "--dist", "loadfile", "--no-loadscope-reorder"]
        what = "unit tests and every chapter in quick mode" if args.chapters == "1" else "unit tests"
        t0 = time.monotonic()
        say(f"{what}: pytest " + " ".join(args_))
        tests = subprocess.run([*pytest, *args_], env=tenv, cwd=src)
        phase(what, t0)
        report.update(tests_exit=tests.returncode, chapters_run=args.chapters == "1")
        failed = [what] if tests.returncode else []
        if failed:
            raise CheckFailed(f"on Colab's stack these failed: {', '.join(failed)} (pytest's report is above)")
        report["passed"] = True
        return 0
    except CheckFailed as err:
        say(f"FAILED: {err.args[0]}")
        report["error"] = err.args[0]
        return err.args[1] if len(err.args) > 1 else 1
    finally:
        times["total"] = round(time.monotonic() - start, 1)
        report["seconds"] = times
        work.mkdir(parents=True, exist_ok=True)
        (work / "report.json").write_text(json.dumps(report, indent=2))
        say(f"total {times['total']:.0f} s ({', '.join(f'{k} {v:.0f} s' for k, v in times.items() if k != 'total')})")


if __name__ == "__main__":
    sys.exit(main())
