"""Source notebooks as reviewable text: ``NN_stage.pct.py`` is the source, ``NN_stage.ipynb`` is generated from it.

The text is jupytext's percent format. Every cell starts with a ``# %%`` line
that carries the cell's type and metadata as ``key=JSON`` pairs, and its id
first (jupytext keeps no cell ids in text, so we carry it as ``id="..."`` and
move it into ``cell.id``)::

    # %% [markdown] id="md-title"
    # # Stage 4 — Evaluation measures

    # %% id="ex2-confusion-counts" mlcourse={"stage": "evaluation", "tier": 1} nbgrader={...}
    def confusion_counts(y_true, y_pred):
        ...

The file starts with a YAML header (``# ---`` ... ``# ---``) holding the
notebook metadata (kernelspec, language_info). The notebook generated from the
text has no outputs, ``execution_count: null``, nbformat 4.5, and nbformat's
standard JSON layout, so the same text always gives the same bytes.

``sync`` writes every notebook from its text; ``drift`` says, one line per
notebook, where a committed notebook is not what its text generates.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jupytext
import nbformat
from nbformat import v4

from grader.catalogue import TEXT_SUFFIX
from grader.errors import CourseError

NOTEBOOK_SUFFIX = ".ipynb"
#: jupytext's format for the text: all notebook metadata in the header except jupytext's own section.
TEXT_FORMAT = {"extension": ".py", "format_name": "percent", "notebook_metadata_filter": "all,-jupytext"}
#: Every generated notebook is nbformat 4.5 (cell ids), whatever nbformat's newest minor version is.
NBFORMAT, NBFORMAT_MINOR = 4, 5
#: Cell metadata that jupytext adds on reading to remember the text's layout (blank lines, markers):
#: how the text looks, not what the notebook says, so it never reaches the notebook.
_LAYOUT_METADATA = ("skipline", "noskipline", "cell_marker", "lines_to_next_cell", "lines_to_end_of_cell_marker")
#: What jupytext makes of a ``# %%`` line it cannot read as ``key=JSON`` pairs.
_UNREADABLE_HEADER = ("incorrectly_encoded_metadata", "title")
_CELL_MARKER = re.compile(r"^\s*#\s*%%(?:\s.*)?$")
_OPTION_KEY = re.compile(r"(?:^|\s)([A-Za-z_][\w.-]*)=")
#: A text cell whose header carries ``mistake={...}`` is a wrong answer to the solution cell before it.
MISTAKE_KEY = "mistake"
#: Where the source notebook keeps them: ``metadata.mlcourse.mistakes`` of the solution cell.
MISTAKES = "mistakes"
_CELL_FIELDS = ("cell_type", "source", "metadata", "outputs", "execution_count", "attachments")


# -- paths ---------------------------------------------------------------------
def text_path(notebook_path: Path) -> Path:
    """The text source of a notebook: ``04_evaluation/04_evaluation.ipynb`` -> ``04_evaluation/04_evaluation.pct.py``."""
    notebook_path = Path(notebook_path)
    return notebook_path.with_name(notebook_path.name.removesuffix(NOTEBOOK_SUFFIX) + TEXT_SUFFIX)


def notebook_path(text: Path) -> Path:
    """The notebook generated from a text source (the inverse of :func:`text_path`)."""
    text = Path(text)
    return text.with_name(text.name.removesuffix(TEXT_SUFFIX) + NOTEBOOK_SUFFIX)


def _texts(notebooks_dir: Path) -> list[Path]:
    return sorted(p for p in Path(notebooks_dir).glob(f"*/*{TEXT_SUFFIX}") if ".ipynb_checkpoints" not in p.parts)


def _notebooks(notebooks_dir: Path) -> list[Path]:
    return sorted(p for p in Path(notebooks_dir).glob(f"*/*{NOTEBOOK_SUFFIX}") if ".ipynb_checkpoints" not in p.parts)


# -- text -> notebook ------------------------------------------------------------
def notebook_from_text(path: Path) -> nbformat.NotebookNode:
    """The notebook a text source generates. A text that cannot be read raises a CourseError naming file and line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CourseError(f"{path}: cannot read the notebook text: {exc}") from None
    return notebook_from_string(text, where=str(path))


