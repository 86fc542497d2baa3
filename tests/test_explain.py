"""Grad-CAM on real trained models: shape, range, batching, nesting and errors."""

import keras
import numpy as np
import pytest

from medimgkit.data import to_float
from medimgkit.explain import find_last_conv_layer, grad_cam, overlay


def test_grad_cam_shape_range_and_layer(trained_cnn, breast):
    model, _ = trained_cnn
    x = to_float(breast["test"][0][:16])
    cam = grad_cam(model, x)
    assert cam.shape == (16, 28, 28) and cam.dtype == np.float32
    assert cam.min() >= 0 and cam.max() <= 1
    assert np.isclose(cam.reshape(16, -1).max(axis=1), 1).sum() >= 8  # most maps peak at 1
    assert find_last_conv_layer(model).name == "block2_relu2"
    explicit = grad_cam(model, x, layer="block2_relu2")
    assert np.allclose(cam, explicit)


def test_batched_equals_per_image(trained_cnn, breast):
    model, _ = trained_cnn
    x = to_float(breast["test"][0][:6])
    batched = grad_cam(model, x, class_index=0)
    single = np.stack([grad_cam(model, x[i : i + 1], class_index=0)[0] for i in range(6)])
    assert np.allclose(batched, single, atol=1e-5)
    per_image = grad_cam(model, x, class_index=np.array([0, 1, 0, 1, 0, 1]))
    assert np.allclose(per_image[0::2], batched[0::2], atol=1e-5)


def test_classes_give_different_maps(trained_cnn, breast):
    model, _ = trained_cnn
    x = to_float(breast["test"][0][:4])
    assert not np.allclose(grad_cam(model, x, class_index=0), grad_cam(model, x, class_index=1))


def test_sequential_model():
    model = keras.Sequential(
        [keras.Input((16, 16, 1)), keras.layers.Conv2D(4, 3, activation="relu", name="c"),
         keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2, activation="softmax")]
    )
    x = np.random.default_rng(0).random((3, 16, 16, 1), dtype=np.float32)
    cam = grad_cam(model, x)
    assert cam.shape == (3, 16, 16)


def test_nested_backbone():
    inner_in = keras.Input((32, 32, 3))
    h = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inner_in)
    h = keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(h)
    backbone = keras.Model(inner_in, h, name="backbone")
    inputs = keras.Input((32, 32, 3))
    z = backbone(inputs)
    z = keras.layers.GlobalAveragePooling2D()(z)
    outputs = keras.layers.Dense(2, activation="softmax")(z)
    model = keras.Model(inputs, outputs)
    assert find_last_conv_layer(model).name == "backbone"
    x = np.random.default_rng(0).random((2, 32, 32, 3), dtype=np.float32)
    cam = grad_cam(model, x)
    assert cam.shape == (2, 32, 32) and np.all(np.isfinite(cam))


def test_no_conv_layer_is_a_clear_error():
    inputs = keras.Input((8,))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(inputs), name="mlp")
    with pytest.raises(ValueError, match="'mlp' has no layer with a 4-D"):
        grad_cam(model, np.zeros((1, 8), np.float32).reshape(1, 8, 1, 1))


def test_bad_arguments(trained_cnn, breast):
    model, _ = trained_cnn
    x = to_float(breast["test"][0][:2])
    with pytest.raises(ValueError, match="outside 0..1"):
        grad_cam(model, x, class_index=5)
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        grad_cam(model, x[0, :, :, 0])
    with pytest.raises(ValueError, match="gap"):
        grad_cam(model, x, layer="gap")


def test_overlay(breast):
    img = breast["test"][0][0]
    heat = np.zeros((28, 28), np.float32)
    heat[10:15, 10:15] = 1
    out = overlay(img, heat)
    assert out.shape == (28, 28, 3) and out.min() >= 0 and out.max() <= 1
    with pytest.raises(ValueError, match="differ in size"):
        overlay(img, heat[:10])


def test_agrees_with_probability_gradient_recipe(trained_cnn, breast):
    """The log-odds score points the same way as d p_c / dA, so maps match the per-image recipe."""
    import tensorflow as tf

    model, _ = trained_cnn
    x = to_float(breast["test"][0][:5])
    layer = find_last_conv_layer(model)
    grad_model = keras.Model(model.inputs, [layer.output, model.output])
    ours = grad_cam(model, x, class_index=0)
    for i in range(len(x)):
        with tf.GradientTape() as tape:
            conv, probs = grad_model(x[i : i + 1], training=False)
            score = probs[:, 0]
        grads = tape.gradient(score, conv)
        cam = tf.nn.relu(tf.reduce_sum(tf.reduce_mean(grads, axis=(1, 2), keepdims=True) * conv, axis=-1))
        cam = tf.image.resize(cam[..., None], (28, 28))[0, ..., 0].numpy()
        if cam.max() > 0:
            assert np.allclose(ours[i], cam / cam.max(), atol=1e-3)


def test_cut_graph_and_skip_connection_fallback_give_the_recipe_maps():
    """grad_cam cuts the graph at the feature map when it can; a skip connection around the map
    makes the cut impossible, and the one-pass fallback must give the same maps as the recipe."""
    import keras
    import tensorflow as tf

    from medimgkit.explain import grad_cam
    from medimgkit.explain._features import split_at as _split_at

    rng = np.random.default_rng(0)
    x = rng.random((6, 16, 16, 1)).astype(np.float32)
    inputs = keras.Input((16, 16, 1))
    a = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="a")(inputs)
    b = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="b")(a)
    skip = keras.layers.Add(name="skip")([a, b])
    pooled = keras.layers.GlobalAveragePooling2D()(skip)
    out = keras.layers.Dense(2, activation="softmax")(pooled)
    model = keras.Model(inputs, out)
    assert _split_at(model, model.get_layer("b").output, pooled) is None      # "a" also feeds the head
    assert _split_at(model, model.get_layer("skip").output, pooled) is not None
    for layer in ("b", "skip"):
        maps = grad_cam(model, x, class_index=1, layer=layer)
        grad_model = keras.Model(model.inputs, [model.get_layer(layer).output, model.output])
        with tf.GradientTape() as tape:
            fmap, probs = grad_model(x, training=False)
            score = tf.reduce_sum(probs[:, 1])
        grads = tape.gradient(score, fmap)
        cam = tf.nn.relu(tf.reduce_sum(fmap * tf.reduce_mean(grads, axis=(1, 2), keepdims=True), axis=-1)).numpy()
        cam = cam / np.maximum(cam.max(axis=(1, 2), keepdims=True), 1e-12)
        assert np.allclose(maps, cam, atol=1e-4), layer  # same size (16 px), so no resize in between
