"""Grad-CAM on real trained models: shape, range, batching, nesting and errors; the input contract and
class_index validation of every explanation method."""

import hypothesis.extra.numpy as hnp
import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from medimgkit.data import to_float
from medimgkit.explain import (
    find_last_conv_layer,
    grad_cam,
    grad_cam_plus_plus,
    gradient_x_input,
    overlay,
    predicted_class,
    sanity_check,
    smoothgrad,
    vanilla_gradient,
)
from medimgkit.explain._features import Target


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


# ---------------------------------------------------------------- the input contract and class_index (issue 14)

ALL_METHODS = {
    "grad_cam": grad_cam,
    "grad_cam_plus_plus": grad_cam_plus_plus,
    "vanilla_gradient": vanilla_gradient,
    "smoothgrad": lambda m, x, c=None: smoothgrad(m, x, c, samples=2),
    "gradient_x_input": gradient_x_input,
}


def _tiny_cnn(classes=3):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((10, 10, 1))
    h = keras.layers.Conv2D(3, 3, padding="same", activation="relu", name="conv")(inputs)
    out = keras.layers.Dense(classes, activation="softmax", name="head")(keras.layers.GlobalAveragePooling2D()(h))
    return keras.Model(inputs, out, name="tiny")


TINY = _tiny_cnn()
TINY_X = np.random.default_rng(1).random((4, 10, 10, 1), dtype=np.float32)


@pytest.mark.parametrize("name", ALL_METHODS)
def test_uint8_and_the_same_images_over_255_give_identical_maps(name, trained_cnn, breast):
    model, _ = trained_cnn
    raw = breast["test"][0][:6]
    assert raw.dtype == np.uint8
    method = ALL_METHODS[name]
    maps = method(model, raw, 1)
    assert np.array_equal(maps, method(model, raw / 255, 1))
    assert np.array_equal(maps, method(model, to_float(raw), 1))
    assert np.array_equal(predicted_class(model, raw), predicted_class(model, raw / 255))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("name", ALL_METHODS)
def test_nan_or_infinite_pixels_are_refused_not_explained(name, bad):
    x = TINY_X.copy()
    x[1, 4, 5, 0] = bad
    with pytest.raises(ValueError, match=rf"images: expected finite pixel values, found {bad} at index \(1, 4, 5, 0\)"):
        ALL_METHODS[name](TINY, x)
    with pytest.raises(ValueError, match="finite pixel values"):
        sanity_check(TINY, x, {"Grad-CAM": grad_cam})


@pytest.mark.parametrize("name", ALL_METHODS)
def test_floats_in_0_255_and_wrong_shapes_are_refused(name):
    method = ALL_METHODS[name]
    with pytest.raises(ValueError, match="0-255 values stored as float: divide by 255 or pass uint8"):
        method(TINY, TINY_X * 255)
    with pytest.raises(ValueError, match=r"expected \(N, H, W, C\) = \(N, 10, 10, 1\) for model 'tiny', found shape \(4, 12, 12, 1\)"):
        method(TINY, np.zeros((4, 12, 12, 1), np.float32))
    assert method(TINY, TINY_X[..., 0], 0).shape == (4, 10, 10)   # channel axis of 1 may be left out
    assert np.allclose(method(TINY, TINY_X[0], 0), method(TINY, TINY_X[:1], 0))  # one image: a batch of one


@pytest.mark.parametrize("name", ALL_METHODS)
def test_class_index_errors_name_the_value(name):
    method = ALL_METHODS[name]
    with pytest.raises(ValueError, match=r"class_index: expected a class in 0..2 .* found 1.7, not a whole number"):
        method(TINY, TINY_X, 1.7)
    with pytest.raises(ValueError, match=r"class_index: .* found an array of shape \(3,\) for 4 image\(s\)"):
        method(TINY, TINY_X, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"class_index: .* found True \(dtype bool\)"):
        method(TINY, TINY_X, True)
    with pytest.raises(ValueError, match=r"class_index 3 is outside 0..2: output 'head' of model 'tiny' has 3 classes"):
        method(TINY, TINY_X, 3)
    with pytest.raises(ValueError, match=r"class_index \[0, -1, 0, 0\] is outside 0..2"):
        method(TINY, TINY_X, [0, -1, 0, 0])
    with pytest.raises(ValueError, match=r"class_index: .* found an array of shape \(4, 2\)"):
        method(TINY, TINY_X, np.zeros((4, 2), int))


def test_class_index_forms_that_mean_the_same_give_the_same_maps():
    labels = np.array([[0], [2], [1], [2]])  # MedMNIST labels are (N, 1)
    expected = grad_cam(TINY, TINY_X, labels[:, 0])
    for same in (labels, labels[:, 0].astype(np.float32), list(labels[:, 0]), labels[:, 0].astype(np.uint8)):
        assert np.array_equal(grad_cam(TINY, TINY_X, same), expected)
    assert np.array_equal(grad_cam(TINY, TINY_X, np.int64(2)), grad_cam(TINY, TINY_X, 2.0))


@settings(max_examples=60, deadline=None)
@given(value=st.one_of(st.integers(-10, 10), st.floats(-10, 10), st.sampled_from([np.nan, np.inf, -np.inf])),
       n=st.integers(1, 5))
def test_class_index_scalar_property(value, n):
    """A scalar is accepted iff it is a whole number in 0..K-1; otherwise the error names it."""
    target = Target(TINY)
    whole = np.isfinite(value) and float(value) == int(value)
    if whole and 0 <= value < 3:
        assert np.array_equal(target.classes(value, n), np.full(n, int(value), np.int64))
    else:
        with pytest.raises(ValueError, match="class_index") as error:
            target.classes(value, n)
        assert repr(value) in str(error.value) or str(int(value)) in str(error.value)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.integers(-3, 5), min_size=0, max_size=6), n=st.integers(1, 5))
def test_class_index_array_property(values, n):
    """An int array is accepted iff it has one class per image, all in 0..K-1."""
    target = Target(TINY)
    if len(values) == n and all(0 <= v < 3 for v in values):
        assert np.array_equal(target.classes(np.array(values), n), values)
    elif len(values) != n:
        with pytest.raises(ValueError, match=rf"shape \({len(values)},\) for {n} image"):
            target.classes(np.array(values, dtype=np.int64), n)
    else:
        with pytest.raises(ValueError, match="is outside 0..2"):
            target.classes(np.array(values), n)


@settings(max_examples=8, deadline=None)
@given(images=hnp.arrays(np.uint8, (2, 10, 10, 1)), c=st.integers(0, 2))
def test_uint8_property_through_the_methods(images, c):
    for method in (grad_cam, grad_cam_plus_plus, vanilla_gradient):
        maps = method(TINY, images, c)
        assert maps.shape == (2, 10, 10) and np.all(np.isfinite(maps)) and maps.min() >= 0 and maps.max() <= 1
        assert np.array_equal(maps, method(TINY, images / 255, c))
