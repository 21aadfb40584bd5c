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
# # Capstone — Staff: one delivery, judged by its outcomes
#
# > *"A Staff engineer, the highest level, should have expert-level knowledge and skills (scoring 5) in
# > multiple key areas and be able to demonstrate substantial outcomes."*
# > — the ML engineer roadmap, "The Path to AI Mastery"
#
# The stage notebooks grade the pieces: a join here, a calibrator there, a monitor on a stream someone else
# scored. This capstone grades the **whole loop**, and only by what it achieves. You join a fraud platform on
# day 59 of a world you have not seen. You get what the platform knows on that day — transactions, late and
# partial labels, a few analyst reviews, customer disputes — and no ground truth. You deliver four things:
#
# 1. a **scorer** (dataset, features, model) that ranks fraud well on traffic it has never seen;
# 2. a **calibrated** scorer whose probabilities match the true fraud rate, although your labels are late;
# 3. a **serving configuration** that keeps the 99th-percentile latency under the SLO during traffic bursts,
#    sized from your scorer's *measured* speed;
# 4. a **monitor** that catches a change of the fraud pattern and a broken input on production streams scored
#    by your own model, without paging for nothing.
#
# Each delivery is judged on **hidden** data — fresh worlds, fresh traffic, fresh incidents — against a
# stated target. Nothing grades how your code looks; everything grades what it does. The judges are public
# (`mlcourse.capstone`), so you can run them on worlds of your own before you submit (section 6).
#
# **Learning objectives.** After this capstone you can
#
# 1. build a training set from what a platform knows on a given day: late, partial, noisy labels, and
#    logged columns that a model should not read;
# 2. train a model that beats a reasonable baseline on fresh data, judged by a metric suited to a rare class;
# 3. calibrate under label delay, choosing a window whose labels have matured — and show why the freshest
#    labels lie;
# 4. size a serving deployment from measured service times: capacity, dynamic batching, tail latency under
#    bursts, the fewest replicas;
# 5. design a monitor for *your* model that catches concept drift and broken inputs without crying wolf;
# 6. check your own work on fresh data before anyone else does.
#
# **Estimated time:** 3–4 hours (≈ 1 h reading and running the demonstrations, 2–3 h on the deliveries and
# your own checks).
#
# **Prerequisites:** modules 01–09, especially 03 (modeling), 05 (calibration), 06 (inference: queues and
# dynamic batching) and 08 (monitoring: `DriftMonitor`, `daily_batches`, `evaluate_alerts`).

# %% [markdown] id="md-grading"
# ### How the capstone counts
#
# | # | delivery | stage tag | outcome measured on hidden data | target | points |
# |---|---|---|---|---|---|
# | 1 | `build_scorer(history)` → scorer | modeling | average precision on 200,000 transactions of two fresh worlds | ≥ 0.36 | 5 |
# | 2 | `calibrate(scorer, history)` → scorer | calibration | expected calibration error (15 equal-mass bins) against the *ground truth* of two fresh worlds | ≤ 0.008 | 5 |
# | 3 | `serving_config(service, load, targets)` → `ServingConfig` | inference | simulated p99 latency of 2,000 req/s with ×1.5 bursts, at your scorer's measured service time | ≤ 25 ms with ≤ 4 replicas | 5 |
# | 4 | `design_monitor(reference)` → monitor | monitoring | three fresh production streams scored by your scorer: pattern change caught within 21 days, broken input within 3 days, ≤ 3 false-alarm days per stream | every stream | 5 |
#
# Each delivery is all or nothing: one hidden outcome, 5 points. The capstone **passes at 70% of its 20
# points** (the rubric's `capstone.pass_fraction`), i.e. three deliveries out of four. The roadmap's **Staff**
# rule is then: Senior, plus level 5 in at least two key areas (modeling, evaluation, inference, monitoring),
# plus the capstone passed. The stage tags above say what each delivery draws on, for the report; capstone
# exercises do **not** change your stage levels, which come from the stage notebooks only.
#
# The targets are data, not prose — the hidden tests read them from `cap.TARGETS`:

# %% id="parameters" tags=["parameters"]
# Papermill parameters. FAST keeps CI runs short (it trims demos only, never tests).
SEED = 0
FAST = False

# %% id="setup"
import dataclasses
import itertools
import warnings

import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline

# nbgrader's Validate fails any test cell that writes to stderr (the grader lets assertions
# decide), and warnings are noise in a first run: so we silence
# library warnings (convergence notes, deprecations, ...) once, here.
warnings.filterwarnings("ignore")

from mlcourse import calibration as cal, capstone as cap, modeling, monitoring as mon
from mlcourse.world import OBSERVED_FEATURES, DriftEvent

# What the platform knows on day 59 of a fresh world of the capstone's variant. No ground truth.
history = cap.platform_history(cap.make_capstone_world(seed=SEED))
LOGGED = [c for c in history.columns if c in OBSERVED_FEATURES or c.startswith("noise_")]  # what a scorer receives
# Fresh traffic with its ground truth, for the demonstrations only (a luxury of a simulated world).
demo_traffic = cap.fresh_traffic((SEED + 1000, SEED + 1001), n_transactions=50_000 if FAST else 100_000)
print(f"history: {len(history):,} transactions, days {history['day'].min()}-{history['day'].max()}, "
      f"{history['label'].notna().sum():,} labels known; logged model inputs: {len(LOGGED)} columns")
