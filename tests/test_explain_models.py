"""Every explanation method on every kind of model (issues 13, 14, 18).

Four model kinds: functional, Sequential, a nested Keras Applications backbone
(MobileNetV2, random weights, no download) and a skip connection. On each:
Grad-CAM, Grad-CAM++ (with and without ``layer=``), SmoothGrad and the sanity
check; Grad-CAM equals the per-image probability-gradient recipe; the fast
path (graph cut at the feature map) equals the one-pass fallback. Then
multi-output models (``output=``), 3-D Grad-CAM and models without a
convolution.
"""

from __future__ import annotations

import functools

import keras
import numpy as np
import pytest

from medimgkit.explain import _features, find_last_conv_layer, grad_cam, grad_cam_plus_plus, sanity_check, smoothgrad
from medimgkit.explain.saliency import gradient_x_input, predicted_class, vanilla_gradient
from medimgkit.explain.sanity import kernel_layers

SIZE = 32
N = 3


def _functional():
    inputs = keras.Input((SIZE, SIZE, 3), name="image")
    h1 = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv1")(inputs)
    h = keras.layers.MaxPooling2D(name="pool")(h1)
    h2 = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv2")(h)
    z = keras.layers.GlobalAveragePooling2D(name="gap")(h2)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="probabilities")(z), name="functional")
    return model, "conv2", "conv1", {"conv1": h1, "conv2": h2}


def _sequential():
    model = keras.Sequential(
        [
            keras.Input((SIZE, SIZE, 3)),
            keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="c1"),
            keras.layers.MaxPooling2D(name="pool"),
            keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="c2"),
            keras.layers.GlobalAveragePooling2D(name="gap"),
            keras.layers.Dense(3, activation="softmax", name="probabilities"),
        ],
        name="sequential",
    )
    return model, "c2", "c1", {name: model.get_layer(name).output for name in ("c1", "c2")}


def _nested():
    backbone = keras.applications.MobileNetV2(
        weights=None, include_top=False, input_shape=(SIZE, SIZE, 3), alpha=0.35
    )
    inputs = keras.Input((SIZE, SIZE, 3), name="image")
    features = backbone(inputs)
    z = keras.layers.GlobalAveragePooling2D(name="gap")(features)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="probabilities")(z), name="nested")
    return model, backbone.name, backbone.name, {backbone.name: features}


def _skip():
    inputs = keras.Input((SIZE, SIZE, 3), name="image")
    a = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="a")(inputs)
    b = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="b")(a)
    skip = keras.layers.Add(name="skip")([a, b])
    z = keras.layers.GlobalAveragePooling2D(name="gap")(skip)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="probabilities")(z), name="skip")
    return model, "skip", "b", {"a": a, "b": b, "skip": skip}


KINDS = {"functional": _functional, "sequential": _sequential, "nested": _nested, "skip": _skip}


@functools.cache
def _kind(kind):
    keras.utils.set_random_seed(0)
    return KINDS[kind]()


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((N, SIZE, SIZE, 3), dtype=np.float32)


def _no_cut(monkeypatch):
    monkeypatch.setattr(_features, "split_at", lambda *args: None)


