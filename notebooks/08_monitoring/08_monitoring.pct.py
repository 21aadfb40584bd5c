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
# # Stage 8 — Monitoring and metrics: keeping an eye on your model
#
# > *"An effective monitoring system is crucial in maintaining the performance of our models. We need to
# > set up alerts for key performance metrics and keep a close eye on these online metrics. Following a
# > systematic MLOps architecture helps manage models better."*
# > — the ML engineer roadmap, stage 8
#
# The day a model ships, its test-set numbers become history. From then on the world moves — customers
# change, fraudsters change tactics, an upstream team renames a field — and the only way to know how the
# model is doing is to **watch it**. This notebook is about what to watch, how to turn what you watch into
# alerts a human can trust, and what you can and cannot know before the labels arrive.
#
# We deploy a fraud model on the course's payments world, trained on its first weeks, and then replay the
# following weeks day by day, as production would see them: features and scores at once, labels (chargebacks)
# weeks later. The world has a **drift schedule** — on a day we know (and the model does not) the fraudsters
# switch pattern — and we add two data incidents of our own.
#
# **Learning objectives.** After this notebook you can
#
# 1. tell online from offline metrics, and compute online metrics honestly when labels arrive late
#    (label coverage, "as of" dates);
# 2. measure data drift per feature with PSI, Kolmogorov–Smirnov and Jensen–Shannon, and prediction drift
#    on the model's scores;
# 3. explain why data drift is not a performance drop, and why concept drift can be invisible without labels;
# 4. estimate precision and recall *before* the labels arrive from calibrated confidence — and say when that
#    estimate fails;
# 5. design alerts that do not cry wolf: thresholds with hysteresis, and false-alarm control across many
#    features (Bonferroni, Benjamini–Hochberg, calibrated thresholds);
# 6. export monitoring metrics to Prometheus, and sketch a monitoring architecture: what to log, dashboards,
#    alerts, runbooks, owners;
# 7. evaluate a monitor by detection delay and false alarms on incidents with known start days.
#
# **Estimated time:** about 3 hours (≈ 1 h reading and running the demos, ≈ 2 h exercises).
#
# **Prerequisites:** stage 4 (precision, recall, ROC-AUC), stage 5 (calibration: what a calibrated probability
# means); NumPy and pandas; the idea of a p-value.
#
# ### How this notebook is graded
#
# Exercises are autograded with nbgrader. Each belongs to a *tier*; tier $t$ exercises demonstrate
# rubric level $t$ for this stage. Your level for the stage is the highest tier $t$ whose tiers $1..t$
# you have all **mastered**. A tier is mastered when you earn at least 70% of its points, or miss only
# one of its graded cells when it has four or more, and never with half its cells failed. Some tests are
# hidden: they run your code on data you have not seen.
#
# | tier | rubric level | what it shows | exercise |
# |---|---|---|---|
# | 1 | awareness | you can compute an online metric over the labels known on a date | 1 |
# | 2 | basic understanding | you can compute a drift statistic (PSI) from its definition | 2 |
# | 3 | proficiency (Junior) | you can measure drift per feature with KS and JS, numeric and categorical | 3 |
# | 4 | advanced (Senior) | you can build an alert with hysteresis and false-alarm control over many features | 4 |
# | 5 | expert (Staff) | you can design a monitor that catches incidents fast without crying wolf, on hidden streams | 5 |

# %% [markdown] id="md-params"
# ## Parameters
#
# The next cell is tagged `parameters` so that [papermill](https://papermill.readthedocs.io) can override it.
# `SEED` fixes all randomness. `FAST` only trims the demonstrations; the graded tests never depend on it.

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
# library warnings (convergence notes, deprecations, ...) once, here.
warnings.filterwarnings("ignore")

from mlcourse import monitoring as mon
from mlcourse.world import DriftEvent

N_SIM_DAYS = 100 if FAST else 300      # simulated no-drift days in the multiple-testing demo

# The deployed model: trained on days 0-27, Platt-calibrated on days 28-39 of a world in which
# fraudsters switch from "stolen_card" to "card_testing" on day 55 (concept drift). We add two
# data incidents: on day 46 a noise column that the model does not read shifts (benign), and on
# day 75 an upstream release starts sending amounts in cents (a broken model input).
DRIFT_DAY, BENIGN_DAY, BUG_DAY = 55, 46, 75
stream = mon.make_monitoring_stream(
    SEED, n_days=80, reference_end=40,
    drift=(DriftEvent(DRIFT_DAY, "card_testing"),),
    shifts=[mon.FeatureShift(BENIGN_DAY, "noise_1", "add", 0.5),
            mon.FeatureShift(BUG_DAY, "amount", "scale", 100.0)],
)
tx = stream.frame                       # everything, ground truth included (for us, not for the monitor)
reference = stream.reference            # days 0-39 as the platform knows them on day 39
print(f"{len(tx):,} transactions over {tx['day'].nunique()} days; incidents {stream.incidents}, benign {stream.benign}")
tx[["day", "amount", "merchant_category", "device", "score", "label", "label_day", "is_fraud"]].head()

# %% [markdown] id="md-05"
# ## 1. Online metrics and the label-delay problem
#
# **Offline** metrics are computed once, on a held-out test set, before deployment: they answer *"is this
# model good enough to ship?"*. **Online** metrics are computed continuously on live traffic: they answer
# *"is the model still good, today?"*. Online, three things get harder:
#
# * **labels arrive late.** Here a legitimate transaction is confirmed after a 7-day settlement window, but a
#   fraud is only known when the cardholder files a chargeback — about 30 days later on average. On day $t$,
#   the precision "of the last week" is computed over the few labels that happen to be back: mostly the
#   legit ones. Every online metric must therefore carry its **as-of date** and its **label coverage**
#   (the share of the eventual labels known so far);
# * **labels are partial and biased**: only a quarter of the transactions ever get a label, and one customer
#   group reports fraud less often (stage 1);
# * **traffic is the test set**, with its weekly rhythm and its drift: a day is a small sample.
#
# Let us compute weekly precision and recall as the platform would see them on day 79, and as we will know
# them much later (all labels in).

# %% id="code-06"
THRESHOLD = float(np.quantile(reference["score"], 0.98))   # flag the riskiest 2% for review
as_of = mon.windowed_metrics(tx, threshold=THRESHOLD, as_of=79, window=7, start=40, end=79)
final = mon.windowed_metrics(tx, threshold=THRESHOLD, as_of=None, window=7, start=40, end=79)
pd.DataFrame({"window": as_of["start"].astype(str) + "-" + as_of["end"].astype(str),
              "coverage on day 79": as_of["coverage"], "precision on day 79": as_of["precision"],
              "precision (all labels)": final["precision"], "recall (all labels)": final["recall"]}).round(3)

