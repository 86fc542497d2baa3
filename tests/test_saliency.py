"""Saliency maps: exact answers on linear models, agreement with Grad-CAM, batching, errors."""

import keras
import numpy as np
import pytest

from medimgkit.data import to_float
from medimgkit.explain import grad_cam
from medimgkit.explain.saliency import (
    grad_cam_plus_plus,
    gradient_x_input,
    predicted_class,
    smoothgrad,
    vanilla_gradient,
)

METHODS = [grad_cam_plus_plus, vanilla_gradient, smoothgrad, gradient_x_input]


def _linear_model(seed=0):
    """Flatten -> Dense(softmax): the log-odds of class 1 is x . (W[:, 1] - W[:, 0]) + const."""
    inputs = keras.Input((8, 8, 1))
    z = keras.layers.Flatten()(inputs)
    outputs = keras.layers.Dense(2, activation="softmax", kernel_initializer=keras.initializers.RandomNormal(seed=seed))(z)
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize("method", METHODS, ids=lambda f: f.__name__)
def test_shape_range_and_dtype(method, trained_cnn, breast):
    model, _ = trained_cnn
    x = to_float(breast["test"][0][:8])
    maps = method(model, x)
    assert maps.shape == (8, 28, 28) and maps.dtype == np.float32
    assert maps.min() >= 0 and maps.max() <= 1 + 1e-6
    assert np.isclose(maps.reshape(8, -1).max(axis=1), 1).sum() >= 6  # scaled by their own peak


def test_gradients_are_exact_on_a_linear_model():
    model = _linear_model()
    x = np.random.default_rng(0).random((3, 8, 8, 1), dtype=np.float32)
    kernel = model.layers[-1].kernel.numpy()
    w = (kernel[:, 1] - kernel[:, 0]).reshape(8, 8)
    expected = np.abs(w) / np.abs(w).max()
    assert np.allclose(vanilla_gradient(model, x, class_index=1), expected, atol=1e-5)
    gxi = np.abs(x[..., 0] * w)
    assert np.allclose(gradient_x_input(model, x, 1), gxi / gxi.max(axis=(1, 2), keepdims=True), atol=1e-5)
    # with two classes the log-odds of one is minus the other's: the same |gradient| map
    assert np.allclose(vanilla_gradient(model, x, class_index=0), expected, atol=1e-5)
    # the gradient of a linear score does not depend on x, so SmoothGrad's noise changes nothing
    assert np.allclose(smoothgrad(model, x, 1, samples=5, noise=0.3), expected, atol=1e-5)


def test_grad_cam_plus_plus_equals_grad_cam_with_one_channel():
    """With one feature channel and a positive log-odds weight both maps are ReLU(A), rescaled."""
    inputs = keras.Input((16, 16, 1))
    a = keras.layers.Conv2D(1, 3, padding="same", name="conv", kernel_initializer=keras.initializers.RandomNormal(seed=1))(inputs)
    z = keras.layers.GlobalAveragePooling2D()(a)
    dense = keras.layers.Dense(2, activation="softmax", name="head")
    model = keras.Model(inputs, dense(z))
    dense.kernel.assign(np.array([[1.5, -0.7]], np.float32))
    x = np.random.default_rng(2).random((4, 16, 16, 1), dtype=np.float32)  # the input contract: [0, 1]
    plus = grad_cam_plus_plus(model, x, class_index=0)
    assert np.allclose(plus, grad_cam(model, x, class_index=0), atol=1e-5)
    assert plus.max() == pytest.approx(1.0)
    # class 1's log-odds weight is -2.2: no positive evidence, all zeros, no NaN
    assert np.array_equal(grad_cam_plus_plus(model, x, class_index=1), np.zeros((4, 16, 16), np.float32))


def test_grad_cam_plus_plus_on_global_pooling_keeps_the_positive_channels():
    """After global average pooling the gradient is constant over space, so the normalised
    alphas are uniform and the weights are ReLU(v_k), v = W[:, 0] - W[:, 1] (the log-odds of
    class 0): Grad-CAM++ = ReLU(sum_k ReLU(v_k) A_k)."""
    inputs = keras.Input((12, 12, 1))
    a = keras.layers.Conv2D(3, 3, padding="same", activation="relu", name="conv",
                            kernel_initializer=keras.initializers.RandomNormal(seed=3))(inputs)
    dense = keras.layers.Dense(2, activation="softmax", name="head")
    model = keras.Model(inputs, dense(keras.layers.GlobalAveragePooling2D()(a)))
    w = np.array([[0.8, 0.1], [-1.2, 0.3], [0.5, -0.2]], np.float32)
    dense.kernel.assign(w)
    x = np.random.default_rng(4).random((3, 12, 12, 1), dtype=np.float32)
    feature = keras.Model(inputs, a).predict(x, verbose=0)
    expected = np.maximum((feature * np.maximum(w[:, 0] - w[:, 1], 0)).sum(axis=-1), 0)
    expected /= expected.max(axis=(1, 2), keepdims=True)
    assert np.allclose(grad_cam_plus_plus(model, x, class_index=0), expected, atol=1e-5)
    # Grad-CAM instead subtracts the channel with the negative weight
    assert not np.allclose(grad_cam(model, x, class_index=0), expected, atol=1e-3)


def test_batched_equals_per_image(trained_cnn, breast):
    model, _ = trained_cnn
    x = to_float(breast["test"][0][:5])
    for method in (grad_cam_plus_plus, vanilla_gradient):
        batched = method(model, x, class_index=0)
        single = np.stack([method(model, x[i : i + 1], class_index=0)[0] for i in range(5)])
        assert np.allclose(batched, single, atol=1e-5), method.__name__


def test_smoothgrad_is_seeded_and_averages_out_noise(trained_cnn, breast):
    model, _ = trained_cnn
    x = to_float(breast["test"][0][:4])
    a = smoothgrad(model, x, samples=6, seed=3)
    assert np.array_equal(a, smoothgrad(model, x, samples=6, seed=3))
    assert not np.allclose(a, smoothgrad(model, x, samples=6, seed=4))
    assert np.allclose(smoothgrad(model, x, samples=1, noise=0.0), vanilla_gradient(model, x), atol=1e-6)

    def seed_agreement(samples):  # maps from two noise seeds agree more as the average grows
        a, b = smoothgrad(model, x, samples=samples, seed=1), smoothgrad(model, x, samples=samples, seed=2)
        return np.corrcoef(a.ravel(), b.ravel())[0, 1]

    assert seed_agreement(24) > seed_agreement(2) + 0.2


def test_predicted_class(trained_cnn, breast):
    model, _ = trained_cnn
    x = to_float(breast["test"][0][:6])
    assert np.array_equal(predicted_class(model, x), np.argmax(model.predict(x, verbose=0), axis=1))


def test_bad_arguments(trained_cnn, breast):
    model, _ = trained_cnn
    x = to_float(breast["test"][0][:2])
    with pytest.raises(ValueError, match="outside 0..1"):
        vanilla_gradient(model, x, class_index=2)
    with pytest.raises(ValueError, match="outside 0..1"):
        grad_cam_plus_plus(model, x, class_index=-1)
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        smoothgrad(model, x[0, :, :, 0])
    with pytest.raises(ValueError, match="samples must be at least 1"):
        smoothgrad(model, x, samples=0)
    with pytest.raises(ValueError, match="gap"):
        grad_cam_plus_plus(model, x, layer="gap")
