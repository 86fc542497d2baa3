"""The U-Net's shape and parameters, and Dice/IoU (NumPy, Keras metric and loss) against a hand-computed case."""

import numpy as np
import pytest

from medimgkit import metrics, models

# Truth: a 2 x 2 square in the top-left corner of a 4 x 4 image. Prediction: the same square one row down.
#   truth      prediction
#   1 1 0 0    0 0 0 0
#   1 1 0 0    1 1 0 0
#   0 0 0 0    1 1 0 0
#   0 0 0 0    0 0 0 0
# |T| = |P| = 4, |T n P| = 2, |T u P| = 6: Dice = 2*2/8 = 0.5, IoU = 2/6 = 1/3; 12 of 16 pixels agree.
TRUTH = np.zeros((4, 4), np.uint8)
TRUTH[0:2, 0:2] = 1
PRED = np.zeros((4, 4), np.uint8)
PRED[1:3, 0:2] = 1


def test_dice_and_iou_by_hand():
    assert metrics.dice(TRUTH, PRED) == pytest.approx(0.5)
    assert metrics.iou(TRUTH, PRED) == pytest.approx(1 / 3)
    assert metrics.pixel_accuracy(TRUTH, PRED) == pytest.approx(12 / 16)
    assert metrics.dice(TRUTH, TRUTH) == 1.0 and metrics.dice(TRUTH, 1 - TRUTH) == 0.0
    assert metrics.dice(np.zeros((4, 4)), np.zeros((4, 4))) == 1.0  # both empty: they agree
    probs = PRED * 0.9 + 0.05  # probabilities are thresholded at 0.5
    np.testing.assert_allclose(metrics.dice(np.stack([TRUTH, TRUTH]), np.stack([probs, TRUTH])), [0.5, 1.0])


def test_dice_is_twice_iou_over_one_plus_iou(rng):
    t, p = rng.random((20, 16, 16)) > 0.6, rng.random((20, 16, 16)) > 0.5
    d, j = metrics.dice(t, p), metrics.iou(t, p)
    np.testing.assert_allclose(d, 2 * j / (1 + j))


def test_pixel_accuracy_rewards_predicting_nothing_when_the_object_is_small():
    truth = np.zeros((64, 64), np.uint8)
    truth[28:36, 28:36] = 1  # 64 of 4096 pixels
    nothing = np.zeros_like(truth)
    assert metrics.pixel_accuracy(truth, nothing) > 0.98 and metrics.dice(truth, nothing) == 0.0


def test_segmentation_report_has_cis_over_images(rng):
    t = rng.random((30, 8, 8)) > 0.5
    p = t ^ (rng.random((30, 8, 8)) > 0.9)
    r = metrics.segmentation_report(t, p, n_boot=200)
    assert r["n"] == 30 and r["per_image"]["dice"].shape == (30,)
    for k in ("dice", "iou", "pixel_accuracy"):
        assert r["ci"][k][0] <= r[k] <= r["ci"][k][1]


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match=r"y_true has shape \(4, 4\) but y_pred has shape \(4, 5\)"):
        metrics.dice(TRUTH, np.zeros((4, 5)))
    with pytest.raises(ValueError, match="NaN"):
        metrics.iou(TRUTH, np.full((4, 4), np.nan))


def test_keras_metrics_and_loss_by_hand():
    import keras

    t = TRUTH[None, :, :, None].astype("float32")
    p = PRED[None, :, :, None].astype("float32")
    for metric, expected in ((metrics.dice_metric(), 0.5), (metrics.iou_metric(), 1 / 3)):
        metric.update_state(t, p)
        assert float(metric.result()) == pytest.approx(expected, abs=1e-6)
    # soft Dice with smooth = 1: (2 * 2 + 1) / (8 + 1) = 5/9, so the loss without cross-entropy is 4/9
    loss = metrics.dice_loss(smooth=1.0, bce=0.0)
    assert float(keras.ops.mean(loss(t, p))) == pytest.approx(4 / 9, abs=1e-6)
    with_bce = metrics.dice_loss(smooth=1.0, bce=1.0)
    assert float(keras.ops.mean(with_bce(t, p))) > 4 / 9
    assert float(keras.ops.mean(loss(t, t))) == pytest.approx(0.0, abs=1e-6)


def test_unet_output_shape_and_range():
    model = models.unet((32, 48, 1), depth=3, width=4)
    x = np.random.default_rng(0).random((2, 32, 48, 1)).astype("float32")
    y = model.predict(x, verbose=0)
    assert y.shape == (2, 32, 48, 1) and y.min() >= 0 and y.max() <= 1
    assert model.inputs[0].shape[1:] == (32, 48, 1)
    assert model.get_layer("mask").activation.__name__ == "sigmoid"
    assert any(layer.name == "dec3_skip" for layer in model.layers)


def test_unet_parameters_by_hand():
    # depth 1, width 2, no batch norm, one input channel:
    # enc1 3x3 1->2 (20) and 2->2 (38); bottleneck 2->4 (76) and 4->4 (148);
    # up 2x2 transpose 4->2 (34); dec1 3x3 (2+2)->2 (74) and 2->2 (38); 1x1 output 2->1 (3)
    model = models.unet((8, 8, 1), depth=1, width=2, batch_norm=False)
    assert model.count_params() == 20 + 38 + 76 + 148 + 34 + 74 + 38 + 3


def test_unet_learns_one_image():
    import keras

    keras.utils.set_random_seed(0)
    x = np.zeros((4, 16, 16, 1), "float32")
    y = np.zeros((4, 16, 16, 1), "float32")
    x[:, 4:12, 4:12] = 1.0
    y[:, 4:12, 4:12] = 1.0
    model = models.unet((16, 16, 1), depth=2, width=4)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=metrics.dice_loss(), metrics=[metrics.dice_metric()])
    history = model.fit(x, y, epochs=30, batch_size=4, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["dice"][-1] > 0.9


def test_unet_refuses_a_size_it_cannot_halve():
    with pytest.raises(ValueError, match="divisible by 16; got 100 x 128"):
        models.unet((100, 128, 1), depth=4)
    with pytest.raises(ValueError, match="depth"):
        models.unet((32, 32, 1), depth=0)
