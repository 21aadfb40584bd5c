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
# 4. compute ROC-AUC from ranks and explain why PR-AUC is more informative under heavy imbalance;
# 5. separate *intrinsic* properties of a model (ranking, calibration) from *extrinsic* ones (value of its decisions);
# 6. choose a decision threshold for a goal (recall target, F1, business cost) on validation data;
# 7. attach a bootstrap confidence interval to any metric;
# 8. find the slices of the data where the model fails.
#
# **Estimated time:** about 2.5 hours (≈ 1 h reading and running the demos, ≈ 1.5 h exercises).
#
# **Prerequisites:** stages 1–3 of the course (the data world, features, a first model); NumPy
# indexing and broadcasting, pandas `groupby`; Python functions. No calculus is needed.
#
# ### How this notebook is graded
#
# Exercises are autograded with nbgrader. Each one belongs to a *tier*; tier $t$ exercises demonstrate
# rubric level $t$ for this stage. Your level for the stage is the highest tier $t$ at which you earn
# **at least 70% of the points of every tier $1..t$**. Some tests are hidden: they check your code on
# data you have not seen, exactly as production would.
#
# | tier | rubric level | what it shows | exercises |
# |---|---|---|---|
# | 1 | awareness | you can compute and read the basic counts and baselines | 1, 2a, 2 |
# | 2 | basic understanding | you can implement the standard metrics and their edge cases | 3, 4 |
# | 3 | proficiency (Junior) | you can implement threshold-free metrics and pick thresholds for a goal | 5, 6 |
# | 4 | advanced (Senior) | you quantify uncertainty and find where a model fails | 7, 8 |
# | 5 | expert (Staff) | you make decisions that hold up on new data | 9 |

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

# nbgrader's Validate fails any test cell that writes to stderr (the grader lets assertions
# decide), and warnings are noise in a first run: so we silence
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
# Set two variables for the classifier that predicts **0 ("not fraud") for every transaction** in `tx`:
#
# * `baseline_accuracy`: its accuracy on `tx` (a float in $[0, 1]$);
# * `baseline_recall`: its recall for the fraud class (a float).
#
# Compute them from the data (`y` or `tx["is_fraud"]`), don't type numbers in.

# %% id="ex1-baseline" mlcourse={"stage": "evaluation", "tier": 1} nbgrader={"grade": false, "grade_id": "ex1_baseline", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
baseline_accuracy = float(np.mean(tx["is_fraud"].to_numpy() == 0))
baseline_recall = 0.0   # it never predicts fraud, so it catches none
### END SOLUTION

# %% id="ex1-baseline-tests" mlcourse={"stage": "evaluation", "tier": 1} nbgrader={"grade": true, "grade_id": "ex1_baseline_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
_truth = tx["is_fraud"].to_numpy()
_expected_acc = 1.0 - _truth.mean()
assert np.isclose(float(baseline_accuracy), _expected_acc, atol=1e-9), \
    f"baseline_accuracy: expected {_expected_acc:.6f} (share of non-fraud rows), got {baseline_accuracy}"
assert np.isclose(float(baseline_recall), 0.0, atol=1e-12), \
    f"baseline_recall: expected 0.0 (no fraud is ever predicted), got {baseline_recall}"

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

# %% id="ex2a-read-confusion" mlcourse={"stage": "evaluation", "tier": 1} nbgrader={"grade": false, "grade_id": "ex2a_read_confusion", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
missed_fraud = int(cm[1, 0])    # row "actual fraud", column "predicted legit": false negatives
blocked_legit = int(cm[0, 1])   # row "actual legit", column "predicted fraud": false positives
### END SOLUTION

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
# are 1-D arrays of 0/1 labels of equal length. Return the tuple **`(tn, fp, fn, tp)`** of Python
# `int`s. It must work when a class never appears, e.g. when every prediction is 0.

# %% id="ex2-confusion-counts" mlcourse={"stage": "evaluation", "tier": 1} nbgrader={"grade": false, "grade_id": "ex2_confusion_counts", "locked": false, "schema_version": 3, "solution": true, "task": false}
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


