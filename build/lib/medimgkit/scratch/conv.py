"""Convolution arithmetic in NumPy: a reference ``conv2d``, pooling, sizes and receptive fields.

Everything here follows the layout of Keras and ``tf.nn.conv2d``: images are
``(N, H, W, C)`` ("channels last") and kernels ``(f_h, f_w, C, K)``. What deep
learning calls *convolution* is, strictly, **cross-correlation** (no kernel
flip)::

    Z[n, i, j, k] = b[k] + sum_{c=0}^{C-1} sum_{u=0}^{f-1} sum_{v=0}^{f-1}
                    X_pad[n, s*i + u, s*j + v, c] * K[u, v, c, k]

:func:`convolve2d` is the true convolution of signal processing (the kernel
rotated by 180 degrees first, see :func:`flip_kernel`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Union

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

Padding = Union[int, str]

# Largest window tensor (in elements) built at once; bigger batches are chunked.
_MAX_WINDOW_ELEMENTS = 2**24


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def pad_amounts(size: int, f: int, s: int = 1, padding: Padding = 0) -> tuple[int, int]:
    """Zero padding ``(before, after)`` along one axis, as Keras applies it.

    Parameters
    ----------
    size, f, s : int
        Input length, kernel (or pool) size, stride.
    padding : int or ``"valid"`` or ``"same"``
        An int ``p`` pads ``p`` on both sides. ``"valid"`` pads nothing.
        ``"same"`` pads just enough that the output has ``ceil(size / s)``
        entries, the odd pixel going *after* (as TensorFlow does).
    """
    size = _check_int("input size", size, 1)
    f = _check_int("kernel size", f, 1)
    s = _check_int("stride", s, 1)
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return 0, 0
        if mode == "same":
            out = -(-size // s)
            total = max((out - 1) * s + f - size, 0)
            return total // 2, total - total // 2
        raise ValueError(f"padding must be an int, 'valid' or 'same', got {padding!r}")
    p = _check_int("padding", padding, 0)
    return p, p


def output_size(w: int, f: int, s: int = 1, p: Padding = 0) -> int:
    """Output length of a convolution or pooling: ``floor((w - f + 2p) / s) + 1``.

    Parameters
    ----------
    w : int
        Input width (or height), ``>= 1``.
    f : int
        Kernel (or pool) size, ``>= 1``.
    s : int
        Stride, ``>= 1``.
    p : int or ``"valid"`` or ``"same"``
        Zero padding on each side; the strings mean what they mean in Keras.

    Raises
    ------
    ValueError
        If the kernel does not fit the padded input (``f > w + 2p``), or a
        size is not positive.
    """
    before, after = pad_amounts(w, f, s, p)
    if f > w + before + after:
        raise ValueError(
            f"a kernel of size f={f} does not fit an input of size w={w} with padding "
            f"{before}+{after}; need f <= w + 2p"
        )
    return (w + before + after - f) // s + 1


def conv_params(f: int, c: int, k: int, bias: bool = True) -> int:
    """Trainable parameters of a ``Conv2D`` layer: ``f*f*c*k`` weights plus ``k`` biases."""
    f = _check_int("f", f, 1)
    c = _check_int("c", c, 1)
    k = _check_int("k", k, 1)
    return f * f * c * k + (k if bias else 0)


def receptive_field(layers: Iterable[tuple[int, int]]) -> list[int]:
    """Receptive field (in input pixels) after each layer of a conv/pool stack.

    Parameters
    ----------
    layers : iterable of ``(kernel_size, stride)``
        One pair per convolution or pooling layer, input first.

    Returns
    -------
    list of int, one per layer: ``r_l = r_{l-1} + (f_l - 1) * prod_{m<l} s_m``
    with ``r_0 = 1``. The product of earlier strides is the *jump*, the
    distance in input pixels between neighbouring units of layer ``l - 1``.
    """
    r, jump, out = 1, 1, []
    for i, layer in enumerate(layers):
        try:
            f, s = layer
        except (TypeError, ValueError):
            raise ValueError(f"layer {i} must be a (kernel_size, stride) pair, got {layer!r}") from None
        f = _check_int(f"kernel size of layer {i}", f, 1)
        s = _check_int(f"stride of layer {i}", s, 1)
        r += (f - 1) * jump
        jump *= s
        out.append(r)
    return out


def _check_images(images) -> np.ndarray:
    x = np.asarray(images)
    if x.ndim != 4:
        raise ValueError(f"images must have shape (N, H, W, C), got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(
            f"images must be floating point, got dtype {x.dtype}; "
            "convert uint8 images with medimgkit.data.to_float"
        )
    return x


def _windows(x: np.ndarray, fh: int, fw: int, s: int, pads, fill: float) -> np.ndarray:
    (pt, pb), (pl, pr) = pads
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=fill)
    # (N, H', W', C, fh, fw): every f x f window, keeping every s-th one
    return sliding_window_view(xp, (fh, fw), axis=(1, 2))[:, ::s, ::s]


def conv2d(
    images: np.ndarray,
    kernels: np.ndarray,
    bias: np.ndarray | None = None,
    stride: int = 1,
    padding: Padding = 0,
) -> np.ndarray:
    """Multi-channel 2-D convolution (cross-correlation), as ``tf.nn.conv2d`` computes it.

    Parameters
    ----------
    images : float array ``(N, H, W, C)``
    kernels : float array ``(f_h, f_w, C, K)``
        The Keras ``Conv2D`` kernel layout: ``K`` filters of ``C`` channels.
    bias : float array ``(K,)``, optional
    stride : int
        The same step along height and width.
    padding : int or ``"valid"`` or ``"same"``
        Zero padding on each side, or a Keras padding mode.

    Returns
    -------
    float array ``(N, H', W', K)`` with ``H' = output_size(H, f_h, stride, padding)``
    (same for ``W'``), in the result dtype of ``images`` and ``kernels``.
    """
    x = _check_images(images)
    k = np.asarray(kernels)
    if k.ndim != 4:
        raise ValueError(f"kernels must have shape (f_h, f_w, C, K), got shape {k.shape}")
    fh, fw, c, n_out = k.shape
    if c != x.shape[3]:
        raise ValueError(f"kernels have {c} input channels but images have {x.shape[3]} (shapes {k.shape}, {x.shape})")
    s = _check_int("stride", stride, 1)
    pads = (pad_amounts(x.shape[1], fh, s, padding), pad_amounts(x.shape[2], fw, s, padding))
    out_h = output_size(x.shape[1], fh, s, padding)
    out_w = output_size(x.shape[2], fw, s, padding)
    dtype = np.result_type(x.dtype, k.dtype)
    out = np.empty((x.shape[0], out_h, out_w, n_out), dtype=dtype)
    chunk = max(1, _MAX_WINDOW_ELEMENTS // max(1, out_h * out_w * c * fh * fw))
    for start in range(0, x.shape[0], chunk):
        win = _windows(x[start : start + chunk], fh, fw, s, pads, 0.0)
        out[start : start + chunk] = np.einsum("nhwcuv,uvck->nhwk", win, k, optimize=True)
    if bias is not None:
        b = np.asarray(bias)
        if b.shape != (n_out,):
            raise ValueError(f"bias must have shape ({n_out},), one per output channel, got {b.shape}")
        out += b
    return out


def flip_kernel(kernels: np.ndarray) -> np.ndarray:
    """Rotate kernels by 180 degrees in their two spatial axes (the first two).

    Works for a single ``(f_h, f_w)`` kernel and for ``(f_h, f_w, C, K)`` stacks.
    Convolution is cross-correlation with the flipped kernel.
    """
    k = np.asarray(kernels)
    if k.ndim < 2:
        raise ValueError(f"a kernel needs two spatial axes, got shape {k.shape}")
    return k[::-1, ::-1, ...]


def convolve2d(
    images: np.ndarray,
    kernels: np.ndarray,
    bias: np.ndarray | None = None,
    stride: int = 1,
    padding: Padding = 0,
) -> np.ndarray:
    """True (signal-processing) convolution: :func:`conv2d` with flipped kernels.

    Same shapes and arguments as :func:`conv2d`. For one channel, ``padding=0``
    equals ``scipy.signal.convolve2d(..., mode="valid")`` and ``padding=f-1``
    equals ``mode="full"``.
    """
    return conv2d(images, flip_kernel(kernels), bias=bias, stride=stride, padding=padding)


def _pool(images, size: int, stride: int | None, padding: str, reduce: str) -> np.ndarray:
    x = _check_images(images)
    size = _check_int("pool size", size, 1)
    s = size if stride is None else _check_int("stride", stride, 1)
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"pool padding must be 'valid' or 'same', got {padding!r}")
    pads = (pad_amounts(x.shape[1], size, s, padding), pad_amounts(x.shape[2], size, s, padding))
    output_size(x.shape[1], size, s, padding)  # raises if the pool does not fit
    output_size(x.shape[2], size, s, padding)
    if reduce == "max":
        # padded cells never win: they hold -inf
        return _windows(x, size, size, s, pads, -np.inf).max(axis=(4, 5))
    total = _windows(x, size, size, s, pads, 0.0).sum(axis=(4, 5))
    ones = np.ones((1, x.shape[1], x.shape[2], 1), dtype=x.dtype)
    count = _windows(ones, size, size, s, pads, 0.0).sum(axis=(4, 5))
    return total / count  # padded cells are not counted, as in TensorFlow


def max_pool2d(images: np.ndarray, size: int = 2, stride: int | None = None, padding: str = "valid") -> np.ndarray:
    """Max pooling like ``keras.layers.MaxPooling2D``: the largest value of each window.

    Parameters
    ----------
    images : float array ``(N, H, W, C)``
    size : int
        Window side.
    stride : int, optional
        Step; defaults to ``size`` (non-overlapping windows), as in Keras.
    padding : ``"valid"`` or ``"same"``

    Returns
    -------
    float array ``(N, H', W', C)``, ``H' = output_size(H, size, stride, padding)``.
    """
    return _pool(images, size, stride, padding, "max")


def avg_pool2d(images: np.ndarray, size: int = 2, stride: int | None = None, padding: str = "valid") -> np.ndarray:
    """Average pooling like ``keras.layers.AveragePooling2D``; same arguments as :func:`max_pool2d`.

    With ``"same"`` padding the padded cells are left out of the average.
    """
    return _pool(images, size, stride, padding, "avg")
