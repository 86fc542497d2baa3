"""Overlay, Bland-Altman and map plots: they draw, and refuse a mask or map that does not fit its image."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from medimgkit import plots  # noqa: E402
from medimgkit.measure import ellipse_mask  # noqa: E402


def test_plot_segmentation_draws_outlines():
    images = np.random.default_rng(0).integers(0, 255, (3, 48, 64), dtype=np.uint8)
    truth = np.stack([ellipse_mask((32, 24, 20, 12, 0.2), (48, 64))] * 3)
    pred = np.roll(truth, 3, axis=2).astype(np.float32)[..., None]
    fig = plots.plot_segmentation(images, truth, pred, titles=["a", "b", "c"], cols=2)
    assert len(fig.axes) == 4 and fig.axes[0].get_title() == "a"
    assert len(fig.axes[0].images) == 3  # the image and two outlines


def test_plot_segmentation_refuses_a_mask_of_another_size():
    images = np.zeros((2, 48, 64), np.uint8)
    with pytest.raises(ValueError, match=r"pred\[1\] has shape \(48, 60\) but its image has shape \(48, 64\)"):
        plots.plot_segmentation(images, None, [np.zeros((48, 64)), np.zeros((48, 60))])
    with pytest.raises(ValueError, match="truth has 1 masks but there are 2 images"):
        plots.plot_segmentation(images, np.zeros((1, 48, 64)))


def test_bland_altman_shows_bias_and_limits():
    reference = np.linspace(100, 300, 20)
    measured = reference + np.linspace(-2, 4, 20)
    fig = plots.plot_bland_altman(measured, reference)
    ax = fig.axes[0]
    assert "bias +1.00 mm" in [t.get_text() for t in ax.get_legend().get_texts()][0]


def test_plot_maps_rows_per_kind_of_map():
    images = np.zeros((3, 28, 28), np.uint8)
    maps = {"Grad-CAM": np.random.default_rng(0).random((3, 28, 28)), "attention": np.zeros((3, 28, 28))}
    fig = plots.plot_maps(images, maps, titles=["a", "b", "c"])
    assert len(fig.axes) == 9 and fig.axes[3].get_ylabel() == "Grad-CAM"
    with pytest.raises(ValueError, match="maps\\['attention'\\] has 2 maps but there are 3 images"):
        plots.plot_maps(images, {"attention": np.zeros((2, 28, 28))})
