"""Hostile inputs across medimgkit: does each get the right answer or a clear error?

Run ``.venv/bin/python benchmarks/hostile_inputs.py`` (about two minutes on
2 cores). Each case feeds one bad or unusual input to a public function and
is counted as

``ok``
    the right answer, or an error of the package's own kind whose message
    says what is wrong (the regular expression of the case);
``bad``
    a wrong answer without a word, a raw error from NumPy, TensorFlow,
    Pillow or the operating system, or a message that does not say what is
    wrong.

The script prints one line per case and the count per class, and writes them
to ``benchmarks/results/hostile_inputs.json``. Issue 14 of the project lists
the classes; the cases here are our own, written before the fixes, so the
same script gives the before and after counts.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MEDIMGKIT_QUICK", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

CASES: list[tuple[str, str, Callable[[Path], bool]]] = []


def case(cls: str):
    def register(fn):
        CASES.append((cls, fn.__name__, fn))
        return fn

    return register


def raises(fn: Callable[[], object], pattern: str, types=(ValueError,)) -> bool:
    """True when ``fn`` raises one of ``types`` with a message matching ``pattern``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn()
    except types as exc:  # noqa: PERF203
        ok = re.search(pattern, str(exc), re.IGNORECASE | re.DOTALL) is not None
        if not ok:
            print(f"      message: {type(exc).__name__}: {str(exc)[:300]}")
        return ok
    except Exception as exc:  # noqa: BLE001
        print(f"      raw error: {type(exc).__name__}: {str(exc)[:300]}")
        return False
    print("      no error")
    return False


def warns(fn: Callable[[], object], pattern: str) -> bool:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fn()
        except Exception as exc:  # noqa: BLE001
            print(f"      error instead of a warning: {type(exc).__name__}: {str(exc)[:200]}")
            return False
    ok = any(re.search(pattern, str(w.message), re.IGNORECASE | re.DOTALL) for w in caught)
    if not ok:
        print(f"      warnings: {[str(w.message)[:120] for w in caught]}")
    return ok


# ---------------------------------------------------------------- scores and labels

