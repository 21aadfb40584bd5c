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
#    of a linear model;
# 2. derive the logistic loss and its gradient, and fit the model by gradient descent; explain how the
#    learning rate decides between crawling, converging and diverging;
# 3. build a small neural network in PyTorch and train it with mini-batches; choose an optimizer (SGD,
#    momentum, Adam, AdamW) and say why;
# 4. recognise under- and overfitting (bias and variance) in a training history, and stop training early
#    with the best weights restored; make training reproducible;
# 5. handle class imbalance through the loss (class weights, focal loss), resampling or the threshold,
#    and say what each does to the predicted probabilities;
# 6. build ensembles — random forest, gradient boosting, soft voting, stacking — and explain why stacking
#    needs out-of-fold predictions;
# 7. compare models by the business cost of their decisions, with thresholds chosen on validation data.
#
# **Estimated time:** about 3.5 hours (≈ 1.5 h reading and running the demos, ≈ 2 h exercises).
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
# one of its graded cells when it has four or more, and never with half its cells failed. Some tests are
# hidden: they check your code on data you have not seen, exactly as production would.
#
# | tier | rubric level | what it shows | exercises |
# |---|---|---|---|
# | 1 | awareness | you can fit and score the baselines that set the bar | 1 |
# | 2 | basic understanding | you can write the logistic loss, its gradient and gradient descent | 2, 3 |
# | 3 | proficiency (Junior) | you can write a loss for imbalanced data and the core of a PyTorch training loop | 4, 5 |
# | 4 | advanced (Senior) | you can stop training early without losing the best model, and stack models without leakage | 6, 7 |
# | 5 | expert (Staff) | you build a fraud model whose decisions cost clearly less than a tuned baseline on new data | 8 |

# %% [markdown] id="md-3c2875a6"
# ## Parameters
#
# The next cell is tagged `parameters` so that [papermill](https://papermill.readthedocs.io) can
# override it. `SEED` fixes all randomness. `FAST` only trims the demonstrations (fewer epochs, fewer
# trees); the data the exercises use and the graded tests never depend on it.

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
from sklearn.ensemble import HistGradientBoostingClassifier, StackingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, log_loss
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from threadpoolctl import threadpool_limits

# nbgrader's Validate fails any test cell that writes to stderr (the grader lets assertions
# decide), and warnings are noise in a first run: so we silence
# library warnings (convergence, deprecations, torch's UserWarnings) once, here.
warnings.filterwarnings("ignore")
torch.set_warn_always(False)   # torch warns at most once per kind, and the filter above hides that once
# Our matrices are small: one thread is faster than several competing for the cores.
threadpool_limits(1)
torch.set_num_threads(1)

from mlcourse import modeling as md
from mlcourse.world import make_world

COST_FP, COST_FN = 5.0, 100.0   # euros: a false alarm (review, friction), a missed fraud (chargeback)
EPOCHS = 6 if FAST else 12      # epochs of the neural-network demos
N_TREES = 30 if FAST else 80    # trees of the random-forest demo

world = make_world(seed=SEED, n_transactions=150_000)   # the exercises use this size, whatever FAST says
tx = world.transactions
FEATURES = world.feature_columns                         # what is observable when a payment arrives

# Demos and exercises 1-7 use 50,000 of the transactions: 60% train, 20% validation, 20% test.
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
# Fit two baselines on `X_train, y_train`:
#
# * `majority_model`: predicts the training fraud rate for every row (scikit-learn's
#   `DummyClassifier(strategy="prior")`, or `md.majority_baseline()`);
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

# %% id="ex1-baselines" mlcourse={"stage": "modeling", "tier": 1} nbgrader={"grade": false, "grade_id": "ex1_baselines", "locked": false, "schema_version": 3, "solution": true, "task": false}
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

# %% id="ex1-baselines-tests" mlcourse={"stage": "modeling", "tier": 1} nbgrader={"grade": true, "grade_id": "ex1_baselines_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
_p_major = np.full(len(y_valid), y_train.mean())
_lr = LogisticRegression(C=1.0, max_iter=1000).fit(X_train, y_train)
_p_lr = _lr.predict_proba(X_valid)[:, 1]
assert np.allclose(majority_model.predict_proba(X_valid)[:, 1], _p_major, atol=1e-9), \
    f"majority_model: expected P(fraud) = training rate {y_train.mean():.5f} everywhere"
assert np.allclose(logistic_model.predict_proba(X_valid)[:, 1], _p_lr, atol=1e-4), \
    "logistic_model: expected the predictions of LogisticRegression(C=1.0) fitted on X_train, y_train"
_expected = {"majority": {"average_precision": average_precision_score(y_valid, _p_major),
                          "log_loss": log_loss(y_valid, _p_major)},
             "logistic": {"average_precision": average_precision_score(y_valid, _p_lr),
                          "log_loss": log_loss(y_valid, _p_lr)}}
