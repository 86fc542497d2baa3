"""The NumPy logistic regression against scikit-learn, and on real filter-bank features."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from medimgkit.data import DataUnavailableError, load_medmnist_splits
from medimgkit.metrics import roc_auc
from medimgkit.scratch.filters import filter_bank, filter_bank_features
from medimgkit.scratch.linear import fit_logistic, tune_logistic


def _toy(n=300, d=6, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)) * rng.uniform(0.5, 5, size=d) + rng.normal(size=d)
    logits = x @ rng.normal(size=d) * 0.5
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logits))).astype(int)
    return x, y


@pytest.mark.parametrize("l2,balance", [(1.0, False), (0.1, False), (10.0, True)])
def test_matches_sklearn(l2, balance):
    x, y = _toy()
    ours = fit_logistic(x, y, positive=1, l2=l2, balance=balance)
    z = (x - x.mean(0)) / x.std(0)
    ref = LogisticRegression(C=1 / l2, class_weight="balanced" if balance else None, tol=1e-12, max_iter=10_000).fit(z, y)
    np.testing.assert_allclose(ours.weights, ref.coef_[0], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ours.bias, ref.intercept_[0], rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ours.predict_proba(x), ref.predict_proba(z)[:, 1], atol=1e-6)


def test_positive_class_flips_the_model():
    x, y = _toy(seed=1)
    p1 = fit_logistic(x, y, positive=1).predict_proba(x)
    p0 = fit_logistic(x, y, positive=0).predict_proba(x)
    np.testing.assert_allclose(p0, 1 - p1, atol=1e-8)


def test_tune_logistic_on_breastmnist_features():
    try:
        d = load_medmnist_splits("breastmnist", 28)
    except DataUnavailableError as exc:  # pragma: no cover
        pytest.skip(f"BreastMNIST not available: {exc}")
    kernels, _ = filter_bank(orientations=2, frequencies=(0.25,))
    f = {s: filter_bank_features(d[s][0], kernels, grid=1) for s in ("train", "val")}
    model, scores = tune_logistic((f["train"], d["train"][1]), (f["val"], d["val"][1]), l2_grid=(0.1, 10.0), positive=0)
    assert set(scores) == {0.1, 10.0}
    assert model.l2 == max(scores, key=scores.get)
    auc = roc_auc(d["val"][1], model.predict_proba(f["val"]), positive=0)
    assert auc == scores[model.l2] and auc > 0.7  # malignant vs benign from simple texture statistics


def test_bad_inputs():
    x, y = _toy()
    with pytest.raises(ValueError, match="l2 must be positive"):
        fit_logistic(x, y, l2=0)
    with pytest.raises(ValueError, match="two classes"):
        fit_logistic(x, np.zeros(len(x), int))
    with pytest.raises(ValueError, match="labels"):
        fit_logistic(x, y[:-1])
    with pytest.raises(ValueError, match="2-D"):
        fit_logistic(x[:, 0], y)
    model = fit_logistic(x, y)
    with pytest.raises(ValueError, match="6 features"):
        model.predict_proba(x[:, :3])