# %% id="ex2-confusion-counts-tests" mlcourse={"stage": "evaluation", "tier": 1} nbgrader={"grade": true, "grade_id": "ex2_confusion_counts_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
from sklearn.metrics import confusion_matrix as _sk_confusion_matrix

_rng = np.random.default_rng(42)
_cases = [
    (_rng.integers(0, 2, 200), _rng.integers(0, 2, 200)),
    (_rng.integers(0, 2, 57), np.zeros(57, dtype=int)),          # all-zero predictions
    (np.zeros(30, dtype=int), _rng.integers(0, 2, 30)),          # no positives at all
    (np.ones(25, dtype=int), np.ones(25, dtype=int)),            # everything positive
    ((_rng.random(1000) < 0.03).astype(int), (_rng.random(1000) < 0.05).astype(int)),
]
for _yt, _yp in _cases:
    _expected = tuple(int(v) for v in _sk_confusion_matrix(_yt, _yp, labels=[0, 1]).ravel())
    _got = confusion_counts(_yt, _yp)
    assert len(_got) == 4, f"expected a 4-tuple (tn, fp, fn, tp), got {_got!r}"
    assert tuple(int(v) for v in _got) == _expected, \
        f"expected (tn, fp, fn, tp) = {_expected}, got {tuple(_got)} (n={len(_yt)})"

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
# Implement `precision_recall_f1(y_true, y_pred)` for 0/1 labels with the positive class 1. Return the
# tuple `(precision, recall, f1)` of floats. Whenever a ratio has a zero denominator, return **0.0** for
# it (this includes F1 when precision and recall are both 0). You may call your `confusion_counts`.

# %% id="ex3-precision-recall-f1" mlcourse={"stage": "evaluation", "tier": 2} nbgrader={"grade": false, "grade_id": "ex3_precision_recall_f1", "locked": false, "schema_version": 3, "solution": true, "task": false}
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


# %% id="ex3-precision-recall-f1-tests" mlcourse={"stage": "evaluation", "tier": 2} nbgrader={"grade": true, "grade_id": "ex3_precision_recall_f1_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
from sklearn.metrics import precision_recall_fscore_support as _sk_prfs

_rng = np.random.default_rng(7)
_cases = [
    (_rng.integers(0, 2, 300), _rng.integers(0, 2, 300)),
    ((_rng.random(2000) < 0.02).astype(int), (_rng.random(2000) < 0.1).astype(int)),
    (_rng.integers(0, 2, 40), np.zeros(40, dtype=int)),      # no predicted positives
    (np.zeros(40, dtype=int), _rng.integers(0, 2, 40)),      # no true positives in the data
    (np.zeros(10, dtype=int), np.zeros(10, dtype=int)),      # nothing positive anywhere
    (np.array([1, 1, 0, 0]), np.array([0, 0, 1, 1])),        # all wrong: P = R = 0
]
for _yt, _yp in _cases:
    _p, _r, _f, _ = _sk_prfs(_yt, _yp, average="binary", pos_label=1, zero_division=0)
    _got = precision_recall_f1(_yt, _yp)
    assert len(_got) == 3, f"expected a 3-tuple (precision, recall, f1), got {_got!r}"
    assert np.allclose([float(v) for v in _got], [_p, _r, _f], atol=1e-9), \
        f"expected (precision, recall, f1) = {(_p, _r, _f)}, got {tuple(_got)}"

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
# Implement `regression_errors(y_true, y_pred)` with NumPy. It returns a `dict` with the keys `"mse"`,
# `"mae"` and `"r2"` (floats), defined as above. You may assume `y_true` is not constant.

# %% id="ex4-regression-errors" mlcourse={"stage": "evaluation", "tier": 2} nbgrader={"grade": false, "grade_id": "ex4_regression_errors", "locked": false, "schema_version": 3, "solution": true, "task": false}
def regression_errors(y_true, y_pred):
    """Return {"mse": ..., "mae": ..., "r2": ...} for 1-D numeric arrays."""
    ### BEGIN SOLUTION
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    residual = y_true - y_pred
    mse = float(np.mean(residual ** 2))
    mae = float(np.mean(np.abs(residual)))
    total = float(np.sum((y_true - y_true.mean()) ** 2))
    r2 = 1.0 - float(np.sum(residual ** 2)) / total
    return {"mse": mse, "mae": mae, "r2": r2}
    ### END SOLUTION


