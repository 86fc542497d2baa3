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


def repeat_to_size(images: np.ndarray, labels: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Repeat a small training subset whole, ``round(size / N)`` times, so that an epoch on it makes
    about as many updates as an epoch on ``size`` images.

    Used for learning curves: a network trained on 10 % of the images for the same number of epochs
    would otherwise get a tenth of the updates, and the curve would measure the updates, not the data.
    Every image appears equally often, in the original order of each copy; nothing is drawn at random.

    Parameters
    ----------
    images : array (N, ...)
    labels : array (N,)
    size : int
        The number of images an epoch should roughly have (usually the full training split's).

    Returns
    -------
    (images, labels), ``k * N`` of each, with ``k = max(1, round(size / N))``.
    """
    labels = np.asarray(labels)
    if len(labels) == 0 or labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(f"labels must be (N,) with N > 0 matching {len(images)} images, got shape {labels.shape}")
    if int(size) != size or size < 1:
        raise ValueError(f"size must be a positive whole number of images, got {size!r}")
    times = max(1, int(round(size / len(labels))))
    return np.concatenate([images] * times), np.concatenate([labels] * times)
