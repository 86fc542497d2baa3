"""A network is a composition of simple maps: MLPs, their explicit forward pass, line profiles.

The chapter *Everything is a mapping* uses these pieces:

* :func:`mlp` builds a dense network ``g(W_n ... g(W_1 x + b_1) ... + b_n)``
  of a given width and depth;
* :func:`compose_numpy` recomputes a dense network's output from its weights,
  layer by layer, in plain NumPy (the composition written out);
* :func:`collapse_linear` multiplies out a stack of dense layers without
  activations into the single affine map it equals;
* :func:`line_profile` samples image intensities along a line (e.g. across a
  lesion edge);
* :func:`fit_curve` fits a curve by full-batch gradient descent, and
  :func:`mse` scores the fit;
* :func:`random_feature_errors` gives the best error reachable with fixed
  random hidden units (the output layer solved by least squares), the
  "existence" side of the universal approximation theorem.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
from keras import layers

# Activations that compose_numpy knows how to evaluate.
_NUMPY_ACTIVATIONS = {
    "linear": lambda z: z,
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
}


def mlp(
    input_dim: int = 1,
    width: int = 16,
    depth: int = 1,
    activation: str | Callable | None = "tanh",
    output_dim: int = 1,
    seed: int = 0,
    weight_scale: float = 1.0,
    bias_range: float = 0.0,
    name: str | None = None,
) -> keras.Model:
    """A multilayer perceptron built with the functional API.

    ``depth`` hidden ``Dense(width, activation)`` layers, then a linear
    ``Dense(output_dim)`` output layer. ``depth=0`` gives a single affine map.
    ``activation=None`` (or ``"linear"``) gives a stack of affine maps, which
    :func:`collapse_linear` shows to be one affine map.

    Parameters
    ----------
    input_dim, output_dim : int
        Sizes of the input vector and of the output vector.
    width : int
        Units per hidden layer.
    depth : int
        Number of hidden layers (0 or more).
    activation : str, callable or None
        The hidden layers' activation: a Keras name (``"tanh"``, ``"relu"``...)
        or a function of a tensor (e.g. ``keras.ops.square``).
    seed : int
        Seeds the initial weights of every layer.
    weight_scale : float
        Hidden kernels start uniform with variance ``weight_scale / fan_in``
        (1.0 is Keras' LeCun-uniform). A larger scale gives steeper units.
    bias_range : float
        Hidden biases start uniform in ``[-bias_range, bias_range]`` (0 gives
        zeros, Keras' default). For a 1-D input, non-zero biases spread the
        units' transition points over the input range.

    Returns
    -------
    keras.Model mapping float32 ``(N, input_dim)`` to float32 ``(N, output_dim)``.
    """
    for label, value, low in (("input_dim", input_dim, 1), ("width", width, 1),
                              ("depth", depth, 0), ("output_dim", output_dim, 1)):
        if not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{label} must be an integer >= {low}, got {value!r}")
    if weight_scale <= 0 or bias_range < 0:
        raise ValueError(
            f"weight_scale must be > 0 and bias_range >= 0, got {weight_scale} and {bias_range}"
        )
    init = keras.initializers
    act = activation or "linear"
    inputs = keras.Input(shape=(int(input_dim),), name="x")
    h = inputs
    for i in range(int(depth)):
        bias_init = (init.RandomUniform(-bias_range, bias_range, seed=seed + 1000 + i)
                     if bias_range > 0 else "zeros")
        h = layers.Dense(
            int(width), activation=act, name=f"hidden{i + 1}",
            kernel_initializer=init.VarianceScaling(weight_scale, "fan_in", "uniform", seed=seed + i),
            bias_initializer=bias_init,
        )(h)
    outputs = layers.Dense(
        int(output_dim), name="output",
        kernel_initializer=init.VarianceScaling(1.0, "fan_in", "uniform", seed=seed + int(depth)),
    )(h)
    return keras.Model(inputs, outputs, name=name or f"mlp_w{width}_d{depth}")


def _dense_layers(model: keras.Model) -> list:
    dense = []
    for layer in model.layers:
        if isinstance(layer, layers.InputLayer):
            continue
        if not isinstance(layer, layers.Dense):
            raise ValueError(
                f"layer {layer.name!r} is a {type(layer).__name__}; expected a model made "
                "only of Dense layers applied one after another"
            )
        dense.append(layer)
    if not dense:
        raise ValueError(f"model {model.name!r} has no Dense layers")
    return dense


def _activation_name(layer) -> str:
    act = layer.activation
    name = getattr(act, "__name__", str(act))
    return "linear" if name in ("linear", "identity") else name


def compose_numpy(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """Evaluate a dense network as the explicit composition ``g(h @ W + b)``, in NumPy.

    Parameters
    ----------
    model : keras.Model
        A chain of ``Dense`` layers (as built by :func:`mlp`) with activations
        ``linear``, ``relu``, ``tanh`` or ``sigmoid``.
    x : array, (N, input_dim)

    Returns
    -------
    float64 array (N, output_dim), equal to ``model(x)`` up to float32 rounding.
    """
    h = np.asarray(x, dtype=np.float64)
    dense = _dense_layers(model)
    if h.ndim != 2 or h.shape[1] != dense[0].kernel.shape[0]:
        raise ValueError(
            f"x must have shape (N, {dense[0].kernel.shape[0]}), got {h.shape}"
        )
    for layer in dense:
        name = _activation_name(layer)
        if name not in _NUMPY_ACTIVATIONS:
            raise ValueError(
                f"layer {layer.name!r} uses activation {name!r}; expected one of "
                f"{sorted(_NUMPY_ACTIVATIONS)}"
            )
        w = np.asarray(layer.kernel, dtype=np.float64)
        z = h @ w
        if layer.use_bias:
            z = z + np.asarray(layer.bias, dtype=np.float64)
        h = _NUMPY_ACTIVATIONS[name](z)
    return h


def collapse_linear(model: keras.Model) -> tuple[np.ndarray, np.ndarray]:
    """Multiply a stack of activation-free dense layers into one affine map.

    ``(x W_1 + b_1) W_2 + b_2 = x (W_1 W_2) + (b_1 W_2 + b_2)``, and so on.

    Returns
    -------
    (W_total, b_total) : float64 arrays of shapes (input_dim, output_dim) and
        (output_dim,), with ``model(x) == x @ W_total + b_total``.

    Raises
    ------
    ValueError
        If a layer has a non-linear activation (then no such collapse exists).
    """
    dense = _dense_layers(model)
    w_total = np.eye(dense[0].kernel.shape[0])
    b_total = np.zeros(dense[0].kernel.shape[0])
    for layer in dense:
        name = _activation_name(layer)
        if name != "linear":
            raise ValueError(
                f"layer {layer.name!r} has activation {name!r}; only layers without "
                "activation collapse to one linear map"
            )
        w = np.asarray(layer.kernel, dtype=np.float64)
        b = np.asarray(layer.bias, dtype=np.float64) if layer.use_bias else 0.0
        w_total, b_total = w_total @ w, b_total @ w + b
    return w_total, b_total


def line_profile(
    image: np.ndarray,
    start: tuple[float, float],
    end: tuple[float, float],
    num: int | None = None,
    sigma: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Intensities sampled along a straight line, with bilinear interpolation.

    Parameters
    ----------
    image : array (H, W), any real dtype (uint8 is fine)
    start, end : (row, col) in pixels, inside the image
    num : int, optional
        Number of samples; default one per pixel of line length (at least 2).
    sigma : float
        Standard deviation, in samples, of an optional Gaussian smoothing
        along the line (0 = none). The ends are padded by reflection.

    Returns
    -------
    distance : float64 (num,), pixels from ``start``
    values : float64 (num,), intensities in the image's units
    """
    img = np.asarray(image, dtype=np.float64)
    if img.ndim != 2:
        raise ValueError(f"image must be 2-D (H, W), got shape {img.shape}")
    h, w = img.shape
    (r0, c0), (r1, c1) = start, end
    for r, c in ((r0, c0), (r1, c1)):
        if not (0 <= r <= h - 1 and 0 <= c <= w - 1):
            raise ValueError(f"point {(r, c)} lies outside the image of shape {img.shape}")
    length = float(np.hypot(r1 - r0, c1 - c0))
    if num is None:
        num = max(2, int(round(length)) + 1)
    if num < 2:
        raise ValueError(f"num must be at least 2, got {num}")
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    t = np.linspace(0.0, 1.0, num)
    rows, cols = r0 + t * (r1 - r0), c0 + t * (c1 - c0)
    ri = np.clip(np.floor(rows).astype(int), 0, h - 2 if h > 1 else 0)
    ci = np.clip(np.floor(cols).astype(int), 0, w - 2 if w > 1 else 0)
    fr, fc = rows - ri, cols - ci
    r_next, c_next = np.minimum(ri + 1, h - 1), np.minimum(ci + 1, w - 1)
    values = (
        img[ri, ci] * (1 - fr) * (1 - fc) + img[r_next, ci] * fr * (1 - fc)
        + img[ri, c_next] * (1 - fr) * fc + img[r_next, c_next] * fr * fc
    )
    if sigma > 0:
        radius = int(np.ceil(3 * sigma))
        k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
        padded = np.pad(values, radius, mode="reflect" if num > radius else "edge")
        values = np.convolve(padded, k / k.sum(), mode="valid")
    return t * length, values


def fit_curve(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    steps: int = 1000,
    learning_rate: float = 1e-2,
) -> np.ndarray:
    """Fit ``model`` to ``(x, y)`` by full-batch Adam on the mean squared error.

    The whole loop runs inside one compiled ``tf.function``, so thousands of
    steps on a small curve take about a second on a CPU.

    Parameters
    ----------
    model : keras.Model mapping (N, d_in) to (N, d_out), e.g. from :func:`mlp`
    x : array (N, d_in); y : array (N, d_out) or (N,) when d_out == 1
    steps : int, number of gradient steps
    learning_rate : float, Adam's step size

    Returns
    -------
    float64 array (steps,): the training MSE before each step.
    """
    import tensorflow as tf

    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.float32)
    if y.ndim == 1:
        y = y[:, None]
    if x.ndim != 2 or y.ndim != 2 or len(x) != len(y):
        raise ValueError(f"x and y must be (N, d) arrays of equal N, got {x.shape} and {y.shape}")
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    if learning_rate <= 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate}")
    variables = model.trainable_variables
    optimizer = keras.optimizers.Adam(learning_rate)
    optimizer.build(variables)
    xt, yt = tf.constant(x), tf.constant(y)

    @tf.function
    def loop(n):
        losses = tf.TensorArray(tf.float32, size=n)
        for i in tf.range(n):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(model(xt, training=True) - yt))
            grads = tape.gradient(loss, variables)
            optimizer.apply(grads, variables)
            losses = losses.write(i, loss)
        return losses.stack()

    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")  # each new model traces anew; the retracing warning is expected
    try:
        return loop(tf.constant(int(steps))).numpy().astype(np.float64)
    finally:
        logger.setLevel(level)