# %% id="ex4-regression-errors-tests" mlcourse={"stage": "evaluation", "tier": 2} nbgrader={"grade": true, "grade_id": "ex4_regression_errors_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
from sklearn.metrics import mean_absolute_error as _sk_mae, mean_squared_error as _sk_mse, r2_score as _sk_r2

_, _yt_d, _yp_d = make_regression_example(seed=0)
_rng = np.random.default_rng(11)
_yt_r = _rng.normal(50, 10, 500)
_cases = [
    (np.asarray(_yt_d, dtype=float), np.asarray(_yp_d, dtype=float)),   # diabetes example
    (_yt_r, _yt_r + _rng.normal(0, 5, 500)),                            # a decent model
    (_yt_r, _rng.normal(0, 1, 500)),                                    # worse than the mean: R2 < 0
]
for _yt, _yp in _cases:
    _got = regression_errors(_yt, _yp)
    assert isinstance(_got, dict) and {"mse", "mae", "r2"} <= set(_got), \
        f"expected a dict with keys 'mse', 'mae', 'r2', got {_got!r}"
    for _key, _ref in [("mse", _sk_mse(_yt, _yp)), ("mae", _sk_mae(_yt, _yp)), ("r2", _sk_r2(_yt, _yp))]:
        assert np.isclose(float(_got[_key]), _ref, rtol=1e-7, atol=1e-9), \
            f"{_key}: expected {_ref:.6f}, got {_got[_key]}"

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
# ### Exercise 5 (tier 3) — ROC-AUC from ranks
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

# %% id="ex5-roc-auc-rank" mlcourse={"stage": "evaluation", "tier": 3} nbgrader={"grade": false, "grade_id": "ex5_roc_auc_rank", "locked": false, "schema_version": 3, "solution": true, "task": false}
def roc_auc_rank(y_true, scores):
    """ROC-AUC via the Mann-Whitney rank statistic (average ranks for ties)."""
    ### BEGIN SOLUTION
    y_true = np.asarray(y_true).astype(bool)
    scores = np.asarray(scores, dtype=float)
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


# %% id="ex5-roc-auc-rank-tests" mlcourse={"stage": "evaluation", "tier": 3} nbgrader={"grade": true, "grade_id": "ex5_roc_auc_rank_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from sklearn.metrics import roc_auc_score as _sk_roc_auc

_rng = np.random.default_rng(5)
_cases = []
for _n, _prev in [(200, 0.5), (3000, 0.05)]:
    _yt = (_rng.random(_n) < _prev).astype(int)
    _sc = _rng.random(_n) + 0.5 * _yt
    _cases.append((_yt, _sc))
_yt = _rng.integers(0, 2, 1000)
_cases.append((_yt, np.round(_rng.random(1000) + 0.3 * _yt, 1)))          # heavy ties
_cases.append((_yt, _rng.integers(0, 3, 1000).astype(float)))             # only 3 distinct scores
_cases.append((_yt, np.full(1000, 0.7)))                                  # all tied: AUC 0.5
_cases.append((tx["is_fraud"].to_numpy(), tx["score"].to_numpy()))        # the course data
for _yt, _sc in _cases:
    _expected = _sk_roc_auc(_yt, _sc)
    _got = roc_auc_rank(_yt, _sc)
    assert np.isclose(float(_got), _expected, atol=1e-9), \
        f"expected ROC-AUC {_expected:.6f}, got {_got} (n={len(_yt)}, {len(np.unique(_sc))} distinct scores)"

try:
    roc_auc_rank(np.ones(20, dtype=int), _rng.random(20))
    _raised = False
except ValueError:
    _raised = True
assert _raised, "expected ValueError when y_true has only one class, but nothing was raised"


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
# in every bin: a score of 0.3 does **not** mean a 30% chance of fraud. Remember this in section 11.

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
# * minimise expected **cost** (section 11).

