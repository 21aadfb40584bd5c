# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
#   language_info:
#     name: python
# ---

# %% [markdown] id="md-c9588e3a"
# # Stage 5 — Confidence scoring and calibration: trusting your model
#
# > *"Confidence scoring helps us understand how certain our model is about its predictions. A
# > well-calibrated model's confidence aligns well with its accuracy. Both pre-training (like
# > regularization techniques) and post-training methods (like Platt scaling) can help us calibrate our
# > models. While it's useful in identifying model issues, it's important to remember that a high
# > confidence score doesn't always mean a correct prediction and vice versa."*
# > — the ML engineer roadmap, stage 5
#
# A model that says "fraud, 0.9" is making two claims: *this transaction is fraud*, and *I am 90% sure*.
# Stage 4 judged the first claim. This notebook judges the second one — and fixes it when it is wrong,
# because every decision downstream (block or allow, send to an analyst or not, answer or abstain) reads
# the confidence as if it were a probability.
#
# We work with two models: the **fraud model** of our payments platform, whose data world also tells us
# the *true* probability of fraud of every transaction (something real life never does), and a small
# **neural network** that reads handwritten digits and is, like most modern networks, over-confident.
#
# **Learning objectives.** After this notebook you can
#
# 1. say what a calibrated confidence is, and read a reliability diagram;
# 2. compute the expected calibration error (ECE) and the Brier score, and explain why ECE depends on its
#    bins and is biased on small samples;
# 3. explain why over-parameterised networks trained long become over-confident;
# 4. calibrate after training with Platt scaling, isotonic regression and temperature scaling, and choose
#    between them by data size, flexibility and number of classes;
# 5. improve calibration before training with weight decay and label smoothing, and check and fix
#    calibration per slice;
# 6. show that high confidence does not mean a correct prediction, with examples;
# 7. turn confidence into decisions: abstain below a threshold chosen for a target precision, and give
#    prediction sets with a coverage guarantee (conformal prediction);
# 8. keep those decisions right when the data shift: a new fraud rate (label shift) or new inputs
#    (covariate shift, weighted conformal prediction).
#
# **Estimated time:** about 4 hours (≈ 1 h reading and running the demos, ≈ 3 h exercises).
#
# **Prerequisites:** stage 4 (precision, thresholds, log-loss); NumPy; the idea of a logistic regression
# and of a softmax output layer. PyTorch knowledge helps but is not required.
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
# | 1 | awareness | you can read a reliability diagram: confidence against accuracy per bin | 1 |
# | 2 | basic understanding | you can measure calibration (ECE, Brier score) | 2, 3 |
# | 3 | proficiency (Junior) | you can calibrate after training on held-out data that is not the traffic (Platt for another class mix), and choose Platt or isotonic from the data | 4, 5 |
# | 4 | advanced (Senior) | you can regularise a model for calibration before training, and calibrate per slice without breaking small slices | 6, 7 |
# | 5 | expert (Staff) | you can build decisions on confidence that hold up under shift: a review queue under label shift, prediction sets under covariate shift | 8, 9 |
#
# Tiers 3 to 5 are judged on hidden worlds: data drawn with seeds, sizes, class mixes and shifts that
# the notebook does not show. Pasting a demo cell does not pass them.

# %% [markdown] id="md-35aea5d4"
# ## Parameters
#
# The next cell is tagged `parameters` so that [papermill](https://papermill.readthedocs.io) can
# override it. `SEED` fixes all randomness. `FAST` only trims the demonstrations (fewer training runs and
# repetitions); the graded tests never depend on it.

# %% id="parameters" tags=["parameters"]
# Papermill parameters. FAST keeps CI runs short (it trims demos only, never tests).
SEED = 0
FAST = False

# %% id="setup"
import warnings

import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
import torch

# nbgrader's Validate fails any test cell that writes to stderr (the grader lets assertions
# decide), and warnings are noise in a first run: so we silence
# library warnings (convergence notes, deprecations, ...) once, here - and
# PyTorch's own "warn once" messages too.
warnings.filterwarnings("ignore")
torch.set_warn_always(False)

from mlcourse import calibration as cal
from mlcourse import evaluation as ev

N_REPEATS = 50 if FAST else 200      # random re-splits in the conformal demo
EPOCH_GRID = [5, 50, 200] if FAST else [5, 20, 50, 100, 200]

# The fraud model: scores for 60,000 transactions of the data world, split train/val/test.
fraud = cal.make_fraud_scores(seed=SEED, n_transactions=60_000)
val = fraud[fraud["split"] == "val"]
test = fraud[fraud["split"] == "test"]

# The digit reader: a small network trained long on 500 noisy 8x8 digit images.
digits = cal.load_digits_split(seed=SEED, n_train=500, n_val=500, noise=1.0)
net = cal.train_mlp(digits.X_train, digits.y_train, epochs=200, seed=SEED)
logits_val = cal.predict_logits(net, digits.X_val)      # shape (500, 10)
logits_test = cal.predict_logits(net, digits.X_test)    # shape (797, 10)
probs_val, probs_test = cal.softmax(logits_val), cal.softmax(logits_test)
fraud.head()

# %% [markdown] id="md-d36d1b5a"
# ## 1. What a confidence means
#
# A probabilistic classifier outputs a number between 0 and 1 for each prediction. It is **calibrated**
# when that number can be read as a frequency:
#
# $$P\big(\text{correct} \mid \text{confidence} = c\big) = c \quad \text{for every } c.$$
#
# Of all the transactions the fraud model scores 0.3, about 30% should be fraud; of all the digits the
# network reads with confidence 0.99, about 99% should be read right. Calibration is a property of a
# **set** of predictions, never of one prediction: a single transaction is fraud or it is not.
#
# Two properties of scores must not be confused (stage 4, section 7):
#
# * **ranking** (discrimination): are frauds scored higher than legitimate transactions? Measured by
#   ROC-AUC; unchanged by any increasing transformation of the scores;
# * **calibration**: do the numbers mean what they say? Changed by such transformations.
#
# `fraud` holds the model's `score` and, because the data world is a simulation, the
# `fraud_probability` with which each label was *actually drawn* — the perfect forecaster. Our model
# was trained with `class_weight="balanced"`, a popular remedy for rare classes. Compare:

# %% id="code-91bf5c80"
y_test, s_test, truth_test = test["is_fraud"].to_numpy(), test["score"].to_numpy(), test["fraud_probability"].to_numpy()
pd.DataFrame({
    "mean forecast": [s_test.mean(), truth_test.mean()],
    "observed fraud rate": [y_test.mean(), y_test.mean()],
    "ROC-AUC (ranking)": [ev.roc_auc(y_test, s_test), ev.roc_auc(y_test, truth_test)],
}, index=["model score", "true probability"]).round(4)

# %% [markdown] id="md-7c1c727c"
# The model ranks almost as well as the truth, yet its average "probability" is about ten times the
# fraud rate. Re-weighting the classes taught it to act as if half the transactions were fraud. Its
# ranking is useful; its numbers are not probabilities.
#
# ## 2. Reliability diagrams
#
# To check calibration, group the predictions into **bins** by confidence and compare, in each bin, the
# **mean confidence** with the **observed frequency** (the accuracy, or the share of positives). A
# calibrated model puts every bin on the diagonal; bins below it are **over-confident**, bins above it
# **under-confident**. Two ways to bin:
#
# * **equal-width** bins $[0, 0.1], (0.1, 0.2], \dots$ — easy to read, but on imbalanced data nearly
#   every example falls into the first bin and the others hold a handful each;
# * **equal-mass** (quantile) bins, each holding the same number of examples — every point is equally
#   reliable, and the bins follow the data.
#
# Always show *how many* examples each bin holds: a large gap in a bin of five examples is noise. The
# diagrams below have a histogram of the confidences along the bottom. The library's bins are
# right-closed, as in scikit-learn's `calibration_curve`.

# %% id="code-40656d4a"
fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
cal.plot_reliability_diagram(y_test, s_test, n_bins=10, strategy="quantile", ax=axes[0], label="model score")
cal.plot_reliability_diagram(y_test, truth_test, n_bins=10, strategy="quantile", ax=axes[0],
                             label="true probability", histogram=False)
axes[0].set_title("Fraud model (equal-mass bins)")
cal.plot_reliability_diagram(digits.y_test, probs_test, n_bins=10, ax=axes[1], label="digit network")
axes[1].set_title("Digit network, top-label confidence")
plt.tight_layout()
plt.show()
cal.reliability_bins(y_test, s_test, n_bins=10, strategy="quantile").to_frame().round(4)


# %% [markdown] id="md-8b91cf52"
# For a **multi-class** model the usual diagram is *top-label*: the confidence is the largest
# probability, and "correct" means the arg-max class is the true one (Guo et al., 2017). The digit
# network is over-confident in every bin: when it says 0.99 it is right far less often.
#
# For the fraud model, the table shows a gap in every bin: even in the top tenth of the scores, where the
# model says about 0.8 on average, only a small fraction of the transactions are fraud.
#
# ### Exercise 1 (tier 1) — the numbers behind a reliability diagram
#
# Implement `bin_stats(confidence, outcome, n_bins=10)` with NumPy (no `sklearn`, no `mlcourse`):
#
# * `confidence`: 1-D array of values in $[0, 1]$; `outcome`: 1-D array of 0/1 (1 = correct, or 1 =
#   positive), same length;
# * use `n_bins` **equal-width** bins on $[0, 1]$ with edges `np.linspace(0, 1, n_bins + 1)`. Bins are
#   **right-closed**: a confidence equal to an inner edge belongs to the lower bin, 0 belongs to the
#   first bin and 1 to the last (hint: `np.searchsorted(edges[1:-1], confidence, side="left")` gives each
#   value's bin);
# * return a tuple `(count, mean_confidence, accuracy)` of three arrays of length `n_bins`: the number
#   of examples in each bin, their mean confidence and their mean outcome. Use `np.nan` for the mean
#   confidence and accuracy of an **empty** bin.

# %% id="ex1-bin-stats" mlcourse={"stage": "calibration", "tier": 1, "forbid": ["sklearn.calibration", "mlcourse.calibration"]} nbgrader={"grade": false, "grade_id": "ex1_bin_stats", "locked": false, "schema_version": 3, "solution": true, "task": false}
def bin_stats(confidence, outcome, n_bins=10):
    """Per equal-width bin: (count, mean confidence, mean outcome); NaN means in empty bins."""
    ### BEGIN SOLUTION
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bin_id = np.searchsorted(edges[1:-1], confidence)
    count = np.bincount(bin_id, minlength=n_bins)
    mean_confidence = np.bincount(bin_id, weights=confidence, minlength=n_bins) / count
    accuracy = np.bincount(bin_id, weights=outcome, minlength=n_bins) / count
    return count, mean_confidence, accuracy
    ### END SOLUTION

