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


def class_labels(
    labels, name: str = "labels", *, n: int | None = None, images: str = "images", nonnegative: bool = True
) -> np.ndarray:
    """Class labels as int64 ``(N,)``, or a ``ValueError`` naming what is wrong.

    Integers, or floats/bools that hold integers; ``(N, 1)`` (MedMNIST's
    layout) is flattened. Refused: NaN, fractions (soft labels such as 0.7,
    which a cast to int would silently turn into 0), negative labels,
    strings, one-hot or multi-label ``(N, K)`` rows, an empty array, negative
    labels (unless ``nonnegative=False``) and (with ``n``) a length other
    than ``n``.
    """
    expected = "integer labels (N,), one class per case"
    if labels is None:
        raise fail(name, expected, "None", "pass the labels")
    y = np.asarray(labels)
    if y.dtype.kind in "USO":
        example = y.ravel()[:2].tolist()
        raise fail(name, expected, f"dtype {y.dtype} with values like {example}",
                    "map class names to integers first, e.g. np.array([names.index(v) for v in labels])")
    if y.dtype.kind not in "biuf":
        raise fail(name, expected, f"dtype {y.dtype}", "pass integer labels")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim == 2:
        raise fail(name, expected, f"shape {y.shape} (one-hot or multi-label rows?)",
                    "for one-hot rows pass y.argmax(axis=1); one label per case")
    if y.ndim != 1:
        raise fail(name, expected, f"shape {y.shape}", "pass one label per case")
    if len(y) == 0:
        raise fail(name, expected, "an empty array", "pass at least one case")
    if y.dtype.kind == "f":
        bad = ~np.isfinite(y)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise fail(name, expected, f"{y[i]} at index {i}", "drop the cases without a label")
        frac = y != np.round(y)
        if frac.any():
            i = int(np.flatnonzero(frac)[0])
            raise fail(name, expected, f"{y[i]:g} at index {i} (a soft or averaged label?)",
                        "round or threshold soft labels to classes first, e.g. (y >= 0.5).astype(int)")
    y = y.astype(np.int64)
    if nonnegative and (y < 0).any():
        i = int(np.flatnonzero(y < 0)[0])
        raise fail(name, "labels 0, 1, ... (class indices)", f"label {int(y[i])} at index {i}",
                    "map the classes to 0..K-1 first")
    if n is not None and len(y) != n:
        raise ValueError(f"{n} {images} but {len(y)} {name}; expected one label per image")
    return y


def _shape(shape) -> tuple:
    return tuple(None if s is None else int(s) for s in shape)


def fits_model(model, x: np.ndarray, name: str = "images") -> None:
    """Refuse images ``x`` (from :func:`model_input`) that do not match the model's input, before TensorFlow does."""
    inputs = getattr(model, "inputs", None)
    if not inputs or len(inputs) != 1:
        return
    want = _shape(inputs[0].shape[1:])
    got = tuple(x.shape[1:])
    if len(want) != len(got) or any(w is not None and w != g for w, g in zip(want, got)):
        shown = "(N, " + ", ".join("?" if w is None else str(w) for w in want) + ")"
        fix = ("convert grey/colour with medimgkit.transforms.to_rgb or to_gray" if want[:-1] == got[:-1]
               else "resize them (medimgkit.transforms.resize_pad, or load_medical_folder(image_size=...)) "
                    "or build the model for this size")
        raise fail(name, f"images shaped {shown} for this model's input", f"shape (N, {', '.join(map(str, got))})",
                    fix)


def fits_outputs(model, y: np.ndarray, name: str = "labels") -> int:
    """The number of classes of a softmax model; refuse labels ``y`` it cannot output."""
    outputs = getattr(model, "outputs", None)
    if not outputs:
        return int(y.max()) + 1
    units = outputs[0].shape[-1]
    if units is None:
        return int(y.max()) + 1
    units = int(units)
    if units < 2:
        raise fail("model", "a classifier with one softmax output per class (2 for a binary task)",
                    f"{units} output unit (a sigmoid?)",
                    "end the model with keras.layers.Dense(num_classes, activation='softmax')")
    bad = (y < 0) | (y >= units)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise fail(name, f"labels in 0..{units - 1} (the model has {units} classes)", f"label {int(y[i])} at index {i}",
                    "check the labels, or build the model with one output per class")
    return units
