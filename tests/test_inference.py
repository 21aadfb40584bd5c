"""Tests for mlcourse.inference: formulas graded, never the machine's speed."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
import torch
from scipy import stats
from torch import nn

from mlcourse import inference as inf

SAMPLE_CPUINFO = """\
processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8480+
physical id\t: 0
core id\t\t: 0
flags\t\t: fpu sse sse2 avx f16c fma avx2 avx512f avx512_vnni avx512_bf16 avx512_fp16 amx_tile amx_bf16 amx_int8

processor\t: 1
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8480+
physical id\t: 0
core id\t\t: 0
flags\t\t: fpu sse sse2 avx f16c fma avx2 avx512f avx512_vnni avx512_bf16 avx512_fp16 amx_tile amx_bf16 amx_int8

processor\t: 2
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8480+
physical id\t: 0
core id\t\t: 1
flags\t\t: fpu sse sse2 avx f16c fma avx2 avx512f avx512_vnni avx512_bf16 avx512_fp16 amx_tile amx_bf16 amx_int8
"""

OLD_CPUINFO = "processor : 0\nvendor_id : AuthenticAMD\nmodel name : Old CPU\nflags : fpu sse sse2 avx f16c fma avx2\n"


# ---------------------------------------------------------------------------
# Hardware
# ---------------------------------------------------------------------------


def test_parse_cpuinfo_sample():
    info = inf.parse_cpuinfo(SAMPLE_CPUINFO)
    assert info["model_name"] == "Intel(R) Xeon(R) Platinum 8480+"
    assert info["vendor"] == "GenuineIntel"
    assert info["logical_cpus"] == 3
    assert info["physical_cores"] == 2
    assert "amx_int8" in info["flags"] and "avx512_vnni" in info["flags"]


def test_hardware_report_from_sample():
    report = inf.hardware_report(SAMPLE_CPUINFO)
    isa = report.instruction_sets
    assert isa["avx2"] and isa["avx512"] and isa["avx512_vnni"] and isa["amx_int8"] and isa["avx512_fp16"]
    assert all(report.precisions[p]["accelerated"] for p in ("fp32", "bf16", "fp16", "int8"))
    assert "AMX" in report.precisions["int8"]["why"]
    assert report.torch_num_threads == torch.get_num_threads()
    assert report.torch_num_interop_threads == torch.get_num_interop_threads()
    assert "instruction sets" in str(report)
    assert set(report.to_frame().index) == set(inf.INSTRUCTION_SETS)


def test_hardware_report_old_cpu_and_fallback():
    report = inf.hardware_report(OLD_CPUINFO)
    assert report.instruction_sets["avx2"] and not report.instruction_sets["avx512_vnni"]
    assert not report.precisions["bf16"]["accelerated"]
    assert not report.precisions["fp16"]["accelerated"]
    assert "no VNNI" in report.precisions["int8"]["why"]
    # No flags at all (e.g. no /proc/cpuinfo): falls back to torch's capability, does not crash.
    empty = inf.hardware_report("")
    assert isinstance(empty.instruction_sets, dict) and empty.precisions["fp32"]["accelerated"]
    with pytest.raises(ValueError, match="text"):
        inf.parse_cpuinfo(None)  # type: ignore[arg-type]


def test_hardware_report_this_machine():
    report = inf.hardware_report()
    assert report.usable_cpus >= 1
    assert report.to_dict()["torch_version"] == torch.__version__


def test_torch_threads_restores():
    before = torch.get_num_threads()
    with inf.torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


# ---------------------------------------------------------------------------
# Precision conversions
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def course():
    from mlcourse import modeling as md

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return md.train_course_model(seed=0, n_transactions=12_000, max_epochs=4)


@pytest.mark.parametrize("precision,backend,dtype", [
    ("fp32", "torch.ao", torch.float32),
    ("bf16", "torch.ao", torch.bfloat16),
    ("fp16", "torch.ao", torch.float16),
    ("int8_dynamic", "torch.ao", torch.qint8),
    ("int8_static", "torch.ao", torch.qint8),
    ("int8_dynamic", "torchao", torch.int8),
    ("int8_weight_only", "torchao", torch.int8),
])
def test_conversions_keep_accuracy_and_dtype(course, precision, backend, dtype):
    if backend == "torchao":
        pytest.importorskip("torchao")
    net = course.model.network_
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the conversion itself must not leak warnings
        converted = inf.convert_model(net, precision, backend=backend, calibration=course.data.X_train[:1000])
    assert inf.weight_dtypes(converted) == {dtype}
    quality = inf.evaluate_precision(converted, net, course.data.X_test, course.data.y_test)
    assert abs(quality["accuracy_delta_pts"]) <= 1.0
    assert quality["agreement"] >= 0.99
    assert quality["max_abs_proba_diff"] < (0.02 if precision == "fp32" else 0.15)
    # The original network is untouched.
    assert next(net.parameters()).dtype == torch.float32
    out = converted(torch.zeros(3, net[0].in_features))
    assert out.dtype == torch.float32 and out.shape == (3, 2)


def test_int8_is_smaller(course):
    net = course.model.network_
    fp32 = inf.model_size_bytes(net)
    assert inf.model_size_bytes(inf.convert_model(net, "bf16")) < fp32
    assert inf.model_size_bytes(inf.convert_model(net, "int8_dynamic")) < fp32


def test_convert_model_errors(course):
    net = course.model.network_
    with pytest.raises(ValueError, match="precision"):
        inf.convert_model(net, "int4")
    with pytest.raises(ValueError, match="calibration"):
        inf.convert_model(net, "int8_static")
    with pytest.raises(ValueError, match="backend"):
        inf.convert_model(net, "int8_dynamic", backend="onnx")
    with pytest.raises(ValueError, match="torchao"):
        inf.convert_model(net, "int8_weight_only", backend="torch.ao")


def test_quantize_tensor_matches_torch_and_error_bound():
    rng = np.random.default_rng(0)
    x = rng.normal(size=1000) * 3 + 1
    q, scale, zp = inf.quantize_tensor(x)
    assert q.min() >= 0 and q.max() <= 255
    lo, hi = min(x.min(), 0), max(x.max(), 0)
    assert scale == pytest.approx((hi - lo) / 255)
    expected = torch.quantize_per_tensor(torch.tensor(x, dtype=torch.float64).float(), scale, zp, torch.quint8)
    assert np.abs(q - expected.int_repr().numpy().astype(int)).max() <= 1  # float32 vs float64 rounding
    err = np.abs(inf.dequantize_tensor(q, scale, zp) - x)
    assert err.max() <= inf.quantization_error_bound(scale) + 1e-12
    qs, s_sym, zp_sym = inf.quantize_tensor(x, symmetric=True)
    assert zp_sym == 0 and qs.min() >= -127 and qs.max() <= 127
    assert s_sym == pytest.approx(np.abs(x).max() / 127)
    assert np.abs(inf.dequantize_tensor(qs, s_sym, 0) - x).max() <= s_sym / 2 + 1e-12
    q0, s0, z0 = inf.quantize_tensor(np.zeros(3))
    assert s0 == 1.0 and np.all(inf.dequantize_tensor(q0, s0, z0) == 0)


# ---------------------------------------------------------------------------
# The harness: formulas on a fake clock
# ---------------------------------------------------------------------------


class FakeClock:
    """Each call of fn advances time by the next scripted duration."""

    def __init__(self, durations):
        self.now = 0.0
        self.durations = iter(durations)

    def __call__(self):
        return self.now

    def work(self):
        self.now += next(self.durations)


def test_measure_latency_fake_clock_warmup_excluded():
    durations = [1.0] * 5 + [0.001 * k for k in range(1, 101)]  # 5 slow warm-up calls
    clock = FakeClock(durations)
    samples = inf.measure_latency(clock.work, warmup=5, repeats=100, clock=clock)
    assert samples.shape == (100,)
    np.testing.assert_allclose(samples, 0.001 * np.arange(1, 101))
    pct = inf.latency_percentiles(samples)
    for p in (50, 95, 99):
        assert pct[f"p{p}"] == pytest.approx(np.percentile(samples, p))
    assert pct["p50"] == pytest.approx(0.0505)
    assert pct["p99"] == pytest.approx(0.09901)


def test_measure_latency_min_seconds_extends():
    clock = FakeClock([0.01] * 1000)
    samples = inf.measure_latency(clock.work, warmup=0, repeats=5, min_seconds=0.5, clock=clock)
    assert samples.size == 50


def test_latency_summary_injected_samples():
    samples = np.r_[np.full(98, 0.002), 0.050, 0.100]
    s = inf.latency_summary(samples, batch_size=64)
    assert s["p50"] == pytest.approx(0.002)
    assert s["p99"] == pytest.approx(np.percentile(samples, 99))
    assert s["mean"] == pytest.approx(samples.mean())
    assert s["throughput_per_s"] == pytest.approx(64 / samples.mean())
    assert s["std"] == pytest.approx(samples.std(ddof=1))
    assert s["max"] == 0.1 and s["n"] == 100
    with pytest.raises(ValueError):
        inf.latency_percentiles([])


def test_benchmark_model_with_fake_clock():
    net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)).eval()
    ticks = itertools.count()
    df = inf.benchmark_model(net, np.zeros((10, 4)), [1, 16], threads=1, warmup=2, repeats=10,
                             clock=lambda: 0.001 * next(ticks))  # every call "takes" 1 ms
    assert list(df["batch_size"]) == [1, 16] and (df["threads"] == 1).all()
    np.testing.assert_allclose(df["p50_ms"], 1.0)
    np.testing.assert_allclose(df["throughput_per_s"], [1000.0, 16000.0])


def test_fit_service_time():
    b = np.array([1, 8, 64, 256])
    fixed, per_item = inf.fit_service_time(b, 0.002 + 5e-5 * b)
    assert fixed == pytest.approx(0.002) and per_item == pytest.approx(5e-5)
    with pytest.raises(ValueError):
        inf.fit_service_time([4, 4], [1.0, 2.0])


def test_check_targets_reports_honestly():
    import pandas as pd

    rows = []
    for precision, thr, acc in [("fp32", 1000.0, 0.0), ("int8_dynamic", 800.0, -0.2)]:
        rows.append({"model": "course", "layers": "35-64-32-2", "precision": precision, "batch_size": 64,
                     "throughput_per_s": thr, "accuracy_delta_pts": acc})
    report = inf.hardware_report(OLD_CPUINFO)
    verdicts = inf.check_targets(pd.DataFrame(rows), report)
    speed = next(v for v in verdicts if v["target"] == "speed")
    assert not speed["met"] and "NOT met" in speed["message"] and "no VNNI" in speed["message"]
    assert next(v for v in verdicts if v["target"] == "accuracy")["met"]


# ---------------------------------------------------------------------------
# Queuing theory: closed forms
# ---------------------------------------------------------------------------


def test_littles_law():
    assert inf.littles_law(arrival_rate=200.0, time_in_system=0.05) == pytest.approx(10.0)
    assert inf.littles_law(number_in_system=10.0, arrival_rate=200.0) == pytest.approx(0.05)
    assert inf.littles_law(number_in_system=10.0, time_in_system=0.05) == pytest.approx(200.0)
    with pytest.raises(ValueError, match="two"):
        inf.littles_law(arrival_rate=1.0)


def test_mm1_known_values():
    m = inf.mm1(8.0, 10.0)
    assert m.utilization == pytest.approx(0.8)
    assert m.mean_response == pytest.approx(0.5)
    assert m.mean_wait == pytest.approx(0.4)
    assert m.mean_in_system == pytest.approx(4.0)
    assert m.mean_queue_length == pytest.approx(3.2)
    # Wq percentile: P(Wq > t) = rho exp(-(mu - lambda) t)
    assert inf.mm1_wait_percentile(0.99, 8.0, 10.0) == pytest.approx(math.log(0.8 / 0.01) / 2)
    assert inf.mm1_wait_percentile(0.1, 8.0, 10.0) == 0.0  # 20% never wait
    # M/M/1 response time is Exp(mu - lambda)
    assert inf.mmc_response_percentile(0.99, 1, 8.0, 10.0) == pytest.approx(math.log(100) / 2, rel=1e-9)
    with pytest.raises(ValueError, match="unstable"):
        inf.mm1(10.0, 10.0)


def _erlang_c_markov(c, lam, mu, n_states=400):
    """P(wait) from a direct steady-state solve of the truncated birth-death chain of M/M/c."""
    Q = np.zeros((n_states, n_states))
    for n in range(n_states - 1):
        Q[n, n + 1] = lam
        Q[n + 1, n] = mu * min(n + 1, c)
    Q -= np.diag(Q.sum(axis=1))
    A = np.vstack([Q.T, np.ones(n_states)])
    b = np.r_[np.zeros(n_states), 1.0]
    pi = np.linalg.lstsq(A, b, rcond=None)[0]
    return pi[c:].sum()


def _erlang_c_poisson(c, lam, mu):
    """Erlang C from SciPy's Poisson distribution (Erlang B = P(N = c) / P(N <= c), N ~ Poisson(a))."""
    a = lam / mu
    b = stats.poisson.pmf(c, a) / stats.poisson.cdf(c, a)
    return b / (1 - a / c * (1 - b))


