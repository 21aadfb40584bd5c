# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
#   language_info:
#     name: python
# ---

# %% [markdown] id="md-title"
# # Stage 1 — Dataset creation: building a solid foundation
#
# > *"A robust AI model requires a strong foundation, and this begins with creating an appropriate dataset.
# > The cornerstone of a good dataset is relevant data. How do you identify what's relevant? It's about
# > understanding the signal-to-noise ratio, where the 'signal' is the useful information that can answer
# > your research questions, and 'noise' is the irrelevant data that may skew your results.*
# >
# > *A robust dataset is characterized by comprehensive and diverse features. It should also encompass
# > labeled and unlabeled data. While labeled data serves as the ground truth for training the model,
# > unlabeled data, despite being more challenging to work with, can unearth hidden patterns or associations.*
# >
# > *We must also address potential implicit bias in our dataset. Bias can skew the model's performance and
# > harm its ability to make fair decisions. Careful data collection, rigorous analysis, and bias-correction
# > techniques can help account for it."*
# > — the ML engineer roadmap, stage 1
#
# Every later stage of this course — features, models, metrics, monitoring — inherits the strengths and the
# flaws of the data set. A model cannot learn what the data do not contain, and it learns everything the data
# *do* contain, including the mistakes of whoever collected and labelled them. This notebook is about looking
# at a data set the way a careful engineer does before training anything.
#
# We work on the course's **data world**, a simulated card-payments platform (`mlcourse.world`). Because it is
# simulated, we know things a real platform never knows — the *true* fraud status of every transaction — and
# we can check every claim we make against it.
#
# **Learning objectives.** After this notebook you can
#
# 1. profile a new data set (types, missing values, cardinality, class balance) and say what each finding means for a model;
# 2. check that a data set is comprehensive and diverse: which segments are thin, missing or under-represented;
# 3. explain why labels arrive late, what that does to the most recent data, and choose a gap for a time split;
# 4. split without leakage: by entity (no customer on both sides) and by time;
# 5. tell signal from noise: measure each feature's mutual information with the label against a shuffled-label baseline;
# 6. use the unlabeled pool with weak supervision (labeling functions) and self-training, and measure whether it helped;
# 7. find implicit bias in how data are sampled and labelled, and explain why a fairness audit needs ground truth that the labels may not contain;
# 8. correct a labelling bias and show, on data you have not seen, that the correction worked.
#
# **Estimated time:** about 3 hours (≈ 1.25 h reading and running the demos, ≈ 1.75 h exercises).
#
# **Prerequisites:** Python functions, NumPy indexing, pandas `groupby`; conditional probability
# ($P(A \mid B)$) and the logarithm. We train a ready-made scikit-learn model a few times and report its
# **ROC-AUC** (the probability that a random fraud gets a higher score than a random legitimate transaction:
# 0.5 is guessing, 1 is perfect) and its **recall** or **true-positive rate** (the share of fraud it catches);
# stages 3 and 4 explain both in depth.
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
# | 1 | awareness | you can profile a data set: class balance, labelled share, missing values | 1 |
# | 2 | basic understanding | you can split without leaking customers or the future | 2, 3 |
# | 3 | proficiency (Junior) | you can separate signal from noise with a shuffled-label baseline | 4 |
# | 4 | advanced (Senior) | you can combine weak labels and measure a model's fairness gaps | 5, 6 |
# | 5 | expert (Staff) | you detect a hidden labelling bias and correct it so that the fix holds up on new data | 7 |

# %% [markdown] id="md-parameters"
# ## Parameters
#
# The next cell is tagged `parameters` so that [papermill](https://papermill.readthedocs.io) can
# override it. `SEED` fixes all randomness. `FAST` only trims the demonstrations (fewer shuffles, a smaller
# unlabeled sample); the graded tests never depend on it.

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
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

# nbgrader's Validate fails any test cell that writes to stderr (the grader lets assertions
# decide), and warnings are noise in a first run: so we silence
# library warnings (convergence notices, deprecations, ...) once, here.
warnings.filterwarnings("ignore")

from mlcourse import dataset as ds
from mlcourse.world import make_world

N_SHUFFLES = 20 if FAST else 50        # shuffled-label baselines in the demos
N_POOL_DEMO = 15_000 if FAST else 40_000   # unlabeled rows used in the self-training demo

world = make_world(seed=SEED)          # 200,000 transactions of 20,000 customers over 120 days
tx = world.transactions                # everything, ground truth included
FEATURES = world.feature_columns       # the columns a model may use at prediction time
GROUND_TRUTH = ["is_fraud", "fraud_probability", "is_hard_negative"]   # known to the simulator only
labeled = world.labeled()              # the labelled set
pool = world.unlabeled()               # the unlabeled pool
print(f"{len(tx):,} transactions: {len(labeled):,} labelled, {len(pool):,} unlabeled")

# %% [markdown] id="md-data"
# ## 1. The data: what the platform sees, and what it doesn't
#
# Each row of `tx` is one card payment: who paid (`customer_id`, and the customer's `customer_group`, a
# sensitive attribute such as a region of origin or a language that we must not discriminate on), where
# (`merchant_category`, `merchant_region`), how (`device`, `is_new_device`), how much (`amount`), plus a few
# behavioural signals (`tx_count_24h`, `distance_km` from home, `account_age_days`). `FEATURES` lists the
# columns that are known at the moment of the payment, the only ones a model may use.
#
# About 2% of payments are fraud. The platform learns that a payment was fraud only when the cardholder
# files a **chargeback**, weeks later, and only for the part of the traffic that goes through its labelling
# process. So there are two kinds of "fraud" columns:
#
# * `label` — what the platform *recorded*: 1.0 after a chargeback, 0.0 after settlement, **NaN** for the
#   unlabeled pool. It arrives on `label_day`. This is all a real team has.
# * `is_fraud` — the **ground truth**, which only the simulator knows (with `fraud_probability` and
#   `is_hard_negative`, listed in `GROUND_TRUTH`). We use it to *check* our conclusions, never to train.

# %% id="code-data-peek"
tx[FEATURES + ["label", "is_fraud"]].head()

# %% id="code-data-rates"
pd.DataFrame({
    "rows": [len(tx), len(labeled), len(pool)],
    "recorded fraud rate (label)": [np.nan, labeled["label"].mean(), np.nan],
    "true fraud rate (is_fraud)": [tx["is_fraud"].mean(), labeled["is_fraud"].mean(), pool["is_fraud"].mean()],
}, index=["all transactions", "labelled set", "unlabeled pool"]).round(4)

# %% [markdown] id="md-data-after"
# The recorded rate is *not* the true rate: labels are missing for some fraud (never reported), and a small
# share of labels is simply wrong (data-entry and process errors). Keep this in mind for the whole notebook:
# **a label is a measurement, and measurements have errors**. Some of those errors are random (noise); some
# are systematic (bias).
#
# ## 2. Profiling: know what you have
#
# Before asking which columns are *relevant*, find out what each column *is*. A profile answers, per column:
# its type, how often it is missing, how many distinct values it takes, its most frequent value, its range.
# Each finding is a question for the data's owner or a decision for you:
#
# * **missing values** — missing at random (a sensor glitch) or missing for a reason (a field only filled in
#   for some channels)? In the second case "missing" is itself informative;
# * **cardinality** — a column with one value carries no information; an ID-like column with a value per row
#   lets a model memorise instead of learn;
# * **range and skew** — extreme values (here `amount` has a few recording errors) distort means and
#   linear models;
# * **class balance** — with 2% positives, accuracy is meaningless (stage 4) and every estimate about the
#   positive class rests on few examples.

# %% id="code-profile"
ds.profile(labeled[FEATURES]).round(3)

# %% id="code-class-balance"
ds.class_balance(tx["label"], dropna=False)

# %% [markdown] id="md-profile-after"
# Three columns have about 5% missing values, the amount's maximum is thousands of times its median (a
# skewed distribution plus a few outliers), and the `noise_*` columns look exactly like real numeric
# features in a profile: nothing in a profile tells you which columns *matter*. That takes the label
# (section 6).
#
# The class balance with `dropna=False` shows the third "class" that matters most here: **most transactions
# have no label at all.**
#
# ### Exercise 1 (tier 1) — a first profile
#
# Compute, with pandas or NumPy (not `mlcourse.dataset`):
#
# * `fraud_share`: the share of rows of `labeled` whose `label` is 1 (a float in $[0, 1]$);
# * `unlabeled_share`: the share of all transactions in `tx` that have **no** label (`label` is NaN);
# * `missing_rates`: a pandas `Series` indexed by the column names in `FEATURES`, giving each column's share
#   of missing values **in `labeled`**, sorted from the largest to the smallest.

# %% id="ex1-profile" mlcourse={"stage": "dataset", "tier": 1} nbgrader={"grade": false, "grade_id": "ex1_profile", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
fraud_share = float((labeled["label"] == 1).mean())
unlabeled_share = float(tx["label"].isna().mean())
missing_rates = labeled[FEATURES].isna().mean().sort_values(ascending=False)
### END SOLUTION

# %% id="ex1-profile-tests" mlcourse={"stage": "dataset", "tier": 1} nbgrader={"grade": true, "grade_id": "ex1_profile_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
_lab = world.labeled()
_expected_fraud = float(np.mean(_lab["label"].to_numpy() == 1))
assert np.isclose(float(fraud_share), _expected_fraud, atol=1e-9), \
    f"fraud_share: expected {_expected_fraud:.6f} (share of labelled rows with label 1), got {fraud_share}"
