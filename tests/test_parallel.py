"""Grading at scale: worker processes, a Dask cluster, PostgreSQL, incremental runs and a killed worker.

The reference for every check is nbgrader's own command line, ``nbgrader
autograde``, grading the same submissions one after another in a course
folder that ``mlcourse release`` set up. Everything here runs nbgrader's real
autograde on the real ``04_evaluation`` and ``09_feedback`` notebooks, in the
sandbox; the Dask test runs a real ``LocalCluster`` with worker processes, and
the PostgreSQL test a real server (see ``conftest.postgres_url``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from processes import left_after, sandbox_processes

from grader.catalogue import exercise_blocks, read_exercises, read_notebook, select_assignments
from grader.autograde.settings import COURSE_ID
from grader.course import COURSE_CONFIG_TEXT, Course
from grader.grading.gradebook import cohort_outcomes, learner_outcomes, read_gradebook
from grader.grading.pipeline import grade
from grader.authoring.simulate import Profile, solve, write_submission

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="grading runs in the sandbox")

ASSIGNMENTS = ("04_evaluation", "09_feedback")
COHORT = (
    Profile("full", frozenset({1, 2, 3, 4, 5}), "every exercise"),
    Profile("half", frozenset({1, 2}), "tiers 1-2"),
    Profile("none", frozenset(), "nothing"),
)


def gradebook_dump(db_url: str, learners=None) -> dict:
    """Everything nbgrader's autograde records, by (learner, assignment, notebook, cell)."""
    from nbgrader.api import Gradebook

    dump = {}
    with Gradebook(db_url, COURSE_ID) as gb:
        for assignment in ASSIGNMENTS:
            for submission in gb.assignment_submissions(assignment):
                learner = submission.student.id
                if learners is not None and learner not in learners:
                    continue
                dump[(learner, assignment, "timestamp")] = submission.timestamp
                for nb in submission.notebooks:
                    dump[(learner, assignment, nb.name, "late penalty")] = nb.late_submission_penalty
                    for g in nb.grades:
                        dump[(learner, assignment, nb.name, g.name)] = (g.auto_score, g.manual_score,
                                                                        g.needs_manual_grade)
                    for c in nb.comments:
                        dump[(learner, assignment, nb.name, "comment " + c.name)] = c.auto_comment
    return dump


def graded_cell_errors(course_dir: Path, learners=None) -> dict:
    """Per graded cell of each autograded notebook: its source and the names of its errors."""
    found = {}
    for path in sorted((course_dir / "autograded").glob("*/*/*.ipynb")):
        learner = path.parent.parent.name
        if learners is not None and learner not in learners:
            continue
        for cell in nbformat.read(path, as_version=4).cells:
            grading = cell.metadata.get("nbgrader", {})
            if grading.get("grade"):
                errors = [o.get("ename") for o in cell.get("outputs", []) if o.get("output_type") == "error"]
                found[(learner, path.stem, grading["grade_id"])] = (cell.source, errors)
    return found



def _nbgrader_env() -> dict:
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """Submissions of three learners for both assignments, and nbgrader's own serial grading of them."""
    root = tmp_path_factory.mktemp("parallel")
    reference = Course(root / "reference")
    submissions = root / "submissions"
    for assignment in select_assignments(reference.notebooks_dir, list(ASSIGNMENTS)):
        release = reference.release(assignment)
        for profile in COHORT:
            write_submission(release, assignment, profile, submissions)
    shutil.copytree(submissions, reference.root / "submitted")
    for assignment in ASSIGNMENTS:  # plain `nbgrader autograde`, in the course folder, one learner after another
        run = subprocess.run(["nbgrader", "autograde", assignment, "--force"], cwd=reference.root,
                             capture_output=True, text=True, env=_nbgrader_env())
        assert run.returncode == 0, run.stderr[-3000:]
    return {"root": root, "submissions": submissions, "reference": reference,
            "dump": gradebook_dump(reference.db_url), "outcomes": graded_cell_errors(reference.root)}


