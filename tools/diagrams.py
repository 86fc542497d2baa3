"""Draw the book's explanatory diagrams as SVG, deterministically.

Every diagram in ``book/images/diagrams/`` is drawn by one function below,
from the facts of the chapter it illustrates (layer shapes from
``medimgkit.models``, split sizes from the MedMNIST files, formulas from the
chapter's text). Each function's docstring is that diagram's *source note*: what
it shows and where its facts come from; the note is also written into the SVG's
metadata (``dc:description``).

    python tools/diagrams.py                  # redraw every diagram into book/images/diagrams/
    python tools/diagrams.py --out DIR        # somewhere else (the test does this)
    python tools/diagrams.py --png DIR        # PNG previews, to look at them

The output is byte-for-byte reproducible with the same matplotlib version:
matplotlib's bundled DejaVu Sans, text drawn as paths (``svg.fonttype: path``,
so a page shows the same glyphs whatever fonts the reader has), a fixed
``svg.hashsalt`` and no date in the metadata. ``tests/test_diagrams.py``
redraws everything and compares it with the checked-in files.

Legibility rules, enforced when saving: at most 7 inches wide (about the page
column at 100 %) and no text under 9 pt.
"""

from __future__ import annotations

import argparse
import inspect
import math
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle  # noqa: E402
from matplotlib.text import Text  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "book" / "images" / "diagrams"

MAX_WIDTH_IN = 7.0
MIN_FONT_PT = 9.0
FS = 10.0       # body text
SMALL = 9.0     # the smallest text allowed
TITLE = 11.0

RC = {
    "font.family": "DejaVu Sans",
    "font.size": FS,
    "mathtext.fontset": "dejavusans",
    "svg.fonttype": "path",
    "svg.hashsalt": "everything-is-a-mapping",
    "axes.unicode_minus": True,
    "axes.linewidth": 0.8,
    "xtick.labelsize": SMALL,
    "ytick.labelsize": SMALL,
    "hatch.linewidth": 0.8,
}

# Okabe-Ito colours (readable with colour-blindness), dark versions for text and light fills.
INK = "#1a1a1a"
GREY, GREY_L, GREY_D = "#7a7a7a", "#ececec", "#4d4d4d"
BLUE, BLUE_L, BLUE_D = "#0072B2", "#d5e7f4", "#005a8f"
ORANGE, ORANGE_L, ORANGE_D = "#E69F00", "#fcebc5", "#9c5b00"
GREEN, GREEN_L, GREEN_D = "#009E73", "#cceee2", "#00694c"
VERM, VERM_L, VERM_D = "#D55E00", "#f8dcc8", "#a34700"
PURPLE, PURPLE_L, PURPLE_D = "#CC79A7", "#f4dfeb", "#8f4a73"
SKY = "#56B4E9"


# --------------------------------------------------------------------------- drawing helpers


def canvas(width: float, height: float):
    """A figure whose data coordinates are inches, origin bottom left."""
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def text(ax, x, y, s, size=FS, color=INK, ha="center", va="center", weight="normal", style="normal", **kw):
    return ax.text(x, y, s, fontsize=size, color=color, ha=ha, va=va, fontweight=weight, fontstyle=style, **kw)


def lines_in(ax, x, y, lines, ha="center", top=None, gap=1.3):
    """Stack lines centred on (x, y) (or hanging from ``top``).

    ``lines``: str or list of str / (str, dict of text() options).
    """
    items = [(ln, {}) if isinstance(ln, str) else ln for ln in ([lines] if isinstance(lines, str) else lines)]
    heights = [opts.get("size", FS) * gap / 72 for _, opts in items]
    total = sum(heights)
    yy = (top if top is not None else y + total / 2)
    for (s, opts), h in zip(items, heights):
        text(ax, x, yy - h / 2, s, ha=ha, **opts)
        yy -= h


def box(ax, x, y, w, h, lines=None, fc=GREY_L, ec=GREY_D, lw=1.0, ls="-", radius=0.06, ha="center", pad=0.1,
        hatch=None, z=2):
    """A rounded box with lower-left corner (x, y), optionally with centred lines of text."""
    patch = FancyBboxPatch((x, y), w, h, boxstyle=f"round,pad=0,rounding_size={radius}", fc=fc, ec=ec, lw=lw,
                           ls=ls, hatch=hatch, zorder=z)
    ax.add_patch(patch)
    if lines:
        tx = x + w / 2 if ha == "center" else x + pad
        lines_in(ax, tx, y + h / 2, lines, ha=ha)
    return patch


def arrow(ax, start, end, color=INK, lw=1.2, ls="-", style="-|>", scale=11, z=3, rad=0.0):
    patch = FancyArrowPatch(start, end, arrowstyle=style, color=color, lw=lw, linestyle=ls, mutation_scale=scale,
                            shrinkA=0, shrinkB=0, zorder=z, connectionstyle=f"arc3,rad={rad}")
    ax.add_patch(patch)
    return patch


def legend_chip(ax, x, y, fc, ec, label, hatch=None, w=0.32, h=0.2, size=SMALL):
    ax.add_patch(Rectangle((x, y - h / 2), w, h, fc=fc, ec=ec, lw=0.9, hatch=hatch, zorder=2))
    text(ax, x + w + 0.08, y, label, size=size, ha="left")


def beta_pdf(x, a, b):
    logc = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    with np.errstate(divide="ignore"):
        return np.exp(logc + (a - 1) * np.log(x) + (b - 1) * np.log1p(-x))


# --------------------------------------------------------------------------- chapter 01


def composition_of_maps():
    """Chapter 01: a network as a composition of maps.

    Shows the chapter's example network (a 28 x 28 BreastMNIST image flattened to
    784 numbers, two tanh hidden layers of width 16, a 2-number read-out: the
    ``mlp(input_dim=784, width=16, depth=2, output_dim=2)`` of the chapter's
    first code cell) as vectors h^(l) joined by the maps g o L_l, and
    under each arrow what that map is made of: the affine map W_l h + b_l
    (learned) and the activation g (fixed). Drawn for this book from the
    chapter's own formulas.
    """
    fig, ax = canvas(6.8, 3.55)
    nodes = [(0.1, ["$x = h^{(0)}$", ("784 numbers", {"size": SMALL})]),
             (2.0, ["$h^{(1)}$", ("16 numbers", {"size": SMALL})]),
             (3.9, ["$h^{(2)}$", ("16 numbers", {"size": SMALL})]),
             (5.7, [r"$f_\theta(x)$", ("2 numbers", {"size": SMALL})])]
    y0, nh, nw = 2.3, 0.72, 1.0
    for i, (x, lab) in enumerate(nodes):
        fc, ec = (GREEN_L, GREEN_D) if i == len(nodes) - 1 else (BLUE_L, BLUE_D)
        box(ax, x, y0, nw, nh, lab, fc=fc, ec=ec)
    text(ax, 0.1, 3.3, "a 28 × 28 image, flattened", size=SMALL, color=GREY_D, ha="left")
    maps = [r"$g \circ L_1$", r"$g \circ L_2$", r"$L_3$"]
    details = [
        ["$L_1(h) = W_1 h + b_1$", "784 → 16 numbers", ("learned: $W_1$, $b_1$", {"color": ORANGE_D}),
         ("fixed: g = tanh, per entry", {"color": GREY_D, "size": SMALL})],
        ["$L_2(h) = W_2 h + b_2$", "16 → 16 numbers", ("learned: $W_2$, $b_2$", {"color": ORANGE_D}),
         ("fixed: g = tanh, per entry", {"color": GREY_D, "size": SMALL})],
        ["$L_3(h) = W_3 h + b_3$", "16 → 2 numbers", ("learned: $W_3$, $b_3$", {"color": ORANGE_D}),
         ("no g: the read-out", {"color": GREY_D, "size": SMALL})],
    ]
    for i in range(3):
        xa, xb = nodes[i][0] + nw, nodes[i + 1][0]
        arrow(ax, (xa + 0.04, y0 + nh / 2), (xb - 0.04, y0 + nh / 2), lw=1.6)
        mid = (xa + xb) / 2
        text(ax, mid, y0 + nh / 2 + 0.22, maps[i], size=TITLE)
        bw = 1.82
        box(ax, mid - bw / 2, 0.78, bw, 1.12, details[i], fc="white", ec=GREY, lw=0.9)
        ax.plot([mid, mid], [y0 + nh / 2 - 0.06, 1.9], color=GREY, lw=0.8, ls=":", zorder=1)
    text(ax, 3.4, 0.42, r"$f_\theta = L_3 \circ g \circ L_2 \circ g \circ L_1$", size=TITLE)
    text(ax, 3.4, 0.14, "read right to left: $L_1$ acts first.  θ = all the W and b, nothing else.",
         size=SMALL, color=GREY_D)
    return fig


# --------------------------------------------------------------------------- chapter 02


def sliding_window():
    """Chapter 02: the sliding window with stride and padding.

    A 5 x 5 single-channel image padded with p = 1 ring of zeros, a 3 x 3
    kernel moved s = 2 pixels at a time, and the 3 x 3 output that the
    chapter's formula W' = floor((W - f + 2p)/s) + 1 predicts. Output (i, j)
    reads the window whose top-left corner is (s*i, s*j) of X_pad, as in the
    chapter's Z[i, j, k] formula. Drawn for this book from the chapter's text.
    """
    fig, ax = canvas(6.6, 4.4)
    cs, n = 0.42, 7
    x0, ytop = 0.55, 3.75
    text(ax, x0 + n * cs / 2, 4.2, "padded input $X_{pad}$: a 5 × 5 image, p = 1", size=FS)
    for r in range(n):
        for c in range(n):
            pad = r in (0, n - 1) or c in (0, n - 1)
            ax.add_patch(Rectangle((x0 + c * cs, ytop - (r + 1) * cs), cs, cs, fc="white" if pad else "#dcdcdc",
                                   ec=GREY, lw=0.6, zorder=1))
            if pad:
                text(ax, x0 + (c + 0.5) * cs, ytop - (r + 0.5) * cs, "0", size=SMALL, color=GREY)
    for k in range(n):
        text(ax, x0 + (k + 0.5) * cs, ytop + 0.14, str(k), size=SMALL, color=GREY_D)
        text(ax, x0 - 0.16, ytop - (k + 0.5) * cs, str(k), size=SMALL, color=GREY_D)
    # two windows: output (0, 0) and (0, 1); top-left corners (0, 0) and (0, 2)
    ax.add_patch(Rectangle((x0 + 0.03, ytop - 3 * cs + 0.03), 3 * cs - 0.06, 3 * cs - 0.06, fill=False, ec=BLUE,
                           lw=2.6, zorder=4))
    ax.add_patch(Rectangle((x0 + 2 * cs + 0.07, ytop - 3 * cs + 0.07), 3 * cs - 0.14, 3 * cs - 0.14, fill=False,
                           ec=ORANGE, lw=2.6, ls=(0, (4, 2)), zorder=5))
    arrow(ax, (x0 + 1.5 * cs, ytop - 3 * cs - 0.16), (x0 + 3.5 * cs, ytop - 3 * cs - 0.16), color=ORANGE_D, lw=1.3)
    text(ax, x0 + 2.5 * cs, ytop - 3 * cs - 0.36, "s = 2", size=SMALL, color=ORANGE_D)
    # output grid
    ox, oc = 4.55, 0.42
    text(ax, ox + 1.5 * oc, 4.2, "output Z: 3 × 3", size=FS)
    fills = {(0, 0): BLUE_L, (0, 1): ORANGE_L}
    for r in range(3):
        for c in range(3):
            ax.add_patch(Rectangle((ox + c * oc, ytop - (r + 1) * oc), oc, oc, fc=fills.get((r, c), "white"), ec=GREY,
                                   lw=0.6, zorder=1))
    ax.add_patch(Rectangle((ox, ytop - oc), oc, oc, fill=False, ec=BLUE, lw=2.2, zorder=4))
    ax.add_patch(Rectangle((ox + oc, ytop - oc), oc, oc, fill=False, ec=ORANGE, lw=2.2, ls=(0, (4, 2)), zorder=4))
    for k in range(3):
        text(ax, ox + (k + 0.5) * oc, ytop + 0.14, str(k), size=SMALL, color=GREY_D)
        text(ax, ox - 0.16, ytop - (k + 0.5) * oc, str(k), size=SMALL, color=GREY_D)
    text(ax, ox + 1.5 * oc, ytop - 3 * oc - 0.25, "blue: Z[0, 0]   orange: Z[0, 1]", size=SMALL, color=GREY_D)
    lines_in(ax, 5.2, 1.7, [("one window: f × f = 3 × 3", {"size": SMALL}),
                             ("(× C input channels, summed)", {"size": SMALL}),
                             ("moves s = 2 pixels per step", {"size": SMALL})])
    lines_in(ax, 3.3, 0.42, [
        (r"$W' = \lfloor (W - f + 2p)\,/\,s \rfloor + 1 = \lfloor (5 - 3 + 2)\,/\,2 \rfloor + 1 = 3$", {"size": FS}),
        ("output (i, j) reads rows s·i … s·i + 2 and columns s·j … s·j + 2 of $X_{pad}$", {"size": SMALL}),
    ])
    return fig


