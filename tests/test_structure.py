"""The grader's structure, checked: layers that import only downward, no cycle, no private name shared.

``LAYERS`` is the architecture the README's layout table describes: a module
may import from its own layer or a lower one. The import graph is built from
the source (every ``import``, at module level or inside a function, since a
lazy import that only hides a cycle is still a dependency).
"""

from __future__ import annotations

import ast
import importlib
import pickle
import re
import subprocess
import sys
from pathlib import Path

from grader.paths import PROJECT_ROOT

#: Lowest first. A module belongs to the first entry that its dotted name equals or starts with.
LAYERS = [
    ["grader.errors", "grader.paths", "grader.files"],
    ["grader.assessment"],
    ["grader.catalogue"],
    ["grader.autograde"],
    ["grader.course"],
    ["grader.grading"],
    ["grader.reporting"],
    ["grader.authoring"],
    ["grader.commands"],
    ["grader.cli"],
]
#: Inside a layer, the order of its modules (lowest first), where one imports another.
WITHIN = {
    "grader.autograde": ["limits", "outcomes", "integrity", "variants", "sandbox", "preprocessors", "settings",
                         "nbgrader_config"],
    "grader.grading": ["gradebook", "workers", "pipeline", "migrations"],
    "grader.reporting": ["learner", "cohort", "exports"],
    "grader.authoring": ["notebook_text", "lint", "simulate", "selfcheck"],
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def grader_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted((PROJECT_ROOT / "grader").rglob("*.py"))
            if "versions" not in path.parts and path != PROJECT_ROOT / "grader" / "__init__.py"}


def imports_of(path: Path, name: str) -> set[str]:
    """The grader modules ``path`` imports (``from grader.x import y`` counts as grader.x, or grader.x.y if a module)."""
    known = grader_modules()
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names if f"{node.module}.{alias.name}" in known}
    return {module for module in found if module in known and module != name}


def import_graph() -> dict[str, set[str]]:
    return {name: imports_of(path, name) for name, path in grader_modules().items()}


def rank(module: str) -> tuple[int, int]:
    for level, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                order = WITHIN.get(prefix, [])
                leaf = module.removeprefix(prefix + ".").split(".")[0]
                return level, order.index(leaf) if leaf in order else -1
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS in {__file__}")


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_import_graph_has_no_cycle():
    graph = import_graph()
    assert len(graph) > 25 and graph["grader.cli"], "the graph was built"
    assert find_cycle(graph) is None


def test_the_cycle_finder_finds_a_planted_cycle():
    graph = import_graph()
    graph["grader.errors"] = graph["grader.errors"] | {"grader.cli"}
    cycle = find_cycle(graph)
    assert cycle and cycle[0] == cycle[-1]


def test_every_import_points_down_the_layers():
    upward = [f"{module} imports {imported}"
              for module, imported_set in import_graph().items() for imported in sorted(imported_set)
              if rank(imported) > rank(module) and not imported.startswith(module + ".")]
    assert upward == []


def test_every_module_has_a_layer():
    for module in grader_modules():
        rank(module)


def test_no_private_name_is_imported_across_modules():
    shared = []
    for root in ("grader", "mlcourse", "benchmarks", "tests"):
        for path in sorted((PROJECT_ROOT / root).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ("grader", "mlcourse"):
                    shared += [f"{path.relative_to(PROJECT_ROOT)}: {node.module}.{alias.name}"
                               for alias in node.names if alias.name.startswith("_") and alias.name != "__version__"]
    assert shared == []


def test_each_module_imports_first_on_its_own():
    """A cycle hidden by import order shows when a module is the first grader module imported.

    One interpreter, with every grader module forgotten before the next is
    imported (third-party packages stay loaded: they are not what is tested).
    """
    names = sorted(name for name in grader_modules()
                   if "migrations" not in name and not name.endswith("nbgrader_config"))
    script = (
        "import importlib, sys, traceback\n"
        "for name in sys.argv[1:]:\n"
        "    for loaded in [m for m in sys.modules if m == 'grader' or m.startswith('grader.')]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as exc:\n"
        "        print(f'{name}: {type(exc).__name__}: {exc}')\n"
    )
    done = subprocess.run([sys.executable, "-c", script, *names], capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == []


def test_a_course_folder_released_before_the_layout_still_loads(tmp_path):
    """Course folders written by an older release import apply_course_settings from grader.course."""
    from traitlets.config.loader import PyFileConfigLoader

    (tmp_path / "nbgrader_config.py").write_text(
        "import os\nfrom grader.course import apply_course_settings\n"
        "c = get_config()\napply_course_settings(c, root=os.path.dirname(os.path.abspath(__file__)))\n")
    config = PyFileConfigLoader("nbgrader_config.py", path=str(tmp_path)).load_config()
    assert config.CourseDirectory.root == str(tmp_path)
    assert config.SandboxedKernelManager.memory_mb > 0


def test_what_workers_unpickle_is_found_by_its_name():
    """Dask ships jobs and results by pickle: each class must be importable under the name it pickles to."""
    from grader.autograde.limits import SandboxLimits
    from grader.grading.gradebook import GradedNotebook, GradedSubmission
    from grader.grading.workers import Job, JobResult

    for cls in (SandboxLimits, Job, JobResult, GradedSubmission, GradedNotebook):
        assert getattr(importlib.import_module(cls.__module__), cls.__qualname__) is cls
    limits = SandboxLimits(memory_mb=512)
    assert pickle.loads(pickle.dumps(limits)) == limits
    assert b"grader.autograde.limits" in pickle.dumps(limits)


def test_a_module_moved_in_the_layout_is_not_also_left_at_its_old_place():
    old = {"grader.grading", "grader.workers", "grader.gradebook", "grader.preprocessors", "grader.sandbox",
           "grader.report", "grader.cohort", "grader.exports", "grader.rubric", "grader.proficiency"}
    stale = [name for name in old if (PROJECT_ROOT / (name.replace(".", "/") + ".py")).exists()]
    assert stale == []


def _readme_table(heading_row: str) -> list[list[str]]:
    """The rows of the README table whose header row starts with ``heading_row``, as lists of cells."""
    lines = (PROJECT_ROOT / "README.md").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading_row))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_the_readmes_layer_table_lists_every_grader_module_in_its_layer():
    listed: dict[str, str] = {}
    for layer, modules, _ in _readme_table("| layer | modules |"):
        package = layer.strip("`/") if layer.startswith("`") else ""
        for name in re.findall(r"`([a-z_]+)(?:\.py)?`", modules):
            listed[f"grader.{package}.{name}" if package else f"grader.{name}"] = layer
    packages = {name for name, path in grader_modules().items() if path.name == "__init__.py"}
    actual = {name for name in grader_modules() if name not in packages and ".migrations" not in name}
    assert sorted(listed) == sorted(actual)


def test_the_readmes_folder_table_names_folders_that_exist():
    for folder, _ in _readme_table("| folder | what |"):
        path = re.sub(r"NN_stage", "01_dataset", folder.strip("`"))
        assert (PROJECT_ROOT / path).exists(), folder
