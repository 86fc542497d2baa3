import keras
import numpy as np
import pytest

from medimgkit.models import article_cnn, augmentation, improved_cnn


def test_article_cnn_is_exactly_as_printed():
    model = article_cnn((28, 28, 1))
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["InputLayer", "Conv2D", "MaxPooling2D", "Flatten", "Dense"]
    conv, dense = model.get_layer("conv"), model.get_layer("probabilities")
    assert conv.filters == 32 and conv.kernel_size == (3, 3) and conv.activation.__name__ == "relu"
    assert dense.units == 2 and dense.activation.__name__ == "softmax"
    # 3*3*1*32 + 32 conv parameters, (13*13*32)*2 + 2 dense parameters
    assert model.count_params() == 320 + 13 * 13 * 32 * 2 + 2


def test_improved_cnn_shapes_and_probabilities():
    model = improved_cnn((64, 64, 1), num_classes=3, width=8, blocks=3)
    x = np.random.default_rng(0).random((5, 64, 64, 1), dtype=np.float32)
    p = model.predict(x, verbose=0)
    assert p.shape == (5, 3)
    assert np.allclose(p.sum(axis=1), 1, atol=1e-5)
    assert isinstance(model.inputs[0], keras.KerasTensor)


def test_augmentation_only_in_training():
    model = improved_cnn((28, 28, 1), width=4, blocks=1)
    x = np.random.default_rng(1).random((2, 28, 28, 1), dtype=np.float32)
    assert np.allclose(model(x, training=False), model(x, training=False))
    aug = augmentation(seed=0)
    assert not np.allclose(aug(x, training=True), x)
    assert np.allclose(aug(x, training=False), x)


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match=r"\(28, 28\)"):
        article_cnn((28, 28))
    with pytest.raises(ValueError, match="4 pooling blocks"):
        improved_cnn((8, 8, 1), blocks=4)


def test_improved_cnn_l2_adds_penalty_and_switches_off_regularisers():
    plain = improved_cnn((28, 28, 1), width=4, blocks=1, dropout=0.0, augment=False)
    assert plain.losses == [] and "augmentation" not in [layer.name for layer in plain.layers]
    model = improved_cnn((28, 28, 1), width=4, blocks=1, dropout=0.0, augment=False, l2=0.01)
    kernels = [layer.kernel for layer in model.layers if hasattr(layer, "kernel")]
    assert len(model.losses) == len(kernels) == 3  # two convolutions and the dense head
    expected = 0.01 * sum(float(np.sum(np.square(k.numpy()))) for k in kernels)
    assert np.isclose(float(sum(model.losses)), expected, rtol=1e-4)
    with pytest.raises(ValueError, match="l2 must be >= 0"):
        improved_cnn((28, 28, 1), l2=-1.0)
    with pytest.raises(ValueError, match="dropout must be in"):
        improved_cnn((28, 28, 1), dropout=1.0)


def test_zoom_adds_a_random_zoom_layer_only_when_asked():
    def zoom_layers(model):
        aug = model.get_layer("augmentation")
        return [layer for layer in aug.layers if isinstance(layer, keras.layers.RandomZoom)]

    assert zoom_layers(improved_cnn((28, 28, 1), width=4, blocks=1)) == []
    (zoom,) = zoom_layers(improved_cnn((28, 28, 1), width=4, blocks=1, zoom=0.1))
    assert zoom.height_factor == 0.1 and zoom.width_factor is None  # None: width zooms as much as height
    with pytest.raises(ValueError, match=r"zoom must be in \[0, 1.0\), got 1.5"):
        improved_cnn((28, 28, 1), zoom=1.5)


def test_flip_none_takes_the_mirror_out_for_chest_x_rays():
    def flips(model):
        return [layer for layer in model.get_layer("augmentation").layers if isinstance(layer, keras.layers.RandomFlip)]

    (flip,) = flips(improved_cnn((28, 28, 1), width=4, blocks=1))
    assert flip.mode == "horizontal"
    assert flips(improved_cnn((28, 28, 1), width=4, blocks=1, flip=None)) == []
    from medimgkit.experiments.recipe import RECIPES

    assert RECIPES["pneumoniamnist:28"].model["flip"] is None and not RECIPES["pneumoniamnist:28"].tta
