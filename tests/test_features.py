"""Tests for mlcourse.features: every transformer is cross-checked against scikit-learn.

Each hand-written transformer is compared with the scikit-learn estimator that
does the same job (same data, same settings, same output up to float
tolerance), composed in pipelines, and fed bad input (scikit-learn's own
estimator checks run on every estimator of the library, in
test_estimators.py). The target-encoding tests check the semantics that
matter (no row sees its own label, smoothing, unseen categories) and prove
that encoding *without* cross-fitting leaks.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from sklearn import preprocessing as skp
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_selection import SelectFromModel, SelectKBest, mutual_info_classif
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import mutual_info_score, roc_auc_score
from sklearn.model_selection import KFold, ShuffleSplit, StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline

from mlcourse import features as F

# ---------------------------------------------------------------------------
# Data makers
# ---------------------------------------------------------------------------


def _categorical_frame(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Two categorical columns with unequal frequencies, one with missing values."""
    rng = np.random.default_rng(seed)
    colour = rng.choice(["red", "green", "blue", "teal", "plum"], size=n, p=[0.4, 0.3, 0.2, 0.06, 0.04])
    shape = rng.choice(["circle", "square", "star"], size=n, p=[0.5, 0.45, 0.05]).astype(object)
    shape[rng.random(n) < 0.05] = None
    return pd.DataFrame({"colour": colour, "shape": shape})


