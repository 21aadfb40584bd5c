"""Integrity checks: solution code that games the tests instead of solving the exercise.

A learner's solution cells run in the same Python process as the test cells
that judge them, so a solution can change what the tests rely on. This module
reads every solution cell of a submission (statically, with :mod:`ast`) and
reports:

* **monkeypatching** of what tests rely on: assigning to (or ``setattr`` on,
  or ``del``-eting from) ``builtins``, ``numpy`` and its ``testing`` helpers,
  ``math``, ``pandas``, the ``mlcourse`` modules, ``sys.modules``,
  ``sys.excepthook``, or IPython's traceback display (``showtraceback``,
  ``set_custom_exc``);
* **comparison tricks**: a class that defines ``__eq__``, ``__ne__``,
  ``__bool__`` or an ordering method, so that ``assert answer == expected``
  holds for anything;
* **dynamic code** that hides what it calls: ``eval``, ``exec``, ``compile``,
  ``__import__``, ``importlib``, ``globals()`` / ``vars()`` writes;
* **forbidden names**: the library's reference implementation of the very
  function an exercise asks for, declared per exercise in the *source*
  notebook as ``metadata.mlcourse.forbid = ["mlcourse.evaluation.binary_counts", ...]``,
  whether reached through an alias (``ev.binary_counts``), a ``from`` import,
  ``getattr(ev, "binary_counts")``, an attribute chain on an imported package
  (``sklearn.metrics.roc_auc_score`` after ``import sklearn``), or another
  module that re-exports it (``sklearn.metrics._ranking.roc_auc_score``). An
  entry that names a module (``"sklearn.metrics"``) forbids everything in it.
  Names are compared as the objects they resolve to, so an estimator is caught
  wherever it is named: as a pipeline step, inside ``make_pipeline``, or bound
  to a new name first.

Each finding names the cell and what it does. Static analysis cannot see
everything (code built from strings at run time, say); the sandbox limits
what such code can reach, and the README says what is not protected.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from grader.catalogue import solution_cells

#: Modules whose attributes a solution must never replace.
PROTECTED_MODULES = ("builtins", "numpy", "numpy.testing", "math", "pandas", "pandas.testing", "mlcourse", "sys",
                     "IPython", "unittest", "pytest")
#: Attributes of any object that replace how errors are shown or caught.
PROTECTED_ATTRIBUTES = ("showtraceback", "showsyntaxerror", "set_custom_exc", "excepthook", "_showtraceback",
                        "custom_exceptions")
COMPARISON_METHODS = ("__eq__", "__ne__", "__bool__", "__lt__", "__le__", "__gt__", "__ge__", "__len__")
DYNAMIC_CALLS = ("eval", "exec", "compile", "__import__")


@dataclass(frozen=True)
class Finding:
    """One integrity problem in one cell."""

    grade_id: str
    line: int
    message: str
    #: A use of what the exercise forbids: it costs that exercise's tests, not the whole notebook.
    forbidden: bool = False

    def __str__(self) -> str:
        return f"{self.grade_id}, line {self.line}: {self.message}"


def module_aliases(sources: Iterable[str]) -> dict[str, str]:
    """Names bound to modules or module attributes by imports: ``{"ev": "mlcourse.evaluation", ...}``."""
    aliases: dict[str, str] = {}
    for source in sources:
        tree = _parse(source)
        if tree is None:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for name in node.names:
                    aliases[name.asname or name.name.split(".")[0]] = name.name if name.asname else name.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for name in node.names:
                    aliases[name.asname or name.name] = f"{node.module}.{name.name}"
    return aliases


def _parse(source: str) -> ast.Module | None:
    # IPython magics and shell escapes are not Python; a cell that does not parse is judged by running it.
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def dotted_name(node: ast.AST, aliases: Mapping[str, str]) -> str | None:
    """``np.testing.assert_allclose`` -> ``"numpy.testing.assert_allclose"`` when ``np`` is an alias of numpy."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(aliases.get(node.id, node.id))
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "get_ipython":
        parts.append("IPython.shell")
    else:
        return None
    return ".".join(reversed(parts))


