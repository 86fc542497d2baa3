"""Random over- and undersampling of the training split."""

import numpy as np
import pytest

from medimgkit.data.resampling import repeat_to_size, resample


def test_oversampling_keeps_every_image_and_balances(breast):
    x, y = breast["train"]
    ids = np.arange(len(y))
    ids_over, y_over = resample(ids, y, "over", seed=0)
    counts = np.bincount(y_over)
    assert counts[0] == counts[1] == np.bincount(y).max()
    assert set(ids_over.tolist()) == set(ids.tolist())  # nothing dropped
    assert np.array_equal(y[ids_over], y_over)
    x_over, _ = resample(x, y, "over", seed=0)
    assert np.array_equal(x_over, x[ids_over])


def test_undersampling_drops_without_repeats_and_is_seeded(breast):
    _, y = breast["train"]
    ids = np.arange(len(y))
    ids_under, y_under = resample(ids, y, "under", seed=1)
    assert np.bincount(y_under).tolist() == [np.bincount(y).min()] * 2
    assert len(np.unique(ids_under)) == len(ids_under)
    again, _ = resample(ids, y, "under", seed=1)
    other, _ = resample(ids, y, "under", seed=2)
    assert np.array_equal(ids_under, again) and not np.array_equal(ids_under, other)


def test_resample_refuses_bad_input():
    with pytest.raises(ValueError, match="mode"):
        resample(np.zeros(4), np.array([0, 1, 0, 1]), "smote")
    with pytest.raises(ValueError, match="two classes"):
        resample(np.zeros(3), np.zeros(3, int))
    with pytest.raises(ValueError, match="labels"):
        resample(np.zeros(4), np.zeros(3, int))


def test_repeat_to_size_gives_a_small_subset_the_updates_of_the_full_split(breast):
    from medimgkit.data import stratified_subset

    x, y = breast["train"]
    x_s, y_s = stratified_subset(x, y, 0.1, seed=0)
    x_r, y_r = repeat_to_size(x_s, y_s, len(y))
    times = round(len(y) / len(y_s))
    assert len(y_r) == times * len(y_s) and abs(len(y_r) - len(y)) <= len(y_s)
    assert np.array_equal(x_r[: len(y_s)], x_s) and np.array_equal(x_r[-len(y_s):], x_s)
    assert np.bincount(y_r).tolist() == [times * c for c in np.bincount(y_s)]
    x_same, y_same = repeat_to_size(x, y, len(y))                # the full split stays itself
    assert np.array_equal(x_same, x) and np.array_equal(y_same, y)


@pytest.mark.parametrize("size", [0, -5, 2.5])
def test_repeat_to_size_refuses_a_size_that_is_not_a_positive_count(breast, size):
    x, y = breast["train"]
    with pytest.raises(ValueError, match=r"size must be a positive whole number of images, got"):
        repeat_to_size(x[:10], y[:10], size)


def test_repeat_to_size_refuses_labels_that_do_not_match(breast):
    x, y = breast["train"]
    with pytest.raises(ValueError, match=r"labels must be \(N,\) with N > 0 matching 10 images"):
        repeat_to_size(x[:10], y[:9], 100)
