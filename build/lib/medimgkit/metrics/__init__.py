"""Evaluation: clinical metrics with confidence intervals, graded scales, calibration, paired comparisons.

The positive class is always explicit. In BreastMNIST label 0 is
*malignant*; the book calls malignant the positive class, so a BreastMNIST
report is ``binary_report(y, p_malignant, positive=0)``.

Modules
-------
``binary``       ROC AUC and curve, sensitivity/specificity/PPV/NPV with CIs
``grading``      ordered grades: confusion matrix, quadratic-weighted kappa, macro AUC
``calibration``  thresholds (Youden, target sensitivity), reliability, ECE, Platt scaling
``compare``      two models on the same cases: the paired bootstrap of the AUC difference
``segmentation`` Dice, IoU and pixel accuracy per image with CIs; the Keras Dice loss and metrics
``agreement``    a measurement against its reference: mean absolute difference, bias, limits of agreement

Proportions (sensitivity, specificity, PPV, NPV, accuracy) get Wilson score
intervals (``wilson_interval``), which stay honest with few cases; every other
interval comes from one percentile bootstrap over cases (``bootstrap_ci``).
Every metric validates labels and scores the same way and reads a score
array the same way: ``(N,)`` is the positive class's score, ``(N, 1)`` a
sigmoid output (the probability of label 1), ``(N, C)`` class probabilities.
"""

from medimgkit.metrics._bootstrap import bootstrap_ci, bootstrap_samples, percentile_interval
from medimgkit.metrics.agreement import agreement_report
from medimgkit.metrics.binary import (
    METRICS,
    MIN_CASES,
    binary_report,
    format_report,
    reports_table,
    roc_auc,
    roc_curve,
    wilson_interval,
)
from medimgkit.metrics.calibration import (
    expected_calibration_error,
    platt_scaling,
    plot_reliability,
    reliability_curve,
    threshold_for_sensitivity,
    youden_threshold,
)
from medimgkit.metrics.compare import auc_difference
from medimgkit.metrics.grading import (
    GRADING_METRICS,
    RULES,
    confusion_matrix,
    expected_grade,
    format_grading_report,
    grading_report,
    macro_auc,
    predict_grades,
    quadratic_weighted_kappa,
)
from medimgkit.metrics.segmentation import (
    dice,
    dice_loss,
    dice_metric,
    iou,
    iou_metric,
    pixel_accuracy,
    segmentation_report,
)

__all__ = [
    "GRADING_METRICS",
    "METRICS",
    "MIN_CASES",
    "RULES",
    "auc_difference",
    "binary_report",
    "bootstrap_ci",
    "bootstrap_samples",
    "confusion_matrix",
    "expected_calibration_error",
    "expected_grade",
    "format_grading_report",
    "format_report",
    "grading_report",
    "macro_auc",
    "percentile_interval",
    "platt_scaling",
    "plot_reliability",
    "predict_grades",
    "quadratic_weighted_kappa",
    "reliability_curve",
    "reports_table",
    "roc_auc",
    "roc_curve",
    "threshold_for_sensitivity",
    "wilson_interval",
    "youden_threshold",
    # segmentation and measurement
    "agreement_report",
    "dice",
    "dice_loss",
    "dice_metric",
    "iou",
    "iou_metric",
    "pixel_accuracy",
    "segmentation_report",
]
