import numpy as np
import pytest

from medimgkit.metrics import roc_auc
from medimgkit.models import article_cnn, improved_cnn
from medimgkit.train import fit, get_strategy, predict_proba


def _small(breast):
    (x, y), (xv, yv) = breast["train"], breast["val"]
    return (x[:200], y[:200]), (xv, yv)


def test_seeded_runs_are_identical(breast):
    train, val = _small(breast)
    runs = []
    for _ in range(2):
        model, history = fit(
            lambda: improved_cnn((28, 28, 1), width=4, blocks=1), train, val,
            epochs=2, positive=0, seed=7, patience=None, deterministic=True,
        )
        runs.append((history.history["val_auc"], predict_proba(model, val[0])))
    assert runs[0][0] == runs[1][0]
    assert np.array_equal(runs[0][1], runs[1][1])


def test_history_has_validation_auc_and_best_weights_restored(breast):
    train, val = _small(breast)
    model, history = fit(lambda: article_cnn(), train, val, epochs=4, positive=0, patience=2, seed=0)
    aucs = history.history["val_auc"]
    assert 1 <= len(aucs) <= 4 and all(0 <= a <= 1 for a in aucs)
    final = roc_auc(val[1], predict_proba(model, val[0]), positive=0)
    assert np.isclose(final, max(aucs), atol=1e-6)


def test_strategy_builds_in_scope(breast):
    train, val = _small(breast)
    strategy = get_strategy()
    model, history = fit(lambda: article_cnn(), train, val, epochs=1, strategy=strategy, positive=0)
    assert len(history.history["loss"]) == 1
    with pytest.raises(ValueError, match="callable"):
        fit(article_cnn(), train, val, epochs=1, strategy=strategy)
    with pytest.raises(ValueError, match="epochs must be at least 1, got 0"):
        fit(article_cnn, train, val, epochs=0)
    with pytest.raises(TypeError, match="str"):
        fit("article_cnn", train, val, epochs=1)


def test_class_weights_raise_minority_sensitivity(breast):
    """Balanced weights trade specificity for sensitivity on the minority (malignant) class."""
    from medimgkit.metrics import binary_report

    train, val = breast["train"], breast["val"]
    sens = {}
    for balance in (False, True):
        model, _ = fit(lambda: article_cnn(), train, val, epochs=3, positive=0, balance=balance,
                       seed=0, patience=None)
        sens[balance] = binary_report(val[1], predict_proba(model, val[0]), positive=0, n_boot=0)["sensitivity"]
    assert sens[True] >= sens[False]


def test_cosine_schedule_label_smoothing_weight_decay_and_tta(breast):
    import keras

    train, val = _small(breast)
    model, history = fit(lambda: improved_cnn((28, 28, 1), width=4, blocks=1), train, val, epochs=2,
                         positive=0, schedule="cosine", label_smoothing=0.1, weight_decay=1e-4, patience=None)
    assert isinstance(model.optimizer, keras.optimizers.AdamW)
    assert np.isclose(float(model.optimizer.learning_rate), 0.0, atol=1e-6)  # cosine decayed to zero at the end
    assert np.isclose(model.loss.label_smoothing, 0.1)
    p = predict_proba(model, val[0], tta=True)
    assert p.shape == (len(val[0]), 2) and np.allclose(p.sum(axis=1), 1, atol=1e-5)
    mirrored = predict_proba(model, val[0][:, :, ::-1], tta=True)
    assert np.allclose(p, mirrored, atol=1e-5)  # TTA is symmetric under the flip it averages over
    with pytest.raises(ValueError, match="'step'"):
        fit(article_cnn, train, val, epochs=1, schedule="step")


