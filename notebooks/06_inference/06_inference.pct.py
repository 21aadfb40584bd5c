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
# # Stage 6 — Inference: serving the model fast enough, cheaply enough
#
# > *"Once we're satisfied with the model's performance, we're ready to deploy it. This requires careful
# > planning, from selecting the appropriate hardware to efficiently using the cores and instructions. The
# > choice between different precision formats like int8, fp16, bf16, etc., depends on the trade-off we want
# > to make between speed and accuracy. Moreover, understanding concepts like queuing theory, throughput, and
# > latency relationships can help scale models effectively."*
# > — the ML engineer roadmap, stage 6
#
# The fraud model of stage 3 must score every card payment **before** the payment is approved: the
# payment service gives us a budget of a few milliseconds at the 99th percentile, at thousands of payments
# per second, and every server we rent costs money. This notebook is about the three decisions that
# follow: which hardware and number format, how to measure what we get, and how many replicas — with what
# batching — meet the latency target at the lowest cost.
#
# **Learning objectives.** After this notebook you can
#
# 1. read a CPU's instruction sets (AVX2, AVX-512, VNNI, BF16, FP16, AMX) and say which number formats it
#    can speed up, and set the threads a model uses;
# 2. explain the range and precision of fp32, bf16, fp16 and int8, quantize a tensor (scale, zero point)
#    and bound the error; convert a PyTorch model to each format and measure size and accuracy;
# 3. measure latency honestly: warm-up, repetitions, percentiles rather than the mean, a fixed thread count;
#    report throughput against batch size;
# 4. say when a layer is memory-bound or compute-bound, and therefore when int8 pays off and when it does not;
# 5. use Little's law, the M/M/1, M/M/c (Erlang C) and loss (Erlang B) models, and the "hockey stick" of
#    waiting time against utilisation, to size a service for a percentile target;
# 6. trade latency for throughput with dynamic batching, and choose precision, replicas and batching policy
#    to meet an SLO at minimal cost, from measured service times rather than textbook assumptions.
#
# **Estimated time:** about 3.5 hours (≈ 1.25 h reading and running the demos, ≈ 2.25 h exercises).
#
# **Prerequisites:** stage 3 (the course MLP, `md.train_course_model`); NumPy; basic probability (the
# exponential distribution, percentiles). No queuing theory is assumed.
#
# ### How this notebook is graded
#
# Exercises are autograded with nbgrader. Each one belongs to a *tier*; tier $t$ exercises demonstrate
# rubric level $t$ for this stage. Your level for the stage is the highest tier $t$ whose tiers $1..t$
# you have all **mastered**. A tier is mastered when you earn at least 70% of its points, or miss only
# one of its graded cells when it has four or more, and never with half its cells failed. Each exercise
# is checked by several graded cells, so one slip costs a share of an exercise, not all of it. The tests
# grade formulas and decisions, never the speed of the machine they run on. From tier 3 on, hidden tests
# check your decisions on conditions you have not seen: other models, other hardware, other traffic.
#
# | tier | rubric level | what it shows | exercises |
# |---|---|---|---|
# | 1 | awareness | you run the model and measure its latency with warm-up and percentiles | 1 |
# | 2 | basic understanding | you report throughput against batch size, and know the arithmetic of int8 and of a queue | 2, 3, 6 |
# | 3 | proficiency (Junior) | you choose a precision and a format for a model and a machine from measurements | 4, 5 |
# | 4 | advanced (Senior) | you size a service with queuing theory and split the chip's cores between replicas and threads | 7, 8 |
# | 5 | expert (Staff) | you meet a latency SLO at the fewest replicas from measured service times, with batching, on unseen traffic | 9, 10 |

# %% [markdown] id="md-params"
# ## Parameters
#
# `SEED` fixes all randomness. `FAST` only trims the demonstrations (fewer batch sizes and repetitions in
# the benchmark, fewer simulated requests); the graded tests never depend on it.

# %% id="parameters" tags=["parameters"]
# Papermill parameters. FAST keeps CI runs short (it trims demos only, never tests).
SEED = 0
FAST = False

# %% id="setup"
import os

os.environ.setdefault("TORCH_CPP_LOG_LEVEL", "ERROR")   # torch's C++ side writes warnings straight to stderr

import itertools
import logging
import math
import time
import warnings

import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
import torch
from scipy import stats

# nbgrader scores any test cell that writes to stderr as failed, so we silence library warnings once,
# here: torch.ao.quantization's DeprecationWarning, torch's UserWarnings, torchao's import log lines.
warnings.filterwarnings("ignore")
torch.set_warn_always(False)
for _logger in ("torchao", "torch.utils._pytree"):
    logging.getLogger(_logger).setLevel(logging.ERROR)
# One intra-op thread: the benchmarks below fix the thread count (and the course machines have 2 cores).
torch.set_num_threads(1)

from mlcourse import inference as inf
from mlcourse import modeling as md

course = md.train_course_model(seed=SEED)            # the stage-3 fraud MLP: 35 -> 64 -> 32 -> 2
net = course.model.network_
X_test, y_test = course.data.X_test, course.data.y_test
print(net)
print(f"held-out test rows: {X_test.shape}, fraud rate {y_test.mean():.2%}")

# %% [markdown] id="md-05"
# ## 1. The hardware: cores, vectors and the instructions that matter
#
# A neural network's inference is almost all **multiply-adds** (a `Linear(64, 32)` layer is 2,048 of them
# per row). A CPU core does them in **vector registers**: AVX2 holds 8 fp32 numbers (256 bits), AVX-512
# holds 16, and one *fused multiply-add* (FMA) instruction does $a \cdot b + c$ on all lanes at once. Narrower
# numbers fit more lanes, but only if the chip has instructions that *compute* in them:
#
# | instruction set | what it adds | speeds up |
# |---|---|---|
# | AVX2 + FMA | 256-bit vectors, fused multiply-add | fp32 (8 lanes); int8 via multi-instruction sequences |
# | AVX-512 | 512-bit vectors | fp32 (16 lanes) |
# | AVX-512 VNNI / AVX-VNNI | `vpdpbusd`: four int8 products summed into an int32 in one instruction | **int8**: up to 4× the multiply-adds of fp32 per instruction |
# | AVX-512 BF16 | `vdpbf16ps`: bf16 dot products into fp32 | **bf16**: 2× fp32 |
# | AVX-512 FP16 | native fp16 arithmetic | **fp16** |
# | AMX (tile, int8, bf16, fp16) | matrix units beside the vector units (Sapphire Rapids and later) | int8 and bf16 matrix products, many times over |
#
# Without the matching instruction a format is converted back to fp32 to compute: it saves **memory**, not
# **time**. Linux lists the instruction sets in `/proc/cpuinfo` (the `flags` line); `inf.hardware_report()`
# reads them, counts cores, and reads torch's threading settings.

# %% id="code-06"
report = inf.hardware_report()
print(report)
report.to_frame()

# %% [markdown] id="md-07"
# **Cores and threads.** torch splits one large operation over `torch.get_num_threads()` *intra-op*
# threads, and can run independent operations in parallel on `get_num_interop_threads()` threads. For a
# small model, threads mostly add synchronisation: on a 2-core machine serving many requests, one thread per
# model replica and one replica per core is often the best use of the cores — but not always: at low traffic
# one replica on two threads answers each request faster (exercise 8 asks you to decide). Whatever you
# choose, **fix it and report it** with every benchmark: a number measured with 1 thread and one measured
# with 16 are different experiments. (`inf.torch_threads(n)` sets it for a block of code.)

# %% [markdown] id="md-08"
# ## 2. Number formats: range, precision, and what quantization costs
#
# A floating-point number has a sign, an **exponent** (the range) and a **mantissa** (the precision):
#
# * **fp32**: 8 exponent bits, 23 mantissa bits — the training format;
# * **bf16** ("brain float"): the *same 8 exponent bits* as fp32, only 7 mantissa bits. Same range, so values
#   never overflow when converted; about 2–3 significant digits;
# * **fp16**: 5 exponent bits, 10 mantissa bits: more precise than bf16 but its largest value is 65,504 and
#   small values underflow — which is why fp16 training needs loss scaling;
# * **int8**: 256 evenly spaced integers. A real value $x$ is stored as $q = \text{round}(x / s) + z$ with a
#   **scale** $s$ and a **zero point** $z$; it comes back as $\hat x = s\,(q - z)$. Inside the range, the
#   error is at most half a step: $|x - \hat x| \le s/2$. Outside it, values are clipped.

# %% id="code-09"
rows = []
for name, dtype in [("fp32", torch.float32), ("bf16", torch.bfloat16), ("fp16", torch.float16)]:
    fi = torch.finfo(dtype)
    rows.append({"format": name, "bits": fi.bits, "largest": fi.max, "smallest normal": fi.tiny,
                 "relative step (eps)": fi.eps})
ii = torch.iinfo(torch.int8)
rows.append({"format": "int8", "bits": ii.bits, "largest": ii.max, "smallest normal": 1,
             "relative step (eps)": float("nan")})
pd.DataFrame(rows).set_index("format")

# %% [markdown] id="md-10"
# Quantizing the first layer's weights shows the arithmetic. The scale is set by the **range**: one outlier
# weight stretches the range, makes every step larger, and costs precision for all the others — which is why
# production int8 uses one scale **per output channel** (per row of the weight matrix), not one per tensor.

# %% id="code-11"
w = net[0].weight.detach().numpy().ravel()
q, scale, zero_point = inf.quantize_tensor(w)
w_hat = inf.dequantize_tensor(q, scale, zero_point)
print(f"scale {scale:.5f}, zero point {zero_point}, max error {np.abs(w - w_hat).max():.5f} "
      f"<= bound {inf.quantization_error_bound(scale):.5f}")
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.2))
left.hist(w, bins=80, color="tab:blue")
left.set(title="first-layer weights (fp32)", xlabel="value")
right.hist(w - w_hat, bins=80, color="tab:orange")
right.set(title="int8 round-trip error", xlabel="x - dequantize(quantize(x))")
plt.tight_layout()
plt.show()

# %% [markdown] id="md-12"
# ### Converting the model
#
# `inf.convert_model(net, precision, backend=...)` returns a copy in another format; every version takes a
# float32 batch and returns float32 logits. The int8 formats:
#
# * **dynamic**: weights in int8 ahead of time; each batch's activations quantized on the fly from their
#   own range (no calibration data, some overhead per layer);
# * **static**: activation ranges measured once on **calibration** data; Linear+ReLU fused; the fastest,
#   but calibration must represent production traffic;
# * **weight-only**: int8 weights, arithmetic in fp32 after converting them back. It saves **memory
#   traffic**, not arithmetic, so it is faster exactly when reading the weights is the bottleneck: a
#   *memory-bound* layer (small batch, weights far larger than the caches, limited memory bandwidth), and
#   only with a kernel that converts the int8 weights in registers as it reads them. It is not faster when
#   the layer is *compute-bound* (large batches: the multiply-adds dominate, still in fp32), nor on a tiny
#   model whose weights sit in cache anyway and where the conversion is pure overhead. Section 2b measures it.
#
# Two libraries do this in PyTorch: `torch.ao.quantization` (eager mode, fbgemm/oneDNN kernels that use
# VNNI; **deprecated**, it warns on every use) and its successor **torchao**, whose int8 tensors are
# designed to be compiled with `torch.compile` (and for GPUs). The table below measures quality; speed
# comes in sections 2b and 3.

# %% id="code-13"
conversions = [c for c in inf.available_conversions()]
quality = []
for precision, backend in conversions:
    converted = inf.convert_model(net, precision, backend="torchao" if backend == "torchao" else "torch.ao",
                                  calibration=course.data.X_train[:2000])
    quality.append({"precision": precision, "backend": backend,
                    "weight dtype": ", ".join(str(d).replace("torch.", "") for d in inf.weight_dtypes(converted)),
                    "size (bytes)": inf.model_size_bytes(converted),
                    **inf.evaluate_precision(converted, net, X_test, y_test)})
pd.DataFrame(quality).set_index(["precision", "backend"]).round(4)

# %% [markdown] id="md-14"
# Every format keeps the decisions (agreement ≈ 100%) and the accuracy within a hundredth of a point:
# the course model is small and its inputs are standardised, so its ranges are tame. int8 shrinks the file
# about 2× here (4× for the weights, but biases, scales and metadata do not shrink) — and far more on a
# large model, where memory bandwidth is the bottleneck.

# %% [markdown] id="md-memory-bound"
# ### 2b. Memory-bound or compute-bound: when int8 weights pay off
#
# A `Linear(n_in, n_out)` layer on a batch of $b$ rows does $2\,b\,n_{in}\,n_{out}$ floating-point
# operations and must read its $n_{in} n_{out}$ weights from memory. At batch 1 it does **2 operations per
# weight read**: a core that does tens of billions of operations per second waits for the memory bus
# (tens of GB/s shared by all cores). Such a layer is **memory-bound**: its time is the bytes it moves
# divided by the bandwidth, and storing the weights in 1 byte instead of 4 can make it up to 4× faster
# even if the arithmetic stays in fp32. At batch 256 the same weights serve 512 operations each: the
# layer is **compute-bound**, and only faster arithmetic (VNNI int8, AVX512-BF16, AMX) helps.
#
# The measurement below (one thread) times one wide layer in fp32, in torch.ao's int8 (int8 weights read
# directly by fbgemm's kernels) and in torchao's eager weight-only int8, at batch 1 and batch 64. Read the
# ratios, not the absolute numbers: on a machine whose caches hold all the weights, the memory-bound gain
# shrinks. torchao's weight-only format, run eagerly, converts the *whole* weight matrix back to fp32 on
# every call before multiplying — more memory traffic, not less — which is why it needs `torch.compile`
# (or a GPU kernel) to pay off: the format is only as fast as the kernel that reads it.

# %% id="code-memory-bound"
width = 2048                                   # 16 MB of fp32 weights: more than L2 and many L3 caches hold
layer = torch.nn.Sequential(torch.nn.Linear(width, width), torch.nn.ReLU(), torch.nn.Linear(width, 2)).eval()
bound_rows = []
for precision, backend in [("fp32", "torch.ao"), ("int8_dynamic", "torch.ao"), ("int8_weight_only", "torchao")]:
    if (precision, backend if precision != "fp32" else "torch") not in inf.available_conversions():
        continue
    converted = inf.convert_model(layer, precision, backend=backend)
    for batch in (1, 64):
        xb = torch.randn(batch, width)
        with torch.inference_mode():
            times = inf.measure_latency(lambda: converted(xb), warmup=2, repeats=10 if FAST else 50)
        bound_rows.append({"format": f"{precision} [{backend}]" if precision != "fp32" else "fp32",
                           "batch": batch, "p50_ms": 1e3 * float(np.median(times)),
                           "weight MB": inf.model_size_bytes(converted) / 1e6})
bound = pd.DataFrame(bound_rows)
bound["speedup_vs_fp32"] = [
    float(bound[(bound["format"] == "fp32") & (bound["batch"] == b)]["p50_ms"].iloc[0]) / t
    for b, t in zip(bound["batch"], bound["p50_ms"])
]
bound.round(3)

# %% [markdown] id="md-memory-bound-read"
# On the course machine (2 cores, AVX2, no AVX-512, one thread), the batch-1 call of this layer took about
# 0.7–0.9 ms in fp32 and 0.21–0.24 ms with int8 weights: 3.3–3.8× faster, close to the 4× fewer bytes. At
# batch 64 the layer does 128 operations per weight read, and the gain fell to about 1.5×: what is left
# comes from int8 *arithmetic* (here AVX2's int8 multiply-adds, without VNNI), not from the bytes.
# torchao's eager weight-only int8 was *slower* than fp32 at both sizes (about 0.35× and 0.8×). Your numbers differ with your caches, bandwidth and load; what does not
# differ is the reasoning. Exercise 5 turns it into a model (a *roofline*: the slower of compute and memory)
# that predicts which format wins for a given model, batch size and machine.

# %% [markdown] id="md-15"
# ## 3. Measuring latency honestly
#
# A latency number is only worth something if it was measured well:
#
# 1. **Warm up.** The first calls pay one-off costs: lazy initialisation, memory allocation, caches, page
#    faults, kernel selection. Run the model a few times untimed.
# 2. **Repeat, and time each call.** One call is noise; a loop timed as a whole hides the distribution.
#    Time each call with a monotonic high-resolution clock (`time.perf_counter`, never `time.time`).
# 3. **Report percentiles and spread, not only the mean.** Users feel the tail. A page that makes 100
#    independent calls waits for at least one call slower than the p99 with probability
#    $1 - 0.99^{100} \approx 63\%$: most pages see the p99. One slow call in a hundred barely moves the mean
#    and *is* the p99.
# 4. **Fix and report the conditions:** threads, batch size, precision, machine; compare alternatives side
#    by side in one run (the machine's load changes between runs).
# 5. **Throughput** (items per second) at batch size $b$ is $b / \text{mean latency}$: throughput comes from
#    the mean (total time), latency from the percentiles.

# %% id="code-16"
x1 = torch.as_tensor(X_test[:1], dtype=torch.float32)
fresh = inf.convert_model(net, "int8_static", calibration=course.data.X_train[:2000])
with torch.inference_mode():
    start = time.perf_counter(); fresh(x1); first_call = time.perf_counter() - start
    samples = inf.measure_latency(lambda: fresh(x1), warmup=20, repeats=200 if FAST else 1000)
summary = inf.latency_summary(samples)
print(f"first (cold) call: {1e6 * first_call:.0f} us; after warm-up: mean {1e6 * summary['mean']:.1f} us, "
      f"p50 {1e6 * summary['p50']:.1f}, p95 {1e6 * summary['p95']:.1f}, p99 {1e6 * summary['p99']:.1f}, "
      f"max {1e6 * summary['max']:.1f} us")
plt.figure(figsize=(6, 3))
plt.hist(1e6 * samples, bins=80, log=True)
for key, color in [("p50", "green"), ("mean", "black"), ("p99", "red")]:
    plt.axvline(1e6 * summary[key], color=color, linestyle="--", label=key)
plt.xlabel("latency per call (us)"); plt.ylabel("calls (log)"); plt.legend(); plt.title("A latency distribution")
plt.tight_layout()
plt.show()

# %% [markdown] id="md-22"
# ### Exercise 1 (tier 1) — measure latency correctly
#
# Implement `measure_percentiles(fn, warmup=5, repeats=50, clock=time.perf_counter)`:
#
# 1. call `fn()` `warmup` times **without** timing it (do not call `clock` for them);
# 2. then call it `repeats` times, timing **each** call on its own: `t0 = clock(); fn(); t1 = clock()`;
# 3. return a dict `{"p50": ..., "p95": ..., "p99": ..., "mean": ...}` of the timed calls, in **milliseconds**
#    (the clock returns seconds), percentiles with `np.percentile`'s default (linear) interpolation.
#
# Always call the `clock` argument (never `time.perf_counter` directly): the tests pass a scripted clock.
# Write it with NumPy: `mlcourse.inference`'s `measure_latency` and `latency_summary` are not allowed.

