"""Proficiency reports: one self-contained HTML page (plus a JSON twin) per learner,
and a cohort CSV.

The HTML embeds its chart and CSS, so a report can be mailed or opened offline.
Reports show outcomes and failure reasons, never test code, so hidden tests
stay hidden.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import io
import json
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from importlib.metadata import version
from pathlib import Path

import jinja2
import numpy as np
from matplotlib.figure import Figure

from grader.assessment.proficiency import Outcome, Proficiency
from grader.assessment.rubric import CapstoneRule, LevelRule, Rubric
from grader.grading.workers import available_cores

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

#: Cohorts at least this large have their reports written by several processes (each costs a start-up).
PARALLEL_FROM = 40

# One colour and line style per role, lowest first, so that roles whose
# all-stage profiles coincide (Senior and Staff) stay distinguishable.
_ROLE_STYLES = (("#2b8a3e", "--"), ("#1864ab", "-."), ("#862e9c", ":"), ("#495057", "--"))


def _some_of_rules(role):
    return [r for r in role.requires if isinstance(r, LevelRule) and r.at_least < len(r.stages)]


class RadarChart:
    """The radar chart of a learner's nine stage levels over each role's required profile.

    The role profiles are drawn once per rubric; each learner only moves their
    own polygon, which makes a cohort's reports several times faster to write.
    A role's "level L in k of these stages" rules cannot be drawn as a line;
    they appear as star markers at level L on the stages they name.
    """

    def __init__(self, rubric: Rubric):
        labels = [f"{stage.number}. {stage.title}" for stage in rubric.stages]
        angles = np.linspace(0, 2 * np.pi, len(labels), endpoint=False)
        self.rubric, self.closed = rubric, np.append(angles, angles[0])
        angle_of = dict(zip(rubric.stage_ids, angles))
        self.fig = Figure(figsize=(6.8, 6.4), dpi=110)
        ax = self.ax = self.fig.add_subplot(projection="polar")
        for role, (color, style) in zip(rubric.roles, _ROLE_STYLES):
            profile = rubric.role_profile(role)
            values = [profile[stage] for stage in rubric.stage_ids]
            extra = " + capstone" if any(isinstance(r, CapstoneRule) for r in role.requires) else ""
            ax.plot(self.closed, values + values[:1], linestyle=style, linewidth=1.6, color=color,
                    label=f"{role.title} minimum{extra}")
            for rule in _some_of_rules(role):
                ax.scatter([angle_of[s] for s in rule.stages], [rule.min_level] * len(rule.stages), marker="*",
                           s=140, color=color, label=f"{role.title}: level {rule.min_level} in any {rule.at_least} "
                                                     "of these")
        zeros = [0] * len(self.closed)
        [self.line] = ax.plot(self.closed, zeros, color="#e8590c", linewidth=2.4, marker="o", label="learner")
        [self.area] = ax.fill(self.closed, zeros, color="#e8590c", alpha=0.25)
        ax.set_xticks(angles)
        ax.set_xticklabels(labels, fontsize=8)
        ax.set_ylim(0, 5.2)
        ax.set_yticks([1, 2, 3, 4, 5])
        self.legend = ax.legend(loc="upper right", bbox_to_anchor=(1.45, 1.15), fontsize=8)
        # The tight crop, measured once with a long name: "tight" on every save would draw each chart twice.
        self.legend.get_texts()[-1].set_text("x" * 24)
        ax.set_title("Stage levels: " + "x" * 24, pad=24)
        self.crop = self.fig.get_tightbbox().padded(0.1)

    def png(self, result: Proficiency) -> bytes:
        levels = [result.levels[stage] for stage in self.rubric.stage_ids]
        closed_levels = levels + levels[:1]
        self.line.set_ydata(closed_levels)
        self.area.set_xy(np.column_stack([self.closed, closed_levels]))
        self.legend.get_texts()[-1].set_text(result.learner)
        self.ax.set_title(f"Stage levels: {result.learner}", pad=24)
        buffer = io.BytesIO()
        self.fig.savefig(buffer, format="png", bbox_inches=self.crop)
        return buffer.getvalue()


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
    return {"generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), "course_version": version("mlcourse")}


def template_environment() -> jinja2.Environment:
    """The report templates (grader/reporting/templates), HTML-escaped, failing on any missing value."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )


def write_learner_report(result: Proficiency, out_dir: Path, radar: RadarChart | None = None) -> Path:
    """Write ``<learner>.html`` and ``<learner>.json`` into ``out_dir``; return the HTML path.

    Pass one ``radar`` for a whole cohort: it draws the role profiles only once.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    record = learner_record(result) | page_stamp()
    (out_dir / f"{result.learner}.json").write_text(json.dumps(record, indent=2))
    html = template_environment().get_template("learner.html.j2").render(
        report=record, radar=base64.b64encode((radar or RadarChart(result.rubric)).png(result)).decode("ascii")
    )
    path = out_dir / f"{result.learner}.html"
    path.write_text(html)
    return path


def _write_chunk(results: list[Proficiency], out_dir: Path) -> list[Path]:
    radar = RadarChart(results[0].rubric)
    return [write_learner_report(result, out_dir, radar) for result in results]


def write_learner_reports(results: list[Proficiency], out_dir: Path, workers: int | None = None) -> dict[str, Path]:
    """Every learner's report (see :func:`write_learner_report`); ``learner -> HTML path``.

    Drawing the charts is most of the work, so a large cohort is split across
    worker processes (default: one per core); a small one is written here.
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
