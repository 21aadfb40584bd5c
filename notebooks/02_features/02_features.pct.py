# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
#   language_info:
#     name: python
# ---

# %% [markdown] id="md-d3d85ec4"
# # Stage 2 — Feature engineering: turning raw data into meaningful information
#
# > *"Once we have a dataset, it's time for feature engineering. This process involves selecting the most
# > relevant features and transforming raw data into formats that the model can understand better.
# > Featurization techniques like one-hot encoding, binning, or polynomial features can be employed
# > depending on the nature of your data. The distribution of the dataset also plays a key role in
# > deciding which features to include. Normalization is another crucial step to ensure that extreme
# > values or outliers don't distort the model's performance. This depends on the specific distribution
# > of your data and the problem you're trying to solve."*
# > — the ML engineer roadmap, stage 2
#
# A model only sees numbers, and a simple model only sees them in simple ways. Feature engineering is
# the work of handing it the information it needs *in a form it can use*: categories as columns,
# curved effects as bins, skewed amounts on a log scale, combinations as products, and nothing that
# it should not see — neither noise nor, above all, the answer. In this notebook you build the
# features of the fraud model of our payments platform, and learn *why* each transformation helps.
#
# **Learning objectives.** After this notebook you can
#
# 1. say what a linear model can and cannot learn from raw columns;
# 2. one-hot encode categories, and handle categories that are rare or unseen in training;
# 3. bin a numeric column, and weigh quantile against uniform bins;
# 4. read a column's distribution (skew, heavy tails, outliers) and choose a transformation from it,
#    and explain why outliers distort standard scaling;
# 5. build interaction and polynomial features, and count what they cost;
# 6. encode a high-cardinality column with an out-of-fold target encoding, and explain why the
#    naive version leaks the label;
# 7. select features, drop noise, and validate every step without leakage by fitting each
#    transformation on the training fold only (pipelines).
#
# **Estimated time:** about 3 hours (≈ 1 h reading and running the demos, ≈ 2 h exercises).
#
# **Prerequisites:** stage 1 (the data world); NumPy indexing and broadcasting, pandas `groupby`;
# a first look at scikit-learn's `fit` / `transform` / `predict_proba`. Logistic regression is used as
# a black box here and explained in stage 3.
#
# ### How this notebook is graded
#
# Exercises are autograded with nbgrader. Each one belongs to a *tier*; tier $t$ exercises demonstrate
# rubric level $t$ for this stage. Your level for the stage is the highest tier $t$ whose tiers $1..t$
# you have all **mastered**. A tier is mastered when you earn at least 70% of its points, or miss only
# one of its graded cells when it has four or more, and never with half its cells failed. Some tests are
# hidden: they check your code on data you have not seen, exactly as production would.
#
# | tier | rubric level | what it shows | exercises |
# |---|---|---|---|
# | 1 | awareness | you can encode categories safely and fit a transformation on training data only | 1, 3 |
# | 2 | basic understanding | you can bin a column and choose a scaler from its distribution | 2, 4 |
# | 3 | proficiency (Junior) | you can encode a high-cardinality column without leaking the label | 5 |
# | 4 | advanced (Senior) | you find useful interactions and select features with honest validation | 6, 7 |
# | 5 | expert (Staff) | you build a complete feature pipeline that holds up on new data | 8 |

# %% [markdown] id="md-687b9af3"
# ## Parameters
#
# The next cell is tagged `parameters` so that [papermill](https://papermill.readthedocs.io) can
# override it. `SEED` fixes all randomness. `FAST` only trims the demonstrations (a smaller
# noise experiment, fewer folds); the data the exercises use and the graded tests never depend on it.

# %% id="parameters" tags=["parameters"]
# Papermill parameters. FAST keeps CI runs short (it trims demos only, never tests).
SEED = 0
FAST = False

# %% id="setup"
import warnings

import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from threadpoolctl import threadpool_limits

# nbgrader's Validate fails any test cell that writes to stderr (the grader lets assertions
# decide), and warnings are noise in a first run: so we silence
# library warnings (convergence, unknown categories, deprecations, ...) once, here.
warnings.filterwarnings("ignore")
# Our matrices are small: one BLAS thread is faster than several competing for the cores.
threadpool_limits(1)

from mlcourse import features as fe
from mlcourse.world import make_world

N_NOISE = 1_000 if FAST else 3_000   # width of the pure-noise demo in section 8
DEMO_FOLDS = 3 if FAST else 5        # folds of the cross-validation demos

world = make_world(seed=SEED, n_transactions=30_000)   # the exercises use this size, whatever FAST says
tx = world.transactions
FEATURES = world.feature_columns                        # what is observable when a payment arrives
NUMERIC = [c for c in FEATURES if pd.api.types.is_numeric_dtype(tx[c])]   # includes the two flags
CATEGORICAL = [c for c in FEATURES if c not in NUMERIC]

train, valid = train_test_split(tx, test_size=0.3, stratify=tx["is_fraud"], random_state=SEED)
X_train, y_train = train[FEATURES], train["is_fraud"].to_numpy()
X_valid, y_valid = valid[FEATURES], valid["is_fraud"].to_numpy()
print(f"train: {len(train):,} rows, {y_train.sum()} fraud   valid: {len(valid):,} rows, {y_valid.sum()} fraud")
X_train.head()

# %% [markdown] id="md-b1298f83"
# ## 1. The data: transactions, and what is known when they arrive
#
# Each row of `tx` is a card payment on our platform (stage 1 built this world). The model must decide
# *when the payment arrives*, so its inputs are the columns observable at that moment,
# `world.feature_columns`: the amount, the hour, the device, the distance from the customer's home, the
# age of the account, the customer's number of payments in the last 24 hours, two flags (foreign
# merchant, new device), the merchant's category and region, the customer's group, and four columns
# `noise_0..3` that are **pure noise** — the world made them independent of everything, to see whether
# we notice.
#
# The target is `is_fraud`, the ground truth. Stage 1 showed that the platform only observes a delayed,
# noisy, biased version of it (`label`); here we use the truth so that we can study features without
# label problems getting in the way. We split the rows once into a **training** part, on which
# everything is learned, and a **validation** part, used only to measure.

# %% id="code-e53fe730"
summary = pd.DataFrame({
    "dtype": X_train.dtypes.astype(str),
    "missing": X_train.isna().mean().round(3),
    "distinct values": X_train.nunique(),
})
summary

# %% [markdown] id="md-a99c924a"
# ## 2. What a model can and cannot learn from raw columns
#
# Our first model is a **logistic regression**. It scores a transaction with a weighted sum of its
# inputs, $z = b + w_1 x_1 + \dots + w_d x_d$, and turns the sum into a probability,
# $p = 1 / (1 + e^{-z})$. Everything it can learn is in the weights, which means:
#
# * **numbers only.** `"travel"` or `"mobile"` cannot be multiplied by a weight;
# * **one direction per column.** A weight makes the score go *up* with a column or *down*, over its
#   whole range. It cannot say "fraud is more likely at night" if night is hours 0–5, at one end of the
#   0–23 scale, and certainly not "at both very small and very large amounts";
# * **added up, not combined.** The effect of the amount is the same at 3 pm and at 3 am;
# * **scale matters.** The weights are fitted numerically and regularised together; a column in euros
#   with values up to $10^5$ and a 0/1 flag are treated very differently, and a few extreme values can
#   dominate the fit.
#
# Tree-based models lift some of these limits (stage 3), but not all, and a linear model with good
# features is fast, stable and easy to explain — a strong baseline. Let us look at two columns.

# %% id="code-c2d40d88"
fig, axes = plt.subplots(1, 2, figsize=(12, 3.4))
by_hour = train.groupby("hour")["is_fraud"].mean()
axes[0].bar(by_hour.index, 100 * by_hour.values, color="tab:blue")
axes[0].set(xlabel="hour of day", ylabel="fraud rate (%)", title="fraud rate by hour")
amount_decile = pd.qcut(train["amount"], 10, labels=False)
by_amount = train.groupby(amount_decile)["is_fraud"].mean()
axes[1].bar(by_amount.index, 100 * by_amount.values, color="tab:orange")
axes[1].set(xlabel="amount decile (0 = smallest 10%)", ylabel="fraud rate (%)", title="fraud rate by amount decile")
plt.tight_layout()
plt.show()


# %% [markdown] id="md-bbd4949b"
# Fraud is concentrated in the night hours, and it is high for both the **smallest** amounts (card
# testing: fraudsters try stolen card numbers with tiny purchases) and the **largest** ones (a stolen
# card spent fast). Neither shape can be drawn by one weight on `hour` or on `amount`. Here is the
# *baseline*: a logistic regression on the raw numeric columns, with missing values filled by the
# median and each column standardised. We measure it with the ROC-AUC on the validation split (stage 4):
# the probability that a random fraud is scored above a random legitimate payment, 0.5 for a coin flip.

# %% id="code-237dd983"
def valid_auc(model, columns=FEATURES):
    """Fit `model` on the training split; return its ROC-AUC on the validation split."""
    model.fit(train[columns], y_train)
    return roc_auc_score(y_valid, model.predict_proba(valid[columns])[:, 1])