def test_erlang_c_textbook_and_independent():
    # Textbook: a = 2 Erlang, c = 3 agents -> C = 4/9 (0.4444).
    assert inf.erlang_c(3, 2.0, 1.0) == pytest.approx(4 / 9)
    assert inf.erlang_c(1, 0.7, 1.0) == pytest.approx(0.7)  # M/M/1: P(wait) = rho
    # Call-centre example: 10 calls/min, 3 min each (a = 30), 33 agents: C ~ 0.5 ... cross-checked:
    for c, lam, mu in [(2, 1.5, 1.0), (5, 4.0, 1.0), (33, 10.0, 1 / 3), (50, 45.0, 1.0)]:
        expected = _erlang_c_poisson(c, lam, mu)
        assert inf.erlang_c(c, lam, mu) == pytest.approx(expected, rel=1e-9)
        if c <= 5:
            assert inf.erlang_c(c, lam, mu) == pytest.approx(_erlang_c_markov(c, lam, mu), rel=1e-6)
    # Large c: no overflow.
    assert 0 < inf.erlang_c(2000, 1990.0, 1.0) < 1


def test_mmc_formulas():
    m = inf.mmc(3, 2.0, 1.0)
    assert m.mean_wait == pytest.approx((4 / 9) / (3 - 2))
    assert m.mean_response == pytest.approx(4 / 9 + 1)
    assert m.mean_queue_length == pytest.approx(2 * 4 / 9)
    assert m.utilization == pytest.approx(2 / 3)
    # Wait percentile against its definition P(Wq > t) = C exp(-(c mu - lambda) t)
    t = inf.mmc_wait_percentile(0.95, 3, 2.0, 1.0)
    assert (4 / 9) * math.exp(-t) == pytest.approx(0.05)
    # Response percentile against a numerical convolution of the two parts
    t99 = inf.mmc_response_percentile(0.99, 3, 2.0, 1.0)
    rng = np.random.default_rng(0)
    n = 2_000_000
    wq = np.where(rng.random(n) < 4 / 9, rng.exponential(1.0, n), 0.0)
    assert np.mean(wq + rng.exponential(1.0, n) > t99) == pytest.approx(0.01, abs=0.0005)


