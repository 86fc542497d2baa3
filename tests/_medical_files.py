"""Real medical files for the tests: pydicom's and nibabel's samples, and files written from them.

Nothing here is a mock: series are built from the real CT_small.dcm with
pydicom, only moving each slice to its own position, and written to disk.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pydicom
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid


def sample(name: str) -> Path:
    """A pydicom test file that ships with the package (no download)."""
    folder = Path(pydicom.data.__file__).parent / "test_files"
    path = folder / name
    assert path.is_file(), f"{path} should ship with pydicom"
    return path


def nibabel_sample(name: str) -> Path:
    import nibabel.testing

    path = Path(str(nibabel.testing.data_path)) / name
    assert path.is_file(), f"{path} should ship with nibabel"
    return path


CT = sample("CT_small.dcm")
MR = sample("MR_small.dcm")


def write_ct_series(
    folder: Path,
    n: int = 6,
    spacing: float = 2.5,
    *,
    orientation=(1.0, 0.0, 0.0, 0.0, 1.0, 0.0),
    skip: tuple[int, ...] = (),
    seed: int = 0,
    series_uid: str | None = None,
) -> list[int]:
    """Write ``n`` slices of CT_small into ``folder``, shuffled on disk.

    Slice ``k`` sits at ``origin + k * spacing * normal`` and its stored
    values are CT_small's plus ``10 * k``, so the loaded order can be checked.
    File names and InstanceNumbers are a random permutation of the slice
    order, so neither sorts the slices correctly. Slices in ``skip`` are not
    written (a missing slice). Returns the ``k`` of each written slice.
    """
    folder.mkdir(parents=True, exist_ok=True)
    template = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    stored = template.pixel_array.astype(np.int16)
    row, col = np.array(orientation[:3]), np.array(orientation[3:])
    normal = np.cross(row, col)
    origin = np.array([-158.1, -179.0, -75.7])
    uid = series_uid or generate_uid()
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    written = []
    for k in range(n):
        if k in skip:
            continue
        ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
        ds.SeriesInstanceUID = uid
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.ImageOrientationPatient = [float(v) for v in orientation]
        ds.ImagePositionPatient = [float(v) for v in origin + k * spacing * normal]
        ds.InstanceNumber = int(perm[k]) + 1
        ds.PixelData = (stored + 10 * k).astype(np.int16).tobytes()
        ds.save_as(folder / f"IM{perm[k]:04d}.dcm")
        written.append(k)
    return written


def write_resized_ct(path: Path, rows: int, cols: int, pixel_bytes: bytes | None = None) -> Path:
    """CT_small with its header changed to ``rows x cols`` (pixel data kept unless given)."""
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ds.Rows, ds.Columns = rows, cols
    if pixel_bytes is not None:
        ds.PixelData = pixel_bytes
    ds.save_as(path)
    return path


def write_float_dicom(path: Path, pixels: np.ndarray) -> Path:
    """A real DICOM with Float Pixel Data (7FE0,0008), e.g. to carry NaN or inf."""
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    del ds.PixelData
    for keyword in ("BitsStored", "HighBit", "PixelRepresentation", "RescaleSlope", "RescaleIntercept",
                    "PixelPaddingValue"):
        if keyword in ds:
            delattr(ds, keyword)
    pixels = np.asarray(pixels, dtype=np.float32)
    ds.Rows, ds.Columns = pixels.shape
    ds.BitsAllocated = 32
    ds.FloatPixelData = pixels.tobytes()
    ds.save_as(path)
    return path


def truncate(src: Path, dst: Path, keep: int) -> Path:
    """Copy the first ``keep`` bytes of ``src`` (negative: all but the last ``-keep``)."""
    data = Path(src).read_bytes()
    dst.write_bytes(data[:keep])
    return dst


def listing(folder: Path) -> list[str]:
    """Everything under ``folder``, hidden files included (to prove nothing was left behind)."""
    return sorted(os.path.relpath(os.path.join(d, f), folder) for d, _, fs in os.walk(folder) for f in fs) + sorted(
        os.path.relpath(os.path.join(d, s), folder) for d, ss, _ in os.walk(folder) for s in ss
    )
