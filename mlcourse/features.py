"""Feature engineering: turning raw columns into inputs a model can learn from.

Stage 2 of the course roadmap. Every transformer here is a small,
hand-written, scikit-learn-compatible estimator (``fit`` / ``transform`` /
``get_feature_names_out``, usable inside :class:`~sklearn.pipeline.Pipeline`
and :class:`~sklearn.compose.ColumnTransformer`, with
``set_output(transform="pandas")``), so that learners can read *how* each
transformation works. Each one is cross-checked against its scikit-learn
counterpart in ``tests/test_features.py``.

What is here
------------
* **Categories**: :class:`OneHotEncoder` (unseen and rare categories go to an
  ``<column>_other`` column, or are ignored) and :class:`TargetEncoder`
  (out-of-fold *cross-fitting* in ``fit_transform``, so that no training row is
  encoded with its own label).
* **Numbers**: :class:`Binner` (quantile or uniform bins), four scalers
  (:class:`StandardScaler`, :class:`RobustScaler`, :class:`LogScaler`,
  :class:`YeoJohnsonScaler`), the rule :func:`recommend_scaler` that picks one
  from the shape of a column's distribution, and :class:`AutoScaler`, which
  applies the recommended scaler column by column.
* **New features**: :class:`PolynomialFeatures` (powers and interactions).
* **Selection**: :func:`mutual_information` and :class:`MutualInfoSelector`
  (filter), :class:`ModelSelector` (embedded, from a model's coefficients or
  importances).
* **Time**: :func:`time_since_last`, :func:`rolling_count` and :func:`past_mean`,
  per-entity features built from each event's *past* only (point-in-time
  correct), the batch definitions an online feature service must reproduce.
* **Composition**: :func:`column_types` and :func:`make_preprocessor`, which
  build a complete ``ColumnTransformer`` for a frame.

Conventions
-----------
* ``X`` is a 2-D array-like of shape ``(n_samples, n_features)``, usually a
  pandas DataFrame; output column names come from ``get_feature_names_out``.
* Numeric transformers work column by column (loops over *columns*, never over
  rows). Scalers ignore ``NaN`` when fitting and keep it when transforming,
  like scikit-learn's; binning and polynomial features reject it (impute
  first). The categorical encoders treat a missing value as a category of its
  own.
* Everything is deterministic; where randomness is involved (the folds of the
  target encoder) it is fixed by ``random_state``.
* Bad arguments raise ``ValueError`` naming the argument and what was expected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations, combinations_with_replacement
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import optimize
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted, validate_data

from mlcourse._checks import finite_number, fraction, integer_at_least, one_of, positive_number

if TYPE_CHECKING:  # pragma: no cover - imported only for type hints
    from matplotlib.axes import Axes
    from sklearn.compose import ColumnTransformer

__all__ = [
    "OneHotEncoder",
    "Binner",
    "StandardScaler",
    "RobustScaler",
    "LogScaler",
    "YeoJohnsonScaler",
    "yeo_johnson",
    "SCALER_METHODS",
    "ScalerAdvice",
    "robust_skewness",
    "outlier_share",
    "recommend_scaler",
    "describe_distributions",
    "AutoScaler",
    "PolynomialFeatures",
    "mutual_information",
    "MutualInfoSelector",
    "ModelSelector",
    "TargetEncoder",
    "time_since_last",
    "rolling_count",
    "past_mean",
    "column_types",
    "make_preprocessor",
    "plot_before_after",
]


# ---------------------------------------------------------------------------
# Small shared helpers
# ---------------------------------------------------------------------------


def _names_out(estimator: BaseEstimator, input_features: ArrayLike | None) -> np.ndarray:
    """The input feature names an estimator was fitted on (checked against ``input_features``)."""
    check_is_fitted(estimator, "n_features_in_")
    fitted = getattr(estimator, "feature_names_in_", None)
    if input_features is None:
        if fitted is not None:
            return np.asarray(fitted, dtype=object)
        return np.asarray([f"x{i}" for i in range(estimator.n_features_in_)], dtype=object)
    names = np.asarray(input_features, dtype=object)
    if names.ndim != 1 or len(names) != estimator.n_features_in_:
        raise ValueError(
            f"input_features should have length equal to the number of features seen in fit "
            f"({estimator.n_features_in_}), got {len(np.atleast_1d(names))}"
        )
    if fitted is not None and not np.array_equal(names, fitted):
        raise ValueError(
            f"input_features is not equal to feature_names_in_: got {list(names)}, fitted on {list(fitted)}"
        )
    return names


def _validate_categories(estimator: BaseEstimator, X: Any, y: Any = "no_validation", *, reset: bool) -> Any:
    """validate_data for categorical input: any column dtype, missing values allowed."""
    if isinstance(X, pd.DataFrame):
        X = X.astype(object)      # category, string and bool columns as plain Python objects
    return validate_data(estimator, X, y, dtype=None, ensure_all_finite=False, reset=reset)


def _category_values(column: np.ndarray) -> np.ndarray:
    """A 1-D object array with every missing value (None, NaN, pd.NA) replaced by NaN."""
    values = np.asarray(column, dtype=object).copy()
    values[pd.isna(values)] = np.nan
    return values


def _learn_categories(column: np.ndarray, name: str) -> np.ndarray:
    """Sorted distinct values of ``column``; NaN (missing) last when present."""
    values = _category_values(column)
    missing = pd.isna(values)
    try:
        categories = np.unique(values[~missing])
    except TypeError:
        kinds = sorted({type(v).__name__ for v in values[~missing]})
        raise ValueError(
            f"column {name!r} mixes value types {kinds}; a categorical column must hold one type "
            "(convert it, e.g. with .astype(str))"
        ) from None
    if missing.any():
        categories = np.append(categories.astype(object), np.nan)
    return categories.astype(object)


def _codes(column: np.ndarray, categories: np.ndarray) -> np.ndarray:
    """Position of each value in ``categories`` (NaN matches NaN); -1 for unseen values."""
    return pd.Index(categories).get_indexer(_category_values(column))


def _nan_safe_scale(scale: np.ndarray) -> np.ndarray:
    """Replace zero (or non-finite) scales by 1, so constant columns map to 0 instead of NaN."""
    scale = np.asarray(scale, dtype=float).copy()
    scale[~np.isfinite(scale) | (scale < 10 * np.finfo(float).eps)] = 1.0
    return scale


# ---------------------------------------------------------------------------
# One-hot encoding
# ---------------------------------------------------------------------------


class OneHotEncoder(TransformerMixin, BaseEstimator):
    """One 0/1 column per category, with rare and unseen categories handled on purpose.

    A linear model cannot use a column of names ("travel", "grocery", ...), and
    numbering the names would invent an order and distances that do not
    exist. One-hot encoding gives every category its own 0/1 column instead.

    Two real-data problems need a decision:

    * **unseen categories**: production data contains a category that training
      data never had (a new merchant type). ``handle_unknown="error"`` refuses
      it, ``"ignore"`` encodes it as all zeros (the model falls back to its
      baseline), ``"other"`` sends it to an explicit ``<column>_other`` column;
    * **rare categories**: a category seen three times gets a weight fitted on
      three rows, which is mostly noise. With ``min_frequency`` such categories
      are grouped into the ``<column>_other`` column.

    Parameters
    ----------
    handle_unknown : {"error", "ignore", "other"}, default="other"
        What to do with a category not seen during ``fit``. With ``"other"``
        each column always gets an ``_other`` output column.
    min_frequency : int >= 1 or float in (0, 1), default=None
        Categories with fewer than ``min_frequency`` rows (an int), or a smaller
        share of the rows than ``min_frequency`` (a float), are *infrequent* and
        grouped into ``<column>_other``. ``None`` keeps every category.

    Attributes
    ----------
    categories_ : list of ndarray
        Every category seen in ``fit``, per input column (sorted, missing last).
    kept_categories_ : list of ndarray
        The categories that get their own output column.
    has_other_ : ndarray of bool
        Whether each input column has an ``_other`` output column.

    Notes
    -----
    Equivalent to ``sklearn.preprocessing.OneHotEncoder(sparse_output=False)``
    with ``handle_unknown="ignore"`` or ``"infrequent_if_exist"``, except that
    the grouped column is called ``<column>_other`` and, with
    ``handle_unknown="other"``, exists even when no category is infrequent.

    Examples
    --------
    >>> enc = OneHotEncoder(handle_unknown="other").fit([["a"], ["b"], ["b"]])
    >>> enc.transform([["b"], ["zzz"]])
    array([[0., 1., 0.],
           [0., 0., 1.]])
    >>> enc.get_feature_names_out().tolist()
    ['x0_a', 'x0_b', 'x0_other']
    """

    def __init__(self, handle_unknown: str = "other", min_frequency: int | float | None = None):
        self.handle_unknown = handle_unknown
        self.min_frequency = min_frequency

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True
        return tags

    def _min_count(self, n_samples: int) -> float:
        m = self.min_frequency
        if m is None:
            return 0.0
        if isinstance(m, (int, np.integer)) and not isinstance(m, (bool, np.bool_)):
            return float(integer_at_least(m, "min_frequency", 1))
        if isinstance(m, (float, np.floating)) and 0.0 < m < 1.0:
            return float(m) * n_samples
        raise ValueError(f"min_frequency must be None, an integer >= 1 or a float in (0, 1), got {m!r}")

    def fit(self, X: ArrayLike, y: Any = None) -> OneHotEncoder:
        """Learn the categories of each column (and which ones are frequent enough)."""
        one_of(self.handle_unknown, "handle_unknown", ("error", "ignore", "other"))
        X = _validate_categories(self, X, reset=True)
        min_count = self._min_count(X.shape[0])
        names = _names_out(self, None)
        self.categories_, self.kept_categories_, has_other = [], [], []
        for j in range(X.shape[1]):
            categories = _learn_categories(X[:, j], names[j])
            counts = np.bincount(_codes(X[:, j], categories), minlength=len(categories))
            frequent = counts >= min_count
            self.categories_.append(categories)
            self.kept_categories_.append(categories[frequent])
            has_other.append(self.handle_unknown == "other" or not frequent.all())
        self.has_other_ = np.asarray(has_other)
        return self

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Return the 0/1 matrix of shape ``(n_samples, n_output_features)``."""
        check_is_fitted(self, "categories_")
        X = _validate_categories(self, X, reset=False)
        names = _names_out(self, None)
        blocks = []
        for j in range(X.shape[1]):
            kept = self.kept_categories_[j]
            codes = _codes(X[:, j], kept)                      # -1: infrequent or unseen
            unseen = _codes(X[:, j], self.categories_[j]) == -1
            if unseen.any() and self.handle_unknown == "error":
                examples = pd.unique(_category_values(X[unseen, j]))[:5].tolist()
                raise ValueError(
                    f"column {names[j]!r} has categories not seen in fit: {examples}; "
                    "use handle_unknown='ignore' or 'other' to accept them"
                )
            width = len(kept) + int(self.has_other_[j])
            block = np.zeros((X.shape[0], width))
            rows = np.flatnonzero(codes >= 0)
            block[rows, codes[rows]] = 1.0
            if self.has_other_[j]:
                # Infrequent categories always go to _other; unseen ones only when asked to.
                to_other = (codes == -1) & (~unseen | (self.handle_unknown == "other"))
                block[to_other, -1] = 1.0
            blocks.append(block)
        return np.hstack(blocks) if blocks else np.zeros((X.shape[0], 0))

    def get_feature_names_out(self, input_features: ArrayLike | None = None) -> np.ndarray:
        """``<column>_<category>`` for each kept category, then ``<column>_other`` where present."""
        check_is_fitted(self, "categories_")
        names = _names_out(self, input_features)
        out = []
        for j, name in enumerate(names):
            out += [f"{name}_{c}" for c in self.kept_categories_[j]]
            if self.has_other_[j]:
                out.append(f"{name}_other")
        return np.asarray(out, dtype=object)