# %% [markdown] id="md-07"
# Read the table twice. First the coverage: the last weeks have most of their legit labels but few of their
# fraud labels, so **precision on day 79 looks far worse than it is** for the recent windows — a naive
# dashboard would page someone every Monday. Second the drift: once all labels are in, precision and recall
# collapse after day 55. On day 79 we could see that only through the few early chargebacks.
#
# The fix is not to ignore recent windows but to compare like with like: a metric computed at a **fixed label
# age** (say, transactions 8–14 days old, whose legit labels are all settled) against the same metric at the
# same age in the reference period. The reference monitor at the end of this notebook does exactly that.

# %% id="code-08"
fig, ax = plt.subplots(1, 2, figsize=(11, 3.4))
ages = np.arange(0, 61)
lab = tx[tx["label"].notna()]
for value, name in [(1.0, "fraud labels (chargebacks)"), (0.0, "legit labels (settlement)")]:
    delay = (lab.loc[lab["label"] == value, "label_day"] - lab.loc[lab["label"] == value, "day"]).to_numpy()
    ax[0].plot(ages, [(delay <= a).mean() for a in ages], label=name)
ax[0].set(xlabel="days since the transaction", ylabel="share of labels known", title="Label arrival")
ax[0].legend()
mid = (as_of["start"] + as_of["end"]) / 2
ax[1].plot(mid, as_of["precision"], marker="o", label="as known on day 79")
ax[1].plot(mid, final["precision"], marker="o", label="all labels in")
ax[1].axvline(DRIFT_DAY, color="black", ls="--", lw=1, label="pattern change")
ax[1].set(xlabel="day", ylabel="precision", title=f"Weekly precision at threshold {THRESHOLD:.2f}")
ax[1].legend(fontsize=8)
plt.tight_layout()


# %% [markdown] id="md-09"
# ### Exercise 1 (tier 1): daily precision over the labels known on a date
#
# Write `daily_precision(frame, as_of, threshold)`:
#
# * `frame` has the columns `day`, `score`, `label` (0.0 / 1.0, or NaN for rows that never get a label) and
#   `label_day` (the day the label becomes known; NaN where there is no label);
# * a label is **known** when `label_day <= as_of`;
# * return a `pandas.Series` indexed by **every day present in `frame`** (sorted), whose value is the precision
#   of the rule `score >= threshold` over that day's rows with a known label: true positives / flagged rows;
# * the value is `NaN` when no flagged row of that day has a known label.

# %% id="ex1_daily_precision" mlcourse={"stage": "monitoring", "tier": 1} nbgrader={"grade": false, "grade_id": "ex1_daily_precision", "locked": false, "schema_version": 3, "solution": true, "task": false}
def daily_precision(frame, as_of, threshold):
    """Per-day precision of score >= threshold over the labels known by day as_of."""
    ### BEGIN SOLUTION
    known = frame["label"].notna() & (frame["label_day"] <= as_of)
    flagged = known & (frame["score"] >= threshold)
    tp = (flagged & (frame["label"] == 1)).groupby(frame["day"]).sum()
    n_flagged = flagged.groupby(frame["day"]).sum()
    return (tp / n_flagged.where(n_flagged > 0)).astype(float).sort_index()
    ### END SOLUTION


# %% id="ex1_daily_precision_tests" mlcourse={"stage": "monitoring", "tier": 1} nbgrader={"grade": true, "grade_id": "ex1_daily_precision_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
from sklearn.metrics import precision_score as _sk_precision

_f1 = pd.DataFrame({"day": [0, 0, 0, 1, 1, 2], "score": [0.9, 0.8, 0.1, 0.9, 0.7, 0.2],
                    "label": [1.0, 0.0, 1.0, 1.0, np.nan, 0.0], "label_day": [30.0, 7.0, 3.0, 9.0, np.nan, 9.0]})
_got = daily_precision(_f1, as_of=10, threshold=0.5)
assert isinstance(_got, pd.Series), f"expected a pandas Series, got {type(_got).__name__}"
assert list(_got.index) == [0, 1, 2], f"expected one value per day [0, 1, 2], got index {list(_got.index)}"
assert np.isclose(_got.loc[0], 0.0) and np.isclose(_got.loc[1], 1.0) and np.isnan(_got.loc[2]), \
    f"as of day 10: expected [0.0, 1.0, nan] (the fraud on day 0 is not known yet), got {_got.tolist()}"
_got = daily_precision(_f1, as_of=30, threshold=0.5)
assert np.isclose(_got.loc[0], 0.5), f"as of day 30, day 0: expected 0.5, got {_got.loc[0]}"
_part = tx[(tx["day"] >= 20) & (tx["day"] < 50)]
for _as_of, _thr in [(45, THRESHOLD), (79, 0.05)]:
    _got = daily_precision(_part, as_of=_as_of, threshold=_thr)
    assert len(_got) == 30, f"expected 30 days, got {len(_got)}"
    for _d in (20, 33, 44, 49):
        _rows = _part[(_part["day"] == _d) & _part["label"].notna() & (_part["label_day"] <= _as_of)]
        _flag = _rows["score"] >= _thr
        _exp = _sk_precision(_rows["label"].astype(int), _flag) if _flag.any() else np.nan
        assert np.isclose(_got.loc[_d], _exp, equal_nan=True), \
            f"day {_d}, as of {_as_of}, threshold {_thr:.3f}: expected {_exp}, got {_got.loc[_d]}"

# %% [markdown] id="md-12"
# ## 2. Data drift: is today's input like the training data?
#
# **Data drift** (covariate shift) is a change in the distribution of the model's inputs, $P(x)$. It is
# visible at once — no label needed — and it is the first thing most monitoring stacks watch. Three
# statistics, each comparing a *reference* sample (the training period) with a *current* one (today):
#
# * **Population stability index (PSI).** Bin the feature on the reference (deciles, or one bin per
#   category, plus a bin for missing values), take the reference shares $p_i$ and the current shares $q_i$,
#   and sum
#   $$\mathrm{PSI} = \sum_i (q_i - p_i)\,\ln\frac{q_i}{p_i}.$$
#   It is a symmetrised KL divergence. An empty bin would make it infinite, so shares are clipped at a small
#   $\varepsilon$. Folklore reads < 0.1 as stable, 0.1–0.25 as a moderate shift, > 0.25 as a large one.
# * **Kolmogorov–Smirnov (KS).** The largest gap between the two empirical CDFs, $D=\max_x|F_\text{ref}(x)-F_\text{cur}(x)|$,
#   with a p-value. No bins, numeric features only.
# * **Jensen–Shannon (JS) distance.** $\sqrt{\tfrac12 \mathrm{KL}(p\|m)+\tfrac12 \mathrm{KL}(q\|m)}$ with
#   $m=(p+q)/2$, on the same bins: symmetric, bounded in $[0, 1]$ (base 2), and fine with empty bins.
#
# Statistics and tests answer different questions. The KS p-value asks *"could this be chance?"*: with
# thousands of rows a day, it says "no" to differences far too small to matter. PSI and JS ask *"how big
# is the change?"*, and their sampling noise grows as samples shrink. A useful alert needs both: **significant
# and large**.

