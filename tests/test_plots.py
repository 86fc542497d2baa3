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
