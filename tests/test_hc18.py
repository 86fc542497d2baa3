"""HC18 on the real shared data: loading, the measurement chain against the reference HC, checked downloads, bad input."""

from __future__ import annotations

import csv
import hashlib
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import medimgkit.data.hc18 as hc18_module
from medimgkit.data import ChecksumError, DataUnavailableError, hc18_checksums, hc18_subject, load_hc18, read_hc18_csv
from medimgkit.measure import fill_outline, head_circumference_mm

ROOT = Path(__file__).resolve().parents[1]
CSV_NAME = "training_set_pixel_size_and_HC.csv"


def _source() -> Path:
    """HC18 where the package finds it: ``data_dir() / "hc18"`` (MEDIMGKIT_DATA, else the user cache)."""
    from medimgkit.config import data_dir

    candidate = data_dir() / "hc18"
    if (candidate / CSV_NAME).is_file():
        return candidate
    pytest.fail(f"real HC18 data not found in {candidate}: run medimgkit.data.download_hc18() or set MEDIMGKIT_DATA",
                pytrace=False)


@pytest.fixture(scope="session")
def source() -> Path:
    return _source()


@pytest.fixture(scope="session")
def cache(tmp_path_factory, source) -> Path:
    """A data folder whose hc18 is the real (read-only) training set; resized arrays are written beside it."""
    folder = tmp_path_factory.mktemp("data")
    (folder / "hc18").symlink_to(source, target_is_directory=True)
    return folder


@pytest.fixture(scope="session")
def first40(cache):
    return load_hc18(128, limit=40, cache_dir=cache)


def _reference(source: Path) -> dict[str, tuple[float, float]]:
    with open(source / CSV_NAME, newline="") as fh:
        return {r[0]: (float(r[1]), float(r[2])) for r in list(csv.reader(fh))[1:]}


def test_the_shipped_checksum_list_is_the_verified_one(source):
    sums = hc18_checksums()
    assert len(sums) == 1998 and sum(n.endswith("_Annotation.png") for n in sums) == 999
    listed = dict(reversed(line.split()) for line in (source / "SHA256SUMS").read_text().splitlines() if line.strip())
    assert sums == listed


def test_load_shapes_pixel_sizes_and_subjects(first40, source, cache):
    images, masks, pixel_mm, hc_mm, subjects, files = first40
    assert images.shape == masks.shape == (40, 96, 128) and images.dtype == masks.dtype == np.uint8
    assert set(np.unique(masks)) == {0, 1}
    reference = _reference(source)
    assert list(files) == sorted(reference)[:40]
    np.testing.assert_allclose(pixel_mm, [reference[f][0] * 800 / 128 for f in files])  # 800 px -> 128 px
    np.testing.assert_allclose(hc_mm, [reference[f][1] for f in files])
    assert all(s == f[:3] for s, f in zip(subjects, files))
    assert (cache / "hc18_128x96_first40.npz").is_file()


def test_the_cached_arrays_are_read_without_the_pngs(first40, cache, monkeypatch):
    monkeypatch.setattr(hc18_module, "_read_png", lambda *a: pytest.fail("the PNGs were read again"))
    again = load_hc18(128, limit=40, cache_dir=cache)
    for a, b in zip(first40, again):
        np.testing.assert_array_equal(a, b)


def test_the_masks_reproduce_the_reference_hc(first40):
    """The whole chain: outline -> filled mask -> 128 px -> fitted ellipse -> Ramanujan -> mm, against the sonographer's HC.

    Over all 999 images the error is 0.12 mm on average and at most 0.54 mm
    (measured once; here the first 40 images keep the test quick).
    """
    images, masks, pixel_mm, hc_mm, _, files = first40
    error = head_circumference_mm(masks, pixel_mm, names=files) - hc_mm
    assert np.abs(error).max() < 0.6, dict(zip(files, error.round(2)))
    assert np.abs(error).mean() < 0.2


@pytest.mark.parametrize("name", ["000_HC.png", "010_2HC.png", "500_HC.png", "700_HC.png"])
def test_at_full_resolution_the_reference_lies_on_the_drawn_line(source, name):
    """The CSV's HC follows the centre of the ~3 px line: the filled outline measures more, its interior less."""
    pixel, reference = _reference(source)[name]
    line = np.asarray(Image.open(source / "training_set" / name.replace(".png", "_Annotation.png"))) > 0
    filled = fill_outline(line, name)
    outer = head_circumference_mm(filled, pixel)
    inner = head_circumference_mm(filled & ~line, pixel)
    assert inner < reference < outer
    assert abs((inner + outer) / 2 - reference) < 0.3


def test_subject_ids():
    assert hc18_subject("014_2HC.png") == "014" and hc18_subject("training_set/014_HC_Annotation.png") == "014"
    with pytest.raises(ValueError, match="'scan.png' is not an HC18 file name"):
        hc18_subject("scan.png")


