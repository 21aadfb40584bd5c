"""Exports for tools: grades, levels and roles as CSV and JSON, nbgrader's own grades CSV, and an LMS import.

Written into ``<reports>/exports/``:

* ``grades.csv`` / ``.json``: one row per learner and exercise (points, stage, tier, reason);
* ``levels.csv`` / ``.json``: one row per learner, a level per stage;
* ``roles.csv`` / ``.json``: one row per learner, the verdict and whether each role is met;
* ``cohort.csv``: one row per learner: verdict, level per stage, capstone, points earned and possible;
* ``nbgrader-grades.csv``: nbgrader's ``CsvExportPlugin`` (what ``nbgrader export`` writes);
* ``lms.csv``: for a learning-management system's gradebook import: one row per
  learner, a points column per assignment with its maximum in the header, the
  total, and the proficiency verdict as a text column.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from grader.assessment.proficiency import Proficiency
from grader.assessment.rubric import Rubric
from grader.grading.gradebook import GradebookRecord
from grader.reporting.cohort import all_outcomes


def _write_csv(path: Path, rows: list[dict]) -> Path:
    """``rows`` (dicts with the same keys, in order) as CSV with a header."""
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else [])
        writer.writeheader()
        writer.writerows(rows)
    return path


def _write_table(out_dir: Path, name: str, rows: list[dict]) -> list[Path]:
    """``name.csv`` and ``name.json`` holding ``rows``."""
    json_path = out_dir / f"{name}.json"
    json_path.write_text(json.dumps(rows, indent=1))
    return [_write_csv(out_dir / f"{name}.csv", rows), json_path]


def grade_rows(results: list[Proficiency]) -> list[dict]:
    return [{"learner": r.learner, "assignment": o.exercise.assignment, "exercise": o.exercise.grade_id,
             "stage": o.exercise.stage, "tier": o.exercise.tier, "earned": o.earned, "possible": o.exercise.points,
             "complete": o.complete, "reason": o.reason}
            for r in results for o in all_outcomes(r)]


def level_rows(results: list[Proficiency], rubric: Rubric) -> list[dict]:
    return [{"learner": r.learner, **{stage: r.levels[stage] for stage in rubric.stage_ids}} for r in results]


def role_rows(results: list[Proficiency], rubric: Rubric) -> list[dict]:
    return [{"learner": r.learner, "verdict": r.verdict.id if r.verdict else "none",
             **{f"{check.role.id}_met": check.met for check in r.roles},
             "capstone_passed": r.capstone.passed} for r in results]


def cohort_rows(results: list[Proficiency], rubric: Rubric) -> list[dict]:
    """One row per learner: verdict, level per stage, capstone passed, and points over the stages' exercises."""
    rows = []
    for result in results:
        outcomes = [o for stage in result.stages.values() for tier in stage.tiers for o in tier.outcomes]
        rows.append({"learner": result.learner, "verdict": result.verdict.id if result.verdict else "none",
                     **{stage: result.levels[stage] for stage in rubric.stage_ids},
                     "capstone_passed": result.capstone.passed,
                     "points_earned": round(sum(o.earned for o in outcomes), 2),
                     "points_possible": round(sum(o.exercise.points for o in outcomes), 2)})
    return rows


def lms_rows(results: list[Proficiency]) -> list[dict]:
    """Points per assignment (column names carry the maximum, as gradebook imports expect), total and verdict."""
    rows = []
    for result in results:
        earned: dict[str, float] = {}
        possible: dict[str, float] = {}
        for outcome in all_outcomes(result):
            assignment = outcome.exercise.assignment
            earned[assignment] = earned.get(assignment, 0.0) + outcome.earned
            possible[assignment] = possible.get(assignment, 0.0) + outcome.exercise.points
        row = {"Student ID": result.learner}
        row |= {f"{a} (max {possible[a]:g})": round(earned[a], 2) for a in sorted(possible)}
        row[f"Total (max {sum(possible.values()):g})"] = round(sum(earned.values()), 2)
        row["Proficiency"] = result.verdict.title if result.verdict else "None yet"
        rows.append(row)
    return rows


NBGRADER_COLUMNS = ("assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
                    "raw_score", "late_submission_penalty", "score", "max_score")


def nbgrader_export(record: GradebookRecord, path: Path) -> Path:
    """nbgrader's grades CSV, the file ``nbgrader export`` (its ``CsvExportPlugin``) writes, byte for byte.

    The plugin asks the database for each learner and assignment, and each
    answer sums that submission's grades in a subquery: 46 s for 500 learners
    and 10 assignments on SQLite. This sums the grades and late penalties of
    the gradebook ``record`` the way nbgrader's column properties do, and
    writes the same rows in the same order and format (a test compares the two
    files).
    """
    raw: dict[tuple[str, str], float] = {}
    for (learner, assignment, _, _), score in record.scores.items():
        raw[learner, assignment] = raw.get((learner, assignment), 0.0) + (score or 0.0)
    lines = [",".join(NBGRADER_COLUMNS)]
    for assignment in record.assignments:
        for student in record.students:
            timestamp, late = record.submissions.get((assignment.name, student.id), ("", 0.0))
            score = raw.get((student.id, assignment.name), 0.0)
            row = [assignment.name, assignment.duedate, timestamp, student.id, student.last_name,
                   student.first_name, student.email, score, late, max(0.0, score - late), assignment.max_score]
            lines.append(",".join("" if value is None else str(value) for value in row))
    path.write_text("\n".join(lines) + "\n")
    return path


def write_exports(results: list[Proficiency], rubric: Rubric, record: GradebookRecord, out_dir: Path) -> list[Path]:
    """Every export for ``results`` (assessed from the gradebook ``record``) into ``out_dir``; returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = _write_table(out_dir, "grades", grade_rows(results))
    written += _write_table(out_dir, "levels", level_rows(results, rubric))
    written += _write_table(out_dir, "roles", role_rows(results, rubric))
    written += [_write_csv(out_dir / "cohort.csv", cohort_rows(results, rubric)),
                _write_csv(out_dir / "lms.csv", lms_rows(results))]
    return [*written, nbgrader_export(record, out_dir / "nbgrader-grades.csv")]
