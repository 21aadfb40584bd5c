"""mlcourse.improvement: learning curves, slices, tracked search, ablations, leakage.

Cross-checked against scikit-learn where it does the same job (learning_curve,
GridSearchCV, cross_val_score of a GridSearchCV), and on planted problems
where the right answer is known by construction.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold, StratifiedShuffleSplit, cross_val_score
from sklearn.model_selection import learning_curve as sk_learning_curve
from sklearn.tree import DecisionTreeClassifier

from mlcourse import improvement as imp


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Small fits: one thread is much faster than OpenMP threads fighting over 2 busy cores."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def circle():
    """A non-linear target: inside a circle (no linear model can do better than ~the base rate)."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(1200, 2))
    y = (X[:, 0] ** 2 + X[:, 1] ** 2 < 0.5).astype(int)
    return X, y


@pytest.fixture(scope="module")
def linear_data():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(600, 5))
    y = (X @ np.array([1.5, -1.0, 0.5, 0.0, 0.0]) + rng.normal(size=600) > 0).astype(int)
    return X, y


# --- learning curves -------------------------------------------------------------------------


@pytest.mark.parametrize("scoring", ["accuracy", "roc_auc"])
def test_learning_curve_matches_sklearn(linear_data, scoring):
    X, y = linear_data
    cv = StratifiedShuffleSplit(n_splits=4, test_size=0.3, random_state=3)
    sizes = [0.1, 0.35, 0.6, 1.0]
    ours = imp.learning_curve(LogisticRegression(), X, y, train_sizes=sizes, cv=cv, scoring=scoring)
    sk_sizes, sk_train, sk_val = sk_learning_curve(LogisticRegression(), X, y, train_sizes=sizes, cv=cv, scoring=scoring)
    np.testing.assert_array_equal(ours.train_sizes, sk_sizes)
    np.testing.assert_allclose(ours.train_scores, sk_train, atol=1e-12)
    np.testing.assert_allclose(ours.val_scores, sk_val, atol=1e-12)
    frame = ours.to_frame()
    assert list(frame.index) == list(sk_sizes)
    np.testing.assert_allclose(frame["gap"], sk_train.mean(1) - sk_val.mean(1))


def test_learning_curve_default_repeats_give_a_spread(linear_data):
    X, y = linear_data
    curve = imp.learning_curve(DecisionTreeClassifier(random_state=0), X, y, train_sizes=[30, 200],
                               n_repeats=5, scoring="accuracy")
    assert curve.val_scores.shape == (2, 5)
    assert np.all(curve.val_std > 0)
    assert curve.val_mean[1] > curve.val_mean[0]


def test_diagnose_high_bias_linear_model_on_a_circle(circle):
    X, y = circle
    curve = imp.learning_curve(LogisticRegression(), X, y, train_sizes=[100, 300, 600, 900], scoring="accuracy")
    diagnosis = imp.diagnose(curve)
    assert diagnosis.verdict == "bigger model", diagnosis
    assert diagnosis.problem == "high bias"
    # ...and a model that can draw the circle does far better: the verdict was right
    deep = imp.learning_curve(DecisionTreeClassifier(min_samples_leaf=5, random_state=0), X, y,
                              train_sizes=[900], scoring="accuracy")
    assert deep.val_mean[-1] > diagnosis.final_val + 0.15


def test_diagnose_high_variance_deep_tree_on_few_noisy_rows(linear_data):
    X, y = linear_data
    rng = np.random.default_rng(2)
    noisy = np.where(rng.random(len(y)) < 0.15, 1 - y, y)
    curve = imp.learning_curve(DecisionTreeClassifier(random_state=0), X[:200], noisy[:200],
                               train_sizes=[20, 60, 140], scoring="accuracy")
    diagnosis = imp.diagnose(curve.train_scores, curve.val_scores)
    assert diagnosis.verdict == "more data", diagnosis
    assert diagnosis.gap > 0.2


def test_diagnose_target_and_hand_made_curves():
    assert imp.diagnose([0.9, 0.9], [0.88, 0.89], target=0.85).verdict == "good fit"
    assert imp.diagnose([0.9, 0.9], [0.88, 0.89], target=0.95).verdict == "bigger model"
    assert imp.diagnose(np.array([[1.0, 1.0], [0.98, 0.99]]), np.array([[0.6, 0.7], [0.8, 0.8]])).verdict == "more data"


