"""Where the course's own files live.

The project installs in editable mode (``make`` does ``pip install -e``), so
the rubric and source notebooks are read from the checkout beside this package.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RUBRICS_DIR = PROJECT_ROOT / "rubrics"
NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"


def ensure_venv_on_path() -> None:
    """nbgrader's gradebook shells out to ``alembic`` found on PATH; put this interpreter's ``bin`` first."""
    bin_dir = str(Path(sys.executable).parent)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != bin_dir:
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
