"""``grader release``: the student bundle, produced by filtering (never by hand).

The bundle holds the stubs, the grader runtime, the PUBLIC checks and a README. It holds no
reference code and nothing of a hidden check: the bank modules are rewritten from their syntax
tree with every ``Check(..., hidden=True)`` removed, every ``Mistake`` variant replaced by a
lookup of its frozen result (:mod:`grader.frozen`), and every top-level definition that is then
no longer used dropped. Expected results of public checks are frozen as data. The release then
verifies itself in a fresh process: the filtered bank declares exactly the public checks, the
reference solutions get full marks through the bundle's ``grade`` and the stubs get none.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from grader import __version__, frozen
from grader.catalog import EXERCISES_DIR, ROOT, SOLUTIONS_DIR, Exercise
from grader.compare import compare
from grader.errors import GraderError
from grader.grading import _reference, run_reference
from grader.judges import Mistake

_RUNTIME_SKIP = {"bank", "_frozen", "__pycache__", "release.py"}


class ReleaseError(GraderError):
    """The bundle cannot be written or failed its own verification."""


@dataclass
class ReleaseReport:
    out: Path
    exercises: list[str]
    public_checks: int
    hidden_checks_removed: int


# ----------------------------------------------------------------------------- filtering

def _is_call(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Call) and (
        (isinstance(node.func, ast.Name) and node.func.id == name)
        or (isinstance(node.func, ast.Attribute) and node.func.attr == name))


def _is_hidden_check(node: ast.AST) -> bool:
    if not _is_call(node, "Check"):
        return False
    for kw in node.keywords:
        if kw.arg == "hidden":
            if isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, bool):
                return kw.value.value
            raise ReleaseError(f"line {node.lineno}: hidden= must be a literal True or False so "
                               "the release can filter the check")
    return False


class _Filter(ast.NodeTransformer):
    """Drops hidden Check(...) calls from sequences; freezes Mistake(...) variants."""

    def __init__(self) -> None:
        self.removed = 0

    def _elts(self, node: ast.AST) -> ast.AST:
        self.generic_visit(node)
        kept = [e for e in node.elts if not _is_hidden_check(e)]
        self.removed += len(node.elts) - len(kept)
        node.elts = kept
        return node

    visit_Tuple = visit_List = _elts

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if not _is_call(node, "Mistake"):
            return node
        name = node.args[0] if node.args else next(k.value for k in node.keywords
                                                   if k.arg == "name")
        lookup = ast.Call(ast.Attribute(ast.Name("_frozen", ast.Load()), "variant", ast.Load()),
                          [name], [])
        if len(node.args) >= 3:
            node.args[2] = lookup
        for kw in node.keywords:
            if kw.arg == "variant":
                kw.value = lookup
        return node


def _defined(stmt: ast.stmt) -> set[str]:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return set()


def _used(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _prune(tree: ast.Module, imported: set[str] = frozenset()) -> None:
    """Keep imports, what ``EXERCISES`` needs and the names other bank modules import from
    this one (``imported``), transitively; drop the rest."""
    body = tree.body
    keep = {i for i, s in enumerate(body) if isinstance(s, (ast.Import, ast.ImportFrom))
            or "EXERCISES" in _defined(s)}
    if len(keep) == 0 or not any("EXERCISES" in _defined(s) for s in body):
        raise ReleaseError("a bank module without EXERCISES")
    needed: set[str] = set(imported)
    changed = True
    while changed:
        changed = False
        for i in keep:
            needed |= _used(body[i])
        for i, stmt in enumerate(body):
            if i not in keep and _defined(stmt) & needed:
                keep.add(i)
                changed = True
    docstring = [0] if body and isinstance(body[0], ast.Expr) and isinstance(
        getattr(body[0], "value", None), ast.Constant) else []
    tree.body = [s for i, s in enumerate(body) if i in keep or i in docstring]


def filter_bank_source(source: str, imported: set[str] = frozenset()) -> tuple[str, int]:
    """The public-only source of a bank module, and how many hidden checks were removed.
    ``imported``: the names other modules of the bundle import from it (kept)."""
    tree = ast.parse(source)
    filt = _Filter()
    tree = filt.visit(tree)
    _prune(tree, imported)
    insert = 1 if tree.body and isinstance(tree.body[0], ast.Expr) else 0
    while insert < len(tree.body) and isinstance(tree.body[insert], ast.ImportFrom) and \
            tree.body[insert].module == "__future__":
        insert += 1
    tree.body.insert(insert, ast.parse("from grader import frozen as _frozen").body[0])
    ast.fix_missing_locations(tree)
    header = "# Generated by `grader release`: public checks only. Do not edit.\n"
    return header + ast.unparse(tree) + "\n", filt.removed


# ----------------------------------------------------------------------------- frozen data

def _module_mistakes(module: ModuleType) -> dict[str, list[Mistake]]:
    """The module's Mistake objects by name. Their frozen results are keyed by name, so
    mistakes that share a name (one per check, with check-specific wording) must compute the
    same variant; :func:`_freeze` verifies it."""
    found: dict[str, list[Mistake]] = {}
    for value in vars(module).values():
        items = value if isinstance(value, (tuple, list)) else (value,)
        for item in items:
            if isinstance(item, Mistake) and all(item is not m for m in found.get(item.name, [])):
                found.setdefault(item.name, []).append(item)
    return found


def _variant_value(name: str, mistakes: list[Mistake], case: object) -> tuple[bool, object]:
    """(applies, value) of the variant ``name`` on ``case``; same-named variants must agree."""
    values = []
    for mistake in mistakes:
        try:
            values.append(mistake.variant(case))
        except Exception:  # noqa: BLE001 - a variant that does not apply here
            continue
    if not values:
        return False, None
    if any(compare(v, values[0], rtol=0.0, atol=0.0, check_dtype=False) for v in values[1:]):
        raise ReleaseError(f"mistakes named {name!r} compute different variants on the same "
                           "inputs; give each a unique name")
    return True, values[0]


def _freeze(exercises: list[Exercise], seed: int, banks: dict[str, ModuleType], out: Path
            ) -> int:
    mistakes_table: dict[str, dict] = {}
    count = 0
    for exercise in exercises:
        table: dict[str, list] = {}
        mistakes = _module_mistakes(banks[exercise.id])
        for check in exercise.checks:
            if check.hidden:
                continue
            case = check.build(exercise.check_rng(check, seed))
            digest = frozen.case_digest(case)
            table[digest] = [{"raised": r.raised} if r.raised is not None else {"value": r.value}
                             for r in run_reference(_reference(exercise.topic), case)]
            values = {}
            for name, same_named in mistakes.items():
                applies, value = _variant_value(name, same_named, case)
                if applies:
                    values[name] = value
            mistakes_table[digest] = values
            count += 1
        (out / f"expected.{exercise.id}.bin").write_bytes(frozen.pack(table))
    (out / "mistakes.bin").write_bytes(frozen.pack(mistakes_table))
    return count


# ----------------------------------------------------------------------------- the bundle

def bank_modules(exercises: list[Exercise]) -> dict[str, ModuleType]:
    """The bank module that declares each exercise, by id (a topic's exercises may live in
    more than one module: optim.adam in optim.py, optim.rmsprop in training_rules.py)."""
    import importlib
    import pkgutil

    import grader.bank as bank

    owner = {}
    for info in pkgutil.iter_modules(bank.__path__):
        module = importlib.import_module(f"grader.bank.{info.name}")
        for exercise in getattr(module, "EXERCISES", ()):
            owner[exercise.id] = module
    return {e.id: owner[e.id] for e in exercises}


def _declares_exercises(text: str) -> bool:
    return any("EXERCISES" in _defined(stmt) for stmt in ast.parse(text).body)


def _with_imports(names: set[str]) -> dict[str, set[str]]:
    """Bank modules and the bank modules they import helpers from (eigen uses linalg's,
    eigen_maps eigen's), each with the names the others import from it."""
    todo, seen, found = list(names), set(), {}
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        found.setdefault(name, set())
        text = (ROOT / "grader" / "bank" / f"{name}.py").read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom) and node.module == "grader.bank":
                todo += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                    "grader.bank."):
                source = node.module.rsplit(".", 1)[1]
                todo.append(source)
                found.setdefault(source, set()).update(alias.name for alias in node.names)
    return dict(sorted(found.items()))


