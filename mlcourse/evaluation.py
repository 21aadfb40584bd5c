"""Evaluation measures for classifiers, scorers and regressors.

Stage 4 of the course roadmap. Every function here is written from the
definitions in plain, vectorised NumPy so that learners can read how a
metric is computed, and every one is cross-checked against scikit-learn in
``tests/test_evaluation.py``.

Conventions used throughout
---------------------------
* ``y_true`` / ``y_pred`` are 1-D arrays of class labels of equal length
  ``n_samples``. Binary helpers treat ``pos_label`` (default ``1``) as the
  positive class.
* ``scores`` are 1-D arrays of real numbers where *larger means more likely
  positive* (probabilities, logits, ranks...). Score-based functions expect
  ``y_true`` to contain only ``0`` and ``1`` (``bool`` is accepted).
* A threshold ``t`` turns scores into predictions with ``scores >= t``.
* Ratios that are undefined (``0 / 0``) are replaced by ``zero_division``,
  exactly as ``sklearn.metrics`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from mlcourse._checks import binary_labels, finite_array, fraction, integer_at_least, positive_number, same_length

if TYPE_CHECKING:  # pragma: no cover - imported only for type hints
    from matplotlib.axes import Axes

__all__ = [
    "ConfusionCounts",
    "binary_counts",
    "confusion_matrix",
    "accuracy",
    "precision_recall_fscore",
    "precision",
    "recall",
    "f1",
    "fbeta",
    "roc_curve",
    "roc_auc",
    "precision_recall_curve",
    "average_precision",
    "mean_squared_error",
    "mean_absolute_error",
    "r2_score",
    "ThresholdChoice",
    "choose_threshold",
    "threshold_for_recall",
    "expected_cost",
    "cost_optimal_threshold",
    "BootstrapResult",
    "bootstrap_ci",
    "slice_metrics",
    "plot_roc",
    "plot_precision_recall",
    "plot_confusion_matrix",
    "plot_cost_curve",
]

_AVERAGES = ("binary", "micro", "macro", "weighted", None)
_THRESHOLD_METRICS = ("f1", "precision", "recall", "accuracy")


# ---------------------------------------------------------------------------
# Input validation helpers
# ---------------------------------------------------------------------------


def _as_1d(values: ArrayLike, name: str) -> np.ndarray:
    """Return ``values`` as a non-empty 1-D array, or raise a clear error."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional, got an array of shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty; at least one example is required")
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN; labels must be defined for every example")
    return arr


def _is_text(arr: np.ndarray) -> bool:
    return arr.dtype.kind in "OUS"