def test_bad_arguments_are_refused(cache):
    for size in (100 + 2, 8, 1000, "128"):
        with pytest.raises(ValueError, match="size must be a width"):
            load_hc18(size, cache_dir=cache)
    with pytest.raises(ValueError, match="limit"):
        load_hc18(128, limit=0, cache_dir=cache)
    with pytest.raises(DataUnavailableError, match="downloading is switched off"):
        load_hc18(128, cache_dir=cache / "nowhere", download_missing=False)


# --- downloads from a local mirror (file:// URLs), built from the real PNGs ---

SUBSET = ["000_HC.png", "000_HC_Annotation.png", "010_2HC.png", "010_2HC_Annotation.png"]


@pytest.fixture()
def subset(monkeypatch):
    """Check four files instead of 1,998, so that a mirror zip stays small; the code path is the same."""
    sums = {n: d for n, d in hc18_checksums().items() if n in SUBSET}
    monkeypatch.setattr(hc18_module, "hc18_checksums", lambda: sums)
    return sums


def _mirror(folder: Path, source: Path, tamper: str | None = None, drop: str | None = None, csv_bytes: bytes | None = None) -> str:
    folder.mkdir()
    with zipfile.ZipFile(folder / "training_set.zip", "w") as zf:
        for name in SUBSET:
            if name == drop:
                continue
            data = (source / "training_set" / name).read_bytes()
            zf.writestr(f"training_set/{name}", data + (b"\x00" if name == tamper else b""))
    (folder / CSV_NAME).write_bytes(csv_bytes if csv_bytes is not None else (source / CSV_NAME).read_bytes())
    return folder.as_uri()


def _leftovers(cache: Path) -> list[str]:
    return sorted(str(p.relative_to(cache)) for p in cache.rglob("*"))


def test_download_extracts_checks_and_caches(tmp_path, source, subset):
    url = _mirror(tmp_path / "mirror", source)
    cache = tmp_path / "cache"
    folder = hc18_module.download_hc18(base_url=url, cache_dir=cache)
    assert folder == cache / "hc18"
    assert _leftovers(cache) == sorted(["hc18", f"hc18/{CSV_NAME}", "hc18/training_set"] + [f"hc18/training_set/{n}" for n in SUBSET])
    for name in SUBSET:
        assert hashlib.sha256((folder / "training_set" / name).read_bytes()).hexdigest() == subset[name]
    # a complete copy is used as it is: an unreachable mirror is never asked
    assert hc18_module.download_hc18(base_url="http://127.0.0.1:9/", cache_dir=cache) == folder


def test_a_missing_csv_alone_is_downloaded(tmp_path, source, subset):
    url = _mirror(tmp_path / "mirror", source)
    cache = tmp_path / "cache"
    folder = hc18_module.download_hc18(base_url=url, cache_dir=cache)
    (folder / CSV_NAME).unlink()
    (tmp_path / "mirror" / "training_set.zip").unlink()  # the images are cached: the zip must not be needed
    assert hc18_module.download_hc18(base_url=url, cache_dir=cache) == folder
    assert (folder / CSV_NAME).is_file()


def test_an_incomplete_training_set_folder_is_named(tmp_path, source, subset):
    url = _mirror(tmp_path / "mirror", source)
    folder = hc18_module.download_hc18(base_url=url, cache_dir=tmp_path / "cache")
    (folder / "training_set" / "010_2HC.png").unlink()
    with pytest.raises(DataUnavailableError, match="lacks 1 of the 4 HC18 files.*010_2HC.png"):
        hc18_module.download_hc18(base_url=url, cache_dir=tmp_path / "cache")


def test_a_tampered_png_is_refused_and_nothing_is_left_half_extracted(tmp_path, source, subset):
    bad = "010_2HC_Annotation.png"
    url = _mirror(tmp_path / "mirror", source, tamper=bad)
    found = hashlib.sha256((source / "training_set" / bad).read_bytes() + b"\x00").hexdigest()
    cache = tmp_path / "cache"
    with pytest.raises(ChecksumError) as err:
        hc18_module.download_hc18(base_url=url, cache_dir=cache)
    message = str(err.value)
    assert bad in message and subset[bad] in message and found in message
    assert _leftovers(cache) == ["hc18", f"hc18/{CSV_NAME}"]  # the verified CSV only: no zip, no partial folder


