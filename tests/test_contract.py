"""The one input contract (medimgkit._contract): properties of its validators, and the places that use it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from medimgkit._contract import class_labels, fits_model, fits_outputs, model_input

PROPERTY = settings(max_examples=80, deadline=None)
IMAGES = hnp.array_shapes(min_dims=3, max_dims=4, min_side=1, max_side=6)


@PROPERTY
@given(hnp.arrays(np.uint8, IMAGES))
def test_uint8_and_the_same_images_divided_by_255_are_one_input(x):
    a = model_input(x)
    b = model_input(x.astype(np.float64) / 255)
    assert a.dtype == np.float32 and a.ndim == 4 and a.min() >= 0 and a.max() <= 1
    assert np.allclose(a, b)


@PROPERTY
@given(hnp.arrays(np.float32, IMAGES, elements=st.floats(0, 255, width=32)))
def test_floats_beyond_1_are_refused_with_the_fix(x):
    if x.max() <= 1:
        assert np.array_equal(model_input(x)[..., 0] if x.ndim == 3 else model_input(x), x)
    else:
        with pytest.raises(ValueError, match=r"images: expected uint8 in 0-255 or float in \[0, 1\].*divide by 255"):
            model_input(x)


@PROPERTY
@given(hnp.arrays(np.int64, st.integers(1, 30), elements=st.integers(0, 9)), st.data())
def test_class_labels_refuse_what_a_cast_would_silently_change(y, data):
    assert np.array_equal(class_labels(y.astype(np.float32)), y)
    assert np.array_equal(class_labels(y[:, None]), y)
    i = data.draw(st.integers(0, len(y) - 1))
    soft = y.astype(np.float64)
    soft[i] = data.draw(st.sampled_from([0.7, 1.5, np.nan, -1.0]))
    with pytest.raises(ValueError, match=rf"labels: expected .*found .* at index {i}"):
        class_labels(soft)
    with pytest.raises(ValueError, match=rf"{len(y)} images but {len(y) + 1} labels"):
        class_labels(np.r_[y, 0], n=len(y))


def _model(shape=(8, 8, 1), units=2):
    import keras

    inp = keras.Input(shape)
    return keras.Model(inp, keras.layers.Dense(units, activation="softmax")(keras.layers.Flatten()(inp)))


def test_model_fit_checks_name_both_shapes_and_the_fix():
    model = _model()
    fits_model(model, np.zeros((2, 8, 8, 1), np.float32))
    with pytest.raises(ValueError, match=r"expected images shaped \(N, 8, 8, 1\).*found shape \(N, 9, 9, 1\).*resize_pad"):
        fits_model(model, np.zeros((2, 9, 9, 1), np.float32))
    with pytest.raises(ValueError, match=r"found shape \(N, 8, 8, 3\); convert grey/colour"):
        fits_model(model, np.zeros((2, 8, 8, 3), np.float32))
    assert fits_outputs(model, np.array([0, 1])) == 2
    with pytest.raises(ValueError, match=r"labels in 0\.\.1 \(the model has 2 classes\), found label 2 at index 1"):
        fits_outputs(model, np.array([0, 2]))
    with pytest.raises(ValueError, match=r"model: expected a classifier with one softmax output per class.*1 output unit"):
        fits_outputs(_model(units=1), np.array([0, 1]))
