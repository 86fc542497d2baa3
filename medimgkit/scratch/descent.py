"""Gradient descent on a loss surface you can draw: two parameters, exact theory.

The chapter *Loss and gradient descent* uses a least-squares loss of two
parameters, ``L(w) = mean((X w - y)^2)``. Its surface is a bowl whose
curvature (Hessian ``H = 2 X^T X / N``) is known exactly, so the theory of
gradient descent can be checked: plain gradient descent converges for every
start iff the learning rate is below ``2 / lambda_max(H)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LeastSquares:
    """The loss ``L(w) = mean((X w - y)^2)`` with its gradient and curvature.

    Build it with :func:`least_squares`. ``X`` is float64 ``(N, d)``, ``y``
    float64 ``(N,)``.
    """

    X: np.ndarray
    y: np.ndarray

    def loss(self, w: np.ndarray) -> np.ndarray:
        """Loss at ``w`` of shape ``(d,)``, or at many points ``(..., d)`` (returns ``(...)``)."""
        w = np.asarray(w, dtype=np.float64)
        residual = w @ self.X.T - self.y  # (..., N)
        return np.mean(residual**2, axis=-1)

    def grad(self, w: np.ndarray) -> np.ndarray:
        """Gradient ``2 X^T (X w - y) / N``, shape ``(d,)``."""
        w = np.asarray(w, dtype=np.float64)
        return 2.0 * self.X.T @ (self.X @ w - self.y) / len(self.y)

    @property
    def hessian(self) -> np.ndarray:
        """The constant Hessian ``2 X^T X / N``, shape ``(d, d)``."""
        return 2.0 * self.X.T @ self.X / len(self.y)

    @property
    def minimizer(self) -> np.ndarray:
        """The exact minimiser (least-squares solution), shape ``(d,)``."""
        return np.linalg.lstsq(self.X, self.y, rcond=None)[0]

    @property
    def max_stable_lr(self) -> float:
        """``2 / lambda_max(H)``: gradient descent diverges at or above this step size."""
        return float(2.0 / np.linalg.eigvalsh(self.hessian)[-1])


def least_squares(X: np.ndarray, y: np.ndarray) -> LeastSquares:
    """Wrap features ``X`` (N, d) and targets ``y`` (N,) as a :class:`LeastSquares` loss.

    Raises
    ------
    ValueError
        On mismatched shapes or non-finite values.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).ravel()
    if X.ndim != 2 or len(X) != len(y) or len(y) == 0:
        raise ValueError(f"X must be (N, d) and y (N,) with N > 0, got {X.shape} and {y.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ValueError("X and y must be finite")
    return LeastSquares(X, y)


def gradient_descent(
    grad: Callable[[np.ndarray], np.ndarray],
    start: np.ndarray,
    learning_rate: float,
    steps: int,
    max_norm: float = 1e6,
) -> np.ndarray:
    """Plain gradient descent ``w <- w - learning_rate * grad(w)``, recording the path.

    Parameters
    ----------
    grad : callable mapping ``(d,)`` to ``(d,)``
    start : array (d,), the first point
    learning_rate : float > 0
    steps : int >= 0
    max_norm : float
        Stop early once ``|w|`` exceeds this (the run has diverged).

    Returns
    -------
    float64 array (k + 1, d), the points visited; ``k == steps`` unless the
    run diverged and stopped early.
    """
    if learning_rate <= 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate}")
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    w = np.asarray(start, dtype=np.float64).copy()
    if w.ndim != 1:
        raise ValueError(f"start must be a 1-D point, got shape {w.shape}")
    path = [w.copy()]
    for _ in range(int(steps)):
        w = w - learning_rate * np.asarray(grad(w), dtype=np.float64)
        path.append(w.copy())
        if not np.all(np.isfinite(w)) or np.linalg.norm(w) > max_norm:
            break
    return np.array(path)


def loss_grid(
    loss: Callable[[np.ndarray], np.ndarray],
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    n: int = 100,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Evaluate a two-parameter loss on an ``n x n`` grid for contour plots.

    ``loss`` must accept points of shape ``(..., 2)`` (as
    :meth:`LeastSquares.loss` does). Returns ``(W0, W1, Z)``, each float64 ``(n, n)``.
    """
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    w0, w1 = np.meshgrid(np.linspace(*xlim, n), np.linspace(*ylim, n))
    z = np.asarray(loss(np.stack([w0, w1], axis=-1)), dtype=np.float64)
    if z.shape != w0.shape:
        raise ValueError(f"loss returned shape {z.shape} on a grid of shape {w0.shape}; it must vectorise")
    return w0, w1, z


def plot_descent(
    loss: Callable[[np.ndarray], np.ndarray],
    paths: dict[str, np.ndarray],
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    minimum: np.ndarray | None = None,
    ax=None,
    levels: int = 25,
):
    """Contours of a two-parameter loss with gradient-descent paths drawn on top.

    ``paths`` maps a legend label to a path ``(k + 1, 2)`` from
    :func:`gradient_descent`. Points outside the limits are clipped by the
    axes. Returns the figure, like every plotting function of medimgkit.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4.2))
    w0, w1, z = loss_grid(loss, xlim, ylim)
    ax.contour(w0, w1, np.log10(z - z.min() + 1e-3), levels=levels, cmap="viridis", linewidths=0.8)
    for label, path in paths.items():
        ax.plot(path[:, 0], path[:, 1], marker=".", markersize=4, linewidth=1, label=label)
    if minimum is not None:
        ax.plot(*np.asarray(minimum)[:2], marker="*", color="k", markersize=12, linestyle="none", label="minimum")
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    ax.set_xlabel("$w_0$")
    ax.set_ylabel("$w_1$")
    ax.legend(fontsize=8)
    return ax.figure
