"""From a mask to millimetres: fill, fit, perimeter, head circumference; and the agreement report."""

import numpy as np
import pytest
from scipy.special import ellipe

from medimgkit.measure import (
    Ellipse,
    ellipse_mask,
    ellipse_perimeter,
    fill_outline,
    fit_ellipse,
    head_circumference_mm,
    largest_component,
)
from medimgkit.metrics import agreement_report


def _ring(shape=(120, 160), ellipse=(80, 60, 50, 30, 0.3)):
    filled = ellipse_mask(ellipse, shape)
    from scipy import ndimage

    return filled & ~ndimage.binary_erosion(filled, iterations=2), filled


def test_ramanujan_is_exact_for_a_circle_and_matches_the_elliptic_integral():
    assert ellipse_perimeter(10, 10) == pytest.approx(2 * np.pi * 10, rel=1e-15)
    for a, b, tolerance in [(5, 3, 1e-9), (120, 80, 1e-9), (100, 50, 1e-9), (100, 34, 1e-7)]:
        exact = 4 * a * ellipe(1 - (b / a) ** 2)  # P = 4 a E(e^2)
        assert ellipse_perimeter(a, b) == pytest.approx(exact, rel=tolerance)
    assert ellipse_perimeter(1, 0) == pytest.approx(4, rel=1e-3)  # a flat ellipse: a segment walked twice
    np.testing.assert_allclose(ellipse_perimeter(np.array([3.0, 10.0]), np.array([3.0, 10.0])), 2 * np.pi * np.array([3, 10]))
    with pytest.raises(ValueError, match="semi-axes"):
        ellipse_perimeter(-1, 2)


def test_fit_recovers_a_drawn_ellipse():
    truth = Ellipse(x=81.3, y=57.8, a=52.0, b=31.0, angle=0.4)
    fitted = fit_ellipse(ellipse_mask(truth, (120, 170)))
    assert fitted.x == pytest.approx(truth.x, abs=0.05) and fitted.y == pytest.approx(truth.y, abs=0.05)
    assert fitted.a == pytest.approx(truth.a, abs=0.15) and fitted.b == pytest.approx(truth.b, abs=0.15)
    assert fitted.angle == pytest.approx(truth.angle, abs=0.01)
    turned = fit_ellipse(ellipse_mask(truth._replace(angle=-1.2), (120, 170)))
    assert turned.angle == pytest.approx(-1.2, abs=0.01)


def test_fill_outline_fills_a_ring_and_refuses_a_gap_or_nothing():
    ring, filled = _ring()
    out = fill_outline(ring.astype(np.uint8) * 255, "ring.png")
    assert out.dtype == bool and np.array_equal(out, filled)
    broken = ring.copy()
    broken[:, 75:85] = False  # cut the curve top and bottom
    with pytest.raises(ValueError, match=r"broken\.png: the outline does not close"):
        fill_outline(broken, "broken.png")
    with pytest.raises(ValueError, match="empty.png: the outline is empty"):
        fill_outline(np.zeros((8, 8)), "empty.png")


def test_an_outline_cut_by_the_image_edge_is_closed_along_the_edge():
    ring, filled = _ring()
    cut_ring, cut_filled = ring[40:], filled[40:]  # the top of the ellipse (rows 28 to 39) is outside the image
    assert cut_ring[0].any()
    assert np.array_equal(fill_outline(cut_ring), cut_filled)
    with pytest.raises(ValueError, match="does not close"):
        fill_outline(cut_ring, close_at_border=False)


def test_head_circumference_in_mm():
    circle = ellipse_mask((100, 100, 40, 40, 0), (200, 200))
    assert head_circumference_mm(circle, 0.5) == pytest.approx(2 * np.pi * 40 * 0.5, rel=5e-3)
    batch = np.stack([circle, ellipse_mask((100, 100, 60, 30, 1.0), (200, 200))])
    hc = head_circumference_mm(batch[..., None].astype(np.float32), [0.5, 0.25])
    assert hc.shape == (2,)
    assert hc[1] == pytest.approx(ellipse_perimeter(60, 30) * 0.25, rel=5e-3)


def test_cleaning_drops_specks_and_fills_holes():
    head = ellipse_mask((60, 50, 30, 20, 0), (100, 120))
    noisy = head.copy()
    noisy[5:8, 5:8] = True  # a speck far from the head
    noisy[48:52, 58:62] = False  # a hole in it
    assert np.array_equal(largest_component(noisy), head)
    assert head_circumference_mm(noisy, 1.0) == pytest.approx(head_circumference_mm(head, 1.0, clean=False))


def test_bad_input_is_named():
    head = ellipse_mask((60, 50, 30, 20, 0), (100, 120))
    with pytest.raises(ValueError, match="mask 1: the mask is empty.*no head"):
        head_circumference_mm(np.stack([head, np.zeros_like(head)]), 0.2)
    measured = head_circumference_mm(np.stack([head, np.zeros_like(head)]), 0.2, empty="nan")
    assert np.isfinite(measured[0]) and np.isnan(measured[1])
    with pytest.raises(ValueError, match="003_HC.png: the mask is empty"):
        head_circumference_mm(np.stack([head, np.zeros_like(head)]), 0.2, names=["002_HC.png", "003_HC.png"])
    with pytest.raises(ValueError, match="mask 0: pixel size must be a finite number of mm above 0, got 0.0"):
        head_circumference_mm(head, 0.0)
    with pytest.raises(ValueError, match="mask 1: pixel size.*nan"):
        head_circumference_mm(np.stack([head, head]), [0.1, np.nan])
    with pytest.raises(ValueError, match="one pixel size per mask"):
        head_circumference_mm(np.stack([head, head]), [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="expected a .* mask"):
        fit_ellipse(np.zeros((2, 3, 4, 5)))


def test_agreement_report_by_hand():
    reference = np.array([100.0, 150.0, 200.0, 250.0])
    measured = reference + np.array([2.0, -1.0, 3.0, 0.0])
    r = agreement_report(measured, reference, n_boot=200, seed=0)
    assert r["mean_abs_diff"] == pytest.approx(1.5) and r["bias"] == pytest.approx(1.0)
    sd = np.std([2, -1, 3, 0], ddof=1)
    assert r["sd"] == pytest.approx(sd) and r["loa"] == pytest.approx((1 - 1.96 * sd, 1 + 1.96 * sd))
    assert r["ci"]["mean_abs_diff"][0] <= 1.5 <= r["ci"]["mean_abs_diff"][1]
    with pytest.raises(ValueError, match="4 values but reference has 3"):
        agreement_report(measured, reference[:3])
    with pytest.raises(ValueError, match=r"measured\[2\] is nan"):
        agreement_report([1.0, 2.0, np.nan], [1.0, 2.0, 3.0])
