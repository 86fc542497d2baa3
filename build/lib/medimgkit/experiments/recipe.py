"""The book's final training recipes, one per benchmark, and their seeded runs.

A *recipe* fixes everything about a run except the seed: the model, the
training settings, test-time augmentation and how the decision threshold is
chosen. The settings were chosen on the **validation** split only
(``benchmarks/tune.py``); the test split is scored once per run, at the end.
The case-study chapter and ``benchmarks/accuracy.py`` both use these
functions, so the book shows the numbers the benchmark measures.

    >>> from medimgkit import recipe
    >>> runs = [recipe.run("breastmnist", 64, seed) for seed in (0, 1, 2)]   # doctest: +SKIP
    >>> recipe.summary(runs)                                                  # doctest: +SKIP

Nothing here is for clinical use.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from medimgkit.config import quick

# Published test results to compare with: (AUC, ACC), mean of runs.
# MedMNIST v2: Yang et al., Scientific Data 10, 41 (2023), Table 3.
# MedMNIST+: Doerrich et al., arXiv:2404.15786 (2024), best end-to-end training.
PUBLISHED: dict[str, dict[str, tuple[float, float]]] = {
    "breastmnist:28": {
        "ResNet-18 (28), MedMNIST v2": (0.901, 0.863),
        "Google AutoML Vision, MedMNIST v2": (0.919, 0.861),
        "best end-to-end, MedMNIST+": (0.891, 0.865),
    },
    "breastmnist:64": {
        "best end-to-end, MedMNIST+": (0.906, 0.878),
        "best linear probe (DINO ViT-B/16), MedMNIST+": (0.917, 0.857),
    },
    "pneumoniamnist:28": {
        "ResNet-50 (224), MedMNIST v2": (0.962, 0.884),
        "Google AutoML Vision, MedMNIST v2": (0.991, 0.946),
    },
}


@dataclass(frozen=True)
class Recipe:
    """Everything about a training run except the seed.

    Attributes
    ----------
    dataset, size : the MedMNIST dataset and image size in pixels
    positive : the positive class (BreastMNIST 0 = malignant, PneumoniaMNIST 1 = pneumonia)
    model : keyword arguments of :func:`medimgkit.models.improved_cnn`
    fit : keyword arguments of :func:`medimgkit.train.fit`
    tta : average the prediction over the image and its left-right mirror
        (only where a mirror image is a plausible patient)
    threshold : ``"youden"`` picks the class-balanced threshold on validation
        (:func:`medimgkit.metrics.youden_threshold`); a float fixes it
    members : how many networks one run trains and averages (a deep
        ensemble, Lakshminarayanan et al., NeurIPS 2017). Member ``m`` of the
        run with seed ``s`` uses seed ``s + 1000 * m``, so member 0 is the
        single-network run with the same seed. The run's time covers all members.
    """

    dataset: str
    size: int
    positive: int
    model: dict[str, Any] = field(default_factory=dict)
    fit: dict[str, Any] = field(default_factory=dict)
    tta: bool = False
    threshold: str | float = "youden"
    members: int = 1

    def __post_init__(self) -> None:
        if not isinstance(self.members, int) or self.members < 1:
            raise ValueError(f"members must be a positive int, got {self.members!r}")

    @property
    def key(self) -> str:
        return f"{self.dataset}:{self.size}"


RECIPES: dict[str, Recipe] = {
    "breastmnist:28": Recipe(
        "breastmnist", 28, positive=0, tta=True, members=3,
        model={"width": 32, "blocks": 3},
        fit={"epochs": 40, "patience": None, "schedule": "cosine"},
    ),
    "breastmnist:64": Recipe(
        "breastmnist", 64, positive=0, tta=True, members=2,
        model={"width": 32, "blocks": 4},
        fit={"epochs": 20, "patience": None, "schedule": "cosine"},
    ),
    "pneumoniamnist:28": Recipe(
        "pneumoniamnist", 28, positive=1, tta=False,
        model={"width": 32, "blocks": 3, "flip": None},  # a mirrored chest X-ray is not a plausible patient
        fit={"epochs": 15, "patience": None, "schedule": "cosine"},
    ),
}


def get(dataset: str, size: int) -> Recipe:
    """The recipe for ``dataset`` at ``size`` pixels, e.g. ``get("breastmnist", 64)``."""
    key = f"{dataset}:{size}"
    if key not in RECIPES:
        raise ValueError(f"no recipe for {key!r}; available: {sorted(RECIPES)}")
    return RECIPES[key]


@dataclass
class Run:
    """One seeded run of a recipe: the model(s) and its validation and test probabilities.

    ``val_probs`` and ``test_probs`` are float32 ``(N, num_classes)``, averaged
    over the recipe's members;
    ``threshold`` applies to the positive class's probability and was chosen
    on validation.
    """

    recipe: Recipe
    seed: int
    model: Any  # the first member; all of them are in ``members``
    history: Any
    members: list
    val_probs: np.ndarray
    test_probs: np.ndarray
    threshold: float
    minutes: float


def choose_threshold(recipe: Recipe, y_val: np.ndarray, val_probs: np.ndarray) -> float:
    """The recipe's decision threshold, chosen on validation data only."""
    from medimgkit.metrics import youden_threshold

    if recipe.threshold == "youden":
        return youden_threshold(y_val, val_probs, positive=recipe.positive)
    return float(recipe.threshold)


