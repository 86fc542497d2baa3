"""MedMNIST loading: checksummed download, cache, and numpy arrays."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from medimgkit.config import data_dir
from medimgkit.data._medmnist_info import DATASETS, DEFAULT_BASE_URL
from medimgkit.data.download import ChecksumError, DataUnavailableError, download, verify_md5

SPLITS = ("train", "val", "test")


def dataset_info(name: str) -> dict:
    """Facts about a MedMNIST dataset, 2-D or 3-D: dimensionality, task, channels, labels, split sizes, files.

    Returns
    -------
    dict with ``dimensionality`` (``"2D"`` or ``"3D"``), ``task``,
    ``n_channels``, ``labels`` ({label: name}), ``n_samples`` ({split: count}),
    ``license`` and ``files`` ({size in px: (file name, MD5)}).

    Raises
    ------
    ValueError
        If ``name`` is not a MedMNIST dataset.
    """
    key = str(name).lower()
    if key not in DATASETS:
        raise ValueError(
            f"unknown MedMNIST dataset {name!r}; expected one of {sorted(DATASETS)}"
        )
    return DATASETS[key]


def medmnist_path(
    name: str,
    size: int = 28,
    *,
    base_url: str | None = None,
    cache_dir: str | os.PathLike | None = None,
    download_missing: bool = True,
) -> Path:
    """Path of the verified ``.npz`` for ``name`` at ``size`` px, downloading it if needed.

    The cache folder is ``cache_dir``, else ``$MEDIMGKIT_DATA``, else
    ``~/.cache/medimgkit``. A cached file whose MD5 matches is used with no
    network access. A missing file is downloaded from ``base_url`` (default:
    ``$MEDIMGKIT_MIRROR`` or Zenodo record 10519652) to a temporary file and
    renamed only once its MD5 matches.

    Raises
    ------
    ValueError
        Unknown dataset name or size.
    ChecksumError
        The cached file's MD5 differs from the published one.
    DataUnavailableError
        No cached file and the download failed (e.g. no network).
    """
    info = dataset_info(name)
    if size not in info["files"]:
        raise ValueError(
            f"MedMNIST {name!r} has no size {size!r}; expected one of {sorted(info['files'])}"
        )
    filename, md5 = info["files"][size]
    folder = Path(cache_dir).expanduser() if cache_dir is not None else data_dir()
    path = folder / filename
    if path.exists():
        verify_md5(path, md5)
        return path
    if not download_missing:
        raise DataUnavailableError(f"{path} is not in the cache and downloading is switched off")
    base = base_url or os.environ.get("MEDIMGKIT_MIRROR") or DEFAULT_BASE_URL
    url = base.rstrip("/") + "/" + filename
    if "zenodo.org" in base:
        url += "?download=1"
    try:
        return download(url, path, md5)
    except DataUnavailableError as exc:
        raise DataUnavailableError(
            f"MedMNIST {name!r} ({size} px) is not cached in {folder} and could not be "
            f"downloaded: {exc}. Connect to the internet, or set MEDIMGKIT_DATA to a "
            f"folder that holds {filename}."
        ) from exc


def load_medmnist(
    name: str,
    size: int = 28,
    split: str = "train",
    **path_kwargs,
) -> tuple[np.ndarray, np.ndarray]:
    """Load one split of a MedMNIST dataset, 2-D images or 3-D volumes, as numpy arrays.

    Parameters
    ----------
    name : str
        Dataset, e.g. ``"breastmnist"``, ``"pneumoniamnist"``, ``"retinamnist"``,
        or a 3-D one, e.g. ``"adrenalmnist3d"``, ``"vesselmnist3d"``.
    size : int
        Image side in pixels: 28, 64, 128 or 224 (3-D: 28 or 64 voxels).
    split : str
        ``"train"``, ``"val"`` or ``"test"``.
    **path_kwargs
        ``base_url``, ``cache_dir``, ``download_missing``; see :func:`medmnist_path`.

    Returns
    -------
    images : np.ndarray of uint8, shape (N, H, W) for grey or (N, H, W, 3) for colour;
        (N, D, H, W) volumes (D = H = W = ``size``) for a 3-D dataset
    labels : np.ndarray of int64, shape (N,) (shape (N, 14) for multi-label ChestMNIST)

    Notes
    -----
    BreastMNIST labels are 0 = malignant, 1 = normal/benign. The book treats
    *malignant* as the positive class.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    path = medmnist_path(name, size, **path_kwargs)
    try:
        with np.load(path, allow_pickle=False) as archive:
            images = np.asarray(archive[f"{split}_images"])
            labels = np.asarray(archive[f"{split}_labels"]).astype(np.int64)
    except (zipfile.BadZipFile, KeyError, ValueError, EOFError) as exc:
        raise ChecksumError(f"{path}: not a readable MedMNIST archive ({exc})") from exc
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    return images, labels


def load_medmnist_splits(
    name: str, size: int = 28, **path_kwargs
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """All three splits as ``{"train": (x, y), "val": (x, y), "test": (x, y)}``."""
    return {s: load_medmnist(name, size, s, **path_kwargs) for s in SPLITS}


def class_names(name: str) -> list[str]:
    """Label names in label order, e.g. ``['malignant', 'normal, benign']``."""
    labels = dataset_info(name)["labels"]
    return [labels[i] for i in sorted(labels)]