# %% id="code-13"
day60 = tx[tx["day"] == 60]
report = mon.drift_report(reference, day60, list(mon.MODEL_FEATURES) + ["noise_1"])
report.round(4)

# %% [markdown] id="md-14"
# On day 60 — five days into the new fraud pattern — **no model input has drifted**: all PSIs are tiny.
# The fraud pattern changed, which is a change in $P(y\mid x)$ — **concept drift** — and 98% of the traffic
# (the legit transactions) looks exactly as before. Meanwhile the noise column that shifted on day 46 shows a
# large PSI and a p-value of zero, yet it cannot hurt the model, which does not read it.
#
# That is the central lesson of drift monitoring: **drift is not a performance drop**, in either direction.
# Inputs can drift harmlessly (a feature the model ignores, or a shift within the range where the model is
# right), and performance can collapse with no input drift at all.
#
# Let us watch a few statistics day by day over the whole stream:

# %% id="code-15"
days = np.arange(40, 80)
daily = {d: g for d, g in tx.groupby("day")}
watch = ["amount", "merchant_category", "account_age_days", "noise_1"]
binnings = {c: mon.fit_binning(reference[c]) for c in watch}
psi_by_day = pd.DataFrame({c: [mon.psi(reference[c], daily[d][c], binning=binnings[c]) for d in days] for c in watch},
                          index=days)
ax = mon.plot_alert_timeline(days, psi_by_day.to_dict("list"), incidents=[DRIFT_DAY, BUG_DAY],
                             benign=[BENIGN_DAY], threshold=0.25, title="Daily PSI against the reference period")
ax.set_yscale("symlog", linthresh=0.01)


# %% [markdown] id="md-16"
# * `noise_1` jumps on day 46 and stays high: real drift, irrelevant to the model.
# * `amount` explodes on day 75, when amounts arrive in cents: a **broken input**, the kind of incident where
#   drift monitoring shines — it is caught on the first day, long before any label.
# * `account_age_days` creeps up steadily: the customers' accounts simply get older every day. Slow, real,
#   expected drift — an alert on it would be right and useless. Such features need either a reference that
#   moves with time or a threshold that tolerates the trend.
# * nothing happens on day 55.

# %% [markdown] id="md-17"
# ### Exercise 2 (tier 2): the population stability index
#
# Write `psi_quantile(reference, current, n_bins=10, eps=1e-4)` for numeric 1-D arrays without missing values:
#
# 1. interior edges: `np.quantile(reference, np.linspace(0, 1, n_bins + 1)[1:-1])`, duplicates removed
#    (`np.unique`) — so a discrete feature gets fewer bins;
# 2. a value `x` falls in bin `np.searchsorted(edges, x, side="right")` (bins are closed on the left; the first
#    and last bins extend to $\mp\infty$, so current values outside the reference range still count);
# 3. shares $p_i$ (reference) and $q_i$ (current), each clipped below at `eps`: `np.maximum(share, eps)`;
# 4. return $\sum_i (q_i - p_i)\ln(q_i/p_i)$ as a float.

# %% id="ex2_psi" mlcourse={"stage": "monitoring", "tier": 2} nbgrader={"grade": false, "grade_id": "ex2_psi", "locked": false, "schema_version": 3, "solution": true, "task": false}
def psi_quantile(reference, current, n_bins=10, eps=1e-4):
    """PSI of current against reference over quantile bins of the reference."""
    ### BEGIN SOLUTION
    reference = np.asarray(reference, dtype=float)
    current = np.asarray(current, dtype=float)
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, n_bins + 1)[1:-1]))
    k = len(edges) + 1
    p = np.bincount(np.searchsorted(edges, reference, side="right"), minlength=k) / reference.size
    q = np.bincount(np.searchsorted(edges, current, side="right"), minlength=k) / current.size
    p, q = np.maximum(p, eps), np.maximum(q, eps)
    return float(np.sum((q - p) * np.log(q / p)))
    ### END SOLUTION


# %% id="ex2_psi_tests" mlcourse={"stage": "monitoring", "tier": 2} nbgrader={"grade": true, "grade_id": "ex2_psi_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# By hand: reference deciles of 0..99 put 0..9 in bin 0, ..., 90..99 in bin 9.
_ref = np.arange(100.0)
_cur = np.r_[np.arange(50.0), np.full(50, 95.0)]           # half in the low bins, half in the top bin
_p = np.full(10, 0.1)
_q = np.r_[np.full(5, 0.1), 0.0, 0.0, 0.0, 0.0, 0.5]
_q = np.maximum(_q, 1e-4)
_expected = float(np.sum((_q - _p) * np.log(_q / _p)))
_got = psi_quantile(_ref, _cur)
assert np.isclose(float(_got), _expected, rtol=1e-9), f"hand-computed case: expected {_expected:.6f}, got {_got}"
assert np.isclose(float(psi_quantile(_ref, _ref)), 0.0, atol=1e-12), "identical samples: expected PSI 0"
assert np.isfinite(float(psi_quantile(_ref, np.full(30, 1000.0)))), "all current values in one bin: expected a finite PSI (eps)"

def _psi_reference(r, c, n_bins, eps):
    edges = np.unique(np.quantile(r, np.linspace(0, 1, n_bins + 1)[1:-1]))
    full = np.r_[-np.inf, edges, np.inf]
    p = np.histogram(r, full)[0] / r.size
    q = np.histogram(c, full)[0] / c.size
    # np.histogram's bins are [a, b) like searchsorted(side="right"), except that the last one is closed
    p, q = np.maximum(p, eps), np.maximum(q, eps)
    return float(np.sum((q - p) * np.log(q / p)))