def receptive_field():
    """Chapter 02: how the receptive field grows through a stack of layers.

    A one-dimensional cut through the first five layers of the book's
    ``improved_cnn``: two 3x3 convolutions, a 2x2 max pooling with stride 2,
    two more 3x3 convolutions. One unit of the top layer is traced back to the
    input: it sees 3, 5, 6, 10 and then 14 pixels, the first values of the
    chapter's table [3, 5, 6, 10, 14, 16, 24, 32, 36] (r_l = r_(l-1) +
    (f_l - 1) x jump); after the pooling, neighbouring units are 2 pixels apart
    (the jump). Drawn for this book from the chapter's formula and
    ``medimgkit.scratch.conv.receptive_field``.
    """
    fig, ax = canvas(6.8, 4.7)
    n_px, dx, gx = 18, 0.28, 1.72
    rows = [("input pixels", None), ("conv 3×3", 3), ("conv 3×3", 5), ("max pool 2×2, stride 2", 6),
            ("conv 3×3", 10), ("conv 3×3", 14)]
    ys = [0.55 + 0.72 * k for k in range(len(rows))]

    def X(p):
        return gx + (p + 0.5) * dx

    positions = [list(range(n_px)), list(range(n_px)), list(range(n_px))] + [[2 * m + 0.5 for m in range(9)]] * 3
    cone = [None] * 6
    cone[5] = {8.5}
    cone[4] = {q + d for q in cone[5] for d in (-2, 0, 2)}
    cone[3] = {q + d for q in cone[4] for d in (-2, 0, 2)}
    cone[2] = {q + d for q in cone[3] for d in (-0.5, 0.5)}
    cone[1] = {q + d for q in cone[2] for d in (-1, 0, 1)}
    cone[0] = {q + d for q in cone[1] for d in (-1, 0, 1)}
    assert [len(c) for c in cone] == [14, 12, 10, 5, 3, 1]
    parents = {5: (-2, 0, 2), 4: (-2, 0, 2), 3: (-0.5, 0.5), 2: (-1, 0, 1), 1: (-1, 0, 1)}
    for layer, offs in parents.items():
        for q in cone[layer]:
            for d in offs:
                ax.plot([X(q), X(q + d)], [ys[layer] - 0.08, ys[layer - 1] + 0.1], color=SKY, lw=0.9, zorder=1)
    for k, (name, rf) in enumerate(rows):
        y = ys[k]
        if k == 0:
            for p in range(n_px):
                hit = p in cone[0]
                ax.add_patch(Rectangle((X(p) - dx / 2, y - dx / 2), dx, dx, fc=BLUE if hit else "white",
                                       ec=BLUE_D if hit else GREY, lw=0.7, zorder=2))
        else:
            for p in positions[k]:
                hit = p in cone[k]
                ax.add_patch(Circle((X(p), y), 0.075, fc=BLUE if hit else "white", ec=BLUE_D if hit else GREY,
                                    lw=0.8, zorder=2))
        text(ax, 0.08, y + (0.09 if rf else 0), name, size=SMALL if len(name) > 12 else FS, ha="left")
        if rf:
            text(ax, 0.08, y - 0.13, f"sees {rf} pixels", size=SMALL, ha="left", color=BLUE_D)
    lo, hi = min(cone[0]), max(cone[0])
    ax.plot([X(lo) - dx / 2, X(lo) - dx / 2, X(hi) + dx / 2, X(hi) + dx / 2],
            [ys[0] - 0.22, ys[0] - 0.3, ys[0] - 0.3, ys[0] - 0.22], color=BLUE_D, lw=1.0)
    text(ax, (X(lo) + X(hi)) / 2, ys[0] - 0.43, "14 pixels feed one unit of the fifth layer", size=SMALL,
         color=BLUE_D)
    lines_in(ax, X(17) + 0.12, (ys[3] + ys[4]) / 2, [("after pooling:", {"size": SMALL, "color": GREY_D}),
                                                    ("units 2 px apart", {"size": SMALL, "color": GREY_D})],
             ha="right")
    return fig


# --------------------------------------------------------------------------- chapter 03


def _column(ax, x, w, top, items, gap=0.24, arrow_color=INK):
    """Boxes stacked downwards from ``top``: items are (lines, height, fc, ec); returns box centres."""
    y = top
    centres = []
    for i, (lines, h, fc, ec) in enumerate(items):
        y -= h
        box(ax, x, y, w, h, lines, fc=fc, ec=ec)
        centres.append((x + w / 2, y + h / 2, h))
        if i < len(items) - 1:
            arrow(ax, (x + w / 2, y - 0.02), (x + w / 2, y - gap + 0.02), color=arrow_color)
        y -= gap
    return centres


def handcrafted_vs_learned():
    """Chapter 03: designed features against learned features.

    Left, the chapter's hand-crafted pipeline: 20 fixed kernels
    (``medimgkit.scratch.filters.filter_bank``: identity, Sobel x and y,
    Laplacian, 16 Gabor filters), each response cut into a 3 x 3 grid of cells
    with three statistics (540 numbers), then an L2-penalised logistic
    regression tuned on validation. Right, ``improved_cnn``: every kernel is
    learned. Fixed parts grey, learned parts orange. Drawn for this book from
    the chapter's text and code.
    """
    fig, ax = canvas(6.8, 5.3)
    w = 3.2
    fixed, learned, io = (GREY_L, GREY_D), (ORANGE_L, ORANGE_D), (BLUE_L, BLUE_D)
    text(ax, 0.1 + w / 2, 5.08, "designed features", size=TITLE, weight="bold")
    text(ax, 3.5 + w / 2, 5.08, "learned features (CNN)", size=TITLE, weight="bold")
    left = [
        (["ultrasound image, 28 × 28"], 0.42, *io),
        (["20 fixed kernels: identity, Sobel x and y,", "Laplacian, 16 Gabor filters"], 0.62, *fixed),
        (["each of the 20 responses: 3 × 3 cells ×", "(mean, std, mean |·|) → 540 numbers"], 0.62, *fixed),
        (["logistic regression σ(wᵀx + b)", "541 weights; L2 chosen on validation"], 0.62, *learned),
        (["p(malignant)"], 0.42, *io),
    ]
    right = [
        (["ultrasound image, 28 × 28"], 0.42, *io),
        (["block 1: (conv 3×3 – BN – ReLU) × 2,", "max pool → 14 × 14"], 0.62, *learned),
        (["blocks 2 and 3: the same, more", "channels → 7 × 7, then 3 × 3"], 0.62, *learned),
        (["global average pooling, dropout,", "Dense + softmax"], 0.62, *learned),
        (["p(malignant)"], 0.42, *io),
    ]
    _column(ax, 0.1, w, 4.85, left, gap=0.3)
    _column(ax, 3.5, w, 4.85, right, gap=0.3)
    legend_chip(ax, 0.35, 0.3, GREY_L, GREY_D, "designed by hand, fixed")
    legend_chip(ax, 3.0, 0.3, ORANGE_L, ORANGE_D, "learned from labelled images")
    return fig


# --------------------------------------------------------------------------- chapter 04


def pipeline_and_splits():
    """Chapter 04: the training pipeline and the roles of the three splits.

    Rows are the chapter's eight steps (clean, normalise, augment, build,
    train, validate and tune, test once, deploy); columns are BreastMNIST's
    official splits (546 training images, 545 after the chapter drops the one
    training image that is also in the test split with the opposite label; 78
    validation; 156 test). A cell says what a step does with that split; an
    empty cell means the step does not look at it. Drawn for this book from
    the chapter's text.
    """
    fig, ax = canvas(6.8, 5.75)
    sx, sw = 0.08, 1.62
    cols = [(1.8, "training", "546 → 545 images", BLUE_L, BLUE_D),
            (3.46, "validation", "78 images", ORANGE_L, ORANGE_D),
            (5.12, "test", "156 images", GREEN_L, GREEN_D)]
    cw = 1.6
    for x, name, n, fc, ec in cols:
        box(ax, x, 5.02, cw, 0.56, [(name, {"weight": "bold"}), (n, {"size": SMALL})], fc=fc, ec=ec)
    rows = [
        ("1  clean", ["check; drop the copy", "that is also in test"], ["check"], ["check; keep it", "as published"]),
        ("2  normalise", ["uint8 → float in [0, 1]"], ["the same"], ["the same"]),
        ("3  augment", ["random flips, rotations,", "shifts, contrast"], None, None),
        ("4  build", "span:the model (improved_cnn); no data involved"),
        ("5  train", ["fit the weights", "(loss, Adam, epochs)"], None, None),
        ("6  validate, tune", None, ["choose epoch, learning", "rate, threshold …"], None),
        ("7  test, once", None, None, ["one final estimate,", "with 95 % CIs"]),
        ("8  deploy", "span:new patients: the frozen model, its preprocessing and threshold"),
    ]
    rh, gap, top = 0.46, 0.1, 4.88
    for k, row in enumerate(rows):
        y = top - (k + 1) * rh - k * gap
        box(ax, sx, y, sw, rh, [(row[0], {"weight": "bold"})], fc="white", ec=GREY_D, ha="left", pad=0.1)
        if k < len(rows) - 1:
            arrow(ax, (sx + 0.3, y - 0.01), (sx + 0.3, y - gap + 0.01), lw=1.0, scale=8)
        if isinstance(row[1], str):
            box(ax, cols[0][0], y, 3 * cw + 2 * 0.06, rh, [(row[1][5:], {"size": SMALL})], fc="white", ec=GREY,
                ls=(0, (3, 2)))
            continue
        for (x, _, _, fc, ec), cell in zip(cols, row[1:]):
            if cell is None:
                ax.add_patch(Rectangle((x, y), cw, rh, fc="none", ec="#d0d0d0", lw=0.6, ls=(0, (2, 2)), zorder=1))
            else:
                box(ax, x, y, cw, rh, [(c, {"size": SMALL}) for c in cell], fc=fc, ec=ec, lw=0.9)
    text(ax, 3.4, 0.2, "Choices look at validation only; the test split is opened once, after every choice is frozen.",
         size=SMALL, color=GREY_D)
    return fig


# --------------------------------------------------------------------------- chapter 04b


