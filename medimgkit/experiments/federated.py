"""Federated averaging (FedAvg) simulated on one machine with Keras weights.

Hospitals ("clients") keep their images; each round they train a copy of the
global model on their own data and send back only the weights, which the
server averages, weighted by each client's number of images (McMahan et al.,
"Communication-efficient learning of deep networks from decentralized data",
AISTATS 2017).

This is a simulation for teaching: there is no network, no encryption, no
secure aggregation and no differential privacy. Not for clinical use.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import keras
import numpy as np

from medimgkit._contract import class_labels, fits_model, fits_outputs, model_input
from medimgkit.config import set_seed
from medimgkit.data.pipeline import as_dataset, class_weights
from medimgkit.metrics import roc_auc
from medimgkit.train import prebuild

Client = tuple[np.ndarray, np.ndarray]


def split_clients(
    images: np.ndarray,
    labels: np.ndarray,
    n_clients: int,
    *,
    iid: bool = True,
    alpha: float = 0.5,
    min_per_class: int = 5,
    seed: int = 0,
) -> list[Client]:
    """Split a training set across simulated hospitals.

    Parameters
    ----------
    images : array (N, ...), labels : int array (N,)
    n_clients : int
        Number of hospitals (at least 2).
    iid : bool
        ``True``: stratified split, every hospital gets the same class ratio
        and (almost) the same number of images. ``False``: label skew; for
        each class the share of each hospital is drawn from a Dirichlet
        distribution with concentration ``alpha`` (smaller = more skewed;
        Hsu, Qi and Brown, arXiv 2019), so hospitals differ in size and
        class ratio.
    alpha : float
        Dirichlet concentration for ``iid=False``.
    min_per_class : int
        For ``iid=False``, every hospital first gets this many images of every
        class, so each can compute class weights and a validation AUC.
    seed : int

    Returns
    -------
    list of ``(images, labels)``, one per hospital; together they are a
    partition of the input (every image in exactly one hospital).
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(f"labels must be (N,) matching {len(images)} images, got shape {labels.shape}")
    if not isinstance(n_clients, (int, np.integer)) or n_clients < 2:
        raise ValueError(f"n_clients must be an integer >= 2, got {n_clients!r}")
    if alpha <= 0:
        raise ValueError(f"alpha must be positive, got {alpha}")
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[] for _ in range(n_clients)]
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        if iid:
            for k, chunk in enumerate(np.array_split(idx, n_clients)):
                parts[k].append(chunk)
            continue
        if len(idx) < n_clients * min_per_class:
            raise ValueError(
                f"class {c} has {len(idx)} images, fewer than n_clients * min_per_class = "
                f"{n_clients * min_per_class}"
            )
        base, rest = idx[: n_clients * min_per_class], idx[n_clients * min_per_class :]
        shares = rng.dirichlet(np.full(n_clients, alpha))
        cuts = (np.cumsum(shares)[:-1] * len(rest)).astype(int)
        for k, (b, r) in enumerate(zip(np.array_split(base, n_clients), np.split(rest, cuts))):
            parts[k].append(np.concatenate([b, r]))
    out = []
    for p in parts:
        keep = np.sort(np.concatenate(p))
        out.append((images[keep], labels[keep]))
    return out


def average_weights(weights: Sequence[list[np.ndarray]], sizes: Sequence[int]) -> list[np.ndarray]:
    """Weighted average of several models' weight lists: ``sum_k n_k w_k / sum_k n_k``.

    ``weights[k]`` is ``model.get_weights()`` of client ``k``, ``sizes[k]`` its
    number of training images. Batch-normalisation statistics are averaged
    like any other weight (plain FedAvg).
    """
    if len(weights) == 0 or len(weights) != len(sizes):
        raise ValueError(f"need one size per client: {len(weights)} weight lists, {len(sizes)} sizes")
    sizes_arr = np.asarray(sizes, dtype=np.float64)
    if np.any(sizes_arr <= 0):
        raise ValueError(f"client sizes must be positive, got {list(sizes)}")
    share = sizes_arr / sizes_arr.sum()
    n_tensors = {len(w) for w in weights}
    if len(n_tensors) != 1:
        raise ValueError(f"clients have different numbers of weight tensors: {sorted(n_tensors)}")
    return [
        np.sum([s * np.asarray(w[i], dtype=np.float64) for s, w in zip(share, weights)], axis=0).astype(
            np.asarray(weights[0][i]).dtype
        )
        for i in range(len(weights[0]))
    ]


