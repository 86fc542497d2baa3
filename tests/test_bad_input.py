"""One test per row of the book's appendix "Bad input" (book/bad_input.md).

Each bad file is real: a pydicom/nibabel sample or a file written here with
pydicom/nibabel. Each error must name the file and say what was expected;
writers must leave nothing half-written behind.
"""

from __future__ import annotations

import tracemalloc

import nibabel as nib
import numpy as np
import pytest
from _medical_files import (
    CT,
    MR,
    listing,
    nibabel_sample,
    sample,
    truncate,
    write_ct_series,
    write_float_dicom,
    write_resized_ct,
)

from medimgkit.data import load_medical_folder, save_image_folder
from medimgkit.io import (
    ImageTooLargeError,
    MedicalImageError,
    MissingDecoderError,
    SeriesError,
    anonymize_dicom,
    load_dicom,
    load_dicom_series,
    load_nifti,
)
from medimgkit.transforms import minmax, percentile_clip, resize_pad, window, zscore


def test_dicom_without_pixel_data():
    path = sample("rtplan.dcm")  # a radiotherapy plan: DICOM, but no image
    with pytest.raises(MedicalImageError, match=r"rtplan\.dcm: has no pixel data; expected an image.*RT Plan"):
        load_dicom(path)


def test_compressed_without_decoder():
    from pydicom.pixels import get_decoder
    from pydicom.uid import JPEGLSLossless

    path = sample("MR_small_jpeg_ls_lossless.dcm")
    if get_decoder(JPEGLSLossless).is_available:  # a JPEG-LS decoder is installed: it must decode losslessly
        assert np.array_equal(load_dicom(path)[0], load_dicom(MR)[0])
        return
    with pytest.raises(MissingDecoderError, match=r"jpeg_ls_lossless\.dcm.*JPEG-LS.*pip install pylibjpeg pylibjpeg-libjpeg"):
        load_dicom(path)


def test_decoder_present_but_unable():
    # Pillow decodes JPEG, but not 12-bit JPEG Extended: say which decoder would
    path = sample("JPGExtended.dcm")
    with pytest.raises(MedicalImageError, match=r"JPGExtended\.dcm: the pixel data cannot be decoded.*pip install"):
        load_dicom(path)


def test_truncated_file(tmp_path):
    with pytest.raises(MedicalImageError, match=r"MR_truncated\.dcm.*truncated"):
        load_dicom(sample("MR_truncated.dcm"))  # pydicom's own truncated sample
    cut_pixels = truncate(CT, tmp_path / "cut_pixels.dcm", -5000)
    with pytest.raises(MedicalImageError, match=r"cut_pixels\.dcm.*truncated"):
        load_dicom(cut_pixels)
    cut_header = truncate(CT, tmp_path / "cut_header.dcm", 1000)
    with pytest.raises(MedicalImageError, match=r"cut_header\.dcm.*truncated"):
        load_dicom(cut_header)


def test_non_dicom_with_dcm_name(tmp_path):
    fake = tmp_path / "scan.dcm"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    with pytest.raises(MedicalImageError, match=r"scan\.dcm: is not a DICOM file.*expected a DICOM Part 10 file"):
        load_dicom(fake)


def test_series_with_mixed_sizes(tmp_path):
    write_ct_series(tmp_path, n=3, series_uid="1.2.3.4")
    write_resized_ct(tmp_path / "odd.dcm", 64, 64, bytes(64 * 64 * 2))
    import pydicom

    ds = pydicom.dcmread(tmp_path / "odd.dcm")
    ds.SeriesInstanceUID = "1.2.3.4"
    ds.save_as(tmp_path / "odd.dcm")
    with pytest.raises(SeriesError, match=r"mixes slice sizes.*\(64, 64\).*odd\.dcm.*expected one size"):
        load_dicom_series(tmp_path)


def test_series_with_missing_slice(tmp_path):
    write_ct_series(tmp_path, n=6, spacing=2.5, skip=(3,))
    with pytest.raises(SeriesError, match=r"gap of 5\.000 mm.*expected 2\.500 mm.*1 slice\(s\) missing"):
        load_dicom_series(tmp_path)


