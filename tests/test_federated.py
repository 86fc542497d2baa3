"""Federated averaging: client splits, weighted averaging, a seeded FedAvg run on real images."""

import numpy as np
import pytest

from medimgkit.experiments.federated import _reset_optimizer, average_weights, fedavg, split_clients
from medimgkit.metrics import roc_auc
from medimgkit.models import improved_cnn
from medimgkit.train import predict_proba


def _is_partition(x, y, **kwargs):
    """Split the image *indices* so that the partition can be checked exactly."""
    ids = np.arange(len(y))
    parts = split_clients(ids, y, 3, **kwargs)
    joined = np.concatenate([p[0] for p in parts])
    assert np.array_equal(np.sort(joined), ids)  # every image in exactly one hospital
    for p_ids, p_labels in parts:
        assert np.array_equal(y[p_ids], p_labels)
    clients = split_clients(x, y, 3, **kwargs)
    assert all(np.array_equal(c[0], x[p[0]]) for c, p in zip(clients, parts))
    return clients


def test_iid_split_is_a_stratified_partition(breast):
    x, y = breast["train"]
    clients = _is_partition(x, y, iid=True, seed=0)
    ratios = [np.mean(c[1] == 0) for c in clients]
    sizes = [len(c[1]) for c in clients]
    assert max(ratios) - min(ratios) < 0.02 and max(sizes) - min(sizes) <= 2


def test_non_iid_split_has_different_class_ratios_and_every_class(breast):
    x, y = breast["train"]
    clients = _is_partition(x, y, iid=False, alpha=1.0, min_per_class=5, seed=1)
    for _, labels in clients:
        assert np.bincount(labels, minlength=2).min() >= 5
    ratios = [np.mean(c[1] == 0) for c in clients]
    assert max(ratios) - min(ratios) > 0.2
    again = split_clients(x, y, 3, iid=False, alpha=1.0, seed=1)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(clients, again))


def test_split_refuses_bad_input(breast):
    x, y = breast["train"]
    with pytest.raises(ValueError, match="n_clients"):
        split_clients(x, y, 1)
    with pytest.raises(ValueError, match="labels"):
        split_clients(x, y[:-1], 3)
    with pytest.raises(ValueError, match="min_per_class"):
        split_clients(x, y, 3, iid=False, min_per_class=100)


def test_average_weights_is_size_weighted():
    a = [np.array([0.0, 0.0], np.float32), np.array(1.0, np.float32)]
    b = [np.array([3.0, 6.0], np.float32), np.array(4.0, np.float32)]
    avg = average_weights([a, b], [1, 2])
    np.testing.assert_allclose(avg[0], [2.0, 4.0])
    np.testing.assert_allclose(avg[1], 3.0)
    assert avg[0].dtype == np.float32
    with pytest.raises(ValueError, match="one size per client"):
        average_weights([a, b], [1])
    with pytest.raises(ValueError, match="positive"):
        average_weights([a, b], [1, 0])


def test_reset_optimizer_keeps_the_learning_rate():
    import keras

    model = improved_cnn(width=4, blocks=1, augment=False)
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
    model.fit(np.random.rand(8, 28, 28, 1).astype("float32"), np.arange(8) % 2, verbose=0)
    assert int(model.optimizer.iterations.numpy()) > 0
    _reset_optimizer(model.optimizer)
    assert int(model.optimizer.iterations.numpy()) == 0
    assert np.isclose(float(model.optimizer.learning_rate.numpy()), 3e-3)
    assert all(not np.any(v.numpy()) for v in model.optimizer.variables if "momentum" in v.path)


def test_fedavg_learns_and_is_seeded(breast):
    x, y = breast["train"]
    clients = split_clients(x, y, 3, iid=True, seed=0)

    def build():
        return improved_cnn(width=8, blocks=2, augment=False)

    model, history = fedavg(build, clients, rounds=3, batch_size=16, val=breast["val"], positive=0, seed=0)
    assert history["round"] == [1, 2, 3] and len(history["val_auc"]) == 3
    xt, yt = breast["test"]
    auc = roc_auc(yt, predict_proba(model, xt), positive=0)
    assert auc > 0.65, auc
    again, _ = fedavg(build, clients, rounds=3, batch_size=16, positive=0, seed=0)
    for w1, w2 in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(w1, w2)
    with pytest.raises(ValueError, match="rounds"):
        fedavg(build, clients, rounds=0)
