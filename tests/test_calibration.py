"""Tests for mlcourse.calibration: every hand-written method is cross-checked against
scikit-learn, SciPy or PyTorch, and every guarantee is checked on data."""

from __future__ import annotations

import math
import pickle
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from scipy.optimize import minimize_scalar  # noqa: E402
from scipy.special import log_softmax  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.calibration import CalibratedClassifierCV, calibration_curve  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.frozen import FrozenEstimator  # noqa: E402
from sklearn.isotonic import IsotonicRegression  # noqa: E402
from sklearn.isotonic import isotonic_regression as sk_isotonic_regression  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import brier_score_loss, log_loss  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from mlcourse import calibration as cal  # noqa: E402

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ---------------------------------------------------------------------------
# Data helpers
# ---------------------------------------------------------------------------


def _binary(n: int, seed: int, *, stretch: float = 1.0, shift: float = 0.0):
    """Labels drawn from known probabilities; the forecast distorts them on the logit scale.

    ``stretch=1, shift=0`` gives a perfectly calibrated forecast; ``stretch > 1``
    an over-confident one.
    """
    rng = np.random.default_rng(seed)
    z = rng.normal(-0.5, 1.5, n)
    p_true = 1.0 / (1.0 + np.exp(-z))
    y = (rng.random(n) < p_true).astype(int)
    forecast = 1.0 / (1.0 + np.exp(-(stretch * z + shift)))
    return y, forecast, p_true


def _multiclass(n: int, k: int, seed: int, *, sharpen: float = 1.0):
    """Labels drawn from softmax(z); the model's logits are ``sharpen * z`` (over-confident when > 1)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, 1.5, size=(n, k))
    p_true = cal.softmax(z)
    y = (p_true.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1)
    return y, sharpen * z, p_true


@pytest.fixture(scope="module")
def overconfident_net():
    """An MLP trained long on few noisy digits: accurate-ish and heavily over-confident."""
    data = cal.load_digits_split(seed=0, n_train=500, n_val=500, noise=1.0)
    model = cal.train_mlp(data.X_train, data.y_train, epochs=200, seed=0)
    return data, model, cal.predict_logits(model, data.X_val), cal.predict_logits(model, data.X_test)


# ---------------------------------------------------------------------------
# Reliability bins, ECE, MCE
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
@pytest.mark.parametrize("seed", range(4))
def test_reliability_bins_match_sklearn_calibration_curve(strategy, seed):
    y, p, _ = _binary(2_000, seed, stretch=2.0)
    n_bins = [5, 10, 15, 20][seed]
    bins = cal.reliability_bins(y, p, n_bins=n_bins, strategy=strategy)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=n_bins, strategy=strategy)
    keep = bins.count > 0
    np.testing.assert_allclose(bins.accuracy[keep], prob_true, atol=1e-12)
    np.testing.assert_allclose(bins.mean_confidence[keep], prob_pred, atol=1e-12)
    assert bins.count.sum() == len(y)
    assert bins.edges.shape == (n_bins + 1,)
    assert np.isnan(bins.accuracy[~keep]).all()


def test_reliability_bins_on_edges_and_ties_match_sklearn():
    # Values exactly on bin edges, and heavy ties (quantile edges repeat).
    p = np.r_[np.zeros(5), np.full(20, 0.1), np.full(7, 0.5), np.linspace(0, 1, 11), np.ones(4)]
    y = (np.arange(p.size) % 3 == 0).astype(int)
    for strategy in ("uniform", "quantile"):
        bins = cal.reliability_bins(y, p, n_bins=10, strategy=strategy)
        prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy=strategy)
        keep = bins.count > 0
        np.testing.assert_allclose(bins.accuracy[keep], prob_true)
        np.testing.assert_allclose(bins.mean_confidence[keep], prob_pred)


def test_multiclass_reliability_uses_the_top_label():
    y, z, _ = _multiclass(3_000, 5, seed=1, sharpen=2.0)
    probs = cal.softmax(z)
    conf, correct = cal.top_label(y, probs)
    np.testing.assert_allclose(conf, probs.max(axis=1))
    np.testing.assert_array_equal(correct, (probs.argmax(axis=1) == y).astype(float))
    bins = cal.reliability_bins(y, probs, n_bins=10)
    prob_true, prob_pred = calibration_curve(correct, conf, n_bins=10)
    keep = bins.count > 0
    np.testing.assert_allclose(bins.accuracy[keep], prob_true)
    np.testing.assert_allclose(bins.mean_confidence[keep], prob_pred)


def _ece_by_loops(conf, outcome, n_bins):
    """Guo et al.'s reference formulation: a loop over (lower, upper] bins."""
    edges = np.linspace(0, 1, n_bins + 1)
    ece = 0.0
    for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        inside = (conf > lo) & (conf <= hi) if i else (conf >= lo) & (conf <= hi)
        if inside.any():
            ece += inside.mean() * abs(conf[inside].mean() - outcome[inside].mean())
    return ece


