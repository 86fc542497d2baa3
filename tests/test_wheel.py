"""medimgkit as coursework installs it: a wheel, in a fresh virtual environment.

The wheel is built from a clean copy of the sources (pyproject.toml, README.md, LICENSE,
medimgkit/), so nothing in the checkout leaks into it. The fresh venv gets the
wheel with ``--no-deps``; its heavy dependencies (TensorFlow, ~600 MB) come
from the project's .venv through one ``.pth`` line that APPENDS the project's
site-packages to sys.path. Python runs the ``.pth`` files of a site directory
only, not of a folder such a line adds, so the project's editable install of
medimgkit (itself a ``.pth`` hook) stays invisible: checked below, before the
wheel goes in. Then a short script runs in that venv, from a temporary
folder: it loads real BreastMNIST, trains a tiny CNN for one epoch, reports a
test AUC and lists the files of every medimgkit module it imported, which must
all be files the wheel installed (its RECORD). The chapters themselves run
once, under nbval, in ``make test``.
"""

from __future__ import annotations

import email
import json
import math
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
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
    for name in ("pyproject.toml", "README.md", "LICENSE"):
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
    # the licence: an SPDX expression in the metadata and its text in the wheel (PEP 639)
    assert meta["License-Expression"] == PYPROJECT["license"] == "MIT"
    with zipfile.ZipFile(wheel) as z:
        assert any(n.endswith(".dist-info/licenses/LICENSE") for n in z.namelist())


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


# Run in the fresh venv, from a temporary folder (so neither the checkout nor its
# medimgkit is on sys.path): real BreastMNIST, a tiny CNN, one epoch, a test AUC,
# and where every medimgkit module it imported came from.
TRAIN_SCRIPT = r"""
import importlib.metadata as md, json, math, sys
from pathlib import Path

from medimgkit import data, metrics, models, train

(x, y), (xv, yv), (xt, yt) = (data.load_medmnist("breastmnist", 28, s) for s in ("train", "val", "test"))
model, history = train.fit(
    lambda: models.improved_cnn((28, 28, 1), width=8, blocks=2, augment=False),
    (x, y), (xv, yv), epochs=1, patience=None, positive=0, seed=0,
)
probs = train.predict_proba(model, xt)
dist = md.distribution(sys.argv[1])  # the distribution name, from pyproject.toml
print(json.dumps({
    "auc": float(metrics.roc_auc(yt, probs, positive=0)),
    "loss": [float(v) for v in history.history["loss"]],
    "n_test": int(len(yt)), "probs_shape": list(probs.shape),
    "modules": sorted(m.__file__ for n, m in sys.modules.items()
                      if n.split(".")[0] == "medimgkit" and getattr(m, "__file__", None)),
    "record": sorted(str(Path(dist.locate_file(f)).resolve()) for f in dist.files or []),
    "python": sys.executable,
}))
"""


def test_installed_wheel_trains_on_real_data(fresh_venv, tmp_path):
    """Import the wheel (not the checkout), load real MedMNIST, train 1 epoch, report a test AUC."""
    env = {"MEDIMGKIT_QUICK": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = _run([fresh_venv / "bin" / "python", "-c", TRAIN_SCRIPT, PYPROJECT["name"]], cwd=tmp_path, env=env)
    info = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"wheel: 1 epoch on BreastMNIST 28 px, test AUC {info['auc']:.3f} (n={info['n_test']})")
    assert Path(info["python"]).parent == fresh_venv / "bin", info["python"]
    assert info["probs_shape"] == [info["n_test"], 2] and info["n_test"] > 100
    assert len(info["loss"]) == 1 and math.isfinite(info["loss"][0])
    assert 0.0 <= info["auc"] <= 1.0, info["auc"]
    # Every medimgkit module it imported is a file the wheel installed into the fresh venv.
    modules = [str(Path(m).resolve()) for m in info["modules"]]
    assert len(modules) >= 5, modules
    outside = [m for m in modules if not Path(m).is_relative_to(fresh_venv.resolve())]
    assert not outside, f"imported from outside the fresh venv: {outside}"
    not_in_record = sorted(set(modules) - set(info["record"]))
    assert not not_in_record, f"imported files the wheel's RECORD does not list: {not_in_record}"
