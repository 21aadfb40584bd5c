"""Benchmark: how long ``mlcourse.world.make_world`` takes, and how much memory it needs.

A measurement, not a test: it never fails on a slow machine, it reports.

    .venv/bin/python benchmarks/world_generation.py
    .venv/bin/python benchmarks/world_generation.py --sizes 100000 1000000 --repeats 5 \\
        --out build/benchmarks/world_generation.json

For each size (``n_transactions``, every other field of ``WorldConfig`` at its
default) it runs ``make_world`` once to warm up, then ``--repeats`` timed runs
(wall clock, ``time.perf_counter``), then one more run under ``tracemalloc``
for the peak of memory allocated while generating (NumPy and pandas report
their buffers to tracemalloc; the timed runs are not traced, since tracing
slows allocation). It prints a table and writes JSON: per size the median,
min and max seconds, rows per second, the peak traced memory, the size of the
finished transactions frame, and the time per row relative to the smallest
size (1.0 = perfectly linear scaling).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlcourse.world import make_world

MIB = 2**20


def time_make_world(n_transactions: int, repeats: int, seed: int) -> list[float]:
    """Wall-clock seconds of ``repeats`` calls of make_world (after one warm-up call)."""
    make_world(seed=seed, n_transactions=n_transactions)  # warm-up: caches, page faults
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        make_world(seed=seed, n_transactions=n_transactions)
        seconds.append(time.perf_counter() - start)
    return seconds


def memory_of_make_world(n_transactions: int, seed: int) -> tuple[float, float]:
    """Peak MiB allocated during one call (tracemalloc), and MiB of the transactions frame."""
    tracemalloc.start()
    world = make_world(seed=seed, n_transactions=n_transactions)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    frame = world.transactions.memory_usage(deep=True).sum()
    return peak / MIB, frame / MIB


def measure(sizes: list[int], repeats: int, seed: int) -> list[dict[str, Any]]:
    results = []
    for n in sizes:
        seconds = time_make_world(n, repeats, seed)
        peak_mib, frame_mib = memory_of_make_world(n, seed)
        median = statistics.median(seconds)
        results.append(
            {
                "n_transactions": n,
                "repeats": repeats,
                "seconds_median": median,
                "seconds_min": min(seconds),
                "seconds_max": max(seconds),
                "seconds_all": seconds,
                "rows_per_second": n / median,
                "peak_traced_mib": peak_mib,
                "transactions_frame_mib": frame_mib,
            }
        )
    # Time per row relative to the smallest size: > 1 means worse than linear.
    base = results[0]["seconds_median"] / results[0]["n_transactions"]
    for row in results:
        row["time_per_row_vs_smallest"] = row["seconds_median"] / row["n_transactions"] / base
    return results


def environment() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "machine": platform.machine(),
        "system": platform.system(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
    }


def print_table(results: list[dict[str, Any]]) -> None:
    header = (
        f"{'n_transactions':>14} {'median s':>9} {'min s':>7} {'max s':>7} "
        f"{'rows/s':>11} {'peak MiB':>9} {'frame MiB':>9} {'per-row ratio':>13}"
    )
    print(header)
    for r in results:
        print(
            f"{r['n_transactions']:>14,} {r['seconds_median']:>9.3f} {r['seconds_min']:>7.3f} "
            f"{r['seconds_max']:>7.3f} {r['rows_per_second']:>11,.0f} "
            f"{r['peak_traced_mib']:>9.1f} {r['transactions_frame_mib']:>9.1f} "
            f"{r['time_per_row_vs_smallest']:>13.2f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[100_000, 1_000_000],
        help="values of n_transactions to time (default: 100000 1000000)",
    )  # fmt: skip
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per size (>= 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", type=Path, default=Path("build/benchmarks/world_generation.json"),
        help="where to write the JSON results",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.repeats < 3:
        parser.error("--repeats: expected at least 3")
    if any(n <= 0 for n in args.sizes):
        parser.error("--sizes: expected positive integers")

    make_world(seed=args.seed, n_transactions=10_000)  # warm-up: imports and first calls
    results = measure(sorted(args.sizes), args.repeats, args.seed)
    report = {
        "benchmark": "world_generation",
        "function": "mlcourse.world.make_world",
        "config": "WorldConfig defaults, n_transactions varied",
        "environment": environment(),
        "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "results": results,
    }
    print_table(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
