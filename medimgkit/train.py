"""Seeded, reproducible training with validation-AUC early stopping."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np

from medimgkit._contract import class_labels, fits_model, fits_outputs, for_model, model_input, spatial_rank
from medimgkit.config import set_seed
from medimgkit.data.pipeline import as_dataset, class_weights
from medimgkit.metrics import roc_auc


class ValidationAUC(keras.callbacks.Callback):
    """Computes ROC AUC of the positive class (vs all others) on validation data after each epoch.

    The value is written to ``logs["val_auc"]`` so that a later callback
    (early stopping) and the history see it.
    """

    def __init__(self, x_val: np.ndarray, y_val: np.ndarray, positive: int = 1, batch_size: int = 256):
        super().__init__()
        self.x_val = x_val
        self.y_val = np.asarray(y_val)
        self.positive = positive
        self.batch_size = batch_size

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        strategy = getattr(self.model, "distribute_strategy", None)
        if getattr(strategy, "num_replicas_in_sync", 1) > 1:  # several devices: predict splits the batches
            probs = self.model.predict(self.x_val, batch_size=self.batch_size, verbose=0)
        else:
            # predict_on_batch, not predict: the same batches and so the same numbers, without the
            # per-call set-up of predict (about 0.07 s a call on a CPU, paid after every epoch); on
            # several replicas predict_on_batch returns every replica's rows, hence predict above
            n, size = len(self.x_val), self.batch_size
            probs = np.concatenate([np.asarray(self.model.predict_on_batch(self.x_val[i : i + size]))
                                    for i in range(0, n, size)])
        if probs.shape[-1] > 1:
            score = probs[:, self.positive]
        else:  # one sigmoid unit: the probability of label 1
            score = probs[:, 0] if self.positive == 1 else 1.0 - probs[:, 0]
        if logs is not None:
            # one-vs-rest, so multi-class models (e.g. 5 retinopathy grades) work too
            is_positive = (self.y_val.ravel() == self.positive).astype(np.int8)
            both = 0 < is_positive.sum() < len(is_positive)  # else undefined; fit says so before training
            logs["val_auc"] = roc_auc(is_positive, score, positive=1) if both else float("nan")


def get_strategy():
    """The best ``tf.distribute`` strategy here: TPU, several GPUs, or the default.

    On Colab with a TPU this returns a ``TPUStrategy``; with more than one GPU
    a ``MirroredStrategy``; otherwise the default (one device) strategy.
    """
    import tensorflow as tf

    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    except (ValueError, RuntimeError, tf.errors.NotFoundError):
        pass
    if len(tf.config.list_logical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def fit(
    build: Callable[[], keras.Model] | keras.Model,
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    *,
    epochs: int = 30,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    schedule: str | None = None,
    weight_decay: float = 0.0,
    label_smoothing: float = 0.0,
    mixup: float = 0.0,
    ema: float | None = None,
    balance: bool = True,
    patience: int | None = 10,
    positive: int = 1,
    seed: int = 0,
    strategy: Any = None,
    deterministic: bool = False,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: int = 0,
) -> tuple[keras.Model, keras.callbacks.History]:
    """Compile and train a classifier reproducibly.

    Parameters
    ----------
    build : callable returning an uncompiled ``keras.Model``, or a model
        A callable is called after seeding (and inside ``strategy.scope()``),
        so the initial weights are seeded too. Pass a callable when you use a
        strategy.
    train, val : (images, labels), or a ``FolderDataset`` from ``load_medical_folder``
        Images as the package's one input contract has them: uint8 in 0-255
        or float in [0, 1], ``(N, H, W)`` or ``(N, H, W, C)``, shaped for the
        model's input; for a 3-D model (a ``Conv3D`` network such as
        ``medimgkit.models.cnn3d``) volumes ``(N, D, H, W)`` or
        ``(N, D, H, W, C)``. The model's input decides which: volumes given
        to a 2-D model, or images to a 3-D one, are refused with a message
        naming both shapes and the fix; int labels ``(N,)``, one class index per image, within
        the model's outputs. Anything else is refused before training with a
        ``ValueError`` that says what was expected, what was found and how to
        fix it. The validation split must hold the positive class and at
        least one other, or its AUC is undefined every epoch: with early
        stopping that is an error (split by patient with stratification,
        ``medimgkit.data.patient_split(ids, labels=labels)``), with
        ``patience=None`` a warning.
    epochs, batch_size, learning_rate : training settings (Adam optimiser).
    schedule : None or "cosine"
        ``"cosine"`` decays the learning rate to zero over all epochs
        (Loshchilov & Hutter, ICLR 2017).
    weight_decay : float
        Decoupled weight decay (AdamW) when > 0.
    label_smoothing : float
        Softens the one-hot targets by this amount (Szegedy et al., CVPR 2016).
    mixup : float
        When > 0, trains on mixup batches (Zhang et al., ICLR 2018): each
        batch is blended with a shuffled copy of itself, images and one-hot
        targets alike, with a weight drawn from Beta(mixup, mixup). 0.2 to
        0.4 are common values.
    ema : float or None
        When given (e.g. 0.99), the optimiser keeps an exponential moving
        average of the weights with this momentum, and the returned model
        holds the averaged weights (Polyak averaging). Only with
        ``patience=None``: early stopping would restore raw weights.
    balance : bool
        Weight the loss by balanced class weights (see ``class_weights``).
    patience : int or None
        Stop when validation AUC has not improved for this many epochs and
        restore the best weights. ``None`` trains all epochs, keeping the last.
    positive : int
        The positive class for validation AUC (0 = malignant in BreastMNIST).
    seed : int
        Seeds Python, NumPy, TensorFlow and the shuffle order.
    deterministic : bool
        Also switch on TensorFlow's op determinism, so that two runs with the
        same seed on the same machine give identical weights. It is a
        process-wide setting, so ``fit`` leaves it alone unless asked; calling
        ``medimgkit.set_seed(seed)`` once at the top of a notebook does the
        same for everything after it.
    strategy : tf.distribute.Strategy, optional
        E.g. ``get_strategy()``; the model is built and compiled in its scope.
        Training on several devices (``MirroredStrategy``) matches training on
        one (``OneDeviceStrategy``) up to float rounding
        (``tests/test_strategy.py``). Given any strategy, Keras draws one batch
        to build the model before training, which advances the seeded shuffle
        by one epoch's order, so a run with a strategy is as reproducible as
        one without but does not see the same batches as ``strategy=None``.
    callbacks : sequence of ``keras.callbacks.Callback``
        More Keras callbacks, run after the book's own (the validation AUC,
        then early stopping), so they see ``val_auc`` in the epoch's logs:
        e.g. ``keras.callbacks.TensorBoard(log_dir)`` to follow the run in
        TensorBoard, or ``keras.callbacks.CSVLogger(path)``.

    Returns
    -------
    (model, history): the trained model and its Keras history, whose
    ``history.history["val_auc"]`` holds the validation AUC per epoch.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    if schedule not in (None, "cosine"):
        raise ValueError(f"schedule must be None or 'cosine', got {schedule!r}")
    if not 0 <= label_smoothing < 1:
        raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
    if mixup < 0:
        raise ValueError(f"mixup must be >= 0 (the Beta distribution's alpha), got {mixup}")
    if ema is not None and not 0 < ema < 1:
        raise ValueError(f"ema must be a momentum in (0, 1) or None, got {ema!r}")
    if ema is not None and patience is not None:
        raise ValueError(f"ema needs patience=None (no early stopping), got patience={patience!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    extra = [callbacks] if isinstance(callbacks, keras.callbacks.Callback) else list(callbacks)
    wrong = [type(c).__name__ for c in extra if not isinstance(c, keras.callbacks.Callback)]
    if wrong:
        raise TypeError(f"callbacks: expected keras.callbacks.Callback instances, found {wrong}; "
                        "pass e.g. [keras.callbacks.TensorBoard(log_dir)]")
    # The contract is checked before anything is built; whether four axes are images with channels or
    # volumes without them is settled by the model's input once the model exists (below).
    train_images, y_train, train_shape = _split(train, "train", keep_float=False, volumes=None)
    x_val, y_val, _ = _split(val, "val", volumes=None)
    positive = _check_validation(y_val, positive, patience)
    set_seed(seed, deterministic=deterministic)
    steps = epochs * int(np.ceil(len(y_train) / batch_size))
    lr = keras.optimizers.schedules.CosineDecay(learning_rate, steps) if schedule == "cosine" else learning_rate
    settings = {"learning_rate": lr, "weight_decay": weight_decay, "label_smoothing": label_smoothing,
                "one_hot": bool(label_smoothing or mixup), "ema": ema}
    if isinstance(build, keras.Model):
        if strategy is not None:
            raise ValueError("with a strategy, pass a callable that builds the model, not a built model")
        model = build
        _compile(model, **settings)
    elif callable(build):
        import contextlib

        scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
        with scope:
            model = build()
            _compile(model, **settings)
    else:
        raise TypeError(f"build must be a keras.Model or a callable, got {type(build).__name__}")
    rank = spatial_rank(model)
    if rank is not None and len(train_shape) - 2 != rank:  # e.g. (N, D, H, W) volumes for a Conv3D model
        shape = tuple(model.inputs[0].shape[1:])
        train_images, y_train, train_shape = _split(train, "train", keep_float=False, volumes=rank == 3,
                                                    model_shape=shape)
        x_val, y_val, _ = _split(val, "val", volumes=rank == 3, model_shape=shape)
    for x, y, split in ((np.broadcast_to(np.float32(0), train_shape), y_train, "train"), (x_val, y_val, "val")):
        fits_model(model, x, f"{split} images")
        classes = fits_outputs(model, y, f"{split} labels")
    if positive >= classes:
        raise ValueError(f"positive: expected one of the model's classes 0..{classes - 1}, found {positive}; "
                         "pass the label of the disease class")
    if strategy is None:  # with a strategy Keras builds them itself, in the strategy's scope
        prebuild(model, train_shape, one_hot=settings["one_hot"])
    train_ds = as_dataset(train_images, y_train, batch_size=batch_size, shuffle=True, seed=seed,
                          volumes=len(train_shape) == 5)
    val_targets = y_val
    if label_smoothing or mixup:
        import tensorflow as tf

        num_classes = model.outputs[0].shape[-1]
        train_ds = train_ds.map(lambda x, y: (x, tf.one_hot(y, num_classes)))
        if mixup:
            train_ds = train_ds.map(_mixup(mixup, seed))
        val_targets = keras.utils.to_categorical(y_val, num_classes)
    callbacks = [ValidationAUC(x_val, y_val, positive=positive)]
    if patience is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_auc", mode="max", patience=patience, restore_best_weights=True
            )
        )
    callbacks += extra
    history = model.fit(
        train_ds,
        validation_data=(x_val, val_targets),
        epochs=epochs,
        class_weight=class_weights(y_train) if balance else None,
        callbacks=callbacks,
        shuffle=False,  # the dataset shuffles itself, seeded
        verbose=verbose,
    )
    return model, history


