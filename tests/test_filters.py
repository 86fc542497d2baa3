"""Hand-crafted filters and filter-bank features on real BreastMNIST images."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from scipy import ndimage

from medimgkit.data import DataUnavailableError, load_medmnist
from medimgkit.scratch.conv import conv2d
from medimgkit.scratch.filters import (
    CLASSIC_KERNELS,
    LAPLACIAN,
    SOBEL_X,
    as_kernels,
    filter_bank,
    filter_bank_features,
    gabor_kernel,
    plot_feature_maps,
    plot_kernels,
    sobel_magnitude,
)


@pytest.fixture(scope="module")
def breast():
    try:
        return load_medmnist("breastmnist", size=28, split="val")
    except DataUnavailableError as exc:  # pragma: no cover
        pytest.skip(f"BreastMNIST not available: {exc}")


def test_sobel_and_laplacian_on_synthetic_edges():
    ramp = np.tile(np.arange(10, dtype=np.float32), (10, 1))[None, :, :, None]  # grows to the right
    gx, gy = np.moveaxis(conv2d(ramp, as_kernels(SOBEL_X, SOBEL_X.T)), -1, 0)
    assert np.allclose(gx, 8.0) and np.allclose(gy, 0.0)  # 1 per pixel * (1 + 2 + 1) * 2
    assert np.allclose(conv2d(ramp, as_kernels(LAPLACIAN)), 0.0)  # a linear ramp has no curvature
    flat = np.full((1, 8, 8, 1), 0.7, np.float32)
    assert np.allclose(conv2d(flat, as_kernels(CLASSIC_KERNELS["blur (box 3x3)"])), 0.7)
    assert np.allclose(conv2d(flat, as_kernels(CLASSIC_KERNELS["sharpen"])), 0.7)


def test_sobel_magnitude_matches_scipy(breast):
    img = breast[0][:3].astype(np.float32) / 255
    ours = sobel_magnitude(breast[0][:3])
    # scipy's sobel is a true convolution (sign flipped), per image; the magnitude is sign-free
    ref = np.stack([np.hypot(ndimage.sobel(i, axis=1, mode="constant"), ndimage.sobel(i, axis=0, mode="constant"))
                    for i in img])
    assert ours.shape == (3, 28, 28)
    np.testing.assert_allclose(ours, ref, atol=1e-5)


def test_gabor_kernel_properties():
    g = gabor_kernel(0.0, 0.25)
    assert g.shape[0] == g.shape[1] and g.shape[0] % 2 == 1
    assert abs(g.sum()) < 1e-5 and abs(np.linalg.norm(g) - 1) < 1e-5
    # a Gabor at theta responds most to stripes along theta's normal
    y, x = np.mgrid[:32, :32]
    stripes = np.cos(2 * np.pi * 0.25 * x).astype(np.float32)[None, :, :, None]  # vary along x
    k = as_kernels(gabor_kernel(0.0, 0.25), gabor_kernel(np.pi / 2, 0.25))
    r = np.abs(conv2d(stripes, k)).mean(axis=(0, 1, 2))
    assert r[0] > 10 * r[1]
    np.testing.assert_allclose(gabor_kernel(np.pi / 2, 0.25), gabor_kernel(0.0, 0.25).T, atol=1e-6)
    with pytest.raises(ValueError, match="frequency"):
        gabor_kernel(0.0, 0.7)
    with pytest.raises(ValueError, match="odd"):
        gabor_kernel(0.0, 0.25, size=4)


def test_filter_bank_and_features(breast):
    kernels, names = filter_bank(orientations=3, frequencies=(0.2,))
    assert kernels.shape[2:] == (1, 4 + 3 * 2) and len(names) == kernels.shape[3]
    images, labels = breast
    feats = filter_bank_features(images, kernels, grid=2)
    assert feats.shape == (len(images), kernels.shape[3] * 4 * 3) and feats.dtype == np.float32
    assert np.all(np.isfinite(feats))
    # identity filter, whole image: the first features are the mean and std of the image
    whole = filter_bank_features(images[:5], kernels, grid=1)
    img = images[:5].astype(np.float32) / 255
    np.testing.assert_allclose(whole[:, 0], img.mean(axis=(1, 2)), rtol=1e-5)
    np.testing.assert_allclose(whole[:, kernels.shape[3]], img.std(axis=(1, 2)), rtol=1e-4)
    # uint8 and float input give the same features
    np.testing.assert_allclose(filter_bank_features(img, kernels), filter_bank_features(images[:5], kernels), rtol=1e-6)


def test_bad_inputs(breast):
    with pytest.raises(ValueError, match="grey images"):
        filter_bank_features(np.zeros((2, 8, 8, 3), np.float32))
    with pytest.raises(ValueError, match="grid"):
        filter_bank_features(breast[0][:2], grid=0)
    with pytest.raises(ValueError, match="odd side"):
        as_kernels(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="channel"):
        plot_kernels(np.zeros((3, 3, 1, 2)), channel=1)
    with pytest.raises(ValueError, match=r"\(H, W, K\)"):
        plot_feature_maps(np.zeros((2, 8, 8, 3)))


def test_plots_return_figures():
    kernels, names = filter_bank(orientations=2, frequencies=(0.25,))
    fig = plot_kernels(kernels, names)
    assert len([a for a in fig.axes if a.images]) == kernels.shape[3]
    fig2 = plot_feature_maps(np.random.default_rng(0).normal(size=(8, 8, 5)), n=4, title="maps")
    assert len([a for a in fig2.axes if a.images]) == 4


def test_kernel_and_map_grids_stay_within_the_book_column():
    from medimgkit.plots import COLUMN_WIDTH

    kernels = np.random.default_rng(0).normal(size=(5, 5, 1, 32))
    fig = plot_kernels(kernels, [f"k{i}" for i in range(32)], cols=16)
    assert fig.get_size_inches()[0] <= COLUMN_WIDTH and len([a for a in fig.axes if a.images]) == 32
    fig2 = plot_feature_maps(np.random.default_rng(0).normal(size=(8, 8, 16)), n=16)
    assert fig2.get_size_inches()[0] <= COLUMN_WIDTH and len([a for a in fig2.axes if a.images]) == 16