pd.Series(dataclasses.asdict(cap.TARGETS), name="target").to_frame()

# %% [markdown] id="md-s1"
# ## 1. What the platform knows on day 59
#
# `history` holds every transaction of days 0–59 with the columns a model may read (`LOGGED`: the world's
# observed features and four `noise_*` columns the platform logs but that carry no signal), and the feedback
# that has **arrived by day 59**:
#
# * `label` / `label_day` — the chargeback label. Only a quarter of the transactions are in the labeled set
#   (one customer group is sampled less, and reports fraud less often). A legit transaction is confirmed when
#   it settles, **7 days** later; a fraud only when the cardholder files a chargeback, **about 30 days** later
#   on average. A label that has not arrived yet is `NaN` — *not* legit. About 1% of labels are wrong;
# * `review_label` — an analyst's verdict on a random 3% audit, known 3 days after the transaction (97% right);
# * `disputed` — the customer disputed the transaction by day 59 (implicit feedback: many frauds, a few
#   legit purchases).
#
# Before choosing rows for training or calibration, look at **label maturity**: how much of the eventual
# feedback has arrived, by the age of the transaction.

# %% id="maturity"
age = cap.AS_OF_DAY - history["day"]
maturity = (history.assign(age=age, known=history["label"].notna())
            .groupby("age").agg(known=("known", "mean"), fraud_rate=("label", "mean")))
settled = maturity[maturity.index >= 7]          # before settlement, only a few early chargebacks are known
known = history[history["label"].notna()]
matured = known[known["day"] <= cap.AS_OF_DAY - 30]
fig, ax = plt.subplots(1, 2, figsize=(11, 3.4))
ax[0].plot(maturity.index, maturity["known"], marker=".")
ax[0].set(xlabel="transaction age on day 59 (days)", ylabel="share with a known label",
          title="Labels known, by age")
ax[1].plot(settled.index, settled["fraud_rate"].rolling(5, center=True, min_periods=1).mean(), marker=".",
           label="among known labels (5-day mean)")
ax[1].axhline(matured["label"].mean(), color="tab:green", lw=1, label="matured labels (age >= 30)")
for a in ax:
    a.axvline(7, color="grey", ls=":", lw=1, label="settlement (7 d)")
    a.axvline(30, color="black", ls="--", lw=1, label="30 days")
ax[1].set(xlabel="transaction age on day 59 (days)", ylabel="fraud rate", ylim=(0, None),
          title="Fraud rate among the known labels, by age")
ax[1].legend(fontsize=8)
plt.tight_layout()
windows = pd.cut(known["day"], [-1, 29, 44, 59], labels=["days 0-29 (age >= 30)", "days 30-44", "days 45-59"])
known.groupby(windows, observed=True)["label"].agg(["size", "mean"]).rename(
    columns={"size": "known labels", "mean": "fraud rate among them"}).round(4)

# %% [markdown] id="md-s1-read"
# Read the right panel from right to left. Transactions older than 30 days show a fraud rate close to the
# eventual one. Younger than that, the legit labels are all in (they settle after 7 days) and the chargebacks
# are still coming: the fraud rate among the known labels falls towards zero. Nothing happened to fraud; the
# labels are late. (Younger than a week no legit label has arrived, and the few early chargebacks make the
# rate meaningless: not plotted.) Anything fitted on the freshest labels — a model, a calibrator, a
# threshold — learns that fraud has almost vanished.
#
# Labels older than about 30 days are **matured**: most chargebacks that will ever come have come. They are
# not perfect either — under-reporting lowers the rate and the 1% of flipped labels raises it — but they are
# the best estimate of the truth the platform has.

# %% [markdown] id="md-s2"
# ## 2. Delivery 1 — dataset, features and model: a scorer
#
# Three decisions make a scorer, and each can be checked before training.
#
# **Rows.** Train on rows whose label has arrived. A row without a label is *unknown*, not legit: count it as
# legit and you add some 120,000 "negatives", among them every recent fraud. The recent labeled rows are
# still skewed (their frauds are missing), but for *ranking* that is a mild dilution, not a bias — delivery 2
# fixes the level.
#
# **Features.** A model should read only columns that carry signal at prediction time. The platform logs four
# `noise_*` columns; they look like features, but nothing in the world depends on them. A model that reads
# them learns a little noise, and worse: its score moves when one of them shifts, so a monitor that watches the
# score pages for nothing (delivery 4). One check: how well does each numeric column alone separate the
# matured labels?

# %% id="signal"
numeric = [c for c in LOGGED if c in mon.NUMERIC_FEATURES or c.startswith("noise_")]
separation = {c: roc_auc_score(matured["label"], matured[c].fillna(matured[c].median())) for c in numeric}
pd.Series({c: max(a, 1 - a) for c, a in separation.items()}, name="one-column ROC-AUC (0.5 = no signal)").round(3).to_frame()

# %% [markdown] id="md-s2-model"
# A one-column AUC near 0.5 does not make a column useless: the hour matters through the night, which sits
# at both ends of the clock, and the account age and the 24-hour count matter to fraud patterns other than
# today's (stage 8's pattern changes). The `noise_*` columns have no such story — nothing in the world depends
# on them: keep them out. `OBSERVED_FEATURES` is the platform's list of real inputs.
#
# **Model and metric.** Fraud is rare (about 2.5%), so accuracy says nothing and even ROC-AUC flatters: it
# counts the ranking of the sea of easy legit transactions. **Average precision** (the area under the
# precision-recall curve) asks what matters to an analyst queue: are the frauds at the top? Every model starts
# from a baseline; here, the course's logistic regression on the observed features (stage 3), scored on fresh
# traffic:

# %% id="baseline"
F = list(OBSERVED_FEATURES)
baseline_model = make_pipeline(modeling.make_preprocessor(known[F]), LogisticRegression(C=0.5, max_iter=1_000))
baseline_model.fit(known[F], known["label"].to_numpy(dtype=int))


def baseline(frame):
    # A scorer: raw logged columns in, one P(fraud) per row out.
    return baseline_model.predict_proba(frame[F])[:, 1]


print(cap.check_quality(baseline, demo_traffic).describe())


# %% [markdown] id="md-ex1"
# The baseline lands close to the bar — on the worlds the author tried, just under it — and the hidden worlds
# are not yours: aim for a margin. A model that learns shapes a linear model cannot — the night is a range of
# hours, not a slope — earns one.
#
# ### Exercise 1 (delivery 1, tagged *modeling*): build a scorer
#
# Write `build_scorer(history)` that returns a **scorer**: a callable `scorer(frame)` returning a NumPy array of
# shape `(len(frame),)` with P(fraud) in [0, 1] per row, in the frame's order, no NaN.
#
# * `history` is a frame like the one above (another seed's world in your own checks);
# * `frame` holds the raw logged columns (`LOGGED`: the observed features and the `noise_*` columns, with
#   their missing values and outliers), and possibly other columns; it has no label, no `day`;
# * use `history` only; keep the fit under about 30 seconds (the grader runs everything in one go).
#
# **The target.** The hidden test draws 200,000 transactions from two fresh worlds of the capstone's variant
# and requires an **average precision ≥ 0.36** (`cap.check_quality`). The visible test checks the contract
# on your history (shape, range, row order) and that frauds rank above legit transactions among your matured
# labels.

# %% id="cap1_build_scorer" mlcourse={"stage": "modeling", "tier": 5} nbgrader={"grade": false, "grade_id": "cap1_build_scorer", "locked": false, "schema_version": 3, "solution": true, "task": false}
def build_scorer(history):
    """A scorer (frame -> P(fraud), shape (n,)) trained on what the platform knows."""
    ### BEGIN SOLUTION
    # Rows: every transaction whose label has arrived (unknown is not legit). Features: the observed
    # ones, not the noise columns. Model: gradient boosting, which learns shapes a linear baseline
    # cannot (the night is a range of hours, not a slope); early stopping (on by default above
    # 10,000 rows) keeps it from memorising.
    features = list(OBSERVED_FEATURES)
    rows = history[history["label"].notna()]
    model = make_pipeline(
        modeling.make_preprocessor(rows[features]),
        HistGradientBoostingClassifier(max_iter=300, learning_rate=0.05, min_samples_leaf=50, random_state=0),
    )
    model.fit(rows[features], rows["label"].to_numpy(dtype=int))

    def scorer(frame):
        return model.predict_proba(frame[features])[:, 1]

    return scorer
    ### END SOLUTION


# %% id="make-scorer"
scorer = build_scorer(history)

# %% id="cap1_quality_tests" mlcourse={"stage": "modeling", "tier": 5} nbgrader={"grade": true, "grade_id": "cap1_quality_tests", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
assert callable(scorer), f"expected build_scorer to return a callable, got {type(scorer).__name__}"
_rows1 = history.loc[history["label"].notna() & (history["day"] <= cap.AS_OF_DAY - 30)]
_s1 = np.asarray(scorer(_rows1[LOGGED]), dtype=float)
assert _s1.shape == (len(_rows1),), f"expected one score per row, shape ({len(_rows1)},), got {_s1.shape}"
assert np.all(np.isfinite(_s1) & (_s1 >= 0) & (_s1 <= 1)), "expected probabilities in [0, 1], no NaN"
_r1 = np.asarray(scorer(_rows1[LOGGED].iloc[::-1]), dtype=float)
assert np.allclose(_r1[::-1], _s1), "expected the scores to follow the rows of the frame (reversed rows, reversed scores)"
_auc1 = roc_auc_score(_rows1["label"].to_numpy(dtype=int), _s1)
assert _auc1 >= 0.6, f"expected frauds to rank above legit transactions on the matured labels (ROC-AUC >= 0.6), got {_auc1:.3f}"
### BEGIN HIDDEN TESTS
_outcome1 = cap.record(cap.check_quality(scorer, cap.fresh_traffic((9101, 9102))))
assert _outcome1.passed, _outcome1.describe()
### END HIDDEN TESTS

# %% [markdown] id="md-s3"
# ## 3. Delivery 2 — calibration when the labels are late
#
# A fraud score is used as a **probability**: the expected loss of a payment is P(fraud) × amount, the review
# queue is sized from the sum of the probabilities, and stage 8's label-free performance estimates assume
# calibrated scores. A model whose 0.10 means 0.05 makes every one of these decisions wrong.
#
# Stage 5's recipe — fit a calibrator (Platt scaling, isotonic regression) on labeled data the model has not
# memorised — has one more trap here: **which labels**. The tempting choice is the most recent labeled window,
# "closest to production". Section 1 showed what it holds: all of its legit labels and few of its chargebacks.
# A calibrator fitted there learns that fraud is rare and scales every probability down.
#
# Below, the baseline three ways: as trained; Platt-scaled on the freshest labels (days 45–59); Platt-scaled on
# the matured labels (days 0–29). Judged against the **ground truth** of fresh traffic, which the platform never
# has — a simulated world lets us look.