def _check_label_pair(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validate two label vectors that will be compared element-wise."""
    t = _as_1d(y_true, "y_true")
    p = _as_1d(y_pred, "y_pred")
    same_length((t, "y_true"), (p, "y_pred"))
    # Mixing e.g. ints and strings would silently turn 1 into "1" when NumPy
    # builds the union of labels, so refuse it up front.
    if _is_text(t) != _is_text(p):
        raise ValueError(
            "y_true and y_pred must hold labels of the same kind (both numeric or both "
            f"strings), got dtypes {t.dtype} and {p.dtype}"
        )
    return t, p


def _check_binary_scores(y_true: ArrayLike, scores: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validate a (0/1 labels, real scores) pair; return (bool mask, float scores)."""
    y = binary_labels(y_true, "y_true") == 1
    s = finite_array(scores, "scores")
    same_length((y, "y_true"), (s, "scores"))
    return y, s


def _check_zero_division(zero_division: float) -> float:
    try:
        value = float(zero_division)
    except (TypeError, ValueError):
        raise ValueError(
            f"zero_division must be a number in [0, 1] or NaN, got {zero_division!r}"
        ) from None
    if not np.isnan(value) and not 0.0 <= value <= 1.0:
        raise ValueError(f"zero_division must be a number in [0, 1] or NaN, got {zero_division!r}")
    return value


def _safe_divide(num: np.ndarray, den: np.ndarray, zero_division: float) -> np.ndarray:
    """Element-wise ``num / den`` with ``zero_division`` wherever ``den == 0``."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    undefined = den == 0
    # Dividing by 1 where den == 0 avoids a RuntimeWarning; those cells are
    # overwritten straight after.
    out = num / np.where(undefined, 1.0, den)
    return np.where(undefined, zero_division, out)


# ---------------------------------------------------------------------------
# Confusion counts and label metrics
# ---------------------------------------------------------------------------


class ConfusionCounts(NamedTuple):
    """The four cells of a binary confusion matrix (counts of examples)."""

    tn: int
    fp: int
    fn: int
    tp: int


def _check_binary_labels(t: np.ndarray, p: np.ndarray, pos_label: Any) -> None:
    present = np.union1d(t, p)
    if present.size > 2:
        raise ValueError(
            f"expected binary labels but y_true and y_pred together contain {present.size} "
            f"distinct labels {present.tolist()}; use average='micro', 'macro', 'weighted' "
            "or None for multi-class data"
        )
    if present.size == 2 and pos_label not in present.tolist():
        raise ValueError(
            f"pos_label={pos_label!r} is not one of the labels present {present.tolist()}"
        )


def binary_counts(y_true: ArrayLike, y_pred: ArrayLike, pos_label: Any = 1) -> ConfusionCounts:
    """Count true/false positives/negatives for a binary problem.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels; together at most two distinct values.
    pos_label : label, default=1
        The label counted as "positive"; every other label is "negative".

    Returns
    -------
    ConfusionCounts
        Named tuple ``(tn, fp, fn, tp)`` of integer counts summing to ``n_samples``.

    Examples
    --------
    >>> binary_counts([0, 1, 1, 0], [0, 1, 0, 1])
    ConfusionCounts(tn=1, fp=1, fn=1, tp=1)
    """
    t, p = _check_label_pair(y_true, y_pred)
    _check_binary_labels(t, p, pos_label)
    actual = t == pos_label
    predicted = p == pos_label
    tp = int(np.sum(actual & predicted))
    fp = int(np.sum(~actual & predicted))
    fn = int(np.sum(actual & ~predicted))
    tn = int(t.size - tp - fp - fn)
    return ConfusionCounts(tn=tn, fp=fp, fn=fn, tp=tp)


def confusion_matrix(
    y_true: ArrayLike, y_pred: ArrayLike, labels: ArrayLike | None = None
) -> np.ndarray:
    """Multi-class confusion matrix.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.
    labels : array-like of shape (n_labels,), optional
        Labels indexing the rows/columns, in this order. Defaults to the
        sorted union of the labels in ``y_true`` and ``y_pred``. Examples whose
        true or predicted label is not listed are ignored (as in scikit-learn).

    Returns
    -------
    np.ndarray of shape (n_labels, n_labels), dtype int
        ``cm[i, j]`` is the number of examples with true label ``labels[i]``
        that were predicted as ``labels[j]``: rows = true, columns = predicted.

    Examples
    --------
    >>> confusion_matrix(["cat", "dog", "dog"], ["cat", "cat", "dog"])
    array([[1, 0],
           [1, 1]])
    """
    t, p = _check_label_pair(y_true, y_pred)
    if labels is None:
        label_arr = np.union1d(t, p)
    else:
        label_arr = _as_1d(labels, "labels")
        if np.unique(label_arr).size != label_arr.size:
            raise ValueError(f"labels must be unique, got {label_arr.tolist()}")
    n_labels = label_arr.size

    # Map each label to its position in `labels` with a binary search on a
    # sorted copy; labels not in the list get -1 and are dropped below.
    order = np.argsort(label_arr, kind="stable")
    sorted_labels = label_arr[order]

    def to_index(values: np.ndarray) -> np.ndarray:
        pos = np.clip(np.searchsorted(sorted_labels, values), 0, n_labels - 1)
        found = sorted_labels[pos] == values
        return np.where(found, order[pos], -1)

    ti, pi = to_index(t), to_index(p)
    keep = (ti >= 0) & (pi >= 0)
    # Encode each (true, pred) pair as one integer so a single bincount
    # tallies the whole matrix.
    flat = np.bincount(ti[keep] * n_labels + pi[keep], minlength=n_labels * n_labels)
    return flat.reshape(n_labels, n_labels)


def accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Fraction of examples whose predicted label equals the true label.

    Returns
    -------
    float
        In ``[0, 1]``.

    Examples
    --------
    >>> accuracy([0, 1, 1, 0], [0, 1, 0, 0])
    0.75
    """
    t, p = _check_label_pair(y_true, y_pred)
    return float(np.mean(t == p))


def _nan_average(values: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Weighted mean ignoring NaN entries (NaN comes from ``zero_division=nan``)."""
    keep = ~np.isnan(values)
    if not keep.any():
        return float("nan")
    if weights is None or weights[keep].sum() == 0:
        # scikit-learn falls back to an unweighted mean when all weights are 0.
        return float(np.mean(values[keep]))
    return float(np.average(values[keep], weights=weights[keep]))


def precision_recall_fscore(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    beta: float = 1.0,
    average: str | None = "binary",
    pos_label: Any = 1,
    zero_division: float = 0.0,
) -> tuple[Any, Any, Any]:
    """Precision, recall and F-beta score, optionally averaged over classes.

    For one class with ``tp`` true positives, ``fp`` false positives and
    ``fn`` false negatives::

        precision = tp / (tp + fp)
        recall    = tp / (tp + fn)
        F_beta    = (1 + beta**2) tp / ((1 + beta**2) tp + beta**2 fn + fp)

    The semantics match ``sklearn.metrics.precision_recall_fscore_support``.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        True and predicted labels.
    beta : float, default=1.0
        Weight of recall relative to precision (``beta > 1`` favours recall).
        Must be positive.
    average : {"binary", "micro", "macro", "weighted", None}, default="binary"
        * ``"binary"``: scores of the class ``pos_label`` only; the data must
          contain at most two labels.
        * ``"micro"``: pool tp/fp/fn over all classes, then divide.
        * ``"macro"``: unweighted mean of the per-class scores.
        * ``"weighted"``: mean of per-class scores weighted by support
          (the number of true examples of each class).
        * ``None``: per-class arrays, classes in sorted order.
    pos_label : label, default=1
        Positive class for ``average="binary"``; ignored otherwise.
    zero_division : float, default=0.0
        Value used when a ratio is ``0 / 0`` (e.g. precision with no predicted
        positives). ``NaN`` excludes such classes from the averages.

    Returns
    -------
    (precision, recall, fscore)
        Floats, or arrays of shape (n_labels,) when ``average is None``.

    Examples
    --------
    >>> p, r, f = precision_recall_fscore([0, 1, 1, 1], [0, 1, 0, 1])
    >>> p, r, round(f, 3)
    (1.0, 0.6666666666666666, 0.8)
    >>> precision_recall_fscore([0, 1, 2, 2], [0, 2, 2, 2], average="macro")[0]
    0.5555555555555555
    """
    if average not in _AVERAGES:
        raise ValueError(f"average must be one of {list(_AVERAGES)}, got {average!r}")
    if not isinstance(beta, int | float | np.number) or not np.isfinite(beta) or beta <= 0:
        raise ValueError(f"beta must be a positive finite number, got {beta!r}")
    zero = _check_zero_division(zero_division)
    t, p = _check_label_pair(y_true, y_pred)

    if average == "binary":
        counts = binary_counts(t, p, pos_label=pos_label)
        tp = np.array([counts.tp])
        pred_sum = np.array([counts.tp + counts.fp])
        true_sum = np.array([counts.tp + counts.fn])
    else:
        cm = confusion_matrix(t, p)
        tp = np.diag(cm)
        pred_sum = cm.sum(axis=0)  # column sums: how often each label was predicted
        true_sum = cm.sum(axis=1)  # row sums: support of each label
        if average == "micro":
            # Pool the counts over classes before dividing.
            tp = tp.sum(keepdims=True)
            pred_sum = pred_sum.sum(keepdims=True)
            true_sum = true_sum.sum(keepdims=True)

    beta2 = float(beta) ** 2
    prec = _safe_divide(tp, pred_sum, zero)
    rec = _safe_divide(tp, true_sum, zero)
    # Written with counts rather than from prec/rec, so F is only undefined
    # when there are no true and no predicted positives at all.
    fscore = _safe_divide((1 + beta2) * tp, beta2 * true_sum + pred_sum, zero)

    if average is None:
        return prec, rec, fscore
    weights = true_sum.astype(float) if average == "weighted" else None
    return _nan_average(prec, weights), _nan_average(rec, weights), _nan_average(fscore, weights)


def precision(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    average: str | None = "binary",
    pos_label: Any = 1,
    zero_division: float = 0.0,
) -> Any:
    """Precision ``tp / (tp + fp)``: of the predicted positives, the share that are real.

    See :func:`precision_recall_fscore` for the parameters.

    Examples
    --------
    >>> precision([0, 1, 1, 0], [1, 1, 1, 0])
    0.6666666666666666
    """
    return precision_recall_fscore(
        y_true, y_pred, average=average, pos_label=pos_label, zero_division=zero_division
    )[0]


def recall(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    average: str | None = "binary",
    pos_label: Any = 1,
    zero_division: float = 0.0,
) -> Any:
    """Recall ``tp / (tp + fn)``: of the real positives, the share that were found.

    See :func:`precision_recall_fscore` for the parameters.

    Examples
    --------
    >>> recall([0, 1, 1, 0], [1, 1, 0, 0])
    0.5
    """
    return precision_recall_fscore(
        y_true, y_pred, average=average, pos_label=pos_label, zero_division=zero_division
    )[1]


def fbeta(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    beta: float,
    *,
    average: str | None = "binary",
    pos_label: Any = 1,
    zero_division: float = 0.0,
) -> Any:
    """F-beta score, the weighted harmonic mean of precision and recall.

    ``beta = 2`` counts recall twice as much as precision; ``beta = 0.5`` the
    reverse. See :func:`precision_recall_fscore` for the parameters.

    Examples
    --------
    >>> round(fbeta([0, 1, 1, 0], [1, 1, 0, 0], beta=2.0), 4)
    0.5
    """
    return precision_recall_fscore(
        y_true,
        y_pred,
        beta=beta,
        average=average,
        pos_label=pos_label,
        zero_division=zero_division,
    )[2]


def f1(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    average: str | None = "binary",
    pos_label: Any = 1,
    zero_division: float = 0.0,
) -> Any:
    """F1 score, the harmonic mean of precision and recall (``fbeta`` with ``beta=1``).

    Examples
    --------
    >>> f1([0, 1, 1, 0], [1, 1, 0, 0])
    0.5
    """
    return fbeta(
        y_true, y_pred, 1.0, average=average, pos_label=pos_label, zero_division=zero_division
    )


# ---------------------------------------------------------------------------
# Score-based (ranking) metrics
# ---------------------------------------------------------------------------


def _threshold_counts(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative false/true positives at every distinct score, highest first.

    Parameters
    ----------
    y : bool array of shape (n,)
        True where the example is positive.
    s : float array of shape (n,)
        Scores.

    Returns
    -------
    fps, tps : int arrays of shape (k,)
        Counts of negatives/positives with ``score >= thresholds[i]``.
    thresholds : float array of shape (k,)
        The ``k`` distinct scores in decreasing order.
    """
    order = np.argsort(s, kind="stable")[::-1]
    s_sorted, y_sorted = s[order], y[order]
    # The last position of each run of equal scores: a threshold includes
    # every tied example at once, which is how ties are handled.
    last_of_run = np.r_[np.flatnonzero(np.diff(s_sorted)), s_sorted.size - 1]
    tps = np.cumsum(y_sorted)[last_of_run]
    fps = last_of_run + 1 - tps
    return fps, tps, s_sorted[last_of_run]


def _require_both_classes(y: np.ndarray, what: str) -> None:
    n_pos = int(y.sum())
    if n_pos == 0 or n_pos == y.size:
        only = "positive (1)" if n_pos else "negative (0)"
        raise ValueError(
            f"{what} is undefined when y_true contains only one class; got only {only} "
            "labels. It needs at least one positive and one negative example."
        )


def roc_curve(y_true: ArrayLike, scores: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Receiver operating characteristic curve.

    One point per distinct score (no points are dropped), plus the starting
    point ``(0, 0)`` whose threshold is ``+inf``. This equals
    ``sklearn.metrics.roc_curve(..., drop_intermediate=False)``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary labels 0/1 with both classes present.
    scores : array-like of shape (n_samples,)
        Real-valued scores, larger = more likely positive.

    Returns
    -------
    fpr : np.ndarray of shape (k + 1,)
        False positive rate ``fp / n_negatives`` at each threshold, increasing.
    tpr : np.ndarray of shape (k + 1,)
        True positive rate (recall) ``tp / n_positives``, increasing.
    thresholds : np.ndarray of shape (k + 1,)
        Decreasing; ``thresholds[0] = inf`` and the rest are the distinct scores.

    Raises
    ------
    ValueError
        If ``y_true`` contains only one class (one of the rates would be 0/0).

    Examples
    --------
    >>> fpr, tpr, thr = roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> fpr.tolist(), tpr.tolist()
    ([0.0, 0.0, 0.5, 0.5, 1.0], [0.0, 0.5, 0.5, 1.0, 1.0])
    """
    y, s = _check_binary_scores(y_true, scores)
    _require_both_classes(y, "the ROC curve")
    fps, tps, thresholds = _threshold_counts(y, s)
    fpr = np.r_[0.0, fps / fps[-1]]
    tpr = np.r_[0.0, tps / tps[-1]]
    return fpr, tpr, np.r_[np.inf, thresholds]


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n of ``values``; tied values share the mean of their ranks."""
    order = np.argsort(values, kind="stable")
    sorted_vals = values[order]
    starts_run = np.r_[True, sorted_vals[1:] != sorted_vals[:-1]]
    run_id = np.cumsum(starts_run) - 1
    run_start = np.flatnonzero(starts_run)  # 0-based first position of each run
    run_end = np.r_[run_start[1:], values.size]  # exclusive end
    # Positions start..end-1 have ranks start+1..end, whose mean is:
    mean_rank = (run_start + 1 + run_end) / 2.0
    ranks = np.empty(values.size, dtype=float)
    ranks[order] = mean_rank[run_id]
    return ranks


def roc_auc(y_true: ArrayLike, scores: ArrayLike) -> float:
    """Area under the ROC curve via the Mann-Whitney U statistic.

    The AUC is the probability that a random positive scores higher than a
    random negative (ties count one half)::

        AUC = (R_pos - n_pos (n_pos + 1) / 2) / (n_pos * n_neg)

    where ``R_pos`` is the sum of the (tie-averaged) ranks of the positives.
    This equals the trapezoidal area under :func:`roc_curve`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary labels 0/1 with both classes present.
    scores : array-like of shape (n_samples,)
        Real-valued scores, larger = more likely positive.

    Returns
    -------
    float
        In ``[0, 1]``; 0.5 for uninformative scores.

    Raises
    ------
    ValueError
        If ``y_true`` contains only one class. (Older scikit-learn raises too;
        recent versions warn and return NaN. An exception is harder to miss
        than a NaN travelling into a report.)

    Examples
    --------
    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    y, s = _check_binary_scores(y_true, scores)
    _require_both_classes(y, "ROC AUC")
    n_pos = float(y.sum())
    n_neg = float(y.size) - n_pos
    rank_sum = _average_ranks(s)[y].sum()
    u_statistic = rank_sum - n_pos * (n_pos + 1) / 2
    return float(u_statistic / (n_pos * n_neg))


def precision_recall_curve(
    y_true: ArrayLike, scores: ArrayLike
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision and recall at every distinct score threshold.

    Matches ``sklearn.metrics.precision_recall_curve``: the arrays run from
    the lowest threshold (recall highest) to the highest, and a final point
    ``precision = 1, recall = 0`` without a threshold closes the curve.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary labels 0/1.
    scores : array-like of shape (n_samples,)
        Real-valued scores, larger = more likely positive.

    Returns
    -------
    precision : np.ndarray of shape (k + 1,)
    recall : np.ndarray of shape (k + 1,)
        Non-increasing. If ``y_true`` has no positives, recall is set to 1 at
        every threshold (scikit-learn's convention) before the final 0.
    thresholds : np.ndarray of shape (k,)
        The distinct scores in increasing order.

    Examples
    --------
    >>> p, r, t = precision_recall_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> p.round(3).tolist(), r.tolist(), t.tolist()
    ([0.5, 0.667, 0.5, 1.0, 1.0], [1.0, 1.0, 0.5, 0.5, 0.0], [0.1, 0.35, 0.4, 0.8])
    """
    y, s = _check_binary_scores(y_true, scores)
    fps, tps, thresholds = _threshold_counts(y, s)
    # Every threshold is an observed score, so tps + fps >= 1: no 0/0 here.
    prec = tps / (tps + fps)
    n_pos = tps[-1]
    rec = tps / n_pos if n_pos > 0 else np.ones(tps.size)
    return np.r_[prec[::-1], 1.0], np.r_[rec[::-1], 0.0], thresholds[::-1]


def average_precision(y_true: ArrayLike, scores: ArrayLike) -> float:
    """Average precision: the step-wise area under the precision-recall curve.

    ``AP = sum_n (R_n - R_{n-1}) * P_n`` over thresholds from high to low,
    i.e. the precision at each threshold weighted by the recall it adds.
    No interpolation is applied (this is scikit-learn's definition, which
    is *not* the trapezoidal area).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary labels 0/1.
    scores : array-like of shape (n_samples,)
        Real-valued scores, larger = more likely positive.

    Returns
    -------
    float
        In ``[0, 1]``. A random scorer scores about the prevalence. With no
        positives in ``y_true`` recall never increases from 0 to anything but
        the closing step, whose precision is 0, so AP is ``0.0`` - the same
        value ``sklearn.metrics.average_precision_score`` returns (it also
        warns). No error is raised.

    Examples
    --------
    >>> round(average_precision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 4)
    0.8333
    """
    prec, rec, _ = precision_recall_curve(y_true, scores)
    # Recall decreases along the arrays, hence the minus sign; max() removes
    # a possible -0.0 from rounding.
    return float(max(0.0, -np.sum(np.diff(rec) * prec[:-1])))


# ---------------------------------------------------------------------------
# Regression metrics
# ---------------------------------------------------------------------------


def _check_regression(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    t = finite_array(y_true, "y_true")
    p = finite_array(y_pred, "y_pred")
    same_length((t, "y_true"), (p, "y_pred"))
    return t, p


def mean_squared_error(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean of squared errors, in the squared units of ``y``.

    Examples
    --------
    >>> mean_squared_error([1.0, 2.0, 3.0], [1.0, 2.0, 5.0])
    1.3333333333333333
    """
    t, p = _check_regression(y_true, y_pred)
    return float(np.mean((t - p) ** 2))


def mean_absolute_error(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean of absolute errors, in the units of ``y``.

    Examples
    --------
    >>> mean_absolute_error([1.0, 2.0, 3.0], [1.0, 2.0, 5.0])
    0.6666666666666666
    """
    t, p = _check_regression(y_true, y_pred)
    return float(np.mean(np.abs(t - p)))


def r2_score(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Coefficient of determination ``1 - SS_res / SS_tot``.

    1 is a perfect fit, 0 is no better than predicting the mean of
    ``y_true``, and negative values are worse than that.

    Returns
    -------
    float
        When ``y_true`` is constant (``SS_tot = 0``) the ratio is undefined;
        like scikit-learn (``force_finite=True``) this returns 1.0 for a
        perfect prediction and 0.0 otherwise.

    Examples
    --------
    >>> r2_score([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    1.0
    >>> r2_score([1.0, 2.0, 3.0], [2.0, 2.0, 2.0])
    0.0
    """
    t, p = _check_regression(y_true, y_pred)
    ss_res = np.sum((t - p) ** 2)
    ss_tot = np.sum((t - np.mean(t)) ** 2)
    if ss_tot == 0:
        return 1.0 if ss_res == 0 else 0.0
    return float(1.0 - ss_res / ss_tot)


# ---------------------------------------------------------------------------
# Choosing a decision threshold
# ---------------------------------------------------------------------------


class ThresholdChoice(NamedTuple):
    """A chosen decision threshold and the metric value it achieves."""

    threshold: float
    value: float


def choose_threshold(
    y_true: ArrayLike,
    scores: ArrayLike,
    metric: str | Callable[[np.ndarray, np.ndarray], float] = "f1",
    *,
    min_precision: float | None = None,
    min_recall: float | None = None,
) -> ThresholdChoice:
    """Pick the score threshold that maximises a metric, optionally under constraints.

    Every distinct score ``t`` is tried as a threshold (predict positive when
    ``score >= t``). Thresholds between two observed scores give the same
    predictions as the upper one, so nothing is missed.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary labels 0/1.
    scores : array-like of shape (n_samples,)
        Real-valued scores, larger = more likely positive.
    metric : {"f1", "precision", "recall", "accuracy"} or callable, default="f1"
        What to maximise. A callable is called as ``metric(y_true, y_pred)``
        with 0/1 integer arrays, once per distinct score (slower). Undefined
        ratios count as 0, as in :func:`precision_recall_fscore`.
    min_precision, min_recall : float in [0, 1], optional
        Only thresholds whose precision / recall reach these values are allowed.

    Returns
    -------
    ThresholdChoice
        ``(threshold, value)``. If several thresholds tie for the best value,
        the largest one (fewest positive predictions) is returned.

    Raises
    ------
    ValueError
        If no threshold satisfies the constraints.

    Examples
    --------
    >>> choose_threshold([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    ThresholdChoice(threshold=0.35, value=0.8)
    >>> choose_threshold([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], "recall", min_precision=0.6)
    ThresholdChoice(threshold=0.35, value=1.0)
    """
    y, s = _check_binary_scores(y_true, scores)
    for name, bound in (("min_precision", min_precision), ("min_recall", min_recall)):
        if bound is not None:
            fraction(bound, name, inclusive="both")
    fps, tps, thresholds = _threshold_counts(y, s)
    n_pos = y.sum()
    fns = n_pos - tps
    prec = tps / (tps + fps)  # at least one predicted positive per threshold
    rec = _safe_divide(tps, np.full(tps.shape, n_pos), 0.0)

    if callable(metric):
        labels = y.astype(int)
        values = np.array([float(metric(labels, (s >= t).astype(int))) for t in thresholds])
    elif metric == "f1":
        values = _safe_divide(2 * tps, 2 * tps + fps + fns, 0.0)
    elif metric == "precision":
        values = prec
    elif metric == "recall":
        values = rec
    elif metric == "accuracy":
        values = (tps + (y.size - n_pos - fps)) / y.size
    else:
        raise ValueError(
            f"metric must be one of {list(_THRESHOLD_METRICS)} or a callable, got {metric!r}"
        )

    allowed = ~np.isnan(values)
    if min_precision is not None:
        allowed &= prec >= min_precision
    if min_recall is not None:
        allowed &= rec >= min_recall
    if not allowed.any():
        raise ValueError(
            "no threshold satisfies the constraints "
            f"(min_precision={min_precision}, min_recall={min_recall}); "
            f"best precision is {prec.max():.3f}, best recall is {rec.max():.3f}"
        )
    # Thresholds are in decreasing order, and argmax returns the first
    # maximum, so ties go to the largest threshold.
    best = int(np.argmax(np.where(allowed, values, -np.inf)))
    return ThresholdChoice(threshold=float(thresholds[best]), value=float(values[best]))


def threshold_for_recall(y_true: ArrayLike, scores: ArrayLike, target_recall: float) -> float:
    """Largest threshold whose recall reaches ``target_recall``.

    Operations teams often say "we must catch 90% of fraud": this finds the
    strictest threshold (fewest alerts) that does so.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary labels 0/1 with at least one positive.
    scores : array-like of shape (n_samples,)
        Real-valued scores, larger = more likely positive.
    target_recall : float in (0, 1]
        Required share of positives with ``score >= threshold``.

    Returns
    -------
    float
        The largest ``t`` such that ``recall(y_true, scores >= t) >= target_recall``;
        it is always the score of some positive example.

    Examples
    --------
    >>> threshold_for_recall([0, 1, 1, 0, 1], [0.2, 0.9, 0.6, 0.7, 0.3], 0.6)
    0.6
    """
    if not 0.0 < target_recall <= 1.0:
        raise ValueError(f"target_recall must be in (0, 1], got {target_recall!r}")
    y, s = _check_binary_scores(y_true, scores)
    n_pos = y.sum()
    if n_pos == 0:
        raise ValueError("y_true has no positive examples, so recall is undefined")
    _, tps, thresholds = _threshold_counts(y, s)
    # Recall only grows as the threshold falls, and recall is 1 at the lowest
    # threshold, so the first threshold that reaches the target always exists.
    first_ok = int(np.argmax(tps / n_pos >= target_recall))
    return float(thresholds[first_ok])


def _check_costs(cost_fp: float, cost_fn: float) -> None:
    """Costs of a false positive and a false negative: finite and >= 0 (a free mistake is allowed)."""
    positive_number(cost_fp, "cost_fp", allow_zero=True)
    positive_number(cost_fn, "cost_fn", allow_zero=True)


def expected_cost(
    y_true: ArrayLike,
    scores: ArrayLike,
    threshold: float,
    *,
    cost_fp: float,
    cost_fn: float,
) -> float:
    """Average misclassification cost per example at one threshold.

    ``(cost_fp * FP + cost_fn * FN) / n_samples`` with predictions
    ``scores >= threshold``. Correct decisions cost nothing.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Binary labels 0/1.
    scores : array-like of shape (n_samples,)
        Real-valued scores.
    threshold : float
        Decision threshold.
    cost_fp, cost_fn : float
        Cost of one false positive / false negative (e.g. in euros), >= 0.

    Returns
    -------
    float
        Mean cost per example, in the units of the costs.

    Examples
    --------
    >>> expected_cost([0, 1, 1, 0], [0.2, 0.9, 0.4, 0.6], 0.5, cost_fp=1.0, cost_fn=10.0)
    2.75
    """
    _check_costs(cost_fp, cost_fn)
    if np.isnan(threshold):
        raise ValueError("threshold must be a number, got NaN")
    y, s = _check_binary_scores(y_true, scores)
    predicted = s >= threshold
    n_fp = np.sum(predicted & ~y)
    n_fn = np.sum(~predicted & y)
    return float((cost_fp * n_fp + cost_fn * n_fn) / y.size)


def _cost_per_threshold(
    y: np.ndarray, s: np.ndarray, cost_fp: float, cost_fn: float
) -> tuple[np.ndarray, np.ndarray]:
    """Expected cost at every distinct score (decreasing thresholds)."""
    fps, tps, thresholds = _threshold_counts(y, s)
    fns = y.sum() - tps
    return (cost_fp * fps + cost_fn * fns) / y.size, thresholds


def cost_optimal_threshold(
    y_true: ArrayLike, scores: ArrayLike, *, cost_fp: float, cost_fn: float
) -> float:
    """Threshold among the distinct scores that minimises :func:`expected_cost`.

    All thresholds are evaluated at once from cumulative counts over the
    sorted scores, so this costs one sort rather than one pass per threshold.

    Returns
    -------
    float
        A distinct value of ``scores``; ties go to the largest threshold.
        Note that "flag nothing" (a threshold above every score) is not
        among the candidates.

    Examples
    --------
    >>> cost_optimal_threshold([0, 1, 1, 0], [0.2, 0.9, 0.4, 0.6], cost_fp=1.0, cost_fn=10.0)
    0.4
    """
    _check_costs(cost_fp, cost_fn)
    y, s = _check_binary_scores(y_true, scores)
    costs, thresholds = _cost_per_threshold(y, s, cost_fp, cost_fn)
    return float(thresholds[int(np.argmin(costs))])


# ---------------------------------------------------------------------------
# Uncertainty and slices
# ---------------------------------------------------------------------------


class BootstrapResult(NamedTuple):
    """Point estimate, percentile interval and the bootstrap distribution."""

    estimate: float
    low: float
    high: float
    samples: np.ndarray


# Rows of resample indices drawn at once; bounds memory to ~80 MB of int64.
_BOOTSTRAP_BLOCK_ELEMENTS = 10_000_000


def bootstrap_ci(
    metric: Callable[[np.ndarray, np.ndarray], float],
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int | None = 0,
) -> BootstrapResult:
    """Percentile bootstrap confidence interval for any paired metric.

    Each resample draws ``n_samples`` example indices with replacement and
    evaluates ``metric(y_true[idx], y_pred[idx])`` - the pairs stay together.
    The interval is given by the ``(1 - confidence) / 2`` and
    ``(1 + confidence) / 2`` quantiles of the resampled values.

    Parameters
    ----------
    metric : callable
        ``metric(y_true, y_pred) -> float``, e.g. :func:`f1` or :func:`roc_auc`
        (then ``y_pred`` holds scores).
    y_true, y_pred : array-like of shape (n_samples, ...)
        Paired data, indexed along the first axis.
    n_resamples : int, default=1000
        Number of bootstrap resamples.
    confidence : float in (0, 1), default=0.95
        Coverage of the interval.
    seed : int or None, default=0
        Seed for ``np.random.default_rng``; the same seed gives the same result.

    Returns
    -------
    BootstrapResult
        ``estimate`` is the metric on the full data; ``low``/``high`` bound the
        interval; ``samples`` (shape (n_kept,)) are the resampled values that
        were defined.

    Raises
    ------
    ValueError
        If the metric is undefined (raises ``ValueError``/``ZeroDivisionError``
        or returns NaN/inf) on more than half of the resamples - e.g. ROC AUC
        when positives are so rare that many resamples contain none.

    Examples
    --------
    >>> res = bootstrap_ci(accuracy, [0, 1, 1, 0, 1, 1], [0, 1, 0, 0, 1, 1], n_resamples=200)
    >>> res.low <= res.estimate <= res.high
    True
    """
    n_resamples = integer_at_least(n_resamples, "n_resamples", 1)
    confidence = fraction(confidence, "confidence")
    t = np.asarray(y_true)
    p = np.asarray(y_pred)
    if t.ndim == 0 or p.ndim == 0:
        raise ValueError("y_true and y_pred must be arrays with one entry per example")
    same_length((t, "y_true"), (p, "y_pred"))
    n = t.shape[0]
    if n == 0:
        raise ValueError("y_true is empty; at least one example is required")

    estimate = float(metric(t, p))
    rng = np.random.default_rng(seed)
    rows_per_block = max(1, _BOOTSTRAP_BLOCK_ELEMENTS // n)
    kept: list[float] = []
    for start in range(0, n_resamples, rows_per_block):
        n_rows = min(rows_per_block, n_resamples - start)
        # One vectorised draw per block; drawing row blocks one after another
        # gives the same stream as a single (n_resamples, n) draw.
        block = rng.integers(0, n, size=(n_rows, n))
        for idx in block:
            try:
                value = float(metric(t[idx], p[idx]))
            except (ValueError, ZeroDivisionError, FloatingPointError):
                continue
            if np.isfinite(value):
                kept.append(value)

    if 2 * len(kept) < n_resamples:
        raise ValueError(
            f"the metric was undefined on {n_resamples - len(kept)} of {n_resamples} "
            "resamples (more than half); the data are too small or too imbalanced for "
            "a bootstrap interval of this metric"
        )
    samples = np.asarray(kept)
    alpha = 1.0 - confidence
    low, high = np.percentile(samples, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return BootstrapResult(estimate=estimate, low=float(low), high=float(high), samples=samples)


def slice_metrics(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    slices: ArrayLike,
    *,
    scores: ArrayLike | None = None,
    min_support: int = 1,
) -> pd.DataFrame:
    """Binary classification metrics per slice (sub-group) of the data.

    A model can look fine overall while failing one customer group; this
    table puts the worst slice first.

    Parameters
    ----------
    y_true, y_pred : array-like of shape (n_samples,)
        Binary labels 0/1 and 0/1 predictions.
    slices : array-like of shape (n_samples,)
        Slice membership of each example (e.g. a customer-group column).
        Missing values form their own slice.
    scores : array-like of shape (n_samples,), optional
        If given, a ``roc_auc`` column is added (NaN for slices with one class).
    min_support : int, default=1
        Minimum number of positives for a slice's metrics to be trusted.

    Returns
    -------
    pandas.DataFrame
        One row per slice value, index named ``"slice"``, columns
        ``n`` (examples), ``positives`` (true positives in y_true),
        ``accuracy``, ``precision``, ``recall``, ``f1``, [``roc_auc``] and
        ``enough_support`` (``positives >= min_support``). Undefined ratios
        are NaN (e.g. recall in a slice without positives), not 0, so they do
        not masquerade as the worst slice. Rows are sorted by recall
        ascending (NaN last, ties keep slice order).

    Examples
    --------
    >>> y_true, y_pred = [1, 1, 0, 1, 0, 1], [1, 0, 0, 1, 0, 1]
    >>> table = slice_metrics(y_true, y_pred, ["a", "a", "a", "b", "b", "b"])
    >>> table.index.tolist(), table["recall"].tolist()
    (['a', 'b'], [0.5, 1.0])
    """
    y = binary_labels(y_true, "y_true") == 1
    p = binary_labels(y_pred, "y_pred") == 1
    same_length((y, "y_true"), (p, "y_pred"))
    if np.ndim(slices) != 1:
        raise ValueError(f"slices must be 1-dimensional, got shape {np.shape(slices)}")
    # A Series keeps a categorical dtype; its own index is dropped so rows
    # line up with y_true by position.
    group = pd.Series(slices).reset_index(drop=True)
    same_length((y, "y_true"), (group, "slices"))
    min_support = integer_at_least(min_support, "min_support", 0)

    frame = pd.DataFrame(
        {
            "slice": group,
            "n": 1,
            "positives": y.astype(int),
            "predicted": p.astype(int),
            "tp": (y & p).astype(int),
            "correct": (y == p).astype(int),
        }
    )
    grouped = frame.groupby("slice", observed=True, dropna=False, sort=True)
    sums = grouped[["n", "positives", "predicted", "tp", "correct"]].sum()
    nan = float("nan")
    fn_plus_fp = sums["positives"] + sums["predicted"] - 2 * sums["tp"]
    table = pd.DataFrame(
        {
            "n": sums["n"],
            "positives": sums["positives"],
            "accuracy": sums["correct"] / sums["n"],
            "precision": _safe_divide(sums["tp"], sums["predicted"], nan),
            "recall": _safe_divide(sums["tp"], sums["positives"], nan),
            "f1": _safe_divide(2 * sums["tp"], 2 * sums["tp"] + fn_plus_fp, nan),
        },
        index=sums.index,
    )

    if scores is not None:
        s = finite_array(scores, "scores")
        same_length((y, "y_true"), (s, "scores"))
        frame["score"] = s
        # Mann-Whitney AUC per slice: rank scores within each slice (ties
        # averaged), then sum the ranks of that slice's positives.
        ranks = grouped["score"].rank(method="average")
        frame["pos_rank"] = ranks * frame["positives"]
        rank_sum = frame.groupby("slice", observed=True, dropna=False, sort=True)["pos_rank"].sum()
        n_pos = sums["positives"].astype(float)
        n_neg = sums["n"] - n_pos
        u_statistic = rank_sum - n_pos * (n_pos + 1) / 2
        table["roc_auc"] = _safe_divide(u_statistic, n_pos * n_neg, nan)

    table["enough_support"] = table["positives"] >= min_support
    table.index.name = "slice"
    return table.sort_values("recall", kind="stable", na_position="last")


# ---------------------------------------------------------------------------
# Plots (matplotlib is imported lazily so the metrics work without it)
# ---------------------------------------------------------------------------


def _get_ax(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new_ax = plt.subplots(figsize=(5, 4))
    return new_ax


def plot_roc(y_true: ArrayLike, scores: ArrayLike, ax: Axes | None = None) -> Axes:
    """Plot the ROC curve with its AUC and the chance diagonal.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on: two lines (the curve, then the diagonal).
    """
    fpr, tpr, _ = roc_curve(y_true, scores)
    ax = _get_ax(ax)
    ax.plot(fpr, tpr, label=f"model (AUC = {roc_auc(y_true, scores):.3f})")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="chance")
    ax.set_xlabel("False positive rate")
    ax.set_ylabel("True positive rate (recall)")
    ax.set_title("ROC curve")
    ax.legend(loc="lower right")
    return ax


def plot_precision_recall(y_true: ArrayLike, scores: ArrayLike, ax: Axes | None = None) -> Axes:
    """Plot the precision-recall curve with AP and the prevalence baseline.

    The baseline is the precision of flagging everything (the positive
    rate): on rare-event data it is far below 0.5, unlike ROC's diagonal.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on: two lines (the curve, then the baseline).
    """
    prec, rec, _ = precision_recall_curve(y_true, scores)
    prevalence = float(np.mean(binary_labels(y_true, "y_true") == 1))
    ax = _get_ax(ax)
    ap = average_precision(y_true, scores)
    # AP is a step-wise sum, so draw the curve as steps to match it.
    ax.plot(rec, prec, drawstyle="steps-post", label=f"model (AP = {ap:.3f})")
    ax.plot([0, 1], [prevalence, prevalence], linestyle="--", color="grey", label="baseline")
    ax.set_xlabel("Recall")
    ax.set_ylabel("Precision")
    ax.set_ylim(0, 1.05)
    ax.set_title("Precision-recall curve")
    ax.legend(loc="upper right")
    return ax


def plot_confusion_matrix(
    cm: ArrayLike, labels: Sequence[Any] | None = None, ax: Axes | None = None
) -> Axes:
    """Show a confusion matrix (rows = true, columns = predicted) as an annotated heat map.

    Parameters
    ----------
    cm : array-like of shape (n_labels, n_labels)
        Counts, e.g. from :func:`confusion_matrix`.
    labels : sequence of length n_labels, optional
        Tick labels; defaults to ``0 .. n_labels - 1``.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on: one image and one text per cell.
    """
    matrix = np.asarray(cm)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"cm must be a square 2-D array, got shape {matrix.shape}")
    n_labels = matrix.shape[0]
    tick_labels = list(range(n_labels)) if labels is None else list(labels)
    if len(tick_labels) != n_labels:
        raise ValueError(
            f"labels must have one entry per row of cm, got {len(tick_labels)} and {n_labels}"
        )
    ax = _get_ax(ax)
    ax.imshow(matrix, cmap="Blues")
    midpoint = (matrix.max() + matrix.min()) / 2
    for (i, j), count in np.ndenumerate(matrix):
        # White text on dark cells keeps the numbers readable.
        colour = "white" if count > midpoint else "black"
        ax.text(j, i, f"{count:g}", ha="center", va="center", color=colour)
    ax.set_xticks(range(n_labels), [str(label) for label in tick_labels])
    ax.set_yticks(range(n_labels), [str(label) for label in tick_labels])
    ax.set_xlabel("Predicted label")
    ax.set_ylabel("True label")
    ax.set_title("Confusion matrix")
    return ax


def plot_cost_curve(
    y_true: ArrayLike,
    scores: ArrayLike,
    cost_fp: float,
    cost_fn: float,
    ax: Axes | None = None,
) -> Axes:
    """Plot expected cost per example against the threshold, marking the optimum.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on: two lines (the cost curve, then a vertical line at
        :func:`cost_optimal_threshold`).
    """
    _check_costs(cost_fp, cost_fn)
    y, s = _check_binary_scores(y_true, scores)
    costs, thresholds = _cost_per_threshold(y, s, cost_fp, cost_fn)
    best = float(thresholds[int(np.argmin(costs))])
    ax = _get_ax(ax)
    # Any threshold in (s_{k-1}, s_k] flags the same examples as s_k, hence
    # "steps-pre" on increasing thresholds.
    ax.plot(thresholds[::-1], costs[::-1], drawstyle="steps-pre", label="expected cost")
    ax.axvline(best, linestyle="--", color="grey", label=f"optimum = {best:.3g}")
    ax.set_xlabel("Threshold (predict positive when score >= threshold)")
    ax.set_ylabel("Expected cost per example")
    ax.set_title(f"Cost curve (FP = {cost_fp:g}, FN = {cost_fn:g})")
    ax.legend(loc="best")
    return ax
