# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
#   language_info:
#     name: python
# ---

# %% [markdown] id="md-99de245e"
# # Stage 3 — Modeling: choosing and improving your tool
#
# > *"The modeling stage is where the magic happens. This is where we choose the algorithm that will learn
# > from our data. We begin with a baseline model—a simple technique that sets the minimum performance
# > expectation. Baseline models come with their own pros and cons. For example, a linear regression model
# > may be easy to implement and interpret but may not handle complex relationships between features and
# > outcomes well. We need to contextualize these models with our problem at hand. Next, we move on to more
# > advanced models. We might opt for neural networks or ensemble methods, depending on the problem. These
# > models need to be fine-tuned to handle bias and adapt to the specific context of the problem. This
# > involves choosing appropriate optimization and loss functions."*
# > — the ML engineer roadmap, stage 3
#
# Our payments platform needs a model that flags fraudulent card payments as they arrive. Stages 1 and 2
# built the data and the features; here we choose the model. Every choice is judged by the one number the
# business cares about: **what the model's decisions cost**, in euros per transaction, when a false alarm
# costs €5 (an analyst's review, an annoyed customer) and a missed fraud €100 (the chargeback).
#
# **Learning objectives.** After this notebook you can
#
# 1. say what a baseline is for, build the majority and the logistic baselines, and weigh the pros and cons
#    of a linear model — for classification and for regression (mean and median baselines, least squares
#    and the outlier-robust Huber loss);
# 2. derive the logistic loss and its gradient, fit the model by gradient descent and a linear regression by
#    the normal equations; explain how the learning rate decides between crawling, converging and diverging;
# 3. build a small neural network in PyTorch and train it with mini-batches; choose an optimizer (SGD,
#    momentum, Adam, AdamW) and say why;
# 4. recognise under- and overfitting (bias and variance) in a training history, and stop training early
#    with the best weights restored; make training reproducible;
# 5. handle class imbalance through the loss (class weights, focal loss), resampling or the threshold,
#    and say what each does to the predicted probabilities;
# 6. build ensembles — random forest, gradient boosting, soft voting, stacking — and explain why stacking
#    needs out-of-fold predictions, and what "out of fold" means when the data is ordered in time;
# 7. compare models by the business cost of their decisions, with every choice (model, weighting,
#    threshold, training window) made on validation data, and hold up when the costs, the fraud rate or
#    the fraud itself change.
#
# **Estimated time:** about 4.5 hours (≈ 1.5 h reading and running the demos, ≈ 3 h exercises).
#
# **Prerequisites:** stages 1 and 2 (the data world, preprocessing); stage 4's cost-based threshold is
# used but explained again here. NumPy and pandas; derivatives of simple functions (the chain rule); a
# first look at PyTorch tensors helps but is not required.
#
# ### How this notebook is graded
#
# Exercises are autograded with nbgrader. Each one belongs to a *tier*; tier $t$ exercises demonstrate
# rubric level $t$ for this stage. Your level for the stage is the highest tier $t$ whose tiers $1..t$
# you have all **mastered**. A tier is mastered when you earn at least 70% of its points, or miss only
# one of its graded cells when it has four or more, and never with half its cells failed. Each exercise
# is checked by several graded cells, so one slip costs a share of an exercise, not all of it. From tier
# 3 on, hidden tests judge your code on conditions you have not seen — other networks and data, other
# class weights, other costs and fraud rates, a fraud pattern that changes — exactly as production would.
#
# | tier | rubric level | what it shows | exercises |
# |---|---|---|---|
# | 1 | awareness | you can fit and score the baselines that set the bar | 1 |
# | 2 | basic understanding | you can write the losses, gradients and fits behind linear models, and one epoch of training | 2, 3, 4, 5 |
# | 3 | proficiency (Junior) | you train with a sound loop (validation, early stopping, seeds) and stack models without leakage | 6, 7 |
# | 4 | advanced (Senior) | you handle imbalance through the loss and the weighting, and know what each does to the threshold | 8, 9 |
# | 5 | expert (Staff) | you choose model, weighting and threshold from evidence, so that decisions stay cheap on new worlds | 10, 11 |

# %% [markdown] id="md-3c2875a6"
# ## Parameters
#
# The next cell is tagged `parameters` so that [papermill](https://papermill.readthedocs.io) can
# override it. `SEED` fixes all randomness. `FAST` only trims the demonstrations (fewer epochs, fewer
# trees, fewer training rows for the networks and ensembles); the data the exercises use and the graded
# tests never depend on it.

# %% id="parameters" tags=["parameters"]
# Papermill parameters. FAST keeps CI runs short (it trims demos only, never tests).
SEED = 0
FAST = False

# %% id="setup"
import os

os.environ.setdefault("TORCH_CPP_LOG_LEVEL", "ERROR")   # torch's C++ side writes warnings straight to stderr

import copy
import inspect
import time
import warnings

import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, log_loss
from sklearn.model_selection import StratifiedKFold, TimeSeriesSplit
from sklearn.pipeline import make_pipeline
from threadpoolctl import threadpool_limits

# Warnings are noise in a first run (the grader lets assertions decide, not stderr), so we silence
# library warnings (convergence, deprecations, torch's UserWarnings) once, here.
warnings.filterwarnings("ignore")
torch.set_warn_always(False)   # torch warns at most once per kind, and the filter above hides that once
# Our matrices are small: one thread is faster than several competing for the cores.
threadpool_limits(1)
torch.set_num_threads(1)

from mlcourse import modeling as md
from mlcourse.world import DriftEvent, make_world

COST_FP, COST_FN = 5.0, 100.0   # euros: a false alarm (review, friction), a missed fraud (chargeback)
EPOCHS = 4 if FAST else 12      # epochs of the neural-network demos
N_TREES = 20 if FAST else 80    # trees of the random-forest demo
N_DEMO = 8_000 if FAST else 30_000   # training rows of the network and ensemble demos (30,000: all of X_train)

world = make_world(seed=SEED, n_transactions=150_000)   # the exercises use this size, whatever FAST says
tx = world.transactions
FEATURES = world.feature_columns                         # what is observable when a payment arrives

# Demos and exercises 1-9 use 50,000 of the transactions: 60% train, 20% validation, 20% test.
demo = tx.sample(n=50_000, random_state=SEED)
data = md.make_splits(demo, features=FEATURES, target="is_fraud", seed=SEED)
X_train, y_train = data.X_train, data.y_train
X_valid, y_valid = data.X_valid, data.y_valid
X_test, y_test = data.X_test, data.y_test
print(f"train {X_train.shape}, {y_train.sum()} fraud | valid {X_valid.shape}, {y_valid.sum()} fraud | "
      f"test {X_test.shape}, {y_test.sum()} fraud")

# %% [markdown] id="md-7f5abe4b"
# ## 1. The problem, and what a decision costs
#
# Each row is a card payment; the target is `is_fraud`, the ground truth (stage 1 showed that the platform
# only sees a delayed, noisy, biased version of it; we train on the truth here to study models without
# label problems in the way). The inputs are the columns observable when the payment arrives,
# `world.feature_columns`, turned into numbers by `md.make_splits`: amounts, distances, account ages and
# 24-hour counts on a log scale, every number standardised (mean 0, standard deviation 1) with a flag
# where it was missing, and categories one-hot encoded — all fitted on the training rows only.
#
# A model outputs a score $p \in [0, 1]$; we **flag** a payment when $p \ge t$ for a threshold $t$. With
# costs $c_{FP}$ for a false alarm and $c_{FN}$ for a missed fraud, the **expected cost per transaction** is
#
# $$\text{cost}(t) = \frac{c_{FP}\cdot FP(t) + c_{FN}\cdot FN(t)}{n}.$$
#
# Two trivial policies bound the problem: flag nothing (every fraud is missed) and flag everything
# (every legitimate payment is a false alarm).

# %% id="code-9c341a2f"
rate = y_test.mean()
print(f"fraud rate: {rate:.2%}")
print(f"flag nothing:    {COST_FN * rate:.3f} EUR per transaction")
print(f"flag everything: {COST_FP * (1 - rate):.3f} EUR per transaction")
print(pd.Series(data.feature_names).to_string(index=False, max_rows=12))

# %% [markdown] id="md-274684e6"
# If the scores are **calibrated** probabilities, the cheapest rule flags a payment when the expected cost
# of letting it through exceeds that of stopping it: $p\,c_{FN} > (1-p)\,c_{FP}$, i.e. at the **Bayes
# threshold** $t^* = c_{FP}/(c_{FP}+c_{FN}) = 5/105 \approx 0.048$ — far from the default 0.5. Where the scores
# are not calibrated, we choose the threshold that minimises the cost on *validation* data (stage 4). Either
# way, the threshold is part of the model.

# %% [markdown] id="md-5786b0ad"
# ## 2. Baselines: setting the bar
#
# A **baseline** is the simplest model that could possibly work. It is not there to win; it is there to
#
# * **set the minimum bar**: a complex model that does not clearly beat it is not worth its cost (training,
#   serving, explaining, maintaining);
# * **check the pipeline**: a baseline that scores suspiciously well points at leakage; one that scores at
#   chance points at a bug in the data;
# * **calibrate expectations**: how much signal is there at all?
#
# Two baselines are standard for classification:
#
# * the **majority (prior) model**: predict the training fraud rate for every payment. It "flags nothing"
#   and is 98% accurate — which is why accuracy is the wrong yardstick here;
# * **logistic regression**: $P(\text{fraud}\mid x) = \sigma(w \cdot x + b)$ with $\sigma(z) = 1/(1+e^{-z})$,
#   a linear score squashed to $[0, 1]$.
#
# | linear baseline: pros | linear baseline: cons |
# |---|---|
# | trains in a fraction of a second, predicts in microseconds | only a *linear* (log-odds) effect per feature: no thresholds, no U-shapes |
# | convex loss: one optimum, no tuning of the optimizer | no interactions ("foreign **and** at night") unless you build them as features |
# | interpretable: one coefficient per (standardised) feature | sensitive to feature scaling and outliers; needs the preprocessing of stage 2 |
# | well calibrated probabilities out of the box | underfits rich data: high **bias** |
# | little variance: stable across retrainings | |

# %% id="code-70de291e"
majority = md.majority_baseline().fit(X_train, y_train)
logistic = md.logistic_baseline(C=1.0).fit(X_train, y_train)

rows = {}
for metric in ["average_precision", "roc_auc", "log_loss", "cost"]:
    s = md.score_against_baseline(logistic, majority, X_valid, y_valid, metric=metric,
                                  cost_fp=COST_FP, cost_fn=COST_FN)
    rows[metric] = {"majority": s.baseline, "logistic": s.model, "improvement": s.improvement}
pd.DataFrame(rows).T.round(4)

# %% [markdown] id="md-7a49b624"
# On every metric that looks at the fraud class the logistic model clears the bar ("cost" is at the Bayes
# threshold). It is also **readable**. For a standardised number, a coefficient is the change in log-odds of
# fraud per standard deviation. The one-hot columns of a category always add up to 1, just like the
# intercept, so only their *differences* mean something: we centre each group, and then a coefficient says
# how much riskier than an average category of its group that category is.

# %% id="code-d8137d73"
coef = pd.Series(logistic.coef_[0], index=data.feature_names)
for column in ["device", "merchant_category", "merchant_region", "customer_group"]:
    group = [name for name in coef.index if name.startswith(column + "_")]
    coef[group] -= coef[group].mean()
top = coef.reindex(coef.abs().sort_values(ascending=False).index)[:14][::-1]
ax = top.plot.barh(figsize=(6, 4.5), color=np.where(top > 0, "tab:red", "tab:blue"))
ax.set_xlabel("coefficient (log-odds)")
ax.set_title("Logistic baseline: the largest coefficients")
plt.tight_layout()
plt.show()

# %% [markdown] id="md-e719d453"
# The price of that simplicity shows in the **hour** of the payment. Fraud concentrates at night (left,
# all 150,000 payments), but a linear model can only make the log-odds go steadily up or down with the
# hour: it cannot say "hours 0–5 are risky, the rest are not". The right panel shows what the model learned
# about the hour: the average P(fraud) when every validation payment is moved to hour $h$ and nothing else
# changes (a *partial dependence* plot).

# %% id="code-7af2178f"
def hour_effect(model, n_rows=2000):
    """Average P(fraud) of `model` when each of n_rows validation payments is moved to hour h."""
    sample = data.frames["valid"][FEATURES].head(n_rows)
    return pd.Series({h: model.predict_proba(data.preprocessor.transform(sample.assign(hour=h)))[:, 1].mean()
                      for h in range(24)})


fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
tx.groupby("hour")["is_fraud"].mean().plot(ax=left, marker="o", color="black")
left.set(xlabel="hour of day", ylabel="fraud rate", title="Observed: fraud by hour")
hour_effects = {"logistic baseline": hour_effect(logistic)}
pd.DataFrame(hour_effects).plot(ax=right, marker="o")
right.set(xlabel="hour the payment is moved to", ylabel="average P(fraud)", title="Learned: the effect of the hour")
plt.tight_layout()
plt.show()

# %% [markdown] id="md-22d0aba1"
# The linear model spreads the night risk over the whole day: a gentle slope instead of a step. A feature
# `night = hour < 6` would fix this one case (stage 2's work); models that find such shapes themselves —
# trees and neural networks — come below.
#
# ### Exercise 1 (tier 1) — fit and score the baselines
#
# Fit two baselines on `X_train, y_train` with scikit-learn (not `mlcourse`):
#
# * `majority_model`: predicts the training fraud rate for every row (`sklearn.dummy.DummyClassifier`,
#   with the strategy that predicts the class *frequencies*, not the most frequent class);
# * `logistic_model`: `LogisticRegression(C=1.0, max_iter=1000)`.
#
# Then set `baseline_scores`, a dict of dicts with the scores of P(fraud) on the **validation** data
# `X_valid, y_valid`:
#
# ```python
# baseline_scores = {"majority": {"average_precision": ..., "log_loss": ...},
#                    "logistic": {"average_precision": ..., "log_loss": ...}}
# ```
#
# (`sklearn.metrics.average_precision_score` and `log_loss` are imported.)

# %% id="ex1-baselines" mlcourse={"stage": "modeling", "tier": 1, "forbid": ["mlcourse.modeling"], "equivalent_mutants": {"4:17 keyword drop strategy=": "DummyClassifier's default strategy is 'prior', the one the exercise asks for", "5:17 keyword drop C=": "LogisticRegression's default C is 1.0", "5:52 number 1000>1001": "lbfgs converges long before 1,000 iterations on these standardised features"}} nbgrader={"grade": false, "grade_id": "ex1_baselines", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
from sklearn.dummy import DummyClassifier

majority_model = DummyClassifier(strategy="prior").fit(X_train, y_train)
logistic_model = LogisticRegression(C=1.0, max_iter=1000).fit(X_train, y_train)
baseline_scores = {}
for _name, _model in [("majority", majority_model), ("logistic", logistic_model)]:
    _p = _model.predict_proba(X_valid)[:, 1]
    baseline_scores[_name] = {"average_precision": average_precision_score(y_valid, _p),
                              "log_loss": log_loss(y_valid, _p)}
### END SOLUTION

# %% id="ex1-mistake-most-frequent" mistake={"why": "DummyClassifier(strategy='most_frequent'): P(fraud) = 0 for every row, not the fraud rate"}
from sklearn.dummy import DummyClassifier

majority_model = DummyClassifier(strategy="most_frequent").fit(X_train, y_train)
logistic_model = LogisticRegression(C=1.0, max_iter=1000).fit(X_train, y_train)
baseline_scores = {}
for _name, _model in [("majority", majority_model), ("logistic", logistic_model)]:
    _p = _model.predict_proba(X_valid)[:, 1]
    baseline_scores[_name] = {"average_precision": average_precision_score(y_valid, _p),
                              "log_loss": log_loss(y_valid, _p)}

# %% id="ex1-mistake-training-scores" mistake={"why": "scores the baselines on the training data they were fitted on, not on the validation data"}
from sklearn.dummy import DummyClassifier

majority_model = DummyClassifier(strategy="prior").fit(X_train, y_train)
logistic_model = LogisticRegression(C=1.0, max_iter=1000).fit(X_train, y_train)
baseline_scores = {}
for _name, _model in [("majority", majority_model), ("logistic", logistic_model)]:
    _p = _model.predict_proba(X_train)[:, 1]
    baseline_scores[_name] = {"average_precision": average_precision_score(y_train, _p),
                              "log_loss": log_loss(y_train, _p)}

# %% id="ex1-mistake-hard-predictions" mistake={"why": "scores the 0/1 decisions of predict() instead of the probabilities of predict_proba()"}
from sklearn.dummy import DummyClassifier

majority_model = DummyClassifier(strategy="prior").fit(X_train, y_train)
logistic_model = LogisticRegression(C=1.0, max_iter=1000).fit(X_train, y_train)
baseline_scores = {}
for _name, _model in [("majority", majority_model), ("logistic", logistic_model)]:
    _p = _model.predict(X_valid)
    baseline_scores[_name] = {"average_precision": average_precision_score(y_valid, _p),
                              "log_loss": log_loss(y_valid, _p, labels=[0, 1])}

# %% id="ex1-baselines-majority-tests" mlcourse={"stage": "modeling", "tier": 1} nbgrader={"grade": true, "grade_id": "ex1_baselines_majority_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# The majority (prior) model gives every row the training fraud rate as its P(fraud).
_p_major = np.asarray(majority_model.predict_proba(X_valid[:50]))[:, 1]
assert np.allclose(_p_major, y_train.mean(), atol=1e-9), \
    f"majority_model: expected P(fraud) = the training fraud rate {y_train.mean():.5f} on every row, got {_p_major[:3]}"
# Its average precision is the validation fraud rate (a constant score ranks nothing) ...
assert np.isclose(float(baseline_scores["majority"]["average_precision"]), y_valid.mean(), atol=1e-9), \
    (f"baseline_scores['majority']['average_precision']: a constant score has AP = the validation fraud rate "
     f"{y_valid.mean():.5f}, got {baseline_scores['majority']['average_precision']}")
# ... and its log-loss that of predicting q = the training rate for validation labels of rate r:
# -(r log q + (1 - r) log(1 - q)).
_q, _r = y_train.mean(), y_valid.mean()
assert np.isclose(float(baseline_scores["majority"]["log_loss"]), -(_r * np.log(_q) + (1 - _r) * np.log(1 - _q)),
                  rtol=1e-6), f"baseline_scores['majority']['log_loss']: got {baseline_scores['majority']['log_loss']}"

# %% id="ex1-baselines-tests" mlcourse={"stage": "modeling", "tier": 1} nbgrader={"grade": true, "grade_id": "ex1_baselines_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test compares logistic_model with LogisticRegression(C=1.0) fitted on X_train.
assert np.shape(logistic_model.coef_) == (1, X_train.shape[1]), \
    f"logistic_model: expected one coefficient per feature, shape (1, {X_train.shape[1]}), got {np.shape(logistic_model.coef_)}"