def test_diagnose_validates_input():
    with pytest.raises(ValueError, match="val_scores is required"):
        imp.diagnose([0.9, 0.8])
    with pytest.raises(ValueError, match="at least 2 training sizes"):
        imp.diagnose([0.9], [0.8])
    with pytest.raises(ValueError, match="same sizes"):
        imp.diagnose([0.9, 0.9, 0.9], [0.8, 0.8])
    with pytest.raises(ValueError, match="gap_tol"):
        imp.diagnose([0.9, 0.9], [0.8, 0.8], gap_tol=-1)


def test_learning_curve_validates_input(linear_data):
    X, y = linear_data
    with pytest.raises(ValueError, match="train_sizes as fractions"):
        imp.learning_curve(LogisticRegression(), X, y, train_sizes=[0.5, 1.5])
    with pytest.raises(ValueError, match="train_sizes as counts"):
        imp.learning_curve(LogisticRegression(), X, y, train_sizes=[10, 10_000])
    with pytest.raises(ValueError, match="y must be 1-D"):
        imp.learning_curve(LogisticRegression(), X, y[:10])
    with pytest.raises(ValueError, match="not a scikit-learn scorer"):
        imp.learning_curve(LogisticRegression(), X, y, scoring="goodness")


# --- slices ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sliced():
    """Errors at 10% everywhere, 40% in (region = north & device = mobile), and a tiny noisy slice."""
    rng = np.random.default_rng(5)
    n = 6000
    frame = pd.DataFrame({
        "region": rng.choice(["north", "south", "east", "west"], n),
        "device": rng.choice(["mobile", "desktop", "pos"], n),
        "amount": rng.lognormal(3, 1, n),
    })
    rate = np.full(n, 0.10)
    bad = (frame["region"] == "north") & (frame["device"] == "mobile")
    rate[bad.to_numpy()] = 0.40
    errors = (rng.random(n) < rate).astype(int)
    frame["vip"] = "no"
    tiny = np.flatnonzero(~bad.to_numpy())[:5]
    frame.loc[tiny, "vip"] = "yes"
    errors[tiny] = [1, 1, 0, 0, 0]   # 40% error on 5 rows: noise, not a finding
    return frame, errors


def test_worst_slices_finds_the_planted_pair(sliced):
    frame, errors = sliced
    table = imp.worst_slices(frame, errors, min_support=30)
    top = table.iloc[0]
    assert top["slice"] == "region = north & device = mobile", table.head()
    assert top["p_value"] < 1e-6 and top["ci_low"] > 0.3
    # the numbers are the group's mean, checked by hand
    mask = (frame["region"] == "north") & (frame["device"] == "mobile")
    assert top["n"] == mask.sum() and np.isclose(top["error"], errors[mask.to_numpy()].mean())
    # the tiny slice is either dropped (support) or ranked below by its interval
    assert "vip = yes" not in set(table["slice"])
    with_tiny = imp.worst_slices(frame, errors, min_support=5, pairs=False)
    assert with_tiny.iloc[0]["slice"] != "vip = yes"
    tiny_row = with_tiny.set_index("slice").loc["vip = yes"]
    assert tiny_row["error"] > with_tiny.iloc[0]["error"]    # higher raw error ...
    assert tiny_row["ci_low"] < with_tiny.iloc[0]["ci_low"]  # ... but not trustworthy


def test_worst_slices_wilson_interval_matches_statsmodels_formula(sliced):
    frame, errors = sliced
    table = imp.worst_slices(frame, errors, columns=["device"], pairs=False).set_index("slice")
    from scipy import stats

    z = stats.norm.ppf(0.975)
    for device in ["mobile", "desktop", "pos"]:
        e = errors[(frame["device"] == device).to_numpy()]
        n, p = len(e), e.mean()
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
        row = table.loc[f"device = {device}"]
        assert np.isclose(row["ci_low"], centre - half) and np.isclose(row["ci_high"], centre + half)