baseline = make_pipeline(SimpleImputer(strategy="median"), fe.StandardScaler(), LogisticRegression(max_iter=1000))
results = {"baseline: raw numeric columns, standardised": valid_auc(baseline, NUMERIC)}
pd.Series(results, name="validation ROC-AUC").round(3).to_frame()

# %% [markdown] id="md-dd822a09"
# ## 3. Encoding categories
#
# `merchant_category` has eight values. Numbering them (grocery = 0, travel = 1, ...) would invent an
# **order and distances** that do not exist: the model would have to believe that the risk of
# "electronics" lies between those of its two neighbours in the alphabet. **One-hot encoding** gives each
# category its own 0/1 column instead, so the model learns one weight per category.
#
# Two problems appear as soon as the encoder meets real data:
#
# * **Unseen categories.** The encoder learns its list of categories in `fit`, from training data. In
#   production, a new merchant category appears. Refusing the transaction (scikit-learn's default) takes
#   the service down; silently encoding it as all zeros makes the model treat it like the average
#   category. A safer and explicit choice is an **`other` column** that collects everything unseen.
# * **Rare categories.** A category seen in 5 training rows gets a weight fitted on 5 rows: mostly noise.
#   Grouping categories rarer than `min_frequency` into the same `other` column trades detail for
#   stability.

# %% id="code-a9123c46"
from sklearn.preprocessing import OneHotEncoder as SkOneHotEncoder

production = pd.DataFrame({"merchant_category": ["travel", "crypto_exchange", "grocery"]})   # one new category
try:
    SkOneHotEncoder().fit(train[["merchant_category"]]).transform(production)
except ValueError as err:
    print("scikit-learn's default refuses it:", str(err).splitlines()[0][:100])

encoder = fe.OneHotEncoder(handle_unknown="other").set_output(transform="pandas")
encoder.fit(train[["merchant_category"]])
encoder.transform(production)

# %% id="code-73bf194c"
region_counts = train["merchant_region"].value_counts()
grouped = fe.OneHotEncoder(min_frequency=0.05).fit(train[["merchant_region"]])
print("region shares:", (region_counts / len(train)).round(3).to_dict())
print("columns with min_frequency=5%:", list(grouped.get_feature_names_out()))

# %% [markdown] id="md-2bc5c900"
# The two foreign regions are each rarer than 5% of the rows, so they share `merchant_region_other` —
# which here happens to be meaningful too: both are foreign. Whether one-hot encoding helps is an
# empirical question; let us compare the numbered categories with the one-hot ones, added to the
# baseline.

# %% id="code-9c6019a0"
from sklearn.preprocessing import OrdinalEncoder

def with_categories(encoder):
    return make_pipeline(ColumnTransformer([
        ("numeric", make_pipeline(SimpleImputer(strategy="median"), fe.StandardScaler()), NUMERIC),
        ("categories", encoder, ["merchant_category", "device"]),
    ]), LogisticRegression(max_iter=1000))

ordinal = make_pipeline(SimpleImputer(strategy="most_frequent"),
                        OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), fe.StandardScaler())
results["+ categories as numbers (ordinal)"] = valid_auc(with_categories(ordinal))
results["+ categories one-hot"] = valid_auc(with_categories(fe.OneHotEncoder(handle_unknown="other")))
pd.Series(results, name="validation ROC-AUC").round(3).to_frame()


# %% [markdown] id="md-41b49c33"
# ### Exercise 1 (tier 1) — one-hot encoding with an `other` column
#
# Implement `one_hot(train_values, new_values)` with NumPy (no scikit-learn, no `mlcourse`):
#
# * `train_values`, `new_values`: 1-D array-likes of strings (no missing values);
# * the categories are the distinct values of `train_values`, **sorted**;
# * return a NumPy array of shape `(len(new_values), n_categories + 1)`: column $j$ is 1 where the value
#   is the $j$-th category, and the **last column is 1 for values not seen in `train_values`**. Every row
#   has exactly one 1; everything else is 0.
#
# Example: `one_hot(["b", "a", "b"], ["a", "z", "b"])` is `[[1, 0, 0], [0, 0, 1], [0, 1, 0]]`.

# %% id="ex1-one-hot" mlcourse={"stage": "features", "tier": 1} nbgrader={"grade": false, "grade_id": "ex1_one_hot", "locked": false, "schema_version": 3, "solution": true, "task": false}
def one_hot(train_values, new_values):
    """One column per sorted training category, then an 'other' column for unseen values."""
    ### BEGIN SOLUTION
    categories = np.unique(np.asarray(train_values))
    new_values = np.asarray(new_values)
    known = (new_values[:, None] == categories[None, :]).astype(float)
    other = 1.0 - known.sum(axis=1)
    return np.column_stack([known, other])
    ### END SOLUTION


# %% id="ex1-one-hot-tests" mlcourse={"stage": "features", "tier": 1} nbgrader={"grade": true, "grade_id": "ex1_one_hot_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
from sklearn.preprocessing import OneHotEncoder as _SkOneHot

_small = np.asarray(one_hot(["b", "a", "b"], ["a", "z", "b"]), dtype=float)
_small_expected = np.array([[1, 0, 0], [0, 0, 1], [0, 1, 0]], dtype=float)
assert _small.shape == (3, 3) and np.array_equal(_small, _small_expected), \
    f"one_hot(['b','a','b'], ['a','z','b']): expected {_small_expected.tolist()}, got {_small.tolist()}"

_train_vals = train["merchant_category"].astype(str).to_numpy()
_new_vals = np.r_[valid["merchant_category"].astype(str).to_numpy()[:400], ["crypto", "pawn_shop", "crypto"]]
_ref = _SkOneHot(handle_unknown="ignore", sparse_output=False).fit(_train_vals.reshape(-1, 1))
_known = _ref.transform(_new_vals.reshape(-1, 1))
_expected = np.column_stack([_known, 1.0 - _known.sum(axis=1)])
_got = np.asarray(one_hot(_train_vals, _new_vals), dtype=float)
assert _got.shape == _expected.shape, f"expected shape {_expected.shape}, got {_got.shape}"
assert np.array_equal(_got, _expected), \
    f"merchant_category: {int((_got != _expected).any(axis=1).sum())} rows differ from scikit-learn's encoding"
assert np.array_equal(_got[-3:, -1], [1, 1, 1]), f"unseen categories must go to the last column, got {_got[-3:].tolist()}"

# %% [markdown] id="md-2bbc8583"
# ## 4. Binning: letting a linear model bend
#
# **Binning** cuts a numeric column into intervals and one-hot encodes the interval. The model then
# learns one weight *per bin*, so the effect can go up, down and up again — the U shape of the amount —
# and an outlier simply lands in the last bin instead of pulling a weight. Each hour of the day is
# already a natural bin: one-hot encoding `hour` lets the model learn "night".
#
# Where to put the edges?
#
# * **Uniform** bins have equal *widths* between the training minimum and maximum. On a skewed column
#   like the amount, with a long right tail and a few recording errors above 10,000 €, almost every row
#   lands in the first bin and the others are nearly empty.
# * **Quantile** bins have equal *counts*: the edges are the training quantiles, so every bin has
#   enough rows to estimate its weight, and the bins are narrow where the data is dense.
#
# The trade-offs: a bin throws away the differences *inside* it, its edges are learned from training
# data (new data beyond them falls into the end bins), and every bin is one more parameter — many
# narrow bins overfit.

# %% id="code-6cad34ae"
amount = train[["amount"]]
uniform = fe.Binner(n_bins=10, strategy="uniform").fit(amount)
quantile = fe.Binner(n_bins=10, strategy="quantile").fit(amount)
counts = pd.DataFrame({
    "uniform bins": np.bincount(uniform.transform(amount).ravel().astype(int), minlength=10),
    "quantile bins": np.bincount(quantile.transform(amount).ravel().astype(int), minlength=10),
}).rename_axis("bin")

fig, ax = plt.subplots(figsize=(11, 3.2))
ax.hist(np.log10(train["amount"]), bins=80, color="lightgray")
for edge in quantile.bin_edges_[0][1:-1]:
    ax.axvline(np.log10(edge), color="tab:orange", lw=1)
for edge in uniform.bin_edges_[0][1:-1]:
    ax.axvline(np.log10(edge), color="tab:blue", lw=1, ls="--")
ax.set(xlabel="log10(amount in €)", ylabel="rows",
       title="amount: quantile edges (orange) sit in the data; uniform edges (dashed blue) in the tail")
plt.show()
counts.T

# %% id="code-1b30214a"
binned = make_pipeline(ColumnTransformer([
    ("numeric", make_pipeline(SimpleImputer(strategy="median"), fe.StandardScaler()), NUMERIC),
    ("categories", fe.OneHotEncoder(handle_unknown="other"), ["merchant_category", "device"]),
    ("hour", fe.OneHotEncoder(handle_unknown="ignore"), ["hour"]),
    ("amount_bins", fe.Binner(n_bins=10, encode="onehot"), ["amount"]),
]), LogisticRegression(max_iter=1000))
results["+ one-hot hour, 10 quantile bins of amount"] = valid_auc(binned)

names = binned[0].get_feature_names_out()
weights = pd.Series(binned[-1].coef_[0], index=names)
fig, ax = plt.subplots(figsize=(7, 3))
ax.plot(range(10), weights[[n for n in names if n.startswith("amount_bins__")]].to_numpy(), "o-")
ax.set(xlabel="amount bin (quantile)", ylabel="weight", title="the model's learned effect of the amount: a U")
plt.show()
pd.Series(results, name="validation ROC-AUC").round(3).to_frame()