_p_lr_mine = np.asarray(logistic_model.predict_proba(X_valid))[:, 1]
assert np.all((_p_lr_mine > 0) & (_p_lr_mine < 1)), "logistic_model: expected probabilities strictly between 0 and 1"
### BEGIN HIDDEN TESTS
_lr_h = LogisticRegression(C=1.0, max_iter=1000).fit(X_train, y_train)
assert np.allclose(_p_lr_mine, _lr_h.predict_proba(X_valid)[:, 1], atol=1e-4), \
    "logistic_model: expected the predictions of LogisticRegression(C=1.0, max_iter=1000) fitted on X_train, y_train"
### END HIDDEN TESTS

# %% id="ex1-baselines-scores-tests" mlcourse={"stage": "modeling", "tier": 1} nbgrader={"grade": true, "grade_id": "ex1_baselines_scores_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test recomputes the logistic baseline's scores on the validation data.
assert set(baseline_scores) == {"majority", "logistic"}, f"expected the keys 'majority' and 'logistic', got {set(baseline_scores)}"
_ap_lr, _ll_lr = float(baseline_scores["logistic"]["average_precision"]), float(baseline_scores["logistic"]["log_loss"])
assert _ap_lr > float(baseline_scores["majority"]["average_precision"]), "the logistic baseline should rank better than the majority"
assert _ll_lr < float(baseline_scores["majority"]["log_loss"]), "the logistic baseline should have a lower log-loss than the majority"
### BEGIN HIDDEN TESTS
_p_h = LogisticRegression(C=1.0, max_iter=1000).fit(X_train, y_train).predict_proba(X_valid)[:, 1]
assert np.isclose(_ap_lr, average_precision_score(y_valid, _p_h), atol=1e-3), \
    f"baseline_scores['logistic']['average_precision']: expected {average_precision_score(y_valid, _p_h):.4f}, got {_ap_lr:.4f}"
assert np.isclose(_ll_lr, log_loss(y_valid, _p_h), atol=1e-3), \
    f"baseline_scores['logistic']['log_loss']: expected {log_loss(y_valid, _p_h):.4f}, got {_ll_lr:.4f}"
### END HIDDEN TESTS

# %% [markdown] id="md-regression-baseline"
# ### The same questions for a continuous target: regression baselines
#
# The roadmap's first example of a baseline is **linear regression**, the model for a *continuous* target.
# Our platform has one too: finance wants to know how much money a payment puts at stake — its `amount`,
# which is also what a missed fraud costs — from where and how it is made (merchant category and region,
# device, hour, distance, the customer's habits), for instance to budget the chargeback exposure of a merchant
# category before its payments arrive. The same rules hold as for classification:
#
# * the **constant baselines** predict one number for every payment. The **mean** of the training amounts
#   minimises the squared error of a constant, the **median** its absolute error;
# * **linear regression** predicts $\hat y = x \cdot w + b$. Fitted by **least squares**, it minimises
#   $\sum_i (y_i - \hat y_i)^2$, which has a closed form (the *normal equations*, exercise 4). A **ridge**
#   penalty $\alpha \lVert w\rVert^2$ shrinks the weights, as $1/C$ does for logistic regression;
# * the squared loss grows with the *square* of an error: one payment recorded as €200,000 (our world has
#   such recording errors, stage 1) weighs as much as 10,000 errors of €2,000. The **Huber loss** is squared
#   for small errors and linear for large ones, so an outlier pulls no more than a large ordinary error.
#
# | linear regression: pros | linear regression: cons |
# |---|---|
# | closed form, trains in milliseconds, one coefficient per feature | a straight line in every feature: no thresholds, no interactions |
# | the mean of its errors is zero on the training data (with an intercept) | least squares chases outliers and skew: a few extreme values move every prediction |
# | a ridge penalty makes it stable even with correlated features | predicts negative amounts if nothing stops it |
#
# `md.regression_baseline`, `md.linear_regression` and `md.regression_report` (MAE, RMSE, R²; stage 4
# explains them) compare the four on the test payments, with `amount` left out of the inputs:

# %% id="code-regression-baseline"
REG_FEATURES = [c for c in FEATURES if c != "amount"]
reg = md.make_splits(demo, features=REG_FEATURES, target="is_fraud", seed=SEED)   # the same rows as `data`
amount_train = reg.frames["train"]["amount"].to_numpy()
amount_test = reg.frames["test"]["amount"].to_numpy()
n_reg = 10_000 if FAST else len(amount_train)   # FAST fits on fewer rows
regressors = {
    "mean baseline": md.regression_baseline("mean"),
    "median baseline": md.regression_baseline("median"),
    "least squares": md.linear_regression(),
    "Huber loss": md.linear_regression(loss="huber"),
}
for name, model in regressors.items():
    model.fit(reg.X_train[:n_reg], amount_train[:n_reg])
print(f"training amounts: median {np.median(amount_train):.0f} EUR, mean {amount_train.mean():.0f} EUR, "
      f"largest {amount_train.max():,.0f} EUR")
md.regression_report(regressors, reg.X_test, amount_test).round(3)

# %% [markdown] id="md-regression-read"
# Read the table with the pros and cons in mind. The mean baseline has $R^2 \approx 0$ by construction;
# the median baseline has a *lower* MAE (the median is the best constant for absolute errors) but a worse
# RMSE. Least squares, pulled by the handful of huge amounts, barely beats the median on MAE; the Huber
# fit, which treats those as large errors rather than squaring them, has a clearly lower MAE — the honest
# measure for a skewed target with outliers. Which baseline sets the bar depends on the question: the
# expected total (RMSE, the mean) or a typical payment (MAE, the median). Stage 2's log transform is the
# other classic answer to a skewed target.
# %% [markdown] id="md-6913237d"
# ## 3. How a model learns: loss functions and gradient descent
#
# Training means choosing the parameters that minimise a **loss**: a number that says how wrong the model
# is on the training data. For probabilities the standard choice is the **log-loss** (cross-entropy),
# the negative log-likelihood of the labels:
#
# $$\ell_i = -\big[y_i \log p_i + (1-y_i)\log(1-p_i)\big] = \log(1+e^{z_i}) - y_i z_i,\qquad z_i = x_i\cdot w + b,\; p_i=\sigma(z_i).$$
#
# It punishes a confident wrong answer without limit and rewards honest probabilities (it is a *proper*
# scoring rule). With an L2 penalty that keeps the weights small (less variance), the objective is
#
# $$J(w, b) = \frac{1}{n}\sum_i \ell_i + \frac{1}{2Cn}\lVert w\rVert^2,$$
#
# which is scikit-learn's `LogisticRegression(C=C)` objective divided by $Cn$: same minimum. Its gradient
# is remarkably simple — the prediction errors, weighted by the inputs:
#
# $$\nabla_w J = \frac{1}{n} X^\top(\sigma(z) - y) + \frac{w}{Cn},\qquad \frac{\partial J}{\partial b} = \frac{1}{n}\sum_i (\sigma(z_i) - y_i).$$
#
# **Gradient descent** walks downhill: $w \leftarrow w - \eta\,\nabla_w J$, with a **learning rate** $\eta$.
# Too small, and it crawls; too large, and it overshoots the valley floor, bounces, and can diverge. For this
# loss there is a safe step: $\eta = 1/L$, where $L = \sigma_{\max}([X, 1])^2/(4n) + 1/(Cn)$ bounds the
# curvature. `md.GDLogisticRegression` uses it by default (`learning_rate="auto"`).

# %% id="code-e464c015"
X_small, y_small = X_train[:10_000], y_train[:10_000]
safe = md.GDLogisticRegression(max_iter=1).fit(X_small, y_small).learning_rate_
curves = {}
for factor in [0.1, 1, 10, 100]:
    gd = md.GDLogisticRegression(learning_rate=factor * safe, max_iter=150 if FAST else 300).fit(X_small, y_small)
    curves[f"lr = {factor:g} x safe ({factor * safe:.3g})"] = gd.loss_history_
ax = md.plot_loss_curves(curves, title="Gradient descent on the fraud data")
ax.set_ylim(0.07, 1.0)
plt.show()

# %% [markdown] id="md-e9306c34"
# * **0.1 × safe** makes steady progress but is still far from the bottom after hundreds of steps;
# * **1 × safe** descends fast and never goes up — guaranteed by the curvature bound;
# * **10 ×** is faster at first, then starts to bounce: the step is too long for the steepest direction;
# * **100 ×** overshoots from the start and the loss grows.
#
# Gradient descent is also *slow* on this data, even at a good rate: rare one-hot categories make some
# directions of the loss very flat, and a fixed step takes many iterations to cross them. This is why
# scikit-learn fits linear models with second-order methods (L-BFGS, Newton), and why the library's
# version reaches the *same coefficients* as scikit-learn when run long enough on well-scaled data (the
# tests in `tests/test_modeling.py` check that). Neural networks have no closed form and millions of
# parameters, so for them gradient descent, on mini-batches, is the tool.

# %% id="code-73e339d2"
gd = md.GDLogisticRegression(max_iter=300).fit(X_small, y_small)
sk = LogisticRegression(C=1.0, max_iter=5000).fit(X_small, y_small)
print(f"after {gd.n_iter_} iterations: loss {gd.loss_history_[-1]:.5f}; "
      f"scikit-learn's optimum: {md.logistic_loss_and_gradient(sk.coef_[0], sk.intercept_[0], X_small, y_small)[0]:.5f}")
print(f"validation AP: gradient descent {average_precision_score(y_valid, gd.predict_proba(X_valid)[:, 1]):.4f}, "
      f"scikit-learn {average_precision_score(y_valid, sk.predict_proba(X_valid)[:, 1]):.4f}")

# %% [markdown] id="md-ea3f3a12"
# ### Exercise 2 (tier 2) — the logistic loss and its gradient
#
# Implement `loss_and_gradient(w, b, X, y, C=1.0)` with NumPy:
#
# * `w`: array of shape `(n_features,)`, `b`: float, `X`: array of shape `(n, n_features)`, `y`: 0/1 labels
#   of shape `(n,)`, all NumPy arrays;
# * return the tuple `(loss, grad_w, grad_b)` for $J(w,b) = \frac{1}{n}\sum_i[\log(1+e^{z_i}) - y_i z_i] + \frac{1}{2Cn}\lVert w\rVert^2$
#   — `loss` and `grad_b` floats, `grad_w` an array of shape `(n_features,)`;
# * `C=None` means **no penalty**; the intercept `b` is never penalised;
# * it must stay finite for logits as large as $|z| = 1000$ (hint: `np.logaddexp(0, z)` computes
#   $\log(1+e^z)$ without overflow; for $\sigma(z)$, `scipy.special.expit` or a sign-split formula).
#
# No `mlcourse`, no scikit-learn.

# %% id="ex2-loss-gradient" mlcourse={"stage": "modeling", "tier": 2, "forbid": ["mlcourse.modeling", "sklearn.linear_model", "sklearn.metrics"]} nbgrader={"grade": false, "grade_id": "ex2_loss_gradient", "locked": false, "schema_version": 3, "solution": true, "task": false}
def loss_and_gradient(w, b, X, y, C=1.0):
    """Regularised mean log-loss of logistic regression and its gradient: (loss, grad_w, grad_b)."""
    ### BEGIN SOLUTION
    n = len(y)
    z = X @ w + b
    loss = np.mean(np.logaddexp(0.0, z) - y * z)
    residual = np.exp(-np.logaddexp(0.0, -z)) - y          # sigmoid(z) - y, stable for any z
    grad_w = X.T @ residual / n
    if C is not None:
        loss = loss + w @ w / (2 * C * n)
        grad_w = grad_w + w / (C * n)
    return float(loss), grad_w, float(np.mean(residual))
    ### END SOLUTION

# %% id="ex2-mistake-sum-not-mean" mistake={"why": "sums the per-row gradients instead of averaging them (no division by n)"}
def loss_and_gradient(w, b, X, y, C=1.0):
    n = len(y)
    z = X @ w + b
    loss = np.mean(np.logaddexp(0.0, z) - y * z)
    residual = 1 / (1 + np.exp(-z)) - y
    grad_w = X.T @ residual
    if C is not None:
        loss = loss + w @ w / (2 * C * n)
        grad_w = grad_w + w / (C * n)
    return float(loss), grad_w, float(np.sum(residual))

# %% id="ex2-mistake-naive-log" mistake={"why": "computes log(1 + exp(z)) directly: exp overflows for large logits and the loss becomes inf"}
def loss_and_gradient(w, b, X, y, C=1.0):
    n = len(y)
    z = X @ w + b
    loss = np.mean(np.log(1 + np.exp(z)) - y * z)
    residual = 1 / (1 + np.exp(-z)) - y
    grad_w = X.T @ residual / n
    if C is not None:
        loss = loss + w @ w / (2 * C * n)
        grad_w = grad_w + w / (C * n)
    return float(loss), grad_w, float(np.mean(residual))

# %% id="ex2-mistake-penalty-without-n" mistake={"why": "scikit-learn's penalty ||w||^2 / 2C added to the mean loss, without dividing by n"}
def loss_and_gradient(w, b, X, y, C=1.0):
    n = len(y)
    z = X @ w + b
    loss = np.mean(np.logaddexp(0.0, z) - y * z)
    residual = np.exp(-np.logaddexp(0.0, -z)) - y
    grad_w = X.T @ residual / n
    if C is not None:
        loss = loss + w @ w / (2 * C)
        grad_w = grad_w + w / C
    return float(loss), grad_w, float(np.mean(residual))

# %% id="ex2-loss-gradient-tests" mlcourse={"stage": "modeling", "tier": 2} nbgrader={"grade": true, "grade_id": "ex2_loss_gradient_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# By hand: w = [0.5, -1], b = 0.25, X = [[1, 2], [0, -1], [3, 0]], y = [0, 1, 1]: z = [-1.25, 1.25, 1.75],
# mean of log(1 + e^z) - y z = 0.221361; residuals sigmoid(z) - y = [0.2227, -0.2227, -0.1480],
# grad_w = X^T residual / 3 = [-0.073814, 0.222700], grad_b = their mean = -0.049349.
_Xh = np.array([[1.0, 2.0], [0.0, -1.0], [3.0, 0.0]])
_yh = np.array([0, 1, 1])
_loss, _gw, _gb = loss_and_gradient(np.array([0.5, -1.0]), 0.25, _Xh, _yh, C=None)
assert np.isclose(float(_loss), 0.221361, atol=1e-6), f"C=None: expected loss 0.221361, got {_loss}"
assert np.allclose(np.asarray(_gw, dtype=float), [-0.073814, 0.222700], atol=1e-6), \
    f"C=None: expected grad_w [-0.073814, 0.222700], got {_gw}"
assert np.isclose(float(_gb), -0.049349, atol=1e-6), f"C=None: expected grad_b -0.049349, got {_gb}"
# With C = 2 the penalty adds ||w||^2 / (2 C n) = 1.25 / 12 = 0.104167 to the loss and w / (C n) = w / 6 to grad_w.
_loss, _gw, _gb = loss_and_gradient(np.array([0.5, -1.0]), 0.25, _Xh, _yh, C=2.0)
assert np.isclose(float(_loss), 0.325527, atol=1e-6), f"C=2: expected loss 0.325527, got {_loss}"
assert np.allclose(np.asarray(_gw, dtype=float), [0.009520, 0.056033], atol=1e-6), \
    f"C=2: expected grad_w [0.009520, 0.056033], got {_gw}"
assert np.isclose(float(_gb), -0.049349, atol=1e-6), f"C=2: the intercept is not penalised: expected grad_b -0.049349, got {_gb}"
### BEGIN HIDDEN TESTS
from sklearn.datasets import make_classification as _make_classification

_Xg, _yg = _make_classification(n_samples=300, n_features=5, n_informative=3, random_state=1)
_wg, _bg = np.random.default_rng(0).normal(size=5), 0.4
for _C in (1.0, 0.2, None):
    _loss, _gw, _gb = loss_and_gradient(_wg, _bg, _Xg, _yg, C=_C)
    _p = 1 / (1 + np.exp(-(_Xg @ _wg + _bg)))
    _expected = log_loss(_yg, _p) + (0.0 if _C is None else _wg @ _wg / (2 * _C * len(_yg)))
    assert np.isclose(float(_loss), _expected, rtol=1e-8), f"C={_C}: expected loss {_expected:.6f}, got {_loss}"
    _eps = 1e-6
    _num = np.array([(loss_and_gradient(_wg + _eps * _e, _bg, _Xg, _yg, C=_C)[0]
                      - loss_and_gradient(_wg - _eps * _e, _bg, _Xg, _yg, C=_C)[0]) / (2 * _eps) for _e in np.eye(5)])
    assert np.allclose(np.asarray(_gw, dtype=float), _num, atol=1e-6), f"C={_C}: grad_w should match finite differences"
    _num_b = (loss_and_gradient(_wg, _bg + _eps, _Xg, _yg, C=_C)[0]
              - loss_and_gradient(_wg, _bg - _eps, _Xg, _yg, C=_C)[0]) / (2 * _eps)
    assert np.isclose(float(_gb), _num_b, atol=1e-6), f"C={_C}: grad_b should be {_num_b:.6f}, got {_gb}"
### END HIDDEN TESTS

# %% id="ex2-loss-gradient-edge-tests" mlcourse={"stage": "modeling", "tier": 2} nbgrader={"grade": true, "grade_id": "ex2_loss_gradient_edge_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Logits of +-1000: w = [1000], X = [[1], [-1]], y = [0, 1] are two confident mistakes, each of loss 1000;
# sigmoid(z) - y = [1, -1], so grad_w = (1 * 1 + (-1) * (-1)) / 2 = 1 and grad_b = 0.
_big = loss_and_gradient(np.array([1000.0]), 0.0, np.array([[1.0], [-1.0]]), np.array([0, 1]), C=None)
assert np.isfinite(float(_big[0])) and np.isclose(float(_big[0]), 1000.0), f"logits of +-1000: expected loss 1000.0, got {_big[0]}"
assert np.allclose(np.asarray(_big[1], dtype=float), [1.0]) and np.isclose(float(_big[2]), 0.0), \
    f"logits of +-1000: expected grad_w [1.0] and grad_b 0.0, got {_big[1]}, {_big[2]}"
# One row, w = [1], b = 0, x = 2, y = 1, C = 1: log(1 + e^2) - 2 = 0.126928 plus 1 / (2 * 1 * 1) = 0.626928;
# grad_w = 2 (sigmoid(2) - 1) + 1 / 1 = 0.761594, grad_b = sigmoid(2) - 1 = -0.119203.
_one = loss_and_gradient(np.array([1.0]), 0.0, np.array([[2.0]]), np.array([1]), C=1.0)
assert np.isclose(float(_one[0]), 0.626928, atol=1e-6), f"one row, C=1: expected loss 0.626928, got {_one[0]}"
assert np.allclose(np.asarray(_one[1], dtype=float), [0.761594], atol=1e-6), f"one row, C=1: expected grad_w [0.761594], got {_one[1]}"
assert np.isclose(float(_one[2]), -0.119203, atol=1e-6), f"one row, C=1: expected grad_b -0.119203, got {_one[2]}"
### BEGIN HIDDEN TESTS
_huge_h = loss_and_gradient(np.array([700.0, -900.0]), 50.0, np.array([[1.0, 0.5], [-2.0, 1.0], [0.0, -1.0]]),
                            np.array([1, 1, 0]), C=0.5)
