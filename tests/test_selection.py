"""The test-tuning simulation: honest selection is unbiased, selecting on test is optimistic."""

import numpy as np
import pytest

from medimgkit.scratch.selection import selection_simulation


@pytest.fixture(scope="module")
def candidates(data_folder):
    """Scores of simple real 'models' on BreastMNIST val+test: mean brightness of image bands."""
    from medimgkit.data import load_medmnist

    xs, ys = zip(*(load_medmnist("breastmnist", 28, s) for s in ("val", "test")))
    x, y = np.concatenate(xs).astype(float), np.concatenate(ys)
    scores = np.array([-x[:, r:r + 4].mean(axis=(1, 2)) for r in range(0, 24, 2)])  # darker = malignant?
    return scores, y


@pytest.mark.parametrize("metric", ["balanced_accuracy", "auc"])
def test_cheating_is_optimistic_honest_is_not(candidates, metric):
    scores, y = candidates
    out = selection_simulation(scores, y, positive=0, metric=metric, n_repeats=400, seed=1)
    assert set(out) == {"honest_reported", "honest_fresh", "cheat_reported", "cheat_fresh"}
    cheat = np.mean(out["cheat_reported"] - out["cheat_fresh"])
    honest = np.mean(out["honest_reported"] - out["honest_fresh"])
    # per-repeat spread is about 0.09, so 400 repeats pin the honest mean near 0 (exactly 0 in expectation)
    assert cheat > 0.02 and cheat > honest + 0.015
    assert abs(honest) < 0.03
    assert np.all(out["cheat_reported"] >= out["honest_reported"] - 1e-12)  # max over test


def test_selection_errors(candidates):
    scores, y = candidates
    with pytest.raises(ValueError, match="scores must be"):
        selection_simulation(scores[:, :10], y)
    with pytest.raises(ValueError, match="metric"):
        selection_simulation(scores, y, metric="f1")