def _skewed(n: int = 2000, seed: int = 0) -> np.ndarray:
    """Three columns: log-normal, normal, and normal with a few extreme outliers."""
    rng = np.random.default_rng(seed)
    lognormal = np.exp(rng.normal(3.0, 1.0, n))
    normal = rng.normal(10.0, 2.0, n)
    spiky = rng.normal(0.0, 1.0, n)
    spiky[rng.choice(n, n // 100, replace=False)] *= 500.0
    return np.column_stack([lognormal, normal, spiky])


def _sk(estimator, method: str, *args):
    """Call a scikit-learn method with its warnings (e.g. merged bins) silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return getattr(estimator, method)(*args)


# ---------------------------------------------------------------------------
# One-hot encoding
# ---------------------------------------------------------------------------


def test_onehot_matches_sklearn_ignore():
    train, new = _categorical_frame(seed=0), _categorical_frame(n=50, seed=1)
    new.loc[:4, "colour"] = "ultraviolet"                    # unseen
    ours = F.OneHotEncoder(handle_unknown="ignore").fit(train)
    ref = skp.OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(train)
    np.testing.assert_array_equal(ours.transform(train), ref.transform(train))
    np.testing.assert_array_equal(ours.transform(new), _sk(ref, "transform", new))
    assert ours.transform(new)[:5, :5].sum() == 0             # unseen colour: all zeros
    assert list(ours.get_feature_names_out()) == list(ref.get_feature_names_out())
    for ours_cats, ref_cats in zip(ours.categories_, ref.categories_):
        assert list(pd.Series(ours_cats).fillna("NA")) == list(pd.Series(ref_cats).fillna("NA"))


@pytest.mark.parametrize("min_frequency", [20, 0.1])
def test_onehot_min_frequency_matches_sklearn_infrequent(min_frequency):
    train, new = _categorical_frame(seed=2), _categorical_frame(n=80, seed=3)
    new.loc[:9, "shape"] = "hexagon"
    ours = F.OneHotEncoder(handle_unknown="other", min_frequency=min_frequency).fit(train)
    ref = skp.OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=min_frequency,
                            sparse_output=False).fit(train)
    assert ours.has_other_.all()          # both columns have infrequent categories at these settings
    np.testing.assert_array_equal(ours.transform(train), ref.transform(train))
    np.testing.assert_array_equal(ours.transform(new), _sk(ref, "transform", new))
    expected_names = [n.replace("infrequent_sklearn", "other") for n in ref.get_feature_names_out()]
    assert list(ours.get_feature_names_out()) == expected_names


def test_onehot_other_column_catches_unseen_even_without_infrequent():
    train = pd.DataFrame({"c": ["a", "b", "a", "c"]})
    new = pd.DataFrame({"c": ["a", "zzz", "c", "yyy"]})
    ours = F.OneHotEncoder(handle_unknown="other").fit(train)
    ref = skp.OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(train)
    out = ours.transform(new)
    np.testing.assert_array_equal(out[:, :-1], _sk(ref, "transform", new))
    np.testing.assert_array_equal(out[:, -1], [0, 1, 0, 1])
    np.testing.assert_array_equal(out.sum(axis=1), 1)         # every row is in exactly one column
    assert list(ours.get_feature_names_out()) == ["c_a", "c_b", "c_c", "c_other"]


def test_onehot_error_mode_names_the_column_and_category():
    enc = F.OneHotEncoder(handle_unknown="error").fit(pd.DataFrame({"device": ["pos", "mobile"]}))
    with pytest.raises(ValueError, match=r"'device'.*'watch'"):
        enc.transform(pd.DataFrame({"device": ["pos", "watch"]}))


def test_onehot_accepts_category_bool_and_pandas_output():
    frame = pd.DataFrame({"c": pd.Categorical(["x", "y", None, "x"]), "flag": [True, False, True, True]})
    out = F.OneHotEncoder().set_output(transform="pandas").fit(frame).transform(frame)
    assert list(out.columns) == ["c_x", "c_y", "c_nan", "c_other", "flag_False", "flag_True", "flag_other"]
    assert out.index.equals(frame.index)
    np.testing.assert_array_equal(out["c_nan"], [0, 0, 1, 0])


@pytest.mark.parametrize("kwargs, match", [
    ({"handle_unknown": "drop"}, "handle_unknown"),
    ({"min_frequency": 0}, "min_frequency"),
    ({"min_frequency": 1.5}, "min_frequency"),
    ({"min_frequency": "rare"}, "min_frequency"),
])
def test_onehot_rejects_bad_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        F.OneHotEncoder(**kwargs).fit(pd.DataFrame({"c": ["a", "b"]}))


def test_onehot_rejects_mixed_types_naming_the_column():
    frame = pd.DataFrame({"mixed": np.array(["a", 1, "b"], dtype=object)})
    with pytest.raises(ValueError, match="'mixed'"):
        F.OneHotEncoder().fit(frame)


# ---------------------------------------------------------------------------
# Binning
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["quantile", "uniform"])
@pytest.mark.parametrize("encode", ["ordinal", "onehot"])
def test_binner_matches_kbins_discretizer(strategy, encode):
    X = _skewed(seed=4)
    X_new = np.vstack([_skewed(n=300, seed=5), [[-1.0, -100.0, -1e6], [1e9, 100.0, 1e6]]])  # out of range
    ours = F.Binner(n_bins=6, strategy=strategy, encode=encode).fit(X)
    ref = _sk(skp.KBinsDiscretizer(n_bins=6, strategy=strategy, encode="onehot-dense" if encode == "onehot"
                                   else "ordinal"), "fit", X)
    for ours_edges, ref_edges in zip(ours.bin_edges_, ref.bin_edges_):
        np.testing.assert_allclose(ours_edges, ref_edges)
    np.testing.assert_array_equal(ours.transform(X), ref.transform(X))
    np.testing.assert_array_equal(ours.transform(X_new), ref.transform(X_new))


def test_binner_merges_repeated_quantiles_like_sklearn():
    rng = np.random.default_rng(6)
    X = np.column_stack([rng.poisson(0.4, 500).astype(float), np.full(500, 3.0)])   # many ties; constant
    ours = F.Binner(n_bins=5).fit(X)
    ref = _sk(skp.KBinsDiscretizer(n_bins=5, strategy="quantile", encode="ordinal"), "fit", X)
    np.testing.assert_array_equal(ours.n_bins_, ref.n_bins_)
    np.testing.assert_array_equal(ours.transform(X), _sk(ref, "transform", X))


def test_quantile_bins_are_balanced_and_uniform_bins_are_not_on_skewed_data():
    x = _skewed(n=5000, seed=7)[:, [0]]
    quantile = F.Binner(n_bins=5).fit(x).transform(x).ravel()
    uniform = F.Binner(n_bins=5, strategy="uniform").fit(x).transform(x).ravel()
    assert np.allclose(np.bincount(quantile.astype(int)) / len(x), 0.2, atol=0.01)
    assert np.mean(uniform == 0) > 0.9          # the long tail stretches the range: one bin holds almost all


def test_binner_feature_names_and_errors():
    frame = pd.DataFrame({"amount": [1.0, 2.0, 3.0, 4.0]})
    names = F.Binner(n_bins=2, encode="onehot").fit(frame).get_feature_names_out()
    assert list(names) == ["amount_bin0", "amount_bin1"]
    for kwargs, match in [({"n_bins": 1}, "n_bins"), ({"strategy": "kmeans"}, "strategy"),
                          ({"encode": "onehot-dense"}, "encode")]:
        with pytest.raises(ValueError, match=match):
            F.Binner(**kwargs).fit(frame)
    with pytest.raises(ValueError, match="NaN"):
        F.Binner().fit([[1.0], [np.nan]])


# ---------------------------------------------------------------------------
# Scalers
# ---------------------------------------------------------------------------


def _with_nans(X: np.ndarray, seed: int = 0) -> np.ndarray:
    X = X.copy()
    X[np.random.default_rng(seed).random(X.shape) < 0.05] = np.nan
    return X


@pytest.mark.parametrize("ours, ref", [
    (F.StandardScaler(), skp.StandardScaler()),
    (F.RobustScaler(), skp.RobustScaler()),
    (F.RobustScaler(quantile_range=(10.0, 90.0)), skp.RobustScaler(quantile_range=(10.0, 90.0))),
    (F.YeoJohnsonScaler(), skp.PowerTransformer(method="yeo-johnson")),
], ids=["standard", "robust", "robust-10-90", "yeo-johnson"])
def test_scalers_match_sklearn_with_missing_values(ours, ref):
    X, X_new = _with_nans(_skewed(seed=8)), _with_nans(_skewed(n=200, seed=9), seed=1)
    ours.fit(X)
    _sk(ref, "fit", X)
    np.testing.assert_allclose(ours.transform(X), ref.transform(X), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ours.transform(X_new), ref.transform(X_new), rtol=1e-6, atol=1e-8)
    assert np.array_equal(np.isnan(ours.transform(X_new)), np.isnan(X_new))     # NaN stays NaN


def test_yeo_johnson_lambdas_match_sklearn_and_scipy():
    X = _skewed(seed=10)
    X[:, 1] -= 10.0                                                   # both signs
    ours = F.YeoJohnsonScaler().fit(X)
    np.testing.assert_allclose(ours.lambdas_, skp.PowerTransformer().fit(X).lambdas_, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ours.lambdas_, [scipy.stats.yeojohnson_normmax(X[:, j]) for j in range(3)],
                               rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("lmbda", [-1.5, 0.0, 0.5, 1.0, 2.0, 3.0])
def test_yeo_johnson_formula_matches_scipy(lmbda):
    x = np.linspace(-5, 5, 41)
    np.testing.assert_allclose(F.yeo_johnson(x, lmbda), scipy.stats.yeojohnson(x, lmbda), rtol=1e-10, atol=1e-12)


def test_log_scaler_is_log1p_then_standardise():
    X = _skewed(seed=11)[:, [0]]
    ref = make_pipeline(skp.FunctionTransformer(np.log1p), skp.StandardScaler())
    np.testing.assert_allclose(F.LogScaler().fit_transform(X), ref.fit_transform(X), rtol=1e-10)
    with pytest.raises(ValueError, match=r"non-negative|x >= 0.*\['debt'\]"):
        F.LogScaler().fit(pd.DataFrame({"debt": [1.0, -2.0]}))
    fitted = F.LogScaler().fit(pd.DataFrame({"debt": [1.0, 2.0]}))
    with pytest.raises(ValueError, match="debt"):
        fitted.transform(pd.DataFrame({"debt": [-1.0]}))


def test_constant_columns_scale_to_zero_like_sklearn():
    X = np.column_stack([np.full(10, 4.0), np.arange(10.0)])
    for ours, ref in [(F.StandardScaler(), skp.StandardScaler()), (F.RobustScaler(), skp.RobustScaler())]:
        np.testing.assert_allclose(ours.fit_transform(X), ref.fit_transform(X))
    np.testing.assert_allclose(F.YeoJohnsonScaler().fit_transform(X)[:, 0], 0.0, atol=1e-12)


def test_outliers_squeeze_standard_scaling_but_not_robust_scaling():
    rng = np.random.default_rng(12)
    x = rng.normal(0, 1, 2000)
    x[:20] = 1000.0                                               # 1% recording errors
    bulk = slice(20, None)
    standard = F.StandardScaler().fit_transform(x[:, None]).ravel()[bulk]
    robust = F.RobustScaler().fit_transform(x[:, None]).ravel()[bulk]
    assert np.std(standard) < 0.1            # the ordinary values are crushed together
    assert 0.6 < np.std(robust) < 0.9        # IQR of a unit normal is 1.35: sd about 0.74


# ---------------------------------------------------------------------------
# Choosing the scaler from the distribution
# ---------------------------------------------------------------------------


def test_robust_skewness_and_outlier_share_match_their_definitions():
    rng = np.random.default_rng(13)
    x = np.exp(rng.normal(size=1000))
    p10, p25, p50, p75, p90 = np.percentile(x, [10, 25, 50, 75, 90])
    assert F.robust_skewness(x) == pytest.approx((p90 + p10 - 2 * p50) / (p90 - p10))
    iqr = p75 - p25
    assert F.outlier_share(x) == pytest.approx(np.mean((x < p25 - 3 * iqr) | (x > p75 + 3 * iqr)))
    assert F.outlier_share(x, fence=1.5) == pytest.approx(np.mean((x < p25 - 1.5 * iqr) | (x > p75 + 1.5 * iqr)))
    assert F.recommend_scaler(x).skewness == pytest.approx(scipy.stats.skew(x))
    with_nan = np.r_[x, np.nan]
    assert F.robust_skewness(with_nan) == pytest.approx(F.robust_skewness(x))


def _shapes(n: int = 5000, seed: int = 14) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    normal = rng.normal(50, 5, n)
    one_sided = normal.copy()
    one_sided[:10] = 1e5                                           # 0.2% recording errors
    return {
        "normal": normal,
        "uniform": rng.uniform(-1, 1, n),
        "lognormal": np.exp(rng.normal(0, 1, n)),
        "exponential": rng.exponential(2.0, n),
        "left_skewed": -np.exp(rng.normal(0, 1, n)),
        "shifted_lognormal": np.exp(rng.normal(0, 1, n)) - 2.0,
        "student_t": rng.standard_t(2, n),
        "normal_with_outliers": one_sided,
        "flag": (rng.random(n) < 0.03).astype(float),
    }


EXPECTED_METHODS = {
    "normal": "standard", "uniform": "standard", "lognormal": "log", "exponential": "log",
    "left_skewed": "power", "shifted_lognormal": "power", "student_t": "robust",
    "normal_with_outliers": "robust", "flag": "standard",
}


@pytest.mark.parametrize("shape", EXPECTED_METHODS)
def test_recommend_scaler_reads_the_shape(shape):
    assert F.recommend_scaler(_shapes()[shape]).method == EXPECTED_METHODS[shape]


def test_a_few_outliers_fool_the_moment_skewness_but_not_the_rule():
    x = _shapes()["normal_with_outliers"]
    advice = F.recommend_scaler(x)
    assert advice.skewness > 10 and abs(advice.robust_skewness) < 0.05
    assert advice.method == "robust" and "fences" in advice.reason


@pytest.mark.parametrize("values, kwargs, match", [
    (np.ones((3, 2)), {}, "1-dimensional"),
    ([np.nan, np.nan], {}, "no values"),
    ([1.0, np.inf], {}, "infinite"),
    (["a", "b"], {}, "numeric"),
    ([1.0, 2.0], {"skew_threshold": 2.0}, "skew_threshold"),
    ([1.0, 2.0], {"outlier_threshold": -0.1}, "outlier_threshold"),
    ([1.0, 2.0], {"fence": -1}, "fence"),
])
def test_recommend_scaler_rejects_bad_input(values, kwargs, match):
    with pytest.raises(ValueError, match=match):
        F.recommend_scaler(values, **kwargs)


def test_auto_scaler_applies_the_recommended_scaler_per_column():
    shapes = _shapes(n=3000, seed=15)
    frame = pd.DataFrame({k: shapes[k] for k in ["normal", "lognormal", "left_skewed", "student_t"]})
    frame.iloc[::50, 1] = np.nan
    auto = F.AutoScaler().set_output(transform="pandas").fit(frame)
    assert list(auto.methods_) == ["standard", "log", "power", "robust"]
    out = auto.transform(frame)
    assert list(out.columns) == list(frame.columns)
    references = {
        "normal": skp.StandardScaler(),
        "lognormal": make_pipeline(skp.FunctionTransformer(np.log1p), skp.StandardScaler()),
        "left_skewed": skp.PowerTransformer(),
        "student_t": skp.RobustScaler(),
    }
    for column, ref in references.items():
        expected = _sk(ref, "fit_transform", frame[[column]].to_numpy()).ravel()
        np.testing.assert_allclose(out[column].to_numpy(), expected, rtol=1e-5, atol=1e-7, err_msg=column)
    forced = F.AutoScaler(overrides={"lognormal": "robust"}).fit(frame)
    assert forced.methods_[1] == "robust"


def test_auto_scaler_rejects_bad_overrides():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="overrides"):
        F.AutoScaler(overrides={"a": "minmax"}).fit(frame)
    with pytest.raises(ValueError, match="'b'"):
        F.AutoScaler(overrides={"b": "log"}).fit(frame)


def test_describe_distributions_one_row_per_numeric_column():
    shapes = _shapes(n=2000, seed=16)
    frame = pd.DataFrame({"lognormal": shapes["lognormal"], "normal": shapes["normal"], "name": "x"})
    table = F.describe_distributions(frame)
    assert list(table.index) == ["lognormal", "normal"]
    assert list(table["method"]) == ["log", "standard"]
    with pytest.raises(ValueError, match="frame"):
        F.describe_distributions(frame.to_numpy())
    with pytest.raises(ValueError, match="nope"):
        F.describe_distributions(frame, columns=["nope"])


# ---------------------------------------------------------------------------
# Polynomial features
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("degree, interaction_only, include_bias", [
    (2, False, False), (2, True, False), (3, False, True), (3, True, True), (1, False, True),
])
def test_polynomial_matches_sklearn(degree, interaction_only, include_bias):
    frame = pd.DataFrame(np.random.default_rng(17).normal(size=(50, 3)), columns=["a", "b", "c"])
    ours = F.PolynomialFeatures(degree, interaction_only=interaction_only, include_bias=include_bias).fit(frame)
    ref = skp.PolynomialFeatures(degree, interaction_only=interaction_only, include_bias=include_bias).fit(frame)
    np.testing.assert_array_equal(ours.powers_, ref.powers_)
    np.testing.assert_allclose(ours.transform(frame), ref.transform(frame), rtol=1e-12)
    assert list(ours.get_feature_names_out()) == list(ref.get_feature_names_out())


def test_polynomial_errors():
    for kwargs, match in [({"degree": 0}, "degree"), ({"degree": 2.5}, "degree"),
                          ({"interaction_only": "yes"}, "interaction_only")]:
        with pytest.raises(ValueError, match=match):
            F.PolynomialFeatures(**kwargs).fit([[1.0, 2.0]])


# ---------------------------------------------------------------------------
# Feature selection
# ---------------------------------------------------------------------------


def _signal_and_noise(n: int = 3000, seed: int = 18):
    """Three informative columns (one only through its square), then five noise columns."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 8))
    logit = 1.5 * X[:, 0] - 1.0 * X[:, 1] + 1.2 * (X[:, 2] ** 2 - 1)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


def test_mutual_information_matches_sklearn_on_discrete_and_binned_data():
    rng = np.random.default_rng(19)
    a, b = rng.integers(0, 4, 500), rng.integers(0, 3, 500)
    y = (a + rng.integers(0, 2, 500)) % 3
    assert F.mutual_information(a, y) == pytest.approx(mutual_info_score(a, y), rel=1e-12)
    assert F.mutual_information(b, y) == pytest.approx(mutual_info_score(b, y), rel=1e-12)
    x = rng.normal(size=500) + y
    codes = skp.KBinsDiscretizer(n_bins=10, strategy="quantile", quantile_method="linear",
                                 encode="ordinal").fit_transform(x[:, None]).ravel()
    assert F.mutual_information(x, y, n_bins=10) == pytest.approx(mutual_info_score(codes, y), rel=1e-12)
    corrected = F.mutual_information(x, y, n_bins=10, correct_bias=True)
    assert corrected == pytest.approx(mutual_info_score(codes, y) - 9 * 2 / (2 * 500), rel=1e-12)


def test_mutual_info_selector_agrees_with_select_k_best():
    X, y = _signal_and_noise()
    ours = F.MutualInfoSelector(k=3).fit(X, y)
    ref = SelectKBest(lambda X, y: mutual_info_classif(X, y, random_state=0), k=3).fit(X, y)
    np.testing.assert_array_equal(ours.get_support(), ref.get_support())
    np.testing.assert_array_equal(ours.get_support(indices=True), [0, 1, 2])   # finds the square too
    np.testing.assert_allclose(ours.transform(X), X[:, :3])
    assert np.all(np.abs(ours.scores_[3:]) < 0.01)            # bias-corrected noise scores about 0
    by_threshold = F.MutualInfoSelector(k=None, threshold=0.02).fit(X, y)
    np.testing.assert_array_equal(by_threshold.get_support(indices=True), [0, 1, 2])


def test_mutual_info_selector_errors_and_names():
    X, y = _signal_and_noise(n=300)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(8)])
    selector = F.MutualInfoSelector(k=2).fit(frame, y)
    assert list(selector.get_feature_names_out()) == list(frame.columns[selector.get_support()])
    with pytest.raises(ValueError, match="k=9"):
        F.MutualInfoSelector(k=9).fit(X, y)
    with pytest.raises(ValueError, match="k and threshold"):
        F.MutualInfoSelector(k=None).fit(X, y)
    with pytest.raises(ValueError, match="n_bins"):
        F.MutualInfoSelector(n_bins=1).fit(X, y)


