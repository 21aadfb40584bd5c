"""Errors the grader reports to a person as one line, without a traceback."""

from __future__ import annotations

import re


class CourseError(Exception):
    """A problem the user can fix: the message says what is wrong and what to do.

    The command line prints ``mlcourse: error: <message>`` and exits with
    status 2 instead of showing a traceback.
    """


_EXCEPTION_LINE = re.compile(r"^(?:[\w.]+\.)?(\w+(?:Error|Exception)): (.+)$")


def nbgrader_error(result: dict) -> str:
    """The most telling line of a failed nbgrader API call's result (``error`` and ``log``), for a one-line message.

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
