"""Static integrity checks of solution cells: each rule catches its trick and leaves honest code alone."""

from __future__ import annotations

import pytest

from grader.autograde.integrity import check_solution, module_aliases

SETUP = "import numpy as np\nimport builtins, sys\nfrom mlcourse import evaluation as ev\nfrom IPython import get_ipython"
ALIASES = module_aliases([SETUP])
FORBID = ("mlcourse.evaluation.binary_counts",)

HONEST = [
    "def confusion_counts(y, p):\n    tp = int(((y == 1) & (p == 1)).sum())\n    return tp",
    "import numpy as np\nscores = np.asarray([1, 2])\nresult = {'a': scores.mean()}",
    "class Model:\n    def fit(self, X):\n        self.mean_ = X.mean()\n        return self",
    "def f(x):\n    return ev.precision(x, x)",  # other library functions are fine
    "%time x = 1\n!ls",  # magics are skipped, not misread
]

TRICKS = {
    "builtins attribute": ("builtins.abs = lambda x: 0", "replaces builtins.abs"),
    "numpy testing helper": ("np.testing.assert_allclose = lambda *a, **k: None", "replaces numpy.testing.assert_allclose"),
    "library function": ("ev.binary_counts = lambda *a: (1, 1, 1, 1)", "replaces mlcourse.evaluation.binary_counts"),
    "sys.modules": ("sys.modules['numpy'] = None", "changes sys.modules"),
    "setattr on builtins": ("setattr(builtins, 'len', lambda x: 3)", "setattr() on builtins"),
    "IPython traceback": ("get_ipython().showtraceback = lambda *a, **k: None", "showtraceback"),
    "custom exceptions": ("get_ipython().set_custom_exc((AssertionError,), lambda *a: None)", None),
    "excepthook": ("sys.excepthook = print", "replaces sys.excepthook"),
    "__eq__ override": ("class Anything:\n    def __eq__(self, other):\n        return True\nanswer = Anything()",
                        "defines __eq__"),
    "__bool__ override": ("class Truthy:\n    def __bool__(self):\n        return True", "defines __bool__"),
    "eval": ("x = eval('1 + 1')", "calls eval()"),
    "exec": ("exec('import os')", "calls exec()"),
    "importlib": ("import importlib\nm = importlib.import_module('mlcourse.evaluation')", "imports importlib"),
    "__builtins__": ("__builtins__ = {}", "replaces __builtins__"),
    "globals": ("globals()['assert_close'] = print", "rebinds names through globals()"),
    "settrace": ("sys.settrace(lambda *a: None)", "calls sys.settrace()"),
    "reference via alias": ("def confusion_counts(y, p):\n    return ev.binary_counts(y, p)", "uses mlcourse.evaluation.binary_counts"),
    "reference via from-import": ("from mlcourse.evaluation import binary_counts as bc\ndef f(y, p):\n    return bc(y, p)",
                                  "imports mlcourse.evaluation.binary_counts"),
    "reference via getattr": ("def f(y, p):\n    return getattr(ev, 'binary_counts')(y, p)", "uses mlcourse.evaluation.binary_counts"),
}


@pytest.mark.parametrize("source", HONEST)
def test_honest_solutions_are_clean(source):
    assert check_solution("ex", source, ALIASES, FORBID) == []


@pytest.mark.parametrize("name", sorted(TRICKS))
def test_each_trick_is_caught_and_named(name):
    source, expected = TRICKS[name]
    findings = check_solution("ex1_counts", source, ALIASES, FORBID)
    assert findings, f"{name} was not caught"
    assert all(f.grade_id == "ex1_counts" and f.line >= 1 for f in findings)
    if expected:
        assert any(expected in f.message for f in findings), [str(f) for f in findings]


def test_a_reference_is_only_forbidden_where_declared():
    source = "def confusion_counts(y, p):\n    return ev.binary_counts(y, p)"
    assert check_solution("ex", source, ALIASES, forbidden=()) == []


LIBRARY_FORBID = ("sklearn.metrics.roc_auc_score", "sklearn.linear_model.LogisticRegression", "mlcourse.calibration")

REACHED_ANOTHER_WAY = {
    "attribute chain on the package": "import sklearn.metrics\nauc = sklearn.metrics.roc_auc_score([0, 1], [0.1, 0.9])",
    "bare package import, chain later": "import sklearn\nf = sklearn.metrics.roc_auc_score",
    "private module that defines it": "from sklearn.metrics._ranking import roc_auc_score as r",
    "bound to a new name first": "import sklearn.metrics as m\nscore = m.roc_auc_score\nscore([0, 1], [0.1, 0.9])",
    "estimator as a pipeline step": ("from sklearn.pipeline import Pipeline\nimport sklearn.linear_model as lm\n"
                                     "model = Pipeline([('clf', lm.LogisticRegression())])"),
    "estimator inside make_pipeline": ("from sklearn.pipeline import make_pipeline\n"
                                       "from sklearn.linear_model import LogisticRegression\n"
                                       "model = make_pipeline(LogisticRegression(max_iter=50))"),
    "a forbidden module, any function of it": "from mlcourse import calibration as cal\np = cal.PlattCalibrator()",
    "a forbidden module imported whole": "import mlcourse.calibration\nx = mlcourse.calibration.PlattCalibrator",
    "getattr with a constant on an alias": "import sklearn.metrics as m\nf = getattr(m, 'roc_auc_score')",
}


@pytest.mark.parametrize("way", sorted(REACHED_ANOTHER_WAY))
def test_a_forbidden_name_is_caught_however_it_is_reached(way):
    findings = check_solution("ex5", REACHED_ANOTHER_WAY[way], {}, LIBRARY_FORBID)
    assert any("forbids" in f.message for f in findings), (way, [str(f) for f in findings])