@pytest.fixture(scope="module")
def parallel(cohort):
    course = Course(cohort["root"] / "parallel")
    log: list[str] = []
    summary = grade(course, cohort["submissions"], progress=log.append, workers=2)
    return {"course": course, "summary": summary, "log": log}


def _score(dump: dict, learner: str, assignment: str) -> float:
    return sum(value[0] or 0.0 for key, value in dump.items()
               if key[:2] == (learner, assignment) and len(key) == 4 and isinstance(value, tuple))


def test_the_reference_grades_tell_the_learners_apart(cohort):
    dump = cohort["dump"]
    for assignment in ASSIGNMENTS:
        assert _score(dump, "full", assignment) > _score(dump, "half", assignment) > 0
        assert _score(dump, "none", assignment) == 0


def test_parallel_grading_records_exactly_what_nbgrader_records_serially(cohort, parallel):
    assert not parallel["summary"].failures, parallel["log"]
    assert gradebook_dump(parallel["course"].db_url) == cohort["dump"]
    assert graded_cell_errors(parallel["course"].root) == cohort["outcomes"]
    # And so the reports agree: outcomes and reasons (stored at grading time here, read from the notebooks there).
    exercises = read_exercises(cohort["reference"].notebooks_dir, list(ASSIGNMENTS))
    assert cohort_outcomes(parallel["course"], exercises) == cohort_outcomes(cohort["reference"], exercises)


def test_a_run_shows_progress_and_writes_its_summary(parallel):
    summary, log = parallel["summary"], parallel["log"]
    assert summary.workers == "2 worker processes"
    progress = [line for line in log if line.startswith("[")]
    assert [line.split("]")[0] for line in progress] == [f"[{i}/6" for i in range(1, 7)]
    assert all("left)" in line and "failed so far" in line for line in progress)
    written = json.loads((parallel["course"].root / "grading-summary.json").read_text())
    assert len(written["runs"]) == 6 and written["grading_seconds"] > 0
    assert written["phases"]["cells"] > 0 and written["phases"]["kernel_start"] > 0
    assert all(run["notebooks"] and run["notebooks"][0]["cells"] > 0 for run in written["runs"])
    # Both workers graded: the submissions were shared out, not graded by one process.
    assert len({run["worker"] for run in written["runs"]}) == 2


def test_unchanged_submissions_are_skipped_and_changed_ones_graded_again(cohort, parallel, tmp_path):
    shutil.copytree(parallel["course"].root, tmp_path / "course")
    course = Course(tmp_path / "course")
    submissions = shutil.copytree(cohort["submissions"], tmp_path / "submissions")
    before = gradebook_dump(course.db_url)

    again = grade(course, submissions, progress=lambda line: None, workers=2)
    assert [run.unchanged for run in again.runs] == [True] * 6 and not again.graded
    assert gradebook_dump(course.db_url) == before

    # "none" hands in a solved 09_feedback: only that submission is graded again.
    [assignment] = select_assignments(course.notebooks_dir, ["09_feedback"])
    release = course.path("release", "", "09_feedback")
    write_submission(release, assignment, Profile("none", frozenset({1, 2, 3, 4, 5}), "now solved"), submissions)
    changed = grade(course, submissions, progress=lambda line: None, workers=2)
    assert [(run.learner, run.assignment) for run in changed.graded] == [("none", "09_feedback")]
    after = gradebook_dump(course.db_url)
    assert _score(after, "none", "09_feedback") == _score(before, "full", "09_feedback") > 0
    assert {k: v for k, v in after.items() if k[:2] != ("none", "09_feedback")} == \
        {k: v for k, v in before.items() if k[:2] != ("none", "09_feedback")}

    forced = grade(course, submissions, ["09_feedback"], progress=lambda line: None, workers=2, force=True)
    assert sorted(run.learner for run in forced.graded) == ["full", "half", "none"]