_rng = np.random.default_rng(21)
_ref_amount = reference["amount"].to_numpy()
_cases = [(_rng.normal(size=5000), _rng.normal(0.3, 1.2, 3000), 10, 1e-4),
          (_rng.integers(0, 4, 2000).astype(float), _rng.integers(0, 6, 1000).astype(float), 10, 1e-4),   # ties
          (_ref_amount, tx.loc[tx["day"] == 70, "amount"].to_numpy(), 20, 1e-3),                           # cents bug
          (_ref_amount, tx.loc[tx["day"] == 50, "amount"].to_numpy(), 10, 1e-6)]
for _r, _c, _nb, _eps in _cases:
    _expected = _psi_reference(_r, _c, _nb, _eps)
    _got = psi_quantile(_r, _c, n_bins=_nb, eps=_eps)
    assert np.isclose(float(_got), _expected, rtol=1e-7, atol=1e-12), \
        f"n_bins={_nb}, eps={_eps}: expected PSI {_expected:.6f}, got {_got}"


# %% [markdown] id="md-20"
# ### Exercise 3 (tier 3): KS and JS per feature, numeric and categorical
#
# Write `feature_drift(reference, current, n_bins=10)` for two `pandas.Series` of one feature. Missing values
# count as their own category / bin. Return a dict with
#
# * `"ks"`: for a **numeric** feature (a numeric dtype that is not boolean), the two-sample KS statistic
#   $D$ over the non-missing values (the largest gap between the two empirical CDFs); `NaN` for a categorical
#   one (categorical, object, string or boolean dtype);
# * `"js"`: the Jensen–Shannon **distance** in base 2 between the binned shares —
#   numeric: the quantile bins of exercise 2 (edges from the non-missing reference values), plus one bin for
#   missing values; categorical: one bin per value seen in **either** sample, plus one for missing values.
#
# Implement both yourself (the tests compare with SciPy). Then look at which features drift on day 70.

# %% id="ex3_feature_drift" mlcourse={"stage": "monitoring", "tier": 3} nbgrader={"grade": false, "grade_id": "ex3_feature_drift", "locked": false, "schema_version": 3, "solution": true, "task": false}
def feature_drift(reference, current, n_bins=10):
    """{"ks": KS statistic (NaN for categoricals), "js": Jensen-Shannon distance (base 2)} of one feature."""
    ### BEGIN SOLUTION
    ref, cur = pd.Series(reference), pd.Series(current)
    numeric = pd.api.types.is_numeric_dtype(ref.dtype) and not pd.api.types.is_bool_dtype(ref.dtype)
    ref_miss, cur_miss = ref.isna().to_numpy(), cur.isna().to_numpy()
    if numeric:
        a = np.sort(ref.to_numpy(dtype=float)[~ref_miss])
        b = np.sort(cur.to_numpy(dtype=float)[~cur_miss])
        grid = np.r_[a, b]
        ks = float(np.max(np.abs(np.searchsorted(a, grid, side="right") / a.size
                                 - np.searchsorted(b, grid, side="right") / b.size)))
        edges = np.unique(np.quantile(a, np.linspace(0, 1, n_bins + 1)[1:-1]))
        k = len(edges) + 1
        ref_bin = np.where(ref_miss, k, np.searchsorted(edges, np.nan_to_num(ref.to_numpy(dtype=float)), side="right"))
        cur_bin = np.where(cur_miss, k, np.searchsorted(edges, np.nan_to_num(cur.to_numpy(dtype=float)), side="right"))
        p = np.bincount(ref_bin, minlength=k + 1).astype(float)
        q = np.bincount(cur_bin, minlength=k + 1).astype(float)
    else:
        ks = np.nan
        r_obj = ref.astype(object).where(~ref_miss, "__missing__")
        c_obj = cur.astype(object).where(~cur_miss, "__missing__")
        cats = sorted(set(r_obj) | set(c_obj), key=str)
        p = r_obj.value_counts().reindex(cats, fill_value=0).to_numpy(dtype=float)
        q = c_obj.value_counts().reindex(cats, fill_value=0).to_numpy(dtype=float)
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2
    kl = lambda a: np.sum(a[a > 0] * np.log2(a[a > 0] / m[a > 0]))
    return {"ks": ks, "js": float(np.sqrt(max(0.0, (kl(p) + kl(q)) / 2)))}
    ### END SOLUTION


# %% id="ex3_feature_drift_tests" mlcourse={"stage": "monitoring", "tier": 3} nbgrader={"grade": true, "grade_id": "ex3_feature_drift_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
from scipy.stats import ks_2samp as _ks_2samp
from scipy.spatial.distance import jensenshannon as _jensenshannon

def _js_numeric(r, c, n_bins):
    r, c = pd.Series(r, dtype=float), pd.Series(c, dtype=float)
    edges = np.unique(np.quantile(r.dropna(), np.linspace(0, 1, n_bins + 1)[1:-1]))
    full = np.r_[-np.inf, edges, np.inf]
    p = np.r_[np.histogram(r.dropna(), full)[0], r.isna().sum()]
    q = np.r_[np.histogram(c.dropna(), full)[0], c.isna().sum()]
    return _jensenshannon(p, q, base=2)

def _js_categorical(r, c):
    r = pd.Series(r).astype(object).fillna("__m__").astype(str)
    c = pd.Series(c).astype(object).fillna("__m__").astype(str)
    cats = sorted(set(r) | set(c))
    return _jensenshannon(r.value_counts().reindex(cats, fill_value=0), c.value_counts().reindex(cats, fill_value=0), base=2)

_ref70, _cur70 = reference, tx[tx["day"] == 70]
for _col, _nb in [("amount", 10), ("distance_km", 10), ("hour", 8), ("account_age_days", 10)]:
    _got = feature_drift(_ref70[_col], _cur70[_col], n_bins=_nb)
    _ks = _ks_2samp(_ref70[_col].dropna(), _cur70[_col].dropna()).statistic
    _js = _js_numeric(_ref70[_col], _cur70[_col], _nb)
    assert np.isclose(_got["ks"], _ks, atol=1e-10), f"{_col}: expected KS {_ks:.6f}, got {_got['ks']}"
    assert np.isclose(_got["js"], _js, atol=1e-8), f"{_col} (with its missing values): expected JS {_js:.6f}, got {_got['js']}"
for _col in ["merchant_category", "device", "is_foreign", "customer_group"]:
    _got = feature_drift(_ref70[_col], _cur70[_col])
    _js = _js_categorical(_ref70[_col], _cur70[_col])
    assert np.isnan(_got["ks"]), f"{_col} is categorical: expected KS NaN, got {_got['ks']}"
    assert np.isclose(_got["js"], _js, atol=1e-8), f"{_col}: expected JS {_js:.6f}, got {_got['js']}"
