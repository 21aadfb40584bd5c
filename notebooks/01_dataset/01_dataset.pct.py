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
#    choose which pool rows to label next on a labeling budget (active learning), with a comparison against random labeling as evidence;
# 7. find implicit bias in how data are sampled and labelled, and explain why a fairness audit needs ground truth that the labels may not contain;
# 8. handle delayed and noisy labels: how long labels take to arrive, and what a stratified, imperfect audit says about the traffic;
# 9. correct a labelling bias, explain why leaving the sensitive attribute out does not (proxies carry it back in), and show on data you have not seen that the correction worked;
# 10. write down a data set's contract as a schema with range, cross-column and behavioural checks, and let it guard every new batch.
#
# **Estimated time:** about 4.5 hours (≈ 1.75 h reading and running the demos, ≈ 2.75 h exercises).
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
# | 1 | awareness | you can load, count and inspect a data set: class balance, labelled share, missing values | 1 |
# | 2 | basic understanding | you split without leaking customers or the future, separate signal from noise with a shuffled-label baseline, and compute reweighing weights | 2, 3, 5, 9 |
# | 3 | proficiency (Junior) | you use the unlabeled pool (weak labels weighted by measured accuracy) and find an implicit sampling or labelling bias on data you have not seen | 6, 7 |
# | 4 | advanced (Senior) | you handle delayed labels (a censored delay distribution) and noisy, stratified labels (what an imperfect audit says about the traffic), and choose what to label next from the unlabeled pool so that a labeling budget beats random labeling where fraud hides in rare segments | 4, 8, 12 |
# | 5 | expert (Staff) | you correct a labelling bias that proxies carry past "unawareness", and write the data contract that keeps every new batch trustworthy | 10, 11 |

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
import pandera.pandas as pa
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

# Warnings (convergence notices, deprecations, ...) clutter a learner's notebook and say nothing about
# the exercises (the grader's assertions decide), so we silence them once, here.
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

# %% id="ex1-profile" mlcourse={"stage": "dataset", "tier": 1, "forbid": ["mlcourse.dataset"]} nbgrader={"grade": false, "grade_id": "ex1_profile", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
fraud_share = float((labeled["label"] == 1).mean())
unlabeled_share = float(tx["label"].isna().mean())
missing_rates = labeled[FEATURES].isna().mean().sort_values(ascending=False)
### END SOLUTION

# %% id="ex1-mistake-fraud-share-of-all-rows" mistake={"why": "the share of fraud labels among all transactions: the unlabeled rows counted as legitimate"}
fraud_share = float((tx["label"] == 1).mean())
unlabeled_share = float(tx["label"].isna().mean())
missing_rates = labeled[FEATURES].isna().mean().sort_values(ascending=False)

# %% id="ex1-mistake-unlabeled-in-labeled" mistake={"why": "looks for missing labels in the labelled set, where there are none, instead of in all transactions"}
fraud_share = float((labeled["label"] == 1).mean())
unlabeled_share = float(labeled["label"].isna().mean())
missing_rates = labeled[FEATURES].isna().mean().sort_values(ascending=False)

# %% id="ex1-mistake-missing-ascending" mistake={"why": "sorts the missing rates from the smallest to the largest"}
fraud_share = float((labeled["label"] == 1).mean())
unlabeled_share = float(tx["label"].isna().mean())
missing_rates = labeled[FEATURES].isna().mean().sort_values()

# %% id="ex1-profile-fraud-share-tests" mlcourse={"stage": "dataset", "tier": 1} nbgrader={"grade": true, "grade_id": "ex1_profile_fraud_share_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
_lab = world.labeled()
_expected_fraud = float(np.mean(_lab["label"].to_numpy() == 1))
assert np.isclose(float(fraud_share), _expected_fraud, atol=1e-9), \
    f"fraud_share: expected {_expected_fraud:.6f} (share of labelled rows with label 1), got {fraud_share}"
assert 0.0 < float(fraud_share) < 0.1, f"fraud_share: expected a small share of fraud, got {fraud_share}"

# %% id="ex1-profile-unlabeled-tests" mlcourse={"stage": "dataset", "tier": 1} nbgrader={"grade": true, "grade_id": "ex1_profile_unlabeled_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
_expected_unl = float(np.mean(np.isnan(world.transactions["label"].to_numpy())))
assert np.isclose(float(unlabeled_share), _expected_unl, atol=1e-9), \
    f"unlabeled_share: expected {_expected_unl:.6f} (share of all transactions without a label), got {unlabeled_share}"

# %% id="ex1-profile-missing-tests" mlcourse={"stage": "dataset", "tier": 1} nbgrader={"grade": true, "grade_id": "ex1_profile_missing_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
_lab = world.labeled()
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
# Implement `split_by_customer(frame, test_share=0.2, seed=0)` with NumPy/pandas (not `mlcourse.dataset`,
# not `sklearn.model_selection`):
#
# * take the `n` distinct `customer_id` values, sorted (`np.unique`), and draw `round(test_share * n)` of them
#   with `np.random.default_rng(seed).choice(customers, size=..., replace=False)`; put **all** their rows in
#   `test`, every other row in `train`;
# * return the tuple `(train, test)` of DataFrames; together they hold every row of `frame` exactly once,
#   with the original index; no `customer_id` appears in both;
# * the same seed gives the same split, different seeds (almost always) different ones.
#
# Hidden tests use other frames, shares and seeds.

# %% id="ex2-split-by-customer" mlcourse={"stage": "dataset", "tier": 2, "forbid": ["mlcourse.dataset", "sklearn.model_selection"]} nbgrader={"grade": false, "grade_id": "ex2_split_by_customer", "locked": false, "schema_version": 3, "solution": true, "task": false}
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

# %% id="ex2-mistake-random-rows" mistake={"why": "a random row split: most customers end up on both sides"}
def split_by_customer(frame, test_share=0.2, seed=0):
    test = frame.sample(frac=test_share, random_state=seed)
    return frame.drop(index=test.index), test

# %% id="ex2-mistake-truncated-count" mistake={"why": "int() truncates the number of test customers instead of rounding it"}
def split_by_customer(frame, test_share=0.2, seed=0):
    customers = np.unique(frame["customer_id"].to_numpy())
    rng = np.random.default_rng(seed)
    test_customers = rng.choice(customers, size=int(test_share * len(customers)), replace=False)
    in_test = frame["customer_id"].isin(test_customers).to_numpy()
    return frame[~in_test], frame[in_test]

# %% id="ex2-mistake-ignores-seed" mistake={"why": "always draws with seed 0: every learner's split is the same, whatever seed asks for"}
def split_by_customer(frame, test_share=0.2, seed=0):
    customers = np.unique(frame["customer_id"].to_numpy())
    rng = np.random.default_rng(0)
    test_customers = rng.choice(customers, size=int(round(test_share * len(customers))), replace=False)
    in_test = frame["customer_id"].isin(test_customers).to_numpy()
    return frame[~in_test], frame[in_test]

# %% id="ex2-split-by-customer-tests" mlcourse={"stage": "dataset", "tier": 2} nbgrader={"grade": true, "grade_id": "ex2_split_by_customer_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
_tr1, _te1 = split_by_customer(labeled, test_share=0.2, seed=0)
assert isinstance(_tr1, pd.DataFrame) and isinstance(_te1, pd.DataFrame), "expected a tuple of two DataFrames"
assert len(_tr1) + len(_te1) == len(labeled), f"expected {len(labeled)} rows in total, got {len(_tr1)} + {len(_te1)}"
assert np.array_equal(np.sort(np.r_[_tr1.index.to_numpy(), _te1.index.to_numpy()]), np.sort(labeled.index.to_numpy())), \
    "expected every row of the frame exactly once, with its original index"
_shared = set(_tr1["customer_id"]) & set(_te1["customer_id"])
assert not _shared, f"expected no customer on both sides, got {len(_shared)} shared customers"
_n_cust = labeled["customer_id"].nunique()
assert _te1["customer_id"].nunique() == round(0.2 * _n_cust), \
    f"expected round(0.2 * {_n_cust}) = {round(0.2 * _n_cust)} test customers, got {_te1['customer_id'].nunique()}"
# A hand-made frame: 5 customers (7, 3, 9, 1, 5); a share of 0.3 asks for round(1.5) = 2 of them.
_hand = pd.DataFrame({"customer_id": [7, 7, 3, 3, 3, 9, 1, 1, 5, 7], "x": np.arange(10)}, index=np.arange(100, 110))
_tr_h, _te_h = split_by_customer(_hand, test_share=0.3, seed=4)
assert _te_h["customer_id"].nunique() == 2, \
    f"5 customers at a share of 0.3: expected round(1.5) = 2 test customers, got {_te_h['customer_id'].nunique()}"
assert not set(_tr_h["customer_id"]) & set(_te_h["customer_id"]), "hand-made frame: expected no customer on both sides"

# %% id="ex2-split-by-customer-seed-tests" mlcourse={"stage": "dataset", "tier": 2} nbgrader={"grade": true, "grade_id": "ex2_split_by_customer_seed_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
_tr2, _te2 = split_by_customer(labeled, test_share=0.2, seed=0)
_tr3, _te3 = split_by_customer(labeled, test_share=0.2, seed=1)
assert _te2.index.equals(split_by_customer(labeled, test_share=0.2, seed=0)[1].index), "expected the same split for the same seed"
assert not _te2.index.equals(_te3.index), "expected a different split for a different seed"
### BEGIN HIDDEN TESTS
_hand_h = pd.DataFrame({"customer_id": [7, 7, 3, 3, 3, 9, 1, 1, 5, 7], "x": np.arange(10)}, index=np.arange(100, 110))
_seen_h = {tuple(sorted(set(split_by_customer(_hand_h, 0.4, _s)[1]["customer_id"]))) for _s in range(20)}
assert len(_seen_h) > 3, f"expected the test customers to vary with the seed, got only {_seen_h}"
for _share_h, _seed_h in [(0.35, 11), (0.5, 3), (0.1, 7)]:
    _part_h = tx.iloc[:6000]
    _tr_h, _te_h = split_by_customer(_part_h, test_share=_share_h, seed=_seed_h)
    _ids_h = np.unique(_part_h["customer_id"].to_numpy())
    _exp_h = np.random.default_rng(_seed_h).choice(_ids_h, size=int(round(_share_h * len(_ids_h))), replace=False)
    assert set(_te_h["customer_id"]) == set(_exp_h), \
        f"share {_share_h}, seed {_seed_h}: expected the customers drawn by np.random.default_rng(seed).choice"
    assert len(_tr_h) + len(_te_h) == len(_part_h)
    assert not set(_tr_h["customer_id"]) & set(_te_h["customer_id"])
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

# %% id="ex3-split-by-time" mlcourse={"stage": "dataset", "tier": 2, "forbid": ["mlcourse.dataset"]} nbgrader={"grade": false, "grade_id": "ex3_split_by_time", "locked": false, "schema_version": 3, "solution": true, "task": false}
def split_by_time(frame, cutoff_day, gap_days):
    # Return (train, test): the mature past before the gap, and the future from cutoff_day on.
    ### BEGIN SOLUTION
    train_mask = (frame["day"] < cutoff_day - gap_days) & (frame["label_day"] <= cutoff_day)
    test_mask = frame["day"] >= cutoff_day
    return frame[train_mask], frame[test_mask]
    ### END SOLUTION

# %% id="ex3-mistake-no-maturity" mistake={"why": "leaves out the gap but keeps labels that arrive after the cutoff day: the model trains on labels it could not have had"}
def split_by_time(frame, cutoff_day, gap_days):
    return frame[frame["day"] < cutoff_day - gap_days], frame[frame["day"] >= cutoff_day]

# %% id="ex3-mistake-label-day-strict" mistake={"why": "a label that arrives on the cutoff day itself is not counted as known"}
def split_by_time(frame, cutoff_day, gap_days):
    train = frame[(frame["day"] < cutoff_day - gap_days) & (frame["label_day"] < cutoff_day)]
    return train, frame[frame["day"] >= cutoff_day]

# %% id="ex3-mistake-gap-in-test" mistake={"why": "puts the gap on the test side: the test starts gap_days after the cutoff"}
def split_by_time(frame, cutoff_day, gap_days):
    train = frame[(frame["day"] < cutoff_day) & (frame["label_day"] <= cutoff_day)]
    return train, frame[frame["day"] >= cutoff_day + gap_days]

# %% id="ex3-split-by-time-tests" mlcourse={"stage": "dataset", "tier": 2} nbgrader={"grade": true, "grade_id": "ex3_split_by_time_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Eight hand-made rows. With cutoff 20 and gap 10, train needs day < 10 and label_day <= 20:
# a (0, 7) and b (5, 12) qualify; c (9, 40) and e (10, 50) have no label by day 20, d and f are in the gap;
# test is day >= 20: g and h.
_edge = pd.DataFrame({"day": [0, 5, 9, 10, 10, 11, 20, 30],
                      "label_day": [7, 12, 40, 17, 50, 18, 27, 37],
                      "label": [0, 0, 1, 0, 1, 0, 0, 0]}, index=list("abcdefgh"))
_tr, _te = split_by_time(_edge, 20, 10)
assert list(_tr.index) == ["a", "b"], f"expected train rows ['a', 'b'] (day < 10, label known by day 20), got {list(_tr.index)}"
assert list(_te.index) == ["g", "h"], f"expected test rows ['g', 'h'] (day >= 20), got {list(_te.index)}"
# Cutoff 12, no gap: train needs day < 12 and label_day <= 12: a (7), b (12: known on the day itself);
# d (17) and f (18) arrive too late. Test: day >= 12.
_tr, _te = split_by_time(_edge, 12, 0)
assert list(_tr.index) == ["a", "b"], \
    f"expected train rows ['a', 'b'] (a label known on day 12 counts; later labels do not), got {list(_tr.index)}"
assert list(_te.index) == ["g", "h"], f"expected test rows ['g', 'h'], got {list(_te.index)}"
# Cutoff 10, gap 5: train day < 5 with label_day <= 10: a only; test day >= 10: d, e, f, g, h.
_tr, _te = split_by_time(_edge, 10, 5)
assert list(_tr.index) == ["a"] and list(_te.index) == list("defgh"), \
    f"cutoff 10, gap 5: expected train ['a'] and test ['d', 'e', 'f', 'g', 'h'], got {list(_tr.index)} and {list(_te.index)}"

# %% id="ex3-split-by-time-hidden-tests" mlcourse={"stage": "dataset", "tier": 2} nbgrader={"grade": true, "grade_id": "ex3_split_by_time_hidden_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test compares your split with the rule on the labelled set and shuffled rows.
_tr, _te = split_by_time(labeled, 90, 30)
assert isinstance(_tr, pd.DataFrame) and isinstance(_te, pd.DataFrame), "expected a tuple of two DataFrames"
assert _tr["day"].max() < 60 and _te["day"].min() >= 90, "cutoff 90, gap 30: expected train days < 60 and test days >= 90"
### BEGIN HIDDEN TESTS
def _expected_time_split_h(frame, cutoff, gap):
    _d, _ld = frame["day"].to_numpy(), frame["label_day"].to_numpy()
    return frame.index[(_d < cutoff - gap) & (_ld <= cutoff)], frame.index[_d >= cutoff]


for _frame_h, _cut_h, _gap_h in [(labeled, 90, 30), (labeled, 60, 0), (labeled, 100, 45),
                                 (labeled.sample(frac=0.3, random_state=5), 70, 20)]:
    _tr, _te = split_by_time(_frame_h, _cut_h, _gap_h)
    _etr, _ete = _expected_time_split_h(_frame_h, _cut_h, _gap_h)
    assert _tr.index.equals(_etr), \
        f"cutoff {_cut_h}, gap {_gap_h}: expected {len(_etr)} training rows (day < cutoff - gap, label known), got {len(_tr)}"
    assert _te.index.equals(_ete), f"cutoff {_cut_h}, gap {_gap_h}: expected {len(_ete)} test rows, got {len(_te)}"
### END HIDDEN TESTS

# %% [markdown] id="md-label-gap"
# ### 5.3 How long a gap? Estimating the label delay from labels that are still arriving
#
# The gap of a time split should be at least as long as the time most fraud labels take to arrive. The
# curve of section 4 read that off `labeled`, which holds every label the simulator will ever deliver,
# including those that arrive after the last day of data. On the day a real team chooses the gap, it only
# has the labels known *so far*, `world.labeled(as_of_day=...)`, and those are **censored**: a fraud of
# last week whose chargeback will take 40 days is simply not in them yet. Long delays are under-represented
# in the recent part of the data, so the delays you can see are shorter, on average, than the delays that
# will be.
#
# Each known fraud label tells you two things: its delay, and that it *could* be seen only because its delay
# was at most `as_of_day - day`, the time its transaction has had so far. Older transactions let you see
# long delays; recent ones only short ones. A sound estimate uses each transaction for the delays it could
# have shown, and nothing more.
#
# ### Exercise 4 (tier 4) — the label delay, from censored labels
#
# Implement `label_gap(known, as_of_day, share=0.9)`:
#
# * `known`: the labelled transactions whose label is known on day `as_of_day`, with the columns `day`,
#   `label` (0/1) and `label_day` (`label_day <= as_of_day` for every row); `share` in $(0, 1]$;
# * return the smallest whole number of days $g$ such that at least `share` of **all** the fraud labels
#   (`label == 1`) of these transactions' days will have arrived within $g$ days of their transaction
#   ($\text{label\_day} - \text{day} \le g$), once every label is in — estimated from `known` alone;
# * raise `ValueError` when `share` is not in $(0, 1]$ or `known` holds no fraud label.
#
# Delays are whole days. Legitimate labels arrive after a fixed settlement window and say nothing about
# chargebacks. The hidden tests build worlds with other delays and other days, take the labels known on a
# given day, and compare your answer with the delay that `share` of the fraud labels really take
# (within 10%, or 3 days).

