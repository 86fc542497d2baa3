"""Multi-class and ordinal metrics, cross-checked against scikit-learn on real RetinaMNIST labels."""

import numpy as np
import pytest
from sklearn import metrics as skm

from medimgkit.metrics import binary_report, confusion_matrix, macro_auc, quadratic_weighted_kappa

K = 5


@pytest.fixture(scope="module")
def grades(data_folder):
    """Real RetinaMNIST test grades and seeded 'predictions': mostly right, off by one or two, some random."""
    from medimgkit.data import load_medmnist

    _, y = load_medmnist("retinamnist", 28, "test")
    rng = np.random.default_rng(0)
    near = np.clip(y + rng.choice([-2, -1, 0, 0, 0, 1, 2], size=len(y)), 0, K - 1)
    noisy = np.where(rng.random(len(y)) < 0.3, rng.integers(0, K, len(y)), near)
    return y, noisy


def test_confusion_matrix_matches_sklearn(grades):
    y, pred = grades
    cm = confusion_matrix(y, pred, K)
    assert cm.dtype == np.int64 and cm.shape == (K, K)
    assert np.array_equal(cm, skm.confusion_matrix(y, pred, labels=range(K)))
    assert cm.sum() == len(y) and np.array_equal(cm.sum(axis=1), np.bincount(y, minlength=K))
    # MedMNIST's (N, 1) label arrays are accepted as they come
    assert np.array_equal(confusion_matrix(y[:, None], pred, K), cm)


def test_absent_class_keeps_its_row_and_column(grades):
    y, pred = grades
    keep = y < 4
    cm = confusion_matrix(y[keep], np.minimum(pred[keep], 3), K)
    assert cm[4].sum() == 0 and cm[:, 4].sum() == 0


def test_kappa_matches_sklearn_quadratic(grades):
    y, pred = grades
    mine = quadratic_weighted_kappa(y, pred, K)
    assert np.isclose(mine, skm.cohen_kappa_score(y, pred, weights="quadratic"))
    assert 0.2 < mine < 0.95
    assert quadratic_weighted_kappa(y, y, K) == pytest.approx(1.0)
    # Real binary labels too (PneumoniaMNIST): kappa then does not depend on the weights
    from medimgkit.data import load_medmnist

    _, yb = load_medmnist("pneumoniamnist", 28, "val")
    flip = np.random.default_rng(1).random(len(yb)) < 0.2
    pb = np.where(flip, 1 - yb, yb)
    assert np.isclose(quadratic_weighted_kappa(yb, pb, 2), skm.cohen_kappa_score(yb, pb))


def test_kappa_weights_use_grade_values_when_a_grade_is_missing(grades):
    y, pred = grades
    keep = (y != 2) & (pred != 2)
    t, p = y[keep], pred[keep]
    mine = quadratic_weighted_kappa(t, p, K)
    assert np.isclose(mine, skm.cohen_kappa_score(t, p, weights="quadratic", labels=list(range(K))))


def test_kappa_punishes_far_misses_more(grades):
    y, _ = grades
    one_off = np.where(y == 0, 1, y - 1)
    two_off = np.where(y <= 1, y + 2, y - 2)
    assert quadratic_weighted_kappa(y, two_off, K) < quadratic_weighted_kappa(y, one_off, K)


def test_kappa_at_chance_and_undefined():
    rng = np.random.default_rng(3)
    y, p = rng.integers(0, K, 20000), rng.integers(0, K, 20000)
    assert abs(quadratic_weighted_kappa(y, p, K)) < 0.03
    assert np.isnan(quadratic_weighted_kappa([2, 2, 2], [2, 2, 2], K))


def test_macro_auc_matches_sklearn_and_medmnist_definition(grades):
    y, pred = grades
    rng = np.random.default_rng(2)
    logits = 2.0 * np.eye(K)[pred] + rng.normal(size=(len(y), K))
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    mine = macro_auc(y, probs)
    assert np.isclose(mine, skm.roc_auc_score(y, probs, multi_class="ovr", average="macro"))
    per_class = [skm.roc_auc_score(y == k, probs[:, k]) for k in range(K)]
    assert np.isclose(mine, np.mean(per_class))
    assert np.isnan(macro_auc(np.minimum(y, 3), probs))  # grade 4 absent: undefined


def test_binary_report_intervals_wilson_for_proportions_bootstrap_for_auc():
    """Proportions get Wilson score intervals; the AUC the shared bootstrap loop over cases."""
    from medimgkit.metrics import wilson_interval
    from medimgkit.metrics.binary import METRICS, roc_auc

    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 120)
    s = y * 0.4 + rng.random(120)
    report = binary_report(y, s, n_boot=200, seed=9)
    boot = np.random.default_rng(9)
    aucs = []
    for _ in range(200):
        idx = boot.integers(0, 120, size=120)
        aucs.append(roc_auc(y[idx], s[idx]))
    assert np.allclose(report["ci"]["auc"], np.percentile(aucs, [2.5, 97.5]))
    tp, fn = np.sum((s >= 0.5) & (y == 1)), np.sum((s < 0.5) & (y == 1))
    assert np.allclose(report["ci"]["sensitivity"], wilson_interval(int(tp), int(tp + fn)))
    assert report["ci_method"] == {m: ("bootstrap" if m == "auc" else "wilson") for m in METRICS}


def test_bad_input_is_named(grades):
    y, pred = grades
    with pytest.raises(ValueError, match="label 5, outside 0..4"):
        confusion_matrix(y, pred + 1, K)
    with pytest.raises(ValueError, match="label -1"):
        quadratic_weighted_kappa(y, pred - 1, K)
    with pytest.raises(ValueError, match="400 entries but y_pred has 399"):
        quadratic_weighted_kappa(y, pred[:-1], K)
    with pytest.raises(ValueError, match="integer labels"):
        confusion_matrix([0.5, 1.0], [0, 1], 2)
    with pytest.raises(ValueError, match="num_classes must be an integer >= 2"):
        quadratic_weighted_kappa([0, 0], [0, 0], 1)
    with pytest.raises(ValueError, match="empty"):
        confusion_matrix([], [], K)
    with pytest.raises(ValueError, match=r"probs must be \(N, K\)"):
        macro_auc(y, np.ones(len(y)))
    with pytest.raises(ValueError, match="NaN"):
        macro_auc([0, 1], np.array([[np.nan, 1.0], [0.5, 0.5]]))
    with pytest.raises(ValueError, match="2 entries but probs has 3 rows"):
        macro_auc([0, 1], np.full((3, 2), 0.5))
