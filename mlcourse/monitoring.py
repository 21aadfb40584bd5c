"""Monitoring and metrics: keeping an eye on a deployed model.

Stage 8 of the course roadmap. A model in production is watched through the
signals that arrive *while it runs*, each with its own delay and blind spots:

1. **Online metrics with late labels** (:func:`windowed_metrics`): precision,
   recall and ROC-AUC per day (or per rolling window), computed only over the
   labels known *as of* a given day, with the label coverage that says how far
   each number can be trusted. Fraud labels (chargebacks) arrive weeks late.
2. **Data drift** per feature (:func:`drift_report`): the population stability
   index (:func:`psi`), the Kolmogorov-Smirnov test (:func:`ks_test`), the
   chi-square test for categories (:func:`chi2_test`) and the Jensen-Shannon
   distance (:func:`js_distance`), all over bins fitted on a reference window
   (:func:`fit_binning`; categories and missing values get their own bins).
3. **Prediction drift** (:func:`prediction_drift`): the shift of the model's
   score distribution and of its alert rate -- available the moment the model
   scores, long before any label.
4. **Performance without labels** (:func:`estimate_performance`,
   :func:`expected_roc_auc`, :func:`estimated_metrics`): with *calibrated*
   scores, the expected confusion matrix at a threshold follows from the
   scores alone (confidence-based performance estimation). It tracks the truth
   under covariate shift and is blind to concept drift.
5. **Alerts** (:class:`HysteresisRule`, :func:`bonferroni`,
   :func:`benjamini_hochberg`, :func:`calibrate_thresholds`): thresholds with
   enter / exit levels and a minimum run of windows (no flapping), and
   false-alarm control across many features.
6. **Export** (:func:`build_registry`, :func:`prometheus_text`,
   :func:`parse_prometheus_text`): the numbers as Prometheus gauges in the text
   exposition format, for a real monitoring stack to scrape.
7. **A monitor and its evaluation** (:class:`DriftMonitor`,
   :func:`make_monitoring_stream`, :func:`evaluate_alerts`,
   :func:`plot_alert_timeline`): a reference label-free monitor, scored on a
   world with known incidents by detection delay and false alarms.

Conventions
-----------
* A *frame* is a slice of the data world's ``transactions`` (see
  :mod:`mlcourse.world`) with a ``score`` column: the deployed model's
  calibrated P(fraud). Days are the world's integer ``day``.
* A label counts as known on day ``t`` when ``label_day <= t``.
* Bad arguments raise ``ValueError`` naming the argument and what was expected.
* Everything is deterministic given the seeds; no network.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from mlcourse._checks import apply_scorer, data_frame, finite_number, fraction, integer_at_least, number_in
from mlcourse.world import OBSERVED_FEATURES

if TYPE_CHECKING:  # pragma: no cover - imported only for type hints
    from matplotlib.axes import Axes
    from prometheus_client import CollectorRegistry

__all__ = [
    "MODEL_FEATURES",
    "NUMERIC_FEATURES",
    "CATEGORICAL_FEATURES",
    "labels_known",
    "windowed_metrics",
    "Binning",
    "fit_binning",
    "bin_counts",
    "psi_from_counts",
    "psi",
    "ks_test",
    "chi2_test",
    "js_distance",
    "drift_report",
    "PredictionDrift",
    "prediction_drift",
    "PerformanceEstimate",
    "estimate_performance",
    "expected_roc_auc",
    "estimated_metrics",
    "HysteresisRule",
    "alert_episodes",
    "bonferroni",
    "benjamini_hochberg",
    "calibrate_thresholds",
    "build_registry",
    "prometheus_text",
    "parse_prometheus_text",
    "FeatureShift",
    "MonitoringStream",
    "DeployedModel",
    "train_deployed_model",
    "apply_shift",
    "make_monitoring_stream",
    "DailyBatch",
    "daily_batches",
    "DriftMonitor",
    "AlertEvaluation",
    "evaluate_alerts",
    "plot_alert_timeline",
]

#: The deployed model's inputs: the world's observable features without the
#: pure-noise columns (logged by the platform, but not read by the model).
MODEL_FEATURES: tuple[str, ...] = OBSERVED_FEATURES
#: Model inputs binned by quantiles (the others are categories).
NUMERIC_FEATURES: tuple[str, ...] = ("amount", "hour", "distance_km", "account_age_days", "tx_count_24h")
#: Model inputs binned by category.
CATEGORICAL_FEATURES: tuple[str, ...] = tuple(f for f in MODEL_FEATURES if f not in NUMERIC_FEATURES)

_MISSING = "<missing>"
_OTHER = "<other>"


# ---------------------------------------------------------------------------
# Input validation
# ---------------------------------------------------------------------------


def _as_probabilities(probs: ArrayLike, name: str = "probs") -> np.ndarray:
    p = np.asarray(probs, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {p.shape}")
    if p.size and (not np.all(np.isfinite(p)) or p.min() < 0 or p.max() > 1):
        raise ValueError(f"{name} must hold probabilities in [0, 1]")
    return p


def _as_1d(values: Any, name: str) -> np.ndarray:
    if isinstance(values, (pd.Series, pd.Index)):
        return values.to_numpy()
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    return arr


# ---------------------------------------------------------------------------
# 1. Online metrics with late labels
# ---------------------------------------------------------------------------


def labels_known(frame: pd.DataFrame, as_of: float | None, *, label: str = "label",
                 label_day: str = "label_day") -> np.ndarray:
    """Boolean mask: the row has a label and it is known by day ``as_of`` (all labels if None)."""
    data_frame(frame, "frame", [label, label_day])
    known = frame[label].notna().to_numpy()
    if as_of is not None:
        as_of = finite_number(as_of, "as_of")
        known = known & (frame[label_day].to_numpy(dtype=float) <= as_of)
    return known


def _roc_auc(y: np.ndarray, s: np.ndarray) -> float:
    """ROC-AUC by ranks (Mann-Whitney, ties count one half); NaN with one class."""
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return math.nan
    from scipy.stats import rankdata

    ranks = rankdata(s)
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def windowed_metrics(
    frame: pd.DataFrame,
    *,
    score: str = "score",
    threshold: float = 0.5,
    as_of: float | None = None,
    window: int = 1,
    step: int | None = None,
    start: int | None = None,
    end: int | None = None,
    day: str = "day",
    label: str = "label",
    label_day: str = "label_day",
) -> pd.DataFrame:
    """Online metrics per time window, over the labels known by ``as_of``.

    Windows are ``[w, w + window)`` days for ``w = start, start + step, ...``
    while ``w + window <= end + 1``; ``start`` / ``end`` default to the first
    and last day of ``frame``, ``step`` to ``window`` (disjoint windows;
    ``step=1`` with ``window=7`` gives rolling weekly windows).

    Returns one row per window: ``start``, ``end`` (last day, inclusive),
    ``n`` (scored rows), ``mean_score``, ``alert_rate`` (share with
    ``score >= threshold``), ``n_labeled`` (rows that will ever get a label),
    ``n_known`` (labels known by ``as_of``), ``coverage`` (n_known /
    n_labeled), ``positives`` (known labels equal to 1), ``precision``,
    ``recall`` and ``roc_auc`` over the known labels (NaN when undefined:
    nothing flagged, no positive, one class).

    >>> f = pd.DataFrame({"day": [0, 0, 1, 1], "score": [0.9, 0.1, 0.8, 0.7],
    ...                   "label": [1.0, 0.0, 0.0, np.nan], "label_day": [5.0, 7.0, 8.0, np.nan]})
    >>> windowed_metrics(f, as_of=7)[["n", "n_known", "coverage", "precision"]].to_numpy().tolist()
    [[2.0, 2.0, 1.0, 1.0], [2.0, 0.0, 0.0, nan]]
    """
    data_frame(frame, "frame", [day, score, label, label_day])
    threshold = finite_number(threshold, "threshold")
    window = integer_at_least(window, "window")
    step = window if step is None else integer_at_least(step, "step")
    days = frame[day].to_numpy()
    if len(days) == 0:
        raise ValueError("frame has no rows")
    start = int(days.min()) if start is None else int(finite_number(start, "start"))
    end = int(days.max()) if end is None else int(finite_number(end, "end"))
    if end - start + 1 < window:
        raise ValueError(f"window={window} is longer than the days {start}..{end} of frame")
    s = frame[score].to_numpy(dtype=float)
    y = frame[label].to_numpy(dtype=float)
    labeled = ~np.isnan(y)
    known = labels_known(frame, as_of, label=label, label_day=label_day)
    rows = []
    for w in range(start, end - window + 2, step):
        inside = (days >= w) & (days < w + window)
        k = inside & known
        yk, sk = y[k].astype(int), s[k]
        flagged = sk >= threshold
        tp = int(np.sum(flagged & (yk == 1)))
        n_flag, n_pos = int(flagged.sum()), int(yk.sum())
        n_lab = int(np.sum(inside & labeled))
        rows.append({
            "start": w,
            "end": w + window - 1,
            "n": int(inside.sum()),
            "mean_score": float(s[inside].mean()) if inside.any() else math.nan,
            "alert_rate": float(np.mean(s[inside] >= threshold)) if inside.any() else math.nan,
            "n_labeled": n_lab,
            "n_known": int(k.sum()),
            "coverage": k.sum() / n_lab if n_lab else math.nan,
            "positives": n_pos,
            "precision": tp / n_flag if n_flag else math.nan,
            "recall": tp / n_pos if n_pos else math.nan,
            "roc_auc": _roc_auc(yk, sk),
        })
    return pd.DataFrame(rows).astype({"n": float, "n_labeled": float, "n_known": float, "positives": float})


# ---------------------------------------------------------------------------
# 2. Data drift: bins from a reference window, PSI, KS, chi-square, JS
# ---------------------------------------------------------------------------


class Binning(NamedTuple):
    """Bins fitted on a reference sample (see :func:`fit_binning`).

    ``kind`` is ``"numeric"`` (``edges``: the interior cut points; bin ``i``
    holds ``edges[i-1] <= x < edges[i]``, then one bin for missing values) or
    ``"categorical"`` (``categories``: one bin each, then ``"<other>"`` for
    categories unseen in the reference, then ``"<missing>"``).
    """

    kind: str
    edges: np.ndarray
    categories: tuple[Any, ...]

    @property
    def n_bins(self) -> int:
        if self.kind == "numeric":
            return len(self.edges) + 2
        return len(self.categories) + 2

    @property
    def labels(self) -> list[str]:
        if self.kind == "categorical":
            return [str(c) for c in self.categories] + [_OTHER, _MISSING]
        bounds = [-np.inf, *self.edges, np.inf]
        return [f"[{lo:.4g}, {hi:.4g})" for lo, hi in zip(bounds[:-1], bounds[1:])] + [_MISSING]


def _is_categorical(values: Any) -> bool:
    if isinstance(values, (pd.Series, pd.Index)):
        dtype = values.dtype
        return not (pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype))
    arr = np.asarray(values)
    return arr.dtype.kind not in "iuf"


def fit_binning(reference: ArrayLike, *, n_bins: int = 10, kind: str | None = None) -> Binning:
    """Bins for drift statistics, fitted on the reference sample.

    Numeric values get ``n_bins`` quantile bins (fewer when quantiles tie, as
    for discrete values); booleans, strings and pandas categoricals get one bin
    per category seen in the reference. Both get a bin for missing values;
    categoricals also one for categories never seen in the reference.

    >>> fit_binning(np.arange(100.0), n_bins=4).edges.tolist()
    [24.75, 49.5, 74.25]
    >>> fit_binning(pd.Series(["a", "b", None, "a"])).labels
    ['a', 'b', '<other>', '<missing>']
    """
    n_bins = integer_at_least(n_bins, "n_bins", 2)
    if kind is None:
        kind = "categorical" if _is_categorical(reference) else "numeric"
    if kind not in ("numeric", "categorical"):
        raise ValueError(f"kind must be 'numeric', 'categorical' or None, got {kind!r}")
    values = pd.Series(_as_1d(reference, "reference") if not isinstance(reference, pd.Series) else reference)
    present = values[values.notna()]
    if len(present) == 0:
        raise ValueError("reference has no non-missing values to fit bins on")
    if kind == "categorical":
        categories = tuple(sorted(pd.unique(present.astype(object)), key=str))
        return Binning("categorical", np.empty(0), categories)
    x = present.to_numpy(dtype=float)
    edges = np.unique(np.quantile(x, np.linspace(0.0, 1.0, n_bins + 1)[1:-1]))
    return Binning("numeric", edges, ())


def bin_counts(values: ArrayLike, binning: Binning) -> np.ndarray:
    """Counts of ``values`` in the bins of ``binning`` (an int array of length ``binning.n_bins``)."""
    if not isinstance(binning, Binning):
        raise ValueError(f"binning must be a Binning (see fit_binning), got {type(binning).__name__}")
    series = pd.Series(values if isinstance(values, pd.Series) else _as_1d(values, "values"), copy=False)
    missing = series.isna().to_numpy()
    if binning.kind == "numeric":
        try:
            x = series.to_numpy(dtype=float, na_value=np.nan)
        except (TypeError, ValueError):
            raise ValueError("values must be numeric for a numeric binning") from None
        idx = np.searchsorted(binning.edges, x, side="right")
    else:
        lookup = {c: i for i, c in enumerate(binning.categories)}
        obj = series.astype(object).to_numpy()
        idx = np.fromiter((lookup.get(v, len(binning.categories)) for v in obj), dtype=np.int64,
                          count=len(obj)) if len(obj) < 1000 else \
            pd.Series(obj).map(lookup).fillna(len(binning.categories)).to_numpy(dtype=np.int64)
    idx = np.where(missing, binning.n_bins - 1, idx)
    return np.bincount(idx, minlength=binning.n_bins)


def _proportions(counts: ArrayLike, name: str) -> np.ndarray:
    c = np.asarray(counts, dtype=float)
    if c.ndim != 1 or c.size == 0 or np.any(c < 0) or not np.all(np.isfinite(c)):
        raise ValueError(f"{name} must be a 1-D array of non-negative counts")
    total = c.sum()
    if total <= 0:
        raise ValueError(f"{name} must contain at least one observation")
    return c / total


def psi_from_counts(reference_counts: ArrayLike, current_counts: ArrayLike, *, eps: float = 1e-4) -> float:
    """Population stability index of two histograms over the same bins.

    ``PSI = sum_i (q_i - p_i) * ln(q_i / p_i)`` with ``p`` the reference and
    ``q`` the current proportions, each clipped below at ``eps`` (an empty bin
    would make the log infinite). Rules of thumb: < 0.1 stable, 0.1-0.25
    moderate shift, > 0.25 large shift -- for samples big enough that sampling
    noise (about ``(bins - 1) / n``) stays well below 0.1.

    >>> round(psi_from_counts([50, 50], [60, 40]), 4)
    0.0405
    """
    eps = fraction(eps, "eps")
    p = _proportions(reference_counts, "reference_counts")
    q = _proportions(current_counts, "current_counts")
    if p.shape != q.shape:
        raise ValueError(f"reference_counts and current_counts must have the same bins, got {p.size} and {q.size}")
    p, q = np.maximum(p, eps), np.maximum(q, eps)
    return float(np.sum((q - p) * np.log(q / p)))


def psi(reference: ArrayLike, current: ArrayLike, *, n_bins: int = 10, eps: float = 1e-4,
        binning: Binning | None = None) -> float:
    """PSI of ``current`` against ``reference``, over bins fitted on the reference (:func:`fit_binning`)."""
    binning = fit_binning(reference, n_bins=n_bins) if binning is None else binning
    return psi_from_counts(bin_counts(reference, binning), bin_counts(current, binning), eps=eps)


def ks_test(reference: ArrayLike, current: ArrayLike) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov test: ``(D, p-value)``; missing values are dropped.

    ``D`` is the largest gap between the two empirical CDFs; the p-value is
    the asymptotic two-sided one (Smirnov's distribution with the effective
    size ``n m / (n + m)``), as ``scipy.stats.ks_2samp(method="asymp")``.
    """
    from scipy.stats import kstwo

    a = np.asarray(reference, dtype=float)
    b = np.asarray(current, dtype=float)
    a, b = np.sort(a[~np.isnan(a)]), np.sort(b[~np.isnan(b)])
    if a.size == 0 or b.size == 0:
        raise ValueError("reference and current must each have at least one non-missing value")
    pooled = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, pooled, side="right") / a.size
    cdf_b = np.searchsorted(b, pooled, side="right") / b.size
    d = float(np.max(np.abs(cdf_a - cdf_b)))
    m, n = sorted([float(a.size), float(b.size)], reverse=True)
    p = float(np.clip(kstwo.sf(d, np.round(m * n / (m + n))), 0.0, 1.0))
    return d, p


