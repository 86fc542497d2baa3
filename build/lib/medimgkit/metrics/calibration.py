"""Operating points and calibration: thresholds, reliability diagrams, ECE, Platt scaling.

A classifier's score becomes a decision only with a threshold, and a
probability only if it is *calibrated*: among cases given 0.8, about 80 %
should be positive. Everything here takes the positive class explicitly
(BreastMNIST: ``positive=0``, malignant) and reads scores as
:func:`medimgkit.metrics.binary_report` does: a score vector ``(N,)`` of the
positive class, a ``(N, 1)`` sigmoid output (the probability of label 1), or
the model's class probabilities ``(N, C)``, of which column ``positive`` is
used.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from medimgkit.metrics._validation import binary as check_binary
from medimgkit.metrics._validation import column, labels, scores


def threshold_for_sensitivity(y_true: np.ndarray, y_score: np.ndarray, target: float, positive: int = 1) -> float:
    """The highest threshold whose sensitivity on these cases is at least ``target``.

    A case is called positive when ``score >= threshold`` (as in
    :func:`medimgkit.metrics.binary_report`). Choose the threshold on
    *validation* data, then report sensitivity and specificity on test: the
    test sensitivity will scatter around the target, it is not guaranteed.

    Parameters
    ----------
    y_true : int array (N,)
    y_score : float array (N,) or (N, C)
    target : float in (0, 1]
        Wanted sensitivity, e.g. 0.9.
    positive : int
        Label of the positive class.

    Returns
    -------
    float: the threshold (a score of one of the positive cases).
    """
    if isinstance(target, bool) or not isinstance(target, (int, float, np.number)) or not 0 < target <= 1:
        raise ValueError(f"target: expected a sensitivity in (0, 1], found {target!r}; pass e.g. target=0.9")
    pos, score = check_binary(y_true, y_score, positive)
    positives = np.sort(score[pos == 1])[::-1]
    k = int(np.ceil(target * len(positives) - 1e-9))  # positives that must score >= threshold
    return float(positives[max(k, 1) - 1])


def youden_threshold(y_true: np.ndarray, y_score: np.ndarray, positive: int = 1) -> float:
    """The threshold that maximises Youden's index, sensitivity + specificity - 1.

    This is the class-balanced operating point: it maximises balanced
    accuracy, so it does not favour the majority class the way accuracy at
    0.5 does when the training loss or the prevalence shifts the scores.
    The threshold is placed halfway between two neighbouring scores, so it
    does not sit on a case. Choose it on *validation* data, then report on
    test.

    Parameters
    ----------
    y_true : int array (N,)
    y_score : float array (N,) or (N, C)
    positive : int
        Label of the positive class.

    Returns
    -------
    float: the threshold; a case is positive when ``score >= threshold``.
    """
    present = np.unique(labels(y_true))
    if len(present) < 2:
        raise ValueError(f"y_true: expected cases of both classes, found only label {int(present[0])}; "
                         "choose the threshold on validation data holding positive and negative cases")
    pos, score = check_binary(y_true, y_score, positive)
    n_pos, n_neg = int(pos.sum()), int(len(pos) - pos.sum())
    cuts = np.unique(score)
    candidates = np.r_[cuts[0] - 1e-6, (cuts[:-1] + cuts[1:]) / 2, cuts[-1] + 1e-6]
    called = score[None, :] >= candidates[:, None]
    sens = (called & (pos == 1)).sum(axis=1) / n_pos
    spec = (~called & (pos == 0)).sum(axis=1) / n_neg
    return float(candidates[int(np.argmax(sens + spec))])


def _bins(score: np.ndarray, n_bins: int) -> np.ndarray:
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins: expected a positive integer, found {n_bins!r}; pass e.g. n_bins=10")
    if np.any((score < 0) | (score > 1)):
        raise ValueError(f"y_prob: expected probabilities in [0, 1] for calibration, found values in "
                         f"[{score.min():g}, {score.max():g}]; pass probabilities (apply a softmax or sigmoid to logits)")
    return np.minimum((score * n_bins).astype(int), n_bins - 1)


def reliability_curve(
    y_true: np.ndarray, y_prob: np.ndarray, positive: int = 1, n_bins: int = 10
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Observed frequency of the positive class against predicted probability.

    The probabilities are put in ``n_bins`` equal-width bins on [0, 1].

    Returns
    -------
    mean_predicted : float64 (n_bins,)
        Mean predicted probability in each bin (NaN for an empty bin).
    observed : float64 (n_bins,)
        Fraction of positive cases in each bin (NaN for an empty bin).
    counts : int64 (n_bins,)
        Cases per bin.
    """
    pos, prob = check_binary(y_true, y_prob, positive)
    b = _bins(prob, n_bins)
    counts = np.bincount(b, minlength=n_bins).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_predicted = np.bincount(b, weights=prob, minlength=n_bins) / counts
        observed = np.bincount(b, weights=pos.astype(np.float64), minlength=n_bins) / counts
    return mean_predicted, observed, counts


