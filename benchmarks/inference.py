"""Benchmark: the course model in every precision, side by side, and the stage-6 targets.

A measurement, not a test: it never fails on a slow machine, it reports.

    .venv/bin/python benchmarks/inference.py                     # full run, a few minutes on 2 cores
    .venv/bin/python benchmarks/inference.py --quick             # smoke run, under a minute
    .venv/bin/python benchmarks/inference.py --out build/benchmarks/inference --threads 1

For the course MLP (35-64-32-2) and a wide variant of the same architecture
(35-512-256-2, where int8 pays off) it converts the trained network to fp32,
bf16, fp16, int8 dynamic and int8 static (torch.ao.quantization), and int8
dynamic and weight-only (torchao); times each at several batch sizes after a
warm-up, at a fixed thread count, with percentiles and spread; measures model
size and the accuracy change against fp32 on held-out data. It prints the
precision x batch size table and the verdict on each target (int8 >= 1.5x fp32
throughput at batch 64 on a CPU with VNNI; int8 loses <= 1 accuracy point),
and writes ``inference.json``, ``latency_vs_batch.png`` and ``accuracy_speed.png``.
The work is done by :func:`mlcourse.inference.run_inference_benchmark`.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TORCH_CPP_LOG_LEVEL", "ERROR")

from mlcourse import inference as inf  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="build/benchmarks/inference", help="output folder (JSON, PNG)")
    parser.add_argument("--quick", action="store_true", help="fewer batch sizes and repetitions")
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads while timing (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    print(inf.hardware_report())
    df = inf.run_inference_benchmark(args.out, quick=args.quick, progress=not args.no_progress,
                                     seed=args.seed, threads=args.threads)
    print(inf.benchmark_report(df))
    print(f"\nwrote {args.out}/inference.json, latency_vs_batch.png, accuracy_speed.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
