"""Modeling: baselines, gradient descent, neural networks, ensembles and imbalance.

Stage 3 of the course roadmap. The module follows the order in which a
practitioner works:

1. **Data**: :func:`make_preprocessor` and :func:`make_splits` turn a frame of
   the data world into train / validation / test matrices (log-scaled and
   standardised numbers with missing-value indicators, one-hot categories).
2. **Baselines** set the bar: :func:`majority_baseline` (predict the base
   rate), :func:`logistic_baseline`, and :func:`score_against_baseline`, which
   says by how much a model clears that bar. For a continuous target,
   :func:`regression_baseline` (the mean or the median), :func:`linear_regression`
   (least squares, ridge or the outlier-robust Huber loss) and
   :func:`regression_report` (MAE, RMSE and R² per model).
3. **Gradient descent, by hand**: :func:`logistic_loss_and_gradient` and
   :class:`GDLogisticRegression`, a full-batch gradient-descent logistic
   regression with an L2 penalty that reaches the same coefficients as
   :class:`sklearn.linear_model.LogisticRegression`.
4. **Neural networks**: :func:`make_mlp` (a plain ``torch.nn.Sequential``),
   the loss functions :func:`focal_loss` and :func:`make_loss`, the optimizers
   of :func:`make_optimizer`, one epoch of mini-batch training
   (:func:`train_epoch`) and :class:`MLPClassifier`, a scikit-learn-style
   estimator with early stopping, best-weights restore and a training history.
5. **Ensembles**: :func:`gradient_boosting` and :func:`random_forest`
   (scikit-learn), and two hand-written combiners, :class:`SoftVotingClassifier`
   and :class:`StackingClassifier`.
6. **Imbalance and business cost**: :func:`class_weights`, :func:`resample`,
   :func:`bayes_threshold`, :func:`business_cost` and :func:`compare_models`,
   which ranks models by what their decisions cost.
7. :func:`train_course_model`: the course's fraud MLP, trained in seconds, for
   the later stages (calibration, inference and quantization).

Conventions
-----------
* ``X`` is a 2-D array of shape ``(n_samples, n_features)`` of finite numbers
  (a preprocessed matrix); ``y`` a 1-D array of binary labels 0/1 (fraud = 1).
* ``predict_proba`` returns shape ``(n_samples, 2)``: columns P(0), P(1).
* Everything random takes a ``seed`` (or ``random_state`` for scikit-learn
  models): the same seed gives identical predictions.
* Bad arguments raise ``ValueError`` naming the argument and what was expected.
"""

from __future__ import annotations

import contextlib
import copy
import math
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
import torch.nn.functional as F
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted
from torch import nn

from mlcourse import evaluation as ev
from mlcourse._checks import (
    binary_labels,
    fraction,
    integer_at_least,
    one_of,
    positive_number,
    require_target,
    same_length,
)

if TYPE_CHECKING:  # pragma: no cover - imported only for type hints
    from matplotlib.axes import Axes
    from sklearn.compose import ColumnTransformer

    from mlcourse.world import World

__all__ = [
    "SKEWED_COLUMNS",
    "LOSSES",
    "OPTIMIZERS",
    "make_preprocessor",
    "FeatureSplits",
    "make_splits",
    "majority_baseline",
    "logistic_baseline",
    "BaselineScore",
    "score_against_baseline",
    "regression_baseline",
    "linear_regression",
    "regression_report",
    "sigmoid",
    "logistic_loss_and_gradient",
    "GDLogisticRegression",
    "class_weights",
    "focal_loss",
    "make_loss",
    "make_optimizer",
    "make_mlp",
    "train_epoch",
    "evaluate_loss",
    "MLPClassifier",
    "gradient_boosting",
    "random_forest",
    "SoftVotingClassifier",
    "StackingClassifier",
    "resample",
    "bayes_threshold",
    "business_cost",
    "compare_models",
    "CourseModel",
    "train_course_model",
    "plot_history",
    "plot_loss_curves",
]

#: Right-skewed, non-negative columns of the data world that :func:`make_preprocessor`
#: puts on a log scale (``log1p``) before standardising.
SKEWED_COLUMNS: tuple[str, ...] = ("amount", "distance_km", "account_age_days", "tx_count_24h")

#: Loss functions :class:`MLPClassifier` accepts (see :func:`make_loss`).
LOSSES: tuple[str, ...] = ("cross_entropy", "weighted", "focal")

#: Optimizers :class:`MLPClassifier` accepts (see :func:`make_optimizer`).
OPTIMIZERS: tuple[str, ...] = ("sgd", "momentum", "adam", "adamw")

_SPLITS = ("random", "time")


# ---------------------------------------------------------------------------
# Input validation
# ---------------------------------------------------------------------------


def _as_matrix(X: Any, name: str = "X") -> np.ndarray:
    """``X`` as a 2-D float64 array of finite numbers, or a clear error."""
    if sp.issparse(X):
        raise ValueError(f"{name} is a sparse matrix; sparse input is not supported, pass a dense array")
    arr = np.asarray(X)
    if arr.dtype.kind == "c":
        raise ValueError(f"{name} has complex values: Complex data not supported")
    try:
        arr = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a numeric 2-D array (preprocess categories first, e.g. with "
            "make_preprocessor), got non-numeric values"
        ) from None
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be 2-dimensional (n_samples, n_features), got shape {arr.shape}; Reshape your data: "
            "X.reshape(-1, 1) for a single feature, X.reshape(1, -1) for a single example"
        )
    if arr.shape[0] == 0:
        raise ValueError(f"{name} has no rows (shape={arr.shape}); at least one example is required")
    if arr.shape[1] == 0:
        raise ValueError(f"{name} has 0 feature(s) (shape={arr.shape}) while a minimum of 1 is required.")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinite values; impute them first (make_preprocessor does)")
    return arr


def _check_costs(cost_fp: Any, cost_fn: Any) -> tuple[float, float]:
    return positive_number(cost_fp, "cost_fp"), positive_number(cost_fn, "cost_fn")


def _positive_scores(model: Any, X: Any) -> np.ndarray:
    """P(class 1) from a fitted model with ``predict_proba`` (or a callable returning it)."""
    proba = model.predict_proba(X) if hasattr(model, "predict_proba") else model(X)
    proba = np.asarray(proba, dtype=np.float64)
    return proba[:, 1] if proba.ndim == 2 else proba


# ---------------------------------------------------------------------------
# 1. Data: a feature matrix from the data world
# ---------------------------------------------------------------------------


def _signed_log1p(x: np.ndarray) -> np.ndarray:
    """``sign(x) * log(1 + |x|)``: log1p for non-negative values, defined everywhere."""
    x = np.asarray(x, dtype=np.float64)
    return np.sign(x) * np.log1p(np.abs(x))