def expected_calibration_error(y_true: np.ndarray, y_prob: np.ndarray, positive: int = 1, n_bins: int = 10) -> float:
    """ECE: the case-weighted mean gap between predicted and observed frequency.

    ``ECE = sum_b (n_b / N) * |observed_b - mean_predicted_b|`` over
    ``n_bins`` equal-width bins of the positive-class probability (Naeini,
    Cooper and Hauskrecht, AAAI 2015; Guo et al., ICML 2017). 0 is perfect;
    with few cases it is noisy and biased upwards.
    """
    mean_predicted, observed, counts = reliability_curve(y_true, y_prob, positive, n_bins)
    full = counts > 0
    return float(np.sum(counts[full] * np.abs(observed[full] - mean_predicted[full])) / counts.sum())


def platt_scaling(y_true: np.ndarray, y_prob: np.ndarray, positive: int = 1, iterations: int = 100) -> Callable[[np.ndarray], np.ndarray]:
    """Fit ``p' = sigmoid(a * logit(p) + b)`` on validation data (Platt, 1999).

    Recalibrates the positive-class probability without changing the ranking
    (AUC stays the same for ``a > 0``). Fitted by Newton's method on the log
    loss with a tiny ridge for stability.

    Returns
    -------
    A function mapping probabilities shaped like ``y_prob`` (``(N,)``, a
    ``(N, 1)`` sigmoid output or ``(N, C)``, read as at fitting time) to
    recalibrated positive-class probabilities float64 ``(N,)``. Its
    attributes ``a`` and ``b`` hold the fit.
    """
    pos, prob = check_binary(y_true, y_prob, positive)
    if pos.min() == pos.max():
        raise ValueError(f"y_true: expected both classes to fit Platt scaling, found only label {int(labels(y_true)[0])}; "
                         "fit it on validation data with positive and negative cases")
    present = sorted(int(v) for v in np.unique(labels(y_true)))

    def logit(p: np.ndarray) -> np.ndarray:
        p = np.clip(p, 1e-7, 1 - 1e-7)
        return np.log(p) - np.log1p(-p)

    x = np.stack([logit(prob), np.ones_like(prob)], axis=1)
    ridge = 1e-6

    def loss(w: np.ndarray) -> float:
        z = x @ w
        return float(np.sum(np.logaddexp(0.0, z) - pos * z) + 0.5 * ridge * w @ w)

    w = np.array([1.0, 0.0])
    for _ in range(iterations):  # Newton's method with step halving: the loss never goes up
        p = 0.5 * (1.0 + np.tanh(0.5 * (x @ w)))  # sigmoid without overflow
        grad = x.T @ (p - pos) + ridge * w
        hess = (x * (p * (1 - p))[:, None]).T @ x + ridge * np.eye(2)
        step = np.linalg.solve(hess, grad)
        t, current = 1.0, loss(w)
        while loss(w - t * step) > current and t > 1e-8:
            t /= 2
        w = w - t * step
        if np.max(np.abs(t * step)) < 1e-10:
            break

    def calibrate(y_score: np.ndarray) -> np.ndarray:
        s = column(scores(y_score, name="scores to calibrate"), positive, present, "scores to calibrate")
        return 0.5 * (1.0 + np.tanh(0.5 * (w[0] * logit(s) + w[1])))

    calibrate.a, calibrate.b = float(w[0]), float(w[1])  # type: ignore[attr-defined]
    return calibrate


def plot_reliability(
    curves: dict[str, tuple[np.ndarray, np.ndarray]],
    positive: int = 1,
    n_bins: int = 10,
    positive_name: str | None = None,
    ax=None,
):
    """Reliability diagram for several models: ``{"name": (y_true, y_prob)}``.

    Each curve joins (mean predicted, observed) of the non-empty bins; marker
    area grows with the number of cases in the bin; the legend gives the ECE.
    The diagonal is perfect calibration. Returns the figure.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4.4, 4.2))
    ax.plot([0, 1], [0, 1], "k:", lw=1, label="perfectly calibrated")
    for name, (y_true, y_prob) in curves.items():
        mean_predicted, observed, counts = reliability_curve(y_true, y_prob, positive, n_bins)
        full = counts > 0
        ece = expected_calibration_error(y_true, y_prob, positive, n_bins)
        (line,) = ax.plot(mean_predicted[full], observed[full], "-", label=f"{name} (ECE {ece:.3f})")
        ax.scatter(mean_predicted[full], observed[full], s=12 + 60 * counts[full] / counts.max(), color=line.get_color())
    label = positive_name or f"class {positive}"
    ax.set_xlabel(f"predicted probability of {label}")
    ax.set_ylabel(f"observed fraction of {label}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.legend(loc="best", fontsize="small")
    return ax.figure
