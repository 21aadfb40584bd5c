"""Benchmark: how long each module's notebook takes under papermill in FAST mode, against its budget.

A measurement, not a test: it never fails on a slow machine, it reports.

    .venv/bin/python benchmarks/notebooks.py                                   # every module, seed 0
    .venv/bin/python benchmarks/notebooks.py --assignments 01_dataset 02_features --seeds 0 1 \\
        --out build/benchmarks/notebooks

Each source notebook (solutions and hidden tests in place) is executed from the
top by papermill with ``FAST=True`` and each ``SEED``, one run at a time, as
CI's papermill check runs it. A module's authoring budget is
:data:`FAST_BUDGET_S` (notebooks/AUTHORING.md: "the whole notebook must run in
about a minute on 2 cores"). It writes ``notebooks.json`` (seconds per module and
seed, the budget, whether the slowest run is within it) and ``notebooks.png`` (a
bar per module, the budget as a line).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import papermill

from grader.catalogue import select_assignments
from grader.paths import NOTEBOOKS_DIR

#: Seconds a module's whole notebook may take in FAST mode on the 2-core reference machine.
FAST_BUDGET_S = 60.0


def run_seconds(notebook: Path, seed: int) -> float:
    """Wall seconds of one papermill run of ``notebook`` with FAST=True and SEED=seed (raises if a cell fails)."""
    with tempfile.TemporaryDirectory() as scratch:
        start = time.perf_counter()
        papermill.execute_notebook(str(notebook), str(Path(scratch) / notebook.name),
                                   parameters={"FAST": True, "SEED": seed}, kernel_name="python3",
                                   cwd=scratch, progress_bar=False)
        return time.perf_counter() - start


def plot(rows: list[dict], path: Path) -> None:
    """A bar per module (its slowest run), the budget as a dashed line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.5))
    names = [r["assignment"] for r in rows]
    worst = [r["worst_s"] for r in rows]
    ax.bar(names, worst, color=["tab:blue" if r["within_budget"] else "tab:red" for r in rows])
    ax.axhline(FAST_BUDGET_S, color="black", linestyle="--", label=f"budget {FAST_BUDGET_S:.0f} s")
    ax.set_ylabel("papermill FAST, slowest seed (s)")
    ax.tick_params(axis="x", rotation=45)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignments", nargs="*", default=None, help="module ids (default: every module)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--out", type=Path, default=Path("build/benchmarks/notebooks"))
    args = parser.parse_args()
    rows = []
    for assignment in select_assignments(NOTEBOOKS_DIR, args.assignments):
        seconds = {seed: round(run_seconds(assignment.notebooks[0], seed), 1) for seed in args.seeds}
        worst = max(seconds.values())
        rows.append({"assignment": assignment.id, "seconds_by_seed": seconds, "worst_s": worst,
                     "within_budget": worst <= FAST_BUDGET_S})
        print(f"{assignment.id:<16} " + "  ".join(f"seed {s}: {t:6.1f} s" for s, t in seconds.items())
              + ("" if worst <= FAST_BUDGET_S else f"  over the {FAST_BUDGET_S:.0f} s budget"), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "notebooks.json").write_text(json.dumps(
        {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
         "budget_s": FAST_BUDGET_S, "modules": rows}, indent=2) + "\n")
    plot(rows, args.out / "notebooks.png")
    print(f"wrote {args.out / 'notebooks.json'} and {args.out / 'notebooks.png'}")


if __name__ == "__main__":
    main()