# %% [markdown] id="md-27e8945e"
# The weights of the amount bins draw the U that a single weight on `amount` could not. (They are
# relative to the raw, standardised amount that is still in the model.) Whether the validation AUC moves
# much depends on the split: with fewer than 200 frauds in the validation data, differences of about
# ±0.02 are within noise — stage 4's bootstrap would show an interval that wide. Judge features by
# cross-validation or on more data, not by one lucky split.
#
# ### Exercise 2 (tier 2) — quantile bins learned on training data
#
# Implement `quantile_bins(train_values, new_values, n_bins)` with NumPy:
#
# * the edges are `np.quantile(train_values, np.linspace(0, 1, n_bins + 1))` (NumPy's default method);
# * a value $x$ goes to bin $i$ when `edges[i] <= x < edges[i + 1]`; values below the first edge go to
#   bin 0 and values at or above the last inner edge to bin `n_bins - 1` (so new data outside the
#   training range still gets a bin);
# * return an integer array of bin indices, one per value of `new_values`.
#
# Hint: `np.searchsorted` on the inner edges `edges[1:-1]` does it in one line.

# %% id="ex2-quantile-bins" mlcourse={"stage": "features", "tier": 2} nbgrader={"grade": false, "grade_id": "ex2_quantile_bins", "locked": false, "schema_version": 3, "solution": true, "task": false}
def quantile_bins(train_values, new_values, n_bins):
    """Bin index (0 .. n_bins-1) of each new value, with quantile edges learned from train_values."""
    ### BEGIN SOLUTION
    edges = np.quantile(np.asarray(train_values, dtype=float), np.linspace(0, 1, n_bins + 1))
    return np.searchsorted(edges[1:-1], np.asarray(new_values, dtype=float), side="right")
    ### END SOLUTION


# %% id="ex2-quantile-bins-tests" mlcourse={"stage": "features", "tier": 2} nbgrader={"grade": true, "grade_id": "ex2_quantile_bins_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
from sklearn.preprocessing import KBinsDiscretizer as _KBins

_rng = np.random.default_rng(5)
_cases = [
    (train["amount"].to_numpy(), np.r_[valid["amount"].to_numpy(), 0.01, 1e7], 10),
    (_rng.lognormal(0, 1, 3000), _rng.lognormal(0, 1.5, 500), 4),
    (_rng.normal(size=1000), np.linspace(-6, 6, 49), 7),
]
for _tr, _new, _k in _cases:
    _ref = _KBins(n_bins=_k, strategy="quantile", quantile_method="linear", encode="ordinal").fit(_tr.reshape(-1, 1))
    _expected = _ref.transform(_new.reshape(-1, 1)).ravel().astype(int)
    _got = np.asarray(quantile_bins(_tr, _new, _k))
    assert _got.shape == _expected.shape, f"expected {len(_expected)} bin indices, got shape {_got.shape}"
    assert np.array_equal(_got.astype(int), _expected), \
        f"n_bins={_k}: {int((_got != _expected).sum())} of {len(_expected)} values got a different bin than KBinsDiscretizer"
_own = np.bincount(np.asarray(quantile_bins(_cases[1][0], _cases[1][0], 4)).astype(int), minlength=4)
assert np.all(np.abs(_own - 750) <= 1), f"quantile bins of the training data should hold ~750 rows each, got {_own.tolist()}"

# %% [markdown] id="md-2b7cf031"
# ## 5. Looking at distributions to choose a transformation
#
# Before scaling a column, **look at it**. The histograms below show the raw numeric columns of the
# training data. Most money-like and count-like quantities are **right-skewed**: many small values and a
# long tail of large ones (amounts, distances, account ages, counts). Some columns have **heavy tails**
# or **outliers**: values far from the rest, from rare events or from recording errors.

# %% id="code-d17ccb72"
fig, axes = plt.subplots(2, 6, figsize=(15, 4.5))
for ax, column in zip(axes.ravel(), NUMERIC):
    ax.hist(train[column].dropna().astype(float), bins=50, color="tab:blue")
    ax.set_title(column, fontsize=9)
    ax.tick_params(labelsize=7)
for ax in axes.ravel()[len(NUMERIC):]:
    ax.axis("off")
plt.tight_layout()
plt.show()

# %% [markdown] id="md-fc1888d1"
# ### Why outliers distort standard scaling
#
# Standard scaling computes $z = (x - \bar x) / s$. Both the mean $\bar x$ and the standard deviation $s$
# are pulled by extreme values: $s$ squares the deviations, so a handful of 50,000 € recording errors
# inflate it enormously. Every ordinary amount is then divided by a huge $s$ and squeezed into a tiny
# interval around $-0.1$, while the outliers sit at $z \approx 100$. The model can barely tell a 5 € payment
# from a 500 € one, and its fit is driven by a few rows that carry no signal.
#
# Three remedies, for different shapes:
#
# * **robust scaling**: centre on the median and divide by the interquartile range (IQR), which the
#   outliers do not move; the ordinary values keep a sensible spread (the outliers stay far out, but
#   they no longer squash everyone else);
# * **a log transform**, $\log(1 + x)$, for non-negative right-skewed data: it turns ratios into
#   differences, pulls the tail in and makes the shape closer to symmetric;
# * a **power transform** (Yeo–Johnson) when the data is skewed but has negative values or a left tail;
#   it fits its exponent $\lambda$ to make the column as normal as possible.

# %% id="code-4d2979e9"
raw_amount = train[["amount"]].to_numpy()
scaled = {
    "standard": fe.StandardScaler().fit_transform(raw_amount).ravel(),
    "robust": fe.RobustScaler().fit_transform(raw_amount).ravel(),
    "log, then standard": fe.LogScaler().fit_transform(raw_amount).ravel(),
}
middle = (raw_amount.ravel() > np.percentile(raw_amount, 5)) & (raw_amount.ravel() < np.percentile(raw_amount, 95))
pd.DataFrame({
    "spread (sd) of the middle 90% of rows": {k: v[middle].std() for k, v in scaled.items()},
    "largest value": {k: v.max() for k, v in scaled.items()},
}).round(3)

# %% id="code-b60e651d"
fe.plot_before_after(train["amount"], np.log1p(train["amount"]), name="amount", transform="log1p")
plt.tight_layout()
plt.show()

# %% [markdown] id="md-3c18852d"
# ### Letting the distribution decide
#
# We can turn "look at the histogram" into a rule that a pipeline applies to every column. It needs
# two measurements:
#
# * **skewness**. The usual (moment) skewness cubes deviations from the mean, so it is dominated by the
#   outliers themselves: a symmetric column with a few errors looks extremely skewed. We use a
#   **robust skewness** instead, Kelly's $s = \dfrac{P_{90} + P_{10} - 2P_{50}}{P_{90} - P_{10}}$, which
#   only looks at the middle 80% of the data: 0 for a symmetric shape, positive for a right tail.
# * **outlier share**: the fraction of values beyond Tukey's *outer fences*, $Q_1 - 3\,\text{IQR}$ and
#   $Q_3 + 3\,\text{IQR}$, which a normal sample practically never crosses.
#
# The rule (`fe.recommend_scaler`): a flag (at most two values) is left to standard scaling; a skewed
# column ($|s| \ge 0.2$) is reshaped, with a log if the tail is on the right and the values are
# non-negative, else with Yeo–Johnson; a symmetric column with outliers (share $\ge 0.1\%$) gets robust
# scaling; anything else standard scaling.

# %% id="code-a2261611"
table = fe.describe_distributions(train[NUMERIC])
table[["missing", "minimum", "skewness", "robust_skewness", "outlier_share", "method"]].round(3)

# %% [markdown] id="md-20bddb39"
# Read the table: the moment skewness of `amount` is enormous because of a few recording errors; its
# robust skewness says "right tail", so it gets a log. The pure-noise columns behave as designed:
# `noise_0` (normal) and `noise_1` (uniform) get standard scaling, `noise_2` (log-normal) a log, and
# `noise_3` (Student-t, symmetric with heavy tails) robust scaling. `fe.AutoScaler` applies the rule
# column by column, with the choices made in `fit` — from the training data only — and then frozen.

# %% id="code-898c7524"
auto = make_pipeline(SimpleImputer(strategy="median"), fe.AutoScaler()).set_output(transform="pandas")
auto.fit(train[NUMERIC])
print(dict(zip(NUMERIC, auto[-1].methods_)))
fe.plot_before_after(train["distance_km"].dropna(), auto.transform(train[NUMERIC])["distance_km"],
                     name="distance_km", transform="AutoScaler")
plt.tight_layout()
plt.show()

