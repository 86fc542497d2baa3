"""Validation of labels, scores and settings, shared by every metric in this package.

One function per kind of argument, each raising a ``ValueError`` whose
message says what was expected, what was found and how to fix it:

``labels``       class labels ``y_true`` / ``y_pred``: integers ``(N,)`` (``(N, 1)`` is accepted)
``scores``       scores or probabilities: finite numbers ``(N,)`` or ``(N, C)``
``binary``       labels and scores -> (is-positive 0/1, score of the positive class)
``positive_label``, ``threshold``, ``num_classes``  the settings
``probabilities``  class probabilities ``(N, K)`` of graded scales

How a score array is read (``binary``):

* ``(N,)``: the score of the **positive** class (higher = more likely positive).
* ``(N, 1)``: a sigmoid output, the probability of **label 1**; labels must be
  0 and 1. With ``positive=1`` it is used as it is, with ``positive=0`` as
  ``1 - p``.
* ``(N, C)`` with ``C >= 2``: class probabilities; column ``positive`` is used.
"""

from __future__ import annotations

import numbers

import numpy as np

from medimgkit._contract import class_labels


def _fail(name: str, expected: str, found: str, fix: str) -> ValueError:
    return ValueError(f"{name}: expected {expected}, found {found}; {fix}")


def _first_bad(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask.ravel())[0])


def labels(y, name: str = "y_true") -> np.ndarray:
    """Class labels as int64 ``(N,)``: integers, or floats/bools holding integers.

    ``(N, 1)`` (MedMNIST's layout) is flattened. Refused: NaN, fractions
    (soft labels such as 0.7), strings, one-hot or multi-label ``(N, K)``
    arrays and empty arrays. The package's one label check
    (``medimgkit._contract.class_labels``), negative labels allowed.
    """
    return class_labels(y, name, nonnegative=False)


def in_range(y: np.ndarray, num: int, name: str) -> np.ndarray:
    """``y`` (already from ``labels``) with every label in ``0..num - 1``."""
    bad = (y < 0) | (y >= num)
    if bad.any():
        i = _first_bad(bad)
        raise _fail(name, f"labels in 0..{num - 1} ({num} classes)", f"label {int(y[i])}, outside 0..{num - 1}, at index {i}",
                    "check the labels, or the number of classes")
    return y


