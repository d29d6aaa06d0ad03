"""The course file (``course.toml``): assignments, their exercises, points and check visibility.

Configuration is data, never code: TOML read into dataclasses. Example::

    [course]
    name = "Mathematics of Deep Learning"

    [assignments.hw1]
    title = "Linear algebra"
    exercises = ["linalg.dot", "linalg.pinv", "linalg.pca"]
    points = { "linalg.dot" = 10 }        # optional: the exercise's total, checks scaled
    hidden = { "linalg.dot.empty" = false } # optional: make a check public (or hidden)

    [limits]                                  # optional: per-worker limits
    call_seconds = 10      # wall time for one check's calls
    cpu_seconds = 60       # CPU time of a worker
    memory_mib = 4096      # address space of a worker
    output_kib = 1024      # printed output, and any file written
    processes = 256        # processes of the session's own user (when the grader is root)
    scratch_mib = 256      # the scratch folder (a tmpfs, where namespaces are available)

An assignment selects exercises for ``grade``, ``release`` and ``batch``; without one they cover
every exercise of the bank with the bank's own points.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from grader.catalog import ROOT, Exercise, catalog
from grader.errors import GraderError
from grader.sandbox.parent import Limits

DEFAULT_COURSE = ROOT / "course.toml"


class CourseError(GraderError):
    """A course file that cannot be used; the message names the line and the reason."""


@dataclass(frozen=True)
class Assignment:
    name: str
    title: str
    exercises: tuple[str, ...]
    points: dict[str, float] = field(default_factory=dict)
    hidden: dict[str, bool] = field(default_factory=dict)

    def apply(self) -> list[Exercise]:
        """The assignment's exercises with its points and check visibility applied."""
        bank = catalog()
        chosen = []
        for exercise_id in self.exercises:
            exercise = bank[exercise_id]
            checks = tuple(
                dataclasses.replace(c, hidden=self.hidden.get(f"{exercise_id}.{c.name}",
                                                              c.hidden))
                for c in exercise.checks)
            if exercise_id in self.points and exercise.max_score > 0:
                scale = self.points[exercise_id] / exercise.max_score
                checks = tuple(dataclasses.replace(c, points=c.points * scale) for c in checks)
            chosen.append(dataclasses.replace(exercise, checks=checks))
        return chosen


@dataclass(frozen=True)
class Course:
    name: str
    path: Path
    assignments: dict[str, Assignment]
    limits: Limits = Limits()

    def assignment(self, name: str) -> Assignment:
        if name not in self.assignments:
            known = ", ".join(self.assignments) or "none"
            raise CourseError(f"{self.path}: no assignment {name!r}; known: {known}")
        return self.assignments[name]


def _line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return 0


def _fail(path: Path, text: str, needle: str, reason: str) -> CourseError:
    line = _line_of(text, needle)
    where = f"{path}, line {line}" if line else str(path)
    return CourseError(f"{where}: {reason}")


def load(path: str | Path | None = None) -> Course:
    """Read and validate a course file (default: ``course.toml`` of the project)."""
    path = Path(path) if path is not None else DEFAULT_COURSE
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CourseError(f"cannot read the course file {path}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        where = f"{path}, line {found.group(1)}" if found else str(path)
        raise CourseError(f"{where}: not valid TOML: {exc}") from None
    bank = catalog()
    assignments: dict[str, Assignment] = {}
    raw = data.get("assignments", {})
    if not isinstance(raw, dict):
        raise _fail(path, text, "assignments", "[assignments] must be a table of assignments")
    for name, spec in raw.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("exercises"), list):
            raise _fail(path, text, f"assignments.{name}",
                        f"assignment {name!r} needs a list `exercises = [...]`")
        for exercise_id in spec["exercises"]:
            if exercise_id not in bank:
                raise _fail(path, text, f'"{exercise_id}"',
                            f"assignment {name!r} names the unknown exercise {exercise_id!r}; "
                            f"known: {', '.join(bank)}")
        points = spec.get("points", {})
        hidden = spec.get("hidden", {})
        for key, value in points.items():
            if key not in spec["exercises"] or not isinstance(value, (int, float)) or value < 0:
                raise _fail(path, text, f'"{key}"', f"points for {key!r} must be a non-negative "
                                                    "number for an exercise of the assignment")
        for key, value in hidden.items():
            exercise_id, _, check = key.rpartition(".")
            if exercise_id not in spec["exercises"] or check not in {
                    c.name for c in bank[exercise_id].checks} or not isinstance(value, bool):
                raise _fail(path, text, f'"{key}"', f"hidden.{key!r} must name a check "
                                                    "(exercise.check) of the assignment and be "
                                                    "true or false")
        assignments[name] = Assignment(name, str(spec.get("title", name)),
                                       tuple(spec["exercises"]), dict(points), dict(hidden))
    return Course(str(data.get("course", {}).get("name", path.stem)), path, assignments,
                  _limits(data.get("limits", {}), path, text))


_LIMIT_KEYS = {"call_seconds": ("call_seconds", 1.0), "cpu_seconds": ("cpu_seconds", 1),
               "memory_mib": ("memory_bytes", 2**20), "output_kib": ("output_bytes", 2**10),
               "processes": ("processes", 1), "scratch_mib": ("scratch_bytes", 2**20)}


def _limits(table: object, path: Path, text: str) -> Limits:
    """The ``[limits]`` table: per-worker limits (any key left out keeps its default)."""
    if not isinstance(table, dict):
        raise _fail(path, text, "limits", "[limits] must be a table")
    values = {}
    for key, value in table.items():
        if key not in _LIMIT_KEYS:
            raise _fail(path, text, key, f"unknown limit {key!r}; known: "
                                         f"{', '.join(_LIMIT_KEYS)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise _fail(path, text, key, f"limits.{key} must be a positive number")
        field_name, unit = _LIMIT_KEYS[key]
        values[field_name] = type(getattr(Limits(), field_name))(value * unit)
    return dataclasses.replace(Limits(), **values)


def limits(course_path: str | Path | None = None, *, call_seconds: float | None = None
           ) -> Limits:
    """The course file's limits (the defaults without one), ``call_seconds`` overriding."""
    path = Path(course_path) if course_path is not None else DEFAULT_COURSE
    base = load(path).limits if path.is_file() else Limits()
    return base if call_seconds is None else dataclasses.replace(base, call_seconds=call_seconds)


def exercises_for(assignment: str | None, ids: tuple[str, ...] | list[str] = (), *,
                  course_path: str | Path | None = None) -> list[Exercise] | None:
    """The exercises of an assignment (narrowed by ``ids`` when given), or None without one."""
    if assignment is None:
        return None
    chosen = load(course_path).assignment(assignment).apply()
    if ids:
        chosen = [e for e in chosen if e.id in ids or e.topic in ids]
    return chosen