# %% id="calibration-demo"
def platt_on(rows, score_fn):
    # Platt scaling on the logit of the scores of `rows`, against their labels.
    scaler = cal.PlattScaler().fit(cal.logit(score_fn(rows)), rows["label"].to_numpy(dtype=int))
    return lambda frame: scaler.predict(cal.logit(score_fn(frame)))


recent = known[known["day"] >= 45]
variants = {"as trained": baseline,
            "Platt on days 45-59 (freshest labels)": platt_on(recent, baseline),
            "Platt on days 0-29 (matured labels)": platt_on(matured, baseline)}
fig, ax = plt.subplots(figsize=(6.5, 5))
ax.plot([1e-3, 1], [1e-3, 1], ls="--", color="grey", label="perfect calibration")
rows = {}
for name, fn in variants.items():
    p = fn(demo_traffic.frame)
    bins = cal.reliability_bins(demo_traffic.is_fraud, p, n_bins=20, strategy="quantile")
    ece = cap.check_calibration(fn, demo_traffic).measured     # the judge's ECE: 15 equal-mass bins
    ax.plot(bins.mean_confidence, bins.accuracy, marker="o", label=f"{name}: ECE {ece:.4f}")
    rows[name] = {"mean P(fraud)": p.mean(), "true fraud rate": demo_traffic.is_fraud.mean(), "ECE": ece}
ax.set(xscale="log", yscale="log", xlim=(1e-3, 1), ylim=(1e-3, 1), xlabel="mean predicted P(fraud) in the bin",
       ylabel="observed fraud rate in the bin", title="Baseline on fresh traffic: reliability (20 equal-mass bins)")
ax.legend(fontsize=8, loc="upper left")
plt.tight_layout()
pd.DataFrame(rows).T.round(4)


# %% [markdown] id="md-s3-read"
# The calibrator fitted on the freshest labels predicts a fraction of the true fraud rate: its points lie
# above the diagonal (more fraud than it says), and its ECE breaks the target. The matured window puts the
# mean back at the level of the truth (a little above: the matured labels also carry the flipped ones). The
# model as trained sits in between, because its training rows mix matured and fresh labels; whether it is
# close on a given world is luck — flipped labels add fraud, missing chargebacks remove it. Calibrate on the
# labels you trust, and measure. At the low end, every curve trained on platform labels lies below the
# diagonal: with 1% of labels flipped, no transaction looks safer than about half a percent. The judge's
# bins hold equal numbers of transactions, so this low end, where most transactions are, counts in full
# (equal-width bins would lump it into one bin and average the error away — and score a constant at the
# fraud rate as perfectly calibrated).
#
# **Held out, or not?** Stage 5 fits the calibrator on rows the model did not train on, because a model is
# over-confident on its own training rows. Here the matured window is also the best *training* data, so
# there are two honest designs: (a) train on the other labeled rows and calibrate on the matured window —
# clean, but the model loses its most reliable labels; (b) train on all labeled rows and fit Platt's two
# parameters on the matured window anyway — slightly optimistic scores, but an early-stopped boosting model
# barely overfits and two parameters cannot memorise much. Which costs less is an empirical question: measure
# both on worlds of your own seeds (section 6).
#
# ### Exercise 2 (delivery 2, tagged *calibration*): calibrate under label delay
#
# Write `calibrate(scorer, history)` returning a **calibrated scorer** with the same contract as in
# exercise 1. `scorer` is what your `build_scorer(history)` returned; wrap it, or build something new from
# `history` — only the outcome counts.
#
# **The target.** The hidden test scores 200,000 transactions of two fresh worlds and requires an **expected
# calibration error ≤ 0.008** (15 equal-mass bins) against their ground truth (`cap.check_calibration`).
# A constant at the fraud rate is perfectly calibrated and useless, so the visible test checks, besides the
# contract, that your calibrated scorer still ranks frauds above legit transactions.

# %% id="cap2_calibrate" mlcourse={"stage": "calibration", "tier": 5} nbgrader={"grade": false, "grade_id": "cap2_calibrate", "locked": false, "schema_version": 3, "solution": true, "task": false}
def calibrate(scorer, history):
    """A calibrated scorer: P(fraud) whose average matches the true fraud rate."""
    ### BEGIN SOLUTION
    # Platt scaling on the matured labels only (transactions at least 30 days old on the as-of day):
    # fresher windows miss most of their chargebacks and would scale every probability down.
    # (b) above: the model also trained on these rows. On the author's runs over eight history seeds,
    # holding them out instead (train on the rest) cost average precision on all eight and gave a
    # higher ECE on seven.
    known = history[history["label"].notna()]
    mature = known[known["day"] <= cap.AS_OF_DAY - 30]
    scaler = cal.PlattScaler().fit(cal.logit(scorer(mature)), mature["label"].to_numpy(dtype=int))

    def calibrated(frame):
        return scaler.predict(cal.logit(scorer(frame)))

    return calibrated
    ### END SOLUTION