# %% id="ex4-label-gap" mlcourse={"stage": "dataset", "tier": 4, "forbid": ["mlcourse.dataset", "lifelines", "scipy.stats"], "equivalent_mutants": {"4:26 number 1.0>2.0": "a share in (1, 2] passes the check but then no delay reaches it, and values[...].min() of the empty selection raises ValueError anyway", "8:8 statement drop raise": "without a fraud label `values` is empty, and values[...].min() of the empty selection raises ValueError anyway"}} nbgrader={"grade": false, "grade_id": "ex4_label_gap", "locked": false, "schema_version": 3, "solution": true, "task": false}
def label_gap(known, as_of_day, share=0.9):
    # The delay within which `share` of the fraud labels arrive, from labels still arriving.
    ### BEGIN SOLUTION
    if not 0.0 < share <= 1.0:
        raise ValueError(f"share must be in (0, 1], got {share}")
    positives = known[known["label"] == 1]
    if len(positives) == 0:
        raise ValueError("known holds no fraud label")
    delay = (positives["label_day"] - positives["day"]).to_numpy()
    room = as_of_day - positives["day"].to_numpy()     # the longest delay each could show
    # Right-truncated data (Lynden-Bell's product-limit estimator): going down from the longest delay,
    # F(s - 1) / F(s) = 1 - (labels with delay s) / (labels with delay <= s whose transaction had room for s).
    values = np.unique(delay)[::-1]
    cdf = np.ones(len(values))
    for i in range(1, len(values)):
        s = values[i - 1]
        at_risk = np.sum((delay <= s) & (room >= s))
        cdf[i] = cdf[i - 1] * (1.0 - np.sum(delay == s) / at_risk)
    return int(values[cdf >= share].min())
    ### END SOLUTION

# %% id="ex4-mistake-censored-quantile" mistake={"readable": "demo cell code-label-delay: the delay curve (mlcourse.dataset.label_delay_curve) of the labels known so far", "why": "the share-quantile of the delays visible so far: recent transactions show only their short delays, so the gap comes out too short"}
def label_gap(known, as_of_day, share=0.9):
    if not 0.0 < share <= 1.0:
        raise ValueError("share must be in (0, 1]")
    positives = known[known["label"] == 1]
    if len(positives) == 0:
        raise ValueError("no fraud label")
    delay = np.sort((positives["label_day"] - positives["day"]).to_numpy(dtype=float))
    return int(delay[int(np.ceil(share * len(delay))) - 1])

# %% id="ex4-mistake-fixed-gap" mistake={"readable": "demo cell code-time-split: GAP = 30", "why": "the demo's 30-day gap, whatever the data say"}
def label_gap(known, as_of_day, share=0.9):
    if not 0.0 < share <= 1.0:
        raise ValueError("share must be in (0, 1]")
    if not (known["label"] == 1).any():
        raise ValueError("no fraud label")
    return 30

# %% id="ex4-mistake-old-transactions-only" mistake={"why": "keeps only transactions older than 60 days, as if their labels were complete: a cure for short delays only"}
def label_gap(known, as_of_day, share=0.9):
    if not 0.0 < share <= 1.0:
        raise ValueError("share must be in (0, 1]")
    positives = known[known["label"] == 1]
    if len(positives) == 0:
        raise ValueError("no fraud label")
    old = positives[positives["day"] <= as_of_day - 60]
    delay = np.sort((old["label_day"] - old["day"]).to_numpy(dtype=float))
    return int(delay[int(np.ceil(share * len(delay))) - 1])

# %% id="ex4-mistake-every-label" mistake={"why": "the delays of every label, legitimate ones (a fixed settlement window) included"}
def label_gap(known, as_of_day, share=0.9):
    if not 0.0 < share <= 1.0:
        raise ValueError("share must be in (0, 1]")
    positives = known[known["label"] == 1]
    if len(positives) == 0:
        raise ValueError("no fraud label")
    delay = (known["label_day"] - known["day"]).to_numpy(dtype=float)
    room = as_of_day - known["day"].to_numpy(dtype=float)
    values = np.unique(delay)[::-1]
    cdf = np.ones(len(values))
    for i in range(1, len(values)):
        s = values[i - 1]
        cdf[i] = cdf[i - 1] * (1.0 - np.sum(delay == s) / np.sum((delay <= s) & (room >= s)))
    return int(values[cdf >= share].min())

# %% id="ex4-label-gap-tests" mlcourse={"stage": "dataset", "tier": 4} nbgrader={"grade": true, "grade_id": "ex4_label_gap_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Five labels known on day 10 (the legitimate one, row 5, says nothing about chargebacks).
# Fraud delays 6 and 2 (day 0, room 10), 2 (day 6, room 4) and 1 (day 7, room 3).
# Going down from the longest delay: at 6, the labels with delay <= 6 that had room for 6 are the two of
# day 0, one of them has delay 6: F(5) = F(6) * (1 - 1/2) = 1/2. At 2: three labels with delay <= 2 had room
# for 2, two have delay 2: F(1) = 1/2 * (1 - 2/3) = 1/6. So F(1) = 1/6, F(2..5) = 1/2, F(6) = 1.
_known_hand = pd.DataFrame({"day": [0, 0, 6, 7, 3], "label_day": [6, 2, 8, 8, 10], "label": [1, 1, 1, 1, 0]})
_gap_half = label_gap(_known_hand, 10, share=0.5)
assert int(_gap_half) == 2, f"hand-made labels, share 0.5: expected 2 days (F(2) = 1/2), got {_gap_half}"
_gap_most = label_gap(_known_hand, 10, share=0.9)
assert int(_gap_most) == 6, \
    f"hand-made labels, share 0.9: expected 6 days (only the delay of 6 reaches 90%), got {_gap_most}"
_gap_low = label_gap(_known_hand, 10, share=0.1)
assert int(_gap_low) == 1, f"hand-made labels, share 0.1: expected 1 day (F(1) = 1/6 >= 0.1), got {_gap_low}"
_gap_all = label_gap(_known_hand, 10, share=1.0)
assert int(_gap_all) == 6, f"hand-made labels, share 1.0: expected the longest delay, 6, got {_gap_all}"
# With every transaction old enough (as of day 100), nothing is censored: delays 1, 2, 2, 6 -> 75% within 2 days.
_gap_plain = label_gap(_known_hand, 100, share=0.75)
assert int(_gap_plain) == 2, f"nothing censored, share 0.75: expected 2 days (3 of the 4 delays are <= 2), got {_gap_plain}"
# A single fraud label known: its delay (3 days) is the answer for any share.
_gap_one = label_gap(pd.DataFrame({"day": [4, 5], "label_day": [7, 12], "label": [1, 0]}), 20, share=0.9)
assert int(_gap_one) == 3, f"a single fraud label with a 3-day delay: expected 3, got {_gap_one}"
# Censoring that matters, as of day 10: delays 5 and 3 (day 0, room 10), 1 (day 7, room 3), 1 (day 2, room 8).
# At 5: three labels have delay <= 5 and room >= 5 (not the one of day 7): F(3) = 1 - 1/3 = 2/3.
# At 3: three labels have delay <= 3 and room >= 3 (the one of day 7 had exactly room for 3): F(1) = 2/3 * 2/3 = 4/9.
_known_room = pd.DataFrame({"day": [0, 0, 7, 2], "label_day": [5, 3, 8, 3], "label": [1, 1, 1, 1]})
_gaps_room = [int(label_gap(_known_room, 10, share=_q)) for _q in (0.4, 0.5, 0.7)]
assert _gaps_room == [1, 3, 5], \
    f"as of day 10, shares 0.4, 0.5, 0.7: expected [1, 3, 5] (F(1) = 4/9, F(3) = 2/3, F(5) = 1), got {_gaps_room}"
for _bad_share in (0.0, 1.5, -0.2):
    try:
        label_gap(_known_hand, 10, share=_bad_share)
        _raised = False
    except ValueError:
        _raised = True
    assert _raised, f"expected ValueError for share {_bad_share}, but nothing was raised"
try:
    label_gap(_known_hand.assign(label=0), 10)
    _raised = False
except ValueError:
    _raised = True
assert _raised, "expected ValueError when no fraud label is known, but nothing was raised"

# %% id="ex4-label-gap-hidden-tests" mlcourse={"stage": "dataset", "tier": 4} nbgrader={"grade": true, "grade_id": "ex4_label_gap_hidden_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test builds worlds with long label delays and checks your gap against the truth.
_gap_here = int(label_gap(world.labeled(as_of_day=100), 100, share=0.9))
assert 20 <= _gap_here <= 120, f"this notebook's world, as of day 100: expected a gap of weeks, got {_gap_here} days"
### BEGIN HIDDEN TESTS
for _seed_h, _delay_h, _as_of_h, _days_h, _share_h in [(31, 50, 200, 240, 0.9), (34, 60, 180, 200, 0.75)]:
    _w_h = make_world(seed=_seed_h, n_transactions=40_000, n_customers=4_000, n_days=_days_h,
                      chargeback_delay_days=_delay_h, labeled_fraction=0.5)
    _all_h = _w_h.labeled()
    _d_h = np.sort((_all_h["label_day"] - _all_h["day"]).to_numpy()[_all_h["label"].to_numpy() == 1])
    _truth_h = int(_d_h[int(np.ceil(_share_h * len(_d_h))) - 1])
    _got_h = int(label_gap(_w_h.labeled(as_of_day=_as_of_h), _as_of_h, share=_share_h))
    assert abs(_got_h - _truth_h) <= max(3, 0.1 * _truth_h), \
        (f"world with a {_delay_h}-day mean chargeback delay, labels known on day {_as_of_h}: {_share_h:.0%} of the "
         f"fraud labels take up to {_truth_h} days, your estimate is {_got_h}")
### END HIDDEN TESTS

# %% id="ex4-label-gap-shifted-tests" mlcourse={"stage": "dataset", "tier": 4} nbgrader={"grade": true, "grade_id": "ex4_label_gap_shifted_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test checks a world whose label delay is not the one of this notebook.
_gap_early = int(label_gap(world.labeled(as_of_day=60), 60, share=0.5))
assert 1 <= _gap_early <= 60, f"as of day 60, share 0.5: expected a gap between 1 and 60 days, got {_gap_early}"
### BEGIN HIDDEN TESTS
_w_h = make_world(seed=33, n_transactions=60_000, n_customers=6_000, n_days=160, chargeback_delay_days=40,
                  labeled_fraction=0.6)
_all_h = _w_h.labeled()
_d_h = np.sort((_all_h["label_day"] - _all_h["day"]).to_numpy()[_all_h["label"].to_numpy() == 1])
_truth_h = int(_d_h[int(np.ceil(0.9 * len(_d_h))) - 1])
_got_h = int(label_gap(_w_h.labeled(as_of_day=150), 150, share=0.9))
assert abs(_got_h - _truth_h) <= max(3, 0.1 * _truth_h), \
    f"world with a 40-day mean chargeback delay, as of day 150: 90% of the fraud labels take up to {_truth_h} days, your estimate is {_got_h}"
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

# %% [markdown] id="md-ex5"
# ### Exercise 5 (tier 2) — a shuffled-label baseline
#
# Implement `signal_table(frame, y, columns, n_shuffles=50, seed=0)` (you may use
# `sklearn.metrics.mutual_info_score`, but not `mlcourse.dataset`):
#
# 1. turn each column of `columns` into integer codes: a numeric column (not bool) with more than 10
#    distinct values becomes `pd.qcut(column, 10, labels=False, duplicates="drop")`; any other column becomes
#    `pd.factorize(column)[0]`. Missing values get the code `-1` in both cases;
# 2. `mi`: the mutual information (nats) between the codes and `y` (a 0/1 array-like of `len(frame)`);
# 3. `baseline`: the 95th percentile (`np.quantile(..., 0.95)`) of the mutual information between the codes
#    and `n_shuffles` random permutations of `y`. Draw the permutations **once**, before looking at any
#    column, as `rng = np.random.default_rng(seed)` then `[rng.permutation(y) for _ in range(n_shuffles)]`,
#    and use the same ones for every column (so that every column faces the same noise);
# 4. `is_signal`: `mi > baseline`.
#
# Return a DataFrame indexed by the column names with the columns `mi`, `baseline` and `is_signal`, sorted
# by `mi`, largest first. Hidden tests use another world and hand-made columns.

# %% id="ex5-signal-table" mlcourse={"stage": "dataset", "tier": 2, "forbid": ["mlcourse.dataset", "sklearn.feature_selection"], "equivalent_mutants": {"15:81 number 1>2": "missing values get a code of their own either way (the bins are 0..9); mutual information does not depend on the codes' names"}} nbgrader={"grade": false, "grade_id": "ex5_signal_table", "locked": false, "schema_version": 3, "solution": true, "task": false}
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
        mi = mutual_info_score(codes, y)
        baseline = float(np.quantile([mutual_info_score(codes, ys) for ys in shuffles], 0.95))
        rows[column] = {"mi": mi, "baseline": baseline, "is_signal": mi > baseline}
    return pd.DataFrame.from_dict(rows, orient="index").sort_values("mi", ascending=False)
    ### END SOLUTION

# %% id="ex5-mistake-qcut-everything" mistake={"why": "bins every numeric column, also one with only a few values (and bool flags), instead of factorizing it"}
from sklearn.metrics import mutual_info_score


def signal_table(frame, y, columns, n_shuffles=50, seed=0):
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    shuffles = [rng.permutation(y) for _ in range(n_shuffles)]
    rows = {}
    for column in columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values):
            codes = pd.qcut(values.astype(float), 10, labels=False, duplicates="drop").fillna(-1).to_numpy()
        else:
            codes = pd.factorize(values)[0]
        mi = mutual_info_score(codes, y)
        baseline = float(np.quantile([mutual_info_score(codes, ys) for ys in shuffles], 0.95))
        rows[column] = {"mi": mi, "baseline": baseline, "is_signal": mi > baseline}
    return pd.DataFrame.from_dict(rows, orient="index").sort_values("mi", ascending=False)

# %% id="ex5-mistake-fresh-shuffles" mistake={"why": "draws new permutations for every column, so the columns are not compared on the same noise"}
from sklearn.metrics import mutual_info_score


def signal_table(frame, y, columns, n_shuffles=50, seed=0):
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    rows = {}
    for column in columns:
        values = frame[column]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if numeric and values.nunique() > 10:
            codes = pd.qcut(values, 10, labels=False, duplicates="drop").fillna(-1).to_numpy()
        else:
            codes = pd.factorize(values)[0]
        mi = mutual_info_score(codes, y)
        baseline = float(np.quantile([mutual_info_score(codes, rng.permutation(y)) for _ in range(n_shuffles)], 0.95))
        rows[column] = {"mi": mi, "baseline": baseline, "is_signal": mi > baseline}
    return pd.DataFrame.from_dict(rows, orient="index").sort_values("mi", ascending=False)

# %% id="ex5-mistake-max-baseline" mistake={"why": "takes the largest shuffled value as the baseline instead of the 95th percentile"}
from sklearn.metrics import mutual_info_score


def signal_table(frame, y, columns, n_shuffles=50, seed=0):
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
        mi = mutual_info_score(codes, y)
        baseline = float(np.max([mutual_info_score(codes, ys) for ys in shuffles]))
        rows[column] = {"mi": mi, "baseline": baseline, "is_signal": mi > baseline}
    return pd.DataFrame.from_dict(rows, orient="index").sort_values("mi", ascending=False)

# %% id="ex5-signal-table-tests" mlcourse={"stage": "dataset", "tier": 2} nbgrader={"grade": true, "grade_id": "ex5_signal_table_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# A column that is the label itself: codes [0, 0, 1, 1] against y = [1, 1, 0, 0] share log(2) = 0.6931 nats.
# A constant column carries none: MI 0, and 0 for every shuffle too, so it is not signal.
_small = pd.DataFrame({"copy": ["u", "u", "v", "v"], "constant": [1.0, 1.0, 1.0, 1.0]})
_got_small = signal_table(_small, np.array([1, 1, 0, 0]), ["copy", "constant"], n_shuffles=5, seed=0)
assert isinstance(_got_small, pd.DataFrame), f"expected a DataFrame, got {type(_got_small).__name__}"
assert {"mi", "baseline", "is_signal"} <= set(_got_small.columns), \
    f"expected columns mi, baseline, is_signal, got {list(_got_small.columns)}"
assert list(_got_small.index) == ["copy", "constant"], f"expected rows sorted by mi, largest first, got {list(_got_small.index)}"
assert np.isclose(_got_small.loc["copy", "mi"], np.log(2), atol=1e-9), \
    f"a column equal to the label: expected mi log(2) = 0.6931, got {_got_small.loc['copy', 'mi']}"
