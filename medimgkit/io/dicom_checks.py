"""Checks that run on a DICOM header before any pixel is decoded.

Each raises ``MedicalImageError`` (or a subclass) naming the file and what
was expected. ``load_dicom``, ``load_dicom_series`` and the anonymiser share them.
"""

from __future__ import annotations

import os
from pathlib import Path

from medimgkit.io.errors import (
    MAX_PIXELS,
    ImageTooLargeError,
    MedicalImageError,
    MissingDecoderError,
)

_PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")


def read_header(path: str | os.PathLike, *, stop_before_pixels: bool = False, force: bool = False):
    """Read a DICOM file with pydicom, turning every failure into a clear ``MedicalImageError``.

    Pixel data larger than 64 KiB is not read here (pydicom defers it), so a
    caller can check the header's size before touching the pixels.
    """
    try:
        import pydicom
        from pydicom.errors import InvalidDicomError
    except ImportError as exc:  # an optional dependency of medimgkit
        raise ImportError(
            "reading DICOM needs pydicom, which is not installed: pip install pydicom, or the book's "
            "package with its medical extra: pip install 'medimgkit-book[medical]'"
        ) from exc

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file; expected a DICOM file")
    try:
        ds = pydicom.dcmread(path, defer_size="64 KB", stop_before_pixels=stop_before_pixels, force=force)
    except InvalidDicomError as exc:
        raise MedicalImageError(
            f"{path}: is not a DICOM file (no 'DICM' marker after the 128-byte preamble); "
            "expected a DICOM Part 10 file. Old headerless files can be read with force=True"
        ) from exc
    except (EOFError, OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise MedicalImageError(
            f"{path}: cannot be parsed as DICOM ({type(exc).__name__}: {exc}); "
            "the file is probably truncated or corrupt"
        ) from exc
    _check_not_cut(ds, path)
    return ds


def _check_not_cut(ds, path: Path) -> None:
    """pydicom silently accepts a file cut inside its last element; compare offsets with the size."""
    tags = list(ds.keys())
    if not tags:
        raise MedicalImageError(
            f"{path}: holds no DICOM elements after the file meta; expected a dataset: "
            f"the file ({os.path.getsize(path)} bytes) is probably truncated"
        )
    last = ds.get_item(tags[-1])  # the raw element: nothing decoded yet
    tell, length = getattr(last, "value_tell", None), getattr(last, "length", None)
    size = os.path.getsize(path)
    if tell is not None and length is not None and length != 0xFFFFFFFF and tell + length > size:
        raise MedicalImageError(
            f"{path}: element {tags[-1]} needs {length} bytes from offset {tell}, but the file ends at "
            f"{size} bytes; expected a complete file: it is truncated"
        )


def check_has_pixels(ds, path) -> None:
    """Raise ``MedicalImageError`` unless ``ds`` holds pixel data."""
    if any(k in ds for k in _PIXEL_KEYWORDS):
        return
    sop = ds.get("SOPClassUID")
    sop_name = getattr(sop, "name", str(sop or "unknown SOP class"))
    size = os.path.getsize(path)
    if "Rows" in ds or "Image" in sop_name:
        hint = f"its header describes an image ({sop_name}), so the file ({size} bytes) is probably truncated"
    else:
        hint = f"it is a {sop_name} object (not an image), or a file truncated before its pixels ({size} bytes)"
    raise MedicalImageError(f"{path}: has no pixel data; expected an image: {hint}")


def check_size(ds, path, *, max_pixels: int = MAX_PIXELS, min_size: int = 2) -> tuple[int, int, int, int]:
    """Check Rows x Columns x frames x samples against limits before any pixel is decoded.

    Returns ``(rows, columns, frames, samples)``.
    """
    try:
        rows, cols = int(ds.Rows), int(ds.Columns)
        frames = int(ds.get("NumberOfFrames") or 1)
        samples = int(ds.get("SamplesPerPixel") or 1)
    except (AttributeError, TypeError, ValueError) as exc:
        raise MedicalImageError(f"{path}: the header lacks a valid Rows/Columns/NumberOfFrames ({exc})") from exc
    total = rows * cols * frames * samples
    if total > max_pixels:
        raise ImageTooLargeError(
            f"{path}: header asks for {rows} x {cols} pixels x {frames} frame(s) x {samples} sample(s) "
            f"= {total:,} values, over the limit of {max_pixels:,} (max_pixels); refusing to allocate. "
            "Expected a header that matches a real image; raise max_pixels if it is genuine"
        )
    if rows < min_size or cols < min_size or frames < 1:
        raise MedicalImageError(
            f"{path}: is {rows} x {cols} pixels ({frames} frame(s)); expected at least "
            f"{min_size} x {min_size}: a 1-pixel image is a placeholder or a broken export"
        )
    return rows, cols, frames, samples


def install_hint(decoder) -> str:
    """``pip install ...`` suggestions from pydicom's list of missing plugin dependencies."""
    import re

    hints = []
    for line in decoder.missing_dependencies:
        needs = line.split("requires", 1)[-1]
        names = [re.split(r"[<>=!~ ]", part.strip())[0] for part in needs.split(" and ")]
        names = ["python-gdcm" if n == "gdcm" else n for n in names if n and n != "numpy"]
        if names:
            hints.append("pip install " + " ".join(names))
    return " or ".join(dict.fromkeys(hints)) or "a pydicom pixel-data plugin"


def check_decoder(ds, path) -> None:
    """Raise ``MissingDecoderError`` if the transfer syntax is compressed and no decoder is installed."""
    from pydicom.pixels import get_decoder

    ts = getattr(ds, "file_meta", {}).get("TransferSyntaxUID")
    if ts is None:
        raise MedicalImageError(f"{path}: the file meta has no Transfer Syntax UID; expected one to decode the pixels")
    if not ts.is_compressed:
        return
    try:
        decoder = get_decoder(ts)
    except NotImplementedError as exc:
        raise MissingDecoderError(f"{path}: pixel data uses {ts.name} ({ts}), which pydicom cannot decode") from exc
    if not decoder.is_available:
        raise MissingDecoderError(
            f"{path}: pixel data is compressed with {ts.name} ({ts}) and no installed package "
            f"decodes it; expected a decoder: {install_hint(decoder)}"
        )