# %% [markdown] id="md-9c1cc49a"
# ### Fit on the training data, apply everywhere
#
# A transformation *learns* something in `fit`: a mean and standard deviation, quantile edges, a list of
# categories, an exponent. It must learn it **from the training data only**, and apply the *same*
# numbers to validation and production data. If you re-fit the scaler on the validation data, a
# validation amount is measured against a different ruler than the one the model was trained with;
# if you fit it on *all* data before splitting, information about the validation rows leaks into
# training and the validation score is no longer an honest estimate. Scikit-learn's `fit` /
# `transform` split is there to make this easy.
#
# ### Exercise 3 (tier 1) — standardise with training statistics
#
# `log_amount_train` and `log_amount_valid` below hold $\log(1 + \text{amount})$ of the two splits.
# Set two NumPy arrays:
#
# * `z_amount_train`: `log_amount_train` standardised with the **training** mean and standard deviation
#   (NumPy's default `np.std`, i.e. `ddof=0`);
# * `z_amount_valid`: `log_amount_valid` standardised with the **same training** mean and standard deviation.

# %% id="code-480a64d7"
log_amount_train = np.log1p(train["amount"].to_numpy())
log_amount_valid = np.log1p(valid["amount"].to_numpy())

# %% id="ex3-train-statistics" mlcourse={"stage": "features", "tier": 1} nbgrader={"grade": false, "grade_id": "ex3_train_statistics", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
_mu, _sd = log_amount_train.mean(), log_amount_train.std()
z_amount_train = (log_amount_train - _mu) / _sd
z_amount_valid = (log_amount_valid - _mu) / _sd
### END SOLUTION

# %% id="ex3-train-statistics-tests" mlcourse={"stage": "features", "tier": 1} nbgrader={"grade": true, "grade_id": "ex3_train_statistics_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
from sklearn.preprocessing import StandardScaler as _SkStandardScaler

_scaler = _SkStandardScaler().fit(log_amount_train.reshape(-1, 1))
_exp_train = _scaler.transform(log_amount_train.reshape(-1, 1)).ravel()
_exp_valid = _scaler.transform(log_amount_valid.reshape(-1, 1)).ravel()
assert np.shape(z_amount_train) == _exp_train.shape, f"z_amount_train: expected shape {_exp_train.shape}, got {np.shape(z_amount_train)}"
assert np.shape(z_amount_valid) == _exp_valid.shape, f"z_amount_valid: expected shape {_exp_valid.shape}, got {np.shape(z_amount_valid)}"
assert np.allclose(z_amount_train, _exp_train, atol=1e-9), "z_amount_train: expected (x - train mean) / train sd"
assert np.allclose(z_amount_valid, _exp_valid, atol=1e-9), \
    (f"z_amount_valid: expected the TRAINING mean and sd to be used (validation mean would then be "
     f"{_exp_valid.mean():.4f}, not exactly 0); got mean {np.mean(z_amount_valid):.4f}")


# %% [markdown] id="md-4f8011b9"
# ### Exercise 4 (tier 2) — choose the scaler from the distribution
#
# Implement `choose_scaler(values)` with NumPy (don't call `fe.recommend_scaler`). `values` is a 1-D
# array-like of numbers that may contain NaN. Return one of the strings `"standard"`, `"robust"`,
# `"log"`, `"power"` by this rule:
#
# 1. ignore NaN values;
# 2. if there are at most two distinct values, return `"standard"`;
# 3. compute the robust skewness $s = (P_{90} + P_{10} - 2P_{50}) / (P_{90} - P_{10})$ with
#    `np.percentile` (NumPy's default method), and $s = 0$ when $P_{90} = P_{10}$. If $|s| \ge 0.2$:
#    return `"log"` when $s > 0$ and the minimum is $\ge 0$, otherwise `"power"`;
# 4. compute the outlier share: the fraction of values below $Q_1 - 3\,\text{IQR}$ or above
#    $Q_3 + 3\,\text{IQR}$ (with $Q_1$, $Q_3$ the 25th and 75th percentiles and $\text{IQR} = Q_3 - Q_1$).
#    If it is $\ge 0.001$, return `"robust"`;
# 5. otherwise return `"standard"`.
#
# The hidden tests apply your function to more shapes and to the columns of another world.

# %% id="ex4-choose-scaler" mlcourse={"stage": "features", "tier": 2} nbgrader={"grade": false, "grade_id": "ex4_choose_scaler", "locked": false, "schema_version": 3, "solution": true, "task": false}
def choose_scaler(values):
    """'standard', 'robust', 'log' or 'power' for one numeric column, by the rule above."""
    ### BEGIN SOLUTION
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if np.unique(x).size <= 2:
        return "standard"
    p10, q1, p50, q3, p90 = np.percentile(x, [10, 25, 50, 75, 90])
    skew = 0.0 if p90 == p10 else (p90 + p10 - 2 * p50) / (p90 - p10)
    if abs(skew) >= 0.2:
        return "log" if skew > 0 and x.min() >= 0 else "power"
    iqr = q3 - q1
    share = np.mean((x < q1 - 3 * iqr) | (x > q3 + 3 * iqr))
    return "robust" if share >= 0.001 else "standard"
    ### END SOLUTION


# %% id="ex4-choose-scaler-tests" mlcourse={"stage": "features", "tier": 2} nbgrader={"grade": true, "grade_id": "ex4_choose_scaler_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
_rng = np.random.default_rng(11)
_normal = _rng.normal(50, 5, 4000)
_spiky = _normal.copy()
_spiky[:8] = 1e5                                  # 0.2% recording errors: moment skewness is huge
_shapes = {
    "normal": (_normal, "standard"),
    "log-normal": (_rng.lognormal(0, 1, 4000), "log"),
    "minus log-normal (left tail, negative)": (-_rng.lognormal(0, 1, 4000), "power"),
    "Student-t with 2 degrees of freedom": (_rng.standard_t(2, 4000), "robust"),
    "normal with a few huge errors": (_spiky, "robust"),
    "a 0/1 flag": ((_rng.random(4000) < 0.05).astype(float), "standard"),
}
for _name, (_values, _expected) in _shapes.items():
    _got = choose_scaler(_values)
    assert _got == _expected, f"{_name}: expected {_expected!r}, got {_got!r}"
_with_nan = np.r_[_rng.lognormal(0, 1, 500), [np.nan] * 20]
assert choose_scaler(_with_nan) == "log", f"NaN must be ignored: expected 'log', got {choose_scaler(_with_nan)!r}"

# %% id="ex4-choose-scaler-hidden-tests" mlcourse={"stage": "features", "tier": 2} nbgrader={"grade": true, "grade_id": "ex4_choose_scaler_hidden_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test applies choose_scaler to more shapes and to another world.
assert choose_scaler(np.random.default_rng(1).uniform(0, 1, 1000)) == "standard", "uniform: expected 'standard'"
### BEGIN HIDDEN TESTS
def _rule(values):
    x = np.asarray(values, dtype=float)
    x = x[~np.isnan(x)]
    if np.unique(x).size <= 2:
        return "standard"
    p10, q1, p50, q3, p90 = np.percentile(x, [10, 25, 50, 75, 90])
    s = 0.0 if p90 == p10 else (p90 + p10 - 2 * p50) / (p90 - p10)
    if abs(s) >= 0.2:
        return "log" if s > 0 and x.min() >= 0 else "power"
    share = np.mean((x < q1 - 3 * (q3 - q1)) | (x > q3 + 3 * (q3 - q1)))
    return "robust" if share >= 0.001 else "standard"

_rng_h = np.random.default_rng(SEED + 404)
_more = {
    "exponential": _rng_h.exponential(3.0, 3000),
    "shifted log-normal (right tail, negative values)": _rng_h.lognormal(0, 1, 3000) - 2.0,
    "left-skewed but positive": 100.0 - _rng_h.lognormal(0, 1, 3000),
    "Laplace": _rng_h.laplace(0, 1, 20000),
    "Poisson counts, mean 0.3": _rng_h.poisson(0.3, 3000).astype(float),
    "Poisson counts, mean 20": _rng_h.poisson(20, 3000).astype(float),
    "three values": _rng_h.integers(0, 3, 500).astype(float),
    "constant": np.full(50, 7.0),
    "normal with 0.5% errors far above": np.r_[_rng_h.normal(100, 10, 3980), np.full(20, 1e4)],
    "uniform with a few negative errors": np.r_[_rng_h.uniform(0, 1, 2990), np.full(10, -50.0)],
}
for _name, _values in _more.items():
    assert choose_scaler(_values) == _rule(_values), \
        f"{_name}: expected {_rule(_values)!r}, got {choose_scaler(_values)!r}"
_other_tx = make_world(seed=SEED + 77, n_transactions=20_000).transactions
for _col in NUMERIC:
    _vals = _other_tx[_col].to_numpy(dtype=float, na_value=np.nan)
    assert choose_scaler(_vals) == _rule(_vals), \
        f"another world's {_col}: expected {_rule(_vals)!r}, got {choose_scaler(_vals)!r}"
### END HIDDEN TESTS

# %% [markdown] id="md-34b856fb"
# ## 6. High-cardinality categories and target encoding
#
# `merchant_id` identifies about a thousand merchants, and some merchants are much riskier than others.
# One-hot encoding would add a thousand columns, most of them seen a handful of times. **Target
# encoding** replaces each category by one number: the mean of the target for that category in the
# training data — here, the merchant's fraud rate.
#
# Two things go wrong if we do it naively.
#
# **Small categories are noisy.** A merchant with 2 payments, one of them fraud, is not "50% fraud". We
# **smooth** the mean towards the overall rate (the *prior*) $p$, with a weight $m$ counted in rows:
# $$\text{enc}(c) = \frac{\sum_{i \in c} y_i + m\,p}{n_c + m}.$$
# With $n_c \gg m$ the category's own mean wins; with $n_c \ll m$ the prior does.

