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
# 5. improve calibration before training with weight decay and label smoothing;
# 6. show that high confidence does not mean a correct prediction, with examples;
# 7. turn confidence into decisions: abstain below a threshold chosen for a target precision, and give
#    prediction sets with a coverage guarantee (conformal prediction).
#
# **Estimated time:** about 3 hours (≈ 1 h reading and running the demos, ≈ 2 h exercises).
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
# | 3 | proficiency (Junior) | you can calibrate after training on held-out data (Platt, temperature) | 4, 5 |
# | 4 | advanced (Senior) | isotonic calibration by hand, a calibrating training loss, abstention for a precision target | 6, 7, 8 |
# | 5 | expert (Staff) | decisions on confidence with a guarantee that holds on unseen data | 9 |

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

# %% id="ex1-bin-stats" mlcourse={"stage": "calibration", "tier": 1} nbgrader={"grade": false, "grade_id": "ex1_bin_stats", "locked": false, "schema_version": 3, "solution": true, "task": false}
def bin_stats(confidence, outcome, n_bins=10):
    """Per equal-width bin: (count, mean confidence, mean outcome); NaN means in empty bins."""
    ### BEGIN SOLUTION
    confidence = np.asarray(confidence, dtype=float)
    outcome = np.asarray(outcome, dtype=float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bin_id = np.searchsorted(edges[1:-1], confidence, side="left")
    count = np.bincount(bin_id, minlength=n_bins)
    conf_sum = np.bincount(bin_id, weights=confidence, minlength=n_bins)
    outcome_sum = np.bincount(bin_id, weights=outcome, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = np.where(count > 0, conf_sum / count, np.nan)
        accuracy = np.where(count > 0, outcome_sum / count, np.nan)
    return count, mean_confidence, accuracy
    ### END SOLUTION


# %% id="ex1-bin-stats-tests" mlcourse={"stage": "calibration", "tier": 1} nbgrader={"grade": true, "grade_id": "ex1_bin_stats_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
from sklearn.calibration import calibration_curve as _sk_calibration_curve

_rng = np.random.default_rng(1)
_p = _rng.random(3000)
_conf_top = np.max(probs_test, axis=1)
_correct_top = (np.argmax(probs_test, axis=1) == digits.y_test).astype(int)
_cases = [
    (_p, (_rng.random(3000) < _p).astype(int), 10),                        # calibrated
    (_p, (_rng.random(3000) < _p ** 3).astype(int), 15),                   # over-confident
    (_conf_top, _correct_top, 10),                                         # the digit network
    (np.r_[0.0, 0.1, 0.2, 0.35, 0.4, 0.4, 1.0, 1.0], np.array([0, 1, 0, 1, 1, 0, 1, 0]), 5),  # on edges
]
for _conf, _out, _nb in _cases:
    _got = bin_stats(_conf, _out, n_bins=_nb)
    assert len(_got) == 3, f"expected a tuple (count, mean_confidence, accuracy), got {type(_got)}"
    _count, _mc, _acc = (np.asarray(v, dtype=float) for v in _got)
    assert _count.shape == (_nb,) and _mc.shape == (_nb,) and _acc.shape == (_nb,), \
        f"expected three arrays of length n_bins={_nb}, got shapes {_count.shape}, {_mc.shape}, {_acc.shape}"
    _edges = np.linspace(0, 1, _nb + 1)
    _expected_count = np.array([np.sum((_conf > lo) & (_conf <= hi)) + (i == 0) * np.sum(_conf == 0)
                                for i, (lo, hi) in enumerate(zip(_edges[:-1], _edges[1:]))])
    assert np.array_equal(_count, _expected_count), f"counts: expected {_expected_count.tolist()}, got {_count.tolist()}"
    _true, _pred = _sk_calibration_curve(_out, _conf, n_bins=_nb, strategy="uniform")
    _keep = _expected_count > 0
    assert np.allclose(_mc[_keep], _pred, atol=1e-9), f"mean confidence per non-empty bin: expected {np.round(_pred, 4)}, got {np.round(_mc[_keep], 4)}"
    assert np.allclose(_acc[_keep], _true, atol=1e-9), f"accuracy per non-empty bin: expected {np.round(_true, 4)}, got {np.round(_acc[_keep], 4)}"
    assert np.all(np.isnan(_mc[~_keep])) and np.all(np.isnan(_acc[~_keep])), \
        "expected NaN mean confidence and accuracy in empty bins"

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

# %% id="ex2-ece" mlcourse={"stage": "calibration", "tier": 2} nbgrader={"grade": false, "grade_id": "ex2_ece", "locked": false, "schema_version": 3, "solution": true, "task": false}
def ece(confidence, outcome, n_bins=15):
    """Expected calibration error over equal-width, right-closed bins."""
    ### BEGIN SOLUTION
    confidence = np.asarray(confidence, dtype=float)
    outcome = np.asarray(outcome, dtype=float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bin_id = np.searchsorted(edges[1:-1], confidence, side="left")
    count = np.bincount(bin_id, minlength=n_bins)
    gap = np.abs(np.bincount(bin_id, weights=confidence - outcome, minlength=n_bins))
    # sum over bins of (n_b / n) * |mean conf - mean outcome| = sum |sum of (conf - outcome)| / n
    return float(np.sum(gap[count > 0]) / confidence.size)
    ### END SOLUTION


# %% id="ex2-ece-tests" mlcourse={"stage": "calibration", "tier": 2} nbgrader={"grade": true, "grade_id": "ex2_ece_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
def _ece_reference(conf, out, n_bins):
    edges = np.linspace(0, 1, n_bins + 1)
    total = 0.0
    for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:])):
        inside = (conf > lo) & (conf <= hi) if i else (conf >= lo) & (conf <= hi)
        if inside.any():
            total += inside.mean() * abs(conf[inside].mean() - out[inside].mean())
    return total