def _copy_runtime(out: Path) -> None:
    package = ROOT / "grader"
    for path in sorted(package.rglob("*")):
        rel = path.relative_to(package)
        if set(rel.parts) & _RUNTIME_SKIP or path.is_dir() or path.suffix == ".pyc":
            continue
        target = out / "grader" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    shutil.copytree(ROOT / "templates", out / "templates")
    # The bundle has no tests/: there, `pytest` collects exercises/, one item per public check
    # (grader.pytest_plugin); a testpaths that matches nothing is an error under
    # filterwarnings = error.
    project = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (out / "pyproject.toml").write_text(
        project.replace('testpaths = ["tests"]', 'testpaths = ["exercises"]'), encoding="utf-8")


def _student_readme(exercises: list[Exercise], assignment: str | None) -> str:
    rows = "\n".join(f"| `{e.id}` | `{'`, `'.join(e.functions)}` | {e.max_score:g} |"
                     for e in exercises)
    title = f"assignment {assignment}" if assignment else "the exercises"
    # torch exercises need torch (the CPU build is enough; --device cuda takes a CUDA one).
    torch = '"torch>=2.1" ' if any(e.framework == "torch" for e in exercises) else ""
    return f"""# Exercises in the mathematics of deep learning: {title}

Install once, then grade your work as often as you like:

```bash
python3 -m pip install {torch}-e . && grade
```

Write your code in `exercises/`: each function's docstring states the math, the shapes, the
convention and what must raise. `grade linalg.dot` grades one exercise, `grade linalg` a topic,
`grade --html report.html` writes a report.

Only the public checks run here. Hidden checks (edge cases) run when your submission is graded,
so a full score here is necessary, not sufficient: read each docstring's edge cases.

| exercise | functions | points here |
|---|---|---|
{rows}
"""