def test_mixup_blends_batches_and_stays_reproducible(breast):
    import tensorflow as tf

    from medimgkit.train import _mixup

    x = tf.constant(np.stack([np.zeros((4, 4, 1)), np.ones((4, 4, 1))]), tf.float32)
    y = tf.constant([[1.0, 0.0], [0.0, 1.0]])
    mixed_x, mixed_y = _mixup(0.4, seed=0)(x, y)
    # each mixed image is a convex blend, and its target carries the same weights
    assert np.allclose(mixed_x.numpy().mean(axis=(1, 2, 3)), mixed_y.numpy()[:, 1], atol=1e-6)
    assert np.allclose(mixed_y.numpy().sum(axis=1), 1)

    train, val = _small(breast)
    runs = [fit(lambda: improved_cnn((28, 28, 1), width=4, blocks=1), train, val, epochs=2,
                positive=0, mixup=0.2, seed=3, patience=None)[1].history["val_auc"] for _ in range(2)]
    assert runs[0] == runs[1]
    with pytest.raises(ValueError, match="mixup must be >= 0.*-1"):
        fit(article_cnn, train, val, epochs=1, mixup=-1)


def test_ema_returns_the_averaged_weights_and_needs_a_fixed_budget(breast):
    train, val = _small(breast)
    common = dict(epochs=2, positive=0, seed=5, patience=None)
    raw, _ = fit(lambda: improved_cnn((28, 28, 1), width=4, blocks=1), train, val, **common)
    averaged, _ = fit(lambda: improved_cnn((28, 28, 1), width=4, blocks=1), train, val, ema=0.9, **common)
    assert averaged.optimizer.use_ema and np.isclose(averaged.optimizer.ema_momentum, 0.9)
    # Keras overwrites the weights with their moving averages when fit ends
    averages = averaged.optimizer._model_variables_moving_average
    for weight, average in zip(averaged.trainable_weights, averages):
        assert np.array_equal(weight.numpy(), average.numpy())
    assert not np.allclose(raw.trainable_weights[0].numpy(), averaged.trainable_weights[0].numpy())
    with pytest.raises(ValueError, match="ema must be a momentum in \\(0, 1\\).*1.5"):
        fit(article_cnn, train, val, epochs=1, ema=1.5, patience=None)
    with pytest.raises(ValueError, match="patience=None.*patience=3"):
        fit(article_cnn, train, val, epochs=1, ema=0.99, patience=3)


# ---------------------------------------------------------------- bad input (issue 14)

def _tiny(size=8, units=2):
    import keras

    def build():
        inp = keras.Input((size, size, 1))
        return keras.Model(inp, keras.layers.Dense(units, activation="softmax")(keras.layers.Flatten()(inp)))

    return build


