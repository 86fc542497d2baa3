"""Intensity and geometry transforms for medical images, and augmentation layers.

Everything here works on one image as a NumPy array (``(H, W)`` grey or
``(H, W, C)``) and returns float32, except ``to_gray``/``to_rgb``, which keep
the dtype. NaN or infinite input is refused: it would silently spread through
every statistic. ``adjust_contrast`` and ``adjust_gamma`` (synthetic dataset
shift) work on uint8 batches and return uint8.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from medimgkit._deprecation import deprecated_alias

#: CT display windows as (centre, width) in Hounsfield units. Typical values
#: from common radiology practice (Radiopaedia, "Windowing (CT)"); sites
#: differ by some tens of HU, so treat them as starting points.
WINDOWS: dict[str, tuple[float, float]] = {
    "lung": (-600.0, 1500.0),
    "mediastinum": (50.0, 350.0),
    "bone": (400.0, 1800.0),
    "brain": (40.0, 80.0),
    "abdomen": (40.0, 400.0),
}


def _finite(image, name: str = "image") -> np.ndarray:
    array = np.asarray(image)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be a numeric array, got dtype {array.dtype}")
    if array.size == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}); expected at least one pixel")
    array = array.astype(np.float64, copy=False)
    bad = ~np.isfinite(array)
    if bad.any():
        raise ValueError(f"{name} holds {int(bad.sum())} NaN or infinite value(s); expected finite pixels")
    return array


def window(image: np.ndarray, center: float | str, width: float | None = None) -> np.ndarray:
    """Map the intensity window ``[center - width/2, center + width/2]`` linearly onto [0, 1].

    Values below the window become 0, above it 1 (as a display shows them
    black and white). ``center`` may be a preset name from ``WINDOWS``:
    ``window(hu, "lung")``. DICOM's own VOI formula (PS3.3 C.11.2.1.2) differs
    by half a grey level for integer displays; the continuous form is used here.

    Parameters
    ----------
    image : array of any shape, e.g. CT in HU
    center : window centre (level), or a preset name
    width : window width (> 0); omit it with a preset name

    Returns
    -------
    float32 array of the same shape, values in [0, 1]
    """
    if isinstance(center, str):
        if width is not None:
            raise ValueError(f"give either a preset name or (center, width), not both (got {center!r}, {width!r})")
        if center not in WINDOWS:
            raise ValueError(f"unknown window preset {center!r}; expected one of {sorted(WINDOWS)}")
        center, width = WINDOWS[center]
    if width is None:
        raise ValueError("window width is missing; pass window(image, center, width) or a preset name")
    center, width = float(center), float(width)
    if not np.isfinite(center) or not np.isfinite(width) or width <= 0:
        raise ValueError(f"window width must be a finite number > 0 and the centre finite, got center={center}, width={width}")
    x = _finite(image)
    low = center - width / 2.0
    return np.clip((x - low) / width, 0.0, 1.0).astype(np.float32)


def minmax(image: np.ndarray) -> np.ndarray:
    """Rescale to [0, 1] by the image's own minimum and maximum (a constant image gives zeros)."""
    x = _finite(image)
    lo, hi = x.min(), x.max()
    if hi == lo:
        return np.zeros(x.shape, np.float32)
    return np.clip((x - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)


def zscore(image: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    """Subtract the mean and divide by the standard deviation (a constant image gives zeros).

    Use it for MRI, whose intensities have no absolute unit; CT in HU is better windowed.
    """
    x = _finite(image)
    std = x.std()
    if std <= eps:
        return np.zeros(x.shape, np.float32)
    return ((x - x.mean()) / std).astype(np.float32)


def percentile_clip(image: np.ndarray, lo: float = 1.0, hi: float = 99.0) -> np.ndarray:
    """Clip intensities to the image's ``lo``-th and ``hi``-th percentiles.

    Removes a few extreme pixels (metal, noise spikes, padding) before
    ``minmax`` or ``zscore``. The bounds are actual pixel values (NumPy's
    ``lower``/``higher`` percentile methods), so clipping twice equals
    clipping once.
    """
    if not 0 <= lo < hi <= 100:
        raise ValueError(f"percentiles must satisfy 0 <= lo < hi <= 100, got lo={lo}, hi={hi}")
    x = _finite(image)
    low = np.percentile(x, lo, method="lower")
    high = np.percentile(x, hi, method="higher")
    return np.clip(x, low, high).astype(np.float32)


def resize_pad(
    image: np.ndarray,
    shape: tuple[int, int],
    *,
    pad_value: float = 0.0,
    method: Literal["bilinear", "nearest", "area", "bicubic"] = "bilinear",
) -> np.ndarray:
    """Resize keeping the aspect ratio, then pad (centred) to exactly ``shape``.

    Stretching an image to a square distorts anatomy (a round lesion becomes
    oval); this scales the longer side to fit and pads the rest with
    ``pad_value``. An image that already has ``shape`` is returned unchanged.

    Parameters
    ----------
    image : (H, W) or (H, W, C) array
    shape : (height, width) of the result
    pad_value : value of the padding (0 = black after windowing)
    method : interpolation (``"nearest"`` for label masks)

    Returns
    -------
    float32 (height, width) or (height, width, C)
    """
    x = _finite(image)
    if x.ndim not in (2, 3):
        raise ValueError(f"expected an image (H, W) or (H, W, C), got shape {x.shape}")
    th, tw = (int(s) for s in shape)
    if th < 1 or tw < 1 or len(tuple(shape)) != 2:
        raise ValueError(f"shape must be (height, width) with both >= 1, got {shape!r}")
    if method not in ("bilinear", "nearest", "area", "bicubic"):
        raise ValueError(f"method must be bilinear, nearest, area or bicubic, got {method!r}")
    h, w = x.shape[:2]
    scale = min(th / h, tw / w)
    nh, nw = min(th, max(1, round(h * scale))), min(tw, max(1, round(w * scale)))
    grey = x.ndim == 2
    x3 = x[..., None] if grey else x
    if (nh, nw) != (h, w):
        import tensorflow as tf

        x3 = tf.image.resize(x3, (nh, nw), method=method, antialias=method != "nearest").numpy().astype(np.float64)
        if method == "bicubic":  # the only kernel with negative lobes: keep the input's range
            x3 = np.clip(x3, x.min(), x.max())
    out = np.full((th, tw, x3.shape[-1]), pad_value, dtype=np.float64)
    top, left = (th - nh) // 2, (tw - nw) // 2
    out[top : top + nh, left : left + nw] = x3
    out = out.astype(np.float32)
    return out[..., 0] if grey else out


def to_gray(image: np.ndarray) -> np.ndarray:
    """Grey image ``(..., H, W)`` from ``(H, W)``, ``(H, W, 1)``, RGB ``(H, W, 3)`` or RGBA.

    Colour uses the ITU-R BT.601 luma weights (0.299, 0.587, 0.114), as
    ``tf.image.rgb_to_grayscale`` does. uint8 stays uint8 (rounded). A
    trailing axis of length 1, 3 or 4 is read as channels when the array has
    at least 3 axes.
    """
    x = np.asarray(image)
    if x.ndim < 2:
        raise ValueError(f"expected an image (H, W) or (H, W, C), got shape {x.shape}")
    if x.ndim == 2:
        return x.copy()
    channels = x.shape[-1]
    if channels == 1:
        return x[..., 0].copy()
    if channels not in (3, 4):
        raise ValueError(f"expected 1, 3 or 4 channels in the last axis, got shape {x.shape}")
    grey = x[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    if x.dtype == np.uint8:
        return np.clip(np.round(grey), 0, 255).astype(np.uint8)
    return grey.astype(np.float32 if x.dtype.kind == "f" else np.float64)


def to_rgb(image: np.ndarray) -> np.ndarray:
    """RGB image ``(H, W, 3)`` from grey ``(H, W)``/``(H, W, 1)`` (repeated), RGB, or RGBA (alpha dropped).

    For ImageNet-pretrained networks, which expect three channels. Keeps the dtype.
    """
    x = np.asarray(image)
    if x.ndim == 2:
        return np.repeat(x[..., None], 3, axis=-1)
    if x.ndim >= 3 and x.shape[-1] == 1:
        return np.repeat(x, 3, axis=-1)
    if x.ndim >= 3 and x.shape[-1] in (3, 4):
        return x[..., :3].copy()
    raise ValueError(f"expected (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got shape {x.shape}")


def medical_augmentation(
    seed: int = 0,
    *,
    flip: Literal["horizontal", "vertical", "horizontal_and_vertical"] | None = None,
    rotation: float = 0.03,
    translation: float = 0.05,
    zoom: float = 0.0,
    contrast: float = 0.1,
    noise: float = 0.0,
    value_range: tuple[float, float] = (0.0, 1.0),
    fill_mode: str = "reflect",
):
    """Keras augmentation layers for grey medical images; active in training only.

    Conservative by default: small rotations (``rotation`` in turns: 0.03 is
    about 11 degrees), shifts, contrast changes and optional Gaussian noise.
    **No flips by default**: anatomy is not mirror-symmetric in every task (a
    left-right flipped chest X-ray shows the heart on the wrong side, a
    condition called dextrocardia). Ask for ``flip="horizontal"`` where a
    mirror image is a plausible image (e.g. breast ultrasound: the horizontal axis
    is the transducer's lateral axis, so a mirrored frame is the probe turned round).

    With ``flip="horizontal", rotation=0.05, translation=0.08,
    contrast=0.2, value_range=(0, 255)`` and no noise or zoom it builds the
    same layers, with the same seeds, as ``medimgkit.models.augmentation``.

    Parameters
    ----------
    seed : base seed; each layer gets its own (seed, seed + 1, ...)
    flip : None, "horizontal", "vertical" or "horizontal_and_vertical"
    rotation, translation, zoom : maximum fraction (0 switches the layer off)
    contrast : maximum contrast factor change (0 switches it off)
    noise : standard deviation of additive Gaussian noise, in image units
    value_range : the range of the images, used to clip after the contrast change
    fill_mode : how rotations and shifts fill the corners ("reflect", "constant", ...)

    Returns
    -------
    keras.Sequential mapping float (N, H, W, C) to the same shape
    """
    import keras
    from keras import layers

    from medimgkit.models.layers import AUGMENTATION

    if flip not in (None, "horizontal", "vertical", "horizontal_and_vertical"):
        raise ValueError(f"flip must be None, 'horizontal', 'vertical' or 'horizontal_and_vertical', got {flip!r}")
    for name, value, top in (("rotation", rotation, 0.5), ("translation", translation, 1.0),
                             ("zoom", zoom, 1.0), ("contrast", contrast, 1.0)):
        if not 0 <= value < top:
            raise ValueError(f"{name} must be in [0, {top}), got {value}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    stack = []
    if flip:
        stack.append(layers.RandomFlip(flip, seed=seed))
    if rotation:
        stack.append(layers.RandomRotation(rotation, fill_mode=fill_mode, seed=seed + 1))
    if translation:
        stack.append(layers.RandomTranslation(translation, translation, fill_mode=fill_mode, seed=seed + 2))
    if zoom:
        stack.append(layers.RandomZoom(zoom, fill_mode=fill_mode, seed=seed + 5))
    if contrast:
        stack.append(layers.RandomContrast(contrast, value_range=value_range, seed=seed + 3))
    if noise:
        stack.append(layers.GaussianNoise(noise, seed=seed + 4))
    return keras.Sequential(stack, name=AUGMENTATION)


# Intensity changes: synthetic dataset shift (chapter 13). The same images as if
# from another scanner or setting: change the contrast or gamma of *test* images
# (labels unchanged), a cheap, controlled stand-in for real shift.


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


to_grey = deprecated_alias(to_gray, "to_grey")