# %% id="ex1-measure-percentiles" mlcourse={"stage": "inference", "tier": 1, "forbid": ["mlcourse.inference"]} nbgrader={"grade": false, "grade_id": "ex1_measure_percentiles", "locked": false, "schema_version": 3, "solution": true, "task": false}
def measure_percentiles(fn, warmup=5, repeats=50, clock=time.perf_counter):
    """p50, p95, p99 and mean latency of fn() in milliseconds, after `warmup` untimed calls."""
    ### BEGIN SOLUTION
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    ms = 1e3 * np.asarray(times)
    return {"p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95)),
            "p99": float(np.percentile(ms, 99)), "mean": float(ms.mean())}
    ### END SOLUTION

# %% id="ex1-mistake-times-warmup" mistake={"why": "times the warm-up calls too, so cold calls enter the percentiles"}
def measure_percentiles(fn, warmup=5, repeats=50, clock=time.perf_counter):
    times = []
    for _ in range(warmup + repeats):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    ms = 1e3 * np.asarray(times)
    return {"p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95)),
            "p99": float(np.percentile(ms, 99)), "mean": float(ms.mean())}

# %% id="ex1-mistake-seconds" mistake={"why": "returns seconds, not milliseconds"}
def measure_percentiles(fn, warmup=5, repeats=50, clock=time.perf_counter):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    s = np.asarray(times)
    return {"p50": float(np.percentile(s, 50)), "p95": float(np.percentile(s, 95)),
            "p99": float(np.percentile(s, 99)), "mean": float(s.mean())}

# %% id="ex1-mistake-loop-timed-whole" mistake={"why": "times the loop as a whole and divides by the count: every percentile becomes the mean"}
def measure_percentiles(fn, warmup=5, repeats=50, clock=time.perf_counter):
    for _ in range(warmup):
        fn()
    t0 = clock()
    for _ in range(repeats):
        fn()
    per_call = 1e3 * (clock() - t0) / repeats
    return {"p50": per_call, "p95": per_call, "p99": per_call, "mean": per_call}

# %% id="ex1-mistake-no-warmup" mistake={"why": "skips the warm-up calls"}
def measure_percentiles(fn, warmup=5, repeats=50, clock=time.perf_counter):
    times = []
    for _ in range(repeats):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    ms = 1e3 * np.asarray(times)
    return {"p50": float(np.percentile(ms, 50)), "p95": float(np.percentile(ms, 95)),
            "p99": float(np.percentile(ms, 99)), "mean": float(ms.mean())}

# %% id="ex1-mistake-nearest-rank" mistake={"why": "nearest-rank percentiles (method='nearest') instead of linear interpolation"}
def measure_percentiles(fn, warmup=5, repeats=50, clock=time.perf_counter):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    ms = 1e3 * np.asarray(times)
    return {"p50": float(np.percentile(ms, 50, method="nearest")), "p95": float(np.percentile(ms, 95, method="nearest")),
            "p99": float(np.percentile(ms, 99, method="nearest")), "mean": float(ms.mean())}

# %% id="ex1-measure-percentiles-tests" mlcourse={"stage": "inference", "tier": 1} nbgrader={"grade": true, "grade_id": "ex1_measure_percentiles_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# A scripted clock: it returns these readings in turn, two per timed call. The four timed calls take
# 1, 3, 2 and 10 ms. Sorted: [1, 2, 3, 10]. p50 = (2 + 3) / 2 = 2.5 ms; mean = 16 / 4 = 4 ms; p95 sits at
# position 0.95 * 3 = 2.85, so 3 + 0.85 * (10 - 3) = 8.95 ms; p99 at 2.97: 3 + 0.97 * 7 = 9.79 ms.
_ex1_calls = itertools.count()
_ex1_clock = iter([0.0, 0.001, 1.0, 1.003, 2.0, 2.002, 3.0, 3.010]).__next__
_ex1_got = measure_percentiles(_ex1_calls.__next__, warmup=2, repeats=4, clock=_ex1_clock)
assert isinstance(_ex1_got, dict) and set(_ex1_got) >= {"p50", "p95", "p99", "mean"}, \
    f"expected a dict with keys p50, p95, p99, mean, got {_ex1_got!r}"
for _k, _v in [("p50", 2.5), ("mean", 4.0), ("p95", 8.95), ("p99", 9.79)]:
    assert abs(_ex1_got[_k] - _v) < 1e-6, f"{_k}: expected {_v} ms, got {_ex1_got[_k]}"
assert next(_ex1_calls) == 6, "expected fn to be called 2 (warm-up) + 4 (timed) = 6 times"

# %% id="ex1-measure-percentiles-warmup-tests" mlcourse={"stage": "inference", "tier": 1} nbgrader={"grade": true, "grade_id": "ex1_measure_percentiles_warmup_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# The defaults: 5 warm-up calls that read no clock, then 50 timed calls, two readings each. Every timed call
# takes exactly 4 ms here, so every percentile and the mean are 4 ms.
_ex1_calls = itertools.count()
_ex1_clock = iter(np.repeat(np.arange(50.0), 2) + np.tile([0.0, 0.004], 50)).__next__
_ex1_got = measure_percentiles(_ex1_calls.__next__, clock=_ex1_clock)
assert next(_ex1_calls) == 55, "with the defaults expected 5 warm-up + 50 timed calls of fn"
for _k in ("p50", "p95", "p99", "mean"):
    assert abs(_ex1_got[_k] - 4.0) < 1e-6, f"every call takes 4 ms: expected {_k} = 4.0 ms, got {_ex1_got[_k]}"
# One timed call, no warm-up.
_ex1_calls = itertools.count()
_ex1_got = measure_percentiles(_ex1_calls.__next__, warmup=0, repeats=1, clock=iter([10.0, 10.25]).__next__)
assert next(_ex1_calls) == 1 and abs(_ex1_got["p99"] - 250.0) < 1e-6, \
    f"one call of 250 ms and no warm-up: expected p99 = 250 ms and one call of fn, got {_ex1_got}"

# %% id="ex1-measure-percentiles-hidden-tests" mlcourse={"stage": "inference", "tier": 1} nbgrader={"grade": true, "grade_id": "ex1_measure_percentiles_hidden_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test scripts a long, skewed latency distribution.
_ex1_got = measure_percentiles(itertools.count().__next__, warmup=1, repeats=2, clock=iter([0.0, 0.5, 1.0, 1.5]).__next__)
assert abs(_ex1_got["mean"] - 500.0) < 1e-6, f"two calls of 500 ms: expected a mean of 500 ms, got {_ex1_got}"
### BEGIN HIDDEN TESTS
_rng_h = np.random.default_rng(1101)
_dur_h = _rng_h.lognormal(-6.0, 0.8, 301)
_starts_h = np.cumsum(np.r_[0.0, _dur_h[:-1] + 0.01])
_readings_h = np.column_stack([_starts_h, _starts_h + _dur_h]).ravel()
_calls_h = itertools.count()
_got_h = measure_percentiles(_calls_h.__next__, warmup=9, repeats=301, clock=iter(_readings_h).__next__)
assert next(_calls_h) == 310, "expected 9 warm-up and 301 timed calls"
for _k_h, _p_h in [("p50", 50), ("p95", 95), ("p99", 99)]:
    _want_h = 1e3 * float(np.percentile(_dur_h, _p_h))
    assert abs(_got_h[_k_h] - _want_h) < 1e-6 * max(1.0, _want_h), f"{_k_h}: expected {_want_h:.6f} ms, got {_got_h[_k_h]}"
assert abs(_got_h["mean"] - 1e3 * _dur_h.mean()) < 1e-6, f"mean: expected {1e3 * _dur_h.mean():.6f} ms, got {_got_h['mean']}"
### END HIDDEN TESTS

# %% [markdown] id="md-17"
# ### The benchmark: every precision, every batch size, side by side
#
# `inf.run_inference_benchmark` converts the model to each precision, and for each batch size warms up, times
# many calls at one fixed thread, and records size and accuracy. We run it on the course MLP and on a
# **wide variant of the same architecture** (hidden layers 512 and 256): the course model is tiny, and the
# difference between the two is the lesson. (The full version is `python benchmarks/inference.py`; here it is
# trimmed. Numbers depend on your machine and its load; the ratios within one run are what to read.)

# %% id="code-18"
wide = md.train_course_model(seed=SEED, hidden_layer_sizes=(512, 256), max_epochs=3 if FAST else 6)
bench = inf.run_inference_benchmark(
    quick=True, progress=False, models={"course": course, "wide": wide},
    batch_sizes=(1, 64) if FAST else (1, 8, 64, 256),
)
cols = ["model", "precision", "batch_size", "p50_ms", "p99_ms", "throughput_per_s", "speedup_vs_fp32",
        "size_bytes", "accuracy_delta_pts"]
bench[bench["batch_size"] == 64][cols].round(4)

# %% id="code-19"
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
for ax, name in zip(axes, ["course", "wide"]):
    inf.plot_latency_vs_batch(bench[bench["model"] == name], ax=ax, title=f"{name}: latency per call")
plt.tight_layout()
plt.show()
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
for ax, name in zip(axes, ["course", "wide"]):
    inf.plot_accuracy_speed(bench[bench["model"] == name], ax=ax, title=f"{name}: accuracy vs speed")
plt.tight_layout()
plt.show()
for verdict in bench.attrs["targets"]:
    print(f"[{verdict['model']}] {verdict['message']}")

# %% [markdown] id="md-20"
# **Why the small model does not get faster.** A batch of 64 through the course MLP is about 200,000
# multiply-adds: a few microseconds of arithmetic. The call costs tens of microseconds anyway — Python,
# the dispatcher, allocating outputs — and int8 *adds* work per layer (quantize the activations, dequantize
# the result). When overhead dominates, a format that makes arithmetic 4× cheaper changes almost nothing,
# or makes things slower. The wide variant does 60× more arithmetic per row: there, int8 with VNNI and bf16
# with AVX512-BF16 pay off, and the gap grows with the batch. fp16 is *slower* on CPUs without AVX512-FP16:
# it is a GPU format.
#
# **torch.ao.quantization or torchao?** On the reference machine (AMD EPYC with AVX-512 VNNI and BF16,
# 1 thread; `python benchmarks/inference.py --quick`), at batch 64:
#
# | model | fp32 | int8 dynamic, torch.ao | int8 static, torch.ao | int8 dynamic, torchao | int8 weight-only, torchao |
# |---|---|---|---|---|---|
# | course 35-64-32-2 | 0.023 ms | 0.050 ms (0.46×) | 0.047 ms (0.49×) | 0.343 ms (0.06×) | 0.047 ms (0.49×) |
# | wide 35-512-256-2 | 0.203 ms | 0.087 ms (**2.07×**) | 0.073 ms (**2.75×**) | 0.429 ms (0.47×) | 0.244 ms (0.83×) |
#
# All keep accuracy within 0.02 points. torchao's int8 runs through Python tensor subclasses that, without
# `torch.compile`, dequantize or dispatch op by op: it is the right tool for GPUs and compiled graphs, but
# in eager CPU inference it is 5–15× slower than torch.ao's fused VNNI kernels. **The course therefore uses
# `torch.ao.quantization` for CPU int8** (silencing its deprecation warning), and keeps torchao in the
# benchmark so that the comparison is re-measured whenever either library changes. Compile times of several
# seconds to minutes, and a C++ toolchain, rule out `torch.compile` for these notebooks.
#
# ### From measurements to a service-time model
#
# For queueing, we need the time to serve a **batch** of $b$ requests. Latency per call is close to affine
# in $b$: $s(b) = \text{fixed} + \text{per\_item}\cdot b$. The fixed part is overhead; batching spreads it over
# many requests, which is why batching raises throughput.

# %% id="code-21"
_fp32 = bench[(bench["model"] == "wide") & (bench["precision"] == "fp32")]
fixed, per_item = inf.fit_service_time(_fp32["batch_size"], _fp32["mean"])
print(f"wide fp32: s(b) = {1e3 * fixed:.4f} ms + {1e3 * per_item:.5f} ms x b  "
      f"-> at most {1 / per_item:,.0f} rows/s per core with huge batches, {1 / (fixed + per_item):,.0f} rows/s one at a time")


# %% [markdown] id="md-ex2-throughput"
# ### Exercise 2 (tier 2) — throughput against batch size
#
# A benchmark gives, for each batch size, the seconds each timed call took. Implement
#
# * `throughput_table(samples_by_batch)`: `samples_by_batch` is a dict `{batch_size: 1-D array of seconds per
#   call}`. Return a pandas DataFrame with one row per batch size, **sorted by batch size**, and the columns
#   `batch_size` (int), `p50_ms`, `p99_ms` (percentiles of the call latency, linear interpolation, in ms)
#   and `throughput_per_s` (rows scored per second). Raise `ValueError` if a batch size is below 1 or a
#   sample array is empty.
# * `best_batch_size(table, max_p99_ms)`: from such a table, the batch size with the highest throughput
#   among those whose p99 is at most `max_p99_ms`; `None` if there is none.
#
# NumPy and pandas only: `mlcourse.inference` is not allowed.

# %% id="ex2-throughput-table" mlcourse={"stage": "inference", "tier": 2, "forbid": ["mlcourse.inference"]} nbgrader={"grade": false, "grade_id": "ex2_throughput_table", "locked": false, "schema_version": 3, "solution": true, "task": false}
def throughput_table(samples_by_batch):
    """One row per batch size: batch_size, p50_ms, p99_ms, throughput_per_s (rows per second)."""
    ### BEGIN SOLUTION
    rows = []
    for b, samples in samples_by_batch.items():
        s = np.asarray(samples, dtype=float)
        if b < 1 or s.size == 0:
            raise ValueError(f"batch size {b}: expected a batch size >= 1 and at least one sample")
        rows.append({"batch_size": int(b), "p50_ms": 1e3 * np.percentile(s, 50),
                     "p99_ms": 1e3 * np.percentile(s, 99), "throughput_per_s": b / s.mean()})
    return pd.DataFrame(rows).sort_values("batch_size").reset_index(drop=True)
    ### END SOLUTION


def best_batch_size(table, max_p99_ms):
    """The batch size with the highest throughput whose p99 is at most max_p99_ms, or None."""
    ### BEGIN SOLUTION
    ok = table[table["p99_ms"] <= max_p99_ms]
    if len(ok) == 0:
        return None
    return int(ok.loc[ok["throughput_per_s"].idxmax(), "batch_size"])
    ### END SOLUTION

# %% id="ex2-mistake-median-throughput" mistake={"why": "throughput from the median call instead of the mean: the slow calls take time too"}
def throughput_table(samples_by_batch):
    rows = []
    for b, samples in samples_by_batch.items():
        s = np.asarray(samples, dtype=float)
        if b < 1 or s.size == 0:
            raise ValueError("bad input")
        rows.append({"batch_size": int(b), "p50_ms": 1e3 * np.percentile(s, 50),
                     "p99_ms": 1e3 * np.percentile(s, 99), "throughput_per_s": b / np.median(s)})
    return pd.DataFrame(rows).sort_values("batch_size").reset_index(drop=True)


def best_batch_size(table, max_p99_ms):
    ok = table[table["p99_ms"] <= max_p99_ms]
    return None if len(ok) == 0 else int(ok.loc[ok["throughput_per_s"].idxmax(), "batch_size"])

# %% id="ex2-mistake-calls-per-second" mistake={"why": "reports calls per second (1 / mean) instead of rows per second (batch size / mean)"}
def throughput_table(samples_by_batch):
    rows = []
    for b, samples in samples_by_batch.items():
        s = np.asarray(samples, dtype=float)
        if b < 1 or s.size == 0:
            raise ValueError("bad input")
        rows.append({"batch_size": int(b), "p50_ms": 1e3 * np.percentile(s, 50),
                     "p99_ms": 1e3 * np.percentile(s, 99), "throughput_per_s": 1 / s.mean()})
    return pd.DataFrame(rows).sort_values("batch_size").reset_index(drop=True)


def best_batch_size(table, max_p99_ms):
    ok = table[table["p99_ms"] <= max_p99_ms]
    return None if len(ok) == 0 else int(ok.loc[ok["throughput_per_s"].idxmax(), "batch_size"])

# %% id="ex2-mistake-largest-batch" mistake={"why": "takes the largest batch within the latency limit, as if throughput always grew with the batch"}
def throughput_table(samples_by_batch):
    rows = []
    for b, samples in samples_by_batch.items():
        s = np.asarray(samples, dtype=float)
        if b < 1 or s.size == 0:
            raise ValueError("bad input")
        rows.append({"batch_size": int(b), "p50_ms": 1e3 * np.percentile(s, 50),
                     "p99_ms": 1e3 * np.percentile(s, 99), "throughput_per_s": b / s.mean()})
    return pd.DataFrame(rows).sort_values("batch_size").reset_index(drop=True)


def best_batch_size(table, max_p99_ms):
    ok = table[table["p99_ms"] <= max_p99_ms]
    return None if len(ok) == 0 else int(ok["batch_size"].max())

# %% id="ex2-mistake-limit-on-median" mistake={"why": "holds the median, not the p99, to the latency limit"}
def throughput_table(samples_by_batch):
    rows = []
    for b, samples in samples_by_batch.items():
        s = np.asarray(samples, dtype=float)
        if b < 1 or s.size == 0:
            raise ValueError("bad input")
        rows.append({"batch_size": int(b), "p50_ms": 1e3 * np.percentile(s, 50),
                     "p99_ms": 1e3 * np.percentile(s, 99), "throughput_per_s": b / s.mean()})
    return pd.DataFrame(rows).sort_values("batch_size").reset_index(drop=True)


def best_batch_size(table, max_p99_ms):
    ok = table[table["p50_ms"] <= max_p99_ms]
    return None if len(ok) == 0 else int(ok.loc[ok["throughput_per_s"].idxmax(), "batch_size"])

# %% id="ex2-throughput-table-tests" mlcourse={"stage": "inference", "tier": 2} nbgrader={"grade": true, "grade_id": "ex2_throughput_table_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Batch 1: calls of 1, 1, 2, 4 ms: mean 2 ms, so 1 / 0.002 = 500 rows/s; p50 = 1.5 ms; p99 at position
# 0.99 * 3 = 2.97 of [1, 1, 2, 4]: 2 + 0.97 * 2 = 3.94 ms. Batch 8: every call 2 ms: 8 / 0.002 = 4000 rows/s.
_ex2_tab = throughput_table({8: np.array([0.002, 0.002, 0.002, 0.002]), 1: np.array([0.001, 0.001, 0.002, 0.004])})
assert isinstance(_ex2_tab, pd.DataFrame) and len(_ex2_tab) == 2, f"expected a DataFrame with 2 rows, got {_ex2_tab!r}"
assert sorted(_ex2_tab.columns) == ["batch_size", "p50_ms", "p99_ms", "throughput_per_s"], \
    f"expected the columns batch_size, p50_ms, p99_ms, throughput_per_s, got {list(_ex2_tab.columns)}"
