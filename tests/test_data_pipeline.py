"""tf.data pipelines, class weights, subsets and the class-per-folder loader on real images."""

import numpy as np
import pytest

from medimgkit.data import (
    as_dataset,
    class_balance,
    class_weights,
    load_image_folder,
    save_image_folder,
    stratified_subset,
    to_float,
)


def test_to_float_adds_channel_and_scales(breast):
    x, _ = breast["val"]
    f = to_float(x)
    assert f.shape == x.shape + (1,) and f.dtype == np.float32
    assert f.min() >= 0 and f.max() <= 1 and np.isclose(f.max(), x.max() / 255)
    # the one input contract: float in [0, 1] is accepted as is, 0-255 floats are refused with the fix
    assert np.array_equal(to_float(x.astype(np.float64) / 255), f)
    with pytest.raises(ValueError, match=r"float values in \[\d+, 2\d\d\].*divide by 255 or pass uint8"):
        to_float(x.astype(np.float64))
    with pytest.raises(ValueError, match=r"finite pixel values, found nan at index \(0, 0, 0, 0\)"):
        to_float(np.full((1, 2, 2, 1), np.nan))
    with pytest.raises(ValueError, match=r"expected \(N, H, W, C\) images, found shape \(5,\)"):
        to_float(np.zeros(5, np.uint8))


def test_as_dataset_batches_and_is_seeded(breast):
    x, y = breast["train"]
    ds = as_dataset(x, y, batch_size=64, shuffle=True, seed=3)
    xb, yb = next(iter(ds))
    assert tuple(xb.shape) == (64, 28, 28, 1) and xb.dtype.name == "float32"
    again = next(iter(as_dataset(x, y, batch_size=64, shuffle=True, seed=3)))[1].numpy()
    other = next(iter(as_dataset(x, y, batch_size=64, shuffle=True, seed=4)))[1].numpy()
    assert np.array_equal(yb.numpy(), again)
    assert not np.array_equal(yb.numpy(), other)
    ordered = np.concatenate([b.numpy() for _, b in as_dataset(x, y, batch_size=100, shuffle=False)])
    assert np.array_equal(ordered, y)
    with pytest.raises(ValueError, match="546 images but 3 labels"):
        as_dataset(x, y[:3])


def test_class_weights_balance_the_loss(breast):
    _, y = breast["train"]
    w = class_weights(y)
    counts = np.bincount(y)
    assert np.isclose(w[0] * counts[0], w[1] * counts[1])
    assert np.isclose(sum(w[c] * counts[c] for c in w), len(y))
    with pytest.raises(ValueError, match=r"\[1\]"):
        class_weights(np.ones(5, int))


def test_class_balance_names(breast):
    _, y = breast["test"]
    assert class_balance(y, ["malignant", "benign"]) == {"malignant": 42, "benign": 114}


def test_stratified_subset_keeps_ratio(breast):
    x, y = breast["train"]
    xs, ys = stratified_subset(x, y, 0.25, seed=1)
    assert len(xs) == len(ys) == round(0.25 * 147) + round(0.25 * 399)
    assert np.bincount(ys).tolist() == [round(0.25 * 147), round(0.25 * 399)]
    with pytest.raises(ValueError, match="1.5"):
        stratified_subset(x, y, 1.5)


def test_folder_round_trip_keeps_grey(breast, tmp_path):
    x, y = breast["val"]
    save_image_folder(tmp_path, x, y, ["malignant", "benign"])
    images, labels, names = load_image_folder(tmp_path)
    assert names == ["benign", "malignant"]  # sorted folder names
    assert images.shape == x.shape and images.dtype == np.uint8  # grey stays (N, H, W)
    # same multiset of images per class (file order differs from array order)
    for new_label, name in enumerate(names):
        old_label = ["malignant", "benign"].index(name)
        a = np.sort(images[labels == new_label].reshape(-1, 784), axis=0)
        b = np.sort(x[y == old_label].reshape(-1, 784), axis=0)
        assert np.array_equal(a, b)


def test_folder_rgb_and_resize(data_folder, tmp_path):
    from medimgkit.data import load_medmnist

    x, y = load_medmnist("retinamnist", 28, "val")
    save_image_folder(tmp_path, x[:10], y[:10] % 2, ["a", "b"])
    images, labels, _ = load_image_folder(tmp_path, image_size=(14, 14))
    assert images.shape == (10, 14, 14, 3)


def _two_classes(tmp_path, breast, n=3):
    x, _ = breast["val"]
    save_image_folder(tmp_path, x[:n], np.zeros(n, int), ["a"])
    save_image_folder(tmp_path, x[n : 2 * n], np.zeros(n, int), ["b"])


def test_folder_errors(breast, tmp_path):
    with pytest.raises(ValueError, match="not a folder"):
        load_image_folder(tmp_path / "missing")
    (tmp_path / "only").mkdir()
    with pytest.raises(ValueError, match="1 class folder"):
        load_image_folder(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="has no files in it or in its sub-folders"):
        load_image_folder(tmp_path)


def test_folder_rejects_non_image_and_fake_png(breast, tmp_path):
    _two_classes(tmp_path, breast)
    (tmp_path / "a" / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="notes.txt is not an image"):
        load_image_folder(tmp_path)
    (tmp_path / "a" / "notes.txt").unlink()
    (tmp_path / "b" / "fake.png").write_bytes(b"not a png at all")
    with pytest.raises(ValueError, match="fake.png: cannot be decoded"):
        load_image_folder(tmp_path)


def test_folder_rejects_mixed_sizes_and_channels(breast, data_folder, tmp_path):
    from medimgkit.data import load_medmnist

    tree, scratch = tmp_path / "tree", tmp_path / "scratch"
    _two_classes(tree, breast)
    x64, _ = load_medmnist("breastmnist", 64, "val")
    save_image_folder(scratch / "big", x64[:1], [0], ["a"])
    (scratch / "big" / "a" / "00000.png").rename(tree / "a" / "big.png")
    with pytest.raises(ValueError, match="mixes image sizes"):
        load_image_folder(tree)
    images, _, _ = load_image_folder(tree, image_size=(28, 28))
    assert images.shape[1:] == (28, 28)
    (tree / "a" / "big.png").unlink()
    rgb, _ = load_medmnist("retinamnist", 28, "val")
    save_image_folder(scratch / "rgb", rgb[:1], [0], ["a"])
    (scratch / "rgb" / "a" / "00000.png").rename(tree / "b" / "colour.png")
    with pytest.raises(ValueError, match=r"channels"):
        load_image_folder(tree)


def test_breastmnist_has_one_train_test_duplicate_with_opposite_labels(breast):
    from medimgkit.data import cross_split_duplicates

    found = cross_split_duplicates(breast)
    assert found == [("train", 115, "test", 76)]
    (_, i, _, j), = found
    assert np.array_equal(breast["train"][0][i], breast["test"][0][j])
    assert breast["train"][1][i] != breast["test"][1][j]


def test_cross_split_duplicates_none_and_many():
    from medimgkit.data import cross_split_duplicates

    a = np.arange(4 * 9, dtype=np.uint8).reshape(4, 3, 3)
    assert cross_split_duplicates({"x": (a, None), "y": (a + 100, None)}) == []
    got = cross_split_duplicates({"x": (a, None), "y": (a[::-1].copy(), None), "z": (a[:1], None)})
    assert ("x", 0, "y", 3) in got and ("x", 0, "z", 0) in got and ("y", 3, "z", 0) in got and len(got) == 6
