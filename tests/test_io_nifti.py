"""NIfTI loading in canonical RAS order and display slicing, on nibabel's real sample images."""

from __future__ import annotations

import nibabel as nib
import numpy as np
import pytest
from _medical_files import nibabel_sample

from medimgkit.io import (
    MedicalImageError,
    axial_slice,
    coronal_slice,
    load_nifti,
    orientation,
    sagittal_slice,
    slice_volume,
)

ANATOMICAL = nibabel_sample("anatomical.nii")


def test_anatomical_is_reoriented_from_las_to_ras():
    raw = nib.load(ANATOMICAL)
    assert nib.aff2axcodes(raw.affine) == ("L", "A", "S")
    volume, affine = load_nifti(ANATOMICAL)
    assert orientation(affine) == ("R", "A", "S")
    assert volume.dtype == np.float32 and volume.shape == (33, 41, 25)
    # LAS -> RAS flips the first axis only
    assert np.array_equal(volume, np.flip(raw.get_fdata(), axis=0).astype(np.float32))
    # the same voxel has the same world position before and after
    i, j, k = 3, 7, 11
    world_raw = raw.affine @ [32 - i, j, k, 1]
    assert np.allclose(affine @ [i, j, k, 1], world_raw)


def test_canonical_false_keeps_the_stored_order():
    volume, affine = load_nifti(ANATOMICAL, canonical=False)
    assert orientation(affine) == ("L", "A", "S")
    assert np.array_equal(volume, nib.load(ANATOMICAL).get_fdata().astype(np.float32))


def test_four_d_image_loads_with_ndim_4():
    volume, _ = load_nifti(nibabel_sample("functional.nii"), ndim=4)
    assert volume.shape == (17, 21, 3, 20)


def test_trailing_axis_of_length_one_is_dropped(tmp_path):
    data = np.arange(5 * 6 * 7, dtype=np.int16).reshape(5, 6, 7, 1)
    nib.save(nib.Nifti1Image(data, np.eye(4)), tmp_path / "one.nii.gz")
    volume, _ = load_nifti(tmp_path / "one.nii.gz")
    assert volume.shape == (5, 6, 7) and np.array_equal(volume, data[..., 0])


def test_scale_factors_are_applied(tmp_path):
    image = nib.Nifti1Image(np.ones((4, 4, 4), np.int16), np.eye(4))
    image.header.set_slope_inter(2.5, -1.0)
    nib.save(image, tmp_path / "scaled.nii")
    volume, _ = load_nifti(tmp_path / "scaled.nii")
    assert np.allclose(volume, 1.5)


def test_not_a_nifti_file_is_refused_with_its_name(tmp_path):
    (tmp_path / "notes.nii").write_text("not an image")
    with pytest.raises(MedicalImageError, match="notes.nii.*cannot be read as NIfTI"):
        load_nifti(tmp_path / "notes.nii")


def test_display_slices_put_anterior_superior_up_and_patient_right_on_the_left():
    volume = np.zeros((10, 12, 14), np.float32)  # RAS: x to the right, y to anterior, z to superior
    volume[8, 10, 12] = 1.0  # a marker far right, anterior and superior
    ax = axial_slice(volume, 12)
    assert ax.shape == (12, 10)
    r, c = np.argwhere(ax == 1)[0]
    assert r < 6 and c < 5  # anterior = top; patient's right = image left (radiological)
    co = coronal_slice(volume, 10)
    assert co.shape == (14, 10)
    r, c = np.argwhere(co == 1)[0]
    assert r < 7 and c < 5  # superior = top
    sa = sagittal_slice(volume, 8)
    assert sa.shape == (14, 12)
    r, c = np.argwhere(sa == 1)[0]
    assert r < 7 and c < 6  # superior = top, anterior = left


def test_default_index_is_the_middle_slice_and_bad_ones_are_refused():
    volume = np.random.default_rng(0).normal(size=(5, 6, 7))
    assert np.array_equal(slice_volume(volume, "axial"), axial_slice(volume, 3))
    assert np.array_equal(slice_volume(volume, "sagittal"), sagittal_slice(volume, 2))
    with pytest.raises(ValueError, match=r"axial index must be an integer in \[0, 6\]"):
        axial_slice(volume, 7)
    with pytest.raises(ValueError, match="plane must be one of"):
        slice_volume(volume, "oblique")
    with pytest.raises(ValueError, match="3-D volume"):
        axial_slice(volume[0])
