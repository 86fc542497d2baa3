"""Saliency maps beside Grad-CAM: Grad-CAM++, gradients, SmoothGrad, gradient x input.

All maps are batched like ``medimgkit.explain.grad_cam``: float32 images
``(N, H, W, C)`` in, float32 maps ``(N, H, W)`` in [0, 1] out, each map scaled
by its own maximum. The class score is the one ``grad_cam`` uses: when the
model ends in a softmax/sigmoid ``Dense`` layer, the class *log-odds* computed
from that layer's pre-activation logits, so confident predictions still have
gradients.

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

from collections.abc import Callable

import keras
import numpy as np

from medimgkit.explain._features import find_last_conv_layer, is_spatial, log_odds, score_head


def _as_batch(images: np.ndarray) -> np.ndarray:
    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4:
        raise ValueError(f"images must be (N, H, W, C) float images, got shape {np.shape(images)}")
    return x


def _score_model(model: keras.Model, extra=None) -> tuple[keras.Model, Callable]:
    """A model giving ``[extra outputs..., features]`` and a function features -> class scores.

    The scores are the class log-odds from the logits when the model ends in a
    softmax/sigmoid Dense (``explain._features``),
    otherwise the model's output.
    """
    import tensorflow as tf

    pre_head, head = score_head(model)
    outputs = list(extra or []) + [pre_head if head is not None else model.outputs[0]]
    sub = keras.Model(model.inputs, outputs)

    def scores(features):
        if head is None:
            return features
        logits = tf.matmul(features, head.kernel)
        if head.use_bias:
            logits = logits + head.bias
        return log_odds(logits, head.activation.__name__)

    return sub, scores


def _select(scores, class_index, n: int):
    """Sum over the batch of each image's score for its class (predicted when None)."""
    import tensorflow as tf

    if class_index is None:
        classes = tf.argmax(scores, axis=-1)
    else:
        classes = tf.broadcast_to(tf.constant(class_index, dtype=tf.int64), [n])
    k = scores.shape[-1]
    c = classes.numpy()
    if np.any(c < 0) or np.any(c >= k):
        raise ValueError(f"class_index {class_index!r} is outside 0..{k - 1}")
    # Exact: each image's score depends on that image only (inference mode).
    return tf.reduce_sum(tf.gather(scores, classes, axis=1, batch_dims=1)), c


def _normalise(maps) -> np.ndarray:
    import tensorflow as tf

    peak = tf.reduce_max(maps, axis=(1, 2), keepdims=True)
    return tf.math.divide_no_nan(maps, peak).numpy().astype(np.float32)


def predicted_class(model: keras.Model, images: np.ndarray) -> np.ndarray:
    """The predicted class of each image, int64 ``(N,)``."""
    x = _as_batch(images)
    return np.argmax(model.predict(x, verbose=0), axis=-1).astype(np.int64)


def grad_cam_plus_plus(
    model: keras.Model,
    images: np.ndarray,
    class_index: int | np.ndarray | None = None,
    layer: str | None = None,
) -> np.ndarray:
    """Grad-CAM++ heatmaps (Chattopadhay et al., WACV 2018), batched.

    Parameters
    ----------
    model : keras.Model, a CNN with a defined input (it may nest a backbone)
    images : float32 (N, H, W, C) or (H, W, C), model-ready
    class_index : int, int array (N,), or None for each image's predicted class
    layer : str, optional; default ``explain.find_last_conv_layer(model)``

    Returns
    -------
    float32 (N, H, W) in [0, 1], resized to the input; all zeros where no
    positive evidence exists.
    """
    import tensorflow as tf

    x = _as_batch(images)
    target = model.get_layer(layer) if layer is not None else find_last_conv_layer(model)
    if not is_spatial(target):
        raise ValueError(f"layer {target.name!r} has output shape {target.output.shape}; Grad-CAM++ needs (N, H, W, C)")
    sub, scores_of = _score_model(model, extra=[target.output])
    tensor = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        feature_map, features = sub(tensor, training=False)
        selected, _ = _select(scores_of(features), class_index, len(x))
    g = tape.gradient(selected, feature_map)
    # With score Y = exp(S): dY/dA = Y g, d2Y/dA2 = Y g^2, d3Y/dA3 = Y g^3 (the paper's closed form).
    g2, g3 = g**2, g**3
    total = tf.reduce_sum(feature_map, axis=(1, 2), keepdims=True)
    denom = 2.0 * g2 + total * g3
    alpha = tf.math.divide_no_nan(g2, tf.where(tf.abs(denom) > 1e-12, denom, tf.ones_like(denom)))
    # As in the authors' reference code, each channel's alphas are normalised to sum to one.
    alpha = tf.math.divide_no_nan(alpha, tf.reduce_sum(alpha, axis=(1, 2), keepdims=True))
    weights = tf.reduce_sum(alpha * tf.nn.relu(g), axis=(1, 2), keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(weights * feature_map, axis=-1))[..., None]
    cam = tf.image.resize(cam, x.shape[1:3], method="bilinear")[..., 0]
    return _normalise(cam)