_got = feature_drift(pd.Series(["a", "a", "b"]), pd.Series(["c", "c"]))
assert np.isclose(_got["js"], 1.0), f"disjoint categories (one unseen in the reference): expected JS 1, got {_got['js']}"
_x = pd.Series(np.random.default_rng(31).normal(size=500))
_got = feature_drift(_x, _x)
assert np.isclose(_got["ks"], 0.0) and np.isclose(_got["js"], 0.0, atol=1e-7), f"identical samples: expected 0 and 0, got {_got}"

# %% [markdown] id="md-23"
# ## 3. Prediction drift, and performance before the labels
#
# The model's **score** is one more column to watch, and the most relevant one: if its distribution moves,
# the model is seeing something new, and the share of transactions it flags (the analysts' workload) moves
# with it. `mon.prediction_drift` compares score distributions and tests the alert rate.
#
# Can we go further, and estimate **precision and recall without labels**? Yes — if the scores are
# **calibrated** (stage 5). A flagged transaction with calibrated score $p$ is a true positive with probability
# $p$ and a false positive with probability $1-p$; an unflagged one is a missed fraud with probability $p$.
# Summing over today's transactions gives the *expected* confusion matrix:
# $$\widehat{TP}=\sum_{s_i\ge t} p_i,\quad \widehat{FP}=\sum_{s_i\ge t}(1-p_i),\quad \widehat{FN}=\sum_{s_i<t} p_i,
# \qquad \widehat{\text{precision}}=\frac{\widehat{TP}}{\widehat{TP}+\widehat{FP}}.$$
# This is *confidence-based performance estimation* (as in NannyML's CBPE). It follows the truth when inputs
# drift but $P(y\mid x)$ stays — covariate shift — and it is **blind to concept drift**: the model is still
# confident, just wrong.

# %% id="code-24"
est = mon.estimated_metrics(tx[tx["day"] >= 40], threshold=THRESHOLD, window=5)
truth = []
for s in est["start"]:
    w = tx[(tx["day"] >= s) & (tx["day"] < s + 5)]
    flagged, fraud = w["score"] >= THRESHOLD, w["is_fraud"] == 1
    truth.append(((flagged & fraud).sum() / flagged.sum(), (flagged & fraud).sum() / fraud.sum()))
truth = np.array(truth)
pdrift = [mon.prediction_drift(reference["score"], tx.loc[(tx["day"] >= s) & (tx["day"] < s + 5), "score"],
                               threshold=THRESHOLD).psi for s in est["start"]]
mid = est["start"] + 2
fig, ax = plt.subplots(1, 2, figsize=(11, 3.4))
ax[0].plot(mid, est["precision"], marker="o", label="estimated precision (no labels)")
ax[0].plot(mid, truth[:, 0], marker="o", label="true precision")
ax[0].plot(mid, est["recall"], marker="s", ls=":", label="estimated recall")
ax[0].plot(mid, truth[:, 1], marker="s", ls=":", label="true recall")
for a in ax:
    a.axvline(DRIFT_DAY, color="black", ls="--", lw=1)
    a.axvline(BUG_DAY, color="tab:red", ls="--", lw=1)
ax[0].set(xlabel="day", title="Performance: estimated from confidence vs true"); ax[0].legend(fontsize=7)
ax[1].plot(mid, pdrift, marker="o")
ax[1].set(xlabel="day", ylabel="PSI of the score", title="Prediction drift (5-day windows)")
plt.tight_layout()

# %% [markdown] id="md-25"
# Before day 55 the estimate sits on the truth, without a single label. After the pattern change the truth
# collapses and the estimate does not move — and neither does the score distribution: concept drift is
# invisible to every label-free signal here. On day 75 the cents bug makes every amount look huge: the scores
# jump (prediction drift), the model flags far more, and the confidence-based estimate — trusting the broken
# inputs — is wrong again, this time in the other direction.
#
# Take-aways:
#
# * label-free signals (input drift, prediction drift, estimated performance) are **fast** and catch broken
#   pipelines on day one;
# * only **labels** — or fast proxies of labels, such as disputes and analyst reviews (stage 9) — catch
#   concept drift, and they are slow; monitor them at a fixed label age;
# * an estimate from confidence is only as good as the calibration, and calibration is exactly what concept
#   drift breaks. Re-check it whenever labels come in.

# %% [markdown] id="md-26"
# ## 4. Alerts people trust: hysteresis and multiple testing
#
# A monitor that pages too often is worse than none: after the third false alarm in a week, people stop
# reading the pages (**alert fatigue**), and the real incident is ignored. Two tools keep alerts meaningful.
#
# **Hysteresis.** A single threshold on a noisy statistic flaps: on, off, on, off, as the value wobbles around
# it. Use two levels — *enter* above a high one, *exit* only below a lower one — and patience: enter only after
# `min_consecutive` bad windows in a row, exit after `exit_consecutive` good ones. One bad day is a blip; three
# in a row are a trend.
#
# **Multiple testing.** Watch 20 features, each tested at $\alpha = 5\%$ on a day without any drift: the
# chance that *at least one* fires is $1 - 0.95^{20} \approx 64\%$. Every day. Corrections:
#
# * **Bonferroni**: test each feature at $\alpha/m$ — the family-wise false-alarm rate stays $\le\alpha$,
#   whatever the dependence between features (conservative);
# * **Benjamini–Hochberg**: sort the p-values, reject the $k$ smallest where $k$ is the largest with
#   $p_{(k)} \le k\alpha/m$ — controls the *share* of false alarms among alarms; more power when several
#   features drift at once;
# * **calibrate on a quiet period**: compute the statistic on reference windows known to be incident-free,
#   and set thresholds so that the largest standardised statistic across features exceeds its threshold on
#   only a share $\alpha$ of them (`mon.calibrate_thresholds`). No distributional assumption — which matters,
#   because real daily batches are not independent samples (weekly rhythms, repeat customers).

# %% id="code-27"
rng = np.random.default_rng(SEED)
n_features, alpha = 20, 0.05
from scipy.stats import ks_2samp
any_raw = any_bonf = any_bh = 0
for _ in range(N_SIM_DAYS):                      # no drift at all: every alarm is a false alarm
    p = np.array([ks_2samp(rng.normal(size=200), rng.normal(size=200)).pvalue for _ in range(n_features)])
    any_raw += np.any(p < alpha)
    any_bonf += np.any(mon.bonferroni(p, alpha))
    any_bh += np.any(mon.benjamini_hochberg(p, alpha))
pd.Series({"no correction": any_raw, "Bonferroni": any_bonf, "Benjamini-Hochberg": any_bh}) / N_SIM_DAYS