assert np.isfinite(float(_huge_h[0])) and np.all(np.isfinite(np.asarray(_huge_h[1], dtype=float))), \
    f"logits in the thousands: expected a finite loss and gradient, got {_huge_h}"
# rows 2 (z = -2250, y = 1) and 3 (z = 950, y = 0) are confident mistakes: loss (2250 + 950) / 3 plus the penalty
_expected_h = (2250.0 + 950.0) / 3 + (700.0 ** 2 + 900.0 ** 2) / (2 * 0.5 * 3)
assert np.isclose(float(_huge_h[0]), _expected_h, rtol=1e-9), f"expected loss {_expected_h:.3f}, got {_huge_h[0]}"
### END HIDDEN TESTS

# %% [markdown] id="md-9cccc967"
# ### Exercise 3 (tier 2) — gradient descent
#
# Implement `gradient_descent(X, y, C=1.0, learning_rate=1.0, n_iter=1000)`: start from `w = 0`, `b = 0`
# and take exactly `n_iter` full-batch steps `w -= learning_rate * grad_w`, `b -= learning_rate * grad_b`
# on the objective of exercise 2 (you may call your `loss_and_gradient`). Return `(w, b)`: an array of
# shape `(n_features,)` and a float. `n_iter=0` returns the starting point. No `mlcourse`, no scikit-learn,
# no `scipy.optimize`: the point is the loop.

# %% id="ex3-gradient-descent" mlcourse={"stage": "modeling", "tier": 2, "forbid": ["mlcourse.modeling", "sklearn.linear_model", "scipy.optimize"]} nbgrader={"grade": false, "grade_id": "ex3_gradient_descent", "locked": false, "schema_version": 3, "solution": true, "task": false}
def gradient_descent(X, y, C=1.0, learning_rate=1.0, n_iter=1000):
    """Full-batch gradient descent on the L2-regularised logistic loss, from zero: (w, b)."""
    ### BEGIN SOLUTION
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(n_iter):
        _, grad_w, grad_b = loss_and_gradient(w, b, X, y, C=C)
        w = w - learning_rate * grad_w
        b = b - learning_rate * grad_b
    return w, b
    ### END SOLUTION

# %% id="ex3-mistake-one-step-short" mistake={"why": "an off-by-one loop: n_iter - 1 steps"}
def gradient_descent(X, y, C=1.0, learning_rate=1.0, n_iter=1000):
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(n_iter - 1):
        _, grad_w, grad_b = loss_and_gradient(w, b, X, y, C=C)
        w = w - learning_rate * grad_w
        b = b - learning_rate * grad_b
    return w, b

# %% id="ex3-mistake-frozen-intercept" mistake={"why": "never updates the intercept"}
def gradient_descent(X, y, C=1.0, learning_rate=1.0, n_iter=1000):
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(n_iter):
        _, grad_w, grad_b = loss_and_gradient(w, b, X, y, C=C)
        w = w - learning_rate * grad_w
    return w, b

# %% id="ex3-mistake-ignores-C" mistake={"why": "always descends the unpenalised loss, whatever C says"}
def gradient_descent(X, y, C=1.0, learning_rate=1.0, n_iter=1000):
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(n_iter):
        _, grad_w, grad_b = loss_and_gradient(w, b, X, y, C=None)
        w = w - learning_rate * grad_w
        b = b - learning_rate * grad_b
    return w, b

# %% id="ex3-gradient-descent-tests" mlcourse={"stage": "modeling", "tier": 2} nbgrader={"grade": true, "grade_id": "ex3_gradient_descent_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# By hand: X = [[1], [-1]], y = [1, 0], no penalty, learning rate 1. From w = 0 the residuals are
# [-0.5, 0.5], so grad_w = -0.5 and grad_b = 0: one step gives w = [0.5], b = 0.
_X1, _y1 = np.array([[1.0], [-1.0]]), np.array([1, 0])
_w, _b = gradient_descent(_X1, _y1, C=None, learning_rate=1.0, n_iter=1)
assert np.allclose(np.asarray(_w, dtype=float), [0.5]) and np.isclose(float(_b), 0.0), \
    f"one step: expected w = [0.5], b = 0.0, got {_w}, {_b}"
# Two more steps (residuals sigmoid(+-w) - y) take w to 0.877541 and then 1.171228; b stays 0 by symmetry.
_w, _b = gradient_descent(_X1, _y1, C=None, learning_rate=1.0, n_iter=3)
assert np.allclose(np.asarray(_w, dtype=float), [1.171228], atol=1e-6) and np.isclose(float(_b), 0.0, atol=1e-12), \
    f"three steps: expected w = [1.171228], b = 0.0, got {_w}, {_b}"
# X = [[1], [2], [0]], y = [1, 1, 0], C = 1, learning rate 0.5, two steps: w = [0.397294], b = 0.125796.
_w, _b = gradient_descent(np.array([[1.0], [2.0], [0.0]]), np.array([1, 1, 0]), C=1.0, learning_rate=0.5, n_iter=2)
assert np.allclose(np.asarray(_w, dtype=float), [0.397294], atol=1e-6) and np.isclose(float(_b), 0.125796, atol=1e-6), \
    f"C=1, lr=0.5, two steps: expected w = [0.397294], b = 0.125796, got {_w}, {_b}"
# No step at all: the starting point.
_w, _b = gradient_descent(np.ones((4, 3)), np.array([0, 1, 0, 1]), n_iter=0)
assert np.allclose(np.asarray(_w, dtype=float), np.zeros(3)) and float(_b) == 0.0, \
    f"n_iter=0: expected w = zeros(3), b = 0.0, got {_w}, {_b}"

# %% id="ex3-gradient-descent-hidden-tests" mlcourse={"stage": "modeling", "tier": 2} nbgrader={"grade": true, "grade_id": "ex3_gradient_descent_hidden_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test runs gradient descent to convergence and compares with scikit-learn.
_w, _b = gradient_descent(np.array([[1.0], [-1.0]]), np.array([1, 0]), C=None, learning_rate=1.0, n_iter=50)
assert float(np.asarray(_w, dtype=float)[0]) > 1.171228, "more steps should move w further towards separating the two rows"
### BEGIN HIDDEN TESTS
from sklearn.datasets import make_classification as _make_classification
from sklearn.preprocessing import StandardScaler as _StandardScaler

_Xd, _yd = _make_classification(n_samples=500, n_features=4, n_informative=3, n_redundant=1,
                                weights=[0.85], random_state=0)
_Xd = _StandardScaler().fit_transform(_Xd)
_w_ref, _b_ref = np.zeros(4), 0.0
for _ in range(3):
    _r = 1 / (1 + np.exp(-(_Xd @ _w_ref + _b_ref))) - _yd
    _w_ref, _b_ref = _w_ref - 0.7 * (_Xd.T @ _r / 500 + _w_ref / (0.5 * 500)), _b_ref - 0.7 * _r.mean()
_gw, _gb = gradient_descent(_Xd, _yd, C=0.5, learning_rate=0.7, n_iter=3)
assert np.allclose(np.asarray(_gw, dtype=float), _w_ref, atol=1e-10) and np.isclose(float(_gb), _b_ref, atol=1e-10), \
    f"after 3 steps from zero expected w={np.round(_w_ref, 6)}, b={_b_ref:.6f}; got w={np.round(_gw, 6)}, b={_gb}"
_sk = LogisticRegression(C=0.5, tol=1e-10, max_iter=10_000).fit(_Xd, _yd)
_gw, _gb = gradient_descent(_Xd, _yd, C=0.5, learning_rate=1.0, n_iter=2000)
assert np.allclose(np.asarray(_gw, dtype=float), _sk.coef_[0], atol=1e-4), \
    f"expected scikit-learn's coefficients {np.round(_sk.coef_[0], 4)}, got {np.round(_gw, 4)}"
assert np.isclose(float(_gb), _sk.intercept_[0], atol=1e-4), f"expected scikit-learn's intercept {_sk.intercept_[0]:.4f}, got {_gb}"
### END HIDDEN TESTS

# %% [markdown] id="md-ex4-least-squares"
# ### Exercise 4 (tier 2) — least squares by the normal equations
#
# Linear regression has what logistic regression lacks: a closed form. For $\hat y = Xw + b$, centre the
# data — $\tilde X = X - \bar x$ (subtract each column's mean), $\tilde y = y - \bar y$ — so that the
# intercept drops out; the ridge objective $\lVert \tilde y - \tilde X w\rVert^2 + \alpha\lVert w\rVert^2$ is then
# minimised where its gradient vanishes:
#
# $$(\tilde X^\top \tilde X + \alpha I)\,w = \tilde X^\top \tilde y, \qquad b = \bar y - \bar x \cdot w.$$
#
# Implement `least_squares(X, y, alpha=0.0)`:
#
# * `X`: NumPy array of shape `(n, n_features)`, `y`: array of shape `(n,)`; return `(w, b)`, an array of
#   shape `(n_features,)` and a float;
# * `alpha >= 0` penalises the weights, **never the intercept**; raise `ValueError` for `alpha < 0`;
# * solve the linear system with `np.linalg.solve` (not `lstsq`, `pinv` or a library regression).

# %% id="ex4-least-squares" mlcourse={"stage": "modeling", "tier": 2, "forbid": ["mlcourse.modeling", "sklearn.linear_model", "numpy.linalg.lstsq", "numpy.linalg.pinv", "numpy.polyfit", "scipy.linalg", "scipy.stats", "scipy.optimize"], "equivalent_mutants": {"8:72 arith Sub>Add": "the centred columns of X sum to zero, so Xc.T @ (y + y_mean) equals Xc.T @ (y - y_mean)"}} nbgrader={"grade": false, "grade_id": "ex4_least_squares", "locked": false, "schema_version": 3, "solution": true, "task": false}
def least_squares(X, y, alpha=0.0):
    """Ridge regression (least squares for alpha = 0) by the normal equations: (w, b)."""
    ### BEGIN SOLUTION
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0, got {alpha}")
    x_mean, y_mean = X.mean(axis=0), y.mean()
    Xc = X - x_mean
    w = np.linalg.solve(Xc.T @ Xc + alpha * np.eye(X.shape[1]), Xc.T @ (y - y_mean))
    return w, float(y_mean - x_mean @ w)
    ### END SOLUTION

# %% id="ex4-mistake-penalised-intercept" mistake={"why": "a column of ones appended to X and penalised with the weights: the intercept shrinks too"}
def least_squares(X, y, alpha=0.0):
    if alpha < 0:
        raise ValueError("alpha must be >= 0")
    A = np.column_stack([X, np.ones(len(X))])
    theta = np.linalg.solve(A.T @ A + alpha * np.eye(A.shape[1]), A.T @ y)
    return theta[:-1], float(theta[-1])

# %% id="ex4-mistake-no-intercept" mistake={"why": "solves X^T X w = X^T y without centring: a line through the origin, b = 0"}
def least_squares(X, y, alpha=0.0):
    if alpha < 0:
        raise ValueError("alpha must be >= 0")
    w = np.linalg.solve(X.T @ X + alpha * np.eye(X.shape[1]), X.T @ y)
    return w, 0.0

# %% id="ex4-mistake-alpha-everywhere" mistake={"why": "adds alpha to every entry of X^T X instead of its diagonal"}
def least_squares(X, y, alpha=0.0):
    if alpha < 0:
        raise ValueError("alpha must be >= 0")
    x_mean, y_mean = X.mean(axis=0), y.mean()
    Xc = X - x_mean
    w = np.linalg.solve(Xc.T @ Xc + alpha, Xc.T @ (y - y_mean))
    return w, float(y_mean - x_mean @ w)

# %% id="ex4-least-squares-tests" mlcourse={"stage": "modeling", "tier": 2} nbgrader={"grade": true, "grade_id": "ex4_least_squares_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# y = 2x + 1 exactly: X = [[0], [1], [2]], y = [1, 3, 5] gives w = [2], b = 1.
_w, _b = least_squares(np.array([[0.0], [1.0], [2.0]]), np.array([1.0, 3.0, 5.0]))
assert np.allclose(np.asarray(_w, dtype=float), [2.0]) and np.isclose(float(_b), 1.0), f"y = 2x + 1: expected ([2], 1), got {_w}, {_b}"
# Two features, y = 1 + 2 x1 - x2 on four rows: w = [2, -1], b = 1.
_w, _b = least_squares(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 1.0]]), np.array([3.0, 0.0, 2.0, 4.0]))
assert np.allclose(np.asarray(_w, dtype=float), [2.0, -1.0]) and np.isclose(float(_b), 1.0), \
    f"y = 1 + 2 x1 - x2: expected ([2, -1], 1), got {_w}, {_b}"
# Ridge with alpha = 1 on the first data: centred x = [-1, 0, 1], sum x^2 = 2, sum x y = 4,
# so w = 4 / (2 + 1) = 4/3 and b = mean(y) - mean(x) w = 3 - 4/3 = 5/3.
_w, _b = least_squares(np.array([[0.0], [1.0], [2.0]]), np.array([1.0, 3.0, 5.0]), alpha=1.0)
assert np.allclose(np.asarray(_w, dtype=float), [4 / 3]) and np.isclose(float(_b), 5 / 3), \
    f"alpha=1: expected ([4/3], 5/3), got {_w}, {_b}"
### BEGIN HIDDEN TESTS
from sklearn.linear_model import Ridge as _Ridge, LinearRegression as _LinearRegression

_rng_h = np.random.default_rng(404)
for _n_h, _d_h, _alpha_h in [(200, 5, 0.0), (50, 3, 2.5), (500, 8, 40.0), (30, 2, 0.1)]:
    _X_h = _rng_h.normal(size=(_n_h, _d_h)) * _rng_h.uniform(0.5, 3, _d_h) + _rng_h.normal(size=_d_h)
    _y_h = _X_h @ _rng_h.normal(size=_d_h) + 3.0 + _rng_h.standard_t(3, size=_n_h)
    _ref_h = (_Ridge(alpha=_alpha_h) if _alpha_h else _LinearRegression()).fit(_X_h, _y_h)
    _w_h, _b_h = least_squares(_X_h, _y_h, alpha=_alpha_h)
    assert np.allclose(np.asarray(_w_h, dtype=float), _ref_h.coef_, atol=1e-8), f"n={_n_h}, alpha={_alpha_h}: weights differ from ridge's"
    assert np.isclose(float(_b_h), _ref_h.intercept_, atol=1e-8), f"n={_n_h}, alpha={_alpha_h}: intercept differs from ridge's"
### END HIDDEN TESTS

# %% id="ex4-least-squares-edge-tests" mlcourse={"stage": "modeling", "tier": 2} nbgrader={"grade": true, "grade_id": "ex4_least_squares_edge_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# A huge penalty shrinks the weights to 0, but not the intercept: it tends to the mean of y, 3.
_w, _b = least_squares(np.array([[0.0], [1.0], [2.0]]), np.array([1.0, 3.0, 5.0]), alpha=1e9)
assert np.allclose(np.asarray(_w, dtype=float), [0.0], atol=1e-6) and np.isclose(float(_b), 3.0, atol=1e-6), \
    f"alpha=1e9: expected w ~ [0] and b ~ mean(y) = 3, got {_w}, {_b}"
# An offset of the features moves only the intercept: y = 2 (x - 10) + 1 on x = 10, 11, 12 gives w = [2], b = -19.
_w, _b = least_squares(np.array([[10.0], [11.0], [12.0]]), np.array([1.0, 3.0, 5.0]), alpha=0.0)
assert np.allclose(np.asarray(_w, dtype=float), [2.0]) and np.isclose(float(_b), -19.0), f"shifted x: expected ([2], -19), got {_w}, {_b}"
try:
    least_squares(np.array([[0.0], [1.0]]), np.array([0.0, 1.0]), alpha=-1.0)
    _raised = False
except ValueError:
    _raised = True
assert _raised, "alpha=-1: expected ValueError"
# %% [markdown] id="md-1ac75725"
# ## 4. Neural networks
#
# A linear model has to be *told* which shapes and combinations matter. A **multi-layer perceptron** (MLP)
# learns them: each hidden layer computes new features $h = \text{ReLU}(W x + c)$ — piecewise-linear
# functions of the inputs — and the last layer is a logistic regression on those learned features. With
# enough hidden units it can approximate any smooth decision rule, including "risky at night *and* abroad".
#
# The price: a non-convex loss (the result depends on the initialisation and the optimizer), more
# hyper-parameters, less interpretability, and a need for scaled inputs and enough data. On tabular data
# like ours, gradient-boosted trees are often as good or better (section 6); networks shine on images,
# text and audio, and as members of ensembles.
#
# `md.make_mlp` builds the network as a plain `torch.nn.Sequential` — the same object stage 6 will quantize
# and serve. It outputs one **logit** per class; softmax turns them into probabilities.

# %% id="code-c2945539"
torch.manual_seed(SEED)
net = md.make_mlp(X_train.shape[1], hidden_layer_sizes=(64, 32), dropout=0.1)
print(net)
print("parameters:", sum(p.numel() for p in net.parameters()))

# %% [markdown] id="md-f88c002e"
# ### The training loop
#
# Full-batch gradient descent on 30,000 rows computes the exact gradient and takes one step. **Mini-batch**
# training takes a step after every batch of, say, 256 rows: a noisy but unbiased estimate of the gradient,
# 118 steps per pass over the data (an **epoch**) instead of one. The noise even helps to escape flat
# regions. One epoch of the library's loop:

# %% id="code-045d37ed"
print(inspect.getsource(md.train_epoch))

# %% [markdown] id="md-024ffa68"
# ### Exercise 5 (tier 2) — one epoch of mini-batch training
#
# Implement `train_one_epoch(network, optimizer, loss_fn, X, y, batch_size, generator)` in plain PyTorch
# (not `md.train_epoch`, whose code is printed above: read it, then write your own):
#
# 1. put the network in training mode (`network.train()`: dropout on);
# 2. shuffle with `order = torch.randperm(len(X), generator=generator)`;
# 3. for each consecutive slice of `order` of `batch_size` indices (the last one may be shorter):
#    zero the gradients, compute `loss_fn(network(X[idx]), y[idx])`, back-propagate, `optimizer.step()`;
# 4. return the epoch's average training loss as a Python `float`: the batch losses weighted by their
#    batch sizes, divided by `len(X)`.

# %% id="ex5-train-one-epoch" mlcourse={"stage": "modeling", "tier": 2, "forbid": ["mlcourse.modeling"]} nbgrader={"grade": false, "grade_id": "ex5_train_one_epoch", "locked": false, "schema_version": 3, "solution": true, "task": false}
def train_one_epoch(network, optimizer, loss_fn, X, y, batch_size, generator):
    """One shuffled pass of mini-batch training; returns the batch-size-weighted mean loss."""
    ### BEGIN SOLUTION
    network.train()
    order = torch.randperm(len(X), generator=generator)
    total = 0.0
    for start in range(0, len(X), batch_size):
        idx = order[start:start + batch_size]
        optimizer.zero_grad()
        loss = loss_fn(network(X[idx]), y[idx])
        loss.backward()
        optimizer.step()
        total += loss.item() * len(idx)
    return total / len(X)
    ### END SOLUTION

