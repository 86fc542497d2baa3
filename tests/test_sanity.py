"""Sanity checks of saliency maps: similarity measures and cascading randomisation."""

import keras
import numpy as np
import pytest
from scipy import stats

from medimgkit.data import to_float
from medimgkit.explain import grad_cam
from medimgkit.explain.saliency import vanilla_gradient
from medimgkit.explain.sanity import (
    cascading_randomization,
    kernel_layers,
    sanity_check,
    sanity_table,
    sanity_verdicts,
    spearman,
    ssim,
)


def test_spearman_matches_scipy_with_ties(rng):
    a = rng.integers(0, 5, size=(6, 10, 10)).astype(np.float64)  # many ties
    b = a + rng.normal(scale=2.0, size=a.shape)
    mine = spearman(a, b)
    ref = [stats.spearmanr(a[i].ravel(), b[i].ravel()).statistic for i in range(6)]
    assert np.allclose(mine, ref)
    assert np.allclose(spearman(a, a), 1) and np.allclose(spearman(a, -a), -1)
    assert spearman(a[0], b[0]).shape == (1,)


def test_spearman_constant_maps_convention():
    flat, other = np.zeros((1, 4, 4)), np.arange(16.0).reshape(1, 4, 4)
    assert spearman(flat, other)[0] == 0.0
    assert spearman(flat, flat)[0] == 1.0
    assert spearman(flat, flat + 1)[0] == 0.0


def test_ssim_properties(rng):
    yy, xx = np.mgrid[:28, :28]
    blob = np.exp(-((yy - 10) ** 2 + (xx - 14) ** 2) / 30.0)[None]
    moved = np.exp(-((yy - 18) ** 2 + (xx - 14) ** 2) / 30.0)[None]
    noise = rng.random((1, 28, 28))
    assert ssim(blob, blob)[0] == pytest.approx(1.0, abs=1e-5)
    assert ssim(blob, moved)[0] < 0.6
    assert ssim(blob, noise)[0] < 0.2
    assert ssim(blob, moved)[0] == pytest.approx(ssim(moved, blob)[0], abs=1e-6)
    assert ssim(blob[:, :6, :6], blob[:, :6, :6])[0] == pytest.approx(1.0, abs=1e-5)  # window shrinks
    with pytest.raises(ValueError, match="equal shape"):
        ssim(blob, blob[:, :10])


def test_cascading_randomization_leaves_the_model_alone(trained_cnn):
    model, _ = trained_cnn
    before = [w.copy() for w in model.get_weights()]
    names = [layer.name for layer in reversed(kernel_layers(model))]
    assert names[0] == "probabilities" and names[-1] == "block1_conv1"
    seen = []
    for name, clone in cascading_randomization(model):
        seen.append(name)
        assert clone is not model
        for layer in kernel_layers(clone):
            same = np.array_equal(layer.kernel.numpy(), model.get_layer(layer.name).kernel.numpy())
            assert same == (layer.name not in seen), layer.name
    assert seen == names
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    with pytest.raises(ValueError, match="not kernel layers"):
        next(cascading_randomization(model, layers=["gap"]))


def test_sanity_check_separates_model_maps_from_an_edge_detector(trained_cnn, breast):
    model, _ = trained_cnn
    x = to_float(breast["test"][0][:8])

    def image_itself(model, images, class_index=None):  # ignores the model: must fail
        return images[..., 0] / images.max(axis=(1, 2, 3))[:, None, None]

    methods = {"Grad-CAM": grad_cam, "Gradient": vanilla_gradient, "image": image_itself}
    result = sanity_check(model, x, methods)
    n_layers = len(kernel_layers(model))
    assert result["layers"][0] == "(trained)" and len(result["layers"]) == n_layers + 1
    for metric in ("spearman", "ssim"):
        for m in methods:
            assert result[metric][m].shape == (n_layers + 1,)
            assert result[metric][m][0] == pytest.approx(1.0, abs=1e-5)
        assert np.allclose(result[metric]["image"], 1.0, atol=1e-5)
    assert result["maps"]["Gradient"].shape == (n_layers + 1, 8, 28, 28)
    assert result["spearman"]["Gradient"][-1] < 0.5
    assert result["ssim"]["Grad-CAM"][-1] < 0.8
    verdicts = sanity_verdicts(result, "spearman", threshold=0.5)
    assert verdicts["Gradient"] and not verdicts["image"]
    table = sanity_table(result)
    assert table.count("\n") == n_layers + 2 and "| (trained) | 1.00 | 1.00 | 1.00 |" in table


def test_sanity_check_arguments(trained_cnn, breast):
    model, _ = trained_cnn
    x = to_float(breast["test"][0][:2])
    with pytest.raises(ValueError, match="methods is empty"):
        sanity_check(model, x, {})
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        sanity_check(model, x[0], {"Grad-CAM": grad_cam})
    with pytest.raises(ValueError, match="metric must be"):
        sanity_table({"layers": [], "spearman": {}}, metric="pearson")


def test_nested_backbone_layers_are_unrolled():
    inner_in = keras.Input((16, 16, 3))
    h = keras.layers.Conv2D(4, 3, padding="same", name="inner1")(inner_in)
    h = keras.layers.DepthwiseConv2D(3, padding="same", name="inner_dw")(h)
    backbone = keras.Model(inner_in, h, name="backbone")
    inputs = keras.Input((16, 16, 3))
    z = keras.layers.GlobalAveragePooling2D()(backbone(inputs))
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax", name="head")(z))
    assert [layer.name for layer in kernel_layers(model)] == ["inner1", "inner_dw", "head"]
    steps = list(cascading_randomization(model))
    assert [s[0] for s in steps] == ["head", "inner_dw", "inner1"]
    clone = steps[-1][1]
    dw = clone.get_layer("backbone").get_layer("inner_dw")
    assert not np.array_equal(dw.kernel.numpy(), backbone.get_layer("inner_dw").kernel.numpy())
