"""medimgkit as coursework installs it: a wheel, in a fresh virtual environment.

The wheel is built from a clean copy of the sources (pyproject.toml, README.md,
medimgkit/), so nothing in the checkout leaks into it. The fresh venv gets the
wheel with ``--no-deps``; its heavy dependencies (TensorFlow, ~600 MB) come
from the project's .venv through one ``.pth`` line that APPENDS the project's
site-packages to sys.path. Python runs the ``.pth`` files of a site directory
only, not of a folder such a line adds, so the project's editable install of
medimgkit (itself a ``.pth`` hook) stays invisible: checked below, before the
wheel goes in. Then a chapter runs, in quick mode, in a kernel of that venv,
from a temporary folder, and reports which medimgkit it imported.
"""

from __future__ import annotations

import email
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import nbformat
import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "book" / "06_case_study_breast_ultrasound.ipynb"
PROJECT_SITE = Path(sysconfig.get_paths()["purelib"])
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _run(cmd, **kwargs) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update(kwargs.pop("env", {}))
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env, **kwargs)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    src = tmp_path_factory.mktemp("src")
    shutil.copytree(ROOT / "medimgkit", src / "medimgkit", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", out, src])
    (whl,) = out.glob(f"{PYPROJECT['name'].replace('-', '_')}-*.whl")  # medimgkit_book-<version>-...
    return whl


def test_wheel_contains_every_module_and_data_file(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    sources = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "medimgkit").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    assert "medimgkit/data/_medmnist_info.py" in sources
    missing = sorted(sources - names)
    assert not missing, f"not in the wheel: {missing}"
    packages = {p.parent.relative_to(ROOT).as_posix() for p in (ROOT / "medimgkit").rglob("__init__.py")}
    assert {"medimgkit", "medimgkit/data", "medimgkit/io"} <= packages
    assert not [n for n in names if n.startswith(("tests/", "book/", "tools/"))]


def test_wheel_metadata_lists_the_dependencies(wheel):
    with zipfile.ZipFile(wheel) as z:
        meta_name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        meta = email.message_from_string(z.read(meta_name).decode())
    requires = {r.replace(" ", "") for r in meta.get_all("Requires-Dist")}
    for dep in PYPROJECT["dependencies"]:
        assert dep.replace(" ", "") in requires, f"{dep} missing from Requires-Dist {sorted(requires)}"
    assert {"tensorflow>=2.16", "numpy>=1.26", "matplotlib>=3.8"} <= requires
    for extra, deps in PYPROJECT["optional-dependencies"].items():
        assert extra in meta.get_all("Provides-Extra")
        for dep in deps:
            assert f'{dep.replace(" ", "")};extra=="{extra}"' in requires, (extra, dep)
    assert meta["Version"] == PYPROJECT["version"]
    assert "torch" not in " ".join(requires)


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory, wheel) -> Path:
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    pth = site / "_project_dependencies.pth"

    # 1. The .pth line alone: TensorFlow is importable, the editable medimgkit is not.
    pth.write_text(f"{PROJECT_SITE}\n")
    probe = "import importlib.util as u; print(u.find_spec('tensorflow') is not None, u.find_spec('medimgkit') is None)"
    assert _run([python, "-c", probe], cwd=venv).stdout.split() == ["True", "True"]

    # 2. Install the wheel with the .pth removed, so pip sees only the fresh venv and can
    #    neither skip the install nor touch the project's own environment.
    pth.unlink()
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--quiet", wheel])
    pth.write_text(f"{PROJECT_SITE}\n")

    # 3. A kernel spec of this venv, found first through JUPYTER_PATH.
    spec = venv / "share" / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "fresh", "language": "python"}))
    return venv


def test_fresh_venv_imports_medimgkit_from_the_wheel(fresh_venv):
    python = fresh_venv / "bin" / "python"
    code = (
        "import json, sys, importlib.metadata as md, medimgkit, tensorflow;"
        "print(json.dumps({'medimgkit': medimgkit.__file__, 'tf': tensorflow.__file__, 'path': sys.path,"
        f" 'dist': str(md.distribution({PYPROJECT['name']!r}).locate_file('')),"
        " 'editable': any('__editable__' in m for m in sys.modules)}))"
    )
    info = json.loads(_run([python, "-c", code], cwd=fresh_venv).stdout.strip().splitlines()[-1])
    assert Path(info["medimgkit"]).is_relative_to(fresh_venv), info["medimgkit"]
    assert Path(info["dist"]).is_relative_to(fresh_venv), info["dist"]
    assert Path(info["tf"]).is_relative_to(PROJECT_SITE)
    assert not info["editable"] and str(ROOT) not in info["path"]
    site = next(p for p in info["path"] if p.startswith(str(fresh_venv)) and p.endswith("site-packages"))
    assert info["path"].index(site) < info["path"].index(str(PROJECT_SITE))


def test_a_chapter_runs_against_the_installed_wheel(fresh_venv, tmp_path):
    nb = nbformat.read(CHAPTER, as_version=4)
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "import json, sys, medimgkit\n"
            "print(json.dumps({'medimgkit': medimgkit.__file__, 'python': sys.executable}))"
        )
    )
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    nbformat.write(nb, run_dir / CHAPTER.name)
    script = (
        "import sys, nbformat, nbclient\n"
        "nb = nbformat.read(sys.argv[1], as_version=4)\n"
        "nbclient.NotebookClient(nb, kernel_name='python3', timeout=900,\n"
        "    resources={'metadata': {'path': sys.argv[2]}}).execute()\n"
        "nbformat.write(nb, sys.argv[1])\n"
    )
    env = {"MEDIMGKIT_QUICK": "1", "JUPYTER_PATH": str(fresh_venv / "share" / "jupyter")}
    _run([fresh_venv / "bin" / "python", "-c", script, run_dir / CHAPTER.name, run_dir], cwd=run_dir, env=env)
    executed = nbformat.read(run_dir / CHAPTER.name, as_version=4)
    last = executed.cells[-1].outputs
    info = json.loads("".join(o.get("text", "") for o in last if o.output_type == "stream").strip())
    assert Path(info["medimgkit"]).is_relative_to(fresh_venv), info
    assert Path(info["python"]).parent == fresh_venv / "bin", info