def _to_float(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def make_preprocessor(
    frame: pd.DataFrame,
    *,
    log_columns: Sequence[str] | None = None,
) -> ColumnTransformer:
    """An unfitted ``ColumnTransformer`` that turns ``frame``'s columns into numbers.

    * numeric and boolean columns: to float, ``log_columns`` through
      ``sign(x) * log1p(|x|)`` (tames right skew), median imputation with a
      missing-value indicator per column that has gaps, standardisation
      (mean 0, sd 1) -- gradient descent and neural networks train badly on
      unscaled inputs;
    * other columns (category, string, object): missing values become the
      category ``"missing"``, then one-hot encoding; categories unseen in
      training encode as all zeros.

    Parameters
    ----------
    frame : DataFrame
        The model's input columns only (no target, no ids); used to sort the
        columns into numeric and categorical, not fitted here.
    log_columns : sequence of str, optional
        Numeric columns to log-scale; default: those of :data:`SKEWED_COLUMNS`
        present in ``frame``.

    Returns
    -------
    sklearn.compose.ColumnTransformer
        Unfitted; ``fit_transform`` gives a dense float64 matrix, and
        ``get_feature_names_out()`` names its columns.

    Examples
    --------
    >>> frame = pd.DataFrame({"amount": [10.0, 250.0, np.nan], "device": ["pos", "mobile", None]})
    >>> pre = make_preprocessor(frame)
    >>> pre.fit_transform(frame).shape        # amount, its missing flag, 3 device columns
    (3, 5)
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    if frame.shape[1] == 0:
        raise ValueError("frame has no columns")
    numeric = [
        c for c in frame.columns
        if pd.api.types.is_bool_dtype(frame[c]) or pd.api.types.is_numeric_dtype(frame[c])
    ]
    categorical = [c for c in frame.columns if c not in numeric]
    if log_columns is None:
        logged = [c for c in numeric if c in SKEWED_COLUMNS]
    else:
        logged = list(log_columns)
        wrong = [c for c in logged if c not in numeric]
        if wrong:
            raise ValueError(f"log_columns must name numeric columns of frame, got {wrong}")
    plain = [c for c in numeric if c not in logged]

    def numeric_branch(log: bool) -> Any:
        steps = [FunctionTransformer(_to_float, feature_names_out="one-to-one")]
        if log:
            steps.append(FunctionTransformer(_signed_log1p, feature_names_out="one-to-one"))
        steps += [SimpleImputer(strategy="median", add_indicator=True), StandardScaler()]
        return make_pipeline(*steps)

    transformers = []
    if logged:
        transformers.append(("log", numeric_branch(True), logged))
    if plain:
        transformers.append(("num", numeric_branch(False), plain))
    if categorical:
        transformers.append((
            "cat",
            make_pipeline(
                FunctionTransformer(_as_object_with_missing, feature_names_out="one-to-one"),
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
            ),
            categorical,
        ))
    return ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=False)


def _as_object_with_missing(x: Any) -> np.ndarray:
    """Categories as an object array with missing values spelled ``"missing"``."""
    frame = pd.DataFrame(x)
    return frame.astype(object).where(frame.notna(), "missing").to_numpy()


class FeatureSplits(NamedTuple):
    """Train / validation / test matrices made by :func:`make_splits`.

    ``X_*`` are float64 arrays of shape ``(n_rows, n_features)``; ``y_*`` int64
    0/1 arrays; ``frames`` holds the matching rows of the input frame (all
    columns, e.g. for slicing by group or amount) under ``"train"``,
    ``"valid"`` and ``"test"``; ``preprocessor`` is fitted on the training
    rows only.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_valid: np.ndarray
    y_valid: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    feature_names: list[str]
    preprocessor: Any
    frames: dict[str, pd.DataFrame]


def make_splits(
    data: World | pd.DataFrame,
    *,
    features: Sequence[str] | None = None,
    target: str = "is_fraud",
    valid_size: float = 0.2,
    test_size: float = 0.2,
    split: str = "random",
    seed: int = 0,
) -> FeatureSplits:
    """Split a world's transactions into train / validation / test feature matrices.

    Parameters
    ----------
    data : World or DataFrame
        A :class:`~mlcourse.world.World` (its ``transactions`` are used) or a
        frame of transactions.
    features : sequence of str, optional
        Input columns; default: ``world.feature_columns`` for a World, else
        every column except ``target``.
    target : str, default="is_fraud"
        ``"is_fraud"`` (ground truth) or ``"label"`` (what the platform
        observes; rows without a label are dropped first), or any 0/1 column.
    valid_size, test_size : float in (0, 1)
        Shares of the rows for validation and test; the rest trains.
    split : {"random", "time"}
        ``"random"``: stratified by the target (same fraud rate in each part).
        ``"time"``: by ``timestamp`` -- train on the past, validate on the
        next period, test on the latest (honest under drift).
    seed : int
        Seed of the random split.

    Returns
    -------
    FeatureSplits
        The preprocessor (see :func:`make_preprocessor`) is fitted on the
        training rows only, so no statistic leaks from validation or test.

    Examples
    --------
    >>> from mlcourse.world import make_world
    >>> data = make_splits(make_world(seed=0, n_transactions=5_000), seed=0)
    >>> data.X_train.shape[0], data.X_valid.shape[0], data.X_test.shape[0]
    (3000, 1000, 1000)
    """
    from sklearn.model_selection import train_test_split

    if hasattr(data, "transactions") and hasattr(data, "feature_columns"):
        frame = data.transactions
        features = list(data.feature_columns) if features is None else list(features)
    elif isinstance(data, pd.DataFrame):
        frame = data
        features = [c for c in frame.columns if c != target] if features is None else list(features)
    else:
        raise ValueError(f"data must be a World or a pandas DataFrame, got {type(data).__name__}")
    if target not in frame.columns:
        raise ValueError(f"target {target!r} is not a column of the data")
    missing = [c for c in features if c not in frame.columns]
    if missing:
        raise ValueError(f"features {missing} are not columns of the data")
    if target in features:
        raise ValueError(f"features must not contain the target {target!r}")
    valid_size = fraction(valid_size, "valid_size")
    test_size = fraction(test_size, "test_size")
    if valid_size + test_size >= 1.0:
        raise ValueError(f"valid_size + test_size must be < 1 to leave training rows, got {valid_size + test_size}")
    one_of(split, "split", _SPLITS)

    frame = frame[frame[target].notna()]
    y_all = binary_labels(frame[target].to_numpy(), target, both_classes=True)
    positions = np.arange(len(frame))
    if split == "random":
        rest, test = train_test_split(positions, test_size=test_size, stratify=y_all, random_state=seed)
        train, valid = train_test_split(
            rest, test_size=valid_size / (1.0 - test_size), stratify=y_all[rest], random_state=seed
        )
    else:
        if "timestamp" not in frame.columns:
            raise ValueError("split='time' needs a 'timestamp' column")
        order = np.argsort(frame["timestamp"].to_numpy(), kind="stable")
        n_test = int(round(test_size * len(frame)))
        n_valid = int(round(valid_size * len(frame)))
        n_train = len(frame) - n_valid - n_test
        train, valid, test = order[:n_train], order[n_train : n_train + n_valid], order[n_train + n_valid :]

    parts = {"train": frame.iloc[train], "valid": frame.iloc[valid], "test": frame.iloc[test]}
    pre = make_preprocessor(frame[features])
    X_train = pre.fit_transform(parts["train"][features])
    return FeatureSplits(
        X_train=np.asarray(X_train, dtype=np.float64),
        y_train=y_all[train],
        X_valid=np.asarray(pre.transform(parts["valid"][features]), dtype=np.float64),
        y_valid=y_all[valid],
        X_test=np.asarray(pre.transform(parts["test"][features]), dtype=np.float64),
        y_test=y_all[test],
        feature_names=[str(n) for n in pre.get_feature_names_out()],
        preprocessor=pre,
        frames=parts,
    )


# ---------------------------------------------------------------------------
# 2. Baselines
# ---------------------------------------------------------------------------


def majority_baseline() -> Any:
    """The simplest model: predict the training base rate for every example.

    ``predict`` returns the majority class (0 on fraud data: "never fraud"),
    ``predict_proba`` the class frequencies seen in ``fit``. Any model worth
    its cost must beat it -- on a metric that matters (not accuracy).

    Returns
    -------
    sklearn.dummy.DummyClassifier
        Unfitted, ``strategy="prior"``.

    Examples
    --------
    >>> m = majority_baseline().fit(np.zeros((4, 1)), [0, 0, 0, 1])
    >>> m.predict_proba(np.zeros((1, 1))).tolist(), m.predict(np.zeros((1, 1))).tolist()
    ([[0.75, 0.25]], [0])
    """
    from sklearn.dummy import DummyClassifier

    return DummyClassifier(strategy="prior")


def logistic_baseline(C: float = 1.0, *, class_weight: Any = None, max_iter: int = 1_000) -> Any:
    """A linear baseline: L2-regularised logistic regression (scikit-learn, lbfgs).

    Fast, stable, interpretable (one coefficient per feature, on standardised
    inputs comparable in size), well calibrated when unweighted -- but it
    cannot model interactions or non-monotone effects (``hour`` near midnight)
    unless the features spell them out.

    Parameters
    ----------
    C : float > 0
        Inverse regularisation strength (smaller = simpler model).
    class_weight : None, "balanced" or dict
        As in scikit-learn.

    Returns
    -------
    sklearn.linear_model.LogisticRegression
        Unfitted.
    """
    from sklearn.linear_model import LogisticRegression

    C = positive_number(C, "C")
    return LogisticRegression(C=C, class_weight=class_weight, max_iter=integer_at_least(max_iter, "max_iter", 1))


class BaselineScore(NamedTuple):
    """How a model compares with a baseline on one metric (see :func:`score_against_baseline`)."""

    metric: str
    model: float
    baseline: float
    improvement: float  #: > 0 means the model is better (for costs and losses: baseline - model)
    beats: bool


_HIGHER_IS_BETTER = {"roc_auc": True, "average_precision": True, "log_loss": False, "brier": False, "cost": False}


def _log_loss(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, 1e-15, 1 - 1e-15)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


def _metric(name: str, y: np.ndarray, p: np.ndarray, cost_fp: float | None, cost_fn: float | None) -> float:
    if name == "roc_auc":
        return ev.roc_auc(y, p)
    if name == "average_precision":
        return ev.average_precision(y, p)
    if name == "log_loss":
        return _log_loss(y, p)
    if name == "brier":
        return float(np.mean((p - y) ** 2))
    return ev.expected_cost(y, p, bayes_threshold(cost_fp, cost_fn), cost_fp=cost_fp, cost_fn=cost_fn)


def score_against_baseline(
    model: Any,
    baseline: Any,
    X: ArrayLike,
    y: ArrayLike,
    *,
    metric: str = "average_precision",
    cost_fp: float | None = None,
    cost_fn: float | None = None,
    min_improvement: float = 0.0,
) -> BaselineScore:
    """Does ``model`` clear the bar that ``baseline`` sets, on held-out ``(X, y)``?

    Parameters
    ----------
    model, baseline : fitted estimators with ``predict_proba``
        (or callables returning P(class 1) or an ``(n, 2)`` probability array).
    X : array-like of shape (n_samples, n_features)
        Held-out inputs (validation or test, never training data).
    y : array-like of shape (n_samples,)
        0/1 labels.
    metric : {"average_precision", "roc_auc", "log_loss", "brier", "cost"}
        ``"cost"``: expected cost per example at the Bayes threshold
        ``cost_fp / (cost_fp + cost_fn)`` (needs both costs).
    min_improvement : float >= 0
        The margin the model must beat the baseline by (in the metric's units).

    Returns
    -------
    BaselineScore
        ``improvement`` is signed so that positive means better, whatever
        the metric's direction; ``beats`` is ``improvement > min_improvement``.
    """
    one_of(metric, "metric", tuple(_HIGHER_IS_BETTER))
    if metric == "cost":
        if cost_fp is None or cost_fn is None:
            raise ValueError("metric='cost' needs cost_fp and cost_fn")
        cost_fp, cost_fn = _check_costs(cost_fp, cost_fn)
    y_arr = binary_labels(y, "y")
    min_improvement = positive_number(min_improvement, "min_improvement", allow_zero=True)
    p_model, p_base = _positive_scores(model, X), _positive_scores(baseline, X)
    for p, name in ((p_model, "model"), (p_base, "baseline")):
        if p.shape != y_arr.shape:
            raise ValueError(f"{name} returned {p.shape[0]} scores for {y_arr.shape[0]} labels")
    m = _metric(metric, y_arr, p_model, cost_fp, cost_fn)
    b = _metric(metric, y_arr, p_base, cost_fp, cost_fn)
    improvement = (m - b) if _HIGHER_IS_BETTER[metric] else (b - m)
    return BaselineScore(metric, m, b, improvement, bool(improvement > min_improvement))


def regression_baseline(strategy: str = "median") -> Any:
    """The simplest regressor: predict one number, the training target's mean or median, for every row.

    The mean minimises the squared error of a constant prediction and the
    median its absolute error; on a right-skewed target with outliers (payment
    amounts) the two differ a lot, and the median is the bar for MAE.

    Parameters
    ----------
    strategy : {"mean", "median"}

    Returns
    -------
    sklearn.dummy.DummyRegressor
        Unfitted.

    Examples
    --------
    >>> m = regression_baseline("median").fit(np.zeros((4, 1)), [1.0, 2.0, 3.0, 100.0])
    >>> m.predict(np.zeros((2, 1))).tolist()
    [2.5, 2.5]
    """
    from sklearn.dummy import DummyRegressor

    return DummyRegressor(strategy=one_of(strategy, "strategy", ("mean", "median")))


def linear_regression(*, loss: str = "squared", alpha: float = 0.0, epsilon: float = 1.35, max_iter: int = 1_000) -> Any:
    """A linear regression baseline: ``y ~ X @ w + b``, fitted with the loss you choose.

    * ``loss="squared"``: ordinary least squares (``alpha=0``) or ridge
      regression (``alpha > 0``, an L2 penalty ``alpha * ||w||^2`` on the
      weights, not the intercept). The squared loss grows with the square of
      an error, so a few outliers in ``y`` can pull the whole fit.
    * ``loss="huber"``: the Huber loss, squared for errors below ``epsilon``
      robust scales and linear above: outliers weigh like large ordinary errors,
      not like their squares. ``alpha`` is its L2 penalty.

    Parameters
    ----------
    loss : {"squared", "huber"}
    alpha : float >= 0
    epsilon : float > 1
        Huber's threshold, in robust standard deviations (1.35: 95% efficient on normal errors).
    max_iter : int >= 1
        Huber's L-BFGS iterations.

    Returns
    -------
    sklearn.linear_model.LinearRegression, Ridge or HuberRegressor
        Unfitted.
    """
    from sklearn.linear_model import HuberRegressor, LinearRegression, Ridge

    one_of(loss, "loss", ("squared", "huber"))
    alpha = positive_number(alpha, "alpha", allow_zero=True)
    max_iter = integer_at_least(max_iter, "max_iter", 1)
    if loss == "huber":
        epsilon = positive_number(epsilon, "epsilon")
        if epsilon <= 1.0:
            raise ValueError(f"epsilon must be > 1, got {epsilon}")
        return HuberRegressor(epsilon=epsilon, alpha=alpha, max_iter=max_iter)
    return Ridge(alpha=alpha) if alpha > 0 else LinearRegression()


def regression_report(models: Mapping[str, Any], X: ArrayLike, y: ArrayLike) -> pd.DataFrame:
    """Score fitted regressors on held-out ``(X, y)``: one row per model.

    Parameters
    ----------
    models : mapping name -> fitted model with ``predict`` (or a callable ``model(X)``)
    X : inputs the models accept, ``n`` rows
    y : array of shape (n,), the true target, in its units (e.g. euros)

    Returns
    -------
    DataFrame with columns ``mae`` and ``rmse`` (units of ``y``) and ``r2``
    (1 is perfect, 0 is the mean of ``y`` itself, negative is worse), in the
    order of ``models``.
    """
    if not isinstance(models, Mapping) or not models:
        raise ValueError("models must be a non-empty mapping name -> fitted regressor")
    rows = {}
    for name, model in models.items():
        pred = np.asarray(model.predict(X) if hasattr(model, "predict") else model(X), dtype=np.float64)
        rows[name] = {"mae": ev.mean_absolute_error(y, pred),
                      "rmse": math.sqrt(ev.mean_squared_error(y, pred)),
                      "r2": ev.r2_score(y, pred)}
    return pd.DataFrame.from_dict(rows, orient="index")


# ---------------------------------------------------------------------------
# 3. Logistic regression by gradient descent
# ---------------------------------------------------------------------------


def sigmoid(z: ArrayLike) -> np.ndarray:
    """The logistic function ``1 / (1 + exp(-z))``, computed without overflow.

    >>> sigmoid([0.0, 1000.0, -1000.0]).tolist()
    [0.5, 1.0, 0.0]
    """
    z = np.asarray(z, dtype=np.float64)
    # exp of a non-positive number never overflows: pick the form by sign.
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def logistic_loss_and_gradient(
    w: ArrayLike, b: float, X: ArrayLike, y: ArrayLike, *, C: float | None = 1.0
) -> tuple[float, np.ndarray, float]:
    """Regularised logistic loss and its gradient.

    .. math::

        J(w, b) = \\frac{1}{n}\\sum_i \\big[\\log(1 + e^{z_i}) - y_i z_i\\big]
                  + \\frac{1}{2Cn}\\lVert w\\rVert^2, \\qquad z_i = x_i \\cdot w + b

    the mean log-loss plus an L2 penalty on the weights (not the intercept).
    It is scikit-learn's objective ``C * sum(log-loss) + ||w||^2 / 2`` divided
    by ``C n``, so both have the same minimiser. Gradients:
    ``dJ/dw = X^T (sigmoid(z) - y) / n + w / (C n)``,
    ``dJ/db = mean(sigmoid(z) - y)``.

    Parameters
    ----------
    w : array of shape (n_features,)
    b : float
    X : array of shape (n_samples, n_features)
    y : array of shape (n_samples,), 0/1
    C : float > 0 or None
        Inverse regularisation strength; None means no penalty.

    Returns
    -------
    (loss, grad_w, grad_b) : (float, ndarray of shape (n_features,), float)

    Examples
    --------
    >>> loss, gw, gb = logistic_loss_and_gradient(np.zeros(1), 0.0, [[1.0], [-1.0]], [1, 0])
    >>> round(loss, 4), gw.tolist(), gb
    (0.6931, [-0.5], 0.0)
    """
    X = _as_matrix(X)
    y = binary_labels(y, "y").astype(np.float64)
    same_length((X, "X"), (y, "y"))
    w = np.asarray(w, dtype=np.float64)
    if w.shape != (X.shape[1],):
        raise ValueError(f"w must have shape ({X.shape[1]},) to match X, got {w.shape}")
    n = X.shape[0]
    z = X @ w + float(b)
    # log(1 + e^z) computed stably as logaddexp(0, z).
    loss = float(np.mean(np.logaddexp(0.0, z) - y * z))
    residual = sigmoid(z) - y
    grad_w = X.T @ residual / n
    if C is not None:
        C = positive_number(C, "C")
        loss += float(w @ w) / (2.0 * C * n)
        grad_w = grad_w + w / (C * n)
    return loss, grad_w, float(residual.mean())


class GDLogisticRegression(ClassifierMixin, BaseEstimator):
    """Binary logistic regression fitted by full-batch gradient descent.

    Each iteration moves the parameters one step against the gradient of
    :func:`logistic_loss_and_gradient`, over the *whole* training set:
    ``w <- w - learning_rate * dJ/dw``. The objective is convex, so with a
    small enough step it converges to the same optimum as scikit-learn's
    ``LogisticRegression(C=C)`` (``C=np.inf`` there for ``penalty=None``).

    Parameters
    ----------
    C : float > 0, default=1.0
        Inverse L2 strength, as in scikit-learn.
    penalty : {"l2", None}, default="l2"
    learning_rate : float > 0 or "auto", default="auto"
        ``"auto"`` uses ``1 / L``, where ``L = sigma_max([X, 1])^2 / (4 n) + 1 / (C n)``
        bounds the curvature of J: the largest step that is guaranteed to
        decrease the loss. Larger steps can oscillate or diverge; smaller
        ones crawl.
    max_iter : int, default=10_000
    tol : float, default=1e-7
        Stop when every entry of the gradient is below ``tol`` in absolute value.
    fit_intercept : bool, default=True

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features)
    intercept_ : ndarray of shape (1,)
    loss_history_ : list of float
        J at the start of each iteration (plot it to see convergence).
    n_iter_ : int
    converged_ : bool
    learning_rate_ : float
        The step actually used.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2)); y = (X[:, 0] + rng.normal(size=200) > 0).astype(int)
    >>> m = GDLogisticRegression(C=1.0).fit(X, y)
    >>> m.converged_, m.coef_.shape
    (True, (1, 2))
    """

    def __init__(
        self,
        C: float = 1.0,
        penalty: str | None = "l2",
        learning_rate: float | str = "auto",
        max_iter: int = 10_000,
        tol: float = 1e-7,
        fit_intercept: bool = True,
    ) -> None:
        self.C = C
        self.penalty = penalty
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.fit_intercept = fit_intercept

    def fit(self, X: ArrayLike, y: ArrayLike) -> GDLogisticRegression:
        """Run gradient descent from zero weights. Returns ``self``."""
        require_target(self, y)
        if self.penalty not in ("l2", None):
            raise ValueError(f"penalty must be 'l2' or None, got {self.penalty!r}")
        C = positive_number(self.C, "C") if self.penalty == "l2" else None
        max_iter = integer_at_least(self.max_iter, "max_iter", 1)
        tol = positive_number(self.tol, "tol")
        X = _as_matrix(X)
        y = binary_labels(y, "y", both_classes=True)
        same_length((X, "X"), (y, "y"))
        n, d = X.shape
        if isinstance(self.learning_rate, str):
            one_of(self.learning_rate, "learning_rate", ("auto",))
            design = np.column_stack([X, np.ones(n)]) if self.fit_intercept else X
            curvature = np.linalg.norm(design, 2) ** 2 / (4.0 * n) + (1.0 / (C * n) if C else 0.0)
            lr = 1.0 / curvature
        else:
            lr = positive_number(self.learning_rate, "learning_rate")

        w, b = np.zeros(d), 0.0
        history: list[float] = []
        converged = False
        for _ in range(max_iter):
            loss, grad_w, grad_b = logistic_loss_and_gradient(w, b, X, y, C=C)
            history.append(loss)
            if not np.isfinite(loss):
                break  # diverged: the step is far too large
            if max(np.abs(grad_w).max(), abs(grad_b) if self.fit_intercept else 0.0) < tol:
                converged = True
                break
            w = w - lr * grad_w
            if self.fit_intercept:
                b = b - lr * grad_b
        if not converged:
            warnings.warn(
                f"gradient descent did not converge in {max_iter} iterations (learning_rate={lr:.3g}); "
                "raise max_iter or check the learning rate",
                ConvergenceWarning,
                stacklevel=2,
            )
        self.coef_ = w.reshape(1, -1)
        self.intercept_ = np.array([b])
        self.loss_history_ = history
        self.n_iter_ = len(history)
        self.converged_ = converged
        self.learning_rate_ = lr
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = d
        return self

    def decision_function(self, X: ArrayLike) -> np.ndarray:
        """The logit ``X @ coef_ + intercept_``, shape (n_samples,)."""
        check_is_fitted(self, "coef_")
        X = _as_matrix(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting {self.n_features_in_} features as input"
            )
        return X @ self.coef_[0] + self.intercept_[0]

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Shape (n_samples, 2): P(y=0), P(y=1)."""
        p = sigmoid(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: ArrayLike, threshold: float = 0.5) -> np.ndarray:
        """0/1 decisions: 1 where P(y=1) >= threshold."""
        return (self.predict_proba(X)[:, 1] >= threshold).astype(np.int64)

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False  # binary 0/1 labels only
        return tags


# ---------------------------------------------------------------------------
# 4. Neural networks: losses, optimizers, the network, the training loop
# ---------------------------------------------------------------------------


def class_weights(y: ArrayLike) -> np.ndarray:
    """Balanced class weights ``n / (2 * count(class))`` for classes 0 and 1.

    Each class then carries the same total weight: on 2% fraud, a fraud
    example weighs about 25 and a legit one about 0.51. Same as scikit-learn's
    ``compute_class_weight("balanced", ...)``.

    Returns
    -------
    ndarray of shape (2,)

    >>> class_weights([0, 0, 0, 1]).tolist()
    [0.6666666666666666, 2.0]
    """
    y = binary_labels(y, "y", both_classes=True)
    counts = np.bincount(y, minlength=2)
    return y.size / (2.0 * counts)


def _check_logits_target(logits: torch.Tensor, target: torch.Tensor) -> None:
    if not isinstance(logits, torch.Tensor) or logits.ndim != 2:
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise ValueError(f"logits must be a 2-D tensor (n_samples, n_classes), got {shape}")
    if not isinstance(target, torch.Tensor) or target.ndim != 1 or target.shape[0] != logits.shape[0]:
        shape = tuple(target.shape) if isinstance(target, torch.Tensor) else type(target).__name__
        raise ValueError(f"target must be a 1-D tensor with one class index per row of logits, got {shape}")


def focal_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    gamma: float = 2.0,
    weight: torch.Tensor | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    """Focal loss (Lin et al., 2017): cross-entropy that down-weights easy examples.

    For an example of true class ``t`` with predicted probability ``p_t``
    (softmax of its logits),

    .. math:: \\mathrm{FL} = -\\,\\alpha_t\\,(1 - p_t)^{\\gamma}\\,\\log p_t .

    An example the model already gets right with ``p_t = 0.99`` has its loss
    multiplied by ``0.01^gamma``; a hard one (``p_t = 0.1``) keeps most of it.
    On imbalanced data the many easy negatives then stop dominating the
    gradient. ``gamma = 0`` is the ordinary cross-entropy.

    Parameters
    ----------
    logits : Tensor of shape (n_samples, n_classes)
        Raw network outputs (before softmax).
    target : Tensor of shape (n_samples,), int64
        Class indices.
    gamma : float >= 0
        Focusing strength.
    weight : Tensor of shape (n_classes,), optional
        Class weights ``alpha``; with ``reduction="mean"`` the weighted sum is
        divided by the sum of the weights of the examples, exactly as
        ``torch.nn.functional.cross_entropy(weight=...)`` does.
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    Tensor
        A scalar, or shape (n_samples,) with ``reduction="none"``.

    Examples
    --------
    >>> logits, target = torch.tensor([[2.0, -1.0], [0.0, 0.5]]), torch.tensor([0, 1])
    >>> bool(torch.isclose(focal_loss(logits, target, gamma=0.0), F.cross_entropy(logits, target)))
    True
    """
    _check_logits_target(logits, target)
    gamma = positive_number(gamma, "gamma", allow_zero=True)
    one_of(reduction, "reduction", ("mean", "sum", "none"))
    log_p = F.log_softmax(logits, dim=1).gather(1, target.long().unsqueeze(1)).squeeze(1)
    p = log_p.exp()
    # (1 - p)^0 == 1 even where p == 1, so gamma = 0 is exactly cross-entropy.
    loss = -((1.0 - p) ** gamma) * log_p if gamma > 0 else -log_p
    if weight is not None:
        if not isinstance(weight, torch.Tensor) or weight.shape != (logits.shape[1],):
            raise ValueError(f"weight must be a tensor of shape ({logits.shape[1]},), one per class")
        w = weight.to(loss.dtype)[target.long()]
        loss = w * loss
        if reduction == "mean":
            return loss.sum() / w.sum()
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def make_loss(
    name: str, *, y: ArrayLike | None = None, class_weight: Any = None, gamma: float = 2.0
) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """A loss function ``loss(logits, target) -> scalar`` by name.

    Parameters
    ----------
    name : {"cross_entropy", "weighted", "focal"}
        ``"cross_entropy"``: plain (log-)loss; the model estimates P(fraud).
        ``"weighted"``: class-weighted cross-entropy; each class's errors cost
        in proportion to its weight, so the rare class is not ignored (the
        predicted probabilities are then inflated for the rare class: choose
        the threshold on validation data). ``"focal"``: :func:`focal_loss`.
    y : array-like of 0/1, optional
        Training labels, needed for ``class_weight="balanced"``.
    class_weight : None, "balanced", dict {0: w0, 1: w1} or array of 2 weights
        For ``"weighted"`` (where None means ``"balanced"``) and ``"focal"``
        (where None means unweighted); ignored by ``"cross_entropy"``.
    gamma : float >= 0
        Focal strength (``"focal"`` only).

    Returns
    -------
    callable
        ``(logits of shape (n, 2), int64 target of shape (n,)) -> scalar Tensor``.
    """
    one_of(name, "loss", LOSSES)
    gamma = positive_number(gamma, "gamma", allow_zero=True)
    if name == "cross_entropy":
        return lambda logits, target: F.cross_entropy(logits, target)
    if class_weight is None and name == "weighted":
        class_weight = "balanced"
    weight = None if class_weight is None else torch.as_tensor(_resolve_class_weight(class_weight, y), dtype=torch.float32)
    if name == "weighted":
        return lambda logits, target: F.cross_entropy(logits, target, weight=weight)
    return lambda logits, target: focal_loss(logits, target, gamma=gamma, weight=weight)


def _resolve_class_weight(class_weight: Any, y: ArrayLike | None) -> np.ndarray:
    if isinstance(class_weight, str):
        one_of(class_weight, "class_weight", ("balanced",))
        if y is None:
            raise ValueError("class_weight='balanced' needs the training labels y")
        return class_weights(y)
    if isinstance(class_weight, Mapping):
        if set(class_weight) != {0, 1}:
            raise ValueError(f"class_weight must map both classes 0 and 1 to weights, got keys {sorted(class_weight)}")
        values = np.array([class_weight[0], class_weight[1]], dtype=np.float64)
    else:
        values = np.asarray(class_weight, dtype=np.float64)
    if values.shape != (2,) or not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ValueError(f"class_weight must give two positive weights (classes 0 and 1), got {class_weight!r}")
    return values


def make_optimizer(
    name: str,
    parameters: Any,
    *,
    learning_rate: float = 1e-3,
    weight_decay: float = 0.0,
    momentum: float = 0.9,
) -> torch.optim.Optimizer:
    """A torch optimizer by name.

    * ``"sgd"``: plain stochastic gradient descent, ``w -= lr * g``. Simple; needs a
      well-tuned (larger) learning rate, slow on badly scaled problems.
    * ``"momentum"``: SGD with heavy-ball momentum (``momentum``): a running
      average of gradients damps zig-zags and speeds up along consistent
      directions.
    * ``"adam"``: per-parameter step sizes from running moments of the gradient;
      robust default, works with ``lr ~ 1e-3``. ``weight_decay`` is added to the
      gradient (L2 penalty).
    * ``"adamw"``: Adam with *decoupled* weight decay (shrinks the weights
      directly), the better-behaved way to regularise with Adam.

    Returns
    -------
    torch.optim.Optimizer
    """
    one_of(name, "optimizer", OPTIMIZERS)
    lr = positive_number(learning_rate, "learning_rate")
    wd = positive_number(weight_decay, "weight_decay", allow_zero=True)
    params = list(parameters)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=wd)
    if name == "momentum":
        mom = fraction(momentum, "momentum")
        return torch.optim.SGD(params, lr=lr, momentum=mom, weight_decay=wd)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd)
    return torch.optim.AdamW(params, lr=lr, weight_decay=wd)


def make_mlp(
    n_features: int,
    hidden_layer_sizes: Sequence[int] = (64, 32),
    *,
    dropout: float = 0.0,
    n_classes: int = 2,
) -> nn.Sequential:
    """A multi-layer perceptron as a plain ``torch.nn.Sequential``.

    ``Linear(n_features, h1), ReLU, [Dropout], Linear(h1, h2), ReLU, [Dropout],
    ..., Linear(h_last, n_classes)``: the output is one logit per class (no
    softmax; losses and ``predict_proba`` apply it). Only Linear, ReLU and
    Dropout layers, so the network can be quantized or exported as it is.
    Initialised with torch's defaults from the current torch seed.

    Examples
    --------
    >>> net = make_mlp(10, (8, 4), dropout=0.1)
    >>> [type(layer).__name__ for layer in net]
    ['Linear', 'ReLU', 'Dropout', 'Linear', 'ReLU', 'Dropout', 'Linear']
    """
    n_features = integer_at_least(n_features, "n_features", 1)
    n_classes = integer_at_least(n_classes, "n_classes", 2)
    sizes = list(hidden_layer_sizes) if not isinstance(hidden_layer_sizes, (int, np.integer)) else [hidden_layer_sizes]
    for h in sizes:
        integer_at_least(h, "hidden_layer_sizes entries", 1)
    drop = float(dropout)
    if not 0.0 <= drop < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    layers: list[nn.Module] = []
    width = n_features
    for h in sizes:
        layers += [nn.Linear(width, int(h)), nn.ReLU()]
        if drop > 0:
            layers.append(nn.Dropout(drop))
        width = int(h)
    layers.append(nn.Linear(width, n_classes))
    return nn.Sequential(*layers)


def train_epoch(
    network: nn.Module,
    optimizer: torch.optim.Optimizer,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    batch_size: int = 256,
    generator: torch.Generator | None = None,
) -> float:
    """One pass over the training data in shuffled mini-batches.

    The rows are shuffled with ``torch.randperm(n, generator=generator)``;
    then for each consecutive batch of ``batch_size`` rows (the last may be
    smaller): zero the gradients, compute ``loss_fn(network(X_b), y_b)``,
    back-propagate, take one optimizer step.

    Returns
    -------
    float
        The mean of the batch losses weighted by batch size: the average
        training loss over the epoch (with the weights changing as it goes).
    """
    n = X.shape[0]
    network.train()
    order = torch.randperm(n, generator=generator)
    total = 0.0
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        optimizer.zero_grad()
        loss = loss_fn(network(X[idx]), y[idx])
        loss.backward()
        optimizer.step()
        total += float(loss.detach()) * len(idx)
    return total / n


def evaluate_loss(
    network: nn.Module, loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], X: torch.Tensor, y: torch.Tensor
) -> float:
    """The loss on ``(X, y)`` in evaluation mode (dropout off, no gradients), in one pass."""
    network.eval()
    with torch.no_grad():
        return float(loss_fn(network(X), y))


@contextlib.contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    """Use ``n`` intra-op threads inside the block, then restore the previous setting."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


class MLPClassifier(ClassifierMixin, BaseEstimator):
    """A binary PyTorch MLP with a scikit-learn interface.

    ``fit(X, y, X_val=None, y_val=None)`` trains the network of
    :func:`make_mlp` with mini-batches (:func:`train_epoch`), a loss from
    :func:`make_loss` and an optimizer from :func:`make_optimizer`. With
    validation data it records the validation loss each epoch, stops early
    after ``patience`` epochs without improvement and restores the weights of
    the best epoch.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(64, 32)
    dropout : float in [0, 1), default=0.0
    loss : {"cross_entropy", "weighted", "focal"}, default="cross_entropy"
    class_weight : None, "balanced", dict or 2 weights
        See :func:`make_loss`.
    gamma : float, default=2.0
        Focal-loss strength.
    optimizer : {"sgd", "momentum", "adam", "adamw"}, default="adam"
    learning_rate : float, default=1e-3
    weight_decay : float, default=0.0
    momentum : float, default=0.9
        For ``optimizer="momentum"``.
    batch_size : int, default=256
    max_epochs : int, default=20
    patience : int or None, default=5
        Early stopping (needs ``X_val``): stop when the validation loss has not
        improved by more than ``tol`` for ``patience`` epochs. None: train all
        ``max_epochs`` (the best epoch is still restored).
    tol : float, default=0.0
    restore_best_weights : bool, default=True
    seed : int, default=0
        Seeds weight initialisation, dropout and shuffling (same seed, same
        data: identical predictions).
    n_threads : int, default=1
        ``torch.set_num_threads`` during fit and predict (restored afterwards);
        small networks gain nothing from more threads.

    Attributes
    ----------
    network_ : torch.nn.Sequential
        The trained network (outputs logits); reusable as it is, e.g. for
        quantization or export.
    history_ : dict
        ``{"epoch": [...], "train_loss": [...], "val_loss": [...]}`` (val_loss
        NaN without validation data), one entry per epoch run.
    best_epoch_ : int
        Epoch whose weights the model holds (the last one without validation data).
    n_epochs_ : int
        Epochs run.
    class_weight_ : ndarray of shape (2,) or None
        The class weights the loss used (``"balanced"`` resolved on the training labels).
    classes_ : ndarray ``[0, 1]``
    n_features_in_ : int

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 3)); y = (X[:, 0] * X[:, 1] > 0).astype(int)
    >>> m = MLPClassifier(hidden_layer_sizes=(16,), max_epochs=30, learning_rate=0.01).fit(X, y)
    >>> m.predict_proba(X).shape, bool((m.predict(X) == y).mean() > 0.8)
    ((400, 2), True)
    """

    def __init__(
        self,
        hidden_layer_sizes: Sequence[int] = (64, 32),
        dropout: float = 0.0,
        loss: str = "cross_entropy",
        class_weight: Any = None,
        gamma: float = 2.0,
        optimizer: str = "adam",
        learning_rate: float = 1e-3,
        weight_decay: float = 0.0,
        momentum: float = 0.9,
        batch_size: int = 256,
        max_epochs: int = 20,
        patience: int | None = 5,
        tol: float = 0.0,
        restore_best_weights: bool = True,
        seed: int = 0,
        n_threads: int = 1,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout = dropout
        self.loss = loss
        self.class_weight = class_weight
        self.gamma = gamma
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.momentum = momentum
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.tol = tol
        self.restore_best_weights = restore_best_weights
        self.seed = seed
        self.n_threads = n_threads

    def _check_params(self) -> None:
        one_of(self.loss, "loss", LOSSES)
        one_of(self.optimizer, "optimizer", OPTIMIZERS)
        integer_at_least(self.batch_size, "batch_size", 1)
        integer_at_least(self.max_epochs, "max_epochs", 1)
        if self.patience is not None:
            integer_at_least(self.patience, "patience", 1)
        positive_number(self.tol, "tol", allow_zero=True)
        integer_at_least(self.seed, "seed", 0)
        integer_at_least(self.n_threads, "n_threads", 1)

    def fit(
        self, X: ArrayLike, y: ArrayLike, X_val: ArrayLike | None = None, y_val: ArrayLike | None = None
    ) -> MLPClassifier:
        """Train from a fresh initialisation. Returns ``self``.

        Parameters
        ----------
        X : array of shape (n_samples, n_features)
            Preprocessed, finite inputs (standardise them: see :func:`make_preprocessor`).
        y : array of shape (n_samples,), 0/1
        X_val, y_val : optional, both or neither
            Validation data for the history, early stopping and best-weights restore.
        """
        self._check_params()
        require_target(self, y)
        X = _as_matrix(X, "X")
        y = binary_labels(y, "y", both_classes=True)
        same_length((X, "X"), (y, "y"))
        if (X_val is None) != (y_val is None):
            raise ValueError("X_val and y_val: give both or neither")
        has_val = X_val is not None
        if has_val:
            X_val = _as_matrix(X_val, "X_val")
            y_val = binary_labels(y_val, "y_val")
            same_length((X_val, "X_val"), (y_val, "y_val"))
            if X_val.shape[1] != X.shape[1]:
                raise ValueError(f"X_val has {X_val.shape[1]} features, X has {X.shape[1]}")

        with _torch_threads(self.n_threads):
            torch.manual_seed(self.seed)
            generator = torch.Generator().manual_seed(self.seed)
            network = make_mlp(X.shape[1], self.hidden_layer_sizes, dropout=self.dropout)
            # Resolve "balanced" once, from the training labels; validation uses the same weights.
            weight = self.class_weight
            if self.loss == "weighted" and weight is None:
                weight = "balanced"
            resolved = None if self.loss == "cross_entropy" or weight is None else _resolve_class_weight(weight, y)
            loss_fn = make_loss(self.loss, class_weight=resolved, gamma=self.gamma)
            optimizer = make_optimizer(
                self.optimizer, network.parameters(), learning_rate=self.learning_rate,
                weight_decay=self.weight_decay, momentum=self.momentum,
            )
            Xt, yt = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y)
            if has_val:
                Xv, yv = torch.as_tensor(X_val, dtype=torch.float32), torch.as_tensor(y_val)
            history: dict[str, list[float]] = {"epoch": [], "train_loss": [], "val_loss": []}
            best_loss, best_state, best_epoch, waited = math.inf, None, 0, 0
            for epoch in range(1, self.max_epochs + 1):
                train_loss = train_epoch(
                    network, optimizer, loss_fn, Xt, yt, batch_size=self.batch_size, generator=generator
                )
                val_loss = evaluate_loss(network, loss_fn, Xv, yv) if has_val else math.nan
                history["epoch"].append(epoch)
                history["train_loss"].append(train_loss)
                history["val_loss"].append(val_loss)
                if not math.isfinite(train_loss):
                    break  # diverged: nothing more to learn
                if not has_val:
                    best_epoch = epoch
                    continue
                if val_loss < best_loss - self.tol:
                    best_loss, best_epoch, waited = val_loss, epoch, 0
                    best_state = copy.deepcopy(network.state_dict())
                else:
                    waited += 1
                    if self.patience is not None and waited >= self.patience:
                        break
            if has_val and self.restore_best_weights and best_state is not None:
                network.load_state_dict(best_state)
            elif has_val:
                best_epoch = len(history["epoch"])
            network.eval()

        self.network_ = network
        self.class_weight_ = resolved
        self.history_ = history
        self.best_epoch_ = best_epoch
        self.n_epochs_ = len(history["epoch"])
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = X.shape[1]
        return self

    def _logits(self, X: ArrayLike) -> torch.Tensor:
        check_is_fitted(self, "network_")
        X = _as_matrix(X, "X")
        if X.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(self).__name__} is expecting {self.n_features_in_} features as input"
            )
        self.network_.eval()
        with _torch_threads(self.n_threads), torch.no_grad():
            return self.network_(torch.as_tensor(X, dtype=torch.float32))

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Shape (n_samples, 2): softmax of the network's logits, as float64."""
        return torch.softmax(self._logits(X), dim=1).double().numpy()

    def predict(self, X: ArrayLike, threshold: float = 0.5) -> np.ndarray:
        """0/1 decisions: 1 where P(y=1) >= threshold."""
        return (self.predict_proba(X)[:, 1] >= threshold).astype(np.int64)

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False  # binary 0/1 labels only
        return tags

    def loss_on(self, X: ArrayLike, y: ArrayLike) -> float:
        """The training loss function (same weights, same gamma) evaluated on ``(X, y)``."""
        check_is_fitted(self, "network_")
        y = binary_labels(y, "y")
        X = _as_matrix(X, "X")
        same_length((X, "X"), (y, "y"))
        loss_fn = make_loss(self.loss, class_weight=self.class_weight_, gamma=self.gamma)
        with _torch_threads(self.n_threads):
            return evaluate_loss(self.network_, loss_fn, torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y))


