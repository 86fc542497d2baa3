"""Class imbalance by resampling: repeat the rare class, or drop some of the common one.

The alternative, weighting the loss, is :func:`medimgkit.data.class_weights`
(used by ``medimgkit.train.fit(balance=True)``). Resample the *training*
split only; validation and test keep the real class ratio, or their
sensitivity, specificity, PPV and NPV no longer describe the population.
"""

from __future__ import annotations

import numpy as np


def resample(images: np.ndarray, labels: np.ndarray, mode: str = "over", seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Balance the classes by random over- or undersampling, seeded.

    Parameters
    ----------
    images : array (N, ...)
    labels : int array (N,)
    mode : str
        ``"over"``: draw extra copies (with replacement) of every smaller class
        until each has as many images as the largest; nothing is dropped.
        ``"under"``: keep a random subset (without replacement) of every
        larger class, as many as the smallest class has.
    seed : int

    Returns
    -------
    (images, labels) with equal class counts, in shuffled order.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(f"labels must be (N,) matching {len(images)} images, got shape {labels.shape}")
    if mode not in ("over", "under"):
        raise ValueError(f"mode must be 'over' or 'under', got {mode!r}")
    classes, counts = np.unique(labels, return_counts=True)
    if len(classes) < 2:
        raise ValueError(f"resampling needs at least two classes, found {classes.tolist()}")
    rng = np.random.default_rng(seed)
    target = counts.max() if mode == "over" else counts.min()
    keep = []
    for c, n in zip(classes, counts):
        idx = np.flatnonzero(labels == c)
        if mode == "over":
            extra = rng.choice(idx, size=target - n, replace=True)
            keep.append(np.concatenate([idx, extra]))
        else:
            keep.append(rng.choice(idx, size=target, replace=False))
    order = rng.permutation(np.concatenate(keep))
    return images[order], labels[order]