_expected_unl = float(np.mean(np.isnan(world.transactions["label"].to_numpy())))
assert np.isclose(float(unlabeled_share), _expected_unl, atol=1e-9), \
    f"unlabeled_share: expected {_expected_unl:.6f} (share of all transactions without a label), got {unlabeled_share}"
assert isinstance(missing_rates, pd.Series), f"missing_rates: expected a pandas Series, got {type(missing_rates).__name__}"
assert set(missing_rates.index) == set(world.feature_columns), \
    f"missing_rates: expected one entry per feature column, got index {list(missing_rates.index)}"
for _col in world.feature_columns:
    _exp = float(_lab[_col].isna().mean())
    assert np.isclose(float(missing_rates[_col]), _exp, atol=1e-9), \
        f"missing_rates[{_col!r}]: expected {_exp:.6f}, got {missing_rates[_col]}"
assert np.all(np.diff(missing_rates.to_numpy(dtype=float)) <= 1e-12), \
    "missing_rates: expected the values sorted from the largest to the smallest"

# %% [markdown] id="md-coverage"
# ## 3. Comprehensive and diverse: who is in the data?
#
# A data set is *comprehensive* when it covers the situations the model will meet, and *diverse* when each of
# them is represented by enough examples to learn from and to measure on. Two checks:
#
# 1. **Coverage of segments.** Cross the columns that define the situations (merchant category × customer
#    group, say) and count rows and positives per cell. A cell with 40 rows and no fraud teaches the model
#    nothing about fraud there, and any metric on it is noise. `ds.coverage` lists every combination — also
#    the ones with no rows at all — thinnest first.
# 2. **Representation.** Compare the share of each group in the *labelled* data with its share in the traffic
#    the model will score. If the labelling process samples some customers less, the model sees fewer of
#    their cases, and its errors on them are measured on fewer examples.

# %% id="code-coverage"
cov = ds.coverage(labeled, ["merchant_category", "customer_group"], label="label",
                  min_count=300, min_positives=10)
print(f"{int(cov['is_thin'].sum())} of {len(cov)} segments are thin (< 300 rows or < 10 recorded frauds)")
cov.head(8).round(4)

# %% id="code-representation"
rep = ds.representation(labeled["customer_group"], tx["customer_group"])
ax = rep[["reference_share", "share"]].rename(
    columns={"reference_share": "share of all traffic", "share": "share of the labelled set"}).plot.bar(rot=0)
ax.set_ylabel("share of transactions")
ax.set_title("Who gets labelled? Group representation")
plt.show()
rep.round(3)

# %% [markdown] id="md-coverage-after"
# Group C is little more than half as present in the labelled set as in the traffic (`ratio` ≈ 0.55): its transactions
# enter the labelling process less often (say, they come through a partner bank that does not forward
# chargebacks for every account). This is **sampling bias**. It does not make the labels wrong, but it
# leaves the model with fewer group-C examples and makes every group-C number noisier. Hold on to this: in
# section 8 we find a second, more dangerous bias that no count of rows can reveal.
#
# ## 4. Labels arrive late
#
# A legitimate payment is confirmed after a settlement window of a week; a fraudulent one is known only when
# the cardholder notices and files a chargeback, typically weeks later. So at any date, **the most recent
# fraud is not yet labelled**: the recent past looks cleaner than it was. Train on "all labels known today"
# and the model learns that last month's fraud patterns are legitimate.

# %% id="code-label-delay"
delay = ds.label_delay_curve(labeled, max_delay=90)
ax = delay.plot(drawstyle="steps-post")
ax.set_xlabel("days since the transaction")
ax.set_ylabel("share of the eventual labels known")
ax.set_title("How long until a label is known?")
plt.show()
print("days until 90% of the fraud labels are known:", int((delay["positives"] >= 0.9).idxmax()))