def _sigmoid_case(n=40, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    p1 = np.clip(0.5 * y + 0.5 * rng.random(n), 0, 1)  # P(label 1), informative
    return y, p1[:, None]


@case("scores: (N, 1) sigmoid output read as the wrong class")
def report_sigmoid_positive0(tmp):
    from medimgkit.metrics import binary_report, roc_auc

    y, p = _sigmoid_case()
    try:
        r = binary_report(y, p, positive=0, n_boot=0)
    except Exception as exc:  # noqa: BLE001
        print(f"      {type(exc).__name__}: {exc}")
        return False
    return np.isclose(r["auc"], roc_auc(y == 0, 1 - p[:, 0], positive=1))


@case("scores: (N, 1) sigmoid output read as the wrong class")
def report_sigmoid_positive1(tmp):
    from medimgkit.metrics import binary_report, roc_auc

    y, p = _sigmoid_case()
    try:
        r = binary_report(y, p, positive=1, n_boot=0)
    except Exception as exc:  # noqa: BLE001
        print(f"      {type(exc).__name__}: {exc}")
        return False
    return np.isclose(r["auc"], roc_auc(y, p[:, 0], positive=1))


@case("scores: (N, 1) sigmoid output read as the wrong class")
def sensitivity_sigmoid_positive0(tmp):
    from medimgkit.metrics import binary_report

    y, p = _sigmoid_case()
    try:
        r = binary_report(y, p, positive=0, n_boot=0)
    except Exception:  # noqa: BLE001
        return False
    called = (1 - p[:, 0]) >= 0.5
    return np.isclose(r["sensitivity"], np.mean(called[y == 0]))


@case("scores: (N, 1) sigmoid output read as the wrong class")
def roc_curve_sigmoid_positive0(tmp):
    from medimgkit.metrics import roc_auc, roc_curve

    y, p = _sigmoid_case()
    try:
        fpr, tpr, _ = roc_curve(y, p, positive=0)
    except Exception:  # noqa: BLE001
        return False
    return np.isclose(np.trapezoid(tpr, fpr), roc_auc(y == 0, 1 - p[:, 0]))


@case("scores: (N, 1) sigmoid output read as the wrong class")
def ece_sigmoid_positive0(tmp):
    from medimgkit.metrics import expected_calibration_error

    y, p = _sigmoid_case()
    try:
        got = expected_calibration_error(y, p, positive=0)
    except Exception:  # noqa: BLE001
        return False
    return np.isclose(got, expected_calibration_error((y == 0).astype(int), 1 - p[:, 0], positive=1))


@case("scores: (N, 1) sigmoid output read as the wrong class")
def youden_sigmoid_positive0(tmp):
    from medimgkit.metrics import youden_threshold

    y, p = _sigmoid_case()
    try:
        got = youden_threshold(y, p, positive=0)
    except Exception:  # noqa: BLE001
        return False
    return np.isclose(got, youden_threshold((y == 0).astype(int), 1 - p[:, 0], positive=1))


@case("scores: (N, 1) sigmoid output read as the wrong class")
def platt_sigmoid_column(tmp):
    from medimgkit.metrics import platt_scaling

    y, p = _sigmoid_case()
    try:
        calibrate = platt_scaling(y, p, positive=1)
        out = calibrate(p)
    except Exception as exc:  # noqa: BLE001
        print(f"      {type(exc).__name__}: {exc}")
        return False
    return out.shape == (len(y),) and np.all((out >= 0) & (out <= 1))


@case("scores: (N, 1) sigmoid output read as the wrong class")
def auc_difference_sigmoid_positive0(tmp):
    from medimgkit.metrics import auc_difference, roc_auc

    y, p = _sigmoid_case()
    q = np.clip(p + 0.1, 0, 1)
    try:
        d = auc_difference(y, p, q, positive=0, n_boot=20)
    except Exception as exc:  # noqa: BLE001
        print(f"      {type(exc).__name__}: {exc}")
        return False
    want = roc_auc(y == 0, 1 - p[:, 0]) - roc_auc(y == 0, 1 - q[:, 0])
    return np.isclose(d["diff"], want)


@case("scores: (N, 1) sigmoid output read as the wrong class")
def auc_difference_softmax_columns(tmp):
    from medimgkit.metrics import auc_difference, roc_auc

    y, p = _sigmoid_case()
    a = np.hstack([1 - p, p])
    b = np.hstack([p, 1 - p])
    try:
        d = auc_difference(y, a, b, positive=0, n_boot=20)
    except Exception as exc:  # noqa: BLE001
        print(f"      {type(exc).__name__}: {exc}")
        return False
    return np.isclose(d["diff"], roc_auc(y, a, positive=0) - roc_auc(y, b, positive=0))


@case("scores: positive label absent from y_true")
def report_positive_absent(tmp):
    from medimgkit.metrics import binary_report

    return raises(lambda: binary_report([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8], positive=2), r"positive.*2.*\[0, 1\]")


@case("scores: positive label absent from y_true")
def auc_positive_absent(tmp):
    from medimgkit.metrics import roc_auc

    return raises(lambda: roc_auc([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8], positive=2), r"positive.*2.*\[0, 1\]")


@case("scores: positive label absent from y_true")
def curve_positive_absent(tmp):
    from medimgkit.metrics import roc_curve

    return raises(lambda: roc_curve([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8], positive=2), r"positive.*2.*\[0, 1\]")


@case("scores: positive label absent from y_true")
def ece_positive_absent(tmp):
    from medimgkit.metrics import expected_calibration_error

    return raises(lambda: expected_calibration_error([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8], positive=2),
                  r"positive.*2.*\[0, 1\]")


@case("scores: positive label absent from y_true")
def auc_difference_positive_absent(tmp):
    from medimgkit.metrics import auc_difference

    y = np.array([0, 1] * 10)
    return raises(lambda: auc_difference(y, np.linspace(0, 1, 20), np.linspace(1, 0, 20), positive=2, n_boot=10),
                  r"positive.*2.*\[0, 1\]")


@case("scores: positive label absent from y_true")
def threshold_positive_absent(tmp):
    from medimgkit.metrics import threshold_for_sensitivity

    return raises(lambda: threshold_for_sensitivity([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8], 0.9, positive=2),
                  r"positive.*2.*\[0, 1\]")


@case("scores: labels that are not class labels")
def labels_with_nan(tmp):
    from medimgkit.metrics import binary_report

    return raises(lambda: binary_report([0, 1, np.nan, 1], [0.1, 0.9, 0.2, 0.8]), r"y_true.*NaN")


@case("scores: labels that are not class labels")
def soft_labels_in_metrics(tmp):
    from medimgkit.metrics import roc_auc

    return raises(lambda: roc_auc([0, 1, 0.7, 1], [0.1, 0.9, 0.2, 0.8]), r"y_true.*0\.7")


@case("scores: labels that are not class labels")
def string_labels(tmp):
    from medimgkit.metrics import binary_report

    return raises(lambda: binary_report(["benign", "malignant"] * 3, np.linspace(0, 1, 6)), r"y_true.*(integer|str)")


@case("scores: labels that are not class labels")
def one_hot_labels(tmp):
    from medimgkit.metrics import binary_report

    y = np.eye(2)[[0, 1, 0, 1]]
    return raises(lambda: binary_report(y, [0.1, 0.9, 0.2, 0.8]), r"y_true.*one-hot|y_true.*shape \(4, 2\)")


@case("scores: scores that are not scores")
def scores_as_strings(tmp):
    from medimgkit.metrics import binary_report

    return raises(lambda: binary_report([0, 1], ["low", "high"]), r"y_score.*(numeric|number|dtype)")


@case("scores: scores that are not scores")
def scores_none(tmp):
    from medimgkit.metrics import roc_auc

    return raises(lambda: roc_auc([0, 1], None), r"y_score", (ValueError, TypeError))


@case("scores: scores that are not scores")
def scores_3d(tmp):
    from medimgkit.metrics import binary_report

    return raises(lambda: binary_report([0, 1], np.zeros((2, 2, 2))), r"y_score.*shape \(2, 2, 2\)")


@case("scores: scores that are not scores")
def sigmoid_logits_as_probability(tmp):
    from medimgkit.metrics import binary_report

    y = np.array([0, 1, 0, 1])
    logits = np.array([[-2.0], [3.0], [-1.0], [2.0]])
    return raises(lambda: binary_report(y, logits, positive=0), r"y_score.*\[0, 1\]")


@case("scores: scores that are not scores")
def platt_positive_column_missing(tmp):
    from medimgkit.metrics import platt_scaling

    y = np.array([0, 1] * 10)
    p = np.linspace(0.05, 0.95, 20)
    calibrate = platt_scaling(y, np.stack([1 - p, p], 1), positive=1)
    return raises(lambda: calibrate(np.zeros((3, 2, 2))), r"shape")


@case("parameters: settings that are not settings")
def threshold_nan(tmp):
    from medimgkit.metrics import binary_report

    return raises(lambda: binary_report([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8], threshold=float("nan")), r"threshold")


@case("parameters: settings that are not settings")
def threshold_string(tmp):
    from medimgkit.metrics import binary_report

    return raises(lambda: binary_report([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8], threshold="0.5"), r"threshold",
                  (ValueError, TypeError))


@case("parameters: settings that are not settings")
def positive_float(tmp):
    from medimgkit.metrics import roc_auc

    return raises(lambda: roc_auc([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8], positive=0.5), r"positive")


@case("parameters: settings that are not settings")
def num_classes_bool(tmp):
    from medimgkit.metrics import confusion_matrix

    return raises(lambda: confusion_matrix([0, 1], [1, 1], num_classes=True), r"num_classes")


@case("parameters: settings that are not settings")
def auc_difference_n_boot_float(tmp):
    from medimgkit.metrics import auc_difference

    y = np.array([0, 1] * 10)
    return raises(lambda: auc_difference(y, np.linspace(0, 1, 20), np.linspace(1, 0, 20), n_boot=2.5), r"n_boot")


@case("intervals: certainty claimed from a handful of cases")
def sensitivity_two_positives(tmp):
    from medimgkit.metrics import binary_report

    y = np.array([1, 1] + [0] * 30)
    s = np.r_[0.9, 0.8, np.linspace(0, 0.4, 30)]
    r = binary_report(y, s, n_boot=200)
    lo, hi = r["ci"]["sensitivity"]
    return lo < 0.5 and hi == 1.0


@case("intervals: certainty claimed from a handful of cases")
def specificity_three_negatives(tmp):
    from medimgkit.metrics import binary_report

    y = np.array([0, 0, 0] + [1] * 30)
    s = np.r_[0.1, 0.2, 0.3, np.linspace(0.6, 1, 30)]
    r = binary_report(y, s, n_boot=200)
    return r["ci"]["specificity"][0] < 0.6


@case("intervals: certainty claimed from a handful of cases")
def few_cases_flagged(tmp):
    from medimgkit.metrics import binary_report, format_report

    y = np.array([1, 1] + [0] * 30)
    s = np.r_[0.9, 0.8, np.linspace(0, 0.4, 30)]
    r = binary_report(y, s, n_boot=200)
    return any("2 positive" in w for w in r.get("warnings", [])) and "2 positive" in format_report(r)


@case("intervals: certainty claimed from a handful of cases")
def ppv_zero_predicted(tmp):
    from medimgkit.metrics import binary_report

    y = np.array([0, 1] * 10)
    r = binary_report(y, np.zeros(20), n_boot=50)
    return np.isnan(r["ppv"]) and all(np.isnan(r["ci"]["ppv"])) and any("ppv" in w for w in r.get("warnings", []))


@case("intervals: certainty claimed from a handful of cases")
def one_class_report_flagged(tmp):
    from medimgkit.metrics import binary_report

    r = binary_report(np.ones(10, int), np.linspace(0, 1, 10), positive=1, n_boot=50)
    return np.isnan(r["auc"]) and any("negative" in w for w in r.get("warnings", []))


@case("grading: probabilities that are not probabilities")
def expected_grade_of_logits(tmp):
    from medimgkit.metrics import expected_grade

    return raises(lambda: expected_grade(np.array([[2.0, -1.0, 0.5], [0.1, 0.2, -3.0]])), r"probs.*(negative|\[0, 1\])")


@case("grading: probabilities that are not probabilities")
def predict_grades_zero_rows(tmp):
    from medimgkit.metrics import predict_grades

    return raises(lambda: predict_grades(np.zeros((3, 4)), rule="expected"), r"probs.*(sum|zero)")


@case("grading: probabilities that are not probabilities")
def grading_report_logits(tmp):
    from medimgkit.metrics import grading_report

    rng = np.random.default_rng(0)
    return raises(lambda: grading_report(rng.integers(0, 3, 20), rng.normal(size=(20, 3)), rule="expected", n_boot=0),
                  r"probs")


@case("grading: probabilities that are not probabilities")
def grading_report_nan_labels(tmp):
    from medimgkit.metrics import grading_report

    y = np.array([0, 1, np.nan, 2])
    return raises(lambda: grading_report(y, np.full((4, 3), 1 / 3), n_boot=0), r"y_true.*NaN")


# ---------------------------------------------------------------- training input

def _tiny(classes=2, size=8, channels=1, activation="softmax"):
    import keras

    def build():
        inp = keras.Input((size, size, channels))
        out = keras.layers.Dense(classes, activation=activation)(keras.layers.Flatten()(inp))
        return keras.Model(inp, out)

    return build


def _images(n=20, size=8, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, size, size), dtype=np.uint8)