assert np.isclose(_got_small.loc["constant", "mi"], 0.0, atol=1e-12) and np.isclose(_got_small.loc["constant", "baseline"], 0.0, atol=1e-12), \
    "a constant column: expected mi 0 and baseline 0"
assert not bool(_got_small.loc["constant", "is_signal"]), "a constant column is not signal (0 is not above 0)"
# Missing values are a code of their own: [a, NaN, a, NaN] against y = [1, 0, 1, 0] is again log(2).
_missing = pd.DataFrame({"gappy": ["a", np.nan, "a", np.nan]})
_got_missing = signal_table(_missing, np.array([1, 0, 1, 0]), ["gappy"], n_shuffles=5, seed=0)
assert np.isclose(_got_missing.loc["gappy", "mi"], np.log(2), atol=1e-9), \
    f"missing values as their own code: expected mi log(2), got {_got_missing.loc['gappy', 'mi']}"

# %% id="ex5-signal-table-hidden-tests" mlcourse={"stage": "dataset", "tier": 2} nbgrader={"grade": true, "grade_id": "ex5_signal_table_hidden_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test compares signal_table with the rule on another world and on hand-made columns.
_t_check = signal_table(labeled.iloc[:3000], labeled["label"].to_numpy()[:3000].astype(int), ["noise_1", "hour"], n_shuffles=5)
assert set(_t_check.index) == {"noise_1", "hour"}, f"expected rows noise_1 and hour, got {list(_t_check.index)}"
### BEGIN HIDDEN TESTS
from sklearn.metrics import mutual_info_score as _mis


def _codes_ref_h(values):
    _numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if _numeric and values.nunique() > 10:
        return pd.qcut(values, 10, labels=False, duplicates="drop").fillna(-1).to_numpy().astype(int)
    return pd.factorize(values)[0]


def _check_signal_table_h(frame, y, columns, n_shuffles, seed):
    _got = signal_table(frame, y, columns, n_shuffles=n_shuffles, seed=seed)
    _y = np.asarray(y)
    _rng = np.random.default_rng(seed)
    _shuffles = [_rng.permutation(_y) for _ in range(n_shuffles)]
    assert set(_got.index) == set(columns), f"expected one row per column {columns}, got {list(_got.index)}"
    assert np.all(np.diff(_got["mi"].to_numpy(dtype=float)) <= 1e-15), "expected rows sorted by mi, largest first"
    for _c in columns:
        _codes = _codes_ref_h(frame[_c])
        _mi = _mis(_codes, _y)
        _base = float(np.quantile([_mis(_codes, _s) for _s in _shuffles], 0.95))
        assert np.isclose(_got.loc[_c, "mi"], _mi, rtol=1e-7, atol=1e-12), \
            f"{_c}: expected mi {_mi:.6g} (see the binning rule), got {_got.loc[_c, 'mi']:.6g}"
        assert np.isclose(_got.loc[_c, "baseline"], _base, rtol=1e-7, atol=1e-12), \
            f"{_c}: expected baseline {_base:.6g} (95th percentile over the same permutations), got {_got.loc[_c, 'baseline']:.6g}"
        assert bool(_got.loc[_c, "is_signal"]) == bool(_mi > _base), f"{_c}: expected is_signal={_mi > _base}"
    return _got


_world_h = make_world(seed=2027, n_transactions=12_000, n_customers=1_200)
_lab_h = _world_h.labeled()
_got_h = _check_signal_table_h(_lab_h, _lab_h["is_fraud"].to_numpy(),
                               ["merchant_category", "is_foreign", "amount", "noise_0", "hour", "distance_km",
                                "tx_count_24h", "account_age_days"], 20, 4)
_rng_h = np.random.default_rng(99)
_n = 3000
_y_h = (_rng_h.random(_n) < 0.2).astype(int)
_strong = np.where(_y_h == 1, _rng_h.normal(1.5, 1, _n), _rng_h.normal(0, 1, _n))
_strong[_rng_h.random(_n) < 0.1] = np.nan                          # missing values: code -1
_hand = pd.DataFrame({
    "strong": _strong,
    "category": pd.Categorical(np.where(_y_h == 1, _rng_h.choice(["u", "v"], _n), _rng_h.choice(["v", "w", "x"], _n))),
    "flag": _rng_h.random(_n) < 0.5,                               # pure noise, bool
    "few_values": _rng_h.integers(0, 4, _n).astype(float),         # numeric with 4 values: factorized
    "eleven": _rng_h.integers(0, 11, _n) + 0.5 * _y_h,             # numeric, more than 10 values: binned
    "exactly_ten": np.r_[np.arange(1, 11), np.minimum(_rng_h.geometric(0.4, _n - 10), 10)],          # 10 values: factorized
    "exactly_eleven": np.r_[np.arange(1, 12), np.minimum(_rng_h.geometric(0.4, _n - 11), 11)],       # 11 values: binned
    "zero_heavy": np.where(_rng_h.random(_n) < 0.6, 0.0, _rng_h.exponential(1.0, _n) + _y_h),      # tied quantile edges
    "many_levels": np.array(list("abcdefghijkl"))[_rng_h.integers(0, 12, _n)],                     # 12 text levels
    "noise": _rng_h.standard_t(3, _n),
})
_check_signal_table_h(_hand, _y_h, list(_hand.columns), 20, 7)
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
if FAST:                                   # FAST: train on a sample of the weak labels, to keep the demo quick
    weak = weak.sample(n=min(len(weak), 25_000), random_state=SEED)

rows = {}
for budget in [3_000, 20_000 if FAST else len(labeled)]:
    base = labeled.sample(n=budget, random_state=SEED)
    rows[f"{budget:,} labels"] = {
        "labels only": truth_auc(base, pool_test),
        "labels + weak labels": truth_auc(pd.concat([base, weak]), pool_test),
    }
pd.DataFrame(rows).T.round(3)

# %% [markdown] id="md-self-training"
# With few labels, the weak labels help; with many labels, they add little (the model already knows
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
# ### Exercise 6 (tier 3) — a vote weighted by accuracy
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
# Vectorise it (no Python loop over rows), with NumPy only (not `mlcourse.dataset`). The hidden tests use label
# matrices you have not seen: rows where every LF abstains, LFs that are always right, useless ones, and
# adversarial ones that are right less than half the time.

# %% id="ex6-weighted-vote" mlcourse={"stage": "dataset", "tier": 3, "forbid": ["mlcourse.dataset", "snorkel"], "equivalent_mutants": {"13:19 compare Gt>GtE": "a score of exactly 0 is set to -1 on the next line, whichever side of 0 it was put on", "14:9 compare Lt>LtE": "|score| is exactly 1e-12 for no label matrix: the scores are sums of log-odds of small-integer ratios", "14:35 keyword drop axis=": "a row where no LF votes has a score of exactly 0, so the |score| < 1e-12 test already sets it to -1"}} nbgrader={"grade": false, "grade_id": "ex6_weighted_vote", "locked": false, "schema_version": 3, "solution": true, "task": false}
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

# %% id="ex6-mistake-majority-vote" mistake={"readable": "demo cell code-weak-gain: mlcourse.dataset.majority_vote, every LF trusted equally", "why": "a plain majority vote: the gold labels are ignored and a worse-than-a-coin LF keeps its say"}
def weighted_vote(L, gold):
    L = np.asarray(L)
    ones = (L == 1).sum(axis=1)
    zeros = (L == 0).sum(axis=1)
    return np.where(ones > zeros, 1, np.where(zeros > ones, 0, -1)).astype(int)

# %% id="ex6-mistake-unsmoothed" mistake={"why": "the raw accuracy c / n: an LF right on every gold row gets an infinite weight, one never judged a 0/0"}
def weighted_vote(L, gold):
    L = np.asarray(L)
    gold = np.asarray(gold)
    votes = L != -1
    judged = votes & (gold != -1)[:, None]
    correct = judged & (L == gold[:, None])
    with np.errstate(divide="ignore", invalid="ignore"):
        accuracy = correct.sum(axis=0) / judged.sum(axis=0)
        weights = np.nan_to_num(np.log(accuracy / (1 - accuracy)), nan=0.0, posinf=50.0, neginf=-50.0)
    signs = np.where(L == 1, 1.0, np.where(L == 0, -1.0, 0.0))
    score = signs @ weights
    out = np.where(score > 0, 1, 0)
    out[(np.abs(score) < 1e-12) | ~votes.any(axis=1)] = -1
    return out.astype(int)

# %% id="ex6-mistake-no-negative-weights" mistake={"why": "clips the weights at 0: an LF that is mostly wrong is ignored instead of flipped"}
def weighted_vote(L, gold):
    L = np.asarray(L)
    gold = np.asarray(gold)
    votes = L != -1
    judged = votes & (gold != -1)[:, None]
    correct = judged & (L == gold[:, None])
    accuracy = (correct.sum(axis=0) + 1) / (judged.sum(axis=0) + 2)
    weights = np.maximum(np.log(accuracy / (1 - accuracy)), 0.0)
    signs = np.where(L == 1, 1.0, np.where(L == 0, -1.0, 0.0))
    score = signs @ weights
    out = np.where(score > 0, 1, 0)
    out[(np.abs(score) < 1e-12) | ~votes.any(axis=1)] = -1
    return out.astype(int)

# %% id="ex6-mistake-accuracy-over-all-rows" mistake={"why": "measures each LF's accuracy over every gold row, counting its abstentions as errors"}
def weighted_vote(L, gold):
    L = np.asarray(L)
    gold = np.asarray(gold)
    votes = L != -1
    known = np.repeat((gold != -1)[:, None], L.shape[1], axis=1)
    correct = votes & known & (L == gold[:, None])
    accuracy = (correct.sum(axis=0) + 1) / (known.sum(axis=0) + 2)
    weights = np.log(accuracy / (1 - accuracy))
    signs = np.where(L == 1, 1.0, np.where(L == 0, -1.0, 0.0))
    score = signs @ weights
    out = np.where(score > 0, 1, 0)
    out[(np.abs(score) < 1e-12) | ~votes.any(axis=1)] = -1
    return out.astype(int)

# %% id="ex6-weighted-vote-tests" mlcourse={"stage": "dataset", "tier": 3} nbgrader={"grade": true, "grade_id": "ex6_weighted_vote_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Seven rows, three LFs; gold is known on the first five rows.
# LF 1 votes on 4 gold rows and is right on 4: a = 5/6, w = log 5.  LF 2: 3 judged, 2 right: a = 3/5,
# w = log 1.5.  LF 3: 3 judged, 1 right: a = 2/5, w = -log 1.5 (its votes count reversed).
# Row 0: +log 5 (LF 1 says 1) + log 1.5 (LF 3 says 0, reversed) > 0 -> 1.  Row 1: log 5 - log 1.5 + log 1.5 -> 1.
# Row 2: nobody votes -> -1.  Row 3: -log 5 - log 1.5 -> 0.  Row 4: log 5 + log 1.5 - log 1.5 -> 1.
# Row 5: LF 2 says 0 (-log 1.5), LF 3 says 1 (-log 1.5) -> 0.  Row 6: LF 2 and LF 3 both say 1: log 1.5 - log 1.5 = 0 -> -1.
_L_small = np.array([[1, -1, 0], [1, 0, 0], [-1, -1, -1], [0, 0, -1], [1, 1, 1], [-1, 0, 1], [-1, 1, 1]])
_gold_small = np.array([1, 1, 0, 0, 1, -1, -1])
_got = np.asarray(weighted_vote(_L_small, _gold_small))
assert _got.shape == (7,), f"expected shape (7,), got {_got.shape}"
assert _got.tolist() == [1, 1, -1, 0, 1, 0, -1], f"small example: expected [1, 1, -1, 0, 1, 0, -1], got {_got.tolist()}"
# No gold at all: every a = 1/2 and every weight 0, so every row is a tie: -1.
_got_nogold = np.asarray(weighted_vote(_L_small, np.full(7, -1)))
assert _got_nogold.tolist() == [-1] * 7, f"no gold labels: expected every row -1 (all weights 0), got {_got_nogold.tolist()}"
# LF 1 is right on its single gold row: a = 2/3, w = log 2. LF 2 is wrong on all three of its gold rows:
# a = 1/5, w = log(1/4) = -log 4, so its votes count reversed and four times as much as a coin's odds.
# Rows 0-2: LF 2 says 0, reversed: +log 4 -> 1.  Row 3: +log 2 (LF 1 says 1) - log 4 (LF 2 says 1) < 0 -> 0.
_got_two = np.asarray(weighted_vote(np.array([[1, 0], [-1, 0], [-1, 0], [1, 1]]), np.array([1, 1, 1, -1])))
assert _got_two.tolist() == [1, 1, 1, 0], f"a reliably wrong LF, reversed: expected [1, 1, 1, 0], got {_got_two.tolist()}"

# %% id="ex6-weighted-vote-hidden-tests" mlcourse={"stage": "dataset", "tier": 3} nbgrader={"grade": true, "grade_id": "ex6_weighted_vote_hidden_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test checks the vote on label matrices with useless and adversarial LFs.
_rng = np.random.default_rng(5)
_L_r = np.where(_rng.random((300, 5)) < 0.5, -1, _rng.integers(0, 2, (300, 5)))
_got_r = np.asarray(weighted_vote(_L_r, np.where(_rng.random(300) < 0.6, _rng.integers(0, 2, 300), -1)))
assert _got_r.shape == (300,) and set(np.unique(_got_r)) <= {-1, 0, 1}, "expected one vote in {-1, 0, 1} per row"
### BEGIN HIDDEN TESTS
def _weighted_vote_ref_h(L, gold):
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


for _seed in range(6):
    _rng_h = np.random.default_rng(100 + _seed)
    _n_h, _m_h = 400, 3 + _seed
    _truth_h = _rng_h.integers(0, 2, _n_h)
    _acc_h = _rng_h.uniform(0.2, 0.95, _m_h)                       # some LFs are worse than a coin
    _acc_h[0] = 1.0                                                # and one is always right
    _L_h = np.where(_rng_h.random((_n_h, _m_h)) < _acc_h, _truth_h[:, None], 1 - _truth_h[:, None])
    _L_h[_rng_h.random((_n_h, _m_h)) < 0.6] = -1
    _L_h[:20] = -1                                                 # rows where every LF abstains
    _gold_h = np.where(_rng_h.random(_n_h) < 0.3, _truth_h, -1)
    _got_h = np.asarray(weighted_vote(_L_h, _gold_h))
    _exp_h = _weighted_vote_ref_h(_L_h, _gold_h)
    assert np.array_equal(_got_h, _exp_h), \
        f"random matrix {_seed}: {int(np.sum(_got_h != _exp_h))} of {_n_h} votes differ from the rule"
    assert np.all(_got_h[:20] == -1), "rows where every LF abstains must get -1"
### END HIDDEN TESTS

# %% [markdown] id="md-active-learning"
# ### Choosing what to label next: active learning
#
# Weak supervision and self-training make labels out of the pool for free. The third way spends money: an
# analyst labels a few pool rows a day, and the team **chooses which**. That choice is a *query strategy*,
# and it is worth thinking about, because the budget is tiny next to the pool:
#
# * **Exploitation** (top score): label the rows the current model finds most suspicious. It finds many
#   frauds per label, which a rare-event model needs, but it only ever looks where the model already looks.
# * **Uncertainty**: label the rows the model is least sure about (a probability near 0.5, or near the
#   decision threshold). Each label moves the decision boundary the most; but "uncertain" is judged by the
#   model itself, so it refines what the model already believes.
# * **Diversity** (exploration): spread the labels over the kinds of rows in the pool, so that parts of the
#   traffic the model has never seen get labels at all.
#
# Two traps. The **cold start**: before the first labels there is no model to be uncertain, so the first
# batch must be chosen without one (at random, or for diversity), and a model fitted on a few dozen labels
# with two frauds has opinions that are mostly noise. And **sampling bias**: the labelled set that a query
# strategy builds is not a random sample of the traffic, so the strategy can talk itself into a blind spot
# (it never asks about rows it scores low, so it never learns that some of them are fraud), and the metrics
# measured on that set are biased too. The only evidence that a strategy helps is a **comparison with random
# labeling on the same budget**, judged on data drawn at random (never on the chosen labels), and repeated
# over several draws, since one run of either is noisy.
#
# Here the simulator plays the analyst: asking for a pool row's label reveals its ground truth. The demo
# compares random labeling with pure uncertainty sampling on the same budget: a cold start of 300 random
# labels, then three rounds of 200.

# %% id="code-active-learning"
def pick_random(scores, labeled, budget, rng):
    # Random labeling: any `budget` pool rows that have no label yet.
    return rng.choice(np.flatnonzero(~labeled), size=budget, replace=False)


def pick_uncertain(scores, labeled, budget, rng):
    # Uncertainty sampling: the unlabeled rows whose fraud probability is closest to 0.5.
    free = np.flatnonzero(~labeled)
    return free[np.argsort(np.abs(scores[free] - 0.5))[:budget]]