# %% id="ex5-mistake-plain-mean" mistake={"why": "averages the batch losses with equal weights: the short last batch counts as much as a full one"}
def train_one_epoch(network, optimizer, loss_fn, X, y, batch_size, generator):
    network.train()
    order = torch.randperm(len(X), generator=generator)
    losses = []
    for start in range(0, len(X), batch_size):
        idx = order[start:start + batch_size]
        optimizer.zero_grad()
        loss = loss_fn(network(X[idx]), y[idx])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return float(np.mean(losses))

# %% id="ex5-mistake-no-zero-grad" mistake={"why": "never zeroes the gradients: each step follows the sum of all earlier batches' gradients"}
def train_one_epoch(network, optimizer, loss_fn, X, y, batch_size, generator):
    network.train()
    order = torch.randperm(len(X), generator=generator)
    total = 0.0
    for start in range(0, len(X), batch_size):
        idx = order[start:start + batch_size]
        loss = loss_fn(network(X[idx]), y[idx])
        loss.backward()
        optimizer.step()
        total += loss.item() * len(idx)
    return total / len(X)

# %% id="ex5-mistake-eval-mode" mistake={"why": "leaves the network in whatever mode it was in (evaluation mode: dropout off)"}
def train_one_epoch(network, optimizer, loss_fn, X, y, batch_size, generator):
    order = torch.randperm(len(X), generator=generator)
    total = 0.0
    for start in range(0, len(X), batch_size):
        idx = order[start:start + batch_size]
        optimizer.zero_grad()
        loss = loss_fn(network(X[idx]), y[idx])
        loss.backward()
        optimizer.step()
        total += loss.item() * len(idx)
    return total / len(X)

# %% id="ex5-mistake-unseeded-shuffle" mistake={"why": "shuffles with the global random state instead of the generator it was given"}
def train_one_epoch(network, optimizer, loss_fn, X, y, batch_size, generator):
    network.train()
    order = torch.randperm(len(X))
    total = 0.0
    for start in range(0, len(X), batch_size):
        idx = order[start:start + batch_size]
        optimizer.zero_grad()
        loss = loss_fn(network(X[idx]), y[idx])
        loss.backward()
        optimizer.step()
        total += loss.item() * len(idx)
    return total / len(X)

