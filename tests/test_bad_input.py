"""One test per row of the book's appendix "Bad input" (book/bad_input.md).

Each bad file is real: a pydicom/nibabel sample or a file written here with
pydicom/nibabel. Each error must name the file and say what was expected;
writers must leave nothing half-written behind.
"""

from __future__ import annotations

import time
import tracemalloc
import warnings
from pathlib import Path

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
    anonymize_folder,
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


# ---------------------------------------------------------------- bad values (issue 14)

def _tiny_model(size=8, units=2):
    import keras

    inp = keras.Input((size, size, 1))
    return keras.Model(inp, keras.layers.Dense(units, activation="softmax")(keras.layers.Flatten()(inp)))


def _images(n=20, size=8, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, size, size), dtype=np.uint8)


def test_sigmoid_output_with_positive_0():
    from medimgkit.metrics import binary_report

    y = np.array([0, 0, 0, 1, 1, 1, 1, 0])
    sigmoid = np.array([[0.1], [0.3], [0.6], [0.4], [0.7], [0.8], [0.9], [0.2]])  # P(label 1)
    report = binary_report(y, sigmoid, positive=0, n_boot=0)
    assert round(report["auc"], 3) == 0.938  # the old reading gave 1 - 0.938
    assert report["sensitivity"] == 0.75 and report["specificity"] == 0.75


def _positive_absent(tmp_path):
    from medimgkit.metrics import binary_report

    return binary_report([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8], positive=2)


def test_positive_label_absent(tmp_path):
    with pytest.raises(ValueError, match=r"positive=2.*y_true holds labels \[0, 1\]"):
        _positive_absent(tmp_path)


def _soft_labels(tmp_path):
    from medimgkit.data import as_dataset

    return as_dataset(_images(4), np.array([0.0, 1.0, 0.7, 1.0]))


def test_soft_labels(tmp_path):
    with pytest.raises(ValueError, match=r"labels: .*found 0\.7 at index 2"):
        _soft_labels(tmp_path)
    from medimgkit.metrics import roc_auc

    with pytest.raises(ValueError, match=r"y_true: .*found 0\.7 at index 2"):
        roc_auc([0, 1, 0.7, 1], [0.1, 0.9, 0.2, 0.8])


def _one_class_validation(tmp_path):
    from medimgkit.train import fit

    return fit(lambda: _tiny_model(), (_images(), np.array([0, 1] * 10)), (_images(seed=1), np.zeros(20, int)),
               epochs=2, patience=1)


def test_one_class_validation_split(tmp_path):
    with pytest.raises(ValueError, match="found only class 0"):
        _one_class_validation(tmp_path)


def _another_size(tmp_path):
    from medimgkit.train import fit

    y = np.array([0, 1] * 10)
    return fit(lambda: _tiny_model(8), (_images(size=10), y), (_images(size=10, seed=1), y), epochs=1)


def test_images_of_another_size(tmp_path):
    with pytest.raises(ValueError, match=r"\(N, 8, 8, 1\).*\(N, 10, 10, 1\)"):
        _another_size(tmp_path)


def _tiny_model3d(size=8, units=2):
    import keras

    inp = keras.Input((size, size, size, 1))
    return keras.Model(inp, keras.layers.Dense(units, activation="softmax")(keras.layers.Flatten()(inp)))


def _volumes(n=20, size=8, depth=None, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, depth or size, size, size), dtype=np.uint8)


def _volumes_into_2d_model(tmp_path):
    from medimgkit.train import fit

    y = np.array([0, 1] * 10)
    return fit(lambda: _tiny_model(8), (_volumes(), y), (_volumes(seed=1), y), epochs=1)


def _slices_into_3d_model(tmp_path):
    from medimgkit.train import fit

    y = np.array([0, 1] * 10)
    return fit(lambda: _tiny_model3d(8), (_images(), y), (_images(seed=1), y), epochs=1)


