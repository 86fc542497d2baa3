"""Synthetic dataset shift: the same images as if from another scanner or setting.

A model is trained on images from some devices and settings; the clinic that
uses it may have others. Changing the contrast or the gamma of the *test*
images (labels unchanged) is a cheap, controlled stand-in for such a shift.
Real shift (new population, new device, new protocol) is richer than this.
"""

from __future__ import annotations

import numpy as np


def _uint8(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise ValueError(f"expected uint8 images, got dtype {images.dtype}")
    return images


def adjust_contrast(images: np.ndarray, factor: float) -> np.ndarray:
    """Scale each image's deviation from its own mean grey value by ``factor``.

    ``factor < 1`` flattens contrast, ``> 1`` strengthens it; ``1`` returns the
    same values. Works on uint8 ``(N, H, W)`` or ``(N, H, W, C)`` and returns
    uint8 of the same shape (values clipped to 0-255).
    """
    x = _uint8(images).astype(np.float32)
    if not np.isfinite(factor) or factor < 0:
        raise ValueError(f"contrast factor must be a finite number >= 0, got {factor}")
    axes = tuple(range(1, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    return np.clip(np.round(mean + factor * (x - mean)), 0, 255).astype(np.uint8)


def adjust_gamma(images: np.ndarray, gamma: float) -> np.ndarray:
    """Gamma curve ``255 * (x / 255) ** gamma``: ``gamma > 1`` darkens mid-greys, ``< 1`` brightens.

    uint8 in, uint8 out, same shape; ``gamma=1`` returns the same values.
    """
    x = _uint8(images)
    if not np.isfinite(gamma) or gamma <= 0:
        raise ValueError(f"gamma must be a finite number > 0, got {gamma}")
    lut = np.clip(np.round(255.0 * (np.arange(256) / 255.0) ** gamma), 0, 255).astype(np.uint8)
    return lut[x]