# %% id="code-daa0a31d"
best_f1 = ev.choose_threshold(y, s, metric="f1")
print("max F1            :", best_f1)
print("recall, prec>=0.5 :", ev.choose_threshold(y, s, metric="recall", min_precision=0.5))
t90 = ev.threshold_for_recall(y, s, 0.9)
print(f"recall target 0.9 : threshold {t90:.4f} -> recall {ev.recall(y, s >= t90):.3f}, "
      f"precision {ev.precision(y, s >= t90):.3f}, alerts {(s >= t90).sum():,}")


# %% [markdown] id="md-f0533d2f"
# ### Exercise 6 (tier 3) — the threshold for a recall target
#
# Implement `threshold_for_recall(y_true, scores, target_recall)`: return the **largest** threshold
# $t$ such that the recall of the decisions `scores >= t` is at least `target_recall`. Larger thresholds
# mean fewer alerts, so this is the cheapest threshold that meets the target.
#
# * Only the positives' scores matter for recall, and the answer is always one of those scores.
#   Return it as a float.
# * Ties: if several positives share a score, they are all caught together.
# * Raise `ValueError` if `target_recall` is not in $(0, 1]$ or if there are no positives.
# * Vectorise it (sorting), no Python loop over thresholds. Compute the recall of $k$ caught positives
#   as `k / n_pos` and compare it with `>=`, so that targets such as 0.9 are handled exactly.

# %% id="ex6-threshold-for-recall" mlcourse={"stage": "evaluation", "tier": 3} nbgrader={"grade": false, "grade_id": "ex6_threshold_for_recall", "locked": false, "schema_version": 3, "solution": true, "task": false}
def threshold_for_recall(y_true, scores, target_recall):
    """Largest t with recall(scores >= t) >= target_recall."""
    ### BEGIN SOLUTION
    if not 0.0 < target_recall <= 1.0:
        raise ValueError(f"target_recall must be in (0, 1], got {target_recall}")
    y_true = np.asarray(y_true).astype(bool)
    scores = np.asarray(scores, dtype=float)
    pos = np.sort(scores[y_true])[::-1]              # positives' scores, highest first
    n_pos = pos.size
    if n_pos == 0:
        raise ValueError("threshold_for_recall: y_true has no positives")
    recall_at_k = np.arange(1, n_pos + 1) / n_pos    # recall when the top k positives are caught
    k = int(np.argmax(recall_at_k >= target_recall))
    return float(pos[k])
    ### END SOLUTION


# %% id="ex6-threshold-for-recall-tests" mlcourse={"stage": "evaluation", "tier": 3} nbgrader={"grade": true, "grade_id": "ex6_threshold_for_recall_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def _brute_threshold(yt, sc, target):
    pos = sc[yt == 1]
    best = -np.inf
    for t in np.unique(sc):                     # every possible distinct decision
        if np.mean(pos >= t) >= target:
            best = max(best, t)
    return best

_rng = np.random.default_rng(3)
_cases = []
for _n, _prev in [(400, 0.3), (2000, 0.05)]:
    _yt = (_rng.random(_n) < _prev).astype(int)
    _cases.append((_yt, _rng.random(_n) + 0.4 * _yt))
_yt = _rng.integers(0, 2, 600)
_cases.append((_yt, np.round(_rng.random(600) + 0.2 * _yt, 1)))           # heavy ties
_cases.append((np.array([0, 1, 0, 1, 1, 0, 1, 1, 1, 1]), np.linspace(0, 1, 10)))
for _yt, _sc in _cases:
    for _target in [0.1, 0.5, 0.8, 0.9, 0.95, 1.0]:
        _expected = _brute_threshold(_yt, _sc, _target)
        _got = threshold_for_recall(_yt, _sc, _target)
        assert np.isclose(float(_got), _expected, atol=1e-12), \
            f"target recall {_target}: expected threshold {_expected}, got {_got}"
        assert np.mean(_sc[_yt == 1] >= float(_got)) >= _target, \
            f"target recall {_target}: threshold {_got} does not reach it"

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
# ### Exercise 7 (tier 4) — a percentile bootstrap
#
# Implement `bootstrap_ci(metric, y_true, y_pred, n_resamples=1000, confidence=0.95, seed=0)`:
#
# * `metric(y_true, y_pred)` is any function returning a float;
# * draw `n_resamples` resamples of the row indices **with replacement** (each of size $n$), using
#   `np.random.default_rng(seed)` so the result is reproducible for a given seed, and evaluate `metric`
#   on the **paired** resampled arrays;
# * return `(low, high)`: the $(1 - \text{confidence})/2$ and $(1 + \text{confidence})/2$ quantiles of
#   the resampled values, as floats.

