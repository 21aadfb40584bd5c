"""Confidence scoring and calibration: measuring, fixing and using a model's confidence.

Stage 5 of the course roadmap: *"A well-calibrated model's confidence aligns well
with its accuracy. Both pre-training (like regularization techniques) and
post-training methods (like Platt scaling) can help us calibrate our models ...
a high confidence score doesn't always mean a correct prediction."*

What is here
------------
* **Measuring** - :func:`reliability_bins` (equal-width or equal-mass bins),
  :func:`expected_calibration_error`, :func:`maximum_calibration_error`,
  :func:`brier_score` and its Murphy decomposition :func:`brier_decomposition`,
  :func:`negative_log_likelihood`, and :func:`plot_reliability_diagram`.
* **Calibrating after training** - :class:`PlattScaler` (a logistic fit on the
  score, with Platt's target smoothing), :class:`IsotonicCalibrator` on top of a
  hand-written pool-adjacent-violators :func:`isotonic_regression`, and
  :class:`TemperatureScaler` for multi-class networks (one parameter fitted by
  minimising the validation negative log-likelihood).
* **Calibrating before training** - :func:`train_mlp` and
  :func:`compare_training_settings`, which train the same small PyTorch network
  with and without weight decay and label smoothing and report accuracy and ECE.
* **Using confidence** - selective prediction (:func:`selective_threshold`,
  :func:`risk_coverage_curve`) and split conformal prediction sets
  (:class:`SplitConformalClassifier`, :func:`conformal_quantile`).
* **Data** - :func:`make_fraud_scores` (a deliberately miscalibrated fraud model
  on the course's data world, with the *true* fraud probability alongside) and
  :func:`load_digits_split` (scikit-learn's bundled 8x8 digits, no download).

Conventions used throughout
---------------------------
* **Binary** problems: ``y_prob`` is 1-D, shape ``(n_samples,)``, the probability
  of the positive class 1, and ``y_true`` holds 0/1 labels. Reliability is then
  measured for the positive class ("of the transactions scored 0.3, are 30%
  fraud?"), as ``sklearn.calibration.calibration_curve`` does.
* **Multi-class** problems: ``y_prob`` is 2-D, shape ``(n_samples, n_classes)``,
  rows summing to 1, and ``y_true`` holds integer labels ``0 .. n_classes-1``.
  Reliability is measured for the **top label**: confidence = the largest
  probability, outcome = whether the arg-max is right (Guo et al., 2017).
* Bins are right-closed, ``(e_i, e_{i+1}]``, with the first one closed
  ``[e_0, e_1]``, exactly as scikit-learn's ``calibration_curve`` bins.
* Scores and logits are real numbers where larger means "more likely
  positive"; probabilities are in ``[0, 1]``.
* Everything random takes a ``seed``; the same seed gives the same result.
* Bad input raises ``ValueError`` naming the argument and what was expected.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils import ClassifierTags, Tags
from sklearn.utils.validation import check_is_fitted, validate_data

from mlcourse._checks import (
    binary_labels,
    finite_array,
    fraction,
    integer_at_least,
    one_of,
    positive_number,
    random_seed,
    require_target,
    same_length,
    unbox_numbers,
)

if TYPE_CHECKING:  # pragma: no cover - imported only for type hints
    import torch
    from matplotlib.axes import Axes

__all__ = [
    # measuring
    "ReliabilityBins",
    "top_label",
    "reliability_bins",
    "expected_calibration_error",
    "maximum_calibration_error",
    "brier_score",
    "BrierDecomposition",
    "brier_decomposition",
    "negative_log_likelihood",
    "plot_reliability_diagram",
    # after training
    "logit",
    "softmax",
    "PlattScaler",
    "isotonic_regression",
    "IsotonicCalibrator",
    "TemperatureScaler",
    # before training
    "DigitsSplit",
    "load_digits_split",
    "train_mlp",
    "predict_logits",
    "compare_training_settings",
    # using confidence
    "SelectiveThreshold",
    "selective_threshold",
    "risk_coverage_curve",
    "area_under_risk_coverage",
    "plot_risk_coverage",
    "conformal_quantile",
    "SplitConformalClassifier",
    "set_coverage",
    "average_set_size",
    # data
    "make_fraud_scores",
]

_STRATEGIES = ("uniform", "quantile")
# Rows of a probability matrix may be off from summing to 1 by float32
# rounding (softmax in single precision); anything beyond this is a mistake.
_ROW_SUM_TOLERANCE = 1e-3


# ---------------------------------------------------------------------------
# Input validation helpers
# ---------------------------------------------------------------------------


def _check_probabilities(y_prob: ArrayLike, name: str = "y_prob") -> np.ndarray:
    """1-D probabilities of class 1, or a 2-D matrix whose rows sum to 1."""
    p = finite_array(y_prob, name, ndims=(1, 2))
    if p.min() < 0.0 or p.max() > 1.0:
        raise ValueError(
            f"{name} must hold probabilities in [0, 1], got values from {p.min():.4g} to "
            f"{p.max():.4g}; pass softmax(logits), not logits"
        )
    if p.ndim == 2:
        if p.shape[1] < 2:
            raise ValueError(f"{name} must have at least 2 columns (classes), got shape {p.shape}")
        worst = float(np.max(np.abs(p.sum(axis=1) - 1.0)))
        if worst > _ROW_SUM_TOLERANCE:
            raise ValueError(
                f"{name} rows must sum to 1 (one probability per class), but a row sums "
                f"{worst:.3g} away from 1"
            )
    return p


def _check_class_labels(y_true: ArrayLike, n_classes: int, name: str = "y_true") -> np.ndarray:
    arr = unbox_numbers(np.asarray(y_true))
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional, got an array of shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty; at least one example is required")
    if arr.dtype.kind not in "iub" and not (
        arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr))
    ):
        raise ValueError(f"{name} must hold integer class labels 0 .. {n_classes - 1}, got dtype {arr.dtype}")
    labels = arr.astype(np.int64)
    if labels.min() < 0 or labels.max() >= n_classes:
        raise ValueError(
            f"{name} must hold class labels 0 .. {n_classes - 1} (one per column of the "
            f"probabilities), got labels from {labels.min()} to {labels.max()}"
        )
    return labels


# ---------------------------------------------------------------------------
# Confidence and outcome
# ---------------------------------------------------------------------------


def top_label(y_true: ArrayLike, y_prob: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Top-label confidence and correctness of multi-class probabilities.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Integer class labels ``0 .. n_classes-1``.
    y_prob : array-like of shape (n_samples, n_classes)
        Predicted probabilities, rows summing to 1.

    Returns
    -------
    confidence : np.ndarray of shape (n_samples,)
        The largest probability of each row (the model's confidence in its own prediction).
    correct : np.ndarray of shape (n_samples,), float 0/1
        1 where the arg-max class equals ``y_true``.

    Examples
    --------
    >>> conf, correct = top_label([0, 1], [[0.9, 0.1], [0.8, 0.2]])
    >>> conf.tolist(), correct.tolist()
    ([0.9, 0.8], [1.0, 0.0])
    """
    p = _check_probabilities(y_prob)
    if p.ndim != 2:
        raise ValueError(f"y_prob must be 2-dimensional (n_samples, n_classes), got shape {p.shape}")
    y = _check_class_labels(y_true, p.shape[1])
    same_length((y, "y_true"), (p, "y_prob"))
    return p.max(axis=1), (p.argmax(axis=1) == y).astype(float)