# %% id="ex1-mistake-left-closed" mistake={"why": "left-closed bins (np.digitize): a confidence on an inner edge goes to the upper bin"}
def bin_stats(confidence, outcome, n_bins=10):
    confidence, outcome = np.asarray(confidence, dtype=float), np.asarray(outcome, dtype=float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bin_id = np.clip(np.digitize(confidence, edges) - 1, 0, n_bins - 1)
    count = np.bincount(bin_id, minlength=n_bins)
    mean_confidence = np.bincount(bin_id, weights=confidence, minlength=n_bins) / count
    accuracy = np.bincount(bin_id, weights=outcome, minlength=n_bins) / count
    return count, mean_confidence, accuracy

# %% id="ex1-mistake-empty-as-zero" mistake={"why": "gives empty bins a mean confidence and accuracy of 0 instead of NaN"}
def bin_stats(confidence, outcome, n_bins=10):
    confidence, outcome = np.asarray(confidence, dtype=float), np.asarray(outcome, dtype=float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bin_id = np.searchsorted(edges[1:-1], confidence)
    count = np.bincount(bin_id, minlength=n_bins)
    safe = np.maximum(count, 1)
    return (count, np.bincount(bin_id, weights=confidence, minlength=n_bins) / safe,
            np.bincount(bin_id, weights=outcome, minlength=n_bins) / safe)

# %% id="ex1-mistake-no-minlength" mistake={"why": "np.bincount without minlength: the empty bins at the top drop out"}
def bin_stats(confidence, outcome, n_bins=10):
    confidence, outcome = np.asarray(confidence, dtype=float), np.asarray(outcome, dtype=float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bin_id = np.searchsorted(edges[1:-1], confidence)
    count = np.bincount(bin_id)
    return count, np.bincount(bin_id, weights=confidence) / count, np.bincount(bin_id, weights=outcome) / count

# %% id="ex1-bin-stats-tests" mlcourse={"stage": "calibration", "tier": 1} nbgrader={"grade": true, "grade_id": "ex1_bin_stats_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Five bins of width 0.2. By hand: 0.05 and 0.15 fall in the first bin (mean confidence 0.1, no positive),
# 0.25 and 0.3 in the second (mean 0.275, one positive of two), the third and fourth bins are empty,
# 0.85 and 0.95 fall in the last (mean 0.9, both positive).
_got = bin_stats(np.array([0.05, 0.15, 0.25, 0.3, 0.85, 0.95]), np.array([0, 0, 1, 0, 1, 1]), n_bins=5)
assert len(_got) == 3, f"expected a tuple (count, mean_confidence, accuracy), got {type(_got)}"
_count, _mc, _acc = (np.asarray(v, dtype=float) for v in _got)
assert _count.shape == _mc.shape == _acc.shape == (5,), \
    f"expected three arrays of length n_bins=5, got shapes {_count.shape}, {_mc.shape}, {_acc.shape}"
assert np.array_equal(_count, [2, 2, 0, 0, 2]), f"counts: expected [2, 2, 0, 0, 2], got {_count.tolist()}"
assert np.allclose(_mc[[0, 1, 4]], [0.1, 0.275, 0.9]) and np.allclose(_acc[[0, 1, 4]], [0.0, 0.5, 1.0]), \
    f"non-empty bins: expected mean confidence [0.1, 0.275, 0.9] and accuracy [0, 0.5, 1], got {_mc[[0, 1, 4]]}, {_acc[[0, 1, 4]]}"
assert np.all(np.isnan(_mc[[2, 3]])) and np.all(np.isnan(_acc[[2, 3]])), \
    f"empty bins: expected NaN mean confidence and accuracy, got {_mc[[2, 3]]}, {_acc[[2, 3]]}"

# %% id="ex1-bin-stats-edge-tests" mlcourse={"stage": "calibration", "tier": 1} nbgrader={"grade": true, "grade_id": "ex1_bin_stats_edge_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Values on the edges, five bins: right-closed, so 0.0 and 0.2 go to the first bin, 0.4 to the second,
# 0.5 to the third, 0.8 to the fourth and 1.0 to the last.
_got = bin_stats(np.array([0.0, 0.2, 0.4, 0.5, 0.8, 1.0]), np.array([1, 0, 1, 0, 1, 1]), n_bins=5)
_count, _mc, _acc = (np.asarray(v, dtype=float) for v in _got)
assert np.array_equal(_count, [2, 1, 1, 1, 1]), f"values on bin edges: expected counts [2, 1, 1, 1, 1], got {_count.tolist()}"
assert np.allclose(_mc, [0.1, 0.4, 0.5, 0.8, 1.0]) and np.allclose(_acc, [0.5, 1.0, 0.0, 1.0, 1.0]), \
    f"values on bin edges: expected mean confidence [0.1, 0.4, 0.5, 0.8, 1] and accuracy [0.5, 1, 0, 1, 1], got {_mc}, {_acc}"
# The top bins may be empty: 0.1 and 0.2 both fall in the first of four bins.
_count, _mc, _acc = (np.asarray(v, dtype=float) for v in bin_stats(np.array([0.1, 0.2]), np.array([1, 0]), n_bins=4))
assert _count.shape == (4,) and np.array_equal(_count, [2, 0, 0, 0]), \
    f"empty top bins: expected counts [2, 0, 0, 0], got {_count.tolist()}"
assert np.isclose(_mc[0], 0.15) and np.isclose(_acc[0], 0.5) and np.all(np.isnan(_mc[1:])) and np.all(np.isnan(_acc[1:])), \
    f"empty top bins: expected mean confidence [0.15, nan, nan, nan] and accuracy [0.5, nan, nan, nan], got {_mc}, {_acc}"

# %% id="ex1-bin-stats-hidden-tests" mlcourse={"stage": "calibration", "tier": 1} nbgrader={"grade": true, "grade_id": "ex1_bin_stats_hidden_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test compares your bins with scikit-learn's calibration_curve on random data
# and on the digit network.
_count = np.asarray(bin_stats(np.max(probs_test, axis=1), (np.argmax(probs_test, axis=1) == digits.y_test).astype(int))[0])
assert _count.sum() == len(digits.y_test), f"the digit network: expected counts adding up to {len(digits.y_test)}, got {_count.sum()}"
### BEGIN HIDDEN TESTS
from sklearn.calibration import calibration_curve as _sk_calibration_curve

_rng_h = np.random.default_rng(101)
_p_h = _rng_h.random(3000)
_cases_h = [
    (_p_h, (_rng_h.random(3000) < _p_h).astype(int), 10),
    (_p_h, (_rng_h.random(3000) < _p_h ** 3).astype(int), 15),
    (np.max(probs_test, axis=1), (np.argmax(probs_test, axis=1) == digits.y_test).astype(int), 10),
    (np.round(_rng_h.random(500), 1), _rng_h.integers(0, 2, 500), 10),                 # many values on edges
]
for _conf_h, _out_h, _nb_h in _cases_h:
    _count_h, _mc_h, _acc_h = (np.asarray(v, dtype=float) for v in bin_stats(_conf_h, _out_h, n_bins=_nb_h))
    _edges_h = np.linspace(0, 1, _nb_h + 1)
    _expected_h = np.bincount(np.searchsorted(_edges_h[1:-1], _conf_h), minlength=_nb_h)
    assert np.array_equal(_count_h, _expected_h), f"counts: expected {_expected_h.tolist()}, got {_count_h.tolist()}"
    _true_h, _pred_h = _sk_calibration_curve(_out_h, _conf_h, n_bins=_nb_h, strategy="uniform")
    _keep_h = _expected_h > 0
    assert np.allclose(_mc_h[_keep_h], _pred_h) and np.allclose(_acc_h[_keep_h], _true_h), \
        f"n_bins={_nb_h}: mean confidence and accuracy per bin differ from scikit-learn's calibration_curve"
### END HIDDEN TESTS


# %% [markdown] id="md-2353ed81"
# ## 3. Measuring calibration: ECE, MCE, Brier score, log-loss
#
# **Expected calibration error.** Summarise the diagram by the average gap, weighted by how many
# examples each bin holds:
#
# $$\text{ECE} = \sum_{b=1}^{B} \frac{n_b}{n}\,\big|\,\text{acc}_b - \text{conf}_b\,\big|.$$
#
# The **maximum calibration error** (MCE) is the largest gap of a non-empty bin: relevant when any
# confidence level may be acted on, but very noisy.
#
# ECE is the most reported calibration number, and it has pitfalls you must know:
#
# 1. **It depends on the bins.** Change their number or their type and the ECE changes.
# 2. **It is biased upwards.** With few examples per bin, the observed accuracy of a bin scatters around
#    the truth, and $|\cdot|$ turns the scatter into a positive error. Even the perfect forecaster gets
#    ECE > 0, more so on small samples.
# 3. **It ignores usefulness.** Predicting the base rate (2%) for every transaction is perfectly
#    calibrated: ECE ≈ 0, and the model is worthless.
#
# The world's true probabilities let us see pitfalls 1 and 2 directly:

# %% id="code-714c84be"
rng = np.random.default_rng(SEED)
rows = []
for n in [500, 2_000, len(test)]:
    idx = rng.choice(len(test), size=n, replace=False)
    for n_bins in [5, 15, 50]:
        rows.append({"examples": n, "bins": n_bins,
                     "ECE of the TRUE probability": cal.expected_calibration_error(y_test[idx], truth_test[idx], n_bins=n_bins, strategy="quantile"),
                     "ECE of the model score": cal.expected_calibration_error(y_test[idx], s_test[idx], n_bins=n_bins, strategy="quantile")})
pd.DataFrame(rows).pivot(index="examples", columns="bins").round(4)

# %% [markdown] id="md-b7bddb34"
# The true probability is perfectly calibrated by construction, yet its estimated ECE is not 0: it
# grows with the number of bins and shrinks with the number of examples. (The model's ECE hardly moves:
# its gap is so large, and of the same sign in every bin, that no binning can hide it. The bias matters
# when you compare models that are *nearly* calibrated — after the fixes of section 6.) Report ECE with its bins and
# its sample size, compare models only on the same data with the same bins, and prefer equal-mass
# bins on imbalanced data.
#
# **Proper scoring rules** do not need bins. The **Brier score** is the mean squared error of the
# probabilities,
#
# $$\text{BS} = \frac1n \sum_i (p_i - y_i)^2 \quad\text{(binary)},\qquad
# \text{BS} = \frac1n \sum_i \sum_k (p_{ik} - [y_i = k])^2 \quad\text{(multi-class)},$$
#
# and the **log-loss** (negative log-likelihood) is $-\frac1n\sum_i \log p_{i, y_i}$. Both are *proper*:
# in expectation they are minimised by the true probabilities, so they reward calibration and sharpness
# together. Log-loss punishes a confident mistake without limit; the Brier score is bounded.
#
# **Murphy's decomposition** of the Brier score (binary, with bins $b$ of mean forecast $\bar p_b$,
# observed frequency $\bar o_b$ and base rate $\bar o$) explains what it measures:
#
# $$\text{BS} \approx \underbrace{\sum_b \tfrac{n_b}{n} (\bar p_b - \bar o_b)^2}_{\text{reliability (calibration)}}
# - \underbrace{\sum_b \tfrac{n_b}{n} (\bar o_b - \bar o)^2}_{\text{resolution (discrimination)}}
# + \underbrace{\bar o (1 - \bar o)}_{\text{uncertainty (the data)}}.$$

# %% id="code-b3c634fa"
base_rate = np.full_like(s_test, y_test.mean())
table = {}
for name, p in {"model score": s_test, "true probability": truth_test, "constant base rate": base_rate}.items():
    d = cal.brier_decomposition(y_test, p, n_bins=10, strategy="quantile")
    table[name] = {"ECE (15 equal-mass bins)": cal.expected_calibration_error(y_test, p, strategy="quantile"),
                   "Brier": d.brier, "reliability": d.reliability, "resolution": d.resolution,
                   "uncertainty": d.uncertainty, "log-loss": cal.negative_log_likelihood(y_test, p)}
pd.DataFrame(table).T.round(5)


# %% [markdown] id="md-38a75b73"
# The constant forecast is as calibrated as the truth (reliability ≈ 0) but has no resolution. The model
# has more resolution than the constant but a huge reliability term: its Brier score is worse than
# predicting 2% for everyone. Calibration can remove the reliability term; it can never add resolution.
#
# ### Exercise 2 (tier 2) — expected calibration error
#
# Implement `ece(confidence, outcome, n_bins=15)` with NumPy: the ECE over `n_bins` equal-width,
# right-closed bins on $[0, 1]$, as defined above (empty bins contribute nothing). You may call your
# `bin_stats`. Return a float.

# %% id="ex2-ece" mlcourse={"stage": "calibration", "tier": 2, "forbid": ["sklearn.calibration", "mlcourse.calibration"]} nbgrader={"grade": false, "grade_id": "ex2_ece", "locked": false, "schema_version": 3, "solution": true, "task": false}
def ece(confidence, outcome, n_bins=15):
    """Expected calibration error over equal-width, right-closed bins."""
    ### BEGIN SOLUTION
    confidence = np.asarray(confidence)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bin_id = np.searchsorted(edges[1:-1], confidence)
    # sum over bins of (n_b / n) * |mean conf - mean outcome| = sum over bins of |sum of (conf - outcome)| / n
    gap = np.bincount(bin_id, weights=confidence - np.asarray(outcome))
    return float(np.sum(np.abs(gap)) / confidence.size)
    ### END SOLUTION

# %% id="ex2-mistake-unweighted" mistake={"why": "averages the gaps of the non-empty bins without weighting them by their counts"}
def ece(confidence, outcome, n_bins=15):
    confidence, outcome = np.asarray(confidence, dtype=float), np.asarray(outcome, dtype=float)
    bin_id = np.searchsorted(np.linspace(0, 1, n_bins + 1)[1:-1], confidence)
    count = np.bincount(bin_id, minlength=n_bins)
    gap = np.abs(np.bincount(bin_id, weights=confidence - outcome, minlength=n_bins))
    return float(np.mean(gap[count > 0] / count[count > 0]))

# %% id="ex2-mistake-mce" mistake={"why": "returns the largest gap of a non-empty bin (the MCE) instead of the weighted average"}
def ece(confidence, outcome, n_bins=15):
    confidence, outcome = np.asarray(confidence, dtype=float), np.asarray(outcome, dtype=float)
    bin_id = np.searchsorted(np.linspace(0, 1, n_bins + 1)[1:-1], confidence)
    count = np.bincount(bin_id, minlength=n_bins)
    gap = np.abs(np.bincount(bin_id, weights=confidence - outcome, minlength=n_bins))
    return float(np.max(gap[count > 0] / count[count > 0]))

# %% id="ex2-mistake-per-example" mistake={"why": "the mean absolute difference between each confidence and its 0/1 outcome: no bins at all"}
def ece(confidence, outcome, n_bins=15):
    return float(np.mean(np.abs(np.asarray(confidence, dtype=float) - np.asarray(outcome, dtype=float))))

# %% id="ex2-mistake-signed" mistake={"why": "sums the signed gaps, so over- and under-confident bins cancel"}
def ece(confidence, outcome, n_bins=15):
    return float(abs(np.mean(np.asarray(confidence, dtype=float) - np.asarray(outcome, dtype=float))))

# %% id="ex2-mistake-left-closed" mistake={"why": "left-closed bins (np.digitize): a confidence on an inner edge goes to the upper bin"}
def ece(confidence, outcome, n_bins=15):
    confidence, outcome = np.asarray(confidence, dtype=float), np.asarray(outcome, dtype=float)
    bin_id = np.clip(np.digitize(confidence, np.linspace(0, 1, n_bins + 1)) - 1, 0, n_bins - 1)
    return float(np.sum(np.abs(np.bincount(bin_id, weights=confidence - outcome))) / confidence.size)

# %% id="ex2-ece-tests" mlcourse={"stage": "calibration", "tier": 2} nbgrader={"grade": true, "grade_id": "ex2_ece_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Two bins. By hand: 0.1 and 0.3 fall in [0, 0.5] (mean confidence 0.2, accuracy 1/2, gap 0.3, weight 2/5),
# 0.7, 0.8 and 0.9 in (0.5, 1] (mean 0.8, accuracy 1, gap 0.2, weight 3/5): ECE = 0.12 + 0.12 = 0.24.
_got = ece(np.array([0.1, 0.3, 0.7, 0.8, 0.9]), np.array([0, 1, 1, 1, 1]), n_bins=2)
assert isinstance(_got, (float, np.floating)), f"expected a float, got {type(_got)}"
assert np.isclose(float(_got), 0.24), f"expected ECE 0.24 (gaps 0.3 and 0.2 weighted by 2/5 and 3/5), got {_got}"
# Calibrated within its bin: four predictions at 0.75, three of them right: ECE 0.
_got = ece(np.full(4, 0.75), np.array([1, 1, 0, 1]), n_bins=10)
assert np.isclose(float(_got), 0.0, atol=1e-12), f"confidence 0.75 with 3 of 4 right: expected ECE 0, got {_got}"

# %% id="ex2-ece-edge-tests" mlcourse={"stage": "calibration", "tier": 2} nbgrader={"grade": true, "grade_id": "ex2_ece_edge_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# On an edge: 0.5 belongs to [0, 0.5] (gap |0.5 - 0| = 0.5), 0.9 to (0.5, 1] (gap 0.1): ECE = (0.5 + 0.1) / 2 = 0.3.
_got = ece(np.array([0.5, 0.9]), np.array([0, 1]), n_bins=2)
assert np.isclose(float(_got), 0.3), f"0.5 on the edge of two bins: expected ECE 0.3, got {_got}"
# The default is 15 bins: 0.52 lies in (7/15, 8/15] and 0.58 in (8/15, 9/15]: gaps 0.52 and 0.42, ECE 0.47.
# (With 10 bins both would share (0.5, 0.6] and the ECE would be 0.05.)
_got = ece(np.array([0.52, 0.58]), np.array([0, 1]))
assert np.isclose(float(_got), 0.47), f"the default of 15 bins: expected ECE 0.47, got {_got}"

# %% id="ex2-ece-hidden-tests" mlcourse={"stage": "calibration", "tier": 2} nbgrader={"grade": true, "grade_id": "ex2_ece_hidden_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test compares your ECE with a reference on random data, the digit network and
# the fraud scores.
_got = ece(np.max(probs_test, axis=1), (np.argmax(probs_test, axis=1) == digits.y_test).astype(int))
assert 0.0 <= float(_got) <= 1.0, f"the digit network: expected an ECE in [0, 1], got {_got}"
### BEGIN HIDDEN TESTS
def _ece_reference_h(conf, out, n_bins):
    edges = np.linspace(0, 1, n_bins + 1)
    total = 0.0
    for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
        inside = (conf > lo) & (conf <= hi) if i else (conf >= lo) & (conf <= hi)
        if inside.any():
            total += inside.mean() * abs(conf[inside].mean() - out[inside].mean())
    return total

_rng_h = np.random.default_rng(202)
_p_h = _rng_h.random(5000)
_cases_h = [
    (_p_h, (_rng_h.random(5000) < _p_h).astype(int), 15),
    (_p_h, (_rng_h.random(5000) < _p_h ** 4).astype(int), 15),
    (np.max(probs_test, axis=1), (np.argmax(probs_test, axis=1) == digits.y_test).astype(int), 7),
    (test["score"].to_numpy(), test["is_fraud"].to_numpy(), 10),
]
for _conf_h, _out_h, _nb_h in _cases_h:
    _expected_h = _ece_reference_h(_conf_h, _out_h, _nb_h)
    _got_h = ece(_conf_h, _out_h, n_bins=_nb_h)
    assert np.isclose(float(_got_h), _expected_h, atol=1e-9), f"n_bins={_nb_h}: expected ECE {_expected_h:.6f}, got {_got_h}"
### END HIDDEN TESTS


# %% [markdown] id="md-355c791f"
# ### Exercise 3 (tier 2) — the Brier score
#
# Implement `brier(y_true, probs)` with NumPy:
#
# * if `probs` is **1-D**, it holds $P(y = 1)$ and `y_true` holds 0/1 labels: return
#   $\frac1n\sum_i (p_i - y_i)^2$;
# * if `probs` is **2-D** of shape `(n, K)`, `y_true` holds class indices $0..K-1$: return
#   $\frac1n\sum_i \sum_k (p_{ik} - [y_i = k])^2$ (not halved).
#
# Return a float.

# %% id="ex3-brier" mlcourse={"stage": "calibration", "tier": 2, "forbid": ["sklearn.metrics", "mlcourse.calibration"]} nbgrader={"grade": false, "grade_id": "ex3_brier", "locked": false, "schema_version": 3, "solution": true, "task": false}
def brier(y_true, probs):
    """Brier score for binary (1-D probs) or multi-class (2-D probs) predictions."""
    ### BEGIN SOLUTION
    y_true = np.asarray(y_true)
    probs = np.asarray(probs)
    if probs.ndim == 1:
        return float(np.mean((probs - y_true) ** 2))
    onehot = np.eye(probs.shape[1])[y_true]
    return float(np.mean(np.sum((probs - onehot) ** 2, axis=1)))
    ### END SOLUTION

# %% id="ex3-mistake-halved" mistake={"why": "halves the multi-class score (scikit-learn's scale_by_half), which the definition does not"}
def brier(y_true, probs):
    y_true, probs = np.asarray(y_true), np.asarray(probs, dtype=float)
    if probs.ndim == 1:
        return float(np.mean((probs - y_true) ** 2))
    onehot = np.eye(probs.shape[1])[y_true]
    return float(np.mean(np.sum((probs - onehot) ** 2, axis=1)) / 2)

# %% id="ex3-mistake-true-class-only" mistake={"why": "scores only the probability of the true class, (1 - p_y)^2, and forgets the other classes"}
def brier(y_true, probs):
    y_true, probs = np.asarray(y_true), np.asarray(probs, dtype=float)
    if probs.ndim == 1:
        return float(np.mean((probs - y_true) ** 2))
    return float(np.mean((1 - probs[np.arange(len(y_true)), y_true]) ** 2))

# %% id="ex3-mistake-mean-over-cells" mistake={"why": "averages over every cell of the (n, K) array, which divides the score by K"}
def brier(y_true, probs):
    y_true, probs = np.asarray(y_true), np.asarray(probs, dtype=float)
    if probs.ndim == 1:
        return float(np.mean((probs - y_true) ** 2))
    return float(np.mean((probs - np.eye(probs.shape[1])[y_true]) ** 2))

# %% id="ex3-brier-tests" mlcourse={"stage": "calibration", "tier": 2} nbgrader={"grade": true, "grade_id": "ex3_brier_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Binary, by hand: (0.9 - 1)^2 + (0.2 - 0)^2 + (0.6 - 1)^2 + (0.5 - 0)^2 = 0.01 + 0.04 + 0.16 + 0.25 = 0.46; / 4 = 0.115.
_got = brier(np.array([1, 0, 1, 0]), np.array([0.9, 0.2, 0.6, 0.5]))
assert isinstance(_got, (float, np.floating)), f"expected a float, got {type(_got)}"
assert np.isclose(float(_got), 0.115), f"binary: expected Brier 0.115, got {_got}"
# A perfect forecast scores 0, the worst possible one 1.
assert np.isclose(float(brier(np.array([1, 0]), np.array([1.0, 0.0]))), 0.0), "binary: expected 0 for a perfect forecast"
assert np.isclose(float(brier(np.array([1, 0]), np.array([0.0, 1.0]))), 1.0), "binary: expected 1 for the worst forecast"

# %% id="ex3-brier-multiclass-tests" mlcourse={"stage": "calibration", "tier": 2} nbgrader={"grade": true, "grade_id": "ex3_brier_multiclass_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Three classes, by hand: row 1 (truth 0): 0.3^2 + 0.2^2 + 0.1^2 = 0.14; row 2 (truth 2): 0.2^2 + 0.3^2 + 0.5^2 = 0.38.
# Mean 0.26 (not halved).
_got = brier(np.array([0, 2]), np.array([[0.7, 0.2, 0.1], [0.2, 0.3, 0.5]]))
assert np.isclose(float(_got), 0.26), f"three classes: expected Brier 0.26, got {_got}"
# Two classes as a 2-D array count both columns: 2 * 0.2^2 = 0.08 and 2 * 0.4^2 = 0.32: mean 0.2.
_got = brier(np.array([1, 0]), np.array([[0.2, 0.8], [0.6, 0.4]]))
assert np.isclose(float(_got), 0.2), f"two classes as a 2-D array: expected Brier 0.2, got {_got}"
### BEGIN HIDDEN TESTS
from sklearn.metrics import brier_score_loss as _sk_brier

_rng_h = np.random.default_rng(303)
_z_h = _rng_h.normal(size=(300, 4))
_pm_h = np.exp(_z_h) / np.exp(_z_h).sum(axis=1, keepdims=True)
_ym_h = _rng_h.integers(0, 4, 300)
for _yt_h, _pp_h, _k_h in [(_ym_h, _pm_h, 4), (digits.y_test, probs_test, 10)]:
    _expected_h = _sk_brier(_yt_h, _pp_h, labels=np.arange(_k_h), scale_by_half=False)
    _got_h = brier(_yt_h, _pp_h)
    assert np.isclose(float(_got_h), _expected_h, atol=1e-9), f"multi-class ({_k_h} classes): expected Brier {_expected_h:.6f}, got {_got_h}"
### END HIDDEN TESTS

# %% id="ex3-brier-hidden-tests" mlcourse={"stage": "calibration", "tier": 2} nbgrader={"grade": true, "grade_id": "ex3_brier_hidden_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test compares your Brier score with scikit-learn's on random and fraud data.
_got = brier(test["is_fraud"].to_numpy(), test["score"].to_numpy())
assert 0.0 <= float(_got) <= 1.0, f"the fraud scores: expected a Brier score in [0, 1], got {_got}"
### BEGIN HIDDEN TESTS
from sklearn.metrics import brier_score_loss as _sk_brier

_rng_h = np.random.default_rng(304)
for _yt_h, _pp_h in [(_rng_h.integers(0, 2, 400), _rng_h.random(400)), (test["is_fraud"].to_numpy(), test["score"].to_numpy())]:
    _expected_h = _sk_brier(_yt_h, _pp_h)
    _got_h = brier(_yt_h, _pp_h)
    assert np.isclose(float(_got_h), _expected_h, atol=1e-9), f"binary: expected Brier {_expected_h:.6f}, got {_got_h}"
### END HIDDEN TESTS


# %% [markdown] id="md-34293f43"
# ## 4. High confidence does not mean a correct prediction
#
# A confidence of 0.99 is a statement about the *many* predictions made at 0.99: about one in a hundred
# is wrong — if the model is calibrated. An over-confident model is wrong far more often, and even a
# perfectly calibrated one is sometimes wrong with high confidence, *by definition*. Here are the digit
# network's most confident mistakes:

# %% id="code-60135cdb"
conf_test = probs_test.max(axis=1)
pred_test = probs_test.argmax(axis=1)
wrong = np.flatnonzero(pred_test != digits.y_test)
worst = wrong[np.argsort(-conf_test[wrong])][:8]
print(f"predictions with confidence >= 0.99: {np.sum(conf_test >= 0.99)}, of which wrong: "
      f"{np.sum((conf_test >= 0.99) & (pred_test != digits.y_test))}")
fig, axes = plt.subplots(1, 8, figsize=(13, 2.2))
for ax, i in zip(axes, worst):
    ax.imshow(digits.X_test[i].reshape(8, 8), cmap="gray_r")
    ax.set_title(f"said {pred_test[i]} ({conf_test[i]:.3f})\nwas {digits.y_test[i]}", fontsize=9)
    ax.axis("off")
plt.show()

# %% [markdown] id="md-c26d4d3e"
# The fraud world has its own confidently-wrong cases: **hard negatives**, legitimate transactions that
# look like fraud (a traveller buying electronics abroad at night). They make up about 1% of the traffic
# but a large share of the top-scored legitimate transactions. No calibration method can tell them apart
# from fraud — they have the same features. Calibration makes the *average* honest ("of these alerts,
# about half are real"); it does not make any single prediction right.

# %% id="code-e4316c17"
top = test.nlargest(300, "score")
pd.DataFrame({
    "share that is fraud": [top["is_fraud"].mean(), test["is_fraud"].mean()],
    "share of hard negatives": [top["is_hard_negative"].mean(), test["is_hard_negative"].mean()],
    "mean model score": [top["score"].mean(), test["score"].mean()],
}, index=["300 highest scores", "all test transactions"]).round(3)

# %% [markdown] id="md-3a18a12a"
# And *vice versa*: low confidence does not mean wrong. The network is right on many of its
# least-confident predictions; confidence is a statement about frequencies, not a verdict.
#
# ## 5. Why modern networks are over-confident
#
# Guo et al. (2017, *On calibration of modern neural networks*) found that deep networks became much
# less calibrated as they became more accurate. The reasons: large capacity, long training, little
# weight decay (and batch normalisation). The mechanism is **overfitting the log-likelihood**: once the
# training examples are all classified correctly, cross-entropy still falls by making the logits larger,
# so the training loss keeps improving while the predicted probabilities on new data run towards 0 and 1.
# Test accuracy stays flat; test log-loss rises; confidence outruns accuracy.
#
# We retrain our digit network for longer and longer, everything else fixed:

# %% id="code-c19ff5c7"
rows = {}
for epochs in EPOCH_GRID:
    model = cal.train_mlp(digits.X_train, digits.y_train, epochs=epochs, seed=SEED)
    p = cal.softmax(cal.predict_logits(model, digits.X_test))
    rows[epochs] = {"test accuracy": np.mean(p.argmax(axis=1) == digits.y_test),
                    "mean confidence": p.max(axis=1).mean(),
                    "ECE": cal.expected_calibration_error(digits.y_test, p),
                    "test log-loss": cal.negative_log_likelihood(digits.y_test, p)}
curve = pd.DataFrame(rows).T.rename_axis("epochs")
curve.plot(subplots=True, layout=(1, 4), figsize=(13, 3), marker="o", legend=False,
           title=list(curve.columns))
plt.tight_layout()
plt.show()
curve.round(4)

# %% [markdown] id="md-c542023d"
# ## 6. Calibrating after training
#
# Post-hoc calibration learns a map from the model's score to a calibrated probability, **on held-out
# data** — never on the training data, where the model is over-confident in its own favour. We use the
# validation split (`val`, or `digits.X_val`) to fit the map and the test split to judge it.
#
# ### 6.1 Platt scaling
#
# Platt (1999) fits a logistic regression on a single feature, the model's score $s$ (a logit or a
# decision-function value):
#
# $$\hat p = \sigma(a\,s + b) = \frac{1}{1 + e^{-(a s + b)}}.$$
#
# Two parameters: little data needed, little risk of overfitting. It fixes miscalibration that is a
# **shift** ($b$: a wrong base rate, as class re-weighting creates) and a **stretch** ($a < 1$: over-,
# $a > 1$: under-confidence). It keeps the ranking when $a > 0$. Platt also suggested fitting against
# slightly smoothed targets, $\frac{n_+ + 1}{n_+ + 2}$ and $\frac{1}{n_- + 2}$ instead of 1 and 0, which
# keeps the fit finite when the validation scores separate the classes perfectly; scikit-learn's
# `CalibratedClassifierCV(method="sigmoid")` does this.

# %% id="code-38e3d5f1"
platt = cal.PlattScaler().fit(val["logit"], val["is_fraud"])
p_platt = platt.predict(test["logit"])
print(platt)
ax = cal.plot_reliability_diagram(y_test, s_test, n_bins=10, strategy="quantile", label="raw score")
cal.plot_reliability_diagram(y_test, p_platt, n_bins=10, strategy="quantile", ax=ax, label="Platt", histogram=False)
plt.show()


# %% [markdown] id="md-b603d5f0"
# The intercept is strongly negative: it undoes the re-weighting. The slope is a little below 1: the
# scores also needed a mild softening. Most of the fix is a shift.
#
# ### Calibrating on a sample that is not the traffic
#
# Labels cost money, so fraud teams rarely label a uniform sample of traffic. A common design keeps
# **every** known fraud (each chargeback is labelled anyway) and a random few percent of the legitimate
# transactions: an *enriched* sample (stage 4). A calibrator fitted on such a sample learns the sample's
# fraud rate, not the traffic's: ask it about a transaction and it answers for a world where fraud is
# ten times as common. What the sample does tell you is how the score separates the two classes,
# because within each class it is a random sample of the traffic.
#
# ### Exercise 4 (tier 3) — Platt scaling for the traffic, fitted on an enriched sample
#
# Implement `platt_at_prevalence(logits, y, prevalence)` returning the tuple `(a, b)` of floats such
# that $\sigma(a\,s + b)$ is the calibrated probability of fraud of a transaction of logit $s$ **in
# traffic whose fraud rate is `prevalence`**:
#
# * `logits`, `y`: the model's logits and the 0/1 labels of a labelled sample whose frauds are a random
#   sample of the traffic's frauds and whose legitimate transactions are a random sample of the traffic's
#   legitimate ones; only the mix of the two differs from the traffic's;
# * fit Platt's model by **maximum likelihood** on the sample, without target smoothing and without a
#   penalty (Newton's method on $(a, b)$ converges in a handful of steps: gradient $X^\top(\hat p - y)$,
#   Hessian $X^\top \operatorname{diag}(\hat p(1-\hat p)) X$ with $X = [s, 1]$), then make it answer for
#   the traffic. Bayes' rule tells you what a different class mix does to the odds;
# * when `prevalence` equals the sample's own fraud rate, this is plain Platt scaling;
# * raise `ValueError` if `prevalence` is not in $(0, 1)$ or the sample lacks one of the classes;
# * NumPy only: no scikit-learn, no `mlcourse`.
#
# The hidden tests draw enriched samples from fresh fraud worlds and judge your probabilities against
# the world's true fraud probabilities on the traffic.

# %% id="ex4-platt-prevalence" mlcourse={"stage": "calibration", "tier": 3, "forbid": ["sklearn", "statsmodels", "mlcourse.calibration", "mlcourse.evaluation"], "equivalent_mutants": {"13:19 number 50>51": "Newton's method has converged long before 50 steps: the 51st step is zero to machine precision", "9:30 number 1.0>2.0": "a sample of frauds only still raises a ValueError: Newton's Hessian becomes singular and numpy's LinAlgError is a ValueError"}} nbgrader={"grade": false, "grade_id": "ex4_platt_prevalence", "locked": false, "schema_version": 3, "solution": true, "task": false}
def platt_at_prevalence(logits, y, prevalence):
    """(a, b) such that sigmoid(a * logit + b) is P(fraud) in traffic with fraud rate `prevalence`."""
    ### BEGIN SOLUTION
    if not 0.0 < prevalence < 1.0:
        raise ValueError(f"prevalence must be in (0, 1), got {prevalence}")
    s = np.asarray(logits)
    y = np.asarray(y)
    rate = y.mean()
    if rate == 0.0 or rate == 1.0:
        raise ValueError("the sample needs frauds and legitimate transactions")
    X = np.column_stack([s, np.ones_like(s)])
    w = np.zeros(2)
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(X @ w)))
        w -= np.linalg.solve((X * (p * (1 - p))[:, None]).T @ X, X.T @ (p - y))
    # Within each class the sample is the traffic's, so only the prior odds differ: P(y | s) changes by
    # the ratio of the prior odds, which in Platt's model is a shift of the intercept alone.
    shift = np.log(prevalence / (1 - prevalence)) - np.log(rate / (1 - rate))
    return float(w[0]), float(w[1] + shift)
    ### END SOLUTION

# %% id="ex4-mistake-sample-platt" mistake={"readable": "demo cell code-38e3d5f1: mlcourse.calibration.PlattScaler(smoothing=False) fitted on the sample", "why": "plain Platt scaling on the enriched sample: probabilities for the sample's fraud rate, not the traffic's"}
def platt_at_prevalence(logits, y, prevalence):
    s, y = np.asarray(logits, dtype=float), np.asarray(y, dtype=float)
    if not 0 < y.mean() < 1:
        raise ValueError("both classes are needed")
    X = np.column_stack([s, np.ones_like(s)])
    w = np.zeros(2)
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(X @ w)))
        w -= np.linalg.solve((X * (p * (1 - p))[:, None]).T @ X, X.T @ (p - y))
    return float(w[0]), float(w[1])