# %% id="ex7-bootstrap-ci" mlcourse={"stage": "evaluation", "tier": 4} nbgrader={"grade": false, "grade_id": "ex7_bootstrap_ci", "locked": false, "schema_version": 3, "solution": true, "task": false}
def bootstrap_ci(metric, y_true, y_pred, n_resamples=1000, confidence=0.95, seed=0):
    """Percentile bootstrap interval (low, high) for metric(y_true, y_pred)."""
    ### BEGIN SOLUTION
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    n = len(y_true)
    rng = np.random.default_rng(seed)
    values = np.empty(n_resamples)
    for b in range(n_resamples):
        idx = rng.integers(0, n, size=n)
        values[b] = metric(y_true[idx], y_pred[idx])
    alpha = 1.0 - confidence
    low, high = np.quantile(values, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)
    ### END SOLUTION


# %% id="ex7-bootstrap-ci-tests" mlcourse={"stage": "evaluation", "tier": 4} nbgrader={"grade": true, "grade_id": "ex7_bootstrap_ci_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def _acc(a, b):
    return float(np.mean(a == b))

def _noisy_labels(rng, n, acc=0.8):
    yt = rng.integers(0, 2, n)
    yp = np.where(rng.random(n) < acc, yt, 1 - yt)
    return yt, yp

_rng = np.random.default_rng(2024)
_yt, _yp = _noisy_labels(_rng, 500)
_est = _acc(_yt, _yp)

_lo1, _hi1 = bootstrap_ci(_acc, _yt, _yp, n_resamples=1000, confidence=0.95, seed=7)
_lo2, _hi2 = bootstrap_ci(_acc, _yt, _yp, n_resamples=1000, confidence=0.95, seed=7)
assert np.isclose(_lo1, _lo2) and np.isclose(_hi1, _hi2), \
    f"expected the same interval for the same seed, got ({_lo1}, {_hi1}) and ({_lo2}, {_hi2})"
assert _lo1 <= _est <= _hi1, f"expected low <= estimate {_est:.3f} <= high, got ({_lo1:.3f}, {_hi1:.3f})"

# Close to the normal approximation for a proportion: estimate +- 1.96 * sqrt(p (1 - p) / n)
_half = 1.959964 * np.sqrt(_est * (1 - _est) / len(_yt))
assert abs(_lo1 - (_est - _half)) <= 0.02 and abs(_hi1 - (_est + _half)) <= 0.02, \
    f"expected about ({_est - _half:.3f}, {_est + _half:.3f}), got ({_lo1:.3f}, {_hi1:.3f})"

# A lower confidence level gives a narrower interval.
_lo50, _hi50 = bootstrap_ci(_acc, _yt, _yp, n_resamples=1000, confidence=0.5, seed=7)
assert (_hi50 - _lo50) < 0.8 * (_hi1 - _lo1), \
    f"expected a 50% interval narrower than the 95% one, got widths {_hi50 - _lo50:.4f} and {_hi1 - _lo1:.4f}"

# 16x more data: the width should shrink about 4x (we require at least 2x).
_yt_big, _yp_big = _noisy_labels(_rng, 16 * 500)
_lo_b, _hi_b = bootstrap_ci(_acc, _yt_big, _yp_big, n_resamples=1000, confidence=0.95, seed=7)
assert (_hi_b - _lo_b) < 0.5 * (_hi1 - _lo1), \
    f"expected the interval to shrink about 4x with 16x more rows, got widths {_hi1 - _lo1:.4f} -> {_hi_b - _lo_b:.4f}"

# %% [markdown] id="md-0a688d6a"
# ## 10. Slice metrics: where does the model fail?
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


