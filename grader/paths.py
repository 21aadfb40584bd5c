"""Where the course's own files live.

The project installs in editable mode (``make`` does ``pip install -e``), so
the rubric and source notebooks are read from the checkout beside this package.
"""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RUBRICS_DIR = PROJECT_ROOT / "rubrics"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
GRADER_DIR = Path(__file__).resolve().parent