_rng = np.random.default_rng(2)
_p = _rng.random(5000)
_cases = [
    (_p, (_rng.random(5000) < _p).astype(int), 15),                            # calibrated: small ECE
    (_p, (_rng.random(5000) < _p ** 4).astype(int), 15),                       # over-confident
    (np.max(probs_test, axis=1), (np.argmax(probs_test, axis=1) == digits.y_test).astype(int), 15),
    (np.max(probs_test, axis=1), (np.argmax(probs_test, axis=1) == digits.y_test).astype(int), 7),
    (test["score"].to_numpy(), test["is_fraud"].to_numpy(), 10),               # fraud scores
]
for _conf, _out, _nb in _cases:
    _expected = _ece_reference(_conf, _out, _nb)
    _got = ece(_conf, _out, n_bins=_nb)
    assert np.isclose(float(_got), _expected, atol=1e-9), f"n_bins={_nb}: expected ECE {_expected:.6f}, got {_got}"


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

# %% id="ex3-brier" mlcourse={"stage": "calibration", "tier": 2} nbgrader={"grade": false, "grade_id": "ex3_brier", "locked": false, "schema_version": 3, "solution": true, "task": false}
def brier(y_true, probs):
    """Brier score for binary (1-D probs) or multi-class (2-D probs) predictions."""
    ### BEGIN SOLUTION
    y_true = np.asarray(y_true)
    probs = np.asarray(probs, dtype=float)
    if probs.ndim == 1:
        return float(np.mean((probs - y_true) ** 2))
    onehot = np.zeros_like(probs)
    onehot[np.arange(len(y_true)), y_true.astype(int)] = 1.0
    return float(np.mean(np.sum((probs - onehot) ** 2, axis=1)))
    ### END SOLUTION


# %% id="ex3-brier-tests" mlcourse={"stage": "calibration", "tier": 2} nbgrader={"grade": true, "grade_id": "ex3_brier_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
from sklearn.metrics import brier_score_loss as _sk_brier

_rng = np.random.default_rng(3)
_yb = _rng.integers(0, 2, 400)
_pb = _rng.random(400)
for _yt, _pp in [(_yb, _pb), (test["is_fraud"].to_numpy(), test["score"].to_numpy())]:
    _expected = _sk_brier(_yt, _pp)
    _got = brier(_yt, _pp)
    assert np.isclose(float(_got), _expected, atol=1e-9), f"binary: expected Brier {_expected:.6f}, got {_got}"