for _m in ("majority", "logistic"):
    for _k in ("average_precision", "log_loss"):
        _got = float(baseline_scores[_m][_k])
        assert np.isclose(_got, _expected[_m][_k], atol=1e-3), \
            f"baseline_scores[{_m!r}][{_k!r}]: expected {_expected[_m][_k]:.4f} on the validation data, got {_got:.4f}"

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
# * `w`: array of shape `(n_features,)`, `b`: float, `X`: shape `(n, n_features)`, `y`: 0/1 labels of shape `(n,)`;
# * return the tuple `(loss, grad_w, grad_b)` for $J(w,b) = \frac{1}{n}\sum_i[\log(1+e^{z_i}) - y_i z_i] + \frac{1}{2Cn}\lVert w\rVert^2$;
# * `C=None` means **no penalty**;
# * it must stay finite for logits as large as $|z| = 1000$ (hint: `np.logaddexp(0, z)` computes
#   $\log(1+e^z)$ without overflow; for $\sigma(z)$, `scipy.special.expit` or a sign-split formula).
#
# Do not call `mlcourse`.

# %% id="ex2-loss-gradient" mlcourse={"stage": "modeling", "tier": 2} nbgrader={"grade": false, "grade_id": "ex2_loss_gradient", "locked": false, "schema_version": 3, "solution": true, "task": false}
def loss_and_gradient(w, b, X, y, C=1.0):
    """Regularised mean log-loss of logistic regression and its gradient: (loss, grad_w, grad_b)."""
    ### BEGIN SOLUTION
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.asarray(w, dtype=float)
    n = len(y)
    z = X @ w + b
    loss = np.mean(np.logaddexp(0.0, z) - y * z)
    p = np.exp(-np.logaddexp(0.0, -z))          # sigmoid(z), stable for any z
    residual = p - y
    grad_w = X.T @ residual / n
    if C is not None:
        loss += w @ w / (2 * C * n)
        grad_w = grad_w + w / (C * n)
    return float(loss), grad_w, float(residual.mean())
    ### END SOLUTION


# %% id="ex2-loss-gradient-tests" mlcourse={"stage": "modeling", "tier": 2} nbgrader={"grade": true, "grade_id": "ex2_loss_gradient_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
from sklearn.datasets import make_classification as _make_classification

_Xg, _yg = _make_classification(n_samples=300, n_features=5, n_informative=3, random_state=1)
_rng = np.random.default_rng(0)
_wg, _bg = _rng.normal(size=5), 0.4
for _C in (1.0, 0.2, None):
    _loss, _gw, _gb = loss_and_gradient(_wg, _bg, _Xg, _yg, C=_C)
    _p = 1 / (1 + np.exp(-(_Xg @ _wg + _bg)))
    _expected = log_loss(_yg, _p) + (0.0 if _C is None else _wg @ _wg / (2 * _C * len(_yg)))
    assert np.isclose(float(_loss), _expected, rtol=1e-8), f"C={_C}: expected loss {_expected:.6f}, got {_loss}"
    _eps = 1e-6
    _num = np.array([(loss_and_gradient(_wg + _eps * _e, _bg, _Xg, _yg, C=_C)[0]
                      - loss_and_gradient(_wg - _eps * _e, _bg, _Xg, _yg, C=_C)[0]) / (2 * _eps) for _e in np.eye(5)])
    assert np.allclose(np.asarray(_gw, dtype=float), _num, atol=1e-6), \
        f"C={_C}: grad_w should match finite differences {np.round(_num, 5)}, got {np.round(_gw, 5)}"
    _num_b = (loss_and_gradient(_wg, _bg + _eps, _Xg, _yg, C=_C)[0] - loss_and_gradient(_wg, _bg - _eps, _Xg, _yg, C=_C)[0]) / (2 * _eps)
    assert np.isclose(float(_gb), _num_b, atol=1e-6), f"C={_C}: grad_b should be {_num_b:.6f}, got {_gb}"
_big = loss_and_gradient(np.array([1000.0]), 0.0, np.array([[1.0], [-1.0]]), np.array([0, 1]), C=None)
assert np.isfinite(_big[0]) and np.isclose(_big[0], 1000.0) and np.all(np.isfinite(_big[1])), \
    f"with logits of +-1000 expected a finite loss of 1000.0 and a finite gradient, got {_big}"


# %% [markdown] id="md-9cccc967"
# ### Exercise 3 (tier 2) — gradient descent
#
# Implement `gradient_descent(X, y, C=1.0, learning_rate=1.0, n_iter=1000)`: start from `w = 0`, `b = 0`
# and take exactly `n_iter` full-batch steps `w -= learning_rate * grad_w`, `b -= learning_rate * grad_b`
# on the objective of exercise 2 (you may call your `loss_and_gradient`). Return `(w, b)`: an array of
# shape `(n_features,)` and a float. The tests compare your first steps with plain gradient descent, and
# your end point with scikit-learn's `LogisticRegression(C=C)` on standardised data.