# %% id="code-57b0f193"
merchant_stats = train.groupby("merchant_id")["is_fraud"].agg(["mean", "size"])
prior = y_train.mean()
smoothed = (merchant_stats["mean"] * merchant_stats["size"] + 20 * prior) / (merchant_stats["size"] + 20)
fig, ax = plt.subplots(figsize=(8, 3.4))
ax.scatter(merchant_stats["size"], merchant_stats["mean"], s=8, alpha=0.5, label="raw fraud rate")
ax.scatter(merchant_stats["size"], smoothed, s=8, alpha=0.5, label="smoothed, m = 20")
ax.axhline(prior, color="k", lw=1, ls="--", label="prior (overall rate)")
ax.set(xscale="log", xlabel="training payments of the merchant", ylabel="fraud rate",
       title="smoothing pulls small merchants towards the prior")
ax.legend()
plt.show()

# %% [markdown] id="md-b306a3af"
# **The label leaks.** If a training row's encoding is computed from a mean that *includes its own
# label*, the encoding contains the answer. The effect is extreme for categories seen once or twice: a
# customer seen once gets exactly their own label. The model learns to trust the encoding; on new data,
# where the encoding was computed from *other* rows, the trust is misplaced.
#
# The cure is **cross-fitting** (out-of-fold encoding): split the training rows into $K$ folds and encode
# each fold with means computed on the other $K-1$ folds only. No row ever sees its own label, so the
# training encodings are as noisy as the ones the model will get in production. New data (validation,
# production) is encoded with means from *all* training rows. In `fe.TargetEncoder` (and scikit-learn's
# `TargetEncoder`), `fit_transform` cross-fits and `transform` does not — so `fit(X, y).transform(X)` on
# training data is the leaky version. Watch the training and validation scores of each, with
# `customer_id` (most customers make only one or two payments) and `merchant_id`:

# %% id="code-e14f2ea8"
rows = {}
for column in ["customer_id", "merchant_id"]:
    leaky_encoder = fe.TargetEncoder().fit(train[[column]], y_train)
    leaky_train = leaky_encoder.transform(train[[column]]).ravel()          # each row sees its own label
    honest_train = fe.TargetEncoder().fit_transform(train[[column]], y_train).ravel()   # out of fold
    valid_codes = leaky_encoder.transform(valid[[column]]).ravel()         # same for both: all training rows
    rows[column] = {
        "naive: train AUC": roc_auc_score(y_train, leaky_train),
        "cross-fitted: train AUC": roc_auc_score(y_train, honest_train),
        "validation AUC": roc_auc_score(y_valid, valid_codes),
    }
pd.DataFrame(rows).T.round(3)


# %% [markdown] id="md-0d1f728a"
# The naive encoding of `customer_id` looks like a superb feature on training data and is worthless on
# validation data: pure leakage. The cross-fitted encoding tells the truth on both. For `merchant_id`
# the naive training score is inflated as well, while the cross-fitted one matches what we see on
# validation. A model trained on naive encodings would put far too much weight on them.
#
# ### Exercise 5 (tier 3) — out-of-fold target encoding
#
# Implement `oof_target_encode(categories, y, n_folds=5, smoothing=10.0, seed=0)` with NumPy/pandas
# (you may use scikit-learn's `KFold`, but not a target encoder):
#
# * `categories`: 1-D array-like of category labels (e.g. `train["merchant_id"]`); `y`: 0/1 array of the
#   same length;
# * make the folds with `KFold(n_splits=n_folds, shuffle=True, random_state=seed).split(categories)`;
# * for each fold, using only the rows of the **other** folds: the prior $p$ is their mean of `y`; a
#   category with $n_c$ of those rows and $s_c$ frauds among them is encoded as
#   $(s_c + \text{smoothing}\cdot p)/(n_c + \text{smoothing})$; a category absent from those rows gets $p$;
# * return a float array: the encoding of every row, computed as above for the fold the row is in.
#
# So no row's encoding may depend on its own label. The hidden tests use other data, fold counts,
# smoothing 0, and string categories.

# %% id="ex5-oof-target-encode" mlcourse={"stage": "features", "tier": 3} nbgrader={"grade": false, "grade_id": "ex5_oof_target_encode", "locked": false, "schema_version": 3, "solution": true, "task": false}
def oof_target_encode(categories, y, n_folds=5, smoothing=10.0, seed=0):
    """Out-of-fold smoothed target encoding of one categorical column."""
    ### BEGIN SOLUTION
    from sklearn.model_selection import KFold

    categories = pd.Series(np.asarray(categories))
    y = np.asarray(y, dtype=float)
    out = np.empty(len(y))
    for fit_rows, enc_rows in KFold(n_splits=n_folds, shuffle=True, random_state=seed).split(categories):
        prior = y[fit_rows].mean()
        stats = pd.DataFrame({"c": categories.iloc[fit_rows].to_numpy(), "y": y[fit_rows]}).groupby("c")["y"].agg(["sum", "count"])
        encoding = (stats["sum"] + smoothing * prior) / (stats["count"] + smoothing)
        out[enc_rows] = categories.iloc[enc_rows].map(encoding).fillna(prior).to_numpy(dtype=float)
    return out
    ### END SOLUTION


# %% id="ex5-oof-target-encode-tests" mlcourse={"stage": "features", "tier": 3} nbgrader={"grade": true, "grade_id": "ex5_oof_target_encode_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from sklearn.model_selection import KFold as _KFold
from sklearn.preprocessing import TargetEncoder as _SkTargetEncoder

_cats = train["merchant_id"].to_numpy()
_ref = _SkTargetEncoder(smooth=10.0, cv=_KFold(5, shuffle=True, random_state=0), target_type="binary")
_expected = _ref.fit_transform(_cats.reshape(-1, 1), y_train).ravel()
_got = np.asarray(oof_target_encode(_cats, y_train), dtype=float)
assert _got.shape == _expected.shape, f"expected {len(_expected)} encodings, got shape {_got.shape}"
assert np.allclose(_got, _expected, atol=1e-9), \
    f"merchant_id: {int((~np.isclose(_got, _expected, atol=1e-9)).sum())} rows differ from the expected out-of-fold encoding"
for _row in (0, 1, int(np.argmax(y_train))):
    _flipped = y_train.copy()
    _flipped[_row] = 1 - _flipped[_row]
    _got_flipped = np.asarray(oof_target_encode(_cats, _flipped), dtype=float)
    assert np.isclose(_got_flipped[_row], _got[_row]), \
        f"row {_row}'s encoding changed when only its own label changed: the label leaks"

# %% id="ex5-oof-target-encode-hidden-tests" mlcourse={"stage": "features", "tier": 3} nbgrader={"grade": true, "grade_id": "ex5_oof_target_encode_hidden_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test checks oof_target_encode on other data and settings.
_small_enc = np.asarray(oof_target_encode(np.array(["a", "b"] * 10), np.arange(20) % 2, n_folds=2), dtype=float)
assert _small_enc.shape == (20,), f"expected 20 encodings, got shape {_small_enc.shape}"
### BEGIN HIDDEN TESTS
from sklearn.model_selection import KFold as _KFold_h
from sklearn.preprocessing import TargetEncoder as _SkTE_h

_w = make_world(seed=SEED + 31, n_transactions=12_000).transactions
_yh = _w["is_fraud"].to_numpy()
_rng_h = np.random.default_rng(SEED + 5)
_cases_h = [
    (_w["customer_id"].to_numpy(), _yh, 3, 0.0, 7),
    (_w["merchant_id"].to_numpy(), _yh, 4, 25.0, SEED + 1),
    (np.array([f"shop_{i}" for i in _rng_h.integers(0, 300, 4000)]), (_rng_h.random(4000) < 0.1).astype(int), 5, 2.0, 3),
]
for _c, _y, _k, _m, _s in _cases_h:
    _exp = _SkTE_h(smooth=_m, cv=_KFold_h(_k, shuffle=True, random_state=_s), target_type="binary") \
        .fit_transform(np.asarray(_c).reshape(-1, 1), _y).ravel()
    _g = np.asarray(oof_target_encode(_c, _y, n_folds=_k, smoothing=_m, seed=_s), dtype=float)
    assert _g.shape == _exp.shape and np.allclose(_g, _exp, atol=1e-9), \
        f"n_folds={_k}, smoothing={_m}, seed={_s}: {int((~np.isclose(_g, _exp, atol=1e-9)).sum())} rows differ"
# A category that exists only in one fold must get the other folds' prior.
_lonely = np.array(["x"] * 9 + ["solo"])
_yl = np.array([1, 0, 0, 1, 0, 0, 0, 1, 0, 1])
_gl = np.asarray(oof_target_encode(_lonely, _yl, n_folds=5, smoothing=3.0, seed=0), dtype=float)
for _fit, _enc in _KFold_h(5, shuffle=True, random_state=0).split(_lonely):
    if 9 in _enc:
        assert np.isclose(_gl[9], _yl[_fit].mean()), f"unseen category: expected the prior {_yl[_fit].mean():.4f}, got {_gl[9]:.4f}"