# %% id="make-calibrated"
calibrated_scorer = calibrate(scorer, history)

# %% id="cap2_calibration_tests" mlcourse={"stage": "calibration", "tier": 5} nbgrader={"grade": true, "grade_id": "cap2_calibration_tests", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
assert callable(calibrated_scorer), f"expected calibrate to return a callable, got {type(calibrated_scorer).__name__}"
_rows2 = history.loc[history["label"].notna() & (history["day"] <= cap.AS_OF_DAY - 30)]
_p2 = np.asarray(calibrated_scorer(_rows2[LOGGED]), dtype=float)
assert _p2.shape == (len(_rows2),), f"expected one probability per row, shape ({len(_rows2)},), got {_p2.shape}"
assert np.all(np.isfinite(_p2) & (_p2 >= 0) & (_p2 <= 1)), "expected probabilities in [0, 1], no NaN"
_auc2 = roc_auc_score(_rows2["label"].to_numpy(dtype=int), _p2)
assert _auc2 >= 0.6, f"expected the calibrated scorer to still rank frauds above legit transactions (ROC-AUC >= 0.6), got {_auc2:.3f}"
### BEGIN HIDDEN TESTS
_outcome2 = cap.record(cap.check_calibration(calibrated_scorer, cap.fresh_traffic((9111, 9112))))
assert _outcome2.passed, _outcome2.describe()
### END HIDDEN TESTS

# %% [markdown] id="md-s4"
# ## 4. Delivery 3 — serving under bursty traffic
#
# The fraud check sits in the payment path: every payment waits for it, and the 99th percentile is one
# customer in a hundred. The platform sends **2,000 requests per second on average**, alternating every
# 5 seconds between 1,000 and 3,000 req/s (`cap.LOAD`). Size for the peaks, not the mean.
#
# A call to a scikit-learn pipeline costs a **fixed** overhead (pandas, the column transformer, the boosting
# loop's set-up) plus a tiny cost **per row**. `cap.measure_service_time` times a scorer on one thread (a
# replica is one core) on batches of 1 to 256 rows, and fits `seconds = fixed + per_item × batch` (stage 6).
# With the baseline:

# %% id="service"
demo_service = cap.measure_service_time(baseline, history)
per_replica = 1 / (demo_service.fixed + demo_service.per_item)
print(f"fixed {demo_service.fixed * 1e3:.2f} ms per call, {demo_service.per_item * 1e6:.2f} us per row")
print(f"no batching: {per_replica:,.0f} req/s per replica; utilisation with {cap.TARGETS.max_replicas} replicas: "
      f"{cap.LOAD.mean_rate / (cap.TARGETS.max_replicas * per_replica):.2f} on average, "
      f"{cap.LOAD.peak_factor * cap.LOAD.mean_rate / (cap.TARGETS.max_replicas * per_replica):.2f} at peaks")
unbatched = cap.simulate_serving(cap.ServingConfig(1, 0.0, cap.TARGETS.max_replicas), demo_service,
                                 n_requests=20_000, seed=SEED)
print(f"simulated, batch 1 on {cap.TARGETS.max_replicas} replicas, 10 s of traffic: "
      f"p50 {unbatched['p50_ms']:,.0f} ms, p99 {unbatched['p99_ms']:,.0f} ms")

# %% [markdown] id="md-s4-batching"
# One request per call cannot keep up: with a utilisation above 1 the queue grows without bound, and the
# longer the run, the worse the tail. No replica budget fixes a per-call overhead paid 2,000 times a second.
#
# **Dynamic batching** (stage 6) pays the overhead once per batch: a replica that frees up takes every waiting
# request, up to `max_batch_size`; a request waits at most `timeout_ms` for company. A batch of *b* takes
# `fixed + b × per_item`, so throughput grows almost linearly with *b* — the queue stabilises itself, because
# when requests pile up the batches get bigger. The price is the wait: a long timeout or a huge batch adds
# its own latency. `cap.simulate_serving` replays the bursty load through a configuration:

# %% id="batching-plot"
batch_sizes = (1, 4, 16, 64, 256) if FAST else (1, 2, 4, 8, 16, 32, 64, 128, 256)
timeouts = (0.5, 2.0, 8.0) if FAST else (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)
replica_counts = (1, 2, 4) if FAST else (1, 2, 3, 4)
n_sim = 20_000 if FAST else 40_000


def p99(config):
    return cap.simulate_serving(config, demo_service, n_requests=n_sim, seed=SEED)["p99_ms"]


fig, ax = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
for r in replica_counts:
    ax[0].plot(batch_sizes, [p99(cap.ServingConfig(b, 2.0, r)) for b in batch_sizes], marker="o", label=f"{r} replica(s)")
    ax[1].plot(timeouts, [p99(cap.ServingConfig(64, t, r)) for t in timeouts], marker="o", label=f"{r} replica(s)")
for a in ax:
    a.axhline(cap.TARGETS.p99_slo_ms, color="tab:red", lw=1, label="SLO")
    a.legend(fontsize=8)
ax[0].set(xscale="log", yscale="log", xlabel="max batch size (timeout 2 ms)", ylabel="p99 latency (ms)",
          title="Capacity: the maximum batch size")
ax[1].set(xlabel="timeout (ms), max batch 64", title="The price of waiting: the timeout")
plt.tight_layout()