def training_step():
    """Chapter 04b: one step of training, forward and backward.

    A batch of B images goes forward through the network f_theta to the
    malignancy probability p = sigma(z) and the binary cross-entropy loss;
    backward, the error signal dL/dz = (p - y)/N (the chapter's hand
    gradient) is passed through the layers by the chain rule to the gradient
    of every weight; the update theta <- theta - eta grad L (gradient descent,
    learning rate eta) gives the weights of the next step. One update per
    batch: ceil(N/B) per epoch, 69 for the chapter's 545 training images at
    B = 8 and 5 at B = 128. Drawn for this book from the chapter's formulas.
    """
    fig, ax = canvas(6.8, 3.9)
    top, bottom, h = 2.62, 1.12, 0.66
    forward = [(0.1, 1.25, ["a batch", ("B images, labels y", {"size": SMALL})], BLUE_L, BLUE_D),
               (1.75, 1.35, [r"network $f_\theta$", ("weights θ", {"size": SMALL})], BLUE_L, BLUE_D),
               (3.5, 1.35, [r"$p = \sigma(z)$", ("z: the logit", {"size": SMALL}),
                            ("p: P(malignant | x)", {"size": SMALL})], BLUE_L, BLUE_D),
               (5.25, 1.45, [r"loss $\mathcal{L}$", ("binary cross-entropy", {"size": SMALL}),
                             ("of p and y", {"size": SMALL})], VERM_L, VERM_D)]
    for x, w, lab, fc, ec in forward:
        box(ax, x, top, w, h, lab, fc=fc, ec=ec)
    for (x0, w0, *_), (x1, *_) in zip(forward, forward[1:]):
        arrow(ax, (x0 + w0 + 0.04, top + h / 2), (x1 - 0.04, top + h / 2), color=BLUE_D, lw=1.4)
    text(ax, 0.1, 3.65, "forward: from images to one number, the loss", size=FS, color=BLUE_D, ha="left",
         weight="bold")
    backward = [(5.25, 1.45, [r"$\partial\mathcal{L}/\partial z = (p - y)/N$"], ORANGE_L, ORANGE_D),
                (2.9, 1.95, ["chain rule, layer by layer:", (r"$\nabla_\theta\mathcal{L}$ for every weight",
                                                             {"size": SMALL})], ORANGE_L, ORANGE_D),
                (0.1, 2.4, [r"update $\theta \leftarrow \theta - \eta\,\nabla_\theta\mathcal{L}$",
                            ("η: the learning rate", {"size": SMALL})], GREEN_L, GREEN_D)]
    for x, w, lab, fc, ec in backward:
        box(ax, x, bottom, w, h, lab, fc=fc, ec=ec)
    for (x0, *_), (x1, w1, *_) in zip(backward, backward[1:]):
        arrow(ax, (x0 - 0.04, bottom + h / 2), (x1 + w1 + 0.04, bottom + h / 2), color=ORANGE_D, lw=1.4)
    arrow(ax, (5.975, top - 0.04), (5.975, bottom + h + 0.04), color=ORANGE_D, lw=1.4)
    arrow(ax, (2.3, bottom + h + 0.04), (2.3, top - 0.04), color=GREEN_D, lw=1.4)
    text(ax, 2.38, (top + bottom + h) / 2, "new weights", size=SMALL, color=GREEN_D, ha="left")
    text(ax, 0.1, 0.86, "backward: the gradient of the loss, then one step against it", size=FS, color=ORANGE_D,
         ha="left", weight="bold")
    text(ax, 0.1, 0.5, r"one update per batch, $\lceil N/B \rceil$ per epoch of N images: "
         "69 for 545 images at B = 8, 5 at B = 128", size=SMALL, color=GREY_D, ha="left")
    text(ax, 0.1, 0.2, r"on a quadratic bowl, plain gradient descent converges when $\eta < 2/\lambda_{\max}$; "
         "Adam scales the step per weight", size=SMALL, color=GREY_D, ha="left")
    return fig


# --------------------------------------------------------------------------- chapter 05


def _person(ax, cx, feet):
    """A simple standing figure seen from the front (facing the reader)."""
    c = "#c9c9c9"
    e = "#9a9a9a"
    ax.add_patch(Circle((cx, feet + 2.2), 0.2, fc=c, ec=e, lw=0.8, zorder=1))
    ax.add_patch(FancyBboxPatch((cx - 0.33, feet + 0.92), 0.66, 1.06, boxstyle="round,pad=0,rounding_size=0.12",
                                fc=c, ec=e, lw=0.8, zorder=1))
    for side in (-1, 1):
        ax.add_patch(FancyBboxPatch((cx + side * 0.42 - 0.07, feet + 1.0), 0.14, 0.92,
                                    boxstyle="round,pad=0,rounding_size=0.06", fc=c, ec=e, lw=0.8, zorder=1))
        ax.add_patch(FancyBboxPatch((cx + side * 0.16 - 0.13, feet), 0.26, 0.98,
                                    boxstyle="round,pad=0,rounding_size=0.06", fc=c, ec=e, lw=0.8, zorder=1))


def patient_axes():
    """Chapter 05: the patient coordinate systems of DICOM (LPS) and NIfTI (RAS+).

    A patient seen from the front (facing the reader, so the patient's left is
    on the reader's right). DICOM's patient coordinates (ImagePositionPatient,
    ImageOrientationPatient; ``medimgkit.io.DicomMeta``) point x to the
    patient's Left, y to Posterior and z to Superior; NIfTI's world
    coordinates (the affine; ``medimgkit.io.load_nifti``) point x to the
    Right, y to Anterior and z to Superior. The two differ by the sign of x
    and y. Depth arrows: dashed into the page, solid out of it. Drawn for this
    book from the DICOM standard (PS3.3 C.7.6.2.1.1), the NIfTI-1 header
    documentation and the chapter's text.
    """
    fig, ax = canvas(6.8, 4.85)
    panels = [
        (0.0, "DICOM: LPS", [("x", (1, 0), "L"), ("y", (0.62, 0.5), "P"), ("z", (0, 1), "S")],
         ["x → patient's Left", "y → Posterior (the back)", "z → Superior (the head)"], BLUE, BLUE_D),
        (3.4, "NIfTI: RAS+", [("x", (-1, 0), "R"), ("y", (-0.62, -0.5), "A"), ("z", (0, 1), "S")],
         ["x → patient's Right", "y → Anterior (the front)", "z → Superior (the head)"], VERM, VERM_D),
    ]
    for px, title, axes_, legend, col, dark in panels:
        cx, feet = px + 1.7, 1.15
        text(ax, cx, 4.6, title, size=TITLE, weight="bold", color=dark)
        _person(ax, cx, feet)
        o = (cx, feet + 1.5)
        for name, (ux, uy), letter in axes_:
            length = 1.35 if name == "x" else (1.28 if name == "z" else 0.95)
            norm = math.hypot(ux, uy)
            end = (o[0] + ux / norm * length, o[1] + uy / norm * length)
            into_page = name == "y" and letter == "P"
            arrow(ax, o, end, color=col, lw=2.2, ls=(0, (4, 2)) if into_page else "-", scale=14, z=4)
            lx, ly = end[0] + ux / norm * 0.17, end[1] + uy / norm * 0.17
            text(ax, lx, ly, letter, size=13, weight="bold", color=dark)
            frac = 0.88 if name == "z" else 0.6
            mx, my = o[0] + ux / norm * length * frac, o[1] + uy / norm * length * frac
            off = {"x": (0.0, -0.15), "z": (0.13, 0.0), "y": (0.14, -0.17)}[name]
            text(ax, mx + off[0], my + off[1], name, size=FS, style="italic", color=dark)
        ax.add_patch(Circle(o, 0.05, fc=INK, zorder=5))
        lines_in(ax, cx, 0.0, [(s, {"size": SMALL}) for s in legend], top=0.95)
    ax.plot([3.4, 3.4], [0.3, 4.7], color="#d0d0d0", lw=0.8)
    text(ax, 3.4, 0.12, "Each patient faces you: their left is on your right.   "
         "Same point: $x_{RAS} = -x_{LPS}$,  $y_{RAS} = -y_{LPS}$,  $z_{RAS} = z_{LPS}$", size=SMALL, color=GREY_D)
    return fig


_PATIENT_FILL = ["#d5e7f4", "#fcebc5", "#cceee2", "#f8dcc8", "#f4dfeb", "#e6e6a8", "#dcdcdc", "#c9dcf0"]


def leak_across_splits():
    """Chapter 05: why one patient's images must not sit on both sides of a split.

    Eight simulated patients with four views each (the chapter's VIEWS = 4;
    the number in each square is the patient). Top: a per-image split sends a
    quarter of the images to the test side at random, so test images have
    sibling views in training and a nearest-neighbour rule can find them (the
    chapter measures an AUC inflated by about 0.17). Bottom: a per-patient
    split (``medimgkit.data.patient_split``) keeps every patient on one side.
    Drawn for this book from the chapter's experiment.
    """
    fig, ax = canvas(6.8, 4.85)
    s, g = 0.3, 0.045
    views = [(p, v) for p in range(1, 9) for v in range(1, 5)]
    leaky_test = [(1, 2), (2, 4), (3, 1), (3, 3), (5, 2), (6, 4), (7, 1), (8, 3)]
    honest_test = [(7, v) for v in range(1, 5)] + [(8, v) for v in range(1, 5)]

    def block(x, ytop, items, cols, mark=()):
        for i, (p, v) in enumerate(items):
            r, c = divmod(i, cols)
            xx, yy = x + c * (s + g), ytop - (r + 1) * s - r * g
            hot = (p, v) in mark
            ax.add_patch(Rectangle((xx, yy), s, s, fc=_PATIENT_FILL[p - 1], ec=VERM if hot else GREY_D,
                                   lw=2.0 if hot else 0.7, zorder=2))
            text(ax, xx + s / 2, yy + s / 2, str(p), size=SMALL, weight="bold")

    sections = [
        (4.6, "split per image (leaky)", leaky_test, VERM_D,
         ["Every test image has another view of", "the same patient in training.",
          "A nearest-neighbour rule finds that",
          "sibling: the test AUC rises by about", "0.17, and measures recognition of the",
          "patient, not of the disease."]),
        (2.3, "split per patient", honest_test, GREEN_D,
         ["All four views of a patient go to", "the same side.", "The test split holds new patients only:",
          "its score estimates what the model", "will do on the next patient."]),
    ]
    for ytitle, title, test_items, col, note in sections:
        text(ax, 0.1, ytitle, title, size=TITLE, weight="bold", ha="left", color=col)
        ytop = ytitle - 0.42
        train_items = [pv for pv in views if pv not in test_items]
        text(ax, 0.2 + 3 * (s + g), ytop + 0.12, "training", size=SMALL, color=GREY_D)
        text(ax, 2.75 + (s + g), ytop + 0.12, "test", size=SMALL, color=GREY_D)
        leaky = col == VERM_D
        block(0.2, ytop, train_items, 6)
        block(2.75, ytop, test_items, 2, mark=test_items if leaky else ())
        lines_in(ax, 3.75, 0, [(ln, {"size": SMALL}) for ln in note], ha="left", top=ytop + 0.05)
    ax.plot([0.1, 6.7], [2.57, 2.57], color="#d0d0d0", lw=0.8)
    lines_in(ax, 0.1, 0.25, [("8 patients × 4 views; the number in each square is the patient.", {"size": SMALL, "color": GREY_D}),
                             ("Red frame: a test image whose patient is also in training.", {"size": SMALL, "color": GREY_D})],
             ha="left")
    return fig


# --------------------------------------------------------------------------- chapter 06


def _two_sizes(lines):
    """First line at body size, the rest one step smaller."""
    return [(ln, {"size": FS if i == 0 else SMALL}) for i, ln in enumerate(lines)]


def article_vs_improved_cnn():
    """Chapter 06: the article's CNN beside the book's improved CNN.

    Left, ``medimgkit.models.article_cnn`` exactly as printed in the source
    article: Conv2D(32, 3x3, ReLU) -> MaxPooling2D(2) -> Flatten -> Dense(2,
    softmax), 11,138 parameters. Right, ``improved_cnn`` with its defaults
    (width 32, three blocks): augmentation, three blocks of two conv 3x3 - BN -
    ReLU and a 2x2 max pooling (width doubling per block), global average
    pooling, dropout 0.3, Dense(2, softmax), 288,034 parameters. Output shapes
    for a 28 x 28 x 1 input as Keras reports them. Colour: orange has weights,
    grey has none, purple acts in training only. Drawn for this book from
    ``medimgkit/models/cnn.py``.
    """
    fig, ax = canvas(6.8, 6.95)
    lx, rx, w = 0.1, 3.55, 3.15
    wts, none, train_only, io = (ORANGE_L, ORANGE_D), (GREY_L, GREY_D), (PURPLE_L, PURPLE_D), (BLUE_L, BLUE_D)
    text(ax, lx + w / 2, 6.73, "the article's CNN", size=TITLE, weight="bold")
    text(ax, rx + w / 2, 6.73, "the improved CNN", size=TITLE, weight="bold")
    rh, gap, top = 0.6, 0.2, 6.45
    right = [
        (["input 28 × 28 × 1"], io),
        (["augmentation (training only):", "flip, rotation, shift, contrast"], train_only),
        (["block 1: (conv 3×3 – BN – ReLU) × 2,", "32 channels; max pool → 14 × 14 × 32"], wts),
        (["block 2: the same, 64 channels;", "max pool → 7 × 7 × 64"], wts),
        (["block 3: the same, 128 channels;", "max pool → 3 × 3 × 128"], wts),
        (["global average pooling → 128,", "dropout 0.3 (training only)"], none),
        (["Dense 2, softmax → 2 probabilities", "258 weights"], wts),
    ]
    left = {
        0: (["input 28 × 28 × 1"], io),
        2: (["Conv2D: 32 kernels 3×3, ReLU,", "no padding → 26 × 26 × 32"], wts),
        3: (["MaxPooling2D 2×2 → 13 × 13 × 32"], none),
        5: (["Flatten → 5,408 numbers"], none),
        6: (["Dense 2, softmax → 2 probabilities", "10,818 weights"], wts),
    }

    def y_of(k):
        return top - (k + 1) * rh - k * gap

    for k, (lines, (fc, ec)) in enumerate(right):
        box(ax, rx, y_of(k), w, rh, _two_sizes(lines), fc=fc, ec=ec)
        if k < len(right) - 1:
            arrow(ax, (rx + w / 2, y_of(k) - 0.02), (rx + w / 2, y_of(k + 1) + rh + 0.02))
    keys = sorted(left)
    for k in keys:
        lines, (fc, ec) = left[k]
        box(ax, lx, y_of(k), w, rh, _two_sizes(lines), fc=fc, ec=ec)
    for a, b in zip(keys, keys[1:]):
        arrow(ax, (lx + w / 2, y_of(a) - 0.02), (lx + w / 2, y_of(b) + rh + 0.02))
    text(ax, lx + w / 2, 0.8, "11,138 parameters", size=FS, weight="bold")
    text(ax, rx + w / 2, 0.8, "288,034 parameters", size=FS, weight="bold")
    legend_chip(ax, 0.3, 0.3, ORANGE_L, ORANGE_D, "has weights")
    legend_chip(ax, 2.2, 0.3, GREY_L, GREY_D, "no weights")
    legend_chip(ax, 4.0, 0.3, PURPLE_L, PURPLE_D, "active in training only")
    return fig