### END HIDDEN TESTS

# %% [markdown] id="md-b248f200"
# ## 7. Interactions and polynomial features
#
# A linear model adds effects up. "A large amount is suspicious" and "night is suspicious" are two
# separate weights; "a large amount *at night* is much more suspicious than either" is not expressible
# — unless we add the product `amount × night` as a column. **Interaction features** are such products;
# **polynomial features** add the powers too ($x^2$ lets a weight draw a parabola).
#
# They are cheap to compute and expensive to have. With $d$ input columns, all products up to degree 2
# add $d(d+1)/2$ columns, degree 3 about $d^3/6$: each is a parameter to fit, a chance to overfit, and a
# cost at prediction time. Most are useless. Add the few interactions you have a reason for, and check
# on validation data that they help.

# %% id="code-4ad9b0b9"
inputs = np.arange(1, 41)
fig, ax = plt.subplots(figsize=(7, 3))
for degree in (2, 3):
    n_out = [fe.PolynomialFeatures(degree=degree).fit(np.zeros((1, d))).n_output_features_ for d in inputs]
    ax.plot(inputs, n_out, label=f"degree {degree}")
ax.set(yscale="log", xlabel="input columns", ylabel="output columns", title="the cost of polynomial features")
ax.legend()
plt.show()

# %% id="code-462a6221"
import time

def numeric_model(degree):
    steps = [SimpleImputer(strategy="median"), fe.AutoScaler()]
    if degree > 1:
        steps.append(fe.PolynomialFeatures(degree=degree))
    return make_pipeline(*steps, LogisticRegression(max_iter=2000))

rows = {}
for degree in (1, 2):
    start = time.perf_counter()
    auc = valid_auc(numeric_model(degree), NUMERIC)
    rows[f"degree {degree}"] = {"columns": fe.PolynomialFeatures(degree).fit(train[NUMERIC].fillna(0)).n_output_features_,
                                "validation AUC": auc, "seconds": time.perf_counter() - start}
pd.DataFrame(rows).T.round(3)


# %% [markdown] id="md-6263d5c3"
# All pairwise products and squares of the 11 numeric columns multiply the width by seven. Whether
# that helps on a given split or not, it is a blunt tool: many of the new columns are products that
# involve a noise column, and each is fitted to noise. A better approach is to *search* for the few
# interactions that help, each judged by cross-validation.
#
# ### Exercise 6 (tier 4) — find the interaction that helps
#
# Implement `best_interaction(frame, y, columns, n_splits=3, seed=0)`:
#
# * `frame`: a DataFrame with numeric columns (no missing values), `y`: 0/1 labels, `columns`: the
#   candidate column names;
# * consider every pair `(a, b)` of distinct columns in `columns`; for each, judge a logistic regression
#   on all of `columns` **plus the product** `frame[a] * frame[b]`, by the mean ROC-AUC over
#   stratified $K$-fold cross-validation (`n_splits`, shuffled with `seed`). Scale the features inside
#   the cross-validation (a pipeline);
# * return the best pair as a tuple `(a, b)` of column names.
#
# The tests build data where the label depends on one product, and check that you find it — with
# columns of different scales, and on hidden data sets.

# %% id="ex6-best-interaction" mlcourse={"stage": "features", "tier": 4} nbgrader={"grade": false, "grade_id": "ex6_best_interaction", "locked": false, "schema_version": 3, "solution": true, "task": false}
def best_interaction(frame, y, columns, n_splits=3, seed=0):
    """The pair (a, b) of columns whose product most improves a cross-validated logistic regression."""
    ### BEGIN SOLUTION
    from itertools import combinations

    from sklearn.preprocessing import StandardScaler

    columns = list(columns)
    base = frame[columns].to_numpy(dtype=float)
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    scores = {}
    for a, b in combinations(columns, 2):
        X = np.column_stack([base, frame[a].to_numpy(dtype=float) * frame[b].to_numpy(dtype=float)])
        scores[(a, b)] = cross_val_score(model, X, y, cv=folds, scoring="roc_auc").mean()
    return max(scores, key=scores.get)
    ### END SOLUTION


# %% id="ex6-best-interaction-tests" mlcourse={"stage": "features", "tier": 4} nbgrader={"grade": true, "grade_id": "ex6_best_interaction_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_rng = np.random.default_rng(21)
_n = 4000
_frame = pd.DataFrame({f"x{i}": _rng.normal(size=_n) for i in range(5)})
_frame["x3"] = 100 + 20 * _frame["x3"]                               # another scale
_logit = -2.0 + 0.6 * _frame["x0"] - 0.5 * _frame["x1"] + 1.8 * _frame["x2"] * _frame["x4"]
_y = (_rng.random(_n) < 1 / (1 + np.exp(-_logit))).to_numpy().astype(int)
_got = best_interaction(_frame, _y, list(_frame.columns))
assert isinstance(_got, tuple) and len(_got) == 2, f"expected a tuple of two column names, got {_got!r}"
assert set(_got) == {"x2", "x4"}, f"the label depends on x2 * x4; expected ('x2', 'x4'), got {_got!r}"

# %% id="ex6-best-interaction-hidden-tests" mlcourse={"stage": "features", "tier": 4} nbgrader={"grade": true, "grade_id": "ex6_best_interaction_hidden_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test checks best_interaction on other data sets.
_pair = best_interaction(_frame, _y, ["x0", "x2", "x4"], n_splits=2, seed=1)
assert set(_pair) == {"x2", "x4"}, f"among x0, x2, x4: expected ('x2', 'x4'), got {_pair!r}"
### BEGIN HIDDEN TESTS
_rng_h = np.random.default_rng(SEED + 606)
_n_h = 5000
# Large amounts are risky at night and safe by day: a skewed column times a flag.
_h = pd.DataFrame({
    "amount": _rng_h.lognormal(3, 0.5, _n_h),
    "night": (_rng_h.random(_n_h) < 0.25).astype(float),
    "distance": _rng_h.exponential(10, _n_h),
    "age": _rng_h.normal(40, 12, _n_h),
})
_lz = -2.5 + 0.08 * (_h["amount"] - 20) * (2 * _h["night"] - 1) - 0.01 * _h["age"] + 0.02 * _h["distance"]
_yh = (_rng_h.random(_n_h) < 1 / (1 + np.exp(-_lz))).to_numpy().astype(int)
_got_h = best_interaction(_h, _yh, ["distance", "amount", "age", "night"], n_splits=3, seed=SEED)
assert set(_got_h) == {"amount", "night"}, f"amount-at-night data: expected ('amount', 'night'), got {_got_h!r}"
# A pure interaction: neither column matters on its own (an XOR-like sign pattern).
_p = pd.DataFrame({c: _rng_h.normal(size=_n_h) for c in ["a", "b", "c", "d", "e", "f"]})
_lp = -1.0 + 2.0 * _p["c"] * _p["f"]
_yp = (_rng_h.random(_n_h) < 1 / (1 + np.exp(-_lp))).to_numpy().astype(int)
_got_p = best_interaction(_p, _yp, list(_p.columns), n_splits=3, seed=SEED + 1)
assert set(_got_p) == {"c", "f"}, f"pure interaction c * f: expected ('c', 'f'), got {_got_p!r}"
### END HIDDEN TESTS

# %% [markdown] id="md-d1bd0449"
# ## 8. Feature selection, noise, and fitting on the training fold only
#
# The roadmap asks us to select "the most relevant features". Irrelevant columns are not harmless: each
# one is a parameter fitted to noise, and with few positive examples (a few hundred frauds here) a model
# with many useless columns overfits. There are three families of methods:
#
# * **filters** score each feature on its own against the label, before any model. **Mutual
#   information** (MI) measures any kind of dependence, not only linear: $I(X;Y) = 0$ exactly when $X$
#   and $Y$ are independent. Its plug-in estimate is biased upwards (a pure-noise column scores about
#   $(k_x - 1)(k_y - 1)/2n$), so we subtract that bias;
# * **embedded** methods read the importance off a fitted model: the weights of an L1-penalised logistic
#   regression, which drives useless weights to exactly zero, or a forest's importances;
# * **wrappers** search over subsets by validation score (Exercise 6 was one, for interactions).
#
# Filters see features one at a time, so they miss features that only matter together, and they do not
# notice redundancy. Here are the bias-corrected MI scores of the numeric columns:

# %% id="code-d11d5783"
numeric_train = SimpleImputer(strategy="median").fit_transform(train[NUMERIC])
mi = fe.MutualInfoSelector(k="all", n_bins=24).fit(numeric_train, y_train)   # 24: each hour its own value
scores = pd.Series(mi.scores_, index=NUMERIC).sort_values()
fig, ax = plt.subplots(figsize=(7, 3.6))
ax.barh(scores.index, 1000 * scores.values, color=["tab:gray" if c.startswith("noise") else "tab:blue" for c in scores.index])
ax.set(xlabel="mutual information with is_fraud (millinats, bias-corrected)", title="filter scores (noise in gray)")
plt.tight_layout()
plt.show()

