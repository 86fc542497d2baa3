"""3-D volumes: MedMNIST's 3-D files, the slice helpers, the 3-D CNN, and volumes through the one input contract."""

from __future__ import annotations

import numpy as np
import pytest

from medimgkit import data

VOLUME_SETS = [("adrenalmnist3d", 28), ("adrenalmnist3d", 64), ("vesselmnist3d", 28)]


# --------------------------------------------------------------------------- loading the real files


def test_registry_matches_shared_info_for_3d(medmnist_info):
    checked = 0
    for name, entry in medmnist_info.items():
        if entry["dimensionality"] != "3D":
            continue
        info = data.dataset_info(name)
        assert info["dimensionality"] == "3D" and info["task"] == entry["task"]
        assert info["n_samples"] == {s: entry["n_samples"][s] for s in data.SPLITS}
        assert {str(k): v for k, v in info["labels"].items()} == entry["labels"]
        for size, f in entry["files_by_size_px"].items():
            assert info["files"][int(size)] == (f["file"], f["md5"])
        checked += 1
    assert checked == 6
    assert data.dataset_info("breastmnist")["dimensionality"] == "2D"


@pytest.mark.parametrize("name,size", VOLUME_SETS)
def test_3d_files_load_as_binary_volumes(medmnist_info, name, size):
    info = medmnist_info[name]
    for split in data.SPLITS:
        x, y = data.load_medmnist(name, size, split)  # MD5-checked against the registry
        n = info["n_samples"][split]
        assert x.shape == (n, size, size, size) and x.dtype == np.uint8
        assert y.shape == (n,) and y.dtype == np.int64 and set(np.unique(y)) == {0, 1}
        assert set(np.unique(x)) == {0, 255}  # shape volumes cut from segmentations, not grey levels


def test_3d_labels_and_counts():
    assert data.class_names("adrenalmnist3d") == ["normal", "hyperplasia"]
    assert data.class_names("vesselmnist3d") == ["vessel", "aneurysm"]
    _, y = data.load_medmnist("adrenalmnist3d", 28, "test")
    assert np.bincount(y).tolist() == [229, 69]
    _, y = data.load_medmnist("vesselmnist3d", 28, "train")
    assert int(y.sum()) == 150


def test_3d_unknown_size_is_named():
    with pytest.raises(ValueError, match=r"'adrenalmnist3d' has no size 128; expected one of \[28, 64\]"):
        data.load_medmnist("adrenalmnist3d", 128)


# --------------------------------------------------------------------------- slices


def test_orthogonal_slices_are_the_three_middle_planes(rng):
    v = rng.integers(0, 256, (3, 6, 6, 6), dtype=np.uint8)
    s = data.orthogonal_slices(v)
    assert s.shape == (3, 6, 6, 3) and s.dtype == np.uint8
    assert np.array_equal(s[..., 0], v[:, 3]) and np.array_equal(s[..., 1], v[:, :, 3])
    assert np.array_equal(s[..., 2], v[:, :, :, 3])
    assert np.array_equal(data.orthogonal_slices(v[..., None]), s)  # a channel axis of one is fine
    assert np.array_equal(data.middle_slices(v, "coronal"), v[:, :, 3])


def test_middle_slices_of_a_box():
    v = np.zeros((1, 5, 7, 9), np.float32)
    assert data.middle_slices(v, "axial").shape == (1, 7, 9)
    assert data.middle_slices(v, "coronal").shape == (1, 5, 9)
    assert data.middle_slices(v, "sagittal").shape == (1, 5, 7)


def test_slice_helpers_refuse_what_they_cannot_cut():
    with pytest.raises(ValueError, match=r"found shape \(6, 6, 6\); one volume: add the batch axis"):
        data.orthogonal_slices(np.zeros((6, 6, 6)))
    with pytest.raises(ValueError, match=r"expected cubes .* found shape \(2, 5, 6, 6\); resample"):
        data.orthogonal_slices(np.zeros((2, 5, 6, 6)))
    with pytest.raises(ValueError, match="plane: expected one of"):
        data.middle_slices(np.zeros((1, 4, 4, 4)), "transverse")


