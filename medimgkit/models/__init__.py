"""Models: the article's CNN, the improved CNN, transfer learning, an ordinal head and a U-Net.

Every model is a Keras 3 functional model with an explicit ``keras.Input``
(Grad-CAM needs the symbolic graph). Layers the package looks up by name are
named with the constants of ``medimgkit.models.layers``.

Modules
-------
``cnn``       ``article_cnn`` (the source article's model, as printed), ``improved_cnn``, ``augmentation``
``transfer``  ImageNet backbones and reuse of a medimgkit CNN trained on another dataset
``ordinal``   a cumulative-link head for ordered grades
``unet``      a U-Net for binary segmentation (depth, width, batch norm)
``layers``    names of shared layers
"""

from medimgkit.models import layers  # noqa: F401  (the layer-name constants: models.layers.GLOBAL_POOL)
from medimgkit.models.cnn import article_cnn, augmentation, improved_cnn
from medimgkit.models.ordinal import CumulativeLink, ordinal_cnn
from medimgkit.models.transfer import (
    BACKBONES,  # noqa: F401  (importable; documented in models.transfer)
    backbone_classifier,
    load_backbone,
    reuse_backbone,
    unfreeze,
)
from medimgkit.models.unet import unet

__all__ = [
    "CumulativeLink",
    "article_cnn",
    "augmentation",
    "backbone_classifier",
    "improved_cnn",
    "load_backbone",
    "ordinal_cnn",
    "reuse_backbone",
    "unfreeze",
    "unet",
]
