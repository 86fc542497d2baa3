"""L2-regularised logistic regression in NumPy, the linear baseline on fixed features.

Fitted by Newton's method (iteratively reweighted least squares): the loss is
convex, so the answer is unique and does not depend on a seed. Features are
standardised with the training mean and standard deviation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from medimgkit.metrics import roc_auc


@dataclass
class LogisticModel:
    """A fitted logistic regression: ``p(positive | x) = sigmoid(((x - mean) / scale) @ weights + bias)``."""

    weights: np.ndarray  # float64 (D,)
    bias: float
    mean: np.ndarray  # float64 (D,)
    scale: np.ndarray  # float64 (D,)
    positive: int
    l2: float
    iterations: int

    def decision_function(self, features: np.ndarray) -> np.ndarray:
        """The logit of the positive class, float64 ``(N,)``."""
        x = _check_features(features)
        if x.shape[1] != len(self.weights):
            raise ValueError(f"model has {len(self.weights)} features, got {x.shape[1]}")
        return ((x - self.mean) / self.scale) @ self.weights + self.bias

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        """Probability of the positive class, float64 ``(N,)``."""
        return _sigmoid(self.decision_function(features))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # stable for large |z|


def _check_features(features: np.ndarray) -> np.ndarray:
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"features must be a 2-D array (N, D), got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("features contain NaN or infinite values")
    return x


def fit_logistic(
    features: np.ndarray,
    labels: np.ndarray,
    positive: int = 1,
    l2: float = 1.0,
    balance: bool = True,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> LogisticModel:
    """Fit ``sum_i w_i * logloss_i + l2 / 2 * ||weights||^2`` by Newton's method.

    Parameters
    ----------
    features : float array ``(N, D)``
    labels : int array ``(N,)`` with two classes
    positive : int
        The label predicted as class 1 (BreastMNIST: 0 = malignant).
    l2 : float
        Strength of the L2 penalty on the weights (not the bias), ``> 0``;
        scikit-learn's ``C`` is ``1 / l2``.
    balance : bool
        Weight each case by ``n / (2 * count of its class)`` (as
        :func:`medimgkit.data.class_weights`), so both classes count equally.
    max_iter, tol : Newton iterations and the stopping size of a step.

    Returns
    -------
    LogisticModel
    """
    x = _check_features(features)
    y = np.asarray(labels).ravel()
    if len(y) != len(x):
        raise ValueError(f"{len(x)} feature rows but {len(y)} labels")
    classes = np.unique(y)
    if len(classes) != 2 or positive not in classes:
        raise ValueError(f"labels must hold two classes including positive={positive}, got {classes.tolist()}")
    if not l2 > 0:
        raise ValueError(f"l2 must be positive (separable data has no finite optimum without it), got {l2}")
    t = (y == positive).astype(np.float64)
    w_case = np.ones(len(y))
    if balance:
        for c in (0.0, 1.0):
            w_case[t == c] = len(t) / (2.0 * np.sum(t == c))
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])  # last column: bias
    penalty = np.full(z.shape[1], float(l2))
    penalty[-1] = 0.0
    theta = np.zeros(z.shape[1])
    for it in range(1, max_iter + 1):  # noqa: B007  (it counts the iterations, returned below)
        p = _sigmoid(z @ theta)
        grad = z.T @ (w_case * (p - t)) + penalty * theta
        hess = (z * (w_case * p * (1 - p))[:, None]).T @ z + np.diag(penalty)
        step = np.linalg.solve(hess + 1e-12 * np.eye(len(theta)), grad)
        theta -= step
        if np.max(np.abs(step)) < tol:
            break
    return LogisticModel(theta[:-1], float(theta[-1]), mean, scale, int(positive), float(l2), it)


def tune_logistic(
    train: tuple[np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray],
    l2_grid: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0),
    positive: int = 1,
    balance: bool = True,
) -> tuple[LogisticModel, dict[float, float]]:
    """Fit one model per ``l2`` on ``train`` and keep the one with the best validation AUC.

    The test split plays no part. Ties go to the stronger penalty.

    Returns
    -------
    (best model, ``{l2: validation AUC}``)
    """
    if not l2_grid:
        raise ValueError("l2_grid is empty")
    scores: dict[float, float] = {}
    best, best_auc = None, -np.inf
    for l2 in sorted(l2_grid, reverse=True):
        model = fit_logistic(*train, positive=positive, l2=l2, balance=balance)
        auc = roc_auc(val[1], model.predict_proba(val[0]), positive=positive)
        scores[float(l2)] = auc
        if auc > best_auc:
            best, best_auc = model, auc
    if best is None:
        raise ValueError("validation AUC is undefined for every l2 (does the validation split hold both classes?)")
    return best, dict(sorted(scores.items()))