# %% id="ex3-gradient-descent" mlcourse={"stage": "modeling", "tier": 2} nbgrader={"grade": false, "grade_id": "ex3_gradient_descent", "locked": false, "schema_version": 3, "solution": true, "task": false}
def gradient_descent(X, y, C=1.0, learning_rate=1.0, n_iter=1000):
    """Full-batch gradient descent on the L2-regularised logistic loss, from zero: (w, b)."""
    ### BEGIN SOLUTION
    w, b = np.zeros(np.shape(X)[1]), 0.0
    for _ in range(n_iter):
        _, grad_w, grad_b = loss_and_gradient(w, b, X, y, C=C)
        w = w - learning_rate * grad_w
        b = b - learning_rate * grad_b
    return w, b
    ### END SOLUTION


# %% id="ex3-gradient-descent-tests" mlcourse={"stage": "modeling", "tier": 2} nbgrader={"grade": true, "grade_id": "ex3_gradient_descent_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
from sklearn.datasets import make_classification as _make_classification
from sklearn.preprocessing import StandardScaler as _StandardScaler

_Xd, _yd = _make_classification(n_samples=500, n_features=4, n_informative=3, n_redundant=1,
                                weights=[0.85], random_state=0)
_Xd = _StandardScaler().fit_transform(_Xd)
# three plain steps, computed here
_w, _b = np.zeros(4), 0.0
for _ in range(3):
    _r = 1 / (1 + np.exp(-(_Xd @ _w + _b))) - _yd
    _w, _b = _w - 0.7 * (_Xd.T @ _r / 500 + _w / (0.5 * 500)), _b - 0.7 * _r.mean()
_gw, _gb = gradient_descent(_Xd, _yd, C=0.5, learning_rate=0.7, n_iter=3)
assert np.allclose(np.asarray(_gw, dtype=float), _w, atol=1e-10) and np.isclose(float(_gb), _b, atol=1e-10), \
    f"after 3 steps from zero expected w={np.round(_w, 6)}, b={_b:.6f}; got w={np.round(_gw, 6)}, b={_gb}"
# run to convergence: the same optimum as scikit-learn
_sk = LogisticRegression(C=0.5, tol=1e-10, max_iter=10_000).fit(_Xd, _yd)
_gw, _gb = gradient_descent(_Xd, _yd, C=0.5, learning_rate=1.0, n_iter=2000)
assert np.allclose(np.asarray(_gw, dtype=float), _sk.coef_[0], atol=1e-4), \
    f"expected scikit-learn's coefficients {np.round(_sk.coef_[0], 4)}, got {np.round(_gw, 4)}"
assert np.isclose(float(_gb), _sk.intercept_[0], atol=1e-4), \
    f"expected scikit-learn's intercept {_sk.intercept_[0]:.4f}, got {_gb}"

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
    mlp.fit(X_train, y_train, X_valid, y_valid)
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
a = md.MLPClassifier(seed=SEED, **settings).fit(X_train, y_train).predict_proba(X_valid)[:, 1]
b = md.MLPClassifier(seed=SEED, **settings).fit(X_train, y_train).predict_proba(X_valid)[:, 1]
c = md.MLPClassifier(seed=SEED + 1, **settings).fit(X_train, y_train).predict_proba(X_valid)[:, 1]
print(f"same seed: identical = {np.array_equal(a, b)};  other seed: largest difference = {np.abs(a - c).max():.4f}")


# %% [markdown] id="md-679dd107"
# ### Exercise 4 (tier 3) — focal loss
#
# On imbalanced data most examples are easy negatives; their small losses add up and dominate the
# gradient. The **focal loss** (Lin et al., 2017) multiplies each example's cross-entropy by
# $(1-p_t)^\gamma$, where $p_t$ is the predicted probability of the *true* class, so well-classified
# examples fade out:
#
# $$\mathrm{FL}_i = -\,\alpha_{y_i}\,(1-p_{t,i})^{\gamma}\,\log p_{t,i}.$$
#
# Implement `focal_loss(logits, target, gamma=2.0, weight=None)` in PyTorch:
#
# * `logits`: float tensor of shape `(n, n_classes)`; `target`: int64 tensor of shape `(n,)`; $p_t$ is the
#   softmax probability of the target class (compute $\log p_t$ with `F.log_softmax`, for stability);
# * `weight`: optional tensor of class weights $\alpha$ of shape `(n_classes,)`;
# * return the **mean**: $\sum_i \mathrm{FL}_i / \sum_i \alpha_{y_i}$ (with no weights, $\alpha = 1$) —
#   the same normalisation as `F.cross_entropy(weight=...)`, so that `gamma=0` gives exactly cross-entropy;
# * the result must be differentiable (a tensor in the autograd graph).

# %% id="ex4-focal-loss" mlcourse={"stage": "modeling", "tier": 3} nbgrader={"grade": false, "grade_id": "ex4_focal_loss", "locked": false, "schema_version": 3, "solution": true, "task": false}
def focal_loss(logits, target, gamma=2.0, weight=None):
    """Mean focal loss of (n, n_classes) logits against int64 targets, optionally class-weighted."""
    ### BEGIN SOLUTION
    log_pt = F.log_softmax(logits, dim=1).gather(1, target.long().unsqueeze(1)).squeeze(1)
    pt = log_pt.exp()
    losses = -((1 - pt) ** gamma) * log_pt
    alpha = torch.ones_like(losses) if weight is None else weight.to(losses.dtype)[target.long()]
    return (alpha * losses).sum() / alpha.sum()
    ### END SOLUTION


