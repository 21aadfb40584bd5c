"""Per-learner variants, end to end: released with papermill, graded by nbgrader against the grader's seed.

One course releases ``04_evaluation`` with a roster and a secret. Each
learner's copy carries their own ``SEED``; exercise 2a asks them to type two
numbers read off their own confusion matrix. Solved variants get full marks;
a learner who hands in another's notebook, or edits their seed to match one,
loses exercise 2a; a learner not on the roster gets zero with the reason.
Grading goes through ``mlcourse grade`` (worker processes) and through
nbgrader's own ``nbgrader autograde`` in the course folder, which must agree.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grader.catalogue import read_exercises, read_notebook, select_assignments
from grader.commands import release_course
from grader.autograde.settings import COURSE_ID
from grader.course import Course
from grader.grading.gradebook import cohort_outcomes
from grader.errors import CourseError
from grader.grading.pipeline import grade
from grader.authoring.simulate import Profile, solve
from grader.autograde.variants import SEED_MARKER, course_variants, learner_seed, read_roster, read_secret
from mlcourse import evaluation as ev
from mlcourse.examples import make_scored_transactions

ASSIGNMENT = "04_evaluation"
ROSTER = ("amy", "ben", "cyd", "dan", "eve")
SECRET = b"correct horse battery staple, but longer"
EVERYTHING = Profile("all", frozenset({1, 2, 3, 4, 5}), "every tier")


def readings(seed: int) -> tuple[int, int]:
    """What a learner with ``seed`` reads off the confusion matrix the notebook prints: (missed fraud, blocked legit)."""
    tx = make_scored_transactions(seed=seed)
    cm = ev.confusion_matrix(tx["is_fraud"].to_numpy(), (tx["score"].to_numpy() >= 0.5).astype(int), labels=[0, 1])
    return int(cm[1, 0]), int(cm[0, 1])


def typed(seed: int) -> str:
    missed, blocked = readings(seed)
    return f"missed_fraud = {missed}\nblocked_legit = {blocked}\n"


def _solution_cell(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _injected(nb):
    return [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    root = tmp_path_factory.mktemp("variants")
    (root / "roster.csv").write_text("learner,name\n" + "".join(f"{x},{x.title()}\n" for x in ROSTER))
    (root / "secret").write_bytes(SECRET + b"\n")
    course = Course(root / "course")
    log: list[str] = []
    release_course(course, [ASSIGNMENT], log.append, roster=root / "roster.csv", secret_file=root / "secret")
    [assignment] = select_assignments(course.notebooks_dir, [ASSIGNMENT])
    seeds = {learner: learner_seed(SECRET, learner, ASSIGNMENT) for learner in ROSTER}
    variant = {learner: read_notebook(course.root / "variants" / learner / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
               for learner in ROSTER}
    return {"root": root, "course": course, "log": log, "seeds": seeds, "variant": variant,
            "source": read_notebook(assignment.folder / f"{ASSIGNMENT}.ipynb"),
            "release": read_notebook(course.path("release", "", ASSIGNMENT) / f"{ASSIGNMENT}.ipynb")}


def solved_variant(released, learner: str, seed_for_readings: int | None = None):
    """``learner``'s own variant, solved, with exercise 2a's two numbers typed as read off their matrix."""
    nb = solve(released["variant"][learner], released["source"], EVERYTHING)
    seed = released["seeds"][learner] if seed_for_readings is None else seed_for_readings
    _solution_cell(nb, "ex2a_read_confusion").source = typed(seed)
    return nb


@pytest.fixture(scope="module")
def graded(released):
    """amy, ben, cyd hand in their solved variants; dan hands in amy's; eve sets her SEED to amy's (twice) and
    types amy's numbers; zed, not on the roster, hands in a solved notebook."""
    seeds, submissions = released["seeds"], released["root"] / "submissions"
    handed_in = {learner: solved_variant(released, learner) for learner in ("amy", "ben", "cyd")}
    handed_in["dan"] = handed_in["amy"]
    forged = solved_variant(released, "eve", seed_for_readings=seeds["amy"])
    _injected(forged)[0].source = f"SEED = {seeds['amy']}\n"
    # ... and, in case the grader replaces that cell, sets it again in a cell of her own.
    forged.cells.insert(forged.cells.index(_injected(forged)[0]) + 1,
                        nbformat.v4.new_code_cell(f"SEED = {seeds['amy']}"))
    handed_in["eve"] = forged
    handed_in["zed"] = solved_variant(released, "amy")
    for learner, nb in handed_in.items():
        folder = submissions / learner / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{ASSIGNMENT}.ipynb")
    course = released["course"]
    log: list[str] = []
    summary = grade(course, submissions, [ASSIGNMENT], progress=log.append, workers=2)
    exercises = read_exercises(course.notebooks_dir, [ASSIGNMENT])
    return {"summary": summary, "log": log, "exercises": exercises,
            "outcomes": cohort_outcomes(course, exercises), "full": sum(e.points for e in exercises)}