def test_worst_slices_bins_numbers_and_takes_losses(sliced):
    frame, errors = sliced
    loss = errors * 5.0 + (frame["amount"].to_numpy() > frame["amount"].median()) * 1.0
    table = imp.worst_slices(frame, loss, columns=["amount"], pairs=False)
    assert len(table) == 4
    assert table["n"].sum() == len(frame)


def test_worst_slices_validates_input(sliced):
    frame, errors = sliced
    with pytest.raises(ValueError, match="one entry per row"):
        imp.worst_slices(frame, errors[:10])
    with pytest.raises(ValueError, match="non-negative"):
        imp.worst_slices(frame, -errors)
    with pytest.raises(ValueError, match="columns must name"):
        imp.worst_slices(frame, errors, columns=["nope"])
    with pytest.raises(ValueError, match="min_support"):
        imp.worst_slices(frame, errors, min_support=0)


# --- tracker and search ----------------------------------------------------------------------


def test_tracker_round_trip(tmp_path):
    path = tmp_path / "runs" / "experiments.jsonl"
    tracker = imp.ExperimentTracker(path)
    tracker.log("logistic", params={"C": 0.1}, metrics={"auc": 0.80}, tags={"data": "v1"})
    tracker.log("logistic", params={"C": np.float64(1.0)}, metrics={"auc": np.float32(0.84)})
    tracker.log("boosting", params={"max_iter": 50, "layers": (3, 2)}, metrics={"auc": 0.87, "cost": 1.2})
    lines = path.read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[2])["params"]["layers"] == [3, 2]
    again = imp.ExperimentTracker(path)
    assert again.records == tracker.records
    frame = again.to_frame()
    assert list(frame["run"]) == [0, 1, 2]
    assert frame.query("name == 'logistic'")["auc"].tolist() == pytest.approx([0.80, 0.84])
    assert np.isnan(frame.loc[0, "cost"])
    assert again.best("auc")["name"] == "boosting"
    assert again.best("auc", name="logistic")["params"] == {"C": 1.0}
    assert again.best("cost", mode="min")["run"] == 2
    again.log("more", metrics={"auc": 0.5})
    assert len(imp.ExperimentTracker(path)) == 4


def test_tracker_validates_input(tmp_path):
    tracker = imp.ExperimentTracker()
    with pytest.raises(ValueError, match="metrics\\['auc'\\] must be a number"):
        tracker.log("x", metrics={"auc": "high"})
    with pytest.raises(ValueError, match="name must be a non-empty string"):
        tracker.log("")
    with pytest.raises(ValueError, match="no run has the metric"):
        tracker.best("auc")
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"run": 0}\nnot json\n')
    with pytest.raises(ValueError, match="line 2: not a JSON record"):
        imp.ExperimentTracker(broken)


@pytest.mark.parametrize("scoring", ["roc_auc", "accuracy"])
def test_grid_search_matches_gridsearchcv(linear_data, scoring):
    X, y = linear_data
    grid = {"C": [0.001, 0.01, 0.1, 1.0], "class_weight": [None, "balanced"]}
    cv = StratifiedKFold(4, shuffle=True, random_state=0)
    tracker = imp.ExperimentTracker()
    ours = imp.grid_search(LogisticRegression(), grid, X, y, cv=cv, scoring=scoring, tracker=tracker)
    sk = GridSearchCV(LogisticRegression(), grid, cv=cv, scoring=scoring).fit(X, y)
    assert ours.best_params == sk.best_params_
    assert ours.best_score == pytest.approx(sk.best_score_, abs=1e-12)
    np.testing.assert_allclose(ours.results["mean_score"], sk.cv_results_["mean_test_score"], atol=1e-12)
    assert len(tracker) == 8
    assert tracker.best("cv_score")["params"] == {k: v for k, v in sk.best_params_.items()}
    np.testing.assert_allclose(ours.best_estimator.coef_, sk.best_estimator_.coef_)


def test_nested_cv_matches_sklearn_and_shows_optimism(linear_data):
    X, y = linear_data
    grid = {"max_depth": [1, 2, 3, 5, None]}
    outer, inner = KFold(4, shuffle=True, random_state=1), KFold(3, shuffle=True, random_state=2)
    tree = DecisionTreeClassifier(random_state=0)
    result = imp.nested_cv(tree, grid, X, y, outer_cv=outer, inner_cv=inner, scoring="accuracy")
    expected = cross_val_score(GridSearchCV(tree, grid, cv=inner, scoring="accuracy"), X, y, cv=outer, scoring="accuracy")
    np.testing.assert_allclose(result.outer_scores, expected, atol=1e-12)
    assert len(result.best_params) == 4
    assert np.isfinite(result.optimism)