def test_rank_does_not_match_the_model(tmp_path):
    # (N, D, H, W) volumes used to pass as (N, H, W, C) images with D channels until TensorFlow failed, or not at all
    with pytest.raises(ValueError, match=r"found shape \(N, 8, 8, 8\); these look like volumes \(N, D, H, W\)"):
        _volumes_into_2d_model(tmp_path)
    with pytest.raises(ValueError, match=r"volumes = \(N, 8, 8, 8, 1\), this model's input, found shape \(20, 8, 8\)"):
        _slices_into_3d_model(tmp_path)


def _wrong_depth(tmp_path):
    from medimgkit.train import predict_proba

    return predict_proba(_tiny_model3d(8), _volumes(4, depth=6))


def _ragged_volumes(tmp_path):
    from medimgkit.train import predict_proba

    v = _volumes(3)
    return predict_proba(_tiny_model3d(8), [v[0], v[1, :7], v[2]])


def test_volume_of_the_wrong_depth(tmp_path):
    with pytest.raises(ValueError, match=r"wrong depth 6 \(the model takes 8\)"):
        _wrong_depth(tmp_path)
    with pytest.raises(ValueError, match=r"images\[1\]: expected the shape of images\[0\], \(8, 8, 8\)"):
        _ragged_volumes(tmp_path)


def _calibration_0_255(tmp_path):
    from medimgkit import export

    x = _images(10).astype(np.float32)
    x[0, 0, 0] = 255.0
    x[0, 0, 1] = 0.0
    return export.to_tflite(_tiny_model(), "int8", representative=x)


def _calibration_size(tmp_path):
    from medimgkit import export

    return export.to_tflite(_tiny_model(8), "int8", representative=_images(10, size=12))


def test_int8_calibration_images(tmp_path):
    with pytest.raises(ValueError, match="divide by 255"):
        _calibration_0_255(tmp_path)
    with pytest.raises(ValueError, match=r"\(N, 12, 12, 1\)"):
        _calibration_size(tmp_path)


def _overwrite(tmp_path):
    from medimgkit import export

    (tmp_path / "m.tflite").write_bytes(b"precious")
    return export.to_tflite(_tiny_model(), path=tmp_path / "m.tflite")


def test_export_does_not_overwrite(tmp_path):
    from medimgkit import export

    with pytest.raises(FileExistsError, match="overwrite=True"):
        _overwrite(tmp_path)
    assert (tmp_path / "m.tflite").read_bytes() == b"precious"
    model = _tiny_model()
    export.save_keras(model, tmp_path / "m.keras")
    with pytest.raises(FileExistsError, match=r"m\.keras: already exists; pass overwrite=True"):
        export.save_keras(model, tmp_path / "m.keras")
    export.save_keras(model, tmp_path / "m.keras", overwrite=True)
    export.to_tflite(model, path=tmp_path / "m.tflite", overwrite=True)
    assert (tmp_path / "m.tflite").read_bytes()[4:8] == b"TFL3"
    assert listing(tmp_path) == ["m.keras", "m.tflite"]  # no temporary file left


def test_images_in_sub_folders(tmp_path):
    """Case 3: both loaders read images in sub-folders of a class; a class of sub-folders only is not 'empty'."""
    from medimgkit.data import load_image_folder

    x = _images(6)
    save_image_folder(tmp_path / "t", x, np.array([0, 1, 0, 1, 0, 1]), ["benign", "malignant"])
    for name in ("00000.png", "00002.png"):  # benign: one file stays, two move to patient folders
        (tmp_path / "t" / "benign" / f"patient{name[4]}").mkdir()
        (tmp_path / "t" / "benign" / name).rename(tmp_path / "t" / "benign" / f"patient{name[4]}" / "img.png")
    for path in sorted((tmp_path / "t" / "malignant").glob("*.png")):  # malignant: only sub-folders
        (tmp_path / "t" / "malignant" / "p1").mkdir(exist_ok=True)
        path.rename(tmp_path / "t" / "malignant" / "p1" / path.name)
    images, labels, names = load_image_folder(tmp_path / "t")
    assert len(images) == 6 and np.bincount(labels).tolist() == [3, 3]
    dataset = load_medical_folder(tmp_path / "t")
    assert len(dataset) == 6 and sorted(set(dataset.patient_ids)) == sorted(
        {"patient0", "patient2", "benign/00004.png", "p1"})
    assert np.allclose(np.sort(dataset.images.reshape(6, -1), axis=0), np.sort(images.reshape(6, -1) / 255, axis=0))