def chi2_test(reference_counts: ArrayLike, current_counts: ArrayLike) -> tuple[float, float]:
    """Chi-square test of homogeneity of two histograms: ``(statistic, p-value)``.

    Bins empty in both samples are dropped; with fewer than two bins left the
    samples cannot differ, and the result is ``(0.0, 1.0)``.
    """
    from scipy.stats import chi2

    r = np.asarray(reference_counts, dtype=float)
    c = np.asarray(current_counts, dtype=float)
    _proportions(r, "reference_counts"), _proportions(c, "current_counts")
    if r.shape != c.shape:
        raise ValueError(f"reference_counts and current_counts must have the same bins, got {r.size} and {c.size}")
    keep = (r + c) > 0
    table = np.vstack([r[keep], c[keep]])
    if table.shape[1] < 2:
        return 0.0, 1.0
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    stat = float(np.sum((table - expected) ** 2 / expected))
    return stat, float(chi2.sf(stat, table.shape[1] - 1))


def js_distance(reference: ArrayLike, current: ArrayLike, *, n_bins: int = 10, base: float = 2.0,
                binning: Binning | None = None) -> float:
    """Jensen-Shannon *distance* between the binned distributions (0 = identical, 1 = disjoint in base 2).

    ``JS = sqrt((KL(p || m) + KL(q || m)) / 2)`` with ``m = (p + q) / 2``, as
    ``scipy.spatial.distance.jensenshannon``; its square is the JS divergence.
    Unlike PSI it is symmetric, bounded and needs no epsilon for empty bins.
    """
    binning = fit_binning(reference, n_bins=n_bins) if binning is None else binning
    base = number_in(base, "base", 1.0, inclusive="neither")
    p = _proportions(bin_counts(reference, binning), "reference")
    q = _proportions(bin_counts(current, binning), "current")
    m = (p + q) / 2

    def kl(a: np.ndarray) -> float:
        nz = a > 0
        return float(np.sum(a[nz] * np.log(a[nz] / m[nz])))

    return float(math.sqrt(max(0.0, (kl(p) + kl(q)) / 2) / math.log(base)))


