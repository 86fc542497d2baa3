"""Segmentation: Dice and IoU per image (NumPy), their bootstrap CIs, and the Keras loss and metrics to train with.

For a predicted mask ``P`` and a true mask ``T`` (sets of pixels)::

    Dice = 2 |P n T| / (|P| + |T|)        IoU = |P n T| / |P u T|        Dice = 2 IoU / (1 + IoU)

Both ignore the true negatives, the background pixels that both masks leave
out, which is why they, and not pixel accuracy, are the scores of
segmentation: when the object is a small part of the image, "everything is
background" already has a high pixel accuracy and a Dice of 0.

The NumPy functions need no TensorFlow; :func:`dice_loss`, :func:`dice_metric`
and :func:`iou_metric` import Keras when called.
"""

from __future__ import annotations

import numpy as np

from medimgkit.metrics._bootstrap import bootstrap_ci

__all__ = ["dice", "dice_loss", "dice_metric", "iou", "iou_metric", "pixel_accuracy", "segmentation_report"]


def _pair(y_true, y_pred, threshold: float) -> tuple[np.ndarray, np.ndarray, bool]:
    """Boolean masks ``(N, H*W*...)`` of truth and prediction, and whether one mask was given."""
    t, p = np.asarray(y_true), np.asarray(y_pred)
    if t.shape != p.shape:
        raise ValueError(
            f"y_true has shape {t.shape} but y_pred has shape {p.shape}; a predicted mask must have the shape of its "
            "true mask (resize the prediction, or squeeze a channel axis of 1 from one of them)"
        )
    if t.ndim < 2:
        raise ValueError(f"expected masks (H, W) or (N, H, W[, 1]), got shape {t.shape}")
    for name, a in (("y_true", t), ("y_pred", p)):
        if a.dtype != bool and not np.issubdtype(a.dtype, np.number):
            raise ValueError(f"{name}: expected a numeric or boolean mask, found dtype {a.dtype}")
        if a.dtype != bool and not np.all(np.isfinite(a)):
            raise ValueError(f"{name} holds NaN or infinite values")
    single = t.ndim == 2
    if single:
        t, p = t[None], p[None]
    t = (t > 0.5).reshape(len(t), -1)
    p = (p > threshold if p.dtype != bool else p).reshape(len(p), -1)
    return t, p, single


def dice(y_true, y_pred, threshold: float = 0.5, empty: float = 1.0):
    """Dice coefficient of each image: ``2 |P n T| / (|P| + |T|)``.

    Parameters
    ----------
    y_true : array (N, H, W[, 1]) or (H, W)
        True masks: bool or 0/1.
    y_pred : array of the same shape
        Predicted masks, or probabilities (thresholded: ``> threshold`` is in).
    empty : float
        The score when both masks are empty (perfect agreement: 1).

    Returns
    -------
    float64 array (N,), or a float for one mask ``(H, W)``.
    """
    t, p, single = _pair(y_true, y_pred, threshold)
    inter = (t & p).sum(axis=1)
    total = t.sum(axis=1) + p.sum(axis=1)
    out = np.where(total > 0, 2 * inter / np.maximum(total, 1), empty).astype(np.float64)
    return float(out[0]) if single else out


def iou(y_true, y_pred, threshold: float = 0.5, empty: float = 1.0):
    """Intersection over union (Jaccard index) of each image: ``|P n T| / |P u T|``; see :func:`dice`."""
    t, p, single = _pair(y_true, y_pred, threshold)
    inter = (t & p).sum(axis=1)
    union = (t | p).sum(axis=1)
    out = np.where(union > 0, inter / np.maximum(union, 1), empty).astype(np.float64)
    return float(out[0]) if single else out


def pixel_accuracy(y_true, y_pred, threshold: float = 0.5):
    """Share of pixels labelled correctly, background included, per image (the score *not* to report alone)."""
    t, p, single = _pair(y_true, y_pred, threshold)
    out = (t == p).mean(axis=1)
    return float(out[0]) if single else out


def segmentation_report(y_true, y_pred, threshold: float = 0.5, n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> dict:
    """Mean Dice, IoU and pixel accuracy over images, each with a percentile-bootstrap CI over images.

    Images, not pixels, are resampled: pixels of one image are not
    independent cases. Returns ``{"n", "dice", "iou", "pixel_accuracy",
    "ci": {name: (low, high)}, "per_image": {name: array (N,)}}``.
    """
    per_image = {
        "dice": np.atleast_1d(dice(y_true, y_pred, threshold)),
        "iou": np.atleast_1d(iou(y_true, y_pred, threshold)),
        "pixel_accuracy": np.atleast_1d(pixel_accuracy(y_true, y_pred, threshold)),
    }
    n = len(per_image["dice"])
    ci = bootstrap_ci(lambda idx: {k: v[idx].mean() for k, v in per_image.items()}, n, list(per_image), n_boot, seed, level)
    return {"n": n, **{k: float(v.mean()) for k, v in per_image.items()}, "ci": ci, "per_image": per_image}


def _soft_dice(y_true, y_pred, smooth: float):
    from keras import ops

    y_true = ops.cast(y_true, y_pred.dtype)
    axes = tuple(range(1, len(y_pred.shape)))
    inter = ops.sum(y_true * y_pred, axis=axes)
    total = ops.sum(y_true, axis=axes) + ops.sum(y_pred, axis=axes)
    return (2 * inter + smooth) / (total + smooth)


def dice_loss(smooth: float = 1.0, bce: float = 1.0):
    """A Keras loss: ``1 - soft Dice`` per image, plus ``bce`` times the pixel-wise binary cross-entropy.

    The soft Dice uses the probabilities themselves (no threshold), so it has
    a gradient; ``smooth`` keeps it defined for empty masks. Dice alone scores
    the overlap whatever the object's size; the cross-entropy term gives every
    pixel a gradient from the first step, which makes the start of training
    steadier (``bce=0`` switches it off). Use it as
    ``model.compile(loss=dice_loss(), ...)`` with a sigmoid output ``(N, H, W, 1)``.
    """
    if smooth <= 0:
        raise ValueError(f"smooth must be > 0, got {smooth!r}")
    if bce < 0:
        raise ValueError(f"bce must be >= 0, got {bce!r}")
    from keras import ops

    def dice_bce(y_true, y_pred):
        loss = 1.0 - _soft_dice(y_true, y_pred, smooth)
        if bce:
            y_t = ops.cast(y_true, y_pred.dtype)
            p = ops.clip(y_pred, 1e-7, 1 - 1e-7)
            axes = tuple(range(1, len(y_pred.shape)))
            loss = loss + bce * ops.mean(-(y_t * ops.log(p) + (1 - y_t) * ops.log(1 - p)), axis=axes)
        return loss

    return dice_bce


def _hard(fn, threshold: float, name: str):
    import keras
    from keras import ops

    def score(y_true, y_pred):
        t = ops.cast(y_true > 0.5, "float32")
        p = ops.cast(y_pred > threshold, "float32")
        axes = tuple(range(1, len(y_pred.shape)))
        inter = ops.sum(t * p, axis=axes)
        size_t, size_p = ops.sum(t, axis=axes), ops.sum(p, axis=axes)
        return fn(inter, size_t, size_p)

    score.__name__ = name
    return keras.metrics.MeanMetricWrapper(score, name=name)


def dice_metric(threshold: float = 0.5, name: str = "dice"):
    """A Keras metric: the mean over images of the Dice of the thresholded prediction (1 when both are empty)."""
    from keras import ops

    return _hard(lambda i, t, p: ops.where(t + p > 0, 2 * i / ops.maximum(t + p, 1.0), 1.0), threshold, name)


def iou_metric(threshold: float = 0.5, name: str = "iou"):
    """A Keras metric: the mean over images of the IoU of the thresholded prediction (1 when both are empty)."""
    from keras import ops

    return _hard(lambda i, t, p: ops.where(t + p - i > 0, i / ops.maximum(t + p - i, 1.0), 1.0), threshold, name)
