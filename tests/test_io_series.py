"""DICOM series: slices written with pydicom from CT_small, shuffled on disk, sorted back by position."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from _medical_files import CT, listing, nibabel_sample, write_ct_series
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from medimgkit.io import ImageTooLargeError, load_dicom, load_dicom_series, load_nifti, save_dicom_series


def _slice_index(volume: np.ndarray) -> np.ndarray:
    """Which k each loaded slice carries (stored values were CT_small + 10 k)."""
    base, _ = load_dicom(CT)
    return np.array([int(round(float(np.mean(s - base)) / 10))for s in volume])


def test_series_is_sorted_by_position_not_by_file_name(tmp_path):
    written = write_ct_series(tmp_path, n=6, spacing=2.5)
    names = sorted(p.name for p in tmp_path.iterdir())
    by_name = [int(pydicom.dcmread(tmp_path / n).ImagePositionPatient[2] * 100) for n in names]
    assert by_name != sorted(by_name), "the test needs files whose name order is not the slice order"
    volume, meta = load_dicom_series(tmp_path)
    assert volume.shape == (6, 128, 128) and volume.dtype == np.float32
    assert _slice_index(volume).tolist() == written == list(range(6))
    assert np.allclose(np.diff(meta.positions), 2.5)
    assert meta.spacing == pytest.approx((2.5, 0.661468, 0.661468))
    assert meta.modality == "CT" and meta.patient_id == "1CT1"
    # InstanceNumber is shuffled too, so it would not have sorted them either
    numbers = [int(pydicom.dcmread(f).InstanceNumber) for f in meta.files]
    assert numbers != sorted(numbers)


def test_series_order_follows_the_slice_normal_for_sagittal_slices(tmp_path):
    # rows along +y, columns along -z: the normal is -x, so positions grow as x falls
    write_ct_series(tmp_path, n=5, spacing=3.0, orientation=(0, 1, 0, 0, 0, -1), seed=3)
    volume, meta = load_dicom_series(tmp_path)
    assert np.allclose(meta.normal, [-1, 0, 0])
    assert _slice_index(volume).tolist() == [0, 1, 2, 3, 4]
    xs = [float(pydicom.dcmread(f).ImagePositionPatient[0]) for f in meta.files]
    assert xs == sorted(xs, reverse=True)


def test_oblique_series_uses_the_projection_on_the_normal(tmp_path):
    c, s = np.cos(0.4), np.sin(0.4)
    write_ct_series(tmp_path, n=4, spacing=1.5, orientation=(c, s, 0, -s, c, 0), seed=5)
    volume, meta = load_dicom_series(tmp_path)
    assert _slice_index(volume).tolist() == [0, 1, 2, 3]
    assert meta.spacing[0] == pytest.approx(1.5)


def test_single_slice_series_uses_the_slice_thickness(tmp_path):
    write_ct_series(tmp_path, n=1)
    volume, meta = load_dicom_series(tmp_path)
    assert volume.shape == (1, 128, 128) and meta.spacing[0] == pytest.approx(5.0)


def test_series_over_the_voxel_limit_is_refused_before_reading_pixels(tmp_path):
    write_ct_series(tmp_path, n=3)
    with pytest.raises(ImageTooLargeError, match="3 slices of 128 x 128"):
        load_dicom_series(tmp_path, max_pixels=2 * 128 * 128)


def test_save_dicom_series_round_trip_of_a_real_mri(tmp_path):
    volume, _ = load_nifti(nibabel_sample("anatomical.nii"))
    axial_first = np.ascontiguousarray(volume.transpose(2, 1, 0))  # (Z, Y, X)
    files = save_dicom_series(axial_first, tmp_path / "mri", spacing=(2.0, 2.0, 2.0))
    assert len(files) == axial_first.shape[0]
    # independent check with pydicom: slice k at z = 2 k, files named by UID
    for k, f in enumerate(files):
        ds = pydicom.dcmread(f)
        assert float(ds.ImagePositionPatient[2]) == 2.0 * k
        assert f.name == f"{ds.SOPInstanceUID}.dcm"
    loaded, meta = load_dicom_series(tmp_path / "mri")
    assert np.array_equal(loaded, axial_first)
    assert meta.spacing == (2.0, 2.0, 2.0)


def test_save_dicom_series_leaves_nothing_on_error(tmp_path):
    bad = np.zeros((3, 8, 8))
    bad[1, 2, 2] = np.nan
    with pytest.raises(ValueError, match="finite integer"):
        save_dicom_series(bad, tmp_path / "out")
    assert listing(tmp_path) == []
    save_dicom_series(np.zeros((2, 4, 4)), tmp_path / "out")
    with pytest.raises(FileExistsError, match="out"):
        save_dicom_series(np.zeros((2, 4, 4)), tmp_path / "out")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.floats(-20, 20), st.floats(-20, 20), st.sampled_from([0.661468, 0.5, 0.7]))
def test_a_slice_out_of_line_or_of_another_spacing_is_refused(tmp_path_factory, dx, dy, spacing):
    """Property: a series loads only when every slice shares the first one's in-plane origin and PixelSpacing."""
    from medimgkit.io import SeriesError

    folder = tmp_path_factory.mktemp("s")
    write_ct_series(folder, n=3, series_uid="1.2.3.4")
    ds = pydicom.dcmread(folder / "IM0001.dcm")
    x, y, z = (float(v) for v in ds.ImagePositionPatient)
    ds.ImagePositionPatient = [x + dx, y + dy, z]
    ds.PixelSpacing = [spacing, spacing]
    ds.save_as(folder / "IM0001.dcm")
    off_line = max(abs(dx), abs(dy)) > 0.01 * 0.661468  # 1 % of a pixel
    if spacing != 0.661468:
        with pytest.raises(SeriesError, match=r"IM0001\.dcm: PixelSpacing"):
            load_dicom_series(folder)
    elif off_line:
        with pytest.raises(SeriesError, match=r"IM0001\.dcm: shifted in-plane by"):
            load_dicom_series(folder)
    else:
        volume, meta = load_dicom_series(folder)
        assert volume.shape[0] == 3 and meta.spacing[1:] == pytest.approx((0.661468, 0.661468))