# %% [markdown] id="md-ex3"
# Left: the maximum batch size sets the capacity. With one request per call no replica budget meets the SLO;
# once replicas × batch size covers the 3,000 req/s peaks, the p99 drops to a few milliseconds, and more room
# changes nothing — batches only grow as large as the queue. Right: the timeout is a floor under the quiet
# moments, when a lone request waits for company before a free replica takes it. Extra replicas buy little
# once the capacity is there, and each one is paid for around the clock.
#
# ### Exercise 3 (delivery 3, tagged *inference*): a serving configuration
#
# Write `serving_config(service, load, targets)` returning a `cap.ServingConfig(max_batch_size, timeout_ms,
# replicas)`: `max_batch_size` an int ≥ 1, `timeout_ms` a number ≥ 0, `replicas` an int from 1 to
# `targets.max_replicas`.
#
# * `service` is a `cap.ServiceTime(fixed, per_item)` in seconds, **measured on the grading machine** from your
#   scorer; `load` is `cap.LOAD`; `targets` is `cap.TARGETS`;
# * prefer the fewest replicas that meet the SLO with a safety margin — hardware costs money (not graded
#   beyond the 4-replica budget).
#
# **The target.** The hidden test measures `cap.measure_service_time(scorer, history)` for your exercise-1
# scorer, asks your function for a configuration and replays 200,000 requests (100 s of bursty traffic, a
# seed you do not know) through `cap.check_latency`: **p99 ≤ 25 ms with at most 4 replicas**. It then does the
# same for a slower machine, `cap.ServiceTime(fixed=0.008, per_item=5e-6)`, and the worse of the two p99s
# decides: derive the configuration from `service`, do not hard-code it. The visible test checks the contract
# on a synthetic service time.

# %% id="cap3_serving_config" mlcourse={"stage": "inference", "tier": 5} nbgrader={"grade": false, "grade_id": "cap3_serving_config", "locked": false, "schema_version": 3, "solution": true, "task": false}
def serving_config(service, load, targets):
    """The cheapest dynamic-batching configuration that meets the p99 SLO under `load`."""
    ### BEGIN SOLUTION
    # Search a small grid with the simulator, fewest replicas first; among the configurations that meet
    # the SLO with a 30% margin on two seeds, take the lowest p99. The margin covers the unseen seed.
    budget = 0.7 * targets.p99_slo_ms
    best = None
    for replicas in range(1, targets.max_replicas + 1):
        tried = []
        for batch, timeout in itertools.product((8, 16, 32, 64, 128), (0.5, 1.0, 2.0, 5.0)):
            config = cap.ServingConfig(batch, timeout, replicas)
            p99 = max(cap.simulate_serving(config, service, load, n_requests=50_000, seed=s)["p99_ms"] for s in (1, 2))
            tried.append((p99, config))
        p99, config = min(tried)
        if p99 <= budget:
            return config
        best = min(best or (p99, config), (p99, config))
    return best[1]  # nothing meets the margin: the lowest p99 within the budget of replicas
    ### END SOLUTION


# %% id="cap3_latency_tests" mlcourse={"stage": "inference", "tier": 5} nbgrader={"grade": true, "grade_id": "cap3_latency_tests", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
_cfg3 = serving_config(cap.ServiceTime(fixed=0.004, per_item=2e-6), cap.LOAD, cap.TARGETS)
assert isinstance(_cfg3, cap.ServingConfig), f"expected a cap.ServingConfig, got {type(_cfg3).__name__}"
assert isinstance(_cfg3.max_batch_size, (int, np.integer)) and _cfg3.max_batch_size >= 1, \
    f"expected an integer max_batch_size >= 1, got {_cfg3.max_batch_size!r}"
assert isinstance(_cfg3.timeout_ms, (int, float, np.integer, np.floating)) and _cfg3.timeout_ms >= 0, \
    f"expected a timeout_ms >= 0, got {_cfg3.timeout_ms!r}"
assert isinstance(_cfg3.replicas, (int, np.integer)) and 1 <= _cfg3.replicas <= cap.TARGETS.max_replicas, \
    f"expected an integer number of replicas from 1 to {cap.TARGETS.max_replicas}, got {_cfg3.replicas!r}"
### BEGIN HIDDEN TESTS
# Your configuration for this machine's measured service time, and for a slower machine's: the worse decides.
_checks3 = []
for _machine3, _service3, _seed3 in [("this machine", cap.measure_service_time(scorer, history), 9201),
                                     ("a slower machine", cap.ServiceTime(fixed=0.008, per_item=5e-6), 9202)]:
    _c3 = cap.check_latency(serving_config(_service3, cap.LOAD, cap.TARGETS), _service3, cap.LOAD, seed=_seed3)
    _checks3.append(dataclasses.replace(_c3, detail=f"on {_machine3}: {_c3.detail}"))
_outcome3 = cap.record(max(_checks3, key=lambda _c: _c.measured))
assert _outcome3.passed, _outcome3.describe()
### END HIDDEN TESTS

