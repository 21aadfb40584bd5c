"""The optimization and improvement cycle: decide what to change by evidence.

Stage 7 of the course roadmap. After a model ships, the work goes on: tweak
the features, change the architecture, or collect more data. Each costs time;
this module measures which one is worth it.

1. **More data or a bigger model?** :func:`learning_curve` scores a model on
   growing training sets, with repeats (the spread), and :func:`diagnose`
   reads the curve: a large train/validation gap is *variance* (more data or
   more regularisation), two low curves that have met are *bias* (a bigger
   model or better features).
2. **Where does it fail?** :func:`worst_slices` ranks the slices of the data
   (single columns and pairs) by error, with a confidence interval and a
   test against the rest, so a tiny slice cannot win by noise.
3. **Honest tuning, on the record.** :class:`ExperimentTracker` keeps one
   record per experiment (in memory, and as JSON lines on disk);
   :func:`grid_search` tunes by cross-validation and logs every candidate;
   :func:`nested_cv` measures how good the *tuning procedure* is, which a test
   set that the search has seen cannot.
4. **What is each part worth?** :func:`compare_variants` and
   :func:`feature_ablation` score a model against variants of itself (a
   component removed, a feature or a group dropped) on the same folds, and
   report the paired score change with its spread.
5. **Is it too good to be true?** :func:`single_feature_auc` and
   :func:`leakage_report` flag features that predict the target almost
   perfectly on their own (leakage); :func:`adversarial_validation` trains a
   classifier to tell training data from serving data (train/serve skew,
   covariate shift) and names the features that give it away.
6. **Constraints.** :func:`prediction_cost`, a deterministic proxy of a
   model's latency (the work one prediction needs), so that an improvement
   can be held to a latency budget.

Conventions
-----------
* Scores are "higher is better" (scikit-learn's scorer convention): pass
  ``scoring="roc_auc"``, ``"accuracy"``, ``"neg_log_loss"``, ... or a callable
  ``scorer(estimator, X, y)``.
* ``cv`` is an integer (``StratifiedKFold(cv)``, no shuffling, as scikit-learn
  does for classifiers) or any splitter, or a list of ``(train, test)`` index
  pairs; the same splits are used for every candidate, so differences are
  paired.
* Deterministic given the seeds; bad arguments raise ``ValueError`` naming the
  argument and what was expected.
"""

from __future__ import annotations

import itertools
import json
import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats
from sklearn.base import clone

from mlcourse import evaluation as ev
from mlcourse._checks import fraction, integer_at_least, number_in, positive_number

if TYPE_CHECKING:  # pragma: no cover - imported only for type hints
    from matplotlib.axes import Axes

__all__ = [
    # learning curves
    "LearningCurve",
    "learning_curve",
    "Diagnosis",
    "diagnose",
    "plot_learning_curve",
    # slices
    "worst_slices",
    # experiments and tuning
    "ExperimentTracker",
    "SearchResult",
    "grid_search",
    "NestedCVResult",
    "nested_cv",
    # ablations
    "compare_variants",
    "feature_ablation",
    # leakage and skew
    "single_feature_auc",
    "leakage_report",
    "AdversarialResult",
    "adversarial_validation",
    # constraints
    "prediction_cost",
]


# ---------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------


def _take(X: Any, rows: np.ndarray) -> Any:
    return X.iloc[rows] if hasattr(X, "iloc") else np.asarray(X)[rows]


def _check_xy(X: Any, y: Any) -> np.ndarray:
    if not hasattr(X, "shape") or len(X.shape) != 2:
        raise ValueError(f"X must be a 2-D array or DataFrame, got {type(X).__name__}")
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != X.shape[0]:
        raise ValueError(f"y must be 1-D with one entry per row of X ({X.shape[0]}), got shape {y.shape}")
    return y