# %% id="code-label-maturity"
AS_OF = 100
known = world.labeled(as_of_day=AS_OF)          # the labels the platform has on day 100
before = labeled[labeled["day"] < AS_OF]        # the same period, with the ground truth
rates = pd.DataFrame({
    f"recorded fraud rate, as known on day {AS_OF}": known.groupby(known["day"] // 7)["label"].mean(),
    "true fraud rate": before.groupby(before["day"] // 7)["is_fraud"].mean(),
})
ax = rates.plot(marker="o")
ax.set_xlabel("week of the transaction")
ax.set_ylabel("fraud rate")
ax.set_title("The recent past looks clean because its fraud is not reported yet")
plt.show()

# %% [markdown] id="md-label-maturity-after"
# Up to two months back the recorded rate tracks the truth (a bit above it: wrong labels add some false
# "fraud"); over the last weeks before day 100 it collapses, not because fraud stopped but because its
# chargebacks have not arrived. A training set cut on day 100 should therefore leave out the most recent
# weeks — a **gap** at least as long as the label delay you can tolerate.
#
# ## 5. Splitting without leakage
#
# A test set exists to estimate how the model will do on data it has **not** seen, in the conditions of its
# deployment. A split *leaks* when the test rows share something with the training rows that deployment data
# will not share.
#
# ### 5.1 The same customer on both sides
#
# Transactions of one customer are not independent: the same card, the same habits, the same devices — and
# in real fraud, the same compromised card is used again and again. With a random row split, most customers
# end up on both sides. A flexible model can then recognise the *customer* ("this amount-and-distance
# fingerprint was fraud in training") instead of learning what fraud looks like, and the test score promises
# a performance that new customers will never see. The fix is to split by **entity**: every customer entirely
# in train or entirely in test.

# %% id="code-random-split-leak"
shuffled = labeled.sample(frac=1.0, random_state=SEED)
cut = int(0.8 * len(shuffled))
random_train, random_test = shuffled.iloc[:cut], shuffled.iloc[cut:]
try:
    ds.assert_disjoint(random_train, random_test, "customer_id")
except ds.LeakageError as err:
    print("random split:", err)

customer_train, customer_test = ds.group_split(labeled, "customer_id", test_size=0.2, seed=SEED)
ds.assert_disjoint(customer_train, customer_test, "customer_id")   # passes silently
print(f"customer split: {customer_train['customer_id'].nunique():,} customers in train, "
      f"{customer_test['customer_id'].nunique():,} in test, none in both")

# %% [markdown] id="md-toy-leak"
# How much does it matter? In our simulated world each transaction's fraud is drawn on its own, so customers
# carry little memorable signal. Real fraud clusters by card, and the effect is large. A small toy shows it:
# 2,000 customers, 10% of whose cards are compromised (60% of their payments are fraud); each customer has
# a stable "fingerprint" (typical amount, distance from home) that says nothing about fraud in general. A
# nearest-neighbour model on the fingerprint looks good on a random split (an AUC above 0.8) — it
# recognises customers — and is no better than guessing (about 0.5) on new customers.

# %% id="code-toy-leak"
from sklearn.neighbors import KNeighborsClassifier

rng = np.random.default_rng(SEED)
n_customers, per_customer = 2_000, 10
compromised = np.repeat(rng.random(n_customers) < 0.10, per_customer)
toy = pd.DataFrame({
    "customer_id": np.repeat(np.arange(n_customers), per_customer),
    "log_amount": np.repeat(rng.normal(3, 1, n_customers), per_customer) + rng.normal(0, 0.02, n_customers * per_customer),
    "log_distance": np.repeat(rng.normal(2, 1, n_customers), per_customer) + rng.normal(0, 0.02, n_customers * per_customer),
})
toy["is_fraud"] = (rng.random(len(toy)) < np.where(compromised, 0.6, 0.01)).astype(int)

def toy_auc(train, test):
    knn = KNeighborsClassifier(n_neighbors=5).fit(train[["log_amount", "log_distance"]], train["is_fraud"])
    return roc_auc_score(test["is_fraud"], knn.predict_proba(test[["log_amount", "log_distance"]])[:, 1])

toy_shuffled = toy.sample(frac=1.0, random_state=SEED)
toy_cut = int(0.8 * len(toy))
print(f"random row split:   test AUC {toy_auc(toy_shuffled.iloc[:toy_cut], toy_shuffled.iloc[toy_cut:]):.3f}")
print(f"split by customer:  test AUC {toy_auc(*ds.group_split(toy, 'customer_id', seed=SEED)):.3f}")

# %% [markdown] id="md-time-split"
# ### 5.2 The future on the training side
#
# A model is trained on the past and used on the future. A random split mixes them: the model trains on
# transactions from *after* some of its test transactions and sees patterns that, on the day it is deployed,
# have not happened yet. Fraud patterns do change — fraudsters adapt — so a random split can be very
# optimistic. A **time split** trains on everything before a cutoff and tests on everything after it, with a
# **gap** that leaves out the transactions whose labels were not mature at training time (section 4).
#
# We need a model to measure with. `make_model` below is a standard logistic regression behind a
# scikit-learn preprocessing pipeline (skewed numbers log-scaled, categories one-hot encoded, missing values
# imputed); stages 2 and 3 open this box. We judge it here against the **ground truth**, which isolates the
# effect of the split from the label noise.

# %% id="code-make-model"
LOG_COLUMNS = ["amount", "distance_km", "account_age_days", "tx_count_24h"]
CATEGORY_COLUMNS = ["hour", "device", "merchant_category", "merchant_region", "customer_group"]


def make_model(columns):
    # A logistic regression on `columns`: skewed numbers log-scaled, categories one-hot, gaps imputed.
    logs = [c for c in columns if c in LOG_COLUMNS]
    categories = [c for c in columns if c in CATEGORY_COLUMNS]
    others = [c for c in columns if c not in logs and c not in categories]
    prepare = ColumnTransformer([
        ("log", make_pipeline(SimpleImputer(strategy="median", add_indicator=True),
                              FunctionTransformer(np.log1p), StandardScaler()), logs),
        ("category", OneHotEncoder(handle_unknown="ignore"), categories),
        ("number", StandardScaler(), others),
    ])
    return make_pipeline(prepare, LogisticRegression(max_iter=1000))


def truth_auc(train, test):
    # Train on the recorded labels of `train`; ROC-AUC against the ground truth of `test`.
    model = make_model(FEATURES).fit(train[FEATURES], train["label"].astype(int))
    return roc_auc_score(test["is_fraud"], model.predict_proba(test[FEATURES])[:, 1])


# %% id="code-time-split"
CUTOFF, GAP = 90, 30
time_train, time_test = ds.time_split(labeled, "day", cutoff=CUTOFF, gap=GAP)
mixed_train = random_train[random_train["day"] < CUTOFF - GAP]
future_test = random_test[random_test["day"] >= CUTOFF]
pd.DataFrame({
    "test AUC (ground truth)": [truth_auc(random_train, random_test), truth_auc(random_train, future_test),
                                truth_auc(time_train, time_test)],
}, index=["random split, random test rows",
          f"random split, test rows from day {CUTOFF} on",
          f"time split: train days < {CUTOFF - GAP}, test days >= {CUTOFF}"]).round(3)


# %% [markdown] id="md-time-split-after"
# The random split promises an AUC around 0.85. The time split tells what happens after deployment: around
# day 80 the fraudsters switched from stolen cards to *card testing* (bursts of tiny online purchases), a
# pattern that a model trained on the past has never seen, and its AUC on the new fraud falls to about
# guessing, or below. The random split hid this because its training set already contained the new pattern (and even
# its score on the late days is too optimistic for the same reason). (Noticing and
# adapting to such shifts is the subject of stages 8 and 9; here the lesson is that only a split that
# respects time can reveal them.)
#
# ### Exercise 2 (tier 2) — split by customer
#
# Implement `split_by_customer(frame, test_share=0.2, seed=0)` with NumPy/pandas (not `mlcourse.dataset`):
#
# * draw `round(test_share * n)` of the `n` distinct `customer_id` values at random (use
#   `np.random.default_rng(seed)`) and put **all** their rows in `test`, every other row in `train`;
# * return the tuple `(train, test)` of DataFrames; together they hold every row of `frame` exactly once,
#   with the original index; no `customer_id` appears in both;
# * the same seed gives the same split, different seeds (almost always) different ones.
#
# Hidden tests use other frames, shares and seeds.

# %% id="ex2-split-by-customer" mlcourse={"stage": "dataset", "tier": 2} nbgrader={"grade": false, "grade_id": "ex2_split_by_customer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def split_by_customer(frame, test_share=0.2, seed=0):
    # Return (train, test) with every customer entirely on one side.
    ### BEGIN SOLUTION
    customers = np.unique(frame["customer_id"].to_numpy())
    rng = np.random.default_rng(seed)
    n_test = int(round(test_share * len(customers)))
    test_customers = rng.choice(customers, size=n_test, replace=False)
    in_test = frame["customer_id"].isin(test_customers).to_numpy()
    return frame[~in_test], frame[in_test]
    ### END SOLUTION


# %% id="ex2-split-by-customer-tests" mlcourse={"stage": "dataset", "tier": 2} nbgrader={"grade": true, "grade_id": "ex2_split_by_customer_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
def _check_customer_split(frame, share, seed):
    _tr, _te = split_by_customer(frame, test_share=share, seed=seed)
    assert isinstance(_tr, pd.DataFrame) and isinstance(_te, pd.DataFrame), "expected a tuple of two DataFrames"
    assert len(_tr) + len(_te) == len(frame), f"expected {len(frame)} rows in total, got {len(_tr)} + {len(_te)}"
    assert sorted(np.r_[_tr.index.to_numpy(), _te.index.to_numpy()]) == sorted(frame.index), \
        "expected every row of the frame exactly once, with its original index"
    _shared = set(_tr["customer_id"]) & set(_te["customer_id"])
    assert not _shared, f"expected no customer on both sides, got {len(_shared)} shared customers"
    _n = frame["customer_id"].nunique()
    assert _te["customer_id"].nunique() == round(share * _n), \
        f"expected round({share} * {_n}) = {round(share * _n)} test customers, got {_te['customer_id'].nunique()}"
    return _tr, _te

_tr1, _te1 = _check_customer_split(labeled, 0.2, 0)
_tr2, _te2 = _check_customer_split(labeled, 0.2, 0)
assert _te1.index.equals(_te2.index), "expected the same split for the same seed"
_tr3, _te3 = _check_customer_split(labeled, 0.2, 1)
assert not _te1.index.equals(_te3.index), "expected a different split for a different seed"
### BEGIN HIDDEN TESTS
_check_customer_split(labeled, 0.35, 11)
_hand = pd.DataFrame({"customer_id": [7, 7, 3, 3, 3, 9, 1, 1, 5, 7], "x": np.arange(10)},
                     index=np.arange(100, 110))
for _seed in range(5):
    _tr_h, _te_h = _check_customer_split(_hand, 0.4, _seed)       # 2 of the 5 customers
    assert _te_h["customer_id"].nunique() == 2
_seen = {tuple(sorted(set(split_by_customer(_hand, 0.4, _s)[1]["customer_id"]))) for _s in range(20)}
assert len(_seen) > 3, f"expected the test customers to vary with the seed, got only {_seen}"
_tr_tx, _te_tx = _check_customer_split(tx.iloc[:5000], 0.5, 3)
### END HIDDEN TESTS

# %% [markdown] id="md-ex3"
# ### Exercise 3 (tier 2) — a time split that respects label delay
#
# Implement `split_by_time(frame, cutoff_day, gap_days)` for a frame of labelled transactions with the
# columns `day` and `label_day` (the day the label became known). The model is trained on day `cutoff_day`:
#
# * `train`: the rows with `day < cutoff_day - gap_days` **and** whose label was known by then,
#   `label_day <= cutoff_day`;
# * `test`: the rows with `day >= cutoff_day` (we evaluate them later, once their labels are in);
# * rows in between belong to neither. Return `(train, test)`, keeping the original index and row order.

# %% id="ex3-split-by-time" mlcourse={"stage": "dataset", "tier": 2} nbgrader={"grade": false, "grade_id": "ex3_split_by_time", "locked": false, "schema_version": 3, "solution": true, "task": false}
def split_by_time(frame, cutoff_day, gap_days):
    # Return (train, test): the mature past before the gap, and the future from cutoff_day on.
    ### BEGIN SOLUTION
    train_mask = (frame["day"] < cutoff_day - gap_days) & (frame["label_day"] <= cutoff_day)
    test_mask = frame["day"] >= cutoff_day
    return frame[train_mask], frame[test_mask]
    ### END SOLUTION


# %% id="ex3-split-by-time-tests" mlcourse={"stage": "dataset", "tier": 2} nbgrader={"grade": true, "grade_id": "ex3_split_by_time_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
def _expected_time_split(frame, cutoff, gap):
    _d, _ld = frame["day"].to_numpy(), frame["label_day"].to_numpy()
    return frame.index[(_d < cutoff - gap) & (_ld <= cutoff)], frame.index[_d >= cutoff]

for _cut, _gap in [(90, 30), (60, 0), (100, 45)]:
    _tr, _te = split_by_time(labeled, _cut, _gap)
    _etr, _ete = _expected_time_split(labeled, _cut, _gap)
    assert _tr.index.equals(_etr), \
        f"cutoff {_cut}, gap {_gap}: expected {len(_etr)} training rows (day < cutoff - gap, label known), got {len(_tr)}"
    assert _te.index.equals(_ete), f"cutoff {_cut}, gap {_gap}: expected {len(_ete)} test rows, got {len(_te)}"
### BEGIN HIDDEN TESTS
_edge = pd.DataFrame({"day": [0, 5, 9, 10, 10, 11, 20, 30],
                      "label_day": [7, 12, 40, 17, 50, 18, 27, 37],
                      "label": [0, 0, 1, 0, 1, 0, 0, 0]}, index=list("abcdefgh"))
_tr, _te = split_by_time(_edge, 20, 10)
assert list(_tr.index) == ["a", "b"], f"expected train rows ['a', 'b'] (day < 10, label known by day 20), got {list(_tr.index)}"
assert list(_te.index) == ["g", "h"], f"expected test rows ['g', 'h'] (day >= 20), got {list(_te.index)}"
_tr, _te = split_by_time(_edge, 12, 0)
assert list(_tr.index) == ["a", "b"], \
    f"expected train rows ['a', 'b'] (a label known on day 12 counts; later labels do not), got {list(_tr.index)}"
assert list(_te.index) == ["g", "h"], f"expected test rows ['g', 'h'], got {list(_te.index)}"
_shuffled = labeled.sample(frac=0.3, random_state=5)
_tr, _te = split_by_time(_shuffled, 70, 20)
_etr, _ete = _expected_time_split(_shuffled, 70, 20)
assert _tr.index.equals(_etr) and _te.index.equals(_ete), "on shuffled rows: expected the original row order to be kept"
### END HIDDEN TESTS

# %% [markdown] id="md-signal"
# ## 6. Relevance: signal and noise
#
# A feature is **relevant** when it carries information about the label: knowing it changes what you expect
# the label to be. **Mutual information** measures exactly that, for any kind of relation (not only linear):
#
# $$I(X; Y) = \sum_{x, y} p(x, y) \log \frac{p(x, y)}{p(x)\,p(y)},$$
#
# the expected reduction in uncertainty about $Y$ from knowing $X$, in nats (natural log). It is 0 when $X$
# and $Y$ are independent. For a numeric column we first cut it into bins (10 quantile bins), so that every
# column becomes a set of codes.
#
# The catch is **noise**. Estimated from a finite sample, MI is never exactly 0: a column of pure noise with
# 10 bins shows an MI of about $\frac{(k_X - 1)(k_Y - 1)}{2n}$ nats by chance alone, more with more bins and
# fewer rows. Is 0.0002 nats signal? On its own the number cannot say. So we compare it with what noise
# achieves *on the same data*: shuffle the labels (this destroys any real relation but keeps the bins and the
# class balance), recompute the MI, repeat, and take the 95th percentile of these shuffled values as the
# **baseline**. A feature above the baseline is signal; its **signal-to-noise ratio** is MI / baseline.

# %% id="code-signal-ranking"
ranking = ds.signal_ranking(labeled, labeled["label"], FEATURES, n_shuffles=N_SHUFFLES, seed=SEED)
ds.plot_signal_ranking(ranking)
plt.show()
ranking.round(5)

# %% [markdown] id="md-signal-after"
# The pure-noise columns `noise_*` sit around their baselines, with a signal-to-noise ratio near or below 1;
# merchant, region, foreignness, amount and distance are far above theirs. Three more lessons hide in this
# table:
#
# * **MI is univariate.** It scores each column alone. `hour` matters only at night and `account_age_days`
#   only for some fraud patterns; a column with little MI may still help in combination with others. Use
#   the ranking to find noise and to question surprises, not as the last word on what to keep (stage 2
#   discusses selection).
# * **Relevance is measured against the labels you have.** Compare the same ranking against the ground
#   truth below: every real feature carries *more* information about the truth than about the recorded
#   label, because wrong and missing labels dilute the signal. The labels' own signal-to-noise ratio is a
#   property of your data set, and improving the labels can be worth more than adding features.
# * **Relevance is not fairness.** A column can be "signal" for the recorded label only because the
#   *labelling* depends on it. Look at `customer_group` in the table below: its MI with the recorded label
#   is larger than with the truth (depending on the sample it may even pass the baseline for the label and
#   not for the truth). Section 8 explains why.

# %% id="code-signal-truth"
ranking_truth = ds.signal_ranking(labeled, labeled["is_fraud"], FEATURES, n_shuffles=N_SHUFFLES, seed=SEED)
shown = list(dict.fromkeys(list(ranking.index[:7]) + ["customer_group"]))
pd.DataFrame({"MI with the recorded label": ranking["mi"], "signal for the label?": ranking["is_signal"],
              "MI with the ground truth": ranking_truth["mi"], "signal for the truth?": ranking_truth["is_signal"],
              }).loc[shown].round(5)

# %% [markdown] id="md-ex4"
# ### Exercise 4 (tier 3) — a shuffled-label baseline
#
# Implement `signal_table(frame, y, columns, n_shuffles=50, seed=0)` (you may use
# `sklearn.metrics.mutual_info_score`, but not `mlcourse.dataset`):
#
# 1. turn each column of `columns` into integer codes: a numeric column (not bool) with more than 10
#    distinct values becomes `pd.qcut(column, 10, labels=False, duplicates="drop")`; any other column becomes
#    `pd.factorize(column)[0]`. Missing values get the code `-1` in both cases;
# 2. `mi`: the mutual information (nats) between the codes and `y` (a 0/1 array-like of `len(frame)`);
# 3. `baseline`: the 95th percentile (`np.quantile(..., 0.95)`) of the mutual information between the codes
#    and `n_shuffles` random permutations of `y` (use `rng = np.random.default_rng(seed)` and
#    `rng.permutation`);
# 4. `is_signal`: `mi > baseline`.
#
# Return a DataFrame indexed by the column names with the columns `mi`, `baseline` and `is_signal`, sorted
# by `mi`, largest first. It should take a few seconds at most on `labeled`.
#
# The tests compare `mi` exactly; since your shuffles differ from ours, they check `baseline` within a
# tolerance and `is_signal` only for columns clearly above or below the baseline. Hidden tests use another
# world and hand-made columns.

# %% id="ex4-signal-table" mlcourse={"stage": "dataset", "tier": 3} nbgrader={"grade": false, "grade_id": "ex4_signal_table", "locked": false, "schema_version": 3, "solution": true, "task": false}
from sklearn.metrics import mutual_info_score


def signal_table(frame, y, columns, n_shuffles=50, seed=0):
    # Mutual information of each column with y, against a shuffled-label baseline.
    ### BEGIN SOLUTION
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    shuffles = [rng.permutation(y) for _ in range(n_shuffles)]
    rows = {}
    for column in columns:
        values = frame[column]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if numeric and values.nunique() > 10:
            codes = pd.qcut(values, 10, labels=False, duplicates="drop").fillna(-1).to_numpy()
        else:
            codes = pd.factorize(values)[0]
        shuffled = [mutual_info_score(codes, ys) for ys in shuffles]
        mi = mutual_info_score(codes, y)
        baseline = float(np.quantile(shuffled, 0.95))
        rows[column] = {"mi": mi, "baseline": baseline, "is_signal": mi > baseline}
    return pd.DataFrame.from_dict(rows, orient="index").sort_values("mi", ascending=False)
    ### END SOLUTION


# %% id="ex4-signal-table-tests" mlcourse={"stage": "dataset", "tier": 3} nbgrader={"grade": true, "grade_id": "ex4_signal_table_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from sklearn.metrics import mutual_info_score as _mis


def _codes_ref(values):
    _numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if _numeric and values.nunique() > 10:
        return pd.qcut(values, 10, labels=False, duplicates="drop").fillna(-1).to_numpy().astype(int)
    return pd.factorize(values)[0]


def _shuffled_mi_ref(codes, y, n, seed):
    # MI of codes with n permutations of y, all at once with one bincount (plain NumPy).
    _, _c = np.unique(codes, return_inverse=True)
    _, _y = np.unique(y, return_inverse=True)
    _kx, _ky = _c.max() + 1, _y.max() + 1
    _r = np.random.default_rng(seed)
    _ys = np.stack([_y[_r.permutation(len(_y))] for _ in range(n)])
    _idx = np.arange(n)[:, None] * _kx * _ky + _c[None, :] * _ky + _ys
    _t = np.bincount(_idx.ravel(), minlength=n * _kx * _ky).reshape(n, _kx, _ky) / len(_y)
    _px, _py = _t.sum(2, keepdims=True), _t.sum(1, keepdims=True)
    _ok = _t > 0
    return np.where(_ok, _t * np.log(np.where(_ok, _t, 1) / np.where(_ok, _px * _py, 1)), 0).sum((1, 2))


def _check_signal_table(frame, y, columns, seed):
    _got = signal_table(frame, y, columns, n_shuffles=50, seed=seed)
    assert isinstance(_got, pd.DataFrame), f"expected a DataFrame, got {type(_got).__name__}"
    assert set(_got.index) == set(columns), f"expected one row per column {columns}, got {list(_got.index)}"
    assert {"mi", "baseline", "is_signal"} <= set(_got.columns), f"expected columns mi, baseline, is_signal, got {list(_got.columns)}"
    assert np.all(np.diff(_got["mi"].to_numpy(dtype=float)) <= 1e-15), "expected rows sorted by mi, largest first"
    for _c in columns:
        _codes = _codes_ref(frame[_c])
        _mi = _mis(_codes, np.asarray(y))
        assert np.isclose(_got.loc[_c, "mi"], _mi, rtol=1e-7, atol=1e-12), \
            f"{_c}: expected mi {_mi:.6g} (see the binning rule), got {_got.loc[_c, 'mi']:.6g}"
        _base = float(np.quantile(_shuffled_mi_ref(_codes, np.asarray(y), 200, seed + 1), 0.95))
        assert 0.5 * _base <= _got.loc[_c, "baseline"] <= 2.0 * _base, \
            f"{_c}: expected a baseline near {_base:.3g} (95th percentile of shuffled MI), got {_got.loc[_c, 'baseline']:.3g}"
        if _mi > 2 * _base or _mi < 0.5 * _base:
            assert bool(_got.loc[_c, "is_signal"]) == bool(_mi > _base), \
                f"{_c}: mi {_mi:.3g} vs baseline {_base:.3g}: expected is_signal={_mi > _base}"
    return _got

_got_visible = _check_signal_table(labeled, labeled["label"].to_numpy().astype(int),
                                   ["merchant_category", "amount", "noise_0", "is_foreign", "device", "distance_km"], seed=0)

# %% id="ex4-signal-table-hidden-tests" mlcourse={"stage": "dataset", "tier": 3} nbgrader={"grade": true, "grade_id": "ex4_signal_table_hidden_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test checks signal_table on data you have not seen.
_t_check = signal_table(labeled.iloc[:3000], labeled["label"].to_numpy()[:3000].astype(int), ["noise_1", "hour"], n_shuffles=5)
assert set(_t_check.index) == {"noise_1", "hour"}, f"expected rows noise_1 and hour, got {list(_t_check.index)}"
### BEGIN HIDDEN TESTS
_world_h = make_world(seed=2027, n_transactions=60_000, n_customers=6_000)
_lab_h = _world_h.labeled()
_got_h = _check_signal_table(_lab_h, _lab_h["is_fraud"].to_numpy(), _world_h.feature_columns, seed=4)
for _c in ["merchant_category", "is_foreign", "amount"]:
    assert _got_h.loc[_c, "is_signal"], f"fresh world: {_c} is a strong signal, expected is_signal=True"

_rng_h = np.random.default_rng(99)
_n = 4000
_y_h = (_rng_h.random(_n) < 0.2).astype(int)
_strong = np.where(_y_h == 1, _rng_h.normal(1.5, 1, _n), _rng_h.normal(0, 1, _n))
_strong[_rng_h.random(_n) < 0.1] = np.nan                          # missing values: code -1
_hand = pd.DataFrame({
    "strong": _strong,
    "category": pd.Categorical(np.where(_y_h == 1, _rng_h.choice(["u", "v"], _n), _rng_h.choice(["v", "w", "x"], _n))),
    "flag": _rng_h.random(_n) < 0.5,                               # pure noise, bool
    "few_values": _rng_h.integers(0, 4, _n).astype(float),         # numeric with 4 values: factorized
    "noise": _rng_h.standard_t(3, _n),
})
_got_hand = _check_signal_table(_hand, _y_h, list(_hand.columns), seed=7)
assert _got_hand.index[0] in ("strong", "category"), f"hand-made data: expected a strong column first, got {_got_hand.index[0]}"
assert _got_hand.loc["strong", "is_signal"] and _got_hand.loc["category", "is_signal"], "hand-made data: expected the two strong columns to be signal"
### END HIDDEN TESTS

# %% [markdown] id="md-unlabeled"
# ## 7. Labeled and unlabeled data
#
# Three quarters of the transactions have no label. Labels are expensive (an analyst's hour, a chargeback's
# weeks) while unlabeled data are free. Two ways to put the unlabeled pool to work:
#
# * **Weak supervision.** Experts know heuristics — "a dispute by the cardholder is probably fraud", "a card
#   present at a local terminal in daytime is almost always legitimate". Each heuristic becomes a
#   **labeling function** (LF): it votes 1, 0, or **abstains** (-1) on each row. LFs are cheap, partial
#   (low *coverage*) and noisy (imperfect *accuracy*), and they can *conflict*. Combining their votes — a
#   majority vote, or a vote weighted by each LF's measured accuracy — labels a large part of the pool.
# * **Self-training.** Fit a model on the labelled rows, let it label the unlabeled rows it is most sure
#   about (**pseudo-labels**), refit on both, repeat.
#
# Neither is free: weak labels are wrong more often than real ones, and a model's pseudo-labels repeat its
# own mistakes with growing confidence. The only honest verdict is a measurement: does the model trained
# with the extra labels do better on held-out data?

# %% id="code-lfs"
def lf_disputed(frame):          # the cardholder disputed the payment (implicit feedback)
    return np.where(frame["disputed"], 1, -1)

def lf_night_abroad(frame):      # stolen cards are used at night, abroad
    return np.where((frame["hour"] < 6) & frame["is_foreign"], 1, -1)

def lf_far_and_expensive(frame): # far from home and expensive
    return np.where((frame["distance_km"] > 500) & (frame["amount"] > 300), 1, -1)

def lf_local_terminal(frame):    # card present at a domestic terminal in daytime
    return np.where((frame["device"] == "pos") & ~frame["is_foreign"] & frame["hour"].between(7, 21), 0, -1)

def lf_everyday_purchase(frame): # small everyday purchases
    return np.where(frame["merchant_category"].isin(["grocery", "restaurants", "fuel"]) & (frame["amount"] < 100), 0, -1)

LFS = [lf_disputed, lf_night_abroad, lf_far_and_expensive, lf_local_terminal, lf_everyday_purchase]
L_labeled = ds.apply_lfs(labeled, LFS)
summary = ds.lf_summary(L_labeled, labeled["label"])
summary["accuracy vs ground truth"] = ds.lf_summary(L_labeled, labeled["is_fraud"])["accuracy"]
summary.round(3)

# %% [markdown] id="md-lfs-after"
# `coverage` is the share of rows an LF votes on, `overlaps` and `conflicts` the share where another LF also
# votes (and disagrees), `accuracy` the share of its votes that match the recorded label. The fraud LFs are
# rare and far from perfect — a dispute is the best of them — while the legitimate-side LFs cover half the
# traffic with very high accuracy (easy, because 98% of everything is legitimate). Note again the gap
# between accuracy against the recorded label and against the truth.
#
# Now label the pool by majority vote and measure. We hold out a set of customers from the pool (judged on
# the ground truth) and compare a model trained on a small labelled budget with one trained on the same
# budget plus the weak labels of the rest of the pool.

# %% id="code-weak-gain"
pool_train, pool_test = ds.group_split(pool, "customer_id", test_size=0.3, seed=SEED)
weak = pool_train.assign(label=ds.majority_vote(ds.apply_lfs(pool_train, LFS)))
weak = weak[weak["label"] != ds.ABSTAIN]
print(f"weak labels for {len(weak):,} of {len(pool_train):,} pool rows; "
      f"{int((weak['label'] == 1).sum()):,} weak frauds, of which {weak.loc[weak['label'] == 1, 'is_fraud'].mean():.0%} are real")

rows = {}
for budget in [3_000, len(labeled)]:
    base = labeled.sample(n=budget, random_state=SEED)
    rows[f"{budget:,} labels"] = {
        "labels only": truth_auc(base, pool_test),
        "labels + weak labels": truth_auc(pd.concat([base, weak]), pool_test),
    }
pd.DataFrame(rows).T.round(3)

# %% [markdown] id="md-self-training"
# With few labels, the weak labels help; with all the labels, they add little (the model already knows
# what they encode). That is typical: weak supervision pays where labels are scarce.
#
# Self-training next, with `ds.SelfTraining` (the rule of scikit-learn's `SelfTrainingClassifier`: rows whose
# top class probability exceeds `threshold` get pseudo-labelled, repeat).

# %% id="code-self-training"
base = labeled.sample(n=3_000, random_state=SEED)
unlabeled_sample = pool_train.sample(n=min(N_POOL_DEMO, len(pool_train)), random_state=SEED)
X = pd.concat([base[FEATURES], unlabeled_sample[FEATURES]])
y = np.r_[base["label"].astype(int), np.full(len(unlabeled_sample), -1)]
self_trained = ds.SelfTraining(make_model(FEATURES), threshold=0.99, max_iter=3).fit(X, y)
pseudo = self_trained.transduction_[len(base):]
print(f"pseudo-labels per round: {self_trained.n_pseudo_labels_}; "
      f"pseudo-frauds: {int((pseudo == 1).sum())}, pseudo-legit: {int((pseudo == 0).sum()):,}")
print(f"test AUC: labels only {truth_auc(base, pool_test):.3f}, "
      f"self-trained {roc_auc_score(pool_test['is_fraud'], self_trained.predict_proba(pool_test[FEATURES])[:, 1]):.3f}")


# %% [markdown] id="md-self-training-after"
# On rare-event data the model is never 99% sure that a payment is fraud, so self-training only adds
# "legitimate" pseudo-labels — the easy cases it already gets right. The change in AUC is small, and its
# sign changes from one sample to the next: the pseudo-labels cannot teach the model anything new about
# fraud, the class we care about, and had the threshold let some pseudo-frauds in, they would be the
# model's own mistakes fed back as truth. Self-training works best where classes are balanced and the
# model's confident predictions are right; measure, as above, before you trust it.
#
# ### Exercise 5 (tier 4) — a vote weighted by accuracy
#
# A plain majority vote trusts every LF equally. Better: weight each LF by how often it is right, measured
# on the rows where a gold label is known. Implement `weighted_vote(L, gold)`:
#
# * `L`: an integer array of shape `(n, m)` with votes in {1, 0, -1 (abstain)}; `gold`: an array of shape
#   `(n,)` with 0/1 where the true label is known and -1 elsewhere;
# * for each LF $j$, count $n_j$, the rows where it votes **and** `gold` is known, and $c_j$, those where its
#   vote equals `gold`; its smoothed accuracy is $a_j = (c_j + 1) / (n_j + 2)$ and its weight
#   $w_j = \log\frac{a_j}{1 - a_j}$ (an LF right half the time gets weight 0; one right less than half the
#   time gets a negative weight, which flips its votes);
# * each row's score is $s_i = \sum_j w_j v_{ij}$ with $v_{ij} = +1$ for a vote 1, $-1$ for a vote 0, $0$ for
#   an abstention;
# * return an integer array of shape `(n,)`: 1 where $s_i > 0$, 0 where $s_i < 0$, and -1 where no LF votes
#   or $|s_i| < 10^{-12}$.
#
# Vectorise it (no Python loop over rows). Hidden tests use random label matrices with abstaining rows,
# useless and adversarial LFs.

# %% id="ex5-weighted-vote" mlcourse={"stage": "dataset", "tier": 4} nbgrader={"grade": false, "grade_id": "ex5_weighted_vote", "locked": false, "schema_version": 3, "solution": true, "task": false}
def weighted_vote(L, gold):
    # Combine LF votes with weights log(a / (1 - a)) from each LF's smoothed accuracy on the gold rows.
    ### BEGIN SOLUTION
    L = np.asarray(L)
    gold = np.asarray(gold)
    votes = L != -1
    judged = votes & (gold != -1)[:, None]
    correct = judged & (L == gold[:, None])
    accuracy = (correct.sum(axis=0) + 1) / (judged.sum(axis=0) + 2)
    weights = np.log(accuracy / (1 - accuracy))
    signs = np.where(L == 1, 1.0, np.where(L == 0, -1.0, 0.0))
    score = signs @ weights
    out = np.where(score > 0, 1, 0)
    out[(np.abs(score) < 1e-12) | ~votes.any(axis=1)] = -1
    return out.astype(int)
    ### END SOLUTION


# %% id="ex5-weighted-vote-tests" mlcourse={"stage": "dataset", "tier": 4} nbgrader={"grade": true, "grade_id": "ex5_weighted_vote_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def _weighted_vote_ref(L, gold):
    # Brute force, one LF and one row at a time.
    _n, _m = L.shape
    _w = []
    for _j in range(_m):
        _nj = sum(1 for _i in range(_n) if L[_i, _j] != -1 and gold[_i] != -1)
        _cj = sum(1 for _i in range(_n) if L[_i, _j] != -1 and gold[_i] != -1 and L[_i, _j] == gold[_i])
        _a = (_cj + 1) / (_nj + 2)
        _w.append(np.log(_a / (1 - _a)))
    _out = []
    for _i in range(_n):
        _s = sum(_w[_j] * (1 if L[_i, _j] == 1 else -1) for _j in range(_m) if L[_i, _j] != -1)
        _any = any(L[_i, _j] != -1 for _j in range(_m))
        _out.append(-1 if (not _any or abs(_s) < 1e-12) else (1 if _s > 0 else 0))
    return np.array(_out)

_L_small = np.array([[1, -1, 0], [1, 0, 0], [-1, -1, -1], [0, 0, -1], [1, 1, 1], [-1, 0, 1]])
_gold_small = np.array([1, 1, 0, 0, 1, -1])
_got = np.asarray(weighted_vote(_L_small, _gold_small))
_exp = _weighted_vote_ref(_L_small, _gold_small)
assert _got.shape == (6,), f"expected shape (6,), got {_got.shape}"
assert np.array_equal(_got, _exp), f"small example: expected {_exp.tolist()}, got {_got.tolist()}"
_rng = np.random.default_rng(5)
_L_r = np.where(_rng.random((300, 5)) < 0.5, -1, _rng.integers(0, 2, (300, 5)))
_gold_r = np.where(_rng.random(300) < 0.6, _rng.integers(0, 2, 300), -1)
assert np.array_equal(np.asarray(weighted_vote(_L_r, _gold_r)), _weighted_vote_ref(_L_r, _gold_r)), \
    "random 300 x 5 label matrix: expected the votes of the reference implementation"
### BEGIN HIDDEN TESTS
for _seed in range(6):
    _rng_h = np.random.default_rng(100 + _seed)
    _n_h, _m_h = 400, 3 + _seed
    _truth_h = _rng_h.integers(0, 2, _n_h)
    _acc_h = _rng_h.uniform(0.2, 0.95, _m_h)                       # some LFs are worse than a coin
    _L_h = np.where(_rng_h.random((_n_h, _m_h)) < _acc_h, _truth_h[:, None], 1 - _truth_h[:, None])
    _L_h[_rng_h.random((_n_h, _m_h)) < 0.6] = -1
    _L_h[:20] = -1                                                 # rows where every LF abstains
    _gold_h = np.where(_rng_h.random(_n_h) < 0.3, _truth_h, -1)
    if _seed == 0:
        _gold_h[:] = -1                                            # no gold at all: every weight is 0
    _got_h = np.asarray(weighted_vote(_L_h, _gold_h))
    _exp_h = _weighted_vote_ref(_L_h, _gold_h)
    assert np.array_equal(_got_h, _exp_h), \
        f"random matrix {_seed}: {int(np.sum(_got_h != _exp_h))} of {_n_h} votes differ from the reference"
    assert np.all(_got_h[:20] == -1), "rows where every LF abstains must get -1"
### END HIDDEN TESTS

# %% [markdown] id="md-bias"
# ## 8. Implicit bias: where it hides, and why you need ground truth to see it
#
# A data set is the output of a process — who is sampled, what is measured, who labels, what gets recorded
# — and every step can treat groups differently without anyone intending it:
#
# * **sampling**: whose transactions enter the labelled set (section 3: group C half as often);
# * **measurement / labelling**: whose fraud gets *reported*. A chargeback needs a cardholder who notices,
#   knows the procedure and trusts the bank enough to call. If one group does this less, its recorded fraud
#   rate is lower than its true one;
# * **historical and feedback effects**: the model decides which payments analysts review, the reviews become
#   labels, and the next model learns from them.
#
# Look at the labels per group:

# %% id="code-bias-labels"
labeled.groupby("customer_group", observed=True)["label"].agg(rows="size", recorded_fraud_rate="mean").round(4)

# %% [markdown] id="md-bias-labels-after"
# Group C has a lower *recorded* fraud rate. Does C suffer less fraud, or is C's fraud recorded less? **The
# labels cannot tell these apart**: both stories produce exactly this table. A model trained on them
# learns "C is safer" either way — and it is *calibrated against the labels* within every group (its
# mean score matches each group's recorded rate), so any check that uses the labels as the truth finds
# nothing wrong. Only the last column, which a real team does not have, shows the problem:

# %% id="code-naive-model"
naive = make_model(FEATURES).fit(labeled[FEATURES], labeled["label"].astype(int))
pd.DataFrame({
    "mean model score": pd.Series(naive.predict_proba(labeled[FEATURES])[:, 1]).groupby(labeled["customer_group"].to_numpy()).mean(),
    "recorded fraud rate": labeled.groupby("customer_group", observed=True)["label"].mean(),
    "true fraud rate": labeled.groupby("customer_group", observed=True)["is_fraud"].mean(),
}).round(4)

# %% [markdown] id="md-audit"
# To tell the stories apart you need **labels you trust**, for at least a sample: an *audit*. Here the fraud
# team investigated a sample of labelled transactions in depth, whatever their recorded label; their verdict
# is `audit_label`. Because we want to compare groups, the audit draws the **same number of transactions
# from each group** (`ds.stratified_sample`) rather than mirroring the traffic, where C is small. In the
# simulation the audit's verdict is the ground truth.

# %% id="code-audit"
AUDIT_PER_GROUP = 1_500
audit = ds.stratified_sample(labeled, "customer_group", AUDIT_PER_GROUP, seed=SEED)
audit = audit.assign(audit_label=audit["is_fraud"])
label_quality = ds.label_audit(audit["label"].astype(int), audit["audit_label"], audit["customer_group"])
label_quality.round(3)

# %% [markdown] id="md-audit-after"
# Per group, `audited_rate` is the true fraud rate in the audit and `report_rate` the share of the truly
# fraudulent transactions whose recorded label is 1. The true rates agree across groups (within the noise
# of ~30 frauds per group); the report rate of group C is far lower. So: **group C's fraud is
# under-reported**. The labels carry a *measurement bias*, invisible in the labels themselves.
#
# What does that do to the decisions? Say the platform sends the riskiest 10% of payments to a step-up check
# (a one-time code), and we audit the model's decisions per group **against the ground truth** on the
# unlabeled pool. `tpr` is the share of each group's fraud that gets caught, `fpr` the share of its honest
# payments that get bothered, `selection_rate` the share flagged.

# %% id="code-bias-audit"
FLAG_RATE = 0.10
pool_groups = pool["customer_group"].astype(str).to_numpy()
naive_scores = naive.predict_proba(pool[FEATURES])[:, 1]
naive_flags = ds.flag_top(naive_scores, FLAG_RATE)
naive_audit = ds.bias_audit(pool["is_fraud"], naive_flags, pool_groups)
ds.plot_group_rates(naive_audit, ["label_rate", "selection_rate", "tpr", "fpr"])
plt.title("Naive model, judged against the ground truth")
plt.show()
print(f"demographic parity gap {ds.demographic_parity_gap(naive_flags, pool_groups):.3f}, "
      f"equalized odds gap {ds.equalized_odds_gap(pool['is_fraud'], naive_flags, pool_groups):.3f}")
naive_audit.round(3)


# %% [markdown] id="md-bias-audit-after"
# Against the truth, group C has the same fraud rate but is flagged less, its fraud is caught less often
# (lower TPR) and — the only consolation — its honest customers are bothered less (lower FPR). Fraud against
# group-C customers goes undetected more often: a real harm, learned from the data, decided by no one.
#
# Three ways to put a number on it, from the per-group rates:
#
# * **demographic parity gap**: the largest difference in selection rate between groups. It ignores the
#   truth, so a gap is not unfair by itself when the true rates really differ;
# * **equal opportunity gap**: the largest difference in TPR: is fraud caught equally often in every group?
# * **equalized odds gap**: the larger of the TPR gap and the FPR gap: given the truth, does the decision
#   depend on the group?
#
# The last two need the **truth**. Computed with the recorded labels instead, they inherit the labels'
# bias — here the reporting bias — and cannot be trusted to reveal it. This is why a fairness audit needs
# ground truth that the labels may not contain: an audit sample, a careful review, an external source.
#
# ### Exercise 6 (tier 4) — fairness gaps
#
# Implement `fairness_gaps(y_true, y_pred, groups)` with NumPy/pandas (not `mlcourse.dataset`). The inputs
# are array-likes of equal length: 0/1 truth, 0/1 decisions and group names. Return a dict with
#
# * `"demographic_parity"`: max − min over groups of the selection rate (mean of `y_pred`);
# * `"equal_opportunity"`: max − min over groups of the TPR (mean of `y_pred` over the group's rows with
#   `y_true == 1`); groups without positives are left out;
# * `"equalized_odds"`: the larger of the equal-opportunity gap and the same gap for the FPR (mean of
#   `y_pred` over rows with `y_true == 0`; groups without negatives left out).
#
# All values are floats in $[0, 1]$. Hidden tests include groups without positives, more groups, and pandas
# Series as inputs.

# %% id="ex6-fairness-gaps" mlcourse={"stage": "dataset", "tier": 4} nbgrader={"grade": false, "grade_id": "ex6_fairness_gaps", "locked": false, "schema_version": 3, "solution": true, "task": false}
def fairness_gaps(y_true, y_pred, groups):
    # Demographic parity, equal opportunity and equalized odds gaps (max - min over groups).
    ### BEGIN SOLUTION
    frame = pd.DataFrame({"t": np.asarray(y_true), "p": np.asarray(y_pred), "g": np.asarray(groups)})
    selection = frame.groupby("g")["p"].mean()
    tpr = frame[frame["t"] == 1].groupby("g")["p"].mean()
    fpr = frame[frame["t"] == 0].groupby("g")["p"].mean()

    def gap(rates):
        return float(rates.max() - rates.min()) if len(rates) else 0.0

    return {"demographic_parity": gap(selection),
            "equal_opportunity": gap(tpr),
            "equalized_odds": max(gap(tpr), gap(fpr))}
    ### END SOLUTION


# %% id="ex6-fairness-gaps-tests" mlcourse={"stage": "dataset", "tier": 4} nbgrader={"grade": true, "grade_id": "ex6_fairness_gaps_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from sklearn.metrics import confusion_matrix as _cm


def _gaps_ref(y_true, y_pred, groups):
    _t, _p, _g = np.asarray(y_true), np.asarray(y_pred), np.asarray(groups)
    _sel, _tpr, _fpr = [], [], []
    for _grp in np.unique(_g):
        _m = _g == _grp
        _tn, _fp, _fn, _tp = _cm(_t[_m], _p[_m], labels=[0, 1]).ravel()
        _sel.append((_tp + _fp) / _m.sum())
        if _tp + _fn:
            _tpr.append(_tp / (_tp + _fn))
        if _tn + _fp:
            _fpr.append(_fp / (_tn + _fp))
    _gap = lambda v: (max(v) - min(v)) if v else 0.0
    return {"demographic_parity": _gap(_sel), "equal_opportunity": _gap(_tpr),
            "equalized_odds": max(_gap(_tpr), _gap(_fpr))}


def _check_gaps(y_true, y_pred, groups, what):
    _got = fairness_gaps(y_true, y_pred, groups)
    _exp = _gaps_ref(y_true, y_pred, groups)
    assert isinstance(_got, dict), f"{what}: expected a dict, got {type(_got).__name__}"
    for _k, _v in _exp.items():
        assert _k in _got, f"{what}: missing key {_k!r}"
        assert np.isclose(float(_got[_k]), _v, atol=1e-9), f"{what}: {_k}: expected {_v:.6f}, got {_got[_k]}"

_flags_check = ds.flag_top(naive_scores, FLAG_RATE)
_check_gaps(pool["is_fraud"].to_numpy(), _flags_check, pool_groups, "naive model on the pool")
_rng = np.random.default_rng(3)
_g = _rng.choice(["A", "B", "C"], 500)
_t = (_rng.random(500) < 0.3).astype(int)
_p = (_rng.random(500) < np.where(_g == "A", 0.5, 0.2)).astype(int)
_check_gaps(_t, _p, _g, "random decisions")
### BEGIN HIDDEN TESTS
_g_h = np.array(["x"] * 6 + ["y"] * 6 + ["z"] * 4)
_t_h = np.array([1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0])   # group z has no positives
_p_h = np.array([1, 0, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0, 1, 0, 0])
_check_gaps(_t_h, _p_h, _g_h, "a group without positives")
for _seed in range(4):
    _r = np.random.default_rng(50 + _seed)
    _gg = pd.Series(_r.choice(["north", "south", "east", "west", "abroad"], 800))
    _tt = pd.Series((_r.random(800) < 0.15).astype(int))
    _pp = pd.Series((_r.random(800) < 0.25).astype(int))
    _check_gaps(_tt, _pp, _gg, f"pandas Series, five groups (seed {_seed})")
_check_gaps(np.ones(10, dtype=int), np.r_[np.ones(5, dtype=int), np.zeros(5, dtype=int)],
            np.repeat(["a", "b"], 5), "no negatives at all")
### END HIDDEN TESTS

# %% [markdown] id="md-correction"
# ## 9. Correcting the bias, and proving it worked
#
# Once the bias is measured, there are several ways to correct it. Each rests on an assumption; the audit
# is what tells you whether the assumption holds.
#
# * **Reweighing** (Kamiran & Calders, 2012): weight each training row by
#   $w(g, y) = \frac{P(g)\,P(y)}{P(g, y)}$. In the weighted data the label is independent of the group, so
#   a model has nothing group-specific to learn. Right when the true base rates are equal across groups —
#   which the audit shows here — wrong when they truly differ.
# * **Leaving the group out.** If the group has no real relation to fraud (the audit again) and no other
#   column stands in for it (a *proxy*, such as a postcode), a model that cannot see the group cannot learn
#   the reporting bias through it. "Fairness through unawareness" fails as soon as a proxy exists; check.
# * **Label-rate correction.** If a true fraud of group $g$ is recorded with probability $r_g$ and a
#   legitimate payment with probability $f_g$, a model trained on the records estimates
#   $q = f_g + (r_g - f_g)\,p$ instead of the true probability $p$; invert it per group,
#   $p = (q - f_g) / (r_g - f_g)$ (`ds.correct_label_rates`). It needs good estimates of $r_g$ — and an
#   audit with ~30 frauds per group gives them only to about ±0.1.
#
# We compare them on the pool, against the ground truth, at the same 10% flag rate.

# %% id="code-corrections"
no_group = [c for c in FEATURES if c != "customer_group"]
weights = ds.reweighing(labeled["customer_group"], labeled["label"])
reweighed = make_model(FEATURES).fit(labeled[FEATURES], labeled["label"].astype(int),
                                     logisticregression__sample_weight=weights)
unaware = make_model(no_group).fit(labeled[no_group], labeled["label"].astype(int))
rates = label_quality["report_rate"].to_dict()
false_rates = {g: min(f, rates[g] / 2) for g, f in label_quality["false_report_rate"].items()}

scores = {
    "naive": naive_scores,
    "reweighing": reweighed.predict_proba(pool[FEATURES])[:, 1],
    "group left out": unaware.predict_proba(pool[no_group])[:, 1],
    "label-rate correction": ds.correct_label_rates(naive_scores, pool_groups, rates, false_rates),
}
effect = ds.compare_fairness(pool["is_fraud"], pool_groups,
                             {name: ds.flag_top(s, FLAG_RATE) for name, s in scores.items()}, scores=scores)
effect[["auc", "recall", "worst_group_tpr", "tpr_gap", "fpr_gap", "eo_gap", "dp_gap"]].round(3)

# %% id="code-corrections-plot"
tpr_by_group = pd.DataFrame({name: ds.bias_audit(pool["is_fraud"], ds.flag_top(s, FLAG_RATE), pool_groups)["tpr"]
                             for name, s in scores.items()})
ax = tpr_by_group.T.plot.bar(rot=0, figsize=(8, 4))
ax.legend(title="group", loc="upper left", bbox_to_anchor=(1.01, 1.0))
ax.set_ylabel("share of fraud caught (TPR),\nagainst the ground truth")
ax.set_title(f"Fraud caught per group when flagging the top {FLAG_RATE:.0%}")
plt.show()


# %% [markdown] id="md-corrections-after"
# Reweighing and leaving the group out close much of the gap at no cost in AUC: here the group carried no
# real signal, so removing what the model learned from it loses nothing. The label-rate correction is
# erratic: it divides each group's scores by a report rate estimated from about 30 audited frauds, so
# depending on the audit sample it undershoots or overshoots (run the notebook with another `SEED` to see
# both). A correction is only as good as the measurement behind it. Notice also that the gaps of the naive
# model vary from one `SEED` to the next: group C has a few hundred frauds in the pool, so each per-group
# rate is uncertain by a few points.
#
# Two cautions before you ship a correction:
#
# * **Judge it on ground truth you did not tune on.** The gaps above are themselves estimates, and a
#   correction tuned to one sample can overfit it.
# * **Name the assumption.** Reweighing and leaving out the group assume equal true rates and no proxies;
#   the label-rate correction assumes that reporting does not depend on the features within a group. The
#   audit is what supports or refutes each of them.
#
# ### Exercise 7 (tier 5) — a fair fraud model that holds up on new data
#
# Implement `fit_fair_model(labeled, audit)`, which returns a **function** `score(frame)`:
#
# * `labeled`: the platform's labelled transactions — a frame like `labeled` above *without* the ground-truth
#   columns (`GROUND_TRUTH`); train on its `label` column;
# * `audit`: a frame of the same columns for an audit sample of those transactions (an equal number per
#   customer group), plus the column `audit_label`: the trusted 0/1 verdict;
# * `score(frame)` takes a frame with the columns of `labeled` (no ground truth, no `label`) and returns a
#   1-D NumPy array of `len(frame)` fraud scores, higher meaning riskier.
#
# How it is judged: the hidden tests build **fresh worlds** (other seeds, 300,000 transactions; in one of
# them another group's fraud is the under-reported one), call your function on their labelled set and a
# 2,000-per-group audit, score the unlabeled pool and flag the top 10% of scores. Against the ground truth,
# on every world:
#
# * the **equalized-odds gap** of the flags (the larger of the TPR and FPR gaps between groups) must be
#   **below 0.06**; the uncorrected `make_model(FEATURES)` trained on the labels scores above 0.1 there;
# * the **ROC-AUC** of your scores must be at least the uncorrected model's AUC **minus 0.02**.
#
# Use what you measured above; you may call `make_model` and anything in `mlcourse.dataset`. The visible test
# checks the interface and a minimum AUC on this notebook's world. To check yourself, compare your model
# with the naive one on `pool` with `ds.compare_fairness`, as in the table above — remembering that this
# world's pool is one sample, and the judge uses others.

# %% id="ex7-fair-model" mlcourse={"stage": "dataset", "tier": 5} nbgrader={"grade": false, "grade_id": "ex7_fair_model", "locked": false, "schema_version": 3, "solution": true, "task": false}
def fit_fair_model(labeled, audit):
    # Return score(frame) -> fraud scores that are fair to every customer group.
    ### BEGIN SOLUTION
    # Detect. In the audit, the true fraud rate is about the same in every group, but the share
    # of true fraud that the labels record (the report rate) differs: one group's fraud is
    # under-reported. So customer_group predicts whether fraud gets *reported*, not whether it
    # happens, and whatever weight a model puts on it is learned reporting bias.
    positives = audit[audit["audit_label"] == 1]
    report_rate = positives.groupby("customer_group", observed=True)["label"].mean()
    true_rate = audit.groupby("customer_group", observed=True)["audit_label"].mean()
    assert report_rate.notna().all() and true_rate.notna().all()
    # Correct. With equal true rates, the group has no signal to lose, and no other feature of
    # this data stands in for it (customer habits do not depend on the group), so the most
    # robust correction is to leave it out. It needs no estimate of the report rates, whose
    # audit estimates are noisy (a few dozen frauds per group), unlike the label-rate correction.
    columns = [c for c in FEATURES if c != "customer_group"]
    model = make_model(columns).fit(labeled[columns], labeled["label"].astype(int))

    def score(frame):
        return model.predict_proba(frame[columns])[:, 1]

    return score
    ### END SOLUTION


# %% id="ex7-fair-model-tests" mlcourse={"stage": "dataset", "tier": 5} nbgrader={"grade": true, "grade_id": "ex7_fair_model_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
_platform_labeled = labeled.drop(columns=GROUND_TRUTH)
_platform_audit = audit.drop(columns=GROUND_TRUTH)
_score_fn = fit_fair_model(_platform_labeled, _platform_audit)
assert callable(_score_fn), f"expected fit_fair_model to return a function, got {type(_score_fn).__name__}"
_scores_pool = np.asarray(_score_fn(pool.drop(columns=GROUND_TRUTH + ["label"])), dtype=float)
assert _scores_pool.shape == (len(pool),), f"expected {len(pool)} scores, got shape {_scores_pool.shape}"
assert np.isfinite(_scores_pool).all(), "expected finite scores"
_auc_pool = roc_auc_score(pool["is_fraud"], _scores_pool)
assert _auc_pool > 0.75, f"expected an AUC above 0.75 against the ground truth on the pool, got {_auc_pool:.3f}"

# %% id="ex7-fair-model-hidden-tests" mlcourse={"stage": "dataset", "tier": 5} nbgrader={"grade": true, "grade_id": "ex7_fair_model_hidden_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test judges your model on fresh worlds against the ground truth.
_fn_check = fit_fair_model(labeled.drop(columns=GROUND_TRUTH), audit.drop(columns=GROUND_TRUTH))
assert callable(_fn_check), "expected fit_fair_model to return a function"
### BEGIN HIDDEN TESTS
from sklearn.compose import ColumnTransformer as _CT
from sklearn.impute import SimpleImputer as _Imp
from sklearn.linear_model import LogisticRegression as _LR
from sklearn.metrics import roc_auc_score as _auc
from sklearn.pipeline import make_pipeline as _pipe
from sklearn.preprocessing import FunctionTransformer as _FT, OneHotEncoder as _OHE, StandardScaler as _SS

_TRUTH_H = ["is_fraud", "fraud_probability", "is_hard_negative"]


def _uncorrected_h(columns):
    # The uncorrected model: the same recipe as make_model, trained on the recorded labels.
    _logs = [c for c in columns if c in ["amount", "distance_km", "account_age_days", "tx_count_24h"]]
    _cats = [c for c in columns if c in ["hour", "device", "merchant_category", "merchant_region", "customer_group"]]
    _rest = [c for c in columns if c not in _logs and c not in _cats]
    _prep = _CT([("log", _pipe(_Imp(strategy="median", add_indicator=True), _FT(np.log1p), _SS()), _logs),
                 ("category", _OHE(handle_unknown="ignore"), _cats), ("number", _SS(), _rest)])
    return _pipe(_prep, _LR(max_iter=1000))


def _eo_gap_h(truth, flags, groups):
    _tpr, _fpr = [], []
    for _grp in np.unique(groups):
        _m = groups == _grp
        _tpr.append(flags[_m & (truth == 1)].mean())
        _fpr.append(flags[_m & (truth == 0)].mean())
    return max(max(_tpr) - min(_tpr), max(_fpr) - min(_fpr))


def _flag_top_h(scores, rate):
    _flags = np.zeros(len(scores), dtype=int)
    _flags[np.argsort(-scores, kind="stable")[: int(np.ceil(rate * len(scores)))]] = 1
    return _flags


for _seed_h, _overrides_h in [(2027, {}), (2036, {"chargeback_report_rate": {"A": 0.92, "B": 0.5, "C": 0.92}})]:
    _w_h = make_world(seed=_seed_h, n_transactions=300_000, n_customers=30_000, **_overrides_h)
    _lab_h = _w_h.labeled()
    _aud_h = _lab_h.groupby("customer_group", observed=True).sample(n=2_000, random_state=_seed_h)
    _aud_h = _aud_h.assign(audit_label=_aud_h["is_fraud"]).drop(columns=_TRUTH_H)
    _score_h = fit_fair_model(_lab_h.drop(columns=_TRUTH_H), _aud_h)
    _pool_h = _w_h.unlabeled()
    _truth_h = _pool_h["is_fraud"].to_numpy()
    _groups_h = _pool_h["customer_group"].astype(str).to_numpy()
    _s_h = np.asarray(_score_h(_pool_h.drop(columns=_TRUTH_H + ["label"])), dtype=float)
    _base_h = _uncorrected_h(_w_h.feature_columns).fit(_lab_h[_w_h.feature_columns], _lab_h["label"].astype(int))
    _auc_base_h = _auc(_truth_h, _base_h.predict_proba(_pool_h[_w_h.feature_columns])[:, 1])
    _auc_h = _auc(_truth_h, _s_h)
    _gap_h = _eo_gap_h(_truth_h, _flag_top_h(_s_h, 0.10), _groups_h)
    assert _gap_h < 0.06, \
        f"fresh world (seed {_seed_h}): expected an equalized-odds gap below 0.06 at a 10% flag rate, got {_gap_h:.3f}"
    assert _auc_h >= _auc_base_h - 0.02, \
        f"fresh world (seed {_seed_h}): expected an AUC of at least {_auc_base_h - 0.02:.3f} (uncorrected model minus 0.02), got {_auc_h:.3f}"
### END HIDDEN TESTS

# %% [markdown] id="md-summary"
# ## Summary
#
# * **Profile first.** Types, missing values, cardinality, ranges and class balance decide what a model can
#   learn and how it must be evaluated. A profile cannot tell signal from noise: noise columns look normal.
# * **Comprehensive and diverse** means every situation the model meets is covered by enough examples:
#   count rows and positives per segment, and compare each group's share of the labelled data with its share
#   of the traffic.
# * **Labels arrive late.** Recent data look cleaner than they are; leave a gap at least as long as the label
#   delay between training data and the training date.
# * **Split like deployment.** By entity, so that no customer is on both sides; by time, so that the model
#   never trains on its own future. A random split can hide both memorisation and drift.
# * **Signal vs noise.** Mutual information measures relevance of any shape; compare it with a
#   shuffled-label baseline, because even pure noise scores above zero. Relevance is measured against the
#   labels you have, whose own noise dilutes every signal.
# * **Unlabeled data** can be labelled by heuristics (labeling functions, combined by a vote weighted by their
#   measured accuracy) or by the model itself (self-training). Both can help or hurt: measure on held-out
#   data, judged on labels you trust.
# * **Implicit bias** enters through sampling, measurement and labelling. Labels cannot reveal a bias in
#   the labels: fairness audits need ground truth — an audit sample — and the fairness gaps (demographic
#   parity, equal opportunity, equalized odds) must be computed against it.
# * **Corrections** (reweighing, leaving a signal-free group out, label-rate correction) each rest on an
#   assumption the audit must support, and each must be judged on fresh data against the truth.
#
# ## Going further
#
# * Snorkel's *label model* learns LF accuracies and correlations without gold labels
#   (Ratner et al., 2017, *Snorkel: rapid training data creation with weak supervision*).
# * Positive-unlabelled learning: training when "not reported" is not "negative"
#   (Elkan & Noto, 2008, *Learning classifiers from only positive and unlabeled data*).
# * Fairness definitions and their incompatibility: Hardt, Price & Srebro (2016), *Equality of opportunity
#   in supervised learning*; Chouldechova (2017); Kleinberg, Mullainathan & Raghavan (2016). Post-processing
#   with group-specific thresholds, and the `fairlearn` library's `ThresholdOptimizer`.
# * Kamiran & Calders (2012), *Data preprocessing techniques for classification without discrimination*.
# * Data documentation: Gebru et al., *Datasheets for datasets*; Mitchell et al., *Model cards*.
# * Delayed labels and drift in production: stages 8 (monitoring) and 9 (the feedback pipeline) of this course.
