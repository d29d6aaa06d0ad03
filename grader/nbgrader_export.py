"""``grader export nbgrader``: the exercises as an nbgrader course.

Writes ``OUT/nbgrader_config.py`` and ``OUT/source/<assignment>/<notebook>.ipynb``: one notebook
per assignment of the course file (``--assignment``), else one assignment and notebook per topic.
Each exercise is

- a markdown cell with its title, summary and the math of each function (the stub's docstring);
- one solution cell per function: the stub's signature and docstring, then the reference body
  from ``solutions/`` between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (module-level
  helpers the reference uses go inside the region, so nothing of the reference is released);
- one autograded test cell per check, worth the check's points, calling
  :func:`grader.notebook_checks.run_check`: the grader's own inputs, reference and judge, so
  nbgrader's verdicts are the grader's. Hidden checks sit between ``### BEGIN HIDDEN TESTS``
  and ``### END HIDDEN TESTS``, which ``nbgrader generate_assignment`` removes from the release.

Speed checks are left out: they need the grader's timing (``grader batch --timing``).
Cell metadata follows nbgrader's schema version 3; grade ids are ``<topic>-<name>-...``.
"""

from __future__ import annotations

import ast
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import click

from typing import TYPE_CHECKING

from grader import notebook as nbm
from grader.errors import GraderError

if TYPE_CHECKING:
    from grader.catalog import Exercise

# As grader.catalog has them; not imported from there, so that grader.cli can import this
# module without numpy.
EXERCISES_DIR = Path(__file__).resolve().parent.parent / "exercises"
SOLUTIONS_DIR = Path(__file__).resolve().parent.parent / "solutions"

SCHEMA_VERSION = 3
_GRADE_ID = re.compile(r"[^A-Za-z0-9_-]")


class ExportError(GraderError):
    """The nbgrader course cannot be written."""


@dataclass
class NbgraderExport:
    out: Path
    notebooks: list[Path] = field(default_factory=list)
    test_cells: int = 0
    hidden_tests: int = 0
    speed_checks_left_out: int = 0


# ----------------------------------------------------------------------------- source text

def _functions(path: Path) -> tuple[list[str], dict[str, ast.stmt], list[str], ast.Module]:
    """(lines, top-level defs by name, import statements' text, tree) of a module."""
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    defs = {n.name: n for n in tree.body
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    imports = [ast.get_source_segment(text, n) for n in tree.body
               if isinstance(n, (ast.Import, ast.ImportFrom)) and not (
                   isinstance(n, ast.ImportFrom) and n.module == "__future__")]
    return text.splitlines(), defs, imports, tree


def _segment(lines: list[str], start: int, end: int) -> str:
    return "\n".join(lines[start - 1:end])


def _has_docstring(node: ast.stmt) -> bool:
    body = getattr(node, "body", [])
    return bool(body) and isinstance(body[0], ast.Expr) and isinstance(
        getattr(body[0], "value", None), ast.Constant) and isinstance(body[0].value.value, str)


def _helpers(tree: ast.Module, lines: list[str], node: ast.stmt) -> list[str]:
    """Source of the reference module's top-level definitions (not imports) that ``node`` uses,
    transitively, in module order."""
    top = [s for s in tree.body if not isinstance(s, (ast.Import, ast.ImportFrom))]

    def defined(stmt: ast.stmt) -> set[str]:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return {stmt.name}
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        return set()

    used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    keep: list[ast.stmt] = []
    changed = True
    while changed:
        changed = False
        for stmt in top:
            if stmt is not node and stmt not in keep and defined(stmt) & used:
                keep.append(stmt)
                used |= {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)}
                changed = True
    return [_segment(lines, s.lineno, s.end_lineno) for s in top if s in keep]


def solution_source(function: str, topic: str) -> str:
    """The solution cell of ``function``: the stub's signature and docstring, the reference's
    body (and the helpers it uses) between the solution markers."""
    stub_lines, stubs, _, _ = _functions(EXERCISES_DIR / f"{topic}.py")
    ref_lines, refs, _, ref_tree = _functions(SOLUTIONS_DIR / f"{topic}.py")
    if function not in stubs or function not in refs:
        raise ExportError(f"{function} is missing from exercises/{topic}.py or "
                          f"solutions/{topic}.py")
    stub, ref = stubs[function], refs[function]
    helpers = _helpers(ref_tree, ref_lines, ref)
    if isinstance(stub, ast.ClassDef) or not _has_docstring(stub):
        # A class is released whole as the solution: nbgrader clears it to a stub.
        code = "\n\n".join([*helpers, _segment(ref_lines, ref.lineno, ref.end_lineno)])
        return f"### BEGIN SOLUTION\n{code}\n### END SOLUTION"
    head = _segment(stub_lines, stub.lineno, stub.body[0].end_lineno)
    first = ref.body[1] if _has_docstring(ref) and len(ref.body) > 1 else ref.body[0]
    body = _segment(ref_lines, first.lineno, ref.end_lineno)
    indent = " " * stub.body[0].col_offset
    inner = "\n".join(indent + line if line else line
                      for h in helpers for line in h.splitlines())
    parts = [head, f"{indent}### BEGIN SOLUTION"]
    if inner:
        parts.append(inner)
    parts += [body, f"{indent}### END SOLUTION"]
    return "\n".join(parts)