def test_model_selector_matches_select_from_model():
    X, y = _signal_and_noise()
    X = skp.StandardScaler().fit_transform(X)
    model = LogisticRegression(max_iter=1000)
    ours = F.ModelSelector(model).fit(X, y)
    ref = SelectFromModel(model, threshold="mean").fit(X, y)
    np.testing.assert_array_equal(ours.get_support(), ref.get_support())
    ours_k = F.ModelSelector(model, k=2, threshold=None).fit(X, y)
    ref_k = SelectFromModel(model, max_features=2, threshold=-np.inf).fit(X, y)
    np.testing.assert_array_equal(ours_k.get_support(), ref_k.get_support())
    forest = RandomForestClassifier(n_estimators=30, random_state=0)
    ours_rf = F.ModelSelector(forest, threshold="median").fit(X, y)
    ref_rf = SelectFromModel(forest, threshold="median").fit(X, y)
    np.testing.assert_array_equal(ours_rf.get_support(), ref_rf.get_support())
    assert set(ours_rf.get_support(indices=True)) >= {0, 1, 2}   # the forest sees the square too


def test_model_selector_default_l1_drops_noise_and_errors():
    X, y = _signal_and_noise()
    X = skp.StandardScaler().fit_transform(X)
    default = F.ModelSelector(threshold=1e-6).fit(X, y)
    assert set(default.get_support(indices=True)) <= {0, 1, 2, 3, 4, 5, 6, 7}
    assert {0, 1} <= set(default.get_support(indices=True))
    assert np.sum(default.importances_[3:] == 0) >= 2           # L1 zeroes noise weights...
    assert default.importances_[3:].max() < 0.1 * default.importances_[:2].min()   # ...or keeps them tiny
    with pytest.raises(ValueError, match="coef_"):
        F.ModelSelector(skp.StandardScaler()).fit(X, y)
    with pytest.raises(ValueError, match="threshold"):
        F.ModelSelector(threshold="max").fit(X, y)