def test_grid_search_validates_input(linear_data):
    X, y = linear_data
    with pytest.raises(ValueError, match="param_grid must be a non-empty"):
        imp.grid_search(LogisticRegression(), {}, X, y)
    with pytest.raises(ValueError, match="cv must be an integer"):
        imp.grid_search(LogisticRegression(), {"C": [1.0]}, X, y, cv="five")


# --- ablations -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def planted_frame():
    rng = np.random.default_rng(7)
    n = 1500
    frame = pd.DataFrame({"useful": rng.normal(size=n), "useless": rng.normal(size=n), "weak": rng.normal(size=n)})
    y = (2.0 * frame["useful"] + 0.3 * frame["weak"] + rng.normal(size=n) > 0).astype(int).to_numpy()
    return frame, y


def test_feature_ablation_finds_useful_and_useless(planted_frame):
    frame, y = planted_frame
    table = imp.feature_ablation(lambda cols: LogisticRegression(), frame, y, cv=5)
    assert table.index[0] == "- useful"
    useful, useless = table.loc["- useful"], table.loc["- useless"]
    assert useful["delta"] < -0.1 and useful["t"] < -5
    assert abs(useless["delta"]) < 0.01 and abs(useless["delta"]) < 3 * useless["delta_se"] + 1e-3
    assert table.loc["all features", "delta"] == 0
    # by hand: the same folds, scikit-learn's cross_val_score
    folds = StratifiedKFold(5)
    full = cross_val_score(LogisticRegression(), frame, y, cv=folds, scoring="roc_auc")
    dropped = cross_val_score(LogisticRegression(), frame[["useless", "weak"]], y, cv=folds, scoring="roc_auc")
    assert useful["delta"] == pytest.approx((dropped - full).mean())
    assert useful["delta_std"] == pytest.approx((dropped - full).std(ddof=1))


def test_groups_and_component_ablation(planted_frame):
    frame, y = planted_frame
    table = imp.feature_ablation(LogisticRegression(), frame, y, groups={"noise": ["useless", "weak"]}, cv=3)
    assert set(table.index) == {"all features", "- noise"}
    variants = {"tree": DecisionTreeClassifier(max_depth=3, random_state=0),
                "stump": DecisionTreeClassifier(max_depth=1, random_state=0)}
    comparison = imp.compare_variants(variants, frame, y, baseline="tree", cv=3)
    assert comparison.loc["stump", "delta"] < 0


def test_ablation_validates_input(planted_frame):
    frame, y = planted_frame
    with pytest.raises(ValueError, match="X must be a pandas DataFrame"):
        imp.feature_ablation(LogisticRegression(), frame.to_numpy(), y)
    with pytest.raises(ValueError, match="drops every column"):
        imp.feature_ablation(LogisticRegression(), frame, y, groups={"all": list(frame.columns)})
    with pytest.raises(ValueError, match="baseline 'x' is not one of"):
        imp.compare_variants({"a": LogisticRegression()}, frame, y, baseline="x")


# --- leakage and adversarial validation -------------------------------------------------------


def test_leakage_report_flags_a_planted_leak(planted_frame):
    frame, y = planted_frame
    rng = np.random.default_rng(8)
    leaky = frame.assign(
        chargeback_flag=np.where(rng.random(len(y)) < 0.97, y, 1 - y),         # filled in after the outcome
        case_id=np.arange(len(y)).astype(str),                                 # one row per value: not a leak
    )
    report = imp.leakage_report(leaky, y, reference_auc=0.93)
    assert report.index[0] == "chargeback_flag" and report.loc["chargeback_flag", "suspicious"]
    assert not report.loc["useful", "suspicious"] and not report.loc["case_id", "suspicious"]
    assert report.loc["case_id", "auc"] < 0.6
    from sklearn.metrics import roc_auc_score

    assert report.loc["useful", "monotone_auc"] == pytest.approx(roc_auc_score(y, frame["useful"]))
    assert report.loc["useless", "monotone_auc"] == pytest.approx(max(roc_auc_score(y, -frame["useless"]),
                                                                      roc_auc_score(y, frame["useless"])))
    assert report.loc["useful", "auc"] == pytest.approx(roc_auc_score(y, frame["useful"]), abs=0.02)
    assert np.isnan(report.loc["case_id", "monotone_auc"])


