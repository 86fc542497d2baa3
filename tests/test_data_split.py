"""Patient-level splits: no patient on two sides, every image exactly once (with hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medimgkit.data import patient_kfold, patient_split, shared_patients, split_balance

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def cohorts(draw, min_patients=3):
    """Patient ids (str or int) with 1-8 images each, and a label per image."""
    n = draw(st.integers(min_patients, 40))
    sizes = draw(st.lists(st.integers(1, 8), min_size=n, max_size=n))
    as_text = draw(st.booleans())
    ids = np.repeat([f"P{i:03d}" if as_text else i * 7 for i in range(n)], sizes)
    order = np.random.default_rng(draw(st.integers(0, 1000))).permutation(len(ids))
    ids = ids[order]  # images of one patient are scattered, as in a real export
    labels = np.array(draw(st.lists(st.integers(0, 2), min_size=len(ids), max_size=len(ids))))
    return ids, labels


@FAST
@given(cohorts(), st.booleans(), st.integers(0, 10_000))
def test_patient_split_has_no_patient_on_two_sides(cohort, stratify, seed):
    ids, labels = cohort
    train, val, test = patient_split(ids, labels if stratify else None, val=0.2, test=0.2, seed=seed)
    assert shared_patients(ids, train, val, test) == set()
    every = np.concatenate([train, val, test])
    assert np.array_equal(np.sort(every), np.arange(len(ids)))  # each image exactly once
    assert len(train) and len(val) and len(test)
    for part in (train, val, test):
        assert part.dtype == np.int64 and np.all(np.diff(part) > 0)


@FAST
@given(cohorts(min_patients=5), st.integers(2, 5), st.booleans(), st.integers(0, 10_000))
def test_patient_kfold_puts_every_patient_in_exactly_one_test_fold(cohort, k, stratify, seed):
    ids, labels = cohort
    folds = patient_kfold(ids, k, labels if stratify else None, seed=seed)
    assert len(folds) == k
    tests = np.concatenate([te for _, te in folds])
    assert np.array_equal(np.sort(tests), np.arange(len(ids)))
    for train, test in folds:
        assert shared_patients(ids, train, test) == set()
        assert np.array_equal(np.sort(np.concatenate([train, test])), np.arange(len(ids)))


@FAST
@given(cohorts(), st.integers(0, 10_000))
def test_splits_are_reproducible_for_a_seed(cohort, seed):
    ids, labels = cohort
    a = patient_split(ids, labels, seed=seed)
    b = patient_split(ids, labels, seed=seed)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_fractions_and_stratification_on_a_large_cohort():
    rng = np.random.default_rng(0)
    ids = np.repeat(np.arange(1000), rng.integers(1, 6, size=1000))
    patient_label = (rng.random(1000) < 0.3).astype(int)  # 30 % of patients are positive
    labels = patient_label[ids]
    train, val, test = patient_split(ids, labels, val=0.15, test=0.15, seed=1)
    n = len(ids)
    assert len(val) / n == pytest.approx(0.15, abs=0.01) and len(test) / n == pytest.approx(0.15, abs=0.01)
    for part in (train, val, test):
        assert labels[part].mean() == pytest.approx(labels.mean(), abs=0.02)
    counts = split_balance(labels, {"train": train, "test": test}, ["negative", "positive"])
    assert sum(counts["train"].values()) == len(train) and set(counts["test"]) == {"negative", "positive"}
    other = patient_split(ids, labels, seed=2)
    assert not np.array_equal(other[2], test)  # another seed, another split


def test_a_random_image_split_leaks_and_a_patient_split_does_not():
    ids = np.repeat(np.arange(100), 4)
    order = np.random.default_rng(0).permutation(len(ids))
    image_train, image_test = order[:300], order[300:]
    assert len(shared_patients(ids, image_train, image_test)) > 50
    train, _, test = patient_split(ids, val=0.0, test=0.25)
    assert shared_patients(ids, train, test) == set()


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="val and test must be in"):
        patient_split([1, 2, 3], val=0.6, test=0.5)
    with pytest.raises(ValueError, match="2 patient\\(s\\) cannot fill 3 splits"):
        patient_split([1, 1, 2, 2])
    with pytest.raises(ValueError, match="3 patient\\(s\\) cannot fill 5 folds"):
        patient_kfold([1, 2, 3], 5)
    with pytest.raises(ValueError, match="4 patient ids but 3 labels"):
        patient_split([1, 2, 3, 4], [0, 1, 0])
    with pytest.raises(ValueError, match="folds must be an integer >= 2"):
        patient_kfold([1, 2, 3], 1)
