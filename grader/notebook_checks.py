"""The grader's checks run inside a notebook's kernel (nbgrader test cells, released notebooks).

``run_check("linalg.dot", "small", dot)`` builds the check's inputs from the same seeded
generator as ``grade``, computes the expected results with the reference (or, in a student
bundle, takes the frozen ones), calls the student's functions on copies of the inputs, and judges
with the check's own judge through :func:`grader.judges.judge_check`: the verdict, the points
and the message are those of ``grade``. A failed check raises ``AssertionError`` with the
grader's message, which is what nbgrader counts as a failed test cell.

The process model is weaker than ``grade``'s: everything runs in one kernel, the student's code
next to the reference and the judge, with no worker, no limits and no time-out of the grader's
own (nbgrader's cell time-out applies). Forbidden functions are replaced only while the student's
function runs, and only where they are looked up as module attributes (``np.linalg.pinv``); a
name imported before (``from numpy.linalg import pinv``) is not caught. Use ``grade`` or
``grader batch`` where the grade must resist a hostile submission (docs/notebooks.md).
"""

from __future__ import annotations

import contextlib
import copy
import sys
import types
from typing import Any, Callable, Iterator, Mapping

from grader import grading
from grader.catalog import Case, Check, Exercise, catalog
from grader.errors import UnknownExerciseError
from grader.judges import CallResult, Trial, judge_check
from grader.results import CheckResult
from grader.sandbox import runner, wire


def _round_trip(value: Any) -> Any:
    """``value`` as the grader receives it from a worker: plain data (an Opaque stand-in for
    what the wire format refuses)."""
    obj, blobs = wire.encode(runner._sendable(value))
    return wire.decode(obj, blobs)


def find_check(exercise_id: str, check_name: str) -> tuple[Exercise, Check]:
    bank = catalog()
    if exercise_id not in bank:
        raise UnknownExerciseError(f"no exercise {exercise_id!r}; known: {', '.join(bank)}")
    exercise = bank[exercise_id]
    for check in exercise.checks:
        if check.name == check_name:
            return exercise, check
    names = ", ".join(c.name for c in exercise.checks)
    raise UnknownExerciseError(f"{exercise_id} has no check {check_name!r}; its checks: {names}")


def _namespace(exercise: Exercise, functions: tuple[Any, ...]) -> types.SimpleNamespace:
    """The student's functions by the names the exercise asks for: given in that order, or as
    one mapping (``globals()``)."""
    if len(functions) == 1 and isinstance(functions[0], Mapping):
        return types.SimpleNamespace(**{k: v for k, v in functions[0].items()
                                        if isinstance(k, str)})
    if len(functions) != len(exercise.functions):
        raise TypeError(f"{exercise.id} needs {', '.join(exercise.functions)}: pass them in "
                        "that order, or globals()")
    return types.SimpleNamespace(**dict(zip(exercise.functions, functions)))


@contextlib.contextmanager
def _forbidding(names: tuple[str, ...], used: list[str]) -> Iterator[None]:
    """Each dotted ``module.function`` of a module already imported replaced by a stub that
    records the call and raises, for the duration of the block."""
    saved = []

    def blocked(qualname: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            used.append(qualname)
            raise RuntimeError(f"{qualname} is not allowed in this exercise")
        return call

    for dotted in names:
        module_name, attr = dotted.rsplit(".", 1)
        module = sys.modules.get(module_name)
        if module is not None and hasattr(module, attr):
            saved.append((module, attr, getattr(module, attr)))
            setattr(module, attr, blocked(dotted))
    try:
        yield
    finally:
        for module, attr, original in reversed(saved):
            setattr(module, attr, original)


def _raised(exc: BaseException, forbidden: list[str]) -> dict:
    info = {"type": type(exc).__name__,
            "mro": [c.__name__ for c in type(exc).__mro__ if c.__module__ == "builtins"],
            "message": runner._safe_str(exc)[:2000], "base": False, "where": []}
    if forbidden:
        info["forbidden"] = sorted(set(forbidden))
    return info


def run_student(namespace: types.SimpleNamespace, case: Case,
                forbidden: tuple[str, ...] = ()) -> list[CallResult]:
    """The student's results for a case, called here (as the worker would: copies of the
    inputs, earlier results handed on, each value sent through the wire format)."""
    outputs: list[Any] = []
    results: list[CallResult] = []
    for call in case.calls:
        try:
            args = grading._resolve(copy.deepcopy(call.args), outputs, namespace)
            kwargs = grading._resolve(copy.deepcopy(dict(call.kwargs)), outputs, namespace)
        except Exception:  # noqa: BLE001 - an earlier result (None, raised) has no such item
            break
        if isinstance(call.func, str):
            func = getattr(namespace, call.func, None)
            if not callable(func):
                raise AssertionError(f"{call.func} is not defined: run the cell that defines "
                                     "it first")
        else:
            func = grading._resolve(call.func, outputs, namespace)
        before = runner._snapshot(args, kwargs)
        used: list[str] = []
        try:
            with _forbidding(forbidden, used):
                value = func(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the student's exception is a result
            outputs.append(None)
            results.append(CallResult(raised=_raised(exc, used)))
            continue
        outputs.append(value)
        picked = value
        try:
            for key in call.pick:
                picked = picked[key]
        except Exception:  # noqa: BLE001 - no such item: the whole result, as the worker does
            picked = value
        results.append(CallResult(value=_round_trip(picked if call.send else None),
                                  mutated=runner._changed(before),
                                  forbidden=tuple(sorted(set(used)))))
    while len(results) < len(case.calls):
        results.append(CallResult(missing=True))
    return results


def check_result(exercise_id: str, check_name: str, *functions: Any, seed: int = 0
                 ) -> CheckResult:
    """The grader's verdict on one check of the functions given (see :func:`run_check`)."""
    exercise, check = find_check(exercise_id, check_name)
    if check.speed_within is not None:
        raise UnknownExerciseError(f"{exercise_id} check {check_name!r} is a speed check: it "
                                   "needs the grader's timing and does not run in a notebook")
    cases, expected = grading._prepared(exercise, seed, True)
    index = next(i for i, (c, _) in enumerate(cases) if c.name == check_name)
    case = cases[index][1]
    actual = run_student(_namespace(exercise, functions), case, exercise.forbidden)
    return judge_check(check, Trial(case, actual, expected[index]))


def run_check(exercise_id: str, check_name: str, *functions: Any, seed: int = 0) -> None:
    """Run one check of the grader on the student's functions in this process; raise
    ``AssertionError`` with the grader's message unless it passes.

    ``functions`` are the exercise's functions in the order it lists them
    (``run_check("nn.dropout", "test_mode", dropout_forward, dropout_backward)``), or one
    mapping such as ``globals()``.
    """
    result = check_result(exercise_id, check_name, *functions, seed=seed)
    if result.status != "passed":
        lines = [f"{exercise_id} check '{check_name}': {result.message}"]
        if result.diagnosis:
            lines.append(f"-> {result.diagnosis}")
        raise AssertionError("\n".join(lines + result.notes))
    print(f"{exercise_id} check '{check_name}' passed ({result.points:g} points)")
