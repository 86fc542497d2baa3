"""medimgkit.io.load_dicom on pydicom's real sample files (CT, MR, JPEG 2000, RLE, ultrasound)."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from _medical_files import CT, MR, sample

from medimgkit.io import DicomMeta, load_dicom


def test_ct_small_comes_out_in_hounsfield_units():
    pixels, meta = load_dicom(CT)
    raw = pydicom.dcmread(CT)
    assert pixels.dtype == np.float32 and pixels.shape == (128, 128)
    # the header's rescale is applied: HU = 1 * stored - 1024
    assert meta.rescale_slope == 1.0 and meta.rescale_intercept == -1024.0
    assert np.array_equal(pixels, raw.pixel_array.astype(np.float32) - 1024)
    # anatomy in HU: lung (top-left corner) far below water, the vertebra far above it
    lung = pixels[5:25, 5:25].mean()
    assert -950 < lung < -700, lung
    assert pixels.max() > 700  # cortical bone
    assert np.median(pixels) == pytest.approx(0, abs=100)  # most pixels are soft tissue, near water
    assert meta.units == "HU" and meta.modality == "CT"


def test_ct_small_metadata():
    _, meta = load_dicom(CT)
    raw = pydicom.dcmread(CT)
    assert isinstance(meta, DicomMeta)
    assert meta.rows == meta.columns == 128 and meta.frames == 1 and meta.samples_per_pixel == 1
    assert meta.pixel_spacing == pytest.approx((0.661468, 0.661468))
    assert meta.slice_thickness == pytest.approx(5.0)
    assert meta.patient_id == "1CT1"
    assert meta.study_uid == raw.StudyInstanceUID and meta.series_uid == raw.SeriesInstanceUID
    assert meta.sop_uid == raw.SOPInstanceUID
    assert meta.image_position == pytest.approx((-158.135803, -179.035797, -75.699997))
    assert meta.image_orientation == (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    assert np.allclose(meta.normal, [0, 0, 1])
    assert meta.window_center is None and meta.window_width is None
    assert meta.as_dict()["modality"] == "CT"


def test_mr_small_keeps_values_and_reads_the_window_from_the_header():
    pixels, meta = load_dicom(MR)
    assert np.array_equal(pixels, pydicom.dcmread(MR).pixel_array.astype(np.float32))
    assert (meta.window_center, meta.window_width) == (600.0, 1600.0)
    assert meta.modality == "MR" and meta.units == ""


def test_jpeg2000_lossless_decodes_to_the_uncompressed_pixels():
    lossless, meta = load_dicom(sample("MR_small_jp2klossless.dcm"))
    plain, _ = load_dicom(MR)
    assert "JPEG 2000" in meta.transfer_syntax
    assert np.array_equal(lossless, plain)


def test_jpeg2000_lossy_and_rle_decode():
    pixels, meta = load_dicom(sample("JPEG2000.dcm"))
    assert pixels.shape == (1024, 256) and np.isfinite(pixels).all()
    rle, rle_meta = load_dicom(sample("MR_small_RLE.dcm"))
    assert rle_meta.transfer_syntax == "RLE Lossless"
    assert np.array_equal(rle, load_dicom(MR)[0])


def test_colour_multiframe_ultrasound_keeps_frames_and_channels():
    pixels, meta = load_dicom(sample("examples_ybr_color.dcm"))
    assert meta.modality == "US" and meta.frames == 30 and meta.samples_per_pixel == 3
    assert pixels.shape == (30, 240, 320, 3) and pixels.dtype == np.float32
    assert 0 <= pixels.min() and pixels.max() <= 255


def test_monochrome1_inversion_flips_within_the_bit_range(tmp_path):
    ds = pydicom.dcmread(MR)
    ds.PhotometricInterpretation = "MONOCHROME1"
    ds.save_as(tmp_path / "mono1.dcm")
    kept, meta = load_dicom(tmp_path / "mono1.dcm")
    flipped, _ = load_dicom(tmp_path / "mono1.dcm", invert_monochrome1=True)
    assert meta.photometric == "MONOCHROME1"
    # MR_small is signed 16-bit: inversion maps v to -1 - v, so bright becomes dark
    assert np.array_equal(flipped, -1 - kept)


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.dcm"):
        load_dicom(tmp_path / "nothing.dcm")


@pytest.mark.parametrize(("module", "loader", "fmt"), [("pydicom", "load_dicom", "DICOM"), ("nibabel", "load_nifti", "NIfTI")])
def test_a_missing_optional_library_names_it_and_the_books_distribution(monkeypatch, tmp_path, module, loader, fmt):
    """Colab has no pydicom: the error says what to install, with the book's distribution name
    (medimgkit-book; the "medimgkit" on PyPI is another project)."""
    import medimgkit.io as io

    monkeypatch.setitem(__import__("sys").modules, module, None)  # import fails as if not installed
    path = tmp_path / "file"
    path.write_bytes(b"\0" * 400)
    with pytest.raises(ImportError) as err:
        getattr(io, loader)(path)
    message = str(err.value)
    assert f"reading {fmt} needs {module}" in message and f"pip install {module}" in message
    assert "pip install 'medimgkit-book[medical]'" in message and "'medimgkit[" not in message
