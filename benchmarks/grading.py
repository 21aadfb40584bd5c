"""Benchmark: ``mlcourse grade`` against plain ``nbgrader autograde``, on the same cohort, in one run.

A measurement, not a test: it never fails on a slow machine, it reports.

    .venv/bin/python benchmarks/grading.py                   # 3 learners x 10 assignments = 30 submissions
    .venv/bin/python benchmarks/grading.py --learners 6 --assignment 04_evaluation --assignment 09_feedback

It simulates a cohort (the demo's learner profiles, repeated to ``--learners``)
and grades every submission twice, in two course folders released from the
same source:

* **nbgrader**: ``nbgrader autograde ASSIGNMENT`` from nbgrader's command line,
  one assignment after another, in the course folder. It uses the course's
  grading steps and sandbox (``nbgrader_config.py``, as written by ``mlcourse
  release``), since without them scores differ, and nbgrader's own default
  for everything else (it waits for each kernel to shut down gracefully);
* **mlcourse**: ``mlcourse grade`` with its defaults (one worker per core).

It checks that both gradebooks hold the same score for every graded cell,
and writes JSON (both wall times, their ratio, time by phase for each) and a
chart to ``--out``. Phases come from the execute step's timings (the
``MLCOURSE_TIMING_LOG`` file for nbgrader, ``grading-summary.json`` for
mlcourse); "nbgrader" is the rest of each run's time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from grader.catalogue import select_assignments  # noqa: E402
from grader.autograde.settings import COURSE_ID  # noqa: E402
from grader.course import Course  # noqa: E402
from grader.autograde.sandbox import TIMING_LOG_ENV  # noqa: E402
from grader.authoring.simulate import DEMO_COHORT, write_submission  # noqa: E402
from grader.grading.workers import available_cores  # noqa: E402

TARGET_RATIO = 1.8
EXECUTE_PHASES = ("kernel_start", "setup", "cells", "kernel_shutdown")


def simulate(root: Path, learners: int, assignments: list[str] | None) -> tuple[Path, list[str]]:
    """``learners`` simulated learners' submissions of ``assignments``; returns their folder and the assignment ids."""
    seed = Course(root / "seed_course", sandbox=False)
    submissions = root / "submissions"
    chosen = select_assignments(seed.notebooks_dir, assignments)
    profiles = [replace(DEMO_COHORT[i % len(DEMO_COHORT)],
                        learner=f"{DEMO_COHORT[i % len(DEMO_COHORT)].learner}{i // len(DEMO_COHORT) or ''}")
                for i in range(learners)]
    for assignment in chosen:
        release = seed.release(assignment)
        for profile in profiles:
            write_submission(release, assignment, profile, submissions)
    return submissions, [a.id for a in chosen]


def released_course(folder: Path, assignments: list[str]) -> Course:
    course = Course(folder)
    for assignment in select_assignments(course.notebooks_dir, assignments):
        course.release(assignment)
    return course


def environment(**extra: str) -> dict:
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"], "MPLBACKEND": "Agg", **extra}


def run_nbgrader(course: Course, submissions: Path, assignments: list[str]) -> dict:
    """Plain ``nbgrader autograde``, one assignment after another; wall seconds and time by phase."""
    subprocess.run(["cp", "-r", f"{submissions}/.", str(course.root / "submitted")], check=True)
    log = course.root / "timings.jsonl"
    start = time.perf_counter()
    for index, assignment in enumerate(assignments, 1):
        step = time.perf_counter()
        run = subprocess.run(["nbgrader", "autograde", assignment, "--force",
                              "--Execute.shutdown_kernel=graceful"],  # nbgrader's default; the course's is immediate
                             cwd=course.root, capture_output=True, text=True,
                             env=environment(**{TIMING_LOG_ENV: str(log)}))
        if run.returncode != 0:
            sys.exit(f"nbgrader autograde {assignment} failed:\n{run.stderr[-3000:]}")
        print(f"  nbgrader [{index}/{len(assignments)}] {assignment}: {time.perf_counter() - step:.1f} s", flush=True)
    seconds = time.perf_counter() - start
    phases = dict.fromkeys(EXECUTE_PHASES, 0.0)
    for line in log.read_text().splitlines():
        for name in EXECUTE_PHASES:
            phases[name] += json.loads(line)[name]
    phases["nbgrader"] = seconds - sum(phases.values())
    return {"seconds": seconds, "phases": phases}