def _client(images, labels, name: str) -> tuple[np.ndarray, np.ndarray]:
    x = model_input(images, f"{name} images")
    return x, class_labels(labels, f"{name} labels", n=len(x), images=f"{name} images")


def _reset_optimizer(optimizer: keras.optimizers.Optimizer) -> None:
    # a fresh Adam state (moments and step count) for each round; keep the learning rate
    for v in optimizer.variables:
        if not v.path.endswith("learning_rate"):
            v.assign(np.zeros(v.shape, dtype=v.dtype))


def fedavg(
    build: Callable[[], keras.Model],
    clients: Sequence[Client],
    *,
    rounds: int = 10,
    local_epochs: int = 1,
    batch_size: int = 16,
    learning_rate: float = 1e-3,
    balance: bool = True,
    val: Client | None = None,
    positive: int = 1,
    seed: int = 0,
    deterministic: bool = False,
) -> tuple[keras.Model, dict[str, list[float]]]:
    """Train a model with federated averaging.

    Each round every client starts from the global weights, trains
    ``local_epochs`` epochs on its own images (Adam, state reset every round,
    class-weighted loss when ``balance``), and the server replaces the global
    weights by the size-weighted average of the clients' weights.

    Parameters
    ----------
    build : callable returning an uncompiled ``keras.Model``
    clients : list of (images (N_k, H, W[, C]), int labels (N_k,))
        Images uint8 in 0-255 or float in [0, 1] (the package's one input
        contract); every client's data is checked before the first round.
    rounds, local_epochs, batch_size, learning_rate : training settings
    balance : bool
        Class weights computed on each client's own labels.
    val : (images, labels), optional
        Evaluated after every round (AUC of ``positive``) for the history only;
        the last round's model is returned, nothing is selected on it.
    positive : int
    seed : int

    deterministic : bool
        Also switch on TensorFlow's op determinism (process-wide; see ``medimgkit.set_seed``).

    Returns
    -------
    (model, history): the global model (compiled) and
    ``{"round": [...], "val_auc": [...]}`` (``val_auc`` empty without ``val``).
    """
    if rounds < 1 or local_epochs < 1:
        raise ValueError(f"rounds and local_epochs must be >= 1, got {rounds} and {local_epochs}")
    if len(clients) < 1:
        raise ValueError("need at least one client")
    checked = [_client(x, y, f"client {k}") for k, (x, y) in enumerate(clients)]
    if val is not None:
        x_val, y_val = _client(val[0], val[1], "val")
        n_pos = int(np.sum(y_val == positive))
        if n_pos in (0, len(y_val)):
            warnings.warn(
                f"val labels: expected the positive class {positive} and at least one other class, found only "
                f"class {int(y_val[0])} ({len(y_val)} images); val_auc will be NaN every round. Split by patient "
                "with stratification (medimgkit.data.patient_split(ids, labels=labels))",
                stacklevel=2,
            )
    set_seed(seed, deterministic=deterministic)
    global_model = build()
    local = build()
    for m in (global_model, local):
        m.compile(
            optimizer=keras.optimizers.Adam(learning_rate),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
    for k, (x, y) in enumerate(checked):
        fits_model(global_model, x, f"client {k} images")
        fits_outputs(global_model, y, f"client {k} labels")
    prebuild(local, checked[0][0].shape)  # the local model trains: its training step is traced once
    if val is not None:
        fits_model(global_model, x_val, "val images")
    sizes = [len(y) for _, y in checked]
    history: dict[str, list[float]] = {"round": [], "val_auc": []}
    weights = global_model.get_weights()
    for r in range(rounds):
        updates = []
        for k, (x, y) in enumerate(checked):
            local.set_weights(weights)
            _reset_optimizer(local.optimizer)
            ds = as_dataset(x, y, batch_size=batch_size, shuffle=True, seed=seed + 1000 * r + k)
            local.fit(
                ds,
                epochs=local_epochs,
                class_weight=class_weights(y) if balance else None,
                shuffle=False,
                verbose=0,
            )
            updates.append(local.get_weights())
        weights = average_weights(updates, sizes)
        history["round"].append(r + 1)
        if val is not None:
            global_model.set_weights(weights)
            probs = global_model.predict(x_val, batch_size=256, verbose=0)
            is_positive = (y_val == positive).astype(np.int8)
            both = 0 < is_positive.sum() < len(is_positive)
            history["val_auc"].append(roc_auc(is_positive, probs[:, positive], positive=1) if both else float("nan"))
    global_model.set_weights(weights)
    return global_model, history
