"""Comparing two models on the same test cases: a paired bootstrap of the AUC difference."""

from __future__ import annotations

import numpy as np

from medimgkit.metrics._bootstrap import bootstrap_samples, percentile_interval
from medimgkit.metrics.binary import roc_auc


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
    score_a, score_b : float arrays (N,)
        Scores of the positive class from the two models.
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
    y = np.asarray(y_true).ravel()
    a = np.asarray(score_a, dtype=np.float64).ravel()
    b = np.asarray(score_b, dtype=np.float64).ravel()
    if not len(y) == len(a) == len(b):
        raise ValueError(f"y_true, score_a and score_b must have the same length, got {len(y)}, {len(a)}, {len(b)}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    diff = roc_auc(y, a, positive) - roc_auc(y, b, positive)

    def paired(idx: np.ndarray) -> dict[str, float]:
        return {"diff": roc_auc(y[idx], a[idx], positive) - roc_auc(y[idx], b[idx], positive)}

    rounds = bootstrap_samples(paired, len(y), ["diff"], n_boot, seed)["diff"]
    rounds = rounds[np.isfinite(rounds)]  # rounds with one class only have no AUC
    return {
        "diff": float(diff),
        "ci": percentile_interval(rounds),
        "p_not_better": float(np.mean(rounds <= 0)),
    }
