"""Shared fixtures: the course rubric and a course released and graded once per session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from grader.assessment.rubric import load_rubric

# Plotting in tests must never need a display.
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def rubric():
    return load_rubric()


@pytest.fixture(scope="session")
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


#: A PostgreSQL server the tests may create databases on (``.ci/run`` starts one and sets this).
POSTGRES_ENV = "MLCOURSE_TEST_POSTGRES"


@pytest.fixture
def postgres_url():
    """A fresh, empty PostgreSQL database for one test; its URL. Dropped afterwards.

    Skipped when no server is configured, except in CI, where a missing server
    is a failure: CI must test against the real thing.
    """
    admin = os.environ.get(POSTGRES_ENV)
    if not admin:
        if os.environ.get("CI"):
            pytest.fail(f"{POSTGRES_ENV} is not set: .ci/run must start PostgreSQL")
        pytest.skip(f"no PostgreSQL server ({POSTGRES_ENV} is not set)")
    import uuid

    import psycopg
    from sqlalchemy.engine import make_url

    name = f"mlcourse_test_{uuid.uuid4().hex[:12]}"
    connection = psycopg.connect(admin, autocommit=True)
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.close()


#: Debian's Chromium (package chromium, which .ci/run installs); MLCOURSE_CHROMIUM overrides.
CHROMIUM = os.environ.get("MLCOURSE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium driven by Playwright (``executable_path``: Playwright downloads no browser).

    Skipped without Chromium, except in CI, where the browser tests must run.
    """
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests: install the Debian package chromium")
        pytest.skip("no chromium (Debian package chromium) on this machine")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()