# %% id="ex5-train-one-epoch-tests" mlcourse={"stage": "modeling", "tier": 2} nbgrader={"grade": true, "grade_id": "ex5_train_one_epoch_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
_Xe = torch.as_tensor(X_train[:3000], dtype=torch.float32)
_ye = torch.as_tensor(y_train[:3000])
torch.manual_seed(0)
_net_e = torch.nn.Sequential(torch.nn.Linear(_Xe.shape[1], 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
# With a learning rate of 0 the weights never move, so the batch losses, weighted by batch size, average
# to the loss on all 3,000 rows — also with batches of 700, whose last one holds only 200 rows.
_before = [p.detach().clone() for p in _net_e.parameters()]
_full_loss = F.cross_entropy(_net_e(_Xe), _ye).item()
_net_e.eval()
_l0 = train_one_epoch(_net_e, torch.optim.SGD(_net_e.parameters(), lr=0.0), F.cross_entropy, _Xe, _ye, 700,
                      torch.Generator().manual_seed(1))
assert isinstance(_l0, float), f"expected a Python float, got {type(_l0).__name__}"
assert np.isclose(_l0, _full_loss, rtol=1e-5), \
    f"learning rate 0, batches of 700: expected the loss on all rows {_full_loss:.6f}, got {_l0:.6f}"
assert _net_e.training, "expected the network in training mode after train_one_epoch"
# With a real learning rate the weights move.
train_one_epoch(_net_e, torch.optim.SGD(_net_e.parameters(), lr=0.1), F.cross_entropy, _Xe, _ye, 256,
                torch.Generator().manual_seed(1))
assert any(not torch.equal(_a, _p) for _a, _p in zip(_before, _net_e.parameters())), "the weights never changed"

# %% id="ex5-train-one-epoch-hidden-tests" mlcourse={"stage": "modeling", "tier": 2} nbgrader={"grade": true, "grade_id": "ex5_train_one_epoch_hidden_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test runs your function and a reference loop on two identical networks (dropout,
# momentum, shuffled batches) and compares the losses and the weights.
_l1 = train_one_epoch(_net_e, torch.optim.SGD(_net_e.parameters(), lr=0.05), F.cross_entropy, _Xe[:500], _ye[:500], 128,
                      torch.Generator().manual_seed(2))
assert np.isfinite(_l1), f"expected a finite loss, got {_l1}"
### BEGIN HIDDEN TESTS
def _reference_epoch_h(network, optimizer, loss_fn, X, y, batch_size, generator):
    network.train()
    order = torch.randperm(len(X), generator=generator)
    total = 0.0
    for start in range(0, len(X), batch_size):
        idx = order[start:start + batch_size]
        optimizer.zero_grad()
        loss = loss_fn(network(X[idx]), y[idx])
        loss.backward()
        optimizer.step()
        total += loss.item() * len(idx)
    return total / len(X)


torch.manual_seed(0)
_net_mine_h = torch.nn.Sequential(torch.nn.Linear(_Xe.shape[1], 16), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                                  torch.nn.Linear(16, 2))
_net_ref_h = copy.deepcopy(_net_mine_h)
_opt_mine_h = torch.optim.SGD(_net_mine_h.parameters(), lr=0.1, momentum=0.9)
_opt_ref_h = torch.optim.SGD(_net_ref_h.parameters(), lr=0.1, momentum=0.9)
_gen_mine_h, _gen_ref_h = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
for _epoch_h, _bs_h in enumerate([256, 700]):
    _net_mine_h.eval(); _net_ref_h.eval()
    torch.manual_seed(100 + _epoch_h)
    _l_mine_h = train_one_epoch(_net_mine_h, _opt_mine_h, F.cross_entropy, _Xe, _ye, _bs_h, _gen_mine_h)
    torch.manual_seed(100 + _epoch_h)
    _l_ref_h = _reference_epoch_h(_net_ref_h, _opt_ref_h, F.cross_entropy, _Xe, _ye, _bs_h, _gen_ref_h)
    assert np.isclose(_l_mine_h, _l_ref_h, rtol=1e-5), f"epoch {_epoch_h + 1}: expected mean loss {_l_ref_h:.6f}, got {_l_mine_h:.6f}"
    for _pm_h, _pr_h in zip(_net_mine_h.parameters(), _net_ref_h.parameters()):
        assert torch.allclose(_pm_h, _pr_h, atol=1e-5), f"epoch {_epoch_h + 1}: the weights differ from the reference loop's"
### END HIDDEN TESTS

# %% [markdown] id="md-953614cd"
# ### Choosing the optimizer
#
# * **SGD** — $w \leftarrow w - \eta g$. Simple and well understood; needs a tuned learning rate and is slow
#   where the loss surface is badly scaled.
# * **Momentum** — keeps a running average of past gradients and steps along it: zig-zags across a narrow
#   valley cancel out, progress along it accumulates.
# * **Adam** — momentum plus a per-parameter step size from the running average of squared gradients, so
#   every parameter moves at a sensible pace. A robust default at $\eta \approx 10^{-3}$.
# * **AdamW** — Adam with *decoupled* weight decay: it shrinks the weights directly instead of adding an L2
#   term to the gradient (which Adam's per-parameter scaling would distort). The standard choice when you
#   regularise with weight decay.
#
# `md.MLPClassifier` wraps network, loss, optimizer and loop in a scikit-learn estimator and records the
# loss of each epoch:

# %% id="code-cea4fcc6"
optimizer_settings = {"sgd": 0.05, "momentum": 0.01, "adam": 1e-3, "adamw": 1e-3}
fig, ax = plt.subplots(figsize=(6, 3.8))
for name, lr in optimizer_settings.items():
    start = time.perf_counter()
    mlp = md.MLPClassifier(optimizer=name, learning_rate=lr, weight_decay=1e-2 if name == "adamw" else 0.0,
                           max_epochs=EPOCHS, patience=None, seed=SEED)
    mlp.fit(X_train[:N_DEMO], y_train[:N_DEMO], X_valid, y_valid)
    ax.plot(mlp.history_["epoch"], mlp.history_["val_loss"], marker="o",
            label=f"{name} (lr={lr:g}, {time.perf_counter() - start:.1f} s)")
ax.set_xlabel("epoch")
ax.set_ylabel("validation log-loss")
ax.set_title("Optimizers on the same network and data")
ax.legend()
plt.show()

# %% [markdown] id="md-5e63dd72"
# Adam and AdamW reach a low validation loss in a few epochs; plain SGD gets there too, but slowly, and
# momentum sits in between. With more epochs and tuned rates they end up close — the optimizer mostly
# decides *how fast and how reliably* you get there, which matters when every experiment costs minutes
# or hours.
#
# ### Bias, variance and early stopping
#
# A model's error has two sources besides noise: **bias** (too simple to represent the pattern:
# high training *and* validation loss — underfitting) and **variance** (so flexible that it fits the
# noise of its particular training set: low training loss, high validation loss — overfitting). Large
# networks trained long on little data sit at the variance end. Watch the training history of a big
# network on only 3,000 rows:

# %% id="code-e04e9a74"
big = md.MLPClassifier(hidden_layer_sizes=(128, 128), learning_rate=3e-3, batch_size=64,
                       max_epochs=15 if FAST else 30, patience=None, seed=SEED)
big.fit(X_train[:3000], y_train[:3000], X_valid, y_valid)
md.plot_history(big.history_, title="A big network on 3,000 rows: overfitting")
plt.show()

# %% [markdown] id="md-93dec9a9"
# Training loss keeps falling while validation loss turns up after a couple of epochs: from there on the
# network memorises its 3,000 rows. Remedies that reduce variance: more data, a smaller network, weight
# decay, dropout — and **early stopping**: evaluate on validation data after each epoch, stop when it has
# not improved for `patience` epochs, and **restore the weights of the best epoch** (the last epoch is, by
# construction, worse than the best). `MLPClassifier` does this when given validation data:

# %% id="code-71a21aa9"
stopped = md.MLPClassifier(hidden_layer_sizes=(128, 128), learning_rate=3e-3, batch_size=64,
                           max_epochs=30, patience=3, seed=SEED)
stopped.fit(X_train[:3000], y_train[:3000], X_valid, y_valid)
print(f"ran {stopped.n_epochs_} epochs, kept epoch {stopped.best_epoch_}; "
      f"validation loss now {stopped.loss_on(X_valid, y_valid):.4f} = best in history "
      f"{min(stopped.history_['val_loss']):.4f}")

# %% [markdown] id="md-2fbd8c70"
# ### Reproducibility
#
# Training is random: the initial weights, the order of the mini-batches, the dropout masks. To make a
# result reproducible — so that a colleague, a test, or you next month gets the same model — fix every
# source: `torch.manual_seed(seed)` before creating the network, and a seeded `torch.Generator` for the
# shuffling. (Also keep the thread count fixed: parallel floating-point sums can differ in the last bits.)
# Same seed, same predictions; another seed, a slightly different model:

# %% id="code-a517b12c"
settings = dict(max_epochs=3, patience=None, dropout=0.1)
a = md.MLPClassifier(seed=SEED, **settings).fit(X_train[:N_DEMO], y_train[:N_DEMO]).predict_proba(X_valid)[:, 1]
b = md.MLPClassifier(seed=SEED, **settings).fit(X_train[:N_DEMO], y_train[:N_DEMO]).predict_proba(X_valid)[:, 1]
c = md.MLPClassifier(seed=SEED + 1, **settings).fit(X_train[:N_DEMO], y_train[:N_DEMO]).predict_proba(X_valid)[:, 1]
print(f"same seed: identical = {np.array_equal(a, b)};  other seed: largest difference = {np.abs(a - c).max():.4f}")

# %% [markdown] id="md-eb6f01ec"
# ### Exercise 6 (tier 3) — a sound training loop: validation, early stopping, seeds
#
# Write the loop that `MLPClassifier` hides, for any network. Implement
# `fit_with_early_stopping(build_network, X_tr, y_tr, X_val, y_val, seed, max_epochs=50, patience=3,
# batch_size=256, learning_rate=1e-3)`, where the data are tensors (float32 inputs, int64 labels) and
# `build_network()` returns a fresh, untrained `torch.nn.Module` with two output logits:
#
# * **reproducible**: call `torch.manual_seed(seed)` right before `build_network()`, and shuffle the
#   mini-batches with a generator seeded with `seed`, so that the same seed gives the same network
#   whatever random numbers were drawn before the call;
# * train with `torch.optim.Adam(network.parameters(), lr=learning_rate)` and `F.cross_entropy`, one
#   shuffled pass of mini-batches per epoch (your `train_one_epoch` is made for it);
# * after each epoch, the **validation loss** `F.cross_entropy(network(X_val), y_val)` on the whole
#   validation set, in evaluation mode and without gradients;
# * keep a copy of the weights whenever the validation loss is *strictly* lower than every earlier one
#   (`copy.deepcopy(network.state_dict())` — without the deep copy you keep a reference to weights that
#   keep changing); stop after `patience` consecutive epochs without such an improvement, or after
#   `max_epochs`;
# * before returning, load the best weights back into the network;
# * return `(network, history)`: the network `build_network` made, holding the best weights, and the list
#   of validation losses, one Python float per epoch run.
#
# No `mlcourse`: `md.MLPClassifier` builds its own network, and this loop must train the one it is given.
# The tests use the two builders of the next cell; the hidden tests use networks, data and settings you
# have not seen.

# %% id="code-ex6-builders"
def wide_network():
    """A fresh, untrained network for the fraud inputs: one wide hidden layer (weights from torch's seed)."""
    return torch.nn.Sequential(torch.nn.Linear(X_train.shape[1], 96), torch.nn.ReLU(), torch.nn.Linear(96, 2))


def dropout_network():
    """A fresh, untrained small network with dropout, which makes training random beyond the initial weights."""
    return torch.nn.Sequential(torch.nn.Linear(X_train.shape[1], 24), torch.nn.ReLU(), torch.nn.Dropout(0.3),
                               torch.nn.Linear(24, 2))

# %% id="ex6-early-stopping" mlcourse={"stage": "modeling", "tier": 3, "forbid": ["mlcourse.modeling"], "equivalent_mutants": {"9:69 number 0>1": "the first epoch always beats the starting best loss inf, which resets waited to 0 before it is ever read"}} nbgrader={"grade": false, "grade_id": "ex6_early_stopping", "locked": false, "schema_version": 3, "solution": true, "task": false}
def fit_with_early_stopping(build_network, X_tr, y_tr, X_val, y_val, seed, max_epochs=50, patience=3,
                            batch_size=256, learning_rate=1e-3):
    """Seeded training until the validation loss stops improving; returns (network with best weights, val losses)."""
    ### BEGIN SOLUTION
    torch.manual_seed(seed)
    network = build_network()
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(network.parameters(), lr=learning_rate)
    history, best_loss, best_state, waited = [], float("inf"), None, 0
    for _ in range(max_epochs):
        train_one_epoch(network, optimizer, F.cross_entropy, X_tr, y_tr, batch_size, generator)
        network.eval()
        with torch.no_grad():
            val_loss = F.cross_entropy(network(X_val), y_val).item()
        history.append(val_loss)
        if val_loss < best_loss:
            best_loss, best_state, waited = val_loss, copy.deepcopy(network.state_dict()), 0
        else:
            waited += 1
            if waited >= patience:
                break
    network.load_state_dict(best_state)
    return network, history
    ### END SOLUTION

# %% id="ex6-mistake-library-network" mistake={"readable": "demo cell code-71a21aa9: md.MLPClassifier(..., patience=3, seed=SEED).fit(X_tr, y_tr, X_val, y_val), its network_ and history_", "why": "trains the library's own network (make_mlp's 64-32 layers), not the one build_network makes"}
def fit_with_early_stopping(build_network, X_tr, y_tr, X_val, y_val, seed, max_epochs=50, patience=3,
                            batch_size=256, learning_rate=1e-3):
    model = md.MLPClassifier(learning_rate=learning_rate, batch_size=batch_size, max_epochs=max_epochs,
                             patience=patience, seed=seed)
    model.fit(X_tr.numpy(), y_tr.numpy(), X_val.numpy(), y_val.numpy())
    return model.network_, list(model.history_["val_loss"])

# %% id="ex6-mistake-no-deepcopy" mistake={"why": "keeps network.state_dict() without a deep copy: a reference to weights that go on changing, so the last weights are 'restored'"}
def fit_with_early_stopping(build_network, X_tr, y_tr, X_val, y_val, seed, max_epochs=50, patience=3,
                            batch_size=256, learning_rate=1e-3):
    torch.manual_seed(seed)
    network = build_network()
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(network.parameters(), lr=learning_rate)
    history, best_loss, best_state, waited = [], float("inf"), None, 0
    for _ in range(max_epochs):
        train_one_epoch(network, optimizer, F.cross_entropy, X_tr, y_tr, batch_size, generator)
        network.eval()
        with torch.no_grad():
            val_loss = F.cross_entropy(network(X_val), y_val).item()
        history.append(val_loss)
        if val_loss < best_loss:
            best_loss, best_state, waited = val_loss, network.state_dict(), 0
        else:
            waited += 1
            if waited >= patience:
                break
    network.load_state_dict(best_state)
    return network, history

# %% id="ex6-mistake-not-strict" mistake={"why": "counts a validation loss equal to the best as an improvement (<= instead of <): a flat curve never stops"}
def fit_with_early_stopping(build_network, X_tr, y_tr, X_val, y_val, seed, max_epochs=50, patience=3,
                            batch_size=256, learning_rate=1e-3):
    torch.manual_seed(seed)
    network = build_network()
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(network.parameters(), lr=learning_rate)
    history, best_loss, best_state, waited = [], float("inf"), None, 0
    for _ in range(max_epochs):
        train_one_epoch(network, optimizer, F.cross_entropy, X_tr, y_tr, batch_size, generator)
        network.eval()
        with torch.no_grad():
            val_loss = F.cross_entropy(network(X_val), y_val).item()
        history.append(val_loss)
        if val_loss <= best_loss:
            best_loss, best_state, waited = val_loss, copy.deepcopy(network.state_dict()), 0
        else:
            waited += 1
            if waited >= patience:
                break
    network.load_state_dict(best_state)
    return network, history

# %% id="ex6-mistake-unseeded-batches" mistake={"why": "seeds the weights but shuffles with an unseeded generator: the same seed gives another model on each call"}
def fit_with_early_stopping(build_network, X_tr, y_tr, X_val, y_val, seed, max_epochs=50, patience=3,
                            batch_size=256, learning_rate=1e-3):
    torch.manual_seed(seed)
    network = build_network()
    optimizer = torch.optim.Adam(network.parameters(), lr=learning_rate)
    history, best_loss, best_state, waited = [], float("inf"), None, 0
    for _ in range(max_epochs):
        train_one_epoch(network, optimizer, F.cross_entropy, X_tr, y_tr, batch_size, None)
        network.eval()
        with torch.no_grad():
            val_loss = F.cross_entropy(network(X_val), y_val).item()
        history.append(val_loss)
        if val_loss < best_loss:
            best_loss, best_state, waited = val_loss, copy.deepcopy(network.state_dict()), 0
        else:
            waited += 1
            if waited >= patience:
                break
    network.load_state_dict(best_state)
    return network, history

# %% id="ex6-mistake-last-weights" mistake={"why": "stops at the right epoch but returns the last weights, not the best"}
def fit_with_early_stopping(build_network, X_tr, y_tr, X_val, y_val, seed, max_epochs=50, patience=3,
                            batch_size=256, learning_rate=1e-3):
    torch.manual_seed(seed)
    network = build_network()
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(network.parameters(), lr=learning_rate)
    history, best_loss, waited = [], float("inf"), 0
    for _ in range(max_epochs):
        train_one_epoch(network, optimizer, F.cross_entropy, X_tr, y_tr, batch_size, generator)
        network.eval()
        with torch.no_grad():
            val_loss = F.cross_entropy(network(X_val), y_val).item()
        history.append(val_loss)
        if val_loss < best_loss:
            best_loss, waited = val_loss, 0
        else:
            waited += 1
            if waited >= patience:
                break
    return network, history

# %% id="ex6-early-stopping-tests" mlcourse={"stage": "modeling", "tier": 3} nbgrader={"grade": true, "grade_id": "ex6_early_stopping_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# A wide network on 2,000 rows overfits within a few epochs; the loop must stop patience epochs after the
# best one and hand back the best weights.
_Xs = torch.as_tensor(X_train[:2000], dtype=torch.float32)
_ys = torch.as_tensor(y_train[:2000])
_Xv = torch.as_tensor(X_valid[:4000], dtype=torch.float32)
_yv = torch.as_tensor(y_valid[:4000])
_net, _hist = fit_with_early_stopping(wide_network, _Xs, _ys, _Xv, _yv, seed=3, max_epochs=40, patience=3, batch_size=64,
                                      learning_rate=3e-3)
assert isinstance(_net, torch.nn.Sequential) and _net[0].out_features == 96, \
    f"expected the network that build_network made (Linear({_Xs.shape[1]}, 96), ...), got {_net}"
_hist = np.asarray(_hist, dtype=float)
assert _hist.ndim == 1 and 1 <= len(_hist) <= 40, f"expected one validation loss per epoch run, got {len(_hist)} values"
_best = int(np.argmin(_hist))
assert len(_hist) == min(40, _best + 1 + 3), \
    f"patience 3: the best epoch was {_best + 1}, so training should run {min(40, _best + 4)} epochs; it ran {len(_hist)}"
_net.eval()
with torch.no_grad():
    _now = F.cross_entropy(_net(_Xv), _yv).item()
assert np.isclose(_now, _hist.min(), rtol=1e-5), \
    f"the returned network should hold the best weights (val loss {_hist.min():.5f}), it has {_now:.5f}"

# %% id="ex6-early-stopping-seed-tests" mlcourse={"stage": "modeling", "tier": 3} nbgrader={"grade": true, "grade_id": "ex6_early_stopping_seed_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The same seed gives the same network, whatever random numbers were drawn before the call; another seed
# gives another one.
torch.manual_seed(123)
_net_a, _hist_a = fit_with_early_stopping(dropout_network, _Xs, _ys, _Xv, _yv, seed=7, max_epochs=4, patience=10, batch_size=128)
torch.manual_seed(456)
_net_b, _hist_b = fit_with_early_stopping(dropout_network, _Xs, _ys, _Xv, _yv, seed=7, max_epochs=4, patience=10, batch_size=128)
_net_c, _hist_c = fit_with_early_stopping(dropout_network, _Xs, _ys, _Xv, _yv, seed=8, max_epochs=4, patience=10, batch_size=128)
assert _net_a[0].out_features == 24 and len(_hist_a) == 4, \
    f"max_epochs=4 with patience 10: expected 4 epochs of the network build_network made, got {len(_hist_a)} epochs of {_net_a}"
assert _hist_a == _hist_b and all(torch.equal(_p, _q) for _p, _q in zip(_net_a.parameters(), _net_b.parameters())), \
    "seed=7 twice: expected identical histories and weights (seed torch before build_network, and seed the shuffling)"
assert _hist_a != _hist_c, "seed=7 and seed=8: expected different models"

# %% id="ex6-early-stopping-hidden-tests" mlcourse={"stage": "modeling", "tier": 3} nbgrader={"grade": true, "grade_id": "ex6_early_stopping_hidden_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# A network that cannot learn (learning rate 0) has a flat validation loss: the first epoch is the best and
# nothing after it is strictly better, so training stops after 1 + patience epochs.
_net_flat, _hist_flat = fit_with_early_stopping(dropout_network, _Xs, _ys, _Xv, _yv, seed=1, max_epochs=30, patience=2,
                                                learning_rate=0.0)
assert len(_hist_flat) == 3 and _net_flat[0].out_features == 24, \
    f"a flat validation loss, patience 2: expected 3 epochs of the network build_network made, got {len(_hist_flat)}"
### BEGIN HIDDEN TESTS
def _reference_fit_h(build_network, X_tr, y_tr, X_val, y_val, seed, max_epochs, patience, batch_size, learning_rate):
    torch.manual_seed(seed)
    network = build_network()
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(network.parameters(), lr=learning_rate)
    history, best, state, waited = [], float("inf"), None, 0
    for _ in range(max_epochs):
        network.train()
        order = torch.randperm(len(X_tr), generator=generator)
        for start in range(0, len(X_tr), batch_size):
            idx = order[start:start + batch_size]
            optimizer.zero_grad()
            F.cross_entropy(network(X_tr[idx]), y_tr[idx]).backward()
            optimizer.step()
        network.eval()
        with torch.no_grad():
            loss = F.cross_entropy(network(X_val), y_val).item()
        history.append(loss)
        if loss < best:
            best, state, waited = loss, copy.deepcopy(network.state_dict()), 0
        else:
            waited += 1
            if waited >= patience:
                break
    network.load_state_dict(state)
    return network, history


_Xh_h = torch.as_tensor(X_train[5000:6500], dtype=torch.float32)
_yh_h = torch.as_tensor(y_train[5000:6500])
_Xvh_h = torch.as_tensor(X_valid[4000:7000], dtype=torch.float32)
_yvh_h = torch.as_tensor(y_valid[4000:7000])
def _build_h():
    return torch.nn.Sequential(torch.nn.Linear(_Xh_h.shape[1], 64), torch.nn.ReLU(), torch.nn.Dropout(0.1),
                               torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 2))
for _seed_h, _pat_h, _bs_h, _lr_h in [(11, 2, 50, 5e-3), (12, 4, 100, 2e-3)]:
    _mine_net_h, _mine_hist_h = fit_with_early_stopping(_build_h, _Xh_h, _yh_h, _Xvh_h, _yvh_h, seed=_seed_h, max_epochs=25,
                                                        patience=_pat_h, batch_size=_bs_h, learning_rate=_lr_h)
    _ref_net_h, _ref_hist_h = _reference_fit_h(_build_h, _Xh_h, _yh_h, _Xvh_h, _yvh_h, _seed_h, 25, _pat_h, _bs_h, _lr_h)
    assert np.allclose(np.asarray(_mine_hist_h, dtype=float), _ref_hist_h, rtol=1e-5) and len(_mine_hist_h) == len(_ref_hist_h), \
        f"seed {_seed_h}, patience {_pat_h}: expected the validation losses {np.round(_ref_hist_h, 5)}, got {np.round(_mine_hist_h, 5)}"
    for _p_h, _q_h in zip(_mine_net_h.parameters(), _ref_net_h.parameters()):
        assert torch.allclose(_p_h, _q_h, atol=1e-5), f"seed {_seed_h}: the returned weights are not the best epoch's"
### END HIDDEN TESTS
# %% [markdown] id="md-6caaa971"
# ## 5. Class imbalance: the loss decides what the model cares about
#
# With 2% fraud, 98% of the log-loss comes from legitimate payments. A model minimising it is biased
# towards "legit": it is *right* to be — its probabilities are calibrated — but at the default threshold
# 0.5 it flags almost nothing. There are four places to correct for this:
#
# | where | how | effect on the probabilities |
# |---|---|---|
# | the **threshold** | flag at $t^*$ = Bayes threshold or the validation cost minimum | none: the model stays calibrated |
# | the **loss: class weights** | multiply the loss of each fraud by $w_1$, of each legit by $w_0$ | inflated towards fraud by the odds factor $w_1/w_0$ |
# | the **loss: focal** | fade out easy examples, $(1-p_t)^\gamma$ | distorted (over-smoothed); the ranking may improve |
# | the **data: resampling** | drop legit rows (undersample) or repeat fraud rows (oversample) | inflated, like class weights; undersampling also discards data |
#
# A neat special case: with **class weights equal to the business costs**, $w_0 = c_{FP}$ and
# $w_1 = c_{FN}$, the weighted loss is minimised by a model whose threshold 0.5 *is* the cost-optimal
# decision (Elkan, 2001) — the loss encodes the business. Let us train one MLP per choice and compare
# them with the thresholds chosen on validation data:

# %% id="code-a7426e2c"
loss_settings = {
    "MLP cross-entropy": dict(loss="cross_entropy"),
    "MLP balanced weights": dict(loss="weighted", class_weight="balanced"),
    "MLP cost weights": dict(loss="weighted", class_weight={0: COST_FP, 1: COST_FN}),
    "MLP focal (gamma=2)": dict(loss="focal", gamma=2.0),
}
loss_models = {}
for name, setting in loss_settings.items():
    loss_models[name] = md.MLPClassifier(max_epochs=EPOCHS, patience=3, seed=SEED, **setting).fit(
        X_train[:N_DEMO], y_train[:N_DEMO], X_valid, y_valid)
loss_models["logistic baseline"] = logistic
loss_table = md.compare_models(loss_models, X_valid, y_valid, X_test, y_test,
                               cost_fp=COST_FP, cost_fn=COST_FN, baseline="logistic baseline")
loss_table["mean P(fraud)"] = [loss_models[n].predict_proba(X_test)[:, 1].mean() for n in loss_table.index]
loss_table.round(4)

# %% [markdown] id="md-98e7d989"
# Read the table column by column:
#
# * `cost_at_0.5` — the unweighted models (cross-entropy, focal, the logistic baseline) flag almost nothing
#   at the default threshold and cost about as much as flagging nothing; the weighted ones are usable at
#   0.5, and for the cost-weighted one 0.5 is the right threshold by construction;
# * `threshold` — chosen on validation data: small for the calibrated cross-entropy model (near the Bayes
#   threshold 0.048), near 0.5 for the cost-weighted model, high for the balanced one;
# * `mean P(fraud)` against the true rate of about 0.02 — only the unweighted cross-entropy models are
#   calibrated. If anything downstream uses the probabilities themselves (stage 5), re-calibrate the others;
# * `test_cost` — once each model gets its own threshold, the gaps shrink, and the order changes from one
#   seed to the next (run the notebook with another `SEED`): with about 200 frauds in the test set,
#   differences of several percent are within noise (stage 4's bootstrap). The loss decides which payments
#   the model works hardest to separate; the threshold does most of the rest.
#
# **Resampling** does to the data what class weights do to the loss — here undersampling the legit
# payments to one fraud per four legit for the logistic baseline:

# %% id="code-fdbaf615"
X_under, y_under = md.resample(X_train, y_train, method="undersample", ratio=0.25, seed=SEED)
under = md.logistic_baseline().fit(X_under, y_under)
print(f"training rows: {len(y_train):,} -> {len(y_under):,} ({y_under.mean():.0%} fraud)")
md.compare_models({"logistic, all rows": logistic, "logistic, undersampled": under},
                  X_valid, y_valid, X_test, y_test, cost_fp=COST_FP, cost_fn=COST_FN).round(4)

# %% [markdown] id="md-679dd107"
# ### Exercise 8 (tier 4) — the focal loss for one logit
#
# On imbalanced data most examples are easy negatives; their small losses add up and dominate the
# gradient. The **focal loss** (Lin et al., 2017) multiplies each example's cross-entropy by
# $(1-p_t)^\gamma$, where $p_t$ is the predicted probability of the *true* class, so well-classified
# examples fade out; an **$\alpha$-balanced** version also weighs the classes, $\alpha$ for a fraud and
# $1-\alpha$ for a legitimate payment:
#
# $$\mathrm{FL}_i = -\,\alpha_{t,i}\,(1-p_{t,i})^{\gamma}\,\log p_{t,i}.$$
#
# `md.focal_loss` is written for networks with one logit **per class** (softmax) and divides by the sum
# of the class weights, like `F.cross_entropy(weight=...)`. Detection models — and many fraud models —
# have **one logit per example**, $P(\text{fraud}) = \sigma(z)$, and the paper's loss for them averages
# over the examples. Implement that one, `binary_focal_loss(logits, target, gamma=2.0, alpha=None)`, in
# PyTorch:
#
# * `logits`: float tensor of shape `(n,)`; `target`: tensor of 0/1 labels of shape `(n,)` (int or float);
# * $p_t = \sigma(z)$ for a fraud, $1 - \sigma(z)$ for a legitimate payment;
#   $\alpha_t = \alpha$ for a fraud, $1-\alpha$ otherwise; `alpha=None` means $\alpha_t = 1$;
# * return the **mean** of $\mathrm{FL}_i$ over the $n$ examples: a scalar tensor in the autograd graph;
# * it must stay finite and exact for logits of $\pm 100$: compute $\log p_t$ with `F.logsigmoid`
#   ($\log\sigma(z)$; note $1-\sigma(z) = \sigma(-z)$), never as `torch.log(torch.sigmoid(z))`.
#
# No `mlcourse` (nor torchvision's `sigmoid_focal_loss`).

# %% id="ex8-focal-loss" mlcourse={"stage": "modeling", "tier": 4, "forbid": ["mlcourse.modeling", "torchvision.ops"]} nbgrader={"grade": false, "grade_id": "ex8_focal_loss", "locked": false, "schema_version": 3, "solution": true, "task": false}
def binary_focal_loss(logits, target, gamma=2.0, alpha=None):
    """Mean alpha-balanced focal loss of one logit per example against 0/1 targets."""
    ### BEGIN SOLUTION
    target = target.to(logits.dtype)
    log_pt = target * F.logsigmoid(logits) + (1 - target) * F.logsigmoid(-logits)
    losses = -((1 - log_pt.exp()) ** gamma) * log_pt
    if alpha is not None:
        losses = losses * (alpha * target + (1 - alpha) * (1 - target))
    return losses.mean()
    ### END SOLUTION

# %% id="ex8-mistake-softmax-library" mistake={"readable": "mlcourse.modeling.focal_loss (section 5's loss='focal'), on the logits [0, z] with weight [1 - alpha, alpha]", "why": "the softmax focal loss of the library: with class weights it divides by the sum of the weights, not by n"}
def binary_focal_loss(logits, target, gamma=2.0, alpha=None):
    two = torch.stack([torch.zeros_like(logits), logits], dim=1)
    target = target.long()
    log_p = F.log_softmax(two, dim=1).gather(1, target.unsqueeze(1)).squeeze(1)
    loss = -((1.0 - log_p.exp()) ** gamma) * log_p
    if alpha is not None:
        w = torch.tensor([1 - alpha, alpha], dtype=loss.dtype)[target]
        return (w * loss).sum() / w.sum()
    return loss.mean()

# %% id="ex8-mistake-alpha-on-legit" mistake={"why": "gives alpha to the legitimate class and 1 - alpha to fraud"}
def binary_focal_loss(logits, target, gamma=2.0, alpha=None):
    target = target.to(logits.dtype)
    log_pt = target * F.logsigmoid(logits) + (1 - target) * F.logsigmoid(-logits)
    losses = -((1 - log_pt.exp()) ** gamma) * log_pt
    if alpha is not None:
        losses = losses * ((1 - alpha) * target + alpha * (1 - target))
    return losses.mean()

# %% id="ex8-mistake-log-of-sigmoid" mistake={"why": "log(sigmoid(z)): sigmoid rounds to 0 or 1 for large logits and the log gives inf or a wrong 0"}
def binary_focal_loss(logits, target, gamma=2.0, alpha=None):
    target = target.to(logits.dtype)
    p = torch.sigmoid(logits)
    pt = target * p + (1 - target) * (1 - p)
    losses = -((1 - pt) ** gamma) * torch.log(pt)
    if alpha is not None:
        losses = losses * (alpha * target + (1 - alpha) * (1 - target))
    return losses.mean()

# %% id="ex8-mistake-p-not-pt" mistake={"why": "modulates by (1 - p) with p = P(fraud) for every example, not by (1 - p_t)"}
def binary_focal_loss(logits, target, gamma=2.0, alpha=None):
    target = target.to(logits.dtype)
    log_pt = target * F.logsigmoid(logits) + (1 - target) * F.logsigmoid(-logits)
    losses = -((1 - torch.sigmoid(logits)) ** gamma) * log_pt
    if alpha is not None:
        losses = losses * (alpha * target + (1 - alpha) * (1 - target))
    return losses.mean()

# %% id="ex8-focal-loss-tests" mlcourse={"stage": "modeling", "tier": 4} nbgrader={"grade": true, "grade_id": "ex8_focal_loss_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# One fraud at z = 0: p_t = 0.5, FL = -(0.5 ** 2) log 0.5 = 0.173287.
_got = binary_focal_loss(torch.tensor([0.0], dtype=torch.float64), torch.tensor([1]))
assert isinstance(_got, torch.Tensor) and _got.ndim == 0, f"expected a scalar tensor, got {_got!r}"
assert np.isclose(float(_got), 0.173287, atol=1e-6), f"one fraud at logit 0: expected 0.173287, got {float(_got)}"
# z = [2, -1], y = [1, 0]: p_t = [sigmoid(2), sigmoid(1)] = [0.8808, 0.7311]; the focal terms average to 0.012231,
# the plain cross-entropy (gamma = 0) to 0.220095, and with alpha = 0.25 (0.25 for the fraud, 0.75 for the
# legitimate row) to 0.008722.
_z, _y = torch.tensor([2.0, -1.0], dtype=torch.float64), torch.tensor([1, 0])
assert np.isclose(float(binary_focal_loss(_z, _y)), 0.012231, atol=1e-6), \
    f"gamma=2: expected 0.012231, got {float(binary_focal_loss(_z, _y))}"
assert np.isclose(float(binary_focal_loss(_z, _y, gamma=0.0)), 0.220095, atol=1e-6), \
    f"gamma=0 is the cross-entropy: expected 0.220095, got {float(binary_focal_loss(_z, _y, gamma=0.0))}"
assert np.isclose(float(binary_focal_loss(_z, _y, alpha=0.25)), 0.008722, atol=1e-6), \
    f"alpha=0.25: expected the mean of the weighted terms 0.008722, got {float(binary_focal_loss(_z, _y, alpha=0.25))}"
# Three rows, gamma = 1, alpha = 0.75, float targets: 0.061330.
_got = binary_focal_loss(torch.tensor([2.0, -1.0, 0.5], dtype=torch.float64), torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64),
                         gamma=1.0, alpha=0.75)
assert np.isclose(float(_got), 0.061330, atol=1e-6), f"gamma=1, alpha=0.75: expected 0.061330, got {float(_got)}"
### BEGIN HIDDEN TESTS
def _focal_reference_h(z, y, gamma, alpha):
    z, y = z.numpy().astype(float), y.numpy().astype(float)
    log_p = -np.logaddexp(0.0, -z)
    log_q = -np.logaddexp(0.0, z)
    log_pt = np.where(y == 1, log_p, log_q)
    a = np.ones_like(z) if alpha is None else np.where(y == 1, alpha, 1 - alpha)
    return float(np.mean(-a * (1 - np.exp(log_pt)) ** gamma * log_pt))