def _children(pid: int) -> list[tuple[int, str]]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid:
            found.append((int(entry.name), command))
    return found



def test_killing_a_worker_mid_run_loses_no_grade(cohort):
    from nbgrader.api import Gradebook
    from sqlalchemy import func, select

    from grader.grading.gradebook import LEDGER

    course_dir = cohort["root"] / "killed_worker"
    run = subprocess.Popen([sys.executable, "-m", "grader.cli", "grade", str(cohort["submissions"]),
                            "--course-dir", str(course_dir), "--workers", "2"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_nbgrader_env())
    lines = []
    for line in run.stdout:
        lines.append(line)
        if line.startswith("[1/6]"):
            workers = [pid for pid, command in _children(run.pid) if "spawn_main" in command]
            assert workers, lines
            os.kill(workers[0], signal.SIGKILL)
            break
    out = "".join(lines) + run.communicate(timeout=600)[0]
    assert run.returncode == 0, out
    assert "a grading worker died" in out
    course = Course(course_dir)
    assert gradebook_dump(course.db_url) == cohort["dump"]
    with Gradebook(course.db_url, COURSE_ID) as gb:
        assert gb.db.execute(select(func.count()).select_from(LEDGER)).scalar() == 6
    assert left_after(sandbox_processes) == [], "a killed worker left sandboxed kernels behind"


def _escapee(cohort, port: int) -> Path:
    """A learner whose ex2 solution first opens a connection to the Dask scheduler: allowed only unconfined."""
    folder = cohort["root"] / "escapee_submissions" / "escapee" / "04_evaluation"
    folder.mkdir(parents=True)
    [assignment] = select_assignments(cohort["reference"].notebooks_dir, ["04_evaluation"])
    released = read_notebook(cohort["reference"].path("release", "", "04_evaluation") / "04_evaluation.ipynb")
    nb = solve(released, read_notebook(assignment.notebooks[0]), COHORT[0])
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ex2_confusion_counts")
    cell.source = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=3).close()\n" + cell.source
    nbformat.write(nb, folder / "04_evaluation.ipynb")
    for learner_folder in cohort["submissions"].iterdir():
        shutil.copytree(learner_folder, folder.parent.parent / learner_folder.name)
    return folder.parent.parent


def test_a_dask_cluster_grades_the_same_and_still_confines_learner_code(cohort):
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        port = int(cluster.scheduler_address.rsplit(":", 1)[1])
        submissions = _escapee(cohort, port)
        course = Course(cohort["root"] / "dask")
        log: list[str] = []
        summary = grade(course, submissions, progress=log.append, scheduler=cluster.scheduler_address)
    assert summary.workers.startswith("2 Dask workers at tcp://"), summary.workers
    assert not summary.failures, log
    learners = {p.learner for p in COHORT}
    assert gradebook_dump(course.db_url, learners) == cohort["dump"]
    # On the workers too, learner code has no network: the escape fails, and so every graded cell of ex2 scores
    # zero while every other cell keeps full marks.
    exercises = [e for e in read_exercises(course.notebooks_dir, ["04_evaluation"])]
    outcomes = {o.exercise.grade_id: o for o in learner_outcomes(course, "escapee", exercises)}
    [ex2] = [b for b in exercise_blocks(read_notebook(course.notebooks_dir / "04_evaluation" / "04_evaluation.ipynb"))
             if b.id == "ex2_confusion_counts"]
    assert ex2.graded and all(outcomes[g].earned == 0 and "error" in outcomes[g].reason for g in ex2.graded)
    assert all(o.earned == o.exercise.points for g, o in outcomes.items() if g not in ex2.graded)