def _splits(cv: Any, X: Any, y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (train, test) index pairs of ``cv``, materialised once so every candidate sees the same."""
    from sklearn.model_selection import StratifiedKFold

    if isinstance(cv, (list, tuple)):
        if not cv or not all(len(pair) == 2 for pair in cv):
            raise ValueError("cv must be a non-empty list of (train, test) index pairs")
        return [(np.asarray(tr), np.asarray(te)) for tr, te in cv]
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        cv = StratifiedKFold(integer_at_least(cv, "cv", 2))
    if isinstance(cv, str) or not hasattr(cv, "split"):
        raise ValueError(f"cv must be an integer >= 2, a splitter or a list of (train, test) pairs, got {cv!r}")
    return [(np.asarray(tr), np.asarray(te)) for tr, te in cv.split(X, y)]


def _scorer(estimator: Any, scoring: Any) -> Callable[[Any, Any, Any], float]:
    from sklearn.metrics import check_scoring

    if callable(scoring):
        return scoring
    if not isinstance(scoring, str):
        raise ValueError(f"scoring must be a scikit-learn scorer name or a callable, got {scoring!r}")
    try:
        return check_scoring(estimator, scoring=scoring)
    except ValueError as error:
        raise ValueError(f"scoring {scoring!r} is not a scikit-learn scorer name: {error}") from None


def _fit_score(estimator: Any, X: Any, y: np.ndarray, train: np.ndarray, test: np.ndarray,
               scorer: Callable, *, train_score: bool = False) -> tuple[float, float]:
    model = clone(estimator).fit(_take(X, train), y[train])
    test_value = float(scorer(model, _take(X, test), y[test]))
    train_value = float(scorer(model, _take(X, train), y[train])) if train_score else math.nan
    return train_value, test_value


# ---------------------------------------------------------------------------
# 1. Learning curves: more data or a bigger model?
# ---------------------------------------------------------------------------


class LearningCurve(NamedTuple):
    """Scores of one model trained on growing subsets (see :func:`learning_curve`).

    ``train_scores`` and ``val_scores`` have shape ``(len(train_sizes), n_splits)``:
    one column per split (a repeat), so the spread across repeats is visible.
    """

    train_sizes: np.ndarray
    train_scores: np.ndarray
    val_scores: np.ndarray

    @property
    def train_mean(self) -> np.ndarray:
        return self.train_scores.mean(axis=1)

    @property
    def val_mean(self) -> np.ndarray:
        return self.val_scores.mean(axis=1)

    @property
    def train_std(self) -> np.ndarray:
        return self.train_scores.std(axis=1)

    @property
    def val_std(self) -> np.ndarray:
        return self.val_scores.std(axis=1)

    def to_frame(self) -> pd.DataFrame:
        """One row per training size: means and standard deviations, and the gap."""
        return pd.DataFrame(
            {
                "train_size": self.train_sizes,
                "train_mean": self.train_mean,
                "train_std": self.train_std,
                "val_mean": self.val_mean,
                "val_std": self.val_std,
                "gap": self.train_mean - self.val_mean,
            }
        ).set_index("train_size")


def _absolute_sizes(train_sizes: Any, n_max: int) -> np.ndarray:
    sizes = np.asarray(train_sizes)
    if sizes.ndim != 1 or sizes.size == 0 or not np.issubdtype(sizes.dtype, np.number):
        raise ValueError(f"train_sizes must be a non-empty 1-D sequence of numbers, got {train_sizes!r}")
    if np.issubdtype(sizes.dtype, np.floating):
        if np.any(sizes <= 0) or np.any(sizes > 1):
            raise ValueError(f"train_sizes as fractions must lie in (0, 1], got {sizes.tolist()}")
        # The same rounding as scikit-learn's learning_curve: floor, at least one row.
        sizes = np.clip((sizes * n_max).astype(int), 1, n_max)
    elif np.any(sizes < 1) or np.any(sizes > n_max):
        raise ValueError(f"train_sizes as counts must lie in [1, {n_max}] (the smallest training fold), got {sizes.tolist()}")
    return np.unique(sizes)


def learning_curve(
    estimator: Any,
    X: Any,
    y: ArrayLike,
    *,
    train_sizes: Sequence[float] = (0.1, 0.2, 0.4, 0.7, 1.0),
    cv: Any = None,
    n_repeats: int = 5,
    test_size: float = 0.25,
    scoring: Any = "roc_auc",
    seed: int = 0,
) -> LearningCurve:
    """Train and validation scores of ``estimator`` trained on the first ``n`` rows of each training split.

    For each split ``(train, test)`` and each size ``n``, a fresh clone is fitted
    on ``train[:n]``, and scored on those ``n`` rows (the *training* score)
    and on ``test`` (the *validation* score). This is exactly what
    :func:`sklearn.model_selection.learning_curve` does (with ``shuffle=False``),
    written out so you can read it.

    Parameters
    ----------
    estimator : unfitted scikit-learn estimator
    X, y : data; ``y`` 1-D
    train_sizes : fractions in (0, 1] of the training split (floats) or row counts (ints)
    cv : splitter, int or list of (train, test) pairs, optional
        Default: ``n_repeats`` random stratified splits holding out
        ``test_size`` of the rows (``StratifiedShuffleSplit``), so that the
        repeats show the spread of each point.
    n_repeats, test_size : used only when ``cv`` is None
    scoring : scorer name or callable ``(estimator, X, y) -> float``; higher is better
    seed : seed of the default splits

    Returns
    -------
    LearningCurve

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 3)); y = (X[:, 0] + rng.normal(size=300) > 0).astype(int)
    >>> curve = learning_curve(LogisticRegression(), X, y, train_sizes=[20, 100, 200], n_repeats=3)
    >>> curve.train_scores.shape
    (3, 3)
    """
    from sklearn.model_selection import StratifiedShuffleSplit

    y = _check_xy(X, y)
    if cv is None:
        cv = StratifiedShuffleSplit(
            n_splits=integer_at_least(n_repeats, "n_repeats", 1), test_size=fraction(test_size, "test_size"),
            random_state=seed,
        )
    splits = _splits(cv, X, y)
    sizes = _absolute_sizes(train_sizes, min(len(tr) for tr, _ in splits))
    scorer = _scorer(estimator, scoring)
    train_scores = np.empty((len(sizes), len(splits)))
    val_scores = np.empty_like(train_scores)
    for j, (train, test) in enumerate(splits):
        for i, n in enumerate(sizes):
            train_scores[i, j], val_scores[i, j] = _fit_score(estimator, X, y, train[:n], test, scorer, train_score=True)
    return LearningCurve(sizes, train_scores, val_scores)


class Diagnosis(NamedTuple):
    """What a learning curve says (see :func:`diagnose`)."""

    verdict: str          # "more data", "bigger model" or "good fit"
    problem: str          # "high variance", "high bias" or "none"
    gap: float            # final train score - final validation score
    final_val: float      # validation score at the largest training size
    val_slope: float      # validation gain over the last step of the curve
    reason: str


def _curve_means(scores: Any, name: str) -> np.ndarray:
    arr = np.asarray(scores, dtype=float)
    if arr.ndim == 2:
        arr = arr.mean(axis=1)
    if arr.ndim != 1 or arr.size < 2 or not np.isfinite(arr).all():
        raise ValueError(
            f"{name} must hold finite scores for at least 2 training sizes (1-D, or 2-D sizes x repeats), "
            f"got shape {np.shape(scores)}"
        )
    return arr


def diagnose(
    train_scores: ArrayLike | LearningCurve,
    val_scores: ArrayLike | None = None,
    *,
    target: float | None = None,
    gap_tol: float = 0.05,
) -> Diagnosis:
    """Read a learning curve: more data, a bigger model, or good enough?

    The rule, on the scores at the largest training size (means over repeats):

    1. ``target`` given and the validation score reaches it: **"good fit"**;
    2. train score - validation score > ``gap_tol``: **high variance**, the
       model fits its training rows much better than new ones. The gap
       closes as data grows: **"more data"** (or regularise);
    3. otherwise the curves have met, both too low: **high bias**. More data
       will not lift a curve that has converged: **"bigger model"** (more
       capacity, better features). Without a ``target``, converged curves
       count as high bias: you asked because the score is not good enough.

    Parameters
    ----------
    train_scores : array (n_sizes,) or (n_sizes, n_repeats), or a LearningCurve
        Higher is better (accuracy, AUC, negative loss).
    val_scores : same shape; omit when ``train_scores`` is a LearningCurve
    target : float, optional
        The score that would be good enough.
    gap_tol : float >= 0
        The largest train/validation gap still counted as "converged".

    Examples
    --------
    >>> diagnose([1.0, 1.0, 0.99], [0.70, 0.75, 0.80]).verdict
    'more data'
    >>> diagnose([0.75, 0.71, 0.70], [0.65, 0.68, 0.69]).verdict
    'bigger model'
    """
    if isinstance(train_scores, LearningCurve):
        curve = train_scores
        train_scores, val_scores = curve.train_scores, curve.val_scores
    elif val_scores is None:
        raise ValueError("val_scores is required unless train_scores is a LearningCurve")
    train = _curve_means(train_scores, "train_scores")
    val = _curve_means(val_scores, "val_scores")
    if train.shape != val.shape:
        raise ValueError(f"train_scores and val_scores must have the same sizes, got {train.shape} and {val.shape}")
    gap_tol = positive_number(gap_tol, "gap_tol", allow_zero=True)
    gap, final_val, slope = float(train[-1] - val[-1]), float(val[-1]), float(val[-1] - val[-2])
    if target is not None and final_val >= target:
        return Diagnosis("good fit", "none", gap, final_val, slope,
                         f"validation score {final_val:.3f} reaches the target {target:.3f}")
    if gap > gap_tol:
        return Diagnosis("more data", "high variance", gap, final_val, slope,
                         f"train/validation gap {gap:.3f} > {gap_tol}: the model memorises its training rows")
    return Diagnosis("bigger model", "high bias", gap, final_val, slope,
                     f"curves have met (gap {gap:.3f} <= {gap_tol}) below the goal: more data cannot lift them")


def plot_learning_curve(curve: LearningCurve, ax: Axes | None = None, title: str | None = None,
                        label: str = "") -> Axes:
    """Mean train and validation scores against training size, with ±1 sd bands over the repeats."""
    import matplotlib.pyplot as plt

    ax = ax if ax is not None else plt.subplots(figsize=(6, 4))[1]
    for mean, std, what, style in [(curve.train_mean, curve.train_std, "train", "--"),
                                   (curve.val_mean, curve.val_std, "validation", "-")]:
        line, = ax.plot(curve.train_sizes, mean, style, marker="o", label=f"{label} {what}".strip())
        ax.fill_between(curve.train_sizes, mean - std, mean + std, color=line.get_color(), alpha=0.15)
    ax.set_xlabel("training examples")
    ax.set_ylabel("score")
    ax.legend()
    if title:
        ax.set_title(title)
    return ax


# ---------------------------------------------------------------------------
# 2. Slices: where does the model fail?
# ---------------------------------------------------------------------------


def _slice_keys(column: pd.Series, n_bins: int) -> pd.Series:
    """A column as slice labels: numbers in quantile bins, everything else as strings; NaN -> 'missing'."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column) and column.nunique() > n_bins:
        binned = pd.qcut(column, q=n_bins, duplicates="drop")
        keys = binned.astype(str)
    else:
        keys = column.astype(object).astype(str)
    return keys.where(column.notna(), "missing")