def release(*, out: str | Path, exercises: list[Exercise], seed: int = 0,
            assignment: str | None = None, force: bool = False, verify: bool = True,
            format: str = "py") -> ReleaseReport:
    """Write the student bundle for ``exercises`` to ``out`` and verify it. With
    ``format="notebook"`` it also holds ``notebooks/<topic>.ipynb`` (see
    :func:`grader.nbgrader_export.write_student_notebooks`)."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        if not force or not (out / "grader" / "_frozen" / frozen.MANIFEST).is_file():
            raise ReleaseError(f"{out} exists and is not empty; choose a new folder (or pass "
                               "--force to replace an earlier bundle there)")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    _copy_runtime(out)
    topics = sorted({e.topic for e in exercises})
    banks = bank_modules(exercises)
    removed = 0
    (out / "grader" / "bank").mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "grader" / "bank" / "__init__.py", out / "grader" / "bank" / "__init__.py")
    needed = _with_imports({m.__name__.rsplit(".", 1)[1] for m in banks.values()})
    for name, imported in needed.items():
        text = (ROOT / "grader" / "bank" / f"{name}.py").read_text(encoding="utf-8")
        if _declares_exercises(text):
            text, n = filter_bank_source(text, imported)
            removed += n
        # else: a module of input builders (grader/bank/inputs.py): no checks to filter
        (out / "grader" / "bank" / f"{name}.py").write_text(text, encoding="utf-8")
    for topic in topics:
        (out / "exercises").mkdir(exist_ok=True)
        shutil.copy2(EXERCISES_DIR / f"{topic}.py", out / "exercises" / f"{topic}.py")
    frozen_dir = out / "grader" / "_frozen"
    frozen_dir.mkdir(parents=True)
    public = _freeze(exercises, seed, banks, frozen_dir)
    (frozen_dir / frozen.MANIFEST).write_text(json.dumps({
        "grader_version": __version__, "seed": seed, "assignment": assignment,
        "exercises": [{"id": e.id, "points": {c.name: c.points for c in e.checks
                                              if not c.hidden}} for e in exercises]},
        indent=2), encoding="utf-8")
    (out / "README.md").write_text(_student_readme(exercises, assignment), encoding="utf-8")
    if format == "notebook":
        from grader.nbgrader_export import write_student_notebooks

        write_student_notebooks(out, exercises, seed)
    report = ReleaseReport(out, [e.id for e in exercises], public, removed)
    if verify:
        _verify(out, exercises)
    return report


_VERIFY = """
import json, sys
from grader import catalog, grading
bank = catalog.catalog()
print(json.dumps({
    "checks": {e.id: sorted(c.name for c in e.checks) for e in bank.values()},
    "hidden": sum(c.hidden for e in bank.values() for c in e.checks),
    "reference": [[e.id, e.score, e.max_score, e.status] for e in grading.grade(
        submission=sys.argv[1], time_it=False).exercises],
    "stubs": [[e.id, e.score, e.status] for e in grading.grade(
        submission="exercises", time_it=False).exercises],
}))
"""


def _verify(out: Path, exercises: list[Exercise]) -> None:
    """Run the bundle's own grader in a fresh process and check what it declares and scores."""
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(out.resolve()), "HOME": str(out),
           "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([sys.executable, "-c", _VERIFY, str(SOLUTIONS_DIR)], cwd=out, env=env,
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise ReleaseError(f"the bundle in {out} does not work: {proc.stderr.strip()[-2000:]}")
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    want = {e.id: sorted(c.name for c in e.checks if not c.hidden) for e in exercises}
    if got["checks"] != want or got["hidden"]:
        raise ReleaseError(f"the bundle's bank declares {got['checks']} (hidden: {got['hidden']})"
                           f", expected the public checks {want}")
    bad = [r for r in got["reference"] if r[1] != r[2] or r[3] != "passed"]
    if bad:
        raise ReleaseError(f"the reference does not get full marks in the bundle: {bad}")
    if any(s[1] != 0 or s[2] != "not_implemented" for s in got["stubs"]):
        raise ReleaseError(f"the stubs do not score 0 in the bundle: {got['stubs']}")
