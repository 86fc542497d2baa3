"""The one input contract of medimgkit, checked in one place.

Images are **uint8 in 0-255** or **float in [0, 1]**, shaped ``(N, H, W, C)``
(``(N, H, W)`` is taken as one channel); 3-D models take volumes
``(N, D, H, W, C)`` or ``(N, D, H, W)``. Whether a four-axis array is a batch
of images with channels or of volumes without them is decided by the model
(:func:`spatial_rank`), never guessed: ``train.fit`` and
``train.predict_proba`` convert with the model's rank, and an array whose
rank does not match the model's input is refused, naming the shape found,
the shape expected and how to fix it.
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


def model_input(
    images, name: str = "images", *, volumes: bool | None = False, single: bool = False, model_shape: tuple = ()
) -> np.ndarray:
    """``images`` as float32 in [0, 1] with a channel axis, or a ``ValueError`` naming what is wrong.

    Parameters
    ----------
    images : array-like
        uint8 (0-255) or float ([0, 1]) images ``(N, H, W)`` or ``(N, H, W, C)``;
        with ``volumes=True`` volumes ``(N, D, H, W)`` or ``(N, D, H, W, C)``.
        A list of arrays is stacked; one whose shape differs from the first
        is refused, naming its index.
    name : str
        How the error message names the argument.
    volumes : bool or None
        ``False``: 2-D images; ``True``: 3-D volumes; ``None``: volumes if
        the array has five axes, else images (use it only where the model is
        not known yet: a four-axis array is taken as images).
    single : bool
        Also accept one image without the batch axis (it becomes a batch of one).
    model_shape : tuple
        The model's input shape without the batch axis (``None`` for a free
        size), named in the error when the number of axes is wrong.

    Returns
    -------
    float32 array ``(N, H, W, C)`` (or ``(N, D, H, W, C)``) in [0, 1].
    """
    x = _stack(images, name)
    if volumes is None:
        volumes = x.ndim == 5
    spatial = 3 if volumes else 2
    what = "(N, D, H, W, C) volumes" if volumes else "(N, H, W, C) images"
    if model_shape:
        what += " = (N, " + ", ".join("?" if m is None else str(m) for m in model_shape) + "), this model's input"
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
            "a 3-D model needs volumes (N, D, H, W, C) or (N, D, H, W); these look like 2-D images: "
            "stack each case's slices into one volume, or use a 2-D model" if volumes and x.ndim in (3, 4)
            else "a 2-D model needs images (N, H, W, C) or (N, H, W); these look like volumes: use a 3-D model "
                 "(medimgkit.models.cnn3d), or pass one slice per volume (x[:, x.shape[1] // 2]) or "
                 "medimgkit.data.orthogonal_slices(x)" if not volumes and x.ndim == 5
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


def _stack(images, name: str) -> np.ndarray:
    """``images`` as one array; a list or tuple of arrays whose shapes differ is refused, naming the first odd one."""
    if isinstance(images, (list, tuple)) and images and all(hasattr(im, "shape") for im in images):
        first = tuple(np.shape(images[0]))
        for i, im in enumerate(images):
            if tuple(np.shape(im)) != first:
                raise fail(f"{name}[{i}]", f"the shape of {name}[0], {first}", f"shape {tuple(np.shape(im))}",
                           "resize or crop every image (volume) to one shape before stacking them "
                           "(medimgkit.transforms.resize_pad, or medimgkit.data.resample for volumes)")
    return np.asarray(images)


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


def spatial_rank(model) -> int | None:
    """How many spatial axes the model's one input has: 2 for images ``(N, H, W, C)``, 3 for volumes; else None."""
    inputs = getattr(model, "inputs", None)
    if not inputs or len(inputs) != 1:
        return None
    rank = len(inputs[0].shape) - 2
    return rank if rank in (2, 3) else None


def for_model(model, images, name: str = "images") -> np.ndarray:
    """``images`` converted for ``model`` (:func:`model_input` with the model's rank) and checked against its input.

    A four-axis array is volumes for a 3-D model and images with channels for
    a 2-D one; an array of the wrong rank or shape is refused with a
    ``ValueError`` naming the shape found, the model's input shape and the fix.
    """
    rank = spatial_rank(model)
    shape = _shape(model.inputs[0].shape[1:]) if rank is not None else ()
    x = model_input(images, name, volumes=None if rank is None else rank == 3, model_shape=shape)
    fits_model(model, x, name)
    return x


def fits_model(model, x: np.ndarray, name: str = "images") -> None:
    """Refuse images ``x`` (from :func:`model_input`) that do not match the model's input, before TensorFlow does."""
    inputs = getattr(model, "inputs", None)
    if not inputs or len(inputs) != 1:
        return
    want = _shape(inputs[0].shape[1:])
    got = tuple(x.shape[1:])
    if len(want) != len(got) or any(w is not None and w != g for w, g in zip(want, got)):
        shown = "(N, " + ", ".join("?" if w is None else str(w) for w in want) + ")"
        kind = "volumes" if len(want) == 4 else "images"
        axes = ("depth", "height", "width", "channels") if len(want) == 4 else ("height", "width", "channels")
        if len(want) == 3 and len(got) == 3 and got[-1] > 4 and want[-1] in (1, 3, None):
            fix = (f"these look like volumes (N, D, H, W) with D = {got[-1]} read as channels: a 2-D model takes "
                   "images; pass one slice per volume (x[:, x.shape[1] // 2]) or "
                   "medimgkit.data.orthogonal_slices(x), or build a 3-D model (medimgkit.models.cnn3d)")
        elif len(want) != len(got):
            fix = ("a 3-D model takes volumes (N, D, H, W) or (N, D, H, W, C)" if len(want) == 4
                   else "a 2-D model takes images (N, H, W) or (N, H, W, C)")
        elif want[:-1] == got[:-1]:
            fix = "convert grey/colour with medimgkit.transforms.to_rgb or to_gray"
        else:
            wrong = [f"{axis} {g} (the model takes {w})" for axis, w, g in zip(axes, want, got)
                     if w is not None and w != g]
            resize = ("resample them to the model's grid (medimgkit.data.resample), or build the model for this size"
                      if kind == "volumes" else
                      "resize them (medimgkit.transforms.resize_pad, or load_medical_folder(image_size=...)) "
                      "or build the model for this size")
            fix = f"wrong {', '.join(wrong)}; {resize}"
        raise fail(name, f"{kind} shaped {shown} for this model's input", f"shape (N, {', '.join(map(str, got))})",
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