# ---------------------------------------------------------------------------
# 5. Ensembles
# ---------------------------------------------------------------------------


def gradient_boosting(
    *, learning_rate: float = 0.1, max_iter: int = 200, max_leaf_nodes: int = 15, class_weight: Any = None,
    random_state: int = 0,
) -> Any:
    """Gradient-boosted trees (scikit-learn's histogram implementation, fast on 10^5 rows).

    Boosting adds small trees one by one, each fitted to the errors (the
    loss gradient) of the ensemble so far: it lowers *bias*, learns
    interactions and thresholds by itself, and needs no scaling. It can
    overfit, so it stops early on an internal validation split (10%).

    Returns
    -------
    sklearn.ensemble.HistGradientBoostingClassifier
        Unfitted.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        learning_rate=positive_number(learning_rate, "learning_rate"),
        max_iter=integer_at_least(max_iter, "max_iter", 1),
        max_leaf_nodes=integer_at_least(max_leaf_nodes, "max_leaf_nodes", 2),
        min_samples_leaf=40,
        l2_regularization=1.0,
        early_stopping=True,
        n_iter_no_change=15,
        class_weight=class_weight,
        random_state=random_state,
    )


def random_forest(
    *, n_estimators: int = 100, min_samples_leaf: int = 10, max_features: Any = "sqrt", class_weight: Any = None,
    random_state: int = 0,
) -> Any:
    """A random forest: many deep trees on bootstrap samples and random feature subsets, averaged.

    Each tree has low bias and high variance; averaging decorrelated trees
    cuts the *variance*. Robust defaults, little tuning, but large and slower
    to predict than one tree; ``n_jobs=1`` keeps it polite on small machines.

    Returns
    -------
    sklearn.ensemble.RandomForestClassifier
        Unfitted.
    """
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(
        n_estimators=integer_at_least(n_estimators, "n_estimators", 1),
        min_samples_leaf=integer_at_least(min_samples_leaf, "min_samples_leaf", 1),
        max_features=max_features,
        class_weight=class_weight,
        n_jobs=1,
        random_state=random_state,
    )


def _check_estimators(estimators: Any) -> list[tuple[str, Any]]:
    if not isinstance(estimators, (list, tuple)) or not estimators:
        raise ValueError("estimators must be a non-empty list of (name, estimator) pairs")
    names = []
    for item in estimators:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
            raise ValueError(f"estimators must be (name, estimator) pairs, got {item!r}")
        if not hasattr(item[1], "fit") or not hasattr(item[1], "predict_proba"):
            raise ValueError(f"estimator {item[0]!r} needs fit and predict_proba")
        names.append(item[0])
    if len(set(names)) != len(names):
        raise ValueError(f"estimator names must be unique, got {names}")
    return list(estimators)


class SoftVotingClassifier(ClassifierMixin, BaseEstimator):
    """Average the predicted probabilities of several models (soft voting).

    Members that make *different* mistakes partly cancel out, so the average
    is often better than each member; weights let a stronger member count
    more. Equivalent to ``sklearn.ensemble.VotingClassifier(voting="soft")``.

    Parameters
    ----------
    estimators : list of (name, estimator)
        Unfitted models with ``predict_proba``; ``fit`` trains a clone of each.
    weights : sequence of float, optional
        One non-negative weight per estimator (normalised); default equal.

    Attributes
    ----------
    estimators_ : list of fitted estimators
    classes_ : ndarray [0, 1]

    Examples
    --------
    >>> from sklearn.naive_bayes import GaussianNB
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = [0, 0, 1, 1]
    >>> vote = SoftVotingClassifier([("lr", logistic_baseline()), ("nb", GaussianNB())]).fit(X, y)
    >>> vote.predict_proba(X).shape, vote.predict(X).tolist()
    ((4, 2), [0, 0, 1, 1])
    """

    def __init__(self, estimators: Sequence[tuple[str, Any]], weights: Sequence[float] | None = None) -> None:
        self.estimators = estimators
        self.weights = weights

    def _weights(self) -> np.ndarray | None:
        if self.weights is None:
            return None
        w = np.asarray(self.weights, dtype=np.float64)
        if w.shape != (len(self.estimators),) or np.any(w < 0) or not np.isfinite(w).all() or w.sum() <= 0:
            raise ValueError(
                f"weights must be {len(self.estimators)} non-negative numbers with a positive sum, got {self.weights!r}"
            )
        return w

    def fit(self, X: ArrayLike, y: ArrayLike) -> SoftVotingClassifier:
        """Fit a clone of every estimator on ``(X, y)``. Returns ``self``."""
        require_target(self, y)
        estimators = _check_estimators(self.estimators)
        self._weights()
        y = binary_labels(y, "y", both_classes=True)
        self.estimators_ = [clone(est).fit(X, y) for _, est in estimators]
        self.classes_ = np.array([0, 1])
        if hasattr(self.estimators_[0], "n_features_in_"):  # the members check X at predict time
            self.n_features_in_ = self.estimators_[0].n_features_in_
        return self

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Weighted average of the members' ``predict_proba``, shape (n_samples, 2)."""
        check_is_fitted(self, "estimators_")
        probas = np.stack([np.asarray(est.predict_proba(X), dtype=np.float64) for est in self.estimators_])
        return np.average(probas, axis=0, weights=self._weights())

    def predict(self, X: ArrayLike, threshold: float = 0.5) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= threshold).astype(np.int64)

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False  # binary 0/1 labels only
        return tags


