"""The cohort report: every learner's levels and role at a glance, and how well each exercise measures.

For a course author: a heat map of learners x stages, the distribution of
levels per stage, the number of learners at each role, and item analysis
(:mod:`grader.assessment.item_analysis`): each exercise's difficulty and discrimination,
flagged when it is too easy, too hard or does not tell stronger learners from
weaker ones, and each stage's reliability. One self-contained HTML page (inline
charts and CSS) and its JSON twin.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure

from grader.assessment.item_analysis import ItemStats, Reliability, analyse_items, stage_reliabilities
from grader.assessment.proficiency import Outcome, Proficiency, StageResult
from grader.reporting.learner import page_stamp, template_environment
from grader.assessment.rubric import Rubric

#: Level 0 (nothing demonstrated) to 5, light to dark.
LEVEL_COLOURS = ("#f1f3f5", "#d0ebff", "#74c0fc", "#339af0", "#1971c2", "#0b3d91")
#: Beyond this many learners the heat map drops per-cell numbers and learner names (they would not be legible).
LABELLED_LEARNERS = 60
CAPSTONE = "capstone"


def all_outcomes(result: Proficiency) -> list[Outcome]:
    """A learner's outcomes in catalogue order: stage exercises by stage and tier, then the capstone's."""
    staged = [o for stage in result.stages.values() for tier in stage.tiers for o in tier.outcomes]
    return staged + list(result.capstone.outcomes)


def score_matrix(results: list[Proficiency]) -> tuple[list[Outcome], np.ndarray]:
    """The first learner's outcomes (they name the columns) and points earned, learners x exercises.

    Capstone exercises count as stage ``"capstone"``: they judge the Staff rule, not a stage's level.
    """
    columns = all_outcomes(results[0])
    refs = [o.exercise.ref for o in columns]
    rows = []
    for result in results:
        earned = {o.exercise.ref: o.earned for o in all_outcomes(result)}
        rows.append([earned.get(ref, 0.0) for ref in refs])
    return columns, np.array(rows, dtype=float).reshape(len(results), len(refs))


def item_analysis(results: list[Proficiency]) -> tuple[list[ItemStats], list[Reliability]]:
    columns, scores = score_matrix(results)
    capstone = results[0].capstone.assignment
    stages = [CAPSTONE if o.exercise.assignment == capstone else o.exercise.stage for o in columns]
    points = np.array([o.exercise.points for o in columns], dtype=float)
    masters_next = np.array([[o.exercise.tier < 5 and stage != CAPSTONE
                              and r.stages[stage].tiers[o.exercise.tier].mastered
                              for o, stage in zip(columns, stages)] for r in results], dtype=bool)
    items = analyse_items(scores, points, [o.exercise.ref for o in columns], stages,
                          [o.exercise.tier for o in columns], masters_next.reshape(scores.shape))
    return items, stage_reliabilities(scores, points, stages)


def _png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def heatmap_png(results: list[Proficiency], rubric: Rubric) -> str:
    """Learners (rows, strongest first) x stages (columns), coloured by level; base64 PNG."""
    ordered = sorted(results, key=lambda r: (-sum(r.levels.values()), r.learner))
    levels = np.array([[r.levels[s] for s in rubric.stage_ids] for r in ordered])
    labelled = len(ordered) <= LABELLED_LEARNERS
    height = 1.6 + (0.28 * len(ordered) if labelled else 6.0)
    fig = Figure(figsize=(8.5, height), dpi=110)
    ax = fig.add_subplot()
    cmap = ListedColormap(LEVEL_COLOURS)
    image = ax.imshow(levels, cmap=cmap, norm=BoundaryNorm(np.arange(-0.5, 6), cmap.N), aspect="auto",
                      interpolation="nearest")
    ax.set_xticks(range(len(rubric.stage_ids)), [f"{s.number}. {s.title}" for s in rubric.stages], rotation=35,
                  ha="right", fontsize=8)
    if labelled:
        ax.set_yticks(range(len(ordered)), [r.learner for r in ordered], fontsize=8)
        for (row, col), level in np.ndenumerate(levels):
            ax.text(col, row, str(level), ha="center", va="center", fontsize=7,
                    color="white" if level >= 3 else "#212529")
    else:
        ax.set_yticks([])
        ax.set_ylabel(f"{len(ordered)} learners, strongest first")
    colourbar = fig.colorbar(image, ax=ax, ticks=range(6), fraction=0.04)
    colourbar.set_label("level")
    ax.set_title("Stage levels per learner")
    return _png(fig)


def distribution_png(stages: list[dict]) -> str:
    """Per stage, how many learners are at each level 0-5 (stacked bars), from ``cohort_record``'s stages; base64 PNG."""
    counts = np.array([stage["levels"] for stage in stages])
    fig = Figure(figsize=(8.5, 3.8), dpi=110)
    ax = fig.add_subplot()
    left = np.zeros(len(stages))
    labels = [f"{stage['number']}. {stage['title']}" for stage in stages]
    for level in range(6):
        ax.barh(labels, counts[:, level], left=left, color=LEVEL_COLOURS[level], edgecolor="#adb5bd",
                linewidth=0.4, label=f"level {level}")
        left += counts[:, level]
    ax.invert_yaxis()
    ax.set_xlabel("learners")
    ax.tick_params(axis="y", labelsize=8)
    ax.legend(ncols=6, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), frameon=False)
    ax.set_title("Distribution of levels per stage")
    return _png(fig)


