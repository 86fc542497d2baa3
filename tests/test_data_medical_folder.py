"""load_medical_folder on a tree of real PNG, DICOM and NIfTI files."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from _medical_files import CT, MR, nibabel_sample, write_ct_series

from medimgkit.data import load_image_folder, load_medical_folder, save_image_folder
from medimgkit.io import MedicalImageError, axial_slice, load_dicom, load_nifti
from medimgkit.transforms import resize_pad, window


def test_png_tree_matches_load_image_folder(tmp_path, breast):
    x, y = breast["test"]
    save_image_folder(tmp_path, x[:12], y[:12], ["malignant", "normal_benign"])
    reference, labels, names = load_image_folder(tmp_path)
    data = load_medical_folder(tmp_path)
    assert data.class_names == names
    assert np.array_equal(data.labels, labels)
    assert np.array_equal(data.images, reference.astype(np.float32) / 255)
    assert data.balance() == {"malignant": int((y[:12] == 0).sum()), "normal_benign": int((y[:12] == 1).sum())}
    assert len(set(data.patient_ids)) == 12  # flat folders: one file, one patient


def test_dicom_and_nifti_tree_in_physical_units_with_patient_ids(tmp_path):
    (tmp_path / "ct").mkdir()
    (tmp_path / "mr").mkdir()
    shutil.copy(CT, tmp_path / "ct" / "IMG0001")  # DICOM files often have no suffix
    shutil.copy(CT, tmp_path / "ct" / "copy.dcm")
    shutil.copy(nibabel_sample("anatomical.nii"), tmp_path / "mr" / "brain.nii")
    data = load_medical_folder(tmp_path, image_size=(64, 64))
    hu, _ = load_dicom(CT)
    assert data.images.shape == (3, 64, 64) and data.labels.tolist() == [0, 0, 1]
    assert np.array_equal(data.images[0], resize_pad(hu, (64, 64)))  # still HU, only resized
    assert data.images[0].min() < -800
    assert data.patient_ids[:2] == ["1CT1", "1CT1"]  # from the DICOM header
    assert data.files[2].endswith("brain.nii")
    volume, _ = load_nifti(nibabel_sample("anatomical.nii"))
    windowed = load_medical_folder(tmp_path, window="auto", image_size=(64, 64))
    assert windowed.images.min() >= 0 and windowed.images.max() <= 1
    lung = load_medical_folder(tmp_path, window="lung", image_size=(64, 64))
    assert np.allclose(lung.images[0], np.clip(lung.images[0], 0, 1))
    assert np.isclose(lung.images[0].max(), float(window(hu, "lung").max()), atol=1e-3)
    assert axial_slice(volume).shape == (41, 33)


def test_every_slice_of_a_volume_becomes_an_image_of_one_patient(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    shutil.copy(nibabel_sample("anatomical.nii"), tmp_path / "a" / "sub-01.nii")
    shutil.copy(nibabel_sample("anatomical.nii"), tmp_path / "b" / "sub-02.nii")
    data = load_medical_folder(tmp_path, slices="all", plane="coronal", window="auto")
    assert data.images.shape == (2 * 41, 25, 33)
    assert sorted(set(data.patient_ids)) == ["a/sub-01.nii", "b/sub-02.nii"]


def test_nested_folders_give_patient_ids(tmp_path, breast):
    x, y = breast["test"]
    for patient in ("p1", "p2"):
        save_image_folder(tmp_path / "tmp", x[:4], np.array([0, 1, 0, 1]), ["c0", "c1"])
        for c in ("c0", "c1"):
            shutil.copytree(tmp_path / "tmp" / c, tmp_path / "data" / c / patient)
        shutil.rmtree(tmp_path / "tmp")
    data = load_medical_folder(tmp_path / "data")
    assert sorted(set(data.patient_ids)) == ["p1", "p2"] and len(data) == 8
    named = load_medical_folder(tmp_path / "data", patient_id=lambda p: p.stem)
    assert set(named.patient_ids) == {"00000", "00001", "00002", "00003"}


def test_mixing_png_and_dicom_needs_a_window(tmp_path, breast):
    x, y = breast["test"]
    save_image_folder(tmp_path, x[:2], np.array([0, 1]), ["a", "b"])
    shutil.copy(MR, tmp_path / "b" / "mr.dcm")
    with pytest.raises(ValueError, match="mixes PNG/JPEG .* with DICOM/NIfTI in physical units"):
        load_medical_folder(tmp_path, image_size=(28, 28))
    data = load_medical_folder(tmp_path, image_size=(28, 28), window="auto")
    assert data.images.shape == (3, 28, 28) and data.images.max() <= 1


def test_unsupported_files_and_mixed_sizes_are_named(tmp_path):
    write_ct_series(tmp_path / "a", n=1)
    shutil.copy(MR, tmp_path / "b.dcm")
    (tmp_path / "b").mkdir()
    shutil.move(tmp_path / "b.dcm", tmp_path / "b" / "mr.dcm")
    with pytest.raises(ValueError, match=r"mixes image sizes \[\(64, 64\), \(128, 128\)\]"):
        load_medical_folder(tmp_path)
    (tmp_path / "b" / "notes.txt").write_text("report")
    with pytest.raises(MedicalImageError, match=r"notes\.txt: unsupported file type"):
        load_medical_folder(tmp_path)


def test_jpeg_files_load_like_png(tmp_path, breast):
    import tensorflow as tf

    x, _ = breast["test"]
    for i, name in enumerate(("a", "b")):
        (tmp_path / name).mkdir()
        jpeg = tf.io.encode_jpeg(x[i][..., None], quality=95).numpy()
        (tmp_path / name / f"img{i}.JPG").write_bytes(jpeg)
    data = load_medical_folder(tmp_path)
    assert data.images.shape == (2, 28, 28) and data.labels.tolist() == [0, 1]
    # JPEG is lossy: close to the original, not equal
    assert np.abs(data.images[0] * 255 - x[0]).mean() < 6
