"""Read one DICOM file into physical units, refusing bad files with a clear reason.

A DICOM file stores *stored values* (integers); the header says how to turn
them into physical values: ``value = RescaleSlope * stored + RescaleIntercept``
(DICOM PS3.3, C.11.1, the Modality LUT). For CT the result is in Hounsfield
units (HU): air about -1000, water 0, dense bone above +1000.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from medimgkit.io.dicom_checks import (
    check_decoder,
    check_has_pixels,
    check_size,
    install_hint,
    read_header,
)
from medimgkit.io.errors import MAX_PIXELS, MedicalImageError


@dataclass(frozen=True)
class DicomMeta:
    """What a loader needs to know about one DICOM image.

    Spacings are in millimetres; ``pixel_spacing`` is (between rows, between
    columns). ``image_position`` is the centre of the first pixel in patient
    coordinates (mm, DICOM's LPS axes); ``image_orientation`` holds the row and
    column direction cosines. Missing attributes are ``None`` (numbers) or
    ``""`` (text).
    """

    path: str
    modality: str
    rows: int
    columns: int
    frames: int
    samples_per_pixel: int
    photometric: str
    transfer_syntax: str
    sop_class: str
    units: str
    rescale_slope: float
    rescale_intercept: float
    pixel_spacing: tuple[float, float] | None
    slice_thickness: float | None
    window_center: float | None
    window_width: float | None
    patient_id: str
    study_uid: str
    series_uid: str
    sop_uid: str
    image_position: tuple[float, float, float] | None
    image_orientation: tuple[float, float, float, float, float, float] | None

    @property
    def normal(self) -> np.ndarray | None:
        """Unit vector perpendicular to the slice (row direction x column direction)."""
        if self.image_orientation is None:
            return None
        n = np.cross(self.image_orientation[:3], self.image_orientation[3:])
        length = np.linalg.norm(n)
        return n / length if length > 1e-6 else None

    def as_dict(self) -> dict:
        return asdict(self)


def _number(ds, keyword: str) -> float | None:
    value = ds.get(keyword)
    if value is None or value == "":
        return None
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        value = value[0] if len(value) else None
        if value is None:
            return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _numbers(ds, keyword: str, n: int) -> tuple[float, ...] | None:
    value = ds.get(keyword)
    try:
        numbers = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        return None
    return numbers if len(numbers) == n else None


def load_dicom(
    path: str | os.PathLike,
    *,
    max_pixels: int = MAX_PIXELS,
    min_size: int = 2,
    invert_monochrome1: bool = False,
    force: bool = False,
) -> tuple[np.ndarray, DicomMeta]:
    """Load one DICOM image in physical units.

    The rescale (or Modality LUT) of the header is applied, so CT comes out in
    Hounsfield units. Every check runs before the pixels are decoded: the file
    is DICOM, holds pixel data, has a sane size and a decodable transfer syntax.

    Parameters
    ----------
    path : path of a DICOM Part 10 file
    max_pixels : int
        Refuse headers asking for more values than this (default ``MAX_PIXELS``).
    min_size : int
        Refuse images with fewer rows or columns than this (default 2).
    invert_monochrome1 : bool
        ``MONOCHROME1`` images (some X-rays) show *low* values as white. With
        ``True`` their stored values are flipped within their bit range before
        the rescale, so bright means dense as in ``MONOCHROME2``.
    force : bool
        Passed to ``pydicom.dcmread``: read files without the Part 10 header.

    Returns
    -------
    pixels : float32 array, (H, W) for grey, (H, W, 3) for colour, with a
        leading frame axis (F, H, W[, 3]) for multi-frame files
    meta : DicomMeta

    Raises
    ------
    FileNotFoundError
    MedicalImageError
        Not DICOM, truncated, no pixel data, 1 x 1 image, NaN/inf pixels.
    MissingDecoderError
        Compressed transfer syntax with no decoder installed (the message says what to install).
    ImageTooLargeError
        Rows x Columns x frames over ``max_pixels``.
    """
    path = Path(path)
    ds = read_header(path, force=force)
    check_has_pixels(ds, path)
    check_size(ds, path, max_pixels=max_pixels, min_size=min_size)
    check_decoder(ds, path)
    pixels = _decode(ds, path, invert_monochrome1)
    return pixels, meta_from(ds, path)


def _decode(ds, path: Path, invert_monochrome1: bool) -> np.ndarray:
    from pydicom.pixels import apply_modality_lut

    try:
        stored = ds.pixel_array
    except (ValueError, EOFError, OSError) as exc:
        raise MedicalImageError(
            f"{path}: the pixel data is shorter or longer than its header promises ({exc}); "
            "expected a complete file: it is probably truncated"
        ) from exc
    except (RuntimeError, AttributeError, NotImplementedError, KeyError, TypeError) as exc:
        ts = ds.file_meta.get("TransferSyntaxUID")
        from pydicom.pixels import get_decoder

        if ts is not None and ts.is_compressed:
            hint = f"expected decodable pixels; another decoder may read it: {install_hint(get_decoder(ts))}"
        else:
            hint = "expected complete image attributes (BitsAllocated, PhotometricInterpretation, ...)"
        raise MedicalImageError(
            f"{path}: the pixel data cannot be decoded ({type(exc).__name__}: {' '.join(str(exc).split())}); {hint}"
        ) from exc
    if ds.get("PhotometricInterpretation") == "MONOCHROME1" and invert_monochrome1 and stored.dtype.kind in "iu":
        bits = int(ds.get("BitsStored") or ds.BitsAllocated)
        stored = (-1 - stored.astype(np.int64)) if stored.dtype.kind == "i" else ((2**bits - 1) - stored.astype(np.int64))
    if stored.dtype.kind in "iu" and int(ds.get("SamplesPerPixel") or 1) == 1:
        values = apply_modality_lut(stored, ds)
    else:
        values = stored
    pixels = np.asarray(values, dtype=np.float32)
    bad = ~np.isfinite(pixels)
    if bad.any():
        raise MedicalImageError(
            f"{path}: {int(bad.sum())} of {pixels.size} pixel values are NaN or infinite; "
            "expected finite values (check the rescale or the float pixel data)"
        )
    return pixels


def meta_from(ds, path) -> DicomMeta:
    """Build ``DicomMeta`` from a pydicom dataset (header only; pixels untouched)."""
    ts = getattr(ds, "file_meta", {}).get("TransferSyntaxUID")
    sop = ds.get("SOPClassUID")
    modality = str(ds.get("Modality") or "")
    slope = _number(ds, "RescaleSlope")
    intercept = _number(ds, "RescaleIntercept")
    units = str(ds.get("RescaleType") or "")
    if not units and modality == "CT" and slope is not None:
        units = "HU"
    spacing = _numbers(ds, "PixelSpacing", 2)
    position = _numbers(ds, "ImagePositionPatient", 3)
    orientation = _numbers(ds, "ImageOrientationPatient", 6)
    return DicomMeta(
        path=str(path),
        modality=modality,
        rows=int(ds.get("Rows") or 0),
        columns=int(ds.get("Columns") or 0),
        frames=int(ds.get("NumberOfFrames") or 1),
        samples_per_pixel=int(ds.get("SamplesPerPixel") or 1),
        photometric=str(ds.get("PhotometricInterpretation") or ""),
        transfer_syntax=getattr(ts, "name", str(ts or "")),
        sop_class=getattr(sop, "name", str(sop or "")),
        units=units,
        rescale_slope=1.0 if slope is None else slope,
        rescale_intercept=0.0 if intercept is None else intercept,
        pixel_spacing=spacing,  # type: ignore[arg-type]
        slice_thickness=_number(ds, "SliceThickness"),
        window_center=_number(ds, "WindowCenter"),
        window_width=_number(ds, "WindowWidth"),
        patient_id=str(ds.get("PatientID") or ""),
        study_uid=str(ds.get("StudyInstanceUID") or ""),
        series_uid=str(ds.get("SeriesInstanceUID") or ""),
        sop_uid=str(ds.get("SOPInstanceUID") or ""),
        image_position=position,  # type: ignore[arg-type]
        image_orientation=orientation,  # type: ignore[arg-type]
    )
