"""Grad-CAM (Selvaraju et al., ICCV 2017), batched, for 2-D images and 3-D volumes.

For class ``c`` and a convolutional feature map ``A`` (channels ``k``), the
map is ``ReLU(sum_k alpha_k A_k)`` with ``alpha_k`` the spatial mean of
``d s_c / d A_k``. The paper takes ``s_c`` as the pre-softmax score ``z_c``;
this module uses a variant, the class *log-odds* ``log(p_c / (1 - p_c))``:
for a softmax head ``z_c - logsumexp(z_k, k != c)``, for one sigmoid unit
``+z`` / ``-z``. Why a variant: with two softmax classes ``z_c`` alone is not
identified (adding a constant to both logits changes nothing), whereas the
log-odds is; its gradient points the same way as the gradient of the
probability ``p_c`` (so maps agree with the common per-image recipe) but does
not vanish when a prediction is confident, and with two classes the evidence
for one class is exactly the evidence against the other.

In 3-D (a ``Conv3D`` model, volumes ``(N, D, H, W, C)``) ``alpha_k`` is the
mean over depth, height and width, and the map is resized trilinearly.
The images, the output, the score and the feature map are found by
``medimgkit.explain._features``, shared with the other explanation methods.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from medimgkit.explain._features import Target, normalise, resize_maps, spatial_axes


def grad_cam(
    model: keras.Model,
    images: np.ndarray,
    class_index: int | np.ndarray | None = None,
    layer: str | None = None,
    output: int | str = 0,
) -> np.ndarray:
    """Grad-CAM heatmaps for a batch, in one gradient pass; 2-D images or 3-D volumes.

    The class score is the class log-odds ``log(p_c / (1 - p_c))``, a
    variant of the paper's pre-softmax score ``z_c``: for a softmax head
    ``z_c - logsumexp(z_k, k != c)``, for one sigmoid unit ``+z`` (class 1) /
    ``-z`` (class 0). Why: ``z_c`` alone is not identified (adding a constant
    to every logit changes no probability), the log-odds is; its gradient
    points the same way as that of ``p_c`` (the maps match the common
    per-image recipe) without vanishing for confident predictions. An output
    without a softmax/sigmoid is used as it is.

    Parameters
    ----------
    model : keras.Model
        A functional or Sequential CNN built on one ``keras.Input``: 2-D
        (``Conv2D``, input ``(H, W, C)``) or 3-D (``Conv3D``, input
        ``(D, H, W, C)``). It may nest another model (e.g. a Keras
        Applications backbone, explained at the backbone's output), have skip
        connections, and have several outputs.
    images : uint8 (0-255) or float (0-1) array (N, H, W, C), or (N, D, H, W, C) for a 3-D model
        Converted by ``medimgkit._contract.model_input``, so a uint8 batch and
        the same batch divided by 255 give identical maps; NaN/inf, 0-255
        floats and shapes that do not fit the model are refused with a
        ``ValueError``. A channel axis of 1 may be left out; one image shaped
        like the model's input (no batch axis) is a batch of one.
    class_index : int, int array (N,) (or (N, 1), as MedMNIST labels), or None
        Class to explain, for all images or per image; ``None`` explains each
        image's top-scoring class. Classes of the chosen ``output``.
    layer : str, optional
        Name of the top-level layer whose output is the feature map (a nested
        model: its output); default the last convolutional feature map that
        feeds ``output`` (``find_last_conv_layer``).
    output : int or str
        Index (in ``model.outputs``) or name (the output layer's name, or the
        key of a dict of outputs) of the model output to explain; default 0,
        the first (with a dict of outputs: the first key in sorted order).

    Returns
    -------
    float32 array (N, H, W) (or (N, D, H, W) for volumes) in [0, 1], resized
    (bi-/trilinearly) to the input, each map divided by its own maximum. An
    image with no positive evidence for the class gives zeros.

    Raises
    ------
    ValueError
        Naming the value: bad images, a ``class_index`` that is not a whole
        number, has the wrong length or is outside the output's classes, an
        unknown ``output`` or ``layer``, a model without a convolutional
        feature map, or one without a single image input.
    """
    target = Target(model, output=output, layer=layer, feature=True)
    x = target.images(images)
    feature_map, grads, _ = target.feature_gradients(x, target.classes(class_index, len(x)))
    axes = spatial_axes(feature_map)[:-1]
    weights = ops.mean(grads, axis=axes, keepdims=True)
    cam = ops.relu(ops.sum(weights * feature_map, axis=-1))
    return normalise(resize_maps(cam, x.shape[1:-1]))


def overlay(image: np.ndarray, heatmap: np.ndarray, alpha: float = 0.4, cmap: str = "jet") -> np.ndarray:
    """Blend a heatmap (H, W) in [0, 1] over an image (H, W) or (H, W, C) in [0, 1] or uint8.

    Returns float32 RGB ``(H, W, 3)`` in [0, 1].
    """
    import matplotlib

    img = np.asarray(image)
    img = img.astype(np.float32) / 255.0 if img.dtype == np.uint8 else img.astype(np.float32)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=-1)
    if img.shape[:2] != np.shape(heatmap):
        raise ValueError(f"image {img.shape[:2]} and heatmap {np.shape(heatmap)} differ in size")
    colours = matplotlib.colormaps[cmap](np.clip(heatmap, 0, 1))[..., :3]
    return np.clip((1 - alpha) * img + alpha * colours, 0, 1).astype(np.float32)