@pytest.mark.parametrize("which", ["default", "explicit"])
@pytest.mark.parametrize("method", [grad_cam, grad_cam_plus_plus], ids=lambda f: f.__name__)
@pytest.mark.parametrize("kind", KINDS)
def test_cam_methods_on_every_model_kind(kind, method, which, images, monkeypatch):
    model, default, explicit, _ = _kind(kind)
    assert find_last_conv_layer(model).name == default
    layer = None if which == "default" else explicit
    maps = method(model, images, class_index=1, layer=layer)
    assert maps.shape == (N, SIZE, SIZE) and maps.dtype == np.float32
    assert np.all(np.isfinite(maps)) and maps.min() >= 0 and maps.max() <= 1 + 1e-6
    if which == "explicit":
        assert np.allclose(maps, method(model, images, class_index=1, layer=model.get_layer(explicit)))
    # the fast path (graph cut at the feature map, where possible) equals the one-pass fallback
    _no_cut(monkeypatch)
    assert np.allclose(maps, method(model, images, class_index=1, layer=layer), atol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_cut_only_where_every_path_passes_the_feature_map(kind):
    model, default, explicit, tensors = _kind(kind)
    pre = model.get_layer("probabilities").input
    for name in {default, explicit}:
        cut = _features.split_at(model, tensors[name], pre)
        assert (cut is None) == (kind == "skip" and name == "b"), name


@pytest.mark.parametrize("which", ["default", "explicit"])
@pytest.mark.parametrize("kind", KINDS)
def test_grad_cam_equals_the_probability_gradient_recipe(kind, which, images):
    """d log-odds / dA and d p_c / dA differ by the positive factor p_c (1 - p_c): same normalised map."""
    import tensorflow as tf

    model, default, explicit, tensors = _kind(kind)
    name = default if which == "default" else explicit
    ours = grad_cam(model, images, class_index=2, layer=None if which == "default" else explicit)
    grad_model = keras.Model(model.inputs[0], [tensors[name], model.outputs[0]])
    with tf.GradientTape() as tape:
        fmap, probs = grad_model(images, training=False)
        score = tf.reduce_sum(probs[:, 2])
    grads = tape.gradient(score, fmap)
    cam = tf.nn.relu(tf.reduce_sum(fmap * tf.reduce_mean(grads, axis=(1, 2), keepdims=True), axis=-1))
    cam = tf.image.resize(cam[..., None], (SIZE, SIZE))[..., 0].numpy()
    peak = cam.max(axis=(1, 2), keepdims=True)
    assert kind == "nested" or np.all(peak > 0)  # a real comparison (MobileNetV2 at 32 px has a 1 x 1 map)
    expected = np.where(peak > 0, cam / np.where(peak > 0, peak, 1), 0)
    assert np.allclose(ours, expected, atol=1e-4)


@pytest.mark.parametrize("kind", KINDS)
def test_smoothgrad_and_input_gradients_on_every_model_kind(kind, images):
    model, *_ = _kind(kind)
    for method in (functools.partial(smoothgrad, samples=2), vanilla_gradient, gradient_x_input):
        maps = method(model, images, class_index=0)
        assert maps.shape == (N, SIZE, SIZE) and maps.dtype == np.float32
        assert np.all(np.isfinite(maps)) and maps.min() >= 0 and maps.max() <= 1 + 1e-6
    assert np.allclose(smoothgrad(model, images, samples=1, noise=0.0), vanilla_gradient(model, images), atol=1e-6)


@pytest.mark.parametrize("kind", KINDS)
def test_sanity_check_on_every_model_kind(kind, images):
    model, _, explicit, _ = _kind(kind)
    methods = {
        "Grad-CAM": grad_cam,
        "Grad-CAM++": grad_cam_plus_plus,
        "SmoothGrad": functools.partial(smoothgrad, samples=2),
        "Grad-CAM at layer": lambda m, x, c: grad_cam(m, x, c, layer=explicit),
    }
    top_down = [layer.name for layer in reversed(kernel_layers(model))][:2]
    before = [w.copy() for w in model.get_weights()]
    result = sanity_check(model, images, methods, layers=top_down)
    assert result["layers"] == ["(trained)", *top_down]
    for m in methods:
        assert result["maps"][m].shape == (3, N, SIZE, SIZE)
        assert np.all(np.isfinite(result["maps"][m]))
        assert result["spearman"][m][0] == pytest.approx(1.0, abs=1e-5)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_a_layer_inside_the_nested_backbone_is_named_in_the_error(images):
    model, default, *_ = _kind("nested")
    with pytest.raises(ValueError, match=rf"'Conv1' is not a top-level layer.*inside the nested model '{default}'"):
        grad_cam(model, images, layer="Conv1")
    with pytest.raises(ValueError, match="'nowhere' is not a top-level layer of model 'nested'$"):
        grad_cam_plus_plus(model, images, layer="nowhere")


# ---------------------------------------------------------------- several outputs (issue 14)


def _two_heads():
    """A shared trunk; a diagnosis branch (3 classes) and, built last, a quality branch (2 classes)."""
    keras.utils.set_random_seed(1)
    inputs = keras.Input((16, 16, 1), name="image")
    trunk = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="trunk")(inputs)
    d = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="dx_conv")(trunk)
    diagnosis = keras.layers.Dense(3, activation="softmax", name="diagnosis")(keras.layers.GlobalAveragePooling2D()(d))
    q = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="q_conv")(trunk)
    quality = keras.layers.Dense(2, activation="softmax", name="quality")(keras.layers.GlobalAveragePooling2D()(q))
    return keras.Model(inputs, [diagnosis, quality], name="two_heads"), inputs, diagnosis, quality


