"""Small, seeded ready-made examples for the evaluation stage of the course.

Everything here is generated locally (no downloads) and is fully
determined by ``seed``, so notebook outputs and autograder checks are
reproducible. ``make_scored_transactions`` gives a fraud model's scores
directly, so stage 4 can measure a model without training one; the full
payments simulator the other stages share is ``mlcourse.world``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlcourse._checks import fraction, integer_at_least

__all__ = ["make_scored_transactions", "make_regression_example", "WEAK_GROUP"]

#: Customer groups and their share of transactions (deliberately unequal).
_GROUPS = np.array(["A", "B", "C"])
_GROUP_SHARES = np.array([0.55, 0.30, 0.15])

#: The group for which the simulated model is much weaker. Slice analysis of
#: the scores should reveal it; learners are not told in advance.
WEAK_GROUP = "C"

#: How far (in noise standard deviations) the model's latent score of a fraud
#: sits above that of a genuine transaction, per group. For two unit-variance
#: normals the AUC is Phi(d / sqrt(2)): d = 2.1 gives ~0.93, d = 0.9 ~0.74.
_SEPARATION = {"A": 2.1, "B": 2.1, "C": 0.9}

#: Merchant categories, their share of traffic and relative fraud risk.
_MERCHANTS = np.array(["grocery", "fuel", "travel", "electronics", "online"])
_MERCHANT_SHARES = np.array([0.35, 0.20, 0.10, 0.10, 0.25])
_MERCHANT_RISK = np.array([0.5, 0.6, 1.5, 2.0, 1.6])


def make_scored_transactions(
    n: int = 20_000, *, prevalence: float = 0.02, seed: int = 0
) -> pd.DataFrame:
    """Card transactions with fraud labels and an imperfect fraud model's score.

    Parameters
    ----------
    n : int, default=20_000
        Number of transactions (rows); must be positive.
    prevalence : float in (0, 1), default=0.02
        Expected fraud rate. The realised rate is random around it
        (binomial noise, about ``sqrt(prevalence / n)``).
    seed : int, default=0
        Seed for ``np.random.default_rng``; the same seed gives an identical frame.

    Returns
    -------
    pandas.DataFrame of shape (n, 6)
        ``transaction_id`` : int
            ``0 .. n-1``.
        ``customer_group`` : categorical {"A", "B", "C"}
            Shares about 55% / 30% / 15%.
        ``merchant_category`` : categorical, 5 levels
            grocery, fuel, travel, electronics, online; fraud is more common
            in travel, electronics and online.
        ``amount`` : float
            Transaction amount in euros, log-normal (right-skewed, median
            about 33); frauds tend to be larger.
        ``is_fraud`` : int {0, 1}
            The label; rare, with mean close to ``prevalence``.
        ``score`` : float in [0, 1]
            The output of a simulated fraud model. It ranks well overall
            (ROC AUC roughly 0.85-0.93) but much worse for customer group
            ``WEAK_GROUP`` ("C"), and it is miscalibrated: it is not the
            probability of fraud (its mean is well above ``prevalence``).

    Examples
    --------
    >>> df = make_scored_transactions(1_000, seed=1)
    >>> df.shape
    (1000, 6)
    >>> bool(df["score"].between(0, 1).all())
    True
    """
    n = integer_at_least(n, "n", 1)
    prevalence = fraction(prevalence, "prevalence")
    rng = np.random.default_rng(seed)

    group = rng.choice(_GROUPS, size=n, p=_GROUP_SHARES)
    merchant_idx = rng.choice(_MERCHANTS.size, size=n, p=_MERCHANT_SHARES)

    # Fraud probability varies by merchant but is rescaled so the average
    # over the traffic mix equals the requested prevalence.
    risk = _MERCHANT_RISK[merchant_idx]
    p_fraud = np.clip(prevalence * risk / np.dot(_MERCHANT_SHARES, _MERCHANT_RISK), 0.0, 1.0)
    is_fraud = (rng.random(n) < p_fraud).astype(int)

    # log(amount) ~ Normal(3.5, 1.0) -> median e^3.5 ~ 33 EUR; frauds skew larger.
    amount = np.round(np.exp(rng.normal(3.5 + 0.6 * is_fraud, 1.0)), 2)

    # The model sees a noisy signal whose strength depends on the group; the
    # logistic squashing with a too-small offset makes it over-confident.
    separation = pd.Series(group).map(_SEPARATION).to_numpy()
    latent = separation * is_fraud + rng.normal(0.0, 1.0, size=n)
    score = 1.0 / (1.0 + np.exp(-(1.5 * latent - 3.0)))

    return pd.DataFrame(
        {
            "transaction_id": np.arange(n, dtype=np.int64),
            "customer_group": pd.Categorical(group, categories=_GROUPS),
            "merchant_category": pd.Categorical(_MERCHANTS[merchant_idx], categories=_MERCHANTS),
            "amount": amount,
            "is_fraud": is_fraud,
            "score": score,
        }
    )


def make_regression_example(seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Held-out predictions of a linear model on scikit-learn's diabetes data.

    The data set ships with scikit-learn (442 patients, 10 standardised
    features, target = disease progression one year later), so nothing is
    downloaded. A ``LinearRegression`` is fitted on 75% of the rows and
    predicts the remaining 25%.

    Parameters
    ----------
    seed : int, default=0
        Controls the train/test split.

    Returns
    -------
    X : pandas.DataFrame of shape (111, 10)
        Features of the held-out rows.
    y : np.ndarray of shape (111,)
        True targets of the held-out rows (progression score, about 25-346).
    y_pred : np.ndarray of shape (111,)
        The model's predictions for those rows (R^2 roughly 0.35-0.6, depending on the split).

    Examples
    --------
    >>> X, y, y_pred = make_regression_example()
    >>> X.shape, y.shape == y_pred.shape
    ((111, 10), True)
    """
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import train_test_split

    data = load_diabetes(as_frame=True)
    X_train, X_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.25, random_state=seed
    )
    model = LinearRegression().fit(X_train, y_train)
    return X_test, y_test.to_numpy(), model.predict(X_test)
