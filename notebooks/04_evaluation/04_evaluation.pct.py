# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
#   language_info:
#     name: python
# ---

# %% [markdown] id="md-4bbb0252"
# # Stage 4 — Evaluation measures: assessing your model
#
# > *"Depending on the problem, we could use measures like accuracy, precision, recall, or the F1 score
# > for classification problems, or mean squared error, mean absolute error, or R-squared for regression
# > problems. These evaluation measures each have their strengths and limitations, and they assess both
# > extrinsic and intrinsic properties of the model. For instance, accuracy might be a good measure when
# > the classes are balanced, but it would be misleading for imbalanced datasets."*
# > — the ML engineer roadmap, stage 4
#
# A model is only as useful as our ability to say **how good it is, for what, and how sure we are**.
# In this notebook you evaluate the fraud model of our payments platform: a model that gives every
# transaction a score in $[0, 1]$, where about 2% of transactions are fraud.
#
# **Learning objectives.** After this notebook you can
#
# 1. explain why accuracy misleads on imbalanced data and compute a majority-class baseline;
# 2. read a confusion matrix and derive precision, recall, F1 and $F_\beta$ from it, including the edge cases;
# 3. compute and compare MSE, MAE and $R^2$ for regression, and say how outliers affect each;
# 4. compute ROC-AUC from ranks, explain why PR-AUC is more informative under heavy imbalance, and say
#    what a change of prevalence does to each;
# 5. separate *intrinsic* properties of a model (ranking, calibration) from *extrinsic* ones (value of its decisions);
# 6. choose a decision threshold for a goal (recall, precision, business cost) on validation data, for
#    the traffic it will meet in production;
# 7. attach a bootstrap confidence interval to any metric, and compare two models on the same data;
# 8. say what precision an analyst team will see in a review queue of fixed size, and how much it varies;
# 9. find the slices of the data where the model really fails, not just by chance.
#
# **Estimated time:** about 4 hours (≈ 1 h reading and running the demos, ≈ 3 h exercises).
#
# **Prerequisites:** stages 1–3 of the course (the data world, features, a first model); NumPy
# indexing and broadcasting, pandas `groupby`; Python functions. No calculus is needed.
#
# ### How this notebook is graded
#
# Exercises are autograded with nbgrader. Each one belongs to a *tier*; tier $t$ exercises demonstrate
# rubric level $t$ for this stage. Your level for the stage is the highest tier $t$ whose tiers $1..t$
# you have all **mastered**. A tier is mastered when you earn at least 70% of its points, or miss only
# one of its graded cells when it has four or more, and never with half its cells failed. Each exercise
# is checked by several graded cells (the main case, the edge cases, data you have not seen), so one
# slip costs a share of an exercise, not all of it. Many tests are hidden: from tier 3 on, they check
# your code on conditions you have not seen — another prevalence, other costs, fresh transactions —
# exactly as production would.
#
# | tier | rubric level | what it shows | exercises |
# |---|---|---|---|
# | 1 | awareness | you can compute and read the basic counts and baselines | 1, 2a, 2 |
# | 2 | basic understanding | you can implement the standard metrics and their edge cases | 3, 4, 5 |
# | 3 | proficiency (Junior) | you use ranking measures and choose thresholds for the traffic a model will meet | 6, 7 |
# | 4 | advanced (Senior) | you quantify uncertainty: comparing models, review queues, failing slices | 8, 9, 10 |
# | 5 | expert (Staff) | you make decisions whose business cost holds up on new data | 11, 12 |

# %% [markdown] id="md-6a63f68f"
# ## Parameters
#
# The next cell is tagged `parameters` so that [papermill](https://papermill.readthedocs.io) can
# override it. `SEED` fixes all randomness. `FAST` only trims the demonstrations (fewer bootstrap
# resamples); the graded tests never depend on it.

# %% id="parameters" tags=["parameters"]
# Papermill parameters. FAST keeps CI runs short (it trims demos only, never tests).
SEED = 0
FAST = False

# %% id="setup"
import warnings

import numpy as np
import pandas as pd
import matplotlib.pyplot as plt

# Warnings are noise in a first run (the grader lets assertions decide, not stderr), so we silence
# library warnings (undefined-metric warnings, deprecations, ...) once, here.
warnings.filterwarnings("ignore")

from mlcourse import evaluation as ev
from mlcourse.examples import make_scored_transactions, make_regression_example

N_BOOT = 200 if FAST else 1000   # bootstrap resamples used in the demos

tx = make_scored_transactions(seed=SEED)   # 20,000 scored transactions
y = tx["is_fraud"].to_numpy()              # ground truth: 1 = fraud
s = tx["score"].to_numpy()                 # the model's score in [0, 1]
tx.head()

# %% [markdown] id="md-f60db694"
# ## 1. The data: a fraud model's scores
#
# Each row of `tx` is one card transaction: who made it (`customer_group`), where
# (`merchant_category`), how much (`amount`), whether it later turned out to be fraud (`is_fraud`,
# known from chargebacks) and the `score` our model gave it *before* the truth was known. The scores
# come from an imperfect model, so we can evaluate it as you would in practice: compare what it said
# with what happened.
#
# Everything below treats fraud as the **positive class** (label 1).

# %% id="code-c99cb94d"
print(f"transactions: {len(tx):,}   fraud: {y.sum():,}   prevalence: {y.mean():.2%}")
tx.groupby("customer_group").agg(n=("is_fraud", "size"),
                                 fraud_rate=("is_fraud", "mean"),
                                 mean_score=("score", "mean"))

# %% [markdown] id="md-53530b0c"
# ## 2. Why accuracy misleads on imbalanced data
#
# **Accuracy** is the fraction of predictions that are correct:
# $\text{accuracy} = \frac{\#\{i : \hat y_i = y_i\}}{n}.$
#
# It treats every error as equally bad and every class as equally frequent. When only 2% of
# transactions are fraud, a "model" that says *never fraud* is right 98% of the time — and catches
# nothing. That trivial rule is the **majority-class baseline**: any model worth deploying must beat it
# on a metric that matters, and accuracy is not that metric here.
#
# To turn scores into decisions we need a **threshold** $t$: predict fraud when $\text{score} \ge t$.
# Below we use $t = 0.5$ for now; section 8 chooses it properly.

# %% id="code-cfe367dc"
y_hat = (s >= 0.5).astype(int)          # the model's decisions at threshold 0.5
always_legit = np.zeros_like(y)         # the majority-class "model"

pd.DataFrame({
    "accuracy": [ev.accuracy(y, always_legit), ev.accuracy(y, y_hat)],
    "recall (fraud caught)": [ev.recall(y, always_legit), ev.recall(y, y_hat)],
}, index=["always 'not fraud'", "model @ 0.5"]).round(4)

# %% [markdown] id="md-adc0acbb"
# The two accuracies are almost the same, yet one rule is useless and the other catches a large share
# of the fraud. Accuracy is a fine summary when the classes are roughly **balanced** and errors cost
# about the same; with imbalance, always report the baseline next to it and prefer metrics that look
# at the positive class.
#
# ### Exercise 1 (tier 1) — the majority baseline
#
# Implement `majority_baseline(y_true)` with NumPy. `y_true` is a 1-D array of 0/1 labels (1 = fraud).
# The majority baseline predicts the **most frequent label of `y_true`** for every row; when the two
# labels are equally frequent it predicts 0. Return the tuple `(accuracy, recall)` of that baseline on
# `y_true`, as floats, where recall is the share of the 1s it predicts as 1 (0.0 when `y_true` has no
# 1 at all).
#
# On our fraud data the majority is "not fraud", but not every data set is imbalanced that way: the
# hidden tests use others.

# %% id="ex1-baseline" mlcourse={"forbid": ["sklearn.dummy", "sklearn.metrics", "mlcourse.evaluation"], "stage": "evaluation", "tier": 1} nbgrader={"grade": false, "grade_id": "ex1_baseline", "locked": false, "schema_version": 3, "solution": true, "task": false}
def majority_baseline(y_true):
    """(accuracy, recall) of predicting the most frequent label (0 on a tie) for every row."""
    ### BEGIN SOLUTION
    y_true = np.asarray(y_true).astype(int)
    n_pos = int(y_true.sum())
    majority = 1 if n_pos > y_true.size - n_pos else 0
    accuracy = float(np.mean(y_true == majority))
    recall = float(majority == 1)       # all frauds caught, or none (and none when there is no fraud)
    return accuracy, recall
    ### END SOLUTION

# %% id="ex1-mistake-always-zero" mistake={"why": "predicts 0 whatever the majority is: the fraud data's answer typed in as a rule"}
def majority_baseline(y_true):
    y_true = np.asarray(y_true).astype(int)
    return float(np.mean(y_true == 0)), 0.0

# %% id="ex1-mistake-share-of-positives" mistake={"why": "reports the share of 1s as the accuracy, whichever label is the majority"}
def majority_baseline(y_true):
    y_true = np.asarray(y_true).astype(int)
    majority = 1 if y_true.mean() > 0.5 else 0
    return float(np.mean(y_true)), float(majority == 1)

# %% id="ex1-mistake-tie-to-fraud" mistake={"why": "breaks a tie towards 1 instead of 0"}
def majority_baseline(y_true):
    y_true = np.asarray(y_true).astype(int)
    majority = 1 if y_true.mean() >= 0.5 else 0
    return float(np.mean(y_true == majority)), float(majority == 1) if y_true.sum() > 0 else 0.0

# %% id="ex1-baseline-tests" mlcourse={"stage": "evaluation", "tier": 1} nbgrader={"grade": true, "grade_id": "ex1_baseline_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# [0, 0, 0, 1]: the majority is 0; predicting 0 is right on 3 of 4 rows and catches 0 of the 1 fraud.
_acc, _rec = majority_baseline(np.array([0, 0, 0, 1]))
assert np.isclose(float(_acc), 0.75) and np.isclose(float(_rec), 0.0), \
    f"[0, 0, 0, 1]: expected (accuracy, recall) = (0.75, 0.0), got ({_acc}, {_rec})"
# [1, 1, 0, 1, 1]: the majority is 1; predicting 1 is right on 4 of 5 rows and catches all 4 frauds.
_acc, _rec = majority_baseline(np.array([1, 1, 0, 1, 1]))
assert np.isclose(float(_acc), 0.8) and np.isclose(float(_rec), 1.0), \
    f"[1, 1, 0, 1, 1]: expected (0.8, 1.0) since the majority label is 1, got ({_acc}, {_rec})"
# [0, 1, 1, 0]: a tie, so the baseline predicts 0: right on 2 of 4 rows, catches 0 of 2 frauds.
_acc, _rec = majority_baseline(np.array([0, 1, 1, 0]))
assert np.isclose(float(_acc), 0.5) and np.isclose(float(_rec), 0.0), \
    f"[0, 1, 1, 0]: expected (0.5, 0.0) (a tie predicts 0), got ({_acc}, {_rec})"

# %% id="ex1-baseline-hidden-tests" mlcourse={"stage": "evaluation", "tier": 1} nbgrader={"grade": true, "grade_id": "ex1_baseline_hidden_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test checks majority_baseline on label arrays you have not seen.
_acc_tx, _rec_tx = majority_baseline(tx["is_fraud"].to_numpy())
assert 0.9 <= float(_acc_tx) <= 1.0, \
    f"on the fraud data (about 2% fraud) the majority baseline is right on most rows, got accuracy {_acc_tx}"
### BEGIN HIDDEN TESTS
assert np.isclose(float(_acc_tx), 1.0 - tx["is_fraud"].mean()) and float(_rec_tx) == 0.0, \
    f"fraud data: expected ({1.0 - tx['is_fraud'].mean():.6f}, 0.0), got ({_acc_tx}, {_rec_tx})"
_rng_h = np.random.default_rng(4101)
for _n, _rate in [(1000, 0.7), (501, 0.45), (20, 0.9), (300, 0.2)]:
    _yt_h = (_rng_h.random(_n) < _rate).astype(int)
    _maj_h = int(_yt_h.sum() > _n - _yt_h.sum())
    _exp_h = (float(np.mean(_yt_h == _maj_h)), float(_maj_h))
    _got_h = majority_baseline(_yt_h)
    assert np.allclose([float(v) for v in _got_h], _exp_h), \
        f"n={_n}, {int(_yt_h.sum())} ones: expected {_exp_h}, got {_got_h}"
_got_h = majority_baseline(np.zeros(50, dtype=int))
assert np.allclose([float(v) for v in _got_h], (1.0, 0.0)), f"no fraud at all: expected (1.0, 0.0), got {_got_h}"
_got_h = majority_baseline(np.ones(7, dtype=int))
assert np.allclose([float(v) for v in _got_h], (1.0, 1.0)), f"only fraud: expected (1.0, 1.0), got {_got_h}"
### END HIDDEN TESTS

# %% [markdown] id="md-b28926ac"
# ## 3. The confusion matrix
#
# Every binary decision falls in one of four cells:
#
# | | predicted 0 (legit) | predicted 1 (fraud) |
# |---|---|---|
# | **actual 0 (legit)** | TN — true negative | FP — false positive (a good customer blocked) |
# | **actual 1 (fraud)** | FN — false negative (fraud missed) | TP — true positive (fraud caught) |
#
# All the classification metrics in this notebook are ratios of these four counts, so the confusion
# matrix is the first thing to look at. The library follows scikit-learn's layout: rows are the true
# labels, columns the predictions, both in the order of `labels`.

# %% id="code-cd2d549f"
cm = ev.confusion_matrix(y, y_hat, labels=[0, 1])
print(cm)
ev.plot_confusion_matrix(cm, labels=["legit", "fraud"])
plt.show()

# %% [markdown] id="md-ex2a-read"
# ### Exercise 2a (tier 1) — read your own confusion matrix
#
# Your numbers are your own. When the course is released with per-learner variants, your `SEED`
# (in the parameters cell at the top) is yours alone, so your transactions, your model's scores and
# every count above differ from your neighbour's; the grader sets the seed again from the roster, so
# it checks your answers against *your* data whatever the notebook says.
#
# Read the matrix printed above (rows: actual legit, actual fraud; columns: predicted legit,
# predicted fraud) and set:
#
# * `missed_fraud`: how many fraud transactions the model **misses** at threshold 0.5;
# * `blocked_legit`: how many legitimate transactions it **blocks** at threshold 0.5.
#
# Typing the two numbers you read is the point of the exercise (reading an evaluation is a skill of
# its own); computing them from `cm` is fine too.

# %% id="ex2a-read-confusion" mlcourse={"forbid": [], "forbid_reason": "a reading exercise: the answer is two numbers read off the learner's own confusion matrix above, which no library call hides", "stage": "evaluation", "tier": 1} nbgrader={"grade": false, "grade_id": "ex2a_read_confusion", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
missed_fraud = int(cm[1, 0])    # row "actual fraud", column "predicted legit": false negatives
blocked_legit = int(cm[0, 1])   # row "actual legit", column "predicted fraud": false positives
### END SOLUTION

# %% id="ex2a-mistake-rows-and-columns" mistake={"why": "reads the matrix transposed: columns taken for the true labels"}
missed_fraud = int(cm[0, 1])
blocked_legit = int(cm[1, 0])

# %% id="ex2a-read-confusion-tests" mlcourse={"stage": "evaluation", "tier": 1} nbgrader={"grade": true, "grade_id": "ex2a_read_confusion_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Your variant's data, made again from the seed the grader writes on the next line.
_variant = make_scored_transactions(seed=SEED)  # mlcourse: learner-seed
_fraud = _variant["is_fraud"].to_numpy() == 1
_flagged = _variant["score"].to_numpy() >= 0.5
assert int(missed_fraud) == int(np.sum(_fraud & ~_flagged)), \
    "missed_fraud: not the number of fraud transactions your data's model misses at 0.5 (actual fraud, predicted legit)"
assert int(blocked_legit) == int(np.sum(~_fraud & _flagged)), \
    "blocked_legit: not the number of legitimate transactions it blocks at 0.5 (actual legit, predicted fraud)"

# %% [markdown] id="md-f1b601e8"
# ### Exercise 2 (tier 1) — counting by hand
#
# Implement `confusion_counts(y_true, y_pred)` with NumPy (no scikit-learn, no `mlcourse`). Both inputs
# are 1-D arrays (or lists) of 0/1 labels of equal length. Return the tuple **`(tn, fp, fn, tp)`** of
# integers. It must work when a class never appears, e.g. when every prediction is 0.

# %% id="ex2-confusion-counts" mlcourse={"forbid": ["sklearn.metrics", "mlcourse.evaluation"], "stage": "evaluation", "tier": 1} nbgrader={"grade": false, "grade_id": "ex2_confusion_counts", "locked": false, "schema_version": 3, "solution": true, "task": false}
def confusion_counts(y_true, y_pred):
    """Return (tn, fp, fn, tp) for binary 0/1 labels."""
    ### BEGIN SOLUTION
    y_true = np.asarray(y_true).astype(bool)
    y_pred = np.asarray(y_pred).astype(bool)
    tp = int(np.sum(y_true & y_pred))
    fp = int(np.sum(~y_true & y_pred))
    fn = int(np.sum(y_true & ~y_pred))
    tn = int(np.sum(~y_true & ~y_pred))
    return tn, fp, fn, tp
    ### END SOLUTION

# %% id="ex2-mistake-textbook-order" mistake={"why": "returns (tp, fp, fn, tn), another common order, instead of (tn, fp, fn, tp)"}
def confusion_counts(y_true, y_pred):
    y_true = np.asarray(y_true).astype(bool)
    y_pred = np.asarray(y_pred).astype(bool)
    tp = int(np.sum(y_true & y_pred))
    fp = int(np.sum(~y_true & y_pred))
    fn = int(np.sum(y_true & ~y_pred))
    tn = int(np.sum(~y_true & ~y_pred))
    return tp, fp, fn, tn

# %% id="ex2-mistake-fp-fn-swapped" mistake={"why": "swaps false positives and false negatives (rows taken for columns)"}
def confusion_counts(y_true, y_pred):
    y_true = np.asarray(y_true).astype(bool)
    y_pred = np.asarray(y_pred).astype(bool)
    fp = int(np.sum(y_true & ~y_pred))
    fn = int(np.sum(~y_true & y_pred))
    return int(np.sum(~y_true & ~y_pred)), fp, fn, int(np.sum(y_true & y_pred))

# %% id="ex2-mistake-bincount-no-minlength" mistake={"why": "np.bincount without minlength: a cell that never occurs drops out and the counts shift"}
def confusion_counts(y_true, y_pred):
    counts = np.bincount(2 * np.asarray(y_true).astype(int) + np.asarray(y_pred).astype(int))
    tn, fp, fn, tp = (int(v) for v in counts)
    return tn, fp, fn, tp

# %% id="ex2-confusion-counts-tests" mlcourse={"stage": "evaluation", "tier": 1} nbgrader={"grade": true, "grade_id": "ex2_confusion_counts_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# y_true = [1, 0, 1, 1, 0, 0], y_pred = [1, 1, 0, 1, 0, 0], by hand:
# rows 0 and 3 are fraud and flagged (tp = 2); row 1 is legit but flagged (fp = 1);
# row 2 is fraud but not flagged (fn = 1); rows 4 and 5 are legit and not flagged (tn = 2).
_got = confusion_counts(np.array([1, 0, 1, 1, 0, 0]), np.array([1, 1, 0, 1, 0, 0]))
assert isinstance(_got, tuple) and len(_got) == 4, f"expected a 4-tuple (tn, fp, fn, tp), got {_got!r}"
assert all(isinstance(v, (int, np.integer)) for v in _got), f"expected integer counts, got {_got!r}"
assert tuple(int(v) for v in _got) == (2, 1, 1, 2), f"expected (tn, fp, fn, tp) = (2, 1, 1, 2), got {tuple(_got)}"
# Lists work too: [0, 1] against [1, 1] is one false positive and one true positive.
_got = confusion_counts([0, 1], [1, 1])
assert tuple(int(v) for v in _got) == (0, 1, 0, 1), f"expected (0, 1, 0, 1) for lists, got {tuple(_got)}"

# %% id="ex2-confusion-counts-edge-tests" mlcourse={"stage": "evaluation", "tier": 1} nbgrader={"grade": true, "grade_id": "ex2_confusion_counts_edge_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Every prediction 0: y_true = [0, 1, 0, 1, 1] gives tn = 2 (rows 0, 2), fn = 3, and no fp or tp.
_got = confusion_counts(np.array([0, 1, 0, 1, 1]), np.zeros(5, dtype=int))
assert tuple(int(v) for v in _got) == (2, 0, 3, 0), f"all-zero predictions: expected (2, 0, 3, 0), got {tuple(_got)}"
# No fraud at all: y_true all 0, y_pred = [0, 1, 1] gives tn = 1, fp = 2.
_got = confusion_counts(np.zeros(3, dtype=int), np.array([0, 1, 1]))
assert tuple(int(v) for v in _got) == (1, 2, 0, 0), f"no positives: expected (1, 2, 0, 0), got {tuple(_got)}"
# Everything positive and predicted positive: tp = 4 and nothing else.
_got = confusion_counts(np.ones(4, dtype=int), np.ones(4, dtype=int))
assert tuple(int(v) for v in _got) == (0, 0, 0, 4), f"all positive: expected (0, 0, 0, 4), got {tuple(_got)}"
# Nothing positive anywhere: tn = 6.
_got = confusion_counts(np.zeros(6, dtype=int), np.zeros(6, dtype=int))
assert tuple(int(v) for v in _got) == (6, 0, 0, 0), f"all negative: expected (6, 0, 0, 0), got {tuple(_got)}"