def test_a_postgresql_gradebook_takes_two_graders_writing_at_once(cohort, postgres_url, tmp_path):
    course_dir = tmp_path / "course"
    course_dir.mkdir()
    # The course folder's configuration names the gradebook; one grader reads it there, the other gets --db.
    (course_dir / "nbgrader_config.py").write_text(COURSE_CONFIG_TEXT + f"\nc.CourseDirectory.db_url = {postgres_url!r}\n")
    course = Course(course_dir)
    assert course.db_url == postgres_url
    for assignment in select_assignments(course.notebooks_dir, list(ASSIGNMENTS)):
        course.release(assignment)
    halves = {"a": ("full", "half"), "b": ("half", "none")}  # "half" is graded by both at the same time
    folders = {}
    for name, learners in halves.items():
        folders[name] = tmp_path / f"submissions_{name}"
        for learner in learners:
            shutil.copytree(cohort["submissions"] / learner, folders[name] / learner)
    base = [sys.executable, "-m", "grader.cli", "grade", "--course-dir", str(course_dir), "--workers", "2"]
    graders = [subprocess.Popen([*base, str(folders["a"])], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, env=_nbgrader_env()),
               subprocess.Popen([*base, str(folders["b"]), "--db", postgres_url], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, env=_nbgrader_env())]
    outputs = [g.communicate(timeout=600)[0] for g in graders]
    assert [g.returncode for g in graders] == [0, 0], outputs
    assert not (course_dir / "gradebook.db").exists()
    assert gradebook_dump(postgres_url) == cohort["dump"]


def test_a_wrong_worker_count_or_scheduler_fails_before_anything_is_written(cohort, tmp_path):
    for option, message in ((["--workers", "0"], "--workers must be at least 1"),
                            (["--scheduler", "tcp://127.0.0.1:9"], "no Dask scheduler answers at tcp://127.0.0.1:9")):
        run = subprocess.run([sys.executable, "-m", "grader.cli", "grade", str(cohort["submissions"]),
                              "--course-dir", str(tmp_path / "course"), *option],
                             capture_output=True, text=True, env=_nbgrader_env())
        assert run.returncode == 2 and message in run.stderr, run.stderr
        assert not (tmp_path / "course").exists()


def test_grading_threads_get_distinct_sandbox_users():
    import threading

    from grader.autograde.sandbox import WORKER_UID_BASE, worker_sandbox_uid

    uids, ready = [], threading.Barrier(8)

    def take():
        ready.wait()  # all alive at once, as concurrent grading threads are
        uids.append(worker_sandbox_uid())
        ready.wait()

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(uids)) == 8 and all(WORKER_UID_BASE < uid < 2**31 for uid in uids)


def _jobs_one_broken(cohort, tmp_path):
    """A course with 09_feedback released, its template, and three jobs: one that breaks the grader, one
    whose staged folder is gone, and a learner's.

    The broken job's limits are text where a SandboxLimits belongs, so setting
    up its scratch course raises an AttributeError in the grader's own code, not in nbgrader.
    """
    from grader.grading.workers import Job, course_template

    course = Course(tmp_path / "course")
    [assignment] = select_assignments(course.notebooks_dir, ["09_feedback"])
    course.release(assignment)
    folder = cohort["submissions"] / "full" / "09_feedback"
    good = Job("full", "09_feedback", str(folder), "digest", course.limits, True)
    broken = Job("mallory", "09_feedback", str(folder), "digest", "no limits", True)
    gone = Job("ghost", "09_feedback", str(tmp_path / "nowhere"), "digest", course.limits, True)
    return course_template(course, ["09_feedback"], progress=lambda line: None), [broken, gone, good]


def _backends():
    from distributed import LocalCluster

    from grader.grading.workers import DaskWorkers, InlineWorker, ProcessWorkers

    yield InlineWorker()
    yield ProcessWorkers(2)
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        workers = DaskWorkers(cluster.scheduler_address)
        try:
            yield workers
        finally:
            workers.close()


