"""Benchmark: writing every report for a large cohort (default 500 learners).

A measurement, not a test: it never fails on a slow machine, it reports.

    .venv/bin/python benchmarks/reports.py                 # 500 learners
    .venv/bin/python benchmarks/reports.py --learners 2000

The learners' outcomes are made up (each learner solves each exercise with a
probability set by their skill), so the benchmark measures the reporting, not
grading: assessing every learner against the rubric, each learner's HTML page
(with its radar chart) and JSON twin, the cohort page (heat map, level
distribution, item analysis) and the grades/levels/roles/LMS exports. Target:
under 60 s on the 2-core reference machine. JSON out, with the time per step.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path

from grader.catalogue import read_exercises
from grader.cohort import write_cohort_report
from grader.exports import grade_rows, level_rows, lms_rows, role_rows
from grader.paths import NOTEBOOKS_DIR
from grader.proficiency import Outcome, assess
from grader.report import write_learner_reports
from grader.rubric import load_rubric

TARGET_SECONDS = 60.0


def made_up_cohort(learners: int, seed: int = 0):
    rubric, exercises = load_rubric(), read_exercises(NOTEBOOKS_DIR)
    rng = random.Random(seed)
    cohort = []
    for index in range(learners):
        skill = rng.random()
        solved = [rng.random() < 0.1 + 0.9 * skill for _ in exercises]
        cohort.append((f"learner{index:04d}", [Outcome(e, e.points if ok else 0.0, "" if ok else "wrong answer")
                                               for e, ok in zip(exercises, solved)]))
    return rubric, cohort


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=500)
    parser.add_argument("--out", type=Path, default=Path("build/benchmarks/reports"))
    args = parser.parse_args(argv)
    rubric, cohort = made_up_cohort(args.learners)
    steps: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="mlcourse-bench-reports-") as scratch:
        out = Path(scratch)
        start = time.perf_counter()
        results = [assess(learner, outcomes, rubric) for learner, outcomes in cohort]
        steps["assess"] = time.perf_counter() - start
        mark = time.perf_counter()
        write_learner_reports(results, out)
        steps["learner_reports"] = time.perf_counter() - mark
        print(f"  {len(results)} learner reports ({steps['learner_reports']:.1f} s)", flush=True)
        mark = time.perf_counter()
        write_cohort_report(results, rubric, out)
        steps["cohort_report"] = time.perf_counter() - mark
        mark = time.perf_counter()
        for rows in (grade_rows(results), level_rows(results, rubric), role_rows(results, rubric), lms_rows(results)):
            (out / "rows.json").write_text(json.dumps(rows))
        steps["exports"] = time.perf_counter() - mark
        total = time.perf_counter() - start
        size = sum(p.stat().st_size for p in out.iterdir()) / 2**20
    result = {"benchmark": "reports", "learners": args.learners, "cores": len(os.sched_getaffinity(0)),
              "seconds": total, "steps": steps, "per_learner_ms": 1000 * total / args.learners,
              "output_mib": size, "target_seconds": TARGET_SECONDS, "meets_target": total < TARGET_SECONDS}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "reports.json").write_text(json.dumps(result, indent=2))
    print(f"{args.learners} learners: {total:.1f} s (target < {TARGET_SECONDS:.0f} s); "
          + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items()) + f"; {size:.0f} MiB written")
    return result


if __name__ == "__main__":
    main()
