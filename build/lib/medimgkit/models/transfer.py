"""Transfer learning: a Keras Applications backbone, or a medimgkit CNN, inside a new classifier.

``backbone_classifier`` wraps an ImageNet backbone (MobileNetV2 or
EfficientNetB0) for grey medical images: the grey channel is repeated to three,
scaled to the range the backbone was trained on, passed through the backbone
(kept as one nested layer), pooled and classified. Grad-CAM
(``medimgkit.explain.grad_cam``) explains the backbone's last feature map.

ImageNet weights are downloaded by Keras on first use (about 9 MB for
MobileNetV2, 16 MB for EfficientNetB0) and cached in ``~/.keras/models``.
Without a network connection the backbone falls back to random weights
(``weights=None``), warns, and records that in ``model.backbone_weights``, so
a notebook can say which one it trained.

``reuse_backbone`` needs no download: it copies the convolutional blocks of an
``improved_cnn`` trained on a large medical dataset (say chest X-rays) under a
new head for a small one. ``unfreeze`` starts the fine-tuning stage of either
kind of model, keeping batch norm frozen.
"""

from __future__ import annotations

import warnings

import keras
from keras import layers

from medimgkit.models import layers as names_

#: name -> (constructor name in keras.applications, scale, offset) turning [0, 1] pixels
#: into the backbone's expected input range.
BACKBONES: dict[str, tuple[str, float, float]] = {
    "mobilenetv2": ("MobileNetV2", 2.0, -1.0),  # expects [-1, 1]
    "efficientnetb0": ("EfficientNetB0", 255.0, 0.0),  # expects [0, 255]; normalises inside
}


def _check_head(num_classes: int, dropout: float) -> None:
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes}")
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")


def _head(features, num_classes: int, dropout: float, seed: int):
    """Global average pooling -> dropout -> Dense(softmax): the new classifier on a feature map."""
    x = layers.GlobalAveragePooling2D(name=names_.GLOBAL_POOL)(features)
    x = layers.Dropout(dropout, seed=seed, name=names_.DROPOUT)(x)
    return layers.Dense(num_classes, activation="softmax", name=names_.PROBABILITIES)(x)


def load_backbone(
    name: str = "mobilenetv2",
    input_shape: tuple[int, int, int] = (64, 64, 3),
    weights: str | None = "imagenet",
) -> tuple[keras.Model, str | None]:
    """A Keras Applications backbone without its classifier, and the weights it got.

    Parameters
    ----------
    name : ``"mobilenetv2"`` or ``"efficientnetb0"``
    input_shape : (height, width, 3), height and width at least 32
    weights : ``"imagenet"``, ``None`` or a path to a weights file
        When ``"imagenet"`` cannot be obtained (no network, blocked download),
        the backbone is built with random weights and a ``UserWarning`` says so.

    Returns
    -------
    (backbone, weights_used): ``weights_used`` is ``weights``, or ``None`` after a
    fallback. The backbone maps ``(N, H, W, 3)`` to a feature map ``(N, h, w, C)``.
    """
    key = str(name).lower()
    if key not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; expected one of {sorted(BACKBONES)}")
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3 or shape[2] != 3 or min(shape[:2]) < 32:
        raise ValueError(f"backbone input_shape must be (H, W, 3) with H, W >= 32, got {input_shape!r}")
    constructor = getattr(keras.applications, BACKBONES[key][0])
    if weights != "imagenet":
        return constructor(include_top=False, weights=weights, input_shape=shape), weights
    try:
        with warnings.catch_warnings():
            # Keras warns that 64 px is not one of its ImageNet sizes; the convolution
            # weights do not depend on the input size, so they load all the same.
            warnings.filterwarnings("ignore", message=".*input_shape.*")
            return constructor(include_top=False, weights="imagenet", input_shape=shape), "imagenet"
    except Exception as exc:  # noqa: BLE001 - any failure to fetch or read the weights file
        warnings.warn(
            f"ImageNet weights for {key} could not be loaded ({type(exc).__name__}: {exc}); "
            "falling back to weights=None: the backbone starts from RANDOM weights, "
            "so this is training from scratch, not transfer learning",
            UserWarning,
            stacklevel=3,
        )
        return constructor(include_top=False, weights=None, input_shape=shape), None


