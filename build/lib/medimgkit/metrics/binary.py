"""Clinical metrics of binary tests with 95 % confidence intervals (Wilson for proportions, bootstrap for AUC).

The positive class is always explicit. In BreastMNIST label 0 is
*malignant*; the book calls malignant the positive class, so a BreastMNIST
report is ``binary_report(y, p_malignant, positive=0)``. For ordered grades
(e.g. diabetic retinopathy 0-4) see ``confusion_matrix``,
``quadratic_weighted_kappa``, ``macro_auc`` and ``grading_report`` in
``medimgkit.metrics.grading``.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from medimgkit._text import markdown_table
from medimgkit.metrics._auc import mann_whitney_auc
from medimgkit.metrics._bootstrap import bootstrap_ci
from medimgkit.metrics._validation import binary as check_binary
from medimgkit.metrics._validation import threshold as check_threshold

METRICS = ("auc", "accuracy", "sensitivity", "specificity", "ppv", "npv")
PROPORTIONS = ("accuracy", "sensitivity", "specificity", "ppv", "npv")

#: Fewer cases than this in a class (or among the cases called positive or
#: negative) add a warning to a report: its proportions rest on a handful of cases.
MIN_CASES = 5


def roc_auc(y_true: np.ndarray, y_score: np.ndarray, positive: int = 1) -> float:
    """Area under the ROC curve of ``positive`` vs the other label (ties count half).

    Computed as the Mann-Whitney U statistic. ``y_score`` is read as in
    :func:`binary_report`: ``(N,)`` scores of the positive class, a ``(N, 1)``
    sigmoid output (the probability of label 1), or class probabilities
    ``(N, C)``, of which column ``positive`` is used.

    Returns NaN when ``y_true`` holds only the positive class. A ``positive``
    that does not occur in ``y_true`` is an error.
    """
    pos, score = check_binary(y_true, y_score, positive)
    return mann_whitney_auc(pos, score)


def roc_curve(y_true: np.ndarray, y_score: np.ndarray, positive: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROC curve points ``(fpr, tpr, thresholds)``, each float64 ``(K,)``.

    A case is called positive when its score is ``>= threshold``; the first
    point is ``(0, 0)`` at threshold ``inf``. ``y_score`` is read as in
    :func:`binary_report`.
    """
    pos, score = check_binary(y_true, y_score, positive)
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


