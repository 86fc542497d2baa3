"""The class-per-folder walk and image decoding shared by ``folder`` and ``medical_folder``.

A class-per-folder tree has one sub-folder per class, in sorted order (label
0 is the first name). Images may sit directly in a class folder or in
sub-folders of it (``benign/patient1/img.png``): both loaders read every file
below a class folder, so no image is skipped without a word. Hidden files and
folders (names starting with ``.``) are ignored.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

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
    """Decode one 8-bit image file to uint8 ``(H, W, C)`` with Pillow, naming the file on any error."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            if img.mode in ("I;16", "I;16B", "I", "F"):
                raise ValueError(f"{path}: expected 8-bit pixels, found mode {img.mode!r}")
            if img.mode in ("L", "LA"):
                array = np.asarray(img.convert("L"))[..., None]
            else:
                array = np.asarray(img.convert("RGB"))
    except Image.DecompressionBombError as exc:
        raise ValueError(
            f"{path}: refused as a possible decompression bomb ({exc}); "
            "expected an image of ordinary size"
        ) from exc
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"{path}: cannot be decoded as an image ({exc})") from exc
    return array
