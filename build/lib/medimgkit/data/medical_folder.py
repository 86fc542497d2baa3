"""A class-per-folder dataset of PNG, JPEG, DICOM and NIfTI images, with patient ids.

Hospital exports rarely arrive as tidy PNGs: a folder tree may hold DICOM
files (with or without a ``.dcm`` suffix), NIfTI volumes and screenshots
side by side. ``load_medical_folder`` reads them all into one float32 array,
keeps track of which file and which patient every image came from, and
refuses to mix 8-bit pictures with physical units (HU) silently.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from medimgkit._deprecation import renamed_kwargs
from medimgkit.data._classes import IMAGE_SUFFIXES, class_files, class_folders, decode_image
from medimgkit.data.pipeline import class_balance
from medimgkit.io.dicom import load_dicom
from medimgkit.io.errors import MAX_PIXELS, MedicalImageError
from medimgkit.io.nifti import load_nifti, slice_volume
from medimgkit.transforms import minmax, percentile_clip, resize_pad, to_gray, to_rgb
from medimgkit.transforms import window as apply_window

DICOM_SUFFIXES = (".dcm", ".dicom", "")
NIFTI_SUFFIXES = (".nii", ".nii.gz")


@dataclass
class FolderDataset:
    """Images with their labels, source files and patient ids (one entry per image).

    ``images`` is float32 (N, H, W) or (N, H, W, 3); ``labels`` int64 (N,);
    ``files`` and ``patient_ids`` are lists of N strings.
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: list[str]
    files: list[str]
    patient_ids: list[str]

    def balance(self) -> dict[str, int]:
        """Images per class, by name (see ``medimgkit.data.class_balance``)."""
        return class_balance(self.labels, self.class_names)

    def __len__(self) -> int:
        return len(self.labels)


def _kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(NIFTI_SUFFIXES):
        return "nifti"
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return "raster"
    if path.suffix.lower() in DICOM_SUFFIXES:
        return "dicom"
    raise MedicalImageError(
        f"{path}: unsupported file type; expected PNG/JPEG {IMAGE_SUFFIXES}, DICOM (.dcm, .dicom or "
        f"no suffix) or NIfTI {NIFTI_SUFFIXES}"
    )


