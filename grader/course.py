"""The nbgrader course: releasing assignments, autograding, reading the gradebook.

nbgrader does the real work through its Python API (``NbGraderAPI``): it makes
the student versions, restores locked and test cells from the gradebook's
checksums, executes submissions and records grades in its gradebook (SQLite by
default). This module only lays out the course directory and calls it.

Course directory layout (nbgrader's own)::

    <root>/source/<assignment>/<notebook>.ipynb       copied from notebooks/
    <root>/release/<assignment>/<notebook>.ipynb      student versions
    <root>/submitted/<learner>/<assignment>/...       submissions being graded
    <root>/autograded/<learner>/<assignment>/...      executed, graded copies
    <root>/gradebook.db                               nbgrader's gradebook
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import nbformat
from traitlets.config import Config

from grader.catalogue import Assignment, graded_cells, notebook_problem, read_notebook
from grader.errors import CourseError
from grader.files import write_tree
from grader.paths import GRADER_DIR, NOTEBOOKS_DIR
from grader.proficiency import Exercise, Measurement, Outcome
from grader.preprocessors import TAMPERING
from grader.sandbox import (
    KERNEL_DIED,
    NOTEBOOK_TIME_LIMIT,
    CleanEnvironmentKernelManager,
    SandboxedKernelManager,
    SandboxLimits,
    find_bwrap,
)
from mlcourse.capstone import OUTCOME_MIME

COURSE_ID = "mlcourse"
LEARNER_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
#: How the reason begins for a submission the grader would not read (a link, a FIFO, too many files, ...).
REFUSED = "submission refused"


def ensure_venv_on_path() -> None:
    """nbgrader's gradebook shells out to ``alembic`` found on PATH; put ours first."""
    bin_dir = str(Path(sys.executable).parent)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != bin_dir:
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def _quiet_nbgrader_logs() -> None:
    # nbgrader logs every copied file at INFO, and its gradebook trips
    # SQLAlchemy's autoflush warning on every autograde; the grader prints its
    # own progress and reports real failures itself.
    from sqlalchemy.exc import SAWarning

    warnings.filterwarnings("ignore", category=SAWarning)
    for name in ("traitlets", "nbgrader", "NbGraderAPI", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


@dataclass(frozen=True)
class GradeRun:
    """What happened when one submission was autograded."""

    learner: str
    assignment: str
    ok: bool
    message: str = ""  # why it failed, one line; empty when ok
    seconds: float = 0.0
    unchanged: bool = False  # graded before from the same files and source: not graded again
    timings: tuple[dict, ...] = ()  # per executed notebook, seconds by phase (grader.sandbox.NotebookTiming)
    worker: str = ""                # host:pid of the worker that graded it


COURSE_CONFIG = "nbgrader_config.py"

COURSE_CONFIG_TEXT = '''"""nbgrader's settings for this course folder, written by `mlcourse release`: yours to edit.

nbgrader's own commands run in this folder (`nbgrader autograde`, the formgrader)
grade exactly as `mlcourse grade` does: the course's preprocessors, the sandbox
and its default limits.
"""
import os

from grader.course import apply_course_settings

c = get_config()  # noqa: F821 - provided by traitlets when this file is loaded
apply_course_settings(c, root=os.path.dirname(os.path.abspath(__file__)))

# To keep the gradebook in PostgreSQL instead of gradebook.db (`mlcourse` commands
# read this line too; their --db option overrides it):
# c.CourseDirectory.db_url = "postgresql://grader@dbhost/mlcourse"
'''


def apply_course_settings(config, root: str | Path, limits: SandboxLimits | None = None,
                          sandbox: bool = True) -> None:
    """Put the course's nbgrader settings for the course folder ``root`` into ``config``, in place.

    ``config`` is a traitlets ``Config``; the settings are ``grader/nbgrader_config.py``
    plus the time and sandbox limits (defaults: :class:`SandboxLimits`). The
    gradebook URL is left to the caller (nbgrader's default: ``<root>/gradebook.db``).
    """
    from traitlets.config.loader import PyFileConfigLoader

    limits = limits or SandboxLimits()
    config.merge(PyFileConfigLoader("nbgrader_config.py", path=str(GRADER_DIR)).load_config())
    config.CourseDirectory.course_id = COURSE_ID
    config.CourseDirectory.root = str(root)
    config.FromSource.source_root = str(Path(root) / "source")  # RepairCellMetadata and CheckIntegrity
    config.InjectLearnerSeed.course_root = str(root)
    config.Execute.timeout = limits.cell_timeout_s
    config.GuardedExecute.notebook_timeout = limits.notebook_timeout_s
    # Unconfined or not, a learner kernel inherits no more of the grader's environment than it needs.
    config.GuardedExecute.kernel_manager_class = SandboxedKernelManager if sandbox else CleanEnvironmentKernelManager
    if sandbox:
        for name in ("memory_mb", "cpu_seconds", "processes", "file_size_mb"):
            setattr(config.SandboxedKernelManager, name, getattr(limits, name))


class Course:
    """An nbgrader course directory bound to this project's source notebooks."""

    def __init__(self, root: str | Path, notebooks_dir: Path = NOTEBOOKS_DIR, db_url: str | None = None,
                 limits: SandboxLimits | None = None, sandbox: bool = True, learner_seed: int | None = None):
        """``limits`` bound every learner kernel (defaults: :class:`SandboxLimits`); with
        ``sandbox=False`` only the time limits apply and learner code runs unconfined.

        The gradebook is ``db_url`` if given, else the one the course folder's
        ``nbgrader_config.py`` names (``c.CourseDirectory.db_url``), else
        ``<root>/gradebook.db``. ``learner_seed`` is the variant seed to grade
        with (a worker grading one learner); without it, the course's variants
        record decides (:mod:`grader.variants`).
        """
        self.root = Path(root).resolve()
        self.notebooks_dir = Path(notebooks_dir).resolve()
        self.db_url = db_url or self._configured_db_url() or f"sqlite:///{self.root / 'gradebook.db'}"
        self.limits = limits or SandboxLimits()
        self.sandbox = sandbox
        self.learner_seed = learner_seed
        self._api = None

    # -- nbgrader plumbing -------------------------------------------------
    def _config(self):
        config = Config()
        apply_course_settings(config, self.root, self.limits, self.sandbox)
        if self.learner_seed is not None:
            config.InjectLearnerSeed.seed = self.learner_seed
        config.CourseDirectory.db_url = self.db_url
        return config

    def _configured_db_url(self) -> str | None:
        """The gradebook URL set in the course folder's own ``nbgrader_config.py``, if any."""
        path = self.root / COURSE_CONFIG
        if not path.is_file():
            return None
        from traitlets.config.loader import PyFileConfigLoader

        try:
            config = PyFileConfigLoader(COURSE_CONFIG, path=str(self.root)).load_config()
        except Exception as exc:  # the instructor's own Python: any error is theirs to fix
            raise CourseError(f"{path} could not be read: {type(exc).__name__}: {exc}") from None
        url = config.CourseDirectory.get("db_url") if "CourseDirectory" in config else None
        return str(url) if url else None

    def write_course_config(self) -> None:
        """Give the course folder an ``nbgrader_config.py`` (kept if one exists), so nbgrader's own
        commands run there grade exactly as ``mlcourse grade`` does."""
        path = self.root / COURSE_CONFIG
        if not path.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            path.write_text(COURSE_CONFIG_TEXT)

    @property
    def api(self):
        if self._api is None:
            ensure_venv_on_path()
            _quiet_nbgrader_logs()
            from nbgrader.apps import NbGraderAPI
            from nbgrader.coursedir import CourseDirectory

            config = self._config()
            self.root.mkdir(parents=True, exist_ok=True)
            self._api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)
        return self._api

    def path(self, step: str, learner: str, assignment: str) -> Path:
        """nbgrader's folder for a step (``submitted``, ``autograded``, ...)."""
        if step in ("source", "release"):
            return self.root / step / assignment
        return self.root / step / learner / assignment

    # -- release ------------------------------------------------------------
    def release(self, assignment: Assignment) -> Path:
        """Copy the source notebooks in and run nbgrader's generate_assignment.

        Returns the folder holding the student version.
        """
        self.write_course_config()
        self.generate(assignment.id, assignment.folder)
        return self.path("release", "", assignment.id)

    def generate(self, assignment_id: str, folder: Path) -> None:
        """Copy ``folder`` in as the assignment's source and record it with nbgrader's generate_assignment."""
        source = self.path("source", "", assignment_id)
        if source.exists():
            shutil.rmtree(source)
        shutil.copytree(folder, source, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        result = self.api.generate_assignment(assignment_id, force=True, create=True)
        if not result["success"]:
            raise CourseError(f"nbgrader could not release {assignment_id}: {nbgrader_error(result)}")

    def is_released(self, assignment_id: str) -> bool:
        return self.path("release", "", assignment_id).is_dir()

    # -- grading ------------------------------------------------------------
    def stage_submission(self, learner: str, assignment: str, files: dict[str, bytes]) -> Path:
        """Put a learner's files (read by :func:`grader.files.read_tree`) where nbgrader looks for them.

        Returns the folder: a fresh one the grader wrote, swapped in whole.
        """
        dest = self.path("submitted", learner, assignment)
        write_tree(dest, files)
        return dest

    def check_sandbox(self) -> None:
        """Refuse, with the reason, to run learner code unconfined (unless built with ``sandbox=False``).

        Only executing learner code needs the sandbox: releasing, reports and
        feedback work without it.
        """
        if self.sandbox:
            find_bwrap()

    def has_submission(self, learner: str, assignment: str) -> bool:
        """Whether the gradebook holds a graded (or attempted) submission of ``assignment`` by ``learner``."""
        from nbgrader.api import Gradebook, MissingEntry

        if not self._has_gradebook():
            return False
        with Gradebook(self.db_url, COURSE_ID) as gb:
            try:
                gb.find_submission(assignment, learner)
            except MissingEntry:
                return False
            return True

    def feedback(self, learner: str, assignment: str) -> list[Path]:
        """nbgrader's feedback HTML for one graded submission (hidden tests scrubbed); [] if not graded."""
        if not self.path("autograded", learner, assignment).is_dir():
            return []
        result = self.api.generate_feedback(assignment, learner, force=True)
        if not result["success"]:
            raise CourseError(f"nbgrader could not write feedback for {learner}/{assignment}: {nbgrader_error(result)}")
        return sorted(self.path("feedback", learner, assignment).glob("*.html"))

    # -- reading results ----------------------------------------------------
    def _has_gradebook(self) -> bool:
        """False only for an SQLite gradebook file not created yet (opening it would create it empty)."""
        return not self.db_url.startswith("sqlite:///") or Path(self.db_url.removeprefix("sqlite:///")).is_file()

    def learners(self) -> list[str]:
        from nbgrader.api import Gradebook

        if not self._has_gradebook():
            raise CourseError(f"the gradebook {self.db_url} has no learners yet; run 'mlcourse grade' first")
        with Gradebook(self.db_url, COURSE_ID) as gb:
            return sorted(student.id for student in gb.students)

    def outcomes(self, learner: str, exercises: list[Exercise]) -> list[Outcome]:
        """One learner's :meth:`cohort_outcomes`."""
        return self.cohort_outcomes(exercises, [learner])[learner]

    def cohort_outcomes(self, exercises: list[Exercise], learners: list[str] | None = None) -> dict[str, list[Outcome]]:
        """Points per exercise for each learner (default: all in the gradebook), with a reason where points were lost.

        Two queries for the whole cohort: the scores, and the reasons and
        measured outcomes the grader stored when it graded each submission
        (:func:`read_cell_outcomes`; measurements are what a test cell showed
        under :data:`OUTCOME_MIME`, as the capstone's do). For submissions
        graded before reasons were stored, the autograded notebook is read.
        """
        from grader.gradebook import all_scores, grading_failures, stored_cell_outcomes

        learners = self.learners() if learners is None else learners
        scores, stored, failures = all_scores(self), stored_cell_outcomes(self), grading_failures(self)
        read: dict[tuple[str, str, str], dict[str, CellOutcome] | None] = {}
        cohort = {}
        for learner in learners:
            outcomes = []
            for exercise in exercises:
                key = (learner, exercise.assignment, exercise.notebook)
                if (*key, exercise.grade_id) not in scores:
                    outcomes.append(Outcome(exercise, 0.0, self._missing_reason(learner, exercise, failures)))
                    continue
                earned = min(float(scores[*key, exercise.grade_id] or 0.0), exercise.points)
                if key in stored:
                    cells = stored[key]
                else:
                    if key not in read:
                        read[key] = self._read_autograded(*key)
                    cells = read[key]
                cell = None if cells is None else cells.get(exercise.grade_id)
                reason = "" if earned >= exercise.points else (
                    self._missing_reason(learner, exercise, failures) if cells is None else
                    cell.reason if cell is not None else "test cell missing from the autograded notebook")
                outcomes.append(Outcome(exercise, earned, reason, cell.measurements if cell else ()))
            cohort[learner] = outcomes
        return cohort

    def _read_autograded(self, learner: str, assignment: str, notebook: str) -> dict[str, CellOutcome] | None:
        return read_cell_outcomes(self.path("autograded", learner, assignment) / f"{notebook}.ipynb",
                                  self.path("source", "", assignment) / f"{notebook}.ipynb")

    def _missing_reason(self, learner: str, exercise: Exercise, failures: dict[tuple[str, str], str]) -> str:
        submitted = self.path("submitted", learner, exercise.assignment) / f"{exercise.notebook}.ipynb"
        failure = failures.get((learner, exercise.assignment))
        if failure and failure.startswith(REFUSED):
            return failure
        if not submitted.is_file():
            return "not submitted"
        why = notebook_problem(submitted) or failure or "see the grading log"
        return f"submitted notebook could not be graded: {why}"


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


def describe_failure(outputs: list, hide_details: bool) -> str:
    """One line a learner can act on, from a test cell's outputs.

    With ``hide_details`` (the cell has hidden tests) assertion messages are
    not repeated, since they may reveal what the hidden tests check.
    """
    for output in outputs:
        if output.get("output_type") == "error":
            name, value = output.get("ename", "Error"), str(output.get("evalue", "")).strip()
            if name == "NotImplementedError":
                return "not implemented"
            if name in ("CellTimeoutError", "KeyboardInterrupt"):
                # The grader interrupts a cell that runs past its time limit.
                return "timed out"
            if name == TAMPERING:
                return f"tampering: {value[:300]}"
            if name == KERNEL_DIED:
                return "the kernel died (it exited, crashed, hit the CPU-time limit or used up its processes)"
            if name == NOTEBOOK_TIME_LIMIT:
                return "not run: the notebook used up its time limit"
            if name == "MemoryError":
                return "ran out of memory (the sandbox's memory limit)"
            if name == "AssertionError":
                return "wrong answer" if hide_details or not value else f"wrong answer: {value[:200]}"
            return f"error: {name}" + ("" if hide_details or not value else f": {value[:200]}")
    return "partial credit"


_EXCEPTION_LINE = re.compile(r"^(?:[\w.]+\.)?(\w+(?:Error|Exception)): (.+)$")


def nbgrader_error(result: dict) -> str:
    """The most telling line of an nbgrader failure, for a one-line message.

    nbgrader ends its log with generic "see the traceback above" lines; the
    exception line inside the traceback says what actually went wrong.
    """
    text = (result.get("error") or "") + "\n" + (result.get("log") or "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    exceptions = [m for m in map(_EXCEPTION_LINE.match, lines) if m]
    if exceptions:
        name, message = exceptions[-1].groups()
        return f"{name}: {message}"[:300]
    errors = [line.removeprefix("[ERROR]").strip() for line in lines if line.startswith("[ERROR]")]
    return (errors or lines or ["unknown nbgrader error"])[0][:300]