def notebook_from_string(text: str, where: str = "<text>") -> nbformat.NotebookNode:
    """:func:`notebook_from_text` for text in hand; ``where`` names it in errors."""
    try:
        parsed = jupytext.reads(text, fmt=dict(TEXT_FORMAT))
    except Exception as exc:  # jupytext raises assorted types (YAML errors in the header among them)
        raise CourseError(f"{where}: jupytext cannot read it as a percent-format notebook: "
                          f"{exc.__class__.__name__}: {exc}") from None
    markers = [number for number, line in enumerate(text.splitlines(), 1) if _CELL_MARKER.match(line)]
    if len(parsed.cells) == len(markers) + 1 and "id" not in parsed.cells[0].metadata:
        first = next((n for n, line in enumerate(text.splitlines(), 1) if line.strip()), 1)
        raise CourseError(f"{where}:{first}: only the notebook header (# --- ... # ---) may come before the first "
                          f"`# %%` cell line; jupytext read this as a {parsed.cells[0].cell_type} cell "
                          f"(is the header's YAML broken?)")
    lines = _marker_lines(text, markers, parsed.cells)
    cells, seen = [], {}
    for index, cell in enumerate(parsed.cells):
        at = f"{where}:{lines[index]}" if lines[index] else f"{where}: cell {index + 1}"
        metadata = {k: v for k, v in cell.metadata.items() if k not in _LAYOUT_METADATA}
        if any(key in metadata for key in _UNREADABLE_HEADER):
            raise CourseError(f"{at}: cannot read the cell header {_header_text(text, lines[index])!r}: "
                              f"{_header_problem(metadata)}")
        cell_id = metadata.pop("id", None)
        if not isinstance(cell_id, str) or not cell_id:
            raise CourseError(f'{at}: the cell has no id: start its header with id="a-name" (e.g. # %% id="ex3-f1")')
        if cell_id in seen:
            raise CourseError(f"{at}: cell id {cell_id!r} is used twice (first at {seen[cell_id]})")
        seen[cell_id] = at
        if MISTAKE_KEY in metadata:
            _fold_mistake(cells, cell, cell_id, metadata, at)
            continue
        cells.append(_new_cell(cell.cell_type, cell.source, cell_id, metadata, at))
    metadata = {k: v for k, v in parsed.metadata.items() if k != "jupytext"}
    nb = v4.new_notebook(cells=cells, metadata=metadata)
    nb.nbformat, nb.nbformat_minor = NBFORMAT, NBFORMAT_MINOR
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        raise CourseError(f"{where}: the notebook it generates is not valid nbformat {NBFORMAT}.{NBFORMAT_MINOR}: "
                          f"{str(exc).splitlines()[0]}") from None
    return nb


def _fold_mistake(cells: list, cell, cell_id: str, metadata: dict, at: str) -> None:
    """Move a mistake cell into ``metadata.mlcourse.mistakes`` of the solution cell it follows.

    A mistake is a wrong answer the exercise's tests must catch, written as
    the whole cell a learner would submit. It lives in the source notebook's
    metadata, never as a cell, so no release can show it.
    """
    mistake = metadata[MISTAKE_KEY]
    if cell.cell_type != "code" or set(metadata) != {MISTAKE_KEY}:
        raise CourseError(f"{at}: a mistake cell is a code cell whose header holds only its id and "
                          f'mistake={{"why": ...}}')
    if not isinstance(mistake, dict) or not isinstance(mistake.get("why"), str) or not mistake["why"].strip():
        raise CourseError(f'{at}: mistake= needs a JSON object with a "why" that says what the mistake is')
    if "code" in mistake or "id" in mistake:
        raise CourseError(f"{at}: the mistake's code is the cell's body and its id the cell's id, not keys of mistake=")
    owner = cells[-1] if cells else None
    if owner is None or not owner.get("metadata", {}).get("nbgrader", {}).get("solution"):
        raise CourseError(f"{at}: a mistake cell must directly follow the solution cell it belongs to "
                          f"(or another mistake cell of it)")
    tags = owner.metadata.setdefault("mlcourse", {})
    tags.setdefault(MISTAKES, []).append({"id": cell_id, **mistake, "code": cell.source})


