"""Agreement of a measurement with a reference (Bland and Altman, *Lancet* 1986), with bootstrap CIs.

A measurement method is judged by how far it lies from the reference in the
measurement's own unit (mm), not by a correlation: two methods can correlate
at 0.99 and still differ by a clinically relevant amount. The report gives the
mean absolute difference, the mean difference (the bias) and the 95 % limits
of agreement ``bias +- 1.96 SD``, within which about 95 % of differences fall.
"""

from __future__ import annotations

import numpy as np

from medimgkit.metrics._bootstrap import bootstrap_ci

__all__ = ["agreement_report"]


def agreement_report(measured, reference, n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> dict:
    """How a measurement agrees with its reference, each summary with a percentile-bootstrap CI over cases.

    Parameters
    ----------
    measured, reference : float arrays (N,)
        The same quantity (e.g. head circumference in mm) for the same cases.

    Returns
    -------
    dict with ``n``, ``mean_abs_diff`` (mean of ``|measured - reference|``),
    ``bias`` (mean of ``measured - reference``), ``sd`` (their standard
    deviation), ``loa`` (``bias -+ 1.96 sd``), ``ci`` (a ``(low, high)``
    interval each for ``mean_abs_diff`` and ``bias``) and ``diff`` (the
    differences, array (N,)).
    """
    m = np.asarray(measured, dtype=np.float64).ravel()
    r = np.asarray(reference, dtype=np.float64).ravel()
    if len(m) != len(r):
        raise ValueError(f"measured has {len(m)} values but reference has {len(r)}; expected one measurement per reference")
    if len(m) < 2:
        raise ValueError(f"need at least 2 cases for an agreement report, got {len(m)}")
    for name, v in (("measured", m), ("reference", r)):
        bad = np.flatnonzero(~np.isfinite(v))
        if len(bad):
            raise ValueError(f"{name}[{bad[0]}] is {v[bad[0]]}; every value must be a finite number")
    diff = m - r
    sd = float(diff.std(ddof=1))
    bias = float(diff.mean())
    ci = bootstrap_ci(
        lambda idx: {"mean_abs_diff": np.abs(diff[idx]).mean(), "bias": diff[idx].mean()},
        len(diff), ["mean_abs_diff", "bias"], n_boot, seed, level,
    )
    return {
        "n": len(diff),
        "mean_abs_diff": float(np.abs(diff).mean()),
        "bias": bias,
        "sd": sd,
        "loa": (bias - 1.96 * sd, bias + 1.96 * sd),
        "ci": ci,
        "diff": diff,
    }
