"""Shared pieces of the benchmark scripts: machine facts, timing, output."""

from __future__ import annotations

import json
import os
import platform
import time
from contextlib import contextmanager
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict:
    import keras
    import numpy as np
    import tensorflow as tf

    import medimgkit

    return {
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "medimgkit": medimgkit.__version__,
        "gpus": len(tf.config.list_physical_devices("GPU")),
    }


@contextmanager
def timer(store: dict, key: str):
    start = time.perf_counter()
    yield
    store[key] = time.perf_counter() - start


def report(name: str, rows: list[dict], extra: dict | None = None) -> Path:
    """Print rows as a table and write them, with the machine facts, to results/<name>.json."""
    keys = list(dict.fromkeys(k for r in rows for k in r))
    widths = {k: max(len(k), *(len(_fmt(r.get(k))) for r in rows)) for k in keys}
    print(" | ".join(k.ljust(widths[k]) for k in keys))
    print("-+-".join("-" * widths[k] for k in keys))
    for r in rows:
        print(" | ".join(_fmt(r.get(k)).ljust(widths[k]) for k in keys))
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"benchmark": name, "machine": machine(), "rows": rows, **(extra or {})}
    path.write_text(json.dumps(payload, indent=2))
    print(f"\nwritten to {path}")
    return path


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 1000 else f"{v:.0f}"
    return "" if v is None else str(v)
