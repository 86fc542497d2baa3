"""A small Vision Transformer (Dosovitskiy et al., ICLR 2021) in the functional API, and its attention maps.

The image is cut into ``patch_size`` x ``patch_size`` patches; each patch
becomes a vector (the *patch embedding*, a strided convolution), a learned
*position embedding* says where it came from, and ``depth`` Transformer
blocks let every patch attend to every other (multi-head self-attention,
then a small MLP, each with a residual connection and layer normalisation
first). The patch vectors are averaged and a softmax layer classifies.

Unlike a CNN, nothing in this architecture says that neighbouring pixels
belong together: the model must learn it from data, which is why Vision
Transformers need large datasets or pretraining.

:func:`attention_rollout` shows where the model looks: the attention of all
layers multiplied through (Abnar and Zuidema, ACL 2020).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops

from medimgkit.models import layers as names

__all__ = ["PositionEmbedding", "attention_rollout", "attention_scores", "vit"]

PATCHES = "patch_embedding"  #: the strided convolution that embeds the patches
ATTENTION = "attention"      #: attention layers are ``block1_attention``, ``block2_attention``, ...


@keras.saving.register_keras_serializable(package="medimgkit")
class PositionEmbedding(layers.Layer):
    """Adds a learned vector to each token: ``(N, tokens, dim) -> (N, tokens, dim)``."""

    def build(self, input_shape):
        self.embedding = self.add_weight(
            shape=(int(input_shape[-2]), int(input_shape[-1])),
            initializer=keras.initializers.RandomNormal(stddev=0.02),
            name="embedding",
        )

    def call(self, tokens):
        return tokens + ops.cast(self.embedding, tokens.dtype)


def vit(
    input_shape: tuple[int, int, int] = (28, 28, 1),
    num_classes: int = 2,
    patch_size: int = 4,
    dim: int = 64,
    depth: int = 4,
    heads: int = 4,
    mlp_dim: int = 128,
    dropout: float = 0.1,
    augment: bool = True,
    seed: int = 0,
) -> keras.Model:
    """A small Vision Transformer classifier; output: class probabilities ``(N, num_classes)``.

    Layers: ``image``, ``patch_embedding``, ``position_embedding``,
    ``block{k}_attention`` (``keras.layers.MultiHeadAttention``), ...,
    ``probabilities``.

    Parameters
    ----------
    input_shape : (height, width, channels), both sides divisible by ``patch_size``
    patch_size : side of the square patches (28 px and 4 give 7 x 7 = 49 tokens)
    dim : length of each token vector; must be divisible by ``heads``
    depth : number of Transformer blocks
    heads : attention heads per block
    mlp_dim : hidden units of each block's MLP
    dropout : dropout in the MLPs and before the classifier
    augment : the same light augmentation as :func:`medimgkit.models.improved_cnn`
    """
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"input_shape must be (height, width, channels), got {input_shape!r}")
    if patch_size < 1 or shape[0] % patch_size or shape[1] % patch_size:
        raise ValueError(f"height and width ({shape[0]} x {shape[1]}) must be divisible by patch_size={patch_size}")
    if dim % heads:
        raise ValueError(f"dim={dim} must be divisible by heads={heads}")
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    grid = (shape[0] // patch_size, shape[1] // patch_size)
    inputs = keras.Input(shape=shape, name=names.IMAGE)
    x = inputs
    if augment:
        from medimgkit.models.cnn import augmentation

        x = augmentation(seed)(x)
    x = layers.Conv2D(dim, patch_size, strides=patch_size, name=PATCHES)(x)
    x = layers.Reshape((grid[0] * grid[1], dim), name="tokens")(x)
    x = PositionEmbedding(name="position_embedding")(x)
    for k in range(1, depth + 1):
        h = layers.LayerNormalization(epsilon=1e-6, name=f"block{k}_norm1")(x)
        attention = layers.MultiHeadAttention(heads, dim // heads, seed=seed, name=f"block{k}_{ATTENTION}")
        h, _ = attention(h, h, return_attention_scores=True)  # the weights stay in the graph for attention_scores
        x = layers.Add(name=f"block{k}_add1")([x, h])
        h = layers.LayerNormalization(epsilon=1e-6, name=f"block{k}_norm2")(x)
        h = layers.Dense(mlp_dim, activation="gelu", name=f"block{k}_mlp1")(h)
        h = layers.Dropout(dropout, seed=seed, name=f"block{k}_drop")(h)
        h = layers.Dense(dim, name=f"block{k}_mlp2")(h)
        x = layers.Add(name=f"block{k}_add2")([x, h])
    x = layers.LayerNormalization(epsilon=1e-6, name="norm")(x)
    x = layers.GlobalAveragePooling1D(name=names.GLOBAL_POOL)(x)
    x = layers.Dropout(dropout, seed=seed, name=names.DROPOUT)(x)
    outputs = layers.Dense(num_classes, activation="softmax", name=names.PROBABILITIES)(x)
    model = keras.Model(inputs, outputs, name="vit")
    model.patch_grid = grid  # used by attention_rollout
    return model


def _attention_layers(model: keras.Model) -> list:
    found = [layer for layer in model.layers if isinstance(layer, layers.MultiHeadAttention)]
    if not found:
        raise ValueError(f"model {model.name!r} has no MultiHeadAttention layer; expected a model built by medimgkit.models.vit")
    return found


def attention_scores(model: keras.Model, images, batch_size: int = 256) -> list[np.ndarray]:
    """Each block's attention weights for ``images``: a list of ``(N, heads, tokens, tokens)`` arrays.

    Row ``i`` of a head's matrix is how patch ``i`` spreads its attention over
    all patches (each row sums to 1). Computed in inference mode (no
    augmentation, no dropout) by a model that shares the ViT's layers.
    """
    from medimgkit._contract import model_input

    x = model_input(images)
    found = _attention_layers(model)
    outputs = [layer.output[1] if isinstance(layer.output, (list, tuple)) else None for layer in found]
    if any(o is None for o in outputs):
        raise ValueError(f"the attention layers of {model.name!r} were not called with return_attention_scores=True; "
                         "build the model with medimgkit.models.vit")
    probe = keras.Model(model.inputs[0], outputs)
    scores = probe.predict(x, batch_size=batch_size, verbose=0)
    return list(scores) if isinstance(scores, (list, tuple)) else [scores]


def attention_rollout(model: keras.Model, images, discard_ratio: float = 0.0) -> np.ndarray:
    """Attention rollout maps in [0, 1], ``(N, H, W)`` like the images.

    Per block the heads' attention is averaged, the identity is added (the
    residual connection) and rows are renormalised; the blocks' matrices are
    multiplied from the first to the last. With no class token, a patch's
    importance is the attention it receives, averaged over all patches. The
    patch grid is upsampled to the image size (nearest neighbour) and scaled
    to [0, 1] per image.
    """
    if not 0 <= discard_ratio < 1:
        raise ValueError(f"discard_ratio must be in [0, 1), got {discard_ratio!r}")
    scores = attention_scores(model, images)
    n, _, tokens, _ = scores[0].shape
    rollout = np.broadcast_to(np.eye(tokens), (n, tokens, tokens)).copy()
    for s in scores:
        a = s.mean(axis=1)
        if discard_ratio:
            cut = np.quantile(a, discard_ratio, axis=(1, 2), keepdims=True)
            a = np.where(a < cut, 0.0, a)
        a = a + np.eye(tokens)
        a = a / a.sum(axis=-1, keepdims=True)
        rollout = a @ rollout
    importance = rollout.mean(axis=1)  # attention received, averaged over the query patches
    grid = getattr(model, "patch_grid", None) or (int(np.sqrt(tokens)),) * 2
    maps = importance.reshape(n, *grid)
    h, w = model.inputs[0].shape[1:3]
    maps = np.repeat(np.repeat(maps, h // grid[0], axis=1), w // grid[1], axis=2)
    lo, hi = maps.min(axis=(1, 2), keepdims=True), maps.max(axis=(1, 2), keepdims=True)
    return ((maps - lo) / np.where(hi > lo, hi - lo, 1.0)).astype(np.float32)