def test_orthogonal_slices_of_real_volumes():
    x, _ = data.load_medmnist("adrenalmnist3d", 28, "val")
    s = data.orthogonal_slices(x)
    assert s.shape == (98, 28, 28, 3)
    assert (s.reshape(98, -1, 3).max(axis=1) == 255).all()  # each plane through the centre cuts the gland


# --------------------------------------------------------------------------- the 3-D CNN


def test_cnn3d_shapes_and_parameters():
    import keras

    from medimgkit.models import cnn3d

    model = cnn3d((28, 28, 28, 1), 2, width=8, blocks=3)
    assert model.input.shape[1:] == (28, 28, 28, 1) and model.output.shape[1:] == (2,)
    assert model.get_layer("block3_pool").output.shape[1:] == (3, 3, 3, 32)
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv3D):
            k, _, _, c_in, c_out = layer.kernel.shape
            assert layer.count_params() == k**3 * c_in * c_out  # no bias: batch norm follows
    convs = 27 * (1 * 8 + 8 * 16 + 16 * 32)
    norms = 4 * (8 + 16 + 32)
    assert model.count_params() == convs + norms + 32 * 2 + 2
    probs = model.predict(np.zeros((2, 28, 28, 28, 1), np.float32), verbose=0)
    assert probs.shape == (2, 2) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)


def test_cnn3d_is_seeded():
    from medimgkit.models import cnn3d

    a, b, c = (cnn3d((8, 8, 8, 1), width=2, blocks=2, seed=s) for s in (3, 3, 4))
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        assert np.array_equal(wa, wb)
    assert not np.array_equal(a.get_weights()[0], c.get_weights()[0])


@pytest.mark.parametrize("kwargs,message", [
    ({"input_shape": (28, 28, 1)}, r"found \(28, 28, 1\); that is a 2-D image shape"),
    ({"input_shape": (8, 8, 8, 1), "blocks": 4}, r"4 poolings need at least 16 voxels a side, found a volume of \(8, 8, 8\)"),
    ({"num_classes": 1}, "num_classes: expected an integer >= 2, found 1"),
    ({"dropout": 1.0}, r"dropout: expected a value in \[0, 1\), found 1.0"),
])
def test_cnn3d_refuses_bad_arguments(kwargs, message):
    from medimgkit.models import cnn3d

    with pytest.raises(ValueError, match=message):
        cnn3d(**kwargs)


def test_grad_cam_of_cnn3d_is_a_map_per_voxel(rng):
    from medimgkit import explain
    from medimgkit.models import cnn3d

    model = cnn3d((8, 8, 8, 1), width=2, blocks=2)
    volumes = rng.integers(0, 256, (3, 8, 8, 8), dtype=np.uint8)
    maps = explain.grad_cam(model, volumes, class_index=1)  # (N, D, H, W) volumes, channel axis left out
    assert maps.shape == (3, 8, 8, 8) and maps.min() >= 0 and maps.max() <= 1


# --------------------------------------------------------------------------- volumes through fit and predict


@pytest.fixture(scope="module")
def tiny_volumes():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (12, 8, 8, 8), dtype=np.uint8)
    y = np.array([0, 1] * 6)
    return x, y


def _tiny3d():
    from medimgkit.models import cnn3d

    return cnn3d((8, 8, 8, 1), width=2, blocks=1, dropout=0.0)


def test_fit_and_predict_take_volumes_with_or_without_channel(tiny_volumes):
    from medimgkit.train import fit, predict_proba

    x, y = tiny_volumes
    model, history = fit(_tiny3d, (x, y), (x, y), epochs=1, batch_size=4, patience=None)
    assert len(history.history["val_auc"]) == 1
    p4 = predict_proba(model, x)
    assert p4.shape == (12, 2)
    assert np.allclose(p4, predict_proba(model, x[..., None]))
    assert np.allclose(p4, predict_proba(model, x.astype(np.float32) / 255), atol=1e-6)


