"""NIfTI volumes in a known orientation, and the three standard slicing planes.

A NIfTI file stores a voxel array and an affine matrix mapping voxel indices
to millimetres in a world frame whose axes point to the patient's Right,
Anterior and Superior (RAS+). The array itself can be stored in any axis
order (LAS, LPI, ...). ``load_nifti`` reorders it to the closest canonical
RAS order, so that ``volume[i, j, k]`` runs left->right, posterior->anterior
and inferior->superior along ``i``, ``j``, ``k`` for every file.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import numpy as np

from medimgkit.io.errors import MAX_PIXELS, ImageTooLargeError, MedicalImageError

PLANES = ("axial", "coronal", "sagittal")


def load_nifti(
    path: str | os.PathLike,
    *,
    ndim: int = 3,
    canonical: bool = True,
    max_pixels: int = MAX_PIXELS,
) -> tuple[np.ndarray, np.ndarray]:
    """Load a NIfTI-1/2 image (``.nii`` or ``.nii.gz``) as float32, reoriented to RAS.

    Parameters
    ----------
    path : the file
    ndim : int
        Expected number of dimensions (3 for a volume, 4 for a time series).
        Trailing axes of length 1 are dropped first, so ``(X, Y, Z, 1)`` is 3-D.
    canonical : bool
        Reorder axes to the closest RAS+ orientation (``nibabel.as_closest_canonical``).
    max_pixels : int
        Refuse images with more voxels than this, before reading them.

    Returns
    -------
    volume : float32 array with ``ndim`` axes (scale factors applied)
    affine : float64 (4, 4), voxel index -> world mm (RAS+)

    Raises
    ------
    FileNotFoundError
    MedicalImageError
        Not a NIfTI file, the wrong number of dimensions, NaN/inf voxels,
        or fewer than two axes longer than 1.
    ImageTooLargeError
    """
    try:
        import nibabel as nib
    except ImportError as exc:  # an optional dependency of medimgkit
        raise ImportError(
            "reading NIfTI needs nibabel, which is not installed: pip install nibabel, or the book's "
            "package with its medical extra: pip install 'medimgkit-book[medical]'"
        ) from exc

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file; expected a NIfTI file (.nii or .nii.gz)")
    try:
        image = nib.load(path)
    except Exception as exc:  # nibabel raises several types for foreign or broken files
        raise MedicalImageError(
            f"{path}: cannot be read as NIfTI ({type(exc).__name__}: {exc}); expected a .nii or .nii.gz file"
        ) from exc
    if not isinstance(image, (nib.Nifti1Image, nib.Nifti2Image)):
        raise MedicalImageError(f"{path}: is a {type(image).__name__}, expected a NIfTI image")
    shape = tuple(image.shape)
    while len(shape) > ndim and shape[-1] == 1:
        shape = shape[:-1]
    if len(shape) != ndim:
        kind = {4: " (e.g. fMRI or diffusion volumes over time)", 2: " (a single slice)"}.get(len(shape), "")
        raise MedicalImageError(
            f"{path}: is a {len(shape)}-D image of shape {tuple(image.shape)}{kind}; expected {ndim}-D. "
            f"Load it with ndim={len(shape)} and pick what you need (e.g. volume[..., 0])"
        )
    total = int(np.prod(shape))
    if total > max_pixels:
        raise ImageTooLargeError(
            f"{path}: header asks for {shape} = {total:,} voxels, over the limit of {max_pixels:,} "
            "(max_pixels); refusing to allocate"
        )
    if sum(s >= 2 for s in shape[:3]) < 2:
        raise MedicalImageError(f"{path}: has shape {shape}; expected an image with at least 2 x 2 voxels")
    try:
        # reorienting a non-RAS image reads its voxels, so a truncated file fails here too
        if canonical:
            image = nib.as_closest_canonical(image)
        volume = np.asarray(image.get_fdata(dtype=np.float32)).reshape(shape)
    except (EOFError, OSError, ValueError, zlib.error) as exc:
        raise MedicalImageError(
            f"{path}: voxel data cannot be read ({type(exc).__name__}: {exc}); expected a complete file: "
            "it is probably truncated"
        ) from exc
    bad = ~np.isfinite(volume)
    if bad.any():
        raise MedicalImageError(
            f"{path}: {int(bad.sum())} of {volume.size} voxels are NaN or infinite; expected finite values"
        )
    return volume, np.asarray(image.affine, dtype=np.float64)


def orientation(affine: np.ndarray) -> tuple[str, str, str]:
    """Axis codes of an affine, e.g. ``('R', 'A', 'S')``: where each array axis points."""
    import nibabel as nib

    return tuple(nib.aff2axcodes(np.asarray(affine)))  # type: ignore[return-value]


def slice_volume(volume: np.ndarray, plane: str = "axial", index: int | None = None) -> np.ndarray:
    """One 2-D slice of a RAS volume, oriented for display with ``imshow``.

    Radiological convention: anterior (axial) or superior (coronal, sagittal)
    at the top; the patient's right on the *left* of the image (axial,
    coronal); anterior on the left (sagittal).

    Parameters
    ----------
    volume : array (X, Y, Z) in RAS order (as returned by ``load_nifti``)
    plane : "axial" (fixed Z), "coronal" (fixed Y) or "sagittal" (fixed X)
    index : slice index along that axis; ``None`` takes the middle one

    Returns
    -------
    2-D array: (Y, X) axial, (Z, X) coronal, (Z, Y) sagittal
    """
    volume = np.asarray(volume)
    if volume.ndim != 3:
        raise ValueError(f"expected a 3-D volume (X, Y, Z), got shape {volume.shape}")
    if plane not in PLANES:
        raise ValueError(f"plane must be one of {PLANES}, got {plane!r}")
    axis = {"sagittal": 0, "coronal": 1, "axial": 2}[plane]
    n = volume.shape[axis]
    index = n // 2 if index is None else index
    if not isinstance(index, (int, np.integer)) or not 0 <= index < n:
        raise ValueError(f"{plane} index must be an integer in [0, {n - 1}], got {index!r}")
    if plane == "axial":
        return volume[::-1, ::-1, index].T
    if plane == "coronal":
        return volume[::-1, index, ::-1].T
    return volume[index, ::-1, ::-1].T


def axial_slice(volume: np.ndarray, index: int | None = None) -> np.ndarray:
    """Axial slice (fixed Z) for display; see ``slice_volume``."""
    return slice_volume(volume, "axial", index)


def coronal_slice(volume: np.ndarray, index: int | None = None) -> np.ndarray:
    """Coronal slice (fixed Y) for display; see ``slice_volume``."""
    return slice_volume(volume, "coronal", index)


def sagittal_slice(volume: np.ndarray, index: int | None = None) -> np.ndarray:
    """Sagittal slice (fixed X) for display; see ``slice_volume``."""
    return slice_volume(volume, "sagittal", index)
