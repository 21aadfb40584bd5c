"""RepairCellMetadata on its own: a submission's nbgrader metadata is made the source's before nbgrader reads it.

Runs the preprocessor on the real ``04_evaluation`` source and its real
nbgrader release (generate_assignment); the same damage graded end to end is
in test_adversarial.py (``forged_metadata``, ``stripped_metadata``).
"""

from __future__ import annotations

import copy

import pytest
from traitlets.config import Config

from grader.catalogue import read_notebook, select_assignments
from grader.autograde.settings import apply_course_settings
from grader.course import Course
from grader.autograde.preprocessors import RepairCellMetadata

ASSIGNMENT = "04_evaluation"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = Course(tmp_path_factory.mktemp("repair") / "course", sandbox=False)
    [assignment] = select_assignments(course.notebooks_dir, [ASSIGNMENT])
    course.release(assignment)
    return course


def repaired(course, nb):
    config = Config()
    apply_course_settings(config, course.root, sandbox=False)
    resources = {"nbgrader": {"assignment": ASSIGNMENT, "notebook": ASSIGNMENT}}
    return RepairCellMetadata(config=config).preprocess(copy.deepcopy(nb), resources)[0]


def released(course):
    return read_notebook(course.path("release", "", ASSIGNMENT) / f"{ASSIGNMENT}.ipynb")


def grading(nb) -> list[tuple[str, dict]]:
    """(cell source's first line, nbgrader metadata less the checksum) for each nbgrader cell, in order."""
    return [(c.source.split("\n", 1)[0], {k: v for k, v in c.metadata["nbgrader"].items() if k != "checksum"})
            for c in nb.cells if "nbgrader" in c.metadata]


def by_id(nb, grade_id):
    return next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def test_an_untouched_release_is_left_as_it_is(course):
    assert repaired(course, released(course)) == released(course)


def test_forged_values_are_put_back_and_forged_cells_set_aside(course):
    nb = released(course)
    nb.cells[by_id(nb, "ex1_baseline_tests")].metadata["nbgrader"]["points"] = 100
    nb.cells[by_id(nb, "ex2_confusion_counts")].metadata["nbgrader"].update(grade=True, points=50, solution=False)
    fake = copy.deepcopy(nb.cells[by_id(nb, "ex1_baseline_tests")])
    fake.id, fake.source = "forged", "pass"
    nb.cells.insert(0, fake)  # an earlier cell claiming a test's grade_id
    fixed = repaired(course, nb)
    assert grading(fixed) == grading(released(course))
    assert fixed.cells[0].source == "pass" and "nbgrader" not in fixed.cells[0].metadata


def test_a_cell_that_lost_its_metadata_gets_it_back_by_its_id(course):
    nb = released(course)
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)
    fixed = repaired(course, nb)
    assert [c.id for c in fixed.cells] == [c.id for c in released(course).cells], "nothing inserted or moved"
    assert grading(fixed) == grading(released(course))


def test_a_deleted_solution_cell_comes_back_as_its_stub_before_its_tests(course):
    nb = released(course)
    del nb.cells[by_id(nb, "ex2_confusion_counts")]
    fixed = repaired(course, nb)
    restored = by_id(fixed, "ex2_confusion_counts")
    assert by_id(fixed, "ex2_confusion_counts_tests") == restored + 1
    assert fixed.cells[restored].source.endswith("raise NotImplementedError()")
    assert fixed.cells[restored].id not in {c.id for c in nb.cells}, "a fresh cell id"
    assert [g for _, g in grading(fixed)] == [g for _, g in grading(released(course))]


def test_a_solution_cell_without_metadata_or_id_is_found_in_its_place_but_a_demo_is_not(course):
    nb = released(course)
    solution = nb.cells[by_id(nb, "ex2_confusion_counts")]
    del solution.metadata["nbgrader"]
    solution.id, solution.source = "renamed", "def confusion_counts(y_true, y_pred):\n    return 0, 0, 0, 0"
    fixed = repaired(course, nb)
    assert fixed.cells[by_id(fixed, "ex2_confusion_counts")].source == solution.source
    # A demo cell (as released) between two exercises is never taken for a missing solution.
    nb = released(course)
    del nb.cells[by_id(nb, "ex3_precision_recall_f1")]
    fixed = repaired(course, nb)
    assert fixed.cells[by_id(fixed, "ex3_precision_recall_f1")].source.endswith("raise NotImplementedError()")


def test_a_deleted_test_cell_is_put_back_after_the_cell_before_it(course):
    nb = released(course)
    del nb.cells[by_id(nb, "ex2_confusion_counts_tests")]
    fixed = repaired(course, nb)
    assert by_id(fixed, "ex2_confusion_counts_tests") == by_id(fixed, "ex2_confusion_counts") + 1
    assert [g for _, g in grading(fixed)] == [g for _, g in grading(released(course))]
