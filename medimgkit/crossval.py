"""k-fold cross-validation: out-of-fold predictions for every labelled image.

A validation split of 78 images (BreastMNIST's) scores a model on 78 cases:
two seeds of the same recipe can differ there by 0.05 AUC. Cross-validation
uses every labelled image that is *not* in the test split: it deals them into
``folds`` stratified parts, trains one network per part on all the others and
predicts the part it did not see. Each image then has an *out-of-fold*
probability from a model that never trained on it, and a setting is scored
on all of them (624 BreastMNIST images instead of 78).

Training uses a fixed epoch budget (``patience=None``): early stopping on the
held-out part would choose the epoch on the very images that are scored.
With patient identifiers, every patient's images fall in one part
(:func:`medimgkit.data.patient_kfold`), so no patient is both trained on and
scored.

    >>> from medimgkit import crossval, data, models
    >>> (x, y) = crossval.pool(data.load_medmnist_splits("breastmnist", 28))         # doctest: +SKIP
    >>> cv = crossval.cross_val_predict(lambda: models.improved_cnn((28, 28, 1)), x, y,
    ...                                 folds=5, positive=0, epochs=40)              # doctest: +SKIP
    >>> cv.auc                                                                        # doctest: +SKIP

Nothing here is for clinical use.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from medimgkit._contract import class_labels, model_input
from medimgkit.metrics import roc_auc


@dataclass
class CrossValidation:
    """The result of :func:`cross_val_predict`.

    Attributes
    ----------
    probs : float32 ``(N, num_classes)``, each row predicted by the one model
        that did not train on that image (out-of-fold)
    labels : int ``(N,)``, the images' labels, in the same order
    fold : int64 ``(N,)``, the part each image was held out in
    models : the ``folds`` trained models, ``models[k]`` trained without part ``k``
    positive : the positive class the AUCs refer to
    fold_auc : AUC of the positive class within each held-out part
    auc : AUC of the positive class over all out-of-fold probabilities pooled
    minutes : wall time of training and prediction, all folds
    """

    probs: np.ndarray
    labels: np.ndarray
    fold: np.ndarray
    models: list
    positive: int
    fold_auc: list[float]
    auc: float
    minutes: float


def pool(splits: dict[str, tuple[np.ndarray, np.ndarray]], names: Sequence[str] = ("train", "val")) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate the ``names`` splits (by default train and validation, never test).

    Parameters
    ----------
    splits : {split name: (uint8 images, int labels)}, e.g. from
        :func:`medimgkit.data.load_medmnist_splits`

    Returns
    -------
    (images, labels) with the splits in the order of ``names``.
    """
    missing = [n for n in names if n not in splits]
    if missing:
        raise ValueError(f"no split named {missing[0]!r}; available: {sorted(splits)}")
    images = np.concatenate([np.asarray(splits[n][0]) for n in names])
    labels = np.concatenate([np.asarray(splits[n][1]).ravel() for n in names])
    return images, labels


def cross_val_predict(
    build: Callable[[], Any],
    images: np.ndarray,
    labels: np.ndarray,
    *,
    folds: int = 5,
    seed: int = 0,
    positive: int = 1,
    tta: bool = False,
    patient_ids: Sequence | None = None,
    **fit_kwargs: Any,
) -> CrossValidation:
    """Out-of-fold class probabilities for every image, from ``folds`` networks.

    Parameters
    ----------
    build : callable returning an uncompiled ``keras.Model``, as for
        :func:`medimgkit.train.fit`; it is called once per part, after seeding
    images : uint8 (0-255) or float ([0, 1]) ``(N, H, W)`` or ``(N, H, W, C)``;
        labels : int ``(N,)``. Both are checked against the input contract
        before the first network trains.
    folds : number of parts, at least 2
    seed : seeds the parts (stratified by label) and every network's training
    positive : the positive class for the AUCs (0 = malignant in BreastMNIST)
    tta : average over the image and its left-right mirror when predicting
        (see :func:`medimgkit.train.predict_proba`)
    patient_ids : optional ``(N,)`` identifiers; a patient's images stay in one part
    **fit_kwargs : passed to :func:`medimgkit.train.fit` (``epochs``,
        ``schedule``, ...); ``patience`` must be ``None`` (the default here)

    Returns
    -------
    :class:`CrossValidation`
    """
    from medimgkit.data.split import patient_kfold
    from medimgkit.train import fit, predict_proba

    images = np.asarray(images)
    model_input(images, volumes=None)  # the contract, checked once before any training (fit converts each part)
    labels = class_labels(labels, "labels", n=len(images))
    if fit_kwargs.setdefault("patience", None) is not None:
        raise ValueError(
            f"cross-validation trains a fixed number of epochs; got patience={fit_kwargs['patience']!r}, "
            "expected None (early stopping would pick the epoch on the held-out part it is scored on)"
        )
    if positive not in set(labels.tolist()):
        raise ValueError(f"positive class {positive!r} does not occur in labels {sorted(set(labels.tolist()))}")
    ids = np.arange(len(labels)) if patient_ids is None else np.asarray(patient_ids)
    parts = patient_kfold(ids, folds=folds, labels=labels, seed=seed)
    fold = np.empty(len(labels), dtype=np.int64)
    probs: np.ndarray | None = None
    trained, fold_auc = [], []
    start = time.perf_counter()
    for k, (train_idx, held_idx) in enumerate(parts):
        fold[held_idx] = k
        model, _ = fit(build, (images[train_idx], labels[train_idx]), (images[held_idx], labels[held_idx]),
                       positive=positive, seed=seed, **fit_kwargs)
        p = predict_proba(model, images[held_idx], tta=tta)
        if probs is None:
            probs = np.zeros((len(labels), p.shape[-1]), dtype=np.float32)
        probs[held_idx] = p
        trained.append(model)
        fold_auc.append(_auc(labels[held_idx], p, positive))
    minutes = (time.perf_counter() - start) / 60
    assert probs is not None
    return CrossValidation(probs, labels, fold, trained, positive, fold_auc, _auc(labels, probs, positive), minutes)


def _auc(labels: np.ndarray, probs: np.ndarray, positive: int) -> float:
    """One-vs-rest AUC of ``positive`` (multi-class grades too); NaN when a part lacks either side."""
    is_positive = (labels == positive).astype(np.int8)
    if is_positive.min() == is_positive.max():
        return float("nan")
    return roc_auc(is_positive, probs[:, positive], positive=1)
