"""The catalog: exercises, their checks, and where their code lives.

An exercise is data plus small functions (declared in :mod:`grader.bank`):

- ``Check.build(rng) -> Case``: a seeded case generator. It returns the calls to make (inputs
  only); the grader runs them in a worker for the student and in its own process for the
  reference.
- ``Check.judge(trial) -> Verdict``: runs in the grader's process on plain data (the student's
  results and the reference's), never in the worker.

Ids are ``topic.name``; a topic is one module of ``exercises/`` and ``solutions/``.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import pkgutil
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Mapping

import numpy as np

from grader.errors import UnknownExerciseError

ROOT = Path(__file__).resolve().parent.parent
EXERCISES_DIR = ROOT / "exercises"
SOLUTIONS_DIR = ROOT / "solutions"


@dataclass(frozen=True)
class Call:
    """One call of a student (or reference) function.

    ``args``/``kwargs`` hold plain data and :class:`grader.sandbox.wire.Out` references to
    earlier calls' results. ``pick`` selects the part of the result that is sent back (e.g.
    ``(0,)`` for ``out`` of ``(out, cache)``); ``send=False`` sends nothing back.
    """

    func: Any  # a function's name in the module under test, or a wire.Fn the check runs
    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    pick: tuple = ()
    send: bool = True

    @property
    def name(self) -> str:
        """How feedback names the call: the function's name, or the check's code's label."""
        if isinstance(self.func, str):
            return self.func
        return getattr(self.func, "label", "") or "the check's code"

    def to_wire(self) -> dict:
        return {"func": self.func, "args": tuple(self.args), "kwargs": dict(self.kwargs),
                "pick": tuple(self.pick), "send": self.send}


@dataclass(frozen=True)
class Case:
    """The calls of one check, and a short description of its inputs for feedback."""

    calls: tuple[Call, ...]
    note: str = ""


@dataclass(frozen=True)
class Verdict:
    passed: bool
    message: str = ""
    diagnosis: str | None = None


@dataclass(frozen=True)
class Check:
    name: str
    build: Callable[[np.random.Generator], Case]
    judge: Callable[..., Verdict]
    points: float = 1.0
    hidden: bool = False
    about: str = ""
    speed_within: float | None = None  # a speed check (see speed_check), judged from timing


@dataclass(frozen=True)
class Scaling:
    """How an exercise's time grows with a size: ``build(rng, n)`` makes the call at size
    ``n``; the grader fits t ~ n^k for the student and the reference over ``sizes`` and
    reports the student's exponent when it differs by more than ``tolerance``."""

    build: Callable[[np.random.Generator, int], Call]
    sizes: tuple[int, ...]
    size_name: str = "n"
    tolerance: float = 0.5


@dataclass(frozen=True)
class Timing:
    """How to time an exercise: one call on inputs large enough to show vectorization, and
    optionally its scaling with a size."""

    build: Callable[[np.random.Generator], Call]
    slow_ratio: float = 10.0
    advice: str = "vectorize: replace Python loops over elements with array operations"
    scaling: Scaling | None = None


def _no_calls(rng: np.random.Generator) -> Case:
    return Case((), "the timing of the exercise")


def _judged_by_timing(trial: Any) -> Verdict:  # never called: see speed_check
    raise RuntimeError("a speed check is judged from the timing, not from calls")


def speed_check(points: float, *, within: float = 2.0, hidden: bool = False) -> Check:
    """A check that awards ``points`` when the student's function is at most ``within`` times
    slower than the reference (timed as for the slow flag). Off unless an exercise lists one.

    It needs the timing: graded without it (``--no-timing``, a student bundle, a batch without
    ``--timing``) it is skipped and scores nothing, with that reason.
    """
    return Check("speed", _no_calls, _judged_by_timing, points=points, hidden=hidden,
                 about=f"at most {within:g}x the reference's time per call", speed_within=within)


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    functions: tuple[str, ...]
    checks: tuple[Check, ...]
    timing: Timing | None = None
    forbidden: tuple[str, ...] = ()
    framework: str = "numpy"
    summary: str = ""

    @property
    def topic(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def max_score(self) -> float:
        return float(sum(c.points for c in self.checks))

    def check_rng(self, check: Check, seed: int) -> np.random.Generator:
        """The generator of one check: a pure function of (seed, exercise id, check name)."""
        key = [seed, zlib.crc32(self.id.encode()), zlib.crc32(check.name.encode())]
        return np.random.default_rng(np.random.SeedSequence(key))


_catalog: dict[str, Exercise] | None = None


def catalog() -> dict[str, Exercise]:
    """Every exercise of the bank, by id, in the bank's order."""
    global _catalog
    if _catalog is None:
        import grader.bank as bank

        found: dict[str, Exercise] = {}
        def position(info: pkgutil.ModuleInfo) -> tuple:
            # A topic's later exercises may live in a module of their own named after it
            # (eigen_maps.py after eigen.py): it comes right after that one.
            topic = info.name if info.name in bank.ORDER else info.name.split("_")[0]
            order = bank.ORDER
            return (order.index(topic) if topic in order else len(order), info.name)

        for info in sorted(pkgutil.iter_modules(bank.__path__), key=position):
            module = importlib.import_module(f"grader.bank.{info.name}")
            for exercise in getattr(module, "EXERCISES", ()):
                found[exercise.id] = exercise
        _catalog = _bundle_view(found)
    return _catalog


def _bundle_view(found: dict[str, Exercise]) -> dict[str, Exercise]:
    """In a student bundle: the released exercises, with the released points."""
    from grader import frozen

    if not frozen.is_bundle():
        return found
    view = {}
    for entry in frozen.manifest()["exercises"]:
        exercise = found[entry["id"]]
        checks = tuple(dataclasses.replace(c, points=entry["points"][c.name])
                       for c in exercise.checks if c.name in entry["points"])
        view[exercise.id] = dataclasses.replace(exercise, checks=checks)
    return view


def select(ids: tuple[str, ...] | list[str] = ()) -> list[Exercise]:
    """Exercises by id or topic (``linalg`` selects every ``linalg.*``); all when empty."""
    bank = catalog()
    if not ids:
        return list(bank.values())
    chosen: list[Exercise] = []
    for wanted in ids:
        matches = [e for e in bank.values() if e.id == wanted or e.topic == wanted]
        if not matches:
            known = ", ".join(bank)
            raise UnknownExerciseError(f"no exercise or topic {wanted!r}; known: {known}")
        chosen.extend(m for m in matches if m not in chosen)
    return chosen


def reference_module(topic: str) -> ModuleType:
    """The reference solutions of a topic, imported in the grader's own (trusted) process."""
    name = f"solutions.{topic}"
    spec = importlib.util.spec_from_file_location(name, SOLUTIONS_DIR / f"{topic}.py")
    if spec is None or not (SOLUTIONS_DIR / f"{topic}.py").exists():
        raise UnknownExerciseError(f"no reference solutions for topic {topic!r} in "
                                   f"{SOLUTIONS_DIR}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
