"""``grader new TOPIC.NAME``: the three pieces of a new exercise, with TODOs to fill in.

- ``exercises/TOPIC.py``: the stub students get, its docstring a template for the math, the
  shapes and what must raise; it raises ``NotImplementedError`` with the exercise id.
- ``solutions/TOPIC.py``: the reference, a skeleton that raises until it is written.
- ``grader/bank/TOPIC.py``: the exercise's declaration: a seeded case generator, a
  ``matches(...)`` judge, one public and one hidden check, a commented ``Mistake`` example.

Each file is created, or appended to when the topic exists. Appending edits the bank module's
text, never regenerates it: the new declaration goes just before ``EXERCISES = (...)``, whose
literal gets the new name, and missing imports are added after the last import. A module where
that cannot be done safely is refused before anything is written (see docs/authoring.md).
"""

from __future__ import annotations

import ast
import keyword
import os
import re
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import click

from grader.errors import GraderError

# The project root, as grader.catalog has it (not imported here: it loads numpy, and the CLI
# must start without numpy).
ROOT = Path(__file__).resolve().parent.parent

_ID = re.compile(r"([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)")
# Module names a topic must not take: the worker imports exercises/TOPIC.py as module TOPIC, so
# `numpy.py` or `random.py` would replace that library for the student's code.
_TAKEN = set(sys.stdlib_module_names) | {"numpy", "torch", "scipy", "grader", "solutions",
                                          "exercises", "submission", "conftest", "tests"}
# Names the bank block imports, by the module they come from.
_IMPORTS = {"grader.catalog": ("Call", "Case", "Check", "Exercise"),
            "grader.judges": ("Mistake", "matches")}


class ScaffoldError(GraderError):
    """The exercise cannot be scaffolded; nothing was written."""


@dataclass(frozen=True)
class Scaffolded:
    exercise_id: str
    files: tuple[tuple[Path, str], ...]  # (path, "created" | "appended")


# ----------------------------------------------------------------------------- templates

_STUB_MODULE = '''"""TODO: the topic in a few words.

Fill in each function below. Run ``grade {topic}`` to check your work, or ``grade {topic}.NAME``
for one exercise. Arrays are numpy arrays of float64 unless a docstring says otherwise.
"""

import numpy as np
'''

_STUB = '''

def {name}(x):
    """TODO: what {name} computes, in one line.  [{topic}.{name}]

    Math:   TODO: the formula, with its conventions (axis, ddof, order, sign).

    Args:
        x: TODO: array of shape (n,), float64.

    Returns:
        TODO: the result's shape and dtype.

    Raises:
        TODO: ValueError when an input is invalid (or delete this section).

    Performance: TODO: what is fast enough (or delete this section).
    """
    raise NotImplementedError("{topic}.{name}: implement {name}(x) in "
                              "exercises/{topic}.py")
'''

_REFERENCE_MODULE = '''"""Reference solutions for exercises/{topic}.py."""

import numpy as np
'''

_REFERENCE = '''

def {name}(x):
    # TODO({topic}.{name}): the reference, the one source of every check's expected result.
    raise NotImplementedError("{topic}.{name}: TODO: write the reference in "
                              "solutions/{topic}.py")
'''

_BANK_MODULE = '''"""Checks of exercises/{topic}.py: {name}.

TODO: name the topic's exercises here. The authoring API: docs/authoring.md.
"""

from __future__ import annotations

import numpy as np

from grader.catalog import Call, Case, Check, Exercise
from grader.judges import Mistake, matches
'''

