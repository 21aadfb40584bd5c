"""The nbgrader course folder: releasing assignments, staging submissions, feedback.

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
import shutil
import warnings
from pathlib import Path

import nbformat
from traitlets.config import Config

from grader.autograde.limits import SandboxLimits
from grader.autograde.sandbox import find_bwrap
# Course folders released before grader.autograde existed import it from here: keep the name.
from grader.autograde.settings import apply_course_settings  # noqa: F401
from grader.catalogue import TEXT_SUFFIX, Assignment, read_notebook, strip_authoring_metadata
from grader.errors import CourseError, nbgrader_error
from grader.files import write_tree
from grader.paths import NOTEBOOKS_DIR, ensure_venv_on_path


def _quiet_nbgrader_logs() -> None:
    # nbgrader logs every copied file at INFO, and its gradebook trips
    # SQLAlchemy's autoflush warning on every autograde; the grader prints its
    # own progress and reports real failures itself.
    from sqlalchemy.exc import SAWarning

    warnings.filterwarnings("ignore", category=SAWarning)
    for name in ("traitlets", "nbgrader", "NbGraderAPI", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


COURSE_CONFIG = "nbgrader_config.py"

COURSE_CONFIG_TEXT = '''"""nbgrader's settings for this course folder, written by `mlcourse release`: yours to edit.

nbgrader's own commands run in this folder (`nbgrader autograde`, the formgrader)
grade exactly as `mlcourse grade` does: the course's preprocessors, the sandbox
and its default limits.
"""
import os

from grader.autograde.settings import apply_course_settings

c = get_config()  # noqa: F821 - provided by traitlets when this file is loaded
apply_course_settings(c, root=os.path.dirname(os.path.abspath(__file__)))

# To keep the gradebook in PostgreSQL instead of gradebook.db (`mlcourse` commands
# read this line too; their --db option overrides it):
# c.CourseDirectory.db_url = "postgresql://grader@dbhost/mlcourse"
'''


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
        record decides (:mod:`grader.autograde.variants`).
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
        # The notebook's text source holds its solutions and hidden tests: it never reaches nbgrader's source/.
        shutil.copytree(folder, source, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__",
                                                                      "*" + TEXT_SUFFIX))
        result = self.api.generate_assignment(assignment_id, force=True, create=True)
        if not result["success"]:
            raise CourseError(f"nbgrader could not release {assignment_id}: {nbgrader_error(result)}")
        for released in sorted(self.path("release", "", assignment_id).glob("*.ipynb")):
            nb = read_notebook(released)
            if strip_authoring_metadata(nb):  # the mistakes an exercise's tests must catch are not the learner's
                nbformat.write(nb, released)

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

    def feedback(self, learner: str, assignment: str) -> list[Path]:
        """nbgrader's feedback HTML for one graded submission (hidden tests scrubbed); [] if not graded."""
        if not self.path("autograded", learner, assignment).is_dir():
            return []
        result = self.api.generate_feedback(assignment, learner, force=True)
        if not result["success"]:
            raise CourseError(f"nbgrader could not write feedback for {learner}/{assignment}: {nbgrader_error(result)}")
        return sorted(self.path("feedback", learner, assignment).glob("*.html"))
