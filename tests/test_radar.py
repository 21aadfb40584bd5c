"""The learner report's radar chart, read back from the page's inline SVG as a reader would see it.

The chart is measured, not compared with the code that drew it: the centre and
the outer ring come from the spokes drawn on the page, and each corner of the
learner's polygon must sit on its stage's spoke at level/top of its length.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import pytest

from grader.assessment.proficiency import Outcome, assess
from grader.catalogue import read_exercises
from grader.paths import NOTEBOOKS_DIR
from grader.reporting.learner import write_learner_report

SVG = "{http://www.w3.org/2000/svg}"


def _chart(html: str) -> ET.Element:
    [svg] = re.findall(r'<svg class="chart radar".*?</svg>', html, flags=re.S)
    return ET.fromstring(svg)


def _corners(points: str) -> list[tuple[float, float]]:
    return [tuple(map(float, pair.split(","))) for pair in points.split()]


def _geometry(svg: ET.Element, rubric):
    """The chart's centre, the outer end of each stage's spoke (the first lines drawn), and the top level."""
    lines = list(svg.iter(f"{SVG}line"))[: len(rubric.stages)]
    assert len({(line.get("x1"), line.get("y1")) for line in lines}) == 1, "the spokes share one centre"
    centre = (float(lines[0].get("x1")), float(lines[0].get("y1")))
    spokes = [(float(line.get("x2")), float(line.get("y2"))) for line in lines]
    return centre, spokes, max(max(stage.descriptors) for stage in rubric.stages)


def _fractions(corners, spokes, centre) -> list[float]:
    """For each corner, its distance from the centre as a share of its spoke, checking it lies on the spoke."""
    shares = []
    for (x, y), (end_x, end_y) in zip(corners, spokes):
        length = math.dist(centre, (end_x, end_y))
        share = math.dist(centre, (x, y)) / length
        if share > 1e-9:  # a corner at the centre lies on every spoke
            cross = (end_x - centre[0]) * (y - centre[1]) - (end_y - centre[1]) * (x - centre[0])
            assert abs(cross) / length < 0.5, ("corner off its spoke", (x, y), (end_x, end_y))
        shares.append(share)
    return shares


@pytest.fixture(scope="module")
def learner(tmp_path_factory, rubric):
    """A learner who solved the exercises of the first stages only, and their report page."""
    exercises = read_exercises(NOTEBOOKS_DIR)
    solved = {"dataset", "features", "evaluation"}
    outcomes = [Outcome(e, e.points if e.stage in solved else 0.0, "" if e.stage in solved else "wrong answer")
                for e in exercises]
    result = assess("radar_reader", outcomes, rubric)
    page = write_learner_report(result, tmp_path_factory.mktemp("radar"))
    return result, _chart(page.read_text())


def test_the_learner_polygon_sits_at_each_stage_level(learner, rubric):
    result, svg = learner
    centre, spokes, top = _geometry(svg, rubric)
    [polygon] = [p for p in svg.iter(f"{SVG}polygon") if p.get("class") == "learner"]
    drawn = [round(share * top, 2) for share in _fractions(_corners(polygon.get("points")), spokes, centre)]
    assert drawn == [result.levels[stage] for stage in rubric.stage_ids]
    assert any(level > 0 for level in drawn) and any(level == 0 for level in drawn), drawn


def test_each_role_profile_is_drawn_and_labelled(learner, rubric):
    _, svg = learner
    centre, spokes, top = _geometry(svg, rubric)
    roles = [p for p in svg.iter(f"{SVG}polygon") if p.get("stroke-dasharray")]
    assert len(roles) == len(rubric.roles)
    for polygon, role in zip(roles, rubric.roles):
        drawn = [round(share * top, 2) for share in _fractions(_corners(polygon.get("points")), spokes, centre)]
        assert drawn == [rubric.role_profile(role)[stage] for stage in rubric.stage_ids], role.id
    text = " ".join("".join(t.itertext()) for t in svg.iter(f"{SVG}text"))
    for role in rubric.roles:
        assert f"{role.title} minimum" in text
    for stage in rubric.stages:
        assert stage.title.split()[0] in text, stage.title
    assert "radar_reader" in text