# --------------------------------------------------------------------------- chapter 06b


def cross_validation_folds():
    """Chapter 06b: five-fold cross-validation on the images outside the test split.

    ``medimgkit.crossval`` (through ``recipe.cross_validate``) pools the 546
    training and 78 validation images of BreastMNIST (624), deals them into
    five parts with the same share of malignant images, and five times trains
    one network on four parts (about 499 images) and predicts the fifth (about
    125). Every image gets an out-of-fold probability; the 156 test images are
    not loaded. Parts are drawn side by side; the real dealing is random and
    stratified. Drawn for this book from the chapter's text.
    """
    fig, ax = canvas(6.8, 4.75)
    x0, scale = 1.05, 4.3 / 624
    wpart = 624 * scale / 5
    tx = x0 + 624 * scale + 0.2
    tw = 156 * scale
    top = 4.05
    ax.add_patch(Rectangle((x0, top), 546 * scale, 0.34, fc=BLUE_L, ec=BLUE_D, lw=0.9))
    ax.add_patch(Rectangle((x0 + 546 * scale, top), 78 * scale, 0.34, fc=ORANGE_L, ec=ORANGE_D, lw=0.9))
    ax.add_patch(Rectangle((tx, top), tw, 0.34, fc="white", ec=GREY, lw=0.9, hatch="///"))
    text(ax, x0 + 273 * scale, top + 0.17, "training: 546", size=SMALL)
    text(ax, x0 + 585 * scale, top + 0.52, "validation: 78", size=SMALL, color=ORANGE_D)
    text(ax, tx + tw / 2, top + 0.52, "test: 156", size=SMALL, color=GREY_D)
    ax.plot([x0 + 585 * scale, x0 + 585 * scale], [top + 0.34, top + 0.42], color=ORANGE_D, lw=0.8)
    text(ax, 0.08, top + 0.17, "official", size=SMALL, ha="left")
    text(ax, x0 + 312 * scale, top - 0.22, "pooled: 624 labelled images, dealt into 5 parts", size=SMALL, color=GREY_D)
    for r in range(5):
        y = 3.15 - r * 0.5
        text(ax, 0.08, y + 0.17, f"round {r + 1}", size=FS, ha="left")
        for part in range(5):
            held = part == r
            ax.add_patch(Rectangle((x0 + part * wpart, y), wpart, 0.34, fc=ORANGE if held else BLUE_L,
                                   ec=ORANGE_D if held else BLUE_D, lw=0.9))
            if held:
                text(ax, x0 + (part + 0.5) * wpart, y + 0.17, "predict", size=SMALL, weight="bold")
        ax.add_patch(Rectangle((tx, y), tw, 0.34, fc="white", ec="#c0c0c0", lw=0.8, hatch="///"))
    text(ax, x0 + 3 * wpart, 3.15 + 0.17, "train one network on these 4 parts (≈ 499 images)", size=SMALL)
    text(ax, tx + tw / 2, 3.15 + 0.56, "not loaded", size=SMALL, color=GREY_D)
    yo = 0.6
    for part in range(5):
        ax.add_patch(Rectangle((x0 + part * wpart, yo), wpart, 0.34, fc=ORANGE, ec=ORANGE_D, lw=0.9))
    text(ax, 0.08, yo + 0.17, "result", size=FS, ha="left", weight="bold")
    text(ax, x0 + 2.5 * wpart, yo + 0.17, "out-of-fold probability for all 624 images", size=SMALL, weight="bold")
    arrow(ax, (x0 + 2.5 * wpart, 1.1), (x0 + 2.5 * wpart, yo + 0.38))
    text(ax, x0 + 2.5 * wpart, 0.3, "each image is scored by the network that never saw it", size=SMALL, color=GREY_D)
    return fig


def seeds_and_ensembles():
    """Chapter 06b: how the book's final recipe is run and reported: networks, seeds and ensembles.

    One run of the 28 px BreastMNIST recipe (``medimgkit.experiments.recipe``,
    ``members=3``, ``tta=True``, ``threshold="youden"``) trains three
    ``improved_cnn`` networks with seeds s, s + 1000 and s + 2000
    (``member_seed``), predicts each image and its mirror image and averages,
    averages the three networks, chooses the threshold on validation
    (Youden's index) and scores the test split once. The chapter runs seeds 0,
    1 and 2 and reports their mean as the number set against published
    results; the ensemble of the seeds (all nine networks, its own threshold on
    validation) is a different, bigger model and is labelled separately
    (``recipe.summary``). Drawn for this book from the chapter's text and the
    recipe's code.
    """
    fig, ax = canvas(6.8, 5.7)
    net, avg, ev = (ORANGE_L, ORANGE_D), (GREY_L, GREY_D), (GREEN_L, GREEN_D)
    text(ax, 0.1, 5.48, "one run of the 28 px recipe, with seed s: three improved_cnn networks", size=TITLE,
         weight="bold", ha="left")
    xs, bw = [0.1, 2.4, 4.7], 2.0
    for x, seed in zip(xs, ["s", "s + 1000", "s + 2000"]):
        box(ax, x, 4.35, bw, 0.78, [(f"network with seed {seed}", {"size": SMALL}),
                                   ("40 epochs, cosine schedule", {"size": SMALL}),
                                   ("p = mean(image, mirror)", {"size": SMALL})], fc=net[0], ec=net[1])
        arrow(ax, (x + bw / 2, 4.33), (3.4 + (x + bw / 2 - 3.4) * 0.45, 3.87))
    box(ax, 1.3, 3.4, 4.2, 0.45, ["average the three networks' probabilities"], fc=avg[0], ec=avg[1])
    arrow(ax, (3.4, 3.38), (3.4, 3.12))
    box(ax, 0.6, 2.6, 5.6, 0.5, [("threshold chosen on validation (Youden's index);", {"size": SMALL}),
                                ("then the test split is scored once", {"size": SMALL})], fc=ev[0], ec=ev[1])
    ax.plot([0.1, 6.7], [2.38, 2.38], color="#d0d0d0", lw=0.8)
    text(ax, 0.1, 2.15, "three runs: seeds 0, 1 and 2, each the run above", size=TITLE, weight="bold", ha="left")
    for x, seed in zip(xs, (0, 1, 2)):
        box(ax, x, 1.38, bw, 0.5, [f"run with seed {seed}", ("3 networks, test scored once", {"size": SMALL})],
            fc=net[0], ec=net[1])
        ax.plot([x + bw / 2, x + bw / 2], [1.36, 1.18], color=INK, lw=1.2)
    ax.plot([xs[0] + bw / 2, xs[2] + bw / 2], [1.18, 1.18], color=INK, lw=1.2)
    arrow(ax, (1.7, 1.18), (1.7, 0.97))
    arrow(ax, (5.1, 1.18), (5.1, 0.97), ls=(0, (4, 2)))
    box(ax, 0.1, 0.2, 3.2, 0.75, [("mean of 3 seeds", {"weight": "bold"}), ("the number set against", {"size": SMALL}),
                                 ("published results", {"size": SMALL})], fc=ev[0], ec=ev[1], lw=1.6)
    box(ax, 3.5, 0.2, 3.2, 0.75, [("ensemble of the seeds", {"weight": "bold"}),
                                 ("all 9 networks averaged: a different,", {"size": SMALL}),
                                 ("bigger model, labelled separately", {"size": SMALL})], fc="white", ec=GREY_D,
        ls=(0, (4, 2)))
    return fig


# --------------------------------------------------------------------------- chapter 07


def ordinal_head():
    """Chapter 07: a softmax head against a cumulative-link head for ordered grades.

    Both heads sit on the same ``improved_cnn`` body (RetinaMNIST, grades 0 to
    4). The softmax head outputs five unrelated class probabilities; the
    cumulative-link head (``medimgkit.models.ordinal``) outputs one severity
    score s and four ordered cut points with P(grade <= k) = sigma(t_k - s).
    The bottom panel draws that model: a logistic curve centred at s, cut at
    t_0..t_3; the area between two cut points is the probability of a grade.
    The cut points shown are the layer's starting values (-1.5, -0.5, 0.5,
    1.5); s = 0.8 is an example. Drawn for this book from the chapter's formula
    and ``CumulativeLink``.
    """
    fig, ax = canvas(6.8, 6.45)
    box(ax, 1.0, 5.7, 4.8, 0.56, ["the same body: improved_cnn's blocks,", "global average pooling, dropout"],
        fc=ORANGE_L, ec=ORANGE_D)
    w = 3.15
    text(ax, 0.1 + w / 2, 5.2, "softmax head", size=TITLE, weight="bold")
    text(ax, 3.55 + w / 2, 5.2, "cumulative-link head", size=TITLE, weight="bold")
    arrow(ax, (2.2, 5.68), (0.1 + w / 2, 5.35))
    arrow(ax, (4.6, 5.68), (3.55 + w / 2, 5.35))
    left = [
        (["Dense(5) → 5 logits"], 0.42, ORANGE_L, ORANGE_D),
        (["softmax → p₀, …, p₄"], 0.42, GREY_L, GREY_D),
        ([("five unrelated classes:", {"size": SMALL}), ("the order must be learned", {"size": SMALL})], 0.5,
         "white", GREY),
    ]
    right = [
        (["Dense(1) → severity score s"], 0.42, ORANGE_L, ORANGE_D),
        ([r"$P(\mathrm{grade} \leq k) = \sigma(t_k - s)$", ("cut points t₀ < t₁ < t₂ < t₃, learned", {"size": SMALL})],
         0.62, ORANGE_L, ORANGE_D),
        ([r"$p_k = P(\mathrm{grade} \leq k) - P(\mathrm{grade} \leq k-1)$",
          ("the order is built in", {"size": SMALL})], 0.62, GREY_L, GREY_D),
    ]
    _column(ax, 0.1, w, 5.03, left, gap=0.2)
    _column(ax, 3.55, w, 5.03, right, gap=0.2)
    # the latent-score picture
    text(ax, 0.1, 2.3, "the cumulative link: one score, cut into grades", size=FS, weight="bold", ha="left")
    text(ax, 0.1, 2.08, "area between two cut points = probability of that grade", size=SMALL, color=GREY_D, ha="left")
    sub = fig.add_axes((0.03, 0.08, 0.94, 0.22))
    cuts, s = np.array([-1.5, -0.5, 0.5, 1.5]), 0.8
    lo, hi = -3.6, 4.6
    u = np.linspace(lo, hi, 800)
    dens = np.exp(-(u - s)) / (1 + np.exp(-(u - s))) ** 2
    edges = np.concatenate([[lo], cuts, [hi]])
    cdf = np.concatenate([[0.0], 1 / (1 + np.exp(-(cuts - s))), [1.0]])
    fills = ["#d5e7f4", "#a9cfe9", "#6fb0dc", "#3b8fc7", "#0f6aa6"]
    for k in range(5):
        m = (u >= edges[k]) & (u <= edges[k + 1])
        sub.fill_between(u[m], dens[m], color=fills[k], lw=0)
        centre = (edges[k] + edges[k + 1]) / 2
        sub.text(centre, 0.395, f"grade {k}", ha="center", va="center", fontsize=SMALL)
        sub.text(centre, 0.345, f"{cdf[k + 1] - cdf[k]:.2f}", ha="center", va="center", fontsize=SMALL,
                 fontweight="bold")
    sub.plot(u, dens, color=INK, lw=1.2)
    for k, t in enumerate(cuts):
        sub.plot([t, t], [0, 0.37], color=INK, lw=0.9, ls=(0, (3, 2)))
        sub.text(t, -0.03, f"$t_{k}$", ha="center", va="top", fontsize=FS)
    sub.plot([s, s], [0, 0.25], color=VERM, lw=1.8)
    sub.text(s, 0.27, "s", color=VERM_D, fontsize=FS, style="italic", ha="center", fontweight="bold")
    sub.text(hi, -0.03, "severity →", ha="right", va="top", fontsize=SMALL, color=GREY_D)
    sub.set_xlim(lo, hi)
    sub.set_ylim(0, 0.42)
    sub.axis("off")
    sub.plot([lo, hi], [0, 0], color=INK, lw=0.8)
    return fig