al_pool = pool_train.sample(n=min(N_POOL_DEMO, len(pool_train)), random_state=SEED).reset_index(drop=True)
al_rows = {}
for name, pick in {"random labeling": pick_random, "uncertainty sampling": pick_uncertain}.items():
    al_rng = np.random.default_rng(SEED)
    asked = np.zeros(len(al_pool), dtype=bool)
    asked[al_rng.choice(len(al_pool), size=300, replace=False)] = True      # the cold start: 300 random labels
    for _ in range(3):                                                      # three rounds of 200 labels
        al_model = make_model(FEATURES).fit(al_pool.loc[asked, FEATURES], al_pool.loc[asked, "is_fraud"])
        asked[pick(al_model.predict_proba(al_pool[FEATURES])[:, 1], asked, 200, al_rng)] = True
    al_model = make_model(FEATURES).fit(al_pool.loc[asked, FEATURES], al_pool.loc[asked, "is_fraud"])
    al_scores = al_model.predict_proba(pool_test[FEATURES])[:, 1]
    al_alerts = ds.flag_top(al_scores, 0.01) == 1
    al_rows[name] = {"labels": int(asked.sum()), "frauds among them": int(al_pool.loc[asked, "is_fraud"].sum()),
                     "test AUC": roc_auc_score(pool_test["is_fraud"], al_scores),
                     "recall at 1% alerts": pool_test["is_fraud"].to_numpy()[al_alerts].sum() / pool_test["is_fraud"].sum()}
pd.DataFrame(al_rows).T.round(3)

# %% [markdown] id="md-active-learning-after"
# Uncertainty sampling labels more frauds than random labeling (the uncertain rows of a rare-event model are
# its most suspicious ones), yet the model it trains is not reliably better: run the demo with other seeds and
# the sign of the difference changes, and with some seeds its model is far worse, down to an AUC near 0.5.
# That is sampling bias at work: its labelled set is made of the rows an early, noisy model found borderline,
# not a sample of the traffic, and a model fitted to it can be wrong about everything else. Random labeling,
# meanwhile, is hard to beat in this world: fraud follows one logistic pattern of the very features the model
# sees, so a random sample already shows the model every kind of row, and a few hundred random labels find
# the pattern.
#
# Real pools are not like that. Fraud concentrates where a ring works: one kind of shop in one region, a few
# tenths of a percent of the traffic, where fraud does not look like fraud elsewhere. Random labeling sends
# that segment a label or two; a model trained on the labels scores the segment low, so uncertainty and top
# score never ask about it either. That is the condition of the next exercise.
#
# ### Exercise 12 (tier 4) — a query strategy that finds what the model has not seen
#
# Implement `choose_labels(scores, X_pool, labeled, budget, rng)`, which picks the pool rows to label next:
#
# * `scores`: an array of shape `(n,)`, the current model's fraud probability of every pool row;
# * `X_pool`: a frame of the `n` pool rows with the columns of `FEATURES` (row `i` of `X_pool` is row `i`
#   of `scores` and of `labeled`; its index is `0 .. n-1`);
# * `labeled`: a mask of shape `(n,)`, true (or 1) where the row has a label already;
# * `budget`: how many rows to label now, an int; `rng`: a `numpy.random.Generator`, your only source of
#   randomness;
# * return an integer array of exactly `budget` **distinct** positions (`0 .. n-1`) of rows **without** a
#   label; the same `rng` state gives the same rows. Raise `ValueError` if `budget` is negative or larger
#   than the number of unlabeled rows.
#
# The hidden tests run your strategy in the loop of the demo on small platforms you have not seen, where
# fraud concentrates in a few rare merchant segments (a merchant category in one region): 100 random labels
# to start, then two rounds of 100 chosen by your strategy, and a logistic regression (that also sees each
# row's category-and-region segment) trained on the 300 labels raises alerts on 1% of held-out traffic. They
# run random labeling through the same loop, with the same starts, on twelve platforms each; averaged over
# them, your model must catch at least **0.3 more of the rare segments' frauds** (as a share of those
# frauds) than the random-labeling model. The shares of fraud caught by either vary a lot from one platform to
# the next; the average over twelve does not. You may use `scores`, `X_pool`, or both; `mlcourse.dataset`
# is forbidden.

# %% id="ex12-choose-labels" mlcourse={"stage": "dataset", "tier": 4, "forbid": ["mlcourse.dataset", "modAL", "sklearn.semi_supervised", "sklearn.cluster"]} nbgrader={"grade": false, "grade_id": "ex12_choose_labels", "locked": false, "schema_version": 3, "solution": true, "task": false}
def choose_labels(scores, X_pool, labeled, budget, rng):
    # The positions of `budget` unlabeled pool rows to label next.
    ### BEGIN SOLUTION
    labeled = np.asarray(labeled, dtype=bool)
    free = np.flatnonzero(~labeled)
    if not 0 <= budget <= len(free):
        raise ValueError(f"budget must be in [0, {len(free)}] (the unlabeled rows), got {budget}")
    # Diversity over the segments a fraud ring would work: merchant category x merchant region. Each pick goes
    # to the segment with the fewest labels so far (labels already held plus those picked in this batch), a
    # random row of it, so a rare segment gets labels even though the model has never seen its frauds.
    segment = X_pool["merchant_category"].astype(str) + "@" + X_pool["merchant_region"].astype(str)
    codes = pd.factorize(segment)[0]
    known = np.bincount(codes[labeled], minlength=len(codes))
    order = rng.permutation(free)
    turn = pd.Series(codes[order]).groupby(codes[order]).cumcount().to_numpy()
    return order[np.argsort(known[codes[order]] + turn)[:budget]]
    ### END SOLUTION

# %% id="ex12-mistake-random" mistake={"readable": "demo cell code-active-learning: pick_random, random labeling", "why": "random labeling: the baseline itself, which the strategy must beat"}
def choose_labels(scores, X_pool, labeled, budget, rng):
    labeled = np.asarray(labeled, dtype=bool)
    free = np.flatnonzero(~labeled)
    if not 0 <= budget <= len(free):
        raise ValueError("budget out of range")
    return rng.choice(free, size=budget, replace=False)

# %% id="ex12-mistake-uncertainty" mistake={"readable": "demo cell code-active-learning: pick_uncertain, uncertainty sampling", "why": "pure uncertainty sampling: the model is never uncertain about a segment it scores low, so it never asks about the rare segments"}
def choose_labels(scores, X_pool, labeled, budget, rng):
    labeled = np.asarray(labeled, dtype=bool)
    free = np.flatnonzero(~labeled)
    if not 0 <= budget <= len(free):
        raise ValueError("budget out of range")
    return free[np.argsort(np.abs(np.asarray(scores)[free] - 0.5))[:budget]]

# %% id="ex12-mistake-top-score" mistake={"why": "pure exploitation: the highest scores only, so the labels go where the model already looks"}
def choose_labels(scores, X_pool, labeled, budget, rng):
    labeled = np.asarray(labeled, dtype=bool)
    free = np.flatnonzero(~labeled)
    if not 0 <= budget <= len(free):
        raise ValueError("budget out of range")
    return free[np.argsort(-np.asarray(scores)[free])[:budget]]

# %% id="ex12-mistake-repicks-labeled" mistake={"why": "spreads the picks over the segments but draws from every row, labelled ones included: labels paid for twice"}
def choose_labels(scores, X_pool, labeled, budget, rng):
    labeled = np.asarray(labeled, dtype=bool)
    if not 0 <= budget <= int((~labeled).sum()):
        raise ValueError("budget out of range")
    segment = X_pool["merchant_category"].astype(str) + "@" + X_pool["merchant_region"].astype(str)
    codes = pd.factorize(segment)[0]
    order = rng.permutation(len(codes))
    turn = pd.Series(codes[order]).groupby(codes[order]).cumcount().to_numpy()
    return order[np.argsort(turn, kind="stable")[:budget]]

# %% id="ex12-mistake-ignores-budget" mistake={"why": "one random unlabeled row of every segment, whatever the budget"}
def choose_labels(scores, X_pool, labeled, budget, rng):
    labeled = np.asarray(labeled, dtype=bool)
    free = np.flatnonzero(~labeled)
    if not 0 <= budget <= len(free):
        raise ValueError("budget out of range")
    segment = (X_pool["merchant_category"].astype(str) + "@" + X_pool["merchant_region"].astype(str)).to_numpy()
    order = rng.permutation(free)
    return order[pd.Series(segment[order]).drop_duplicates().index.to_numpy()]

# %% id="ex12-choose-labels-tests" mlcourse={"stage": "dataset", "tier": 4} nbgrader={"grade": true, "grade_id": "ex12_choose_labels_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The contract on a pool of eight rows in three segments; rows 0, 3 and 4 are labelled (given as 0/1 in a list).
_X_al = pd.DataFrame({"merchant_category": ["fuel", "fuel", "fuel", "travel", "travel", "travel", "grocery", "grocery"],
                      "merchant_region": ["north", "north", "north", "abroad_eu", "abroad_eu", "abroad_eu", "east", "east"],
                      "amount": [10.0, 20.0, 30.0, 400.0, 500.0, 600.0, 5.0, 6.0]})
_scores_al = np.array([0.01, 0.02, 0.03, 0.4, 0.5, 0.6, 0.01, 0.02])
_known_al = [1, 0, 0, 1, 1, 0, 0, 0]
_picked_al = np.asarray(choose_labels(_scores_al, _X_al, _known_al, 3, np.random.default_rng(7)))
assert _picked_al.shape == (3,) and np.issubdtype(_picked_al.dtype, np.integer), \
    f"expected 3 integer positions, got {_picked_al!r}"
assert len(set(_picked_al.tolist())) == 3, f"expected 3 distinct rows, got {_picked_al.tolist()}"
assert set(_picked_al.tolist()) <= {1, 2, 5, 6, 7}, \
    f"expected only unlabelled rows (1, 2, 5, 6, 7), got {_picked_al.tolist()}"
_again_al = np.asarray(choose_labels(_scores_al, _X_al, _known_al, 3, np.random.default_rng(7)))
assert _again_al.tolist() == _picked_al.tolist(), \
    f"the same rng state must give the same rows: {_picked_al.tolist()}, then {_again_al.tolist()}"
# A budget of all 5 unlabelled rows takes exactly those; a budget of 0 takes none.
_all_al = np.asarray(choose_labels(_scores_al, _X_al, _known_al, 5, np.random.default_rng(1)))
assert sorted(_all_al.tolist()) == [1, 2, 5, 6, 7], f"budget 5: expected rows [1, 2, 5, 6, 7], got {sorted(_all_al.tolist())}"
assert len(np.asarray(choose_labels(_scores_al, _X_al, _known_al, 0, np.random.default_rng(1)))) == 0, \
    "budget 0: expected no row"
# Every row labelled but one: a budget of 1 takes that one.
_one_al = np.asarray(choose_labels(_scores_al, _X_al, [1, 1, 1, 1, 1, 1, 0, 1], 1, np.random.default_rng(2)))
assert _one_al.tolist() == [6], f"only row 6 is unlabelled: expected [6], got {_one_al.tolist()}"
for _bad_al in (-1, 6):
    try:
        choose_labels(_scores_al, _X_al, _known_al, _bad_al, np.random.default_rng(0))
    except ValueError:
        pass
    else:
        raise AssertionError(f"budget {_bad_al} with 5 unlabelled rows: expected ValueError")

# %% id="ex12-choose-labels-hidden-tests" mlcourse={"stage": "dataset", "tier": 4} nbgrader={"grade": true, "grade_id": "ex12_choose_labels_hidden_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test runs your strategy and random labeling through the same labeling loop on twelve
# platforms you have not seen, where fraud concentrates in rare merchant segments, and compares the share of
# those segments' frauds that the two models catch at a 1% alert rate.
_picked_al = np.asarray(choose_labels(_scores_al, _X_al, _known_al, 2, np.random.default_rng(3)))
assert len(_picked_al) == 2 and set(_picked_al.tolist()) <= {1, 2, 5, 6, 7}, \
    f"budget 2: expected 2 unlabelled rows, got {_picked_al.tolist()}"
### BEGIN HIDDEN TESTS
from sklearn.linear_model import LogisticRegression as _LogReg_h