_z = _rng.normal(size=(300, 4))
_pm = np.exp(_z) / np.exp(_z).sum(axis=1, keepdims=True)
_ym = _rng.integers(0, 4, 300)
for _yt, _pp, _k in [(_ym, _pm, 4), (digits.y_test, probs_test, 10)]:
    _expected = _sk_brier(_yt, _pp, labels=np.arange(_k), scale_by_half=False)
    _got = brier(_yt, _pp)
    assert np.isclose(float(_got), _expected, atol=1e-9), f"multi-class ({_k} classes): expected Brier {_expected:.6f}, got {_got}"

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
# ### Exercise 4 (tier 3) — Platt scaling by maximum likelihood
#
# Implement `fit_platt(scores, y)` returning the tuple `(a, b)` of floats that **maximises the
# likelihood** of the 0/1 labels `y` under $\hat p = \sigma(a\,s + b)$, *without* target smoothing and
# without any penalty. Use NumPy only (no `sklearn`, no `mlcourse`): Newton's method on the two
# parameters converges in a handful of steps (gradient $X^\top(\hat p - y)$, Hessian
# $X^\top \operatorname{diag}(\hat p(1-\hat p)) X$ with $X = [s, 1]$). You may assume both classes are
# present and not perfectly separated. The tests compare with scikit-learn's unpenalised logistic
# regression on the fraud validation scores and on fresh data.

# %% id="ex4-platt" mlcourse={"stage": "calibration", "tier": 3} nbgrader={"grade": false, "grade_id": "ex4_platt", "locked": false, "schema_version": 3, "solution": true, "task": false}
def fit_platt(scores, y):
    """Maximum-likelihood (a, b) of p = sigmoid(a * scores + b)."""
    ### BEGIN SOLUTION
    s = np.asarray(scores, dtype=float)
    y = np.asarray(y, dtype=float)
    X = np.column_stack([s, np.ones_like(s)])
    rate = y.mean()
    w = np.array([0.0, np.log(rate / (1 - rate))])       # start at the base rate
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-(X @ w)))
        grad = X.T @ (p - y)
        hess = (X * (p * (1 - p))[:, None]).T @ X
        step = np.linalg.solve(hess, grad)
        w = w - step
        if np.max(np.abs(step)) < 1e-12:
            break
    return float(w[0]), float(w[1])
    ### END SOLUTION


# %% id="ex4-platt-tests" mlcourse={"stage": "calibration", "tier": 3} nbgrader={"grade": true, "grade_id": "ex4_platt_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from sklearn.linear_model import LogisticRegression as _SkLR

def _sk_platt(s, y):
    m = _SkLR(C=np.inf, tol=1e-12, max_iter=10_000).fit(np.asarray(s, dtype=float)[:, None], y)
    return m.coef_[0, 0], m.intercept_[0]

_rng = np.random.default_rng(4)
_s = _rng.normal(0, 3, 4000)
_y = (_rng.random(4000) < 1 / (1 + np.exp(-(0.5 * _s - 1.5)))).astype(int)
for _scores, _labels, _name in [(val["logit"].to_numpy(), val["is_fraud"].to_numpy(), "fraud validation logits"),
                                (_s, _y, "synthetic scores (a=0.5, b=-1.5)")]:
    _a_ref, _b_ref = _sk_platt(_scores, _labels)
    _got = fit_platt(_scores, _labels)
    assert len(_got) == 2, f"expected a tuple (a, b), got {_got!r}"
    _a, _b = float(_got[0]), float(_got[1])
    assert np.isclose(_a, _a_ref, rtol=1e-3, atol=1e-4) and np.isclose(_b, _b_ref, rtol=1e-3, atol=1e-4), \
        f"{_name}: expected (a, b) = ({_a_ref:.5f}, {_b_ref:.5f}), got ({_a:.5f}, {_b:.5f})"

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
#
# ### Exercise 5 (tier 3) — fit a temperature
#
# Implement `fit_temperature(logits, labels)`: return the float $T$ in $[0.05, 20]$ that minimises the
# mean negative log-likelihood of `labels` (class indices) under $\operatorname{softmax}(\text{logits}/T)$.
# `logits` has shape `(n, K)`. Compute the log-softmax stably (subtract the row maximum). You may use
# `scipy.optimize` or write your own 1-D search (e.g. golden-section search on $\log T$); do not use
# `mlcourse`. The tests compare with SciPy on the digit network's validation logits and on data whose
# right temperature is known.

