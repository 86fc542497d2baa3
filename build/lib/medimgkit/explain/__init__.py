"""Explanation: Grad-CAM, Grad-CAM++, input-gradient maps and the Adebayo sanity check.

Every method takes a Keras model (functional or Sequential, on one
``keras.Input``; it may nest a backbone, have skip connections or several
outputs) and a batch of images, uint8 0-255 or float [0, 1] ``(N, H, W, C)``
(the package's input contract, ``medimgkit._contract.model_input``; volumes
``(N, D, H, W, C)`` for a 3-D model), and returns one map per image, float32
``(N, H, W)`` (``(N, D, H, W)``) in [0, 1]. ``output=`` (index or name,
default the first) chooses the model output to explain. They share one way
of finding the output's class score (the class log-odds before the output
activation) and the last convolutional feature map feeding it (a nested
backbone counts as one layer): ``medimgkit.explain._features``.

Modules
-------
``gradcam``   ``grad_cam`` (batched, one gradient pass; 2-D and 3-D) and ``overlay``
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