# %% id="ex2-confusion-counts-hidden-tests" mlcourse={"stage": "evaluation", "tier": 1} nbgrader={"grade": true, "grade_id": "ex2_confusion_counts_hidden_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test compares confusion_counts with scikit-learn on random labels.
_tn, _fp, _fn, _tp = (int(v) for v in confusion_counts(y, y_hat))
assert _tn + _fp + _fn + _tp == len(y), f"the four counts must add up to {len(y)} rows, got {_tn + _fp + _fn + _tp}"
assert _tp + _fn == int(y.sum()), f"tp + fn must be the number of frauds {int(y.sum())}, got {_tp + _fn}"
### BEGIN HIDDEN TESTS
from sklearn.metrics import confusion_matrix as _sk_confusion_matrix

_rng_h = np.random.default_rng(42)
_cases_h = [
    (_rng_h.integers(0, 2, 200), _rng_h.integers(0, 2, 200)),
    (_rng_h.integers(0, 2, 57), np.zeros(57, dtype=int)),
    (np.zeros(30, dtype=int), _rng_h.integers(0, 2, 30)),
    ((_rng_h.random(1000) < 0.03).astype(int), (_rng_h.random(1000) < 0.05).astype(int)),
    (y, y_hat),
]
for _yt_h, _yp_h in _cases_h:
    _exp_h = tuple(int(v) for v in _sk_confusion_matrix(_yt_h, _yp_h, labels=[0, 1]).ravel())
    _got_h = tuple(int(v) for v in confusion_counts(_yt_h, _yp_h))
    assert _got_h == _exp_h, f"expected (tn, fp, fn, tp) = {_exp_h}, got {_got_h} (n={len(_yt_h)})"
### END HIDDEN TESTS

# %% [markdown] id="md-22a78ad7"
# ## 4. Precision, recall, F1 and $F_\beta$
#
# * **Precision** $= \frac{TP}{TP + FP}$: of the transactions we flagged, how many were fraud?
#   It matters when a false alarm is expensive (a blocked customer, an analyst's time).
# * **Recall** (sensitivity, true-positive rate) $= \frac{TP}{TP + FN}$: of the fraud that happened,
#   how much did we catch? It matters when a miss is expensive (a chargeback, a missed diagnosis).
# * **F1** $= \frac{2 \cdot P \cdot R}{P + R} = \frac{2\,TP}{2\,TP + FP + FN}$: the harmonic mean, high only
#   when both are high. Use it when you need one number and neither error clearly dominates.
# * **$F_\beta$** $= \frac{(1+\beta^2)\, P R}{\beta^2 P + R}$ weights recall $\beta$ times as much as
#   precision: $F_2$ for fraud or screening (misses hurt more), $F_{0.5}$ for spam filtering (false
#   alarms hurt more).
#
# Precision is **undefined** when nothing is predicted positive ($TP + FP = 0$) and recall when there
# are no positives ($TP + FN = 0$). Libraries then return a chosen value — scikit-learn's
# `zero_division` — and we use 0.0: a model that never flags anything gets no credit for precision.
#
# Note also what these metrics ignore: **TN never appears**. That is exactly why they stay informative
# when negatives are abundant.

# %% id="code-a6d50cf5"
rows = []
for t in [0.1, 0.3, 0.5, 0.7, 0.9]:
    pred = (s >= t).astype(int)
    rows.append({"threshold": t,
                 "precision": ev.precision(y, pred),
                 "recall": ev.recall(y, pred),
                 "F1": ev.f1(y, pred),
                 "F2 (recall-heavy)": ev.fbeta(y, pred, 2.0),
                 "F0.5 (precision-heavy)": ev.fbeta(y, pred, 0.5)})
pd.DataFrame(rows).set_index("threshold").round(3)

# %% [markdown] id="md-c7dfb3b6"
# Raising the threshold trades recall for precision; $F_2$ peaks at a lower threshold than $F_{0.5}$.
# Which threshold is "best" depends on the metric — and the metric depends on the problem.
#
# ### Exercise 3 (tier 2) — precision, recall and F1 with their edge cases
#
# Implement `precision_recall_f1(y_true, y_pred)` for 0/1 labels with the positive class 1, with NumPy
# (no scikit-learn, no `mlcourse`). Return the tuple `(precision, recall, f1)` of floats. Whenever a
# ratio has a zero denominator, return **0.0** for it (this includes F1 when precision and recall are
# both 0). You may call your `confusion_counts`.

# %% id="ex3-precision-recall-f1" mlcourse={"forbid": ["sklearn.metrics", "mlcourse.evaluation"], "stage": "evaluation", "tier": 2} nbgrader={"grade": false, "grade_id": "ex3_precision_recall_f1", "locked": false, "schema_version": 3, "solution": true, "task": false}
def precision_recall_f1(y_true, y_pred):
    """Return (precision, recall, f1) for the positive class 1; 0.0 where undefined."""
    ### BEGIN SOLUTION
    y_true = np.asarray(y_true).astype(bool)
    y_pred = np.asarray(y_pred).astype(bool)
    tp = float(np.sum(y_true & y_pred))
    fp = float(np.sum(~y_true & y_pred))
    fn = float(np.sum(y_true & ~y_pred))
    precision = tp / (tp + fp) if tp + fp > 0 else 0.0
    recall = tp / (tp + fn) if tp + fn > 0 else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp > 0 else 0.0
    return precision, recall, f1
    ### END SOLUTION

# %% id="ex3-mistake-f1-unguarded" mistake={"why": "F1 from precision and recall with no guard: 0/0 when both are 0"}
def precision_recall_f1(y_true, y_pred):
    y_true = np.asarray(y_true).astype(bool)
    y_pred = np.asarray(y_pred).astype(bool)
    tp = float(np.sum(y_true & y_pred))
    fp = float(np.sum(~y_true & y_pred))
    fn = float(np.sum(y_true & ~y_pred))
    precision = tp / (tp + fp) if tp + fp > 0 else 0.0
    recall = tp / (tp + fn) if tp + fn > 0 else 0.0
    return precision, recall, 2 * precision * recall / (precision + recall)

# %% id="ex3-mistake-no-alarm-precision-one" mistake={"why": "gives precision 1.0 when nothing is flagged ('no false alarms') instead of 0.0"}
def precision_recall_f1(y_true, y_pred):
    y_true = np.asarray(y_true).astype(bool)
    y_pred = np.asarray(y_pred).astype(bool)
    tp = float(np.sum(y_true & y_pred))
    fp = float(np.sum(~y_true & y_pred))
    fn = float(np.sum(y_true & ~y_pred))
    precision = tp / (tp + fp) if tp + fp > 0 else 1.0
    recall = tp / (tp + fn) if tp + fn > 0 else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp > 0 else 0.0
    return precision, recall, f1

# %% id="ex3-mistake-denominators-swapped" mistake={"why": "divides by the flagged count for recall and by the fraud count for precision"}
def precision_recall_f1(y_true, y_pred):
    y_true = np.asarray(y_true).astype(bool)
    y_pred = np.asarray(y_pred).astype(bool)
    tp = float(np.sum(y_true & y_pred))
    flagged, frauds = float(y_pred.sum()), float(y_true.sum())
    precision = tp / frauds if frauds > 0 else 0.0
    recall = tp / flagged if flagged > 0 else 0.0
    f1 = 2 * tp / (flagged + frauds) if tp > 0 else 0.0
    return precision, recall, f1

# %% id="ex3-precision-recall-f1-tests" mlcourse={"stage": "evaluation", "tier": 2} nbgrader={"grade": true, "grade_id": "ex3_precision_recall_f1_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# y_true = [1, 1, 1, 0, 0, 0, 0, 0], y_pred = [1, 1, 0, 1, 1, 0, 0, 0], by hand:
# tp = 2 (rows 0, 1), fp = 2 (rows 3, 4), fn = 1 (row 2).
# precision = 2 / (2 + 2) = 0.5, recall = 2 / (2 + 1) = 2/3, F1 = 2*2 / (2*2 + 2 + 1) = 4/7.
_got = precision_recall_f1(np.array([1, 1, 1, 0, 0, 0, 0, 0]), np.array([1, 1, 0, 1, 1, 0, 0, 0]))
assert len(_got) == 3, f"expected a 3-tuple (precision, recall, f1), got {_got!r}"
assert np.allclose([float(v) for v in _got], [0.5, 2 / 3, 4 / 7], atol=1e-12), \
    f"expected (precision, recall, f1) = (0.5, 0.6667, 0.5714), got {tuple(_got)}"
# One alert, and it is right: y_true = [1, 0, 1], y_pred = [1, 0, 0]: tp = 1, fp = 0, fn = 1, so
# precision = 1/1, recall = 1/2, F1 = 2*1 / (2*1 + 0 + 1) = 2/3.
_got = precision_recall_f1(np.array([1, 0, 1]), np.array([1, 0, 0]))
assert np.allclose([float(v) for v in _got], [1.0, 0.5, 2 / 3], atol=1e-12), \
    f"one correct alert out of two frauds: expected (1.0, 0.5, 0.6667), got {tuple(_got)}"
# One fraud, caught, plus a false alarm: y_true = [1, 0, 0], y_pred = [1, 1, 0]: precision 1/2, recall 1/1.
_got = precision_recall_f1(np.array([1, 0, 0]), np.array([1, 1, 0]))
assert np.allclose([float(v) for v in _got], [0.5, 1.0, 2 / 3], atol=1e-12), \
    f"one fraud caught with one false alarm: expected (0.5, 1.0, 0.6667), got {tuple(_got)}"
# A perfect prediction: all three are 1.
_got = precision_recall_f1([1, 0, 1, 0], [1, 0, 1, 0])
assert np.allclose([float(v) for v in _got], [1.0, 1.0, 1.0]), f"perfect predictions: expected (1, 1, 1), got {tuple(_got)}"

# %% id="ex3-precision-recall-f1-edge-tests" mlcourse={"stage": "evaluation", "tier": 2} nbgrader={"grade": true, "grade_id": "ex3_precision_recall_f1_edge_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Nothing flagged: y_true = [1, 0, 1], y_pred = [0, 0, 0]: precision 0/0 -> 0.0, recall 0/2 = 0.0, F1 0.0.
_got = precision_recall_f1(np.array([1, 0, 1]), np.zeros(3, dtype=int))
assert np.allclose([float(v) for v in _got], [0.0, 0.0, 0.0]), f"nothing flagged: expected (0, 0, 0), got {tuple(_got)}"
# No fraud in the data: y_true = [0, 0, 0], y_pred = [1, 0, 1]: precision 0/2 = 0.0, recall 0/0 -> 0.0, F1 0.0.
_got = precision_recall_f1(np.zeros(3, dtype=int), np.array([1, 0, 1]))
assert np.allclose([float(v) for v in _got], [0.0, 0.0, 0.0]), f"no positives: expected (0, 0, 0), got {tuple(_got)}"
# Nothing positive anywhere: every ratio is 0/0 -> 0.0.
_got = precision_recall_f1(np.zeros(10, dtype=int), np.zeros(10, dtype=int))
assert np.allclose([float(v) for v in _got], [0.0, 0.0, 0.0]), f"nothing positive: expected (0, 0, 0), got {tuple(_got)}"
# All wrong: [1, 1, 0, 0] against [0, 0, 1, 1]: precision = recall = 0, so F1 = 0/0 -> 0.0.
_got = precision_recall_f1(np.array([1, 1, 0, 0]), np.array([0, 0, 1, 1]))
assert np.allclose([float(v) for v in _got], [0.0, 0.0, 0.0]), f"all wrong: expected (0, 0, 0), got {tuple(_got)}"

# %% id="ex3-precision-recall-f1-hidden-tests" mlcourse={"stage": "evaluation", "tier": 2} nbgrader={"grade": true, "grade_id": "ex3_precision_recall_f1_hidden_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test compares precision_recall_f1 with scikit-learn on random labels.
_p, _r, _f = (float(v) for v in precision_recall_f1(y, y_hat))
assert all(0.0 <= v <= 1.0 for v in (_p, _r, _f)), f"expected values in [0, 1], got {(_p, _r, _f)}"
assert min(_p, _r) - 1e-12 <= _f <= max(_p, _r) + 1e-12, \
    f"F1 is a mean of precision and recall, so it lies between them: got P={_p}, R={_r}, F1={_f}"
### BEGIN HIDDEN TESTS
from sklearn.metrics import precision_recall_fscore_support as _sk_prfs

_rng_h = np.random.default_rng(7)
_cases_h = [
    (_rng_h.integers(0, 2, 300), _rng_h.integers(0, 2, 300)),
    ((_rng_h.random(2000) < 0.02).astype(int), (_rng_h.random(2000) < 0.1).astype(int)),
    (_rng_h.integers(0, 2, 40), np.zeros(40, dtype=int)),
    (np.zeros(40, dtype=int), _rng_h.integers(0, 2, 40)),
    (y, y_hat),
]
for _yt_h, _yp_h in _cases_h:
    _exp_h = _sk_prfs(_yt_h, _yp_h, average="binary", pos_label=1, zero_division=0)[:3]
    _got_h = precision_recall_f1(_yt_h, _yp_h)
    assert np.allclose([float(v) for v in _got_h], _exp_h, atol=1e-9), \
        f"expected (precision, recall, f1) = {tuple(_exp_h)}, got {tuple(_got_h)}"
### END HIDDEN TESTS

# %% [markdown] id="md-98a0a349"
# ## 5. Regression: MSE, MAE and $R^2$
#
# For a numeric target $y$ and prediction $\hat y$ the usual measures are
#
# * **MSE** $= \frac1n \sum_i (y_i - \hat y_i)^2$ — squares the errors, so large errors dominate; its
#   square root (RMSE) is in the target's units. It is what least squares minimises.
# * **MAE** $= \frac1n \sum_i |y_i - \hat y_i|$ — every unit of error counts the same; robust to a few
#   huge errors and easy to explain ("off by 40 on average").
# * **$R^2$** $= 1 - \frac{\sum_i (y_i - \hat y_i)^2}{\sum_i (y_i - \bar y)^2}$ — the share of the
#   target's variance explained, compared with the baseline that always predicts the mean $\bar y$.
#   1 is perfect, 0 is no better than the mean, and it can be **negative** for a model worse than the
#   mean. It is unit-free, so it compares across targets, but it depends on how spread the test set is.
#
# Our example is scikit-learn's diabetes data set: predict disease progression one year later from ten
# baseline measurements; `make_regression_example` returns a linear model's predictions on it.

# %% id="code-8e7a3478"
X_reg, y_reg, y_reg_pred = make_regression_example(seed=SEED)
print("MSE ", round(ev.mean_squared_error(y_reg, y_reg_pred), 1))
print("RMSE", round(np.sqrt(ev.mean_squared_error(y_reg, y_reg_pred)), 1))
print("MAE ", round(ev.mean_absolute_error(y_reg, y_reg_pred), 1))
print("R2  ", round(ev.r2_score(y_reg, y_reg_pred), 3))

# %% [markdown] id="md-7d26113f"
# **Outliers.** Suppose five predictions go badly wrong (a data-pipeline bug, say, adding 300 to
# them). Watch how each metric reacts:

# %% id="code-44f01e7d"
broken = np.asarray(y_reg_pred, dtype=float).copy()
broken[:5] += 300.0
pd.DataFrame({
    "clean": [ev.mean_squared_error(y_reg, y_reg_pred), ev.mean_absolute_error(y_reg, y_reg_pred),
              ev.r2_score(y_reg, y_reg_pred)],
    "5 outliers": [ev.mean_squared_error(y_reg, broken), ev.mean_absolute_error(y_reg, broken),
                   ev.r2_score(y_reg, broken)],
}, index=["MSE", "MAE", "R2"]).round(3)

# %% [markdown] id="md-40fa577c"
# A handful of points moves MSE (and with it $R^2$) far more than MAE. Neither is "right": if a large
# error really is much worse than several small ones, MSE says so; if not, MAE (or a quantile loss) is the
# more honest summary. Report the one that matches the cost of errors, and look at the residuals.
#
# ### Exercise 4 (tier 2) — regression errors
#
# Implement `regression_errors(y_true, y_pred)` with NumPy (no scikit-learn, no `mlcourse`). It returns
# a `dict` with the keys `"mse"`, `"mae"` and `"r2"` (floats), defined as above. You may assume
# `y_true` is not constant.

# %% id="ex4-regression-errors" mlcourse={"forbid": ["sklearn.metrics", "mlcourse.evaluation"], "stage": "evaluation", "tier": 2} nbgrader={"grade": false, "grade_id": "ex4_regression_errors", "locked": false, "schema_version": 3, "solution": true, "task": false}
def regression_errors(y_true, y_pred):
    """Return {"mse": ..., "mae": ..., "r2": ...} for 1-D numeric arrays."""
    ### BEGIN SOLUTION
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    residual = y_true - y_pred
    mse = float(np.mean(residual ** 2))
    mae = float(np.mean(np.abs(residual)))
    total = float(np.sum((y_true - y_true.mean()) ** 2))
    r2 = 1.0 - float(np.sum(residual ** 2)) / total
    return {"mse": mse, "mae": mae, "r2": r2}
    ### END SOLUTION

# %% id="ex4-mistake-uncentred-r2" mistake={"why": "R2 with the uncentred total sum of squares (sum of y squared, not of y minus its mean)"}
def regression_errors(y_true, y_pred):
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    residual = y_true - y_pred
    return {"mse": float(np.mean(residual ** 2)), "mae": float(np.mean(np.abs(residual))),
            "r2": 1.0 - float(np.sum(residual ** 2)) / float(np.sum(y_true ** 2))}

# %% id="ex4-mistake-signed-mae" mistake={"why": "MAE without the absolute value: errors of opposite signs cancel"}
def regression_errors(y_true, y_pred):
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    residual = y_true - y_pred
    total = float(np.sum((y_true - y_true.mean()) ** 2))
    return {"mse": float(np.mean(residual ** 2)), "mae": float(abs(np.mean(residual))),
            "r2": 1.0 - float(np.sum(residual ** 2)) / total}

# %% id="ex4-mistake-r2-as-correlation" mistake={"why": "R2 as the squared correlation of y and the prediction, which is never negative"}
def regression_errors(y_true, y_pred):
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    residual = y_true - y_pred
    return {"mse": float(np.mean(residual ** 2)), "mae": float(np.mean(np.abs(residual))),
            "r2": float(np.corrcoef(y_true, y_pred)[0, 1] ** 2)}

# %% id="ex4-mistake-rmse" mistake={"why": "returns the root mean squared error under the key 'mse'"}
def regression_errors(y_true, y_pred):
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    residual = y_true - y_pred
    total = float(np.sum((y_true - y_true.mean()) ** 2))
    return {"mse": float(np.sqrt(np.mean(residual ** 2))), "mae": float(np.mean(np.abs(residual))),
            "r2": 1.0 - float(np.sum(residual ** 2)) / total}

# %% id="ex4-regression-errors-tests" mlcourse={"stage": "evaluation", "tier": 2} nbgrader={"grade": true, "grade_id": "ex4_regression_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# y = [3, 5, 7, 9], prediction [4, 5, 5, 9], by hand: the errors y - prediction are -1, 0, 2, 0.
# mse = (1 + 0 + 4 + 0) / 4 = 1.25; mae = (1 + 0 + 2 + 0) / 4 = 0.75.
# The mean of y is 6, so the total sum of squares is 9 + 1 + 1 + 9 = 20 and r2 = 1 - 5 / 20 = 0.75.
_got = regression_errors(np.array([3.0, 5.0, 7.0, 9.0]), np.array([4.0, 5.0, 5.0, 9.0]))
assert isinstance(_got, dict) and {"mse", "mae", "r2"} <= set(_got), \
    f"expected a dict with keys 'mse', 'mae', 'r2', got {_got!r}"
for _key, _expected in [("mse", 1.25), ("mae", 0.75), ("r2", 0.75)]:
    assert np.isclose(float(_got[_key]), _expected, atol=1e-12), f"{_key}: expected {_expected}, got {_got[_key]}"

