"""Sanity checks for saliency maps (Adebayo et al., NeurIPS 2018).

A saliency method that explains the *model* must give different maps when the
model's weights are destroyed. The *cascading randomisation* test re-draws the
weights layer by layer, from the output towards the input, on a clone of the
model, and compares each method's maps with the trained model's maps:

* Spearman rank correlation of the two maps (per image), and
* SSIM, the structural similarity index (Wang et al., IEEE TIP 2004).

A method whose maps stay similar while the model is randomised is showing the
image (edges, bright regions), not what the model learned: it fails.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import numpy as np
from scipy.stats import rankdata

from medimgkit._deprecation import deprecated_alias
from medimgkit._text import markdown_table
from medimgkit.explain._features import Target
from medimgkit.explain.gradcam import grad_cam
from medimgkit.explain.saliency import (
    grad_cam_plus_plus,
    gradient_x_input,
    predicted_class,
    smoothgrad,
    vanilla_gradient,
)

SaliencyMethod = Callable[..., np.ndarray]

#: The book's saliency methods, each ``f(model, images, class_index) -> (N, H, W)``.
METHODS: dict[str, SaliencyMethod] = {
    "Grad-CAM": grad_cam,
    "Grad-CAM++": grad_cam_plus_plus,
    "Gradient": vanilla_gradient,
    "SmoothGrad": smoothgrad,
    "Gradient x input": gradient_x_input,
}


def _pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim == 2 and b.ndim == 2:
        a, b = a[None], b[None]
    if a.shape != b.shape or a.ndim != 3:
        raise ValueError(f"maps must both be (N, H, W) of equal shape, got {np.shape(a)} and {np.shape(b)}")
    return a, b


def spearman(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman rank correlation between paired maps, one value per pair.

    Parameters
    ----------
    a, b : float arrays (N, H, W) (or one (H, W) map each)

    Returns
    -------
    float64 (N,) in [-1, 1]. Ties get average ranks. A constant map has no
    ranking to share: the value is 0 when exactly one map of a pair is
    constant, and 1 when both are constant and equal (0 if they differ).
    """
    a, b = _pairs(a, b)
    ra, rb = rankdata(a.reshape(len(a), -1), axis=1), rankdata(b.reshape(len(b), -1), axis=1)
    ra -= ra.mean(axis=1, keepdims=True)
    rb -= rb.mean(axis=1, keepdims=True)
    na, nb = np.sqrt((ra**2).sum(axis=1)), np.sqrt((rb**2).sum(axis=1))
    out = np.zeros(len(a))
    ok = (na > 0) & (nb > 0)
    out[ok] = (ra[ok] * rb[ok]).sum(axis=1) / (na[ok] * nb[ok])
    both_flat = (na == 0) & (nb == 0)
    out[both_flat] = [float(np.array_equal(a[i], b[i])) for i in np.flatnonzero(both_flat)]
    return np.clip(out, -1.0, 1.0)


def ssim(a: np.ndarray, b: np.ndarray, data_range: float = 1.0) -> np.ndarray:
    """Structural similarity (Wang et al., 2004) of paired maps, via ``tf.image.ssim``.

    Gaussian window of 11 px (sigma 1.5), shrunk to the map size for maps
    smaller than 11 px.

    Parameters
    ----------
    a, b : float arrays (N, H, W) (or one (H, W) map each), values in [0, data_range]
    data_range : float, the maps' dynamic range (1 for [0, 1] maps)

    Returns
    -------
    float64 (N,); 1 for identical maps.
    """
    import tensorflow as tf

    a, b = _pairs(a, b)
    if data_range <= 0:
        raise ValueError(f"data_range must be positive, got {data_range}")
    size = int(min(11, a.shape[1], a.shape[2]))
    value = tf.image.ssim(
        tf.constant(a[..., None], tf.float32), tf.constant(b[..., None], tf.float32),
        max_val=float(data_range), filter_size=size,
    )
    return value.numpy().astype(np.float64)


def kernel_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """Layers holding a kernel (convolutions, dense), input to output, nested models unrolled."""
    found: list[keras.layers.Layer] = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            found.extend(kernel_layers(layer))
        elif any(len(w.shape) >= 2 for w in layer.weights):
            found.append(layer)
    return found


def _randomise(layer: keras.layers.Layer, seed: int) -> None:
    """Re-draw a layer's kernels (weights with 2+ axes) from its own initializer; biases and BN stay."""
    for i, w in enumerate(layer.weights):
        if len(w.shape) < 2:
            continue
        init = getattr(layer, "kernel_initializer", None) or getattr(layer, "depthwise_initializer", None)
        config = init.get_config() if init is not None else {}
        cls = type(init) if init is not None else keras.initializers.GlorotUniform
        config["seed"] = seed + i
        w.assign(cls.from_config(config)(tuple(w.shape), dtype=w.dtype))


