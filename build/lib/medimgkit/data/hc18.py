"""HC18: fetal head ultrasound with head-circumference annotations, downloaded, checked and resized once.

HC18 (van den Heuvel et al., *PLoS ONE* 13(8): e0200412, 2018; CC BY 4.0) is
999 two-dimensional ultrasound images of the fetal head (mostly 800 x 540 px),
each with the sonographer's annotation, an ellipse *outline*, and a CSV of the
pixel size (mm) and the reference head circumference (HC, mm). Images whose
names share the three-digit prefix (``014_HC.png``, ``014_2HC.png``) most
likely come from one pregnancy: split by :func:`hc18_subject`, never by image.

Layout of the cache (``data_dir() / "hc18"``, the official Zenodo layout after
extraction)::

    hc18/training_set/NNN_HC.png, NNN_HC_Annotation.png
    hc18/training_set_pixel_size_and_HC.csv

:func:`download_hc18` fetches ``training_set.zip`` and the CSV from Zenodo
record 1327317, checks every extracted PNG against the SHA-256 list shipped
with this package (``hc18_sha256.txt``) and only then moves the folder into
place. :func:`load_hc18` reads the PNGs once per size, checks their SHA-256
again, and keeps the resized arrays in ``data_dir() / "hc18_<W>x<H>.npz"``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from importlib import resources
from pathlib import Path
from typing import NamedTuple

import numpy as np

from medimgkit._files import atomic_dir, atomic_file
from medimgkit.config import data_dir
from medimgkit.data.download import ChecksumError, DataUnavailableError, sha256sum

__all__ = [
    "CANVAS",
    "HC18",
    "HC18_CITATION",
    "HC18_CSV",
    "HC18_URL",
    "download_hc18",
    "hc18_checksums",
    "hc18_subject",
    "load_hc18",
    "read_hc18_csv",
    "sha256sum",
]

ZENODO_RECORD = "1327317"
HC18_URL = f"https://zenodo.org/records/{ZENODO_RECORD}/files/"  #: default base URL (``$MEDIMGKIT_HC18_MIRROR`` overrides it)
HC18_ZIP = "training_set.zip"
HC18_CSV = "training_set_pixel_size_and_HC.csv"
CSV_SHA256 = "814533eaade9fcf83646cd80f0de6d0ee2e9954371cbd50baf9f3dd85097795e"
CANVAS = (600, 800)  #: (height, width) every image is padded to, at its top left, before resizing: 4:3, square pixels
HC18_CITATION = (
    "T. L. A. van den Heuvel, D. de Bruijn, C. L. de Korte, B. van Ginneken. Automated measurement of fetal head "
    "circumference using 2D ultrasound images. PLoS ONE 13(8): e0200412 (2018). Data: Zenodo 10.5281/zenodo.1322001"
)
_NAME = re.compile(r"^(\d{3})_(\d*)HC(_Annotation)?\.png$")
_FORMAT = 1  # bump when the resizing changes, so old cached arrays are rebuilt
_CHUNK = 1 << 20


class HC18(NamedTuple):
    """HC18 at one size; unpack it as ``images, masks, pixel_mm, hc_mm, subjects, files = load_hc18()``.

    images : uint8 (N, H, W) grey ultrasound, zero-padded to 4:3 at the bottom and right
    masks : uint8 (N, H, W), 1 inside the head (inside the centre line of the drawn outline)
    pixel_mm : float64 (N,) millimetres per pixel *at this size* (pixels are square)
    hc_mm : float64 (N,) the reference head circumference from the CSV
    subjects : str (N,) the three-digit prefix: images of one pregnancy share it
    files : str (N,) the image file names, e.g. ``"014_2HC.png"``
    """

    images: np.ndarray
    masks: np.ndarray
    pixel_mm: np.ndarray
    hc_mm: np.ndarray
    subjects: np.ndarray
    files: np.ndarray


def hc18_subject(filename: str) -> str:
    """The subject of an HC18 file: its three-digit prefix (``"014_2HC.png"`` -> ``"014"``)."""
    match = _NAME.match(Path(str(filename)).name)
    if not match:
        raise ValueError(f"{filename!r} is not an HC18 file name (expected e.g. 014_HC.png or 014_2HC_Annotation.png)")
    return match.group(1)


def hc18_checksums() -> dict[str, str]:
    """``{file name: SHA-256}`` of the 1,998 training PNGs, from the list shipped with the package."""
    text = resources.files("medimgkit.data").joinpath("hc18_sha256.txt").read_text()
    sums = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            digest, name = line.split()
            sums[name] = digest
    return sums


def _mismatch(what: str, expected: str, found: str, fix: str) -> ChecksumError:
    return ChecksumError(f"{what}: SHA-256 mismatch, expected {expected} but found {found}; {fix}")


def _fetch(url: str, dest: Path, timeout: float) -> None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(dest, "wb") as out:  # noqa: S310
            shutil.copyfileobj(response, out, _CHUNK)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DataUnavailableError(f"could not download {url}: {exc}") from exc


def _url(base: str, name: str) -> str:
    url = base.rstrip("/") + "/" + name
    return url + "?download=1" if "zenodo.org" in base else url


def _complete(folder: Path, sums: dict[str, str]) -> bool:
    return (folder / HC18_CSV).is_file() and all((folder / "training_set" / n).is_file() for n in sums)


def download_hc18(
    base_url: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    timeout: float = 120.0,
) -> Path:
    """Download HC18's training set into ``<cache>/hc18`` and check every file; returns that folder.

    Fetches ``training_set.zip`` and ``training_set_pixel_size_and_HC.csv``
    from ``base_url`` (default ``$MEDIMGKIT_HC18_MIRROR``, else Zenodo record
    1327317; ``file://`` URLs work too). The CSV must match its published
    SHA-256; the zip is extracted into a temporary folder, every PNG is
    checked against :func:`hc18_checksums`, and only then is the folder renamed
    to ``training_set``. A complete cached copy is used with no network access.

    Raises
    ------
    ChecksumError
        A file's SHA-256 differs from the list (the message names the file
        and both hashes), or the zip lacks a listed file. Nothing is left in
        the cache: no zip, no half-extracted folder.
    DataUnavailableError
        The files cannot be downloaded (no network, wrong URL).
    """
    sums = hc18_checksums()
    folder = (Path(cache_dir).expanduser() if cache_dir is not None else data_dir()) / "hc18"
    if _complete(folder, sums):
        return folder
    base = base_url or os.environ.get("MEDIMGKIT_HC18_MIRROR") or HC18_URL
    hint = "set MEDIMGKIT_DATA to a writable folder"
    csv_path = folder / HC18_CSV
    if not csv_path.is_file():
        with atomic_file(csv_path, hint=hint) as tmp:
            _fetch(_url(base, HC18_CSV), tmp, timeout)
            found = sha256sum(tmp)
            if found != CSV_SHA256:
                raise _mismatch(f"{_url(base, HC18_CSV)} ({HC18_CSV})", CSV_SHA256, found,
                                f"nothing was written to {folder}")
    images = folder / "training_set"
    if _complete(folder, sums):  # only the CSV was missing
        return folder
    if images.exists():
        missing = sorted(n for n in sums if not (images / n).is_file())
        raise DataUnavailableError(
            f"{images} exists but lacks {len(missing)} of the {len(sums)} HC18 files (e.g. {missing[0]}); "
            "delete the folder so that it can be downloaded again"
        )
    with tempfile.TemporaryDirectory(prefix=".hc18-zip-", dir=folder) as scratch:
        archive = Path(scratch) / HC18_ZIP
        _fetch(_url(base, HC18_ZIP), archive, timeout)
        with atomic_dir(images, hint=hint) as tmp:
            _extract_checked(archive, tmp, sums, source=_url(base, HC18_ZIP))
    return folder


def _extract_checked(archive: Path, dest: Path, sums: dict[str, str], source: str) -> None:
    """Write each listed PNG of the zip into ``dest`` by its bare name, checking its SHA-256."""
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as exc:
        raise ChecksumError(f"{source}: not a readable zip archive ({exc}); nothing was extracted") from exc
    with zf:
        seen = set()
        for info in zf.infolist():
            name = Path(info.filename).name  # bare names only: a member cannot escape ``dest``
            if info.is_dir() or name not in sums:
                continue
            data = zf.read(info)
            found = hashlib.sha256(data).hexdigest()
            if found != sums[name]:
                raise _mismatch(f"{source}: {info.filename}", sums[name], found,
                                "the download is corrupt or not the official HC18 release; nothing was extracted")
            (dest / name).write_bytes(data)
            seen.add(name)
    missing = sorted(set(sums) - seen)
    if missing:
        raise ChecksumError(f"{source}: {len(missing)} of the {len(sums)} HC18 files are missing from the zip "
                            f"(e.g. {missing[0]}); nothing was extracted")


def read_hc18_csv(path: str | os.PathLike) -> list[tuple[str, float, float]]:
    """HC18's CSV as ``(file name, pixel size in mm, HC in mm)`` rows, every value checked.

    Raises
    ------
    ValueError
        A wrong header, or a row whose pixel size or HC is missing, 0, negative
        or not a number, naming the file, the line and the image.
    """
    path = Path(path)
    rows = []
    with open(path, newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if not header or [h.strip().lower() for h in header[:3]] != ["filename", "pixel size(mm)", "head circumference (mm)"]:
            raise ValueError(f"{path}: expected the header 'filename,pixel size(mm),head circumference (mm)', found {header}")
        for line, row in enumerate(reader, start=2):
            if not row or not "".join(row).strip():
                continue
            name = row[0].strip()
            values = []
            for column, what in ((1, "pixel size (mm)"), (2, "head circumference (mm)")):
                raw = row[column].strip() if len(row) > column else ""
                try:
                    value = float(raw)
                except ValueError:
                    value = float("nan")
                if not (np.isfinite(value) and value > 0):
                    problem = "is missing" if raw == "" else f"is {raw!r}"
                    raise ValueError(f"{path}, line {line} ({name}): the {what} {problem}; expected a number above 0")
                values.append(value)
            rows.append((name, values[0], values[1]))
    if not rows:
        raise ValueError(f"{path}: no rows after the header")
    return rows


def _read_png(path: Path, expected: str | None) -> np.ndarray:
    from PIL import Image

    data = path.read_bytes()
    if expected is not None:
        found = hashlib.sha256(data).hexdigest()
        if found != expected:
            raise _mismatch(str(path), expected, found, "the file is corrupt or altered; delete the hc18 folder and download it again")
    image = np.asarray(Image.open(io.BytesIO(data)))
    return image if image.ndim == 2 else image[..., 0]


def _resize(array: np.ndarray, width: int) -> np.ndarray:
    """Pad a float image to the 600 x 800 canvas at its top left, then average it down to ``width`` (box filter)."""
    from PIL import Image

    canvas = np.zeros(CANVAS, np.float32)
    canvas[: array.shape[0], : array.shape[1]] = array
    return np.asarray(Image.fromarray(canvas).resize((width, width * 3 // 4), Image.BOX))


def _head(outline: np.ndarray, name: str) -> np.ndarray:
    """The head as a soft mask: 1 inside the outline, 0.5 on it, 0 outside.

    The reference HC follows the *centre line* of the drawn outline (about 3 px
    wide), so the outline counts half: after averaging down and thresholding
    at 0.5 the mask's edge lies on that centre line, and an ellipse fitted to
    it reproduces the CSV's HC (tests/test_hc18.py measures how closely).
    """
    from medimgkit.measure import fill_outline

    line = outline > 0
    return fill_outline(line, name).astype(np.float32) - 0.5 * line


def _build(folder: Path, width: int, rows: list, check: dict[str, str] | None) -> dict[str, np.ndarray]:
    images, masks = [], []
    for name, _, _ in rows:
        image_path = folder / "training_set" / name
        ann_path = image_path.with_name(image_path.stem + "_Annotation.png")
        for p in (image_path, ann_path):
            if not p.is_file():
                raise DataUnavailableError(f"{p} is missing; delete {folder} and run download_hc18() again")
        image = _read_png(image_path, check.get(name) if check else None)
        outline = _read_png(ann_path, check.get(ann_path.name) if check else None)
        if image.shape != outline.shape:
            raise ValueError(f"{ann_path.name}: the annotation is {outline.shape[1]} x {outline.shape[0]} px but its image "
                             f"{name} is {image.shape[1]} x {image.shape[0]} px; they must be the same size")
        if image.shape[0] > CANVAS[0] or image.shape[1] > CANVAS[1]:
            raise ValueError(f"{name}: {image.shape[1]} x {image.shape[0]} px is larger than the {CANVAS[1]} x {CANVAS[0]} canvas")
        images.append(np.clip(np.rint(_resize(image.astype(np.float32), width)), 0, 255).astype(np.uint8))
        masks.append((_resize(_head(outline, ann_path.name), width) >= 0.5).astype(np.uint8))
    scale = CANVAS[1] / width
    return {
        "images": np.stack(images),
        "masks": np.stack(masks),
        "pixel_mm": np.array([r[1] for r in rows]) * scale,
        "hc_mm": np.array([r[2] for r in rows]),
        "subjects": np.array([hc18_subject(r[0]) for r in rows]),
        "files": np.array([r[0] for r in rows]),
    }


def load_hc18(
    size: int = 128,
    *,
    limit: int | None = None,
    cache_dir: str | os.PathLike | None = None,
    download_missing: bool = True,
    base_url: str | None = None,
    verify: bool = True,
) -> HC18:
    """HC18's 999 training images and head masks at ``size`` px wide (height ``3 * size / 4``).

    Each image is padded with black to 800 x 600 px at its bottom and right
    (the originals are at most 800 x 544), so every image is scaled by the
    same factor ``800 / size`` and pixels stay square: ``pixel_mm`` is the
    CSV's pixel size times that factor. Images are averaged down (box filter);
    each annotation's outline is filled (:func:`medimgkit.measure.fill_outline`),
    averaged down the same way and thresholded at 0.5.

    The first call at a size reads the PNGs (checking each one's SHA-256) and
    writes ``<cache>/hc18_<W>x<H>.npz``; later calls read that file. A missing
    training set is downloaded with :func:`download_hc18` first.

    Parameters
    ----------
    size : int
        Width in pixels, a multiple of 4 from 16 to 800 (128 gives 128 x 96).
    limit : int, optional
        Only the first ``limit`` images in file-name order (quick runs; they
        are cached separately).
    cache_dir : path, optional
        The data folder; default :func:`medimgkit.data_dir`.
    download_missing, base_url
        Whether (and from where) to download a missing training set.
    verify : bool
        Check the CSV and every PNG against the official SHA-256 values.
        ``False`` reads a folder in HC18's layout that is not the official
        release (your own images and outlines); every other check stays.

    Raises
    ------
    ValueError
        A bad ``size`` or ``limit``; a CSV row whose pixel size or HC is
        missing, 0 or not a number (naming its line and file); an annotation
        whose size differs from its image, or whose outline does not close
        (naming the file).
    ChecksumError
        A PNG whose SHA-256 differs from the shipped list, naming the file.
    DataUnavailableError
        The data are not cached and cannot be downloaded.
    """
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not 16 <= size <= CANVAS[1] or size % 4:
        raise ValueError(f"size must be a width in pixels, a multiple of 4 from 16 to {CANVAS[1]}, got {size!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1):
        raise ValueError(f"limit must be a positive number of images or None, got {limit!r}")
    root = Path(cache_dir).expanduser() if cache_dir is not None else data_dir()
    folder = root / "hc18"
    csv_path = folder / HC18_CSV
    if not csv_path.is_file() or not (folder / "training_set").is_dir():
        if not download_missing:
            raise DataUnavailableError(f"HC18 is not in {folder} and downloading is switched off")
        download_hc18(base_url=base_url, cache_dir=root)
    csv_hash = sha256sum(csv_path)
    if verify and csv_hash != CSV_SHA256:
        raise _mismatch(str(csv_path), CSV_SHA256, csv_hash, "delete it so that it can be downloaded again")
    cached = root / (f"hc18_{size}x{size * 3 // 4}" + (f"_first{limit}" if limit else "") + ".npz")
    if cached.is_file():
        with np.load(cached, allow_pickle=False) as archive:
            stamp = {k: str(archive[k]) for k in ("format", "csv_sha256") if k in archive.files}
            if stamp == {"format": str(_FORMAT), "csv_sha256": csv_hash}:
                return HC18(*(archive[k] for k in HC18._fields))
    rows = sorted(read_hc18_csv(csv_path))
    if limit:
        rows = rows[:limit]
    arrays = _build(folder, int(size), rows, hc18_checksums() if verify else None)
    with atomic_file(cached, hint="set MEDIMGKIT_DATA to a writable folder") as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, format=_FORMAT, csv_sha256=csv_hash, **arrays)
    return HC18(*(arrays[k] for k in HC18._fields))