# %% id="ex4-focal-loss-tests" mlcourse={"stage": "modeling", "tier": 3} nbgrader={"grade": true, "grade_id": "ex4_focal_loss_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_gen = torch.Generator().manual_seed(11)
_logits = torch.randn(300, 2, generator=_gen, dtype=torch.float64) * 3
_target = (torch.rand(300, generator=_gen) < 0.15).long()


def _focal_reference(logits, target, gamma, weight=None):
    z = logits.detach().numpy()
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p = p / p.sum(axis=1, keepdims=True)
    pt = p[np.arange(len(target)), target.numpy()]
    a = np.ones(len(pt)) if weight is None else np.asarray(weight)[target.numpy()]
    return float(np.sum(-a * (1 - pt) ** gamma * np.log(pt)) / a.sum())


for _gamma in (0.5, 2.0, 5.0):
    for _w in (None, [0.4, 3.0]):
        _wt = None if _w is None else torch.tensor(_w, dtype=torch.float64)
        _got = focal_loss(_logits, _target, gamma=_gamma, weight=_wt)
        _exp = _focal_reference(_logits, _target, _gamma, _w)
        assert isinstance(_got, torch.Tensor) and _got.ndim == 0, f"expected a scalar tensor, got {_got!r}"
        assert np.isclose(float(_got), _exp, rtol=1e-8), f"gamma={_gamma}, weight={_w}: expected {_exp:.6f}, got {float(_got):.6f}"
assert torch.allclose(focal_loss(_logits, _target, gamma=0.0), F.cross_entropy(_logits, _target)), \
    "gamma=0 should equal F.cross_entropy"
_wt = torch.tensor([0.6, 4.0], dtype=torch.float64)
assert torch.allclose(focal_loss(_logits, _target, gamma=0.0, weight=_wt), F.cross_entropy(_logits, _target, weight=_wt)), \
    "gamma=0 with class weights should equal F.cross_entropy(weight=...)"
_leaf = _logits.clone().requires_grad_(True)
focal_loss(_leaf, _target, gamma=2.0).backward()
assert _leaf.grad is not None and torch.isfinite(_leaf.grad).all(), "the loss must be differentiable (gradients flow to the logits)"
_extreme = focal_loss(torch.tensor([[60.0, -60.0], [-60.0, 60.0]]), torch.tensor([1, 1]), gamma=2.0)
assert torch.isfinite(_extreme), f"expected a finite loss for logits of +-60, got {_extreme}"


# %% [markdown] id="md-024ffa68"
# ### Exercise 5 (tier 3) — one epoch of mini-batch training
#
# Implement `train_one_epoch(network, optimizer, loss_fn, X, y, batch_size, generator)` in plain PyTorch
# (not `md.train_epoch`):
#
# 1. put the network in training mode (`network.train()`: dropout on);
# 2. shuffle with `order = torch.randperm(len(X), generator=generator)`;
# 3. for each consecutive slice of `order` of `batch_size` indices (the last one may be shorter):
#    zero the gradients, compute `loss_fn(network(X[idx]), y[idx])`, back-propagate, `optimizer.step()`;
# 4. return the epoch's average training loss as a Python `float`: the batch losses weighted by their
#    batch sizes, divided by `len(X)`.
#
# The test runs your function and a reference loop on two identical networks and compares the weights.

# %% id="ex5-train-one-epoch" mlcourse={"stage": "modeling", "tier": 3} nbgrader={"grade": false, "grade_id": "ex5_train_one_epoch", "locked": false, "schema_version": 3, "solution": true, "task": false}
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


# %% id="ex5-train-one-epoch-tests" mlcourse={"stage": "modeling", "tier": 3} nbgrader={"grade": true, "grade_id": "ex5_train_one_epoch_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def _reference_epoch(network, optimizer, loss_fn, X, y, batch_size, generator):
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


_Xe = torch.as_tensor(X_train[:3000], dtype=torch.float32)
_ye = torch.as_tensor(y_train[:3000])
torch.manual_seed(0)
_net_mine = torch.nn.Sequential(torch.nn.Linear(_Xe.shape[1], 16), torch.nn.ReLU(), torch.nn.Dropout(0.2),
                                torch.nn.Linear(16, 2))
_net_ref = copy.deepcopy(_net_mine)
_opt_mine = torch.optim.SGD(_net_mine.parameters(), lr=0.1, momentum=0.9)
_opt_ref = torch.optim.SGD(_net_ref.parameters(), lr=0.1, momentum=0.9)
_gen_mine, _gen_ref = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
for _epoch, _bs in enumerate([256, 700]):   # neither divides 3000: the last batch is shorter
    _net_mine.eval(); _net_ref.eval()        # your function must switch training mode on
    torch.manual_seed(100 + _epoch)
    _l_mine = train_one_epoch(_net_mine, _opt_mine, F.cross_entropy, _Xe, _ye, _bs, _gen_mine)
    torch.manual_seed(100 + _epoch)
    _l_ref = _reference_epoch(_net_ref, _opt_ref, F.cross_entropy, _Xe, _ye, _bs, _gen_ref)
    assert isinstance(_l_mine, float), f"expected a Python float, got {type(_l_mine).__name__}"
    assert np.isclose(_l_mine, _l_ref, rtol=1e-5), f"epoch {_epoch + 1}: expected mean loss {_l_ref:.6f}, got {_l_mine:.6f}"
    for _pm, _pr in zip(_net_mine.parameters(), _net_ref.parameters()):
        assert torch.allclose(_pm, _pr, atol=1e-5), f"epoch {_epoch + 1}: the weights differ from the reference loop's"