# %% id="ex4-mistake-smoothed-targets" mistake={"readable": "mlcourse.calibration.PlattScaler with its default smoothing=True", "why": "fits against Platt's smoothed targets instead of the 0/1 labels, then shifts"}
def platt_at_prevalence(logits, y, prevalence):
    if not 0.0 < prevalence < 1.0:
        raise ValueError("prevalence must be in (0, 1)")
    s, y = np.asarray(logits, dtype=float), np.asarray(y, dtype=float)
    n_pos, n_neg = y.sum(), (1 - y).sum()
    if n_pos == 0 or n_neg == 0:
        raise ValueError("both classes are needed")
    t = np.where(y == 1, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    X = np.column_stack([s, np.ones_like(s)])
    w = np.zeros(2)
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(X @ w)))
        w -= np.linalg.solve((X * (p * (1 - p))[:, None]).T @ X, X.T @ (p - t))
    rate = y.mean()
    return float(w[0]), float(w[1] + np.log(prevalence / (1 - prevalence)) - np.log(rate / (1 - rate)))

# %% id="ex4-mistake-rate-ratio" mistake={"why": "shifts the intercept by the log of the ratio of fraud rates instead of the ratio of odds"}
def platt_at_prevalence(logits, y, prevalence):
    if not 0.0 < prevalence < 1.0:
        raise ValueError("prevalence must be in (0, 1)")
    s, y = np.asarray(logits, dtype=float), np.asarray(y, dtype=float)
    if not 0 < y.mean() < 1:
        raise ValueError("both classes are needed")
    X = np.column_stack([s, np.ones_like(s)])
    w = np.zeros(2)
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(X @ w)))
        w -= np.linalg.solve((X * (p * (1 - p))[:, None]).T @ X, X.T @ (p - y))
    return float(w[0]), float(w[1] + np.log(prevalence / y.mean()))

# %% id="ex4-mistake-shift-backwards" mistake={"why": "shifts the intercept the wrong way: from the traffic's odds to the sample's"}
def platt_at_prevalence(logits, y, prevalence):
    if not 0.0 < prevalence < 1.0:
        raise ValueError("prevalence must be in (0, 1)")
    s, y = np.asarray(logits, dtype=float), np.asarray(y, dtype=float)
    if not 0 < y.mean() < 1:
        raise ValueError("both classes are needed")
    X = np.column_stack([s, np.ones_like(s)])
    w = np.zeros(2)
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(X @ w)))
        w -= np.linalg.solve((X * (p * (1 - p))[:, None]).T @ X, X.T @ (p - y))
    rate = y.mean()
    return float(w[0]), float(w[1] - np.log(prevalence / (1 - prevalence)) + np.log(rate / (1 - rate)))

# %% id="ex4-platt-prevalence-tests" mlcourse={"stage": "calibration", "tier": 3} nbgrader={"grade": true, "grade_id": "ex4_platt_prevalence_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Two score values, so the maximum-likelihood fit goes through both observed rates. By hand: at s = -1,
# 1 fraud of 4 (log-odds -ln 3); at s = +1, 3 of 4 (log-odds +ln 3): a = ln 3, b = 0 at the sample's own
# rate of 1/2.
_s = np.array([-1.0, -1.0, -1.0, -1.0, 1.0, 1.0, 1.0, 1.0])
_y = np.array([1, 0, 0, 0, 1, 1, 1, 0])
_got = platt_at_prevalence(_s, _y, 0.5)
assert len(_got) == 2, f"expected a tuple (a, b), got {_got!r}"
assert np.allclose([float(_got[0]), float(_got[1])], [np.log(3), 0.0], atol=1e-6), \
    f"at the sample's own fraud rate: expected (a, b) = (ln 3, 0) = (1.0986, 0), got {_got}"