# %% [markdown] id="md-s5"
# ## 5. Delivery 4 — a monitor for your model
#
# Your model will meet two kinds of trouble in production (stage 8):
#
# * **broken inputs** — an upstream release sends amounts in cents, a join drops the device for most rows.
#   Visible the same day in the input distributions: a monitor should page within **3 days**;
# * **concept drift** — fraudsters switch pattern. The inputs of 97% of the traffic do not move; the frauds
#   simply stop looking like what the model learned. Only labels show it, and labels are late: legit ones
#   settle after a week, chargebacks take a month. Allowed: **21 days**.
#
# And it must not page for what does not matter: a shift of a `noise_*` column the model does not read, the
# slow ageing of accounts. The streams are scored by **your** scorer (`cap.production_streams`), so the
# monitor watches your model's behaviour — its score distribution, the share of its flagged transactions that
# come back legit. Two visible streams, scored by the baseline: a pattern change on day 52, and an upstream bug
# that fills `merchant_category` with "grocery" from day 55.

# %% id="monitor-demo"
demo_streams = cap.production_streams(baseline, [
    cap.StreamScenario(SEED + 500, drift=(DriftEvent(52, "card_testing"),)),
    cap.StreamScenario(SEED + 510, shifts=(mon.FeatureShift(55, "merchant_category", "category", "grocery"),)),
])
stage8 = lambda reference: mon.DriftMonitor().fit(reference)   # the stage-8 reference design, default knobs
print(cap.check_monitor(stage8, demo_streams).describe())
drift_stream = demo_streams[0].stream
demo_monitor = stage8(drift_stream.reference)
demo_alerts = demo_monitor(mon.daily_batches(drift_stream.frame, start=drift_stream.reference_end))
h = demo_monitor.history_
fig, ax = plt.subplots(2, 1, figsize=(10, 5.5), sharex=True)
mon.plot_alert_timeline(h.index, {"PSI score": h["score"], "PSI amount": h["amount"], "PSI merchant_category": h["merchant_category"]},
                        alert_days=demo_alerts, incidents=drift_stream.incidents, threshold=0.25, ax=ax[0],
                        title="Pattern change on day 52: inputs and score do not move")
ax[0].set_yscale("symlog", linthresh=0.01)
mon.plot_alert_timeline(h.index, {"legit-label z (flagged, settled)": h["label_z"]}, alert_days=demo_alerts,
                        incidents=drift_stream.incidents, threshold=2.88, ax=ax[1],
                        title="... until the flagged transactions settle as legit (red: alert days)")
plt.tight_layout()


# %% [markdown] id="md-ex4"
# The input checks stay flat through the pattern change. The label check can move only once the first flagged
# transactions of the new pattern settle — a week later — and then it needs days of evidence. The line above
# the plot says whether the stage-8 defaults made the 21-day budget on these streams: with `SEED = 0` they
# catch the change 20 days in; with some other seeds, not at all. The margin depends on the model — how many
# transactions it flags, how precise its flags were before the change — and the stage-8 defaults were tuned
# on stage 8's model, not on yours. Tune on streams of your own seeds (section 6), scored by your scorer.
#
# ### Exercise 4 (delivery 4, tagged *monitoring*): design a monitor
#
# Write `design_monitor(reference)` returning a **monitor**: a callable that takes an iterable of
# `mon.DailyBatch` (from `mon.daily_batches(frame, start=40)`) and returns the list of days on which it alerts.
# `reference` is a stream's days 0–39 as the platform knows them on day 39: `transaction_id`, `day`, the
# logged inputs, `score` (your scorer's), and `label` / `label_day` for the labels arrived by then.
#
# **The target.** The hidden test builds three fresh production streams of 76 days (`cap.production_streams`
# with **your exercise-1 scorer**) and runs `cap.check_monitor`: one stream with a change of fraud pattern
# (caught within **21 days**), one with a broken model input (within **3 days**), one without incident but with
# a shift of a noise column; at most **3 alert days** before the first incident of each stream, and in the
# quiet stream. The visible test checks the contract on the demo stream with the broken input above (have a
# look at what your monitor does with it).

# %% id="cap4_design_monitor" mlcourse={"stage": "monitoring", "tier": 5} nbgrader={"grade": false, "grade_id": "cap4_design_monitor", "locked": false, "schema_version": 3, "solution": true, "task": false}
def design_monitor(reference):
    """A monitor: callable(daily batches) -> list of alert days."""
    ### BEGIN SOLUTION
    # Daily PSI of the model inputs and of the score (calibrated thresholds, floor 0.25), plus the share
    # of flagged transactions that come back labeled legit at settlement, with hysteresis. Only the label
    # check sees a pattern change, and the stage-8 knobs leave it short of power for a boosting model's
    # flags: a 12-day window tested at 2%. (Author's runs: 164 drift streams scored by boosting models of
    # eight history seeds; the stage-8 defaults missed the 21-day budget on 39 of them, these knobs on 7;
    # no stream, drifting or quiet, had more than 3 false-alarm days.)
    return mon.DriftMonitor(mon.MODEL_FEATURES, alpha=0.01, psi_floor=0.25, label_alpha=0.02, label_window=12,
                            min_consecutive=2, exit_consecutive=3).fit(reference)
    ### END SOLUTION


# %% id="cap4_monitor_tests" mlcourse={"stage": "monitoring", "tier": 5} nbgrader={"grade": true, "grade_id": "cap4_monitor_tests", "locked": true, "points": 5, "schema_version": 3, "solution": false, "task": false}
_stream4 = demo_streams[1].stream
_monitor4 = design_monitor(_stream4.reference)
assert callable(_monitor4), f"expected design_monitor to return a callable, got {type(_monitor4).__name__}"
_alerts4 = _monitor4(mon.daily_batches(_stream4.frame, start=_stream4.reference_end))
assert isinstance(_alerts4, list), f"expected a list of alert days, got {type(_alerts4).__name__}"
assert all(isinstance(d, (int, np.integer)) and _stream4.reference_end <= d <= 75 for d in _alerts4), \
    f"expected integer alert days among the stream's days 40-75, got {_alerts4[:10]}"
