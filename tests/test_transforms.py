"""medimgkit.transforms: windowing, normalisers, resizing, grey/RGB, augmentation (with hypothesis)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from _medical_files import CT
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from medimgkit.io import load_dicom
from medimgkit.transforms import (
    WINDOWS,
    medical_augmentation,
    minmax,
    percentile_clip,
    resize_pad,
    to_gray,
    to_rgb,
    window,
    zscore,
)

finite = st.floats(-4000, 4000, allow_nan=False, allow_infinity=False, width=32)
images = arrays(np.float32, st.tuples(st.integers(1, 24), st.integers(1, 24)), elements=finite)
unit_images = arrays(np.float32, st.tuples(st.integers(1, 16), st.integers(1, 16)), elements=st.floats(0, 1, width=32))
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(images, finite, st.floats(0.5, 5000))
def test_window_output_is_in_unit_range_with_the_same_shape(image, center, width):
    out = window(image, center, width)
    assert out.shape == image.shape and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1


@FAST
@given(images, finite, st.floats(0.5, 5000))
def test_window_is_monotone(image, center, width):
    flat = image.ravel()
    order = np.argsort(flat, kind="stable")
    assert np.all(np.diff(window(flat, center, width)[order]) >= 0)


@FAST
@given(unit_images)
def test_windowing_a_unit_image_with_center_half_width_one_is_the_identity(image):
    assert np.array_equal(window(image, 0.5, 1.0), image)


def test_window_presets_on_a_real_ct():
    hu, _ = load_dicom(CT)
    assert set(WINDOWS) >= {"lung", "mediastinum", "bone", "brain", "abdomen"}
    assert WINDOWS["lung"] == (-600.0, 1500.0) and WINDOWS["mediastinum"] == (50.0, 350.0)
    for name, (c, w) in WINDOWS.items():
        assert np.array_equal(window(hu, name), window(hu, c, w))
    lung_tissue = hu < -700  # aerated lung, about -850 HU in this slice
    assert lung_tissue.mean() > 0.05
    # visible as dark grey in the lung window, plain black in the mediastinum and bone windows
    assert 0.05 < window(hu, "lung")[lung_tissue].mean() < 0.4
    assert window(hu, "mediastinum")[lung_tissue].max() == 0 and window(hu, "bone")[lung_tissue].max() == 0
    # bone (> 700 HU) is white in the lung and mediastinum windows, still grey in the bone window
    dense = hu > 700
    assert window(hu, "mediastinum")[dense].min() == 1 and window(hu, "bone")[dense].max() < 1
    # the window's edges land exactly on 0 and 1
    assert window(np.array([-1350.0, -600.0, 150.0]), "lung").tolist() == [0.0, 0.5, 1.0]


def test_window_rejects_bad_arguments():
    with pytest.raises(ValueError, match="unknown window preset 'liver'"):
        window(np.zeros(3), "liver")
    with pytest.raises(ValueError, match="either a preset name or"):
        window(np.zeros(3), "lung", 100)
    with pytest.raises(ValueError, match="width is missing"):
        window(np.zeros(3), 40)


@FAST
@given(images)
def test_minmax_range_extremes_and_idempotence(image):
    out = minmax(image)
    assert out.shape == image.shape and out.min() >= 0 and out.max() <= 1
    if image.max() > image.min():
        assert out.min() == 0 and out.max() == 1
        assert np.array_equal(minmax(out), out)
    else:
        assert not out.any()


@FAST
@given(images)
def test_zscore_has_zero_mean_and_unit_std(image):
    out = zscore(image)
    assert out.shape == image.shape
    spread = float(image.astype(np.float64).std())
    assume(spread > 1e-3 * max(1.0, float(np.abs(image).max())))
    assert abs(float(out.astype(np.float64).mean())) < 1e-4
    assert float(out.astype(np.float64).std()) == pytest.approx(1.0, abs=1e-4)


@FAST
@given(images, st.floats(0, 40), st.floats(60, 100))
def test_percentile_clip_is_idempotent_and_stays_in_range(image, lo, hi):
    once = percentile_clip(image, lo, hi)
    assert np.array_equal(percentile_clip(once, lo, hi), once)
    assert once.min() >= image.min() and once.max() <= image.max()
    # values already inside the bounds are untouched
    inside = (image >= once.min()) & (image <= once.max())
    assert np.array_equal(once[inside], image[inside])


def test_percentile_clip_removes_a_spike():
    image = np.zeros((20, 20))
    image[0, 0] = 1e6  # a metal artefact, say
    assert percentile_clip(image).max() == 0
    with pytest.raises(ValueError, match="0 <= lo < hi <= 100"):
        percentile_clip(image, 99, 1)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(images, st.integers(1, 40), st.integers(1, 40), st.sampled_from(["bilinear", "nearest", "area"]))
def test_resize_pad_shape_range_and_idempotence(image, th, tw, method):
    out = resize_pad(image, (th, tw), method=method)
    assert out.shape == (th, tw) and out.dtype == np.float32
    lo, hi = min(float(image.min()), 0.0), max(float(image.max()), 0.0)
    tol = 1e-4 * max(1.0, abs(lo), abs(hi))
    assert out.min() >= lo - tol and out.max() <= hi + tol
    assert np.array_equal(resize_pad(out, (th, tw), method=method), out)


def test_resize_pad_keeps_the_aspect_ratio():
    image = np.ones((10, 40))  # 1:4, like a panoramic strip
    out = resize_pad(image, (32, 32), pad_value=-1)
    rows = np.flatnonzero((out > 0).any(axis=1))
    assert out.shape == (32, 32) and len(rows) == 8  # 32 wide -> 8 high, centred
    assert rows[0] == 12 and (out[:12] == -1).all()
    colour = resize_pad(np.ones((4, 4, 3)), (8, 16))
    assert colour.shape == (8, 16, 3) and colour[:, :4].max() == 0 and colour[:, 4:12].min() == pytest.approx(1)


def test_grey_and_rgb_conversions():
    import tensorflow as tf

    rgb = np.random.default_rng(0).integers(0, 256, size=(6, 7, 3), dtype=np.uint8)
    grey = to_gray(rgb)
    assert grey.dtype == np.uint8 and grey.shape == (6, 7)
    expected = tf.image.rgb_to_grayscale(rgb.astype(np.float32)).numpy()[..., 0]
    assert np.abs(grey.astype(float) - expected).max() <= 0.5 + 1e-3
    assert np.array_equal(to_gray(rgb[..., :1]), rgb[..., 0])
    assert to_gray(np.dstack([rgb, rgb[..., :1]])).shape == (6, 7)  # RGBA: alpha dropped
    back = to_rgb(grey)
    assert back.shape == (6, 7, 3) and np.array_equal(back[..., 0], back[..., 2])
    assert np.array_equal(to_rgb(rgb), rgb) and to_rgb(grey[..., None]).shape == (6, 7, 3)
    with pytest.raises(ValueError, match="1, 3 or 4 channels"):
        to_gray(np.zeros((4, 4, 2)))


def test_medical_augmentation_is_off_at_inference_and_has_no_flip_by_default():
    layers = medical_augmentation(0, noise=0.05)
    assert not any(isinstance(layer, keras.layers.RandomFlip) for layer in layers.layers)
    x = np.random.default_rng(0).random((4, 28, 28, 1)).astype(np.float32)
    assert np.array_equal(layers(x, training=False).numpy(), x)
    y = layers(x, training=True).numpy()
    assert y.shape == x.shape and not np.allclose(y, x)
    assert any(isinstance(layer, keras.layers.RandomFlip) for layer in medical_augmentation(flip="horizontal").layers)
    with pytest.raises(ValueError, match="flip must be"):
        medical_augmentation(flip="left")


def test_models_augmentation_is_a_preset_of_medical_augmentation():
    from medimgkit.models import augmentation

    x = np.random.default_rng(1).random((4, 28, 28, 1)).astype(np.float32)
    general = medical_augmentation(
        3, flip="horizontal", rotation=0.05, translation=0.08, contrast=0.2, value_range=(0, 1)
    )
    original = augmentation(3)
    assert [type(a) for a in general.layers] == [type(b) for b in original.layers]
    assert np.allclose(general(x, training=True).numpy(), original(x, training=True).numpy())