# %% id="ex4-regression-errors-properties-tests" mlcourse={"stage": "evaluation", "tier": 2} nbgrader={"grade": true, "grade_id": "ex4_regression_errors_properties_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Predicting the mean of y ([1, 2, 3, 4, 10] has mean 4) explains nothing: r2 = 0 exactly.
_got = regression_errors(np.array([1.0, 2.0, 3.0, 4.0, 10.0]), np.full(5, 4.0))
assert np.isclose(float(_got["r2"]), 0.0, atol=1e-12), f"predicting the mean: expected r2 = 0, got {_got['r2']}"
# Worse than the mean: y = [1, 2, 3], prediction [3, 2, 1]: residual sum of squares 4 + 0 + 4 = 8,
# total 1 + 0 + 1 = 2, so r2 = 1 - 8 / 2 = -3; mse = 8/3, mae = 4/3.
_got = regression_errors(np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0]))
assert np.allclose([float(_got[k]) for k in ("mse", "mae", "r2")], [8 / 3, 4 / 3, -3.0], atol=1e-12), \
    f"reversed predictions: expected (mse, mae, r2) = (2.667, 1.333, -3.0), got {_got}"
# Shifting target and prediction by the same amount changes none of the three.
_rng = np.random.default_rng(11)
_yt = _rng.normal(50.0, 10.0, 200)
_yp = _yt + _rng.normal(0.0, 5.0, 200)
_a, _b = regression_errors(_yt, _yp), regression_errors(_yt + 1000.0, _yp + 1000.0)
assert all(np.isclose(float(_a[k]), float(_b[k]), rtol=1e-9) for k in ("mse", "mae", "r2")), \
    f"adding 1000 to y and to the prediction must leave the metrics unchanged, got {_a} and {_b}"

# %% id="ex4-regression-errors-hidden-tests" mlcourse={"stage": "evaluation", "tier": 2} nbgrader={"grade": true, "grade_id": "ex4_regression_errors_hidden_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test compares regression_errors with scikit-learn.
_got = regression_errors(y_reg, y_reg_pred)
assert float(_got["mse"]) >= float(_got["mae"]) ** 2 - 1e-9, \
    f"the mean of squares is at least the square of the mean: expected mse >= mae**2, got {_got}"
### BEGIN HIDDEN TESTS
from sklearn.metrics import mean_absolute_error as _sk_mae, mean_squared_error as _sk_mse, r2_score as _sk_r2

_, _yt_d, _yp_d = make_regression_example(seed=0)
_rng_h = np.random.default_rng(11)
_yt_r = _rng_h.normal(50, 10, 500)
for _yt_h, _yp_h in [(np.asarray(_yt_d, dtype=float), np.asarray(_yp_d, dtype=float)),
                     (_yt_r, _yt_r + _rng_h.normal(0, 5, 500)),
                     (_yt_r, _rng_h.normal(0, 1, 500)),
                     (np.asarray(y_reg, dtype=float), np.asarray(broken, dtype=float))]:
    _got_h = regression_errors(_yt_h, _yp_h)
    for _key, _ref in [("mse", _sk_mse(_yt_h, _yp_h)), ("mae", _sk_mae(_yt_h, _yp_h)), ("r2", _sk_r2(_yt_h, _yp_h))]:
        assert np.isclose(float(_got_h[_key]), _ref, rtol=1e-7, atol=1e-9), f"{_key}: expected {_ref:.6f}, got {_got_h[_key]}"
### END HIDDEN TESTS

# %% [markdown] id="md-07bc6321"
# ## 6. Threshold-free evaluation: ROC-AUC and PR-AUC
#
# A threshold throws information away. Before choosing one, ask how good the **scores** are at all
# possible thresholds.
#
# * The **ROC curve** plots the true-positive rate (recall) against the false-positive rate
#   $\frac{FP}{FP + TN}$ as the threshold sweeps from high to low. Its area, **ROC-AUC**, has a clean
#   meaning: the probability that a randomly drawn positive gets a higher score than a randomly drawn
#   negative (ties count one half). 0.5 is random ranking, 1.0 is perfect.
# * The **precision–recall curve** plots precision against recall; its area is estimated by
#   **average precision** (AP, "PR-AUC"). A random ranking gets AP ≈ prevalence (here ≈ 0.02), not 0.5.
#
# The ROC curve uses the FP *rate*, and with 20,000 negatives even a thousand false alarms is a small
# rate, so ROC-AUC can look excellent while most flagged transactions are legitimate. Precision
# counts false alarms against true alarms, so the PR curve shows that pain directly.

# %% id="code-1bd92460"
fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
ev.plot_roc(y, s, ax=axes[0])
ev.plot_precision_recall(y, s, ax=axes[1])
plt.tight_layout()
plt.show()
print(f"ROC-AUC = {ev.roc_auc(y, s):.3f}   average precision = {ev.average_precision(y, s):.3f}"
      f"   (prevalence {y.mean():.3f})")

# %% [markdown] id="md-5287e4c6"
# **Same model, different prevalence.** Keep all fraud but only as many legitimate transactions as
# there are fraud cases: the classes are now balanced. ROC-AUC barely moves (it does not depend on the
# class ratio), while average precision jumps — on the real, imbalanced stream the model's alarms are
# far less trustworthy than the balanced view suggests.

# %% id="code-1c0aaeb6"
rng = np.random.default_rng(SEED)
pos_idx = np.flatnonzero(y == 1)
neg_idx = rng.choice(np.flatnonzero(y == 0), size=len(pos_idx), replace=False)
bal = np.concatenate([pos_idx, neg_idx])
pd.DataFrame({
    "prevalence": [y.mean(), y[bal].mean()],
    "ROC-AUC": [ev.roc_auc(y, s), ev.roc_auc(y[bal], s[bal])],
    "average precision": [ev.average_precision(y, s), ev.average_precision(y[bal], s[bal])],
}, index=["real (imbalanced)", "balanced subsample"]).round(3)

# %% [markdown] id="md-1cb8ebbe"
# ### Exercise 5 (tier 2) — ROC-AUC from ranks
#
# ROC-AUC equals the normalised **Mann–Whitney U statistic**. Rank all $n$ scores from 1 (lowest) to
# $n$ (highest), giving tied scores the **average** of the ranks they span (e.g. two scores tied for
# ranks 3 and 4 both get 3.5). With $n_+$ positives, $n_-$ negatives and $R_+$ the sum of the
# positives' ranks,
#
# $$\text{AUC} = \frac{R_+ - n_+(n_+ + 1)/2}{n_+\, n_-}.$$
#
# Implement `roc_auc_rank(y_true, scores)` this way with NumPy, in $O(n \log n)$ (no double loop over
# pairs; no `scipy`, `sklearn` or `mlcourse`). `y_true` holds 0/1 labels (1 = positive). Raise
# `ValueError` when `y_true` contains only one class, since the AUC is then undefined.
#
# *Hint:* `np.unique(scores, return_inverse=True, return_counts=True)` gives each score's group and
# the group sizes; a group that starts after $c$ smaller scores and has $k$ members has average rank
# $c + (k + 1)/2$.

# %% id="ex5-roc-auc-rank" mlcourse={"forbid": ["sklearn.metrics", "scipy.stats", "mlcourse.evaluation"], "stage": "evaluation", "tier": 2} nbgrader={"grade": false, "grade_id": "ex5_roc_auc_rank", "locked": false, "schema_version": 3, "solution": true, "task": false}
def roc_auc_rank(y_true, scores):
    """ROC-AUC via the Mann-Whitney rank statistic (average ranks for ties)."""
    ### BEGIN SOLUTION
    y_true = np.asarray(y_true).astype(bool)
    scores = np.asarray(scores)
    n_pos = int(y_true.sum())
    n_neg = int(y_true.size - n_pos)
    if n_pos == 0 or n_neg == 0:
        raise ValueError("roc_auc_rank: y_true must contain both classes")
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    below = np.cumsum(counts) - counts               # scores strictly smaller than each group
    avg_rank = below + (counts + 1) / 2.0            # average 1-based rank of each group
    ranks = avg_rank[inverse.ravel()]
    r_pos = ranks[y_true].sum()
    return float((r_pos - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))
    ### END SOLUTION

# %% id="ex5-mistake-ties-as-wins" mistake={"why": "ranks tied scores by position (ordinal ranks) instead of averaging them"}
def roc_auc_rank(y_true, scores):
    y_true = np.asarray(y_true).astype(bool)
    scores = np.asarray(scores, dtype=float)
    n_pos, n_neg = int(y_true.sum()), int((~y_true).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("both classes are needed")
    ranks = np.argsort(np.argsort(scores, kind="stable"), kind="stable") + 1.0
    return float((ranks[y_true].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))

# %% id="ex5-mistake-ranks-from-the-top" mistake={"why": "ranks from the highest score down, which gives 1 - AUC"}
def roc_auc_rank(y_true, scores):
    y_true = np.asarray(y_true).astype(bool)
    scores = -np.asarray(scores, dtype=float)
    n_pos, n_neg = int(y_true.sum()), int((~y_true).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("both classes are needed")
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - counts + (counts + 1) / 2.0)[inverse.ravel()]
    return float((ranks[y_true].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))

# %% id="ex5-mistake-no-single-class-check" mistake={"why": "returns a number (nan or inf) instead of raising when one class is missing"}
def roc_auc_rank(y_true, scores):
    y_true = np.asarray(y_true).astype(bool)
    scores = np.asarray(scores, dtype=float)
    n_pos, n_neg = float(y_true.sum()), float((~y_true).sum())
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - counts + (counts + 1) / 2.0)[inverse.ravel()]
    return float(np.float64(ranks[y_true].sum() - n_pos * (n_pos + 1) / 2.0) / np.float64(n_pos * n_neg))

