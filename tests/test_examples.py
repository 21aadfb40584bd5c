"""Tests for mlcourse.examples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import r2_score, roc_auc_score

from mlcourse import evaluation as ev
from mlcourse.examples import WEAK_GROUP, make_regression_example, make_scored_transactions


@pytest.fixture(scope="module")
def transactions() -> pd.DataFrame:
    return make_scored_transactions(seed=0)


def test_columns_and_types(transactions):
    df = transactions
    assert list(df.columns) == [
        "transaction_id",
        "customer_group",
        "merchant_category",
        "amount",
        "is_fraud",
        "score",
    ]
    assert len(df) == 20_000
    assert df["transaction_id"].is_unique
    assert set(df["customer_group"].cat.categories) == {"A", "B", "C"}
    assert df["merchant_category"].nunique() == 5
    assert set(np.unique(df["is_fraud"])) == {0, 1}
    assert df["score"].between(0, 1).all()
    assert (df["amount"] > 0).all()
    # Log-normal amounts are right-skewed: the mean sits well above the median.
    assert df["amount"].mean() > 1.2 * df["amount"].median()
    # Unequal group sizes.
    shares = df["customer_group"].value_counts(normalize=True)
    assert shares.max() > 1.5 * shares.min()


def test_same_seed_same_frame_and_different_seed_differs(transactions):
    pd.testing.assert_frame_equal(make_scored_transactions(seed=0), transactions)
    other = make_scored_transactions(seed=1)
    assert not other["score"].equals(transactions["score"])


@pytest.mark.parametrize("prevalence", [0.02, 0.1])
def test_prevalence_close_to_requested(prevalence):
    n = 20_000
    rate = make_scored_transactions(n, prevalence=prevalence, seed=3)["is_fraud"].mean()
    # Five binomial standard errors.
    assert abs(rate - prevalence) < 5 * np.sqrt(prevalence * (1 - prevalence) / n)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_score_is_informative_but_imperfect(seed):
    df = make_scored_transactions(seed=seed)
    auc = roc_auc_score(df["is_fraud"], df["score"])
    assert 0.85 <= auc <= 0.93
    # Miscalibrated: the average "probability" is far from the fraud rate.
    assert df["score"].mean() > 2 * df["is_fraud"].mean()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_weak_group_has_lowest_auc(seed):
    df = make_scored_transactions(seed=seed)
    auc = {
        group: roc_auc_score(part["is_fraud"], part["score"])
        for group, part in df.groupby("customer_group", observed=True)
    }
    others = [value for group, value in auc.items() if group != WEAK_GROUP]
    assert auc[WEAK_GROUP] < min(others) - 0.05
    # And slice analysis finds it as the worst ranking slice.
    table = ev.slice_metrics(
        df["is_fraud"], (df["score"] >= 0.5).astype(int), df["customer_group"], scores=df["score"]
    )
    assert table["roc_auc"].idxmin() == WEAK_GROUP


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n": 0}, "n must be an integer >= 1"),
        ({"n": -5}, "n must be an integer >= 1"),
        ({"n": 10.5}, "n must be an integer >= 1"),
        ({"prevalence": 0.0}, r"prevalence must be a number in \(0, 1\)"),
        ({"prevalence": 1.0}, r"prevalence must be a number in \(0, 1\)"),
        ({"prevalence": -0.1}, r"prevalence must be a number in \(0, 1\)"),
    ],
)
def test_invalid_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_scored_transactions(**kwargs)


def test_regression_example():
    X, y, y_pred = make_regression_example(seed=0)
    assert isinstance(X, pd.DataFrame)
    assert X.shape[1] == 10
    assert len(X) == y.shape[0] == y_pred.shape[0]
    # Held out, informative but far from perfect.
    assert 0.2 < r2_score(y, y_pred) < 0.8
    assert ev.r2_score(y, y_pred) == pytest.approx(r2_score(y, y_pred))
    X2, y2, y_pred2 = make_regression_example(seed=0)
    pd.testing.assert_frame_equal(X, X2)
    np.testing.assert_array_equal(y_pred, y_pred2)
    assert not np.array_equal(make_regression_example(seed=1)[1], y)