def _new_cell(cell_type: str, source: str, cell_id: str, metadata: dict, at: str) -> nbformat.NotebookNode:
    makers = {"code": v4.new_code_cell, "markdown": v4.new_markdown_cell, "raw": v4.new_raw_cell}
    if cell_type not in makers:
        raise CourseError(f"{at}: unknown cell type {cell_type!r}")
    try:  # new_code_cell gives outputs [] and execution_count None: a source notebook has neither.
        return makers[cell_type](source=source, id=cell_id, metadata=metadata)
    except nbformat.ValidationError as exc:  # e.g. an id that nbformat 4.5 does not allow
        raise CourseError(f"{at}: not a valid nbformat cell: {str(exc).splitlines()[0]}") from None


def _marker_lines(text: str, markers: list[int], cells: list) -> list[int | None]:
    """The 1-based line of each cell's ``# %%`` header (None where it cannot be told)."""
    if len(markers) == len(cells):
        return markers
    found, lines, start = [], text.splitlines(), 0
    for cell in cells:  # a marker-like line inside a code string: match each cell's header by its id
        cell_id = cell.metadata.get("id")
        hit = next((n for n in markers if n > start and (cell_id is None or f'id="{cell_id}"' in lines[n - 1])), None)
        found.append(hit)
        start = hit or start
    return found


def _header_text(text: str, line: int | None) -> str:
    return text.splitlines()[line - 1].strip() if line else "# %% ..."


def _header_problem(metadata: dict) -> str:
    """Why jupytext could not read a header as ``key=JSON`` pairs: the first value that is not JSON, or stray text."""
    if "incorrectly_encoded_metadata" not in metadata:  # jupytext took the words before the metadata for a title
        return (f"{metadata['title']!r} is neither a cell type ([markdown] or [raw]) nor key=JSON metadata "
                f"such as id=\"ex1\"")
    options = str(metadata["incorrectly_encoded_metadata"])
    keys = list(_OPTION_KEY.finditer(options))
    for key, following in zip(keys, keys[1:] + [None]):
        value = options[key.end():following.start() if following else len(options)].strip()
        try:
            json.loads(value)
        except ValueError as exc:
            return f"the value of {key.group(1)} is not JSON ({exc}): {value!r}"
    return f"expected key=JSON pairs such as id=\"ex1\" nbgrader={{...}}, got {options!r}"


# -- notebook -> text ------------------------------------------------------------
def text_from_notebook(nb: nbformat.NotebookNode) -> str:
    """The text source of a notebook: what :func:`notebook_from_string` turns back into the same notebook.

    Outputs and execution counts are not carried (a source notebook has none);
    trailing blank lines of a cell are dropped.
    """
    cells, seen = [], set()
    for index, cell in enumerate(nb.cells):
        cell_id = cell.get("id")
        if not cell_id:
            raise CourseError(f"cell {index + 1} has no id: a source notebook must be nbformat 4.5 with an id per cell")
        if cell_id in seen:
            raise CourseError(f"cell {index + 1}: cell id {cell_id!r} is used twice")
        seen.add(cell_id)
        clash = sorted(set(cell.metadata) & ({"id"} | set(_LAYOUT_METADATA) | set(_UNREADABLE_HEADER)))
        if clash:
            raise CourseError(f"cell {cell_id!r}: metadata {', '.join(clash)} cannot be carried in the text")
        if cell.get("attachments"):
            raise CourseError(f"cell {cell_id!r} has attachments, which the text cannot carry: link the image instead")
        metadata = {"id": cell_id, **_sorted(dict(cell.metadata))}
        mistakes = metadata.get("mlcourse", {}).pop(MISTAKES, []) if isinstance(metadata.get("mlcourse"), dict) else []
        cells.append(_text_cell(cell.cell_type, metadata, _source(cell)))
        for mistake in mistakes:
            if mistake.get("id") in seen or not mistake.get("id"):
                raise CourseError(f"cell {cell_id!r}: a mistake needs an id of its own, unique in the notebook")
            seen.add(mistake["id"])
            rest = {key: value for key, value in mistake.items() if key not in ("id", "code")}
            cells.append(_text_cell("code", {"id": mistake["id"], MISTAKE_KEY: _sorted(rest)}, mistake.get("code", "")))
    copy = nbformat.from_dict({"nbformat": NBFORMAT, "nbformat_minor": NBFORMAT_MINOR, "cells": cells,
                               "metadata": _sorted({k: v for k, v in nb.metadata.items() if k != "jupytext"})})
    return jupytext.writes(copy, fmt=dict(TEXT_FORMAT)).rstrip("\n") + "\n"


