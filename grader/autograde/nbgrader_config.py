"""nbgrader settings for the mlcourse course.

Loaded by grader.autograde.settings for every nbgrader call; the course directory, course
id and gradebook URL are filled in at run time. Settings here are the ones a
course maintainer tunes; each says why it differs from nbgrader's default.
"""

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)

from grader.autograde.preprocessors import (
    CheckIntegrity,
    InjectLearnerSeed,
    RepairCellMetadata,
    ScrubHiddenTests,
    StderrIsNotFailure,
)
from grader.autograde.sandbox import GuardedExecute
from grader.catalogue import TEXT_SUFFIX

c = get_config()  # noqa: F821 - provided by traitlets when this file is loaded

# The stub a learner sees in place of each solution region.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# nbgrader's sanitizing steps trust the submission's cell metadata, and a forged or
# stripped grade_id stops them with a bare KeyError: RepairCellMetadata first gives
# every cell the metadata the source says it has, and puts back missing cells.
c.Autograde.sanitize_preprocessors = [
    RepairCellMetadata, ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata,
]

# nbgrader's autograde steps, with four of ours before the grades are saved:
# InjectLearnerSeed (per-learner variants: the grader's seed for this learner,
# never the submission's), GuardedExecute (a per-notebook time budget, and a kernel that dies becomes a
# result instead of aborting the learner's run; grader.autograde.settings adds the
# sandbox), StderrIsNotFailure (a warning is not a failed test: assertions
# decide) and CheckIntegrity (solutions that game the tests score zero, with
# the reason).
c.Autograde.autograde_preprocessors = [
    InjectLearnerSeed, GuardedExecute, StderrIsNotFailure, CheckIntegrity, IgnorePattern, ClearMetadataPreprocessor,
    LimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata,
]

# Feedback shows the autograded notebook: take the hidden tests, and what their
# run showed, back out of it (nbgrader issue #917).
c.GenerateFeedback.preprocessors = [GetGrades, ScrubHiddenTests, CSSHTMLHeaderPreprocessor]

# The time limits per cell and per notebook, and the sandbox's, are set by
# grader.autograde.settings from grader.autograde.limits.LIMITS (one place for every limit).
c.Execute.startup_timeout = 120

# A learner who deletes a test cell must not escape it: nbgrader puts the
# cell back from the gradebook and runs it.
c.OverwriteCells.add_missing_cells = True

# Files besides notebooks that nbgrader should ignore when copying assignments; a notebook's text
# source holds its solutions (grader.course never copies it in: this is the second lock).
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*" + TEXT_SUFFIX]

# Keep kernel start-up chatter (ipykernel warns about unencrypted local TCP)
# out of the grader's progress output; the history file is nbgrader's default.
c.Execute.extra_arguments = ["--HistoryManager.hist_file=:memory:", "--IPKernelApp.log_level=ERROR"]

# The outputs are all in once the last cell has run: stop the kernel at once
# rather than wait for its own shutdown (measured: 0.5-2 s per notebook, which
# grading many notebooks pays again and again).
c.Execute.shutdown_kernel = "immediate"