# %% [markdown] id="md-eb6f01ec"
# ### Exercise 6 (tier 4) — early stopping with the best weights restored
#
# Implement `fit_with_early_stopping(network, optimizer, X_tr, y_tr, X_val, y_val, max_epochs=50,
# patience=3, batch_size=256, generator=None)`:
#
# * each epoch: one pass of mini-batch training with `F.cross_entropy` (your `train_one_epoch`, or
#   `md.train_epoch`), then the **validation loss** `F.cross_entropy(network(X_val), y_val)` on the whole
#   validation set, in evaluation mode and without gradients (`network.eval()`, `torch.no_grad()`);
# * keep a copy of the weights whenever the validation loss is strictly lower than every earlier one
#   (`copy.deepcopy(network.state_dict())` — without the deep copy you keep a reference to weights that
#   keep changing);
# * stop after `patience` consecutive epochs without such an improvement, or after `max_epochs`;
# * before returning, load the best weights back into `network`;
# * return the list of validation losses, one Python float per epoch run.

# %% id="ex6-early-stopping" mlcourse={"stage": "modeling", "tier": 4} nbgrader={"grade": false, "grade_id": "ex6_early_stopping", "locked": false, "schema_version": 3, "solution": true, "task": false}
def fit_with_early_stopping(network, optimizer, X_tr, y_tr, X_val, y_val, max_epochs=50, patience=3,
                            batch_size=256, generator=None):
    """Train until the validation loss stops improving; restore the best weights; return the val losses."""
    ### BEGIN SOLUTION
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
    return history
    ### END SOLUTION


# %% id="ex6-early-stopping-tests" mlcourse={"stage": "modeling", "tier": 4} nbgrader={"grade": true, "grade_id": "ex6_early_stopping_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_Xs = torch.as_tensor(X_train[:2000], dtype=torch.float32)
_ys = torch.as_tensor(y_train[:2000])
_Xv = torch.as_tensor(X_valid[:4000], dtype=torch.float32)
_yv = torch.as_tensor(y_valid[:4000])


def _new_net():
    torch.manual_seed(3)
    return torch.nn.Sequential(torch.nn.Linear(_Xs.shape[1], 64), torch.nn.ReLU(), torch.nn.Linear(64, 2))


def _val_loss(network):
    network.eval()
    with torch.no_grad():
        return F.cross_entropy(network(_Xv), _yv).item()


for _max_epochs, _patience in [(40, 3), (8, 100)]:
    _net = _new_net()
    _start = _val_loss(_net)
    _hist = fit_with_early_stopping(_net, torch.optim.Adam(_net.parameters(), lr=3e-3), _Xs, _ys, _Xv, _yv,
                                    max_epochs=_max_epochs, patience=_patience, batch_size=64,
                                    generator=torch.Generator().manual_seed(0))
    _hist = np.asarray(_hist, dtype=float)
    assert _hist.ndim == 1 and 1 <= len(_hist) <= _max_epochs, \
        f"expected one validation loss per epoch run (at most {_max_epochs}), got {len(_hist)} values"
    _best = int(np.argmin(_hist))
    _expected_len = min(_max_epochs, _best + 1 + _patience)
    assert len(_hist) == _expected_len, \
        (f"max_epochs={_max_epochs}, patience={_patience}: best epoch was {_best + 1}, so training should run "
         f"{_expected_len} epochs; it ran {len(_hist)}")
    _now = _val_loss(_net)
    assert np.isclose(_now, _hist.min(), rtol=1e-5), \
        f"the returned network should hold the best weights (val loss {_hist.min():.5f}), it has {_now:.5f}"
    assert _hist.min() < _start, "the validation loss never improved on the untrained network: is the network training?"

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
        X_train, y_train, X_valid, y_valid)
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
forest = md.random_forest(n_estimators=N_TREES, min_samples_leaf=10, random_state=SEED).fit(X_train, y_train)
boosting = md.gradient_boosting(random_state=SEED).fit(X_train, y_train)
network = md.MLPClassifier(max_epochs=EPOCHS, patience=3, seed=SEED).fit(X_train, y_train, X_valid, y_valid)
# Members of voting and stacking are refitted inside (on clones); the network then trains a fixed
# number of epochs, having no validation data for early stopping.
members = [("boosting", md.gradient_boosting(random_state=SEED)),
           ("network", md.MLPClassifier(max_epochs=min(EPOCHS, network.best_epoch_ + 1), patience=None, seed=SEED)),
           ("logistic", md.logistic_baseline())]