_BANK_BLOCK = '''

# ----------------------------------------------------------------------------- {topic}.{name}

def _{name}_case(n: int):
    """A case generator: the calls of one check, on inputs drawn from ``rng`` only (never the
    global RNG; elementwise arithmetic, no BLAS, so a case is the same bits everywhere)."""
    def build(rng: np.random.Generator) -> Case:
        x = rng.standard_normal(n)  # TODO: draw the inputs of {name}
        return Case((Call("{name}", (x,)),), f"a vector of length {{n}}")  # TODO: describe them
    return build


# TODO: known mistakes: a wrong variant computed from the same inputs, and what the student is
# told when the result matches it. For example:
#     Mistake("drops_last", "your loop skips the last element: range(len(x) - 1) instead of "
#                           "range(len(x))", lambda case: TODO(case.calls[-1].args[0][:-1])),
{const}_MISTAKES: tuple[Mistake, ...] = ()

{const} = Exercise(
    id="{topic}.{name}",
    title="TODO: a short title",
    functions=("{name}",),
    summary="TODO: the math in one line",
    checks=(
        # TODO: tolerances as tight as two correct implementations allow: docs/authoring.md.
        Check("small", _{name}_case(3),
              matches(rtol=1e-12, atol=1e-12, mistakes={const}_MISTAKES),
              points=1, about="TODO: what this public check covers"),
        Check("large", _{name}_case(1000),
              matches(rtol=1e-12, atol=1e-10, mistakes={const}_MISTAKES),
              points=1, hidden=True, about="TODO: an edge case, checked at submission only"),
    ),
    # TODO: time it against the reference (import Timing from grader.catalog), or delete:
    # timing=Timing(lambda rng: Call("{name}", (rng.standard_normal(10**6),), send=False),
    #               slow_ratio=10.0, advice="TODO: how to make it fast"),
)
'''


# ----------------------------------------------------------------------------- checks

def parse_id(exercise_id: str) -> tuple[str, str]:
    """(topic, name) of a well-formed new id; :class:`ScaffoldError` otherwise."""
    found = _ID.fullmatch(exercise_id)
    if not found:
        raise ScaffoldError(f"malformed exercise id {exercise_id!r}: write TOPIC.NAME in lower "
                            "case letters, digits and underscores, each starting with a letter "
                            "(e.g. linalg.trace)")
    topic, name = found.groups()
    for part in (topic, name):
        if keyword.iskeyword(part):
            raise ScaffoldError(f"malformed exercise id {exercise_id!r}: {part!r} is a Python "
                                "keyword")
    if topic in _TAKEN:
        raise ScaffoldError(f"topic {topic!r} of {exercise_id!r} is the name of a module the "
                            "grader or the student's code imports; choose another topic")
    return topic, name


def _parse(path: Path, root: Path) -> ast.Module | None:
    """The syntax tree of an existing file (None when there is none)."""
    if not path.exists():
        return None
    shown = path.relative_to(root)
    try:
        return ast.parse(path.read_text(encoding="utf-8"), filename=str(shown))
    except (SyntaxError, ValueError, UnicodeDecodeError) as exc:
        where = f", line {exc.lineno}" if getattr(exc, "lineno", None) else ""
        raise ScaffoldError(f"{shown}{where} cannot be parsed ({exc.__class__.__name__}), so "
                            "the new exercise cannot be appended to it safely; fix it first") \
            from None


def _declared_ids(tree: ast.Module) -> set[str]:
    """Ids of the ``Exercise(...)`` calls of a bank module whose id is a literal."""
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(
                node.func, "attr", None)) == "Exercise":
            values = [k.value for k in node.keywords if k.arg == "id"] + node.args[:1]
            ids |= {v.value for v in values if isinstance(v, ast.Constant)
                    and isinstance(v.value, str)}
    return ids


def _bound(tree: ast.Module) -> set[str]:
    """Names bound at the top level of a module (definitions, assignments, imports)."""
    names: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(stmt.name)
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in stmt.names}
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def _refuse_existing(exercise_id: str, name: str, root: Path, trees: dict[str, ast.Module | None]
                     ) -> None:
    bank_dir = root / "grader" / "bank"
    for path in sorted(bank_dir.glob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, ValueError, UnicodeDecodeError):
            continue  # another topic's half-written module; the topic's own one is parsed below
        if exercise_id in _declared_ids(tree):
            raise ScaffoldError(f"exercise {exercise_id} already exists: "
                                f"{path.relative_to(root)} declares it")
    for shown, tree in trees.items():
        if tree is not None and name in _bound(tree):
            raise ScaffoldError(f"exercise {exercise_id} already exists: {shown} already "
                                f"defines {name!r}")


# ----------------------------------------------------------------------------- bank appending

