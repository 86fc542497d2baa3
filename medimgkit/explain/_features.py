"""The feature map and the class score of a Keras model: shared by every explanation method.

Grad-CAM, Grad-CAM++, the input-gradient methods and the sanity checks all
need the same two things: the last convolutional feature map *in the outer
model's graph* (a nested backbone counts as one layer) and the class scores
taken before the output activation, as class log-odds. They find both here.
"""

from __future__ import annotations

import keras

from medimgkit.models.layers import AUGMENTATION


def is_spatial(layer: keras.layers.Layer) -> bool:
    try:
        shape = layer.output.shape
    except (AttributeError, ValueError):
        return False
    return len(shape) == 4


def find_last_conv_layer(model: keras.Model) -> keras.layers.Layer:
    """The last top-level layer with a 4-D ``(N, H, W, C)`` output.

    A nested model (e.g. a Keras Applications backbone) whose output is a
    feature map counts as one such layer: its output is its last conv block.
    Pooling and augmentation layers are skipped.

    Raises
    ------
    ValueError
        If the model has no convolutional feature map.
    """
    skip = (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)
    for layer in reversed(model.layers):
        if isinstance(layer, keras.layers.InputLayer) or isinstance(layer, skip):
            continue
        if layer.name == AUGMENTATION:
            continue
        if is_spatial(layer):
            return layer
    raise ValueError(
        f"model {model.name!r} has no layer with a 4-D (N, H, W, C) output, so Grad-CAM has "
        "no convolutional feature map to explain; it needs a CNN"
    )


def outer_output(model: keras.Model, layer: keras.layers.Layer):
    """The layer's output tensor *in this model's graph*.

    For a plain layer that is ``layer.output``. A nested model's ``output``
    belongs to its own inner graph; the tensor that connects to the outer
    model's inputs is the output of the node created when the outer model
    called it.
    """
    candidates = [n.output_tensors[0] for n in reversed(getattr(layer, "_inbound_nodes", []))]
    candidates.append(layer.output)
    for tensor in candidates:
        try:
            keras.Model(model.inputs, tensor)
        except ValueError:
            continue
        return tensor
    raise ValueError(f"layer {layer.name!r} is not connected to the inputs of model {model.name!r}")


def split_at(model: keras.Model, feature_tensor, top):
    """(inputs -> feature map, feature map -> top) models, or None if the graph cannot be cut there.

    A cut fails when a later layer also reads something computed before the
    feature map (e.g. a skip connection around it).
    """
    try:
        inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
        return keras.Model(inputs, feature_tensor), keras.Model(feature_tensor, top)
    except (ValueError, TypeError, KeyError):
        return None


def score_head(model: keras.Model):
    """(tensor feeding the final Dense, that Dense) when the model ends in softmax/sigmoid."""
    last = model.layers[-1]
    activation = getattr(getattr(last, "activation", None), "__name__", "")
    if isinstance(last, keras.layers.Dense) and activation in ("softmax", "sigmoid"):
        return last.input, last
    return None, None


def log_odds(logits, activation: str):
    """Per-class log-odds ``log(p_c / (1 - p_c))`` from pre-activation logits, (N, K)."""
    import tensorflow as tf

    if activation == "sigmoid":
        return tf.concat([-logits, logits], axis=-1) if logits.shape[-1] == 1 else logits
    k = logits.shape[-1]
    others = tf.where(tf.eye(k, dtype=tf.bool)[None], -float("inf"), logits[:, None, :])
    return logits - tf.reduce_logsumexp(others, axis=-1)