def worst_slices(
    frame: pd.DataFrame,
    errors: ArrayLike,
    *,
    columns: Sequence[str] | None = None,
    pairs: bool = True,
    min_support: int = 30,
    confidence: float = 0.95,
    n_bins: int = 4,
) -> pd.DataFrame:
    """Rank the slices of ``frame`` by their mean error, trusting only what the data support.

    A slice is one value of a column (``device = mobile``), or of two columns
    at once (``device = mobile & merchant_category = travel``) when ``pairs``.
    Numeric columns with many values are cut into ``n_bins`` quantile bins.
    Slices with fewer than ``min_support`` rows are dropped.

    For each slice: its mean error, a confidence interval (Wilson's for 0/1
    errors, the normal approximation otherwise), and a two-sided Welch test of
    "this slice's error equals the rest's". The table is sorted by the
    **lower end of the interval**, so a small slice with a high but uncertain
    error ranks below a large slice that is reliably bad.

    Parameters
    ----------
    frame : DataFrame of the slicing columns (e.g. the raw test frame)
    errors : array (n_rows,)
        Per-row error: 0/1 mistakes, or any non-negative loss (e.g. a per-row cost).
    columns : columns to slice on; default all of ``frame``'s
    pairs : also slice on every pair of columns
    min_support : minimum rows in a slice
    confidence : level of the interval, in (0, 1)
    n_bins : quantile bins for numeric columns

    Returns
    -------
    DataFrame, one row per slice, columns ``slice`` (readable name), ``columns``
    (tuple), ``n``, ``error``, ``ci_low``, ``ci_high``, ``rest_error``, ``lift``
    (error - overall error) and ``p_value``; sorted by ``ci_low`` descending.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    err = np.asarray(errors, dtype=float)
    if err.ndim != 1 or len(err) != len(frame):
        raise ValueError(f"errors must be 1-D with one entry per row of frame ({len(frame)}), got shape {err.shape}")
    if not np.isfinite(err).all() or np.any(err < 0):
        raise ValueError("errors must be finite and non-negative (0/1 mistakes or a per-row loss)")
    columns = list(frame.columns) if columns is None else list(columns)
    unknown = [c for c in columns if c not in frame.columns]
    if unknown or not columns:
        raise ValueError(f"columns must name columns of frame, got unknown {unknown or columns}")
    min_support = integer_at_least(min_support, "min_support", 2)
    confidence = fraction(confidence, "confidence")
    n_bins = integer_at_least(n_bins, "n_bins", 2)

    keys = {c: _slice_keys(frame[c].reset_index(drop=True), n_bins) for c in columns}
    combos: list[tuple[str, ...]] = [(c,) for c in columns]
    if pairs:
        combos += list(itertools.combinations(columns, 2))
    binary = bool(np.isin(err, (0.0, 1.0)).all())
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    total_n, total_sum, total_sq = len(err), err.sum(), np.sum(err**2)
    tables = []
    work = pd.DataFrame({"err": err, "sq": err**2})
    for combo in combos:
        label = keys[combo[0]] if len(combo) == 1 else keys[combo[0]] + "\x1f" + keys[combo[1]]
        g = work.groupby(label.to_numpy(), sort=True).agg(n=("err", "size"), s=("err", "sum"), sq=("sq", "sum"))
        g = g[g["n"] >= min_support]
        if g.empty:
            continue
        n, mean = g["n"].to_numpy(float), (g["s"] / g["n"]).to_numpy()
        if binary:  # Wilson score interval
            centre = (mean + z**2 / (2 * n)) / (1 + z**2 / n)
            half = z * np.sqrt(mean * (1 - mean) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
            low, high = centre - half, centre + half
        else:
            var = np.maximum(g["sq"].to_numpy() / n - mean**2, 0.0) * n / np.maximum(n - 1, 1)
            half = z * np.sqrt(var / n)
            low, high = mean - half, mean + half
        rest_n = total_n - n
        with np.errstate(invalid="ignore", divide="ignore"):
            rest_mean = (total_sum - g["s"].to_numpy()) / rest_n
            var_in = np.maximum(g["sq"].to_numpy() / n - mean**2, 0.0) * n / np.maximum(n - 1, 1)
            var_out = np.maximum((total_sq - g["sq"].to_numpy()) / rest_n - rest_mean**2, 0.0) * rest_n / np.maximum(rest_n - 1, 1)
            se = np.sqrt(var_in / n + var_out / rest_n)
            t_stat = (mean - rest_mean) / se
        p = np.where(se > 0, 2 * stats.norm.sf(np.abs(np.nan_to_num(t_stat))), np.where(mean == rest_mean, 1.0, 0.0))
        names = [" & ".join(f"{c} = {v}" for c, v in zip(combo, str(idx).split("\x1f"), strict=True)) for idx in g.index]
        tables.append(pd.DataFrame({
            "slice": names, "columns": [combo] * len(g), "n": n.astype(int), "error": mean,
            "ci_low": low, "ci_high": high, "rest_error": rest_mean, "lift": mean - total_sum / total_n,
            "p_value": np.where(rest_n > 0, p, 1.0),
        }))
    if not tables:
        return pd.DataFrame(columns=["slice", "columns", "n", "error", "ci_low", "ci_high", "rest_error", "lift", "p_value"])
    out = pd.concat(tables, ignore_index=True)
    return out.sort_values(["ci_low", "n"], ascending=[False, False], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------
# 3. Experiments: a tracker, an honest search
# ---------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return repr(value)  # an estimator or a function: keep a readable trace


class ExperimentTracker:
    """A minimal experiment log: one record per run, in memory and (optionally) as JSON lines.

    Every record has a ``run`` number (0, 1, ...), a ``name``, ``params``
    (what you chose), ``metrics`` (what you measured) and ``tags`` (anything
    else: the data version, the split, a note). With a ``path``, each record
    is appended to that file as one JSON line the moment it is logged, so a
    crash loses nothing and ``ExperimentTracker(path)`` reloads the history.

    >>> tracker = ExperimentTracker()
    >>> tracker.log("logistic", params={"C": 1.0}, metrics={"cv_auc": 0.83})
    0
    >>> tracker.to_frame()[["name", "C", "cv_auc"]].values.tolist()
    [['logistic', 1.0, 0.83]]
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = None if path is None else Path(path)
        self.records: list[dict[str, Any]] = []
        if self.path is not None and self.path.exists():
            with self.path.open(encoding="utf-8") as handle:
                for number, line in enumerate(handle, start=1):
                    if line.strip():
                        try:
                            self.records.append(json.loads(line))
                        except json.JSONDecodeError as error:
                            raise ValueError(f"{self.path}, line {number}: not a JSON record ({error.msg})") from None

    def __len__(self) -> int:
        return len(self.records)

    def log(self, name: str, *, params: Mapping[str, Any] | None = None, metrics: Mapping[str, float] | None = None,
            tags: Mapping[str, Any] | None = None) -> int:
        """Record one run; returns its run number."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty string, got {name!r}")
        for what, value in (("params", params), ("metrics", metrics), ("tags", tags)):
            if value is not None and not isinstance(value, Mapping):
                raise ValueError(f"{what} must be a mapping (dict), got {type(value).__name__}")
        metrics = dict(metrics or {})
        for key, value in metrics.items():
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ValueError(f"metrics[{key!r}] must be a number, got {value!r}")
        record = {
            "run": len(self.records),
            "name": name,
            "params": _jsonable(dict(params or {})),
            "metrics": {k: float(v) for k, v in metrics.items()},
            "tags": _jsonable(dict(tags or {})),
        }
        self.records.append(record)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, allow_nan=True) + "\n")
        return record["run"]

    def to_frame(self) -> pd.DataFrame:
        """One row per run: ``run``, ``name``, then every param, metric and tag as a column.

        A run that lacks a column gets NaN there. Query it like any frame:
        ``tracker.to_frame().query("name == 'boosting'").sort_values("cv_auc")``.
        """
        rows = []
        for r in self.records:
            row = {"run": r["run"], "name": r["name"]}
            row.update({k: (json.dumps(v) if isinstance(v, (list, dict)) else v) for k, v in r["params"].items()})
            row.update(r["metrics"])
            row.update({k: (json.dumps(v) if isinstance(v, (list, dict)) else v) for k, v in r["tags"].items()})
            rows.append(row)
        return pd.DataFrame(rows, columns=None if rows else ["run", "name"])

    def best(self, metric: str, *, mode: str = "max", name: str | None = None) -> dict[str, Any]:
        """The record with the best ``metric`` (ties: the earliest run), optionally among runs named ``name``."""
        if mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
        candidates = [r for r in self.records if metric in r["metrics"] and (name is None or r["name"] == name)]
        if not candidates:
            raise ValueError(f"no run has the metric {metric!r}" + (f" under the name {name!r}" if name else ""))
        sign = 1.0 if mode == "max" else -1.0
        return max(candidates, key=lambda r: (sign * r["metrics"][metric], -r["run"]))

    def plot(self, metric: str, *, x: str = "run", ax: Axes | None = None, by: str | None = "name") -> Axes:
        """``metric`` against ``x`` (the run number or a param), one series per ``by`` value."""
        import matplotlib.pyplot as plt

        frame = self.to_frame()
        if metric not in frame.columns or x not in frame.columns:
            raise ValueError(f"metric {metric!r} and x {x!r} must be columns of the runs: {list(frame.columns)}")
        ax = ax if ax is not None else plt.subplots(figsize=(6, 4))[1]
        groups = frame.groupby(by) if by is not None else [("", frame)]
        for key, part in groups:
            part = part.dropna(subset=[metric]).sort_values(x)
            ax.plot(part[x], part[metric], marker="o", label=str(key))
        ax.set_xlabel(x)
        ax.set_ylabel(metric)
        if by is not None:
            ax.legend()
        return ax


class SearchResult(NamedTuple):
    """What :func:`grid_search` found.

    ``results`` has one row per candidate, in grid order: the params,
    ``mean_score``, ``std_score`` and the per-split scores ``split0`` ....
    ``best_estimator`` is refitted on all the data when ``refit`` (else None).
    """

    best_params: dict[str, Any]
    best_score: float
    best_index: int
    results: pd.DataFrame
    best_estimator: Any


def _check_grid(param_grid: Any) -> list[dict[str, Any]]:
    from sklearn.model_selection import ParameterGrid

    if not isinstance(param_grid, (Mapping, list)) or not param_grid:
        raise ValueError(f"param_grid must be a non-empty dict of lists (or a list of such dicts), got {param_grid!r}")
    try:
        return list(ParameterGrid(param_grid))
    except (TypeError, ValueError) as error:
        raise ValueError(f"param_grid is not a valid grid: {error}") from None


def grid_search(
    estimator: Any,
    param_grid: Mapping[str, Sequence[Any]] | list[Mapping[str, Sequence[Any]]],
    X: Any,
    y: ArrayLike,
    *,
    cv: Any = 5,
    scoring: Any = "roc_auc",
    refit: bool = True,
    tracker: ExperimentTracker | None = None,
    name: str = "grid_search",
) -> SearchResult:
    """Try every combination of ``param_grid`` by cross-validation; keep the best mean score.

    The same algorithm as :class:`sklearn.model_selection.GridSearchCV`: the
    candidates in :class:`~sklearn.model_selection.ParameterGrid` order, the
    same splits for every candidate, the best by mean validation score (ties:
    the first candidate). Each candidate is logged to ``tracker`` (if given)
    as a run named ``name`` with its params and ``cv_score`` / ``cv_std``.

    The best mean score is **optimistically biased**: it is the maximum of
    several noisy estimates. Report a score measured on data the search never
    saw (a held-out test set, once) or use :func:`nested_cv`.
    """
    y = _check_xy(X, y)
    candidates = _check_grid(param_grid)
    splits = _splits(cv, X, y)
    scorer = _scorer(estimator, scoring)
    scores = np.empty((len(candidates), len(splits)))
    for i, params in enumerate(candidates):
        model = clone(estimator).set_params(**params)
        for j, (train, test) in enumerate(splits):
            scores[i, j] = _fit_score(model, X, y, train, test, scorer)[1]
        if tracker is not None:
            tracker.log(name, params=params, metrics={"cv_score": scores[i].mean(), "cv_std": scores[i].std()},
                        tags={"n_splits": len(splits), "scoring": scoring if isinstance(scoring, str) else "custom"})
    mean = scores.mean(axis=1)
    best = int(np.argmax(mean))  # first of the ties, as GridSearchCV's rank 1
    results = pd.DataFrame(candidates)
    results["mean_score"], results["std_score"] = mean, scores.std(axis=1)
    for j in range(len(splits)):
        results[f"split{j}"] = scores[:, j]
    best_estimator = clone(estimator).set_params(**candidates[best]).fit(X, y) if refit else None
    return SearchResult(dict(candidates[best]), float(mean[best]), best, results, best_estimator)


class NestedCVResult(NamedTuple):
    """Per outer fold: the params the inner search chose, its (optimistic) inner best
    score, and the outer score of that choice on data the search never saw."""

    outer_scores: np.ndarray
    inner_best_scores: np.ndarray
    best_params: list[dict[str, Any]]

    @property
    def optimism(self) -> float:
        """Mean inner best score - mean outer score: how much the search flatters itself."""
        return float(self.inner_best_scores.mean() - self.outer_scores.mean())


def nested_cv(
    estimator: Any,
    param_grid: Mapping[str, Sequence[Any]],
    X: Any,
    y: ArrayLike,
    *,
    outer_cv: Any = 5,
    inner_cv: Any = 3,
    scoring: Any = "roc_auc",
    tracker: ExperimentTracker | None = None,
) -> NestedCVResult:
    """Estimate how good *tuning + training* is: an inner :func:`grid_search` per outer training fold.

    Each outer fold is hidden from its search, so ``outer_scores`` are honest;
    their mean is the number to report for the procedure. (The same as
    ``cross_val_score(GridSearchCV(estimator, param_grid, cv=inner_cv), X, y, cv=outer_cv)``.)
    """
    y = _check_xy(X, y)
    _check_grid(param_grid)
    if isinstance(inner_cv, (list, tuple)):
        raise ValueError("inner_cv must be an integer or a splitter: fixed index pairs cannot follow the outer folds")
    outer = _splits(outer_cv, X, y)
    scorer = _scorer(estimator, scoring)
    outer_scores, inner_scores, chosen = [], [], []
    for k, (train, test) in enumerate(outer):
        X_train, y_train = _take(X, train), y[train]
        found = grid_search(estimator, param_grid, X_train, y_train, cv=inner_cv, scoring=scoring, refit=True)
        outer_scores.append(float(scorer(found.best_estimator, _take(X, test), y[test])))
        inner_scores.append(found.best_score)
        chosen.append(found.best_params)
        if tracker is not None:
            tracker.log("nested_cv", params=found.best_params,
                        metrics={"inner_best": found.best_score, "outer": outer_scores[-1]}, tags={"outer_fold": k})
    return NestedCVResult(np.array(outer_scores), np.array(inner_scores), chosen)


# ---------------------------------------------------------------------------
# 4. Ablations: what is each part worth?
# ---------------------------------------------------------------------------


def compare_variants(
    variants: Mapping[str, Any],
    X: Any,
    y: ArrayLike,
    *,
    baseline: str,
    cv: Any = 5,
    scoring: Any = "roc_auc",
    tracker: ExperimentTracker | None = None,
) -> pd.DataFrame:
    """Score each variant on the same folds and report its paired change against ``baseline``.

    ``variants`` maps a name to an unfitted estimator, or to a pair
    ``(estimator, columns)`` to train that estimator on those columns of the
    DataFrame ``X`` only (a feature ablation). Using the same folds makes the
    per-fold differences *paired*: fold-to-fold noise cancels, and the spread
    of the differences says whether a change is real.

    Returns
    -------
    DataFrame, one row per variant: ``mean_score``, ``std_score``, ``delta``
    (mean of variant - baseline, per fold), ``delta_std`` (sd of the per-fold
    differences), ``delta_se`` (its standard error) and ``t`` (delta / se;
    NaN for the baseline); sorted by ``delta`` ascending (the most harmful
    removal first).
    """
    if not isinstance(variants, Mapping) or not variants:
        raise ValueError("variants must be a non-empty mapping name -> estimator (or (estimator, columns))")
    if baseline not in variants:
        raise ValueError(f"baseline {baseline!r} is not one of the variants {list(variants)}")
    y = _check_xy(X, y)
    splits = _splits(cv, X, y)
    per_fold = {}
    for name, spec in variants.items():
        estimator, columns = spec if isinstance(spec, tuple) else (spec, None)
        data = X
        if columns is not None:
            if not isinstance(X, pd.DataFrame):
                raise ValueError(f"variant {name!r} selects columns, so X must be a DataFrame")
            missing = [c for c in columns if c not in X.columns]
            if missing or not len(columns):
                raise ValueError(f"variant {name!r}: columns must be a non-empty list of X's columns, unknown {missing}")
            data = X[list(columns)]
        scorer = _scorer(estimator, scoring)
        per_fold[name] = np.array([_fit_score(estimator, data, y, tr, te, scorer)[1] for tr, te in splits])
        if tracker is not None:
            tracker.log("ablation", params={"variant": name},
                        metrics={"cv_score": per_fold[name].mean(), "cv_std": per_fold[name].std()})
    base = per_fold[baseline]
    k = len(splits)
    rows = {}
    for name, scores in per_fold.items():
        diff = scores - base
        sd = float(diff.std(ddof=1)) if k > 1 else math.nan
        se = sd / math.sqrt(k) if k > 1 else math.nan
        rows[name] = {
            "mean_score": scores.mean(), "std_score": scores.std(), "delta": diff.mean(), "delta_std": sd,
            "delta_se": se, "t": (diff.mean() / se if name != baseline and se > 0 else math.nan),
        }
    return pd.DataFrame.from_dict(rows, orient="index").sort_values("delta", kind="stable")


def feature_ablation(
    make_model: Callable[[list[str]], Any] | Any,
    X: pd.DataFrame,
    y: ArrayLike,
    *,
    groups: Mapping[str, Sequence[str]] | None = None,
    cv: Any = 5,
    scoring: Any = "roc_auc",
    tracker: ExperimentTracker | None = None,
) -> pd.DataFrame:
    """Drop one feature (or one group of features) at a time and measure the change in score.

    Parameters
    ----------
    make_model : callable ``columns -> unfitted estimator``, or an estimator
        that works on any subset of columns. A callable lets the model's
        preprocessing follow the columns (e.g. ``md.make_preprocessor(X[columns])``).
    X : DataFrame
    groups : mapping group name -> columns, optional
        Default: every column on its own (drop-one).

    Returns
    -------
    The :func:`compare_variants` table with a row ``"all features"`` (the
    baseline, delta 0) and one row ``"- <group>"`` per dropped group. A
    clearly negative ``delta`` (several standard errors) marks a useful
    feature; a delta near 0 a feature the model does not need.
    """
    if not isinstance(X, pd.DataFrame):
        raise ValueError(f"X must be a pandas DataFrame, got {type(X).__name__}")
    columns = list(X.columns)
    groups = {c: [c] for c in columns} if groups is None else dict(groups)
    if not groups:
        raise ValueError("groups must not be empty")
    for g, cols in groups.items():
        unknown = [c for c in cols if c not in columns]
        if unknown or not cols:
            raise ValueError(f"group {g!r} must list columns of X, got unknown {unknown or cols}")
        if set(cols) >= set(columns):
            raise ValueError(f"group {g!r} drops every column; nothing would be left to train on")

    def build(cols: list[str]) -> Any:
        return make_model(cols) if callable(make_model) and not hasattr(make_model, "fit") else clone(make_model)

    variants: dict[str, Any] = {"all features": (build(columns), columns)}
    for g, cols in groups.items():
        kept = [c for c in columns if c not in set(cols)]
        variants[f"- {g}"] = (build(kept), kept)
    return compare_variants(variants, X, y, baseline="all features", cv=cv, scoring=scoring, tracker=tracker)


# ---------------------------------------------------------------------------
# 5. Leakage and train/serve skew
# ---------------------------------------------------------------------------


def _oof_target_mean(keys: np.ndarray, y: np.ndarray, n_folds: int, seed: int) -> np.ndarray:
    """Out-of-fold mean of y per category (the global mean for a category unseen in the fold)."""
    fold = np.random.default_rng(seed).permutation(len(y)) % n_folds
    out = np.empty(len(y))
    codes, uniques = pd.factorize(keys, use_na_sentinel=False)
    for k in range(n_folds):
        train, test = fold != k, fold == k
        sums = np.bincount(codes[train], weights=y[train], minlength=len(uniques))
        counts = np.bincount(codes[train], minlength=len(uniques))
        prior = y[train].mean()
        # a little smoothing towards the prior, so a category seen once does not score 0 or 1
        out[test] = ((sums + 5 * prior) / (counts + 5))[codes[test]]
    return out


def _feature_aucs(frame: pd.DataFrame, y: np.ndarray, columns: list[str], n_folds: int, seed: int,
                  n_bins: int = 20) -> pd.DataFrame:
    rows = {}
    for c in columns:
        col = frame[c]
        monotone = math.nan
        if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            values = col.to_numpy(dtype=float)
            finite = np.isfinite(values)
            filled = np.where(finite, values, np.median(values[finite]) if finite.any() else 0.0)
            auc = ev.roc_auc(y, filled)
            monotone = max(auc, 1.0 - auc)
            # quantile bins (missing values as their own bin) catch what a ranking misses:
            # a value that is special in the middle of the range, or missingness itself
            series = pd.Series(values)
            keys = series.astype(object).where(series.notna(), "__missing__").astype(str)
            if series.nunique() > n_bins:
                # a value that holds >= 1% of the rows (a sentinel, a default) keeps its own bin;
                # the other values go into quantile bins
                counts = series.value_counts()
                spikes = series.isin(counts.index[counts >= 0.01 * len(series)])
                rest = series.notna() & ~spikes
                if rest.any():
                    bins = pd.qcut(series[rest], q=n_bins, duplicates="drop", labels=False)
                    keys[rest] = "bin " + bins.astype(int).astype(str)
            keys = keys.to_numpy()
        else:
            keys = col.astype(object).where(col.notna(), "__missing__").astype(str).to_numpy()
        auc = ev.roc_auc(y, _oof_target_mean(keys, y, n_folds, seed))
        binned = max(auc, 1.0 - auc)
        rows[c] = {"auc": np.nanmax([monotone, binned]), "monotone_auc": monotone, "binned_auc": binned}
    return pd.DataFrame.from_dict(rows, orient="index").sort_values("auc", ascending=False, kind="stable")


def _check_feature_inputs(frame: Any, y: Any, columns: Any, n_folds: Any) -> tuple[np.ndarray, list[str], int]:
    if not isinstance(frame, pd.DataFrame):
        raise ValueError(f"frame must be a pandas DataFrame, got {type(frame).__name__}")
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(frame):
        raise ValueError(f"y must be 1-D with one entry per row of frame ({len(frame)}), got shape {y.shape}")
    if not np.isin(y, (0, 1)).all() or len(np.unique(y)) < 2:
        raise ValueError("y must hold binary labels 0/1 with both classes present")
    columns = list(frame.columns) if columns is None else list(columns)
    unknown = [c for c in columns if c not in frame.columns]
    if unknown:
        raise ValueError(f"columns {unknown} are not columns of frame")
    return y.astype(float), columns, integer_at_least(n_folds, "n_folds", 2)


def single_feature_auc(frame: pd.DataFrame, y: ArrayLike, *, columns: Sequence[str] | None = None,
                       n_folds: int = 5, seed: int = 0) -> pd.Series:
    """How well each column alone separates ``y``: ROC-AUC, folded to [0.5, 1].

    Two views of each column, and the larger counts:

    * **monotone** (numeric columns): the AUC of the raw value as a score
      (missing values at the median), folded: ``max(auc, 1 - auc)``, since a
      feature that ranks backwards separates just as well;
    * **binned**: the AUC of the **out-of-fold** mean target per category, or
      per quantile bin (20) of a numeric column, with missing values and any
      value that holds at least 1% of the rows (a sentinel, a default) as
      bins of their own. It catches non-monotone signals (a value that is special in the
      middle of the range) and leaks through missingness; out-of-fold, so an
      identifier with one row per value cannot look predictive by memorising.

    Returns a Series indexed by column, sorted descending. 0.5 = useless
    alone; 1.0 = separates perfectly alone.
    """
    y, columns, n_folds = _check_feature_inputs(frame, y, columns, n_folds)
    return _feature_aucs(frame, y, columns, n_folds, seed)["auc"].rename("single_feature_auc")


def leakage_report(
    frame: pd.DataFrame,
    y: ArrayLike,
    *,
    reference_auc: float | None = None,
    near_one: float = 0.95,
    margin: float = 0.05,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Flag features that are too good to be true.

    A feature is **suspicious** when, on its own, its AUC is at least
    ``near_one``, or at least ``reference_auc + margin`` where
    ``reference_auc`` is what a full, honest model reaches (one feature
    should not beat all of them together). Typical culprits: a column filled
    in *after* the outcome (a chargeback flag, a review verdict, a status), an
    id that encodes time or the label, a target-derived aggregate computed on
    all rows.

    Returns a DataFrame indexed by column with ``auc`` (see
    :func:`single_feature_auc`), its two views ``monotone_auc`` (NaN for
    categories) and ``binned_auc``, and ``suspicious``; sorted by ``auc``
    descending.
    """
    near_one = number_in(near_one, "near_one", 0.5, 1.0, inclusive="right")
    margin = positive_number(margin, "margin", allow_zero=True)
    if reference_auc is not None:
        reference_auc = fraction(reference_auc, "reference_auc", inclusive="both")
    y, columns, _ = _check_feature_inputs(frame, y, columns, 5)
    table = _feature_aucs(frame, y, columns, 5, 0)
    limit = near_one if reference_auc is None else min(near_one, reference_auc + margin)
    table["suspicious"] = table["auc"] >= limit
    return table