@case("labels: soft or invalid labels silently cast")
def as_dataset_soft_labels(tmp):
    from medimgkit.data import as_dataset

    return raises(lambda: as_dataset(_images(4), np.array([0.0, 1.0, 0.7, 1.0])), r"labels.*0\.7")


@case("labels: soft or invalid labels silently cast")
def as_dataset_nan_labels(tmp):
    from medimgkit.data import as_dataset

    return raises(lambda: as_dataset(_images(4), np.array([0.0, 1.0, np.nan, 1.0])), r"labels.*NaN")


@case("labels: soft or invalid labels silently cast")
def as_dataset_negative_labels(tmp):
    from medimgkit.data import as_dataset

    return raises(lambda: as_dataset(_images(4), np.array([0, 1, -1, 1])), r"labels.*-1")


@case("labels: soft or invalid labels silently cast")
def as_dataset_string_labels(tmp):
    from medimgkit.data import as_dataset

    return raises(lambda: as_dataset(_images(4), np.array(["a", "b", "a", "b"])), r"labels.*(integer|str)")


@case("labels: soft or invalid labels silently cast")
def fit_soft_labels(tmp):
    from medimgkit.train import fit

    y = np.array([0, 1] * 10, float)
    y[3] = 0.7
    return raises(lambda: fit(_tiny(), (_images(), y), (_images(seed=1), np.array([0, 1] * 10)), epochs=1), r"labels.*0\.7")