class StackingClassifier(ClassifierMixin, TransformerMixin, BaseEstimator):
    """Stacking: a second-level model learns how to combine the members' predictions.

    1. For each member, *out-of-fold* P(fraud) on the training data: the
       rows of each fold are predicted by a clone fitted on the other folds,
       so the combiner learns from predictions on data the member has not
       seen (in-sample predictions are over-confident and would fool it).
    2. The final estimator (default: logistic regression) is fitted on those
       columns (plus ``X`` itself with ``passthrough=True``).
    3. Each member is refitted on all the training data for prediction.

    Same semantics as ``sklearn.ensemble.StackingClassifier`` with
    ``stack_method="predict_proba"`` on binary data (one column, P(1), per
    member).

    Parameters
    ----------
    estimators : list of (name, estimator)
    final_estimator : estimator, optional
        Default ``LogisticRegression()``.
    cv : int or splitter, default=5
        An int means ``StratifiedKFold(cv)`` without shuffling (scikit-learn's default).
    passthrough : bool, default=False

    Attributes
    ----------
    estimators_ : list of members fitted on all the data
    final_estimator_ : the fitted combiner
    classes_ : ndarray [0, 1]

    Examples
    --------
    >>> from sklearn.naive_bayes import GaussianNB
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 2)); y = (X[:, 0] > 0).astype(int)
    >>> stack = StackingClassifier([("lr", logistic_baseline()), ("nb", GaussianNB())], cv=3).fit(X, y)
    >>> stack.transform(X).shape, stack.predict_proba(X).shape   # one column per member
    ((60, 2), (60, 2))
    """

    def __init__(
        self,
        estimators: Sequence[tuple[str, Any]],
        final_estimator: Any = None,
        cv: Any = 5,
        passthrough: bool = False,
    ) -> None:
        self.estimators = estimators
        self.final_estimator = final_estimator
        self.cv = cv
        self.passthrough = passthrough

    def _meta_features(self, member_columns: list[np.ndarray], X: Any) -> np.ndarray:
        meta = np.column_stack(member_columns)
        if self.passthrough:
            meta = np.column_stack([meta, _as_matrix(X)])
        return meta

    def fit(self, X: ArrayLike, y: ArrayLike) -> StackingClassifier:
        """Out-of-fold member predictions, combiner fit, members refit. Returns ``self``."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold, cross_val_predict

        require_target(self, y)
        estimators = _check_estimators(self.estimators)
        y = binary_labels(y, "y", both_classes=True)
        if isinstance(self.cv, (int, np.integer)) and not isinstance(self.cv, bool):
            cv = StratifiedKFold(n_splits=integer_at_least(self.cv, "cv", 2))
        elif hasattr(self.cv, "split") and hasattr(self.cv, "get_n_splits"):
            cv = self.cv
        else:
            raise ValueError(f"cv must be an integer >= 2 or a cross-validation splitter, got {self.cv!r}")
        oof = [
            cross_val_predict(clone(est), X, y, cv=copy.deepcopy(cv), method="predict_proba")[:, 1]
            for _, est in estimators
        ]
        final = LogisticRegression() if self.final_estimator is None else clone(self.final_estimator)
        self.final_estimator_ = final.fit(self._meta_features(oof, X), y)
        self.estimators_ = [clone(est).fit(X, y) for _, est in estimators]
        self.classes_ = np.array([0, 1])
        if hasattr(self.estimators_[0], "n_features_in_"):  # the members check X at predict time
            self.n_features_in_ = self.estimators_[0].n_features_in_
        return self

    def transform(self, X: ArrayLike) -> np.ndarray:
        """The combiner's inputs for ``X``: one column P(1) per member (then ``X`` with passthrough)."""
        check_is_fitted(self, "estimators_")
        return self._meta_features([np.asarray(est.predict_proba(X))[:, 1] for est in self.estimators_], X)

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """The final estimator's probabilities, shape (n_samples, 2)."""
        check_is_fitted(self)
        return np.asarray(self.final_estimator_.predict_proba(self.transform(X)), dtype=np.float64)

    def predict(self, X: ArrayLike, threshold: float = 0.5) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= threshold).astype(np.int64)

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False  # binary 0/1 labels only
        return tags


