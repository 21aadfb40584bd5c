# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
#   language_info:
#     name: python
# ---

# %% [markdown] id="6527a44d"
# # Stage 9 — Feedback loops: learning from what the model's decisions reveal
#
# > *"Feedback loops: collect implicit and explicit feedback, correct for the biases of how it was logged,
# > detect concept drift, mine hard negatives and retrain — without letting the model's own decisions starve it
# > of the labels it needs."* — the ML engineer roadmap, stage 9 (paraphrased)
#
# A deployed fraud model changes the data it will later learn from: analysts review what it flags, customers
# dispute what it missed, and nobody labels the rest. This notebook turns that feedback into honest numbers
# and into a model that keeps up with a drifting world.
#
# **Learning objectives.** After this notebook you can
#
# 1. tell **explicit** feedback (an analyst's verdict) from **implicit** feedback (a customer dispute) and
#    measure how much of each you get;
# 2. join **delayed** feedback to predictions *as of* a day, keeping missing feedback missing;
# 3. correct **selection bias** with inverse propensity weighting (IPW);
# 4. detect **concept drift** on an error stream (DDM, Page–Hinkley, ADWIN) and score a detector by delay and
#    false alarms;
# 5. retrain on the right window after a drift, mine **hard negatives**, and avoid the **degenerate feedback
#    loop** with exploration.
#
# **Time:** about 2 hours. **Prerequisites:** stages 1–8, especially monitoring (stage 8).
#
# | tier | exercise | rubric level |
# |---|---|---|
# | 1 | feedback rates by type | 1 — can compute the basics |
# | 2 | as-of join of delayed feedback | 2 — handles the usual pitfalls |
# | 3 | IPW estimate | 3 — corrects for bias |
# | 4 | Page–Hinkley detector | 4 — builds the monitoring tools |
# | 5 | a self-updating model on hidden drifting streams | 5 — designs a system that meets a spec |
#
# A stage's level is the highest tier *t* whose tiers 1..*t* you have all mastered. A tier is mastered
# when you earn at least 70% of its points, or miss only one of its graded cells when it has four or
# more, and never with half its cells failed.

# %% [markdown] id="61612119"
# ## Parameters
#
# `SEED` fixes all randomness. `FAST` only trims the demonstrations; the graded tests never depend on it.

# %% id="40abe300" tags=["parameters"]
# Papermill parameters. FAST keeps CI runs short (it trims demos only, never tests).
SEED = 0
FAST = False

# %% id="39072a29"
import warnings

import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
from sklearn.linear_model import LogisticRegression

# nbgrader's Validate fails any test cell that writes to stderr (the grader lets assertions
# decide), and warnings are noise in a first run: so we silence
# library warnings (convergence notes, deprecations, ...) once, here.
warnings.filterwarnings("ignore")

from mlcourse import feedback as fb
from mlcourse.world import make_world

N_SEEDS = 10 if FAST else 40       # repetitions in the IPW demo
tx = make_world(seed=SEED, n_transactions=20_000, n_customers=2_000).transactions
print(f"{len(tx):,} transactions over {tx['day'].nunique()} days")

# %% [markdown] id="e7b23849"
# ## 1. Implicit and explicit feedback
#
# * **Explicit** feedback is a deliberate verdict: an analyst reviews a transaction and says "fraud" or
#   "legit" (`reviewed`, `review_label`). Accurate, expensive, rare.
# * **Implicit** feedback is a side effect of behaviour: a customer **disputes** a charge (`disputed`,
#   `dispute_day`). Cheap and plentiful, but a signal, not a verdict — some disputes are about legit
#   purchases, and many frauds are never disputed.
#
# `fb.feedback_events` turns both into one log of timestamped events; `fb.feedback_rates` measures them.

# %% id="cf3a3ee9"
events = fb.feedback_events(tx, review_delay_days=3)
print(events["feedback_type"].value_counts().to_dict())
fb.feedback_rates(tx).round(4)


