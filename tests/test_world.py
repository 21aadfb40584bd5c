"""Tests for mlcourse.world: the seeded payments world shared by the course.

Statistical checks use tolerances of several standard errors, computed from
the sample sizes, so they pass for any reasonable seed and fail when the
mechanism is wrong or missing.
"""

from __future__ import annotations

import hashlib
import math
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import mutual_info_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from mlcourse import world as world_module
from mlcourse.world import (
    DEVICES,
    FRAUD_PATTERNS,
    MERCHANT_CATEGORIES,
    MERCHANT_REGIONS,
    PATTERN_TERMS,
    SETTLEMENT_DELAY_DAYS,
    DriftEvent,
    World,
    WorldConfig,
    make_world,
    pattern_score,
)

N = 100_000


@pytest.fixture(scope="module")
def world() -> World:
    return make_world(seed=0, n_transactions=N)


@pytest.fixture(scope="module")
def tx(world: World) -> pd.DataFrame:
    return world.transactions


def binomial_tolerance(p: float, n: int, k: float = 5.0) -> float:
    """``k`` standard errors of a proportion ``p`` estimated from ``n`` draws."""
    return k * math.sqrt(max(p * (1 - p), 1e-12) / max(n, 1))


# --------------------------------------------------------------------------
# Determinism and layout
# --------------------------------------------------------------------------