# %% id="code-28"
rule = mon.HysteresisRule(enter=0.25, exit=0.1, min_consecutive=2, exit_consecutive=3)
noisy = 0.2 + 0.08 * np.sin(np.arange(40)) + np.r_[np.zeros(20), np.full(12, 0.25), np.zeros(8)]
plain = noisy > 0.25
fig, ax = plt.subplots(figsize=(9, 2.8))
ax.plot(noisy, marker=".", label="statistic")
ax.step(np.arange(40), plain * 0.5, where="mid", label=f"plain threshold ({len(mon.alert_episodes(plain))} pages)")
ax.step(np.arange(40), rule.run(noisy) * 0.45, where="mid",
        label=f"hysteresis ({len(mon.alert_episodes(rule.run(noisy)))} page)")
ax.axhline(0.25, ls="-.", lw=0.8, color="tab:red"); ax.axhline(0.1, ls=":", lw=0.8, color="tab:red")
ax.set(xlabel="window"); ax.legend(fontsize=8, loc="upper left")
plt.tight_layout()


# %% [markdown] id="md-29"
# ### Exercise 4 (tier 4): an alert with false-alarm control and hysteresis
#
# Write `alert_days(pvalues, alpha=0.05, min_consecutive=2, exit_consecutive=2)`:
#
# * `pvalues` is a `DataFrame` with one row per day (the index holds the day numbers, in order) and one column
#   per feature (the p-value of its drift test that day);
# * a day **breaches** when at least one feature is rejected by the **Bonferroni** correction at family-wise
#   level `alpha`: `p <= alpha / m`, with `m` the number of features (columns). A missing p-value (NaN) is
#   never rejected, but still counts in `m`;
# * the alert **enters** on the day that completes `min_consecutive` consecutive breach days, and **exits** on
#   the day that completes `exit_consecutive` consecutive non-breach days while on (that day is no longer an
#   alert day);
# * return the **list of days** (index values) on which the alert is on.

# %% id="ex4_alert_days" mlcourse={"stage": "monitoring", "tier": 4} nbgrader={"grade": false, "grade_id": "ex4_alert_days", "locked": false, "schema_version": 3, "solution": true, "task": false}
def alert_days(pvalues, alpha=0.05, min_consecutive=2, exit_consecutive=2):
    """Days on which a Bonferroni-corrected, hysteresis-smoothed drift alert is on."""
    ### BEGIN SOLUTION
    p = pvalues.to_numpy(dtype=float)
    m = p.shape[1]
    breach = np.any(np.nan_to_num(p, nan=1.0) <= alpha / m, axis=1)
    on, run_in, run_out, out = False, 0, 0, []
    for day, b in zip(pvalues.index, breach):
        if not on:
            run_in = run_in + 1 if b else 0
            if run_in >= min_consecutive:
                on, run_out = True, 0
        else:
            run_out = run_out + 1 if not b else 0
            if run_out >= exit_consecutive:
                on, run_in = False, 0
        if on:
            out.append(day)
    return out
    ### END SOLUTION


# %% id="ex4_alert_days_tests" mlcourse={"stage": "monitoring", "tier": 4} nbgrader={"grade": true, "grade_id": "ex4_alert_days_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_pv = pd.DataFrame({"a": [0.5, 0.001, 0.002, 0.3, 0.004, 0.6, 0.7, 0.001, 0.5, 0.4],
                    "b": [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, np.nan, 0.5]}, index=range(100, 110))
# alpha / m = 0.025: breach days 101, 102, 104, 107
_got = alert_days(_pv, alpha=0.05, min_consecutive=2, exit_consecutive=2)
assert list(_got) == [102, 103, 104, 105], f"expected alert days [102, 103, 104, 105], got {list(_got)}"
_got = alert_days(_pv, alpha=0.05, min_consecutive=1, exit_consecutive=3)
assert list(_got) == list(range(101, 110)), f"min 1 / exit 3: expected days 101-109, got {list(_got)}"
_got = alert_days(_pv, alpha=0.005, min_consecutive=1, exit_consecutive=1)
assert list(_got) == [101, 102, 107], f"alpha=0.005 (threshold 0.0025): expected [101, 102, 107], got {list(_got)}"
_got = alert_days(_pv[["a"]], alpha=0.05, min_consecutive=2, exit_consecutive=1)
assert list(_got) == [102], f"one feature (threshold 0.05): expected [102], got {list(_got)}"

def _alert_reference(pv, alpha, k_in, k_out):
    breach = (pv.fillna(1.0) <= alpha / pv.shape[1]).any(axis=1).to_numpy()
    state, days = False, []
    for i, d in enumerate(pv.index):
        if not state and i + 1 >= k_in and breach[i - k_in + 1 : i + 1].all():
            state = True
        elif state and i + 1 >= k_out and not breach[i - k_out + 1 : i + 1].any():
            state = False
        if state:
            days.append(d)
    return days

_rng = np.random.default_rng(41)
for _trial in range(20):
    _m = int(_rng.integers(1, 30))
    _pv = pd.DataFrame(_rng.random((60, _m)) ** _rng.uniform(1, 6), index=np.arange(60) * 2 + 5)
    for _k_in, _k_out in [(1, 1), (2, 2), (3, 1), (1, 4)]:
        _expected = _alert_reference(_pv, 0.05, _k_in, _k_out)
        _got = alert_days(_pv, alpha=0.05, min_consecutive=_k_in, exit_consecutive=_k_out)
        assert list(_got) == _expected, f"m={_m}, min={_k_in}, exit={_k_out}: expected {_expected[:8]}..., got {list(_got)[:8]}..."
# No drift, 25 features, 400 days of uniform p-values: family-wise false alarms near alpha at most.
_null = pd.DataFrame(_rng.random((400, 25)))
_rate = len(alert_days(_null, alpha=0.05, min_consecutive=1, exit_consecutive=1)) / 400
assert _rate <= 0.08, f"no drift, 25 features: expected a daily false-alarm rate <= 0.08 (alpha 0.05), got {_rate:.3f}"

# %% [markdown] id="md-32"
# ## 5. Exporting metrics: Prometheus
#
# A notebook is not a monitoring system. In production the monitor *exports* its numbers, and a time-series
# database scrapes, stores, plots and alerts on them. [Prometheus](https://prometheus.io) is the common
# open-source choice: every service serves a `/metrics` page in a simple text format, Prometheus scrapes it
# every few seconds, Grafana draws dashboards from it, and Alertmanager routes alerts (deduplicated, grouped,
# silenced during maintenance) to the on-call engineer.
#
# Each number is a **gauge** (a level that goes up and down; a *counter* only grows, e.g. transactions
# scored), named by what it measures and labelled by model, feature, statistic. `mon.build_registry` fills a
# `prometheus_client.CollectorRegistry`; `generate_latest` writes the exposition text a server would serve
# (`prometheus_client.start_http_server` does that for real).

