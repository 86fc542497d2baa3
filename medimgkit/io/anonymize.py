"""De-identify DICOM files: DICOM PS3.15 Annex E, Basic Application Level Confidentiality Profile.

Every attribute is decided by one of two things, in this order:

1. **The Annex E table** (Table E.1-1, Basic Profile column, the 2026c
   edition, kept as data in ``medimgkit.io._annex_e``; 652 attributes and
   the curve/overlay repeating groups): remove it (X), empty it (Z, and D:
   we write no made-up dummy values), or replace its UID (U). Compound
   actions take the stricter side that keeps the file readable: X/Z, Z/D
   and X/Z/D empty the value, X/D removes it, X/Z/U* keeps a reference
   sequence and cleans its items.
2. **Rules by value representation** for everything the table does not
   list, so that attributes added to DICOM later, or missed by a list, are
   still caught:

   * every person name (VR PN) is emptied;
   * every UID (VR UI) is replaced consistently (the same old UID gets the
     same new ``2.25.<UUID>`` wherever it appears, across files sharing a
     ``uid_map``), except the UIDs that say *what* an object is: SOP class
     and transfer syntax UIDs (any keyword containing ``SOPClassUID`` or
     ``TransferSyntaxUID``), coding-scheme, context-group and mapping-resource
     UIDs, and any value registered in the DICOM standard (pydicom's UID
     dictionary);
   * every date, time and date-time (DA, TM, DT) is emptied;
   * every free text or short string (LO, SH, LT, ST, UT, UC) is emptied,
     except the technical attributes in ``KEPT`` below;
   * application entity titles (AE) and URLs (UR) are removed, and so are
     elements of unknown VR (UN) and private (odd-group) elements, whose
     content cannot be judged;
   * sequences (SQ) are cleaned item by item with the same rules; those the
     table empties or removes are emptied or removed whole;
   * the file meta information is cleaned too: the Media Storage SOP
     Instance UID follows the new SOP Instance UID, AE titles and private
     information go, and the implementation UID becomes pydicom's (the
     program that wrote the file).

Kept, and why (``KEPT``): coded values (``CS``), numbers (``IS``, ``DS``,
binary VRs), ages (``AS``), the pixel data, and:

* patient sex, age, size and weight (the Annex E *Retain Patient
  Characteristics* option, PS3.15 E.3.9): subgroup analyses need them;
* manufacturer, model, software versions and acquisition technique
  (convolution kernel, MR sequence and coil names): where the image comes
  from matters for domain shift; the device's serial number, station name
  and institution are removed;
* how to read the pixels (rescale type, window and LUT explanations);
* code sequence contents (code value, scheme, meaning): terms of controlled
  terminologies such as SNOMED, not free text. A code sequence that Annex E
  removes (e.g. Person Identification Code Sequence) goes whole.

The file is then marked ``PatientIdentityRemoved = YES``,
``LongitudinalTemporalInformationModified = REMOVED``, with the method in
``DeidentificationMethod`` and ``DeidentificationMethodCodeSequence`` (DCM
113100 Basic Application Confidentiality Profile, 113108 Retain Patient
Characteristics Option). The pixel data are not touched.

Why not a library: ``deid`` (pydicom's org, MIT) works from recipe files and
pulls matplotlib; ``dicognito`` (MIT) writes realistic fake names and dates,
which a student may mistake for real ones, and does not follow Annex E's
list; ``dicom-anonymizer`` (BSD-3) carries the Annex E list (our table is
generated from its transcription by ``tools/annex_e_table.py``) but no rules
by VR, and needs tqdm. None of them is needed on Colab with this module,
which uses only pydicom (the ``medical`` extra).

This is a teaching implementation, *not* a certified de-identification
tool: text burned into the pixels (common in ultrasound; ``anonymize_dicom``
warns when ``BurnedInAnnotation`` is ``YES``) and identifying content in the
images themselves (faces in head CT) need their own review before data leave
a hospital.
"""

from __future__ import annotations

import os
import uuid
import warnings
from pathlib import Path

from medimgkit._files import atomic_dir, atomic_file
from medimgkit.io._annex_e import EDITION, MASKED, TABLE
from medimgkit.io.dicom_checks import check_has_pixels, read_header
from medimgkit.io.errors import MedicalImageError