# %% [markdown] id="md-9e1565f3"
# ### Exercise 8 (tier 4) — the worst slice
#
# Implement `worst_slice(frame, slice_column, min_positives=30)`:
#
# * `frame` is a DataFrame like `tx`, with columns `is_fraud` (0/1), `score` and `slice_column`;
# * the decisions are `frame["score"] >= 0.5`;
# * consider only the slices (distinct values of `frame[slice_column]`) with at least `min_positives`
#   fraud cases;
# * return the **value** of the slice (e.g. `"B"`) whose recall is lowest; if several tie, the one that
#   sorts first. Raise `ValueError` if no slice has enough positives.
#
# Hidden tests use other data, other columns and a slice that must be ignored for lack of support.

# %% id="ex8-worst-slice" mlcourse={"stage": "evaluation", "tier": 4} nbgrader={"grade": false, "grade_id": "ex8_worst_slice", "locked": false, "schema_version": 3, "solution": true, "task": false}
def worst_slice(frame, slice_column, min_positives=30):
    """Value of `slice_column` with the lowest recall at threshold 0.5, among well-supported slices."""
    ### BEGIN SOLUTION
    caught = (frame["score"] >= 0.5) & (frame["is_fraud"] == 1)
    per_slice = pd.DataFrame({"positives": frame["is_fraud"] == 1, "caught": caught}).groupby(
        frame[slice_column], sort=True).sum()
    per_slice = per_slice[per_slice["positives"] >= min_positives]
    if per_slice.empty:
        raise ValueError(f"no slice of {slice_column!r} has at least {min_positives} positives")
    recall = per_slice["caught"] / per_slice["positives"]
    return recall.idxmin()
    ### END SOLUTION


# %% id="ex8-worst-slice-tests" mlcourse={"stage": "evaluation", "tier": 4} nbgrader={"grade": true, "grade_id": "ex8_worst_slice_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def _expected_worst(frame, column, min_pos):
    pos = frame[frame["is_fraud"] == 1]
    stats = pos.groupby(column).agg(positives=("score", "size"),
                                    recall=("score", lambda v: float(np.mean(v >= 0.5))))
    stats = stats[stats["positives"] >= min_pos].sort_index()
    return stats["recall"].idxmin()

_expected = _expected_worst(tx, "customer_group", 30)
_got = worst_slice(tx, "customer_group")
assert _got == _expected, f"expected worst customer_group {_expected!r}, got {_got!r}"

# %% id="ex8-worst-slice-hidden-tests" mlcourse={"stage": "evaluation", "tier": 4} nbgrader={"grade": true, "grade_id": "ex8_worst_slice_hidden_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test checks worst_slice on data you have not seen.
_got_mc = worst_slice(tx, "merchant_category", min_positives=10)
assert _got_mc in set(tx["merchant_category"]), \
    f"expected a merchant_category value, got {_got_mc!r}"
### BEGIN HIDDEN TESTS
def _expected_worst_h(frame, column, min_pos):
    pos = frame[frame["is_fraud"] == 1]
    stats = pos.groupby(column).agg(positives=("score", "size"),
                                    recall=("score", lambda v: float(np.mean(v >= 0.5))))
    stats = stats[stats["positives"] >= min_pos].sort_index()
    return stats["recall"].idxmin()

_other = make_scored_transactions(n=30_000, seed=SEED + 101)
for _col, _mp in [("customer_group", 30), ("merchant_category", 20)]:
    _exp = _expected_worst_h(_other, _col, _mp)
    _got = worst_slice(_other, _col, min_positives=_mp)
    assert _got == _exp, f"fresh data, column {_col!r}: expected worst slice {_exp!r}, got {_got!r}"

# Hand-built: 'tiny' has the lowest recall but only 5 positives, so it must be ignored.
def _block(name, n_pos, n_caught, n_neg):
    score = np.r_[np.full(n_caught, 0.9), np.full(n_pos - n_caught, 0.1), np.full(n_neg, 0.2)]
    label = np.r_[np.ones(n_pos, dtype=int), np.zeros(n_neg, dtype=int)]
    return pd.DataFrame({"region": name, "score": score, "is_fraud": label})

_hand = pd.concat([_block("north", 100, 80, 500), _block("south", 50, 30, 300),
                   _block("tiny", 5, 0, 40), _block("west", 40, 38, 200)], ignore_index=True)