# ---------------------------------------------------------------------------
# Target encoding
# ---------------------------------------------------------------------------


def _high_cardinality(n: int = 2000, n_categories: int = 300, seed: int = 20, signal: float = 1.5):
    """A merchant-like column (Zipf-ish frequencies) whose categories carry a real effect."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, n_categories + 1)
    codes = rng.choice(n_categories, size=n, p=weights / weights.sum())
    effect = rng.normal(0, signal, n_categories)
    y = (rng.random(n) < 1 / (1 + np.exp(-(effect[codes] - 1.0)))).astype(int)
    merchant = np.array([f"m{c:03d}" for c in codes], dtype=object)
    merchant[rng.random(n) < 0.02] = None
    return pd.DataFrame({"merchant": merchant, "colour": rng.choice(["r", "g", "b"], n)}), y


@pytest.mark.parametrize("smooth", ["auto", 0.0, 10.0])
@pytest.mark.parametrize("target", ["binary", "continuous"])
def test_target_encoder_matches_sklearn_given_the_same_folds(smooth, target):
    X, y = _high_cardinality()
    if target == "continuous":
        y = y + np.random.default_rng(0).normal(size=len(y))
        folds = KFold(5, shuffle=True, random_state=0)
    else:
        folds = StratifiedKFold(5, shuffle=True, random_state=0)
    X_new, _ = _high_cardinality(n=300, seed=21)
    X_new.loc[:5, "merchant"] = "brand-new"
    ours = F.TargetEncoder(smooth=smooth, cv=folds)
    ref = skp.TargetEncoder(smooth=smooth, cv=folds, target_type=target)
    np.testing.assert_allclose(ours.fit_transform(X, y), ref.fit_transform(X, y), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.transform(X_new), ref.transform(X_new), rtol=1e-9, atol=1e-12)
    assert ours.target_mean_ == pytest.approx(ref.target_mean_)
    assert ours.target_type_ == target


def test_no_row_is_encoded_with_its_own_label():
    X, y = _high_cardinality(n=600)
    folds = KFold(5, shuffle=True, random_state=1)       # folds that do not depend on y
    base = F.TargetEncoder(smooth=0.0, cv=folds).fit_transform(X, y)
    leaky = F.TargetEncoder(smooth=0.0, cv=folds).fit(X, y).transform(X)
    changed_leaky = 0
    for i in range(0, 600, 37):
        flipped = y.copy()
        flipped[i] = 1 - flipped[i]
        cross_fitted = F.TargetEncoder(smooth=0.0, cv=folds).fit_transform(X, flipped)
        assert np.array_equal(cross_fitted[i], base[i]), f"row {i}'s encoding moved with its own label"
        changed_leaky += not np.allclose(F.TargetEncoder(smooth=0.0, cv=folds).fit(X, flipped).transform(X)[i],
                                         leaky[i])
    assert changed_leaky == len(range(0, 600, 37))       # without cross-fitting, every row sees its label


def test_smoothing_shrinks_small_categories_toward_the_prior():
    X = pd.DataFrame({"c": ["big"] * 100 + ["small"] * 2})
    y = np.r_[np.zeros(80), np.ones(20), np.ones(2)]
    prior = y.mean()
    for m in [0.0, 1.0, 10.0, 1e6]:
        enc = F.TargetEncoder(smooth=m).fit(X, y)
        expected = [(20 + m * prior) / (100 + m), (2 + m * prior) / (2 + m)]
        np.testing.assert_allclose(enc.encodings_[0], expected)
    assert F.TargetEncoder(smooth=1e6).fit(X, y).encodings_[0] == pytest.approx([prior, prior], abs=1e-4)
    # "auto": a pure category of n rows has no within-variance, so it keeps its own mean.
    np.testing.assert_allclose(F.TargetEncoder().fit(X, y).encodings_[0][1], 1.0)


def test_unseen_categories_get_the_prior():
    X, y = _high_cardinality(n=500)
    enc = F.TargetEncoder().fit(X, y)
    out = enc.transform(pd.DataFrame({"merchant": ["never-seen"], "colour": ["purple"]}))
    np.testing.assert_allclose(out, [[y.mean(), y.mean()]])
    # In cross-fitting, a category absent from the other folds gets those folds' prior.
    X1 = pd.DataFrame({"c": ["a", "a", "a", "a", "lonely", "a"]})
    y1 = np.array([1.0, 0.0, 1.0, 1.0, 5.0, 0.0])
    folds = KFold(3, shuffle=False)                  # "lonely" (row 4) is in the last fold
    out1 = F.TargetEncoder(smooth=0.0, cv=folds).fit_transform(X1, y1)
    assert out1[4, 0] == pytest.approx(y1[:4].mean())


def test_target_encoder_is_deterministic_given_the_seed():
    X, y = _high_cardinality(n=800)
    a = F.TargetEncoder(random_state=3).fit_transform(X, y)
    b = F.TargetEncoder(random_state=3).fit_transform(X, y)
    c = F.TargetEncoder(random_state=4).fit_transform(X, y)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize("kwargs, y, match", [
    ({"smooth": -1.0}, None, "smooth"),
    ({"smooth": "none"}, None, "smooth"),
    ({"cv": 1}, None, "cv"),
    ({"target_type": "multiclass"}, None, "target_type"),
    ({}, np.array(["a", "b", "c"] * 10), "multi-class"),
    ({"target_type": "binary"}, np.arange(30.0), "two distinct"),
    ({}, np.r_[np.ones(29), np.nan], "NaN|missing"),
])
def test_target_encoder_rejects_bad_input(kwargs, y, match):
    X = pd.DataFrame({"c": list("abc") * 10})
    y = np.arange(30) % 2 if y is None else y
    with pytest.raises(ValueError, match=match):
        F.TargetEncoder(**kwargs).fit_transform(X, y)


def test_target_encoder_refuses_overlapping_folds():
    X, y = _high_cardinality(n=200)
    with pytest.raises(ValueError, match="exactly one validation fold"):
        F.TargetEncoder(cv=ShuffleSplit(3, test_size=0.5, random_state=0)).fit_transform(X, y)


def test_target_encoding_without_cross_fitting_leaks():
    """A merchant column of pure noise: the leaky encoding looks predictive on training data only."""
    rng = np.random.default_rng(22)
    n, n_merchants = 6000, 2000
    merchants = pd.DataFrame({"merchant": rng.integers(0, n_merchants, n).astype(str)})
    signal = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(signal - 1.0)))).astype(int)   # depends on signal only
    train, val = np.arange(n) < n // 2, np.arange(n) >= n // 2

    def scores(encoded_train, encoder):
        X_train = np.column_stack([signal[train], encoded_train])
        X_val = np.column_stack([signal[val], encoder.transform(merchants[val]).ravel()])
        model = LogisticRegression().fit(X_train, y[train])
        return (roc_auc_score(y[train], model.predict_proba(X_train)[:, 1]),
                roc_auc_score(y[val], model.predict_proba(X_val)[:, 1]), model.coef_[0, 1])

    signal_only = roc_auc_score(y[val], signal[val])
    leaky_enc = F.TargetEncoder(smooth=1.0)
    leaky_train, leaky_val, leaky_weight = scores(leaky_enc.fit(merchants[train], y[train])
                                                  .transform(merchants[train]).ravel(), leaky_enc)
    oof_enc = F.TargetEncoder(smooth=1.0)
    oof_train, oof_val, oof_weight = scores(oof_enc.fit_transform(merchants[train], y[train]).ravel(), oof_enc)

    assert leaky_train - leaky_val > 0.08, (leaky_train, leaky_val)        # inflated training score
    assert leaky_val < signal_only - 0.02                                   # ...and a worse model
    assert abs(oof_train - oof_val) < 0.03, (oof_train, oof_val)            # honest training score
    assert oof_val > leaky_val + 0.02
    assert abs(oof_weight) < 0.5 * abs(leaky_weight)                        # the noise gets little weight


# ---------------------------------------------------------------------------
# Composition
# ---------------------------------------------------------------------------


def _mixed_frame(n: int = 1500, seed: int = 23):
    rng = np.random.default_rng(seed)
    X, y = _high_cardinality(n=n, seed=seed)
    frame = pd.DataFrame({
        "amount": np.exp(rng.normal(3, 1, n)) * (1 + 0.5 * y),
        "hour": rng.integers(0, 24, n),
        "distance": np.where(rng.random(n) < 0.05, np.nan, rng.exponential(10, n)),
        "is_foreign": rng.random(n) < 0.1,
        "device": pd.Categorical(rng.choice(["pos", "mobile", "desktop", None], n, p=[0.5, 0.3, 0.15, 0.05])),
        "merchant": X["merchant"],
    })
    return frame, y


def test_column_types_sorts_columns():
    frame, _ = _mixed_frame()
    assert F.column_types(frame) == {
        "numeric": ["amount", "hour", "distance", "is_foreign"],
        "categorical": ["device"],
        "high_cardinality": ["merchant"],
    }
    assert F.column_types(frame, max_categories=1000)["high_cardinality"] == []
    with pytest.raises(ValueError, match="max_categories"):
        F.column_types(frame, max_categories=0)


def test_make_preprocessor_builds_a_working_pipeline():
    frame, y = _mixed_frame()
    pre = F.make_preprocessor(frame)
    assert isinstance(pre, ColumnTransformer)
    model = Pipeline([("pre", pre), ("model", LogisticRegression(max_iter=1000))])
    auc = cross_val_score(model, frame, y, cv=3, scoring="roc_auc")
    assert auc.mean() > 0.6
    fitted = model.fit(frame, y)
    names = fitted.named_steps["pre"].get_feature_names_out()
    assert "numeric__amount" in names and "categorical__device_other" in names and "target__merchant" in names
    assert "numeric__missingindicator_distance" in names
    new, _ = _mixed_frame(n=50, seed=24)
    new["device"] = new["device"].cat.add_categories(["watch"])
    new.loc[:3, "device"] = "watch"                                  # unseen at predict time
    assert np.isfinite(fitted.predict_proba(new)).all()
    table = F.make_preprocessor(frame, degree=2).set_output(transform="pandas").fit_transform(frame, y)
    assert "numeric__amount hour" in table.columns
    chosen = fitted.named_steps["pre"].named_transformers_["numeric"].named_steps["scale"].methods_
    assert chosen[0] == "log"


def test_make_preprocessor_errors():
    frame, _ = _mixed_frame(n=100)
    with pytest.raises(ValueError, match="absent"):
        F.make_preprocessor(frame, numeric=["absent"])
    with pytest.raises(ValueError, match="scaler"):
        F.make_preprocessor(frame, scaler="minmax")
    with pytest.raises(ValueError, match="give frame"):
        F.make_preprocessor()
    with pytest.raises(ValueError, match="degree"):
        F.make_preprocessor(frame, degree=0)


@pytest.mark.parametrize("transformer", [
    F.StandardScaler(), F.RobustScaler(), F.LogScaler(), F.YeoJohnsonScaler(), F.AutoScaler(),
    F.Binner(encode="onehot"), F.PolynomialFeatures(), F.MutualInfoSelector(k=1),
], ids=lambda t: type(t).__name__)
def test_numeric_transformers_compose_in_column_transformer_with_pandas_output(transformer):
    frame, y = _mixed_frame(n=400)
    columns = ["amount", "distance"]
    steps = [skp.FunctionTransformer(lambda f: f.fillna(1.0), feature_names_out="one-to-one"), transformer]
    ct = ColumnTransformer([("t", make_pipeline(*steps), columns), ("enc", F.OneHotEncoder(), ["device"])])
    out = ct.set_output(transform="pandas").fit_transform(frame, y)
    assert isinstance(out, pd.DataFrame) and len(out) == len(frame)
    assert all(name.startswith(("t__", "enc__")) for name in out.columns)
    assert out.index.equals(frame.index)


def test_target_encoder_in_a_pipeline_cross_fits_during_fit():
    frame, y = _mixed_frame(n=600)
    pipe = make_pipeline(F.TargetEncoder(smooth=0.0, random_state=0), LogisticRegression())
    pipe.fit(frame[["merchant"]], y)
    direct = F.TargetEncoder(smooth=0.0, random_state=0).fit_transform(frame[["merchant"]], y)
    refit = LogisticRegression().fit(direct, y)
    np.testing.assert_allclose(pipe[-1].coef_, refit.coef_)        # the model was trained on out-of-fold codes


def test_world_columns_get_sensible_scalers():
    world = pytest.importorskip("mlcourse.world")
    tx = world.make_world(seed=0, n_transactions=20_000).transactions
    table = F.describe_distributions(tx, columns=["amount", "distance_km", "hour", "noise_0", "noise_1"])
    assert table.loc["amount", "method"] == "log"
    assert table.loc["distance_km", "method"] == "log"
    assert table.loc["noise_0", "method"] == "standard"
    assert table.loc["noise_1", "method"] == "standard"
    assert table.loc["amount", "skewness"] > 10          # the recording-error outliers


def test_regression_target_works_with_continuous_encoding():
    X, y = _high_cardinality(n=500)
    y_cont = y * 3.0 + np.random.default_rng(0).normal(size=len(y))
    pipe = make_pipeline(F.TargetEncoder(), LinearRegression()).fit(X, y_cont)
    assert pipe[0].target_type_ == "continuous"
    assert np.isfinite(pipe.predict(X)).all()


# ---------------------------------------------------------------------------
# Temporal features (the past only)
# ---------------------------------------------------------------------------


def _random_stream(n: int = 400, n_keys: int = 12, seed: int = 30, grid: float = 50.0):
    """Events on a coarse time grid (many ties), keys of mixed frequency, in shuffled row order."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "customer_id": rng.integers(0, n_keys, n),
        "timestamp": rng.integers(0, 60, n) * grid,
        "amount": rng.lognormal(3, 1, n),
    })
    return frame.set_axis(rng.permutation(n) + 1000)       # an index that is not 0..n-1