def drift_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    features: Sequence[str] | None = None,
    *,
    n_bins: int = 10,
    binnings: Mapping[str, Binning] | None = None,
) -> pd.DataFrame:
    """Drift statistics of every feature, ``current`` against ``reference``.

    One row per feature (index ``feature``): ``kind``, ``psi``, ``js``,
    ``ks`` (NaN for categoricals), ``test`` (``"ks"`` for numeric,
    ``"chi2"`` for categorical features), ``p_value`` of that test, and
    ``missing_ref`` / ``missing_cur`` (shares of missing values; a broken
    pipeline often shows here first). Pass ``binnings`` (from
    :func:`fit_binning`) to reuse bins fitted once on the reference.
    """
    features = list(reference.columns) if features is None else list(features)
    data_frame(reference, "reference", features)
    data_frame(current, "current", features)
    rows = []
    for f in features:
        b = binnings[f] if binnings is not None and f in binnings else fit_binning(reference[f], n_bins=n_bins)
        rc, cc = bin_counts(reference[f], b), bin_counts(current[f], b)
        p, q = rc / rc.sum(), cc / cc.sum()
        m = (p + q) / 2
        js = math.sqrt(max(0.0, (np.sum(p[p > 0] * np.log(p[p > 0] / m[p > 0]))
                                 + np.sum(q[q > 0] * np.log(q[q > 0] / m[q > 0]))) / 2) / math.log(2))
        if b.kind == "numeric":
            ks, pv = ks_test(reference[f].to_numpy(dtype=float, na_value=np.nan),
                             current[f].to_numpy(dtype=float, na_value=np.nan))
            test = "ks"
        else:
            ks, (_, pv), test = math.nan, chi2_test(rc, cc), "chi2"
        rows.append({"feature": f, "kind": b.kind, "psi": psi_from_counts(rc, cc), "js": js, "ks": ks,
                     "test": test, "p_value": pv, "missing_ref": p[-1], "missing_cur": q[-1]})
    return pd.DataFrame(rows).set_index("feature")


# ---------------------------------------------------------------------------
# 3. Prediction drift
# ---------------------------------------------------------------------------


class PredictionDrift(NamedTuple):
    """Shift of the score distribution (see :func:`prediction_drift`)."""

    psi: float
    ks: float
    ks_p_value: float
    js: float
    mean_reference: float
    mean_current: float
    alert_rate_reference: float
    alert_rate_current: float
    alert_rate_p_value: float


