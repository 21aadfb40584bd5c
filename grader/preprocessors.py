"""The course's own steps in nbgrader's autograde and feedback pipelines (see ``nbgrader_config.py``).

* :class:`InjectLearnerSeed` runs first in autograde, for assignments released
  with per-learner variants (:mod:`grader.variants`): the learner's seed, as
  the grader derives it, replaces whatever the submission says.
* :class:`CheckIntegrity` runs after execution: a solution cell that games
  the tests (:mod:`grader.integrity`) zeroes the test cells it could affect,
  with the reason as the error: the whole notebook for tampering with what
  every test relies on, that exercise's tests for using the library's
  reference solution.
* :class:`ScrubHiddenTests` runs when feedback is generated: nbgrader's
  feedback shows the autograded notebook, whose test cells hold the hidden
  tests again (nbgrader issue #917), and whose outputs can show hidden data
  (a traceback line, an assertion message, a learner's ``print`` of its
  inputs). It removes all of that from the cells that have hidden tests.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor
from traitlets import Integer, Unicode

from grader.integrity import check_notebook
from grader.variants import SEED_MARKER, course_variants
from mlcourse.capstone import OUTCOME_MIME

#: The error name a test cell gets when integrity checks zero it.
TAMPERING = "Tampering"


def _error(ename: str, evalue: str):
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class CheckIntegrity(NbGraderPreprocessor):
    """Zero the test cells a tampering solution cell could affect, with the finding as the reason."""

    source_root = Unicode("", help="the course's source folder, holding each exercise's declarations").tag(
        config=True)

    def preprocess(self, nb, resources):
        info = resources.get("nbgrader", {})
        source_path = Path(self.source_root) / info.get("assignment", "") / f"{info.get('notebook', '')}.ipynb"
        if not self.source_root or not source_path.is_file():
            self.log.warning("integrity checks skipped: no source notebook at %s", source_path)
            return nb, resources
        findings = check_notebook(nb, nbformat.read(source_path, as_version=4))
        if not findings:
            return nb, resources
        notebook_wide = [f for f in findings if "reference solution" not in f.message]
        tests_of = _tests_by_solution(nb)
        for finding in findings:
            self.log.warning("integrity: %s", finding)
        for cell in nb.cells:
            if not utils.is_grade(cell) or cell.cell_type != "code":
                continue
            grade_id = cell.metadata["nbgrader"]["grade_id"]
            blame = notebook_wide or [f for f in findings if grade_id in tests_of.get(f.grade_id, ())]
            if blame:
                cell.outputs = [*cell.get("outputs", []), _error(TAMPERING, str(blame[0]))]
        return nb, resources


def _tests_by_solution(nb) -> dict[str, list[str]]:
    """Each solution cell's grade_id -> the graded cells after it, up to the next solution cell."""
    owners: dict[str, list[str]] = {}
    current = None
    for cell in nb.cells:
        grading = cell.get("metadata", {}).get("nbgrader", {})
        if grading.get("solution"):
            current = grading.get("grade_id")
            owners.setdefault(current, [])
        elif grading.get("grade") and current is not None:
            owners[current].append(grading.get("grade_id"))
    return owners


class ScrubHiddenTests(NbGraderPreprocessor):
    """Remove hidden tests, and whatever their run showed, from feedback.

    For a test cell with a hidden region: the source loses that region (as
    in the released notebook); error outputs keep only their name; stream
    and other outputs are dropped, except measured outcomes against
    published targets (the capstone's), which are the learner's own results.
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or "BEGIN HIDDEN TESTS" not in cell.source:
            return cell, resources
        ClearHiddenTests(enforce_metadata=False)._remove_hidden_test_region(cell)
        kept = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "display_data" and OUTCOME_MIME in output.get("data", {}):
                kept.append(output)
            elif output.get("output_type") == "error":
                kept.append(_error(output.get("ename", "Error"),
                                   "a test failed (hidden tests show no details in feedback)"))
        cell.outputs = kept
        return cell, resources


class StderrIsNotFailure(NbGraderPreprocessor):
    """Let a test cell's assertions alone decide its grade.

    nbgrader scores a test cell that wrote anything to stderr as failed, so a
    correct solution that emits a warning (a convergence warning, a
    deprecation, a learner's debug print to stderr) would lose its points.
    The course's tests are plain asserts, so stderr in a graded cell is
    turned into ordinary output: still shown in feedback, no longer a failure.
    """

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and utils.is_grade(cell):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream" and output.get("name") == "stderr":
                    output["name"] = "stdout"
        return cell, resources


class InjectLearnerSeed(NbGraderPreprocessor):
    """Put the learner's own variant seed into a submission before it runs.

    The seed is ``seed`` when given (a grading worker gets it from the grading
    process), else derived from the variants record of the course folder
    ``course_root`` for the learner being graded. The submission's
    ``injected-parameters`` cells are replaced by one holding ``SEED = <seed>``
    right after its ``parameters`` cell, and in graded cells every line marked
    ``# mlcourse: learner-seed`` gets the seed written over ``SEED``: those
    cells are locked and restored from the gradebook, so what they check
    against cannot be changed by the submission. Assignments without variants
    pass through unchanged.
    """

    seed = Integer(None, allow_none=True, help="the learner's seed, if already derived").tag(config=True)
    course_root = Unicode("", help="the course folder, whose variants record gives each learner's seed").tag(
        config=True)

    def preprocess(self, nb, resources):
        info = resources.get("nbgrader", {})
        seed = self.seed if self.seed is not None else self._derived(info.get("student"), info.get("assignment"))
        if seed is None:
            return nb, resources
        cells = [c for c in nb.cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
        parameters = next((i for i, c in enumerate(cells) if "parameters" in c.get("metadata", {}).get("tags", [])), -1)
        injected = nbformat.v4.new_code_cell(f"# Parameters: this learner's variant, set by the grader\nSEED = {seed}\n",
                                             metadata={"tags": ["injected-parameters"]})
        cells.insert(parameters + 1, injected)
        for cell in cells:
            if cell.cell_type == "code" and utils.is_grade(cell) and SEED_MARKER in cell.source:
                cell.source = "\n".join(re.sub(r"\bSEED\b", str(seed), line) if SEED_MARKER in line else line
                                        for line in cell.source.split("\n"))
        nb.cells = cells
        return nb, resources

    def _derived(self, learner: str | None, assignment: str | None) -> int | None:
        variants = course_variants(Path(self.course_root)) if self.course_root else None
        if variants is None or learner is None or not variants.covers(assignment):
            return None
        return variants.seed(learner, assignment)
