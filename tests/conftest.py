"""Shared fixtures. The real MedMNIST files are found exactly as the package finds them.

``medimgkit.data_dir()``: ``$MEDIMGKIT_DATA``, else ``~/.cache/medimgkit``.
Nothing here points anywhere else: the Makefile, not the tests, chooses
``MEDIMGKIT_DATA`` (a folder of links to the team's data on the team's machines
and in CI); elsewhere the files live in the user cache, where
``medimgkit`` downloads them. A missing file fails the test that needs it,
saying where it looked and how to get the file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# The MedMNIST files the tests read: (dataset, image size in pixels).
TEST_FILES = [("breastmnist", 28), ("breastmnist", 64), ("pneumoniamnist", 28), ("retinamnist", 28),
              ("adrenalmnist3d", 28), ("adrenalmnist3d", 64), ("vesselmnist3d", 28)]
DOWNLOAD = (
    'python -c "from medimgkit.data import medmnist_path; '
    f'[medmnist_path(n, s) for n, s in {TEST_FILES}]"'
)


def _where() -> tuple[Path, str]:
    from medimgkit import data_dir

    folder = data_dir()
    if os.environ.get("MEDIMGKIT_DATA"):
        return folder, f"MEDIMGKIT_DATA={os.environ['MEDIMGKIT_DATA']!r}"
    return folder, "the package's default, ~/.cache/medimgkit, as MEDIMGKIT_DATA is not set"


@pytest.fixture(scope="session")
def data_folder() -> Path:
    """The folder with the tests' MedMNIST files: the package's data folder, checked.

    Fails, naming the folder, how it was chosen, the missing files and the
    command that downloads them, when any file is missing.
    """
    from medimgkit.data import dataset_info

    folder, how = _where()
    missing = [dataset_info(n)["files"][s][0] for n, s in TEST_FILES if not (folder / dataset_info(n)["files"][s][0]).is_file()]
    if missing:
        pytest.fail(
            f"MedMNIST files missing from {folder} ({how}): {', '.join(missing)}. "
            f"Download them there once (about 13 MB from Zenodo, MD5-checked): {DOWNLOAD}; "
            f"or set MEDIMGKIT_DATA to a folder that holds them.",
            pytrace=False,
        )
    return folder


@pytest.fixture(scope="session")
def medmnist_info(data_folder) -> dict:
    """``INFO.json`` of the data folder: MedMNIST's own record of every file's MD5 and split sizes.

    medimgkit does not download it (it is not part of the Zenodo record); it sits
    in the team's MedMNIST data folder, from where it can be copied.
    """
    path = data_folder / "INFO.json"
    if not path.is_file():
        folder, how = _where()
        pytest.fail(
            f"{path} is missing ({how}). It is MedMNIST's record of every file's MD5 and split sizes, "
            f"which medimgkit does not download: copy INFO.json from the team's data folder "
            f"into {folder}.",
            pytrace=False,
        )
    return json.loads(path.read_text())["datasets"]


@pytest.fixture(scope="session")
def breast(data_folder):
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