def _total(outcomes) -> float:
    return sum(o.earned for o in outcomes)


def test_seeds_depend_on_secret_learner_and_assignment():
    seed = learner_seed(SECRET, "amy", ASSIGNMENT)
    assert seed == learner_seed(SECRET, "amy", ASSIGNMENT) and 0 <= seed < 2**31
    others = {learner_seed(SECRET, "ben", ASSIGNMENT), learner_seed(SECRET, "amy", "05_calibration"),
              learner_seed(SECRET + b"!", "amy", ASSIGNMENT), learner_seed(SECRET, "amy\0", ASSIGNMENT[1:])}
    assert seed not in others and len(others) == 4
    seeds = [learner_seed(SECRET, f"learner{i}", ASSIGNMENT) for i in range(2000)]
    assert len(set(seeds)) == len(seeds) and max(seeds) > 2**30  # spread over the 31 bits


def test_bad_rosters_and_secrets_are_refused_with_the_reason(tmp_path):
    cases = {"learner\namy\namy\n": "line 3: learner 'amy' is listed twice",
             "learner\namy\nnot ok!\n": "line 3: 'not ok!' is not a valid learner id",
             "name\nAmy\n": "needs a header with a 'learner' (or 'id') column",
             "": "needs a header"}
    for text, message in cases.items():
        (tmp_path / "roster.csv").write_text(text)
        with pytest.raises(CourseError, match=message.replace("(", r"\(").replace(")", r"\)")):
            read_roster(tmp_path / "roster.csv")
    (tmp_path / "roster.csv").write_text("id\namy\n")  # nbgrader's own student CSV works as it is
    assert read_roster(tmp_path / "roster.csv") == ("amy",)
    (tmp_path / "short").write_text("too short\n")
    with pytest.raises(CourseError, match="needs at least 16"):
        read_secret(tmp_path / "short")
    with pytest.raises(CourseError, match="cannot read the course secret"):
        read_secret(tmp_path / "missing")
    # From the command line: one line, exit status 2, and nothing released.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    run = subprocess.run([sys.executable, "-m", "grader.cli", "release", ASSIGNMENT, "--course-dir",
                          str(tmp_path / "course"), "--per-learner", str(tmp_path / "roster.csv")],
                         capture_output=True, text=True, env=env)
    assert run.returncode == 2 and "need both a roster (--per-learner) and a secret" in run.stderr, run.stderr
    run = subprocess.run([sys.executable, "-m", "grader.cli", "release", ASSIGNMENT, "--course-dir",
                          str(tmp_path / "course"), "--per-learner", str(tmp_path / "roster.csv"),
                          "--secret-file", str(tmp_path / "short")], capture_output=True, text=True, env=env)
    assert run.returncode == 2 and "needs at least 16" in run.stderr and not (tmp_path / "course" / "release").exists()