_hand = _hand.sample(frac=1.0, random_state=0).reset_index(drop=True)
_got = worst_slice(_hand, "region", min_positives=30)
assert _got == "south", f"hand-built frame: expected 'south' (recall 0.6; 'tiny' lacks support), got {_got!r}"
_got = worst_slice(_hand, "region", min_positives=3)
assert _got == "tiny", f"hand-built frame with min_positives=3: expected 'tiny' (recall 0.0), got {_got!r}"
### END HIDDEN TESTS

# %% [markdown] id="md-919688b6"
# ## 11. Cost-sensitive decisions
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
# ### Exercise 9 (tier 5) — a cost threshold that holds up on new data
#
# You are given validation data from the payments stream:

# %% id="code-b9324744"
y_val = tx["is_fraud"].to_numpy()
scores_val = tx["score"].to_numpy()


# %% [markdown] id="md-e663d390"
# Implement `choose_cost_threshold(y_val, scores_val, cost_fp, cost_fn)` returning a float threshold in
# $[0, 1]$. Transactions with `score >= threshold` will be flagged.
#
# The threshold is judged the way production would judge it: the hidden tests draw **fresh
# transactions from the same process** (a different seed), and compute the expected cost per
# transaction of your threshold, chosen on `y_val, scores_val`, on that new data. It must be within 5%
# of the cost of the best threshold in hindsight on the new data, for several cost ratios (a miss
# costing 20–50 times a false alarm). The visible test only checks that you beat threshold 0.5 on the
# validation data.
#
# Things to think about: is the Bayes threshold right for these scores? How noisy is the minimum of the
# validation cost curve, and how flat is the curve near it? Write it yourself with NumPy (and the
# functions you wrote above) rather than calling `mlcourse.evaluation`.

# %% id="ex9-cost-threshold" mlcourse={"stage": "evaluation", "tier": 5} nbgrader={"grade": false, "grade_id": "ex9_cost_threshold", "locked": false, "schema_version": 3, "solution": true, "task": false}
def choose_cost_threshold(y_val, scores_val, cost_fp, cost_fn):
    """Threshold in [0, 1] minimising expected cost per transaction on new data."""
    ### BEGIN SOLUTION
    # The raw minimum of the validation cost curve is noisy (few positives, a
    # flat curve), and the Bayes threshold c_FP / (c_FP + c_FN) assumes
    # calibrated scores, which these are not. So: recalibrate with a
    # two-parameter logistic fit on the score's logit (Platt scaling), a
    # low-variance model of P(fraud | score), then apply the Bayes rule to it.
    y_val = np.asarray(y_val, dtype=float)
    p = np.clip(np.asarray(scores_val, dtype=float), 1e-12, 1 - 1e-12)
    z = np.log(p / (1 - p))
    X = np.column_stack([np.ones_like(z), z])
    w = np.zeros(2)
    for _ in range(100):                                  # Newton's method
        prob = 1.0 / (1.0 + np.exp(-(X @ w)))
        grad = X.T @ (y_val - prob)
        hess = X.T @ (X * (prob * (1 - prob))[:, None])
        step = np.linalg.solve(hess, grad)
        w += step
        if np.max(np.abs(step)) < 1e-10:
            break
    a, b = w
    # Flag when calibrated P(fraud) >= c_FP / (c_FP + c_FN), i.e. a + b z >= log(c_FP / c_FN).
    z_star = (np.log(cost_fp / cost_fn) - a) / b
    return float(np.clip(1.0 / (1.0 + np.exp(-z_star)), 0.0, 1.0))
    ### END SOLUTION


# %% id="ex9-cost-threshold-tests" mlcourse={"stage": "evaluation", "tier": 5} nbgrader={"grade": true, "grade_id": "ex9_cost_threshold_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
def _cost(yt, sc, t, cfp, cfn):
    flag = sc >= t
    return (cfp * np.sum(flag & (yt == 0)) + cfn * np.sum(~flag & (yt == 1))) / len(yt)