def test_leakage_report_catches_non_monotone_and_missingness_leaks(planted_frame):
    frame, y = planted_frame
    rng = np.random.default_rng(10)
    # legit rows always 7, frauds spread on both sides of 7: invisible to a ranking, obvious in bins
    delay = np.where(y == 1, rng.choice([1.0, 2.0, 3.0, 20.0, 30.0, 40.0], len(y)), 7.0)
    known = np.where(y == 1, 1.0, np.nan)          # filled in only for positives
    leaky = frame.assign(delay=delay, known=known)
    report = imp.leakage_report(leaky, y)
    assert report.loc["delay", "monotone_auc"] < 0.75 and report.loc["delay", "suspicious"]
    assert report.loc["known", "suspicious"]
    assert set(report.index[report["suspicious"]]) == {"delay", "known"}
    # continuous delays: the legit value 7 is a spike with its own bin, the rest in quantile bins
    smooth = np.where(y == 1, rng.exponential(10.0, len(y)), 7.0)
    report = imp.leakage_report(frame.assign(delay=smooth), y)
    assert report.index[0] == "delay" and report.loc["delay", "binned_auc"] > 0.97
    # the reference: one feature at least 5 points above the full model is suspicious too
    assert imp.leakage_report(frame, y, reference_auc=0.7).loc["useful", "suspicious"]


def test_adversarial_validation_detects_shift_not_its_absence():
    rng = np.random.default_rng(9)
    n = 1500

    def draw(shift):
        return pd.DataFrame({
            "amount": rng.lognormal(3 + shift, 1, n),
            "hour": rng.integers(0, 24, n),
            "device": pd.Categorical(rng.choice(["mobile", "pos"], n)),
        })

    same = imp.adversarial_validation(draw(0.0), draw(0.0))
    assert 0.44 < same.auc < 0.56, same.auc
    shifted = imp.adversarial_validation(draw(0.0), draw(0.5))
    assert shifted.auc > 0.6
    assert shifted.features.index[0] == "amount"
    assert shifted.features["hour"] < 0.55
    assert shifted.scores.shape == (2 * n,)


def test_leakage_validates_input(planted_frame):
    frame, y = planted_frame
    with pytest.raises(ValueError, match="binary labels"):
        imp.single_feature_auc(frame, np.zeros(len(y)))
    with pytest.raises(ValueError, match="near_one"):
        imp.leakage_report(frame, y, near_one=0.3)
    with pytest.raises(ValueError, match="columns must be present in both frames"):
        imp.adversarial_validation(frame, frame.drop(columns="useful"), columns=["useful"])


# --- latency proxy ---------------------------------------------------------------------------


def test_prediction_cost(planted_frame):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame, y = planted_frame
    assert imp.prediction_cost(make_pipeline(StandardScaler(), LogisticRegression()).fit(frame, y)) == 3
    hgb = HistGradientBoostingClassifier(max_iter=7, max_depth=3, early_stopping=False).fit(frame, y)
    assert imp.prediction_cost(hgb) == sum(p[0].get_max_depth() for p in hgb._predictors) <= 21
    forest = RandomForestClassifier(n_estimators=4, max_depth=5, random_state=0).fit(frame, y)
    assert imp.prediction_cost(forest) == sum(t.get_depth() for t in forest.estimators_)
    calibrated = CalibratedClassifierCV(LogisticRegression(), cv=3).fit(frame, y)
    assert imp.prediction_cost(calibrated) == 3 * (3 + 1)
    with pytest.raises(ValueError, match="needs a fitted model"):
        imp.prediction_cost(LogisticRegression())
    with pytest.raises(ValueError, match="does not know how to measure"):
        from sklearn.neighbors import KNeighborsClassifier

        imp.prediction_cost(KNeighborsClassifier().fit(frame, y))
