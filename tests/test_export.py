"""Export: .keras round trip, SavedModel inference endpoint, TFLite conversions, size and latency helpers."""

import sys
import warnings

import keras
import numpy as np
import pytest

from medimgkit import export
from medimgkit.data import to_float
from medimgkit.metrics import roc_auc
from medimgkit.models import improved_cnn


@pytest.fixture(scope="module")
def flatbuffers(trained_cnn, breast):
    model, _ = trained_cnn
    return {q: export.to_tflite(model, q, representative=breast["train"][0]) for q in export.QUANTIZATIONS}


def test_keras_file_round_trip_in_safe_mode(trained_cnn, breast, tmp_path):
    model, _ = trained_cnn
    path = export.save_keras(model, tmp_path / "model.keras")
    assert path.is_file() and export.file_size(path) == path.stat().st_size > 0
    loaded = keras.saving.load_model(path, safe_mode=True)
    x = to_float(breast["test"][0])
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(ValueError, match=".keras"):
        export.save_keras(model, tmp_path / "model.h5")


def test_savedmodel_serves_inference_mode_even_with_augmentation_inside(breast, tmp_path):
    import tensorflow as tf

    model = improved_cnn(width=4, blocks=2, augment=True, seed=3)
    path = export.export_savedmodel(model, tmp_path / "saved")
    assert (path / "saved_model.pb").is_file()
    assert export.file_size(path) > export.file_size(path / "saved_model.pb")  # a folder: all files
    x = to_float(breast["val"][0][:16])
    loaded = tf.saved_model.load(str(path))  # keep a reference: its variables live there
    served = loaded.serve(x).numpy()
    np.testing.assert_allclose(served, model.predict(x, verbose=0), atol=1e-5)
    with pytest.raises(FileExistsError):
        export.export_savedmodel(model, path)


def test_tflite_float_models_match_keras(trained_cnn, breast, flatbuffers):
    model, _ = trained_cnn
    x = to_float(breast["test"][0])
    ref = model.predict(x, verbose=0)
    np.testing.assert_allclose(export.tflite_predict(flatbuffers["float32"], x), ref, atol=1e-4)
    np.testing.assert_allclose(export.tflite_predict(flatbuffers["float16"], x), ref, atol=2e-2)


def test_int8_is_smaller_and_keeps_the_auc(trained_cnn, breast, flatbuffers):
    model, _ = trained_cnn
    x, y = breast["test"]
    auc_float = roc_auc(y, model.predict(to_float(x), verbose=0), positive=0)
    probs = export.tflite_predict(flatbuffers["int8"], x)  # uint8 images are scaled like to_float
    assert probs.shape == (len(y), 2) and probs.dtype == np.float32
    assert abs(roc_auc(y, probs, positive=0) - auc_float) < 0.03
    sizes = {q: len(b) for q, b in flatbuffers.items()}
    assert sizes["int8"] < sizes["float16"] < sizes["float32"]
    assert sizes["dynamic"] < sizes["float32"]


def test_tflite_predict_same_for_any_batch_size_and_from_a_file(breast, flatbuffers, tmp_path):
    x = to_float(breast["val"][0][:10])
    path = tmp_path / "m.tflite"
    path.write_bytes(flatbuffers["int8"])
    a = export.tflite_predict(flatbuffers["int8"], x, batch_size=1)
    b = export.tflite_predict(str(path), x, batch_size=4)
    np.testing.assert_allclose(a, b, atol=1e-6)
    run = export.tflite_runner(path)
    np.testing.assert_allclose(run(x[:1]), a[:1], atol=1e-6)
    with pytest.raises(ValueError, match="expects images of shape"):
        export.tflite_predict(flatbuffers["float32"], np.zeros((2, 32, 32, 1), np.float32))


@pytest.mark.parametrize("backend", ["tf.lite", "ai_edge_litert"])
def test_both_interpreters_give_the_same_answer(breast, flatbuffers, backend):
    if backend == "ai_edge_litert":
        pytest.importorskip("ai_edge_litert")
    x = to_float(breast["val"][0][:8])
    interpreter = export.tflite_interpreter(flatbuffers["int8"], backend=backend)
    np.testing.assert_allclose(
        export.tflite_predict(interpreter, x), export.tflite_predict(flatbuffers["int8"], x), atol=1e-6
    )
    with pytest.raises(ValueError, match="backend"):
        export.tflite_interpreter(flatbuffers["int8"], backend="onnx")


def test_litert_is_used_first_when_installed(breast, flatbuffers, capfd):
    pytest.importorskip("ai_edge_litert")
    assert export.interpreter_backend() == "ai_edge_litert"
    interpreter = export.tflite_interpreter(flatbuffers["int8"])
    assert type(interpreter).__module__.startswith("ai_edge_litert"), type(interpreter)
    assert export.FALLBACK_NOTICE not in capfd.readouterr().err


def test_without_litert_tf_lite_is_used_with_a_one_line_notice_once(breast, flatbuffers, monkeypatch, capfd):
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)  # as if not installed: importing it fails
    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    monkeypatch.setattr(export, "_fallback_noticed", False)
    capfd.readouterr()
    assert export.interpreter_backend() == "tf.lite"
    x = to_float(breast["val"][0][:8])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        interpreter = export.tflite_interpreter(flatbuffers["int8"])
        first = export.tflite_predict(flatbuffers["int8"], x)
        again = export.tflite_predict(interpreter, x)
    assert type(interpreter).__module__.startswith("tensorflow.lite"), type(interpreter)
    np.testing.assert_allclose(first, again, atol=1e-6)
    err = capfd.readouterr().err
    assert err.count(export.FALLBACK_NOTICE) == 1, err  # two interpreters, one notice
    assert "\n" not in export.FALLBACK_NOTICE and "deprecated" in export.FALLBACK_NOTICE
    assert "pip install ai-edge-litert" in export.FALLBACK_NOTICE
    assert not [w for w in caught if "tf.lite.Interpreter is deprecated" in str(w.message)]
    export.tflite_interpreter(flatbuffers["int8"], backend="tf.lite")  # asked for by name: no notice
    assert export.FALLBACK_NOTICE not in capfd.readouterr().err


def test_to_tflite_writes_the_file_and_refuses_bad_settings(trained_cnn, tmp_path):
    model, _ = trained_cnn
    with pytest.raises(ValueError, match="quantization must be one of"):
        export.to_tflite(model, "int4")
    with pytest.raises(ValueError, match="representative"):
        export.to_tflite(model, "int8")
    with pytest.raises(TypeError):
        export.to_tflite(tmp_path / "no_such_folder")
    path = tmp_path / "m.tflite"
    content = export.to_tflite(model, "float16", path=path)
    assert path.read_bytes() == content


def test_file_size_and_latency_helpers(tmp_path):
    (tmp_path / "a").write_bytes(b"x" * 10)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b").write_bytes(b"x" * 5)
    assert export.file_size(tmp_path / "a") == 10 and export.file_size(tmp_path) == 15
    with pytest.raises(FileNotFoundError):
        export.file_size(tmp_path / "missing")
    calls = []
    result = export.measure_latency(calls.append, np.zeros(1), runs=7, warmup=2)
    assert len(calls) == 9 and result["runs"] == 7
    assert 0 <= result["p10_ms"] <= result["median_ms"] <= result["p90_ms"]
    with pytest.raises(ValueError):
        export.measure_latency(calls.append, np.zeros(1), runs=0)
    assert export.interpreter_backend() in ("ai_edge_litert", "tf.lite")
