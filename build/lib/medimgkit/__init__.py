"""medimgkit: the companion package of *Everything is a Mapping*.

Deep learning for medical image analysis with TensorFlow/Keras 3. Three kinds
of code, kept apart:

- **the kit** a course can reuse: ``config``, ``data``, ``io`` (DICOM, NIfTI,
  de-identification), ``transforms``, ``models``, ``train``, ``crossval``,
  ``metrics``, ``explain``, ``export``, ``plots``;
- **from scratch** (``medimgkit.scratch``): written by hand to teach one idea;
  in coursework use Keras or scikit-learn instead;
- **the book's experiments** (``medimgkit.experiments``): one chapter's
  experiment each, not an API.

Importing the package changes no process-wide setting; subpackages are
imported when used (``from medimgkit import data``).

Nothing in this package is a medical device or meant for clinical use.
"""

from __future__ import annotations

import os as _os

from medimgkit.config import data_dir, is_quick, quick, set_seed

__version__ = "0.2.0"

# Deprecated 0.1 module paths (``medimgkit.conv``, ...) resolve through the
# alias modules in _moved/ for one release; see medimgkit._moved.MOVED.
__path__.append(_os.path.join(_os.path.dirname(__file__), "_moved"))  # noqa: F821

__all__ = ["__version__", "data_dir", "is_quick", "quick", "set_seed"]
