"""The class-per-folder walk and image decoding shared by ``folder`` and ``medical_folder``.

A class-per-folder tree has one sub-folder per class, in sorted order (label
0 is the first name). Images may sit directly in a class folder or in
sub-folders of it (``benign/patient1/img.png``): both loaders read every file
below a class folder, so no image is skipped without a word. Hidden files and
folders (names starting with ``.``) are ignored.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from medimgkit.io.errors import MedicalImageError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def class_folders(directory) -> tuple[Path, list[str]]:
    """``(root, class names)``; at least two classes, else a ``ValueError`` naming the folder."""
    root = Path(directory)
    if not root.is_dir():
        raise ValueError(f"{root} is not a folder; expected one sub-folder per class")
    names = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(names) < 2:
        raise ValueError(f"{root} has {len(names)} class folder(s) {names}; a classifier needs at least 2")
    return root, names


def class_files(class_dir: Path) -> list[Path]:
    """Every non-hidden file below ``class_dir``, sorted; a ``ValueError`` when there is none."""
    paths = sorted(
        p for p in class_dir.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(class_dir).parts)
    )
    if not paths:
        raise ValueError(f"class folder {class_dir} has no files in it or in its sub-folders; expected image files")
    return paths


def decode_image(path: Path) -> np.ndarray:
    """Decode one 8-bit image file to uint8 ``(H, W, C)`` with Pillow, naming the file on any error.

    Errors are ``MedicalImageError`` (a ``ValueError``). Pillow's
    decompression-bomb guard (an image over ``PIL.Image.MAX_IMAGE_PIXELS``)
    is kept: above twice the limit the file is refused, between the limit
    and twice the limit Pillow's warning is repeated with the file's name.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                if img.mode in ("I;16", "I;16B", "I", "F"):
                    raise MedicalImageError(f"{path}: expected 8-bit pixels, found mode {img.mode!r}; "
                                            "save 16-bit images as DICOM or NIfTI, or convert them to 8 bits")
                if img.mode in ("L", "LA"):
                    array = np.asarray(img.convert("L"))[..., None]
                else:
                    array = np.asarray(img.convert("RGB"))
    except Image.DecompressionBombError as exc:
        raise MedicalImageError(
            f"{path}: refused as a possible decompression bomb ({exc}); "
            "expected an image of ordinary size (raise PIL.Image.MAX_IMAGE_PIXELS if it is genuine)"
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise MedicalImageError(f"{path}: cannot be decoded as an image ({exc}); expected a PNG, JPEG, BMP or GIF file") \
            from exc
    for w in caught:
        if issubclass(w.category, Image.DecompressionBombWarning):
            warnings.warn(f"{path}: {w.message}", Image.DecompressionBombWarning, stacklevel=3)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return array