# --------------------------------------------------------------------------- chapter 08


def regularisers():
    """Chapter 08: the gap between training and validation loss, and where each regulariser acts.

    Top: a schematic of overfitting (not a measurement): the training loss
    keeps falling, the validation loss turns up, and the epoch with the best
    validation score is kept (early stopping in hindsight, as ``train.fit``
    does). Bottom: the chapter's three regularisers placed where they act in
    ``improved_cnn``: augmentation on the input images, dropout on the pooled
    features, an L2 penalty lambda * sum(w^2) (lambda = 1e-3) added to the
    loss. Drawn for this book from the chapter's table.
    """
    W, H = 6.8, 6.0
    fig, ax = canvas(W, H)
    sub = fig.add_axes((0.45 / W, 3.85 / H, 3.9 / W, 1.95 / H))
    e = np.linspace(1, 40, 200)
    train = 0.62 * np.exp(-e / 7) + 0.03
    val = 0.36 + 0.3 * np.exp(-e / 4.5) + 0.0045 * e
    best = e[np.argmin(val)]
    sub.plot(e, train, color=BLUE, lw=2)
    sub.plot(e, val, color=VERM, lw=2)
    sub.text(25, train[120] + 0.05, "training loss", color=BLUE_D, fontsize=SMALL, ha="center")
    sub.text(25, val[120] + 0.04, "validation loss", color=VERM_D, fontsize=SMALL, ha="center")
    sub.axvline(best, color=GREY, lw=1, ls=":")
    sub.annotate("", xy=(39, train[-5]), xytext=(39, val[-5]),
                 arrowprops=dict(arrowstyle="<->", color=INK, lw=1, shrinkA=0, shrinkB=0))
    sub.text(38, (train[-5] + val[-5]) / 2, "gap", ha="right", va="center", fontsize=FS)
    sub.text(best + 0.8, 0.8, "kept epoch", fontsize=SMALL, color=GREY_D, va="top")
    sub.set_xlabel("epoch", fontsize=SMALL)
    sub.set_ylabel("loss", fontsize=SMALL)
    sub.set_xticks([])
    sub.set_yticks([])
    sub.set_ylim(0, 0.82)
    sub.set_xlim(0, 41)
    for side in ("top", "right"):
        sub.spines[side].set_visible(False)
    lines_in(ax, 4.65, 0, [("schematic, not measured", {"size": SMALL, "color": GREY_D}),
                           ("", {"size": SMALL}),
                           ("Early stopping in hindsight:", {"size": SMALL, "weight": "bold"}),
                           ("keep the weights of the epoch", {"size": SMALL}),
                           ("with the best validation AUC", {"size": SMALL}),
                           ("(the dotted line).", {"size": SMALL})], ha="left", top=5.7)
    # the network, with the regularisers
    w, x = 2.3, 0.1
    items = [("training image", BLUE_L, BLUE_D), ("augmentation", PURPLE_L, PURPLE_D),
             ("conv blocks (with BN)", ORANGE_L, ORANGE_D), ("global average pooling", GREY_L, GREY_D),
             ("dropout", PURPLE_L, PURPLE_D), ("Dense, softmax", ORANGE_L, ORANGE_D),
             ("loss  +  λ Σ w²", PURPLE_L, PURPLE_D)]
    h, gap, top = 0.34, 0.13, 3.35
    ys = {}
    for k, (label, fc, ec) in enumerate(items):
        y = top - (k + 1) * h - k * gap
        ys[label] = y + h / 2
        box(ax, x, y, w, h, [label], fc=fc, ec=ec, lw=1.4 if fc == PURPLE_L else 1.0)
        if k < len(items) - 1:
            arrow(ax, (x + w / 2, y - 0.01), (x + w / 2, y - gap + 0.01), scale=9)
    notes = [
        ("augmentation", ["Augmentation: a new random flip, rotation, shift", "and contrast of each image in every epoch."]),
        ("dropout", ["Dropout: zeroes half of the pooled features at", "random in each training step; off at inference."]),
        ("loss  +  λ Σ w²", ["L2: adds λ Σ w² (λ = 10⁻³) of every kernel to the", "loss; batch norm undoes it for convolutions."]),
    ]
    for label, note in notes:
        y = ys[label]
        arrow(ax, (2.75, y), (x + w + 0.04, y), color=PURPLE_D, lw=1.0, scale=9)
        lines_in(ax, 2.85, y, [(ln, {"size": SMALL}) for ln in note], ha="left")
    return fig


# --------------------------------------------------------------------------- chapter 08b


def transfer_learning():
    """Chapter 08b: transfer learning, from a source task to the target task.

    Top, the source task: an ``improved_cnn`` trained on chest X-rays
    (PneumoniaMNIST, pneumonia or normal; the chapter uses half of its 4,708
    training images, without flips). Its convolutional blocks are copied, not
    shared (``models.reuse_backbone``), under a new head for the target task:
    breast ultrasound, malignant or benign, with 55 training images (10 %).
    Stage 1, feature extraction: the copied blocks are frozen and only the new
    head trains (learning rate 1e-2). Stage 2, fine-tuning: everything trains
    at 1e-4 (``models.unfreeze``); the batch-norm layers keep the source's
    statistics. The same recipe with an ImageNet MobileNetV2 as the source is
    ``models.backbone_classifier``. Drawn for this book from the chapter's code.
    """
    fig, ax = canvas(6.8, 3.9)
    top, bottom, h = 2.65, 0.95, 0.74
    text(ax, 0.1, 3.68, "source task: pneumonia on chest X-rays (a larger labelled data set)", size=FS,
         color=BLUE_D, ha="left", weight="bold")
    source = [(0.1, 1.6, ["chest X-ray", ("2,354 training images", {"size": SMALL})], BLUE_L, BLUE_D, "-"),
              (2.3, 2.1, ["conv blocks", ("trained on the source", {"size": SMALL})], BLUE_L, BLUE_D, "-"),
              (5.0, 1.7, ["Dense, softmax", ("pneumonia / normal", {"size": SMALL})], GREY_L, GREY_D, "--")]
    for x, w, lab, fc, ec, ls in source:
        box(ax, x, top, w, h, lab, fc=fc, ec=ec, ls=ls)
    for (x0, w0, *_), (x1, *_) in zip(source, source[1:]):
        arrow(ax, (x0 + w0 + 0.04, top + h / 2), (x1 - 0.04, top + h / 2), color=BLUE_D, lw=1.4)
    text(ax, 5.85, top - 0.2, "discarded", size=SMALL, color=GREY_D)
    arrow(ax, (3.35, top - 0.04), (3.35, bottom + h + 0.04), color=GREEN_D, lw=1.6)
    text(ax, 3.45, (top + bottom + h) / 2, "copy the weights (not shared)", size=SMALL, color=GREEN_D, ha="left")
    target = [(0.1, 1.6, ["breast ultrasound", ("55 training images", {"size": SMALL})], ORANGE_L, ORANGE_D),
              (2.3, 2.1, ["copied blocks", ("stage 1 frozen, stage 2 tuned", {"size": SMALL})], GREEN_L, GREEN_D),
              (5.0, 1.7, ["new head, Dense", ("malignant / benign", {"size": SMALL})], VERM_L, VERM_D)]
    for x, w, lab, fc, ec in target:
        box(ax, x, bottom, w, h, lab, fc=fc, ec=ec)
    for (x0, w0, *_), (x1, *_) in zip(target, target[1:]):
        arrow(ax, (x0 + w0 + 0.04, bottom + h / 2), (x1 - 0.04, bottom + h / 2), color=ORANGE_D, lw=1.4)
    text(ax, 0.1, bottom + h + 0.22, "target task: benign or malignant, few labels", size=FS, color=ORANGE_D,
         ha="left", weight="bold")
    lines_in(ax, 0.1, 0, [("Stage 1, feature extraction: the blocks are frozen, only the new head trains "
                           "(learning rate 10⁻²).", {"size": SMALL}),
                          ("Stage 2, fine-tuning: everything trains at 10⁻⁴; batch norm keeps the source's "
                           "statistics.", {"size": SMALL}),
                          ("With ImageNet as the source: a MobileNetV2 backbone under a grey image repeated to "
                           "3 channels.", {"size": SMALL, "color": GREY_D})], ha="left", top=0.72)
    return fig


# --------------------------------------------------------------------------- chapter 09


def gradcam_flow():
    """Chapter 09: the data flow of Grad-CAM.

    For the book's ``improved_cnn`` on 28 x 28 images: the forward pass (left,
    downwards) from the image to the last convolutional feature map A
    (block3_relu2, 7 x 7 x 128 at width 32, found by
    ``explain.find_last_conv_layer``) and on to the class log-odds s_c; then
    (right, upwards) the gradient of s_c with respect to A, its mean over the
    7 x 7 positions (one weight alpha_k per channel), the weighted sum of A's
    channels with a ReLU, and the upsampling to the image, scaled to [0, 1].
    Drawn for this book from ``medimgkit/explain/gradcam.py`` and the
    chapter's formula.
    """
    fig, ax = canvas(6.8, 5.9)
    w, lx, rx = 2.9, 0.1, 3.8
    text(ax, lx + w / 2, 5.65, "forward pass", size=TITLE, weight="bold")
    text(ax, rx + w / 2, 5.65, "Grad-CAM for class c", size=TITLE, weight="bold", color=VERM_D)
    h, step = 0.66, 1.02
    ys = [4.7 - k * step for k in range(5)]
    left = [
        (["image x, 28 × 28 × 1"], BLUE_L, BLUE_D),
        (["blocks 1–3: conv, batch norm,", "ReLU, max pooling"], ORANGE_L, ORANGE_D),
        (["feature map A (block3_relu2)", "7 × 7 positions × 128 channels"], ORANGE_L, ORANGE_D),
        (["pool, global average pooling,", "dropout, Dense → logits"], ORANGE_L, ORANGE_D),
        (["score $s_c$: log-odds of class c", "(default: the predicted class)"], BLUE_L, BLUE_D),
    ]
    right = [
        (["heatmap in [0, 1], 28 × 28,", "laid over the image"], VERM_L, VERM_D),
        (["upsample 7 × 7 → 28 × 28 (bilinear),", "divide by the maximum"], "white", VERM_D),
        ([r"ReLU$(\Sigma_k\, \alpha_k A^k)$: 7 × 7", "keeps positive evidence only"], "white", VERM_D),
        ([r"$\alpha_k$ = mean over the 7 × 7 positions", "one weight per channel (128)"], "white", VERM_D),
        ([r"gradient $\partial s_c / \partial A$", "7 × 7 × 128, one backward pass"], "white", VERM_D),
    ]
    for k in range(5):
        box(ax, lx, ys[k], w, h, [(s_, {"size": SMALL}) for s_ in left[k][0]], fc=left[k][1], ec=left[k][2])
        box(ax, rx, ys[k], w, h, [(s_, {"size": SMALL}) for s_ in right[k][0]], fc=right[k][1], ec=right[k][2])
        if k < 4:
            arrow(ax, (lx + w / 2, ys[k] - 0.02), (lx + w / 2, ys[k + 1] + h + 0.02))
            arrow(ax, (rx + w / 2, ys[k + 1] + h + 0.02), (rx + w / 2, ys[k] - 0.02), color=VERM)
    arrow(ax, (lx + w + 0.03, ys[4] + h / 2), (rx - 0.03, ys[4] + h / 2), color=VERM, lw=1.4)
    text(ax, (lx + w + rx) / 2, ys[4] + h / 2 - 0.17, "backprop", size=SMALL, color=VERM_D)
    arrow(ax, (lx + w + 0.03, ys[2] + h / 2), (rx - 0.03, ys[2] + h / 2), color=ORANGE_D, lw=1.4, ls=(0, (4, 2)))
    text(ax, (lx + w + rx) / 2, ys[2] + h / 2 + 0.16, "A", size=FS, color=ORANGE_D, style="italic")
    arrow(ax, (lx + w + 0.03, ys[0] + h / 2), (rx - 0.03, ys[0] + h / 2), color=GREY, lw=1.0, ls=(0, (2, 2)))
    text(ax, (lx + w + rx) / 2, ys[0] + h / 2 + 0.16, "overlay", size=SMALL, color=GREY_D)
    text(ax, 3.4, 0.12, "black: forward pass.   red: the gradient and what Grad-CAM computes from it.",
         size=SMALL, color=GREY_D)
    return fig