def stage_evidence(stage: StageResult) -> str:
    """What any level of a stage can rest on in this release: ``cells per tier 3/3/4/4/3, from 9 exercises``."""
    cells = "/".join(str(len(tier.outcomes)) for tier in stage.tiers)
    exercises = len({(o.exercise.assignment, o.exercise.exercise_id) for tier in stage.tiers for o in tier.outcomes})
    return f"cells per tier {cells}, from {exercises} exercises"


def cohort_record(results: list[Proficiency], rubric: Rubric) -> dict:
    """Everything the cohort page shows, as plain data (its JSON twin)."""
    items, reliabilities = item_analysis(results)
    roles = [{"id": role.id, "title": role.title,
              "learners": sum(1 for r in results if r.verdict is not None and r.verdict.id == role.id)}
             for role in rubric.roles]
    return {
        "learners": len(results),
        "roles": [{"id": None, "title": "None yet", "learners": sum(r.verdict is None for r in results)}, *roles],
        "stages": [{"id": s.id, "number": s.number, "title": s.title,
                    "levels": [sum(r.levels[s.id] == level for r in results) for level in range(6)],
                    "evidence": stage_evidence(results[0].stages[s.id]) if results else ""}
                   for s in rubric.stages],
        "learner_levels": [{"learner": r.learner, "verdict": r.verdict.title if r.verdict else "None yet",
                            "levels": r.levels, "evidence": {s: r.stages[s].evidence() for s in r.stages}}
                           for r in results],
        "items": [item.__dict__ | {"flags": list(item.flags)} for item in items],
        "reliability": [rel.__dict__ for rel in reliabilities],
        "flagged": sum(bool(item.flags) for item in items),
    }


def write_cohort_report(results: list[Proficiency], rubric: Rubric, out_dir: Path) -> Path:
    """Write ``cohort.html`` and ``cohort.json`` into ``out_dir``; return the HTML path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    record = cohort_record(results, rubric) | page_stamp()
    (out_dir / "cohort.json").write_text(json.dumps(record, indent=2))
    html = template_environment().get_template("cohort.html.j2").render(
        cohort=record, heatmap=heatmap_png(results, rubric), distribution=distribution_png(record["stages"]))
    path = out_dir / "cohort.html"
    path.write_text(html)
    return path
