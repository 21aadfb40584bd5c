"""Proficiency reports: one self-contained HTML page (plus a JSON twin) per learner,
and a cohort CSV.

The HTML embeds its chart and CSS, so a report can be mailed or opened offline.
Reports show outcomes and failure reasons, never test code, so hidden tests
stay hidden.
"""

from __future__ import annotations

import dataclasses
import functools
import datetime as dt
import json
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from importlib.metadata import version
from pathlib import Path

import jinja2

from grader.assessment.proficiency import Outcome, Proficiency
from grader.grading.workers import available_cores
from grader.reporting.radar import RadarLayout, radar_layout

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

#: Cohorts at least this large have their reports written by several processes (each costs a start-up).
PARALLEL_FROM = 40

def learner_record(result: Proficiency) -> dict:
    """Everything the report shows, as plain data (the JSON twin of the HTML)."""
    rubric = result.rubric
    verdict = result.verdict
    return {
        "learner": result.learner,
        "verdict": verdict.id if verdict else None,
        "verdict_title": verdict.title if verdict else "None yet",
        "explanation": result.explanation(),
        "roles": [
            {
                "id": check.role.id,
                "title": check.role.title,
                "met": check.met,
                "gaps": [
                    {"text": str(g), "requirement": g.requirement, "shortfall": g.shortfall, "exercises": list(g.exercises)}
                    for g in check.gaps
                ],
            }
            for check in result.roles
        ],
        "stages": [
            {
                "id": stage.id,
                "number": stage.number,
                "title": stage.title,
                "level": result.stages[stage.id].level,
                "evidence": result.stages[stage.id].evidence(),
                "descriptor": stage.descriptors.get(result.stages[stage.id].level, "Not yet demonstrated."),
                "tiers": [
                    {
                        "tier": tier.tier,
                        "earned": tier.earned,
                        "possible": tier.possible,
                        "mastered": tier.mastered,
                        "exercises": [_exercise_record(o) for o in tier.outcomes],
                    }
                    for tier in result.stages[stage.id].tiers
                ],
            }
            for stage in rubric.stages
        ],
        "capstone": {
            "assignment": result.capstone.assignment,
            "earned": result.capstone.earned,
            "possible": result.capstone.possible,
            "passed": result.capstone.passed,
            "status": result.capstone.describe(),
            "exercises": [_exercise_record(o) for o in result.capstone.outcomes],
        },
        "mastery_fraction": rubric.mastery_fraction,
        "mastery": dataclasses.asdict(rubric.mastery),
    }


def _exercise_record(outcome: Outcome) -> dict:
    """One exercise's points, reason, and any outcomes its test measured against targets."""
    return {
        "ref": outcome.exercise.ref,
        "stage": outcome.exercise.stage,
        "earned": outcome.earned,
        "possible": outcome.exercise.points,
        "reason": outcome.reason,
        "measurements": [dataclasses.asdict(m) for m in outcome.measurements],
    }


def page_stamp() -> dict:
    """When a report page was written, and by which version of the course."""
    return {"generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), "course_version": _course_version()}


@functools.cache
def _course_version() -> str:
    return version("mlcourse")  # reads the package metadata from disk: once per process, not once per page


@functools.cache
def template_environment() -> jinja2.Environment:
    """The report templates (grader/reporting/templates), HTML-escaped, failing on any missing value.

    One environment per process: it compiles each template once, not once per page.
    """
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )


def write_learner_report(result: Proficiency, out_dir: Path, radar: RadarLayout | None = None) -> Path:
    """Write ``<learner>.html`` and ``<learner>.json`` into ``out_dir``; return the HTML path.

    Pass one ``radar`` (:func:`grader.reporting.radar.radar_layout`) for a whole cohort: its shared
    geometry is then computed once.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    record = learner_record(result) | page_stamp()
    # Compact: an indented dump takes json's pure-Python encoder, which cost more than the page itself.
    (out_dir / f"{result.learner}.json").write_text(json.dumps(record, separators=(",", ":")))
    html = template_environment().get_template("learner.html.j2").render(
        report=record, radar=radar or radar_layout(result.rubric), levels=result.levels)
    path = out_dir / f"{result.learner}.html"
    path.write_text(html)
    return path


def _write_chunk(results: list[Proficiency], out_dir: Path) -> list[Path]:
    radar = radar_layout(results[0].rubric)
    return [write_learner_report(result, out_dir, radar) for result in results]


def write_learner_reports(results: list[Proficiency], out_dir: Path, workers: int | None = None) -> dict[str, Path]:
    """Every learner's report (see :func:`write_learner_report`); ``learner -> HTML path``.

    Rendering and writing a page is most of the work, so a large cohort is split
    across worker processes (default: one per core); a small one is written here.
    """
    workers = workers or available_cores()
    if workers == 1 or len(results) < PARALLEL_FROM:
        paths = _write_chunk(results, out_dir) if results else []
    else:
        chunks = [results[i::workers] for i in range(workers)]
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            written = list(pool.map(_write_chunk, chunks, [out_dir] * workers))
        paths = [path for chunk in written for path in chunk]
    return {path.stem: path for path in sorted(paths)}
