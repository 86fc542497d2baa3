"""From uint8 arrays to model-ready tensors and ``tf.data`` pipelines."""

from __future__ import annotations

import numpy as np

from medimgkit._contract import class_labels, model_input


def to_float(images: np.ndarray, volumes: bool | None = None) -> np.ndarray:
    """Images as a model sees them: float32 in [0, 1] with a channel axis.

    Accepts the package's one input contract: uint8 in 0-255 (divided by
    255) or float already in [0, 1] (kept), ``(N, H, W)`` (becomes
    ``(N, H, W, 1)``) or ``(N, H, W, C)``; with ``volumes=True`` 3-D volumes
    ``(N, D, H, W)`` (becomes ``(N, D, H, W, 1)``) or ``(N, D, H, W, C)``.
    The default, ``volumes=None``, takes five axes as volumes and fewer as
    images, so a four-axis batch of volumes needs ``volumes=True``. Anything
    else (floats in 0-255, NaN, negative values, a wrong number of axes) is
    refused with a ``ValueError`` that says what was found and how to fix it.
    """
    return model_input(images, volumes=volumes)


def as_dataset(
    images: np.ndarray,
    labels: np.ndarray,
    batch_size: int = 32,
    shuffle: bool = True,
    seed: int = 0,
    volumes: bool | None = None,
):
    """A batched, cached, shuffled, prefetched ``tf.data.Dataset``.

    Images are decoded and scaled once (``to_float``) and cached in memory;
    each epoch reshuffles with a seeded order, so runs are reproducible.

    Parameters
    ----------
    images : uint8 (0-255) or float ([0, 1]) array, (N, H, W) or (N, H, W, C);
        volumes (N, D, H, W) or (N, D, H, W, C) with ``volumes=True``
    labels : int array, (N,) or (N, 1)
        One class index per image. Soft labels (0.7), NaN, negative labels,
        strings and one-hot rows are refused with a ``ValueError``: a cast to
        int would silently turn 0.7 into 0.
    batch_size : int
    shuffle : bool
        Shuffle every epoch (training); keep ``False`` for evaluation.
    seed : int
    volumes : bool or None
        As in :func:`to_float`: ``True`` for 3-D volumes, ``None`` for five
        axes = volumes.

    Returns
    -------
    tf.data.Dataset yielding ``(float32 (B, H, W, C), int64 (B,))``
    (``(B, D, H, W, C)`` for volumes)
    """
    import tensorflow as tf

    x = to_float(images, volumes=volumes)
    y = class_labels(labels, "labels", n=len(x))
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    ds = tf.data.Dataset.from_tensor_slices((x, y)).cache()
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def class_weights(labels: np.ndarray) -> dict[int, float]:
    """Balanced class weights ``n / (k * count_c)`` for Keras ``class_weight``.

    >>> class_weights(np.array([0, 1, 1, 1]))
    {0: 2.0, 1: 0.6666666666666666}
    """
    labels = class_labels(labels, "labels")
    classes, counts = np.unique(labels, return_counts=True)
    if len(classes) < 2:
        raise ValueError(f"class weights need at least two classes, found {classes.tolist()}")
    n, k = len(labels), len(classes)
    return {int(c): float(n / (k * m)) for c, m in zip(classes, counts)}


def class_balance(labels: np.ndarray, names: list[str] | None = None) -> dict[str, int]:
    """Count of each class, keyed by name (or by label when ``names`` is None)."""
    labels = np.asarray(labels).ravel()
    classes, counts = np.unique(labels, return_counts=True)
    return {(names[int(c)] if names else str(int(c))): int(m) for c, m in zip(classes, counts)}


def stratified_subset(
    images: np.ndarray, labels: np.ndarray, fraction: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Keep ``fraction`` of each class (at least one image per class), seeded.

    Used for quick mode and for the small-data experiments.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    keep = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        n = max(1, int(round(fraction * len(idx))))
        keep.append(rng.choice(idx, size=n, replace=False))
    order = np.sort(np.concatenate(keep))
    return images[order], labels[order]


def cross_split_duplicates(
    splits: dict[str, tuple[np.ndarray, np.ndarray]],
) -> list[tuple[str, int, str, int]]:
    """Byte-identical images that sit in two different splits.

    A duplicate across train and test leaks the answer into training. The
    check hashes every image (SHA-1 of its bytes), so it finds exact copies
    only, not near-duplicates.

    Parameters
    ----------
    splits : {split name: (images, labels)}, e.g. from ``load_medmnist_splits``

    Returns
    -------
    list of ``(split_a, index_a, split_b, index_b)``, ``split_a`` before
    ``split_b`` in the dict's order.
    """
    import hashlib

    names = list(splits)
    index: dict[str, dict[str, int]] = {}
    for name in names:
        index[name] = {}
        for i, image in enumerate(np.asarray(splits[name][0])):
            index[name].setdefault(hashlib.sha1(image.tobytes()).hexdigest(), i)
    found = []
    for a_pos, a in enumerate(names):
        for b in names[a_pos + 1 :]:
            for digest, i in index[a].items():
                if digest in index[b]:
                    found.append((a, i, b, index[b][digest]))
    return found