def _split(
    data, split: str, keep_float: bool = True, volumes: bool | None = False, model_shape: tuple = ()
) -> tuple[np.ndarray, np.ndarray, tuple]:
    """``(images, labels, shape)`` of a split, checked against the input contract; a ``FolderDataset`` works too.

    The images come back as float32 in [0, 1] with a channel axis, or, with
    ``keep_float=False``, as they were given (checked, not kept twice in memory).
    ``volumes``: 2-D images (False), 3-D volumes (True), or five axes = volumes (None).
    """
    if hasattr(data, "images") and hasattr(data, "labels"):
        images, labels = data.images, data.labels
    else:
        try:
            images, labels = data
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{split}: expected a pair (images, labels) or a FolderDataset, found {type(data).__name__}; "
                f"pass {split}=(x, y)"
            ) from exc
    x = model_input(images, f"{split} images", volumes=volumes, model_shape=model_shape)
    y = class_labels(labels, f"{split} labels", n=len(x), images=f"{split} images")
    shape = x.shape
    if not keep_float:
        del x
        return images, y, shape
    return x, y, shape


def _check_validation(y_val: np.ndarray, positive, patience) -> int:
    """The positive class as an int; refuse (or, without early stopping, warn about) a validation split that cannot score."""
    if isinstance(positive, bool) or not isinstance(positive, (int, np.integer)):
        raise ValueError(f"positive: expected the integer label of the positive class, found {positive!r}")
    positive = int(positive)
    present = sorted(int(c) for c in np.unique(y_val))
    n_pos = int(np.sum(y_val == positive))
    if n_pos == 0 or n_pos == len(y_val):
        only = f"only class {present[0]}" if len(present) == 1 else f"no image of class {positive}"
        message = (
            f"val labels: expected the positive class {positive} and at least one other class for the validation "
            f"AUC, found {only} ({len(y_val)} images, labels {present}); the AUC is undefined (NaN) every epoch"
        )
        fix = ("split by patient with stratification, e.g. medimgkit.data.patient_split(patient_ids, "
               "labels=labels), so that every split holds both classes")
        if patience is not None:
            raise ValueError(f"{message}, so early stopping would end training without restoring weights; {fix}, "
                             "or pass patience=None to train a fixed number of epochs")
        warnings.warn(f"{message}; {fix}", stacklevel=3)
    return positive