# %% id="ex5-temperature" mlcourse={"stage": "calibration", "tier": 3} nbgrader={"grade": false, "grade_id": "ex5_temperature", "locked": false, "schema_version": 3, "solution": true, "task": false}
def fit_temperature(logits, labels):
    """Temperature T in [0.05, 20] minimising the NLL of softmax(logits / T)."""
    ### BEGIN SOLUTION
    from scipy.optimize import minimize_scalar

    z = np.asarray(logits, dtype=float)
    y = np.asarray(labels).astype(int)
    rows = np.arange(len(y))

    def nll(log_t):
        scaled = z / np.exp(log_t)
        scaled = scaled - scaled.max(axis=1, keepdims=True)
        log_p = scaled - np.log(np.exp(scaled).sum(axis=1, keepdims=True))
        return -np.mean(log_p[rows, y])

    result = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded",
                             options={"xatol": 1e-8})
    return float(np.exp(result.x))
    ### END SOLUTION


# %% id="ex5-temperature-tests" mlcourse={"stage": "calibration", "tier": 3} nbgrader={"grade": true, "grade_id": "ex5_temperature_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from scipy.optimize import minimize_scalar as _minimize_scalar
from scipy.special import log_softmax as _log_softmax

def _ref_temperature(z, y):
    f = lambda lt: -np.mean(_log_softmax(z / np.exp(lt), axis=1)[np.arange(len(y)), y])
    return float(np.exp(_minimize_scalar(f, bounds=(np.log(0.05), np.log(20.0)), method="bounded",
                                         options={"xatol": 1e-10}).x))

_rng = np.random.default_rng(5)
_cases = [(logits_val, digits.y_val, "the digit network's validation logits")]
for _sharpen in (0.5, 3.0):
    _z = _rng.normal(0, 2, size=(3000, 6))
    _p = np.exp(_z) / np.exp(_z).sum(axis=1, keepdims=True)
    _y = (_p.cumsum(axis=1) < _rng.random((3000, 1))).sum(axis=1)
    _cases.append((_sharpen * _z, _y, f"logits sharpened x{_sharpen} (true T ~ {_sharpen})"))
_cases.append((100.0 * _z, _y, "huge logits (needs a stable log-softmax)"))
for _z, _y, _name in _cases:
    _expected = _ref_temperature(_z, _y)
    _got = fit_temperature(_z, _y)
    assert np.isfinite(float(_got)) and np.isclose(float(_got), _expected, rtol=2e-3), \
        f"{_name}: expected T = {_expected:.4f}, got {_got}"

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
# ### Exercise 6 (tier 4) — pool adjacent violators
#
# Isotonic regression is solved by the **pool-adjacent-violators** algorithm (PAV). Implement
# `pav(y, weights=None)`: given values `y` in the order the constraint applies and positive `weights`
# (default all 1), return the array $f$ of the same length that minimises $\sum_i w_i (y_i - f_i)^2$
# subject to $f_1 \le f_2 \le \dots \le f_n$.
#
# The idea: keep a stack of **blocks**, each with a weighted mean and a total weight. Push each value as
# a new block; while the top block's mean is *smaller* than the one below it, merge the two (their
# merged mean is the weighted mean). At the end, every element takes its block's mean. This is $O(n)$;
# it must handle 20,000 values in well under a second. NumPy and plain Python only (no `sklearn`, no
# `mlcourse`).

# %% id="ex6-pav" mlcourse={"stage": "calibration", "tier": 4} nbgrader={"grade": false, "grade_id": "ex6_pav", "locked": false, "schema_version": 3, "solution": true, "task": false}
def pav(y, weights=None):
    """Weighted least-squares non-decreasing fit to y (pool adjacent violators)."""
    ### BEGIN SOLUTION
    y = np.asarray(y, dtype=float)
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=float)
    means, totals, sizes = [], [], []                # the stack of blocks
    for value, weight in zip(y, w):
        means.append(value); totals.append(weight); sizes.append(1)
        while len(means) > 1 and means[-2] > means[-1]:
            m2, t2, n2 = means.pop(), totals.pop(), sizes.pop()
            m1, t1, n1 = means.pop(), totals.pop(), sizes.pop()
            t = t1 + t2
            means.append((m1 * t1 + m2 * t2) / t); totals.append(t); sizes.append(n1 + n2)
    return np.repeat(means, sizes)
    ### END SOLUTION