# --------------------------------------------------------------------------- chapter 10


def export_artefacts():
    """Chapter 10: the three files a trained Keras model becomes, and who reads each.

    ``export.save_keras`` writes a ``.keras`` zip (architecture, weights,
    optimiser state) for Python with Keras; ``export.export_savedmodel`` writes a
    SavedModel folder whose serving function calls the model with
    training=False (the augmentation trap of the chapter); ``export.to_tflite``
    converts that SavedModel into a TFLite flatbuffer, float32, float16,
    dynamic-range or int8 (calibrated on 200 training images), read by the
    LiteRT / TFLite interpreter. Drawn for this book from the chapter's table
    and ``medimgkit/export.py``.
    """
    fig, ax = canvas(6.8, 4.75)
    box(ax, 0.1, 1.85, 1.3, 2.2, [("trained", {"weight": "bold"}), ("Keras model", {"weight": "bold"}),
                                  ("(in the", {"size": SMALL}), ("notebook)", {"size": SMALL})],
        fc=ORANGE_L, ec=ORANGE_D)
    fx, fw, rx, rw = 1.95, 2.5, 4.72, 2.0
    rows = [
        (3.35, [(".keras file", {"weight": "bold"}), ("architecture, weights and", {"size": SMALL}),
                ("optimiser state, one zip", {"size": SMALL})],
         ["Python + Keras:", "resume training, fine-tune", "(load with safe_mode=True)"], "export.save_keras"),
        (1.85, [("SavedModel folder", {"weight": "bold"}), ("TensorFlow graph of the", {"size": SMALL}),
                ("inference function + weights", {"size": SMALL})],
         ["TF Serving, TF.js and", "TFLite converters, other", "TensorFlow programs"],
         "export.export_savedmodel (training=False)"),
        (0.35, [(".tflite flatbuffer", {"weight": "bold"}), ("TFLite operations,", {"size": SMALL}),
                ("optionally quantised", {"size": SMALL})],
         ["LiteRT / TFLite interpreter:", "phones, embedded boards,", "browsers"], None),
    ]
    h = 0.78
    for y, flines, readers, fn in rows:
        box(ax, fx, y, fw, h, flines, fc=BLUE_L, ec=BLUE_D)
        box(ax, rx, y, rw, h, [(r, {"size": SMALL}) for r in readers], fc=GREEN_L, ec=GREEN_D)
        arrow(ax, (fx + fw + 0.03, y + h / 2), (rx - 0.03, y + h / 2))
        if fn:
            arrow(ax, (1.42, 2.95 if y > 2 else 2.25), (fx - 0.03, y + h / 2))
            text(ax, fx + fw / 2, y + h + 0.14, fn, size=SMALL, color=GREY_D, family="DejaVu Sans Mono")
    arrow(ax, (fx + fw / 2, 1.85 - 0.02), (fx + fw / 2, 0.35 + h + 0.02))
    lines_in(ax, fx + fw / 2 + 0.12, 1.45, [("export.to_tflite", {"size": SMALL, "family": "DejaVu Sans Mono"}),
                                           ("float32, float16, dynamic, or int8", {"size": SMALL}),
                                           ], ha="left")
    text(ax, fx + fw / 2, 4.57, "file", size=TITLE, weight="bold")
    text(ax, rx + rw / 2, 4.57, "who reads it", size=TITLE, weight="bold")
    text(ax, 0.75, 4.57, "source", size=TITLE, weight="bold")
    return fig


# --------------------------------------------------------------------------- chapter 11


def fedavg_round():
    """Chapter 11: one round of federated averaging (FedAvg).

    The server sends the global weights w to three hospitals (1); each trains
    a copy for one local epoch on its own n_k images, which never leave it
    (2); the server replaces w by the size-weighted average of the returned
    weights, w <- sum_k (n_k / n) w_k (3). As in
    ``medimgkit.experiments.federated.fedavg`` and McMahan et al. (AISTATS
    2017). Drawn for this book from the chapter's three steps.
    """
    fig, ax = canvas(6.8, 5.0)
    box(ax, 1.9, 3.75, 3.0, 1.05, None, fc=GREY_L, ec=GREY_D)
    text(ax, 3.4, 4.57, "server: global weights w", weight="bold")
    text(ax, 3.4, 4.12, r"③  $w \leftarrow \sum_k \; \dfrac{n_k}{n} \, w_k$", size=TITLE)
    hw, hy, hh = 2.0, 0.3, 1.95
    for i, name in enumerate("ABC"):
        hx = 0.12 + i * 2.26
        box(ax, hx, hy, hw, hh, None, fc="white", ec=INK, lw=2.4, radius=0.03)
        text(ax, hx + hw / 2, hy + hh - 0.2, f"hospital {name}", weight="bold")
        for r in range(2):
            for c in range(4):
                ax.add_patch(Rectangle((hx + 0.3 + c * 0.36, hy + 1.05 - r * 0.34), 0.28, 0.26, fc="#cfcfcf",
                                       ec=GREY, lw=0.6, zorder=3))
        text(ax, hx + hw / 2, hy + 0.6, f"$n_{name}$ images stay here", size=SMALL)
        text(ax, hx + hw / 2, hy + 0.34, f"② train a copy → $w_{name}$", size=SMALL, color=ORANGE_D)
        cx = hx + hw / 2
        sx = 2.3 + i * 1.1
        arrow(ax, (sx - 0.12, 3.73), (cx - 0.22, hy + hh + 0.03), color=BLUE, lw=1.6)
        arrow(ax, (cx + 0.22, hy + hh + 0.03), (sx + 0.12, 3.73), color=ORANGE_D, lw=1.6)
    text(ax, 1.2, 3.05, "① w", size=FS, color=BLUE_D, weight="bold", ha="right")
    text(ax, 5.55, 3.05, r"$w_k$, $n_k$", size=FS, color=ORANGE_D, weight="bold", ha="left")
    lines_in(ax, 0.12, 0, [("only weights cross", {"size": SMALL, "color": GREY_D}),
                          ("the hospital walls", {"size": SMALL, "color": GREY_D})], ha="left", top=4.8)
    text(ax, 6.68, 4.7, "one round;", size=SMALL, color=GREY_D, ha="right")
    text(ax, 6.68, 4.5, "repeat", size=SMALL, color=GREY_D, ha="right")
    return fig


# --------------------------------------------------------------------------- chapter 06c


def _threshold_panel(ax, x, benign, malignant, t, title, show_legend):
    ax.fill_between(x, benign, where=x < t, color=BLUE_L, lw=0, label="benign, below t: true negative")
    ax.fill_between(x, malignant, where=x >= t, color=ORANGE_L, lw=0, alpha=0.8, label="malignant, above t: found")
    ax.fill_between(x, benign, where=x >= t, facecolor="none", edgecolor=BLUE, hatch="////", lw=0,
                    label="benign, above t: false alarm")
    ax.fill_between(x, malignant, where=x < t, facecolor="none", edgecolor=VERM, hatch="\\\\\\\\", lw=0,
                    label="malignant, below t: missed")
    ax.plot(x, benign, color=BLUE_D, lw=1.6)
    ax.plot(x, malignant, color=VERM_D, lw=1.6)
    ax.axvline(t, color=INK, lw=1.6)
    ax.text(t - 0.012, ax.get_ylim()[1] * 0.97, f"t = {t:.2f}", fontsize=FS, va="top", ha="right")
    ax.set_title(title, fontsize=FS, loc="left")
    ax.set_xlim(0, 1)
    ax.set_yticks([])
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    if show_legend:
        ax.legend(fontsize=SMALL, frameon=False, loc="upper right", bbox_to_anchor=(1.02, 1.0))


def _rates(x, benign, malignant, t):
    dx = x[1] - x[0]
    sens = malignant[x >= t].sum() * dx / (malignant.sum() * dx)
    spec = benign[x < t].sum() * dx / (benign.sum() * dx)
    return sens, spec


def threshold_tradeoff():
    """Chapter 06c: a threshold on two overlapping score distributions.

    Schematic score distributions (Beta densities chosen for the picture, not
    the book's model) of benign/normal and malignant images over the predicted
    p(malignant). Images above the threshold t are called malignant:
    sensitivity is the share of the malignant curve's area right of t,
    specificity the share of the benign area left of it (the numbers in the
    panel titles are computed from the drawn curves). Lowering t, here to the
    value that gives sensitivity 0.90 as the chapter's
    ``threshold_for_sensitivity`` does on validation data, finds more cancers
    and raises more false alarms. Drawn for this book.
    """
    fig = plt.figure(figsize=(6.4, 5.6))
    x = np.linspace(0.0005, 0.9995, 500)
    benign, malignant = beta_pdf(x, 2.2, 6.0), beta_pdf(x, 5.0, 2.6)
    malignant = malignant * 0.6  # fewer malignant images: 27 % in BreastMNIST's training split
    benign = benign * 1.6
    top = 1.05 * max(benign.max(), malignant.max())
    cum = np.cumsum(malignant[::-1])[::-1] / malignant.sum()
    t90 = float(x[np.nonzero(cum >= 0.9)[0][-1]])
    axes = [fig.add_axes((0.04, 0.55, 0.92, 0.34)), fig.add_axes((0.04, 0.11, 0.92, 0.34))]
    for a, t, label in ((axes[0], 0.5, "the default threshold"), (axes[1], t90, "threshold lowered")):
        a.set_ylim(0, top)
        sens, spec = _rates(x, benign, malignant, t)
        _threshold_panel(a, x, benign, malignant, t, f"{label}: sensitivity {sens:.2f}, specificity {spec:.2f}",
                         a is axes[0])
    axes[1].set_xlabel("predicted p(malignant)", fontsize=SMALL)
    fig.text(0.04, 0.965, "benign / normal (blue) and malignant (orange) images, by the score the model gives them",
             fontsize=SMALL, color=GREY_D)
    fig.text(0.04, 0.015, "schematic distributions; lowering t finds more cancers and raises more false alarms",
             fontsize=SMALL, color=GREY_D)
    return fig


# --------------------------------------------------------------------------- chapter 12