_gen_h = torch.Generator().manual_seed(811)
_zr_h = torch.randn(400, generator=_gen_h, dtype=torch.float64) * 4
_yr_h = (torch.rand(400, generator=_gen_h) < 0.1).long()
for _g_h in (0.0, 0.5, 2.0, 5.0):
    for _a_h in (None, 0.25, 0.9):
        _got_h = float(binary_focal_loss(_zr_h, _yr_h, gamma=_g_h, alpha=_a_h))
        _exp_h = _focal_reference_h(_zr_h, _yr_h, _g_h, _a_h)
        assert np.isclose(_got_h, _exp_h, rtol=1e-9), f"gamma={_g_h}, alpha={_a_h}: expected {_exp_h:.8f}, got {_got_h:.8f}"
### END HIDDEN TESTS

# %% id="ex8-focal-loss-edge-tests" mlcourse={"stage": "modeling", "tier": 4} nbgrader={"grade": true, "grade_id": "ex8_focal_loss_edge_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Logits of +-100: the right answers cost (almost) nothing; the wrong ones have p_t = sigmoid(-100), so
# -log p_t = 100 and (1 - p_t)^gamma = 1: the mean of [0, 100 * 0.25, 0, 100 * 0.75] with alpha = 0.25 is 25.
_zx = torch.tensor([100.0, -100.0, -100.0, 100.0], dtype=torch.float64)
_yx = torch.tensor([1, 1, 0, 0])
_got = binary_focal_loss(_zx, _yx, gamma=2.0, alpha=0.25)
assert torch.isfinite(_got) and np.isclose(float(_got), 25.0, rtol=1e-9), f"logits of +-100, alpha=0.25: expected 25.0, got {float(_got)}"
# The loss is differentiable, and an easy example's gradient fades with gamma: at p_t = 0.9 the focal gradient is
# much smaller than the cross-entropy's.
_leaf = torch.tensor([np.log(9.0)], dtype=torch.float64, requires_grad=True)   # sigmoid(log 9) = 0.9
binary_focal_loss(_leaf, torch.tensor([1]), gamma=2.0, alpha=0.5).backward()
_g_focal = float(_leaf.grad[0])
_leaf.grad = None
binary_focal_loss(_leaf, torch.tensor([1]), gamma=0.0, alpha=0.5).backward()
assert _g_focal < 0 and abs(_g_focal) < 0.1 * abs(float(_leaf.grad[0])), \
    f"an easy fraud (p = 0.9): expected a focal gradient under a tenth of the cross-entropy's, got {_g_focal} vs {float(_leaf.grad[0])}"
### BEGIN HIDDEN TESTS
_zb_h = torch.tensor([60.0, -60.0, 30.0, -80.0, 0.0], dtype=torch.float64, requires_grad=True)
_yb_h = torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0], dtype=torch.float64)
_lb_h = binary_focal_loss(_zb_h, _yb_h, gamma=3.0, alpha=0.6)
_exp_h = _focal_reference_h(_zb_h.detach(), _yb_h, 3.0, 0.6)
assert np.isclose(float(_lb_h), _exp_h, rtol=1e-9), f"extreme logits: expected {_exp_h:.6f}, got {float(_lb_h):.6f}"
_lb_h.backward()
assert torch.isfinite(_zb_h.grad).all(), f"expected finite gradients at extreme logits, got {_zb_h.grad}"
_zs_h = torch.tensor([1.5, -0.3], dtype=torch.float32)
assert binary_focal_loss(_zs_h, torch.tensor([1, 0]), alpha=0.4).dtype == torch.float32, "float32 logits: expected a float32 loss"
### END HIDDEN TESTS

# %% [markdown] id="md-ex9-reweighted-threshold"
# ### Exercise 9 (tier 4) — the threshold that goes with a weighting
#
# Class weights and resampling change what the model's P(fraud) *means*. Training with weight $w_0$ on
# each legitimate payment and $w_1$ on each fraud (or keeping a share $w_0$ of the legitimate payments and
# every fraud) fits, in the limit, the probability of a world in which frauds are $w_1/w_0$ times as
# frequent relative to legitimate payments: the odds are multiplied by $w_1 / w_0$. Section 5 found one
# special case: weights equal to the costs make 0.5 the cost-optimal threshold. Work out the general rule.
#
# Implement `reweighted_threshold(w_legit, w_fraud, cost_fp, cost_fn)`: the threshold on the **weighted
# model's** P(fraud) at which flagging is cost-optimal (a false alarm costs `cost_fp`, a missed fraud
# `cost_fn`), assuming the weighted model's probabilities are calibrated for the weighted world. Return a
# float in $(0, 1)$; raise `ValueError` unless all four numbers are positive. No `mlcourse`.
#
# The hidden tests train weighted and resampled models on worlds you have not seen and measure what your
# thresholds cost.

# %% id="ex9-reweighted-threshold" mlcourse={"stage": "modeling", "tier": 4, "forbid": ["mlcourse.modeling", "mlcourse.evaluation", "mlcourse.calibration"]} nbgrader={"grade": false, "grade_id": "ex9_reweighted_threshold", "locked": false, "schema_version": 3, "solution": true, "task": false}
def reweighted_threshold(w_legit, w_fraud, cost_fp, cost_fn):
    """Cost-optimal threshold on the P(fraud) of a model trained with class weights (w_legit, w_fraud)."""
    ### BEGIN SOLUTION
    if min(w_legit, w_fraud, cost_fp, cost_fn) <= 0:
        raise ValueError("weights and costs must be positive")
    # The Bayes rule p >= c_FP / (c_FP + c_FN) on true probabilities, written in the weighted model's odds:
    # odds_w = (w_fraud / w_legit) * odds, and the Bayes threshold's odds are c_FP / c_FN.
    return w_fraud * cost_fp / (w_fraud * cost_fp + w_legit * cost_fn)
    ### END SOLUTION

# %% id="ex9-mistake-bayes-threshold" mistake={"readable": "mlcourse.modeling.bayes_threshold(cost_fp, cost_fn) (section 1's rule), as md.score_against_baseline applies it", "why": "the Bayes threshold of calibrated probabilities, ignoring what the weights did to them"}
def reweighted_threshold(w_legit, w_fraud, cost_fp, cost_fn):
    if min(w_legit, w_fraud, cost_fp, cost_fn) <= 0:
        raise ValueError("weights and costs must be positive")
    return cost_fp / (cost_fp + cost_fn)

# %% id="ex9-mistake-always-half" mistake={"why": "0.5, the threshold of the one special case (weights equal to the costs), for every weighting"}
def reweighted_threshold(w_legit, w_fraud, cost_fp, cost_fn):
    if min(w_legit, w_fraud, cost_fp, cost_fn) <= 0:
        raise ValueError("weights and costs must be positive")
    return 0.5

# %% id="ex9-mistake-weights-inverted" mistake={"why": "multiplies the odds by w_legit / w_fraud: corrects the wrong way"}
def reweighted_threshold(w_legit, w_fraud, cost_fp, cost_fn):
    if min(w_legit, w_fraud, cost_fp, cost_fn) <= 0:
        raise ValueError("weights and costs must be positive")
    return w_legit * cost_fp / (w_legit * cost_fp + w_fraud * cost_fn)

# %% id="ex9-mistake-scaled-probability" mistake={"why": "scales the Bayes threshold by w_fraud / w_legit as a probability, not as odds"}
def reweighted_threshold(w_legit, w_fraud, cost_fp, cost_fn):
    if min(w_legit, w_fraud, cost_fp, cost_fn) <= 0:
        raise ValueError("weights and costs must be positive")
    return min(0.999, w_fraud / w_legit * cost_fp / (cost_fp + cost_fn))

# %% id="ex9-reweighted-threshold-tests" mlcourse={"stage": "modeling", "tier": 4} nbgrader={"grade": true, "grade_id": "ex9_reweighted_threshold_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# No weighting: the Bayes threshold 5 / (5 + 100) = 0.047619.
assert np.isclose(float(reweighted_threshold(1.0, 1.0, 5.0, 100.0)), 5 / 105), \
    f"equal weights: expected the Bayes threshold 5/105, got {reweighted_threshold(1.0, 1.0, 5.0, 100.0)}"
# Weights equal to the costs: 0.5 (section 5).
assert np.isclose(float(reweighted_threshold(5.0, 100.0, 5.0, 100.0)), 0.5), \
    f"weights equal to the costs: expected 0.5, got {reweighted_threshold(5.0, 100.0, 5.0, 100.0)}"
# Keeping 10% of the legitimate payments multiplies the odds by 10: the Bayes odds 5/100 become 50/100,
# so the threshold is 50 / (50 + 100) = 1/3.
assert np.isclose(float(reweighted_threshold(0.1, 1.0, 5.0, 100.0)), 1 / 3), \
    f"10% of the legitimate payments kept: expected 1/3, got {reweighted_threshold(0.1, 1.0, 5.0, 100.0)}"
# Frauds weighted 20, costs 10 and 100: odds 10/100 times 20 = 2, threshold 2/3.
assert np.isclose(float(reweighted_threshold(1.0, 20.0, 10.0, 100.0)), 2 / 3), \
    f"fraud weight 20, costs 10 and 100: expected 2/3, got {reweighted_threshold(1.0, 20.0, 10.0, 100.0)}"
for _bad in [(0.0, 1.0, 5.0, 100.0), (1.0, -2.0, 5.0, 100.0), (1.0, 1.0, 0.0, 100.0), (1.0, 1.0, 5.0, -1.0)]:
    try:
        reweighted_threshold(*_bad)
        _raised = False
    except ValueError:
        _raised = True
    assert _raised, f"reweighted_threshold{_bad}: expected ValueError"

# %% id="ex9-reweighted-threshold-hidden-tests" mlcourse={"stage": "modeling", "tier": 4} nbgrader={"grade": true, "grade_id": "ex9_reweighted_threshold_hidden_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test trains weighted and undersampled logistic models on new worlds and compares
# the cost of your thresholds with that of the best threshold in hindsight.
_t_lo = float(reweighted_threshold(1.0, 4.0, 5.0, 100.0))
_t_hi = float(reweighted_threshold(1.0, 40.0, 5.0, 100.0))
assert 0.0 < _t_lo < _t_hi < 1.0, f"a heavier fraud weight inflates P(fraud): expected a higher threshold, got {_t_lo} and {_t_hi}"
### BEGIN HIDDEN TESTS
def _cost_h(y, s, t, c_fp, c_fn):
    flag = s >= t
    return (c_fp * np.sum(flag & (y == 0)) + c_fn * np.sum(~flag & (y == 1))) / len(y)


def _best_h(y, s, c_fp, c_fn):
    order = np.argsort(-s, kind="stable")
    ys = y[order] == 1
    tp, fp = np.cumsum(ys), np.cumsum(~ys)
    return min(float(((c_fp * fp + c_fn * (ys.sum() - tp)) / len(y)).min()), c_fn * ys.mean())


_regrets_h, _bayes_regrets_h = [], []
for _i_h, (_rate_h, _w0_h, _w1_h, _cfp_h, _cfn_h, _keep_h) in enumerate([
        (0.03, 1.0, 10.0, 5.0, 100.0, None), (0.02, 2.0, 30.0, 20.0, 100.0, None),
        (0.04, 1.0, 1.0, 3.0, 200.0, 0.1), (0.02, 1.0, 1.0, 10.0, 100.0, 0.05)]):
    _w_h = make_world(seed=9100 + _i_h, n_transactions=40_000, fraud_rate=_rate_h, drift=())
    _d_h = md.make_splits(_w_h, target="is_fraud", valid_size=0.1, test_size=0.5, seed=_i_h)
    _Xt_h, _yt_h = _d_h.X_train, _d_h.y_train
    if _keep_h is None:
        _m_h = LogisticRegression(class_weight={0: _w0_h, 1: _w1_h}, max_iter=2000).fit(_Xt_h, _yt_h)
        _w_legit_h, _w_fraud_h = _w0_h, _w1_h
    else:
        _rows_h = (_yt_h == 1) | (np.random.default_rng(_i_h).random(len(_yt_h)) < _keep_h)
        _m_h = LogisticRegression(max_iter=2000).fit(_Xt_h[_rows_h], _yt_h[_rows_h])
        _w_legit_h, _w_fraud_h = _keep_h, 1.0
    _s_h = _m_h.predict_proba(_d_h.X_test)[:, 1]
    _best_cost_h, _none_h = _best_h(_d_h.y_test, _s_h, _cfp_h, _cfn_h), _cfn_h * _d_h.y_test.mean()
    _mine_h = _cost_h(_d_h.y_test, _s_h, float(reweighted_threshold(_w_legit_h, _w_fraud_h, _cfp_h, _cfn_h)), _cfp_h, _cfn_h)
    _regrets_h.append((_mine_h - _best_cost_h) / (_none_h - _best_cost_h))
    assert _regrets_h[-1] <= 0.12, \
        (f"world {_i_h + 1} (fraud rate {_rate_h:.0%}, weights {_w_legit_h}/{_w_fraud_h}, costs {_cfp_h}/{_cfn_h}): your "
         f"threshold gives away {_regrets_h[-1]:.0%} of the saving the best threshold makes (at most 12%)")
assert np.mean(_regrets_h) <= 0.06, f"on average your thresholds give away {np.mean(_regrets_h):.1%} of the possible saving (at most 6%)"
### END HIDDEN TESTS
# %% [markdown] id="md-2ec89168"
# ## 6. Ensembles: many models are better than one
#
# An ensemble combines models so that their errors partly cancel:
#
# * **Bagging / random forest** — many deep trees, each on a bootstrap sample with random feature subsets,
#   averaged. Each tree has low bias and high variance; averaging *decorrelated* trees cuts the variance.
#   Robust with little tuning.
# * **Boosting** — small trees added one at a time, each fitted to the remaining errors (the gradient of the
#   loss) of the ensemble so far: it cuts the *bias*, finds thresholds ("hour < 6") and interactions by
#   itself, and is usually the strongest model on tabular data. It can overfit, so it stops early on
#   internal validation data.
# * **Soft voting** — average the predicted probabilities of different kinds of models.
# * **Stacking** — a second-level model (usually a logistic regression) learns *how much to trust* each
#   member. Its training inputs must be **out-of-fold** predictions: each training row predicted by a copy
#   of the member that did not see it. In-sample predictions are over-confident — a memorising member
#   looks perfect — and the combiner would trust it blindly.

# %% id="code-92ea1ca0"
start = time.perf_counter()
X_demo, y_demo = X_train[:N_DEMO], y_train[:N_DEMO]
forest = md.random_forest(n_estimators=N_TREES, min_samples_leaf=10, random_state=SEED).fit(X_demo, y_demo)
boosting = md.gradient_boosting(random_state=SEED).fit(X_demo, y_demo)
network = md.MLPClassifier(max_epochs=EPOCHS, patience=3, seed=SEED).fit(X_demo, y_demo, X_valid, y_valid)
# Members of voting and stacking are refitted inside (on clones); the network then trains a fixed
# number of epochs, having no validation data for early stopping.
members = [("boosting", md.gradient_boosting(random_state=SEED)),
           ("network", md.MLPClassifier(max_epochs=min(EPOCHS, network.best_epoch_ + 1), patience=None, seed=SEED)),
           ("logistic", md.logistic_baseline())]
voting = md.SoftVotingClassifier(members[:2]).fit(X_demo, y_demo)
stacking = md.StackingClassifier(members, cv=3).fit(X_demo, y_demo)
print(f"fitted in {time.perf_counter() - start:.1f} s")
print("stacking combiner, log-odds weight per member's P(fraud):",
      dict(zip([name for name, _ in members], np.round(stacking.final_estimator_.coef_[0], 2))))

# %% id="code-d1caa972"
hour_effects["gradient boosting"] = hour_effect(boosting)
hour_effects["MLP"] = hour_effect(network)
ax = pd.DataFrame(hour_effects).plot(marker="o", figsize=(6, 3.5))
ax.set(xlabel="hour the payment is moved to", ylabel="average P(fraud)", title="What each model learned about the hour")
plt.show()

# %% [markdown] id="md-da87f181"
# The boosted trees learn the step at 6 a.m. by themselves: a split on the hour is exactly what a tree
# does. This small network, which sees the hour as one standardised number and has about 600 frauds to
# learn from, bends the line only a little: ReLU units *can* draw a step, but finding one takes more data,
# more epochs, or a better-encoded input (e.g. the sine and cosine of the hour, so that 23:00 sits next to
# 00:00). Which model wins depends on the data — that is why we compare them.

# %% [markdown] id="md-2135b5e1"
# ### Comparing everything under the business cost
#
# Every model gets the threshold that minimises its cost on the validation data, and is then judged on the
# test data — as it would be in production:

# %% id="code-17d072b6"
models = {
    "majority baseline": majority,
    "logistic baseline": logistic,
    "MLP": network,
    "MLP cost weights": loss_models["MLP cost weights"],
    "random forest": forest,
    "gradient boosting": boosting,
    "soft voting (boosting + MLP)": voting,
    "stacking (boosting + MLP + logistic)": stacking,
}
comparison = md.compare_models(models, X_valid, y_valid, X_test, y_test, cost_fp=COST_FP, cost_fn=COST_FN,
                               baseline="logistic baseline")
ax = comparison["test_cost"][::-1].plot.barh(figsize=(6, 3.8))
ax.axvline(comparison.loc["logistic baseline", "test_cost"], color="grey", linestyle="--", label="logistic baseline")
ax.set_xlabel("expected cost per transaction on test data (EUR)")
ax.legend()
plt.show()
comparison.round(4)

# %% [markdown] id="md-a7e9582f"
# The majority baseline, best used to flag nothing, costs about €2 per transaction: every fraud gets
# through. The logistic baseline cuts that by about a third. The non-linear models — boosting, the
# networks, the ensembles — usually cut a further 5–15% by finding the night, the combinations and the
# mixture of fraud patterns (the world switches from stolen cards to card testing on day 80, and one linear
# score cannot fit both). On a platform with a million payments a month, each cent per transaction is
# €10,000 a month.
#
# Is the extra complexity worth it? That is the baseline's question, and now it has a number. But the
# *order* among the strong models changes with the seed: 10,000 test rows hold only about 200 frauds, so
# rank differences of a few percent are not reliable without a confidence interval — and a simpler model
# that is as good within the noise is the better choice.
#
# ### Stacking when the data has an order in time
#
# `md.StackingClassifier` (and scikit-learn's) builds its out-of-fold columns with `StratifiedKFold`:
# each row is predicted by members trained on the *other* folds — rows from before **and after** it. On
# transactions that is a leak of its own: a member trained on next month's fraud predicts this month's,
# and the combiner learns how much to trust members from predictions that production will never see
# (production only has the past). The honest version is **forward chaining**: cut the time-ordered rows
# into consecutive blocks; predict each block with members trained on the blocks *before* it only. The
# first block is never predicted, so the combiner learns from the other blocks alone.
#
# ### Exercise 7 (tier 3) — stacking forward in time
#
# Implement `stack_over_time(members, X_tr, y_tr, X_new, n_splits=4)`, where the rows of the NumPy arrays
# `X_tr`, `y_tr` are in time order:
#
# 1. `TimeSeriesSplit(n_splits)` (imported) cuts the rows into `n_splits + 1` consecutive blocks: for each
#    of its `(past, block)` splits and each `(name, estimator)` of `members`, fit a fresh
#    `sklearn.base.clone` of the estimator on the `past` rows and predict P(class 1) for the `block`;
# 2. fit a `LogisticRegression()` (default settings) on these columns — one per member, in order — and the
#    labels of the rows that were predicted (every row but those of the first block);
# 3. refit a clone of each member on all of `X_tr, y_tr`, predict P(class 1) for `X_new`, and return the
#    combiner's P(class 1) for those columns: a 1-D array of length `len(X_new)`.
#
# No `StackingClassifier`, no `cross_val_predict`, no `mlcourse`. The cell below makes `X_time, y_time`: every
# 15th transaction of the world, in time order, preprocessed (the fraud pattern changes on day 80).