# %% id="ex6-pav-tests" mlcourse={"stage": "calibration", "tier": 4} nbgrader={"grade": true, "grade_id": "ex6_pav_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
import time as _time
from sklearn.isotonic import isotonic_regression as _sk_iso

_rng = np.random.default_rng(6)
_order = np.argsort(val["logit"].to_numpy(), kind="stable")
_cases = [
    (np.array([1.0, 3.0, 2.0, 4.0]), None),
    (np.array([5.0]), None),
    (np.arange(50.0)[::-1], None),                                             # all violating
    (np.r_[np.arange(30.0), -100.0], None),                                    # a cascade back to the start
    (_rng.normal(size=500) + np.linspace(0, 3, 500), _rng.uniform(0.1, 5, 500)),
    (val["is_fraud"].to_numpy()[_order].astype(float), None),                  # labels sorted by score
]
for _y, _w in _cases:
    _expected = _sk_iso(_y, sample_weight=_w)
    _got = np.asarray(pav(_y, _w), dtype=float)
    assert _got.shape == _y.shape, f"expected an array of shape {_y.shape}, got {_got.shape}"
    assert np.allclose(_got, _expected, atol=1e-8), \
        f"n={len(_y)}: expected {np.round(_expected[:6], 4)}..., got {np.round(_got[:6], 4)}..."
_big = _rng.normal(size=20_000) + np.linspace(0, 2, 20_000)
_start = _time.perf_counter()
_got = np.asarray(pav(_big), dtype=float)
_elapsed = _time.perf_counter() - _start
assert np.allclose(_got, _sk_iso(_big), atol=1e-8), "20,000 values: result differs from sklearn's isotonic_regression"
assert _elapsed < 2.0, f"expected an O(n) algorithm (20,000 values in < 2 s), took {_elapsed:.2f} s"

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
# ### Exercise 7 (tier 4) — a label-smoothing loss
#
# Implement `smoothed_cross_entropy(logits, labels, eps)` with NumPy: the mean over examples of the
# cross-entropy between the smoothed target $q = (1-\varepsilon)\,\text{onehot}(y) + \varepsilon / K$ and
# $\operatorname{softmax}(z)$,
#
# $$\ell = -\frac1n \sum_i \sum_k q_{ik} \log p_{ik}, \qquad 0 \le \varepsilon < 1.$$
#
# It must equal PyTorch's `torch.nn.functional.cross_entropy(logits, labels, label_smoothing=eps)` and
# stay finite for huge logits (compute $\log p$ with the log-sum-exp trick, never
# `np.log(softmax(...))`). Do not call `torch`.

# %% id="ex7-smoothed-loss" mlcourse={"stage": "calibration", "tier": 4} nbgrader={"grade": false, "grade_id": "ex7_smoothed_loss", "locked": false, "schema_version": 3, "solution": true, "task": false}
def smoothed_cross_entropy(logits, labels, eps):
    """Mean cross-entropy against label-smoothed targets (1 - eps) * onehot + eps / K."""
    ### BEGIN SOLUTION
    z = np.asarray(logits, dtype=float)
    y = np.asarray(labels).astype(int)
    n, k = z.shape
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    nll = -log_p[np.arange(n), y]          # the usual cross-entropy
    uniform = -log_p.mean(axis=1)          # cross-entropy against the uniform distribution
    return float(np.mean((1.0 - eps) * nll + eps * uniform))
    ### END SOLUTION


# %% id="ex7-smoothed-loss-tests" mlcourse={"stage": "calibration", "tier": 4} nbgrader={"grade": true, "grade_id": "ex7_smoothed_loss_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
import torch.nn.functional as _F