def _exercises_statement(tree: ast.Module, shown: str) -> ast.Assign:
    """The one ``EXERCISES = (A, B, ...)`` of a bank module, or a refusal saying why not."""
    why = f"{shown} cannot be appended to safely: "
    binding = [s for s in tree.body if "EXERCISES" in _bound(ast.Module([s], []))]
    if len(binding) != 1:
        raise ScaffoldError(why + ("it has no top-level `EXERCISES = (...)`" if not binding else
                                   "it binds EXERCISES more than once") +
                            "; add the exercise by hand (docs/authoring.md)")
    stmt = binding[0]
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and isinstance(stmt.value, (ast.Tuple, ast.List))
            and all(isinstance(e, ast.Name) for e in stmt.value.elts)):
        raise ScaffoldError(why + f"EXERCISES (line {stmt.lineno}) is not a literal tuple of "
                                  "names like `EXERCISES = (DOT, PINV)`; add the exercise by "
                                  "hand (docs/authoring.md)")
    return stmt


def _char_offset(line: str, col: int) -> int:
    """The string index of an ast column offset (which counts UTF-8 bytes)."""
    return len(line.encode("utf-8")[:col].decode("utf-8", errors="ignore"))


def _append_name(lines: list[str], stmt: ast.Assign, const: str) -> list[str]:
    """The EXERCISES statement's lines with ``const`` added to its literal."""
    seq = stmt.value
    segment = lines[stmt.lineno - 1:stmt.end_lineno]
    if seq.elts:
        last = seq.elts[-1]
        row = last.end_lineno - stmt.lineno
        at = _char_offset(segment[row], last.end_col_offset)
        segment[row] = segment[row][:at] + f", {const}" + segment[row][at:]
    else:
        row = seq.end_lineno - stmt.lineno
        at = _char_offset(segment[row], seq.end_col_offset) - 1  # before the closing bracket
        comma = "," if isinstance(seq, ast.Tuple) else ""
        segment[row] = segment[row][:at] + f"{const}{comma}" + segment[row][at:]
    if all(len(line.rstrip("\n")) < 100 for line in segment) or "#" in "".join(segment):
        return segment
    names = [e.id for e in seq.elts] + [const]
    opening, closing = ("(", ")") if isinstance(seq, ast.Tuple) else ("[", "]")
    indent = " " * len(f"EXERCISES = {opening}")
    out, line = [], f"EXERCISES = {opening}"
    for i, item in enumerate(names):
        piece = item + (", " if i < len(names) - 1 else closing)
        if len(line + piece.rstrip()) > 99:
            out.append(line.rstrip() + "\n")
            line = indent
        line += piece
    return out + [line + "\n"]


def _missing_imports(tree: ast.Module) -> list[str]:
    bound = _bound(tree)
    lines = [] if "np" in bound else ["import numpy as np\n"]
    for module, names in _IMPORTS.items():
        missing = [n for n in names if n not in bound]
        if missing:
            lines.append(f"from {module} import {', '.join(missing)}\n")
    return lines


def _appended_bank(source: str, tree: ast.Module, shown: str, block: str, const: str,
                   new_names: set[str]) -> str:
    stmt = _exercises_statement(tree, shown)
    clash = sorted(new_names & _bound(tree))
    if clash:
        raise ScaffoldError(f"{shown} cannot be appended to safely: it already defines "
                            f"{', '.join(clash)}, which the new exercise's declaration would "
                            "replace; add the exercise by hand (docs/authoring.md)")
    lines = source.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    head = lines[:stmt.lineno - 1]
    while head and not head[-1].strip():
        head.pop()
    text = (head + ["\n", "\n", block.strip("\n") + "\n", "\n", "\n"]
            + _append_name(lines, stmt, const)
            + lines[stmt.end_lineno:])
    imports = _missing_imports(tree)
    if imports:
        tops = [s for s in tree.body if isinstance(s, (ast.Import, ast.ImportFrom))]
        at = tops[-1].end_lineno if tops else 0
        if not tops and tree.body and isinstance(tree.body[0], ast.Expr):
            at = tree.body[0].end_lineno  # after the module docstring
            imports = ["\n"] + imports
        text = text[:at] + imports + text[at:]
    return "".join(text)


