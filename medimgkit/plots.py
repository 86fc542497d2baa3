"""Plots a reader would rather look at than read, and the Markdown tables the book prints.

Every plotting function returns the ``matplotlib`` figure (pass ``ax=`` or
``axes=`` to draw into an existing one). ``markdown_table`` writes every
table of the book (show it with ``IPython.display.Markdown``).

A figure is drawn at most :data:`COLUMN_WIDTH` inches wide: the book's web
column shows a wider one shrunk, and its text with it. The functions that
draw a grid of panels wrap the panels into more rows instead (their ``cols``
is an upper bound); pass ``max_width=`` to allow a wider figure elsewhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np

from medimgkit._text import markdown_table
from medimgkit.explain import overlay
from medimgkit.metrics import roc_auc, roc_curve

__all__ = [
    "COLUMN_WIDTH", "grid_columns", "markdown_table", "plot_bland_altman", "plot_confusion", "plot_gradcam", "plot_history",
    "plot_maps", "plot_roc", "plot_segmentation", "plot_volumes", "show_images",
]


COLUMN_WIDTH = 7.5
"""The width of the book's web column, in inches, for a figure drawn at 100 dpi (750 px).

At 1280 px the column shows a figure this wide at a scale of about 0.9, so
matplotlib's 10-pt text still reads at 8 pt or more; a wider figure is
shrunk, and its text with it. Every figure of the book is at most this wide.
"""

TITLE_SIZE = 9
"""Font size (pt) of the panel titles in the grids: at least 8 pt once the column has scaled the figure."""


def grid_columns(n: int, cols: int, panel_width: float, max_width: float = COLUMN_WIDTH) -> int:
    """How many columns a grid of ``n`` panels ``panel_width`` inches wide gets: at most ``cols``, within ``max_width``.

    A row of ``cols`` panels that does not fit is split into equal parts
    (8 -> 4 + 4, 6 -> 3 + 3), so the rows of a grid the caller laid out by
    class still start a new class on a new row. Never fewer than one column.
    """
    cols = max(1, min(int(cols), int(n))) if n else max(1, int(cols))
    fit = max(1, int(np.floor(max_width / panel_width + 1e-9)))
    if cols <= fit:
        return cols
    return int(np.ceil(cols / np.ceil(cols / fit)))


def plot_history(history, metrics: Sequence[str] = ("loss", "val_auc"), axes=None, max_width: float = COLUMN_WIDTH):
    """Training curves from a Keras ``History`` (or its ``.history`` dict), one panel per metric.

    Each panel shows the training metric and, when present, its ``val_`` twin.
    Without ``axes`` the figure is at most ``max_width`` inches wide: two
    panels side by side, more metrics on more rows. Returns the figure.
    """
    hist = getattr(history, "history", history)
    if axes is None:
        n = len(metrics)
        cols = grid_columns(n, n, 3.2, max_width)
        rows = int(np.ceil(n / cols))
        fig, axes = plt.subplots(rows, cols, figsize=(min(4.5 * cols, max_width), 3.2 * rows), squeeze=False)
        for ax in axes.flat[n:]:
            ax.remove()
        axes = axes.flat[:n]
    axes = np.atleast_1d(axes)
    for ax, name in zip(axes, metrics):
        base = name[4:] if name.startswith("val_") else name
        for key in (base, "val_" + base):
            if key in hist:
                ax.plot(np.arange(1, len(hist[key]) + 1), hist[key], marker=".", label=key)
        ax.set_xlabel("epoch")
        ax.set_title(base)
        ax.legend()
    fig = axes[0].figure
    fig.tight_layout()
    return fig


def plot_roc(curves: dict[str, tuple[np.ndarray, np.ndarray]], positive: int = 1, positive_name: str | None = None, ax=None):
    """ROC curves for several models: ``{"name": (y_true, y_score)}``; AUC in the legend."""
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 4.2))
    for name, (y_true, y_score) in curves.items():
        fpr, tpr, _ = roc_curve(y_true, y_score, positive=positive)
        ax.plot(fpr, tpr, label=f"{name} (AUC {roc_auc(y_true, y_score, positive):.3f})")
    ax.plot([0, 1], [0, 1], "k:", lw=1, label="chance")
    label = positive_name or f"class {positive}"
    ax.set_xlabel("1 - specificity (false-positive rate)")
    ax.set_ylabel(f"sensitivity for {label}")
    ax.set_aspect("equal")
    ax.legend(loc="lower right", fontsize="small")
    return ax.figure


def plot_confusion(confusion: np.ndarray, class_names: Sequence[str], ax=None, title: str = ""):
    """A confusion matrix with counts; rows are the truth, columns the prediction."""
    cm = np.asarray(confusion)
    if cm.shape != (len(class_names), len(class_names)):
        raise ValueError(f"confusion shape {cm.shape} does not match {len(class_names)} class names")
    if ax is None:
        _, ax = plt.subplots(figsize=(3.6, 3.2))
    ax.imshow(cm, cmap="Blues")
    for (i, j), v in np.ndenumerate(cm):
        ax.text(j, i, str(int(v)), ha="center", va="center", color="white" if v > cm.max() / 2 else "black")
    ax.set_xticks(range(len(class_names)), class_names)
    ax.set_yticks(range(len(class_names)), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    return ax.figure


def show_images(images: np.ndarray, labels: Sequence | None = None, class_names: Sequence[str] | None = None,
                n: int = 8, cols: int = 8, titles: Sequence[str] | None = None, max_width: float = COLUMN_WIDTH):
    """A grid of the first ``n`` images with their class names (or given titles) above.

    ``cols`` is an upper bound: panels are 1.5 in wide and the figure at
    most ``max_width`` inches (:data:`COLUMN_WIDTH`), so a longer row is
    split into equal rows (8 -> two rows of 4; see :func:`grid_columns`).
    Returns the figure.
    """
    images = np.asarray(images)[:n]
    cols = grid_columns(len(images), cols, 1.5, max_width)
    rows = int(np.ceil(len(images) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.5 * cols, 1.75 * rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= len(images):
            continue
        img = images[i]
        ax.imshow(img[..., 0] if img.ndim == 3 and img.shape[-1] == 1 else img, cmap="gray")
        if titles is not None:
            ax.set_title(titles[i], fontsize=TITLE_SIZE)
        elif labels is not None:
            lab = int(np.asarray(labels)[i])
            ax.set_title(class_names[lab] if class_names else str(lab), fontsize=TITLE_SIZE)
    fig.tight_layout()
    return fig


def plot_gradcam(images: np.ndarray, heatmaps: np.ndarray, titles: Sequence[str] | None = None,
                 cols: int = 6, alpha: float = 0.4, max_width: float = COLUMN_WIDTH):
    """Images (top) and Grad-CAM overlays (below), at most ``cols`` pairs per row.

    Panels are 1.8 in wide and the figure at most ``max_width`` inches
    (:data:`COLUMN_WIDTH`): a longer row is split into equal rows
    (6 -> two rows of 3; see :func:`grid_columns`). Returns the figure.
    """
    images = np.asarray(images)
    n = len(images)
    cols = grid_columns(n, cols, 1.8, max_width)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(2 * rows, cols, figsize=(1.8 * cols, 3.8 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i in range(n):
        r, c = divmod(i, cols)
        img = images[i]
        axes[2 * r, c].imshow(img[..., 0] if img.ndim == 3 and img.shape[-1] == 1 else img, cmap="gray")
        if titles is not None:
            axes[2 * r, c].set_title(titles[i], fontsize=TITLE_SIZE)
        axes[2 * r + 1, c].imshow(overlay(img, heatmaps[i], alpha=alpha))
    fig.tight_layout()
    return fig


def _grey(image: np.ndarray) -> np.ndarray:
    img = np.asarray(image)
    return img[..., 0] if img.ndim == 3 and img.shape[-1] == 1 else img


def _mask2d(mask, name: str, shape: tuple[int, ...]) -> np.ndarray:
    m = np.asarray(mask)
    if m.ndim == 3 and m.shape[-1] == 1:
        m = m[..., 0]
    if m.shape != shape:
        raise ValueError(f"{name} has shape {m.shape} but its image has shape {shape}; a mask must have its image's height and width")
    return m > 0.5 if m.dtype != bool else m


def plot_segmentation(images: np.ndarray, truth: np.ndarray | None = None, pred: np.ndarray | None = None,
                      titles: Sequence[str] | None = None, cols: int = 4, size: float = 3.0,
                      max_width: float = COLUMN_WIDTH):
    """Images with the outline of the true mask (green) and of the predicted mask (magenta) drawn on them.

    ``images`` (N, H, W[, 1]); ``truth`` and ``pred`` masks (N, H, W[, 1]),
    bool, 0/1 or probabilities (``> 0.5`` is in); either may be ``None``.
    Outlines, not filled areas, so the anatomy under the mask stays visible.
    Panels are ``size`` inches wide; ``cols`` is an upper bound, the figure
    at most ``max_width`` inches (:data:`COLUMN_WIDTH`) wide: a longer row is
    split into equal rows (see :func:`grid_columns`). Returns the figure.

    Raises
    ------
    ValueError
        A mask whose shape differs from its image's, or a count of masks that
        differs from the count of images (naming the index).
    """
    from scipy import ndimage

    images = np.asarray(images)
    n = len(images)
    for name, masks in (("truth", truth), ("pred", pred)):
        if masks is not None and len(masks) != n:
            raise ValueError(f"{name} has {len(masks)} masks but there are {n} images; expected one mask per image")
    cols = grid_columns(n, cols, size, max_width)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * 0.8 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i in range(n):
        ax = axes.flat[i]
        img = _grey(images[i])
        ax.imshow(img, cmap="gray")
        for name, masks, colour in (("truth", truth, "lime"), ("pred", pred, "magenta")):
            if masks is None:
                continue
            m = _mask2d(masks[i], f"{name}[{i}]", img.shape[:2])
            edge = m & ~ndimage.binary_erosion(m)
            ax.imshow(np.ma.masked_where(~edge, edge), cmap=plt.matplotlib.colors.ListedColormap([colour]),
                      interpolation="nearest", alpha=0.9)
        if titles is not None:
            ax.set_title(titles[i], fontsize=TITLE_SIZE)
    handles = [plt.Line2D([], [], color=c, lw=2, label=lab) for lab, m, c in
               (("truth", truth, "lime"), ("prediction", pred, "magenta")) if m is not None]
    if handles:
        fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False)
    fig.tight_layout(rect=(0, 0.04 if handles else 0, 1, 1))
    return fig


def plot_bland_altman(measured, reference, unit: str = "mm", ax=None, title: str = ""):
    """Bland-Altman plot: difference (measured - reference) against their mean, with bias and 95 % limits of agreement.

    Returns the figure; the numbers behind it are
    :func:`medimgkit.metrics.agreement_report`.
    """
    from medimgkit.metrics import agreement_report

    report = agreement_report(measured, reference, n_boot=0)
    m, r = np.asarray(measured, dtype=float).ravel(), np.asarray(reference, dtype=float).ravel()
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4))
    ax.scatter((m + r) / 2, report["diff"], s=10, alpha=0.6)
    ax.axhline(report["bias"], color="k", lw=1.2, label=f"bias {report['bias']:+.2f} {unit}")
    lo, hi = report["loa"]
    for v in (lo, hi):
        ax.axhline(v, color="k", ls="--", lw=1)
    ax.axhline(0, color="grey", lw=0.6)
    ax.plot([], [], "k--", label=f"95 % limits {lo:+.2f} to {hi:+.2f} {unit}")
    ax.set_xlabel(f"mean of measured and reference ({unit})")
    ax.set_ylabel(f"measured - reference ({unit})")
    ax.set_title(title)
    ax.legend(fontsize="small")
    return ax.figure


def plot_maps(images: np.ndarray, maps: dict[str, np.ndarray], titles: Sequence[str] | None = None, alpha: float = 0.4,
              cols: int | None = None, max_width: float = COLUMN_WIDTH):
    """Images (top row) and one row of overlays per kind of map, e.g. ``{"Grad-CAM": cams, "attention": rollout}``.

    Every map is ``(N, H, W)`` in [0, 1], the size of its image (see
    :func:`medimgkit.explain.overlay`). Panels are 1.8 in wide; at most
    ``cols`` images (default: all) side by side, and the figure at most
    ``max_width`` inches (:data:`COLUMN_WIDTH`): more images go to further
    blocks of rows below, each block an image row and its map rows (see
    :func:`grid_columns`). Returns the figure.
    """
    images = np.asarray(images)
    n = len(images)
    for name, m in maps.items():
        if len(m) != n:
            raise ValueError(f"maps[{name!r}] has {len(m)} maps but there are {n} images; expected one map per image")
    cols = grid_columns(n, n if cols is None else cols, 1.8, max_width)
    blocks, per = int(np.ceil(n / cols)), 1 + len(maps)
    fig, axes = plt.subplots(blocks * per, cols, figsize=(1.8 * cols + 0.3, 1.95 * blocks * per), squeeze=False)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    for i in range(n):
        b, c = divmod(i, cols)
        img = _grey(images[i])
        axes[b * per, c].imshow(img, cmap="gray")
        if titles is not None:
            axes[b * per, c].set_title(titles[i], fontsize=TITLE_SIZE)
        for r, (name, m) in enumerate(maps.items(), start=1):
            axes[b * per + r, c].imshow(overlay(img, np.asarray(m[i]), alpha=alpha))
            if c == 0:
                axes[b * per + r, 0].set_ylabel(name)
    for i in range(n, blocks * cols):  # the empty places of the last block
        b, c = divmod(i, cols)
        for r in range(per):
            axes[b * per + r, c].axis("off")
    fig.tight_layout()
    return fig


def plot_volumes(volumes: np.ndarray, titles: Sequence[str] | None = None, max_width: float = COLUMN_WIDTH):
    """Each volume as one row: its axial, coronal and sagittal middle slices and a maximum-intensity projection.

    ``volumes`` is ``(N, D, H, W)`` or ``(N, D, H, W, 1)`` (uint8 or float).
    The projection is the maximum along depth, a 3-D view in one image: for a
    binary shape volume, the object's silhouette seen from above. Panels are
    1.6 in wide, four per row (6.4 in, within ``max_width``); ``titles`` (one
    per volume) label the rows. Returns the figure.
    """
    from medimgkit.data.volumes import PLANES, middle_slices

    v = np.asarray(volumes)
    v = v[..., 0] if v.ndim == 5 and v.shape[-1] == 1 else v
    if v.ndim != 4:
        raise ValueError(f"volumes: expected (N, D, H, W) or (N, D, H, W, 1), found shape {v.shape}; "
                         "for one volume pass v[None]")
    if titles is not None and len(titles) != len(v):
        raise ValueError(f"titles: expected one per volume ({len(v)}), found {len(titles)}")
    panel = min(1.6, max_width / 4)
    fig, axes = plt.subplots(len(v), 4, figsize=(4 * panel, 1.75 * len(v) + 0.1), squeeze=False)
    views = [middle_slices(v, p) for p in PLANES] + [v.max(axis=1)]
    names = [*PLANES, "max. projection (depth)"]
    lo, hi = float(v.min()), float(v.max())
    for i in range(len(v)):
        for j, (view, name) in enumerate(zip(views, names)):
            ax = axes[i, j]
            ax.imshow(view[i], cmap="gray", vmin=lo, vmax=hi if hi > lo else lo + 1)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(name, fontsize=TITLE_SIZE)
        if titles is not None:
            axes[i, 0].set_ylabel(titles[i], fontsize=TITLE_SIZE)
    fig.tight_layout()
    return fig