def backbone_classifier(
    input_shape: tuple[int, int, int] = (64, 64, 1),
    num_classes: int = 2,
    name: str = "mobilenetv2",
    weights: str | None = "imagenet",
    freeze: bool | None = None,
    dropout: float = 0.2,
    seed: int = 0,
) -> keras.Model:
    """A classifier on a nested Keras Applications backbone, for [0, 1] images.

    ``image (N, H, W, C) in [0, 1] -> [grey to RGB] -> rescale -> backbone ->
    global average pooling -> dropout -> Dense(softmax)``.

    Parameters
    ----------
    input_shape : (H, W, C) with C = 1 (grey, repeated to 3 channels) or 3
    num_classes : int
    name : ``"mobilenetv2"`` or ``"efficientnetb0"``
    weights : ``"imagenet"`` (falls back to ``None`` with a warning when it
        cannot be downloaded), ``None``, or a weights file path.
    freeze : bool or None
        Freeze the backbone (feature extraction: only the head trains, and its
        batch-norm layers stay in inference mode). ``None``: freeze exactly when
        pretrained weights were loaded; a random backbone must train. A
        *pretrained* backbone that is not frozen fine-tunes everything but its
        batch norm, which keeps the pretrained statistics (see :func:`unfreeze`).
    dropout : float in [0, 1)
    seed : int, seeds the dropout layer

    Returns
    -------
    keras.Model with output float32 ``(N, num_classes)`` probabilities. Its
    attribute ``backbone_weights`` is ``"imagenet"``, ``None`` (random) or the
    path used; ``backbone_frozen`` says whether the backbone trains.
    """
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3 or shape[2] not in (1, 3):
        raise ValueError(f"input_shape must be (H, W, 1) or (H, W, 3), got {input_shape!r}")
    _check_head(num_classes, dropout)
    backbone, used = load_backbone(name, (shape[0], shape[1], 3), weights)
    frozen = (used is not None) if freeze is None else bool(freeze)
    backbone.trainable = not frozen
    if used is not None and not frozen:
        _fine_tunable(backbone)
    _, scale, offset = BACKBONES[str(name).lower()]

    inputs = keras.Input(shape=shape, name=names_.IMAGE)
    x = layers.Concatenate(name="grey_to_rgb")([inputs] * 3) if shape[2] == 1 else inputs
    x = layers.Rescaling(scale, offset=offset, name="to_backbone_range")(x)
    # A frozen backbone's batch norm runs in inference mode because it is not
    # trainable; the training=False here alone would not do it (see _fine_tunable).
    x = backbone(x, training=False) if frozen else backbone(x)
    outputs = _head(x, num_classes, dropout, seed)
    model = keras.Model(inputs, outputs, name=f"{str(name).lower()}_classifier")
    model.backbone_weights = used
    model.backbone_frozen = frozen
    return model


