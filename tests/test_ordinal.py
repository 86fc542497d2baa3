"""The cumulative-link head, grade decoding and the grading report, on real RetinaMNIST."""

import keras
import numpy as np
import pytest
from sklearn import metrics as skm

from medimgkit.metrics.grading import expected_grade, format_grading_report, grading_report, predict_grades
from medimgkit.models.ordinal import CumulativeLink, ordinal_cnn

K = 5


@pytest.fixture(scope="module")
def retina(data_folder):
    from medimgkit.data import load_medmnist_splits

    return load_medmnist_splits("retinamnist", 28)


@pytest.fixture(scope="module")
def trained(retina):
    """A tiny ordinal CNN trained for two epochs with medimgkit.train.fit (5 grades; val AUC of grade 0 tracked)."""
    from medimgkit.train import fit, predict_proba

    model, history = fit(
        lambda: ordinal_cnn((28, 28, 3), K, width=8, blocks=2, augment=False),
        retina["train"], retina["val"], epochs=2, positive=0, patience=None, seed=0, balance=False,
    )
    x, y = retina["test"]
    return model, history, y, predict_proba(model, x)


def test_cumulative_link_is_an_ordered_probability_model():
    layer = CumulativeLink(K)
    scores = np.linspace(-4, 4, 9, dtype=np.float32)[:, None]
    probs = keras.ops.convert_to_numpy(layer(scores))
    cuts = keras.ops.convert_to_numpy(layer.cut_points())
    assert probs.shape == (9, K) and np.all(probs >= 0) and np.allclose(probs.sum(axis=1), 1, atol=1e-6)
    assert np.all(np.diff(cuts) > 0) and np.allclose(cuts, [-1.5, -0.5, 0.5, 1.5], atol=1e-3)
    # P(grade <= k) = sigmoid(t_k - s)
    cdf = np.cumsum(probs, axis=1)[:, :-1]
    assert np.allclose(cdf, 1 / (1 + np.exp(-(cuts[None, :] - scores))), atol=1e-6)
    # a higher severity score never lowers the expected grade
    assert np.all(np.diff(expected_grade(probs)) > 0)
    with pytest.raises(ValueError, match="num_classes must be an integer >= 2"):
        CumulativeLink(1)
    with pytest.raises(ValueError, match=r"score of shape \(N, 1\)"):
        CumulativeLink(K)(np.zeros((2, 3), dtype=np.float32))


def test_ordinal_cnn_trains_with_fit_and_round_trips(trained, retina, tmp_path):
    model, history, y, probs = trained
    assert probs.shape == (len(y), K) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    # fit's validation AUC works for 5 classes: grade 0 against the rest
    assert len(history.history["val_auc"]) == 2 and 0.5 < history.history["val_auc"][-1] <= 1
    from medimgkit.metrics import roc_auc
    from medimgkit.train import predict_proba

    xv, yv = retina["val"]
    assert np.isclose(history.history["val_auc"][-1], roc_auc(yv == 0, predict_proba(model, xv)[:, 0], positive=True))
    cuts = keras.ops.convert_to_numpy(model.get_layer("grade_probabilities").cut_points())
    assert np.all(np.diff(cuts) > 0)
    path = tmp_path / "ordinal.keras"
    model.save(path)
    again = keras.models.load_model(path)
    x = np.zeros((2, 28, 28, 3), dtype=np.float32)
    assert np.allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)


def test_decoding_rules():
    probs = np.array([[0.5, 0.0, 0.0, 0.0, 0.5], [0.1, 0.6, 0.3, 0.0, 0.0]])
    assert np.allclose(expected_grade(probs), [2.0, 1.2])
    assert predict_grades(probs, "argmax").tolist() == [0, 1]
    assert predict_grades(probs, "expected").tolist() == [2, 1]
    with pytest.raises(ValueError, match="rule must be one of"):
        predict_grades(probs, "median")
    with pytest.raises(ValueError, match="NaN"):
        expected_grade(np.full((1, 3), np.nan))


def test_grading_report_matches_sklearn(trained):
    _, _, y, probs = trained
    for rule in ("argmax", "expected"):
        r = grading_report(y, probs, rule=rule, n_boot=200, seed=0)
        pred = predict_grades(probs, rule)
        assert np.isclose(r["kappa"], skm.cohen_kappa_score(y, pred, weights="quadratic"))
        assert np.isclose(r["accuracy"], skm.accuracy_score(y, pred))
        assert np.isclose(r["mae"], skm.mean_absolute_error(y, pred))
        assert np.isclose(r["macro_auc"], skm.roc_auc_score(y, probs, multi_class="ovr"))
        assert np.array_equal(r["confusion"], skm.confusion_matrix(y, pred, labels=range(K)))
        for name in ("kappa", "accuracy", "macro_auc", "mae"):
            lo, hi = r["ci"][name]
            assert lo <= r[name] <= hi and hi - lo > 0.01
    assert grading_report(y, probs, n_boot=50, seed=4)["ci"] == grading_report(y, probs, n_boot=50, seed=4)["ci"]
    text = format_grading_report(r)
    assert "kappa" in text and "95% CI" in text and "n = 400" in text


def test_grading_report_bad_input():
    probs = np.full((3, K), 0.2)
    with pytest.raises(ValueError, match="3 entries but probs has 4 rows"):
        grading_report([0, 1, 2], np.full((4, K), 0.2))
    with pytest.raises(ValueError, match="label 7, outside 0..4"):
        grading_report([0, 1, 7], probs)
    with pytest.raises(ValueError, match="n_boot must be an integer >= 0"):
        grading_report([0, 1, 2], probs, n_boot=-1)