def test_volumes_for_a_2d_model_are_refused_naming_both_shapes(tiny_volumes):
    from medimgkit.models import improved_cnn
    from medimgkit.train import fit, predict_proba

    x, y = tiny_volumes
    build = lambda: improved_cnn((8, 8, 1), width=2, blocks=1, augment=False)  # noqa: E731
    with pytest.raises(ValueError, match=r"train images: expected images shaped \(N, 8, 8, 1\) for this model's input, "
                                         r"found shape \(N, 8, 8, 8\); these look like volumes \(N, D, H, W\) with "
                                         r"D = 8 read as channels.*orthogonal_slices.*cnn3d"):
        fit(build, (x, y), (x, y), epochs=1, patience=None)
    with pytest.raises(ValueError, match=r"train images: expected \(N, H, W, C\) images = \(N, 8, 8, 1\), this model's "
                                         r"input, found shape \(12, 8, 8, 8, 1\); a 2-D model needs images"):
        fit(build, (x[..., None], y), (x[..., None], y), epochs=1, patience=None)
    with pytest.raises(ValueError, match=r"these look like volumes"):
        predict_proba(build(), x[..., None])


def test_images_for_a_3d_model_are_refused_naming_both_shapes(tiny_volumes):
    from medimgkit.train import fit, predict_proba

    x, y = tiny_volumes
    images = x[:, 4]  # (N, H, W): one slice per case
    with pytest.raises(ValueError, match=r"train images: expected \(N, D, H, W, C\) volumes = \(N, 8, 8, 8, 1\), this "
                                         r"model's input, found shape \(12, 8, 8\); a 3-D model needs volumes"):
        fit(_tiny3d, (images, y), (images, y), epochs=1, patience=None)
    with pytest.raises(ValueError, match=r"images: expected \(N, D, H, W, C\) volumes = \(N, 8, 8, 8, 1\).*"
                                         r"found shape \(12, 8, 8\)"):
        predict_proba(_tiny3d(), images)


def test_a_volume_of_the_wrong_depth_is_refused_naming_the_axis(tiny_volumes):
    from medimgkit.train import fit, predict_proba

    x, y = tiny_volumes
    shallow = x[:, :6]
    with pytest.raises(ValueError, match=r"val images: expected volumes shaped \(N, 8, 8, 8, 1\) for this model's input, "
                                         r"found shape \(N, 6, 8, 8, 1\); wrong depth 6 \(the model takes 8\); resample"):
        fit(_tiny3d, (x, y), (shallow, y), epochs=1, patience=None)
    with pytest.raises(ValueError, match=r"wrong depth 6 \(the model takes 8\)"):
        predict_proba(_tiny3d(), shallow)


def test_a_list_of_volumes_with_one_odd_shape_names_its_index(tiny_volumes):
    from medimgkit.train import predict_proba

    x, _ = tiny_volumes
    volumes = [x[0], x[1], x[2, :7], x[3]]
    with pytest.raises(ValueError, match=r"images\[2\]: expected the shape of images\[0\], \(8, 8, 8\), "
                                         r"found shape \(7, 8, 8\); resize or crop"):
        predict_proba(_tiny3d(), volumes)
    assert predict_proba(_tiny3d(), [x[0], x[1]]).shape == (2, 2)  # a list of equal volumes is a batch


def test_as_dataset_takes_four_axis_volumes_when_told(tiny_volumes):
    x, y = tiny_volumes
    batch, _ = next(iter(data.as_dataset(x, y, batch_size=4, shuffle=False, volumes=True)))
    assert tuple(batch.shape) == (4, 8, 8, 8, 1)
    batch, _ = next(iter(data.as_dataset(x[..., None], y, batch_size=4, shuffle=False)))  # five axes: volumes
    assert tuple(batch.shape) == (4, 8, 8, 8, 1)


def test_plot_volumes_draws_three_planes_and_a_projection(tiny_volumes):
    import matplotlib.pyplot as plt

    from medimgkit import plots

    fig = plots.plot_volumes(tiny_volumes[0][:2], titles=["a", "b"])
    assert len(fig.axes) == 8 and fig.get_size_inches()[0] <= plots.COLUMN_WIDTH
    assert [ax.get_title() for ax in fig.axes[:4]] == ["axial", "coronal", "sagittal", "max. projection (depth)"]
    plt.close(fig)
    with pytest.raises(ValueError, match=r"found shape \(8, 8, 8\); for one volume pass v\[None\]"):
        plots.plot_volumes(tiny_volumes[0][0])
