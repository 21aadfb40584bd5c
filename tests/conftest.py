"""Shared fixtures: the course rubric and a course released and graded once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader.rubric import load_rubric

# Plotting in tests must never need a display.
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def rubric():
    return load_rubric()


@pytest.fixture(scope="session")
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent
