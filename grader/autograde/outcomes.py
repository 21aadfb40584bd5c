"""What an autograded cell says: the error names the grader gives cells, and the one-line reasons reports show.

Every reason a learner reads comes from here: :func:`describe_failure` turns
a test cell's outputs into one line, and the error names below are the ones
the grader's own steps put into cells (the sandbox's execute step, the
integrity check), so that the two cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import nbformat

from grader.assessment.proficiency import Measurement
from grader.catalogue import graded_cells, read_notebook
from mlcourse.capstone import OUTCOME_MIME

#: Error names the grader puts into cells (``ename`` of an error output).
TAMPERING = "Tampering"                 # integrity checks zeroed the cell (grader.autograde.integrity)
KERNEL_DIED = "KernelDied"              # the kernel exited or crashed while this cell or an earlier one ran
UNSTOPPABLE = "CellTimeoutError"        # the cell ran past its time and ignored the interrupt
NOTEBOOK_TIME_LIMIT = "NotebookTimeLimit"  # not run: the notebook had used up its time budget

#: How the reason begins for a submission the grader would not read (a link, a FIFO, too many files, ...).
REFUSED = "submission refused"
NOT_SUBMITTED = "not submitted"
NOT_IMPLEMENTED = "not implemented"


def error_output(ename: str, evalue: str):
    """An nbformat error output, as a kernel would have produced it."""
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


@dataclass(frozen=True)
class CellOutcome:
    """What a graded cell of an autograded notebook shows: why it would lose points, and what it measured."""

    reason: str
    measurements: tuple[Measurement, ...] = ()


def read_cell_outcomes(autograded: Path, source: Path) -> dict[str, CellOutcome] | None:
    """Each graded cell's :class:`CellOutcome` by grade_id; None if the autograded notebook cannot be read.

    The reason is what a learner can act on: a missed target, or the cell's
    error (assertion messages only where the cell has no hidden tests, since
    they may reveal what the hidden tests check; see :func:`describe_failure`).
    """
    try:
        nb = nbformat.read(autograded, as_version=4)
    except Exception:
        return None
    hidden = _cells_with_hidden_tests(source) if source.is_file() else frozenset()
    found = {}
    for cell in graded_cells(nb):
        grade_id = cell.metadata["nbgrader"].get("grade_id")
        outputs = cell.get("outputs", [])
        measurements = read_measurements(outputs)
        missed = [m for m in measurements if not m.passed]
        reason = ("target not met: " + "; ".join(m.describe() for m in missed) if missed
                  else describe_failure(outputs, hide_details=grade_id in hidden))
        found[grade_id] = CellOutcome(reason, measurements)
    return found


@cache
def _cells_with_hidden_tests(source: Path) -> frozenset[str]:
    """grade_ids of the source notebook's test cells that contain hidden tests."""
    return frozenset(
        cell.metadata["nbgrader"].get("grade_id")
        for cell in graded_cells(read_notebook(source))
        if "BEGIN HIDDEN TESTS" in cell.source
    )


def read_measurements(outputs: list) -> tuple[Measurement, ...]:
    """The outcomes a test cell displayed under :data:`OUTCOME_MIME`; malformed ones are skipped."""
    found = []
    for output in outputs:
        data = output.get("data", {}).get(OUTCOME_MIME) if output.get("output_type") == "display_data" else None
        if not isinstance(data, dict):
            continue
        try:
            measured = data.get("measured")
            found.append(Measurement(
                name=str(data["name"])[:120],
                measured=None if measured is None else float(measured),
                target=float(data["target"]),
                comparison=data["comparison"] if data["comparison"] in ("<=", ">=") else "?",
                unit=str(data.get("unit", ""))[:20],
                passed=data.get("passed") is True,
                detail=str(data.get("detail", ""))[:400],
            ))
        except (KeyError, TypeError, ValueError):
            continue
    return tuple(found)


#: The reason for each error name that says the same thing whatever the cell's message.
_FIXED_REASONS = {
    "NotImplementedError": NOT_IMPLEMENTED,
    UNSTOPPABLE: "timed out",
    "KeyboardInterrupt": "timed out",  # the grader interrupts a cell that runs past its time limit
    KERNEL_DIED: "the kernel died (it exited, crashed, hit the CPU-time limit or used up its processes)",
    NOTEBOOK_TIME_LIMIT: "not run: the notebook used up its time limit",
    "MemoryError": "ran out of memory (the sandbox's memory limit)",
}


def describe_failure(outputs: list, hide_details: bool) -> str:
    """One line a learner can act on, from a test cell's outputs.

    With ``hide_details`` (the cell has hidden tests) assertion messages are
    not repeated, since they may reveal what the hidden tests check.
    """
    for output in outputs:
        if output.get("output_type") == "error":
            name, value = output.get("ename", "Error"), str(output.get("evalue", "")).strip()
            if name in _FIXED_REASONS:
                return _FIXED_REASONS[name]
            if name == TAMPERING:
                return f"tampering: {value[:300]}"
            if name == "AssertionError":
                return "wrong answer" if hide_details or not value else f"wrong answer: {value[:200]}"
            return f"error: {name}" + ("" if hide_details or not value else f": {value[:200]}")
    return "partial credit"
