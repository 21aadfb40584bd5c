"""End to end through nbgrader: release, autograde, gradebook, proficiency reports.

One session-scoped run of the demo (three simulated learners) plus a second
grading run that adds two more submissions to the same gradebook:

* ``source``: the instructor's source notebook, solutions and all, which must
  score full points;
* ``mallory``: a notebook file that is not JSON.

(The per-cell stub/solution check is in test_selfcheck.py.)
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import nbformat

from grader.catalogue import read_exercises, read_notebook, select_assignments
from grader.commands import assess_cohort, grade_course, run_demo
from grader.course import Course
from grader.grading import gradebook
from grader.grading.gradebook import learner_outcomes, read_gradebook
from grader.assessment.proficiency import assess
from grader.authoring.rules import COPY_PASTE, exempt, load_exemptions
from grader.authoring.simulate import DEMO_COHORT, substitute_solutions
from capstone_weak import WEAK_CAPSTONE

PILOT = "04_evaluation"
CAPSTONE = "10_capstone"


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    lines: list[str] = []
    reports = run_demo(out, progress=lines.append)
    course = Course(out / "course")

    # One module is enough for these two: the per-module stub/solution proof
    # is test_selfcheck.py's job, and each autograde costs seconds.
    extra = out / "extra_submissions"
    [pilot] = select_assignments(course.notebooks_dir, [PILOT])
    shutil.copytree(pilot.folder, extra / "source" / pilot.id)
    (extra / "mallory" / pilot.id).mkdir(parents=True)
    (extra / "mallory" / pilot.id / f"{pilot.id}.ipynb").write_text("{ not a notebook")
    summary = grade_course(course, extra, progress=lines.append)
    return {"out": out, "course": course, "reports": reports, "summary": summary, "log": lines}


@pytest.fixture(scope="session")
def outcomes(demo):
    course = demo["course"]
    exercises = read_exercises(course.notebooks_dir)
    return {learner: learner_outcomes(course, learner, exercises) for learner in gradebook.learners(course)}


def test_submitted_solutions_score_full_points(outcomes):
    # "source" submitted the instructor's notebook for the pilot module only.
    submitted = {"source": [o for o in outcomes["source"] if o.exercise.assignment == PILOT], "linus": outcomes["linus"]}
    for learner, graded in submitted.items():
        lost = [(o.exercise.ref, o.reason) for o in graded if not o.complete]
        assert graded and not lost, f"test cells that fail on the solution ({learner}): {lost}"


def test_simulated_profiles_reach_their_tier_as_level(demo, rubric):
    results = {r.learner: r for r in assess_cohort(demo["course"], rubric)}
    stages = {ex.stage for ex in read_exercises(demo["course"].notebooks_dir)}
    solvers = [p for p in DEMO_COHORT if not p.pastes]
    for profile in solvers:
        for stage in stages:
            expected = max(profile.by_stage.get(stage, profile.tiers))
            assert results[profile.learner].levels[stage] == expected, (profile.learner, stage)
    assert len({tuple(results[p.learner].levels.values()) for p in solvers}) == len(solvers)


def test_the_copy_paste_learner_earns_no_role_and_no_stage_above_level_2(demo, rubric):
    """copycat pastes the nearest readable thing into every exercise: no verdict, and no stage above level 2
    except the stages whose modules are still exempt from the copy-paste rule (notebooks/exemptions.yaml)."""
    [copycat] = [p for p in DEMO_COHORT if p.pastes]
    result = {r.learner: r for r in assess_cohort(demo["course"], rubric)}[copycat.learner]
    assert result.verdict is None
    exemptions = load_exemptions(demo["course"].notebooks_dir)
    modules = {ex.stage: ex.assignment for ex in read_exercises(demo["course"].notebooks_dir)
               if ex.assignment != rubric.capstone_assignment}
    held = {stage for stage, module in modules.items() if not exempt(exemptions, module, COPY_PASTE)}
    assert held, "no stage is held to the copy-paste rule yet"
    above = {stage: result.levels[stage] for stage in held if result.levels[stage] > 2}
    assert not above, f"stages a copy-paste learner passes above level 2: {above}"
    page = demo["reports"].learner_pages[copycat.learner].read_text()
    assert "Does not yet meet the requirements of any role." in page


def test_a_broken_submission_is_recorded_and_the_run_goes_on(demo, outcomes):
    summary = demo["summary"]
    [failure] = summary.failures
    assert (failure.learner, failure.assignment) == ("mallory", PILOT)
    assert "not a readable notebook" in failure.message
    assert {run.learner for run in summary.runs if run.ok} == {"source"}
    assert all(o.earned == 0 for o in outcomes["mallory"])
    pilot_reasons = {o.reason for o in outcomes["mallory"] if o.exercise.assignment == PILOT}
    assert pilot_reasons == {"submitted notebook could not be graded: not a readable notebook: "
                             "NotJSONError: Notebook does not appear to be JSON: '{ not a notebook'"}
    # The demo learners graded earlier are untouched by the second run.
    assert all(o.complete for o in outcomes["linus"])


def test_progress_is_reported(demo):
    log = "\n".join(demo["log"])
    assert "[1/4] releasing" in log and "[4/4] writing proficiency reports" in log
    assert "mallory/04_evaluation: FAILED: 04_evaluation.ipynb is not a readable notebook: NotJSONError" in log
    assert "s left)" in log


def test_learner_reports_are_self_contained_and_hide_tests(demo, project_root):
    pages = demo["reports"].learner_pages
    assert set(pages) == {p.learner for p in DEMO_COHORT}
    source = (project_root / "notebooks/04_evaluation/04_evaluation.ipynb").read_text()
    hidden_lines = [
        line.strip()
        for cell in json.loads(source)["cells"]
        for block in ["".join(cell["source"])]
        if "### BEGIN HIDDEN TESTS" in block
        for line in block.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0].splitlines()
        if len(line.strip()) > 12
    ]
    assert hidden_lines, "expected hidden tests in the evaluation notebook"
    for learner, page in pages.items():
        html = page.read_text()
        assert '<svg class="chart radar"' in html and "<link" not in html and "<script" not in html
        assert not [line for line in hidden_lines if line in html], f"hidden test code leaked into {page}"
        record = json.loads(page.with_suffix(".json").read_text())
        assert record["learner"] == learner
        evaluation = next(s for s in record["stages"] if s["id"] == "evaluation")
        assert f"level {evaluation['level']}" in html


def test_reports_explain_what_is_missing(demo):
    """grace stops at tier 4: her report must say which level-5 work would reach the next role."""
    grace = json.loads(demo["reports"].learner_pages["grace"].with_suffix(".json").read_text())
    upcoming = next(r for r in grace["roles"] if not r["met"])
    assert grace["verdict"] != upcoming["id"] and upcoming["gaps"]
    named = [g for g in upcoming["gaps"] if g["exercises"]]
    assert named, upcoming["gaps"]
    for gap in named:
        if gap["requirement"] == "capstone passed":
            assert "of its points (needs 70%)" in gap["shortfall"], gap
        else:
            assert "now level" in gap["shortfall"] or "has " in gap["shortfall"], gap
    # In the HTML each named exercise links to its row in the stage tables.
    html = demo["reports"].learner_pages["grace"].read_text()
    for ref in (ref for gap in named for ref in gap["exercises"]):
        anchor = "ex-" + ref.replace("/", "-")
        assert f'href="#{anchor}"' in html and f'id="{anchor}"' in html
    # Her unsolved tier-5 exercises say why they earned nothing.
    tier5 = [e for s in grace["stages"] for t in s["tiers"] if t["tier"] == 5 for e in t["exercises"]]
    tier5 += [e for e in grace["capstone"]["exercises"] if e["earned"] == 0]
    unsolved = [e for e in tier5 if e["earned"] == 0]
    assert unsolved, "grace leaves tier 5 unsolved"
    assert all(e["reason"] == "not implemented" or e["reason"].startswith("error: NameError") for e in unsolved)


def test_cohort_csv_matches_the_assessments(demo, rubric):
    rows = demo["reports"].cohort_csv.read_text().splitlines()
    header = rows[0].split(",")
    assert header[:2] == ["learner", "verdict"] and set(rubric.stage_ids) <= set(header)
    results = {r.learner: r for r in assess_cohort(demo["course"], rubric)}
    for row in rows[1:]:
        cells = dict(zip(header, row.split(",")))
        assert int(cells["evaluation"]) == results[cells["learner"]].levels["evaluation"]


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "grader.cli", *args], capture_output=True, text=True, cwd=cwd)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("grade", "{tmp}/nowhere"), "submissions folder {tmp}/nowhere does not exist"),
        (("release", "99_astrology"), "unknown assignment 99_astrology; the course has: 01_dataset, "),
        (("grade", "{tmp}", "--assignment", "99_astrology"), "unknown assignment 99_astrology"),
        (("report",), "has no learners yet; run 'mlcourse grade' first"),
    ],
)
def test_cli_errors_are_one_line(tmp_path, args, expected):
    args = [a.format(tmp=tmp_path) for a in args]
    result = _cli(*args, "--course-dir", str(tmp_path / "course"))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert expected.format(tmp=tmp_path) in result.stderr


def test_cli_help_lists_the_commands():
    """Each command is a line of its own under the command list, with its help; nothing else is."""
    result = _cli("--help")
    assert result.returncode == 0, result.stderr
    listed = re.findall(r"^    ([a-z]+)(?: {2,}\S|$)", result.stdout, flags=re.MULTILINE)
    assert sorted(listed) == sorted(["release", "grade", "feedback", "report", "demo", "rubric", "bench", "check",
                                     "lint", "notebooks"])


def test_learner_validate_flags_unsolved_work_and_passes_solved_work(demo):
    """What nbgrader's Validate button runs for a learner, on two demo submissions."""
    nbgrader = str(Path(sys.executable).parent / "nbgrader")

    def validate(learner):
        path = demo["out"] / "submissions" / learner / "04_evaluation" / "04_evaluation.ipynb"
        return subprocess.run([nbgrader, "validate", str(path)], capture_output=True, text=True, cwd=path.parent)

    solved, partial = validate("linus"), validate("ada")
    assert "Success! Your notebook passes all the tests." in solved.stdout, solved.stdout[-2000:]
    assert "VALIDATION FAILED ON" in partial.stdout, partial.stdout[-2000:]
    # Validate runs visible tests only; hidden test code must not reach the learner.
    assert "BEGIN HIDDEN TESTS" not in partial.stdout