def prediction_drift(reference_scores: ArrayLike, current_scores: ArrayLike, *, threshold: float = 0.5,
                     n_bins: int = 10) -> PredictionDrift:
    """How far the model's scores moved: PSI / KS / JS of the score distribution, mean score,
    and the alert rate (share ``>= threshold``) with a two-sided two-proportion z-test p-value.

    Prediction drift needs no label: it is the earliest sign that the model is
    seeing something new. It cannot say whether the model is now *wrong*.
    """
    from scipy.stats import norm

    r = _as_probabilities(_as_1d(reference_scores, "reference_scores").astype(float), "reference_scores")
    c = _as_probabilities(_as_1d(current_scores, "current_scores").astype(float), "current_scores")
    if r.size == 0 or c.size == 0:
        raise ValueError("reference_scores and current_scores must not be empty")
    threshold = finite_number(threshold, "threshold")
    b = fit_binning(r, n_bins=n_bins, kind="numeric")
    ks, ks_p = ks_test(r, c)
    a_r, a_c = float(np.mean(r >= threshold)), float(np.mean(c >= threshold))
    pooled = (a_r * r.size + a_c * c.size) / (r.size + c.size)
    se = math.sqrt(pooled * (1 - pooled) * (1 / r.size + 1 / c.size))
    p_rate = 1.0 if se == 0 else float(2 * norm.sf(abs(a_c - a_r) / se))
    return PredictionDrift(
        psi=psi(r, c, binning=b), ks=ks, ks_p_value=ks_p, js=js_distance(r, c, binning=b),
        mean_reference=float(r.mean()), mean_current=float(c.mean()),
        alert_rate_reference=a_r, alert_rate_current=a_c, alert_rate_p_value=p_rate,
    )


# ---------------------------------------------------------------------------
# 4. Performance before the labels: confidence-based estimation
# ---------------------------------------------------------------------------


class PerformanceEstimate(NamedTuple):
    """Expected confusion matrix and metrics at a threshold, from calibrated probabilities."""

    n: int
    tp: float
    fp: float
    fn: float
    tn: float
    precision: float
    recall: float
    f1: float
    positive_rate: float
    roc_auc: float


def expected_roc_auc(probs: ArrayLike) -> float:
    """ROC-AUC expected if each label were drawn with its calibrated probability.

    ``E[AUC] ~ sum_{i != j} p_i (1 - p_j) [p_i > p_j] / sum_{i != j} p_i (1 - p_j)``
    (ties count one half): a ratio of expectations, accurate for large
    samples. Sorting makes it O(n log n).
    """
    p = _as_probabilities(probs)
    if p.size < 2:
        return math.nan
    values, inverse = np.unique(p, return_inverse=True)
    pos = np.bincount(inverse, weights=p, minlength=values.size)
    neg = np.bincount(inverse, weights=1 - p, minlength=values.size)
    below = np.cumsum(neg) - neg
    self_pairs = float(np.sum(p * (1 - p)))
    numerator = float(np.sum(pos * (below + 0.5 * neg))) - 0.5 * self_pairs
    denominator = float(p.sum() * (1 - p).sum()) - self_pairs
    return numerator / denominator if denominator > 0 else math.nan


def estimate_performance(probs: ArrayLike, threshold: float = 0.5) -> PerformanceEstimate:
    """Confidence-based performance estimation (CBPE) at ``threshold``.

    If ``probs`` are calibrated, a flagged row (``p >= threshold``) is a true
    positive with probability ``p`` and a false positive with ``1 - p``; an
    unflagged row is a false negative with probability ``p``. Summing gives
    the expected confusion matrix -- and precision, recall, F1 -- without a
    single label. It holds under covariate shift (new inputs, same
    ``P(y | x)``) and breaks under concept drift, when ``P(y | x)`` itself
    changes: then only labels can tell.

    >>> e = estimate_performance([0.9, 0.8, 0.1, 0.2], threshold=0.5)
    >>> round(e.precision, 3), round(e.recall, 3)
    (0.85, 0.85)
    """
    p = _as_probabilities(probs)
    if p.size == 0:
        raise ValueError("probs must not be empty")
    threshold = finite_number(threshold, "threshold")
    flagged = p >= threshold
    tp, fp = float(p[flagged].sum()), float((1 - p[flagged]).sum())
    fn, tn = float(p[~flagged].sum()), float((1 - p[~flagged]).sum())
    precision = tp / (tp + fp) if flagged.any() else math.nan
    recall = tp / (tp + fn) if tp + fn > 0 else math.nan
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn > 0 else math.nan
    return PerformanceEstimate(int(p.size), tp, fp, fn, tn, precision, recall, f1,
                               float(flagged.mean()), expected_roc_auc(p))


def estimated_metrics(frame: pd.DataFrame, *, score: str = "score", threshold: float = 0.5, window: int = 1,
                      day: str = "day") -> pd.DataFrame:
    """:func:`estimate_performance` per window of ``window`` days (columns ``start``, ``end``,
    ``n``, ``precision``, ``recall``, ``f1``, ``roc_auc``, ``expected_fraud_rate``)."""
    data_frame(frame, "frame", [day, score])
    window = integer_at_least(window, "window")
    days = frame[day].to_numpy()
    s = frame[score].to_numpy(dtype=float)
    rows = []
    for w in range(int(days.min()), int(days.max()) - window + 2, window):
        inside = (days >= w) & (days < w + window)
        if not inside.any():
            continue
        e = estimate_performance(s[inside], threshold)
        rows.append({"start": w, "end": w + window - 1, "n": e.n, "precision": e.precision,
                     "recall": e.recall, "f1": e.f1, "roc_auc": e.roc_auc,
                     "expected_fraud_rate": float(s[inside].mean())})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------
# 5. Alerts: hysteresis and false-alarm control
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HysteresisRule:
    """An alert with two levels and patience, so that it neither flaps nor fires on one blip.

    Direction ``"above"``: the alert *enters* after ``min_consecutive``
    consecutive windows with ``value > enter``, and *exits* after
    ``exit_consecutive`` consecutive windows with ``value < exit``
    (``exit <= enter``: between the two levels the state holds). ``"below"``
    mirrors it (for metrics such as precision, where low is bad). A missing
    value (NaN) breaks both runs and keeps the state.

    >>> HysteresisRule(enter=0.2, exit=0.1, min_consecutive=2).run([0.3, 0.3, 0.15, 0.05, 0.3]).tolist()
    [False, True, True, False, False]
    """

    enter: float
    exit: float
    min_consecutive: int = 1
    exit_consecutive: int = 1
    direction: str = "above"

    def __post_init__(self) -> None:
        finite_number(self.enter, "enter")
        finite_number(self.exit, "exit")
        integer_at_least(self.min_consecutive, "min_consecutive")
        integer_at_least(self.exit_consecutive, "exit_consecutive")
        if self.direction not in ("above", "below"):
            raise ValueError(f"direction must be 'above' or 'below', got {self.direction!r}")
        if self.direction == "above" and self.exit > self.enter:
            raise ValueError(f"exit must be <= enter for direction='above', got enter={self.enter}, exit={self.exit}")
        if self.direction == "below" and self.exit < self.enter:
            raise ValueError(f"exit must be >= enter for direction='below', got enter={self.enter}, exit={self.exit}")

    def run(self, values: ArrayLike) -> np.ndarray:
        """The alert state after each window (a boolean array like ``values``)."""
        v = np.asarray(values, dtype=float)
        if v.ndim != 1:
            raise ValueError(f"values must be 1-D, got shape {v.shape}")
        sign = 1.0 if self.direction == "above" else -1.0
        state, run_in, run_out = False, 0, 0
        out = np.zeros(v.size, dtype=bool)
        for i, x in enumerate(v):  # a state machine: one step per window, not per row
            if math.isnan(x):
                run_in = run_out = 0
            elif not state:
                run_in = run_in + 1 if sign * x > sign * self.enter else 0
                if run_in >= self.min_consecutive:
                    state, run_in, run_out = True, 0, 0
            else:
                run_out = run_out + 1 if sign * x < sign * self.exit else 0
                if run_out >= self.exit_consecutive:
                    state, run_in, run_out = False, 0, 0
            out[i] = state
        return out


