"""Feedback loops: learning from what the deployed model's decisions reveal.

Stage 9 of the course roadmap. Once a fraud model runs, its own decisions shape
the labels it will later learn from:

1. **Feedback logging** (:func:`feedback_events`, :func:`feedback_rates`,
   :func:`join_feedback`): *explicit* feedback (an analyst's review verdict)
   and *implicit* feedback (a customer dispute: a signal, not a verdict) as
   timestamped events, joined back to the predictions *as of* a day, so late
   and missing feedback are handled honestly.
2. **Selection bias** (:func:`logging_propensity`, :func:`examination_propensity`,
   :func:`ipw_estimate`, :func:`naive_estimate`): analysts review what scores
   high (and what sits high in their queue), so the reviewed sample is biased;
   inverse propensity weighting (plain, clipped, self-normalised) removes it.
3. **Concept-drift detectors** over a 0/1 error stream (:class:`DDM`,
   :class:`PageHinkley`, :class:`ADWIN`, :func:`detect_drifts`,
   :func:`evaluate_detections`, :func:`make_error_stream`), scored by
   detection delay and false alarms. DDM and Page-Hinkley follow river's
   update rules exactly; ADWIN is a simple (quadratic) but correct version.
   They are stream detectors with river's interface (``update(x)`` one item
   at a time, the state in ``drift_detected``), not scikit-learn estimators:
   there is no batch ``fit(X, y)`` to clone and refit, and their state is the
   point of them.
4. **Hard negatives** (:func:`mine_hard_negatives`, :func:`hard_negative_weights`,
   :func:`hard_slice_fpr`): legit transactions the model repeatedly scores
   high, upweighted in retraining.
5. **The degenerate feedback loop** (:func:`simulate_feedback_loop`): a model
   that only sees labels for what it flags stops learning; epsilon-greedy
   exploration logged with its propensities (IPW) fixes it.

Conventions
-----------
* Frames are slices of the data world's ``transactions`` (:mod:`mlcourse.world`).
* Bad arguments raise ``ValueError`` naming the argument and what was expected.
* Everything is deterministic given the seeds; no network.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from mlcourse._checks import data_frame, finite_array, finite_number, fraction, integer_at_least, positive_number

__all__ = [
    "ADWIN",
    "DDM",
    "PageHinkley",
    "detect_drifts",
    "evaluate_detections",
    "examination_propensity",
    "feedback_events",
    "feedback_rates",
    "hard_negative_weights",
    "hard_slice_fpr",
    "ipw_estimate",
    "join_feedback",
    "logging_propensity",
    "make_error_stream",
    "mine_hard_negatives",
    "naive_estimate",
    "simulate_feedback_loop",
]

EVENT_COLUMNS = ["tx_id", "event_day", "feedback_type", "label"]


# ---------------------------------------------------------------------------
# 1. Feedback logging
# ---------------------------------------------------------------------------


def feedback_events(transactions: pd.DataFrame, *, review_delay_days: float = 3.0) -> pd.DataFrame:
    """The feedback log: one row per feedback event, explicit and implicit.

    * ``explicit``: an analyst reviewed the transaction (``reviewed``); the
      label is the verdict ``review_label``; it arrives ``review_delay_days``
      after the transaction's ``day``.
    * ``implicit``: the customer disputed it (``disputed``); the label is 1.0
      (a dispute *claims* fraud; some disputes are about legit purchases); it
      arrives on ``dispute_day``.

    Parameters
    ----------
    transactions : DataFrame with ``day``, ``reviewed``, ``review_label``,
        ``disputed``, ``dispute_day``; its index is the transaction id.
    review_delay_days : days from a transaction to its review, >= 0.

    Returns
    -------
    DataFrame with columns ``tx_id``, ``event_day``, ``feedback_type``
    (``"explicit"``/``"implicit"``) and ``label``, sorted by ``event_day``.

    >>> tx = pd.DataFrame({"day": [0, 1], "reviewed": [True, False], "review_label": [0.0, np.nan],
    ...                    "disputed": [False, True], "dispute_day": [np.nan, 5.0]})
    >>> feedback_events(tx, review_delay_days=2).values.tolist()
    [[0, 2.0, 'explicit', 0.0], [1, 5.0, 'implicit', 1.0]]
    """
    data_frame(transactions, "transactions", ["day", "reviewed", "review_label", "disputed", "dispute_day"])
    delay = positive_number(review_delay_days, "review_delay_days", allow_zero=True)
    rev = transactions["reviewed"].to_numpy(bool)
    dis = transactions["disputed"].to_numpy(bool)
    ids = transactions.index.to_numpy()
    explicit = pd.DataFrame({
        "tx_id": ids[rev],
        "event_day": transactions["day"].to_numpy(float)[rev] + delay,
        "feedback_type": "explicit",
        "label": transactions["review_label"].to_numpy(float)[rev],
    })
    implicit = pd.DataFrame({
        "tx_id": ids[dis],
        "event_day": transactions["dispute_day"].to_numpy(float)[dis],
        "feedback_type": "implicit",
        "label": np.ones(int(dis.sum())),
    })
    events = pd.concat([explicit, implicit], ignore_index=True)
    return events.sort_values(["event_day", "tx_id"], kind="stable").reset_index(drop=True)[EVENT_COLUMNS]


def feedback_rates(transactions: pd.DataFrame) -> pd.Series:
    """Share of transactions with each kind of feedback, and how often it is right.

    Returns a Series with ``explicit_rate`` (reviewed share), ``implicit_rate``
    (disputed share), ``any_rate``, ``explicit_accuracy`` (verdict equals the
    ground truth ``is_fraud``) and ``implicit_precision`` (disputed
    transactions that are fraud); the last two are NaN without ``is_fraud`` or
    without any event of that kind.

    >>> tx = pd.DataFrame({"reviewed": [True, False, False, False], "review_label": [1.0, np.nan, np.nan, np.nan],
    ...                    "disputed": [True, True, False, False], "is_fraud": [1, 0, 0, 0]})
    >>> feedback_rates(tx)[["explicit_rate", "implicit_rate", "implicit_precision"]].tolist()
    [0.25, 0.5, 0.5]
    """
    data_frame(transactions, "transactions", ["reviewed", "review_label", "disputed"])
    if len(transactions) == 0:
        raise ValueError("transactions is empty; at least one transaction is required")
    rev = transactions["reviewed"].to_numpy(bool)
    dis = transactions["disputed"].to_numpy(bool)
    out = {"explicit_rate": rev.mean(), "implicit_rate": dis.mean(), "any_rate": (rev | dis).mean(),
           "explicit_accuracy": math.nan, "implicit_precision": math.nan}
    if "is_fraud" in transactions.columns:
        y = transactions["is_fraud"].to_numpy(float)
        if rev.any():
            out["explicit_accuracy"] = float((transactions["review_label"].to_numpy(float)[rev] == y[rev]).mean())
        if dis.any():
            out["implicit_precision"] = float(y[dis].mean())
    return pd.Series(out, dtype=float)


def join_feedback(predictions: pd.DataFrame, events: pd.DataFrame, as_of: float) -> pd.DataFrame:
    """Join the feedback known on day ``as_of`` to the predictions (an as-of join).

    An event counts when ``day <= event_day <= as_of`` (feedback cannot precede
    its prediction; later feedback is not known yet). For each prediction and
    feedback type the latest known event wins. Predictions without feedback
    keep NaN labels: missing is not negative.

    Parameters
    ----------
    predictions : DataFrame with ``day``; its index is the transaction id.
    events : the log of :func:`feedback_events`.
    as_of : the day of the join.

    Returns
    -------
    ``predictions`` plus ``explicit_label``, ``implicit_label``,
    ``feedback_label`` (explicit if known, else implicit), ``feedback_day``
    and ``has_feedback``.

    >>> p = pd.DataFrame({"day": [0, 0]})
    >>> ev = pd.DataFrame({"tx_id": [0, 1], "event_day": [2.0, 9.0],
    ...                    "feedback_type": ["explicit", "implicit"], "label": [0.0, 1.0]})
    >>> join_feedback(p, ev, as_of=5)["has_feedback"].tolist()
    [True, False]
    """
    data_frame(predictions, "predictions", ["day"])
    data_frame(events, "events", EVENT_COLUMNS)
    as_of = finite_number(as_of, "as_of")
    bad = set(events["feedback_type"].unique()) - {"explicit", "implicit"}
    if bad:
        raise ValueError(f"events.feedback_type must be 'explicit' or 'implicit', got {sorted(map(str, bad))}")
    ev = events[events["tx_id"].isin(predictions.index) & (events["event_day"] <= float(as_of))]
    pred_day = predictions["day"].reindex(ev["tx_id"]).to_numpy(float)
    ev = ev[ev["event_day"].to_numpy(float) >= pred_day]
    latest = ev.sort_values("event_day", kind="stable").groupby(["tx_id", "feedback_type"]).last()
    out = predictions.copy()
    days = pd.Series(np.nan, index=predictions.index)
    for kind in ("explicit", "implicit"):
        part = latest.xs(kind, level="feedback_type") if kind in latest.index.get_level_values(1) else None
        col = pd.Series(np.nan, index=predictions.index)
        if part is not None:
            col.loc[part.index] = part["label"].to_numpy(float)
            days = days.combine(part["event_day"].reindex(predictions.index), np.fmin)
        out[f"{kind}_label"] = col.to_numpy()
    out["feedback_label"] = out["explicit_label"].fillna(out["implicit_label"])
    out["feedback_day"] = days.to_numpy()
    out["has_feedback"] = out["feedback_label"].notna()
    return out


# ---------------------------------------------------------------------------
# 2. Selection bias and inverse propensity weighting
# ---------------------------------------------------------------------------


def logging_propensity(scores: ArrayLike, *, base: float = 0.02, strength: float = 0.9) -> np.ndarray:
    """Review probability under a score-driven logging policy: ``base + strength * score``, clipped to [base, 1].

    Shape (n,) -> (n,). Analysts look at what the model scores high: that is the
    selection bias IPW undoes. ``base > 0`` keeps every propensity positive.

    >>> logging_propensity([0.0, 0.5, 1.0], base=0.1, strength=0.8).tolist()
    [0.1, 0.5, 0.9]
    """
    s = finite_array(scores, "scores")
    b = fraction(base, "base", inclusive="right")
    k = positive_number(strength, "strength", allow_zero=True)
    return np.clip(b + k * s, b, 1.0)


def examination_propensity(rank: ArrayLike, *, eta: float = 1.0) -> np.ndarray:
    """Position bias: the chance an analyst examines the item at queue position ``rank`` (1 = top), ``rank ** -eta``.

    >>> examination_propensity([1, 2, 4], eta=1.0).tolist()
    [1.0, 0.5, 0.25]
    """
    r = finite_array(rank, "rank")
    if (r < 1).any():
        raise ValueError("rank must be >= 1 (1 is the top of the queue)")
    e = positive_number(eta, "eta", allow_zero=True)
    return r ** -e


def _ipw_inputs(values: ArrayLike, observed: ArrayLike, propensity: ArrayLike) -> tuple[np.ndarray, ...]:
    obs = np.asarray(observed)
    if obs.ndim != 1 or obs.size == 0:
        raise ValueError(f"observed must be a non-empty 1-dimensional array, got shape {obs.shape}")
    if obs.dtype != bool:
        if not np.isin(obs, [0, 1]).all():
            raise ValueError("observed must be boolean (or 0/1)")
        obs = obs.astype(bool)
    p = finite_array(propensity, "propensity")
    v = np.asarray(values, dtype=float)
    if v.shape != obs.shape or p.shape != obs.shape:
        raise ValueError(f"values, observed and propensity must have the same length, got "
                         f"{v.shape[0] if v.ndim else v.shape}, {obs.shape[0]} and {p.shape[0]}")
    if ((p <= 0) | (p > 1)).any():
        raise ValueError("propensity must be in (0, 1] for every unit")
    if not np.isfinite(v[obs]).all():
        raise ValueError("values must be finite wherever observed is True")
    return np.where(obs, v, 0.0), obs, p


def ipw_estimate(values: ArrayLike, observed: ArrayLike, propensity: ArrayLike, *,
                 clip: float | None = None, self_normalize: bool = False) -> float:
    """Inverse-propensity-weighted estimate of ``mean(values)`` over *all* n units.

    Only ``values[observed]`` are known (unobserved entries may be NaN); unit i
    was observed with probability ``propensity[i]``. Horvitz-Thompson:
    ``sum(obs * v / p) / n`` (unbiased); self-normalised (SNIPS):
    ``sum(obs * v / p) / sum(obs / p)`` (slightly biased, lower variance);
    ``clip`` floors the propensities (caps weights at ``1 / clip``: bias for
    variance).

    Shapes: values, observed, propensity (n,) -> float.

    >>> ipw_estimate([1.0, np.nan, 0.0, np.nan], [True, False, True, False], [0.5, 0.5, 0.5, 0.5])
    0.5
    """
    v, obs, p = _ipw_inputs(values, observed, propensity)
    if clip is not None:
        p = np.maximum(p, fraction(clip, "clip", inclusive="right"))
    w = obs / p
    if self_normalize:
        if w.sum() == 0:
            raise ValueError("observed has no True entry; the self-normalised estimate is undefined")
        return float((w * v).sum() / w.sum())
    return float((w * v).sum() / v.size)


def naive_estimate(values: ArrayLike, observed: ArrayLike) -> float:
    """The mean of the observed values only: biased whenever observation depends on the value.

    >>> naive_estimate([1.0, np.nan, 0.0], [True, False, True])
    0.5
    """
    obs = np.asarray(observed, dtype=bool)
    v = np.asarray(values, dtype=float)
    if v.shape != obs.shape or obs.ndim != 1:
        raise ValueError(f"values and observed must be 1-dimensional of the same length, got {v.shape} and {obs.shape}")
    if not obs.any():
        raise ValueError("observed has no True entry; nothing to average")
    return float(v[obs].mean())


# ---------------------------------------------------------------------------
# 3. Concept-drift detectors
# ---------------------------------------------------------------------------


class DDM:
    """Drift Detection Method (Gama et al. 2004) over a 0/1 error stream; river's update rule.

    With ``p`` the running error rate and ``s = sqrt(p (1 - p) / n)``, after
    ``warm_start`` items it tracks the minimum of ``p + s``; drift when
    ``p + s > p_min + drift_threshold * s_min`` (warning at
    ``warning_threshold``). After a drift the detector resets. The defaults
    (river's) false-alarm often on long quiet streams, because ``s_min`` is
    tiny early on; a longer ``warm_start`` (hundreds) and ``drift_threshold``
    4 make it quieter at the cost of some delay.

    After each :meth:`update`, ``drift_detected`` says whether this item
    signalled drift and ``warning_detected`` whether the warning level is
    crossed (without drift).

    >>> d = DDM(warm_start=30)
    >>> hits = [i for i, x in enumerate([0] * 100 + [1] * 20) if d.update(x)]
    >>> hits[0] >= 100
    True
    """

    def __init__(self, warm_start: int = 30, warning_threshold: float = 2.0, drift_threshold: float = 3.0) -> None:
        self.warm_start = integer_at_least(warm_start, "warm_start", 1)
        self.warning_threshold = positive_number(warning_threshold, "warning_threshold")
        self.drift_threshold = positive_number(drift_threshold, "drift_threshold")
        if self.drift_threshold < self.warning_threshold:
            raise ValueError("drift_threshold must be >= warning_threshold")
        self.drift_detected = False
        self._reset()

    def _reset(self) -> None:
        self.n = 0
        self._sum = 0.0
        self._p_min = math.inf
        self._s_min = math.inf
        self._ps_min = math.inf
        self.warning_detected = False

    def update(self, x: float) -> bool:
        """Feed one error (0/1 or a rate in [0, 1]); return True if drift is detected now."""
        if self.drift_detected:
            self._reset()
            self.drift_detected = False
        self.n += 1
        self._sum += float(x)
        p = self._sum / self.n
        s = math.sqrt(p * (1 - p) / self.n)
        if self.n > self.warm_start:
            if p + s <= self._ps_min:
                self._p_min, self._s_min, self._ps_min = p, s, p + s
            self.warning_detected = p + s > self._p_min + self.warning_threshold * self._s_min
            if p + s > self._p_min + self.drift_threshold * self._s_min:
                self.drift_detected = True
                self.warning_detected = False
        return self.drift_detected


class PageHinkley:
    """Page-Hinkley test for a change in the mean; river's update rule.

    ``m_t = alpha * m_{t-1} + (x_t - mean_t) - delta`` (and the mirror sum
    with ``+ delta``); drift when ``m_t - min(m)`` (mode ``"up"``: the error
    rate rose) or ``max(m') - m'_t`` (``"down"``) exceeds ``threshold``, after
    ``min_instances`` items. Resets after a drift.

    >>> ph = PageHinkley(threshold=5, min_instances=10)
    >>> [i for i, x in enumerate([0.0] * 50 + [1.0] * 20) if ph.update(x)][0] >= 50
    True
    """

    def __init__(self, min_instances: int = 30, delta: float = 0.005, threshold: float = 50.0,
                 alpha: float = 1 - 0.0001, mode: str = "up") -> None:
        self.min_instances = integer_at_least(min_instances, "min_instances", 1)
        self.delta = positive_number(delta, "delta", allow_zero=True)
        self.threshold = positive_number(threshold, "threshold")
        self.alpha = fraction(alpha, "alpha", inclusive="right")
        if mode not in ("up", "down", "both"):
            raise ValueError(f"mode must be one of ['up', 'down', 'both'], got {mode!r}")
        self.mode = mode
        self.drift_detected = False
        self._reset()

    def _reset(self) -> None:
        self.n = 0
        self._mean = 0.0
        self._sum_inc = 0.0
        self._sum_dec = 0.0
        self._min_inc = math.inf
        self._max_dec = -1.0  # as in river

    def update(self, x: float) -> bool:
        """Feed one value; return True if drift is detected now."""
        if self.drift_detected:
            self._reset()
            self.drift_detected = False
        self.n += 1
        self._mean += (float(x) - self._mean) / self.n
        dev = float(x) - self._mean
        self._sum_inc = self.alpha * self._sum_inc + dev - self.delta
        self._sum_dec = self.alpha * self._sum_dec + dev + self.delta
        self._min_inc = min(self._min_inc, self._sum_inc)
        self._max_dec = max(self._max_dec, self._sum_dec)
        if self.n >= self.min_instances:
            up = self._sum_inc - self._min_inc > self.threshold
            down = self._max_dec - self._sum_dec > self.threshold
            self.drift_detected = {"up": up, "down": down, "both": up or down}[self.mode]
        return self.drift_detected


class ADWIN:
    """ADaptive WINdowing (Bifet & Gavalda 2007), simple exact version.

    Keeps the whole window (up to ``max_window`` items) and, every ``clock``
    items, tests every split into an older part (n0 items, mean mu0) and a
    newer part (n1, mu1), each at least ``min_window_length`` long:
    ``|mu0 - mu1| > sqrt(2 m var dd) + 2/3 m dd`` with ``m = 1/n0 + 1/n1``,
    ``dd = ln(2 ln(n) / delta)`` and ``var`` the window's variance (river's
    bound). On a cut it drops the older part and reports drift. Each check is
    vectorised (cumulative sums), O(window).

    >>> a = ADWIN()
    >>> hits = [i for i, x in enumerate([0.0] * 300 + [1.0] * 100) if a.update(x)]
    >>> 300 <= hits[0] < 400
    True
    """

    def __init__(self, delta: float = 0.002, clock: int = 32, min_window_length: int = 5,
                 grace_period: int = 10, max_window: int = 10_000) -> None:
        self.delta = fraction(delta, "delta")
        self.clock = integer_at_least(clock, "clock", 1)
        self.min_window_length = integer_at_least(min_window_length, "min_window_length", 1)
        self.grace_period = integer_at_least(grace_period, "grace_period", 1)
        self.max_window = integer_at_least(max_window, "max_window", 2)
        self.window: list[float] = []
        self.n_seen = 0
        self.drift_detected = False

    @property
    def width(self) -> int:
        """Current window length."""
        return len(self.window)

    def update(self, x: float) -> bool:
        """Feed one value; return True if the window was cut (drift) now."""
        self.drift_detected = False
        self.window.append(float(x))
        if len(self.window) > self.max_window:
            del self.window[0]
        self.n_seen += 1
        if self.n_seen % self.clock or len(self.window) <= self.grace_period:
            return False
        while True:
            w = np.asarray(self.window)
            n = w.size
            k = self.min_window_length
            if n < 2 * k:
                break
            csum = np.cumsum(w)
            n0 = np.arange(k, n - k + 1)
            n1 = n - n0
            mu0 = csum[n0 - 1] / n0
            mu1 = (csum[-1] - csum[n0 - 1]) / n1
            m = 1.0 / n0 + 1.0 / n1
            dd = math.log(2 * math.log(n) / self.delta)
            eps = np.sqrt(2 * m * w.var() * dd) + 2.0 / 3.0 * m * dd
            cut = np.flatnonzero(np.abs(mu0 - mu1) > eps)
            if cut.size == 0:
                break
            self.drift_detected = True
            del self.window[: int(n0[cut[-1]])]
        return self.drift_detected


def detect_drifts(detector: Any, stream: ArrayLike) -> list[int]:
    """Indices of ``stream`` at which ``detector.update`` reports drift. Shape (n,) -> list.

    >>> detect_drifts(PageHinkley(threshold=5, min_instances=10), [0.0] * 50 + [1.0] * 20)
    [55]
    """
    if not callable(getattr(detector, "update", None)):
        raise ValueError("detector must have an update(x) method returning bool")  # noqa: TRY004
    xs = finite_array(stream, "stream")
    return [i for i, x in enumerate(xs.tolist()) if detector.update(x)]


def make_error_stream(n: int, drift_points: Sequence[int] = (), rates: Sequence[float] = (0.05, 0.3), *,
                      seed: int = 0) -> np.ndarray:
    """A 0/1 error stream of length ``n``: Bernoulli with ``rates[j]`` in segment j (segments split at ``drift_points``).

    ``rates`` cycles if shorter than ``len(drift_points) + 1``.

    >>> s = make_error_stream(1000, [500], (0.0, 1.0), seed=0)
    >>> int(s[:500].sum()), int(s[500:].sum())
    (0, 500)
    """
    n = integer_at_least(n, "n", 1)
    points = sorted(int(p) for p in drift_points)
    if any(p <= 0 or p >= n for p in points):
        raise ValueError(f"drift_points must lie in (0, n={n}), got {list(drift_points)}")
    rates = [fraction(r, "rates", inclusive="both") for r in rates]
    if not rates:
        raise ValueError("rates must hold at least one error rate")
    seg = np.searchsorted(points, np.arange(n), side="right")
    p = np.asarray(rates)[seg % len(rates)]
    return (np.random.default_rng(seed).random(n) < p).astype(float)


def evaluate_detections(detections: Iterable[int], drift_points: Sequence[int], n: int, *,
                        max_delay: int) -> dict[str, Any]:
    """Score detections against known drift points.

    A drift is *detected* by the first detection in ``[point, point + max_delay]``
    (and before the next drift point); its delay is that index minus the
    point. Every other detection is a false alarm.

    Returns ``{"delays": [...] (None if missed), "n_detected", "n_missed",
    "false_alarms", "mean_delay"}``.

    >>> evaluate_detections([120, 700], [100], 1000, max_delay=50)["false_alarms"]
    1
    """
    n = integer_at_least(n, "n", 1)
    max_delay = integer_at_least(max_delay, "max_delay", 0)
    det = sorted(int(d) for d in detections)
    points = sorted(int(p) for p in drift_points)
    used: set[int] = set()
    delays: list[int | None] = []
    for j, p in enumerate(points):
        end = min(p + max_delay, (points[j + 1] - 1) if j + 1 < len(points) else n - 1)
        hit = next((d for d in det if p <= d <= end), None)
        delays.append(None if hit is None else hit - p)
        if hit is not None:
            used.add(hit)
    found = [d for d in delays if d is not None]
    return {"delays": delays, "n_detected": len(found), "n_missed": len(points) - len(found),
            "false_alarms": sum(1 for d in det if d not in used),
            "mean_delay": float(np.mean(found)) if found else math.nan}


# ---------------------------------------------------------------------------
# 4. Hard negatives
# ---------------------------------------------------------------------------


def mine_hard_negatives(y_true: ArrayLike, scores: ArrayLike, *, threshold: float = 0.5,
                        min_count: int = 1) -> np.ndarray:
    """Boolean mask of legit rows (``y_true == 0``) scored ``>= threshold`` in at least ``min_count`` rounds.

    ``scores`` is (n,) for one model or (n_rounds, n) for the scores of
    successive models (or cross-validation folds): "repeatedly misclassified".

    >>> mine_hard_negatives([0, 0, 1], [[0.9, 0.2, 0.9], [0.8, 0.7, 0.9]], min_count=2).tolist()
    [True, False, False]
    """
    y = finite_array(y_true, "y_true")
    if not np.isin(y, [0, 1]).all():
        raise ValueError("y_true must hold only 0 and 1")
    s = finite_array(scores, "scores", ndims=(1, 2))
    s = s[None, :] if s.ndim == 1 else s
    if s.shape[1] != y.size:
        raise ValueError(f"scores must have {y.size} columns (one per row of y_true), got shape {s.shape}")
    t = fraction(threshold, "threshold", inclusive="both")
    k = integer_at_least(min_count, "min_count", 1)
    if k > s.shape[0]:
        raise ValueError(f"min_count must be <= the number of score rounds ({s.shape[0]}), got {k}")
    return (y == 0) & ((s >= t).sum(axis=0) >= k)


def hard_negative_weights(mined: ArrayLike, weight: float = 5.0) -> np.ndarray:
    """Sample weights for retraining: ``weight`` for mined hard negatives, 1 elsewhere. (n,) -> (n,).

    >>> hard_negative_weights([True, False], weight=3).tolist()
    [3.0, 1.0]
    """
    m = np.asarray(mined)
    if m.ndim != 1 or m.size == 0:
        raise ValueError(f"mined must be a non-empty 1-dimensional boolean array, got shape {m.shape}")
    w = positive_number(weight, "weight")
    return np.where(m.astype(bool), w, 1.0)


def hard_slice_fpr(y_true: ArrayLike, scores: ArrayLike, hard: ArrayLike, *, alert_rate: float = 0.05) -> float:
    """False-positive rate on the hard slice at the threshold that alerts on ``alert_rate`` of all rows.

    Fixing the alert budget (not the threshold) keeps the comparison fair:
    a model that just lowers every score does not win.

    >>> hard_slice_fpr([0, 0, 1, 0], [0.9, 0.1, 0.8, 0.2], [True, True, False, False], alert_rate=0.5)
    0.5
    """
    y = finite_array(y_true, "y_true")
    s = finite_array(scores, "scores")
    h = np.asarray(hard, dtype=bool)
    if not (y.shape == s.shape == h.shape):
        raise ValueError(f"y_true, scores and hard must have the same length, got {y.size}, {s.size}, {h.size}")
    a = fraction(alert_rate, "alert_rate", inclusive="right")
    neg = h & (y == 0)
    if not neg.any():
        raise ValueError("hard selects no legit row (y_true == 0); the hard-slice FPR is undefined")
    k = max(1, round(a * s.size))
    alerted = np.zeros(s.size, bool)
    alerted[np.argsort(-s, kind="stable")[:k]] = True
    return float(alerted[neg].mean())


# ---------------------------------------------------------------------------
# 5. The degenerate feedback loop
# ---------------------------------------------------------------------------


def simulate_feedback_loop(*, epsilon: float = 0.0, n_rounds: int = 40, batch_size: int = 2_000,
                           n_segments: int = 10, n_flagged: int = 2, drift_round: int = 10,
                           window: int = 5, seed: int = 0) -> pd.DataFrame:
    """Simulate a model that learns only from the labels its own decisions reveal.

    Transactions fall in ``n_segments`` segments (merchant types), each with its
    own fraud rate; segments 0 and 1 are the fraud hot spots. The model's
    estimate of each segment's rate starts at the truth. Every round it flags
    (sends to review, and so labels) every transaction in its ``n_flagged``
    highest-estimate segments; with ``epsilon > 0`` it also reviews each other
    transaction with probability ``epsilon`` (exploration), logging the
    propensity. The estimates are re-fitted from the last ``window`` rounds'
    labels, self-normalised IPW per segment; a segment without labels keeps
    its stale estimate. On ``drift_round`` the fraud moves to the last two
    segments (previously the safest): a greedy model (epsilon 0) never
    reviews them again, so it never learns (the degenerate loop).

    Returns one row per round: ``round``, ``recall`` (share of fraud reviewed),
    ``review_rate`` and ``flagged`` (the flagged segments, as a tuple).

    >>> greedy = simulate_feedback_loop(epsilon=0.0, seed=0)
    >>> explore = simulate_feedback_loop(epsilon=0.05, seed=0)
    >>> bool(explore["recall"].iloc[-10:].mean() > greedy["recall"].iloc[-10:].mean() + 0.3)
    True
    """
    eps = fraction(epsilon, "epsilon", inclusive="left")
    n_rounds = integer_at_least(n_rounds, "n_rounds", 1)
    batch_size = integer_at_least(batch_size, "batch_size", 1)
    n_segments = integer_at_least(n_segments, "n_segments", 4)
    n_flagged = integer_at_least(n_flagged, "n_flagged", 1)
    if n_flagged >= n_segments:
        raise ValueError(f"n_flagged must be < n_segments ({n_segments}), got {n_flagged}")
    drift_round = integer_at_least(drift_round, "drift_round", 0)
    window = integer_at_least(window, "window", 1)
    rng = np.random.default_rng(seed)
    before = np.linspace(0.02, 0.005, n_segments)
    before[:2] = 0.2
    after = before.copy()
    after[:2] = 0.03        # old hot spots cool down, but stay above the rest
    after[-2:] = 0.25       # fraud moves to the (previously) safest segments
    estimate = before.copy()
    history: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    rows = []
    for r in range(n_rounds):
        rates = before if r < drift_round else after
        seg = rng.integers(0, n_segments, batch_size)
        fraud = rng.random(batch_size) < rates[seg]
        flagged_segs = np.argsort(-estimate, kind="stable")[:n_flagged]
        flagged = np.isin(seg, flagged_segs)
        propensity = np.where(flagged, 1.0, eps)
        reviewed = rng.random(batch_size) < propensity
        history.append((seg[reviewed], fraud[reviewed].astype(float), propensity[reviewed]))
        history = history[-window:]
        s = np.concatenate([h[0] for h in history])
        y = np.concatenate([h[1] for h in history])
        w = 1.0 / np.concatenate([h[2] for h in history])
        wsum = np.bincount(s, weights=w, minlength=n_segments)
        ysum = np.bincount(s, weights=w * y, minlength=n_segments)
        seen = wsum > 0
        estimate = np.where(seen, ysum / np.where(seen, wsum, 1.0), estimate)
        rows.append({"round": r, "recall": float(reviewed[fraud].mean()) if fraud.any() else math.nan,
                     "review_rate": float(reviewed.mean()), "flagged": tuple(int(i) for i in flagged_segs)})
    return pd.DataFrame(rows)