def _docstring(function: str, topic: str) -> str:
    _, stubs, _, _ = _functions(EXERCISES_DIR / f"{topic}.py")
    node = stubs.get(function)
    return (ast.get_docstring(node) or "") if node is not None else ""


# ----------------------------------------------------------------------------- cells

def grade_id(*parts: str) -> str:
    return "-".join(_GRADE_ID.sub("_", p) for p in parts)


def _meta(grade_id_: str, *, grade: bool, solution: bool, locked: bool,
          points: float | None = None) -> dict:
    meta = {"schema_version": SCHEMA_VERSION, "grade": grade, "grade_id": grade_id_,
            "locked": locked, "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return meta


def exercise_markdown(exercise: Exercise) -> str:
    parts = [f"## {exercise.id}: {exercise.title}"]
    if exercise.summary:
        parts.append(exercise.summary)
    for function in exercise.functions:
        doc = _docstring(function, exercise.topic)
        parts.append(f"### `{function}`\n\n```text\n{doc}\n```" if doc else f"### `{function}`")
    return "\n\n".join(parts)


def check_call(exercise: Exercise, check_name: str, seed: int = 0) -> str:
    names = ", ".join(exercise.functions)
    extra = f", seed={seed}" if seed else ""
    return f"run_check({exercise.id!r}, {check_name!r}, {names}{extra})".replace("'", '"')


def setup_source(exercises: list[Exercise]) -> str:
    """The imports of the stubs' and references' modules, and run_check."""
    seen: list[str] = []
    for topic in dict.fromkeys(e.topic for e in exercises):
        for path in (EXERCISES_DIR / f"{topic}.py", SOLUTIONS_DIR / f"{topic}.py"):
            for line in _functions(path)[2]:
                if line not in seen:
                    seen.append(line)
    seen.append("from grader.notebook_checks import run_check")
    return "\n".join(seen)


def assignment_notebook(title: str, exercises: list[Exercise], export: NbgraderExport,
                        seed: int = 0) -> dict:
    cells = [nbm.markdown_cell(f"# {title}\n\nWrite each function where it says "
                               "`YOUR CODE HERE`. The test cells run the grader's checks; "
                               "hidden ones run when your notebook is graded.",
                               _meta("intro", grade=False, solution=False, locked=True)),
             nbm.code_cell(setup_source(exercises),
                           _meta("setup", grade=False, solution=False, locked=True))]
    for exercise in exercises:
        stem = exercise.id.replace(".", "-")
        cells.append(nbm.markdown_cell(exercise_markdown(exercise),
                                       _meta(grade_id(stem, "about"), grade=False,
                                             solution=False, locked=True)))
        for function in exercise.functions:
            cells.append(nbm.code_cell(solution_source(function, exercise.topic),
                                       _meta(grade_id(stem, function), grade=False,
                                             solution=True, locked=False)))
        for check in exercise.checks:
            if check.speed_within is not None:
                export.speed_checks_left_out += 1
                continue
            code = check_call(exercise, check.name, seed)
            if check.hidden:
                code = f"### BEGIN HIDDEN TESTS\n{code}\n### END HIDDEN TESTS"
                export.hidden_tests += 1
            about = f"# {exercise.id} check '{check.name}': {check.about}\n" if check.about \
                else ""
            cells.append(nbm.code_cell(about + code,
                                       _meta(grade_id(stem, "test", check.name), grade=True,
                                             solution=False, locked=True,
                                             points=float(check.points))))
            export.test_cells += 1
    return nbm.notebook(cells)


# ----------------------------------------------------------------------------- student notebooks

def stub_source(function: str, topic: str) -> str:
    """The stub of ``function`` as exercises/ has it (signature, docstring, the raise)."""
    lines, stubs, _, _ = _functions(EXERCISES_DIR / f"{topic}.py")
    if function not in stubs:
        raise ExportError(f"{function} is missing from exercises/{topic}.py")
    node = stubs[function]
    start = node.decorator_list[0].lineno if node.decorator_list else node.lineno
    return _segment(lines, start, node.end_lineno)


def student_notebook(title: str, exercises: list[Exercise], seed: int = 0) -> dict:
    """The released notebook of ``exercises``: the math in markdown, the stubs in code cells,
    each public check in a cell that runs it (:func:`grader.notebook_checks.run_check`)."""
    imports: list[str] = []
    for topic in dict.fromkeys(e.topic for e in exercises):
        imports += [i for i in _functions(EXERCISES_DIR / f"{topic}.py")[2] if i not in imports]
    cells = [nbm.markdown_cell(f"# {title}\n\nWrite each function in place of its "
                               "`raise NotImplementedError(...)`, run the cells below it to run "
                               "the public checks, and `grade -s` this notebook for the score. "
                               "Hidden checks run when your work is graded."),
             nbm.code_cell("\n".join([*imports, "from grader.notebook_checks import run_check"]))]
    for exercise in exercises:
        cells.append(nbm.markdown_cell(exercise_markdown(exercise)))
        cells += [nbm.code_cell(stub_source(f, exercise.topic)) for f in exercise.functions]
        cells += [nbm.code_cell(check_call(exercise, c.name, seed)) for c in exercise.checks
                  if not c.hidden and c.speed_within is None]
    return nbm.notebook(cells)


def write_student_notebooks(out: str | Path, exercises: list[Exercise], seed: int = 0
                            ) -> list[Path]:
    """``out/notebooks/<topic>.ipynb`` for each topic of ``exercises`` (grader release)."""
    topics: dict[str, list[Exercise]] = {}
    for exercise in exercises:
        topics.setdefault(exercise.topic, []).append(exercise)
    return [nbm.write(Path(out) / "notebooks" / f"{topic}.ipynb",
                      student_notebook(f"Exercises: {topic}", chosen, seed))
            for topic, chosen in topics.items()]


# ----------------------------------------------------------------------------- the course

CONFIG = """\
# nbgrader configuration of the course exported by `grader export nbgrader`.
# Run nbgrader from this folder; the autograding environment needs the grader installed
# (pip install -e <grader>[nbgrader]): the test cells call grader.notebook_checks.run_check.
c = get_config()  # noqa: F821 - nbgrader's config loader provides it
c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.root = __import__("os").path.dirname(__import__("os").path.abspath(__file__))
"""


def export_nbgrader(*, out: str | Path, exercises: list[Exercise],
                    assignment: str | None = None, title: str | None = None,
                    course_id: str = "dlmath", seed: int = 0, force: bool = False
                    ) -> NbgraderExport:
    """Write the nbgrader course for ``exercises`` to ``out``: one notebook named after
    ``assignment`` when given, else one assignment per topic."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        if not force or not (out / "nbgrader_config.py").is_file():
            raise ExportError(f"{out} exists and is not empty; choose a new folder (or pass "
                              "--force to replace an earlier export there)")
        shutil.rmtree(out)
    if not exercises:
        raise ExportError("no exercises to export")
    out.mkdir(parents=True, exist_ok=True)
    (out / "nbgrader_config.py").write_text(CONFIG.format(course_id=course_id),
                                            encoding="utf-8")
    if assignment:
        groups = {assignment: (title or assignment, exercises)}
    else:
        groups = {}
        for exercise in exercises:
            groups.setdefault(exercise.topic, (exercise.topic, []))[1].append(exercise)
    export = NbgraderExport(out)
    for name, (heading, chosen) in groups.items():
        path = out / "source" / name / f"{name}.ipynb"
        export.notebooks.append(nbm.write(path, assignment_notebook(heading, chosen, export,
                                                                    seed)))
    return export


@click.command("nbgrader")
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--assignment", "-a", default=None, metavar="NAME",
              help="One notebook with this assignment of the course file; default: one "
                   "assignment per topic.")
@click.option("--course", type=click.Path(dir_okay=False), default=None,
              help="The course file. [default: course.toml of the project]")
@click.option("--course-id", default="dlmath", show_default=True,
              help="nbgrader's course id.")
@click.option("--force", is_flag=True, help="Replace an earlier export in OUT_DIR.")
def export_nbgrader_cmd(out_dir: str, assignment: str | None, course: str | None,
                        course_id: str, force: bool) -> None:
    """Write an nbgrader course to OUT_DIR: nbgrader_config.py and source/ notebooks.

    \b
    Solution cells hold the references between ### BEGIN/END SOLUTION; autograded test cells
    call the grader's own checks (hidden ones between ### BEGIN/END HIDDEN TESTS). Then:
      cd OUT_DIR && nbgrader generate_assignment NAME
    See docs/notebooks.md.
    """
    from grader import course as course_mod
    from grader.catalog import select

    title = None
    if assignment:
        title = course_mod.load(course).assignment(assignment).title or assignment
    chosen = course_mod.exercises_for(assignment, course_path=course) or select(())
    export = export_nbgrader(out=out_dir, exercises=chosen, assignment=assignment, title=title,
                             course_id=course_id, force=force)
    left = (f"; {export.speed_checks_left_out} speed checks left out"
            if export.speed_checks_left_out else "")
    click.echo(f"Wrote {len(export.notebooks)} notebooks to {export.out}/source: "
               f"{export.test_cells} test cells ({export.hidden_tests} hidden){left}")