@pytest.mark.parametrize("seed", range(3))
def test_ece_and_mce_match_the_definition(seed):
    y, z, _ = _multiclass(2_000, 4, seed, sharpen=2.5)
    probs = cal.softmax(z)
    conf, correct = probs.max(axis=1), (probs.argmax(axis=1) == y).astype(float)
    assert cal.expected_calibration_error(y, probs, n_bins=15) == pytest.approx(
        _ece_by_loops(conf, correct, 15), abs=1e-12
    )
    bins = cal.reliability_bins(y, probs, n_bins=15)
    keep = bins.count > 0
    assert cal.maximum_calibration_error(y, probs, n_bins=15) == pytest.approx(
        np.max(np.abs(bins.mean_confidence[keep] - bins.accuracy[keep]))
    )
    assert cal.maximum_calibration_error(y, probs) >= cal.expected_calibration_error(y, probs)


def test_ece_separates_calibrated_from_overconfident_forecasts():
    y, calibrated, p_true = _binary(50_000, 0)
    _, overconfident, _ = _binary(50_000, 0, stretch=3.0)
    for strategy in ("uniform", "quantile"):
        good = cal.expected_calibration_error(y, calibrated, strategy=strategy)
        bad = cal.expected_calibration_error(y, overconfident, strategy=strategy)
        assert good < 0.01 < 0.05 < bad
    # Known true probabilities as outcomes remove the label noise: ECE is exactly 0.
    assert cal.expected_calibration_error(p_true, calibrated) == pytest.approx(0.0, abs=1e-12)


def test_ece_is_biased_upwards_on_small_samples():
    # A perfectly calibrated forecaster still gets ECE > 0, more so with fewer examples.
    small = np.mean([cal.expected_calibration_error(*_binary(200, s)[:2]) for s in range(20)])
    large = np.mean([cal.expected_calibration_error(*_binary(20_000, s)[:2]) for s in range(20)])
    assert small > 3 * large > 0


# ---------------------------------------------------------------------------
# Brier score, decomposition, NLL
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(3))
def test_brier_matches_sklearn(seed):
    y, p, _ = _binary(1_000, seed, stretch=1.5)
    assert cal.brier_score(y, p) == pytest.approx(brier_score_loss(y, p), abs=1e-12)
    yk, z, _ = _multiclass(1_000, 6, seed)
    probs = cal.softmax(z)
    expected = brier_score_loss(yk, probs, labels=np.arange(6), scale_by_half=False)
    assert cal.brier_score(yk, probs) == pytest.approx(expected, abs=1e-12)


def test_brier_decomposition():
    y, p, _ = _binary(20_000, 3, stretch=2.0)
    # Forecasts that take one value per bin: the identity is exact.
    p_step = np.round(p * 10 - 0.5).clip(0, 9) / 10 + 0.05
    d = cal.brier_decomposition(y, p_step, n_bins=10)
    assert d.brier == pytest.approx(brier_score_loss(y, p_step))
    assert d.residual == pytest.approx(0.0, abs=1e-12)
    assert d.uncertainty == pytest.approx(y.mean() * (1 - y.mean()))
    # Continuous forecasts: a small residual (within-bin spread).
    d = cal.brier_decomposition(y, p, n_bins=20)
    assert abs(d.residual) < 0.01 * d.brier
    # Calibrating removes most of the reliability term but adds no resolution.
    _, calibrated, _ = _binary(20_000, 3)
    d_cal = cal.brier_decomposition(y, calibrated, n_bins=20)
    assert d_cal.reliability < 0.1 * d.reliability
    assert d_cal.resolution == pytest.approx(d.resolution, rel=0.05)


def test_negative_log_likelihood_matches_sklearn():
    y, p, _ = _binary(1_000, 4)
    assert cal.negative_log_likelihood(y, p) == pytest.approx(log_loss(y, p), rel=1e-9)
    yk, z, _ = _multiclass(1_000, 5, 4)
    probs = cal.softmax(z)
    assert cal.negative_log_likelihood(yk, probs) == pytest.approx(
        log_loss(yk, probs, labels=np.arange(5)), rel=1e-9
    )


# ---------------------------------------------------------------------------
# Platt scaling
# ---------------------------------------------------------------------------