assert list(_ex2_tab["batch_size"]) == [1, 8], f"expected the rows sorted by batch size [1, 8], got {list(_ex2_tab['batch_size'])}"
for _col, _want in [("p50_ms", [1.5, 2.0]), ("p99_ms", [3.94, 2.0]), ("throughput_per_s", [500.0, 4000.0])]:
    assert np.allclose(_ex2_tab[_col].to_numpy(dtype=float), _want, rtol=1e-9), \
        f"{_col}: expected {_want}, got {_ex2_tab[_col].tolist()}"
for _bad in ({1: np.array([])}, {0: np.array([0.001])}):
    try:
        throughput_table(_bad)
        _raised = False
    except ValueError:
        _raised = True
    assert _raised, f"expected ValueError for {_bad}"

# %% id="ex2-best-batch-tests" mlcourse={"stage": "inference", "tier": 2} nbgrader={"grade": true, "grade_id": "ex2_best_batch_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Batch 64 has the best throughput but a p99 of 9 ms; batch 256 is slower per row than 64 (memory pressure).
_ex2_tab = pd.DataFrame({"batch_size": [1, 8, 64, 256], "p50_ms": [0.1, 0.2, 0.9, 6.0],
                         "p99_ms": [0.5, 1.0, 9.0, 30.0], "throughput_per_s": [9e3, 35e3, 70e3, 40e3]})
assert best_batch_size(_ex2_tab, 10.0) == 64, f"limit 10 ms: expected 64, got {best_batch_size(_ex2_tab, 10.0)}"
assert best_batch_size(_ex2_tab, 50.0) == 64, "limit 50 ms: 256 qualifies but is slower: expected 64"
assert best_batch_size(_ex2_tab, 5.0) == 8, "limit 5 ms: batch 64's p99 of 9 ms is too slow (its median is not): expected 8"
assert best_batch_size(_ex2_tab, 1.0) == 8, "limit 1.0 ms: a p99 of exactly the limit is allowed: expected 8"
assert best_batch_size(_ex2_tab, 0.4) is None, "limit 0.4 ms: no batch size qualifies: expected None"
### BEGIN HIDDEN TESTS
_rng_h = np.random.default_rng(2201)
_samples_h = {b: 1e-4 * (1 + 0.05 * b) * _rng_h.lognormal(0.0, 0.6, 200) for b in (128, 4, 1, 32)}
_tab_h = throughput_table(_samples_h)
assert list(_tab_h["batch_size"]) == [1, 4, 32, 128], "rows must be sorted by batch size"
for _b_h, _row_h in zip(_tab_h["batch_size"], _tab_h.itertuples()):
    _s_h = _samples_h[_b_h]
    assert abs(_row_h.throughput_per_s - _b_h / _s_h.mean()) < 1e-6 * _b_h / _s_h.mean(), f"batch {_b_h}: throughput"
    assert abs(_row_h.p99_ms - 1e3 * np.percentile(_s_h, 99)) < 1e-9, f"batch {_b_h}: p99"
    assert abs(_row_h.p50_ms - 1e3 * np.percentile(_s_h, 50)) < 1e-9, f"batch {_b_h}: p50"
_lim_h = float(_tab_h["p99_ms"].iloc[2]) + 1e-9
_ok_h = _tab_h[_tab_h["p99_ms"] <= _lim_h]
assert best_batch_size(_tab_h, _lim_h) == int(_ok_h.sort_values("throughput_per_s")["batch_size"].iloc[-1])
### END HIDDEN TESTS

# %% [markdown] id="md-23"
# ### Exercise 3 (tier 2) — int8 quantization of a weight tensor
#
# Implement `quantize_uint8(x)` returning `(q, scale, zero_point)` for **asymmetric 8-bit** quantization
# onto the integers $0..255$:
#
# * the range is $[\text{lo}, \text{hi}]$ with $\text{lo} = \min(\min x, 0)$ and $\text{hi} = \max(\max x, 0)$
#   (it always contains 0, so that 0.0 — ReLU's output, padding — is stored exactly);
# * `scale` $= (\text{hi} - \text{lo}) / 255$ (use `1.0` if $\text{hi} = \text{lo}$);
# * `zero_point` $= \text{round}(-\text{lo} / \text{scale})$, an `int` in $0..255$;
# * `q` $= \text{clip}(\text{round}(x/\text{scale}) + \text{zero\_point}, 0, 255)$, an integer NumPy array of
#   the shape of `x`.
#
# Also implement `dequantize_uint8(q, scale, zero_point)` $= \text{scale}\cdot(q - \text{zero\_point})$ as a
# float array. The round-trip error must stay within `scale / 2`. NumPy only: no torch, no `mlcourse`.

# %% id="ex3-quantize" mlcourse={"stage": "inference", "tier": 2, "forbid": ["torch", "mlcourse.inference"]} nbgrader={"grade": false, "grade_id": "ex3_quantize", "locked": false, "schema_version": 3, "solution": true, "task": false}
def quantize_uint8(x):
    """Asymmetric 8-bit quantization of x onto 0..255: returns (q, scale, zero_point)."""
    ### BEGIN SOLUTION
    x = np.asarray(x)
    lo, hi = min(float(x.min()), 0.0), max(float(x.max()), 0.0)
    scale = (hi - lo) / 255 if hi > lo else 1.0
    zero_point = int(round(-lo / scale))
    q = np.clip(np.round(x / scale) + zero_point, 0, 255).astype(np.int64)
    return q, scale, zero_point
    ### END SOLUTION


def dequantize_uint8(q, scale, zero_point):
    """The real values that q stands for: scale * (q - zero_point)."""
    ### BEGIN SOLUTION
    return scale * (np.asarray(q, dtype=np.float64) - zero_point)
    ### END SOLUTION

# %% id="ex3-mistake-range-without-zero" mistake={"why": "uses [min x, max x] as the range, so 0.0 is not stored exactly and the zero point leaves 0..255"}
def quantize_uint8(x):
    x = np.asarray(x, dtype=np.float64)
    lo, hi = float(x.min()), float(x.max())
    scale = (hi - lo) / 255 if hi > lo else 1.0
    zero_point = int(round(-lo / scale))
    q = np.clip(np.round(x / scale) + zero_point, 0, 255).astype(np.int64)
    return q, scale, zero_point


def dequantize_uint8(q, scale, zero_point):
    return scale * (np.asarray(q, dtype=np.float64) - zero_point)

# %% id="ex3-mistake-256-steps" mistake={"why": "divides the range by 256 (the number of levels) instead of 255 (the number of steps)"}
def quantize_uint8(x):
    x = np.asarray(x, dtype=np.float64)
    lo, hi = min(float(x.min()), 0.0), max(float(x.max()), 0.0)
    scale = (hi - lo) / 256 if hi > lo else 1.0
    zero_point = int(round(-lo / scale))
    q = np.clip(np.round(x / scale) + zero_point, 0, 255).astype(np.int64)
    return q, scale, zero_point


def dequantize_uint8(q, scale, zero_point):
    return scale * (np.asarray(q, dtype=np.float64) - zero_point)

# %% id="ex3-mistake-truncates" mistake={"why": "truncates x / scale towards zero instead of rounding: the error reaches a whole step"}
def quantize_uint8(x):
    x = np.asarray(x, dtype=np.float64)
    lo, hi = min(float(x.min()), 0.0), max(float(x.max()), 0.0)
    scale = (hi - lo) / 255 if hi > lo else 1.0
    zero_point = int(round(-lo / scale))
    q = np.clip(np.trunc(x / scale) + zero_point, 0, 255).astype(np.int64)
    return q, scale, zero_point


def dequantize_uint8(q, scale, zero_point):
    return scale * (np.asarray(q, dtype=np.float64) - zero_point)

# %% id="ex3-mistake-dequantize-sign" mistake={"why": "dequantizes with q + zero_point instead of q - zero_point"}
def quantize_uint8(x):
    x = np.asarray(x, dtype=np.float64)
    lo, hi = min(float(x.min()), 0.0), max(float(x.max()), 0.0)
    scale = (hi - lo) / 255 if hi > lo else 1.0
    zero_point = int(round(-lo / scale))
    q = np.clip(np.round(x / scale) + zero_point, 0, 255).astype(np.int64)
    return q, scale, zero_point


def dequantize_uint8(q, scale, zero_point):
    return scale * (np.asarray(q, dtype=np.float64) + zero_point)

# %% id="ex3-quantize-tests" mlcourse={"stage": "inference", "tier": 2} nbgrader={"grade": true, "grade_id": "ex3_quantize_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# [-1, 0, 2]: lo = -1, hi = 2, scale = 3/255, zero point = round(1 / (3/255)) = 85; q = [0, 85, 255].
_ex3_q, _ex3_s, _ex3_z = quantize_uint8(np.array([-1.0, 0.0, 2.0]))
assert abs(_ex3_s - 3 / 255) < 1e-12 and int(_ex3_z) == 85, f"[-1, 0, 2]: expected scale 3/255 and zero point 85, got {_ex3_s}, {_ex3_z}"
assert np.asarray(_ex3_q).tolist() == [0, 85, 255], f"[-1, 0, 2]: expected q = [0, 85, 255], got {np.asarray(_ex3_q).tolist()}"
# [0.2, 1, 3]: all positive, so lo = 0 (the range contains 0): scale = 3/255, zero point 0, q = x * 85 = [17, 85, 255].
_ex3_q, _ex3_s, _ex3_z = quantize_uint8(np.array([0.2, 1.0, 3.0]))
assert int(_ex3_z) == 0 and np.asarray(_ex3_q).tolist() == [17, 85, 255], \
    f"[0.2, 1, 3]: expected zero point 0 and q = [17, 85, 255], got {_ex3_z}, {np.asarray(_ex3_q).tolist()}"
# [-2, -0.4]: hi = 0, scale = 2/255, zero point 255; q = round(-0.4 * 127.5) + 255 = -51 + 255 = 204.
_ex3_q, _ex3_s, _ex3_z = quantize_uint8(np.array([-2.0, -0.4]))
assert int(_ex3_z) == 255 and np.asarray(_ex3_q).tolist() == [0, 204], \
    f"[-2, -0.4]: expected zero point 255 and q = [0, 204], got {_ex3_z}, {np.asarray(_ex3_q).tolist()}"
# All zeros: hi = lo, so scale 1.0, zero point 0, q = 0.
_ex3_q, _ex3_s, _ex3_z = quantize_uint8(np.zeros((2, 3)))
assert _ex3_s == 1.0 and int(_ex3_z) == 0 and np.asarray(_ex3_q).shape == (2, 3) and not np.asarray(_ex3_q).any(), \
    f"all zeros: expected scale 1.0, zero point 0 and q = 0 of shape (2, 3), got {_ex3_s}, {_ex3_z}, {_ex3_q}"
# dequantize: 3/255 * ([0, 85, 255] - 85) = [-1, 0, 2].
_ex3_back = np.asarray(dequantize_uint8(np.array([0, 85, 255]), 3 / 255, 85), dtype=float)
assert np.allclose(_ex3_back, [-1.0, 0.0, 2.0], atol=1e-12), f"dequantize: expected [-1, 0, 2], got {_ex3_back}"

# %% id="ex3-quantize-roundtrip-tests" mlcourse={"stage": "inference", "tier": 2} nbgrader={"grade": true, "grade_id": "ex3_quantize_roundtrip_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# The round trip of the first layer's weights stays within half a step, and q keeps the weights' shape.
_ex3_w = net[0].weight.detach().numpy()
_ex3_q, _ex3_s, _ex3_z = quantize_uint8(_ex3_w)
assert np.asarray(_ex3_q).shape == _ex3_w.shape, f"q must have the shape of x {_ex3_w.shape}, got {np.asarray(_ex3_q).shape}"
assert np.asarray(_ex3_q).min() >= 0 and np.asarray(_ex3_q).max() <= 255, "q must lie in 0..255"
_ex3_err = float(np.abs(np.asarray(dequantize_uint8(_ex3_q, _ex3_s, _ex3_z), dtype=float) - _ex3_w).max())
assert _ex3_err <= _ex3_s / 2 + 1e-7, f"round-trip error {_ex3_err} exceeds scale/2 = {_ex3_s / 2}"
### BEGIN HIDDEN TESTS
# [-1.5, 253.5]: scale 1, zero point round(1.5) = 2 (half to even), and 253.5 rounds to 254: 254 + 2 = 256 is clipped.
_q_h, _s_h, _z_h = quantize_uint8(np.array([-1.5, 253.5]))
assert np.asarray(_q_h).tolist() == [0, 255] and int(_z_h) == 2, f"[-1.5, 253.5]: expected q = [0, 255], zero point 2, got {_q_h}, {_z_h}"
import torch as _torch_h

_rng_h = np.random.default_rng(3301)
for _x_h in [_rng_h.normal(-2.0, 0.3, (4, 7)), _rng_h.normal(0.5, 1.0, 500), _rng_h.uniform(0.0, 6.0, (3, 3, 3)),
             np.r_[_rng_h.normal(0, 0.05, 300), 4.0]]:
    _q_h, _s_h, _z_h = quantize_uint8(_x_h)
    _lo_h, _hi_h = min(_x_h.min(), 0.0), max(_x_h.max(), 0.0)
    assert abs(_s_h - (_hi_h - _lo_h) / 255) < 1e-12, "scale"
    assert int(_z_h) == round(-_lo_h / _s_h), "zero point"
    _ref_h = _torch_h.quantize_per_tensor(_torch_h.tensor(_x_h, dtype=_torch_h.float32), float(_s_h), int(_z_h),
                                          _torch_h.quint8).int_repr().numpy().astype(int)
    assert np.abs(np.asarray(_q_h).astype(int) - _ref_h).max() <= 1, "q differs from torch.quantize_per_tensor"
    _err_h = np.abs(np.asarray(dequantize_uint8(_q_h, _s_h, _z_h), dtype=float) - _x_h).max()
    assert _err_h <= _s_h / 2 + 1e-9, f"round-trip error {_err_h} exceeds scale/2 = {_s_h / 2}"
### END HIDDEN TESTS

# %% [markdown] id="md-27"
# ### Exercise 4 (tier 3) — choose a precision from raw measurements
#
# You benchmarked every format of a model at the batch size you will serve, and scored each format's
# predictions on the same labelled validation rows. Implement
# `choose_precision(latency_samples, predictions, y_true, batch_size, accuracy_budget_pts, max_p99_ms)`:
#
# * `latency_samples`: `{precision: 1-D array}` of seconds per call at `batch_size`, warm, each call timed
#   on its own (as in exercise 1);
# * `predictions`: `{precision: 1-D array of predicted labels}` for the rows whose true labels are `y_true`;
#   it always has `"fp32"`, the reference;
# * a format is **allowed** when its accuracy is at most `accuracy_budget_pts` percentage points below
#   fp32's accuracy on these rows, and the p99 of its call latency is at most `max_p99_ms`;
# * return the allowed precision (a string) that serves the **most rows per second** under sustained
#   traffic; `None` when no format, fp32 included, is allowed.
#
# The hidden tests use benchmarks of models and machines you have not seen: formats with occasional slow
# calls, formats that disagree with fp32 on different rows, a tiny model where nothing beats fp32.
# `mlcourse.inference` is not allowed.

# %% id="ex4-choose-precision" mlcourse={"stage": "inference", "tier": 3, "forbid": ["mlcourse.inference"]} nbgrader={"grade": false, "grade_id": "ex4_choose_precision", "locked": false, "schema_version": 3, "solution": true, "task": false}
def choose_precision(latency_samples, predictions, y_true, batch_size, accuracy_budget_pts, max_p99_ms):
    """The allowed precision with the highest sustained throughput, or None."""
    ### BEGIN SOLUTION
    y = np.asarray(y_true)
    reference = 100.0 * np.mean(np.asarray(predictions["fp32"]) == y)
    best, best_rate = None, 0.0
    for name, samples in latency_samples.items():
        s = np.asarray(samples)
        drop = reference - 100.0 * np.mean(np.asarray(predictions[name]) == y)
        if drop > accuracy_budget_pts or 1e3 * np.percentile(s, 99) > max_p99_ms:
            continue
        rate = batch_size / s.mean()            # sustained throughput: total time is the mean times the calls
        if rate > best_rate:
            best, best_rate = name, rate
    return best
    ### END SOLUTION

# %% id="ex4-mistake-median-table" mistake={"readable": "demo cell code-18's benchmark table read by its p50_ms column, within the accuracy budget", "why": "the format with the lowest median latency within the accuracy budget, with no p99 limit: slow calls cost throughput and break the tail"}
def choose_precision(latency_samples, predictions, y_true, batch_size, accuracy_budget_pts, max_p99_ms):
    y = np.asarray(y_true)
    reference = 100.0 * np.mean(np.asarray(predictions["fp32"]) == y)
    allowed = {name: float(np.median(s)) for name, s in latency_samples.items()
               if reference - 100.0 * np.mean(np.asarray(predictions[name]) == y) <= accuracy_budget_pts}
    return min(allowed, key=allowed.get) if allowed else None

# %% id="ex4-mistake-agreement" mistake={"why": "measures the accuracy cost as disagreement with fp32's predictions, not as the change in accuracy"}
def choose_precision(latency_samples, predictions, y_true, batch_size, accuracy_budget_pts, max_p99_ms):
    best, best_rate = None, 0.0
    for name, samples in latency_samples.items():
        s = np.asarray(samples, dtype=float)
        drop = 100.0 * np.mean(np.asarray(predictions[name]) != np.asarray(predictions["fp32"]))
        if drop > accuracy_budget_pts or 1e3 * np.percentile(s, 99) > max_p99_ms:
            continue
        if batch_size / s.mean() > best_rate:
            best, best_rate = name, batch_size / s.mean()
    return best

# %% id="ex4-mistake-error-rate" mistake={"why": "compares each format's error rate (100 - accuracy) with the budget, instead of its loss against fp32"}
def choose_precision(latency_samples, predictions, y_true, batch_size, accuracy_budget_pts, max_p99_ms):
    y = np.asarray(y_true)
    best, best_rate = None, 0.0
    for name, samples in latency_samples.items():
        s = np.asarray(samples, dtype=float)
        drop = 100.0 - 100.0 * np.mean(np.asarray(predictions[name]) == y)
        if drop > accuracy_budget_pts or 1e3 * np.percentile(s, 99) > max_p99_ms:
            continue
        if batch_size / s.mean() > best_rate:
            best, best_rate = name, batch_size / s.mean()
    return best

