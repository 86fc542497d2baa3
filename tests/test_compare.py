"""The paired bootstrap of an AUC difference."""

from __future__ import annotations

import numpy as np
import pytest

from medimgkit.metrics import roc_auc
from medimgkit.metrics.compare import auc_difference


def _scores(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    good = y + rng.normal(scale=0.5, size=n)
    poor = y + rng.normal(scale=3.0, size=n)
    return y, good, poor


def test_difference_and_ci():
    y, good, poor = _scores()
    out = auc_difference(y, good, poor, positive=1, n_boot=300)
    assert out["diff"] == pytest.approx(roc_auc(y, good, 1) - roc_auc(y, poor, 1))
    lo, hi = out["ci"]
    assert 0 < lo < out["diff"] < hi  # a clear winner
    assert out["p_not_better"] < 0.01
    same = auc_difference(y, good, good, n_boot=50)
    assert same["diff"] == 0 and same["ci"] == (0.0, 0.0) and same["p_not_better"] == 1.0


def test_positive_class_and_symmetry():
    y, good, poor = _scores(seed=1)
    ab = auc_difference(y, good, poor, positive=1, n_boot=100, seed=3)
    ba = auc_difference(y, poor, good, positive=1, n_boot=100, seed=3)
    assert ab["diff"] == pytest.approx(-ba["diff"])
    assert ab["ci"][0] == pytest.approx(-ba["ci"][1])
    # positive=0 with negated scores is the same comparison
    flipped = auc_difference(y, -good, -poor, positive=0, n_boot=100, seed=3)
    assert flipped["diff"] == pytest.approx(ab["diff"])


def test_bad_input():
    y, good, poor = _scores()
    with pytest.raises(ValueError, match="same length"):
        auc_difference(y, good[:-1], poor)
    with pytest.raises(ValueError, match="n_boot"):
        auc_difference(y, good, poor, n_boot=0)