def _classifier_problem(seed: int, n: int = 3_000):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    logit_true = X @ np.array([1.5, -1.0, 0.5, 0.0]) - 1.0
    y = (rng.random(n) < 1 / (1 + np.exp(-logit_true))).astype(int)
    return X[: n // 3], y[: n // 3], X[n // 3 : 2 * n // 3], y[n // 3 : 2 * n // 3], X[2 * n // 3 :]


@pytest.mark.parametrize("base", ["logistic", "svm"])
@pytest.mark.parametrize("seed", range(2))
def test_platt_matches_calibrated_classifier_cv_sigmoid(base, seed):
    X_tr, y_tr, X_cal, y_cal, X_te = _classifier_problem(seed)
    clf = LogisticRegression(class_weight="balanced") if base == "logistic" else LinearSVC(C=0.01)
    clf.fit(X_tr, y_tr)
    sk = CalibratedClassifierCV(FrozenEstimator(clf), method="sigmoid").fit(X_cal, y_cal)
    platt = cal.PlattScaler().fit(clf.decision_function(X_cal), y_cal)
    np.testing.assert_allclose(
        platt.predict(clf.decision_function(X_te)), sk.predict_proba(X_te)[:, 1], atol=2e-4
    )


def test_platt_without_smoothing_is_a_logistic_regression():
    rng = np.random.default_rng(0)
    s = rng.normal(size=2_000) * 3
    y = (rng.random(2_000) < 1 / (1 + np.exp(-(0.4 * s - 1.0)))).astype(int)
    platt = cal.PlattScaler(smoothing=False).fit(s, y)
    lr = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(s[:, None], y)
    assert platt.slope_ == pytest.approx(lr.coef_[0, 0], rel=1e-5)
    assert platt.intercept_ == pytest.approx(lr.intercept_[0], rel=1e-5)
    assert platt.slope_ == pytest.approx(0.4, abs=0.1)  # recovers the distortion
    np.testing.assert_allclose(platt.predict_proba(s), lr.predict_proba(s[:, None]), atol=1e-6)
    assert platt(s[:3]).shape == (3,)


def test_platt_smoothing_keeps_separable_data_finite():
    s = np.r_[np.linspace(-3, -1, 50), np.linspace(1, 3, 50)]
    y = np.r_[np.zeros(50), np.ones(50)].astype(int)
    platt = cal.PlattScaler().fit(s, y)
    assert np.isfinite(platt.slope_) and platt.slope_ < 50
    assert 0.0 < platt.predict([-3.0])[0] < 0.05 and 0.95 < platt.predict([3.0])[0] < 1.0


def test_platt_fixes_a_reweighted_model():
    y, p, _ = _binary(20_000, 5, shift=2.5)  # scores inflated like class re-weighting does
    y_cal, p_cal = y[:10_000], p[:10_000]
    platt = cal.PlattScaler().fit(cal.logit(p_cal), y_cal)
    fixed = platt.predict(cal.logit(p[10_000:]))
    before = cal.expected_calibration_error(y[10_000:], p[10_000:])
    after = cal.expected_calibration_error(y[10_000:], fixed)
    assert after < 0.2 * before
    assert platt.intercept_ == pytest.approx(-2.5, abs=0.2)


# ---------------------------------------------------------------------------
# Isotonic regression (pool adjacent violators)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_isotonic_regression_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    n = [1, 2, 50, 1_000, 5_000][seed]
    y = rng.normal(size=n) + np.linspace(0, 2, n)
    w = rng.uniform(0.1, 3.0, size=n)
    np.testing.assert_allclose(cal.isotonic_regression(y), sk_isotonic_regression(y), atol=1e-10)
    np.testing.assert_allclose(
        cal.isotonic_regression(y, w), sk_isotonic_regression(y, sample_weight=w), atol=1e-10
    )


def test_isotonic_regression_worst_cases():
    # A long descending run pools into one block; a cascade must propagate back.
    np.testing.assert_allclose(cal.isotonic_regression(np.arange(300.0)[::-1]), np.full(300, 149.5))
    cascade = np.r_[np.arange(200.0), -1e5]
    np.testing.assert_allclose(cal.isotonic_regression(cascade), sk_isotonic_regression(cascade))


@FAST
@given(st.lists(st.tuples(st.floats(-100, 100), st.floats(0.01, 10)), min_size=1, max_size=40))
def test_isotonic_regression_properties(pairs):
    y, w = (np.array(v) for v in zip(*pairs, strict=True))
    fit = cal.isotonic_regression(y, w)
    assert np.all(np.diff(fit) >= -1e-9)  # non-decreasing
    assert np.sum(w * fit) == pytest.approx(np.sum(w * y), rel=1e-9, abs=1e-7)  # means preserved
    np.testing.assert_allclose(fit, sk_isotonic_regression(y, sample_weight=w), atol=1e-7)


@pytest.mark.parametrize("seed", range(3))
def test_isotonic_calibrator_matches_sklearn(seed):
    y, p, _ = _binary(3_000, seed, stretch=2.0)
    p = np.round(p, 2)  # ties
    iso = cal.IsotonicCalibrator().fit(p[:2_000], y[:2_000])
    sk = IsotonicRegression(out_of_bounds="clip").fit(p[:2_000], y[:2_000])
    query = np.r_[p[2_000:], -0.5, 1.5, 0.0, 1.0]  # outside the fitted range too
    np.testing.assert_allclose(iso.predict(query), sk.predict(query), atol=1e-10)
    w = np.random.default_rng(seed).uniform(0.5, 2.0, 2_000)
    iso_w = cal.IsotonicCalibrator().fit(p[:2_000], y[:2_000], sample_weight=w)
    sk_w = IsotonicRegression(out_of_bounds="clip").fit(p[:2_000], y[:2_000], sample_weight=w)
    np.testing.assert_allclose(iso_w.predict(query), sk_w.predict(query), atol=1e-10)


def test_isotonic_calibrator_matches_calibrated_classifier_cv():
    X_tr, y_tr, X_cal, y_cal, X_te = _classifier_problem(7)
    clf = LogisticRegression(class_weight="balanced").fit(X_tr, y_tr)
    sk = CalibratedClassifierCV(FrozenEstimator(clf), method="isotonic").fit(X_cal, y_cal)
    iso = cal.IsotonicCalibrator().fit(clf.decision_function(X_cal), y_cal)
    np.testing.assert_allclose(
        iso.predict(clf.decision_function(X_te)), sk.predict_proba(X_te)[:, 1], atol=1e-10
    )


# ---------------------------------------------------------------------------
# Temperature scaling
# ---------------------------------------------------------------------------


def _scipy_temperature(logits, y):
    def nll(log_t):
        return -np.mean(log_softmax(logits / np.exp(log_t), axis=1)[np.arange(len(y)), y])

    res = minimize_scalar(nll, bounds=(np.log(0.01), np.log(100.0)), method="bounded",
                          options={"xatol": 1e-10})
    return float(np.exp(res.x))


@pytest.mark.parametrize("sharpen", [0.5, 1.0, 3.0])
def test_temperature_matches_scipy_minimize_scalar(sharpen):
    y, z, _ = _multiclass(2_000, 10, seed=2, sharpen=sharpen)
    expected = _scipy_temperature(z, y)
    newton = cal.TemperatureScaler().fit(z, y)
    lbfgs = cal.TemperatureScaler(method="lbfgs").fit(z, y)
    assert newton.temperature_ == pytest.approx(expected, rel=1e-6)
    assert lbfgs.temperature_ == pytest.approx(expected, rel=1e-5)
    # The data were drawn from softmax(z), so the right temperature is the sharpening.
    assert newton.temperature_ == pytest.approx(sharpen, rel=0.1)


def test_temperature_scaling_calibrates_an_overconfident_network(overconfident_net):
    data, model, logits_val, logits_test = overconfident_net
    scaler = cal.TemperatureScaler().fit(logits_val, data.y_val)
    assert scaler.temperature_ == pytest.approx(_scipy_temperature(logits_val, data.y_val), rel=1e-6)
    assert scaler.temperature_ > 1.5  # over-confident: the logits must be softened
    raw = cal.softmax(logits_test)
    scaled = scaler.predict_proba(logits_test)
    ece_raw = cal.expected_calibration_error(data.y_test, raw)
    ece_scaled = cal.expected_calibration_error(data.y_test, scaled)
    assert ece_raw > 0.08, f"the network should be clearly over-confident, ECE {ece_raw:.3f}"
    assert ece_scaled <= 0.5 * ece_raw, f"ECE {ece_raw:.4f} -> {ece_scaled:.4f}, expected a >= 50% drop"
    assert cal.negative_log_likelihood(data.y_test, scaled) < cal.negative_log_likelihood(data.y_test, raw)
    # Accuracy cannot change: dividing by T > 0 keeps the arg-max.
    np.testing.assert_array_equal(raw.argmax(axis=1), scaled.argmax(axis=1))
    # The wrapped torch module gives the same calibrated probabilities.
    wrapped = scaler.wrap(model)
    with torch.no_grad():
        out = torch.softmax(wrapped(torch.as_tensor(data.X_test)), dim=1).double().numpy()
    np.testing.assert_allclose(out, scaled, atol=1e-5)
    assert "temperature" in wrapped.state_dict()


def test_temperature_on_binary_logits_and_tensors():
    y, p, _ = _binary(3_000, 1, stretch=2.0)
    z = cal.logit(p)
    scaler = cal.TemperatureScaler().fit(z, y)
    expected = _scipy_temperature(np.column_stack([np.zeros_like(z), z]), y)
    assert scaler.temperature_ == pytest.approx(expected, rel=1e-6)
    assert scaler.temperature_ == pytest.approx(2.0, rel=0.15)
    assert scaler.predict_proba(z).shape == (3_000,)
    from_tensor = cal.TemperatureScaler().fit(torch.as_tensor(z), y)
    assert from_tensor.temperature_ == pytest.approx(scaler.temperature_)


def test_temperature_is_clipped_to_its_bounds_on_separable_data():
    z = np.array([[5.0, 0.0], [0.0, 5.0]] * 10)
    y = np.array([0, 1] * 10)
    scaler = cal.TemperatureScaler(bounds=(0.05, 20.0)).fit(z, y)
    assert scaler.temperature_ == pytest.approx(0.05)


# ---------------------------------------------------------------------------
# Before training: weight decay and label smoothing
# ---------------------------------------------------------------------------


def test_train_mlp_is_deterministic_and_leaves_global_state_alone():
    data = cal.load_digits_split(seed=1, n_train=200, n_val=200)
    threads = torch.get_num_threads()
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = cal.predict_logits(cal.train_mlp(data.X_train, data.y_train, epochs=5, seed=3), data.X_test)
    after = torch.rand(1)
    b = cal.predict_logits(cal.train_mlp(data.X_train, data.y_train, epochs=5, seed=3), data.X_test)
    c = cal.predict_logits(cal.train_mlp(data.X_train, data.y_train, epochs=5, seed=4), data.X_test)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert torch.equal(before, after), "train_mlp must not consume the global torch RNG"
    assert torch.get_num_threads() == threads


def test_regularization_and_label_smoothing_reduce_overconfidence(overconfident_net):
    data = overconfident_net[0]
    table = cal.compare_training_settings(
        data,
        {"plain": {}, "weight decay": {"weight_decay": 1e-2}, "label smoothing": {"label_smoothing": 0.02}},
        epochs=200,
        temperature_scaling=True,
    )
    assert list(table.index) == ["plain", "weight decay", "label smoothing"]
    assert {"accuracy", "mean_confidence", "ece", "nll", "brier", "temperature", "ece_after_ts"} <= set(table)
    plain = table.loc["plain"]
    for name in ("weight decay", "label smoothing"):
        row = table.loc[name]
        assert row["ece"] < 0.6 * plain["ece"], table
        assert row["mean_confidence"] < plain["mean_confidence"]
        assert row["temperature"] < plain["temperature"]  # less left for temperature scaling to fix
    assert table.loc["weight decay", "accuracy"] >= plain["accuracy"] - 0.02


def test_load_digits_split_shapes_and_standardisation():
    d = cal.load_digits_split(seed=2, n_train=600, n_val=300)
    assert d.X_train.shape == (600, 64) and d.X_val.shape == (300, 64) and d.X_test.shape == (897, 64)
    assert d.X_train.dtype == np.float32
    np.testing.assert_allclose(d.X_train.mean(axis=0), 0.0, atol=1e-5)
    assert set(np.unique(d.y_test)) == set(range(10))


# ---------------------------------------------------------------------------
# Selective prediction
# ---------------------------------------------------------------------------


def _brute_selective(correct, conf):
    thresholds = np.unique(conf)[::-1]
    precision = np.array([correct[conf >= t].mean() for t in thresholds])
    coverage = np.array([(conf >= t).mean() for t in thresholds])
    return thresholds, precision, coverage


@pytest.mark.parametrize("seed", range(3))
def test_selective_threshold_meets_the_target_on_validation(seed):
    y, z, _ = _multiclass(1_500, 5, seed, sharpen=2.0)
    conf, correct = cal.top_label(y, cal.softmax(z))
    conf = np.round(conf, 2)  # ties
    thresholds, precision, coverage = _brute_selective(correct, conf)
    for target in (0.6, 0.7, 0.8, precision.max()):
        got = cal.selective_threshold(correct, conf, target_precision=target)
        ok = thresholds[precision >= target]
        assert got.threshold == pytest.approx(ok.min())
        accepted = conf >= got.threshold
        assert correct[accepted].mean() >= target
        assert got.precision == pytest.approx(correct[accepted].mean())
        assert got.coverage == pytest.approx(accepted.mean())
    for target in (0.1, 0.5, 0.9, 1.0):
        got = cal.selective_threshold(correct, conf, target_coverage=target)
        assert got.threshold == pytest.approx(thresholds[coverage >= target].max())
        assert (conf >= got.threshold).mean() >= target


def test_selective_threshold_for_fraud_precision_and_unreachable_target():
    y, p, _ = _binary(2_000, 8)
    got = cal.selective_threshold(y, p, target_precision=0.8)
    assert y[p >= got.threshold].mean() >= 0.8
    assert y[p >= np.max(p[p < got.threshold])].mean() < 0.8  # the next lower threshold fails
    with pytest.raises(ValueError, match="no threshold reaches target_precision"):
        cal.selective_threshold(np.zeros(10, dtype=int), np.arange(10.0), target_precision=0.5)


def test_risk_coverage_curve_and_aurc():
    y, z, _ = _multiclass(800, 4, 5, sharpen=1.5)
    conf, correct = cal.top_label(y, cal.softmax(z))
    conf = np.round(conf, 2)
    coverage, risk, thresholds = cal.risk_coverage_curve(correct, conf)
    ref_t, ref_precision, ref_coverage = _brute_selective(correct, conf)
    np.testing.assert_allclose(thresholds, ref_t)
    np.testing.assert_allclose(coverage, ref_coverage)
    np.testing.assert_allclose(risk, 1 - ref_precision)
    per_example = np.repeat(risk, np.diff(np.r_[0, np.round(coverage * len(conf)).astype(int)]))
    assert cal.area_under_risk_coverage(correct, conf) == pytest.approx(per_example.mean())
    # A confidence that ranks errors last beats a random one.
    shuffled = np.random.default_rng(0).permutation(conf)
    assert cal.area_under_risk_coverage(correct, conf) < cal.area_under_risk_coverage(correct, shuffled)


# ---------------------------------------------------------------------------
# Conformal prediction sets
# ---------------------------------------------------------------------------


def test_conformal_quantile_is_the_finite_sample_order_statistic():
    rng = np.random.default_rng(0)
    for n in (9, 19, 99, 500):
        s = rng.random(n)
        for alpha in (0.05, 0.1, 0.2, 0.5):
            k = math.ceil((n + 1) * (1 - alpha) - 1e-9)
            expected = np.sort(s)[k - 1] if k <= n else np.inf
            assert cal.conformal_quantile(s, alpha) == expected
    assert cal.conformal_quantile(rng.random(5), 0.1) == np.inf


@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.2])
def test_conformal_coverage_guarantee(alpha):
    n_cal, n_test, seeds = 300, 2_000, 30
    coverages, sizes = [], []
    for seed in range(seeds):
        y, z, _ = _multiclass(n_cal + n_test, 10, seed, sharpen=3.0)  # an over-confident model
        probs = cal.softmax(z)
        cp = cal.SplitConformalClassifier(alpha=alpha).fit(probs[:n_cal], y[:n_cal])
        sets = cp.predict_sets(probs[n_cal:])
        coverages.append(cal.set_coverage(sets, y[n_cal:]))
        sizes.append(cal.average_set_size(sets))
    mean = float(np.mean(coverages))
    # Averaged over calibration sets: 1 - alpha <= coverage <= 1 - alpha + 1 / (n + 1).
    # The mean of 30 runs has a standard error of about 0.004, hence the slack.
    slack = 3 * np.sqrt(alpha * (1 - alpha) / (n_cal + 2) / seeds)
    assert 1 - alpha - slack <= mean <= 1 - alpha + 1 / (n_cal + 1) + slack, mean
    # The raw probabilities (summing the top classes to 1 - alpha) under-cover badly.
    raw_cover = []
    for seed in range(5):
        y, z, _ = _multiclass(n_test, 10, 100 + seed, sharpen=3.0)
        probs = cal.softmax(z)
        order = np.argsort(-probs, axis=1)
        cum = np.take_along_axis(probs, order, axis=1).cumsum(axis=1)
        rank_of_true = np.argmax(order == y[:, None], axis=1)
        n_included = (cum < 1 - alpha).sum(axis=1) + 1
        raw_cover.append(np.mean(rank_of_true < n_included))
    assert np.mean(raw_cover) < 1 - alpha - 0.05
    assert np.mean(sizes) < 10