def _spacing_differs(tmp_path):
    import pydicom

    write_ct_series(tmp_path, n=4, series_uid="1.2.3.4")
    ds = pydicom.dcmread(tmp_path / "IM0002.dcm")
    ds.PixelSpacing = [0.5, 0.5]
    ds.save_as(tmp_path / "IM0002.dcm")
    return load_dicom_series(tmp_path)


def _shifted(tmp_path):
    import pydicom

    write_ct_series(tmp_path, n=4, series_uid="1.2.3.4")
    ds = pydicom.dcmread(tmp_path / "IM0002.dcm")
    x, y, z = (float(v) for v in ds.ImagePositionPatient)
    ds.ImagePositionPatient = [x + 3.0, y - 4.0, z]
    ds.save_as(tmp_path / "IM0002.dcm")
    return load_dicom_series(tmp_path)


def test_series_geometry(tmp_path):
    with pytest.raises(SeriesError, match=r"IM0002\.dcm: PixelSpacing \[0\.5, 0\.5\] differs from .*IM0000\.dcm \[0\.661468"):
        _spacing_differs(tmp_path / "a")
    with pytest.raises(SeriesError, match=r"IM0002\.dcm: shifted in-plane by 5\.000 mm"):
        _shifted(tmp_path / "b")


def _two_positives(tmp_path):
    from medimgkit.metrics import binary_report, format_report

    y = np.array([1, 1] + [0] * 30)
    return format_report(binary_report(y, np.r_[0.9, 0.8, np.linspace(0, 0.4, 30)], n_boot=200))


def test_two_positive_cases(tmp_path):
    text = _two_positives(tmp_path)
    assert "sensitivity 1.000  (95% CI 0.342-1.000)" in text and "note: only 2 positive case(s)" in text


def _data_at_a_file(tmp_path, monkeypatch):
    from medimgkit.data import load_medmnist

    (tmp_path / "afile").write_text("not a folder")
    monkeypatch.setenv("MEDIMGKIT_DATA", str(tmp_path / "afile"))
    monkeypatch.setenv("MEDIMGKIT_MIRROR", (tmp_path / "mirror").as_uri())
    return load_medmnist("breastmnist", 28)


def test_cache_folder_problems(tmp_path, monkeypatch):
    import os
    import stat

    from medimgkit.data import load_medmnist
    from medimgkit.data.download import download, md5sum

    with pytest.raises(NotADirectoryError, match=r"afile is a file, not a folder; set MEDIMGKIT_DATA"):
        _data_at_a_file(tmp_path, monkeypatch)
    readonly = tmp_path / "ro"
    readonly.mkdir()
    readonly.chmod(stat.S_IRUSR | stat.S_IXUSR)
    if os.geteuid() == 0:  # root writes anywhere: let the folder look read-only to the package
        real = os.access
        monkeypatch.setattr(os, "access", lambda p, m, *a, **k: False if str(p) == str(readonly) else real(p, m))
    monkeypatch.setenv("MEDIMGKIT_DATA", str(readonly))
    try:
        with pytest.raises(PermissionError, match=r"ro is not writable; set MEDIMGKIT_DATA to a writable folder"):
            load_medmnist("breastmnist", 28)
    finally:
        readonly.chmod(0o755)
    assert listing(readonly) == []
    # downloads follow the umask (a shared lab folder stays readable), stale .part files go, fresh ones stay
    (tmp_path / "mirror").mkdir()
    (tmp_path / "mirror" / "f.bin").write_bytes(b"x" * 1000)
    cache = tmp_path / "cache"
    cache.mkdir()
    stale, fresh = cache / ".f.bin.old.part", cache / ".f.bin.new.part"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"another process, now")
    os.utime(stale, (time.time() - 2 * 86400,) * 2)
    old_mask = os.umask(0o022)
    try:
        download((tmp_path / "mirror" / "f.bin").as_uri(), cache / "f.bin", md5sum(tmp_path / "mirror" / "f.bin"))
    finally:
        os.umask(old_mask)
    assert stat.S_IMODE((cache / "f.bin").stat().st_mode) == 0o644
    assert not stale.exists() and fresh.exists()


