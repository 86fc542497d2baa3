"""The percentile bootstrap over cases: the one resampling loop behind every interval in this package."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def bootstrap_samples(
    statistics: Callable[[np.ndarray], dict[str, float]],
    n: int,
    names: Sequence[str],
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Resample ``n`` cases with replacement ``n_boot`` times and collect ``statistics``.

    Parameters
    ----------
    statistics : callable
        Maps an int index array ``(n,)`` (the resampled cases) to a dict that
        holds a float for every name in ``names``.
    n : int
        Number of cases.
    names : sequence of str
        The statistics to collect.
    n_boot : int
        Bootstrap rounds, ``>= 0``.
    seed : int
        Seed of ``numpy.random.default_rng``; every round draws
        ``rng.integers(0, n, size=n)``.

    Returns
    -------
    dict mapping each name to a float64 array ``(n_boot,)``; a round whose
    statistic is undefined (e.g. one class missing from the resample) holds NaN.
    """
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise ValueError(f"n_boot must be an integer >= 0, got {n_boot!r}")
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive number of cases, got {n!r}")
    rng = np.random.default_rng(seed)
    samples = {k: np.full(int(n_boot), np.nan) for k in names}
    for b in range(int(n_boot)):
        values = statistics(rng.integers(0, n, size=n))
        for k in names:
            samples[k][b] = values[k]
    return samples


def percentile_interval(samples: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """The ``(1 - level) / 2`` and ``(1 + level) / 2`` percentiles of the finite samples.

    ``(nan, nan)`` when no sample is finite.
    """
    samples = np.asarray(samples, dtype=np.float64)
    finite = samples[np.isfinite(samples)]
    if not len(finite):
        return (float("nan"), float("nan"))
    tail = 100 * (1 - level) / 2
    return (float(np.percentile(finite, tail)), float(np.percentile(finite, 100 - tail)))


def bootstrap_ci(
    statistics: Callable[[np.ndarray], dict[str, float]],
    n: int,
    names: Sequence[str],
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, tuple[float, float]]:
    """Percentile-bootstrap confidence intervals of ``statistics`` over resampled cases.

    Example: the 95 % CI of a test set's accuracy::

        correct = (pred == truth)
        bootstrap_ci(lambda idx: {"accuracy": correct[idx].mean()}, len(correct), ["accuracy"])

    Rounds where a statistic is undefined (NaN) are left out of its interval.
    Returns ``{name: (low, high)}``.
    """
    samples = bootstrap_samples(statistics, n, names, n_boot, seed)
    return {k: percentile_interval(samples[k], level) for k in names}