# %% id="code-stacking-time"
time_rows = tx.iloc[::15]
X_time, y_time = data.preprocessor.transform(time_rows[FEATURES]), time_rows["is_fraud"].to_numpy()
print(f"X_time {X_time.shape}: days {time_rows['day'].min()}-{time_rows['day'].max()}, {y_time.sum()} frauds")

# %% id="ex7-stacking" mlcourse={"stage": "modeling", "tier": 3, "forbid": ["mlcourse.modeling", "sklearn.ensemble.StackingClassifier", "sklearn.model_selection.cross_val_predict"]} nbgrader={"grade": false, "grade_id": "ex7_stacking", "locked": false, "schema_version": 3, "solution": true, "task": false}
def stack_over_time(members, X_tr, y_tr, X_new, n_splits=4):
    """P(class 1) of a logistic-regression stack of `members`, trained on forward-chained predictions."""
    ### BEGIN SOLUTION
    from sklearn.base import clone

    splits = list(TimeSeriesSplit(n_splits=n_splits).split(X_tr))
    first = splits[0][1][0]                 # the first predicted row: the rows before it are never predicted
    past_only = np.zeros((len(y_tr) - first, len(members)))
    new = np.zeros((len(X_new), len(members)))
    for j, (_, estimator) in enumerate(members):
        for past, block in splits:
            past_only[block - first, j] = clone(estimator).fit(X_tr[past], y_tr[past]).predict_proba(X_tr[block])[:, 1]
        new[:, j] = clone(estimator).fit(X_tr, y_tr).predict_proba(X_new)[:, 1]
    combiner = LogisticRegression().fit(past_only, y_tr[first:])
    return combiner.predict_proba(new)[:, 1]
    ### END SOLUTION

# %% id="ex7-mistake-shuffled-folds" mistake={"readable": "mlcourse.modeling.StackingClassifier(members, cv=n_splits) as demo cell code-92ea1ca0 fits it: out-of-fold columns from StratifiedKFold", "why": "out-of-fold predictions from folds that mix past and future rows"}
def stack_over_time(members, X_tr, y_tr, X_new, n_splits=4):
    from sklearn.base import clone

    folds = list(StratifiedKFold(n_splits=n_splits).split(X_tr, y_tr))
    oof = np.zeros((len(y_tr), len(members)))
    new = np.zeros((len(X_new), len(members)))
    for j, (_, estimator) in enumerate(members):
        for fit_idx, pred_idx in folds:
            oof[pred_idx, j] = clone(estimator).fit(X_tr[fit_idx], y_tr[fit_idx]).predict_proba(X_tr[pred_idx])[:, 1]
        new[:, j] = clone(estimator).fit(X_tr, y_tr).predict_proba(X_new)[:, 1]
    return LogisticRegression().fit(oof, y_tr).predict_proba(new)[:, 1]

# %% id="ex7-mistake-in-sample" mistake={"why": "the combiner learns from in-sample predictions: members fitted on all rows predict those same rows"}
def stack_over_time(members, X_tr, y_tr, X_new, n_splits=4):
    from sklearn.base import clone

    fitted = [clone(estimator).fit(X_tr, y_tr) for _, estimator in members]
    inside = np.column_stack([m.predict_proba(X_tr)[:, 1] for m in fitted])
    new = np.column_stack([m.predict_proba(X_new)[:, 1] for m in fitted])
    return LogisticRegression().fit(inside, y_tr).predict_proba(new)[:, 1]

# %% id="ex7-mistake-first-block-zeros" mistake={"why": "keeps the never-predicted first block in the combiner's data, with zeros for its columns"}
def stack_over_time(members, X_tr, y_tr, X_new, n_splits=4):
    from sklearn.base import clone

    oof = np.zeros((len(y_tr), len(members)))
    new = np.zeros((len(X_new), len(members)))
    for j, (_, estimator) in enumerate(members):
        for past, block in TimeSeriesSplit(n_splits=n_splits).split(X_tr):
            oof[block, j] = clone(estimator).fit(X_tr[past], y_tr[past]).predict_proba(X_tr[block])[:, 1]
        new[:, j] = clone(estimator).fit(X_tr, y_tr).predict_proba(X_new)[:, 1]
    return LogisticRegression().fit(oof, y_tr).predict_proba(new)[:, 1]

# %% id="ex7-mistake-no-refit" mistake={"why": "predicts X_new with the members of the last split instead of members refitted on all rows"}
def stack_over_time(members, X_tr, y_tr, X_new, n_splits=4):
    from sklearn.base import clone

    splits = list(TimeSeriesSplit(n_splits=n_splits).split(X_tr))
    first = splits[0][1][0]
    past_only = np.zeros((len(y_tr) - first, len(members)))
    new = np.zeros((len(X_new), len(members)))
    for j, (_, estimator) in enumerate(members):
        for past, block in splits:
            model = clone(estimator).fit(X_tr[past], y_tr[past])
            past_only[block - first, j] = model.predict_proba(X_tr[block])[:, 1]
        new[:, j] = model.predict_proba(X_new)[:, 1]
    return LogisticRegression().fit(past_only, y_tr[first:]).predict_proba(new)[:, 1]

# %% id="ex7-stacking-tests" mlcourse={"stage": "modeling", "tier": 3} nbgrader={"grade": true, "grade_id": "ex7_stacking_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test compares your stack with a reference on the time-ordered data.
from sklearn.tree import DecisionTreeClassifier as _Tree
from sklearn.naive_bayes import GaussianNB as _NB

_members = [("logistic", LogisticRegression(max_iter=1000)), ("tree", _Tree(max_depth=4, min_samples_leaf=20, random_state=0))]
_Xk, _yk, _Xn = X_time[:6000], y_time[:6000], X_time[6000:8000]
_got = np.asarray(stack_over_time(_members, _Xk, _yk, _Xn, n_splits=4), dtype=float)
assert _got.shape == (2000,), f"expected one probability per row of X_new (2000), got shape {_got.shape}"
assert np.all((_got > 0) & (_got < 1)), "expected probabilities strictly between 0 and 1"
# The order of the members does not matter: the combiner only sees their columns.
_swapped = np.asarray(stack_over_time(_members[::-1], _Xk, _yk, _Xn, n_splits=4), dtype=float)
assert np.allclose(_got, _swapped, atol=1e-6), "listing the members in the other order should give the same stack"
### BEGIN HIDDEN TESTS
from sklearn.base import clone as _clone


def _reference_stack_h(members, X_tr, y_tr, X_new, n_splits):
    n = len(y_tr)
    size = n // (n_splits + 1)
    first = n - n_splits * size
    cols, new = [], []
    for _, estimator in members:
        col = np.empty(n - first)
        for k in range(n_splits):
            start = first + k * size
            fitted = _clone(estimator).fit(X_tr[:start], y_tr[:start])
            col[start - first:start - first + size] = fitted.predict_proba(X_tr[start:start + size])[:, 1]
        cols.append(col)
        new.append(_clone(estimator).fit(X_tr, y_tr).predict_proba(X_new)[:, 1])
    return LogisticRegression().fit(np.column_stack(cols), y_tr[first:]).predict_proba(np.column_stack(new))[:, 1]


_exp_h = _reference_stack_h(_members, _Xk, _yk, _Xn, 4)
assert np.allclose(_got, _exp_h, atol=1e-6), \
    (f"logistic + tree, 4 splits: expected the forward-chained stack's probabilities, largest difference "
     f"{np.abs(_got - _exp_h).max():.2e} (members trained on the past only? first block left out? refit on all rows?)")
### END HIDDEN TESTS

# %% id="ex7-stacking-hidden-tests" mlcourse={"stage": "modeling", "tier": 3} nbgrader={"grade": true, "grade_id": "ex7_stacking_hidden_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test stacks other members, with another number of splits, across the drift of day 80.
_few = np.asarray(stack_over_time([("nb", _NB())], X_time[:900], y_time[:900], X_time[900:950], n_splits=2), dtype=float)
assert _few.shape == (50,) and np.all(np.isfinite(_few)), f"a single member, 2 splits: expected 50 finite probabilities, got {_few.shape}"
### BEGIN HIDDEN TESTS
_members_h = [("tree", _Tree(max_depth=6, random_state=1)), ("nb", _NB()),
              ("logistic", LogisticRegression(C=0.1, max_iter=1000))]
_Xk_h, _yk_h, _Xn_h = X_time[3000:9000], y_time[3000:9000], X_time[9000:]
for _k_h in (3, 5):
    _got_h = np.asarray(stack_over_time(_members_h, _Xk_h, _yk_h, _Xn_h, n_splits=_k_h), dtype=float)
    _exp_h = _reference_stack_h(_members_h, _Xk_h, _yk_h, _Xn_h, _k_h)
    assert np.allclose(_got_h, _exp_h, atol=1e-6), \
        f"tree + naive Bayes + logistic, {_k_h} splits: largest difference from the reference {np.abs(_got_h - _exp_h).max():.2e}"
### END HIDDEN TESTS
# %% [markdown] id="md-e5d2112b"
# ## 7. Decisions that hold up: costs, fraud rates and fraud that change
#
# Every comparison above used one world, one cost ratio (€5 against €100) and one fraud rate, and section 5
# found a neat rule for exactly those: weights equal to the costs, threshold 0.5. A rule tuned to one
# setting is not a modeling skill. The platform's costs change (a new review team, a new chargeback fee),
# its fraud rate changes (a new market, a new merchant), and its fraud changes (the patterns of stage 1
# switch). Which loss, which weighting, which model and which threshold are right then is a question for
# **evidence**: a validation set that looks like the traffic the model will meet, and the cost of the
# decisions on it. The two exercises below are judged on hidden worlds, exactly like that.
#
# The cell below makes the data of exercise 10: a training frame and a validation frame, raw columns
# `FEATURES` and the truth `is_fraud`, drawn at random from our world.

# %% id="code-12d9212f"
fraud_frame = tx[FEATURES + ["is_fraud"]].sample(n=30_000, random_state=SEED + 1)
fraud_train, fraud_valid = fraud_frame.iloc[:20_000], fraud_frame.iloc[20_000:]
print(f"fraud_train: {fraud_train.shape}, {fraud_train['is_fraud'].mean():.2%} fraud; "
      f"fraud_valid: {fraud_valid.shape}, {fraud_valid['is_fraud'].mean():.2%} fraud")

# %% [markdown] id="md-8cb0da78"
# ### Exercise 10 (tier 5) — a fraud model for the costs you are given
#
# Implement `train_fraud_model(train_frame, valid_frame, cost_fp, cost_fn)` that returns a pair
# `(model, threshold)`:
#
# * `train_frame` and `valid_frame` hold the `FEATURES` columns (raw, as in `world.transactions`) and
#   `is_fraud`; a false alarm costs `cost_fp` and a missed fraud `cost_fn` (euros);
# * `model` has `predict_proba(frame)` returning P(fraud) — an array of shape `(n,)` or `(n, 2)` (then
#   column 1 is used) — or is a plain callable `model(frame)` returning the same; `frame` holds the
#   `FEATURES` columns of new transactions, raw (do your own preprocessing: e.g. a scikit-learn `Pipeline`
#   with `md.make_preprocessor`);
# * `threshold` is a float in $[0, 1]$: a transaction is flagged when its P(fraud) $\ge$ `threshold`.
#
# **How it is judged.** The hidden tests draw fresh worlds with **other fraud rates and other costs**,
# each split into a training frame of 20,000 and a validation frame of 10,000 transactions, and measure
# the cost per transaction of your decisions on 40,000 new ones. They compare it with a **tuned logistic
# baseline**: logistic regression ($C = 1$) on `md.make_preprocessor`'s columns, trained on the same
# training frame, with its threshold tuned **in hindsight** on the new transactions (the most favourable
# threshold it could possibly have). On most worlds you must come
# within a few percent of that baseline; on one kind of world you must **beat** it. Training must take a
# few seconds (the course machines have 2 cores).
#
# Things to think about: which loss and weighting did section 5 use, and for which costs? Where is the
# non-linear signal, and when does it matter for the decisions? Which threshold goes with which model,
# and what can the validation frame tell you that the training frame cannot? No `md.train_course_model`.

# %% id="ex10-fraud-model" mlcourse={"stage": "modeling", "tier": 5, "forbid": ["mlcourse.modeling.train_course_model", "mlcourse.capstone"], "equivalent_mutants": {"14:22 keyword drop max_leaf_nodes=": "a neighbouring hyper-parameter of the boosted trees is as valid a modeling choice: the tests judge the cost of the decisions on hidden worlds, and this model meets the same bounds", "14:22 keyword drop l2_regularization=": "a neighbouring hyper-parameter of the boosted trees is as valid a modeling choice: the tests judge the cost of the decisions on hidden worlds, and this model meets the same bounds", "14:62 number 80>81": "a neighbouring hyper-parameter of the boosted trees is as valid a modeling choice: the tests judge the cost of the decisions on hidden worlds, and this model meets the same bounds", "14:81 number 15>16": "a neighbouring hyper-parameter of the boosted trees is as valid a modeling choice: the tests judge the cost of the decisions on hidden worlds, and this model meets the same bounds", "14:102 number 40>41": "a neighbouring hyper-parameter of the boosted trees is as valid a modeling choice: the tests judge the cost of the decisions on hidden worlds, and this model meets the same bounds", "14:124 number 1.0>2.0": "a neighbouring hyper-parameter of the boosted trees is as valid a modeling choice: the tests judge the cost of the decisions on hidden worlds, and this model meets the same bounds", "14:22 keyword drop random_state=": "without early stopping and feature subsampling the boosted trees draw no random numbers: the same model", "15:88 number 0>1": "without early stopping and feature subsampling the boosted trees draw no random numbers: the same model", "17:15 compare GtE>Gt": "a continuous P(fraud) equals the threshold exactly on a set of measure zero", "19:11 compare Lt>LtE": "equal validation costs: the evidence cannot tell the two models apart, and either is a valid choice"}} nbgrader={"grade": false, "grade_id": "ex10_fraud_model", "locked": false, "schema_version": 3, "solution": true, "task": false}
def train_fraud_model(train_frame, valid_frame, cost_fp, cost_fn):
    """Fit candidate models on train_frame, keep the one whose decisions cost least on valid_frame: (model, threshold)."""
    ### BEGIN SOLUTION
    # Both candidates are trained with the plain log-loss, so their probabilities stay calibrated and the
    # Bayes threshold c_FP / (c_FP + c_FN) is the right one for any costs. Which model is better depends on
    # the costs (a low threshold looks deep into the legitimate-looking tail, where the linear model's
    # smooth ranking tends to win; a higher one where the trees' interactions pay), so the validation
    # frame decides.
    X, y = train_frame[FEATURES], train_frame["is_fraud"]
    fraud = valid_frame["is_fraud"].to_numpy() == 1
    threshold = cost_fp / (cost_fp + cost_fn)
    best_cost, best_model = np.inf, None
    for estimator in (md.logistic_baseline(),
                      HistGradientBoostingClassifier(max_iter=80, max_leaf_nodes=15, min_samples_leaf=40, l2_regularization=1.0,
                                                     early_stopping=False, random_state=0)):
        model = make_pipeline(md.make_preprocessor(X), estimator).fit(X, y)
        flag = model.predict_proba(valid_frame[FEATURES])[:, 1] >= threshold
        cost = cost_fp * np.sum(flag & ~fraud) + cost_fn * np.sum(~flag & fraud)
        if cost < best_cost:
            best_cost, best_model = cost, model
    return best_model, threshold
    ### END SOLUTION

# %% id="ex10-mistake-demo-recipe" mistake={"readable": "the former solution and section 5's rule: boosting with class weights equal to the costs of the demo (COST_FP, COST_FN) and threshold 0.5", "why": "the demo's fixed choice: weights and threshold set for EUR 5 against EUR 100, whatever the costs are"}
def train_fraud_model(train_frame, valid_frame, cost_fp, cost_fn):
    X, y = train_frame[FEATURES], train_frame["is_fraud"]
    trees = HistGradientBoostingClassifier(max_iter=60, learning_rate=0.1, max_leaf_nodes=15, min_samples_leaf=40,
                                           l2_regularization=1.0, early_stopping=False,
                                           class_weight={0: COST_FP, 1: COST_FN}, random_state=0)
    return make_pipeline(md.make_preprocessor(X), trees).fit(X, y), 0.5

# %% id="ex10-mistake-cost-weights" mistake={"why": "section 5's rule with the given costs: boosting weighted c_FP : c_FN, threshold 0.5, never checked on validation data"}
def train_fraud_model(train_frame, valid_frame, cost_fp, cost_fn):
    X, y = train_frame[FEATURES], train_frame["is_fraud"]
    trees = HistGradientBoostingClassifier(max_iter=80, early_stopping=False, class_weight={0: cost_fp, 1: cost_fn},
                                           random_state=0)
    return make_pipeline(md.make_preprocessor(X), trees).fit(X, y), 0.5

# %% id="ex10-mistake-logistic-only" mistake={"why": "the logistic baseline with the Bayes threshold: right for every cost, but never beats the tuned baseline"}
def train_fraud_model(train_frame, valid_frame, cost_fp, cost_fn):
    X, y = train_frame[FEATURES], train_frame["is_fraud"]
    model = make_pipeline(md.make_preprocessor(X), LogisticRegression(max_iter=1000)).fit(X, y)
    return model, cost_fp / (cost_fp + cost_fn)

# %% id="ex10-mistake-default-threshold" mistake={"why": "a calibrated model with the default threshold 0.5: flags almost nothing"}
def train_fraud_model(train_frame, valid_frame, cost_fp, cost_fn):
    X, y = train_frame[FEATURES], train_frame["is_fraud"]
    model = make_pipeline(md.make_preprocessor(X), HistGradientBoostingClassifier(max_iter=80, early_stopping=False,
                                                                                 random_state=0)).fit(X, y)
    return model, 0.5

# %% id="ex10-fraud-model-tests" mlcourse={"stage": "modeling", "tier": 5} nbgrader={"grade": true, "grade_id": "ex10_fraud_model_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
# The judge is defined before the visible checks, so that the next cells can use it even
# when a visible check of this one fails.
def _t5_scores_h(model, frame):
    out = model.predict_proba(frame) if hasattr(model, "predict_proba") else model(frame)
    out = np.asarray(out, dtype=float)
    return out[:, 1] if out.ndim == 2 else out


