"""De-identification of real DICOM files: identifying tags gone, UIDs remapped consistently."""

from __future__ import annotations

import warnings

import numpy as np
import pydicom
import pytest
from _medical_files import CT, MR, listing, truncate, write_ct_series

from medimgkit.io import (
    IDENTIFYING_TAGS,
    REMAPPED_UIDS,
    MedicalImageError,
    anonymize_dicom,
    anonymize_folder,
    load_dicom,
    load_dicom_series,
)


def _values(ds) -> dict[str, list[str]]:
    """Every (keyword, value) in the dataset and its sequences, values as text."""
    found: dict[str, list[str]] = {}
    for elem in ds.iterall():
        found.setdefault(elem.keyword, []).append(str(elem.value))
    return found


def test_no_identifying_tag_survives_with_its_original_value(tmp_path):
    before = _values(pydicom.dcmread(CT))
    present = [k for k in IDENTIFYING_TAGS if k in before and any(v not in ("", "[]") for v in before[k])]
    # CT_small carries a name, ids (also in a sequence), an institution and dates
    assert {"PatientName", "PatientID", "OtherPatientIDsSequence", "InstitutionName", "StudyDate"} <= set(present)
    anonymize_dicom(CT, tmp_path / "anon.dcm")
    out = pydicom.dcmread(tmp_path / "anon.dcm")
    after = _values(out)
    for keyword in present:
        for value in before[keyword]:
            if value:
                assert value not in after.get(keyword, []), f"{keyword} kept {value!r}"
    # the identifying values appear nowhere else either (e.g. inside another element)
    text = str(out)
    for secret in ("CompressedSamples^CT1", "1CT1", "ABCD1234", "JFK IMAGING CENTER"):
        assert secret not in text
    assert not any(elem.tag.is_private for elem in out.iterall())
    assert out.PatientIdentityRemoved == "YES"
    # the image itself is untouched
    assert np.array_equal(load_dicom(tmp_path / "anon.dcm")[0], load_dicom(CT)[0])


def test_uids_are_replaced_and_the_file_meta_agrees(tmp_path):
    original = pydicom.dcmread(CT)
    uid_map = anonymize_dicom(CT, tmp_path / "anon.dcm")
    out = pydicom.dcmread(tmp_path / "anon.dcm")
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID"):
        assert out[keyword].value != original[keyword].value
        assert uid_map[original[keyword].value] == out[keyword].value
    assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID
    assert out.SOPClassUID == original.SOPClassUID  # what the object is stays known
    assert set(REMAPPED_UIDS) >= {"StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"}


def test_two_files_of_one_series_share_a_new_series_uid(tmp_path):
    write_ct_series(tmp_path / "in", n=3)
    originals = [pydicom.dcmread(p) for p in sorted((tmp_path / "in").iterdir())]
    uid_map: dict[str, str] = {}
    for i, p in enumerate(sorted((tmp_path / "in").iterdir())):
        anonymize_dicom(p, tmp_path / "out" / f"{i}.dcm", uid_map, patient_id="P0001")
    outs = [pydicom.dcmread(p) for p in sorted((tmp_path / "out").iterdir())]
    series = {o.SeriesInstanceUID for o in outs}
    assert len(series) == 1 and series.isdisjoint({o.SeriesInstanceUID for o in originals})
    assert len({o.SOPInstanceUID for o in outs}) == 3
    assert {o.PatientID for o in outs} == {"P0001"}
    # still a valid series: same volume as before de-identification
    assert np.array_equal(load_dicom_series(tmp_path / "out")[0], load_dicom_series(tmp_path / "in")[0])


def test_same_uid_maps_to_the_same_new_uid_and_new_maps_differ(tmp_path):
    shared: dict[str, str] = {}
    anonymize_dicom(CT, tmp_path / "a.dcm", shared)
    anonymize_dicom(CT, tmp_path / "b.dcm", shared)
    anonymize_dicom(CT, tmp_path / "c.dcm")
    a, b, c = (pydicom.dcmread(tmp_path / n) for n in ("a.dcm", "b.dcm", "c.dcm"))
    assert a.SOPInstanceUID == b.SOPInstanceUID
    assert a.SOPInstanceUID != c.SOPInstanceUID


def test_anonymize_refuses_to_overwrite_and_writes_nothing_for_bad_input(tmp_path):
    anonymize_dicom(MR, tmp_path / "mr.dcm")
    with pytest.raises(FileExistsError, match="mr.dcm"):
        anonymize_dicom(MR, tmp_path / "mr.dcm")
    anonymize_dicom(MR, tmp_path / "mr.dcm", overwrite=True)
    out = tmp_path / "out"
    out.mkdir()
    broken = truncate(CT, tmp_path / "broken.dcm", -5000)
    with pytest.raises(MedicalImageError, match="broken.dcm.*truncated"):
        anonymize_dicom(broken, out / "x.dcm")
    assert listing(out) == []  # no half-written file, no temporary file


def test_anonymize_folder_is_all_or_nothing(tmp_path):
    write_ct_series(tmp_path / "in", n=3)
    (tmp_path / "in" / "README.dcm").write_text("not a DICOM file")
    with pytest.raises(MedicalImageError, match="README.dcm"):
        anonymize_folder(tmp_path / "in", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]  # no partial folder left
    (tmp_path / "in" / "README.dcm").unlink()
    anonymize_folder(tmp_path / "in", tmp_path / "out", patient_id="P7")
    outs = [pydicom.dcmread(p) for p in (tmp_path / "out").iterdir()]
    assert len(outs) == 3 and all(p.name == f"{o.SOPInstanceUID}.dcm" for p, o in zip((tmp_path / "out").iterdir(), outs))
    assert len({o.SeriesInstanceUID for o in outs}) == 1


def test_burned_in_annotation_warns(tmp_path):
    ds = pydicom.dcmread(MR)
    ds.BurnedInAnnotation = "YES"
    ds.save_as(tmp_path / "us.dcm")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        anonymize_dicom(tmp_path / "us.dcm", tmp_path / "anon.dcm")
    assert any("BurnedInAnnotation" in str(w.message) for w in caught)
