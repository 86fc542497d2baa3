"""Synthetic contrast and gamma shift of uint8 images."""

import numpy as np
import pytest

from medimgkit.transforms import adjust_contrast, adjust_gamma


def test_identity_settings_change_nothing(breast):
    x = breast["test"][0][:20]
    assert np.array_equal(adjust_contrast(x, 1.0), x)
    assert np.array_equal(adjust_gamma(x, 1.0), x)


def test_contrast_scales_the_spread_around_each_image_mean(breast):
    x = breast["test"][0][:20]
    low = adjust_contrast(x, 0.5)
    assert low.dtype == np.uint8 and low.shape == x.shape
    ratio = low.reshape(20, -1).std(axis=1) / x.reshape(20, -1).std(axis=1)
    assert np.allclose(ratio, 0.5, atol=0.02)
    assert np.allclose(low.reshape(20, -1).mean(axis=1), x.reshape(20, -1).mean(axis=1), atol=1.0)
    flat = adjust_contrast(x, 0.0)
    assert all(len(np.unique(img)) == 1 for img in flat)


def test_gamma_is_monotone_and_keeps_black_and_white():
    x = np.arange(256, dtype=np.uint8).reshape(1, 16, 16)
    dark = adjust_gamma(x, 2.0).ravel().astype(int)
    bright = adjust_gamma(x, 0.5).ravel().astype(int)
    assert np.all(np.diff(dark) >= 0) and np.all(np.diff(bright) >= 0)
    assert dark[0] == bright[0] == 0 and dark[-1] == bright[-1] == 255
    assert np.all(dark <= np.arange(256)) and np.all(bright >= np.arange(256))


def test_shift_refuses_bad_input():
    with pytest.raises(ValueError, match="uint8"):
        adjust_gamma(np.zeros((1, 4, 4), np.float32), 2.0)
    with pytest.raises(ValueError, match="gamma"):
        adjust_gamma(np.zeros((1, 4, 4), np.uint8), 0.0)
    with pytest.raises(ValueError, match="contrast"):
        adjust_contrast(np.zeros((1, 4, 4), np.uint8), -1.0)