for _cfp, _cfn in [(1.0, 50.0), (5.0, 100.0)]:
    _t = choose_cost_threshold(y_val, scores_val, _cfp, _cfn)
    assert isinstance(_t, (float, np.floating)) and 0.0 <= float(_t) <= 1.0, \
        f"expected a float threshold in [0, 1], got {_t!r}"
    _c_t, _c_half = _cost(y_val, scores_val, float(_t), _cfp, _cfn), _cost(y_val, scores_val, 0.5, _cfp, _cfn)
    assert _c_t <= _c_half + 1e-12, \
        f"costs FP={_cfp}, FN={_cfn}: expected a validation cost no worse than threshold 0.5 ({_c_half:.4f}), got {_c_t:.4f}"

# %% id="ex9-cost-threshold-hidden-tests" mlcourse={"stage": "evaluation", "tier": 5} nbgrader={"grade": true, "grade_id": "ex9_cost_threshold_hidden_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test judges your threshold on fresh transactions.
_t_check = choose_cost_threshold(y_val, scores_val, 1.0, 10.0)
assert 0.0 <= float(_t_check) <= 1.0, f"expected a threshold in [0, 1], got {_t_check!r}"
### BEGIN HIDDEN TESTS
def _cost_h(yt, sc, t, cfp, cfn):
    flag = sc >= t
    return (cfp * np.sum(flag & (yt == 0)) + cfn * np.sum(~flag & (yt == 1))) / len(yt)

def _oracle_cost(yt, sc, cfp, cfn):
    # best cost over every possible threshold on this data (flag the top k, k = 0..n)
    order = np.argsort(-sc, kind="mergesort")
    ys, ss = yt[order] == 1, sc[order]
    tp, fp = np.cumsum(ys), np.cumsum(~ys)
    last = np.r_[ss[1:] != ss[:-1], True]
    costs = (cfp * fp[last] + cfn * (ys.sum() - tp[last])) / len(yt)
    return min(float(costs.min()), cfn * ys.sum() / len(yt))

_val = make_scored_transactions(seed=SEED)
_yv, _sv = _val["is_fraud"].to_numpy(), _val["score"].to_numpy()
_fresh = make_scored_transactions(n=200_000, seed=2027)
_yf, _sf = _fresh["is_fraud"].to_numpy(), _fresh["score"].to_numpy()
for _cfp, _cfn in [(1.0, 50.0), (5.0, 100.0), (1.0, 30.0)]:
    _t = float(choose_cost_threshold(_yv, _sv, _cfp, _cfn))
    _c = _cost_h(_yf, _sf, _t, _cfp, _cfn)
    _best = _oracle_cost(_yf, _sf, _cfp, _cfn)
    assert _c <= 1.05 * _best, \
        (f"costs FP={_cfp}, FN={_cfn}: on fresh data your threshold {_t:.4f} costs {_c:.4f} per transaction, "
         f"expected within 5% of the best achievable {_best:.4f}")
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
#   shows how trustworthy the alerts are.
# * **Intrinsic** measures (ranking, calibration) describe the scores; **extrinsic** measures (cost,
#   workload) describe the decisions made with them. A monotone change of the scores leaves ranking
#   metrics unchanged and can still wreck calibration and the cost of decisions.
# * **Thresholds** are chosen for a goal on validation data, and judged on new data; with costs, use the
#   Bayes rule on calibrated probabilities or a low-variance estimate of the cost minimum.
# * Every metric is an estimate: give it a **bootstrap interval**, and look at **slices** before
#   trusting an aggregate.
#
# ## Going further
#
# * Proper scoring rules (log-loss, Brier) and reliability diagrams — the topic of stage 5.
# * Comparing two models on the same test set: paired bootstrap of the *difference*, McNemar's test,
#   DeLong's test for AUCs.
# * Multi-class averaging (`average="macro"`, `"micro"`, `"weighted"`) in
#   `ev.precision_recall_fscore`, and why macro-F1 rewards rare classes.
# * Ranking metrics (precision@k, NDCG) when an analyst team can review only the top $k$ alerts a day.
# * Evaluation under delayed and noisy labels (chargebacks arrive weeks later) and under drift — see
#   stages 8 and 9.
# * Reading: scikit-learn's user guide, *Model evaluation: quantifying the quality of predictions*;
#   Saito & Rehmsmeier (2015), *The precision-recall plot is more informative than the ROC plot when
#   evaluating binary classifiers on imbalanced datasets*; Elkan (2001), *The foundations of
#   cost-sensitive learning*.