# The same sample for traffic with 10% fraud: the prior odds go from 1 to 1/9, the slope stays: b = -ln 9.
_got = platt_at_prevalence(_s, _y, 0.1)
assert np.allclose([float(_got[0]), float(_got[1])], [np.log(3), -np.log(9)], atol=1e-6), \
    f"traffic at 10% fraud: expected (a, b) = (ln 3, -ln 9) = (1.0986, -2.1972), got {_got}"
# Traffic at 75% fraud: prior odds 3, b = ln 3.
_got = platt_at_prevalence(_s + 1.0, _y, 0.75)
assert np.allclose([float(_got[0]), float(_got[1])], [np.log(3), 0.0], atol=1e-6), \
    f"scores s + 1, traffic at 75% fraud: expected (a, b) = (ln 3, -ln 3 + ln 3) = (1.0986, 0), got {_got}"
for _bad in (0.0, 1.0, 1.2, -0.1):
    try:
        platt_at_prevalence(_s, _y, _bad)
        _raised = False
    except ValueError:
        _raised = True
    assert _raised, f"expected ValueError for prevalence {_bad}, but nothing was raised"
for _labels in (np.zeros(8, dtype=int), np.ones(8, dtype=int)):
    try:
        platt_at_prevalence(_s, _labels, 0.1)
        _raised = False
    except ValueError:
        _raised = True
    assert _raised, f"expected ValueError for a sample of one class ({_labels[0]}), but nothing was raised"

# %% id="ex4-platt-prevalence-hidden-tests" mlcourse={"stage": "calibration", "tier": 3} nbgrader={"grade": true, "grade_id": "ex4_platt_prevalence_hidden_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test draws enriched samples from fresh fraud worlds and compares your
# probabilities with the worlds' true fraud probabilities on their traffic.
_keep = (val["is_fraud"].to_numpy() == 1) | (np.arange(len(val)) % 10 == 0)
_a, _b = platt_at_prevalence(val["logit"].to_numpy()[_keep], val["is_fraud"].to_numpy()[_keep], float(val["is_fraud"].mean()))
assert np.isfinite(float(_a)) and np.isfinite(float(_b)) and float(_a) > 0, \
    f"the fraud model on an enriched sample of val: expected a finite, positive slope, got ({_a}, {_b})"
### BEGIN HIDDEN TESTS
for _seed_h, _keep_rate_h in [(4101, 0.03), (4102, 0.2)]:
    _world_h = cal.make_fraud_scores(seed=_seed_h, n_transactions=40_000)
    _v_h, _t_h = _world_h[_world_h["split"] == "val"], _world_h[_world_h["split"] == "test"]
    _yv_h = _v_h["is_fraud"].to_numpy()
    _pick_h = (_yv_h == 1) | (np.random.default_rng(_seed_h).random(len(_v_h)) < _keep_rate_h)
    _a_h, _b_h = platt_at_prevalence(_v_h["logit"].to_numpy()[_pick_h], _yv_h[_pick_h], float(_yv_h.mean()))
    _p_h = 1 / (1 + np.exp(-(float(_a_h) * _t_h["logit"].to_numpy() + float(_b_h))))
    _truth_h = _t_h["fraud_probability"].to_numpy()
    _rel_h = abs(_p_h.mean() - _truth_h.mean()) / _truth_h.mean()
    assert _rel_h <= 0.15, \
        (f"world {_seed_h}, sample with every fraud and {_keep_rate_h:.0%} of the rest: your mean P(fraud) on the "
         f"traffic is {_p_h.mean():.4f}, the true mean {_truth_h.mean():.4f} ({_rel_h:.0%} off, at most 15% allowed)")
    _top_h = _t_h["logit"].to_numpy() >= np.quantile(_t_h["logit"].to_numpy(), 0.95)
    _rel_top_h = abs(_p_h[_top_h].mean() - _truth_h[_top_h].mean()) / _truth_h[_top_h].mean()
    assert _rel_top_h <= 0.25, \
        (f"world {_seed_h}: on the 5% highest scores your mean P(fraud) is {_p_h[_top_h].mean():.3f}, the true "
         f"mean {_truth_h[_top_h].mean():.3f} ({_rel_top_h:.0%} off, at most 25% allowed)")
### END HIDDEN TESTS


# %% [markdown] id="md-efff228e"
# ### 6.2 Temperature scaling
#
# For a network with $K$ classes, Platt scaling would need one calibrator per class (one-vs-rest) and a
# renormalisation. Guo et al. proposed a single parameter: divide all logits by a **temperature**
# $T > 0$,
#
# $$\hat p = \operatorname{softmax}(z / T),$$
#
# with $T$ chosen to minimise the **negative log-likelihood on the validation set**. $T > 1$ softens
# over-confident predictions. Dividing every logit by the same positive number keeps their order, so the
# **arg-max, and the accuracy, cannot change** — only the confidence does. One parameter, any number of
# classes, no risk to accuracy: the default choice for neural networks.
#
# The validation NLL as a function of $T$ has a single minimum (it is convex in $1/T$):

# %% id="code-dff1337a"
temps = np.exp(np.linspace(np.log(0.5), np.log(8), 60))
nll_curve = [cal.negative_log_likelihood(digits.y_val, cal.softmax(logits_val, t)) for t in temps]
scaler = cal.TemperatureScaler().fit(logits_val, digits.y_val)
probs_ts = scaler.predict_proba(logits_test)

fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
axes[0].plot(temps, nll_curve)
axes[0].axvline(scaler.temperature_, color="grey", linestyle="--", label=f"T = {scaler.temperature_:.2f}")
axes[0].set_xscale("log"); axes[0].set_xlabel("temperature T"); axes[0].set_ylabel("validation NLL")
axes[0].legend()
cal.plot_reliability_diagram(digits.y_test, probs_test, ax=axes[1], label="raw")
cal.plot_reliability_diagram(digits.y_test, probs_ts, ax=axes[1], label="temperature-scaled", histogram=False)
plt.tight_layout()
plt.show()
pd.DataFrame({
    "accuracy": [np.mean(probs_test.argmax(1) == digits.y_test), np.mean(probs_ts.argmax(1) == digits.y_test)],
    "ECE": [cal.expected_calibration_error(digits.y_test, probs_test), cal.expected_calibration_error(digits.y_test, probs_ts)],
    "log-loss": [cal.negative_log_likelihood(digits.y_test, probs_test), cal.negative_log_likelihood(digits.y_test, probs_ts)],
}, index=["raw", f"T = {scaler.temperature_:.2f}"]).round(4)


# %% [markdown] id="md-4fbf5e0b"
# In deployment, wrap the network so that it outputs scaled logits: `scaler.wrap(net)` returns a
# `torch.nn.Module` computing `net(x) / T`.

# %% [markdown] id="md-ed73677b"
# ### 6.3 Isotonic regression
#
# Platt and temperature scaling assume the miscalibration has a particular shape. **Isotonic
# regression** assumes only that the map from score to probability is **non-decreasing**: among all
# non-decreasing step functions it finds the one closest (in squared error) to the 0/1 labels, sorted by
# score. It can fix any monotone distortion — an S-shape, a kink — but it pays for its flexibility: it
# needs more data (hundreds of positives, not dozens), it can overfit into coarse steps, and it creates
# ties (different scores get the same probability), which can cost a little ROC-AUC.
#
# With the full validation set (≈ 300 frauds) isotonic and Platt do about equally well here; with a
# small calibration set the flexible method loses. The true probabilities let us measure the *true*
# calibration error, without label noise:

# %% id="code-b42a9180"
iso = cal.IsotonicCalibrator().fit(val["logit"], val["is_fraud"])
rng = np.random.default_rng(SEED)
rows = []
for n in [1_000, 3_000, len(val)]:
    sub = val.iloc[rng.choice(len(val), size=n, replace=False)]
    for name, calibrator in [("Platt", cal.PlattScaler()), ("isotonic", cal.IsotonicCalibrator())]:
        p = calibrator.fit(sub["logit"], sub["is_fraud"]).predict(test["logit"])
        rows.append({"calibration examples": n, "frauds in them": int(sub["is_fraud"].sum()), "method": name,
                     "test log-loss": cal.negative_log_likelihood(y_test, p),
                     "true ECE (vs fraud_probability)": cal.expected_calibration_error(truth_test, p, strategy="quantile")})
display_table = pd.DataFrame(rows).set_index(["calibration examples", "frauds in them", "method"]).round(4)

grid = np.linspace(val["logit"].min(), val["logit"].max(), 400)
plt.figure(figsize=(6, 4))
plt.plot(grid, platt.predict(grid), label="Platt (sigmoid)")
plt.plot(grid, iso.predict(grid), label="isotonic (step function)", drawstyle="steps-post")
plt.xlabel("model logit"); plt.ylabel("calibrated P(fraud)"); plt.legend(); plt.title("Two calibration maps")
plt.show()
display_table


# %% [markdown] id="md-0497b647"
# | | Platt scaling | isotonic regression | temperature scaling |
# |---|---|---|---|
# | parameters | 2 | up to one step per distinct score | 1 |
# | data needed | little (dozens of positives) | a lot (hundreds of positives) | little |
# | shape it can fix | sigmoid: shift and stretch | any monotone map | stretch of all logits together |
# | multi-class | one-vs-rest + renormalise | one-vs-rest + renormalise | native |
# | ranking / accuracy | kept (if $a > 0$) | ties may merge scores | arg-max always kept |
#
# Isotonic regression is solved by the *pool-adjacent-violators* algorithm: sort by score, and merge
# neighbouring blocks of labels whose means are out of order until the means rise. The library's
# `cal.isotonic_regression` is a readable implementation of it.
#
# ### Exercise 5 (tier 3) — choose the calibrator from the data
#
# The table is a rule of thumb; the calibration data should decide. Implement
# `choose_calibrator(scores, y)`:
#
# * `scores`: 1-D array of a binary model's scores (logits, any real numbers) on held-out calibration
#   data, `y`: their 0/1 labels;
# * return a **function** `calibrate(new_scores)` that maps an array of scores to an array of calibrated
#   probabilities in $[0, 1]$, of the same length, **non-decreasing** in the score, and finite for any
#   score (also beyond the range seen in calibration);
# * it is judged the way production would judge it: the hidden tests hand your function calibration sets
#   from worlds you have not seen (some with a few hundred examples, some with tens of thousands; some
#   whose miscalibration has the sigmoid shape and some whose does not) and measure, on fresh data, the
#   mean squared difference between your probabilities and the world's true ones;
# * you may use scikit-learn's `LogisticRegression` and `IsotonicRegression` (not `mlcourse`): choosing
#   between them, or between anything else, is your part. One of them alone fails some of these worlds.

# %% id="ex5-choose-calibrator" mlcourse={"stage": "calibration", "tier": 3, "forbid": ["mlcourse.calibration", "sklearn.calibration"], "equivalent_mutants": {"14:29 keyword drop cv=": "another number of folds for the same held-out comparison: five-fold cross-validation ranks Platt and isotonic the same way on these worlds", "15:32 keyword drop cv=": "another number of folds for the same held-out comparison: five-fold cross-validation ranks Platt and isotonic the same way on these worlds", "14:72 number 2>3": "another number of folds for the same held-out comparison: three-fold cross-validation ranks Platt and isotonic the same way on these worlds", "15:69 number 2>3": "another number of folds for the same held-out comparison: three-fold cross-validation ranks Platt and isotonic the same way on these worlds", "16:7 compare LtE>Lt": "the two held-out log-losses are equal only on a set of measure zero"}} nbgrader={"grade": false, "grade_id": "ex5_choose_calibrator", "locked": false, "schema_version": 3, "solution": true, "task": false}
def choose_calibrator(scores, y):
    """A calibration map fitted on (scores, y), chosen by its held-out log-loss."""
    ### BEGIN SOLUTION
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sklearn.model_selection import cross_val_predict

    s, y = np.asarray(scores), np.asarray(y)
    platt = LogisticRegression()
    isotonic = IsotonicRegression(out_of_bounds="clip")
    # Each method's held-out predictions by two-fold cross-validation. The log-loss punishes isotonic
    # steps at 0 or 1 that held-out labels contradict, and a sigmoid that misses the shape everywhere.
    platt_loss = log_loss(y, cross_val_predict(platt, s[:, None], y, cv=2, method="predict_proba")[:, 1])
    isotonic_loss = log_loss(y, cross_val_predict(isotonic, s, y, cv=2))
    if platt_loss <= isotonic_loss:
        platt.fit(s[:, None], y)
        return lambda t: platt.predict_proba(np.asarray(t)[:, None])[:, 1]
    isotonic.fit(s, y)
    return lambda t: isotonic.predict(np.asarray(t))
    ### END SOLUTION

# %% id="ex5-mistake-platt-only" mistake={"readable": "demo cell code-38e3d5f1: Platt scaling (mlcourse.calibration.PlattScaler) whatever the data", "why": "always Platt scaling: it cannot follow a miscalibration that is not sigmoid-shaped, however much data there is"}
def choose_calibrator(scores, y):
    from sklearn.linear_model import LogisticRegression
    model = LogisticRegression(C=1e6).fit(np.asarray(scores, dtype=float)[:, None], y)
    return lambda t: model.predict_proba(np.asarray(t, dtype=float)[:, None])[:, 1]

# %% id="ex5-mistake-isotonic-only" mistake={"readable": "demo cell code-b42a9180: isotonic regression (mlcourse.calibration.IsotonicCalibrator) whatever the data", "why": "always isotonic regression: on a few hundred examples its steps over-fit the labels"}
def choose_calibrator(scores, y):
    from sklearn.isotonic import IsotonicRegression
    model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(np.asarray(scores, dtype=float), y)
    return lambda t: model.predict(np.asarray(t, dtype=float))

# %% id="ex5-mistake-choice-on-fit-data" mistake={"why": "chooses the method by its log-loss on the data it was fitted on: isotonic always fits its own data best"}
def choose_calibrator(scores, y):
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import LogisticRegression
    s, y = np.asarray(scores, dtype=float), np.asarray(y)
    platt = LogisticRegression(C=1e6).fit(s[:, None], y)
    iso = IsotonicRegression(y_min=0.01, y_max=0.99, out_of_bounds="clip").fit(s, y)
    fits = [lambda t: platt.predict_proba(np.asarray(t, dtype=float)[:, None])[:, 1], lambda t: iso.predict(np.asarray(t, dtype=float))]
    losses = [-np.mean(np.log(np.where(y == 1, f(s), 1 - f(s)))) for f in fits]
    return fits[int(np.argmin(losses))]

# %% id="ex5-choose-calibrator-tests" mlcourse={"stage": "calibration", "tier": 3} nbgrader={"grade": true, "grade_id": "ex5_choose_calibrator_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_calibrate = choose_calibrator(val["logit"].to_numpy(), val["is_fraud"].to_numpy())
assert callable(_calibrate), f"expected a function, got {type(_calibrate)}"
_p = np.asarray(_calibrate(test["logit"].to_numpy()), dtype=float)
assert _p.shape == (len(test),), f"expected one probability per test transaction, shape {(len(test),)}, got {_p.shape}"
assert np.all((_p >= 0) & (_p <= 1)), f"expected probabilities in [0, 1], got values from {_p.min()} to {_p.max()}"
_grid = np.array([-50.0, -10.0, -3.0, 0.0, 3.0, 10.0, 50.0])
_p_grid = np.asarray(_calibrate(_grid), dtype=float)
assert np.all(np.isfinite(_p_grid)) and np.all(np.diff(_p_grid) >= -1e-12), \
    f"expected finite probabilities, non-decreasing in the score, also far outside the calibration range: got {_p_grid}"
# On the fraud data, the calibrated mean is the fraud rate, not the raw scores' ten times as much.
assert abs(_p.mean() - test["is_fraud"].mean()) <= 0.3 * test["is_fraud"].mean(), \
    f"expected a mean P(fraud) near the test fraud rate {test['is_fraud'].mean():.4f}, got {_p.mean():.4f}"

# %% id="ex5-choose-calibrator-shape-tests" mlcourse={"stage": "calibration", "tier": 3} nbgrader={"grade": true, "grade_id": "ex5_choose_calibrator_shape_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test gives your function large calibration sets from a world whose
# miscalibration is not sigmoid-shaped.
_p = np.asarray(choose_calibrator(np.array([-2.0, -1.0, 1.0, 2.0]).repeat(5),
                                 np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1]))(np.array([-2.0, 2.0])), dtype=float)
assert _p.shape == (2,) and _p[0] <= _p[1], f"expected two probabilities, non-decreasing, got {_p}"
### BEGIN HIDDEN TESTS
_mse_h = []
for _draw_h in range(6):
    _rng_h = np.random.default_rng(5100 + _draw_h)
    _s_h = _rng_h.normal(0, 2, 20_000)
    _y_h = (_rng_h.random(20_000) < 0.45 / (1 + np.exp(-4 * _s_h)) + 0.01).astype(int)
    _st_h = _rng_h.normal(0, 2, 20_000)
    _pt_h = 0.45 / (1 + np.exp(-4 * _st_h)) + 0.01          # a plateau at 46%: no sigmoid of the score fits it
    _mse_h.append(np.mean((np.asarray(choose_calibrator(_s_h, _y_h)(_st_h), dtype=float) - _pt_h) ** 2))
