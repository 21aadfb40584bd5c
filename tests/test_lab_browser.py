"""The learner's workflow, tested as a learner would use it: JupyterLab in a real browser.

A module is released with the project's own command (``mlcourse release``) and
the student version is opened in JupyterLab, started from the virtualenv as a
learner would (``jupyter lab``, headless here), in Debian's Chromium driven by
Playwright. The test then does what a learner does with a fresh notebook:

* Run > Run All Cells. JupyterLab stops at the first cell that raises, so, as a
  learner would, it selects the first cell that did not run and uses
  Run > Run Selected Cell and All Below, until every code cell has run once,
  in order.
* File > Save Notebook, and the saved file is read back: every code cell ran,
  the only errors are the ones the unsolved stubs must cause, and the
  notebook shows the learner those same errors (no more, no fewer).
* nbgrader's Validate button in the notebook toolbar: its dialog must report
  every test cell as failed, and show no hidden test.

The errors a stub may cause were read off the released notebook run headlessly
(nbclient, ``allow_errors``): an exercise cell raises ``NotImplementedError``;
a test cell raises ``NotImplementedError`` (it called a stub), or ``NameError``
when the exercise cell before it raised before defining its names. A cell that
is not an exercise or a test must not fail at all, and every test cell must
fail: a stub that passes a test means the test proves nothing.

Screenshots (opened, after running, Validate's dialog), the browser console
and the server log are kept in ``build/test-artifacts/lab``.

Chromium is Debian's (``.ci/run`` installs the ``chromium`` package); Playwright
drives it through ``executable_path`` and downloads no browser of its own.
Without it the module is skipped, except in CI (``CI`` set), where it fails.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from grader.paths import PROJECT_ROOT

ARTIFACTS = PROJECT_ROOT / "build" / "test-artifacts" / "lab"
LEARNER_LAB = PROJECT_ROOT / "grader" / "learner_lab"  # JUPYTER_CONFIG_DIR of `make lab`
ASSIGNMENT = "04_evaluation"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"

#: Seconds allowed for everything the learner runs in the browser (about 15 s on an idle machine).
RUN_TIMEOUT = 240
#: Seconds allowed for Validate, which runs the whole notebook again in a fresh kernel (about 10 s).
VALIDATE_TIMEOUT = 150

# Selectors into JupyterLab 4's page. Menu items carry the command they run.
CODE_CELLS = ".jp-NotebookPanel .jp-Notebook .jp-CodeCell"
PROMPTS = f"{CODE_CELLS} .jp-InputPrompt"
STDERR = '[data-mime-type="application/vnd.jupyter.stderr"]'
NOT_RUN = "[ ]:"
QUEUED = "[*]:"


@dataclass
class Lab:
    url: str
    token: str
    folder: Path
    log: Path

    def api(self, path: str, method: str = "GET") -> dict:
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else {}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    """The student version of the module, released by ``mlcourse release`` into a fresh course."""
    course = tmp_path_factory.mktemp("lab") / "course"
    mlcourse = Path(sys.executable).parent / "mlcourse"
    result = subprocess.run([str(mlcourse), "release", ASSIGNMENT, "--course-dir", str(course)],
                            check=False, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    notebook = course / "release" / ASSIGNMENT / NOTEBOOK
    assert notebook.is_file(), f"mlcourse release wrote no {notebook}"
    return notebook


@pytest.fixture(scope="module")
def test_cells(released) -> int:
    """How many test (nbgrader "grade") cells the released notebook has, read before the browser touches it."""
    notebook = nbformat.read(released, as_version=4)
    return sum(1 for cell in notebook.cells
               if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"))


@pytest.fixture(scope="module")
def lab(released, tmp_path_factory):
    """JupyterLab serving the release folder, on a free port with a random token; shut down afterwards."""
    folder = released.parent
    home = tmp_path_factory.mktemp("jupyter")
    # Jupyter's own state lives in the temporary folder: no settings, workspace
    # or runtime file of this machine's user leaks in, and none is left behind.
    # The learner's lab configuration, as `make lab` uses it: nbgrader's instructor tools and the
    # "get Jupyter news?" toast (it would cover the notebook in the screenshots) are switched off.
    config = Path(shutil.copytree(LEARNER_LAB, home / "config"))
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config), JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"), JUPYTER_RUNTIME_DIR=str(home / "runtime"))
    # The tests force matplotlib's Agg backend; a learner's kernel uses the inline one.
    env.pop("MPLBACKEND", None)
    port, token = _free_port(), secrets.token_urlsafe(24)
    log = home / "server.log"
    with log.open("w") as output:
        # The cwd matters too: nbgrader's Validate reads nbgrader_config.py from the server's cwd.
        process = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
             "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}"],
            cwd=folder, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    server = Lab(f"http://127.0.0.1:{port}", token, folder, log)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, f"jupyter lab exited ({process.returncode}):\n{log.read_text()[-3000:]}"
            try:
                server.api("/api/status")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                assert time.monotonic() < deadline, f"jupyter lab did not answer:\n{log.read_text()[-3000:]}"
                time.sleep(0.5)
        yield server
    finally:
        _shut_down(process, server)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(log, ARTIFACTS / "server.log")


def _shut_down(process: subprocess.Popen, server: Lab) -> None:
    """Ask the server to stop (it shuts its kernels down first); then signal its process group."""
    try:
        server.api("/api/shutdown", method="POST")
        process.wait(timeout=20)
        return
    except (urllib.error.URLError, ConnectionError, TimeoutError, subprocess.TimeoutExpired):
        pass
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def notebook(browser, lab):
    """The released notebook, open in JupyterLab with its kernel started and idle."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}")
            if message.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: console.append(f"uncaught: {error}"))
    page.goto(f"{lab.url}/lab/tree/{NOTEBOOK}?token={lab.token}", wait_until="load", timeout=90_000)
    page.locator(CODE_CELLS).first.wait_for(timeout=90_000)
    # The kernel is up: the toolbar's execution indicator and the status bar both say idle.
    page.locator(".jp-NotebookPanel .jp-Notebook-ExecutionIndicator[data-status='idle']").wait_for(timeout=90_000)
    page.get_by_text("Python 3 (ipykernel) | Idle").wait_for(timeout=90_000)
    _keep(page, "01-opened")
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "console.txt").write_text("\n".join(console) + "\n")
    page.close()


