"""Models: the article's CNN, the improved CNN, a 3-D CNN, transfer learning, an ordinal head, a U-Net and a small Vision Transformer.

Every model is a Keras 3 functional model with an explicit ``keras.Input``
(Grad-CAM needs the symbolic graph). Layers the package looks up by name are
named with the constants of ``medimgkit.models.layers``.

Modules
-------
``cnn``       ``article_cnn`` (the source article's model, as printed), ``improved_cnn``, ``augmentation``
``volume``    ``cnn3d``: a small 3-D CNN (``Conv3D`` blocks) for volumes ``(N, D, H, W, C)``
``transfer``  ImageNet backbones and reuse of a medimgkit CNN trained on another dataset
``ordinal``   a cumulative-link head for ordered grades
``segmentation`` ``unet``: a U-Net for binary segmentation (depth, width, batch norm)
``transformer`` ``vit``: a small Vision Transformer, and its attention maps (rollout)
``layers``    names of shared layers
"""

from medimgkit.models import layers  # noqa: F401  (the layer-name constants: models.layers.GLOBAL_POOL)
from medimgkit.models.cnn import article_cnn, augmentation, improved_cnn
from medimgkit.models.ordinal import CumulativeLink, ordinal_cnn
from medimgkit.models.segmentation import unet
from medimgkit.models.transfer import (
    BACKBONES,  # noqa: F401  (importable; documented in models.transfer)
    backbone_classifier,
    load_backbone,
    reuse_backbone,
    unfreeze,
)
from medimgkit.models.transformer import attention_rollout, vit
from medimgkit.models.volume import cnn3d

__all__ = [
    "CumulativeLink",
    "article_cnn",
    "augmentation",
    "backbone_classifier",
    "cnn3d",
    "improved_cnn",
    "load_backbone",
    "ordinal_cnn",
    "reuse_backbone",
    "unfreeze",
    "unet",
    "attention_rollout",
    "vit",
]
