"""Grad-CAM (Selvaraju et al., ICCV 2017), batched.

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
"""

from __future__ import annotations

import keras
import numpy as np

from medimgkit.explain._features import find_last_conv_layer, is_spatial, log_odds, outer_output, score_head, split_at


def grad_cam(
    model: keras.Model,
    images: np.ndarray,
    class_index: int | np.ndarray | None = None,
    layer: str | None = None,
) -> np.ndarray:
    """Grad-CAM heatmaps for a batch, in one gradient pass.

    Parameters
    ----------
    model : keras.Model
        A functional or Sequential CNN with a defined input; it may nest
        another model (e.g. a backbone).
    images : float32 array (N, H, W, C)
        Model-ready images (e.g. from ``medimgkit.data.to_float``). A single
        image ``(H, W, C)`` is treated as a batch of one.
    class_index : int, int array (N,), or None
        Class to explain, per image or for all; ``None`` explains each image's
        predicted class.
    layer : str, optional
        Name of the top-level layer to use; default: the last conv feature map.

    Returns
    -------
    float32 array (N, H, W) in [0, 1], resized to the input resolution. An
    image whose map is zero everywhere (no positive evidence) gives zeros.
    """
    import tensorflow as tf

    x = np.asarray(images, dtype=np.float32)
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4:
        raise ValueError(f"images must be (N, H, W, C), got shape {np.shape(images)}")
    target = model.get_layer(layer) if layer is not None else find_last_conv_layer(model)
    if not is_spatial(target):
        raise ValueError(f"layer {target.name!r} has output shape {target.output.shape}; Grad-CAM needs (N, H, W, C)")
    pre_head, head = score_head(model)
    feature_tensor = outer_output(model, target)
    top = pre_head if head is not None else model.outputs[0]
    tensor = tf.convert_to_tensor(x)
    split = split_at(model, feature_tensor, top)
    if split is not None:
        # Forward to the feature map without recording, then record only the
        # layers after it: the gradient then never walks back through the
        # convolutions below the map (about 3x faster on a CPU).
        front, rest = split
        feature_map = front(tensor, training=False)
    else:
        inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
        grad_model = keras.Model(inputs, [feature_tensor, top])
    with tf.GradientTape() as tape:
        if split is not None:
            tape.watch(feature_map)
            features = rest(feature_map, training=False)
        else:
            feature_map, features = grad_model(tensor, training=False)
        if head is not None:
            logits = tf.matmul(features, head.kernel)
            if head.use_bias:
                logits = logits + head.bias
            scores = log_odds(logits, head.activation.__name__)
        else:
            scores = features
        if class_index is None:
            classes = tf.argmax(scores, axis=-1)
        else:
            classes = tf.broadcast_to(tf.constant(class_index, dtype=tf.int64), [x.shape[0]])
        n_classes = scores.shape[-1]
        if np.any(classes.numpy() >= n_classes) or np.any(classes.numpy() < 0):
            raise ValueError(f"class_index {class_index!r} is outside 0..{n_classes - 1}")
        # Summing over the batch is exact: each image's score depends on its own map only.
        selected = tf.reduce_sum(tf.gather(scores, classes, axis=1, batch_dims=1))
    grads = tape.gradient(selected, feature_map)
    weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
    cam = tf.nn.relu(tf.reduce_sum(weights * feature_map, axis=-1))[..., None]
    cam = tf.image.resize(cam, x.shape[1:3], method="bilinear")[..., 0]
    peak = tf.reduce_max(cam, axis=(1, 2), keepdims=True)
    cam = tf.math.divide_no_nan(cam, peak)
    return cam.numpy().astype(np.float32)


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