def test_a_submission_that_breaks_the_grader_fails_alone_on_every_backend(cohort, tmp_path):
    template, jobs = _jobs_one_broken(cohort, tmp_path)
    for backend in _backends():
        results = {r.learner: r for r in backend.run(jobs, template, notify=lambda line: None)}
        assert set(results) == {"mallory", "ghost", "full"}, backend.description
        assert results["full"].ok, (backend.description, results["full"].message)
        assert not results["mallory"].ok and not results["ghost"].ok
        assert results["mallory"].message.startswith("the grader failed on this submission (AttributeError"), \
            (backend.description, results["mallory"].message)
        assert results["ghost"].message.startswith("the staged submission could not be read: nowhere could not be"), \
            (backend.description, results["ghost"].message)


def test_a_corrupt_scratch_gradebook_is_each_submissions_failure(cohort, tmp_path):
    import io
    import tarfile

    from grader.grading.workers import InlineWorker, Template

    template, jobs = _jobs_one_broken(cohort, tmp_path)
    archive = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(template.archive)) as old, tarfile.open(fileobj=archive, mode="w") as new:
        for member in old.getmembers():
            if member.name == "gradebook.db":
                member.size = 4096
                new.addfile(member, io.BytesIO(b"not a database".ljust(4096, b"!")))
            else:
                new.addfile(member, old.extractfile(member) if member.isfile() else None)
    corrupt = Template("corrupt", archive.getvalue())
    [good] = [job for job in jobs if job.learner == "full"]
    [result] = InlineWorker().run([good], corrupt, notify=lambda line: None)
    assert not result.ok and "file is not a database" in result.message, result.message


def test_the_template_is_built_once_per_version_of_the_source(parallel):
    from grader.grading.workers import course_template

    log: list[str] = []
    first = course_template(parallel["course"], ASSIGNMENTS, progress=log.append)
    again = course_template(parallel["course"], ASSIGNMENTS, progress=log.append)
    assert first == again and not log, "a cached template is reused"
    assert course_template(parallel["course"], ["09_feedback"], progress=log.append).key != first.key
    assert log == ["preparing the grading template for 1 assignment(s)"]


def test_the_reasons_stored_at_grading_time_are_those_the_notebooks_give(parallel):
    from grader.autograde.outcomes import read_cell_outcomes

    course = parallel["course"]
    stored = read_gradebook(course).cells
    assert len(stored) == 6  # every learner's notebook of both assignments
    for (learner, assignment, notebook), cells in stored.items():
        assert cells == read_cell_outcomes(course.path("autograded", learner, assignment) / f"{notebook}.ipynb",
                                           course.path("source", "", assignment) / f"{notebook}.ipynb")
    reasons = {cell.reason for cells in stored.values() for cell in cells.values()}
    assert "not implemented" in reasons, reasons


def test_a_submission_that_cannot_be_graded_keeps_its_reason_until_it_is(cohort, tmp_path):
    from grader.autograde.limits import SandboxLimits

    submissions = tmp_path / "submissions"
    shutil.copytree(cohort["submissions"] / "full" / "04_evaluation", submissions / "full" / "04_evaluation")
    exercises = read_exercises(cohort["reference"].notebooks_dir, ["04_evaluation"])
    # Too little memory for the kernel even to start: the whole submission fails, not a cell.
    starved = Course(tmp_path / "course", limits=SandboxLimits(memory_mb=40))
    [failure] = grade(starved, submissions, progress=lambda line: None, workers=1).failures
    assert "Kernel died" in failure.message, failure.message
    reasons = {o.reason for o in learner_outcomes(starved, "full", exercises)}
    assert reasons == {f"submitted notebook could not be graded: {failure.message}"}

    graded = Course(tmp_path / "course")  # the same course and gradebook, with room to run
    assert not grade(graded, submissions, progress=lambda line: None, workers=1).failures
    assert all(o.complete for o in learner_outcomes(graded, "full", exercises))

    assert read_gradebook(graded).failures == {}