#: Packages whose names :func:`forbidden_entry` may import to compare objects: the libraries an exercise's answer
#: comes from. A learner-named module outside them is compared by name only, never imported.
RESOLVABLE_PACKAGES = ("numpy", "scipy", "sklearn", "pandas", "torch", "mlcourse", "statsmodels")


@lru_cache(maxsize=4096)
def _resolve(name: str):
    """The object a dotted name of a :data:`RESOLVABLE_PACKAGES` package names, or None."""
    parts = name.split(".")
    if parts[0] not in RESOLVABLE_PACKAGES:
        return None
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except Exception:  # not a module at this length (or one that fails to import): try a shorter prefix
            continue
        try:
            for attribute in parts[cut:]:
                obj = getattr(obj, attribute)
        except AttributeError:
            return None
        return obj
    return None


def _home(obj) -> str | None:
    """Where an object is defined: a module's name, or ``module.qualname`` of a function or class."""
    if inspect.ismodule(obj):
        return obj.__name__
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    return f"{module}.{qualname}" if isinstance(module, str) and isinstance(qualname, str) else None


def forbidden_entry(name: str | None, forbidden: Iterable[str]) -> str | None:
    """The entry of ``forbidden`` that the dotted ``name`` falls under, or None.

    ``name`` falls under an entry when it is the entry or inside it
    (``sklearn.metrics.roc_auc_score`` under ``sklearn.metrics``), or when both
    resolve to the same object, or the object ``name`` resolves to is defined
    inside the entry's module.
    """
    if not name:
        return None
    for entry in forbidden:
        if name == entry or name.startswith(entry + "."):
            return entry
    obj = _resolve(name)
    if obj is None:
        return None
    home = _home(obj)
    for entry in forbidden:
        target = _resolve(entry)
        if target is None:
            continue
        if obj is target or (inspect.ismodule(target) and home and home.startswith(target.__name__ + ".")):
            return entry
    return None


#: Settings under protected modules that only change how things are shown (``pd.options.display...``).
HARMLESS_SETTINGS = ("pandas.options.display", "numpy.set_printoptions")


def _protected(name: str | None) -> bool:
    if name is None or name.startswith(HARMLESS_SETTINGS):
        return False
    if name.rsplit(".", 1)[-1] in PROTECTED_ATTRIBUTES:
        return True
    return any(name == m or name.startswith(m + ".") for m in PROTECTED_MODULES)


def _targets(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.Assign):
        return list(node.targets)
    if isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        return [node.target]
    if isinstance(node, ast.Delete):
        return list(node.targets)
    return []


