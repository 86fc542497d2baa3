"""Explanation: Grad-CAM, Grad-CAM++, input-gradient maps and the Adebayo sanity check.

Every method takes a trained Keras model and a batch of model-ready images
``(N, H, W, C)`` and returns one map per image, float32 ``(N, H, W)`` in
[0, 1]. They share one way of finding the last convolutional feature map
(a nested backbone counts as one layer) and the class score (the class
log-odds before the output activation): ``medimgkit.explain._features``.

Modules
-------
``gradcam``   ``grad_cam`` (batched, one gradient pass) and ``overlay``
``saliency``  ``grad_cam_plus_plus``, ``vanilla_gradient``, ``smoothgrad``, ``gradient_x_input``
``sanity``    model-randomisation test (Adebayo et al., NeurIPS 2018): ``sanity_check`` and friends
"""

from medimgkit.explain._features import find_last_conv_layer
from medimgkit.explain.gradcam import grad_cam, overlay
from medimgkit.explain.saliency import (
    grad_cam_plus_plus,
    gradient_x_input,
    predicted_class,
    smoothgrad,
    vanilla_gradient,
)
from medimgkit.explain.sanity import (
    METHODS,  # noqa: F401  (importable; documented in medimgkit.explain.sanity)
    cascading_randomisation,  # noqa: F401  (deprecated alias, not listed)
    cascading_randomization,
    kernel_layers,
    sanity_check,
    sanity_table,
    sanity_verdicts,
    spearman,
    ssim,
)

__all__ = [
    "cascading_randomization",
    "find_last_conv_layer",
    "grad_cam",
    "grad_cam_plus_plus",
    "gradient_x_input",
    "kernel_layers",
    "overlay",
    "predicted_class",
    "sanity_check",
    "sanity_table",
    "sanity_verdicts",
    "smoothgrad",
    "spearman",
    "ssim",
    "vanilla_gradient",
]