def test_replicas_for_slo_examples_and_monotone():
    lam, mu, slo = 900.0, 100.0, 0.05
    c = inf.replicas_for_slo(lam, mu, slo)
    assert inf.mmc_response_percentile(0.99, c, lam, mu) <= slo
    assert inf.mmc_response_percentile(0.99, c - 1, lam, mu) > slo  # the fewest
    assert c == 11
    counts = [inf.replicas_for_slo(rate, mu, slo) for rate in (100.0, 500.0, 900.0, 2000.0, 5000.0)]
    assert counts == sorted(counts)  # more traffic never needs fewer replicas
    looser = [inf.replicas_for_slo(2000.0, mu, s) for s in (0.05, 0.08, 0.2)]
    assert looser == sorted(looser, reverse=True)  # a looser SLO never needs more
    with pytest.raises(ValueError, match="service time alone"):
        inf.replicas_for_slo(100.0, 100.0, 0.01)


# ---------------------------------------------------------------------------
# Simulators
# ---------------------------------------------------------------------------


def test_simulate_mm1_agrees_with_closed_form():
    waits = inf.simulate_mm1(7.0, 10.0, 1_000_000, seed=0)
    assert waits.shape == (1_000_000,) and waits.min() >= 0 and waits[0] == 0
    assert waits[50_000:].mean() == pytest.approx(inf.mm1(7.0, 10.0).mean_wait, rel=0.02)
    assert np.percentile(waits[50_000:], 99) == pytest.approx(inf.mm1_wait_percentile(0.99, 7.0, 10.0), rel=0.03)


