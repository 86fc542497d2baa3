"""Clinical metrics with bootstrap confidence intervals: binary tests and graded scales.

The positive class is always explicit. In BreastMNIST label 0 is
*malignant*; the book calls malignant the positive class, so a BreastMNIST
report is ``binary_report(y, p_malignant, positive=0)``. For ordered grades
(e.g. diabetic retinopathy 0-4) see ``confusion_matrix``,
``quadratic_weighted_kappa`` and ``macro_auc``; ``medimgkit.ordinal`` builds a
full report from them.
"""

from __future__ import annotations

from collections.abc import Callable

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

    report["ci"] = _bootstrap_ci(resampled, len(pos), METRICS, n_boot, seed)
    report.update(positive=positive, threshold=threshold, n=len(pos), n_positive=int(pos.sum()))
    return report


def _bootstrap_ci(
    statistics: Callable[[np.ndarray], dict[str, float]],
    n: int,
    names: tuple[str, ...],
    n_boot: int,
    seed: int,
) -> dict[str, tuple[float, float]]:
    """95 % percentile-bootstrap CIs of ``statistics(idx)`` over cases resampled with replacement.

    ``statistics`` maps an int index array ``(n,)`` to a dict holding every
    name in ``names``; NaN resamples (e.g. a class missing) are left out.
    """
    if n_boot < 0:
        raise ValueError(f"n_boot must be >= 0, got {n_boot}")
    rng = np.random.default_rng(seed)
    samples = {k: np.full(n_boot, np.nan) for k in names}
    for b in range(n_boot):
        values = statistics(rng.integers(0, n, size=n))
        for k in names:
            samples[k][b] = values[k]
    ci = {}
    for k in names:
        finite = samples[k][np.isfinite(samples[k])]
        ci[k] = (
            (float(np.percentile(finite, 2.5)), float(np.percentile(finite, 97.5)))
            if len(finite)
            else (float("nan"), float("nan"))
        )
    return ci


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


def _as_labels(y: np.ndarray, n_classes: int, name: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]  # MedMNIST stores labels as (N, 1)
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D labels (N,), got shape {y.shape}")
    if len(y) == 0:
        raise ValueError(f"{name} is empty")
    if not np.issubdtype(y.dtype, np.integer):
        if not (np.issubdtype(y.dtype, np.floating) and np.all(y == np.round(y))):
            raise ValueError(f"{name} must hold integer labels, got dtype {y.dtype} with values like {y[:3]}")
    y = y.astype(np.int64)
    bad = y[(y < 0) | (y >= n_classes)]
    if len(bad):
        raise ValueError(f"{name} holds label {int(bad[0])}, outside 0..{n_classes - 1} (n_classes={n_classes})")
    return y


def _check_pair(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(n_classes, (int, np.integer)) or n_classes < 2:
        raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}")
    t, p = _as_labels(y_true, n_classes, "y_true"), _as_labels(y_pred, n_classes, "y_pred")
    if len(t) != len(p):
        raise ValueError(f"y_true has {len(t)} entries but y_pred has {len(p)}")
    return t, p


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts of (true, predicted) label pairs: int64 ``(K, K)``, rows = truth, columns = prediction.

    ``y_true`` and ``y_pred`` are int labels ``(N,)`` in ``0..n_classes - 1``;
    a class that never occurs still gets its row and column of zeros.
    """
    t, p = _check_pair(y_true, y_pred, n_classes)
    return np.bincount(t * n_classes + p, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def quadratic_weighted_kappa(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> float:
    """Cohen's kappa with quadratic weights, the usual agreement score for ordered grades.

    ``kappa = 1 - sum(w * O) / sum(w * E)`` with ``w_ij = (i - j)**2 / (K - 1)**2``,
    ``O`` the confusion matrix and ``E`` the counts expected by chance
    (outer product of its row and column sums over N). 1 is perfect
    agreement, 0 is chance level, negative is worse than chance; missing a
    grade by two costs four times as much as missing it by one.

    Parameters
    ----------
    y_true, y_pred : int arrays (N,)
        Grades in ``0..n_classes - 1``.
    n_classes : int
        Number of grades K (>= 2); sets the weights' scale.

    Returns
    -------
    float; NaN when chance agreement is already perfect (all truths and
    predictions in one grade), where kappa is undefined.
    """
    t, p = _check_pair(y_true, y_pred, n_classes)
    observed = confusion_matrix(t, p, n_classes).astype(np.float64)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / len(t)
    grades = np.arange(n_classes)
    weights = (grades[:, None] - grades[None, :]) ** 2 / (n_classes - 1) ** 2
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
    probs = np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[1] < 2:
        raise ValueError(f"probs must be (N, K) with K >= 2 classes, got shape {probs.shape}")
    t = _as_labels(y_true, probs.shape[1], "y_true")
    if len(t) != len(probs):
        raise ValueError(f"y_true has {len(t)} entries but probs has {len(probs)} rows")
    if not np.all(np.isfinite(probs)):
        raise ValueError("probs contains NaN or infinite values")
    return float(np.mean([roc_auc((t == k).astype(np.int8), probs[:, k], positive=1) for k in range(probs.shape[1])]))
