"""Jupyter notebooks: a student's ``.ipynb`` read as module text, and notebooks written.

Reading (:func:`to_module`) parses the file as JSON in the grader's process and executes
nothing: the code cells are joined in order into the text of one module, which is then graded as
a single-file submission (copied to the worker as ``submission.py``). Outputs, execution counts
and metadata (the kernel included) are ignored: they are whatever the student's editor saved, so
nothing in them is trusted. IPython syntax is not Python, so

- a line that starts with ``%`` (a line magic) or ``!`` (a shell escape) is left out, and
- a cell that starts with ``%%`` (a cell magic: ``%%timeit``, ``%%bash``) is left out whole,

each with a note the student sees. The check cells of a released notebook
(``from grader.notebook_checks import run_check``, ``run_check(...)`` at the top level of a
cell) are commented out: the grader runs its checks itself. Every cell must parse on its own (it
must in Jupyter too), so a syntax error is reported by cell and line, before any worker starts.

Writing (:func:`notebook`, :func:`code_cell`, :func:`markdown_cell`) makes nbformat 4.5
notebooks, for the student bundle and the nbgrader export.
"""

from __future__ import annotations

import ast
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from grader.errors import SubmissionError

# CPython 3.11 builds Python AST objects with interpreter-wide state: two threads parsing at
# once (a batch converts notebooks in its worker threads) can fail with "SystemError: AST
# constructor recursion depth mismatch" (python/cpython#106905). One parse at a time.
_AST_LOCK = threading.Lock()


def _parse(code: str) -> ast.Module:
    with _AST_LOCK:
        return ast.parse(code)

NBFORMAT = 4
_SHOWN_MAGIC = 60  # characters of a skipped magic quoted in its note


class NotebookError(SubmissionError):
    """A notebook that cannot be graded; the message says why and what to do."""


@dataclass(frozen=True)
class Converted:
    """A notebook as module text, with the notes on what was left out."""

    text: str
    notes: tuple[str, ...] = field(default_factory=tuple)


# ----------------------------------------------------------------------------- reading

def read(data: bytes, shown: str) -> dict:
    """The notebook in ``data`` (bytes of an .ipynb shown as ``shown``), checked to be an
    nbformat 4 notebook with a list of cells. Raises :class:`NotebookError`."""
    try:
        nb = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise NotebookError(f"{shown} is not UTF-8 text (byte 0x{data[exc.start]:02x}), so it "
                            "is not a notebook; save it again from Jupyter and submit again"
                            ) from None
    except json.JSONDecodeError as exc:
        raise NotebookError(f"{shown} is not a valid notebook: it is not JSON ({exc.msg} at "
                            f"line {exc.lineno}, column {exc.colno}); open it in Jupyter, save "
                            "it and submit again") from None
    except RecursionError:
        raise NotebookError(f"{shown} is not a valid notebook: its JSON is nested too deeply; "
                            "save it again from Jupyter and submit again") from None
    if not isinstance(nb, dict) or "nbformat" not in nb:
        raise NotebookError(f"{shown} is JSON but not a notebook (no nbformat version); submit "
                            "the .ipynb file that Jupyter saves")
    version = nb["nbformat"]
    if type(version) is not int or version != NBFORMAT:
        raise NotebookError(f"{shown} has nbformat version {str(version)[:20]}; only nbformat "
                            f"{NBFORMAT} notebooks are graded: open it in Jupyter (or run "
                            "`jupyter nbconvert --to notebook --nbformat 4`), save it and "
                            "submit again")
    if not isinstance(nb.get("cells"), list):
        raise NotebookError(f"{shown} has no list of cells; save it again from Jupyter and "
                            "submit again")
    return nb


def _source(cell: object, number: int, shown: str) -> tuple[str, str]:
    """(cell type, source text) of one cell; raises NotebookError when unreadable."""
    if not isinstance(cell, dict):
        raise NotebookError(f"{shown}: cell {number} is not a cell object; save the notebook "
                            "again from Jupyter and submit again")
    source = cell.get("source", "")
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        source = "".join(source)
    if not isinstance(source, str):
        raise NotebookError(f"{shown}: cell {number} has no readable source; save the notebook "
                            "again from Jupyter and submit again")
    return str(cell.get("cell_type", "")), source


