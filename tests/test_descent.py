"""Least-squares loss surfaces and gradient descent: the exact step-size threshold."""

import numpy as np
import pytest

from medimgkit.scratch.descent import gradient_descent, least_squares, loss_grid, plot_descent


@pytest.fixture()
def problem(breast):
    """Two correlated real features of BreastMNIST images, target = malignant indicator."""
    x, y = breast["train"]
    f = x.reshape(len(x), -1).astype(np.float64) / 255
    feats = np.column_stack([f.mean(1), f[:, 300:500].mean(1)])
    feats = (feats - feats.mean(0)) / feats.std(0)
    target = (y == 0).astype(float)
    return least_squares(feats, target - target.mean())


def test_gradient_matches_finite_differences(problem, rng):
    w = rng.normal(size=2)
    eps = 1e-6
    numeric = [(problem.loss(w + eps * e) - problem.loss(w - eps * e)) / (2 * eps) for e in np.eye(2)]
    assert np.allclose(problem.grad(w), numeric, atol=1e-6)
    assert np.allclose(problem.grad(problem.minimizer), 0, atol=1e-10)


def test_step_size_threshold(problem):
    lr_max = problem.max_stable_lr
    start = np.array([2.0, -2.0])
    good = gradient_descent(problem.grad, start, 0.9 * lr_max, 400)
    bad = gradient_descent(problem.grad, start, 1.1 * lr_max, 400)
    best = problem.loss(problem.minimizer)
    assert problem.loss(good[-1]) - best < 1e-6
    assert problem.loss(bad[-1]) > problem.loss(start)
    assert len(bad) < 401  # stopped early once it blew up


def test_gradient_descent_first_step_and_errors(problem):
    path = gradient_descent(problem.grad, [1.0, 1.0], 0.1, 3)
    assert path.shape == (4, 2)
    assert np.allclose(path[1], path[0] - 0.1 * problem.grad(path[0]))
    with pytest.raises(ValueError, match="learning_rate"):
        gradient_descent(problem.grad, [0.0, 0.0], 0.0, 3)
    with pytest.raises(ValueError, match=r"X must be \(N, d\)"):
        least_squares(np.zeros((3, 2)), np.zeros(4))


def test_loss_grid_and_plot(problem):
    w0, w1, z = loss_grid(problem.loss, (-1, 1), (-2, 2), n=5)
    assert z.shape == (5, 5)
    assert np.isclose(z[0, 0], problem.loss(np.array([-1.0, -2.0])))
    fig = plot_descent(problem.loss, {"lr": gradient_descent(problem.grad, [1.0, 1.0], 0.1, 5)},
                       (-2, 2), (-2, 2), minimum=problem.minimizer)
    assert len(fig.axes[0].lines) == 2
    import matplotlib.pyplot as plt

    plt.close(fig)
