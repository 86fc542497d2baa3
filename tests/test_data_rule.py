"""One data rule for package, Makefile and tests: ``$MEDIMGKIT_DATA``, else ``~/.cache/medimgkit``.

The data-using tests run again in a subprocess whose ``HOME`` is a temporary
folder with the MedMNIST files in ``.cache/medimgkit`` (symbolic links to the
real files) and no ``MEDIMGKIT_DATA``: they must pass, reading the files from
that cache and downloading nothing (the download mirror is pointed at a folder
that does not exist), and they must write nothing in that home outside the
cache and in the data folder. Without the files, the data fixture must fail
saying where it looked and how to get them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from medimgkit.data import dataset_info

ROOT = Path(__file__).resolve().parents[1]
# Tests that reach the data each way: the data_folder and medmnist_info fixtures, load_medmnist's
# default folder, the session fixtures breast and trained_cnn, a module fixture (test_mapping).
DATA_TESTS = [
    "tests/test_data_medmnist.py",
    "tests/test_config.py",
    "tests/test_data_pipeline.py",
    "tests/test_mapping.py::test_fit_curve_fits_real_profile",
    "tests/test_train.py::test_seeded_runs_are_identical",
]


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink()}


def _run_in_home(home: Path, tests: list[str]) -> subprocess.CompletedProcess:
    drop = ("MEDIMGKIT_DATA", "MEDIMGKIT_MIRROR", "XDG_CACHE_HOME", "KERAS_HOME", "MPLCONFIGDIR", "IPYTHONDIR", "JUPYTER_RUNTIME_DIR")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(HOME=str(home), MEDIMGKIT_MIRROR=(home / "no-mirror-here").as_uri())
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--basetemp", str(home.parent / "pytest-tmp"), *tests]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)


def test_data_tests_pass_with_only_the_user_cache(data_folder, tmp_path):
    home = tmp_path / "home"
    cache = home / ".cache" / "medimgkit"
    cache.mkdir(parents=True)
    # every MedMNIST file the tests' data folder holds (2-D and 3-D; tests/conftest.py TEST_FILES), as a
    # reader's cache would after the one download command the tests print
    needed = sorted({p.name for p in data_folder.glob("*.npz")} | {"INFO.json"})
    assert {dataset_info(n)["files"][28][0] for n in ("breastmnist", "adrenalmnist3d", "vesselmnist3d")} <= set(needed)
    for name in needed:
        (cache / name).symlink_to(data_folder / name)
    before = _files(home)

    proc = _run_in_home(home, DATA_TESTS)
    assert proc.returncode == 0, f"data tests failed with HOME={home} and no MEDIMGKIT_DATA:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
    assert " passed" in proc.stdout and " skipped" not in proc.stdout.splitlines()[-1], proc.stdout[-500:]

    written = sorted(_files(home) - before)
    outside_cache = [p for p in written if not p.startswith(".cache/")]
    assert not outside_cache, f"the tests wrote outside the cache, in {home}: {outside_cache}"
    assert _files(cache) == set(needed), f"the data cache changed: {sorted(_files(cache) ^ set(needed))}"


def test_missing_data_fails_saying_where_and_how(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    proc = _run_in_home(home, ["tests/test_data_medmnist.py::test_registry_matches_shared_info"])
    out = proc.stdout
    assert proc.returncode == 1, out[-3000:]
    cache = home / ".cache" / "medimgkit"
    assert f"MedMNIST files missing from {cache}" in out, out[-3000:]
    assert "~/.cache/medimgkit, as MEDIMGKIT_DATA is not set" in out
    assert "breastmnist.npz, breastmnist_64.npz, pneumoniamnist.npz, retinamnist.npz" in out
    assert "from medimgkit.data import medmnist_path" in out and "MEDIMGKIT_DATA" in out
    assert not cache.exists() or not any(cache.iterdir()), "the failing fixture must not download or create files"
