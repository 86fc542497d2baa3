"""The one input contract of medimgkit, checked in one place.

Images are **uint8 in 0-255** or **float in [0, 1]**, shaped ``(N, H, W, C)``
(``(N, H, W)`` is taken as one channel; 3-D models take ``(N, D, H, W, C)``).
Every function that feeds images to a model (``train.fit``,
``train.predict_proba``, ``explain.*``, ``export.*``) converts them with
:func:`model_input`, so a uint8 batch and the same batch divided by 255 give
the same answer everywhere, and anything else is refused with a message that
says what was expected, what was found and how to fix it.
"""

from __future__ import annotations

import numpy as np

CONTRACT = "uint8 in 0-255 or float in [0, 1]"


def fail(name: str, expected: str, found: str, fix: str) -> ValueError:
    return ValueError(f"{name}: expected {expected}, found {found}; {fix}")


def model_input(images, name: str = "images", *, volumes: bool = False, single: bool = False) -> np.ndarray:
    """``images`` as float32 in [0, 1] with a channel axis, or a ``ValueError`` naming what is wrong.

    Parameters
    ----------
    images : array-like
        uint8 (0-255) or float ([0, 1]) images ``(N, H, W)`` or ``(N, H, W, C)``;
        with ``volumes=True`` volumes ``(N, D, H, W)`` or ``(N, D, H, W, C)``.
    name : str
        How the error message names the argument.
    volumes : bool
        Expect 3-D volumes instead of 2-D images.
    single : bool
        Also accept one image without the batch axis (it becomes a batch of one).

    Returns
    -------
    float32 array ``(N, H, W, C)`` (or ``(N, D, H, W, C)``) in [0, 1].
    """
    x = np.asarray(images)
    spatial = 3 if volumes else 2
    what = "(N, D, H, W, C) volumes" if volumes else "(N, H, W, C) images"
    if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise fail(name, f"{what}, {CONTRACT}", f"dtype {x.dtype}", "pass a numeric NumPy array")
    if x.dtype == bool:
        raise fail(name, f"{what}, {CONTRACT}", "dtype bool (a mask?)", "convert a mask with mask.astype(np.float32)")
    if single and x.ndim == spatial + 1 and x.shape[-1] in (1, 2, 3, 4):
        x = x[None]
    if x.ndim == spatial + 1:
        x = x[..., None]
    if x.ndim != spatial + 2:
        hint = (
            "a 3-D model needs volumes (N, D, H, W, C)" if volumes and x.ndim == 4
            else "a 2-D model needs images (N, H, W, C); for volumes use a 3-D model" if not volumes and x.ndim == 5
            else "add or remove axes to get that shape"
        )
        raise fail(name, what, f"shape {x.shape}", hint)
    if len(x) == 0:
        raise fail(name, f"at least one image in {what}", "an empty batch", "pass a non-empty array")
    if x.dtype == np.uint8:
        return x.astype(np.float32) / 255.0
    if np.issubdtype(x.dtype, np.integer):
        lo, hi = int(x.min()), int(x.max())
        if lo < 0 or hi > 255:
            raise fail(name, CONTRACT, f"{x.dtype} values in [{lo}, {hi}]",
                        "rescale to 0-255 and cast to uint8, or window the image first (medimgkit.transforms.window)")
        return x.astype(np.float32) / 255.0
    x = x.astype(np.float32)
    finite = np.isfinite(x)
    if not finite.all():
        bad = np.argwhere(~finite)[0]
        raise fail(name, "finite pixel values", f"{x[tuple(bad)]} at index {tuple(int(i) for i in bad)}",
                    "replace NaN/inf pixels (e.g. np.nan_to_num) or drop the image")
    lo, hi = float(x.min()), float(x.max())
    if lo < 0 or hi > 1:
        fix = ("these look like 0-255 values stored as float: divide by 255 or pass uint8"
               if lo >= 0 and hi <= 255 else
               "scale to [0, 1] first (medimgkit.transforms.window or minmax)")
        raise fail(name, CONTRACT, f"float values in [{lo:g}, {hi:g}]", fix)
    return x