# ---------------------------------------------------------------------------
# Binning
# ---------------------------------------------------------------------------


class Binner(TransformerMixin, BaseEstimator):
    """Cut each numeric column into bins: quantile (equal counts) or uniform (equal widths).

    Binning lets a *linear* model learn a non-linear, even non-monotone effect
    (fraud at very small *and* very large amounts) and makes it insensitive to
    outliers (an extreme value just lands in the last bin). The price: values
    inside a bin become indistinguishable, and every bin costs a parameter.

    * ``strategy="quantile"``: edges at the quantiles, so each bin holds about
      the same number of training rows; robust to skew and outliers.
    * ``strategy="uniform"``: ``n_bins`` equal-width bins between the training
      minimum and maximum; on skewed data most rows fall into the first bin and
      an outlier stretches the range.

    Parameters
    ----------
    n_bins : int >= 2, default=5
    strategy : {"quantile", "uniform"}, default="quantile"
    encode : {"ordinal", "onehot"}, default="ordinal"
        ``"ordinal"`` returns the bin index (0 .. n_bins-1) as one float column
        per input; ``"onehot"`` returns one 0/1 column per bin.
    quantile_method : str, default="averaged_inverted_cdf"
        Passed to ``numpy.quantile`` (scikit-learn 1.9's default).

    Attributes
    ----------
    bin_edges_ : list of ndarray
        Edges per column, ``n_bins_[j] + 1`` of them. Bins narrower than 1e-8
        (repeated quantiles, e.g. on a column with many equal values) are merged.
    n_bins_ : ndarray of int

    Notes
    -----
    A value ``x`` falls in bin ``i`` when ``edges[i] <= x < edges[i+1]``; values
    outside the training range go to the first or last bin. Matches
    ``sklearn.preprocessing.KBinsDiscretizer`` with the same settings.

    Examples
    --------
    >>> Binner(n_bins=2, strategy="uniform").fit([[0.0], [10.0]]).transform([[2.0], [7.0], [99.0]])
    array([[0.],
           [1.],
           [1.]])
    """

    def __init__(
        self,
        n_bins: int = 5,
        strategy: str = "quantile",
        encode: str = "ordinal",
        quantile_method: str = "averaged_inverted_cdf",
    ):
        self.n_bins = n_bins
        self.strategy = strategy
        self.encode = encode
        self.quantile_method = quantile_method

    def fit(self, X: ArrayLike, y: Any = None) -> Binner:
        """Compute the bin edges of every column."""
        n_bins = integer_at_least(self.n_bins, "n_bins", 2)
        one_of(self.strategy, "strategy", ("quantile", "uniform"))
        one_of(self.encode, "encode", ("ordinal", "onehot"))
        X = validate_data(self, X, dtype=np.float64)
        self.bin_edges_ = []
        for j in range(X.shape[1]):
            column = X[:, j]
            lo, hi = column.min(), column.max()
            if lo == hi:                                   # constant: a single bin
                edges = np.array([-np.inf, np.inf])
            elif self.strategy == "uniform":
                edges = np.linspace(lo, hi, n_bins + 1)
            else:
                edges = np.quantile(column, np.linspace(0, 1, n_bins + 1), method=self.quantile_method)
                edges = edges[np.diff(edges, prepend=-np.inf) > 1e-8]   # merge empty bins
            self.bin_edges_.append(edges)
        self.n_bins_ = np.array([len(e) - 1 for e in self.bin_edges_])
        return self

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Bin indices (``encode="ordinal"``) or their one-hot encoding."""
        check_is_fitted(self, "bin_edges_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        # searchsorted on the inner edges gives the bin index; outer edges are open.
        index = np.column_stack(
            [np.searchsorted(edges[1:-1], X[:, j], side="right") for j, edges in enumerate(self.bin_edges_)]
        ) if X.shape[1] else np.zeros((X.shape[0], 0), dtype=int)
        if self.encode == "ordinal":
            return index.astype(np.float64)
        blocks = [(index[:, [j]] == np.arange(k)).astype(np.float64) for j, k in enumerate(self.n_bins_)]
        return np.hstack(blocks)

    def get_feature_names_out(self, input_features: ArrayLike | None = None) -> np.ndarray:
        check_is_fitted(self, "bin_edges_")
        names = _names_out(self, input_features)
        if self.encode == "ordinal":
            return names
        return np.asarray([f"{n}_bin{i}" for n, k in zip(names, self.n_bins_) for i in range(k)], dtype=object)


# ---------------------------------------------------------------------------
# Scalers
# ---------------------------------------------------------------------------


class _ColumnScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Base class: a per-column transform ``f`` followed by ``(f(x) - center_) / scale_``.

    Subclasses define ``_shape(X)`` (the shape-changing part, identity by
    default), and ``_center_scale(Z)`` (the statistics). NaN is ignored when
    fitting and kept when transforming.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def _learn_shape(self, X: np.ndarray) -> None:  # noqa: B027 - optional hook
        """Fit the shape-changing part (nothing to learn by default)."""

    def _shape(self, X: np.ndarray) -> np.ndarray:
        return X

    def _center_scale(self, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def fit(self, X: ArrayLike, y: Any = None):
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan")
        self._learn_shape(X)
        center, scale = self._center_scale(self._shape(X))
        self.center_ = np.nan_to_num(center)          # an all-NaN column keeps centre 0, scale 1
        self.scale_ = _nan_safe_scale(scale)
        return self

    def transform(self, X: ArrayLike) -> np.ndarray:
        check_is_fitted(self, "scale_")
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan", reset=False)
        return (self._shape(X) - self.center_) / self.scale_


class StandardScaler(_ColumnScaler):
    """Subtract the mean and divide by the standard deviation: ``z = (x - mean) / std``.

    The right choice for roughly symmetric columns without outliers. Both the
    mean and the standard deviation are *sensitive to outliers*: one extreme
    value shifts the mean and inflates the standard deviation, which squeezes
    every ordinary value towards 0. Matches ``sklearn.preprocessing.StandardScaler``.

    Attributes
    ----------
    center_, scale_ : ndarray of shape (n_features,)
        The training mean and standard deviation (1 for a constant column).

    Examples
    --------
    >>> StandardScaler().fit_transform([[1.0], [3.0]]).ravel().tolist()
    [-1.0, 1.0]
    """

    def _center_scale(self, Z):
        return np.nanmean(Z, axis=0), np.nanstd(Z, axis=0)


class RobustScaler(_ColumnScaler):
    """Subtract the median and divide by the interquartile range (IQR).

    The median and the quartiles ignore how extreme the extreme values are, so
    a few outliers do not move them: ordinary values keep a sensible spread,
    and the outliers stay far out (this scaler does not tame them, it keeps
    them from distorting everyone else). Matches
    ``sklearn.preprocessing.RobustScaler``.

    Parameters
    ----------
    quantile_range : (float, float), default=(25.0, 75.0)
        The percentiles whose difference is the scale.

    Examples
    --------
    >>> RobustScaler().fit_transform([[1.0], [2.0], [3.0], [4.0], [5.0], [1000.0]]).ravel().round(2).tolist()
    [-1.0, -0.6, -0.2, 0.2, 0.6, 398.6]
    """

    def __init__(self, quantile_range: tuple[float, float] = (25.0, 75.0)):
        self.quantile_range = quantile_range

    def _center_scale(self, Z):
        try:
            q_low, q_high = (float(q) for q in self.quantile_range)
        except (TypeError, ValueError):
            raise ValueError(f"quantile_range must be two numbers, got {self.quantile_range!r}") from None
        if not 0 <= q_low < q_high <= 100:
            raise ValueError(f"quantile_range must satisfy 0 <= low < high <= 100, got {self.quantile_range!r}")
        low, median, high = np.nanpercentile(Z, [q_low, 50.0, q_high], axis=0)
        return median, high - low


class LogScaler(_ColumnScaler):
    """``log(1 + x)``, then standardise: for non-negative, right-skewed columns (amounts, counts).

    A log turns multiplicative differences into additive ones: 10 € vs 100 €
    and 1,000 € vs 10,000 € become equally far apart. It pulls in the long right
    tail, so the bulk of the data is no longer crushed near zero. Needs
    ``x >= 0``: ``fit`` and ``transform`` raise ``ValueError`` on negative values.
    Equivalent to ``FunctionTransformer(np.log1p)`` followed by ``StandardScaler``.

    Examples
    --------
    >>> LogScaler().fit_transform([[0.0], [np.e - 1]]).ravel().tolist()
    [-1.0, 1.0]
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.positive_only = True
        return tags

    def _shape(self, X):
        with np.errstate(invalid="ignore"):
            negative = np.nanmin(X, axis=0, initial=np.inf) < 0
        if negative.any():
            names = _names_out(self, None)[negative].tolist()
            raise ValueError(
                f"Negative values in data: LogScaler needs x >= 0, but column(s) {names} contain negative values; "
                "use YeoJohnsonScaler for data of both signs"
            )
        return np.log1p(X)

    def _center_scale(self, Z):
        return np.nanmean(Z, axis=0), np.nanstd(Z, axis=0)


