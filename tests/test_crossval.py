"""k-fold cross-validation on real BreastMNIST: parts, out-of-fold predictions, bad input."""

import numpy as np
import pytest

from medimgkit import crossval, data, models
from medimgkit.experiments import recipe
from medimgkit.metrics import roc_auc
from medimgkit.train import fit, predict_proba

FIT = {"epochs": 2, "schedule": "cosine"}


def tiny():
    return models.improved_cnn((28, 28, 1), width=8, blocks=2, augment=False)


@pytest.fixture(scope="module")
def pooled(breast):
    x, y = crossval.pool(breast)
    return data.stratified_subset(x, y, 0.3, seed=0)


@pytest.fixture(scope="module")
def cv(pooled):
    x, y = pooled
    patients = np.arange(len(y)) // 2  # pretend every two consecutive images come from one woman
    return crossval.cross_val_predict(tiny, x, y, folds=3, seed=0, positive=0, patient_ids=patients, **FIT)


def test_pool_is_train_then_validation_and_never_test(breast):
    x, y = crossval.pool(breast)
    n_train, n_val = len(breast["train"][1]), len(breast["val"][1])
    assert x.shape == (n_train + n_val, 28, 28) and x.dtype == np.uint8
    assert np.array_equal(x[:n_train], breast["train"][0]) and np.array_equal(x[n_train:], breast["val"][0])
    assert np.array_equal(y, np.concatenate([breast["train"][1], breast["val"][1]]))
    with pytest.raises(ValueError, match="no split named 'valid'; available"):
        crossval.pool(breast, names=("train", "valid"))


def test_every_image_is_held_out_once_and_parts_keep_the_class_mix_and_the_patients(cv, pooled):
    _, y = pooled
    assert cv.fold.shape == y.shape and set(cv.fold.tolist()) == {0, 1, 2}
    sizes = np.bincount(cv.fold)
    assert sizes.max() - sizes.min() <= 2
    malignant = np.bincount(cv.fold[y == 0], minlength=3)
    assert malignant.max() - malignant.min() <= 2  # stratified: about a third of the malignant images each
    assert np.array_equal(cv.fold[0::2][: len(y) // 2], cv.fold[1::2][: len(y) // 2])  # a patient stays in one part


def test_out_of_fold_probabilities_come_from_the_model_that_did_not_see_the_image(cv, pooled):
    x, y = pooled
    assert cv.probs.shape == (len(y), 2) and cv.probs.dtype == np.float32
    assert np.array_equal(cv.labels, y)
    assert np.allclose(cv.probs.sum(axis=1), 1, atol=1e-5)
    for k, model in enumerate(cv.models):
        held = cv.fold == k
        assert np.array_equal(cv.probs[held], predict_proba(model, x[held]))
        assert np.isclose(cv.fold_auc[k], roc_auc(y[held], cv.probs[held], positive=0))
    assert np.isclose(cv.auc, roc_auc(y, cv.probs, positive=0))
    assert cv.positive == 0 and cv.minutes > 0

    # model 0 is exactly what training on the other parts alone gives: it never saw part 0
    again, _ = fit(tiny, (x[cv.fold != 0], y[cv.fold != 0]), (x[cv.fold == 0], y[cv.fold == 0]),
                   positive=0, seed=0, patience=None, **FIT)
    for a, b in zip(again.get_weights(), cv.models[0].get_weights()):
        assert np.array_equal(a, b)


def test_bad_requests_name_the_value(pooled):
    x, y = pooled
    with pytest.raises(ValueError, match="patience=5, expected None"):
        crossval.cross_val_predict(tiny, x, y, folds=3, patience=5)
    with pytest.raises(ValueError, match="folds must be an integer >= 2, got 1"):
        crossval.cross_val_predict(tiny, x, y, folds=1)
    with pytest.raises(ValueError, match=f"{len(y)} images but 3 labels"):
        crossval.cross_val_predict(tiny, x, y[:3])
    with pytest.raises(ValueError, match="positive class 7 does not occur in labels \\[0, 1\\]"):
        crossval.cross_val_predict(tiny, x, y, positive=7)


def test_recipe_settings_route_overrides_to_the_model_or_to_fit():
    model, fit_cfg = recipe.settings("breastmnist:28", zoom=0.1, epochs=60, label_smoothing=0.1)
    assert model == {**recipe.RECIPES["breastmnist:28"].model, "zoom": 0.1}
    assert fit_cfg == {**recipe.RECIPES["breastmnist:28"].fit, "epochs": 60, "label_smoothing": 0.1}
    assert recipe.settings("breastmnist:64") == (recipe.RECIPES["breastmnist:64"].model, recipe.RECIPES["breastmnist:64"].fit)
    with pytest.raises(ValueError, match="'breastmnist:32'"):
        recipe.settings("breastmnist:32")


def test_recipe_cross_validation_loads_train_and_validation_only(monkeypatch, data_folder):
    monkeypatch.setenv("MEDIMGKIT_QUICK", "1")
    loaded = []
    real = data.load_medmnist

    def spy(name, size, split, *args, **kwargs):
        loaded.append(split)
        return real(name, size, split, *args, **kwargs)

    monkeypatch.setattr(data, "load_medmnist", spy)
    cv = recipe.cross_validate("breastmnist", 28, seed=0, folds=2, width=8)
    assert sorted(loaded) == ["train", "val"]
    assert len(cv.models) == 2 and cv.models[0].get_layer("block1_conv1").filters == 8
    n = len(real("breastmnist", 28, "train")[1]) + len(real("breastmnist", 28, "val")[1])
    assert abs(len(cv.fold) - n / 3) <= 2  # quick mode: a third of the pooled images
    assert 0 <= cv.auc <= 1