#: Attributes kept with their value although Annex E or a rule would clean them: keyword -> why.
KEPT: dict[str, str] = {
    **dict.fromkeys(
        ("PatientSex", "PatientAge", "PatientSize", "PatientWeight"),
        "Retain Patient Characteristics option (PS3.15 E.3.9): needed for subgroup analyses",
    ),
    **dict.fromkeys(
        ("Manufacturer", "ManufacturerModelName", "SoftwareVersions", "ConvolutionKernel", "SequenceName",
         "PulseSequenceName", "ReceiveCoilName", "TransmitCoilName", "FilterType", "ScanOptions"),
        "the device type and acquisition technique (not the device's serial number or site): domain shift",
    ),
    **dict.fromkeys(
        ("RescaleType", "WindowCenterWidthExplanation", "LUTExplanation", "LossyImageCompressionMethod"),
        "how to read the pixel values",
    ),
    **dict.fromkeys(
        ("CodeValue", "CodingSchemeDesignator", "CodingSchemeVersion", "CodeMeaning", "LongCodeValue",
         "URNCodeValue", "ContextIdentifier", "MappingResource", "MappingResourceName", "ContextGroupExtensionFlag"),
        "a term of a controlled terminology (e.g. SNOMED), not free text",
    ),
    "DeidentificationMethod": "written by the anonymiser: how the file was de-identified",
}

#: UI attributes that name a kind of object or a terminology, not a patient's data: never remapped.
KEPT_UID_KEYWORDS = ("SOPClassUID", "TransferSyntaxUID", "CodingSchemeUID", "ContextUID", "MappingResourceUID")

_FREE_TEXT = frozenset({"LO", "SH", "LT", "ST", "UT", "UC"})
_DATES = frozenset({"DA", "TM", "DT"})
_REMOVED_VRS = frozenset({"AE", "UR", "UN"})
_EMPTIED_ACTIONS = frozenset({"Z", "D", "X/Z", "Z/D", "X/Z/D"})
_REMOVED_ACTIONS = frozenset({"X", "X/D"})


def _keyword(tag: int) -> str:
    from pydicom.datadict import keyword_for_tag

    return keyword_for_tag(tag) or ""


def _vr(tag: int) -> str:
    from pydicom.datadict import dictionary_VR

    try:
        return dictionary_VR(tag)
    except KeyError:
        return ""


def _known(keyword: str) -> bool:
    from pydicom.datadict import tag_for_keyword

    return bool(keyword) and tag_for_keyword(keyword) is not None


#: Identifying attributes of the Annex E table that end up removed or emptied (never kept with a value).
IDENTIFYING_TAGS: tuple[str, ...] = tuple(
    kw for tag, (action, kw) in sorted(TABLE.items())
    if action != "U" and _known(kw) and kw not in KEPT and "UI" not in _vr(tag) and kw != "ContentSequence"
)

#: Identifying attributes kept present with an empty value (Annex E Z, D and the compound actions that allow it).
EMPTIED_TAGS = frozenset(
    kw for tag, (action, kw) in TABLE.items() if action in _EMPTIED_ACTIONS and kw in IDENTIFYING_TAGS
)

#: UID attributes of the Annex E table, replaced consistently (via ``uid_map``). Other UIDs follow the UI rule.
REMAPPED_UIDS: tuple[str, ...] = tuple(
    kw for tag, (action, kw) in sorted(TABLE.items()) if _known(kw) and (action == "U" or _vr(tag) == "UI")
)

#: DeidentificationMethod (LO: at most 64 characters); the options are in DeidentificationMethodCodeSequence
METHOD = f"medimgkit PS3.15 Annex E Basic Profile {EDITION}; not certified"


def _annex_e_action(tag: int) -> str | None:
    action = TABLE.get(tag)
    if action is not None:
        return action[0]
    for value, mask, masked_action, _ in MASKED:
        if tag & mask == value & mask:
            return masked_action
    return None


def _uid_kept(keyword: str, value: str) -> bool:
    from pydicom.uid import UID_dictionary

    return any(k in keyword for k in KEPT_UID_KEYWORDS) or value in UID_dictionary


def _new_uid(old: str, uid_map: dict[str, str]) -> str:
    from pydicom.uid import generate_uid

    if old not in uid_map:
        uid_map[old] = generate_uid(prefix=None)  # 2.25.<random UUID>: no organisation root
    return uid_map[old]