def _t5_judge_h(case, rate, cost_fp, cost_fn, seed, **world):
    frame = make_world(seed=seed, n_transactions=30_000, fraud_rate=rate, **world).transactions[FEATURES + ["is_fraud"]]
    order = np.random.default_rng(case).permutation(len(frame))
    train, valid = frame.iloc[order[:20_000]], frame.iloc[order[20_000:]]
    new = make_world(seed=seed + 100, n_transactions=40_000, fraud_rate=rate, **world).transactions
    y = new["is_fraud"].to_numpy()
    model, threshold = train_fraud_model(train, valid, cost_fp, cost_fn)
    flag = _t5_scores_h(model, new[FEATURES]) >= float(threshold)
    mine = (cost_fp * np.sum(flag & (y == 0)) + cost_fn * np.sum(~flag & (y == 1))) / len(y)
    pre = md.make_preprocessor(train[FEATURES]).fit(train[FEATURES])
    X_tr, X_new = pre.transform(train[FEATURES]), pre.transform(new[FEATURES])
    s = LogisticRegression(C=1.0, max_iter=2000).fit(X_tr, train["is_fraud"]).predict_proba(X_new)[:, 1]
    order = np.argsort(-s, kind="stable")
    ys = y[order] == 1
    best = min(cost_fn * y.mean(), float(((cost_fp * np.cumsum(~ys) + cost_fn * (ys.sum() - np.cumsum(ys))) / len(y)).min()))
    return mine / best
### END HIDDEN TESTS
# The hidden part of this test judges your function on worlds where a missed fraud costs 75 to 300 times a
# false alarm, one of them without any change of fraud pattern.
_t5_model, _t5_threshold = train_fraud_model(fraud_train, fraud_valid, COST_FP, COST_FN)
_t5_threshold = float(_t5_threshold)
assert 0.0 <= _t5_threshold <= 1.0, f"expected a threshold in [0, 1], got {_t5_threshold}"
_t5_check = make_world(seed=SEED + 500, n_transactions=20_000).transactions
_t5_out = np.asarray(_t5_model.predict_proba(_t5_check[FEATURES]) if hasattr(_t5_model, "predict_proba")
                     else _t5_model(_t5_check[FEATURES]), dtype=float)
_t5_scores = _t5_out[:, 1] if _t5_out.ndim == 2 else _t5_out
assert _t5_scores.shape == (len(_t5_check),) and np.all(np.isfinite(_t5_scores)), \
    f"expected one finite P(fraud) per row ({len(_t5_check)}), got shape {_t5_scores.shape}"
_t5_y = _t5_check["is_fraud"].to_numpy() == 1
_t5_flag = _t5_scores >= _t5_threshold
_t5_c = (COST_FP * np.sum(_t5_flag & ~_t5_y) + COST_FN * np.sum(~_t5_flag & _t5_y)) / len(_t5_y)
assert _t5_c <= 0.85 * COST_FN * _t5_y.mean(), \
    (f"on a fresh world your decisions cost {_t5_c:.3f} EUR per transaction; flagging nothing costs "
     f"{COST_FN * _t5_y.mean():.3f}: expected at most 85% of that")
### BEGIN HIDDEN TESTS
for _case_h, _rate_h, _cfp_h, _cfn_h, _seed_h, _world_h in [(0, 0.02, 1.0, 200.0, 10100, {}),
                                                            (3, 0.03, 2.0, 150.0, 10103, {}),
                                                            (5, 0.01, 2.0, 300.0, 10105, {"drift": ()})]:
    _ratio_h = _t5_judge_h(_case_h, _rate_h, _cfp_h, _cfn_h, _seed_h, **_world_h)
    assert _ratio_h <= 1.08, \
        (f"fraud rate {_rate_h:.0%}, a false alarm {_cfp_h:g} EUR, a miss {_cfn_h:g} EUR: your decisions cost "
         f"{_ratio_h:.3f} times the tuned logistic baseline's with its threshold in hindsight (at most 1.08)")
### END HIDDEN TESTS

# %% id="ex10-fraud-model-alarm-cost-tests" mlcourse={"stage": "modeling", "tier": 5} nbgrader={"grade": true, "grade_id": "ex10_fraud_model_alarm_cost_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test judges your function on worlds where a false alarm costs a quarter to a third
# of a missed fraud, one of them without any change of fraud pattern.
_t5_model2, _t5_threshold2 = train_fraud_model(fraud_train.head(8000), fraud_valid.head(4000), 30.0, 100.0)
assert 0.0 <= float(_t5_threshold2) <= 1.0, f"costs 30 and 100: expected a threshold in [0, 1], got {_t5_threshold2}"
### BEGIN HIDDEN TESTS
for _case_h, _rate_h, _cfp_h, _cfn_h, _seed_h, _world_h in [(1, 0.02, 30.0, 100.0, 10101, {}),
                                                            (4, 0.04, 25.0, 100.0, 10104, {}),
                                                            (7, 0.02, 30.0, 100.0, 10107, {"drift": ()})]:
    _ratio_h = _t5_judge_h(_case_h, _rate_h, _cfp_h, _cfn_h, _seed_h, **_world_h)
    assert _ratio_h <= 1.06, \
        (f"fraud rate {_rate_h:.0%}, a false alarm {_cfp_h:g} EUR, a miss {_cfn_h:g} EUR: your decisions cost "
         f"{_ratio_h:.3f} times the tuned logistic baseline's with its threshold in hindsight (at most 1.06)")
### END HIDDEN TESTS

# %% id="ex10-fraud-model-beat-tests" mlcourse={"stage": "modeling", "tier": 5} nbgrader={"grade": true, "grade_id": "ex10_fraud_model_beat_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test uses worlds with 5% fraud where a false alarm costs a fifth of a miss: there
# your decisions must cost less than the tuned baseline's, threshold in hindsight included.
_t5_check_scores = np.asarray(_t5_model.predict_proba(fraud_valid[FEATURES].head(10)) if hasattr(_t5_model, "predict_proba")
                              else _t5_model(fraud_valid[FEATURES].head(10)), dtype=float)
assert len(_t5_check_scores) == 10, f"expected 10 scores, got {len(_t5_check_scores)}"
### BEGIN HIDDEN TESTS
for _case_h, _seed_h in [(2, 10102), (2, 10152)]:
    _ratio_h = _t5_judge_h(_case_h, 0.05, 10.0, 50.0, _seed_h)
    assert _ratio_h <= 1.0, \
        (f"fraud rate 5%, a false alarm 10 EUR, a miss 50 EUR: your decisions cost {_ratio_h:.3f} times the tuned "
         f"logistic baseline's with its threshold in hindsight: expected less (at most 1.0)")
### END HIDDEN TESTS

# %% [markdown] id="md-ex11-drift"
# ### When the fraud changes: training for the next weeks
#
# Section 6 noted that our world switches fraud patterns on day 80, and stage 1 built that drift in.
# A random split hides it: training, validation and test rows all mix both patterns, so the validation
# cost says how good a model is *on average over the history*. Production is not the average of the
# history; it is **the next weeks**. What matters then is how well each choice — which model, trained on
# how much of the past, with which threshold — does on the *latest* data, and only a validation set made
# of the latest data can say it. Old data is not worthless either: it holds more rows, and patterns that
# did not change. How much of it to use is a choice for the evidence.
#
# ### Exercise 11 (tier 5) — a model for the next weeks
#
# Implement `train_for_next_weeks(history, cost_fp, cost_fn)` that returns `(model, threshold)` as in
# exercise 10:
#
# * `history` holds every transaction of the platform's past days, with the `FEATURES` columns, the `day`
#   (0, 1, ... up to the last day of the history) and `is_fraud`;
# * the model and the threshold will decide on the transactions of the **20 days after the history**;
#   costs as in exercise 10.
#
# **How it is judged.** The hidden tests draw worlds of 100 days in which the fraud pattern changes on a
# day you are not told, give you the first 80 days and measure the cost of your decisions on the last 20.
# They compare it with the best a model trained on **the whole history** can do: the logistic baseline on
# `md.make_preprocessor`'s columns with its threshold chosen in hindsight on those 20 days. Your decisions
# must cost at most 85% of that. The cell below makes `drift_history` and `drift_future` for your own checks:
# a world whose pattern changes on day 60.

# %% id="code-drift-data"
drift_world = make_world(seed=SEED + 700, n_transactions=30_000, n_days=100,
                         drift=(DriftEvent(day=60, pattern="card_testing"),))
drift_history = drift_world.transactions.query("day < 80")[FEATURES + ["day", "is_fraud"]]
drift_future = drift_world.transactions.query("day >= 80")
print(f"drift_history: {drift_history.shape} (days 0-79), drift_future: {drift_future.shape} (days 80-99)")

# %% id="ex11-drift-model" mlcourse={"stage": "modeling", "tier": 5, "forbid": ["mlcourse.modeling.train_course_model", "mlcourse.capstone", "mlcourse.monitoring", "mlcourse.improvement"], "equivalent_mutants": {"7:21 compare Gt>GtE": "21 days instead of 20: a window of the same kind, as valid a choice; the tests judge the cost of the decisions on hidden worlds, and this model meets the same bounds", "7:61 number 20>21": "21 days instead of 20: a window of the same kind, as valid a choice; the tests judge the cost of the decisions on hidden worlds, and this model meets the same bounds"}} nbgrader={"grade": false, "grade_id": "ex11_drift_model", "locked": false, "schema_version": 3, "solution": true, "task": false}
def train_for_next_weeks(history, cost_fp, cost_fn):
    """Train on the part of the history that looks like the weeks to come; return (model, threshold)."""
    ### BEGIN SOLUTION
    # drift_history's latest days (and a time split of it: train up to day 69, validate on days 70-79)
    # show that the old pattern misleads: a model of the last 20 days beats the whole history there, and
    # 20 days still hold some 6,000 payments. The Bayes threshold suits a calibrated logistic model.
    recent = history[history["day"] > history["day"].max() - 20]
    model = make_pipeline(md.make_preprocessor(recent[FEATURES]), md.logistic_baseline()).fit(
        recent[FEATURES], recent["is_fraud"])
    return model, cost_fp / (cost_fp + cost_fn)
    ### END SOLUTION

# %% id="ex11-mistake-random-split" mistake={"readable": "the recipe of sections 5 and 6 (md.make_splits' random split, md.compare_models' validation threshold): gradient boosting on the whole history", "why": "a random split of the whole history: the model and its threshold are tuned to the average of both fraud patterns, not to the latest"}
def train_for_next_weeks(history, cost_fp, cost_fn):
    rows = history.sample(frac=1.0, random_state=0)
    train, valid = rows.iloc[: int(0.8 * len(rows))], rows.iloc[int(0.8 * len(rows)):]
    model = make_pipeline(md.make_preprocessor(train[FEATURES]),
                          HistGradientBoostingClassifier(random_state=0)).fit(train[FEATURES], train["is_fraud"])
    s = model.predict_proba(valid[FEATURES])[:, 1]
    y = valid["is_fraud"].to_numpy() == 1
    order = np.argsort(-s, kind="stable")
    costs = cost_fp * np.cumsum(~y[order]) + cost_fn * (y.sum() - np.cumsum(y[order]))
    return model, float(s[order][int(np.argmin(costs))])

# %% id="ex11-mistake-all-history" mistake={"why": "the logistic model on the whole history with the Bayes threshold: no evidence on what changed"}
def train_for_next_weeks(history, cost_fp, cost_fn):
    model = make_pipeline(md.make_preprocessor(history[FEATURES]), LogisticRegression(max_iter=1000)).fit(
        history[FEATURES], history["is_fraud"])
    return model, cost_fp / (cost_fp + cost_fn)

# %% id="ex11-drift-model-tests" mlcourse={"stage": "modeling", "tier": 5} nbgrader={"grade": true, "grade_id": "ex11_drift_model_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
### BEGIN HIDDEN TESTS
# The judge is defined before the visible checks, so that the next cells can use it even
# when a visible check of this one fails.
def _t5d_judge_h(seed, day, pattern, initial, cost_fp, cost_fn):
    frame = make_world(seed=seed, n_transactions=30_000, n_days=100, initial_pattern=initial,
                       drift=(DriftEvent(day=day, pattern=pattern),)).transactions
    history, future = frame[frame["day"] < 80][FEATURES + ["day", "is_fraud"]], frame[frame["day"] >= 80]
    y = future["is_fraud"].to_numpy()
    model, threshold = train_for_next_weeks(history, cost_fp, cost_fn)
    out = np.asarray(model.predict_proba(future[FEATURES]) if hasattr(model, "predict_proba") else model(future[FEATURES]),
                     dtype=float)
    flag = (out[:, 1] if out.ndim == 2 else out) >= float(threshold)
    mine = (cost_fp * np.sum(flag & (y == 0)) + cost_fn * np.sum(~flag & (y == 1))) / len(y)
    base = make_pipeline(md.make_preprocessor(history[FEATURES]), LogisticRegression(max_iter=1000)).fit(
        history[FEATURES], history["is_fraud"])
    s = base.predict_proba(future[FEATURES])[:, 1]
    order = np.argsort(-s, kind="stable")
    ys = y[order] == 1
    best = min(float(((cost_fp * np.cumsum(~ys) + cost_fn * (ys.sum() - np.cumsum(ys))) / len(y)).min()), cost_fn * y.mean())
    return mine / best
### END HIDDEN TESTS
# The hidden part of this test judges your function on worlds whose fraud changes on a day you are not told.
_t5d_model, _t5d_threshold = train_for_next_weeks(drift_history, COST_FP, COST_FN)
assert 0.0 <= float(_t5d_threshold) <= 1.0, f"expected a threshold in [0, 1], got {_t5d_threshold}"
_t5d_out = np.asarray(_t5d_model.predict_proba(drift_future[FEATURES]) if hasattr(_t5d_model, "predict_proba")
                      else _t5d_model(drift_future[FEATURES]), dtype=float)
_t5d_scores = _t5d_out[:, 1] if _t5d_out.ndim == 2 else _t5d_out
assert _t5d_scores.shape == (len(drift_future),), f"expected one P(fraud) per row of drift_future, got {_t5d_scores.shape}"
_t5d_y = drift_future["is_fraud"].to_numpy() == 1
_t5d_flag = _t5d_scores >= float(_t5d_threshold)
_t5d_c = (COST_FP * np.sum(_t5d_flag & ~_t5d_y) + COST_FN * np.sum(~_t5d_flag & _t5d_y)) / len(_t5d_y)
assert _t5d_c <= 0.85 * COST_FN * _t5d_y.mean(), \
    (f"on drift_future your decisions cost {_t5d_c:.3f} EUR per transaction; flagging nothing costs "
     f"{COST_FN * _t5d_y.mean():.3f}: expected at most 85% of that")
### BEGIN HIDDEN TESTS
for _args_h in [(11100, 58, "card_testing", "stolen_card"), (11103, 55, "stolen_card", "card_testing")]:
    _ratio_h = _t5d_judge_h(*_args_h, 5.0, 100.0)
    assert _ratio_h <= 0.85, \
        (f"a world whose fraud turns from {_args_h[3]} to {_args_h[2]} on day {_args_h[1]}: your decisions on the 20 days "
         f"after the history cost {_ratio_h:.3f} times the whole-history baseline's best (at most 0.85)")
### END HIDDEN TESTS

# %% id="ex11-drift-model-hidden-tests" mlcourse={"stage": "modeling", "tier": 5} nbgrader={"grade": true, "grade_id": "ex11_drift_model_hidden_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test uses other worlds and dearer false alarms (EUR 10 against EUR 100).
_t5d_small, _t5d_small_threshold = train_for_next_weeks(drift_history[drift_history["day"] >= 40], 10.0, 100.0)
assert 0.0 <= float(_t5d_small_threshold) <= 1.0, f"expected a threshold in [0, 1], got {_t5d_small_threshold}"
### BEGIN HIDDEN TESTS
for _args_h in [(11104, 62, "card_testing", "account_takeover"), (11103, 55, "stolen_card", "card_testing")]:
    _ratio_h = _t5d_judge_h(*_args_h, 10.0, 100.0)
    assert _ratio_h <= 0.85, \
        (f"a world whose fraud turns from {_args_h[3]} to {_args_h[2]} on day {_args_h[1]}, costs 10 and 100: your "
         f"decisions cost {_ratio_h:.3f} times the whole-history baseline's best (at most 0.85)")
### END HIDDEN TESTS

# %% [markdown] id="md-4dd229eb"
# ## Summary
#
# * A **baseline** sets the bar and checks the pipeline. The majority model shows what "doing nothing"
#   costs; logistic regression is fast, stable, calibrated and readable, but sees each feature only
#   linearly — no night, no interactions, one fraud pattern at a time. For a continuous target the mean
#   and the median set the bar; least squares has a closed form but chases outliers, the Huber loss does not.
# * Training minimises a **loss**. For logistic regression the log-loss is convex and its gradient is
#   $X^\top(p - y)/n$; **gradient descent** follows it, and the **learning rate** decides between crawling,
#   converging and diverging. Least squares solves its normal equations directly.
# * **Neural networks** learn their own features; train them on **mini-batches** with an **optimizer**
#   that adapts the steps (Adam, AdamW for weight decay; SGD with momentum when tuned).
# * **Bias and variance** show in the training history; **early stopping** with the best weights restored
#   stops at the right time. Seed the weights *and* the shuffling to make training **reproducible**.
# * **Imbalance** is handled at the threshold, in the loss (class weights, focal loss) or in the data
#   (resampling). Weighting multiplies the odds the model predicts by $w_1/w_0$, so the threshold must move
#   with it; weights equal to the costs make 0.5 the cost-optimal threshold — for those costs only.
# * **Ensembles**: random forests cut variance, boosting cuts bias, voting and stacking combine different
#   models; stacking must learn from **out-of-fold** predictions, and on data ordered in time, from
#   predictions of the past only.
# * Compare models by the **cost of their decisions** on data they have not seen, and make every choice —
#   model, weighting, threshold, training window — on validation data that looks like the traffic to come:
#   the latest days when the fraud changes.
#
# ## Going further
#
# * Hyper-parameter search (random search, successive halving: `sklearn.model_selection.HalvingRandomSearchCV`)
#   and its cost on 2 cores; learning-rate schedules and warm-up for networks.
# * Categorical **embeddings** instead of one-hot columns for high-cardinality features (merchant, customer).
# * Calibrating weighted or focal models (Platt scaling, isotonic regression): stage 5.
# * Serving the network: batching, int8 quantization of the `nn.Sequential`, latency against throughput:
#   stage 6.
# * Training on the *observed* labels (`label`) instead of the truth: label delay, noise and the
#   under-reported group of stage 1, and what they do to each model; detecting drift as it happens: stage 8.
# * Reading: Goodfellow, Bengio & Courville, *Deep Learning*, ch. 6–8; Lin et al. (2017), *Focal Loss for
#   Dense Object Detection*; Elkan (2001), *The Foundations of Cost-Sensitive Learning*; Wolpert (1992),
#   *Stacked Generalization*; Loshchilov & Hutter (2019), *Decoupled Weight Decay Regularization*;
#   Huber (1964), *Robust Estimation of a Location Parameter*.
