"""De-identify DICOM files: blank identifying attributes, remap UIDs, drop private tags.

A teaching implementation modelled on the Basic Application Level
Confidentiality Profile of DICOM PS3.15 Annex E with its "Retain Patient
Characteristics" option (sex, age, weight and size are kept because they
matter for subgroup analysis). It is *not* a certified de-identification
tool: free text, burned-in annotations in the pixels (common in ultrasound)
and unusual vendor attributes need a review before data leave a hospital.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from medimgkit._files import atomic_dir, atomic_file
from medimgkit.io.dicom_checks import check_has_pixels, read_header
from medimgkit.io.errors import MedicalImageError

#: Attributes that identify a patient, a clinician, an institution or a
#: visit. Those in ``EMPTIED_TAGS`` are kept with an empty value (DICOM
#: requires them to be present); the others are removed.
IDENTIFYING_TAGS: tuple[str, ...] = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientBirthTime",
    "PatientAddress",
    "PatientTelephoneNumbers",
    "PatientMotherBirthName",
    "OtherPatientIDs",
    "OtherPatientIDsSequence",
    "OtherPatientNames",
    "PatientBirthName",
    "MedicalRecordLocator",
    "EthnicGroup",
    "Occupation",
    "AdditionalPatientHistory",
    "PatientComments",
    "MilitaryRank",
    "BranchOfService",
    "ReferringPhysicianName",
    "ReferringPhysicianAddress",
    "ReferringPhysicianTelephoneNumbers",
    "PerformingPhysicianName",
    "NameOfPhysiciansReadingStudy",
    "PhysiciansOfRecord",
    "RequestingPhysician",
    "OperatorsName",
    "InstitutionName",
    "InstitutionAddress",
    "InstitutionalDepartmentName",
    "StationName",
    "DeviceSerialNumber",
    "AccessionNumber",
    "StudyID",
    "StudyDate",
    "SeriesDate",
    "AcquisitionDate",
    "ContentDate",
    "InstanceCreationDate",
    "StudyTime",
    "SeriesTime",
    "AcquisitionTime",
    "ContentTime",
    "InstanceCreationTime",
    "AcquisitionDateTime",
    "StudyDescription",
    "ImageComments",
    "RequestAttributesSequence",
    "ReferencedPatientSequence",
    "InstanceCreatorUID",
)

#: Identifying attributes that DICOM requires (type 2): emptied, not removed.
EMPTIED_TAGS = frozenset(
    {"PatientName", "PatientID", "PatientBirthDate", "ReferringPhysicianName", "AccessionNumber",
     "StudyID", "StudyDate", "StudyTime"}
)

#: UIDs that point at this patient's studies; each is replaced by a new UID,
#: the same new one wherever the same old one appears (via ``uid_map``).
REMAPPED_UIDS: tuple[str, ...] = (
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "SOPInstanceUID",
    "MediaStorageSOPInstanceUID",
    "FrameOfReferenceUID",
    "ReferencedSOPInstanceUID",
    "ReferencedFrameOfReferenceUID",
    "SynchronizationFrameOfReferenceUID",
    "IrradiationEventUID",
    "ConcatenationUID",
    "DimensionOrganizationUID",
)


def _datasets(ds):
    """The dataset and every dataset nested in its sequences."""
    yield ds
    for elem in ds:
        if elem.VR == "SQ":
            for item in elem.value:
                yield from _datasets(item)


def _new_uid(old: str, uid_map: dict[str, str]) -> str:
    from pydicom.uid import generate_uid

    if old not in uid_map:
        uid_map[old] = generate_uid(prefix=None)  # 2.25.<random UUID>: no organisation root
    return uid_map[old]


def deidentify(ds, uid_map: dict[str, str], patient_id: str = "") -> None:
    """De-identify a pydicom dataset in place (see the module docstring)."""
    for item in list(_datasets(ds)):
        for keyword in IDENTIFYING_TAGS:
            if keyword in item:
                if keyword in EMPTIED_TAGS and item is ds:
                    item[keyword].value = ""
                else:
                    del item[keyword]
        for keyword in REMAPPED_UIDS:
            if keyword in item and item[keyword].value:
                item[keyword].value = _new_uid(str(item[keyword].value), uid_map)
    ds.remove_private_tags()
    for tag in [t for t in ds.keys() if 0x5000 <= t.group <= 0x60FF and t.group % 2 == 0]:
        del ds[tag]  # curves and overlays can hold drawn text
    meta = getattr(ds, "file_meta", None)
    if meta is not None and "MediaStorageSOPInstanceUID" in meta:
        meta.MediaStorageSOPInstanceUID = _new_uid(str(meta.MediaStorageSOPInstanceUID), uid_map)
    ds.PatientID = patient_id
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = "medimgkit teaching tool; not a certified PS3.15 profile"


def _check_complete(ds, path: Path) -> None:
    """Refuse a truncated image: writing it out would spread a broken file."""
    from pydicom.pixels.utils import get_expected_length

    sop = ds.get("SOPClassUID")
    if "Rows" in ds or "Image" in getattr(sop, "name", ""):
        check_has_pixels(ds, path)
        ts = ds.file_meta.get("TransferSyntaxUID")
        if "PixelData" in ds and ts is not None and not ts.is_compressed:
            expected = get_expected_length(ds, unit="bytes")
            if len(ds.PixelData) < expected:
                raise MedicalImageError(
                    f"{path}: pixel data has {len(ds.PixelData)} bytes, the header promises {expected}; "
                    "expected a complete file: it is probably truncated"
                )


def _read_complete(path: Path):
    ds = read_header(path)
    _check_complete(ds, path)
    if str(ds.get("BurnedInAnnotation", "")).upper() == "YES":
        warnings.warn(
            f"{path}: BurnedInAnnotation is YES: the pixels show text that tag editing cannot remove",
            stacklevel=3,
        )
    return ds


def _write_atomically(ds, out_path: Path) -> None:
    with atomic_file(out_path) as tmp:
        ds.save_as(tmp)


def anonymize_dicom(
    in_path: str | os.PathLike,
    out_path: str | os.PathLike,
    uid_map: dict[str, str] | None = None,
    *,
    patient_id: str = "",
    overwrite: bool = False,
) -> dict[str, str]:
    """Write a de-identified copy of one DICOM file.

    Every attribute in ``IDENTIFYING_TAGS`` is emptied or removed (also inside
    sequences), private tags, curves and overlays are removed, and the UIDs in
    ``REMAPPED_UIDS`` are replaced consistently: pass the same ``uid_map`` for
    all files of a study so that slices of one series still share one (new)
    SeriesInstanceUID. The copy is written to a temporary file next to
    ``out_path`` and renamed, so a failure never leaves a half-written file.

    Parameters
    ----------
    in_path, out_path : paths (``out_path`` must not exist unless ``overwrite``)
    uid_map : dict old UID -> new UID, updated in place; ``None`` starts a new one
    patient_id : pseudonym written to PatientID (default empty). Keep the key
        linking pseudonyms to patients away from the data; the pseudonym lets
        you split by patient after de-identification.

    Returns
    -------
    The (updated) ``uid_map``.

    Raises
    ------
    MedicalImageError
        Not DICOM, truncated, or an image header without its pixel data.
    FileExistsError
        ``out_path`` exists and ``overwrite`` is False.
    """
    in_path, out_path = Path(in_path), Path(out_path)
    if out_path.exists() and not overwrite:
        raise FileExistsError(f"{out_path}: already exists; pass overwrite=True to replace it")
    uid_map = {} if uid_map is None else uid_map
    ds = _read_complete(in_path)
    deidentify(ds, uid_map, patient_id)
    _write_atomically(ds, out_path)
    return uid_map


def anonymize_folder(
    in_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    uid_map: dict[str, str] | None = None,
    *,
    patient_id: str = "",
) -> dict[str, str]:
    """De-identify every file of ``in_dir`` (recursively) into the new folder ``out_dir``.

    Output files are named by their new SOP Instance UID (original names often
    carry patient names or dates) and written in a hidden temporary folder that
    is renamed to ``out_dir`` only when every file succeeded: if one file is
    bad, the error names it and ``out_dir`` is not created.
    """
    in_dir, out_dir = Path(in_dir), Path(out_dir)
    if not in_dir.is_dir():
        raise FileNotFoundError(f"{in_dir}: not a folder; expected a folder of DICOM files")
    if out_dir.exists():
        raise FileExistsError(f"{out_dir}: already exists; expected a new output folder")
    files = sorted(p for p in in_dir.rglob("*") if p.is_file() and not p.name.startswith("."))
    if not files:
        raise MedicalImageError(f"{in_dir}: no files; expected DICOM files to de-identify")
    uid_map = {} if uid_map is None else uid_map
    with atomic_dir(out_dir) as tmp:
        for path in files:
            ds = _read_complete(path)
            deidentify(ds, uid_map, patient_id)
            ds.save_as(tmp / f"{ds.SOPInstanceUID}.dcm")
    return uid_map