def test_lindley_matches_loop():
    rng = np.random.default_rng(3)
    arrivals = np.cumsum(rng.exponential(1.0, 500))
    service = rng.exponential(0.8, 500)
    w, expected = 0.0, [0.0]
    for k in range(1, 500):
        w = max(0.0, w + service[k - 1] - (arrivals[k] - arrivals[k - 1]))
        expected.append(w)
    np.testing.assert_allclose(inf.simulate_queue(arrivals, service, 1), expected, atol=1e-9)
    # The heap path with c = 1 gives the same waits as the vectorised one.
    free, starts = arrivals[0], []
    for a, s in zip(arrivals, service):
        start = max(a, free)
        starts.append(start)
        free = start + s
    np.testing.assert_allclose(np.asarray(starts) - arrivals, expected, atol=1e-9)


@pytest.mark.parametrize("c,lam", [(2, 1.4), (4, 2.8)])
def test_simulate_mmc_agrees_with_erlang_c(c, lam):
    waits = inf.simulate_mmc(c, lam, 1.0, 1_000_000, seed=0)
    m = inf.mmc(c, lam, 1.0)
    assert waits[50_000:].mean() == pytest.approx(m.mean_wait, rel=0.02)
    assert np.mean(waits[50_000:] > 0) == pytest.approx(m.prob_wait, rel=0.02)


