"""Names of the layers the book's models share, so code finds them by constant, not by string.

``improved_cnn``, ``article_cnn``, ``backbone_classifier`` and
``reuse_backbone`` name their layers with these; ``explain``, ``transfer``
and ``ordinal`` look them up here.
"""

IMAGE = "image"                 #: the ``keras.Input``
AUGMENTATION = "augmentation"   #: the augmentation ``Sequential`` (active in training only)
BLOCK_PREFIX = "block"          #: conv blocks are ``block1_...``, ``block2_...``
GLOBAL_POOL = "gap"             #: global average pooling after the last block
DROPOUT = "dropout"             #: dropout before the classifier
PROBABILITIES = "probabilities"  #: the softmax ``Dense`` classifier
BACKBONE = "backbone"           #: the nested backbone of a transfer model


def block_name(index: int) -> str:
    """The name prefix of conv block ``index`` (1-based): ``block_name(1) == "block1"``."""
    return f"{BLOCK_PREFIX}{index}"
