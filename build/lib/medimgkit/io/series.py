"""DICOM series: one file per slice, assembled into a volume in anatomical order.

File names say nothing about anatomy (PACS exports often name files by UID),
and ``InstanceNumber`` is not always reliable. The order that matters is the
slice's position along the slice normal: ``ImagePositionPatient . n``, where
``n`` is the cross product of the row and column directions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medimgkit._files import atomic_dir
from medimgkit.io.dicom import DicomMeta, load_dicom, meta_from
from medimgkit.io.dicom_checks import read_header
from medimgkit.io.errors import MAX_PIXELS, ImageTooLargeError, SeriesError


@dataclass(frozen=True)
class SeriesMeta:
    """A loaded series: the files in slice order and the volume's geometry.

    ``positions`` are the slice positions along ``normal`` (mm, ascending);
    ``spacing`` is (between slices, between rows, between columns) in mm.
    """

    files: tuple[str, ...]
    positions: np.ndarray
    normal: np.ndarray
    spacing: tuple[float | None, float | None, float | None]
    first: DicomMeta

    @property
    def modality(self) -> str:
        return self.first.modality

    @property
    def series_uid(self) -> str:
        return self.first.series_uid

    @property
    def patient_id(self) -> str:
        return self.first.patient_id


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a folder; expected a folder of DICOM slices")
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise SeriesError(f"{folder}: no files; expected the DICOM slices of one series")
    return files


def _examples(groups: dict, what: str) -> str:
    return "; ".join(f"{what} {key}: {len(v)} file(s), e.g. {Path(v[0]).name}" for key, v in groups.items())


def load_dicom_series(
    folder: str | os.PathLike,
    *,
    max_pixels: int = MAX_PIXELS,
    spacing_tolerance: float = 0.1,
) -> tuple[np.ndarray, SeriesMeta]:
    """Load a folder holding one DICOM series as a volume sorted along the slice normal.

    Parameters
    ----------
    folder : a folder whose files are the single-frame slices of one series
    max_pixels : int
        Refuse series with more voxels than this (checked before any pixel is read).
    spacing_tolerance : float
        Largest allowed relative deviation of a gap between neighbouring slices
        from the median gap; a larger gap means missing slices.

    Returns
    -------
    volume : float32 (Z, H, W) in physical units (HU for CT), slice 0 at the
        smallest position along the normal (for axial slices: the most inferior)
    meta : SeriesMeta

    Raises
    ------
    SeriesError
        Files from several series, mixed sizes, orientations or pixel
        spacings, slices shifted in-plane, no position, duplicate positions,
        or irregular spacing (missing slices).
    MedicalImageError
        A file that is not a usable DICOM image (see ``load_dicom``).
    """
    folder = Path(folder)
    files = _files(folder)
    headers = [read_header(p, stop_before_pixels=True) for p in files]
    by_series: dict[str, list[str]] = {}
    by_size: dict[tuple, list[str]] = {}
    for p, ds in zip(files, headers):
        by_series.setdefault(str(ds.get("SeriesInstanceUID", "?")), []).append(str(p))
        by_size.setdefault((ds.get("Rows"), ds.get("Columns")), []).append(str(p))
        if int(ds.get("NumberOfFrames") or 1) != 1:
            raise SeriesError(f"{p}: has {ds.NumberOfFrames} frames; expected single-frame slices in a series")
    if len(by_series) > 1:
        raise SeriesError(
            f"{folder}: mixes {len(by_series)} series ({_examples(by_series, 'SeriesInstanceUID')}); "
            "expected one series per folder"
        )
    if len(by_size) > 1:
        raise SeriesError(
            f"{folder}: mixes slice sizes ({_examples(by_size, 'rows x columns')}); expected one size in a series"
        )
    metas = [meta_from(ds, p) for p, ds in zip(files, headers)]
    for m in metas:
        if m.image_position is None or m.image_orientation is None:
            raise SeriesError(
                f"{m.path}: has no ImagePositionPatient/ImageOrientationPatient; "
                "expected both to order the slices of a series"
            )
    orientation = np.array(metas[0].image_orientation)
    for m in metas[1:]:
        if np.abs(np.array(m.image_orientation) - orientation).max() > 1e-4:
            raise SeriesError(
                f"{m.path}: orientation {m.image_orientation} differs from {metas[0].path} "
                f"{metas[0].image_orientation}; expected parallel slices"
            )
    normal = metas[0].normal
    if normal is None:
        raise SeriesError(f"{metas[0].path}: ImageOrientationPatient {orientation.tolist()} has parallel row and "
                          "column directions; expected two perpendicular unit vectors")
    _check_in_plane(metas, orientation)
    positions = np.array([np.dot(m.image_position, normal) for m in metas])
    order = np.argsort(positions, kind="stable")
    positions = positions[order]
    metas = [metas[i] for i in order]
    rows, cols = metas[0].rows, metas[0].columns
    total = len(metas) * rows * cols * metas[0].samples_per_pixel
    if total > max_pixels:
        raise ImageTooLargeError(
            f"{folder}: {len(metas)} slices of {rows} x {cols} = {total:,} voxels, over the limit "
            f"of {max_pixels:,} (max_pixels); refusing to allocate"
        )
    slice_gap = _check_spacing(metas, positions, spacing_tolerance)
    volume = np.empty((len(metas), rows, cols), dtype=np.float32)
    for i, m in enumerate(metas):
        pixels, _ = load_dicom(m.path, max_pixels=max_pixels)
        if pixels.shape != (rows, cols):
            raise SeriesError(f"{m.path}: pixels of shape {pixels.shape}; expected grey slices of {(rows, cols)}")
        volume[i] = pixels
    spacing = (slice_gap, *(metas[0].pixel_spacing or (None, None)))
    meta = SeriesMeta(tuple(m.path for m in metas), positions, normal, spacing, metas[0])
    return volume, meta


def _check_in_plane(metas: list[DicomMeta], orientation: np.ndarray) -> None:
    """Every slice must share the first one's PixelSpacing and in-plane origin, or the volume's geometry is wrong."""
    first = metas[0]
    for m in metas[1:]:
        a, b = first.pixel_spacing, m.pixel_spacing
        if (a is None) != (b is None) or (a is not None and np.abs(np.subtract(a, b)).max() > 1e-4 * max(a)):
            shown = lambda v: "missing" if v is None else [round(float(x), 6) for x in v]  # noqa: E731
            raise SeriesError(
                f"{m.path}: PixelSpacing {shown(b)} differs from {first.path} {shown(a)}; expected one pixel "
                "spacing in a series (a slice from another acquisition, or a resampled copy?)"
            )
    row, col = orientation[:3], orientation[3:]
    tol = max(1e-3, 0.01 * min(first.pixel_spacing)) if first.pixel_spacing else 1e-3
    origin = np.array(first.image_position)
    for m in metas[1:]:
        delta = np.array(m.image_position) - origin
        shift = np.array([np.dot(delta, row), np.dot(delta, col)])
        if np.abs(shift).max() > tol:
            raise SeriesError(
                f"{m.path}: shifted in-plane by {np.hypot(*shift):.3f} mm from {first.path} (along rows "
                f"{shift[0]:.3f} mm, along columns {shift[1]:.3f} mm); expected slices stacked along their normal "
                "(a slice from another acquisition, or a gantry-tilted series that needs resampling)"
            )


def _check_spacing(metas: list[DicomMeta], positions: np.ndarray, tolerance: float) -> float | None:
    if len(positions) < 2:
        return metas[0].slice_thickness
    gaps = np.diff(positions)
    for i, gap in enumerate(gaps):
        if gap < 1e-3:
            raise SeriesError(
                f"{metas[i].path} and {metas[i + 1].path}: two slices at the same position "
                f"{positions[i]:.3f} mm; expected one slice per position (duplicate or a second acquisition?)"
            )
    median = float(np.median(gaps))
    for i, gap in enumerate(gaps):
        if abs(gap - median) > tolerance * median:
            missing = round(gap / median) - 1
            raise SeriesError(
                f"{metas[i].path} -> {metas[i + 1].path}: gap of {gap:.3f} mm between slices at "
                f"{positions[i]:.3f} and {positions[i + 1]:.3f} mm; expected {median:.3f} mm "
                f"(irregular spacing: about {max(missing, 0)} slice(s) missing)"
            )
    return median


def save_dicom_series(
    volume: np.ndarray,
    folder: str | os.PathLike,
    *,
    spacing: tuple[float, float, float] = (1.0, 1.0, 1.0),
    modality: str = "MR",
    patient_id: str = "ANONYMOUS",
) -> list[Path]:
    """Write an integer-valued volume ``(Z, H, W)`` as an axial DICOM series, one file per slice.

    Slice ``k`` sits at z = ``k * spacing[0]`` mm. Files are named by their
    SOP Instance UID, as many PACS exports do, so name order says nothing about
    slice order. The series is written in a hidden temporary folder and
    renamed to ``folder`` at the end: on error nothing is left behind.

    Parameters
    ----------
    volume : integer-valued array (Z, H, W) within the int16 range
        (e.g. CT in HU, or an MRI volume)
    folder : path that must not exist yet
    spacing : (between slices, between rows, between columns) in mm
    modality : "CT", "MR" or "OT"

    Returns
    -------
    The written file paths, in slice order.
    """
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import (
        CTImageStorage,
        ExplicitVRLittleEndian,
        MRImageStorage,
        SecondaryCaptureImageStorage,
        generate_uid,
    )

    volume = np.asarray(volume)
    if volume.ndim != 3 or min(volume.shape[1:]) < 2:
        raise ValueError(f"volume must be (Z, H, W) with H, W >= 2, got shape {volume.shape}")
    if not np.all(np.isfinite(volume)) or np.any(volume != np.round(volume)):
        raise ValueError("volume must hold finite integer values (e.g. HU); round or rescale it first")
    if volume.min() < -32768 or volume.max() > 32767:
        raise ValueError(f"volume values span [{volume.min()}, {volume.max()}]; expected the int16 range")
    sop_class = {"CT": CTImageStorage, "MR": MRImageStorage}.get(modality, SecondaryCaptureImageStorage)
    folder = Path(folder)
    if folder.exists():
        raise FileExistsError(f"{folder}: already exists; expected a new folder for the series")
    study, series, frame = generate_uid(None), generate_uid(None), generate_uid(None)
    names = []
    with atomic_dir(folder) as tmp:
        for k, plane in enumerate(volume.astype(np.int16)):
            sop_uid = generate_uid(None)
            meta = FileMetaDataset()
            meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = sop_class, sop_uid
            meta.TransferSyntaxUID = ExplicitVRLittleEndian
            ds = Dataset()
            ds.file_meta = meta
            ds.SOPClassUID, ds.SOPInstanceUID = sop_class, sop_uid
            ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
            ds.Modality, ds.PatientID, ds.PatientName = modality, patient_id, patient_id
            ds.InstanceNumber = k + 1
            ds.ImagePositionPatient = [0.0, 0.0, float(k * spacing[0])]
            ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
            ds.PixelSpacing = [float(spacing[1]), float(spacing[2])]
            ds.SliceThickness = float(spacing[0])
            ds.RescaleSlope, ds.RescaleIntercept = 1, 0
            ds.Rows, ds.Columns = plane.shape
            ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
            ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
            ds.PixelData = plane.tobytes()
            names.append(f"{sop_uid}.dcm")
            ds.save_as(tmp / names[-1], enforce_file_format=True)
    return [folder / n for n in names]