voting = md.SoftVotingClassifier(members[:2]).fit(X_train, y_train)
stacking = md.StackingClassifier(members, cv=3).fit(X_train, y_train)
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
# ### Exercise 7 (tier 4) — stacking by hand
#
# Implement `stacking_predict_proba(members, X_tr, y_tr, X_new, n_splits=5)`:
#
# 1. for each `(name, estimator)` in `members`, compute **out-of-fold** P(class 1) on the training data
#    with `StratifiedKFold(n_splits)` (no shuffling): for each fold, fit a fresh `sklearn.base.clone` of the
#    estimator on the other folds and predict the fold;
# 2. fit a `LogisticRegression()` (default settings) on these columns — one per member, in order;
# 3. refit a clone of each member on all of `X_tr, y_tr`, predict P(class 1) for `X_new`, and return the
#    combiner's P(class 1) for those columns: a 1-D array of length `len(X_new)`.
#
# The result must match scikit-learn's `StackingClassifier(members, final_estimator=LogisticRegression(),
# cv=StratifiedKFold(n_splits))`, which the test uses — write it yourself, without `StackingClassifier`
# or `mlcourse`.

# %% id="ex7-stacking" mlcourse={"stage": "modeling", "tier": 4} nbgrader={"grade": false, "grade_id": "ex7_stacking", "locked": false, "schema_version": 3, "solution": true, "task": false}
def stacking_predict_proba(members, X_tr, y_tr, X_new, n_splits=5):
    """P(class 1) of a logistic-regression stack of `members`, trained on out-of-fold predictions."""
    ### BEGIN SOLUTION
    from sklearn.base import clone

    y_tr = np.asarray(y_tr)
    folds = list(StratifiedKFold(n_splits=n_splits).split(X_tr, y_tr))
    oof = np.zeros((len(y_tr), len(members)))
    new = np.zeros((len(X_new), len(members)))
    for j, (_, estimator) in enumerate(members):
        for fit_idx, pred_idx in folds:
            model = clone(estimator).fit(X_tr[fit_idx], y_tr[fit_idx])
            oof[pred_idx, j] = model.predict_proba(X_tr[pred_idx])[:, 1]
        new[:, j] = clone(estimator).fit(X_tr, y_tr).predict_proba(X_new)[:, 1]
    combiner = LogisticRegression().fit(oof, y_tr)
    return combiner.predict_proba(new)[:, 1]
    ### END SOLUTION


# %% id="ex7-stacking-tests" mlcourse={"stage": "modeling", "tier": 4} nbgrader={"grade": true, "grade_id": "ex7_stacking_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from sklearn.tree import DecisionTreeClassifier as _Tree
from sklearn.naive_bayes import GaussianNB as _NB

_Xk, _yk, _Xn = X_train[:6000], y_train[:6000], X_valid[:2000]
for _members, _k in [([("logistic", LogisticRegression(max_iter=1000)),
                       ("tree", _Tree(max_depth=4, min_samples_leaf=20, random_state=0))], 5),
                     ([("tree", _Tree(max_depth=6, random_state=1)), ("nb", _NB()),
                       ("logistic", LogisticRegression(C=0.1, max_iter=1000))], 3)]:
    _sk_stack = StackingClassifier(_members, final_estimator=LogisticRegression(),
                                   cv=StratifiedKFold(_k)).fit(_Xk, _yk)
    _expected = _sk_stack.predict_proba(_Xn)[:, 1]
    _got = np.asarray(stacking_predict_proba(_members, _Xk, _yk, _Xn, n_splits=_k), dtype=float)
    assert _got.shape == _expected.shape, f"expected shape {_expected.shape}, got {_got.shape}"
    assert np.allclose(_got, _expected, atol=1e-6), \
        (f"{[n for n, _ in _members]}, {_k} folds: expected scikit-learn's stacked probabilities, largest "
         f"difference {np.abs(_got - _expected).max():.2e} (out-of-fold columns? refit on all data?)")

# %% [markdown] id="md-e5d2112b"
# ## 7. Exercise 8 (tier 5) — a fraud model that pays for itself
#
# You are given one training frame from the platform: every transaction of the world, the observable
# columns `FEATURES` (raw, as in `world.transactions`) and the ground truth `is_fraud`. A second world,
# `fraud_valid`, is there for your own checks.

# %% id="code-12d9212f"
fraud_train = tx[FEATURES + ["is_fraud"]]                                    # 150,000 rows
fraud_valid = make_world(seed=SEED + 500, n_transactions=50_000).transactions  # for your own checks
print(f"fraud_train: {fraud_train.shape}, {fraud_train['is_fraud'].mean():.2%} fraud")