def test_series_with_duplicate_position(tmp_path):
    write_ct_series(tmp_path / "a", n=3, series_uid="1.2.3")
    write_ct_series(tmp_path / "a", n=1, series_uid="1.2.3", seed=9)  # a second slice 0, other name
    with pytest.raises(SeriesError, match=r"two slices at the same position"):
        load_dicom_series(tmp_path / "a")


def test_series_mixing_two_series(tmp_path):
    write_ct_series(tmp_path, n=3)
    anonymize_dicom(MR, tmp_path / "mr.dcm")
    with pytest.raises(SeriesError, match=r"mixes 2 series.*expected one series per folder"):
        load_dicom_series(tmp_path)


def test_nifti_4d_where_3d_expected():
    path = nibabel_sample("functional.nii")  # a real fMRI run: 20 volumes over time
    with pytest.raises(MedicalImageError, match=r"functional\.nii: is a 4-D image of shape \(17, 21, 3, 20\).*expected 3-D"):
        load_nifti(path)


def test_nan_or_inf_pixels(tmp_path):
    pixels = np.zeros((8, 8), np.float32)
    pixels[2, 3], pixels[4, 4] = np.nan, np.inf
    with pytest.raises(MedicalImageError, match=r"nan\.dcm: 2 of 64 pixel values are NaN or infinite"):
        load_dicom(write_float_dicom(tmp_path / "nan.dcm", pixels))
    nib.save(nib.Nifti1Image(pixels[..., None].repeat(3, axis=2), np.eye(4)), tmp_path / "nan.nii.gz")
    with pytest.raises(MedicalImageError, match=r"nan\.nii\.gz: 6 of 192 voxels are NaN or infinite"):
        load_nifti(tmp_path / "nan.nii.gz")
    for transform in (lambda x: window(x, "lung"), minmax, zscore, percentile_clip, lambda x: resize_pad(x, (4, 4))):
        with pytest.raises(ValueError, match="2 NaN or infinite"):
            transform(pixels)


def test_one_by_one_image(tmp_path):
    tiny = write_resized_ct(tmp_path / "tiny.dcm", 1, 1, np.int16([5]).tobytes())
    with pytest.raises(MedicalImageError, match=r"tiny\.dcm: is 1 x 1 pixels.*expected at least 2 x 2"):
        load_dicom(tiny)
    save_image_folder(tmp_path / "tree", np.zeros((2, 1, 1), np.uint8), np.array([0, 1]), ["a", "b"])
    with pytest.raises(MedicalImageError, match=r"00000\.png: is 1 x 1 pixels; expected at least 2 x 2"):
        load_medical_folder(tmp_path / "tree")


def test_huge_header_refused_before_allocating(tmp_path):
    huge = write_resized_ct(tmp_path / "huge.dcm", 30000, 30000)  # header says 30,000 x 30,000; data is 128 x 128
    tracemalloc.start()
    try:
        with pytest.raises(ImageTooLargeError, match=r"huge\.dcm: header asks for 30000 x 30000 pixels.*refusing to allocate"):
            load_dicom(huge)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20, f"peak allocation {peak / 2**20:.1f} MiB: the loader touched the pixels"
    header = nib.Nifti1Header()
    header.set_data_shape((30000, 30000, 30))
    header.set_data_dtype(np.int16)
    header["vox_offset"] = 352
    (tmp_path / "huge.nii").write_bytes(header.binaryblock + bytes(4) + bytes(1000))
    with pytest.raises(ImageTooLargeError, match=r"huge\.nii: header asks for \(30000, 30000, 30\)"):
        load_nifti(tmp_path / "huge.nii")


@pytest.mark.parametrize("width", [0, -400, float("nan")])
def test_window_width_not_positive(width):
    with pytest.raises(ValueError, match="window width must be a finite number > 0"):
        window(np.zeros((4, 4)), 40, width)


def test_failed_writes_leave_nothing_behind(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    for bad in (truncate(CT, tmp_path / "cut.dcm", -100), tmp_path / "fake.dcm"):
        if not bad.exists():
            bad.write_text("hello")
        with pytest.raises(MedicalImageError, match=bad.name):
            anonymize_dicom(bad, out / "result.dcm")
    assert listing(out) == []