def reuse_backbone(
    source: keras.Model,
    num_classes: int = 2,
    freeze: bool = True,
    dropout: float = 0.3,
    flip: str | None = "horizontal",
    seed: int = 0,
) -> keras.Model:
    """A new classifier on a copy of the convolutional blocks of a trained ``improved_cnn``.

    Transfer learning without a download: train
    :func:`medimgkit.models.improved_cnn` on a large medical dataset (the
    *source* task, e.g. 4,708 chest X-rays of PneumoniaMNIST), then reuse its
    blocks for a small one (e.g. BreastMNIST):

    ``image -> augmentation (new, with this task's ``flip``) -> backbone (copy of the
    source's blocks, nested) -> global average pooling -> dropout -> Dense(softmax)``.

    Parameters
    ----------
    source : a trained ``improved_cnn``; its weights are copied, never shared,
        so training the new model leaves ``source`` unchanged.
    num_classes : classes of the new task
    freeze : train only the new head (feature extraction); ``False`` fine-tunes
        everything but batch norm (use a learning rate about ten times lower).
        Either way the backbone's batch norm keeps the source's statistics.
        See :func:`unfreeze`.
    dropout : float in [0, 1)
    flip : the new task's augmentation flips (see :func:`medimgkit.models.augmentation`)
    seed : seeds the augmentation and dropout

    Returns
    -------
    keras.Model of the source's input shape with float32 ``(N, num_classes)``
    probabilities; ``backbone_frozen`` says whether the backbone trains, and
    ``model.get_layer("backbone")`` is the nested copy (Grad-CAM explains it).
    """
    from medimgkit.models.cnn import augmentation

    layer_names = [layer.name for layer in source.layers]
    first_block = names_.block_name(1) + "_"
    if names_.GLOBAL_POOL not in layer_names or not any(n.startswith(first_block) for n in layer_names):
        raise ValueError(
            f"source must be a medimgkit.models.improved_cnn (layers '{first_block}...' to "
            f"'{names_.GLOBAL_POOL}'), got layers {layer_names}"
        )
    _check_head(num_classes, dropout)
    copy = keras.models.clone_model(source)
    copy.set_weights(source.get_weights())
    start = layer_names.index(next(n for n in layer_names if n.startswith(first_block)))
    blocks = copy.layers[start : layer_names.index(names_.GLOBAL_POOL)]
    shape = tuple(source.inputs[0].shape[1:])
    b_in = keras.Input(shape=shape, name="features_in")
    x = b_in
    for layer in blocks:
        x = layer(x)
    backbone = keras.Model(b_in, x, name=names_.BACKBONE)
    if freeze:
        backbone.trainable = False
    else:
        _fine_tunable(backbone)

    inputs = keras.Input(shape=shape, name=names_.IMAGE)
    x = augmentation(seed, flip=flip)(inputs)
    x = backbone(x)
    outputs = _head(x, num_classes, dropout, seed)
    model = keras.Model(inputs, outputs, name="transferred_cnn")
    model.backbone_frozen = bool(freeze)
    return model


def unfreeze(model: keras.Model, top: int | None = None) -> keras.Model:
    """Let the nested backbone of a transfer model train (fine-tuning); returns the model.

    Works on :func:`reuse_backbone` and :func:`backbone_classifier` models.
    ``top=None`` unfreezes the whole backbone; ``top=20`` only its last 20
    layers, the usual choice for a large pretrained backbone such as
    MobileNetV2. Either way its batch-norm layers stay frozen, in inference
    mode, with the pretrained statistics and scales: re-estimating them from
    a few hundred images would shift every feature the head was trained on.

    The usual second stage of transfer learning: first train the new head on
    frozen features, then unfreeze and train with a learning rate about ten
    times lower. :func:`medimgkit.train.fit` recompiles the model, which is
    needed for the change to take effect.
    """
    nested = [layer for layer in model.layers  # an augmentation pipeline is a Sequential, not a backbone
              if isinstance(layer, keras.Model) and not isinstance(layer, keras.Sequential)]
    named = [layer for layer in nested if layer.name == names_.BACKBONE]
    if not (named or len(nested) == 1):
        raise ValueError(
            f"model {model.name!r} has no layer named 'backbone' nor one nested backbone; "
            "build it with reuse_backbone or backbone_classifier"
        )
    backbone = (named or nested)[0]
    if top is not None and (not isinstance(top, int) or not 1 <= top <= len(backbone.layers)):
        raise ValueError(f"top must be None or an int from 1 to {len(backbone.layers)} (the backbone's layers), got {top!r}")
    _fine_tunable(backbone)
    if top is not None:
        for layer in backbone.layers[: len(backbone.layers) - top]:
            layer.trainable = False
    model.backbone_frozen = False
    return model


def _fine_tunable(backbone: keras.Model) -> None:
    # Everything trains except batch norm: a non-trainable BatchNormalization
    # layer runs in inference mode in Keras 3, so it keeps the source's
    # statistics instead of re-estimating them from a few images. (Calling the
    # backbone with training=False does not do this: fit's training=True
    # overrides it.)
    backbone.trainable = True
    for layer in backbone.layers:
        if isinstance(layer, layers.BatchNormalization):
            layer.trainable = False
