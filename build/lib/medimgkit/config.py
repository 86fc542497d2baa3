"""Run-time settings read from the environment: quick mode, data folder, seeds.

Two environment variables steer every chapter of the book:

``MEDIMGKIT_QUICK``
    ``1`` (or ``true``/``yes``) switches *quick mode*: fewer epochs and less
    data, so the test suite and CI stay fast. Unset or ``0`` is *full mode*,
    used for the rendered book and on Colab. Both modes run the same code.
``MEDIMGKIT_DATA``
    The folder that caches downloaded datasets. Default
    ``~/.cache/medimgkit``.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import TypeVar

import numpy as np

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def is_quick() -> bool:
    """Return True when ``MEDIMGKIT_QUICK`` asks for quick mode.

    Raises
    ------
    ValueError
        If the variable holds something other than a yes/no value.
    """
    raw = os.environ.get("MEDIMGKIT_QUICK", "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValueError(
        f"MEDIMGKIT_QUICK={raw!r} is not understood; expected one of "
        f"{sorted(_TRUE | _FALSE - {''})} (or unset for full mode)"
    )


def quick(full: T, quick: T) -> T:
    """Pick a setting by mode: ``quick`` in quick mode, ``full`` otherwise.

    Notebooks write ``epochs = medimgkit.quick(full=30, quick=2)`` so that the
    same cell serves the rendered book and the CI run.
    """
    return quick if is_quick() else full


def data_dir() -> Path:
    """The dataset cache folder: ``$MEDIMGKIT_DATA`` or ``~/.cache/medimgkit``."""
    raw = os.environ.get("MEDIMGKIT_DATA")
    if raw:
        return Path(raw).expanduser()
    return Path.home() / ".cache" / "medimgkit"


def set_seed(seed: int = 0, deterministic: bool = True) -> None:
    """Seed Python, NumPy and TensorFlow; optionally make TF ops deterministic.

    With ``deterministic=True`` two seeded runs on the CPU give identical
    weights and metrics (TensorFlow's op determinism; it can be slower on GPU).
    """
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    import keras
    import tensorflow as tf

    random.seed(int(seed))
    np.random.seed(int(seed))
    keras.utils.set_random_seed(int(seed))
    if deterministic:
        tf.config.experimental.enable_op_determinism()