def _brute_force(frame: pd.DataFrame, window: float):
    """Each row against every other row: the definitions, written as plainly as possible."""
    keys, times, amounts = frame["customer_id"].to_numpy(), frame["timestamp"].to_numpy(float), frame["amount"].to_numpy()
    since, count, mean = [], [], []
    for k, t in zip(keys, times):
        past = (keys == k) & (times < t)
        since.append(t - times[past].max() if past.any() else np.nan)
        count.append(int(np.sum(past & (times >= t - window))))
        mean.append(amounts[past].mean() if past.any() else np.nan)
    return np.array(since), np.array(count), np.array(mean)


@pytest.mark.parametrize("window", [50.0, 120.0, 1000.0])
def test_temporal_features_match_their_definitions(window):
    frame = _random_stream()
    since, count, mean = _brute_force(frame, window)
    got_since = F.time_since_last(frame)
    got_count = F.rolling_count(frame, window)
    got_mean = F.past_mean(frame, "amount")
    for got in (got_since, got_count, got_mean):
        assert got.index.equals(frame.index)
    np.testing.assert_allclose(got_since.to_numpy(), since, equal_nan=True)
    np.testing.assert_array_equal(got_count.to_numpy(), count)
    np.testing.assert_allclose(got_mean.to_numpy(), mean, equal_nan=True)