# %% [markdown] id="4a61ad3a"
# ### Exercise 1 (tier 1): feedback rates by type
#
# Write `feedback_summary(frame)` for a frame with the boolean columns `reviewed` and `disputed` and the
# 0/1 column `is_fraud`. Return a dict with
#
# * `"explicit_rate"`: the share of rows reviewed; `"implicit_rate"`: the share disputed;
# * `"dispute_precision"`: the share of disputed rows that are fraud (`NaN` if nothing is disputed).

# %% id="1d43ddb7" mlcourse={"stage": "feedback", "tier": 1} nbgrader={"grade": false, "grade_id": "ex1_feedback_summary", "locked": false, "schema_version": 3, "solution": true, "task": false}
def feedback_summary(frame):
    """{"explicit_rate", "implicit_rate", "dispute_precision"} of a frame of transactions."""
    ### BEGIN SOLUTION
    reviewed = frame["reviewed"].to_numpy(bool)
    disputed = frame["disputed"].to_numpy(bool)
    precision = float(frame["is_fraud"].to_numpy()[disputed].mean()) if disputed.any() else np.nan
    return {"explicit_rate": float(reviewed.mean()), "implicit_rate": float(disputed.mean()),
            "dispute_precision": precision}
    ### END SOLUTION


# %% id="b7071d17" mlcourse={"stage": "feedback", "tier": 1} nbgrader={"grade": true, "grade_id": "ex1_feedback_summary_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
_t1 = pd.DataFrame({"reviewed": [True, False, False, False], "disputed": [True, True, False, False],
                    "is_fraud": [1, 0, 0, 1]})
_got1 = feedback_summary(_t1)
assert np.isclose(_got1["explicit_rate"], 0.25), f"expected explicit_rate 0.25, got {_got1['explicit_rate']}"
assert np.isclose(_got1["implicit_rate"], 0.5), f"expected implicit_rate 0.5, got {_got1['implicit_rate']}"
assert np.isclose(_got1["dispute_precision"], 0.5), f"expected dispute_precision 0.5, got {_got1['dispute_precision']}"
assert np.isnan(feedback_summary(_t1.assign(disputed=False))["dispute_precision"]), "no dispute: expected NaN"
_got1 = feedback_summary(tx)
assert np.isclose(_got1["explicit_rate"], tx["reviewed"].mean()), f"world: expected {tx['reviewed'].mean()}, got {_got1['explicit_rate']}"
assert np.isclose(_got1["implicit_rate"], tx["disputed"].mean()), f"world: expected {tx['disputed'].mean()}, got {_got1['implicit_rate']}"
_exp1 = tx.loc[tx["disputed"], "is_fraud"].mean()
assert np.isclose(_got1["dispute_precision"], _exp1), f"world: expected dispute precision {_exp1}, got {_got1['dispute_precision']}"

# %% [markdown] id="e6a6b819"
# ## 2. Delayed feedback and the as-of join
#
# Feedback arrives late: a review after days, a dispute after weeks. To evaluate or retrain on day $t$, join
# to each prediction only the feedback **known on day $t$** — an *as-of join* — and keep predictions without
# feedback as **missing**, not as "legit". Counting missing as negative is the classic way to make a model look
# great on recent data.

# %% id="d28b0b5e"
preds = tx[["day"]].assign(score=0.0)
for as_of in (30, 60, 120):
    joined = fb.join_feedback(preds[preds["day"] < 30], events, as_of=as_of)
    print(f"as of day {as_of:3d}: {joined['has_feedback'].mean():.2%} of the first month's predictions have feedback")


# %% [markdown] id="f40fb9f6"
# ### Exercise 2 (tier 2): the as-of join
#
# Write `join_as_of(predictions, events, as_of)`:
#
# * `predictions` has a column `day`; its index is the transaction id;
# * `events` has the columns `tx_id`, `event_day` and `label`;
# * an event counts when `day <= event_day <= as_of` (the day of its prediction);
# * return a float `pandas.Series` with the index of `predictions`: the label of the **latest** counted event
#   of each prediction (ties: the later row of `events`), `NaN` where none counts.

