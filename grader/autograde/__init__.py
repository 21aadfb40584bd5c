"""Confined autograding with nbgrader: its settings, our preprocessors, the sandbox and its limits, and what a graded cell says."""
