"""Comparing two models on the same test cases: a paired bootstrap of the AUC difference."""

from __future__ import annotations

import numpy as np

from medimgkit.metrics._auc import mann_whitney_auc
from medimgkit.metrics._bootstrap import bootstrap_samples, percentile_interval
from medimgkit.metrics._validation import binary as check_binary


def auc_difference(
    y_true: np.ndarray,
    score_a: np.ndarray,
    score_b: np.ndarray,
    positive: int = 1,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict:
    """AUC of model A minus AUC of model B, with a paired 95 % bootstrap CI.

    Both models are scored on the *same* resampled cases in every bootstrap
    round, so the interval accounts for their correlation (two separate CIs
    that overlap do not tell whether the difference is real).

    Parameters
    ----------
    y_true : int array (N,)
    score_a, score_b : float arrays (N,), (N, 1) or (N, C)
        The two models' scores, each read as in
        :func:`medimgkit.metrics.binary_report`: ``(N,)`` the positive
        class's score, ``(N, 1)`` a sigmoid output (probability of label 1),
        ``(N, C)`` class probabilities (column ``positive``).
    positive : int
        The positive label (BreastMNIST: 0 = malignant).
    n_boot : int
        Bootstrap rounds, ``>= 1``.
    seed : int

    Returns
    -------
    dict with ``diff`` (float, AUC_A - AUC_B), ``ci`` (low, high), the 2.5th
    and 97.5th percentiles, and ``p_not_better``: the fraction of rounds in
    which A's AUC is not above B's.
    """
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ValueError(f"n_boot: expected an integer >= 1, found {n_boot!r}; pass e.g. n_boot=1000")
    y, a = check_binary(y_true, score_a, positive, name="score_a")
    _, b = check_binary(y_true, score_b, positive, name="score_b")
    diff = mann_whitney_auc(y, a) - mann_whitney_auc(y, b)

    def paired(idx: np.ndarray) -> dict[str, float]:
        return {"diff": mann_whitney_auc(y[idx], a[idx]) - mann_whitney_auc(y[idx], b[idx])}

    rounds = bootstrap_samples(paired, len(y), ["diff"], n_boot, seed)["diff"]
    rounds = rounds[np.isfinite(rounds)]  # rounds with one class only have no AUC
    return {
        "diff": float(diff),
        "ci": percentile_interval(rounds),
        "p_not_better": float(np.mean(rounds <= 0)),
    }