@case("labels: soft or invalid labels silently cast")
def fit_one_hot_labels(tmp):
    from medimgkit.train import fit

    y = np.eye(2)[[0, 1] * 10]
    return raises(lambda: fit(_tiny(), (_images(), y), (_images(seed=1), np.array([0, 1] * 10)), epochs=1),
                  r"labels.*(one-hot|shape \(20, 2\))")


@case("labels: soft or invalid labels silently cast")
def fit_label_beyond_outputs(tmp):
    from medimgkit.train import fit

    y = np.array([0, 1, 2, 1] * 5)
    return raises(lambda: fit(_tiny(2), (_images(), y), (_images(seed=1), np.array([0, 1] * 10)), epochs=1),
                  r"label 2.*0\.\.1|0\.\.1.*label 2")


@case("labels: soft or invalid labels silently cast")
def fedavg_soft_labels(tmp):
    from medimgkit.experiments.federated import fedavg

    y = np.array([0, 1] * 10, float)
    y[0] = 0.3
    return raises(lambda: fedavg(_tiny(), [(_images(), y)], rounds=1), r"labels.*0\.3")


@case("training: validation split that cannot score")
def fit_one_class_validation(tmp):
    from medimgkit.train import fit

    return raises(lambda: fit(_tiny(), (_images(), np.array([0, 1] * 10)), (_images(seed=1), np.zeros(20, int)),
                              epochs=3, patience=1),
                  r"validation.*one class|only class 0.*patient_split")


@case("training: validation split that cannot score")
def fit_one_class_validation_no_patience_warns(tmp):
    from medimgkit.train import fit

    return warns(lambda: fit(_tiny(), (_images(), np.array([0, 1] * 10)), (_images(seed=1), np.zeros(20, int)),
                             epochs=1, patience=None),
                 r"validation.*(one class|only class 0)")


@case("training: validation split that cannot score")
def fit_positive_not_in_validation(tmp):
    from medimgkit.train import fit

    return raises(lambda: fit(_tiny(3), (_images(), np.array([0, 1] * 10)), (_images(seed=1), np.array([0, 1] * 10)),
                              epochs=1, positive=2),
                  r"positive.*2")


@case("training: validation split that cannot score")
def fedavg_one_class_validation(tmp):
    from medimgkit.experiments.federated import fedavg

    return raises(lambda: fedavg(_tiny(), [(_images(), np.array([0, 1] * 10))], rounds=1,
                                 val=(_images(seed=1), np.zeros(20, int))),
                  r"val.*(one class|only class 0)", (ValueError,)) or warns(
        lambda: fedavg(_tiny(), [(_images(), np.array([0, 1] * 10))], rounds=1, val=(_images(seed=1), np.zeros(20, int))),
        r"val.*(one class|only class 0)")


@case("images: images that do not fit the model")
def fit_wrong_image_size(tmp):
    from medimgkit.train import fit

    y = np.array([0, 1] * 10)
    return raises(lambda: fit(_tiny(size=8), (_images(size=10), y), (_images(size=10, seed=1), y), epochs=1),
                  r"8, 8, 1\).*10, 10, 1\)|10, 10, 1\).*8, 8, 1\)")


@case("images: images that do not fit the model")
def fit_wrong_channels(tmp):
    from medimgkit.train import fit

    y = np.array([0, 1] * 10)
    rgb = np.repeat(_images()[..., None], 3, axis=-1)
    return raises(lambda: fit(_tiny(channels=1), (rgb, y), (rgb, y), epochs=1), r"8, 8, 1\).*8, 8, 3\)|8, 8, 3\).*8, 8, 1\)")


@case("images: images that do not fit the model")
def fit_sigmoid_one_unit(tmp):
    from medimgkit.train import fit

    y = np.array([0, 1] * 10)
    return raises(lambda: fit(_tiny(1, activation="sigmoid"), (_images(), y), (_images(seed=1), y), epochs=1),
                  r"(one output|1 output|softmax).*class")


@case("images: images that do not fit the model")
def fit_val_length_mismatch(tmp):
    from medimgkit.train import fit

    y = np.array([0, 1] * 10)
    return raises(lambda: fit(_tiny(), (_images(), y), (_images(seed=1), y[:-1]), epochs=1),
                  r"20 val images but 19 val labels")


@case("images: images that do not fit the model")
def predict_wrong_size(tmp):
    from medimgkit.train import predict_proba

    model = _tiny(size=8)()
    return raises(lambda: predict_proba(model, _images(size=12)), r"8, 8, 1\).*12, 12, 1\)|12, 12, 1\).*8, 8, 1\)")