# %% id="ex4-mistake-fp32-fallback" mistake={"why": "falls back to fp32 when nothing is allowed, although fp32 misses the latency limit too"}
def choose_precision(latency_samples, predictions, y_true, batch_size, accuracy_budget_pts, max_p99_ms):
    y = np.asarray(y_true)
    reference = 100.0 * np.mean(np.asarray(predictions["fp32"]) == y)
    best, best_rate = "fp32", 0.0
    for name, samples in latency_samples.items():
        s = np.asarray(samples, dtype=float)
        drop = reference - 100.0 * np.mean(np.asarray(predictions[name]) == y)
        if drop > accuracy_budget_pts or 1e3 * np.percentile(s, 99) > max_p99_ms:
            continue
        if batch_size / s.mean() > best_rate:
            best, best_rate = name, batch_size / s.mean()
    return best

# %% id="ex4-choose-precision-tests" mlcourse={"stage": "inference", "tier": 3} nbgrader={"grade": true, "grade_id": "ex4_choose_precision_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# Ten validation rows. fp32 and bf16 get 9 right (90%); int8 gets 8 (80%): it loses 10 points.
_ex4_y = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
_ex4_pred = {"fp32": np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 0]), "bf16": np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1]),
             "int8": np.array([0, 0, 0, 0, 0, 1, 1, 1, 0, 0])}
# Seconds per call at batch 10. fp32: 2.5 ms each (mean 2.5, p99 2.5). bf16: three calls of 1 ms and one of
# 9 ms: median 1 ms but mean 3 ms, p99 = 1 + 0.97 * 8 = 8.76 ms. int8: 0.5 ms each.
_ex4_lat = {"fp32": np.array([0.0025] * 4), "bf16": np.array([0.001, 0.001, 0.001, 0.009]), "int8": np.array([0.0005] * 4)}
_ex4_got = choose_precision(_ex4_lat, _ex4_pred, _ex4_y, 10, 5.0, 10.0)
assert _ex4_got == "fp32", \
    f"budget 5 points: int8 loses 10; bf16's median is fast but its mean (3 ms) is slower than fp32's: expected 'fp32', got {_ex4_got!r}"
_ex4_got = choose_precision(_ex4_lat, _ex4_pred, _ex4_y, 10, 10.0, 10.0)
assert _ex4_got == "int8", f"budget 10 points: int8's loss is exactly the budget and it is fastest: expected 'int8', got {_ex4_got!r}"
_ex4_fast_bf16 = {**_ex4_lat, "bf16": np.array([0.001, 0.001, 0.001, 0.005])}     # mean 2 ms, p99 4.88 ms
_ex4_got = choose_precision(_ex4_fast_bf16, _ex4_pred, _ex4_y, 10, 5.0, 10.0)
assert _ex4_got == "bf16", f"bf16 with a mean of 2 ms beats fp32's 2.5 ms: expected 'bf16', got {_ex4_got!r}"
_ex4_got = choose_precision(_ex4_fast_bf16, _ex4_pred, _ex4_y, 10, 5.0, 3.0)
assert _ex4_got == "fp32", f"p99 limit 3 ms: bf16's p99 is 4.88 ms: expected 'fp32', got {_ex4_got!r}"
_ex4_got = choose_precision(_ex4_fast_bf16, _ex4_pred, _ex4_y, 10, 5.0, 2.5)
assert _ex4_got == "fp32", f"p99 limit 2.5 ms: fp32's p99 of exactly 2.5 ms is allowed: expected 'fp32', got {_ex4_got!r}"
# A slow model: 2 s per call of one row is half a row per second, and still the best allowed.
_ex4_got = choose_precision({"fp32": np.array([2.0, 2.0])}, {"fp32": np.array([1, 0])}, np.array([1, 0]), 1, 0.0, 5000.0)
assert _ex4_got == "fp32", f"fp32 at 0.5 rows/s, within every limit: expected 'fp32', got {_ex4_got!r}"
_ex4_got = choose_precision(_ex4_fast_bf16, _ex4_pred, _ex4_y, 10, 5.0, 0.4)
assert _ex4_got is None, f"p99 limit 0.4 ms: no format, fp32 included, is fast enough: expected None, got {_ex4_got!r}"

# %% id="ex4-choose-precision-hidden-tests" mlcourse={"stage": "inference", "tier": 3} nbgrader={"grade": true, "grade_id": "ex4_choose_precision_hidden_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test chooses on benchmarks of other models and machines.
_ex4_got = choose_precision({"fp32": np.array([0.001, 0.002])}, {"fp32": np.array([1, 0])}, np.array([1, 1]), 1, 0.0, 5.0)
assert _ex4_got == "fp32", f"fp32 alone, fast enough: expected 'fp32', got {_ex4_got!r}"
### BEGIN HIDDEN TESTS
def _bench_h(seed, formats, n_rows=4000, base_acc=0.96):
    """Latency samples (occasional stalls) and predictions with a given accuracy and disagreement."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n_rows) < 0.5).astype(int)
    ref_wrong = rng.permutation(n_rows)[: int(round((1 - base_acc) * n_rows))]
    preds, lats = {}, {}
    for name, (median_ms, stall_p, stall_ms, acc_drop_pts, churn) in formats.items():
        lat = 1e-3 * median_ms * rng.lognormal(0.0, 0.05, 600)
        lat[rng.random(600) < stall_p] += 1e-3 * stall_ms
        lats[name] = lat
        wrong = set(ref_wrong.tolist())
        right = [i for i in range(n_rows) if i not in wrong]
        extra = int(round(acc_drop_pts / 100 * n_rows))
        fixed = rng.choice(sorted(wrong), churn, replace=False).tolist() if churn else []
        broken = rng.choice(right, extra + churn, replace=False).tolist()
        wrong = (wrong - set(fixed)) | set(broken)
        pred = y.copy()
        pred[sorted(wrong)] = 1 - pred[sorted(wrong)]
        preds[name] = pred
    return lats, preds, y


def _reference_h(lats, preds, y, b, budget, limit):
    acc = {k: 100 * np.mean(p == y) for k, p in preds.items()}
    ok = {k: b / lats[k].mean() for k in lats
          if acc["fp32"] - acc[k] <= budget and 1e3 * np.percentile(lats[k], 99) <= limit}
    return max(ok, key=ok.get) if ok else None


# (median ms, stall probability, stall ms, accuracy drop in points, rows fixed and broken in equal numbers)
_worlds_h = [
    (4401, {"fp32": (2.0, 0.0, 0.0, 0.0, 0), "bf16": (1.2, 0.0, 0.0, 0.1, 60),
            "int8_dynamic": (0.9, 0.03, 15.0, 0.4, 40), "int8_static": (0.8, 0.0, 0.0, 1.6, 0)}, 64, 1.0, 20.0),
    (4402, {"fp32": (2.0, 0.0, 0.0, 0.0, 0), "bf16": (1.2, 0.0, 0.0, 0.1, 60),
            "int8_dynamic": (0.9, 0.0, 0.0, 0.4, 120), "int8_static": (0.8, 0.0, 0.0, 1.6, 0)}, 64, 1.0, 20.0),
    (4403, {"fp32": (0.03, 0.0, 0.0, 0.0, 0), "bf16": (0.09, 0.0, 0.0, 0.1, 0),
            "int8_dynamic": (0.05, 0.0, 0.0, 0.2, 0), "int8_static": (0.045, 0.0, 0.0, 0.3, 0)}, 1, 1.0, 1.0),
    (4404, {"fp32": (5.0, 0.02, 6.0, 0.0, 0), "bf16": (3.0, 0.02, 8.0, 0.2, 0),
            "int8_dynamic": (2.0, 0.02, 10.0, 0.5, 0)}, 256, 1.0, 11.0),
    (4405, {"fp32": (5.0, 0.02, 6.0, 0.0, 0), "bf16": (3.0, 0.02, 8.0, 0.2, 0),
            "int8_dynamic": (2.0, 0.02, 10.0, 0.5, 0)}, 256, 1.0, 4.0),
]
for _seed_h, _formats_h, _b_h, _budget_h, _limit_h in _worlds_h:
    _lats_h, _preds_h, _y_h = _bench_h(_seed_h, _formats_h)
    _want_h = _reference_h(_lats_h, _preds_h, _y_h, _b_h, _budget_h, _limit_h)
    _got_h = choose_precision(_lats_h, _preds_h, _y_h, _b_h, _budget_h, _limit_h)
    assert _got_h == _want_h, (f"benchmark {_seed_h} at batch {_b_h}, budget {_budget_h} points, p99 limit {_limit_h} ms: "
                               f"expected {_want_h!r}, got {_got_h!r}")
### END HIDDEN TESTS

# %% [markdown] id="md-ex5-roofline"
# ### Exercise 5 (tier 3) — which format for this model on this machine?
#
# Section 2b measured that a format's speed depends on whether a layer waits for memory or for arithmetic.
# A **roofline** model makes that a prediction. For one `Linear(n_in, n_out)` layer on a batch of $b$ rows in
# format $f$:
#
# $$t = \max\!\Big(\frac{2\,b\,n_{in}\,n_{out}}{\text{flops}_f},\;
#        \frac{n_{in}\,n_{out}\cdot\text{bytes}_f + 4\,b\,(n_{in} + n_{out})}{\text{bandwidth}}\Big) + \text{overhead}_f$$
#
# seconds: the arithmetic at the format's peak rate, or the bytes moved (the weights in the format's width,
# the fp32 input and output rows) at the memory bandwidth, whichever is slower, plus a fixed cost per layer
# and call (dispatch, and for int8 quantizing the activations or converting the weights). The weight widths
# are `WEIGHT_BYTES` below. A model's time is the sum over its layers.
#
# Implement
#
# * `predict_latency(layers, batch_size, hardware, fmt)`: the model's predicted seconds per call, where
#   `layers` is a list of `(n_in, n_out)` and `hardware` a dict `{"bandwidth": bytes per second,
#   "flops": {format: operations per second}, "overhead": {format: seconds per layer}}`;
# * `choose_format(layers, batch_size, hardware, accuracy_drop_pts, accuracy_budget_pts)`: among the formats
#   in `hardware["flops"]` whose `accuracy_drop_pts[format]` is within the budget, the one with the lowest
#   predicted latency.
#
# The hidden tests describe machines and models you have not seen (with and without VNNI, more or less
# bandwidth, tiny and wide models, batch 1 and large batches) and check the format you choose.

# %% id="code-weight-bytes"
WEIGHT_BYTES = {"fp32": 4, "bf16": 2, "int8_dynamic": 1, "int8_weight_only": 1}   # bytes per stored weight

# %% id="ex5-choose-format" mlcourse={"stage": "inference", "tier": 3, "forbid": ["mlcourse.inference"]} nbgrader={"grade": false, "grade_id": "ex5_choose_format", "locked": false, "schema_version": 3, "solution": true, "task": false}
def predict_latency(layers, batch_size, hardware, fmt):
    """Roofline seconds per call of a stack of Linear layers in format fmt."""
    ### BEGIN SOLUTION
    total = 0.0
    for n_in, n_out in layers:
        work = 2.0 * batch_size * n_in * n_out
        moved = n_in * n_out * WEIGHT_BYTES[fmt] + 4.0 * batch_size * (n_in + n_out)
        total += max(work / hardware["flops"][fmt], moved / hardware["bandwidth"]) + hardware["overhead"][fmt]
    return total
    ### END SOLUTION


def choose_format(layers, batch_size, hardware, accuracy_drop_pts, accuracy_budget_pts):
    """The allowed format with the lowest predicted latency."""
    ### BEGIN SOLUTION
    allowed = [f for f in hardware["flops"] if accuracy_drop_pts[f] <= accuracy_budget_pts]
    return min(allowed, key=lambda f: predict_latency(layers, batch_size, hardware, f))
    ### END SOLUTION

# %% id="ex5-mistake-peak-compute" mistake={"readable": "section 1's table ('VNNI: up to 4x the multiply-adds of fp32') applied as the whole story", "why": "predicts from the arithmetic alone, at each format's peak rate: int8 always wins where the chip has VNNI"}
def predict_latency(layers, batch_size, hardware, fmt):
    return sum(2.0 * batch_size * n_in * n_out / hardware["flops"][fmt] for n_in, n_out in layers)


def choose_format(layers, batch_size, hardware, accuracy_drop_pts, accuracy_budget_pts):
    allowed = [f for f in hardware["flops"] if accuracy_drop_pts[f] <= accuracy_budget_pts]
    return min(allowed, key=lambda f: predict_latency(layers, batch_size, hardware, f))

# %% id="ex5-mistake-sum-not-max" mistake={"why": "adds the compute time and the memory time instead of taking the slower of the two"}
def predict_latency(layers, batch_size, hardware, fmt):
    total = 0.0
    for n_in, n_out in layers:
        work = 2.0 * batch_size * n_in * n_out
        moved = n_in * n_out * WEIGHT_BYTES[fmt] + 4.0 * batch_size * (n_in + n_out)
        total += work / hardware["flops"][fmt] + moved / hardware["bandwidth"] + hardware["overhead"][fmt]
    return total


def choose_format(layers, batch_size, hardware, accuracy_drop_pts, accuracy_budget_pts):
    allowed = [f for f in hardware["flops"] if accuracy_drop_pts[f] <= accuracy_budget_pts]
    return min(allowed, key=lambda f: predict_latency(layers, batch_size, hardware, f))

# %% id="ex5-mistake-fp32-bytes" mistake={"why": "counts every format's weights at 4 bytes: the memory saving of int8 disappears"}
def predict_latency(layers, batch_size, hardware, fmt):
    total = 0.0
    for n_in, n_out in layers:
        work = 2.0 * batch_size * n_in * n_out
        moved = n_in * n_out * 4 + 4.0 * batch_size * (n_in + n_out)
        total += max(work / hardware["flops"][fmt], moved / hardware["bandwidth"]) + hardware["overhead"][fmt]
    return total


def choose_format(layers, batch_size, hardware, accuracy_drop_pts, accuracy_budget_pts):
    allowed = [f for f in hardware["flops"] if accuracy_drop_pts[f] <= accuracy_budget_pts]
    return min(allowed, key=lambda f: predict_latency(layers, batch_size, hardware, f))

# %% id="ex5-mistake-no-overhead" mistake={"why": "leaves out the fixed cost per layer, which decides a tiny model"}
def predict_latency(layers, batch_size, hardware, fmt):
    total = 0.0
    for n_in, n_out in layers:
        work = 2.0 * batch_size * n_in * n_out
        moved = n_in * n_out * WEIGHT_BYTES[fmt] + 4.0 * batch_size * (n_in + n_out)
        total += max(work / hardware["flops"][fmt], moved / hardware["bandwidth"])
    return total


def choose_format(layers, batch_size, hardware, accuracy_drop_pts, accuracy_budget_pts):
    allowed = [f for f in hardware["flops"] if accuracy_drop_pts[f] <= accuracy_budget_pts]
    return min(allowed, key=lambda f: predict_latency(layers, batch_size, hardware, f))

# %% id="ex5-mistake-ignores-budget" mistake={"why": "chooses the fastest format whatever it costs in accuracy"}
def predict_latency(layers, batch_size, hardware, fmt):
    total = 0.0
    for n_in, n_out in layers:
        work = 2.0 * batch_size * n_in * n_out
        moved = n_in * n_out * WEIGHT_BYTES[fmt] + 4.0 * batch_size * (n_in + n_out)
        total += max(work / hardware["flops"][fmt], moved / hardware["bandwidth"]) + hardware["overhead"][fmt]
    return total


def choose_format(layers, batch_size, hardware, accuracy_drop_pts, accuracy_budget_pts):
    return min(hardware["flops"], key=lambda f: predict_latency(layers, batch_size, hardware, f))

# %% id="ex5-predict-latency-tests" mlcourse={"stage": "inference", "tier": 3} nbgrader={"grade": true, "grade_id": "ex5_predict_latency_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
_ex5_hw = {"bandwidth": 10e9, "flops": {"fp32": 100e9, "int8_weight_only": 100e9, "int8_dynamic": 400e9},
           "overhead": {"fp32": 0.0, "int8_weight_only": 5e-6, "int8_dynamic": 2e-5}}
# Linear(1000, 1000) at batch 1 in fp32: 2e6 operations / 1e11 = 20 us of arithmetic; 4e6 bytes of weights
# plus 4 * (1000 + 1000) bytes of rows = 4.008e6 bytes / 1e10 = 400.8 us of memory: memory-bound, 400.8 us.
_ex5_got = predict_latency([(1000, 1000)], 1, _ex5_hw, "fp32")
assert abs(_ex5_got - 4.008e-4) < 1e-10, f"Linear(1000, 1000), batch 1, fp32: expected 4.008e-4 s, got {_ex5_got}"
# Weight-only int8: 1e6 + 8e3 bytes = 100.8 us, plus 5 us of overhead = 105.8 us.
_ex5_got = predict_latency([(1000, 1000)], 1, _ex5_hw, "int8_weight_only")
assert abs(_ex5_got - 1.058e-4) < 1e-10, f"the same layer in int8_weight_only: expected 1.058e-4 s, got {_ex5_got}"
# Batch 1000 in fp32: 2e9 operations / 1e11 = 20 ms; 4e6 + 4 * 1000 * 2000 = 1.2e7 bytes = 1.2 ms: compute-bound, 20 ms.
_ex5_got = predict_latency([(1000, 1000)], 1000, _ex5_hw, "fp32")
assert abs(_ex5_got - 0.02) < 1e-10, f"batch 1000, fp32: expected 0.02 s (compute-bound), got {_ex5_got}"
# Two layers add up: Linear(100, 10) at batch 1 in int8_dynamic: max(2e3 / 4e11, (1e3 + 440) / 1e10) + 2e-5
# = 1.44e-7 + 2e-5 s; with the first layer (1000, 100): max(2e5 / 4e11, (1e5 + 4400) / 1e10) + 2e-5 = 1.044e-5 + 2e-5.
_ex5_got = predict_latency([(1000, 100), (100, 10)], 1, _ex5_hw, "int8_dynamic")
assert abs(_ex5_got - (1.044e-5 + 1.44e-7 + 4e-5)) < 1e-12, f"two layers in int8_dynamic: expected {1.044e-5 + 1.44e-7 + 4e-5:.6g} s, got {_ex5_got}"

# %% id="ex5-choose-format-tests" mlcourse={"stage": "inference", "tier": 3} nbgrader={"grade": true, "grade_id": "ex5_choose_format_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test chooses formats for machines and models you have not seen.
_ex5_drop = {"fp32": 0.0, "int8_weight_only": 0.1, "int8_dynamic": 0.4}
# Linear(1000, 1000) at batch 1 (times above): weight-only int8 (105.8 us) beats fp32 (400.8 us) and
# int8_dynamic (max(5 us, 100.8 us) + 20 us = 120.8 us).
_ex5_got = choose_format([(1000, 1000)], 1, _ex5_hw, _ex5_drop, 1.0)
assert _ex5_got == "int8_weight_only", f"a memory-bound layer: expected 'int8_weight_only', got {_ex5_got!r}"
_ex5_got = choose_format([(1000, 1000)], 1, _ex5_hw, _ex5_drop, 0.0)
assert _ex5_got == "fp32", f"budget 0 points: only fp32 is allowed, got {_ex5_got!r}"
### BEGIN HIDDEN TESTS
def _roofline_h(layers, b, hw, f):
    return sum(max(2.0 * b * i * o / hw["flops"][f], (i * o * WEIGHT_BYTES[f] + 4.0 * b * (i + o)) / hw["bandwidth"])
               + hw["overhead"][f] for i, o in layers)


_vnni_h = {"bandwidth": 20e9, "flops": {"fp32": 150e9, "bf16": 75e9, "int8_weight_only": 140e9, "int8_dynamic": 600e9},
           "overhead": {"fp32": 3e-6, "bf16": 6e-6, "int8_weight_only": 8e-6, "int8_dynamic": 2.5e-5}}
_avx2_h = {"bandwidth": 12e9, "flops": {"fp32": 80e9, "bf16": 40e9, "int8_weight_only": 75e9, "int8_dynamic": 110e9},
           "overhead": {"fp32": 3e-6, "bf16": 6e-6, "int8_weight_only": 8e-6, "int8_dynamic": 2.5e-5}}
_amx_h = {"bandwidth": 60e9, "flops": {"fp32": 300e9, "bf16": 2400e9, "int8_weight_only": 290e9, "int8_dynamic": 4800e9},
          "overhead": {"fp32": 3e-6, "bf16": 5e-6, "int8_weight_only": 8e-6, "int8_dynamic": 2.5e-5}}
_drops_h = {"fp32": 0.0, "bf16": 0.1, "int8_weight_only": 0.2, "int8_dynamic": 0.6}
_course_h, _wide_h, _big_h = [(35, 64), (64, 32), (32, 2)], [(35, 512), (512, 256), (256, 2)], [(2048, 4096), (4096, 4096), (4096, 2)]
_cases_h = [(_course_h, 64, _vnni_h, 1.0), (_wide_h, 256, _vnni_h, 1.0), (_big_h, 1, _vnni_h, 1.0),
            (_big_h, 1, _avx2_h, 1.0), (_big_h, 512, _avx2_h, 1.0), (_big_h, 512, _vnni_h, 1.0),
            (_big_h, 512, _amx_h, 0.3), (_big_h, 512, _vnni_h, 0.3), (_wide_h, 8, _amx_h, 1.0)]
_seen_h = set()
for _layers_h, _b_h, _hw_h, _budget_h in _cases_h:
    _ok_h = [f for f in _hw_h["flops"] if _drops_h[f] <= _budget_h]
    _want_h = min(_ok_h, key=lambda f: _roofline_h(_layers_h, _b_h, _hw_h, f))
    _seen_h.add(_want_h)
    _got_h = choose_format(_layers_h, _b_h, _hw_h, _drops_h, _budget_h)
    assert _got_h == _want_h, f"layers {_layers_h}, batch {_b_h}, budget {_budget_h}: expected {_want_h!r}, got {_got_h!r}"
    _t_h = predict_latency(_layers_h, _b_h, _hw_h, _got_h)
    assert abs(_t_h - _roofline_h(_layers_h, _b_h, _hw_h, _got_h)) < 1e-9 * _t_h, f"predicted latency of {_got_h}"
assert len(_seen_h) >= 3, "test bug: the cases must call for several formats"
### END HIDDEN TESTS

# %% [markdown] id="md-24"
# ## 4. Queues: why a busy server is a slow server
#
# Requests do not arrive evenly. Card payments arrive like raindrops: independent, at a rate $\lambda$ per
# second — a **Poisson process**, with exponentially distributed gaps. A server takes on average
# $S = 1/\mu$ seconds per request (service rate $\mu$). Three relations carry most of capacity planning:
#
# * **Utilisation** $\rho = \lambda / \mu$ (with $c$ servers, $\lambda/(c\mu)$): the share of time a server
#   is busy. At $\rho \ge 1$ the queue grows without bound.
# * **Little's law** $L = \lambda W$: the average number of requests in the system equals the arrival rate
#   times the average time each spends there. It holds for *any* stable system, whatever the distributions:
#   at 2,000 requests/s and 25 ms each, 50 requests are in flight **on average**. The number in flight
#   fluctuates around that mean, so 50 slots (threads, connections, memory for inputs) are not enough:
#   exercise 7 sizes them for a percentile.
# * **M/M/1** (Poisson arrivals, exponential service, one server): the time in the system $W$ (queue plus
#   service) is exponential with rate $\mu - \lambda$:
#   $$W = \frac{1}{\mu - \lambda} = \frac{S}{1-\rho}, \qquad
#   W_q = W - S = \frac{\rho}{1-\rho}\,S, \qquad L = \lambda W = \frac{\rho}{1-\rho}, \qquad
#   W_{p} = \frac{\ln\frac{1}{1-p}}{\mu - \lambda}\ \text{(the $p$-quantile of $W$)}.$$
#
# Two factors, not to be mixed up: the time **in the system** grows like $1/(1-\rho)$, the time **in the
# queue** like $\rho/(1-\rho)$. This is the **hockey stick**. At 50% utilisation a request already waits
# on average **one full service time** in the queue ($W_q = S$, $W = 2S$); at 67% it waits $2S$
# ($W = 3S$); at 90%, $9S$ ($W = 10S$); at 99%, $99S$ ($W = 100S$). Running servers "efficiently" at 95%
# busy means slow answers — and the p99 of $W$ is $\ln 100 \approx 4.6$ times its mean.

# %% id="code-25"
mu = 1000.0                                    # 1 ms per request
rho = np.linspace(0.05, 0.97, 200)
mean_w = [inf.mm1(r * mu, mu).mean_response * 1e3 for r in rho]
p99_w = [inf.mmc_response_percentile(0.99, 1, r * mu, mu) * 1e3 for r in rho]
# The fast simulator agrees with the formulas: the Lindley recursion, vectorised, 1,000,000 requests
n_sim = 200_000 if FAST else 1_000_000
start = time.perf_counter()
sim = {r: inf.simulate_mm1(r * mu, mu, n_sim, seed=SEED)[n_sim // 20:] for r in (0.5, 0.8, 0.9)}
elapsed = time.perf_counter() - start
plt.figure(figsize=(6.5, 3.8))
plt.plot(rho, mean_w, label="mean response time W (formula)")
plt.plot(rho, p99_w, label="p99 response time (formula)")
for r, waits in sim.items():
    plt.scatter([r], [1e3 * (waits.mean() + 1 / mu)], color="black", zorder=3)
plt.scatter([], [], color="black", label=f"simulated mean ({n_sim:,} requests)")
plt.yscale("log"); plt.xlabel("utilisation rho"); plt.ylabel("ms (service time 1 ms)")
plt.title("The hockey stick: M/M/1"); plt.legend(); plt.tight_layout(); plt.show()
print(f"3 simulations of {n_sim:,} requests took {elapsed:.2f} s")


# %% [markdown] id="md-26"
# ### Exercise 6 (tier 2) — Little's law and M/M/1
#
# Implement `mm1_report(arrival_rate, service_rate)` for an M/M/1 queue (rates per second). Return a dict:
#
# * `"utilization"`: $\rho = \lambda/\mu$;
# * `"mean_response"`: $W$, the mean time in the system (queue and service), seconds;
# * `"mean_wait"`: $W_q$, the mean time in the queue before service, seconds;
# * `"mean_in_system"`: $L$, by Little's law from $\lambda$ and $W$;
# * `"p99_response"`: the 99th percentile of the response time.
#
# If $\lambda \ge \mu$ raise `ValueError` (the queue is unstable). Use the formulas of section 4, with
# `math` or NumPy: `mlcourse.inference` (whose `mm1` does this) is not allowed.

# %% id="ex6-mm1" mlcourse={"stage": "inference", "tier": 2, "forbid": ["mlcourse.inference", "scipy.stats"]} nbgrader={"grade": false, "grade_id": "ex6_mm1", "locked": false, "schema_version": 3, "solution": true, "task": false}
def mm1_report(arrival_rate, service_rate):
    """Utilisation, mean response and wait, Little's L and p99 response time of an M/M/1 queue."""
    ### BEGIN SOLUTION
    lam, mu = float(arrival_rate), float(service_rate)
    if lam >= mu:
        raise ValueError(f"unstable: arrival_rate {lam} must be below service_rate {mu}")
    w = 1.0 / (mu - lam)
    return {"utilization": lam / mu, "mean_response": w, "mean_wait": w - 1.0 / mu,
            "mean_in_system": lam * w, "p99_response": math.log(100.0) / (mu - lam)}
    ### END SOLUTION