def check_solution(grade_id: str, source: str, aliases: Mapping[str, str], forbidden: Iterable[str] = ()) -> list[Finding]:
    """Integrity findings in one solution cell (empty when it is clean)."""
    tree = _parse(source)
    if tree is None:
        return []
    forbidden = set(forbidden)
    local = {**aliases, **module_aliases([source])}
    findings: list[Finding] = []
    parents = {id(child): parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}

    def flag(node: ast.AST, message: str, forbidden: bool = False) -> None:
        findings.append(Finding(grade_id, getattr(node, "lineno", 0), message, forbidden))

    for node in ast.walk(tree):
        for target in _targets(node):
            name = dotted_name(target.value, local) if isinstance(target, ast.Subscript) else None
            if isinstance(target, ast.Attribute) and _protected(dotted_name(target, local)):
                flag(node, f"replaces {dotted_name(target, local)}, which the tests rely on")
            elif isinstance(target, ast.Subscript) and name in ("sys.modules", "builtins.__dict__"):
                flag(node, f"changes {name}, which the tests rely on")
            elif isinstance(target, ast.Name) and target.id == "__builtins__":
                flag(node, "replaces __builtins__")
            elif (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Call)
                  and isinstance(target.value.func, ast.Name) and target.value.func.id in ("globals", "vars")):
                flag(node, f"rebinds names through {target.value.func.id}()")
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name in COMPARISON_METHODS:
                    flag(item, f"class {node.name} defines {item.name}, which can make any assert comparison pass")
        if isinstance(node, ast.Call):
            findings += _check_call(grade_id, node, local, forbidden)
        if isinstance(node, ast.Attribute | ast.Name) and forbidden and not _inner_attribute(node, parents):
            name = dotted_name(node, local)
            if forbidden_entry(name, forbidden):
                flag(node, f"uses {name}, which this exercise forbids ({forbidden_entry(name, forbidden)})", True)
        if isinstance(node, ast.ImportFrom) and node.module and forbidden:
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                # Importing a module is not using it: what the solution then takes from it is judged where it does.
                if forbidden_entry(name, forbidden) and not inspect.ismodule(_resolve(name)):
                    flag(node, f"imports {name}, which this exercise forbids ({forbidden_entry(name, forbidden)})", True)
        if isinstance(node, ast.ImportFrom) and node.module and (node.module == "importlib"
                                                                 or node.module.startswith("importlib.")):
            flag(node, "imports importlib: modules must be imported by name")
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "importlib" for a in node.names):
            flag(node, "imports importlib: modules must be imported by name")
    return sorted(set(findings), key=lambda f: (f.line, f.message))


def _inner_attribute(node: ast.AST, parents: Mapping[int, ast.AST]) -> bool:
    """Whether ``node`` is the ``a.b`` of a longer ``a.b.c``: only the whole chain is judged, once."""
    return isinstance(parents.get(id(node)), ast.Attribute)


def _check_call(grade_id: str, node: ast.Call, aliases: Mapping[str, str], forbidden: set[str]) -> list[Finding]:
    findings = []
    func = dotted_name(node.func, aliases)
    line = node.lineno
    if isinstance(node.func, ast.Name) and node.func.id in DYNAMIC_CALLS:
        findings.append(Finding(grade_id, line, f"calls {node.func.id}(): code built at run time cannot be checked"))
    if func in ("setattr", "delattr", "builtins.setattr", "builtins.delattr") and node.args:
        target = dotted_name(node.args[0], aliases)
        if _protected(target) or (len(node.args) > 1 and isinstance(node.args[1], ast.Constant)
                                  and node.args[1].value in PROTECTED_ATTRIBUTES):
            findings.append(Finding(grade_id, line, f"{func}() on {target}, which the tests rely on"))
    if func == "getattr" and len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
        target = f"{dotted_name(node.args[0], aliases)}.{node.args[1].value}"
        if forbidden_entry(target, forbidden):
            findings.append(Finding(grade_id, line, f"uses {target}, which this exercise forbids", True))
    if func and func.rsplit(".", 1)[-1] in PROTECTED_ATTRIBUTES:
        findings.append(Finding(grade_id, line, f"calls {func}(): it changes how test failures are reported"))
    if func in ("sys.settrace", "sys.setprofile", "threading.settrace"):
        findings.append(Finding(grade_id, line, f"calls {func}(): it can watch or change the tests as they run"))
    return findings


def _defined_functions(source: str) -> list[str]:
    tree = _parse(source)
    return [] if tree is None else [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)]


def forbidden_names(source_cell) -> set[str]:
    """The names a solution cell may not use, from the *source* notebook's cell.

    ``metadata.mlcourse.forbid`` lists them explicitly; besides, a function
    or class the exercise asks for may not come from the stage's own library
    module under the same name (``def psi`` in a monitoring exercise may not
    call ``mlcourse.monitoring.psi``).
    """
    tags = source_cell.get("metadata", {}).get("mlcourse", {})
    names = {str(n) for n in tags.get("forbid", [])}
    stage = tags.get("stage")
    try:
        module = importlib.import_module(f"mlcourse.{stage}") if stage else None
    except ImportError:
        module = None
    if module is not None:
        names |= {f"mlcourse.{stage}.{name}" for name in _defined_functions(source_cell.source) if hasattr(module, name)}
    return names


