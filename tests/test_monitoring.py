"""Tests for mlcourse.monitoring: drift statistics against SciPy and hand computations, online
metrics against scikit-learn, the alert state machine, false-alarm control, performance
estimation, the Prometheus round trip, and the monitor on worlds with known incidents."""

from __future__ import annotations

import math
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from scipy.spatial.distance import jensenshannon  # noqa: E402
from scipy.stats import chi2_contingency, false_discovery_control, ks_2samp  # noqa: E402
from sklearn.metrics import precision_score, recall_score, roc_auc_score  # noqa: E402

from mlcourse import monitoring as mon  # noqa: E402
from mlcourse.world import DriftEvent  # noqa: E402


@pytest.fixture(scope="module")
def drift_stream():
    """A world with a pattern change on day 54 and a benign noise-column shift on day 45."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mon.make_monitoring_stream(
            11, n_days=72, drift=(DriftEvent(54, "card_testing"),),
            shifts=[mon.FeatureShift(45, "noise_1", "add", 0.5)],
        )


# ---------------------------------------------------------------------------
# Drift statistics
# ---------------------------------------------------------------------------


def test_psi_matches_the_formula_by_hand():
    # p = (0.5, 0.5), q = (0.6, 0.4): (0.1 ln 1.2) + (-0.1 ln 0.8)
    expected = 0.1 * math.log(1.2) - 0.1 * math.log(0.8)
    assert mon.psi_from_counts([50, 50], [60, 40]) == pytest.approx(expected, abs=1e-12)
    p, q = np.array([0.2, 0.3, 0.5]), np.array([0.1, 0.4, 0.5])
    assert mon.psi_from_counts(p * 1000, q * 10) == pytest.approx(np.sum((q - p) * np.log(q / p)), abs=1e-12)


def test_psi_empty_bins_use_epsilon_and_identical_is_zero():
    eps = 1e-4
    got = mon.psi_from_counts([100, 0], [50, 50], eps=eps)
    expected = (0.5 - 1.0) * math.log(0.5 / 1.0) + (0.5 - eps) * math.log(0.5 / eps)
    assert got == pytest.approx(expected, rel=1e-12)
    assert math.isfinite(got)
    x = np.random.default_rng(0).normal(size=500)
    assert mon.psi(x, x) == pytest.approx(0.0, abs=1e-12)
    assert mon.psi(pd.Series(list("aabbc")), pd.Series(list("aabbc"))) == pytest.approx(0.0, abs=1e-12)
    assert mon.js_distance(x, x) == pytest.approx(0.0, abs=1e-7)


def test_psi_grows_with_the_shift_and_is_binned_on_the_reference():
    rng = np.random.default_rng(1)
    ref = rng.normal(size=20_000)
    values = [mon.psi(ref, rng.normal(loc=m, size=20_000)) for m in (0.0, 0.2, 0.5, 1.0)]
    assert values[0] < 0.01 < values[1] < values[2] < values[3]
    b = mon.fit_binning(ref, n_bins=10)
    counts = mon.bin_counts(ref, b)
    assert b.n_bins == 11 and counts[-1] == 0  # ten deciles, then the missing bin
    assert np.allclose(counts[:-1], 2000, atol=1)


def test_binning_handles_categories_missing_and_unseen():
    ref = pd.Series(pd.Categorical(["a", "b", None, "a"], categories=["a", "b", "c"]))
    b = mon.fit_binning(ref)
    assert b.kind == "categorical" and b.labels == ["a", "b", "<other>", "<missing>"]
    assert mon.bin_counts(pd.Series(["a", "c", None, "z", "b"]), b).tolist() == [1, 1, 2, 1]
    booleans = mon.fit_binning(np.array([True, False, True]))
    assert booleans.kind == "categorical"
    num = mon.fit_binning(np.array([1.0, 2.0, np.nan, 3.0, 4.0]), n_bins=2)
    assert mon.bin_counts(np.array([0.0, 2.5, 9.0, np.nan]), num).tolist() == [1, 2, 1]


@pytest.mark.parametrize("shift", [0.0, 0.05, 0.3])
def test_ks_matches_scipy(shift):
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=3000), rng.normal(loc=shift, size=2500)
    a[:10] = np.nan  # missing values are dropped
    d, p = mon.ks_test(a, b)
    ref = ks_2samp(a[~np.isnan(a)], b, method="asymp")
    assert d == pytest.approx(ref.statistic, abs=1e-12)
    assert p == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-300)
    ties = rng.integers(0, 5, 400).astype(float), rng.integers(0, 6, 300).astype(float)
    assert mon.ks_test(*ties)[0] == pytest.approx(ks_2samp(*ties).statistic, abs=1e-12)


def test_js_matches_scipy_on_the_same_bins():
    rng = np.random.default_rng(3)
    ref, cur = rng.lognormal(size=4000), rng.lognormal(mean=0.3, size=3000)
    b = mon.fit_binning(ref, n_bins=12)
    p, q = mon.bin_counts(ref, b), mon.bin_counts(cur, b)
    assert mon.js_distance(ref, cur, binning=b) == pytest.approx(jensenshannon(p, q, base=2), abs=1e-10)
    cats_ref, cats_cur = pd.Series(list("aaabbc")), pd.Series(list("abbbcd"))
    bc = mon.fit_binning(cats_ref)
    expected = jensenshannon(mon.bin_counts(cats_ref, bc), mon.bin_counts(cats_cur, bc), base=2)
    assert mon.js_distance(cats_ref, cats_cur) == pytest.approx(expected, abs=1e-10)
    # Disjoint supports: the maximum, 1 in base 2 (an unseen category lands in "<other>").
    assert mon.js_distance(pd.Series(["a"] * 50), pd.Series(["b"] * 30)) == pytest.approx(1.0, abs=1e-12)
    # Quantile bins only see what the reference spans: a constant reference has one bin.
    assert mon.js_distance(np.zeros(50), np.ones(50) * 5) == pytest.approx(0.0, abs=1e-12)


def test_chi2_matches_scipy_and_drift_report_columns():
    r, c = np.array([30, 50, 0, 20]), np.array([40, 35, 0, 25])
    stat, p = mon.chi2_test(r, c)
    ref = chi2_contingency(np.vstack([r[r + c > 0], c[r + c > 0]]), correction=False)
    assert stat == pytest.approx(ref.statistic) and p == pytest.approx(ref.pvalue)
    assert mon.chi2_test([5, 0], [7, 0]) == (0.0, 1.0)
    rng = np.random.default_rng(4)
    ref_f = pd.DataFrame({"x": rng.normal(size=1000), "c": rng.choice(list("abc"), 1000)})
    cur_f = pd.DataFrame({"x": rng.normal(1.0, size=1000), "c": rng.choice(list("abc"), 1000)})
    rep = mon.drift_report(ref_f, cur_f)
    assert rep.loc["x", "test"] == "ks" and rep.loc["c", "test"] == "chi2" and math.isnan(rep.loc["c", "ks"])
    assert rep.loc["x", "psi"] > 0.25 and rep.loc["c", "psi"] < 0.05
    assert rep.loc["x", "p_value"] < 1e-10 and rep.loc["c", "p_value"] > 1e-3


def test_prediction_drift_sees_a_score_shift():
    rng = np.random.default_rng(5)
    ref = rng.beta(1, 40, 20_000)
    same = mon.prediction_drift(ref, rng.beta(1, 40, 5_000), threshold=0.1)
    moved = mon.prediction_drift(ref, rng.beta(1, 20, 5_000), threshold=0.1)
    assert same.psi < 0.01 and same.ks_p_value > 0.001 and same.alert_rate_p_value > 0.001
    assert moved.psi > 0.1 and moved.ks_p_value < 1e-10 and moved.alert_rate_current > moved.alert_rate_reference
    assert moved.mean_current == pytest.approx(1 / 21, rel=0.05)


# ---------------------------------------------------------------------------
# Online metrics with late labels
# ---------------------------------------------------------------------------


def test_windowed_metrics_match_sklearn_on_known_labels(drift_stream):
    f = drift_stream.frame
    f = f[(f["day"] >= 20) & (f["day"] < 48)]
    as_of, thr = 50, 0.1
    got = mon.windowed_metrics(f, threshold=thr, as_of=as_of, window=7)
    assert got["start"].tolist() == [20, 27, 34, 41]
    for _, row in got.iterrows():
        w = f[(f["day"] >= row["start"]) & (f["day"] <= row["end"])]
        known = w[w["label"].notna() & (w["label_day"] <= as_of)]
        y, s = known["label"].to_numpy(int), known["score"].to_numpy()
        assert row["n"] == len(w) and row["n_known"] == len(known)
        assert row["coverage"] == pytest.approx(len(known) / w["label"].notna().sum())
        assert row["precision"] == pytest.approx(precision_score(y, s >= thr, zero_division=np.nan), nan_ok=True)
        assert row["recall"] == pytest.approx(recall_score(y, s >= thr), nan_ok=True)
        assert row["roc_auc"] == pytest.approx(roc_auc_score(y, s))
    # Later windows have fewer labels known by day 50: the label-delay problem.
    assert got["coverage"].iloc[0] > 0.9 > got["coverage"].iloc[-1]


def test_windowed_metrics_respect_label_arrival():
    f = pd.DataFrame({"day": [0, 0, 0, 1, 1], "score": [0.9, 0.8, 0.1, 0.9, 0.2],
                      "label": [1.0, 0.0, 1.0, 1.0, np.nan], "label_day": [30.0, 7.0, 3.0, 9.0, np.nan]})
    early = mon.windowed_metrics(f, threshold=0.5, as_of=7)
    assert early["n_known"].tolist() == [2, 0] and early["precision"].iloc[0] == 0.0
    assert early["recall"].iloc[0] == 0.0 and math.isnan(early["roc_auc"].iloc[0]) is False
    late = mon.windowed_metrics(f, threshold=0.5, as_of=None)
    assert late["precision"].iloc[0] == pytest.approx(0.5) and late["recall"].iloc[0] == pytest.approx(0.5)
    assert late["coverage"].tolist() == [1.0, 1.0]
    rolling = mon.windowed_metrics(f, window=2, step=1)
    assert len(rolling) == 1 and rolling["n"].iloc[0] == 5


# ---------------------------------------------------------------------------
# Performance estimation
# ---------------------------------------------------------------------------


def test_estimated_performance_tracks_realized_on_a_calibrated_stream():
    rng = np.random.default_rng(6)
    for shift in (0.0, 1.0):  # also under covariate shift: P(y | x) unchanged
        p = 1 / (1 + np.exp(-(rng.normal(-3.5 + shift, 1.5, 40_000))))
        y = (rng.random(p.size) < p).astype(int)
        est = mon.estimate_performance(p, threshold=0.3)
        assert est.precision == pytest.approx(precision_score(y, p >= 0.3), abs=0.02)
        assert est.recall == pytest.approx(recall_score(y, p >= 0.3), abs=0.02)
        assert est.roc_auc == pytest.approx(roc_auc_score(y, p), abs=0.01)
        assert est.tp + est.fp + est.fn + est.tn == pytest.approx(p.size)


def test_expected_auc_by_hand_and_the_world_model(drift_stream):
    p = np.array([0.2, 0.8])
    # pairs (i pos, j neg): 0.8*0.8 ranked right, 0.2*0.2 ranked wrong
    assert mon.expected_roc_auc(p) == pytest.approx(0.64 / (0.64 + 0.04))
    f = drift_stream.frame
    before = f[(f["day"] >= 40) & (f["day"] < 54)]
    est = mon.estimate_performance(before["score"].to_numpy(), threshold=0.1)
    y = before["is_fraud"].to_numpy()
    assert est.precision == pytest.approx(precision_score(y, before["score"] >= 0.1), abs=0.08)
    assert est.roc_auc == pytest.approx(roc_auc_score(y, before["score"]), abs=0.05)
    # After the pattern changes the estimate stays put while the truth collapses: concept drift is invisible.
    after = f[f["day"] >= 60]
    est_after = mon.estimate_performance(after["score"].to_numpy(), threshold=0.1)
    realized = precision_score(after["is_fraud"], after["score"] >= 0.1)
    assert est_after.precision - realized > 0.15
    table = mon.estimated_metrics(before, threshold=0.1, window=7)
    assert table["start"].tolist() == [40, 47] and np.all(table["n"] > 5000)


# ---------------------------------------------------------------------------
# Alerts
# ---------------------------------------------------------------------------


def test_hysteresis_state_machine():
    rule = mon.HysteresisRule(enter=0.2, exit=0.1, min_consecutive=2, exit_consecutive=2)
    seq = [0.3, 0.05, 0.3, 0.3, 0.15, 0.05, 0.15, 0.05, 0.05, 0.3]
    assert rule.run(seq).tolist() == [False, False, False, True, True, True, True, True, False, False]
    flappy = [0.19, 0.21] * 5  # oscillates around one level: a plain threshold flaps
    assert mon.HysteresisRule(enter=0.2, exit=0.2).run(flappy).sum() == 5
    assert mon.HysteresisRule(enter=0.2, exit=0.1, min_consecutive=2).run(flappy).sum() == 0
    assert mon.HysteresisRule(enter=0.2, exit=0.1).run([0.3, 0.15, 0.15, 0.15]).all()  # held between levels
    nan_breaks = mon.HysteresisRule(enter=0.5, exit=0.5, min_consecutive=2).run([1, np.nan, 1, 1])
    assert nan_breaks.tolist() == [False, False, False, True]
    below = mon.HysteresisRule(enter=0.5, exit=0.7, direction="below").run([0.8, 0.4, 0.6, 0.8])
    assert below.tolist() == [False, True, True, False]
    assert mon.alert_episodes([0, 1, 1, 0, 1], days=[10, 11, 12, 13, 14]) == [(11, 12), (14, 14)]


def test_multiple_testing_control_keeps_familywise_false_alarms_near_nominal():
    rng = np.random.default_rng(7)
    n_days, n_features, alpha = 400, 20, 0.05
    any_raw = any_bonf = any_bh = 0
    for _ in range(n_days):  # no drift at all: every alarm is false
        p = np.array([ks_2samp(rng.normal(size=200), rng.normal(size=200)).pvalue for _ in range(n_features)])
        any_raw += np.any(p < alpha)
        any_bonf += np.any(mon.bonferroni(p, alpha))
        any_bh += np.any(mon.benjamini_hochberg(p, alpha))
    assert any_raw / n_days > 0.5  # uncorrected: most days page someone
    assert any_bonf / n_days <= 0.08 and any_bh / n_days <= 0.08


def test_bh_and_bonferroni_match_definitions():
    p = np.array([0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216])
    assert mon.bonferroni(p, 0.05).tolist() == (p <= 0.005).tolist()
    assert np.array_equal(mon.benjamini_hochberg(p, 0.05), false_discovery_control(p) <= 0.05)
    rng = np.random.default_rng(8)
    q = rng.random(50) ** 3
    assert np.array_equal(mon.benjamini_hochberg(q, 0.1), false_discovery_control(q) <= 0.1)


def test_calibrated_thresholds_control_the_familywise_rate():
    rng = np.random.default_rng(9)
    scales = np.linspace(0.01, 0.5, 15)
    ref = pd.DataFrame(rng.chisquare(3, (300, 15)) * scales, columns=[f"f{i}" for i in range(15)])
    thr = mon.calibrate_thresholds(ref, alpha=0.05)
    fresh = pd.DataFrame(rng.chisquare(3, (4000, 15)) * scales, columns=ref.columns)
    rate = float(np.mean((fresh > thr).any(axis=1)))
    assert 0.02 <= rate <= 0.09
    assert np.all(np.diff(thr.to_numpy()) > 0)  # noisier features get higher thresholds


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------


def test_prometheus_round_trip():
    from prometheus_client.parser import text_string_to_metric_families

    rep = pd.DataFrame({"psi": [0.03, 0.4], "js": [0.01, 0.2], "ks": [0.02, np.nan], "p_value": [0.5, 1e-9]},
                       index=pd.Index(["amount", "device"], name="feature"))
    reg = mon.build_registry(model_metrics={"precision_7d": 0.42, "label_coverage": 0.3}, feature_drift=rep,
                             alerts={"input_drift": True, "precision_drop": False}, model="fraud-v1")
    text = mon.prometheus_text(reg)
    assert "# TYPE mlcourse_feature_drift gauge" in text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert set(families) == {"mlcourse_model_metric", "mlcourse_feature_drift", "mlcourse_alert_active"}
    parsed = mon.parse_prometheus_text(text)
    assert parsed[("mlcourse_model_metric", (("metric", "precision_7d"), ("model", "fraud-v1")))] == 0.42
    key = ("mlcourse_feature_drift", (("feature", "device"), ("model", "fraud-v1"), ("statistic", "psi")))
    assert parsed[key] == pytest.approx(0.4)
    assert ("mlcourse_feature_drift", (("feature", "device"), ("model", "fraud-v1"), ("statistic", "ks"))) \
        not in parsed  # NaN skipped
    assert parsed[("mlcourse_alert_active", (("model", "fraud-v1"), ("rule", "input_drift")))] == 1.0
    assert len(parsed) == 2 + 7 + 2


# ---------------------------------------------------------------------------
# Monitor and evaluation on worlds with known incidents
# ---------------------------------------------------------------------------


def test_evaluate_alerts_by_hand():
    ev = mon.evaluate_alerts([3, 4, 8, 21, 22, 40], incidents=[20, 35], max_delay=3)
    assert ev.delays == [1.0, 5.0] and ev.detected == [True, False]
    assert ev.false_alarm_days == [3, 4, 8] and ev.false_alarm_episodes == 2
    none = mon.evaluate_alerts([], incidents=[10], max_delay=5)
    assert none.delays == [math.inf] and not none.all_detected


def test_monitor_catches_concept_drift_and_ignores_benign_shift(drift_stream):
    st = drift_stream
    assert st.incidents == (54,) and st.benign == (45,)
    monitor = mon.DriftMonitor().fit(st.reference)
    alerts = monitor(mon.daily_batches(st.frame, start=st.reference_end))
    ev = mon.evaluate_alerts(alerts, st.incidents, max_delay=16)
    assert ev.all_detected and ev.delays[0] >= 7  # labels of the new pattern need a week to settle
    assert len(ev.false_alarm_days) <= 1
    # A naive monitor -- PSI > 0.1 on every logged column, no correction -- pages on the noise column.
    naive = [b.day for b in mon.daily_batches(st.frame, start=st.reference_end)
             if any(mon.psi(st.reference[c], b.scored[c]) > 0.1 for c in ["noise_1", *mon.MODEL_FEATURES])]
    assert len(mon.evaluate_alerts(naive, st.incidents, max_delay=16).false_alarm_days) >= 5
    ax = mon.plot_alert_timeline(monitor.history_.index, {"label z": monitor.history_["label_z"]},
                                 alert_days=alerts, incidents=st.incidents, benign=st.benign, threshold=2.3)
    assert len(ax.lines) >= 3
    plt.close("all")


def test_monitor_catches_a_broken_input_fast():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        st = mon.make_monitoring_stream(12, n_days=62, shifts=[mon.FeatureShift(50, "amount", "scale", 100.0)])
    alerts = mon.DriftMonitor().fit(st.reference)(mon.daily_batches(st.frame, start=40))
    ev = mon.evaluate_alerts(alerts, st.incidents, max_delay=2)
    assert ev.all_detected and ev.false_alarm_days == []


def test_daily_batches_hide_the_future():
    f = pd.DataFrame({"transaction_id": [0, 1, 2], "day": [0, 1, 1], "score": [0.1, 0.2, 0.3], "x": [1, 2, 3],
                      "label": [1.0, np.nan, 0.0], "label_day": [2.0, np.nan, 8.0], "is_fraud": [1, 0, 0]})
    batches = list(mon.daily_batches(f, end=8))
    assert [b.day for b in batches] == list(range(9))
    assert "label" not in batches[1].scored.columns and "is_fraud" not in batches[1].scored.columns
    assert batches[2].labels["transaction_id"].tolist() == [0] and batches[8].labels["transaction_id"].tolist() == [2]
    assert len(batches[3].scored) == 0 and len(batches[3].labels) == 0


# ---------------------------------------------------------------------------
# Input validation
# ---------------------------------------------------------------------------


def test_input_validation():
    with pytest.raises(ValueError, match="same bins"):
        mon.psi_from_counts([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="at least one observation"):
        mon.psi_from_counts([0, 0], [1, 1])
    with pytest.raises(ValueError, match="eps must be a number in"):
        mon.psi_from_counts([1, 1], [1, 1], eps=0)
    with pytest.raises(ValueError, match="n_bins must be an integer >= 2"):
        mon.fit_binning([1.0, 2.0], n_bins=1)
    with pytest.raises(ValueError, match="no non-missing values"):
        mon.fit_binning([np.nan, np.nan])
    with pytest.raises(ValueError, match="at least one non-missing value"):
        mon.ks_test([np.nan], [1.0])
    with pytest.raises(ValueError, match="exit must be <= enter"):
        mon.HysteresisRule(enter=0.1, exit=0.2)
    with pytest.raises(ValueError, match="direction must be"):
        mon.HysteresisRule(enter=0.1, exit=0.1, direction="up")
    with pytest.raises(ValueError, match="pvalues must be"):
        mon.bonferroni([0.1, 1.5])
    with pytest.raises(ValueError, match="probabilities in"):
        mon.estimate_performance([0.2, 1.2])
    with pytest.raises(ValueError, match="missing column"):
        mon.windowed_metrics(pd.DataFrame({"day": [0]}))
    with pytest.raises(ValueError, match="window=5 is longer"):
        mon.windowed_metrics(pd.DataFrame({"day": [0, 1], "score": [0.1, 0.2], "label": [1.0, 0.0],
                                           "label_day": [3.0, 4.0]}), window=5)
    with pytest.raises(ValueError, match="not fitted"):
        mon.DriftMonitor()([])
    with pytest.raises(ValueError, match="FeatureShift.kind"):
        mon.FeatureShift(50, "amount", "double", 2)
    with pytest.raises(ValueError, match="reference_stats must be"):
        mon.calibrate_thresholds(pd.DataFrame({"a": [0.1]}))
    with pytest.raises(ValueError, match="drift events must come after"):
        mon.make_monitoring_stream(0, n_days=60, drift=(DriftEvent(10, "card_testing"),))
    with pytest.raises(ValueError, match="namespace must be"):
        mon.build_registry(namespace="bad name")
