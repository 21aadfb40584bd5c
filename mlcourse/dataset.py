"""Dataset creation: profiling, leakage-safe splits, signal vs noise, unlabeled data and bias.

Stage 1 of the course roadmap ("Dataset creation: building a solid
foundation"). The functions follow the questions you ask of a new data set,
in order:

1. **What is in it?** :func:`profile` (types, missing values, cardinality,
   ranges), :func:`class_balance` and :func:`coverage` (are all segments
   represented, with enough positives?), :func:`label_delay_curve` (how long
   until a label is known?).
2. **How do I split it without lying to myself?** :func:`group_split` (no
   customer on both sides), :func:`time_split` (train on the past, test on the
   future, with a gap) and :func:`assert_disjoint`; :func:`stratified_sample`
   draws the same number of rows from every group (e.g. for an audit).
3. **Which columns carry signal?** :func:`discretize`,
   :func:`mutual_information` and :func:`signal_ranking`, which compares each
   feature's mutual information with the label against a shuffled-label
   baseline.
4. **How do I use the unlabeled pool?** :class:`SelfTraining` (pseudo-labels,
   the rule of ``sklearn.semi_supervised.SelfTrainingClassifier``) and weak
   supervision: :func:`apply_lfs`, :func:`lf_summary`, :func:`majority_vote`.
5. **Is it biased, and can I correct it?** :func:`representation`,
   :func:`label_audit`, :func:`bias_audit`, :func:`demographic_parity_gap`,
   :func:`equalized_odds_gap`; corrections :func:`reweighing` (Kamiran &
   Calders) and :func:`correct_label_rates`; :func:`compare_fairness`
   measures a correction's effect.

Conventions
-----------
* Functions take plain pandas DataFrames / NumPy arrays and know nothing of
  :mod:`mlcourse.world`; the world is only one source of such frames.
* Binary labels are 0/1 (``bool`` accepted); "positive" means 1 (fraud).
* Weak-supervision label matrices use ``ABSTAIN = -1``.
* Randomness comes from ``numpy.random.default_rng(seed)``: the same seed
  gives the same result.
* Bad input raises ``ValueError`` naming the argument and what was expected.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils import Tags, get_tags
from sklearn.utils.validation import check_is_fitted

from mlcourse._checks import (
    binary_labels,
    data_frame,
    fraction,
    integer_at_least,
    random_seed,
    require_target,
    same_length,
)

if TYPE_CHECKING:  # pragma: no cover - imported only for type hints
    from matplotlib.axes import Axes

__all__ = [
    "ABSTAIN",
    "LeakageError",
    "profile",
    "class_balance",
    "coverage",
    "label_delay_curve",
    "group_split",
    "time_split",
    "assert_disjoint",
    "stratified_sample",
    "discretize",
    "mutual_information",
    "signal_ranking",
    "SelfTraining",
    "apply_lfs",
    "lf_summary",
    "majority_vote",
    "representation",
    "label_audit",
    "bias_audit",
    "demographic_parity_gap",
    "equal_opportunity_gap",
    "equalized_odds_gap",
    "reweighing",
    "correct_label_rates",
    "flag_top",
    "compare_fairness",
    "plot_signal_ranking",
    "plot_group_rates",
]

#: The vote of a labeling function that has no opinion on a row.
ABSTAIN = -1


class LeakageError(ValueError):
    """Raised by :func:`assert_disjoint` when train and test share entities."""


# ---------------------------------------------------------------------------
# Input validation helpers
# ---------------------------------------------------------------------------


def _check_column(frame: pd.DataFrame, column: Any, name: str = "column") -> None:
    if column not in frame.columns:
        raise ValueError(f"{name}={column!r} is not a column of the frame (columns: {list(frame.columns)[:12]})")


def _as_1d(values: ArrayLike, name: str) -> np.ndarray:
    """Return ``values`` as a 1-D NumPy array (categoricals become object arrays)."""
    if isinstance(values, pd.Series | pd.Index):
        arr = values.to_numpy()
    else:
        arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-dimensional, got an array of shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty; at least one example is required")
    return arr


def _as_groups(values: ArrayLike, name: str = "groups") -> np.ndarray:
    arr = _as_1d(values, name)
    if pd.isna(arr).any():
        raise ValueError(f"{name} contains {int(pd.isna(arr).sum())} missing value(s); every row needs a group")
    return arr


def _safe_ratio(num: ArrayLike, den: ArrayLike) -> np.ndarray:
    """``num / den`` with NaN where ``den == 0`` (an undefined rate), without warnings."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    return np.where(den == 0, np.nan, num / np.where(den == 0, 1.0, den))


# ---------------------------------------------------------------------------
# 1. Profiling
# ---------------------------------------------------------------------------


