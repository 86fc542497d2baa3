"""medimgkit: the companion package of *Everything is a Mapping*.

Deep learning for medical image analysis with TensorFlow/Keras 3: data
loading with checksums, the book's models, seeded training, clinical metrics
with confidence intervals, Grad-CAM and plots.

Nothing in this package is a medical device or meant for clinical use.
"""

from __future__ import annotations

import os

# Keep TensorFlow's C++ start-up chatter out of notebooks and the rendered book.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from medimgkit.config import data_dir, is_quick, quick, set_seed  # noqa: E402

__version__ = "0.1.0"

__all__ = ["__version__", "data_dir", "is_quick", "quick", "set_seed"]