_rng = np.random.default_rng(7)
_cases = [
    (_rng.normal(size=(200, 10)), _rng.integers(0, 10, 200)),
    (logits_test, digits.y_test),
    (_rng.normal(size=(50, 3)) * 1000.0, _rng.integers(0, 3, 50)),        # huge logits
]
for _z, _y in _cases:
    for _eps in (0.0, 0.05, 0.2, 0.9):
        _expected = float(_F.cross_entropy(torch.as_tensor(_z, dtype=torch.float64),
                                           torch.as_tensor(_y, dtype=torch.long), label_smoothing=_eps))
        _got = smoothed_cross_entropy(_z, _y, _eps)
        assert np.isfinite(float(_got)) and np.isclose(float(_got), _expected, rtol=1e-7, atol=1e-9), \
            f"eps={_eps}, logits of scale {np.abs(_z).max():.0f}: expected {_expected:.6f}, got {_got}"

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
# ### Exercise 8 (tier 4) — the threshold for a target precision
#
# Implement `threshold_for_precision(correct, confidence, target)`:
#
# * `correct`: 0/1 array (1 = correct prediction, or 1 = fraud), `confidence`: array of the same length;
# * predictions with `confidence >= t` are accepted; the *precision* of `t` is the mean of `correct` over
#   the accepted ones;
# * return the **smallest** threshold `t` — among the values of `confidence` — whose precision is at
#   least `target`; this maximises coverage while meeting the target. Tied confidences are accepted or
#   rejected together. Precision is *not* monotone in `t`, so do not stop at the first threshold that
#   fails;
# * raise `ValueError` if no threshold reaches the target;
# * vectorise it (sort once, cumulative sums), no Python loop over thresholds.

# %% id="ex8-precision-threshold" mlcourse={"stage": "calibration", "tier": 4} nbgrader={"grade": false, "grade_id": "ex8_precision_threshold", "locked": false, "schema_version": 3, "solution": true, "task": false}
def threshold_for_precision(correct, confidence, target):
    """Smallest confidence threshold whose accepted predictions have precision >= target."""
    ### BEGIN SOLUTION
    correct = np.asarray(correct, dtype=float)
    confidence = np.asarray(confidence, dtype=float)
    order = np.argsort(-confidence, kind="stable")
    c_sorted, s_sorted = correct[order], confidence[order]
    last_of_run = np.r_[np.flatnonzero(s_sorted[1:] != s_sorted[:-1]), s_sorted.size - 1]
    precision = np.cumsum(c_sorted)[last_of_run] / (last_of_run + 1)
    ok = np.flatnonzero(precision >= target)
    if ok.size == 0:
        raise ValueError(f"no threshold reaches precision {target}")
    return float(s_sorted[last_of_run[ok[-1]]])
    ### END SOLUTION


# %% id="ex8-precision-threshold-tests" mlcourse={"stage": "calibration", "tier": 4} nbgrader={"grade": true, "grade_id": "ex8_precision_threshold_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
def _brute_threshold(c, s, target):
    best = None
    for t in np.unique(s):
        if np.mean(c[s >= t]) >= target and (best is None or t < best):
            best = t
    return best

_rng = np.random.default_rng(8)
_cases = []
_s = _rng.random(1500)
_cases.append(((_rng.random(1500) < _s).astype(int), _s))
_s = np.round(_rng.random(800), 2)                                           # ties
_cases.append(((_rng.random(800) < _s).astype(int), _s))
_cases.append((correct, conf_ts))                                            # the digit network
_cases.append((np.array([1, 0, 1, 1, 0, 1, 0, 0]), np.array([0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3])))
for _c, _s in _cases:
    for _target in (0.5, 0.75, 0.9):
        _expected = _brute_threshold(_c, _s, _target)
        if _expected is None:
            continue
        _got = threshold_for_precision(_c, _s, _target)
        assert np.isclose(float(_got), _expected), f"target {_target}: expected threshold {_expected}, got {_got}"
try:
    threshold_for_precision(np.zeros(10, dtype=int), np.linspace(0, 1, 10), 0.5)
    _raised = False
except ValueError:
    _raised = True
