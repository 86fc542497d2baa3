"""A small 3-D CNN for volumes, the ``Conv3D`` counterpart of ``improved_cnn``.

A ``Conv3D`` kernel of size ``k`` slides through depth, height and width at
once: it has ``k**3 * C_in * C_out`` weights (plus ``C_out`` biases, none
here since batch normalisation follows), three times the exponent of a
``Conv2D``'s ``k**2``. The receptive field grows along all three axes by the
same rule as in 2-D, ``r_l = r_(l-1) + (k_l - 1) * jump``.
"""

from __future__ import annotations

import keras
from keras import layers

from medimgkit.models import layers as names


def _check_volume_shape(input_shape) -> tuple[int, int, int, int]:
    try:
        shape = tuple(int(s) for s in input_shape)
    except (TypeError, ValueError):
        shape = ()
    if len(shape) != 4 or min(shape) < 1:
        fix = ("; that is a 2-D image shape (H, W, C) or a volume without its channel axis: "
               "pass e.g. (28, 28, 28, 1)" if len(shape) == 3 else "; pass e.g. (28, 28, 28, 1)")
        raise ValueError(f"input_shape: expected (depth, height, width, channels) with positive sizes, "
                         f"found {input_shape!r}{fix}")
    return shape  # type: ignore[return-value]


def _conv3d_block(x, filters: int, name: str, convs: int, seed: int):
    for i in range(1, convs + 1):
        init = keras.initializers.GlorotUniform(seed=seed + i)
        x = layers.Conv3D(filters, 3, padding="same", use_bias=False, kernel_initializer=init,
                          name=f"{name}_conv{i}")(x)
        x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn{i}")(x)
        x = layers.Activation("relu", name=f"{name}_relu{i}")(x)
    return layers.MaxPooling3D(2, name=f"{name}_pool")(x)


def cnn3d(
    input_shape: tuple[int, int, int, int] = (28, 28, 28, 1),
    num_classes: int = 2,
    width: int = 8,
    blocks: int = 3,
    convs: int = 1,
    dropout: float = 0.3,
    seed: int = 0,
) -> keras.Model:
    """A small 3-D CNN: conv-BN-ReLU blocks in 3-D, global average pooling, dropout, softmax.

    Each block is ``convs`` 3x3x3 convolutions (``padding="same"``, no bias)
    with batch normalisation and ReLU, then 2x2x2 max pooling; the width
    doubles per block. Global average pooling over depth, height and width
    replaces ``Flatten``, so the head has few parameters. Functional, with an
    explicit ``keras.Input`` (Grad-CAM needs the graph; ``explain.grad_cam``
    explains it in 3-D). No augmentation: add it outside if needed.

    Parameters
    ----------
    input_shape : (depth, height, width, channels)
        E.g. ``(28, 28, 28, 1)`` for a MedMNIST 3-D volume.
    num_classes : int
        Softmax outputs, at least 2.
    width : int
        Filters of the first block (then 2x, 4x, ...).
    blocks : int
        Pooling blocks; each side must hold ``2**blocks`` voxels.
    convs : int
        Convolutions per block (1 or 2; one keeps a CPU run short).
    dropout : float
        Dropout before the classifier, in [0, 1).
    seed : int
        Seeds every weight initialiser and the dropout (no global state is
        touched), so two calls with one seed build identical models.

    Returns
    -------
    keras.Model mapping float32 volumes ``(N, D, H, W, C)`` in [0, 1] to class
    probabilities, float32 ``(N, num_classes)``.

    Raises
    ------
    ValueError
        Naming the bad argument: a shape that is not ``(D, H, W, C)``, too
        many blocks for the volume, fewer than two classes, a width, block or
        conv count below one, or a dropout outside [0, 1).
    """
    shape = _check_volume_shape(input_shape)
    for arg, value in (("num_classes", num_classes), ("width", width), ("blocks", blocks), ("convs", convs)):
        if isinstance(value, bool) or not isinstance(value, int) or value < (2 if arg == "num_classes" else 1):
            raise ValueError(f"{arg}: expected an integer >= {2 if arg == 'num_classes' else 1}, found {value!r}")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout: expected a value in [0, 1), found {dropout!r}")
    if min(shape[:3]) < 2**blocks:
        raise ValueError(f"blocks: {blocks} poolings need at least {2**blocks} voxels a side, found a volume of "
                         f"{shape[:3]}; use fewer blocks or a larger volume")
    inputs = keras.Input(shape=shape, name=names.IMAGE)
    x = inputs
    for b in range(blocks):
        x = _conv3d_block(x, width * 2**b, name=names.block_name(b + 1), convs=convs, seed=seed + 10 * b)
    x = layers.GlobalAveragePooling3D(name=names.GLOBAL_POOL)(x)
    x = layers.Dropout(dropout, seed=seed, name=names.DROPOUT)(x)
    head = keras.initializers.GlorotUniform(seed=seed + 10 * blocks)
    outputs = layers.Dense(num_classes, activation="softmax", kernel_initializer=head, name=names.PROBABILITIES)(x)
    return keras.Model(inputs, outputs, name="cnn3d")