# %% id="6c54b4f6" mlcourse={"stage": "feedback", "tier": 2} nbgrader={"grade": false, "grade_id": "ex2_join_as_of", "locked": false, "schema_version": 3, "solution": true, "task": false}
def join_as_of(predictions, events, as_of):
    """Latest label known on day as_of for each prediction (NaN if none)."""
    ### BEGIN SOLUTION
    ev = events[events["tx_id"].isin(predictions.index)]
    pred_day = predictions["day"].reindex(ev["tx_id"]).to_numpy(float)
    ev = ev[(ev["event_day"].to_numpy(float) <= as_of) & (ev["event_day"].to_numpy(float) >= pred_day)]
    latest = ev.sort_values("event_day", kind="stable").groupby("tx_id")["label"].last()
    return latest.reindex(predictions.index).astype(float)
    ### END SOLUTION


# %% id="880416a8" mlcourse={"stage": "feedback", "tier": 2} nbgrader={"grade": true, "grade_id": "ex2_join_as_of_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
_p2 = pd.DataFrame({"day": [0, 0, 5, 5]}, index=[10, 11, 12, 13])
_e2 = pd.DataFrame({"tx_id": [10, 10, 11, 12, 13, 99], "event_day": [3.0, 8.0, 20.0, 4.0, 6.0, 1.0],
                    "label": [0.0, 1.0, 1.0, 1.0, 0.0, 1.0]})
_got2 = join_as_of(_p2, _e2, as_of=10)
assert isinstance(_got2, pd.Series) and list(_got2.index) == [10, 11, 12, 13], \
    f"expected a Series indexed [10, 11, 12, 13], got {type(_got2).__name__} {list(getattr(_got2, 'index', []))}"
_exp2 = [1.0, np.nan, np.nan, 0.0]
assert np.allclose(_got2.to_numpy(float), _exp2, equal_nan=True), \
    f"as of day 10: expected {_exp2} (latest event wins; future and too-early events ignored), got {_got2.tolist()}"
assert np.allclose(join_as_of(_p2, _e2, as_of=5).to_numpy(float), [0.0, np.nan, np.nan, np.nan], equal_nan=True), \
    "as of day 5: expected [0, nan, nan, nan]"
# The course world: compare with a plain-pandas merge.
_ev2 = events.rename(columns={"label": "lab"})
_pr2 = tx.loc[tx["day"] < 40, ["day"]]
for _as_of in (20, 45, 90):
    _m = _pr2.reset_index(names="tx_id").merge(_ev2, on="tx_id")
    _m = _m[(_m["event_day"] >= _m["day"]) & (_m["event_day"] <= _as_of)]
    _m = _m.sort_values("event_day", kind="stable").drop_duplicates("tx_id", keep="last").set_index("tx_id")["lab"]
    _exp = _m.reindex(_pr2.index).to_numpy(float)
    _got = join_as_of(_pr2, events[["tx_id", "event_day", "label"]], _as_of).to_numpy(float)
    assert np.allclose(_got, _exp, equal_nan=True), \
        f"as of day {_as_of}: {int(np.sum(~np.isclose(_got, _exp, equal_nan=True)))} predictions differ from the expected labels"

# %% [markdown] id="0f087fed"
# ## 3. Selection bias and inverse propensity weighting
#
# Analysts review what the model scores high. The reviewed sample is therefore full of fraud, and its fraud rate
# says little about the population's. If unit $i$ is reviewed with a **known** probability $p_i$ (the logging
# policy's propensity), the Horvitz–Thompson estimate
# $$\hat\mu_\text{IPW}=\frac1n\sum_i \frac{o_i\,y_i}{p_i}$$
# is unbiased for the population mean: each reviewed unit stands for $1/p_i$ units like it. Clipping $p_i$
# from below caps the weights (less variance, some bias); self-normalising divides by $\sum o_i/p_i$ instead
# of $n$. The catch: every unit needs $p_i>0$ — a policy that *never* reviews a region can never learn about it.

