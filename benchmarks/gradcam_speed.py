"""Grad-CAM speed: medimgkit's batched grad_cam vs the per-image recipe.

The per-image recipe (as in the keras.io Grad-CAM example) builds a gradient
model and runs one forward/backward pass per image. We time it two ways:
rebuilding the gradient model on every call, as that example does, and
building it once. medimgkit.explain.grad_cam does the whole batch in one pass.

    python benchmarks/gradcam_speed.py [--images 256]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import report  # noqa: E402


def per_image_cam(grad_model, image, class_index):
    """One image's Grad-CAM, the per-image way (probability output, one tape per image)."""
    import tensorflow as tf

    with tf.GradientTape() as tape:
        conv_out, probs = grad_model(image[None], training=False)
        score = probs[:, class_index]
    grads = tape.gradient(score, conv_out)[0]
    weights = tf.reduce_mean(grads, axis=(0, 1))
    cam = tf.nn.relu(tf.reduce_sum(conv_out[0] * weights, axis=-1))
    cam = tf.image.resize(cam[..., None], image.shape[:2])[..., 0]
    return (cam / (tf.reduce_max(cam) + 1e-12)).numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--size", type=int, default=64)
    args = parser.parse_args()

    import keras

    from medimgkit import data, explain, models, train

    splits = data.load_medmnist_splits("breastmnist", args.size)
    model, _ = train.fit(lambda: models.improved_cnn((args.size, args.size, 1)), splits["train"], splits["val"],
                         epochs=2, positive=0, seed=0, patience=None)
    x = data.to_float(np.concatenate([splits["test"][0], splits["train"][0]])[: args.images])
    classes = model.predict(x, verbose=0).argmax(axis=1)
    layer = explain.find_last_conv_layer(model)

    explain.grad_cam(model, x[:8])  # warm-up (tracing)
    t = time.perf_counter()
    batched = explain.grad_cam(model, x, class_index=classes)
    t_batched = time.perf_counter() - t

    t = time.perf_counter()
    for i in range(len(x)):
        grad_model = keras.Model(model.inputs, [layer.output, model.output])
        per_image_cam(grad_model, x[i], classes[i])
    t_rebuild = time.perf_counter() - t

    grad_model = keras.Model(model.inputs, [layer.output, model.output])
    t = time.perf_counter()
    loop = np.stack([per_image_cam(grad_model, x[i], classes[i]) for i in range(len(x))])
    t_loop = time.perf_counter() - t

    corr = np.mean([np.corrcoef(a.ravel(), b.ravel())[0, 1] for a, b in zip(batched, loop)
                    if a.std() > 0 and b.std() > 0])
    rows = [
        {"method": "medimgkit grad_cam (batched)", "seconds": t_batched, "images/s": len(x) / t_batched, "speed-up": 1.0},
        {"method": "per-image, model rebuilt per call", "seconds": t_rebuild, "images/s": len(x) / t_rebuild,
         "speed-up": t_batched / t_rebuild},
        {"method": "per-image, model built once", "seconds": t_loop, "images/s": len(x) / t_loop,
         "speed-up": t_batched / t_loop},
    ]
    print(f"{len(x)} images of {args.size} px; mean correlation of batched vs per-image maps: {corr:.3f}")
    print("(batched maps use the pre-softmax score, the per-image recipe the probability)\n")
    report("gradcam_speed", rows, {"ratio_vs_rebuild": t_rebuild / t_batched, "ratio_vs_loop": t_loop / t_batched,
                                   "images": len(x), "map_correlation": float(corr)})
    print(f"\nbatched is {t_rebuild / t_batched:.1f}x faster than the per-image recipe "
          f"({t_loop / t_batched:.1f}x faster than a per-image loop with the model built once); target >= 5x")


if __name__ == "__main__":
    main()