# Over these draws isotonic regression scores about 1.7e-4 and Platt scaling about 1.3e-2.
assert np.mean(_mse_h) <= 1e-3, \
    (f"20,000 calibration examples, a non-sigmoid miscalibration: your probabilities are {np.mean(_mse_h):.2e} "
     f"(mean squared difference) from the true ones; at most 1e-3 allowed")
### END HIDDEN TESTS

# %% id="ex5-choose-calibrator-small-tests" mlcourse={"stage": "calibration", "tier": 3} nbgrader={"grade": true, "grade_id": "ex5_choose_calibrator_small_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test gives your function small calibration sets (150 examples).
_p = np.asarray(choose_calibrator(val["logit"].to_numpy()[:2000], val["is_fraud"].to_numpy()[:2000])(test["logit"].to_numpy()[:10]), dtype=float)
assert _p.shape == (10,) and np.all(np.isfinite(_p)), f"2,000 calibration examples: expected 10 finite probabilities, got {_p}"
### BEGIN HIDDEN TESTS
_mse_h = []
for _draw_h in range(10):
    _rng_h = np.random.default_rng(5200 + _draw_h)
    _s_h = _rng_h.normal(0, 2, 150)
    _y_h = (_rng_h.random(150) < 1 / (1 + np.exp(-(1.2 * _s_h - 1.0)))).astype(int)
    _st_h = _rng_h.normal(0, 2, 20_000)
    _pt_h = 1 / (1 + np.exp(-(1.2 * _st_h - 1.0)))
    _mse_h.append(np.mean((np.asarray(choose_calibrator(_s_h, _y_h)(_st_h), dtype=float) - _pt_h) ** 2))
# Over these draws Platt scaling scores about 1.5e-3 and isotonic regression about 6.5e-3.
assert np.mean(_mse_h) <= 3e-3, \
    (f"150 calibration examples: your probabilities are {np.mean(_mse_h):.2e} (mean squared difference) from the "
     f"true ones; at most 3e-3 allowed")
### END HIDDEN TESTS


# %% [markdown] id="md-d5eaef1c"
# ## 7. Calibrating before training: regularization and the loss
#
# Post-hoc calibration repairs a model after the fact. We can also train a model that is less
# over-confident in the first place:
#
# * **Weight decay** (an L2 penalty $\frac{\lambda}{2}\lVert W\rVert^2$ on the weights) keeps the
#   weights — and therefore the logits — small. Guo et al. found that networks trained with more weight
#   decay were better calibrated, even past the point where accuracy stopped improving.
# * **Label smoothing** (Szegedy et al., 2016; Müller et al., 2019) changes the **loss**: it trains
#   against the target $(1-\varepsilon)\,\text{onehot} + \varepsilon / K$ instead of the one-hot label.
#   The loss no longer rewards pushing a probability to 1, so the logits stop growing.
#
# Both are **knobs, not fixes**: too much and the model becomes *under*-confident (and may lose
# accuracy). Tune them on validation ECE or NLL like any hyperparameter. We train the same network under
# several settings and report the test metrics, including the temperature that post-hoc scaling would
# still apply ($T \approx 1$: nothing left to fix; $T < 1$: under-confident):

# %% id="code-2cf07951"
settings = {
    "plain": {},
    "weight decay 1e-3": {"weight_decay": 1e-3},
    "weight decay 1e-2": {"weight_decay": 1e-2},
    "weight decay 1e-1": {"weight_decay": 1e-1},
    "label smoothing 0.02": {"label_smoothing": 0.02},
    "label smoothing 0.1": {"label_smoothing": 0.1},
}
if FAST:
    settings = {k: settings[k] for k in ["plain", "weight decay 1e-2", "label smoothing 0.02"]}
study = cal.compare_training_settings(digits, settings, epochs=200, seed=SEED, temperature_scaling=True)
study[["accuracy", "mean_confidence", "ece"]].plot.bar(figsize=(9, 3.5), rot=20)
plt.title("Same network, different training: accuracy, confidence and ECE on the test set")
plt.tight_layout()
plt.show()
study.round(4)


# %% [markdown] id="md-5422e123"
# Moderate weight decay gives a calibrated network with no loss of accuracy; strong weight decay or
# label smoothing overshoots into under-confidence (mean confidence far below accuracy, $T < 1$). On
# these noisy digits label smoothing also costs accuracy — on other data it often helps; measure, do not
# assume. Whatever the training, temperature scaling afterwards brings the ECE down to a few hundredths:
# the two approaches combine.
#
# Which strength is "moderate" depends on the data: on the number of examples per feature, on the
# scale of the features, on how strong the signal is. The setting that calibrates the digit network is
# a number for these digits, not a constant of nature.
#
# ### Exercise 6 (tier 4) — regularise for calibration, not for the training loss
#
# Implement `fit_regularised(X_train, y_train, X_val, y_val)`: train a binary **logistic regression**
# on `(X_train, y_train)` whose probabilities are well calibrated on new data, and return a **function**
# `predict(X)` giving $P(y = 1)$ for each row of `X` (a 1-D array in $(0, 1)$).
#
# * `X_*` are 2-D float arrays (rows are examples), `y_*` 0/1 labels. The validation set is there for
#   you to decide how strongly to regularise: train on the training set only;
# * you may use scikit-learn's `LogisticRegression` (with any `C` and penalty you choose) or write your
#   own; not `LogisticRegressionCV`, not `mlcourse`;
# * the hidden tests hand your function data from worlds you have not seen — many features for few
#   examples, features on other scales, weak and strong signals — and measure the log-loss of your
#   probabilities on fresh data from the same world, against the truth's.

# %% id="ex6-fit-regularised" mlcourse={"stage": "calibration", "tier": 4, "forbid": ["sklearn.linear_model.LogisticRegressionCV", "mlcourse.calibration", "mlcourse.modeling"], "equivalent_mutants": {"9:12 keyword drop max_iter=": "lbfgs's default 100 iterations give the same fits to within the tests' tolerance on these sizes", "9:45 number 1000>1001": "lbfgs converges long before 1000 iterations", "9:95 number 3>4": "a grid that also holds C = 1e-4: the validation log-loss never picks that end, so the choice is the same", "9:98 number 3>4": "a grid that also holds C = 1e4: the same judgement on a slightly longer grid", "9:101 number 7>8": "8 grid points instead of 7 over the same range: the same judgement on a finer grid"}} nbgrader={"grade": false, "grade_id": "ex6_fit_regularised", "locked": false, "schema_version": 3, "solution": true, "task": false}
def fit_regularised(X_train, y_train, X_val, y_val):
    """A logistic regression whose L2 strength is chosen by validation log-loss; returns predict(X) -> P(y=1)."""
    ### BEGIN SOLUTION
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss

    # The training loss always prefers the weakest penalty (it over-fits); accuracy barely moves with
    # the penalty. The validation log-loss is the proper score that sees over- and under-confidence.
    fits = [LogisticRegression(C=c, max_iter=1000).fit(X_train, y_train) for c in np.logspace(-3, 3, 7)]
    best = min(fits, key=lambda m: log_loss(y_val, m.predict_proba(X_val)[:, 1]))
    return lambda X: best.predict_proba(X)[:, 1]
    ### END SOLUTION

# %% id="ex6-mistake-plain" mistake={"readable": "demo cell code-2cf07951, the 'plain' setting: no regularisation", "why": "no regularisation at all: with many features per example the fit is over-confident"}
def fit_regularised(X_train, y_train, X_val, y_val):
    from sklearn.linear_model import LogisticRegression
    model = LogisticRegression(C=1e4, max_iter=1000).fit(X_train, y_train)
    return lambda X: model.predict_proba(X)[:, 1]

# %% id="ex6-mistake-library-default" mistake={"readable": "scikit-learn's LogisticRegression with its defaults (C=1)", "why": "one fixed strength whatever the data: right for some worlds, far off for others"}
def fit_regularised(X_train, y_train, X_val, y_val):
    from sklearn.linear_model import LogisticRegression
    model = LogisticRegression().fit(X_train, y_train)
    return lambda X: model.predict_proba(X)[:, 1]

# %% id="ex6-mistake-by-training-loss" mistake={"why": "chooses the strength by the training log-loss, which always prefers the weakest penalty"}
def fit_regularised(X_train, y_train, X_val, y_val):
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    fits = [LogisticRegression(C=c, max_iter=1000).fit(X_train, y_train) for c in np.logspace(-3, 3, 7)]
    best = min(fits, key=lambda m: log_loss(y_train, m.predict_proba(X_train)[:, 1]))
    return lambda X: best.predict_proba(X)[:, 1]

# %% id="ex6-fit-regularised-tests" mlcourse={"stage": "calibration", "tier": 4} nbgrader={"grade": true, "grade_id": "ex6_fit_regularised_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_rng = np.random.default_rng(61)
_w = np.r_[1.5, -1.0, 0.8, np.zeros(27)]
_X = _rng.normal(size=(1300, 30))
_y = (_rng.random(1300) < 1 / (1 + np.exp(-(_X @ _w)))).astype(int)
_predict = fit_regularised(_X[:300], _y[:300], _X[300:600], _y[300:600])
assert callable(_predict), f"expected a function, got {type(_predict)}"
_p = np.asarray(_predict(_X[600:]), dtype=float)
assert _p.shape == (700,) and np.all((_p > 0) & (_p < 1)), f"expected 700 probabilities in (0, 1), got shape {_p.shape}"
# Better than knowing only the base rate: the log-loss of a constant forecast at the training rate.
_ll = -np.mean(np.log(np.where(_y[600:] == 1, _p, 1 - _p)))
_base = _y[:300].mean()
_ll_base = -np.mean(np.log(np.where(_y[600:] == 1, _base, 1 - _base)))
assert _ll < _ll_base, f"expected a log-loss on new data below the base rate's {_ll_base:.3f}, got {_ll:.3f}"

# %% id="ex6-fit-regularised-wide-tests" mlcourse={"stage": "calibration", "tier": 4} nbgrader={"grade": true, "grade_id": "ex6_fit_regularised_wide_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test uses worlds with 60 features, few of them useful, for 300 examples.
_p = np.asarray(fit_regularised(_X[:300], _y[:300], _X[300:600], _y[300:600])(_X[:5]), dtype=float)
assert _p.shape == (5,), f"expected 5 probabilities, got shape {_p.shape}"
### BEGIN HIDDEN TESTS
_excess_h = []
for _draw_h in range(3):
    _rng_h = np.random.default_rng(6100 + _draw_h)
    _w_h = np.r_[_rng_h.normal(0, 0.6, 6), np.zeros(54)]
    _X_h = _rng_h.normal(size=(5600, 60))
    _pt_h = 1 / (1 + np.exp(-(_X_h @ _w_h)))
    _y_h = (_rng_h.random(5600) < _pt_h).astype(int)
    _p_h = np.clip(np.asarray(fit_regularised(_X_h[:300], _y_h[:300], _X_h[300:600], _y_h[300:600])(_X_h[600:]), dtype=float), 1e-12, 1 - 1e-12)
    _yt_h, _ptt_h = _y_h[600:], _pt_h[600:]
    _excess_h.append(np.mean(np.where(_yt_h == 1, np.log(_ptt_h) - np.log(_p_h), np.log(1 - _ptt_h) - np.log(1 - _p_h))))
# Over these draws the validation-chosen strength loses about 0.06 nats to the truth; no penalty or
# the library default about 0.2.
assert np.mean(_excess_h) <= 0.1, \
    (f"60 features for 300 examples, a weak signal: your log-loss on new data is {np.mean(_excess_h):.3f} above "
     f"the true probabilities' (at most 0.1 allowed): over-confident probabilities")
### END HIDDEN TESTS

# %% id="ex6-fit-regularised-scale-tests" mlcourse={"stage": "calibration", "tier": 4} nbgrader={"grade": true, "grade_id": "ex6_fit_regularised_scale_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test uses worlds whose features are on a small scale and whose signal is strong.
_p = np.asarray(fit_regularised(0.1 * _X[:300], _y[:300], 0.1 * _X[300:600], _y[300:600])(0.1 * _X[600:]), dtype=float)
assert _p.shape == (700,) and np.all((_p > 0) & (_p < 1)), f"features scaled by 0.1: expected 700 probabilities in (0, 1)"
### BEGIN HIDDEN TESTS
_excess_h = []
for _draw_h in range(3):
    _rng_h = np.random.default_rng(6200 + _draw_h)
    _w_h = np.r_[_rng_h.normal(0, 3.0, 6), np.zeros(14)]
    _X_h = _rng_h.normal(size=(5600, 20))
    _pt_h = np.clip(1 / (1 + np.exp(-(_X_h @ _w_h))), 1e-12, 1 - 1e-12)
    _y_h = (_rng_h.random(5600) < _pt_h).astype(int)
    _X_h = 0.2 * _X_h                                            # the same world, in other units
    _p_h = np.clip(np.asarray(fit_regularised(_X_h[:300], _y_h[:300], _X_h[300:600], _y_h[300:600])(_X_h[600:]), dtype=float), 1e-12, 1 - 1e-12)
    _yt_h, _ptt_h = _y_h[600:], _pt_h[600:]
    _excess_h.append(np.mean(np.where(_yt_h == 1, np.log(_ptt_h) - np.log(_p_h), np.log(1 - _ptt_h) - np.log(1 - _p_h))))
# Over these draws the validation-chosen strength loses about 0.04 nats; the library default (far too
# strong a penalty in these units) about 0.25.
assert np.mean(_excess_h) <= 0.1, \
    (f"features in small units, a strong signal: your log-loss on new data is {np.mean(_excess_h):.3f} above the "
     f"true probabilities' (at most 0.1 allowed): under-confident probabilities")
### END HIDDEN TESTS


# %% [markdown] id="md-9565758e"
# ## 8. Calibration per slice
#
# A model can be calibrated on average and miscalibrated for a group: a global calibrator averages over
# everyone. After calibrating, check the reliability **per slice** (merchant category, customer group,
# region, ...). Two cautions: a slice with ten frauds has a very noisy observed rate (stage 4's bootstrap
# applies), and fixing a slice by fitting a separate calibrator on it can overfit — with little data,
# share the slope and fit only a per-slice intercept, or add the slice as a feature of the model.
#
# Here the true probability is known, so we can tell a real gap from noise:

# %% id="code-cdfc7d70"
by_slice = test.assign(platt=p_platt).groupby("merchant_category", observed=True).agg(
    transactions=("is_fraud", "size"), frauds=("is_fraud", "sum"),
    raw_score=("score", "mean"), platt=("platt", "mean"),
    observed_rate=("is_fraud", "mean"), true_rate=("fraud_probability", "mean"))
by_slice.round(4)

# %% [markdown] id="md-d080a571"
# The raw scores are off by a factor of ten or more in every category; after one global Platt fit the
# mean probability tracks the *true* rate in most categories. Where the observed rate disagrees, check
# the number of frauds before you believe it.
#
# To measure it, compute the calibration error **per slice** (an ECE, or the gap between the mean
# probability and the observed rate, with the slice's count of frauds beside it), and look at the worst
# slice. A slice whose risk the model misjudges — a merchant category whose fraud pattern the features
# do not see — stays miscalibrated after any global calibration, because the global map is one curve
# for everybody.
#
# ### Exercise 7 (tier 4) — fix the worst slice without breaking the others
#
# Implement `calibrate_per_slice(val_logit, val_y, val_slice, new_logit, new_slice)`: return the array of
# calibrated probabilities of fraud for the new transactions, one per row of `new_logit`.
#
# * `val_*`: the model's logits, the 0/1 labels and the slice (a category label, e.g. the merchant
#   category) of the labelled calibration data; `new_*`: the logits and slices of new transactions;
# * every slice's probabilities must be calibrated, **including** a slice whose miscalibration differs
#   from the others', and small slices with only a handful of frauds (or none) in the calibration data;
# * a slice that never occurs in the calibration data may appear among the new transactions: give it
#   probabilities that are still calibrated for the traffic as a whole;
# * NumPy only (no scikit-learn, no `mlcourse`).
#
# The hidden tests use worlds with slices of very different sizes and judge each slice's probabilities
# against the world's true ones on fresh data.

