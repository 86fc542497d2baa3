"""Tune the case-study recipe on the validation split only; never looks at test.

Each configuration is trained with ``medimgkit.train.fit`` for each seed and
scored on the validation split (AUC of the positive class with flip
test-time augmentation where allowed, accuracy at 0.5 and at the balanced
threshold). Lines are appended to ``results/tune.jsonl``.

    python benchmarks/tune.py breastmnist:64 '{"width": 32, "blocks": 4}' '{"schedule": "cosine"}'

Model keys go to :func:`medimgkit.models.improved_cnn`; ``fit`` keys
(``epochs``, ``patience``, ``schedule``, ``learning_rate``, ``weight_decay``,
``label_smoothing``, ``mixup``, ``batch_size``) go to
:func:`medimgkit.train.fit`.

With ``--folds K`` each configuration is instead scored by K-fold
cross-validation on train + validation pooled (``medimgkit.experiments.recipe.cross_validate``:
one network per part, out-of-fold AUC over 624 BreastMNIST images instead of
78), and each configuration is applied *on top of the recipe*: ``'{}'`` is
the recipe itself. The first configuration is the reference: the summary
gives every other one's paired difference to it, seed by seed.

    python benchmarks/tune.py breastmnist:28 '{}' '{"zoom": 0.1}' --folds 5 --seeds 0 1
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS  # noqa: E402


def score(key: str, config: dict, seed: int) -> tuple[dict, np.ndarray]:
    from medimgkit import data, metrics, train
    from medimgkit.experiments import recipe

    base = recipe.RECIPES[key]
    name, size, positive, tta = base.dataset, base.size, base.positive, base.tta
    splits = {split: data.load_medmnist(name, size, split) for split in ("train", "val")}  # never "test"
    plan = recipe.prepare(*splits["train"], seed, *recipe.split_settings(config))
    start = time.perf_counter()
    model, history = train.fit(
        plan.build(seed), (plan.images, plan.labels), splits["val"], positive=positive, seed=seed, **plan.fit,
    )
    probs = train.predict_proba(model, splits["val"][0], tta=tta)
    seconds = time.perf_counter() - start
    y = splits["val"][1]
    r = metrics.binary_report(y, probs, positive=positive, n_boot=0)
    t = metrics.youden_threshold(y, probs, positive=positive)
    out = {"setting": key, "config": config, "seed": seed, "epochs run": len(history.history["loss"]),
           "val AUC": round(r["auc"], 4), "val ACC@0.5": round(r["accuracy"], 4), "minutes": round(seconds / 60, 2)}
    if t is not None:
        out["val ACC@balanced"] = round(metrics.binary_report(y, probs, positive=positive, threshold=t, n_boot=0)["accuracy"], 4)
    return out, probs


def ensemble_line(key: str, probs: list[np.ndarray]) -> str:
    """The validation AUC of the seeds' averaged probabilities, when there are several seeds."""
    from medimgkit import data, metrics
    from medimgkit.experiments import recipe

    if len(probs) < 2:
        return ""
    base = recipe.RECIPES[key]
    y = data.load_medmnist(base.dataset, base.size, "val")[1]
    auc = metrics.binary_report(y, np.mean(probs, axis=0), positive=base.positive, n_boot=0)["auc"]
    return f"; ensemble of {len(probs)} seeds val AUC {auc:.4f}"


def cross_validated(key: str, config: dict, seed: int, folds: int) -> dict:
    """The out-of-fold AUC of the recipe with ``config`` applied, over train + validation."""
    from medimgkit import is_quick
    from medimgkit.experiments import recipe

    base = recipe.RECIPES[key]
    cv = recipe.cross_validate(base.dataset, base.size, seed, folds=folds, **config)
    row = {"setting": key, "config": config, "seed": seed, "folds": folds, "CV AUC": round(cv.auc, 4),
           "fold AUCs": [round(a, 4) for a in cv.fold_auc], "images": len(cv.fold),
           "minutes": round(cv.minutes, 2)}
    return {**row, "quick mode": True} if is_quick() else row


def cross_validated_summary(rows: dict[str, list[dict]]) -> list[str]:
    """One line per configuration: mean CV AUC over seeds and the paired difference to the first."""
    names = list(rows)
    ref = {r["seed"]: r["CV AUC"] for r in rows[names[0]]}
    lines = []
    for name in names:
        aucs = [r["CV AUC"] for r in rows[name]]
        diffs = [r["CV AUC"] - ref[r["seed"]] for r in rows[name] if r["seed"] in ref]
        lines.append(f"CV {name}: mean CV AUC {np.mean(aucs):.4f} over seeds {[r['seed'] for r in rows[name]]}; "
                     f"vs first: {' '.join(f'{d:+.4f}' for d in diffs)} (mean {np.mean(diffs):+.4f}); "
                     f"min/seed {np.mean([r['minutes'] for r in rows[name]]):.2f}")
    return lines


def record(row: dict) -> dict:
    """Print ``row`` and append it to ``results/tune.jsonl``."""
    print(json.dumps(row), flush=True)
    with open(RESULTS / "tune.jsonl", "a") as f:
        f.write(json.dumps(row) + "\n")
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    from medimgkit.experiments import recipe

    parser.add_argument("setting", choices=list(recipe.RECIPES))
    parser.add_argument("configs", nargs="+", help="JSON objects")
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1])
    parser.add_argument("--folds", type=int, default=None,
                        help="cross-validate on train + validation, configs applied on top of the recipe")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    if args.folds is not None:
        cv_rows: dict[str, list[dict]] = {}
        for text in args.configs:
            for s in args.seeds:
                row = cross_validated(args.setting, json.loads(text), s, args.folds)
                cv_rows.setdefault(text, []).append(record(row))
        print("\n".join(cross_validated_summary(cv_rows)), flush=True)
        return
    for text in args.configs:
        config = json.loads(text)
        rows = []
        for s in args.seeds:
            row, probs = score(args.setting, config, s)
            rows.append((record(row), probs))
        print(f"MEAN {json.dumps(config)} val AUC {np.mean([r['val AUC'] for r, _ in rows]):.4f} "
              f"ACC {np.mean([r['val ACC@0.5'] for r, _ in rows]):.4f} "
              f"min {np.mean([r['minutes'] for r, _ in rows]):.2f}"
              f"{ensemble_line(args.setting, [p for _, p in rows])}", flush=True)


if __name__ == "__main__":
    main()
