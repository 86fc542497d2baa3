"""A U-Net (Ronneberger, Fischer and Brox, MICCAI 2015) for binary segmentation, in the functional API.

The encoder halves the resolution ``depth`` times and doubles the width each
time; the decoder upsamples back, concatenating the encoder's feature map of
the same resolution (the *skip connection*), so fine detail lost to pooling
comes back. The output is one probability per pixel.
"""

from __future__ import annotations

import keras
from keras import layers

from medimgkit.models import layers as names

__all__ = ["MASK", "unet"]

MASK = "mask"  #: name of the U-Net's output layer (per-pixel probability)


def _double_conv(x, filters: int, batch_norm: bool, name: str):
    for i in (1, 2):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=not batch_norm, name=f"{name}_conv{i}")(x)
        if batch_norm:
            x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn{i}")(x)  # moving averages that keep up in a short training
        x = layers.Activation("relu", name=f"{name}_relu{i}")(x)
    return x


def unet(
    input_shape: tuple[int, int, int] = (96, 128, 1),
    depth: int = 4,
    width: int = 16,
    batch_norm: bool = True,
    dropout: float = 0.0,
) -> keras.Model:
    """A U-Net that maps images ``(N, H, W, C)`` in [0, 1] to head probabilities ``(N, H, W, 1)``.

    Layers are named ``enc1_conv1`` ... (encoder), ``bottleneck_...``,
    ``dec1_...`` (decoder, coarsest first) and ``mask`` (the sigmoid output).

    Parameters
    ----------
    input_shape : (height, width, channels)
        Height and width must be divisible by ``2**depth``.
    depth : int
        Number of 2 x 2 poolings (and of upsamplings), ``>= 1``. Each adds a
        level whose receptive field is about twice as large.
    width : int
        Filters of the first level; level ``k`` has ``width * 2**k``.
    batch_norm : bool
        Batch normalisation after every convolution.
    dropout : float
        Dropout rate at the bottleneck (0 switches it off).
    """
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"input_shape must be (height, width, channels), got {input_shape!r}")
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ValueError(f"depth must be an integer >= 1, got {depth!r}")
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"width must be an integer >= 1, got {width!r}")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    step = 2**depth
    if shape[0] % step or shape[1] % step:
        raise ValueError(
            f"a U-Net of depth {depth} halves the image {depth} times, so height and width must be divisible by "
            f"{step}; got {shape[0]} x {shape[1]} (pad or resize the images, or lower the depth)"
        )
    inputs = keras.Input(shape=shape, name=names.IMAGE)
    x = inputs
    skips = []
    for level in range(depth):
        x = _double_conv(x, width * 2**level, batch_norm, f"enc{level + 1}")
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"enc{level + 1}_pool")(x)
    x = _double_conv(x, width * 2**depth, batch_norm, "bottleneck")
    if dropout:
        x = layers.Dropout(dropout, name="bottleneck_dropout")(x)
    for i, level in enumerate(reversed(range(depth))):
        filters = width * 2**level
        x = layers.Conv2DTranspose(filters, 2, strides=2, name=f"dec{i + 1}_up")(x)
        x = layers.Concatenate(name=f"dec{i + 1}_skip")([x, skips[level]])
        x = _double_conv(x, filters, batch_norm, f"dec{i + 1}")
    outputs = layers.Conv2D(1, 1, activation="sigmoid", dtype="float32", name=MASK)(x)
    return keras.Model(inputs, outputs, name="unet")