def _mixup(alpha: float, seed: int):
    """A ``tf.data`` map that blends each batch with a shuffled copy of itself."""
    import tensorflow as tf

    def mix(x, y):
        g1 = tf.random.gamma([], alpha, seed=seed)
        g2 = tf.random.gamma([], alpha, seed=seed + 1)
        lam = g1 / (g1 + g2)  # Beta(alpha, alpha)
        order = tf.random.shuffle(tf.range(tf.shape(x)[0]), seed=seed + 2)
        return lam * x + (1 - lam) * tf.gather(x, order), lam * y + (1 - lam) * tf.gather(y, order)

    return mix


def prebuild(model: keras.Model, input_shape: tuple, one_hot: bool = False) -> None:
    """Create a compiled model's optimiser and metric variables before its first ``fit``.

    Without a distribution strategy Keras creates them while it traces the
    first training step, and TensorFlow traces a function that creates
    variables twice; built beforehand, the training step is traced once,
    which saves seconds per freshly built model on a CPU. The weights and the
    training are the same. ``input_shape`` is the images' shape (the first
    axis is ignored); ``one_hot`` says the targets are one-hot rows.
    """
    build = getattr(model, "_symbolic_build", None)  # Keras 3's own step when a strategy is given
    if build is None or model.optimizer is None:
        return
    x = np.zeros((1, *tuple(input_shape)[1:]), dtype=np.float32)
    if x.ndim == 3:
        x = x[..., None]  # (N, H, W) images get their channel axis, as model_input gives them
    classes = int(model.outputs[0].shape[-1])
    y = np.zeros((1, classes), dtype=np.float32) if one_hot else np.zeros((1,), dtype=np.int64)
    build(data_batch=(x, y, None))


