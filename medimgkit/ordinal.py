"""Ordered grades (e.g. diabetic retinopathy 0-4): a cumulative-link head and a grading report.

A softmax classifier treats grade 4 as no closer to grade 3 than to grade 0.
The cumulative-link (proportional-odds) head of McCullagh (J. R. Stat. Soc. B,
1980) knows the order: the network outputs one severity score ``s`` and the
head learns ordered cut points ``t_0 < ... < t_{K-2}``, with

    P(grade <= k) = sigmoid(t_k - s),

so the class probabilities are differences of neighbouring cumulative
probabilities. The output is still ``(N, K)`` probabilities, so
``medimgkit.train.fit`` (sparse cross-entropy) trains it unchanged, and the
loss is then exactly the model's negative log-likelihood.
"""

from __future__ import annotations

import keras
import numpy as np

from medimgkit.metrics import (
    _as_labels,
    _bootstrap_ci,
    confusion_matrix,
    macro_auc,
    quadratic_weighted_kappa,
)
from medimgkit.models import improved_cnn

GRADING_METRICS = ("kappa", "accuracy", "macro_auc", "mae")
RULES = ("argmax", "expected")


@keras.saving.register_keras_serializable(package="medimgkit")
class CumulativeLink(keras.layers.Layer):
    """Severity score ``(N, 1)`` -> probabilities of ``num_classes`` ordered grades ``(N, K)``.

    The cut points are ``t_0`` plus cumulative sums of softplus gaps, so they
    stay ordered; they start 1 apart and centred on 0.
    """

    def __init__(self, num_classes: int, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
            raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
        self.num_classes = int(num_classes)

    def build(self, input_shape):
        if input_shape[-1] != 1:
            raise ValueError(f"CumulativeLink expects a score of shape (N, 1), got {tuple(input_shape)}")
        k = self.num_classes
        self.first = self.add_weight(
            shape=(1,), initializer=keras.initializers.Constant(-(k - 2) / 2), name="first_cut"
        )
        # softplus(0.5413) = 1: neighbouring cut points start one logit apart
        self.gaps = self.add_weight(
            shape=(k - 2,), initializer=keras.initializers.Constant(0.5413), name="gaps"
        )

    def cut_points(self):
        """The ordered cut points ``(K - 1,)``."""
        ops = keras.ops
        steps = ops.concatenate([ops.zeros((1,)), ops.cumsum(ops.softplus(self.gaps))])
        return self.first + steps

    def call(self, score):
        ops = keras.ops
        cdf = ops.sigmoid(self.cut_points()[None, :] - score)  # (N, K-1): P(grade <= k)
        n = ops.shape(score)[0]
        lower = ops.concatenate([ops.zeros((n, 1), dtype=cdf.dtype), cdf], axis=1)
        upper = ops.concatenate([cdf, ops.ones((n, 1), dtype=cdf.dtype)], axis=1)
        return ops.maximum(upper - lower, 0.0)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_classes)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}


def ordinal_cnn(input_shape: tuple[int, int, int] = (28, 28, 3), num_classes: int = 5, **kwargs) -> keras.Model:
    """``improved_cnn``'s body with a cumulative-link head instead of softmax.

    ``kwargs`` go to ``medimgkit.models.improved_cnn`` (width, blocks, dropout,
    augment, seed). Output: probabilities of the ``num_classes`` ordered
    grades, float32 ``(N, K)``; the layer ``severity`` gives the score ``s``.
    """
    base = improved_cnn(input_shape, num_classes, **kwargs)
    features = base.get_layer("dropout").output
    score = keras.layers.Dense(1, name="severity")(features)
    probs = CumulativeLink(num_classes, name="grade_probabilities")(score)
    return keras.Model(base.inputs, probs, name="ordinal_cnn")