def member_seed(seed: int, member: int) -> int:
    """The seed of member ``member`` in the run with ``seed`` (member 0 keeps ``seed``)."""
    return seed + 1000 * member


@dataclass
class Prepared:
    """Training data and settings of one recipe run, after the quick-mode cut.

    ``images``/``labels`` are the training images (a stratified third of them
    in quick mode), ``fit`` the keyword arguments of :func:`medimgkit.train.fit`
    (3 epochs in quick mode) and ``build(seed)`` the model builder.
    """

    images: np.ndarray
    labels: np.ndarray
    model: dict[str, Any]
    fit: dict[str, Any]
    input_shape: tuple[int, int, int]

    def build(self, seed: int):
        """A zero-argument builder of :func:`medimgkit.models.improved_cnn` with these settings."""
        from medimgkit import models

        return lambda: models.improved_cnn(self.input_shape, seed=seed, **self.model)


def prepare(images: np.ndarray, labels: np.ndarray, seed: int, model: dict[str, Any], fit: dict[str, Any]) -> Prepared:
    """The one quick-mode cut of every recipe run: the same code path, less data and fewer epochs.

    In quick mode (``MEDIMGKIT_QUICK=1``) a stratified third of the images
    (seeded) and 3 epochs; in full mode everything, with ``fit["epochs"]``
    (default 30). The input shape follows the images: ``(N, H, W)`` is one
    channel, ``(N, H, W, C)`` has C.
    """
    from medimgkit import data

    images, labels = np.asarray(images), np.asarray(labels)
    if quick(full=False, quick=True):
        images, labels = data.stratified_subset(images, labels, 1 / 3, seed=seed)
    fit = {**fit, "epochs": quick(full=fit.get("epochs", 30), quick=3)}
    shape = tuple(images.shape[1:]) if images.ndim == 4 else (*images.shape[1:], 1)
    return Prepared(images, labels, dict(model), fit, shape)


def run(dataset: str, size: int, seed: int, splits: dict | None = None) -> Run:
    """Train the recipe from scratch with ``seed`` and score validation and test once.

    A recipe with several ``members`` trains that many networks (seeds from
    :func:`member_seed`) and averages their probabilities. In quick mode
    (``MEDIMGKIT_QUICK=1``) it trains at most 2 members on the data and
    epochs of :func:`prepare`; the code path is the same. The wall time
    covers training and prediction of all members, not loading the data.
    """
    from medimgkit import data, train

    r = get(dataset, size)
    splits = splits if splits is not None else data.load_medmnist_splits(dataset, size)
    plan = prepare(*splits["train"], seed, r.model, r.fit)
    start = time.perf_counter()
    trained, val_probs, test_probs = [], [], []
    for m in range(quick(full=r.members, quick=min(r.members, 2))):
        s = member_seed(seed, m)
        model, history = train.fit(
            plan.build(s), (plan.images, plan.labels), splits["val"], positive=r.positive, seed=s, **plan.fit,
        )
        trained.append((model, history))
        val_probs.append(train.predict_proba(model, splits["val"][0], tta=r.tta))
        test_probs.append(train.predict_proba(model, splits["test"][0], tta=r.tta))
    minutes = (time.perf_counter() - start) / 60
    val_mean, test_mean = np.mean(val_probs, axis=0), np.mean(test_probs, axis=0)
    threshold = choose_threshold(r, splits["val"][1], val_mean)
    return Run(r, seed, trained[0][0], trained[0][1], [m for m, _ in trained], val_mean, test_mean,
               threshold, minutes)


