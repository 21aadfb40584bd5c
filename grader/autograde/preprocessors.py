"""The course's own steps in nbgrader's autograde and feedback pipelines (see ``nbgrader_config.py``).

* :class:`RepairCellMetadata` runs first when nbgrader sanitizes a
  submission: every cell gets the nbgrader metadata the source says it has,
  and missing cells are put back, so forged or stripped metadata is undone
  instead of stopping nbgrader with a bare ``KeyError``.
* :class:`InjectLearnerSeed` runs first in autograde, for assignments released
  with per-learner variants (:mod:`grader.autograde.variants`): the learner's seed, as
  the grader derives it, replaces whatever the submission says.
* :class:`CheckIntegrity` runs after execution: a solution cell that games
  the tests (:mod:`grader.autograde.integrity`) zeroes the test cells it could affect,
  with the reason as the error: the whole notebook for tampering with what
  every test relies on, that exercise's tests for using what the exercise
  forbids (in its solution cell, or in a cell the learner added or edited).
* :class:`ScrubHiddenTests` runs when feedback is generated: nbgrader's
  feedback shows the autograded notebook, whose test cells hold the hidden
  tests again (nbgrader issue #917), and whose outputs can show hidden data
  (a traceback line, an assertion message, a learner's ``print`` of its
  inputs). It removes all of that from the cells that have hidden tests.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat
from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions, NbGraderPreprocessor
from traitlets import Integer, Unicode

from grader.autograde.integrity import check_notebook
from grader.autograde.outcomes import TAMPERING, error_output
from grader.autograde.variants import SEED_MARKER, course_variants
from mlcourse.capstone import OUTCOME_MIME

class FromSource(NbGraderPreprocessor):
    """A step that judges a submission against the assignment's source notebook (the instructor's)."""

    source_root = Unicode("", help="the course's source folder, holding each exercise's declarations").tag(
        config=True)

    def source_notebook(self, resources):
        """The source notebook of the notebook being processed, or None (with a warning) if there is none."""
        info = resources.get("nbgrader", {})
        path = Path(self.source_root) / info.get("assignment", "") / f"{info.get('notebook', '')}.ipynb"
        if not self.source_root or not path.is_file():
            self.log.warning("%s skipped: no source notebook at %s", type(self).__name__, path)
            return None
        return nbformat.read(path, as_version=4)


class RepairCellMetadata(FromSource):
    """Give every cell of a submission the nbgrader metadata the source says it has, before nbgrader reads it.

    A submission's metadata is the learner's to edit. nbgrader trusts it: a
    test cell without a ``grade_id``, a forged graded cell, a repeated id, a
    string where a mapping belongs or a deleted solution cell stops its
    sanitizing steps with a bare ``KeyError``. So, first of all:

    * metadata that is not a mapping, nbgrader metadata that is not one, has
      no text ``grade_id``, names a cell the source does not have, or repeats
      one seen earlier, is removed: the cell is an ordinary cell of the learner's;
    * a cell whose ``grade_id`` the source has gets the source's nbgrader
      metadata back (points, grade, solution, locked, schema), whatever it said;
    * a cell of the source that the submission lacks is put back (see
      :meth:`_put_back`): its metadata goes back on the cell with its cell id,
      or, for a solution cell, on the one ordinary code cell in its place;
      otherwise it is inserted, a solution cell as its released stub (its
      tests then say "not implemented"), a test or locked cell for nbgrader
      to restore from the gradebook.

    Each repair is logged with the cell's position and what was wrong.
    """

    def preprocess(self, nb, resources):
        source = self.source_notebook(resources)
        if source is None:
            return nb, resources
        expected = {c.metadata["nbgrader"]["grade_id"]: c for c in source.cells if _nbgrader(c)}
        keep = _keepers(nb, expected)
        for index, cell in enumerate(nb.cells):
            problem = self._restore(cell, expected, keep.get(index))
            if problem:
                self.log.warning("cell %d: %s", index + 1, problem)
        self._put_back_missing(nb, source)
        return nb, resources

    @staticmethod
    def _restore(cell, expected: dict, kept: bool | None) -> str | None:
        """Restore one cell's metadata (``kept``: whether it is the one cell kept for its grade_id)."""
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = nbformat.NotebookNode()
            return "its metadata was not a mapping; cleared"
        if "nbgrader" not in cell.metadata:
            return None
        grading = cell.metadata["nbgrader"]
        grade_id = grading.get("grade_id") if isinstance(grading, dict) else None
        problem = ("nbgrader metadata that is not a mapping" if not isinstance(grading, dict) else
                   "nbgrader metadata without a grade_id" if not isinstance(grade_id, str) else
                   f"grade_id {grade_id!r}, which the assignment does not have" if grade_id not in expected else
                   f"grade_id {grade_id!r}, which another cell has" if not kept else None)
        if problem:
            del cell.metadata["nbgrader"]
            return f"{problem}: removed, the cell counts as the learner's own"
        released = _released_metadata(expected[grade_id])
        # nbgrader's own checksum is checked (and always rewritten) by its OverwriteCells.
        if {k: v for k, v in grading.items() if k != "checksum"} != released:
            cell.metadata["nbgrader"] = {**released, **({"checksum": grading["checksum"]} if "checksum" in grading else {})}
            return f"nbgrader metadata of {grade_id} differed from the assignment's: restored"
        return None

    def _put_back_missing(self, nb, source) -> None:
        """Put back the source's nbgrader cells that ``nb`` lacks, each after the one before it in the source."""
        order = [_nbgrader(c)["grade_id"] for c in source.cells if _nbgrader(c)]
        originals = {_nbgrader(c)["grade_id"]: c for c in source.cells if _nbgrader(c)}

        def index_of(grade_id: str) -> int | None:
            return next((i for i, c in enumerate(nb.cells) if (_nbgrader(c) or {}).get("grade_id") == grade_id), None)

        cursor = 0  # just after the last cell of the source found (or put back) in nb
        for position, grade_id in enumerate(order):
            found = index_of(grade_id)
            if found is None:
                later = (index_of(g) for g in order[position + 1:])
                end = min((i for i in later if i is not None and i >= cursor), default=len(nb.cells))
                found = self._put_back(nb, originals[grade_id], cursor, end, {c.source for c in source.cells})
            cursor = max(cursor, found + 1)

    def _put_back(self, nb, original, start: int, end: int, demos: set[str]) -> int:
        """Put back the source cell ``original``, which ``nb`` lacks; return where it now is.

        ``nb.cells[start:end]`` lie between the source cells before and after it.
        The metadata goes back on the cell that has its cell id, if one has
        (a learner's editor keeps ids), or for a solution cell on the one
        ordinary code cell between its neighbours that is the learner's own
        (not a cell of the source, such as a demo), if there is exactly one.
        Otherwise the cell is inserted: a solution cell as its released stub,
        just before the source cell after it (its tests); a test or locked cell
        as in the source (nbgrader then restores its content), just after the
        source cell before it, or before the one after it if none comes before.
        """
        grading = _released_metadata(original)
        plain = [i for i, c in enumerate(nb.cells) if not _nbgrader(c)]
        same_id = [i for i in plain if nb.cells[i].get("id") == original.get("id")]
        between = [i for i in plain if start <= i < end and nb.cells[i].cell_type == "code"
                   and nb.cells[i].source not in demos]
        if same_id or (grading.get("solution") and not grading.get("grade") and len(between) == 1):
            index = (same_id or between)[0]
            nb.cells[index].metadata["nbgrader"] = grading
            self.log.warning("cell %s had lost its nbgrader metadata: given back", grading["grade_id"])
            return index
        new_cell = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell}.get(
            original.cell_type, nbformat.v4.new_raw_cell)
        cell = new_cell(original.source, metadata={"nbgrader": grading})  # a fresh id: no clash with the learner's
        if grading.get("solution"):
            ClearSolutions(config=self.config)._replace_solution_region(cell, "python")
        index = end if grading.get("solution") or start == 0 else start
        nb.cells.insert(index, cell)
        self.log.warning("cell %s was missing from the submission: put back", grading["grade_id"])
        return index


