"""Errors the grader reports to a person as one line, without a traceback."""

from __future__ import annotations


class CourseError(Exception):
    """A problem the user can fix: the message says what is wrong and what to do.

    The command line prints ``mlcourse: error: <message>`` and exits with
    status 2 instead of showing a traceback.
    """
