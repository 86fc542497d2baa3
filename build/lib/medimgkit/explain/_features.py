"""What an explanation explains: one model output's class score and the feature map below it.

Grad-CAM, Grad-CAM++, the input-gradient methods and the sanity check all
need the same things, and find them here, in one place:

* the **images**, through the package's one input contract
  (``medimgkit._contract.model_input``: uint8 0-255 or float [0, 1]), shaped
  like the model's input: ``(N, H, W, C)``, or ``(N, D, H, W, C)`` for a 3-D
  model;
* the **output** to explain (``output=``: index or name, default the first)
  and its **class score**: the class log-odds ``log(p_c / (1 - p_c))``
  computed from the logits *before* the output's softmax/sigmoid (a ``Dense``
  with that activation, or an ``Activation``/``Softmax`` layer); any other
  output is used as it is;
* the **feature map** for the CAM methods: the output tensor, *in the outer
  model's graph*, of the last top-level layer that feeds that output, has the
  input's rank and is computed by a convolution (a nested backbone counts as
  one layer; pooling, preprocessing and augmentation layers do not count);
* the **gradients**: of each image's class score with respect to that feature
  map (``Target.feature_gradients``) or to the image (``Target.input_gradients``).

Where the graph can be cut at the feature map (every path from the input to
the score passes through it) the forward pass up to the map runs without a
gradient tape and only the layers after it are recorded, which is several
times faster. A skip connection around the map makes the cut impossible; then
one sub-model computes the map and the score together. Which case applies is
decided by walking the graph, never by trying and catching Keras errors
(keras 3.13 builds such a cut model without complaint and fails only when
it is called).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from medimgkit._contract import fail, model_input
from medimgkit.models.layers import AUGMENTATION

_CONVOLUTIONS = tuple(
    getattr(keras.layers, name)
    for name in (
        "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
        "DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D",
    )
    if hasattr(keras.layers, name)
)
_POOLING = tuple(
    getattr(keras.layers, f"{kind}Pooling{d}D")
    for kind in ("Max", "Average", "GlobalMax", "GlobalAverage")
    for d in (1, 2, 3)
    if hasattr(keras.layers, f"{kind}Pooling{d}D")
)


# ---------------------------------------------------------------- the graph


def _producer(tensor):
    """(operation, node) that computed a symbolic tensor of a functional graph."""
    history = tensor._keras_history
    operation = history[0]
    return operation, operation._inbound_nodes[history[1]]


def _upstream(tensors, stop=()):
    """Every symbolic tensor that ``tensors`` are computed from (themselves included), nearest first,
    as ``(tensor, operation)``; the walk does not go above a tensor in ``stop``."""
    stop_ids = {id(t) for t in stop}
    seen: set[int] = set()
    queue = list(tensors)
    found = []
    while queue:
        tensor = queue.pop(0)
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        operation, node = _producer(tensor)
        found.append((tensor, operation))
        if id(tensor) not in stop_ids:
            queue.extend(node.input_tensors)
    return found


def _is_input(operation) -> bool:
    return isinstance(operation, keras.layers.InputLayer)


def _convolves(operation) -> bool:
    """A convolution layer, or a nested model that contains one."""
    if isinstance(operation, _CONVOLUTIONS):
        return True
    return isinstance(operation, keras.Model) and any(_convolves(layer) for layer in operation.layers)


def _nested_names(model: keras.Model) -> set[str]:
    names = set()
    for layer in model.layers:
        names.add(layer.name)
        if isinstance(layer, keras.Model):
            names |= _nested_names(layer)
    return names


def split_at(model: keras.Model, feature_tensor, top):
    """(inputs -> feature map, feature map -> top) models, or None if the graph cannot be cut there.

    The cut is possible when every path from the model's input to ``top``
    passes through ``feature_tensor``; a skip connection around the feature
    map (a later layer that also reads something computed before it) makes it
    impossible. Decided by walking the graph; if the walk itself fails (a
    Keras internal changed), the answer is None, which is always correct.
    """
    try:
        above = _upstream([top], stop=[feature_tensor])
        if any(_is_input(op) for _, op in above) or not any(t is feature_tensor for t, _ in above):
            return None
        return keras.Model(_input(model), feature_tensor), keras.Model(feature_tensor, top)
    except (AttributeError, IndexError, TypeError, ValueError, KeyError):
        return None


# ---------------------------------------------------------------- the model's input and output


def _input(model: keras.Model):
    """The model's one symbolic input, or a ValueError."""
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        inputs = None
    if not inputs:
        raise ValueError(
            f"model {model.name!r} has no defined input; build it with keras.Input(shape) "
            "(a functional model, or keras.Input as the first entry of a Sequential)"
        )
    if len(inputs) != 1:
        raise ValueError(
            f"model {model.name!r} has {len(inputs)} inputs {[t.name for t in inputs]}; the explain "
            "methods attribute a score to one image input, so which input to explain is ambiguous: "
            "wrap the model so that it takes a single image tensor"
        )
    return inputs[0]