def alert_episodes(state: ArrayLike, days: ArrayLike | None = None) -> list[tuple[int, int]]:
    """Runs of ``True`` in an alert-state series as ``(first_day, last_day)`` pairs (pages sent)."""
    s = np.asarray(state, dtype=bool)
    d = np.arange(s.size) if days is None else np.asarray(days)
    if d.shape != s.shape:
        raise ValueError(f"days must match state, got shapes {d.shape} and {s.shape}")
    edges = np.diff(np.r_[0, s.astype(int), 0])
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    return [(int(d[a]), int(d[b])) for a, b in zip(starts, ends)]


def _check_pvalues(pvalues: ArrayLike, alpha: float) -> tuple[np.ndarray, float]:
    p = np.asarray(pvalues, dtype=float)
    if p.ndim != 1 or p.size == 0 or not np.all(np.isfinite(p)) or p.min() < 0 or p.max() > 1:
        raise ValueError("pvalues must be a non-empty 1-D array of numbers in [0, 1]")
    return p, fraction(alpha, "alpha")


def bonferroni(pvalues: ArrayLike, alpha: float = 0.05) -> np.ndarray:
    """Reject where ``p <= alpha / m``: the chance of *any* false alarm among ``m`` tests stays <= alpha."""
    p, alpha = _check_pvalues(pvalues, alpha)
    return p <= alpha / p.size


def benjamini_hochberg(pvalues: ArrayLike, alpha: float = 0.05) -> np.ndarray:
    """Benjamini-Hochberg step-up: reject the ``k`` smallest p-values, ``k`` the largest with
    ``p_(k) <= k alpha / m``; the expected share of false alarms among alarms stays <= alpha."""
    p, alpha = _check_pvalues(pvalues, alpha)
    m = p.size
    order = np.argsort(p, kind="stable")
    below = np.flatnonzero(p[order] <= alpha * np.arange(1, m + 1) / m)
    reject = np.zeros(m, dtype=bool)
    if below.size:
        reject[order[: below[-1] + 1]] = True
    return reject


def calibrate_thresholds(reference_stats: pd.DataFrame, *, alpha: float = 0.05, margin: float = 1.0) -> pd.Series:
    """Per-feature alert thresholds from a no-drift reference period, with family-wise control.

    ``reference_stats`` holds a drift statistic (PSI, say) per window (rows)
    and feature (columns), computed on windows known to be free of incidents.
    Each feature is put on a common scale, ``z = (stat - median) / spread``
    (``spread`` = its interquartile range, at least a small floor), and one
    number ``c`` is the ``1 - alpha`` quantile of the *largest* ``z`` across
    features per window. The threshold of feature ``f`` is
    ``median_f + margin * c * spread_f``: on the reference period, about a
    share ``alpha`` of the windows has *any* feature above its threshold,
    however many features are watched (a max-statistic correction, data-driven
    instead of Bonferroni's worst case).
    """
    if not isinstance(reference_stats, pd.DataFrame) or reference_stats.shape[0] < 2 or reference_stats.shape[1] < 1:
        raise ValueError("reference_stats must be a DataFrame with at least 2 windows (rows) and 1 feature")
    alpha = fraction(alpha, "alpha")
    margin = finite_number(margin, "margin")
    if margin <= 0:
        raise ValueError(f"margin must be > 0, got {margin}")
    x = reference_stats.to_numpy(dtype=float)
    if not np.all(np.isfinite(x)):
        raise ValueError("reference_stats must be finite")
    median = np.median(x, axis=0)
    spread = np.subtract(*np.quantile(x, [0.75, 0.25], axis=0))
    spread = np.maximum(spread, 1e-3 * np.maximum(np.abs(median), 1e-6))
    c = float(np.quantile(np.max((x - median) / spread, axis=1), 1 - alpha))
    return pd.Series(median + margin * max(c, 0.0) * spread, index=reference_stats.columns, name="threshold")


# ---------------------------------------------------------------------------
# 6. Export: Prometheus gauges
# ---------------------------------------------------------------------------


def build_registry(
    *,
    model_metrics: Mapping[str, float] | None = None,
    feature_drift: pd.DataFrame | None = None,
    alerts: Mapping[str, bool] | None = None,
    model: str = "fraud",
    namespace: str = "mlcourse",
) -> CollectorRegistry:
    """A fresh ``prometheus_client.CollectorRegistry`` holding the monitor's latest numbers as gauges.

    * ``<namespace>_model_metric{model, metric}``: each ``model_metrics``
      entry (e.g. ``precision_7d``, ``label_coverage``, ``estimated_recall``);
    * ``<namespace>_feature_drift{model, feature, statistic}``: the ``psi``,
      ``js``, ``ks`` and ``p_value`` columns of a :func:`drift_report` (NaN
      entries are skipped);
    * ``<namespace>_alert_active{model, rule}``: 1 while an alert is on.

    Gauges, not counters: each is a level that may go up and down. Labels keep
    the number of series small and queryable (one gauge per *kind*, not per
    feature).
    """
    from prometheus_client import CollectorRegistry, Gauge

    if not isinstance(namespace, str) or not namespace.isidentifier():
        raise ValueError(f"namespace must be a valid identifier, got {namespace!r}")
    registry = CollectorRegistry()
    if model_metrics:
        g = Gauge(f"{namespace}_model_metric", "Online or estimated model metric", ["model", "metric"],
                  registry=registry)
        for name, value in model_metrics.items():
            g.labels(model=model, metric=str(name)).set(finite_number(value, f"model_metrics[{name!r}]"))
    if feature_drift is not None:
        if not isinstance(feature_drift, pd.DataFrame):
            raise ValueError("feature_drift must be a DataFrame from drift_report")
        g = Gauge(f"{namespace}_feature_drift", "Drift statistic of a model input against its reference",
                  ["model", "feature", "statistic"], registry=registry)
        for feature, row in feature_drift.iterrows():
            for stat in ("psi", "js", "ks", "p_value"):
                if stat in row.index and pd.notna(row[stat]):
                    g.labels(model=model, feature=str(feature), statistic=stat).set(float(row[stat]))
    if alerts:
        g = Gauge(f"{namespace}_alert_active", "1 while the alert rule fires", ["model", "rule"], registry=registry)
        for rule, active in alerts.items():
            g.labels(model=model, rule=str(rule)).set(1.0 if active else 0.0)
    return registry


