"""nbgrader settings for the mlcourse course.

Loaded by grader.course for every nbgrader call; the course directory, course
id and gradebook URL are filled in at run time. Settings here are the ones a
course maintainer tunes; each says why it differs from nbgrader's default.
"""

c = get_config()  # noqa: F821 - provided by traitlets when this file is loaded

# The stub a learner sees in place of each solution region.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Exercises train small models; nbgrader's 30 s default per cell is too tight
# on a 2-core machine, but a runaway cell must still end.
c.Execute.timeout = 120
c.Execute.startup_timeout = 120

# A learner who deletes a test cell must not escape it: nbgrader puts the
# cell back from the gradebook and runs it.
c.OverwriteCells.add_missing_cells = True

# Files besides notebooks that nbgrader should ignore when copying assignments.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

# Keep kernel start-up chatter (ipykernel warns about unencrypted local TCP)
# out of the grader's progress output; the history file is nbgrader's default.
c.Execute.extra_arguments = ["--HistoryManager.hist_file=:memory:", "--IPKernelApp.log_level=ERROR"]