def _remap(elem, uid_map: dict[str, str]) -> None:
    keyword = elem.keyword or ""
    values = list(elem.value) if elem.VM > 1 else [elem.value]
    new = [v if not str(v) or _uid_kept(keyword, str(v)) else _new_uid(str(v), uid_map) for v in values]
    elem.value = new if elem.VM > 1 else new[0]


def _empty(elem) -> None:
    if elem.VR == "SQ":
        elem.value = []
    elif elem.VR in ("OB", "OW", "OF", "OD", "OL", "OV", "UN"):
        elem.value = b""
    else:
        elem.value = None  # written as a zero-length value


def _clean(ds, uid_map: dict[str, str]) -> None:
    """Apply the Annex E table, then the VR rules, to ``ds`` and every sequence item in it (in place)."""
    for elem in list(ds):
        tag = int(elem.tag)
        keyword = elem.keyword or ""
        if elem.tag.is_private or elem.tag.element == 0x0000:  # private elements; group lengths go stale
            del ds[elem.tag]
            continue
        if 0x6000 <= elem.tag.group <= 0x60FF and elem.tag.group % 2 == 0:
            del ds[elem.tag]  # overlays: graphics and text drawn over the image
            continue
        if keyword in KEPT:
            continue
        action = _annex_e_action(tag)
        vr = elem.VR
        if action in _REMOVED_ACTIONS or (action is None and vr in _REMOVED_VRS):
            del ds[elem.tag]
        elif vr == "SQ":
            if action is None or action == "X/Z/U*" or keyword == "ContentSequence":
                for item in elem.value:
                    _clean(item, uid_map)
            else:
                _empty(elem)  # a sequence Annex E empties: all its items go
        elif vr == "UI":
            _remap(elem, uid_map)
        elif action is not None or vr in ("PN", *_DATES, *_FREE_TEXT):
            _empty(elem)


