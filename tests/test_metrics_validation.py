"""One validator for labels and scores behind every metric: properties (hypothesis) and the cases of issue 14."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from medimgkit.metrics import (
    auc_difference,
    binary_report,
    confusion_matrix,
    expected_calibration_error,
    expected_grade,
    format_report,
    grading_report,
    macro_auc,
    platt_scaling,
    predict_grades,
    reliability_curve,
    reports_table,
    roc_auc,
    roc_curve,
    threshold_for_sensitivity,
    wilson_interval,
    youden_threshold,
)
from medimgkit.metrics._validation import binary, labels, probabilities, scores

PROPERTY = settings(max_examples=80, deadline=None)


def two_class_cases(min_size=2, max_size=40):
    """(labels in {0, 1} with both present, probabilities of label 1)."""
    return st.integers(min_size, max_size).flatmap(
        lambda n: st.tuples(
            hnp.arrays(np.int64, n, elements=st.integers(0, 1)),
            hnp.arrays(np.int64, n, elements=st.integers(0, 100)).map(lambda a: a / 100),  # 1 - p exact enough
        )
    ).filter(lambda c: 0 < c[0].sum() < len(c[0]))


# ---------------------------------------------------------------- the validators' properties

@PROPERTY
@given(hnp.arrays(np.int64, st.integers(1, 30), elements=st.integers(-5, 5)), st.booleans(), st.booleans())
def test_labels_accepts_integers_in_any_layout(y, column, as_float):
    given_y = y.astype(np.float64) if as_float else y
    given_y = given_y[:, None] if column else given_y
    out = labels(given_y)
    assert out.dtype == np.int64 and out.shape == y.shape and np.array_equal(out, y)


@PROPERTY
@given(hnp.arrays(np.int64, st.integers(1, 30), elements=st.integers(0, 3)), st.data())
def test_labels_refuses_soft_or_missing_labels_and_names_them(y, data):
    i = data.draw(st.integers(0, len(y) - 1))
    bad = data.draw(st.sampled_from([0.7, 0.25, np.nan, np.inf]))
    soft = y.astype(np.float64)
    soft[i] += bad
    with pytest.raises(ValueError, match=rf"y_true: expected integer labels.*found .* at index {i}"):
        labels(soft)


@PROPERTY
@given(st.integers(1, 20), st.integers(2, 5))
def test_labels_refuses_one_hot_rows(n, k):
    with pytest.raises(ValueError, match=rf"shape \({n}, {k}\) \(one-hot.*argmax"):
        labels(np.eye(k)[np.arange(n) % k])


@PROPERTY
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=2, max_side=10),
                  elements=st.floats(-1e6, 1e6)), st.data())
def test_scores_accepts_finite_numbers_and_refuses_nan_with_its_index(s, data):
    assert np.array_equal(scores(s, len(s)), s)
    flat = data.draw(st.integers(0, s.size - 1))
    broken = s.copy()
    broken.flat[flat] = data.draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    with pytest.raises(ValueError, match=r"y_score: expected finite scores, found .* at index"):
        scores(broken, len(s))


@PROPERTY
@given(two_class_cases())
def test_sigmoid_column_is_the_probability_of_label_1(case):
    y, p1 = case
    pos1, s1 = binary(y, p1[:, None], 1)
    pos0, s0 = binary(y, p1[:, None], 0)
    assert np.array_equal(s1, p1) and np.allclose(s0, 1 - p1)
    assert np.array_equal(pos0, 1 - pos1)
    # one sigmoid output, two readings: the same test seen from either class
    assert np.isclose(roc_auc(y, p1[:, None], positive=0), roc_auc(y, p1[:, None], positive=1))
    assert np.isclose(roc_auc(y, p1[:, None], positive=0), roc_auc(y, np.stack([1 - p1, p1], 1), positive=0))


@PROPERTY
@given(two_class_cases(), st.integers(2, 9))
def test_a_positive_label_absent_from_y_true_is_refused_by_every_metric(case, positive):
    y, p = case
    for metric in (
        lambda: roc_auc(y, p, positive),
        lambda: roc_curve(y, p, positive),
        lambda: binary_report(y, p, positive, n_boot=0),
        lambda: expected_calibration_error(y, p, positive),
        lambda: reliability_curve(y, p, positive),
        lambda: threshold_for_sensitivity(y, p, 0.9, positive),
        lambda: youden_threshold(y, p, positive),
        lambda: platt_scaling(y, p, positive),
        lambda: auc_difference(y, p, p, positive, n_boot=2),
    ):
        with pytest.raises(ValueError, match=rf"positive={positive}.*holds labels \[0, 1\]"):
            metric()


@PROPERTY
@given(st.integers(0, 60), st.integers(1, 60))
def test_wilson_interval_is_honest_at_the_edges(k, n):
    assume(k <= n)
    lo, hi = wilson_interval(k, n)
    assert 0 <= lo <= k / n <= hi <= 1
    if k == n:
        assert hi == 1 and lo < 1  # never (1, 1): n cases cannot prove certainty
    if k == 0:
        assert lo == 0 and hi > 0
    lo2, hi2 = wilson_interval(4 * k, 4 * n)
    assert hi2 - lo2 < hi - lo  # more cases, narrower


@PROPERTY
@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 10), st.integers(2, 5)), elements=st.floats(-5, 5)))
def test_expected_grade_needs_probabilities(p):
    if (p < 0).any():
        with pytest.raises(ValueError, match="probs: expected probabilities >= 0, found a negative value.*softmax"):
            expected_grade(p)
    elif (p.sum(axis=1) <= 0).any():
        with pytest.raises(ValueError, match="sums to 0"):
            expected_grade(p)
    else:
        g = expected_grade(p)
        assert np.all((g >= 0) & (g <= p.shape[1] - 1))
    probabilities(p)  # argmax and AUCs take any finite scores


# ---------------------------------------------------------------- the cases of issue 14

def test_case1_one_column_sigmoid_with_positive_0_is_read_as_1_minus_p():
    # a sigmoid model's model.predict(x): (N, 1), the probability of label 1
    y = np.array([0, 0, 0, 1, 1, 1, 1, 0])
    p1 = np.array([[0.1], [0.3], [0.6], [0.4], [0.7], [0.8], [0.9], [0.2]])
    r0 = binary_report(y, p1, positive=0, n_boot=0)
    r1 = binary_report(y, p1, positive=1, n_boot=0)
    right = roc_auc(y == 0, 1 - p1[:, 0])
    assert np.isclose(r0["auc"], right) and right > 0.8  # was 1 - right: the wrong class
    assert np.isclose(r0["auc"], r1["auc"])
    # sensitivity for label 0 is specificity for label 1, and back
    assert np.isclose(r0["sensitivity"], r1["specificity"]) and np.isclose(r0["specificity"], r1["sensitivity"])
    assert r0["confusion"].tolist() == r1["confusion"][::-1, ::-1].tolist()


def test_case1_positive_1_with_one_column_is_accepted():
    y = np.array([0, 1, 0, 1])
    p1 = np.array([[0.2], [0.9], [0.4], [0.6]])
    assert binary_report(y, p1, positive=1, n_boot=0)["auc"] == 1.0


def test_case1_positive_absent_names_the_labels_present():
    with pytest.raises(ValueError, match=r"positive=2.*y_true holds labels \[0, 1\]; pass positive= one of \[0, 1\]"):
        binary_report([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8], positive=2)


def test_one_column_refused_where_it_cannot_be_read():
    with pytest.raises(ValueError, match=r"y_score.*labels \[1, 2\].*probability of label 1"):
        roc_auc([1, 2, 1, 2], np.array([[0.1], [0.9], [0.2], [0.8]]), positive=2)
    with pytest.raises(ValueError, match=r"y_score: expected probabilities in \[0, 1\].*logits\? apply a sigmoid"):
        roc_auc([0, 1], np.array([[-3.0], [2.0]]), positive=0)


def test_platt_calibrates_the_array_it_was_fitted_on():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    p1 = np.clip(0.3 * y + 0.7 * rng.random(200), 0.01, 0.99)[:, None]
    for positive in (0, 1):
        calibrate = platt_scaling(y, p1, positive=positive)
        out = calibrate(p1)
        assert out.shape == (200,)
        assert np.isclose(roc_auc(y, out, positive=positive), roc_auc(y, p1, positive=positive))


def test_auc_difference_reads_every_score_layout_alike():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 100)
    p1 = np.clip(0.4 * y + 0.6 * rng.random(100), 0, 1)
    q1 = rng.random(100)
    layouts = [
        (1 - p1, 1 - q1),  # (N,): the positive class's (label 0's) score
        (p1[:, None], q1[:, None]),  # sigmoid outputs
        (np.stack([1 - p1, p1], 1), np.stack([1 - q1, q1], 1)),  # softmax outputs
    ]
    diffs = [auc_difference(y, a, b, positive=0, n_boot=50, seed=2)["diff"] for a, b in layouts]
    assert np.allclose(diffs, diffs[0]) and diffs[0] > 0.2


def test_bad_scores_and_settings_are_named():
    with pytest.raises(ValueError, match=r"y_score: expected numeric scores.*dtype <U4"):
        binary_report([0, 1], ["low", "high"])
    with pytest.raises(ValueError, match=r"y_score.*found shape \(2, 2, 2\)"):
        binary_report([0, 1], np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match=r"y_true: expected integer labels.*dtype <U9.*names.index"):
        binary_report(["benign", "malignant"], [0.2, 0.8])
    with pytest.raises(ValueError, match=r"threshold: expected a finite number.*nan"):
        binary_report([0, 1], [0.2, 0.8], threshold=float("nan"))
    with pytest.raises(ValueError, match=r"threshold: expected a finite number.*'0.5'"):
        binary_report([0, 1], [0.2, 0.8], threshold="0.5")
    with pytest.raises(ValueError, match=r"positive: expected the integer label.*0.5"):
        roc_auc([0, 1], [0.2, 0.8], positive=0.5)
    with pytest.raises(ValueError, match=r"num_classes must be an integer >= 2, found True"):
        confusion_matrix([0, 1], [1, 1], num_classes=True)
    with pytest.raises(ValueError, match=r"n_boot: expected an integer >= 1, found 2.5"):
        auc_difference([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8], [0.1, 0.9, 0.2, 0.8], n_boot=2.5)
    with pytest.raises(ValueError, match=r"probs: expected rows with a positive sum, found row 0 sums to 0"):
        predict_grades(np.zeros((3, 4)), rule="expected")
    with pytest.raises(ValueError, match=r"y_true: expected integer labels.*nan at index 2"):
        grading_report(np.array([0, 1, np.nan, 2]), np.full((4, 3), 1 / 3), n_boot=0)
    with pytest.raises(ValueError, match=r"y_true: expected labels in 0\.\.2.*label 3"):
        macro_auc([0, 1, 3], np.full((3, 3), 1 / 3))


def test_case7_two_positives_get_an_honest_interval_and_a_warning():
    y = np.array([1, 1] + [0] * 30)
    s = np.r_[0.9, 0.8, np.linspace(0, 0.4, 30)]
    r = binary_report(y, s, n_boot=200)
    assert r["sensitivity"] == 1.0
    lo, hi = r["ci"]["sensitivity"]
    assert hi == 1.0 and np.isclose(lo, 0.342, atol=1e-3)  # Wilson; the bootstrap said (1.000, 1.000)
    assert r["ci_method"]["sensitivity"] == "wilson" and r["ci_method"]["auc"] == "bootstrap"
    assert any(w.startswith("only 2 positive case(s)") for w in r["warnings"])
    text = format_report(r)
    assert "note: only 2 positive case(s)" in text and "sensitivity 1.000  (95% CI 0.342-1.000)" in text
    assert "| 1.000 (0.342–1.000) |" in reports_table({"tiny": r}, metrics=("sensitivity",))


def test_case7_enough_cases_no_warning_and_undefined_metrics_are_flagged():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    r = binary_report(y, y * 0.5 + 0.5 * rng.random(300), n_boot=0)
    assert r["warnings"] == [] and np.isnan(r["ci"]["auc"]).all() and r["ci"]["accuracy"][0] > 0.5
    none_called = binary_report(y, np.zeros(300), n_boot=0)
    assert np.isnan(none_called["ppv"]) and np.isnan(none_called["ci"]["ppv"]).all()
    assert any("no case is called positive" in w and "ppv" in w for w in none_called["warnings"])
    one_class = binary_report(np.ones(8, int), np.linspace(0, 1, 8), n_boot=20)
    assert np.isnan(one_class["auc"]) and any(w.startswith("no negative case") for w in one_class["warnings"])
