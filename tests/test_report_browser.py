"""The reports, opened in a real browser: headless Chromium driven by Playwright.

A learner's report and the cohort report for a small cohort (assessed from
made-up outcomes: no grading needed to render) are loaded from disk, offline.
Each page must load without console errors or failed requests, show its
charts (decoded, sized, and not blank), and show the verdict. Screenshots,
on screen and as printed to PDF, are kept in ``build/test-artifacts/reports``.

Chromium is Debian's (``.ci/run`` installs the ``chromium`` package); Playwright
drives it through ``executable_path`` and downloads no browser of its own.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest

from grader.catalogue import read_exercises
from grader.reporting.cohort import write_cohort_report
from grader.paths import NOTEBOOKS_DIR, PROJECT_ROOT
from grader.assessment.proficiency import Outcome, assess
from grader.reporting.learner import write_learner_report

ARTIFACTS = PROJECT_ROOT / "build" / "test-artifacts" / "reports"


@pytest.fixture(scope="module")
def pages(tmp_path_factory, rubric):
    """Reports for 12 made-up learners of graded strength: one strong, one weak, the rest in between."""
    exercises = read_exercises(NOTEBOOKS_DIR)
    rng = random.Random(7)
    results = []
    for index in range(12):
        skill = index / 11
        solved = [rng.random() < 0.15 + 0.85 * skill for _ in exercises]
        outcomes = [Outcome(e, e.points if ok else 0.0, "" if ok else "wrong answer")
                    for e, ok in zip(exercises, solved)]
        results.append(assess(f"learner{index:02d}", outcomes, rubric))
    out = tmp_path_factory.mktemp("reports")
    learner_pages = {r.learner: write_learner_report(r, out) for r in results}
    return {"learner": learner_pages["learner06"], "strong": learner_pages["learner11"],
            "cohort": write_cohort_report(results, rubric, out), "results": {r.learner: r for r in results}}


def _open(browser, path: Path):
    """The page at ``path``, with the console errors and failed requests seen while it loaded."""
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("requestfailed", lambda request: problems.append(f"failed request {request.url}"))
    page.goto(path.as_uri(), wait_until="load")
    return page, problems


def _chart_is_drawn(page, chart) -> None:
    """The chart (a PNG ``img`` or an inline ``svg``) has a real size and holds a picture: many distinct
    colours, not one flat fill."""
    from PIL import Image

    if chart.evaluate("node => node.tagName.toLowerCase()") == "img":
        size = chart.evaluate("img => [img.complete, img.naturalWidth, img.naturalHeight]")
        assert size[0] and size[1] > 200 and size[2] > 150, size
    else:
        box = chart.bounding_box()
        assert box and box["width"] > 200 and box["height"] > 150, box
    picture = Image.open(io.BytesIO(chart.screenshot())).convert("RGB")
    colours = picture.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 20, "the chart looks blank"
    assert max(count for count, _ in colours) < 0.97 * picture.width * picture.height, "the chart looks blank"


def _keep(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    page.pdf(path=str(ARTIFACTS / f"{name}.pdf"), format="A4", print_background=True)


def test_a_learner_report_renders_with_its_verdict_and_chart(browser, pages):
    result = pages["results"]["learner06"]
    page, problems = _open(browser, pages["learner"])
    assert not problems, problems
    verdict = page.locator(".verdict")
    assert verdict.is_visible()
    expected = result.verdict.title if result.verdict else "None yet"
    assert expected in verdict.inner_text()
    why = page.locator("#why")
    assert why.is_visible() and result.explanation()[0] in why.inner_text()
    charts = page.locator(".chart")
    assert charts.count() == 1 and page.locator("svg.chart.radar").count() == 1  # the radar is inline SVG
    _chart_is_drawn(page, charts.first)
    # Its labels are text a reader can select and search, one per stage.
    labels = page.locator("svg.chart text").all_text_contents()
    assert all(any(stage.title.split()[0] in label for label in labels) for stage in result.rubric.stages), labels
    # Nothing is wider than the page: no sideways scrolling on a laptop screen.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # Every "work on" link leads to an exercise on the page.
    for link in page.locator("#why a").all():
        target = link.get_attribute("href")
        assert target.startswith("#ex-") and page.locator(target.replace("/", "\\/")).count() == 1, target
    _keep(page, "learner")


def test_the_cohort_report_renders_its_charts_and_item_analysis(browser, pages):
    page, problems = _open(browser, pages["cohort"])
    assert not problems, problems
    assert page.locator("#roles-summary").is_visible()
    charts = page.locator("img.chart")
    assert charts.count() == 2
    for index in range(charts.count()):
        _chart_is_drawn(page, charts.nth(index))
    rows = page.locator("#items table").first.locator("tr")
    assert rows.count() == 1 + len(read_exercises(NOTEBOOKS_DIR))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    _keep(page, "cohort")