def test_multi_output_explains_the_chosen_output():
    model, inputs, diagnosis, quality = _two_heads()
    x = np.random.default_rng(3).random((4, 16, 16, 1), dtype=np.float32)
    assert model.layers[-1].name == "quality"  # the old code explained this one
    assert find_last_conv_layer(model).name == "dx_conv"
    assert find_last_conv_layer(model, output="quality").name == "q_conv"
    only_diagnosis, only_quality = keras.Model(inputs, diagnosis), keras.Model(inputs, quality)
    for method in (grad_cam, grad_cam_plus_plus, vanilla_gradient):
        default = method(model, x, class_index=2)  # class 2 exists for the diagnosis only
        assert np.allclose(default, method(only_diagnosis, x, class_index=2), atol=1e-5)
        assert np.allclose(default, method(model, x, class_index=2, output="diagnosis"), atol=1e-5)
        assert np.allclose(method(model, x, class_index=1, output=1), method(only_quality, x, class_index=1), atol=1e-5)
        with pytest.raises(ValueError, match=r"class_index 2 is outside 0..1: output 'quality'"):
            method(model, x, class_index=2, output="quality")
    assert np.array_equal(predicted_class(model, x), only_diagnosis.predict(x, verbose=0).argmax(axis=1))
    assert np.array_equal(predicted_class(model, x, output=-1), only_quality.predict(x, verbose=0).argmax(axis=1))
    result = sanity_check(model, x, {"Grad-CAM": grad_cam}, output="quality", layers=["quality"])
    assert result["maps"]["Grad-CAM"].shape == (2, 4, 16, 16)


def test_dict_outputs_are_chosen_by_key_or_layer_name():
    _, inputs, diagnosis, quality = _two_heads()
    model = keras.Model(inputs, {"qc": quality, "dx": diagnosis}, name="dict_heads")
    x = np.random.default_rng(4).random((2, 16, 16, 1), dtype=np.float32)
    by_key = grad_cam(model, x, class_index=1, output="qc")
    assert np.array_equal(by_key, grad_cam(model, x, class_index=1, output="quality"))  # the layer's name
    assert np.allclose(by_key, grad_cam(keras.Model(inputs, quality), x, class_index=1), atol=1e-6)
    assert find_last_conv_layer(model).name == "dx_conv"  # the first output: keys in sorted order
    with pytest.raises(ValueError, match=r"its outputs are \{0: 'dx', 1: 'qc'\}"):
        grad_cam(model, x, output="grade")


