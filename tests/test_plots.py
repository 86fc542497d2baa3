import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from medimgkit import plots  # noqa: E402


def test_history_plot_has_train_and_val_lines():
    fig = plots.plot_history({"loss": [1, 0.5], "val_loss": [1.1, 0.7], "val_auc": [0.6, 0.8]})
    loss_ax, auc_ax = fig.axes
    assert len(loss_ax.lines) == 2 and len(auc_ax.lines) == 1
    plt.close(fig)


def test_roc_plot_labels_auc(breast):
    y = breast["test"][1]
    score = (y == 0) * 0.5 + np.random.default_rng(0).random(len(y))
    fig = plots.plot_roc({"toy": (y, score)}, positive=0, positive_name="malignant")
    ax = fig.axes[0]
    assert "AUC" in ax.get_legend().get_texts()[0].get_text()
    assert "malignant" in ax.get_ylabel()
    plt.close(fig)


def test_confusion_and_grids(breast):
    fig = plots.plot_confusion(np.array([[5, 1], [2, 7]]), ["malignant", "benign"])
    texts = sorted(t.get_text() for t in fig.axes[0].texts)
    assert texts == ["1", "2", "5", "7"]
    with pytest.raises(ValueError, match="3 class names"):
        plots.plot_confusion(np.eye(2), ["a", "b", "c"])
    x, y = breast["val"]
    fig2 = plots.show_images(x, y, ["malignant", "benign"], n=4, cols=4)
    assert [a.get_title() for a in fig2.axes] == [["malignant", "normal"][0] if v == 0 else "benign" for v in y[:4]]
    fig3 = plots.plot_gradcam(x[:3, ..., None] / 255.0, np.zeros((3, 28, 28)), titles=["a", "b", "c"], cols=3)
    assert len(fig3.axes) == 6
    plt.close("all")


# The book's web column (issue 19): no figure wider than plots.COLUMN_WIDTH; many panels wrap into more rows.
def _width(fig) -> float:
    return float(fig.get_size_inches()[0])


def test_grid_columns_split_a_long_row_into_equal_rows():
    assert plots.grid_columns(16, 8, 1.5) == 4  # 8 -> 4 + 4: a row laid out by class stays one class a row
    assert plots.grid_columns(12, 6, 1.8) == 3
    assert plots.grid_columns(15, 5, 1.5) == 5  # fits: unchanged
    assert plots.grid_columns(2, 8, 1.5) == 2  # never more columns than panels
    assert plots.grid_columns(3, 1, 20.0) == 1  # at least one column
    assert plots.grid_columns(16, 8, 1.5, max_width=12) == 8  # a caller may allow a wider figure


def test_grids_of_many_panels_stay_within_the_column():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (24, 28, 28, 1), dtype=np.uint8)
    y = rng.integers(0, 2, 24)
    fig = plots.show_images(x, y, ["malignant", "benign"], n=24, cols=12)
    assert _width(fig) <= plots.COLUMN_WIDTH and sum(bool(a.images) for a in fig.axes) == 24
    assert [a.get_title() for a in fig.axes if a.images] == [["malignant", "benign"][v] for v in y]
    heat = rng.random((12, 28, 28))
    fig = plots.plot_gradcam(x[:12] / 255.0, heat, titles=[str(i) for i in range(12)], cols=12)
    assert _width(fig) <= plots.COLUMN_WIDTH and sum(len(a.images) for a in fig.axes) == 24
    fig = plots.plot_segmentation(x[:8, ..., 0], x[:8, ..., 0] > 128, cols=8)
    assert _width(fig) <= plots.COLUMN_WIDTH and sum(bool(a.images) for a in fig.axes) == 8
    fig = plots.plot_maps(x[:8, ..., 0], {"Grad-CAM": heat[:8], "attention": heat[:8]}, titles=list("abcdefgh"))
    drawn = [a for a in fig.axes if a.images]
    assert _width(fig) <= plots.COLUMN_WIDTH and len(drawn) == 24
    assert sum(a.get_ylabel() == "Grad-CAM" for a in fig.axes) == 2  # two blocks of rows, each labelled
    fig = plots.plot_history({k: [1, 0.5] for k in ("loss", "auc", "accuracy", "val_loss")}, ("loss", "auc", "accuracy"))
    assert _width(fig) <= plots.COLUMN_WIDTH and len(fig.axes) == 3
    plt.close("all")


def test_figures_drawn_are_at_most_the_column_wide(tmp_path):
    """The PNG as the notebook shows it (bbox_inches="tight", 100 dpi) fits 750 px."""
    from PIL import Image

    rng = np.random.default_rng(1)
    x = rng.integers(0, 255, (16, 28, 28), dtype=np.uint8)
    figs = [plots.show_images(x, np.arange(16) % 2, ["malignant", "benign"], n=16, cols=8),
            plots.plot_gradcam(x[:12, ..., None] / 255.0, rng.random((12, 28, 28)), titles=["malignant"] * 12, cols=6),
            plots.plot_maps(x[:8], {"CNN Grad-CAM": rng.random((8, 28, 28))}, titles=["benign"] * 8),
            plots.plot_history({"loss": [1, 0.5], "val_loss": [1.1, 0.7], "val_auc": [0.6, 0.8]})]  # fmt: skip
    for i, fig in enumerate(figs):
        fig.savefig(tmp_path / f"{i}.png", dpi=100, bbox_inches="tight")
        with Image.open(tmp_path / f"{i}.png") as im:
            assert im.width <= 100 * plots.COLUMN_WIDTH, f"figure {i}: {im.width} px"
    plt.close("all")