# %% id="1f25012d"
rows = []
for s in range(N_SEEDS):
    rng = np.random.default_rng(s)
    score = rng.beta(1, 6, 5_000)
    y = (rng.random(score.size) < score).astype(float)
    p = fb.logging_propensity(score, base=0.05, strength=1.5)
    obs = rng.random(score.size) < p
    rows.append({"truth": y.mean(), "naive": fb.naive_estimate(np.where(obs, y, np.nan), obs),
                 "IPW": fb.ipw_estimate(np.where(obs, y, np.nan), obs, p),
                 "SNIPS": fb.ipw_estimate(np.where(obs, y, np.nan), obs, p, self_normalize=True)})
ipw_demo = pd.DataFrame(rows)
ipw_demo.agg(["mean", "std"]).round(4)


# %% [markdown] id="4eb1995f"
# ### Exercise 3 (tier 3): the IPW estimate
#
# Write `ipw_mean(values, observed, propensity, clip=None)` for 1-D arrays of equal length: return
# $\frac1n\sum_i o_i\,y_i/\max(p_i, \text{clip})$ as a float (no clipping when `clip` is `None`). `values` may
# be `NaN` where `observed` is False. Raise `ValueError` if any propensity is not in (0, 1].

# %% id="7ab36524" mlcourse={"stage": "feedback", "tier": 3} nbgrader={"grade": false, "grade_id": "ex3_ipw_mean", "locked": false, "schema_version": 3, "solution": true, "task": false}
def ipw_mean(values, observed, propensity, clip=None):
    """Horvitz-Thompson IPW estimate of the mean of values over all units."""
    ### BEGIN SOLUTION
    obs = np.asarray(observed, dtype=bool)
    p = np.asarray(propensity, dtype=float)
    if np.any((p <= 0) | (p > 1)):
        raise ValueError("propensity must be in (0, 1]")
    if clip is not None:
        p = np.maximum(p, clip)
    y = np.where(obs, np.asarray(values, dtype=float), 0.0)
    return float(np.sum(obs * y / p) / obs.size)
    ### END SOLUTION


# %% id="53fc5566" mlcourse={"stage": "feedback", "tier": 3} nbgrader={"grade": true, "grade_id": "ex3_ipw_mean_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_got3 = ipw_mean([1.0, np.nan, 0.0, 1.0], [True, False, True, True], [0.5, 0.5, 1.0, 0.25])
assert np.isclose(_got3, (2 + 0 + 4) / 4), f"hand case: expected 1.5, got {_got3}"
_got3 = ipw_mean([1.0, 1.0], [True, True], [0.01, 1.0], clip=0.1)
assert np.isclose(_got3, (10 + 1) / 2), f"clip 0.1: expected weights capped at 10, i.e. 5.5, got {_got3}"
try:
    ipw_mean([1.0], [True], [0.0])
except ValueError:
    pass
else:
    raise AssertionError("expected a ValueError for a propensity of 0")
# Unbiased over repeated logging; the naive mean is not.
_est, _tru = [], []
for _s in range(40):
    _r = np.random.default_rng(1000 + _s)
    _sc = _r.beta(1, 5, 4000)
    _y = (_r.random(4000) < _sc).astype(float)
    _p = np.clip(0.05 + 1.2 * _sc, 0.05, 1.0)
    _o = _r.random(4000) < _p
    _est.append(ipw_mean(np.where(_o, _y, np.nan), _o, _p)); _tru.append(_y.mean())
_bias = np.mean(_est) - np.mean(_tru)
assert abs(_bias) < 0.006, f"expected an unbiased estimate (|bias| < 0.006 over 40 runs), got bias {_bias:.4f}"

