"""Seeded, reproducible training with validation-AUC early stopping."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from medimgkit.config import set_seed
from medimgkit.data.pipeline import as_dataset, class_weights, to_float
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
        probs = self.model.predict(self.x_val, batch_size=self.batch_size, verbose=0)
        score = probs[:, self.positive] if probs.shape[-1] > 1 else probs[:, 0]
        if logs is not None:
            # one-vs-rest, so multi-class models (e.g. 5 retinopathy grades) work too
            is_positive = (self.y_val == self.positive).astype(np.int8)
            logs["val_auc"] = roc_auc(is_positive, score, positive=1)


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
    verbose: int = 0,
) -> tuple[keras.Model, keras.callbacks.History]:
    """Compile and train a classifier reproducibly.

    Parameters
    ----------
    build : callable returning an uncompiled ``keras.Model``, or a model
        A callable is called after seeding (and inside ``strategy.scope()``),
        so the initial weights are seeded too. Pass a callable when you use a
        strategy.
    train, val : (images, labels)
        uint8 images ``(N, H, W)`` or ``(N, H, W, C)`` and int labels ``(N,)``.
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
    set_seed(seed, deterministic=deterministic)
    steps = epochs * int(np.ceil(len(train[0]) / batch_size))
    lr = keras.optimizers.schedules.CosineDecay(learning_rate, steps) if schedule == "cosine" else learning_rate
    settings = {"learning_rate": lr, "weight_decay": weight_decay, "label_smoothing": label_smoothing,
                "one_hot": bool(label_smoothing or mixup), "ema": ema}
    x_val = to_float(val[0])
    y_val = np.asarray(val[1])
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
    train_ds = as_dataset(train[0], train[1], batch_size=batch_size, shuffle=True, seed=seed)
    val_targets = y_val
    if label_smoothing or mixup:
        import tensorflow as tf

        num_classes = model.outputs[0].shape[-1]
        train_ds = train_ds.map(lambda x, y: (x, tf.one_hot(y, num_classes)))
        if mixup:
            train_ds = train_ds.map(_mixup(mixup, seed))
        val_targets = keras.utils.to_categorical(y_val, num_classes)
    callbacks: list[keras.callbacks.Callback] = [ValidationAUC(x_val, y_val, positive=positive)]
    if patience is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_auc", mode="max", patience=patience, restore_best_weights=True
            )
        )
    history = model.fit(
        train_ds,
        validation_data=(x_val, val_targets),
        epochs=epochs,
        class_weight=class_weights(train[1]) if balance else None,
        callbacks=callbacks,
        shuffle=False,  # the dataset shuffles itself, seeded
        verbose=verbose,
    )
    return model, history


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
    """Class probabilities, float32 ``(N, num_classes)``, for uint8 images.

    With ``tta=True`` (test-time augmentation) the prediction is the mean over
    the image and its left-right mirror; use it only where a mirrored image is
    a plausible patient (e.g. breast ultrasound, not chest X-ray).
    """
    x = to_float(images)
    probs = model.predict(x, batch_size=batch_size, verbose=0)
    if tta:
        probs = (probs + model.predict(x[:, :, ::-1], batch_size=batch_size, verbose=0)) / 2
    return probs