def split_settings(config: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split keyword arguments into those of :func:`medimgkit.models.improved_cnn` and the rest (for ``fit``)."""
    import inspect

    from medimgkit import models

    model_keys = set(inspect.signature(models.improved_cnn).parameters) - {"input_shape", "seed"}
    return ({k: v for k, v in config.items() if k in model_keys},
            {k: v for k, v in config.items() if k not in model_keys})


def settings(key: str, **overrides: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The recipe's ``(model, fit)`` keyword arguments with ``overrides`` applied.

    Each override goes to the model when :func:`medimgkit.models.improved_cnn`
    takes it, and to :func:`medimgkit.train.fit` otherwise, e.g.
    ``settings("breastmnist:28", zoom=0.1, epochs=60)``.
    """
    if key not in RECIPES:
        raise ValueError(f"no recipe for {key!r}; available: {sorted(RECIPES)}")
    model_over, fit_over = split_settings(overrides)
    return {**RECIPES[key].model, **model_over}, {**RECIPES[key].fit, **fit_over}


def cross_validate(dataset: str, size: int, seed: int, folds: int = 5, splits: dict | None = None, **overrides: Any):
    """One network of the recipe per part, k-fold cross-validated on train + validation.

    Scores a setting on every labelled image outside the test split (624 for
    BreastMNIST instead of the 78 validation images); the test split is not
    loaded. ``overrides`` change the recipe's settings (see :func:`settings`).
    Quick mode uses a third of the images and 3 epochs, like :func:`run`.
    Returns a :class:`medimgkit.crossval.CrossValidation`.
    """
    from medimgkit import crossval, data

    r = get(dataset, size)
    if splits is None:
        splits = {name: data.load_medmnist(dataset, size, name) for name in ("train", "val")}  # never "test"
    plan = prepare(*crossval.pool(splits), seed, *settings(r.key, **overrides))
    return crossval.cross_val_predict(
        plan.build(seed), plan.images, plan.labels,
        folds=folds, seed=seed, positive=r.positive, tta=r.tta, **plan.fit,
    )


def summary(runs: list[Run], splits: dict | None = None) -> list[dict]:
    """Test AUC and ACC per seed, their mean, and the seed ensemble, as table rows.

    ACC uses each run's validation-chosen threshold; ``ACC@0.5`` is the
    MedMNIST convention (argmax of two classes), given for comparison. The
    ensemble averages the seeds' probabilities and chooses its own threshold
    on the averaged validation probabilities. Rows are dicts with keys
    ``row``, ``test AUC``, ``test ACC``, ``test ACC@0.5``, ``sensitivity``,
    ``specificity`` and ``minutes``.
    """
    from medimgkit import data, metrics

    if not runs:
        raise ValueError("runs is empty; pass the result of at least one recipe.run")
    r = runs[0].recipe
    if any(run.recipe != r for run in runs):
        raise ValueError("all runs must use the same recipe")
    splits = splits if splits is not None else data.load_medmnist_splits(r.dataset, r.size)
    y_val, y_test = splits["val"][1], splits["test"][1]

    def row(name: str, probs: np.ndarray, threshold: float, minutes: float | None) -> dict:
        at_t = metrics.binary_report(y_test, probs, positive=r.positive, threshold=threshold, n_boot=0)
        at_half = metrics.binary_report(y_test, probs, positive=r.positive, threshold=0.5, n_boot=0)
        return {"row": name, "test AUC": at_t["auc"], "test ACC": at_t["accuracy"],
                "test ACC@0.5": at_half["accuracy"], "sensitivity": at_t["sensitivity"],
                "specificity": at_t["specificity"], "threshold": threshold, "minutes": minutes}

    nets = f" ({len(runs[0].members)} networks each)" if len(runs[0].members) > 1 else ""
    rows = [row(f"seed {run.seed}", run.test_probs, run.threshold, run.minutes) for run in runs]
    mean = {k: float(np.mean([x[k] for x in rows])) for k in rows[0] if k != "row"}
    seeds = f"{len(runs)} seed{'s' if len(runs) > 1 else ''}"
    rows.append({"row": f"mean of {seeds}{nets}", **mean})
    val_mean = np.mean([run.val_probs for run in runs], axis=0)
    rows.append(row(f"ensemble of {seeds}{nets}", np.mean([run.test_probs for run in runs], axis=0),
                    choose_threshold(r, y_val, val_mean), None))
    return rows