# %% id="ex5-roc-auc-rank-tests" mlcourse={"stage": "evaluation", "tier": 2} nbgrader={"grade": true, "grade_id": "ex5_roc_auc_rank_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# y = [0, 0, 1, 1], scores = [0.1, 0.4, 0.35, 0.8], by hand: the ranks are 1, 3, 2, 4, so R+ = 2 + 4 = 6
# and AUC = (6 - 2*3/2) / (2*2) = 0.75 (of the 4 fraud/legit pairs, 3 are ordered right).
_got = roc_auc_rank(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
assert np.isclose(float(_got), 0.75, atol=1e-12), f"expected ROC-AUC 0.75, got {_got}"
# Ties: y = [0, 1, 0, 1], scores = [0.2, 0.5, 0.5, 0.9]: ranks 1, 2.5, 2.5, 4, so R+ = 6.5 and
# AUC = (6.5 - 3) / 4 = 0.875 (pairs: 0.5 > 0.2 wins, 0.5 = 0.5 counts 1/2, 0.9 beats both: 3.5 / 4).
_got = roc_auc_rank(np.array([0, 1, 0, 1]), np.array([0.2, 0.5, 0.5, 0.9]))
assert np.isclose(float(_got), 0.875, atol=1e-12), f"with a tie: expected ROC-AUC 0.875 (a tie counts 1/2), got {_got}"
# A perfect ranking gives 1, a reversed one 0.
assert np.isclose(float(roc_auc_rank([0, 0, 1], [0.1, 0.2, 0.9])), 1.0), "a perfect ranking must give AUC 1"
assert np.isclose(float(roc_auc_rank([1, 0, 0], [0.1, 0.2, 0.9])), 0.0), "a reversed ranking must give AUC 0"

# %% id="ex5-roc-auc-rank-edge-tests" mlcourse={"stage": "evaluation", "tier": 2} nbgrader={"grade": true, "grade_id": "ex5_roc_auc_rank_edge_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
for _labels in (np.ones(20, dtype=int), np.zeros(20, dtype=int)):
    try:
        roc_auc_rank(_labels, np.linspace(0.0, 1.0, 20))
        _raised = False
    except ValueError:
        _raised = True
    assert _raised, f"expected ValueError when y_true holds only {_labels[0]}s, but nothing was raised"
# All scores tied: every pair counts 1/2, AUC = 0.5.
assert np.isclose(float(roc_auc_rank(np.array([0, 1, 1, 0, 1]), np.full(5, 0.7))), 0.5), "all scores tied: expected 0.5"
# AUC depends on the ranking only: a monotone transform changes nothing, negating the scores gives 1 - AUC.
_rng = np.random.default_rng(5)
_yt = _rng.integers(0, 2, 300)
_sc = np.round(_rng.random(300) + 0.4 * _yt, 2)
_auc = float(roc_auc_rank(_yt, _sc))
assert np.isclose(float(roc_auc_rank(_yt, np.exp(3.0 * _sc))), _auc, atol=1e-12), "a monotone transform must not change the AUC"
assert np.isclose(float(roc_auc_rank(_yt, -_sc)), 1.0 - _auc, atol=1e-12), "negated scores must give 1 - AUC"

# %% id="ex5-roc-auc-rank-hidden-tests" mlcourse={"stage": "evaluation", "tier": 2} nbgrader={"grade": true, "grade_id": "ex5_roc_auc_rank_hidden_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test compares roc_auc_rank with scikit-learn on random and tied scores.
_got = float(roc_auc_rank(tx["is_fraud"].to_numpy(), tx["score"].to_numpy()))
assert 0.5 < _got <= 1.0, f"the course model ranks better than chance, so expected an AUC in (0.5, 1], got {_got}"
### BEGIN HIDDEN TESTS
from sklearn.metrics import roc_auc_score as _sk_roc_auc

_rng_h = np.random.default_rng(5)
_cases_h = []
for _n_h, _prev_h in [(200, 0.5), (3000, 0.05)]:
    _yt_h = (_rng_h.random(_n_h) < _prev_h).astype(int)
    _cases_h.append((_yt_h, _rng_h.random(_n_h) + 0.5 * _yt_h))
_yt_h = _rng_h.integers(0, 2, 1000)
_cases_h.append((_yt_h, np.round(_rng_h.random(1000) + 0.3 * _yt_h, 1)))
_cases_h.append((_yt_h, _rng_h.integers(0, 3, 1000).astype(float)))
_cases_h.append((tx["is_fraud"].to_numpy(), tx["score"].to_numpy()))
for _yt_h, _sc_h in _cases_h:
    _exp_h = _sk_roc_auc(_yt_h, _sc_h)
    _got_h = roc_auc_rank(_yt_h, _sc_h)
    assert np.isclose(float(_got_h), _exp_h, atol=1e-9), \
        f"expected ROC-AUC {_exp_h:.6f}, got {_got_h} (n={len(_yt_h)}, {len(np.unique(_sc_h))} distinct scores)"
### END HIDDEN TESTS

# %% [markdown] id="md-enriched-samples"
# ### Labelled samples and the prevalence they do not have
#
# Labels cost money, so fraud teams rarely evaluate on a uniform sample of traffic. A common design
# keeps **every** known fraud (each chargeback is labelled anyway) and a random few percent of the
# legitimate transactions: an *enriched* sample. The balanced subsample above is the extreme case.
#
# Such a sample keeps what is measured *within* each class: the true-positive rate is measured on
# frauds only and the false-positive rate on legitimate transactions only, so the ROC curve and
# ROC-AUC are unbiased estimates for the stream. Anything that *mixes* the classes is not: precision
# counts false alarms against true alarms, and the sample has far fewer legitimate transactions
# behind each fraud than the stream. The PR curve and average precision of an enriched sample
# describe a stream that does not exist. The number to report is the one the model will have on the
# traffic it is going to score.
#
# ### Exercise 6 (tier 3) — average precision at the deployment prevalence
#
# Implement `ap_at_prevalence(y_sample, scores_sample, prevalence)`: the **average precision the
# scores would have on traffic whose fraud rate is `prevalence`**, estimated from a labelled sample
# whose class mix is different.
#
# * Assume the sample's frauds are a random sample of the traffic's frauds, and its legitimate
#   transactions a random sample of the traffic's legitimate ones: only the mix of the two differs.
# * Average precision is the one of section 6: going through the distinct scores from high to low,
#   the precision at each threshold, weighted by the share of the frauds that threshold adds. Tied
#   scores enter together.
# * When `prevalence` equals the sample's own fraud rate, this is the ordinary average precision.
# * Raise `ValueError` if `prevalence` is not in $(0, 1)$ or if the sample lacks one of the classes.
# * NumPy only: no scikit-learn, no `mlcourse`.
#
# The hidden tests draw enriched samples from traffic at prevalences and sampling rates you have not
# seen, and compare your estimate with the average precision measured on the whole traffic.

# %% id="ex6-ap-at-prevalence" mlcourse={"forbid": ["sklearn.metrics", "mlcourse.evaluation"], "stage": "evaluation", "tier": 3} nbgrader={"grade": false, "grade_id": "ex6_ap_at_prevalence", "locked": false, "schema_version": 3, "solution": true, "task": false}
def ap_at_prevalence(y_sample, scores_sample, prevalence):
    """Average precision the scores would have on traffic with fraud rate `prevalence`."""
    ### BEGIN SOLUTION
    if not 0.0 < prevalence < 1.0:
        raise ValueError(f"prevalence must be in (0, 1), got {prevalence}")
    y_s = np.asarray(y_sample).astype(bool)
    s_s = np.asarray(scores_sample)
    n_pos = int(y_s.sum())
    n_neg = int(y_s.size - n_pos)
    if n_pos == 0 or n_neg == 0:
        raise ValueError("the sample must contain frauds and legitimate transactions")
    # Each legitimate transaction of the sample stands for `weight` of them in the traffic: the
    # traffic's legit-to-fraud odds over the sample's.
    weight = ((1.0 - prevalence) / prevalence) / (n_neg / n_pos)
    order = np.argsort(-s_s)
    ys, ss = y_s[order], s_s[order]
    last = np.r_[ss[1:] != ss[:-1], True]            # the last row of each run of tied scores
    tp = np.cumsum(ys)[last].astype(float)
    fp = np.cumsum(~ys)[last].astype(float)
    precision = tp / (tp + weight * fp)
    recall_added = np.diff(np.r_[0.0, tp]) / n_pos
    return float(np.sum(recall_added * precision))
    ### END SOLUTION

# %% id="ex6-mistake-sample-ap" mistake={"readable": "mlcourse.evaluation.average_precision, as the demo cell code-1c0aaeb6 applies it to the balanced subsample", "why": "the sample's own average precision, as if its class mix were the traffic's"}
def ap_at_prevalence(y_sample, scores_sample, prevalence):
    y_s = np.asarray(y_sample).astype(bool)
    s_s = np.asarray(scores_sample, dtype=float)
    order = np.argsort(s_s, kind="stable")[::-1]
    s_sorted, y_sorted = s_s[order], y_s[order]
    last_of_run = np.r_[np.flatnonzero(np.diff(s_sorted)), s_sorted.size - 1]
    tps = np.cumsum(y_sorted)[last_of_run]
    fps = last_of_run + 1 - tps
    prec = tps / (tps + fps)
    rec = tps / tps[-1]
    prec, rec = np.r_[prec[::-1], 1.0], np.r_[rec[::-1], 0.0]
    return float(max(0.0, -np.sum(np.diff(rec) * prec[:-1])))

# %% id="ex6-mistake-weights-the-frauds" mistake={"why": "scales the frauds by the odds ratio instead of the legitimate transactions: the correction goes the wrong way"}
def ap_at_prevalence(y_sample, scores_sample, prevalence):
    if not 0.0 < prevalence < 1.0:
        raise ValueError("prevalence must be in (0, 1)")
    y_s = np.asarray(y_sample).astype(bool)
    s_s = np.asarray(scores_sample, dtype=float)
    n_pos, n_neg = int(y_s.sum()), int((~y_s).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("both classes are needed")
    weight = ((1.0 - prevalence) / prevalence) / (n_neg / n_pos)
    order = np.argsort(-s_s, kind="stable")
    ys, ss = y_s[order], s_s[order]
    last = np.r_[ss[1:] != ss[:-1], True]
    tp, fp = np.cumsum(ys)[last].astype(float), np.cumsum(~ys)[last].astype(float)
    precision = weight * tp / (weight * tp + fp)
    return float(np.sum(np.diff(np.r_[0.0, tp]) / n_pos * precision))

# %% id="ex6-mistake-prevalence-ratio" mistake={"why": "scales the legitimate transactions by the ratio of prevalences instead of the ratio of odds"}
def ap_at_prevalence(y_sample, scores_sample, prevalence):
    if not 0.0 < prevalence < 1.0:
        raise ValueError("prevalence must be in (0, 1)")
    y_s = np.asarray(y_sample).astype(bool)
    s_s = np.asarray(scores_sample, dtype=float)
    n_pos, n_neg = int(y_s.sum()), int((~y_s).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("both classes are needed")
    weight = (n_pos / y_s.size) / prevalence
    order = np.argsort(-s_s, kind="stable")
    ys, ss = y_s[order], s_s[order]
    last = np.r_[ss[1:] != ss[:-1], True]
    tp, fp = np.cumsum(ys)[last].astype(float), np.cumsum(~ys)[last].astype(float)
    precision = tp / (tp + weight * fp)
    return float(np.sum(np.diff(np.r_[0.0, tp]) / n_pos * precision))

# %% id="ex6-mistake-ties-one-by-one" mistake={"why": "steps through the rows one by one, so tied scores do not enter together"}
def ap_at_prevalence(y_sample, scores_sample, prevalence):
    if not 0.0 < prevalence < 1.0:
        raise ValueError("prevalence must be in (0, 1)")
    y_s = np.asarray(y_sample).astype(bool)
    s_s = np.asarray(scores_sample, dtype=float)
    n_pos, n_neg = int(y_s.sum()), int((~y_s).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("both classes are needed")
    weight = ((1.0 - prevalence) / prevalence) / (n_neg / n_pos)
    ys = y_s[np.argsort(-s_s, kind="stable")]
    tp, fp = np.cumsum(ys).astype(float), np.cumsum(~ys).astype(float)
    return float(np.sum(ys * tp / (tp + weight * fp)) / n_pos)

# %% id="ex6-ap-at-prevalence-tests" mlcourse={"stage": "evaluation", "tier": 3} nbgrader={"grade": true, "grade_id": "ex6_ap_at_prevalence_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# y = [1, 0, 1, 0], scores = [0.9, 0.8, 0.7, 0.1]: the sample's own fraud rate is 0.5, so at 0.5 this is
# the ordinary AP, by hand: the fraud at 0.9 adds half the recall at precision 1/1, the fraud at 0.7 the
# other half at precision 2/3: AP = 1/2 * 1 + 1/2 * 2/3 = 5/6.
_got = ap_at_prevalence(np.array([1, 0, 1, 0]), np.array([0.9, 0.8, 0.7, 0.1]), 0.5)
assert np.isclose(float(_got), 5 / 6, atol=1e-12), f"at the sample's own prevalence: expected AP 5/6 = 0.8333, got {_got}"
# Ties enter together: scores = [0.9, 0.9, 0.5, 0.1]: the threshold 0.9 takes a fraud and a legit
# (precision 1/2), 0.5 the second fraud (precision 2/3): AP = 1/2 * 1/2 + 1/2 * 2/3 = 7/12.
_got = ap_at_prevalence(np.array([1, 0, 1, 0]), np.array([0.9, 0.9, 0.5, 0.1]), 0.5)
assert np.isclose(float(_got), 7 / 12, atol=1e-12), f"with a tie: expected AP 7/12 = 0.5833, got {_got}"
# The lowest score is a fraud: y = [0, 1, 0, 1], scores = [0.9, 0.8, 0.7, 0.1]: precision 1/2 at 0.8,
# 2/4 at 0.1: AP = 1/2 * 1/2 + 1/2 * 2/4 = 1/2.
_got = ap_at_prevalence(np.array([0, 1, 0, 1]), np.array([0.9, 0.8, 0.7, 0.1]), 0.5)
assert np.isclose(float(_got), 0.5, atol=1e-12), f"the last fraud at the lowest score: expected AP 0.5, got {_got}"
# One legitimate transaction is enough: y = [1, 0, 1], scores = [0.9, 0.8, 0.4] at its own rate 2/3:
# precision 1/1 at 0.9, 2/3 at 0.4: AP = 1/2 + 1/2 * 2/3 = 5/6.
_got = ap_at_prevalence(np.array([1, 0, 1]), np.array([0.9, 0.8, 0.4]), 2 / 3)
assert np.isclose(float(_got), 5 / 6, atol=1e-12), f"a sample with a single legitimate transaction: expected 5/6, got {_got}"
# A perfect ranking has no false alarm above any fraud: AP = 1 at every prevalence.
for _prev in (0.5, 0.05, 0.001):
    _got = ap_at_prevalence(np.array([1, 1, 0, 0, 0]), np.array([0.9, 0.8, 0.3, 0.2, 0.1]), _prev)
    assert np.isclose(float(_got), 1.0, atol=1e-12), f"a perfect ranking at prevalence {_prev}: expected AP 1, got {_got}"
for _bad in (0.0, 1.0, 1.5, -0.1):
    try:
        ap_at_prevalence(np.array([1, 0, 1, 0]), np.array([0.9, 0.8, 0.7, 0.1]), _bad)
        _raised = False
    except ValueError:
        _raised = True
    assert _raised, f"expected ValueError for prevalence {_bad}, but nothing was raised"
try:
    ap_at_prevalence(np.zeros(5, dtype=int), np.linspace(0.1, 0.9, 5), 0.1)
    _raised = False
except ValueError:
    _raised = True
assert _raised, "expected ValueError for a sample without fraud, but nothing was raised"

# %% id="ex6-ap-at-prevalence-shift-tests" mlcourse={"stage": "evaluation", "tier": 3} nbgrader={"grade": true, "grade_id": "ex6_ap_at_prevalence_shift_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test checks the estimate when the prevalence differs from the sample's.
_rng = np.random.default_rng(61)
_yt = (_rng.random(2000) < 0.4).astype(int)
_sc = _rng.random(2000) + 0.6 * _yt
_aps = [float(ap_at_prevalence(_yt, _sc, _p)) for _p in (0.01, 0.1, 0.4, 0.8)]
assert all(0.0 <= v <= 1.0 for v in _aps), f"expected average precisions in [0, 1], got {_aps}"
assert _aps[0] < _aps[1] < _aps[2] < _aps[3], \
    f"fewer frauds per legitimate transaction means less trustworthy alarms: expected AP to rise with the prevalence, got {_aps}"
### BEGIN HIDDEN TESTS
# Worked examples with a shift, by hand.
# [1, 0, 1, 0] / [0.9, 0.8, 0.7, 0.1] at 0.2: 4 legit per fraud instead of 1, each sample legit counts 4:
# precision at 0.7 is 2 / (2 + 4) = 1/3, AP = 1/2 + 1/2 * 1/3 = 2/3.
_got_h = ap_at_prevalence(np.array([1, 0, 1, 0]), np.array([0.9, 0.8, 0.7, 0.1]), 0.2)
assert np.isclose(float(_got_h), 2 / 3, atol=1e-12), f"[1, 0, 1, 0] at prevalence 0.2: expected AP 2/3, got {_got_h}"
# With the tie at 0.2: precisions 1 / (1 + 4) and 2 / (2 + 4): AP = 1/2 * 1/5 + 1/2 * 1/3 = 4/15.
_got_h = ap_at_prevalence(np.array([1, 0, 1, 0]), np.array([0.9, 0.9, 0.5, 0.1]), 0.2)
assert np.isclose(float(_got_h), 4 / 15, atol=1e-12), f"tied scores at prevalence 0.2: expected AP 4/15, got {_got_h}"
# Traffic richer in fraud than the sample: 2 frauds, 4 legit (odds 1:2), traffic at 0.5 (odds 1:1): each legit
# counts 1/2; precisions 1 at 0.9, 2 / (2 + 3/2) at 0.5: AP = 1/2 + 1/2 * 4/7 = 11/14.
_got_h = ap_at_prevalence(np.array([1, 0, 0, 0, 1, 0]), np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4]), 0.5)
assert np.isclose(float(_got_h), 11 / 14, atol=1e-12), f"traffic richer in fraud than the sample: expected AP 11/14, got {_got_h}"

from sklearn.metrics import average_precision_score as _sk_ap

_rng_h = np.random.default_rng(6161)
for _n_h, _rate_h, _prev_h in [(3000, 0.3, 0.01), (800, 0.5, 0.002), (5000, 0.05, 0.2)]:
    _yt_h = (_rng_h.random(_n_h) < _rate_h).astype(int)
    _sc_h = np.round(_rng_h.random(_n_h) + 0.5 * _yt_h, 2)        # many ties
    _w_h = ((1 - _prev_h) / _prev_h) / ((_n_h - _yt_h.sum()) / _yt_h.sum())
    _exp_h = _sk_ap(_yt_h, _sc_h, sample_weight=np.where(_yt_h == 1, 1.0, _w_h))
    _got_h = ap_at_prevalence(_yt_h, _sc_h, _prev_h)
    assert np.isclose(float(_got_h), _exp_h, atol=1e-9), \
        f"n={_n_h}, sample fraud rate {_yt_h.mean():.3f}, prevalence {_prev_h}: expected AP {_exp_h:.6f}, got {_got_h}"
### END HIDDEN TESTS

# %% id="ex6-ap-at-prevalence-hidden-tests" mlcourse={"stage": "evaluation", "tier": 3} nbgrader={"grade": true, "grade_id": "ex6_ap_at_prevalence_hidden_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test draws enriched samples from fresh traffic and compares your estimate
# with the average precision of the whole traffic.
_ap_stream = float(ap_at_prevalence(y[bal], s[bal], float(y.mean())))
assert 0.0 <= _ap_stream < float(ap_at_prevalence(y[bal], s[bal], 0.5)), \
    f"the balanced subsample at your data's prevalence: expected an AP below the balanced one, got {_ap_stream}"
### BEGIN HIDDEN TESTS
from sklearn.metrics import average_precision_score as _sk_ap

for _prev_h, _keep_h, _seed_h in [(0.005, 0.2, 6201), (0.01, 0.05, 6202), (0.04, 0.3, 6203)]:
    _pop_h = make_scored_transactions(n=200_000, prevalence=_prev_h, seed=_seed_h)
    _yp_h, _sp_h = _pop_h["is_fraud"].to_numpy(), _pop_h["score"].to_numpy()
    _truth_h = _sk_ap(_yp_h, _sp_h)
    _pick_h = (_yp_h == 1) | (np.random.default_rng(_seed_h).random(_yp_h.size) < _keep_h)
    _got_h = float(ap_at_prevalence(_yp_h[_pick_h], _sp_h[_pick_h], float(_yp_h.mean())))
    assert abs(_got_h - _truth_h) <= 0.05, \
        (f"traffic at {_prev_h:.1%} fraud, sample with every fraud and {_keep_h:.0%} of the rest: the traffic's AP is "
         f"{_truth_h:.3f}, your estimate from the sample {_got_h:.3f}")
### END HIDDEN TESTS

# %% [markdown] id="md-bd722ad0"
# ## 7. Intrinsic and extrinsic properties
#
# The roadmap says evaluation measures assess *intrinsic* and *extrinsic* properties of a model.
#
# * **Intrinsic** properties belong to the model's outputs themselves, whatever they are later used for:
#   how well the scores **rank** positives above negatives (ROC-AUC, average precision) and whether they
#   are **calibrated** — among transactions scored 0.3, are about 30% fraud? — measured by log-loss,
#   the Brier score or a reliability table.
# * **Extrinsic** properties measure the model's **value in the downstream task**: the money lost to
#   missed fraud plus the cost of blocking good customers at the threshold actually deployed, the number
#   of cases an analyst team must review, the revenue of a recommendation. They depend on the
#   threshold, the costs and the population, not only on the model.
#
# The two can disagree. Below, we apply a monotone transformation to the scores (cubing them). The
# **ranking** is unchanged, so ROC-AUC is identical; calibration and the cost of decisions at a fixed
# threshold are not.

# %% id="code-7d08238a"
def log_loss(y_true, p, eps=1e-12):
    p = np.clip(p, eps, 1 - eps)
    return float(-np.mean(y_true * np.log(p) + (1 - y_true) * np.log(1 - p)))

variants = {"original scores": s, "scores cubed": s ** 3}
pd.DataFrame({
    name: {"ROC-AUC (intrinsic: ranking)": ev.roc_auc(y, v),
           "log-loss (intrinsic: calibration)": log_loss(y, v),
           "cost per txn @0.5, FP=1 FN=50 (extrinsic)": ev.expected_cost(y, v, 0.5, cost_fp=1, cost_fn=50)}
    for name, v in variants.items()
}).round(4)

# %% [markdown] id="md-9ca6ef44"
# Cubing pulls the scores down. Our scores are over-confident (see the table below), so cubed scores
# are *better* calibrated and the log-loss improves. Yet at the fixed threshold 0.5 the cubed model
# flags far fewer transactions and misses more fraud, so its decisions cost much more. Which model is
# "better" depends on the property you need, and an extrinsic measure means something only together
# with the threshold and the costs it assumes.
#
# A reliability table shows calibration directly: bin the scores and compare the mean score with the
# observed fraud rate in each bin. For a calibrated model the two columns agree (stage 5 of the course
# is about fixing them when they don't). Here the mean score is several times the observed fraud rate
# in every bin: a score of 0.3 does **not** mean a 30% chance of fraud. Remember this in section 12.

# %% id="code-cb19a632"
bins = pd.cut(tx["score"], [0, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0], include_lowest=True)
tx.groupby(bins, observed=True).agg(n=("is_fraud", "size"),
                                    mean_score=("score", "mean"),
                                    fraud_rate=("is_fraud", "mean")).round(3)

# %% [markdown] id="md-c181666e"
# ## 8. Choosing a threshold
#
# A score becomes a decision only through a threshold, and 0.5 is rarely right: it is optimal only for
# calibrated scores **and** equal error costs. Choose the threshold for the goal you actually have, on
# **validation** data (never on the test set you will report):
#
# * maximise F1 (or $F_\beta$) when you need a balanced single-number trade-off;
# * maximise recall subject to a minimum precision ("at least half of our alerts must be real");
# * reach a **recall target** with as few alerts as possible ("catch 90% of fraud") — the largest
#   threshold that still achieves the target recall;
# * minimise expected **cost** (section 12).

# %% id="code-daa0a31d"
best_f1 = ev.choose_threshold(y, s, metric="f1")
print("max F1            :", best_f1)
print("recall, prec>=0.5 :", ev.choose_threshold(y, s, metric="recall", min_precision=0.5))
t90 = ev.threshold_for_recall(y, s, 0.9)
print(f"recall target 0.9 : threshold {t90:.4f} -> recall {ev.recall(y, s >= t90):.3f}, "
      f"precision {ev.precision(y, s >= t90):.3f}, alerts {(s >= t90).sum():,}")

# %% [markdown] id="md-threshold-for-the-stream"
# Whatever the goal, the threshold will meet **production traffic**, not the validation set. A recall
# target travels well: recall is measured on frauds only, so it does not care how many legitimate
# transactions surround them. A **precision** target does not: the same threshold that gives 50%
# precision on validation data gives less on traffic with fewer frauds per legitimate transaction — and
# validation sets often have another class mix than production (an enriched sample, as in exercise 6,
# or last month's fraud wave).
#
# ### Exercise 7 (tier 3) — a precision target for the traffic it will meet
#
# The review team insists that at least `min_precision` of the alerts be fraud **in production**, where
# the fraud rate is `prevalence`. Implement
# `threshold_for_precision(y_val, scores_val, min_precision, prevalence)`:
#
# * return the threshold $t$ (flag when `score >= t`) that **catches the most fraud** among those whose
#   precision on production traffic would be at least `min_precision`; of thresholds that catch the same
#   frauds, the highest (the fewest alerts);
# * the validation data may have another class mix than production; assume, as in exercise 6, that
#   only the mix differs;
# * return one of the validation scores, as a float; raise `ValueError` if no threshold reaches the
#   target, or if `min_precision` is not in $(0, 1]$ or `prevalence` not in $(0, 1)$;
# * NumPy only: no scikit-learn, no `mlcourse`.
#
# The hidden tests choose thresholds on validation data with class mixes you have not seen and measure
# precision and recall on fresh production traffic.

# %% id="ex7-threshold-for-precision" mlcourse={"forbid": ["sklearn.metrics", "mlcourse.evaluation"], "stage": "evaluation", "tier": 3} nbgrader={"grade": false, "grade_id": "ex7_threshold_for_precision", "locked": false, "schema_version": 3, "solution": true, "task": false}
def threshold_for_precision(y_val, scores_val, min_precision, prevalence):
    """Threshold with the highest recall whose precision at fraud rate `prevalence` is >= min_precision."""
    ### BEGIN SOLUTION
    if not min_precision > 0.0:             # above 1 no threshold can reach it: the check below raises
        raise ValueError(f"min_precision must be in (0, 1], got {min_precision}")
    if not 0.0 < prevalence < 1.0:
        raise ValueError(f"prevalence must be in (0, 1), got {prevalence}")
    y_v = np.asarray(y_val).astype(bool)
    s_v = np.asarray(scores_val)
    n_pos = int(y_v.sum())
    n_neg = int(y_v.size - n_pos)
    if n_pos == 0 or n_neg == 0:
        raise ValueError("the validation data must contain frauds and legitimate transactions")
    weight = ((1.0 - prevalence) / prevalence) / (n_neg / n_pos)   # production legit per validation legit
    order = np.argsort(-s_v)
    ys, ss = y_v[order], s_v[order]
    last = np.r_[ss[1:] != ss[:-1], True]
    tp = np.cumsum(ys)[last]
    fp = np.cumsum(~ys)[last]
    ok = tp / (tp + weight * fp) >= min_precision
    if not ok.any():
        raise ValueError(f"no threshold reaches precision {min_precision} at prevalence {prevalence}")
    # The most fraud caught among the thresholds that reach the target; of those, the highest.
    best = np.flatnonzero(ok & (tp == tp[ok].max()))[0]
    return float(ss[last][best])
    ### END SOLUTION

# %% id="ex7-mistake-validation-precision" mistake={"readable": "mlcourse.evaluation.choose_threshold(y, s, metric='recall', min_precision=...), as in demo cell code-daa0a31d", "why": "meets the precision target on the validation data's own class mix, not on production traffic"}
def threshold_for_precision(y_val, scores_val, min_precision, prevalence):
    y_v = np.asarray(y_val).astype(bool)
    s_v = np.asarray(scores_val, dtype=float)
    order = np.argsort(s_v, kind="stable")[::-1]
    s_sorted, y_sorted = s_v[order], y_v[order]
    last_of_run = np.r_[np.flatnonzero(np.diff(s_sorted)), s_sorted.size - 1]
    tps = np.cumsum(y_sorted)[last_of_run]
    fps = last_of_run + 1 - tps
    thresholds = s_sorted[last_of_run]
    prec = tps / (tps + fps)
    rec = tps / max(int(y_v.sum()), 1)
    allowed = prec >= min_precision
    if not allowed.any():
        raise ValueError("no threshold satisfies the constraint")
    return float(thresholds[int(np.argmax(np.where(allowed, rec, -np.inf)))])

# %% id="ex7-mistake-first-threshold" mistake={"why": "returns the highest threshold that meets the target (fewest alerts) instead of the one that catches the most fraud"}
def threshold_for_precision(y_val, scores_val, min_precision, prevalence):
    if not 0.0 < min_precision <= 1.0 or not 0.0 < prevalence < 1.0:
        raise ValueError("bad target or prevalence")
    y_v = np.asarray(y_val).astype(bool)
    s_v = np.asarray(scores_val, dtype=float)
    n_pos, n_neg = int(y_v.sum()), int((~y_v).sum())
    weight = ((1.0 - prevalence) / prevalence) / (n_neg / n_pos)
    order = np.argsort(-s_v, kind="stable")
    ys, ss = y_v[order], s_v[order]
    last = np.r_[ss[1:] != ss[:-1], True]
    tp, fp = np.cumsum(ys)[last].astype(float), np.cumsum(~ys)[last].astype(float)
    ok = np.flatnonzero(tp / (tp + weight * fp) >= min_precision)
    if ok.size == 0:
        raise ValueError("no threshold reaches the target")
    return float(ss[last][ok[0]])

# %% id="ex7-mistake-inverted-odds" mistake={"why": "turns the odds ratio upside down: corrects towards the validation mix instead of production's"}
def threshold_for_precision(y_val, scores_val, min_precision, prevalence):
    if not 0.0 < min_precision <= 1.0 or not 0.0 < prevalence < 1.0:
        raise ValueError("bad target or prevalence")
    y_v = np.asarray(y_val).astype(bool)
    s_v = np.asarray(scores_val, dtype=float)
    n_pos, n_neg = int(y_v.sum()), int((~y_v).sum())
    weight = (n_neg / n_pos) / ((1.0 - prevalence) / prevalence)
    order = np.argsort(-s_v, kind="stable")
    ys, ss = y_v[order], s_v[order]
    last = np.r_[ss[1:] != ss[:-1], True]
    tp, fp = np.cumsum(ys)[last].astype(float), np.cumsum(~ys)[last].astype(float)
    ok = np.flatnonzero(tp / (tp + weight * fp) >= min_precision)
    if ok.size == 0:
        raise ValueError("no threshold reaches the target")
    return float(ss[last][ok[-1]])

# %% id="ex7-threshold-for-precision-tests" mlcourse={"stage": "evaluation", "tier": 3} nbgrader={"grade": true, "grade_id": "ex7_threshold_for_precision_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# y = [1, 1, 0, 1, 0, 0, 0, 0], scores = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]: 3 frauds in 8, and
# production at the same rate 3/8. By hand, the precision at each threshold is
# 0.9: 1/1, 0.8: 2/2, 0.7: 2/3, 0.6: 3/4, 0.5: 3/5, ... The lowest threshold with precision >= 0.75 is 0.6,
# and it catches all three frauds.
_yv = np.array([1, 1, 0, 1, 0, 0, 0, 0])
_sv = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])
_got = threshold_for_precision(_yv, _sv, 0.75, 3 / 8)
assert isinstance(_got, (float, np.floating)), f"expected a float threshold, got {_got!r}"
assert np.isclose(float(_got), 0.6, atol=1e-12), f"expected threshold 0.6 (precision 3/4, recall 1), got {_got}"
# The highest precision here is 1 (at 0.9 and 0.8): the lowest threshold reaching it is 0.8.
_got = threshold_for_precision(_yv, _sv, 1.0, 3 / 8)
assert np.isclose(float(_got), 0.8, atol=1e-12), f"precision target 1.0: expected threshold 0.8, got {_got}"
# Ties are flagged together: y = [1, 1, 0, 0], scores = [0.9, 0.5, 0.5, 0.1]: at 0.5 a fraud and a legit
# enter at once, precision 2/3 < 0.7, so the threshold stays at 0.9 (precision 1).
_got = threshold_for_precision(np.array([1, 1, 0, 0]), np.array([0.9, 0.5, 0.5, 0.1]), 0.7, 0.5)
assert np.isclose(float(_got), 0.9, atol=1e-12), f"tied scores: expected threshold 0.9 (0.5 has precision 2/3), got {_got}"
# Catching the same frauds with more alerts is no better: y = [1, 0, 0, 0], scores = [0.9, 0.8, 0.7, 0.6],
# target 0.5 at the data's own rate 1/4: 0.9 (precision 1/1) and 0.8 (1/2) both catch the one fraud: 0.9.
_got = threshold_for_precision(np.array([1, 0, 0, 0]), np.array([0.9, 0.8, 0.7, 0.6]), 0.5, 0.25)
assert np.isclose(float(_got), 0.9, atol=1e-12), f"two thresholds catch the only fraud: expected the higher, 0.9, got {_got}"
# The answer can be the lowest score: y = [1, 0, 1], scores = [0.9, 0.8, 0.1], target 0.6 at rate 2/3:
# precision at 0.1 is 2/3, which catches both frauds.
_got = threshold_for_precision(np.array([1, 0, 1]), np.array([0.9, 0.8, 0.1]), 0.6, 2 / 3)
assert np.isclose(float(_got), 0.1, atol=1e-12), f"every fraud caught at precision 2/3: expected 0.1, got {_got}"
for _args in [(_yv, _sv, 0.0, 0.3), (_yv, _sv, 1.2, 0.3), (_yv, _sv, 0.5, 0.0), (_yv, _sv, 0.5, 1.0),
              (np.zeros(5, dtype=int), np.linspace(0.1, 0.9, 5), 0.5, 0.1),
              (np.ones(5, dtype=int), np.linspace(0.1, 0.9, 5), 0.5, 0.1)]:
    try:
        threshold_for_precision(*_args)
        _raised = False
    except ValueError:
        _raised = True
    assert _raised, (f"expected ValueError for min_precision={_args[2]}, prevalence={_args[3]} "
                     f"({int(np.sum(_args[0]))} frauds in {len(_args[0])}), but nothing was raised")
