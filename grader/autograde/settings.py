"""nbgrader's settings for a course folder: ``nbgrader_config.py`` beside this module, plus the course's paths and limits.

Every nbgrader run of the course goes through :func:`apply_course_settings`:
``mlcourse``'s own commands, its workers, and nbgrader's commands run in a
released course folder, whose ``nbgrader_config.py`` calls it.
"""

from __future__ import annotations

from pathlib import Path

from grader.autograde.limits import SandboxLimits
from grader.autograde.sandbox import CleanEnvironmentKernelManager, SandboxedKernelManager

COURSE_ID = "mlcourse"
NBGRADER_CONFIG = Path(__file__).resolve().parent / "nbgrader_config.py"


def apply_course_settings(config, root: str | Path, limits: SandboxLimits | None = None,
                          sandbox: bool = True) -> None:
    """Put the course's nbgrader settings for the course folder ``root`` into ``config``, in place.

    ``config`` is a traitlets ``Config``; the settings are ``nbgrader_config.py``
    plus the limits (defaults: :data:`grader.autograde.limits.LIMITS`; without
    the ``sandbox`` only the wall-clock ones apply). The gradebook URL is left
    to the caller (nbgrader's default: ``<root>/gradebook.db``).
    """
    from traitlets.config.loader import PyFileConfigLoader

    limits = limits or SandboxLimits()
    config.merge(PyFileConfigLoader(NBGRADER_CONFIG.name, path=str(NBGRADER_CONFIG.parent)).load_config())
    config.CourseDirectory.course_id = COURSE_ID
    config.CourseDirectory.root = str(root)
    config.FromSource.source_root = str(Path(root) / "source")  # RepairCellMetadata and CheckIntegrity
    config.InjectLearnerSeed.course_root = str(root)
    # Unconfined or not, a learner kernel inherits no more of the grader's environment than it needs.
    config.GuardedExecute.kernel_manager_class = SandboxedKernelManager if sandbox else CleanEnvironmentKernelManager
    for setting, value in limits.settings(sandboxed=sandbox).items():
        section, trait = setting.split(".")
        setattr(config[section], trait, value)