# %% id="ex7-calibrate-per-slice" mlcourse={"stage": "calibration", "tier": 4, "forbid": ["sklearn", "statsmodels", "mlcourse.calibration", "mlcourse.evaluation"], "equivalent_mutants": {"8:19 number 30>31": "Newton's method has converged well before 30 steps", "18:23 number 30>31": "Newton's method has converged well before 30 steps", "10:35 arith Mult>Div": "Newton's method with this positive-definite stand-in for the curvature still converges to the same fit (its fixed point is where the gradient is zero)", "10:40 arith Sub>Add": "Newton's method with this positive-definite stand-in for the curvature still converges to the same fit (its fixed point is where the gradient is zero)", "10:40 number 1>2": "Newton's method with this positive-definite stand-in for the curvature still converges to the same fit (its fixed point is where the gradient is zero)", "20:59 arith Mult>Div": "Newton's method with this positive-definite stand-in for the curvature still converges to the same fit (its fixed point is where the gradient is zero)", "20:64 arith Sub>Add": "Newton's method with this positive-definite stand-in for the curvature still converges to the same fit (its fixed point is where the gradient is zero)", "20:64 number 1>2": "Newton's method with this positive-definite stand-in for the curvature still converges to the same fit (its fixed point is where the gradient is zero)", "17:12 number 0.0>1.0": "Newton's method on the offset converges to the same root from a start at 1", "20:42 number 3>4": "a prior precision of 4 instead of 3 on the offsets: a little more shrinkage, the same judgement", "20:74 number 3>4": "a prior precision of 4 instead of 3 in the curvature: Newton's method still converges to a root of the same penalised gradient"}} nbgrader={"grade": false, "grade_id": "ex7_calibrate_per_slice", "locked": false, "schema_version": 3, "solution": true, "task": false}
def calibrate_per_slice(val_logit, val_y, val_slice, new_logit, new_slice):
    """Calibrated P(fraud) for new rows: a global Platt fit plus a shrunk intercept offset per slice."""
    ### BEGIN SOLUTION
    s, y = np.asarray(val_logit), np.asarray(val_y)
    g_val, g_new = np.asarray(val_slice), np.asarray(new_slice)
    X = np.column_stack([s, np.ones_like(s)])
    w = np.zeros(2)
    for _ in range(30):                                      # the global Platt fit, by Newton's method
        p = 1 / (1 + np.exp(-(X @ w)))
        w -= np.linalg.solve((X * (p * (1 - p))[:, None]).T @ X, X.T @ (p - y))
    z_val = X @ w
    z_new = w[0] * np.asarray(new_logit) + w[1]
    # One intercept offset per slice, with a Gaussian prior (a ridge penalty of 3 * d^2 / 2): a slice
    # with thousands of frauds moves freely, one with a handful barely moves, one without any is safe.
    for g in np.unique(g_val):
        inside = g_val == g
        d = 0.0
        for _ in range(30):
            p = 1 / (1 + np.exp(-(z_val[inside] + d)))
            d -= (np.sum(p - y[inside]) + 3 * d) / (np.sum(p * (1 - p)) + 3)
        z_new[g_new == g] += d
    return 1 / (1 + np.exp(-z_new))
    ### END SOLUTION

# %% id="ex7-mistake-global" mistake={"readable": "demo cells code-38e3d5f1 and code-cdfc7d70: one global Platt fit for every slice", "why": "one global calibration map: the slice whose miscalibration differs stays miscalibrated"}
def calibrate_per_slice(val_logit, val_y, val_slice, new_logit, new_slice):
    s, y = np.asarray(val_logit, dtype=float), np.asarray(val_y, dtype=float)
    X = np.column_stack([s, np.ones_like(s)])
    w = np.zeros(2)
    for _ in range(30):
        p = 1 / (1 + np.exp(-(X @ w)))
        w -= np.linalg.solve((X * (p * (1 - p))[:, None]).T @ X, X.T @ (p - y))
    return 1 / (1 + np.exp(-(w[0] * np.asarray(new_logit, dtype=float) + w[1])))

# %% id="ex7-mistake-separate" mistake={"why": "a separate Platt fit per slice: small slices over-fit (or diverge without frauds), unseen slices get nothing"}
def calibrate_per_slice(val_logit, val_y, val_slice, new_logit, new_slice):
    s, y = np.asarray(val_logit, dtype=float), np.asarray(val_y, dtype=float)
    g_val, g_new = np.asarray(val_slice), np.asarray(new_slice)
    new_logit = np.asarray(new_logit, dtype=float)
    out = np.full(len(new_logit), np.nan)
    for g in np.unique(g_val):
        inside = g_val == g
        X = np.column_stack([s[inside], np.ones(inside.sum())])
        w = np.zeros(2)
        for _ in range(30):
            p = 1 / (1 + np.exp(-(X @ w)))
            w -= np.linalg.lstsq((X * (p * (1 - p))[:, None]).T @ X, X.T @ (p - y[inside]), rcond=None)[0]
        out[g_new == g] = 1 / (1 + np.exp(-(w[0] * new_logit[g_new == g] + w[1])))
    return out

# %% id="ex7-mistake-unshrunk-offsets" mistake={"why": "a free intercept offset per slice with no shrinkage: a slice with a handful of frauds gets its noise as its rate"}
def calibrate_per_slice(val_logit, val_y, val_slice, new_logit, new_slice):
    s, y = np.asarray(val_logit, dtype=float), np.asarray(val_y, dtype=float)
    g_val, g_new = np.asarray(val_slice), np.asarray(new_slice)
    X = np.column_stack([s, np.ones_like(s)])
    w = np.zeros(2)
    for _ in range(30):
        p = 1 / (1 + np.exp(-(X @ w)))
        w -= np.linalg.solve((X * (p * (1 - p))[:, None]).T @ X, X.T @ (p - y))
    z_val, z_new = X @ w, w[0] * np.asarray(new_logit, dtype=float) + w[1]
    for g in np.unique(g_val):
        inside = g_val == g
        d = 0.0
        for _ in range(30):
            p = 1 / (1 + np.exp(-(z_val[inside] + d)))
            d -= np.sum(p - y[inside]) / max(np.sum(p * (1 - p)), 1e-12)
        z_new[g_new == g] += d
    return 1 / (1 + np.exp(-z_new))

# %% id="ex7-calibrate-per-slice-tests" mlcourse={"stage": "calibration", "tier": 4} nbgrader={"grade": true, "grade_id": "ex7_calibrate_per_slice_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_new_slice = test["merchant_category"].astype(str).to_numpy().copy()
_new_slice[:50] = "a category never seen in calibration"
_p = np.asarray(calibrate_per_slice(val["logit"].to_numpy(), val["is_fraud"].to_numpy(),
                                    val["merchant_category"].astype(str).to_numpy(), test["logit"].to_numpy(), _new_slice), dtype=float)
assert _p.shape == (len(test),), f"expected one probability per new transaction, shape {(len(test),)}, got {_p.shape}"
assert np.all(np.isfinite(_p)) and np.all((_p >= 0) & (_p <= 1)), \
    "expected finite probabilities in [0, 1] for every new transaction, also for a slice unseen in calibration"
# Calibrated overall: the mean probability is the test fraud rate, not the raw scores' ten times as much.
assert abs(_p.mean() - test["is_fraud"].mean()) <= 0.3 * test["is_fraud"].mean(), \
    f"expected a mean P(fraud) near the test fraud rate {test['is_fraud'].mean():.4f}, got {_p.mean():.4f}"
### BEGIN HIDDEN TESTS
# The unseen slice gets the global calibration: compared with a plain Platt fit on all of val.
_Xv_h = np.column_stack([val["logit"].to_numpy(), np.ones(len(val))])
_w_h = np.zeros(2)
for _ in range(30):
    _pv_h = 1 / (1 + np.exp(-(_Xv_h @ _w_h)))
    _w_h -= np.linalg.solve((_Xv_h * (_pv_h * (1 - _pv_h))[:, None]).T @ _Xv_h, _Xv_h.T @ (_pv_h - val["is_fraud"].to_numpy()))
_global_h = 1 / (1 + np.exp(-(_w_h[0] * test["logit"].to_numpy()[:50] + _w_h[1])))
assert np.allclose(_p[:50], _global_h, rtol=0.25), \
    "a slice unseen in calibration: expected probabilities close to a global Platt fit's (within 25%)"
### END HIDDEN TESTS

# %% id="ex7-calibrate-per-slice-worst-tests" mlcourse={"stage": "calibration", "tier": 4} nbgrader={"grade": true, "grade_id": "ex7_calibrate_per_slice_worst_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test uses worlds where one large slice is riskier than its scores say.
_p = np.asarray(calibrate_per_slice(np.array([-2.0, -1.0, 0.0, 1.0, -2.0, -1.0, 0.0, 1.0]), np.array([0, 0, 1, 1, 0, 1, 0, 1]),
                                    np.array(list("aaaabbbb")), np.array([0.0, 0.0]), np.array(["a", "b"])), dtype=float)
assert _p.shape == (2,) and np.all(np.isfinite(_p)), f"a small example: expected two finite probabilities, got {_p}"
### BEGIN HIDDEN TESTS
def _slice_world_h(n, rng):
    # Slices A..E with shares 45/30/20/4.5/0.5%; slice C is riskier than its scores say (+1.3 on the log-odds).
    g = rng.choice(5, n, p=[0.45, 0.3, 0.2, 0.045, 0.005])
    s = rng.normal(-1.0, 1.5, n)                  # the model's logit: a balanced, over-confident model
    p = 1 / (1 + np.exp(-(0.7 * s - 2.6 + np.where(g == 2, 1.3, 0.0))))
    return s, (rng.random(n) < p).astype(int), np.array(list("ABCDE"))[g], p

_rel_h = []
for _draw_h in range(6):
    _rng_h = np.random.default_rng(7100 + _draw_h)
    _s_h, _y_h, _g_h, _ = _slice_world_h(6000, _rng_h)
    _st_h, _, _gt_h, _pt_h = _slice_world_h(60_000, _rng_h)
    _p_h = np.asarray(calibrate_per_slice(_s_h, _y_h, _g_h, _st_h, _gt_h), dtype=float)
    _c_h = _gt_h == "C"
    _rel_h.append(abs(_p_h[_c_h].mean() - _pt_h[_c_h].mean()) / _pt_h[_c_h].mean())
# Over these draws a global calibration is about 50% off in slice C; the solution about 6%.
assert np.mean(_rel_h) <= 0.2, \
    (f"the riskier slice (20% of the traffic): your mean P(fraud) there is {np.mean(_rel_h):.0%} off the true mean "
     f"on average (at most 20% allowed)")
### END HIDDEN TESTS

# %% id="ex7-calibrate-per-slice-small-tests" mlcourse={"stage": "calibration", "tier": 4} nbgrader={"grade": true, "grade_id": "ex7_calibrate_per_slice_small_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test checks the other slices, the small ones with a handful of frauds included.
_p = np.asarray(calibrate_per_slice(np.array([-2.0, -1.0, 0.0, 1.0, -2.0, -1.0]), np.array([0, 0, 1, 1, 0, 0]),
                                    np.array(list("aaaabb")), np.array([-1.0, -1.0]), np.array(["a", "b"])), dtype=float)
assert np.all(np.isfinite(_p)) and _p[1] <= _p[0] + 1e-12, \
    f"slice b has no fraud in calibration: expected a finite probability no higher than slice a's, got {_p}"
### BEGIN HIDDEN TESTS
def _slice_world_h(n, rng):
    g = rng.choice(5, n, p=[0.45, 0.3, 0.2, 0.045, 0.005])
    s = rng.normal(-1.0, 1.5, n)
    p = 1 / (1 + np.exp(-(0.7 * s - 2.6 + np.where(g == 2, 1.3, 0.0))))
    return s, (rng.random(n) < p).astype(int), np.array(list("ABCDE"))[g], p

_mse_h = {k: [] for k in "ABDE"}
for _draw_h in range(10):
    _rng_h = np.random.default_rng(7400 + _draw_h)
    _s_h, _y_h, _g_h, _ = _slice_world_h(6000, _rng_h)
    _st_h, _, _gt_h, _pt_h = _slice_world_h(60_000, _rng_h)
    _p_h = np.asarray(calibrate_per_slice(_s_h, _y_h, _g_h, _st_h, _gt_h), dtype=float)
    for _k_h in "ABDE":
        _in_h = _gt_h == _k_h
        _mse_h[_k_h].append(np.mean((_p_h[_in_h] - _pt_h[_in_h]) ** 2))
_worst_h = max(_mse_h, key=lambda k: np.mean(_mse_h[k]))
# Over these draws a shrunk per-slice correction is about 5e-4 off (mean squared difference) in its worst
# slice, the smallest; a free offset per slice about 3e-3 there, a separate fit per slice about 2e-2.
assert np.isfinite(np.mean(_mse_h[_worst_h])) and np.mean(_mse_h[_worst_h]) <= 1.5e-3, \
    (f"the slices other than the riskier one: in slice {_worst_h} your probabilities are "
     f"{np.mean(_mse_h[_worst_h]):.1e} (mean squared difference) from the true ones; at most 1.5e-3 allowed")
### END HIDDEN TESTS


# %% [markdown] id="md-selective-prediction"
# ## 9. Using confidence: selective prediction
#
# A model that knows when it does not know can **abstain**: act on confident predictions, route the
# rest to a person (an analyst, a manual review queue). The trade-off is measured by
#
# * **coverage**: the share of predictions acted on, and
# * **selective risk**: the error rate among them (1 − precision).
#
# The **risk–coverage curve** sorts predictions by confidence and accepts them from the top; a good
# confidence score makes the risk fall as coverage shrinks. The area under it (AURC) summarises it.
# Temperature scaling hardly changes the curve: it fixes what the numbers *mean*, not how they *rank*.
# What calibration buys is that a threshold can be chosen from its meaning — "act when $P \ge 0.9$" —
# and that the threshold keeps its meaning when we report it.

# %% id="code-3628a50c"
conf_raw = probs_test.max(axis=1)
conf_ts = probs_ts.max(axis=1)
correct = (probs_test.argmax(axis=1) == digits.y_test).astype(int)
ax = cal.plot_risk_coverage(correct, conf_raw, label="raw confidence")
cal.plot_risk_coverage(correct, conf_ts, ax=ax, label="temperature-scaled")
cal.plot_risk_coverage(correct, np.random.default_rng(SEED).random(len(correct)), ax=ax, label="random order")
plt.show()

# Act only where the validation data says we reach 97% accuracy.
correct_val = (probs_val.argmax(axis=1) == digits.y_val).astype(int)
choice = cal.selective_threshold(correct_val, scaler.predict_proba(logits_val).max(axis=1), target_precision=0.97)
accepted = conf_ts >= choice.threshold
print(f"validation: threshold {choice.threshold:.3f}, accuracy {choice.precision:.3f}, coverage {choice.coverage:.3f}")
print(f"test:       accuracy {correct[accepted].mean():.3f} on the {accepted.mean():.1%} of digits acted on "
      f"(all digits: {correct.mean():.3f})")


# %% [markdown] id="md-36efa8fa"
# On the test digits the accuracy of the accepted predictions lands near the target, not exactly on it:
# a threshold chosen on 500 validation examples is an estimate (stage 4's bootstrap tells you how
# uncertain). The same logic serves the fraud team: alerts go to analysts only when the calibrated
# probability is high enough that at least half of them are real fraud.
#
# ### When the fraud rate moves: label shift
#
# A threshold chosen on validation data keeps its precision only while the traffic looks like the
# validation data. The most common change in fraud is in **how much** fraud there is — a fraud ring
# starts working, a season ends — while each fraud looks like the frauds before it. This is **label
# shift** (or prior shift): $P(y)$ changes, $P(x \mid y)$ does not. Then
#
# * the score distribution of the frauds and of the legitimate transactions are both unchanged, so a
#   ranking stays as good as it was (ROC-AUC is unchanged);
# * but every calibrated probability is wrong: by Bayes' rule $P(y = 1 \mid x)$ depends on the prior, and
#   a threshold's precision moves with it. With half as much fraud, the same queue holds about half as
#   many frauds per false alarm.
#
# The new traffic's labels arrive weeks later (chargebacks), but its **scores** are there at once, and
# their distribution is a mixture of the two unchanged class distributions, weighted by the new prior.
# Saerens, Latinne & Decaestecker (2002) estimate the new prior from unlabeled scores with an EM
# algorithm on calibrated probabilities; Lipton, Wang & Smola (2018) with a confusion matrix (black-box
# shift estimation).
#
# ### Exercise 8 (tier 5) — a review queue that keeps its precision when the fraud rate moves
#
# Implement `review_threshold(val_scores, val_y, new_scores, target_precision)` returning a float
# threshold: the new transactions with `score >= threshold` go to the analysts' review queue.
#
# * `val_scores`, `val_y`: a model's scores in $(0, 1)$ (not calibrated) and the labels of validation
#   data; `new_scores`: the same model's scores on today's traffic, **without labels**, whose fraud rate
#   may differ from the validation data's and is not given. Assume label shift: within each class, the
#   scores are distributed as in validation;
# * the queue's precision **on the new traffic** must reach `target_precision`, and among the thresholds
#   that reach it, choose the one that catches the most fraud;
# * if you find that no threshold reaches the target, return `np.inf` (review nothing);
# * NumPy only (no scikit-learn, no `mlcourse`).
#
# The hidden tests draw validation data and new traffic at fraud rates you have not seen, and measure
# the precision and the recall of your queue with the new traffic's labels.