def _text_cell(cell_type: str, metadata: dict, source: str) -> nbformat.NotebookNode:
    return nbformat.from_dict({"cell_type": cell_type, "metadata": metadata, "source": source.rstrip("\n"),
                               **({"outputs": [], "execution_count": None} if cell_type == "code" else {})})


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _sorted(value):
    """Dictionaries with their keys in order, all the way down: the text reads the same whatever order it came in."""
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


def notebook_json(nb: nbformat.NotebookNode) -> str:
    """A notebook's bytes as committed: nbformat's standard layout (indent 1, sorted keys) and a final newline."""
    return nbformat.writes(nb, version=nbformat.NO_CONVERT) + "\n"


def write_text(notebook: Path) -> Path:
    """Write the text source of an existing notebook beside it (once, to start a module from an ``.ipynb``)."""
    notebook = Path(notebook)
    nb = nbformat.read(notebook, as_version=nbformat.NO_CONVERT)
    try:
        text = text_from_notebook(nb)
    except CourseError as exc:
        raise CourseError(f"{notebook}: {exc}") from None
    target = text_path(notebook)
    target.write_text(text, encoding="utf-8")
    return target


# -- the folder ------------------------------------------------------------------
def sync(notebooks_dir: Path) -> list[Path]:
    """Write every notebook from its text source; the notebooks whose bytes changed (unchanged ones are not touched)."""
    changed = []
    # Every text is read before any notebook is written: one unreadable text leaves the folder as it was.
    generated_from = {text: notebook_json(notebook_from_text(text)) for text in _texts(notebooks_dir)}
    for text, generated in generated_from.items():
        target = notebook_path(text)
        try:
            current = target.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            current = None
        if current != generated:
            target.write_text(generated, encoding="utf-8")
            changed.append(target)
    return changed


def drift(notebooks_dir: Path) -> list[str]:
    """One line per notebook that is not what its text generates, per notebook without a text, per text without one."""
    notebooks_dir = Path(notebooks_dir)

    def shown(path: Path) -> str:
        return str(path.relative_to(notebooks_dir.parent)) if path.is_relative_to(notebooks_dir.parent) else str(path)

    found = []
    texts = _texts(notebooks_dir)
    for notebook in _notebooks(notebooks_dir):
        if not text_path(notebook).is_file():
            found.append(f"{shown(notebook)}: has no text source {text_path(notebook).name}: the text is the "
                         f"source of truth; write it from the notebook once ({__name__}.write_text) and commit it")
    for text in texts:
        notebook = notebook_path(text)
        try:
            generated = notebook_from_text(text)
        except CourseError as exc:
            found.append(str(exc))
            continue
        if not notebook.is_file():
            found.append(f"{shown(text)}: its notebook {notebook.name} is missing: run `mlcourse notebooks sync`")
            continue
        committed = notebook.read_bytes()
        if committed == notebook_json(generated).encode("utf-8"):
            continue
        what = _difference(generated, committed)
        found.append(f"{shown(notebook)}: differs from {text.name}: {what}; run `mlcourse notebooks sync` "
                     f"(edit the text, not the notebook)")
    return found


