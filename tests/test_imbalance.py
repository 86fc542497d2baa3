"""Random over- and undersampling of the training split."""

import numpy as np
import pytest

from medimgkit.data.resampling import resample


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
