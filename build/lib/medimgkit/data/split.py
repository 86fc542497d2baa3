"""Patient-level splits: all images of one patient on the same side of every split.

Images of one patient share anatomy, device and settings. If some of them
train a model and others test it, the test measures recognition of the
patient, not of the disease, and the metric is inflated ("data leakage").
These splits shuffle *patients*, never images, seeded and optionally
stratified by the patient's label.
"""

from __future__ import annotations

import numpy as np

from medimgkit._deprecation import renamed_kwargs
from medimgkit.data.pipeline import class_balance


def _patients(patient_ids, labels) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
    ids = np.asarray(patient_ids)
    if ids.ndim != 1 or len(ids) == 0:
        raise ValueError(f"patient_ids must be a non-empty 1-D sequence, got shape {ids.shape}")
    if ids.dtype.kind == "f" and not np.all(np.isfinite(ids)):
        raise ValueError("patient_ids hold NaN or infinite values; expected one id per image")
    unique, inverse, counts = np.unique(ids, return_inverse=True, return_counts=True)
    strata = None
    if labels is not None:
        labels = np.asarray(labels).ravel()
        if len(labels) != len(ids):
            raise ValueError(f"{len(ids)} patient ids but {len(labels)} labels")
        # a patient's stratum is their most frequent label (ties: the smallest)
        classes, label_idx = np.unique(labels, return_inverse=True)
        table = np.bincount(inverse * len(classes) + label_idx, minlength=len(unique) * len(classes))
        strata = classes[table.reshape(len(unique), len(classes)).argmax(axis=1)]
    return unique, inverse, strata, counts


def _deal(order: np.ndarray, counts: np.ndarray, targets: np.ndarray, priority: np.ndarray) -> np.ndarray:
    """Assign patients (in ``order``) to bins, each time to the bin furthest below its target.

    Ties go to the first bin in ``priority`` (a random order of the bins).
    """
    bins = np.empty(len(order), dtype=np.int64)
    fill = np.zeros(len(targets))
    safe = np.where(targets > 0, targets, 1.0)
    for i, p in enumerate(order):
        deficit = np.where(targets > 0, (targets - fill) / safe, -np.inf)
        b = int(priority[np.argmax(deficit[priority])])
        bins[i] = b
        fill[b] += counts[p]
    return bins


def _assign(unique, counts, strata, fractions: np.ndarray, seed: int) -> np.ndarray:
    """Bin index per patient, balancing image counts per bin (within each stratum)."""
    rng = np.random.default_rng(seed)
    bin_of = np.empty(len(unique), dtype=np.int64)
    groups = [np.arange(len(unique))] if strata is None else [np.flatnonzero(strata == s) for s in np.unique(strata)]
    for members in groups:
        order = members[rng.permutation(len(members))]
        # largest patients first (stable, so equal sizes keep their random order)
        order = order[np.argsort(-counts[order], kind="stable")]
        total = counts[members].sum()
        bin_of[order] = _deal(order, counts, fractions * total, rng.permutation(len(fractions)))
    return bin_of


def patient_split(
    patient_ids,
    labels=None,
    *,
    val: float = 0.15,
    test: float = 0.15,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train/validation/test indices with every patient on exactly one side.

    Fractions refer to images: patients are dealt, largest first, to the split
    furthest below its share of images, so sizes come close to the fractions
    even when patients have different numbers of images.

    Parameters
    ----------
    patient_ids : (N,) one id (str or int) per image
    labels : (N,) optional; stratify so each split gets a similar class mix
        (a patient counts under their most frequent label)
    val, test : fractions of the images, each in [0, 1), summing below 1
    seed : int

    Returns
    -------
    train, val, test : sorted int64 index arrays into the N images

    Raises
    ------
    ValueError
        Bad fractions, or too few patients to give every requested split one.
    """
    if not (0 <= val < 1 and 0 <= test < 1 and val + test < 1):
        raise ValueError(f"val and test must be in [0, 1) with val + test < 1, got val={val}, test={test}")
    unique, inverse, strata, counts = _patients(patient_ids, labels)
    fractions = np.array([1 - val - test, val, test])
    needed = int((fractions > 0).sum())
    if len(unique) < needed:
        raise ValueError(f"{len(unique)} patient(s) cannot fill {needed} splits; expected at least {needed} patients")
    bin_of = _assign(unique, counts, strata, fractions, seed)
    for b, name in enumerate(("train", "val", "test")):
        if fractions[b] > 0 and not np.any(bin_of == b):
            # tiny strata can leave a split empty: move the smallest patient from the
            # largest split (in images) that keeps at least one patient after the move
            donors = [k for k in range(3) if np.sum(bin_of == k) >= 2]
            if not donors:
                raise ValueError(f"too few patients ({len(unique)}) to give the {name} split one")
            donor = max(donors, key=lambda k: np.sum(counts[bin_of == k]))
            candidates = np.flatnonzero(bin_of == donor)
            bin_of[candidates[np.argmin(counts[candidates])]] = b
    per_image = bin_of[inverse]
    return tuple(np.flatnonzero(per_image == b).astype(np.int64) for b in range(3))  # type: ignore[return-value]


@renamed_kwargs(n_splits="folds")
def patient_kfold(
    patient_ids,
    folds: int = 5,
    labels=None,
    *,
    seed: int = 0,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Group k-fold by patient: ``folds`` pairs ``(train_idx, test_idx)``.

    Every patient is in exactly one test fold; folds have similar numbers of
    images and, with ``labels``, a similar class mix.
    """
    if not isinstance(folds, (int, np.integer)) or folds < 2:
        raise ValueError(f"folds must be an integer >= 2, got {folds!r}")
    unique, inverse, strata, counts = _patients(patient_ids, labels)
    if len(unique) < folds:
        raise ValueError(f"{len(unique)} patient(s) cannot fill {folds} folds; expected at least {folds}")
    bin_of = _assign(unique, counts, strata, np.full(folds, 1.0 / folds), seed)
    fold_of = bin_of[inverse]
    every = np.arange(len(inverse))
    return [(every[fold_of != k].astype(np.int64), every[fold_of == k].astype(np.int64)) for k in range(folds)]


def shared_patients(patient_ids, *index_sets) -> set:
    """Patients whose images appear in more than one of ``index_sets`` (empty set: no leak)."""
    ids = np.asarray(patient_ids)
    seen: dict = {}
    shared = set()
    for k, idx in enumerate(index_sets):
        for p in set(ids[np.asarray(idx, dtype=np.int64)].tolist()):
            if p in seen and seen[p] != k:
                shared.add(p)
            seen.setdefault(p, k)
    return shared


def split_balance(labels, splits: dict[str, np.ndarray], names: list[str] | None = None) -> dict[str, dict[str, int]]:
    """Class counts per split, e.g. ``{"train": {"malignant": 80, ...}, ...}`` (uses ``class_balance``)."""
    labels = np.asarray(labels)
    return {name: class_balance(labels[np.asarray(idx, dtype=np.int64)], names) for name, idx in splits.items()}
