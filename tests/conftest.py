"""Shared fixtures: the real MedMNIST files in ../shared/data/medmnist."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("MEDIMGKIT_DATA", str(ROOT.parent / "shared" / "data" / "medmnist"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SHARED = Path(os.environ["MEDIMGKIT_DATA"])


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED / "breastmnist.npz").exists():
        pytest.fail(f"real MedMNIST data not found in {SHARED}; set MEDIMGKIT_DATA")
    return SHARED


@pytest.fixture(scope="session")
def breast(shared_dir):
    """BreastMNIST 28 px: {split: (uint8 images, int labels)}."""
    from medimgkit.data import load_medmnist_splits

    return load_medmnist_splits("breastmnist", 28)


@pytest.fixture(scope="session")
def trained_cnn(breast):
    """A small improved_cnn trained for a few epochs on BreastMNIST (malignant = 0 positive)."""
    from medimgkit.models import improved_cnn
    from medimgkit.train import fit

    model, history = fit(
        lambda: improved_cnn((28, 28, 1), width=8, blocks=2, augment=False),
        breast["train"],
        breast["val"],
        epochs=4,
        positive=0,
        patience=None,
        seed=0,
    )
    return model, history


@pytest.fixture()
def rng():
    return np.random.default_rng(0)


# --------------------------------------------------------------------------- the website
# tests/test_site_build.py and tests/test_site_browser.py share one build, one server
# and one browser per session (tests/_site.py).


@pytest.fixture(scope="session")
def site():
    import _site

    return _site.site_fixture()


@pytest.fixture(scope="session")
def server(site):
    import _site

    yield from _site.server_fixture(site)


@pytest.fixture(scope="session")
def browser():
    import _site

    yield from _site.browser_fixture()