def test_batching_reduces_to_mmc():
    c, lam, mu = 3, 2.1, 1.0
    res = inf.simulate_batching(lam, fixed=1 / mu, per_item=0.0, max_batch_size=1, timeout=0.0, replicas=c,
                                n_requests=1_000_000, service="exponential", seed=0)
    assert (res.batch_sizes == 1).all()
    m = inf.mmc(c, lam, mu)
    assert res.wait[50_000:].mean() == pytest.approx(m.mean_wait, rel=0.02)
    assert res.latency[50_000:].mean() == pytest.approx(m.mean_response, rel=0.02)
    assert res.utilization == pytest.approx(m.utilization, rel=0.02)
    # Same arrivals and services as the FCFS heap simulator: identical waits.
    np.testing.assert_allclose(res.wait, inf.simulate_mmc(c, lam, mu, 1_000_000, seed=0), atol=1e-9)


def test_batching_sanity():
    kwargs = dict(fixed=0.002, per_item=0.0001, replicas=1, n_requests=100_000, seed=1)
    # 2,000 req/s: one-at-a-time needs 2.1 ms each -> unstable; batching keeps up.
    one = inf.simulate_batching(2000.0, max_batch_size=1, **kwargs)
    batched = inf.simulate_batching(2000.0, max_batch_size=32, timeout=0.001, **kwargs)
    assert batched.summary()["p99_ms"] < 20 < one.summary()["p99_ms"]
    assert batched.batch_sizes.max() <= 32 and batched.batch_sizes.sum() == 100_000
    assert batched.summary()["mean_batch_size"] > 1
    # Latency is never below the service time of a batch of one, and every request is served after it arrives.
    assert (batched.wait >= -1e-12).all() and (batched.latency >= 0.0021 - 1e-12).all()
    # At light load a timeout buys nothing but waiting: latency grows with the timeout.
    light = [inf.simulate_batching(50.0, max_batch_size=16, timeout=t, **kwargs).summary()["mean_ms"]
             for t in (0.0, 0.002, 0.01)]
    assert light == sorted(light) and light[-1] > light[0] + 5


