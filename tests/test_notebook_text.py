"""Source notebooks as text (grader/authoring/notebook_text.py): each ``.ipynb`` is generated from its ``.pct.py``.

The first test is CI's drift check: a notebook edited without its text, or a
text edited without regenerating its notebook, fails it.
"""

from __future__ import annotations

import json
import re
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbformat import v4

from grader.errors import CourseError
from grader.authoring.notebook_text import (TEXT_SUFFIX, drift, notebook_from_string, notebook_from_text, notebook_json,
                                  notebook_path, sync, text_from_notebook, text_path)
from grader.paths import NOTEBOOKS_DIR, PROJECT_ROOT

SOURCE_NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*/*.ipynb"))


def test_every_source_notebook_has_its_text_and_is_what_the_text_generates():
    assert len(SOURCE_NOTEBOOKS) >= 10, "the course's notebooks were found"
    missing = [str(p) for p in SOURCE_NOTEBOOKS if not text_path(p).is_file()]
    assert missing == [], "notebooks without a text source"
    assert drift(NOTEBOOKS_DIR) == []


def test_the_committed_notebooks_hold_exactly_the_cells_of_their_text():
    """Cell by cell, not only bytes: ids, types, sources and metadata, and the notebook's metadata."""
    for path in SOURCE_NOTEBOOKS:
        committed = nbformat.read(path, as_version=nbformat.NO_CONVERT)
        generated = notebook_from_text(text_path(path))
        assert (generated.nbformat, generated.nbformat_minor) == (committed.nbformat, committed.nbformat_minor)
        assert generated.metadata == committed.metadata, path
        assert [(c.id, c.cell_type, c.source, c.metadata) for c in generated.cells] == \
               [(c.id, c.cell_type, c.source, c.metadata) for c in committed.cells], path
        assert all(c.outputs == [] and c.execution_count is None for c in generated.cells if c.cell_type == "code")


@pytest.fixture
def course(tmp_path):
    """Two of the course's assignment folders, copied: notebooks and their texts."""
    notebooks = tmp_path / "notebooks"
    for name in ("04_evaluation", "09_feedback"):
        shutil.copytree(NOTEBOOKS_DIR / name, notebooks / name)
    assert drift(notebooks) == []
    return notebooks


def _cell_header_line(text: str, cell_id: str) -> int:
    lines = text.splitlines()
    return next(i for i, line in enumerate(lines) if line.startswith("# %%") and f'id="{cell_id}"' in line)


def test_an_edited_text_is_drift_naming_the_cell(course):
    text = course / "04_evaluation" / f"04_evaluation{TEXT_SUFFIX}"
    cell = [c for c in notebook_from_text(text).cells if c.cell_type == "code"][4]
    lines = text.read_text().splitlines()
    header = _cell_header_line(text.read_text(), cell.id)
    lines[header + 1] += "  # edited"
    text.write_text("\n".join(lines) + "\n")

    [line] = drift(course)
    assert line.startswith(str(Path("notebooks/04_evaluation/04_evaluation.ipynb")))
    assert f"cell {cell.id!r}: source line 1" in line and "# edited" in line, line


def test_a_changed_points_entry_in_the_notebook_is_drift(course):
    path = course / "09_feedback" / "09_feedback.ipynb"
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    graded = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("points"))
    graded.metadata.nbgrader.points += 1
    path.write_text(notebook_json(nb))

    [line] = drift(course)
    assert "09_feedback.ipynb" in line and f"cell {graded.id!r}: metadata nbgrader.points" in line, line
    assert f"the notebook has {graded.metadata.nbgrader.points}" in line, line


def test_a_notebook_edited_in_another_layout_or_with_outputs_is_drift(course):
    path = course / "04_evaluation" / "04_evaluation.ipynb"
    data = json.loads(path.read_text())
    path.write_text(json.dumps(data, indent=2))
    assert "only the JSON layout differs" in drift(course)[0]

    code = next(cell for cell in data["cells"] if cell["cell_type"] == "code")
    code["execution_count"] = 3
    path.write_text(json.dumps(data, indent=1))
    assert f"cell {code['id']!r}: execution_count" in drift(course)[0]


def test_a_cell_added_or_removed_on_one_side_is_drift_naming_it(course):
    path = course / "09_feedback" / "09_feedback.ipynb"
    nb = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    removed = nb.cells.pop(3)
    path.write_text(notebook_json(nb))
    assert f"cell {removed.id!r} is in the text but not in the notebook" in drift(course)[0]


def test_a_missing_text_and_a_text_without_its_notebook_are_reported(course):
    text_path(course / "04_evaluation" / "04_evaluation.ipynb").unlink()
    (course / "09_feedback" / "09_feedback.ipynb").unlink()

    found = drift(course)
    assert len(found) == 2, found
    assert any("04_evaluation.ipynb: has no text source 04_evaluation.pct.py" in line for line in found), found
    assert any("09_feedback.pct.py: its notebook 09_feedback.ipynb is missing" in line for line in found), found


def test_sync_writes_what_drifted_and_leaves_the_rest_untouched(course):
    evaluation = course / "04_evaluation" / "04_evaluation.ipynb"
    feedback = course / "09_feedback" / "09_feedback.ipynb"
    expected = evaluation.read_bytes()
    evaluation.write_text(evaluation.read_text().replace('"points": 1', '"points": 7', 1))
    feedback.unlink()

    assert sync(course) == [evaluation, feedback]
    assert evaluation.read_bytes() == expected and feedback.is_file()
    assert drift(course) == []
    stamp = evaluation.stat().st_mtime_ns
    assert sync(course) == [] and evaluation.stat().st_mtime_ns == stamp, "an unchanged notebook is not rewritten"


def test_sync_writes_nothing_while_any_text_is_unreadable(course):
    evaluation = course / "04_evaluation" / "04_evaluation.ipynb"
    evaluation.write_text(evaluation.read_text().replace('"points": 1', '"points": 7', 1))
    edited = evaluation.read_bytes()
    text = course / "09_feedback" / f"09_feedback{TEXT_SUFFIX}"
    text.write_text(text.read_text().replace('# %% [markdown] id="', '# %% [markdown] id=', 1))

    with pytest.raises(CourseError, match=r"09_feedback\.pct\.py:\d+: cannot read the cell header"):
        sync(course)
    assert evaluation.read_bytes() == edited


def _hand_built() -> nbformat.NotebookNode:
    graded = {"nbgrader": {"grade": True, "grade_id": "ex1_tests", "locked": True, "points": 2,
                           "schema_version": 3, "solution": False, "task": False},
              "mlcourse": {"stage": "evaluation", "tier": 3}}
    solution = {"nbgrader": {"grade": False, "grade_id": "ex1", "locked": False, "schema_version": 3,
                             "solution": True, "task": False},
                "mlcourse": {"stage": "evaluation", "tier": 3}}
    cells = [
        v4.new_markdown_cell("# A title\n\nSome *prose*, with $x^2$ and a \"quote\".\n\n| a | b |\n|---|---|", id="md-title"),
        v4.new_code_cell("SEED = 0\nFAST = False", id="parameters", metadata={"tags": ["parameters"]}),
        v4.new_code_cell("import numpy as np\n\n\n\ndef f(x):\n    return x  # three blank lines above", id="setup"),
        v4.new_code_cell("# only comments\n# in this code cell", id="comments-only"),
        v4.new_code_cell("def ex1(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
                         id="ex1-solution", metadata=solution),
        v4.new_code_cell("assert ex1(2) == 4, 'é ✓ unicode'\n### BEGIN HIDDEN TESTS\nassert ex1(3) == 6\n"
                         "### END HIDDEN TESTS", id="ex1_tests", metadata=graded),
        v4.new_raw_cell("raw text, kept as it is", id="raw-1", metadata={"format": "text/plain"}),
        v4.new_code_cell("", id="empty-code"),
        v4.new_markdown_cell("Done.", id="md-end", metadata={"tags": ["summary", "x"]}),
    ]
    nb = v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}})
    nb.nbformat, nb.nbformat_minor = 4, 5
    return nb


def test_a_hand_built_notebook_comes_back_the_same_from_its_text():
    nb = _hand_built()
    back = notebook_from_string(text_from_notebook(nb))
    assert [c.id for c in back.cells] == [c.id for c in nb.cells]
    assert [(c.cell_type, c.source, c.metadata) for c in back.cells] == \
           [(c.cell_type, c.source, c.metadata) for c in nb.cells]
    assert back.metadata == nb.metadata and (back.nbformat, back.nbformat_minor) == (4, 5)
    assert notebook_json(back) == notebook_json(nb)


def test_the_text_shows_each_cell_id_and_metadata_on_its_header_line():
    text = text_from_notebook(_hand_built())
    assert '# %% id="parameters" tags=["parameters"]\n' in text
    assert '# %% [markdown] id="md-title"\n' in text and '# %% [raw] id="raw-1"' in text
    assert '# %% id="ex1_tests" mlcourse={"stage": "evaluation", "tier": 3} nbgrader={"grade": true' in text
    assert "jupytext" not in text, "no jupytext version in the text: upgrading jupytext changes no file"


def test_generation_is_byte_identical_across_runs_and_processes(tmp_path):
    text = NOTEBOOKS_DIR / "04_evaluation" / f"04_evaluation{TEXT_SUFFIX}"
    script = ("import sys; from grader.authoring.notebook_text import notebook_from_text, notebook_json, text_from_notebook\n"
              "nb = notebook_from_text(sys.argv[1])\n"
              "sys.stdout.write(notebook_json(nb) + text_from_notebook(nb))")
    # Another process, with another string-hash seed than this one's (set and dict order must not leak out).
    seed = "1" if os.environ.get("PYTHONHASHSEED") != "1" else "2"
    other = subprocess.run([sys.executable, "-c", script, str(text)], capture_output=True, text=True, check=True,
                           cwd=PROJECT_ROOT, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
    nb = notebook_from_text(text)
    assert other == notebook_json(nb) + text_from_notebook(nb)
    assert notebook_json(notebook_from_text(text)) == notebook_json(nb), "twice in one process"
    again = text_from_notebook(notebook_from_string(text_from_notebook(nb)))
    assert again == text_from_notebook(nb), "text -> notebook -> text is stable"


@pytest.mark.parametrize("header, complaint", [
    ('# %% id="ex9" nbgrader={"grade": tru, "points": 1}', "the value of nbgrader is not JSON"),
    ('# %% id=ex9', "the value of id is not JSON"),
    ('# %% [markdwn] id="ex9"', "'[markdwn]' is neither a cell type"),
    ("# %% tags=[\"x\"]", "the cell has no id"),
])
def test_a_malformed_cell_header_is_an_error_naming_file_and_line(tmp_path, header, complaint):
    path = tmp_path / "09_feedback" / f"09_feedback{TEXT_SUFFIX}"
    path.parent.mkdir()
    lines = (NOTEBOOKS_DIR / "09_feedback" / f"09_feedback{TEXT_SUFFIX}").read_text().splitlines()
    at = [i for i, line in enumerate(lines) if line.startswith("# %%")][5]
    lines[at] = header
    path.write_text("\n".join(lines) + "\n")

    with pytest.raises(CourseError) as error:
        notebook_from_text(path)
    assert f"{path}:{at + 1}: " in str(error.value) and complaint in str(error.value), str(error.value)
    assert any(f"{path}:{at + 1}: " in line for line in drift(tmp_path)), "the check reports it too"


def test_a_duplicate_id_and_a_bad_header_block_are_errors():
    text = text_from_notebook(_hand_built())
    with pytest.raises(CourseError, match=r"<text>:\d+: cell id 'setup' is used twice \(first at <text>:\d+\)"):
        notebook_from_string(text.replace('id="comments-only"', 'id="setup"'))
    with pytest.raises(CourseError, match=r"<text>:\d+: not a valid nbformat cell: 'has spaces' does not match"):
        notebook_from_string(text.replace('id="setup"', 'id="has spaces"'))
    with pytest.raises(CourseError, match="<text>: jupytext cannot read it as a percent-format notebook: ParserError"):
        notebook_from_string("# ---\n# jupyter:\n#   kernelspec: {name: 3\n# ---\n\n# %% id=\"a\"\n1\n")
    for preamble in ("# ---\n# jupyter: [unclosed\n# ---\n", "\nx = 1\n"):
        with pytest.raises(CourseError, match=r"<text>:[12]: only the notebook header .* may come before the first"):
            notebook_from_string(preamble + "\n# %% id=\"a\"\n1\n")


def test_a_notebook_the_text_cannot_carry_is_refused():
    nb = _hand_built()
    nb.cells[2].metadata["id"] = "clash"
    with pytest.raises(CourseError, match="metadata id cannot be carried"):
        text_from_notebook(nb)
    nb.cells[2].metadata.pop("id")
    nb.cells[2].pop("id")
    with pytest.raises(CourseError, match="cell 3 has no id"):
        text_from_notebook(nb)


def test_paths():
    notebook = Path("notebooks/04_evaluation/04_evaluation.ipynb")
    assert text_path(notebook) == Path("notebooks/04_evaluation/04_evaluation.pct.py")
    assert notebook_path(text_path(notebook)) == notebook


def test_jupyterlab_saves_a_text_source_without_a_jupytext_header_section(tmp_path):
    """notebooks/jupytext.toml: a text opened and saved in JupyterLab (jupytext's contents manager) stays canonical."""
    from jupytext.config import load_jupytext_config

    config = load_jupytext_config(str(NOTEBOOKS_DIR / "09_feedback"))
    assert config is not None, "notebooks/jupytext.toml is found from an assignment folder"
    source = NOTEBOOKS_DIR / "09_feedback" / f"09_feedback{TEXT_SUFFIX}"
    nb = jupytext.read(source, config=config)
    saved = tmp_path / source.name
    jupytext.write(nb, saved, fmt="py:percent", config=config)
    assert saved.read_text() == source.read_text()


def test_pytest_never_imports_a_text_source():
    """``make test`` passes --doctest-modules, which imports every .py under notebooks/: that would run the notebook.

    Collected with tests/'s conftest as ``make test`` collects it, since two
    conftest modules of the same name clash under --doctest-modules.
    """
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "--doctest-modules",
         "--nbval-lax", "--nbval-current-env", "tests/conftest.py", "notebooks/09_feedback"],
        cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert TEXT_SUFFIX not in result.stdout and "09_feedback.ipynb::" in result.stdout, result.stdout


def test_the_command_line_checks_and_syncs(course):
    def mlcourse(*args):
        return subprocess.run([sys.executable, "-m", "grader.cli", "notebooks", *args, str(course)],
                              capture_output=True, text=True)

    assert mlcourse("check").returncode == 0
    text = course / "09_feedback" / f"09_feedback{TEXT_SUFFIX}"
    text.write_text(text.read_text().replace("# %%", "# %% id=\"a-new-cell\"\n# a new cell\n\n# %%", 1))
    checked = mlcourse("check")
    assert checked.returncode == 1 and "09_feedback.ipynb" in checked.stdout, checked.stdout + checked.stderr
    synced = mlcourse("sync")
    assert synced.returncode == 0 and "wrote" in synced.stdout and "09_feedback.ipynb" in synced.stdout
    assert mlcourse("check").returncode == 0


def test_a_release_never_carries_the_text_source_to_learners(tmp_path):
    from grader.catalogue import select_assignments
    from grader.course import Course

    course = Course(tmp_path / "course", sandbox=False)
    [assignment] = select_assignments(course.notebooks_dir, ["09_feedback"])
    assert text_path(assignment.notebooks[0]).is_file(), "the source folder has a text to leave behind"
    released = course.release(assignment)
    carried = sorted(p.relative_to(course.root) for p in course.root.rglob(f"*{TEXT_SUFFIX}"))
    assert carried == [] and (released / "09_feedback.ipynb").is_file()


MISTAKE_TEXT = '''# %% id="ex1" mlcourse={"stage": "evaluation", "tier": 3} nbgrader={"grade": false, "grade_id": "ex1", "locked": false, "schema_version": 3, "solution": true, "task": false}
def f(x):
    ### BEGIN SOLUTION
    return x + 1
    ### END SOLUTION

# %% id="ex1-mistake-none" mistake={"why": "returns x unchanged"}
def f(x):
    return x

# %% id="ex1-mistake-demo" mistake={"readable": "demo cell code-1", "why": "the demo's double"}
def f(x):
    return 2 * x

# %% id="ex1-tests"
assert f(1) == 2
'''


def test_mistake_cells_fold_into_their_solution_cell_and_come_back_the_same():
    nb = notebook_from_string(MISTAKE_TEXT)
    assert [c.id for c in nb.cells] == ["ex1", "ex1-tests"]
    assert nb.cells[0].metadata["mlcourse"]["mistakes"] == [
        {"id": "ex1-mistake-none", "why": "returns x unchanged", "code": "def f(x):\n    return x"},
        {"id": "ex1-mistake-demo", "readable": "demo cell code-1", "why": "the demo's double",
         "code": "def f(x):\n    return 2 * x"}]
    assert notebook_from_string(text_from_notebook(nb)) == nb
    assert "ex1-mistake-demo" in text_from_notebook(nb) and "mistakes" not in text_from_notebook(nb)


@pytest.mark.parametrize(("change", "complaint"), [
    (lambda t: t.replace('mistake={"why": "returns x unchanged"}', 'mistake={"because": "x"}'), 'needs a JSON object with a "why"'),
    (lambda t: t.replace('# %% id="ex1-tests"', '# %% [markdown] id="md"\n# Text.\n\n# %% id="ex1-tests" mistake={"why": "late"}'),
     "must directly follow the solution cell"),
    (lambda t: t.replace('mistake={"why": "returns x unchanged"}', 'mistake={"why": "w", "code": "c"}'),
     "the mistake's code is the cell's body"),
])
def test_a_misplaced_or_malformed_mistake_cell_is_an_error_naming_its_line(change, complaint):
    with pytest.raises(CourseError, match=re.escape(complaint)) as error:
        notebook_from_string(change(MISTAKE_TEXT), where="04.pct.py")
    assert re.match(r"04\.pct\.py:\d+: ", str(error.value))