def test_each_learner_gets_their_own_seed_injected_by_papermill(released):
    seeds, release = released["seeds"], released["release"]
    for learner, nb in released["variant"].items():
        [injected] = _injected(nb)
        assert injected.source.strip().endswith(f"SEED = {seeds[learner]}")
        parameters = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
        assert nb.cells.index(injected) == parameters + 1
        assert nb.metadata["papermill"]["parameters"] == {"SEED": seeds[learner]}
        assert "input_path" not in nb.metadata["papermill"], "the course's paths stay out of learners' notebooks"
        # Everything else is the released student version, nbgrader metadata included.
        rest = [c for c in nb.cells if c is not injected]
        assert [(c.source, c.metadata.get("nbgrader")) for c in rest] == \
               [(c.source, c.metadata.get("nbgrader")) for c in release.cells]
    assert "5/5 learners' variants written" in "\n".join(released["log"])
    # Their data, and so the answers to exercise 2a, really differ.
    assert len({readings(seed) for seed in seeds.values()}) == len(ROSTER)
    recorded = course_variants(released["course"].root)
    assert recorded.roster == ROSTER and recorded.assignments == (ASSIGNMENT,)


def test_solved_variants_get_full_marks(graded):
    for learner in ("amy", "ben", "cyd"):
        outcomes = graded["outcomes"][learner]
        assert _total(outcomes) == graded["full"], [(o.exercise.grade_id, o.reason) for o in outcomes if o.reason]


@pytest.mark.parametrize("learner", ["dan", "eve"])
def test_another_learners_variant_or_a_forged_seed_loses_the_readings(graded, learner):
    """dan hands in amy's notebook; eve sets her SEED to amy's: both are checked against their own seed."""
    outcomes = {o.exercise.grade_id: o for o in graded["outcomes"][learner]}
    assert _total(outcomes.values()) == graded["full"] - 1
    reading = outcomes["ex2a_read_confusion_tests"]
    assert reading.earned == 0 and reading.reason.startswith("wrong answer: missed_fraud"), reading.reason


def test_the_grader_runs_each_submission_with_the_seed_it_derives(released, graded):
    course, seeds = released["course"], released["seeds"]
    for learner in ("amy", "dan", "eve"):
        nb = read_notebook(course.path("autograded", learner, ASSIGNMENT) / f"{ASSIGNMENT}.ipynb")
        [injected] = _injected(nb)
        assert injected.source.strip().endswith(f"SEED = {seeds[learner]}"), (learner, injected.source)
        [test] = [c for c in nb.cells if SEED_MARKER in c.source]
        assert f"seed={seeds[learner]})" in test.source
    # The secret itself never reaches a learner's kernel or notebook.
    autograded = course.path("autograded", "eve", ASSIGNMENT) / f"{ASSIGNMENT}.ipynb"
    assert SECRET.decode() not in autograded.read_text()


def test_a_learner_not_on_the_roster_gets_zero_with_the_reason(graded):
    [failure] = graded["summary"].failures
    assert failure.learner == "zed" and "not on the roster" in failure.message
    outcomes = graded["outcomes"]["zed"]
    assert _total(outcomes) == 0
    assert {o.reason for o in outcomes} == {f"submitted notebook could not be graded: {failure.message}"}


def test_nbgrader_autograde_in_the_course_folder_uses_the_same_seeds(released, graded, tmp_path):
    """nbgrader's own CLI, in a copy of the course folder, reads the variants record and agrees."""
    from nbgrader.api import Gradebook

    course = Path(shutil.copytree(released["course"].root, tmp_path / "course"))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for learner in ("ben", "dan"):
        run = subprocess.run(["nbgrader", "autograde", ASSIGNMENT, "--student", learner, "--force"], cwd=course,
                             capture_output=True, text=True, env=env)
        assert run.returncode == 0, run.stderr[-3000:]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb:
        scores = {learner: gb.find_submission(ASSIGNMENT, learner).score for learner in ("ben", "dan")}
    assert scores == {"ben": graded["full"], "dan": graded["full"] - 1}


def test_feedback_shows_the_learner_their_own_variant(released, graded):
    from grader.commands import feedback_course

    [page] = feedback_course(released["course"], [ASSIGNMENT], ["ben"], progress=lambda line: None)
    text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))  # what a reader sees: highlighting splits code
    assert f"SEED = {released['seeds']['ben']}" in text and SECRET.decode() not in text