def _keepers(nb, expected: dict) -> dict[int, bool]:
    """For each cell index claiming a known grade_id: whether it keeps it.

    Of several cells claiming one, the one with the source cell's id keeps it,
    else the last (as nbgrader's DeduplicateIds would).
    """
    claims: dict[str, list[int]] = {}
    for index, cell in enumerate(nb.cells):
        grade_id = (_nbgrader(cell) or {}).get("grade_id")
        if grade_id in expected:
            claims.setdefault(grade_id, []).append(index)
    keep = {}
    for grade_id, indices in claims.items():
        same_id = [i for i in indices if nb.cells[i].get("id") == expected[grade_id].get("id")]
        winner = (same_id or indices)[-1]
        keep.update({i: i == winner for i in indices})
    return keep


def _released_metadata(source_cell) -> dict:
    """The nbgrader metadata a released cell carries (the source's, and its cell type), less the checksum."""
    return {**copy.deepcopy(source_cell.metadata["nbgrader"]), "cell_type": source_cell.cell_type}


def _nbgrader(cell) -> dict | None:
    """The cell's nbgrader metadata, when it is a mapping with a grade_id (what nbgrader's steps assume)."""
    metadata = cell.get("metadata")
    grading = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return grading if isinstance(grading, dict) and isinstance(grading.get("grade_id"), str) else None


class CheckIntegrity(FromSource):
    """Zero the test cells a tampering solution cell could affect, with the finding as the reason."""

    def preprocess(self, nb, resources):
        source = self.source_notebook(resources)
        if source is None:
            return nb, resources
        findings = check_notebook(nb, source)
        if not findings:
            return nb, resources
        notebook_wide = [f for f in findings if not f.forbidden]
        tests_of = _tests_by_solution(nb)
        for finding in findings:
            self.log.warning("integrity: %s", finding)
        for cell in nb.cells:
            if not utils.is_grade(cell) or cell.cell_type != "code":
                continue
            grade_id = cell.metadata["nbgrader"]["grade_id"]
            blame = notebook_wide or [f for f in findings if grade_id in tests_of.get(f.grade_id, ())]
            if blame:
                cell.outputs = [*cell.get("outputs", []), error_output(TAMPERING, str(blame[0]))]
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
                kept.append(error_output(output.get("ename", "Error"),
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