def test_same_seed_identical_frames_and_different_seed_differs():
    kwargs = dict(n_transactions=20_000, n_customers=2_000, n_merchants=200)
    a, b = make_world(seed=7, **kwargs), make_world(seed=7, **kwargs)
    for name in ("customers", "merchants", "transactions"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    c = make_world(seed=8, **kwargs)
    assert not c.transactions["amount"].equals(a.transactions["amount"])
    assert not c.transactions["is_fraud"].equals(a.transactions["is_fraud"])
    assert not c.customers["customer_group"].equals(a.customers["customer_group"])


def test_config_object_and_overrides_are_equivalent():
    config = WorldConfig(n_transactions=5_000, n_customers=500, fraud_rate=0.05)
    a = make_world(config, seed=3)
    b = make_world(seed=3, n_transactions=5_000, n_customers=500, fraud_rate=0.05)
    pd.testing.assert_frame_equal(a.transactions, b.transactions)
    assert a.config == b.config
    # The seed is not lost on the config route: another seed gives another world...
    other = make_world(config, seed=4)
    assert not other.transactions["amount"].equals(a.transactions["amount"])
    # ...and what a world records (its config and seed) rebuilds it exactly.
    rebuilt = make_world(a.config, seed=a.seed)
    for name in ("customers", "merchants", "transactions"):
        pd.testing.assert_frame_equal(getattr(rebuilt, name), getattr(a, name))


def test_components_have_independent_random_streams():
    # Changing one component (the noise columns) leaves every other column as it was.
    kwargs = dict(seed=5, n_transactions=10_000, n_customers=1_000)
    a = make_world(n_noise_features=4, **kwargs).transactions
    b = make_world(n_noise_features=2, **kwargs).transactions
    assert list(b.columns) == [c for c in a.columns if c not in ("noise_2", "noise_3")]
    pd.testing.assert_frame_equal(a[b.columns], b)


def test_columns_and_dtypes(world: World, tx: pd.DataFrame):
    noise = [f"noise_{j}" for j in range(4)]
    assert list(tx.columns) == [
        "transaction_id", "timestamp", "day", "hour", "customer_id", "customer_group",
        "merchant_id", "merchant_category", "merchant_region", "device", "amount",
        "distance_km", "account_age_days", "tx_count_24h", "is_foreign", "is_new_device",
        *noise, "fraud_pattern", "is_fraud", "fraud_probability", "is_hard_negative",
        "in_labeled_set", "label", "label_day", "reviewed", "review_label", "disputed",
        "dispute_day",
    ]  # fmt: skip
    dtypes = {
        "transaction_id": "int64", "timestamp": "datetime64[ns]", "day": "int64",
        "hour": "int64", "customer_id": "int64", "customer_group": "category",
        "merchant_id": "int64", "merchant_category": "category", "merchant_region": "category",
        "device": "category", "amount": "float64", "distance_km": "float64",
        "account_age_days": "float64", "tx_count_24h": "int64", "is_foreign": "bool",
        "is_new_device": "bool", **{c: "float64" for c in noise}, "fraud_pattern": "category",
        "is_fraud": "int64", "fraud_probability": "float64", "is_hard_negative": "bool",
        "in_labeled_set": "bool", "label": "float64", "label_day": "float64",
        "reviewed": "bool", "review_label": "float64", "disputed": "bool",
        "dispute_day": "float64",
    }  # fmt: skip
    assert {c: str(t) for c, t in tx.dtypes.items()} == dtypes
    assert len(tx) == N
    assert isinstance(tx.index, pd.RangeIndex) and tx.index.equals(pd.RangeIndex(N))
    assert (tx["transaction_id"].to_numpy() == np.arange(N)).all()
    assert tx["timestamp"].is_monotonic_increasing
    # Fixed category lists, whatever occurs.
    assert list(tx["customer_group"].cat.categories) == ["A", "B", "C"]
    assert list(tx["merchant_category"].cat.categories) == list(MERCHANT_CATEGORIES)
    assert list(tx["merchant_region"].cat.categories) == list(MERCHANT_REGIONS)
    assert list(tx["device"].cat.categories) == list(DEVICES)
    assert list(tx["fraud_pattern"].cat.categories) == list(FRAUD_PATTERNS)

    assert list(world.customers.columns) == [
        "customer_id", "customer_group", "home_region", "account_age_days"
    ]  # fmt: skip
    assert list(world.merchants.columns) == ["merchant_id", "merchant_category", "merchant_region"]
    assert str(world.customers["account_age_days"].dtype) == "int64"
    assert (world.customers["account_age_days"] >= 0).all()
    assert len(world.customers) == 20_000 and len(world.merchants) == 1_000


def test_columns_are_consistent_with_each_other(world: World, tx: pd.DataFrame):
    start = pd.Timestamp(world.config.start_date)
    elapsed = tx["timestamp"] - start
    assert (tx["day"] == elapsed.dt.days).all()
    assert (tx["hour"] == tx["timestamp"].dt.hour).all()
    assert tx["day"].between(0, world.config.n_days - 1).all()
    # Rows agree with the customer and merchant tables.
    customers = world.customers.set_index("customer_id")
    merchants = world.merchants.set_index("merchant_id")
    group = customers["customer_group"].to_numpy()[tx["customer_id"].to_numpy()]
    assert (np.asarray(group) == tx["customer_group"].to_numpy()).all()
    for column in ("merchant_category", "merchant_region"):
        expected = merchants[column].to_numpy()[tx["merchant_id"].to_numpy()]
        assert (np.asarray(expected) == tx[column].to_numpy()).all()
    assert (tx["is_foreign"] == tx["merchant_region"].astype(str).str.startswith("abroad")).all()
    # Account age grows with the day.
    age0 = customers["account_age_days"].to_numpy()[tx["customer_id"].to_numpy()]
    known = tx["account_age_days"].notna().to_numpy()
    assert np.array_equal(tx["account_age_days"].to_numpy()[known], (age0 + tx["day"])[known])
    # A card terminal is never the customer's new device.
    assert not (tx["is_new_device"] & (tx["device"] == "pos")).any()
    assert (tx["amount"] > 0).all() and (tx["distance_km"].dropna() >= 0).all()


def test_feature_columns_are_observable_inputs_only(world: World, tx: pd.DataFrame):
    features = world.feature_columns
    assert set(features) <= set(tx.columns)
    assert world.noise_columns == [f"noise_{j}" for j in range(4)]
    assert set(world.noise_columns) <= set(features)
    leaks = {
        "transaction_id", "timestamp", "day", "customer_id", "merchant_id", "fraud_pattern",
        "is_fraud", "fraud_probability", "is_hard_negative", "in_labeled_set", "label",
        "label_day", "reviewed", "review_label", "disputed", "dispute_day",
    }  # fmt: skip
    assert not leaks & set(features)
    assert "customer_group" in features and "amount" in features


def test_realistic_shapes(tx: pd.DataFrame):
    amount = tx["amount"]
    # Log-normal and right-skewed, with a far tail from the outliers.
    assert amount.mean() > 1.5 * amount.median()
    assert amount.max() > 50 * amount.median()
    by_category = tx.groupby("merchant_category", observed=True)["amount"].median()
    assert by_category["travel"] > 10 * by_category["digital_goods"]
    distance = tx["distance_km"].dropna()
    assert distance.mean() > 3 * distance.median()
    # Daytime is busy, the night is quiet ...
    hours = tx["hour"].value_counts(normalize=True)
    assert hours.loc[[12, 17, 18]].min() > 5 * hours.loc[[2, 3, 4]].max()
    # ... but under the stolen-card pattern, fraud happens at night.
    stolen = tx[tx["fraud_pattern"] == "stolen_card"]
    night = stolen["hour"] < 6
    assert stolen.loc[night, "is_fraud"].mean() > 2 * stolen.loc[~night, "is_fraud"].mean()
    # Fraud risk depends on the merchant category under stolen cards.
    risk = stolen.groupby("merchant_category", observed=True)["is_fraud"].mean()
    assert risk["travel"] > 3 * risk["grocery"] and risk["electronics"] > 3 * risk["grocery"]


# --------------------------------------------------------------------------
# Fraud, groups, drift
# --------------------------------------------------------------------------


@pytest.mark.parametrize("fraud_rate", [0.01, 0.1])
def test_prevalence_matches_fraud_rate_in_every_regime(fraud_rate: float):
    n = 40_000
    tx = make_world(seed=1, n_transactions=n, n_customers=4_000, fraud_rate=fraud_rate).transactions
    assert abs(tx["is_fraud"].mean() - fraud_rate) < binomial_tolerance(fraud_rate, n)
    for pattern, rows in tx.groupby("fraud_pattern", observed=True):
        rate = rows["is_fraud"].mean()
        assert abs(rate - fraud_rate) < binomial_tolerance(fraud_rate, len(rows)), pattern
        # The solved intercept makes the mean probability the target, per regime.
        assert rows["fraud_probability"].mean() == pytest.approx(fraud_rate, rel=1e-6)


def test_true_fraud_rate_is_similar_across_groups(tx: pd.DataFrame):
    overall = tx["is_fraud"].mean()
    for group, rows in tx.groupby("customer_group", observed=True):
        rate = rows["is_fraud"].mean()
        assert abs(rate - overall) < binomial_tolerance(overall, len(rows)), group


@pytest.fixture(scope="module")
def audited() -> World:
    # More labels and reviews, and cleaner ones, than by default, so that group
    # C's few rows give tight estimates.
    return make_world(
        seed=2,
        n_transactions=300_000,
        labeled_fraction=0.5,
        review_rate=0.5,
        review_accuracy=0.99,
        label_noise=0.0,
    )


def test_group_c_fraud_is_under_reported(audited: World):
    config = audited.config
    labeled = audited.labeled()
    frauds = labeled[labeled["is_fraud"] == 1]
    noise = config.label_noise
    for group, rows in frauds.groupby("customer_group", observed=True):
        # P(label 1 | fraud) = report * (1 - noise) + (1 - report) * noise
        report = config.chargeback_report_rate[group]
        expected = report * (1 - noise) + (1 - report) * noise
        assert abs(rows["label"].mean() - expected) < binomial_tolerance(expected, len(rows)), group
    rate = labeled.groupby("customer_group", observed=True)["label"].mean()
    assert rate["C"] < 0.85 * rate["A"], rate


def test_hidden_bias_is_findable_through_the_audit(audited: World):
    # What an analyst can do without ground truth: estimate each group's fraud
    # rate from the random audit (correcting for review errors) and compare it
    # with the label rate of the labeled set.
    accuracy = audited.config.review_accuracy
    tx = audited.transactions
    reviewed = tx[tx["reviewed"]]
    flagged = reviewed.groupby("customer_group", observed=True)["review_label"].mean()
    audit_rate = (flagged - (1 - accuracy)) / (2 * accuracy - 1)  # Rogan-Gladen correction
    labeled = audited.labeled()
    label_rate = labeled.groupby("customer_group", observed=True)["label"].mean()
    # The audit sees the same fraud rate in C as in A ...
    assert abs(audit_rate["C"] - audit_rate["A"]) < 0.35 * audit_rate["A"], audit_rate
    # ... while the labels of C reach a clearly smaller share of it.
    ratio = label_rate / audit_rate
    assert ratio["C"] < 0.8 * ratio["A"], ratio
    assert ratio["A"] > 0.8, ratio  # A's fraud does get reported


# Digests of a small default world, taken from the simulator before group_proxy_strength and
# group_fraud_odds existed (commit 6c48392): with both knobs at their defaults the world must draw
# exactly what it drew then, because every module's numbers and tests rest on it.
DEFAULT_WORLD_DIGESTS = {
    "customers": "2078d636652ca8b924e23c2a77fb70ce514cc4e3ea39d5069ba5439150dea2e4",
    "merchants": "f2bc35d34b88e53a381a1ee072bc14afe9ab26153d97442eb673794dd596ae4a",
    "transactions": "1ee5717e39ea0c1f174742fb4518f26682b4111d7e15c28c30c377fd2cc02d48",
}


def _digest(frame: pd.DataFrame) -> str:
    return hashlib.sha256(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes()).hexdigest()


@pytest.mark.parametrize("knobs", [{}, {"group_proxy_strength": 0.0, "group_fraud_odds": {}, "segment_fraud_odds": {}},
                                   {"group_fraud_odds": {"A": 1.0}}], ids=["defaults", "explicit", "odds-one"])
def test_the_bias_knobs_at_their_defaults_leave_the_world_as_it_was(knobs: dict):
    w = make_world(seed=11, n_transactions=5_000, n_customers=500, n_merchants=100, **knobs)
    got = {name: _digest(getattr(w, name)) for name in DEFAULT_WORLD_DIGESTS}
    assert got == DEFAULT_WORLD_DIGESTS


@pytest.fixture(scope="module")
def proxy_worlds() -> tuple[World, World]:
    kwargs = dict(n_transactions=60_000, n_customers=12_000, group_shares={"A": 0.5, "B": 0.3, "C": 0.2},
                  chargeback_report_rate={"A": 0.9, "B": 0.9, "C": 0.9}, group_label_sampling={})
    return make_world(seed=5, **kwargs), make_world(seed=5, group_proxy_strength=0.7, **kwargs)


def test_proxies_tie_home_region_merchant_region_and_device_to_the_group(proxy_worlds):
    plain, proxied = proxy_worlds
    # The group and the other customer draws come from their own stream: the same customers.
    pd.testing.assert_series_equal(plain.customers["customer_group"], proxied.customers["customer_group"])
    pd.testing.assert_series_equal(plain.customers["account_age_days"], proxied.customers["account_age_days"])
    cust = proxied.customers
    base = plain.customers["home_region"].value_counts(normalize=True)
    for group, region in {"A": "west", "B": "east", "C": "south"}.items():
        rows = cust[cust["customer_group"] == group]
        share = float((rows["home_region"] == region).mean())
        expected = 0.7 + 0.3 * float(base[region])  # moved, or drawn there anyway
        assert abs(share - expected) < binomial_tolerance(expected, len(rows)), (group, share, expected)
    tx = proxied.transactions
    for group, region in {"A": "west", "B": "east", "C": "south"}.items():
        rows = tx[tx["customer_group"] == group]
        others = tx[tx["customer_group"] != group]
        assert (rows["merchant_region"] == region).mean() > 2 * (others["merchant_region"] == region).mean(), group
    online = tx[tx["device"].isin(["mobile", "desktop"])]
    phone = online.groupby("customer_group", observed=True)["device"].apply(lambda d: float((d == "mobile").mean()))
    assert phone["A"] > phone["C"] + 0.1 > phone["B"] + 0.2, phone  # A leans to the phone, B to a computer
    # In the plain world neither column says anything about the group.
    for column in ("merchant_region", "device"):
        # Missing devices as a level of their own (astype(str) keeps NaN under pandas 3's string dtype).
        mi_plain = mutual_info_score(plain.transactions["customer_group"],
                                     plain.transactions[column].astype(object).fillna("missing").astype(str))
        mi_proxy = mutual_info_score(tx["customer_group"], tx[column].astype(object).fillna("missing").astype(str))
        assert mi_plain < 0.002 and mi_proxy > 0.03, (column, mi_plain, mi_proxy)


def test_group_fraud_odds_change_the_true_base_rates():
    n = 120_000
    tx = make_world(seed=6, n_transactions=n, n_customers=12_000, group_fraud_odds={"B": 2.5}).transactions
    assert abs(tx["is_fraud"].mean() - 0.02) < binomial_tolerance(0.02, n)  # the overall rate is kept
    rate = tx.groupby("customer_group", observed=True)["is_fraud"].mean()
    odds = rate / (1 - rate)
    assert 1.8 < odds["B"] / odds["A"] < 3.4, odds
    assert 0.75 < odds["C"] / odds["A"] < 1.33, odds  # groups not named keep odds 1


def test_segment_fraud_odds_concentrate_fraud_in_the_segment_only():
    n = 120_000
    kwargs = dict(n_transactions=n, n_customers=12_000)
    plain = make_world(seed=8, **kwargs).transactions
    hot = make_world(seed=8, segment_fraud_odds={"restaurants@abroad_eu": 200.0}, **kwargs).transactions
    segment = ((hot["merchant_category"] == "restaurants") & (hot["merchant_region"] == "abroad_eu")).to_numpy()
    assert 0.0003 < segment.mean() < 0.02, segment.mean()  # a rare segment of this world (59 rows)
    # No new draw: the same sessions and, away from the hard negatives (picked among the legitimate
    # transactions, which now differ), the same purchases.
    for column in ["customer_id", "timestamp"]:
        pd.testing.assert_series_equal(plain[column], hot[column])
    untouched = ~(plain["is_hard_negative"] | hot["is_hard_negative"])
    for column in ["amount", "merchant_id", "distance_km"]:
        pd.testing.assert_series_equal(plain.loc[untouched, column], hot.loc[untouched, column])
    assert abs(hot["is_fraud"].mean() - 0.02) < binomial_tolerance(0.02, n)  # the overall rate is kept
    rate_in = hot.loc[segment, "is_fraud"].mean()
    plain_in = plain.loc[segment, "is_fraud"].mean()
    assert rate_in > 0.3 and rate_in > 10 * plain_in, (rate_in, plain_in)
    # Outside the segment the odds of fraud fall a little (the intercept keeps the overall rate) and never rise;
    # inside, they are 200 times that, in each drift regime (each has its own intercept). Hard negatives may
    # have been moved to another merchant after the draw, so they are left out.
    p_plain, p_hot = plain["fraud_probability"].to_numpy(), hot["fraud_probability"].to_numpy()
    odds_ratio = (p_hot / (1 - p_hot)) / (p_plain / (1 - p_plain))
    keep = untouched.to_numpy()
    for regime in hot["fraud_pattern"].unique():
        rows = keep & (hot["fraud_pattern"] == regime).to_numpy()
        outside, inside = odds_ratio[rows & ~segment], odds_ratio[rows & segment]
        assert len(inside) > 0 and (outside < 1.0).all(), regime
        assert np.allclose(outside, outside[0], rtol=1e-6), regime  # one shift outside the segment
        assert np.allclose(inside / outside[0], 200.0, rtol=1e-6), regime


def test_fraud_probability_is_the_ground_truth_model(tx: pd.DataFrame):
    auc = roc_auc_score(tx["is_fraud"], tx["fraud_probability"])
    assert 0.85 < auc < 0.99, auc


def _model() -> object:
    """Logistic regression on one-hot categoricals (hour too) and scaled, imputed numbers."""

    def signed_log(x: np.ndarray) -> np.ndarray:
        return np.sign(x) * np.log1p(np.abs(x))

    categorical = ["hour", "device", "merchant_category", "merchant_region", "customer_group"]
    numeric = ["amount", "distance_km", "account_age_days", "tx_count_24h", "is_foreign",
               "is_new_device", "noise_0", "noise_1", "noise_2", "noise_3"]  # fmt: skip
    pre = ColumnTransformer(
        [
            ("categorical", OneHotEncoder(handle_unknown="ignore"), categorical),
            (
                "numeric",
                make_pipeline(
                    FunctionTransformer(signed_log),
                    SimpleImputer(strategy="median"),
                    StandardScaler(),
                ),
                numeric,
            ),
        ]
    )
    return make_pipeline(pre, LogisticRegression(max_iter=1_000))


def _features(world: World, rows: pd.DataFrame) -> pd.DataFrame:
    X = rows[world.feature_columns].copy()
    for column in ("device", "merchant_category", "merchant_region", "customer_group"):
        X[column] = X[column].astype(object).where(X[column].notna(), "missing")
    X[["is_foreign", "is_new_device"]] = X[["is_foreign", "is_new_device"]].astype(float)
    return X


def test_fraud_is_learnable_but_not_trivially(world: World, tx: pd.DataFrame):
    train = np.random.default_rng(0).random(len(tx)) < 0.6
    model = _model().fit(_features(world, tx[train]), tx.loc[train, "is_fraud"])
    scores = model.predict_proba(_features(world, tx[~train]))[:, 1]
    auc = roc_auc_score(tx.loc[~train, "is_fraud"], scores)
    assert 0.80 < auc < 0.95, auc


def _pre_post_auc(world: World, drift_day: int) -> tuple[float, float]:
    tx = world.transactions
    before = (tx["day"] < drift_day).to_numpy()
    train = before & (np.random.default_rng(0).random(len(tx)) < 0.7)
    test_before = before & ~train
    model = _model().fit(_features(world, tx[train]), tx.loc[train, "is_fraud"])

    def auc(mask: np.ndarray) -> float:
        scores = model.predict_proba(_features(world, tx[mask]))[:, 1]
        return roc_auc_score(tx.loc[mask, "is_fraud"], scores)

    return auc(test_before), auc(~before)


def test_concept_drift_degrades_a_model_trained_before_it(world: World):
    drift_day = world.config.drift[0].day
    auc_before, auc_after = _pre_post_auc(world, drift_day)
    assert auc_before > 0.85, auc_before
    assert auc_after < auc_before - 0.2, (auc_before, auc_after)
    # Control: without the drift event the same model keeps its quality after that day.
    stable = make_world(seed=0, n_transactions=N, drift=())
    stable_before, stable_after = _pre_post_auc(stable, drift_day)
    assert stable_after > stable_before - 0.05, (stable_before, stable_after)


def test_fraud_pattern_column_follows_the_drift_schedule():
    drift = (DriftEvent(10, "card_testing"), DriftEvent(20, "account_takeover"))
    tx = make_world(seed=4, n_transactions=20_000, n_days=30, drift=drift).transactions
    expected = np.select(
        [tx["day"] < 10, tx["day"] < 20], ["stolen_card", "card_testing"], "account_takeover"
    )
    assert (tx["fraud_pattern"].astype(str).to_numpy() == expected).all()
    # Account takeover: new devices become the fraud signal.
    late = tx[tx["day"] >= 20]
    new = late["is_new_device"]
    assert late.loc[new, "is_fraud"].mean() > 5 * late.loc[~new, "is_fraud"].mean()


def test_hard_negatives_look_like_the_current_pattern(tx: pd.DataFrame):
    hard = tx["is_hard_negative"].to_numpy()
    legit = (tx["is_fraud"] == 0).to_numpy()
    assert not (hard & ~legit).any(), "hard negatives are legit by definition"
    rate = WorldConfig().hard_negative_rate
    assert abs(hard.sum() - rate * legit.sum()) <= 1
    for pattern, rows in tx.groupby("fraud_pattern", observed=True):
        score = pattern_score(rows, str(pattern))
        is_hard = rows["is_hard_negative"].to_numpy()
        ordinary = (rows["is_fraud"] == 0).to_numpy() & ~is_hard
        assert score[is_hard].mean() > score[ordinary].mean() + 2.0, pattern
        # Hard negatives are as suspicious as real fraud under the pattern.
        fraud = (rows["is_fraud"] == 1).to_numpy()
        assert roc_auc_score(np.r_[np.ones(is_hard.sum()), np.zeros(ordinary.sum())],
                             np.r_[score[is_hard], score[ordinary]]) > 0.9  # fmt: skip
        assert score[is_hard].mean() > score[fraud].mean() - 1.0, pattern


def test_pattern_score_matches_the_generating_model(tx: pd.DataFrame):
    # On rows without outliers or missing cells, sigmoid(b + score) is the stored probability.
    clean = tx[tx[["distance_km", "account_age_days", "device"]].notna().all(axis=1)]
    clean = clean[(clean["fraud_pattern"] == "stolen_card") & ~clean["is_hard_negative"]]
    clean = clean[clean["amount"] < 5_000]
    score = pattern_score(clean, "stolen_card")
    logit = np.log(clean["fraud_probability"] / (1 - clean["fraud_probability"]))
    intercept = logit - score
    assert np.ptp(intercept.quantile([0.01, 0.99]).to_numpy()) < 1e-6


def test_user_defined_pattern(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(FRAUD_PATTERNS, "fuel_skimming", {"category:fuel": 3.0, "night": 1.0})
    tx = make_world(seed=0, n_transactions=20_000, n_customers=2_000,
                    initial_pattern="fuel_skimming", drift=()).transactions  # fmt: skip
    risk = tx.groupby("merchant_category", observed=True)["is_fraud"].mean()
    assert risk["fuel"] > 5 * risk.drop("fuel").max()
    monkeypatch.setitem(FRAUD_PATTERNS, "broken", {"colour": 1.0})
    with pytest.raises(ValueError, match="colour"):
        make_world(seed=0, n_transactions=1_000, initial_pattern="broken")
    with pytest.raises(ValueError, match="pattern"):
        pattern_score(tx, "no_such_pattern")


def test_every_pattern_uses_known_terms():
    for pattern, coefs in FRAUD_PATTERNS.items():
        assert set(coefs) <= set(PATTERN_TERMS), pattern
    assert {"stolen_card", "card_testing", "account_takeover"} <= set(FRAUD_PATTERNS)


# --------------------------------------------------------------------------
# Velocity feature
# --------------------------------------------------------------------------


def test_tx_count_24h_equals_brute_force_count():
    world = make_world(seed=3, n_transactions=4_000, n_customers=60, n_days=6, drift=())
    tx = world.transactions
    seconds = ((tx["timestamp"] - tx["timestamp"].iloc[0]).dt.total_seconds()).to_numpy()
    expected = np.zeros(len(tx), dtype=np.int64)
    for _, index in tx.groupby("customer_id").indices.items():  # brute force, per customer
        t = seconds[index]
        in_window = (t[None, :] >= t[:, None] - 86_400) & (t[None, :] < t[:, None])
        expected[index] = in_window.sum(axis=1)
    assert np.array_equal(tx["tx_count_24h"].to_numpy(), expected)
    assert expected.max() >= 5  # the check covers busy windows, not only zeros


# --------------------------------------------------------------------------
# Labels, delays, partition, feedback, data problems
# --------------------------------------------------------------------------


def test_label_delays(world: World, tx: pd.DataFrame):
    labeled = tx[tx["in_labeled_set"]]
    assert labeled["label"].notna().all() and labeled["label_day"].notna().all()
    outside = tx[~tx["in_labeled_set"]]
    assert outside["label"].isna().all() and outside["label_day"].isna().all()
    assert set(labeled["label"].unique()) == {0.0, 1.0}
    delay = labeled["label_day"] - labeled["day"]
    assert (delay >= 1).all()
    positive = labeled["label"] == 1
    # Legit labels settle after a fixed window; chargebacks take much longer.
    assert (delay[~positive] == SETTLEMENT_DELAY_DAYS).all()
    mean_chargeback = delay[positive].mean()
    expected = world.config.chargeback_delay_days
    # Gamma(2) delays: sd = mean / sqrt(2).
    assert abs(mean_chargeback - expected) < 5 * expected / math.sqrt(2 * positive.sum()) + 0.5
    assert delay[positive].median() > 2 * SETTLEMENT_DELAY_DAYS


def test_labeled_as_of_day(world: World, tx: pd.DataFrame):
    all_labeled = world.labeled()
    assert all_labeled.index.equals(tx.index[tx["in_labeled_set"]])
    sizes = []
    for day in (0, 30, 60, 90, 120, 200):
        known = world.labeled(as_of_day=day)
        assert (known["label_day"] <= day).all()
        expected = tx["in_labeled_set"] & (tx["label_day"] <= day)
        assert known.index.equals(tx.index[expected])
        sizes.append(len(known))
    assert sizes == sorted(sizes) and sizes[0] == 0 and 0 < sizes[2] < sizes[-1]
    # Positives arrive later than negatives: early snapshots under-count fraud.
    early = world.labeled(as_of_day=60)
    assert early["label"].mean() < all_labeled[all_labeled["day"] < 60]["label"].mean()
    with pytest.raises(ValueError, match="as_of_day"):
        world.labeled(as_of_day="soon")


def test_labeled_and_unlabeled_partition(world: World, tx: pd.DataFrame):
    labeled, unlabeled = world.labeled(), world.unlabeled()
    assert len(labeled) == round(world.config.labeled_fraction * len(tx))
    assert len(labeled) + len(unlabeled) == len(tx)
    assert not labeled.index.intersection(unlabeled.index).size
    assert unlabeled["label"].isna().all()
    # Group C enters the labeled set about half as often as A and B.
    share = tx.groupby("customer_group", observed=True)["in_labeled_set"].mean()
    assert abs(share["A"] - share["B"]) < 0.02
    assert 0.4 < share["C"] / share["A"] < 0.65, share


def test_missing_rates(tx: pd.DataFrame):
    rate = WorldConfig().missing_rate
    for column in ("distance_km", "account_age_days", "device"):
        observed = tx[column].isna().mean()
        assert abs(observed - rate) < binomial_tolerance(rate, len(tx)), column
    complete = ["amount", "hour", "tx_count_24h", "merchant_category", "customer_group"]
    assert not tx[complete].isna().any().any()
    none = make_world(seed=0, n_transactions=5_000, missing_rate=0.0).transactions
    assert not none[["distance_km", "account_age_days", "device"]].isna().any().any()


def test_outliers_are_rare_and_extreme():
    kwargs = dict(seed=6, n_transactions=50_000, n_customers=5_000)
    clean = make_world(outlier_rate=0.0, **kwargs).transactions["amount"]
    dirty = make_world(outlier_rate=0.01, **kwargs).transactions["amount"]
    changed = dirty != clean
    assert abs(changed.mean() - 0.01) < binomial_tolerance(0.01, len(clean))
    assert (dirty[changed] / clean[changed] > 9.9).all()


def _mutual_information(x: np.ndarray, y: np.ndarray) -> float:
    """Plug-in mutual information (nats) of two discrete arrays, from the joint histogram."""
    _, xi = np.unique(x, return_inverse=True)
    _, yi = np.unique(y, return_inverse=True)
    joint = np.zeros((xi.max() + 1, yi.max() + 1))
    np.add.at(joint, (xi, yi), 1)
    joint /= joint.sum()
    outer = joint.sum(axis=1, keepdims=True) * joint.sum(axis=0, keepdims=True)
    nonzero = joint > 0
    return float((joint[nonzero] * np.log(joint[nonzero] / outer[nonzero])).sum())


def test_noise_features_carry_no_information(world: World, tx: pd.DataFrame):
    y = tx["is_fraud"].to_numpy()
    rng = np.random.default_rng(0)

    def binned(column: str) -> np.ndarray:
        values = tx[column].to_numpy(dtype=float)
        edges = np.nanquantile(values, np.linspace(0, 1, 11)[1:-1])
        return np.searchsorted(edges, values)

    # Null distribution: MI of a binned noise column with shuffled labels.
    null = [mutual_info_score(rng.permutation(y), binned("noise_0")) for _ in range(30)]
    threshold = np.mean(null) + 6 * np.std(null)
    for column in world.noise_columns:
        bins = binned(column)
        mi = mutual_info_score(y, bins)
        assert mi == pytest.approx(_mutual_information(bins, y), abs=1e-12)
        assert mi < threshold, (column, mi, threshold)
    # Positive control: real features are far above the null.
    for column in ("amount", "distance_km", "is_foreign"):
        assert mutual_info_score(y, binned(column)) > 5 * threshold, column


def test_analyst_reviews(tx: pd.DataFrame):
    config = WorldConfig()
    reviewed = tx[tx["reviewed"]]
    assert abs(len(reviewed) / len(tx) - config.review_rate) < binomial_tolerance(
        config.review_rate, len(tx)
    )
    assert reviewed["review_label"].notna().all()
    assert tx.loc[~tx["reviewed"], "review_label"].isna().all()
    agree = (reviewed["review_label"] == reviewed["is_fraud"]).mean()
    tolerance = binomial_tolerance(config.review_accuracy, len(reviewed))
    assert abs(agree - config.review_accuracy) < tolerance
    # A random audit: the same review rate in and outside the labeled set and in every group.
    by_set = tx.groupby("in_labeled_set")["reviewed"].mean()
    assert abs(by_set[True] - by_set[False]) < 0.006


def test_disputes(tx: pd.DataFrame):
    config = WorldConfig()
    for is_fraud, rate in ((1, config.dispute_rate_fraud), (0, config.dispute_rate_legit)):
        rows = tx[tx["is_fraud"] == is_fraud]
        assert abs(rows["disputed"].mean() - rate) < binomial_tolerance(rate, len(rows)), is_fraud
    disputed = tx[tx["disputed"]]
    assert (disputed["dispute_day"] > disputed["day"]).all()
    assert tx.loc[~tx["disputed"], "dispute_day"].isna().all()
    delay = disputed["dispute_day"] - disputed["day"]
    fraud = disputed["is_fraud"] == 1
    assert delay[fraud].mean() < delay[~fraud].mean()


def test_tiny_worlds_work():
    w = make_world(seed=0, n_transactions=1, n_customers=1, n_merchants=1, n_days=1, drift=())
    assert len(w.transactions) == 1 and len(w.customers) == 1 and len(w.merchants) == 1
    w = make_world(
        seed=0, n_transactions=500, n_merchants=3, n_days=2, drift=(), labeled_fraction=1.0
    )
    assert w.transactions["in_labeled_set"].all() and len(w.unlabeled()) == 0
    assert "World(seed=0, transactions=500" in repr(w)


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------

INVALID = [
    ("n_transactions", 0),
    ("n_transactions", -5),
    ("n_transactions", 1.5),
    ("n_transactions", True),
    ("n_customers", 0),
    ("n_merchants", -1),
    ("n_days", 0),
    ("start_date", "the first of January"),
    ("start_date", 20260101),
    ("group_shares", {}),
    ("group_shares", {"A": 0.5, "B": 0.4, "C": 0.05}),
    ("group_shares", {"A": 1.2, "B": -0.1, "C": -0.1}),
    ("group_shares", [0.5, 0.5]),
    ("fraud_rate", 0.0),
    ("fraud_rate", 0.5),
    ("fraud_rate", -0.02),
    ("fraud_rate", float("nan")),
    ("fraud_rate", "0.02"),
    ("initial_pattern", "phishing"),
    ("drift", (DriftEvent(day=120, pattern="card_testing"),)),
    ("drift", (DriftEvent(day=-1, pattern="card_testing"),)),
    ("drift", (DriftEvent(day=10, pattern="phishing"),)),
    ("drift", (DriftEvent(50, "card_testing"), DriftEvent(20, "stolen_card"))),
    ("drift", DriftEvent(day=10, pattern="card_testing")),
    ("drift", ((10, "card_testing"),)),
    ("label_noise", 0.5),
    ("label_noise", -0.01),
    ("chargeback_delay_days", 0.0),
    ("chargeback_delay_days", float("inf")),
    ("chargeback_report_rate", {"A": 0.9, "B": 0.9}),
    ("chargeback_report_rate", {"A": 0.9, "B": 0.9, "C": 1.5}),
    ("chargeback_report_rate", {"A": 0.9, "B": 0.9, "C": 0.5, "D": 0.5}),
    ("labeled_fraction", 0.0),
    ("labeled_fraction", 1.01),
    ("group_label_sampling", {"D": 0.5}),
    ("group_label_sampling", {"C": 0.0}),
    ("missing_rate", 1.0),
    ("missing_rate", -0.05),
    ("n_noise_features", -1),
    ("n_noise_features", 2.0),
    ("outlier_rate", -0.001),
    ("hard_negative_rate", 0.6),
    ("review_rate", 1.5),
    ("review_accuracy", 0.4),
    ("dispute_rate_fraud", 1.1),
    ("dispute_rate_legit", -0.001),
    ("group_proxy_strength", -0.1),
    ("group_proxy_strength", 1.5),
    ("group_proxy_strength", True),
    ("group_fraud_odds", {"D": 2.0}),
    ("group_fraud_odds", {"A": 0.0}),
    ("group_fraud_odds", {"A": float("nan")}),
    ("group_fraud_odds", [("A", 2.0)]),
    ("segment_fraud_odds", {"restaurants": 5.0}),
    ("segment_fraud_odds", {"casino@north": 5.0}),
    ("segment_fraud_odds", {"fuel@mars": 5.0}),
    ("segment_fraud_odds", {"fuel@north": 0.0}),
    ("segment_fraud_odds", {"fuel@north": float("inf")}),
    ("segment_fraud_odds", {"fuel@north": "5"}),
    ("segment_fraud_odds", {("fuel", "north"): 5.0}),
    ("segment_fraud_odds", [("fuel@north", 5.0)]),
]


@pytest.mark.parametrize(("field", "value"), INVALID, ids=[f"{f}={v!r}" for f, v in INVALID])
def test_invalid_config_raises_naming_the_field(field: str, value: object):
    with pytest.raises(ValueError, match=rf"WorldConfig\.{field}: expected"):
        WorldConfig(**{field: value})
    with pytest.raises(ValueError, match=rf"WorldConfig\.{field}: expected"):
        make_world(seed=0, **{field: value})


def test_shorter_world_needs_an_earlier_drift():
    with pytest.raises(ValueError, match=r"drift.*n_days=50.*drift=\(\)"):
        WorldConfig(n_days=50)
    # With the drift moved inside the 50 days, the world is built, spans them, and drifts on day 30.
    config = WorldConfig(n_days=50, drift=(DriftEvent(30, "card_testing"),))
    tx = make_world(config, seed=0, n_transactions=5_000, n_customers=500).transactions
    assert tx["day"].min() == 0 and tx["day"].max() == 49
    expected = np.where(tx["day"] < 30, "stolen_card", "card_testing")
    assert (tx["fraud_pattern"].astype(str).to_numpy() == expected).all()


def test_invalid_make_world_arguments():
    with pytest.raises(ValueError, match="seed"):
        make_world(seed=-1)
    with pytest.raises(ValueError, match="seed"):
        make_world(seed=1.5)
    with pytest.raises(ValueError, match="n_transaction"):
        make_world(seed=0, n_transaction=10)  # a typo names the unknown field
    with pytest.raises(ValueError, match="config"):
        make_world({"n_transactions": 10})


def test_config_is_frozen_and_copies_mappings():
    shares = {"X": 0.5, "Y": 0.5}
    config = WorldConfig(group_shares=shares, chargeback_report_rate={"X": 0.9, "Y": 0.5},
                         group_label_sampling={})  # fmt: skip
    shares["X"] = 0.9
    assert config.group_shares == {"X": 0.5, "Y": 0.5}
    with pytest.raises(AttributeError):
        config.fraud_rate = 0.1  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.group_shares["X"] = 0.9  # type: ignore[index]
    # Hashable (a cache key) and picklable (for worker processes).
    assert hash(config) == hash(WorldConfig(**{f: getattr(config, f) for f in ("group_shares",
                                "chargeback_report_rate", "group_label_sampling")}))  # fmt: skip
    assert pickle.loads(pickle.dumps(config)) == config
    tx = make_world(config, seed=0, n_transactions=2_000, n_customers=200).transactions
    assert list(tx["customer_group"].cat.categories) == ["X", "Y"]


def test_module_exports():
    assert set(world_module.__all__) >= {
        "WorldConfig", "DriftEvent", "World", "make_world", "FRAUD_PATTERNS"
    }  # fmt: skip