# %% [markdown] id="cf6bed0f"
# ## 4. Detecting concept drift on the error stream
#
# When the concept changes, the model's **error rate** rises. A sequential detector reads the 0/1 error of
# each labeled prediction and raises an alarm as soon as the evidence suffices:
#
# * **DDM** tracks the running error rate $p$ and its standard deviation $s$, and alarms when $p+s$ exceeds
#   its minimum by 3 standard deviations;
# * **Page–Hinkley** accumulates the deviations from the running mean, $m_t=\sum_{k\le t}(x_k-\bar x_k-\delta)$,
#   and alarms when $m_t-\min_{k\le t} m_k>\lambda$;
# * **ADWIN** keeps a window and drops its older part whenever the two parts' means differ significantly.
#
# A detector is judged by its **detection delay** and its **false alarms**; `fb.evaluate_detections` counts both.

# %% id="b16cbfc1"
stream = fb.make_error_stream(4000, [1500, 3000], (0.05, 0.3, 0.1), seed=SEED)
for name, det in [("DDM", fb.DDM(warm_start=300, drift_threshold=4.0)),
                  ("Page-Hinkley", fb.PageHinkley(threshold=20, mode="both")), ("ADWIN", fb.ADWIN())]:
    hits = fb.detect_drifts(det, stream)
    print(f"{name:13s}", fb.evaluate_detections(hits, [1500, 3000], stream.size, max_delay=300))


# %% [markdown] id="a292641d"
# ### Exercise 4 (tier 4): Page–Hinkley
#
# Write `page_hinkley(stream, delta=0.005, threshold=20.0)` returning the **list of indices** at which it alarms.
# For each value $x_t$ (counting from the last reset):
#
# 1. update the running mean $\bar x_t$ over the values since the last reset, **including** $x_t$;
# 2. $m_t = m_{t-1} + (x_t - \bar x_t - \delta)$, with $m=0$ before the first value; $M_t=\min(M_{t-1}, m_t)$,
#    with $M=+\infty$ before the first value;
# 3. alarm at $t$ when $m_t - M_t > \lambda$ (`threshold`); after an alarm, **reset** the mean, $m$ and $M$.

# %% id="0b72866a" mlcourse={"stage": "feedback", "tier": 4} nbgrader={"grade": false, "grade_id": "ex4_page_hinkley", "locked": false, "schema_version": 3, "solution": true, "task": false}
def page_hinkley(stream, delta=0.005, threshold=20.0):
    """Indices of the Page-Hinkley alarms (increase in mean), with reset after each alarm."""
    ### BEGIN SOLUTION
    alarms = []
    n, mean, m, m_min = 0, 0.0, 0.0, np.inf
    for t, x in enumerate(np.asarray(stream, dtype=float)):
        n += 1
        mean += (x - mean) / n
        m += x - mean - delta
        m_min = min(m_min, m)
        if m - m_min > threshold:
            alarms.append(t)
            n, mean, m, m_min = 0, 0.0, 0.0, np.inf
    return alarms
    ### END SOLUTION


# %% id="9312190b" mlcourse={"stage": "feedback", "tier": 4} nbgrader={"grade": true, "grade_id": "ex4_page_hinkley_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# By hand: 0, 0, 1 -> means 0, 0, 1/3; m = -d, -2d, 2/3 - 3d; with d = 0, m - min(m) = 2/3 at t = 2.
_got4 = page_hinkley([0, 0, 1], delta=0.0, threshold=0.6)
assert list(_got4) == [2], f"hand case: expected [2], got {list(_got4)}"
assert list(page_hinkley([0, 0, 1], delta=0.0, threshold=0.7)) == [], "threshold 0.7: expected no alarm"

def _ph_reference(xs, delta, lam):
    out, start = [], 0
    xs = np.asarray(xs, dtype=float)
    while start < xs.size:
        seg = xs[start:]
        mean = np.cumsum(seg) / np.arange(1, seg.size + 1)
        m = np.cumsum(seg - mean - delta)
        hit = np.flatnonzero(m - np.minimum.accumulate(m) > lam)
        if hit.size == 0:
            break
        out.append(start + int(hit[0])); start += int(hit[0]) + 1
    return out