def test_conformal_sets_on_binary_probabilities_and_empty_sets():
    y, p, _ = _binary(4_000, 6)
    cp = cal.SplitConformalClassifier(alpha=0.3).fit(p[:1_000], y[:1_000])
    sets = cp.predict_sets(p[1_000:])
    assert sets.shape == (3_000, 2)
    assert cal.set_coverage(sets, y[1_000:]) >= 0.67
    # With a generous alpha a confident model can return empty sets.
    assert (sets.sum(axis=1) == 0).any()
    tiny = cal.SplitConformalClassifier(alpha=0.1).fit(p[:5], y[:5])
    assert tiny.quantile_ == np.inf and tiny.predict_sets(p[:3]).all()


def test_a_sharper_model_gives_smaller_sets_with_the_same_coverage():
    sizes = {}
    for name, noise in [("good", 0.5), ("poor", 2.0)]:
        rng = np.random.default_rng(0)
        y, z, _ = _multiclass(6_000, 10, 0, sharpen=1.0)
        model_logits = z + rng.normal(0, noise, z.shape) if name == "poor" else z
        probs = cal.softmax(model_logits)
        cp = cal.SplitConformalClassifier(alpha=0.1).fit(probs[:2_000], y[:2_000])
        sets = cp.predict_sets(probs[2_000:])
        assert cal.set_coverage(sets, y[2_000:]) >= 0.88
        sizes[name] = cal.average_set_size(sets)
    assert sizes["good"] < sizes["poor"]


