"""Clinical metrics with bootstrap confidence intervals: binary tests and graded scales.

The positive class is always explicit. In BreastMNIST label 0 is
*malignant*; the book calls malignant the positive class, so a BreastMNIST
report is ``binary_report(y, p_malignant, positive=0)``. For ordered grades
(e.g. diabetic retinopathy 0-4) see ``confusion_matrix``,
``quadratic_weighted_kappa``, ``macro_auc`` and ``grading_report`` in
``medimgkit.metrics.grading``.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from medimgkit._text import markdown_table
from medimgkit.metrics._bootstrap import bootstrap_ci
from medimgkit.metrics._validation import as_binary

METRICS = ("auc", "accuracy", "sensitivity", "specificity", "ppv", "npv")


def roc_auc(y_true: np.ndarray, y_score: np.ndarray, positive: int = 1) -> float:
    """Area under the ROC curve of ``positive`` vs the rest (ties count half).

    Computed as the Mann-Whitney U statistic. Returns NaN when only one class
    is present.
    """
    pos, score = as_binary(y_true, y_score, positive)
    n_pos = int(pos.sum())
    n_neg = len(pos) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(score)  # average ranks: ties count half
    u = ranks[pos == 1].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def roc_curve(y_true: np.ndarray, y_score: np.ndarray, positive: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROC curve points ``(fpr, tpr, thresholds)``, each float64 ``(K,)``.

    A case is called positive when its score is ``>= threshold``; the first
    point is ``(0, 0)`` at threshold ``inf``.
    """
    pos, score = as_binary(y_true, y_score, positive)
    order = np.argsort(-score, kind="mergesort")
    score, pos = score[order], pos[order]
    last = np.r_[np.flatnonzero(np.diff(score)), len(score) - 1]  # last index of each distinct score
    tp = np.cumsum(pos)[last].astype(np.float64)
    fp = np.cumsum(1 - pos)[last].astype(np.float64)
    n_pos, n_neg = max(tp[-1], 1.0), max(fp[-1], 1.0)
    return (
        np.concatenate([[0.0], fp / n_neg]),
        np.concatenate([[0.0], tp / n_pos]),
        np.concatenate([[np.inf], score[last]]),
    )


def _point_metrics(pos: np.ndarray, score: np.ndarray, threshold: float) -> dict[str, float]:
    pred = score >= threshold
    tp = float(np.sum(pred & (pos == 1)))
    tn = float(np.sum(~pred & (pos == 0)))
    fp = float(np.sum(pred & (pos == 0)))
    fn = float(np.sum(~pred & (pos == 1)))

    def ratio(a: float, b: float) -> float:
        return a / b if b > 0 else float("nan")

    return {
        "accuracy": ratio(tp + tn, tp + tn + fp + fn),
        "sensitivity": ratio(tp, tp + fn),
        "specificity": ratio(tn, tn + fp),
        "ppv": ratio(tp, tp + fp),
        "npv": ratio(tn, tn + fn),
        "tp": tp,
        "fp": fp,
        "tn": tn,
        "fn": fn,
    }


def binary_report(
    y_true: np.ndarray,
    y_score: np.ndarray,
    positive: int = 1,
    threshold: float = 0.5,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict:
    """Sensitivity, specificity, PPV, NPV, accuracy and AUC with 95 % bootstrap CIs.

    Parameters
    ----------
    y_true : int array (N,)
        True labels (two classes).
    y_score : float array (N,) or (N, C)
        Score or probability of the *positive* class; with a 2-D array of class
        probabilities, the column ``positive`` is used.
    positive : int
        The label of the positive class (the disease). BreastMNIST: 0 = malignant.
    threshold : float
        A case is called positive when its score is ``>= threshold``.
    n_boot : int
        Bootstrap resamples (cases drawn with replacement) for the CIs; 0 skips them.
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    dict with
        ``auc``, ``accuracy``, ``sensitivity``, ``specificity``, ``ppv``, ``npv`` : float
        ``ci`` : dict mapping each of those names to ``(low, high)``, the 2.5th
        and 97.5th bootstrap percentiles (NaN when ``n_boot == 0``)
        ``confusion`` : int array (2, 2), rows = truth, columns = prediction,
        order ``[negative, positive]``: ``[[TN, FP], [FN, TP]]``
        ``positive``, ``threshold``, ``n``, ``n_positive`` : the settings and counts
    """
    pos, score = as_binary(y_true, y_score, positive)
    point = _point_metrics(pos, score, threshold)
    report: dict = {"auc": roc_auc(pos, score, positive=1)}
    report.update({k: point[k] for k in METRICS if k != "auc"})
    report["confusion"] = np.array(
        [[point["tn"], point["fp"]], [point["fn"], point["tp"]]], dtype=np.int64
    )

    def resampled(idx: np.ndarray) -> dict[str, float]:
        m = _point_metrics(pos[idx], score[idx], threshold)
        m["auc"] = roc_auc(pos[idx], score[idx], positive=1)
        return m

    report["ci"] = bootstrap_ci(resampled, len(pos), METRICS, n_boot, seed)
    report.update(positive=positive, threshold=threshold, n=len(pos), n_positive=int(pos.sum()))
    return report


def format_report(report: dict, digits: int = 3) -> str:
    """One line per metric: ``sensitivity  0.857  (95% CI 0.741-0.952)``."""
    lines = [
        f"positive class = {report['positive']}, threshold = {report['threshold']}, "
        f"n = {report['n']} ({report['n_positive']} positive)"
    ]
    for k in METRICS:
        lo, hi = report["ci"][k]
        lines.append(f"{k:<12}{report[k]:.{digits}f}  (95% CI {lo:.{digits}f}-{hi:.{digits}f})")
    return "\n".join(lines)


def reports_table(reports: dict[str, dict], metrics: tuple[str, ...] = METRICS, digits: int = 3) -> str:
    """A Markdown table comparing several reports, one row per model, with CIs."""
    rows = [
        [name] + [f"{r[m]:.{digits}f} ({r['ci'][m][0]:.{digits}f}–{r['ci'][m][1]:.{digits}f})" for m in metrics]
        for name, r in reports.items()
    ]
    return markdown_table(["model", *metrics], rows)
