"""Benchmark: what one wrong answer costs to try, with the trial runner and by re-running the notebook.

A measurement, not a test: it never fails on a slow machine, it reports.

    .venv/bin/python benchmarks/mutation.py                         # 04_evaluation, every mutant
    .venv/bin/python benchmarks/mutation.py --assignments 04_evaluation 09_feedback --naive 2 \\
        --out build/benchmarks/mutation.json

Both ways run in the same process, one after the other, on the same mutants:

* **trials**: ``grader.authoring.trials.run_trials`` on every mutant of the
  assignment (the notebook's setup once, each mutant forked onto its
  exercise's cells only); wall time, and wall time per mutant;
* **naive**: the first ``--naive`` mutants, each as a whole notebook executed
  from the top by nbclient with errors allowed, as nbgrader's autograde runs
  a submission (which adds its own steps on top: this is the least it costs).

It prints the per-mutant cost both ways and their ratio, and writes JSON with
the mutation scores found. The course-wide figures in the README come from
``mlcourse check --mutants`` (every module), timed the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from nbclient import NotebookClient

from grader.authoring.trials import WORKER_ENV
from grader.authoring.wrong_answers import mutant_trials, try_wrong_answers
from grader.catalogue import read_notebook, select_assignments, solution_cells
from grader.paths import NOTEBOOKS_DIR


def naive_seconds(path: Path, trials: list, count: int) -> list[float]:
    """Seconds of a full nbclient run of the notebook with each of the first ``count`` mutants in place."""
    seconds = []
    os.environ.update(WORKER_ENV)  # the same threads as the trial runner: a like-for-like comparison
    for trial in trials[:count]:
        nb = read_notebook(path)
        solution_cells(nb)[trial.solution].source = trial.code
        with tempfile.TemporaryDirectory() as scratch:
            start = time.perf_counter()
            NotebookClient(nb, kernel_name="python3", allow_errors=True, timeout=600,
                           resources={"metadata": {"path": scratch}}).execute()
            seconds.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignments", nargs="*", default=["04_evaluation"])
    parser.add_argument("--naive", type=int, default=2, help="mutants run the naive way, per assignment")
    parser.add_argument("--jobs", type=int, default=None, help="trials at once (default: the CPUs)")
    parser.add_argument("--out", type=Path, default=Path("build/benchmarks/mutation.json"))
    args = parser.parse_args()
    rows = []
    for assignment in select_assignments(NOTEBOOKS_DIR, args.assignments):
        path = assignment.notebooks[0]
        trials, _ = mutant_trials(read_notebook(path))
        start = time.perf_counter()
        found = try_wrong_answers(NOTEBOOKS_DIR, [assignment.id], with_mutants=True, jobs=args.jobs,
                                  progress=lambda line: None)
        trial_wall = time.perf_counter() - start
        naive = naive_seconds(path, trials, args.naive)
        per_trial = trial_wall / max(len(trials), 1)
        per_naive = sum(naive) / len(naive) if naive else None
        rows.append({"assignment": assignment.id, "mutants": len(trials), "trials_wall_s": round(trial_wall, 2),
                     "trials_per_mutant_s": round(per_trial, 3),
                     "naive_per_mutant_s": round(per_naive, 2) if per_naive else None,
                     "naive_runs": len(naive),
                     "speedup": round(per_naive / per_trial, 1) if per_naive else None,
                     "killed": sum(s.killed for s in found.mutation),
                     "judged": sum(s.judged for s in found.mutation)})
        row = rows[-1]
        print(f"{row['assignment']}: {row['mutants']} mutants in {row['trials_wall_s']} s with trials "
              f"({row['trials_per_mutant_s']} s each); naive {row['naive_per_mutant_s']} s each "
              f"({row['naive_runs']} runs): {row['speedup']}x; killed {row['killed']} of {row['judged']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                                    "rows": rows}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
