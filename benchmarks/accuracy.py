"""Accuracy of the book's recipe against published MedMNIST results, per seed and mean.

Each run trains ``improved_cnn`` from scratch with ``medimgkit.train.fit``
(class-weighted loss, early stopping on validation AUC), then evaluates once
on the test split. Nothing is tuned on the test split. Reported: test AUC and
ACC (threshold 0.5 on the positive class, as MedMNIST's argmax), per seed,
their mean, and the seed ensemble (mean of the seeds' probabilities),
labelled as such; plus the wall time of each run.

    python benchmarks/accuracy.py                       # all three settings, 3 seeds
    python benchmarks/accuracy.py --only breastmnist:64 --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import report  # noqa: E402

# dataset, size, positive class, flip test-time augmentation allowed, epochs
SETTINGS = {
    "breastmnist:28": ("breastmnist", 28, 0, True, 80),
    "breastmnist:64": ("breastmnist", 64, 0, True, 80),
    "pneumoniamnist:28": ("pneumoniamnist", 28, 1, False, 40),
}
PUBLISHED = {  # test AUC / ACC; MedMNIST v2 (Yang et al., Sci Data 2023) and MedMNIST+ (Doerrich et al. 2024)
    "breastmnist:28": {"ResNet-18 (28)": (0.901, 0.863), "AutoML Vision": (0.919, 0.861)},
    "breastmnist:64": {"MedMNIST+ best end-to-end": (0.906, 0.878)},
    "pneumoniamnist:28": {"ResNet-50 (224)": (0.962, 0.884), "AutoML Vision": (0.991, 0.946)},
}
TARGETS = {"breastmnist:28": (0.92, 0.87), "breastmnist:64": (0.93, 0.885), "pneumoniamnist:28": (0.97, 0.90)}


def run(key: str, seed: int, epochs: int | None) -> tuple[dict, np.ndarray]:
    from medimgkit import data, metrics, models, train

    name, size, positive, tta, default_epochs = SETTINGS[key]
    splits = data.load_medmnist_splits(name, size)
    start = time.perf_counter()
    model, history = train.fit(
        lambda: models.improved_cnn((size, size, 1), seed=seed), splits["train"], splits["val"],
        epochs=epochs or default_epochs, positive=positive, seed=seed, patience=25,
    )
    probs = train.predict_proba(model, splits["test"][0], tta=tta)
    seconds = time.perf_counter() - start
    r = metrics.binary_report(splits["test"][1], probs, positive=positive, n_boot=0)
    row = {"setting": key, "seed": seed, "epochs run": len(history.history["loss"]),
           "test AUC": r["auc"], "test ACC": r["accuracy"], "minutes": seconds / 60}
    return row, probs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs")
    args = parser.parse_args()

    from medimgkit import data, metrics

    rows = []
    for key in args.only:
        name, size, positive, _, _ = SETTINGS[key]
        y_test = data.load_medmnist(name, size, "test")[1]
        runs = [run(key, seed, args.epochs) for seed in args.seeds]
        for row, _ in runs:
            rows.append(row)
            print(row, flush=True)
        mean = {"setting": key, "seed": "mean", "test AUC": float(np.mean([r["test AUC"] for r, _ in runs])),
                "test ACC": float(np.mean([r["test ACC"] for r, _ in runs])),
                "minutes": float(np.mean([r["minutes"] for r, _ in runs]))}
        ens = metrics.binary_report(y_test, np.mean([p for _, p in runs], axis=0), positive=positive, n_boot=0)
        rows += [mean, {"setting": key, "seed": "ensemble", "test AUC": ens["auc"], "test ACC": ens["accuracy"]}]
        target_auc, target_acc = TARGETS[key]
        for source, (auc, acc) in PUBLISHED[key].items():
            rows.append({"setting": key, "seed": f"published: {source}", "test AUC": auc, "test ACC": acc})
        rows.append({"setting": key, "seed": "target (mean of seeds)", "test AUC": target_auc, "test ACC": target_acc})
    report("accuracy", rows)


if __name__ == "__main__":
    main()
