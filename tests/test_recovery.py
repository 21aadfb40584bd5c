"""Nothing recorded is ever lost: a killed grading run, a failed rerun, a machine without the sandbox.

All through the real command line (``python -m grader.cli grade``) on the
real ``04_evaluation`` notebook and an SQLite gradebook.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from processes import left_after, sandbox_processes

from grader.catalogue import read_exercises, read_notebook, select_assignments
from grader.autograde.settings import COURSE_ID
from grader.course import Course
from grader.grading import gradebook
from grader.grading.gradebook import learner_outcomes
from grader.paths import NOTEBOOKS_DIR
from grader.authoring.simulate import Profile, solve

ASSIGNMENT = "04_evaluation"
EXERCISES = read_exercises(NOTEBOOKS_DIR, [ASSIGNMENT])
FULL = sum(e.points for e in EXERCISES)
TEST_CELLS = {e.grade_id for e in EXERCISES}
EVERYTHING = Profile("all", frozenset({1, 2, 3, 4, 5}), "every tier")
LEARNERS = ("ann", "bob", "cyd")

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="grading runs in the sandbox")


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    root = tmp_path_factory.mktemp("recovery")
    course = Course(root / "seed_course")
    [assignment] = select_assignments(course.notebooks_dir, [ASSIGNMENT])
    release = course.release(assignment)
    solved = solve(read_notebook(release / f"{ASSIGNMENT}.ipynb"),
                   read_notebook(assignment.folder / f"{ASSIGNMENT}.ipynb"), EVERYTHING)
    return {"root": root, "solved": solved}


def _submissions(folder: Path, nb, learners=LEARNERS) -> Path:
    for learner in learners:
        (folder / learner / ASSIGNMENT).mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / learner / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    return folder


def _grade_cli(course_dir: Path, submissions: Path, *extra: str, env=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "grader.cli", "grade", str(submissions), "--course-dir",
                             str(course_dir), "--assignment", ASSIGNMENT, *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            start_new_session=True)


def _totals(course_dir: Path) -> dict[str, float]:
    course = Course(course_dir)
    exercises = [e for e in read_exercises(course.notebooks_dir) if e.assignment == ASSIGNMENT]
    return {learner: sum(o.earned for o in learner_outcomes(course, learner, exercises)) for learner in gradebook.learners(course)}


def test_a_run_killed_mid_way_and_rerun_records_every_grade_once(released):
    from nbgrader.api import Gradebook

    course_dir = released["root"] / "killed"
    subs = _submissions(released["root"] / "subs_killed", released["solved"])
    run = _grade_cli(course_dir, subs)
    lines = []
    for line in run.stdout:  # wait until the first submission is graded, then kill -9 the whole run
        lines.append(line)
        if line.startswith("[1/3]"):
            os.killpg(run.pid, signal.SIGKILL)
            break
    run.wait(timeout=60)
    assert run.returncode == -signal.SIGKILL, "".join(lines)
    assert left_after(sandbox_processes) == [], "a killed grader left sandboxed kernels behind"

    rerun = _grade_cli(course_dir, subs)
    out, _ = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, out
    assert _totals(course_dir) == dict.fromkeys(LEARNERS, FULL)
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}", COURSE_ID) as gb:
        pairs = [(s.student.id, s.assignment.name) for s in gb.assignment_submissions(ASSIGNMENT)]
        assert sorted(pairs) == [(learner, ASSIGNMENT) for learner in LEARNERS]
        for learner in LEARNERS:
            submission = gb.find_submission(ASSIGNMENT, learner)
            assert {g.name for nb in submission.notebooks for g in nb.grades} == TEST_CELLS



def test_a_failed_rerun_keeps_the_earlier_grades(released):
    course_dir = released["root"] / "rerun"
    subs = _submissions(released["root"] / "subs_rerun", released["solved"], ["dee"])
    first = _grade_cli(course_dir, subs)
    assert first.wait(timeout=600) == 0
    assert _totals(course_dir) == {"dee": FULL}
    autograded = Course(course_dir).path("autograded", "dee", ASSIGNMENT) / f"{ASSIGNMENT}.ipynb"
    graded_before = autograded.read_bytes()
    # dee's next upload is a renamed notebook: nbgrader finds nothing to grade and fails.
    folder = subs / "dee" / ASSIGNMENT
    (folder / f"{ASSIGNMENT}.ipynb").rename(folder / "final_really_final.ipynb")
    second = _grade_cli(course_dir, subs)
    out, _ = second.communicate(timeout=600)
    assert second.returncode == 1 and "the grades recorded before this run are kept" in out, out
    assert _totals(course_dir) == {"dee": FULL}
    assert autograded.read_bytes() == graded_before
    # And a notebook that is not JSON at all is refused before nbgrader touches anything.
    (folder / "final_really_final.ipynb").write_text("{ broken")
    third = _grade_cli(course_dir, subs)
    out, _ = third.communicate(timeout=600)
    assert third.returncode == 1 and "not a readable notebook" in out, out
    assert _totals(course_dir) == {"dee": FULL}


def test_without_bubblewrap_the_grader_refuses_unless_told_otherwise(released, tmp_path):
    # A PATH with python's folder but no bwrap.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("alembic", "setpriv", "prlimit"):
        if shutil.which(tool):
            (bin_dir / tool).symlink_to(shutil.which(tool))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{bin_dir}"}
    subs = _submissions(tmp_path / "subs", released["solved"], ["eve"])
    refused = _grade_cli(tmp_path / "course", subs, env=env)
    out, _ = refused.communicate(timeout=300)
    assert refused.returncode == 2, out
    assert out.strip().splitlines()[-1].startswith("mlcourse: error: the grading sandbox needs bubblewrap (bwrap)")
    assert "--unsafe-no-sandbox" in out and not (tmp_path / "course").exists()
    # Releasing runs no learner code: it works without the sandbox.
    release = subprocess.run([sys.executable, "-m", "grader.cli", "release", ASSIGNMENT, "--course-dir",
                              str(tmp_path / "course")], capture_output=True, text=True, env=env)
    assert release.returncode == 0, release.stderr
    unsafe = _grade_cli(tmp_path / "course", subs, "--unsafe-no-sandbox", env=env)
    out, _ = unsafe.communicate(timeout=600)
    assert unsafe.returncode == 0 and "learner code runs unconfined" in out, out


def test_a_correct_submission_scores_the_same_inside_and_outside_the_sandbox(released):
    subs = _submissions(released["root"] / "subs_same", released["solved"], ["fay"])
    scores = {}
    for name, extra in (("inside", ()), ("outside", ("--unsafe-no-sandbox",))):
        run = _grade_cli(released["root"] / f"same_{name}", subs, *extra)
        out, _ = run.communicate(timeout=600)
        assert run.returncode == 0, out
        course = Course(released["root"] / f"same_{name}")
        exercises = [e for e in read_exercises(course.notebooks_dir) if e.assignment == ASSIGNMENT]
        scores[name] = {o.exercise.grade_id: o.earned for o in learner_outcomes(course, "fay", exercises)}
    assert scores["inside"] == scores["outside"] and sum(scores["inside"].values()) == FULL
