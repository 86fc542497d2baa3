"""The package's shape: three tiers, no private name crossing modules, old paths deprecated, no import side effects."""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import medimgkit
from medimgkit._moved import MOVED

PACKAGE = Path(medimgkit.__file__).parent


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "_moved" not in p.parts)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rsplit(".", 1)[0]


def test_no_module_imports_a_private_name_from_another_package():
    """A ``_name`` may be imported only inside its own subpackage (e.g. metrics -> metrics._bootstrap)."""
    offences = []
    for path in _modules():
        module = _module_name(path)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("medimgkit"):
                source_pkg = node.module.rsplit(".", 1)[0] if "." in node.module else node.module
                for alias in node.names:
                    private_name = alias.name.startswith("_") and not alias.name.startswith("__")
                    if private_name and node.module != module:
                        offences.append(f"{module} imports {alias.name} from {node.module}")
                # a private module is shared only inside its package (the package root's _files,
                # _text and _deprecation serve the whole package)
                last = node.module.rsplit(".", 1)[-1]
                if last.startswith("_") and source_pkg != "medimgkit":
                    if not (_package_of(module, path) + ".").startswith(source_pkg + "."):
                        offences.append(f"{module} imports the private module {node.module}")
    assert offences == []


def test_three_tiers_are_folders():
    for tier in ("scratch", "experiments"):
        assert (PACKAGE / tier / "__init__.py").exists()
    top = sorted(p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("_"))
    assert top == ["config", "crossval", "export", "measure", "plots", "train", "transforms"], top


@pytest.mark.parametrize("old", sorted(MOVED))
def test_old_module_paths_warn_and_give_the_new_module(old):
    sys.modules.pop(old, None)
    with pytest.warns(DeprecationWarning, match="0.3"):
        module = importlib.import_module(old)
    new = importlib.import_module(MOVED[old])
    if old != "medimgkit.ordinal":  # split in two: it gathers both halves
        assert module is new
    else:
        assert module.grading_report is importlib.import_module("medimgkit.metrics.grading").grading_report


def test_renamed_names_still_work_with_a_warning():
    from medimgkit import data, explain, metrics, transforms

    with pytest.warns(DeprecationWarning, match="num_classes"):
        assert metrics.confusion_matrix([0, 1], [1, 1], n_classes=2).tolist() == [[0, 1], [0, 1]]
    with pytest.raises(TypeError, match="both n_classes"):
        metrics.confusion_matrix([0, 1], [1, 1], n_classes=2, num_classes=2)
    with pytest.warns(DeprecationWarning, match="folds"):
        assert len(data.patient_kfold(["a", "b", "c"], n_splits=3)) == 3
    with pytest.warns(DeprecationWarning, match="to_gray"):
        assert transforms.to_grey(np.zeros((2, 2, 3), np.uint8)).shape == (2, 2)
    assert explain.cascading_randomisation.__name__ == "cascading_randomisation"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        transforms.to_gray(np.zeros((2, 2, 3), np.uint8))


def test_importing_the_package_changes_nothing_process_wide():
    code = (
        "import os, sys; before = dict(os.environ); import medimgkit, medimgkit.data, medimgkit.metrics; "
        "assert dict(os.environ) == before, set(os.environ) ^ set(before); "
        "assert 'tensorflow' not in sys.modules, 'importing medimgkit.data/metrics must not load TensorFlow'"
    )
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_every_subpackage_reexports_what_it_lists():
    for name in ("data", "io", "metrics", "explain", "models"):
        module = importlib.import_module(f"medimgkit.{name}")
        for public in module.__all__:
            assert hasattr(module, public), f"medimgkit.{name}.__all__ lists {public} but it is missing"


def test_every_public_module_has_a_tier_on_the_api_page():
    """tools/medimgkit_api.py fails the site build on a module in no tier; catch that here, fast."""
    pytest.importorskip("sphinx", reason="the API page's tiers live in a Sphinx extension (the book's extra)")
    sys.path.insert(0, str(PACKAGE.parent / "tools"))
    import medimgkit_api

    tiers = {name: medimgkit_api.tier_of(name) for name in medimgkit_api.public_modules()}
    assert tiers["medimgkit.scratch.conv"] == "From scratch"
    assert tiers["medimgkit.experiments.recipe"] == "The book's experiments"
    assert tiers["medimgkit.io.dicom"] == "Medical files"