def num_classes(k) -> int:
    """An integer >= 2 (not a bool)."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise ValueError(f"num_classes must be an integer >= 2, found {k!r}; pass the number of classes, e.g. num_classes=5")
    return int(k)


def positive_label(positive) -> int:
    """The positive class as an int: an integer, a float holding one, or a bool (for boolean labels)."""
    ok = isinstance(positive, numbers.Real) and bool(np.isfinite(positive)) and positive == int(positive)
    if not ok:
        raise _fail("positive", "the integer label of the positive class (BreastMNIST: 0 = malignant)",
                    repr(positive), "pass one of the labels in y_true")
    return int(positive)


def threshold(t) -> float:
    """A finite real number."""
    if isinstance(t, bool) or not isinstance(t, numbers.Real) or not np.isfinite(t):
        raise _fail("threshold", "a finite number (a case is positive when its score >= threshold)", repr(t),
                    "pass e.g. threshold=0.5, or one chosen on validation data (youden_threshold)")
    return float(t)


def scores(y_score, n: int | None = None, name: str = "y_score") -> np.ndarray:
    """Finite float64 scores ``(N,)`` or ``(N, C)``, ``N == n`` when given."""
    expected = "numeric scores (N,) or class probabilities (N, C)"
    if y_score is None:
        raise _fail(name, expected, "None", "pass the model's scores, e.g. train.predict_proba(model, x)")
    s = np.asarray(y_score)
    if s.dtype.kind not in "biuf":
        example = s.ravel()[:2].tolist() if s.size else []
        raise _fail(name, expected, f"dtype {s.dtype} with values like {example}", "pass numbers")
    s = s.astype(np.float64)
    if s.ndim not in (1, 2):
        raise _fail(name, expected, f"shape {s.shape}", "pass one score (or one row of class probabilities) per case")
    if n is not None and len(s) != n:
        raise ValueError(f"y_true has {n} entries but {name} has {len(s)}; expected the same length, one score per case")
    if len(s) == 0:
        raise _fail(name, expected, "an empty array", "pass at least one case")
    bad = ~np.isfinite(s)
    if bad.any():
        i = np.argwhere(bad)[0]
        where = tuple(int(v) for v in i) if s.ndim == 2 else int(i[0])
        raise _fail(name, "finite scores", f"{s[tuple(i)]} (NaN or infinite) at index {where}",
                    "check the model's output (a diverged training gives NaN)")
    return s


def column(s: np.ndarray, positive: int, present: list[int], name: str = "y_score") -> np.ndarray:
    """The score of the positive class from validated scores ``s`` (see the module docstring)."""
    if s.ndim == 1:
        return s
    if s.shape[1] == 1:
        if not set(present) <= {0, 1}:
            raise _fail(name, "(N,) scores of the positive class when labels are not 0 and 1",
                        f"shape {s.shape} with labels {present}",
                        "a (N, 1) array is read as the probability of label 1 (a sigmoid output); "
                        "pass the positive class's score as (N,)")
        lo, hi = float(s.min()), float(s.max())
        if lo < 0 or hi > 1:
            raise _fail(name, "probabilities in [0, 1] in a (N, 1) sigmoid output", f"values in [{lo:g}, {hi:g}]",
                        "logits? apply a sigmoid first, or pass y_score.ravel() as the positive class's score")
        return s[:, 0] if positive == 1 else 1.0 - s[:, 0]
    if not 0 <= positive < s.shape[1]:
        raise _fail(name, f"a column for positive={positive}", f"shape {s.shape} (columns 0..{s.shape[1] - 1})",
                    "pass the probabilities of every class, or the positive class's score as (N,)")
    return s[:, positive]


def binary(y_true, y_score, positive, name: str = "y_score") -> tuple[np.ndarray, np.ndarray]:
    """``(is_positive int8 (N,), score of the positive class float64 (N,))``.

    ``positive`` must be a label that occurs in ``y_true``, and ``y_true`` may
    hold at most two labels (one-vs-rest: pass ``y_true == k`` and
    ``positive=1``).
    """
    t = labels(y_true, "y_true")
    positive = positive_label(positive)
    present = sorted(int(v) for v in np.unique(t))
    if positive not in present:
        raise _fail("positive", "a label that occurs in y_true",
                    f"positive={positive}: no case of the positive class {positive}; y_true holds labels {present}",
                    f"pass positive= one of {present} (BreastMNIST: 0 = malignant)")
    if len(present) > 2:
        raise _fail("y_true", "two classes for a binary metric", f"{len(present)} classes {present}",
                    f"for one-vs-rest pass (y_true == {positive}) and positive=1, with the score of class {positive}")
    s = scores(y_score, len(t), name)
    return (t == positive).astype(np.int8), column(s, positive, present, name)


def probabilities(probs, name: str = "probs", *, normalisable: bool = False) -> np.ndarray:
    """Class scores ``(N, K)``, ``K >= 2``, finite; with ``normalisable`` also >= 0 with positive row sums."""
    if probs is None:
        raise _fail(name, "class probabilities (N, K)", "None", "pass the model's probabilities")
    p = np.asarray(probs)
    if p.dtype.kind not in "biuf":
        raise _fail(name, "numeric class probabilities (N, K)", f"dtype {p.dtype}", "pass numbers")
    p = p.astype(np.float64)
    if p.ndim != 2 or p.shape[1] < 2:
        raise ValueError(f"{name} must be (N, K) class probabilities with K >= 2 classes, found shape {p.shape}; "
                         "pass one row of probabilities per case, e.g. train.predict_proba(model, x)")
    if len(p) == 0:
        raise _fail(name, "class probabilities (N, K)", "an empty array", "pass at least one case")
    bad = ~np.isfinite(p)
    if bad.any():
        i = tuple(int(v) for v in np.argwhere(bad)[0])
        raise _fail(name, "finite probabilities", f"{p[i]} (NaN or infinite) at index {i}",
                    "check the model's output (a diverged training gives NaN)")
    if normalisable:
        if (p < 0).any():
            i = tuple(int(v) for v in np.argwhere(p < 0)[0])
            raise _fail(name, "probabilities >= 0", f"a negative value {p[i]:g} at index {i} (logits?)",
                        "apply a softmax first (keras.ops.softmax or scipy.special.softmax)")
        sums = p.sum(axis=1)
        if (sums <= 0).any():
            i = _first_bad(sums <= 0)
            raise _fail(name, "rows with a positive sum", f"row {i} sums to {sums[i]:g} (all zero)",
                        "pass class probabilities")
    return p


def pair(y_true, y_pred, k) -> tuple[np.ndarray, np.ndarray]:
    """Two label arrays of one length, both in ``0..k - 1``."""
    k = num_classes(k)
    t = in_range(labels(y_true, "y_true"), k, "y_true")
    p = in_range(labels(y_pred, "y_pred"), k, "y_pred")
    if len(t) != len(p):
        raise ValueError(f"y_true has {len(t)} entries but y_pred has {len(p)}; expected one prediction per case")
    return t, p

