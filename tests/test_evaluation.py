"""Tests for mlcourse.evaluation: every metric is cross-checked against scikit-learn."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import scipy.stats  # noqa: E402
from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from sklearn import metrics as skm  # noqa: E402
from sklearn.exceptions import UndefinedMetricWarning  # noqa: E402

from mlcourse import evaluation as ev  # noqa: E402

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _sk(func, *args, **kwargs):
    """Call a scikit-learn metric with its warnings about degenerate inputs silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.simplefilter("ignore", UserWarning)
        return func(*args, **kwargs)


def _random_binary(n: int, seed: int, *, prevalence: float = 0.3, n_distinct: int | None = None):
    """Labels 0/1 and informative scores; ``n_distinct`` rounds scores to force ties."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < prevalence).astype(int)
    scores = rng.normal(size=n) + 1.2 * y
    if n_distinct is not None:
        scores = np.round(scores * n_distinct / 4) / (n_distinct / 4)
    return y, scores


# ---------------------------------------------------------------------------
# Hypothesis strategies
# ---------------------------------------------------------------------------

# Small integer scores produce many ties; floats exercise the general case.
score_values = st.one_of(
    st.integers(-3, 3).map(float),
    st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
)
labelled_scores = st.lists(st.tuples(st.integers(0, 1), score_values), min_size=1, max_size=60)
multiclass_pairs = st.lists(
    st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=1, max_size=60
)


def _unzip(pairs):
    a, b = zip(*pairs, strict=True)
    return np.asarray(a), np.asarray(b)


# ---------------------------------------------------------------------------
# Confusion counts, accuracy
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_binary_counts_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 2, 50)
    y_pred = rng.integers(0, 2, 50)
    tn, fp, fn, tp = skm.confusion_matrix(y_true, y_pred, labels=[0, 1]).ravel()
    assert ev.binary_counts(y_true, y_pred) == (tn, fp, fn, tp)
    # Swapping the positive label swaps the roles of the cells.
    assert ev.binary_counts(y_true, y_pred, pos_label=0) == (tp, fn, fp, tn)


def test_binary_counts_string_labels():
    y_true = np.array(["fraud", "ok", "ok", "fraud", "ok"])
    y_pred = np.array(["fraud", "fraud", "ok", "ok", "ok"])
    counts = ev.binary_counts(y_true, y_pred, pos_label="fraud")
    assert counts == ev.ConfusionCounts(tn=2, fp=1, fn=1, tp=1)
    assert counts.tp == 1 and sum(counts) == len(y_true)


@pytest.mark.parametrize("seed", range(4))
def test_confusion_matrix_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 4, 80)
    y_pred = rng.integers(1, 5, 80)  # label 4 only predicted, 0 only true
    np.testing.assert_array_equal(
        ev.confusion_matrix(y_true, y_pred), skm.confusion_matrix(y_true, y_pred)
    )
    # Custom order with a subset of labels: others are ignored.
    labels = [3, 0, 2]
    np.testing.assert_array_equal(
        ev.confusion_matrix(y_true, y_pred, labels=labels),
        skm.confusion_matrix(y_true, y_pred, labels=labels),
    )


def test_confusion_matrix_strings_and_shape():
    y_true = ["cat", "dog", "bird", "dog", "cat"]
    y_pred = ["dog", "dog", "bird", "cat", "cat"]
    cm = ev.confusion_matrix(y_true, y_pred)
    assert cm.shape == (3, 3)
    assert cm.sum() == len(y_true)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(y_true, y_pred))


def test_confusion_matrix_rejects_duplicate_labels():
    with pytest.raises(ValueError, match="labels must be unique"):
        ev.confusion_matrix([0, 1], [1, 0], labels=[0, 1, 1])


@given(multiclass_pairs)
@FAST
def test_accuracy_matches_sklearn(pairs):
    y_true, y_pred = _unzip(pairs)
    assert ev.accuracy(y_true, y_pred) == pytest.approx(skm.accuracy_score(y_true, y_pred))


# ---------------------------------------------------------------------------
# Precision / recall / F
# ---------------------------------------------------------------------------


@given(
    multiclass_pairs,
    st.sampled_from(["micro", "macro", "weighted", None]),
    st.sampled_from([0.0, 1.0, np.nan]),
    st.sampled_from([0.5, 1.0, 2.0]),
)
@FAST
def test_prf_multiclass_matches_sklearn(pairs, average, zero_division, beta):
    y_true, y_pred = _unzip(pairs)
    ours = ev.precision_recall_fscore(
        y_true, y_pred, beta=beta, average=average, zero_division=zero_division
    )
    theirs = _sk(
        skm.precision_recall_fscore_support,
        y_true,
        y_pred,
        beta=beta,
        average=average,
        zero_division=zero_division,
    )[:3]
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True)


@given(
    st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1)), min_size=1, max_size=60),
    st.sampled_from([0, 1]),
    st.sampled_from([0.0, 1.0, np.nan]),
)
@FAST
def test_prf_binary_matches_sklearn(pairs, pos_label, zero_division):
    y_true, y_pred = _unzip(pairs)
    ours = ev.precision_recall_fscore(
        y_true, y_pred, pos_label=pos_label, zero_division=zero_division
    )
    theirs = _sk(
        skm.precision_recall_fscore_support,
        y_true,
        y_pred,
        average="binary",
        pos_label=pos_label,
        zero_division=zero_division,
    )[:3]
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("average", ["binary", "micro", "macro", "weighted"])
def test_wrappers_match_sklearn(average):
    rng = np.random.default_rng(7)
    n_classes = 2 if average == "binary" else 3
    y_true = rng.integers(0, n_classes, 200)
    y_pred = np.where(rng.random(200) < 0.6, y_true, rng.integers(0, n_classes, 200))
    kw = {"average": average}
    assert ev.precision(y_true, y_pred, **kw) == pytest.approx(
        skm.precision_score(y_true, y_pred, **kw)
    )
    assert ev.recall(y_true, y_pred, **kw) == pytest.approx(skm.recall_score(y_true, y_pred, **kw))
    assert ev.f1(y_true, y_pred, **kw) == pytest.approx(skm.f1_score(y_true, y_pred, **kw))
    assert ev.fbeta(y_true, y_pred, 2.0, **kw) == pytest.approx(
        skm.fbeta_score(y_true, y_pred, beta=2.0, **kw)
    )


def test_per_class_arrays_use_sorted_labels():
    y_true = ["b", "a", "c", "c", "a"]
    y_pred = ["b", "c", "c", "a", "a"]
    p, r, f = ev.precision_recall_fscore(y_true, y_pred, average=None)
    assert p.shape == r.shape == f.shape == (3,)
    sk_p, sk_r, sk_f, _ = skm.precision_recall_fscore_support(y_true, y_pred, average=None)
    np.testing.assert_allclose(p, sk_p)
    np.testing.assert_allclose(r, sk_r)
    np.testing.assert_allclose(f, sk_f)


@pytest.mark.parametrize("zero_division", [0.0, 1.0, np.nan])
@pytest.mark.parametrize(
    "y_true, y_pred",
    [
        ([0, 0, 0, 0], [0, 1, 0, 1]),  # no positives in y_true
        ([0, 1, 1, 0], [0, 0, 0, 0]),  # no predicted positives
        ([0, 0, 0, 0], [0, 0, 0, 0]),  # neither: everything undefined
        ([1, 0, 1, 0], [1, 1, 1, 1]),  # constant positive predictions
    ],
)
def test_prf_degenerate_binary_inputs(y_true, y_pred, zero_division):
    ours = ev.precision_recall_fscore(y_true, y_pred, zero_division=zero_division)
    theirs = _sk(
        skm.precision_recall_fscore_support,
        y_true,
        y_pred,
        average="binary",
        zero_division=zero_division,
    )[:3]
    np.testing.assert_allclose(ours, theirs, equal_nan=True)


def test_zero_division_value_is_used():
    # No predicted positives: precision is 0/0.
    assert ev.precision([0, 1], [0, 0], zero_division=1.0) == 1.0
    assert ev.precision([0, 1], [0, 0], zero_division=0.0) == 0.0
    assert np.isnan(ev.precision([0, 1], [0, 0], zero_division=np.nan))


# ---------------------------------------------------------------------------
# Input validation
# ---------------------------------------------------------------------------


def test_length_mismatch_message():
    message = "y_true and y_pred must have the same length, got 10 and 9"
    with pytest.raises(ValueError, match=message):
        ev.accuracy(np.zeros(10), np.zeros(9))


def test_validation_errors():
    with pytest.raises(ValueError, match="expected binary labels.*3 distinct labels"):
        ev.f1([0, 1, 2], [0, 1, 1])
    with pytest.raises(ValueError, match="pos_label=1 is not one of the labels"):
        ev.precision(["a", "b"], ["a", "a"])
    with pytest.raises(ValueError, match="y_true is empty"):
        ev.accuracy([], [])
    with pytest.raises(ValueError, match="y_pred contains NaN"):
        ev.accuracy([0.0, 1.0], [0.0, np.nan])
    with pytest.raises(ValueError, match="beta must be a positive"):
        ev.fbeta([0, 1], [0, 1], beta=0.0)
    with pytest.raises(ValueError, match="beta must be a positive"):
        ev.fbeta([0, 1], [0, 1], beta=-1.0)
    with pytest.raises(ValueError, match="average must be one of"):
        ev.f1([0, 1], [0, 1], average="samples")
    with pytest.raises(ValueError, match="zero_division must be"):
        ev.f1([0, 1], [0, 1], zero_division=2.0)
    with pytest.raises(ValueError, match="same kind"):
        ev.accuracy([0, 1], ["0", "1"])
    with pytest.raises(ValueError, match="1-dimensional"):
        ev.accuracy(np.zeros((2, 2)), np.zeros((2, 2)))


def test_score_validation_errors():
    with pytest.raises(ValueError, match="scores contains 1 NaN"):
        ev.roc_auc([0, 1, 1], [0.1, np.nan, 0.3])
    with pytest.raises(ValueError, match="only the binary labels 0 and 1"):
        ev.average_precision([0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="y_true and scores must have the same length, got 3 and"):
        ev.roc_auc([0, 1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="scores must be numeric"):
        ev.roc_auc([0, 1], ["high", "low"])


# ---------------------------------------------------------------------------
# Ranking metrics
# ---------------------------------------------------------------------------


@given(labelled_scores)
@FAST
def test_roc_auc_matches_sklearn(pairs):
    y, s = _unzip(pairs)
    assume(0 < y.sum() < y.size)
    assert abs(ev.roc_auc(y, s) - skm.roc_auc_score(y, s)) < 1e-9


@given(labelled_scores)
@FAST
def test_roc_auc_is_symmetric_under_score_negation(pairs):
    y, s = _unzip(pairs)
    assume(0 < y.sum() < y.size)
    assert ev.roc_auc(y, s) + ev.roc_auc(y, -s) == pytest.approx(1.0, abs=1e-12)


@given(labelled_scores)
@FAST
def test_average_precision_matches_sklearn(pairs):
    y, s = _unzip(pairs)
    assert abs(ev.average_precision(y, s) - _sk(skm.average_precision_score, y, s)) < 1e-9


@given(labelled_scores)
@FAST
def test_curves_match_sklearn(pairs):
    y, s = _unzip(pairs)
    ours_pr = ev.precision_recall_curve(y, s)
    theirs_pr = _sk(skm.precision_recall_curve, y, s)
    for a, b in zip(ours_pr, theirs_pr, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    assume(0 < y.sum() < y.size)
    ours_roc = ev.roc_curve(y, s)
    theirs_roc = skm.roc_curve(y, s, drop_intermediate=False)
    for a, b in zip(ours_roc, theirs_roc, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_roc_auc_equals_trapezoid_area_of_roc_curve():
    y, s = _random_binary(500, seed=3, n_distinct=12)
    fpr, tpr, _ = ev.roc_curve(y, s)
    assert ev.roc_auc(y, s) == pytest.approx(np.trapezoid(tpr, fpr), abs=1e-12)


def test_constant_scores_are_all_ties():
    y = np.array([0, 1, 0, 0, 1, 0, 0, 0])
    s = np.full(y.size, 0.7)
    assert ev.roc_auc(y, s) == pytest.approx(skm.roc_auc_score(y, s))
    assert ev.roc_auc(y, s) == pytest.approx(0.5)
    # With one threshold, AP is the precision of flagging everything: the prevalence.
    assert ev.average_precision(y, s) == pytest.approx(skm.average_precision_score(y, s))
    assert ev.average_precision(y, s) == pytest.approx(y.mean())


@pytest.mark.parametrize("label", [0, 1])
def test_single_class_roc_raises_like_sklearn(label):
    y = np.full(6, label)
    s = np.linspace(0, 1, 6)
    with pytest.raises(ValueError, match="only one class"):
        ev.roc_auc(y, s)
    with pytest.raises(ValueError, match="only one class"):
        ev.roc_curve(y, s)
    # scikit-learn agrees the value is undefined: older versions raise, 1.9 warns
    # and returns NaN. We raise so that a NaN cannot slip silently into a report.
    try:
        sk_value = _sk(skm.roc_auc_score, y, s)
    except ValueError:
        sk_value = np.nan
    assert np.isnan(sk_value)


def test_average_precision_no_positives_matches_sklearn():
    y = np.zeros(5, dtype=int)
    s = np.array([0.1, 0.4, 0.4, 0.8, 0.9])
    sk_value = _sk(skm.average_precision_score, y, s)
    assert ev.average_precision(y, s) == sk_value == 0.0
    precision, recall, _ = ev.precision_recall_curve(y, s)
    np.testing.assert_array_equal(recall[:-1], 1.0)  # sklearn's convention


def test_perfect_and_reversed_scores():
    y = np.array([0, 0, 1, 1, 1])
    s = np.array([0.1, 0.2, 0.7, 0.8, 0.9])
    assert ev.roc_auc(y, s) == 1.0
    assert ev.roc_auc(y, -s) == 0.0
    assert ev.average_precision(y, s) == 1.0


# ---------------------------------------------------------------------------
# Regression metrics
# ---------------------------------------------------------------------------


@given(
    st.lists(
        st.tuples(st.floats(-1e3, 1e3), st.floats(-1e3, 1e3)), min_size=1, max_size=50
    )
)
@FAST
def test_regression_metrics_match_sklearn(pairs):
    y_true, y_pred = (np.asarray(v, dtype=float) for v in zip(*pairs, strict=True))
    assert ev.mean_squared_error(y_true, y_pred) == pytest.approx(
        skm.mean_squared_error(y_true, y_pred), rel=1e-9, abs=1e-9
    )
    assert ev.mean_absolute_error(y_true, y_pred) == pytest.approx(
        skm.mean_absolute_error(y_true, y_pred), rel=1e-9, abs=1e-9
    )
    if y_true.size >= 2:
        assert ev.r2_score(y_true, y_pred) == pytest.approx(
            skm.r2_score(y_true, y_pred), rel=1e-9, abs=1e-9
        )


def test_r2_constant_target_follows_sklearn():
    y = np.array([3.0, 3.0, 3.0])
    assert ev.r2_score(y, y) == skm.r2_score(y, y) == 1.0
    assert ev.r2_score(y, [3.0, 4.0, 3.0]) == skm.r2_score(y, [3.0, 4.0, 3.0]) == 0.0


def test_regression_validation():
    with pytest.raises(ValueError, match="y_pred contains 1 NaN"):
        ev.mean_squared_error([1.0, 2.0], [1.0, np.nan])
    with pytest.raises(ValueError, match="same length, got 2 and 3"):
        ev.r2_score([1.0, 2.0], [1.0, 2.0, 3.0])


# ---------------------------------------------------------------------------
# Thresholds (checked by brute force over every distinct score)
# ---------------------------------------------------------------------------

_SK_THRESHOLD_METRICS = {
    "f1": lambda y, p: skm.f1_score(y, p, zero_division=0.0),
    "precision": lambda y, p: skm.precision_score(y, p, zero_division=0.0),
    "recall": lambda y, p: skm.recall_score(y, p, zero_division=0.0),
    "accuracy": skm.accuracy_score,
}


def _brute_force_choice(y, s, metric, min_precision=None, min_recall=None):
    best_t, best_v = None, -np.inf
    for t in np.unique(s):  # increasing, so ">=" keeps the largest tied threshold
        pred = (s >= t).astype(int)
        prec = skm.precision_score(y, pred, zero_division=0.0)
        rec = skm.recall_score(y, pred, zero_division=0.0)
        if (min_precision is not None and prec < min_precision) or (
            min_recall is not None and rec < min_recall
        ):
            continue
        value = metric(y, pred)
        if value >= best_v - 1e-12:
            best_t, best_v = t, max(value, best_v)
    return best_t, best_v


@pytest.mark.parametrize("metric", ["f1", "precision", "recall", "accuracy"])
@pytest.mark.parametrize("seed", [0, 1])
def test_choose_threshold_brute_force(metric, seed):
    y, s = _random_binary(120, seed, n_distinct=15)
    choice = ev.choose_threshold(y, s, metric)
    t, v = _brute_force_choice(y, s, _SK_THRESHOLD_METRICS[metric])
    assert choice.value == pytest.approx(v, abs=1e-12)
    assert choice.threshold == t


@pytest.mark.parametrize("seed", [2, 3])
def test_choose_threshold_with_constraints_brute_force(seed):
    y, s = _random_binary(150, seed)
    choice = ev.choose_threshold(y, s, "recall", min_precision=0.6)
    t, v = _brute_force_choice(y, s, _SK_THRESHOLD_METRICS["recall"], min_precision=0.6)
    assert (choice.threshold, choice.value) == pytest.approx((t, v))
    assert skm.precision_score(y, (s >= choice.threshold).astype(int)) >= 0.6

    choice = ev.choose_threshold(y, s, "precision", min_recall=0.8)
    t, v = _brute_force_choice(y, s, _SK_THRESHOLD_METRICS["precision"], min_recall=0.8)
    assert (choice.threshold, choice.value) == pytest.approx((t, v))


def test_choose_threshold_callable_metric():
    y, s = _random_binary(100, seed=4, n_distinct=10)
    choice = ev.choose_threshold(y, s, skm.balanced_accuracy_score)
    t, v = _brute_force_choice(y, s, skm.balanced_accuracy_score)
    assert (choice.threshold, choice.value) == pytest.approx((t, v))


def test_choose_threshold_prefers_largest_tied_threshold():
    # Thresholds 0.9 and 0.8 both give precision 1.0; 0.9 flags fewer cases.
    y = [1, 1, 0, 0]
    s = [0.9, 0.8, 0.3, 0.1]
    assert ev.choose_threshold(y, s, "precision") == ev.ThresholdChoice(0.9, 1.0)


def test_choose_threshold_errors():
    y, s = [0, 1, 0, 1], [0.2, 0.4, 0.6, 0.8]
    with pytest.raises(ValueError, match="no threshold satisfies"):
        ev.choose_threshold(y, s, min_precision=1.0, min_recall=1.0)
    with pytest.raises(ValueError, match="metric must be one of"):
        ev.choose_threshold(y, s, "auc")
    with pytest.raises(ValueError, match=r"min_recall must be a number in \[0, 1\]"):
        ev.choose_threshold(y, s, min_recall=1.5)


@pytest.mark.parametrize("seed", [0, 5])
def test_threshold_for_recall_brute_force(seed):
    y, s = _random_binary(90, seed, n_distinct=20)
    distinct = np.unique(s)
    for target in np.linspace(0.05, 1.0, 20):
        t = ev.threshold_for_recall(y, s, target)
        ok = [u for u in distinct if skm.recall_score(y, (s >= u).astype(int)) >= target]
        assert t == max(ok)


def test_threshold_for_recall_errors():
    with pytest.raises(ValueError, match="target_recall must be in"):
        ev.threshold_for_recall([0, 1], [0.1, 0.9], 0.0)
    with pytest.raises(ValueError, match="no positive examples"):
        ev.threshold_for_recall([0, 0], [0.1, 0.9], 0.5)


@pytest.mark.parametrize("seed", range(3))
def test_expected_cost_and_optimal_threshold_brute_force(seed):
    y, s = _random_binary(200, seed, prevalence=0.1, n_distinct=25)
    cost_fp, cost_fn = 1.0, 12.0
    costs = {}
    for t in np.unique(s):
        pred = (s >= t).astype(int)
        tn, fp, fn, tp = skm.confusion_matrix(y, pred, labels=[0, 1]).ravel()
        costs[t] = (cost_fp * fp + cost_fn * fn) / y.size
        ours = ev.expected_cost(y, s, t, cost_fp=cost_fp, cost_fn=cost_fn)
        assert ours == pytest.approx(costs[t])
    lowest = min(costs.values())
    expected = max(t for t, c in costs.items() if c <= lowest + 1e-12)
    assert ev.cost_optimal_threshold(y, s, cost_fp=cost_fp, cost_fn=cost_fn) == expected


def test_cost_validation():
    with pytest.raises(ValueError, match="cost_fp must be a finite number >= 0"):
        ev.expected_cost([0, 1], [0.1, 0.9], 0.5, cost_fp=-1.0, cost_fn=1.0)
    with pytest.raises(ValueError, match="cost_fn must be a finite number >= 0"):
        ev.cost_optimal_threshold([0, 1], [0.1, 0.9], cost_fp=1.0, cost_fn=np.inf)


# ---------------------------------------------------------------------------
# Bootstrap
# ---------------------------------------------------------------------------


def _noisy_predictions(n, seed, accuracy=0.8):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    flip = rng.random(n) > accuracy
    return y, np.where(flip, 1 - y, y)


def test_bootstrap_is_deterministic_given_seed():
    y, p = _noisy_predictions(200, 0)
    a = ev.bootstrap_ci(ev.accuracy, y, p, n_resamples=300, seed=11)
    b = ev.bootstrap_ci(ev.accuracy, y, p, n_resamples=300, seed=11)
    c = ev.bootstrap_ci(ev.accuracy, y, p, n_resamples=300, seed=12)
    np.testing.assert_array_equal(a.samples, b.samples)
    assert (a.low, a.high) == (b.low, b.high)
    assert not np.array_equal(a.samples, c.samples)


def test_bootstrap_interval_contains_estimate_and_narrows():
    y, p = _noisy_predictions(100, 1)
    small = ev.bootstrap_ci(ev.f1, y, p, n_resamples=500)
    assert small.estimate == pytest.approx(skm.f1_score(y, p))
    assert small.low <= small.estimate <= small.high
    assert small.samples.shape == (500,)
    y, p = _noisy_predictions(2000, 1)
    large = ev.bootstrap_ci(ev.f1, y, p, n_resamples=500)
    assert large.low <= large.estimate <= large.high
    assert large.high - large.low < 0.5 * (small.high - small.low)


def test_bootstrap_agrees_with_scipy():
    # A continuous metric on paired data, so the quantiles are not stuck on a grid.
    rng = np.random.default_rng(2)
    y = rng.normal(size=300)
    p = y + rng.standard_t(df=3, size=300)
    ours = ev.bootstrap_ci(ev.mean_absolute_error, y, p, n_resamples=3000, confidence=0.9, seed=3)
    theirs = scipy.stats.bootstrap(
        (y, p),
        ev.mean_absolute_error,
        paired=True,
        vectorized=False,
        method="percentile",
        n_resamples=3000,
        confidence_level=0.9,
        rng=np.random.default_rng(4),
    ).confidence_interval
    # Two independent Monte Carlo runs: allow a fifth of a bootstrap standard error.
    tol = 0.2 * ours.samples.std()
    assert ours.low == pytest.approx(theirs.low, abs=tol)
    assert ours.high == pytest.approx(theirs.high, abs=tol)
    inside = np.mean((ours.samples >= ours.low) & (ours.samples <= ours.high))
    assert inside == pytest.approx(0.9, abs=0.01)


def test_bootstrap_drops_undefined_resamples():
    # Two positives in 20: about 12% of resamples have none and AUC is undefined.
    y, s = _random_binary(20, seed=0, prevalence=0.0)
    y[[3, 11]] = 1
    result = ev.bootstrap_ci(ev.roc_auc, y, s, n_resamples=400, seed=0)
    assert 200 <= result.samples.size < 400
    assert np.isfinite(result.samples).all()


def test_bootstrap_raises_when_metric_mostly_undefined():
    calls = {"n": 0}

    def defined_only_on_full_data(y_true, y_pred):
        calls["n"] += 1
        if calls["n"] > 1:
            raise ValueError("undefined")
        return 1.0

    with pytest.raises(ValueError, match="more than half"):
        ev.bootstrap_ci(defined_only_on_full_data, [0, 1, 0], [0, 1, 1], n_resamples=50)


def test_bootstrap_validation():
    with pytest.raises(ValueError, match=r"confidence must be a number in \(0, 1\)"):
        ev.bootstrap_ci(ev.accuracy, [0, 1], [0, 1], confidence=1.0)
    with pytest.raises(ValueError, match="n_resamples must be an integer >= 1"):
        ev.bootstrap_ci(ev.accuracy, [0, 1], [0, 1], n_resamples=0)
    with pytest.raises(ValueError, match="same length, got 2 and 3"):
        ev.bootstrap_ci(ev.accuracy, [0, 1], [0, 1, 1])


# ---------------------------------------------------------------------------
# Slices
# ---------------------------------------------------------------------------


def test_slice_metrics_match_per_group_sklearn():
    rng = np.random.default_rng(0)
    n = 600
    groups = rng.choice(["north", "south", "east", "west"], size=n)
    y = (rng.random(n) < 0.3).astype(int)
    y[groups == "east"] = 0  # a slice without positives: recall undefined
    s = rng.normal(size=n) + y * np.where(groups == "south", 0.2, 1.5)
    p = (s > 0.8).astype(int)

    table = ev.slice_metrics(y, p, groups, scores=s, min_support=40)
    assert table.index.name == "slice"
    assert list(table.columns) == [
        "n", "positives", "accuracy", "precision", "recall", "f1", "roc_auc", "enough_support",
    ]
    assert sorted(table.index) == ["east", "north", "south", "west"]
    for name, row in table.iterrows():
        m = groups == name
        yt, yp = y[m], p[m]
        assert row["n"] == m.sum() and row["positives"] == yt.sum()
        assert row["accuracy"] == pytest.approx(skm.accuracy_score(yt, yp))
        for col, func in [
            ("precision", skm.precision_score),
            ("recall", skm.recall_score),
            ("f1", skm.f1_score),
        ]:
            expected = _sk(func, yt, yp, zero_division=np.nan)
            np.testing.assert_allclose(row[col], expected, equal_nan=True)
        if 0 < yt.sum() < yt.size:
            assert row["roc_auc"] == pytest.approx(skm.roc_auc_score(yt, s[m]), abs=1e-9)
        else:
            assert np.isnan(row["roc_auc"])
        assert row["enough_support"] == (yt.sum() >= 40)

    # Worst recall first; the undefined slice goes last rather than first.
    recalls = table["recall"].to_numpy()
    assert np.all(np.diff(recalls[:-1]) >= 0)
    assert table.index[0] == "south" and table.index[-1] == "east"


def test_slice_metrics_accepts_categorical_series_and_omits_auc_without_scores():
    y = np.array([1, 0, 1, 1, 0, 0, 0, 0])
    p = np.array([1, 0, 0, 1, 1, 0, 0, 0])
    slices = pd.Series(
        pd.Categorical(
            ["x", "x", "y", "y", "y", "x", "a", "a"], categories=["a", "x", "y", "unused"]
        ),
        index=[10, 11, 12, 13, 14, 15, 16, 17],
    )
    table = ev.slice_metrics(y, p, slices, min_support=2)
    assert "roc_auc" not in table.columns
    assert list(table.index) == ["y", "x", "a"]
    assert table.loc["y", "recall"] == pytest.approx(0.5)
    assert table.loc["x", "recall"] == pytest.approx(1.0)
    # Slice "a" has no positives and no alerts: every ratio is 0/0, i.e. NaN.
    assert table.loc["a", ["precision", "recall", "f1"]].isna().all()
    assert table.loc["a", "accuracy"] == 1.0
    assert table["enough_support"].tolist() == [True, False, False]
    with pytest.raises(ValueError, match="y_true and slices must have the same length"):
        ev.slice_metrics(y, p, ["x"] * 5)


# ---------------------------------------------------------------------------
# Plots
# ---------------------------------------------------------------------------


@pytest.fixture
def close_figures():
    yield
    plt.close("all")


def test_plot_roc_and_precision_recall(close_figures):
    y, s = _random_binary(200, seed=1)
    ax = ev.plot_roc(y, s)
    assert isinstance(ax, matplotlib.axes.Axes)
    assert len(ax.lines) == 2
    np.testing.assert_allclose(ax.lines[0].get_xdata(), ev.roc_curve(y, s)[0])

    _, given_ax = plt.subplots()
    assert ev.plot_precision_recall(y, s, ax=given_ax) is given_ax
    assert len(given_ax.lines) == 2
    np.testing.assert_allclose(given_ax.lines[1].get_ydata(), y.mean())


def test_plot_confusion_matrix(close_figures):
    cm = ev.confusion_matrix([0, 1, 2, 2, 1], [0, 2, 2, 2, 1])
    ax = ev.plot_confusion_matrix(cm, labels=["a", "b", "c"])
    assert len(ax.images) == 1
    assert len(ax.texts) == 9
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="square"):
        ev.plot_confusion_matrix(np.zeros((2, 3)))


def test_plot_cost_curve(close_figures):
    y, s = _random_binary(150, seed=2, prevalence=0.1)
    ax = ev.plot_cost_curve(y, s, cost_fp=1.0, cost_fn=5.0)
    assert len(ax.lines) == 2
    best = ev.cost_optimal_threshold(y, s, cost_fp=1.0, cost_fn=5.0)
    assert ax.lines[1].get_xdata()[0] == pytest.approx(best)
