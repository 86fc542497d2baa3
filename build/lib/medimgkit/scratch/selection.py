"""Why tuning on the test split lies: a resampling simulation of model selection.

Given the scores of several candidate models (or settings) on a pool of
cases that none of them was trained on, :func:`selection_simulation` splits
the pool at random, many times, into three equal parts playing three roles:

* *validation* (where an honest analyst tunes),
* *test* (the number that gets reported),
* *fresh* (stand-in for tomorrow's patients, never looked at).

An honest analyst picks the best candidate on validation and reports its
test score; a cheating one picks the best candidate on test and reports the
same test score. The fresh part tells how good each pick really is. Because
test and fresh are exchangeable, the honest report is unbiased; the cheat's
report is optimistic by construction (the maximum of noisy estimates).
"""

from __future__ import annotations

import numpy as np

from medimgkit.metrics import roc_auc

ROLES = ("val", "test", "fresh")


def _balanced_accuracy_table(pred: np.ndarray, pos: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Balanced accuracy of every (candidate, threshold) row of ``pred`` on the cases in ``mask``."""
    p, n = (pos & mask).astype(np.float64), (~pos & mask).astype(np.float64)
    sens = pred @ p / max(p.sum(), 1.0)
    spec = (1.0 - pred) @ n / max(n.sum(), 1.0)
    return (sens + spec) / 2.0


def selection_simulation(
    scores: np.ndarray,
    labels: np.ndarray,
    positive: int = 1,
    metric: str = "balanced_accuracy",
    n_thresholds: int = 25,
    n_repeats: int = 500,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Simulate honest (select on validation) and cheating (select on test) tuning.

    Parameters
    ----------
    scores : float array (K, N)
        Score for the positive class from each of K candidates on N pool cases
        that no candidate was trained on.
    labels : int array (N,)
    positive : int
        The positive class (0 = malignant in BreastMNIST).
    metric : ``"balanced_accuracy"`` or ``"auc"``
        With balanced accuracy (mean of sensitivity and specificity) every
        candidate also has ``n_thresholds`` decision thresholds (quantiles of
        its scores), and a (candidate, threshold) pair is what gets tuned.
    n_repeats : int
        Number of random stratified three-way splits of the pool.
    seed : int

    Returns
    -------
    dict of float64 arrays (n_repeats,): ``honest_reported``,
    ``honest_fresh``, ``cheat_reported``, ``cheat_fresh``. The optimism of
    a procedure is ``reported - fresh``.
    """
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels).ravel()
    if scores.ndim != 2 or scores.shape[1] != len(labels):
        raise ValueError(f"scores must be (K, N) with N = {len(labels)} labels, got shape {scores.shape}")
    if metric not in ("balanced_accuracy", "auc"):
        raise ValueError(f"metric must be 'balanced_accuracy' or 'auc', got {metric!r}")
    if n_repeats < 1 or n_thresholds < 1:
        raise ValueError(f"n_repeats and n_thresholds must be >= 1, got {n_repeats}, {n_thresholds}")
    pos = labels == positive
    if pos.sum() < 3 or (~pos).sum() < 3:
        raise ValueError(f"each class needs at least 3 cases to split in three, got {pos.sum()} and {(~pos).sum()}")
    if metric == "balanced_accuracy":
        q = np.linspace(0.0, 1.0, n_thresholds + 2)[1:-1]
        thresholds = np.quantile(scores, q, axis=1).T  # (K, T)
        pred = (scores[:, None, :] >= thresholds[:, :, None]).reshape(-1, len(labels)).astype(np.float64)
    rng = np.random.default_rng(seed)
    out = {k: np.empty(n_repeats) for k in ("honest_reported", "honest_fresh", "cheat_reported", "cheat_fresh")}
    for r in range(n_repeats):
        role = np.empty(len(labels), dtype=np.int64)
        for cls in (pos, ~pos):  # stratified: each role gets a third of each class
            idx = rng.permutation(np.flatnonzero(cls))
            role[idx] = np.arange(len(idx)) % 3
        masks = [role == i for i in range(3)]
        if metric == "balanced_accuracy":
            table = np.stack([_balanced_accuracy_table(pred, pos, m) for m in masks])  # (3, K*T)
        else:
            table = np.array([[roc_auc(pos[m], s[m], positive=1) for s in scores] for m in masks])
        honest, cheat = np.argmax(table[0]), np.argmax(table[1])
        out["honest_reported"][r], out["honest_fresh"][r] = table[1, honest], table[2, honest]
        out["cheat_reported"][r], out["cheat_fresh"][r] = table[1, cheat], table[2, cheat]
    return out
