"""From a trained Keras model to deployable files: ``.keras``, SavedModel, TFLite.

The chain is ``keras.Model -> SavedModel -> TFLite flatbuffer``.

LiteRT first. TensorFlow Lite is now called LiteRT, and its Python runtime has
moved out of TensorFlow into the ``ai-edge-litert`` package (the ``[edge]``
extra). Two parts of ``tf.lite`` are used here, and they are not in the same
state:

* **running** a model: ``tf.lite.Interpreter`` is deprecated. Since TensorFlow
  2.19 it warns, on every interpreter it creates, that it "is deprecated and is
  scheduled for deletion" in favour of ``ai_edge_litert.interpreter``, the same
  interpreter API under its new name; TensorFlow 2.20 and 2.21 still ship it.
  :func:`tflite_interpreter` uses LiteRT when it is installed and otherwise
  falls back to ``tf.lite.Interpreter``, printing a one-line notice once per
  process (:func:`interpreter_backend` says which one is used).
* **converting** a model: ``tf.lite.TFLiteConverter`` is not deprecated and has
  no replacement yet for TensorFlow/Keras models: the LiteRT package runs
  ``.tflite`` files but does not convert TensorFlow models, and Keras's own
  ``model.export(path, format="litert")`` calls ``tf.lite.TFLiteConverter``
  too. :func:`to_tflite` uses it.

Nothing here is a medical device; exported models are for teaching only.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import keras
import numpy as np

from medimgkit._contract import model_input
from medimgkit._files import atomic_file

QUANTIZATIONS = ("float32", "float16", "dynamic", "int8")
FALLBACK_NOTICE = (
    "medimgkit.export: ai-edge-litert is not installed, so TFLite models run on tf.lite.Interpreter, "
    "which TensorFlow deprecated in 2.19 and will delete; `pip install ai-edge-litert` to run them on LiteRT"
)
_fallback_noticed = False


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the converter's native (C++) log lines and TensorFlow's INFO messages.

    The converter writes dozens of INFO lines straight to file descriptor 2,
    which notebooks would show. A failed conversion still raises, and its
    exception message carries the converter's error report.
    """
    tf_logger = logging.getLogger("tensorflow")
    level = tf_logger.level
    tf_logger.setLevel(logging.ERROR)
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (some embedded interpreters)
        saved = None
    try:
        if saved is not None:
            with open(os.devnull, "w") as devnull:
                os.dup2(devnull.fileno(), 2)
        yield
    finally:
        if saved is not None:
            os.dup2(saved, 2)
            os.close(saved)
        tf_logger.setLevel(level)