def cascading_randomization(model: keras.Model, layers: Sequence[str] | None = None, seed: int = 0):
    """Yield ``(layer_name, model)`` with the weights randomised from the top down to that layer.

    The model is cloned once; the original is never changed. Each step
    randomises one more layer of the *same* clone (cascading).

    Parameters
    ----------
    model : keras.Model
    layers : names of kernel layers, in the order to randomise them; default
        all kernel layers from the output to the input (``kernel_layers``)
    seed : int
    """
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    by_name = {layer.name: layer for layer in kernel_layers(clone)}
    names = list(layers) if layers is not None else [layer.name for layer in reversed(kernel_layers(clone))]
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ValueError(f"layers {unknown} are not kernel layers of {model.name!r}; expected some of {sorted(by_name)}")
    for step, name in enumerate(names):
        _randomise(by_name[name], seed=seed + 1000 * step)
        yield name, clone


def sanity_check(
    model: keras.Model,
    images: np.ndarray,
    methods: dict[str, SaliencyMethod] | None = None,
    class_index: int | np.ndarray | None = None,
    layers: Sequence[str] | None = None,
    seed: int = 0,
    output: int | str = 0,
) -> dict:
    """Cascading-randomisation sanity check of saliency methods (Adebayo et al., NeurIPS 2018).

    Parameters
    ----------
    model : keras.Model, the trained classifier (not modified); functional or
        Sequential, possibly nesting a backbone or with skip connections
    images : uint8 (0-255) or float ([0, 1]) (N, H, W, C); the methods get
        them as float32 in [0, 1] (``medimgkit._contract.model_input``)
    methods : ``{name: f(model, images, class_index) -> (N, H, W) in [0, 1]}``;
        default ``METHODS``. A method that ignores the model (e.g. an edge
        detector) is a useful control: it must fail.
    class_index : classes to explain (int or int array (N,)); default the
        *trained* model's prediction per image, kept fixed while the weights
        are randomised
    layers : kernel layer names in randomisation order (default: all, top down)
    seed : int
    output : int or str, the model output to explain (default 0, the first);
        any other is passed on to every method as ``output=``

    Returns
    -------
    dict with
        ``layers`` : list of str, ``["(trained)", name_1, ...]``; row ``i > 0``
        has every layer up to ``name_i`` randomised
        ``spearman``, ``ssim`` : ``{method: float64 (L + 1,)}``, the mean over
        images of the similarity to the trained model's maps (row 0 is 1)
        ``maps`` : ``{method: float32 (L + 1, N, H, W)}``
    """
    methods = dict(METHODS if methods is None else methods)
    if not methods:
        raise ValueError("methods is empty; give at least one saliency method")
    target = Target(model, output=output)
    x = target.images(images, single=False)
    classes = target.classes(class_index, len(x))
    if classes is None:
        classes = predicted_class(model, x, output=output)
    extra = {} if target.output_index == 0 else {"output": output}
    reference = {m: np.asarray(f(model, x, classes, **extra), dtype=np.float32) for m, f in methods.items()}
    names = ["(trained)"]
    rows = {m: [reference[m]] for m in methods}
    for name, randomised in cascading_randomization(model, layers, seed):
        names.append(name)
        for m, f in methods.items():
            rows[m].append(np.asarray(f(randomised, x, classes, **extra), dtype=np.float32))
    maps = {m: np.stack(v) for m, v in rows.items()}
    return {
        "layers": names,
        "spearman": {m: np.array([spearman(reference[m], s).mean() for s in maps[m]]) for m in methods},
        "ssim": {m: np.array([ssim(reference[m], s).mean() for s in maps[m]]) for m in methods},
        "maps": maps,
    }


def sanity_table(result: dict, metric: str = "spearman", digits: int = 2) -> str:
    """A Markdown table of ``sanity_check`` similarities: one row per randomisation step."""
    if metric not in ("spearman", "ssim"):
        raise ValueError(f"metric must be 'spearman' or 'ssim', got {metric!r}")
    methods = list(result[metric])
    rows = [[name] + [f"{result[metric][m][i]:.{digits}f}" for m in methods] for i, name in enumerate(result["layers"])]
    return markdown_table(["randomised down to", *methods], rows)


def sanity_verdicts(result: dict, metric: str = "spearman", threshold: float = 0.5) -> dict[str, bool]:
    """``{method: passed}``: a method passes when, with every layer randomised, its maps'
    mean similarity to the trained maps has fallen below ``threshold``.

    The threshold is a convention, not part of Adebayo et al.; state it when
    you report a verdict.
    """
    if metric not in ("spearman", "ssim"):
        raise ValueError(f"metric must be 'spearman' or 'ssim', got {metric!r}")
    return {m: bool(v[-1] < threshold) for m, v in result[metric].items()}


cascading_randomisation = deprecated_alias(cascading_randomization, "cascading_randomisation")