def _read(path: Path, slices: str, plane: str, max_pixels: int) -> tuple[list[np.ndarray], str, str]:
    """Images from one file, their scale ("unit" = [0, 1] or "physical") and the DICOM PatientID."""
    kind = _kind(path)
    if kind == "raster":
        image = decode_image(path)
        image = image[..., 0] if image.shape[-1] == 1 else image
        return [image.astype(np.float32) / 255.0], "unit", ""
    if kind == "nifti":
        volume, _ = load_nifti(path, max_pixels=max_pixels)
        axis = {"sagittal": 0, "coronal": 1, "axial": 2}[plane]
        n = volume.shape[axis]
        indices = [None] if slices == "middle" else range(n)
        return [slice_volume(volume, plane, i) for i in indices], "physical", ""
    pixels, meta = load_dicom(path, max_pixels=max_pixels, invert_monochrome1=True)
    colour = meta.samples_per_pixel == 3
    scale = "unit" if colour else "physical"
    if colour:
        pixels = pixels / 255.0
    frames = pixels if meta.frames > 1 else pixels[None]
    images = [frames[len(frames) // 2]] if slices == "middle" else list(frames)
    return images, scale, meta.patient_id


@renamed_kwargs(grey="gray")
def load_medical_folder(
    directory: str | os.PathLike,
    image_size: tuple[int, int] | None = None,
    *,
    window: str | tuple[float, float] | None = None,
    slices: str = "middle",
    plane: str = "axial",
    gray: bool | None = None,
    patient_id: Callable[[Path], str] | None = None,
    max_pixels: int = MAX_PIXELS,
) -> FolderDataset:
    """Load a class-per-folder tree of PNG, JPEG, DICOM and NIfTI files.

    Each sub-folder of ``directory`` is one class (sorted names: label 0 is
    the first), searched recursively. PNG/JPEG are decoded as by
    ``load_image_folder`` (gray stays one channel) and scaled to [0, 1].
    DICOM (``.dcm``, ``.dicom`` or no suffix) and NIfTI come in physical units
    (HU for CT) unless ``window`` maps them to [0, 1].

    Parameters
    ----------
    directory : folder with one sub-folder per class
    image_size : (height, width), optional
        Resize keeping the aspect ratio and pad (``transforms.resize_pad``).
        Without it all images must share one size.
    window : None, a preset name (``transforms.WINDOWS``), (center, width), or "auto"
        How DICOM/NIfTI values become [0, 1]; "auto" clips each image to its
        1st-99th percentiles, then min-max scales it. Required when the tree
        mixes PNG/JPEG with DICOM/NIfTI.
    slices : "middle" or "all"
        For volumes (NIfTI, multi-frame DICOM): the middle slice, or every slice
        as its own image (all with the same patient id).
    plane : "axial", "coronal" or "sagittal", for NIfTI volumes
    gray : None (refuse mixed gray/colour), True (convert all to gray), False (all to RGB)
    patient_id : callable(path) -> str, optional
        Otherwise: the DICOM PatientID, else the first sub-folder below the
        class folder (``class/patient/image.png``), else the file itself.

    Returns
    -------
    FolderDataset, ready for training: with PNG/JPEG only or with ``window``
    its images are float32 in [0, 1], so ``train.fit(build, dataset, ...)``
    (or ``(dataset.images[idx], dataset.labels[idx])``) takes them as they are.

    Raises
    ------
    ValueError (``MedicalImageError`` for a bad file, naming it)
    """
    if slices not in ("middle", "all"):
        raise ValueError(f"slices must be 'middle' or 'all', got {slices!r}")
    if plane not in ("axial", "coronal", "sagittal"):
        raise ValueError(f"plane must be 'axial', 'coronal' or 'sagittal', got {plane!r}")
    if gray not in (None, True, False):
        raise ValueError(f"gray must be None, True or False, got {gray!r}")
    root, names = class_folders(directory)
    images, labels, files, patients, scales = [], [], [], [], set()
    for label, name in enumerate(names):
        class_dir = root / name
        for path in class_files(class_dir):
            found, scale, dicom_patient = _read(path, slices, plane, max_pixels)
            scales.add(scale)
            rel = path.relative_to(class_dir)
            if patient_id is not None:
                pid = str(patient_id(path))
            elif dicom_patient:
                pid = dicom_patient
            elif len(rel.parts) > 1:
                pid = rel.parts[0]
            else:
                pid = str(path.relative_to(root))
            for image in found:
                if min(image.shape[:2]) < 2:
                    raise MedicalImageError(f"{path}: is {image.shape[0]} x {image.shape[1]} pixels; expected at least 2 x 2")
                if scale == "physical" and window is not None:
                    image = _to_unit(image, window)
                images.append(image)
                labels.append(label)
                files.append(str(path))
                patients.append(pid)
    if len(scales) > 1 and window is None:
        raise ValueError(
            f"{root} mixes PNG/JPEG (scaled to [0, 1]) with DICOM/NIfTI in physical units; "
            "expected one scale: pass window= (a preset such as 'lung', (center, width) or 'auto')"
        )
    images = np.stack(_harmonise(images, root, image_size, gray)).astype(np.float32)
    if window is not None or scales == {"unit"}:
        np.clip(images, 0.0, 1.0, out=images)  # float rounding in resizing must not leave [0, 1]
    return FolderDataset(images, np.asarray(labels, np.int64), names, files, patients)


def _to_unit(image: np.ndarray, window) -> np.ndarray:
    if isinstance(window, str) and window == "auto":
        return minmax(percentile_clip(image))
    if isinstance(window, str):
        return apply_window(image, window)
    try:
        center, width = window
    except (TypeError, ValueError) as exc:
        raise ValueError(f"window must be a preset name, 'auto' or (center, width), got {window!r}") from exc
    return apply_window(image, center, width)


def _harmonise(images: list[np.ndarray], root: Path, image_size, gray) -> list[np.ndarray]:
    if gray is True:
        images = [to_gray(im) for im in images]
    elif gray is False:
        images = [to_rgb(im) for im in images]
    channels = sorted({1 if im.ndim == 2 else im.shape[-1] for im in images})
    if len(channels) > 1:
        raise ValueError(
            f"{root} mixes images with {channels} channels; pass gray=True or gray=False to convert them"
        )
    if image_size is not None:
        images = [resize_pad(im, image_size) for im in images]
    sizes = sorted({im.shape[:2] for im in images})
    if len(sizes) > 1:
        raise ValueError(f"{root} mixes image sizes {sizes[:5]}; pass image_size=(H, W) to resize them")
    return images