def prometheus_text(registry: CollectorRegistry) -> str:
    """The registry in Prometheus' text exposition format (what ``/metrics`` serves)."""
    from prometheus_client import CollectorRegistry, generate_latest

    if not isinstance(registry, CollectorRegistry):
        raise ValueError(f"registry must be a prometheus_client CollectorRegistry, got {type(registry).__name__}")
    return generate_latest(registry).decode("utf-8")


def parse_prometheus_text(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Parse exposition text back: ``{(sample name, sorted label pairs): value}``."""
    from prometheus_client.parser import text_string_to_metric_families

    if not isinstance(text, str):
        raise ValueError(f"text must be a str, got {type(text).__name__}")
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = float(sample.value)
    return out


# ---------------------------------------------------------------------------
# 7. A stream with known incidents, a monitor, and its evaluation
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FeatureShift:
    """A data incident injected from ``day`` on into ``column`` (see :func:`apply_shift`).

    ``kind``: ``"scale"`` (multiply by ``value``: amounts in cents), ``"add"``
    (add ``value``), ``"missing"`` (a share ``value`` of the cells goes
    missing: a broken join) or ``"category"`` (every value becomes the
    category ``value``: a default filled in by a buggy client).
    """

    day: int
    column: str
    kind: str
    value: Any

    def __post_init__(self) -> None:
        integer_at_least(self.day, "FeatureShift.day", 0)
        if self.kind not in ("scale", "add", "missing", "category"):
            raise ValueError(f"FeatureShift.kind must be 'scale', 'add', 'missing' or 'category', got {self.kind!r}")
        if self.kind == "missing":
            fraction(self.value, "FeatureShift.value", inclusive="both")
        elif self.kind in ("scale", "add"):
            finite_number(self.value, "FeatureShift.value")


def apply_shift(frame: pd.DataFrame, shift: FeatureShift, *, seed: int = 0) -> pd.DataFrame:
    """A copy of ``frame`` with ``shift`` applied to the rows of day ``>= shift.day``."""
    data_frame(frame, "frame", ["day", shift.column])
    out = frame.copy()
    rows = out["day"].to_numpy() >= shift.day
    col = out[shift.column]
    if shift.kind == "scale":
        out.loc[rows, shift.column] = col[rows] * shift.value
    elif shift.kind == "add":
        out.loc[rows, shift.column] = col[rows] + shift.value
    elif shift.kind == "missing":
        drop = rows & (np.random.default_rng(seed).random(len(out)) < shift.value)
        out.loc[drop, shift.column] = np.nan
    else:
        if isinstance(col.dtype, pd.CategoricalDtype) and shift.value not in col.cat.categories:
            raise ValueError(f"FeatureShift.value {shift.value!r} is not a category of {shift.column!r}")
        out.loc[rows, shift.column] = shift.value
    return out


class DeployedModel(NamedTuple):
    """A fitted pipeline (preprocessor + logistic regression) and its Platt calibration."""

    pipeline: Any
    calibrator: Any
    features: tuple[str, ...]

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Calibrated P(fraud) of each row of ``frame`` (1-D)."""
        data_frame(frame, "frame", self.features)
        logit = self.pipeline.decision_function(frame[list(self.features)])
        return self.calibrator.predict(logit)


def train_deployed_model(train: pd.DataFrame, calibration: pd.DataFrame, *,
                         features: Sequence[str] = MODEL_FEATURES, target: str = "is_fraud") -> DeployedModel:
    """Fit the course's monitored model: :func:`mlcourse.modeling.make_preprocessor` + a logistic
    regression on ``train``, Platt-scaled on ``calibration`` (later rows: honest under time).
    About a second for 60,000 rows."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from mlcourse.calibration import PlattScaler
    from mlcourse.modeling import make_preprocessor

    features = tuple(features)
    data_frame(train, "train", [*features, target])
    data_frame(calibration, "calibration", [*features, target])
    pipe = make_pipeline(make_preprocessor(train[list(features)]), LogisticRegression(C=0.5, max_iter=500))
    pipe.fit(train[list(features)], train[target].to_numpy(dtype=int))
    scaler = PlattScaler().fit(pipe.decision_function(calibration[list(features)]),
                               calibration[target].to_numpy(dtype=int))
    return DeployedModel(pipe, scaler, features)


class MonitoringStream(NamedTuple):
    """A scored world for monitoring (see :func:`make_monitoring_stream`).

    ``frame``: every transaction with the deployed model's ``score`` (inputs
    after any injected :class:`FeatureShift`), ground truth included;
    ``reference``: the rows of days ``< reference_end`` as the platform sees
    them on day ``reference_end - 1`` (inputs, ``score``, and only the labels
    that have arrived; no ground truth);
    ``incidents``: the first days of the incidents that *should* page
    (pattern changes and input shifts of model features); ``benign``: the
    first days of shifts that should not (features the model does not use).
    """

    frame: pd.DataFrame
    reference: pd.DataFrame
    model: Any  # the DeployedModel, or the scorer passed in
    reference_end: int
    incidents: tuple[int, ...]
    benign: tuple[int, ...]


def make_monitoring_stream(
    seed: int = 0,
    *,
    n_days: int = 100,
    reference_end: int = 40,
    transactions_per_day: int = 1_500,
    drift: Sequence[Any] = (),
    shifts: Sequence[FeatureShift] = (),
    initial_pattern: str = "stolen_card",
    scorer: Callable[[pd.DataFrame], np.ndarray] | None = None,
    world_overrides: Mapping[str, Any] | None = None,
) -> MonitoringStream:
    """A world, a model trained on its first ``reference_end`` days, and the scored stream.

    The model is fitted on days ``[0, 0.7 * reference_end)`` and Platt-scaled
    on the rest of the reference period; every later day is scored as it would
    be in production. ``drift`` is the world's schedule of
    :class:`~mlcourse.world.DriftEvent` (concept drift); ``shifts`` are data
    incidents applied to the raw inputs before scoring. About two seconds.

    ``scorer`` replaces the course's model with your own: a callable mapping a
    frame of transactions to P(fraud), shape ``(n_rows,)`` (it becomes
    ``MonitoringStream.model``). ``world_overrides`` are further
    :class:`~mlcourse.world.WorldConfig` fields of the generated world (the
    capstone's world variant, for instance).
    """
    from mlcourse.world import make_world

    n_days = integer_at_least(n_days, "n_days", 2)
    reference_end = integer_at_least(reference_end, "reference_end", 2)
    if reference_end >= n_days:
        raise ValueError(f"reference_end must be < n_days={n_days}, got {reference_end}")
    drift = tuple(drift)
    if any(e.day < reference_end for e in drift):
        raise ValueError(f"drift events must come after the reference period (day >= {reference_end})")
    per_day = integer_at_least(transactions_per_day, "transactions_per_day", 100)
    n = per_day * n_days
    if scorer is not None and not callable(scorer):
        raise ValueError(f"scorer must be a callable frame -> P(fraud) or None, got {type(scorer).__name__}")
    world = make_world(**{"initial_pattern": initial_pattern, **(world_overrides or {})}, seed=seed,
                       n_transactions=n, n_customers=max(1_000, n // 10), n_days=n_days, drift=drift)
    tx = world.transactions
    if scorer is None:
        fit_end = int(round(0.7 * reference_end))
        model = train_deployed_model(tx[tx["day"] < fit_end],
                                     tx[(tx["day"] >= fit_end) & (tx["day"] < reference_end)])
        scorer = model.predict_proba
    else:
        model = scorer
    frame = tx
    for k, sh in enumerate(shifts):
        if sh.day < reference_end:
            raise ValueError(f"shifts must start after the reference period (day >= {reference_end}), got {sh.day}")
        frame = apply_shift(frame, sh, seed=seed + k)
    frame = frame.assign(score=apply_scorer(scorer, frame))
    incidents = sorted({e.day for e in drift} | {s.day for s in shifts if s.column in MODEL_FEATURES})
    benign = sorted({s.day for s in shifts if s.column not in MODEL_FEATURES})
    # The reference as the platform knows it on day reference_end - 1: no ground truth, only the
    # labels that have arrived by then.
    ref = frame.loc[frame["day"] < reference_end, [c for c in frame.columns if c not in _HIDDEN_COLUMNS]].copy()
    arrived = frame.loc[ref.index, "label_day"].to_numpy(dtype=float) <= reference_end - 1
    ref["label"] = np.where(arrived, frame.loc[ref.index, "label"], np.nan)
    ref["label_day"] = np.where(arrived, frame.loc[ref.index, "label_day"], np.nan)
    return MonitoringStream(frame, ref, model, reference_end, tuple(incidents), tuple(benign))


class DailyBatch(NamedTuple):
    """What production delivers on one day (see :func:`daily_batches`).

    ``scored``: the day's transactions as the model scored them (inputs and
    ``score``; no label, no ground truth). ``labels``: the labels that
    *arrived* that day, for transactions of earlier days (columns
    ``transaction_id``, ``day``, ``score``, ``label``).
    """

    day: int
    scored: pd.DataFrame
    labels: pd.DataFrame


_HIDDEN_COLUMNS = ("label", "label_day", "is_fraud", "fraud_probability", "fraud_pattern", "is_hard_negative",
                   "in_labeled_set", "reviewed", "review_label", "disputed", "dispute_day")


def daily_batches(frame: pd.DataFrame, *, start: int = 0, end: int | None = None) -> Iterable[DailyBatch]:
    """Replay ``frame`` as production sees it: one :class:`DailyBatch` per day from ``start`` to ``end``.

    Day ``t``'s batch holds the transactions of day ``t`` (without labels or
    ground truth) and the labels with ``label_day == t`` (for labels that were
    due before ``start``, see the reference period).
    """
    data_frame(frame, "frame", ["day", "transaction_id", "score", "label", "label_day"])
    days = frame["day"].to_numpy()
    end = int(days.max()) if end is None else int(end)
    label_day = frame["label_day"].to_numpy(dtype=float)
    visible = [c for c in frame.columns if c not in _HIDDEN_COLUMNS]
    arrived = frame.loc[~np.isnan(label_day), ["transaction_id", "day", "score", "label", "label_day"]]
    by_day = {int(d): g.drop(columns="label_day") for d, g in arrived.groupby("label_day")}
    empty = arrived.iloc[:0].drop(columns="label_day")
    scored_by_day = dict(iter(frame.groupby("day", sort=True)))
    for t in range(int(start), end + 1):
        scored = scored_by_day.get(t, frame.iloc[:0])[visible]
        yield DailyBatch(t, scored, by_day.get(t, empty))


class DriftMonitor:
    """A reference monitor: broken or shifted model inputs, score drift, and late-label precision.

    Three families of checks, each with its own false-alarm control:

    * **inputs and score, daily**: PSI of each model input (and of the score)
      on the day's batch against the later half of the reference period. A
      column *breaches* when its PSI exceeds both ``psi_floor`` (a practical
      size: small, slow drift is not an incident) and a threshold calibrated on
      the rest of the reference period (:func:`calibrate_thresholds`, a
      family-wise rate ``alpha`` per day across the columns).
    * **labels, lagged**: legit labels arrive ``SETTLEMENT_DELAY_DAYS`` days
      after the transaction, fraud labels weeks later. Among the transactions
      the model flagged (top ``flag_share`` of reference scores), the share
      that came back labeled legit over the last ``label_window`` settled days
      is tested against its reference rate (one-sided two-proportion z-test at
      ``label_alpha``, strict: frauds come in bursts, so daily counts vary more
      than a binomial model says): precision falls when the fraud pattern changes, even though
      no input moved.
    * an alert **enters** after ``min_consecutive`` days with any breach and
      exits after ``exit_consecutive`` clean days (:class:`HysteresisRule`).

    ``monitor(batches)`` (an iterable of :class:`DailyBatch`) returns the
    alert days; ``history_`` holds the daily statistics.
    """

    def __init__(self, features: Sequence[str] = MODEL_FEATURES, *, score: str = "score", alpha: float = 0.01,
                 label_alpha: float = 0.002, psi_floor: float = 0.25, flag_share: float = 0.01, label_window: int = 7, settle_days: int = 7,
                 min_consecutive: int = 2, exit_consecutive: int = 3, n_bins: int = 10) -> None:
        self.features = list(features)
        self.score = score
        self.alpha = fraction(alpha, "alpha")
        self.label_alpha = fraction(label_alpha, "label_alpha")
        self.psi_floor = finite_number(psi_floor, "psi_floor")
        self.flag_share = fraction(flag_share, "flag_share")
        self.label_window = integer_at_least(label_window, "label_window")
        self.settle_days = integer_at_least(settle_days, "settle_days", 0)
        self.n_bins = integer_at_least(n_bins, "n_bins", 2)
        self.rule = HysteresisRule(enter=0.5, exit=0.5, min_consecutive=min_consecutive,
                                   exit_consecutive=exit_consecutive)

    @property
    def columns(self) -> list[str]:
        return [*self.features, self.score]

    def fit(self, reference: pd.DataFrame) -> DriftMonitor:
        """Learn bins, thresholds and the reference label rates from a no-incident period
        (rows with ``day``, the model inputs, ``score``, and ``label`` / ``label_day``)."""
        data_frame(reference, "reference", ["day", *self.columns, "label", "label_day"])
        days = np.sort(reference["day"].unique())
        if len(days) < 10:
            raise ValueError(f"reference must span at least 10 days, got {len(days)}")
        cut = days[len(days) // 2]
        # Bins from the *later* half (closest to production: slow, harmless drift such as accounts
        # ageing stays small); the earlier half shows how much each statistic moves without an incident.
        base, held = reference[reference["day"] >= cut], reference[reference["day"] < cut]
        self.binnings_ = {c: fit_binning(base[c], n_bins=self.n_bins, kind="numeric" if c == self.score else None)
                          for c in self.columns}
        self.base_counts_ = {c: bin_counts(base[c], b) for c, b in self.binnings_.items()}
        daily = pd.DataFrame([self._psi(g) for _, g in held.groupby("day")])
        self.thresholds_ = np.maximum(calibrate_thresholds(daily, alpha=self.alpha), self.psi_floor)
        self.flag_threshold_ = float(np.quantile(reference[self.score], 1 - self.flag_share))
        # Reference share of flagged transactions that come back labeled legit (settled days only).
        # (Later half only: the earlier days are closer to, or part of, the model's training data,
        # where it looks better than it will in production.)
        settled = reference[(reference["day"] >= cut) & (reference["day"] <= days[-1] - self.settle_days)]
        flagged = settled[settled[self.score] >= self.flag_threshold_]
        legit = (flagged["label"] == 0) & (flagged["label_day"] <= days[-1])
        self.legit_rate_ = float(legit.sum() / max(len(flagged), 1))
        self.ref_n_ = int(len(flagged))
        hit = reference[reference[self.score] >= self.flag_threshold_]
        self.ref_flagged_ = {int(d): int(k) for d, k in hit.groupby("day").size().items()}
        self.ref_flagged_ids_ = set(hit["transaction_id"].tolist()) if "transaction_id" in hit else set()
        back = hit[(hit["label"] == 0) & (hit["label_day"] <= days[-1])]
        self.ref_legit_back_ = {int(d): int(k) for d, k in back.groupby("day").size().items()}
        return self

    def _psi(self, frame: pd.DataFrame) -> dict[str, float]:
        return {c: psi_from_counts(self.base_counts_[c], bin_counts(frame[c], b)) for c, b in self.binnings_.items()}

    def __call__(self, batches: Iterable[DailyBatch]) -> list[int]:
        from scipy.stats import norm

        if not hasattr(self, "thresholds_"):
            raise ValueError("DriftMonitor is not fitted: call fit(reference) first")
        z_crit = float(norm.isf(self.label_alpha))
        # Start from the reference period: its flagged transactions and the legit labels already back.
        n_flagged = dict(self.ref_flagged_)
        flagged_ids = set(self.ref_flagged_ids_)
        legit_back = dict(self.ref_legit_back_)
        days, breaches, rows = [], [], []
        for batch in batches:
            if not isinstance(batch, DailyBatch):
                raise ValueError(f"batches must yield DailyBatch items (see daily_batches), got {type(batch).__name__}")
            t = int(batch.day)
            scored = data_frame(batch.scored, "batch.scored", self.columns)
            row: dict[str, float] = {}
            if len(scored):
                row.update(self._psi(scored))
                hit = scored[self.score].to_numpy(dtype=float) >= self.flag_threshold_
                n_flagged[t] = int(hit.sum())
                flagged_ids.update(scored["transaction_id"].to_numpy()[hit].tolist())
            lab = batch.labels
            if len(lab):
                back = lab[(lab["label"] == 0) & lab["transaction_id"].isin(flagged_ids)]
                for d, k in back.groupby("day").size().items():
                    legit_back[int(d)] = legit_back.get(int(d), 0) + int(k)
            window = range(t - self.settle_days - self.label_window + 1, t - self.settle_days + 1)
            n = sum(n_flagged.get(d, 0) for d in window)
            x = sum(legit_back.get(d, 0) for d in window)
            full = all(d in n_flagged for d in window)
            # Two-proportion z-test: the reference rate is itself an estimate from a few weeks.
            n0, p0 = self.ref_n_, self.legit_rate_
            pooled = (n0 * p0 + x) / (n0 + n) if n else math.nan
            ok = full and n > 0 and 0 < pooled < 1
            z = (x / n - p0) / math.sqrt(pooled * (1 - pooled) * (1 / n0 + 1 / n)) if ok else math.nan
            row["label_z"] = z
            feature_breach = sum(row.get(c, 0.0) > self.thresholds_[c] for c in self.columns)
            label_breach = int(not math.isnan(z) and z > z_crit)
            days.append(t)
            breaches.append(float(feature_breach + label_breach))
            rows.append(pd.Series(row, name=t))
        state = self.rule.run(breaches)
        self.history_ = pd.DataFrame(rows).assign(n_breaches=breaches, alert=state)
        return [d for d, s in zip(days, state) if s]


class AlertEvaluation(NamedTuple):
    """How an alerting rule did on a stream with known incidents (see :func:`evaluate_alerts`)."""

    delays: list[float]
    detected: list[bool]
    false_alarm_days: list[int]
    false_alarm_episodes: int

    @property
    def all_detected(self) -> bool:
        return all(self.detected)


def evaluate_alerts(alert_days: Iterable[int], incidents: Sequence[int], *, max_delay: int,
                    end_day: int | None = None) -> AlertEvaluation:
    """Detection delay per incident and false alarms of a list of alert days.

    An incident starting on day ``d`` lasts until the next incident (or
    ``end_day``, or forever): it is *detected* if some alert day falls in
    ``[d, d + max_delay]``, and its delay is the first alert day ``>= d``
    within it, minus ``d`` (``inf`` if missed). An alert day before the first
    incident is a *false alarm*; ``false_alarm_episodes`` counts the runs of
    consecutive false-alarm days (the pages an on-call engineer got for
    nothing).

    >>> evaluate_alerts([3, 10, 11, 12], incidents=[10], max_delay=3)
    AlertEvaluation(delays=[0.0], detected=[True], false_alarm_days=[3], false_alarm_episodes=1)
    """
    days = sorted({int(d) for d in alert_days})
    max_delay = integer_at_least(max_delay, "max_delay", 0)
    inc = sorted(int(d) for d in incidents)
    bounds = inc[1:] + [math.inf if end_day is None else end_day + 1]
    delays, detected = [], []
    for d, nxt in zip(inc, bounds):
        hits = [a for a in days if d <= a < nxt]
        delay = float(hits[0] - d) if hits else math.inf
        delays.append(delay)
        detected.append(delay <= max_delay)
    first = inc[0] if inc else math.inf
    false_days = [a for a in days if a < first]
    episodes = len(alert_episodes(np.isin(np.arange(false_days[-1] + 1), false_days))) if false_days else 0
    return AlertEvaluation(delays, detected, false_days, episodes)


def plot_alert_timeline(
    days: ArrayLike,
    statistics: Mapping[str, ArrayLike],
    *,
    alert_days: Iterable[int] = (),
    incidents: Sequence[int] = (),
    benign: Sequence[int] = (),
    threshold: float | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """A timeline: monitored statistics per day, alert days shaded red, incidents as dashed lines
    (benign shifts dotted), an optional threshold line. Returns the Axes."""
    import matplotlib.pyplot as plt

    d = np.asarray(days)
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.5))
    for name, values in statistics.items():
        v = np.asarray(values, dtype=float)
        if v.shape != d.shape:
            raise ValueError(f"statistics[{name!r}] must have one value per day ({d.size}), got {v.size}")
        ax.plot(d, v, marker=".", lw=1, label=name)
    for a in alert_days:
        ax.axvspan(a - 0.5, a + 0.5, color="tab:red", alpha=0.15, lw=0)
    for k, i in enumerate(incidents):
        ax.axvline(i, color="black", ls="--", lw=1.2, label="incident" if k == 0 else None)
    for k, b in enumerate(benign):
        ax.axvline(b, color="grey", ls=":", lw=1.2, label="benign shift" if k == 0 else None)
    if threshold is not None:
        ax.axhline(threshold, color="tab:red", lw=0.8, ls="-.", label="threshold")
    ax.set_xlabel("day")
    if title:
        ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    return ax