def _al_trial_h(strategies, world_seed, segments, n=20_000):
    # A platform where `segments` hold concentrated fraud; for each strategy, the same 100 random labels, then
    # two rounds of 100 chosen by it; the share of the segments' held-out frauds caught at a 1% alert rate.
    _w = make_world(seed=world_seed, n_transactions=n, n_customers=n // 10, fraud_rate=0.03,
                    segment_fraud_odds={_s: 300.0 for _s in segments})
    _tx = _w.transactions
    _seg = _tx["merchant_category"].astype(str) + "@" + _tx["merchant_region"].astype(str)
    _num_cols = ["amount", "distance_km", "account_age_days", "tx_count_24h"]
    _num = np.log1p(_tx[_num_cols].fillna(_tx[_num_cols].median()))
    _design = np.hstack([pd.get_dummies(_tx[_c].astype(str)).to_numpy(float)
                         for _c in ["merchant_category", "merchant_region", "device", "hour"]]
                        + [pd.get_dummies(_seg).to_numpy(float), ((_num - _num.mean()) / _num.std()).to_numpy(),
                           _tx[["is_foreign", "is_new_device"]].to_numpy(float)])
    _held = (_tx["customer_id"] % 3 == 0).to_numpy()
    _pool_i, _test_i = np.flatnonzero(~_held), np.flatnonzero(_held)
    _X = _tx.iloc[_pool_i][_w.feature_columns].reset_index(drop=True)
    _y = _tx["is_fraud"].to_numpy()
    _target = _seg.isin(segments).to_numpy() & (_y == 1)

    def _scores(lab, rows):
        _yl = _y[_pool_i[lab]]
        if _yl.min() == _yl.max():
            return np.full(len(rows), float(_yl.mean()))
        return _LogReg_h(solver="liblinear").fit(_design[_pool_i[lab]], _yl).predict_proba(_design[rows])[:, 1]

    _caught = []
    for _strategy in strategies:
        _lab = np.zeros(len(_pool_i), dtype=bool)
        _lab[np.random.default_rng(world_seed).choice(len(_pool_i), 100, replace=False)] = True
        _rng = np.random.default_rng(world_seed + 1)
        for _ in range(2):
            _pick = np.asarray(_strategy(_scores(_lab, _pool_i), _X, _lab.copy(), 100, _rng))
            assert len(_pick) == 100 and len(set(_pick.tolist())) == 100 and not _lab[_pick].any(), \
                "each round must return 100 distinct unlabelled rows"
            _lab[_pick] = True
        _alerts = _test_i[np.argsort(-_scores(_lab, _test_i), kind="stable")[: len(_test_i) // 100]]
        _caught.append(_target[_alerts].sum() / max(_target[_test_i].sum(), 1))
    return _caught


def _random_h(scores, X_pool, labeled, budget, rng):
    return rng.choice(np.flatnonzero(~labeled), size=budget, replace=False)


_segments_h = ["restaurants@abroad_eu", "electronics@abroad_other"]
_got_h, _base_h = np.mean([_al_trial_h([choose_labels, _random_h], _s, _segments_h) for _s in range(12)], axis=0)
assert _got_h >= _base_h + 0.3, \
    f"rare fraud in two segments: your labels' model catches {_got_h:.2f} of their frauds, random labeling's {_base_h:.2f}; expected at least {_base_h + 0.3:.2f}"
### END HIDDEN TESTS

# %% id="ex12-choose-labels-second-hidden-tests" mlcourse={"stage": "dataset", "tier": 4} nbgrader={"grade": true, "grade_id": "ex12_choose_labels_second_hidden_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test does the same on twelve other platforms, with fraud in three other segments.
_picked_al = np.asarray(choose_labels(_scores_al, _X_al, [0, 0, 0, 0, 0, 0, 0, 0], 8, np.random.default_rng(4)))
assert sorted(_picked_al.tolist()) == list(range(8)), f"nothing labelled, budget 8: expected every row, got {_picked_al.tolist()}"
### BEGIN HIDDEN TESTS
_segments_h = ["gaming@abroad_other", "retail@abroad_eu", "grocery@abroad_other"]
_got_h, _base_h = np.mean([_al_trial_h([choose_labels, _random_h], _s, _segments_h) for _s in range(20, 32)], axis=0)
assert _got_h >= _base_h + 0.3, \
    f"rare fraud in three segments: your labels' model catches {_got_h:.2f} of their frauds, random labeling's {_base_h:.2f}; expected at least {_base_h + 0.3:.2f}"
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

# %% [markdown] id="md-ex-find-bias"
# ### Exercise 7 (tier 3) — find the biases, on a platform you have not seen
#
# The representation table of section 3 and the audit above answered two questions for this world: which group the labelling process **samples**
# less than the traffic, and whose fraud is **reported** less. Write the check that answers them for any
# platform: `find_bias(labeled, traffic, audit)`, where
#
# * `labeled`: the labelled transactions (with `customer_group` and the recorded `label`);
# * `traffic`: all the transactions the platform scores (with `customer_group`);
# * `audit`: an audit sample of `labeled` (the same number of rows per group), with the trusted verdict
#   `audit_label` (0/1) next to the recorded `label`.
#
# Return a dict with two group names (`str`):
#
# * `"undersampled"`: the group whose share of the labelled set is smallest **relative to** its share of
#   the traffic;
# * `"underreported"`: the group whose true frauds are least often recorded as fraud.
#
# Use pandas or NumPy, not `mlcourse.dataset`. The hidden tests build platforms where the groups, their
# sizes, their sampling, their reporting and their true fraud rates are not this world's.

# %% id="ex7-find-bias" mlcourse={"stage": "dataset", "tier": 3, "forbid": ["mlcourse.dataset", "fairlearn"]} nbgrader={"grade": false, "grade_id": "ex7_find_bias", "locked": false, "schema_version": 3, "solution": true, "task": false}
def find_bias(labeled, traffic, audit):
    # Which group is sampled less than the traffic, and whose fraud is reported less?
    ### BEGIN SOLUTION
    # Labelled rows per traffic row of each group: proportional to (share of the labelled set) / (share of
    # the traffic), so the smallest is the group sampled least. A group absent from the labelled set gets 0.
    labeled_count = labeled["customer_group"].astype(str).value_counts()
    traffic_count = traffic["customer_group"].astype(str).value_counts()
    ratio = labeled_count.reindex(traffic_count.index).fillna(0) / traffic_count
    frauds = audit[audit["audit_label"] == 1]
    report_rate = frauds.groupby(frauds["customer_group"].astype(str))["label"].mean()
    return {"undersampled": str(ratio.idxmin()), "underreported": str(report_rate.idxmin())}
    ### END SOLUTION

# %% id="ex7-mistake-recorded-rate" mistake={"readable": "demo cell code-bias-labels: the recorded fraud rate per group", "why": "takes the group with the lowest recorded fraud rate for the under-reported one: a group with truly less fraud looks the same in the labels"}
def find_bias(labeled, traffic, audit):
    labeled_share = labeled["customer_group"].astype(str).value_counts(normalize=True)
    traffic_share = traffic["customer_group"].astype(str).value_counts(normalize=True)
    ratio = labeled_share.reindex(traffic_share.index).fillna(0.0) / traffic_share
    recorded = labeled.groupby(labeled["customer_group"].astype(str))["label"].mean()
    return {"undersampled": str(ratio.idxmin()), "underreported": str(recorded.idxmin())}

# %% id="ex7-mistake-smallest-count" mistake={"why": "takes the group with the fewest labelled rows for the under-sampled one: a small group is not an under-sampled group"}
def find_bias(labeled, traffic, audit):
    counts = labeled["customer_group"].astype(str).value_counts()
    frauds = audit[audit["audit_label"] == 1]
    report_rate = frauds.groupby(frauds["customer_group"].astype(str))["label"].mean()
    return {"undersampled": str(counts.idxmin()), "underreported": str(report_rate.idxmin())}

# %% id="ex7-mistake-true-rate" mistake={"why": "takes the group with the lowest audited (true) fraud rate: that is less fraud, not less reporting"}
def find_bias(labeled, traffic, audit):
    labeled_share = labeled["customer_group"].astype(str).value_counts(normalize=True)
    traffic_share = traffic["customer_group"].astype(str).value_counts(normalize=True)
    ratio = labeled_share.reindex(traffic_share.index).fillna(0.0) / traffic_share
    true_rate = audit.groupby(audit["customer_group"].astype(str))["audit_label"].mean()
    return {"undersampled": str(ratio.idxmin()), "underreported": str(true_rate.idxmin())}

# %% id="ex7-mistake-audit-recorded-rate" mistake={"why": "compares the recorded labels of the audit rows, whatever their verdict: the recorded rate again, on fewer rows"}
def find_bias(labeled, traffic, audit):
    labeled_share = labeled["customer_group"].astype(str).value_counts(normalize=True)
    traffic_share = traffic["customer_group"].astype(str).value_counts(normalize=True)
    ratio = labeled_share.reindex(traffic_share.index).fillna(0.0) / traffic_share
    recorded = audit.groupby(audit["customer_group"].astype(str))["label"].mean()
    return {"undersampled": str(ratio.idxmin()), "underreported": str(recorded.idxmin())}

# %% id="ex7-find-bias-tests" mlcourse={"stage": "dataset", "tier": 3} nbgrader={"grade": true, "grade_id": "ex7_find_bias_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_found = find_bias(labeled, tx, audit)
assert isinstance(_found, dict) and set(_found) == {"undersampled", "underreported"}, \
    f"expected a dict with the keys 'undersampled' and 'underreported', got {_found!r}"
assert _found["undersampled"] == "C", f"this world (section 3): expected group C as the under-sampled group, got {_found}"
assert _found["underreported"] == str(label_quality["report_rate"].idxmin()), \
    f"this world's audit (the table above): expected {label_quality['report_rate'].idxmin()!r} as the under-reported group, got {_found}"
# Hand-made: traffic 50% a, 30% b, 20% c; the labelled set 60% a, 30% b, 10% c: c has half its traffic share.
# Audited frauds: a 2 of 2 recorded, b 1 of 2, c 2 of 2: b's fraud is the one under-reported.
_traffic_hand = pd.DataFrame({"customer_group": list("aaaaabbbcc")})
_labeled_hand = pd.DataFrame({"customer_group": list("aaaaaabbbc"), "label": [1, 0, 0, 0, 0, 0, 1, 0, 0, 1]})
_audit_hand = pd.DataFrame({"customer_group": list("aaabbbccc"), "label": [1, 1, 0, 1, 0, 0, 1, 1, 0],
                            "audit_label": [1, 1, 0, 1, 1, 0, 1, 1, 0]})
_found_hand = find_bias(_labeled_hand, _traffic_hand, _audit_hand)
assert _found_hand == {"undersampled": "c", "underreported": "b"}, \
    f"hand-made platform: expected {{'undersampled': 'c', 'underreported': 'b'}}, got {_found_hand}"
# A group of the traffic that is never labelled (d, one transaction) is the most under-sampled of all.
_found_absent = find_bias(_labeled_hand.iloc[2:], pd.concat([_traffic_hand, pd.DataFrame({"customer_group": ["d"]})]),
                          _audit_hand)
assert _found_absent["undersampled"] == "d", \
    f"a traffic group with no labelled row: expected 'd' as the under-sampled group, got {_found_absent['undersampled']!r}"

# %% id="ex7-find-bias-hidden-tests" mlcourse={"stage": "dataset", "tier": 3} nbgrader={"grade": true, "grade_id": "ex7_find_bias_hidden_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test runs your check on a platform whose biases are not this world's.
_found_again = find_bias(labeled, tx, audit)
assert set(_found_again.values()) <= {"A", "B", "C"}, f"expected group names, got {_found_again}"
### BEGIN HIDDEN TESTS
_w_h = make_world(seed=41, n_transactions=100_000, n_customers=10_000, group_shares={"A": 0.6, "B": 0.25, "C": 0.15},
                  group_label_sampling={"A": 0.5}, chargeback_report_rate={"A": 0.92, "B": 0.5, "C": 0.92},
                  group_fraud_odds={"C": 0.3})
_lab_h = _w_h.labeled()
_aud_h = ds.stratified_sample(_lab_h, "customer_group", 1500, seed=3)
_aud_h = _aud_h.assign(audit_label=_aud_h["is_fraud"]).drop(columns=["is_fraud", "fraud_probability", "is_hard_negative"])
_got_h = find_bias(_lab_h.drop(columns=["is_fraud", "fraud_probability", "is_hard_negative"]), _w_h.transactions, _aud_h)
assert _got_h == {"undersampled": "A", "underreported": "B"}, \
    f"a platform where A (the largest group) is sampled half as often and C truly has less fraud: expected A and B, got {_got_h}"
### END HIDDEN TESTS

# %% id="ex7-find-bias-second-hidden-tests" mlcourse={"stage": "dataset", "tier": 3} nbgrader={"grade": true, "grade_id": "ex7_find_bias_second_hidden_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test runs your check on a second platform.
_found_third = find_bias(labeled, tx, audit)
assert isinstance(_found_third, dict) and "underreported" in _found_third, f"expected a dict with 'underreported', got {_found_third!r}"
### BEGIN HIDDEN TESTS
_w_h = make_world(seed=42, n_transactions=100_000, n_customers=10_000, group_shares={"A": 0.5, "B": 0.2, "C": 0.3},
                  group_label_sampling={"B": 0.4}, chargeback_report_rate={"A": 0.5, "B": 0.92, "C": 0.92},
                  group_fraud_odds={"B": 0.4})
_lab_h = _w_h.labeled()
_aud_h = ds.stratified_sample(_lab_h, "customer_group", 1500, seed=4)
_aud_h = _aud_h.assign(audit_label=_aud_h["is_fraud"]).drop(columns=["is_fraud", "fraud_probability", "is_hard_negative"])
_got_h = find_bias(_lab_h.drop(columns=["is_fraud", "fraud_probability", "is_hard_negative"]), _w_h.transactions, _aud_h)
assert _got_h == {"undersampled": "B", "underreported": "A"}, \
    f"a platform where B is sampled less and truly has less fraud, and A's fraud is under-reported: expected B and A, got {_got_h}"
### END HIDDEN TESTS

# %% [markdown] id="md-ex-traffic-rate"
# ### Noisy, stratified labels: what does an audit say about the traffic?
#
# The audit above used the simulator's ground truth as its verdict. A real audit is a team of analysts,
# and analysts err: on a payment they review twice, they disagree with themselves now and then, and a
# fraud team measures that error rate (the share of reviews whose verdict is wrong, in either direction)
# by reviewing a sample twice. An error rate of a few percent looks harmless; against a fraud rate of 2%, it
# is not. And the audit is **stratified**: as many reviews per group, whatever each group's share of the
# traffic, so that every group's rates are measured well. Both are good design; both mean that the raw
# share of "fraud" verdicts in the audit is not the fraud rate of anything.
#
# ### Exercise 8 (tier 4) — the traffic's fraud rate from a stratified, noisy audit
#
# Implement `traffic_fraud_rate(reviews, traffic_groups, review_error)`:
#
# * `reviews`: a frame with `customer_group` and `review_label` (the analyst's 0/1 verdict) for a
#   sample drawn **within** each group at random (the groups' sample sizes need not follow the traffic);
# * `traffic_groups`: an array-like with the group of every transaction of the traffic;
# * `review_error`: the analysts' error rate, the probability that a verdict is wrong, the same for a fraud
#   and for a legitimate payment, in $[0, 0.5)$;
# * return the estimated **true** fraud rate of the traffic, a float in $[0, 1]$. An estimate of a group's
#   rate that the noise would make negative (or above 1) is clipped to $[0, 1]$ before it is used.
# * Raise `ValueError` if `review_error` is not in $[0, 0.5)$ or if a group of the traffic has no review.
#
# NumPy and pandas only. The hidden tests draw audits from platforms with other group shares, fraud rates and
# analyst error rates, and compare your estimate with the true fraud rate of their traffic.

# %% id="ex8-traffic-fraud-rate" mlcourse={"stage": "dataset", "tier": 4, "forbid": ["mlcourse.dataset", "mlcourse.evaluation", "statsmodels"]} nbgrader={"grade": false, "grade_id": "ex8_traffic_fraud_rate", "locked": false, "schema_version": 3, "solution": true, "task": false}
def traffic_fraud_rate(reviews, traffic_groups, review_error):
    # The true fraud rate of the traffic, from noisy verdicts on a sample stratified by group.
    ### BEGIN SOLUTION
    if not 0.0 <= review_error < 0.5:
        raise ValueError(f"review_error must be in [0, 0.5), got {review_error}")
    share = pd.Series(np.asarray(traffic_groups).astype(str)).value_counts(normalize=True)
    observed = reviews.groupby(reviews["customer_group"].astype(str))["review_label"].mean()
    missing = sorted(set(share.index) - set(observed.index))
    if missing:
        raise ValueError(f"no review for the traffic group(s) {missing}")
    # A verdict of fraud comes from a fraud seen right or a legitimate payment seen wrong:
    # observed = p (1 - e) + (1 - p) e, so p = (observed - e) / (1 - 2 e).
    corrected = ((observed - review_error) / (1.0 - 2.0 * review_error)).clip(0.0, 1.0)
    return float((share * corrected.reindex(share.index)).sum())
    ### END SOLUTION

# %% id="ex8-mistake-plain-mean" mistake={"readable": "demo cells code-data-rates and code-audit: the share of fraud verdicts in the audit", "why": "the audit's plain share of fraud verdicts: neither the group mix of the traffic nor the analysts' errors are corrected"}
def traffic_fraud_rate(reviews, traffic_groups, review_error):
    if not 0.0 <= review_error < 0.5:
        raise ValueError("review_error must be in [0, 0.5)")
    share = pd.Series(np.asarray(traffic_groups).astype(str)).value_counts(normalize=True)
    if set(share.index) - set(reviews["customer_group"].astype(str)):
        raise ValueError("a traffic group has no review")
    return float(reviews["review_label"].mean())

# %% id="ex8-mistake-no-noise-correction" mistake={"why": "weights the groups by their traffic share but takes the analysts' verdicts at face value"}
def traffic_fraud_rate(reviews, traffic_groups, review_error):
    if not 0.0 <= review_error < 0.5:
        raise ValueError("review_error must be in [0, 0.5)")
    share = pd.Series(np.asarray(traffic_groups).astype(str)).value_counts(normalize=True)
    observed = reviews.groupby(reviews["customer_group"].astype(str))["review_label"].mean()
    if set(share.index) - set(observed.index):
        raise ValueError("a traffic group has no review")
    return float((share * observed.reindex(share.index)).sum())

# %% id="ex8-mistake-unweighted" mistake={"why": "corrects each group for the analysts' errors but averages the groups as if the traffic had the audit's mix"}
def traffic_fraud_rate(reviews, traffic_groups, review_error):
    if not 0.0 <= review_error < 0.5:
        raise ValueError("review_error must be in [0, 0.5)")
    share = pd.Series(np.asarray(traffic_groups).astype(str)).value_counts(normalize=True)
    observed = reviews.groupby(reviews["customer_group"].astype(str))["review_label"].mean()
    if set(share.index) - set(observed.index):
        raise ValueError("a traffic group has no review")
    corrected = ((observed - review_error) / (1.0 - 2.0 * review_error)).clip(0.0, 1.0)
    return float(corrected.mean())

# %% id="ex8-mistake-subtract-only" mistake={"why": "subtracts the false alarms (observed - e) but forgets that the analysts also miss a share e of the frauds"}
def traffic_fraud_rate(reviews, traffic_groups, review_error):
    if not 0.0 <= review_error < 0.5:
        raise ValueError("review_error must be in [0, 0.5)")
    share = pd.Series(np.asarray(traffic_groups).astype(str)).value_counts(normalize=True)
    observed = reviews.groupby(reviews["customer_group"].astype(str))["review_label"].mean()
    if set(share.index) - set(observed.index):
        raise ValueError("a traffic group has no review")
    corrected = (observed - review_error).clip(0.0, 1.0)
    return float((share * corrected.reindex(share.index)).sum())

# %% id="ex8-mistake-no-clip" mistake={"why": "does not clip: a group with fewer fraud verdicts than the error rate gets a negative fraud rate"}
def traffic_fraud_rate(reviews, traffic_groups, review_error):
    if not 0.0 <= review_error < 0.5:
        raise ValueError("review_error must be in [0, 0.5)")
    share = pd.Series(np.asarray(traffic_groups).astype(str)).value_counts(normalize=True)
    observed = reviews.groupby(reviews["customer_group"].astype(str))["review_label"].mean()
    if set(share.index) - set(observed.index):
        raise ValueError("a traffic group has no review")
    corrected = (observed - review_error) / (1.0 - 2.0 * review_error)
    return float((share * corrected.reindex(share.index)).sum())

# %% id="ex8-traffic-fraud-rate-tests" mlcourse={"stage": "dataset", "tier": 4} nbgrader={"grade": true, "grade_id": "ex8_traffic_fraud_rate_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Traffic: 3 of 4 transactions in group a, 1 in b. Reviews: 10 per group, 2 fraud verdicts in a, 6 in b.
_reviews_hand = pd.DataFrame({"customer_group": ["a"] * 10 + ["b"] * 10,
                              "review_label": [1, 1] + [0] * 8 + [1] * 6 + [0] * 4})
_traffic_hand = np.array(["a", "a", "a", "b"] * 25)
# Perfect analysts: 3/4 * 0.2 + 1/4 * 0.6 = 0.3 (the audit's own mix would say 0.4).
_rate0 = traffic_fraud_rate(_reviews_hand, _traffic_hand, 0.0)
assert np.isclose(float(_rate0), 0.3, atol=1e-12), f"error rate 0: expected 3/4 * 0.2 + 1/4 * 0.6 = 0.3, got {_rate0}"
# Analysts wrong 10% of the time: a: (0.2 - 0.1) / 0.8 = 0.125, b: (0.6 - 0.1) / 0.8 = 0.625;
# 3/4 * 0.125 + 1/4 * 0.625 = 0.25.
_rate1 = traffic_fraud_rate(_reviews_hand, _traffic_hand, 0.1)
assert np.isclose(float(_rate1), 0.25, atol=1e-12), f"error rate 0.1: expected 0.25, got {_rate1}"
# Error rate 0.25: a: (0.2 - 0.25) / 0.5 < 0, clipped to 0; b: (0.6 - 0.25) / 0.5 = 0.7; 1/4 * 0.7 = 0.175.
_rate2 = traffic_fraud_rate(_reviews_hand, _traffic_hand, 0.25)
assert np.isclose(float(_rate2), 0.175, atol=1e-12), f"error rate 0.25: expected 0 for a (clipped) and 0.7 for b: 0.175, got {_rate2}"
# Every verdict of the single group is fraud, at error rate 0.2: (1 - 0.2) / 0.6 = 1.33, clipped to 1.
_rate3 = traffic_fraud_rate(pd.DataFrame({"customer_group": ["a"] * 4, "review_label": [1, 1, 1, 1]}), np.array(["a"] * 8), 0.2)
assert np.isclose(float(_rate3), 1.0, atol=1e-12), f"all verdicts fraud at error rate 0.2: expected 1.33 clipped to 1.0, got {_rate3}"
for _bad_error in (-0.01, 0.5, 0.7):
    try:
        traffic_fraud_rate(_reviews_hand, _traffic_hand, _bad_error)
        _raised = False
    except ValueError:
        _raised = True
    assert _raised, f"expected ValueError for review_error {_bad_error}, but nothing was raised"
try:
    traffic_fraud_rate(_reviews_hand, np.array(["a", "b", "c"]), 0.0)
    _raised = False
except ValueError:
    _raised = True
assert _raised, "expected ValueError when a traffic group (c) has no review, but nothing was raised"

# %% id="ex8-traffic-fraud-rate-hidden-tests" mlcourse={"stage": "dataset", "tier": 4} nbgrader={"grade": true, "grade_id": "ex8_traffic_fraud_rate_hidden_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test compares your estimate with the rule on random audits.
_rate_here = float(traffic_fraud_rate(audit.assign(review_label=audit["audit_label"]), tx["customer_group"], 0.0))
assert 0.0 < _rate_here < 0.1, f"this world's audit, perfect analysts: expected a fraud rate of a few percent, got {_rate_here}"
### BEGIN HIDDEN TESTS
def _traffic_rate_ref_h(groups, verdicts, traffic, e):
    _g, _v, _t = np.asarray(groups).astype(str), np.asarray(verdicts, dtype=float), np.asarray(traffic).astype(str)
    _total = 0.0
    for _name in np.unique(_t):
        _p = (np.mean(_v[_g == _name]) - e) / (1 - 2 * e)
        _total += np.mean(_t == _name) * min(1.0, max(0.0, _p))
    return _total


_rng_h = np.random.default_rng(808)
for _case_h in range(6):
    _k_h = 2 + _case_h % 3
    _names_h = [f"g{_i}" for _i in range(_k_h)]
    _traffic_h = _rng_h.choice(_names_h, 2000, p=_rng_h.dirichlet(np.ones(_k_h)))
    _traffic_h[:_k_h] = _names_h                                    # every group in the traffic
    _sizes_h = _rng_h.integers(20, 200, _k_h)
    _groups_h = np.repeat(_names_h, _sizes_h)
    _verdicts_h = (_rng_h.random(len(_groups_h)) < _rng_h.uniform(0.0, 0.4, _k_h)[np.repeat(np.arange(_k_h), _sizes_h)]).astype(float)
    _e_h = [0.0, 0.03, 0.1, 0.2, 0.35, 0.45][_case_h]
    _reviews_h = pd.DataFrame({"customer_group": _groups_h, "review_label": _verdicts_h})
    _got_h = float(traffic_fraud_rate(_reviews_h, pd.Series(_traffic_h), _e_h))
    _exp_h = _traffic_rate_ref_h(_groups_h, _verdicts_h, _traffic_h, _e_h)
    assert np.isclose(_got_h, _exp_h, atol=1e-9), \
        f"random audit {_case_h} ({_k_h} groups, error rate {_e_h}): expected {_exp_h:.6f}, got {_got_h:.6f}"
### END HIDDEN TESTS

# %% id="ex8-traffic-fraud-rate-world-tests" mlcourse={"stage": "dataset", "tier": 4} nbgrader={"grade": true, "grade_id": "ex8_traffic_fraud_rate_world_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test audits a platform you have not seen with imperfect analysts and checks your
# estimate against its true fraud rate.
_rate_exact = float(traffic_fraud_rate(audit.assign(review_label=audit["audit_label"]), tx["customer_group"], 0.0))
_rate_noisy = float(traffic_fraud_rate(audit.assign(review_label=audit["audit_label"]), tx["customer_group"], 0.01))
assert 0.0 <= _rate_noisy < _rate_exact, \
    f"the same verdicts, assumed 1% wrong: expected a lower estimate than with perfect analysts ({_rate_exact:.4f}), got {_rate_noisy}"
### BEGIN HIDDEN TESTS
_w_h = make_world(seed=51, n_transactions=120_000, n_customers=12_000, group_fraud_odds={"C": 5.0}, labeled_fraction=0.5)
_tx_h = _w_h.transactions
_rng_h = np.random.default_rng(51)
_picked_h = _tx_h.groupby("customer_group", observed=True).sample(n=3000, random_state=51)
_wrong_h = _rng_h.random(len(_picked_h)) < 0.05                     # analysts wrong 5% of the time
_rev_h = pd.DataFrame({"customer_group": _picked_h["customer_group"],
                       "review_label": np.where(_wrong_h, 1 - _picked_h["is_fraud"], _picked_h["is_fraud"]).astype(float)})
_truth_h = float(_tx_h["is_fraud"].mean())
_got_h = float(traffic_fraud_rate(_rev_h, _tx_h["customer_group"], 0.05))
assert abs(_got_h - _truth_h) <= 0.008, \
    f"a platform where group C has five times the odds of fraud, analysts wrong 5% of the time: the traffic's fraud rate is {_truth_h:.4f}, your estimate {_got_h:.4f}"
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

# %% [markdown] id="md-ex-reweigh"
# ### Exercise 9 (tier 2) — reweighing weights
#
# Implement `reweigh(groups, y)` with NumPy or pandas (not `mlcourse.dataset`, not `fairlearn`): the
# Kamiran–Calders weight of every row, $w_i = \frac{P(g_i)\,P(y_i)}{P(g_i, y_i)}$, with each probability
# the share of the rows (`groups` and `y` are array-likes of equal length; `y` holds discrete labels).
# Return a float NumPy array of shape `(n,)`. Raise `ValueError` when the lengths differ.
#
# Weighted by these, every group has the overall label rate, and every group keeps its total weight (its
# row count).

# %% id="ex9-reweigh" mlcourse={"stage": "dataset", "tier": 2, "forbid": ["mlcourse.dataset", "fairlearn", "aif360"], "equivalent_mutants": {"7:8 statement drop raise": "pandas refuses to build the frame from arrays of different lengths, with a ValueError, on the next line"}} nbgrader={"grade": false, "grade_id": "ex9_reweigh", "locked": false, "schema_version": 3, "solution": true, "task": false}
def reweigh(groups, y):
    # Kamiran-Calders reweighing: w = P(g) P(y) / P(g, y), per row.
    ### BEGIN SOLUTION
    g = np.asarray(groups)
    labels = np.asarray(y)
    if len(g) != len(labels):
        raise ValueError(f"groups and y must have the same length, got {len(g)} and {len(labels)}")
    frame = pd.DataFrame({"g": g, "y": labels})
    p_g = frame["g"].map(frame["g"].value_counts(normalize=True))
    p_y = frame["y"].map(frame["y"].value_counts(normalize=True))
    p_gy = frame.groupby(["g", "y"])["g"].transform("size") / len(frame)
    return (p_g * p_y / p_gy).to_numpy()
    ### END SOLUTION

# %% id="ex9-mistake-inverted" mistake={"why": "the inverse weight P(g, y) / (P(g) P(y)): it strengthens the dependence instead of removing it"}
def reweigh(groups, y):
    g, labels = np.asarray(groups), np.asarray(y)
    if len(g) != len(labels):
        raise ValueError("lengths differ")
    frame = pd.DataFrame({"g": g, "y": labels})
    p_g = frame["g"].map(frame["g"].value_counts(normalize=True))
    p_y = frame["y"].map(frame["y"].value_counts(normalize=True))
    p_gy = frame.groupby(["g", "y"])["g"].transform("size") / len(frame)
    return (p_gy / (p_g * p_y)).to_numpy(dtype=float)

# %% id="ex9-mistake-conditional-on-group" mistake={"why": "uses P(y | g) for the joint P(g, y): the weights are off by the factor P(g)"}
def reweigh(groups, y):
    g, labels = np.asarray(groups), np.asarray(y)
    if len(g) != len(labels):
        raise ValueError("lengths differ")
    frame = pd.DataFrame({"g": g, "y": labels})
    p_g = frame["g"].map(frame["g"].value_counts(normalize=True))
    p_y = frame["y"].map(frame["y"].value_counts(normalize=True))
    p_y_given_g = frame.groupby(["g", "y"])["g"].transform("size") / frame.groupby("g")["g"].transform("size")
    return (p_g * p_y / p_y_given_g).to_numpy(dtype=float)

# %% id="ex9-mistake-normalised" mistake={"why": "rescales the weights to sum to 1: the groups no longer keep their row counts"}
def reweigh(groups, y):
    g, labels = np.asarray(groups), np.asarray(y)
    if len(g) != len(labels):
        raise ValueError("lengths differ")
    frame = pd.DataFrame({"g": g, "y": labels})
    p_g = frame["g"].map(frame["g"].value_counts(normalize=True))
    p_y = frame["y"].map(frame["y"].value_counts(normalize=True))
    p_gy = frame.groupby(["g", "y"])["g"].transform("size") / len(frame)
    w = (p_g * p_y / p_gy).to_numpy(dtype=float)
    return w / w.sum()

# %% id="ex9-reweigh-tests" mlcourse={"stage": "dataset", "tier": 2} nbgrader={"grade": true, "grade_id": "ex9_reweigh_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# groups [a, a, a, b], y [1, 0, 0, 0]: P(a) = 3/4, P(b) = 1/4, P(1) = 1/4, P(0) = 3/4.
# (a, 1): 3/4 * 1/4 / (1/4) = 0.75; (a, 0): 3/4 * 3/4 / (2/4) = 1.125; (b, 0): 1/4 * 3/4 / (1/4) = 0.75.
_w_hand = np.asarray(reweigh(["a", "a", "a", "b"], [1, 0, 0, 0]), dtype=float)
assert _w_hand.shape == (4,), f"expected 4 weights, got shape {_w_hand.shape}"
assert np.allclose(_w_hand, [0.75, 1.125, 1.125, 0.75], atol=1e-12), f"expected [0.75, 1.125, 1.125, 0.75], got {_w_hand.tolist()}"
# Independent already (each group half 1s): every weight is 1.
_w_flat = np.asarray(reweigh(["x", "x", "y", "y"], [1, 0, 1, 0]), dtype=float)
assert np.allclose(_w_flat, 1.0, atol=1e-12), f"a label already independent of the group: expected weights 1, got {_w_flat.tolist()}"
try:
    reweigh(["a", "b", "c"], [1, 0])
    _raised = False
except ValueError:
    _raised = True
assert _raised, "expected ValueError for groups and y of different lengths, but nothing was raised"

# %% id="ex9-reweigh-hidden-tests" mlcourse={"stage": "dataset", "tier": 2} nbgrader={"grade": true, "grade_id": "ex9_reweigh_hidden_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# The labelled set, reweighed: every group gets the overall recorded fraud rate and keeps its row count.
_w_lab = np.asarray(reweigh(labeled["customer_group"], labeled["label"].astype(int)), dtype=float)
_g_lab = labeled["customer_group"].astype(str).to_numpy()
_y_lab = labeled["label"].to_numpy()
for _grp in np.unique(_g_lab):
    _m = _g_lab == _grp
    _rate_w = float(np.sum(_w_lab[_m] * _y_lab[_m]) / np.sum(_w_lab[_m]))
    assert np.isclose(_rate_w, _y_lab.mean(), atol=1e-9), \
        f"group {_grp}: expected the weighted fraud rate to equal the overall rate {_y_lab.mean():.5f}, got {_rate_w:.5f}"
    assert np.isclose(np.sum(_w_lab[_m]), _m.sum(), rtol=1e-9), f"group {_grp}: expected its weights to sum to its row count"
### BEGIN HIDDEN TESTS
_rng_h = np.random.default_rng(909)
for _case_h in range(4):
    _n_h = 500
    _g_h = _rng_h.choice(["north", "south", "east", "west"][: 2 + _case_h % 3], _n_h)
    _y_h = _rng_h.integers(0, 2 + _case_h % 2, _n_h)                  # two or three label values
    _got_h = np.asarray(reweigh(pd.Series(_g_h), pd.Series(_y_h)), dtype=float)
    _exp_h = np.array([np.mean(_g_h == _a) * np.mean(_y_h == _b) / np.mean((_g_h == _a) & (_y_h == _b))
                       for _a, _b in zip(_g_h, _y_h)])
    assert np.allclose(_got_h, _exp_h, rtol=1e-9), f"random case {_case_h}: expected P(g) P(y) / P(g, y) for every row"
### END HIDDEN TESTS

# %% [markdown] id="md-proxies"
# ## 10. Why leaving the group out is not enough: proxies
#
# "Fairness through unawareness" removes the sensitive column and hopes the model cannot use what it cannot
# see. It can. In a real platform, where people live, which shops they use and which devices they own are
# not independent of their group: a postcode, a merchant region, a phone brand can each betray it. Such a
# column is a **proxy** of the group. A model trained on biased labels learns the bias through whatever
# carries the group: the sensitive column if it has it, the proxies if it does not. Removing the column only
# hides the bias from whoever reads the model's inputs.
#
# The simulator can build such a world: with `group_proxy_strength` (0 to 1) a share of each group's customers
# live in "their" group's region and lean to its devices. Two checks on the same kind of world, without and
# with proxies:
#
# 1. **Can the other features tell the group?** Train a model to predict whether a transaction comes from a
#    group-C customer *without* the group column. Its AUC is about 0.5 when nothing betrays the group and well
#    above it when proxies exist. This is the check to run before trusting unawareness: a proxy is found by
#    trying to predict the group, not by reading column names.
# 2. **What does the unaware model do?** Compare how much of each group's fraud a model catches, against the
#    truth, for the naive model, the unaware one and a model that only the simulator can train: one fitted on
#    the ground truth `is_fraud` (the bias-free reference).

# %% id="code-proxies"
PROXY_N = 30_000 if FAST else 120_000
proxy_rows = {}
proxy_caught = {}
for world_name, strength in [("no proxies", 0.0), ("proxies", 1.0)]:
    w_demo = make_world(seed=SEED, n_transactions=PROXY_N, n_customers=PROXY_N // 10, group_proxy_strength=strength,
                        group_shares={"A": 0.4, "B": 0.3, "C": 0.3}, group_label_sampling={})
    lab_demo, pool_demo = w_demo.labeled(), w_demo.unlabeled()
    is_c = (lab_demo["customer_group"] == "C").astype(int)
    fit_part, check_part = ds.group_split(lab_demo, "customer_id", test_size=0.3, seed=SEED)
    group_guess = make_model(no_group).fit(fit_part[no_group], (fit_part["customer_group"] == "C").astype(int))
    proxy_rows[world_name] = roc_auc_score(check_part["customer_group"] == "C",
                                           group_guess.predict_proba(check_part[no_group])[:, 1])
    p_true = pool_demo["fraud_probability"].to_numpy()
    g_demo = pool_demo["customer_group"].astype(str).to_numpy()
    demo_models = {
        "naive": (FEATURES, lab_demo["label"].astype(int)),
        "group left out": (no_group, lab_demo["label"].astype(int)),
        "trained on the truth": (FEATURES, lab_demo["is_fraud"]),
    }
    for model_name, (cols, target) in demo_models.items():
        flags = ds.flag_top(make_model(cols).fit(lab_demo[cols], target).predict_proba(pool_demo[cols])[:, 1], FLAG_RATE)
        for grp in ["A", "B", "C"]:
            in_g = g_demo == grp
            # expected share of the group's fraud caught: flags weighted by each row's true fraud probability
            proxy_caught[(world_name, model_name, grp)] = float(np.sum(flags[in_g] * p_true[in_g]) / np.sum(p_true[in_g]))
print({k: round(v, 3) for k, v in proxy_rows.items()}, "<- AUC of predicting 'group C' from the features without the group")
pd.Series(proxy_caught).unstack().round(3)

# %% [markdown] id="md-proxies-after"
# Without proxies, nothing but the group column tells the groups apart (an AUC near 0.5); with them, the
# other features predict group C far better than chance (about 0.9). Now compare, in each world, the share of
# group C's fraud caught by the model that left the group out with the share caught by the one trained on
# the truth. Without proxies, leaving the group out catches about as much as the truth allows; with proxies,
# group C falls short again, because the model learns the reporting bias through region and device. The
# shares move by a few points from one `SEED` to the next (group C has a few hundred frauds in these small
# worlds), so run the cell with other seeds before you trust one table. How much of the bias comes back
# depends on how strong the proxies are and on how much real signal the group carries; neither is visible
# in the list of columns.
#
# It gets worse when the groups' **true** fraud rates differ. Then the group carries real signal and
# under-reported labels both, and the two fixes of section 9 fail in opposite ways: leaving the group out
# discards the real signal while its proxies keep the reporting bias; reweighing forces every group to the
# same label rate, which is exactly wrong. A correction then has to separate the two, and only the audit can:
# it measures the truth, per group, next to what the labels record.
#
# ### Exercise 10 (tier 5) — a fraud model that is fair where proxies exist
#
# Implement `fit_fair_model(labeled, audit)`, which returns a **function** `score(frame)`:
#
# * `labeled`: the platform's labelled transactions (the columns of `labeled` above *without* the
#   ground-truth columns `GROUND_TRUTH`); train on its recorded `label`;
# * `audit`: an audit sample of those transactions, **the same number per customer group**, with the same
#   columns plus `audit_label`, the trusted 0/1 verdict;
# * `score(frame)` takes a frame with the columns of `labeled` (no ground truth, no `label`) and returns a
#   1-D NumPy array of `len(frame)` fraud scores, higher meaning riskier.
#
# How it is judged: the hidden tests build **fresh worlds with proxies** (`group_proxy_strength=1`), in
# which the groups' true fraud rates differ, one group's fraud is under-reported — which one, and by how
# much, you have to find out from the audit — and the labels' noise (legitimate payments recorded as fraud)
# may be higher than this world's. They call your function on the labelled set and a
# 3,000-per-group audit, score the unlabeled pool and flag the top 10% of scores. Against the ground truth,
# on every world:
#
# * for **every group**, the share of its fraud that your flags catch (weighted by the true fraud
#   probability, as in the table above) must be at least the share caught by `make_model(FEATURES)` trained
#   on the labelled set's **ground truth** `is_fraud`, **minus 0.08** (the naive, unaware and reweighed
#   models fall short by 0.1 or more for the under-reported group);
# * the **ROC-AUC** of your scores must be at least that reference model's AUC **minus 0.03**.
#
# You may call `make_model` and anything else in the notebook; `mlcourse.dataset`'s ready-made corrections
# (`reweighing`, `correct_label_rates`) and `fairlearn` are off limits. The visible test checks the interface
# and a minimum AUC on this notebook's world.

# %% id="ex10-fair-model" mlcourse={"stage": "dataset", "tier": 5, "forbid": ["mlcourse.dataset.reweighing", "mlcourse.dataset.correct_label_rates", "fairlearn", "aif360"]} nbgrader={"grade": false, "grade_id": "ex10_fair_model", "locked": false, "schema_version": 3, "solution": true, "task": false}
def fit_fair_model(labeled, audit):
    # Return score(frame) -> fraud scores that are fair to every customer group.
    ### BEGIN SOLUTION
    # The audit measures, per group, how a true fraud and a true legitimate payment end up in the labels:
    # reported = the share of true frauds recorded as 1, false = the share of legitimate ones recorded as 1.
    # A model trained on the records estimates q = false + (reported - false) p instead of the true p, so
    # keep the group (it may carry real signal; its proxies would carry the bias anyway) and invert per group.
    groups = audit["customer_group"].astype(str)
    reported = audit[audit["audit_label"] == 1].groupby(groups)["label"].mean()
    false = audit[audit["audit_label"] == 0].groupby(groups)["label"].mean()
    model = make_model(FEATURES).fit(labeled[FEATURES], labeled["label"].astype(int))

    def score(frame):
        q = model.predict_proba(frame[FEATURES])[:, 1]
        g = frame["customer_group"].astype(str)
        r = g.map(reported).to_numpy()
        f = g.map(false).to_numpy()
        return (q - f) / (r - f)          # an estimate of p, monotone in q within every group

    return score
    ### END SOLUTION

# %% id="ex10-mistake-unaware" mistake={"readable": "demo cells code-corrections and code-proxies: the model with the group left out", "why": "fairness through unawareness: the proxies carry the reporting bias back in, and the group's real signal is lost"}
def fit_fair_model(labeled, audit):
    columns = [c for c in FEATURES if c != "customer_group"]
    model = make_model(columns).fit(labeled[columns], labeled["label"].astype(int))

    def score(frame):
        return model.predict_proba(frame[columns])[:, 1]

    return score

# %% id="ex10-mistake-reweighing" mistake={"readable": "demo cell code-corrections: reweighing by P(g) P(y) / P(g, y), written out by hand", "why": "reweighing forces every group to the same label rate: wrong when the true rates differ"}
def fit_fair_model(labeled, audit):
    g = labeled["customer_group"].astype(str)
    y = labeled["label"].astype(int)
    frame = pd.DataFrame({"g": g.to_numpy(), "y": y.to_numpy()})
    p_g = frame["g"].map(frame["g"].value_counts(normalize=True))
    p_y = frame["y"].map(frame["y"].value_counts(normalize=True))
    p_gy = frame.groupby(["g", "y"])["g"].transform("size") / len(frame)
    weights = (p_g * p_y / p_gy).to_numpy()
    model = make_model(FEATURES).fit(labeled[FEATURES], y, logisticregression__sample_weight=weights)

    def score(frame):
        return model.predict_proba(frame[FEATURES])[:, 1]

    return score

# %% id="ex10-mistake-naive" mistake={"why": "no correction at all: the model trained on the recorded labels"}
def fit_fair_model(labeled, audit):
    model = make_model(FEATURES).fit(labeled[FEATURES], labeled["label"].astype(int))

    def score(frame):
        return model.predict_proba(frame[FEATURES])[:, 1]

    return score

# %% id="ex10-mistake-train-on-audit" mistake={"why": "trains on the audit's trusted verdicts alone: unbiased, but a few hundred frauds are too few for a good model"}
def fit_fair_model(labeled, audit):
    model = make_model(FEATURES).fit(audit[FEATURES], audit["audit_label"].astype(int))

    def score(frame):
        return model.predict_proba(frame[FEATURES])[:, 1]

    return score

# %% id="ex10-fair-model-tests" mlcourse={"stage": "dataset", "tier": 5} nbgrader={"grade": true, "grade_id": "ex10_fair_model_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
_score_fn = fit_fair_model(labeled.drop(columns=GROUND_TRUTH), audit.drop(columns=GROUND_TRUTH))
assert callable(_score_fn), f"expected fit_fair_model to return a function, got {type(_score_fn).__name__}"
_scores_pool = np.asarray(_score_fn(pool.drop(columns=GROUND_TRUTH + ["label"])), dtype=float)
assert _scores_pool.shape == (len(pool),), f"expected {len(pool)} scores, got shape {_scores_pool.shape}"
assert np.isfinite(_scores_pool).all(), "expected finite scores"
_auc_pool = roc_auc_score(pool["is_fraud"], _scores_pool)
assert _auc_pool > 0.75, f"expected an AUC above 0.75 against the ground truth on the pool, got {_auc_pool:.3f}"

# %% id="ex10-fair-model-hidden-tests" mlcourse={"stage": "dataset", "tier": 5} nbgrader={"grade": true, "grade_id": "ex10_fair_model_hidden_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test judges your model on a fresh world with proxies, against the ground truth.
_fn_check = fit_fair_model(labeled.drop(columns=GROUND_TRUTH).iloc[:20_000], audit.drop(columns=GROUND_TRUTH))
assert callable(_fn_check), "expected fit_fair_model to return a function"
### BEGIN HIDDEN TESTS
_TRUTH_H = ["is_fraud", "fraud_probability", "is_hard_negative"]


def _judge_fair_h(seed, **overrides):
    _w_h = make_world(seed=seed, n_transactions=120_000, n_customers=12_000, group_proxy_strength=1.0,
                      group_shares={"A": 0.4, "B": 0.3, "C": 0.3}, group_label_sampling={},
                      group_fraud_odds={"B": 2.0}, chargeback_report_rate={"A": 0.92, "B": 0.55, "C": 0.92}, **overrides)
    _lab_h, _pool_h = _w_h.labeled(), _w_h.unlabeled()
    _aud_h = _lab_h.groupby("customer_group", observed=True).sample(n=3000, random_state=seed)
    _aud_h = _aud_h.assign(audit_label=_aud_h["is_fraud"]).drop(columns=_TRUTH_H)
    _s_h = np.asarray(fit_fair_model(_lab_h.drop(columns=_TRUTH_H), _aud_h)(_pool_h.drop(columns=_TRUTH_H + ["label"])),
                      dtype=float)
    _cols_h = _w_h.feature_columns
    _ref_h = make_model(_cols_h).fit(_lab_h[_cols_h], _lab_h["is_fraud"]).predict_proba(_pool_h[_cols_h])[:, 1]
    _p_h = _pool_h["fraud_probability"].to_numpy()
    _g_h = _pool_h["customer_group"].astype(str).to_numpy()
    _auc_h, _auc_ref_h = roc_auc_score(_pool_h["is_fraud"], _s_h), roc_auc_score(_pool_h["is_fraud"], _ref_h)
    assert _auc_h >= _auc_ref_h - 0.03, \
        f"fresh world (seed {seed}): expected an AUC of at least {_auc_ref_h - 0.03:.3f} (reference minus 0.03), got {_auc_h:.3f}"
    _flags_h, _flags_ref_h = ds.flag_top(_s_h, 0.10), ds.flag_top(_ref_h, 0.10)
    for _grp_h in ["A", "B", "C"]:
        _m_h = _g_h == _grp_h
        _caught_h = np.sum(_flags_h[_m_h] * _p_h[_m_h]) / np.sum(_p_h[_m_h])
        _caught_ref_h = np.sum(_flags_ref_h[_m_h] * _p_h[_m_h]) / np.sum(_p_h[_m_h])
        assert _caught_h >= _caught_ref_h - 0.08, \
            (f"fresh world (seed {seed}), group {_grp_h}: your flags catch {_caught_h:.3f} of its fraud, the model "
             f"trained on the truth {_caught_ref_h:.3f}: expected at most 0.08 less")


_judge_fair_h(12)
### END HIDDEN TESTS

# %% id="ex10-fair-model-second-hidden-tests" mlcourse={"stage": "dataset", "tier": 5} nbgrader={"grade": true, "grade_id": "ex10_fair_model_second_hidden_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test judges your model on a second fresh world with proxies.
_fn_again = fit_fair_model(labeled.drop(columns=GROUND_TRUTH).iloc[:20_000], audit.drop(columns=GROUND_TRUTH))
assert callable(_fn_again), "expected fit_fair_model to return a function"
### BEGIN HIDDEN TESTS
_judge_fair_h(13, label_noise=0.03)
### END HIDDEN TESTS

# %% [markdown] id="md-validation"
# ## 11. Data validation: a contract that every batch must meet
#
# Everything above assumed that the data are what they claim to be. In production they are not, always: a
# deploy writes amounts in cents, a new merchant category appears, a join duplicates rows, a bug stamps
# labels before the payments they label, the labelling job silently stops recording fraud. None of these
# crashes anything; a model retrained on such a batch is simply worse, and nobody knows why. The defence is
# a **data contract** written down as code and checked on every batch before it is used, the data-quality
# tests that *Made With ML* teaches with Great Expectations. Here we use
# [pandera](https://pandera.readthedocs.io), which states a contract as a schema of a pandas DataFrame:
#
# * **schema checks**: the columns, their types, which may be missing (`nullable`), which must be unique;
# * **range checks**: the values a column may take (`pa.Check.in_range`, `pa.Check.isin`, `pa.Check.gt`, ...);
# * **cross-column checks**: rules that tie columns together, written as a function of the whole frame;
# * **behavioural checks** of the data set as a whole: statistics that a healthy batch has, such as a label
#   rate in a plausible band or a bounded share of missing values. A batch can pass every row-level check
#   and still be wrong as a whole.
#
# A schema fails **loudly**: `schema.validate(frame)` returns the frame when every check passes and raises
# `pa.errors.SchemaError` otherwise (`lazy=True` collects every failure first and raises
# `pa.errors.SchemaErrors`, with a table of the failing checks). Two kinds of error matter, and a contract
# must avoid both: rejecting a healthy batch (a false alarm; rules that are too tight stop the pipeline for
# nothing, and people learn to switch them off) and accepting a broken one.
#
# A small schema, for two columns and one property of the whole frame:

# %% id="code-validation"
VALIDATED = ["transaction_id", "day", "hour", "customer_id", "customer_group", "merchant_category",
             "merchant_region", "device", "amount", "distance_km", "account_age_days", "tx_count_24h",
             "is_foreign", "is_new_device", "label", "label_day"]
demo_schema = pa.DataFrameSchema(
    {
        "hour": pa.Column(int, pa.Check.in_range(0, 23)),
        "device": pa.Column("category", pa.Check.isin(["mobile", "desktop", "pos"]), nullable=True),
    },
    checks=[pa.Check(lambda frame: frame.isna().mean().max() <= 0.2, error="a column is more than 20% missing")],
)
demo_schema.validate(labeled[VALIDATED])          # a healthy batch: returned unchanged
broken = labeled[VALIDATED].head(2_000).copy()
broken.loc[broken.index[:3], "hour"] = 24          # an off-by-one in an upstream job: hours 1..24
broken.loc[broken.index[:1_000], "distance_km"] = np.nan
try:
    demo_schema.validate(broken, lazy=True)
except pa.errors.SchemaErrors as err:
    print(err.failure_cases[["column", "check", "failure_case"]].drop_duplicates("check").to_string(index=False))

# %% [markdown] id="md-ex-schema"
# ### Exercise 11 (tier 5) — the contract of the labelled transactions
#
# Write `transaction_schema()`, which returns a `pa.DataFrameSchema` for a frame of **labelled transactions**
# with the columns `VALIDATED` (as `labeled[VALIDATED]`). It must **accept** every healthy batch of the
# platform and **reject** every batch that breaks its contract. The platform guarantees, for every batch
# (of at least a few hundred rows):
#
# 1. the column types of `labeled[VALIDATED]`: integers, floats, booleans and categoricals as they are;
# 2. `transaction_id` is unique; ids, counts and ages are never negative; `day` is a day of the data window
#    (0 to 119) and `hour` an hour of the day;
# 3. `customer_group`, `merchant_category`, `merchant_region` and `device` take only the levels of this
#    notebook's data (`tx[column].cat.categories`); only `device`, `distance_km` and `account_age_days` may be
#    missing, and no column is missing on more than 20% of the rows (20% is still healthy);
# 4. `amount` is a positive number of euros (very large amounts do occur; they are not errors of the batch);
#    `distance_km` is not negative;
# 5. `label` is 0 or 1, and arrives (`label_day`) at least one day after its transaction;
# 6. `is_foreign` is true exactly when the merchant region is abroad (its name starts with `"abroad"`), and a
#    card terminal (`device == "pos"`) never sees a new device;
# 7. the recorded fraud rate of a batch lies between 0.5% and 10% (both included).
#
# The hidden tests feed your schema healthy batches of other worlds (all must pass) and batches that each
# break one guarantee in a way pipelines really break (each must be rejected). `validate` must either return
# the frame or raise pandera's `SchemaError` / `SchemaErrors`.

# %% id="ex11-schema" mlcourse={"stage": "dataset", "tier": 5, "forbid": [], "forbid_reason": "a design exercise: the contract is the answer, and no library call writes it; pandera is only the language it is written in", "equivalent_mutants": {"25:12 keyword drop error=": "the error text only names the failure in the report; it does not change what the schema accepts", "26:12 keyword drop error=": "the error text only names the failure in the report; it does not change what the schema accepts", "28:12 keyword drop error=": "the error text only names the failure in the report; it does not change what the schema accepts", "29:12 keyword drop error=": "the error text only names the failure in the report; it does not change what the schema accepts", "30:12 keyword drop error=": "the error text only names the failure in the report; it does not change what the schema accepts"}} nbgrader={"grade": false, "grade_id": "ex11_schema", "locked": false, "schema_version": 3, "solution": true, "task": false}
def transaction_schema():
    # Return a pa.DataFrameSchema for labelled transactions (the columns VALIDATED).
    ### BEGIN SOLUTION
    levels = {c: list(tx[c].cat.categories) for c in ["customer_group", "merchant_category", "merchant_region", "device"]}
    return pa.DataFrameSchema(
        {
            "transaction_id": pa.Column(int, pa.Check.ge(0), unique=True),
            "day": pa.Column(int, pa.Check.in_range(0, 119)),
            "hour": pa.Column(int, pa.Check.in_range(0, 23)),
            "customer_id": pa.Column(int, pa.Check.ge(0)),
            "customer_group": pa.Column("category", pa.Check.isin(levels["customer_group"])),
            "merchant_category": pa.Column("category", pa.Check.isin(levels["merchant_category"])),
            "merchant_region": pa.Column("category", pa.Check.isin(levels["merchant_region"])),
            "device": pa.Column("category", pa.Check.isin(levels["device"]), nullable=True),
            "amount": pa.Column(float, pa.Check.gt(0)),
            "distance_km": pa.Column(float, pa.Check.ge(0), nullable=True),
            "account_age_days": pa.Column(float, pa.Check.ge(0), nullable=True),
            "tx_count_24h": pa.Column(int, pa.Check.ge(0)),
            "is_foreign": pa.Column(bool),
            "is_new_device": pa.Column(bool),
            "label": pa.Column(float, pa.Check.isin([0.0, 1.0])),
            "label_day": pa.Column(float),
        },
        checks=[
            pa.Check(lambda f: f["label_day"] >= f["day"] + 1, error="a label arrives at least a day after its transaction"),
            pa.Check(lambda f: f["is_foreign"] == f["merchant_region"].astype(str).str.startswith("abroad"),
                     error="is_foreign says whether the merchant is abroad"),
            pa.Check(lambda f: ~(f["is_new_device"] & (f["device"] == "pos")), error="no new device at a card terminal"),
            pa.Check(lambda f: 0.005 <= f["label"].mean() <= 0.1, error="a recorded fraud rate between 0.5% and 10%"),
            pa.Check(lambda f: f.isna().mean().max() <= 0.2, error="no column missing on more than 20% of the rows"),
        ],
    )
    ### END SOLUTION

# %% id="ex11-mistake-demo-schema" mistake={"readable": "demo cell code-validation: the schema of hour, device and the missing share", "why": "the demo's schema: two columns and one batch property, the rest of the contract unchecked"}
def transaction_schema():
    return pa.DataFrameSchema(
        {
            "hour": pa.Column(int, pa.Check.in_range(0, 23)),
            "device": pa.Column("category", pa.Check.isin(["mobile", "desktop", "pos"]), nullable=True),
        },
        checks=[pa.Check(lambda frame: frame.isna().mean().max() <= 0.2)],
    )

# %% id="ex11-mistake-rows-only" mistake={"why": "checks every column's type and range, but nothing that ties columns together and nothing about the batch as a whole"}
def transaction_schema():
    levels = {c: list(tx[c].cat.categories) for c in ["customer_group", "merchant_category", "merchant_region", "device"]}
    return pa.DataFrameSchema({
        "transaction_id": pa.Column(int, pa.Check.ge(0), unique=True),
        "day": pa.Column(int, pa.Check.in_range(0, 119)),
        "hour": pa.Column(int, pa.Check.in_range(0, 23)),
        "customer_id": pa.Column(int, pa.Check.ge(0)),
        "customer_group": pa.Column("category", pa.Check.isin(levels["customer_group"])),
        "merchant_category": pa.Column("category", pa.Check.isin(levels["merchant_category"])),
        "merchant_region": pa.Column("category", pa.Check.isin(levels["merchant_region"])),
        "device": pa.Column("category", pa.Check.isin(levels["device"]), nullable=True),
        "amount": pa.Column(float, pa.Check.gt(0)),
        "distance_km": pa.Column(float, pa.Check.ge(0), nullable=True),
        "account_age_days": pa.Column(float, pa.Check.ge(0), nullable=True),
        "tx_count_24h": pa.Column(int, pa.Check.ge(0)),
        "is_foreign": pa.Column(bool),
        "is_new_device": pa.Column(bool),
        "label": pa.Column(float, pa.Check.isin([0.0, 1.0])),
        "label_day": pa.Column(float),
    })

# %% id="ex11-mistake-device-required" mistake={"why": "a contract too tight: device may not be missing, so every healthy batch is rejected"}
def transaction_schema():
    levels = {c: list(tx[c].cat.categories) for c in ["customer_group", "merchant_category", "merchant_region", "device"]}
    return pa.DataFrameSchema(
        {
            "transaction_id": pa.Column(int, pa.Check.ge(0), unique=True),
            "day": pa.Column(int, pa.Check.in_range(0, 119)),
            "hour": pa.Column(int, pa.Check.in_range(0, 23)),
            "customer_id": pa.Column(int, pa.Check.ge(0)),
            "customer_group": pa.Column("category", pa.Check.isin(levels["customer_group"])),
            "merchant_category": pa.Column("category", pa.Check.isin(levels["merchant_category"])),
            "merchant_region": pa.Column("category", pa.Check.isin(levels["merchant_region"])),
            "device": pa.Column("category", pa.Check.isin(levels["device"])),
            "amount": pa.Column(float, pa.Check.gt(0)),
            "distance_km": pa.Column(float, pa.Check.ge(0), nullable=True),
            "account_age_days": pa.Column(float, pa.Check.ge(0), nullable=True),
            "tx_count_24h": pa.Column(int, pa.Check.ge(0)),
            "is_foreign": pa.Column(bool),
            "is_new_device": pa.Column(bool),
            "label": pa.Column(float, pa.Check.isin([0.0, 1.0])),
            "label_day": pa.Column(float),
        },
        checks=[
            pa.Check(lambda f: f["label_day"] >= f["day"] + 1),
            pa.Check(lambda f: f["is_foreign"] == f["merchant_region"].astype(str).str.startswith("abroad")),
            pa.Check(lambda f: ~(f["is_new_device"] & (f["device"] == "pos"))),
            pa.Check(lambda f: 0.005 <= f["label"].mean() <= 0.1),
            pa.Check(lambda f: f.isna().mean().max() <= 0.2),
        ],
    )

# %% id="ex11-schema-tests" mlcourse={"stage": "dataset", "tier": 5} nbgrader={"grade": true, "grade_id": "ex11_schema_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
_schema = transaction_schema()
assert isinstance(_schema, pa.DataFrameSchema), f"expected a pandera DataFrameSchema, got {type(_schema).__name__}"
_healthy = labeled[VALIDATED]
try:
    _schema.validate(_healthy, lazy=True)
    _accepted = True
except (pa.errors.SchemaError, pa.errors.SchemaErrors) as _err:
    _accepted, _why = False, str(_err)[:300]
assert _accepted, f"expected this notebook's labelled transactions to pass the schema, but it rejected them: {_why}"
_negative = _healthy.head(2_000).copy()
_negative.loc[_negative.index[:3], "amount"] = -12.5             # a refund written as a payment
try:
    _schema.validate(_negative, lazy=True)
    _caught = False
except (pa.errors.SchemaError, pa.errors.SchemaErrors):
    _caught = True
assert _caught, "expected a batch with negative amounts to be rejected, but the schema accepted it"
_early = _healthy.head(2_000).copy()
_early.loc[_early.index[:3], "label_day"] = _early.loc[_early.index[:3], "day"] - 2.0   # labels stamped before their payments
try:
    _schema.validate(_early, lazy=True)
    _caught = False
except (pa.errors.SchemaError, pa.errors.SchemaErrors):
    _caught = True
assert _caught, "expected a batch whose labels arrive before their transactions to be rejected, but the schema accepted it"

# %% id="ex11-schema-hidden-tests" mlcourse={"stage": "dataset", "tier": 5} nbgrader={"grade": true, "grade_id": "ex11_schema_hidden_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test feeds the schema healthy batches of other worlds and batches with broken values.
assert isinstance(transaction_schema(), pa.DataFrameSchema), "expected a pandera DataFrameSchema"
### BEGIN HIDDEN TESTS
def _accepts_h(schema, frame):
    try:
        schema.validate(frame, lazy=True)
        return True
    except (pa.errors.SchemaError, pa.errors.SchemaErrors):
        return False


def _set_h(frame, column, value, rows=3, new_level=False):
    _f = frame.copy()
    if new_level:
        _f[column] = _f[column].cat.add_categories([value])
    _f.loc[_f.index[:rows], column] = value
    return _f


_schema_h = transaction_schema()
_clean_h = []
for _seed_h in (2031, 2032):
    _lab_h = make_world(seed=_seed_h, n_transactions=20_000, n_customers=2_000).labeled()[VALIDATED]
    _clean_h.append(_lab_h)
    _clean_h.append(_lab_h.sample(n=600, random_state=_seed_h))
_edge_h = _clean_h[0].copy()
_edge_h.loc[_edge_h.index[0], "label_day"] = _edge_h.loc[_edge_h.index[0], "day"] + 1.0   # a chargeback the next day
_edge_h.loc[_edge_h.index[1], "amount"] = 250_000.0                                      # an extreme, real amount
_edge_h.loc[_edge_h.index[2], "customer_id"] = 0                                          # the first customer
_edge_h.loc[_edge_h.index[3], "account_age_days"] = 0.0                                   # an account opened today
_edge_h.loc[_edge_h.index[4], "transaction_id"] = 0                                       # the first transaction
_clean_h.append(_edge_h)
_thousand_h = _clean_h[0].head(1_000)
for _n_fraud_h in (5, 100):                                    # recorded fraud rates of exactly 0.5% and 10%
    _clean_h.append(_thousand_h.assign(label=np.where(np.arange(1_000) < _n_fraud_h, 1.0, 0.0)))
_dev_h = _thousand_h["device"].copy()
_dev_h[:] = "desktop"
_dev_h.iloc[:200] = np.nan                                     # device missing on exactly 20% of the rows
_clean_h.append(_thousand_h.assign(device=_dev_h, is_new_device=False))
for _i_h, _frame_h in enumerate(_clean_h):
    assert _accepts_h(_schema_h, _frame_h), f"healthy batch {_i_h} of another world ({len(_frame_h)} rows): expected it to pass"
_base_h = _clean_h[0].head(3_000)
_broken_h = {
    "amount 0": _set_h(_base_h, "amount", 0.0),
    "missing amounts": _set_h(_base_h, "amount", np.nan),
    "hour 24": _set_h(_base_h, "hour", 24),
    "hour -1": _set_h(_base_h, "hour", -1),
    "day 120": _set_h(_base_h, "day", 120).assign(label_day=lambda f: np.maximum(f["label_day"], 130.0)),
    "day -1": _set_h(_base_h, "day", -1),
    "a customer group D": _set_h(_base_h, "customer_group", "D", new_level=True),
    "a merchant category 'casino'": _set_h(_base_h, "merchant_category", "casino", new_level=True),
    "a region 'mars'": _set_h(_base_h, "merchant_region", "mars", new_level=True),
    "a device 'tablet'": _set_h(_base_h, "device", "tablet", new_level=True),
    "label 2": _set_h(_base_h, "label", 2.0),
    "missing labels": _set_h(_base_h, "label", np.nan),
    "missing label days": _set_h(_base_h, "label_day", np.nan),
    "a negative 24-hour count": _set_h(_base_h, "tx_count_24h", -1),
    "a negative distance": _set_h(_base_h, "distance_km", -3.0),
    "a negative account age": _set_h(_base_h, "account_age_days", -1.0),
    "a negative customer id": _set_h(_base_h, "customer_id", -7),
    "a negative transaction id": _set_h(_base_h, "transaction_id", -4),
    "a missing customer group": _set_h(_base_h, "customer_group", np.nan),
    "a missing merchant region": _set_h(_base_h, "merchant_region", np.nan),
    "a missing merchant category": _set_h(_base_h, "merchant_category", np.nan),
    "duplicated transactions": pd.concat([_base_h, _base_h.head(5)]),
    "amounts as text": _base_h.assign(amount=_base_h["amount"].astype(str)),
    "hours as floats": _base_h.assign(hour=_base_h["hour"].astype(float)),
    "flags as 0/1 integers": _base_h.assign(is_foreign=_base_h["is_foreign"].astype(int)),
    "a new-device flag as integers": _base_h.assign(is_new_device=_base_h["is_new_device"].astype(int)),
    "day as float": _base_h.assign(day=_base_h["day"].astype(float)),
    "customer ids as floats": _base_h.assign(customer_id=_base_h["customer_id"].astype(float)),
    "transaction ids as floats": _base_h.assign(transaction_id=_base_h["transaction_id"].astype(float)),
    "counts as floats": _base_h.assign(tx_count_24h=_base_h["tx_count_24h"].astype(float)),
    "groups as plain strings": _base_h.assign(customer_group=_base_h["customer_group"].astype(str)),
    "categories as plain strings": _base_h.assign(merchant_category=_base_h["merchant_category"].astype(str)),
    "regions as plain strings": _base_h.assign(merchant_region=_base_h["merchant_region"].astype(str)),
    "devices as plain strings": _base_h.assign(device=_base_h["device"].astype(object)),
    "label days as text": _base_h.assign(label_day=_base_h["label_day"].astype(str)),
    "labels as text": _base_h.assign(label=_base_h["label"].astype(str)),
    "distances as text": _base_h.assign(distance_km=_base_h["distance_km"].astype(str)),
    "ages as text": _base_h.assign(account_age_days=_base_h["account_age_days"].astype(str)),
}
for _name_h, _frame_h in _broken_h.items():
    assert not _accepts_h(_schema_h, _frame_h), f"expected a batch with {_name_h} to be rejected, but the schema accepted it"
### END HIDDEN TESTS

# %% id="ex11-schema-behaviour-tests" mlcourse={"stage": "dataset", "tier": 5} nbgrader={"grade": true, "grade_id": "ex11_schema_behaviour_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test feeds the schema batches that break rules tying columns together, or the
# batch's own statistics.
assert isinstance(transaction_schema(), pa.DataFrameSchema), "expected a pandera DataFrameSchema"
### BEGIN HIDDEN TESTS
_schema_h = transaction_schema()
_lab_h = make_world(seed=2033, n_transactions=20_000, n_customers=2_000).labeled()[VALIDATED]
assert _accepts_h(_schema_h, _lab_h), "a healthy batch of another world: expected it to pass"
_base_h = _lab_h.head(3_000)
_abroad_h = _base_h.index[_base_h["merchant_region"].astype(str).str.startswith("abroad").to_numpy()][:3]
_home_h = _base_h.index[~_base_h["merchant_region"].astype(str).str.startswith("abroad").to_numpy()][:3]
_pos_h = _base_h.index[(_base_h["device"] == "pos").to_numpy()][:3]
_legit_h = _base_h.index[(_base_h["label"] == 0).to_numpy()]
_broken_h = {
    "labels on the day of their payment": _base_h.assign(label_day=_base_h["day"].astype(float)),
    "a label two days before its payment": _base_h.assign(
        label_day=np.where(np.arange(len(_base_h)) == 0, _base_h["day"] - 2.0, _base_h["label_day"])),
    "foreign flags lost for merchants abroad": _base_h.assign(is_foreign=~_base_h.index.isin(_abroad_h) & _base_h["is_foreign"]),
    "home merchants flagged foreign": _base_h.assign(is_foreign=_base_h.index.isin(_home_h) | _base_h["is_foreign"]),
    "new devices at card terminals": _base_h.assign(is_new_device=_base_h.index.isin(_pos_h) | _base_h["is_new_device"]),
    "a fraud rate of 30%": _base_h.assign(label=np.where(np.arange(len(_base_h)) % 10 < 3, 1.0, _base_h["label"])),
    "a fraud rate of 12%": _base_h.assign(label=np.where(np.arange(len(_base_h)) % 25 < 3, 1.0, _base_h["label"])),
    "no fraud recorded at all": _base_h.assign(label=0.0),
    "a fraud rate of 0.3%": _base_h.assign(label=np.where(np.arange(len(_base_h)) < 9, 1.0, 0.0)),
    "devices 40% missing": _set_h(_base_h, "device", np.nan, rows=1_200),
    "distances 25% missing": _set_h(_base_h, "distance_km", np.nan, rows=750),
}
for _name_h, _frame_h in _broken_h.items():
    assert not _accepts_h(_schema_h, _frame_h), f"expected a batch with {_name_h} to be rejected, but the schema accepted it"
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
# * **Choosing what to label (active learning).** Exploitation and uncertainty sampling look where the model
#   already looks; diversity sends labels to parts of the pool the model has never seen, where a rare fraud
#   pocket hides. Start cold with a batch chosen without a model, and judge a strategy only against random
#   labeling on the same budget, on randomly drawn test data, over several draws.
# * **Implicit bias** enters through sampling, measurement and labelling. Labels cannot reveal a bias in
#   the labels: fairness audits need ground truth — an audit sample — and the fairness gaps (demographic
#   parity, equal opportunity, equalized odds) must be computed against it.
# * **Delayed labels are censored.** The labels known today under-represent long delays; estimate the delay
#   from what each transaction could have shown so far, then choose the gap.
# * **Noisy, stratified labels.** An audit's raw share of fraud verdicts describes neither the traffic (its
#   group mix is the audit's) nor the truth (analysts err); reweight by the traffic's shares and invert the
#   error rate.
# * **Corrections** (reweighing, leaving a signal-free group out, label-rate correction) each rest on an
#   assumption the audit must support, and each must be judged on fresh data against the truth.
#   **Unawareness fails when proxies exist**: find proxies by predicting the group from the other features.
# * **Validate every batch** against a written contract: types, ranges, cross-column rules and the batch's
#   own statistics. A contract must accept every healthy batch and reject broken ones, silently broken ones
#   above all.
#
# ## Going further
#
# * Snorkel's *label model* learns LF accuracies and correlations without gold labels
#   (Ratner et al., 2017, *Snorkel: rapid training data creation with weak supervision*).
# * Active learning: Settles (2009), *Active learning literature survey*; Dasgupta & Hsu (2008),
#   *Hierarchical sampling for active learning* (sampling bias, and diversity by clusters); the `modAL` library.
# * Positive-unlabelled learning: training when "not reported" is not "negative"
#   (Elkan & Noto, 2008, *Learning classifiers from only positive and unlabeled data*).
# * Fairness definitions and their incompatibility: Hardt, Price & Srebro (2016), *Equality of opportunity
#   in supervised learning*; Chouldechova (2017); Kleinberg, Mullainathan & Raghavan (2016). Post-processing
#   with group-specific thresholds, and the `fairlearn` library's `ThresholdOptimizer`.
# * Kamiran & Calders (2012), *Data preprocessing techniques for classification without discrimination*.
# * Data documentation: Gebru et al., *Datasheets for datasets*; Mitchell et al., *Model cards*.
# * Data validation: pandera's documentation; Breck et al. (2019), *Data validation for machine learning*
#   (TFX); Great Expectations, as used in *Made With ML*.
# * Right-truncated delays: Lynden-Bell (1971); Lagakos, Barraj & De Gruttola (1988), *Nonparametric analysis
#   of truncated survival data*.
# * Delayed labels and drift in production: stages 8 (monitoring) and 9 (the feedback pipeline) of this course.