for _s in range(3):
    _r = np.random.default_rng(50 + _s)
    _st = (_r.random(3000) < np.r_[np.full(1200, 0.05), np.full(800, 0.35), np.full(1000, 0.1)]).astype(float)
    for _d, _l in [(0.005, 20.0), (0.01, 10.0)]:
        _exp = _ph_reference(_st, _d, _l)
        _got = list(page_hinkley(_st, delta=_d, threshold=_l))
        assert _got == _exp, f"stream {_s}, delta {_d}, threshold {_l}: expected alarms {_exp[:6]}, got {_got[:6]}"
assert any(1200 <= a < 1400 for a in _ph_reference(_st, 0.005, 20.0)), "sanity: the planted drift is detectable"

# %% [markdown] id="b12d05f8"
# ## 5. Hard negatives and the degenerate feedback loop
#
# **Hard negatives** are legit transactions that the model keeps scoring high: each one costs an analyst's
# time. Mining them (out-of-fold scores above the alert threshold, repeatedly) and upweighting them in
# retraining teaches the model the difference (`fb.mine_hard_negatives`, `fb.hard_negative_weights`,
# `fb.hard_slice_fpr`; see `tests/test_feedback.py` for the full experiment).
#
# The **degenerate feedback loop** is subtler. The model only gets labels for what it flags. When the fraud
# moves to a segment the model considers safe, nobody reviews that segment, no label ever arrives, and the
# model never learns. A little **exploration** — review a random few of the unflagged, logging their
# propensity so that IPW keeps the estimates unbiased — breaks the loop.

# %% id="b405b357"
fig, ax = plt.subplots(figsize=(7, 3.2))
for eps in (0.0, 0.02, 0.05):
    sim = fb.simulate_feedback_loop(epsilon=eps, seed=SEED)
    ax.plot(sim["round"], sim["recall"], label=f"epsilon = {eps}")
ax.axvline(10, color="black", ls="--", lw=1, label="fraud moves")
ax.set(xlabel="round", ylabel="share of fraud reviewed", title="Greedy vs exploring feedback loop")
ax.legend(fontsize=8)
plt.tight_layout()


# %% [markdown] id="5deaca70"
# ### Exercise 5 (tier 5): a model that keeps up with a drifting stream
#
# The stream below comes from `make_stream(seed)`: features `X` (n, 3) and labels `y` (n,), whose rule
# changes at days you are not told. Write `run_feedback_loop(X, y, batch_size=100)` that processes the stream
# **prequentially**, batch by batch: predict the batch's labels (0/1) with the current model **before** looking
# at them, then receive the labels and update. Return the array of predictions (n,). For the first batch, when
# no label is known yet, predict 0.
#
# **The spec.** On fresh hidden streams (other seeds, other change points, other rules), the **prequential
# accuracy** (`mean(pred == y)` over the whole stream) must be at least **0.88**. A model that is trained once
# on the first batch and never retrained fails this (see the baseline below). Hint: an error-stream detector tells you *when* to forget the past.

