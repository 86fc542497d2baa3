"""Class-per-folder image loading, the article's own data path.

The source article reads a folder tree such as ``data/benign/*.png`` and
``data/malignant/*.png`` with ``keras.utils.image_dataset_from_directory``,
which decodes every image as RGB. Ultrasound and X-ray images are grey: the
loader here keeps their single channel.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from medimgkit.data._classes import IMAGE_SUFFIXES, class_files, class_folders, decode_image


def load_image_folder(
    directory: str | os.PathLike,
    image_size: tuple[int, int] | None = None,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Load a class-per-folder image tree into memory.

    Each sub-folder of ``directory`` is one class, in sorted order (label 0 is
    the first name). Every file below a class folder is read, also in its
    sub-folders (``benign/patient1/img.png``); files must be PNG, JPEG, BMP or
    GIF. For patient IDs from such sub-folders, DICOM or NIfTI, use
    :func:`medimgkit.data.load_medical_folder`.

    Parameters
    ----------
    directory : path
        Folder with one sub-folder per class.
    image_size : (height, width), optional
        Resize every image to this size (bilinear). Without it, all images must
        already share one size.

    Returns
    -------
    images : np.ndarray of uint8, shape (N, H, W) for grey or (N, H, W, 3) for colour
    labels : np.ndarray of int64, shape (N,)
    class_names : list of str, the sub-folder names in label order

    Raises
    ------
    ValueError
        Missing or empty folder, fewer than two classes, a class with no
        images, a non-image file, or mixed sizes or channel counts.
    """
    root, names = class_folders(directory)
    images: list[np.ndarray] = []
    labels: list[int] = []
    for label, name in enumerate(names):
        for path in class_files(root / name):
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                raise ValueError(
                    f"{path} is not an image file; expected one of {IMAGE_SUFFIXES}"
                )
            images.append(decode_image(path))
            labels.append(label)
    channels = sorted({im.shape[-1] for im in images})
    if len(channels) > 1:
        raise ValueError(
            f"{root} mixes images with {channels} channels; convert them to all grey or all RGB"
        )
    if image_size is not None:
        import tensorflow as tf

        images = [
            np.clip(np.round(tf.image.resize(im, image_size, antialias=True).numpy()), 0, 255).astype(np.uint8)
            for im in images
        ]
    sizes = sorted({im.shape[:2] for im in images})
    if len(sizes) > 1:
        raise ValueError(
            f"{root} mixes image sizes {sizes[:5]}; pass image_size=(H, W) to resize them"
        )
    stacked = np.stack(images)
    if stacked.shape[-1] == 1:
        stacked = stacked[..., 0]
    return stacked, np.asarray(labels, dtype=np.int64), names


def save_image_folder(
    directory: str | os.PathLike,
    images: np.ndarray,
    labels: np.ndarray,
    class_names: list[str],
) -> Path:
    """Write uint8 images as PNG files in a class-per-folder tree (the inverse of loading).

    ``images`` is uint8 ``(N, H, W)`` or ``(N, H, W, C)``; ``labels`` int ``(N,)``
    indexes ``class_names``. Returns the folder.
    """
    import tensorflow as tf

    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.dtype != np.uint8:
        raise ValueError(f"images must be uint8, got {images.dtype}")
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    root = Path(directory)
    for name in class_names:
        (root / name).mkdir(parents=True, exist_ok=True)
    for i, (image, label) in enumerate(zip(images, labels)):
        if image.ndim == 2:
            image = image[..., None]
        png = tf.io.encode_png(image).numpy()
        (root / class_names[int(label)] / f"{i:05d}.png").write_bytes(png)
    return root
