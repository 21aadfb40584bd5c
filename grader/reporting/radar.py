"""The learner report's radar chart, as geometry for an inline SVG (``templates/_radar.svg.j2``).

A learner's page shows their stage levels over each role's required profile.
Drawn by matplotlib it cost about 0.15 s and 290 KB of PNG per learner; as SVG
the rubric's part (rings, axes, labels, role profiles) is computed once per
cohort, each learner adds one polygon, and the page stays a few kilobytes,
crisp on paper and with its labels as text. The cohort's figures stay matplotlib.

All coordinates are SVG user units in a view box ``WIDTH`` wide (its height
grows with the legend), with
level 0 at the centre and the rubric's top level on the outer ring.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from grader.assessment.rubric import CapstoneRule, LevelRule, Rubric

WIDTH = 640
CENTRE_X, CENTRE_Y, RADIUS = 320, 215, 160
LEGEND_Y = 430  # the first legend row, below the chart
LEGEND_ROW = 18
LABEL_CHARACTERS = 20  # a stage label wraps onto a new line before it grows longer than this

# One colour and dash pattern per role, lowest first, so that roles whose
# all-stage profiles coincide (Senior and Staff) stay distinguishable.
ROLE_STYLES = (("#2b8a3e", "7 4"), ("#1864ab", "9 3 2 3"), ("#862e9c", "2 3"), ("#495057", "7 4"))
LEARNER_COLOUR = "#e8590c"


@dataclass(frozen=True)
class Axis:
    """One stage's spoke: from the centre to ``(x, y)``, its label's lines from ``(label_x, label_y)``."""

    x: float
    y: float
    label: tuple[str, ...]
    label_x: float
    label_y: float
    anchor: str  # SVG text-anchor: start, middle or end


@dataclass(frozen=True)
class RoleTrace:
    """A role's required profile as a polygon, and its "some of these stages" rules as star points."""

    title: str
    colour: str
    dash: str
    points: str  # SVG polygon points, "x,y x,y ..."
    stars: tuple[tuple[float, float], ...]
    star_text: str  # the legend's words for the stars ("" when the role has none)


@dataclass(frozen=True)
class RadarLayout:
    """Everything the chart shares between learners of one rubric."""

    width: int
    height: int
    centre_x: float
    centre_y: float
    legend_y: float
    top_level: int
    axes: tuple[Axis, ...]
    rings: tuple[tuple[int, str, float, float], ...]  # (level, polygon points, label x, label y)
    roles: tuple[RoleTrace, ...]
    stage_ids: tuple[str, ...]
    learner_colour: str = LEARNER_COLOUR

    def polygon(self, levels: dict[str, int]) -> str:
        """SVG points of the polygon through ``levels`` (stage id -> level, 0..top_level) in stage order."""
        return _points([self._at(i, levels[stage]) for i, stage in enumerate(self.stage_ids)])

    def vertices(self, levels: dict[str, int]) -> list[tuple[float, float]]:
        """The polygon's corners, one per stage, for the markers."""
        return [self._at(i, levels[stage]) for i, stage in enumerate(self.stage_ids)]

    def legend(self, learner: str) -> list[tuple[float, str, str, str, str]]:
        """Legend rows, top down: (y, kind, colour, dash, text), kind "line" (a role), "star" or "learner"."""
        rows = [("line", role.colour, role.dash, role.title) for role in self.roles]
        rows += [("star", role.colour, "", f"{role.title.split(' minimum')[0]}: {role.star_text}")
                 for role in self.roles if role.stars]
        rows.append(("learner", self.learner_colour, "", learner))
        return [(self.legend_y + LEGEND_ROW * i, *row) for i, row in enumerate(rows)]

    def _at(self, index: int, level: float) -> tuple[float, float]:
        return _polar(index, len(self.stage_ids), RADIUS * level / self.top_level)


def _polar(index: int, count: int, distance: float) -> tuple[float, float]:
    """The point ``distance`` units from the centre on spoke ``index`` of ``count`` (spoke 0 points up, clockwise)."""
    angle = -math.pi / 2 + 2 * math.pi * index / count
    return round(CENTRE_X + distance * math.cos(angle), 1), round(CENTRE_Y + distance * math.sin(angle), 1)


def _points(corners: list[tuple[float, float]]) -> str:
    return " ".join(f"{x},{y}" for x, y in corners)


def _wrap(text: str) -> tuple[str, ...]:
    """``text`` in lines of at most LABEL_CHARACTERS, broken between words (a longer word keeps a line)."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= LABEL_CHARACTERS:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return tuple(lines)


def _anchor(x: float) -> str:
    if abs(x - CENTRE_X) < 8:
        return "middle"
    return "start" if x > CENTRE_X else "end"


def radar_layout(rubric: Rubric) -> RadarLayout:
    """The chart's shared geometry for ``rubric`` (its stages in roadmap order, its roles lowest first)."""
    count = len(rubric.stages)
    top = max(max(stage.descriptors) for stage in rubric.stages)
    axes = []
    for index, stage in enumerate(rubric.stages):
        x, y = _polar(index, count, RADIUS)
        label_x, label_y = _polar(index, count, RADIUS + 14)
        lines = _wrap(f"{stage.number}. {stage.title}")
        # Labels above the centre grow upwards, those below downwards, away from the chart.
        first_y = label_y + 4 - (13 * (len(lines) - 1) if label_y < CENTRE_Y - 8 else 0)
        axes.append(Axis(x, y, lines, label_x, round(first_y, 1), _anchor(label_x)))
    rings = tuple((level, _points([_polar(i, count, RADIUS * level / top) for i in range(count)]),
                   CENTRE_X + 3, round(CENTRE_Y - RADIUS * level / top - 2, 1)) for level in range(1, top + 1))
    position = {stage: index for index, stage in enumerate(rubric.stage_ids)}
    roles = []
    for role, (colour, dash) in zip(rubric.roles, ROLE_STYLES):
        profile = rubric.role_profile(role)
        corners = [_polar(i, count, RADIUS * profile[s] / top) for i, s in enumerate(rubric.stage_ids)]
        some = [r for r in role.requires if isinstance(r, LevelRule) and r.at_least < len(r.stages)]
        stars = tuple(_polar(position[s], count, RADIUS * rule.min_level / top) for rule in some for s in rule.stages)
        star_text = "; ".join(f"level {rule.min_level} in any {rule.at_least} of the starred stages" for rule in some)
        capstone = " + capstone" if any(isinstance(r, CapstoneRule) for r in role.requires) else ""
        roles.append(RoleTrace(f"{role.title} minimum{capstone}", colour, dash, _points(corners), stars, star_text))
    legend_rows = len(roles) + sum(1 for role in roles if role.stars) + 1  # + the learner's row
    height = LEGEND_Y + LEGEND_ROW * legend_rows
    return RadarLayout(WIDTH, height, CENTRE_X, CENTRE_Y, LEGEND_Y, top, tuple(axes), rings, tuple(roles), rubric.stage_ids)