# %% id="070d201d"
def make_stream(seed, n=6000, change_points=(2000, 4000), noise=0.03):
    """Linear rule y = (X @ w > 0) that switches to a new w at each change point; labels flipped w.p. noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    regime = np.searchsorted(np.asarray(change_points), np.arange(n), side="right")
    W = rng.normal(size=(len(change_points) + 1, 3))
    for k in range(1, len(W)):            # each new rule is far from the previous one
        W[k] = W[k] - 1.5 * W[k - 1] / np.linalg.norm(W[k - 1]) * np.sign(W[k] @ W[k - 1] + 1e-12) * np.linalg.norm(W[k])
    y = ((X * W[regime]).sum(axis=1) > 0).astype(int)
    flip = rng.random(n) < noise
    return X, np.where(flip, 1 - y, y)

def never_retrain(X, y, batch_size=100):
    model = LogisticRegression().fit(X[batch_size:2 * batch_size], y[batch_size:2 * batch_size])
    return np.r_[np.zeros(2 * batch_size, int), model.predict(X[2 * batch_size:])]

X_stream, y_stream = make_stream(SEED)
print("never retrained: prequential accuracy", round(float(np.mean(never_retrain(X_stream, y_stream) == y_stream)), 3))


# %% id="bd48ea09" mlcourse={"stage": "feedback", "tier": 5} nbgrader={"grade": false, "grade_id": "ex5_run_feedback_loop", "locked": false, "schema_version": 3, "solution": true, "task": false}
def run_feedback_loop(X, y, batch_size=100):
    """Prequential predictions (n,) of a model that retrains after detected drifts."""
    ### BEGIN SOLUTION
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    n = len(y)
    pred = np.zeros(n, dtype=int)
    model, start, detector = None, 0, fb.PageHinkley(threshold=8.0, delta=0.01, min_instances=30)
    for lo in range(0, n, batch_size):
        hi = min(lo + batch_size, n)
        if model is not None:
            pred[lo:hi] = model.predict(X[lo:hi])
            for i, err in enumerate(pred[lo:hi] != y[lo:hi]):
                if detector.update(float(err)):
                    start = max(lo + i - 50, 0)          # forget the old concept
        lo_fit = max(start, hi - 1500)
        if len(np.unique(y[lo_fit:hi])) == 2:
            model = LogisticRegression().fit(X[lo_fit:hi], y[lo_fit:hi])
    return pred
    ### END SOLUTION


# %% id="ec3d269f" mlcourse={"stage": "feedback", "tier": 5} nbgrader={"grade": true, "grade_id": "ex5_run_feedback_loop_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
_pred5 = np.asarray(run_feedback_loop(X_stream, y_stream))
assert _pred5.shape == y_stream.shape, f"expected {y_stream.shape[0]} predictions, got shape {_pred5.shape}"
_acc5 = float(np.mean(_pred5 == y_stream))
assert _acc5 >= 0.88, f"expected prequential accuracy >= 0.88 on the visible stream, got {_acc5:.3f}"

# %% id="67ac4875" mlcourse={"stage": "feedback", "tier": 5} nbgrader={"grade": true, "grade_id": "ex5_run_feedback_loop_hidden_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test replays fresh drifting streams you have not seen.
_check5 = np.asarray(run_feedback_loop(X_stream[:1000], y_stream[:1000]))
assert _check5.shape == (1000,), f"expected 1000 predictions, got shape {_check5.shape}"
### BEGIN HIDDEN TESTS
for _seed, _cps in [(101, (1500, 3500)), (102, (2500,)), (103, (1000, 2500, 4500))]:
    _Xh, _yh = make_stream(_seed, change_points=_cps)
    _acch = float(np.mean(np.asarray(run_feedback_loop(_Xh, _yh)) == _yh))
    _base = float(np.mean(never_retrain(_Xh, _yh) == _yh))
    assert _base < 0.88, "internal: the never-retrain baseline should fail this stream"
    assert _acch >= 0.88, f"hidden stream {_seed}: expected prequential accuracy >= 0.88, got {_acch:.3f}"
### END HIDDEN TESTS

# %% [markdown] id="40593a6f"
# ## Summary
#
# * **Explicit** feedback (reviews) is accurate and rare; **implicit** feedback (disputes) is plentiful and
#   noisy. Log both as timestamped events tied to a prediction id.
# * Join feedback **as of** a day; missing feedback is missing, not negative.
# * Logged feedback is **selected** by the model's own policy: estimate with **IPW** (clipped or
#   self-normalised for stability), and keep every propensity above zero.
# * Sequential detectors (DDM, Page–Hinkley, ADWIN) on the error stream catch concept drift; judge them by
#   delay and false alarms, and retrain on the data **after** the change.
# * Mine **hard negatives** and upweight them; break the **degenerate loop** with logged exploration.
#
# ### Going further
#
# * `river` implements these detectors (and many more) for streaming learning.
# * Off-policy evaluation for bandits: doubly robust estimators combine a reward model with IPW.
# * Position bias in ranked review queues: estimate examination propensities with randomised swaps.