# %% id="ex8-review-threshold" mlcourse={"stage": "calibration", "tier": 5, "forbid": ["sklearn", "statsmodels", "mlcourse.calibration", "mlcourse.evaluation", "mlcourse.monitoring"], "equivalent_mutants": {"8:19 number 30>31": "Newton's method has converged well before 30 steps", "10:40 arith Sub>Add": "Newton's method with this positive-definite stand-in for the curvature still converges to the same fit (its fixed point is where the gradient is zero)", "10:40 number 1>2": "Newton's method with this positive-definite stand-in for the curvature still converges to the same fit (its fixed point is where the gradient is zero)", "16:19 number 300>301": "EM has converged well before 300 steps", "23:24 compare GtE>Gt": "an estimated precision equals the target exactly only on a set of measure zero", "26:31 number 1>2": "the threshold one transaction higher in the ranking: a queue of the same precision and recall up to one transaction in tens of thousands"}} nbgrader={"grade": false, "grade_id": "ex8_review_threshold", "locked": false, "schema_version": 3, "solution": true, "task": false}
def review_threshold(val_scores, val_y, new_scores, target_precision):
    """Lowest score threshold whose queue reaches the target precision on the new, unlabeled traffic."""
    ### BEGIN SOLUTION
    sv, yv, sn = np.asarray(val_scores), np.asarray(val_y), np.asarray(new_scores)
    # Platt scaling on validation: P_val(fraud | score), calibrated for the validation prior.
    X = np.column_stack([np.log(sv / (1 - sv)), np.ones_like(sv)])
    w = np.zeros(2)
    for _ in range(30):
        p = 1 / (1 + np.exp(-(X @ w)))
        w -= np.linalg.solve((X * (p * (1 - p))[:, None]).T @ X, X.T @ (p - yv))
    odds_val = np.exp(w[0] * np.log(sn / (1 - sn)) + w[1])
    # EM (Saerens et al., 2002): the new prior is the mean posterior, and the posterior's odds are the
    # validation odds times the ratio of prior odds.
    prior_val = yv.mean()
    prior = prior_val
    for _ in range(300):
        odds = odds_val * (prior / (1 - prior)) / (prior_val / (1 - prior_val))
        q = odds / (1 + odds)
        prior = q.mean()
    # The queue's expected precision at each threshold is the mean posterior above it.
    order = np.argsort(-sn)
    precision = np.cumsum(q[order]) / np.arange(1, sn.size + 1)
    ok = np.flatnonzero(precision >= target_precision)
    if ok.size == 0:
        return np.inf
    return float(sn[order][ok[-1]])
    ### END SOLUTION

# %% id="ex8-mistake-validation-threshold" mistake={"readable": "demo cell code-3628a50c: mlcourse.calibration.selective_threshold on the validation data", "why": "the lowest threshold that reaches the target on the validation data: its precision moves with the fraud rate"}
def review_threshold(val_scores, val_y, new_scores, target_precision):
    sv, yv = np.asarray(val_scores, dtype=float), np.asarray(val_y, dtype=float)
    order = np.argsort(-sv, kind="stable")
    precision = np.cumsum(yv[order]) / np.arange(1, sv.size + 1)
    ok = np.flatnonzero(precision >= target_precision)
    return float(sv[order][ok[-1]]) if ok.size else np.inf

# %% id="ex8-mistake-no-prior-update" mistake={"why": "calibrates on validation and reads the queue's precision off the new scores, but keeps the validation fraud rate"}
def review_threshold(val_scores, val_y, new_scores, target_precision):
    sv, yv, sn = np.asarray(val_scores, dtype=float), np.asarray(val_y, dtype=float), np.asarray(new_scores, dtype=float)
    X = np.column_stack([np.log(sv / (1 - sv)), np.ones_like(sv)])
    w = np.zeros(2)
    for _ in range(30):
        p = 1 / (1 + np.exp(-(X @ w)))
        w -= np.linalg.solve((X * (p * (1 - p))[:, None]).T @ X, X.T @ (p - yv))
    q = 1 / (1 + np.exp(-(w[0] * np.log(sn / (1 - sn)) + w[1])))
    order = np.argsort(-sn)
    precision = np.cumsum(q[order]) / np.arange(1, sn.size + 1)
    ok = np.flatnonzero(precision >= target_precision)
    return float(sn[order][ok[-1]]) if ok.size else np.inf

# %% id="ex8-mistake-per-transaction" mistake={"readable": "section 9's 'act when P >= 0.9': a threshold on the calibrated probability of each transaction", "why": "reviews the transactions whose own calibrated probability reaches the target: the queue's precision is far above the target and most frauds are missed"}
def review_threshold(val_scores, val_y, new_scores, target_precision):
    sv, yv = np.asarray(val_scores, dtype=float), np.asarray(val_y, dtype=float)
    X = np.column_stack([np.log(sv / (1 - sv)), np.ones_like(sv)])
    w = np.zeros(2)
    for _ in range(30):
        p = 1 / (1 + np.exp(-(X @ w)))
        w -= np.linalg.solve((X * (p * (1 - p))[:, None]).T @ X, X.T @ (p - yv))
    z = (np.log(target_precision / (1 - target_precision)) - w[1]) / w[0]
    return float(1 / (1 + np.exp(-z)))

# %% id="ex8-review-threshold-tests" mlcourse={"stage": "calibration", "tier": 5} nbgrader={"grade": true, "grade_id": "ex8_review_threshold_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
_t = review_threshold(val["score"].to_numpy(), val["is_fraud"].to_numpy(), test["score"].to_numpy(), 0.3)
assert isinstance(_t, (float, np.floating)) and 0.0 < float(_t) < 1.0, f"expected a float threshold in (0, 1), got {_t!r}"
# A stricter target never lowers the threshold.
_t_strict = float(review_threshold(val["score"].to_numpy(), val["is_fraud"].to_numpy(), test["score"].to_numpy(), 0.5))
assert _t_strict >= float(_t), f"expected threshold(target 0.5) >= threshold(target 0.3), got {_t_strict} < {float(_t)}"
# No shift (test is drawn like val): the queue's precision on the test labels is near the target.
_queue = test["score"].to_numpy() >= float(_t)
_prec = test["is_fraud"].to_numpy()[_queue].mean()
assert 0.2 <= _prec <= 0.45, f"no shift, target 0.3: expected a precision on the test labels near 0.3, got {_prec:.3f}"
# An unreachable target: review nothing.
_t_none = review_threshold(val["score"].to_numpy(), val["is_fraud"].to_numpy(), test["score"].to_numpy(), 0.999999)
assert np.isinf(float(_t_none)), f"target precision 0.999999: expected np.inf (review nothing), got {_t_none}"

# %% id="ex8-review-threshold-fewer-tests" mlcourse={"stage": "calibration", "tier": 5} nbgrader={"grade": true, "grade_id": "ex8_review_threshold_fewer_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test sends new traffic with far less fraud than validation.
_t = review_threshold(val["score"].to_numpy(), val["is_fraud"].to_numpy(), test["score"].to_numpy()[test["is_fraud"].to_numpy() == 0], 0.3)
assert float(_t) > 0.0, f"new traffic without fraud: expected a positive threshold (or np.inf), got {_t}"
### BEGIN HIDDEN TESTS
def _label_shift_world_h(n, rng, prior):
    y = (rng.random(n) < prior).astype(int)
    z = np.where(y == 1, rng.normal(1.5, 1.0, n), rng.normal(-1.0, 1.0, n))
    return 1 / (1 + np.exp(-(1.8 * z + 1.0))), y             # scores: a miscalibrated, monotone map

_prec_h = []
for _draw_h in range(5):
    _rng_h = np.random.default_rng(8100 + _draw_h)
    _sv_h, _yv_h = _label_shift_world_h(4000, _rng_h, 0.15)
    _sn_h, _yn_h = _label_shift_world_h(30_000, _rng_h, 0.03)
    _t_h = float(review_threshold(_sv_h, _yv_h, _sn_h, 0.8))
    _queue_h = _sn_h >= _t_h
    _prec_h.append(_yn_h[_queue_h].mean() if _queue_h.any() else 0.0)
# Over these draws the validation threshold gives a precision of about 0.42 on the new traffic.
assert np.mean(_prec_h) >= 0.77, \
    (f"validation at 15% fraud, new traffic at 3%, target precision 0.8: your queue's precision on the new "
     f"traffic is {np.mean(_prec_h):.3f} on average (at least 0.77 needed)")
### END HIDDEN TESTS

# %% id="ex8-review-threshold-more-tests" mlcourse={"stage": "calibration", "tier": 5} nbgrader={"grade": true, "grade_id": "ex8_review_threshold_more_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test sends new traffic with far more fraud than validation, and compares the
# frauds your queue catches with the best queue that meets the target.
_t = review_threshold(val["score"].to_numpy(), val["is_fraud"].to_numpy(), test["score"].to_numpy(), 0.3)
assert float(_t) < 1.0, f"expected a threshold below 1, got {_t}"
### BEGIN HIDDEN TESTS
def _label_shift_world_h(n, rng, prior):
    y = (rng.random(n) < prior).astype(int)
    z = np.where(y == 1, rng.normal(1.5, 1.0, n), rng.normal(-1.0, 1.0, n))
    return 1 / (1 + np.exp(-(1.8 * z + 1.0))), y

_prec_h, _recall_h, _best_h = [], [], []
for _draw_h in range(5):
    _rng_h = np.random.default_rng(8200 + _draw_h)
    _sv_h, _yv_h = _label_shift_world_h(4000, _rng_h, 0.15)
    _sn_h, _yn_h = _label_shift_world_h(30_000, _rng_h, 0.4)
    _t_h = float(review_threshold(_sv_h, _yv_h, _sn_h, 0.8))
    _queue_h = _sn_h >= _t_h
    _prec_h.append(_yn_h[_queue_h].mean() if _queue_h.any() else 1.0)
    _recall_h.append(_yn_h[_queue_h].sum() / _yn_h.sum())
    _order_h = np.argsort(-_sn_h)
    _ok_h = np.flatnonzero(np.cumsum(_yn_h[_order_h]) / np.arange(1, _sn_h.size + 1) >= 0.8)
    _best_h.append(_yn_h[_order_h][: _ok_h[-1] + 1].sum() / _yn_h.sum())
# Over these draws the best queue catches about 93% of the frauds; the validation threshold about 73%.
assert np.mean(_prec_h) >= 0.77 and np.mean(_recall_h) >= 0.9 * np.mean(_best_h), \
    (f"validation at 15% fraud, new traffic at 40%, target precision 0.8: your queue has precision "
     f"{np.mean(_prec_h):.3f} (at least 0.77 needed) and catches {np.mean(_recall_h):.1%} of the frauds; the best "
     f"queue that meets the target catches {np.mean(_best_h):.1%} (at least 90% of that needed)")
### END HIDDEN TESTS


# %% [markdown] id="md-d0f554b4"
# ## 10. Prediction sets with a guarantee: conformal prediction
#
# Selective prediction answers or abstains. **Conformal prediction** answers with a **set** of classes
# that contains the truth with a probability we choose, say 90% — *whatever the model*, as long as the
# new data are exchangeable with the calibration data (drawn from the same distribution). The recipe
# (split conformal, "LAC"):
#
# 1. On $n$ held-out calibration examples, compute a **non-conformity score**: how little probability the
#    model gave the truth, $s_i = 1 - \hat p_{i, y_i}$.
# 2. Take the $\lceil (n+1)(1-\alpha) \rceil$-th smallest score, $\hat q$. (If that rank exceeds $n$,
#    $\hat q = \infty$: too few examples for the guarantee, every set holds every class.)
# 3. For a new example, the set is $C(x) = \{k : 1 - \hat p_k \le \hat q\}$.
#
# **Why it works.** The new example's score is exchangeable with the $n$ calibration scores, so its rank
# among the $n+1$ is uniform; it is at most the $\lceil (n+1)(1-\alpha)\rceil$-th smallest with probability
# at least $1 - \alpha$. Hence $P(y \in C(x)) \ge 1-\alpha$, on average over calibration sets (and at most
# $1 - \alpha + \frac{1}{n+1}$ with continuous scores). The "+1" is the finite-sample correction; plain
# `np.quantile(s, 1 - alpha)` under-covers on small calibration sets.
#
# What the model's quality buys is **small sets**: a sharp, well-ranked model gives singletons on easy
# examples and larger sets on hard ones — the set size is an honest uncertainty signal. A set may also be
# **empty** when the model is very sure and $\alpha$ allows a few errors.

# %% id="code-eb413e59"
rows = []
for alpha in [0.02, 0.05, 0.1, 0.2]:
    cp = cal.SplitConformalClassifier(alpha=alpha).fit(probs_val, digits.y_val)
    sets = cp.predict_sets(probs_test)
    rows.append({"alpha": alpha, "target coverage": 1 - alpha, "test coverage": cal.set_coverage(sets, digits.y_test),
                 "average set size": cal.average_set_size(sets), "empty sets": np.mean(sets.sum(axis=1) == 0)})
print(pd.DataFrame(rows).set_index("alpha").round(3))

# The guarantee is about the average over calibration sets: re-split validation + test many times.
pooled_probs = np.vstack([probs_val, probs_test])
pooled_y = np.r_[digits.y_val, digits.y_test]
rng = np.random.default_rng(SEED)
coverages = []
for _ in range(N_REPEATS):
    perm = rng.permutation(len(pooled_y))
    cal_idx, new_idx = perm[:500], perm[500:]
    cp = cal.SplitConformalClassifier(alpha=0.1).fit(pooled_probs[cal_idx], pooled_y[cal_idx])
    coverages.append(cal.set_coverage(cp.predict_sets(pooled_probs[new_idx]), pooled_y[new_idx]))
plt.figure(figsize=(6, 3.5))
plt.hist(coverages, bins=25, alpha=0.7)
plt.axvline(0.9, color="black", linestyle="--", label="1 - alpha = 0.9")
plt.axvline(np.mean(coverages), color="C1", label=f"mean = {np.mean(coverages):.3f}")
plt.xlabel("coverage on the held-out examples"); plt.legend(); plt.title(f"{N_REPEATS} random calibration splits")
plt.show()


# %% [markdown] id="md-27a8f43e"
# Each split's coverage scatters around its mean, which sits at or just above 0.9: the guarantee holds on
# average, not for every split. Note that the raw, over-confident probabilities were used: conformal
# prediction does not need calibrated probabilities for its guarantee — it *calibrates the threshold*.
# Better probabilities give smaller sets.
#
# ## 11. When the inputs shift: the guarantee breaks
#
# The guarantee rests on one assumption: the new examples are **exchangeable** with the calibration
# examples. Under **covariate shift** the inputs come from a new distribution, $P_{new}(x) \ne P_{cal}(x)$,
# while the relation between input and label, $P(y \mid x)$, stays the same: a new scanner writes
# thicker strokes, a new market sends more foreign transactions. If the shifted inputs are the ones the
# model finds hard, the calibration examples under-represent them and the sets are too small.
#
# The demo below builds such a case in one dimension: the model is as over-confident everywhere, but
# the labels are noisier on the right, where the new data live. Split conformal, calibrated on the old
# data, misses its target on the new:

# %% id="code-covariate-shift-demo"
rng = np.random.default_rng(SEED)


def shifted_world(n, mean):
    """Inputs x ~ N(mean, 1); five classes whose labels get noisier as x grows; an over-confident model."""
    x = rng.normal(mean, 1.0, n)
    z = 3.0 * rng.normal(size=(n, 5))
    truth = cal.softmax(z * (1.0 - 0.8 / (1.0 + np.exp(-2.0 * (x - 1.0))))[:, None])
    y = (truth.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1)
    return x, cal.softmax(1.5 * z), y


x_old, p_old, y_old = shifted_world(2000, 0.0)
cp_shift = cal.SplitConformalClassifier(alpha=0.1).fit(p_old[:1000], y_old[:1000])
rows = {}
for name, mean in [("like the calibration data", 0.0), ("shifted right by 1", 1.0), ("shifted right by 2", 2.0)]:
    x_new, p_new, y_new = (x_old[1000:], p_old[1000:], y_old[1000:]) if mean == 0.0 else shifted_world(3000, mean)
    sets = cp_shift.predict_sets(p_new)
    rows[name] = {"coverage (target 0.9)": cal.set_coverage(sets, y_new), "average set size": cal.average_set_size(sets)}
pd.DataFrame(rows).T.round(3)