def test_simulators_at_heavy_load_agree_with_theory_and_conserve_requests():
    # Speed lives in benchmarks/; here the long, heavily loaded runs must still be right.
    waits = inf.simulate_mm1(0.8, 1.0, 1_000_000, seed=0)  # 80% load: long busy periods
    assert waits[100_000:].mean() == pytest.approx(inf.mm1(0.8, 1.0).mean_wait, rel=0.02)
    assert np.percentile(waits[100_000:], 99) == pytest.approx(inf.mm1_wait_percentile(0.99, 0.8, 1.0), rel=0.03)
    # Two replicas near capacity (2 x 64 / 5.2 ms = 24,600 req/s for 20,000 req/s offered).
    n, fixed, per_item = 1_000_000, 0.002, 5e-5
    res = inf.simulate_batching(20_000.0, fixed=fixed, per_item=per_item, max_batch_size=64, timeout=0.002,
                                replicas=2, n_requests=n, seed=0)
    # Every request is served exactly once, in batches of at most 64.
    assert res.batch_sizes.sum() == n and 1 <= res.batch_sizes.min() and res.batch_sizes.max() <= 64
    # Each request's service time is that of its own batch: fixed + per_item * size.
    size_of_request = np.repeat(res.batch_sizes, res.batch_sizes)
    np.testing.assert_allclose(res.latency - res.wait, fixed + per_item * size_of_request, rtol=1e-12)
    # Utilisation is the busy time over the capacity of the simulated time (about n / rate seconds).
    busy = res.batch_sizes.size * fixed + per_item * n
    assert res.utilization == pytest.approx(busy / (2 * n / 20_000.0), rel=0.01)
    # A stable queue: the waits of the last tenth are those of the first tenth, not growing.
    tenth = n // 10
    assert res.wait[-tenth:].mean() == pytest.approx(res.wait[:tenth].mean(), rel=0.2)


def test_simulator_errors():
    with pytest.raises(ValueError, match="max_batch_size"):
        inf.simulate_batching(10.0, fixed=0.001, per_item=0.0, max_batch_size=0)
    with pytest.raises(ValueError, match="service"):
        inf.simulate_batching(10.0, fixed=0.001, per_item=0.0, service="gamma")
    with pytest.raises(ValueError, match="sorted"):
        inf.simulate_queue([2.0, 1.0], [1.0, 1.0], 2)


def test_run_inference_benchmark_tiny(tmp_path):
    """The pipeline end to end on a small model: rows, JSON, plots, honest verdicts (not speed)."""
    from mlcourse import modeling as md

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        small = md.train_course_model(seed=0, n_transactions=6_000, max_epochs=2)
    df = inf.run_inference_benchmark(tmp_path, quick=True, progress=False, batch_sizes=(1, 64),
                                     models={"course": small})
    assert {"fp32", "int8_dynamic", "int8_static", "bf16"} <= set(df["precision"])
    assert (df[df["precision"] == "fp32"]["speedup_vs_fp32"] == 1.0).all()
    assert (df["p50_ms"] <= df["p99_ms"] + 1e-12).all()
    for name in ("inference.json", "latency_vs_batch.png", "accuracy_speed.png"):
        assert (tmp_path / name).stat().st_size > 0
    messages = [v["message"] for v in df.attrs["targets"]]
    assert all(m.startswith(("target met", "target NOT met")) for m in messages)


def test_mlcourse_bench_inference_writes_table_json_and_plots(tmp_path):
    """The command a course maintainer runs: table on stdout, JSON and PNG plots on disk."""
    import json
    import subprocess
    import sys

    out = tmp_path / "bench"
    result = subprocess.run(
        [sys.executable, "-m", "grader.cli", "bench", "inference", "--quick", "--out", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "batch 64" in result.stdout and "fp32" in result.stdout and "int8_dynamic" in result.stdout
    verdicts = [line for line in result.stdout.splitlines() if "target met" in line or "target NOT met" in line]
    assert len(verdicts) >= 2, result.stdout[-2000:]
    data = json.loads((out / "inference.json").read_text())
    assert data and (out / "latency_vs_batch.png").stat().st_size > 0 and (out / "accuracy_speed.png").stat().st_size > 0