# %% id="code-b1e77eb5"
selector = Pipeline([
    ("features", ColumnTransformer([
        ("numeric", make_pipeline(SimpleImputer(strategy="median"), fe.AutoScaler()), NUMERIC),
        ("categories", fe.OneHotEncoder(handle_unknown="other"), ["merchant_category", "device"]),
    ])),
    ("select", fe.ModelSelector(threshold=1e-6)),        # keep every feature with a non-zero L1 weight
]).fit(X_train, y_train)
kept = selector[0].get_feature_names_out()[selector[-1].get_support()]
dropped = selector[0].get_feature_names_out()[~selector[-1].get_support()]
print("L1 logistic regression keeps", len(kept), "features and drops:", list(dropped))
weights = pd.Series(np.abs(selector[-1].importances_), index=selector[0].get_feature_names_out())
print("median |weight| of the kept features:", round(weights[kept].median(), 3),
      "  largest |weight| of a noise column:", round(weights[[n for n in weights.index if "noise" in n]].max(), 3))

# %% [markdown] id="md-c44dfedd"
# The noise columns score about zero with mutual information. The L1 model drops some of them, and
# some weak categories too; a noise column that survives does so with a small weight. Both a filter
# threshold and an L1 penalty are statistical judgements: with a few hundred frauds, a weak real effect
# and a lucky noise column look alike, which is one more reason to judge the whole pipeline on data it
# has not seen.
#
# ### The most important rule: fit every step on the training fold only
#
# Selection is *learning from the labels*, just like the target encoding. If you select features on all
# the data and then cross-validate the model, every validation fold has already influenced which
# features were kept, and the estimate is optimistic. The demo makes this extreme: pure noise —
# random features and random labels, nothing to learn — yet selecting the 20 "best" of a thousand or more
# features on *all* rows and then cross-validating reports a clearly better-than-random model.

# %% id="code-deacb389"
from sklearn.feature_selection import SelectKBest, f_classif

rng = np.random.default_rng(SEED)
X_noise = rng.normal(size=(200, N_NOISE))
y_noise = rng.integers(0, 2, 200)
kept_on_all_rows = SelectKBest(f_classif, k=20).fit(X_noise, y_noise).get_support()   # sees every fold's labels
leaky = cross_val_score(LogisticRegression(max_iter=1000), X_noise[:, kept_on_all_rows], y_noise,
                        cv=StratifiedKFold(DEMO_FOLDS, shuffle=True, random_state=SEED), scoring="roc_auc")
print(f"selection outside cross-validation: AUC {leaky.mean():.2f} on pure noise (the truth is 0.5)")


# %% [markdown] id="md-13c35480"
# The remedy is to make every learned step — imputation, scaling, encoding, selection — part of **one
# pipeline**, and to give the whole pipeline to the cross-validation. Then each training fold fits
# its own imputer, scaler, encoder and selector, and each validation fold is transformed by steps that
# never saw it. Exercise 7 asks you to do exactly that.
#
# ### Exercise 7 (tier 4) — honest cross-validation of a feature selection
#
# Implement `honest_selection_auc(X, y, k, n_splits=5, seed=0)`: the mean ROC-AUC over
# `StratifiedKFold(n_splits, shuffle=True, random_state=seed)` of the model "keep the `k` features with
# the highest ANOVA F-score (`SelectKBest(f_classif, k=k)`), then `LogisticRegression(max_iter=1000)`",
# where the selection is **fitted on each training fold only**. `X` is a 2-D array, `y` 0/1 labels.
# Return a float.
#
# The tests compare your number with the honest one on informative data, and check that on pure noise
# you get about 0.5.

# %% id="ex7-honest-selection" mlcourse={"stage": "features", "tier": 4} nbgrader={"grade": false, "grade_id": "ex7_honest_selection", "locked": false, "schema_version": 3, "solution": true, "task": false}
def honest_selection_auc(X, y, k, n_splits=5, seed=0):
    """Cross-validated ROC-AUC of SelectKBest(f_classif, k) + logistic regression, selection inside the folds."""
    ### BEGIN SOLUTION
    from sklearn.feature_selection import SelectKBest, f_classif

    model = make_pipeline(SelectKBest(f_classif, k=k), LogisticRegression(max_iter=1000))
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return float(cross_val_score(model, X, y, cv=folds, scoring="roc_auc").mean())
    ### END SOLUTION


# %% id="ex7-honest-selection-tests" mlcourse={"stage": "features", "tier": 4} nbgrader={"grade": true, "grade_id": "ex7_honest_selection_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from sklearn.feature_selection import SelectKBest as _SelectKBest, f_classif as _f_classif

def _honest(X, y, k, n_splits, seed):
    pipe = make_pipeline(_SelectKBest(_f_classif, k=k), LogisticRegression(max_iter=1000))
    return cross_val_score(pipe, X, y, cv=StratifiedKFold(n_splits, shuffle=True, random_state=seed), scoring="roc_auc").mean()

_rng = np.random.default_rng(8)
_Xi = _rng.normal(size=(600, 40))
_yi = (_rng.random(600) < 1 / (1 + np.exp(-(_Xi[:, 0] - _Xi[:, 1] + 0.5 * _Xi[:, 2])))).astype(int)
_got = float(honest_selection_auc(_Xi, _yi, k=5))
assert np.isclose(_got, _honest(_Xi, _yi, 5, 5, 0), atol=1e-6), \
    f"informative data: expected {_honest(_Xi, _yi, 5, 5, 0):.4f}, got {_got:.4f}"
_Xn = _rng.normal(size=(150, 1500))
_yn = _rng.integers(0, 2, 150)
_got_noise = float(honest_selection_auc(_Xn, _yn, k=20, n_splits=3, seed=1))
assert abs(_got_noise - 0.5) < 0.13, \
    f"pure noise: an honest estimate is about 0.5, got {_got_noise:.3f} (is the selection fitted on all rows?)"

# %% id="ex7-honest-selection-hidden-tests" mlcourse={"stage": "features", "tier": 4} nbgrader={"grade": true, "grade_id": "ex7_honest_selection_hidden_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test checks honest_selection_auc on other data.
assert 0.0 <= float(honest_selection_auc(_Xi, _yi, k=3, n_splits=3)) <= 1.0, "expected an AUC in [0, 1]"
### BEGIN HIDDEN TESTS
_rng_h = np.random.default_rng(SEED + 808)
for _n_h, _p_h, _k_h, _splits_h in [(400, 300, 10, 4), (180, 2000, 25, 3)]:
    _X_h = _rng_h.normal(size=(_n_h, _p_h))
    _y_h = _rng_h.integers(0, 2, _n_h)                      # pure noise
    _g = float(honest_selection_auc(_X_h, _y_h, k=_k_h, n_splits=_splits_h, seed=SEED))
    assert np.isclose(_g, _honest(_X_h, _y_h, _k_h, _splits_h, SEED), atol=1e-6), \
        f"noise {_n_h}x{_p_h}: expected {_honest(_X_h, _y_h, _k_h, _splits_h, SEED):.4f}, got {_g:.4f}"
_Xw = _rng_h.normal(size=(500, 60))
_yw = (_rng_h.random(500) < 1 / (1 + np.exp(-(2 * _Xw[:, 7] + _Xw[:, 30])))).astype(int)
_g = float(honest_selection_auc(_Xw, _yw, k=2, n_splits=5, seed=SEED + 2))
assert np.isclose(_g, _honest(_Xw, _yw, 2, 5, SEED + 2), atol=1e-6) and _g > 0.75, \
    f"two informative of 60: expected {_honest(_Xw, _yw, 2, 5, SEED + 2):.4f}, got {_g:.4f}"
### END HIDDEN TESTS

# %% [markdown] id="md-7aa6c721"
# ## 9. Putting it together: one pipeline from raw columns to a model
#
# `fe.make_preprocessor` builds a complete `ColumnTransformer` for a frame from its column types: numeric
# columns are imputed (with an indicator column for "was missing") and scaled by the distribution rule;
# categorical columns are one-hot encoded with rare and unseen categories in `other`; high-cardinality
# columns are target encoded, cross-fitted. Composed with a model in a `Pipeline`, it is *one*
# estimator: `fit` learns every statistic from the training data, `predict_proba` applies them, and
# `cross_val_score` refits all of it in every fold.

# %% id="code-bbc8fa04"
preprocessor = fe.make_preprocessor(X_train)
model = Pipeline([("features", preprocessor), ("model", LogisticRegression(max_iter=2000))])
results["make_preprocessor(X_train) + logistic regression"] = valid_auc(model)
print("column types:", fe.column_types(X_train))
print(len(model[0].get_feature_names_out()), "model inputs, e.g.", list(model[0].get_feature_names_out()[:4]))
cv_auc = cross_val_score(model, X_train, y_train, scoring="roc_auc",
                         cv=StratifiedKFold(DEMO_FOLDS, shuffle=True, random_state=SEED))
print(f"cross-validated AUC on the training split: {cv_auc.mean():.3f} ± {cv_auc.std():.3f}")
pd.Series(results, name="validation ROC-AUC").round(3).to_frame()


