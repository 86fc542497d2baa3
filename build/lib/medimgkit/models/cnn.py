"""The book's models, built with the functional API and an explicit ``keras.Input``.

An explicit input gives every layer a symbolic output, which Grad-CAM needs
to connect a convolutional feature map to the prediction.
"""

from __future__ import annotations

import keras
from keras import layers

from medimgkit.models import layers as names


def _check_shape(input_shape: tuple[int, ...]) -> tuple[int, int, int]:
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(f"input_shape must be (height, width, channels), got {input_shape!r}")
    return shape  # type: ignore[return-value]


def article_cnn(input_shape: tuple[int, int, int] = (28, 28, 1), num_classes: int = 2) -> keras.Model:
    """The source article's CNN exactly as printed, kept as the baseline.

    ``Conv2D(32, 3x3, relu) -> MaxPooling2D(2) -> Flatten -> Dense(2, softmax)``.
    One convolution layer (the article's text says two). Output: class
    probabilities, float32 ``(N, num_classes)``.
    """
    shape = _check_shape(input_shape)
    inputs = keras.Input(shape=shape, name=names.IMAGE)
    x = layers.Conv2D(32, (3, 3), activation="relu", name="conv")(inputs)
    x = layers.MaxPooling2D((2, 2), name="pool")(x)
    x = layers.Flatten(name="flatten")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name=names.PROBABILITIES)(x)
    return keras.Model(inputs, outputs, name="article_cnn")


def augmentation(
    seed: int = 0, rotation: float = 0.05, contrast: float = 0.2, zoom: float = 0.0, flip: str | None = "horizontal"
) -> keras.Sequential:
    """Light augmentation for breast ultrasound in [0, 1]; active in training only.

    Horizontal flips (in ultrasound the horizontal axis is the transducer's
    lateral axis, so a mirrored frame is the same anatomy with the probe
    turned round), rotations of up to ``rotation`` turns (0.05 = 18 degrees), shifts of up to
    8 % and contrast changes; ``zoom > 0`` adds random zooms of up to that
    fraction. No vertical flip: anatomy has an up and a down. Pass
    ``flip=None`` where a mirror image is not a plausible patient, such as a
    chest X-ray (the heart would be on the wrong side).
    A preset of :func:`medimgkit.transforms.medical_augmentation`.
    """
    from medimgkit.transforms import medical_augmentation

    return medical_augmentation(
        seed, flip=flip, rotation=rotation, translation=0.08, contrast=contrast, zoom=zoom,
        value_range=(0.0, 1.0),
    )


def _conv_block(x, filters: int, name: str, regularizer=None):
    for i in (1, 2):
        x = layers.Conv2D(
            filters, 3, padding="same", use_bias=False, kernel_regularizer=regularizer, name=f"{name}_conv{i}"
        )(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn{i}")(x)
        x = layers.Activation("relu", name=f"{name}_relu{i}")(x)
    return layers.MaxPooling2D(2, name=f"{name}_pool")(x)


def improved_cnn(
    input_shape: tuple[int, int, int] = (28, 28, 1),
    num_classes: int = 2,
    width: int = 32,
    blocks: int = 3,
    dropout: float = 0.3,
    augment: bool = True,
    seed: int = 0,
    l2: float = 0.0,
    zoom: float = 0.0,
    flip: str | None = "horizontal",
) -> keras.Model:
    """A stronger CNN: augmentation, conv-BN-ReLU blocks, global pooling, dropout.

    Each block is two 3x3 convolutions with batch normalisation and ReLU, then
    2x2 max pooling; the width doubles per block. Global average pooling
    replaces ``Flatten`` so the head has few parameters. Output: class
    probabilities, float32 ``(N, num_classes)``.

    ``dropout=0`` and ``augment=False`` switch those regularisers off; ``l2 > 0``
    adds ``l2 * sum(w**2)`` of every convolution and dense kernel to the loss;
    ``zoom > 0`` adds random zooms to the augmentation and ``flip=None`` takes
    its left-right flips out, for images whose mirror is not a plausible
    patient, such as chest X-rays (see :func:`augmentation`).
    """
    shape = _check_shape(input_shape)
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    if l2 < 0:
        raise ValueError(f"l2 must be >= 0, got {l2!r}")
    reg = keras.regularizers.L2(l2) if l2 > 0 else None
    if blocks < 1 or min(shape[:2]) < 2**blocks:
        raise ValueError(f"{blocks} pooling blocks do not fit an input of {shape[:2]} pixels")
    inputs = keras.Input(shape=shape, name=names.IMAGE)
    x = augmentation(seed, zoom=zoom, flip=flip)(inputs) if augment else inputs
    for b in range(blocks):
        x = _conv_block(x, width * 2**b, name=names.block_name(b + 1), regularizer=reg)
    x = layers.GlobalAveragePooling2D(name=names.GLOBAL_POOL)(x)
    x = layers.Dropout(dropout, seed=seed, name=names.DROPOUT)(x)
    outputs = layers.Dense(num_classes, activation="softmax", kernel_regularizer=reg, name=names.PROBABILITIES)(x)
    return keras.Model(inputs, outputs, name="improved_cnn")
