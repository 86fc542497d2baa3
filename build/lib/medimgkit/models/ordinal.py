"""Ordered grades (e.g. diabetic retinopathy 0-4): a cumulative-link head and a grading report.

A softmax classifier treats grade 4 as no closer to grade 3 than to grade 0.
The cumulative-link (proportional-odds) head of McCullagh (J. R. Stat. Soc. B,
1980) knows the order: the network outputs one severity score ``s`` and the
head learns ordered cut points ``t_0 < ... < t_{K-2}``, with

    P(grade <= k) = sigmoid(t_k - s),

so the class probabilities are differences of neighbouring cumulative
probabilities. The output is still ``(N, K)`` probabilities, so
``medimgkit.train.fit`` (sparse cross-entropy) trains it unchanged, and the
loss is then exactly the model's negative log-likelihood.
"""

from __future__ import annotations

import keras
import numpy as np

from medimgkit.models import layers as names
from medimgkit.models.cnn import improved_cnn


@keras.saving.register_keras_serializable(package="medimgkit")
class CumulativeLink(keras.layers.Layer):
    """Severity score ``(N, 1)`` -> probabilities of ``num_classes`` ordered grades ``(N, K)``.

    The cut points are ``t_0`` plus cumulative sums of softplus gaps, so they
    stay ordered; they start 1 apart and centred on 0.
    """

    def __init__(self, num_classes: int, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
            raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
        self.num_classes = int(num_classes)

    def build(self, input_shape):
        if input_shape[-1] != 1:
            raise ValueError(f"CumulativeLink expects a score of shape (N, 1), got {tuple(input_shape)}")
        k = self.num_classes
        self.first = self.add_weight(
            shape=(1,), initializer=keras.initializers.Constant(-(k - 2) / 2), name="first_cut"
        )
        # softplus(0.5413) = 1: neighbouring cut points start one logit apart
        self.gaps = self.add_weight(
            shape=(k - 2,), initializer=keras.initializers.Constant(0.5413), name="gaps"
        )

    def cut_points(self):
        """The ordered cut points ``(K - 1,)``."""
        ops = keras.ops
        steps = ops.concatenate([ops.zeros((1,)), ops.cumsum(ops.softplus(self.gaps))])
        return self.first + steps

    def call(self, score):
        ops = keras.ops
        cdf = ops.sigmoid(self.cut_points()[None, :] - score)  # (N, K-1): P(grade <= k)
        n = ops.shape(score)[0]
        lower = ops.concatenate([ops.zeros((n, 1), dtype=cdf.dtype), cdf], axis=1)
        upper = ops.concatenate([cdf, ops.ones((n, 1), dtype=cdf.dtype)], axis=1)
        return ops.maximum(upper - lower, 0.0)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_classes)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes}


def ordinal_cnn(input_shape: tuple[int, int, int] = (28, 28, 3), num_classes: int = 5, **kwargs) -> keras.Model:
    """``improved_cnn``'s body with a cumulative-link head instead of softmax.

    ``kwargs`` go to ``medimgkit.models.improved_cnn`` (width, blocks, dropout,
    augment, seed). Output: probabilities of the ``num_classes`` ordered
    grades, float32 ``(N, K)``; the layer ``severity`` gives the score ``s``.
    """
    base = improved_cnn(input_shape, num_classes, **kwargs)
    features = base.get_layer(names.DROPOUT).output
    score = keras.layers.Dense(1, name="severity")(features)
    probs = CumulativeLink(num_classes, name="grade_probabilities")(score)
    return keras.Model(base.inputs, probs, name="ordinal_cnn")