def _bound_names(tree: ast.Module) -> set[str]:
    """Top-level names a cell binds: assignments, definitions, imports."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names |= {alias.asname or alias.name.split(".")[0] for alias in node.names}
        else:
            for target in _targets(node) + ([node.target] if isinstance(node, ast.For | ast.With) and
                                            hasattr(node, "target") else []):
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def _used_names(tree: ast.Module) -> set[str]:
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


def _helper_findings(learner_cells: list[tuple[int, str]], solutions: dict[str, str], forbids: dict[str, set[str]],
                     aliases: Mapping[str, str]) -> list[Finding]:
    """Forbidden uses that reach a solution through cells the learner added or edited.

    A learner cell that uses what exercise E forbids, or uses a name another
    such cell binds, *taints* the names it binds; E's solution cell using a
    tainted name is E's finding. A demo cell a learner edits to experiment
    with the library costs nothing while no solution relies on what it binds.
    """
    parsed = [(index, tree) for index, source in learner_cells if (tree := _parse(source)) is not None]
    findings = []
    for owner, forbid in forbids.items():
        solution = _parse(solutions.get(owner, ""))
        if not forbid or solution is None:
            continue
        first_use = {index: next((f for f in check_solution(owner, ast.unparse(tree), aliases, forbid)
                                  if f.forbidden), None) for index, tree in parsed}
        tainted: dict[str, int] = {}
        changed = True
        while changed:
            changed = False
            for index, tree in parsed:
                if first_use[index] is None and not (_used_names(tree) & set(tainted)):
                    continue
                for name in _bound_names(tree) - set(tainted):
                    tainted[name] = index
                    changed = True
        for name in sorted(_used_names(solution) & set(tainted)):
            index = tainted[name]
            use = first_use[index]
            how = use.message if use else "builds on another added cell that uses what it forbids"
            findings.append(Finding(owner, 0, f"uses {name} from cell {index}, which {how}", True))
            break
    return findings


def check_notebook(submitted, source) -> list[Finding]:
    """Integrity findings of every cell of ``submitted`` a learner can write, judged with ``source``'s declarations.

    Both are nbformat notebooks. Solution cells are matched by nbgrader
    grade_id and checked against their exercise's forbidden names. Every
    other code cell but the tests (the demos, which a learner may edit, and
    cells a learner adds) is checked for tampering, named by its position
    (``cell 12``). A cell whose code is not the source's (added or edited)
    that uses what an exercise forbids, and whose names that exercise's
    solution uses, is that exercise's finding (:func:`_helper_findings`).
    Imports anywhere in the submission count for aliases (a setup cell's
    ``from mlcourse import evaluation as ev`` is how solutions reach the
    library).
    """
    reference = solution_cells(source)
    forbids = {grade_id: forbidden_names(cell) for grade_id, cell in reference.items()}
    original = {cell.source.strip() for cell in source.cells if cell.cell_type == "code"}
    aliases = module_aliases(c.source for c in submitted.cells if c.cell_type == "code")
    findings: list[Finding] = []
    solutions: dict[str, str] = {}
    learner_cells: list[tuple[int, str]] = []
    for index, cell in enumerate(submitted.cells, 1):
        grading = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or grading.get("grade"):
            continue
        grade_id = grading.get("grade_id") if grading.get("solution") else None
        if grade_id in reference:
            solutions[grade_id] = cell.source
            findings += check_solution(grade_id, cell.source, aliases, forbids[grade_id])
            continue
        findings += check_solution(f"cell {index}", cell.source, aliases)
        if cell.source.strip() not in original:
            learner_cells.append((index, cell.source))
    return findings + _helper_findings(learner_cells, solutions, forbids, aliases)