# ---------------------------------------------------------------------------
# 6. Imbalance and business cost
# ---------------------------------------------------------------------------


def resample(
    X: Any, y: ArrayLike, *, method: str = "undersample", ratio: float = 1.0, seed: int = 0
) -> tuple[Any, np.ndarray]:
    """Rebalance a training set by random under- or over-sampling.

    Parameters
    ----------
    X : array or DataFrame of shape (n_samples, ...)
    y : array of shape (n_samples,), 0/1
    method : {"undersample", "oversample"}
        ``"undersample"`` keeps every fraud and a random subset of the legit
        rows (less data, faster, throws information away); ``"oversample"``
        keeps every legit row and repeats random fraud rows (no information
        lost, but repeated rows invite overfitting).
    ratio : float > 0
        Wanted ``n_minority / n_majority`` after resampling (1.0 = balanced).
        It must be above the current ratio.
    seed : int

    Returns
    -------
    (X_resampled, y_resampled)
        Rows shuffled. Only ever resample *training* data: validation and
        test must keep the real class balance, or every metric is distorted.

    Examples
    --------
    >>> Xr, yr = resample(np.arange(10).reshape(-1, 1), [0] * 8 + [1] * 2, ratio=1.0)
    >>> sorted(yr.tolist())
    [0, 0, 1, 1]
    """
    one_of(method, "method", ("undersample", "oversample"))
    ratio = positive_number(ratio, "ratio")
    y_arr = binary_labels(y, "y", both_classes=True)
    same_length((X, "X"), (y_arr, "y"))
    counts = np.bincount(y_arr, minlength=2)
    minority = int(np.argmin(counts))
    major_idx = np.flatnonzero(y_arr != minority)
    minor_idx = np.flatnonzero(y_arr == minority)
    if ratio <= counts[minority] / counts[1 - minority]:
        raise ValueError(
            f"ratio must exceed the current minority/majority ratio {counts[minority] / counts[1 - minority]:.4g}, "
            f"got {ratio}"
        )
    rng = np.random.default_rng(seed)
    if method == "undersample":
        keep = min(len(major_idx), max(1, int(round(len(minor_idx) / ratio))))
        rows = np.concatenate([minor_idx, rng.choice(major_idx, size=keep, replace=False)])
    else:
        extra = int(round(ratio * len(major_idx))) - len(minor_idx)
        rows = np.concatenate([major_idx, minor_idx, rng.choice(minor_idx, size=max(extra, 0), replace=True)])
    rows = rng.permutation(rows)
    X_out = X.iloc[rows] if hasattr(X, "iloc") else np.asarray(X)[rows]
    return X_out, y_arr[rows]


