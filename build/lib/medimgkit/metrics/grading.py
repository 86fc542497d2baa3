"""Metrics for ordered grades (e.g. diabetic retinopathy 0-4): confusion matrix, weighted kappa, macro AUC."""

from __future__ import annotations

import numpy as np

from medimgkit._deprecation import renamed_kwargs
from medimgkit.metrics._auc import mann_whitney_auc
from medimgkit.metrics._bootstrap import bootstrap_ci
from medimgkit.metrics._validation import in_range, labels, pair, probabilities

GRADING_METRICS = ("kappa", "accuracy", "macro_auc", "mae")
RULES = ("argmax", "expected")


@renamed_kwargs(n_classes="num_classes")
def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts of (true, predicted) label pairs: int64 ``(K, K)``, rows = truth, columns = prediction.

    ``y_true`` and ``y_pred`` are int labels ``(N,)`` in ``0..num_classes - 1``;
    a class that never occurs still gets its row and column of zeros.
    """
    t, p = pair(y_true, y_pred, num_classes)
    return np.bincount(t * num_classes + p, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


@renamed_kwargs(n_classes="num_classes")
def quadratic_weighted_kappa(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> float:
    """Cohen's kappa with quadratic weights, the usual agreement score for ordered grades.

    ``kappa = 1 - sum(w * O) / sum(w * E)`` with ``w_ij = (i - j)**2 / (K - 1)**2``,
    ``O`` the confusion matrix and ``E`` the counts expected by chance
    (outer product of its row and column sums over N). 1 is perfect
    agreement, 0 is chance level, negative is worse than chance; missing a
    grade by two costs four times as much as missing it by one.

    Parameters
    ----------
    y_true, y_pred : int arrays (N,)
        Grades in ``0..num_classes - 1``.
    num_classes : int
        Number of grades K (>= 2); sets the weights' scale.

    Returns
    -------
    float; NaN when chance agreement is already perfect (all truths and
    predictions in one grade), where kappa is undefined.
    """
    t, p = pair(y_true, y_pred, num_classes)
    observed = confusion_matrix(t, p, num_classes).astype(np.float64)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / len(t)
    grades = np.arange(num_classes)
    weights = (grades[:, None] - grades[None, :]) ** 2 / (num_classes - 1) ** 2
    chance = float(np.sum(weights * expected))
    if chance == 0:
        return float("nan")
    return float(1.0 - np.sum(weights * observed) / chance)


def macro_auc(y_true: np.ndarray, probs: np.ndarray) -> float:
    """One-vs-rest ROC AUC of each class, averaged over classes (the MedMNIST multi-class AUC).

    Parameters
    ----------
    y_true : int array (N,)
        Labels in ``0..K - 1``.
    probs : float array (N, K)
        Class probabilities (or scores); column k scores class k.

    Returns
    -------
    float; NaN when some class is absent from ``y_true`` (its AUC is undefined).
    """
    probs = probabilities(probs)
    t = _truth(y_true, probs)
    return _macro_auc(t, probs)


def _macro_auc(t: np.ndarray, probs: np.ndarray) -> float:
    return float(np.mean([mann_whitney_auc((t == k).astype(np.int8), probs[:, k]) for k in range(probs.shape[1])]))


def _truth(y_true, probs: np.ndarray) -> np.ndarray:
    t = in_range(labels(y_true, "y_true"), probs.shape[1], "y_true")
    if len(t) != len(probs):
        raise ValueError(f"y_true has {len(t)} entries but probs has {len(probs)} rows; expected one row per case")
    return t


def expected_grade(probs: np.ndarray) -> np.ndarray:
    """The mean grade under each row's probabilities, ``sum_k k p_k / sum_k p_k``: float64 ``(N,)``.

    ``probs`` must be probabilities (>= 0, rows with a positive sum): the
    mean of logits means nothing.
    """
    probs = probabilities(probs, normalisable=True)
    return probs @ np.arange(probs.shape[1]) / probs.sum(axis=1)


def predict_grades(probs: np.ndarray, rule: str = "argmax") -> np.ndarray:
    """One grade per case from probabilities ``(N, K)``: int64 ``(N,)``.

    ``rule="argmax"`` takes the most probable grade (what accuracy rewards;
    MedMNIST's ACC); ``"expected"`` rounds the expected grade, which avoids
    far-off grades and so tends to suit quadratic-weighted kappa.
    """
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, found {rule!r}")
    probs = probabilities(probs, normalisable=rule == "expected")
    if rule == "argmax":
        return np.argmax(probs, axis=1).astype(np.int64)
    return np.clip(np.rint(expected_grade(probs)), 0, probs.shape[1] - 1).astype(np.int64)


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
        ``rule``, ``n``, ``num_classes``
    """
    probs = probabilities(probs, normalisable=rule == "expected")
    k = probs.shape[1]
    truth = _truth(y_true, probs)
    pred = predict_grades(probs, rule)

    def statistics(idx: np.ndarray) -> dict[str, float]:
        t, p = truth[idx], pred[idx]
        return {
            "kappa": quadratic_weighted_kappa(t, p, k),
            "accuracy": float(np.mean(t == p)),
            "macro_auc": _macro_auc(t, probs[idx]),
            "mae": float(np.mean(np.abs(t - p))),
        }

    report = statistics(np.arange(len(truth)))
    report["ci"] = bootstrap_ci(statistics, len(truth), GRADING_METRICS, n_boot, seed)
    report.update(confusion=confusion_matrix(truth, pred, k), rule=rule, n=len(truth), num_classes=k)
    return report


def format_grading_report(report: dict, digits: int = 3) -> str:
    """One line per metric: ``kappa       0.612  (95% CI 0.541-0.676)``."""
    lines = [f"grades 0..{report['num_classes'] - 1}, rule = {report['rule']}, n = {report['n']}"]
    for name in GRADING_METRICS:
        lo, hi = report["ci"][name]
        lines.append(f"{name:<10}{report[name]:.{digits}f}  (95% CI {lo:.{digits}f}-{hi:.{digits}f})")
    return "\n".join(lines)