# Every fraud scores below every legit: no threshold reaches precision 0.5.
try:
    threshold_for_precision(np.array([0, 0, 1, 1]), np.array([0.9, 0.8, 0.2, 0.1]), 0.9, 0.5)
    _raised = False
except ValueError:
    _raised = True
assert _raised, "expected ValueError when no threshold reaches the precision target, but nothing was raised"

# %% id="ex7-threshold-for-precision-hidden-tests" mlcourse={"stage": "evaluation", "tier": 3} nbgrader={"grade": true, "grade_id": "ex7_threshold_for_precision_hidden_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test chooses thresholds on validation data with other class mixes and
# measures them on fresh production traffic.
_t_here = float(threshold_for_precision(y, s, 0.5, float(y.mean())))
_t_rarer = float(threshold_for_precision(y, s, 0.5, float(y.mean()) / 2))
assert _t_here in set(s.tolist()), f"expected one of the validation scores, got {_t_here}"
assert _t_rarer >= _t_here, \
    f"with half the fraud in production the same precision needs a stricter threshold: got {_t_rarer} < {_t_here}"
### BEGIN HIDDEN TESTS
# By hand: the example above with production at 3/13 fraud (legit:fraud odds 10:3 instead of 5:3), so each
# validation legit counts twice: precision at 0.6 is 3 / (3 + 2) = 0.6 < 0.75, at 0.8 it is 1: threshold 0.8.
_got_h = threshold_for_precision(_yv, _sv, 0.75, 3 / 13)
assert np.isclose(float(_got_h), 0.8, atol=1e-12), f"the 8-row example at prevalence 3/13: expected 0.8, got {_got_h}"


def _pr_h(yt, sc, t):
    flag = sc >= t
    return (float(yt[flag].mean()) if flag.any() else 0.0), float(flag[yt == 1].mean())


def _oracle_recall_h(yt, sc, target):
    order = np.argsort(-sc, kind="stable")
    ys, ss = yt[order] == 1, sc[order]
    last = np.r_[ss[1:] != ss[:-1], True]
    tp, fp = np.cumsum(ys)[last], np.cumsum(~ys)[last]
    ok = np.flatnonzero(tp / (tp + fp) >= target)
    return float(tp[ok[-1]] / ys.sum())


# (validation traffic's fraud rate, share of its legit kept, production fraud rate, precision target)
for _vprev_h, _keep_h, _dprev_h, _target_h, _seed_h in [(0.01, 0.1, 0.01, 0.5, 7101), (0.01, 1.0, 0.04, 0.6, 7102),
                                                        (0.03, 0.25, 0.03, 0.6, 7103)]:
    _val_h = make_scored_transactions(n=200_000, prevalence=_vprev_h, seed=_seed_h)
    _yv_h, _sv_h = _val_h["is_fraud"].to_numpy(), _val_h["score"].to_numpy()
    _pick_h = (_yv_h == 1) | (np.random.default_rng(_seed_h).random(_yv_h.size) < _keep_h)
    _t_h = float(threshold_for_precision(_yv_h[_pick_h], _sv_h[_pick_h], _target_h, _dprev_h))
    _prod_h = make_scored_transactions(n=400_000, prevalence=_dprev_h, seed=_seed_h + 50)
    _yp_h, _sp_h = _prod_h["is_fraud"].to_numpy(), _prod_h["score"].to_numpy()
    _prec_h, _rec_h = _pr_h(_yp_h, _sp_h, _t_h)
    _best_h = _oracle_recall_h(_yp_h, _sp_h, _target_h)
    _where_h = (f"validation at {_yv_h[_pick_h].mean():.1%} fraud, production at {_dprev_h:.0%}, "
                f"target precision {_target_h}: threshold {_t_h:.4f}")
    assert _prec_h >= _target_h - 0.07, f"{_where_h} gives precision {_prec_h:.3f} in production"
    assert _rec_h >= _best_h - 0.07, \
        f"{_where_h} catches {_rec_h:.3f} of the fraud in production, where {_best_h:.3f} was possible at that precision"
### END HIDDEN TESTS

# %% [markdown] id="md-23cd60c8"
# ## 9. How sure are we? Bootstrap confidence intervals
#
# A metric computed on a test set is an **estimate**: another sample of transactions would give a
# different number. With only a few hundred fraud cases, recall can easily move by several points. A
# model "improvement" smaller than that is noise.
#
# The **percentile bootstrap** estimates the spread without formulas: resample the $n$ test rows **with
# replacement** many times, recompute the metric on each resample, and take the $\alpha/2$ and
# $1 - \alpha/2$ quantiles of those values as a $(1-\alpha)$ interval. Rows are resampled **in pairs**
# — the same indices for `y_true` and `y_pred` — because the metric depends on which prediction
# belongs to which label.

# %% id="code-7db7b96e"
ci = ev.bootstrap_ci(ev.recall, y, y_hat, n_resamples=N_BOOT, seed=SEED)
print(f"recall @0.5 = {ci.estimate:.3f}, 95% CI [{ci.low:.3f}, {ci.high:.3f}]  (all {len(y):,} rows)")