class AdversarialResult(NamedTuple):
    """The outcome of :func:`adversarial_validation`.

    ``auc``: out-of-fold ROC-AUC of the classifier telling serve rows (1)
    from train rows (0); about 0.5 = indistinguishable, no covariate shift.
    ``features``: per feature, its single-feature AUC for the same task,
    sorted descending: the features that give the shift away.
    ``scores``: the out-of-fold P(serve) of every row (train rows first).
    """

    auc: float
    features: pd.Series
    scores: np.ndarray


def adversarial_validation(
    train_frame: pd.DataFrame,
    serve_frame: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    n_folds: int = 5,
    classifier: Any = None,
    seed: int = 0,
) -> AdversarialResult:
    """Can a classifier tell the training data from the serving data?

    Label the training rows 0 and the serving rows 1, and estimate by
    ``n_folds``-fold stratified cross-validation (shuffled with ``seed``) how
    well a classifier separates them. If the two come from the same
    distribution, no classifier can: AUC ≈ 0.5. An AUC well above 0.5 means
    covariate shift or a train/serve skew (a feature computed differently
    online, a unit change, a new category), and the most distinguishing
    features say where to look.

    The default classifier is small gradient boosting on
    :func:`mlcourse.modeling.make_preprocessor`'s matrix. Note what it cannot
    see: a change in P(y | x) (concept drift) with the same inputs.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from threadpoolctl import threadpool_limits

    from mlcourse import modeling as md

    for what, f in (("train_frame", train_frame), ("serve_frame", serve_frame)):
        if not isinstance(f, pd.DataFrame) or len(f) < n_folds:
            raise ValueError(f"{what} must be a pandas DataFrame with at least n_folds rows")
    columns = [c for c in train_frame.columns if c in serve_frame.columns] if columns is None else list(columns)
    missing = [c for c in columns if c not in train_frame.columns or c not in serve_frame.columns]
    if missing or not columns:
        raise ValueError(f"columns must be present in both frames, missing {missing or columns}")
    n_folds = integer_at_least(n_folds, "n_folds", 2)
    both = pd.concat([train_frame[columns], serve_frame[columns]], ignore_index=True)
    is_serve = np.r_[np.zeros(len(train_frame), int), np.ones(len(serve_frame), int)]
    if classifier is None:
        classifier = make_pipeline(
            md.make_preprocessor(both),
            HistGradientBoostingClassifier(max_iter=50, max_leaf_nodes=15, early_stopping=False, random_state=seed),
        )
    folds = StratifiedKFold(n_folds, shuffle=True, random_state=seed)
    # One thread: on small data, OpenMP threads competing for a few busy cores are many times slower.
    with threadpool_limits(limits=1, user_api="openmp"):
        scores = cross_val_predict(classifier, both, is_serve, cv=folds, method="predict_proba")[:, 1]
    auc = ev.roc_auc(is_serve, scores)
    features = single_feature_auc(both, is_serve, n_folds=n_folds, seed=seed).rename("adversarial_auc")
    return AdversarialResult(float(auc), features, scores)


# ---------------------------------------------------------------------------
# 6. Constraints: a deterministic latency proxy
# ---------------------------------------------------------------------------


def _tree_depths(model: Any) -> int:
    if hasattr(model, "_predictors"):  # HistGradientBoosting: one TreePredictor per iteration and class
        return int(sum(p.get_max_depth() for per_iter in model._predictors for p in per_iter))
    if hasattr(model, "tree_"):
        return int(model.tree_.max_depth)
    members = np.ravel(np.asarray(model.estimators_, dtype=object))
    return int(sum(_tree_depths(m) for m in members))


def prediction_cost(model: Any) -> int:
    """Work needed to score one example: a deterministic proxy of a model's latency.

    Wall-clock time depends on the machine, the load and the batch size; this
    count does not. It counts, per prediction:

    * a tree: its depth (the comparisons on the longest root-to-leaf path);
      an ensemble of trees: the sum over its trees (gradient boosting,
      random forests, histogram boosting);
    * a linear model: its number of coefficients (multiply-adds);
    * :class:`mlcourse.modeling.MLPClassifier`: its number of weights;
    * a pipeline: its final step (preprocessing is shared by every model
      and counted as 0);
    * soft voting, stacking, calibration wrappers: the sum of their members,
      plus 1 per calibrator;
    * any object with a ``prediction_cost()`` method: what that returns.

    Unknown model types raise ``ValueError``: a budget must not be passed by a
    model that cannot be measured.

    >>> from sklearn.tree import DecisionTreeClassifier
    >>> prediction_cost(DecisionTreeClassifier(max_depth=3).fit([[0], [1], [2], [3]], [0, 0, 1, 1]))
    1
    """
    from sklearn.pipeline import Pipeline
    from sklearn.utils.validation import check_is_fitted

    if hasattr(model, "prediction_cost") and callable(model.prediction_cost):
        return int(model.prediction_cost())
    if isinstance(model, Pipeline):
        return prediction_cost(model.steps[-1][1])
    kind = type(model).__name__
    try:
        check_is_fitted(model)
    except Exception:  # NotFittedError, or not an estimator at all
        raise ValueError(f"prediction_cost needs a fitted model, got an unfitted or unknown {kind}") from None
    if kind == "FrozenEstimator":
        return prediction_cost(model.estimator)
    if kind == "CalibratedClassifierCV":
        return int(sum(prediction_cost(c.estimator) + len(c.calibrators) for c in model.calibrated_classifiers_))
    if hasattr(model, "network_"):
        return int(sum(p.numel() for p in model.network_.parameters()))
    if hasattr(model, "_predictors") or hasattr(model, "tree_"):
        return _tree_depths(model)
    if hasattr(model, "estimators_") and kind in {
        "RandomForestClassifier", "ExtraTreesClassifier", "GradientBoostingClassifier", "BaggingClassifier",
    }:
        return _tree_depths(model) if kind != "BaggingClassifier" else sum(prediction_cost(m) for m in model.estimators_)
    if hasattr(model, "estimators_") and kind in {"SoftVotingClassifier", "VotingClassifier"}:
        return int(sum(prediction_cost(m) for m in model.estimators_))
    if hasattr(model, "final_estimator_"):  # stacking: every member, then the combiner
        members = [m for m in model.estimators_ if m != "drop"]
        return int(sum(prediction_cost(m) for m in members) + prediction_cost(model.final_estimator_))
    if hasattr(model, "coef_"):
        return int(np.size(model.coef_))
    raise ValueError(
        f"prediction_cost does not know how to measure a {kind}; use a pipeline of scikit-learn trees, "
        "linear models, calibration or voting, an MLPClassifier, or give your model a prediction_cost() method"
    )