# ---------------------------------------------------------------------------
# The calibrators and the conformal predictor as scikit-learn estimators
# ---------------------------------------------------------------------------


def _fitted_calibrators():
    y, p, _ = _binary(600, 3, stretch=2.0)
    s = cal.logit(np.clip(p, 1e-6, 1 - 1e-6))
    yk, z, _ = _multiclass(300, 3, 0)
    return [
        (cal.PlattScaler(smoothing=False), s, y, "predict"),
        (cal.IsotonicCalibrator(), s, y, "predict"),
        (cal.TemperatureScaler(), z, yk, "predict_proba"),
        (cal.SplitConformalClassifier(alpha=0.2), cal.softmax(z), yk, "predict_sets"),
    ]


@pytest.mark.parametrize("index", range(4))
def test_estimators_raise_not_fitted_error_before_fit(index):
    estimator, X, _, method = _fitted_calibrators()[index]
    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(estimator, method)(X)
    # NotFittedError is a ValueError (and an AttributeError): old `except ValueError` code still works.
    with pytest.raises(ValueError):
        getattr(estimator, method)(X)


@pytest.mark.parametrize("index", range(4))
def test_estimators_clone_with_their_parameters_and_unpickle(index):
    estimator, X, y, method = _fitted_calibrators()[index]
    fitted = estimator.fit(X, y)
    assert fitted is estimator
    copy = clone(fitted)
    assert copy.get_params() == fitted.get_params()
    assert not [name for name in vars(copy) if name.endswith("_")]  # clone drops what fit learned
    np.testing.assert_array_equal(getattr(copy.fit(X, y), method)(X), getattr(fitted, method)(X))
    np.testing.assert_array_equal(getattr(pickle.loads(pickle.dumps(fitted)), method)(X), getattr(fitted, method)(X))