def _data(n=20, size=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, size, size), dtype=np.uint8), np.array([0, 1] * (n // 2))


def test_case4_one_class_validation_is_refused_before_training():
    train = _data()
    one_class = (_data(seed=1)[0], np.zeros(20, int))
    with pytest.raises(ValueError, match=r"val labels: expected the positive class 1 and at least one other class.*"
                                         r"found only class 0 \(20 images.*early stopping.*patient_split.*patience=None"):
        fit(_tiny(), train, one_class, epochs=3, patience=2)
    with pytest.warns(UserWarning, match=r"found only class 0.*undefined \(NaN\)"):
        _, history = fit(_tiny(), train, one_class, epochs=1, patience=None)
    assert np.isnan(history.history["val_auc"]).all()


def test_training_input_is_checked_before_tensorflow_sees_it():
    train, val = _data(), _data(seed=1)
    soft = train[1].astype(float)
    soft[3] = 0.7
    with pytest.raises(ValueError, match=r"train labels: expected integer labels.*found 0\.7 at index 3"):
        fit(_tiny(), (train[0], soft), val, epochs=1)
    with pytest.raises(ValueError, match=r"train labels: expected labels in 0\.\.1 \(the model has 2 classes\), found label 2"):
        fit(_tiny(), (train[0], np.array([0, 1, 2, 1] * 5)), val, epochs=1)
    with pytest.raises(ValueError, match=r"train images: expected images shaped \(N, 8, 8, 1\).*found shape \(N, 10, 10, 1\)"):
        fit(_tiny(), _data(size=10), val, epochs=1)
    with pytest.raises(ValueError, match=r"20 val images but 19 val labels"):
        fit(_tiny(), train, (val[0], val[1][:-1]), epochs=1)
    with pytest.raises(ValueError, match=r"train images: .*divide by 255"):
        fit(_tiny(), (train[0].astype(np.float32), train[1]), val, epochs=1)
    with pytest.raises(ValueError, match=r"val labels: expected labels in 0\.\.1 \(the model has 2 classes\), found label 2"):
        fit(_tiny(), (train[0], train[1]), (val[0], np.array([0, 1, 2, 2] * 5)), epochs=1, positive=2)
    with pytest.raises(ValueError, match=r"val labels: expected the positive class 2.*no image of class 2"):
        fit(_tiny(), train, val, epochs=1, positive=2)
    with pytest.raises(ValueError, match=r"images: expected images shaped \(N, 8, 8, 1\).*\(N, 12, 12, 1\)"):
        predict_proba(_tiny()(), _data(size=12)[0])


def test_load_medical_folder_output_trains_directly(tmp_path):
    from medimgkit.data import load_medical_folder, save_image_folder

    x, y = _data()
    save_image_folder(tmp_path / "tree", x, y, ["benign", "malignant"])
    dataset = load_medical_folder(tmp_path / "tree", image_size=(8, 8))
    assert dataset.images.dtype == np.float32 and 0 <= dataset.images.min() and dataset.images.max() <= 1
    model, history = fit(_tiny(), dataset, dataset, epochs=1, patience=None)
    assert len(history.history["val_auc"]) == 1
    assert predict_proba(model, dataset.images).shape == (20, 2)


def test_validation_auc_reads_a_sigmoid_output_for_either_positive():
    import keras

    from medimgkit.train import ValidationAUC

    inp = keras.Input((2,))
    model = keras.Model(inp, keras.layers.Dense(1, activation="sigmoid")(inp))
    x = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [0.9, 0.1]], np.float32)
    y = np.array([1, 0, 1, 0])
    p1 = model.predict(x, verbose=0)[:, 0]
    for positive in (0, 1):
        callback = ValidationAUC(x, y, positive=positive)
        callback.set_model(model)
        logs = {}
        callback.on_epoch_end(0, logs)
        assert np.isclose(logs["val_auc"], roc_auc(y, p1[:, None], positive=positive))


def test_extra_callbacks_log_the_run_to_tensorboard(breast, tmp_path):
    """``callbacks=`` runs after the book's own: TensorBoard logs the same losses and the validation AUC."""
    import keras
    import tensorflow as tf

    train, val = _small(breast)
    logs = tmp_path / "logs"
    model, history = fit(lambda: improved_cnn((28, 28, 1), width=8), train, val, epochs=2, positive=0,
                         patience=None, seed=0, callbacks=[keras.callbacks.TensorBoard(log_dir=str(logs))])

    def scalars(split: str, tag: str) -> list[float]:
        values = []
        for path in sorted((logs / split).glob("events.out.tfevents.*")):
            for event in tf.compat.v1.train.summary_iterator(str(path)):
                for v in event.summary.value:
                    if v.tag == tag:
                        values.append(float(tf.make_ndarray(v.tensor)))
        return values

    assert scalars("train", "epoch_loss") == pytest.approx(history.history["loss"], rel=1e-6)
    assert scalars("validation", "epoch_loss") == pytest.approx(history.history["val_loss"], rel=1e-6)
    assert scalars("validation", "epoch_auc") == pytest.approx(history.history["val_auc"], rel=1e-6)

    with pytest.raises(TypeError, match=r"callbacks: expected keras.callbacks.Callback instances, found \['str'\]"):
        fit(lambda: improved_cnn((28, 28, 1), width=8), train, val, epochs=1, callbacks=["tensorboard"])