def run_mlcourse(course: Course, submissions: Path) -> dict:
    """``mlcourse grade`` with its defaults; wall seconds and its own summary's time by phase."""
    start = time.perf_counter()
    run = subprocess.Popen([sys.executable, "-m", "grader.cli", "grade", str(submissions), "--course-dir",
                            str(course.root)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           env=environment())
    for line in run.stdout:
        print("  mlcourse", line.rstrip(), flush=True)
    if run.wait() != 0:
        sys.exit("mlcourse grade failed")
    seconds = time.perf_counter() - start
    summary = json.loads((course.root / "grading-summary.json").read_text())
    return {"seconds": seconds, "phases": summary["phases"], "workers": summary["workers"],
            "grading_seconds": summary["grading_seconds"], "work_seconds": summary["work_seconds"]}


def scores(course: Course, assignments: list[str]) -> dict[str, float | None]:
    """Every graded cell's score, keyed ``learner/assignment/notebook/grade_id``."""
    from nbgrader.api import Gradebook

    found = {}
    with Gradebook(course.db_url, COURSE_ID) as gb:
        for assignment in assignments:
            for submission in gb.assignment_submissions(assignment):
                for nb in submission.notebooks:
                    for grade in nb.grades:
                        found[f"{submission.student.id}/{assignment}/{nb.name}/{grade.name}"] = grade.score
    return found


def plot(result: dict, path: Path) -> None:
    fig, (wall, phases) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1, 2]})
    names = ["nbgrader autograde\n(serial)", f"mlcourse grade\n({result['mlcourse']['workers']})"]
    values = [result["nbgrader"]["seconds"], result["mlcourse"]["seconds"]]
    wall.bar(names, values, color=["#999999", "#1f77b4"])
    for x, value in enumerate(values):
        wall.text(x, value, f"{value:.0f} s", ha="center", va="bottom")
    wall.set_ylabel("wall-clock seconds")
    wall.set_title(f"{result['submissions']} submissions: {result['ratio']:.2f}x faster")
    keys = list(result["mlcourse"]["phases"])
    width = 0.4
    for offset, (label, run) in zip((-width / 2, width / 2), (("nbgrader", result["nbgrader"]),
                                                              ("mlcourse", result["mlcourse"]))):
        phases.bar([i + offset for i in range(len(keys))], [run["phases"].get(k, 0.0) for k in keys], width,
                   label=label, color="#999999" if label == "nbgrader" else "#1f77b4")
    phases.set_xticks(range(len(keys)), [k.replace("_", "\n") for k in keys])
    phases.set_ylabel("seconds of work, summed over submissions")
    phases.set_title("where the time goes")
    phases.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=3, help="simulated learners (default 3)")
    parser.add_argument("--assignment", action="append", help="only this assignment (repeatable; default all)")
    parser.add_argument("--out", type=Path, default=Path("build/benchmarks/grading"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mlcourse-bench-grading-") as scratch:
        root = Path(scratch)
        submissions, assignments = simulate(root, args.learners, args.assignment)
        count = sum(1 for _ in submissions.glob("*/*"))
        print(f"{count} submissions ({args.learners} learners x {len(assignments)} assignments)", flush=True)
        baseline_course = released_course(root / "nbgrader_course", assignments)
        ours_course = released_course(root / "mlcourse_course", assignments)
        print("grading with nbgrader autograde (serial):", flush=True)
        baseline = run_nbgrader(baseline_course, submissions, assignments)
        print("grading with mlcourse grade:", flush=True)
        ours = run_mlcourse(ours_course, submissions)
        theirs_scores, our_scores = scores(baseline_course, assignments), scores(ours_course, assignments)
    differences = sorted(k for k in theirs_scores.keys() | our_scores.keys() if theirs_scores.get(k) != our_scores.get(k))
    result = {
        "benchmark": "grading",
        "machine": {"cores": available_cores(), "processor": platform.processor() or platform.machine(),
                    "python": platform.python_version()},
        "submissions": count,
        "graded_cells": len(our_scores),
        "nbgrader": baseline,
        "mlcourse": ours,
        "ratio": baseline["seconds"] / ours["seconds"],
        "target_ratio": TARGET_RATIO,
        "scores_identical": not differences,
        "score_differences": differences[:50],
    }
    result["meets_target"] = result["ratio"] >= TARGET_RATIO and result["scores_identical"]
    (args.out / "grading.json").write_text(json.dumps(result, indent=2))
    plot(result, args.out / "grading.png")
    print(f"\nnbgrader autograde (serial): {baseline['seconds']:.1f} s")
    print(f"mlcourse grade ({ours['workers']}): {ours['seconds']:.1f} s")
    print(f"ratio {result['ratio']:.2f}x (target {TARGET_RATIO}x); scores identical: {result['scores_identical']} "
          f"over {len(our_scores)} graded cells")
    for name in ours["phases"]:
        print(f"  {name:>16}: nbgrader {baseline['phases'].get(name, 0.0):7.1f} s   mlcourse "
              f"{ours['phases'][name]:7.1f} s")
    print(f"wrote {args.out}/grading.json and grading.png")
    return result


if __name__ == "__main__":
    main()
