"""Clinical metrics for binary tests, with bootstrap confidence intervals.

The positive class is always explicit. In BreastMNIST label 0 is
*malignant*; the book calls malignant the positive class, so a BreastMNIST
report is ``binary_report(y, p_malignant, positive=0)``.
"""

from __future__ import annotations

import numpy as np

METRICS = ("auc", "accuracy", "sensitivity", "specificity", "ppv", "npv")


def _as_binary(y_true: np.ndarray, y_score: np.ndarray, positive: int) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true).ravel()
    y_score = np.asarray(y_score, dtype=np.float64)
    if y_score.ndim == 2:
        if not 0 <= positive < y_score.shape[1]:
            raise ValueError(f"positive={positive} is not a column of y_score with shape {y_score.shape}")
        y_score = y_score[:, positive]
    y_score = y_score.ravel()
    if len(y_true) != len(y_score):
        raise ValueError(f"y_true has {len(y_true)} entries but y_score has {len(y_score)}")
    if len(y_true) == 0:
        raise ValueError("y_true is empty")
    if not np.all(np.isfinite(y_score)):
        raise ValueError("y_score contains NaN or infinite values")
    labels = set(np.unique(y_true).tolist())
    if len(labels) > 2:
        raise ValueError(f"y_true has {len(labels)} classes {sorted(labels)}; a binary report needs 2")
    return (y_true == positive).astype(np.int8), y_score


def roc_auc(y_true: np.ndarray, y_score: np.ndarray, positive: int = 1) -> float:
    """Area under the ROC curve of ``positive`` vs the rest (ties count half).

    Computed as the Mann-Whitney U statistic. Returns NaN when only one class
    is present.
    """
    pos, score = _as_binary(y_true, y_score, positive)
    n_pos = int(pos.sum())
    n_neg = len(pos) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(score, kind="mergesort")
    sorted_score = score[order]
    ranks = np.empty(len(score), dtype=np.float64)
    # average ranks for ties
    _, first, counts = np.unique(sorted_score, return_index=True, return_counts=True)
    avg = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(avg, counts)
    u = ranks[pos == 1].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))


def roc_curve(y_true: np.ndarray, y_score: np.ndarray, positive: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROC curve points ``(fpr, tpr, thresholds)``, each float64 ``(K,)``.

    A case is called positive when its score is ``>= threshold``; the first
    point is ``(0, 0)`` at threshold ``inf``.
    """
    pos, score = _as_binary(y_true, y_score, positive)
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
    pos, score = _as_binary(y_true, y_score, positive)
    if n_boot < 0:
        raise ValueError(f"n_boot must be >= 0, got {n_boot}")
    point = _point_metrics(pos, score, threshold)
    report: dict = {"auc": roc_auc(pos, score, positive=1)}
    report.update({k: point[k] for k in METRICS if k != "auc"})
    report["confusion"] = np.array(
        [[point["tn"], point["fp"]], [point["fn"], point["tp"]]], dtype=np.int64
    )
    rng = np.random.default_rng(seed)
    samples = {k: np.full(n_boot, np.nan) for k in METRICS}
    n = len(pos)
    for b in range(n_boot):
        idx = rng.integers(0, n, size=n)
        p, s = pos[idx], score[idx]
        samples["auc"][b] = roc_auc(p, s, positive=1)
        m = _point_metrics(p, s, threshold)
        for k in METRICS[1:]:
            samples[k][b] = m[k]
    ci = {}
    for k in METRICS:
        finite = samples[k][np.isfinite(samples[k])]
        ci[k] = (
            (float(np.percentile(finite, 2.5)), float(np.percentile(finite, 97.5)))
            if len(finite)
            else (float("nan"), float("nan"))
        )
    report["ci"] = ci
    report.update(positive=positive, threshold=threshold, n=n, n_positive=int(pos.sum()))
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
    head = "| model | " + " | ".join(metrics) + " |"
    rule = "|---|" + "---|" * len(metrics)
    rows = []
    for name, r in reports.items():
        cells = [f"{r[m]:.{digits}f} ({r['ci'][m][0]:.{digits}f}–{r['ci'][m][1]:.{digits}f})" for m in metrics]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join([head, rule, *rows])