def test_demo_verdicts_follow_the_roadmap_roles(demo, rubric):
    """With all nine stages and the capstone in the course, the simulated profiles earn the roles they were built for."""
    results = {r.learner: r for r in assess_cohort(demo["course"], rubric)}
    stages = {ex.stage for ex in read_exercises(demo["course"].notebooks_dir)}
    assert stages == set(rubric.stage_ids)
    assert results["ada"].verdict.id == "junior"
    linus = results["linus"]
    assert linus.verdict.id == "staff" and set(linus.levels.values()) == {5} and linus.capstone.passed
    # grace is Senior; the capstone, half delivered, is not the only thing between her and Staff,
    # and the gap names the deliveries she left undone.
    grace = results["grace"]
    assert grace.verdict.id == "senior" and not grace.capstone.passed
    capstone_gap = next(gap for gap in grace.next_role.gaps if gap.requirement == "capstone passed")
    assert capstone_gap.exercises == (f"{CAPSTONE}/cap3_latency_tests", f"{CAPSTONE}/cap4_monitor_tests")


def _capstone_rows(demo, learner):
    record = json.loads(demo["reports"].learner_pages[learner].with_suffix(".json").read_text())
    return {ex["ref"].split("/")[1]: ex for ex in record["capstone"]["exercises"]}