def parameters_and_multiply_adds():
    """Chapter 12: the two costs of a layer, parameters and multiply-adds.

    One 3 x 3 convolution with C = 32 channels in and K = 32 filters out (the
    width of ``medimgkit.models.improved_cnn``): its parameters, f * f * C * K
    weights plus K biases = 9,248, are stored once and do not depend on the
    image; its multiply-adds, H * W * K * (f * f * C), are paid per image,
    because every filter is applied at every output position (same padding).
    The table's numbers are computed here from those formulas and checked in
    the chapter against Keras layers: 7,225,344 on a 28 x 28 map, 451,584 on a
    7 x 7 map, and a dense layer 1,152 -> 2 (2,306 parameters, 2,304
    multiply-adds: each weight used once). Drawn for this book.
    """
    f, c, k = 3, 32, 32
    params = f * f * c * k + k
    fig, ax = canvas(6.8, 4.1)
    text(ax, 0.1, 3.92, f"one {f} × {f} convolution, C = {c} channels in, K = {k} filters out", size=FS,
         ha="left", weight="bold")
    # left: the filters, stored once
    for i in range(5):
        x0, y0 = 0.45 + i * 0.09, 2.05 + i * 0.09
        ax.add_patch(Rectangle((x0, y0), 0.6, 0.6, fc=BLUE_L, ec=BLUE_D, lw=0.9, zorder=2 + i))
        for j in (1, 2):
            ax.plot([x0 + 0.2 * j, x0 + 0.2 * j], [y0, y0 + 0.6], color=BLUE_D, lw=0.5, zorder=2 + i)
            ax.plot([x0, x0 + 0.6], [y0 + 0.2 * j, y0 + 0.2 * j], color=BLUE_D, lw=0.5, zorder=2 + i)
    text(ax, 0.1, 1.8, f"K = {k} filters, each {f} × {f} × {c}", size=SMALL, color=BLUE_D, ha="left")
    lines_in(ax, 1.6, 2.5, [("parameters: stored once", {"color": BLUE_D, "weight": "bold"}),
                             (r"$f \cdot f \cdot C \cdot K + K$", {}),
                             (f"= {params:,} numbers", {"size": SMALL}),
                             ("the same for any image size", {"size": SMALL, "color": GREY_D})], ha="left")
    # right: the feature map, the window at several positions
    gx, gy, cell, n = 5.2, 1.75, 0.18, 8
    for i in range(n + 1):
        ax.plot([gx + i * cell, gx + i * cell], [gy, gy + n * cell], color=GREY, lw=0.5, zorder=2)
        ax.plot([gx, gx + n * cell], [gy + i * cell, gy + i * cell], color=GREY, lw=0.5, zorder=2)
    for (col, row), colour in (((0, 5), ORANGE_D), ((3, 5), ORANGE), ((5, 2), ORANGE), ((2, 0), ORANGE)):
        ax.add_patch(Rectangle((gx + col * cell, gy + row * cell), 3 * cell, 3 * cell, fc=ORANGE_L, ec=colour,
                               lw=1.3, alpha=0.85, zorder=3))
    arrow(ax, (gx + 1.5 * cell, gy + 6.5 * cell), (gx + 4.3 * cell, gy + 6.5 * cell), color=ORANGE_D, lw=1.1)
    text(ax, gx + n * cell / 2, gy - 0.2, "H × W output positions", size=SMALL, color=GREY_D)
    lines_in(ax, 3.7, 2.5, [("multiply-adds:", {"color": VERM_D, "weight": "bold"}),
                              ("paid per image", {"color": VERM_D, "weight": "bold"}),
                              (r"$H \cdot W \cdot K \cdot (f \cdot f \cdot C)$", {}),
                              ("every filter at", {"size": SMALL, "color": GREY_D}),
                              ("every position", {"size": SMALL, "color": GREY_D})], ha="left")
    # the table
    rows = [("3 × 3 convolution on a 28 × 28 map", params, 28 * 28 * k * f * f * c),
            ("3 × 3 convolution on a 7 × 7 map", params, 7 * 7 * k * f * f * c),
            ("dense layer, 1,152 → 2 (each weight used once)", 1152 * 2 + 2, 1152 * 2)]
    top = 1.28
    text(ax, 4.6, top, "parameters", size=SMALL, color=BLUE_D, ha="right", weight="bold")
    text(ax, 6.6, top, "multiply-adds", size=SMALL, color=VERM_D, ha="right", weight="bold")
    ax.plot([0.1, 6.7], [top - 0.14, top - 0.14], color=GREY, lw=0.6)
    for i, (label, p, m) in enumerate(rows):
        y = top - 0.34 - i * 0.27
        text(ax, 0.1, y, label, size=SMALL, ha="left")
        text(ax, 4.6, y, f"{p:,}", size=SMALL, ha="right")
        text(ax, 6.6, y, f"{m / 1e6:.2f} million" if m > 1e5 else f"{m:,}", size=SMALL, ha="right")
    return fig


# --------------------------------------------------------------------------- chapter 13


def dataset_shift():
    """Chapter 13: dataset shift between training and deployment.

    Schematic, not measured. Top: the distribution of an image property (for
    example mean brightness) at the training hospital and at a new scanner
    with other settings. Middle and bottom: score distributions of benign and
    malignant images. The threshold t is chosen on the training hospital's
    validation images for sensitivity 0.90, as in the chapter; on the new
    scanner's images the scores slide and, at the same t, sensitivity and
    specificity move far more than the ranking (the AUC). All numbers in the
    titles are computed from the drawn curves. Drawn for this book from the
    chapter's experiment.
    """
    fig = plt.figure(figsize=(6.4, 6.8))
    x = np.linspace(0.0005, 0.9995, 500)
    a0 = fig.add_axes((0.04, 0.74, 0.92, 0.19))
    train_in, deploy_in = beta_pdf(x, 6, 9), beta_pdf(x, 9, 6.5)
    a0.fill_between(x, train_in, color=GREY_L, lw=0)
    a0.plot(x, train_in, color=INK, lw=1.6)
    a0.plot(x, deploy_in, color=PURPLE_D, lw=1.8, ls=(0, (5, 2)))
    a0.text(0.2, train_in.max() * 0.8, "training hospital", color=INK, fontsize=SMALL, ha="right")
    a0.text(0.78, deploy_in.max() * 0.8, "new scanner", color=PURPLE_D, fontsize=SMALL, ha="left")
    a0.set_title("an image property, e.g. mean brightness: the inputs change", fontsize=FS, loc="left")
    a0.set_xticks([])
    a0.set_yticks([])
    a0.set_xlim(0, 1)
    for side in ("top", "right", "left"):
        a0.spines[side].set_visible(False)

    def auc(benign, malignant):
        cb = np.cumsum(benign) / benign.sum()           # P(benign score <= x)
        return float((malignant / malignant.sum() * cb).sum())

    before = (beta_pdf(x, 2.2, 6.0) * 1.6, beta_pdf(x, 5.0, 2.6) * 0.6)
    after = (beta_pdf(x, 1.6, 7.5) * 1.6, beta_pdf(x, 3.2, 3.9) * 0.6)
    cum = np.cumsum(before[1][::-1])[::-1] / before[1].sum()
    t = float(x[np.nonzero(cum >= 0.9)[0][-1]])
    top = 1.05 * max(max(c.max() for c in before), max(c.max() for c in after))
    axes = [fig.add_axes((0.04, 0.42, 0.92, 0.21)), fig.add_axes((0.04, 0.1, 0.92, 0.21))]
    for a, (benign, malignant), label in ((axes[0], before, "training hospital, validation images"),
                                          (axes[1], after, "new scanner, same threshold")):
        a.set_ylim(0, top)
        sens, spec = _rates(x, benign, malignant, t)
        _threshold_panel(a, x, benign, malignant, t,
                         f"{label}: sensitivity {sens:.2f}, specificity {spec:.2f}, AUC {auc(benign, malignant):.2f}",
                         False)
    axes[0].text(0.97, 0.8 * top, "benign / normal", color=BLUE_D, fontsize=SMALL, ha="right")
    axes[0].text(0.97, 0.6 * top, "malignant", color=VERM_D, fontsize=SMALL, ha="right")
    axes[1].set_xlabel("predicted p(malignant)", fontsize=SMALL)
    fig.text(0.04, 0.965, "schematic, not measured; the threshold t is chosen for sensitivity 0.90 on validation",
             fontsize=SMALL, color=GREY_D)
    fig.text(0.04, 0.015, "the labels do not change, only the pictures: the scores slide past a fixed threshold",
             fontsize=SMALL, color=GREY_D)
    return fig


# --------------------------------------------------------------------------- chapter 02b


def confusion_rates():
    """Chapter 02b: the confusion matrix and the four rates read from it.

    Rows are the truth (malignant, the positive class, then benign/normal),
    columns the model's call at a threshold. Sensitivity and specificity are
    read along a row (a property of the test, whatever the prevalence); PPV
    and NPV down a column (they depend on how common the disease is). The
    formulas are the chapter's. Drawn for this book.
    """
    fig, ax = canvas(6.8, 4.3)
    x0, y0, cw, ch = 2.0, 0.75, 1.7, 1.0
    text(ax, x0 + cw, 3.95, "the model calls it …", weight="bold")
    text(ax, x0 + cw / 2, 3.55, "malignant", size=SMALL)
    text(ax, x0 + 1.5 * cw, 3.55, "benign", size=SMALL)
    text(ax, 0.35, y0 + 0.5 + ch, "truth", weight="bold", rotation=90)
    text(ax, 1.2, y0 + 1.5 * ch + 0.5, "malignant", size=SMALL)
    text(ax, 1.2, y0 + 1.5 * ch + 0.25, "(positive)", size=SMALL, color=GREY_D)
    text(ax, 1.2, y0 + 0.5 * ch + 0.5, "benign", size=SMALL)
    cells = [  # (col, row, label, meaning, fill, edge)
        (0, 1, "TP", "true positive", GREEN_L, GREEN_D),
        (1, 1, "FN", "missed cancer", VERM_L, VERM_D),
        (0, 0, "FP", "false alarm", ORANGE_L, ORANGE_D),
        (1, 0, "TN", "true negative", GREEN_L, GREEN_D),
    ]
    for col, row, label, meaning, fc, ec in cells:
        box(ax, x0 + col * cw + 0.04, y0 + row * ch + 0.04 + 0.5, cw - 0.08, ch - 0.08,
            [(label, {"weight": "bold", "size": TITLE}), (meaning, {"size": SMALL})], fc=fc, ec=ec)
    # rows: sensitivity and specificity
    rx = x0 + 2 * cw + 0.15
    text(ax, rx, y0 + 1.5 * ch + 0.58, "sensitivity", ha="left", color=BLUE_D, weight="bold")
    text(ax, rx, y0 + 1.5 * ch + 0.3, "TP / (TP + FN)", ha="left", size=SMALL)
    text(ax, rx, y0 + 0.5 * ch + 0.58, "specificity", ha="left", color=BLUE_D, weight="bold")
    text(ax, rx, y0 + 0.5 * ch + 0.3, "TN / (TN + FP)", ha="left", size=SMALL)
    # columns: PPV and NPV
    text(ax, x0 + 0.5 * cw, 0.95, "PPV", color=PURPLE_D, weight="bold")
    text(ax, x0 + 0.5 * cw, 0.68, "TP / (TP + FP)", size=SMALL)
    text(ax, x0 + 1.5 * cw, 0.95, "NPV", color=PURPLE_D, weight="bold")
    text(ax, x0 + 1.5 * cw, 0.68, "TN / (TN + FN)", size=SMALL)
    text(ax, 3.4, 0.25, "Along a row: a property of the test.  Down a column: also depends on prevalence.",
         size=SMALL, color=GREY_D)
    return fig


# --------------------------------------------------------------------------- chapters 07b and 07c


def segment_then_measure():
    """Chapter 07b: from an ultrasound image to a head circumference in millimetres.

    The chapter's chain: the U-Net predicts a head mask; an ellipse is fitted
    to the mask; Ramanujan's formula gives its perimeter in pixels; the
    image's pixel size (from the HC18 CSV, rescaled to the working resolution)
    turns it into millimetres, compared with the sonographer's reference. Dice
    compares the predicted mask with the annotated one. Drawn for this book.
    """
    fig, ax = canvas(6.8, 3.6)
    steps = [
        (["ultrasound", "image"], GREY_L, GREY_D),
        (["U-Net:", "head mask"], BLUE_L, BLUE_D),
        (["fit an", "ellipse"], ORANGE_L, ORANGE_D),
        (["perimeter", "(Ramanujan), px"], ORANGE_L, ORANGE_D),
        (["× mm per pixel", "= HC in mm"], GREEN_L, GREEN_D),
    ]
    w, h, gap, y = 1.18, 0.9, 0.2, 2.2
    for k, (lines, fc, ec) in enumerate(steps):
        x = 0.1 + k * (w + gap)
        box(ax, x, y, w, h, [(s, {"size": SMALL}) for s in lines], fc=fc, ec=ec)
        if k:
            arrow(ax, (x - gap + 0.02, y + h / 2), (x - 0.02, y + h / 2), lw=1.0, scale=9)
    box(ax, 0.1 + (w + gap), 0.55, w, 0.9, [("Dice", {"weight": "bold", "size": SMALL}),
                                            ("2|A∩B| / (|A|+|B|)", {"size": SMALL})], fc="white", ec=BLUE_D)
    arrow(ax, (0.1 + (w + gap) + w / 2, y - 0.02), (0.1 + (w + gap) + w / 2, 1.47), color=BLUE_D, lw=1.0, scale=9)
    text(ax, 0.1 + (w + gap) + w / 2 + 1.0, 1.0, "against the annotated mask", size=SMALL, ha="left", color=GREY_D)
    x_last = 0.1 + 4 * (w + gap)
    box(ax, x_last, 0.55, w, 0.9, [("mean abs. diff.", {"size": SMALL}), ("Bland–Altman", {"size": SMALL})],
        fc="white", ec=GREEN_D)
    arrow(ax, (x_last + w / 2, y - 0.02), (x_last + w / 2, 1.47), color=GREEN_D, lw=1.0, scale=9)
    text(ax, 3.4, 3.35, "Segment, then measure: the mask is the explanation", weight="bold")
    return fig