def test_allowed_neighbours_of_a_forbidden_name_stay_allowed():
    allowed = ("import sklearn.metrics as m\nf = m.average_precision_score\nimport mlcourse.calibration\n"
               "from sklearn.linear_model import Ridge\nimport numpy as np\nx = np.mean([1.0])")
    assert check_solution("ex5", allowed, {}, LIBRARY_FORBID) == []


def test_aliases_follow_import_forms():
    aliases = module_aliases(["import numpy as np", "import os.path", "from mlcourse import evaluation as ev",
                              "from mlcourse.evaluation import binary_counts"])
    assert aliases == {"np": "numpy", "os": "os", "ev": "mlcourse.evaluation",
                       "binary_counts": "mlcourse.evaluation.binary_counts"}


def test_the_course_solutions_pass_their_own_integrity_checks():
    """The instructor's solutions must not trip the checks, or honest learners would be zeroed too."""
    from grader.catalogue import read_notebook
    from grader.autograde.integrity import check_notebook
    from grader.paths import NOTEBOOKS_DIR

    problems = []
    for path in sorted(NOTEBOOKS_DIR.glob("*/*.ipynb")):
        nb = read_notebook(path)
        problems += [f"{path.name}: {f}" for f in check_notebook(nb, nb)]
    assert not problems, "\n".join(problems)


def test_default_forbids_name_the_stage_function_of_the_same_name():
    import nbformat

    from grader.autograde.integrity import check_notebook, forbidden_names

    source = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "def expected_calibration_error(y, p):\n    pass",
        metadata={"nbgrader": {"solution": True, "grade_id": "ex3_ece"},
                  "mlcourse": {"stage": "calibration", "tier": 2, "forbid": ["mlcourse.calibration.reliability_bins"]}})])
    assert forbidden_names(source.cells[0]) == {"mlcourse.calibration.expected_calibration_error",
                                                "mlcourse.calibration.reliability_bins"}
    submitted = nbformat.from_dict(source)
    submitted.cells.insert(0, nbformat.v4.new_code_cell("from mlcourse import calibration as cal"))
    submitted.cells[1].source = "def expected_calibration_error(y, p):\n    return cal.expected_calibration_error(y, p)"
    [finding] = check_notebook(submitted, source)
    assert finding.grade_id == "ex3_ece" and "mlcourse.calibration.expected_calibration_error" in finding.message


def test_cells_a_learner_adds_or_edits_are_checked_too():
    import nbformat

    from grader.autograde.integrity import check_notebook

    source = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import numpy as np\nimport pandas as pd"),
        nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {"solution": True, "grade_id": "ex1"},
                                                      "mlcourse": {"stage": "evaluation", "tier": 1}}),
        nbformat.v4.new_code_cell("assert x == 1", metadata={"nbgrader": {"grade": True, "grade_id": "ex1_tests"}}),
    ])
    submitted = nbformat.from_dict(source)
    submitted.cells.insert(2, nbformat.v4.new_code_cell("pd.options.display.max_rows = 5\nnp.testing.assert_equal = print"))
    submitted.cells[0].source += "\nimport builtins\nbuiltins.len = lambda x: 0"
    findings = {str(f) for f in check_notebook(submitted, source)}
    assert findings == {"cell 1, line 4: replaces builtins.len, which the tests rely on",
                        "cell 3, line 2: replaces numpy.testing.assert_equal, which the tests rely on"}
    # A test cell is the grader's (nbgrader restores it), so it is not judged here.
    submitted.cells[-1].source = "import builtins\nbuiltins.len = len"
    assert len(check_notebook(submitted, source)) == 2


def test_a_helper_cell_that_calls_what_an_exercise_forbids_costs_that_exercise():
    """Forbid lists reach beyond solution cells: a cell the learner adds or edits may not call the answer either,
    while the course's own demo cells, unchanged, may use the library freely."""
    import nbformat

    from grader.autograde.integrity import check_notebook

    solution_meta = {"nbgrader": {"solution": True, "grade_id": "ex5_auc"},
                     "mlcourse": {"stage": "evaluation", "tier": 3, "forbid": ["sklearn.metrics.roc_auc_score"]}}
    demo = "from sklearn.metrics import roc_auc_score\ndemo_auc = roc_auc_score([0, 1], [0.2, 0.8])"
    source = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(demo),
                                             nbformat.v4.new_code_cell("def auc(y, s):\n    pass", metadata=solution_meta)])
    assert check_notebook(source, source) == []
    submitted = nbformat.from_dict(source)
    submitted.cells.insert(1, nbformat.v4.new_code_cell("import sklearn.metrics as m\nhelper = m.roc_auc_score"))
    submitted.cells[2].source = "def auc(y, s):\n    return helper(y, s)"
    findings = check_notebook(submitted, source)
    assert [(f.grade_id, f.forbidden) for f in findings] == [("ex5_auc", True)]
    assert findings[0].message.startswith("uses helper from cell 2, which uses sklearn.metrics.roc_auc_score")
    # Through a second added cell that builds on the first: still the exercise's finding.
    submitted.cells.insert(2, nbformat.v4.new_code_cell("def wrapped(y, s):\n    return helper(y, s)"))
    submitted.cells[3].source = "def auc(y, s):\n    return wrapped(y, s)"
    [finding] = check_notebook(submitted, source)
    assert finding.grade_id == "ex5_auc" and "uses wrapped from cell 3, which builds on" in finding.message
    # A demo cell edited to experiment, whose names no solution uses, costs nothing.
    submitted.cells[0].source = demo + "\nprint(demo_auc)"
    submitted.cells[3].source = "def auc(y, s):\n    return 0.5"
    assert check_notebook(submitted, source) == []