#: Implementation Class UID written into every de-identified file: medimgkit's own, derived from a UUID
#: (PS3.5 B.2), so that no organisation's root (not even pydicom's) is carried over.
IMPLEMENTATION_UID = "2.25." + str(uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/everything-is-a-mapping/medimgkit").int)


def _clean_meta(meta, uid_map: dict[str, str]) -> None:
    for keyword in ("SourceApplicationEntityTitle", "SendingApplicationEntityTitle",
                    "ReceivingApplicationEntityTitle", "PrivateInformationCreatorUID", "PrivateInformation",
                    "SourcePresentationAddress", "SendingPresentationAddress", "ReceivingPresentationAddress"):
        if keyword in meta:
            delattr(meta, keyword)
    if meta.get("MediaStorageSOPInstanceUID"):
        meta.MediaStorageSOPInstanceUID = _new_uid(str(meta.MediaStorageSOPInstanceUID), uid_map)
    meta.ImplementationClassUID = IMPLEMENTATION_UID
    meta.ImplementationVersionName = "MEDIMGKIT"


def deidentify(ds, uid_map: dict[str, str], patient_id: str = "") -> None:
    """De-identify a pydicom dataset in place (see the module docstring); ``uid_map`` is updated."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    _clean(ds, uid_map)
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        _clean_meta(meta, uid_map)
    ds.PatientID = patient_id
    if "PatientName" in ds or patient_id:
        ds.PatientName = ""
    ds.PatientIdentityRemoved = "YES"
    ds.LongitudinalTemporalInformationModified = "REMOVED"
    ds.DeidentificationMethod = METHOD
    codes = []
    for value, meaning in (("113100", "Basic Application Confidentiality Profile"),
                           ("113108", "Retain Patient Characteristics Option")):
        code = Dataset()
        code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = value, "DCM", meaning
        codes.append(code)
    ds.DeidentificationMethodCodeSequence = Sequence(codes)


def _check_complete(ds, path: Path) -> None:
    """Refuse a truncated image (writing it out would spread a broken file) and a DICOMDIR."""
    from pydicom.pixels.utils import get_expected_length

    meta = getattr(ds, "file_meta", None)
    sop = ds.get("SOPClassUID") or (meta.get("MediaStorageSOPClassUID") if meta is not None else None)
    if str(sop) == "1.2.840.10008.1.3.10":
        raise MedicalImageError(
            f"{path}: is a DICOMDIR (Media Storage Directory), an index of other files whose byte offsets "
            "would break if its names were emptied; expected an image or a report. De-identify the files it "
            "lists and build a new DICOMDIR (pydicom.fileset.FileSet)"
        )
    if "Rows" in ds or "Image" in getattr(sop, "name", ""):
        try:
            check_has_pixels(ds, path)
        except MedicalImageError as exc:  # a header-only file can be de-identified; say so
            warnings.warn(f"{exc}; writing its de-identified header only", stacklevel=4)
            return
        ts = meta.get("TransferSyntaxUID") if meta is not None else None
        if "PixelData" in ds and ts is not None and not ts.is_compressed:
            try:
                expected = int(get_expected_length(ds, unit="bytes"))
            except (TypeError, ValueError, AttributeError):  # an invalid geometry (e.g. NumberOfFrames '1A'):
                return  # nothing to compare with; _check_not_cut already checked the file's own lengths
            if len(ds.PixelData) < expected:
                raise MedicalImageError(
                    f"{path}: pixel data has {len(ds.PixelData)} bytes, the header promises {expected}; "
                    "expected a complete file: it is probably truncated"
                )


def _read_complete(path: Path, force: bool = False):
    ds = read_header(path, force=force)
    _check_complete(ds, path)
    if str(ds.get("BurnedInAnnotation", "")).upper() == "YES":
        warnings.warn(
            f"{path}: BurnedInAnnotation is YES: the pixels show text that tag editing cannot remove",
            stacklevel=3,
        )
    return ds


def _part10(ds) -> None:
    """Give a headerless (pre-Part 10) dataset the file meta that a Part 10 file needs."""
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

    meta = getattr(ds, "file_meta", None)
    if meta is None:
        meta = ds.file_meta = FileMetaDataset()
    if "TransferSyntaxUID" not in meta:
        implicit, little = ds.original_encoding
        meta.TransferSyntaxUID = (ImplicitVRLittleEndian if implicit else
                                  ExplicitVRLittleEndian if little else ExplicitVRBigEndian)
    if "SOPClassUID" in ds and "MediaStorageSOPClassUID" not in meta:
        meta.MediaStorageSOPClassUID = ds.SOPClassUID
    if "SOPInstanceUID" in ds:
        meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID


def _save(ds, path: Path) -> None:
    _part10(ds)
    meta = ds.file_meta
    complete = all(meta.get(k) for k in ("MediaStorageSOPClassUID", "MediaStorageSOPInstanceUID", "TransferSyntaxUID"))
    # a dataset without SOP class or instance UID cannot become a conformant Part 10 file: write it as it came
    ds.save_as(path, enforce_file_format=complete)


def anonymize_dicom(
    in_path: str | os.PathLike,
    out_path: str | os.PathLike,
    uid_map: dict[str, str] | None = None,
    *,
    patient_id: str = "",
    overwrite: bool = False,
    force: bool = False,
) -> dict[str, str]:
    """Write a de-identified copy of one DICOM file (Annex E Basic Profile; see the module docstring).

    Identifying attributes are emptied or removed by the Annex E table and by
    rules for every person name, UID, date, time and free text (also inside
    sequences and the file meta); private tags, curves and overlays are
    removed; UIDs are replaced consistently: pass the same ``uid_map`` for
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
    force : bool
        Also read old headerless files (no 'DICM' marker). The copy is written
        as a DICOM Part 10 file when the data set has SOP class and instance
        UIDs to put in its file meta, else in the form it came.

    Returns
    -------
    The (updated) ``uid_map``.

    Raises
    ------
    MedicalImageError
        Not DICOM, truncated, an image header without its pixel data, or a
        DICOMDIR (whose byte offsets editing would break).
    FileExistsError
        ``out_path`` exists and ``overwrite`` is False.
    """
    in_path, out_path = Path(in_path), Path(out_path)
    if out_path.exists() and not overwrite:
        raise FileExistsError(f"{out_path}: already exists; pass overwrite=True to replace it")
    uid_map = {} if uid_map is None else uid_map
    ds = _read_complete(in_path, force)
    deidentify(ds, uid_map, patient_id)
    with atomic_file(out_path) as tmp:
        _save(ds, tmp)
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
            _save(ds, tmp / f"{ds.SOPInstanceUID}.dcm")
    return uid_map