### BEGIN HIDDEN TESTS
_streams4 = cap.production_streams(scorer, [
    cap.StreamScenario(9410, drift=(DriftEvent(50, "card_testing"),)),
    cap.StreamScenario(9402, shifts=(mon.FeatureShift(48, "device", "missing", 0.6),)),
    cap.StreamScenario(9403, shifts=(mon.FeatureShift(46, "noise_2", "scale", 3.0),)),
])
_outcome4 = cap.record(cap.check_monitor(design_monitor, _streams4))
assert _outcome4.passed, _outcome4.describe()
### END HIDDEN TESTS

# %% [markdown] id="md-s6"
# ## 6. Your scorecard: check yourself on fresh worlds
#
# The hidden tests are the public judges of `mlcourse.capstone` with secret seeds. Run the same judges on seeds
# of your own, as many as you like — a delivery that passes on one world and fails on the next is not done.
# (A real platform has no ground truth to judge by; it has shadow deployments, matured labels and patience.
# A simulated world lets you look at the truth: use it to learn what the proxies hide.)

# %% id="scorecard"
MY_SEEDS = (11, 12)


def scorecard(seeds=MY_SEEDS):
    """Run the four judges on fresh data of `seeds`; an unsolved delivery shows as not attempted."""
    traffic = cap.fresh_traffic(seeds, n_transactions=50_000 if FAST else 100_000)

    def serving():
        service = cap.measure_service_time(scorer, history)   # on this machine
        return cap.check_latency(serving_config(service, cap.LOAD, cap.TARGETS), service, cap.LOAD, seed=seeds[0])

    def monitoring():
        scenarios = [cap.StreamScenario(seeds[0], drift=(DriftEvent(53, "card_testing"),)),
                     cap.StreamScenario(seeds[1], shifts=(mon.FeatureShift(50, "amount", "scale", 100.0),))]
        return cap.check_monitor(design_monitor, cap.production_streams(scorer, scenarios[: 1 if FAST else 2]))

    judges = {"1 scorer": lambda: cap.check_quality(scorer, traffic),
              "2 calibrated scorer": lambda: cap.check_calibration(calibrated_scorer, traffic),
              "3 serving": serving,
              "4 monitor": monitoring}
    rows = {}
    for name, judge in judges.items():
        try:
            check = judge()
        except (NameError, NotImplementedError) as exc:   # that delivery is not written yet
            rows[name] = {"measured": np.nan, "target": "", "met": False, "detail": f"not attempted ({type(exc).__name__})"}
        else:
            rows[name] = {"measured": check.measured, "target": f"{check.comparison} {check.target:g}",
                          "met": check.passed, "detail": check.detail}
    return pd.DataFrame(rows).T


with pd.option_context("display.max_colwidth", 150, "display.precision", 4):
    display(scorecard())

# %% [markdown] id="md-summary"
# ## Summary
#
# * **Know what the platform knows.** Labels arrive late (a week for legit, a month for fraud), partially and
#   with errors. An unlabeled row is unknown, not legit; a recent labeled window is missing its frauds.
# * **Delivery 1:** train on the rows with a label, on the features that carry signal — not on logged noise —
#   with a model flexible enough for their shapes; judge the ranking by average precision on fresh data,
#   against a baseline.
# * **Delivery 2:** calibrate on **matured** labels. The freshest labels make fraud look rare, and every
#   probability, budget and estimate built on them inherits the error.
# * **Delivery 3:** measure the service time, then size for the peaks: without batching the per-call overhead
#   alone overloads the replicas; dynamic batching stabilises the queue, and the simulator finds the cheapest
#   configuration that keeps p99 under the SLO with margin — on any machine, because it starts from the measured
#   service time.
# * **Delivery 4:** inputs catch broken pipelines on day one; only labels catch a pattern change, a week or two
#   late. Tune the label check for *your* model, and never page on columns the model does not read.
# * **Check yourself** on fresh worlds with the same judges; that habit is the Staff bar's "substantial
#   outcomes": results that hold on data nobody has seen yet.
#
# ### Going further
#
# * **Use the other feedback.** Analyst reviews arrive in 3 days and are unbiased by the model, but 3% are
#   wrong: correct the rate, $\hat\pi = (r - (1 - a)) / (2a - 1)$ for accuracy $a$, before calibrating on them.
#   Disputes arrive within days for most frauds (stage 9).
# * **Correct for maturity instead of waiting**: estimate the chargeback delay distribution from old labels,
#   and weight the recent labeled rows by the share of their chargebacks still to come.
# * **Decide, not just score**: a cost-based threshold (stage 4) on the calibrated probability, and the review
#   capacity it implies.
# * **Serve for availability**, not only for latency: N+1 replicas, autoscaling on the peaks, a shadow
#   deployment and a canary before the switch.
# * **Faster concept-drift detection**: a CUSUM on the settled labels of flagged transactions accumulates
#   evidence day by day instead of in a fixed window; disputes give an earlier, noisier signal.