# %% [markdown] id="md-weighted-conformal"
# **Weighted conformal prediction** (Tibshirani, Barber, Candès & Ramdas, 2019) restores the guarantee
# under covariate shift: weigh each calibration example by the **likelihood ratio**
# $w(x) = P_{new}(x) / P_{cal}(x)$, so that the weighted calibration set looks like the new data, and
# take the $(1-\alpha)$ quantile of the non-conformity scores under these weights — with the new point's
# own weight $w(x_{new})$ placed at $+\infty$, the weighted version of the "+1". Each new example gets
# its own threshold.
#
# The likelihood ratio is rarely known, but it can be **estimated with a classifier**: label the
# calibration inputs 0 and the new inputs 1 and train a classifier to tell them apart (a *domain
# classifier*). By Bayes' rule its odds $P(\text{new} \mid x) / P(\text{cal} \mid x)$ are the likelihood
# ratio times $n_{new} / n_{cal}$. Only the **inputs** of the new data are needed, never their labels.
# A domain classifier that cannot tell the two apart means there is no covariate shift to correct.
#
# ### Exercise 9 (tier 5) — prediction sets that keep their coverage under covariate shift
#
# Implement `shift_aware_sets(cal_X, cal_probs, cal_y, new_X, new_probs, alpha)` returning a **boolean**
# array of shape `new_probs.shape`: `True` where class $k$ is in the new example's set.
#
# * `cal_X` `(n, d)`, `cal_probs` `(n, K)`, `cal_y` `(n,)`: the inputs, a model's probabilities and the
#   true classes of held-out calibration examples; `new_X` `(m, d)`, `new_probs` `(m, K)`: the inputs and
#   probabilities of new examples **without labels**, drawn from a shifted input distribution;
# * use the non-conformity score $1 - \hat p_{y}$ of section 10;
# * **coverage**: on the new data, at least $1 - \alpha$ of the true classes must be in their sets;
# * **efficiency**: the sets must be about as small as those of weighted conformal prediction with the
#   *true* likelihood ratio (at most 1.25 times their average size): every class in every set fails;
# * you may use scikit-learn (for a domain classifier, say); not `mlcourse`.
#
# The hidden tests draw calibration data and shifted new data from worlds you have not seen, where
# plain split conformal misses its target by far, and measure coverage and set size on the new data.

# %% id="ex9-shift-aware-sets" mlcourse={"stage": "calibration", "tier": 5, "forbid": ["mlcourse.calibration", "mlcourse.monitoring"], "equivalent_mutants": {"21:11 compare LtE>Lt": "a new example's non-conformity equals a calibration score exactly only on a set of measure zero"}} nbgrader={"grade": false, "grade_id": "ex9_shift_aware_sets", "locked": false, "schema_version": 3, "solution": true, "task": false}
def shift_aware_sets(cal_X, cal_probs, cal_y, new_X, new_probs, alpha):
    """Weighted conformal (LAC) sets, the likelihood ratio estimated by a domain classifier."""
    ### BEGIN SOLUTION
    from sklearn.linear_model import LogisticRegression

    cal_X, new_X = np.asarray(cal_X), np.asarray(new_X)
    cal_probs, new_probs = np.asarray(cal_probs), np.asarray(new_probs)
    n, m = len(cal_X), len(new_X)
    domain = LogisticRegression().fit(np.vstack([cal_X, new_X]), np.r_[np.zeros(n), np.ones(m)])
    # The domain classifier's odds P(new | x) / P(cal | x) are the likelihood ratio times m / n; the
    # constant factor cancels in the weighted quantile, so the odds themselves serve as weights.
    w_cal = np.exp(domain.decision_function(cal_X))
    w_new = np.exp(domain.decision_function(new_X))
    scores = 1 - cal_probs[np.arange(n), np.asarray(cal_y)]
    order = np.argsort(scores)
    cum = np.cumsum(w_cal[order])
    # Per new point: the smallest score whose weighted share, with the new point's weight at +inf in
    # the total, reaches 1 - alpha; +inf if the calibration weights never reach it.
    k = np.searchsorted(cum, (1 - alpha) * (cum[-1] + w_new))
    q = np.append(scores[order], np.inf)[k]
    return (1 - new_probs) <= q[:, None]
    ### END SOLUTION

# %% id="ex9-mistake-split-conformal" mistake={"readable": "demo cells code-eb413e59 and code-covariate-shift-demo: mlcourse.calibration.SplitConformalClassifier", "why": "plain split conformal: calibrated on the old inputs, it under-covers where the new ones are"}
def shift_aware_sets(cal_X, cal_probs, cal_y, new_X, new_probs, alpha):
    cal_probs, new_probs, cal_y = np.asarray(cal_probs, dtype=float), np.asarray(new_probs, dtype=float), np.asarray(cal_y)
    n = len(cal_y)
    scores = np.sort(1 - cal_probs[np.arange(n), cal_y])
    k = int(np.ceil((n + 1) * (1 - alpha) - 1e-9))
    return (1 - new_probs) <= (scores[k - 1] if k <= n else np.inf)

# %% id="ex9-mistake-inverted-ratio" mistake={"why": "weighs by P_cal(x) / P_new(x), the ratio upside down: the easy region gets the weight"}
def shift_aware_sets(cal_X, cal_probs, cal_y, new_X, new_probs, alpha):
    from sklearn.linear_model import LogisticRegression
    cal_X, new_X = np.asarray(cal_X, dtype=float), np.asarray(new_X, dtype=float)
    cal_probs, new_probs = np.asarray(cal_probs, dtype=float), np.asarray(new_probs, dtype=float)
    n, m = len(cal_X), len(new_X)
    domain = LogisticRegression().fit(np.vstack([cal_X, new_X]), np.r_[np.zeros(n), np.ones(m)])
    w_cal = np.exp(-domain.decision_function(cal_X)) * m / n
    w_new = np.exp(-domain.decision_function(new_X)) * m / n
    scores = 1 - cal_probs[np.arange(n), np.asarray(cal_y)]
    order = np.argsort(scores)
    cum = np.cumsum(w_cal[order])
    q = np.append(scores[order], np.inf)[np.searchsorted(cum, (1 - alpha) * (cum[-1] + w_new))]
    return (1 - new_probs) <= q[:, None]

# %% id="ex9-mistake-every-class" mistake={"why": "puts every class in every set: coverage 1, and no information"}
def shift_aware_sets(cal_X, cal_probs, cal_y, new_X, new_probs, alpha):
    return np.ones(np.shape(new_probs), dtype=bool)

# %% id="ex9-shift-aware-sets-tests" mlcourse={"stage": "calibration", "tier": 5} nbgrader={"grade": true, "grade_id": "ex9_shift_aware_sets_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
_sets = np.asarray(shift_aware_sets(digits.X_val, probs_val, digits.y_val, digits.X_test, probs_test, 0.1))
assert _sets.shape == probs_test.shape and _sets.dtype == bool, \
    f"expected a boolean array of shape {probs_test.shape}, got {_sets.dtype} of shape {_sets.shape}"
# Validation and test digits are drawn alike: no shift to correct, so the sets behave like split conformal's.
_coverage = float(np.mean(_sets[np.arange(len(digits.y_test)), digits.y_test]))
_size = float(_sets.sum(axis=1).mean())
assert _coverage >= 0.85, f"alpha=0.1, no shift: expected coverage near 0.9 (>= 0.85), got {_coverage:.3f}"
assert _size <= 3.0, f"alpha=0.1, no shift: expected small sets (average <= 3 classes), got {_size:.2f}"

# %% id="ex9-shift-aware-sets-coverage-tests" mlcourse={"stage": "calibration", "tier": 5} nbgrader={"grade": true, "grade_id": "ex9_shift_aware_sets_coverage_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test measures coverage on shifted new data from worlds you have not seen.
_x_new, _p_new, _y_new = shifted_world(1000, 2.0)
_sets = np.asarray(shift_aware_sets(x_old[:1000, None], p_old[:1000], y_old[:1000], _x_new[:, None], _p_new, 0.1))
assert _sets.shape == _p_new.shape, f"the demo's shifted data: expected sets of shape {_p_new.shape}, got {_sets.shape}"
### BEGIN HIDDEN TESTS
def _shift_world_h(n, rng, mu, k=6):
    # Two-dimensional inputs; labels get noisier as x[0] grows; the model is blind to it.
    X = rng.normal(0, 1, (n, 2)) + mu
    base = 3.0 * rng.normal(0, 1, (n, k))
    z_true = base * (1 - 0.85 / (1 + np.exp(-2 * (X[:, 0] - 1))))[:, None]
    p_true = np.exp(z_true - z_true.max(1, keepdims=True))
    p_true /= p_true.sum(1, keepdims=True)
    y = (p_true.cumsum(1) < rng.random((n, 1))).sum(1)
    z_model = 1.5 * base
    p_model = np.exp(z_model - z_model.max(1, keepdims=True))
    return X, p_model / p_model.sum(1, keepdims=True), y

for _alpha_h in (0.1, 0.2):
    _cov_h = []
    for _draw_h in range(5):
        _rng_h = np.random.default_rng(9100 + _draw_h + int(100 * _alpha_h))
        _cX_h, _cp_h, _cy_h = _shift_world_h(1000, _rng_h, np.zeros(2))
        _nX_h, _np_h, _ny_h = _shift_world_h(3000, _rng_h, np.array([1.5, 0.0]))
        _S_h = np.asarray(shift_aware_sets(_cX_h, _cp_h, _cy_h, _nX_h, _np_h, _alpha_h), dtype=bool)
        _cov_h.append(np.mean(_S_h[np.arange(len(_ny_h)), _ny_h]))
    # Over these draws plain split conformal covers about 0.74 (alpha 0.1) and 0.61 (alpha 0.2).
    assert np.mean(_cov_h) >= 1 - _alpha_h - 0.02, \
        (f"inputs shifted towards a harder region, alpha={_alpha_h}: your sets cover {np.mean(_cov_h):.3f} of the new "
         f"examples on average (at least {1 - _alpha_h - 0.02:.2f} needed)")

# Ten calibration examples, no shift, alpha = 0.1: the new point's own weight (the weighted "+1") is what
# keeps the coverage at 1 - alpha (the solution covers about 0.96 here, the estimated weights vary);
# without it the sets cover about 0.77.
_cov_h = []
for _draw_h in range(80):
    _rng_h = np.random.default_rng(9500 + _draw_h)
    _cX_h, _cp_h, _cy_h = _shift_world_h(10, _rng_h, np.zeros(2))
    _nX_h, _np_h, _ny_h = _shift_world_h(40, _rng_h, np.zeros(2))
    _S_h = np.asarray(shift_aware_sets(_cX_h, _cp_h, _cy_h, _nX_h, _np_h, 0.1), dtype=bool)
    _cov_h.append(np.mean(_S_h[np.arange(len(_ny_h)), _ny_h]))
assert np.mean(_cov_h) >= 0.93, \
    (f"calibration sets of 10 examples, no shift, alpha=0.1: your sets cover {np.mean(_cov_h):.3f} of the new "
     f"examples on average (at least 0.93 needed: the finite-sample correction)")
### END HIDDEN TESTS

# %% id="ex9-shift-aware-sets-size-tests" mlcourse={"stage": "calibration", "tier": 5} nbgrader={"grade": true, "grade_id": "ex9_shift_aware_sets_size_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test compares the size of your sets with weighted conformal prediction's
# using the true likelihood ratio, on the same shifted data.
_sets = np.asarray(shift_aware_sets(x_old[:1000, None], p_old[:1000], y_old[:1000], x_old[1000:, None], p_old[1000:], 0.2))
assert _sets.shape == p_old[1000:].shape and _sets.sum(axis=1).mean() < 5, \
    f"the demo's calibration-like data, alpha=0.2: expected sets smaller than all 5 classes on average"
### BEGIN HIDDEN TESTS
def _shift_world_h(n, rng, mu, k=6):
    X = rng.normal(0, 1, (n, 2)) + mu
    base = 3.0 * rng.normal(0, 1, (n, k))
    z_true = base * (1 - 0.85 / (1 + np.exp(-2 * (X[:, 0] - 1))))[:, None]
    p_true = np.exp(z_true - z_true.max(1, keepdims=True))
    p_true /= p_true.sum(1, keepdims=True)
    y = (p_true.cumsum(1) < rng.random((n, 1))).sum(1)
    z_model = 1.5 * base
    p_model = np.exp(z_model - z_model.max(1, keepdims=True))
    return X, p_model / p_model.sum(1, keepdims=True), y

_mu_h = np.array([1.5, 0.0])
_size_h, _oracle_h = [], []
for _draw_h in range(5):
    _rng_h = np.random.default_rng(9300 + _draw_h)
    _cX_h, _cp_h, _cy_h = _shift_world_h(1000, _rng_h, np.zeros(2))
    _nX_h, _np_h, _ny_h = _shift_world_h(3000, _rng_h, _mu_h)
    _S_h = np.asarray(shift_aware_sets(_cX_h, _cp_h, _cy_h, _nX_h, _np_h, 0.1), dtype=bool)
    _size_h.append(_S_h.sum(1).mean())
    # Weighted conformal with the true likelihood ratio of N(mu, I) to N(0, I): exp(x.mu - |mu|^2 / 2).
    _wc_h = np.exp(_cX_h @ _mu_h - _mu_h @ _mu_h / 2)
    _wn_h = np.exp(_nX_h @ _mu_h - _mu_h @ _mu_h / 2)
    _sc_h = 1 - _cp_h[np.arange(1000), _cy_h]
    _o_h = np.argsort(_sc_h)
    _cum_h = np.cumsum(_wc_h[_o_h])
    _q_h = np.append(_sc_h[_o_h], np.inf)[np.searchsorted(_cum_h, 0.9 * (_cum_h[-1] + _wn_h))]
    _oracle_h.append(((1 - _np_h) <= _q_h[:, None]).sum(1).mean())
assert np.mean(_size_h) <= 1.25 * np.mean(_oracle_h), \
    (f"alpha=0.1 on shifted data: your sets hold {np.mean(_size_h):.2f} classes on average; weighted conformal with "
     f"the true likelihood ratio {np.mean(_oracle_h):.2f} (at most 1.25 times that allowed)")
### END HIDDEN TESTS


# %% [markdown] id="md-6690130f"
# ## Summary
#
# * A **calibrated** confidence is a frequency: of the predictions made at confidence $c$, a share $c$
#   is right. Calibration is separate from ranking; a model can rank well and mean nothing by its numbers.
# * **Reliability diagrams** compare confidence and accuracy per bin; show the bin counts, and use
#   equal-mass bins on imbalanced data.
# * **ECE** summarises the diagram but depends on its bins and is biased upwards on small samples;
#   **Brier** and **log-loss** are proper scoring rules without bins, and Murphy's decomposition separates
#   calibration (reliability) from discrimination (resolution).
# * Modern networks are **over-confident** because training keeps growing the logits after the training
#   set is fitted.
# * **After training**, on held-out data: Platt scaling (2 parameters, binary), isotonic regression (any
#   monotone map, needs more data), temperature scaling (1 parameter, multi-class, accuracy unchanged).
# * **Before training**: weight decay and label smoothing reduce over-confidence; too much of either
#   makes the model under-confident. The right strength depends on the data: choose it by a proper
#   score (log-loss) on validation data, not by the training loss.
# * A calibrator fitted on a sample whose **class mix** is not the traffic's answers for the sample;
#   Bayes' rule says how to make it answer for the traffic.
# * **High confidence is not correctness**: calibrated 0.99 predictions are wrong 1% of the time, and
#   hard negatives look exactly like fraud. Check calibration **per slice** too, and fix a slice with
#   as much freedom as its data support.
# * **Decisions**: abstain below a threshold chosen for a target precision (selective prediction), or
#   return conformal prediction sets whose coverage $\ge 1 - \alpha$ is guaranteed for exchangeable data.
# * **Under shift** the decisions move: a new fraud rate changes every probability and every queue's
#   precision (label shift: re-estimate the prior from the unlabeled scores); new inputs break the
#   conformal guarantee (covariate shift: weigh the calibration examples by the likelihood ratio).
#
# ## Going further
#
# * Calibration under **concept drift**: the world's fraud pattern changes on day 80 (stage 8); neither
#   label-shift correction nor likelihood-ratio weights can see a change of $P(y \mid x)$. Monitor
#   calibration online, refit the calibrator on recent labels, and watch label delay (chargebacks
#   arrive weeks later).
# * Calibrating to **observed** labels calibrates to what gets reported: chargebacks under-report fraud
#   for customer group C, so a calibrator fitted on them under-estimates that group's risk (stage 1).
# * Class-wise and adaptive calibration errors; kernel and debiased ECE estimators (Kumar et al., 2019);
#   Dirichlet and beta calibration; focal loss as a calibrating loss (Mukhoti et al., 2020).
# * Conformal prediction beyond LAC: adaptive prediction sets (APS, RAPS), class-conditional and
#   group-conditional coverage, conformal regression, and conformal risk control — Angelopoulos & Bates
#   (2021), *A gentle introduction to conformal prediction and distribution-free uncertainty
#   quantification*.
# * Reading: Guo, Pleiss, Sun & Weinberger (2017), *On calibration of modern neural networks*; Platt
#   (1999), *Probabilistic outputs for support vector machines*; Zadrozny & Elkan (2002), *Transforming
#   classifier scores into accurate multiclass probability estimates*; Niculescu-Mizil & Caruana (2005),
#   *Predicting good probabilities with supervised learning*; Müller, Kornblith & Hinton (2019), *When does
#   label smoothing help?*; Geifman & El-Yaniv (2017), *Selective classification for deep neural networks*.