def _bomb(tmp_path):
    from PIL import Image

    from medimgkit.data import load_image_folder

    for c in "ab":
        (tmp_path / c).mkdir(parents=True)
        Image.new("L", (64, 64)).save(tmp_path / c / "x.png")
    limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = 1000  # 4,096 pixels: over twice the limit
    try:
        return load_image_folder(tmp_path)
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def test_decompression_bomb(tmp_path):
    from PIL import Image

    with pytest.raises(MedicalImageError, match=r"x\.png: refused as a possible decompression bomb"):
        _bomb(tmp_path / "a")
    from medimgkit.data import load_image_folder

    limit = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = 3000  # between the limit and twice it: Pillow only warns; the warning names the file
    try:
        with pytest.warns(Image.DecompressionBombWarning, match=r"x\.png: Image size"):
            load_image_folder(tmp_path / "a")
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def _las_truncated(tmp_path):
    affine = np.diag([-1.0, 1.0, 1.0, 1.0])  # LAS: reorienting to RAS reads the voxels
    nib.save(nib.Nifti1Image(np.arange(512, dtype=np.float32).reshape(8, 8, 8), affine), tmp_path / "las.nii")
    truncate(tmp_path / "las.nii", tmp_path / "las.nii", -500)
    return load_nifti(tmp_path / "las.nii")


def test_truncated_non_ras_nifti(tmp_path):
    with pytest.raises(MedicalImageError, match=r"las\.nii: voxel data cannot be read \(OSError.*truncated"):
        _las_truncated(tmp_path)


def _dicomdir(tmp_path):
    return anonymize_dicom(sample("dicomdirtests/DICOMDIR"), tmp_path / "out.dcm")


def test_dicomdir_not_anonymised(tmp_path):
    with pytest.raises(MedicalImageError, match="is a DICOMDIR"):
        _dicomdir(tmp_path)
    assert listing(tmp_path) == []


# ---------------------------------------------------------------- the appendix is in step with the messages

def _rtplan(tmp_path):
    return load_dicom(sample("rtplan.dcm"))


def _mr_truncated(tmp_path):
    return load_dicom(sample("MR_truncated.dcm"))


def _fake_dicom(tmp_path):
    (tmp_path / "scan.dcm").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    return load_dicom(tmp_path / "scan.dcm")


def _functional(tmp_path):
    return load_nifti(nibabel_sample("functional.nii"))


def _nan_pixels(tmp_path):
    pixels = np.zeros((8, 8), np.float32)
    pixels[2, 3], pixels[4, 4] = np.nan, np.inf
    return load_dicom(write_float_dicom(tmp_path / "nan.dcm", pixels))


def _nan_transform(tmp_path):
    pixels = np.zeros((8, 8), np.float32)
    pixels[2, 3], pixels[4, 4] = np.nan, np.inf
    return minmax(pixels)


def _tiny_dicom(tmp_path):
    return load_dicom(write_resized_ct(tmp_path / "tiny.dcm", 1, 1, np.int16([5]).tobytes()))


def _huge(tmp_path):
    return load_dicom(write_resized_ct(tmp_path / "huge.dcm", 30000, 30000))


def _window(tmp_path):
    return window(np.zeros((4, 4)), 40, 0)


