"""Validation of labels and scores, shared by every metric in this package.

Messages say what was expected, what was found and how to fix it.
"""

from __future__ import annotations

import numpy as np


def as_binary(y_true: np.ndarray, y_score: np.ndarray, positive: int) -> tuple[np.ndarray, np.ndarray]:
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


def as_labels(y: np.ndarray, num_classes: int, name: str) -> np.ndarray:
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
    bad = y[(y < 0) | (y >= num_classes)]
    if len(bad):
        raise ValueError(f"{name} holds label {int(bad[0])}, outside 0..{num_classes - 1} (num_classes={num_classes})")
    return y


def check_pair(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
    t, p = as_labels(y_true, num_classes, "y_true"), as_labels(y_pred, num_classes, "y_pred")
    if len(t) != len(p):
        raise ValueError(f"y_true has {len(t)} entries but y_pred has {len(p)}")
    return t, p