def _quote(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _SHOWN_MAGIC else text[:_SHOWN_MAGIC - 3] + "..."


def _strip_magics(source: str, number: int, shown: str, notes: list[str]) -> str:
    """The cell without its magic lines, each replaced so line numbers stay the same."""
    lines = source.split("\n")
    for index, line in enumerate(lines):
        body = line.lstrip()
        if not body.startswith(("%", "!")):
            continue
        indent = line[:len(line) - len(body)]
        kind = "shell escape" if body.startswith("!") else "IPython magic"
        # Inside a block the line must stay a statement, or the block could end up empty.
        lines[index] = f"{indent}pass  # skipped: {kind}" if indent else f"# skipped: {kind}"
        notes.append(f"{shown}: cell {number}, line {index + 1}: skipped the {kind} "
                     f"`{_quote(body)}` (magics and shell escapes do not run when grading)")
    return "\n".join(lines)


def _check_syntax(code: str, number: int, shown: str) -> None:
    try:
        _parse(code)
    except SyntaxError as exc:
        raise NotebookError(f"{shown}: cell {number}, line {exc.lineno}: SyntaxError: "
                            f"{exc.msg}; fix the cell (it does not run in Jupyter either) and "
                            "submit again") from None
    except (RecursionError, MemoryError, ValueError) as exc:
        raise NotebookError(f"{shown}: cell {number} cannot be parsed "
                            f"({type(exc).__name__}); simplify it and submit again") from None


def _is_check_statement(node: ast.stmt) -> bool:
    """``from grader.notebook_checks import run_check`` or ``run_check(...)``: the public checks
    of a released notebook, which the grader runs itself (and a worker must not)."""
    if isinstance(node, ast.ImportFrom):
        return (node.module or "").split(".")[0] == "grader"
    if isinstance(node, ast.Import):
        return all(a.name.split(".")[0] == "grader" for a in node.names)
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name) and node.value.func.id == "run_check")


def _drop_check_calls(code: str) -> str:
    """The cell with its top-level check statements commented out (line numbers kept)."""
    lines = code.split("\n")
    for node in _parse(code).body:
        if _is_check_statement(node):
            for index in range(node.lineno - 1, node.end_lineno):
                lines[index] = "# (run by the grader) " + lines[index]
    return "\n".join(lines)


def to_module(data: bytes, shown: str) -> Converted:
    """The code cells of the notebook in ``data`` as the text of one module, in order.

    Nothing is executed. Raises :class:`NotebookError` for a file that is not an nbformat 4
    notebook or a code cell that does not parse.
    """
    nb = read(data, shown)
    notes: list[str] = []
    parts = [f"# The code cells of {shown}, in order, as the grader runs them.\n"]
    for number, cell in enumerate(nb["cells"], start=1):
        kind, source = _source(cell, number, shown)
        if kind != "code" or not source.strip():
            continue
        if source.lstrip().startswith("%%"):
            first = source.lstrip().split("\n", 1)[0]
            notes.append(f"{shown}: cell {number}: skipped the whole cell, which starts with "
                         f"the cell magic `{_quote(first)}` (magics do not run when grading)")
            continue
        code = _strip_magics(source, number, shown, notes)
        _check_syntax(code, number, shown)
        code = _drop_check_calls(code)
        parts.append(f"# cell {number}\n{code.rstrip()}\n")
    return Converted("\n".join(parts), tuple(notes))


def defined_names(text: str) -> set[str]:
    """Names a module's top level binds (functions, classes, assignments, imports)."""
    names: set[str] = set()
    for node in _parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def require_graded(converted: Converted, shown: str, functions: Iterable[str]) -> None:
    """Raise :class:`NotebookError` when the notebook defines none of ``functions``."""
    wanted = sorted(set(functions))
    if wanted and not defined_names(converted.text) & set(wanted):
        listed = ", ".join(wanted[:8]) + (", ..." if len(wanted) > 8 else "")
        raise NotebookError(f"{shown} defines none of the graded functions ({listed}); write "
                            "them in code cells of the notebook (for example "
                            f"`def {wanted[0]}(...):`) and submit again")


def graded_functions() -> set[str]:
    """Every function name an exercise of the catalog asks for."""
    from grader.catalog import catalog

    return {f for e in catalog().values() for f in e.functions}


def convert(data: bytes, shown: str) -> Converted:
    """:func:`to_module`, then :func:`require_graded` against the whole catalog."""
    converted = to_module(data, shown)
    require_graded(converted, shown, graded_functions())
    return converted


# ----------------------------------------------------------------------------- writing

def _lines(text: str) -> list[str]:
    """A cell's source as nbformat stores it: lines, each but the last ending in a newline."""
    text = text.strip("\n")
    return text.splitlines(keepends=True) if text else []


def code_cell(source: str, nbgrader: dict | None = None) -> dict:
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": _lines(source)}
    if nbgrader is not None:
        cell["metadata"]["nbgrader"] = nbgrader
    return cell


def markdown_cell(source: str, nbgrader: dict | None = None) -> dict:
    cell = {"cell_type": "markdown", "metadata": {}, "source": _lines(source)}
    if nbgrader is not None:
        cell["metadata"]["nbgrader"] = nbgrader
    return cell


def notebook(cells: list[dict]) -> dict:
    """An nbformat 4.5 notebook for a Python 3 kernel. Cell ids are made from positions, so
    the same cells always give the same file."""
    for index, cell in enumerate(cells):
        cell["id"] = f"cell-{index:03d}"
    return {"cells": cells, "nbformat": NBFORMAT, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                        "language": "python"},
                         "language_info": {"name": "python"}}}


def write(path: str | Path, nb: dict) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