def _kind(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    if isinstance(series.dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_numeric_dtype(series):
        return "numeric"
    return "text"


def profile(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per column: what it holds, how complete it is, how it is spread.

    Parameters
    ----------
    frame : pandas.DataFrame of shape (n_rows, n_columns)
        Must have at least one row.

    Returns
    -------
    pandas.DataFrame of shape (n_columns, 11), indexed by column name
        ``dtype`` (str), ``kind`` ("numeric", "boolean", "categorical",
        "datetime" or "text"), ``n_missing`` (int), ``missing_rate`` (share of
        rows, in [0, 1]), ``n_unique`` (distinct non-missing values),
        ``top`` (most frequent value; ties broken as
        ``pandas.Series.value_counts`` does), ``top_share`` (its share of the
        non-missing values), and for numeric and boolean columns ``mean``,
        ``std`` (ddof=1), ``min``, ``max`` (NaN for other kinds).

    A column with ``n_unique == 1`` carries no information; a ``top_share``
    near 1 or a large ``missing_rate`` deserves a question to whoever
    collects the data.

    Examples
    --------
    >>> p = profile(pd.DataFrame({"x": [1.0, None, 3.0], "c": ["a", "a", "b"]}))
    >>> float(p.loc["x", "missing_rate"]), p.loc["c", "top"], int(p.loc["c", "n_unique"])
    (0.3333333333333333, 'a', 2)
    """
    data_frame(frame)
    if len(frame) == 0:
        raise ValueError("frame is empty; profile needs at least one row")
    rows = []
    for column in frame.columns:
        s = frame[column]
        kind = _kind(s)
        present = s.dropna()
        counts = present.value_counts(sort=True)
        numeric = kind in ("numeric", "boolean") and len(present) > 0
        values = present.astype(float) if numeric else None
        rows.append(
            {
                "dtype": str(s.dtype),
                "kind": kind,
                "n_missing": int(s.isna().sum()),
                "missing_rate": float(s.isna().mean()),
                "n_unique": int(present.nunique()),
                "top": counts.index[0] if len(counts) else np.nan,
                "top_share": float(counts.iloc[0] / len(present)) if len(counts) else np.nan,
                "mean": float(values.mean()) if numeric else np.nan,
                "std": float(values.std(ddof=1)) if numeric and len(values) > 1 else np.nan,
                "min": float(values.min()) if numeric else np.nan,
                "max": float(values.max()) if numeric else np.nan,
            }
        )
    return pd.DataFrame(rows, index=pd.Index(frame.columns, name="column"))


def class_balance(y: ArrayLike, *, dropna: bool = True) -> pd.DataFrame:
    """Count and share of each label value.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels of any hashable type; NaN / None mark rows without a label.
    dropna : bool, default=True
        If True, rows without a label are left out (the shares are of the
        labelled rows); if False they form their own row, indexed NaN.

    Returns
    -------
    pandas.DataFrame indexed by label (sorted), columns ``count`` (int) and
    ``share`` (float, sums to 1).

    Examples
    --------
    >>> class_balance([0, 0, 0, 1]).to_dict("list")
    {'count': [3, 1], 'share': [0.75, 0.25]}
    """
    arr = _as_1d(y, "y")
    s = pd.Series(arr)
    if dropna and s.notna().sum() == 0:
        raise ValueError("y has no labelled rows (all values are missing)")
    counts = s.value_counts(dropna=dropna).sort_index()
    out = pd.DataFrame({"count": counts.astype(int), "share": counts / counts.sum()})
    out.index.name = "label"
    return out


def coverage(
    frame: pd.DataFrame,
    by: str | Sequence[str],
    *,
    label: str | None = None,
    min_count: int = 30,
    min_positives: int = 0,
) -> pd.DataFrame:
    """Rows (and positives) in every combination of segment values, gaps included.

    A data set is only as diverse as its thinnest segment: a model cannot
    learn about merchants in a region it has never seen, and a metric on a
    segment with three fraud cases is noise. ``coverage`` lists every
    combination of the values of ``by`` - also the combinations with no rows
    at all - so that the gaps are visible.

    Parameters
    ----------
    frame : pandas.DataFrame
    by : column name or list of column names
        Segment columns (categorical or low-cardinality). Missing values form
        no segment.
    label : column name, optional
        A 0/1 label column; adds ``positives`` and ``label_rate`` (rows whose
        label is missing are counted in ``n`` but not in the rate).
    min_count : int, default=30
        A segment with fewer rows is flagged ``is_thin``.
    min_positives : int, default=0
        With ``label``: a segment with fewer positives is flagged too.

    Returns
    -------
    pandas.DataFrame, one row per combination (the product of each column's
    values), indexed by the segment values; columns ``n`` (int), ``share`` (of
    all rows), [``positives``, ``label_rate``,] ``is_thin`` (bool). Sorted by
    ``n`` ascending, so the thinnest segments come first.

    Examples
    --------
    >>> f = pd.DataFrame({"g": ["a", "a", "b"], "d": ["x", "y", "x"]})
    >>> coverage(f, ["g", "d"], min_count=1)["n"].to_dict()
    {('b', 'y'): 0, ('a', 'x'): 1, ('a', 'y'): 1, ('b', 'x'): 1}
    """
    data_frame(frame)
    cols = [by] if isinstance(by, str) else list(by)
    if not cols:
        raise ValueError("by must name at least one column")
    for c in cols:
        _check_column(frame, c, "by")
    min_count = integer_at_least(min_count, "min_count", 0)
    levels = []
    for c in cols:
        s = frame[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            levels.append(list(s.cat.categories))
        else:
            levels.append(sorted(s.dropna().unique().tolist()))
    full = pd.MultiIndex.from_product(levels, names=cols) if len(cols) > 1 else pd.Index(levels[0], name=cols[0])
    keys = [frame[c].astype(object) for c in cols]
    grouped = frame.groupby(keys if len(cols) > 1 else keys[0], observed=True, dropna=True)
    n = grouped.size().reindex(full, fill_value=0).astype(int)
    out = pd.DataFrame({"n": n, "share": n / len(frame)})
    thin = out["n"] < min_count
    if label is not None:
        _check_column(frame, label, "label")
        lab = pd.to_numeric(frame[label], errors="coerce")
        g2 = lab.groupby(keys if len(cols) > 1 else keys[0], observed=True, dropna=True)
        out["positives"] = g2.sum().reindex(full, fill_value=0).astype(int)
        out["label_rate"] = g2.mean().reindex(full)
        thin |= out["positives"] < min_positives
    out["is_thin"] = thin
    return out.sort_values("n", kind="stable")


def label_delay_curve(
    frame: pd.DataFrame,
    *,
    day: str = "day",
    label_day: str = "label_day",
    label: str = "label",
    max_delay: int | None = None,
) -> pd.DataFrame:
    """Share of the eventual labels that are known ``d`` days after the event.

    Fraud labels arrive late (a chargeback takes weeks), legitimate ones after
    a short settlement period. Training on "the labels known today" therefore
    under-counts the fraud of the last weeks: the most recent data look
    cleaner than they are. This curve tells how long to wait (the ``gap`` of
    :func:`time_split`) before a day's labels are mature.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows with a label; rows whose ``label_day`` is NaN are ignored.
    day, label_day, label : column names
        Event day, day the label became known (same unit), and the 0/1 label.
    max_delay : int, optional
        Last delay of the curve; default: the largest observed delay.

    Returns
    -------
    pandas.DataFrame indexed by ``delay_days`` = 0 .. max_delay with columns
    ``positives`` and ``negatives``: the share of that class's labels known
    within ``delay_days`` days (a non-decreasing curve reaching 1).
    """
    data_frame(frame)
    for name, c in (("day", day), ("label_day", label_day), ("label", label)):
        _check_column(frame, c, name)
    known = frame[label_day].notna() & frame[label].notna()
    if not known.any():
        raise ValueError(f"frame has no row with both {label!r} and {label_day!r}")
    delay = (frame.loc[known, label_day].to_numpy(float) - frame.loc[known, day].to_numpy(float))
    if (delay < 0).any():
        raise ValueError(f"{label_day!r} is before {day!r} in {int((delay < 0).sum())} row(s)")
    y = binary_labels(frame.loc[known, label], "label")
    horizon = int(math.ceil(delay.max())) if max_delay is None else int(max_delay)
    if horizon < 0:
        raise ValueError(f"max_delay must be >= 0, got {max_delay!r}")
    grid = np.arange(horizon + 1)
    out = {}
    for cls, name in ((1, "positives"), (0, "negatives")):
        d = np.sort(delay[y == cls])
        out[name] = np.searchsorted(d, grid, side="right") / d.size if d.size else np.full(grid.size, np.nan)
    return pd.DataFrame(out, index=pd.Index(grid, name="delay_days"))


# ---------------------------------------------------------------------------
# 2. Leakage-safe splits
# ---------------------------------------------------------------------------


def group_split(
    frame: pd.DataFrame, column: str, *, test_size: float = 0.2, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split rows so that every value of ``column`` (a customer, a device...) is on one side only.

    A random row split puts transactions of the same customer in train and in
    test. The model can then recognise the customer (their amounts, their
    merchants, their habits) instead of learning fraud, and the test score
    overstates what happens with new customers. Split by entity instead.

    The rule is that of ``sklearn.model_selection.GroupShuffleSplit``: the
    distinct values are shuffled and ``ceil(test_size * n_groups)`` of them go
    to the test side, so ``test_size`` is a share of *groups*, not of rows.

    Parameters
    ----------
    frame : pandas.DataFrame
    column : column name
        The entity; no missing values.
    test_size : float in (0, 1), default=0.2
        Share of the distinct values sent to the test side.
    seed : int, default=0

    Returns
    -------
    (train, test) : two DataFrames
        Row subsets of ``frame`` (original index and order kept) that
        together hold every row once and share no value of ``column``.

    Examples
    --------
    >>> f = pd.DataFrame({"customer": [1, 1, 2, 3, 3, 4], "x": range(6)})
    >>> train, test = group_split(f, "customer", test_size=0.25, seed=0)
    >>> sorted(set(train.customer) & set(test.customer)), len(set(test.customer))
    ([], 1)
    """
    data_frame(frame)
    _check_column(frame, column, "column")
    test_size = fraction(test_size, "test_size")
    seed = random_seed(seed)
    values = frame[column]
    if values.isna().any():
        raise ValueError(f"column {column!r} has {int(values.isna().sum())} missing value(s); every row needs an entity")
    codes, uniques = pd.factorize(values, sort=True)
    n_groups = len(uniques)
    n_test = math.ceil(test_size * n_groups)
    if n_groups < 2 or n_test >= n_groups:
        raise ValueError(
            f"column {column!r} has {n_groups} distinct value(s); test_size={test_size} leaves no group for training"
        )
    rng = np.random.default_rng(seed)
    test_groups = np.zeros(n_groups, dtype=bool)
    test_groups[rng.permutation(n_groups)[:n_test]] = True
    in_test = test_groups[codes]
    return frame[~in_test], frame[in_test]


def time_split(
    frame: pd.DataFrame,
    column: str,
    *,
    cutoff: Any = None,
    test_size: float = 0.2,
    gap: Any = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train on the past, test on the future, optionally leaving a gap between them.

    ``test`` holds the rows with ``frame[column] >= cutoff``; ``train`` those
    with ``frame[column] < cutoff - gap``. Rows in the gap are used by neither.
    The gap stands for the time between the last training example and the
    moment the model goes live: labels still maturing (a chargeback takes
    weeks) and features computed over windows that would otherwise straddle
    the boundary.

    Parameters
    ----------
    frame : pandas.DataFrame
    column : column name
        A numeric or datetime column (e.g. ``day`` or ``timestamp``); no missing values.
    cutoff : scalar, optional
        First time of the test period. Default: the value at the
        ``1 - test_size`` quantile of the rows (the lower of the two
        neighbouring values), so about ``test_size`` of the rows are test.
    test_size : float in (0, 1), default=0.2
        Used only when ``cutoff`` is None.
    gap : number or timedelta, default=0
        Length of the excluded period before ``cutoff``, in the unit of
        ``column`` (a ``pd.Timedelta`` for datetime columns). Must be >= 0.

    Returns
    -------
    (train, test) : two DataFrames (original index and order kept)

    Examples
    --------
    >>> f = pd.DataFrame({"day": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]})
    >>> train, test = time_split(f, "day", cutoff=7, gap=2)
    >>> int(train.day.max()), int(test.day.min())
    (4, 7)
    """
    data_frame(frame)
    _check_column(frame, column, "column")
    t = frame[column]
    if t.isna().any():
        raise ValueError(f"column {column!r} has {int(t.isna().sum())} missing value(s); every row needs a time")
    is_dt = pd.api.types.is_datetime64_any_dtype(t)
    if not is_dt and not pd.api.types.is_numeric_dtype(t):
        raise ValueError(f"column {column!r} must be numeric or datetime, got dtype {t.dtype}")
    if is_dt:
        try:
            gap = pd.Timedelta(gap) if gap != 0 else pd.Timedelta(0)
        except (TypeError, ValueError):
            raise ValueError(f"gap must be a timedelta for the datetime column {column!r}, got {gap!r}") from None
        if isinstance(gap, pd.Timedelta) and gap < pd.Timedelta(0):
            raise ValueError(f"gap must be >= 0, got {gap!r}")
    else:
        if isinstance(gap, bool) or not isinstance(gap, int | float | np.number) or not np.isfinite(gap) or gap < 0:
            raise ValueError(f"gap must be a non-negative number for the numeric column {column!r}, got {gap!r}")
    if cutoff is None:
        test_size = fraction(test_size, "test_size")
        ordered = np.sort(t.to_numpy())
        cutoff = ordered[min(int(math.floor((1 - test_size) * len(ordered))), len(ordered) - 1)]
        if is_dt:
            cutoff = pd.Timestamp(cutoff)
    test_mask = (t >= cutoff).to_numpy()
    train_mask = (t < cutoff - gap).to_numpy()
    if not test_mask.any():
        raise ValueError(f"cutoff={cutoff!r} leaves no row in the test period (max of {column!r} is {t.max()!r})")
    if not train_mask.any():
        raise ValueError(
            f"cutoff={cutoff!r} with gap={gap!r} leaves no row for training (min of {column!r} is {t.min()!r})"
        )
    return frame[train_mask], frame[test_mask]


def assert_disjoint(train: pd.DataFrame, test: pd.DataFrame, column: str) -> None:
    """Raise :class:`LeakageError` if any value of ``column`` occurs in both frames.

    Missing values are ignored. Returns None when the sides are disjoint.

    Raises
    ------
    LeakageError (a ValueError)
        Naming the column, the number of shared values and a few examples.

    Examples
    --------
    >>> a, b = pd.DataFrame({"c": [1, 2, 3]}), pd.DataFrame({"c": [3, 4]})
    >>> try:
    ...     assert_disjoint(a, b, "c")
    ... except LeakageError as err:
    ...     print(str(err)[:58])
    1 value(s) of 'c' appear in both train and test (e.g. [3])
    """
    data_frame(train, "train")
    data_frame(test, "test")
    _check_column(train, column, "column")
    _check_column(test, column, "column")
    shared = np.intersect1d(
        pd.unique(train[column].dropna().to_numpy()), pd.unique(test[column].dropna().to_numpy())
    )
    if shared.size:
        raise LeakageError(
            f"{shared.size} value(s) of {column!r} appear in both train and test "
            f"(e.g. {shared[:5].tolist()}); split by {column!r} (group_split) so that each "
            "value is on one side only"
        )


def stratified_sample(frame: pd.DataFrame, column: str, n_per_group: int, *, seed: int = 0) -> pd.DataFrame:
    """Draw ``n_per_group`` rows at random (without replacement) from every value of ``column``.

    A simple random sample mirrors the population, so a small group gets few
    rows and every estimate about it is noisy. When the purpose is to compare
    groups - an audit of label quality per customer group, say - draw the
    same number from each.

    Parameters
    ----------
    frame : pandas.DataFrame
    column : column name
        The strata; missing values form no stratum.
    n_per_group : int >= 1
        Every stratum must have at least this many rows.
    seed : int, default=0

    Returns
    -------
    pandas.DataFrame of ``n_per_group * n_groups`` rows of ``frame`` (original
    index), in the order of ``frame``.

    Examples
    --------
    >>> f = pd.DataFrame({"g": ["a"] * 5 + ["b"] * 3})
    >>> stratified_sample(f, "g", 2, seed=0)["g"].value_counts().to_dict()
    {'a': 2, 'b': 2}
    """
    data_frame(frame)
    _check_column(frame, column, "column")
    n_per_group = integer_at_least(n_per_group, "n_per_group", 1)
    rng = np.random.default_rng(random_seed(seed))
    codes, uniques = pd.factorize(frame[column], sort=True)
    sizes = np.bincount(codes[codes >= 0], minlength=len(uniques))
    if (sizes < n_per_group).any():
        small = {str(uniques[i]): int(sizes[i]) for i in np.flatnonzero(sizes < n_per_group)}
        raise ValueError(f"n_per_group={n_per_group} exceeds the rows of group(s) {small} in column {column!r}")
    # A random key per row; within each group keep the n_per_group smallest keys.
    key = rng.random(len(frame))
    order = np.lexsort((key, codes))
    ranks = np.empty(len(frame), dtype=np.int64)
    ranks[order] = np.arange(len(frame))
    starts = np.r_[0, np.cumsum(np.bincount(codes + 1, minlength=len(uniques) + 1))[:-1]]
    keep = (codes >= 0) & (ranks - starts[codes + 1] < n_per_group)
    return frame[keep]


# ---------------------------------------------------------------------------
# 3. Signal and noise: mutual information against a shuffled baseline
# ---------------------------------------------------------------------------


def discretize(values: ArrayLike, n_bins: int = 10) -> np.ndarray:
    """Integer codes for a column: quantile bins for numbers, one code per category.

    * Numbers (not bool) with more than ``n_bins`` distinct values: bins at the
      quantiles ``0, 1/n_bins, ..., 1`` of the non-missing values (duplicate
      edges merged), so each bin holds about the same number of rows; bin
      ``i`` is ``[edge_i, edge_{i+1})`` (the last bin is closed), and the bins
      that hold a value are numbered ``0, 1, ...`` in order.
    * Anything else (few distinct numbers, bools, strings, categoricals): one
      code per distinct value, in sorted order.
    * Missing values get their own, last code: "missing" can be informative.

    Parameters
    ----------
    values : array-like of shape (n_samples,)
    n_bins : int >= 2, default=10

    Returns
    -------
    numpy.ndarray of shape (n_samples,), dtype int64, values ``0 .. k-1``.

    Examples
    --------
    >>> discretize([0.1, 0.2, 0.3, 0.4, None], n_bins=2).tolist()
    [0, 0, 1, 1, 2]
    >>> discretize(["b", "a", "b"]).tolist()
    [1, 0, 1]
    """
    n_bins = integer_at_least(n_bins, "n_bins", 2)
    s = values if isinstance(values, pd.Series) else pd.Series(_as_1d(values, "values")).infer_objects()
    if len(s) == 0:
        raise ValueError("values is empty; at least one example is required")
    missing = s.isna().to_numpy()
    numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
    if numeric and not isinstance(s.dtype, pd.CategoricalDtype):
        x = s.to_numpy(dtype=float, na_value=np.nan)
        present = x[~missing]
        if np.unique(present).size > n_bins:
            edges = np.unique(np.quantile(present, np.linspace(0, 1, n_bins + 1)))
            bins = np.searchsorted(edges[1:-1], present, side="right")
            out = np.empty(len(x), dtype=np.int64)
            out[~missing] = np.unique(bins, return_inverse=True)[1]  # renumber, dropping empty bins
            out[missing] = out[~missing].max() + 1
            return out
    codes, _ = pd.factorize(s, sort=True, use_na_sentinel=True)
    codes = codes.astype(np.int64)
    if missing.any():
        codes[missing] = codes.max() + 1
    return codes


def _contingency_mi(table: np.ndarray) -> np.ndarray:
    """MI (nats) of contingency tables of shape (..., kx, ky)."""
    table = np.asarray(table, dtype=float)
    n = table.sum(axis=(-2, -1), keepdims=True)
    pxy = table / n
    px = pxy.sum(axis=-1, keepdims=True)
    py = pxy.sum(axis=-2, keepdims=True)
    denom = px * py
    nz = pxy > 0
    terms = np.where(nz, pxy * np.log(np.where(nz, pxy, 1.0) / np.where(nz, denom, 1.0)), 0.0)
    # Rounding can make a tiny negative sum for independent variables; MI is >= 0.
    return np.maximum(terms.sum(axis=(-2, -1)), 0.0)


def mutual_information(x: ArrayLike, y: ArrayLike) -> float:
    """Mutual information between two discrete variables, in nats.

    ``I(X; Y) = sum_{x, y} p(x, y) log( p(x, y) / (p(x) p(y)) )``, with the
    probabilities estimated by counting. It is 0 exactly when the empirical
    joint distribution factorises, and at most ``min(H(X), H(Y))``. Same
    definition and unit (natural log) as ``sklearn.metrics.mutual_info_score``.

    Parameters
    ----------
    x, y : array-like of shape (n_samples,)
        Discrete values of any hashable type (use :func:`discretize` for
        continuous columns). No missing values.

    Returns
    -------
    float >= 0, in nats (divide by ``log(2)`` for bits).

    Examples
    --------
    >>> round(mutual_information([0, 0, 1, 1], [0, 0, 1, 1]), 4)   # = log 2
    0.6931
    >>> mutual_information([0, 1, 0, 1], [0, 0, 1, 1])
    0.0
    """
    xa, ya = _as_1d(x, "x"), _as_1d(y, "y")
    same_length((xa, "x"), (ya, "y"))
    for arr, name in ((xa, "x"), (ya, "y")):
        if pd.isna(arr).any():
            raise ValueError(f"{name} contains missing values; discretize it first (missing gets its own code)")
    xc, xu = pd.factorize(xa, sort=True)
    yc, yu = pd.factorize(ya, sort=True)
    kx, ky = len(xu), len(yu)
    table = np.bincount(xc * ky + yc, minlength=kx * ky).reshape(kx, ky)
    return float(_contingency_mi(table))


def signal_ranking(
    frame: pd.DataFrame,
    y: ArrayLike,
    columns: Sequence[str] | None = None,
    *,
    n_bins: int = 10,
    n_shuffles: int = 50,
    quantile: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Rank features by mutual information with the label, against a shuffled-label baseline.

    Mutual information estimated from a finite sample is never exactly 0: even
    a column of pure noise shows a small positive MI, larger the more bins it
    has and the fewer rows there are (about ``(k_x - 1)(k_y - 1) / (2 n)``
    nats). To tell signal from noise, compare each feature's MI with the MI
    it reaches when the labels are shuffled, which destroys any real relation
    but keeps the bins and the class balance:

    * ``baseline``: the ``quantile`` (default 95th percentile) of the shuffled
      MIs; a feature is ``is_signal`` when its MI exceeds it;
    * ``snr``: ``mi / baseline``, the signal-to-noise ratio (about 1 or below
      for noise);
    * ``p_value``: ``(1 + #{shuffles with MI >= mi}) / (1 + n_shuffles)``.

    The shuffles are ``rng.permutation(n)`` for ``rng =
    numpy.random.default_rng(seed)``, drawn once in order and shared by all
    columns.

    Parameters
    ----------
    frame : pandas.DataFrame of shape (n_samples, ...)
    y : array-like of shape (n_samples,)
        Labels (no missing values: use the labelled rows).
    columns : list of column names, optional
        Default: every column of ``frame``.
    n_bins : int, default=10
        Bins for numeric columns (see :func:`discretize`).
    n_shuffles : int >= 1, default=50
    quantile : float in (0, 1), default=0.95
    seed : int, default=0

    Returns
    -------
    pandas.DataFrame indexed by column name, sorted by ``mi`` descending, with
    columns ``mi`` (nats), ``baseline`` (nats), ``snr``, ``p_value``,
    ``n_codes`` (number of bins/categories used) and ``is_signal`` (bool).
    """
    data_frame(frame)
    cols = list(frame.columns) if columns is None else list(columns)
    if not cols:
        raise ValueError("columns is empty; name at least one feature")
    for c in cols:
        _check_column(frame, c, "columns")
    ya = _as_1d(y, "y")
    same_length((frame, "frame"), (ya, "y"))
    if pd.isna(ya).any():
        raise ValueError(f"y contains {int(pd.isna(ya).sum())} missing value(s); use the labelled rows only")
    n_shuffles = integer_at_least(n_shuffles, "n_shuffles", 1)
    quantile = fraction(quantile, "quantile")
    rng = np.random.default_rng(random_seed(seed))
    yc, yu = pd.factorize(ya, sort=True)
    ky = len(yu)
    n = len(yc)
    perms = np.stack([rng.permutation(n) for _ in range(n_shuffles)])  # (S, n)
    y_shuffled = yc[perms]
    offsets = np.arange(n_shuffles)[:, None]
    rows = []
    for c in cols:
        xc = discretize(frame[c], n_bins=n_bins)
        kx = int(xc.max()) + 1
        observed = _contingency_mi(np.bincount(xc * ky + yc, minlength=kx * ky).reshape(kx, ky))
        # One bincount tallies all the shuffled tables: cell index = s*kx*ky + x*ky + y.
        idx = offsets * (kx * ky) + xc[None, :] * ky + y_shuffled
        tables = np.bincount(idx.ravel(), minlength=n_shuffles * kx * ky).reshape(n_shuffles, kx, ky)
        shuffled = _contingency_mi(tables)
        baseline = float(np.quantile(shuffled, quantile))
        rows.append(
            {
                "mi": float(observed),
                "baseline": baseline,
                "snr": float(observed / baseline) if baseline > 0 else (np.inf if observed > 0 else np.nan),
                "p_value": float((1 + np.sum(shuffled >= observed)) / (1 + n_shuffles)),
                "n_codes": kx,
                "is_signal": bool(observed > baseline),
            }
        )
    out = pd.DataFrame(rows, index=pd.Index(cols, name="feature"))
    return out.sort_values("mi", ascending=False, kind="stable")


# ---------------------------------------------------------------------------
# 4. The unlabeled pool: self-training and weak supervision
# ---------------------------------------------------------------------------


def _take(X: Any, mask: np.ndarray) -> Any:
    return X.iloc[mask] if hasattr(X, "iloc") else X[mask]


class SelfTraining(ClassifierMixin, BaseEstimator):
    """Self-training: fit, pseudo-label the confident unlabeled rows, refit, repeat.

    The rule is that of ``sklearn.semi_supervised.SelfTrainingClassifier``
    with ``criterion="threshold"``, written out so it can be read:

    1. fit a clone of ``estimator`` on the labelled rows;
    2. predict the unlabeled rows; those whose highest class probability is
       **strictly greater** than ``threshold`` get that class as a
       pseudo-label and join the labelled rows;
    3. repeat until no row is added, every row is labelled, or ``max_iter``
       rounds have run; then fit once more on everything labelled.

    Pseudo-labels help when the model's confident predictions are right and
    the unlabeled rows cover regions the labelled ones miss; they hurt when
    the model is confidently wrong, since its mistakes are fed back as
    truth ("confirmation bias"). On rare-event data a high threshold mostly
    adds easy negatives; check the gain on held-out data.

    Parameters
    ----------
    estimator : classifier with ``fit`` and ``predict_proba``
    threshold : float in [0, 1), default=0.75
    max_iter : int >= 1 or None, default=10
        None: no limit.

    Attributes
    ----------
    estimator_ : the final fitted clone
    classes_ : ndarray of the known classes
    transduction_ : ndarray of shape (n_samples,)
        Labels used in the final fit; -1 where a row was never labelled.
    labeled_iter_ : ndarray of shape (n_samples,)
        0 for rows labelled from the start, ``i`` for rows pseudo-labelled in
        round ``i``, -1 for never.
    n_iter_ : int
        Rounds run.
    termination_condition_ : {"max_iter", "no_change", "all_labeled"}

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.array([[0.0], [0.2], [0.4], [2.6], [2.8], [3.0]])
    >>> st = SelfTraining(LogisticRegression(), threshold=0.6).fit(X, [0, -1, -1, -1, -1, 1])
    >>> st.transduction_.tolist()
    [0, 0, 0, 1, 1, 1]
    """

    def __init__(self, estimator: Any = None, threshold: float = 0.75, max_iter: int | None = 10):
        self.estimator = estimator
        self.threshold = threshold
        self.max_iter = max_iter

    def fit(self, X: Any, y: ArrayLike) -> SelfTraining:
        """Fit on ``X`` (array or DataFrame, n_samples rows) and ``y`` with -1 (or NaN) for unlabeled rows."""
        if self.estimator is None or not hasattr(self.estimator, "predict_proba"):
            raise ValueError("estimator must be a classifier with fit and predict_proba, got "
                             f"{type(self.estimator).__name__}")
        threshold = fraction(self.threshold, "threshold", inclusive="left")
        if self.max_iter is not None and (
            isinstance(self.max_iter, bool) or not isinstance(self.max_iter, int | np.integer) or self.max_iter < 1
        ):
            raise ValueError(f"max_iter must be a positive integer or None, got {self.max_iter!r}")
        require_target(self, y)
        # Frames and sparse matrices (as CSR, which can select rows) go to the estimator as they are.
        X = X.tocsr() if sp.issparse(X) else X if hasattr(X, "iloc") else np.asarray(X)
        y = _as_1d(y, "y")
        same_length((X, "X"), (y, "y"))
        if y.dtype.kind in "US":
            raise ValueError("y must be numeric or of dtype object, with -1 marking unlabeled rows")
        if y.dtype.kind == "f":
            nan = np.isnan(y)
            y = np.where(nan, -1, y)
            if np.all(np.mod(y, 1) == 0):
                y = y.astype(int)
        has_label = y != -1
        if not has_label.any():
            raise ValueError("y has no labelled row; mark only the unlabeled rows with -1")

        self.transduction_ = np.copy(y)
        self.labeled_iter_ = np.where(has_label, 0, -1)
        self.n_iter_ = 0
        self.termination_condition_ = "max_iter"
        self.n_pseudo_labels_: list[int] = []
        self.estimator_ = clone(self.estimator)
        while not has_label.all() and (self.max_iter is None or self.n_iter_ < self.max_iter):
            self.n_iter_ += 1
            self.estimator_.fit(_take(X, has_label), self.transduction_[has_label])
            unlabeled = np.flatnonzero(~has_label)
            proba = self.estimator_.predict_proba(_take(X, ~has_label))
            confident = proba.max(axis=1) > threshold
            chosen = unlabeled[confident]
            self.transduction_[chosen] = self.estimator_.classes_[proba[confident].argmax(axis=1)]
            has_label[chosen] = True
            self.labeled_iter_[chosen] = self.n_iter_
            self.n_pseudo_labels_.append(int(chosen.size))
            if chosen.size == 0:
                self.termination_condition_ = "no_change"
                break
        if self.n_iter_ == self.max_iter:
            self.termination_condition_ = "max_iter"
        if has_label.all():
            self.termination_condition_ = "all_labeled"
        self.estimator_.fit(_take(X, has_label), self.transduction_[has_label])
        self.classes_ = self.estimator_.classes_
        if hasattr(self.estimator_, "n_features_in_"):  # the final model checks X at predict time
            self.n_features_in_ = self.estimator_.n_features_in_
        return self

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        if self.estimator is not None:  # X goes to the estimator as it is: sparse if it takes sparse
            tags.input_tags.sparse = get_tags(self.estimator).input_tags.sparse
        return tags

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of the final model, shape (n_samples, n_classes)."""
        check_is_fitted(self)
        return self.estimator_.predict_proba(X)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted classes of the final model, shape (n_samples,)."""
        check_is_fitted(self)
        return self.estimator_.predict(X)


def _lf_name(lf: Callable, i: int) -> str:
    return getattr(lf, "__name__", None) or f"lf_{i}"


def apply_lfs(
    frame: pd.DataFrame, lfs: Sequence[Callable[[pd.DataFrame], ArrayLike]] | Mapping[str, Callable]
) -> pd.DataFrame:
    """Apply labeling functions to a frame: the label matrix of weak supervision.

    A *labeling function* (LF) encodes one heuristic of a domain expert ("a
    new device buying gift cards at 3 a.m. is fraud"). It sees the whole frame
    and returns one vote per row: a class (0 or 1 here) or ``ABSTAIN = -1``
    when the heuristic does not apply. LFs are cheap, noisy and partial;
    combining many of them (:func:`majority_vote`) labels the unlabeled pool
    at scale.

    Parameters
    ----------
    frame : pandas.DataFrame of shape (n_samples, ...)
    lfs : sequence of callables, or mapping name -> callable
        Each ``lf(frame)`` returns an array-like of shape (n_samples,) of
        integers >= -1. Names default to the functions' ``__name__``.

    Returns
    -------
    pandas.DataFrame of shape (n_samples, n_lfs), dtype int64
        ``L[i, j]`` is the vote of LF ``j`` on row ``i``; same index as ``frame``,
        columns named after the LFs.

    Examples
    --------
    >>> f = pd.DataFrame({"amount": [5.0, 900.0, 50.0]})
    >>> def big(df): return np.where(df.amount > 500, 1, -1)
    >>> def small(df): return np.where(df.amount < 10, 0, -1)
    >>> apply_lfs(f, [big, small]).to_numpy().tolist()
    [[-1, 0], [1, -1], [-1, -1]]
    """
    data_frame(frame)
    if isinstance(lfs, Mapping):
        named = list(lfs.items())
    else:
        named = [(_lf_name(lf, i), lf) for i, lf in enumerate(lfs)]
    if not named:
        raise ValueError("lfs is empty; pass at least one labeling function")
    names = [n for n, _ in named]
    if len(set(names)) != len(names):
        raise ValueError(f"lfs must have distinct names, got {names}")
    out = {}
    for name, lf in named:
        if not callable(lf):
            raise ValueError(f"lfs[{name!r}] must be callable, got {type(lf).__name__}")
        votes = np.asarray(lf(frame))
        if votes.shape != (len(frame),):
            raise ValueError(f"labeling function {name!r} returned shape {votes.shape}, expected ({len(frame)},)")
        try:
            as_float = votes.astype(float)
        except (TypeError, ValueError):
            raise ValueError(f"labeling function {name!r} must return integers >= -1, got dtype {votes.dtype}") from None
        if np.isnan(as_float).any() or (as_float != np.round(as_float)).any() or (as_float < -1).any():
            raise ValueError(f"labeling function {name!r} must return integers >= -1 (-1 = abstain)")
        out[name] = as_float.astype(np.int64)
    return pd.DataFrame(out, index=frame.index)


def _as_label_matrix(L: Any) -> tuple[np.ndarray, list[str]]:
    if isinstance(L, pd.DataFrame):
        names = [str(c) for c in L.columns]
        arr = L.to_numpy()
    else:
        arr = np.asarray(L)
        names = [f"lf_{j}" for j in range(arr.shape[1])] if arr.ndim == 2 else []
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"L must be a non-empty 2-D label matrix (n_samples, n_lfs), got shape {arr.shape}")
    if arr.dtype.kind not in "iub" and not (arr.dtype.kind == "f" and np.all(arr == np.round(arr))):
        raise ValueError(f"L must hold integer votes (-1 = abstain), got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if (arr < -1).any():
        raise ValueError("L must hold votes >= -1 (-1 = abstain)")
    return arr, names


def lf_summary(L: Any, y: ArrayLike | None = None) -> pd.DataFrame:
    """How each labeling function behaves: how often it votes, agrees, conflicts, is right.

    Parameters
    ----------
    L : label matrix of shape (n_samples, n_lfs), e.g. from :func:`apply_lfs`
    y : array-like of shape (n_samples,), optional
        Gold labels where known; -1 or NaN where unknown. Adds the accuracy
        of each LF on the rows it votes on and whose gold label is known.

    Returns
    -------
    pandas.DataFrame indexed by LF name with columns

    * ``polarity``: sorted list of the classes the LF emits;
    * ``coverage``: share of rows it votes on (does not abstain);
    * ``overlaps``: share of rows where it and at least one other LF vote;
    * ``conflicts``: share of rows where it votes and another LF votes a
      *different* class;
    * with ``y``: ``n_gold`` (its votes on rows with a gold label) and
      ``accuracy`` (share of those that are right; NaN when ``n_gold == 0``).

    These are the statistics of Snorkel's ``LFAnalysis``.
    """
    arr, names = _as_label_matrix(L)
    votes = arr != ABSTAIN
    n_votes = votes.sum(axis=1, keepdims=True)
    others_vote = (n_votes - votes) > 0
    # Does some other LF vote a different class on the row? Count, per row, the
    # votes for each class; "another LF disagrees" = votes for other classes > 0.
    classes = np.unique(arr[votes]) if votes.any() else np.array([], dtype=np.int64)
    per_class = (arr[:, :, None] == classes[None, None, :]).sum(axis=1)  # (n, k)
    if classes.size:
        own_class_count = np.take_along_axis(
            per_class, np.clip(np.searchsorted(classes, arr), 0, classes.size - 1), axis=1
        )
    else:
        own_class_count = np.zeros_like(arr)
    disagree = votes & ((n_votes - own_class_count) > 0)
    out = pd.DataFrame(
        {
            "polarity": [sorted(np.unique(arr[votes[:, j], j]).tolist()) for j in range(arr.shape[1])],
            "coverage": votes.mean(axis=0),
            "overlaps": (votes & others_vote).mean(axis=0),
            "conflicts": disagree.mean(axis=0),
        },
        index=pd.Index(names, name="lf"),
    )
    if y is not None:
        ya = _as_1d(y, "y").astype(float)
        same_length((arr, "L"), (ya, "y"))
        gold = ~np.isnan(ya) & (ya != ABSTAIN)
        judged = votes & gold[:, None]
        right = judged & (arr == ya[:, None])
        out["n_gold"] = judged.sum(axis=0)
        out["accuracy"] = _safe_ratio(right.sum(axis=0), judged.sum(axis=0))
    return out


def majority_vote(
    L: Any, *, weights: ArrayLike | None = None, tie_break: str = "abstain"
) -> np.ndarray:
    """Combine labeling-function votes: the (weighted) most frequent class per row.

    Parameters
    ----------
    L : label matrix of shape (n_samples, n_lfs), -1 = abstain
    weights : array-like of shape (n_lfs,), optional
        Non-negative weight of each LF's vote (e.g. the log-odds of its
        accuracy); default 1 for each.
    tie_break : {"abstain", "lowest"}, default="abstain"
        A row whose top classes tie gets ``-1`` ("abstain") or the lowest
        tied class ("lowest").

    Returns
    -------
    numpy.ndarray of shape (n_samples,), dtype int64
        The winning class, or -1 where every LF abstains (or on a tie with
        ``tie_break="abstain"``).

    Examples
    --------
    >>> majority_vote(np.array([[1, 1, 0], [0, -1, -1], [1, 0, -1], [-1, -1, -1]])).tolist()
    [1, 0, -1, -1]
    """
    arr, _ = _as_label_matrix(L)
    if tie_break not in ("abstain", "lowest"):
        raise ValueError(f"tie_break must be 'abstain' or 'lowest', got {tie_break!r}")
    if weights is None:
        w = np.ones(arr.shape[1])
    else:
        w = _as_1d(weights, "weights").astype(float)
        if w.shape[0] != arr.shape[1]:
            raise ValueError(f"weights must have one entry per LF ({arr.shape[1]}), got {w.shape[0]}")
        if not np.isfinite(w).all() or (w < 0).any():
            raise ValueError("weights must be finite and non-negative")
    votes = arr != ABSTAIN
    out = np.full(arr.shape[0], ABSTAIN, dtype=np.int64)
    if not votes.any():
        return out
    classes = np.unique(arr[votes])
    score = ((arr[:, :, None] == classes[None, None, :]) * w[None, :, None]).sum(axis=1)  # (n, k)
    best = score.max(axis=1)
    winner = classes[score.argmax(axis=1)]  # argmax takes the lowest class on ties
    n_best = np.isclose(score, best[:, None]).sum(axis=1)
    decided = best > 0
    if tie_break == "abstain":
        decided &= n_best == 1
    out[decided] = winner[decided]
    return out


# ---------------------------------------------------------------------------
# 5. Implicit bias: audit and correction
# ---------------------------------------------------------------------------


def representation(groups: ArrayLike, reference: ArrayLike | Mapping[Any, float]) -> pd.DataFrame:
    """Is each group represented in a sample as in the population?

    Parameters
    ----------
    groups : array-like of shape (n_samples,)
        Group of each row of the sample (e.g. the labelled set).
    reference : array-like of the population's groups, or mapping group -> share
        What the sample should look like.

    Returns
    -------
    pandas.DataFrame indexed by group (sorted) with ``n`` (rows in the
    sample), ``share``, ``reference_share`` and ``ratio = share /
    reference_share`` (1 = fair representation, 0.5 = half as present as it
    should be).

    Examples
    --------
    >>> representation(["A", "A", "A", "B"], {"A": 0.5, "B": 0.5})["ratio"].tolist()
    [1.5, 0.5]
    """
    g = _as_groups(groups)
    counts = pd.Series(g).value_counts()
    if isinstance(reference, Mapping):
        ref = pd.Series(dict(reference), dtype=float)
        if (ref < 0).any() or ref.sum() <= 0:
            raise ValueError("reference shares must be non-negative and not all zero")
        ref = ref / ref.sum()
    else:
        ref = pd.Series(_as_groups(reference, "reference")).value_counts(normalize=True)
    index = sorted(set(counts.index) | set(ref.index), key=str)
    counts = counts.reindex(index, fill_value=0)
    ref = ref.reindex(index, fill_value=0.0)
    share = counts / counts.sum()
    out = pd.DataFrame(
        {"n": counts.astype(int), "share": share, "reference_share": ref, "ratio": _safe_ratio(share, ref)},
        index=pd.Index(index, name="group"),
    )
    return out


def label_audit(observed: ArrayLike, audited: ArrayLike, groups: ArrayLike) -> pd.DataFrame:
    """Compare the labels a data set recorded with a trusted audit of the same rows, per group.

    Labels are measurements, and the measurement can be biased: fraud against
    one group of customers may be reported less often (fewer chargebacks
    filed, less trust in the bank), so the recorded labels under-state that
    group's fraud. Nothing in the labelled data reveals it - a model trained
    on those labels learns the bias as if it were truth. Only an independent,
    trusted label on a sample (a careful investigation, an audit) can measure it.

    Parameters
    ----------
    observed : array-like of shape (n_samples,)
        Recorded 0/1 labels.
    audited : array-like of shape (n_samples,)
        Trusted 0/1 labels of the same rows.
    groups : array-like of shape (n_samples,)

    Returns
    -------
    pandas.DataFrame indexed by group with ``n``, ``audited_positives``,
    ``observed_rate`` (mean recorded label), ``audited_rate`` (mean trusted
    label), ``report_rate`` = P(recorded 1 | truly 1), the share of true
    positives that made it into the labels, and ``false_report_rate`` =
    P(recorded 1 | truly 0). NaN where a group has no audited positive (or
    negative).
    """
    obs = binary_labels(observed, "observed")
    aud = binary_labels(audited, "audited")
    g = _as_groups(groups)
    same_length((obs, "observed"), (aud, "audited"), (g, "groups"))
    f = pd.DataFrame({"g": g, "obs": obs, "aud": aud, "tp": obs * aud, "fp": obs * (1 - aud), "neg": 1 - aud})
    agg = f.groupby("g", sort=True).agg(
        n=("obs", "size"), audited_positives=("aud", "sum"), audited_negatives=("neg", "sum"),
        observed_rate=("obs", "mean"), audited_rate=("aud", "mean"), tp=("tp", "sum"), fp=("fp", "sum"),
    )
    out = agg[["n", "audited_positives", "observed_rate", "audited_rate"]].copy()
    out["report_rate"] = _safe_ratio(agg["tp"], agg["audited_positives"])
    out["false_report_rate"] = _safe_ratio(agg["fp"], agg["audited_negatives"])
    out.index.name = "group"
    return out


def bias_audit(y_true: ArrayLike, y_pred: ArrayLike, groups: ArrayLike) -> pd.DataFrame:
    """Per-group rates of a set of decisions (or of labels): the table behind every fairness gap.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        0/1 reference labels. For a fairness audit these should be the
        *truth*; labels that are themselves biased make a biased model look fair.
    y_pred : array-like of shape (n_samples,)
        0/1 decisions (1 = flagged / selected).
    groups : array-like of shape (n_samples,)

    Returns
    -------
    pandas.DataFrame indexed by group (sorted) with

    * ``n`` and ``share``: representation in the data;
    * ``positives`` and ``label_rate``: base rate of ``y_true``;
    * ``selection_rate``: P(flagged) - demographic parity compares these;
    * ``tpr``: P(flagged | positive), ``fpr``: P(flagged | negative) -
      equalized odds compares both. NaN when a group has no positive
      (negative) row.

    Examples
    --------
    >>> a = bias_audit([1, 0, 1, 0], [1, 0, 0, 0], ["a", "a", "b", "b"])
    >>> a["tpr"].tolist(), a["selection_rate"].tolist()
    ([1.0, 0.0], [0.5, 0.0])
    """
    t = binary_labels(y_true, "y_true")
    p = binary_labels(y_pred, "y_pred")
    g = _as_groups(groups)
    same_length((t, "y_true"), (p, "y_pred"), (g, "groups"))
    f = pd.DataFrame({"g": g, "t": t, "p": p, "tp": t * p, "fp": (1 - t) * p, "neg": 1 - t})
    agg = f.groupby("g", sort=True).agg(
        n=("t", "size"), positives=("t", "sum"), negatives=("neg", "sum"),
        label_rate=("t", "mean"), selection_rate=("p", "mean"), tp=("tp", "sum"), fp=("fp", "sum"),
    )
    out = pd.DataFrame(
        {
            "n": agg["n"].astype(int),
            "share": agg["n"] / len(t),
            "positives": agg["positives"].astype(int),
            "label_rate": agg["label_rate"],
            "selection_rate": agg["selection_rate"],
            "tpr": _safe_ratio(agg["tp"], agg["positives"]),
            "fpr": _safe_ratio(agg["fp"], agg["negatives"]),
        },
        index=agg.index,
    )
    out.index.name = "group"
    return out


def _gap(values: pd.Series) -> float:
    v = values.dropna()
    return float(v.max() - v.min()) if len(v) else float("nan")


def _worst(*gaps: float) -> float:
    """The largest of some gaps, ignoring undefined (NaN) ones; NaN if all are."""
    defined = [g for g in gaps if not np.isnan(g)]
    return max(defined) if defined else float("nan")


def demographic_parity_gap(y_pred: ArrayLike, groups: ArrayLike) -> float:
    """Largest difference in selection rate P(flagged) between two groups, in [0, 1].

    0 means every group is flagged equally often. It ignores the labels, so a
    gap is not unfair by itself when the base rates truly differ. Same value
    as ``fairlearn.metrics.demographic_parity_difference``.

    Examples
    --------
    >>> demographic_parity_gap([1, 0, 0, 0], ["a", "a", "b", "b"])
    0.5
    """
    p = binary_labels(y_pred, "y_pred")
    g = _as_groups(groups)
    same_length((p, "y_pred"), (g, "groups"))
    return _gap(pd.Series(p).groupby(g).mean())


def equal_opportunity_gap(y_true: ArrayLike, y_pred: ArrayLike, groups: ArrayLike) -> float:
    """Largest difference in true-positive rate (recall) between groups; groups without positives are skipped."""
    return _gap(bias_audit(y_true, y_pred, groups)["tpr"])


def equalized_odds_gap(y_true: ArrayLike, y_pred: ArrayLike, groups: ArrayLike) -> float:
    """``max(TPR gap, FPR gap)`` between groups, in [0, 1].

    Equalized odds asks that, *given the truth*, the decision does not depend
    on the group: fraud is caught equally often (TPR) and honest customers
    are flagged equally often (FPR) in every group. Same value as
    ``fairlearn.metrics.equalized_odds_difference`` (``agg="worst_case"``).

    Examples
    --------
    >>> equalized_odds_gap([1, 0, 1, 0], [1, 0, 0, 0], ["a", "a", "b", "b"])
    1.0
    """
    audit = bias_audit(y_true, y_pred, groups)
    return _worst(_gap(audit["tpr"]), _gap(audit["fpr"]))


def reweighing(groups: ArrayLike, y: ArrayLike) -> np.ndarray:
    """Kamiran & Calders (2012) reweighing: ``w(g, y) = P(g) P(y) / P(g, y)``.

    Weighted by these, the data look as if the label were independent of the
    group: every group gets the overall label rate, and every group keeps its
    total weight. Use them as ``sample_weight`` when fitting. This corrects
    *sampling* and *historical* bias when the true base rates are equal
    across groups; it cannot tell a real difference in base rates from a
    biased one - that takes an audit (:func:`label_audit`).

    Parameters
    ----------
    groups, y : array-like of shape (n_samples,)
        Group of each row and its 0/1 (or any discrete) label.

    Returns
    -------
    numpy.ndarray of shape (n_samples,), float, mean exactly 1.

    Examples
    --------
    >>> reweighing(["a", "a", "a", "b"], [1, 0, 0, 0]).round(3).tolist()
    [0.75, 1.125, 1.125, 0.75]
    """
    g = _as_groups(groups)
    ya = _as_1d(y, "y")
    same_length((g, "groups"), (ya, "y"))
    if pd.isna(ya).any():
        raise ValueError("y contains missing values; reweigh the labelled rows only")
    gc, gu = pd.factorize(g, sort=True)
    yc, yu = pd.factorize(ya, sort=True)
    kg, ky = len(gu), len(yu)
    n = len(gc)
    joint = np.bincount(gc * ky + yc, minlength=kg * ky).reshape(kg, ky) / n
    pg, py = joint.sum(axis=1), joint.sum(axis=0)
    return (pg[gc] * py[yc]) / joint[gc, yc]


def correct_label_rates(
    scores: ArrayLike,
    groups: ArrayLike,
    report_rate: Mapping[Any, float],
    false_report_rate: Mapping[Any, float] | float = 0.0,
) -> np.ndarray:
    """Undo group-dependent under-reporting in a model's probabilities.

    If a true positive of group ``g`` is recorded with probability ``r_g``
    (the ``report_rate``) and a true negative is recorded positive with
    probability ``f_g``, independently of the features, a model trained on the
    recorded labels estimates ``q = f_g + (r_g - f_g) p`` instead of the true
    ``p = P(positive | x)``. Inverting gives

        ``p = (q - f_g) / (r_g - f_g)``, clipped to [0, 1].

    The rates come from an audit sample (:func:`label_audit`). This is the
    standard correction for "positive-unlabelled"-style label noise.

    Parameters
    ----------
    scores : array-like of shape (n_samples,)
        The model's probabilities ``q`` in [0, 1].
    groups : array-like of shape (n_samples,)
    report_rate : mapping group -> r_g in (0, 1]
        Must name every group present.
    false_report_rate : mapping group -> f_g, or one float for all, default=0
        Each ``f_g`` must be below ``r_g``.

    Returns
    -------
    numpy.ndarray of shape (n_samples,): corrected probabilities in [0, 1].

    Examples
    --------
    >>> correct_label_rates([0.1, 0.1], ["A", "C"], {"A": 1.0, "C": 0.5}).tolist()
    [0.1, 0.2]
    """
    q = _as_1d(scores, "scores").astype(float)
    if np.isnan(q).any() or (q < 0).any() or (q > 1).any():
        raise ValueError("scores must be probabilities in [0, 1] with no NaN")
    g = _as_groups(groups)
    same_length((q, "scores"), (g, "groups"))
    present = pd.unique(pd.Series(g)).tolist()
    missing = [v for v in present if v not in report_rate]
    if missing:
        raise ValueError(f"report_rate has no rate for group(s) {missing}")
    r = pd.Series(g).map(lambda v: float(report_rate[v])).to_numpy()
    if isinstance(false_report_rate, Mapping):
        missing = [v for v in present if v not in false_report_rate]
        if missing:
            raise ValueError(f"false_report_rate has no rate for group(s) {missing}")
        f = pd.Series(g).map(lambda v: float(false_report_rate[v])).to_numpy()
    else:
        f = np.full(q.shape, float(false_report_rate))
    if (r <= 0).any() or (r > 1).any() or np.isnan(r).any():
        raise ValueError("report_rate values must be in (0, 1]")
    if (f < 0).any() or (f >= r).any() or np.isnan(f).any():
        raise ValueError("false_report_rate values must be in [0, report_rate)")
    return np.clip((q - f) / (r - f), 0.0, 1.0)


def flag_top(scores: ArrayLike, rate: float) -> np.ndarray:
    """Flag the ``ceil(rate * n)`` highest scores: decisions under a review budget.

    A fraud team can investigate a fixed share of traffic, so the decision is
    "flag the riskiest k", not "flag above 0.5". Ties are broken by position
    (earlier rows first), so the count is exact.

    Returns
    -------
    numpy.ndarray of shape (n_samples,), int 0/1, with exactly ``ceil(rate * n)`` ones.

    Examples
    --------
    >>> flag_top([0.1, 0.9, 0.5, 0.7], 0.5).tolist()
    [0, 1, 0, 1]
    """
    s = _as_1d(scores, "scores").astype(float)
    if np.isnan(s).any():
        raise ValueError("scores contains NaN")
    rate = fraction(rate, "rate")
    k = math.ceil(rate * s.size)
    out = np.zeros(s.size, dtype=int)
    out[np.argsort(-s, kind="stable")[:k]] = 1
    return out


def compare_fairness(
    y_true: ArrayLike,
    groups: ArrayLike,
    predictions: Mapping[str, ArrayLike],
    scores: Mapping[str, ArrayLike] | None = None,
) -> pd.DataFrame:
    """Accuracy and fairness gaps of several sets of decisions side by side (e.g. before/after a correction).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        0/1 truth (ground truth, not the possibly biased labels).
    groups : array-like of shape (n_samples,)
    predictions : mapping name -> 0/1 decisions of shape (n_samples,)
    scores : mapping name -> scores of shape (n_samples,), optional
        Adds ``auc`` (ROC-AUC against ``y_true``) for the names it has.

    Returns
    -------
    pandas.DataFrame indexed by name with ``accuracy``, ``recall``,
    ``precision``, ``selection_rate``, ``dp_gap`` (demographic parity),
    ``tpr_gap`` (equal opportunity), ``fpr_gap``, ``eo_gap`` (equalized odds),
    ``worst_group_tpr`` and, with ``scores``, ``auc``.
    """
    from mlcourse.evaluation import roc_auc

    t = binary_labels(y_true, "y_true")
    g = _as_groups(groups)
    same_length((t, "y_true"), (g, "groups"))
    if not predictions:
        raise ValueError("predictions is empty; pass at least one name -> decisions")
    rows = {}
    for name, pred in predictions.items():
        p = binary_labels(pred, f"predictions[{name!r}]")
        same_length((t, "y_true"), (p, f"predictions[{name!r}]"))
        audit = bias_audit(t, p, g)
        tp = int(np.sum(t * p))
        row = {
            "accuracy": float(np.mean(t == p)),
            "recall": tp / t.sum() if t.sum() else np.nan,
            "precision": tp / p.sum() if p.sum() else np.nan,
            "selection_rate": float(p.mean()),
            "dp_gap": _gap(audit["selection_rate"]),
            "tpr_gap": _gap(audit["tpr"]),
            "fpr_gap": _gap(audit["fpr"]),
            "worst_group_tpr": float(audit["tpr"].min()),
        }
        row["eo_gap"] = _worst(row["tpr_gap"], row["fpr_gap"])
        if scores is not None and name in scores:
            row["auc"] = roc_auc(t, _as_1d(scores[name], f"scores[{name!r}]").astype(float))
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index")


# ---------------------------------------------------------------------------
# Plots
# ---------------------------------------------------------------------------


def _get_ax(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(6.5, 4))[1]


def plot_signal_ranking(ranking: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Horizontal bars of each feature's MI, with its shuffled-label baseline as a tick.

    ``ranking`` is the output of :func:`signal_ranking`. Signal bars are blue,
    the others grey.
    """
    for c in ("mi", "baseline", "is_signal"):
        if c not in ranking.columns:
            raise ValueError(f"ranking must be the output of signal_ranking (missing column {c!r})")
    ax = _get_ax(ax)
    r = ranking.iloc[::-1]
    pos = np.arange(len(r))
    colors = np.where(r["is_signal"].to_numpy(bool), "tab:blue", "tab:grey")
    ax.barh(pos, r["mi"], color=colors, label="mutual information with the label")
    ax.scatter(r["baseline"], pos, marker="|", s=200, color="black", zorder=3, label="95% of shuffled labels")
    ax.set_yticks(pos, [str(i) for i in r.index])
    ax.set_xscale("symlog", linthresh=max(float(r["baseline"].min()), 1e-6))
    ax.set_xlabel("mutual information (nats, symlog scale)")
    ax.set_title("Signal vs noise: MI against a shuffled-label baseline")
    ax.legend(loc="lower right")
    return ax


def plot_group_rates(
    audit: pd.DataFrame, columns: Sequence[str] = ("label_rate", "selection_rate", "tpr"), ax: Axes | None = None
) -> Axes:
    """Grouped bars of per-group rates from :func:`bias_audit` (or any per-group table)."""
    cols = list(columns)
    for c in cols:
        if c not in audit.columns:
            raise ValueError(f"audit has no column {c!r} (columns: {list(audit.columns)})")
    ax = _get_ax(ax)
    width = 0.8 / len(cols)
    pos = np.arange(len(audit))
    for i, c in enumerate(cols):
        ax.bar(pos + (i - (len(cols) - 1) / 2) * width, audit[c].to_numpy(float), width, label=c)
    ax.set_xticks(pos, [str(i) for i in audit.index])
    ax.set_xlabel("group")
    ax.set_ylabel("rate")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside, so that no bar is hidden
    return ax
