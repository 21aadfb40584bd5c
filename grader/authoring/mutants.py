"""Generated mutants of a solution: small changes its tests should notice.

A small AST mutator of our own rather than cosmic-ray or mutmut: both mutate
files of an installed package and run a test command per mutant, while here
the code under test is a region of a notebook cell and the tests are the
notebook's own graded cells, run by :mod:`grader.authoring.trials` without
re-running the notebook. The operators are the classic ones (cosmic-ray's and
mutmut's), plus two that mirror the mistakes learners make with NumPy:

========== ==========================================================================
operator   change
========== ==========================================================================
compare    a boundary moved (``<`` to ``<=``, ``>=`` to ``>``) or a test negated
           (``==``/``!=``, ``is``/``is not``, ``in``/``not in``)
arith      an arithmetic operator swapped (``+``/``-``, ``*``/``/``, ``//`` to ``/``,
           ``%`` to ``//``, ``**`` to ``*``), in expressions and in ``+=``-style updates
number     a numeric constant ``n`` made ``n + 1`` (``0`` becomes ``1``, ``0.5`` becomes ``1.5``)
boolean    ``True``/``False`` swapped, ``and``/``or`` and the mask operators ``&``/``|`` swapped,
           a ``not`` or a ``~`` removed
sign       a unary minus removed
name       a function swapped for its twin: mean/median, min/max, argmin/argmax, any/all, ...
keyword    a keyword argument dropped, so the callee's default applies
statement  a statement dropped: an update (``+=``, ``x[i] = ...``, ``obj.a = ...``), a call
           whose value is unused, ``raise``, ``break`` or ``continue``
========== ==========================================================================

Only the solution region (between ``### BEGIN SOLUTION`` and ``### END
SOLUTION``) is mutated; a mutant is the whole cell with that one change. Each
mutant has an id, ``"<line>:<column> <operator> <change>"``, with the line
counted in the cell: stable while the solution does not change, and how an
author marks an equivalent mutant in ``metadata.mlcourse.equivalent_mutants``
(``{"12:15 compare Lt>LtE": "the values are distinct, so < and <= agree"}``).
"""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

_BEGIN = re.compile(r"^\s*### BEGIN SOLUTION\s*$")
_END = re.compile(r"^\s*### END SOLUTION\s*$")

COMPARE_SWAPS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
                 ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In}
ARITH_SWAPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
               ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult}
#: NumPy's element-wise logic: ``y_true & ~y_pred`` is where learners mix up masks.
MASK_SWAPS = {ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd}
_TWINS = [("mean", "median"), ("nanmean", "nanmedian"), ("min", "max"), ("nanmin", "nanmax"),
          ("argmin", "argmax"), ("minimum", "maximum"), ("any", "all"), ("floor", "ceil"), ("idxmin", "idxmax"),
          ("nsmallest", "nlargest"), ("cummin", "cummax")]
NAME_SWAPS = {**dict(_TWINS), **{b: a for a, b in _TWINS}}
OPERATORS = ("compare", "arith", "number", "boolean", "sign", "name", "keyword", "statement")


@dataclass(frozen=True)
class Mutant:
    """One change to a solution cell: ``code`` is the whole cell with it."""

    id: str
    code: str


def solution_lines(source: str) -> range:
    """1-based lines of the solution region of a cell (empty when it has no markers)."""
    lines = source.splitlines()
    begin = next((n for n, line in enumerate(lines, 1) if _BEGIN.match(line)), None)
    end = next((n for n, line in enumerate(lines, 1) if _END.match(line) and begin and n > begin), None)
    return range(begin + 1, end) if begin and end else range(0)