# %% [markdown] id="md-8cb0da78"
# Implement `train_fraud_model(train_frame)` that returns a pair `(model, threshold)`:
#
# * `model` has `predict_proba(frame)` returning P(fraud) — an array of shape `(n,)` or `(n, 2)` (then
#   column 1 is used) — or is a plain callable `model(frame)` returning the same; `frame` holds the
#   `FEATURES` columns of new transactions, raw (do your own preprocessing: e.g. a scikit-learn `Pipeline`
#   with `md.make_preprocessor`);
# * `threshold` is a float in $[0, 1]$: a transaction is flagged when its P(fraud) $\ge$ `threshold`.
#
# **How it is judged.** The hidden test draws a **fresh world** (another seed, 200,000 transactions) and
# computes the expected cost per transaction of your decisions there, with $c_{FP}$ = €5 and
# $c_{FN}$ = €100. It compares it with a **tuned logistic baseline**: logistic regression on log-scaled,
# standardised numbers and one-hot categories, trained on the same `train_frame`, with the best of
# $C \in \{0.1, 1, 10\}$ and its threshold chosen **in hindsight** on the fresh data (the most favourable
# threshold it could possibly have). **Your cost must be at least 4% lower** than that baseline's.
# Training must finish in well under a minute (the course machines have 2 cores; aim for 10–20 s).
#
# The visible test only checks the interface and that your decisions on `fraud_valid` cost at most 85% of
# flagging nothing.
#
# Things to think about: the logistic baseline *with a tuned threshold* is hard to beat on everything
# linear; where is the non-linear signal (sections 2 and 6)? What does your loss optimise, and which
# threshold goes with it (section 5)? Is your threshold chosen on data the model was trained on?

# %% id="ex8-fraud-model" mlcourse={"stage": "modeling", "tier": 5} nbgrader={"grade": false, "grade_id": "ex8_fraud_model", "locked": false, "schema_version": 3, "solution": true, "task": false}
def train_fraud_model(train_frame):
    """Fit a fraud model on `train_frame` (FEATURES + is_fraud); return (model, threshold)."""
    ### BEGIN SOLUTION
    # Class weights equal to the business costs: the weighted log-loss is minimised by a
    # model whose 0.5 threshold is the cost-optimal decision, so no threshold has to be
    # estimated from data. Two different model families, averaged (soft voting): trees
    # find thresholds and interactions, the network smooth combinations.
    features = [c for c in train_frame.columns if c != "is_fraud"]
    X, y = train_frame[features], train_frame["is_fraud"].to_numpy()
    costs = {0: COST_FP, 1: COST_FN}
    trees = HistGradientBoostingClassifier(max_iter=60, learning_rate=0.1, max_leaf_nodes=15, min_samples_leaf=40,
                                           l2_regularization=1.0, early_stopping=False, class_weight=costs,
                                           random_state=0)
    net = md.MLPClassifier(hidden_layer_sizes=(64, 32), loss="weighted", class_weight=costs, max_epochs=8,
                           patience=None, seed=0)
    ensemble = md.SoftVotingClassifier([("trees", trees), ("network", net)])
    model = make_pipeline(md.make_preprocessor(X), ensemble).fit(X, y)
    return model, 0.5
    ### END SOLUTION


# %% id="ex8-fraud-model-tests" mlcourse={"stage": "modeling", "tier": 5} nbgrader={"grade": true, "grade_id": "ex8_fraud_model_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
def _t5_scores(model, frame):
    out = model.predict_proba(frame) if hasattr(model, "predict_proba") else model(frame)
    out = np.asarray(out, dtype=float)
    return out[:, 1] if out.ndim == 2 else out


def _t5_cost(y, scores, threshold):
    flag = scores >= threshold
    return (COST_FP * np.sum(flag & (y == 0)) + COST_FN * np.sum(~flag & (y == 1))) / len(y)


_t5_model, _t5_threshold = train_fraud_model(fraud_train)
_t5_threshold = float(_t5_threshold)
assert 0.0 <= _t5_threshold <= 1.0, f"expected a threshold in [0, 1], got {_t5_threshold}"
_t5_valid_scores = _t5_scores(_t5_model, fraud_valid[FEATURES])
assert _t5_valid_scores.shape == (len(fraud_valid),), \
    f"expected one P(fraud) per row of fraud_valid ({len(fraud_valid)}), got shape {_t5_valid_scores.shape}"
assert np.all(np.isfinite(_t5_valid_scores)), "expected finite scores"
_t5_y = fraud_valid["is_fraud"].to_numpy()
_t5_c = _t5_cost(_t5_y, _t5_valid_scores, _t5_threshold)
_t5_nothing = COST_FN * _t5_y.mean()
assert _t5_c <= 0.85 * _t5_nothing, \
    (f"on fraud_valid your decisions cost {_t5_c:.3f} EUR per transaction; flagging nothing costs "
     f"{_t5_nothing:.3f}: expected at most 85% of that ({0.85 * _t5_nothing:.3f}). Check your threshold.")

# %% id="ex8-fraud-model-hidden-tests" mlcourse={"stage": "modeling", "tier": 5} nbgrader={"grade": true, "grade_id": "ex8_fraud_model_hidden_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test judges your model on a fresh world.
_t5_check = _t5_scores(_t5_model, fraud_valid[FEATURES].head(100))
assert _t5_check.shape == (100,), f"expected 100 scores, got shape {_t5_check.shape}"
### BEGIN HIDDEN TESTS
from sklearn.compose import ColumnTransformer as _ColumnTransformer
from sklearn.impute import SimpleImputer as _SimpleImputer
from sklearn.preprocessing import FunctionTransformer as _FunctionTransformer
from sklearn.preprocessing import OneHotEncoder as _OneHotEncoder
from sklearn.preprocessing import StandardScaler as _StandardScaler