# ----------------------------------------------------------------------------- the API

def _plan(exercise_id: str, root: Path) -> list[tuple[Path, str, str]]:
    """(path, new text, "created" | "appended") of each file, every refusal checked first."""
    topic, name = parse_id(exercise_id)
    const = name.upper()
    values = {"topic": topic, "name": name, "const": const}
    paths = {"stub": root / "exercises" / f"{topic}.py",
             "reference": root / "solutions" / f"{topic}.py",
             "bank": root / "grader" / "bank" / f"{topic}.py"}
    for path in paths.values():
        if not path.parent.is_dir():
            raise ScaffoldError(f"{path.parent} does not exist: run `grader new` in the "
                                "grader's source tree (the one with exercises/, solutions/ and "
                                "grader/bank/)")
    trees = {key: _parse(path, root) for key, path in paths.items()}
    _refuse_existing(exercise_id, name, root,
                     {str(paths[k].relative_to(root)): trees[k] for k in ("stub", "reference")})
    plan = []
    for key, module, piece in (("stub", _STUB_MODULE, _STUB),
                               ("reference", _REFERENCE_MODULE, _REFERENCE)):
        path = paths[key]
        if trees[key] is None:
            plan.append((path, module.format(**values) + piece.format(**values), "created"))
        else:
            old = path.read_text(encoding="utf-8").rstrip("\n") + "\n"
            plan.append((path, old + piece.format(**values), "appended"))
    block = _BANK_BLOCK.format(**values)
    if trees["bank"] is None:
        text = (_BANK_MODULE.format(**values) + block
                + f"\n\nEXERCISES = ({const},)\n")
        plan.append((paths["bank"], text, "created"))
    else:
        shown = str(paths["bank"].relative_to(root))
        text = _appended_bank(paths["bank"].read_text(encoding="utf-8"), trees["bank"], shown,
                              block, const, {const, f"{const}_MISTAKES", f"_{name}_case"})
        plan.append((paths["bank"], text, "appended"))
    for path, text, _ in plan:
        try:
            ast.parse(text)
        except SyntaxError as exc:  # a bug of this module, never the author's
            raise ScaffoldError(f"the scaffolded {path.relative_to(root)} would not parse "
                                f"(line {exc.lineno}): {exc.msg}") from None
    return plan


def new_exercise(exercise_id: str, *, root: str | Path | None = None) -> Scaffolded:
    """Scaffold ``exercise_id`` (``TOPIC.NAME``) in the source tree at ``root`` (default: the
    grader's own). Nothing is written unless every file can be."""
    root = Path(root) if root is not None else ROOT
    plan = _plan(exercise_id, root)
    for path, text, _ in plan:
        temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    return Scaffolded(exercise_id, tuple((path, how) for path, _, how in plan))


@click.command("new", context_settings={"help_option_names": ["-h", "--help"],
                                        "max_content_width": 100})
@click.argument("exercise_id", metavar="TOPIC.NAME")
def new_cmd(exercise_id: str) -> None:
    """Scaffold a new exercise: its stub, its reference and its checks, with TODOs.

    \b
    Writes (or appends to, when the topic exists):
      exercises/TOPIC.py     the stub: signature, docstring template, NotImplementedError
      solutions/TOPIC.py     the reference skeleton
      grader/bank/TOPIC.py   the checks: a case generator, a judge, one public and one
                             hidden check, a commented Mistake example
    Then fill in the TODOs and check it: see docs/authoring.md.
    """
    done = new_exercise(exercise_id, root=ROOT)
    for path, how in done.files:
        click.echo(f"{how:>8} {path.relative_to(ROOT)}")
    steps = [(f"grade {exercise_id} --submission solutions", "the reference: full marks"),
             (f"grade {exercise_id}", "the stub: 0, not implemented yet"),
             (f"grader validate {exercise_id}", "every check before release")]
    width = max(len(command) for command, _ in steps) + 3
    click.echo("Next: fill in the TODOs (docs/authoring.md), then")
    for command, what in steps:
        click.echo(f"  {command:<{width}}{what}")