def _output_names(model: keras.Model) -> list[list[str]]:
    """For each of ``model.outputs``, the names it answers to, the one to show first.

    The key when the model was built with a dict of outputs, ``model.output_names``
    and the name of the layer that computes it.
    """
    outputs = model.outputs
    names = [[] for _ in outputs]
    struct = getattr(model, "_outputs_struct", None)
    if isinstance(struct, dict):
        for key, tensor in struct.items():
            for i, out in enumerate(outputs):
                if out is tensor:
                    names[i].append(str(key))
    declared = getattr(model, "output_names", None)
    if isinstance(declared, (list, tuple)) and len(declared) == len(outputs):
        for i, name in enumerate(declared):
            names[i].append(str(name))
    for i, out in enumerate(outputs):
        names[i].append(_producer(out)[0].name)
    return [list(dict.fromkeys(n)) for n in names]


def _select_output(model: keras.Model, output) -> tuple[int, str]:
    """(index, name) of the model output to explain."""
    outputs = model.outputs
    names = _output_names(model)
    listing = ", ".join(f"{i}: {n[0]!r}" for i, n in enumerate(names))
    if isinstance(output, str):
        for i, aliases in enumerate(names):
            if output in aliases:
                return i, aliases[0]
        raise ValueError(f"output {output!r} is not an output of model {model.name!r}; its outputs are {{{listing}}}")
    if isinstance(output, (bool, np.bool_)) or not isinstance(output, (int, np.integer)):
        raise ValueError(f"output must be an output's index or name, found {output!r}; the outputs are {{{listing}}}")
    if not -len(outputs) <= output < len(outputs):
        raise ValueError(
            f"output {output} is out of range: model {model.name!r} has {len(outputs)} output(s) {{{listing}}}"
        )
    index = int(output) % len(outputs)
    return index, names[index][0]


def _activation_name(layer) -> str:
    fn = getattr(layer, "activation", None)
    return str(getattr(fn, "__name__", fn or ""))


def log_odds(logits, activation: str):
    """Per-class log-odds ``log(p_c / (1 - p_c))`` from pre-activation logits ``(N, K)``.

    softmax: ``z_c - logsumexp(z_k, k != c)``; one sigmoid unit: ``[-z, +z]``
    (class 0 is "not class 1"); several sigmoid units (multi-label): ``z``.
    """
    if activation == "sigmoid":
        return ops.concatenate([-logits, logits], axis=-1) if logits.shape[-1] == 1 else logits
    k = logits.shape[-1]
    diagonal = ops.cast(ops.eye(k), "bool")[None]
    others = ops.where(diagonal, float("-inf"), logits[:, None, :])
    return logits - ops.logsumexp(others, axis=-1)


# ---------------------------------------------------------------- the target


def _show(value) -> str:
    """A short, NumPy-free rendering of a user's value for an error message."""
    shown = np.asarray(value).tolist() if isinstance(value, (np.ndarray, np.generic)) else value
    text = repr(shown)
    return text if len(text) <= 60 else text[:57] + "..."


