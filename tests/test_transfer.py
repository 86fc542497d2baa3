"""Transfer learning backbones: nesting, channel handling, Grad-CAM, and the offline fallback."""

import warnings

import keras
import numpy as np
import pytest

from medimgkit.data import to_float
from medimgkit.explain import find_last_conv_layer, grad_cam
from medimgkit.transfer import backbone_classifier, load_backbone


def _nested(model):
    return [layer for layer in model.layers if isinstance(layer, keras.Model)]


def test_random_backbone_is_nested_trainable_and_explainable(shared_dir):
    from medimgkit.data import load_medmnist

    images = load_medmnist("breastmnist", 64, "val")[0][:3]
    model = backbone_classifier((64, 64, 1), name="mobilenetv2", weights=None)
    assert model.backbone_weights is None and model.backbone_frozen is False
    (backbone,) = _nested(model)
    assert backbone.trainable and find_last_conv_layer(model) is backbone
    x = to_float(images)
    p = model.predict(x, verbose=0)
    assert p.shape == (3, 2) and np.allclose(p.sum(axis=1), 1, atol=1e-5)
    cam = grad_cam(model, x)
    assert cam.shape == (3, 64, 64) and np.all(np.isfinite(cam)) and cam.min() >= 0 and cam.max() <= 1


def test_grey_is_repeated_to_three_channels():
    model = backbone_classifier((32, 32, 1), weights=None)
    rgb = keras.Model(model.inputs, model.get_layer("grey_to_rgb").output)
    x = np.random.default_rng(0).random((2, 32, 32, 1), dtype=np.float32)
    out = rgb.predict(x, verbose=0)
    assert out.shape == (2, 32, 32, 3)
    assert np.allclose(out, np.repeat(x, 3, axis=-1))
    scaled = keras.Model(model.inputs, model.get_layer("to_backbone_range").output).predict(x, verbose=0)
    assert np.allclose(scaled, 2 * out - 1, atol=1e-6)  # MobileNetV2 expects [-1, 1]


def test_imagenet_request_gives_weights_or_a_loud_fallback():
    """Offline (as on the build machine) this exercises the fallback; online, the real weights."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = backbone_classifier((64, 64, 1), weights="imagenet")
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    if model.backbone_weights is None:
        assert any("falling back to weights=None" in m and "RANDOM" in m for m in messages)
        assert model.backbone_frozen is False and _nested(model)[0].trainable
    else:
        assert model.backbone_weights == "imagenet"
        assert model.backbone_frozen is True and not _nested(model)[0].trainable
        assert not any("falling back" in m for m in messages)


def test_frozen_backbone_does_not_train():
    model = backbone_classifier((32, 32, 1), weights=None, freeze=True)
    assert model.backbone_frozen and len(model.trainable_weights) == 2  # the head's kernel and bias
    before = [w.numpy().copy() for w in _nested(model)[0].weights]
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).random((8, 32, 32, 1), dtype=np.float32)
    model.fit(x, np.array([0, 1] * 4), epochs=1, verbose=0)
    after = [w.numpy() for w in _nested(model)[0].weights]
    assert all(np.array_equal(a, b) for a, b in zip(before, after))  # BN statistics too


def test_efficientnet_scales_to_0_255():
    model = backbone_classifier((32, 32, 3), name="efficientnetb0", weights=None)
    x = np.random.default_rng(0).random((1, 32, 32, 3), dtype=np.float32)
    scaled = keras.Model(model.inputs, model.get_layer("to_backbone_range").output).predict(x, verbose=0)
    assert np.allclose(scaled, 255 * x, atol=1e-3)
    assert "grey_to_rgb" not in [layer.name for layer in model.layers]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="unknown backbone 'resnet9'"):
        load_backbone("resnet9")
    with pytest.raises(ValueError, match=r"\(16, 16, 3\)"):
        load_backbone("mobilenetv2", (16, 16, 3), weights=None)
    with pytest.raises(ValueError, match=r"\(H, W, 1\) or \(H, W, 3\)"):
        backbone_classifier((64, 64, 2), weights=None)
