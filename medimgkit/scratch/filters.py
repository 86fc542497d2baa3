"""Hand-crafted filters (Sobel, Laplacian, Gabor) and filter-bank features.

The kernels use the layout of :func:`medimgkit.scratch.conv.conv2d` and Keras
``Conv2D``: ``(f, f, 1, K)`` for grey images. They are the "designed by hand"
counterpart of the kernels a CNN learns from data.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from medimgkit.data.pipeline import to_float
from medimgkit.scratch.conv import conv2d

SOBEL_X = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32)
"""Horizontal derivative: positive where intensity grows to the right (a vertical edge)."""
SOBEL_Y = SOBEL_X.T.copy()
"""Vertical derivative: positive where intensity grows downwards (a horizontal edge)."""
LAPLACIAN = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float32)
"""Discrete Laplacian: second derivative, zero on flat areas and linear ramps."""

CLASSIC_KERNELS: dict[str, np.ndarray] = {
    "identity": np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], dtype=np.float32),
    "edge (Sobel x)": SOBEL_X,
    "edge (Sobel y)": SOBEL_Y,
    "Laplacian": LAPLACIAN,
    "blur (box 3x3)": np.full((3, 3), 1 / 9, dtype=np.float32),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float32),
}
"""Small 2-D kernels by name, for demonstrations: ``(3, 3)`` float32 each."""


def as_kernels(*kernels: np.ndarray, size: int | None = None) -> np.ndarray:
    """Stack 2-D kernels into one ``(f, f, 1, K)`` array for :func:`~medimgkit.scratch.conv.conv2d`.

    Kernels smaller than ``size`` (default: the largest) are zero-padded around
    their centre, which does not change their response. All sizes must be odd.
    """
    if not kernels:
        raise ValueError("as_kernels needs at least one kernel")
    ks = [np.asarray(k, dtype=np.float32) for k in kernels]
    for k in ks:
        if k.ndim != 2 or k.shape[0] != k.shape[1] or k.shape[0] % 2 == 0:
            raise ValueError(f"each kernel must be square with an odd side, got shape {k.shape}")
    f = size or max(k.shape[0] for k in ks)
    if f < max(k.shape[0] for k in ks) or f % 2 == 0:
        raise ValueError(f"size must be odd and at least the largest kernel, got {size}")
    out = np.zeros((f, f, 1, len(ks)), dtype=np.float32)
    for i, k in enumerate(ks):
        m = (f - k.shape[0]) // 2
        out[m : m + k.shape[0], m : m + k.shape[0], 0, i] = k
    return out


def gabor_kernel(theta: float, frequency: float, sigma: float | None = None, size: int | None = None,
                 phase: float = 0.0, gamma: float = 1.0) -> np.ndarray:
    """A real Gabor kernel: a cosine wave under a Gaussian window, float32 ``(size, size)``.

    ``g(x, y) = exp(-(x'^2 + gamma^2 y'^2) / (2 sigma^2)) * cos(2 pi frequency x' + phase)``
    with ``x' = x cos(theta) + y sin(theta)``, ``y' = -x sin(theta) + y cos(theta)``
    (``x`` to the right, ``y`` down). It responds to stripes whose normal points
    along ``theta`` (radians). ``frequency`` is in cycles per pixel (0 < f <= 0.5);
    ``sigma`` defaults to ``0.56 / frequency`` (a bandwidth of about one octave)
    and ``size`` to ``2 * ceil(2.5 sigma) + 1``. The kernel has zero mean (no
    response to flat areas) and unit L2 norm.
    """
    if not 0 < frequency <= 0.5:
        raise ValueError(f"frequency must be in (0, 0.5] cycles per pixel, got {frequency}")
    sigma = 0.56 / frequency if sigma is None else float(sigma)
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    size = 2 * int(np.ceil(2.5 * sigma)) + 1 if size is None else int(size)
    if size < 1 or size % 2 == 0:
        raise ValueError(f"size must be a positive odd integer, got {size}")
    half = size // 2
    y, x = np.mgrid[-half : half + 1, -half : half + 1].astype(np.float64)
    xr = x * np.cos(theta) + y * np.sin(theta)
    yr = -x * np.sin(theta) + y * np.cos(theta)
    g = np.exp(-(xr**2 + gamma**2 * yr**2) / (2 * sigma**2)) * np.cos(2 * np.pi * frequency * xr + phase)
    g -= g.mean()
    norm = np.linalg.norm(g)
    return (g / norm if norm > 0 else g).astype(np.float32)


def filter_bank(orientations: int = 4, frequencies: tuple[float, ...] = (0.2, 0.35)) -> tuple[np.ndarray, list[str]]:
    """The hand-crafted bank: identity, Sobel x/y, Laplacian and Gabor filters.

    Gabor filters come in ``orientations`` angles (0 to 180 degrees) for each
    frequency, each as an even (cosine) and odd (sine) pair.

    Returns
    -------
    kernels : float32 ``(f, f, 1, K)``, ready for :func:`~medimgkit.scratch.conv.conv2d`
    names : list of ``K`` str
    """
    if orientations < 1:
        raise ValueError(f"orientations must be at least 1, got {orientations}")
    ks = [CLASSIC_KERNELS["identity"], SOBEL_X, SOBEL_Y, LAPLACIAN]
    names = ["identity", "Sobel x", "Sobel y", "Laplacian"]
    for freq in frequencies:
        for i in range(orientations):
            theta = np.pi * i / orientations
            for phase, kind in ((0.0, "even"), (-np.pi / 2, "odd")):
                ks.append(gabor_kernel(theta, freq, phase=phase))
                names.append(f"Gabor f={freq:g} {np.degrees(theta):.0f}° {kind}")
    return as_kernels(*ks), names


def _grey_float(images: np.ndarray) -> np.ndarray:
    x = np.asarray(images)
    x = to_float(x) if x.dtype == np.uint8 else x.astype(np.float32)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] != 1:
        raise ValueError(f"expected grey images (N, H, W) or (N, H, W, 1), got shape {np.asarray(images).shape}")
    return x


def sobel_magnitude(images: np.ndarray) -> np.ndarray:
    """Gradient magnitude ``sqrt(Gx^2 + Gy^2)`` of grey images, float32 ``(N, H, W)``.

    ``images``: uint8 ``(N, H, W)`` (scaled to [0, 1]) or float ``(N, H, W[, 1])``.
    """
    g = conv2d(_grey_float(images), as_kernels(SOBEL_X, SOBEL_Y), padding="same")
    return np.sqrt(g[..., 0] ** 2 + g[..., 1] ** 2)


def filter_bank_features(images: np.ndarray, kernels: np.ndarray | None = None, grid: int = 2) -> np.ndarray:
    """One feature vector per image from hand-crafted filter responses.

    Each image is filtered with every kernel (``"same"`` padding); each
    response map is cut into ``grid x grid`` cells and summarised per cell by
    its mean, standard deviation and mean absolute value (the energy).

    Parameters
    ----------
    images : uint8 ``(N, H, W)`` or float ``(N, H, W[, 1])`` grey images
    kernels : float ``(f, f, 1, K)``, optional
        Defaults to :func:`filter_bank`.
    grid : int
        Cells per side (1 = whole-image statistics).

    Returns
    -------
    float32 ``(N, K * grid * grid * 3)``
    """
    x = _grey_float(images)
    if kernels is None:
        kernels, _ = filter_bank()
    if grid < 1 or grid > min(x.shape[1:3]):
        raise ValueError(f"grid must be between 1 and the image side {min(x.shape[1:3])}, got {grid}")
    r = conv2d(x, kernels, padding="same")  # (N, H, W, K)
    rows = np.array_split(np.arange(r.shape[1]), grid)
    cols = np.array_split(np.arange(r.shape[2]), grid)
    feats = []
    for ri in rows:
        for ci in cols:
            cell = r[:, ri[0] : ri[-1] + 1, ci[0] : ci[-1] + 1, :]
            feats += [cell.mean(axis=(1, 2)), cell.std(axis=(1, 2)), np.abs(cell).mean(axis=(1, 2))]
    return np.concatenate(feats, axis=1).astype(np.float32)


def plot_kernels(kernels: np.ndarray, names: list[str] | None = None, channel: int = 0, cols: int = 8,
                 title: str = "", max_width: float | None = None):
    """Show each kernel of a ``(f, f, C, K)`` stack (input channel ``channel``) as a small image.

    Each kernel gets its own symmetric colour scale (red positive, blue negative).
    ``cols`` is an upper bound: kernels are 1.3 in wide and the figure at most
    ``max_width`` inches (default :data:`medimgkit.plots.COLUMN_WIDTH`), so a
    longer row is split into equal rows. Returns the figure.
    """
    from medimgkit.plots import COLUMN_WIDTH, TITLE_SIZE, grid_columns

    k = np.asarray(kernels)
    if k.ndim != 4 or not 0 <= channel < k.shape[2]:
        raise ValueError(f"kernels must be (f, f, C, K) with channel < C, got shape {k.shape}, channel {channel}")
    n = k.shape[3]
    cols = grid_columns(n, cols, 1.3, COLUMN_WIDTH if max_width is None else max_width)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.3 * cols, 1.45 * rows + 0.4), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            w = k[:, :, channel, i]
            lim = float(np.abs(w).max()) or 1.0
            ax.imshow(w, cmap="RdBu_r", vmin=-lim, vmax=lim)
            if names is not None:
                ax.set_title(names[i], fontsize=TITLE_SIZE - 1)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def plot_feature_maps(maps: np.ndarray, n: int = 8, title: str = "", axes=None, max_width: float | None = None):
    """The first ``n`` channels of one feature map ``(H, W, K)`` in a row, grey scale.

    Pass ``axes`` (``n`` axes, e.g. a row) to draw into an existing figure.
    Without them the maps wrap into more rows, the figure at most
    ``max_width`` inches wide (default :data:`medimgkit.plots.COLUMN_WIDTH`).
    Returns the figure.
    """
    from medimgkit.plots import COLUMN_WIDTH, grid_columns

    m = np.asarray(maps)
    if m.ndim != 3:
        raise ValueError(f"maps must be one image's feature maps (H, W, K), got shape {m.shape}")
    n = min(n, m.shape[2])
    if axes is None:
        cols = grid_columns(n, n, 1.3, COLUMN_WIDTH if max_width is None else max_width)
        rows = int(np.ceil(n / cols))
        _, axes = plt.subplots(rows, cols, figsize=(1.3 * cols, 1.3 * rows + 0.3), squeeze=False)
        axes = axes.ravel()
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i < n:
            ax.imshow(m[:, :, i], cmap="gray")
    if title:
        axes[0].set_title(title, fontsize=9, loc="left")
    return axes[0].figure