def bayes_threshold(cost_fp: float, cost_fn: float) -> float:
    """The cost-optimal threshold on *calibrated* probabilities: ``cost_fp / (cost_fp + cost_fn)``.

    Flag a transaction when the expected cost of letting it pass,
    ``p * cost_fn``, exceeds that of flagging it, ``(1 - p) * cost_fp``.

    >>> round(bayes_threshold(5.0, 100.0), 4)
    0.0476
    """
    cost_fp, cost_fn = _check_costs(cost_fp, cost_fn)
    return cost_fp / (cost_fp + cost_fn)


def business_cost(
    y_true: ArrayLike, scores: ArrayLike, threshold: float, *, cost_fp: float, cost_fn: float
) -> float:
    """Expected cost per transaction of flagging ``scores >= threshold``.

    ``(cost_fp * FP + cost_fn * FN) / n``, in the units of the costs (e.g.
    euros per transaction). Same as :func:`mlcourse.evaluation.expected_cost`.
    """
    cost_fp, cost_fn = _check_costs(cost_fp, cost_fn)
    return ev.expected_cost(y_true, scores, threshold, cost_fp=cost_fp, cost_fn=cost_fn)


def compare_models(
    models: Mapping[str, Any],
    X_valid: ArrayLike,
    y_valid: ArrayLike,
    X_test: ArrayLike,
    y_test: ArrayLike,
    *,
    cost_fp: float,
    cost_fn: float,
    baseline: str | None = None,
) -> pd.DataFrame:
    """Rank fitted models by the business cost of their decisions on test data.

    For each model the threshold is chosen on the *validation* data (the
    minimum of its cost curve, :func:`mlcourse.evaluation.cost_optimal_threshold`)
    and then applied to the *test* data, as it would be in production.

    Parameters
    ----------
    models : mapping name -> fitted model with ``predict_proba`` (or callable)
    X_valid, y_valid, X_test, y_test : held-out data
    cost_fp, cost_fn : float > 0
        Cost of one false alarm and of one missed fraud.
    baseline : str, optional
        Name of the model to compare against: adds ``saving_vs_baseline``,
        the relative cost reduction (0.1 = 10% cheaper).

    Returns
    -------
    DataFrame, one row per model, sorted by ``test_cost``, with columns
    ``roc_auc``, ``average_precision``, ``log_loss`` (test), ``threshold``
    (chosen on validation; ``inf`` where flagging nothing is cheapest there, as for
    a constant model), ``test_cost`` (at that threshold),
    ``cost_at_0.5`` (at the default threshold, for contrast), and
    ``saving_vs_baseline`` if asked.
    """
    cost_fp, cost_fn = _check_costs(cost_fp, cost_fn)
    if not isinstance(models, Mapping) or not models:
        raise ValueError("models must be a non-empty mapping name -> fitted model")
    if baseline is not None and baseline not in models:
        raise ValueError(f"baseline {baseline!r} is not one of the models {list(models)}")
    yv, yt = binary_labels(y_valid, "y_valid"), binary_labels(y_test, "y_test")
    rows = {}
    for name, model in models.items():
        sv, st = _positive_scores(model, X_valid), _positive_scores(model, X_test)
        threshold = ev.cost_optimal_threshold(yv, sv, cost_fp=cost_fp, cost_fn=cost_fn)
        if ev.expected_cost(yv, sv, threshold, cost_fp=cost_fp, cost_fn=cost_fn) > cost_fn * yv.mean():
            threshold = math.inf  # flagging nothing is cheaper than any threshold among the scores
        rows[name] = {
            "roc_auc": ev.roc_auc(yt, st),
            "average_precision": ev.average_precision(yt, st),
            "log_loss": _log_loss(yt, st),
            "threshold": threshold,
            "test_cost": ev.expected_cost(yt, st, threshold, cost_fp=cost_fp, cost_fn=cost_fn),
            "cost_at_0.5": ev.expected_cost(yt, st, 0.5, cost_fp=cost_fp, cost_fn=cost_fn),
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    if baseline is not None:
        table["saving_vs_baseline"] = 1.0 - table["test_cost"] / table.loc[baseline, "test_cost"]
    return table.sort_values("test_cost")


# ---------------------------------------------------------------------------
# 7. The course model
# ---------------------------------------------------------------------------


class CourseModel(NamedTuple):
    """The course's fraud MLP and its data (see :func:`train_course_model`).

    ``model.network_`` is the trained ``nn.Sequential``; ``data.preprocessor``
    turns raw transaction columns into its inputs; ``data.X_test`` /
    ``data.y_test`` are held out.
    """

    model: MLPClassifier
    data: FeatureSplits


def train_course_model(
    seed: int = 0, *, n_transactions: int = 30_000, max_epochs: int = 15, hidden_layer_sizes: Sequence[int] = (64, 32)
) -> CourseModel:
    """Generate a world, split it and train the course's fraud MLP: a few seconds on 2 cores.

    A ``make_world(seed, n_transactions)`` world, :func:`make_splits` (60/20/20,
    stratified), and an :class:`MLPClassifier` (Adam, cross-entropy, early
    stopping on the validation split) -- the model the later stages calibrate,
    serve and quantize.

    Examples
    --------
    >>> course = train_course_model(seed=0, n_transactions=5_000, max_epochs=2)
    >>> type(course.model.network_).__name__, course.data.X_test.shape[1] == course.model.n_features_in_
    ('Sequential', True)
    """
    from mlcourse.world import make_world

    data = make_splits(make_world(seed=seed, n_transactions=n_transactions), seed=seed)
    model = MLPClassifier(hidden_layer_sizes=hidden_layer_sizes, max_epochs=max_epochs, patience=3, seed=seed)
    model.fit(data.X_train, data.y_train, data.X_valid, data.y_valid)
    return CourseModel(model, data)


# ---------------------------------------------------------------------------
# Plots (matplotlib is imported lazily)
# ---------------------------------------------------------------------------


def _get_ax(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new_ax = plt.subplots(figsize=(5, 3.5))
    return new_ax


def plot_history(history: Mapping[str, Sequence[float]], ax: Axes | None = None, title: str | None = None) -> Axes:
    """Training and validation loss per epoch (an :class:`MLPClassifier`'s ``history_``).

    Marks the epoch with the lowest validation loss. Train falling while
    validation rises is overfitting; both high and flat is underfitting.
    """
    if not isinstance(history, Mapping) or "train_loss" not in history:
        raise ValueError("history must be a mapping with 'epoch', 'train_loss' and 'val_loss' (MLPClassifier.history_)")
    ax = _get_ax(ax)
    epochs = list(history.get("epoch", range(1, len(history["train_loss"]) + 1)))
    ax.plot(epochs, history["train_loss"], marker="o", label="train")
    val = np.asarray(history.get("val_loss", []), dtype=np.float64)
    if val.size and np.isfinite(val).any():
        ax.plot(epochs, val, marker="o", label="validation")
        best = int(np.nanargmin(val))
        ax.axvline(epochs[best], linestyle="--", color="grey", label=f"best epoch = {epochs[best]}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title or "Training history")
    ax.legend(loc="best")
    return ax


def plot_loss_curves(curves: Mapping[str, Sequence[float]], ax: Axes | None = None, title: str | None = None) -> Axes:
    """One loss-per-iteration line per entry of ``curves`` (e.g. several learning rates), log y-axis."""
    if not isinstance(curves, Mapping) or not curves:
        raise ValueError("curves must be a non-empty mapping label -> sequence of losses")
    ax = _get_ax(ax)
    for label, losses in curves.items():
        values = np.asarray(losses, dtype=np.float64)
        ax.plot(np.arange(len(values)), np.where(np.isfinite(values), values, np.nan), label=str(label))
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("training loss")
    ax.set_title(title or "Gradient descent")
    ax.legend(loc="best")
    return ax