# %% id="ex6-mistake-wait-as-response" mistake={"why": "takes 1/(mu - lambda) for the wait in the queue: that is the time in the system, service included"}
def mm1_report(arrival_rate, service_rate):
    lam, mu = float(arrival_rate), float(service_rate)
    if lam >= mu:
        raise ValueError("unstable")
    w = 1.0 / (mu - lam)
    return {"utilization": lam / mu, "mean_response": w, "mean_wait": w,
            "mean_in_system": lam * w, "p99_response": math.log(100.0) / (mu - lam)}

# %% id="ex6-mistake-wait-rho-only" mistake={"why": "mean wait rho / (1 - rho) without the service time: a count, not seconds"}
def mm1_report(arrival_rate, service_rate):
    lam, mu = float(arrival_rate), float(service_rate)
    if lam >= mu:
        raise ValueError("unstable")
    rho = lam / mu
    w = 1.0 / (mu - lam)
    return {"utilization": rho, "mean_response": w, "mean_wait": rho / (1 - rho),
            "mean_in_system": lam * w, "p99_response": math.log(100.0) / (mu - lam)}

# %% id="ex6-mistake-p99-of-service" mistake={"why": "the p99 of the service time alone, ln(100) / mu, ignoring the queue"}
def mm1_report(arrival_rate, service_rate):
    lam, mu = float(arrival_rate), float(service_rate)
    if lam >= mu:
        raise ValueError("unstable")
    w = 1.0 / (mu - lam)
    return {"utilization": lam / mu, "mean_response": w, "mean_wait": w - 1.0 / mu,
            "mean_in_system": lam * w, "p99_response": math.log(100.0) / mu}

# %% id="ex6-mistake-no-check" mistake={"why": "returns negative times for an unstable queue instead of raising"}
def mm1_report(arrival_rate, service_rate):
    lam, mu = float(arrival_rate), float(service_rate)
    w = 1.0 / (mu - lam) if mu != lam else float("inf")
    return {"utilization": lam / mu, "mean_response": w, "mean_wait": w - 1.0 / mu,
            "mean_in_system": lam * w, "p99_response": math.log(100.0) * w}

# %% id="ex6-mm1-tests" mlcourse={"stage": "inference", "tier": 2} nbgrader={"grade": true, "grade_id": "ex6_mm1_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# lambda = 8, mu = 10: rho = 0.8; W = 1 / (10 - 8) = 0.5 s; Wq = 0.5 - 0.1 = 0.4 s; L = 8 * 0.5 = 4;
# p99 = ln(100) / 2 = 2.302585 s.
_ex6_r = mm1_report(8.0, 10.0)
for _k, _v in [("utilization", 0.8), ("mean_response", 0.5), ("mean_wait", 0.4), ("mean_in_system", 4.0),
               ("p99_response", 2.302585093)]:
    assert _k in _ex6_r, f"expected key {_k!r}, got {sorted(_ex6_r)}"
    assert abs(_ex6_r[_k] - _v) < 1e-8, f"lambda = 8, mu = 10: {_k} expected {_v}, got {_ex6_r[_k]}"
# At 50% utilisation a request already waits one service time: lambda = 500, mu = 1000 (S = 1 ms):
# Wq = 0.5 / 0.5 * 1 ms = 1 ms, W = 2 ms, L = 1.
_ex6_r = mm1_report(500.0, 1000.0)
assert abs(_ex6_r["mean_wait"] - 0.001) < 1e-12 and abs(_ex6_r["mean_response"] - 0.002) < 1e-12, \
    f"rho = 0.5, S = 1 ms: expected Wq = 1 ms and W = 2 ms, got {_ex6_r['mean_wait']}, {_ex6_r['mean_response']}"
assert abs(_ex6_r["mean_in_system"] - 1.0) < 1e-9, f"rho = 0.5: expected L = 1, got {_ex6_r['mean_in_system']}"

# %% id="ex6-mm1-unstable-tests" mlcourse={"stage": "inference", "tier": 2} nbgrader={"grade": true, "grade_id": "ex6_mm1_unstable_tests", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
for _lam, _mu in [(10.0, 10.0), (12.0, 10.0)]:
    try:
        mm1_report(_lam, _mu)
        _raised = False
    except ValueError:
        _raised = True
    assert _raised, f"expected ValueError for arrival_rate {_lam} >= service_rate {_mu} (unstable queue)"
# Near saturation: lambda = 999, mu = 1000: W = 1 s, Wq = 0.999 s, p99 = ln(100) s.
_ex6_r = mm1_report(999.0, 1000.0)
assert abs(_ex6_r["mean_wait"] - 0.999) < 1e-9 and abs(_ex6_r["p99_response"] - math.log(100)) < 1e-9, \
    f"lambda = 999, mu = 1000: expected Wq = 0.999 s and p99 = ln(100) s, got {_ex6_r}"
### BEGIN HIDDEN TESTS
from scipy import stats as _stats_h

for _lam_h, _mu_h in [(450.0, 500.0), (1.0, 4.0), (0.3, 0.5)]:
    _r_h = mm1_report(_lam_h, _mu_h)
    _exp_h = _stats_h.expon(scale=1 / (_mu_h - _lam_h))
    _want_h = {"utilization": _lam_h / _mu_h, "mean_response": _exp_h.mean(), "mean_wait": _exp_h.mean() - 1 / _mu_h,
               "mean_in_system": _lam_h * _exp_h.mean(), "p99_response": _exp_h.ppf(0.99)}
    for _k_h, _v_h in _want_h.items():
        assert abs(_r_h[_k_h] - _v_h) <= 1e-9 * max(1.0, abs(_v_h)), f"lambda={_lam_h}, mu={_mu_h}: {_k_h}"
### END HIDDEN TESTS

# %% [markdown] id="md-28"
# ## 5. Many servers: Erlang C and sizing for a percentile
#
# With $c$ replicas behind **one shared queue** (M/M/c), a request waits only when all $c$ are busy. With
# offered load $a = \lambda/\mu$ (in "erlangs") and $\rho = a/c$, the probability of waiting is **Erlang C**,
# $$C(c, a) = \frac{\frac{a^c}{c!}\frac{1}{1-\rho}}{\sum_{k=0}^{c-1}\frac{a^k}{k!} + \frac{a^c}{c!}\frac{1}{1-\rho}},$$
# and then
# $$W_q = \frac{C(c,a)}{c\mu - \lambda}, \qquad P(W_q > t) = C(c,a)\,e^{-(c\mu-\lambda)t}.$$
# So the $p$-quantile of the wait is $0$ if $C \le 1-p$ (most requests never wait) and
# $\ln\!\big(C/(1-p)\big)/(c\mu - \lambda)$ otherwise. The factorials overflow quickly: compute
# $C$ through the Erlang B recursion, or with logarithms.
#
# Two lessons fall out. **Pooling**: one queue in front of $c$ servers waits far less than $c$ separate
# queues at the same utilisation (a free server never idles while another's queue is full). **Economies of
# scale**: at the same p99 target, large fleets can run at higher utilisation than small ones.

# %% id="code-29"
lam, mu, slo = 4_000.0, 1_000.0, 0.005                 # 4,000 req/s, 1 ms each, p99 response <= 5 ms
rows = []
for c in range(5, 11):
    m = inf.mmc(c, lam, mu)
    rows.append({"replicas": c, "utilisation": m.utilization, "P(wait) = Erlang C": m.prob_wait,
                 "mean wait ms": 1e3 * m.mean_wait, "p99 response ms": 1e3 * inf.mmc_response_percentile(0.99, c, lam, mu),
                 "separate queues: p99 ms": 1e3 * inf.mmc_response_percentile(0.99, 1, lam / c, mu)})
print(f"fewest replicas for p99 <= {1e3 * slo:g} ms: {inf.replicas_for_slo(lam, mu, slo)}")
pd.DataFrame(rows).set_index("replicas").round(4)

