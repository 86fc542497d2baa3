"""Transfer learning backbones: nesting, channel handling, Grad-CAM, and the offline fallback."""

import warnings

import keras
import numpy as np
import pytest

from medimgkit.data import to_float
from medimgkit.explain import find_last_conv_layer, grad_cam
from medimgkit.models.transfer import backbone_classifier, load_backbone


def _nested(model):
    return [layer for layer in model.layers if isinstance(layer, keras.Model)]


def test_random_backbone_is_nested_trainable_and_explainable(data_folder):
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


def test_reuse_backbone_copies_the_source_blocks_and_fine_tunes_without_touching_the_source(data_folder):
    from medimgkit.data import load_medmnist
    from medimgkit.models import article_cnn, improved_cnn
    from medimgkit.models.transfer import reuse_backbone, unfreeze
    from medimgkit.train import fit

    chest = load_medmnist("pneumoniamnist", 28, "val")  # source task: chest X-rays (a small split, for speed)
    breast_train, breast_val = load_medmnist("breastmnist", 28, "train"), load_medmnist("breastmnist", 28, "val")
    source, _ = fit(lambda: improved_cnn((28, 28, 1), width=4, blocks=2, flip=None), chest, chest,
                    epochs=1, patience=None)
    source_weights = [w.copy() for w in source.get_weights()]

    model = reuse_backbone(source, freeze=True, seed=1)
    backbone = model.get_layer("backbone")
    assert model.backbone_frozen and not backbone.trainable and find_last_conv_layer(model) is backbone
    assert [w.name for w in model.trainable_weights] == ["kernel", "bias"]  # the new head only
    x = to_float(breast_val[0][:8])
    source_features = keras.Model(source.inputs, source.get_layer("block2_pool").output).predict(x, verbose=0)
    assert np.allclose(backbone.predict(x, verbose=0), source_features, atol=1e-5)  # same features...
    assert all(a is not b for a, b in zip(backbone.weights, source.weights))  # ...from copied weights

    frozen = [w.copy() for w in backbone.get_weights()]
    fit(model, breast_train, breast_val, epochs=1, positive=0, patience=None)
    assert all(np.array_equal(a, b) for a, b in zip(frozen, backbone.get_weights()))

    unfreeze(model)
    assert not model.backbone_frozen and backbone.trainable
    bn_layers = [layer for layer in backbone.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert bn_layers and not any(layer.trainable for layer in bn_layers)  # batch norm stays in inference mode
    fit(model, breast_train, breast_val, epochs=1, positive=0, patience=None, learning_rate=1e-4)
    bn = backbone.get_layer("block1_bn1")
    assert np.array_equal(bn.moving_mean.numpy(), source.get_layer("block1_bn1").moving_mean.numpy())
    kernel = backbone.get_layer("block1_conv1").kernel.numpy()
    assert not np.allclose(kernel, source.get_layer("block1_conv1").kernel.numpy())  # fine-tuned
    assert all(np.array_equal(a, b) for a, b in zip(source_weights, source.get_weights()))  # source untouched
    cam = grad_cam(model, x)
    assert cam.shape == (8, 28, 28) and np.all(np.isfinite(cam))

    with pytest.raises(ValueError, match="improved_cnn.*'conv'"):
        reuse_backbone(article_cnn())
    with pytest.raises(ValueError, match="'article_cnn' has no layer named 'backbone'"):
        unfreeze(article_cnn())


def test_a_pretrained_backbone_fine_tunes_with_its_batch_norm_frozen(tmp_path, data_folder):
    """Offline: a weights file stands in for ImageNet; it is loaded as pretrained weights."""
    from medimgkit.data import load_medmnist
    from medimgkit.models import improved_cnn
    from medimgkit.models.transfer import unfreeze
    from medimgkit.train import fit

    source, _ = load_backbone("mobilenetv2", (32, 32, 3), weights=None)
    path = str(tmp_path / "pretrained.weights.h5")
    source.save_weights(path)

    tuned = backbone_classifier((32, 32, 1), weights=path, freeze=False)
    (inner,) = _nested(tuned)
    assert tuned.backbone_weights == path and tuned.backbone_frozen is False
    bn = [layer for layer in inner.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert bn and not any(layer.trainable for layer in bn) and inner.get_layer("Conv1").trainable
    assert np.array_equal(inner.get_layer("Conv1").kernel.numpy(), source.get_layer("Conv1").kernel.numpy())

    model = backbone_classifier((32, 32, 1), weights=path)  # pretrained, so frozen by default
    assert model.backbone_frozen
    (inner,) = _nested(model)
    assert unfreeze(model, top=20) is model and not model.backbone_frozen
    assert {layer.name for layer in inner.layers if layer.trainable} == {
        layer.name for layer in inner.layers[-20:] if not isinstance(layer, keras.layers.BatchNormalization)}
    before = {layer.name: [w.copy() for w in layer.get_weights()] for layer in inner.layers if layer.weights}
    images, labels = load_medmnist("breastmnist", 28, "val")
    padded = np.pad(images, ((0, 0), (2, 2), (2, 2)))  # 32 x 32, the backbone's smallest input
    fit(model, (padded, labels), (padded, labels), epochs=1, positive=0, patience=None, learning_rate=1e-3)
    changed = {name for name, ws in before.items()
               if not all(np.array_equal(a, b) for a, b in zip(ws, inner.get_layer(name).get_weights()))}
    top = {layer.name for layer in inner.layers[-20:] if layer.weights and not isinstance(layer, keras.layers.BatchNormalization)}
    assert changed and changed <= top  # only the unfrozen top layers moved; batch norm statistics did not

    with pytest.raises(ValueError, match=f"top must be None or an int from 1 to {len(inner.layers)}.*got 0"):
        unfreeze(model, top=0)
    with pytest.raises(ValueError, match="'improved_cnn' has no layer named 'backbone' nor one nested backbone"):
        unfreeze(improved_cnn())