def test_temporal_features_see_no_future_and_no_ties():
    frame = _random_stream(seed=31).sort_values("timestamp", kind="stable")
    full = pd.DataFrame({"s": F.time_since_last(frame), "c": F.rolling_count(frame, 100.0), "m": F.past_mean(frame, "amount")})
    early = frame[frame["timestamp"] < 1500]
    head = pd.DataFrame({"s": F.time_since_last(early), "c": F.rolling_count(early, 100.0), "m": F.past_mean(early, "amount")})
    np.testing.assert_allclose(head.to_numpy(), full.loc[early.index].to_numpy(), equal_nan=True)
    # The order of rows (ties included) does not matter.
    shuffled = frame.sample(frac=1.0, random_state=3)
    np.testing.assert_allclose(F.past_mean(shuffled, "amount").loc[frame.index], full["m"], equal_nan=True)
    # Two events in the same second do not see each other.
    pair = pd.DataFrame({"customer_id": [5, 5], "timestamp": [10.0, 10.0], "amount": [1.0, 3.0]})
    assert F.rolling_count(pair, 60).tolist() == [0, 0]
    assert np.isnan(F.time_since_last(pair)).all() and np.isnan(F.past_mean(pair, "amount")).all()


def test_rolling_count_window_is_closed_on_the_left():
    frame = pd.DataFrame({"customer_id": ["a"] * 3, "timestamp": [0.0, 3600.0, 7201.0]})
    assert F.rolling_count(frame, 3600).tolist() == [0, 1, 0]      # 0 is in [0, 3600); 3600 is not in [3601, 7201)