def _changes(node: ast.AST) -> Iterator[tuple[str, str, Callable | None]]:
    """(operator, change, apply) for each mutation of ``node``; ``apply`` edits a copy of the node in place."""
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            if type(op) in COMPARE_SWAPS:
                new = COMPARE_SWAPS[type(op)]
                which = f"#{i + 1}" if len(node.ops) > 1 else ""
                yield "compare", f"{type(op).__name__}>{new.__name__}{which}", lambda n, i=i, new=new: n.ops.__setitem__(i, new())
    elif isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in ARITH_SWAPS:
        new = ARITH_SWAPS[type(node.op)]
        yield "arith", f"{type(node.op).__name__}>{new.__name__}", lambda n, new=new: setattr(n, "op", new())
    elif isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in MASK_SWAPS:
        new = MASK_SWAPS[type(node.op)]
        yield "boolean", f"{type(node.op).__name__}>{new.__name__}", lambda n, new=new: setattr(n, "op", new())
    elif isinstance(node, ast.Constant) and type(node.value) in (int, float) and not isinstance(node.value, bool):
        yield "number", f"{node.value!r}>{node.value + 1!r}", lambda n: setattr(n, "value", n.value + 1)
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
        yield "boolean", f"{node.value}>{not node.value}", lambda n: setattr(n, "value", not n.value)
    elif isinstance(node, ast.BoolOp):
        new = ast.Or if isinstance(node.op, ast.And) else ast.And
        yield "boolean", f"{type(node.op).__name__}>{new.__name__}", lambda n, new=new: setattr(n, "op", new())
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield "boolean", "not>", None
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert):
        yield "boolean", "~>", None
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        yield "sign", "-x>x", None
    elif isinstance(node, ast.Call):
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        if name in NAME_SWAPS:
            attr = "attr" if isinstance(node.func, ast.Attribute) else "id"
            yield "name", f"{name}>{NAME_SWAPS[name]}", lambda n, attr=attr: setattr(n.func, attr, NAME_SWAPS[name])
        for i, keyword in enumerate(node.keywords):
            if keyword.arg is not None:
                yield "keyword", f"drop {keyword.arg}=", lambda n, i=i: n.keywords.pop(i)
    if _droppable(node):
        yield "statement", f"drop {type(node).__name__.lower()}", None


def _droppable(node: ast.AST) -> bool:
    if isinstance(node, (ast.AugAssign, ast.Raise, ast.Break, ast.Continue)):
        return True
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        return True
    return isinstance(node, ast.Assign) and all(isinstance(t, (ast.Subscript, ast.Attribute)) for t in node.targets)


class _Replace(ast.NodeTransformer):
    """Apply one change to ``target``, a node of the tree visited."""

    def __init__(self, target: ast.AST, operator: str, apply) -> None:
        self.target, self.operator, self.apply = target, operator, apply

    def visit(self, node: ast.AST):
        if node is not self.target:
            return self.generic_visit(node)
        if self.operator == "statement":
            return ast.Pass()
        if self.apply is None:  # a unary operator removed: the operand stands alone
            return node.operand
        self.apply(node)
        return node


def mutants(source: str) -> list[Mutant]:
    """Every mutant of the solution region of ``source`` (a solution cell), by line and column."""
    region = solution_lines(source)
    if not region:
        return []
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)) and n.body
                  and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)
                  and isinstance(n.body[0].value.value, str)}
    found: list[Mutant] = []
    for position, node in enumerate(ast.walk(tree)):
        line = getattr(node, "lineno", None)
        if line not in region or id(node) in docstrings:
            continue
        for operator, change, apply in _changes(node):
            mutated = copy.deepcopy(tree)
            target = next(n for i, n in enumerate(ast.walk(mutated)) if i == position)
            _Replace(target, operator, apply).visit(mutated)
            ast.fix_missing_locations(mutated)
            name = f"{line}:{node.col_offset} {operator} {change}"
            taken = sum(1 for m in found if m.id == name or m.id.startswith(name + " #"))
            found.append(Mutant(name + (f" #{taken + 1}" if taken else ""), ast.unparse(mutated)))
    return sorted(_unique(found), key=lambda m: tuple(int(part) for part in m.id.split(" ")[0].split(":")))


def mutant_ids(source: str) -> set[str]:
    """The ids :func:`mutants` gives ``source``: what an equivalent-mutant mark must name."""
    return {mutant.id for mutant in mutants(source)}


def _unique(found: list[Mutant]) -> list[Mutant]:
    """Drop mutants whose code another mutant already has (``-1 + 1`` and a dropped sign can coincide)."""
    seen: set[str] = set()
    kept = []
    for mutant in found:
        if mutant.code not in seen:
            seen.add(mutant.code)
            kept.append(mutant)
    return kept