def test_calibrators_take_one_score_column_as_from_a_pipeline():
    y, p, _ = _binary(800, 5, stretch=2.0)
    s = cal.logit(np.clip(p, 1e-6, 1 - 1e-6))
    for make in (cal.PlattScaler, cal.IsotonicCalibrator):
        flat = make().fit(s, y)
        column = make().fit(s[:, None], y)
        frame = make().fit(pd.DataFrame({"logit": s}), y)
        np.testing.assert_allclose(column.predict(s[:, None]), flat.predict(s))
        np.testing.assert_allclose(frame.predict(pd.DataFrame({"logit": s})), flat.predict(s))
        assert flat.n_features_in_ == column.n_features_in_ == 1
        assert list(frame.feature_names_in_) == ["logit"]
        with pytest.raises(ValueError, match="X has 2 features, but .* is expecting 1 features"):
            flat.predict(np.column_stack([s, s]))
    # Inside a pipeline: a column transformer hands the calibrator one column.
    pipe = make_pipeline(FunctionTransformer(lambda x: x[:, [0]]), cal.PlattScaler()).fit(np.column_stack([s, -s]), y)
    np.testing.assert_allclose(pipe.predict(np.column_stack([s, -s])), cal.PlattScaler().fit(s, y).predict(s))


def test_temperature_and_conformal_check_the_number_of_columns():
    yk, z, _ = _multiclass(300, 3, 0)
    ts = cal.TemperatureScaler().fit(z, yk)
    assert ts.n_features_in_ == 3
    np.testing.assert_allclose(ts.fit_transform(z, yk), z / ts.temperature_)  # a scikit-learn transformer
    with pytest.raises(ValueError, match="X has 4 features, but TemperatureScaler is expecting 3"):
        ts.predict_proba(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="X is 1-dimensional .* fitted on 3 columns"):
        ts.predict_proba(np.zeros(2))