def test_reports_show_each_capstone_outcome_against_its_target(demo):
    linus = _capstone_rows(demo, "linus")
    assert set(linus) == {"cap1_quality_tests", "cap2_calibration_tests", "cap3_latency_tests", "cap4_monitor_tests"}
    for ref, ex in linus.items():
        [measured] = ex["measurements"]
        assert measured["passed"] and ex["earned"] == ex["possible"], (ref, ex)
        value, target = measured["measured"], measured["target"]
        assert value <= target if measured["comparison"] == "<=" else value >= target
    html = demo["reports"].learner_pages["linus"].read_text()
    assert html.count('<span class="yes">yes</span>') >= 4 and "quality (average precision)" in html
    # grace delivered the model and its calibration; serving and monitoring were never measured.
    grace = _capstone_rows(demo, "grace")
    assert [m["passed"] for m in grace["cap1_quality_tests"]["measurements"]] == [True]
    assert [m["passed"] for m in grace["cap2_calibration_tests"]["measurements"]] == [True]
    for ref in ("cap3_latency_tests", "cap4_monitor_tests"):
        assert grace[ref]["measurements"] == [] and grace[ref]["reason"] == "not implemented"
    assert "not measured: not implemented" in demo["reports"].learner_pages["grace"].read_text()


def test_a_weak_capstone_fails_every_target_with_its_measured_outcome(demo, rubric):
    """A plausible but weak delivery: it runs, passes the visible checks, and misses every hidden target."""
    course = demo["course"]
    [capstone] = select_assignments(course.notebooks_dir, [CAPSTONE])
    released = read_notebook(course.path("release", "", CAPSTONE) / f"{CAPSTONE}.ipynb")
    submission = demo["out"] / "weak_submissions" / "weakling" / CAPSTONE
    submission.mkdir(parents=True)
    nbformat.write(substitute_solutions(released, WEAK_CAPSTONE), submission / f"{CAPSTONE}.ipynb")
    summary = grade_course(course, submission.parent.parent, [CAPSTONE], progress=lambda line: None)
    assert not summary.failures
    exercises = [ex for ex in read_exercises(course.notebooks_dir) if ex.assignment == CAPSTONE]
    graded = learner_outcomes(course, "weakling", exercises)
    assert len(graded) == 4
    for outcome in graded:
        [measured] = outcome.measurements
        assert outcome.earned == 0 and not measured.passed, outcome
        assert outcome.reason.startswith("target not met: " + measured.name), outcome.reason
    result = assess("weakling", learner_outcomes(course, "weakling", read_exercises(course.notebooks_dir)), rubric)
    assert not result.capstone.passed and result.capstone.earned == 0


