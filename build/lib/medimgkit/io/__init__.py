"""Medical image files: DICOM (single files and series), NIfTI, de-identification.

Every loader checks a file before it allocates or decodes anything and
raises a ``MedicalImageError`` (a ``ValueError``) naming the file and what
was expected. See the book's appendix "Bad input" for the full list.
"""

from medimgkit.io.anonymize import (
    EMPTIED_TAGS,
    IDENTIFYING_TAGS,
    REMAPPED_UIDS,
    anonymize_dicom,
    anonymize_folder,
)
from medimgkit.io.dicom import DicomMeta, load_dicom
from medimgkit.io.errors import (
    MAX_PIXELS,
    ImageTooLargeError,
    MedicalImageError,
    MissingDecoderError,
    SeriesError,
)
from medimgkit.io.nifti import (
    PLANES,
    axial_slice,
    coronal_slice,
    load_nifti,
    orientation,
    sagittal_slice,
    slice_volume,
)
from medimgkit.io.series import SeriesMeta, load_dicom_series, save_dicom_series

__all__ = [
    "EMPTIED_TAGS",
    "IDENTIFYING_TAGS",
    "MAX_PIXELS",
    "PLANES",
    "REMAPPED_UIDS",
    "DicomMeta",
    "ImageTooLargeError",
    "MedicalImageError",
    "MissingDecoderError",
    "SeriesError",
    "SeriesMeta",
    "anonymize_dicom",
    "anonymize_folder",
    "axial_slice",
    "coronal_slice",
    "load_dicom",
    "load_dicom_series",
    "load_nifti",
    "orientation",
    "sagittal_slice",
    "save_dicom_series",
    "slice_volume",
]