def _confidence_and_outcome(y_true: ArrayLike, y_prob: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """(confidence, outcome) pairs for binary (positive-class) or multi-class (top-label) input.

    In the binary case ``y_true`` may also hold *true probabilities* in [0, 1]
    (known in a simulation such as the data world); the "observed frequency"
    of a bin is then their mean, a noise-free estimate of the reliability curve.
    """
    p = _check_probabilities(y_prob)
    if p.ndim == 2:
        return top_label(y_true, p)
    y = np.asarray(y_true)
    if y.dtype.kind == "f" and y.ndim == 1 and y.size and np.all((y >= 0) & (y <= 1)):
        outcome = y.astype(float)  # labels 0.0/1.0 or true probabilities
    else:
        outcome = binary_labels(y_true, "y_true").astype(float)
    same_length((outcome, "y_true"), (p, "y_prob"))
    return p, outcome


# ---------------------------------------------------------------------------
# Reliability diagrams and calibration errors
# ---------------------------------------------------------------------------


class ReliabilityBins(NamedTuple):
    """Per-bin summary of a reliability diagram (all arrays of shape (n_bins,)).

    ``mean_confidence`` and ``accuracy`` are NaN in empty bins. ``accuracy`` is the
    observed frequency of the outcome: the share of positives (binary) or of
    correct top-label predictions (multi-class).
    """

    edges: np.ndarray  # shape (n_bins + 1,)
    count: np.ndarray
    mean_confidence: np.ndarray
    accuracy: np.ndarray

    @property
    def gap(self) -> np.ndarray:
        """``mean_confidence - accuracy`` per bin: > 0 over-confident, < 0 under-confident."""
        return self.mean_confidence - self.accuracy

    @property
    def weight(self) -> np.ndarray:
        """Share of the examples in each bin (sums to 1)."""
        return self.count / self.count.sum()

    def to_frame(self) -> pd.DataFrame:
        """The bins as a table: one row per bin, with its interval, count, confidence, accuracy, gap."""
        return pd.DataFrame(
            {
                "low": self.edges[:-1],
                "high": self.edges[1:],
                "count": self.count,
                "mean_confidence": self.mean_confidence,
                "accuracy": self.accuracy,
                "gap": self.gap,
            }
        )


def _bin_edges(confidence: np.ndarray, n_bins: int, strategy: str) -> np.ndarray:
    if strategy == "uniform":
        return np.linspace(0.0, 1.0, n_bins + 1)
    # Equal-mass bins: quantiles of the confidences (ties may repeat an edge,
    # which leaves a bin empty - that is what scikit-learn does too).
    return np.percentile(confidence, np.linspace(0.0, 100.0, n_bins + 1))


def reliability_bins(
    y_true: ArrayLike, y_prob: ArrayLike, *, n_bins: int = 10, strategy: str = "uniform"
) -> ReliabilityBins:
    """Bin predictions by confidence and compare confidence with accuracy in each bin.

    For a calibrated model the two agree in every bin: of the predictions made
    with confidence about 0.8, about 80% are right.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary 0/1 labels (with 1-D ``y_prob``; true probabilities in [0, 1] are
        accepted too) or integer class labels (with 2-D ``y_prob``).
    y_prob : array-like of shape (n_samples,) or (n_samples, n_classes)
        Probability of class 1, or a probability per class (top-label confidence is used).
    n_bins : int, default=10
        Number of bins.
    strategy : {"uniform", "quantile"}, default="uniform"
        ``"uniform"``: equal-width bins on [0, 1]. ``"quantile"``: equal-mass
        bins whose edges are quantiles of the confidences, so every bin holds
        about ``n_samples / n_bins`` examples.

    Returns
    -------
    ReliabilityBins
        ``edges`` of shape (n_bins + 1,) and per-bin ``count``, ``mean_confidence``
        and ``accuracy`` of shape (n_bins,). The non-empty bins equal
        ``sklearn.calibration.calibration_curve(y_true, y_prob, n_bins, strategy)``.

    Examples
    --------
    >>> bins = reliability_bins([0, 0, 1, 1], [0.1, 0.3, 0.7, 0.9], n_bins=2)
    >>> bins.count.tolist(), bins.mean_confidence.tolist(), bins.accuracy.tolist()
    ([2, 2], [0.2, 0.8], [0.0, 1.0])
    """
    n_bins = integer_at_least(n_bins, "n_bins", 1)
    strategy = one_of(strategy, "strategy", _STRATEGIES)
    confidence, outcome = _confidence_and_outcome(y_true, y_prob)
    edges = _bin_edges(confidence, n_bins, strategy)
    # Right-closed bins: a confidence equal to an inner edge falls in the lower bin.
    bin_id = np.searchsorted(edges[1:-1], confidence, side="left")
    count = np.bincount(bin_id, minlength=n_bins)
    conf_sum = np.bincount(bin_id, weights=confidence, minlength=n_bins)
    outcome_sum = np.bincount(bin_id, weights=outcome, minlength=n_bins)
    nonempty = count > 0
    safe = np.where(nonempty, count, 1)
    mean_conf = np.where(nonempty, conf_sum / safe, np.nan)
    accuracy = np.where(nonempty, outcome_sum / safe, np.nan)
    return ReliabilityBins(edges=edges, count=count, mean_confidence=mean_conf, accuracy=accuracy)


def expected_calibration_error(
    y_true: ArrayLike, y_prob: ArrayLike, *, n_bins: int = 15, strategy: str = "uniform"
) -> float:
    """Expected calibration error: the average |confidence - accuracy| gap over bins.

    ``ECE = sum_b (n_b / n) * |mean_confidence_b - accuracy_b|`` over the
    non-empty bins of :func:`reliability_bins`.

    It is an *estimate* with two known pitfalls: it depends on the bins (their
    number and whether they are equal-width or equal-mass), and it is biased
    upwards on small samples - even a perfectly calibrated model gets ECE > 0,
    because each bin's accuracy is itself noisy. Compare ECEs only with the
    same bins and similar sample sizes.

    Parameters
    ----------
    y_true, y_prob, n_bins, strategy
        As in :func:`reliability_bins` (default 15 equal-width bins, as in Guo et al. 2017).

    Returns
    -------
    float
        In ``[0, 1]``; 0 when every bin's accuracy equals its mean confidence.

    Examples
    --------
    >>> round(expected_calibration_error([0, 0, 1, 1], [0.1, 0.3, 0.7, 0.9], n_bins=2), 3)
    0.2
    >>> round(expected_calibration_error([0, 1], [[0.9, 0.1], [0.6, 0.4]], n_bins=5), 3)
    0.35
    """
    bins = reliability_bins(y_true, y_prob, n_bins=n_bins, strategy=strategy)
    nonempty = bins.count > 0
    return float(np.sum(bins.weight[nonempty] * np.abs(bins.gap[nonempty])))


def maximum_calibration_error(
    y_true: ArrayLike, y_prob: ArrayLike, *, n_bins: int = 15, strategy: str = "uniform"
) -> float:
    """Maximum calibration error: the largest |confidence - accuracy| gap of a non-empty bin.

    Relevant when any confidence level may be acted upon (high-stakes
    decisions), but very noisy: a bin with two examples can decide it.

    Examples
    --------
    >>> maximum_calibration_error([0, 0, 1, 1], [0.1, 0.3, 0.7, 0.9], n_bins=2)
    0.2
    """
    bins = reliability_bins(y_true, y_prob, n_bins=n_bins, strategy=strategy)
    return float(np.max(np.abs(bins.gap[bins.count > 0])))


def brier_score(y_true: ArrayLike, y_prob: ArrayLike) -> float:
    """Brier score: the mean squared error of probabilistic predictions (lower is better).

    * binary (1-D ``y_prob``): ``mean((p_i - y_i)^2)``, in [0, 1];
    * multi-class (2-D): ``mean_i sum_k (p_ik - [y_i == k])^2``, in [0, 2] (Brier's
      original definition).

    Both equal ``sklearn.metrics.brier_score_loss`` (which halves the multi-class
    sum only when asked to). It is a *proper* scoring rule: its expectation is
    smallest when the predictions are the true probabilities, so it rewards
    calibration and sharpness together (see :func:`brier_decomposition`).

    Examples
    --------
    >>> brier_score([0, 1, 1], [0.1, 0.8, 0.6])
    0.07
    >>> round(brier_score([0, 2], [[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]), 3)
    0.1
    """
    p = _check_probabilities(y_prob)
    if p.ndim == 1:
        y = binary_labels(y_true, "y_true").astype(float)
        same_length((y, "y_true"), (p, "y_prob"))
        return float(np.mean((p - y) ** 2))
    y_idx = _check_class_labels(y_true, p.shape[1])
    same_length((y_idx, "y_true"), (p, "y_prob"))
    onehot = np.zeros_like(p)
    onehot[np.arange(p.shape[0]), y_idx] = 1.0
    return float(np.mean(np.sum((p - onehot) ** 2, axis=1)))


class BrierDecomposition(NamedTuple):
    """Murphy's (1973) decomposition ``brier ~ reliability - resolution + uncertainty``."""

    brier: float  # the Brier score itself
    reliability: float  # calibration error term: lower is better (0 = calibrated per bin)
    resolution: float  # how far bin frequencies spread from the base rate: higher is better
    uncertainty: float  # base rate * (1 - base rate): the data's, not the model's

    @property
    def residual(self) -> float:
        """``brier - (reliability - resolution + uncertainty)``: the within-bin spread of forecasts.

        Exactly 0 when forecasts are constant within each bin; small otherwise.
        """
        return self.brier - (self.reliability - self.resolution + self.uncertainty)


def brier_decomposition(
    y_true: ArrayLike, y_prob: ArrayLike, *, n_bins: int = 10, strategy: str = "uniform"
) -> BrierDecomposition:
    """Split the binary Brier score into reliability, resolution and uncertainty.

    With bins ``b`` holding ``n_b`` forecasts of mean ``p_b`` and observed
    frequency ``o_b``, and base rate ``o``::

        reliability = sum_b n_b / n * (p_b - o_b)^2     (calibration: want 0)
        resolution  = sum_b n_b / n * (o_b - o)^2       (discrimination: want large)
        uncertainty = o * (1 - o)                       (fixed by the data)

    The identity ``brier = reliability - resolution + uncertainty`` is exact when
    the forecasts take at most one value per bin; otherwise a small residual
    remains (see :attr:`BrierDecomposition.residual`). Calibration can remove
    the reliability term but never buy resolution: a constant forecast of the
    base rate is perfectly calibrated and useless.

    Examples
    --------
    >>> d = brier_decomposition([0, 0, 1, 1], [0.2, 0.2, 0.8, 0.8], n_bins=5)
    >>> round(d.brier, 3), round(d.reliability, 3), round(d.resolution, 3), d.uncertainty
    (0.04, 0.04, 0.25, 0.25)
    """
    p = _check_probabilities(y_prob)
    if p.ndim != 1:
        raise ValueError(
            f"y_prob must be 1-dimensional (probability of class 1) for the decomposition, "
            f"got shape {p.shape}"
        )
    y = binary_labels(y_true, "y_true").astype(float)
    same_length((y, "y_true"), (p, "y_prob"))
    bins = reliability_bins(y, p, n_bins=n_bins, strategy=strategy)
    keep = bins.count > 0
    w = bins.weight[keep]
    base_rate = float(y.mean())
    return BrierDecomposition(
        brier=float(np.mean((p - y) ** 2)),
        reliability=float(np.sum(w * (bins.mean_confidence[keep] - bins.accuracy[keep]) ** 2)),
        resolution=float(np.sum(w * (bins.accuracy[keep] - base_rate) ** 2)),
        uncertainty=base_rate * (1.0 - base_rate),
    )


def negative_log_likelihood(y_true: ArrayLike, y_prob: ArrayLike, *, eps: float = 1e-15) -> float:
    """Mean negative log-likelihood (log-loss) of the true labels, in nats.

    Probabilities are clipped to ``[eps, 1 - eps]`` so that one confident
    mistake costs a lot (``-log(eps)``) but not infinity, like
    ``sklearn.metrics.log_loss``.

    Examples
    --------
    >>> round(negative_log_likelihood([1, 0], [0.9, 0.2]), 4)
    0.1643
    """
    p = _check_probabilities(y_prob)
    if p.ndim == 1:
        y = binary_labels(y_true, "y_true").astype(float)
        same_length((y, "y_true"), (p, "y_prob"))
        p_true = np.where(y == 1, p, 1.0 - p)
    else:
        y_idx = _check_class_labels(y_true, p.shape[1])
        same_length((y_idx, "y_true"), (p, "y_prob"))
        p_true = p[np.arange(p.shape[0]), y_idx]
    return float(-np.mean(np.log(np.clip(p_true, eps, 1.0 - eps))))


# ---------------------------------------------------------------------------
# Plots (matplotlib is imported lazily so the metrics work without it)
# ---------------------------------------------------------------------------


def _get_ax(ax: Axes | None, figsize: tuple[float, float] = (5, 4.5)) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new_ax = plt.subplots(figsize=figsize)
    return new_ax


def plot_reliability_diagram(
    y_true: ArrayLike,
    y_prob: ArrayLike,
    *,
    n_bins: int = 10,
    strategy: str = "uniform",
    ax: Axes | None = None,
    label: str | None = None,
    histogram: bool = True,
) -> Axes:
    """Reliability diagram: accuracy against mean confidence per bin, with the diagonal.

    Points below the diagonal are over-confident bins (confidence > accuracy),
    points above it under-confident ones. The ECE is shown in the legend. With
    ``histogram=True`` a histogram of the confidences is drawn along the bottom
    (on a twin y-axis), because a bin's gap matters only as much as the
    examples in it.

    Call it again with the same ``ax`` (and ``histogram=False``) to overlay models.

    Returns
    -------
    matplotlib.axes.Axes
        The main axes: the diagonal is its first line, the model's curve the next.
    """
    bins = reliability_bins(y_true, y_prob, n_bins=n_bins, strategy=strategy)
    confidence, _ = _confidence_and_outcome(y_true, y_prob)
    ece = expected_calibration_error(y_true, y_prob, n_bins=n_bins, strategy=strategy)
    ax = _get_ax(ax)
    if not ax.lines:
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    keep = bins.count > 0
    name = label or "model"
    ax.plot(
        bins.mean_confidence[keep], bins.accuracy[keep], marker="o", label=f"{name} (ECE = {ece:.3f})"
    )
    is_binary = np.ndim(y_prob) == 1
    ax.set_xlabel("predicted probability of class 1" if is_binary else "confidence (top-label probability)")
    ax.set_ylabel("observed frequency of class 1" if is_binary else "accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(f"Reliability diagram ({strategy} bins)")
    ax.legend(loc="upper left")
    if histogram:
        hist_ax = ax.twinx()
        hist_ax.hist(confidence, bins=np.linspace(0, 1, 41), color="grey", alpha=0.3)
        # Keep the histogram in the bottom quarter so it does not hide the curve.
        hist_ax.set_ylim(0, 4 * max(hist_ax.get_ylim()[1], 1))
        hist_ax.set_yticks([])
    return ax


# ---------------------------------------------------------------------------
# Calibrating after training: Platt scaling, isotonic regression, temperature
# ---------------------------------------------------------------------------


def logit(p: ArrayLike, eps: float = 1e-12) -> np.ndarray:
    """``log(p / (1 - p))`` with ``p`` clipped to ``[eps, 1 - eps]``: probabilities -> scores.

    Examples
    --------
    >>> logit([0.5, 0.8]).round(4).tolist()
    [0.0, 1.3863]
    """
    q = np.clip(finite_array(p, "p", ndims=(1, 2)), eps, 1.0 - eps)
    return np.log(q) - np.log1p(-q)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    # exp of a clipped argument stays finite; sigmoid(+-500) is 0/1 in float64.
    return 1.0 / (1.0 + np.exp(-np.clip(z, -500.0, 500.0)))


def softmax(logits: ArrayLike, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``logits / temperature``, shape (n_samples, n_classes).

    Examples
    --------
    >>> softmax([[0.0, 0.0], [0.0, np.log(3.0)]]).round(3).tolist()
    [[0.5, 0.5], [0.25, 0.75]]
    """
    z = finite_array(logits, "logits", ndims=(2,)) / float(temperature)
    z = z - z.max(axis=1, keepdims=True)  # the max-trick: exp never overflows
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _logistic_newton(
    x: np.ndarray, target: np.ndarray, *, max_iter: int, tol: float
) -> tuple[float, float, int]:
    """Minimise the mean cross-entropy of ``sigmoid(a x + b)`` against soft ``target`` in [0, 1].

    Newton's method on two parameters, with step halving whenever the loss
    would go up; the loss is convex, so this converges from any start.
    """
    X = np.column_stack([x, np.ones_like(x)])
    w = np.zeros(2)
    rate = float(np.clip(target.mean(), 1e-12, 1 - 1e-12))
    w[1] = np.log(rate / (1.0 - rate))  # start at the base rate

    def loss(weights: np.ndarray) -> float:
        z = X @ weights
        # log(1 + e^z) - t z, computed stably
        return float(np.mean(np.logaddexp(0.0, z) - target * z))

    current = loss(w)
    for iteration in range(1, max_iter + 1):
        p = _sigmoid(X @ w)
        grad = X.T @ (p - target) / x.size
        hess = (X * (p * (1.0 - p))[:, None]).T @ X / x.size
        hess += 1e-12 * np.eye(2)  # keeps a degenerate (e.g. constant-score) problem solvable
        step = np.linalg.solve(hess, grad)
        scale = 1.0
        while True:
            candidate = w - scale * step
            new = loss(candidate)
            if new <= current + 1e-15 or scale < 1e-10:
                break
            scale /= 2.0
        w, current = candidate, new
        if np.max(np.abs(scale * step)) < tol:
            return float(w[0]), float(w[1]), iteration
    return float(w[0]), float(w[1]), max_iter


def _record_columns(estimator: BaseEstimator, X: Any, values: np.ndarray, *, reset: bool) -> None:
    """Record (in ``fit``: ``reset``) or check the input's columns, as scikit-learn does.

    Sets or checks ``n_features_in_`` (a 1-D input counts as one column) and,
    for a pandas DataFrame, ``feature_names_in_``, with scikit-learn's messages.
    """
    columns = X if hasattr(X, "columns") else values.reshape(values.shape[0], -1)
    validate_data(estimator, columns, reset=reset, skip_check_array=True)


def _require_fit(estimator: BaseEstimator, attribute: str) -> None:
    """:class:`NotFittedError` (scikit-learn's message) unless ``fit`` has set ``attribute``.

    Cheaper than ``check_is_fitted``, which scans every attribute: calibrators
    sit in serving paths that call ``predict`` once per small batch.
    """
    if not hasattr(estimator, attribute):
        raise NotFittedError(f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' with "
                             "appropriate arguments before using this estimator.")


def _is_fitted(estimator: BaseEstimator) -> bool:
    try:
        check_is_fitted(estimator)
    except NotFittedError:
        return False
    return True


class _ReprShowsFit:
    """Mixin: scikit-learn's repr (the parameters that differ from their defaults), then what ``fit`` learned."""

    def _fitted_summary(self) -> str:  # pragma: no cover - overridden
        return ""

    def __repr__(self, N_CHAR_MAX: int = 700) -> str:  # noqa: N803 - scikit-learn's signature
        base = super().__repr__(N_CHAR_MAX)  # type: ignore[misc]
        if not _is_fitted(self):  # type: ignore[arg-type]
            return base
        return f"{base[:-1]}{'' if base.endswith('()') else ', '}{self._fitted_summary()})"


class _BinaryCalibrator(_ReprShowsFit, BaseEstimator):
    """Shared input and outputs of the score calibrators: ``predict`` gives P(class 1).

    ``X`` holds one score per example, of shape ``(n_samples,)`` or
    ``(n_samples, 1)`` (a one-column array or frame, as in a pipeline);
    ``y`` holds the 0/1 labels.

    There is no scikit-learn mixin for this kind of model: ``predict``
    returns probabilities, not classes (so not ``ClassifierMixin``), and a
    regressor has no ``predict_proba`` (so not ``RegressorMixin``).
    """

    def _scores(self, X: ArrayLike, *, reset: bool) -> np.ndarray:
        """``X`` as a 1-D float array of scores; ``reset`` (in ``fit``) records the one column."""
        s = finite_array(X, "X", ndims=(1, 2))
        n_features = 1 if s.ndim == 1 else s.shape[1]
        if n_features != 1:
            raise ValueError(
                f"X has {n_features} features, but {type(self).__name__} is expecting 1 features as input: "
                f"one score per example, of shape (n_samples,) or (n_samples, 1), got shape {s.shape}"
            )
        # On a plain array the one column was checked above; scikit-learn's check (the slow part of a
        # small predict) is only needed to record the column, or to check a frame's column name.
        if reset or hasattr(X, "columns"):
            _record_columns(self, X, s, reset=reset)
        return s.reshape(-1)

    def predict(self, X: ArrayLike) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Probabilities of classes 0 and 1, shape (n_samples, 2) (scikit-learn's layout)."""
        p = self.predict(X)
        return np.column_stack([1.0 - p, p])

    def __call__(self, X: ArrayLike) -> np.ndarray:
        return self.predict(X)

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.one_d_array = True  # a score per example, shape (n_samples,) ...
        tags.input_tags.two_d_array = True  # ... or a single column (n_samples, 1)
        tags.target_tags.required = True
        # Not a classifier (``predict`` gives probabilities), but the target is
        # binary class labels: this tag says so, and sklearn's checks then
        # draw two-class targets for it.
        tags.classifier_tags = ClassifierTags(multi_class=False)
        return tags


class PlattScaler(_BinaryCalibrator):
    """Platt scaling: ``p = sigmoid(slope * score + intercept)`` fitted on held-out data.

    A two-parameter logistic regression on a single feature, the model's score
    (a decision-function value or a logit; pass probabilities through
    :func:`logit` first). Few parameters, so it needs little data and cannot
    overfit much, but it can only fix miscalibration that is a *sigmoid* of the
    score: a shift (wrong base rate, class re-weighting) and a stretch
    (over- or under-confidence).

    A scikit-learn estimator: ``X`` is the score, of shape ``(n_samples,)``
    or ``(n_samples, 1)``, and ``y`` the 0/1 label; ``clone``, ``get_params``
    and pipelines work, and using it before ``fit`` raises
    ``sklearn.exceptions.NotFittedError`` (a ``ValueError``).

    Parameters
    ----------
    smoothing : bool, default=True
        Platt's (1999) target smoothing: fit against ``(n_pos + 1) / (n_pos + 2)``
        for positives and ``1 / (n_neg + 2)`` for negatives instead of 1 and 0,
        a Bayesian prior that keeps the fit finite on separable data. This is
        what ``CalibratedClassifierCV(method="sigmoid")`` does. With
        ``smoothing=False`` it is a plain unpenalised logistic regression.
    max_iter : int, default=100
        Newton iterations.
    tol : float, default=1e-10
        Stop when a step changes both parameters by less than this.

    Attributes
    ----------
    slope_, intercept_ : float
        The fitted parameters. ``slope_ < 1`` on logits means the model was
        over-confident, ``> 1`` under-confident.
    n_iter_ : int
        Newton iterations used.
    n_features_in_ : int
        Always 1: the score.

    Examples
    --------
    >>> scores = np.array([-2.0, -1.0, -0.5, 0.5, 1.0, 2.0])
    >>> platt = PlattScaler(smoothing=False).fit(scores, [0, 0, 1, 0, 1, 1])
    >>> bool(0 < platt.slope_), platt.predict([0.0]).round(3).tolist()
    (True, [0.5])
    >>> PlattScaler(max_iter=50)  # the parameters that differ from the defaults, then what was fitted
    PlattScaler(max_iter=50)
    """

    def __init__(self, smoothing: bool = True, max_iter: int = 100, tol: float = 1e-10) -> None:
        self.smoothing = smoothing
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, X: ArrayLike, y: ArrayLike) -> PlattScaler:
        """Fit on held-out scores ``X`` (shape (n_samples,) or (n_samples, 1)) and 0/1 labels ``y``."""
        if not isinstance(self.smoothing, bool | np.bool_):
            raise ValueError(f"smoothing must be True or False, got {self.smoothing!r}")
        max_iter = integer_at_least(self.max_iter, "max_iter", 1)
        tol = positive_number(self.tol, "tol", allow_zero=True)
        require_target(self, y)
        s = self._scores(X, reset=True)
        labels = binary_labels(y, "y").astype(float)
        same_length((s, "X"), (labels, "y"))
        if self.smoothing:
            n_pos = float(labels.sum())
            n_neg = float(labels.size) - n_pos
            target = np.where(labels == 1, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))
        else:
            target = labels
        self.slope_, self.intercept_, self.n_iter_ = _logistic_newton(s, target, max_iter=max_iter, tol=tol)
        return self

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Calibrated probabilities of class 1, shape (n_samples,)."""
        _require_fit(self, "slope_")
        s = self._scores(X, reset=False)
        return _sigmoid(self.slope_ * s + self.intercept_)

    def _fitted_summary(self) -> str:
        return f"slope_={self.slope_:.4g}, intercept_={self.intercept_:.4g}"


def isotonic_regression(y: ArrayLike, sample_weight: ArrayLike | None = None) -> np.ndarray:
    """The non-decreasing sequence closest to ``y`` in weighted least squares (pool adjacent violators).

    Solves ``min_f sum_i w_i (y_i - f_i)^2`` subject to ``f_1 <= f_2 <= ... <= f_n``.

    The pool-adjacent-violators idea: if two neighbours are in the wrong order
    (``y_i > y_{i+1}``), the best non-decreasing fit gives them the same value,
    so merge them into one block valued at their weighted mean, and repeat on
    the blocks until no neighbours violate the order. The classic algorithm
    walks the data once with a stack; this version merges *every* chain of
    violating neighbour blocks at once per pass, with NumPy, which is safe
    because each violating pair must be equal in the solution. Data that are
    roughly increasing (calibration data) need only a few passes; a long
    descending cascade can need up to ``n`` passes (``O(n^2)``).

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Values, in the order the constraint applies (e.g. sorted by score).
    sample_weight : array-like of shape (n_samples,), optional
        Positive weights; default 1.

    Returns
    -------
    np.ndarray of shape (n_samples,)
        The fitted non-decreasing values. Equals ``sklearn.isotonic.isotonic_regression``.

    Examples
    --------
    >>> isotonic_regression([1.0, 3.0, 2.0, 4.0]).tolist()
    [1.0, 2.5, 2.5, 4.0]
    >>> isotonic_regression([3.0, 2.0, 1.0]).tolist()
    [2.0, 2.0, 2.0]
    """
    values = finite_array(y, "y")
    if sample_weight is None:
        w = np.ones_like(values)
    else:
        w = finite_array(sample_weight, "sample_weight")
        same_length((values, "y"), (w, "sample_weight"))
        if np.any(w <= 0):
            raise ValueError("sample_weight must be positive for every example")
    sums = w * values  # per block: sum of w * y
    weights = w.copy()  # per block: sum of w
    starts = np.arange(values.size)  # per block: index of its first element
    while True:
        means = sums / weights
        violates = means[:-1] > means[1:]  # block j is above block j + 1
        if not violates.any():
            break
        # A block starts a new merged block unless it violates with the one before it.
        new_start = np.r_[True, ~violates]
        group = np.cumsum(new_start) - 1
        sums = np.bincount(group, weights=sums)
        weights = np.bincount(group, weights=weights)
        starts = starts[new_start]
    lengths = np.diff(np.r_[starts, values.size])
    return np.repeat(sums / weights, lengths)


class IsotonicCalibrator(_BinaryCalibrator):
    """Isotonic calibration: the best non-decreasing step function from score to probability.

    Fits :func:`isotonic_regression` to the 0/1 labels sorted by score (tied
    scores are pooled first), then predicts by linear interpolation between the
    fitted points, clipping scores outside the fitted range - exactly
    ``sklearn.isotonic.IsotonicRegression(out_of_bounds="clip")``.

    Non-parametric: it fixes any *monotone* distortion (unlike Platt's
    sigmoid), but it needs more data (hundreds of positives) or it overfits
    into coarse steps, and it creates ties: different scores get the same
    probability, which can lower ROC-AUC slightly.

    A scikit-learn estimator, like :class:`PlattScaler`; it has no parameters.

    Attributes
    ----------
    x_thresholds_, y_thresholds_ : np.ndarray
        The sorted distinct scores and their fitted probabilities.
    n_features_in_ : int
        Always 1: the score.

    Examples
    --------
    >>> iso = IsotonicCalibrator().fit([0.1, 0.2, 0.3, 0.4], [0, 1, 0, 1])
    >>> iso.predict([0.1, 0.25, 0.4]).tolist()
    [0.0, 0.5, 1.0]
    >>> iso
    IsotonicCalibrator(4 points)
    """

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> IsotonicCalibrator:
        """Fit on held-out scores ``X`` (shape (n_samples,) or (n_samples, 1)) and 0/1 labels ``y``.

        ``sample_weight`` (shape (n_samples,), >= 0) weighs the examples; a
        weight of 0 leaves an example out.
        """
        require_target(self, y)
        s = self._scores(X, reset=True)
        labels = binary_labels(y, "y").astype(float)
        same_length((s, "X"), (labels, "y"))
        if sample_weight is None:
            w = np.ones_like(s)
        else:
            w = finite_array(sample_weight, "sample_weight")
            same_length((s, "X"), (w, "sample_weight"))
            if np.any(w < 0) or not np.any(w > 0):
                raise ValueError("sample_weight must be >= 0 for every example, and not all zero")
            keep = w > 0
            s, labels, w = s[keep], labels[keep], w[keep]
        # Pool tied scores: one point per distinct score, with the weighted mean label.
        unique, inverse = np.unique(s, return_inverse=True)
        weight_sum = np.bincount(inverse, weights=w)
        label_mean = np.bincount(inverse, weights=w * labels) / weight_sum
        self.x_thresholds_ = unique
        self.y_thresholds_ = isotonic_regression(label_mean, weight_sum)
        return self

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Calibrated probabilities of class 1, shape (n_samples,)."""
        _require_fit(self, "y_thresholds_")
        s = self._scores(X, reset=False)
        # np.interp clips to the end values outside the range, like out_of_bounds="clip".
        return np.interp(s, self.x_thresholds_, self.y_thresholds_)

    def _fitted_summary(self) -> str:
        return f"{self.x_thresholds_.size} points"


def _is_torch_tensor(value: Any) -> bool:
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")


def _temperature_nll(z: np.ndarray, y: np.ndarray, inv_t: float) -> tuple[float, float, float]:
    """NLL of softmax(inv_t * z) and its first two derivatives with respect to inv_t.

    ``L(b) = mean_i [logsumexp(b z_i) - b z_{i, y_i}]``; ``L' = mean(E_p[z] - z_y)``;
    ``L'' = mean(Var_p[z]) >= 0``, so L is convex in ``b = 1 / T``.
    """
    scaled = inv_t * z
    top = scaled.max(axis=1, keepdims=True)
    e = np.exp(scaled - top)
    total = e.sum(axis=1, keepdims=True)
    p = e / total
    lse = (top + np.log(total))[:, 0]
    z_true = z[np.arange(z.shape[0]), y]
    mean_z = np.sum(p * z, axis=1)
    loss = float(np.mean(lse - inv_t * z_true))
    grad = float(np.mean(mean_z - z_true))
    hess = float(np.mean(np.sum(p * z * z, axis=1) - mean_z**2))
    return loss, grad, hess


class TemperatureScaler(_ReprShowsFit, OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Temperature scaling (Guo et al., 2017): divide a network's logits by one fitted ``T > 0``.

    ``p = softmax(logits / T)``. ``T > 1`` softens over-confident predictions,
    ``T < 1`` sharpens under-confident ones. Dividing every logit by the same
    positive number keeps their order, so the arg-max - and the **accuracy** -
    never changes; only the confidence does. One parameter fitted on a
    validation set: as data-frugal as Platt scaling and it works for any number
    of classes.

    ``T`` minimises the validation negative log-likelihood. As a function of
    ``b = 1 / T`` the NLL is convex (its second derivative is the variance of
    the logits under the model's own probabilities), so the default
    ``method="newton"`` runs a safeguarded 1-D Newton search on ``b``;
    ``method="lbfgs"`` instead optimises ``log T`` with ``torch.optim.LBFGS``,
    as Guo et al.'s reference code does. Both agree with
    ``scipy.optimize.minimize_scalar`` on the NLL.

    A scikit-learn transformer: ``X`` holds the logits, of shape
    ``(n_samples, n_classes)`` (or ``(n_samples,)``: one binary logit per
    example, the class-1 logit against a class-0 logit of 0; NumPy arrays or
    PyTorch tensors), ``y`` the integer class labels ``0 .. n_classes-1``;
    ``transform`` gives the scaled logits and ``predict_proba`` the calibrated
    probabilities. Using it before ``fit`` raises
    ``sklearn.exceptions.NotFittedError`` (a ``ValueError``).

    Parameters
    ----------
    method : {"newton", "lbfgs"}, default="newton"
    bounds : (float, float), default=(0.01, 100.0)
        The range searched for ``T``; the optimum is clipped to it (an NLL that
        keeps falling as ``T -> 0`` means the validation set is perfectly
        separated, and a few more examples would change that).
    max_iter : int, default=100
    tol : float, default=1e-10
        Newton stops when ``|dNLL/db| < tol``.

    Attributes
    ----------
    temperature_ : float
    n_iter_ : int
    n_features_in_ : int
        Columns of the logits seen in ``fit`` (``n_classes``, or 1 for 1-D binary logits).

    Examples
    --------
    >>> logits = np.array([[4.0, 0.0], [0.0, 4.0], [4.0, 0.0], [0.0, 4.0]])
    >>> ts = TemperatureScaler().fit(logits, [0, 1, 1, 1])  # one of four is wrong
    >>> bool(ts.temperature_ > 1), ts.predict_proba(logits).argmax(axis=1).tolist()
    (True, [0, 1, 0, 1])
    """

    def __init__(
        self,
        method: str = "newton",
        bounds: tuple[float, float] = (0.01, 100.0),
        max_iter: int = 100,
        tol: float = 1e-10,
    ) -> None:
        self.method = method
        self.bounds = bounds
        self.max_iter = max_iter
        self.tol = tol

    def _check_params(self) -> tuple[float, float]:
        if self.method not in ("newton", "lbfgs"):
            raise ValueError(f"method must be 'newton' or 'lbfgs', got {self.method!r}")
        try:
            low, high = (float(b) for b in self.bounds)
        except (TypeError, ValueError):
            raise ValueError(f"bounds must be a pair (low, high) of positive numbers, got {self.bounds!r}") from None
        if not 0.0 < low < high < math.inf:
            raise ValueError(f"bounds must satisfy 0 < low < high < inf, got {self.bounds!r}")
        integer_at_least(self.max_iter, "max_iter", 1)
        positive_number(self.tol, "tol", allow_zero=True)
        return low, high

    def fit(self, X: ArrayLike, y: ArrayLike) -> TemperatureScaler:
        """Fit ``T`` on validation logits ``X`` (n_samples, n_classes) - or 1-D binary logits - and labels ``y``."""
        t_low, t_high = self._check_params()
        require_target(self, y)
        z, _ = self._logits(X, reset=True)
        y = _check_class_labels(y, z.shape[1], "y")
        same_length((z, "X"), (y, "y"))
        if self.method == "newton":
            inv_t, self.n_iter_ = self._fit_newton(z, y, 1.0 / t_high, 1.0 / t_low)
            self.temperature_ = float(1.0 / inv_t)
        else:
            self.temperature_, self.n_iter_ = self._fit_lbfgs(z, y, t_low, t_high)
        return self

    def _fit_newton(self, z: np.ndarray, y: np.ndarray, lo: float, hi: float) -> tuple[float, int]:
        # The derivative of a convex function is non-decreasing: keep a bracket
        # [lo, hi] around its root and fall back to bisection whenever a Newton
        # step would leave it (a "safeguarded" Newton method).
        _, g_lo, _ = _temperature_nll(z, y, lo)
        if g_lo >= 0:
            return lo, 1  # NLL increasing on the whole range: the largest T wins
        _, g_hi, _ = _temperature_nll(z, y, hi)
        if g_hi <= 0:
            return hi, 1  # still decreasing at the smallest T allowed
        b = min(max(1.0, lo), hi)
        for iteration in range(1, self.max_iter + 1):
            _, g, h = _temperature_nll(z, y, b)
            if abs(g) < self.tol:
                return b, iteration
            if g > 0:
                hi = b
            else:
                lo = b
            newton = b - g / h if h > 0 else math.nan
            b = newton if lo < newton < hi else 0.5 * (lo + hi)
            if hi - lo < 1e-15 * max(1.0, hi):
                return b, iteration
        return b, self.max_iter

    def _fit_lbfgs(self, z: np.ndarray, y: np.ndarray, t_low: float, t_high: float) -> tuple[float, int]:
        import torch

        logits_t = torch.as_tensor(z, dtype=torch.float64)
        labels_t = torch.as_tensor(y, dtype=torch.long)
        log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
        optimizer = torch.optim.LBFGS(
            [log_t], lr=1.0, max_iter=self.max_iter, tolerance_grad=1e-12,
            tolerance_change=1e-15, line_search_fn="strong_wolfe",
        )
        calls = 0

        def closure() -> torch.Tensor:
            nonlocal calls
            calls += 1
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(logits_t / torch.exp(log_t), labels_t)
            loss.backward()
            return loss

        optimizer.step(closure)
        temperature = float(np.clip(math.exp(float(log_t.detach())), t_low, t_high))
        return temperature, calls

    def _logits(self, X: ArrayLike, *, reset: bool) -> tuple[np.ndarray, bool]:
        """``X`` as a 2-D float logit matrix (1-D binary logits ``z`` become ``[0, z]``), and whether it was 1-D."""
        if _is_torch_tensor(X):
            X = X.detach().cpu().double().numpy()  # type: ignore[union-attr]
        z = finite_array(X, "X", ndims=(1, 2))
        if not reset and z.ndim == 1 and self.n_features_in_ != 1:
            raise ValueError(
                f"X is 1-dimensional (one binary logit per example), but {type(self).__name__} was fitted on "
                f"{self.n_features_in_} columns of logits; Reshape your data: a single example is X.reshape(1, -1)"
            )
        _record_columns(self, X, z, reset=reset)
        if z.ndim == 1:
            return np.column_stack([np.zeros_like(z), z]), True
        if z.shape[1] < 2:
            raise ValueError(
                f"X has 1 feature(s) (shape={z.shape}), but logits need at least 2 columns, one per class; "
                "for a binary model pass the 1-D class-1 logits"
            )
        return z, False

    def transform(self, X: ArrayLike) -> np.ndarray:
        """The scaled logits ``X / T`` (same shape as the input)."""
        check_is_fitted(self)
        z, binary = self._logits(X, reset=False)
        return (z[:, 1] if binary else z) / self.temperature_

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Calibrated probabilities: shape (n_samples, n_classes), or (n_samples,) for 1-D binary logits."""
        check_is_fitted(self)
        z, binary = self._logits(X, reset=False)
        p = softmax(z, self.temperature_)
        return p[:, 1] if binary else p

    __call__ = predict_proba

    def wrap(self, model: torch.nn.Module) -> torch.nn.Module:
        """A PyTorch module that runs ``model`` and divides its logits by ``T``.

        The wrapped model is what you deploy: same predictions, calibrated
        confidences (``softmax`` of its output).
        """
        check_is_fitted(self)
        return _temperature_scaled_class()(model, self.temperature_)

    def _fitted_summary(self) -> str:
        return f"temperature_={self.temperature_:.4g}"


@functools.cache
def _temperature_scaled_class() -> type:
    """The wrapper module class, defined on first use so that importing this module needs no torch."""
    import torch

    class TemperatureScaled(torch.nn.Module):
        """``model(x) / temperature``; the temperature is a buffer, saved with the state dict."""

        def __init__(self, model: torch.nn.Module, temperature: float) -> None:
            super().__init__()
            self.model = model
            self.register_buffer("temperature", torch.tensor(float(temperature)))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.model(x) / self.temperature

    return TemperatureScaled


# ---------------------------------------------------------------------------
# Calibrating before training: a small network, weight decay, label smoothing
# ---------------------------------------------------------------------------


class DigitsSplit(NamedTuple):
    """Standardised 8x8 digit images (64 features, float32) and labels 0-9, in three parts."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def load_digits_split(
    seed: int = 0, *, n_train: int = 500, n_val: int = 500, noise: float = 0.0
) -> DigitsSplit:
    """scikit-learn's bundled digits (1,797 images, no download), split train / val / test.

    The split is stratified by class and decided by ``seed``; the features
    are standardised with the training part's mean and standard deviation.
    ``noise`` adds Gaussian pixel noise (in standardised units) to *all* parts
    to make the task harder.

    Returns
    -------
    DigitsSplit
        ``n_train`` and ``n_val`` rows for training and validation, the
        remaining ``1797 - n_train - n_val`` for testing.

    Examples
    --------
    >>> d = load_digits_split(seed=0)
    >>> d.X_train.shape, d.X_val.shape, d.X_test.shape
    ((500, 64), (500, 64), (797, 64))
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    seed = random_seed(seed)
    n_train = integer_at_least(n_train, "n_train", 1)
    n_val = integer_at_least(n_val, "n_val", 1)
    noise = positive_number(noise, "noise", allow_zero=True)
    X, y = load_digits(return_X_y=True)
    if n_train + n_val > X.shape[0] - 100:
        raise ValueError(
            f"n_train + n_val must leave at least 100 of the {X.shape[0]} images for testing, "
            f"got {n_train} + {n_val}"
        )
    X_train, X_rest, y_train, y_rest = train_test_split(
        X, y, train_size=n_train, stratify=y, random_state=seed
    )
    X_val, X_test, y_val, y_test = train_test_split(
        X_rest, y_rest, train_size=n_val, stratify=y_rest, random_state=seed
    )
    mean = X_train.mean(axis=0)
    scale = X_train.std(axis=0)
    scale[scale == 0] = 1.0  # constant border pixels
    rng = np.random.default_rng(seed)
    parts = []
    for part in (X_train, X_val, X_test):
        standard = (part - mean) / scale
        if noise > 0:
            standard = standard + rng.normal(0.0, noise, size=standard.shape)
        parts.append(standard.astype(np.float32))
    return DigitsSplit(parts[0], y_train, parts[1], y_val, parts[2], y_test)


def train_mlp(
    X: ArrayLike,
    y: ArrayLike,
    *,
    hidden: int = 128,
    epochs: int = 200,
    lr: float = 1e-2,
    batch_size: int = 100,
    weight_decay: float = 0.0,
    label_smoothing: float = 0.0,
    seed: int = 0,
) -> torch.nn.Module:
    """Train a one-hidden-layer ReLU network for classification with Adam.

    The course's small network for calibration experiments. Trained long on
    few examples it drives the training loss towards 0 and becomes
    **over-confident**: the logits keep growing after the training accuracy
    saturates, which is exactly what Guo et al. (2017) observed in modern
    networks.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        Integer class labels ``0 .. n_classes-1``.
    hidden : int, default=128
        Width of the hidden layer.
    epochs : int, default=200
        Passes over the data (mini-batches of ``batch_size``, reshuffled each epoch).
    lr : float, default=1e-2
        Adam's learning rate.
    weight_decay : float, default=0.0
        L2 penalty ``weight_decay * ||W||^2 / 2`` on the weight matrices (not the
        biases), added to the loss: larger values keep the logits small.
    label_smoothing : float in [0, 1), default=0.0
        Train against ``(1 - eps) * onehot + eps / n_classes`` instead of the
        one-hot labels (``torch.nn.functional.cross_entropy(label_smoothing=eps)``):
        the loss no longer rewards pushing a probability all the way to 1.
    seed : int, default=0
        Fixes the initial weights and the batch order. The global PyTorch random
        state is left as it was.

    Returns
    -------
    torch.nn.Module
        ``Sequential(Linear, ReLU, Linear)`` in eval mode; its outputs are logits.

    Examples
    --------
    >>> d = load_digits_split(seed=0, n_train=300, n_val=300)
    >>> net = train_mlp(d.X_train, d.y_train, epochs=20, seed=0)
    >>> logits = predict_logits(net, d.X_test)
    >>> logits.shape, bool(np.mean(logits.argmax(axis=1) == d.y_test) > 0.8)
    ((1197, 10), True)
    """
    import torch

    Xa = finite_array(X, "X", ndims=(2,))
    ya = np.asarray(y)
    n_classes = int(np.max(ya)) + 1 if ya.size and ya.dtype.kind in "iuf" else 0
    labels = _check_class_labels(y, max(n_classes, 2))
    same_length((labels, "y"), (Xa, "X"))
    hidden = integer_at_least(hidden, "hidden", 1)
    epochs = integer_at_least(epochs, "epochs", 1)
    batch_size = integer_at_least(batch_size, "batch_size", 1)
    weight_decay = positive_number(weight_decay, "weight_decay", allow_zero=True)
    label_smoothing = fraction(label_smoothing, "label_smoothing", inclusive="left")
    if not lr > 0:
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    seed = random_seed(seed)

    # A network this small trains several times faster on one thread than on
    # many (thread start-up dominates each tiny matrix product).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train_mlp(Xa, labels, n_classes, hidden, epochs, lr, batch_size, weight_decay, label_smoothing, seed)
    finally:
        torch.set_num_threads(threads)


def _train_mlp(
    Xa: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    hidden: int,
    epochs: int,
    lr: float,
    batch_size: int,
    weight_decay: float,
    label_smoothing: float,
    seed: int,
) -> torch.nn.Module:
    import torch

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = torch.nn.Sequential(
            torch.nn.Linear(Xa.shape[1], hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, max(n_classes, 2))
        )
        X_t = torch.as_tensor(Xa, dtype=torch.float32)
        y_t = torch.as_tensor(labels, dtype=torch.long)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        weights = [m.weight for m in model if isinstance(m, torch.nn.Linear)]
        generator = torch.Generator().manual_seed(seed)
        n = X_t.shape[0]
        model.train()
        for _ in range(epochs):
            order = torch.randperm(n, generator=generator)
            for start in range(0, n, batch_size):
                idx = order[start : start + batch_size]
                loss = torch.nn.functional.cross_entropy(
                    model(X_t[idx]), y_t[idx], label_smoothing=label_smoothing
                )
                if weight_decay > 0:
                    loss = loss + 0.5 * weight_decay * sum((w**2).sum() for w in weights)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
    model.eval()
    return model


def predict_logits(model: torch.nn.Module, X: ArrayLike) -> np.ndarray:
    """Run ``model`` on ``X`` (n_samples, n_features) without gradients.

    Returns the logits as a float64 array of shape (n_samples, n_classes); the
    model's train/eval mode is restored afterwards. See :func:`train_mlp` for an example.
    """
    import torch

    Xa = finite_array(X, "X", ndims=(2,))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        out = model(torch.as_tensor(Xa, dtype=torch.float32))
    model.train(was_training)
    return out.double().numpy()


def compare_training_settings(
    data: DigitsSplit,
    settings: Mapping[str, Mapping[str, Any]],
    *,
    n_bins: int = 15,
    temperature_scaling: bool = False,
    **train_kwargs: Any,
) -> pd.DataFrame:
    """Train the same small network under several settings and compare calibration.

    Parameters
    ----------
    data : DigitsSplit
        Training, validation and test data (see :func:`load_digits_split`).
    settings : mapping name -> keyword arguments of :func:`train_mlp`
        E.g. ``{"plain": {}, "weight decay": {"weight_decay": 1e-3},
        "label smoothing": {"label_smoothing": 0.1}}``.
    n_bins : int, default=15
        Bins of the ECE.
    temperature_scaling : bool, default=False
        Also report the test ECE after temperature scaling fitted on ``data.X_val``.
    **train_kwargs
        Passed to :func:`train_mlp` for every setting (a setting's own values win).

    Returns
    -------
    pandas.DataFrame
        One row per setting (index = name), columns ``accuracy``, ``mean_confidence``,
        ``ece``, ``nll`` and ``brier`` on the **test** part, plus ``temperature`` and
        ``ece_after_ts`` when ``temperature_scaling`` is true.

    Examples
    --------
    >>> d = load_digits_split(seed=0, n_train=300, n_val=300, noise=1.0)
    >>> table = compare_training_settings(d, {"plain": {}, "wd": {"weight_decay": 1e-2}}, epochs=100)
    >>> bool(table.loc["wd", "ece"] < table.loc["plain", "ece"])
    True
    """
    if not isinstance(data, DigitsSplit):
        raise ValueError(f"data must be a DigitsSplit (see load_digits_split), got {type(data).__name__}")
    if not isinstance(settings, Mapping) or not settings:
        raise ValueError(f"settings must be a non-empty mapping name -> train_mlp arguments, got {settings!r}")
    rows = {}
    for name, options in settings.items():
        if not isinstance(options, Mapping):
            raise ValueError(f"settings[{name!r}] must be a mapping of train_mlp arguments, got {options!r}")
        model = train_mlp(data.X_train, data.y_train, **{**train_kwargs, **options})
        logits = predict_logits(model, data.X_test)
        probs = softmax(logits)
        conf, correct = top_label(data.y_test, probs)
        row = {
            "accuracy": float(correct.mean()),
            "mean_confidence": float(conf.mean()),
            "ece": expected_calibration_error(data.y_test, probs, n_bins=n_bins),
            "nll": negative_log_likelihood(data.y_test, probs),
            "brier": brier_score(data.y_test, probs),
        }
        if temperature_scaling:
            scaler = TemperatureScaler().fit(predict_logits(model, data.X_val), data.y_val)
            row["temperature"] = scaler.temperature_
            row["ece_after_ts"] = expected_calibration_error(
                data.y_test, scaler.predict_proba(logits), n_bins=n_bins
            )
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index")


# ---------------------------------------------------------------------------
# Using confidence: selective prediction
# ---------------------------------------------------------------------------


class SelectiveThreshold(NamedTuple):
    """A confidence threshold and what it achieves on the data it was chosen on."""

    threshold: float  # accept (act on) predictions with confidence >= threshold
    precision: float  # share of accepted predictions that are correct / positive
    coverage: float  # share of all examples accepted


def _check_selective(correct: ArrayLike, confidence: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    c = binary_labels(correct, "correct").astype(float)
    s = finite_array(confidence, "confidence")
    same_length((c, "correct"), (s, "confidence"))
    return c, s


def _accept_counts(c: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """At every distinct confidence, highest first: (#accepted, #correct among them, threshold)."""
    order = np.argsort(-s, kind="stable")
    s_sorted, c_sorted = s[order], c[order]
    # A threshold accepts every tied example at once: keep the last of each run.
    last = np.r_[np.flatnonzero(s_sorted[1:] != s_sorted[:-1]), s_sorted.size - 1]
    return last + 1.0, np.cumsum(c_sorted)[last], s_sorted[last]


def selective_threshold(
    correct: ArrayLike,
    confidence: ArrayLike,
    *,
    target_precision: float | None = None,
    target_coverage: float | None = None,
) -> SelectiveThreshold:
    """The confidence threshold that meets a precision or a coverage target on validation data.

    Selective prediction: act on a prediction only when its confidence is at
    least ``threshold``; abstain (or route to a human) otherwise. Give exactly
    one target:

    * ``target_precision``: the **smallest** threshold (largest coverage) whose
      accepted predictions are correct at least this often;
    * ``target_coverage``: the **largest** threshold that still accepts at
      least this share of the examples (all ties at the threshold included).

    For a binary alerting problem pass ``correct = y_true`` (1 = fraud) and
    ``confidence = score``: precision is then the usual precision of the alerts.
    Precision is not monotone in the threshold, and a threshold chosen on
    validation data meets the target there by construction - on new data it
    is an estimate, tighter the more examples it rests on.

    Parameters
    ----------
    correct : array-like of shape (n_samples,)
        1 where the prediction is correct (or the example positive), else 0.
    confidence : array-like of shape (n_samples,)
        The confidence (or score) of each prediction.

    Returns
    -------
    SelectiveThreshold
        ``(threshold, precision, coverage)`` achieved on this data.

    Raises
    ------
    ValueError
        If both or neither target is given, a target is outside (0, 1], or no
        threshold reaches the precision target.

    Examples
    --------
    >>> correct, conf = [1, 1, 0, 1, 0, 0], [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
    >>> selective_threshold(correct, conf, target_precision=0.75)
    SelectiveThreshold(threshold=0.6, precision=0.75, coverage=0.6666666666666666)
    >>> selective_threshold(correct, conf, target_coverage=0.5).threshold
    0.7
    """
    if (target_precision is None) == (target_coverage is None):
        raise ValueError("give exactly one of target_precision and target_coverage")
    c, s = _check_selective(correct, confidence)
    n_accepted, n_correct, thresholds = _accept_counts(c, s)
    precision = n_correct / n_accepted
    coverage = n_accepted / c.size
    if target_precision is not None:
        target = fraction(target_precision, "target_precision", inclusive="right")
        ok = np.flatnonzero(precision >= target - 1e-12)
        if ok.size == 0:
            raise ValueError(
                f"no threshold reaches target_precision={target_precision}; the best precision "
                f"on this data is {precision.max():.4f}"
            )
        k = int(ok[-1])  # thresholds decrease along the arrays: the last one is the smallest
    else:
        target = fraction(target_coverage, "target_coverage", inclusive="right")
        k = int(np.argmax(coverage >= target - 1e-12))
    return SelectiveThreshold(float(thresholds[k]), float(precision[k]), float(coverage[k]))


def risk_coverage_curve(
    correct: ArrayLike, confidence: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Selective risk (error rate of the accepted predictions) against coverage.

    Accepting predictions from the most confident down, each distinct
    confidence gives one point. A good confidence score makes the risk fall
    as coverage shrinks; a useless one leaves it flat at the overall error.

    Returns
    -------
    coverage : np.ndarray of shape (k,)
        Share accepted, increasing to 1.
    risk : np.ndarray of shape (k,)
        Error rate among the accepted.
    thresholds : np.ndarray of shape (k,)
        The distinct confidences, decreasing.

    Examples
    --------
    >>> cov, risk, thr = risk_coverage_curve([1, 1, 0, 1], [0.9, 0.8, 0.7, 0.6])
    >>> cov.tolist(), risk.round(3).tolist()
    ([0.25, 0.5, 0.75, 1.0], [0.0, 0.0, 0.333, 0.25])
    """
    c, s = _check_selective(correct, confidence)
    n_accepted, n_correct, thresholds = _accept_counts(c, s)
    return n_accepted / c.size, 1.0 - n_correct / n_accepted, thresholds


def area_under_risk_coverage(correct: ArrayLike, confidence: ArrayLike) -> float:
    """Area under the risk-coverage curve (AURC): mean selective risk over coverages; lower is better.

    Computed per example (each accepted example adds the risk at its coverage),
    so ties are handled as in :func:`risk_coverage_curve`.

    Examples
    --------
    >>> area_under_risk_coverage([1, 1, 0, 1], [0.9, 0.8, 0.7, 0.6])
    0.14583333333333334
    """
    c, s = _check_selective(correct, confidence)
    n_accepted, n_correct, _ = _accept_counts(c, s)
    risk = 1.0 - n_correct / n_accepted
    # Each run of tied confidences enters at once: weight its risk by the run length.
    run_length = np.diff(np.r_[0.0, n_accepted])
    return float(np.sum(risk * run_length) / c.size)


def plot_risk_coverage(
    correct: ArrayLike, confidence: ArrayLike, *, ax: Axes | None = None, label: str | None = None
) -> Axes:
    """Plot the risk-coverage curve with its AURC in the legend; returns the Axes."""
    coverage, risk, _ = risk_coverage_curve(correct, confidence)
    aurc = area_under_risk_coverage(correct, confidence)
    ax = _get_ax(ax, figsize=(5, 4))
    ax.plot(coverage, risk, drawstyle="steps-post", label=f"{label or 'model'} (AURC = {aurc:.4f})")
    ax.set_xlabel("coverage (share of predictions accepted)")
    ax.set_ylabel("selective risk (error rate of the accepted)")
    ax.set_xlim(0, 1)
    ax.set_ylim(bottom=0)
    ax.set_title("Risk-coverage curve")
    ax.legend(loc="upper left")
    return ax


# ---------------------------------------------------------------------------
# Using confidence: split conformal prediction sets
# ---------------------------------------------------------------------------


def conformal_quantile(scores: ArrayLike, alpha: float) -> float:
    """The split-conformal threshold: the ``ceil((n + 1)(1 - alpha))``-th smallest score.

    If the calibration scores and a new example's score are exchangeable, the
    new score is at most this value with probability at least ``1 - alpha``
    (and at most ``1 - alpha + 1 / (n + 1)`` when scores have no ties). When
    ``(n + 1)(1 - alpha) > n`` there are too few examples for that guarantee
    and the threshold is ``inf`` (every set holds every class).

    Parameters
    ----------
    scores : array-like of shape (n_samples,)
        Non-conformity scores of the calibration examples (larger = stranger).
    alpha : float in (0, 1)
        The allowed miscoverage.

    Examples
    --------
    >>> conformal_quantile(np.arange(1, 20) / 20, alpha=0.1)  # 18th of 19
    0.9
    >>> conformal_quantile([0.1, 0.2, 0.3], alpha=0.1)
    inf
    """
    s = finite_array(scores, "scores")
    alpha = fraction(alpha, "alpha")
    n = s.size
    # A tiny tolerance keeps e.g. (19 + 1) * 0.9 = 18.000000000000004 from becoming 19.
    k = math.ceil((n + 1) * (1.0 - alpha) - 1e-9)
    if k > n:
        return math.inf
    return float(np.partition(s, k - 1)[k - 1])


class SplitConformalClassifier(_ReprShowsFit, BaseEstimator):
    """Split conformal prediction sets with the LAC score ``1 - p(true class)``.

    Fit on a held-out **calibration** set: compute every example's score
    ``s_i = 1 - p_i[y_i]`` (how little probability the model gave the truth)
    and the threshold ``q = conformal_quantile(s, alpha)``. A new example's set
    holds every class ``k`` with ``1 - p[k] <= q``, i.e. ``p[k] >= 1 - q``.

    The guarantee needs no assumption about the model - only that calibration
    and test examples are exchangeable (e.g. drawn i.i.d. from one
    distribution): ``P(y in set) >= 1 - alpha`` on average over calibration
    sets and test points. A better (and better calibrated) model gives smaller
    sets, not better coverage. Sets may be empty (the model is confident and
    the budget ``alpha`` allows being wrong) or hold several classes (the model
    is unsure). Under distribution shift the guarantee is void.

    A scikit-learn estimator: ``X`` holds the model's probabilities, of shape
    ``(n_samples, n_classes)`` with rows summing to 1 (or ``(n_samples,)``:
    P(class 1) of a binary model), ``y`` the integer class labels. It has no
    ``predict`` (a set is not a class, so it is no ``ClassifierMixin``
    classifier): ``predict_sets`` gives the sets. Using it before ``fit``
    raises ``sklearn.exceptions.NotFittedError`` (a ``ValueError``).

    Parameters
    ----------
    alpha : float in (0, 1), default=0.1
        Allowed miscoverage: sets contain the true class with probability >= 1 - alpha.

    Attributes
    ----------
    quantile_ : float
        The conformal threshold ``q`` on the scores (``inf`` if the calibration set is too small).
    n_classes_ : int
    n_calibration_ : int
    n_features_in_ : int
        Columns of the probabilities seen in ``fit`` (``n_classes``, or 1 for 1-D P(class 1)).

    Examples
    --------
    >>> cal = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    >>> cp = SplitConformalClassifier(alpha=0.2).fit(cal, [0, 1, 1, 1])
    >>> cp.quantile_, cp.predict_sets([[0.95, 0.05], [0.5, 0.5]]).tolist()
    (0.6, [[True, False], [True, True]])
    >>> cp
    SplitConformalClassifier(alpha=0.2, quantile_=0.6)
    """

    def __init__(self, alpha: float = 0.1) -> None:
        self.alpha = alpha

    def _probabilities(self, X: ArrayLike, *, reset: bool) -> np.ndarray:
        """``X`` as a 2-D probability matrix (1-D P(class 1) ``p`` becomes ``[1 - p, p]``)."""
        p = _check_probabilities(X, "X")
        _record_columns(self, X, p, reset=reset)
        return np.column_stack([1.0 - p, p]) if p.ndim == 1 else p

    def fit(self, X: ArrayLike, y: ArrayLike) -> SplitConformalClassifier:
        """Fit on calibration probabilities ``X`` (n, n_classes) - or 1-D P(class 1) - and labels ``y``."""
        alpha = fraction(self.alpha, "alpha")
        require_target(self, y)
        p = self._probabilities(X, reset=True)
        y = _check_class_labels(y, p.shape[1], "y")
        same_length((p, "X"), (y, "y"))
        scores = 1.0 - p[np.arange(p.shape[0]), y]
        self.quantile_ = conformal_quantile(scores, alpha)
        self.n_classes_ = p.shape[1]
        self.n_calibration_ = p.shape[0]
        return self

    def predict_sets(self, X: ArrayLike) -> np.ndarray:
        """Prediction sets as a boolean mask of shape (n_samples, n_classes), for probabilities ``X``."""
        check_is_fitted(self)
        p = self._probabilities(X, reset=False)
        return (1.0 - p) <= self.quantile_

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags

    __call__ = predict_sets

    def _fitted_summary(self) -> str:
        return f"quantile_={self.quantile_:.4g}"


def _check_sets(sets: ArrayLike) -> np.ndarray:
    m = np.asarray(sets)
    if m.ndim != 2 or m.shape[0] == 0:
        raise ValueError(f"sets must be a non-empty boolean mask (n_samples, n_classes), got shape {m.shape}")
    if m.dtype != bool:
        if not np.isin(np.unique(m), [0, 1]).all():
            raise ValueError("sets must be a boolean mask (or 0/1), one column per class")
        m = m.astype(bool)
    return m


def set_coverage(sets: ArrayLike, y_true: ArrayLike) -> float:
    """Empirical coverage: the share of examples whose true class is in their set.

    Examples
    --------
    >>> set_coverage([[True, False], [True, True], [False, False]], [0, 1, 1])
    0.6666666666666666
    """
    m = _check_sets(sets)
    y = _check_class_labels(y_true, m.shape[1])
    same_length((y, "y_true"), (m, "sets"))
    return float(np.mean(m[np.arange(m.shape[0]), y]))


def average_set_size(sets: ArrayLike) -> float:
    """Mean number of classes per prediction set (smaller is more informative).

    Examples
    --------
    >>> average_set_size([[True, False], [True, True], [False, False]])
    1.0
    """
    return float(_check_sets(sets).sum(axis=1).mean())


# ---------------------------------------------------------------------------
# Data: a miscalibrated fraud model on the course's data world
# ---------------------------------------------------------------------------

_SPLITS = ("train", "val", "test")


def _fraud_design_matrix(tx: pd.DataFrame) -> np.ndarray:
    """Numeric features of world transactions for a linear fraud model (missing values filled)."""
    from mlcourse.world import DEVICES, MERCHANT_CATEGORIES

    distance = tx["distance_km"].to_numpy(dtype=float)
    age = tx["account_age_days"].to_numpy(dtype=float)
    columns = [
        np.log(tx["amount"].to_numpy(dtype=float)),
        np.log1p(np.nan_to_num(distance, nan=float(np.nanmedian(distance)))),
        np.isnan(distance).astype(float),
        np.log1p(np.nan_to_num(age, nan=float(np.nanmedian(age)))),
        np.log1p(tx["tx_count_24h"].to_numpy(dtype=float)),
        (tx["hour"].to_numpy() < 6).astype(float),
        tx["is_foreign"].to_numpy(dtype=float),
        tx["is_new_device"].to_numpy(dtype=float),
    ]
    category = tx["merchant_category"].astype(str).to_numpy()
    columns += [(category == c).astype(float) for c in MERCHANT_CATEGORIES[1:]]
    device = tx["device"].astype(object).to_numpy()
    columns += [(device == d).astype(float) for d in DEVICES[1:]]
    return np.column_stack(columns)


def make_fraud_scores(
    seed: int = 0, *, n_transactions: int = 60_000, balanced: bool = True
) -> pd.DataFrame:
    """Fraud scores from a simple model on the course's data world, with the true probability.

    A stationary world (no drift) is generated with ``seed``, split at random
    into train / val / test (50% / 25% / 25%), and a logistic regression on a
    dozen features is fitted on the training part. With ``balanced=True`` (the
    default) it is trained with ``class_weight="balanced"``, a common fix for
    rare classes that **inflates** the scores: the model ranks well but its
    "probabilities" are far above the true fraud rates - a realistic case for
    calibration. The world's ``fraud_probability``, the probability with which
    each label was actually drawn, shows what a perfectly calibrated forecaster
    would say.

    Parameters
    ----------
    seed : int, default=0
        Seeds the world and the split.
    n_transactions : int, default=60_000
        Transactions in the world (about 2% fraud).
    balanced : bool, default=True
        Re-weight the classes when training (miscalibrated) or not.

    Returns
    -------
    pandas.DataFrame
        One row per transaction: ``split`` ("train", "val", "test"), ``score``
        (the model's P(fraud), in (0, 1)), ``logit`` (its log-odds),
        ``is_fraud`` (0/1 truth), ``fraud_probability`` (the true probability),
        ``is_hard_negative`` (legit but pushed to look like fraud), and the
        context columns ``amount``, ``merchant_category``, ``customer_group``,
        ``device``, ``is_foreign``, ``is_new_device``.

    Examples
    --------
    >>> df = make_fraud_scores(seed=0, n_transactions=5_000)
    >>> sorted(df["split"].unique()), bool(df["score"].between(0, 1).all())
    (['test', 'train', 'val'], True)
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from mlcourse.world import make_world

    seed = random_seed(seed)
    n_transactions = integer_at_least(n_transactions, "n_transactions", 1)
    if n_transactions < 1_000:
        raise ValueError(f"n_transactions must be at least 1000 (fraud is rare), got {n_transactions}")
    if not isinstance(balanced, bool | np.bool_):
        raise ValueError(f"balanced must be True or False, got {balanced!r}")
    world = make_world(
        seed=seed,
        n_transactions=n_transactions,
        n_customers=max(100, n_transactions // 10),
        drift=(),
    )
    tx = world.transactions
    X = _fraud_design_matrix(tx)
    y = tx["is_fraud"].to_numpy()
    rng = np.random.default_rng(seed)
    split = np.array(_SPLITS)[np.searchsorted([0.5, 0.75], rng.random(len(tx)), side="right")]
    train = split == "train"
    model = make_pipeline(
        StandardScaler(),
        LogisticRegression(class_weight="balanced" if balanced else None, max_iter=500),
    )
    model.fit(X[train], y[train])
    z = model.decision_function(X)
    out = tx[
        ["amount", "merchant_category", "customer_group", "device", "is_foreign", "is_new_device"]
    ].copy()
    out.insert(0, "split", pd.Categorical(split, categories=_SPLITS))
    out.insert(1, "score", _sigmoid(z))
    out.insert(2, "logit", z)
    out.insert(3, "is_fraud", y)
    out.insert(4, "fraud_probability", tx["fraud_probability"].to_numpy())
    out.insert(5, "is_hard_negative", tx["is_hard_negative"].to_numpy())
    return out.reset_index(drop=True)