# %% id="code-33"
day = 77
window = tx[(tx["day"] > day - 7) & (tx["day"] <= day)]
week = mon.windowed_metrics(window, threshold=THRESHOLD, as_of=day, window=7)
estimate = mon.estimate_performance(tx.loc[tx["day"] == day, "score"].to_numpy(), threshold=THRESHOLD)
registry = mon.build_registry(
    model_metrics={"label_coverage_7d": float(week["coverage"].iloc[0]), "alert_rate_7d": float(week["alert_rate"].iloc[0]),
                   "estimated_precision_1d": estimate.precision, "estimated_recall_1d": estimate.recall},
    feature_drift=mon.drift_report(reference, tx[tx["day"] == day], ["amount", "device", "noise_1"]),
    alerts={"input_drift": True, "precision_drop": True},
    model="fraud-v1",
)
text = mon.prometheus_text(registry)
print("\n".join(text.splitlines()[:14]))

# %% [markdown] id="md-34"
# ### A monitoring architecture
#
# Monitoring is a system with owners, not a plot. A minimal, systematic setup:
#
# | layer | what | why |
# |---|---|---|
# | **log** | every prediction: request id, timestamp, model version, inputs (or a hash plus a sample), score, decision; later, joined on the id: labels, disputes, reviews | without a prediction log nothing below is possible; the join on request id is what turns late labels into metrics |
# | **compute** | per window: volume, missing rates, input drift (PSI/KS/JS per feature), score drift and alert rate, estimated performance; realized performance at fixed label ages, with coverage | fast label-free signals catch broken pipelines; slow labeled ones catch concept drift |
# | **export & store** | Prometheus gauges (or a metrics table), tagged by model version | one place, queryable history, compare versions |
# | **dashboards** | one per model: traffic, alert rate, score distribution, top drifting inputs, online metrics with coverage bands | humans look at trends before they become incidents |
# | **alerts** | few, actionable, with hysteresis and false-alarm control; severity by business impact | a page must mean "act now" |
# | **runbooks** | per alert: what it means, how to check (which dashboard, which query), what to do (roll back, fix upstream, retrain, raise the threshold), whom to call | the on-call engineer at 3 a.m. is not the model's author |
# | **ownership** | a named owner per model and per upstream feature; a review of every page (true/false alarm) to tune the rules | unowned alerts are ignored; reviewed alerts get better |

# %% [markdown] id="md-35"
# ## 6. Evaluating a monitor: detection delay and false alarms
#
# How good is a monitor? Replay a stream with **known** incidents and count:
#
# * **detection delay**: days from the start of each incident to the first alert (missed if over a budget);
# * **false alarms**: alert days when nothing was wrong.
#
# `mon.DriftMonitor` is the course's reference design. It combines
#
# 1. **daily input and score drift**: the PSI of each model input and of the score against the later half of
#    the reference period, with thresholds calibrated on the earlier half (`mon.calibrate_thresholds`,
#    family-wise) and a practical floor (PSI ≥ 0.25), so that slow harmless drift does not page;
# 2. **late labels at a fixed age**: of the transactions the model flagged (its top 1% of scores), the share that comes back labeled
#    *legit* once settled (7 days), over a week, against its reference rate (a one-sided two-proportion test): when
#    the fraud pattern changes, the flagged transactions stop being fraud, and this share jumps;
# 3. **hysteresis** on the number of breaching checks.
#
# It never reads a label before its `label_day`: `mon.daily_batches` replays the stream as production sees it
# — each day, that day's scored transactions, and the labels that *arrived* that day.

# %% id="code-36"
monitor = mon.DriftMonitor().fit(reference)
alerts = monitor(mon.daily_batches(tx, start=40))
evaluation = mon.evaluate_alerts(alerts, stream.incidents, max_delay=21)

def naive_monitor(reference_frame):
    """PSI > 0.1 on every logged column, every day, no correction, no hysteresis."""
    cols = [c for c in reference_frame.columns if c in mon.MODEL_FEATURES or c.startswith("noise_")]
    bins = {c: mon.fit_binning(reference_frame[c]) for c in cols}
    return lambda batches: [b.day for b in batches
                            if any(mon.psi(reference_frame[c], b.scored[c], binning=bins[c]) > 0.1 for c in cols)]

naive_eval = mon.evaluate_alerts(naive_monitor(reference)(mon.daily_batches(tx, start=40)), stream.incidents, max_delay=21)
pd.DataFrame({"delays (days)": [evaluation.delays, naive_eval.delays],
              "false-alarm days": [len(evaluation.false_alarm_days), len(naive_eval.false_alarm_days)]},
             index=["DriftMonitor", "naive PSI > 0.1"])

# %% id="code-37"
h = monitor.history_
fig, ax = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
mon.plot_alert_timeline(h.index, {"PSI amount": h["amount"], "PSI score": h["score"], "PSI account_age": h["account_age_days"]},
                        alert_days=alerts, incidents=stream.incidents, benign=stream.benign, threshold=0.25, ax=ax[0],
                        title="DriftMonitor: input and score drift (red: alert days)")
ax[0].set_yscale("symlog", linthresh=0.01)
mon.plot_alert_timeline(h.index, {"legit-label z (flagged, settled)": h["label_z"]}, alert_days=alerts,
                        incidents=stream.incidents, benign=stream.benign, threshold=2.33, ax=ax[1],
                        title="DriftMonitor: late labels at a fixed age")
plt.tight_layout()


# %% [markdown] id="md-38"
# The input checks catch the cents bug on its first day; the label check catches the pattern change one to two
# weeks in — a week of settlement plus a few days of evidence: the price of waiting for labels. The noise
# column and the ageing accounts never page. The naive monitor fires from day 46 on, every day: by the time
# the real incidents come, nobody reads it any more.