def _input_gradients(model: keras.Model, x: np.ndarray, class_index) -> np.ndarray:
    """d score / d x, float32 (N, H, W, C), and the classes explained."""
    import tensorflow as tf

    sub, scores_of = _score_model(model)
    tensor = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(tensor)
        features = sub(tensor, training=False)
        features = features[0] if isinstance(features, (list, tuple)) else features
        selected, classes = _select(scores_of(features), class_index, len(x))
    return tape.gradient(selected, tensor).numpy(), classes


def vanilla_gradient(
    model: keras.Model, images: np.ndarray, class_index: int | np.ndarray | None = None
) -> np.ndarray:
    """Gradient saliency ``max_c |d score / d x_c|`` (Simonyan et al., 2014), batched.

    Parameters
    ----------
    model : keras.Model
    images : float32 (N, H, W, C) or (H, W, C)
    class_index : int, int array (N,), or None for each image's predicted class

    Returns
    -------
    float32 (N, H, W) in [0, 1].
    """
    x = _as_batch(images)
    grads, _ = _input_gradients(model, x, class_index)
    return _normalise(np.abs(grads).max(axis=-1))


def smoothgrad(
    model: keras.Model,
    images: np.ndarray,
    class_index: int | np.ndarray | None = None,
    samples: int = 25,
    noise: float = 0.15,
    seed: int = 0,
) -> np.ndarray:
    """SmoothGrad (Smilkov et al., 2017): gradients averaged over noisy copies, then ``max_c |.|``.

    The signed gradients are averaged (as in the paper and the PAIR saliency
    library), so that noise of either sign cancels; averaging absolute values
    instead would favour pixels that merely have many paths to the output.

    Parameters
    ----------
    model : keras.Model
    images : float32 (N, H, W, C) or (H, W, C)
    class_index : int, int array (N,), or None: each image's predicted class
        on the *clean* image, kept fixed for its noisy copies
    samples : int, noisy copies per image (>= 1)
    noise : float, noise standard deviation as a fraction of each image's
        intensity range (the paper suggests 0.1-0.2)
    seed : int, seeds the noise

    Returns
    -------
    float32 (N, H, W) in [0, 1].
    """
    if samples < 1:
        raise ValueError(f"samples must be at least 1, got {samples}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    x = _as_batch(images)
    if class_index is None:
        class_index = predicted_class(model, x)
    rng = np.random.default_rng(seed)
    sigma = noise * (x.max(axis=(1, 2, 3), keepdims=True) - x.min(axis=(1, 2, 3), keepdims=True))
    total = np.zeros(x.shape, dtype=np.float64)
    for _ in range(samples):
        noisy = (x + rng.normal(size=x.shape) * sigma).astype(np.float32)
        grads, _ = _input_gradients(model, noisy, class_index)
        total += grads
    return _normalise(np.abs(total / samples).max(axis=-1).astype(np.float32))


def gradient_x_input(
    model: keras.Model, images: np.ndarray, class_index: int | np.ndarray | None = None
) -> np.ndarray:
    """``max_c |x_c * d score / d x_c|`` (Shrikumar et al., 2016), batched; float32 (N, H, W) in [0, 1]."""
    x = _as_batch(images)
    grads, _ = _input_gradients(model, x, class_index)
    return _normalise(np.abs(grads * x).max(axis=-1))