def _difference(generated: nbformat.NotebookNode, committed: bytes) -> str:
    """What first differs between the notebook a text generates and the committed one, in words."""
    try:
        data = json.loads(committed)
    except ValueError as exc:
        return f"the committed notebook is not JSON ({exc})"
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        return "the committed notebook has no list of cells"
    for key in ("nbformat", "nbformat_minor"):
        if data.get(key) != generated[key]:
            return f"{key} is {data.get(key)!r}, the text gives {generated[key]!r}"
    if (where := _first_difference(generated.metadata, data.get("metadata"))) is not None:
        return f"notebook metadata {where}"
    theirs = [cell if isinstance(cell, dict) else {} for cell in data["cells"]]
    ours_ids, their_ids = [c.id for c in generated.cells], [c.get("id") for c in theirs]
    if ours_ids != their_ids:
        only_text = [i for i in ours_ids if i not in their_ids]
        only_nb = [i for i in their_ids if i not in ours_ids]
        if only_text:
            return f"cell {only_text[0]!r} is in the text but not in the notebook"
        if only_nb:
            return f"cell {only_nb[0]!r} is in the notebook but not in the text"
        first = next(n for n, (a, b) in enumerate(zip(ours_ids, their_ids)) if a != b)
        return f"the cells are in another order (cell {first + 1} is {their_ids[first]!r}, the text has {ours_ids[first]!r})"
    for ours, their in zip(generated.cells, theirs):
        for field in _CELL_FIELDS:
            mine = _source(ours) if field == "source" else ours.get(field)
            other = _source(their) if field == "source" and field in their else their.get(field)
            if field == "source" and mine != other:
                return f"cell {ours.id!r}: source {_line_difference(mine, other)}"
            if field != "source" and (where := _first_difference(mine, other)) is not None:
                return f"cell {ours.id!r}: {field} {where}"
        if set(their) - {"id", *_CELL_FIELDS}:
            return f"cell {ours.id!r}: has keys the text does not give: {sorted(set(their) - {'id', *_CELL_FIELDS})}"
    if set(data) - {"cells", "metadata", "nbformat", "nbformat_minor"}:
        return f"the notebook has top-level keys the text does not give: {sorted(set(data) - set(generated))}"
    return "only the JSON layout differs (indentation, key order or final newline)"


def _first_difference(ours, theirs, path: str = "") -> str | None:
    """The first place two JSON values differ, as ``key.sub: the text gives X, the notebook has Y``; None if equal."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key in sorted(set(ours) | set(theirs)):
            where = f"{path}.{key}" if path else key
            if key not in theirs:
                return f"{where}: the text gives {json.dumps(ours[key])}, the notebook has none"
            if key not in ours:
                return f"{where}: the notebook has {json.dumps(theirs[key])}, the text gives none"
            if (found := _first_difference(ours[key], theirs[key], where)) is not None:
                return found
        return None
    if ours == theirs and type(ours) is type(theirs):
        return None
    shorten = lambda value: (text if len(text := json.dumps(value, ensure_ascii=False)) <= 80 else text[:77] + "...")
    return f"{path or 'value'}: the text gives {shorten(ours)}, the notebook has {shorten(theirs)}"


def _line_difference(ours: str, theirs) -> str:
    if not isinstance(theirs, str):
        return f"is not text in the notebook ({type(theirs).__name__})"
    mine, other = ours.splitlines(), theirs.splitlines()
    for number, (a, b) in enumerate(zip(mine, other), 1):
        if a != b:
            return f"line {number}: the text has {a.strip()[:60]!r}, the notebook {b.strip()[:60]!r}"
    if len(mine) != len(other):
        return f"the text has {len(mine)} lines, the notebook {len(other)}"
    return "differs in line endings or a final newline"