def _notes(tmp_path):
    write_ct_series(tmp_path / "s4", n=2)
    (tmp_path / "s4" / "notes.dcm").write_text("hello")
    return anonymize_folder(tmp_path / "s4", tmp_path / "out")


#: test named in the appendix -> functions that raise its example messages
APPENDIX = {
    "test_dicom_without_pixel_data": [_rtplan],
    "test_truncated_file": [_mr_truncated],
    "test_non_dicom_with_dcm_name": [_fake_dicom],
    "test_nifti_4d_where_3d_expected": [_functional],
    "test_nan_or_inf_pixels": [_nan_pixels, _nan_transform],
    "test_one_by_one_image": [_tiny_dicom],
    "test_huge_header_refused_before_allocating": [_huge],
    "test_window_width_not_positive": [_window],
    "test_failed_writes_leave_nothing_behind": [_notes],
    "test_positive_label_absent": [_positive_absent],
    "test_soft_labels": [_soft_labels],
    "test_one_class_validation_split": [_one_class_validation],
    "test_images_of_another_size": [_another_size],
    "test_rank_does_not_match_the_model": [_volumes_into_2d_model, _slices_into_3d_model],
    "test_volume_of_the_wrong_depth": [_wrong_depth, _ragged_volumes],
    "test_int8_calibration_images": [_calibration_0_255, _calibration_size],
    "test_export_does_not_overwrite": [_overwrite],
    "test_series_geometry": [_spacing_differs],
    "test_cache_folder_problems": [_data_at_a_file],
    "test_decompression_bomb": [_bomb],
    "test_truncated_non_ras_nifti": [_las_truncated],
    "test_dicomdir_not_anonymised": [_dicomdir],
}


def _appendix_rows() -> list[tuple[str, list[str], list[str]]]:
    """(first cell, example messages, test names) of every table row of book/bad_input.md."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "book" / "bad_input.md").read_text()
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if len(cells) != 4 or cells[0] in ("problem", "---") or set(cells[0]) <= {"-"}:
            continue
        rows.append((cells[0], re.findall(r"`([^`]+)`", cells[2]), re.findall(r"`(test_\w+)`", cells[3])))
    return rows


def _plain(message: str, tmp_path) -> str:
    import pydicom.data

    for folder in (str(tmp_path), str(Path(pydicom.data.__file__).parent / "test_files"),
                   str(nibabel_sample("functional.nii").parent)):
        message = message.replace(folder + "/", "")
    return " ".join(message.split())


def test_appendix_names_real_tests():
    import re
    from pathlib import Path

    sources = "\n".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py"))
    for first, _, tests in _appendix_rows():
        assert tests, f"appendix row {first!r} names no test"
        for name in tests:
            assert re.search(rf"def {name}\(", sources), f"appendix row {first!r}: no test {name}"


@pytest.mark.parametrize("row", [r for r in _appendix_rows() if r[2] and r[2][0] in APPENDIX], ids=lambda r: r[2][0])
def test_appendix_messages_are_the_real_ones(row, tmp_path, monkeypatch):
    """Each example message of the appendix is what the package says today (folders removed, '...' elided)."""
    import inspect
    import re

    first, examples, tests = row
    examples = [e for e in examples if re.match(r"\w+(Error|Warning): ", e)]
    assert examples, f"appendix row {first!r} shows no message"
    messages = []
    for i, produce in enumerate(APPENDIX[tests[0]]):
        folder = tmp_path / f"case{i}"
        folder.mkdir()
        kwargs = {"monkeypatch": monkeypatch} if "monkeypatch" in inspect.signature(produce).parameters else {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                produce(folder, **kwargs)
            except Exception as exc:  # noqa: BLE001 - the message is what is compared
                messages.append(_plain(f"{type(exc).__name__}: {exc}", folder))
                continue
        messages.append("(no error)")
    for example in examples:
        pattern = ".*".join(re.escape(part) for part in " ".join(example.split()).split("..."))
        assert any(re.fullmatch(pattern, m) for m in messages), f"appendix: {example!r}\nmessages: {messages}"
