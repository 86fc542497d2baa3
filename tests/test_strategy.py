"""The multi-device path of ``train.fit``: ``MirroredStrategy`` on two logical CPUs matches one device.

TensorFlow fixes its devices when it initialises, so the CPU is split into two
logical devices in a fresh subprocess, before anything touches TensorFlow.
There ``fit`` trains the article's CNN (no batch normalisation or dropout,
whose per-replica statistics and random masks would differ by design) on
BreastMNIST for 2 epochs, twice with the same seed: with a ``MirroredStrategy``
over both devices, where each batch of 32 is split into two halves of 16 whose
gradients are summed across the replicas, and on a single device
(``OneDeviceStrategy`` on the first one). The two runs compute the same
mathematics with floating-point sums in another order, so they must agree up
to rounding (measured: about 1e-6), within these stated tolerances:

* every epoch's training loss within 1e-4 (relative),
* the trained weights and the test probabilities within 1e-4 (absolute),
* every epoch's validation AUC within 0.005 (one of the 1197 malignant-benign
  pairs swapping order moves it by 0.0008).

The single-device run passes a strategy too because Keras, given any strategy,
draws one batch to build the model before training, which advances the seeded
shuffle by one epoch's order; ``strategy=None`` is therefore as reproducible
but not batch for batch the same (``fit``'s docstring says so).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import json
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

    import numpy as np
    from medimgkit.data import load_medmnist_splits
    from medimgkit.models import article_cnn
    from medimgkit.train import fit, predict_proba

    data = load_medmnist_splits("breastmnist", 28)
    devices = [d.name for d in tf.config.list_logical_devices("CPU")]
    mirrored = tf.distribute.MirroredStrategy(devices)
    runs = {}
    for name, strategy in (("mirrored", mirrored), ("single", tf.distribute.OneDeviceStrategy(devices[0]))):
        model, history = fit(article_cnn, data["train"], data["val"], epochs=2, batch_size=32, positive=0,
                             patience=None, seed=0, strategy=strategy, deterministic=True)
        runs[name] = (model, history.history)
    (m2, h2), (m1, h1) = runs["mirrored"], runs["single"]
    print(json.dumps({
        "devices": devices,
        "replicas": mirrored.num_replicas_in_sync,
        "variables_mirrored": type(m2.trainable_variables[0].value).__name__,
        "loss": [h2["loss"], h1["loss"]],
        "val_auc": [h2["val_auc"], h1["val_auc"]],
        "max_weight_diff": max(float(np.abs(a - b).max()) for a, b in zip(m2.get_weights(), m1.get_weights())),
        "max_prob_diff": float(np.abs(predict_proba(m2, data["test"][0]) - predict_proba(m1, data["test"][0])).max()),
    }))
    """
)


def test_mirrored_strategy_on_two_logical_cpus_matches_one_device(data_folder):
    env = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    env["CUDA_VISIBLE_DEVICES"] = ""  # two CPU replicas even on a machine with a GPU
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, f"the two-device run failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    result = json.loads(proc.stdout.strip().splitlines()[-1])

    assert result["replicas"] == 2 and len(result["devices"]) == 2, result
    assert "Mirrored" in result["variables_mirrored"], result  # fit built the model in the strategy's scope
    mirrored, single = result["loss"]
    assert len(mirrored) == len(single) == 2
    assert mirrored == pytest.approx(single, rel=1e-4), result["loss"]
    assert mirrored[-1] < mirrored[0]  # it trained
    assert result["val_auc"][0] == pytest.approx(result["val_auc"][1], abs=0.005), result["val_auc"]
    assert result["max_weight_diff"] < 1e-4, result
    assert result["max_prob_diff"] < 1e-4, result