assert _raised, "expected ValueError when no threshold reaches the target precision"

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
# ### Exercise 9 (tier 5) — a conformal predictor that keeps its promise on new data
#
# Implement `build_conformal_predictor(cal_probs, cal_labels, alpha)`:
#
# * `cal_probs`: array `(n, K)` of a model's probabilities on held-out calibration examples,
#   `cal_labels`: their true classes $0..K-1$, `alpha` in $(0, 1)$;
# * return a **function** `predict_sets(probs)` that takes an array `(m, K)` of the same model's
#   probabilities on new examples and returns a **boolean** array `(m, K)`: `True` where class $k$ is in
#   the example's set.
#
# It is judged as production would judge it. The hidden tests draw **fresh data from other seeds** — other
# models of other accuracy, several $\alpha$, calibration sets from 5 to 2,000 examples — and require:
#
# 1. **coverage**: averaged over many calibration draws, the share of new examples whose true class is in
#    their set is at least $1 - \alpha$ (minus 0.015 of sampling slack on large calibration sets), also for
#    calibration sets as small as ten examples;
# 2. **efficiency**: the average set size is at most 1.25 times that of the split-conformal LAC sets on the
#    same data (returning every class reaches coverage 1 and fails this);
# 3. when the calibration set is too small for the guarantee (the rank above exceeds $n$), every set holds
#    every class.
#
# The raw probabilities are over-confident: "the top classes until their probabilities add up to
# $1 - \alpha$" under-covers badly. Write it with NumPy (no `mlcourse`).

# %% id="ex9-conformal" mlcourse={"stage": "calibration", "tier": 5} nbgrader={"grade": false, "grade_id": "ex9_conformal", "locked": false, "schema_version": 3, "solution": true, "task": false}
def build_conformal_predictor(cal_probs, cal_labels, alpha):
    """Split conformal (LAC) prediction sets with coverage >= 1 - alpha."""
    ### BEGIN SOLUTION
    cal_probs = np.asarray(cal_probs, dtype=float)
    cal_labels = np.asarray(cal_labels).astype(int)
    n = len(cal_labels)
    scores = 1.0 - cal_probs[np.arange(n), cal_labels]     # non-conformity of the truth
    # The finite-sample rank; the small tolerance keeps e.g. 18.000000000000004 from becoming 19.
    k = int(np.ceil((n + 1) * (1.0 - alpha) - 1e-9))
    q_hat = np.inf if k > n else np.sort(scores)[k - 1]

    def predict_sets(probs):
        probs = np.asarray(probs, dtype=float)
        return (1.0 - probs) <= q_hat

    return predict_sets
    ### END SOLUTION


# %% id="ex9-conformal-tests" mlcourse={"stage": "calibration", "tier": 5} nbgrader={"grade": true, "grade_id": "ex9_conformal_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
_predict = build_conformal_predictor(probs_val, digits.y_val, 0.1)
_sets = np.asarray(_predict(probs_test))
assert _sets.shape == probs_test.shape and _sets.dtype == bool, \
    f"expected a boolean array of shape {probs_test.shape}, got {_sets.dtype} of shape {_sets.shape}"
_coverage = float(np.mean(_sets[np.arange(len(digits.y_test)), digits.y_test]))
_size = float(_sets.sum(axis=1).mean())
assert _coverage >= 0.85, f"alpha=0.1 on the digit test set: expected coverage near 0.9 (>= 0.85), got {_coverage:.3f}"
assert _size <= 3.0, f"alpha=0.1 on the digit test set: expected small sets (average <= 3 classes), got {_size:.2f}"

# %% id="ex9-conformal-hidden-tests" mlcourse={"stage": "calibration", "tier": 5} nbgrader={"grade": true, "grade_id": "ex9_conformal_hidden_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test judges your predictor on fresh data from other seeds.
_check_sets = np.asarray(build_conformal_predictor(probs_val, digits.y_val, 0.2)(probs_test[:5]))
assert _check_sets.shape == (5, 10), f"expected sets of shape (5, 10), got {_check_sets.shape}"
### BEGIN HIDDEN TESTS
def _draw_h(n, seed, k=10, spread=3.0, noise=0.7, sharpen=2.5):
    # A world where the truth is softmax(z) and the model sees a noisy, over-sharpened z.
    rng = np.random.default_rng(seed)
    z = rng.normal(0, spread, (n, k))
    p_true = np.exp(z - z.max(1, keepdims=True)); p_true /= p_true.sum(1, keepdims=True)
    y = (p_true.cumsum(1) < rng.random((n, 1))).sum(1)
    m = sharpen * (z + rng.normal(0, noise, z.shape))
    probs = np.exp(m - m.max(1, keepdims=True)); probs /= probs.sum(1, keepdims=True)
    return probs, y