def _compile(
    model: keras.Model, learning_rate, weight_decay: float = 0.0, label_smoothing: float = 0.0,
    one_hot: bool = False, ema: float | None = None,
) -> None:
    average = {"use_ema": True, "ema_momentum": ema} if ema is not None else {}
    optimizer = (
        keras.optimizers.AdamW(learning_rate, weight_decay=weight_decay, **average)
        if weight_decay
        else keras.optimizers.Adam(learning_rate, **average)
    )
    loss = (
        keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing)
        if one_hot
        else keras.losses.SparseCategoricalCrossentropy()
    )
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])


def predict_proba(model: keras.Model, images: np.ndarray, batch_size: int = 256, tta: bool = False) -> np.ndarray:
    """Class probabilities, float32 ``(N, num_classes)``, for uint8 (0-255) or float ([0, 1]) images.

    Images ``(N, H, W)`` or ``(N, H, W, C)``; for a 3-D model volumes
    ``(N, D, H, W)`` or ``(N, D, H, W, C)``. Images that break the input
    contract, or whose shape or number of axes does not match the model's
    input, are refused with a ``ValueError`` naming both shapes.

    With ``tta=True`` (test-time augmentation) the prediction is the mean over
    the image and its left-right mirror (the width axis); use it only where a
    mirrored image is a plausible patient (e.g. breast ultrasound, not chest X-ray).
    """
    x = for_model(model, images)
    probs = model.predict(x, batch_size=batch_size, verbose=0)
    if tta:
        probs = (probs + model.predict(x[..., ::-1, :], batch_size=batch_size, verbose=0)) / 2
    return probs