small = np.random.default_rng(SEED).choice(len(y), size=len(y) // 10, replace=False)
ci_small = ev.bootstrap_ci(ev.recall, y[small], y_hat[small], n_resamples=N_BOOT, seed=SEED)
print(f"recall @0.5 = {ci_small.estimate:.3f}, 95% CI [{ci_small.low:.3f}, {ci_small.high:.3f}]"
      f"  (a tenth of the rows: {y[small].sum()} fraud cases)")

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.hist(ci.samples, bins=30, alpha=0.7, label="all rows")
ax.hist(ci_small.samples, bins=30, alpha=0.5, label="10% of rows")
ax.set_xlabel("bootstrap recall")
ax.legend()
plt.show()

# %% [markdown] id="md-d314a3bc"
# Ten times less data gives an interval roughly $\sqrt{10} \approx 3$ times wider: intervals shrink like
# $1/\sqrt{n}$. For a metric that depends on positives only, like recall, the $n$ that counts is the
# number of positives.
#
# ### Comparing two models on the same transactions
#
# The question an interval is most often asked is "is the new model better?". Say version 2 of our
# model also looks at the transaction's amount (frauds tend to be larger). Here are both models'
# recalls at threshold 0.5, each with its own bootstrap interval, and how the two models' decisions on
# the fraud cases line up:

# %% id="code-paired-demo"
s_v2 = 1.0 / (1.0 + np.exp(-(np.log(s / (1 - s)) + 0.5 * (np.log(tx["amount"].to_numpy()) - 3.5))))
y_hat_v2 = (s_v2 >= 0.5).astype(int)
for name, pred in [("v1", y_hat), ("v2", y_hat_v2)]:
    ci_model = ev.bootstrap_ci(ev.recall, y, pred, n_resamples=N_BOOT, seed=SEED)
    print(f"{name}: recall {ci_model.estimate:.3f}, 95% CI [{ci_model.low:.3f}, {ci_model.high:.3f}], "
          f"alerts {pred.sum():,}")
fraud = y == 1
pd.crosstab(pd.Series(y_hat[fraud], name="v1 catches"), pd.Series(y_hat_v2[fraud], name="v2 catches"))

# %% [markdown] id="md-paired-comparison"
# The two intervals overlap, which tempts one to say "no evidence that v2 is better". That reading
# throws away what we know. Each interval says how much *one* model's recall would move on another
# sample of transactions — but both were measured on the **same** transactions, and their decisions are
# strongly tied: most frauds are caught by both or missed by both (the diagonal of the table). Those
# frauds say nothing about which model is better, yet they make up most of each interval's width. The
# comparison lives in the frauds on which the two models **disagree**, the off-diagonal cells, and the
# question is whether their split is more lopsided than chance would make it.
#
# Two standard tools ask it properly:
#
# * **McNemar's test** looks only at the cases on which the models disagree: if the two were equally
#   good, each disagreement would be as likely to go one way as the other.
# * A **paired bootstrap** resamples the transactions once per round and recomputes *both* models on
#   that same resample, which gives an interval for the **difference** of the metric.
#
# Intervals that do not overlap do show a difference, but overlapping intervals do not show its
# absence. (v2 also raises more alerts: a comparison for deployment would hold the alert volume
# fixed. Here we compare the two rules as they are.)
#
# ### Exercise 8 (tier 4) — which model catches more fraud?
#
# Implement `compare_recall(y_true, pred_a, pred_b, alpha=0.05, seed=0)`. `pred_a` and `pred_b` are the
# 0/1 decisions of two models **on the same transactions** `y_true`. Return
#
# * `"A"` if model A's recall is higher and the difference is significant at level `alpha`
#   (two-sided), `"B"` if B's is, and
# * `"tie"` if the data do not show a significant difference.
#
# Raise `ValueError` if `y_true` has no fraud. Use any sound method; `seed` is there if yours draws
# random numbers. NumPy and the standard library are enough (`math.comb`, `statistics.NormalDist`).
#
# The hidden tests compare pairs of models on data you have not seen: some differ by less than either
# recall's own uncertainty, and some do not differ at all — a careful analyst then answers `"tie"`
# nearly every time.

# %% id="ex8-compare-recall" mlcourse={"forbid": ["statsmodels", "mlcourse.evaluation"], "stage": "evaluation", "tier": 4, "equivalent_mutants": {"13:11 arith Add>Sub": "only_a - only_b is 0 exactly when the counts are equal, and then the exact two-sided p-value is 1, so the answer is 'tie' either way", "16:7 compare GtE>Gt": "an exact binomial p-value is a multiple of 2**-n and equals alpha only for such dyadic alphas; which side p == alpha falls on is a convention, not the skill", "18:18 compare Gt>GtE": "this line is reached only when p < alpha, which needs only_a != only_b"}} nbgrader={"grade": false, "grade_id": "ex8_compare_recall", "locked": false, "schema_version": 3, "solution": true, "task": false}
def compare_recall(y_true, pred_a, pred_b, alpha=0.05, seed=0):
    """'A', 'B' or 'tie': which model's recall is significantly higher on the same transactions."""
    ### BEGIN SOLUTION
    from scipy.stats import binomtest

    fraud = np.asarray(y_true).astype(bool)
    if not fraud.any():
        raise ValueError("y_true has no fraud: recall is undefined")
    a = np.asarray(pred_a).astype(bool)[fraud]
    b = np.asarray(pred_b).astype(bool)[fraud]
    only_a = int(np.sum(a & ~b))              # frauds A catches and B misses
    only_b = int(np.sum(b & ~a))
    if not only_a + only_b:                   # the models agree on every fraud
        return "tie"
    # Exact McNemar test: if the two were equally good, only_a ~ Binomial(only_a + only_b, 1/2).
    if binomtest(only_a, only_a + only_b).pvalue >= alpha:
        return "tie"
    return "A" if only_a > only_b else "B"
    ### END SOLUTION

# %% id="ex8-mistake-separate-intervals" mistake={"readable": "demo cell code-paired-demo: one mlcourse.evaluation.bootstrap_ci per model", "why": "one bootstrap interval per model, and a winner only when the intervals do not overlap: the pairing is thrown away"}
def compare_recall(y_true, pred_a, pred_b, alpha=0.05, seed=0):
    y_true = np.asarray(y_true).astype(bool)
    if not y_true.any():
        raise ValueError("no fraud")

    def interval(pred):
        pred = np.asarray(pred).astype(bool)
        rng = np.random.default_rng(seed)
        n = len(y_true)
        kept = []
        for _ in range(1000):
            idx = rng.integers(0, n, size=n)
            yt, yp = y_true[idx], pred[idx]
            if yt.any():
                kept.append(np.sum(yt & yp) / np.sum(yt))
        return np.percentile(kept, [100 * alpha / 2, 100 * (1 - alpha / 2)])

    low_a, high_a = interval(pred_a)
    low_b, high_b = interval(pred_b)
    if low_b > high_a:
        return "B"
    if low_a > high_b:
        return "A"
    return "tie"

# %% id="ex8-mistake-higher-recall-wins" mistake={"why": "declares the model with the higher recall the winner, with no test"}
def compare_recall(y_true, pred_a, pred_b, alpha=0.05, seed=0):
    fraud = np.asarray(y_true).astype(bool)
    if not fraud.any():
        raise ValueError("no fraud")
    recall_a = np.mean(np.asarray(pred_a)[fraud])
    recall_b = np.mean(np.asarray(pred_b)[fraud])
    if recall_a == recall_b:
        return "tie"
    return "A" if recall_a > recall_b else "B"

# %% id="ex8-mistake-unpaired-z-test" mistake={"why": "a two-proportion z-test, as if the two recalls came from independent samples of frauds"}
def compare_recall(y_true, pred_a, pred_b, alpha=0.05, seed=0):
    from statistics import NormalDist
    fraud = np.asarray(y_true).astype(bool)
    if not fraud.any():
        raise ValueError("no fraud")
    n = fraud.sum()
    recall_a = np.mean(np.asarray(pred_a)[fraud])
    recall_b = np.mean(np.asarray(pred_b)[fraud])
    pooled = (recall_a + recall_b) / 2
    se = np.sqrt(2 * pooled * (1 - pooled) / n)
    if se == 0 or abs(recall_b - recall_a) / se < NormalDist().inv_cdf(1 - alpha / 2):
        return "tie"
    return "B" if recall_b > recall_a else "A"

# %% id="ex8-mistake-accuracy-not-recall" mistake={"why": "runs McNemar's test on every transaction (accuracy) instead of on the frauds (recall)"}
def compare_recall(y_true, pred_a, pred_b, alpha=0.05, seed=0):
    from math import comb
    y_true = np.asarray(y_true).astype(bool)
    if not y_true.any():
        raise ValueError("no fraud")
    right_a = np.asarray(pred_a).astype(bool) == y_true
    right_b = np.asarray(pred_b).astype(bool) == y_true
    only_a, only_b = int(np.sum(right_a & ~right_b)), int(np.sum(right_b & ~right_a))
    n = only_a + only_b
    if n == 0:
        return "tie"
    p_value = min(1.0, 2 * sum(comb(n, i) for i in range(min(only_a, only_b) + 1)) / 2 ** n)
    if p_value >= alpha:
        return "tie"
    return "A" if only_a > only_b else "B"

# %% id="ex8-compare-recall-tests" mlcourse={"stage": "evaluation", "tier": 4} nbgrader={"grade": true, "grade_id": "ex8_compare_recall_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_yt = np.r_[np.ones(40, dtype=int), np.zeros(60, dtype=int)]
_a = np.r_[np.ones(10, dtype=int), np.zeros(30, dtype=int), np.zeros(60, dtype=int)]
assert compare_recall(_yt, _a, _a.copy()) == "tie", "identical decisions: expected 'tie'"
# 40 frauds: A catches 10 of them; B catches the same 10 and 20 more, and misses none that A catches.
# All 20 disagreements go B's way, far more lopsided than chance (recall 0.25 against 0.75): B.
_b = np.r_[np.ones(30, dtype=int), np.zeros(10, dtype=int), np.zeros(60, dtype=int)]
_got = compare_recall(_yt, _a, _b)
assert _got in ("A", "B", "tie"), f"expected 'A', 'B' or 'tie', got {_got!r}"
assert _got == "B", f"B catches 20 more frauds and misses none that A catches: expected 'B', got {_got!r}"
assert compare_recall(_yt, _b, _a) == "A", "the same models swapped: expected 'A'"
# Legitimate transactions play no part in recall: B flagging all of them changes nothing.
_b_noisy = _b.copy()
_b_noisy[40:] = 1
assert compare_recall(_yt, _a, _b_noisy) == "B", "decisions on legitimate transactions must not change a recall comparison"
try:
    compare_recall(np.zeros(10, dtype=int), np.zeros(10, dtype=int), np.ones(10, dtype=int))
    _raised = False
except ValueError:
    _raised = True
assert _raised, "expected ValueError when y_true has no fraud, but nothing was raised"

# %% id="ex8-compare-recall-paired-tests" mlcourse={"stage": "evaluation", "tier": 4} nbgrader={"grade": true, "grade_id": "ex8_compare_recall_paired_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test compares models whose difference only the pairing reveals.
assert compare_recall(y, y_hat, y_hat_v2) in ("A", "B", "tie"), "expected 'A', 'B' or 'tie' for v1 against v2"
### BEGIN HIDDEN TESTS
def _pair_h(rng, n=8000, n_pos=400, caught=300, only_a=2, only_b=22):
    yt = np.zeros(n, dtype=int)
    pos = rng.choice(n, n_pos, replace=False)
    yt[pos] = 1
    a, b = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    perm = rng.permutation(pos)
    hit, miss = perm[:caught], perm[caught:]
    a[hit] = b[hit] = True
    b[hit[:only_a]] = False
    b[miss[:only_b]] = True
    neg = np.flatnonzero(yt == 0)
    a[neg[rng.random(neg.size) < 0.02]] = True
    b[neg] = a[neg] | (rng.random(neg.size) < 0.02)          # B also raises more false alarms
    return yt, a.astype(int), b.astype(int)


_rng_h = np.random.default_rng(8101)
for _rep_h in range(4):
    # 400 frauds, recall 0.75 against 0.80: the gap is under either recall's own 95% margin (about 0.04),
    # but 22 of the 24 disagreements go B's way.
    _yt_h, _a_h, _b_h = _pair_h(_rng_h)
    _got_h = compare_recall(_yt_h, _a_h, _b_h, seed=_rep_h)
    assert _got_h == "B", f"replicate {_rep_h}: B catches 22 frauds A misses and misses 2 A catches: expected 'B', got {_got_h!r}"
    _got_h = compare_recall(_yt_h, _b_h, _a_h, seed=_rep_h)
    assert _got_h == "A", f"replicate {_rep_h}, models swapped: expected 'A', got {_got_h!r}"
# A few disagreements: 60 frauds, 30 caught by both, 1 by A alone and 8 by B alone. Significant at 5%
# (exact p = 0.039), not at 1%: the answer must follow alpha.
_yt_h = np.r_[np.ones(60, dtype=int), np.zeros(100, dtype=int)]
_a_h = np.zeros(160, dtype=int)
_a_h[:31] = 1
_b_h = np.zeros(160, dtype=int)
_b_h[:30] = 1
_b_h[31:39] = 1
_got_h = compare_recall(_yt_h, _a_h, _b_h, alpha=0.05)
assert _got_h == "B", f"8 disagreements against 1 at alpha 0.05: expected 'B', got {_got_h!r}"
_got_h = compare_recall(_yt_h, _a_h, _b_h, alpha=0.01)
assert _got_h == "tie", f"8 disagreements against 1 at alpha 0.01: expected 'tie', got {_got_h!r}"
### END HIDDEN TESTS

# %% id="ex8-compare-recall-null-tests" mlcourse={"stage": "evaluation", "tier": 4} nbgrader={"grade": true, "grade_id": "ex8_compare_recall_null_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test compares models that are equally good: they must mostly come out as a tie.
assert compare_recall(y, y_hat, y_hat.copy()) == "tie", "the same decisions twice: expected 'tie'"
### BEGIN HIDDEN TESTS
_rng_h = np.random.default_rng(8202)
_answers_h = []
for _rep_h in range(40):
    _n_h = 3000
    _yt_h = (_rng_h.random(_n_h) < 0.05).astype(int)
    _pos_h = _yt_h == 1
    _a_h = np.where(_pos_h, _rng_h.random(_n_h) < 0.7, _rng_h.random(_n_h) < 0.02)
    _u_h = _rng_h.random(_n_h)
    # B differs from A on a few frauds, as often one way as the other (same recall in expectation).
    _b_h = _a_h.copy()
    _b_h[_pos_h & _a_h & (_u_h < 0.06)] = False
    _b_h[_pos_h & ~_a_h & (_u_h < 0.14)] = True
    _b_h[~_pos_h] = _rng_h.random(int((~_pos_h).sum())) < 0.03
    _answers_h.append(compare_recall(_yt_h, _a_h.astype(int), _b_h.astype(int), seed=_rep_h))
_ties_h = sum(_ans == "tie" for _ans in _answers_h)
assert _ties_h >= 32, \
    f"40 pairs of equally good models: expected 'tie' at least 32 times at alpha = 0.05, got {_ties_h} (answers {_answers_h})"
### END HIDDEN TESTS

# %% [markdown] id="md-review-queues"
# ## 10. Review queues: precision at k
#
# Many fraud teams do not run on a threshold at all: they run on **capacity**. The analysts can review,
# say, 40 transactions a day, so each day they take that day's 40 highest-scored transactions. The
# threshold is whatever score the 40th of them has, and the number the team lives with is **precision
# at $k$**: of the $k$ transactions reviewed, how many were fraud?
#
# Precision at $k$ reads the ranking at one depth — the top $k$ *of a given number of transactions* —
# so the same $k$ means different things on different volumes: the top 40 of 20,000 validation rows are
# far more extreme than the top 40 of one day's 2,000. And each day's queue is a fresh draw: with
# $k = 40$, one fraud more or less moves the day's precision by 2.5 points. Below is precision at $k$ on
# our 20,000 transactions, as the top of the ranking is read deeper and deeper.

# %% id="code-precision-at-k"
order = np.argsort(-s, kind="stable")
depth = np.arange(1, 2001)
precision_at_k = np.cumsum(y[order][:2000]) / depth
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(depth, precision_at_k)
ax.set_xscale("log")
ax.set_xlabel("k (transactions reviewed, highest scores first)")
ax.set_ylabel("precision at k")
plt.show()
pd.Series({k: precision_at_k[k - 1] for k in (40, 100, 400, 1000)}, name="precision at k, all 20,000 rows").round(3)

# %% [markdown] id="md-ex9-review-queue"
# ### Exercise 9 (tier 4) — what will the analysts see?
#
# Every day the team reviews the `k` highest-scored of that day's `n_day` transactions. Implement
# `review_queue_precision(y_val, scores_val, k, n_day, confidence=0.9, seed=0)` returning
# `(estimate, low, high)`:
#
# * `estimate`: the **expected** precision at $k$ of one day's queue;
# * `(low, high)`: a range that contains the precision of a single day's queue on a share `confidence`
#   of the days — what the team should expect to see, day after day;
# * `y_val`, `scores_val` are labelled, scored transactions from the same stream, usually many days'
#   worth; raise `ValueError` unless $1 \le k \le$ `n_day`;
# * no `mlcourse`; `seed` is there for anything random you do.
#
# The hidden tests simulate hundreds of fresh days, with day sizes, queue lengths and fraud rates you
# have not seen. Your estimate must be close to the days' average precision, and your range must hold
# about `confidence` of the days without being needlessly wide.

# %% id="ex9-review-queue" mlcourse={"forbid": ["sklearn.metrics", "mlcourse.evaluation"], "stage": "evaluation", "tier": 4, "equivalent_mutants": {"10:25 number 2000>2001": "one simulated day more moves the quantiles by simulation noise only"}} nbgrader={"grade": false, "grade_id": "ex9_review_queue", "locked": false, "schema_version": 3, "solution": true, "task": false}
def review_queue_precision(y_val, scores_val, k, n_day, confidence=0.9, seed=0):
    """(estimate, low, high): a day's precision at k, and the range it falls in on `confidence` of days."""
    ### BEGIN SOLUTION
    if not 1 <= k <= n_day:
        raise ValueError(f"need 1 <= k <= n_day, got k={k}, n_day={n_day}")
    y_v = np.asarray(y_val)
    s_v = np.asarray(scores_val)
    # Simulate days: draw n_day transactions from the validation data, review that day's top k.
    rng = np.random.default_rng(seed)
    precision = np.empty(2000)
    for day in range(precision.size):
        idx = rng.choice(y_v.size, size=n_day)
        top = np.argsort(-s_v[idx])[:k]
        precision[day] = y_v[idx][top].mean()
    tail = (1 - confidence) / 2
    low, high = np.quantile(precision, [tail, 1 - tail])
    return float(precision.mean()), float(low), float(high)
    ### END SOLUTION

# %% id="ex9-mistake-same-k-on-validation" mistake={"readable": "demo cell code-precision-at-k: precision at k of the whole validation set, with a bootstrap interval as in code-7db7b96e", "why": "reads the top k of the whole validation set, not of a day's n_day transactions, and gives the uncertainty of that one number"}
def review_queue_precision(y_val, scores_val, k, n_day, confidence=0.9, seed=0):
    if not 1 <= k <= n_day:
        raise ValueError("need 1 <= k <= n_day")
    y_v = np.asarray(y_val).astype(float)
    s_v = np.asarray(scores_val, dtype=float)
    estimate = y_v[np.argsort(-s_v, kind="stable")[:k]].mean()
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(300):
        idx = rng.integers(0, y_v.size, size=y_v.size)
        values.append(y_v[idx][np.argpartition(-s_v[idx], k - 1)[:k]].mean())
    low, high = np.quantile(values, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(estimate), float(min(low, estimate)), float(max(high, estimate))

# %% id="ex9-mistake-estimate-only-interval" mistake={"why": "reads the right depth of the validation ranking, but the range is the estimate's standard error, not a day's spread"}
def review_queue_precision(y_val, scores_val, k, n_day, confidence=0.9, seed=0):
    from statistics import NormalDist
    if not 1 <= k <= n_day:
        raise ValueError("need 1 <= k <= n_day")
    y_v = np.asarray(y_val).astype(float)
    s_v = np.asarray(scores_val, dtype=float)
    depth = max(1, int(round(k * y_v.size / n_day)))
    estimate = y_v[np.argsort(-s_v, kind="stable")[:depth]].mean()
    half = NormalDist().inv_cdf((1 + confidence) / 2) * np.sqrt(estimate * (1 - estimate) / depth)
    return float(estimate), float(max(0.0, estimate - half)), float(min(1.0, estimate + half))

# %% id="ex9-mistake-fixed-95" mistake={"why": "always gives a 95% range, whatever `confidence` asks for"}
def review_queue_precision(y_val, scores_val, k, n_day, confidence=0.9, seed=0):
    if not 1 <= k <= n_day:
        raise ValueError("need 1 <= k <= n_day")
    y_v = np.asarray(y_val).astype(float)
    s_v = np.asarray(scores_val, dtype=float)
    rng = np.random.default_rng(seed)
    precision = np.empty(2000)
    for day in range(precision.size):
        idx = rng.integers(0, y_v.size, size=n_day)
        precision[day] = y_v[idx][np.argpartition(-s_v[idx], k - 1)[:k]].mean()
    low, high = np.quantile(precision, [0.025, 0.975])
    return float(precision.mean()), float(low), float(high)

# %% id="ex9-review-queue-tests" mlcourse={"stage": "evaluation", "tier": 4} nbgrader={"grade": true, "grade_id": "ex9_review_queue_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_got = review_queue_precision(y, s, 40, 2000)
assert len(_got) == 3, f"expected (estimate, low, high), got {_got!r}"
_est, _low, _high = (float(v) for v in _got)
assert 0.0 <= _low <= _est <= _high <= 1.0, f"expected 0 <= low <= estimate <= high <= 1, got {(_est, _low, _high)}"
# A perfect ranker on a stream with 20% fraud: a day of 500 has about 100 frauds, all ranked first,
# so every one of the 20 reviewed is fraud, every day: (1, 1, 1).
_rng = np.random.default_rng(91)
_yp = (_rng.random(5000) < 0.2).astype(int)
_got = [float(v) for v in review_queue_precision(_yp, _yp + 0.01 * _rng.random(5000), 20, 500)]
assert np.allclose(_got, [1.0, 1.0, 1.0]), f"a perfect ranker: expected (1, 1, 1), got {_got}"
# Scores that know nothing: the queue is a random sample of the day, so its precision is about the
# fraud rate, 0.3 here.
_yr = (_rng.random(20000) < 0.3).astype(int)
_got = [float(v) for v in review_queue_precision(_yr, _rng.random(20000), 100, 1000)]
assert abs(_got[0] - 0.3) <= 0.05 and _got[1] < 0.3 < _got[2], \
    f"uninformative scores on a stream with 30% fraud: expected an estimate near 0.3 inside the range, got {_got}"
# A queue of one, and a queue as long as the day (everything is reviewed: precision = the fraud rate).
_one = [float(v) for v in review_queue_precision(_yr, _rng.random(20000), 1, 100)]
assert 0.0 <= _one[1] <= _one[0] <= _one[2] <= 1.0, f"k = 1: expected 0 <= low <= estimate <= high <= 1, got {_one}"
_all = [float(v) for v in review_queue_precision(_yr, _rng.random(20000), 200, 200)]
assert abs(_all[0] - float(_yr.mean())) <= 0.01, \
    f"k = n_day reviews every transaction: expected an estimate near the fraud rate {_yr.mean():.3f}, got {_all[0]}"
for _k, _n in [(0, 100), (101, 100)]:
    try:
        review_queue_precision(_yr, _rng.random(20000), _k, _n)
        _raised = False
    except ValueError:
        _raised = True
    assert _raised, f"expected ValueError for k={_k}, n_day={_n}, but nothing was raised"

# %% id="ex9-review-queue-estimate-tests" mlcourse={"stage": "evaluation", "tier": 4} nbgrader={"grade": true, "grade_id": "ex9_review_queue_estimate_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test compares your estimate with hundreds of simulated days.
_small_day = float(review_queue_precision(y, s, 40, 500)[0])
_big_day = float(review_queue_precision(y, s, 40, 10000)[0])
assert _small_day < _big_day, \
    f"the top 40 of 10,000 transactions are more extreme than the top 40 of 500: got {_big_day} <= {_small_day}"
### BEGIN HIDDEN TESTS
for _prev_h, _n_day_h, _k_h, _seed_h in [(0.02, 2000, 40, 9101), (0.01, 5000, 30, 9102), (0.05, 1000, 25, 9103)]:
    _days_h = make_scored_transactions(n=_n_day_h * 300, prevalence=_prev_h, seed=_seed_h)
    _yd_h = _days_h["is_fraud"].to_numpy().reshape(300, _n_day_h)
    _sd_h = _days_h["score"].to_numpy().reshape(300, _n_day_h)
    _real_h = np.take_along_axis(_yd_h, np.argpartition(-_sd_h, _k_h - 1, axis=1)[:, :_k_h], axis=1).mean(axis=1)
    _val_h = make_scored_transactions(n=20_000, prevalence=_prev_h, seed=_seed_h + 50)
    _est_h = float(review_queue_precision(_val_h["is_fraud"].to_numpy(), _val_h["score"].to_numpy(),
                                          _k_h, _n_day_h)[0])
    assert abs(_est_h - _real_h.mean()) <= 0.1, \
        (f"{_k_h} reviews a day out of {_n_day_h} transactions at {_prev_h:.0%} fraud: 300 simulated days average a "
         f"precision of {_real_h.mean():.3f}, your estimate is {_est_h:.3f}")
### END HIDDEN TESTS

# %% id="ex9-review-queue-interval-tests" mlcourse={"stage": "evaluation", "tier": 4} nbgrader={"grade": true, "grade_id": "ex9_review_queue_interval_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test counts how many simulated days fall in your range.
_, _low50, _high50 = (float(v) for v in review_queue_precision(y, s, 40, 2000, confidence=0.5))
_, _low95, _high95 = (float(v) for v in review_queue_precision(y, s, 40, 2000, confidence=0.95))
assert _high50 - _low50 < _high95 - _low95, \
    f"a 50% range must be narrower than a 95% one, got widths {_high50 - _low50:.3f} and {_high95 - _low95:.3f}"
### BEGIN HIDDEN TESTS
for _prev_h, _n_day_h, _k_h, _conf_h, _seed_h in [(0.02, 2000, 40, 0.9, 9201), (0.01, 5000, 30, 0.9, 9202),
                                                   (0.05, 1000, 25, 0.8, 9203)]:
    _days_h = make_scored_transactions(n=_n_day_h * 300, prevalence=_prev_h, seed=_seed_h)
    _yd_h = _days_h["is_fraud"].to_numpy().reshape(300, _n_day_h)
    _sd_h = _days_h["score"].to_numpy().reshape(300, _n_day_h)
    _real_h = np.take_along_axis(_yd_h, np.argpartition(-_sd_h, _k_h - 1, axis=1)[:, :_k_h], axis=1).mean(axis=1)
    _val_h = make_scored_transactions(n=20_000, prevalence=_prev_h, seed=_seed_h + 50)
    _, _lo_h, _hi_h = (float(v) for v in review_queue_precision(_val_h["is_fraud"].to_numpy(),
                                                                _val_h["score"].to_numpy(), _k_h, _n_day_h,
                                                                confidence=_conf_h))
    _cover_h = float(np.mean((_real_h >= _lo_h - 1e-9) & (_real_h <= _hi_h + 1e-9)))
    _spread_h = float(np.quantile(_real_h, (1 + _conf_h) / 2) - np.quantile(_real_h, (1 - _conf_h) / 2))
    _where_h = f"{_k_h} reviews out of {_n_day_h} at {_prev_h:.0%} fraud, confidence {_conf_h}: range [{_lo_h:.3f}, {_hi_h:.3f}]"
    assert _conf_h - 0.15 <= _cover_h <= min(0.99, _conf_h + 0.09), \
        f"{_where_h} holds {_cover_h:.0%} of 300 simulated days"
    assert _hi_h - _lo_h <= 1.6 * _spread_h + 1e-9, \
        f"{_where_h} is much wider than the days' own spread ({_spread_h:.3f})"
### END HIDDEN TESTS

# %% [markdown] id="md-0a688d6a"
# ## 11. Slice metrics: where does the model fail?
#
# One aggregate number can hide a model that works well for most customers and badly for some. Compute
# the metrics **per slice** — customer group, merchant category, country, device — and look at the
# worst ones. This is the core of a fairness audit (e.g. *equal opportunity* asks for similar recall
# across groups) and of failure analysis.
#
# Small slices have noisy metrics: a slice with 4 fraud cases has a recall of 0, 0.25, 0.5, 0.75 or 1
# by construction. Require a minimum support before drawing conclusions, and use the bootstrap to see
# how noisy the rest still are.

# %% id="code-c41e43b3"
by_group = ev.slice_metrics(y, y_hat, tx["customer_group"], scores=s, min_support=30)
by_group

# %% id="code-f0ac34e2"
ev.slice_metrics(y, y_hat, tx["merchant_category"], scores=s, min_support=30)

# %% [markdown] id="md-ex10-failing-slices"
# Some slice always comes last: sorting by recall ranks the slices, it does not show that any of them
# fails. A slice *fails* when its recall is lower than the rest of the traffic's by more than chance
# explains — the question of section 9 again, now between a slice and everything else.
#
# ### Exercise 10 (tier 4) — the slices that really fail
#
# Implement `failing_slices(frame, slice_column, min_positives=30, alpha=0.05, threshold=0.5)`:
#
# * `frame` is a DataFrame like `tx`, with columns `is_fraud` (0/1), `score` and `slice_column`; the
#   decisions are `frame["score"] >= threshold`;
# * a slice is one value of `frame[slice_column]`; only slices with at least `min_positives` fraud
#   cases are judged;
# * return the list of the slice values whose recall is **significantly lower than the recall of the
#   rest of the frame** (one-sided, at level `alpha`), worst recall first (ties in the order of the
#   slice values); an empty list if none is.
#
# Use any sound test or interval, and no `mlcourse`. The hidden tests use other data, other columns,
# slices that are low by chance, slices with too little support, and slices that fail.

# %% id="ex10-failing-slices" mlcourse={"forbid": ["mlcourse.evaluation", "mlcourse.dataset", "mlcourse.improvement", "statsmodels"], "stage": "evaluation", "tier": 4, "equivalent_mutants": {"14:36 compare Lt>LtE": "a hypergeometric tail equals a round alpha only by coincidence; which side p == alpha falls on is a convention, not the skill"}} nbgrader={"grade": false, "grade_id": "ex10_failing_slices", "locked": false, "schema_version": 3, "solution": true, "task": false}
def failing_slices(frame, slice_column, min_positives=30, alpha=0.05, threshold=0.5):
    """Slices whose recall is significantly below the rest's, worst first."""
    ### BEGIN SOLUTION
    from scipy.stats import hypergeom

    fraud = frame[frame["is_fraud"] == 1]
    caught = (fraud["score"] >= threshold).astype(int)
    per_slice = pd.DataFrame({"positives": 1, "caught": caught}).groupby(fraud[slice_column].to_numpy()).sum()
    total_pos, total_caught = per_slice["positives"].sum(), per_slice["caught"].sum()
    failing = []
    for value, (n_s, c_s) in zip(per_slice.index, per_slice[["positives", "caught"]].to_numpy()):
        # One-sided Fisher exact test, the slice against the rest: how likely is it that n_s frauds drawn
        # at random from all of them hold c_s caught ones or fewer?
        if n_s >= min_positives and hypergeom.cdf(c_s, total_pos, total_caught, n_s) < alpha:
            failing.append((c_s / n_s, value))
    return [value for _, value in sorted(failing)]
    ### END SOLUTION

# %% id="ex10-mistake-below-average" mistake={"readable": "demo cell code-c41e43b3: mlcourse.evaluation.slice_metrics, sorted by recall, with min_support", "why": "every supported slice whose recall is below the overall recall, with no test of whether the gap is more than noise"}
def failing_slices(frame, slice_column, min_positives=30, alpha=0.05, threshold=0.5):
    fraud = frame[frame["is_fraud"] == 1]
    recall = (fraud["score"] >= threshold).groupby(fraud[slice_column].to_numpy()).mean()
    support = fraud.groupby(fraud[slice_column].to_numpy()).size()
    overall = float((fraud["score"] >= threshold).mean())
    low = recall[(support >= min_positives) & (recall < overall)]
    return list(low.sort_values(kind="stable").index)

# %% id="ex10-mistake-improvement-worst-slices" mistake={"readable": "mlcourse.improvement.worst_slices (stage 7), on the frauds with missed ones as errors", "why": "stage 7's ranking of slices by their error interval: keeps the slices whose interval lies above the overall miss rate, which drops a failing slice when the rest is tiny"}
def failing_slices(frame, slice_column, min_positives=30, alpha=0.05, threshold=0.5):
    from mlcourse import improvement as imp
    fraud = frame[frame["is_fraud"] == 1].reset_index(drop=True)
    missed = (fraud["score"] < threshold).astype(float).to_numpy()
    table = imp.worst_slices(fraud[[slice_column]], missed, columns=[slice_column], pairs=False,
                             min_support=max(2, min_positives), confidence=1 - 2 * alpha)
    table = table[table["ci_low"] > missed.mean()]
    return list(table["slice"].str.split(" = ", n=1).str[1])

# %% id="ex10-mistake-single-worst" mistake={"why": "returns only the worst supported slice, whether or not it fails and whether or not others fail too"}
def failing_slices(frame, slice_column, min_positives=30, alpha=0.05, threshold=0.5):
    fraud = frame[frame["is_fraud"] == 1]
    recall = (fraud["score"] >= threshold).groupby(fraud[slice_column].to_numpy(), sort=True).mean()
    support = fraud.groupby(fraud[slice_column].to_numpy(), sort=True).size()
    recall = recall[support >= min_positives]
    return [recall.idxmin()] if len(recall) else []

# %% id="ex10-mistake-support-in-rows" mistake={"why": "counts a slice's support in rows instead of fraud cases"}
def failing_slices(frame, slice_column, min_positives=30, alpha=0.05, threshold=0.5):
    from statistics import NormalDist
    rows = frame.groupby(frame[slice_column].to_numpy()).size()
    fraud = frame[frame["is_fraud"] == 1]
    groups = fraud[slice_column].to_numpy()
    n_pos = fraud.groupby(groups).size()
    n_caught = (fraud["score"] >= threshold).astype(int).groupby(groups).sum()
    out = []
    for value in n_pos.index:
        if rows[value] < min_positives:
            continue
        n_s, c_s = n_pos[value], n_caught[value]
        n_r, c_r = n_pos.sum() - n_s, n_caught.sum() - c_s
        pooled = (c_s + c_r) / (n_s + n_r)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n_s + 1 / n_r))
        if n_r > 0 and se > 0 and (c_r / n_r - c_s / n_s) / se > NormalDist().inv_cdf(1 - alpha):
            out.append((c_s / n_s, value))
    return [value for _, value in sorted(out)]

