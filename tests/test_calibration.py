"""Thresholds for a target sensitivity, reliability curves, ECE and Platt scaling."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medimgkit.metrics import binary_report
from medimgkit.metrics.calibration import (
    expected_calibration_error,
    platt_scaling,
    plot_reliability,
    reliability_curve,
    threshold_for_sensitivity,
    youden_threshold,
)


def _sensitivity(y, s, t, positive):
    return np.mean(s[y == positive] >= t)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 1), st.integers(0, 20)), min_size=2, max_size=60),
    st.floats(0.05, 1.0),
    st.integers(0, 1),
)
def test_threshold_is_the_highest_that_reaches_the_target(cases, target, positive):
    y = np.array([c[0] for c in cases])
    s = np.array([c[1] for c in cases], dtype=float) / 20  # ties on purpose
    if not np.any(y == positive):
        with pytest.raises(ValueError, match="no case of the positive class"):
            threshold_for_sensitivity(y, s, target, positive)
        return
    t = threshold_for_sensitivity(y, s, target, positive)
    assert _sensitivity(y, s, t, positive) >= target - 1e-9
    higher = s[(y == positive) & (s > t)]
    if len(higher):  # the next higher candidate misses the target
        assert _sensitivity(y, s, higher.min(), positive) < target


def test_threshold_on_real_scores_matches_binary_report(trained_cnn, breast):
    from medimgkit.train import predict_proba

    model, _ = trained_cnn
    x, y = breast["val"]
    p = predict_proba(model, x)
    t = threshold_for_sensitivity(y, p, 0.9, positive=0)
    report = binary_report(y, p, positive=0, threshold=t, n_boot=0)
    assert report["sensitivity"] >= 0.9
    with pytest.raises(ValueError, match="target"):
        threshold_for_sensitivity(y, p, 1.5, positive=0)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 20)), min_size=2, max_size=60), st.integers(0, 1))
def test_youden_threshold_maximises_sensitivity_plus_specificity(cases, positive):
    y = np.array([c[0] for c in cases])
    s = np.array([c[1] for c in cases], dtype=float) / 20  # ties on purpose
    if len(np.unique(y)) < 2:
        with pytest.raises(ValueError, match="both classes"):
            youden_threshold(y, s, positive)
        return
    t = youden_threshold(y, s, positive)
    assert not np.any(s == t)  # halfway between scores, never on a case

    def j(threshold):
        r = binary_report(y, s, positive=positive, threshold=threshold, n_boot=0)
        return r["sensitivity"] + r["specificity"]

    best = max(j(c) for c in np.r_[s, s.max() + 1])  # every distinct decision rule
    assert np.isclose(j(t), best)


def test_youden_threshold_by_hand():
    y = np.array([0, 0, 1, 1, 1])
    s = np.array([0.1, 0.4, 0.35, 0.8, 0.9])
    # >= 0.6 calls the two top positives: sensitivity 2/3, specificity 1 (J = 0.67);
    # calling all five positives' side at 0.225 gives 1 + 0.5 (J = 0.5)
    assert np.isclose(youden_threshold(y, s), 0.6)
    assert np.isclose(youden_threshold(y, np.c_[1 - s, s], positive=1), 0.6)


def test_reliability_curve_and_ece_by_hand():
    y = np.array([1, 0, 1, 1, 0, 0])
    p = np.array([0.05, 0.15, 0.95, 0.85, 0.9, 0.1])
    mean_pred, observed, counts = reliability_curve(y, p, positive=1, n_bins=2)
    np.testing.assert_array_equal(counts, [3, 3])
    np.testing.assert_allclose(mean_pred, [0.1, 0.9])
    np.testing.assert_allclose(observed, [1 / 3, 2 / 3])
    # ECE = 0.5 * |1/3 - 0.1| + 0.5 * |2/3 - 0.9|
    assert np.isclose(expected_calibration_error(y, p, positive=1, n_bins=2), 0.5 * (0.7 / 3) + 0.5 * (0.7 / 3))
    # the (N, 2) form with positive class 0: relabel so that label 0 is the old positive
    both = np.stack([p, 1 - p], axis=1)
    assert np.isclose(expected_calibration_error(1 - y, both, positive=0, n_bins=2),
                      expected_calibration_error(y, p, positive=1, n_bins=2))
    _, _, counts10 = reliability_curve(y, p, n_bins=10)
    assert counts10.sum() == len(y) and counts10[9] == 2  # 0.95 and 0.9 share the top bin
    with pytest.raises(ValueError, match="probabilities"):
        expected_calibration_error(y, p * 2)
    with pytest.raises(ValueError, match="n_bins"):
        reliability_curve(y, p, n_bins=0)


def test_calibrated_probabilities_have_small_ece_and_distorted_ones_large(rng):
    p_true = rng.uniform(0, 1, 20000)
    y = (rng.uniform(0, 1, 20000) < p_true).astype(int)
    assert expected_calibration_error(y, p_true) < 0.02
    logit = np.log(p_true) - np.log1p(-p_true)
    overconfident = 1 / (1 + np.exp(-3 * logit))
    assert expected_calibration_error(y, overconfident) > 0.1
    calibrate = platt_scaling(y, overconfident)
    assert np.isclose(calibrate.a, 1 / 3, atol=0.03) and abs(calibrate.b) < 0.05
    fixed = calibrate(overconfident)
    assert expected_calibration_error(y, fixed) < 0.02
    order = np.argsort(overconfident)
    assert np.all(np.diff(fixed[order]) >= -1e-12)  # the ranking (and so the AUC) is kept
    with pytest.raises(ValueError, match="both classes"):
        platt_scaling(np.ones(5, int), np.full(5, 0.5))


def test_plot_reliability_draws_one_curve_per_model(rng):
    y = rng.integers(0, 2, 200)
    p = rng.uniform(0, 1, 200)
    fig = plot_reliability({"a": (y, p), "b": (y, np.sqrt(p))}, positive=1, positive_name="malignant")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == "perfectly calibrated" and labels[1].startswith("a (ECE") and len(labels) == 3