class Target:
    """One output's class score of a model, and (for the CAM methods) the feature map below it.

    Parameters
    ----------
    model : keras.Model
        Functional or Sequential, built on one ``keras.Input`` of images
        ``(H, W, C)`` or volumes ``(D, H, W, C)``; it may nest models.
    output : int or str
        Index in ``model.outputs`` or name (output layer name, or key of a dict
        of outputs) of the model output to explain (default 0, the first).
    layer : str, keras layer, or None
        Only with ``feature=True``: the top-level layer whose output is the
        feature map; default the last convolutional feature map feeding that
        output (``find_last_conv_layer``).
    feature : bool
        Whether to find a feature map (Grad-CAM, Grad-CAM++).
    """

    def __init__(self, model: keras.Model, output=0, layer=None, feature: bool = False):
        self.model = model
        self.input = _input(model)
        self.output_index, self.output_name = _select_output(model, output)
        out = model.outputs[self.output_index]
        if len(out.shape) != 2:
            raise ValueError(
                f"output {self.output_name!r} of model {model.name!r} has shape {tuple(out.shape)}, not "
                "(N, K) class scores, so there is no one class score per image to explain; choose a "
                "classification output with output="
            )
        operation, node = _producer(out)
        activation = _activation_name(operation)
        self.head = None
        self.activation = None
        self.pre = out
        if isinstance(operation, keras.layers.Dense) and activation in ("softmax", "sigmoid"):
            self.head, self.activation, self.pre = operation, activation, node.input_tensors[0]
        elif isinstance(operation, keras.layers.Activation) and activation in ("softmax", "sigmoid"):
            self.activation, self.pre = activation, node.input_tensors[0]
        elif isinstance(operation, keras.layers.Softmax):
            self.activation, self.pre = "softmax", node.input_tensors[0]
        k = out.shape[-1]
        if self.activation == "softmax" and k == 1:
            raise ValueError(
                f"output {self.output_name!r} is a softmax over one unit: its probability is always 1, "
                "so there is no class evidence to explain; use a sigmoid unit or two softmax classes"
            )
        self.n_classes = 2 if (self.activation == "sigmoid" and k == 1) else k
        self.rank = 5 if len(self.input.shape) == 5 else 4  # feature maps have the image's rank
        self.layer = None
        self.feature = None
        if feature:
            self.layer, self.feature = self._feature(layer)
        self._models: dict[str, object] = {}

    # -- feature map

    def _spatial(self) -> str:
        return "(N, D, H, W, C)" if self.rank == 5 else "(N, H, W, C)"

    def _feature(self, layer):
        feeding = {}
        for tensor, operation in _upstream([self.model.outputs[self.output_index]]):
            feeding.setdefault(id(operation), tensor)
        if layer is not None:
            name = layer.name if isinstance(layer, keras.layers.Layer) else layer
            if not isinstance(name, str):
                raise ValueError(f"layer must be a layer name (str), found {layer!r}")
            try:
                target = self.model.get_layer(name)
            except ValueError:
                nested = [
                    outer.name for outer in self.model.layers
                    if isinstance(outer, keras.Model) and name in _nested_names(outer)
                ]
                where = (f"it is inside the nested model {nested[0]!r}; pass layer={nested[0]!r} to use "
                         "that model's output" if nested else "")
                raise ValueError(
                    f"layer {name!r} is not a top-level layer of model {self.model.name!r}"
                    + (f"; {where}" if where else "")
                ) from None
            tensor = feeding.get(id(target))
            if tensor is None:
                raise ValueError(
                    f"layer {name!r} does not feed output {self.output_name!r} of model {self.model.name!r}; "
                    "choose a layer on that output's path, or the output with output="
                )
            if len(tensor.shape) != self.rank:
                raise ValueError(
                    f"layer {name!r} has output shape {tuple(tensor.shape)}; Grad-CAM needs a feature map "
                    f"{self._spatial()}"
                )
            return target, tensor
        for candidate in reversed(self.model.layers):
            tensor = feeding.get(id(candidate))
            if (
                tensor is None
                or _is_input(candidate)
                or isinstance(candidate, _POOLING)
                or candidate.name == AUGMENTATION
                or len(tensor.shape) != self.rank
            ):
                continue
            if any(_convolves(op) for _, op in _upstream([tensor])):
                return candidate, tensor
        raise ValueError(
            f"model {self.model.name!r} has no layer with a {self.rank}-D {self._spatial()} output computed by "
            f"a convolution feeding output {self.output_name!r}, so Grad-CAM has no convolutional feature map "
            "to explain (preprocessing layers such as Rescaling or RandomFlip do not count); it needs a CNN"
        )

    # -- images and classes

    def images(self, images, name: str = "images", single: bool = True) -> np.ndarray:
        """``images`` through ``model_input``, checked against the model's input shape.

        Returns float32 ``(N, H, W, C)`` (or ``(N, D, H, W, C)``) in [0, 1].
        With ``single=True`` one image shaped exactly like the model's input
        (no batch axis) is taken as a batch of one.
        """
        expected = tuple(self.input.shape[1:])
        if len(expected) not in (3, 4):
            raise ValueError(
                f"model {self.model.name!r} takes input of shape {tuple(self.input.shape)}; the explain methods "
                "need a model of images (N, H, W, C) or volumes (N, D, H, W, C)"
            )
        volumes = len(expected) == 4

        def fits(shape) -> bool:
            return len(shape) == len(expected) and all(e is None or e == s for e, s in zip(expected, shape))

        found = np.shape(images)
        x = model_input(images, name=name, volumes=volumes, single=single and fits(found))
        if not fits(x.shape[1:]):
            batch = "(N, " + ", ".join("?" if e is None else str(e) for e in expected) + ")"
            if volumes and len(found) == 4:
                fix = ("a 3-D model needs volumes (N, D, H, W, C); these look like 2-D images: "
                       "pass volumes, or use a 2-D model")
            else:
                fix = "resize or crop to the model's input size, with as many channels"
            raise fail(name, f"{self._spatial()} = {batch} for model {self.model.name!r}", f"shape {found}", fix)
        return x

    def classes(self, class_index, n: int) -> np.ndarray | None:
        """``class_index`` as int64 ``(n,)``, or None (explain each image's top class); a ValueError naming a bad value."""
        k = self.n_classes
        if class_index is None:
            return None
        expected = f"a class in 0..{k - 1} of output {self.output_name!r}, or one per image, an int array ({n},)"
        c = np.asarray(class_index)
        if c.dtype == bool or not (np.issubdtype(c.dtype, np.integer) or np.issubdtype(c.dtype, np.floating)):
            raise fail("class_index", expected, f"{_show(class_index)} (dtype {c.dtype})", "pass integer class indices")
        if c.ndim == 2 and c.shape[1] == 1:  # labels stored as (N, 1), as in MedMNIST
            c = c[:, 0]
        if c.ndim > 1 or (c.ndim == 1 and len(c) != n):
            raise fail("class_index", expected, f"an array of shape {np.shape(class_index)} for {n} image(s)",
                        "pass one class for all images or exactly one per image")
        if not np.all(np.isfinite(c)) or not np.all(c == np.round(c)):
            bad = np.ravel(c[~(np.isfinite(c) & (c == np.round(c)))] if c.ndim else c)[0]
            raise fail("class_index", expected, f"{bad.item()!r}, not a whole number",
                        "pass integer class indices (e.g. labels.astype(int))")
        if c.size and (c.min() < 0 or c.max() >= k):
            raise ValueError(
                f"class_index {_show(class_index)} is outside 0..{k - 1}: output {self.output_name!r} of model "
                f"{self.model.name!r} has {k} classes"
            )
        return np.broadcast_to(c.astype(np.int64), (n,)).copy()

    # -- scores and gradients

    def scores(self, pre):
        """Class scores ``(N, K)`` from the values of ``self.pre``: log-odds, or the raw output."""
        if self.activation is None:
            return pre
        logits = pre
        if self.head is not None:
            logits = ops.matmul(pre, self.head.kernel)
            if self.head.use_bias:
                logits = logits + self.head.bias
        return log_odds(logits, self.activation)

    def _model(self, key: str):
        if key not in self._models:
            if key == "score":
                self._models[key] = keras.Model(self.input, self.pre)
            elif key == "split":
                self._models[key] = split_at(self.model, self.feature, self.pre)
            elif key == "both":
                self._models[key] = keras.Model(self.input, [self.feature, self.pre])
        return self._models[key]

    def predict(self, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Class scores float32 ``(N, K)`` for model-ready images (forward pass only)."""
        sub = self._model("score")
        parts = [ops.convert_to_numpy(self.scores(sub(x[i : i + batch_size], training=False)))
                 for i in range(0, len(x), batch_size)]
        return np.concatenate(parts).astype(np.float32)

    def _selected(self, scores, classes):
        if classes is None:
            classes = np.argmax(ops.convert_to_numpy(scores), axis=-1).astype(np.int64)
        # Summing over the batch is exact: each image's score depends on that image only (inference mode).
        one_hot = ops.one_hot(classes, scores.shape[-1], dtype=scores.dtype)
        return ops.sum(scores * one_hot), classes

    def feature_gradients(self, x: np.ndarray, classes: np.ndarray | None):
        """(feature map, d score / d feature map, classes explained) for model-ready images ``x``.

        The map and its gradient are float32 tensors ``(N, h, w, k)`` (``(N, d, h, w, k)`` in 3-D);
        ``classes`` int64 ``(N,)``: the given ones, or each image's top-scoring class.
        """
        import tensorflow as tf

        tensor = ops.convert_to_tensor(x)
        split = self._model("split")
        if split is not None:
            # Forward to the feature map without recording, then record only the layers after it:
            # the gradient never walks back through the convolutions below the map.
            front, rest = split
            feature_map = front(tensor, training=False)
            with tf.GradientTape() as tape:
                tape.watch(feature_map)
                selected, classes = self._selected(self.scores(rest(feature_map, training=False)), classes)
        else:
            with tf.GradientTape() as tape:
                feature_map, pre = self._model("both")(tensor, training=False)
                selected, classes = self._selected(self.scores(pre), classes)
        return feature_map, tape.gradient(selected, feature_map), classes

    def input_gradients(self, x: np.ndarray, classes: np.ndarray | None):
        """(d score / d x as float32 NumPy, same shape as ``x``; classes explained, int64 ``(N,)``)."""
        import tensorflow as tf

        tensor = ops.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(tensor)
            selected, classes = self._selected(self.scores(self._model("score")(tensor, training=False)), classes)
        return ops.convert_to_numpy(tape.gradient(selected, tensor)).astype(np.float32), classes


def find_last_conv_layer(model: keras.Model, output=0) -> keras.layers.Layer:
    """The last top-level layer whose output is a convolutional feature map feeding ``output``.

    A feature map has the input's rank, ``(N, H, W, C)`` (or ``(N, D, H, W, C)``
    for a 3-D model), and is computed by a convolution; a nested model (e.g. a
    Keras Applications backbone) counts as one layer, its output being its
    last conv block. Pooling, augmentation and preprocessing layers (e.g.
    ``Rescaling``, ``RandomFlip`` before any convolution) are skipped. In a
    multi-output model only layers on the path to ``output`` (index or name,
    default the first) count.

    Raises
    ------
    ValueError
        If no such layer exists (the model is not a CNN), or the model has no
        single image input.
    """
    return Target(model, output=output, feature=True).layer


def spatial_axes(maps) -> tuple[int, ...]:
    """Every axis of a batch of maps ``(N, ...)`` but the batch axis."""
    return tuple(range(1, len(maps.shape)))


def resize_maps(maps, size) -> object:
    """Resize maps ``(N, h, w)`` or ``(N, d, h, w)`` to ``size`` (H, W) or (D, H, W), (tri)linearly.

    In 3-D: bilinear in-plane, then linear along depth (a bilinear resize
    that leaves the second axis unchanged interpolates along the first only).
    """
    size = tuple(int(s) for s in size)
    if tuple(maps.shape[1:]) == size:
        return maps
    if len(size) == 2:
        return ops.image.resize(maps[..., None], size, interpolation="bilinear")[..., 0]
    n, d, h, w = (int(s) for s in maps.shape)
    depth, height, width = size
    planes = ops.image.resize(ops.reshape(maps, (n * d, h, w, 1)), (height, width), interpolation="bilinear")
    columns = ops.reshape(planes, (n, d, height * width, 1))
    volume = ops.image.resize(columns, (depth, height * width), interpolation="bilinear")
    return ops.reshape(volume, (n, depth, height, width))


def normalise(maps) -> np.ndarray:
    """Each map divided by its own maximum, float32 NumPy; a map with no positive value stays zero."""
    maps = ops.convert_to_tensor(maps)
    peak = ops.max(maps, axis=spatial_axes(maps), keepdims=True)
    scaled = ops.where(peak > 0, maps / ops.where(peak > 0, peak, 1.0), 0.0)
    return ops.convert_to_numpy(scaled).astype(np.float32)