def test_repr_shows_what_was_fitted():
    y, p, _ = _binary(600, 3, stretch=2.0)
    assert repr(cal.PlattScaler()) == "PlattScaler()"
    assert repr(cal.PlattScaler(smoothing=False)) == "PlattScaler(smoothing=False)"
    platt = cal.PlattScaler(smoothing=False).fit(p, y)
    assert repr(platt) == f"PlattScaler(smoothing=False, slope_={platt.slope_:.4g}, intercept_={platt.intercept_:.4g})"
    iso = cal.IsotonicCalibrator().fit(p, y)
    assert repr(iso) == f"IsotonicCalibrator({iso.x_thresholds_.size} points)"


# ---------------------------------------------------------------------------
# Data and plots
# ---------------------------------------------------------------------------


def test_make_fraud_scores_is_deterministic_and_overconfident():
    a = cal.make_fraud_scores(seed=1, n_transactions=20_000)
    b = cal.make_fraud_scores(seed=1, n_transactions=20_000)
    assert a.equals(b)
    assert set(a["split"].unique()) == {"train", "val", "test"}
    assert a["score"].mean() > 5 * a["is_fraud"].mean()  # inflated by class re-weighting
    np.testing.assert_allclose(a["score"], 1 / (1 + np.exp(-a["logit"])))
    # The true probability is calibrated: its mean matches the fraud rate.
    assert a["fraud_probability"].mean() == pytest.approx(a["is_fraud"].mean(), abs=0.005)
    unbalanced = cal.make_fraud_scores(seed=1, n_transactions=20_000, balanced=False)
    y = unbalanced["is_fraud"].to_numpy()
    assert cal.expected_calibration_error(y, unbalanced["score"]) < cal.expected_calibration_error(y, a["score"])


def test_plots_return_axes():
    y, p, _ = _binary(500, 0, stretch=2.0)
    ax = cal.plot_reliability_diagram(y, p, label="raw")
    cal.plot_reliability_diagram(y, np.clip(p * 0.8, 0, 1), ax=ax, label="shrunk", histogram=False)
    assert len(ax.lines) == 3 and "ECE" in ax.lines[1].get_label()
    yk, z, _ = _multiclass(300, 4, 0)
    ax2 = cal.plot_reliability_diagram(yk, cal.softmax(z), strategy="quantile")
    assert ax2.get_ylabel() == "accuracy"
    conf, correct = cal.top_label(yk, cal.softmax(z))
    ax3 = cal.plot_risk_coverage(correct, conf)
    assert len(ax3.lines) == 1
    plt.close("all")