# %% id="ex10-mistake-two-sided" mistake={"why": "a two-sided test: also reports slices significantly better than the rest"}
def failing_slices(frame, slice_column, min_positives=30, alpha=0.05, threshold=0.5):
    from statistics import NormalDist
    fraud = frame[frame["is_fraud"] == 1]
    groups = fraud[slice_column].to_numpy()
    n_pos = fraud.groupby(groups).size()
    n_caught = (fraud["score"] >= threshold).astype(int).groupby(groups).sum()
    out = []
    for value in n_pos.index:
        n_s, c_s = n_pos[value], n_caught[value]
        n_r, c_r = n_pos.sum() - n_s, n_caught.sum() - c_s
        if n_s < min_positives or n_r == 0:
            continue
        pooled = (c_s + c_r) / (n_s + n_r)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n_s + 1 / n_r))
        if se > 0 and abs(c_r / n_r - c_s / n_s) / se > NormalDist().inv_cdf(1 - alpha / 2):
            out.append((c_s / n_s, value))
    return [value for _, value in sorted(out)]

# %% id="ex10-failing-slices-tests" mlcourse={"stage": "evaluation", "tier": 4} nbgrader={"grade": true, "grade_id": "ex10_failing_slices_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Hand-built frames: for each slice (name, frauds, frauds caught, legitimate transactions) the caught
# frauds score exactly 0.5 (flagged: score >= 0.5), the missed ones 0.1 and the legitimate ones 0.2.
_frames = {}
for _key, _spec in [("one fails", [("a", 30, 6, 100), ("b", 40, 36, 100), ("c", 3, 0, 10)]),
                    ("all alike", [("a", 50, 40, 100), ("b", 50, 39, 100), ("c", 50, 41, 100)])]:
    _frames[_key] = pd.concat([pd.DataFrame({"zone": _name,
                                             "score": np.r_[np.full(_c, 0.5), np.full(_p - _c, 0.1), np.full(_g, 0.2)],
                                             "is_fraud": np.r_[np.ones(_p, dtype=int), np.zeros(_g, dtype=int)]})
                               for _name, _p, _c, _g in _spec], ignore_index=True)

# By hand: "a" catches 6 of its 30 frauds (recall 0.2) while the rest catches 36 of 43 (0.84); with 30 and
# 43 cases that gap is about 5 standard errors: "a" fails (30 frauds is just enough to be judged). "b"
# (0.9) is better than the rest. "c" has 3 frauds, fewer than min_positives = 30, and is not judged.
_got = failing_slices(_frames["one fails"], "zone")
assert isinstance(_got, list), f"expected a list of slice values, got {_got!r}"
assert _got == ["a"], f"expected ['a'], got {_got!r}"
# Three slices with recalls 0.80, 0.78 and 0.82 on 50 frauds each: no gap beyond noise.
_got = failing_slices(_frames["all alike"], "zone")
assert _got == [], f"recalls 0.80, 0.78 and 0.82 on 50 frauds each: expected no failing slice, got {_got!r}"
# With min_positives = 50 nothing in the first frame is judged.
_got = failing_slices(_frames["one fails"], "zone", min_positives=50)
assert _got == [], f"no slice has 50 frauds: expected [], got {_got!r}"
# A frame with a single slice has nothing to fall below.
_got = failing_slices(_frames["one fails"][_frames["one fails"]["zone"] == "a"], "zone")
assert _got == [], f"a frame with a single slice: expected [], got {_got!r}"

# %% id="ex10-failing-slices-hidden-tests" mlcourse={"stage": "evaluation", "tier": 4} nbgrader={"grade": true, "grade_id": "ex10_failing_slices_hidden_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test checks failing_slices on frames you have not seen.
_got = failing_slices(tx, "customer_group")
assert isinstance(_got, list) and set(_got) <= set(tx["customer_group"]), f"expected a list of customer groups, got {_got!r}"
### BEGIN HIDDEN TESTS
def _block_h(name, n_pos, n_caught, n_neg, column="region"):
    return pd.DataFrame({column: name,
                         "score": np.r_[np.full(n_caught, 0.9), np.full(n_pos - n_caught, 0.1), np.full(n_neg, 0.2)],
                         "is_fraud": np.r_[np.ones(n_pos, dtype=int), np.zeros(n_neg, dtype=int)]})


# south fails (0.40 on 60 frauds against about 0.8); east is low by chance (0.72 on 40); tiny (0 of 5) and
# bulk (2 of 10 frauds among 2,000 rows) lack support; west is significantly *better* than the rest.
_f1_h = pd.concat([_block_h("north", 200, 160, 800), _block_h("south", 60, 24, 300), _block_h("east", 40, 29, 200),
                   _block_h("tiny", 5, 0, 50), _block_h("bulk", 10, 2, 2000), _block_h("west", 100, 97, 400)],
                  ignore_index=True).sample(frac=1.0, random_state=0).reset_index(drop=True)
_got_h = failing_slices(_f1_h, "region")
assert _got_h == ["south"], f"expected ['south'] (east is within noise, tiny and bulk lack fraud cases), got {_got_h!r}"
# Two failing slices, worst first: x (0.30 on 100) and y (0.40 on 40) against about 0.85.
_f2_h = pd.concat([_block_h("x", 100, 30, 100, "device"), _block_h("y", 40, 16, 100, "device"),
                   _block_h("z", 300, 255, 900, "device"), _block_h("w", 150, 128, 500, "device")],
                  ignore_index=True).sample(frac=1.0, random_state=1).reset_index(drop=True)
_got_h = failing_slices(_f2_h, "device")
assert _got_h == ["x", "y"], f"expected ['x', 'y'] (both fail, x is worse), got {_got_h!r}"
# Nothing fails: recalls 0.80, 0.78, 0.83 on 120, 90 and 60 frauds.
_f3_h = pd.concat([_block_h("p", 120, 96, 300), _block_h("q", 90, 70, 300), _block_h("r", 60, 50, 300)],
                  ignore_index=True)
_got_h = failing_slices(_f3_h, "region")
assert _got_h == [], f"no slice is below the rest by more than noise: expected [], got {_got_h!r}"
# Fresh transactions: the model is weak on one customer group, and no merchant category fails.
_fresh_h = make_scored_transactions(n=30_000, seed=10101)
_got_h = failing_slices(_fresh_h, "customer_group")
assert _got_h == ["C"], f"fresh transactions by customer group: expected ['C'], got {_got_h!r}"
_got_h = failing_slices(_fresh_h, "merchant_category", min_positives=20)
assert _got_h == [], f"fresh transactions by merchant category: expected no failing slice, got {_got_h!r}"
# A slice that catches none of its 100 frauds, when the only other fraud was caught: it fails.
_f4_h = pd.concat([_block_h("big", 100, 0, 100), _block_h("one", 1, 1, 10)], ignore_index=True)
_got_h = failing_slices(_f4_h, "region")
assert _got_h == ["big"], f"0 of 100 frauds caught against 1 of 1 elsewhere: expected ['big'], got {_got_h!r}"
# Another threshold changes the decisions: at 0.95 the hand-built frame catches nobody, so nothing fails.
_got_h = failing_slices(_f1_h, "region", threshold=0.95)
assert _got_h == [], f"threshold 0.95 flags nothing, so no slice is below the rest: expected [], got {_got_h!r}"
### END HIDDEN TESTS

# %% [markdown] id="md-919688b6"
# ## 12. Cost-sensitive decisions
#
# In fraud detection the errors have prices. Say a false positive (a blocked good transaction, an
# analyst's review, an annoyed customer) costs $c_{FP}$ and a missed fraud (the chargeback) costs
# $c_{FN}$, and correct decisions cost nothing. The **expected cost per transaction** of threshold $t$ is
#
# $$\text{cost}(t) = \frac{c_{FP}\cdot FP(t) + c_{FN}\cdot FN(t)}{n}.$$
#
# If the scores were perfectly calibrated probabilities $p$, the Bayes-optimal rule would flag a
# transaction when $p \cdot c_{FN} > (1-p)\cdot c_{FP}$, i.e. at $t^* = \frac{c_{FP}}{c_{FP} + c_{FN}}$ —
# about 0.02 when a miss costs 50 times a false alarm. Real scores are rarely calibrated (section 7),
# so in practice we **estimate the cost curve on validation data** and pick its minimum — remembering
# that this minimum is itself an estimate, which must hold up on next month's transactions.

# %% id="code-5f9cdaa3"
COST_FP, COST_FN = 1.0, 50.0
candidates = {
    "0.5": 0.5,
    "Bayes rule on the raw scores": COST_FP / (COST_FP + COST_FN),
    "minimum of this data's cost curve": ev.cost_optimal_threshold(y, s, cost_fp=COST_FP, cost_fn=COST_FN),
}
print(pd.DataFrame({
    "threshold": candidates,
    "cost per transaction": {name: ev.expected_cost(y, s, t, cost_fp=COST_FP, cost_fn=COST_FN)
                             for name, t in candidates.items()},
}).round(4))
ev.plot_cost_curve(y, s, COST_FP, COST_FN)
plt.show()

# %% [markdown] id="md-e9adfaf6"
# The Bayes rule applied to the raw scores is even worse than 0.5: the scores are over-confident, so
# $t^* \approx 0.02$ flags almost three quarters of all traffic. The minimum of the cost curve is the best threshold
# *for this data* by construction — but with a few hundred fraud cases that minimum is partly noise, and
# the curve is flat around it. What counts is the cost on the transactions that arrive next month.
#
# Real cost structures also have more than two numbers. An analyst reviews every flagged transaction,
# fraud or not, so a *caught* fraud is not free; part of a fraud's loss may be gone before the block;
# a legitimate transaction that goes through earns a fee, which is a negative cost. In general there is
# one cost per cell of the confusion matrix, $c_{TP}$, $c_{FP}$, $c_{FN}$ and $c_{TN}$, per transaction.
# And a new product line, a new country or a quiet month gives you a validation set with its own fraud
# rate, sometimes only a few dozen frauds.
#
# ### Exercise 11 (tier 5) — a cost threshold that holds up on new data
#
# You are given validation data from the payments stream:

# %% id="code-b9324744"
y_val = tx["is_fraud"].to_numpy()
scores_val = tx["score"].to_numpy()

# %% [markdown] id="md-e663d390"
# Implement `choose_cost_threshold(y_val, scores_val, costs)` returning a float threshold in $[0, 1]$;
# transactions with `score >= threshold` will be flagged.
#
# * `costs` is a dict with the keys `"tp"`, `"fp"`, `"fn"` and `"tn"`: the cost of one transaction in
#   each cell of the confusion matrix (a negative cost is a gain). You may assume that a miss costs more
#   than a catch (`costs["fn"] > costs["tp"]`) and a false alarm more than a correct pass
#   (`costs["fp"] > costs["tn"]`).
# * The threshold is judged the way production would judge it. The hidden tests give your function
#   validation sets drawn from streams at fraud rates other than ours, some of them small, with cost
#   matrices unlike the demo's; they then measure the cost per transaction of your threshold on fresh
#   transactions from the same stream, against the best threshold in hindsight.
# * Write it yourself with NumPy (and the functions you wrote above); `mlcourse` is not allowed.

# %% id="ex11-cost-threshold" mlcourse={"forbid": ["mlcourse.evaluation", "mlcourse.calibration", "mlcourse.modeling"], "stage": "evaluation", "tier": 5, "equivalent_mutants": {"13:19 number 30>31": "Newton's method has converged well before 30 iterations: the 31st step is zero to machine precision", "15:41 arith Mult>Div": "Newton's method with this positive-definite stand-in for the Hessian still converges to the same maximum-likelihood fit (thresholds agree to 1e-4 on the test streams)", "15:49 arith Sub>Add": "Newton's method with this positive-definite stand-in for the Hessian still converges to the same maximum-likelihood fit (thresholds agree to 1e-4 on the test streams)", "15:49 number 1>2": "Newton's method with this positive-definite stand-in for the Hessian still converges to the same maximum-likelihood fit (thresholds agree to 1e-4 on the test streams)"}} nbgrader={"grade": false, "grade_id": "ex11_cost_threshold", "locked": false, "schema_version": 3, "solution": true, "task": false}
def choose_cost_threshold(y_val, scores_val, costs):
    """Threshold in [0, 1] minimising the expected cost per transaction on new data."""
    ### BEGIN SOLUTION
    # The raw minimum of a validation cost curve is noisy (few frauds, a flat curve), and the scores are
    # not probabilities. A two-parameter logistic fit of the label on the score's logit (Platt scaling)
    # is a low-variance model of P(fraud | score); the Bayes rule for the full cost matrix is then to
    # flag when p * c_TP + (1 - p) * c_FP <= p * c_FN + (1 - p) * c_TN.
    y_v = np.asarray(y_val)
    s_v = np.asarray(scores_val)
    z = np.log(s_v / (1 - s_v))
    X = np.column_stack([np.ones_like(z), z])
    w = np.zeros(2)
    for _ in range(30):                                     # Newton's method
        prob = 1 / (1 + np.exp(-X @ w))
        w += np.linalg.solve(X.T @ (X * (prob * (1 - prob))[:, None]), X.T @ (y_v - prob))
    flag_gain = costs["fp"] - costs["tn"]                   # what flagging a legit costs over passing it
    catch_gain = costs["fn"] - costs["tp"]                  # what flagging a fraud saves over missing it
    # Flag when P(fraud) >= flag_gain / (flag_gain + catch_gain): the fitted logit reaches log(flag_gain / catch_gain).
    z_star = (np.log(flag_gain / catch_gain) - w[0]) / w[1]
    return float(1 / (1 + np.exp(-z_star)))
    ### END SOLUTION

# %% id="ex11-mistake-raw-argmin-two-costs" mistake={"readable": "mlcourse.evaluation.cost_optimal_threshold, as demo cell code-5f9cdaa3 calls it", "why": "the minimum of the validation cost curve with only the false-positive and false-negative costs"}
def choose_cost_threshold(y_val, scores_val, costs):
    y_v = np.asarray(y_val).astype(bool)
    s_v = np.asarray(scores_val, dtype=float)
    order = np.argsort(s_v, kind="stable")[::-1]
    s_sorted, y_sorted = s_v[order], y_v[order]
    last_of_run = np.r_[np.flatnonzero(np.diff(s_sorted)), s_sorted.size - 1]
    tps = np.cumsum(y_sorted)[last_of_run]
    fps = last_of_run + 1 - tps
    fns = y_v.sum() - tps
    cost = (costs["fp"] * fps + costs["fn"] * fns) / y_v.size
    return float(s_sorted[last_of_run][int(np.argmin(cost))])

# %% id="ex11-mistake-raw-argmin-full-costs" mistake={"why": "the raw minimum of the validation cost curve with the full cost matrix: it over-fits a small validation set"}
def choose_cost_threshold(y_val, scores_val, costs):
    y_v = np.asarray(y_val).astype(bool)
    s_v = np.asarray(scores_val, dtype=float)
    order = np.argsort(-s_v, kind="stable")
    ys, ss = y_v[order], s_v[order]
    last = np.r_[ss[1:] != ss[:-1], True]
    tp, fp = np.cumsum(ys)[last], np.cumsum(~ys)[last]
    fn, tn = ys.sum() - tp, (~ys).sum() - fp
    cost = costs["tp"] * tp + costs["fp"] * fp + costs["fn"] * fn + costs["tn"] * tn
    return float(ss[last][int(np.argmin(cost))])

# %% id="ex11-mistake-bayes-raw-scores" mistake={"readable": "demo cell code-5f9cdaa3, 'Bayes rule on the raw scores'", "why": "the Bayes threshold applied to the raw, over-confident scores as if they were probabilities"}
def choose_cost_threshold(y_val, scores_val, costs):
    flag_gain = costs["fp"] - costs["tn"]
    return float(flag_gain / (flag_gain + costs["fn"] - costs["tp"]))

# %% id="ex11-mistake-two-cost-bayes" mistake={"why": "calibrates the scores but keeps the demo's c_FP / (c_FP + c_FN), ignoring what a catch and a correct pass cost"}
def choose_cost_threshold(y_val, scores_val, costs):
    y_v = np.asarray(y_val, dtype=float)
    p = np.clip(np.asarray(scores_val, dtype=float), 1e-12, 1 - 1e-12)
    z = np.log(p / (1 - p))
    X = np.column_stack([np.ones_like(z), z])
    w = np.zeros(2)
    for _ in range(100):
        prob = 1.0 / (1.0 + np.exp(-(X @ w)))
        step = np.linalg.solve(X.T @ (X * (prob * (1 - prob))[:, None]), X.T @ (y_v - prob))
        w += step
        if np.max(np.abs(step)) < 1e-10:
            break
    p_star = costs["fp"] / (costs["fp"] + costs["fn"])
    z_star = (np.log(p_star / (1 - p_star)) - w[0]) / w[1]
    return float(np.clip(1.0 / (1.0 + np.exp(-z_star)), 0.0, 1.0))

# %% id="ex11-cost-threshold-tests" mlcourse={"stage": "evaluation", "tier": 5} nbgrader={"grade": true, "grade_id": "ex11_cost_threshold_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
_costs = {"tp": 5.0, "fp": 6.0, "fn": 100.0, "tn": 0.0}
_t = choose_cost_threshold(y_val, scores_val, _costs)
assert isinstance(_t, (float, np.floating)) and 0.0 <= float(_t) <= 1.0, f"expected a float threshold in [0, 1], got {_t!r}"
# Dearer misses never call for a stricter threshold; dearer false alarms never for a looser one.
_t_miss = float(choose_cost_threshold(y_val, scores_val, {**_costs, "fn": 400.0}))
_t_alarm = float(choose_cost_threshold(y_val, scores_val, {**_costs, "fp": 30.0}))
assert _t_miss <= float(_t) <= _t_alarm, \
    f"expected threshold(fn=400) <= threshold(fn=100) <= threshold(fp=30), got {_t_miss}, {float(_t)}, {_t_alarm}"
# Only the differences between costs matter: the same sum added to both outcomes of a legitimate
# transaction, or of a fraud, or all costs scaled by 3, leave the decision where it was.
for _other in ({"tp": 5.0, "fp": 16.0, "fn": 100.0, "tn": 10.0}, {"tp": 25.0, "fp": 6.0, "fn": 120.0, "tn": 0.0},
               {"tp": 15.0, "fp": 18.0, "fn": 300.0, "tn": 0.0}):
    _t_other = float(choose_cost_threshold(y_val, scores_val, _other))
    assert np.isclose(_t_other, float(_t), rtol=1e-6, atol=1e-9), \
        f"costs {_other} differ from {_costs} by constants per outcome or by a factor: expected the same threshold {float(_t)}, got {_t_other}"
# On the validation data, the chosen threshold beats flagging nothing and flagging everything.
_flag = scores_val >= float(_t)
_fraud = y_val == 1
_cost_t = (_costs["tp"] * np.sum(_flag & _fraud) + _costs["fp"] * np.sum(_flag & ~_fraud)
           + _costs["fn"] * np.sum(~_flag & _fraud) + _costs["tn"] * np.sum(~_flag & ~_fraud)) / len(y_val)
_cost_none = (_costs["fn"] * np.sum(_fraud) + _costs["tn"] * np.sum(~_fraud)) / len(y_val)
_cost_all = (_costs["tp"] * np.sum(_fraud) + _costs["fp"] * np.sum(~_fraud)) / len(y_val)
assert _cost_t < min(_cost_none, _cost_all), \
    f"expected a validation cost below flagging nothing ({_cost_none:.3f}) and everything ({_cost_all:.3f}), got {_cost_t:.3f}"

# %% id="ex11-cost-threshold-matrix-tests" mlcourse={"stage": "evaluation", "tier": 5} nbgrader={"grade": true, "grade_id": "ex11_cost_threshold_matrix_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test uses cost matrices and fraud rates you have not seen, and judges the
# threshold on fresh transactions.
_t = choose_cost_threshold(y_val, scores_val, {"tp": 0.0, "fp": 1.0, "fn": 50.0, "tn": 0.0})
assert 0.0 <= float(_t) <= 1.0, f"the demo's costs: expected a threshold in [0, 1], got {_t!r}"
### BEGIN HIDDEN TESTS
def _costs_h(yt, sc, t, c):
    flag, fraud = sc >= t, yt == 1
    return float(c["tp"] * np.sum(flag & fraud) + c["fp"] * np.sum(flag & ~fraud)
                 + c["fn"] * np.sum(~flag & fraud) + c["tn"] * np.sum(~flag & ~fraud)) / len(yt)