def _keep(page, name: str) -> None:
    # Cells scrolled into view are painted a frame or two later (CSS content-visibility).
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    page.wait_for_timeout(300)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _menu(page, menu: str, command: str) -> None:
    """Click ``menu`` in the menu bar, then its item that runs ``command``."""
    page.locator("#jp-MainMenu .lm-MenuBar-item", has_text=re.compile(f"^{menu}$")).click()
    page.locator(f".lm-Menu .lm-Menu-item[data-command='{command}']").click()


def _prompts(page) -> list[str]:
    # textContent, not innerText: JupyterLab does not render cells scrolled out of view.
    return page.locator(PROMPTS).evaluate_all("prompts => prompts.map(p => p.textContent.trim())")


def _wait_for_run(page, first: int, deadline: float) -> None:
    """Cell ``first`` has started, and then nothing is queued and the kernel is idle."""

    def remaining() -> float:
        left = deadline - time.monotonic()
        assert left > 0, f"cells still running after {RUN_TIMEOUT} s: {_prompts(page)}"
        return left * 1000

    page.wait_for_function(
        "([selector, i, notRun]) => { const p = document.querySelectorAll(selector)[i];"
        " return p !== undefined && p.textContent.trim() !== notRun; }",
        arg=[PROMPTS, first, NOT_RUN], timeout=remaining())
    page.wait_for_function(
        "([selector, queued]) => {"
        " const busy = [...document.querySelectorAll(selector)].some(p => p.textContent.trim() === queued);"
        " const indicator = document.querySelector('.jp-NotebookPanel .jp-Notebook-ExecutionIndicator');"
        " return !busy && indicator !== null && indicator.dataset.status === 'idle'; }",
        arg=[PROMPTS, QUEUED], timeout=remaining())


def _kind(cell) -> str:
    meta = cell.metadata.get("nbgrader", {})
    return "test" if meta.get("grade") else "exercise" if meta.get("solution") else "other"


def _saved(path: Path, cells: int, deadline: float):
    """The notebook as saved, once the file on disk holds ``cells`` executed code cells."""
    while True:
        try:
            notebook = nbformat.read(path, as_version=4)
            code = [c for c in notebook.cells if c.cell_type == "code"]
            if len(code) == cells and all(c.execution_count for c in code):
                return notebook
        except (OSError, ValueError):
            pass  # caught mid-write
        assert time.monotonic() < deadline, f"{path.name} was not saved with every code cell run"
        time.sleep(0.25)