def _lac_sets_h(cp, cy, tp, alpha):
    n = len(cy)
    s = np.sort(1 - cp[np.arange(n), cy])
    k = int(np.ceil((n + 1) * (1 - alpha) - 1e-9))
    return (1 - tp) <= (s[k - 1] if k <= n else np.inf)

# 1 and 2: large calibration sets, two models, several alphas, 25 draws each (the mean coverage
# of 25 draws has a standard error of at most 0.002, so 0.015 of slack is generous).
for _model in [dict(spread=3.0, noise=0.7, sharpen=2.5, k=10), dict(spread=2.0, noise=0.5, sharpen=3.0, k=6)]:
    for _alpha in (0.05, 0.1, 0.2):
        _cov, _size, _ref_size = [], [], []
        for _seed in range(25):
            _P, _Y = _draw_h(6000, 9000 + 31 * _seed + int(100 * _alpha), **_model)
            _sets = np.asarray(build_conformal_predictor(_P[:2000], _Y[:2000], _alpha)(_P[2000:]), dtype=bool)
            _cov.append(np.mean(_sets[np.arange(4000), _Y[2000:]]))
            _size.append(_sets.sum(1).mean())
            _ref_size.append(_lac_sets_h(_P[:2000], _Y[:2000], _P[2000:], _alpha).sum(1).mean())
        assert np.mean(_cov) >= 1 - _alpha - 0.015, \
            f"fresh data ({_model['k']} classes), alpha={_alpha}: expected mean coverage >= {1 - _alpha - 0.015:.3f}, got {np.mean(_cov):.4f}"
        assert np.mean(_size) <= 1.25 * np.mean(_ref_size), \
            (f"fresh data ({_model['k']} classes), alpha={_alpha}: expected average set size <= "
             f"{1.25 * np.mean(_ref_size):.2f} (1.25 x split conformal), got {np.mean(_size):.2f}")

# 1 on small calibration sets: n = 10 and alpha = 0.2 need the (n + 1) correction.
_P, _Y = _draw_h(600 * 60, 4242)
_cov = []
for _r in range(600):
    _block = slice(60 * _r, 60 * _r + 60)
    _Pb, _Yb = _P[_block], _Y[_block]
    _sets = np.asarray(build_conformal_predictor(_Pb[:10], _Yb[:10], 0.2)(_Pb[10:]), dtype=bool)
    _cov.append(np.mean(_sets[np.arange(50), _Yb[10:]]))
assert np.mean(_cov) >= 0.785, \
    f"calibration sets of 10 examples, alpha=0.2: expected mean coverage >= 0.8 (up to noise), got {np.mean(_cov):.4f}"

# 3: too few calibration examples for the guarantee -> every class in every set.
_P, _Y = _draw_h(50, 77)
_sets = np.asarray(build_conformal_predictor(_P[:5], _Y[:5], 0.1)(_P[5:]), dtype=bool)
assert _sets.all(), "5 calibration examples, alpha=0.1: (n+1)(1-alpha) > n, expected every set to hold every class"
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
#   makes the model under-confident. Tune them on validation calibration.
# * **High confidence is not correctness**: calibrated 0.99 predictions are wrong 1% of the time, and
#   hard negatives look exactly like fraud. Check calibration per slice too.
# * **Decisions**: abstain below a threshold chosen for a target precision (selective prediction), or
#   return conformal prediction sets whose coverage $\ge 1 - \alpha$ is guaranteed for exchangeable data.
#
# ## Going further
#
# * Calibration under **distribution shift**: the world's fraud pattern changes on day 80 (stage 8);
#   a calibrator fitted before the change is miscalibrated after it. Monitor calibration online, refit
#   the calibrator on recent labels, and watch label delay (chargebacks arrive weeks later).
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