# %% [markdown] id="md-49ddd051"
# ### Exercise 8 (tier 5) — a feature pipeline that holds up on new data
#
# Write `build_pipeline()`, which returns a **new, unfitted** scikit-learn `Pipeline` that ends in a
# classifier with `predict_proba`. It will be used exactly like this:
#
# ```python
# pipe = build_pipeline()
# pipe.fit(X_train_frame, y_train)                   # a frame with the columns FEATURES
# scores = pipe.predict_proba(X_new_frame)[:, 1]
# ```
#
# **How it is judged.** The hidden test makes two *fresh* worlds with other seeds (30,000 transactions
# each), fits a clone of your pipeline on the first and computes the ROC-AUC on the second. It must beat
# the **baseline** — `SimpleImputer(strategy="median")`, `StandardScaler()` and
# `LogisticRegression(max_iter=1000)` on the numeric columns `NUMERIC` — by at least **0.05**. The visible
# test asks for a margin of 0.02 on `X_valid`.
#
# **What is checked as well**, because a good score is worthless if it was obtained by looking at the
# answers:
#
# * `build_pipeline()` returns an unfitted pipeline (the test fits it) that survives `sklearn.base.clone`;
# * it learns from the labels it is given, not from knowledge built in beforehand: fitted on *inverted*
#   training labels (fraud and legitimate swapped), its ranking must invert too (ROC-AUC below 0.35);
# * a row's prediction does not depend on the other rows it is predicted with (nothing is fitted on the
#   data being scored): predicting a subset, or the rows in another order, gives the same scores.
#
# Use anything from this notebook (`fe` transformers, scikit-learn). Keep the fit under a few seconds
# on 30,000 rows.

# %% id="ex8-build-pipeline" mlcourse={"stage": "features", "tier": 5} nbgrader={"grade": false, "grade_id": "ex8_build_pipeline", "locked": false, "schema_version": 3, "solution": true, "task": false}
def build_pipeline():
    """An unfitted Pipeline: features engineered from FEATURES, then a logistic regression."""
    ### BEGIN SOLUTION
    numeric = ["amount", "distance_km", "account_age_days", "tx_count_24h", "is_foreign", "is_new_device"]
    features = ColumnTransformer([
        # Skewed quantities on a log scale (chosen from their distributions), missing-value flags.
        ("numeric", make_pipeline(SimpleImputer(strategy="median", add_indicator=True), fe.AutoScaler()), numeric),
        # The U-shaped effect of the amount: card testing (tiny) and stolen cards (large).
        ("amount_bins", fe.Binner(n_bins=10, encode="onehot"), ["amount"]),
        # Night is at one end of the 0-23 scale: one weight per hour.
        ("hour", fe.OneHotEncoder(handle_unknown="ignore"), ["hour"]),
        # Categories, with rare and unseen ones in an explicit 'other' column.
        ("categories", fe.OneHotEncoder(handle_unknown="other", min_frequency=0.005),
         ["device", "merchant_category", "merchant_region"]),
        # The noise_* columns and customer_group are left out (no signal; a sensitive attribute).
    ])
    return Pipeline([("features", features), ("model", LogisticRegression(C=0.1, max_iter=2000))])
    ### END SOLUTION


# %% id="ex8-build-pipeline-tests" mlcourse={"stage": "features", "tier": 5} nbgrader={"grade": true, "grade_id": "ex8_build_pipeline_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
from sklearn.base import clone as _clone
from sklearn.exceptions import NotFittedError as _NotFittedError
from sklearn.preprocessing import StandardScaler as _SkScaler
from sklearn.utils.validation import check_is_fitted as _check_is_fitted

def _baseline_pipeline():
    return make_pipeline(ColumnTransformer([("num", make_pipeline(SimpleImputer(strategy="median"), _SkScaler()), NUMERIC)]),
                         LogisticRegression(max_iter=1000))

def _is_fitted(estimator):
    try:
        _check_is_fitted(estimator)
        return True
    except _NotFittedError:
        return False

_pipe = build_pipeline()
assert isinstance(_pipe, Pipeline), f"build_pipeline() must return a sklearn Pipeline, got {type(_pipe).__name__}"
assert not _is_fitted(_pipe), "build_pipeline() must return an UNFITTED pipeline: the test fits it"
assert hasattr(_pipe, "predict_proba"), "the pipeline must end in a classifier with predict_proba"
_fitted = _clone(_pipe).fit(X_train, y_train)
_auc = roc_auc_score(y_valid, _fitted.predict_proba(X_valid)[:, 1])
_base_auc = roc_auc_score(y_valid, _baseline_pipeline().fit(X_train, y_train).predict_proba(X_valid)[:, 1])
assert _auc >= _base_auc + 0.02, \
    f"validation ROC-AUC: expected at least the baseline {_base_auc:.3f} + 0.02, got {_auc:.3f}"

# %% id="ex8-build-pipeline-hidden-tests" mlcourse={"stage": "features", "tier": 5} nbgrader={"grade": true, "grade_id": "ex8_build_pipeline_hidden_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test judges your pipeline on two fresh worlds.
assert isinstance(build_pipeline(), Pipeline), "build_pipeline() must return a sklearn Pipeline"
### BEGIN HIDDEN TESTS
_old = make_world(seed=SEED + 1000, n_transactions=30_000).transactions
_new = make_world(seed=SEED + 2000, n_transactions=30_000).transactions
_X_old, _y_old = _old[FEATURES], _old["is_fraud"].to_numpy()
_X_new, _y_new = _new[FEATURES], _new["is_fraud"].to_numpy()

_p1, _p2 = build_pipeline(), build_pipeline()
assert _p1 is not _p2, "build_pipeline() must return a new pipeline on every call"
assert not _is_fitted(_p1), "build_pipeline() must return an UNFITTED pipeline"
_model = _clone(_p1).fit(_X_old, _y_old)
_scores = _model.predict_proba(_X_new)[:, 1]
_auc_new = roc_auc_score(_y_new, _scores)
_base_new = roc_auc_score(_y_new, _baseline_pipeline().fit(_X_old, _y_old).predict_proba(_X_new)[:, 1])
assert _auc_new >= _base_new + 0.05, \
    f"fresh world: expected ROC-AUC at least the baseline {_base_new:.3f} + 0.05, got {_auc_new:.3f}"

# Predictions must not depend on the batch: nothing may be fitted on the data being scored.
_subset = _model.predict_proba(_X_new.iloc[:300])[:, 1]
assert np.allclose(_subset, _scores[:300], atol=1e-9), "scores of the first 300 rows change when they are scored alone"
_order = np.random.default_rng(SEED).permutation(len(_X_new))
_shuffled = _model.predict_proba(_X_new.iloc[_order])[:, 1]
assert np.allclose(_shuffled, _scores[_order], atol=1e-9), "scores change when the rows are scored in another order"

# It must learn from the labels it is given: with fraud and legitimate swapped, the ranking must invert.
_auc_inverted = roc_auc_score(_y_new, _clone(_p2).fit(_X_old, 1 - _y_old).predict_proba(_X_new)[:, 1])
assert _auc_inverted < 0.35, \
    (f"fitted on inverted labels the pipeline should rank fraud LAST (AUC about 1 - {_auc_new:.2f}), "
     f"got {_auc_inverted:.3f}: its scores do not come from the labels it was given")
### END HIDDEN TESTS

# %% [markdown] id="md-7a250c4f"
# ## Summary
#
# * A linear model sees **numbers, one direction per column, added up**. Feature engineering hands it
#   what it cannot build itself: categories as columns, curved effects as bins, combinations as products.
# * **One-hot encoding** needs a decision for **unseen** categories (an explicit `other` column is the
#   safe default) and for **rare** ones (`min_frequency`).
# * **Binning** lets a linear model bend and shrugs off outliers; **quantile** bins suit skewed data,
#   **uniform** bins waste themselves on the tail. Each bin is a parameter.
# * **Look at the distribution** before transforming: right-skewed non-negative data wants a **log**,
#   skewed data of both signs a **power transform**, symmetric data with outliers **robust scaling**,
#   the rest **standard scaling**. Outliers inflate the standard deviation and squeeze every ordinary
#   value together. Measure skewness robustly, since outliers fool the moment skewness.
# * **Interactions and polynomials** express "A matters more when B"; their number grows fast, so search
#   for the useful few and validate them.
# * **Feature selection** removes noise the model would otherwise fit; filters (mutual information),
#   embedded methods (L1) and wrappers each have blind spots.
# * **Target encoding** compresses a high-cardinality column into one number, with **smoothing** for small
#   categories and **cross-fitting**, or it leaks the label.
# * **Every learned transformation is fitted on the training fold only**: put them all in one `Pipeline`
#   and cross-validate the whole pipeline.
#
# ## Going further
#
# * Tree ensembles (stage 3) learn bins and interactions themselves; compare them with the engineered
#   linear model, and notice which features still help them (target encodings, aggregates).
# * Time-aware features: counts and amounts per customer over the last hour / day / week, computed only
#   from the *past* (a "point-in-time correct" feature store), and time-based validation splits.
# * Feature hashing for categories with millions of values; embeddings learned by a neural network.
# * `customer_group` is a **sensitive attribute**: we left it out of the final pipeline. Leaving it out is
#   not enough for fairness (other columns can act as proxies) — see the bias audits of stages 1 and 4.
# * Reading: scikit-learn's user guide, *Preprocessing data*, *Target Encoder's internal cross fitting*
#   and *Common pitfalls and recommended practices*; Micci-Barreca (2001), *A preprocessing scheme for
#   high-cardinality categorical attributes*; Kuhn & Johnson, *Feature Engineering and Selection* (2019).