# %% [markdown] id="md-39"
# ### Exercise 5 (tier 5): design a monitor
#
# Write `design_monitor(reference_frame)` that returns a **monitor**: a callable taking an iterable of daily
# batches and returning the **list of days** on which it alerts.
#
# * `reference_frame` is like `reference` above: the first 40 days (0–39) of a stream from
#   `mon.make_monitoring_stream`, as the platform knows them on day 39 — the model inputs
#   (`mon.MODEL_FEATURES`), the logged `noise_*` columns, `transaction_id`, `day`, `score`, and `label` /
#   `label_day` only for the labels that had arrived by day 39;
# * the batches are `mon.daily_batches(frame, start=40)`: `mon.DailyBatch(day, scored, labels)` for days
#   40, 41, …; `scored` holds the day's transactions (no labels), `labels` the labels that arrived that day.
#
# **The spec.** The hidden test replays fresh streams (other seeds, 76 days, other incident days and kinds).
# Your monitor must
#
# 1. alert within **21 days** of a change of the fraud pattern (labels are slow: legit ones settle after a week, chargebacks take a month) (any pattern of `mlcourse.world.FRAUD_PATTERNS`);
# 2. alert within **3 days** of a corrupted model input (a scale error, a large share of missing values, or
#    a constant category in one of `mon.MODEL_FEATURES`);
# 3. **not** alert on shifts of the `noise_*` columns, which the model does not read, nor on the slow ageing
#    of accounts: at most **3 alert days** before the first incident of each stream (and in a stream without
#    incident).
#
# You may use anything in `mlcourse.monitoring`. The naive monitor above fails this spec.

# %% id="ex5_design_monitor" mlcourse={"stage": "monitoring", "tier": 5} nbgrader={"grade": false, "grade_id": "ex5_design_monitor", "locked": false, "schema_version": 3, "solution": true, "task": false}
def design_monitor(reference_frame):
    """A monitor: callable(batches) -> list of alert days."""
    ### BEGIN SOLUTION
    # Daily PSI of the model inputs and the score (calibrated thresholds, floor 0.25), plus the
    # share of flagged transactions that come back labeled legit at a fixed label age, with
    # hysteresis (2 days to enter, 3 to exit). Noise columns are not model inputs: not watched.
    return mon.DriftMonitor(mon.MODEL_FEATURES, alpha=0.01, psi_floor=0.25,
                            min_consecutive=2, exit_consecutive=3).fit(reference_frame)
    ### END SOLUTION


# %% id="ex5_design_monitor_tests" mlcourse={"stage": "monitoring", "tier": 5} nbgrader={"grade": true, "grade_id": "ex5_design_monitor_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
_monitor = design_monitor(reference)
assert callable(_monitor), f"expected design_monitor to return a callable, got {type(_monitor).__name__}"
_alerts = [int(d) for d in _monitor(mon.daily_batches(tx, start=40))]
assert all(40 <= d < 80 for d in _alerts), f"expected alert days among the stream's days 40-79, got {_alerts[:10]}"
_ev = mon.evaluate_alerts(_alerts, [DRIFT_DAY, BUG_DAY], max_delay=21)
assert _ev.detected[0], \
    f"expected the pattern change on day {DRIFT_DAY} to be caught before day {BUG_DAY} (within 21 days), got delays {_ev.delays}"
assert _ev.delays[1] <= 3, f"expected an alert within 3 days of the amount bug on day {BUG_DAY}, got delays {_ev.delays}"
assert len(_ev.false_alarm_days) <= 3, f"expected at most 3 false-alarm days before day {DRIFT_DAY}, got {_ev.false_alarm_days}"

# %% id="ex5_design_monitor_hidden_tests" mlcourse={"stage": "monitoring", "tier": 5} nbgrader={"grade": true, "grade_id": "ex5_design_monitor_hidden_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test replays fresh streams with incidents you have not seen.
_check = design_monitor(reference)
assert callable(_check), f"expected design_monitor to return a callable, got {type(_check).__name__}"
### BEGIN HIDDEN TESTS
from mlcourse.world import DriftEvent as _DriftEvent

_scenarios_h = [
    # (seed, drift, shifts, max_delay)
    (301, (_DriftEvent(53, "account_takeover"),), [mon.FeatureShift(45, "noise_2", "scale", 3.0)], 21),
    (302, (_DriftEvent(50, "card_testing"),), [mon.FeatureShift(44, "noise_0", "add", 1.0)], 21),
    (303, (), [mon.FeatureShift(56, "device", "missing", 0.6), mon.FeatureShift(47, "noise_3", "add", 2.0)], 3),
    (304, (), [mon.FeatureShift(52, "merchant_category", "category", "grocery")], 3),
    (305, (), [mon.FeatureShift(48, "noise_1", "scale", 4.0)], 3),
]
for _seed, _drift, _shifts, _delay in _scenarios_h:
    _st = mon.make_monitoring_stream(_seed, n_days=76, reference_end=40, drift=_drift, shifts=_shifts)
    _mon_h = design_monitor(_st.reference)
    _al = [int(d) for d in _mon_h(mon.daily_batches(_st.frame, start=40))]
    _ev = mon.evaluate_alerts(_al, _st.incidents, max_delay=_delay)
    assert _ev.all_detected, \
        f"hidden stream {_seed} (incidents on days {_st.incidents}): expected detection within {_delay} days, got delays {_ev.delays}"
    assert len(_ev.false_alarm_days) <= 3, \
        f"hidden stream {_seed} (benign shift on days {_st.benign}): expected at most 3 false-alarm days, got {_ev.false_alarm_days}"
### END HIDDEN TESTS

# %% [markdown] id="md-43"
# ## Summary
#
# * **Online metrics** need an as-of date and a label coverage; compare them at a **fixed label age**, or the
#   most recent windows always look broken.
# * **Data drift** (PSI, KS, JS per feature, bins from the reference, categories and missing values included)
#   is fast and catches broken pipelines on day one — but **drift is not a performance drop**: inputs can drift
#   harmlessly, and a **concept drift** can wreck performance with no input drift at all.
# * **Prediction drift** and **confidence-based performance estimation** need no labels; the estimate holds
#   under covariate shift and fails exactly when the concept changes or the inputs break.
# * **Alerts**: significant *and* large; hysteresis against flapping; Bonferroni, Benjamini–Hochberg or
#   thresholds calibrated on a quiet period against the flood of false alarms from many features.
# * **Architecture**: log every prediction with an id; join the late labels; export gauges to Prometheus;
#   dashboards, few actionable alerts, runbooks, named owners.
# * **Evaluate the monitor itself**: detection delay per incident and false alarms, on replayed incidents.
#
# ### Going further
#
# * Multivariate drift: a classifier trained to tell reference from current rows ("domain classifier");
#   its AUC is a drift statistic that sees interactions no per-feature test sees.
# * Sequential tests (CUSUM, Page-Hinkley, ADWIN in `river`) detect a change as soon as the evidence suffices,
#   instead of on fixed windows.
# * Faster label proxies: customer disputes and analyst reviews (stage 9) arrive in days, not weeks.
# * Tools: Evidently, NannyML (CBPE and DLE), whylogs; Prometheus with Grafana and Alertmanager.
