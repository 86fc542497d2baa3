"""medimgkit.scratch.conv against TensorFlow/Keras on a real BreastMNIST ultrasound image."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import signal

from medimgkit.data import DataUnavailableError, load_medmnist, to_float
from medimgkit.scratch.conv import (
    avg_pool2d,
    conv2d,
    conv_params,
    convolve2d,
    flip_kernel,
    max_pool2d,
    output_size,
    pad_amounts,
    receptive_field,
)


@pytest.fixture(scope="module")
def ultrasound() -> np.ndarray:
    """Two real BreastMNIST images (64 px), float32 (2, 64, 64, 1) in [0, 1]."""
    try:
        images, _ = load_medmnist("breastmnist", size=64, split="test")
    except DataUnavailableError as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"BreastMNIST not available: {exc}")
    return to_float(images[:2])


def _channels(x: np.ndarray, c: int) -> np.ndarray:
    """Make C channels from a grey image: the image, its square, its complement..."""
    stack = [x, x**2, 1 - x, np.sqrt(x)][:c]
    return np.concatenate(stack, axis=-1)


CASES = [  # f, s, p, C, K
    (3, 1, 0, 1, 4),
    (3, 2, 1, 1, 8),
    (5, 1, 2, 3, 2),
    (5, 3, 0, 2, 3),
    (1, 1, 0, 4, 5),
    (7, 2, 3, 3, 6),
    (4, 2, 1, 2, 2),
]


@pytest.mark.parametrize("f,s,p,c,k", CASES)
def test_conv2d_matches_tf_nn_conv2d(ultrasound, f, s, p, c, k):
    x = _channels(ultrasound, c)
    rng = np.random.default_rng(f * 100 + s * 10 + c)
    kern = rng.normal(size=(f, f, c, k)).astype(np.float32)
    bias = rng.normal(size=k).astype(np.float32)
    ours = conv2d(x, kern, bias, stride=s, padding=p)
    padded = tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]])
    ref = (tf.nn.conv2d(padded, kern, strides=s, padding="VALID") + bias).numpy()
    assert ours.shape == ref.shape == (2, output_size(64, f, s, p), output_size(64, f, s, p), k)
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("f,s,padding", [(3, 1, "same"), (3, 2, "same"), (4, 3, "same"), (5, 2, "valid"), (2, 2, "same")])
def test_conv2d_matches_keras_conv2d_layer(ultrasound, f, s, padding):
    x = _channels(ultrasound, 2)
    layer = keras.layers.Conv2D(3, f, strides=s, padding=padding, bias_initializer="glorot_uniform")
    ref = keras.ops.convert_to_numpy(layer(x))
    kern, bias = (keras.ops.convert_to_numpy(w) for w in layer.weights)
    ours = conv2d(x, kern, bias, stride=s, padding=padding)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("w,f,s,padding", [(28, 3, 1, "valid"), (28, 3, 2, "same"), (64, 5, 3, "valid"),
                                           (64, 4, 2, "same"), (27, 7, 4, "same"), (31, 1, 5, "valid")])
def test_output_size_matches_keras_shapes(w, f, s, padding):
    out = keras.layers.Conv2D(1, f, strides=s, padding=padding).compute_output_shape((None, w, w, 1))
    assert out[1] == out[2] == output_size(w, f, s, padding)
    pool = keras.layers.MaxPooling2D(f, strides=s, padding=padding).compute_output_shape((None, w, w, 1))
    assert pool[1] == output_size(w, f, s, padding)


def test_output_size_formula_and_errors():
    assert output_size(64, 3) == 62
    assert output_size(64, 3, 1, 1) == 64
    assert output_size(64, 5, 2, 2) == 32  # floor((64 - 5 + 4) / 2) + 1
    assert output_size(5, 5) == 1
    assert pad_amounts(64, 4, 2, "same") == (1, 1)
    assert pad_amounts(5, 2, 1, "same") == (0, 1)  # TensorFlow puts the odd pixel after
    with pytest.raises(ValueError, match="does not fit"):
        output_size(4, 7)
    with pytest.raises(ValueError, match="stride must be >= 1"):
        output_size(10, 3, 0)
    with pytest.raises(ValueError, match="padding must be >= 0"):
        output_size(10, 3, 1, -1)
    with pytest.raises(ValueError, match="'valid' or 'same'"):
        output_size(10, 3, 1, "full")
    with pytest.raises(TypeError, match="integer"):
        output_size(10.5, 3)


@pytest.mark.parametrize("f,c,k,bias", [(3, 1, 32, True), (5, 3, 16, True), (1, 64, 128, False), (7, 2, 1, True)])
def test_conv_params_matches_count_params(f, c, k, bias):
    layer = keras.layers.Conv2D(k, f, use_bias=bias)
    layer.build((None, 32, 32, c))
    assert layer.count_params() == conv_params(f, c, k, bias) == f * f * c * k + (k if bias else 0)


def test_receptive_field_growth():
    assert receptive_field([(3, 1)] * 3) == [3, 5, 7]
    # conv3 -> pool2 -> conv3 -> pool2 -> conv3: jumps 1, 1, 2, 2, 4
    assert receptive_field([(3, 1), (2, 2), (3, 1), (2, 2), (3, 1)]) == [3, 4, 8, 10, 18]
    assert receptive_field([]) == []
    with pytest.raises(ValueError, match="pair"):
        receptive_field([3])


def test_receptive_field_matches_gradient_support():
    """The input pixels that reach one output unit, found by a gradient, span the receptive field."""
    stack = [(3, 1), (2, 2), (3, 1), (3, 2)]
    model = keras.Sequential(
        [keras.Input((40, 40, 1))]
        + [
            keras.layers.Conv2D(1, f, strides=s, kernel_initializer="ones", use_bias=False)
            for f, s in stack
        ]
    )
    x = tf.Variable(np.zeros((1, 40, 40, 1), np.float32))
    with tf.GradientTape() as tape:
        y = model(x)
        unit = y[0, y.shape[1] // 2, y.shape[2] // 2, 0]
    grad = tape.gradient(unit, x).numpy()[0, :, :, 0]
    rows, cols = np.nonzero(grad)
    assert rows.max() - rows.min() + 1 == cols.max() - cols.min() + 1 == receptive_field(stack)[-1]


@pytest.mark.parametrize("size,stride,padding", [(2, None, "valid"), (3, 2, "valid"), (3, 2, "same"), (2, 1, "same"), (5, 3, "same")])
def test_pooling_matches_keras(ultrasound, size, stride, padding):
    x = _channels(ultrasound, 3)
    ref_max = keras.layers.MaxPooling2D(size, strides=stride, padding=padding)(x)
    ref_avg = keras.layers.AveragePooling2D(size, strides=stride, padding=padding)(x)
    np.testing.assert_allclose(max_pool2d(x, size, stride, padding), keras.ops.convert_to_numpy(ref_max), rtol=1e-6)
    np.testing.assert_allclose(avg_pool2d(x, size, stride, padding), keras.ops.convert_to_numpy(ref_avg), rtol=1e-5, atol=1e-6)


def test_true_convolution_vs_cross_correlation(ultrasound):
    img = ultrasound[0, :, :, 0].astype(np.float64)
    kern = np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0], [-2.0, 0.0, 1.0]])  # not symmetric
    x, k = img[None, :, :, None], kern[:, :, None, None]
    np.testing.assert_allclose(conv2d(x, k)[0, :, :, 0], signal.correlate2d(img, kern, mode="valid"), atol=1e-12)
    np.testing.assert_allclose(convolve2d(x, k)[0, :, :, 0], signal.convolve2d(img, kern, mode="valid"), atol=1e-12)
    np.testing.assert_allclose(convolve2d(x, k, padding=2)[0, :, :, 0], signal.convolve2d(img, kern, mode="full"), atol=1e-12)
    assert not np.allclose(conv2d(x, k), convolve2d(x, k))  # the flip matters for this kernel
    np.testing.assert_array_equal(flip_kernel(flip_kernel(kern)), kern)
    np.testing.assert_array_equal(flip_kernel(kern), np.rot90(kern, 2))


def test_bad_input_raises_clear_errors(ultrasound):
    k = np.zeros((3, 3, 1, 2), np.float32)
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        conv2d(ultrasound[0], k)
    with pytest.raises(ValueError, match="floating point"):
        conv2d((ultrasound * 255).astype(np.uint8), k)
    with pytest.raises(ValueError, match="3 input channels but images have 1"):
        conv2d(ultrasound, np.zeros((3, 3, 3, 2)))
    with pytest.raises(ValueError, match=r"bias must have shape \(2,\)"):
        conv2d(ultrasound, k, bias=np.zeros(3))
    with pytest.raises(ValueError, match="does not fit"):
        conv2d(ultrasound, np.zeros((70, 70, 1, 1)))
    with pytest.raises(ValueError, match="'valid' or 'same'"):
        max_pool2d(ultrasound, 2, padding=1)
    with pytest.raises(ValueError, match="two spatial axes"):
        flip_kernel(np.zeros(3))