def save_keras(model: keras.Model, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Save a model (architecture, weights, optimizer state) as one ``.keras`` file.

    Load it back with ``keras.saving.load_model(path, safe_mode=True)``; safe
    mode refuses to deserialise arbitrary Python code (``Lambda`` layers).
    An existing file is refused (``FileExistsError``) unless ``overwrite=True``.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"a Keras 3 model file must end in '.keras', got {str(path)!r}")
    _refuse_existing(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    return path


def export_savedmodel(model: keras.Model, path: str | os.PathLike) -> Path:
    """Export the *inference* function as a TensorFlow SavedModel folder.

    The folder serves TF Serving and the TFLite converter. Load it with
    ``tf.saved_model.load(path)``; its ``serve`` function maps float32
    ``(N, H, W, C)`` images to ``(N, num_classes)`` probabilities.

    Unlike ``model.export(path)``, the endpoint calls the model with
    ``training=False``. That matters for models with augmentation layers
    inside (``improved_cnn``): Keras random preprocessing layers default to
    ``training=True``, so ``model.export`` would serve randomly flipped and
    rotated images with batch-statistics batch normalisation, and the TFLite
    converter would reject the random ops.
    """
    import tensorflow as tf

    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise FileExistsError(f"{path} exists and is not an empty folder; choose a new path")
    if len(model.inputs) != 1:
        raise ValueError(f"expected a model with one image input, got {len(model.inputs)} inputs")
    spec = tf.TensorSpec(shape=(None, *model.inputs[0].shape[1:]), dtype=tf.float32, name="image")
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(name="serve", fn=lambda x: model(x, training=False), input_signature=[spec])
    with _quiet():
        archive.write_out(str(path), verbose=False)
    return path


def _refuse_existing(path: Path, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path}: already exists; pass overwrite=True to replace it, or choose a new path")


def _input_shape(model) -> tuple | None:
    """The image shape (H, W, C) a Keras model or a SavedModel folder's ``serve`` endpoint expects, if known."""
    if isinstance(model, keras.Model):
        return tuple(model.inputs[0].shape[1:]) if len(model.inputs) == 1 else None
    try:
        import tensorflow as tf

        loaded = tf.saved_model.load(str(model))
        spec = loaded.signatures["serve"].structured_input_signature[1]
        return tuple(next(iter(spec.values())).shape[1:])
    except Exception:  # noqa: BLE001 - any other SavedModel: the converter checks it
        return None


def _representative(images: np.ndarray, n: int, shape: tuple | None = None) -> Callable[[], Iterable[list[np.ndarray]]]:
    """Calibration batches from images under the package's input contract, shaped for the model."""
    x = model_input(images, "representative images")
    if shape is not None and (len(shape) != x.ndim - 1 or any(
            w is not None and int(w) != g for w, g in zip(shape, x.shape[1:]))):
        want = ", ".join("?" if w is None else str(int(w)) for w in shape)
        raise ValueError(
            f"representative images: expected images shaped (N, {want}) for the model's input, found "
            f"(N, {', '.join(map(str, x.shape[1:]))}); pass training images of the size the model was built for"
        )
    x = x[: max(1, int(n))]

    def gen():
        for i in range(len(x)):
            yield [x[i : i + 1]]

    return gen


def to_tflite(
    model: keras.Model | str | os.PathLike,
    quantization: str = "float32",
    representative: np.ndarray | None = None,
    num_calibration: int = 200,
    path: str | os.PathLike | None = None,
    *,
    overwrite: bool = False,
) -> bytes:
    """Convert a Keras model (or a SavedModel folder) to a TFLite flatbuffer.

    Parameters
    ----------
    model : keras.Model or path of a SavedModel folder
    quantization : str
        ``"float32"`` (no quantisation), ``"float16"`` (weights stored as
        float16), ``"dynamic"`` (weights int8, activations float at run time)
        or ``"int8"`` (full integer: weights and activations int8, calibrated on
        ``representative``; inputs and outputs stay float32).
    representative : uint8 (0-255) or float ([0, 1]) images (N, H, W[, C])
        Needed for ``"int8"``: a sample of *training* images whose activation
        ranges set the int8 scales. Never use test images here. They follow
        the package's input contract and must match the model's input shape:
        0-255 floats, NaN or a wrong size are refused before converting (they
        would give a worse model or a TFLite runtime error).
    num_calibration : int
        How many representative images to use.
    path : path, optional
        Also write the flatbuffer there (suffix ``.tflite``), atomically; an
        existing file is refused (``FileExistsError``) unless ``overwrite=True``.

    Returns
    -------
    bytes: the ``.tflite`` flatbuffer.
    """
    import tensorflow as tf

    if quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization must be one of {QUANTIZATIONS}, got {quantization!r}")
    if quantization == "int8" and representative is None:
        raise ValueError("quantization='int8' needs representative training images to calibrate")
    if path is not None:
        path = Path(path)
        if path.suffix != ".tflite":
            raise ValueError(f"a TFLite file must end in '.tflite', got {str(path)!r}")
        _refuse_existing(path, overwrite)
    if quantization == "int8" and isinstance(model, keras.Model):
        calibration = _representative(representative, num_calibration, _input_shape(model))
    with tempfile.TemporaryDirectory() as tmp, _quiet():
        if isinstance(model, keras.Model):
            saved = export_savedmodel(model, Path(tmp) / "savedmodel")
        elif isinstance(model, (str, os.PathLike)) and Path(model).is_dir():
            saved = Path(model)
        else:
            raise TypeError(f"model must be a keras.Model or a SavedModel folder, got {model!r}")
        converter = tf.lite.TFLiteConverter.from_saved_model(str(saved))
        if quantization != "float32":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantization == "float16":
            converter.target_spec.supported_types = [tf.float16]
        elif quantization == "int8":
            if not isinstance(model, keras.Model):
                calibration = _representative(representative, num_calibration, _input_shape(saved))
            converter.representative_dataset = calibration
            # fail loudly if an op cannot run in int8 instead of silently keeping it in float
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        flatbuffer = converter.convert()
    if path is not None:
        with atomic_file(path) as part:
            part.write_bytes(flatbuffer)
    return flatbuffer


def interpreter_backend() -> str:
    """``"ai_edge_litert"`` when the LiteRT package is installed, else ``"tf.lite"`` (deprecated)."""
    try:
        import ai_edge_litert.interpreter  # noqa: F401
    except ImportError:
        return "tf.lite"
    return "ai_edge_litert"


def tflite_interpreter(model: bytes | str | os.PathLike, num_threads: int = 1, backend: str | None = None) -> Any:
    """A ready (tensors allocated) TFLite interpreter for a flatbuffer or a ``.tflite`` file.

    ``num_threads=1`` mimics a small edge device and makes latencies
    comparable. ``backend`` is ``"ai_edge_litert"``, ``"tf.lite"`` or ``None``
    (the default of :func:`interpreter_backend`: LiteRT when installed). When
    ``None`` falls back to the deprecated ``tf.lite.Interpreter``, a one-line
    notice (:data:`FALLBACK_NOTICE`) goes to stderr, once per process; the
    interpreter's own deprecation warning, which it repeats for every
    interpreter, is silenced.
    """
    global _fallback_noticed
    if isinstance(model, (bytes, bytearray)):
        kwargs: dict[str, Any] = {"model_content": bytes(model)}
    elif isinstance(model, (str, os.PathLike)) and Path(model).is_file():
        kwargs = {"model_path": str(model)}
    else:
        raise TypeError(f"model must be TFLite bytes or the path of a .tflite file, got {model!r}")
    if backend is None:
        backend = interpreter_backend()
        if backend == "tf.lite" and not _fallback_noticed:
            print(FALLBACK_NOTICE, file=sys.stderr, flush=True)
            _fallback_noticed = True
    if backend == "ai_edge_litert":
        from ai_edge_litert.interpreter import Interpreter
    elif backend == "tf.lite":
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter
    else:
        raise ValueError(f"backend must be 'ai_edge_litert', 'tf.lite' or None, got {backend!r}")
    with warnings.catch_warnings(), _quiet():  # _quiet: no "Created XNNPACK delegate" lines
        warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated.*")
        interpreter = Interpreter(num_threads=num_threads, **kwargs)
        interpreter.allocate_tensors()
    return interpreter


def _quantize(x: np.ndarray, detail: dict) -> np.ndarray:
    if detail["dtype"] == np.float32:
        return x.astype(np.float32)
    scale, zero = detail["quantization"]
    info = np.iinfo(detail["dtype"])
    return np.clip(np.round(x / scale + zero), info.min, info.max).astype(detail["dtype"])


def _dequantize(y: np.ndarray, detail: dict) -> np.ndarray:
    if detail["dtype"] == np.float32:
        return y.astype(np.float32)
    scale, zero = detail["quantization"]
    return ((y.astype(np.float32) - zero) * scale).astype(np.float32)


def tflite_predict(model: Any, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Run a TFLite model on images; returns float32 ``(N, num_classes)``.

    Parameters
    ----------
    model : TFLite bytes, a ``.tflite`` path, or an interpreter from :func:`tflite_interpreter`
    images : uint8 (N, H, W[, C]) or float32 (N, H, W, C) in [0, 1]
    batch_size : int
        Images per ``invoke``; the input tensor is resized to fit.
    """
    from medimgkit.data.pipeline import to_float

    interpreter = model if hasattr(model, "invoke") else tflite_interpreter(model)
    x = np.asarray(images)
    x = to_float(x) if x.dtype == np.uint8 else x
    if x.ndim != 4:
        raise ValueError(f"images must be (N, H, W, C) float32 or uint8 (N, H, W[, C]), got {x.shape}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    inp = interpreter.get_input_details()[0]
    if tuple(inp["shape"][1:]) != x.shape[1:]:
        raise ValueError(f"the model expects images of shape {tuple(inp['shape'][1:])}, got {x.shape[1:]}")
    outputs = []
    for start in range(0, len(x), batch_size):
        chunk = x[start : start + batch_size]
        if interpreter.get_input_details()[0]["shape"][0] != len(chunk):
            interpreter.resize_tensor_input(inp["index"], [len(chunk), *x.shape[1:]])
            interpreter.allocate_tensors()
        inp = interpreter.get_input_details()[0]
        out = interpreter.get_output_details()[0]
        interpreter.set_tensor(inp["index"], _quantize(chunk, inp))
        interpreter.invoke()
        outputs.append(_dequantize(interpreter.get_tensor(out["index"]), out))
    return np.concatenate(outputs)


def file_size(path: str | os.PathLike) -> int:
    """Size in bytes of a file, or of all files under a folder (a SavedModel)."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    raise FileNotFoundError(f"{path} does not exist")


def measure_latency(predict: Callable[[np.ndarray], Any], example: np.ndarray, runs: int = 100, warmup: int = 10) -> dict[str, float]:
    """Wall-clock latency of ``predict(example)`` in milliseconds.

    ``example`` is one batch (use batch size 1 for per-image latency). Runs
    ``warmup`` untimed calls, then ``runs`` timed ones.

    Returns
    -------
    dict with ``median_ms``, ``p10_ms``, ``p90_ms`` (float) and ``runs`` (int).
    """
    if runs < 1 or warmup < 0:
        raise ValueError(f"need runs >= 1 and warmup >= 0, got runs={runs}, warmup={warmup}")
    for _ in range(warmup):
        predict(example)
    times = np.empty(runs)
    for i in range(runs):
        start = time.perf_counter()
        predict(example)
        times[i] = time.perf_counter() - start
    ms = times * 1e3
    return {
        "median_ms": float(np.median(ms)),
        "p10_ms": float(np.percentile(ms, 10)),
        "p90_ms": float(np.percentile(ms, 90)),
        "runs": int(runs),
    }


def tflite_runner(
    model: bytes | str | os.PathLike, num_threads: int = 1, backend: str | None = None
) -> Callable[[np.ndarray], np.ndarray]:
    """A batch-1 predict function for :func:`measure_latency`: float32 (1, H, W, C) -> (1, C).

    The interpreter is created once; each call only copies the input, invokes
    and reads the output, as an app on a device would.
    """
    interpreter = tflite_interpreter(model, num_threads=num_threads, backend=backend)
    inp = interpreter.get_input_details()[0]
    if inp["shape"][0] != 1:
        interpreter.resize_tensor_input(inp["index"], [1, *inp["shape"][1:]])
        interpreter.allocate_tensors()
        inp = interpreter.get_input_details()[0]
    out = interpreter.get_output_details()[0]

    def predict(x: np.ndarray) -> np.ndarray:
        interpreter.set_tensor(inp["index"], _quantize(np.asarray(x, dtype=np.float32), inp))
        interpreter.invoke()
        return _dequantize(interpreter.get_tensor(out["index"]), out)

    return predict