@case("images: images that do not fit the model")
def fit_float_0_255(tmp):
    from medimgkit.train import fit

    y = np.array([0, 1] * 10)
    x = _images().astype(np.float32)
    return raises(lambda: fit(_tiny(), (x, y), (x, y), epochs=1), r"divide by 255")


@case("images: images that do not fit the model")
def predict_bool_mask(tmp):
    from medimgkit.train import predict_proba

    return raises(lambda: predict_proba(_tiny()(), np.zeros((2, 8, 8), bool)), r"bool")


@case("images: images that do not fit the model")
def crossval_float_0_255_before_training(tmp):
    from medimgkit.crossval import cross_val_predict

    y = np.array([0, 1] * 10)
    x = _images().astype(np.float32)
    start = time.perf_counter()
    ok = raises(lambda: cross_val_predict(_tiny(), x, y, folds=2, epochs=1), r"divide by 255")
    return ok and time.perf_counter() - start < 5


@case("images: images that do not fit the model")
def fedavg_float_0_255(tmp):
    from medimgkit.experiments.federated import fedavg

    x = _images().astype(np.float32)
    return raises(lambda: fedavg(_tiny(), [(x, np.array([0, 1] * 10))], rounds=1), r"divide by 255")


@case("images: images that do not fit the model")
def medical_folder_output_trains(tmp):
    from medimgkit.data import load_medical_folder, save_image_folder
    from medimgkit.train import fit

    save_image_folder(tmp / "tree", _images(20), np.array([0, 1] * 10), ["a", "b"])
    ds = load_medical_folder(tmp / "tree")
    try:
        fit(_tiny(), (ds.images, ds.labels), (ds.images, ds.labels), epochs=1)
    except Exception as exc:  # noqa: BLE001
        print(f"      {type(exc).__name__}: {str(exc)[:200]}")
        return False
    return True


@case("images: images that do not fit the model")
def medical_folder_physical_units_say_window(tmp):
    import shutil

    from _medical_files import CT, MR

    from medimgkit.data import load_medical_folder
    from medimgkit.train import fit

    for c, f in (("a", CT), ("b", MR)):
        (tmp / "t" / c).mkdir(parents=True)
        shutil.copy(f, tmp / "t" / c / "x.dcm")
    ds = load_medical_folder(tmp / "t", image_size=(8, 8))
    return raises(lambda: fit(_tiny(), (ds.images, ds.labels), (ds.images, ds.labels), epochs=1), r"window")


# ---------------------------------------------------------------- files and caches

@case("files: raw OS errors naming temporary files")
def data_dir_is_a_file(tmp):
    from medimgkit.data import load_medmnist

    (tmp / "afile").write_text("x")
    with _env(MEDIMGKIT_DATA=str(tmp / "afile"), MEDIMGKIT_MIRROR=(tmp / "mirror").as_uri()):
        return raises(lambda: load_medmnist("breastmnist", 28), r"afile.*(not a folder|is a file).*MEDIMGKIT_DATA",
                      (OSError, ValueError))


@case("files: raw OS errors naming temporary files")
def cache_read_only(tmp):
    from medimgkit.data import load_medmnist

    ro = tmp / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    real_access = os.access

    def access(path, mode, *args, **kwargs):  # root may write anywhere: make the folder read-only for it too
        if Path(path) == ro and mode & os.W_OK:
            return False
        return real_access(path, mode, *args, **kwargs)

    os.access = access
    try:
        with _env(MEDIMGKIT_DATA=str(ro), MEDIMGKIT_MIRROR=(tmp / "mirror").as_uri()):
            return raises(lambda: load_medmnist("breastmnist", 28), r"ro.*not writable.*MEDIMGKIT_DATA", (OSError,))
    finally:
        os.access = real_access
        ro.chmod(0o755)


@contextlib.contextmanager
def _env(**values):
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _mirror(tmp) -> tuple[str, str]:
    """A local mirror holding one small file and its MD5."""
    from medimgkit.data.download import md5sum

    (tmp / "mirror").mkdir(exist_ok=True)
    f = tmp / "mirror" / "small.bin"
    f.write_bytes(os.urandom(1000))
    return f.as_uri(), md5sum(f)


@case("files: downloads unreadable for the lab")
def download_respects_umask(tmp):
    from medimgkit.data.download import download

    url, md5 = _mirror(tmp)
    old = os.umask(0o022)
    try:
        download(url, tmp / "cache" / "small.bin", md5)
    finally:
        os.umask(old)
    return stat.S_IMODE((tmp / "cache" / "small.bin").stat().st_mode) == 0o644


@case("files: downloads unreadable for the lab")
def stale_part_removed(tmp):
    from medimgkit.data.download import download

    url, md5 = _mirror(tmp)
    (tmp / "cache").mkdir()
    stale = tmp / "cache" / ".small.bin.abc123.part"
    stale.write_bytes(b"half")
    old = time.time() - 2 * 86400
    os.utime(stale, (old, old))
    fresh = tmp / "cache" / ".small.bin.def456.part"
    fresh.write_bytes(b"in progress elsewhere")
    download(url, tmp / "cache" / "small.bin", md5)
    return not stale.exists() and fresh.exists()