def test_the_demo_writes_the_cohort_report_and_every_export(demo, outcomes):
    import csv

    reports = demo["reports"]
    cohort = json.loads(reports.cohort_page.with_suffix(".json").read_text())
    verdicts = {learner: json.loads(page.with_suffix(".json").read_text())["verdict_title"]
                for learner, page in reports.learner_pages.items()}
    assert {role["title"]: role["learners"] for role in cohort["roles"]} == \
        {title: list(verdicts.values()).count(title) for title in ("None yet", "Junior", "Senior", "Staff")}
    assert len(cohort["items"]) == len(read_exercises(demo["course"].notebooks_dir))
    assert "<img" in reports.cohort_page.read_text() and "Item analysis" in reports.cohort_page.read_text()

    exports = {path.name: path for path in reports.exports}
    assert set(exports) == {"grades.csv", "grades.json", "levels.csv", "levels.json", "roles.csv", "roles.json",
                            "cohort.csv", "lms.csv", "nbgrader-grades.csv"}
    grades = list(csv.DictReader(exports["grades.csv"].open()))
    assert len(grades) == len(reports.learner_pages) * len(cohort["items"])
    assert json.loads(exports["grades.json"].read_text())[0]["learner"] == grades[0]["learner"]
    # The LMS total is the sum of the learner's exercise points; nbgrader's own export agrees per assignment.
    lms = {row["Student ID"]: row for row in csv.DictReader(exports["lms.csv"].open())}
    nbgrader_rows = list(csv.DictReader(exports["nbgrader-grades.csv"].open()))
    for learner in reports.learner_pages:
        earned = sum(float(g["earned"]) for g in grades if g["learner"] == learner)
        total = next(value for key, value in lms[learner].items() if key.startswith("Total"))
        assert float(total) == pytest.approx(earned)
        assert lms[learner]["Proficiency"] == verdicts[learner]
        theirs = sum(float(r["raw_score"]) for r in nbgrader_rows if r["student_id"] == learner)
        assert theirs == pytest.approx(earned)


def test_the_nbgrader_grades_export_is_the_file_nbgrader_writes(demo, tmp_path):
    from nbgrader.api import Gradebook
    from nbgrader.plugins import CsvExportPlugin

    from grader.autograde.settings import COURSE_ID
    from grader.reporting.exports import nbgrader_export

    course = demo["course"]
    plugin = CsvExportPlugin()
    plugin.to = str(tmp_path / "theirs.csv")
    with Gradebook(course.db_url, COURSE_ID) as gb:
        plugin.export(gb)
    ours = nbgrader_export(read_gradebook(course), tmp_path / "ours.csv").read_text()
    assert ours == (tmp_path / "theirs.csv").read_text()
    assert "mallory" in ours  # a learner whose only submission could not be graded still has rows


def test_a_report_reads_the_gradebook_once(demo, rubric, tmp_path, monkeypatch):
    """Every page and export of ``mlcourse report`` comes from one connection to the gradebook."""
    import nbgrader.api

    from grader.commands import report_course

    opened = []
    real = nbgrader.api.Gradebook.__init__

    def counting(self, *args, **kwargs):
        opened.append(args[0] if args else kwargs.get("db_url"))
        real(self, *args, **kwargs)

    monkeypatch.setattr(nbgrader.api.Gradebook, "__init__", counting)
    reports = report_course(demo["course"], rubric, tmp_path / "reports", progress=lambda line: None)
    assert opened == [demo["course"].db_url]
    listed = [line.split(",")[0] for line in reports.cohort_csv.read_text().splitlines()[1:]]
    assert listed == gradebook.learners(demo["course"]) and len(reports.learner_pages) == len(listed)
