"""Clinical metrics, cross-checked against scikit-learn on real model scores."""

import numpy as np
import pytest
from sklearn import metrics as skm

from medimgkit.metrics import binary_report, format_report, reports_table, roc_auc, roc_curve


@pytest.fixture(scope="module")
def scores(trained_cnn, breast):
    from medimgkit.train import predict_proba

    model, _ = trained_cnn
    x, y = breast["test"]
    return y, predict_proba(model, x)


def test_auc_matches_sklearn_for_either_positive(scores):
    y, p = scores
    assert np.isclose(roc_auc(y, p[:, 0], positive=0), skm.roc_auc_score(y == 0, p[:, 0]))
    assert np.isclose(roc_auc(y, p[:, 1], positive=1), skm.roc_auc_score(y == 1, p[:, 1]))


def test_auc_with_ties_and_single_class():
    y = np.array([0, 0, 1, 1, 1])
    s = np.array([0.2, 0.5, 0.5, 0.5, 0.9])
    assert np.isclose(roc_auc(y, s), skm.roc_auc_score(y, s))
    assert np.isnan(roc_auc(np.ones(4), np.arange(4.0)))


def test_roc_curve_matches_sklearn(scores):
    y, p = scores
    fpr, tpr, thr = roc_curve(y, p, positive=0)
    sk_fpr, sk_tpr, _ = skm.roc_curve(y == 0, p[:, 0], drop_intermediate=False)
    assert np.allclose(fpr, sk_fpr) and np.allclose(tpr, sk_tpr)
    assert np.isclose(np.trapezoid(tpr, fpr), roc_auc(y, p, positive=0))


def test_binary_report_matches_sklearn(scores):
    y, p = scores
    r = binary_report(y, p, positive=0, threshold=0.5, n_boot=200)
    pred_malignant = p[:, 0] >= 0.5
    tn, fp, fn, tp = skm.confusion_matrix(y == 0, pred_malignant, labels=[False, True]).ravel()
    assert r["confusion"].tolist() == [[tn, fp], [fn, tp]]
    assert np.isclose(r["sensitivity"], skm.recall_score(y == 0, pred_malignant))
    assert np.isclose(r["specificity"], tn / (tn + fp))
    assert np.isclose(r["accuracy"], skm.accuracy_score(y == 0, pred_malignant))
    if tp + fp:
        assert np.isclose(r["ppv"], skm.precision_score(y == 0, pred_malignant))
    assert r["positive"] == 0 and r["n"] == 156 and r["n_positive"] == 42
    for name in ("auc", "accuracy", "sensitivity", "specificity"):
        lo, hi = r["ci"][name]
        assert lo <= r[name] <= hi
    assert r["ci"]["auc"][1] - r["ci"]["auc"][0] > 0.02


def test_bootstrap_ci_narrows_with_more_cases():
    rng = np.random.default_rng(0)
    widths = []
    for n in (50, 2000):
        y = rng.integers(0, 2, n)
        s = y * 0.3 + rng.random(n)
        r = binary_report(y, s, n_boot=300, seed=1)
        widths.append(r["ci"]["auc"][1] - r["ci"]["auc"][0])
    assert widths[1] < widths[0] / 3


def test_report_is_seeded():
    y = np.array([0, 1] * 20)
    s = np.linspace(0, 1, 40)
    assert binary_report(y, s, seed=3)["ci"] == binary_report(y, s, seed=3)["ci"]


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="3 entries but y_score has 2"):
        binary_report([0, 1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="3 classes"):
        binary_report([0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="NaN"):
        roc_auc([0, 1], [np.nan, 0.2])
    with pytest.raises(ValueError, match="positive=2"):
        binary_report([0, 1], np.eye(2), positive=2)


def test_text_and_table(scores):
    y, p = scores
    r = binary_report(y, p, positive=0, n_boot=50)
    text = format_report(r)
    assert "sensitivity" in text and "95% CI" in text and "positive class = 0" in text
    table = reports_table({"cnn": r})
    assert table.splitlines()[0].startswith("| model | auc") and "| cnn |" in table
