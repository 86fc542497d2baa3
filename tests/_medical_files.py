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


# ---------------------------------------------------------------- de-identification checks

#: UI attributes whose value names *what* an object is (a SOP class, a transfer syntax, a terminology),
#: not whom it belongs to: the anonymiser keeps them (see medimgkit.io.anonymize), so they are no secret here.
CLASS_UID_KEYWORDS = ("SOPClassUID", "TransferSyntaxUID", "CodingSchemeUID", "ContextUID", "MappingResourceUID")


def pydicom_samples() -> list[Path]:
    """Every DICOM file shipped with pydicom: ``*.dcm`` and the Part 10 files without a suffix."""
    root = Path(pydicom.data.__file__).parent / "test_files"
    files = []
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        if path.suffix == ".dcm":
            files.append(path)
        elif path.suffix == "" and path.read_bytes()[128:132] == b"DICM":
            files.append(path)
    return files


def identifying_values(ds) -> set[bytes]:
    """Every original name (PN), ID, date/time (DA, DT, TM) and instance UID in a dataset, as bytes (len >= 4).

    Looks in nested sequences and the file meta too. IDs are the free-text
    values (LO, SH, ST, LT, UC) of attributes whose keyword ends in ``ID`` or
    ``IDs``. Not counted: registered UIDs (SOP classes, transfer syntaxes:
    pydicom's UID dictionary) and the UIDs in ``CLASS_UID_KEYWORDS``, which
    say what an object is; and placeholder values made of one repeated
    character (a time of ``000000``), which carry nothing and occur inside
    ordinary numbers (``250.000000``). Names are given as the bytes the file
    holds (their original character set) and as UTF-8.
    """
    from pydicom.uid import UID_dictionary

    found: set[bytes] = set()

    def add(text) -> None:
        raw = text if isinstance(text, bytes) else str(text).encode("utf-8", "ignore")
        raw = raw.strip(b" \x00")
        if len(raw) >= 4 and len(set(raw)) > 1:
            found.add(raw)

    elements = list(ds.iterall())
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        elements += list(meta.iterall())
    for elem in elements:
        if elem.VR in ("SQ", "OB", "OW", "UN") or elem.value is None:
            continue
        keyword = elem.keyword or ""
        values = elem.value if elem.VM > 1 else [elem.value]
        if elem.VR == "PN":
            for v in values:
                add(getattr(v, "original_string", None) or str(v))
                add(str(v))
                for part in str(v).split("="):  # alphabetic, ideographic, phonetic groups
                    add(part)
        elif elem.VR in ("DA", "DT", "TM"):
            for v in values:
                add(str(v))
        elif elem.VR == "UI":
            if any(k in keyword for k in CLASS_UID_KEYWORDS):
                continue
            for v in values:
                if str(v) not in UID_dictionary:
                    add(str(v))
        elif keyword.endswith(("ID", "IDs")) and elem.VR in ("LO", "SH", "ST", "LT", "UC"):
            for v in values:
                add(str(v))
    return found


def searchable_bytes(path: Path) -> bytes:
    """A file's bytes, with a deflated data set (Deflated Explicit VR Little Endian) also inflated."""
    import zlib

    data = Path(path).read_bytes()
    ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
    if str(ds.file_meta.get("TransferSyntaxUID", "")) == pydicom.uid.DeflatedExplicitVRLittleEndian:
        with open(path, "rb") as fh:
            pydicom.filereader.read_preamble(fh, False)
            pydicom.filereader._read_file_meta_info(fh)
            data += zlib.decompress(fh.read(), -zlib.MAX_WBITS)
    return data


def identifier_leaks_in_samples(tmp: Path):
    """Anonymise every pydicom sample into ``tmp``.

    Returns ``(leaks, checked, skipped, refused)``: the original identifiers
    found in each output file, how many files were checked, the files
    pydicom itself cannot read fully (with why), and the files the anonymiser
    refused (with its message). A sample is read with ``force=True`` (old
    headerless files too).
    """
    import inspect
    import warnings

    from medimgkit.io import anonymize_dicom

    takes_force = "force" in inspect.signature(anonymize_dicom).parameters
    leaks: dict[str, list[bytes]] = {}
    skipped: dict[str, str] = {}
    refused: dict[str, str] = {}
    checked = 0
    root = Path(pydicom.data.__file__).parent / "test_files"
    for i, path in enumerate(pydicom_samples()):
        name = str(path.relative_to(root))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                original = pydicom.dcmread(path, force=True)
                list(original.iterall())
            except Exception as exc:  # noqa: BLE001
                skipped[name] = f"pydicom cannot read it: {type(exc).__name__}: {exc}"
                continue
            secrets = identifying_values(original)
            out = tmp / f"{i}.dcm"
            uid_map: dict[str, str] = {}
            try:
                anonymize_dicom(path, out, uid_map, **({"force": True} if takes_force else {}))
            except Exception as exc:  # noqa: BLE001
                refused[name] = f"{type(exc).__name__}: {exc}"
                continue
            data = searchable_bytes(out)
            # the new UIDs are random digits: a date or time of the original can occur in them by chance
            for new in sorted(uid_map.values(), key=len, reverse=True):
                data = data.replace(new.encode(), b"")
        found = sorted(s for s in secrets if s in data)
        checked += 1
        if found:
            leaks[name] = found
    return leaks, checked, skipped, refused