# ---------------------------------------------------------------------------
# Input validation
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: cal.reliability_bins([0, 1], [0.2, 1.3]), r"y_prob must hold probabilities in \[0, 1\]"),
        (lambda: cal.reliability_bins([0, 1], [0.2, np.nan]), "y_prob contains 1 NaN"),
        (lambda: cal.reliability_bins([0, 2], [0.2, 0.4]), "y_true must contain only the binary labels 0 and 1"),
        (lambda: cal.reliability_bins([0, 1, 1], [0.2, 0.4]), "same length"),
        (lambda: cal.reliability_bins([0, 1], [0.2, 0.4], n_bins=0), "n_bins must be an integer >= 1"),
        (lambda: cal.reliability_bins([0, 1], [0.2, 0.4], strategy="equal"), "strategy must be one of"),
        (lambda: cal.expected_calibration_error([0, 1], [[0.5, 0.6], [0.5, 0.5]]), "rows must sum to 1"),
        (lambda: cal.expected_calibration_error([0, 3], [[0.5, 0.5], [0.5, 0.5]]), r"class labels 0 \.\. 1"),
        (lambda: cal.brier_score([], []), "y_prob is empty"),
        (lambda: cal.brier_decomposition([0, 1], [[0.5, 0.5], [0.5, 0.5]]), "y_prob must be 1-dimensional"),
        (lambda: cal.top_label([0, 1], [0.5, 0.5]), "y_prob must be 2-dimensional"),
        (lambda: cal.PlattScaler().predict([0.0]), "not fitted yet"),
        (lambda: cal.PlattScaler().fit([[0.1, 0.2]], [1]), r"X has 2 features, but PlattScaler is expecting 1 .*one score per example"),
        (lambda: cal.PlattScaler().fit([0.1, np.inf], [0, 1]), "X contains infinite"),
        (lambda: cal.isotonic_regression([1.0, 2.0], [1.0, -1.0]), "sample_weight must be positive"),
        (lambda: cal.IsotonicCalibrator().fit([0.1, 0.2], ["a", "b"]), "y must contain only the binary labels"),
        (lambda: cal.TemperatureScaler().fit([[0.0, 1.0]], [2]), r"y must hold class labels 0 \.\. 1"),
        (lambda: cal.TemperatureScaler(method="adam").fit([[0.0, 1.0]], [1]), "method must be 'newton' or 'lbfgs'"),
        (lambda: cal.TemperatureScaler(bounds=(2.0, 1.0)).fit([[0.0, 1.0]], [1]), "bounds must satisfy"),
        (lambda: cal.TemperatureScaler().fit([[0.0]], [0]), "at least 2 columns"),
        (lambda: cal.selective_threshold([1, 0], [0.9, 0.1]), "exactly one of target_precision"),
        (lambda: cal.selective_threshold([1, 0], [0.9, 0.1], target_coverage=1.5), r"target_coverage must be a number in \(0, 1\]"),
        (lambda: cal.selective_threshold([1, 0], [0.9], target_coverage=0.5), "same length"),
        (lambda: cal.conformal_quantile([0.1, 0.2], alpha=1.0), r"alpha must be a number in \(0, 1\)"),
        (lambda: cal.SplitConformalClassifier(alpha=0).fit([[0.5, 0.5]], [0]), r"alpha must be a number in \(0, 1\)"),
        (lambda: cal.SplitConformalClassifier().predict_sets([[0.5, 0.5]]), "not fitted yet"),
        (lambda: cal.set_coverage([[True, False]], [0, 1]), "same length"),
        (lambda: cal.average_set_size([True, False]), "sets must be a non-empty boolean mask"),
        (lambda: cal.load_digits_split(n_train=1_000, n_val=1_000), "must leave at least 100"),
        (lambda: cal.load_digits_split(seed=-1), "seed must be an integer >= 0"),
        (lambda: cal.train_mlp(np.zeros((4, 2)), [0, 1, 0, 1], label_smoothing=1.0), r"label_smoothing must be a number in \[0, 1\)"),
        (lambda: cal.train_mlp(np.zeros((4, 2)), [0, 1, 0], epochs=1), "same length"),
        (lambda: cal.compare_training_settings("digits", {"a": {}}), "data must be a DigitsSplit"),
        (lambda: cal.make_fraud_scores(n_transactions=10), "n_transactions must be at least 1000"),
    ],
)
def test_bad_input_names_the_argument(call, message):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a clear ValueError, not a warning and a NaN
        with pytest.raises(ValueError, match=message):
            call()


def test_conformal_rejects_probabilities_with_the_wrong_number_of_classes():
    cp = cal.SplitConformalClassifier().fit(np.full((20, 3), 1 / 3), np.arange(20) % 3)
    with pytest.raises(ValueError, match="X has 4 features, but SplitConformalClassifier is expecting 3"):
        cp.predict_sets(np.full((2, 4), 0.25))
