"""Saliency maps beside Grad-CAM: Grad-CAM++, gradients, SmoothGrad, gradient x input.

All maps are batched like ``medimgkit.explain.grad_cam``: images
``(N, H, W, C)`` in (uint8 0-255 or float [0, 1], through the package's input
contract; volumes ``(N, D, H, W, C)`` for a 3-D model), float32 maps
``(N, H, W)`` (``(N, D, H, W)``) in [0, 1] out, each map scaled by its own
maximum. The output (``output=``, default the first), the class score and the
feature map are found exactly as for ``grad_cam``, by the shared
``medimgkit.explain._features``: when the output is a softmax/sigmoid, the
class *log-odds* computed from its pre-activation logits, so confident
predictions still have gradients.

* Grad-CAM++ (Chattopadhay et al., WACV 2018): Grad-CAM with per-pixel weights
  ``alpha = g^2 / (2 g^2 + sum(A) g^3)`` on the positive gradients ``g``, using
  the exponential-score closed form of the paper; each channel's ``alpha`` is
  normalised to sum to one, as in the authors' reference code.
* Vanilla gradient (Simonyan et al., ICLR workshop 2014): ``|d score / d x|``,
  maximum over channels.
* SmoothGrad (Smilkov et al., 2017): the gradient averaged over noisy copies
  ``x + N(0, sigma^2)``, ``sigma = noise * (max(x) - min(x))``, then shown as
  its absolute value like the vanilla map.
* Gradient x input (Shrikumar et al., 2016): ``|x * d score / d x|``.

``medimgkit.explain.sanity`` checks whether such maps depend on the model at all.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from medimgkit.explain._features import Target, normalise, resize_maps, spatial_axes


def predicted_class(model: keras.Model, images: np.ndarray, output: int | str = 0) -> np.ndarray:
    """The class each image is explained for by default: int64 ``(N,)``.

    The argmax of the class scores of ``output`` (index or name, default the
    first), i.e. of its probabilities; for one sigmoid unit 1 where p > 0.5,
    else 0. ``images`` as for ``grad_cam`` (uint8 0-255 or float [0, 1]).
    """
    target = Target(model, output=output)
    return np.argmax(target.predict(target.images(images)), axis=-1).astype(np.int64)


def grad_cam_plus_plus(
    model: keras.Model,
    images: np.ndarray,
    class_index: int | np.ndarray | None = None,
    layer: str | None = None,
    output: int | str = 0,
) -> np.ndarray:
    """Grad-CAM++ heatmaps (Chattopadhay et al., WACV 2018), batched.

    Parameters
    ----------
    model : keras.Model, a CNN on one ``keras.Input`` (it may nest a backbone,
        have skip connections or several outputs; 2-D or 3-D)
    images : uint8 (0-255) or float ([0, 1]) (N, H, W, C) (or (N, D, H, W, C));
        one image without the batch axis is a batch of one
    class_index : int, int array (N,), or None for each image's predicted class
    layer : str, optional; default ``explain.find_last_conv_layer(model, output)``
    output : int or str, the model output to explain (default 0, the first)

    Returns
    -------
    float32 (N, H, W) (or (N, D, H, W)) in [0, 1], resized to the input; all
    zeros where no positive evidence exists.
    """
    target = Target(model, output=output, layer=layer, feature=True)
    x = target.images(images)
    feature_map, g, _ = target.feature_gradients(x, target.classes(class_index, len(x)))
    axes = spatial_axes(feature_map)[:-1]
    # With score Y = exp(S): dY/dA = Y g, d2Y/dA2 = Y g^2, d3Y/dA3 = Y g^3 (the paper's closed form).
    g2, g3 = g**2, g**3
    total = ops.sum(feature_map, axis=axes, keepdims=True)
    denom = 2.0 * g2 + total * g3
    safe = ops.where(ops.abs(denom) > 1e-12, denom, ops.ones_like(denom))
    alpha = g2 / safe
    # As in the authors' reference code, each channel's alphas are normalised to sum to one.
    alpha_sum = ops.sum(alpha, axis=axes, keepdims=True)
    alpha = ops.where(alpha_sum != 0, alpha / ops.where(alpha_sum != 0, alpha_sum, 1.0), 0.0)
    weights = ops.sum(alpha * ops.relu(g), axis=axes, keepdims=True)
    cam = ops.relu(ops.sum(weights * feature_map, axis=-1))
    return normalise(resize_maps(cam, x.shape[1:-1]))


def _magnitude(grads: np.ndarray) -> np.ndarray:
    """``max_c |grads|`` over the channel axis, normalised per map."""
    return normalise(np.abs(grads).max(axis=-1))


def vanilla_gradient(
    model: keras.Model, images: np.ndarray, class_index: int | np.ndarray | None = None, output: int | str = 0
) -> np.ndarray:
    """Gradient saliency ``max_c |d score / d x_c|`` (Simonyan et al., 2014), batched.

    Parameters
    ----------
    model : keras.Model on one ``keras.Input`` of images (or volumes)
    images : uint8 (0-255) or float ([0, 1]) (N, H, W, C) (or (N, D, H, W, C)), or one image
    class_index : int, int array (N,), or None for each image's predicted class
    output : int or str, the model output to explain (default 0, the first)

    Returns
    -------
    float32 (N, H, W) (or (N, D, H, W)) in [0, 1].
    """
    target = Target(model, output=output)
    x = target.images(images)
    grads, _ = target.input_gradients(x, target.classes(class_index, len(x)))
    return _magnitude(grads)


def smoothgrad(
    model: keras.Model,
    images: np.ndarray,
    class_index: int | np.ndarray | None = None,
    samples: int = 25,
    noise: float = 0.15,
    seed: int = 0,
    output: int | str = 0,
) -> np.ndarray:
    """SmoothGrad (Smilkov et al., 2017): gradients averaged over noisy copies, then ``max_c |.|``.

    The signed gradients are averaged (as in the paper and the PAIR saliency
    library), so that noise of either sign cancels; averaging absolute values
    instead would favour pixels that merely have many paths to the output.

    Parameters
    ----------
    model : keras.Model on one ``keras.Input`` of images (or volumes)
    images : uint8 (0-255) or float ([0, 1]) (N, H, W, C) (or (N, D, H, W, C)), or one image
    class_index : int, int array (N,), or None: each image's predicted class
        on the *clean* image, kept fixed for its noisy copies
    samples : int, noisy copies per image (>= 1)
    noise : float, noise standard deviation as a fraction of each image's
        intensity range (the paper suggests 0.1-0.2); the noisy copies may
        leave [0, 1], as in the paper
    seed : int, seeds the noise
    output : int or str, the model output to explain (default 0, the first)

    Returns
    -------
    float32 (N, H, W) (or (N, D, H, W)) in [0, 1].
    """
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 1:
        raise ValueError(f"samples must be at least 1, got {samples!r}")
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    target = Target(model, output=output)
    x = target.images(images)
    classes = target.classes(class_index, len(x))
    if classes is None:
        classes = np.argmax(target.predict(x), axis=-1).astype(np.int64)
    rng = np.random.default_rng(seed)
    axes = spatial_axes(x)
    sigma = noise * (x.max(axis=axes, keepdims=True) - x.min(axis=axes, keepdims=True))
    total = np.zeros(x.shape, dtype=np.float64)
    for _ in range(samples):
        noisy = (x + rng.normal(size=x.shape) * sigma).astype(np.float32)
        grads, _ = target.input_gradients(noisy, classes)
        total += grads
    return _magnitude((total / samples).astype(np.float32))


def gradient_x_input(
    model: keras.Model, images: np.ndarray, class_index: int | np.ndarray | None = None, output: int | str = 0
) -> np.ndarray:
    """``max_c |x_c * d score / d x_c|`` (Shrikumar et al., 2016), batched.

    ``x`` is the image in [0, 1] (uint8 input is divided by 255 first).
    Arguments as for ``vanilla_gradient``; returns float32 (N, H, W) (or (N, D, H, W)) in [0, 1].
    """
    target = Target(model, output=output)
    x = target.images(images)
    grads, _ = target.input_gradients(x, target.classes(class_index, len(x)))
    return _magnitude(grads * x)
