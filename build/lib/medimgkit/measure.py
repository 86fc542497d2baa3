"""From a mask to a measurement: fill an outline, fit an ellipse, its perimeter, pixels to millimetres.

The chain behind a head circumference (HC18, chapter *Segment, then measure*)::

    outline --fill_outline--> mask --fit_ellipse--> (a, b) --ellipse_perimeter--> pixels --x pixel size--> mm

:func:`head_circumference_mm` runs the last three steps for a batch. Every
function takes plain NumPy arrays (no TensorFlow) and refuses bad input with a
message that names the mask (its index, or the file it came from).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import ndimage

MIN_PIXELS = 5  #: the fewest pixels an ellipse is fitted to

__all__ = [
    "Ellipse",
    "ellipse_mask",
    "ellipse_perimeter",
    "fill_outline",
    "fit_ellipse",
    "head_circumference_mm",
    "largest_component",
]


class Ellipse(NamedTuple):
    """An ellipse in pixel coordinates: ``x`` is the column, ``y`` the row (both 0-based).

    ``a >= b`` are the semi-axes in pixels; ``angle`` (radians) turns the
    ``a`` axis from the +x (column) axis towards +y (down the rows).
    """

    x: float
    y: float
    a: float
    b: float
    angle: float


def _as_mask(mask, name: str, ndim: int = 2) -> np.ndarray:
    m = np.asarray(mask)
    if m.ndim == ndim + 1 and m.shape[-1] == 1:
        m = m[..., 0]
    if m.ndim != ndim:
        what = "(H, W)" if ndim == 2 else "(N, H, W)"
        raise ValueError(f"{name}: expected a {what} mask (optionally with a channel axis of 1), found shape {m.shape}")
    if m.dtype == bool:
        return m
    if not np.issubdtype(m.dtype, np.number):
        raise ValueError(f"{name}: expected a numeric or boolean mask, found dtype {m.dtype}")
    if not np.all(np.isfinite(m)):
        raise ValueError(f"{name}: the mask holds NaN or infinite values")
    return m > (0.5 if np.issubdtype(m.dtype, np.floating) and m.max(initial=0) <= 1 else 0)


def fill_outline(outline, name: str = "outline", close_at_border: bool = True) -> np.ndarray:
    """The region an outline encloses, outline included: a boolean ``(H, W)`` mask.

    ``outline`` is a drawing of a closed curve, e.g. an HC18 annotation (white
    ellipse on black): any pixel above 0 (above 0.5 for floats in [0, 1]) is
    on the curve. Holes are filled with ``scipy.ndimage.binary_fill_holes``.

    A curve that runs off the image (a head cut by the top or bottom edge:
    5 of HC18's 999 annotations) is closed along the edge, between the two
    places where it leaves the image, when ``close_at_border`` is true.

    Raises
    ------
    ValueError
        The outline is empty, or it does not close (nothing is enclosed), with
        ``name`` (e.g. the file name) in the message.
    """
    line = _as_mask(outline, name)
    if not line.any():
        raise ValueError(f"{name}: the outline is empty (no pixel is drawn); expected a closed curve")
    padded = np.pad(line, 1)
    if close_at_border:  # draw the image edge between the curve's outermost crossings, one pixel outside
        for edge, border in ((line[0], padded[0]), (line[-1], padded[-1]), (line[:, 0], padded[:, 0]), (line[:, -1], padded[:, -1])):
            hits = np.flatnonzero(edge)
            if len(hits):
                border[hits.min() : hits.max() + 3] = True
    rows, cols = np.nonzero(padded)
    r0, r1, c0, c1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    filled = np.zeros_like(padded)
    filled[r0:r1, c0:c1] = ndimage.binary_fill_holes(padded[r0:r1, c0:c1])  # the bounding box is enough, and faster
    filled = filled[1:-1, 1:-1]
    if filled.sum() == line.sum():
        raise ValueError(
            f"{name}: the outline does not close (it encloses no pixel), so there is no region to fill; "
            "check the annotation for a gap in the curve"
        )
    return filled


def largest_component(mask, name: str = "mask") -> np.ndarray:
    """The largest 8-connected region of a mask, its holes filled (boolean ``(H, W)``).

    A segmentation network may add specks away from the head or leave holes in
    it; one object is expected, so the rest is dropped. An empty mask stays empty.
    """
    m = _as_mask(mask, name)
    labels, n = ndimage.label(m, structure=np.ones((3, 3), bool))
    if n == 0:
        return m
    sizes = np.bincount(labels.ravel())[1:]
    return ndimage.binary_fill_holes(labels == 1 + int(np.argmax(sizes)))


def fit_ellipse(mask, name: str = "mask", min_pixels: int = MIN_PIXELS) -> Ellipse:
    """The ellipse with the same area centre and second moments as a filled mask.

    A filled ellipse with semi-axes ``a``, ``b`` has variances ``a**2 / 4`` and
    ``b**2 / 4`` along its axes, so the eigenvalues ``l1 >= l2`` of the pixel
    coordinates' covariance give ``a = 2 sqrt(l1)`` and ``b = 2 sqrt(l2)``.
    Each pixel is a unit square, not a point, which adds ``1/12`` to every
    variance; that is included. Use it on *filled* masks
    (:func:`fill_outline`, :func:`largest_component`), not on outlines.

    Raises
    ------
    ValueError
        The mask is empty (nothing to fit: no head found) or has fewer than
        ``min_pixels`` pixels, naming ``name``.
    """
    m = _as_mask(mask, name)
    count = int(m.sum())
    if count == 0:
        raise ValueError(f"{name}: the mask is empty, so no ellipse can be fitted (no head was found)")
    if count < min_pixels:
        raise ValueError(f"{name}: the mask has {count} pixel(s), fewer than the {min_pixels} needed to fit an ellipse")
    rows, cols = np.nonzero(m)
    x, y = cols.mean(), rows.mean()
    cov = np.cov(np.stack([cols, rows]).astype(np.float64), bias=True) + np.eye(2) / 12
    values, vectors = np.linalg.eigh(cov)  # ascending
    a, b = 2 * np.sqrt(values[1]), 2 * np.sqrt(values[0])
    angle = float(np.arctan2(vectors[1, 1], vectors[0, 1]))
    angle = (angle + np.pi / 2) % np.pi - np.pi / 2  # an axis, not a direction: keep it in [-pi/2, pi/2)
    return Ellipse(float(x), float(y), float(a), float(b), angle)


def ellipse_perimeter(a, b):
    """Perimeter of an ellipse with semi-axes ``a`` and ``b``: Ramanujan's second approximation.

    ``pi (a + b) (1 + 3h / (10 + sqrt(4 - 3h)))`` with ``h = ((a - b) / (a + b))**2``
    (Ramanujan, 1914). Exact for a circle; the relative error is below
    ``1e-9`` for ``b >= a / 2`` (a fetal head is rounder than that) and below
    ``1e-7`` for ``b >= a / 3``.
    Works element-wise on arrays.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if np.any(~np.isfinite(a)) or np.any(~np.isfinite(b)) or np.any(a < 0) or np.any(b < 0):
        raise ValueError(f"semi-axes must be finite and >= 0, got a={a!r}, b={b!r}")
    total = a + b
    h = np.divide((a - b) ** 2, total**2, out=np.zeros_like(total), where=total > 0)
    p = np.pi * total * (1 + 3 * h / (10 + np.sqrt(4 - 3 * h)))
    return float(p) if p.ndim == 0 else p


def head_circumference_mm(masks, pixel_mm, clean: bool = True, names=None, empty: str = "raise") -> np.ndarray:
    """Head circumference in millimetres of each filled mask: fitted ellipse's perimeter times pixel size.

    Parameters
    ----------
    masks : array (N, H, W) (or (N, H, W, 1)), or one mask (H, W)
        Filled head masks: bool, 0/1 integers, or probabilities in [0, 1]
        (thresholded at 0.5).
    pixel_mm : float or array (N,)
        Millimetres per pixel *at the masks' resolution* (square pixels).
    clean : bool
        Keep only the largest region of each mask and fill its holes first
        (:func:`largest_component`); use it on a network's predictions.
    names : sequence of str, optional
        How error messages name each mask (e.g. file names); default ``mask i``.
    empty : "raise" or "nan"
        What an empty mask (no head found), or one too small to fit an
        ellipse to (under 5 pixels), gives: a ``ValueError`` naming it, or
        NaN, so that a batch of predictions can be measured and its failures
        counted.

    Returns
    -------
    float64 array (N,) in mm (a float for one mask).

    Raises
    ------
    ValueError
        A pixel size that is not a finite number above 0, a count of pixel
        sizes that differs from the count of masks, or an empty mask (no head
        to measure), each naming the mask.
    """
    single = np.asarray(masks).ndim == 2
    batch = _as_mask(np.asarray(masks)[None] if single else masks, "masks", ndim=3)
    sizes = np.broadcast_to(np.asarray(pixel_mm, dtype=np.float64), (len(batch),)) if np.ndim(pixel_mm) == 0 \
        else np.asarray(pixel_mm, dtype=np.float64)
    if sizes.shape != (len(batch),):
        raise ValueError(f"pixel_mm: expected one pixel size per mask ({len(batch)}), found shape {sizes.shape}")
    if empty not in ("raise", "nan"):
        raise ValueError(f"empty must be 'raise' or 'nan', got {empty!r}")
    label = (lambda i: str(names[i])) if names is not None else (lambda i: f"mask {i}")
    out = np.empty(len(batch))
    for i, m in enumerate(batch):
        if not (np.isfinite(sizes[i]) and sizes[i] > 0):
            raise ValueError(f"{label(i)}: pixel size must be a finite number of mm above 0, got {float(sizes[i])!r}")
        m = largest_component(m, label(i)) if clean else m
        if empty == "nan" and m.sum() < MIN_PIXELS:
            out[i] = np.nan
            continue
        e = fit_ellipse(m, label(i))
        out[i] = ellipse_perimeter(e.a, e.b) * sizes[i]
    return float(out[0]) if single else out


def ellipse_mask(ellipse: Ellipse | tuple, shape: tuple[int, int]) -> np.ndarray:
    """A filled ellipse as a boolean ``(H, W)`` mask: a pixel is in when its centre is inside."""
    x0, y0, a, b, angle = ellipse
    if a <= 0 or b <= 0:
        raise ValueError(f"semi-axes must be above 0, got a={a}, b={b}")
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    dx, dy = cols - x0, rows - y0
    c, s = np.cos(angle), np.sin(angle)
    u, v = c * dx + s * dy, -s * dx + c * dy
    return (u / a) ** 2 + (v / b) ** 2 <= 1
