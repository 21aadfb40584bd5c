"""Can every test fail, and does every wrong answer? The course author's check.

For each assignment, release it into a scratch course, then autograde two
submissions built from the release:

* ``stub``: the student version untouched, so every graded cell must score 0;
* ``solution``: every exercise solved with the source's solution, so every
  graded cell must score full points.

A cell that scores on the stub tests nothing; a cell that loses points on the
solution is broken. Both are reported per cell.

The wrong answers (hand-written mistakes, generated mutants) are tried by
:mod:`grader.authoring.wrong_answers`; :func:`mutation_failures` holds their
scores against the rubric's target.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from grader.assessment.rubric import Rubric
from grader.authoring.rules import MUTATION, load_exemptions, exempt
from grader.authoring.wrong_answers import MutationScore
from grader.catalogue import read_exercises, select_assignments
from grader.course import Course
from grader.grading.gradebook import learner_outcomes
from grader.grading.pipeline import grade
from grader.assessment.proficiency import Exercise, Outcome
from grader.authoring.simulate import Profile, write_submission

STUB = Profile("stub", frozenset(), "the released student version, untouched")
SOLUTION = Profile("solution", frozenset({1, 2, 3, 4, 5}), "every exercise solved with the source solution")


@dataclass(frozen=True)
class CellCheck:
    """One graded cell's scores on the stub and on the solution."""

    exercise: Exercise
    stub: Outcome
    solution: Outcome

    @property
    def fails_on_stub(self) -> bool:
        return self.stub.earned == 0

    @property
    def passes_on_solution(self) -> bool:
        return self.solution.complete

    @property
    def ok(self) -> bool:
        return self.fails_on_stub and self.passes_on_solution

    def describe(self) -> str:
        problems = []
        if not self.fails_on_stub:
            problems.append(f"scores {self.stub.earned:g} on the stub")
        if not self.passes_on_solution:
            problems.append(f"loses points on the solution ({self.solution.reason or 'partial credit'})")
        status = "ok" if self.ok else "BROKEN: " + "; ".join(problems)
        return f"{self.exercise.ref} (tier {self.exercise.tier}, {self.exercise.points:g} pt): {status}"


def check_assignments(
    notebooks_dir: Path,
    assignments: list[str] | None = None,
    work_dir: Path | None = None,
    progress: Callable[[str], None] = print,
    sandbox: bool = True,
) -> list[CellCheck]:
    """Release, autograde stub and solution (in the grading sandbox), and compare per graded cell."""
    chosen = select_assignments(notebooks_dir, assignments)
    scratch = Path(work_dir) if work_dir else Path(tempfile.mkdtemp(prefix="mlcourse-check-"))
    try:
        course = Course(scratch / "course", notebooks_dir=notebooks_dir, sandbox=sandbox)
        submissions = scratch / "submissions"
        for assignment in chosen:
            release = course.release(assignment)
            for profile in (STUB, SOLUTION):
                write_submission(release, assignment, profile, submissions)
        grade(course, submissions, [a.id for a in chosen], progress)
        exercises = read_exercises(notebooks_dir, [a.id for a in chosen])
        stub = learner_outcomes(course, STUB.learner, exercises)
        solution = learner_outcomes(course, SOLUTION.learner, exercises)
        return [CellCheck(ex, s, o) for ex, s, o in zip(exercises, stub, solution)]
    finally:
        if work_dir is None:
            shutil.rmtree(scratch, ignore_errors=True)


def mutation_failures(scores: list[MutationScore], notebooks_dir: Path, rubric: Rubric) -> list[str]:
    """Why the mutation scores fail the rubric's target, one line each (empty when they meet it).

    Exercises below ``evidence.mutation_from_tier`` and modules exempt from
    the ``mutation`` rule are not held to the target; an equivalent-mutant mark
    that names no mutant of today's solution fails everywhere (it must follow
    the solution).
    """
    exemptions = load_exemptions(notebooks_dir)
    target = rubric.evidence.mutation_score
    lines = []
    for score in scores:
        where = f"{score.assignment}/{score.solution}"
        if score.stale_marks:
            lines.append(f"{where}: equivalent_mutants names mutants the solution no longer has: "
                         f"{', '.join(score.stale_marks)}")
        if score.tier < rubric.evidence.mutation_from_tier or exempt(exemptions, score.assignment, MUTATION):
            continue
        if score.problem:
            lines.append(f"{where}: mutants not judged: {score.problem}")
        elif score.score is not None and score.score < target - 1e-9:
            lines.append(f"{where}: catches {score.score:.0%} of its mutants, needs {target:.0%}; survivors: "
                         f"{', '.join(score.survivors)}")
    return lines