def mse(model: keras.Model, x: np.ndarray, y: np.ndarray) -> float:
    """Mean squared error of ``model`` on ``(x, y)`` (``y`` may be (N,) for one output)."""
    pred = np.asarray(model(np.asarray(x, dtype=np.float32)), dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(pred.shape)
    return float(np.mean((pred - y) ** 2))


def random_feature_errors(
    x: np.ndarray,
    y: np.ndarray,
    widths: list[int],
    activation: str = "tanh",
    weight_scale: float = 1.0,
    bias_range: float = 1.0,
    seed: int = 0,
) -> np.ndarray:
    """Best achievable MSE of one-hidden-layer nets whose hidden units are random and fixed.

    Draws ``max(widths)`` random hidden units once (kernels uniform with
    variance ``weight_scale / input_dim``, biases uniform in
    ``[-bias_range, bias_range]``); the net of width ``w`` uses the first
    ``w`` of them, and its output layer is solved exactly by least squares.
    Because the nets are nested, the error cannot grow with width, and with
    at least ``N - 1`` units it interpolates the ``N`` points.

    Parameters
    ----------
    x : array (N, d_in); y : array (N,) or (N, 1)
    widths : increasing positive ints

    Returns
    -------
    float64 array (len(widths),): the training MSE at each width.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(len(x), -1)
    if x.ndim != 2:
        raise ValueError(f"x must be (N, d_in), got shape {x.shape}")
    widths = [int(w) for w in widths]
    if not widths or min(widths) < 1 or sorted(widths) != widths:
        raise ValueError(f"widths must be increasing positive integers, got {widths}")
    if activation not in _NUMPY_ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(_NUMPY_ACTIVATIONS)}, got {activation!r}")
    rng = np.random.default_rng(seed)
    limit = np.sqrt(3.0 * weight_scale / x.shape[1])
    w = rng.uniform(-limit, limit, size=(x.shape[1], widths[-1]))
    b = rng.uniform(-bias_range, bias_range, size=widths[-1])
    features = _NUMPY_ACTIVATIONS[activation](x @ w + b)
    errors = []
    for width in widths:
        design = np.column_stack([features[:, :width], np.ones(len(x))])
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        errors.append(float(np.mean((design @ coef - y) ** 2)))
    return np.array(errors)