def test_rolling_count_reproduces_the_worlds_tx_count_24h():
    world = pytest.importorskip("mlcourse.world")
    tx = world.make_world(seed=2, n_transactions=8_000, n_customers=600).transactions
    np.testing.assert_array_equal(F.rolling_count(tx, 86_400).to_numpy(), tx["tx_count_24h"].to_numpy())
    since = F.time_since_last(tx).to_numpy()
    assert np.nanmin(since) > 0                                    # datetimes become positive seconds


@pytest.mark.parametrize("call, match", [
    (lambda f: F.time_since_last(f, key="absent"), "absent"),
    (lambda f: F.rolling_count(f, 0.0), "window"),
    (lambda f: F.past_mean(f, "nothing"), "nothing"),
    (lambda f: F.time_since_last(f.assign(timestamp=list("abcd"))), "timestamp"),
    (lambda f: F.past_mean(f.assign(amount=[1.0, np.nan, 2.0, 3.0]), "amount"), "missing"),
    (lambda f: F.time_since_last(f.to_numpy()), "DataFrame"),
])
def test_temporal_features_reject_bad_input(call, match):
    frame = pd.DataFrame({"customer_id": [1, 1, 2, 2], "timestamp": [0.0, 1.0, 2.0, 3.0], "amount": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(ValueError, match=match):
        call(frame)