def yeo_johnson(x: ArrayLike, lmbda: float) -> np.ndarray:
    """The Yeo-Johnson power transform of ``x`` with parameter ``lmbda``.

    For ``x >= 0``: ``((x + 1)**lmbda - 1) / lmbda`` (``log1p(x)`` when ``lmbda == 0``);
    for ``x < 0``: ``-((1 - x)**(2 - lmbda) - 1) / (2 - lmbda)`` (``-log1p(-x)`` when
    ``lmbda == 2``). ``lmbda = 1`` is the identity; smaller values pull in a right
    tail, larger ones a left tail. Same as ``scipy.stats.yeojohnson(x, lmbda)``.

    Examples
    --------
    >>> yeo_johnson(np.array([-1.0, 0.0, 3.0]), 1.0).tolist()
    [-1.0, 0.0, 3.0]
    """
    x = np.asarray(x, dtype=float)
    out = np.full_like(x, np.nan)
    pos, neg = x >= 0, x < 0                              # NaN is in neither
    if abs(lmbda) < np.spacing(1.0):
        out[pos] = np.log1p(x[pos])
    else:
        out[pos] = np.expm1(lmbda * np.log1p(x[pos])) / lmbda
    if abs(lmbda - 2.0) < np.spacing(1.0):
        out[neg] = -np.log1p(-x[neg])
    else:
        out[neg] = -np.expm1((2.0 - lmbda) * np.log1p(-x[neg])) / (2.0 - lmbda)
    return out


def _yeo_johnson_lambda(x: np.ndarray) -> float:
    """Maximum-likelihood lambda: the one that makes the transformed column most normal."""
    x = x[~np.isnan(x)]
    if x.size < 2 or np.ptp(x) == 0:
        return 1.0                                        # nothing to reshape
    log_term = np.sum(np.sign(x) * np.log1p(np.abs(x)))

    def negative_log_likelihood(lmbda: float) -> float:
        z = yeo_johnson(x, lmbda)
        variance = np.var(z)
        if not np.isfinite(variance) or variance <= 0:
            return np.inf
        return 0.5 * x.size * np.log(variance) - (lmbda - 1.0) * log_term

    # Brent's method, bracketed like scipy.stats.yeojohnson_normmax and scikit-learn.
    return float(optimize.brent(negative_log_likelihood, brack=(-2.0, 2.0)))


class YeoJohnsonScaler(_ColumnScaler):
    """A Yeo-Johnson power transform per column (lambda by maximum likelihood), then standardise.

    The power transform *reshapes* a skewed distribution towards a normal one,
    for data of either sign (Box-Cox needs positive values, a log
    non-negative ones). Lambda is chosen per column to make the result as
    normal as possible. Matches ``sklearn.preprocessing.PowerTransformer()``.

    Attributes
    ----------
    lambdas_ : ndarray of shape (n_features,)
    center_, scale_ : mean and standard deviation of the transformed columns.
    """

    def _learn_shape(self, X):
        self.lambdas_ = np.array([_yeo_johnson_lambda(X[:, j]) for j in range(X.shape[1])])

    def _shape(self, X):
        if not X.shape[1]:
            return X
        return np.column_stack([yeo_johnson(X[:, j], lam) for j, lam in enumerate(self.lambdas_)])

    def _center_scale(self, Z):
        return np.nanmean(Z, axis=0), np.nanstd(Z, axis=0)


