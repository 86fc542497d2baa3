"""``make colab-check`` (tools/colab_check.py): its pins, its install check and its bad-input messages.

The whole check (a Python 3.13 venv with TensorFlow, the tests and every
chapter) is too long for the unit tests; ``make colab-check`` runs it. Here:
the constraints file pins what Colab has; the Colab-way install fails, naming
the package and both versions, when it would change a pinned package (a real
pip install into a small fresh venv); a missing Python 3.13 is named with how
to get it; the spec installed is the chapters' own, with this checkout's HEAD.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import colab_check  # noqa: E402
import notebooks  # noqa: E402

COLAB = {  # Google Colab's Python 3.13 runtime, as issue 13 lists it
    "tensorflow": "2.20.0", "keras": "3.13.2", "numpy": "2.1.3", "ipywidgets": "7.7.1", "ipython": "7.34.0",
    "ipykernel": "6.17.1", "matplotlib": "3.10.0", "scikit-learn": "1.6.1", "scipy": "1.16.3",
    "pillow": "11.3.0", "nibabel": "5.4.2",
}


def test_constraints_pin_colabs_versions_and_pydicom_is_absent():
    pins, absent = colab_check.read_constraints()
    assert pins == COLAB
    assert absent == ["pydicom"]


def test_a_bad_constraints_line_is_named(tmp_path):
    bad = tmp_path / "c.txt"
    bad.write_text("numpy==2.1.3\nscipy>=1.16\n")
    with pytest.raises(colab_check.CheckFailed, match=r"c\.txt:2: 'scipy>=1.16' is not 'name==version'"):
        colab_check.read_constraints(bad)


def test_the_spec_is_the_chapters_cell_with_this_checkout_at_head():
    head = "0123456789abcdef0123456789abcdef01234567"
    chapter_spec, spec = colab_check.colab_spec_of_this_checkout(head)
    assert chapter_spec == notebooks.COLAB_SPEC
    assert spec == notebooks.colab_spec(url=ROOT.as_uri(), ref=head)
    assert spec.startswith("medimgkit-book[medical,widgets] @ git+file://")


@pytest.mark.skipif(sys.version_info[:2] == (3, 13), reason="this interpreter is Python 3.13: the check would start")
def test_without_python_313_the_check_says_what_is_missing_and_how_to_get_it(tmp_path):
    for python, problem in [("/nowhere/python3.13", "'/nowhere/python3.13' does not run"),
                            (sys.executable, f"is Python {sys.version_info[0]}.{sys.version_info[1]}")]:
        proc = subprocess.run([sys.executable, ROOT / "tools" / "colab_check.py", "--python", python, "--work", tmp_path],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "Python 3.13 is missing" in proc.stdout and problem in proc.stdout, proc.stdout
        assert "apt-get install python3.13" in proc.stdout and "COLAB_PYTHON=" in proc.stdout
        assert not (tmp_path / "venv").exists()


def _wheel(folder: Path, version: str, requires: str) -> Path:
    """A one-module wheel that requires ``requires``: what the package's metadata does to pip."""
    path = folder / f"demo_colab_pkg-{version}-py3-none-any.whl"
    info = f"demo_colab_pkg-{version}.dist-info"
    files = {
        "demo_colab_pkg/__init__.py": "",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: demo-colab-pkg\nVersion: {version}\nRequires-Dist: {requires}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    files[f"{info}/RECORD"] = "".join(f"{name},,\n" for name in [*files, f"{info}/RECORD"])
    with zipfile.ZipFile(path, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return path


@pytest.fixture(scope="module")
def small_venv(tmp_path_factory):
    """A fresh venv with one 'preinstalled' package at an old version: packaging 23.2."""
    work = tmp_path_factory.mktemp("colab")
    (work / "tmp").mkdir()
    env = colab_check.clean_env(work)
    subprocess.run([sys.executable, "-m", "venv", work / "venv"], check=True, env=env)
    python = work / "venv" / "bin" / "python"
    colab_check.run([python, "-m", "pip", "install", "-q", "packaging==23.2"], env=env)
    return python, env, work


def test_an_install_that_changes_a_preinstalled_package_fails_naming_both_versions(small_venv, tmp_path):
    python, env, work = small_venv
    pins = {"packaging": "23.2"}
    ok = colab_check.install_the_colab_way(python, str(_wheel(tmp_path, "1.0", "packaging>=23")), pins, env, work / "ok.log")
    assert ok["added"] == ["demo-colab-pkg 1.0"] and ok["changed_unpinned"] == []

    with pytest.raises(colab_check.CheckFailed) as err:
        colab_check.install_the_colab_way(python, str(_wheel(tmp_path, "2.0", "packaging>=24")), pins, env, work / "bad.log")
    message = str(err.value)
    found = colab_check.installed(python, env)["packaging"]
    assert found != "23.2"
    assert f"packaging: pinned 23.2 (Colab's), found {found}" in message, message
    assert "pyproject.toml" in message