def _check_probs(probs: np.ndarray) -> np.ndarray:
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[1] < 2:
        raise ValueError(f"probs must be (N, K) with K >= 2 grades, got shape {probs.shape}")
    if not np.all(np.isfinite(probs)):
        raise ValueError("probs contains NaN or infinite values")
    return probs


def expected_grade(probs: np.ndarray) -> np.ndarray:
    """The mean grade under each row's probabilities, ``sum_k k p_k``: float64 ``(N,)``."""
    probs = _check_probs(probs)
    return probs @ np.arange(probs.shape[1]) / probs.sum(axis=1)


def predict_grades(probs: np.ndarray, rule: str = "argmax") -> np.ndarray:
    """One grade per case from probabilities ``(N, K)``: int64 ``(N,)``.

    ``rule="argmax"`` takes the most probable grade (what accuracy rewards;
    MedMNIST's ACC); ``"expected"`` rounds the expected grade, which avoids
    far-off grades and so tends to suit quadratic-weighted kappa.
    """
    probs = _check_probs(probs)
    if rule == "argmax":
        return np.argmax(probs, axis=1).astype(np.int64)
    if rule == "expected":
        return np.clip(np.rint(expected_grade(probs)), 0, probs.shape[1] - 1).astype(np.int64)
    raise ValueError(f"rule must be one of {RULES}, got {rule!r}")


def grading_report(
    y_true: np.ndarray, probs: np.ndarray, rule: str = "argmax", n_boot: int = 1000, seed: int = 0
) -> dict:
    """Agreement of predicted grades with the truth, with 95 % bootstrap CIs.

    Parameters
    ----------
    y_true : int array (N,)
        True grades in ``0..K - 1``.
    probs : float array (N, K)
        Predicted grade probabilities.
    rule : "argmax" or "expected"
        How ``predict_grades`` turns probabilities into one grade.
    n_boot, seed : bootstrap resamples of cases (0 skips the CIs) and its seed.

    Returns
    -------
    dict with
        ``kappa`` : quadratic-weighted kappa of the predicted grades
        ``accuracy`` : fraction of exactly right grades
        ``macro_auc`` : one-vs-rest AUC averaged over grades, from ``probs``
        ``mae`` : mean absolute error in grades
        ``ci`` : ``{name: (low, high)}`` 2.5th and 97.5th bootstrap percentiles
        ``confusion`` : int64 ``(K, K)``, rows = truth, columns = prediction
        ``rule``, ``n``, ``n_classes``
    """
    probs = _check_probs(probs)
    k = probs.shape[1]
    truth = _as_labels(y_true, k, "y_true")
    if len(truth) != len(probs):
        raise ValueError(f"y_true has {len(truth)} entries but probs has {len(probs)} rows")
    pred = predict_grades(probs, rule)

    def statistics(idx: np.ndarray) -> dict[str, float]:
        t, p = truth[idx], pred[idx]
        return {
            "kappa": quadratic_weighted_kappa(t, p, k),
            "accuracy": float(np.mean(t == p)),
            "macro_auc": macro_auc(t, probs[idx]),
            "mae": float(np.mean(np.abs(t - p))),
        }

    report = statistics(np.arange(len(truth)))
    report["ci"] = _bootstrap_ci(statistics, len(truth), GRADING_METRICS, n_boot, seed)
    report.update(confusion=confusion_matrix(truth, pred, k), rule=rule, n=len(truth), n_classes=k)
    return report


def format_grading_report(report: dict, digits: int = 3) -> str:
    """One line per metric: ``kappa       0.612  (95% CI 0.541-0.676)``."""
    lines = [f"grades 0..{report['n_classes'] - 1}, rule = {report['rule']}, n = {report['n']}"]
    for name in GRADING_METRICS:
        lo, hi = report["ci"][name]
        lines.append(f"{name:<10}{report[name]:.{digits}f}  (95% CI {lo:.{digits}f}-{hi:.{digits}f})")
    return "\n".join(lines)