#: The scalers that :func:`recommend_scaler` chooses between, by name.
SCALER_METHODS: dict[str, type[_ColumnScaler]] = {
    "standard": StandardScaler,
    "robust": RobustScaler,
    "log": LogScaler,
    "power": YeoJohnsonScaler,
}


# ---------------------------------------------------------------------------
# Letting the distribution decide
# ---------------------------------------------------------------------------


class ScalerAdvice(NamedTuple):
    """What :func:`recommend_scaler` saw in a column and what it recommends."""

    method: str               # "standard" | "robust" | "log" | "power"
    skewness: float           # moment skewness (sensitive to outliers), for reference
    robust_skewness: float    # Kelly's percentile skewness, used by the rule
    outlier_share: float      # share of values beyond Tukey's fences
    minimum: float
    reason: str


def _finite_values(values: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional, got an array of shape {arr.shape}")
    try:
        arr = arr.astype(float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}") from None
    if np.isinf(arr).any():
        raise ValueError(f"{name} contains infinite values")
    arr = arr[~np.isnan(arr)]
    if arr.size == 0:
        raise ValueError(f"{name} has no values (empty or all NaN)")
    return arr


def robust_skewness(values: ArrayLike) -> float:
    """Kelly's percentile skewness ``(P90 + P10 - 2 P50) / (P90 - P10)``, in [-1, 1]; NaN ignored.

    0 for a symmetric distribution, positive for a long right tail. Unlike the
    moment skewness, which cubes deviations, it looks only at the middle 80% of
    the data, so a handful of outliers cannot make a symmetric column look
    skewed. 0 when ``P90 == P10``.

    Examples
    --------
    >>> robust_skewness([1.0, 2.0, 3.0, 4.0, 5.0])
    0.0
    """
    x = _finite_values(values, "values")
    p10, p50, p90 = np.percentile(x, [10.0, 50.0, 90.0])
    return 0.0 if p90 == p10 else float((p90 + p10 - 2.0 * p50) / (p90 - p10))


def outlier_share(values: ArrayLike, fence: float = 3.0) -> float:
    """Share of values outside Tukey's fences ``[Q1 - fence*IQR, Q3 + fence*IQR]``; NaN ignored.

    ``fence=1.5`` gives Tukey's inner fences ("outside"), ``3.0`` the outer
    fences ("far out"), which a normal sample practically never crosses
    (about 2 in a million).

    Examples
    --------
    >>> outlier_share([1.0, 2.0, 3.0, 4.0, 100.0])
    0.2
    """
    fence = positive_number(fence, "fence", allow_zero=True)
    x = _finite_values(values, "values")
    q1, q3 = np.percentile(x, [25.0, 75.0])
    iqr = q3 - q1
    return float(np.mean((x < q1 - fence * iqr) | (x > q3 + fence * iqr)))


def recommend_scaler(
    values: ArrayLike,
    *,
    skew_threshold: float = 0.2,
    outlier_threshold: float = 0.001,
    fence: float = 3.0,
) -> ScalerAdvice:
    """Choose a scaler for one numeric column from the shape of its distribution.

    The rule, in order:

    1. at most two distinct values (a flag): ``"standard"``;
    2. skewed, ``|robust_skewness| >= skew_threshold``: the shape itself must
       change. ``"log"`` for a right tail on non-negative data, otherwise
       ``"power"`` (Yeo-Johnson handles both signs and left tails);
    3. symmetric but with outliers, ``outlier_share(fence) >= outlier_threshold``:
       ``"robust"`` (median and IQR are not dragged by the outliers);
    4. otherwise ``"standard"``.

    Skewness is measured robustly (:func:`robust_skewness`) because the moment
    skewness of a symmetric column with a few huge outliers is huge too.

    Parameters
    ----------
    values : 1-D array-like of numbers; NaN is ignored, infinities are refused.
    skew_threshold : float in [0, 1], default=0.2
    outlier_threshold : float in [0, 1], default=0.001 (one value in a thousand)
    fence : float >= 0, default=3.0

    Returns
    -------
    ScalerAdvice

    Examples
    --------
    >>> recommend_scaler(np.exp(np.random.default_rng(0).normal(size=1000))).method
    'log'
    >>> recommend_scaler(np.random.default_rng(0).normal(size=1000)).method
    'standard'
    """
    skew_threshold = fraction(skew_threshold, "skew_threshold", inclusive="both")
    outlier_threshold = fraction(outlier_threshold, "outlier_threshold", inclusive="both")
    x = _finite_values(values, "values")
    centred = x - x.mean()
    m2 = np.mean(centred**2)
    moment_skew = float(np.mean(centred**3) / m2**1.5) if m2 > 0 else 0.0
    kelly = robust_skewness(x)
    share = outlier_share(x, fence)
    minimum = float(x.min())
    if np.unique(x).size <= 2:
        method, reason = "standard", "at most two distinct values: a flag, nothing to reshape"
    elif abs(kelly) >= skew_threshold:
        if kelly > 0 and minimum >= 0:
            method, reason = "log", f"right-skewed (robust skewness {kelly:.2f}) and non-negative"
        else:
            sign = "right" if kelly > 0 else "left"
            method, reason = "power", f"{sign}-skewed (robust skewness {kelly:.2f}) with minimum {minimum:.3g}"
    elif share >= outlier_threshold:
        method, reason = "robust", f"symmetric but {share:.2%} of values are beyond the outer fences"
    else:
        method, reason = "standard", "roughly symmetric, no far-out values"
    return ScalerAdvice(method, moment_skew, kelly, share, minimum, reason)


def describe_distributions(
    frame: pd.DataFrame,
    columns: Sequence[str] | None = None,
    **rule: float,
) -> pd.DataFrame:
    """One row per numeric column: missing share, skewness, outliers and the recommended scaler.

    ``rule`` is passed to :func:`recommend_scaler` (``skew_threshold``,
    ``outlier_threshold``, ``fence``). Boolean columns count as numeric.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    if columns is None:
        columns = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"columns {missing} are not in frame")
    rows = {}
    for c in columns:
        advice = recommend_scaler(frame[c].to_numpy(dtype=float, na_value=np.nan), **rule)
        rows[c] = {
            "missing": float(frame[c].isna().mean()),
            "minimum": advice.minimum,
            "skewness": advice.skewness,
            "robust_skewness": advice.robust_skewness,
            "outlier_share": advice.outlier_share,
            "method": advice.method,
            "reason": advice.reason,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


class AutoScaler(TransformerMixin, BaseEstimator):
    """Apply the scaler that :func:`recommend_scaler` chooses, column by column.

    The choice is made in ``fit`` from the *training* data only and then frozen,
    like every other statistic a transformer learns.

    Parameters
    ----------
    skew_threshold, outlier_threshold, fence : float
        The rule's settings, see :func:`recommend_scaler`.
    overrides : mapping of column name (or index) to method, default=None
        Force a method (``"standard"``, ``"robust"``, ``"log"`` or ``"power"``)
        for some columns.

    Attributes
    ----------
    methods_ : ndarray of str
        The method applied to each column.
    advice_ : list of ScalerAdvice
    scalers_ : list of fitted scalers, one per column.
    """

    def __init__(
        self,
        skew_threshold: float = 0.2,
        outlier_threshold: float = 0.001,
        fence: float = 3.0,
        overrides: Mapping[Any, str] | None = None,
    ):
        self.skew_threshold = skew_threshold
        self.outlier_threshold = outlier_threshold
        self.fence = fence
        self.overrides = overrides

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def fit(self, X: ArrayLike, y: Any = None) -> AutoScaler:
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan")
        overrides = dict(self.overrides or {})
        for key, method in overrides.items():
            one_of(method, f"overrides[{key!r}]", tuple(SCALER_METHODS))
        names = _names_out(self, None)
        unknown = [k for k in overrides if k not in set(names) and not (isinstance(k, int) and 0 <= k < len(names))]
        if unknown:
            raise ValueError(f"overrides names columns {unknown} that are not in X ({list(names)})")
        self.advice_, methods, self.scalers_ = [], [], []
        for j, name in enumerate(names):
            column = X[:, j]
            if np.isnan(column).all():
                advice = ScalerAdvice("standard", 0.0, 0.0, 0.0, np.nan, "all values missing")
            else:
                advice = recommend_scaler(column, skew_threshold=self.skew_threshold,
                                          outlier_threshold=self.outlier_threshold, fence=self.fence)
            method = overrides.get(name, overrides.get(j, advice.method))
            scaler = SCALER_METHODS[method]().set_output(transform="default").fit(X[:, [j]])
            self.advice_.append(advice)
            methods.append(method)
            self.scalers_.append(scaler)
        self.methods_ = np.asarray(methods, dtype=object)
        return self

    def transform(self, X: ArrayLike) -> np.ndarray:
        check_is_fitted(self, "scalers_")
        X = validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan", reset=False)
        if not X.shape[1]:
            return X
        return np.hstack([scaler.transform(X[:, [j]]) for j, scaler in enumerate(self.scalers_)])

    def get_feature_names_out(self, input_features: ArrayLike | None = None) -> np.ndarray:
        check_is_fitted(self, "scalers_")
        return _names_out(self, input_features)


# ---------------------------------------------------------------------------
# Polynomial and interaction features
# ---------------------------------------------------------------------------


class PolynomialFeatures(TransformerMixin, BaseEstimator):
    """Products of columns up to a degree: squares (``a^2``) and interactions (``a b``).

    A linear model adds up the effects of its inputs; it cannot express "a large
    amount is suspicious *at night*" unless the product ``amount * night`` is a
    column. Polynomial features add such products. The cost grows fast: with
    ``n`` inputs, degree 2 adds ``n(n+1)/2`` columns, degree 3 about ``n^3/6``,
    and every extra column is a parameter that can overfit.

    Parameters
    ----------
    degree : int >= 1, default=2
    interaction_only : bool, default=False
        Only products of *distinct* columns (``a b``, not ``a^2``).
    include_bias : bool, default=False
        Add a constant column ``1`` (unneeded before a model with an intercept;
        note that scikit-learn's default is ``True``).

    Attributes
    ----------
    powers_ : ndarray of shape (n_output_features, n_features)
        The exponent of each input in each output column, in scikit-learn's order.

    Examples
    --------
    >>> PolynomialFeatures(degree=2).fit_transform([[2.0, 3.0]]).tolist()
    [[2.0, 3.0, 4.0, 6.0, 9.0]]
    """

    def __init__(self, degree: int = 2, interaction_only: bool = False, include_bias: bool = False):
        self.degree = degree
        self.interaction_only = interaction_only
        self.include_bias = include_bias

    def fit(self, X: ArrayLike, y: Any = None) -> PolynomialFeatures:
        degree = integer_at_least(self.degree, "degree", 1)
        for name in ("interaction_only", "include_bias"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False, got {getattr(self, name)!r}")
        X = validate_data(self, X, dtype=np.float64)
        n = X.shape[1]
        combine = combinations if self.interaction_only else combinations_with_replacement
        start = 0 if self.include_bias else 1
        self._combos = [c for d in range(start, degree + 1) for c in combine(range(n), d)]
        self.powers_ = np.array([np.bincount(c, minlength=n) for c in self._combos], dtype=int).reshape(-1, n)
        self.n_output_features_ = len(self._combos)
        return self

    def transform(self, X: ArrayLike) -> np.ndarray:
        check_is_fitted(self, "powers_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        out = np.empty((X.shape[0], self.n_output_features_))
        for i, combo in enumerate(self._combos):      # one output column at a time
            out[:, i] = np.prod(X[:, list(combo)], axis=1)
        return out

    def get_feature_names_out(self, input_features: ArrayLike | None = None) -> np.ndarray:
        check_is_fitted(self, "powers_")
        names = _names_out(self, input_features)
        out = []
        for row in self.powers_:
            parts = [names[j] if p == 1 else f"{names[j]}^{p}" for j, p in enumerate(row) if p]
            out.append(" ".join(parts) if parts else "1")
        return np.asarray(out, dtype=object)


# ---------------------------------------------------------------------------
# Feature selection
# ---------------------------------------------------------------------------


def _discretise(x: np.ndarray, n_bins: int) -> np.ndarray:
    """Integer codes: the values themselves if there are at most ``n_bins``, else quantile bins."""
    distinct, codes = np.unique(x, return_inverse=True)
    if distinct.size <= n_bins:
        return codes
    inner = np.unique(np.quantile(x, np.linspace(0, 1, n_bins + 1)[1:-1]))
    return np.searchsorted(inner, x, side="right")


def mutual_information(x: ArrayLike, y: ArrayLike, *, n_bins: int = 10, correct_bias: bool = False) -> float:
    """Mutual information (in nats) between a feature ``x`` and class labels ``y``.

    ``I(X; Y) = sum_{x,y} p(x, y) log(p(x, y) / (p(x) p(y)))``, estimated from the
    counts of a contingency table. A feature with at most ``n_bins`` distinct
    values is used as is; a continuous one is cut into ``n_bins`` quantile bins.
    MI is 0 exactly when the (binned) feature and the label are independent,
    and it sees *any* dependence, not only a linear one.

    The plug-in estimate is biased upwards: even a pure-noise feature scores
    about ``(k_x - 1)(k_y - 1) / (2n)``. ``correct_bias=True`` subtracts that
    (the Miller-Madow correction), so noise scores near 0 (and can go slightly
    negative).

    Examples
    --------
    >>> round(mutual_information([0, 0, 1, 1], [0, 0, 1, 1]), 4)   # log 2
    0.6931
    """
    n_bins = integer_at_least(n_bins, "n_bins", 2)
    x = np.asarray(x)
    y = np.asarray(y)
    if x.ndim != 1 or y.ndim != 1 or x.shape != y.shape or x.size == 0:
        raise ValueError(f"x and y must be non-empty 1-D arrays of equal length, got shapes {x.shape} and {y.shape}")
    x_codes = _discretise(x.astype(float), n_bins) if x.dtype.kind in "biuf" else np.unique(x, return_inverse=True)[1]
    _, y_codes = np.unique(y, return_inverse=True)
    kx, ky = x_codes.max() + 1, y_codes.max() + 1
    joint = np.bincount(x_codes * ky + y_codes, minlength=kx * ky).reshape(kx, ky) / x.size
    px, py = joint.sum(axis=1, keepdims=True), joint.sum(axis=0, keepdims=True)
    nonzero = joint > 0
    mi = float(np.sum(joint[nonzero] * np.log(joint[nonzero] / (px @ py)[nonzero])))
    if correct_bias:
        mi -= (np.count_nonzero(px) - 1) * (np.count_nonzero(py) - 1) / (2.0 * x.size)
    return mi


class _Selector(TransformerMixin, BaseEstimator):
    """Keeps the columns where ``support_`` is True."""

    def get_support(self, indices: bool = False) -> np.ndarray:
        check_is_fitted(self, "support_")
        return np.flatnonzero(self.support_) if indices else self.support_.copy()

    def _select(self, scores: np.ndarray, k: Any, threshold: float | None) -> np.ndarray:
        """Columns with ``score >= threshold`` (if given), then at most the ``k`` best (if given)."""
        n = scores.size
        keep = np.ones(n, dtype=bool)
        if threshold is not None:
            keep &= scores >= threshold
        if k is not None and k != "all":
            k = integer_at_least(k, "k", 0)
            if k > n:
                raise ValueError(f"k={k} is larger than n_features={n}; lower k or use k='all'")
            order = np.argsort(-np.where(keep, scores, -np.inf), kind="stable")   # best first, ties by position
            top = np.zeros(n, dtype=bool)
            top[order[:k]] = True
            keep &= top
        return keep

    def transform(self, X: ArrayLike) -> np.ndarray:
        check_is_fitted(self, "support_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X[:, self.support_]

    def get_feature_names_out(self, input_features: ArrayLike | None = None) -> np.ndarray:
        check_is_fitted(self, "support_")
        return _names_out(self, input_features)[self.support_]


class MutualInfoSelector(_Selector):
    """Keep the features with the highest mutual information with the class label (a filter).

    Each feature is scored on its own with :func:`mutual_information`, so the
    selector is fast and model-agnostic, but it cannot see features that only
    matter together, nor redundancy between features.

    Parameters
    ----------
    k : int or "all" or None, default=10
        Keep (at most) the ``k`` best features.
    threshold : float or None, default=None
        Keep only features whose score is at least this (in nats).
    n_bins : int >= 2, default=10
        Quantile bins for continuous features.
    correct_bias : bool, default=True
        Subtract the Miller-Madow bias so noise features score about 0.

    Attributes
    ----------
    scores_ : ndarray of shape (n_features,)
    support_ : ndarray of bool
    """

    def __init__(self, k: int | str | None = 10, threshold: float | None = None, n_bins: int = 10,
                 correct_bias: bool = True):
        self.k = k
        self.threshold = threshold
        self.n_bins = n_bins
        self.correct_bias = correct_bias

    def fit(self, X: ArrayLike, y: ArrayLike) -> MutualInfoSelector:
        X, y = validate_data(self, X, y, dtype=np.float64)
        if self.k is None and self.threshold is None:
            raise ValueError("k and threshold cannot both be None; set at least one of them")
        if self.threshold is not None:
            finite_number(self.threshold, "threshold")
        self.scores_ = np.array([
            mutual_information(X[:, j], y, n_bins=self.n_bins, correct_bias=bool(self.correct_bias))
            for j in range(X.shape[1])
        ])
        self.support_ = self._select(self.scores_, self.k, self.threshold)
        return self


class ModelSelector(_Selector):
    """Keep the features a fitted model relies on most (an embedded method).

    The importance of a feature is ``abs(coef_)`` of a linear model (averaged
    over classes) or ``feature_importances_`` of a tree ensemble. Coefficients
    are comparable only if the features are on the same scale: scale first.

    Parameters
    ----------
    estimator : estimator, default=None
        Cloned and fitted in ``fit``. ``None`` means an L1-penalised logistic
        regression, which sets the weights of useless features to exactly 0.
    k : int or None, default=None
        Keep at most the ``k`` most important features.
    threshold : float, "mean", "median" or None, default="mean"
        Keep features whose importance is at least this (``"mean"``: the mean
        importance). With ``k`` and ``threshold=None``, keep the top ``k``.

    Attributes
    ----------
    estimator_ : the fitted estimator
    importances_, support_ : ndarray of shape (n_features,)
    threshold_ : float or None
        The importance threshold applied (``"mean"`` or ``"median"`` resolved), None without one.
    """

    def __init__(self, estimator: BaseEstimator | None = None, k: int | None = None,
                 threshold: float | str | None = "mean"):
        self.estimator = estimator
        self.k = k
        self.threshold = threshold

    def fit(self, X: ArrayLike, y: ArrayLike) -> ModelSelector:
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_min_samples=2)
        if self.estimator is None:
            from sklearn.linear_model import LogisticRegression

            # liblinear is fast for two classes; saga also handles more.
            solver = "liblinear" if np.unique(y).size <= 2 else "saga"
            estimator = LogisticRegression(l1_ratio=1.0, solver=solver, C=0.1, max_iter=5000, random_state=0)
        else:
            estimator = clone(self.estimator)
        self.estimator_ = estimator.fit(X, y)
        if hasattr(self.estimator_, "feature_importances_"):
            importances = np.asarray(self.estimator_.feature_importances_, dtype=float)
        elif hasattr(self.estimator_, "coef_"):
            coef = np.atleast_2d(np.asarray(self.estimator_.coef_, dtype=float))
            importances = np.abs(coef).mean(axis=0)
        else:
            raise ValueError(
                f"estimator {type(self.estimator_).__name__} has neither coef_ nor feature_importances_"
            )
        if self.threshold is None:
            if self.k is None:
                raise ValueError("k and threshold cannot both be None; set at least one of them")
            threshold = None
        elif isinstance(self.threshold, str):
            one_of(self.threshold, "threshold", ("mean", "median"))
            threshold = float(np.mean(importances) if self.threshold == "mean" else np.median(importances))
        else:
            threshold = positive_number(self.threshold, "threshold", allow_zero=True)
        self.importances_ = importances
        self.threshold_ = threshold
        self.support_ = self._select(importances, self.k, threshold)
        return self


# ---------------------------------------------------------------------------
# Target encoding
# ---------------------------------------------------------------------------


class TargetEncoder(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Replace each category by the (smoothed) mean target of its training rows.

    For a high-cardinality column (a thousand merchants) one-hot encoding makes
    a thousand sparse columns; a target encoding makes *one*: the merchant's
    fraud rate. Two dangers:

    * **small categories** are noisy: a merchant with 2 transactions and 1 fraud
      is not "50% fraud". *Smoothing* shrinks the mean of a category with
      ``n`` rows toward the overall mean (the *prior*):
      ``enc = (sum_y + m * prior) / (n + m)``; ``smooth="auto"`` picks the
      weight from the variances (an empirical-Bayes estimate).
    * **target leakage**: encoding a training row with a mean that includes its
      *own* label hands the label to the model. A merchant seen once gets
      exactly its own label, and the model learns to trust the encoding far
      more than it deserves. ``fit_transform`` therefore *cross-fits*: the
      rows are split into ``cv`` folds and each fold is encoded with means
      computed on the *other* folds only.

    ``transform`` (for validation, test and production data) uses the
    encodings learned on all of the training data. So
    ``fit(X, y).transform(X)`` is **not** ``fit_transform(X, y)``: the first is
    the leaky one. Inside a ``Pipeline``, ``fit`` calls ``fit_transform``, as it
    should. Unseen categories are encoded with the prior; a missing value is a
    category of its own.

    Parameters
    ----------
    smooth : "auto" or float >= 0, default="auto"
        The prior's weight ``m`` in rows; 0 means no smoothing.
    cv : int >= 2 or a scikit-learn splitter, default=5
        Folds for cross-fitting (stratified for a binary target).
    shuffle : bool, default=True
        Shuffle the rows before making the folds (when ``cv`` is an int).
    random_state : int or None, default=0
        Seeds the shuffling; fixed by default so that results are reproducible.
    target_type : {"auto", "binary", "continuous"}, default="auto"
        ``"auto"``: two distinct values are binary, more (numeric) continuous.

    Attributes
    ----------
    categories_ : list of ndarray
    encodings_ : list of ndarray
        The encoding of each category, learned on all of the training data.
    target_mean_ : float
        The prior: mean of the (0/1-coded) target.
    classes_ : ndarray or None
        For a binary target, the two labels; the second one is coded 1.

    Notes
    -----
    Same semantics as ``sklearn.preprocessing.TargetEncoder`` for binary and
    continuous targets (multi-class targets are not supported here); given the
    same folds, the outputs are identical.
    """

    def __init__(self, smooth: str | float = "auto", cv: Any = 5, shuffle: bool = True,
                 random_state: int | None = 0, target_type: str = "auto"):
        self.smooth = smooth
        self.cv = cv
        self.shuffle = shuffle
        self.random_state = random_state
        self.target_type = target_type

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.input_tags.allow_nan = True
        tags.target_tags.required = True
        return tags

    # -- validation ---------------------------------------------------------

    def _check_params(self) -> None:
        if not (isinstance(self.smooth, str) and self.smooth == "auto"):
            positive_number(self.smooth, "smooth", allow_zero=True)
        one_of(self.target_type, "target_type", ("auto", "binary", "continuous"))
        if not hasattr(self.cv, "split"):
            integer_at_least(self.cv, "cv", 2)

    def _encode_target(self, y: np.ndarray) -> np.ndarray:
        """y as floats (binary: 0/1 with classes_[1] coded 1); sets target_type_ and classes_."""
        if pd.isna(y).any():
            raise ValueError("y contains missing values; every training row needs a target")
        distinct = np.unique(y)
        kind = self.target_type
        if kind == "auto":
            kind = "binary" if distinct.size == 2 else "continuous"
        if kind == "binary":
            if distinct.size != 2:
                raise ValueError(f"target_type='binary' needs exactly two distinct values in y, got {distinct.size}")
            self.classes_ = distinct
            self.target_type_ = "binary"
            return (y == distinct[1]).astype(float)
        try:
            values = y.astype(float)
        except (TypeError, ValueError):
            raise ValueError(
                f"y has {distinct.size} distinct non-numeric values; only binary or continuous targets are "
                "supported (multi-class is not)"
            ) from None
        self.classes_ = None
        self.target_type_ = "continuous"
        return values

    # -- the encoding itself ------------------------------------------------

    def _encodings(self, codes: np.ndarray, y: np.ndarray, n_categories: int) -> tuple[np.ndarray, float]:
        """(encoding per category, prior) learned from the rows ``codes`` / ``y`` (codes >= 0)."""
        prior = float(y.mean())
        counts = np.bincount(codes, minlength=n_categories).astype(float)
        sums = np.bincount(codes, weights=y, minlength=n_categories)
        with np.errstate(invalid="ignore", divide="ignore"):
            if isinstance(self.smooth, str):                   # "auto": empirical Bayes
                means = sums / counts
                within = np.bincount(codes, weights=(y - means[codes]) ** 2, minlength=n_categories)
                variance = float(np.var(y))
                weight = variance * counts / (variance * counts + within / counts)
                encoding = weight * means + (1.0 - weight) * prior
            else:
                m = float(self.smooth)
                encoding = (sums + m * prior) / (counts + m)
        # Categories without rows here (or 0/0 cases) fall back to the prior.
        return np.where(np.isfinite(encoding), encoding, prior), prior

    def _validate(self, X: ArrayLike, y: ArrayLike | None, reset: bool):
        if reset:
            self._check_params()
            X, y = _validate_categories(self, X, y, reset=True)
            return X, np.asarray(y)
        return _validate_categories(self, X, reset=False), None

    def _fit(self, X: np.ndarray, y: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        y = self._encode_target(y)
        names = _names_out(self, None)
        self.categories_ = [_learn_categories(X[:, j], names[j]) for j in range(X.shape[1])]
        codes = [_codes(X[:, j], cats) for j, cats in enumerate(self.categories_)]
        self.encodings_ = [self._encodings(c, y, len(cats))[0] for c, cats in zip(codes, self.categories_)]
        self.target_mean_ = float(y.mean())
        return codes, y

    def fit(self, X: ArrayLike, y: ArrayLike) -> TargetEncoder:
        """Learn each category's encoding from all rows. Use ``fit_transform`` to encode training data."""
        X, y = self._validate(X, y, reset=True)
        self._fit(X, y)
        return self

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Encode new data with the encodings learned in ``fit``; unseen categories get the prior."""
        check_is_fitted(self, "encodings_")
        X, _ = self._validate(X, None, reset=False)
        out = np.empty(X.shape, dtype=float)
        for j, (cats, enc) in enumerate(zip(self.categories_, self.encodings_)):
            codes = _codes(X[:, j], cats)
            out[:, j] = np.where(codes >= 0, enc[codes], self.target_mean_)
        return out

    def _splitter(self):
        if hasattr(self.cv, "split"):
            return self.cv
        from sklearn.model_selection import KFold, StratifiedKFold

        kind = StratifiedKFold if self.target_type_ == "binary" else KFold
        return kind(n_splits=int(self.cv), shuffle=bool(self.shuffle),
                    random_state=self.random_state if self.shuffle else None)

    def fit_transform(self, X: ArrayLike, y: ArrayLike) -> np.ndarray:
        """Fit on all rows, and encode each training row out of fold (cross-fitting).

        Each row's encoding is computed from the other folds only, so no row is
        ever encoded with its own label.
        """
        X, y_raw = self._validate(X, y, reset=True)
        codes, y = self._fit(X, y_raw)
        out = np.empty(X.shape, dtype=float)
        seen = np.zeros(X.shape[0], dtype=int)
        for train, test in self._splitter().split(X, y_raw):
            seen[test] += 1
            for j, cats in enumerate(self.categories_):
                encoding, prior = self._encodings(codes[j][train], y[train], len(cats))
                out[test, j] = encoding[codes[j][test]]
        if not np.all(seen == 1):
            raise ValueError("cv must put every row in exactly one validation fold (e.g. KFold, not ShuffleSplit)")
        return out


# ---------------------------------------------------------------------------
# Temporal features: built from each entity's past only
# ---------------------------------------------------------------------------


def _event_seconds(stream: pd.DataFrame, key: str, time: str) -> tuple[np.ndarray, np.ndarray]:
    """(entity codes, times in seconds as float) of a stream, checked."""
    if not isinstance(stream, pd.DataFrame):
        raise ValueError(f"stream must be a pandas DataFrame, got {type(stream).__name__}")
    absent = [c for c in (key, time) if c not in stream.columns]
    if absent:
        raise ValueError(f"stream has no column(s) {absent}; it has {list(stream.columns)}")
    column = stream[time]
    if pd.api.types.is_datetime64_any_dtype(column):
        if column.isna().any():
            raise ValueError(f"column {time!r} has missing timestamps")
        seconds = column.to_numpy().astype("datetime64[ns]").astype(np.int64) / 1e9
    elif pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        seconds = column.to_numpy(dtype=float)
        if not np.all(np.isfinite(seconds)):
            raise ValueError(f"column {time!r} has missing or infinite times")
    else:
        raise ValueError(f"column {time!r} must hold datetimes or numbers of seconds, got dtype {column.dtype}")
    codes = pd.factorize(stream[key], use_na_sentinel=False)[0]
    return codes.astype(np.int64), seconds


def _past_blocks(codes: np.ndarray, seconds: np.ndarray):
    """Rows sorted by (entity, time), and for each row the start of its tie block in that order.

    A *tie block* is a run of one entity's events at the same time: they do not
    see one another, so "the past" of an event is every earlier block of its entity.
    """
    order = np.lexsort((seconds, codes))
    k, t = codes[order], seconds[order]
    new_entity = np.r_[True, k[1:] != k[:-1]]
    new_block = new_entity | np.r_[True, t[1:] != t[:-1]]
    block_start = np.maximum.accumulate(np.where(new_block, np.arange(len(k)), 0))
    entity_start = np.maximum.accumulate(np.where(new_entity, np.arange(len(k)), 0))
    return order, k, t, block_start, entity_start


def time_since_last(stream: pd.DataFrame, *, key: str = "customer_id", time: str = "timestamp") -> pd.Series:
    """Seconds since the entity's previous event, from the past only.

    Parameters
    ----------
    stream : DataFrame
        One row per event, in any order; ``key`` names the entity (a
        customer), ``time`` holds datetimes or numbers of seconds.
    key, time : str
        Column names.

    Returns
    -------
    Series of float, aligned with ``stream.index``: for each event, its time
    minus the time of the latest event of the same entity *strictly before*
    it, in seconds. NaN for an entity's first event. Events of one entity at
    the same time do not see each other (neither is the other's past), so the
    value never depends on the order of rows with equal times, nor on any
    later event.

    Examples
    --------
    >>> s = pd.DataFrame({"customer_id": [1, 1, 1, 2], "timestamp": [0.0, 60.0, 60.0, 5.0]})
    >>> time_since_last(s).tolist()
    [nan, 60.0, 60.0, nan]
    """
    codes, seconds = _event_seconds(stream, key, time)
    order, k, t, block_start, entity_start = _past_blocks(codes, seconds)
    has_past = block_start > entity_start
    previous = np.where(has_past, t[np.maximum(block_start - 1, 0)], np.nan)
    out = np.empty(len(t))
    out[order] = t - previous
    return pd.Series(out, index=stream.index, name="seconds_since_last")


def rolling_count(stream: pd.DataFrame, window: float, *, key: str = "customer_id",
                  time: str = "timestamp") -> pd.Series:
    """Number of the entity's events in the ``window`` seconds before each event.

    Counts the events of the same entity with time in ``[t - window, t)``: the
    event itself and others at the same time ``t`` are not counted (like the
    world's ``tx_count_24h``, which is ``rolling_count(tx, 86_400)``).

    Parameters
    ----------
    stream : DataFrame
        As for :func:`time_since_last`.
    window : float > 0
        Length of the look-back window, in seconds.

    Returns
    -------
    Series of int64 aligned with ``stream.index``; 0 for a first event.

    Examples
    --------
    >>> s = pd.DataFrame({"customer_id": [7, 7, 7, 7], "timestamp": [0.0, 30.0, 30.0, 100.0]})
    >>> rolling_count(s, 60).tolist()
    [0, 1, 1, 0]
    """
    window = positive_number(window, "window")
    codes, seconds = _event_seconds(stream, key, time)
    order, k, t, block_start, entity_start = _past_blocks(codes, seconds)
    # One sorted number per event: entity first, time second (exact for whole seconds).
    offset = t - (t.min() if len(t) else 0.0)
    span = float(offset.max() if len(t) else 0.0) + window + 1.0
    composite = k * span + offset
    first_in_window = np.searchsorted(composite, k * span + offset - window, side="left")
    first_in_window = np.maximum(first_in_window, entity_start)
    out = np.empty(len(t), dtype=np.int64)
    out[order] = np.maximum(block_start - first_in_window, 0)
    return pd.Series(out, index=stream.index, name=f"count_{window:g}s")


def past_mean(stream: pd.DataFrame, value: str, *, key: str = "customer_id", time: str = "timestamp") -> pd.Series:
    """Mean of ``value`` over the entity's events strictly before each event.

    Parameters
    ----------
    stream : DataFrame
        As for :func:`time_since_last`, with a numeric column ``value``
        (e.g. the amount, or its log) without missing values.
    value : str
        The column to average.

    Returns
    -------
    Series of float aligned with ``stream.index``: the mean of ``value`` over
    the same entity's events at earlier times (ties excluded, as in
    :func:`time_since_last`); NaN when there is none.

    Examples
    --------
    >>> s = pd.DataFrame({"customer_id": [1, 1, 1, 1], "timestamp": [0, 10, 10, 20],
    ...                   "amount": [10.0, 20.0, 40.0, 5.0]})
    >>> past_mean(s, "amount").tolist()
    [nan, 10.0, 10.0, 23.333333333333332]
    """
    if value not in getattr(stream, "columns", ()):
        raise ValueError(f"stream has no column {value!r}")
    values = pd.to_numeric(stream[value], errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"column {value!r} must be numeric without missing values")
    codes, seconds = _event_seconds(stream, key, time)
    order, k, t, block_start, entity_start = _past_blocks(codes, seconds)
    running = np.r_[0.0, np.cumsum(values[order])]          # running[i]: sum of the first i sorted rows
    n_past = block_start - entity_start
    total = running[block_start] - running[entity_start]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n_past > 0, total / np.maximum(n_past, 1), np.nan)
    out = np.empty(len(t))
    out[order] = mean
    return pd.Series(out, index=stream.index, name=f"past_mean_{value}")


# ---------------------------------------------------------------------------
# Composition: a full preprocessor for a frame
# ---------------------------------------------------------------------------


def column_types(frame: pd.DataFrame, *, max_categories: int = 20) -> dict[str, list[str]]:
    """Sort a frame's columns into ``numeric``, ``categorical`` and ``high_cardinality``.

    Numeric and boolean dtypes are ``numeric``; other columns (category,
    string, object) are ``categorical`` when they have at most
    ``max_categories`` distinct values, else ``high_cardinality``. Identifier
    columns stored as integers (``merchant_id``) look numeric: name them
    yourself, since a number does not tell whether it is a quantity or a name.

    Examples
    --------
    >>> column_types(pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]}))
    {'numeric': ['a'], 'categorical': ['b'], 'high_cardinality': []}
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    max_categories = integer_at_least(max_categories, "max_categories", 1)
    types: dict[str, list[str]] = {"numeric": [], "categorical": [], "high_cardinality": []}
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
            types["numeric"].append(name)
        elif column.nunique(dropna=True) <= max_categories:
            types["categorical"].append(name)
        else:
            types["high_cardinality"].append(name)
    return types


def make_preprocessor(
    frame: pd.DataFrame | None = None,
    *,
    numeric: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    high_cardinality: Sequence[str] | None = None,
    max_categories: int = 20,
    scaler: str = "auto",
    degree: int = 1,
    min_frequency: int | float | None = 0.005,
    random_state: int | None = 0,
) -> ColumnTransformer:
    """A complete, unfitted ``ColumnTransformer`` for a frame, one branch per column type.

    * numeric: median imputation with missing-value indicators, then a scaler
      (``"auto"``: :class:`AutoScaler`; or ``"standard"``, ``"robust"``,
      ``"log"``, ``"power"``), then, with ``degree >= 2``, polynomial features;
    * categorical: :class:`OneHotEncoder` with rare and unseen categories in
      ``_other``;
    * high-cardinality: :class:`TargetEncoder` (cross-fitted inside ``fit``).

    Column lists that are not given are taken from :func:`column_types` of
    ``frame``. Every statistic is learned in ``fit``, so inside a ``Pipeline``
    with a model and under cross-validation, each fold learns its own.

    Examples
    --------
    >>> pre = make_preprocessor(numeric=["amount"], categorical=["device"])
    >>> [name for name, _, _ in pre.transformers]
    ['numeric', 'categorical']
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline

    given = {"numeric": numeric, "categorical": categorical, "high_cardinality": high_cardinality}
    if any(v is None for v in given.values()):
        if frame is None:
            if all(v is None for v in given.values()):
                raise ValueError("give frame, or at least one of numeric, categorical, high_cardinality")
            given = {k: [] if v is None else v for k, v in given.items()}
        else:
            inferred = column_types(frame, max_categories=max_categories)
            given = {k: inferred[k] if v is None else v for k, v in given.items()}
    if frame is not None:
        absent = [c for cols in given.values() for c in cols if c not in frame.columns]
        if absent:
            raise ValueError(f"columns {absent} are not in frame")
    one_of(scaler, "scaler", ("auto", *SCALER_METHODS))
    degree = integer_at_least(degree, "degree", 1)

    transformers = []
    if given["numeric"]:
        steps = [
            ("impute", SimpleImputer(strategy="median", add_indicator=True)),
            ("scale", AutoScaler() if scaler == "auto" else SCALER_METHODS[scaler]()),
        ]
        if degree >= 2:
            steps.append(("poly", PolynomialFeatures(degree=degree)))
        transformers.append(("numeric", Pipeline(steps), list(given["numeric"])))
    if given["categorical"]:
        transformers.append((
            "categorical", OneHotEncoder(handle_unknown="other", min_frequency=min_frequency),
            list(given["categorical"]),
        ))
    if given["high_cardinality"]:
        transformers.append(("target", TargetEncoder(random_state=random_state), list(given["high_cardinality"])))
    if not transformers:
        raise ValueError("no columns to transform: every column list is empty")
    return ColumnTransformer(transformers, remainder="drop")


# ---------------------------------------------------------------------------
# Plotting
# ---------------------------------------------------------------------------


def plot_before_after(
    before: ArrayLike,
    after: ArrayLike,
    *,
    name: str = "x",
    transform: str = "transformed",
    bins: int = 60,
    axes: Sequence[Axes] | None = None,
) -> Sequence[Axes]:
    """Two histograms side by side: a column before and after a transformation.

    Each panel's title gives the moment skewness and the robust (Kelly)
    skewness, so the effect of the transformation on the shape is visible in
    numbers as well. Returns the two axes.
    """
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    for ax, values, label in zip(axes, (before, after), (name, f"{transform}({name})")):
        x = _finite_values(np.ravel(np.asarray(values, dtype=float)), label)
        advice = recommend_scaler(x)
        ax.hist(x, bins=bins, color="tab:blue", alpha=0.8)
        ax.set_title(f"{label}\nskewness {advice.skewness:.1f}, robust {advice.robust_skewness:.2f}", fontsize=10)
        ax.set_ylabel("rows")
    return axes