def test_multi_output_refusals():
    model, *_ = _two_heads()
    x = np.zeros((2, 16, 16, 1), np.float32)
    listing = r"its outputs are \{0: 'diagnosis', 1: 'quality'\}"
    with pytest.raises(ValueError, match="output 'grade' is not an output of model 'two_heads'; " + listing):
        grad_cam(model, x, output="grade")
    with pytest.raises(ValueError, match="output 2 is out of range: model 'two_heads' has 2 output"):
        grad_cam(model, x, output=2)
    with pytest.raises(ValueError, match="output must be an output's index or name, found 0.5"):
        grad_cam(model, x, output=0.5)
    with pytest.raises(ValueError, match="layer 'q_conv' does not feed output 'diagnosis'"):
        grad_cam(model, x, layer="q_conv")
    # a segmentation output has no one class score per image
    inputs = keras.Input((16, 16, 1))
    h = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    mask = keras.layers.Conv2D(1, 1, activation="sigmoid", name="mask")(h)
    label = keras.layers.Dense(2, activation="softmax", name="label")(keras.layers.GlobalAveragePooling2D()(h))
    seg = keras.Model(inputs, [mask, label], name="seg")
    with pytest.raises(ValueError, match=r"output 'mask' of model 'seg' has shape \(None, 16, 16, 1\), not \(N, K\)"):
        grad_cam(seg, x)
    assert grad_cam(seg, x, output="label").shape == (2, 16, 16)
    # two image inputs: which one to explain is ambiguous
    a, b = keras.Input((16, 16, 1), name="left"), keras.Input((16, 16, 1), name="right")
    both = keras.layers.Concatenate()([keras.layers.Conv2D(2, 3)(a), keras.layers.Conv2D(2, 3)(b)])
    pair = keras.Model([a, b], keras.layers.Dense(2, activation="softmax")(keras.layers.GlobalAveragePooling2D()(both)),
                       name="pair")
    for method in (grad_cam, smoothgrad):
        with pytest.raises(ValueError, match="model 'pair' has 2 inputs .* ambiguous"):
            method(pair, x)


def test_one_sigmoid_unit_explains_class_one_as_positive_evidence():
    keras.utils.set_random_seed(2)
    inputs = keras.Input((12, 12, 1))
    h = keras.layers.Conv2D(3, 3, padding="same", activation="relu", name="conv")(inputs)
    p = keras.layers.Dense(1, activation="sigmoid", name="p")(keras.layers.GlobalAveragePooling2D()(h))
    model = keras.Model(inputs, p)
    x = np.random.default_rng(5).random((6, 12, 12, 1), dtype=np.float32)
    probs = model.predict(x, verbose=0)[:, 0]
    assert np.array_equal(predicted_class(model, x), (probs > 0.5).astype(np.int64))
    assert np.allclose(grad_cam(model, x), grad_cam(model, x, class_index=predicted_class(model, x)))
    with pytest.raises(ValueError, match="outside 0..1"):
        grad_cam(model, x, class_index=2)


# ---------------------------------------------------------------- no convolution (issue 14)


@pytest.mark.parametrize("preprocessing", ["rescaling", "random_flip", "both"])
def test_preprocessing_layers_are_not_feature_maps(preprocessing):
    inputs = keras.Input((8, 8, 1))
    h = inputs
    if preprocessing in ("rescaling", "both"):
        h = keras.layers.Rescaling(1.0, name="rescale")(h)
    if preprocessing in ("random_flip", "both"):
        h = keras.layers.RandomFlip("horizontal", name="flip")(h)
    out = keras.layers.Dense(2, activation="softmax")(keras.layers.Flatten()(h))
    model = keras.Model(inputs, out, name="no_conv")
    x = np.random.default_rng(0).random((2, 8, 8, 1), dtype=np.float32)
    for method in (grad_cam, grad_cam_plus_plus, find_last_conv_layer):
        with pytest.raises(ValueError, match="'no_conv' has no layer with a 4-D .* computed by a convolution"):
            method(model) if method is find_last_conv_layer else method(model, x)
    assert vanilla_gradient(model, x).shape == (2, 8, 8)  # input gradients need no feature map


def test_preprocessing_before_the_convolution_is_skipped():
    inputs = keras.Input((8, 8, 1))
    h = keras.layers.Rescaling(1.0, name="rescale")(inputs)
    h = keras.layers.Conv2D(2, 3, padding="same", name="conv")(h)
    h = keras.layers.RandomFlip("horizontal", name="flip_after")(h)  # after a convolution: a feature map
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(keras.layers.GlobalAveragePooling2D()(h)))
    assert find_last_conv_layer(model).name == "flip_after"


