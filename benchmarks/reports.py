"""Benchmark: ``mlcourse report`` for a large cohort (default 500 learners), from the gradebook to every file.

A measurement, not a test: it never fails on a slow machine, it reports.

    .venv/bin/python benchmarks/reports.py                 # 500 learners
    .venv/bin/python benchmarks/reports.py --learners 2000

The learners' grades are made up (each learner solves each exercise with a
probability set by their skill) and written into a real nbgrader gradebook
(SQLite) through the grader's own writer, with the reasons a grading run
stores; that set-up is not timed. Timed: ``report_course``, that is reading
the gradebook, assessing every learner against the rubric, each learner's HTML
page (with its radar chart) and JSON twin, the cohort page (heat map, level
distribution, item analysis), the cohort CSV and every export (nbgrader's
own included). Target: under 60 s on the 2-core reference machine. JSON out.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

from grader.catalogue import read_exercises
from grader.commands import release_course, report_course
from grader.autograde.outcomes import CellOutcome
from grader.course import Course
from grader.paths import NOTEBOOKS_DIR
from grader.assessment.proficiency import Outcome
from grader.assessment.rubric import load_rubric
from grader.grading.workers import available_cores

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


def gradebook_with(course: Course, cohort) -> None:
    """Release the course and write ``cohort``'s made-up grades into its gradebook (not timed)."""
    from grader.grading.gradebook import GradedNotebook, GradedSubmission, record_all

    release_course(course, progress=lambda line: None)
    graded = []
    for learner, outcomes in cohort:
        by_notebook: dict[tuple[str, str], list[Outcome]] = {}
        for outcome in outcomes:
            by_notebook.setdefault((outcome.exercise.assignment, outcome.exercise.notebook), []).append(outcome)
        for (assignment, notebook), found in by_notebook.items():
            scores = {o.exercise.grade_id: (o.earned, False) for o in found}
            cells = {notebook: {o.exercise.grade_id: CellOutcome(o.reason or "", ()) for o in found}}
            graded.append(GradedSubmission(learner, assignment, "made-up", None,
                                           (GradedNotebook(notebook, True, 0.0, scores, {}),), {}, 0.0, cells))
    record_all(course, graded, progress=lambda done: print(f"  gradebook: {done}/{len(graded)} submissions written",
                                                           flush=True))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=500)
    parser.add_argument("--out", type=Path, default=Path("build/benchmarks/reports"))
    args = parser.parse_args(argv)
    rubric, cohort = made_up_cohort(args.learners)
    with tempfile.TemporaryDirectory(prefix="mlcourse-bench-reports-") as scratch:
        course = Course(Path(scratch) / "course", sandbox=False)
        gradebook_with(course, cohort)
        steps: list[tuple[str, float]] = []
        start = mark = time.perf_counter()

        def step(line: str) -> None:
            nonlocal mark
            now = time.perf_counter()
            if not line.startswith("report "):  # one line per learner: too many to keep
                steps.append((line.split(":")[0], now - mark))
                print(f"  {line[:100]} ({now - mark:.1f} s)", flush=True)
                mark = now

        reports = report_course(course, rubric, Path(scratch) / "reports", progress=step)
        total = time.perf_counter() - start
        size = sum(p.stat().st_size for p in (Path(scratch) / "reports").rglob("*") if p.is_file()) / 2**20
        written = len(reports.learner_pages)
    result = {"benchmark": "reports", "learners": args.learners, "learner_pages": written,
              "cores": available_cores(), "seconds": total, "steps": dict(steps),
              "per_learner_ms": 1000 * total / args.learners, "output_mib": size,
              "target_seconds": TARGET_SECONDS, "meets_target": total < TARGET_SECONDS}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "reports.json").write_text(json.dumps(result, indent=2))
    print(f"{args.learners} learners: {total:.1f} s from the gradebook to every report and export "
          f"(target < {TARGET_SECONDS:.0f} s); {size:.0f} MiB written")
    return result


if __name__ == "__main__":
    main()
