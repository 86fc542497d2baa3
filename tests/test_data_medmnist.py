"""MedMNIST loading against the real, MD5-verified files, and downloads from a local mirror."""

import shutil

import numpy as np
import pytest

from medimgkit.data import (
    ChecksumError,
    DataUnavailableError,
    class_names,
    dataset_info,
    load_medmnist,
    md5sum,
    medmnist_path,
)


@pytest.mark.parametrize(
    "name,size,channels",
    [("breastmnist", 28, None), ("breastmnist", 64, None), ("pneumoniamnist", 28, None), ("retinamnist", 28, 3)],
)
def test_shapes_and_counts_match_info(medmnist_info, name, size, channels):
    info = medmnist_info[name]
    for split in ("train", "val", "test"):
        x, y = load_medmnist(name, size, split)
        assert x.dtype == np.uint8 and y.dtype == np.int64
        expected = (info["n_samples"][split], size, size) + ((channels,) if channels else ())
        assert x.shape == expected
        assert y.shape == (info["n_samples"][split],)
        assert set(np.unique(y)) <= {int(k) for k in info["labels"]}


def test_breast_labels_malignant_is_zero():
    assert class_names("breastmnist") == ["malignant", "normal, benign"]
    _, y = load_medmnist("breastmnist", 28, "train")
    assert np.bincount(y).tolist() == [147, 399]


def test_registry_matches_shared_info(medmnist_info):
    info = medmnist_info
    for name, entry in info.items():
        if entry["dimensionality"] != "2D":
            continue
        for size, f in entry["files_by_size_px"].items():
            assert dataset_info(name)["files"][int(size)] == (f["file"], f["md5"])


def test_unknown_name_and_size_are_named():
    with pytest.raises(ValueError, match="'brestmnist'"):
        load_medmnist("brestmnist")
    with pytest.raises(ValueError, match="no size 32"):
        load_medmnist("breastmnist", size=32)
    with pytest.raises(ValueError, match="'testing'"):
        load_medmnist("breastmnist", split="testing")


def test_download_from_mirror_verifies_and_caches(data_folder, tmp_path):
    cache = tmp_path / "cache"
    path = medmnist_path("breastmnist", 28, base_url=data_folder.as_uri(), cache_dir=cache)
    assert path == cache / "breastmnist.npz"
    assert md5sum(path) == dataset_info("breastmnist")["files"][28][1]
    assert sorted(p.name for p in cache.iterdir()) == ["breastmnist.npz"]
    # cached copy is reused without any network: an unreachable mirror is never asked
    again = medmnist_path("breastmnist", 28, base_url="http://127.0.0.1:9/", cache_dir=cache)
    assert again == path
    x, _ = load_medmnist("breastmnist", 28, "test", cache_dir=cache)
    assert x.shape == (156, 28, 28)


def test_corrupt_cached_file_is_refused_with_both_hashes(data_folder, tmp_path):
    bad = tmp_path / "breastmnist.npz"
    data = (data_folder / "breastmnist.npz").read_bytes()
    bad.write_bytes(data[: len(data) // 2])  # truncated
    expected = dataset_info("breastmnist")["files"][28][1]
    with pytest.raises(ChecksumError) as err:
        load_medmnist("breastmnist", cache_dir=tmp_path)
    msg = str(err.value)
    assert str(bad) in msg and expected in msg and md5sum(bad) in msg


def test_truncated_download_leaves_nothing(data_folder, tmp_path):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    data = (data_folder / "pneumoniamnist.npz").read_bytes()
    (mirror / "pneumoniamnist.npz").write_bytes(data[:1000])
    cache = tmp_path / "cache"
    with pytest.raises(ChecksumError, match="28209eda62fecd6e6a2d98b1501bb15f"):
        medmnist_path("pneumoniamnist", base_url=mirror.as_uri(), cache_dir=cache)
    assert list(cache.iterdir()) == []


def test_no_network_and_no_cache_is_clear(tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(DataUnavailableError, match="breastmnist_64.npz") as err:
        medmnist_path("breastmnist", 64, base_url="http://127.0.0.1:9/", cache_dir=cache)
    assert "MEDIMGKIT_DATA" in str(err.value)
    assert list(cache.iterdir()) == []


def test_missing_file_on_mirror(tmp_path):
    with pytest.raises(DataUnavailableError):
        medmnist_path("retinamnist", base_url=(tmp_path / "nowhere").as_uri(), cache_dir=tmp_path / "c")
    assert list((tmp_path / "c").iterdir()) == []


def test_download_switch_off(tmp_path):
    with pytest.raises(DataUnavailableError, match="switched off"):
        medmnist_path("breastmnist", cache_dir=tmp_path, download_missing=False)


def test_env_mirror_is_used(data_folder, tmp_path, monkeypatch):
    monkeypatch.setenv("MEDIMGKIT_MIRROR", data_folder.as_uri())
    monkeypatch.setenv("MEDIMGKIT_DATA", str(tmp_path))
    x, y = load_medmnist("retinamnist", 28, "val")
    assert x.shape == (120, 28, 28, 3) and len(y) == 120
    assert (tmp_path / "retinamnist.npz").exists()


def test_npz_with_pickled_object_is_not_loaded(tmp_path, monkeypatch):
    # A file with the right name but wrong content fails the checksum before np.load runs.
    np.savez(tmp_path / "breastmnist.npz", train_images=np.array([object()], dtype=object))
    with pytest.raises(ChecksumError):
        load_medmnist("breastmnist", cache_dir=tmp_path)


def test_shared_folder_is_not_written(data_folder):
    before = sorted(p.name for p in data_folder.iterdir())
    load_medmnist("breastmnist", 64, "val")
    assert sorted(p.name for p in data_folder.iterdir()) == before
    assert not list(data_folder.glob("*.part"))
    shutil.disk_usage(data_folder)  # folder still readable
