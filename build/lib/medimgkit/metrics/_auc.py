"""The Mann-Whitney AUC of already validated 0/1 labels and scores (no checks: for inner loops)."""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata


def mann_whitney_auc(pos: np.ndarray, score: np.ndarray) -> float:
    """AUC of int 0/1 ``pos`` against float ``score`` (ties count half); NaN when one class is missing."""
    n_pos = int(pos.sum())
    n_neg = len(pos) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(score)  # average ranks: ties count half
    u = ranks[pos == 1].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))