def image_to_tokens():
    """Chapter 07c: how a Vision Transformer reads an image.

    The chapter's ViT cuts a 28 x 28 image into 4 x 4 patches (a 7 x 7 grid,
    49 tokens), maps each patch linearly to a vector (the patch embedding),
    adds a learned position embedding, and passes the tokens through
    Transformer blocks: multi-head self-attention, in which every token looks
    at every other, then a small MLP, each with a residual connection. The
    tokens are averaged and a softmax layer classifies. Drawn for this book.
    """
    fig, ax = canvas(6.8, 3.9)
    # the image and its patch grid
    x0, y0, s = 0.15, 1.0, 1.75
    ax.add_patch(Rectangle((x0, y0), s, s, fc=GREY_L, ec=GREY_D, lw=1.0, zorder=1))
    for k in range(1, 7):
        ax.plot([x0 + k * s / 7] * 2, [y0, y0 + s], color=GREY, lw=0.6, zorder=2)
        ax.plot([x0, x0 + s], [y0 + k * s / 7] * 2, color=GREY, lw=0.6, zorder=2)
    text(ax, x0 + s / 2, y0 - 0.25, "28 × 28 image,", size=SMALL)
    text(ax, x0 + s / 2, y0 - 0.5, "7 × 7 patches of 4 × 4", size=SMALL)
    # tokens
    tx = 2.35
    for k in range(6):
        box(ax, tx, 0.9 + k * 0.33, 0.55, 0.24, None, fc=BLUE_L, ec=BLUE_D, lw=0.8)
    text(ax, tx + 0.27, 0.55, "49 tokens", size=SMALL)
    arrow(ax, (x0 + s + 0.05, y0 + s / 2), (tx - 0.05, y0 + s / 2), lw=1.0, scale=9)
    text(ax, 2.1, 3.3, "patch embedding", size=SMALL, color=BLUE_D)
    text(ax, 2.1, 3.05, "+ position embedding", size=SMALL, color=BLUE_D)
    # transformer blocks
    bx = 3.3
    box(ax, bx, 0.95, 2.0, 2.0, None, fc="white", ec=GREY_D, ls=(0, (3, 2)))
    box(ax, bx + 0.15, 2.05, 1.7, 0.65, [("multi-head", {"size": SMALL}), ("self-attention", {"size": SMALL})],
        fc=ORANGE_L, ec=ORANGE_D)
    box(ax, bx + 0.15, 1.15, 1.7, 0.65, [("MLP", {"size": SMALL})], fc=ORANGE_L, ec=ORANGE_D)
    arrow(ax, (bx + 1.0, 2.03), (bx + 1.0, 1.82), lw=1.0, scale=8)
    text(ax, bx + 1.0, 3.15, "Transformer block × depth", size=SMALL)
    arrow(ax, (tx + 0.6, y0 + s / 2), (bx - 0.05, y0 + s / 2), lw=1.0, scale=9)
    # head
    box(ax, 5.65, 1.55, 1.05, 0.8, [("average,", {"size": SMALL}), ("softmax", {"size": SMALL})],
        fc=GREEN_L, ec=GREEN_D)
    arrow(ax, (bx + 2.05, y0 + s / 2), (5.6, y0 + s / 2), lw=1.0, scale=9)
    text(ax, 3.4, 0.3, "Every token attends to every other: no built-in locality, unlike a convolution.",
         size=SMALL, color=GREY_D)
    return fig


def _iso(x, y, z, ox, oy, s):
    """A point of a volume (x right, y up, z into the page) drawn in oblique projection, ``s`` inches a voxel."""
    return ox + s * (x + 0.45 * z), oy + s * (y + 0.3 * z)


def _cube(ax, ox, oy, s, n, fc="white", ec=GREY_D, lw=0.9, z=2, alpha=1.0):
    """The three visible faces of an n x n x n block with its front-lower-left corner at (ox, oy)."""
    from matplotlib.patches import Polygon

    P = lambda x, y, zz: _iso(x, y, zz, ox, oy, s)  # noqa: E731
    faces = [
        [P(0, 0, 0), P(n, 0, 0), P(n, n, 0), P(0, n, 0)],      # front
        [P(0, n, 0), P(n, n, 0), P(n, n, n), P(0, n, n)],      # top
        [P(n, 0, 0), P(n, 0, n), P(n, n, n), P(n, n, 0)],      # right
    ]
    for face in faces:
        ax.add_patch(Polygon(face, closed=True, fc=fc, ec=ec, lw=lw, zorder=z, alpha=alpha))


def volume_inputs():
    """Chapter 07d: three ways to feed a volume to a CNN, and the 3 x 3 x 3 kernel of a 3-D convolution.

    A 28 x 28 x 28 AdrenalMNIST3D volume. Left, 2-D: its middle axial slice,
    one 28 x 28 channel, read by a 3 x 3 kernel with 9 C_in weights per
    output channel. Middle, 2.5-D: the axial, coronal and sagittal slices
    through its centre, stacked as the three channels of one 28 x 28 image
    (``medimgkit.data.orthogonal_slices``). Right, 3-D: the whole volume, read
    by a 3 x 3 x 3 kernel that slides along depth, height and width, with
    27 C_in weights per output channel (k^3 C_in C_out + C_out in all). The
    facts are those of the chapter's code and of ``medimgkit.models.cnn3d``.
    Drawn for this book.
    """
    from matplotlib.patches import Polygon

    fig, ax = canvas(6.95, 3.35)
    s, n = 0.042, 28            # inches per voxel, voxels a side
    y0 = 1.0
    # ---- 2-D: the middle axial slice
    x0 = 0.2
    ax.add_patch(Rectangle((x0, y0), n * s, n * s, fc=GREY_L, ec=GREY_D, lw=1.0, zorder=2))
    ax.add_patch(Rectangle((x0 + 12 * s, y0 + 13 * s), 3 * s, 3 * s, fc=BLUE, ec=BLUE_D, lw=1.0, zorder=3))
    text(ax, x0 + n * s / 2, 3.1, "2-D", weight="bold")
    lines_in(ax, x0 + n * s / 2 + 0.05, 0.55, [("middle slice: 28 × 28,", {"size": SMALL}),
                                       ("1 channel; 3 × 3 kernel", {"size": SMALL})])
    # ---- 2.5-D: three planes through the centre, then three channels
    ox = 1.7
    _cube(ax, ox, y0, s, n, fc="white", ec=GREY, lw=0.7, z=1)
    P = lambda x, y, z: _iso(x, y, z, ox, y0, s)  # noqa: E731
    c = n / 2
    planes = [
        ([P(0, 0, c), P(n, 0, c), P(n, n, c), P(0, n, c)], BLUE_L, BLUE_D),        # axial (constant depth)
        ([P(0, c, 0), P(n, c, 0), P(n, c, n), P(0, c, n)], ORANGE_L, ORANGE_D),    # coronal (constant height)
        ([P(c, 0, 0), P(c, 0, n), P(c, n, n), P(c, n, 0)], GREEN_L, GREEN_D),      # sagittal (constant width)
    ]
    for k, (poly, fc, ec) in enumerate(planes):
        ax.add_patch(Polygon(poly, closed=True, fc=fc, ec=ec, lw=1.0, alpha=0.75, zorder=2 + k))
    # the three slices stacked as channels
    sx = 3.78
    for k, (_, fc, ec) in enumerate(reversed(planes)):
        off = (2 - k) * 0.12
        ax.add_patch(Rectangle((sx + off, y0 + off), 0.78, 0.78, fc=fc, ec=ec, lw=1.0, zorder=3 + k))
    arrow(ax, (3.45, y0 + 0.6), (3.72, y0 + 0.6), lw=1.0, scale=9)
    text(ax, 3.2, 3.1, "2.5-D", weight="bold")
    lines_in(ax, 3.2, 0.55, [("axial, coronal, sagittal middle slices", {"size": SMALL}),
                             ("as 3 channels of one 28 × 28 image", {"size": SMALL})])
    # ---- 3-D: the whole volume and a 3 x 3 x 3 kernel inside it
    ox3 = 5.12
    _cube(ax, ox3, y0, s, n, fc=GREY_L, ec=GREY_D, lw=1.0, z=1)
    kx, ky = _iso(17, 12, 0, ox3, y0, s)
    _cube(ax, kx, ky, s * 1.0, 3, fc=BLUE, ec=BLUE_D, lw=0.9, z=4)
    a0 = _iso(20.5, 13.5, 1.5, ox3, y0, s)
    arrow(ax, a0, (a0[0] + 0.3, a0[1] + 0.08), color=BLUE_D, lw=1.1, scale=8)
    text(ax, 5.97, 3.1, "3-D", weight="bold")
    lines_in(ax, 5.97, 0.55, [("whole volume, 28 × 28 × 28;", {"size": SMALL}),
                              ("a 3 × 3 × 3 kernel slides", {"size": SMALL}),
                              ("along all three axes", {"size": SMALL})])
    text(ax, 3.47, 0.1, "weights per layer: 2-D and 2.5-D  k² · C_in · C_out + C_out;   3-D  k³ · C_in · C_out + C_out",
         size=SMALL, color=GREY_D)
    return fig


# --------------------------------------------------------------------------- registry and output

DIAGRAMS = {
    "composition_of_maps": composition_of_maps,
    "sliding_window": sliding_window,
    "confusion_rates": confusion_rates,
    "receptive_field": receptive_field,
    "handcrafted_vs_learned": handcrafted_vs_learned,
    "pipeline_and_splits": pipeline_and_splits,
    "training_step": training_step,
    "patient_axes": patient_axes,
    "leak_across_splits": leak_across_splits,
    "article_vs_improved_cnn": article_vs_improved_cnn,
    "cross_validation_folds": cross_validation_folds,
    "seeds_and_ensembles": seeds_and_ensembles,
    "ordinal_head": ordinal_head,
    "segment_then_measure": segment_then_measure,
    "image_to_tokens": image_to_tokens,
    "volume_inputs": volume_inputs,
    "regularisers": regularisers,
    "transfer_learning": transfer_learning,
    "gradcam_flow": gradcam_flow,
    "export_artefacts": export_artefacts,
    "fedavg_round": fedavg_round,
    "threshold_tradeoff": threshold_tradeoff,
    "parameters_and_multiply_adds": parameters_and_multiply_adds,
    "dataset_shift": dataset_shift,
}


def source_note(name: str) -> str:
    """The diagram's source note: its drawing function's docstring, as one paragraph per line."""
    doc = inspect.getdoc(DIAGRAMS[name]) or ""
    return "\n".join(" ".join(p.split()) for p in doc.split("\n\n"))


def _check(fig, name: str) -> None:
    width, _ = fig.get_size_inches()
    if width > MAX_WIDTH_IN + 1e-9:
        raise ValueError(f"{name}: {width:.2f} in wide; the page column holds {MAX_WIDTH_IN} in")
    bundled = Path(matplotlib.get_data_path()).resolve()
    for t in fig.findobj(Text):
        if not t.get_text().strip() or not t.get_visible():
            continue
        if t.get_fontsize() < MIN_FONT_PT - 1e-9:
            raise ValueError(f"{name}: text {t.get_text()!r} at {t.get_fontsize():g} pt (minimum {MIN_FONT_PT:g})")
        font = Path(font_manager.findfont(t.get_fontproperties(), fallback_to_default=False)).resolve()
        if bundled not in font.parents:
            raise ValueError(f"{name}: text {t.get_text()!r} uses {font}, not matplotlib's bundled fonts")


def draw(name: str, path: Path, fmt: str = "svg", dpi: int = 110) -> Path:
    """Draw one diagram into ``path`` (SVG, or PNG for previews)."""
    with matplotlib.rc_context(RC), warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*[Gg]lyph.*missing.*")
        warnings.filterwarnings("error", message=".*findfont.*")
        fig = DIAGRAMS[name]()
        try:
            _check(fig, name)
            meta = {"Date": None, "Title": f"{name} (Everything is a Mapping)", "Description": source_note(name)}
            if fmt == "svg":
                fig.savefig(path, format="svg", metadata=meta)
            else:
                fig.savefig(path, format=fmt, dpi=dpi)
        finally:
            plt.close(fig)
    return path


def build(out: Path = OUT, names=None, fmt: str = "svg") -> list[Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return [draw(name, out / f"{name}.{fmt}", fmt) for name in (names or DIAGRAMS)]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="diagrams to draw (default: all)")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the SVG files")
    parser.add_argument("--png", type=Path, default=None, help="write PNG previews to this folder instead")
    args = parser.parse_args(argv)
    unknown = set(args.names) - set(DIAGRAMS)
    if unknown:
        parser.error(f"unknown diagrams: {sorted(unknown)}; known: {sorted(DIAGRAMS)}")
    paths = build(args.png, args.names, "png") if args.png else build(args.out, args.names)
    for p in paths:
        print(p)


if __name__ == "__main__":
    main()