def wilson_interval(successes: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``successes / n`` (Wilson, JASA 1927).

    Unlike the bootstrap, which gives (1.000, 1.000) for two out of two, it
    stays honest with few cases and at 0 % or 100 %: 2/2 gives (0.342, 1.000).
    ``(nan, nan)`` when ``n == 0``.
    """
    if n <= 0:
        return (float("nan"), float("nan"))
    z = float(norm.ppf(0.5 + level / 2))
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    lo = 0.0 if successes <= 0 else max(0.0, centre - half)
    hi = 1.0 if successes >= n else min(1.0, centre + half)
    return (float(lo), float(hi))


def _counts(pos: np.ndarray, score: np.ndarray, threshold: float) -> dict[str, float]:
    pred = score >= threshold
    return {
        "tp": float(np.sum(pred & (pos == 1))),
        "tn": float(np.sum(~pred & (pos == 0))),
        "fp": float(np.sum(pred & (pos == 0))),
        "fn": float(np.sum(~pred & (pos == 1))),
    }


def _fractions(c: dict[str, float]) -> dict[str, tuple[float, float]]:
    """Each proportion as (numerator, denominator)."""
    tp, tn, fp, fn = c["tp"], c["tn"], c["fp"], c["fn"]
    return {
        "accuracy": (tp + tn, tp + tn + fp + fn),
        "sensitivity": (tp, tp + fn),
        "specificity": (tn, tn + fp),
        "ppv": (tp, tp + fp),
        "npv": (tn, tn + fn),
    }


def _warnings(c: dict[str, float], threshold: float) -> list[str]:
    n_pos, n_neg = int(c["tp"] + c["fn"]), int(c["tn"] + c["fp"])
    called_pos, called_neg = int(c["tp"] + c["fp"]), int(c["tn"] + c["fn"])
    notes = []
    for count, kind, depends in ((n_pos, "positive", "sensitivity and AUC"), (n_neg, "negative", "specificity and AUC")):
        if count == 0:
            notes.append(f"no {kind} case: {depends} are undefined (NaN)")
        elif count < MIN_CASES:
            notes.append(f"only {count} {kind} case(s): {depends} rest on them; read the intervals, not the values")
    for count, called, metric in ((called_pos, "positive", "ppv"), (called_neg, "negative", "npv")):
        if count == 0:
            notes.append(f"no case is called {called} at threshold {threshold:g}: {metric} is undefined (NaN)")
        elif count < MIN_CASES:
            notes.append(f"only {count} case(s) called {called} at threshold {threshold:g}: {metric} rests on them")
    return notes


def binary_report(
    y_true: np.ndarray,
    y_score: np.ndarray,
    positive: int = 1,
    threshold: float = 0.5,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict:
    """Sensitivity, specificity, PPV, NPV, accuracy and AUC with 95 % confidence intervals.

    Parameters
    ----------
    y_true : int array (N,) or (N, 1)
        True labels (two classes); ``positive`` must be one of them.
    y_score : float array (N,), (N, 1) or (N, C)
        How the scores are read:

        * ``(N,)``: the score or probability of the **positive** class
          (BreastMNIST: ``p[:, 0]``, the probability of malignant);
        * ``(N, 1)``, what ``model.predict`` gives for a one-unit sigmoid
          output: the probability of **label 1**, so labels must be 0 and 1;
          with ``positive=0`` the score used is ``1 - p``;
        * ``(N, C)``, class probabilities (a softmax output): column ``positive``.
    positive : int
        The label of the positive class (the disease). BreastMNIST: 0 = malignant.
    threshold : float
        A case is called positive when its score is ``>= threshold``.
    n_boot : int
        Bootstrap resamples (cases drawn with replacement) for the AUC's
        interval; 0 skips it (NaN).
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    dict with
        ``auc``, ``accuracy``, ``sensitivity``, ``specificity``, ``ppv``, ``npv`` : float
        ``ci`` : dict mapping each of those names to ``(low, high)``. The
        proportions get **Wilson score intervals** (:func:`wilson_interval`),
        which stay honest with few cases (two positives out of two give
        0.342-1.000, where the bootstrap claims 1.000-1.000); the AUC gets the
        2.5th and 97.5th percentiles of ``n_boot`` bootstrap resamples.
        ``ci_method`` : which interval each metric got
        ``warnings`` : list of str, one per class (or group of cases called
        positive/negative) with fewer than ``MIN_CASES`` cases, or none:
        e.g. ``"only 2 positive case(s): ..."``. ``format_report`` prints them.
        ``confusion`` : int array (2, 2), rows = truth, columns = prediction,
        order ``[negative, positive]``: ``[[TN, FP], [FN, TP]]``
        ``positive``, ``threshold``, ``n``, ``n_positive`` : the settings and counts
    """
    pos, score = check_binary(y_true, y_score, positive)
    threshold = check_threshold(threshold)
    counts = _counts(pos, score, threshold)
    report: dict = {"auc": mann_whitney_auc(pos, score)}
    ci: dict = {}
    for name, (k, n) in _fractions(counts).items():
        report[name] = k / n if n > 0 else float("nan")
        ci[name] = wilson_interval(int(k), int(n))
    report = {m: report[m] for m in METRICS}
    report["confusion"] = np.array(
        [[counts["tn"], counts["fp"]], [counts["fn"], counts["tp"]]], dtype=np.int64
    )
    if n_boot:
        ci["auc"] = bootstrap_ci(lambda idx: {"auc": mann_whitney_auc(pos[idx], score[idx])}, len(pos), ["auc"],
                                 n_boot, seed)["auc"]
    else:
        ci["auc"] = (float("nan"), float("nan"))
    report["ci"] = {m: ci[m] for m in METRICS}
    report["ci_method"] = {m: ("bootstrap" if m == "auc" else "wilson") for m in METRICS}
    report["warnings"] = _warnings(counts, threshold)
    report.update(positive=int(positive), threshold=threshold, n=len(pos), n_positive=int(pos.sum()),
                  n_boot=int(n_boot))
    return report


def format_report(report: dict, digits: int = 3) -> str:
    """One line per metric: ``sensitivity  0.857  (95% CI 0.741-0.952)``, then the report's warnings.

    The proportions' intervals are Wilson score intervals, the AUC's a
    percentile bootstrap (see :func:`binary_report`).
    """
    lines = [
        f"positive class = {report['positive']}, threshold = {report['threshold']}, "
        f"n = {report['n']} ({report['n_positive']} positive)"
    ]
    for k in METRICS:
        lo, hi = report["ci"][k]
        lines.append(f"{k:<12}{report[k]:.{digits}f}  (95% CI {lo:.{digits}f}-{hi:.{digits}f})")
    lines += [f"note: {w}" for w in report.get("warnings", [])]
    return "\n".join(lines)


def reports_table(reports: dict[str, dict], metrics: tuple[str, ...] = METRICS, digits: int = 3) -> str:
    """A Markdown table comparing several reports, one row per model, with CIs."""
    rows = [
        [name] + [f"{r[m]:.{digits}f} ({r['ci'][m][0]:.{digits}f}–{r['ci'][m][1]:.{digits}f})" for m in metrics]
        for name, r in reports.items()
    ]
    return markdown_table(["model", *metrics], rows)