@case("files: third-party errors without the file name")
def decompression_bomb_png(tmp):
    from PIL import Image

    from medimgkit.data import load_image_folder

    for c in "ab":
        (tmp / "t" / c).mkdir(parents=True)
        Image.new("L", (64, 64)).save(tmp / "t" / c / "x.png")
    limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = 1000  # 64 x 64 = 4096 > 2 x limit: Pillow raises
    try:
        return raises(lambda: load_image_folder(tmp / "t"), r"x\.png.*decompression bomb")
    finally:
        Image.MAX_IMAGE_PIXELS = limit


@case("files: third-party errors without the file name")
def decompression_bomb_warning_names_file(tmp):
    from PIL import Image

    from medimgkit.data import load_image_folder

    for c in "ab":
        (tmp / "t" / c).mkdir(parents=True)
        Image.new("L", (64, 64)).save(tmp / "t" / c / "x.png")
    limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = 3000  # between limit and 2 x limit: Pillow only warns
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                load_image_folder(tmp / "t")
            except ValueError as exc:
                return "x.png" in str(exc)
        return any("x.png" in str(w.message) for w in caught)
    finally:
        Image.MAX_IMAGE_PIXELS = limit


@case("files: third-party errors without the file name")
def truncated_non_ras_nifti(tmp):
    import nibabel as nib

    from medimgkit.io import MedicalImageError, load_nifti

    affine = np.diag([-1.0, 1.0, 1.0, 1.0])  # LAS: needs reorienting
    nib.save(nib.Nifti1Image(np.arange(8 * 8 * 8, dtype=np.float32).reshape(8, 8, 8), affine), tmp / "las.nii")
    data = (tmp / "las.nii").read_bytes()
    (tmp / "las.nii").write_bytes(data[: len(data) - 500])
    return raises(lambda: load_nifti(tmp / "las.nii"), r"las\.nii.*truncated", (MedicalImageError,))