def test_running_every_cell_shows_only_the_stubs_failures(notebook, lab):
    page = notebook
    deadline = time.monotonic() + RUN_TIMEOUT
    _menu(page, "Run", "runmenu:run-all")
    _wait_for_run(page, 0, deadline)
    reached = 0
    while NOT_RUN in (prompts := _prompts(page)):
        # Carry on after a failure as a learner would: select the first cell
        # that did not run, then Run > Run Selected Cell and All Below.
        #
        # JupyterLab sends every cell's request at once and the kernel drops
        # those queued behind the failing cell; on a busy machine a few arrive
        # after that, and run. So cells further down may have run already:
        # they run again in the next round, which keeps each cell's final
        # output and execution count from one in-order pass (checked below).
        first = prompts.index(NOT_RUN)
        assert first > reached, f"the run did not get past code cell {first}: {prompts}"
        reached = first
        page.locator(CODE_CELLS).nth(first).locator(".jp-InputPrompt").click()
        _menu(page, "Run", "notebook:run-all-below")
        _wait_for_run(page, first, deadline)

    shown = page.locator(CODE_CELLS).evaluate_all(
        f"cells => cells.map(c => [...c.querySelectorAll('{STDERR}')].map(e => e.textContent).join('\\n'))")
    first_error = page.locator(f"{CODE_CELLS} {STDERR}").first
    if first_error.count():
        first_error.scroll_into_view_if_needed()
    _keep(page, "02-ran-all")

    _menu(page, "File", "docmanager:save")
    saved = _saved(lab.folder / NOTEBOOK, len(shown), time.monotonic() + 30)
    code = [c for c in saved.cells if c.cell_type == "code"]

    counts = [c.execution_count for c in code]
    assert prompts == [f"[{n}]:" for n in counts], f"saved {counts}, the page shows {prompts}"
    assert counts == sorted(set(counts)), f"the outputs are not from one pass through the cells, in order: {counts}"

    unexpected, not_implemented = [], 0
    previous_exercise_raised = False
    for index, cell in enumerate(code):
        kind = _kind(cell)
        errors = [o for o in cell.outputs if o.output_type == "error"]
        names = [o.ename for o in errors]
        where = f"code cell {index} ({kind}: {cell.metadata.get('nbgrader', {}).get('grade_id', '-')})"
        if kind == "exercise":
            allowed = {"NotImplementedError"}
            previous_exercise_raised = bool(errors)
        elif kind == "test":
            allowed = {"NotImplementedError"} | ({"NameError"} if previous_exercise_raised else set())
            if not errors:
                unexpected.append(f"{where}: the test passes against the unsolved stub")
        else:
            allowed = set()
        unexpected += [f"{where}: {o.ename}: {o.evalue}" for o in errors if o.ename not in allowed]
        not_implemented += names.count("NotImplementedError")
        # The page shows the learner exactly these errors, and nothing else on stderr.
        stderr = [o for o in cell.outputs if o.output_type == "stream" and o.name == "stderr"]
        assert bool(shown[index]) == bool(errors or stderr), (
            f"{where}: the page shows {shown[index][:300]!r}, the saved notebook has errors {names}")
        assert all(name in shown[index] for name in names), f"{where}: {names} not shown in the page"
        # The grader no longer fails a graded cell for stderr (StderrIsNotFailure), but nbgrader's Validate
        # still does, and a warning in the learner's first run is noise: the released notebooks write none.
        assert not stderr, f"{where} writes to stderr (Validate would fail it; a learner sees a warning): {stderr}"
    assert not unexpected, "\n".join(unexpected)
    assert not_implemented > 0, "no cell raised NotImplementedError: are the stubs in the released notebook?"


def test_validate_reports_every_test_as_failed(notebook, test_cells):
    page = notebook
    button = page.locator(".jp-NotebookPanel-toolbar .validate-button")
    if button.count() == 0:
        # nbgrader's labextension (@jupyter/nbgrader) adds the button; it is
        # missing only where that extension is disabled or not installed.
        pytest.skip("no Validate button in the notebook toolbar: nbgrader's labextension is not enabled "
                    "(see `jupyter labextension list`)")
    button.click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for(timeout=VALIDATE_TIMEOUT * 1000)
    text = dialog.inner_text()
    assert dialog.locator(".jp-Dialog-header").inner_text().strip() == "Validation Results", text[:3000]
    message = dialog.locator("#validation-message")
    assert "validation-failed" in (message.get_attribute("class") or ""), text[:3000]
    assert text.count("The following cell failed:") == test_cells, (
        f"Validate should fail all {test_cells} test cells of the unsolved notebook:\n{text[:3000]}")
    assert "NotImplementedError" in text
    assert "BEGIN HIDDEN TESTS" not in text, "Validate shows hidden test code to the learner"
    _keep(page, "03-validated")
    dialog.locator("button.jp-mod-accept").click()
    dialog.wait_for(state="detached", timeout=10_000)


def test_learners_get_the_assignment_list_but_no_instructor_tools(notebook):
    page = notebook
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    menu = page.locator(".lm-Menu").last
    menu.wait_for()
    items = [label.strip() for label in menu.locator(".lm-Menu-itemLabel").all_inner_texts() if label.strip()]
    _keep(page, "04-nbgrader-menu")
    page.keyboard.press("Escape")
    assert "Assignment List" in items, items
    assert not {"Formgrader", "Formgrader (local)", "Course List", "Create assignment"} & set(items), items
    assert page.get_by_text("Create assignment", exact=True).count() == 0