def _best_and_none_h(yt, sc, c):
    order = np.argsort(-sc, kind="stable")
    ys, ss = yt[order] == 1, sc[order]
    last = np.r_[ss[1:] != ss[:-1], True]
    tp, fp = np.cumsum(ys)[last], np.cumsum(~ys)[last]
    n_pos, n_neg = ys.sum(), (~ys).sum()
    curve = (c["tp"] * tp + c["fp"] * fp + c["fn"] * (n_pos - tp) + c["tn"] * (n_neg - fp)) / len(yt)
    none = (c["fn"] * n_pos + c["tn"] * n_neg) / len(yt)
    return min(float(curve.min()), none), none


for _prev_h, _c_h, _seed_h in [(0.04, {"tp": 30.0, "fp": 12.0, "fn": 80.0, "tn": 0.0}, 11101),
                               (0.03, {"tp": 40.0, "fp": 15.0, "fn": 150.0, "tn": -0.5}, 11102),
                               (0.005, {"tp": 5.0, "fp": 10.0, "fn": 400.0, "tn": -1.0}, 11103)]:
    _val_h = make_scored_transactions(n=20_000, prevalence=_prev_h, seed=_seed_h)
    _t_h = float(choose_cost_threshold(_val_h["is_fraud"].to_numpy(), _val_h["score"].to_numpy(), _c_h))
    _new_h = make_scored_transactions(n=300_000, prevalence=_prev_h, seed=_seed_h + 50)
    _yn_h, _sn_h = _new_h["is_fraud"].to_numpy(), _new_h["score"].to_numpy()
    _best_h, _none_h = _best_and_none_h(_yn_h, _sn_h, _c_h)
    _got_h = _costs_h(_yn_h, _sn_h, _t_h, _c_h)
    _regret_h = (_got_h - _best_h) / (_none_h - _best_h)
    assert _regret_h <= 0.05, \
        (f"fraud rate {_prev_h:.1%}, costs {_c_h}: your threshold {_t_h:.4f} costs {_got_h:.4f} per transaction on new "
         f"data; the best threshold costs {_best_h:.4f} and flagging nothing {_none_h:.4f}: you lose "
         f"{_regret_h:.0%} of the possible saving (at most 5% allowed)")
### END HIDDEN TESTS

# %% id="ex11-cost-threshold-noisy-tests" mlcourse={"stage": "evaluation", "tier": 5} nbgrader={"grade": true, "grade_id": "ex11_cost_threshold_noisy_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test chooses thresholds on small validation sets (a few dozen frauds) and
# judges them on fresh transactions.
_t = choose_cost_threshold(y_val[:2000], scores_val[:2000], {"tp": 5.0, "fp": 6.0, "fn": 100.0, "tn": 0.0})
assert 0.0 <= float(_t) <= 1.0, f"2,000 validation rows: expected a threshold in [0, 1], got {_t!r}"
### BEGIN HIDDEN TESTS
def _costs_h(yt, sc, t, c):
    flag, fraud = sc >= t, yt == 1
    return float(c["tp"] * np.sum(flag & fraud) + c["fp"] * np.sum(flag & ~fraud)
                 + c["fn"] * np.sum(~flag & fraud) + c["tn"] * np.sum(~flag & ~fraud)) / len(yt)


def _best_and_none_h(yt, sc, c):
    order = np.argsort(-sc, kind="stable")
    ys, ss = yt[order] == 1, sc[order]
    last = np.r_[ss[1:] != ss[:-1], True]
    tp, fp = np.cumsum(ys)[last], np.cumsum(~ys)[last]
    n_pos, n_neg = ys.sum(), (~ys).sum()
    curve = (c["tp"] * tp + c["fp"] * fp + c["fn"] * (n_pos - tp) + c["tn"] * (n_neg - fp)) / len(yt)
    none = (c["fn"] * n_pos + c["tn"] * n_neg) / len(yt)
    return min(float(curve.min()), none), none


_regrets_h = []
for _prev_h, _n_h, _c_h, _seed_h in [(0.005, 4000, {"tp": 5.0, "fp": 10.0, "fn": 400.0, "tn": -1.0}, 11201),
                                     (0.04, 1000, {"tp": 30.0, "fp": 12.0, "fn": 80.0, "tn": 0.0}, 11202),
                                     (0.03, 1500, {"tp": 40.0, "fp": 15.0, "fn": 150.0, "tn": -0.5}, 11203)]:
    _new_h = make_scored_transactions(n=300_000, prevalence=_prev_h, seed=_seed_h)
    _yn_h, _sn_h = _new_h["is_fraud"].to_numpy(), _new_h["score"].to_numpy()
    _best_h, _none_h = _best_and_none_h(_yn_h, _sn_h, _c_h)
    for _draw_h in range(12):
        _val_h = make_scored_transactions(n=_n_h, prevalence=_prev_h, seed=_seed_h * 100 + _draw_h)
        _t_h = float(choose_cost_threshold(_val_h["is_fraud"].to_numpy(), _val_h["score"].to_numpy(), _c_h))
        _regrets_h.append((_costs_h(_yn_h, _sn_h, _t_h, _c_h) - _best_h) / (_none_h - _best_h))
_mean_regret_h = float(np.mean(_regrets_h))
assert _mean_regret_h <= 0.045, \
    (f"over 36 small validation sets your thresholds lose {_mean_regret_h:.1%} of the possible saving on new data, "
     f"on average (at most 4.5% allowed; the worst lost {max(_regrets_h):.0%})")
### END HIDDEN TESTS

# %% [markdown] id="md-amount-aware"
# A threshold on the score treats every transaction alike. But a missed fraud does not cost a fixed
# price: the chargeback is the transaction's **amount**, and amounts in our stream range from a few euros
# to several thousand. A score says how likely a transaction is to be fraud (if you can read it as a
# probability); the amount says how much is at stake. The decision needs both: that is the point where
# an intrinsic measure of the model meets the extrinsic value of its decisions.
#
# ### Exercise 12 (tier 5) — decisions that put a price on every transaction
#
# Implement `flag_transactions(val_frame, new_frame, review_cost, friction_cost)`:
#
# * `val_frame` is labelled validation data like `tx` (columns `customer_group`, `merchant_category`,
#   `amount`, `is_fraud`, `score`); `new_frame` has the same columns **without** `is_fraud`: tomorrow's
#   transactions, whose truth nobody knows yet;
# * return a boolean NumPy array, one entry per row of `new_frame`: `True` to flag the transaction;
# * the costs: every flagged transaction is reviewed by an analyst (`review_cost`); a flagged
#   legitimate transaction also costs `friction_cost` (an annoyed customer); a missed fraud costs its
#   `amount`; a legitimate transaction that passes costs nothing;
# * no `mlcourse`.
#
# The hidden tests run your function on fresh streams at fraud rates other than ours and with other
# costs, and compare the total cost of your decisions with the best single score threshold, chosen
# with hindsight on that very stream: you must save clearly more than it does. They also use streams
# built so that the best possible decision for every transaction is known, and measure how much of
# the possible saving your decisions give away.

# %% id="ex12-flag-transactions" mlcourse={"forbid": ["mlcourse.evaluation", "mlcourse.calibration", "mlcourse.modeling"], "stage": "evaluation", "tier": 5, "equivalent_mutants": {"12:19 number 30>31": "Newton's method has converged well before 30 iterations: the 31st step is zero to machine precision", "14:41 arith Mult>Div": "Newton's method with this positive-definite stand-in for the Hessian still converges to the same maximum-likelihood fit (thresholds agree to 1e-4 on the test streams)", "14:49 arith Sub>Add": "Newton's method with this positive-definite stand-in for the Hessian still converges to the same maximum-likelihood fit (thresholds agree to 1e-4 on the test streams)", "14:49 number 1>2": "Newton's method with this positive-definite stand-in for the Hessian still converges to the same maximum-likelihood fit (thresholds agree to 1e-4 on the test streams)", "18:11 compare Gt>GtE": "p * amount equals the cost of flagging exactly only on a set of measure zero"}} nbgrader={"grade": false, "grade_id": "ex12_flag_transactions", "locked": false, "schema_version": 3, "solution": true, "task": false}
def flag_transactions(val_frame, new_frame, review_cost, friction_cost):
    """Boolean array: flag the rows of new_frame whose expected cost is lower when flagged."""
    ### BEGIN SOLUTION
    def features(frame):
        score = frame["score"].to_numpy()
        return np.column_stack([np.ones(len(frame)), np.log(score / (1 - score)), np.log(frame["amount"].to_numpy())])

    # P(fraud | score, amount) by a logistic fit on validation data (Newton's method): the raw score is
    # not a probability, and frauds tend to be larger.
    X, label = features(val_frame), val_frame["is_fraud"].to_numpy()
    w = np.zeros(3)
    for _ in range(30):
        prob = 1 / (1 + np.exp(-X @ w))
        w += np.linalg.solve(X.T @ (X * (prob * (1 - prob))[:, None]), X.T @ (label - prob))
    p = 1 / (1 + np.exp(-features(new_frame) @ w))
    amount = new_frame["amount"].to_numpy()
    # Flag when its expected cost, review + (1 - p) friction, is below that of passing, p * amount.
    return p * amount > review_cost + (1 - p) * friction_cost
    ### END SOLUTION

# %% id="ex12-mistake-one-threshold" mistake={"readable": "mlcourse.evaluation.cost_optimal_threshold, as in demo cell code-5f9cdaa3, with the mean fraud amount as the cost of a miss", "why": "one score threshold for every transaction: the validation cost curve's minimum, a miss priced at the average fraud amount"}
def flag_transactions(val_frame, new_frame, review_cost, friction_cost):
    y_v = val_frame["is_fraud"].to_numpy() == 1
    s_v = val_frame["score"].to_numpy(dtype=float)
    cost_fn = float(val_frame["amount"].to_numpy()[y_v].mean())
    order = np.argsort(s_v, kind="stable")[::-1]
    s_sorted, y_sorted = s_v[order], y_v[order]
    last_of_run = np.r_[np.flatnonzero(np.diff(s_sorted)), s_sorted.size - 1]
    tps = np.cumsum(y_sorted)[last_of_run]
    fps = last_of_run + 1 - tps
    cost = review_cost * (tps + fps) + friction_cost * fps + cost_fn * (y_v.sum() - tps)
    return new_frame["score"].to_numpy() >= s_sorted[last_of_run][int(np.argmin(cost))]

# %% id="ex12-mistake-raw-score-as-probability" mistake={"why": "prices each transaction right but takes the raw, over-confident score for the probability of fraud"}
def flag_transactions(val_frame, new_frame, review_cost, friction_cost):
    p = new_frame["score"].to_numpy(dtype=float)
    amount = new_frame["amount"].to_numpy(dtype=float)
    return p * amount > review_cost + (1.0 - p) * friction_cost

# %% id="ex12-mistake-amount-only" mistake={"why": "flags every transaction whose amount exceeds the cost of flagging it, ignoring the score"}
def flag_transactions(val_frame, new_frame, review_cost, friction_cost):
    rate = float(val_frame["is_fraud"].mean())
    amount = new_frame["amount"].to_numpy(dtype=float)
    return rate * amount > review_cost + (1.0 - rate) * friction_cost

# %% id="ex12-flag-transactions-tests" mlcourse={"stage": "evaluation", "tier": 5} nbgrader={"grade": true, "grade_id": "ex12_flag_transactions_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
_new = make_scored_transactions(n=5000, seed=SEED + 12).drop(columns="is_fraud")
_flags = flag_transactions(tx, _new, 5.0, 10.0)
assert isinstance(_flags, np.ndarray) and _flags.dtype == bool and _flags.shape == (len(_new),), \
    f"expected a boolean NumPy array with one entry per new transaction, got {type(_flags).__name__} {getattr(_flags, 'shape', '')}"
# A review that costs more than any transaction's amount can never pay: nothing is flagged.
_none = flag_transactions(tx, _new, float(_new["amount"].max()) + 1.0, 10.0)
assert not np.any(_none), f"a review dearer than every amount: expected no flag, got {int(np.sum(_none))}"
# Dearer reviews or dearer friction never flag more transactions.
_counts = [int(np.sum(flag_transactions(tx, _new, _review, 10.0))) for _review in (1.0, 5.0, 25.0)]
assert _counts[0] >= _counts[1] >= _counts[2], f"review costs 1, 5, 25: expected fewer and fewer flags, got {_counts}"
_counts = [int(np.sum(flag_transactions(tx, _new, 5.0, _friction))) for _friction in (0.0, 10.0, 50.0)]
assert _counts[0] >= _counts[1] >= _counts[2], f"friction costs 0, 10, 50: expected fewer and fewer flags, got {_counts}"

# %% id="ex12-flag-transactions-hidden-tests" mlcourse={"stage": "evaluation", "tier": 5} nbgrader={"grade": true, "grade_id": "ex12_flag_transactions_hidden_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test prices your decisions on fresh streams.
assert int(np.sum(flag_transactions(tx, _new, 5.0, 10.0))) > 0, \
    "reviews at 5 and friction at 10, when some transactions are worth thousands: expected some flags"
### BEGIN HIDDEN TESTS
def _cost_h(frame, flag, review, friction):
    fraud, amount = frame["is_fraud"].to_numpy() == 1, frame["amount"].to_numpy()
    return float(review * flag.sum() + friction * np.sum(flag & ~fraud) + amount[~flag & fraud].sum()) / len(frame)


def _best_threshold_h(frame, review, friction):
    fraud, amount, score = frame["is_fraud"].to_numpy() == 1, frame["amount"].to_numpy(), frame["score"].to_numpy()
    order = np.argsort(-score, kind="stable")
    flagged = np.arange(1, len(frame) + 1)
    fp = np.cumsum(~fraud[order])
    saved = np.cumsum(np.where(fraud[order], amount[order], 0.0))
    lost = amount[fraud].sum()
    return min(float(((review * flagged + friction * fp + lost - saved) / len(frame)).min()), float(lost / len(frame)))


for _prev_h, _n_val_h, _review_h, _friction_h, _seed_h in [(0.01, 5000, 3.0, 10.0, 12101), (0.03, 3000, 8.0, 5.0, 12102),
                                                            (0.005, 10000, 2.0, 20.0, 12103)]:
    _val_h = make_scored_transactions(n=_n_val_h, prevalence=_prev_h, seed=_seed_h)
    _stream_h = make_scored_transactions(n=300_000, prevalence=_prev_h, seed=_seed_h + 50)
    _flags_h = np.asarray(flag_transactions(_val_h, _stream_h.drop(columns="is_fraud"), _review_h, _friction_h), dtype=bool)
    _got_h = _cost_h(_stream_h, _flags_h, _review_h, _friction_h)
    _none_h = _cost_h(_stream_h, np.zeros(len(_stream_h), dtype=bool), _review_h, _friction_h)
    _thr_h = _best_threshold_h(_stream_h, _review_h, _friction_h)
    _ratio_h = (_none_h - _got_h) / (_none_h - _thr_h)
    assert _ratio_h >= 1.25, \
        (f"fraud rate {_prev_h:.1%}, review {_review_h}, friction {_friction_h}: your decisions cost {_got_h:.4f} per "
         f"transaction, flagging nothing {_none_h:.4f}, the best single threshold in hindsight {_thr_h:.4f}: you save "
         f"{_ratio_h:.2f} times what that threshold saves (at least 1.25 needed)")
### END HIDDEN TESTS

# %% id="ex12-flag-transactions-oracle-tests" mlcourse={"stage": "evaluation", "tier": 5} nbgrader={"grade": true, "grade_id": "ex12_flag_transactions_oracle_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test uses streams whose probability of fraud is known for every transaction,
# so the best possible decisions are known too.
_few = flag_transactions(tx, tx.drop(columns="is_fraud").head(3), 5.0, 10.0)
assert np.asarray(_few).shape == (3,), f"three new transactions: expected three decisions, got {_few!r}"
### BEGIN HIDDEN TESTS
def _stream_h(n, a, b, seed):
    # The course's transactions, relabelled: P(fraud) = sigmoid(a + b * logit(score)), whatever the amount.
    frame = make_scored_transactions(n=n, seed=seed).drop(columns="is_fraud")
    score = frame["score"].to_numpy()
    prob = 1 / (1 + np.exp(-(a + b * np.log(score / (1 - score)))))
    frame["is_fraud"] = (np.random.default_rng(seed).random(n) < prob).astype(int)
    return frame, prob


def _expected_cost_h(prob, amount, flag, review, friction):
    return float(np.sum(np.where(flag, review + (1 - prob) * friction, prob * amount))) / len(prob)


_regrets_h = []
for _i_h, (_a_h, _b_h, _review_h, _friction_h) in enumerate([(-2.5, 0.7, 3.0, 10.0), (-1.5, 0.5, 8.0, 30.0),
                                                             (-3.0, 0.9, 2.0, 20.0)]):
    _new_h, _p_h = _stream_h(200_000, _a_h, _b_h, 12300 + _i_h)
    _amount_h = _new_h["amount"].to_numpy()
    _best_h = _expected_cost_h(_p_h, _amount_h, _p_h * _amount_h > _review_h + (1 - _p_h) * _friction_h,
                               _review_h, _friction_h)
    _none_h = _expected_cost_h(_p_h, _amount_h, np.zeros(len(_p_h), dtype=bool), _review_h, _friction_h)
    for _draw_h in range(4):
        _val_h, _ = _stream_h(20_000, _a_h, _b_h, 12400 + 10 * _i_h + _draw_h)
        _flags_h = np.asarray(flag_transactions(_val_h, _new_h.drop(columns="is_fraud"), _review_h, _friction_h),
                              dtype=bool)
        _got_h = _expected_cost_h(_p_h, _amount_h, _flags_h, _review_h, _friction_h)
        _regrets_h.append((_got_h - _best_h) / (_none_h - _best_h))
_mean_regret_h = float(np.mean(_regrets_h))
assert _mean_regret_h <= 0.04, \
    (f"on streams where the best decisions are known, yours give away {_mean_regret_h:.1%} of the possible saving "
     f"on average (at most 4% allowed; the worst gave away {max(_regrets_h):.0%})")
### END HIDDEN TESTS

# %% [markdown] id="md-e87e42c0"
# ## Summary
#
# * **Accuracy** is meaningful only with balanced classes and symmetric costs; always compare with the
#   **majority baseline**.
# * The **confusion matrix** is the source of precision, recall, F1 and $F_\beta$; decide which error
#   matters more, and handle the undefined cases explicitly.
# * For regression, **MSE** punishes large errors, **MAE** is robust to them, and **$R^2$** compares with
#   predicting the mean (and can be negative).
# * **ROC-AUC** measures ranking and ignores prevalence; under heavy imbalance **average precision**
#   shows how trustworthy the alerts are — and because it depends on the prevalence, it must be
#   reported for the traffic the model will meet, not for a sample with another class mix.
# * **Intrinsic** measures (ranking, calibration) describe the scores; **extrinsic** measures (cost,
#   workload) describe the decisions made with them. A monotone change of the scores leaves ranking
#   metrics unchanged and can still wreck calibration and the cost of decisions.
# * **Thresholds** are chosen for a goal on validation data and judged on the data they will meet:
#   a precision target depends on the prevalence, a cost-optimal decision on the costs, and anything
#   read off a small validation set is itself an estimate.
# * Every metric is an estimate: give it a **bootstrap interval**. Two models measured on the same data
#   are compared with a **paired** method; overlapping intervals do not show that they are equal.
# * A **review queue**'s precision at $k$ depends on the day's volume as well as on the model, and it
#   varies from day to day as a draw of $k$ cases does.
# * Look at **slices** before trusting an aggregate, and call a slice failing only when its gap to the
#   rest is larger than chance and rests on enough cases.
#
# ## Going further
#
# * Proper scoring rules (log-loss, Brier) and reliability diagrams — the topic of stage 5.
# * DeLong's test for comparing two ROC-AUCs on the same data.
# * Multi-class averaging (`average="macro"`, `"micro"`, `"weighted"`) in
#   `ev.precision_recall_fscore`, and why macro-F1 rewards rare classes.
# * Ranking metrics beyond precision at $k$ (NDCG, recall at a review budget).
# * Many slices tested at once: with 50 slices some fall below the rest at 5% by chance alone; read
#   about multiple-comparison corrections (Bonferroni, Benjamini–Hochberg).
# * Evaluation under delayed and noisy labels (chargebacks arrive weeks later) and under drift — see
#   stages 8 and 9.
# * Reading: scikit-learn's user guide, *Model evaluation: quantifying the quality of predictions*;
#   Saito & Rehmsmeier (2015), *The precision-recall plot is more informative than the ROC plot when
#   evaluating binary classifiers on imbalanced datasets*; Elkan (2001), *The foundations of
#   cost-sensitive learning*; Dietterich (1998), *Approximate statistical tests for comparing supervised
#   classification learning algorithms*.