@case("files: third-party errors without the file name")
def truncated_ras_nifti_gz(tmp):
    import nibabel as nib

    from medimgkit.io import MedicalImageError, load_nifti

    nib.save(nib.Nifti1Image(np.random.default_rng(0).random((8, 8, 8)).astype(np.float32), np.eye(4)), tmp / "v.nii.gz")
    data = (tmp / "v.nii.gz").read_bytes()
    (tmp / "v.nii.gz").write_bytes(data[: len(data) // 2])
    return raises(lambda: load_nifti(tmp / "v.nii.gz"), r"v\.nii\.gz.*(truncated|cannot be read)", (MedicalImageError,))


@case("files: third-party errors without the file name")
def medical_folder_broken_png_is_medical_error(tmp):
    from medimgkit.data import load_medical_folder
    from medimgkit.io import MedicalImageError

    for c in "ab":
        (tmp / "t" / c).mkdir(parents=True)
        (tmp / "t" / c / "x.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(30))
    return raises(lambda: load_medical_folder(tmp / "t"), r"x\.png", (MedicalImageError,))


@case("files: sub-folders skipped or reported as empty")
def image_folder_reads_subfolders(tmp):
    from medimgkit.data import load_image_folder, save_image_folder

    save_image_folder(tmp / "flat", _images(4), np.array([0, 1, 0, 1]), ["benign", "malignant"])
    (tmp / "flat" / "benign" / "patient1").mkdir()
    (tmp / "flat" / "benign" / "00000.png").rename(tmp / "flat" / "benign" / "patient1" / "img.png")
    x, y, _ = load_image_folder(tmp / "flat")
    return len(x) == 4 and list(y).count(0) == 2


@case("files: sub-folders skipped or reported as empty")
def image_folder_class_with_only_subfolders(tmp):
    from medimgkit.data import load_image_folder, save_image_folder

    save_image_folder(tmp / "t", _images(4), np.array([0, 1, 0, 1]), ["benign", "malignant"])
    (tmp / "t" / "malignant" / "p1").mkdir()
    for f in list((tmp / "t" / "malignant").glob("*.png")):
        f.rename(tmp / "t" / "malignant" / "p1" / f.name)
    x, y, _ = load_image_folder(tmp / "t")
    return len(x) == 4


@case("files: silent overwrite")
def save_keras_overwrites(tmp):
    from medimgkit import export

    model = _tiny()()
    export.save_keras(model, tmp / "m.keras")
    return raises(lambda: export.save_keras(model, tmp / "m.keras"), r"m\.keras.*overwrite=True", (FileExistsError,))


@case("files: silent overwrite")
def to_tflite_overwrites(tmp):
    from medimgkit import export

    (tmp / "m.tflite").write_bytes(b"precious")
    model = _tiny()()
    return raises(lambda: export.to_tflite(model, path=tmp / "m.tflite"), r"m\.tflite.*overwrite=True",
                  (FileExistsError,)) and (tmp / "m.tflite").read_bytes() == b"precious"


@case("export: calibration images that break the contract")
def int8_representative_float_0_255(tmp):
    from medimgkit import export

    x = _images(10).astype(np.float32)
    return raises(lambda: export.to_tflite(_tiny()(), "int8", representative=x), r"representative.*divide by 255")


@case("export: calibration images that break the contract")
def int8_representative_wrong_size(tmp):
    from medimgkit import export

    return raises(lambda: export.to_tflite(_tiny(size=8)(), "int8", representative=_images(10, size=12)),
                  r"representative.*(8, 8, 1\).*12, 12, 1\)|12, 12, 1\).*8, 8, 1\))")


@case("export: calibration images that break the contract")
def int8_representative_nan(tmp):
    from medimgkit import export

    x = np.full((4, 8, 8, 1), np.nan, np.float32)
    return raises(lambda: export.to_tflite(_tiny()(), "int8", representative=x), r"representative.*(NaN|finite)")


@case("export: calibration images that break the contract")
def int8_representative_empty(tmp):
    from medimgkit import export

    x = np.zeros((0, 8, 8), np.uint8)
    return raises(lambda: export.to_tflite(_tiny()(), "int8", representative=x), r"representative.*empty")


# ---------------------------------------------------------------- series geometry

def _series(tmp, n=4):
    from _medical_files import write_ct_series

    write_ct_series(tmp / "s", n=n, series_uid="1.2.3.4")
    return sorted((tmp / "s").iterdir())


@case("series: slices that do not share one geometry")
def series_pixel_spacing_differs(tmp):
    import pydicom

    from medimgkit.io import SeriesError, load_dicom_series

    files = _series(tmp)
    ds = pydicom.dcmread(files[1])
    ds.PixelSpacing = [0.5, 0.5]
    ds.save_as(files[1])
    return raises(lambda: load_dicom_series(tmp / "s"), r"PixelSpacing.*0\.5", (SeriesError,))


@case("series: slices that do not share one geometry")
def series_pixel_spacing_missing_in_one(tmp):
    import pydicom

    from medimgkit.io import SeriesError, load_dicom_series

    files = _series(tmp)
    ds = pydicom.dcmread(files[2])
    del ds.PixelSpacing
    ds.save_as(files[2])
    return raises(lambda: load_dicom_series(tmp / "s"), r"PixelSpacing", (SeriesError,))


@case("series: slices that do not share one geometry")
def series_shifted_in_plane(tmp):
    import pydicom

    from medimgkit.io import SeriesError, load_dicom_series

    files = _series(tmp)
    ds = pydicom.dcmread(files[1])
    pos = [float(v) for v in ds.ImagePositionPatient]
    ds.ImagePositionPatient = [pos[0] + 5.0, pos[1], pos[2]]
    ds.save_as(files[1])
    return raises(lambda: load_dicom_series(tmp / "s"), r"shifted.*5\.0", (SeriesError,))


@case("series: slices that do not share one geometry")
def series_consistent_geometry_loads(tmp):
    from medimgkit.io import load_dicom_series

    _series(tmp)
    volume, meta = load_dicom_series(tmp / "s")
    return volume.shape[0] == 4 and np.isclose(meta.spacing[0], 2.5)


# ---------------------------------------------------------------- de-identification

def _anonymised_bytes(tmp, **attrs) -> tuple[bytes, dict]:
    import pydicom
    from _medical_files import CT

    from medimgkit.io import anonymize_dicom

    ds = pydicom.dcmread(CT)
    meta = attrs.pop("file_meta", {})
    for k, v in attrs.items():
        setattr(ds, k, v)
    for k, v in meta.items():
        setattr(ds.file_meta, k, v)
    ds.save_as(tmp / "in.dcm")
    anonymize_dicom(tmp / "in.dcm", tmp / "out.dcm")
    return (tmp / "out.dcm").read_bytes(), {**attrs, **meta}


def _anon_case(**attrs):
    def run(tmp):
        data, values = _anonymised_bytes(tmp, **attrs)
        leaked = [k for k, v in values.items() if str(v).encode() in data]
        if leaked:
            print(f"      kept: {leaked}")
        return not leaked

    return run


for _name, _attrs in {
    "verifying_observer_name": {"VerifyingObserverName": "Doe^Jane^Verifier"},
    "verifying_organization": {"VerifyingOrganization": "St Elsewhere Radiology"},
    "observation_datetime": {"ObservationDateTime": "20230417093015"},
    "verification_datetime": {"VerificationDateTime": "20230418101500"},
    "rt_plan_date_time": {"RTPlanDate": "20220202", "RTPlanTime": "142233.5551"},
    "requested_procedure_description": {"RequestedProcedureDescription": "CT chest for Mr Smith, bed 12"},
    "series_description": {"SeriesDescription": "Follow-up J. Smith left lung"},
    "protocol_name": {"ProtocolName": "Smith research protocol 7"},
    "current_patient_location": {"CurrentPatientLocation": "Ward 7B bed 3"},
    "storage_media_file_set_uid": {"StorageMediaFileSetUID": "1.2.826.0.1.3680043.99.424242"},
    "source_application_entity_title": {"file_meta": {"SourceApplicationEntityTitle": "STELSEWHERE_CT1"}},
    "unlisted_person_name": {"NamesOfIntendedRecipientsOfResults": "Who^Doctor"},
    "unlisted_date": {"DateOfSecondaryCapture": "20191231"},
    "unlisted_uid": {"ReferencedColorPaletteInstanceUID": "1.2.826.0.1.3680043.99.777"},
    "unlisted_free_text": {"ImagePathFilterTypeStackCodes": "SMITHJ"},
    "derivation_description": {"DerivationDescription": "Cropped for John Smith"},
    "station_ae_title": {"StationAETitle": "CT_ROOM_SMITH"},
    "admitting_diagnoses": {"AdmittingDiagnosesDescription": "Smith: suspected carcinoma"},
}.items():
    _run = _anon_case(**_attrs)
    _run.__name__ = f"anonymize_{_name}"
    case("privacy: identifiers outside the fixed list")(_run)


def _anonymise_sample(tmp, name, **kwargs):
    import pydicom
    from _medical_files import sample

    from medimgkit.io import anonymize_dicom

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        anonymize_dicom(sample(name), tmp / "out.dcm", **kwargs)
    return pydicom.dcmread(sample(name), force=True), pydicom.dcmread(tmp / "out.dcm", force=True)


@case("privacy: de-identification that destroys or refuses good data")
def anonymize_keeps_waveforms(tmp):
    before, after = _anonymise_sample(tmp, "waveform_ecg.dcm")
    return "WaveformSequence" in after and after.WaveformSequence[0].WaveformData == before.WaveformSequence[0].WaveformData


@case("privacy: de-identification that destroys or refuses good data")
def anonymize_keeps_functional_groups(tmp):
    before, after = _anonymise_sample(tmp, "liver_1frame.dcm")
    keep = ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence")
    return all(k in after for k in keep if k in before) and any(k in before for k in keep)


@case("privacy: de-identification that destroys or refuses good data")
def anonymize_invalid_number_of_frames(tmp):
    try:
        _, after = _anonymise_sample(tmp, "badVR.dcm")
    except Exception as exc:  # noqa: BLE001
        print(f"      {type(exc).__name__}: {str(exc)[:150]}")
        return False
    return after.PatientIdentityRemoved == "YES"


@case("privacy: de-identification that destroys or refuses good data")
def anonymize_header_only_image(tmp):
    try:
        _, after = _anonymise_sample(tmp, "dicomdirtests/TINY_ALPHA/PT000000/ST000000/SE000000/IM000000")
    except Exception as exc:  # noqa: BLE001
        print(f"      {type(exc).__name__}: {str(exc)[:150]}")
        return False
    return after.PatientIdentityRemoved == "YES"


@case("privacy: de-identification that destroys or refuses good data")
def anonymize_headerless_file(tmp):
    try:
        _, after = _anonymise_sample(tmp, "ExplVR_LitEndNoMeta.dcm", force=True)
    except TypeError:  # no force= at all
        return False
    except Exception as exc:  # noqa: BLE001
        print(f"      {type(exc).__name__}: {str(exc)[:150]}")
        return False
    return after.PatientIdentityRemoved == "YES"


@case("privacy: de-identification that destroys or refuses good data")
def anonymize_dicomdir_refused(tmp):
    from _medical_files import sample

    from medimgkit.io import anonymize_dicom

    return raises(lambda: anonymize_dicom(sample("dicomdirtests/DICOMDIR"), tmp / "out.dcm"), r"DICOMDIR.*offsets")


@case("scores: (N, 1) sigmoid output read as the wrong class")
def validation_auc_callback_sigmoid_positive0(tmp):
    import keras

    from medimgkit.metrics import roc_auc
    from medimgkit.train import ValidationAUC

    inp = keras.Input((2,))
    model = keras.Model(inp, keras.layers.Dense(1, activation="sigmoid")(inp))
    x = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [0.9, 0.1]], np.float32)
    y = np.array([1, 0, 1, 0])
    callback = ValidationAUC(x, y, positive=0)
    callback.set_model(model)
    logs: dict = {}
    callback.on_epoch_end(0, logs)
    p1 = model.predict(x, verbose=0)[:, 0]
    return np.isclose(logs["val_auc"], roc_auc((y == 0).astype(int), 1 - p1))


@case("privacy: identifiers outside the fixed list")
def anonymize_every_pydicom_sample(tmp):
    """No original PN/ID/date/UID value in the output bytes of any pydicom sample."""
    from _medical_files import identifier_leaks_in_samples

    leaks, checked, skipped, refused = identifier_leaks_in_samples(tmp)
    print(f"      {checked} files checked, {len(skipped)} unreadable by pydicom, {len(refused)} refused, "
          f"{len(leaks)} with leaks")
    for name, why in {**skipped, **refused}.items():
        print(f"      not checked {name}: {why[:150]}")
    for name, values in list(leaks.items())[:5]:
        print(f"      {name}: {values[:3]}")
    # refusals count as bad unless they say why (truncated files and DICOMDIRs)
    leaks.update({k: [b"refused"] for k, v in refused.items() if not re.search(r"truncated|DICOMDIR", v)})
    return not leaks


# ---------------------------------------------------------------- run

def main() -> int:
    import json

    only = sys.argv[1:]
    results = []
    for cls, name, fn in CASES:
        if only and not any(o in name or o in cls for o in only):
            continue
        with tempfile.TemporaryDirectory() as d:
            start = time.perf_counter()
            try:
                ok = bool(fn(Path(d)))
            except Exception as exc:  # noqa: BLE001
                print(f"      unexpected {type(exc).__name__}: {str(exc)[:300]}")
                if os.environ.get("HOSTILE_TRACE"):
                    traceback.print_exc()
                ok = False
            results.append({"class": cls, "case": name, "ok": ok, "seconds": round(time.perf_counter() - start, 2)})
        print(f"{'ok ' if ok else 'BAD'}  {cls}: {name}", flush=True)
    print()
    classes = dict.fromkeys(r["class"] for r in results)
    for cls in classes:
        rows = [r for r in results if r["class"] == cls]
        print(f"{sum(r['ok'] for r in rows):3d}/{len(rows):<3d} {cls}")
    total_ok = sum(r["ok"] for r in results)
    print(f"\n{total_ok} of {len(results)} hostile inputs get the right answer or a clear error; "
          f"{len(results) - total_ok} do not")
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / "hostile_inputs.json").write_text(json.dumps({"ok": total_ok, "total": len(results), "cases": results},
                                                        indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
