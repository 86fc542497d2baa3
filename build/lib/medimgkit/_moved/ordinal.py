"""Deprecated: split in medimgkit 0.2 (this alias goes in 0.3).

The model (``CumulativeLink``, ``ordinal_cnn``) moved to
:mod:`medimgkit.models.ordinal`; the grading report (``grading_report``,
``format_grading_report``, ``predict_grades``, ``expected_grade``) to
:mod:`medimgkit.metrics.grading`.
"""

import warnings

from medimgkit.metrics.grading import (  # noqa: F401
    GRADING_METRICS,
    RULES,
    expected_grade,
    format_grading_report,
    grading_report,
    predict_grades,
)
from medimgkit.models.ordinal import CumulativeLink, ordinal_cnn  # noqa: F401

warnings.warn(
    "medimgkit.ordinal was split in medimgkit 0.2: import the model from medimgkit.models.ordinal and "
    "the grading report from medimgkit.metrics.grading (the old path goes in 0.3)",
    DeprecationWarning,
    stacklevel=2,
)