# %% id="code-30"
# The simulator (a heap of c servers; ~1 s per million requests) against the formula
n_sim = 200_000 if FAST else 1_000_000
waits = inf.simulate_mmc(5, lam, mu, n_sim, seed=SEED)[n_sim // 20:]
m = inf.mmc(5, lam, mu)
print(f"M/M/5: mean wait simulated {1e3 * waits.mean():.4f} ms vs Erlang C {1e3 * m.mean_wait:.4f} ms; "
      f"P(wait) {np.mean(waits > 0):.4f} vs {m.prob_wait:.4f}")


# %% [markdown] id="md-ex7-slots"
# ### Exercise 7 (tier 4) — how many concurrent slots?
#
# Little's law gives the **mean** number of requests in flight. A server has a fixed number $k$ of slots
# (worker threads, connections, GPU streams, pre-allocated input buffers); a request that arrives while all
# $k$ are busy is **rejected** (the client sees an error and retries elsewhere). With Poisson arrivals at
# rate $\lambda$ and a mean time in the server of $W$ seconds, the offered load is $a = \lambda W$ and the
# share of requests rejected is the **Erlang B** formula, $B(k, a)$, computed by the recursion of section 5:
# $B_0 = 1$, $B_k = a B_{k-1} / (k + a B_{k-1})$. Remarkably, $B$ depends on the time in the server only
# through its mean: it holds for any latency distribution.
#
# Implement `concurrency_slots(arrival_rate, mean_latency, max_rejected)`: the **smallest** $k$ whose
# rejected share is at most `max_rejected`. Raise `ValueError` unless `arrival_rate > 0`,
# `mean_latency > 0` and $0 <$ `max_rejected` $< 1$. It must work for loads in the thousands.
# `mlcourse.inference` is not allowed.

# %% id="ex7-concurrency-slots" mlcourse={"stage": "inference", "tier": 4, "forbid": ["mlcourse.inference", "scipy.special", "scipy.stats"]} nbgrader={"grade": false, "grade_id": "ex7_concurrency_slots", "locked": false, "schema_version": 3, "solution": true, "task": false}
def concurrency_slots(arrival_rate, mean_latency, max_rejected):
    """Smallest number of slots whose Erlang-B rejected share is at most max_rejected."""
    ### BEGIN SOLUTION
    if arrival_rate <= 0 or mean_latency <= 0 or not 0 < max_rejected < 1:
        raise ValueError("expected arrival_rate > 0, mean_latency > 0 and 0 < max_rejected < 1")
    a = arrival_rate * mean_latency
    k, b = 0, 1.0
    while b > max_rejected:
        k += 1
        b = a * b / (k + a * b)
    return k
    ### END SOLUTION

# %% id="ex7-mistake-littles-law" mistake={"readable": "section 4's Little's law example: 2,000 requests/s at 25 ms is 50 in flight, so 50 slots", "why": "sizes for the mean number in flight, ceil(lambda * W): about half the time more requests than that are in flight"}
def concurrency_slots(arrival_rate, mean_latency, max_rejected):
    if arrival_rate <= 0 or mean_latency <= 0 or not 0 < max_rejected < 1:
        raise ValueError("bad arguments")
    return int(math.ceil(arrival_rate * mean_latency))

# %% id="ex7-mistake-erlang-c" mistake={"why": "uses Erlang C (the probability of waiting in a queue, mlcourse.inference.erlang_c) instead of Erlang B (rejection without a queue)"}
def concurrency_slots(arrival_rate, mean_latency, max_rejected):
    if arrival_rate <= 0 or mean_latency <= 0 or not 0 < max_rejected < 1:
        raise ValueError("bad arguments")
    a = arrival_rate * mean_latency
    k = int(math.floor(a)) + 1
    while True:
        b = 1.0
        for j in range(1, k + 1):
            b = a * b / (j + a * b)
        if b / (1 - a / k * (1 - b)) <= max_rejected:
            return k
        k += 1

# %% id="ex7-mistake-poisson-tail" mistake={"why": "the share of time more than k requests would be in flight with unlimited slots, P(N > k), instead of the share rejected with k"}
def concurrency_slots(arrival_rate, mean_latency, max_rejected):
    if arrival_rate <= 0 or mean_latency <= 0 or not 0 < max_rejected < 1:
        raise ValueError("bad arguments")
    a = arrival_rate * mean_latency
    k, term = 0, math.exp(-a)
    cdf = term
    while 1 - cdf > max_rejected:
        k += 1
        term *= a / k
        cdf += term
    return k

# %% id="ex7-mistake-off-by-one" mistake={"why": "returns one slot more than needed: counts the slot at which the loop stops as an extra"}
def concurrency_slots(arrival_rate, mean_latency, max_rejected):
    if arrival_rate <= 0 or mean_latency <= 0 or not 0 < max_rejected < 1:
        raise ValueError("bad arguments")
    a = arrival_rate * mean_latency
    k, b = 0, 1.0
    while b > max_rejected:
        k += 1
        b = a * b / (k + a * b)
    return k + 1

# %% id="ex7-concurrency-slots-tests" mlcourse={"stage": "inference", "tier": 4} nbgrader={"grade": true, "grade_id": "ex7_concurrency_slots_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# 100 requests/s of 20 ms: a = 2. B_1 = 2/3, B_2 = (4/3) / (10/3) = 0.4, B_3 = 0.8 / 3.8 = 0.2105,
# B_4 = 0.4211 / 4.4211 = 0.0952, B_5 = 0.1905 / 5.1905 = 0.0367, B_6 = 0.0734 / 6.0734 = 0.0121, B_7 = 0.0034.
for _target, _want in [(0.05, 5), (0.01, 7), (0.0366, 6), (0.5, 2), (0.7, 1)]:
    _ex7_got = concurrency_slots(100.0, 0.02, _target)
    assert _ex7_got == _want, f"a = 2, at most {_target} rejected: expected {_want} slots, got {_ex7_got}"
for _bad in [(0.0, 0.02, 0.01), (100.0, -1.0, 0.01), (100.0, 0.02, 0.0), (100.0, 0.02, 1.0)]:
    try:
        concurrency_slots(*_bad)
        _raised = False
    except ValueError:
        _raised = True
    assert _raised, f"expected ValueError for arguments {_bad}"

# %% id="ex7-concurrency-slots-hidden-tests" mlcourse={"stage": "inference", "tier": 4} nbgrader={"grade": true, "grade_id": "ex7_concurrency_slots_hidden_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test sizes services with other loads and targets, up to thousands of erlangs.
_ex7_got = concurrency_slots(2000.0, 0.025, 0.01)
assert isinstance(_ex7_got, (int, np.integer)) and _ex7_got > 50, \
    f"2,000 requests/s of 25 ms: 50 in flight on average, so more than 50 slots are needed; got {_ex7_got!r}"
### BEGIN HIDDEN TESTS
from scipy import stats as _stats_h

for _lam_h, _w_h, _t_h in [(2000.0, 0.025, 0.01), (300.0, 0.01, 0.001), (5000.0, 0.4, 0.02), (40.0, 0.5, 0.1),
                           (1.0, 0.001, 0.5), (900.0, 3.0, 1e-4)]:
    _a_h = _lam_h * _w_h
    _k_h = max(1, int(_a_h * (1 - _t_h)))          # below a (1 - t), B(k, a) >= 1 - k / a > t
    while np.exp(_stats_h.poisson.logpmf(_k_h, _a_h) - _stats_h.poisson.logcdf(_k_h, _a_h)) > _t_h:
        _k_h += 1
    _got_h = concurrency_slots(_lam_h, _w_h, _t_h)
    assert _got_h == _k_h, f"lambda={_lam_h}/s, W={_w_h}s, at most {_t_h} rejected: expected {_k_h} slots, got {_got_h}"
### END HIDDEN TESTS

# %% [markdown] id="md-ex8-threads"
# ### Exercise 8 (tier 4) — split the cores: replicas or threads?
#
# A machine has `cores` cores. You can run $r$ replicas of the model with $t$ intra-op threads each, using
# $r = \lfloor \text{cores} / t \rfloor$ replicas for a thread count $t$. Threads make one request faster,
# but less than linearly: with $t$ threads a replica serves `service_rate_1thread * speedup[t]` requests
# per second, where `speedup` is a dict measured on the machine (`speedup[1] == 1`). Requests arrive as
# Poisson traffic at `arrival_rate` per second and wait in one shared queue in front of the replicas, whose
# service times are exponential (an M/M/r queue).
#
# Implement `threads_or_replicas(arrival_rate, service_rate_1thread, speedup, cores)` returning
# `{"replicas": r, "threads": t}` for the thread count in `speedup` with the **lowest p99 response time**
# (queue and service). Skip thread counts that leave no replica or cannot keep up with the traffic; raise
# `ValueError` when none can. The queueing functions of `mlcourse.inference` (section 5) are yours to use.

# %% id="ex8-threads-or-replicas" mlcourse={"stage": "inference", "tier": 4, "forbid": [], "forbid_reason": "a decision: the queueing formulas of mlcourse.inference are the tools it needs, and no function gives the split of the cores", "equivalent_mutants": {"11:11 compare Lt>LtE": "two splits have exactly the same p99 only on a set of measure zero (a tie goes to the first split either way)"}} nbgrader={"grade": false, "grade_id": "ex8_threads_or_replicas", "locked": false, "schema_version": 3, "solution": true, "task": false}
def threads_or_replicas(arrival_rate, service_rate_1thread, speedup, cores):
    """The replicas x threads split of the cores with the lowest p99 response time."""
    ### BEGIN SOLUTION
    best, best_p99 = None, math.inf
    for threads, gain in speedup.items():
        replicas = cores // threads
        mu = service_rate_1thread * gain
        if arrival_rate >= replicas * mu:         # no replica at all, or too slow for the traffic
            continue
        p99 = inf.mmc_response_percentile(0.99, replicas, arrival_rate, mu)
        if p99 < best_p99:
            best, best_p99 = {"replicas": replicas, "threads": threads}, p99
    if best is None:
        raise ValueError("no split of the cores keeps up with the traffic")
    return best
    ### END SOLUTION

# %% id="ex8-mistake-one-replica-per-core" mistake={"readable": "section 1's rule of thumb (md-07): one thread per replica and one replica per core", "why": "always one replica per core with one thread, whatever the traffic"}
def threads_or_replicas(arrival_rate, service_rate_1thread, speedup, cores):
    if arrival_rate >= cores * service_rate_1thread:
        raise ValueError("cannot keep up")
    return {"replicas": cores, "threads": 1}

# %% id="ex8-mistake-fastest-request" mistake={"why": "the split that serves one request fastest (most threads), ignoring the queue"}
def threads_or_replicas(arrival_rate, service_rate_1thread, speedup, cores):
    options = [(service_rate_1thread * g, t) for t, g in speedup.items()
               if cores // t >= 1 and arrival_rate < (cores // t) * service_rate_1thread * g]
    if not options:
        raise ValueError("cannot keep up")
    _, t = max(options)
    return {"replicas": cores // t, "threads": t}

# %% id="ex8-mistake-most-capacity" mistake={"why": "the split with the most total capacity (replicas x speed), which minimises utilisation, not the p99"}
def threads_or_replicas(arrival_rate, service_rate_1thread, speedup, cores):
    options = [((cores // t) * service_rate_1thread * g, t) for t, g in speedup.items() if cores // t >= 1]
    capacity, t = max(options)
    if arrival_rate >= capacity:
        raise ValueError("cannot keep up")
    return {"replicas": cores // t, "threads": t}

# %% id="ex8-mistake-mean-response" mistake={"why": "minimises the mean response time instead of the p99"}
def threads_or_replicas(arrival_rate, service_rate_1thread, speedup, cores):
    best, best_w = None, math.inf
    for t, g in speedup.items():
        r = cores // t
        mu = service_rate_1thread * g
        if r < 1 or arrival_rate >= r * mu:
            continue
        w = inf.mmc(r, arrival_rate, mu).mean_response
        if w < best_w:
            best, best_w = {"replicas": r, "threads": t}, w
    if best is None:
        raise ValueError("cannot keep up")
    return best

# %% id="ex8-threads-or-replicas-tests" mlcourse={"stage": "inference", "tier": 4} nbgrader={"grade": true, "grade_id": "ex8_threads_or_replicas_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# 2 cores, 1 ms per request on one thread, 1.8x faster on two. At 100 requests/s: two replicas of 1 ms have a
# p99 of 4.61 ms (hardly any queue: the p99 of one exponential service, ln(100) ms); one replica on two threads
# (1,800 requests/s) has ln(100) / (1800 - 100) s = 2.71 ms: one replica, two threads.
_ex8_got = threads_or_replicas(100.0, 1000.0, {1: 1.0, 2: 1.8}, 2)
assert _ex8_got == {"replicas": 1, "threads": 2}, f"100 requests/s: expected 1 replica on 2 threads, got {_ex8_got}"
# At 1,500 requests/s the single fast replica is 83% busy: p99 = ln(100) / 300 s = 15.35 ms, while M/M/2 at
# 75% gives 9.71 ms: two replicas, one thread each.
_ex8_got = threads_or_replicas(1500.0, 1000.0, {1: 1.0, 2: 1.8}, 2)
assert _ex8_got == {"replicas": 2, "threads": 1}, f"1,500 requests/s: expected 2 replicas on 1 thread, got {_ex8_got}"
# At 1,900 requests/s only two replicas keep up (1,800 < 1,900 < 2,000).
_ex8_got = threads_or_replicas(1900.0, 1000.0, {1: 1.0, 2: 1.8}, 2)
assert _ex8_got == {"replicas": 2, "threads": 1}, f"1,900 requests/s: only 2 x 1 keeps up, got {_ex8_got}"
try:
    threads_or_replicas(2100.0, 1000.0, {1: 1.0, 2: 1.8}, 2)
    _raised = False
except ValueError:
    _raised = True
assert _raised, "2,100 requests/s on 2 cores of 1,000 requests/s: no split keeps up, expected ValueError"

# %% id="ex8-threads-or-replicas-hidden-tests" mlcourse={"stage": "inference", "tier": 4} nbgrader={"grade": true, "grade_id": "ex8_threads_or_replicas_hidden_tests", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test splits machines with more cores and other measured speed-ups.
_ex8_got = threads_or_replicas(10.0, 1000.0, {1: 1.0}, 4)
assert _ex8_got == {"replicas": 4, "threads": 1}, f"one thread count only: expected 4 replicas of 1 thread, got {_ex8_got}"
### BEGIN HIDDEN TESTS
_machines_h = [(4, {1: 1.0, 2: 1.9, 4: 3.4}), (4, {1: 1.0, 2: 1.5, 3: 1.9, 4: 2.2}), (6, {1: 1.0, 2: 1.8, 3: 2.5, 6: 4.0}),
               (8, {1: 1.0, 2: 1.95, 4: 3.7, 8: 6.5}), (3, {1: 1.0, 2: 1.7, 3: 2.2})]
_seen_h = set()
for _cores_h, _speed_h in _machines_h:
    for _load_h in (0.05, 0.3, 0.6, 0.85, 0.97):
        _lam_h = _load_h * _cores_h * 200.0
        _opts_h = {}
        for _t_h, _g_h in _speed_h.items():
            _r_h = _cores_h // _t_h
            if _lam_h < _r_h * 200.0 * _g_h:
                _opts_h[(_r_h, _t_h)] = inf.mmc_response_percentile(0.99, _r_h, _lam_h, 200.0 * _g_h)
        _r_h, _t_h = min(_opts_h, key=_opts_h.get)
        _seen_h.add(_t_h)
        _got_h = threads_or_replicas(_lam_h, 200.0, _speed_h, _cores_h)
        assert _got_h == {"replicas": _r_h, "threads": _t_h}, \
            (f"{_cores_h} cores, speed-ups {_speed_h}, {_lam_h:.0f} requests/s: expected {_r_h} replicas x {_t_h} threads "
             f"(p99 {1e3 * _opts_h[(_r_h, _t_h)]:.2f} ms), got {_got_h}")
assert len(_seen_h) >= 3, "test bug: the cases must call for several thread counts"
### END HIDDEN TESTS

# %% [markdown] id="md-measured-service"
# ## 5b. Measured service times are not exponential
#
# Erlang C, `inf.mmc` and `inf.replicas_for_slo` assume **exponential** service times: most requests quick,
# a long tail, the p99 of the service alone $\ln 100 \approx 4.6$ times its mean. Measured model latencies
# rarely look like that. A fixed-size MLP at a fixed batch size takes nearly the same time on every call
# (its p99 is close to its mean), while a service with a cache, a garbage collector or a slow path for some
# inputs has a *bimodal* or heavy tail: most calls fast, a few percent many times slower. For such services
# the textbook formula can be wrong in either direction — it may demand replicas you do not need, declare
# an SLO impossible that is easy, or promise a p99 that the slow calls alone exceed.
#
# The queue itself does not care about the shape: `inf.simulate_queue(arrival_times, service_times, servers)`
# serves any arrival times with any service times, first come first served, on `servers` replicas, and
# returns each request's wait. Feed it Poisson arrivals and service times drawn from your **measurements**
# (resampling them), and it predicts the latency distribution of the real service.
#
# ### Exercise 9 (tier 5) — replicas from measured service times
#
# Implement `replicas_for_measured_service(arrival_rate, service_samples, slo_p99)`: requests arrive as
# Poisson traffic at `arrival_rate` per second and wait in one shared queue in front of $c$ identical
# replicas; `service_samples` are measured service times of one request (seconds, a few thousand of them,
# from the distribution the real service draws from). Return the **smallest** $c$ whose p99 response time
# (wait plus service) is at most `slo_p99` seconds.
#
# **How it is judged.** The hidden tests give you measurements of services you have not seen; they serve
# 200,000 fresh requests with fresh service times from the same distribution on your $c$ replicas. Your
# answer passes when that p99 meets the SLO **and** $c$ is no larger than the fewest replicas that meet it.
# `inf.replicas_for_slo` (the textbook answer) is not allowed; the simulators are. Each call must take
# less than a few seconds.

# %% id="ex9-replicas-measured" mlcourse={"stage": "inference", "tier": 5, "forbid": ["mlcourse.inference.replicas_for_slo", "mlcourse.inference.mmc", "mlcourse.inference.erlang_c", "mlcourse.inference.mmc_response_percentile"], "equivalent_mutants": {"7:32 number 0>1": "the seed of the planner's own simulation: the tests' services separate the fewest replica count from one fewer by 15% or more of the p99, far beyond the noise between two seeds of 60,000 requests", "8:8 number 60000>60001": "one more simulated request (of 60,000) moves the simulated p99 by noise only", "14:11 compare LtE>Lt": "a simulated p99 exactly equal to the SLO happens only on a set of measure zero"}} nbgrader={"grade": false, "grade_id": "ex9_replicas_measured", "locked": false, "schema_version": 3, "solution": true, "task": false}
def replicas_for_measured_service(arrival_rate, service_samples, slo_p99):
    """Fewest FCFS replicas whose p99 response time meets slo_p99, for the measured service times."""
    ### BEGIN SOLUTION
    # Simulate the queue with Poisson arrivals and service times resampled from the measurements: no
    # assumption on the shape of the service-time distribution.
    s = np.asarray(service_samples)
    rng = np.random.default_rng(0)
    n = 60_000
    arrivals = np.cumsum(rng.exponential(1.0 / arrival_rate, n))
    service = rng.choice(s, n)
    c = int(arrival_rate * s.mean()) + 1                  # the fewest replicas that keep up on average
    while True:
        wait = inf.simulate_queue(arrivals, service, c)[n // 20:]
        if np.percentile(wait + service[n // 20:], 99) <= slo_p99:
            return c
        if np.all(wait == 0):
            raise ValueError("no request waits any more and the SLO is still missed: the service itself is too slow")
        c += 1
    ### END SOLUTION

# %% id="ex9-mistake-erlang-c" mistake={"readable": "mlcourse.inference.replicas_for_slo with service_rate = 1 / mean, as demo cell code-29 sizes the service", "why": "Erlang C with the measured mean: assumes exponential service times"}
def replicas_for_measured_service(arrival_rate, service_samples, slo_p99):
    return inf.replicas_for_slo(arrival_rate, 1.0 / float(np.mean(service_samples)), slo_p99)

# %% id="ex9-mistake-utilisation-rule" mistake={"why": "the rule of thumb 'keep replicas 80% busy': ceil(lambda * mean / 0.8)"}
def replicas_for_measured_service(arrival_rate, service_samples, slo_p99):
    return int(math.ceil(arrival_rate * float(np.mean(service_samples)) / 0.8))

# %% id="ex9-mistake-mean-response" mistake={"why": "simulates the queue but holds the mean response time, not the p99, to the SLO"}
def replicas_for_measured_service(arrival_rate, service_samples, slo_p99):
    s = np.asarray(service_samples, dtype=float)
    rng = np.random.default_rng(0)
    n = 60_000
    arrivals = np.cumsum(rng.exponential(1.0 / arrival_rate, n))
    service = rng.choice(s, n)
    c = int(arrival_rate * s.mean()) + 1
    while True:
        wait = inf.simulate_queue(arrivals, service, c)[n // 20:]
        if np.mean(wait + service[n // 20:]) <= slo_p99:
            return c
        c += 1

# %% id="ex9-mistake-wait-only" mistake={"why": "simulates the queue but holds the p99 of the wait alone to the SLO, leaving out the service time"}
def replicas_for_measured_service(arrival_rate, service_samples, slo_p99):
    s = np.asarray(service_samples, dtype=float)
    rng = np.random.default_rng(0)
    n = 60_000
    arrivals = np.cumsum(rng.exponential(1.0 / arrival_rate, n))
    service = rng.choice(s, n)
    c = int(arrival_rate * s.mean()) + 1
    while True:
        wait = inf.simulate_queue(arrivals, service, c)[n // 20:]
        if np.percentile(wait, 99) <= slo_p99:
            return c
        c += 1

# %% id="ex9-replicas-measured-tests" mlcourse={"stage": "inference", "tier": 5} nbgrader={"grade": true, "grade_id": "ex9_replicas_measured_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# Exponential service, 4 ms on average, 2,000 requests/s (8 erlangs), p99 <= 30 ms: here the textbook is
# right, and 9 replicas (p99 about 26 ms) are the fewest; 8 would run at 100% and never catch up.
_ex9_samples = np.random.default_rng(SEED).exponential(0.004, 4000)
_ex9_got = replicas_for_measured_service(2000.0, _ex9_samples, 0.030)
assert _ex9_got == 9, f"exponential service of 4 ms at 2,000 requests/s, p99 <= 30 ms: expected 9 replicas, got {_ex9_got!r}"

# %% id="ex9-replicas-measured-steady-tests" mlcourse={"stage": "inference", "tier": 5} nbgrader={"grade": true, "grade_id": "ex9_replicas_measured_steady_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test measures services whose calls all take about the same time.
_ex9_got = replicas_for_measured_service(100.0, np.full(1000, 0.004), 0.010)
assert isinstance(_ex9_got, (int, np.integer)) and _ex9_got >= 1, f"expected a number of replicas, got {_ex9_got!r}"
# Every call takes 10 ms: no number of replicas brings the p99 down to 5 ms.
try:
    replicas_for_measured_service(100.0, np.full(500, 0.010), 0.005)
    _raised = False
except ValueError:
    _raised = True
assert _raised, "service times of 10 ms and a p99 SLO of 5 ms: no number of replicas can meet it, expected ValueError"
### BEGIN HIDDEN TESTS
def _judge_h(lam, draw, c, seed, n=200_000):
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1.0 / lam, n))
    service = draw(rng, n)
    wait = inf.simulate_queue(arrivals, service, int(c))[n // 20:]
    return float(np.percentile(wait + service[n // 20:], 99))


# (arrival rate, service-time law, SLO, the fewest replicas): the fewest is checked below on the judge's traffic.
_steady_h = [
    (2000.0, lambda r, n: 0.004 * (0.9 + 0.2 * r.random(n)), 0.010, 10),
    (5000.0, lambda r, n: 0.0015 * (0.8 + 0.4 * r.random(n)), 0.004, 9),
]
for _lam_h, _draw_h, _slo_h, _c_h in _steady_h:
    assert _judge_h(_lam_h, _draw_h, _c_h, 91) <= _slo_h < _judge_h(_lam_h, _draw_h, _c_h - 1, 91), "test bug"
    _got_h = replicas_for_measured_service(_lam_h, _draw_h(np.random.default_rng(9101), 5000), _slo_h)
    assert isinstance(_got_h, (int, np.integer)), f"expected an int, got {_got_h!r}"
    _p99_h = _judge_h(_lam_h, _draw_h, _got_h, 92)
    assert _p99_h <= _slo_h, (f"{_lam_h:,.0f} requests/s, p99 SLO {1e3 * _slo_h:g} ms: with your {_got_h} replicas the p99 "
                              f"is {1e3 * _p99_h:.2f} ms")
    assert _got_h <= _c_h, f"{_lam_h:,.0f} requests/s, p99 SLO {1e3 * _slo_h:g} ms: {_c_h} replicas suffice, you asked for {_got_h}"
### END HIDDEN TESTS

# %% id="ex9-replicas-measured-tail-tests" mlcourse={"stage": "inference", "tier": 5} nbgrader={"grade": true, "grade_id": "ex9_replicas_measured_tail_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test measures services with a slow path for a few percent of the requests.
_ex9_got = replicas_for_measured_service(100.0, np.r_[np.full(950, 0.002), np.full(50, 0.02)], 0.05)
assert isinstance(_ex9_got, (int, np.integer)) and _ex9_got >= 1, f"expected a number of replicas, got {_ex9_got!r}"
### BEGIN HIDDEN TESTS
def _judge_h(lam, draw, c, seed, n=200_000):
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1.0 / lam, n))
    service = draw(rng, n)
    wait = inf.simulate_queue(arrivals, service, int(c))[n // 20:]
    return float(np.percentile(wait + service[n // 20:], 99))


_tail_h = [
    (1500.0, lambda r, n: np.where(r.random(n) < 0.05, 0.030, 0.0025), 0.033, 8),
    (3000.0, lambda r, n: np.where(r.random(n) < 0.05, 0.030, 0.0025), 0.033, 14),
]
for _lam_h, _draw_h, _slo_h, _c_h in _tail_h:
    assert _judge_h(_lam_h, _draw_h, _c_h, 93) <= _slo_h < _judge_h(_lam_h, _draw_h, _c_h - 1, 93), "test bug"
    _got_h = replicas_for_measured_service(_lam_h, _draw_h(np.random.default_rng(9301), 5000), _slo_h)
    assert isinstance(_got_h, (int, np.integer)), f"expected an int, got {_got_h!r}"
    _p99_h = _judge_h(_lam_h, _draw_h, _got_h, 94)
    assert _p99_h <= _slo_h, (f"{_lam_h:,.0f} requests/s, p99 SLO {1e3 * _slo_h:g} ms: with your {_got_h} replicas the p99 "
                              f"is {1e3 * _p99_h:.2f} ms: 5% of the calls take 30 ms")
    assert _got_h <= _c_h, f"{_lam_h:,.0f} requests/s, p99 SLO {1e3 * _slo_h:g} ms: {_c_h} replicas suffice, you asked for {_got_h}"
### END HIDDEN TESTS

# %% [markdown] id="md-32"
# ## 6. Dynamic batching: trading latency for throughput
#
# Section 3 showed that a call has a large fixed cost: a batch of 64 costs far less than 64 calls of one.
# A **dynamic batcher** (Triton, TorchServe, Ray Serve) holds requests briefly and sends them together:
# a batch leaves when a replica is free **and** either `max_batch_size` requests wait or the oldest has
# waited `timeout`. The trade-off:
#
# * **larger batches** raise throughput per replica (the fixed cost is shared), so fewer replicas are needed;
# * but every request pays the **batch-formation wait** (up to the timeout) and the longer service time of a
#   big batch — at low traffic, batches never fill and the timeout is pure added latency.
#
# No closed form covers this well, so we simulate. `inf.simulate_batching` loops over *batches* (not
# requests), with a heap of replica free-times, and handles a million requests in about a second. With
# `max_batch_size=1, timeout=0` and exponential service it is exactly M/M/c — the tests check that.
# Below, a service with $s(b) = 1\text{ ms} + 0.05\text{ ms}\cdot b$ (a real service's fixed cost is
# far above our model's 0.02 ms: network, deserialisation, framework) at 8,000 requests/s on 2 replicas.

# %% id="code-33"
n_req = 50_000 if FAST else 200_000
rows = []
for bmax in (1, 4, 16, 64):
    for timeout_ms in (0.0, 0.5, 2.0, 5.0):
        try:
            res = inf.simulate_batching(8000.0, fixed=1e-3, per_item=5e-5, max_batch_size=bmax, timeout=timeout_ms / 1e3,
                                        replicas=2, n_requests=n_req, seed=SEED)
            rows.append({"max_batch_size": bmax, "timeout_ms": timeout_ms, **res.summary()})
        except ValueError:
            pass
batching = pd.DataFrame(rows)
fig, ax = plt.subplots(figsize=(6.5, 3.8))
for bmax, part in batching.groupby("max_batch_size"):
    ax.plot(part["timeout_ms"], part["p99_ms"], marker="o", label=f"max batch {bmax}")
ax.set_yscale("log"); ax.set_xlabel("batching timeout (ms)"); ax.set_ylabel("p99 latency (ms)")
ax.set_title("8,000 req/s on 2 replicas, s(b) = 1 ms + 0.05 ms x b"); ax.legend(); plt.tight_layout(); plt.show()
batching.round(3).sort_values("p99_ms").head(8)

# %% [markdown] id="md-34"
# Without batching (`max batch 1`), 2 replicas serve at most $2/1.05\text{ ms} \approx 1{,}900$ requests/s:
# at 8,000/s the queue explodes (p99 in the hundreds of ms or worse). Batches of 16–64 bring the p99 down to a
# few milliseconds; the timeout matters less at high traffic (batches fill on their own) and more at low.
# The table is for *this* traffic, *this* service-time model and *these* 2 replicas: at another arrival
# rate, SLO or service, its best row is not the best plan, and may not meet the SLO at all.
#
# ### Exercise 10 (tier 5) — plan a deployment
#
# Implement `plan_deployment(arrival_rate, slo_p99_ms, service_profiles, accuracy_budget, service="deterministic")`
# returning a dict
#
# ```python
# {"precision": str, "replicas": int, "max_batch_size": int, "batch_timeout_ms": float}
# ```
#
# * `arrival_rate`: Poisson requests per second;
# * `slo_p99_ms`: the 99th percentile of latency (arrival → result, including batching and queueing) must be
#   at most this many milliseconds;
# * `service_profiles`: `{precision: {"fixed_ms": ..., "per_item_ms": ..., "accuracy_drop": ...}}`: a batch of
#   $b$ takes on average `fixed_ms + per_item_ms * b` milliseconds on one replica, and the precision loses
#   `accuracy_drop` points of accuracy against fp32;
# * `accuracy_budget`: the largest accuracy drop (points) you may accept;
# * `service`: `"deterministic"` (every batch takes exactly its mean) or `"exponential"` (batch times vary,
#   exponentially distributed around that mean), the `service` argument of `inf.simulate_batching`.
#
# **Cost** is the number of replicas. **How it is judged:** your plan is simulated with
# `inf.simulate_batching(arrival_rate, fixed=..., per_item=..., max_batch_size=..., timeout=..., replicas=...,
# n_requests=100_000, service=service, seed=...)` on seeds you do not know (the first 5% of requests dropped
# as warm-up, `BatchingResult.summary()["p99_ms"]`). It passes when the precision is within the accuracy
# budget, the simulated p99 meets the SLO, and it uses **no more replicas than a reference planner** that
# searches precisions, batch sizes and timeouts and keeps a safety margin in its own simulations. The
# hidden tests use other traffic levels, SLOs, budgets, profiles and service-time laws.
# Raise `ValueError` when no precision is within the budget, or when in every allowed precision one request
# alone takes more than 85% of the SLO ($s(1) > 0.85 \cdot \text{SLO}$): the reference planner keeps 15% of
# the SLO as its safety margin and does not plan without it (so with $s(1) = 1.06$ ms an SLO of 1.2 ms
# raises, and one of 1.25 ms does not). `inf.replicas_for_slo` is not allowed. Each call must finish within a
# few seconds.
#
# Think about: which precisions are allowed at all; a lower bound on replicas from capacity
# ($c \ge \lambda \cdot s(b)/b$); why a big batch with a long timeout can break the SLO even with spare capacity;
# what variable batch times do to the tail; how much margin to keep so that another random seed does not
# break your plan.

# %% id="code-35"
PROFILES = {                                      # ms per batch of b: fixed_ms + per_item_ms * b
    "fp32":         {"fixed_ms": 1.0, "per_item_ms": 0.060, "accuracy_drop": 0.0},
    "bf16":         {"fixed_ms": 1.2, "per_item_ms": 0.035, "accuracy_drop": 0.15},
    "int8_dynamic": {"fixed_ms": 1.4, "per_item_ms": 0.020, "accuracy_drop": 0.6},
    "int8_static":  {"fixed_ms": 1.1, "per_item_ms": 0.012, "accuracy_drop": 1.8},
}
TRAFFIC = {"arrival_rate": 20_000.0, "slo_p99_ms": 15.0, "accuracy_budget": 1.0}


# %% id="ex10-plan-deployment" mlcourse={"stage": "inference", "tier": 5, "forbid": ["mlcourse.inference.replicas_for_slo", "mlcourse.inference.mmc", "mlcourse.inference.erlang_c"], "equivalent_mutants": {"15:26 keyword drop seed=": "seed=0 is simulate_batching's default: the call is the same for every input"}} nbgrader={"grade": false, "grade_id": "ex10_plan_deployment", "locked": false, "schema_version": 3, "solution": true, "task": false}
def plan_deployment(arrival_rate, slo_p99_ms, service_profiles, accuracy_budget, service="deterministic"):
    """Choose precision, replicas and batching policy meeting the p99 SLO at the fewest replicas."""
    ### BEGIN SOLUTION
    target = 0.85 * slo_p99_ms                    # headroom against another seed's arrivals
    allowed = {k: p for k, p in service_profiles.items() if p["accuracy_drop"] <= accuracy_budget}
    if not allowed or min(p["fixed_ms"] + p["per_item_ms"] for p in allowed.values()) > target:
        raise ValueError("no allowed precision serves even one request within the SLO")
    for replicas in itertools.count(1):           # the fewest replicas first: cost is the replica count
        for name, p in allowed.items():
            for b in [2 ** k for k in range(9)]:
                service_ms = p["fixed_ms"] + p["per_item_ms"] * b
                if arrival_rate * service_ms >= 1e3 * b * replicas or service_ms > target:
                    continue                      # cannot keep up even with full batches, or one batch is too slow
                for t in [0.0, 0.5, 2.0]:
                    res = inf.simulate_batching(arrival_rate, fixed=p["fixed_ms"] / 1e3, per_item=p["per_item_ms"] / 1e3,
                                                max_batch_size=b, timeout=t / 1e3, replicas=replicas,
                                                n_requests=10_000, service=service, seed=0)
                    if res.summary()["p99_ms"] <= target:
                        return {"precision": name, "replicas": replicas, "max_batch_size": b, "batch_timeout_ms": t}
    ### END SOLUTION

# %% id="ex10-mistake-demo-table" mistake={"readable": "demo cell code-33: its best row (max batch 64, a short timeout) on its 2 replicas, with the fastest precision in the budget", "why": "the demo's plan for 8,000 requests/s pasted for any traffic: too few replicas at high traffic, too many at low"}
def plan_deployment(arrival_rate, slo_p99_ms, service_profiles, accuracy_budget, service="deterministic"):
    allowed = {k: p for k, p in service_profiles.items() if p["accuracy_drop"] <= accuracy_budget}
    name = min(allowed, key=lambda k: allowed[k]["fixed_ms"] + 64 * allowed[k]["per_item_ms"])
    return {"precision": name, "replicas": 2, "max_batch_size": 64, "batch_timeout_ms": 0.5}

# %% id="ex10-mistake-erlang-c-no-batching" mistake={"why": "sizes with Erlang C for one request per call (mlcourse.inference.replicas_for_slo, demo cell code-29): no batching, so many more replicas"}
def plan_deployment(arrival_rate, slo_p99_ms, service_profiles, accuracy_budget, service="deterministic"):
    allowed = {k: p for k, p in service_profiles.items() if p["accuracy_drop"] <= accuracy_budget}
    name = min(allowed, key=lambda k: allowed[k]["fixed_ms"] + allowed[k]["per_item_ms"])
    mu = 1e3 / (allowed[name]["fixed_ms"] + allowed[name]["per_item_ms"])
    c = int(arrival_rate / mu) + 1
    while True:
        res = inf.simulate_batching(arrival_rate, fixed=allowed[name]["fixed_ms"] / 1e3,
                                    per_item=allowed[name]["per_item_ms"] / 1e3, max_batch_size=1, timeout=0.0,
                                    replicas=c, n_requests=20_000, service="exponential", seed=0)
        if res.summary()["p99_ms"] <= slo_p99_ms:
            return {"precision": name, "replicas": c, "max_batch_size": 1, "batch_timeout_ms": 0.0}
        c += 1

# %% id="ex10-mistake-fastest-precision" mistake={"why": "plans well but with the fastest precision, whatever its accuracy drop"}
def plan_deployment(arrival_rate, slo_p99_ms, service_profiles, accuracy_budget, service="deterministic"):
    target = 0.85 * slo_p99_ms
    for replicas in range(1, 10_000):
        for name, p in service_profiles.items():
            for b in [2 ** k for k in range(10)]:
                service_ms = p["fixed_ms"] + p["per_item_ms"] * b
                if arrival_rate * service_ms / 1e3 / b >= replicas:
                    continue
                for t in [0.0, 0.5, 1.0, 2.0, 4.0]:
                    if t + service_ms > target:
                        continue
                    res = inf.simulate_batching(arrival_rate, fixed=p["fixed_ms"] / 1e3, per_item=p["per_item_ms"] / 1e3,
                                                max_batch_size=b, timeout=t / 1e3, replicas=replicas,
                                                n_requests=20_000, service=service, seed=0)
                    if res.summary()["p99_ms"] <= target:
                        return {"precision": name, "replicas": replicas, "max_batch_size": b, "batch_timeout_ms": t}

# %% id="ex10-mistake-deterministic-only" mistake={"why": "simulates every plan with deterministic batch times, whatever `service` says: variable batch times lengthen the tail"}
def plan_deployment(arrival_rate, slo_p99_ms, service_profiles, accuracy_budget, service="deterministic"):
    target = 0.85 * slo_p99_ms
    allowed = {k: p for k, p in service_profiles.items() if p["accuracy_drop"] <= accuracy_budget}
    for replicas in range(1, 10_000):
        for name, p in allowed.items():
            for b in [2 ** k for k in range(10)]:
                service_ms = p["fixed_ms"] + p["per_item_ms"] * b
                if arrival_rate * service_ms / 1e3 / b >= replicas:
                    continue
                for t in [0.0, 0.5, 1.0, 2.0, 4.0]:
                    if t + service_ms > target:
                        continue
                    res = inf.simulate_batching(arrival_rate, fixed=p["fixed_ms"] / 1e3, per_item=p["per_item_ms"] / 1e3,
                                                max_batch_size=b, timeout=t / 1e3, replicas=replicas,
                                                n_requests=20_000, seed=0)
                    if res.summary()["p99_ms"] <= target:
                        return {"precision": name, "replicas": replicas, "max_batch_size": b, "batch_timeout_ms": t}

# %% id="ex10-plan-deployment-tests" mlcourse={"stage": "inference", "tier": 5} nbgrader={"grade": true, "grade_id": "ex10_plan_deployment_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# The visible traffic: 20,000 requests/s, p99 <= 15 ms, at most 1 point of accuracy lost. One replica is
# enough for a planner that batches well. With a budget below every drop, or an SLO of 0.5 ms (below every
# precision's fixed cost), no plan exists: the planner must say so.
_ex10_plan = plan_deployment(TRAFFIC["arrival_rate"], TRAFFIC["slo_p99_ms"], PROFILES, TRAFFIC["accuracy_budget"])
assert isinstance(_ex10_plan, dict) and {"precision", "replicas", "max_batch_size", "batch_timeout_ms"} <= set(_ex10_plan), \
    f"expected a dict with precision, replicas, max_batch_size, batch_timeout_ms, got {_ex10_plan!r}"
assert _ex10_plan["precision"] in PROFILES and PROFILES[_ex10_plan["precision"]]["accuracy_drop"] <= 1.0, \
    f"the precision must be one of {list(PROFILES)} within the 1-point budget, got {_ex10_plan['precision']!r}"
_ex10_p = PROFILES[_ex10_plan["precision"]]
_ex10_res = inf.simulate_batching(TRAFFIC["arrival_rate"], fixed=_ex10_p["fixed_ms"] / 1e3, per_item=_ex10_p["per_item_ms"] / 1e3,
                                  max_batch_size=int(_ex10_plan["max_batch_size"]), timeout=_ex10_plan["batch_timeout_ms"] / 1e3,
                                  replicas=int(_ex10_plan["replicas"]), n_requests=100_000, seed=2024)
assert _ex10_res.summary()["p99_ms"] <= TRAFFIC["slo_p99_ms"], \
    f"your plan {_ex10_plan}: simulated p99 {_ex10_res.summary()['p99_ms']:.2f} ms exceeds the SLO of 15 ms"
assert _ex10_plan["replicas"] <= 1, f"the reference planner needs 1 replica here, your plan uses {_ex10_plan['replicas']}"
for _ex10_bad in [(20_000.0, 15.0, PROFILES, -1.0), (20_000.0, 0.5, PROFILES, 1.0)]:
    try:
        plan_deployment(*_ex10_bad)
        _raised = False
    except ValueError:
        _raised = True
    assert _raised, (f"arguments {_ex10_bad[:2]}, budget {_ex10_bad[3]}: no precision is allowed, or none serves one request "
                     "within the SLO: expected ValueError")

# %% id="ex10-plan-deployment-hidden-tests" mlcourse={"stage": "inference", "tier": 5} nbgrader={"grade": true, "grade_id": "ex10_plan_deployment_hidden_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test judges your planner on other traffic levels, SLOs and budgets.
_ex10_check = plan_deployment(5_000.0, 20.0, PROFILES, 0.5)
assert isinstance(_ex10_check, dict) and "replicas" in _ex10_check, f"expected a plan dict, got {_ex10_check!r}"
### BEGIN HIDDEN TESTS
def _judge_h(plan, lam, slo, profiles, budget, service, seed):
    keys = {"precision", "replicas", "max_batch_size", "batch_timeout_ms"}
    if not isinstance(plan, dict) or not keys <= set(plan):
        return False, f"expected a dict with keys {sorted(keys)}, got {plan!r}", None
    if plan["precision"] not in profiles:
        return False, f"unknown precision {plan['precision']!r}", None
    p = profiles[plan["precision"]]
    if p["accuracy_drop"] > budget:
        return False, f"{plan['precision']} loses {p['accuracy_drop']} points, budget {budget}", None
    c, b, t = int(plan["replicas"]), int(plan["max_batch_size"]), float(plan["batch_timeout_ms"])
    if c < 1 or b < 1 or t < 0 or c != plan["replicas"] or b != plan["max_batch_size"]:
        return False, f"replicas and max_batch_size must be integers >= 1, timeout >= 0: got {plan}", None
    res = inf.simulate_batching(lam, fixed=p["fixed_ms"] / 1e3, per_item=p["per_item_ms"] / 1e3, max_batch_size=b,
                                timeout=t / 1e3, replicas=c, n_requests=100_000, service=service, seed=seed)
    p99 = res.summary()["p99_ms"]
    if p99 > slo:
        return False, f"simulated p99 {p99:.2f} ms exceeds the SLO {slo} ms with {plan}", c
    return True, f"p99 {p99:.2f} ms", c


# (arrival rate, SLO ms, budget, reference plan): each reference plan is re-checked on the judge's arrivals.
for _lam_h, _slo_h, _budget_h, _ref_h in [
    (50_000.0, 10.0, 0.15, {"precision": "bf16", "replicas": 3, "max_batch_size": 64, "batch_timeout_ms": 0.0}),
    (3_000.0, 6.0, 1.0, {"precision": "fp32", "replicas": 1, "max_batch_size": 8, "batch_timeout_ms": 0.0}),
    (800.0, 1.5, 1.0, {"precision": "fp32", "replicas": 4, "max_batch_size": 1, "batch_timeout_ms": 0.0}),
]:
    _ref_ok_h, _ref_why_h, _ref_c_h = _judge_h(_ref_h, _lam_h, _slo_h, PROFILES, _budget_h, "deterministic", 7)
    assert _ref_ok_h, f"reference plan infeasible (test bug): {_ref_why_h}"
    _plan_h = plan_deployment(_lam_h, _slo_h, PROFILES, _budget_h)
    _ok_h, _why_h, _c_h = _judge_h(_plan_h, _lam_h, _slo_h, PROFILES, _budget_h, "deterministic", 7)
    assert _ok_h, f"{_lam_h:,.0f} req/s, SLO {_slo_h} ms, budget {_budget_h}: {_why_h}"
    assert _c_h <= _ref_c_h, (f"{_lam_h:,.0f} req/s, SLO {_slo_h} ms, budget {_budget_h}: your plan uses {_c_h} replicas, "
                              f"the reference planner {_ref_c_h}")

# Other models, where the batching policy decides: a positive timeout, the exact batch grid, the capacity
# bound at saturation (an arrival rate exactly at, or just above, one replica's capacity with full batches:
# a short simulation looks fine there, a long one does not), and the edge of the 85% rule.
_PF_h = {"mid": {"fixed_ms": 4.0, "per_item_ms": 1.0, "accuracy_drop": 0.0}}
_PB_h = {"fp32": {"fixed_ms": 0.8, "per_item_ms": 0.25, "accuracy_drop": 0.0},
         "bf16": {"fixed_ms": 1.0, "per_item_ms": 0.12, "accuracy_drop": 0.3},
         "int8_dynamic": {"fixed_ms": 1.2, "per_item_ms": 0.07, "accuracy_drop": 0.9}}
_PH_h = {"heavy": {"fixed_ms": 8.0, "per_item_ms": 0.5, "accuracy_drop": 0.0}}
_PX_h = {"wide": {"fixed_ms": 1.0, "per_item_ms": 0.01, "accuracy_drop": 0.0}}
_PL_h = {"light": {"fixed_ms": 4.0, "per_item_ms": 0.02, "accuracy_drop": 0.0}}
_PT_h = {"tiny": {"fixed_ms": 0.5, "per_item_ms": 0.0025, "accuracy_drop": 0.0}}
_PE_h = {"even": {"fixed_ms": 2.0, "per_item_ms": 0.01, "accuracy_drop": 0.0}}
# An SLO whose 85% is exactly the reference's own simulated p99 for its plan (a plan at the target passes).
_p99_exact_h = inf.simulate_batching(986.0, fixed=2.0 / 1e3, per_item=0.01 / 1e3, max_batch_size=8, timeout=0.0 / 1e3,
                                     replicas=1, n_requests=10_000, seed=0).summary()["p99_ms"]
_slo_exact_h = _p99_exact_h / 0.85
for _step_h in range(12):
    if 0.85 * _slo_exact_h == _p99_exact_h:
        break
    _slo_exact_h = math.nextafter(_slo_exact_h, math.inf if 0.85 * _slo_exact_h < _p99_exact_h else -math.inf)
assert 0.85 * _slo_exact_h == _p99_exact_h, "no SLO with 85% exactly at the reference's p99 (test bug)"
for _lam_h, _slo_h, _prof_h, _budget_h, _ref_h in [
    (6_000.0, 12.5, _PF_h, 1.0, {"precision": "mid", "replicas": 14, "max_batch_size": 4, "batch_timeout_ms": 0.5}),
    (4_762.0, 2.625, _PB_h, 1.0, {"precision": "bf16", "replicas": 3, "max_batch_size": 4, "batch_timeout_ms": 0.5}),
    (588.0, 13.6, _PH_h, 3.0, {"precision": "heavy", "replicas": 6, "max_batch_size": 2, "batch_timeout_ms": 2.0}),
    (216.0, 7.58, _PL_h, 0.0, {"precision": "light", "replicas": 2, "max_batch_size": 2, "batch_timeout_ms": 2.0}),
    (9_331.0, 1.17, _PT_h, 0.0, {"precision": "tiny", "replicas": 2, "max_batch_size": 4, "batch_timeout_ms": 0.0}),
    (256_000 / (1.0 + 0.01 * 256), 12.0, _PX_h, 0.0, {"precision": "wide", "replicas": 2, "max_batch_size": 64, "batch_timeout_ms": 0.0}),
    (0.99999 * 512_000 / (1.0 + 0.01 * 512), 15.8, _PX_h, 0.0,
     {"precision": "wide", "replicas": 2, "max_batch_size": 128, "batch_timeout_ms": 0.0}),
    (2_000.0, 1.3, PROFILES, 0.2, {"precision": "fp32", "replicas": 7, "max_batch_size": 1, "batch_timeout_ms": 0.0}),
    (0.999 * 256_000 / (1.0 + 0.01 * 256), 10.579192270351003, _PX_h, 0.0,
     {"precision": "wide", "replicas": 2, "max_batch_size": 64, "batch_timeout_ms": 0.0}),
    (986.0, _slo_exact_h, _PE_h, 0.0, {"precision": "even", "replicas": 1, "max_batch_size": 8, "batch_timeout_ms": 0.0}),
]:
    _ref_ok_h, _ref_why_h, _ref_c_h = _judge_h(_ref_h, _lam_h, _slo_h, _prof_h, _budget_h, "deterministic", 7)
    assert _ref_ok_h, f"reference plan infeasible (test bug): {_ref_why_h}"
    _plan_h = plan_deployment(_lam_h, _slo_h, _prof_h, _budget_h)
    _ok_h, _why_h, _c_h = _judge_h(_plan_h, _lam_h, _slo_h, _prof_h, _budget_h, "deterministic", 7)
    assert _ok_h, f"{_lam_h:,.1f} req/s, SLO {_slo_h} ms, profiles {_prof_h}, budget {_budget_h}: {_why_h}"
    assert _c_h <= _ref_c_h, (f"{_lam_h:,.1f} req/s, SLO {_slo_h} ms, profiles {_prof_h}, budget {_budget_h}: your plan uses "
                              f"{_c_h} replicas, the reference planner {_ref_c_h}")
try:
    plan_deployment(2_000.0, 1.24, PROFILES, 0.2)   # s(1) = 1.06 ms > 0.85 x 1.24 ms: the planner must give up
    _raised_h = False
except ValueError:
    _raised_h = True
assert _raised_h, "SLO 1.24 ms with fp32 and bf16 allowed (s(1) = 1.06 ms > 85% of the SLO): expected ValueError"
### END HIDDEN TESTS

# %% id="ex10-plan-deployment-variable-tests" mlcourse={"stage": "inference", "tier": 5} nbgrader={"grade": true, "grade_id": "ex10_plan_deployment_variable_tests", "locked": true, "points": 3, "schema_version": 3, "solution": false, "task": false}
# The hidden part of this test judges your planner on another model's profiles, with variable batch times.
_ex10_check = plan_deployment(5_000.0, 20.0, PROFILES, 0.5, service="exponential")
assert isinstance(_ex10_check, dict) and "replicas" in _ex10_check, f"expected a plan dict, got {_ex10_check!r}"
### BEGIN HIDDEN TESTS
def _judge_h(plan, lam, slo, profiles, budget, service, seed):
    keys = {"precision", "replicas", "max_batch_size", "batch_timeout_ms"}
    if not isinstance(plan, dict) or not keys <= set(plan):
        return False, f"expected a dict with keys {sorted(keys)}, got {plan!r}", None
    if plan["precision"] not in profiles:
        return False, f"unknown precision {plan['precision']!r}", None
    p = profiles[plan["precision"]]
    if p["accuracy_drop"] > budget:
        return False, f"{plan['precision']} loses {p['accuracy_drop']} points, budget {budget}", None
    c, b, t = int(plan["replicas"]), int(plan["max_batch_size"]), float(plan["batch_timeout_ms"])
    if c < 1 or b < 1 or t < 0 or c != plan["replicas"] or b != plan["max_batch_size"]:
        return False, f"replicas and max_batch_size must be integers >= 1, timeout >= 0: got {plan}", None
    res = inf.simulate_batching(lam, fixed=p["fixed_ms"] / 1e3, per_item=p["per_item_ms"] / 1e3, max_batch_size=b,
                                timeout=t / 1e3, replicas=c, n_requests=100_000, service=service, seed=seed)
    p99 = res.summary()["p99_ms"]
    if p99 > slo:
        return False, f"simulated p99 {p99:.2f} ms exceeds the SLO {slo} ms with {plan}", c
    return True, f"p99 {p99:.2f} ms", c


_P2_h = {   # a larger model: per-row work dominates
    "fp32":         {"fixed_ms": 0.8, "per_item_ms": 0.25, "accuracy_drop": 0.0},
    "bf16":         {"fixed_ms": 1.0, "per_item_ms": 0.12, "accuracy_drop": 0.3},
    "int8_dynamic": {"fixed_ms": 1.2, "per_item_ms": 0.07, "accuracy_drop": 0.9},
    "int8_static":  {"fixed_ms": 0.9, "per_item_ms": 0.05, "accuracy_drop": 2.5},
}
for _lam_h, _slo_h, _budget_h, _ref_h in [
    (30_000.0, 25.0, 1.0, {"precision": "int8_dynamic", "replicas": 4, "max_batch_size": 32, "batch_timeout_ms": 0.0}),
    (6_000.0, 8.0, 0.4, {"precision": "bf16", "replicas": 4, "max_batch_size": 4, "batch_timeout_ms": 0.0}),
]:
    _ref_ok_h, _ref_why_h, _ref_c_h = _judge_h(_ref_h, _lam_h, _slo_h, _P2_h, _budget_h, "exponential", 8)
    assert _ref_ok_h, f"reference plan infeasible (test bug): {_ref_why_h}"
    _plan_h = plan_deployment(_lam_h, _slo_h, _P2_h, _budget_h, service="exponential")
    _ok_h, _why_h, _c_h = _judge_h(_plan_h, _lam_h, _slo_h, _P2_h, _budget_h, "exponential", 8)
    assert _ok_h, f"{_lam_h:,.0f} req/s, SLO {_slo_h} ms, budget {_budget_h}, variable batch times: {_why_h}"
    assert _c_h <= _ref_c_h, (f"{_lam_h:,.0f} req/s, SLO {_slo_h} ms, budget {_budget_h}: your plan uses {_c_h} replicas, "
                              f"the reference planner {_ref_c_h}")
### END HIDDEN TESTS

# %% [markdown] id="md-36"
# ## Summary
#
# * **Hardware first.** Vector width (AVX2, AVX-512) sets fp32 speed; VNNI makes int8 arithmetic fast,
#   AVX512-BF16 or AMX makes bf16 fast; without AVX512-FP16, fp16 is a storage format on CPUs. Read the
#   flags, fix and report the thread count, and decide replicas against threads from the traffic.
# * **Number formats** trade range, precision and size: bf16 keeps fp32's range with less precision; fp16 the
#   reverse; int8 stores $q = \text{round}(x/s) + z$ with error at most $s/2$ inside the range. Dynamic,
#   static and weight-only int8 differ in what is quantized and when.
# * **Memory-bound or compute-bound.** At small batches a wide layer waits for its weights: fewer bytes per
#   weight (int8, even weight-only with a kernel that reads int8) make it faster. At large batches it waits
#   for arithmetic: only faster instructions help. A tiny model is dominated by per-call overhead: int8 and
#   bf16 make it *slower*. The course uses `torch.ao.quantization` for CPU int8: in eager mode it is 5–15×
#   faster than torchao's int8, which targets `torch.compile` and GPUs.
# * **Measure honestly:** warm up, time each call, report p50/p95/p99 and spread, fix the conditions,
#   compare side by side in one run; throughput comes from the mean, latency from the percentiles.
# * **Queues:** Little's law $L = \lambda W$ (a mean: size slots for a percentile with Erlang B); M/M/1's
#   $W = S/(1-\rho)$ in the system and $W_q = \rho S/(1-\rho)$ in the queue — one full service time of
#   waiting at 50% busy; Erlang C for $c$ pooled replicas; size for a **percentile**, not the mean.
# * **Measured service times** are rarely exponential: simulate the queue with them instead of trusting a
#   formula that assumes a shape.
# * **Batching** spreads the fixed cost and multiplies throughput, at the price of batch-formation wait;
#   choose batch size and timeout by simulating the traffic, then the fewest replicas that meet the SLO.
#
# ## Going further
#
# * `torch.compile` with torchao (`Int8DynamicActivationInt8WeightConfig`, `Int8WeightOnlyConfig`) and ONNX
#   Runtime's int8 on the same model: is compilation worth its start-up time for a service?
# * Per-channel versus per-tensor scales, and quantization-aware training when post-training int8 loses
#   accuracy (larger models, outliers in activations).
# * Tail latency in practice: garbage collection, noisy neighbours, CPU frequency scaling, and why p99.9
#   matters for fan-out requests ("The Tail at Scale", Dean & Barroso, 2013).
# * Non-Poisson traffic (bursts, daily cycles): simulate with your own `arrival_times`, and autoscaling
#   that reacts in minutes to load that changes in seconds.
# * Reading: Harchol-Balter, *Performance Modeling and Design of Computer Systems* (2013), ch. 13–14;
#   Gunther, *Guerrilla Capacity Planning*; Williams, Waterman & Patterson (2009), *Roofline: an insightful
#   visual performance model*; Jacob et al. (2018), *Quantization and Training of Neural Networks for
#   Efficient Integer-Arithmetic-Only Inference*; Intel's and AMD's optimisation manuals on VNNI and AMX.