# ---------------------------------------------------------------- 3-D (issue 18)


def _conv3d(strides):
    keras.utils.set_random_seed(4)
    inputs = keras.Input((6, 12, 12, 1), name="volume")
    h = keras.layers.Conv3D(4, 3, padding="same", activation="relu", name="c1")(inputs)
    h = keras.layers.Conv3D(5, 3, strides=strides, padding="same", activation="relu", name="c2")(h)
    out = keras.layers.Dense(2, activation="softmax")(keras.layers.GlobalAveragePooling3D()(h))
    return keras.Model(inputs, out, name="conv3d"), inputs, h


@pytest.mark.parametrize("method", [grad_cam, grad_cam_plus_plus], ids=lambda f: f.__name__)
def test_three_d_cam_maps(method):
    model, *_ = _conv3d(strides=2)
    volumes = np.random.default_rng(6).integers(0, 256, (2, 6, 12, 12, 1), dtype=np.uint8)
    maps = method(model, volumes, class_index=0)
    assert maps.shape == (2, 6, 12, 12) and maps.dtype == np.float32
    assert np.all(np.isfinite(maps)) and maps.min() >= 0 and maps.max() <= 1 + 1e-6
    assert np.array_equal(maps, method(model, volumes.astype(np.float32) / 255, class_index=0))
    assert np.array_equal(maps, method(model, volumes[..., 0], class_index=0))  # channel axis of 1 added
    assert np.allclose(maps[:1], method(model, volumes[0], class_index=0))  # one volume: a batch of one


def test_three_d_grad_cam_equals_the_recipe_at_full_resolution():
    import tensorflow as tf

    model, inputs, h = _conv3d(strides=1)
    x = np.random.default_rng(7).random((3, 6, 12, 12, 1), dtype=np.float32)
    grad_model = keras.Model(inputs, [h, model.outputs[0]])
    with tf.GradientTape() as tape:
        fmap, probs = grad_model(x, training=False)
        score = tf.reduce_sum(probs[:, 1])
    grads = tape.gradient(score, fmap)
    cam = tf.nn.relu(tf.reduce_sum(fmap * tf.reduce_mean(grads, axis=(1, 2, 3), keepdims=True), axis=-1)).numpy()
    expected = cam / np.maximum(cam.max(axis=(1, 2, 3), keepdims=True), 1e-12)
    assert np.allclose(grad_cam(model, x, class_index=1), expected, atol=1e-4)


def test_trilinear_resize_is_bilinear_per_slice_when_depth_is_kept():
    import tensorflow as tf

    maps = np.random.default_rng(8).random((2, 3, 4, 5)).astype(np.float32)
    resized = np.asarray(_features.resize_maps(maps, (3, 8, 10)))
    per_slice = tf.image.resize(maps.reshape(6, 4, 5, 1), (8, 10)).numpy().reshape(2, 3, 8, 10)
    assert np.allclose(resized, per_slice, atol=1e-6)
    flat_in_plane = np.repeat(np.repeat(np.arange(3, dtype=np.float32)[None, :, None, None], 4, 2), 5, 3)
    deeper = np.asarray(_features.resize_maps(flat_in_plane, (6, 4, 5)))
    assert np.allclose(deeper[0, :, 0, 0], [0, 0.25, 0.75, 1.25, 1.75, 2])  # linear along depth
    assert np.allclose(deeper, deeper[:, :, :1, :1])


def test_three_d_model_refuses_two_d_images():
    model, *_ = _conv3d(strides=2)
    with pytest.raises(ValueError, match=r"expected \(N, D, H, W, C\) = \(N, 6, 12, 12, 1\) .* a 3-D model needs volumes"):
        grad_cam(model, np.zeros((2, 12, 12, 1), np.float32))
    with pytest.raises(ValueError, match=r"2-D model needs images \(N, H, W, C\)"):
        grad_cam(_kind("functional")[0], np.zeros((2, 4, SIZE, SIZE, 3), np.float32))
