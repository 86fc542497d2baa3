"""MLP builder, explicit NumPy composition, linear collapse, line profiles and curve fitting."""

import keras
import numpy as np
import pytest

from medimgkit.data import load_medmnist
from medimgkit.scratch.mapping import (
    collapse_linear,
    compose_numpy,
    fit_curve,
    line_profile,
    mlp,
    mse,
    random_feature_errors,
)


@pytest.fixture(scope="module")
def profile(data_folder):
    """Row 16 of BreastMNIST-64 training image 66, which crosses a malignant lesion."""
    x, y = load_medmnist("breastmnist", 64, "train")
    assert y[66] == 0  # malignant
    d, v = line_profile(x[66], (16, 0), (16, 63), sigma=1.0)
    return (d / d.max() * 2 - 1)[:, None], (v - v.mean()) / v.std()


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", None])
def test_compose_numpy_equals_keras(activation, rng):
    model = mlp(input_dim=3, width=5, depth=3, activation=activation, output_dim=2, seed=1,
                bias_range=0.5)
    x = rng.normal(size=(7, 3)).astype(np.float32)
    assert np.allclose(compose_numpy(model, x), np.asarray(model(x)), atol=1e-5)


def test_mlp_shapes_and_errors():
    model = mlp(input_dim=2, width=4, depth=2)
    assert model.output_shape == (None, 1)
    assert [layer.name for layer in model.layers[1:]] == ["hidden1", "hidden2", "output"]
    assert len(mlp(depth=0).layers) == 2
    with pytest.raises(ValueError, match="width must be an integer >= 1, got 0"):
        mlp(width=0)
    with pytest.raises(ValueError, match="weight_scale"):
        mlp(weight_scale=0)


def test_compose_numpy_rejects_non_dense_and_bad_shapes(rng):
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Dropout(0.1)(inputs)))
    with pytest.raises(ValueError, match="Dropout"):
        compose_numpy(model, rng.normal(size=(2, 4)))
    with pytest.raises(ValueError, match=r"shape \(N, 1\)"):
        compose_numpy(mlp(), rng.normal(size=(2, 3)))
    with pytest.raises(ValueError, match="elu"):
        compose_numpy(mlp(activation="elu"), rng.normal(size=(2, 1)))


def test_collapse_linear(rng):
    model = mlp(input_dim=3, width=6, depth=4, activation=None, output_dim=2, seed=2, bias_range=1.0)
    w, b = collapse_linear(model)
    assert w.shape == (3, 2) and b.shape == (2,)
    x = rng.normal(size=(9, 3))
    assert np.allclose(x @ w + b, np.asarray(model(x.astype(np.float32))), atol=1e-5)
    with pytest.raises(ValueError, match="activation 'tanh'"):
        collapse_linear(mlp(activation="tanh"))


def test_line_profile_interpolates_and_smooths():
    image = np.add.outer(np.arange(5.0), 10 * np.arange(6.0))  # value = row + 10 col, linear
    d, v = line_profile(image, (0, 0), (4, 5), num=11)
    assert np.allclose(d, np.linspace(0, np.hypot(4, 5), 11))
    t = np.linspace(0, 1, 11)
    assert np.allclose(v, 4 * t + 50 * t)  # bilinear is exact on a linear image
    d2, v2 = line_profile(np.tile(np.r_[0.0, 100.0] * 1, (3, 4)), (1, 0), (1, 7), sigma=2.0)
    assert len(d2) == 8 and v2.std() < 30  # smoothing flattens an alternating row (std 50)
    with pytest.raises(ValueError, match="outside the image"):
        line_profile(image, (0, 0), (5, 0))
    with pytest.raises(ValueError, match="2-D"):
        line_profile(np.zeros((2, 2, 2)), (0, 0), (1, 1))


def test_fit_curve_fits_real_profile(profile):
    x, y = profile
    model = mlp(1, 16, 1, seed=0, weight_scale=10, bias_range=3)
    before = mse(model, x, y)
    losses = fit_curve(model, x, y, steps=300, learning_rate=0.02)
    assert losses.shape == (300,) and np.isclose(losses[0], before, rtol=1e-4)
    assert mse(model, x, y) < 0.2 * before
    with pytest.raises(ValueError, match="steps"):
        fit_curve(model, x, y, steps=0)


def test_linear_stack_cannot_beat_least_squares(profile):
    x, y = profile
    model = mlp(1, 8, 3, activation=None, seed=0)
    fit_curve(model, x, y, steps=300, learning_rate=0.02)
    ls = np.polyval(np.polyfit(x[:, 0], y, 1), x[:, 0])
    assert mse(model, x, y) >= np.mean((ls - y) ** 2) - 1e-6


def test_random_feature_errors_nested_and_interpolating(profile):
    x, y = profile
    widths = [1, 2, 4, 8, 16, 32, 64]
    err = random_feature_errors(x, y, widths, weight_scale=10, bias_range=3)
    assert err.shape == (7,) and np.all(np.diff(err) <= 1e-9)
    assert err[-1] < 1e-3 < err[0]
    with pytest.raises(ValueError, match="increasing"):
        random_feature_errors(x, y, [4, 2])