def test_a_zip_without_a_listed_file_is_refused(tmp_path, source, subset):
    url = _mirror(tmp_path / "mirror", source, drop="000_HC_Annotation.png")
    with pytest.raises(ChecksumError, match="1 of the 4 HC18 files are missing.*000_HC_Annotation.png"):
        hc18_module.download_hc18(base_url=url, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache" / "hc18" / "training_set").exists()


def test_a_tampered_csv_is_refused(tmp_path, source, subset):
    text = (source / CSV_NAME).read_bytes().replace(b"000_HC.png,0.0691358041432", b"000_HC.png,0.0791358041432")
    url = _mirror(tmp_path / "mirror", source, csv_bytes=text)
    with pytest.raises(ChecksumError, match=f"{CSV_NAME}.*expected 814533ea.*but found"):
        hc18_module.download_hc18(base_url=url, cache_dir=tmp_path / "cache")
    assert _leftovers(tmp_path / "cache") == ["hc18"]


def test_an_unreachable_mirror_says_so(tmp_path, subset):
    with pytest.raises(DataUnavailableError, match="could not download"):
        hc18_module.download_hc18(base_url=(tmp_path / "missing").as_uri(), cache_dir=tmp_path / "cache")


# --- a folder in HC18's layout that is not the official release (verify=False): every other check stays ---


def _own_folder(tmp_path: Path, source: Path, rows: list[str], annotation=None) -> Path:
    folder = tmp_path / "own" / "hc18"
    (folder / "training_set").mkdir(parents=True)
    for name in ("000_HC", "001_HC"):
        shutil.copy(source / "training_set" / f"{name}.png", folder / "training_set")
        shutil.copy(source / "training_set" / f"{name}_Annotation.png", folder / "training_set")
    if annotation is not None:
        Image.fromarray(annotation).save(folder / "training_set" / "001_HC_Annotation.png")
    (folder / CSV_NAME).write_text("\n".join(["filename,pixel size(mm),head circumference (mm)", *rows]) + "\n")
    return folder.parent


GOOD_ROWS = ["000_HC.png,0.0691358041432,44.3", "001_HC.png,0.0896585200514,56.81"]


def test_own_folder_loads_with_verify_off(tmp_path, source):
    own = _own_folder(tmp_path, source, GOOD_ROWS)
    with pytest.raises(ChecksumError, match=CSV_NAME):
        load_hc18(64, cache_dir=own)
    d = load_hc18(64, cache_dir=own, verify=False)
    assert d.images.shape == (2, 48, 64)


@pytest.mark.parametrize(
    "row,problem",
    [("001_HC.png,0,56.81", "pixel size \\(mm\\) is '0'"), ("001_HC.png,,56.81", "pixel size \\(mm\\) is missing"),
     ("001_HC.png,-0.1,56.81", "pixel size \\(mm\\) is '-0.1'"), ("001_HC.png,0.09,", "head circumference \\(mm\\) is missing"),
     ("001_HC.png,abc,56.81", "pixel size \\(mm\\) is 'abc'")],
)
def test_a_bad_pixel_size_or_hc_in_the_csv_names_the_line_and_file(tmp_path, source, row, problem):
    own = _own_folder(tmp_path, source, [GOOD_ROWS[0], row])
    with pytest.raises(ValueError, match=f"{CSV_NAME}, line 3 \\(001_HC.png\\): the {problem}"):
        load_hc18(64, cache_dir=own, verify=False)
    with pytest.raises(ValueError, match="line 3"):
        read_hc18_csv(own / "hc18" / CSV_NAME)


def test_an_annotation_of_another_size_is_named(tmp_path, source):
    outline = np.asarray(Image.open(source / "training_set" / "001_HC_Annotation.png"))[:500]
    own = _own_folder(tmp_path, source, GOOD_ROWS, annotation=outline)
    with pytest.raises(ValueError, match="001_HC_Annotation.png: the annotation is 800 x 500 px but its image 001_HC.png is 800 x 540"):
        load_hc18(64, cache_dir=own, verify=False)


def test_an_outline_that_does_not_close_is_named(tmp_path, source):
    outline = np.asarray(Image.open(source / "training_set" / "001_HC_Annotation.png")).copy()
    rows = np.flatnonzero(outline.any(axis=1))
    outline[rows[len(rows) // 2] - 5 : rows[len(rows) // 2] + 5] = 0  # cut the ellipse across its middle
    own = _own_folder(tmp_path, source, GOOD_ROWS, annotation=outline)
    with pytest.raises(ValueError, match="001_HC_Annotation.png: the outline does not close"):
        load_hc18(64, cache_dir=own, verify=False)


def test_a_tampered_png_in_the_cache_is_refused(tmp_path, source):
    own = tmp_path / "data"
    (own / "hc18" / "training_set").mkdir(parents=True)
    shutil.copy(source / CSV_NAME, own / "hc18")
    for name in hc18_checksums():
        (own / "hc18" / "training_set" / name).symlink_to(source / "training_set" / name)
    target = own / "hc18" / "training_set" / "000_HC.png"
    target.unlink()
    target.write_bytes((source / "training_set" / "000_HC.png").read_bytes() + b"\x00")
    with pytest.raises(ChecksumError, match="000_HC.png: SHA-256 mismatch, expected c530210f"):
        load_hc18(64, limit=2, cache_dir=own)
