"""Input pipeline speed: the article's folder loop vs medimgkit's decode-once pipeline.

1. BreastMNIST (64 px) is written to a class-per-folder PNG tree.
2. The article's loop: ``keras.utils.image_dataset_from_directory``, which
   decodes every PNG again in every epoch.
3. medimgkit: ``data.load_image_folder`` decodes once, ``data.as_dataset``
   caches, shuffles and prefetches; augmentation runs inside the model.
Both are iterated for the same number of epochs; images/s counts the decode.
Then the overhead of training from ``as_dataset`` over training from
in-memory arrays (``model.fit(x, y)``) is measured on the same model.

    python benchmarks/input_pipeline.py [--epochs 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import report  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20, help="epochs read (a short training run)")
    parser.add_argument("--train-epochs", type=int, default=4)
    parser.add_argument("--size", type=int, default=64)
    args = parser.parse_args()

    import keras

    import medimgkit
    from medimgkit import data, models

    x, y = data.load_medmnist("breastmnist", args.size, "train")
    names = data.class_names("breastmnist")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        data.save_image_folder(folder, x, y, names)

        t = time.perf_counter()
        ds = keras.utils.image_dataset_from_directory(folder, image_size=(args.size, args.size), batch_size=32,
                                                      seed=0, verbose=False)
        seen = 0
        for _ in range(args.epochs):
            for xb, _ in ds:
                seen += int(xb.shape[0])
        t_article = time.perf_counter() - t
        rows.append({"pipeline": "image_dataset_from_directory (decode each epoch)", "epochs": args.epochs,
                     "seconds": t_article, "images/s": seen / t_article})

        t = time.perf_counter()
        images, labels, _ = data.load_image_folder(folder)
        ds = data.as_dataset(images, labels, batch_size=32, shuffle=True, seed=0)
        seen = 0
        for _ in range(args.epochs):
            for xb, _ in ds:
                seen += int(xb.shape[0])
        t_kit = time.perf_counter() - t
        rows.append({"pipeline": "medimgkit load_image_folder + as_dataset", "epochs": args.epochs,
                     "seconds": t_kit, "images/s": seen / t_kit})

    def build():
        medimgkit.set_seed(0)
        model = models.improved_cnn((args.size, args.size, 1))
        model.compile("adam", "sparse_categorical_crossentropy")
        return model

    xf = data.to_float(x)
    model = build()
    model.fit(xf[:64], y[:64], epochs=1, verbose=0)  # warm-up: tracing and thread pools
    model = build()
    t = time.perf_counter()
    model.fit(xf, y, batch_size=32, epochs=args.train_epochs, shuffle=True, verbose=0)
    t_memory = time.perf_counter() - t
    model = build()
    t = time.perf_counter()
    model.fit(data.as_dataset(x, y, batch_size=32, seed=0), epochs=args.train_epochs, verbose=0)
    t_pipeline = time.perf_counter() - t
    overhead = (t_pipeline - t_memory) / t_memory
    rows.append({"pipeline": "training from in-memory arrays", "epochs": args.train_epochs, "seconds": t_memory,
                 "images/s": len(x) * args.train_epochs / t_memory})
    rows.append({"pipeline": "training from as_dataset", "epochs": args.train_epochs, "seconds": t_pipeline,
                 "images/s": len(x) * args.train_epochs / t_pipeline})
    ratio = t_article / t_kit
    report("input_pipeline", rows, {"read_ratio": ratio, "training_overhead": overhead})
    print(f"\nreading: medimgkit is {ratio:.1f}x faster than the article's loop (target >= 3x)")
    print(f"training overhead of as_dataset over in-memory arrays: {100 * overhead:+.1f} % (target <= 10 %)")


if __name__ == "__main__":
    main()