def _t5_oracle_cost(y, scores):
    # the cost of the best threshold in hindsight: flag the top k, for every k = 0..n
    order = np.argsort(-scores, kind="mergesort")
    ys, ss = y[order] == 1, scores[order]
    tp, fp = np.cumsum(ys), np.cumsum(~ys)
    last = np.r_[ss[1:] != ss[:-1], True]
    costs = (COST_FP * fp[last] + COST_FN * (ys.sum() - tp[last])) / len(y)
    return min(float(costs.min()), COST_FN * ys.sum() / len(y))


def _t5_categories(a):
    frame = pd.DataFrame(a).astype(object)
    return frame.where(frame.notna(), "missing").to_numpy()


_fresh = make_world(seed=SEED + 10_000, n_transactions=200_000).transactions
_yf = _fresh["is_fraud"].to_numpy()
_numeric = [c for c in FEATURES if pd.api.types.is_numeric_dtype(_fresh[c]) or pd.api.types.is_bool_dtype(_fresh[c])]
_logged = [c for c in _numeric if c in ("amount", "distance_km", "account_age_days", "tx_count_24h")]
_plain = [c for c in _numeric if c not in _logged]
_categorical = [c for c in FEATURES if c not in _numeric]
_pre = _ColumnTransformer([
    ("log", make_pipeline(_FunctionTransformer(lambda a: np.log1p(np.asarray(a, dtype=float))),
                          _SimpleImputer(strategy="median", add_indicator=True), _StandardScaler()), _logged),
    ("num", make_pipeline(_FunctionTransformer(lambda a: np.asarray(a, dtype=float)),
                          _SimpleImputer(strategy="median", add_indicator=True), _StandardScaler()), _plain),
    ("cat", make_pipeline(_FunctionTransformer(_t5_categories), _OneHotEncoder(handle_unknown="ignore")), _categorical),
]).fit(fraud_train[FEATURES])
_Xb, _Xf = _pre.transform(fraud_train[FEATURES]), _pre.transform(_fresh[FEATURES])
_baseline = min(
    _t5_oracle_cost(_yf, LogisticRegression(C=_C, max_iter=2000).fit(_Xb, fraud_train["is_fraud"]).predict_proba(_Xf)[:, 1])
    for _C in (0.1, 1.0, 10.0)
)
_t5_fresh_scores = _t5_scores(_t5_model, _fresh[FEATURES])
assert _t5_fresh_scores.shape == (len(_fresh),), f"expected {len(_fresh)} scores, got shape {_t5_fresh_scores.shape}"
_mine = _t5_cost(_yf, _t5_fresh_scores, _t5_threshold)
assert _mine <= 0.96 * _baseline, \
    (f"on a fresh world your decisions cost {_mine:.4f} EUR per transaction; the tuned logistic baseline "
     f"(threshold chosen in hindsight) costs {_baseline:.4f}: expected at most {0.96 * _baseline:.4f} "
     f"(4% cheaper), got {100 * (1 - _mine / _baseline):.1f}% cheaper")
### END HIDDEN TESTS

# %% [markdown] id="md-4dd229eb"
# ## Summary
#
# * A **baseline** sets the bar and checks the pipeline. The majority model shows what "doing nothing"
#   costs; logistic regression is fast, stable, calibrated and readable, but sees each feature only
#   linearly — no night, no interactions, one fraud pattern at a time.
# * Training minimises a **loss**. For logistic regression the log-loss is convex and its gradient is
#   $X^\top(p - y)/n$; **gradient descent** follows it, and the **learning rate** decides between crawling,
#   converging and diverging.
# * **Neural networks** learn their own features; train them on **mini-batches** with an **optimizer**
#   that adapts the steps (Adam, AdamW for weight decay; SGD with momentum when tuned).
# * **Bias and variance** show in the training history; **early stopping** with the best weights restored
#   stops at the right time. Fix every seed to make training **reproducible**.
# * **Imbalance** is handled at the threshold, in the loss (class weights, focal loss) or in the data
#   (resampling); weighting inflates probabilities, and weights equal to the costs make 0.5 the cost-optimal
#   threshold.
# * **Ensembles**: random forests cut variance, boosting cuts bias, voting and stacking combine different
#   models; stacking must learn from **out-of-fold** predictions.
# * Compare models by the **cost of their decisions** on data they have not seen, each with its own
#   threshold chosen on validation data.
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
#   under-reported group of stage 1, and what they do to each model.
# * Reading: Goodfellow, Bengio & Courville, *Deep Learning*, ch. 6–8; Lin et al. (2017), *Focal Loss for
#   Dense Object Detection*; Elkan (2001), *The Foundations of Cost-Sensitive Learning*; Wolpert (1992),
#   *Stacked Generalization*; Loshchilov & Hutter (2019), *Decoupled Weight Decay Regularization*.
